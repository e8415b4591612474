/* tests/unit/test_cmos_rtc.c - the MC146818A RTC, register by register,
 * through the harness and the real cmos-rtc.so.  Each test is a datasheet
 * sentence: write these registers, step this much virtual time, expect
 * this register value and this IRQ level. */
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
#include "devices/cmos-rtc/rtc.h"

#define RTC_IRQ 8
#define MS 1000000ULL
#define SEC 1000000000ULL

#include "device-fixture.h"
#include "state-record.h"

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, "cmos-rtc", "rtc");
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void cmos_write(uint8_t addr, uint8_t value)
{
	vmm_harness_pio_write(F->h, 0x70, 1, addr);
	vmm_harness_pio_write(F->h, 0x71, 1, value);
}

static uint8_t cmos_read(uint8_t addr)
{
	vmm_harness_pio_write(F->h, 0x70, 1, addr);
	return (uint8_t)vmm_harness_pio_read(F->h, 0x71, 1);
}

static void step(uint64_t ns)
{
	vmm_harness_clock_step(F->h, ns);
}

static int irq(void)
{
	return vmm_harness_irq_level(F->h, RTC_IRQ);
}

/* Set the clock with SET held, in whatever format @mode_b selects, then
 * let it run in that format. */
static void set_time(uint8_t mode_b, uint8_t cent, uint8_t year, uint8_t mon, uint8_t day,
		     uint8_t hour, uint8_t min, uint8_t sec)
{
	cmos_write(RTC_REG_B, (uint8_t)(mode_b | RTC_B_SET));
	cmos_write(RTC_CENTURY, cent);
	cmos_write(RTC_YEAR, year);
	cmos_write(RTC_MONTH, mon);
	cmos_write(RTC_DAY_OF_MONTH, day);
	cmos_write(RTC_HOURS, hour);
	cmos_write(RTC_MINUTES, min);
	cmos_write(RTC_SECONDS, sec);
	cmos_write(RTC_REG_B, mode_b);
}

static void test_power_on_registers(void **state)
{
	assert_int_equal(cmos_read(RTC_REG_A), 0x26);
	assert_int_equal(cmos_read(RTC_REG_B), RTC_B_24H);
	assert_int_equal(cmos_read(RTC_REG_C), 0x00);
	assert_int_equal(cmos_read(RTC_REG_D), RTC_D_VRT);
	assert_int_equal(irq(), 0);
	/* The host clock seeds the date: this century, valid BCD. */
	assert_int_equal(cmos_read(RTC_CENTURY), 0x20);
	assert_true((cmos_read(RTC_SECONDS) & 0x0f) <= 9);
	assert_true(cmos_read(RTC_SECONDS) <= 0x59);
}

static void test_bcd_time_and_date(void **state)
{
	set_time(RTC_B_24H, 0x20, 0x24, 0x02, 0x29, 0x13, 0x45, 0x56);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x56);
	assert_int_equal(cmos_read(RTC_MINUTES), 0x45);
	assert_int_equal(cmos_read(RTC_HOURS), 0x13);
	assert_int_equal(cmos_read(RTC_DAY_OF_MONTH), 0x29);
	assert_int_equal(cmos_read(RTC_MONTH), 0x02);
	assert_int_equal(cmos_read(RTC_YEAR), 0x24);
	assert_int_equal(cmos_read(RTC_CENTURY), 0x20);
	assert_int_equal(cmos_read(RTC_DAY_OF_WEEK), 5); /* 2024-02-29: Thursday, Sunday = 1 */
}

static void test_binary_mode_and_conversion(void **state)
{
	set_time(RTC_B_24H | RTC_B_DM, 20, 99, 12, 31, 23, 59, 58);
	assert_int_equal(cmos_read(RTC_SECONDS), 58);
	assert_int_equal(cmos_read(RTC_MINUTES), 59);
	assert_int_equal(cmos_read(RTC_HOURS), 23);
	assert_int_equal(cmos_read(RTC_DAY_OF_MONTH), 31);
	assert_int_equal(cmos_read(RTC_MONTH), 12);
	assert_int_equal(cmos_read(RTC_YEAR), 99);
	assert_int_equal(cmos_read(RTC_CENTURY), 20);
	/* The same time read back in BCD. */
	cmos_write(RTC_REG_B, RTC_B_24H);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x58);
	assert_int_equal(cmos_read(RTC_HOURS), 0x23);
	assert_int_equal(cmos_read(RTC_YEAR), 0x99);
	/* Two seconds later: the century rolls over. */
	step(2 * SEC);
	assert_int_equal(cmos_read(RTC_YEAR), 0x00);
	assert_int_equal(cmos_read(RTC_CENTURY), 0x21);
	assert_int_equal(cmos_read(RTC_MONTH), 0x01);
	assert_int_equal(cmos_read(RTC_DAY_OF_MONTH), 0x01);
	assert_int_equal(cmos_read(RTC_HOURS), 0x00);
}

static void expect_12h(uint8_t b, uint8_t hour24, uint8_t expect)
{
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	cmos_write(RTC_HOURS, hour24);
	cmos_write(RTC_REG_B, b);
	assert_int_equal(cmos_read(RTC_HOURS), expect);
}

static void test_12_hour_mode(void **state)
{
	expect_12h(0, 0x00, 0x12);               /* midnight: 12 AM */
	expect_12h(0, 0x01, 0x01);
	expect_12h(0, 0x11, 0x11);
	expect_12h(0, 0x12, 0x92);               /* noon: 12 PM */
	expect_12h(0, 0x13, 0x81);
	expect_12h(0, 0x23, 0x91);
	expect_12h(RTC_B_DM, 0x12, 0x8c);        /* binary: PM | 12 */
	expect_12h(RTC_B_DM, 0x00, 0x0c);

	/* Writes in 12-hour mode. */
	cmos_write(RTC_REG_B, RTC_B_SET);
	cmos_write(RTC_HOURS, 0x12);             /* 12 AM */
	cmos_write(RTC_REG_B, RTC_B_24H);
	assert_int_equal(cmos_read(RTC_HOURS), 0x00);
	cmos_write(RTC_REG_B, RTC_B_SET);
	cmos_write(RTC_HOURS, 0x92);             /* 12 PM */
	cmos_write(RTC_REG_B, RTC_B_24H);
	assert_int_equal(cmos_read(RTC_HOURS), 0x12);
	cmos_write(RTC_REG_B, RTC_B_SET);
	cmos_write(RTC_HOURS, 0x87);             /* 7 PM */
	cmos_write(RTC_REG_B, RTC_B_24H);
	assert_int_equal(cmos_read(RTC_HOURS), 0x19);

	/* 11:59:59 AM becomes 12:00:00 PM. */
	set_time(0, 0x20, 0x24, 0x06, 0x01, 0x11, 0x59, 0x59);
	step(SEC);
	assert_int_equal(cmos_read(RTC_HOURS), 0x92);
	assert_int_equal(cmos_read(RTC_MINUTES), 0x00);
}

static void test_time_advances_with_virtual_clock(void **state)
{
	set_time(RTC_B_24H, 0x20, 0x23, 0x12, 0x31, 0x23, 0x59, 0x30);
	step(61 * SEC);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x31);
	assert_int_equal(cmos_read(RTC_MINUTES), 0x00);
	assert_int_equal(cmos_read(RTC_HOURS), 0x00);
	assert_int_equal(cmos_read(RTC_DAY_OF_MONTH), 0x01);
	assert_int_equal(cmos_read(RTC_MONTH), 0x01);
	assert_int_equal(cmos_read(RTC_YEAR), 0x24);
	assert_int_equal(cmos_read(RTC_DAY_OF_WEEK), 2); /* 2024-01-01: Monday */
	/* Half a second more is not an update. */
	step(SEC / 2);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x31);
}

static void test_set_stops_updates(void **state)
{
	set_time(RTC_B_24H, 0x20, 0x24, 0x01, 0x01, 0x10, 0x00, 0x00);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	step(5 * SEC);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x00);
	cmos_write(RTC_REG_B, RTC_B_24H);
	step(SEC);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x01);
}

static void test_leap_years(void **state)
{
	set_time(RTC_B_24H, 0x20, 0x24, 0x02, 0x28, 0x23, 0x59, 0x59);
	step(SEC);
	assert_int_equal(cmos_read(RTC_DAY_OF_MONTH), 0x29);
	assert_int_equal(cmos_read(RTC_MONTH), 0x02);

	set_time(RTC_B_24H, 0x21, 0x00, 0x02, 0x28, 0x23, 0x59, 0x59); /* 2100: not leap */
	step(SEC);
	assert_int_equal(cmos_read(RTC_DAY_OF_MONTH), 0x01);
	assert_int_equal(cmos_read(RTC_MONTH), 0x03);

	set_time(RTC_B_24H, 0x20, 0x00, 0x02, 0x28, 0x23, 0x59, 0x59); /* 2000: leap */
	step(SEC);
	assert_int_equal(cmos_read(RTC_DAY_OF_MONTH), 0x29);
}

static void test_day_of_week_write_is_kept(void **state)
{
	set_time(RTC_B_24H, 0x20, 0x24, 0x01, 0x01, 0x23, 0x59, 0x59); /* Monday */
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	cmos_write(RTC_DAY_OF_WEEK, 7);
	cmos_write(RTC_REG_B, RTC_B_24H);
	assert_int_equal(cmos_read(RTC_DAY_OF_WEEK), 7);
	step(SEC);
	assert_int_equal(cmos_read(RTC_DAY_OF_WEEK), 1); /* wraps 7 -> 1 at midnight */
}

static void test_uip_window(void **state)
{
	/* The divider started at clock 0: updates fall on whole seconds. */
	step(SEC - RTC_UIP_NS - 1);
	assert_int_equal(cmos_read(RTC_REG_A) & RTC_A_UIP, 0);
	step(1);
	assert_int_equal(cmos_read(RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	step(RTC_UIP_NS - 1);
	assert_int_equal(cmos_read(RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	step(1);
	assert_int_equal(cmos_read(RTC_REG_A) & RTC_A_UIP, 0);
	/* No updates while SET: no UIP either. */
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_SET);
	step(SEC - RTC_UIP_NS);
	assert_int_equal(cmos_read(RTC_REG_A) & RTC_A_UIP, 0);
	/* UIP is read-only. */
	cmos_write(RTC_REG_A, 0xa6);
	assert_int_equal(cmos_read(RTC_REG_A), 0x26);
}

/* Step @total in @quantum slices, acknowledging after each; count raises. */
static unsigned count_raises(uint64_t total, uint64_t quantum)
{
	unsigned before = vmm_harness_irq_raises(F->h, RTC_IRQ);

	for (uint64_t t = 0; t < total; t += quantum) {
		step(quantum);
		(void)cmos_read(RTC_REG_C);
	}
	return vmm_harness_irq_raises(F->h, RTC_IRQ) - before;
}

static void test_periodic_1024hz(void **state)
{
	(void)cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_A, RTC_A_DV_32K | 6);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	assert_int_equal(count_raises(SEC, 100000), 1024);
}

static void test_periodic_rates(void **state)
{
	static const struct { uint8_t rs; unsigned hz; } rates[] = {
		{ 1, 256 }, { 2, 128 }, { 3, 8192 }, { 4, 4096 }, { 8, 256 },
		{ 13, 8 }, { 15, 2 },
	};

	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		cmos_write(RTC_REG_A, (uint8_t)(RTC_A_DV_32K | rates[i].rs));
		(void)cmos_read(RTC_REG_C);
		assert_int_equal(count_raises(SEC, 50000), rates[i].hz);
	}
	/* Rate 0: no periodic interrupt. */
	cmos_write(RTC_REG_A, RTC_A_DV_32K);
	assert_int_equal(count_raises(SEC / 10, MS), 0);
}

static void test_periodic_flag_without_pie(void **state)
{
	(void)cmos_read(RTC_REG_C);
	step(MS); /* 1024 Hz by default: at least one tick */
	assert_int_equal(cmos_read(RTC_REG_C), RTC_C_PF);
	assert_int_equal(vmm_harness_irq_raises(F->h, RTC_IRQ), 0);
	/* A pending PF raises the line as soon as PIE is set. */
	step(MS);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	assert_int_equal(irq(), 1);
	assert_int_equal(cmos_read(RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
	assert_int_equal(irq(), 0);
}

static void test_register_c_read_drops_line(void **state)
{
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	step(MS);
	assert_int_equal(irq(), 1);
	/* The line stays high until C is read, however many ticks pass. */
	step(10 * MS);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_irq_raises(F->h, RTC_IRQ), 1);
	assert_int_equal(cmos_read(RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF), RTC_C_IRQF | RTC_C_PF);
	assert_int_equal(irq(), 0);
	/* Writes to C and D are ignored. */
	cmos_write(RTC_REG_C, 0xff);
	cmos_write(RTC_REG_D, 0x00);
	assert_int_equal(cmos_read(RTC_REG_D), RTC_D_VRT);
}

static void test_alarm_exact(void **state)
{
	cmos_write(RTC_REG_A, RTC_A_DV_32K); /* no periodic flag in the way */
	set_time(RTC_B_24H, 0x20, 0x24, 0x01, 0x01, 0x10, 0x00, 0x00);
	cmos_write(RTC_SECONDS_ALARM, 0x05);
	cmos_write(RTC_MINUTES_ALARM, 0x00);
	cmos_write(RTC_HOURS_ALARM, 0x10);
	(void)cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	step(4 * SEC);
	assert_int_equal(irq(), 0);
	assert_int_equal(cmos_read(RTC_REG_C), RTC_C_UF); /* updates happened, no alarm */
	step(SEC);
	assert_int_equal(irq(), 1);
	assert_int_equal(cmos_read(RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	assert_int_equal(irq(), 0);
	/* Not again the next second. */
	step(SEC);
	assert_int_equal(irq(), 0);
}

static void test_alarm_dont_care(void **state)
{
	cmos_write(RTC_REG_A, RTC_A_DV_32K); /* no periodic flag in the way */
	set_time(RTC_B_24H, 0x20, 0x24, 0x01, 0x01, 0x10, 0x00, 0x00);
	cmos_write(RTC_SECONDS_ALARM, 0x30);
	cmos_write(RTC_MINUTES_ALARM, 0xc0);
	cmos_write(RTC_HOURS_ALARM, 0xff);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	/* Once a minute, at :30. */
	assert_int_equal(count_raises(180 * SEC, SEC), 3);
	/* All three don't-care: every second. */
	cmos_write(RTC_SECONDS_ALARM, 0xc0);
	assert_int_equal(count_raises(10 * SEC, SEC), 10);
}

static void test_update_ended_interrupt(void **state)
{
	(void)cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	step(SEC - 1);
	assert_int_equal(irq(), 0);
	step(1);
	assert_int_equal(irq(), 1);
	assert_int_equal(cmos_read(RTC_REG_C) & ~RTC_C_PF, RTC_C_IRQF | RTC_C_UF);
	assert_int_equal(irq(), 0);
	assert_int_equal(count_raises(5 * SEC, 100 * MS), 5);
	/* SET going high clears UIE. */
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
	assert_int_equal(cmos_read(RTC_REG_B), RTC_B_24H | RTC_B_SET);
}

static void test_divider_reset(void **state)
{
	set_time(RTC_B_24H, 0x20, 0x24, 0x01, 0x01, 0x10, 0x00, 0x00);
	step(SEC / 4);
	cmos_write(RTC_REG_A, 0x70); /* divider chain in reset */
	step(3 * SEC);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x00);
	cmos_write(RTC_REG_A, 0x26);
	/* The first update comes half a second after the release. */
	step(SEC / 2 - 1);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x00);
	step(1);
	assert_int_equal(cmos_read(RTC_SECONDS), 0x01);
}

static void test_nmi_bit_and_storage(void **state)
{
	vmm_harness_pio_write(F->h, 0x70, 1, 0x80 | 0x40);
	assert_int_equal(vmm_harness_pio_read(F->h, 0x70, 1), 0xc0);
	vmm_harness_pio_write(F->h, 0x71, 1, 0x5a);   /* index 0x40, NMI bit ignored */
	assert_int_equal(cmos_read(0x40), 0x5a);
	assert_int_equal(vmm_harness_pio_read(F->h, 0x70, 1), 0x40);
	cmos_write(0x7f, 0xa5);
	assert_int_equal(cmos_read(0x7f), 0xa5);
	assert_int_equal(cmos_read(0xff), 0xa5);       /* NMI bit + 0x7f */
}

static void test_reset_op(void **state)
{
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	step(SEC);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(cmos_read(RTC_REG_B), RTC_B_24H);
	assert_int_equal(cmos_read(RTC_REG_C), 0);
	assert_int_equal(cmos_read(RTC_REG_A), 0x26);
}

static struct vmm_harness *memory_rtc(const char *memory)
{
	struct vmm_harness *h = vmm_harness_new();
	const char *props[] = { memory, NULL };

	assert_non_null(h);
	assert_non_null(vmm_harness_create_device(h, "cmos-rtc", "rtc", props));
	return h;
}

static uint8_t hcmos(struct vmm_harness *h, uint8_t addr)
{
	vmm_harness_pio_write(h, 0x70, 1, addr);
	return (uint8_t)vmm_harness_pio_read(h, 0x71, 1);
}

static unsigned hcmos16(struct vmm_harness *h, uint8_t addr)
{
	return hcmos(h, addr) | (unsigned)hcmos(h, (uint8_t)(addr + 1)) << 8;
}

static void test_memory_bytes(void **state)
{
	struct vmm_harness *h = memory_rtc("memory=64M");
	unsigned sum = 0;

	assert_int_equal(hcmos16(h, RTC_BASE_MEM_LO), 640);
	assert_int_equal(hcmos16(h, RTC_EXT_MEM_LO), 63 * 1024);
	assert_int_equal(hcmos16(h, RTC_EXT_MEM2_LO), 63 * 1024);
	assert_int_equal(hcmos16(h, RTC_MEM_16M_LO), 48 * 16);
	assert_int_equal(hcmos(h, 0x5b) | hcmos(h, 0x5c) | hcmos(h, 0x5d), 0);
	for (uint8_t a = 0x10; a < 0x2e; a++)
		sum += hcmos(h, a);
	assert_int_equal(hcmos(h, RTC_CHECKSUM_HI) << 8 | hcmos(h, RTC_CHECKSUM_LO), sum);
	vmm_harness_free(h);

	h = memory_rtc("memory=8G"); /* 3 GiB low, 5 GiB above 4 GiB */
	assert_int_equal(hcmos16(h, RTC_EXT_MEM_LO), 0xffff);
	assert_int_equal(hcmos16(h, RTC_EXT_MEM2_LO), 0xffff);
	assert_int_equal(hcmos16(h, RTC_MEM_16M_LO), (3072 - 16) * 16);
	assert_int_equal(hcmos(h, 0x5b), 0x00);
	assert_int_equal(hcmos(h, 0x5c), 0x40); /* 5 GiB = 0x14000 x 64 KiB */
	assert_int_equal(hcmos(h, 0x5d), 0x01);
	vmm_harness_free(h);

	h = memory_rtc("memory=0");
	assert_int_equal(hcmos16(h, RTC_BASE_MEM_LO), 640);
	assert_int_equal(hcmos16(h, RTC_EXT_MEM_LO), 0);
	assert_int_equal(hcmos16(h, RTC_MEM_16M_LO), 0);
	vmm_harness_free(h);
}

static void test_properties(void **state)
{
	struct vmm_harness *h = vmm_harness_new();
	static const char *const local[] = { "base=localtime", "irq=5", NULL };
	static const char *const bogus[] = { "base=mars", NULL };

	assert_non_null(vmm_harness_create_device(h, "cmos-rtc", "rtc", local));
	vmm_harness_pio_write(h, 0x70, 1, RTC_REG_B);
	vmm_harness_pio_write(h, 0x71, 1, RTC_B_24H | RTC_B_UIE);
	vmm_harness_clock_step(h, SEC);
	assert_int_equal(vmm_harness_irq_level(h, 5), 1);
	vmm_harness_free(h);

	h = vmm_harness_new();
	assert_null(vmm_harness_create_device(h, "cmos-rtc", "rtc", bogus));
	vmm_harness_free(h);
}

static void test_calendar_round_trip(void **state)
{
	struct rtc_time t = { .year = 1999, .month = 14, .day = 1 }; /* normalises */

	assert_int_equal(rtc_time_to_secs(&t), 949363200); /* 2000-02-01 */
	rtc_secs_to_time(949363200 + 29 * 86400 - 1, &t);
	assert_int_equal(t.year, 2000);
	assert_int_equal(t.month, 2);
	assert_int_equal(t.day, 29);
	assert_int_equal(t.hour, 23);
	rtc_secs_to_time(-1, &t);
	assert_int_equal(t.year, 1969);
	assert_int_equal(t.wday, 3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- saved state (ABI 1.12) ---- */

/* Mid-operation: a known time in binary 24-hour mode, set while the
 * divider was held in reset and restarted 300 ms in (so its second
 * boundaries fall at 0.8 s, 1.8 s, ...), an alarm due in three seconds, a
 * 4 Hz periodic interrupt whose flag is pending (IRQ 8 held high), update
 * interrupts on, and the clock stopped inside the update-in-progress
 * window before a boundary. */
static void rtc_mid_operation(void)
{
	step(300 * MS);
	cmos_write(RTC_REG_A, RTC_A_DV_RESET);
	set_time(RTC_B_24H | RTC_B_DM, 20, 26, 12, 7, 5, 4, 30);
	cmos_write(RTC_SECONDS_ALARM, 33);
	cmos_write(RTC_MINUTES_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_HOURS_ALARM, RTC_ALARM_DONT_CARE);
	cmos_write(RTC_REG_A, RTC_A_DV_32K | 0x0e);	/* 4 Hz */
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_DM | RTC_B_PIE | RTC_B_AIE | RTC_B_UIE);
	cmos_write(0x40, 0x5a);				/* a byte of CMOS RAM */
	step(500 * MS - 100000);
	assert_int_equal(irq(), 1);
	assert_true(cmos_read(RTC_REG_A) & RTC_A_UIP);
}

static uint8_t rtc_in(struct vmm_harness *h, uint8_t addr)
{
	vmm_harness_pio_write(h, 0x70, 1, addr);
	return (uint8_t)vmm_harness_pio_read(h, 0x71, 1);
}

#define RTC_SCRIPT_MAX 512

/* What the guest sees from now on: UIP, the RAM byte, then every 50 ms
 * for four seconds the line, the raises, and register C when the line is
 * high (the handler's acknowledge) with the seconds it reads then. */
static size_t rtc_script(struct vmm_harness *h, unsigned *v)
{
	unsigned base = vmm_harness_irq_raises(h, RTC_IRQ);
	size_t n = 0;

	v[n++] = rtc_in(h, RTC_REG_A);
	v[n++] = rtc_in(h, 0x40);
	v[n++] = vmm_harness_irq_level(h, RTC_IRQ);
	for (int i = 0; i < 80; i++) {
		vmm_harness_clock_step(h, 50 * MS);
		v[n++] = vmm_harness_irq_raises(h, RTC_IRQ) - base;
		if (vmm_harness_irq_level(h, RTC_IRQ)) {
			v[n++] = rtc_in(h, RTC_REG_C);
			v[n++] = rtc_in(h, RTC_SECONDS);
		}
	}
	return n;
}

static struct vmm_harness *rtc_restore_target(struct vmm_harness_dev **dev)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_EMULATED);
	vmm_harness_clock_step(h, vmm_harness_clock_ns(F->h));
	*dev = vmm_harness_create_device(h, "cmos-rtc", "rtc", NULL);
	assert_non_null(*dev);
	return h;
}

static bool rtc_script_has(const unsigned *v, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n; i++)
		if ((v[i] & (RTC_C_IRQF | flags)) == (RTC_C_IRQF | flags))
			return true;
	return false;
}

static void test_save_load_mid_operation(void **state)
{
	unsigned want[RTC_SCRIPT_MAX], got[RTC_SCRIPT_MAX];
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, n1, n2;
	void *rec;

	rtc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = rtc_restore_target(&dev2);
	assert_int_equal(vmm_harness_irq_level(h2, RTC_IRQ), 0);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	assert_int_equal(vmm_harness_irq_level(h2, RTC_IRQ), 1);	/* PF pending */
	n1 = rtc_script(F->h, want);
	n2 = rtc_script(h2, got);
	assert_int_equal(n1, n2);
	assert_memory_equal(want, got, n1 * sizeof(want[0]));
	/* the script saw the saved state: UIP, RAM, the alarm at :33 */
	assert_true(want[0] & RTC_A_UIP);
	assert_int_equal(want[1], 0x5a);
	assert_true(rtc_script_has(want, n1, RTC_C_AF | RTC_C_UF));
	assert_true(rtc_script_has(want, n1, RTC_C_PF));
	free(rec);
	vmm_harness_free(h2);
}

/* The timers are re-armed at their saved deadlines: with only the update
 * interrupt on and the line acknowledged, nothing but the timer raises
 * the line at the next second boundary. */
static void test_load_rearms_saved_deadlines(void **state)
{
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	void *rec;

	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	step(SEC / 2);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = rtc_restore_target(&dev2);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	vmm_harness_clock_step(h2, SEC / 2 - 1);
	assert_int_equal(vmm_harness_irq_level(h2, RTC_IRQ), 0);
	vmm_harness_clock_step(h2, 1);
	assert_int_equal(vmm_harness_irq_level(h2, RTC_IRQ), 1);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_corrupt_fields(void **state)
{
	static const struct record_poke bad[] = {
		{ "cmos", RTC_REG_A, RTC_A_UIP | RTC_A_DV_32K },
		{ "cmos", RTC_REG_A, RTC_A_DV_RESET },		/* stopped, yet counting */
		{ "flags", 0, 0x81 },
		{ "dow_delta", 0, 7 },
		{ "frozen", 0, 2 },
		{ "secs_at_origin", 7, 0x40 },
		{ "origin_ns", 7, 0x01 },			/* ahead of the clock */
		{ "updates_seen", 4, 1 },
		{ "update_deadline_ns", 6, 1 },
	};
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	rtc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = rtc_restore_target(&dev2);
	record_expect_refused(dev2, rec, len, bad, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(vmm_harness_irq_level(h2, RTC_IRQ), 0);
	record_hide_field(rec, len, "periodic_deadline_ns");
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

	rtc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = rtc_restore_target(&dev2);
	record_expect_next_version_refused(dev2, rec, len, 1);
	free(rec);
	vmm_harness_free(h2);
}

/* A hostile snapshot: every byte of the record in turn set to 0xff or
 * 0x80.  Load refuses it or takes it, and whatever it took, the guest's
 * reads and the clock running on never crash nor hang the model. */
static void test_load_survives_any_corrupt_byte(void **state)
{
	static const uint16_t ports[] = { 0x71 };
	static const uint8_t values[] = { 0xff, 0x80 };
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	rtc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = rtc_restore_target(&dev2);
	for (size_t at = 0; at < len; at++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			uint8_t keep = rec[at];
			int rc;

			rec[at] = values[v];
			rc = vmm_harness_load(dev2, rec, len);
			assert_true(rc == 0 || rc == -EINVAL || rc == -ENOENT || rc == -EPROTO ||
				    rc == -EBADMSG);
			for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++)
				(void)vmm_harness_pio_read(h2, ports[p], 1);
			vmm_harness_clock_step(h2, 3000000);
			rec[at] = keep;
		}
	}
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	free(rec);
	vmm_harness_free(h2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_power_on_registers),
		T(test_bcd_time_and_date),
		T(test_binary_mode_and_conversion),
		T(test_12_hour_mode),
		T(test_time_advances_with_virtual_clock),
		T(test_set_stops_updates),
		T(test_leap_years),
		T(test_day_of_week_write_is_kept),
		T(test_uip_window),
		T(test_periodic_1024hz),
		T(test_periodic_rates),
		T(test_periodic_flag_without_pie),
		T(test_register_c_read_drops_line),
		T(test_alarm_exact),
		T(test_alarm_dont_care),
		T(test_update_ended_interrupt),
		T(test_divider_reset),
		T(test_nmi_bit_and_storage),
		T(test_reset_op),
		T(test_save_load_mid_operation),
		T(test_load_rearms_saved_deadlines),
		T(test_load_refuses_corrupt_fields),
		T(test_load_refuses_unknown_version),
		T(test_load_survives_any_corrupt_byte),
		cmocka_unit_test(test_memory_bytes),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_calendar_round_trip),
	};

	return cmocka_run_group_tests_name("cmos-rtc", tests, NULL, NULL);
}
