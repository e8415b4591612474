/* tests/unit/test_pl031.c - the PL031 RTC, register by register, through
 * the harness and the real pl031.so.  The counter starts at a fixed epoch
 * second (the `start` property) so every value is known; the harness's
 * virtual clock makes the seconds pass, so nothing sleeps. */
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
#include <time.h>
#include <cmocka.h>

#include <vmm/harness.h>
#include "devices/pl031/pl031.h"

#define BASE 0x09010000ULL
#define IRQ 34
#define SEC 1000000000ULL
#define T0 1700000000u /* 2023-11-14 22:13:20 UTC */

#include "device-fixture.h"

static struct vmm_harness_dev *create(const char *start)
{
	char opt[64];
	const char *props[] = { "base=0x09010000", "irq=34", opt, NULL };

	snprintf(opt, sizeof(opt), "start=%s", start);
	return vmm_harness_create_device(F->h, "pl031", "rtc", props);
}

static int setup(void **state)
{
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	F->dev = create("1700000000");
	assert_non_null(F->dev);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void wr(unsigned reg, uint32_t value)
{
	vmm_harness_mmio_write(F->h, BASE + reg, 4, value);
}

static uint32_t rd(unsigned reg)
{
	return (uint32_t)vmm_harness_mmio_read(F->h, BASE + reg, 4);
}

static int irq(void)
{
	return vmm_harness_irq_level(F->h, IRQ);
}

static void step(uint64_t ns)
{
	vmm_harness_clock_step(F->h, ns);
}

static unsigned long guest_errors(void)
{
	return vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR);
}

static void test_primecell_ids(void **state)
{
	static const uint8_t ids[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	uint32_t periph = 0, cell = 0;

	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(rd(PL031_PERIPH_ID0 + 4 * i), ids[i]);
		assert_int_equal(rd(PL031_PCELL_ID0 + 4 * i), ids[4 + i]);
		periph |= rd(PL031_PERIPH_ID0 + 4 * i) << (8 * i);
		cell |= rd(PL031_PCELL_ID0 + 4 * i) << (8 * i);
	}
	/* What Linux's AMBA bus matches rtc-pl031 with. */
	assert_int_equal(periph & 0x000fffff, 0x00041031);
	assert_int_equal(cell, 0xb105f00d);
}

static void test_power_on_values(void **state)
{
	assert_int_equal(rd(PL031_DR), T0);
	assert_int_equal(rd(PL031_LR), T0);
	assert_int_equal(rd(PL031_MR), 0);
	assert_int_equal(rd(PL031_CR), PL031_CR_START);
	assert_int_equal(rd(PL031_IMSC), 0);
	assert_int_equal(rd(PL031_RIS), 0);
	assert_int_equal(rd(PL031_MIS), 0);
	assert_int_equal(rd(PL031_ICR), 0);
	assert_int_equal(irq(), 0);
}

static void test_counter_follows_virtual_clock(void **state)
{
	step(SEC - 1);
	assert_int_equal(rd(PL031_DR), T0);
	step(1);
	assert_int_equal(rd(PL031_DR), T0 + 1);
	step(3600 * SEC);
	assert_int_equal(rd(PL031_DR), T0 + 3601);
	/* Reading does not disturb it. */
	assert_int_equal(rd(PL031_DR), T0 + 3601);
}

static void test_load(void **state)
{
	step(SEC / 2);
	wr(PL031_LR, 1000);
	assert_int_equal(rd(PL031_DR), 1000);
	assert_int_equal(rd(PL031_LR), 1000);
	/* CLK1HZ keeps its phase: the next edge is half a second away. */
	step(SEC / 2 - 1);
	assert_int_equal(rd(PL031_DR), 1000);
	step(1);
	assert_int_equal(rd(PL031_DR), 1001);
	step(10 * SEC);
	assert_int_equal(rd(PL031_DR), 1011);
	/* RTCLR keeps what was written, the counter moves on. */
	assert_int_equal(rd(PL031_LR), 1000);
}

static void test_counter_wraps(void **state)
{
	wr(PL031_LR, 0xffffffff);
	step(SEC);
	assert_int_equal(rd(PL031_DR), 0);
	step(SEC);
	assert_int_equal(rd(PL031_DR), 1);
}

static void test_start_bit_sticks(void **state)
{
	wr(PL031_CR, 0);
	assert_int_equal(rd(PL031_CR), PL031_CR_START);
	step(SEC);
	assert_int_equal(rd(PL031_DR), T0 + 1);
}

static void test_match_interrupt(void **state)
{
	wr(PL031_MR, T0 + 5);
	wr(PL031_IMSC, PL031_INT);
	assert_int_equal(rd(PL031_MR), T0 + 5);
	step(5 * SEC - 1);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL031_RIS), 0);
	step(1);
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL031_RIS), PL031_INT);
	assert_int_equal(rd(PL031_MIS), PL031_INT);
	assert_int_equal(vmm_harness_irq_raises(F->h, IRQ), 1);
	/* Cleared by RTCICR, and it stays clear though the counter still
	 * equals RTCMR for the rest of the second ... */
	wr(PL031_ICR, PL031_INT);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL031_RIS), 0);
	step(SEC / 2);
	assert_int_equal(rd(PL031_DR), T0 + 5);
	assert_int_equal(rd(PL031_RIS), 0);
	assert_int_equal(irq(), 0);
	/* ... and after it. */
	step(100 * SEC);
	assert_int_equal(irq(), 0);
	assert_int_equal(vmm_harness_irq_raises(F->h, IRQ), 1);
}

static void test_match_raw_while_masked(void **state)
{
	wr(PL031_MR, T0 + 2);
	step(2 * SEC);
	/* RTCRIS is raw: set whatever the mask; the line and MIS follow it. */
	assert_int_equal(rd(PL031_RIS), PL031_INT);
	assert_int_equal(rd(PL031_MIS), 0);
	assert_int_equal(irq(), 0);
	wr(PL031_IMSC, PL031_INT);
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL031_IMSC), PL031_INT);
	wr(PL031_IMSC, 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL031_RIS), PL031_INT);
}

static void test_unmasking_after_an_unseen_match(void **state)
{
	/* No timer runs while masked and nothing reads the device: the match
	 * still counts, found from the clock at the next access. */
	wr(PL031_MR, T0 + 2);
	step(3 * SEC);
	assert_int_equal(irq(), 0);
	wr(PL031_IMSC, PL031_INT);
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL031_MIS), PL031_INT);
}

static void test_reset_forgets_an_unseen_match(void **state)
{
	wr(PL031_MR, T0 + 2);
	step(3 * SEC);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(rd(PL031_RIS), 0);
	wr(PL031_IMSC, PL031_INT);
	assert_int_equal(irq(), 0);
}

static void test_match_written_equal_to_counter(void **state)
{
	wr(PL031_IMSC, PL031_INT);
	step(SEC / 4);
	/* An alarm set for the current second has been reached. */
	wr(PL031_MR, T0);
	assert_int_equal(irq(), 1);
	wr(PL031_ICR, PL031_INT);
	assert_int_equal(irq(), 0);
}

static void test_load_onto_match(void **state)
{
	wr(PL031_MR, 5000);
	wr(PL031_IMSC, PL031_INT);
	assert_int_equal(irq(), 0);
	wr(PL031_LR, 5000);
	assert_int_equal(irq(), 1);
	wr(PL031_ICR, PL031_INT);
	/* Loading below the match moves the alarm with it. */
	wr(PL031_LR, 4998);
	step(2 * SEC - 1);
	assert_int_equal(irq(), 0);
	step(1);
	assert_int_equal(irq(), 1);
}

static void test_match_moved_before_it_fires(void **state)
{
	wr(PL031_IMSC, PL031_INT);
	wr(PL031_MR, T0 + 10);
	step(3 * SEC);
	wr(PL031_MR, T0 + 5);
	step(2 * SEC - 1);
	assert_int_equal(irq(), 0);
	step(1);
	assert_int_equal(irq(), 1);
	wr(PL031_ICR, PL031_INT);
	/* The old match time passes without an interrupt. */
	step(10 * SEC);
	assert_int_equal(irq(), 0);
}

static void test_match_across_wrap(void **state)
{
	wr(PL031_LR, 0xfffffffe);
	wr(PL031_MR, 1);
	wr(PL031_IMSC, PL031_INT);
	step(3 * SEC - 1);
	assert_int_equal(irq(), 0);
	step(1);
	assert_int_equal(rd(PL031_DR), 1);
	assert_int_equal(irq(), 1);
}

static void test_icr_any_value_clears(void **state)
{
	wr(PL031_IMSC, PL031_INT);
	wr(PL031_MR, T0);
	assert_int_equal(irq(), 1);
	wr(PL031_ICR, 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL031_RIS), 0);
}

static void test_reset(void **state)
{
	wr(PL031_LR, 2000);
	wr(PL031_MR, 2003);
	wr(PL031_IMSC, PL031_INT);
	wr(PL031_MR, 2000);
	assert_int_equal(irq(), 1);
	wr(PL031_MR, 2003);

	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL031_IMSC), 0);
	assert_int_equal(rd(PL031_RIS), 0);
	/* The clock's own domain keeps running through a machine reset. */
	assert_int_equal(rd(PL031_CR), PL031_CR_START);
	assert_int_equal(rd(PL031_LR), 2000);
	assert_int_equal(rd(PL031_MR), 2003);
	step(3 * SEC);
	assert_int_equal(rd(PL031_DR), 2003);
	assert_int_equal(rd(PL031_RIS), PL031_INT);
	assert_int_equal(irq(), 0);
}

static void test_read_only_and_reserved(void **state)
{
	unsigned long errors = guest_errors();

	wr(PL031_DR, 5);
	wr(PL031_RIS, 1);
	wr(PL031_MIS, 1);
	wr(PL031_PERIPH_ID0, 0);
	assert_int_equal(rd(PL031_DR), T0);
	assert_int_equal(rd(PL031_RIS), 0);
	assert_int_equal(rd(PL031_PERIPH_ID0), 0x31);
	assert_int_equal(guest_errors(), errors + 4);
	wr(0x020, 1);
	assert_int_equal(rd(0x020), 0);
	assert_int_equal(rd(0xfdc), 0);
	assert_int_equal(guest_errors(), errors + 5);
}

static void test_only_word_access(void **state)
{
	unsigned long errors = guest_errors();

	assert_int_equal(vmm_harness_mmio_read(F->h, BASE + PL031_PERIPH_ID0, 1), 0xff);
	assert_int_equal(guest_errors(), errors + 1);
	/* A 64-bit read is two registers: RTCDR, then RTCMR. */
	wr(PL031_MR, 0x1234);
	assert_int_equal(vmm_harness_mmio_read(F->h, BASE + PL031_DR, 8),
			 (0x1234ULL << 32) | T0);
}

/* The host's wall clock the way the device reads it: time() uses the
 * coarse clock, which can still say second N for a few milliseconds after
 * CLOCK_REALTIME says N + 1, and then the bounds below would miss. */
static time_t realtime_now(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return ts.tv_sec;
}

static void test_start_from_host_clock(void **state)
{
	time_t before, after;
	uint32_t dr;
	struct tm tm;

	vmm_harness_destroy_device(F->dev);
	before = realtime_now();
	F->dev = create("utc");
	after = realtime_now();
	assert_non_null(F->dev);
	dr = rd(PL031_DR);
	assert_true(dr >= (uint32_t)before && dr <= (uint32_t)after);

	vmm_harness_destroy_device(F->dev);
	before = realtime_now();
	F->dev = create("localtime");
	after = realtime_now();
	assert_non_null(F->dev);
	assert_non_null(localtime_r(&after, &tm));
	dr = rd(PL031_DR);
	assert_true(dr >= (uint32_t)(before + tm.tm_gmtoff) && dr <= (uint32_t)(after + tm.tm_gmtoff));
}

static void test_start_property(void **state)
{
	static const char *const bad[] = { "tomorrow", "-1", "4294967296", "", "12x", "0x" };

	vmm_harness_destroy_device(F->dev);
	F->dev = create("0x10");
	assert_non_null(F->dev);
	assert_int_equal(rd(PL031_DR), 16);
	vmm_harness_destroy_device(F->dev);
	F->dev = create("4294967295");
	assert_non_null(F->dev);
	assert_int_equal(rd(PL031_DR), 0xffffffff);
	vmm_harness_destroy_device(F->dev);
	F->dev = NULL;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(create(bad[i]));
}

static void test_properties(void **state)
{
	static const char *const no_base[] = { "irq=40", NULL };
	static const char *const no_irq[] = { "base=0x09011000", NULL };
	static const char *const unaligned[] = { "base=0x09011004", "irq=40", NULL };
	static const char *const clash[] = { "base=0x09010000", "irq=40", NULL };
	static const char *const other[] = { "base=0x09011000", "irq=40", "start=42", NULL };

	assert_null(vmm_harness_create_device(F->h, "pl031", "x", no_base));
	assert_null(vmm_harness_create_device(F->h, "pl031", "x", no_irq));
	assert_null(vmm_harness_create_device(F->h, "pl031", "x", unaligned));
	assert_null(vmm_harness_create_device(F->h, "pl031", "x", clash));
	assert_non_null(vmm_harness_create_device(F->h, "pl031", "rtc1", other));
	assert_int_equal(vmm_harness_mmio_read(F->h, 0x09011000 + PL031_DR, 4), 42);
	assert_int_equal(rd(PL031_DR), T0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- Saved state (ABI 1.12) ---- */

/* Save F's RTC and load it into a fresh one of the same config in a new
 * harness whose clock continues from F's.  Returns the new fixture. */
static struct fixture *twin_loaded(int expect)
{
	struct fixture *orig = F, *f2 = calloc(1, sizeof(*f2));
	size_t len;
	uint8_t *rec = vmm_harness_save(F->dev, &len);

	assert_non_null(rec);
	assert_non_null(f2);
	f2->h = vmm_harness_new();
	vmm_harness_set_irq_mode(f2->h, VMM_IRQ_EMULATED);
	vmm_harness_clock_step(f2->h, vmm_harness_clock_ns(orig->h));
	F = f2;
	f2->dev = create("1700000000");
	F = orig;
	assert_non_null(f2->dev);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), expect);
	free(rec);
	return f2;
}

static void twin_free(struct fixture *f2)
{
	vmm_harness_free(f2->h);
	free(f2);
}

struct rtc_view {
	uint32_t dr, mr, lr, imsc, ris, mis;
	int irq;
};

static struct rtc_view view(void)
{
	return (struct rtc_view){ rd(PL031_DR), rd(PL031_MR), rd(PL031_LR), rd(PL031_IMSC),
				  rd(PL031_RIS), rd(PL031_MIS), irq() };
}

static void view_equal(struct rtc_view a, struct rtc_view b)
{
	assert_int_equal(a.dr, b.dr);
	assert_int_equal(a.mr, b.mr);
	assert_int_equal(a.lr, b.lr);
	assert_int_equal(a.imsc, b.imsc);
	assert_int_equal(a.ris, b.ris);
	assert_int_equal(a.mis, b.mis);
	assert_int_equal(a.irq, b.irq);
}

/* A loaded counter, a match armed 2 s ahead, unmasked, mid-second: the
 * restored RTC counts, matches and interrupts at the same virtual times. */
static void test_save_load_continues(void **state)
{
	step(SEC * 3 / 10);
	wr(PL031_LR, T0 + 100);
	wr(PL031_MR, T0 + 102);
	wr(PL031_IMSC, PL031_INT);
	step(SEC / 2);
	struct fixture *orig = F, *f2 = twin_loaded(0);

	for (unsigned i = 0; i < 30; i++) {
		struct rtc_view a, b;

		step(SEC / 10);
		a = view();
		F = f2;
		step(SEC / 10);
		b = view();
		F = orig;
		view_equal(a, b);
		if (a.ris) {
			wr(PL031_ICR, 1);
			F = f2;
			wr(PL031_ICR, 1);
			F = orig;
		}
	}
	assert_int_equal(vmm_harness_irq_raises(F->h, IRQ), 1);
	assert_int_equal(vmm_harness_irq_raises(f2->h, IRQ), 1);
	assert_int_equal(vmm_harness_log_count(f2->h, VMM_LOG_ERROR), 0);
	twin_free(f2);
}

/* The line the saved RTC held is raised again by load. */
static void test_save_load_raises_held_line(void **state)
{
	wr(PL031_MR, rd(PL031_DR));
	wr(PL031_IMSC, PL031_INT);
	assert_int_equal(irq(), 1);
	struct fixture *orig = F, *f2 = twin_loaded(0);

	F = f2;
	assert_int_equal(vmm_harness_irq_level(f2->h, IRQ), 1);
	assert_int_equal(rd(PL031_MIS), PL031_INT);
	wr(PL031_ICR, 1);
	assert_int_equal(irq(), 0);
	F = orig;
	twin_free(f2);
}

/* A match that passed while masked (no timer armed) is still found by the
 * restored RTC's next access, as by the original's. */
static void test_save_load_masked_match(void **state)
{
	wr(PL031_MR, T0 + 1);
	step(SEC * 3 / 2);
	struct fixture *orig = F, *f2 = twin_loaded(0);

	assert_int_equal(rd(PL031_RIS), PL031_INT);
	F = f2;
	assert_int_equal(rd(PL031_RIS), PL031_INT);
	assert_int_equal(irq(), 0);
	F = orig;
	twin_free(f2);
}

/* Field @name of record @rec (layout of core/state.h). */
static uint8_t *field(uint8_t *rec, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + 1 + n + 4 <= len; i++)
		if (rec[i] == n && !memcmp(rec + i + 1, name, n))
			return rec + i + 1 + n + 4;
	fail_msg("no field %s", name);
	return NULL;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* What no running RTC holds is refused, with a line naming the field. */
static void test_load_refuses_corrupt_state(void **state)
{
	size_t len;

	step(SEC * 5 / 2);
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	struct fixture *orig = F, *f2 = twin_loaded(0);
	uint8_t *copy = malloc(len);
	uint64_t now = vmm_harness_clock_ns(F->h);
	unsigned long errs;

	assert_non_null(copy);
	for (int k = 0; k < 6; k++) {
		memcpy(copy, rec, len);
		switch (k) {
		case 0: *field(copy, len, "imsc") = 2; break;
		case 1: *field(copy, len, "ris") = 0x81; break;
		/* An anchor in the future, on the match's second edges. */
		case 2: put64(field(copy, len, "edge0_ns"), now + SEC / 2); break;
		case 3: put64(field(copy, len, "match_ns"), now + SEC / 2 + 1); break;
		case 4: put64(field(copy, len, "match_ns"), now + (6ULL << 32) * SEC); break;
		case 5: put64(field(copy, len, "edge0_ns"), (uint64_t)INT64_MIN); break;
		}
		errs = vmm_harness_log_count(f2->h, VMM_LOG_ERROR);
		assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EINVAL);
		assert_int_equal(vmm_harness_log_count(f2->h, VMM_LOG_ERROR), errs + 1);
	}
	memcpy(copy, rec, len);
	copy[9 + copy[8] + 1 + copy[9 + copy[8]]] = 2;
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EPROTO);
	/* Nothing stuck: the good record still loads. */
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	F = f2;
	assert_int_equal(rd(PL031_DR), T0 + 2);
	F = orig;
	free(copy);
	free(rec);
	twin_free(f2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_primecell_ids),
		T(test_save_load_continues),
		T(test_save_load_raises_held_line),
		T(test_save_load_masked_match),
		T(test_load_refuses_corrupt_state),
		T(test_power_on_values),
		T(test_counter_follows_virtual_clock),
		T(test_load),
		T(test_counter_wraps),
		T(test_start_bit_sticks),
		T(test_match_interrupt),
		T(test_match_raw_while_masked),
		T(test_unmasking_after_an_unseen_match),
		T(test_reset_forgets_an_unseen_match),
		T(test_match_written_equal_to_counter),
		T(test_load_onto_match),
		T(test_match_moved_before_it_fires),
		T(test_match_across_wrap),
		T(test_icr_any_value_clears),
		T(test_reset),
		T(test_read_only_and_reserved),
		T(test_only_word_access),
		T(test_start_from_host_clock),
		T(test_start_property),
		T(test_properties),
	};

	return cmocka_run_group_tests_name("pl031", tests, NULL, NULL);
}
