/* SPDX-License-Identifier: MIT */
/*
 * devices/i8259/i8259.c - the cascaded 8259A pair, register model.
 *
 * Priorities are kept as "the level with the lowest priority" (`lowest`):
 * the level after it has the highest, and so on round the ring.  ICW1 makes
 * IR7 the lowest (fixed priority IR0 > ... > IR7); rotation and the set
 * priority command only move `lowest`.
 *
 * Edge-triggered inputs latch IRR on a rising edge and keep it until the
 * acknowledge, even if the line falls again first: devices signal an edge
 * by pulsing their line, so a request must survive the falling half of the
 * pulse.  Level-triggered inputs have IRR follow the line.
 *
 * The master's IR2 is the slave's INT output.  It latches like an edge
 * input, and is latched again whenever the slave still presents a request
 * after an update, so a slave with several requests (or in AEOI mode) never
 * loses one to a missing edge.  A latched IR2 whose slave request went away
 * is what produces the slave's spurious IR7 (vector base + 7, IRQ 15).
 */
#include <stddef.h>

#include "i8259.h"

static const uint8_t elcr_writable[I8259_NR_CHIPS] = {
	[I8259_MASTER] = I8259_ELCR_MASK_MASTER,
	[I8259_SLAVE] = I8259_ELCR_MASK_SLAVE,
};

#define guest_error(pic, ...)                                          \
	do {                                                           \
		if ((pic)->ops->guest_error)                           \
			(pic)->ops->guest_error((pic)->opaque, __VA_ARGS__); \
	} while (0)

static const char *const chip_name[I8259_NR_CHIPS] = { "master", "slave" };

/* Inputs whose IRR bit follows the line: the ELCR bits, or all of them
 * when ICW1 selected level-triggered mode (LTIM). */
static uint8_t level_inputs(const struct i8259_chip_state *c)
{
	return (c->icw1 & ICW1_LTIM) ? 0xff : c->elcr;
}

static uint8_t vector_base(const struct i8259_chip_state *c)
{
	return c->icw2 & 0xf8; /* T7-T3; the low three bits are the level */
}

/* Does the master fetch the vector for IR2 from the slave? */
static bool master_cascades_ir2(const struct i8259_chip_state *m)
{
	return !(m->icw1 & ICW1_SNGL) && (m->icw3 & (1u << I8259_CASCADE_IR));
}

/* The highest-priority level set in `mask`, or -1. */
static int highest_priority(const struct i8259_chip_state *c, uint8_t mask)
{
	for (unsigned i = 1; i <= 8; i++) {
		unsigned level = (c->lowest + i) & 7;

		if (mask & (1u << level))
			return (int)level;
	}
	return -1;
}

/* 0 is the highest priority, 7 the lowest. */
static unsigned priority_rank(const struct i8259_chip_state *c, unsigned level)
{
	return (level - c->lowest - 1) & 7;
}

/*
 * The request the chip would present now, or -1: the highest-priority
 * unmasked request, unless a level of equal or higher priority is in
 * service.  In special mask mode a masked in-service level blocks nothing;
 * in special fully nested mode the master lets a slave interrupt nest on
 * an in-service IR2 (the slave has already ranked it above its own).
 */
static int chip_request(const struct i8259_chip_state *c, bool is_master)
{
	uint8_t pending = c->irr & ~c->imr;
	uint8_t blocking = c->isr;
	int req, busy;

	if (!pending)
		return -1;
	req = highest_priority(c, pending);
	if (c->special_mask)
		blocking &= (uint8_t)~c->imr;
	if (is_master && (c->icw4 & ICW4_SFNM) && master_cascades_ir2(c))
		blocking &= (uint8_t)~(1u << I8259_CASCADE_IR);
	busy = highest_priority(c, blocking);
	if (busy >= 0 && priority_rank(c, (unsigned)busy) <= priority_rank(c, (unsigned)req))
		return -1;
	return req;
}

/* An IR input changed level. */
static void chip_input(struct i8259_chip_state *c, unsigned ir, int level)
{
	uint8_t bit = (uint8_t)(1u << ir);

	if (level_inputs(c) & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= (uint8_t)~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= (uint8_t)~bit;
}

/* Feed the slave's INT output to master IR2, then drive INTR. */
static void pic_update(struct i8259 *pic)
{
	struct i8259_chip_state *m = &pic->s.chip[I8259_MASTER];
	bool slave_int = chip_request(&pic->s.chip[I8259_SLAVE], false) >= 0;
	uint8_t bit = 1u << I8259_CASCADE_IR;
	int intr;

	if (level_inputs(m) & bit) {
		chip_input(m, I8259_CASCADE_IR, slave_int);
	} else {
		if (slave_int) {
			m->irr |= bit;
			m->lines |= bit;
		} else {
			m->lines &= (uint8_t)~bit;
		}
	}

	intr = chip_request(m, true) >= 0;
	if (intr != pic->intr_level) {
		pic->intr_level = intr;
		pic->ops->set_intr(pic->opaque, intr);
	}
}

/* The chip commits to `level`: IRR and ISR as the second INTA pulse (or a
 * poll) leaves them. */
static void chip_acknowledge(struct i8259_chip_state *c, unsigned level)
{
	uint8_t bit = (uint8_t)(1u << level);

	if (!(level_inputs(c) & bit))
		c->irr &= (uint8_t)~bit;
	if (c->icw4 & ICW4_AEOI) {
		if (c->rotate_in_aeoi)
			c->lowest = (uint8_t)level;
	} else {
		c->isr |= bit;
	}
}

int i8259_ack(struct i8259 *pic)
{
	struct i8259_chip_state *m = &pic->s.chip[I8259_MASTER];
	struct i8259_chip_state *sl = &pic->s.chip[I8259_SLAVE];
	int level = chip_request(m, true);
	int vector;

	if (level < 0) {
		/* The request went away before the acknowledge: the master
		 * answers with IR7's vector and sets no ISR bit. */
		vector = vector_base(m) | 7;
	} else {
		chip_acknowledge(m, (unsigned)level);
		if (level == I8259_CASCADE_IR && master_cascades_ir2(m)) {
			int slave_level = chip_request(sl, false);

			if (slave_level < 0) {
				/* Master IR2 stays in service; the slave
				 * answers with its IR7 vector. */
				vector = vector_base(sl) | 7;
			} else {
				chip_acknowledge(sl, (unsigned)slave_level);
				vector = vector_base(sl) | slave_level;
			}
		} else {
			vector = vector_base(m) | level;
		}
	}
	pic_update(pic);
	return vector;
}

/* Poll command: the read is the acknowledge, of this chip only. */
static uint8_t chip_poll(struct i8259 *pic, enum i8259_chip chip)
{
	struct i8259_chip_state *c = &pic->s.chip[chip];
	int level = chip_request(c, chip == I8259_MASTER);

	c->poll = false;
	if (level < 0)
		return 0;
	chip_acknowledge(c, (unsigned)level);
	return I8259_POLL_INT | (uint8_t)level;
}

uint8_t i8259_read(struct i8259 *pic, enum i8259_chip chip, unsigned a0)
{
	struct i8259_chip_state *c = &pic->s.chip[chip];
	uint8_t value;

	if (c->poll) {
		value = chip_poll(pic, chip);
		pic_update(pic);
		return value;
	}
	if (a0)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

/* ICW1: start (or restart) the initialisation sequence. */
static void chip_icw1(struct i8259 *pic, enum i8259_chip chip, uint8_t value)
{
	struct i8259_chip_state *c = &pic->s.chip[chip];

	if (!(value & ICW1_IC4))
		guest_error(pic, "%s ICW1 0x%02x without ICW4 selects MCS-80/85 mode, "
			    "not supported: delivering 8086 vectors", chip_name[chip], value);
	c->icw1 = value;
	/* Without ICW4 every ICW4 function is zero. */
	c->icw4 = 0;
	c->imr = 0;
	c->isr = 0;
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_in_aeoi = false;
	/* The edge sense circuit is reset: an edge input needs a new
	 * low-to-high transition; a level input still requests. */
	c->irr = c->lines & level_inputs(c);
	c->init_step = I8259_WANT_ICW2;
}

static uint8_t next_init_step(const struct i8259_chip_state *c, enum i8259_init_step done)
{
	if (done == I8259_WANT_ICW2 && !(c->icw1 & ICW1_SNGL))
		return I8259_WANT_ICW3;
	if (done != I8259_WANT_ICW4 && (c->icw1 & ICW1_IC4))
		return I8259_WANT_ICW4;
	return I8259_READY;
}

static void chip_icw3(struct i8259 *pic, enum i8259_chip chip, uint8_t value)
{
	pic->s.chip[chip].icw3 = value;
	if (chip == I8259_MASTER && !(value & (1u << I8259_CASCADE_IR)))
		guest_error(pic, "master ICW3 0x%02x: no slave on IR2, where the PC wires it", value);
	else if (chip == I8259_SLAVE && (value & 7) != I8259_CASCADE_IR)
		guest_error(pic, "slave ICW3 ID %u: the PC wires the slave to master IR2; "
			    "answering as ID 2", value & 7);
}

static void chip_write_data(struct i8259 *pic, enum i8259_chip chip, uint8_t value)
{
	struct i8259_chip_state *c = &pic->s.chip[chip];
	enum i8259_init_step step = (enum i8259_init_step)c->init_step;

	switch (step) {
	case I8259_WANT_ICW2:
		c->icw2 = value;
		break;
	case I8259_WANT_ICW3:
		chip_icw3(pic, chip, value);
		break;
	case I8259_WANT_ICW4:
		c->icw4 = value;
		if (!(value & ICW4_UPM))
			guest_error(pic, "%s ICW4 0x%02x selects MCS-80/85 mode, not supported: "
				    "delivering 8086 vectors", chip_name[chip], value);
		break;
	case I8259_READY:
		c->imr = value; /* OCW1 */
		return;
	}
	c->init_step = next_init_step(c, step);
}

static void chip_eoi(struct i8259_chip_state *c, int level, bool rotate)
{
	if (level < 0)
		return;
	c->isr &= (uint8_t)~(1u << level);
	if (rotate)
		c->lowest = (uint8_t)level;
}

static void chip_ocw2(struct i8259_chip_state *c, uint8_t value)
{
	unsigned level = value & OCW2_LEVEL_MASK;
	uint8_t in_service = c->isr;

	/* A masked in-service level is not the "last acknowledged" one a
	 * non-specific EOI means when special mask mode is on. */
	if (c->special_mask)
		in_service &= (uint8_t)~c->imr;

	switch (value & OCW2_CMD_MASK) {
	case OCW2_NONSPECIFIC_EOI:
		chip_eoi(c, highest_priority(c, in_service), false);
		break;
	case OCW2_ROTATE_NS_EOI:
		chip_eoi(c, highest_priority(c, in_service), true);
		break;
	case OCW2_SPECIFIC_EOI:
		chip_eoi(c, (int)level, false);
		break;
	case OCW2_ROTATE_S_EOI:
		chip_eoi(c, (int)level, true);
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = (uint8_t)level;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_in_aeoi = true;
		break;
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_in_aeoi = false;
		break;
	case OCW2_NOP:
		break;
	}
}

static void chip_ocw3(struct i8259 *pic, enum i8259_chip chip, uint8_t value)
{
	struct i8259_chip_state *c = &pic->s.chip[chip];

	if (value & 0x80)
		guest_error(pic, "%s OCW3 0x%02x: bit 7 must be 0", chip_name[chip], value);
	if (value & OCW3_ESMM)
		c->special_mask = value & OCW3_SMM;
	if (value & OCW3_RR)
		c->read_isr = value & OCW3_RIS;
	if (value & OCW3_POLL)
		c->poll = true;
}

void i8259_write(struct i8259 *pic, enum i8259_chip chip, unsigned a0, uint8_t value)
{
	if (a0)
		chip_write_data(pic, chip, value);
	else if (value & ICW1_SEL)
		chip_icw1(pic, chip, value);
	else if (value & OCW3_SEL)
		chip_ocw3(pic, chip, value);
	else
		/* Like the chip, take an OCW2 even mid-initialisation. */
		chip_ocw2(&pic->s.chip[chip], value);
	pic_update(pic);
}

uint8_t i8259_elcr_read(struct i8259 *pic, enum i8259_chip chip)
{
	return pic->s.chip[chip].elcr;
}

void i8259_elcr_write(struct i8259 *pic, enum i8259_chip chip, uint8_t value)
{
	struct i8259_chip_state *c = &pic->s.chip[chip];
	uint8_t level;

	if (value & ~elcr_writable[chip])
		guest_error(pic, "ELCR%u 0x%02x: IRQs 0, 1, 2, 8 and 13 are edge-triggered only",
			    (unsigned)chip + 1, value);
	c->elcr = value & elcr_writable[chip];
	/* Inputs now level-triggered request while their line is high. */
	level = level_inputs(c);
	c->irr = (uint8_t)((c->irr & ~level) | (c->lines & level));
	pic_update(pic);
}

void i8259_set_line(struct i8259 *pic, unsigned line, int level)
{
	if (line >= I8259_NR_LINES || line == I8259_CASCADE_IR)
		return; /* line 2 is the cascade: no device reaches IR2 */
	chip_input(&pic->s.chip[line / 8], line % 8, !!level);
	pic_update(pic);
}

static void chip_power_on(struct i8259_chip_state *c, enum i8259_chip chip)
{
	uint8_t lines = c->lines;

	*c = (struct i8259_chip_state){
		.icw1 = ICW1_SEL | ICW1_IC4,
		.icw3 = chip == I8259_MASTER ? 1u << I8259_CASCADE_IR : I8259_CASCADE_IR,
		.icw4 = ICW4_UPM,
		.init_step = I8259_READY,
		.lowest = 7,
		.lines = lines,
	};
}

void i8259_reset(struct i8259 *pic)
{
	pic->s.version = I8259_STATE_VERSION;
	for (unsigned i = 0; i < I8259_NR_CHIPS; i++)
		chip_power_on(&pic->s.chip[i], (enum i8259_chip)i);
	pic_update(pic);
}

void i8259_restore(struct i8259 *pic, const struct i8259_state *s)
{
	pic->s = *s;
	pic->s.version = I8259_STATE_VERSION;
	/* INTR is an output computed from the registers: a state the model
	 * saved is already settled, so this only re-drives the pin (the
	 * restored machine's CPU starts with it low). */
	pic_update(pic);
}

void i8259_init(struct i8259 *pic, const struct i8259_ops *ops, void *opaque)
{
	*pic = (struct i8259){ .ops = ops, .opaque = opaque };
	i8259_reset(pic);
}
