/* tests/unit/test_migrate.c - core/migrate.c.  The stream is untrusted
 * input to the destination: every damaged form of it (truncated anywhere,
 * bad magic or version, messages out of order, lengths too long or not
 * whole pages, pages outside RAM, an END that does not add up) is refused
 * with one line naming the message, never a crash.  Then whole migrations
 * between two machines of the fake hypervisor fake-vcpu-hv, whose dirty
 * log the test fills: the destination's RAM ends equal to the source's,
 * including pages only the dirty log named (a pre-copy round and the
 * paused one, at the edges of a bitmap word) and pages only a device
 * marked (mark_dirty, which the hypervisor's log never sees); a refusing
 * destination leaves the source as it was, its dirty log off.  The hang
 * guard (shortened to 100 ms here, 60 s in vmmctl): a destination that
 * accepts and reads nothing, on the main loop and in the sends that wait,
 * and one that reads everything and never answers, each end the migration
 * with an error naming the guard, the source running on, its dirty log
 * off.  Over TCP on 127.0.0.1 both ends of the stream have TCP_NODELAY.  A
 * guest that powers off while a migration waits: the pending reply of PUT
 * /v1/migration/send is a 503, written before the machine goes. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "core/api.h"

#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/machine-config.h"
#include "core/migrate.h"
#include "core/snapshot.h"
#include "tests/fixtures/fake-vcpu-hv.h"
#include "tests/unit/fixture-machine.h"

#define PAGE 4096u
#define RAM_PAGES 64u

#if defined(__x86_64__)
#define ARCH "x86_64"
#elif defined(__aarch64__)
#define ARCH "aarch64"
#else
#define ARCH "unknown"
#endif

/* ------------------------------------------------------ a stream built */

struct stream {
	uint8_t *b;
	size_t len, cap;
};

static void put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->b = realloc(s->b, s->cap);
		assert_non_null(s->b);
	}
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

static void put_le(struct stream *s, uint64_t v, int n)
{
	uint8_t b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(s, b, (size_t)n);
}

static void head(struct stream *s, uint32_t version)
{
	put(s, "VMMIGR\r\n", 8);
	put_le(s, version, 4);
	put_le(s, 0, 4);
}

static void msg(struct stream *s, uint32_t type, const void *body, uint32_t len)
{
	put_le(s, type, 4);
	put_le(s, len, 4);
	if (body)
		put(s, body, len);
}

static const char good_manifest[] = "{\"format\":1,\"abi\":\"1.15\",\"arch\":\"" ARCH "\",\"memory\":262144,"
				    "\"vcpus\":1,\"boot-format\":0}";

/* Header, MANIFEST and CONFIG as a source sends them. */
static void begin(struct stream *s)
{
	head(s, VMM_MIGRATE_VERSION);
	msg(s, VMM_MIG_MANIFEST, good_manifest, sizeof(good_manifest) - 1);
	msg(s, VMM_MIG_CONFIG, "memory = 256K\n", 14);
}

/* PAGES: n pages from gpa, page i filled with byte fill + i. */
static void pages(struct stream *s, uint64_t gpa, unsigned n, uint8_t fill)
{
	uint8_t page[PAGE];

	put_le(s, VMM_MIG_PAGES, 4);
	put_le(s, 8 + (uint64_t)n * PAGE, 4);
	put_le(s, gpa, 8);
	for (unsigned i = 0; i < n; i++) {
		memset(page, fill + i, sizeof(page));
		put(s, page, sizeof(page));
	}
}

static void end(struct stream *s, uint64_t npages, uint32_t msgs)
{
	put_le(s, VMM_MIG_END, 4);
	put_le(s, 12, 4);
	put_le(s, npages, 8);
	put_le(s, msgs, 4);
}

/* A file holding the first `len` bytes of s, read from its start. */
static int feed(const struct stream *s, size_t len)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	int fd = dup(fileno(f));
	fclose(f);
	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, s->b, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* One RAM region of RAM_PAGES pages at gpa 0 (an anonymous mapping, as
 * the machine's: read_rest drops its pages first). */
static struct vmm_ram ram;

static int ram_setup(void **state)
{
	(void)state;
	ram.gpa = 0;
	ram.size = RAM_PAGES * PAGE;
	ram.hva = mmap(NULL, ram.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram.hva != MAP_FAILED);
	return 0;
}

static int ram_teardown(void **state)
{
	(void)state;
	munmap(ram.hva, ram.size);
	return 0;
}

/* The whole stream s through read_begin and read_rest: their result, the
 * error in err. */
static int receive(const struct stream *s, size_t len, char *err, size_t errlen)
{
	struct vmm_snapshot *snap = NULL;
	int fd = feed(s, len);

	err[0] = '\0';
	int rc = vmm_migrate_read_begin(fd, "stream", &snap, err, errlen);
	if (!rc) {
		assert_non_null(snap);
		rc = vmm_migrate_read_rest(fd, snap, &ram, 1, err, errlen);
	} else {
		assert_null(snap);
	}
	vmm_snapshot_free(snap);
	close(fd);
	return rc;
}

static void expect_refused(const struct stream *s, const char *what)
{
	char err[512];
	int rc = receive(s, s->len, err, sizeof(err));

	if (rc >= 0 || !strstr(err, what))
		fail_msg("expected a refusal saying '%s', got %d: %s", what, rc, err);
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "stream"));
}

static void test_good_stream(void **state)
{
	struct stream s = { 0 };
	char err[512];

	(void)state;
	memset(ram.hva, 0x77, ram.size); /* what building the machine left: zeroed first */
	begin(&s);
	pages(&s, 0, 2, 0x10);
	pages(&s, 63 * PAGE, 1, 0x20);
	pages(&s, PAGE, 1, 0x30); /* a later round sends page 1 again */
	msg(&s, VMM_MIG_STATE, "VMMS", 4);
	end(&s, 4, 6);
	assert_int_equal(receive(&s, s.len, err, sizeof(err)), 0);
	assert_int_equal(ram.hva[0], 0x10);
	assert_int_equal(ram.hva[PAGE - 1], 0x10);
	assert_int_equal(ram.hva[PAGE], 0x30);
	assert_int_equal(ram.hva[63 * PAGE + 17], 0x20);
	for (unsigned p = 2; p < 63; p++)
		assert_int_equal(ram.hva[p * PAGE + 5], 0);
	free(s.b);
}

static void test_damaged_begin(void **state)
{
	struct stream s = { 0 };

	(void)state;
	expect_refused(&s, "no stream header: the stream ended");
	put(&s, "VMMIGR\r\n\1\0", 10);
	expect_refused(&s, "no stream header: the stream ended");
	s.len = 0;
	put(&s, "VMMIGX\r\n", 8);
	put_le(&s, 1, 4);
	put_le(&s, 0, 4);
	expect_refused(&s, "not a migration stream (bad magic)");
	s.len = 0;
	head(&s, 2);
	expect_refused(&s, "stream version 2, this vmmctl reads 1");
	s.len = 0;
	head(&s, 1);
	msg(&s, VMM_MIG_CONFIG, "x", 1);
	expect_refused(&s, "message 1 is CONFIG (type 2), expected MANIFEST");
	s.len = 0;
	head(&s, 1);
	msg(&s, VMM_MIG_MANIFEST, NULL, 2u << 20);
	expect_refused(&s, "message 1 (MANIFEST): length 2097152, at most 1048576");
	s.len = 0;
	head(&s, 1);
	put_le(&s, VMM_MIG_MANIFEST, 4);
	put_le(&s, 100, 4);
	put(&s, "{\"format\"", 9);
	expect_refused(&s, "message 1 (MANIFEST): the stream ended within it");
	s.len = 0;
	head(&s, 1);
	msg(&s, VMM_MIG_MANIFEST, "{\"format\":1,", 12);
	expect_refused(&s, "message 1 (MANIFEST): damaged");
	s.len = 0;
	head(&s, 1);
	msg(&s, VMM_MIG_MANIFEST, "[1,2]", 5);
	expect_refused(&s, "damaged");
	s.len = 0;
	head(&s, 1);
	static const char other_format[] = "{\"format\":7,\"abi\":\"1.15\",\"arch\":\"" ARCH "\",\"memory\":1,"
					   "\"vcpus\":1,\"boot-format\":0}";
	msg(&s, VMM_MIG_MANIFEST, other_format, sizeof(other_format) - 1);
	expect_refused(&s, "snapshot format 7");
	s.len = 0;
	head(&s, 1);
	msg(&s, VMM_MIG_MANIFEST, good_manifest, sizeof(good_manifest) - 1);
	expect_refused(&s, "message 2: the stream ended before END");
	msg(&s, 99, "x", 1);
	expect_refused(&s, "message 2 is unknown (type 99), expected CONFIG");
	s.len = 0;
	head(&s, 1);
	msg(&s, VMM_MIG_MANIFEST, good_manifest, sizeof(good_manifest) - 1);
	msg(&s, VMM_MIG_CONFIG, NULL, 0xffffffffu);
	expect_refused(&s, "message 2 (CONFIG): length 4294967295, at most");
	free(s.b);
}

static void test_damaged_pages(void **state)
{
	struct stream s = { 0 };
	size_t base;

	(void)state;
	begin(&s);
	base = s.len;
	msg(&s, VMM_MIG_PAGES, "\0\0\0\0\0\0\0\0", 8);
	expect_refused(&s, "message 3 (PAGES): length 8 is not 8 + 1 to 64 pages");
	s.len = base;
	msg(&s, VMM_MIG_PAGES, NULL, 8 + 100);
	expect_refused(&s, "length 108 is not 8 + 1 to 64 pages");
	s.len = base;
	msg(&s, VMM_MIG_PAGES, NULL, 8 + 65 * PAGE);
	expect_refused(&s, "is not 8 + 1 to 64 pages");
	s.len = base;
	pages(&s, 0x10, 1, 0);
	expect_refused(&s, "(PAGES): 0x10+0x1000 is not page-aligned");
	s.len = base;
	pages(&s, RAM_PAGES * PAGE, 1, 0);
	expect_refused(&s, "0x40000+0x1000 is not inside one RAM region");
	s.len = base;
	pages(&s, (RAM_PAGES - 1) * PAGE, 2, 0); /* over the region's end */
	expect_refused(&s, "is not inside one RAM region");
	s.len = base;
	pages(&s, 0xfffffffffffff000ull, 1, 0); /* wraps around */
	expect_refused(&s, "0xfffffffffffff000+0x1000 is not inside one RAM region");
	s.len = base;
	pages(&s, 0, 3, 0);
	s.len -= 100;
	expect_refused(&s, "message 3 (PAGES): the stream ended within it");
	s.len = base;
	put_le(&s, VMM_MIG_PAGES, 4);
	put_le(&s, 8 + PAGE, 4);
	put(&s, "\0\0\0", 3);
	expect_refused(&s, "message 3 (PAGES): the stream ended within it");
	free(s.b);
}

static void test_damaged_end(void **state)
{
	struct stream s = { 0 };
	size_t base;

	(void)state;
	begin(&s);
	pages(&s, 0, 1, 1);
	base = s.len;
	end(&s, 1, 3);
	expect_refused(&s, "message 4 is END (type 5), expected PAGES or STATE");
	s.len = base;
	msg(&s, VMM_MIG_MANIFEST, "{}", 2);
	expect_refused(&s, "message 4 is MANIFEST (type 1), expected PAGES or STATE");
	s.len = base;
	msg(&s, VMM_MIG_STATE, NULL, 300u << 20);
	expect_refused(&s, "message 4 (STATE): length 314572800, at most 268435456");
	s.len = base;
	msg(&s, VMM_MIG_STATE, "VMMS", 4);
	expect_refused(&s, "message 5: the stream ended before END");
	end(&s, 2, 4);
	expect_refused(&s, "message 5 (END): the source sent 2 pages in 4 messages, 1 in 4 arrived");
	s.len = base;
	msg(&s, VMM_MIG_STATE, "VMMS", 4);
	end(&s, 1, 5);
	expect_refused(&s, "the source sent 1 pages in 5 messages, 1 in 4 arrived");
	s.len = base;
	msg(&s, VMM_MIG_STATE, "VMMS", 4);
	msg(&s, VMM_MIG_END, "\1\0\0\0", 4);
	expect_refused(&s, "message 5 (END)");
	s.len = base;
	msg(&s, VMM_MIG_STATE, "VMMS", 4);
	msg(&s, VMM_MIG_END, NULL, 13);
	expect_refused(&s, "message 5 (END): length 13, at most 12");
	s.len = base;
	msg(&s, VMM_MIG_STATE, "VMMS", 4);
	msg(&s, VMM_MIG_PAGES, NULL, 8 + PAGE);
	expect_refused(&s, "message 5 is PAGES (type 3), expected END");
	free(s.b);
}

/* A good stream cut at every length, and with every byte of its framing
 * flipped: refused (or, for a flip inside page data, taken), never a
 * crash. */
static void test_truncated_and_flipped(void **state)
{
	struct stream s = { 0 };
	char err[512];

	(void)state;
	begin(&s);
	pages(&s, 0, 2, 0x40);
	msg(&s, VMM_MIG_STATE, "VMMS", 4);
	end(&s, 2, 4);
	for (size_t len = 0; len < s.len; len += len < 200 || s.len - len < 200 ? 1 : 97) {
		int rc = receive(&s, len, err, sizeof(err));
		if (rc >= 0)
			fail_msg("a stream cut at %zu of %zu bytes was taken", len, s.len);
		assert_true(err[0] != '\0');
	}
	for (size_t i = 0; i < s.len; i += i < 200 || s.len - i < 40 ? 1 : 509) {
		s.b[i] ^= 0xa5;
		int rc = receive(&s, s.len, err, sizeof(err));
		s.b[i] ^= 0xa5;
		assert_true(rc == 0 || err[0] != '\0');
	}
	free(s.b);
}

/* ----------------------------------------- migrations between machines */


/* A guest that idles in vcpu_run until it is kicked (an interrupt
 * exit: a pause parks it) or told to power off. */
struct idle_guest {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned kicks;
	bool power_off;
};

struct fixture {
	char dir[64];
	struct vmm_plugin_set *ps;
	struct vmm_machine_config *mc, *mc2;
	struct vmm_machine *src, *dst;
	pthread_t thread;
	bool running;
	char sock[128];
	struct idle_guest idle;
	int src_nodelay; /* the source's TCP_NODELAY, read during a round */
};
static struct fixture *F;

static struct vmm_machine *build(const char *name, const char *memory, struct vmm_machine_config **mcp)
{
	char conf[1024], path[160], guest[128], err[1024] = "";
	const uint8_t hlt = 0xf4;
	struct vmm_machine *m;

	snprintf(guest, sizeof(guest), "%s/guest.bin", F->dir);
	write_file(guest, &hlt, 1);
	snprintf(conf, sizeof(conf),
		 "memory = %s\nvcpus = 1\nseccomp = \"off\"\n"
		 "hypervisor \"fake-vcpu-hv\" { irqchip = \"kernel\" }\n"
		 "boot { kernel = \"%s\" format = \"flat\" }\n"
		 "backend \"sink\" { plugin = \"file\" path = \"%s/out\" }\n"
		 "device \"d0\" { plugin = \"fake-dev\" chardev = \"sink\" }\n", memory, guest, F->dir);
	snprintf(path, sizeof(path), "%s/%s.conf", F->dir, name);
	write_file(path, conf, strlen(conf));
	if (vmm_config_load(path, F->ps, plugin_path, mcp, err, sizeof(err)))
		fail_msg("config: %s", err);
	assert_int_equal(vmm_machine_create(*mcp, F->ps, plugin_path, &m), 0);
	return m;
}

static void *run_thread(void *arg)
{
	vmm_machine_run(arg);
	return NULL;
}

/* The source runs, paused from the start: vCPUs parked, its main loop
 * (timers, callbacks) going as in vmmctl. */
static void run_paused(struct vmm_machine *m)
{
	vmm_machine_start_paused(m);
	assert_int_equal(pthread_create(&F->thread, NULL, run_thread, m), 0);
	F->running = true;
	for (int i = 0; i < 5000 && !vmm_machine_vcpu_parked(m, 0); i++)
		usleep(1000);
	assert_true(vmm_machine_vcpu_parked(m, 0));
}

static int idle_run(void *ctx, unsigned vcpu, struct vmm_exit *e)
{
	struct idle_guest *g = ctx;

	(void)vcpu;
	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&g->lock);
	while (!g->kicks && !g->power_off)
		pthread_cond_wait(&g->cond, &g->lock);
	if (g->power_off) {
		e->reason = VMM_EXIT_SYSTEM_EVENT;
		e->system_event.type = VMM_SYSTEM_EVENT_SHUTDOWN;
	} else {
		e->reason = VMM_EXIT_INTR;
		g->kicks = 0;
	}
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static void idle_kick(void *ctx, unsigned vcpu)
{
	struct idle_guest *g = ctx;

	(void)vcpu;
	pthread_mutex_lock(&g->lock);
	g->kicks++;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* The guest powers off: its vCPU's next exit is a shutdown. */
static void idle_power_off(void)
{
	pthread_mutex_lock(&F->idle.lock);
	F->idle.power_off = true;
	pthread_cond_broadcast(&F->idle.cond);
	pthread_mutex_unlock(&F->idle.lock);
}

/* The source runs (not paused), its vCPU idle in vcpu_run. */
static void run_running(struct vmm_machine *m)
{
	struct fake_vm *v = m->vm;

	v->hooks = (struct fake_vcpu_hooks){ idle_run, idle_kick, &F->idle };
	assert_int_equal(pthread_create(&F->thread, NULL, run_thread, m), 0);
	F->running = true;
	for (int i = 0; i < 5000 && !atomic_load(&v->vcpus[0].in_run); i++)
		usleep(1000);
	assert_true(atomic_load(&v->vcpus[0].in_run));
	assert_int_equal(vmm_machine_state(m), VMM_MACHINE_RUNNING);
}

/* Every page of the machine's 2 MiB not zero: round 1 is far more than a
 * socket takes without a reader. */
static uint8_t *fill_ram(struct vmm_machine *m)
{
	uint8_t *in = vmm_machine_ram(m, 0, 2u << 20);

	for (unsigned p = 0; p < 512; p++)
		memset(in + p * PAGE, (int)(p % 251) + 1, PAGE);
	return in;
}

/* A unix socket listening at path, accepting nothing yet. */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	return fd;
}

static int setup(void **state)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	snprintf(F->dir, sizeof(F->dir), "/tmp/vmm-migrate-test-XXXXXX");
	assert_non_null(mkdtemp(F->dir));
	snprintf(F->sock, sizeof(F->sock), "%s/dest.sock", F->dir);
	F->ps = vmm_plugin_set_new();
	assert_non_null(F->ps);
	pthread_mutex_init(&F->idle.lock, NULL);
	pthread_cond_init(&F->idle.cond, NULL);
	F->src_nodelay = -1;
	*state = F;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	vmm_migrate_set_io_timeout(0);
	if (F->running) {
		vmm_machine_request_stop(F->src, 0, "test");
		pthread_join(F->thread, NULL);
	}
	if (F->src)
		vmm_machine_destroy(F->src);
	if (F->dst)
		vmm_machine_destroy(F->dst);
	vmm_config_free(F->mc);
	vmm_config_free(F->mc2);
	vmm_plugin_set_free(F->ps);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", F->dir);
	if (system(cmd) != 0)
		print_message("could not remove %s\n", F->dir);
	free(F);
	return 0;
}

/* The destination, as vmmctl receive: accept, read the beginning, then
 * load the rest into F->dst and answer. */
struct dest {
	int rc;
	char err[512];
	const char *addr; /* where to listen: F->sock unless set */
	int nodelay;      /* the accepted socket's TCP_NODELAY (TCP), else -1 */
};

static void *dest_thread(void *arg)
{
	struct dest *d = arg;
	struct vmm_snapshot *s = NULL;
	int fd;

	d->nodelay = -1;
	d->rc = vmm_migrate_accept(d->addr ? d->addr : F->sock, &fd, &s, d->err, sizeof(d->err));
	if (!d->rc) {
		socklen_t len = sizeof(d->nodelay);
		if (d->addr && getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &d->nodelay, &len))
			d->nodelay = -2;
		d->rc = vmm_migrate_receive(F->dst, s, fd, d->err, sizeof(d->err));
		close(fd);
	}
	vmm_snapshot_free(s);
	return NULL;
}

/* The destination's socket appears only once it listens, owner-only
 * (vmm_migrate_accept binds it under another name and renames it), so
 * seeing the file is enough to connect. */
static void start_dest(pthread_t *t, struct dest *d)
{
	struct stat st;
	char tmp[sizeof(F->sock) + 16];

	assert_int_equal(pthread_create(t, NULL, dest_thread, d), 0);
	for (int i = 0; i < 5000 && access(F->sock, F_OK) != 0; i++)
		usleep(1000);
	assert_int_equal(stat(F->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(tmp, sizeof(tmp), "%s.%ld", F->sock, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
}

/* What the guest and a device write while the source migrates: the
 * fake's dirty log is read once a round. */
static void writes_during_migration(struct fake_vm *v, uint32_t slot, unsigned call)
{
	struct fake_slot *s = &v->slots[slot];

	if (call == 1) {
		/* Round 2: the guest wrote pages 63 and 64 (the last bit of a
		 * bitmap word and the first of the next), a device page 5 (its
		 * mark only, no log bit). */
		memcpy(s->hva + 63 * PAGE, "guest-63", 8);
		memcpy(s->hva + 64 * PAGE + 100, "guest-64", 8);
		s->dirty[0] |= 1ull << 63;
		s->dirty[1] |= 1ull << 0;
		memcpy(s->hva + 5 * PAGE, "device-5", 8);
		v->h->mark_dirty(v->h, s->gpa + 5 * PAGE + 3, 2);
	} else {
		/* The paused round: a guest write (page 127, the last of a
		 * word) and a device write spanning pages 200 and 201. */
		memcpy(s->hva + 127 * PAGE, "guest-127", 9);
		s->dirty[1] |= 1ull << 63;
		memcpy(s->hva + 201 * PAGE - 4, "dev-200/201", 11);
		v->h->mark_dirty(v->h, s->gpa + 201 * PAGE - 4, 11);
	}
}

static void test_migrate_machine(void **state)
{
	struct vmm_migrate_stats st;
	struct dest d = { 0 };
	pthread_t t;
	char err[512] = "";

	(void)state;
	F->src = build("src", "2M", &F->mc);
	F->dst = build("dst", "2M", &F->mc2);
	uint8_t *in = vmm_machine_ram(F->src, 0, 2u << 20);
	memcpy(in + 0x3000, "before", 6);
	memcpy(in + 0x1ff000, "tail", 4);
	struct fake_vm *v = F->src->vm;
	v->dirty_hook = writes_during_migration;
	v->state_reg[0] = 0x1234;
	run_paused(F->src);
	start_dest(&t, &d);
	int rc = vmm_migrate_send(F->src, F->sock, 0, &st, err, sizeof(err));
	/* A source that never reached the destination leaves it accepting:
	 * fail now rather than wait for it (this test hung so once). */
	if (rc)
		fail_msg("source %d: %s", rc, err);
	pthread_join(t, NULL);
	if (d.rc)
		fail_msg("destination %d: %s", d.rc, d.err);
	assert_int_equal(st.rounds, 2);
	assert_int_equal(st.last_pages, 3); /* 127, 200, 201 */
	assert_int_equal(v->dirty_calls, 2);
	uint8_t *out = vmm_machine_ram(F->dst, 0, 2u << 20);
	for (unsigned p = 0; p < 512; p++)
		if (memcmp(in + p * PAGE, out + p * PAGE, PAGE) != 0)
			fail_msg("page %u differs on the destination", p);
	assert_memory_equal(out + 5 * PAGE, "device-5", 8);
	assert_memory_equal(out + 201 * PAGE - 4, "dev-200/201", 11);
	assert_memory_equal(out + 64 * PAGE + 100, "guest-64", 8);
	/* The records: the vCPU's register came along. */
	assert_int_equal(((struct fake_vm *)F->dst->vm)->state_reg[0], 0x1234);
}

/* vmm_migrate_start (PUT /v1/migration/send): pre-copy runs on the main
 * loop a slice at a time.  A destination that has not accepted yet (its
 * backlog holds the connection, nobody reads) fills the socket: the
 * source's loop goes on all the same (a timer of its own keeps firing), a
 * second migration is refused; once the destination reads, the migration
 * ends with done(0) and the destination has every page. */
struct async {
	struct vmm_machine *m;
	struct event *tick;
	_Atomic int ticks, started, calls;
	int start_rc, second_rc, rc;
	struct vmm_migrate_stats st;
	char start_err[512], second_err[512], err[512];
};

static void async_done(void *arg, int rc, const struct vmm_migrate_stats *st, const char *err)
{
	struct async *a = arg;

	a->rc = rc;
	a->st = *st;
	snprintf(a->err, sizeof(a->err), "%s", err);
	atomic_fetch_add(&a->calls, 1);
}

static void async_tick(evutil_socket_t fd, short what, void *arg)
{
	struct async *a = arg;

	(void)fd;
	(void)what;
	atomic_fetch_add(&a->ticks, 1);
}

static void async_start(evutil_socket_t fd, short what, void *arg)
{
	struct async *a = arg;
	struct timeval ms = { 0, 1000 };

	(void)fd;
	(void)what;
	a->start_rc = vmm_migrate_start(a->m, F->sock, 0, async_done, a, a->start_err, sizeof(a->start_err));
	a->second_rc = vmm_migrate_start(a->m, F->sock, 0, async_done, a, a->second_err, sizeof(a->second_err));
	a->tick = event_new(vmm_machine_event_base(a->m), -1, EV_PERSIST, async_tick, a);
	event_add(a->tick, &ms);
	atomic_store(&a->started, 1);
}

static void async_stop_tick(evutil_socket_t fd, short what, void *arg)
{
	struct async *a = arg;

	(void)fd;
	(void)what;
	event_free(a->tick);
	atomic_store(&a->started, 2);
}

/* Waits up to 10 s for *v >= want. */
static bool wait_at_least(_Atomic int *v, int want)
{
	for (int i = 0; i < 10000 && atomic_load(v) < want; i++)
		usleep(1000);
	return atomic_load(v) >= want;
}

static void test_migrate_on_the_loop(void **state)
{
	struct async a = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[512] = "";

	(void)state;
	F->src = build("src", "2M", &F->mc);
	F->dst = build("dst", "2M", &F->mc2);
	/* Every page non-zero: round 1 is 2 MiB, far more than a socket
	 * takes without a reader. */
	uint8_t *in = vmm_machine_ram(F->src, 0, 2u << 20);
	for (unsigned p = 0; p < 512; p++)
		memset(in + p * PAGE, (int)(p % 251) + 1, PAGE);
	a.m = F->src;
	run_paused(F->src);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(strlen(F->sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, F->sock, strlen(F->sock) + 1);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(event_base_once(vmm_machine_event_base(F->src), -1, EV_TIMEOUT, async_start, &a, NULL), 0);
	assert_true(wait_at_least(&a.started, 1));
	if (a.start_rc)
		fail_msg("vmm_migrate_start: %d: %s", a.start_rc, a.start_err);
	assert_int_equal(a.second_rc, -EBUSY);
	assert_non_null(strstr(a.second_err, "under way"));
	/* Nobody reads: the loop still runs its timer. */
	if (!wait_at_least(&a.ticks, 50))
		fail_msg("the source's main loop is held while the destination reads nothing (%d ticks)",
			 atomic_load(&a.ticks));
	assert_int_equal(atomic_load(&a.calls), 0);
	assert_int_equal(event_base_once(vmm_machine_event_base(F->src), -1, EV_TIMEOUT, async_stop_tick, &a, NULL),
			 0);
	assert_true(wait_at_least(&a.started, 2));

	/* The destination accepts and reads: the migration ends. */
	struct vmm_snapshot *s = NULL;
	int fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	int rc = vmm_migrate_read_begin(fd, "the test's stream", &s, err, sizeof(err));
	if (!rc)
		rc = vmm_migrate_receive(F->dst, s, fd, err, sizeof(err));
	if (rc)
		fail_msg("destination: %d: %s", rc, err);
	vmm_snapshot_free(s);
	close(fd);
	close(lfd);
	assert_true(wait_at_least(&a.calls, 1));
	if (a.rc)
		fail_msg("done: %d: %s", a.rc, a.err);
	assert_true(a.st.rounds >= 2);
	assert_true(a.st.pages >= 512);
	uint8_t *out = vmm_machine_ram(F->dst, 0, 2u << 20);
	for (unsigned p = 0; p < 512; p++)
		if (memcmp(in + p * PAGE, out + p * PAGE, PAGE) != 0)
			fail_msg("page %u differs on the destination", p);
	/* One call, and no migration left under way. */
	usleep(20000);
	assert_int_equal(atomic_load(&a.calls), 1);
	assert_null(F->src->migration);
}

static void test_destination_refuses(void **state)
{
	struct vmm_migrate_stats st;
	struct dest d = { 0 };
	pthread_t t;
	char err[512] = "";

	(void)state;
	F->src = build("src", "2M", &F->mc);
	F->dst = build("dst", "4M", &F->mc2); /* not the source's machine */
	run_paused(F->src);
	start_dest(&t, &d);
	int rc = vmm_migrate_send(F->src, F->sock, 0, &st, err, sizeof(err));
	pthread_join(t, NULL);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(err, "the destination refused the machine"));
	assert_non_null(strstr(err, "2 MiB"));
	assert_int_equal(d.rc, -EPROTO);
	/* The source as it was: paused (as before), its dirty log off. */
	assert_int_equal(vmm_machine_state(F->src), VMM_MACHINE_PAUSED);
	assert_int_equal(((struct fake_vm *)F->src->vm)->slots[0].flags, 0);
	/* No destination at all. */
	rc = vmm_migrate_send(F->src, F->sock, 0, &st, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_non_null(strstr(err, "cannot connect"));
	assert_int_equal(vmm_machine_state(F->src), VMM_MACHINE_PAUSED);
	/* TCP addresses: numeric only, a port, one line naming it. */
	static const struct {
		const char *addr, *says;
	} bad[] = {
		{ "tcp:localhost:4444", "'localhost' is not a numeric IPv4 or IPv6 address" },
		{ "tcp:10.0.0.1", "not tcp:ADDRESS:PORT" },
		{ "tcp:10.0.0.1:", "not tcp:ADDRESS:PORT" },
		{ "tcp::4444", "not tcp:ADDRESS:PORT" },
		{ "tcp:10.0.0.1:65536", "not tcp:ADDRESS:PORT" },
		{ "tcp:10.0.0.1:44x", "not tcp:ADDRESS:PORT" },
		{ "tcp:[::1:4444", "not tcp:ADDRESS:PORT" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = vmm_migrate_send(F->src, bad[i].addr, 0, &st, err, sizeof(err));
		if (rc != -EINVAL || !strstr(err, bad[i].says))
			fail_msg("%s: %d, '%s'", bad[i].addr, rc, err);
		assert_null(strchr(err, '\n'));
	}
	/* A good one nobody listens on: the connect's error. */
	rc = vmm_migrate_send(F->src, "tcp:[::1]:1", 0, &st, err, sizeof(err));
	assert_true(rc == -ECONNREFUSED || rc == -EADDRNOTAVAIL || rc == -ENETUNREACH);
	assert_non_null(strstr(err, "destination tcp:[::1]:1: cannot connect"));
	assert_int_equal(vmm_machine_state(F->src), VMM_MACHINE_PAUSED);
}

/* ------------------------------------------------------- the hang guard */

static void async_start_one(evutil_socket_t fd, short what, void *arg)
{
	struct async *a = arg;

	(void)fd;
	(void)what;
	a->start_rc = vmm_migrate_start(a->m, F->sock, 0, async_done, a, a->start_err, sizeof(a->start_err));
	atomic_store(&a->started, 1);
}

/* Reads fd to its end (the source closed the stream): true, or false
 * when 10 s of reading did not get there (a hang guard of the test's). */
static bool drained_to_end(int fd)
{
	struct timeval tv = { .tv_sec = 10 };
	char buf[65536];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return n == 0;
}

/* The source after a failed migration: running, its dirty log off, no
 * migration under way. */
static void source_runs_on(void)
{
	assert_int_equal(vmm_machine_state(F->src), VMM_MACHINE_RUNNING);
	assert_int_equal(((struct fake_vm *)F->src->vm)->slots[0].flags, 0);
	assert_false(atomic_load(&F->src->dirty_tracking));
	assert_int_equal(vmm_migrate_fd(F->src), -1);
}

/* A destination that accepts and then reads nothing, for the sends that
 * wait: it holds the connection until told, or 10 s (the test's own
 * bound: a source without its guard then sees the stream end instead of
 * waiting for ever). */
struct holder {
	int lfd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool release;
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;
	struct timespec until;
	int fd = accept(h->lfd, NULL, NULL);

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&h->lock);
	while (!h->release && pthread_cond_timedwait(&h->cond, &h->lock, &until) == 0)
		;
	pthread_mutex_unlock(&h->lock);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void holder_release(struct holder *h)
{
	pthread_mutex_lock(&h->lock);
	h->release = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* A destination that accepts and never reads: pre-copy on the main loop
 * (vmm_migrate_start) sends what the socket takes, then nothing moves;
 * after the guard's time the migration ends with done() naming the guard,
 * and the source runs on, its dirty log off, the stream closed.  The
 * sends that wait (vmm_migrate_send) end the same way (SO_SNDTIMEO). */
static void test_hang_guard_reads_nothing(void **state)
{
	struct async a = { 0 };
	struct vmm_migrate_stats st;
	char err[512] = "";

	(void)state;
	assert_int_equal(vmm_migrate_set_io_timeout(100), VMM_MIG_IO_TIMEOUT_MS);
	F->src = build("src", "2M", &F->mc);
	fill_ram(F->src);
	run_running(F->src);
	int lfd = listen_at(F->sock);
	a.m = F->src;
	assert_int_equal(event_base_once(vmm_machine_event_base(F->src), -1, EV_TIMEOUT, async_start_one, &a, NULL),
			 0);
	int fd = accept(lfd, NULL, NULL); /* ... and never reads */
	assert_true(fd >= 0);
	assert_true(wait_at_least(&a.started, 1));
	if (a.start_rc)
		fail_msg("vmm_migrate_start: %d: %s", a.start_rc, a.start_err);
	if (!wait_at_least(&a.calls, 1))
		fail_msg("a destination that reads nothing: the migration did not end in 10 s");
	assert_int_equal(a.rc, -ETIMEDOUT);
	if (!strstr(a.err, "the stream moved nothing for 100 ms") || !strstr(a.err, "(the hang guard)") ||
	    !strstr(a.err, F->sock))
		fail_msg("done's message: %s", a.err);
	source_runs_on();
	assert_true(drained_to_end(fd)); /* the source closed its end */
	close(fd);
	close(lfd);
	unlink(F->sock);

	/* The same with the sends that wait. */
	struct holder h = { .lfd = listen_at(F->sock) };
	pthread_t t;
	pthread_mutex_init(&h.lock, NULL);
	pthread_cond_init(&h.cond, NULL);
	assert_int_equal(pthread_create(&t, NULL, holder_thread, &h), 0);
	int rc = vmm_migrate_send(F->src, F->sock, 0, &st, err, sizeof(err));
	holder_release(&h);
	pthread_join(t, NULL);
	close(h.lfd);
	assert_int_equal(rc, -ETIMEDOUT);
	if (!strstr(err, "the stream moved nothing for 100 ms") || !strstr(err, "(the hang guard)"))
		fail_msg("vmm_migrate_send: %s", err);
	source_runs_on();
	assert_int_equal(atomic_load(&a.calls), 1);
}

/* A destination that takes the whole stream and never answers: the
 * source paused the vCPUs for the last round and waits for the answer
 * (SO_RCVTIMEO); after the guard's time it fails naming it and runs again,
 * its dirty log off. */
struct mute {
	int rc;
	char err[512];
	bool closed; /* the source closed the stream after the guard */
};

static void *mute_dest_thread(void *arg)
{
	struct mute *d = arg;
	struct vmm_snapshot *s = NULL;
	int fd;

	d->rc = vmm_migrate_accept(F->sock, &fd, &s, d->err, sizeof(d->err));
	if (!d->rc) {
		d->rc = vmm_migrate_read_rest(fd, s, F->dst->ram, F->dst->nram, d->err, sizeof(d->err));
		d->closed = drained_to_end(fd);
		close(fd);
	}
	vmm_snapshot_free(s);
	return NULL;
}

static void test_hang_guard_no_answer(void **state)
{
	struct vmm_migrate_stats st;
	struct mute d = { 0 };
	pthread_t t;
	char err[512] = "";

	(void)state;
	vmm_migrate_set_io_timeout(100);
	F->src = build("src", "2M", &F->mc);
	F->dst = build("dst", "2M", &F->mc2);
	fill_ram(F->src);
	run_running(F->src);
	assert_int_equal(pthread_create(&t, NULL, mute_dest_thread, &d), 0);
	for (int i = 0; i < 5000 && access(F->sock, F_OK) != 0; i++)
		usleep(1000);
	int rc = vmm_migrate_send(F->src, F->sock, 0, &st, err, sizeof(err));
	pthread_join(t, NULL);
	if (d.rc)
		fail_msg("the destination: %d: %s", d.rc, d.err);
	assert_true(d.closed);
	assert_int_equal(rc, -ETIMEDOUT);
	if (!strstr(err, "the destination did not answer within 100 ms (the hang guard)"))
		fail_msg("vmm_migrate_send: %s", err);
	/* Paused for the last round, running again. */
	source_runs_on();
}

/* ---------------------------------------------------------------- TCP */

/* A free port on 127.0.0.1 (the kernel's pick, released at once). */
static unsigned free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* Whether something listens on 127.0.0.1:port (/proc/net/tcp, state 0A),
 * seen without connecting: the destination accepts one source only. */
static bool listening_on(unsigned port)
{
	char want[32], line[256];
	bool found = false;
	FILE *f = fopen("/proc/net/tcp", "r");

	assert_non_null(f);
	snprintf(want, sizeof(want), "0100007F:%04X 00000000:0000 0A", port);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/* Round 2 is under way on the sending thread: the source's socket. */
static void read_source_nodelay(struct fake_vm *v, uint32_t slot, unsigned call)
{
	socklen_t len = sizeof(F->src_nodelay);

	(void)v;
	(void)slot;
	(void)call;
	if (getsockopt(vmm_migrate_fd(F->src), IPPROTO_TCP, TCP_NODELAY, &F->src_nodelay, &len))
		F->src_nodelay = -2;
}

/* A migration over TCP on the loopback: both ends of the stream without
 * Nagle's delay (TCP_NODELAY), and the machine arrives. */
static void test_tcp_nodelay(void **state)
{
	struct vmm_migrate_stats st;
	struct dest d = { 0 };
	pthread_t t;
	char addr[64], err[512] = "";
	int rc;

	(void)state;
	F->src = build("src", "2M", &F->mc);
	F->dst = build("dst", "2M", &F->mc2);
	uint8_t *in = vmm_machine_ram(F->src, 0, 2u << 20);
	memcpy(in + 0x5000, "over tcp", 8);
	((struct fake_vm *)F->src->vm)->dirty_hook = read_source_nodelay;
	run_paused(F->src);
	unsigned port = free_port();
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%u", port);
	d.addr = addr;
	assert_int_equal(pthread_create(&t, NULL, dest_thread, &d), 0);
	for (int i = 0; i < 5000 && !listening_on(port); i++)
		usleep(1000);
	rc = vmm_migrate_send(F->src, addr, 0, &st, err, sizeof(err));
	if (rc)
		fail_msg("source %d: %s", rc, err); /* as in test_migrate_machine */
	pthread_join(t, NULL);
	if (d.rc)
		fail_msg("destination %d: %s", d.rc, d.err);
	assert_int_equal(F->src_nodelay, 1);
	assert_int_equal(d.nodelay, 1);
	assert_memory_equal(vmm_machine_ram(F->dst, 0, 2u << 20) + 0x5000, "over tcp", 8);
}

/* ------------------------------------ the machine stops during a migration */

struct api_client {
	const char *sock;
	char body[256];
	int rc, status;
	char *reply;
	char err[256];
};

static void *api_client_thread(void *arg)
{
	struct api_client *c = arg;

	c->rc = vmm_api_request(c->sock, "PUT", "/v1/migration/send", c->body, &c->status, &c->reply, c->err,
				sizeof(c->err));
	return NULL;
}

/* PUT /v1/migration/send to a destination that reads nothing, and the
 * guest powers off meanwhile: the machine's loop ends with the reply still
 * due, and vmmctl's next step (vmm_api_detach, before the machine is
 * destroyed) writes it at once: 503, naming why. */
static void test_poweroff_during_migration(void **state)
{
	struct api_client c = { 0 };
	struct vmm_api *api;
	char path[160], err[256];
	pthread_t t;

	(void)state;
	F->src = build("src", "2M", &F->mc);
	fill_ram(F->src);
	snprintf(path, sizeof(path), "%s/api.sock", F->dir);
	assert_int_equal(vmm_api_listen(path, &api, err, sizeof(err)), 0);
	assert_int_equal(vmm_api_attach(api, F->src), 0);
	run_running(F->src);
	int lfd = listen_at(F->sock);
	c.sock = path;
	snprintf(c.body, sizeof(c.body), "{\"socket\": \"%s\"}", F->sock);
	assert_int_equal(pthread_create(&t, NULL, api_client_thread, &c), 0);
	/* Connected: the migration is under way (the request's handler
	 * connects, and it ends before the loop turns again). */
	int fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	idle_power_off();
	pthread_join(F->thread, NULL);
	F->running = false;
	assert_int_equal(vmm_machine_state(F->src), VMM_MACHINE_STOPPING);
	/* As vmmctl run does once the machine's loop ended. */
	vmm_api_detach(api);
	pthread_join(t, NULL);
	if (c.rc)
		fail_msg("the client of PUT /v1/migration/send: %d: %s", c.rc, c.err);
	assert_int_equal(c.status, 503);
	assert_non_null(c.reply);
	struct json_object *o = json_tokener_parse(c.reply), *e;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "error", &e));
	assert_string_equal(json_object_get_string(e), "the machine stopped before the migration ended");
	json_object_put(o);
	free(c.reply);
	vmm_machine_destroy(F->src); /* ends the migration: no second reply */
	F->src = NULL;
	assert_true(drained_to_end(fd));
	close(fd);
	close(lfd);
	vmm_api_close(api);
}

/* A device plugin built before ABI 1.15 cannot mark what it writes
 * through mem_map: once it has asked for such a pointer, the machine is
 * not migrated (409 naming it); one that never mapped RAM is no reason to
 * refuse. */
static void test_old_plugin_refused(void **state)
{
	struct vmm_migrate_stats st;
	char err[512] = "";

	(void)state;
	F->src = build("src", "2M", &F->mc);
	struct vmm_instance *in = F->src->instances;
	while (in && strcmp(in->name, "d0") != 0)
		in = in->next;
	assert_non_null(in);
	/* fake-dev as if built against 1.14 */
	const struct vmm_loaded_plugin *real = in->lp;
	struct vmm_loaded_plugin old = *real;
	struct vmm_plugin desc = *real->desc;
	desc.abi_minor = 14;
	old.desc = &desc;
	in->lp = &old;
	run_paused(F->src);
	/* Not mapped: it goes as far as the (absent) destination. */
	assert_int_equal(vmm_migrate_send(F->src, F->sock, 0, &st, err, sizeof(err)), -ENOENT);
	assert_non_null(in->host.mem_map(&in->host, 0x1000, 16));
	assert_int_equal(vmm_migrate_send(F->src, F->sock, 0, &st, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "device 'd0' (plugin fake-dev, ABI 1.14) maps guest memory and predates "
				    "ABI 1.15"));
	assert_int_equal(vmm_machine_state(F->src), VMM_MACHINE_PAUSED);
	vmm_machine_request_stop(F->src, 0, "test");
	pthread_join(F->thread, NULL);
	F->running = false;
	in->lp = real;
}

/* The core's own bitmap of device writes: nothing while no migration
 * tracks them; then every page a range touches, nothing beyond RAM,
 * cleared when taken. */
static void test_device_marks(void **state)
{
	(void)state;
	F->src = build("src", "2M", &F->mc);
	struct vmm_ram *r = &F->src->ram[0];
	uint64_t bm[8] = { 0 };

	vmm_machine_mark_dirty(F->src, 3 * PAGE, PAGE);
	vmm_machine_dev_dirty_take(r, bm);
	for (int w = 0; w < 8; w++)
		assert_int_equal(bm[w], 0);
	atomic_store(&F->src->dirty_tracking, true);
	vmm_machine_mark_dirty(F->src, 63 * PAGE + 4095, 2); /* pages 63 and 64 */
	vmm_machine_mark_dirty(F->src, 511 * PAGE, 8 * PAGE); /* runs past RAM */
	vmm_machine_mark_dirty(F->src, 2u << 20, PAGE);       /* outside RAM */
	vmm_machine_mark_dirty(F->src, 0xfffffffffffff000ull, 0x2000); /* wraps */
	vmm_machine_mark_dirty(F->src, 7 * PAGE, 0);          /* nothing */
	vmm_machine_dev_dirty_take(r, bm);
	assert_int_equal(bm[0], 1ull << 63);
	assert_int_equal(bm[1], 1ull);
	for (int w = 2; w < 7; w++)
		assert_int_equal(bm[w], 0);
	assert_int_equal(bm[7], 1ull << 63);
	uint64_t again[8] = { 0 };
	vmm_machine_dev_dirty_take(r, again);
	for (int w = 0; w < 8; w++)
		assert_int_equal(again[w], 0);
}

int main(void)
{
	plugin_path_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_stream, ram_setup, ram_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_begin, ram_setup, ram_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_pages, ram_setup, ram_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_end, ram_setup, ram_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_flipped, ram_setup, ram_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_on_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destination_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hang_guard_reads_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hang_guard_no_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_nodelay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poweroff_during_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_plugin_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_marks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
