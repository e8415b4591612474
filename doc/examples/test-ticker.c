/* SPDX-License-Identifier: MIT */
/*
 * test-ticker.c - unit tests of ticker.so on the installed harness, built with
 *   cc $(pkg-config --cflags cmocka vmm-harness) -o test-ticker test-ticker.c \
 *      $(pkg-config --libs cmocka vmm-harness)
 * and run with VMM_PLUGIN_PATH naming the directory of ticker.so.  The test
 * plays the guest (port reads and writes) and the passing of time (the
 * virtual clock moves only when the test steps it), so every run is the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <vmm/harness.h>

#define BASE 0x520
#define IRQ 5
#define MS 1000000ull

enum { CTRL = 0, PERIOD = 1, STATUS = 2, COUNT = 3 };

static const char *const props[] = { "base=0x520", "irq=5", NULL };

static int setup(void **state)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	/* By name, found as vmmctl finds it: ticker.so on $VMM_PLUGIN_PATH. */
	assert_non_null(vmm_harness_create_device(h, "ticker", "tick0", props));
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	vmm_harness_free(*state);
	return 0;
}

static void test_ticks_raise_the_line_until_cleared(void **state)
{
	struct vmm_harness *h = *state;

	vmm_harness_pio_write(h, BASE + PERIOD, 1, 2);
	vmm_harness_pio_write(h, BASE + CTRL, 1, 1);
	vmm_harness_clock_step(h, 2 * MS - 1);
	assert_int_equal(vmm_harness_pio_read(h, BASE + COUNT, 1), 0);
	assert_int_equal(vmm_harness_irq_level(h, IRQ), 0);

	vmm_harness_clock_step(h, 1);
	assert_int_equal(vmm_harness_pio_read(h, BASE + COUNT, 1), 1);
	assert_int_equal(vmm_harness_pio_read(h, BASE + STATUS, 1), 1);
	assert_int_equal(vmm_harness_irq_level(h, IRQ), 1);

	/* Level-triggered: it stays high through more ticks ... */
	vmm_harness_clock_step(h, 4 * MS);
	assert_int_equal(vmm_harness_pio_read(h, BASE + COUNT, 1), 3);
	assert_int_equal(vmm_harness_irq_raises(h, IRQ), 1);
	/* ... until the guest clears STATUS. */
	vmm_harness_pio_write(h, BASE + STATUS, 1, 1);
	assert_int_equal(vmm_harness_irq_level(h, IRQ), 0);
	assert_int_equal(vmm_harness_pio_read(h, BASE + STATUS, 1), 0);
}

static void test_stop_and_reset(void **state)
{
	struct vmm_harness *h = *state;

	vmm_harness_pio_write(h, BASE + PERIOD, 1, 1);
	vmm_harness_pio_write(h, BASE + CTRL, 1, 1);
	vmm_harness_clock_step(h, 5 * MS);
	vmm_harness_pio_write(h, BASE + CTRL, 1, 0);
	vmm_harness_clock_step(h, 100 * MS);
	assert_int_equal(vmm_harness_pio_read(h, BASE + COUNT, 1), 5);

	struct vmm_harness_dev *dev = vmm_harness_create_device(h, "ticker", "tick1",
		(const char *const[]){ "base=0x530", "irq=6", NULL });
	assert_non_null(dev);
	vmm_harness_pio_write(h, 0x530 + CTRL, 1, 1);
	vmm_harness_clock_step(h, 10 * MS); /* reset's period: 10 ms */
	assert_int_equal(vmm_harness_irq_level(h, 6), 1);
	assert_int_equal(vmm_harness_reset_device(dev), 0);
	assert_int_equal(vmm_harness_irq_level(h, 6), 0);
	assert_int_equal(vmm_harness_pio_read(h, 0x530 + COUNT, 1), 0);
}

static void test_guest_errors(void **state)
{
	struct vmm_harness *h = *state;

	/* COUNT is read-only: the write is the guest's error, logged. */
	vmm_harness_pio_write(h, BASE + COUNT, 1, 7);
	assert_int_equal(vmm_harness_log_count(h, VMM_LOG_GUEST_ERROR), 1);
	/* A 2-byte access is narrower than nothing but wider than the
	 * region's 1: the bus splits it into two 1-byte accesses. */
	vmm_harness_pio_write(h, BASE + CTRL, 2, 0x0300); /* CTRL 0, PERIOD 3 */
	assert_int_equal(vmm_harness_pio_read(h, BASE + PERIOD, 1), 3);
	assert_int_equal(vmm_harness_pio_read(h, BASE + 4, 1), 0xff); /* nobody there */
	assert_int_equal(vmm_harness_unclaimed_count(h), 1);
}

static void test_properties_are_checked(void **state)
{
	struct vmm_harness *h = *state;

	/* Refused before create() runs, as a config would be. */
	assert_null(vmm_harness_create_device(h, "ticker", "bad",
		(const char *const[]){ "irq=24", NULL }));
	assert_null(vmm_harness_create_device(h, "ticker", "bad",
		(const char *const[]){ "speed=3", NULL }));
	/* Overlapping the first instance's ports: create() fails. */
	assert_null(vmm_harness_create_device(h, "ticker", "bad",
		(const char *const[]){ "base=0x522", NULL }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ticks_raise_the_line_until_cleared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_properties_are_checked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
