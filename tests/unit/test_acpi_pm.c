/* tests/unit/test_acpi_pm.c - the ACPI fixed hardware (acpi-pm.so) through
 * the harness: its saved state (ABI 1.12).  The PM1 registers a guest left
 * come back in a fresh instance, and the PM timer, which is the virtual
 * clock, reads on from where it was.  The fixed-feature power button (ABI
 * 1.16, ACPI 6.5 4.8.3.1.1.1 and tables 4.11/4.12): a press sets PWRBTN_STS,
 * the SCI (line 9) is high exactly while PWRBTN_STS and PWRBTN_EN are both
 * set, write 1 to clear ends it, and a saved press comes back with its
 * line. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vmm/harness.h>

#define PM_BASE 0x600
#define PM1_STS (PM_BASE + 0)
#define PM1_EN  (PM_BASE + 2)
#define PM1_CNT (PM_BASE + 4)
#define PM_TMR  (PM_BASE + 8)
#define SCI     9

#define TMR_EN    (1u << 0)
#define GBL_EN    (1u << 5)
#define PWRBTN_EN (1u << 8)
#define PWRBTN_STS (1u << 8)
#define TMR_STS   (1u << 0)
#define WAK_STS   (1u << 15)
#define SCI_EN    (1u << 0)
#define SLP_TYP(t) ((unsigned)(t) << 10)
#define SLP_EN    (1u << 13)

#include "device-fixture.h"
#include "state-record.h"

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, "acpi-pm", "pm");
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

/* Enables set, a refused S3 request that left SLP_TYP and WAK_STS, and
 * the clock at an odd time. */
static void pm_mid_operation(void)
{
	vmm_harness_pio_write(F->h, PM1_EN, 2, TMR_EN | GBL_EN | PWRBTN_EN);
	vmm_harness_pio_write(F->h, PM1_CNT, 2, SLP_TYP(3) | SLP_EN);
	vmm_harness_clock_step(F->h, 1234567);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), WAK_STS);
}

#define PM_SCRIPT_MAX 16

static size_t pm_script(struct vmm_harness *h, uint64_t *v)
{
	size_t n = 0;

	v[n++] = vmm_harness_pio_read(h, PM1_STS, 2);
	v[n++] = vmm_harness_pio_read(h, PM1_EN, 2);
	v[n++] = vmm_harness_pio_read(h, PM1_CNT, 2);
	v[n++] = vmm_harness_pio_read(h, PM_TMR, 4);
	vmm_harness_clock_step(h, 1000000);
	v[n++] = vmm_harness_pio_read(h, PM_TMR, 4);
	vmm_harness_pio_write(h, PM1_STS, 2, WAK_STS);	/* write 1 to clear */
	v[n++] = vmm_harness_pio_read(h, PM1_STS, 2);
	v[n++] = vmm_harness_pio_read(h, PM1_EN, 2);
	return n;
}

static struct vmm_harness *pm_restore_target(struct vmm_harness_dev **dev)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_clock_step(h, vmm_harness_clock_ns(F->h));
	*dev = vmm_harness_create_device(h, "acpi-pm", "pm", NULL);
	assert_non_null(*dev);
	return h;
}

static void test_save_load(void **state)
{
	uint64_t want[PM_SCRIPT_MAX], got[PM_SCRIPT_MAX];
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, n1, n2;
	void *rec;

	pm_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pm_restore_target(&dev2);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	n1 = pm_script(F->h, want);
	n2 = pm_script(h2, got);
	assert_int_equal(n1, n2);
	assert_memory_equal(want, got, n1 * sizeof(want[0]));
	assert_int_equal(want[0], WAK_STS);
	assert_int_equal(want[1], TMR_EN | GBL_EN | PWRBTN_EN);
	assert_int_equal(want[2], SLP_TYP(3) | SCI_EN);
	/* 3.579545 MHz: 1.234567 ms is 4419 ticks, 1 ms later 3579 more */
	assert_int_equal(want[3], 4419);
	assert_int_equal(want[4], 4419 + 3579);
	assert_int_equal(want[5], 0);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_corrupt_fields(void **state)
{
	static const struct record_poke bad[] = {
		{ "pm1_sts", 0, 0x02 },			/* reserved bit 1 */
		{ "pm1_cnt", 1, 0x20 },			/* SLP_EN is write-only */
	};
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, flen;
	uint8_t *rec;

	pm_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	assert_non_null(record_field(rec, len, "pm1_en", &flen));
	assert_int_equal(flen, 2);
	h2 = pm_restore_target(&dev2);
	record_expect_refused(dev2, rec, len, bad, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(vmm_harness_pio_read(h2, PM1_EN, 2), 0);
	record_hide_field(rec, len, "pm1_en");
	assert_int_equal(vmm_harness_load(dev2, rec, len), -ENOENT);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_unknown_version(void **state)
{
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	pm_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pm_restore_target(&dev2);
	record_expect_next_version_refused(dev2, rec, len, 1);
	free(rec);
	vmm_harness_free(h2);
}

/* A press with PWRBTN_EN clear latches the status and leaves the SCI low. */
static void test_power_button_press_latches_status(void **state)
{
	assert_int_equal(vmm_harness_power_button(F->dev), 0);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), PWRBTN_STS);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	assert_int_equal(vmm_harness_irq_raises(F->h, SCI), 0);
	/* A second press before the guest cleared the first changes nothing. */
	assert_int_equal(vmm_harness_power_button(F->dev), 0);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), PWRBTN_STS);
}

/* PWRBTN_EN set: the press raises the SCI, which stays high (level) until
 * the guest writes 1 to PWRBTN_STS; writing 0, or 1 to another bit,
 * leaves it. */
static void test_power_button_sci_follows_status(void **state)
{
	vmm_harness_pio_write(F->h, PM1_EN, 2, PWRBTN_EN);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	assert_int_equal(vmm_harness_power_button(F->dev), 0);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 1);
	assert_int_equal(vmm_harness_irq_raises(F->h, SCI), 1);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), PWRBTN_STS);

	vmm_harness_pio_write(F->h, PM1_STS, 2, 0);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), PWRBTN_STS);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 1);
	vmm_harness_pio_write(F->h, PM1_STS, 2, WAK_STS | TMR_STS);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), PWRBTN_STS);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 1);

	vmm_harness_pio_write(F->h, PM1_STS, 2, PWRBTN_STS);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), 0);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_EN, 2), PWRBTN_EN);

	/* The next press is a new interrupt. */
	assert_int_equal(vmm_harness_power_button(F->dev), 0);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 1);
	assert_int_equal(vmm_harness_irq_raises(F->h, SCI), 2);
	/* PM1_STS and PM1_EN in one 32-bit write: clears and keeps enabled. */
	vmm_harness_pio_write(F->h, PM1_STS, 4, (uint32_t)PWRBTN_EN << 16 | PWRBTN_STS);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_EN, 2), PWRBTN_EN);
}

/* A press while PWRBTN_EN is clear raises the SCI once the guest sets it
 * (the status bit is sticky); clearing the enable lowers it again. */
static void test_power_button_pending_until_enabled(void **state)
{
	assert_int_equal(vmm_harness_power_button(F->dev), 0);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	vmm_harness_pio_write(F->h, PM1_EN, 2, GBL_EN);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	vmm_harness_pio_write(F->h, PM1_EN, 2, PWRBTN_EN);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 1);
	vmm_harness_pio_write(F->h, PM1_EN, 2, 0);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), PWRBTN_STS);
	vmm_harness_pio_write(F->h, PM1_EN, 2, PWRBTN_EN);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 1);
	/* A machine reset forgets the press and drops the line. */
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(vmm_harness_irq_level(F->h, SCI), 0);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2), 0);
}

/* TMR_STS is never set (the timer's carry is not modelled, README): TMR_EN
 * gives no SCI even across the counter's bit-31 flip (600 s). */
static void test_timer_carry_not_raised(void **state)
{
	vmm_harness_pio_write(F->h, PM1_EN, 2, TMR_EN);
	vmm_harness_clock_step(F->h, 1200ull * 1000000000ull);
	assert_int_equal(vmm_harness_pio_read(F->h, PM1_STS, 2) & TMR_STS, 0);
	assert_int_equal(vmm_harness_irq_raises(F->h, SCI), 0);
}

/* A press the guest has not handled is saved: the restored instance holds
 * the SCI high again, and the guest's clear lowers it there.  Without the
 * enable the status comes back and the line stays low. */
static void test_power_button_save_load(void **state)
{
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	void *rec;

	vmm_harness_pio_write(F->h, PM1_EN, 2, PWRBTN_EN);
	assert_int_equal(vmm_harness_power_button(F->dev), 0);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pm_restore_target(&dev2);
	assert_int_equal(vmm_harness_irq_level(h2, SCI), 0);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	assert_int_equal(vmm_harness_irq_level(h2, SCI), 1);
	assert_int_equal(vmm_harness_pio_read(h2, PM1_STS, 2), PWRBTN_STS);
	assert_int_equal(vmm_harness_pio_read(h2, PM1_EN, 2), PWRBTN_EN);
	vmm_harness_pio_write(h2, PM1_STS, 2, PWRBTN_STS);
	assert_int_equal(vmm_harness_irq_level(h2, SCI), 0);
	free(rec);
	vmm_harness_free(h2);

	vmm_harness_pio_write(F->h, PM1_EN, 2, 0);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pm_restore_target(&dev2);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	assert_int_equal(vmm_harness_irq_level(h2, SCI), 0);
	assert_int_equal(vmm_harness_pio_read(h2, PM1_STS, 2), PWRBTN_STS);
	vmm_harness_pio_write(h2, PM1_EN, 2, PWRBTN_EN);
	assert_int_equal(vmm_harness_irq_level(h2, SCI), 1);
	free(rec);
	vmm_harness_free(h2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_save_load),
		T(test_load_refuses_corrupt_fields),
		T(test_load_refuses_unknown_version),
		T(test_power_button_press_latches_status),
		T(test_power_button_sci_follows_status),
		T(test_power_button_pending_until_enabled),
		T(test_timer_carry_not_raised),
		T(test_power_button_save_load),
	};

	return cmocka_run_group_tests_name("acpi-pm", tests, NULL, NULL);
}
