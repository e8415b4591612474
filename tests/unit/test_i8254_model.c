/* tests/unit/test_i8254_model.c - what the harness cannot show: the 8254
 * model driven directly with a fake clock that runs late, as the main loop
 * under vmmctl does, and the clock conversions at their edges. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "devices/i8254/i8254.h"

struct fake {
	uint64_t now;
	int level;
	unsigned raises, falls;
	uint64_t deadline;
	bool armed;
};

static uint64_t fake_now(void *opaque)
{
	return ((struct fake *)opaque)->now;
}

static void fake_set_out(void *opaque, unsigned idx, int level)
{
	struct fake *f = opaque;

	if (level && !f->level)
		f->raises++;
	if (!level && f->level)
		f->falls++;
	f->level = level;
}

static void fake_arm(void *opaque, unsigned idx, uint64_t deadline_ns)
{
	struct fake *f = opaque;

	f->deadline = deadline_ns;
	f->armed = true;
}

static void fake_cancel(void *opaque, unsigned idx)
{
	((struct fake *)opaque)->armed = false;
}

static const struct i8254_ops fake_ops = {
	.now_ns = fake_now,
	.set_out = fake_set_out,
	.timer_arm = fake_arm,
	.timer_cancel = fake_cancel,
};

static void fire_at(struct i8254 *p, struct fake *f, uint64_t ns)
{
	f->now = ns;
	f->armed = false;
	i8254_timer_expired(p, 0);
}

static void test_late_timer_still_shows_the_mode2_pulse(void **state)
{
	struct fake f = { 0 };
	struct i8254 p;

	i8254_init(&p, &fake_ops, &f, 1);
	i8254_write(&p, I8254_REG_CONTROL, 0x34); /* counter 0, word, mode 2 */
	i8254_write(&p, I8254_REG_COUNTER0, 10);
	i8254_write(&p, I8254_REG_COUNTER0, 0);
	assert_int_equal(f.level, 1);
	unsigned raises = f.raises;

	/* Loaded at tick 1; the timer asks for the load, then for the fall
	 * at tick 10.  Fire the fall 3 ticks late: OUT is high again by then,
	 * yet the pulse must be seen. */
	assert_true(f.armed);
	fire_at(&p, &f, f.deadline);
	assert_true(f.armed);
	assert_int_equal(f.deadline, i8254_tick_to_ns(10));
	fire_at(&p, &f, i8254_tick_to_ns(13));
	assert_int_equal(f.falls, 1);
	assert_int_equal(f.raises, raises + 1);
	assert_int_equal(f.level, 1);
	/* The next edge is the fall at tick 20. */
	assert_true(f.armed);
	assert_int_equal(f.deadline, i8254_tick_to_ns(20));
}

/* Linux's one-shot clockevent (drivers/clocksource/i8253.c): control word
 * 0x38 (counter 0, word, mode 4), then a short count per event.  The timer
 * armed for the load may fire after the whole count has run out; the strobe
 * (OUT low for one clock, then high: the rising edge IRQ 0 sees) must still
 * happen, or the guest waits for a tick that never comes. */
static void test_late_timer_still_shows_the_mode4_strobe(void **state)
{
	struct fake f = { 0 };
	struct i8254 p;

	i8254_init(&p, &fake_ops, &f, 1);
	i8254_write(&p, I8254_REG_CONTROL, 0x38);
	for (unsigned event = 1; event <= 3; event++) {
		unsigned raises = f.raises, falls = f.falls;
		uint64_t written = f.now;

		i8254_write(&p, I8254_REG_COUNTER0, 15); /* ~12.6 us, Linux's min_delta */
		i8254_write(&p, I8254_REG_COUNTER0, 0);
		assert_int_equal(f.level, 1);
		assert_true(f.armed);
		/* fire 100 ticks after the load was due */
		fire_at(&p, &f, f.deadline + i8254_tick_to_ns(100));
		assert_int_equal(f.falls, falls + 1);
		assert_int_equal(f.raises, raises + 1);
		assert_int_equal(f.level, 1);
		/* nothing more until the next count */
		assert_false(f.armed);
		assert_true(f.now > written);
	}
}

static void test_clock_conversion_edges(void **state)
{
	static const int64_t ticks[] = { 1, 2, 1193, 1193181, 1193182, 1193183,
					 (int64_t)1 << 40 };

	assert_int_equal(i8254_ns_to_tick(0), 0);
	assert_int_equal(i8254_ns_to_tick(1000000000), 1193182);
	assert_int_equal(i8254_ns_to_tick(UINT64_MAX), (int64_t)((unsigned __int128)UINT64_MAX * 1193182 / 1000000000));
	for (size_t i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++) {
		uint64_t ns = i8254_tick_to_ns(ticks[i]);

		assert_int_equal(i8254_ns_to_tick(ns), ticks[i]);
		assert_int_equal(i8254_ns_to_tick(ns - 1), ticks[i] - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_late_timer_still_shows_the_mode2_pulse),
		cmocka_unit_test(test_late_timer_still_shows_the_mode4_strobe),
		cmocka_unit_test(test_clock_conversion_edges),
	};

	return cmocka_run_group_tests_name("i8254-model", tests, NULL, NULL);
}
