/* SPDX-License-Identifier: MIT */
/*
 * devices/cmos-rtc/rtc.h - the MC146818A real-time clock and CMOS RAM model.
 *
 * This file knows registers and nothing else: no host table, no bus.  The
 * embedder supplies the interrupt output, a virtual clock and two timers
 * through struct rtc_ops, and the starting wall-clock time.  Register facts
 * follow the Motorola MC146818A datasheet; the memory-size bytes follow the
 * PC/AT CMOS layout.
 */
#ifndef CMOS_RTC_H
#define CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>

/* Port offsets on the PC (0x70, 0x71). */
#define RTC_PORT_INDEX 0
#define RTC_PORT_DATA  1
#define RTC_NR_PORTS   2

#define RTC_CMOS_SIZE 128
#define RTC_INDEX_MASK 0x7f
#define RTC_INDEX_NMI_MASK 0x80 /* port 0x70 bit 7: NMI disabled */

/* CMOS addresses. */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0a
#define RTC_REG_B         0x0b
#define RTC_REG_C         0x0c
#define RTC_REG_D         0x0d
#define RTC_CENTURY       0x32

/* PC/AT memory-size bytes. */
#define RTC_BASE_MEM_LO   0x15
#define RTC_BASE_MEM_HI   0x16
#define RTC_EXT_MEM_LO    0x17
#define RTC_EXT_MEM_HI    0x18
#define RTC_CHECKSUM_HI   0x2e /* sum of 0x10-0x2d, big-endian */
#define RTC_CHECKSUM_LO   0x2f
#define RTC_EXT_MEM2_LO   0x30
#define RTC_EXT_MEM2_HI   0x31
#define RTC_MEM_16M_LO    0x34
#define RTC_MEM_16M_HI    0x35
#define RTC_MEM_4G_LO     0x5b /* 0x5b-0x5d, 64 KiB units */

#define RTC_A_UIP      0x80
#define RTC_A_DV_MASK  0x70
#define RTC_A_DV_32K   0x20 /* 010: 32.768 kHz time base, running */
#define RTC_A_DV_RESET 0x60 /* 11x: divider chain held in reset */
#define RTC_A_RS_MASK  0x0f

#define RTC_B_SET  0x80
#define RTC_B_PIE  0x40
#define RTC_B_AIE  0x20
#define RTC_B_UIE  0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM   0x04 /* 1: binary, 0: BCD */
#define RTC_B_24H  0x02 /* 1: 24-hour, 0: 12-hour */
#define RTC_B_DSE  0x01

#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_C_AF   0x20
#define RTC_C_UF   0x10

#define RTC_D_VRT  0x80

#define RTC_HOUR_PM 0x80 /* 12-hour mode */
#define RTC_ALARM_DONT_CARE 0xc0 /* both bits set: matches any value */

/* How long before each update UIP reads 1. */
#define RTC_UIP_NS 244000ULL
#define RTC_NS_PER_SEC 1000000000LL

enum rtc_timer_id {
	RTC_TIMER_UPDATE = 0,   /* next one-second update (UIE or AIE) */
	RTC_TIMER_PERIODIC = 1, /* next periodic tick (PIE) */
	RTC_NR_TIMERS
};

/* What the model needs from its surroundings. */
struct rtc_ops {
	void (*set_irq)(void *opaque, int level);
	/* Virtual nanoseconds; only differences matter. */
	uint64_t (*now_ns)(void *opaque);
	/* One-shot timers; arming replaces.  The embedder calls
	 * rtc_timer_expired() when one fires. */
	void (*timer_arm)(void *opaque, enum rtc_timer_id id, uint64_t deadline_ns);
	void (*timer_cancel)(void *opaque, enum rtc_timer_id id);
};

#define RTC_STATE_VERSION 1

/*
 * Everything a migration would carry.  The time-of-day bytes are not stored:
 * they are computed from the guest's seconds count on every read, in the
 * format register B selects at that moment.
 */
struct rtc_state {
	uint32_t version;
	uint8_t cmos[RTC_CMOS_SIZE]; /* RAM, alarms, A (bits 6..0), B */
	uint8_t index;               /* last byte written to port 0x70, NMI bit included */
	uint8_t flags;               /* register C: PF, AF, UF */
	int8_t dow_delta;            /* guest's day-of-week write relative to the date's */
	bool frozen;                 /* SET or divider stopped: no updates */
	int64_t frozen_secs;         /* time while frozen */
	int64_t secs_at_origin;      /* time at second boundary 0 while running */
	int64_t origin_ns;           /* divider origin: boundaries at origin + k s */
	int64_t updates_seen;        /* boundaries already folded into UF/AF */
	uint64_t ticks_seen;         /* periodic ticks already folded into PF */
};

struct rtc {
	struct rtc_state s;
	const struct rtc_ops *ops;
	void *opaque;
	int irq_level;
};

/* Broken-down calendar time, all fields binary; year is the full year. */
struct rtc_time {
	int64_t year;
	int month;  /* 1-12 */
	int day;    /* 1-31 */
	int hour;   /* 0-23 */
	int minute;
	int second;
	int wday;   /* 0 = Sunday */
};

/* @secs: seconds since 1970-01-01 00:00:00 on the guest's clock (UTC or
 * local time, as the embedder decided).  Registers take PC power-on values
 * (A = 0x26, B = 0x02: 24-hour BCD). */
void rtc_init(struct rtc *r, const struct rtc_ops *ops, void *opaque, int64_t secs);
/* The RESET pin: clears PIE, AIE, UIE, SQWE and the flags; time, A, the
 * other bits of B and the RAM are kept. */
void rtc_reset(struct rtc *r);
uint8_t rtc_read(struct rtc *r, unsigned port);
void rtc_write(struct rtc *r, unsigned port, uint8_t value);
void rtc_timer_expired(struct rtc *r, enum rtc_timer_id id);
/*
 * Snapshot restore.  rtc_state_check() names the member of a saved state
 * (at virtual time `now_ns`) the chip could not be in, or returns NULL:
 * bits that are never stored, a freeze that disagrees with registers A
 * and B, times and second counts past what any guest write reaches (so
 * that no calendar sum overflows).  rtc_restore() installs it and drives
 * the interrupt line as its flags and enables say; the embedder re-arms
 * the timers at their saved deadlines.
 */
const char *rtc_state_check(const struct rtc_state *s, int64_t now_ns);
void rtc_restore(struct rtc *r, const struct rtc_state *s);
/* Fill the memory-size bytes and the checksum: RAM below 4 GiB and above. */
void rtc_set_memory(struct rtc *r, uint64_t below_4g, uint64_t above_4g);
/* Port 0x70 bit 7 as last written. */
bool rtc_nmi_masked(const struct rtc *r);

/* Calendar helpers, exposed for tests. */
void rtc_secs_to_time(int64_t secs, struct rtc_time *t);
int64_t rtc_time_to_secs(const struct rtc_time *t); /* normalises out-of-range fields */

#endif /* CMOS_RTC_H */
