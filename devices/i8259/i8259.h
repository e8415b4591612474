/* SPDX-License-Identifier: MIT */
/*
 * devices/i8259/i8259.h - the PC's cascaded pair of 8259A interrupt
 * controllers, as a register model.
 *
 * This file knows registers and nothing else: no host table, no bus.  The
 * embedder feeds input lines in with i8259_set_line(), runs interrupt
 * acknowledge cycles with i8259_ack(), and receives the master's INTR output
 * and guest-error reports through struct i8259_ops.  Register facts follow
 * the Intel 8259A datasheet; the ELCR is the PC chipset's edge/level control
 * register (PIIX and later).
 *
 * Wiring, fixed as on every PC since the AT: lines 0-7 reach the master's
 * IR0-IR7, lines 8-15 the slave's IR0-IR7, and the slave's INT output
 * drives the master's IR2.  Line 2 itself therefore goes nowhere.
 */
#ifndef I8259_H
#define I8259_H

#include <stdbool.h>
#include <stdint.h>

enum i8259_chip {
	I8259_MASTER = 0,
	I8259_SLAVE = 1,
	I8259_NR_CHIPS
};

#define I8259_NR_LINES 16
#define I8259_CASCADE_IR 2 /* the master input the slave drives */

/* Register offsets: the A0 address input. */
#define I8259_A0_CMD  0 /* write ICW1/OCW2/OCW3, read IRR/ISR/poll */
#define I8259_A0_DATA 1 /* write ICW2-4/OCW1, read IMR */

/* ICW1 (A0 = 0, D4 = 1) */
#define ICW1_IC4  0x01 /* ICW4 follows */
#define ICW1_SNGL 0x02 /* single, no ICW3 */
#define ICW1_ADI  0x04 /* call address interval (MCS-80 only) */
#define ICW1_LTIM 0x08 /* level-triggered inputs */
#define ICW1_SEL  0x10

/* ICW4 */
#define ICW4_UPM  0x01 /* 8086 mode; 0 is MCS-80/85 mode */
#define ICW4_AEOI 0x02
#define ICW4_MS   0x04 /* buffered master/slave */
#define ICW4_BUF  0x08
#define ICW4_SFNM 0x10

/* OCW2 (A0 = 0, D4 = 0, D3 = 0): R, SL, EOI in bits 7..5, level in 2..0 */
#define OCW2_CMD_MASK          0xe0
#define OCW2_ROTATE_AEOI_CLEAR 0x00
#define OCW2_NONSPECIFIC_EOI   0x20
#define OCW2_NOP               0x40
#define OCW2_SPECIFIC_EOI      0x60
#define OCW2_ROTATE_AEOI_SET   0x80
#define OCW2_ROTATE_NS_EOI     0xa0
#define OCW2_SET_PRIORITY      0xc0
#define OCW2_ROTATE_S_EOI      0xe0
#define OCW2_LEVEL_MASK        0x07

/* OCW3 (A0 = 0, D4 = 0, D3 = 1) */
#define OCW3_RIS  0x01 /* with RR: 1 reads ISR, 0 reads IRR */
#define OCW3_RR   0x02
#define OCW3_POLL 0x04
#define OCW3_SEL  0x08
#define OCW3_SMM  0x20 /* with ESMM: 1 sets, 0 clears special mask mode */
#define OCW3_ESMM 0x40

#define I8259_POLL_INT 0x80 /* poll word: a request was pending */

/* On a PC, IRQ 0, 1, 2, 8 and 13 are always edge-triggered. */
#define I8259_ELCR_MASK_MASTER 0xf8
#define I8259_ELCR_MASK_SLAVE  0xde

/* What the model needs from its surroundings. */
struct i8259_ops {
	/* Drive the master's INTR output (the CPU's interrupt pin). */
	void (*set_intr)(void *opaque, int level);
	/* The guest programmed something the model cannot honour or that
	 * makes no sense; one line.  May be NULL. */
	void (*guest_error)(void *opaque, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
};

/* Where a chip stands in its initialisation sequence. */
enum i8259_init_step {
	I8259_READY = 0, /* initialised: A0 = 1 writes are OCW1 */
	I8259_WANT_ICW2 = 1,
	I8259_WANT_ICW3 = 2,
	I8259_WANT_ICW4 = 3,
};

/* One 8259A. */
struct i8259_chip_state {
	uint8_t irr;          /* interrupt request register */
	uint8_t isr;          /* in-service register */
	uint8_t imr;          /* interrupt mask register (OCW1) */
	uint8_t lines;        /* current level of the IR inputs */
	uint8_t elcr;         /* 1 = level-triggered input */
	uint8_t icw1, icw2, icw3, icw4;
	uint8_t init_step;    /* enum i8259_init_step */
	uint8_t lowest;       /* the level with the lowest priority (7 after ICW1) */
	bool rotate_in_aeoi;  /* OCW2 R=1 SL=0 EOI=0 */
	bool special_mask;    /* OCW3 special mask mode */
	bool read_isr;        /* OCW3 RR/RIS: A0 = 0 reads ISR, else IRR */
	bool poll;            /* OCW3 P: the next read is a poll */
};

#define I8259_STATE_VERSION 1

/* Everything a migration would carry, and nothing else. */
struct i8259_state {
	uint32_t version;
	struct i8259_chip_state chip[I8259_NR_CHIPS];
};

struct i8259 {
	struct i8259_state s;
	const struct i8259_ops *ops;
	void *opaque;
	int intr_level; /* last level driven on INTR */
};

void i8259_init(struct i8259 *pic, const struct i8259_ops *ops, void *opaque);
/* Power-on state: both chips as after ICW1 with vector base 0, ELCR 0.
 * Input line levels are kept: they belong to the devices driving them. */
void i8259_reset(struct i8259 *pic);
uint8_t i8259_read(struct i8259 *pic, enum i8259_chip chip, unsigned a0);
void i8259_write(struct i8259 *pic, enum i8259_chip chip, unsigned a0, uint8_t value);
uint8_t i8259_elcr_read(struct i8259 *pic, enum i8259_chip chip);
void i8259_elcr_write(struct i8259 *pic, enum i8259_chip chip, uint8_t value);
/* Input line 0-15 is at `level` (0 or not). */
void i8259_set_line(struct i8259 *pic, unsigned line, int level);
/* The CPU's interrupt acknowledge cycle: the vector to deliver (the
 * spurious IR7 vector of the chip that lost its request when nothing
 * qualifies). */
int i8259_ack(struct i8259 *pic);
/* Install a saved state (snapshot restore) and drive INTR as it implies.
 * The embedder has checked every field's range. */
void i8259_restore(struct i8259 *pic, const struct i8259_state *s);

#endif /* I8259_H */
