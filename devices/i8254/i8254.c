/* SPDX-License-Identifier: MIT */
/*
 * devices/i8254/i8254.c - the 8254 programmable interval timer model.
 *
 * Nothing here ticks.  Each counter remembers when its counting element (CE)
 * was loaded and with what; the CE and OUT at any later tick follow in closed
 * form, and the only change that happens by itself with time, the count
 * register (CR) moving into the CE, is applied lazily by counter_sync() when
 * someone looks.  OUT edges that somebody listens to are found by asking
 * when OUT next changes and arming a timer for that tick.
 *
 * As on the chip, a count written at tick t is loaded on the next clock
 * pulse, t + 1, and that pulse does not decrement it: in mode 0 OUT rises
 * N + 1 pulses after the count is written.  Gate changes are seen at the
 * tick they happen in.
 */
#include <string.h>

#include "i8254.h"

#define NEVER INT64_MAX
/* Edges a late timer replays (see i8254_timer_expired). */
#define I8254_LATE_EDGES 4

/* The PC's DRAM refresh request toggles port 0x61 bit 4 every 15.085 us. */
#define REFRESH_PERIOD_NS 15085u

int64_t i8254_ns_to_tick(uint64_t ns)
{
	return (int64_t)((unsigned __int128)ns * I8254_CLOCK_HZ / 1000000000u);
}

uint64_t i8254_tick_to_ns(int64_t tick)
{
	unsigned __int128 ns;

	if (tick <= 0)
		return 0;
	/* Round up: the first nanosecond whose tick is `tick`. */
	ns = ((unsigned __int128)tick * 1000000000u + I8254_CLOCK_HZ - 1) / I8254_CLOCK_HZ;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

/* Modes 6 and 7 are 2 and 3 with a don't-care bit set. */
static unsigned counter_mode(const struct i8254_counter_state *c)
{
	unsigned m = (c->ctrl >> I8254_CW_MODE_SHIFT) & 7;

	return m >= 6 ? m - 4 : m;
}

static unsigned counter_rw(const struct i8254_counter_state *c)
{
	return (c->ctrl >> I8254_CW_RW_SHIFT) & 3;
}

static bool counter_bcd(const struct i8254_counter_state *c)
{
	return c->ctrl & I8254_CW_BCD;
}

static int64_t counter_modulus(const struct i8254_counter_state *c)
{
	return counter_bcd(c) ? 10000 : 65536;
}

static void guest_error(struct i8254 *p, const char *what)
{
	if (p->ops->guest_error)
		p->ops->guest_error(p->opaque, what);
}

static int64_t now_tick(struct i8254 *p)
{
	return i8254_ns_to_tick(p->ops->now_ns(p->opaque));
}

/* The CR as a count of clock pulses: 0 is the largest count. */
static int64_t cr_count(struct i8254 *p, const struct i8254_counter_state *c)
{
	int64_t v = 0;
	bool bad = false;

	if (!counter_bcd(c))
		return c->cr ? c->cr : 65536;
	for (int shift = 12; shift >= 0; shift -= 4) {
		unsigned d = (c->cr >> shift) & 0xf;

		bad |= d > 9;
		v = v * 10 + d;
	}
	if (bad)
		guest_error(p, "count is not BCD in BCD mode");
	v %= 10000;
	return v ? v : 10000;
}

/* What the CE holds in the chip's own notation, binary or BCD. */
static uint16_t ce_encode(const struct i8254_counter_state *c, int64_t v)
{
	uint16_t bcd = 0;

	if (!counter_bcd(c))
		return (uint16_t)v;
	for (int shift = 0; shift < 16; shift += 4) {
		bcd |= (uint16_t)((v % 10) << shift);
		v /= 10;
	}
	return bcd;
}

/* Mode 3 halves: even counts split evenly, odd ones give the extra pulse
 * to the high half. */
static int64_t sq_high(int64_t n)
{
	return (n + 1) / 2;
}

static int64_t sq_low(int64_t n)
{
	return n / 2;
}

/* Modes 0, 1, 4, 5: pulses left to terminal count at tick t. */
static int64_t counter_rem(const struct i8254_counter_state *c, int64_t t)
{
	return c->running ? c->val - (t - c->base) : c->val;
}

/* Modes 2, 3 while running: position inside the period. */
static int64_t counter_phase(const struct i8254_counter_state *c, int64_t t)
{
	return (t - c->base) % c->n;
}

/* The CE at tick t, reduced to 0..modulus-1. */
static int64_t counter_ce(const struct i8254_counter_state *c, int64_t t)
{
	int64_t m = counter_modulus(c), v, ph;

	if (!c->running) {
		v = c->val;
	} else {
		switch (counter_mode(c)) {
		case 2:
			v = c->n - counter_phase(c, t);
			break;
		case 3:
			/* Odd counts load N - 1 and both halves count by two. */
			ph = counter_phase(c, t);
			if (ph >= sq_high(c->n))
				ph -= sq_high(c->n);
			v = (c->n & ~(int64_t)1) - 2 * ph;
			break;
		default:
			v = counter_rem(c, t);
			break;
		}
	}
	return ((v % m) + m) % m;
}

static int counter_out(const struct i8254_counter_state *c, int64_t t)
{
	switch (counter_mode(c)) {
	case 0:
		return c->loaded && counter_rem(c, t) <= 0;
	case 1:
		return !(c->loaded && counter_rem(c, t) > 0);
	case 2:
		if (!c->loaded || !c->running)
			return 1;
		return counter_phase(c, t) != c->n - 1;
	case 3:
		if (!c->loaded || !c->running)
			return 1;
		return counter_phase(c, t) < sq_high(c->n);
	default: /* 4, 5 */
		return !(c->loaded && counter_rem(c, t) == 0);
	}
}

/* The first tick after t at which OUT changes if nothing else happens. */
static int64_t counter_next_edge(const struct i8254_counter_state *c, int64_t t)
{
	int64_t r, ph;

	if (!c->loaded || !c->running)
		return NEVER;
	switch (counter_mode(c)) {
	case 0:
	case 1:
		r = counter_rem(c, t);
		return r > 0 ? t + r : NEVER;
	case 2:
		if (c->n == 1)
			return NEVER;
		ph = counter_phase(c, t);
		return ph < c->n - 1 ? t + (c->n - 1 - ph) : t + 1;
	case 3:
		if (sq_low(c->n) == 0)
			return NEVER;
		ph = counter_phase(c, t);
		return ph < sq_high(c->n) ? t + (sq_high(c->n) - ph) : t + (c->n - ph);
	default: /* 4, 5: low for the one pulse at terminal count */
		r = counter_rem(c, t);
		if (r > 0)
			return t + r;
		return r == 0 ? t + 1 : NEVER;
	}
}

/* The CR moves into the CE at tick T. */
static void counter_load(struct i8254 *p, struct i8254_counter_state *c, int64_t T)
{
	c->n = cr_count(p, c);
	c->null_count = false;
	c->load_at = NEVER;
	c->loaded = true;
	c->base = T;
	switch (counter_mode(c)) {
	case 0:
	case 4:
		c->val = c->n;
		c->running = c->gate;
		break;
	case 1:
	case 5:
		/* The gate only triggers these; it never stops them. */
		c->val = c->n;
		c->running = true;
		break;
	case 2:
		if (c->n == 1)
			guest_error(p, "count 1 is illegal in mode 2");
		c->running = c->gate;
		c->val = c->n;
		break;
	case 3:
		/* A count written mid-period takes over at the end of the
		 * current half; if that half is the high one, the new count
		 * starts with its low half. */
		if (c->load_low)
			c->base = T - sq_high(c->n);
		c->load_low = false;
		c->running = c->gate;
		c->val = c->n & ~(int64_t)1;
		break;
	}
}

static void counter_sync(struct i8254 *p, struct i8254_counter_state *c, int64_t t)
{
	if (c->load_at <= t)
		counter_load(p, c, c->load_at);
}

/* Stop the CE where it is, keeping its value for reads. */
static void counter_freeze(struct i8254_counter_state *c, int64_t t)
{
	unsigned mode = counter_mode(c);

	if (mode == 2 || mode == 3)
		c->val = counter_ce(c, t);
	else
		c->val = counter_rem(c, t);
	c->running = false;
}

/* Report OUT and (re)arm the timer for the next tick anything can change. */
static void counter_update(struct i8254 *p, unsigned idx, int64_t t)
{
	struct i8254_counter_state *c = &p->s.c[idx];
	int64_t next;
	int level;

	if (!(p->out_mask & (1u << idx)))
		return;
	level = counter_out(c, t);
	if (level != p->out_level[idx]) {
		p->out_level[idx] = level;
		p->ops->set_out(p->opaque, idx, level);
	}
	next = counter_next_edge(c, t);
	if (c->load_at > t && c->load_at < next)
		next = c->load_at;
	if (next != NEVER) {
		p->event[idx] = next;
		p->ops->timer_arm(p->opaque, idx, i8254_tick_to_ns(next));
	} else if (p->event[idx] >= 0) {
		p->event[idx] = -1;
		p->ops->timer_cancel(p->opaque, idx);
	}
}

void i8254_timer_expired(struct i8254 *p, unsigned idx)
{
	struct i8254_counter_state *c;
	int64_t t, e;
	int level;

	if (idx >= I8254_NR_COUNTERS)
		return;
	c = &p->s.c[idx];
	t = now_tick(p);
	e = p->event[idx];
	p->event[idx] = -1;
	/* A late timer must still show the edges it slept through, or a
	 * pulse one clock wide slips by unseen: mode 2's low clock, and
	 * mode 4's strobe when the timer armed for the load fires after the
	 * count has run out (Linux's one-shot clockevent asks for ~15
	 * clocks, far less than a main-loop wake-up can be late).  A few
	 * edges are enough: load, fall, rise; older periods of a periodic
	 * mode merge, as a late tick would on hardware's interrupt line. */
	for (unsigned n = 0; e >= 0 && e < t && n < I8254_LATE_EDGES; n++) {
		int64_t next;

		counter_sync(p, c, e);
		level = counter_out(c, e);
		if (level != p->out_level[idx]) {
			p->out_level[idx] = level;
			p->ops->set_out(p->opaque, idx, level);
		}
		next = counter_next_edge(c, e);
		if (c->load_at > e && c->load_at < next)
			next = c->load_at;
		e = next == NEVER ? -1 : next;
	}
	counter_sync(p, c, t);
	counter_update(p, idx, t);
}

static void counter_write_control(struct i8254 *p, struct i8254_counter_state *c, uint8_t value,
				  int64_t t)
{
	counter_freeze(c, t);
	/* The frozen value stays readable as a CE, whatever the new mode. */
	c->val = counter_ce(c, t);
	c->ctrl = value & 0x3f;
	c->loaded = false;
	c->load_at = NEVER;
	c->load_low = false;
	c->null_count = true;
	c->have_count = false;
	c->write_msb = false;
	c->read_msb = false;
	c->count_latched = false;
	c->status_latched = false;
}

static void counter_latch(struct i8254_counter_state *c, int64_t t)
{
	/* A second latch before the first is read is ignored. */
	if (c->count_latched)
		return;
	c->ol = ce_encode(c, counter_ce(c, t));
	c->count_latched = true;
}

static void counter_latch_status(struct i8254_counter_state *c, int64_t t)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((counter_out(c, t) ? I8254_ST_OUT : 0) |
			      (c->null_count ? I8254_ST_NULL : 0) | c->ctrl);
	c->status_latched = true;
}

/* A whole new count is in the CR. */
static void counter_count_written(struct i8254_counter_state *c, int64_t t)
{
	int64_t ph;

	c->null_count = true;
	c->have_count = true;
	switch (counter_mode(c)) {
	case 0:
		counter_freeze(c, t);
		c->loaded = false;
		c->load_at = t + 1;
		break;
	case 4:
		c->load_at = t + 1;
		break;
	case 1:
	case 5:
		/* Waits for the next trigger. */
		break;
	case 2:
		if (!c->loaded) {
			c->load_at = t + 1;
		} else if (c->running) {
			ph = counter_phase(c, t);
			c->load_at = t + (c->n - ph);
		}
		/* Gate low: the rising edge reloads. */
		break;
	case 3:
		if (!c->loaded) {
			c->load_at = t + 1;
			c->load_low = false;
		} else if (c->running) {
			ph = counter_phase(c, t);
			if (ph < sq_high(c->n)) {
				c->load_at = t + (sq_high(c->n) - ph);
				c->load_low = true;
			} else {
				c->load_at = t + (c->n - ph);
				c->load_low = false;
			}
		}
		break;
	}
}

static void counter_write(struct i8254_counter_state *c, uint8_t value, int64_t t)
{
	switch (counter_rw(c)) {
	case I8254_RW_LSB:
		c->cr = value;
		counter_count_written(c, t);
		break;
	case I8254_RW_MSB:
		c->cr = (uint16_t)(value << 8);
		counter_count_written(c, t);
		break;
	default:
		if (!c->write_msb) {
			c->cr_lsb = value;
			c->write_msb = true;
			/* Mode 0: the first byte stops counting and drops OUT. */
			if (counter_mode(c) == 0) {
				counter_freeze(c, t);
				c->loaded = false;
				c->load_at = NEVER;
			}
		} else {
			c->write_msb = false;
			c->cr = (uint16_t)(c->cr_lsb | value << 8);
			counter_count_written(c, t);
		}
		break;
	}
}

static uint8_t counter_read(struct i8254_counter_state *c, int64_t t)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->count_latched ? c->ol : ce_encode(c, counter_ce(c, t));
	switch (counter_rw(c)) {
	case I8254_RW_LSB:
		c->count_latched = false;
		return (uint8_t)v;
	case I8254_RW_MSB:
		c->count_latched = false;
		return (uint8_t)(v >> 8);
	default:
		if (!c->read_msb) {
			c->read_msb = true;
			return (uint8_t)v;
		}
		c->read_msb = false;
		c->count_latched = false;
		return (uint8_t)(v >> 8);
	}
}

static void i8254_write_control(struct i8254 *p, uint8_t value, int64_t t)
{
	unsigned sc = value >> I8254_CW_SC_SHIFT;

	if (sc == I8254_SC_READBACK) {
		for (unsigned i = 0; i < I8254_NR_COUNTERS; i++) {
			struct i8254_counter_state *c = &p->s.c[i];

			if (!(value & I8254_RB_CNT(i)))
				continue;
			counter_sync(p, c, t);
			if (!(value & I8254_RB_NO_COUNT))
				counter_latch(c, t);
			if (!(value & I8254_RB_NO_STATUS))
				counter_latch_status(c, t);
		}
		return;
	}
	counter_sync(p, &p->s.c[sc], t);
	if (((value >> I8254_CW_RW_SHIFT) & 3) == I8254_RW_LATCH)
		counter_latch(&p->s.c[sc], t);
	else
		counter_write_control(p, &p->s.c[sc], value, t);
	counter_update(p, sc, t);
}

uint8_t i8254_read(struct i8254 *p, unsigned offset)
{
	int64_t t = now_tick(p);

	if (offset >= I8254_REG_CONTROL) {
		/* The control word register cannot be read: the chip leaves
		 * the bus floating. */
		guest_error(p, "read of the write-only control word register");
		return 0xff;
	}
	counter_sync(p, &p->s.c[offset], t);
	return counter_read(&p->s.c[offset], t);
}

void i8254_write(struct i8254 *p, unsigned offset, uint8_t value)
{
	int64_t t = now_tick(p);

	if (offset >= I8254_NR_REGS)
		return;
	if (offset == I8254_REG_CONTROL) {
		i8254_write_control(p, value, t);
		return;
	}
	counter_sync(p, &p->s.c[offset], t);
	counter_write(&p->s.c[offset], value, t);
	counter_update(p, offset, t);
}

void i8254_set_gate(struct i8254 *p, unsigned idx, bool level)
{
	struct i8254_counter_state *c;
	int64_t t = now_tick(p);

	if (idx >= I8254_NR_COUNTERS)
		return;
	c = &p->s.c[idx];
	counter_sync(p, c, t);
	if (c->gate == level)
		return;
	c->gate = level;
	switch (counter_mode(c)) {
	case 0:
	case 4:
		if (level && c->loaded) {
			c->base = t;
			c->running = true;
		} else if (!level && c->running) {
			counter_freeze(c, t);
		}
		break;
	case 1:
	case 5:
		/* A rising edge (re)starts the one-shot on the next pulse. */
		if (level && c->have_count)
			c->load_at = t + 1;
		break;
	case 2:
	case 3:
		if (level && c->have_count) {
			c->load_at = t + 1;
			c->load_low = false;
		} else if (!level && c->running) {
			/* OUT goes high at once; a count written mid-period
			 * waits for the rising edge's reload. */
			counter_freeze(c, t);
			if (c->loaded)
				c->load_at = NEVER;
		}
		break;
	}
	counter_update(p, idx, t);
}

int i8254_out(struct i8254 *p, unsigned idx)
{
	int64_t t = now_tick(p);

	if (idx >= I8254_NR_COUNTERS)
		return 0;
	counter_sync(p, &p->s.c[idx], t);
	return counter_out(&p->s.c[idx], t);
}

uint8_t i8254_port61_read(struct i8254 *p)
{
	uint64_t ns = p->ops->now_ns(p->opaque);
	uint8_t v = 0;

	if (p->s.c[2].gate)
		v |= I8254_P61_GATE2;
	if (p->s.speaker)
		v |= I8254_P61_SPKR;
	if ((ns / REFRESH_PERIOD_NS) & 1)
		v |= I8254_P61_REFRESH;
	if (i8254_out(p, 2))
		v |= I8254_P61_OUT2;
	return v;
}

void i8254_port61_write(struct i8254 *p, uint8_t value)
{
	p->s.speaker = value & I8254_P61_SPKR;
	i8254_set_gate(p, 2, value & I8254_P61_GATE2);
}

/* The furthest ahead of `now` a load can be scheduled: a mode 2 or 3
 * count written at the start of a 65536-pulse period, and one pulse. */
#define LOAD_AHEAD (65536 + 1)

const char *i8254_state_check(const struct i8254_state *s, int64_t now)
{
	static const char *const what[I8254_NR_COUNTERS][4] = {
		{ "c0.n", "c0.base", "c0.load_at", "c0.val" },
		{ "c1.n", "c1.base", "c1.load_at", "c1.val" },
		{ "c2.n", "c2.base", "c2.load_at", "c2.val" },
	};

	for (unsigned i = 0; i < I8254_NR_COUNTERS; i++) {
		const struct i8254_counter_state *c = &s->c[i];

		/* n divides in modes 2 and 3. */
		if (c->n < 1 || c->n > counter_modulus(c))
			return what[i][0];
		/* A count is loaded at a pulse already past; mode 3 may date
		 * its period up to half a count earlier. */
		if (c->base > now || c->base < -65536)
			return what[i][1];
		if (c->load_at != NEVER && (c->load_at < 1 || c->load_at > now + LOAD_AHEAD))
			return what[i][2];
		/* A frozen count can be far below zero (terminal count long
		 * past), never below what the time since tick 0 allows. */
		if (c->val > 65536 || c->val < -(now + 2 * LOAD_AHEAD))
			return what[i][3];
	}
	return NULL;
}

void i8254_restore(struct i8254 *p, const struct i8254_state *s,
		   const int out_level[I8254_NR_COUNTERS], const int64_t event[I8254_NR_COUNTERS])
{
	p->s = *s;
	p->s.version = I8254_STATE_VERSION;
	for (unsigned i = 0; i < I8254_NR_COUNTERS; i++) {
		if (!(p->out_mask & (1u << i)))
			continue;
		/* The level the machine last saw, not OUT at this tick: a
		 * timer due at the save but not yet run still has its edge to
		 * show, at its own tick (see i8254_timer_expired). */
		p->out_level[i] = out_level[i];
		p->ops->set_out(p->opaque, i, out_level[i]);
		p->event[i] = event[i];
		if (event[i] >= 0)
			p->ops->timer_arm(p->opaque, i, i8254_tick_to_ns(event[i]));
		else
			p->ops->timer_cancel(p->opaque, i);
	}
}

void i8254_reset(struct i8254 *p)
{
	int64_t t = now_tick(p);

	memset(&p->s, 0, sizeof(p->s));
	p->s.version = I8254_STATE_VERSION;
	for (unsigned i = 0; i < I8254_NR_COUNTERS; i++) {
		struct i8254_counter_state *c = &p->s.c[i];

		c->ctrl = I8254_RW_WORD << I8254_CW_RW_SHIFT;
		c->n = 65536;
		c->load_at = NEVER;
		c->null_count = true;
		/* On the PC, gates 0 and 1 are tied high; gate 2 is port
		 * 0x61 bit 0, which resets to 0. */
		c->gate = i != 2;
		counter_update(p, i, t);
	}
}

void i8254_init(struct i8254 *p, const struct i8254_ops *ops, void *opaque, unsigned out_mask)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->opaque = opaque;
	p->out_mask = out_mask & ((1u << I8254_NR_COUNTERS) - 1);
	for (unsigned i = 0; i < I8254_NR_COUNTERS; i++) {
		p->out_level[i] = -1;
		p->event[i] = -1;
	}
	i8254_reset(p);
}
