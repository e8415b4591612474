/* SPDX-License-Identifier: MIT */
/*
 * devices/pl031/pl031.h - the ARM PrimeCell Real Time Clock (PL031) model.
 *
 * This file knows registers and nothing else: no host table, no bus.  The
 * embedder supplies the interrupt output, a virtual clock and one timer
 * through struct pl031_ops, and the counter's starting value.  Register
 * facts follow the PrimeCell Real Time Clock (PL031) Technical Reference
 * Manual, ARM DDI 0224.
 */
#ifndef PL031_H
#define PL031_H

#include <stdbool.h>
#include <stdint.h>

#define PL031_DR   0x000 /* RTCDR: the counter, read-only */
#define PL031_MR   0x004 /* RTCMR: match */
#define PL031_LR   0x008 /* RTCLR: load */
#define PL031_CR   0x00c /* RTCCR: bit 0 starts the RTC */
#define PL031_IMSC 0x010 /* RTCIMSC: interrupt mask set/clear */
#define PL031_RIS  0x014 /* RTCRIS: raw interrupt status, read-only */
#define PL031_MIS  0x018 /* RTCMIS: masked interrupt status, read-only */
#define PL031_ICR  0x01c /* RTCICR: interrupt clear, write-only */
#define PL031_PERIPH_ID0 0xfe0 /* RTCPeriphID0-3 at 0xfe0-0xfec */
#define PL031_PCELL_ID0  0xff0 /* RTCPCellID0-3 at 0xff0-0xffc */
#define PL031_MMIO_SIZE  0x1000

#define PL031_CR_START 0x1
#define PL031_INT      0x1 /* the one interrupt bit in IMSC, RIS, MIS, ICR */

#define PL031_NS_PER_SEC 1000000000LL

/* What the model needs from its surroundings. */
struct pl031_ops {
	void (*set_irq)(void *opaque, int level);
	/* Virtual nanoseconds; only differences matter. */
	uint64_t (*now_ns)(void *opaque);
	/* One one-shot timer, armed for the next match while the interrupt
	 * is unmasked; arming replaces.  The embedder calls
	 * pl031_timer_expired() when it fires. */
	void (*timer_arm)(void *opaque, uint64_t deadline_ns);
	void (*timer_cancel)(void *opaque);
};

#define PL031_STATE_VERSION 1

/*
 * Everything a migration would carry.  The counter is not stored: it is
 * computed from the virtual clock, CLK1HZ's rising edges falling at
 * edge0_ns + k seconds.
 */
struct pl031_state {
	uint32_t version;
	uint32_t mr, lr;
	uint8_t imsc, ris;
	uint32_t count0;     /* counter value from edge0_ns until the next edge */
	int64_t edge0_ns;    /* a CLK1HZ edge at or before the last load */
	int64_t match_ns;    /* next edge at which the counter equals RTCMR */
};

struct pl031 {
	struct pl031_state s;
	const struct pl031_ops *ops;
	void *opaque;
	int irq_level;
};

/*
 * @secs: the counter's value now (seconds since 1970 on the guest's clock,
 * modulo 2^32).  @phase_ns: how far into that second we are (0..10^9-1),
 * so the first increment comes 10^9 - @phase_ns later.  The RTC is
 * started (RTCCR reads 1), RTCLR reads @secs.
 */
void pl031_init(struct pl031 *r, const struct pl031_ops *ops, void *opaque, uint32_t secs,
		uint32_t phase_ns);
/* PRESETn: the interrupt mask and status clear; the counter, RTCMR, RTCLR
 * and RTCCR live in the RTC's own domain and keep going. */
void pl031_reset(struct pl031 *r);
/* 32-bit register at @offset (a multiple of 4 below PL031_MMIO_SIZE). */
uint32_t pl031_read(struct pl031 *r, unsigned offset);
/* False when @offset is read-only or reserved: the write is ignored. */
bool pl031_write(struct pl031 *r, unsigned offset, uint32_t value);
void pl031_timer_expired(struct pl031 *r);

/*
 * Replace the state of a model just initialised with @s, saved from
 * another at a time the virtual clock has not gone back from (a restored
 * machine's clock continues): the timer is re-armed for the saved match
 * and the line raised when the saved model held it.  @s is checked first
 * (it comes from a snapshot file): on a field that no running model could
 * hold, nothing changes, *@bad names the field and -EINVAL is returned.
 */
int pl031_restore(struct pl031 *r, const struct pl031_state *s, const char **bad);

#endif /* PL031_H */
