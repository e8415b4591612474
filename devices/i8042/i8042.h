/* SPDX-License-Identifier: MIT */
/*
 * devices/i8042/i8042.h - the PC keyboard controller (8042) register model,
 * with a keyboard that answers the basic commands and no auxiliary device.
 *
 * This file knows registers and nothing else: the embedder supplies the two
 * interrupt outputs and what a CPU reset request does through struct
 * i8042_ops.  Facts follow the IBM PC/AT keyboard controller documentation.
 */
#ifndef I8042_H
#define I8042_H

#include <stdbool.h>
#include <stdint.h>

/* Offsets from port 0x60: data at 0x60, status/command at 0x64. */
#define I8042_DATA    0
#define I8042_COMMAND 4

/* Status register (read 0x64). */
#define I8042_STR_OBF     0x01 /* output buffer full */
#define I8042_STR_IBF     0x02 /* input buffer full: always 0, we take bytes at once */
#define I8042_STR_SYS     0x04 /* system flag, command byte bit 2 */
#define I8042_STR_CMD     0x08 /* last write was to 0x64 */
#define I8042_STR_UNLOCK  0x10 /* keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20 /* output buffer holds aux data */

/* Command byte. */
#define I8042_CB_KBD_INT  0x01
#define I8042_CB_AUX_INT  0x02
#define I8042_CB_SYS      0x04
#define I8042_CB_KBD_DIS  0x10
#define I8042_CB_AUX_DIS  0x20
#define I8042_CB_XLATE    0x40
#define I8042_CB_POWER_ON (I8042_CB_XLATE | I8042_CB_SYS | I8042_CB_KBD_INT)

/* Output port (0xD0/0xD1). */
#define I8042_OUT_RESET   0x01 /* active low: 0 resets the CPU */
#define I8042_OUT_A20     0x02
#define I8042_OUT_KBD_OBF 0x10 /* IRQ1 */
#define I8042_OUT_AUX_OBF 0x20 /* IRQ12 */
#define I8042_OUT_POWER_ON (I8042_OUT_RESET | I8042_OUT_A20)

/* Input port (0xC0): keyboard not inhibited, no manufacturing jumper. */
#define I8042_INPUT_PORT 0xa0

/* Controller commands (write 0x64). */
#define I8042_CMD_READ_CB     0x20
#define I8042_CMD_WRITE_CB    0x60
#define I8042_CMD_AUX_DISABLE 0xa7
#define I8042_CMD_AUX_ENABLE  0xa8
#define I8042_CMD_AUX_TEST    0xa9
#define I8042_CMD_SELF_TEST   0xaa
#define I8042_CMD_KBD_TEST    0xab
#define I8042_CMD_KBD_DISABLE 0xad
#define I8042_CMD_KBD_ENABLE  0xae
#define I8042_CMD_READ_INPUT  0xc0
#define I8042_CMD_READ_OUTPUT 0xd0
#define I8042_CMD_WRITE_OUTPUT 0xd1
#define I8042_CMD_WRITE_KBD_OBUF 0xd2
#define I8042_CMD_WRITE_AUX_OBUF 0xd3
#define I8042_CMD_WRITE_AUX   0xd4
#define I8042_CMD_READ_TEST   0xe0
#define I8042_CMD_PULSE_RESET 0xfe /* 0xf0-0xff: pulse output lines 3..0 */

#define I8042_SELF_TEST_OK 0x55

/* Keyboard device. */
#define KBD_CMD_SET_LEDS  0xed
#define KBD_CMD_ECHO      0xee
#define KBD_CMD_SCANSET   0xf0
#define KBD_CMD_IDENTIFY  0xf2
#define KBD_CMD_TYPEMATIC 0xf3
#define KBD_CMD_ENABLE    0xf4
#define KBD_CMD_DISABLE   0xf5
#define KBD_CMD_DEFAULTS  0xf6
#define KBD_CMD_RESET     0xff
#define KBD_REPLY_ACK     0xfa
#define KBD_REPLY_BAT_OK  0xaa
#define KBD_REPLY_RESEND  0xfe

enum i8042_channel {
	I8042_KBD = 0,
	I8042_AUX = 1,
};

struct i8042_ops {
	/* Drive the keyboard (IRQ1) or aux (IRQ12) interrupt output. */
	void (*set_irq)(void *opaque, enum i8042_channel ch, int level);
	/* The guest pulsed the CPU reset line. */
	void (*reset_request)(void *opaque);
};

#define I8042_QUEUE_SIZE 16
#define I8042_STATE_VERSION 1

/* Everything a migration would carry. */
struct i8042_state {
	uint32_t version;
	uint8_t status_cmd;      /* I8042_STR_CMD as last set */
	uint8_t cb;              /* command byte */
	uint8_t outport;         /* output port as last written (OBF bits computed) */
	uint8_t pending_cmd;     /* controller command waiting for its data byte, or 0 */
	uint8_t kbd_pending;     /* keyboard command waiting for its parameter, or 0 */
	bool kbd_scanning;       /* 0xF4/0xF5 */
	/* The output buffer and what waits behind it, with its source. */
	uint8_t queue[I8042_QUEUE_SIZE];
	uint8_t queue_src[I8042_QUEUE_SIZE]; /* enum i8042_channel */
	uint8_t head, count;
};

struct i8042 {
	struct i8042_state s;
	const struct i8042_ops *ops;
	void *opaque;
	int irq_level[2];
	unsigned long dropped;   /* bytes lost to a full queue */
};

/*
 * Snapshot restore.  i8042_state_check() names the member of a saved
 * state the controller could not be in (a queue index or count past the
 * queue, a byte's source other than the two channels, a pending command
 * that never waits for data), or returns NULL; i8042_restore() installs it
 * and drives IRQ 1 and IRQ 12 as the output buffer says.
 */
const char *i8042_state_check(const struct i8042_state *s);
void i8042_restore(struct i8042 *k, const struct i8042_state *s);

void i8042_init(struct i8042 *k, const struct i8042_ops *ops, void *opaque);
void i8042_reset(struct i8042 *k);
uint8_t i8042_read(struct i8042 *k, unsigned offset);
/* Returns false when the guest sent something the model ignores (an
 * unknown controller command), for the embedder to log. */
bool i8042_write(struct i8042 *k, unsigned offset, uint8_t value);

#endif /* I8042_H */
