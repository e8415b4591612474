/* SPDX-License-Identifier: MIT */
/*
 * devices/i8254/i8254.h - the 8254 programmable interval timer model.
 *
 * This file knows the chip and nothing else: no host table, no bus.  The
 * embedder supplies a virtual clock, the OUT pin listeners and one timer per
 * listened-to counter through struct i8254_ops.  Counting is computed from
 * the time elapsed since a count was loaded, never by ticking: reading a
 * counter at virtual time t gives the value the chip would hold after
 * floor(t * 1193182 / 1e9) input clocks.  Facts follow the Intel 8254
 * datasheet.
 */
#ifndef I8254_H
#define I8254_H

#include <stdbool.h>
#include <stdint.h>

#define I8254_CLOCK_HZ 1193182ULL
#define I8254_NR_COUNTERS 3

/* Register offsets from the chip's base (the PC's 0x40). */
#define I8254_REG_COUNTER0 0
#define I8254_REG_COUNTER1 1
#define I8254_REG_COUNTER2 2
#define I8254_REG_CONTROL  3 /* write only */
#define I8254_NR_REGS 4

/* Control word. */
#define I8254_CW_SC_SHIFT 6       /* counter select; 3 = read-back */
#define I8254_CW_RW_SHIFT 4       /* 0 latch, 1 LSB, 2 MSB, 3 LSB then MSB */
#define I8254_CW_MODE_SHIFT 1
#define I8254_CW_BCD 0x01
#define I8254_SC_READBACK 3

#define I8254_RW_LATCH 0
#define I8254_RW_LSB 1
#define I8254_RW_MSB 2
#define I8254_RW_WORD 3

/* Read-back command: D5 = 0 latches counts, D4 = 0 latches status, D3..D1
 * select counters 2..0. */
#define I8254_RB_NO_COUNT  0x20
#define I8254_RB_NO_STATUS 0x10
#define I8254_RB_CNT(i) (0x02u << (i))

/* Status byte. */
#define I8254_ST_OUT  0x80
#define I8254_ST_NULL 0x40

/* The PC's NMI status and control port (0x61) bits the PIT owns. */
#define I8254_P61_GATE2   0x01 /* gate of counter 2, read/write */
#define I8254_P61_SPKR    0x02 /* speaker data enable, read/write */
#define I8254_P61_REFRESH 0x10 /* refresh request toggle, read only */
#define I8254_P61_OUT2    0x20 /* OUT of counter 2, read only */
#define I8254_P61_WRITABLE (I8254_P61_GATE2 | I8254_P61_SPKR)

/* What the model needs from its surroundings. */
struct i8254_ops {
	/* Virtual time in nanoseconds; must not go backwards. */
	uint64_t (*now_ns)(void *opaque);
	/* OUT of counter `idx` changed to `level`; only for counters in the
	 * out_mask given to i8254_init(). */
	void (*set_out)(void *opaque, unsigned idx, int level);
	/* One timer per counter in out_mask: fire i8254_timer_expired(idx)
	 * when the clock reaches deadline_ns (absolute). */
	void (*timer_arm)(void *opaque, unsigned idx, uint64_t deadline_ns);
	void (*timer_cancel)(void *opaque, unsigned idx);
	/* A guest programming error, for the embedder to log.  May be NULL. */
	void (*guest_error)(void *opaque, const char *what);
};

#define I8254_STATE_VERSION 1

/*
 * One counter, as a migration would carry it.  Times are absolute input
 * clock ticks of the virtual clock.  While `running`, the counting element
 * follows a closed form from (base, val): for modes 0, 1, 4 and 5 `val` is
 * the count remaining to terminal count at tick `base` (it goes negative once
 * the counter wraps past it); for modes 2 and 3 `base` is the tick a period
 * started at.  While stopped, `val` is the frozen counting element.
 */
struct i8254_counter_state {
	uint8_t ctrl;          /* RW, mode and BCD bits as last programmed */
	uint16_t cr;           /* count register */
	uint8_t cr_lsb;        /* first byte of a two-byte write */
	bool write_msb;        /* write flip-flop: next write is the MSB */
	bool read_msb;         /* read flip-flop: next read is the MSB */
	uint16_t ol;           /* output latch */
	bool count_latched;
	uint8_t status;
	bool status_latched;
	bool gate;
	bool have_count;       /* a count was written since the control word */
	bool null_count;       /* CR written, not yet moved to the CE */
	bool loaded;           /* a counting sequence is under way */
	bool running;          /* the CE follows time */
	bool load_low;         /* mode 3: the pending load starts a low half */
	int64_t load_at;       /* tick the CR moves to the CE; INT64_MAX for never */
	int64_t n;             /* count in use, 1..65536 (1..10000 in BCD) */
	int64_t base;
	int64_t val;
};

struct i8254_state {
	uint32_t version;
	struct i8254_counter_state c[I8254_NR_COUNTERS];
	bool speaker;          /* port 0x61 bit 1 */
};

struct i8254 {
	struct i8254_state s;
	const struct i8254_ops *ops;
	void *opaque;
	unsigned out_mask;              /* counters whose OUT is reported */
	int out_level[I8254_NR_COUNTERS];  /* last level reported */
	int64_t event[I8254_NR_COUNTERS];  /* tick the timer is armed for, or -1 */
};

/* out_mask: bit i set when counter i's OUT is listened to (set_out and a
 * timer).  Leaves the chip in its power-on state. */
void i8254_init(struct i8254 *p, const struct i8254_ops *ops, void *opaque, unsigned out_mask);
/* Power-on state: every counter in mode 0, not counting; gate 2 low. */
void i8254_reset(struct i8254 *p);
uint8_t i8254_read(struct i8254 *p, unsigned offset);
void i8254_write(struct i8254 *p, unsigned offset, uint8_t value);
/* Port 0x61. */
uint8_t i8254_port61_read(struct i8254 *p);
void i8254_port61_write(struct i8254 *p, uint8_t value);
/* Gate input of counter idx (the PC ties 0 and 1 high). */
void i8254_set_gate(struct i8254 *p, unsigned idx, bool level);
/* OUT of counter idx now. */
int i8254_out(struct i8254 *p, unsigned idx);
/* The timer armed for counter idx expired. */
void i8254_timer_expired(struct i8254 *p, unsigned idx);

/*
 * Snapshot restore.  i8254_state_check() says which member of a saved
 * state (at virtual tick `now`) the model cannot run from, or NULL:
 * counts, times and values past what the chip can reach are refused, so
 * that no closed form overflows or divides by zero.  i8254_restore()
 * installs it, reports OUT of the listened-to counters at the saved
 * levels and re-arms their timers at the saved ticks (-1: none).
 */
const char *i8254_state_check(const struct i8254_state *s, int64_t now);
void i8254_restore(struct i8254 *p, const struct i8254_state *s,
		   const int out_level[I8254_NR_COUNTERS], const int64_t event[I8254_NR_COUNTERS]);

/* Clock conversions: the tick a time falls in, and the first nanosecond of
 * a tick. */
int64_t i8254_ns_to_tick(uint64_t ns);
uint64_t i8254_tick_to_ns(int64_t tick);

#endif /* I8254_H */
