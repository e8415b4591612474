/* SPDX-License-Identifier: MIT */
/*
 * devices/pl031/pl031.c - the ARM PrimeCell Real Time Clock (PL031) model.
 *
 * A 32-bit counter incremented by the rising edges of a 1 Hz clock,
 * CLK1HZ, here the virtual clock's seconds since a phase the embedder
 * chose; a match register compared with it; one interrupt.  The counter is
 * computed from the virtual clock on every read, never stored, and the
 * match is found exactly on every register access; the timer, armed only
 * while the interrupt is unmasked, just makes the line rise on time.
 *
 * "TRM, X" below names the section of ARM DDI 0224 (PL031 TRM) on X;
 * quotations are from its section 2.1, the RTC overview.
 */
#include <errno.h>
#include <string.h>

#include "pl031.h"

/* RTCPeriphID0-3 then RTCPCellID0-3 (TRM, identification registers):
 * part 0x031, designer 0x41 (ARM), revision 1, configuration 0. */
static const uint8_t pl031_ids[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

static int64_t pl031_now(const struct pl031 *r)
{
	return (int64_t)r->ops->now_ns(r->opaque);
}

/* Whole CLK1HZ periods since edge0_ns; never negative, edge0_ns being at
 * or before every instant the model has seen. */
static int64_t ticks(const struct pl031 *r, int64_t now)
{
	return (now - r->s.edge0_ns) / PL031_NS_PER_SEC;
}

static uint32_t counter(const struct pl031 *r, int64_t now)
{
	return r->s.count0 + (uint32_t)ticks(r, now);
}

static void pl031_update_irq(struct pl031 *r)
{
	int level = (r->s.ris & r->s.imsc) != 0;

	if (level != r->irq_level) {
		r->irq_level = level;
		r->ops->set_irq(r->opaque, level);
	}
}

/* The timer serves the line only: while masked, the match is still
 * found by pl031_sync() on the next access. */
static void pl031_update_timer(struct pl031 *r)
{
	if (r->s.imsc & PL031_INT)
		r->ops->timer_arm(r->opaque, (uint64_t)r->s.match_ns);
	else if (r->ops->timer_cancel)
		r->ops->timer_cancel(r->opaque);
}

/* The next CLK1HZ edge after @now at which the counter equals RTCMR; one
 * that equals it now comes back after the counter wraps, 2^32 s on. */
static void pl031_schedule_match(struct pl031 *r, int64_t now)
{
	int64_t t = ticks(r, now);
	uint64_t delta = (uint32_t)(r->s.mr - counter(r, now));

	if (!delta)
		delta = 1ULL << 32;
	r->s.match_ns = r->s.edge0_ns + (t + (int64_t)delta) * PL031_NS_PER_SEC;
	pl031_update_timer(r);
}

/*
 * TRM 2.1: "The counter and match values are compared in a comparator.  When
 * both values are equal, the RTCINTR interrupt is asserted HIGH."  RIS is
 * set by the counter reaching RTCMR, and held until RTCICR clears it: a
 * clear during the matching second does not bring it back.
 */
static void pl031_sync(struct pl031 *r, int64_t now)
{
	if (now >= r->s.match_ns) {
		r->s.ris |= PL031_INT;
		pl031_schedule_match(r, now);
	}
}

/* A new RTCMR or counter value: equal now is a match now. */
static void pl031_compare_now(struct pl031 *r, int64_t now)
{
	if (counter(r, now) == r->s.mr)
		r->s.ris |= PL031_INT;
	pl031_schedule_match(r, now);
}

/* TRM, RTCLR: writing it loads the counter.  CLK1HZ keeps its phase: the
 * next increment comes at the next edge, as on the chip. */
static void pl031_load(struct pl031 *r, int64_t now, uint32_t value)
{
	r->s.edge0_ns += ticks(r, now) * PL031_NS_PER_SEC;
	r->s.count0 = value;
}

uint32_t pl031_read(struct pl031 *r, unsigned offset)
{
	int64_t now = pl031_now(r);
	uint32_t value = 0;

	pl031_sync(r, now);
	switch (offset) {
	case PL031_DR:
		value = counter(r, now);
		break;
	case PL031_MR:
		value = r->s.mr;
		break;
	case PL031_LR:
		value = r->s.lr;
		break;
	case PL031_CR:
		/* Started at creation; see pl031_write(). */
		value = PL031_CR_START;
		break;
	case PL031_IMSC:
		value = r->s.imsc;
		break;
	case PL031_RIS:
		value = r->s.ris;
		break;
	case PL031_MIS:
		value = r->s.ris & r->s.imsc;
		break;
	default:
		if (offset >= PL031_PERIPH_ID0 && offset < PL031_MMIO_SIZE)
			value = pl031_ids[(offset - PL031_PERIPH_ID0) / 4];
		/* RTCICR is write-only; reserved offsets read as zero. */
		break;
	}
	pl031_update_irq(r);
	return value;
}

bool pl031_write(struct pl031 *r, unsigned offset, uint32_t value)
{
	int64_t now = pl031_now(r);
	bool known = true;

	pl031_sync(r, now);
	switch (offset) {
	case PL031_MR:
		r->s.mr = value;
		pl031_compare_now(r, now);
		break;
	case PL031_LR:
		r->s.lr = value;
		pl031_load(r, now, value);
		pl031_compare_now(r, now);
		break;
	case PL031_CR:
		/* TRM, RTCCR: once the RTC is started, writes to the start bit have
		 * no effect until a reset of its domain, which a machine reset
		 * is not.  It was started at creation. */
		break;
	case PL031_IMSC:
		r->s.imsc = value & PL031_INT;
		pl031_update_timer(r);
		break;
	case PL031_ICR:
		/* TRM 2.1: "cleared by writing any data value to the Interrupt
		 * Clear Register". */
		r->s.ris = 0;
		break;
	default:
		/* RTCDR, RTCRIS, RTCMIS and the IDs are read-only; the rest
		 * reserved. */
		known = false;
		break;
	}
	pl031_update_irq(r);
	return known;
}

void pl031_timer_expired(struct pl031 *r)
{
	pl031_sync(r, pl031_now(r));
	pl031_update_irq(r);
}

void pl031_reset(struct pl031 *r)
{
	/* A match that passed unseen before the reset is cleared with it. */
	pl031_sync(r, pl031_now(r));
	r->s.imsc = 0;
	r->s.ris = 0;
	pl031_update_timer(r);
	pl031_update_irq(r);
}

void pl031_init(struct pl031 *r, const struct pl031_ops *ops, void *opaque, uint32_t secs,
		uint32_t phase_ns)
{
	int64_t now;

	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->opaque = opaque;
	r->s.version = PL031_STATE_VERSION;
	now = pl031_now(r);
	r->s.edge0_ns = now - (int64_t)(phase_ns % PL031_NS_PER_SEC);
	r->s.count0 = secs;
	r->s.lr = secs;
	/* RTCMR resets to 0: schedule its match like any other. */
	pl031_schedule_match(r, now);
}

int pl031_restore(struct pl031 *r, const struct pl031_state *s, const char **bad)
{
	int64_t now = pl031_now(r);

	*bad = NULL;
	if (s->imsc & ~PL031_INT)
		*bad = "imsc";
	else if (s->ris & ~PL031_INT)
		*bad = "ris";
	/* edge0_ns is at or before every instant the model has seen (the
	 * clock continued from the save: ticks() is never negative) and no
	 * more than a second before the clock's start (pl031_init). */
	else if (s->edge0_ns > now || s->edge0_ns < -PL031_NS_PER_SEC)
		*bad = "edge0_ns";
	/* The next match is a CLK1HZ edge after edge0_ns, at most one wrap
	 * of the counter (2^32 s) and a second after now.  (Compared in this
	 * order, nothing here overflows.) */
	else if (s->match_ns <= s->edge0_ns ||
		 s->match_ns > now + ((1LL << 32) + 1) * PL031_NS_PER_SEC ||
		 (s->match_ns - s->edge0_ns) % PL031_NS_PER_SEC)
		*bad = "match_ns";
	if (*bad)
		return -EINVAL;
	r->s = *s;
	r->s.version = PL031_STATE_VERSION;
	/* A match due while the machine was stopped is found by the sync of
	 * the next access, or by the timer at once. */
	pl031_update_timer(r);
	pl031_update_irq(r);
	return 0;
}
