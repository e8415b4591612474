/* SPDX-License-Identifier: MIT */
/*
 * devices/i8042/i8042.c - the 8042 keyboard controller register model.
 *
 * The real controller has a one-byte output buffer; the keyboard holds its
 * further reply bytes until the buffer is free.  Here the buffer and those
 * waiting bytes are one small queue: the head is the output buffer, and
 * every byte reaching the head is a fresh "buffer full" event, so each
 * raises its interrupt line anew (the PC's ISA interrupts are edge
 * triggered: reading 0x60 drops the line, the next byte raises it again).
 */
#include <string.h>

#include "i8042.h"

static void i8042_update_irq(struct i8042 *k)
{
	int level[2] = { 0, 0 };

	if (k->s.count) {
		enum i8042_channel ch = k->s.queue_src[k->s.head];
		uint8_t enable = ch == I8042_AUX ? I8042_CB_AUX_INT : I8042_CB_KBD_INT;

		level[ch] = (k->s.cb & enable) != 0;
	}
	for (int ch = 0; ch < 2; ch++) {
		if (level[ch] != k->irq_level[ch]) {
			k->irq_level[ch] = level[ch];
			k->ops->set_irq(k->opaque, (enum i8042_channel)ch, level[ch]);
		}
	}
}

static void i8042_queue(struct i8042 *k, enum i8042_channel ch, uint8_t byte)
{
	unsigned tail;

	if (k->s.count == I8042_QUEUE_SIZE) {
		k->dropped++;
		return;
	}
	tail = (k->s.head + k->s.count) % I8042_QUEUE_SIZE;
	k->s.queue[tail] = byte;
	k->s.queue_src[tail] = (uint8_t)ch;
	k->s.count++;
	i8042_update_irq(k);
}

static uint8_t i8042_pop(struct i8042 *k)
{
	uint8_t byte;

	if (!k->s.count)
		return k->s.queue[k->s.head]; /* the last byte stays readable */
	byte = k->s.queue[k->s.head];
	k->s.count--;
	if (k->s.count)
		k->s.head = (k->s.head + 1) % I8042_QUEUE_SIZE;
	/* Drop the lines so that the next byte is a new edge. */
	for (int ch = 0; ch < 2; ch++) {
		if (k->irq_level[ch]) {
			k->irq_level[ch] = 0;
			k->ops->set_irq(k->opaque, (enum i8042_channel)ch, 0);
		}
	}
	i8042_update_irq(k);
	return byte;
}

static uint8_t i8042_status(const struct i8042 *k)
{
	uint8_t st = I8042_STR_UNLOCK | k->s.status_cmd;

	if (k->s.cb & I8042_CB_SYS)
		st |= I8042_STR_SYS;
	if (k->s.count) {
		st |= I8042_STR_OBF;
		if (k->s.queue_src[k->s.head] == I8042_AUX)
			st |= I8042_STR_AUXDATA;
	}
	return st;
}

static uint8_t i8042_outport(const struct i8042 *k)
{
	uint8_t v = k->s.outport & (uint8_t)~(I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF);

	if (k->s.count)
		v |= k->s.queue_src[k->s.head] == I8042_AUX ? I8042_OUT_AUX_OBF : I8042_OUT_KBD_OBF;
	return v;
}

static void i8042_write_outport(struct i8042 *k, uint8_t value)
{
	k->s.outport = value;
	/* Bit 0 drives the CPU's reset line, active low. */
	if (!(value & I8042_OUT_RESET))
		k->ops->reset_request(k->opaque);
}

/* A byte for the keyboard, from port 0x60 or through 0xD2's cousin. */
static void kbd_command(struct i8042 *k, uint8_t byte)
{
	if (k->s.kbd_pending) {
		/* The parameter of SET_LEDS, TYPEMATIC or SCANSET. */
		k->s.kbd_pending = 0;
		i8042_queue(k, I8042_KBD, KBD_REPLY_ACK);
		return;
	}
	switch (byte) {
	case KBD_CMD_RESET:
		k->s.kbd_scanning = true;
		i8042_queue(k, I8042_KBD, KBD_REPLY_ACK);
		i8042_queue(k, I8042_KBD, KBD_REPLY_BAT_OK);
		break;
	case KBD_CMD_IDENTIFY:
		/* An MF2 keyboard; with translation the host sees 0xAB 0x41,
		 * but Linux asks with translation off and expects 0x83. */
		i8042_queue(k, I8042_KBD, KBD_REPLY_ACK);
		i8042_queue(k, I8042_KBD, 0xab);
		i8042_queue(k, I8042_KBD, 0x83);
		break;
	case KBD_CMD_ECHO:
		i8042_queue(k, I8042_KBD, KBD_CMD_ECHO);
		break;
	case KBD_CMD_SET_LEDS:
	case KBD_CMD_TYPEMATIC:
	case KBD_CMD_SCANSET:
		k->s.kbd_pending = byte;
		i8042_queue(k, I8042_KBD, KBD_REPLY_ACK);
		break;
	case KBD_CMD_ENABLE:
	case KBD_CMD_DISABLE:
	case KBD_CMD_DEFAULTS:
		k->s.kbd_scanning = byte != KBD_CMD_DISABLE;
		i8042_queue(k, I8042_KBD, KBD_REPLY_ACK);
		break;
	default:
		i8042_queue(k, I8042_KBD, KBD_REPLY_RESEND);
		break;
	}
}

/* The data byte that follows a controller command. */
static void i8042_command_data(struct i8042 *k, uint8_t cmd, uint8_t value)
{
	switch (cmd) {
	case I8042_CMD_WRITE_CB:
		k->s.cb = value;
		i8042_update_irq(k);
		break;
	case I8042_CMD_WRITE_OUTPUT:
		i8042_write_outport(k, value);
		break;
	case I8042_CMD_WRITE_KBD_OBUF:
		i8042_queue(k, I8042_KBD, value);
		break;
	case I8042_CMD_WRITE_AUX_OBUF:
		i8042_queue(k, I8042_AUX, value);
		break;
	case I8042_CMD_WRITE_AUX:
		/* No mouse is attached: it answers "resend", which drivers
		 * take as "no device". */
		i8042_queue(k, I8042_AUX, KBD_REPLY_RESEND);
		break;
	default:
		break; /* 0x61-0x7f: controller RAM, not kept */
	}
}

static bool i8042_command(struct i8042 *k, uint8_t cmd)
{
	if (cmd >= 0xf0) {
		/* Pulse the output lines whose bit is 0; line 0 is reset. */
		if (!(cmd & 0x01))
			k->ops->reset_request(k->opaque);
		return true;
	}
	if (cmd >= 0x20 && cmd < 0x40) {
		/* Controller RAM; only byte 0, the command byte, is kept. */
		i8042_queue(k, I8042_KBD, cmd == I8042_CMD_READ_CB ? k->s.cb : 0);
		return true;
	}
	if (cmd >= 0x60 && cmd < 0x80) {
		k->s.pending_cmd = cmd;
		return true;
	}
	switch (cmd) {
	case I8042_CMD_AUX_DISABLE:
		k->s.cb |= I8042_CB_AUX_DIS;
		break;
	case I8042_CMD_AUX_ENABLE:
		k->s.cb &= (uint8_t)~I8042_CB_AUX_DIS;
		break;
	case I8042_CMD_AUX_TEST:
	case I8042_CMD_KBD_TEST:
		i8042_queue(k, I8042_KBD, 0x00);
		break;
	case I8042_CMD_SELF_TEST:
		i8042_queue(k, I8042_KBD, I8042_SELF_TEST_OK);
		break;
	case I8042_CMD_KBD_DISABLE:
		k->s.cb |= I8042_CB_KBD_DIS;
		break;
	case I8042_CMD_KBD_ENABLE:
		k->s.cb &= (uint8_t)~I8042_CB_KBD_DIS;
		break;
	case I8042_CMD_READ_INPUT:
		i8042_queue(k, I8042_KBD, I8042_INPUT_PORT);
		break;
	case I8042_CMD_READ_OUTPUT:
		i8042_queue(k, I8042_KBD, i8042_outport(k));
		break;
	case I8042_CMD_READ_TEST:
		i8042_queue(k, I8042_KBD, 0x00);
		break;
	case I8042_CMD_WRITE_OUTPUT:
	case I8042_CMD_WRITE_KBD_OBUF:
	case I8042_CMD_WRITE_AUX_OBUF:
	case I8042_CMD_WRITE_AUX:
		k->s.pending_cmd = cmd;
		break;
	default:
		return false;
	}
	return true;
}

uint8_t i8042_read(struct i8042 *k, unsigned offset)
{
	if (offset == I8042_COMMAND)
		return i8042_status(k);
	return i8042_pop(k);
}

bool i8042_write(struct i8042 *k, unsigned offset, uint8_t value)
{
	uint8_t cmd;

	if (offset == I8042_COMMAND) {
		k->s.status_cmd = I8042_STR_CMD;
		k->s.pending_cmd = 0; /* a new command cancels one waiting for data */
		return i8042_command(k, value);
	}
	k->s.status_cmd = 0;
	cmd = k->s.pending_cmd;
	k->s.pending_cmd = 0;
	if (cmd)
		i8042_command_data(k, cmd, value);
	else
		kbd_command(k, value);
	return true;
}

/* Controller commands that wait for a data byte (see i8042_command). */
static bool i8042_takes_data(uint8_t cmd)
{
	return (cmd >= I8042_CMD_WRITE_CB && cmd < 0x80) ||
	       (cmd >= I8042_CMD_WRITE_OUTPUT && cmd <= I8042_CMD_WRITE_AUX);
}

const char *i8042_state_check(const struct i8042_state *s)
{
	if (s->status_cmd & ~I8042_STR_CMD)
		return "status_cmd";
	if (s->pending_cmd && !i8042_takes_data(s->pending_cmd))
		return "pending_cmd";
	if (s->kbd_pending && s->kbd_pending != KBD_CMD_SET_LEDS &&
	    s->kbd_pending != KBD_CMD_TYPEMATIC && s->kbd_pending != KBD_CMD_SCANSET)
		return "kbd_pending";
	if (s->head >= I8042_QUEUE_SIZE)
		return "head";
	if (s->count > I8042_QUEUE_SIZE)
		return "count";
	for (unsigned i = 0; i < I8042_QUEUE_SIZE; i++)
		if (s->queue_src[i] > I8042_AUX)
			return "queue_src";
	return NULL;
}

void i8042_restore(struct i8042 *k, const struct i8042_state *s)
{
	k->s = *s;
	k->s.version = I8042_STATE_VERSION;
	/* The byte in the output buffer raises its line again (the
	 * restored machine's lines start low). */
	i8042_update_irq(k);
}

void i8042_reset(struct i8042 *k)
{
	for (int ch = 0; ch < 2; ch++) {
		if (k->irq_level[ch]) {
			k->irq_level[ch] = 0;
			k->ops->set_irq(k->opaque, (enum i8042_channel)ch, 0);
		}
	}
	memset(&k->s, 0, sizeof(k->s));
	k->s.version = I8042_STATE_VERSION;
	k->s.cb = I8042_CB_POWER_ON;
	k->s.outport = I8042_OUT_POWER_ON;
	k->s.kbd_scanning = true;
}

void i8042_init(struct i8042 *k, const struct i8042_ops *ops, void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->ops = ops;
	k->opaque = opaque;
	i8042_reset(k);
}
