/* tests/unit/test_i8254.c - the 8254 PIT, mode by mode, through the harness
 * and the real i8254.so.  Each test reads like the datasheet: program this
 * counter, step the virtual clock to this input clock pulse, expect this
 * count and this level on OUT (counter 0's OUT is interrupt line 0, counter
 * 2's is port 0x61 bit 5).
 *
 * Times are absolute input clock ticks: tick k starts at the first
 * nanosecond ns with floor(ns * 1193182 / 1e9) == k.  A count written during
 * tick t is loaded at tick t + 1 (that pulse does not decrement it). */
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
#include "devices/i8254/i8254.h"

#define PIT_HZ 1193182ULL
#define PIT_CTRL 0x43
#define PORT61 0x61

/* Control word fields. */
#define SC(c) ((unsigned)(c) << 6)
#define RW_LSB (1u << 4)
#define RW_MSB (2u << 4)
#define RW_WORD (3u << 4)
#define MODE(m) ((unsigned)(m) << 1)
#define BCD 1u

#include "device-fixture.h"
#include "state-record.h"

static int setup_bare(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
}

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, "i8254", "pit");
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void out(uint16_t port, uint8_t value)
{
	vmm_harness_pio_write(F->h, port, 1, value);
}

static uint8_t in(uint16_t port)
{
	return (uint8_t)vmm_harness_pio_read(F->h, port, 1);
}

static uint64_t tick_ns(uint64_t tick)
{
	return (uint64_t)(((unsigned __int128)tick * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

/* Step the clock to the start of absolute tick `tick`. */
static void to_tick(uint64_t tick)
{
	uint64_t now = vmm_harness_clock_ns(F->h), t = tick_ns(tick);

	assert_true(t >= now);
	vmm_harness_clock_step(F->h, t - now);
}

/* Control word for counter c, LSB-then-MSB, and the count. */
static void program(unsigned c, unsigned mode, uint16_t count)
{
	out(PIT_CTRL, (uint8_t)(SC(c) | RW_WORD | MODE(mode)));
	out((uint16_t)(0x40 + c), (uint8_t)count);
	out((uint16_t)(0x40 + c), (uint8_t)(count >> 8));
}

/* A two-byte read in LSB-then-MSB mode. */
static unsigned read_word(unsigned c)
{
	unsigned lo = in((uint16_t)(0x40 + c));

	return lo | (unsigned)in((uint16_t)(0x40 + c)) << 8;
}

static unsigned latch_read(unsigned c)
{
	out(PIT_CTRL, (uint8_t)SC(c));
	return read_word(c);
}

static int irq0(void)
{
	return vmm_harness_irq_level(F->h, 0);
}

static unsigned raises0(void)
{
	return vmm_harness_irq_raises(F->h, 0);
}

static int out2(void)
{
	return !!(in(PORT61) & 0x20);
}

static uint8_t readback_status(unsigned c)
{
	out(PIT_CTRL, (uint8_t)(0xc0 | 0x20 | (0x02u << c)));
	return in((uint16_t)(0x40 + c));
}

/* ---- mode 0: interrupt on terminal count ---- */

static void test_mode0_out_rises_n_plus_1_pulses_after_write(void **state)
{
	program(0, 0, 100);
	assert_int_equal(irq0(), 0);
	to_tick(1);
	assert_int_equal(latch_read(0), 100);
	to_tick(51);
	assert_int_equal(read_word(0), 50);
	to_tick(100);
	assert_int_equal(read_word(0), 1);
	assert_int_equal(irq0(), 0);
	to_tick(101);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), 1);
	assert_int_equal(read_word(0), 0);
	/* The counter wraps and keeps counting; OUT stays high. */
	to_tick(103);
	assert_int_equal(read_word(0), 0xfffe);
	to_tick(70000);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), 1);
}

static void test_mode0_first_byte_stops_counting_and_drops_out(void **state)
{
	program(0, 0, 10);
	to_tick(20);
	assert_int_equal(irq0(), 1);
	/* First byte: OUT low at once, counting disabled. */
	out(0x40, 50);
	assert_int_equal(irq0(), 0);
	to_tick(400);
	assert_int_equal(irq0(), 0);
	/* Second byte: loaded on the next pulse, OUT rises N pulses later. */
	out(0x40, 0);
	to_tick(401);
	assert_int_equal(read_word(0), 50);
	to_tick(450);
	assert_int_equal(irq0(), 0);
	to_tick(451);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), 2);
}

static void test_mode0_count_zero_is_65536(void **state)
{
	program(0, 0, 0);
	to_tick(1);
	assert_int_equal(read_word(0), 0);
	to_tick(2);
	assert_int_equal(read_word(0), 0xffff);
	to_tick(65536);
	assert_int_equal(read_word(0), 1);
	assert_int_equal(irq0(), 0);
	to_tick(65537);
	assert_int_equal(irq0(), 1);
}

/* ---- mode 1: hardware retriggerable one-shot (counter 2, gate 0x61) ---- */

static void test_mode1_one_shot_on_gate_edge(void **state)
{
	program(2, 1, 10);
	assert_int_equal(out2(), 1);
	/* No trigger, no load: null count stays set. */
	to_tick(50);
	assert_int_equal(out2(), 1);
	assert_int_equal(readback_status(2) & 0x40, 0x40);

	out(PORT61, 0x01); /* trigger at tick 50 */
	assert_int_equal(out2(), 1);
	to_tick(51);
	assert_int_equal(out2(), 0);
	assert_int_equal(latch_read(2), 10);
	assert_int_equal(readback_status(2) & 0x40, 0);
	to_tick(60);
	assert_int_equal(out2(), 0);
	assert_int_equal(read_word(2), 1);
	to_tick(61);
	assert_int_equal(out2(), 1);
	/* The gate staying high does not retrigger. */
	to_tick(200);
	assert_int_equal(out2(), 1);
}

static void test_mode1_retrigger_restarts_the_pulse(void **state)
{
	program(2, 1, 10);
	out(PORT61, 0x01);
	to_tick(5);
	out(PORT61, 0x00);
	assert_int_equal(out2(), 0); /* the gate does not stop mode 1 */
	out(PORT61, 0x01);           /* retrigger at tick 5 */
	to_tick(11);
	assert_int_equal(out2(), 0); /* the first pulse would have ended here */
	to_tick(15);
	assert_int_equal(out2(), 0);
	to_tick(16);
	assert_int_equal(out2(), 1);
}

static void test_mode1_new_count_waits_for_trigger(void **state)
{
	program(2, 1, 10);
	out(PORT61, 0x01);
	to_tick(3);
	out(0x42, 100);
	out(0x42, 0);
	to_tick(11);
	assert_int_equal(out2(), 1); /* the old count ran out */
	out(PORT61, 0x00);
	out(PORT61, 0x01); /* trigger at 11 */
	to_tick(111);
	assert_int_equal(out2(), 0);
	to_tick(112);
	assert_int_equal(out2(), 1);
}

/* ---- mode 2: rate generator ---- */

static void test_mode2_out_low_for_one_pulse_at_count_1(void **state)
{
	program(0, 2, 5);
	assert_int_equal(irq0(), 1);
	unsigned r = raises0();

	to_tick(1);
	assert_int_equal(read_word(0), 5);
	to_tick(4);
	assert_int_equal(read_word(0), 2);
	assert_int_equal(irq0(), 1);
	to_tick(5);
	assert_int_equal(read_word(0), 1);
	assert_int_equal(irq0(), 0);
	to_tick(6);
	assert_int_equal(read_word(0), 5); /* reloaded, never reads 0 */
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), r + 1);
	to_tick(10);
	assert_int_equal(irq0(), 0);
	to_tick(11);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), r + 2);
}

static void test_mode2_1193_gives_1000_hz(void **state)
{
	program(0, 2, 1193);
	unsigned r = raises0();

	/* 100 ms is tick 119318; rising edges at 1 + 1193k, k = 1..100. */
	vmm_harness_clock_step(F->h, 100000000);
	assert_int_equal(raises0() - r, 100);
	vmm_harness_clock_step(F->h, 900000000);
	/* 1 s is tick 1193182: k up to 1000 (1193001). */
	assert_int_equal(raises0() - r, 1000);
}

static void test_mode2_new_count_at_end_of_period(void **state)
{
	program(0, 2, 10);
	to_tick(4);
	out(0x40, 20);
	out(0x40, 0);
	/* The current period (ticks 1..10) is not affected. */
	to_tick(10);
	assert_int_equal(irq0(), 0);
	assert_int_equal(read_word(0), 1);
	to_tick(11);
	assert_int_equal(read_word(0), 20);
	to_tick(30);
	assert_int_equal(irq0(), 0);
	to_tick(31);
	assert_int_equal(irq0(), 1);
}

static void test_mode2_gate_low_stops_and_rising_edge_reloads(void **state)
{
	program(2, 2, 10);
	assert_int_equal(out2(), 1);
	/* Gate 2 is low after reset: loaded but not counting. */
	to_tick(30);
	assert_int_equal(latch_read(2), 10);
	out(PORT61, 0x01); /* reload at 31 */
	to_tick(35);
	assert_int_equal(read_word(2), 6);
	to_tick(40);
	assert_int_equal(out2(), 0);
	out(PORT61, 0x00); /* low during the pulse: OUT high at once */
	assert_int_equal(out2(), 1);
	to_tick(100);
	assert_int_equal(read_word(2), 1); /* frozen */
	out(PORT61, 0x01);
	to_tick(101);
	assert_int_equal(read_word(2), 10);
	to_tick(110);
	assert_int_equal(out2(), 0);
}

/* ---- mode 3: square wave ---- */

static void test_mode3_even_count(void **state)
{
	program(0, 3, 10);
	unsigned r = raises0();

	to_tick(1);
	assert_int_equal(read_word(0), 10);
	to_tick(2);
	assert_int_equal(read_word(0), 8);
	to_tick(5);
	assert_int_equal(read_word(0), 2);
	assert_int_equal(irq0(), 1);
	to_tick(6);
	assert_int_equal(irq0(), 0);
	assert_int_equal(read_word(0), 10);
	to_tick(10);
	assert_int_equal(irq0(), 0);
	assert_int_equal(read_word(0), 2);
	to_tick(11);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), r + 1);
	/* 10 more periods: 10 more rising edges. */
	to_tick(111);
	assert_int_equal(raises0(), r + 11);
}

static void test_mode3_odd_count_high_longer(void **state)
{
	/* N = 5: N - 1 loaded, high for (N+1)/2 = 3 pulses, low for 2. */
	program(0, 3, 5);
	to_tick(1);
	assert_int_equal(read_word(0), 4);
	to_tick(2);
	assert_int_equal(read_word(0), 2);
	to_tick(3);
	assert_int_equal(read_word(0), 0);
	assert_int_equal(irq0(), 1);
	to_tick(4);
	assert_int_equal(irq0(), 0);
	assert_int_equal(read_word(0), 4);
	to_tick(5);
	assert_int_equal(irq0(), 0);
	assert_int_equal(read_word(0), 2);
	to_tick(6);
	assert_int_equal(irq0(), 1);
	assert_int_equal(read_word(0), 4);
}

static void test_mode3_new_count_at_end_of_half_cycle(void **state)
{
	program(0, 3, 10);
	to_tick(3);
	out(0x40, 20);
	out(0x40, 0);
	/* The high half (1..5) finishes; the new count starts low. */
	to_tick(5);
	assert_int_equal(irq0(), 1);
	to_tick(6);
	assert_int_equal(irq0(), 0);
	assert_int_equal(read_word(0), 20);
	to_tick(15);
	assert_int_equal(irq0(), 0);
	to_tick(16);
	assert_int_equal(irq0(), 1);
	to_tick(25);
	assert_int_equal(irq0(), 1);
	to_tick(26);
	assert_int_equal(irq0(), 0);
}

static void test_mode3_gate_low_forces_out_high(void **state)
{
	program(2, 3, 10);
	out(PORT61, 0x01); /* reload at 1 */
	to_tick(7);
	assert_int_equal(out2(), 0);
	out(PORT61, 0x00);
	assert_int_equal(out2(), 1);
	to_tick(50);
	assert_int_equal(out2(), 1);
	out(PORT61, 0x01); /* reload at 51: high for 5, then low */
	to_tick(55);
	assert_int_equal(out2(), 1);
	to_tick(56);
	assert_int_equal(out2(), 0);
}

/* ---- mode 4: software triggered strobe ---- */

static void test_mode4_strobe(void **state)
{
	program(0, 4, 3);
	assert_int_equal(irq0(), 1);
	unsigned r = raises0();

	to_tick(1);
	assert_int_equal(read_word(0), 3);
	to_tick(3);
	assert_int_equal(irq0(), 1);
	to_tick(4);
	assert_int_equal(read_word(0), 0);
	assert_int_equal(irq0(), 0);
	to_tick(5);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), r + 1);
	assert_int_equal(read_word(0), 0xffff);
	/* No second strobe when the counter wraps. */
	to_tick(70000);
	assert_int_equal(raises0(), r + 1);
	/* A new count retriggers. */
	out(0x40, 2);
	out(0x40, 0);
	vmm_harness_clock_step(F->h, tick_ns(70003) - vmm_harness_clock_ns(F->h));
	assert_int_equal(irq0(), 0);
	to_tick(70004);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), r + 2);
}

static void test_mode4_gate_low_pauses(void **state)
{
	program(2, 4, 10);
	/* Gate 2 low: loaded at 1 but not counting. */
	to_tick(20);
	assert_int_equal(latch_read(2), 10);
	out(PORT61, 0x01);
	to_tick(25);
	assert_int_equal(read_word(2), 5);
	to_tick(30);
	assert_int_equal(out2(), 0);
	to_tick(31);
	assert_int_equal(out2(), 1);
}

/* ---- mode 5: hardware triggered strobe ---- */

static void test_mode5_strobe_after_trigger(void **state)
{
	program(2, 5, 3);
	to_tick(10);
	assert_int_equal(out2(), 1);
	out(PORT61, 0x01); /* trigger at 10, load at 11 */
	to_tick(13);
	assert_int_equal(out2(), 1);
	to_tick(14);
	assert_int_equal(out2(), 0);
	to_tick(15);
	assert_int_equal(out2(), 1);
	/* Retrigger. */
	out(PORT61, 0x00);
	out(PORT61, 0x01);
	to_tick(19);
	assert_int_equal(out2(), 0);
	to_tick(20);
	assert_int_equal(out2(), 1);
}

/* ---- counting formats and access modes ---- */

static void test_bcd_counting(void **state)
{
	out(PIT_CTRL, (uint8_t)(SC(0) | RW_WORD | MODE(0) | BCD));
	out(0x40, 0x00);
	out(0x40, 0x01); /* 0100 decimal */
	to_tick(1);
	assert_int_equal(read_word(0), 0x0100);
	to_tick(2);
	assert_int_equal(read_word(0), 0x0099);
	to_tick(100);
	assert_int_equal(read_word(0), 0x0001);
	assert_int_equal(irq0(), 0);
	to_tick(101);
	assert_int_equal(read_word(0), 0x0000);
	assert_int_equal(irq0(), 1);
	to_tick(102);
	assert_int_equal(read_word(0), 0x9999);
}

static void test_bcd_count_zero_is_10000(void **state)
{
	out(PIT_CTRL, (uint8_t)(SC(0) | RW_WORD | MODE(2) | BCD));
	out(0x40, 0);
	out(0x40, 0);
	unsigned r = raises0();

	to_tick(2);
	assert_int_equal(read_word(0), 0x9999);
	to_tick(10000);
	assert_int_equal(read_word(0), 0x0001);
	assert_int_equal(irq0(), 0);
	to_tick(10001);
	assert_int_equal(read_word(0), 0x0000);
	assert_int_equal(irq0(), 1);
	assert_int_equal(raises0(), r + 1);
}

static void test_bad_bcd_is_a_guest_error(void **state)
{
	unsigned long before = vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR);

	out(PIT_CTRL, (uint8_t)(SC(0) | RW_LSB | MODE(0) | BCD));
	out(0x40, 0x1f);
	to_tick(5);
	assert_true(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR) > before);
}

static void test_access_lsb_only(void **state)
{
	out(PIT_CTRL, (uint8_t)(SC(0) | RW_LSB | MODE(0)));
	out(0x40, 0x34); /* count 0x0034 */
	to_tick(1);
	assert_int_equal(in(0x40), 0x34);
	assert_int_equal(in(0x40), 0x34); /* no flip-flop */
	to_tick(0x35);
	assert_int_equal(irq0(), 1);
}

static void test_access_msb_only(void **state)
{
	out(PIT_CTRL, (uint8_t)(SC(0) | RW_MSB | MODE(0)));
	out(0x40, 0x12); /* count 0x1200 */
	to_tick(1);
	assert_int_equal(in(0x40), 0x12);
	to_tick(2);
	assert_int_equal(in(0x40), 0x11);
	to_tick(0x1200);
	assert_int_equal(irq0(), 0);
	to_tick(0x1201);
	assert_int_equal(irq0(), 1);
}

static void test_access_word_flip_flops_are_separate(void **state)
{
	program(0, 0, 0x1234);
	to_tick(1);
	/* Reads and writes may interleave: LSB read, LSB write, MSB read,
	 * MSB write. */
	out(PIT_CTRL, (uint8_t)SC(0));
	assert_int_equal(in(0x40), 0x34);
	out(0x40, 0x78);
	assert_int_equal(in(0x40), 0x12);
	out(0x40, 0x56);
	to_tick(2);
	assert_int_equal(read_word(0), 0x5678);
}

/* ---- latching ---- */

static void test_counter_latch_freezes_until_read(void **state)
{
	program(0, 2, 1000);
	to_tick(11);
	out(PIT_CTRL, (uint8_t)SC(0));
	to_tick(300);
	/* A second latch before the read is ignored. */
	out(PIT_CTRL, (uint8_t)SC(0));
	assert_int_equal(in(0x40), 990 & 0xff);
	to_tick(400);
	assert_int_equal(in(0x40), 990 >> 8);
	/* Released: reads follow the counter again. */
	assert_int_equal(read_word(0), 1000 - 399);
}

static void test_readback_counts_and_status_of_several_counters(void **state)
{
	program(0, 2, 1000);
	out(PIT_CTRL, (uint8_t)(SC(1) | RW_LSB | MODE(3) | BCD));
	out(0x41, 0x50);
	program(2, 0, 500);
	to_tick(101);

	/* Count and status of all three. */
	out(PIT_CTRL, 0xc0 | 0x0e);
	to_tick(150);
	/* Counter 0: OUT high, count available, RW word, mode 2, binary. */
	assert_int_equal(in(0x40), 0x80 | 0x30 | 0x04);
	assert_int_equal(read_word(0), 900);
	/* Counter 1: square wave BCD 50, 100 pulses in: 2 periods, CE 50. */
	assert_int_equal(in(0x41), 0x80 | 0x10 | 0x06 | 0x01);
	assert_int_equal(in(0x41), 0x50);
	/* Counter 2: mode 0, gate low, OUT low, loaded but not counting. */
	assert_int_equal(in(0x42), 0x00 | 0x30 | 0x00);
	assert_int_equal(read_word(2), 500);
	/* Everything released: live reads again. */
	assert_int_equal(read_word(0), 1000 - 149);
}

static void test_readback_status_then_count_order_and_ignored_relatch(void **state)
{
	program(0, 0, 100);
	/* Null count until the load. */
	out(PIT_CTRL, 0xc0 | 0x20 | 0x02);
	assert_int_equal(in(0x40), 0x40 | 0x30);
	to_tick(11);
	/* Status only, then count only: status is read first anyway. */
	out(PIT_CTRL, 0xc0 | 0x20 | 0x02);
	out(PIT_CTRL, 0xc0 | 0x10 | 0x02);
	to_tick(21);
	/* Status already latched: this one is ignored. */
	out(PIT_CTRL, 0xc0 | 0x20 | 0x02);
	assert_int_equal(in(0x40), 0x30);
	assert_int_equal(read_word(0), 90);
	assert_int_equal(read_word(0), 80);
	/* A latch command and a read-back count latch are the same latch. */
	out(PIT_CTRL, (uint8_t)SC(0));
	out(PIT_CTRL, 0xc0 | 0x10 | 0x02);
	to_tick(31);
	assert_int_equal(read_word(0), 80);
}

static void test_null_count_after_control_and_count_writes(void **state)
{
	out(PIT_CTRL, (uint8_t)(SC(0) | RW_WORD | MODE(2)));
	assert_int_equal(readback_status(0) & 0x40, 0x40);
	out(0x40, 10);
	out(0x40, 0);
	assert_int_equal(readback_status(0) & 0x40, 0x40);
	to_tick(1);
	assert_int_equal(readback_status(0) & 0x40, 0);
	/* Mid-period write: null until the period ends. */
	out(0x40, 20);
	out(0x40, 0);
	to_tick(10);
	assert_int_equal(readback_status(0) & 0x40, 0x40);
	to_tick(11);
	assert_int_equal(readback_status(0) & 0x40, 0);
}

/* ---- gate 2 and port 0x61 ---- */

static void test_mode0_gate_low_pauses_counting(void **state)
{
	program(2, 0, 20);
	/* Gate 2 is low after reset. */
	to_tick(50);
	assert_int_equal(latch_read(2), 20);
	out(PORT61, 0x01);
	to_tick(60);
	assert_int_equal(read_word(2), 10);
	out(PORT61, 0x00);
	to_tick(500);
	assert_int_equal(read_word(2), 10);
	assert_int_equal(out2(), 0);
	out(PORT61, 0x01);
	to_tick(509);
	assert_int_equal(out2(), 0);
	to_tick(510);
	assert_int_equal(out2(), 1);
}

static void test_port61_bits(void **state)
{
	uint8_t v;

	v = in(PORT61);
	assert_int_equal(v & 0xef, 0x00);
	out(PORT61, 0xff);
	v = in(PORT61);
	/* Gate and speaker enable read back; 2, 3, 6, 7 read 0. */
	assert_int_equal(v & 0xcf, 0x03);
	out(PORT61, 0x02);
	assert_int_equal(in(PORT61) & 0x03, 0x02);

	/* Bit 5 is OUT of counter 2. */
	program(2, 0, 5);
	out(PORT61, 0x01);
	assert_int_equal(in(PORT61) & 0x20, 0);
	vmm_harness_clock_step(F->h, tick_ns(7) - vmm_harness_clock_ns(F->h));
	assert_int_equal(in(PORT61) & 0x20, 0x20);
}

static void test_port61_refresh_toggles(void **state)
{
	uint8_t a = in(PORT61) & 0x10;

	vmm_harness_clock_step(F->h, 15085);
	assert_int_not_equal(in(PORT61) & 0x10, a);
	vmm_harness_clock_step(F->h, 15085);
	assert_int_equal(in(PORT61) & 0x10, a);
}

/* ---- host side ---- */

static void test_mode2_shortest_period_shows_every_pulse(void **state)
{
	/* Count 2 in mode 2: OUT low one pulse in two, and one long clock
	 * step still shows every pulse. */
	program(0, 2, 2);
	unsigned r = raises0();

	to_tick(1001);
	assert_int_equal(raises0() - r, 500);
}

static void test_control_register_is_write_only(void **state)
{
	unsigned long before = vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR);

	assert_int_equal(in(PIT_CTRL), 0xff);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), before + 1);
}

static void test_reset_returns_to_power_on(void **state)
{
	program(0, 2, 100);
	out(PORT61, 0x03);
	assert_int_equal(irq0(), 1);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(irq0(), 0);
	assert_int_equal(in(PORT61) & 0x03, 0);
	assert_int_equal(readback_status(0), 0x40 | 0x30);
	unsigned r = raises0();

	to_tick(100000);
	assert_int_equal(raises0(), r);
}

static void test_irq_property(void **state)
{
	static const char *const props[] = { "irq=2", NULL };

	F->dev = vmm_harness_create_device(F->h, "i8254", "pit", props);
	assert_non_null(F->dev);
	program(0, 2, 10);
	assert_int_equal(vmm_harness_irq_level(F->h, 2), 1);
	assert_int_equal(vmm_harness_irq_level(F->h, 0), 0);
}

static void test_kernel_mode_auto(void **state)
{
	unsigned long unclaimed;

	vmm_harness_set_irq_mode(F->h, VMM_IRQ_KERNEL);
	F->dev = vmm_harness_create_device(F->h, "i8254", "pit", NULL);
	assert_non_null(F->dev);
	assert_true(vmm_harness_accel_requested(F->h, VMM_ACCEL_PIT));
	/* Nothing mapped: the hypervisor owns the ports. */
	unclaimed = vmm_harness_unclaimed_count(F->h);
	out(PIT_CTRL, 0x34);
	assert_int_equal(in(0x40), 0xff);
	assert_int_equal(in(PORT61), 0xff);
	assert_int_equal(vmm_harness_unclaimed_count(F->h), unclaimed + 3);
	vmm_harness_clock_step(F->h, 1000000000);
	assert_int_equal(raises0(), 0);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
}

static void test_kernel_mode_explicit(void **state)
{
	static const char *const kernel[] = { "mode=kernel", NULL };

	vmm_harness_set_irq_mode(F->h, VMM_IRQ_KERNEL);
	assert_non_null(vmm_harness_create_device(F->h, "i8254", "pit", kernel));
	assert_true(vmm_harness_accel_requested(F->h, VMM_ACCEL_PIT));
}

static void test_kernel_mode_refused_without_kernel_irqchip(void **state)
{
	static const char *const kernel[] = { "mode=kernel", NULL };

	vmm_harness_set_irq_mode(F->h, VMM_IRQ_SPLIT);
	assert_null(vmm_harness_create_device(F->h, "i8254", "pit", kernel));
	assert_false(vmm_harness_accel_requested(F->h, VMM_ACCEL_PIT));
	/* Split irqchip, auto: emulated here. */
	F->dev = vmm_harness_create_device(F->h, "i8254", "pit", NULL);
	assert_non_null(F->dev);
	assert_false(vmm_harness_accel_requested(F->h, VMM_ACCEL_PIT));
	program(0, 2, 10);
	assert_int_equal(irq0(), 1);
}

static void test_emulated_mode_on_kernel_irqchip(void **state)
{
	static const char *const emulated[] = { "mode=emulated", NULL };

	vmm_harness_set_irq_mode(F->h, VMM_IRQ_KERNEL);
	F->dev = vmm_harness_create_device(F->h, "i8254", "pit", emulated);
	assert_non_null(F->dev);
	assert_false(vmm_harness_accel_requested(F->h, VMM_ACCEL_PIT));
	program(0, 2, 10);
	to_tick(1);
	assert_int_equal(read_word(0), 10);
}

static void test_bad_properties(void **state)
{
	static const char *const bad_mode[] = { "mode=fast", NULL };
	static const char *const bad_irq[] = { "irq=256", NULL };

	assert_null(vmm_harness_create_device(F->h, "i8254", "pit", bad_mode));
	assert_null(vmm_harness_create_device(F->h, "i8254", "pit", bad_irq));
}

static void test_ports_clash_with_second_instance(void **state)
{
	assert_non_null(vmm_harness_create_device(F->h, "i8254", "pit", NULL));
	assert_null(vmm_harness_create_device(F->h, "i8254", "pit2", NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TB(fn) cmocka_unit_test_setup_teardown(fn, setup_bare, teardown)

/* ---- saved state (ABI 1.12) ---- */

/* Mid-operation: counter 0 in mode 2 half-way through a 1000-pulse
 * period with a count latched 100 pulses ago and half read (LSB taken,
 * MSB pending); counter
 * 1 in mode 4 with only the LSB of a word count written; counter 2 in
 * mode 3 gated on, with the speaker enabled. */
static void pit_mid_operation(void)
{
	to_tick(10);
	program(0, 2, 1000);			/* loaded at tick 11 */
	out(PORT61, 0x03);			/* gate 2 and speaker */
	program(2, 3, 300);
	out(PIT_CTRL, (uint8_t)(SC(1) | RW_WORD | MODE(4)));
	out(0x41, 0x34);			/* LSB of 0x1234; MSB to come */
	to_tick(11 + 488);
	out(PIT_CTRL, (uint8_t)SC(0));		/* latch counter 0 at 512 */
	assert_int_equal(in(0x40), 0x00);
	to_tick(11 + 588);			/* counting on: 412 */
}

static uint8_t hin(struct vmm_harness *h, uint16_t port)
{
	return (uint8_t)vmm_harness_pio_read(h, port, 1);
}

#define PIT_SCRIPT_MAX 256

/* What the guest sees from now on: the pending latched MSB, live counts,
 * port 0x61, and line 0 (counter 0's OUT) and OUT2 every 50 ticks. */
static size_t pit_script(struct vmm_harness *h, unsigned *v)
{
	unsigned base = vmm_harness_irq_raises(h, 0);
	size_t n = 0;

	v[n++] = hin(h, 0x40);				/* latched MSB */
	v[n++] = hin(h, 0x40) | (unsigned)hin(h, 0x40) << 8;
	v[n++] = hin(h, PORT61) & 0x23;			/* OUT2, speaker, gate */
	vmm_harness_pio_write(h, 0x41, 1, 0x12);	/* the MSB: count 0x1234 */
	for (int i = 0; i < 60; i++) {
		vmm_harness_clock_step(h, tick_ns(50));
		v[n++] = (unsigned)vmm_harness_irq_level(h, 0);
		v[n++] = vmm_harness_irq_raises(h, 0) - base;
		v[n++] = (hin(h, PORT61) >> 5) & 1;
	}
	vmm_harness_pio_write(h, PIT_CTRL, 1, 0xc0 | 0x0e);	/* read-back: counts */
	for (uint16_t c = 0; c < 3; c++)
		v[n++] = hin(h, 0x40 + c) | (unsigned)hin(h, 0x40 + c) << 8;
	return n;
}

static struct vmm_harness *pit_restore_target(struct vmm_harness_dev **dev)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_EMULATED);
	vmm_harness_clock_step(h, vmm_harness_clock_ns(F->h));
	*dev = vmm_harness_create_device(h, "i8254", "pit", NULL);
	assert_non_null(*dev);
	return h;
}

static void test_save_load_mid_operation(void **state)
{
	unsigned want[PIT_SCRIPT_MAX], got[PIT_SCRIPT_MAX];
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, n1, n2;
	void *rec;

	pit_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pit_restore_target(&dev2);
	assert_int_equal(vmm_harness_irq_level(h2, 0), 0);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	/* mode 2's OUT is high between pulses: the line is held again */
	assert_int_equal(vmm_harness_irq_level(h2, 0), 1);
	n1 = pit_script(F->h, want);
	n2 = pit_script(h2, got);
	assert_int_equal(n1, n2);
	assert_memory_equal(want, got, n1 * sizeof(want[0]));
	/* the script saw the saved state, not a fresh chip */
	assert_int_equal(want[0], 512 >> 8);		/* latched, not live (412) */
	assert_int_equal(want[2], 0x03 | (want[2] & 0x20));
	assert_int_equal(want[4 + 3 * 19], 1);	/* a pulse every 1000 ticks */
	assert_int_equal(want[4 + 3 * 59], 3);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_corrupt_fields(void **state)
{
	static const struct {
		const char *field;
		uint8_t byte;		/* byte index in the field */
		uint8_t value;
	} bad[] = {
		{ "c0.n", 0, 0 },		/* count 0: would divide by zero */
		{ "c0.n", 2, 2 },		/* past 65536 */
		{ "c1.ctrl", 0, 0x40 },
		{ "c2.gate", 0, 2 },
		{ "c0.load_at", 5, 1 },		/* a load 2^40 ticks ahead */
		{ "c0.base", 5, 1 },		/* a period started in the future */
		{ "c0.val", 7, 0x80 },		/* a count below anything reachable */
		{ "c0.out", 0, 2 },
		{ "c0.deadline_ns", 6, 1 },	/* a timer far past any count */
		{ "speaker", 0, 7 },
	};
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, flen;
	uint8_t *rec;

	pit_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pit_restore_target(&dev2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = record_field(rec, len, bad[i].field, &flen), keep[8];

		memcpy(keep, p, flen);
		if (!strcmp(bad[i].field, "c0.n"))
			memset(p, 0, flen);
		p[bad[i].byte] = bad[i].value;
		assert_int_equal(vmm_harness_load(dev2, rec, len), -EINVAL);
		memcpy(p, keep, flen);
	}
	/* nothing of the refused records reached the instance */
	assert_int_equal(vmm_harness_irq_level(h2, 0), 0);
	record_hide_field(rec, len, "c2.val");
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

	pit_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pit_restore_target(&dev2);
	record_expect_next_version_refused(dev2, rec, len, 1);
	free(rec);
	vmm_harness_free(h2);
}

/* In kernel mode the hypervisor's PIT holds the state: the record says
 * so and nothing else, and an emulated instance refuses it. */
static void test_kernel_mode_record_has_no_counters(void **state)
{
	struct vmm_harness *hk = vmm_harness_new();
	struct vmm_harness_dev *k;
	size_t len;
	uint8_t *rec;

	vmm_harness_set_irq_mode(hk, VMM_IRQ_KERNEL);
	k = vmm_harness_create_device(hk, "i8254", "pit", NULL);
	assert_non_null(k);
	rec = vmm_harness_save(k, &len);
	assert_non_null(rec);
	assert_int_equal(*record_field(rec, len, "emulated", NULL), 0);
	assert_int_equal(record_le32(record_version(rec, len) + 4), 1);	/* one field */
	assert_int_equal(vmm_harness_load(k, rec, len), 0);
	assert_int_equal(vmm_harness_load(F->dev, rec, len), -EINVAL);
	free(rec);
	vmm_harness_free(hk);
}

/* A hostile snapshot: every byte of the record in turn set to 0xff or
 * 0x80.  Load refuses it or takes it, and whatever it took, the guest's
 * reads and the clock running on never crash nor hang the model. */
static void test_load_survives_any_corrupt_byte(void **state)
{
	static const uint16_t ports[] = { 0x40, 0x41, 0x42, PORT61 };
	static const uint8_t values[] = { 0xff, 0x80 };
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	pit_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pit_restore_target(&dev2);
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
		T(test_mode0_out_rises_n_plus_1_pulses_after_write),
		T(test_mode0_first_byte_stops_counting_and_drops_out),
		T(test_mode0_count_zero_is_65536),
		T(test_mode1_one_shot_on_gate_edge),
		T(test_mode1_retrigger_restarts_the_pulse),
		T(test_mode1_new_count_waits_for_trigger),
		T(test_mode2_out_low_for_one_pulse_at_count_1),
		T(test_mode2_1193_gives_1000_hz),
		T(test_mode2_new_count_at_end_of_period),
		T(test_mode2_gate_low_stops_and_rising_edge_reloads),
		T(test_mode3_even_count),
		T(test_mode3_odd_count_high_longer),
		T(test_mode3_new_count_at_end_of_half_cycle),
		T(test_mode3_gate_low_forces_out_high),
		T(test_mode4_strobe),
		T(test_mode4_gate_low_pauses),
		T(test_mode5_strobe_after_trigger),
		T(test_bcd_counting),
		T(test_bcd_count_zero_is_10000),
		T(test_bad_bcd_is_a_guest_error),
		T(test_access_lsb_only),
		T(test_access_msb_only),
		T(test_access_word_flip_flops_are_separate),
		T(test_counter_latch_freezes_until_read),
		T(test_readback_counts_and_status_of_several_counters),
		T(test_readback_status_then_count_order_and_ignored_relatch),
		T(test_null_count_after_control_and_count_writes),
		T(test_mode0_gate_low_pauses_counting),
		T(test_port61_bits),
		T(test_port61_refresh_toggles),
		T(test_mode2_shortest_period_shows_every_pulse),
		T(test_control_register_is_write_only),
		T(test_reset_returns_to_power_on),
		T(test_save_load_mid_operation),
		T(test_load_refuses_corrupt_fields),
		T(test_load_refuses_unknown_version),
		T(test_load_survives_any_corrupt_byte),
		T(test_kernel_mode_record_has_no_counters),
		TB(test_irq_property),
		TB(test_kernel_mode_auto),
		TB(test_kernel_mode_explicit),
		TB(test_kernel_mode_refused_without_kernel_irqchip),
		TB(test_emulated_mode_on_kernel_irqchip),
		TB(test_bad_properties),
		TB(test_ports_clash_with_second_instance),
	};

	return cmocka_run_group_tests_name("i8254", tests, NULL, NULL);
}
