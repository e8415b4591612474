/* tests/unit/test_harness.c - the fake host's own rules, checked through
 * the fake-dev fixture (tests/fixtures/fake-dev.c documents its registers). */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmm/harness.h>

#define DATA 0x100
#define CTL 0x200
#define MMIO 0x10000000ULL
#define MSR 0x4b564d00u
#define IRQ 5

static char fixture_path[4096];

struct fixture {
	struct vmm_harness *h;
	struct vmm_harness_dev *dev;
};

static struct vmm_harness_dev *fake(struct vmm_harness *h, const char *name, const char *const *props)
{
	return vmm_harness_create_device(h, fixture_path, name, props);
}

static int setup_with(void **state, const char *const *props)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->h = vmm_harness_new();
	assert_non_null(f->h);
	f->dev = fake(f->h, "fake0", props);
	assert_non_null(f->dev);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL);
}

static int setup_access1(void **state)
{
	static const char *const props[] = { "access=1", NULL };

	return setup_with(state, props);
}

static int setup_access4(void **state)
{
	static const char *const props[] = { "access=4", NULL };

	return setup_with(state, props);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vmm_harness_free(f->h);
	free(f);
	return 0;
}

static void test_read_back_any_size(void **state)
{
	struct fixture *f = *state;

	vmm_harness_pio_write(f->h, DATA, 4, 0x44332211);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA, 4), 0x44332211);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA + 1, 2), 0x3322);
	/* PIO and MMIO windows share the storage. */
	assert_int_equal(vmm_harness_mmio_read(f->h, MMIO, 1), 0x11);
	vmm_harness_mmio_write(f->h, MMIO, 8, 0x8877665544332211ULL);
	assert_true(vmm_harness_mmio_read(f->h, MMIO, 8) == 0x8877665544332211ULL);
}

static void test_wide_access_is_split(void **state)
{
	struct fixture *f = *state;
	unsigned long before = vmm_harness_log_count(f->h, VMM_LOG_DEBUG);

	vmm_harness_pio_write(f->h, DATA, 4, 0xa1b2c3d4);
	/* A 1-byte-only region sees four 1-byte writes. */
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_DEBUG) - before, 4);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA + 3, 1), 0xa1);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA, 4), 0xa1b2c3d4);
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_DEBUG) - before, 9);
}

static void test_narrow_access_is_refused(void **state)
{
	struct fixture *f = *state;

	vmm_harness_pio_write(f->h, DATA, 4, 0x12345678);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA, 1), 0xff);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA, 2), 0xffff);
	vmm_harness_pio_write(f->h, DATA, 1, 0);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA, 4), 0x12345678);
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_GUEST_ERROR), 3);
	/* Refused is not unclaimed: the region exists. */
	assert_int_equal(vmm_harness_unclaimed_count(f->h), 0);
	/* An 8-byte access is split into two accepted 4-byte ones. */
	vmm_harness_pio_write(f->h, DATA + 4, 4, 0x9abcdef0);
	assert_true(vmm_harness_pio_read(f->h, DATA, 8) == 0x9abcdef012345678ULL);
}

static void test_unclaimed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_harness_pio_read(f->h, 0x500, 1), 0xff);
	assert_int_equal(vmm_harness_pio_read(f->h, 0x500, 4), 0xffffffff);
	assert_true(vmm_harness_mmio_read(f->h, 0x2000, 8) == UINT64_MAX);
	vmm_harness_pio_write(f->h, 0x500, 2, 0);
	assert_int_equal(vmm_harness_unclaimed_count(f->h), 4);
	/* Half claimed: the device answers its byte, the rest reads ones. */
	vmm_harness_pio_write(f->h, DATA + 7, 1, 0x5a);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA + 7, 2), 0xff5a);
	assert_int_equal(vmm_harness_unclaimed_count(f->h), 5);
	/* Past the top of the port space. */
	assert_int_equal(vmm_harness_pio_read(f->h, 0xffff, 2), 0xffff);
}

static void test_msr(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0;

	assert_int_equal(vmm_harness_msr_write(f->h, MSR, 0x1234), 0);
	assert_int_equal(vmm_harness_msr_read(f->h, MSR, &v), 0);
	assert_int_equal(v, 0x1234);
	assert_int_equal(vmm_harness_msr_write(f->h, MSR, 0xdead), -EIO);
	assert_int_equal(vmm_harness_msr_read(f->h, MSR + 1, &v), -EIO);
	assert_true(v == UINT64_MAX);
}

/* ABI 1.12: a device's state saved in one harness and loaded into a fresh
 * instance in another reads back the same; damaged or foreign records and
 * unknown versions are refused with a line. */
static void test_save_load(void **state)
{
	struct fixture *f = *state;
	struct vmm_harness *h2 = vmm_harness_new();
	struct vmm_harness_dev *d2;
	uint64_t v = 0;
	size_t len = 0;
	uint8_t *rec;

	assert_non_null(h2);
	vmm_harness_pio_write(f->h, DATA, 4, 0x44332211);
	assert_int_equal(vmm_harness_msr_write(f->h, MSR, 0x1234), 0);
	rec = vmm_harness_save(f->dev, &len);
	assert_non_null(rec);
	assert_true(len > 4);
	d2 = fake(h2, "fake0", NULL);
	assert_non_null(d2);
	assert_int_equal(vmm_harness_pio_read(h2, DATA, 4), 0);
	assert_int_equal(vmm_harness_load(d2, rec, len - 1), -EBADMSG);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	assert_int_equal(vmm_harness_pio_read(h2, DATA, 4), 0x44332211);
	assert_int_equal(vmm_harness_msr_read(h2, MSR, &v), 0);
	assert_int_equal(v, 0x1234);
	/* the record names its plugin: another plugin's is refused */
	memcpy(rec + 9, "X", 1);
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	memcpy(rec + 9, "f", 1);
	/* a version the plugin does not know: its load() says -EPROTO */
	rec[9 + rec[8] + 1 + rec[9 + rec[8]]] = 9;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EPROTO);
	free(rec);
	vmm_harness_free(h2);
}

static void test_overlap_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const overlap[] = { "pio_base=0x104", "mmio_base=0x20000000",
					       "msr=1", "ctl=0x300", NULL };
	static const char *const disjoint[] = { "pio_base=0x108", "mmio_base=0x20000000",
						"msr=1", "ctl=0x300", NULL };

	assert_null(fake(f->h, "fake1", overlap));
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_ERROR), 1);
	/* The failed instance left nothing mapped behind. */
	assert_non_null(fake(f->h, "fake1", disjoint));
}

static void test_zero_length_and_wrap_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const empty[] = { "pio_base=0x300", "len=0", NULL };
	static const char *const wrap_pio[] = { "pio_base=0xfffc", "mmio_base=0x20000000",
						"msr=1", "ctl=0x300", NULL };
	static const char *const wrap_mmio[] = { "pio_base=0x300", "mmio_base=-4",
						 "msr=1", "ctl=0x301", NULL };

	assert_null(fake(f->h, "empty", empty));
	assert_null(fake(f->h, "wrap", wrap_pio));
	assert_null(fake(f->h, "wrap", wrap_mmio));
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_ERROR), 3);
}

static void test_bad_props_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const unknown[] = { "nosuch=1", NULL };
	static const char *const range[] = { "irq=256", NULL };
	static const char *const noeq[] = { "irq", NULL };

	assert_null(fake(f->h, "x", unknown));
	assert_null(fake(f->h, "x", range));
	assert_null(fake(f->h, "x", noeq));
	assert_null(vmm_harness_create_device(f->h, "no-such-plugin", "x", NULL));
	assert_null(vmm_harness_create_device(f->h, "/nonexistent/x.so", "x", NULL));
}

/* The harness loads as vmmctl does (issue 13): a second device of the same
 * file shares it, and a file is what vmmctl could open, NAME.so declaring
 * NAME.  tests/harness/parity.sh compares the refusals with vmmctl's. */
static void test_plugin_files_as_vmmctl(void **state)
{
	struct fixture *f = *state;
	char path[4096];
	static const char *const other[] = { "pio_base=0x300", "ctl=0x310", "mmio_base=0x20000000", "msr=0x4b564e00", NULL };

	assert_non_null(fake(f->h, "fake1", other));
	snprintf(path, sizeof(path), "%s/tests/fixtures/.libs/misnamed.so", getenv("VMM_BUILDDIR"));
	assert_null(vmm_harness_create_device(f->h, path, "x", NULL));
	/* A good plugin, but in a file vmmctl would never open. */
	char copy[] = "/tmp/vmm-harness-XXXXXX.plugin";
	int out = mkstemps(copy, 7);
	assert_true(out >= 0);
	snprintf(path, sizeof(path), "%s/tests/fixtures/.libs/good.so", getenv("VMM_BUILDDIR"));
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(write(out, buf, n), (ssize_t)n);
	fclose(in);
	close(out);
	assert_null(vmm_harness_create_device(f->h, copy, "x", NULL));
	unlink(copy);
	assert_non_null(vmm_harness_create_device(f->h, path, "x", NULL));
}

static void test_irq_level_and_raises(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_harness_irq_level(f->h, IRQ), 0);
	vmm_harness_pio_write(f->h, CTL, 1, 1);
	assert_int_equal(vmm_harness_irq_level(f->h, IRQ), 1);
	vmm_harness_pio_write(f->h, CTL, 1, 1);
	assert_int_equal(vmm_harness_irq_raises(f->h, IRQ), 1);
	vmm_harness_pio_write(f->h, CTL, 1, 0);
	assert_int_equal(vmm_harness_irq_level(f->h, IRQ), 0);
	vmm_harness_pio_write(f->h, CTL, 1, 1);
	assert_int_equal(vmm_harness_irq_raises(f->h, IRQ), 2);
	assert_int_equal(vmm_harness_irq_level(f->h, IRQ + 1), 0);
}

static void test_shared_irq_is_wired_or(void **state)
{
	struct fixture *f = *state;
	static const char *const second[] = { "pio_base=0x310", "mmio_base=0x20000000",
					      "msr=1", "ctl=0x301", NULL };

	assert_non_null(fake(f->h, "fake1", second));
	vmm_harness_pio_write(f->h, CTL, 1, 1);
	vmm_harness_pio_write(f->h, 0x301, 1, 1);
	vmm_harness_pio_write(f->h, CTL, 1, 0);
	assert_int_equal(vmm_harness_irq_level(f->h, IRQ), 1);
	vmm_harness_pio_write(f->h, 0x301, 1, 0);
	assert_int_equal(vmm_harness_irq_level(f->h, IRQ), 0);
	assert_int_equal(vmm_harness_irq_raises(f->h, IRQ), 1);
}

static void test_timers_fire_in_deadline_order(void **state)
{
	struct fixture *f = *state;

	vmm_harness_pio_write(f->h, CTL, 1, 0x10); /* timer 0 at 400 */
	vmm_harness_pio_write(f->h, CTL, 1, 0x13); /* timer 3 at 100 */
	vmm_harness_pio_write(f->h, CTL, 1, 0x12); /* timer 2 at 200 */
	vmm_harness_pio_write(f->h, CTL, 1, 0x11); /* timer 1 at 300 */
	vmm_harness_pio_write(f->h, CTL, 1, 0x19); /* cancel timer 1 */
	vmm_harness_clock_step(f->h, 99);
	assert_string_equal(vmm_harness_char_output(f->dev, NULL), "");
	vmm_harness_clock_step(f->h, 1);
	assert_string_equal(vmm_harness_char_output(f->dev, NULL), "3");
	vmm_harness_clock_step(f->h, 200);
	assert_string_equal(vmm_harness_char_output(f->dev, NULL), "32");
	vmm_harness_clock_step(f->h, 1000);
	assert_string_equal(vmm_harness_char_output(f->dev, NULL), "320");
	assert_int_equal(vmm_harness_clock_ns(f->h), 1300);
	/* One-shot: nothing fires again. */
	vmm_harness_clock_step(f->h, 1000);
	assert_string_equal(vmm_harness_char_output(f->dev, NULL), "320");
}

static void test_char_output_capture(void **state)
{
	struct fixture *f = *state;
	size_t len = 0;

	vmm_harness_pio_write(f->h, CTL, 1, 0x20);
	vmm_harness_pio_write(f->h, CTL, 1, 0x20);
	assert_string_equal(vmm_harness_char_output(f->dev, &len), "hellohello");
	assert_int_equal(len, 10);
	vmm_harness_char_clear(f->dev);
	assert_string_equal(vmm_harness_char_output(f->dev, &len), "");
	assert_int_equal(len, 0);
}

static void test_char_input_flow_control(void **state)
{
	struct fixture *f = *state;

	/* The device has room for 4: the rest waits. */
	assert_int_equal(vmm_harness_char_input(f->dev, "abcdef", 6), 4);
	assert_int_equal(vmm_harness_char_pending(f->dev), 2);
	/* Stalled: no delivery until the device says it has room. */
	assert_int_equal(vmm_harness_char_input(f->dev, "g", 1), 0);
	assert_int_equal(vmm_harness_char_pending(f->dev), 3);
	/* Popping from the full buffer calls char_input_ready(); the queue
	 * refills the buffer after the access returns. */
	assert_int_equal(vmm_harness_pio_read(f->h, CTL, 1), 'a');
	assert_int_equal(vmm_harness_char_pending(f->dev), 2);
	assert_int_equal(vmm_harness_pio_read(f->h, CTL, 1), 'b');
	assert_int_equal(vmm_harness_char_pending(f->dev), 1);
	assert_int_equal(vmm_harness_pio_read(f->h, CTL, 1), 'c');
	assert_int_equal(vmm_harness_char_pending(f->dev), 0);
	for (const char *expect = "defg"; *expect; expect++)
		assert_int_equal(vmm_harness_pio_read(f->h, CTL, 1), *expect);
	assert_int_equal(vmm_harness_pio_read(f->h, CTL, 1), 0);
}

static void test_machine_stop_and_logs(void **state)
{
	struct fixture *f = *state;
	int reason = -1, status = -1;

	assert_false(vmm_harness_stopped(f->h, &reason, &status));
	vmm_harness_pio_write(f->h, CTL, 1, 0x40);
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_GUEST_ERROR), 1);
	vmm_harness_pio_write(f->h, CTL, 1, 0x30);
	assert_true(vmm_harness_stopped(f->h, &reason, &status));
	assert_int_equal(reason, VMM_STOP_EXIT);
	assert_int_equal(status, 3);
}

static void test_destroy_unmaps(void **state)
{
	struct fixture *f = *state;

	vmm_harness_pio_write(f->h, CTL, 1, 1);
	vmm_harness_destroy_device(f->dev);
	f->dev = NULL;
	assert_int_equal(vmm_harness_pio_read(f->h, DATA, 1), 0xff);
	/* A destroyed device's IRQ drivers let go of the line. */
	assert_int_equal(vmm_harness_irq_level(f->h, IRQ), 0);
	assert_non_null(fake(f->h, "again", NULL));
}

static void test_ram_bounds(void **state)
{
	struct fixture *f = *state;
	size_t size = 0;
	uint8_t *ram;

	assert_null(vmm_harness_ram(f->h, &size));
	/* No RAM yet: every access faults. */
	vmm_harness_pio_write(f->h, CTL, 1, 0x50);
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_GUEST_ERROR), 1);

	assert_int_equal(vmm_harness_set_ram(f->h, 4096), 0);
	ram = vmm_harness_ram(f->h, &size);
	assert_non_null(ram);
	assert_int_equal(size, 4096);
	/* Page-aligned and zeroed, as the core's guest RAM is. */
	assert_int_equal((uintptr_t)ram % 4096, 0);
	for (size_t i = 0; i < size; i++)
		assert_int_equal(ram[i], 0);

	/* The last 8 bytes of RAM are in bounds ... */
	vmm_harness_pio_write(f->h, DATA, 8, 0x0807060504030201ULL);
	assert_int_equal(vmm_harness_msr_write(f->h, MSR, 4088), 0);
	vmm_harness_pio_write(f->h, CTL, 1, 0x50);
	assert_int_equal(ram[4088], 0x01);
	assert_int_equal(ram[4095], 0x08);
	ram[4088] = 0x99;
	vmm_harness_pio_write(f->h, CTL, 1, 0x51);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA, 1), 0x99);
	ram[4089] = 0x77;
	vmm_harness_pio_write(f->h, CTL, 1, 0x52);
	assert_int_equal(vmm_harness_pio_read(f->h, DATA + 1, 1), 0x77);
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_GUEST_ERROR), 1);

	/* ... one byte further is not, nor is an address that wraps. */
	assert_int_equal(vmm_harness_msr_write(f->h, MSR, 4089), 0);
	vmm_harness_pio_write(f->h, CTL, 1, 0x50);
	vmm_harness_pio_write(f->h, CTL, 1, 0x51);
	vmm_harness_pio_write(f->h, CTL, 1, 0x52);
	assert_int_equal(vmm_harness_msr_write(f->h, MSR, UINT64_MAX - 3), 0);
	vmm_harness_pio_write(f->h, CTL, 1, 0x51);
	assert_int_equal(vmm_harness_log_count(f->h, VMM_LOG_GUEST_ERROR), 5);
}

static void test_fd_watch(void **state)
{
	struct fixture *f = *state;
	static const char *const watching[] = { "pio_base=0x310", "mmio_base=0x20000000",
						"msr=1", "ctl=0x301", "watch_fd=7", NULL };
	struct vmm_harness_dev *d = fake(f->h, "watcher", watching);

	assert_non_null(d);
	assert_int_equal(vmm_harness_fd_trigger(f->h, 7, VMM_FD_WRITE), 0);
	assert_int_equal(vmm_harness_fd_trigger(f->h, 8, VMM_FD_READ), 0);
	assert_int_equal(vmm_harness_fd_trigger(f->h, 7, VMM_FD_READ), 1);
	assert_string_equal(vmm_harness_char_output(d, NULL), "w");
	/* Destroying the device removed its watch. */
	vmm_harness_destroy_device(d);
	assert_int_equal(vmm_harness_fd_trigger(f->h, 7, VMM_FD_READ), 0);
}

static void test_reset_op_optional(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_harness_reset_device(f->dev), -ENOTSUP);
	assert_non_null(vmm_harness_device_state(f->dev));
}

int main(void)
{
	const char *builddir = getenv("VMM_BUILDDIR");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_back_any_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_access_is_split, setup_access1, teardown),
		cmocka_unit_test_setup_teardown(test_narrow_access_is_refused, setup_access4, teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_and_wrap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_props_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_files_as_vmmctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irq_level_and_raises, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_irq_is_wired_or, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timers_fire_in_deadline_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_char_output_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_char_input_flow_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machine_stop_and_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_unmaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ram_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_op_optional, setup, teardown),
	};

	snprintf(fixture_path, sizeof(fixture_path), "%s/tests/fixtures/.libs/fake-dev.so",
		 builddir ? builddir : ".");
	return cmocka_run_group_tests_name("harness", tests, NULL, NULL);
}
