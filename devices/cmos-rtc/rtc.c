/* SPDX-License-Identifier: MIT */
/*
 * devices/cmos-rtc/rtc.c - the MC146818A register model.
 *
 * The clock is not a set of counters ticking in RAM: the guest's time is a
 * seconds count, secs_at_origin plus the one-second boundaries of the
 * divider chain passed since its origin, and the time bytes are encoded
 * from it on every read.  Flags are folded in lazily on every register
 * access (catch_up), so their values are exact whatever the timers do; the
 * timers exist only to raise the interrupt line on time, and are armed only
 * while the matching interrupt is enabled.
 */
#include <string.h>

#include "rtc.h"

static const uint8_t rtc_time_regs[] = {
	RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
	RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY,
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void rtc_secs_to_time(int64_t secs, struct rtc_time *t)
{
	int64_t days = floor_div(secs, 86400), rem = floor_mod(secs, 86400);
	int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	t->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	t->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	t->year = yoe + era * 400 + (t->month <= 2);
	t->hour = (int)(rem / 3600);
	t->minute = (int)(rem / 60 % 60);
	t->second = (int)(rem % 60);
	t->wday = (int)floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

int64_t rtc_time_to_secs(const struct rtc_time *t)
{
	int64_t m0 = (int64_t)t->month - 1;
	int64_t year = t->year + floor_div(m0, 12);
	int64_t days = days_from_civil(year, (int)floor_mod(m0, 12) + 1, 1) + t->day - 1;

	return days * 86400 + (int64_t)t->hour * 3600 + (int64_t)t->minute * 60 + t->second;
}

/* ---- register encodings ---- */

static bool rtc_binary(const struct rtc *r)
{
	return r->s.cmos[RTC_REG_B] & RTC_B_DM;
}

static uint8_t rtc_to_reg(const struct rtc *r, int v)
{
	if (rtc_binary(r))
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* Invalid BCD digits decode positionally (0x5a is 60); the time then
 * normalises, so no guest byte is refused. */
static int rtc_from_reg(const struct rtc *r, uint8_t v)
{
	if (rtc_binary(r))
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_hour_to_reg(const struct rtc *r, int hour)
{
	int h12;

	if (r->s.cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_to_reg(r, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(rtc_to_reg(r, h12) | (hour >= 12 ? RTC_HOUR_PM : 0));
}

static int rtc_hour_from_reg(const struct rtc *r, uint8_t v)
{
	if (r->s.cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_from_reg(r, v);
	return rtc_from_reg(r, v & ~RTC_HOUR_PM) % 12 + (v & RTC_HOUR_PM ? 12 : 0);
}

/* ---- divider chain ---- */

static bool rtc_divider_running(const struct rtc *r)
{
	return (r->s.cmos[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_32K;
}

static bool rtc_counting(const struct rtc *r)
{
	return rtc_divider_running(r) && !(r->s.cmos[RTC_REG_B] & RTC_B_SET);
}

static int64_t rtc_now(const struct rtc *r)
{
	return (int64_t)r->ops->now_ns(r->opaque);
}

static int64_t rtc_boundaries(const struct rtc *r, int64_t now)
{
	return floor_div(now - r->s.origin_ns, RTC_NS_PER_SEC);
}

static int64_t rtc_secs(const struct rtc *r, int64_t now)
{
	if (r->s.frozen)
		return r->s.frozen_secs;
	return r->s.secs_at_origin + rtc_boundaries(r, now);
}

/* Periodic rate in Hz with the 32.768 kHz time base; 0 for none.  Rates 1
 * and 2 repeat rates 8 and 9 (256 and 128 Hz). */
static uint64_t rtc_periodic_hz(const struct rtc *r)
{
	unsigned rs = r->s.cmos[RTC_REG_A] & RTC_A_RS_MASK;

	if (!rs || !rtc_divider_running(r))
		return 0;
	if (rs < 3)
		rs += 7;
	return 32768u >> (rs - 1);
}

/* Periodic ticks since the origin: tick k falls at ceil(k s / hz). */
static uint64_t rtc_ticks(const struct rtc *r, int64_t now, uint64_t hz)
{
	uint64_t d = (uint64_t)(now - r->s.origin_ns);

	return d / RTC_NS_PER_SEC * hz + d % RTC_NS_PER_SEC * hz / RTC_NS_PER_SEC;
}

static uint64_t rtc_tick_time(const struct rtc *r, uint64_t k, uint64_t hz)
{
	uint64_t frac = k % hz * RTC_NS_PER_SEC;

	return (uint64_t)r->s.origin_ns + k / hz * RTC_NS_PER_SEC + (frac + hz - 1) / hz;
}

/* ---- flags and interrupt ---- */

static uint8_t rtc_irqf(const struct rtc *r)
{
	/* PF/AF/UF sit at the same bit positions as PIE/AIE/UIE. */
	return r->s.flags & r->s.cmos[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)
		? RTC_C_IRQF : 0;
}

static void rtc_update_irq(struct rtc *r)
{
	int level = rtc_irqf(r) != 0;

	if (level != r->irq_level) {
		r->irq_level = level;
		r->ops->set_irq(r->opaque, level);
	}
}

static bool rtc_alarm_field_matches(uint8_t alarm, uint8_t now)
{
	return (alarm & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE || alarm == now;
}

static bool rtc_alarm_matches(const struct rtc *r, int64_t secs)
{
	struct rtc_time t;

	rtc_secs_to_time(secs, &t);
	return rtc_alarm_field_matches(r->s.cmos[RTC_SECONDS_ALARM], rtc_to_reg(r, t.second)) &&
	       rtc_alarm_field_matches(r->s.cmos[RTC_MINUTES_ALARM], rtc_to_reg(r, t.minute)) &&
	       rtc_alarm_field_matches(r->s.cmos[RTC_HOURS_ALARM], rtc_hour_to_reg(r, t.hour));
}

/*
 * Fold everything that happened up to now into the flags: every update
 * cycle since the last look sets UF and checks the alarm; every periodic
 * tick sets PF.  A day of missed updates covers every alarm pattern.
 */
static void rtc_catch_up(struct rtc *r, int64_t now)
{
	int64_t b = rtc_boundaries(r, now);
	uint64_t hz = rtc_periodic_hz(r);

	if (rtc_counting(r) && b > r->s.updates_seen) {
		int64_t first = r->s.updates_seen + 1;

		if (b - first >= 86400)
			first = b - 86399;
		r->s.flags |= RTC_C_UF;
		for (int64_t j = first; j <= b && !(r->s.flags & RTC_C_AF); j++)
			if (rtc_alarm_matches(r, r->s.secs_at_origin + j))
				r->s.flags |= RTC_C_AF;
	}
	r->s.updates_seen = b;
	if (hz) {
		uint64_t t = rtc_ticks(r, now, hz);

		if (t > r->s.ticks_seen)
			r->s.flags |= RTC_C_PF;
		r->s.ticks_seen = t;
	}
}

static void rtc_reschedule(struct rtc *r, int64_t now)
{
	uint8_t b = r->s.cmos[RTC_REG_B];
	uint64_t hz = rtc_periodic_hz(r);

	if (rtc_counting(r) && (b & (RTC_B_UIE | RTC_B_AIE)))
		r->ops->timer_arm(r->opaque, RTC_TIMER_UPDATE,
				  (uint64_t)(r->s.origin_ns +
					     (rtc_boundaries(r, now) + 1) * RTC_NS_PER_SEC));
	else
		r->ops->timer_cancel(r->opaque, RTC_TIMER_UPDATE);

	if (hz && (b & RTC_B_PIE))
		r->ops->timer_arm(r->opaque, RTC_TIMER_PERIODIC,
				  rtc_tick_time(r, rtc_ticks(r, now, hz) + 1, hz));
	else
		r->ops->timer_cancel(r->opaque, RTC_TIMER_PERIODIC);
}

/* Stop or restart the seconds count.  Counting resumes from the frozen
 * value at the next boundary of the divider chain. */
static void rtc_set_counting(struct rtc *r, int64_t now, bool was)
{
	bool is = rtc_counting(r);

	if (was && !is) {
		r->s.frozen_secs = rtc_secs(r, now);
		r->s.frozen = true;
	} else if (!was && is) {
		r->s.secs_at_origin = r->s.frozen_secs - rtc_boundaries(r, now);
		r->s.frozen = false;
	}
	r->s.updates_seen = rtc_boundaries(r, now);
}

/* ---- registers ---- */

static bool rtc_uip(const struct rtc *r, int64_t now)
{
	return rtc_counting(r) &&
	       floor_mod(now - r->s.origin_ns, RTC_NS_PER_SEC) >=
		       RTC_NS_PER_SEC - (int64_t)RTC_UIP_NS;
}

static uint8_t rtc_read_time(const struct rtc *r, int64_t now, unsigned addr)
{
	struct rtc_time t;

	rtc_secs_to_time(rtc_secs(r, now), &t);
	switch (addr) {
	case RTC_SECONDS:      return rtc_to_reg(r, t.second);
	case RTC_MINUTES:      return rtc_to_reg(r, t.minute);
	case RTC_HOURS:        return rtc_hour_to_reg(r, t.hour);
	case RTC_DAY_OF_WEEK:  return rtc_to_reg(r, (int)floor_mod(t.wday + r->s.dow_delta, 7) + 1);
	case RTC_DAY_OF_MONTH: return rtc_to_reg(r, t.day);
	case RTC_MONTH:        return rtc_to_reg(r, t.month);
	case RTC_YEAR:         return rtc_to_reg(r, (int)floor_mod(t.year, 100));
	default:               return rtc_to_reg(r, (int)floor_mod(floor_div(t.year, 100), 100));
	}
}

static void rtc_write_time(struct rtc *r, int64_t now, unsigned addr, uint8_t value)
{
	int64_t old = rtc_secs(r, now), secs;
	struct rtc_time t;
	int v = rtc_from_reg(r, value);

	rtc_secs_to_time(old, &t);
	switch (addr) {
	case RTC_SECONDS:      t.second = v; break;
	case RTC_MINUTES:      t.minute = v; break;
	case RTC_HOURS:        t.hour = rtc_hour_from_reg(r, value); break;
	case RTC_DAY_OF_MONTH: t.day = v; break;
	case RTC_MONTH:        t.month = v; break;
	case RTC_YEAR:         t.year = floor_div(t.year, 100) * 100 + v; break;
	case RTC_CENTURY:      t.year = (int64_t)v * 100 + floor_mod(t.year, 100); break;
	case RTC_DAY_OF_WEEK:
		/* Kept apart from the date, as the chip's own counter is. */
		r->s.dow_delta = (int8_t)floor_mod(v - 1 - t.wday, 7);
		return;
	}
	secs = rtc_time_to_secs(&t);
	if (r->s.frozen)
		r->s.frozen_secs = secs;
	else
		r->s.secs_at_origin += secs - old;
}

static void rtc_write_a(struct rtc *r, int64_t now, uint8_t value)
{
	bool was_counting = rtc_counting(r), was_running = rtc_divider_running(r);

	r->s.cmos[RTC_REG_A] = value & ~RTC_A_UIP;
	/* Out of reset, the first update comes half a second later. */
	if (!was_running && rtc_divider_running(r))
		r->s.origin_ns = now - RTC_NS_PER_SEC / 2;
	rtc_set_counting(r, now, was_counting);
	/* A new rate or origin starts counting ticks afresh. */
	if (rtc_periodic_hz(r))
		r->s.ticks_seen = rtc_ticks(r, now, rtc_periodic_hz(r));
}

static void rtc_write_b(struct rtc *r, int64_t now, uint8_t value)
{
	bool was_counting = rtc_counting(r);

	/* MC146818A: SET going high clears UIE. */
	if ((value & RTC_B_SET) && !(r->s.cmos[RTC_REG_B] & RTC_B_SET))
		value &= (uint8_t)~RTC_B_UIE;
	r->s.cmos[RTC_REG_B] = value;
	rtc_set_counting(r, now, was_counting);
}

static bool rtc_is_time_reg(unsigned addr)
{
	for (unsigned i = 0; i < sizeof(rtc_time_regs); i++)
		if (rtc_time_regs[i] == addr)
			return true;
	return false;
}

uint8_t rtc_read(struct rtc *r, unsigned port)
{
	unsigned addr = r->s.index & RTC_INDEX_MASK;
	int64_t now;
	uint8_t v;

	/* Port 0x70 is write-only on a PC; here it reads back the last byte
	 * written, NMI bit included, so the NMI mask is observable. */
	if (port == RTC_PORT_INDEX)
		return r->s.index;

	now = rtc_now(r);
	rtc_catch_up(r, now);
	if (rtc_is_time_reg(addr))
		return rtc_read_time(r, now, addr);
	switch (addr) {
	case RTC_REG_A:
		return r->s.cmos[RTC_REG_A] | (rtc_uip(r, now) ? RTC_A_UIP : 0);
	case RTC_REG_C:
		v = rtc_irqf(r) | r->s.flags;
		r->s.flags = 0;
		rtc_update_irq(r);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return r->s.cmos[addr];
	}
}

void rtc_write(struct rtc *r, unsigned port, uint8_t value)
{
	unsigned addr = r->s.index & RTC_INDEX_MASK;
	int64_t now;

	if (port == RTC_PORT_INDEX) {
		r->s.index = value;
		return;
	}
	now = rtc_now(r);
	rtc_catch_up(r, now);
	if (rtc_is_time_reg(addr)) {
		rtc_write_time(r, now, addr, value);
		return;
	}
	switch (addr) {
	case RTC_REG_A:
		rtc_write_a(r, now, value);
		break;
	case RTC_REG_B:
		rtc_write_b(r, now, value);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		r->s.cmos[addr] = value;
		return;
	}
	rtc_update_irq(r);
	rtc_reschedule(r, now);
}

void rtc_timer_expired(struct rtc *r, enum rtc_timer_id id)
{
	int64_t now = rtc_now(r);

	(void)id; /* either way: fold, raise, re-arm */
	rtc_catch_up(r, now);
	rtc_update_irq(r);
	rtc_reschedule(r, now);
}

void rtc_init(struct rtc *r, const struct rtc_ops *ops, void *opaque, int64_t secs)
{
	int64_t now;

	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->opaque = opaque;
	r->s.version = RTC_STATE_VERSION;
	r->s.cmos[RTC_REG_A] = RTC_A_DV_32K | 0x06; /* 1024 Hz, as a PC BIOS leaves it */
	r->s.cmos[RTC_REG_B] = RTC_B_24H;
	now = rtc_now(r);
	r->s.origin_ns = now;
	r->s.secs_at_origin = secs;
	r->s.updates_seen = rtc_boundaries(r, now);
	r->s.ticks_seen = rtc_ticks(r, now, rtc_periodic_hz(r));
}

void rtc_reset(struct rtc *r)
{
	int64_t now = rtc_now(r);

	rtc_catch_up(r, now);
	r->s.cmos[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	r->s.flags = 0;
	rtc_update_irq(r);
	rtc_reschedule(r, now);
}

/* Seconds counts a guest can reach: century 0xff and every other field at
 * its largest BCD decoding stays below 2^40 seconds (about 34000 years). */
#define RTC_SECS_LIMIT (1LL << 40)

const char *rtc_state_check(const struct rtc_state *s, int64_t now_ns)
{
	struct rtc probe = { .s = *s };
	int64_t b;

	if (s->cmos[RTC_REG_A] & RTC_A_UIP)
		return "cmos";	/* UIP is computed on every read, never stored */
	if (s->flags & ~(RTC_C_PF | RTC_C_AF | RTC_C_UF))
		return "flags";
	if (s->dow_delta < 0 || s->dow_delta > 6)
		return "dow_delta";
	if (s->frozen != !rtc_counting(&probe))
		return "frozen";
	/* The divider's origin is set at creation or half a second before a
	 * restart, never ahead of the clock. */
	if (s->origin_ns > now_ns || s->origin_ns < -RTC_NS_PER_SEC)
		return "origin_ns";
	if (s->frozen_secs > RTC_SECS_LIMIT || s->frozen_secs < -RTC_SECS_LIMIT)
		return "frozen_secs";
	if (s->secs_at_origin > RTC_SECS_LIMIT || s->secs_at_origin < -RTC_SECS_LIMIT)
		return "secs_at_origin";
	b = floor_div(now_ns - s->origin_ns, RTC_NS_PER_SEC);
	if (s->updates_seen > b || s->updates_seen < -1)
		return "updates_seen";
	return NULL;
}

void rtc_restore(struct rtc *r, const struct rtc_state *s)
{
	r->s = *s;
	r->s.version = RTC_STATE_VERSION;
	/* IRQF as the saved flags and enables make it: a line held at the
	 * save is held again (the restored machine's starts low). */
	rtc_update_irq(r);
}

bool rtc_nmi_masked(const struct rtc *r)
{
	return r->s.index & RTC_INDEX_NMI_MASK;
}

static void rtc_put16(struct rtc *r, unsigned addr, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->s.cmos[addr] = (uint8_t)v;
	r->s.cmos[addr + 1] = (uint8_t)(v >> 8);
}

void rtc_set_memory(struct rtc *r, uint64_t below_4g, uint64_t above_4g)
{
	const uint64_t mib = 1ULL << 20;
	uint64_t ext_kib = below_4g > mib ? (below_4g - mib) >> 10 : 0;
	uint64_t over_16m = below_4g > 16 * mib ? (below_4g - 16 * mib) >> 16 : 0;
	uint64_t high = above_4g >> 16;
	unsigned sum = 0;

	rtc_put16(r, RTC_BASE_MEM_LO, 640);
	rtc_put16(r, RTC_EXT_MEM_LO, ext_kib);
	rtc_put16(r, RTC_EXT_MEM2_LO, ext_kib);
	rtc_put16(r, RTC_MEM_16M_LO, over_16m);
	if (high > 0xffffff)
		high = 0xffffff;
	r->s.cmos[RTC_MEM_4G_LO] = (uint8_t)high;
	r->s.cmos[RTC_MEM_4G_LO + 1] = (uint8_t)(high >> 8);
	r->s.cmos[RTC_MEM_4G_LO + 2] = (uint8_t)(high >> 16);

	for (unsigned a = 0x10; a < RTC_CHECKSUM_HI; a++)
		sum += r->s.cmos[a];
	r->s.cmos[RTC_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	r->s.cmos[RTC_CHECKSUM_LO] = (uint8_t)sum;
}
