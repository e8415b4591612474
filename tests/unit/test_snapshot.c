/* tests/unit/test_snapshot.c - core/snapshot.c against the fake hypervisor
 * fake-vcpu-hv (whose vCPU and VM records log the order they are saved and
 * loaded in) and the fake-dev device (which saves its registers): the
 * snapshot directory's files, the order of the records, what a restore
 * puts back (RAM, vCPUs, VM, devices, the virtual clock), and the
 * refusals: not paused, a directory that exists, a device without save
 * (nothing left behind), a damaged or truncated state file, a machine
 * that no longer matches. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/machine-config.h"
#include "core/snapshot.h"
#include "tests/fixtures/fake-vcpu-hv.h"
#include "tests/unit/fixture-machine.h"

#define DATA_PORT 0x100

/* The body of the hypervisor section build() writes. */
static const char *hv_body = "irqchip = \"kernel\"";

struct fixture {
	char dir[64];
	struct vmm_plugin_set *ps;
	struct vmm_machine_config *mc;
	struct vmm_machine *m;
	pthread_t thread;
	bool running;
	int status;
};
static struct fixture *F;

/* The machine: two vCPUs of the fake hypervisor, fake-dev "d0", `extra`. */
static struct vmm_machine *build(unsigned vcpus, const char *extra, struct vmm_machine_config **mcp)
{
	char conf[1024], path[128], guest[128], err[1024] = "";
	const uint8_t hlt = 0xf4;
	struct vmm_machine *m;

	snprintf(guest, sizeof(guest), "%s/guest.bin", F->dir);
	write_file(guest, &hlt, 1);
	snprintf(conf, sizeof(conf),
		 "memory = 2M\nvcpus = %u\nseccomp = \"off\"\n"
		 "hypervisor \"fake-vcpu-hv\" { %s }\n"
		 "boot { kernel = \"%s\" format = \"flat\" }\n"
		 "backend \"sink\" { plugin = \"file\" path = \"%s/out\" }\n"
		 "device \"d0\" { plugin = \"fake-dev\" chardev = \"sink\" }\n%s\n", vcpus, hv_body, guest,
		 F->dir, extra);
	snprintf(path, sizeof(path), "%s/machine.conf", F->dir);
	write_file(path, conf, strlen(conf));
	if (vmm_config_load(path, F->ps, plugin_path, mcp, err, sizeof(err)))
		fail_msg("config: %s", err);
	assert_int_equal(vmm_machine_create(*mcp, F->ps, plugin_path, &m), 0);
	return m;
}

static void *run_thread(void *arg)
{
	F->status = vmm_machine_run(arg);
	return NULL;
}

/* Run F->m paused from the start (the vCPUs park before their first
 * entry) and wait until every vCPU has parked. */
static void run_paused(void)
{
	vmm_machine_start_paused(F->m);
	assert_int_equal(pthread_create(&F->thread, NULL, run_thread, F->m), 0);
	F->running = true;
	for (int i = 0; i < 5000; i++) {
		bool all = true;
		for (unsigned v = 0; v < F->m->nvcpus; v++)
			all = all && vmm_machine_vcpu_parked(F->m, v);
		if (all)
			return;
		usleep(1000);
	}
	fail_msg("the vCPUs did not park in 5 s");
}

static void stop(void)
{
	vmm_machine_request_stop(F->m, 0, "test");
	pthread_join(F->thread, NULL);
	F->running = false;
}

static int setup(void **state)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	snprintf(F->dir, sizeof(F->dir), "/tmp/vmm-snapshot-test-XXXXXX");
	assert_non_null(mkdtemp(F->dir));
	F->ps = vmm_plugin_set_new();
	assert_non_null(F->ps);
	hv_body = "irqchip = \"kernel\"";
	*state = F;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	if (F->running)
		stop();
	if (F->m)
		vmm_machine_destroy(F->m);
	vmm_config_free(F->mc);
	vmm_plugin_set_free(F->ps);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", F->dir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", F->dir);
	free(F);
	return 0;
}

static struct fake_vm *fake(struct vmm_machine *m)
{
	return m->vm;
}

/* Take a snapshot of a paused machine with known state into DIR/snap;
 * with `zeros`, the guest has also written zeros to 112 pages. */
static void take_snapshot(char *snap, size_t len, bool zeros)
{
	char err[512] = "";
	uint64_t v;

	F->m = build(2, "", &F->mc);
	run_paused();
	fake(F->m)->state_reg[0] = 0x1111;
	fake(F->m)->state_reg[1] = 0x2222;
	fake(F->m)->state_clock = 0x7777;
	assert_int_equal(vmm_bus_write(&F->m->bus[VMM_BUS_PIO], 0, DATA_PORT, 4, 0xcafef00d), 0);
	memcpy(vmm_machine_ram(F->m, 0x1000, 8), "snapshot", 8);
	memcpy(vmm_machine_ram(F->m, 0x1ff000, 4), "tail", 4);
	/* Pages the guest wrote zeros to: present in the page map, yet holes
	 * in the memory file.  Only where asked: with a transparent huge
	 * page policy of "always" (the nested arm64 host) they may bring the
	 * untouched RAM around them into memory, which another test checks
	 * is not. */
	if (zeros)
		memset(vmm_machine_ram(F->m, 0x180000, 0x70000), 0, 0x70000);
	snprintf(snap, len, "%s/snap", F->dir);
	assert_int_equal(vmm_machine_snapshot(F->m, snap, err, sizeof(err)), 0);
	/* Again into the same directory: refused, asking nothing of anyone. */
	assert_int_equal(vmm_machine_snapshot(F->m, snap, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "exists"));
	assert_string_equal(fake(F->m)->state_log, "s0 s1 v");
	assert_int_equal(vmm_bus_read(&F->m->bus[VMM_BUS_PIO], 0, DATA_PORT, 4, &v), 0);
	assert_int_equal(v, 0xcafef00d);
	stop();
}

/*
 * An arm64 machine (fake-arm64-hv, which saves as the kvm plugin's ops
 * do): with KVM's in-kernel vGIC (irqchip = "kernel", its state in the
 * hypervisor's VM record) and with no interrupt controller the snapshot
 * is taken (the core refused the first until the kvm plugin saved the
 * vGIC), and restores.
 */
static void test_arm64_snapshot_both_irqchips(void **state)
{
	/* An Image header (booting.rst): image_size 64 KiB, flags 0xa, the
	 * magic at 0x38. */
	uint8_t image[64] = { 0 };
	char conf[512], path[128], img[128], snap[160], err[512] = "";

	(void)state;
	image[0x12] = 1;
	image[0x18] = 0xa;
	memcpy(image + 0x38, "ARM\x64", 4);
	snprintf(img, sizeof(img), "%s/Image", F->dir);
	write_file(img, image, sizeof(image));
	for (int kernel = 1; kernel >= 0; kernel--) {
		snprintf(conf, sizeof(conf),
			 "memory = 16M\nvcpus = 2\nseccomp = \"off\"\n"
			 "hypervisor \"fake-arm64-hv\" { irqchip = \"%s\" }\n"
			 "boot { kernel = \"%s\" }\n%s", kernel ? "kernel" : "none", img,
			 kernel ? "device \"timer\" { plugin = \"arm-timer\" }\n" : "");
		snprintf(path, sizeof(path), "%s/arm64-%d.conf", F->dir, kernel);
		write_file(path, conf, strlen(conf));
		if (vmm_config_load(path, F->ps, plugin_path, &F->mc, err, sizeof(err)))
			fail_msg("config: %s", err);
		assert_int_equal(vmm_machine_create(F->mc, F->ps, plugin_path, &F->m), 0);
		run_paused();
		snprintf(snap, sizeof(snap), "%s/snap-%d", F->dir, kernel);
		memcpy(vmm_machine_ram(F->m, 0x40001000, 8), "arm64ram", 8);
		assert_int_equal(vmm_machine_can_save(F->m, err, sizeof(err)), 0);
		assert_int_equal(vmm_machine_snapshot(F->m, snap, err, sizeof(err)), 0);
		assert_int_equal(access(snap, F_OK), 0);
		stop();
		vmm_machine_destroy(F->m);
		F->m = NULL;
		vmm_config_free(F->mc);
		F->mc = NULL;
	}
	/* Restored without its boot payload: RAM from 1 GiB as it was (the
	 * device tree and the Image with it), each vCPU's and the VM's
	 * record taken. */
	struct vmm_snapshot *s;
	assert_int_equal(vmm_snapshot_open(snap, &s, err, sizeof(err)), 0);
	assert_int_equal(vmm_config_load_text(s->config_file, s->config_text, s->config_len, F->ps, plugin_path,
					      &F->mc, err, sizeof(err)), 0);
	F->mc->no_payload = true;
	assert_int_equal(vmm_machine_create(F->mc, F->ps, plugin_path, &F->m), 0);
	assert_int_equal(vmm_machine_restore(F->m, s, err, sizeof(err)), 0);
	assert_memory_equal(vmm_machine_ram(F->m, 0x40001000, 8), "arm64ram", 8);
	vmm_snapshot_free(s);
}

static void test_files_and_save_order(void **state)
{
	char snap[128], path[160];
	struct stat st;
	FILE *f;
	char magic[4];

	take_snapshot(snap, sizeof(snap), true);
	/* The vCPUs in index order, then the VM (its clock last). */
	assert_string_equal(fake(F->m)->state_log, "s0 s1 v");
	snprintf(path, sizeof(path), "%s.tmp", snap);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/memory", snap);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 2 << 20);
	/* Sparse: two pages of data, the rest holes, the 448 KiB of written
	 * zeros too (a file system without holes would store it all, and
	 * this would fail). */
	assert_true((uint64_t)st.st_blocks * 512 < (256u << 10));
	snprintf(path, sizeof(path), "%s/state", snap);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(magic, 1, 4, f), 4);
	fclose(f);
	assert_memory_equal(magic, "VMMS", 4);
	snprintf(path, sizeof(path), "%s/config", snap);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, F->mc->text_len);
}

static void test_restore_puts_everything_back(void **state)
{
	char snap[128], err[512] = "";
	struct vmm_snapshot *s;
	struct vmm_machine_config *mc2;
	struct vmm_machine *m2;
	uint64_t v;

	take_snapshot(snap, sizeof(snap), false);
	assert_int_equal(vmm_snapshot_open(snap, &s, err, sizeof(err)), 0);
	assert_int_equal(s->vcpus, 2);
	assert_int_equal(s->memory, 2 << 20);
	assert_int_equal(vmm_config_load_text(s->config_file, s->config_text, s->config_len, F->ps, plugin_path,
					      &mc2, err, sizeof(err)), 0);
	mc2->no_payload = true;
	assert_int_equal(vmm_machine_create(mc2, F->ps, plugin_path, &m2), 0);
	assert_int_equal(vmm_bus_read(&m2->bus[VMM_BUS_PIO], 0, DATA_PORT, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), 0);
	/* vCPUs in index order, then the VM. */
	assert_string_equal(fake(m2)->state_log, "l0 l1 w");
	assert_int_equal(fake(m2)->state_reg[0], 0x1111);
	assert_int_equal(fake(m2)->state_reg[1], 0x2222);
	assert_int_equal(fake(m2)->state_clock, 0x7777);
	assert_int_equal(vmm_bus_read(&m2->bus[VMM_BUS_PIO], 0, DATA_PORT, 4, &v), 0);
	assert_int_equal(v, 0xcafef00d);
	assert_memory_equal(vmm_machine_ram(m2, 0x1000, 8), "snapshot", 8);
	assert_memory_equal(vmm_machine_ram(m2, 0x1ff000, 4), "tail", 4);
	/* The virtual clock goes on from the saved one (set, not zero). */
	assert_true(m2->clock_base > 0);
	/* Parked, not halted: they run at once. */
	assert_false(m2->vcpus[0].start_halted);
	assert_false(m2->vcpus[1].start_halted);
	/* The restored RAM is private: writing it leaves the snapshot as it was. */
	memcpy(vmm_machine_ram(m2, 0x1000, 8), "modified", 8);
	vmm_machine_destroy(m2);
	vmm_config_free(mc2);
	assert_int_equal(vmm_config_load_text(s->config_file, s->config_text, s->config_len, F->ps, plugin_path,
					      &mc2, err, sizeof(err)), 0);
	mc2->no_payload = true;
	assert_int_equal(vmm_machine_create(mc2, F->ps, plugin_path, &m2), 0);
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), 0);
	assert_memory_equal(vmm_machine_ram(m2, 0x1000, 8), "snapshot", 8);
	vmm_machine_destroy(m2);
	vmm_config_free(mc2);
	vmm_snapshot_free(s);
}

/* Pages the guest never touched are skipped without being touched (the
 * snapshot reads /proc/self/pagemap), and a restored machine's RAM, a
 * private mapping of the first snapshot's file whose pages are not
 * present until read, is saved whole: its snapshot restores with the data. */
static void test_untouched_pages_and_snapshot_of_restored(void **state)
{
	char snap[128], snap2[160], err[512] = "";
	struct vmm_snapshot *s;
	struct vmm_machine_config *mc2;
	unsigned char vec = 0;

	take_snapshot(snap, sizeof(snap), false);
	/* RAM at 1 MiB was never written by anyone: still not in memory. */
	assert_int_equal(mincore(vmm_machine_ram(F->m, 0x100000, 4096), 4096, &vec), 0);
	assert_int_equal(vec & 1, 0);
	vmm_machine_destroy(F->m);
	F->m = NULL;

	assert_int_equal(vmm_snapshot_open(snap, &s, err, sizeof(err)), 0);
	assert_int_equal(vmm_config_load_text(s->config_file, s->config_text, s->config_len, F->ps, plugin_path,
					      &mc2, err, sizeof(err)), 0);
	mc2->no_payload = true;
	assert_int_equal(vmm_machine_create(mc2, F->ps, plugin_path, &F->m), 0);
	assert_int_equal(vmm_machine_restore(F->m, s, err, sizeof(err)), 0);
	vmm_snapshot_free(s);
	/* Its RAM untouched since the restore: a snapshot of it now. */
	run_paused();
	snprintf(snap2, sizeof(snap2), "%s-2", snap);
	assert_int_equal(vmm_machine_snapshot(F->m, snap2, err, sizeof(err)), 0);
	stop();
	vmm_machine_destroy(F->m);
	F->m = NULL;
	vmm_config_free(mc2);

	assert_int_equal(vmm_snapshot_open(snap2, &s, err, sizeof(err)), 0);
	assert_int_equal(vmm_config_load_text(s->config_file, s->config_text, s->config_len, F->ps, plugin_path,
					      &mc2, err, sizeof(err)), 0);
	mc2->no_payload = true;
	assert_int_equal(vmm_machine_create(mc2, F->ps, plugin_path, &F->m), 0);
	assert_int_equal(vmm_machine_restore(F->m, s, err, sizeof(err)), 0);
	assert_memory_equal(vmm_machine_ram(F->m, 0x1000, 8), "snapshot", 8);
	assert_memory_equal(vmm_machine_ram(F->m, 0x1ff000, 4), "tail", 4);
	assert_int_equal(fake(F->m)->state_reg[1], 0x2222);
	vmm_machine_destroy(F->m);
	F->m = NULL;
	vmm_config_free(mc2);
	vmm_snapshot_free(s);
}

static void test_restore_refusals(void **state)
{
	char snap[128], err[512] = "", path[160];
	struct vmm_snapshot *s;
	struct vmm_machine_config *mc2;
	struct vmm_machine *m2;

	take_snapshot(snap, sizeof(snap), false);
	snprintf(path, sizeof(path), "%s/none", F->dir);
	assert_int_equal(vmm_snapshot_open(path, &s, err, sizeof(err)), -ENOENT);
	assert_int_equal(vmm_snapshot_open(snap, &s, err, sizeof(err)), 0);

	/* Another machine: one vCPU where the snapshot has two. */
	m2 = build(1, "", &mc2);
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "vCPU"));
	assert_string_equal(fake(m2)->state_log, "");
	vmm_machine_destroy(m2);
	vmm_config_free(mc2);

	/* A device the snapshot has no record of. */
	m2 = build(2, "device \"d1\" { plugin = \"fake-dev\" pio_base = 0x300 mmio_base = 0x20000000 msr = 0x4b564d10 ctl = 0x400 chardev = \"sink2\" }\n"
		   "backend \"sink2\" { plugin = \"file\" path = \"/dev/null\" }",
		   &mc2);
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "no record for device 'd1'"));
	vmm_machine_destroy(m2);
	vmm_config_free(mc2);

	/* Damaged: the container's magic, a record's length, the end. */
	m2 = build(2, "", &mc2);
	s->state[0] = 'X';
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "damaged"));
	s->state[0] = 'V';
	s->state[12] ^= 0x40;
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), -EBADMSG);
	s->state[12] ^= 0x40;
	/* A length past the end of the file is never followed. */
	s->state[15] = 0x7f;
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), -EBADMSG);
	s->state[15] = 0;
	/* Bytes after the last record. */
	uint8_t *grown = realloc(s->state, s->state_len + 4);
	assert_non_null(grown);
	s->state = grown;
	memset(s->state + s->state_len, 0, 4);
	s->state_len += 4;
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "after the last record"));
	s->state_len -= 4;
	s->state_len -= 3;
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), -EBADMSG);
	s->state_len += 3;
	/* Nothing was loaded by the refusals; the intact one loads. */
	assert_string_equal(fake(m2)->state_log, "");
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), 0);
	vmm_machine_destroy(m2);
	vmm_config_free(mc2);
	vmm_snapshot_free(s);

	/* A damaged manifest. */
	snprintf(path, sizeof(path), "%s/manifest.json", snap);
	write_file(path, "{\"format\": 1", 12);
	assert_int_equal(vmm_snapshot_open(snap, &s, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "damaged"));
}

static void test_device_without_save_refused(void **state)
{
	char snap[128], err[512] = "", path[160];

	F->m = build(2, "device \"ns\" { plugin = \"good\" }", &F->mc);
	run_paused();
	snprintf(snap, sizeof(snap), "%s/snap", F->dir);
	assert_int_equal(vmm_machine_snapshot(F->m, snap, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "device 'ns' (plugin good)"));
	assert_int_not_equal(access(snap, F_OK), 0);
	snprintf(path, sizeof(path), "%s.tmp", snap);
	assert_int_not_equal(access(path, F_OK), 0);
	/* Nothing was asked of the hypervisor either. */
	assert_string_equal(fake(F->m)->state_log, "");
	stop();
}

static void test_not_paused_refused(void **state)
{
	char snap[128], err[512] = "";

	F->m = build(1, "", &F->mc);
	snprintf(snap, sizeof(snap), "%s/snap", F->dir);
	assert_int_equal(vmm_machine_snapshot(F->m, snap, err, sizeof(err)), -EBUSY);
	assert_int_not_equal(access(snap, F_OK), 0);
}

/*
 * A vCPU parks with its last exit complete.  The fake guest writes a port
 * on every run (an I/O exit, as KVM gives one: finished only when the vCPU
 * re-enters); a run that finds the kick set finishes the pending exit and
 * ends at once, as KVM's immediate_exit does.  After a pause the vCPU's
 * last run must have been such a completing one, not the I/O exit: a
 * snapshot of a vCPU parked between the two would have the guest do the
 * OUT again when it is restored.
 */
struct io_guest {
	atomic_bool kicked;
	atomic_uint ios, completions;
	atomic_int last; /* the last exit the fake gave */
	uint8_t data[4];
};

static int io_run(void *ctx, unsigned vcpu, struct vmm_exit *e)
{
	struct io_guest *g = ctx;

	(void)vcpu;
	if (atomic_exchange(&g->kicked, false)) {
		if (atomic_load(&g->last) == VMM_EXIT_IO)
			atomic_fetch_add(&g->completions, 1);
		atomic_store(&g->last, VMM_EXIT_INTR);
		e->reason = VMM_EXIT_INTR;
		return 0;
	}
	usleep(1000); /* the guest runs a while before its next OUT */
	e->reason = VMM_EXIT_IO;
	e->io.port = 0x80;
	e->io.size = 1;
	e->io.is_write = 1;
	e->io.count = 1;
	e->io.data = g->data;
	atomic_store(&g->last, VMM_EXIT_IO);
	atomic_fetch_add(&g->ios, 1);
	return 0;
}

static void io_kick(void *ctx, unsigned vcpu)
{
	struct io_guest *g = ctx;

	(void)vcpu;
	atomic_store(&g->kicked, true);
}

static void test_parks_with_its_exit_complete(void **state)
{
	static struct io_guest g;

	memset(&g, 0, sizeof(g));
	F->m = build(1, "", &F->mc);
	fake(F->m)->hooks = (struct fake_vcpu_hooks){ io_run, io_kick, &g };
	assert_int_equal(pthread_create(&F->thread, NULL, run_thread, F->m), 0);
	F->running = true;
	for (int i = 0; i < 5000 && atomic_load(&g.ios) < 5; i++)
		usleep(1000);
	assert_true(atomic_load(&g.ios) >= 5);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(vmm_machine_pause(F->m), 0);
		assert_int_equal(atomic_load(&g.last), VMM_EXIT_INTR);
		unsigned ios = atomic_load(&g.ios);
		assert_int_equal(vmm_machine_resume(F->m), 0);
		for (int i = 0; i < 5000 && atomic_load(&g.ios) < ios + 3; i++)
			usleep(1000);
	}
	assert_true(atomic_load(&g.completions) >= 1);
	stop();
}

/* A vCPU halted in the core's wait (emulated irqchip: HLT comes to the
 * core) is saved as halted, and the restored one starts in that wait
 * rather than at the instruction after its HLT. */
static atomic_uint halt_runs;

static int halt_run(void *ctx, unsigned vcpu, struct vmm_exit *e)
{
	(void)ctx;
	(void)vcpu;
	atomic_fetch_add(&halt_runs, 1);
	e->reason = VMM_EXIT_HALT;
	return 0;
}

static void halt_kick(void *ctx, unsigned vcpu)
{
	(void)ctx;
	(void)vcpu;
}

static void test_halted_vcpu_restored_halted(void **state)
{
	char snap[128], err[512] = "";
	struct vmm_snapshot *s;
	struct vmm_machine_config *mc2;
	struct vmm_machine *m2;
	bool halted = false;

	hv_body = "irqchip = \"emulated\"";
	F->m = build(1, "", &F->mc);
	atomic_store(&halt_runs, 0);
	fake(F->m)->hooks = (struct fake_vcpu_hooks){ halt_run, halt_kick, NULL };
	assert_int_equal(pthread_create(&F->thread, NULL, run_thread, F->m), 0);
	F->running = true;
	for (int i = 0; i < 5000 && !halted; i++) {
		pthread_mutex_lock(&F->m->halt_lock);
		halted = F->m->vcpus[0].halted;
		pthread_mutex_unlock(&F->m->halt_lock);
		if (!halted)
			usleep(1000);
	}
	assert_true(halted);
	assert_int_equal(vmm_machine_pause(F->m), 0);
	snprintf(snap, sizeof(snap), "%s/snap", F->dir);
	assert_int_equal(vmm_machine_snapshot(F->m, snap, err, sizeof(err)), 0);
	stop();
	assert_int_equal(atomic_load(&halt_runs), 1);

	assert_int_equal(vmm_snapshot_open(snap, &s, err, sizeof(err)), 0);
	assert_int_equal(vmm_config_load_text(s->config_file, s->config_text, s->config_len, F->ps, plugin_path,
					      &mc2, err, sizeof(err)), 0);
	mc2->no_payload = true;
	assert_int_equal(vmm_machine_create(mc2, F->ps, plugin_path, &m2), 0);
	assert_int_equal(vmm_machine_restore(m2, s, err, sizeof(err)), 0);
	assert_true(m2->vcpus[0].start_halted);
	vmm_snapshot_free(s);
	/* Run: it waits in the halt as it was, never entering the guest. */
	vmm_machine_destroy(F->m);
	vmm_config_free(F->mc);
	F->m = m2;
	F->mc = mc2;
	atomic_store(&halt_runs, 0);
	fake(F->m)->hooks = (struct fake_vcpu_hooks){ halt_run, halt_kick, NULL };
	assert_int_equal(pthread_create(&F->thread, NULL, run_thread, F->m), 0);
	F->running = true;
	int rc = -1;
	for (int i = 0; i < 5000 && rc; i++) {
		rc = vmm_machine_pause(F->m);
		if (rc)
			usleep(1000); /* -EAGAIN until the vCPUs have started */
	}
	assert_int_equal(rc, 0);
	assert_int_equal(atomic_load(&halt_runs), 0);
	pthread_mutex_lock(&F->m->halt_lock);
	halted = F->m->vcpus[0].halted;
	pthread_mutex_unlock(&F->m->halt_lock);
	assert_true(halted);
	stop();
}

int main(void)
{
	/* The fixtures, and the real plugins (the null char backend). */
	plugin_path_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_and_save_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_puts_everything_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untouched_pages_and_snapshot_of_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_without_save_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_paused_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parks_with_its_exit_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_halted_vcpu_restored_halted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arm64_snapshot_both_irqchips, setup, teardown),
	};
	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
