/* SPDX-License-Identifier: MIT */
/*
 * devices/uart16550/uart16550.h - the 16550A register model.
 *
 * This file knows registers and nothing else: no host table, no bus, no
 * backend.  Whoever embeds it (the plugin glue, or a test) supplies the
 * interrupt output, the transmit path and a clock through struct
 * uart16550_ops, and feeds received bytes in with uart16550_receive().
 * Register facts follow the National Semiconductor PC16550D datasheet.
 */
#ifndef UART16550_H
#define UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets (DLAB is LCR bit 7). */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_NR_REGS 8

#define UART_IER_ERBFI 0x01 /* received data available (and timeout) */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI  0x04 /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */
#define UART_IER_MASK  0x0f

#define UART_IIR_NO_INT    0x01
#define UART_IIR_ID_MASK   0x0e
#define UART_IIR_MSI       0x00
#define UART_IIR_THRI      0x02
#define UART_IIR_RDI       0x04
#define UART_IIR_RLSI      0x06
#define UART_IIR_TIMEOUT   0x0c
#define UART_IIR_FIFO_ON   0xc0

#define UART_FCR_ENABLE    0x01
#define UART_FCR_CLEAR_RX  0x02
#define UART_FCR_CLEAR_TX  0x04
#define UART_FCR_DMA       0x08
#define UART_FCR_TRIG_MASK 0xc0

#define UART_LCR_WLS_MASK 0x03 /* word length 5 + n */
#define UART_LCR_STB      0x04 /* 1.5 or 2 stop bits */
#define UART_LCR_PEN      0x08
#define UART_LCR_DLAB     0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1f

#define UART_LSR_DR   0x01
#define UART_LSR_OE   0x02
#define UART_LSR_PE   0x04
#define UART_LSR_FE   0x08
#define UART_LSR_BI   0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFO_ERR 0x80
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_DELTAS 0x0f
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80
#define UART_MSR_LINES 0xf0

#define UART_FIFO_SIZE 16

/* What the model needs from its surroundings. */
struct uart16550_ops {
	/* Drive the interrupt output (already gated by OUT2). */
	void (*set_irq)(void *opaque, int level);
	/* One byte leaves the serial output. */
	void (*transmit)(void *opaque, uint8_t byte);
	/* The receiver has room again after can_receive() returned 0. */
	void (*rx_ready)(void *opaque);
	/* Virtual time, and one timer for the character timeout.  All three
	 * may be NULL: the timeout indication is then never raised. */
	uint64_t (*now_ns)(void *opaque);
	void (*timer_arm)(void *opaque, uint64_t deadline_ns);
	void (*timer_cancel)(void *opaque);
};

#define UART16550_STATE_VERSION 1

/* Everything a migration would carry, and nothing else. */
struct uart16550_state {
	uint32_t version;
	uint16_t divisor;
	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint8_t rx_fifo[UART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
	uint8_t rbr_stale;       /* what RBR reads when empty */
	bool thr_ipending;       /* THRE interrupt latched, not yet acknowledged */
	bool timeout_pending;    /* character timeout indication */
	uint8_t modem_inputs;    /* CTS/DSR/RI/DCD from outside, MSR bit layout */
	uint64_t timeout_deadline; /* the character timeout's, on the ops' clock; 0: not armed */
};

struct uart16550 {
	struct uart16550_state s;
	const struct uart16550_ops *ops;
	void *opaque;
	int irq_level;   /* last level driven */
	bool rx_starved; /* can_receive() said 0; rx_ready() owed */
};

void uart16550_init(struct uart16550 *u, const struct uart16550_ops *ops, void *opaque);
/* Master reset (datasheet table: divisor and SCR keep their values). */
void uart16550_reset(struct uart16550 *u);
uint8_t uart16550_read(struct uart16550 *u, unsigned offset);
void uart16550_write(struct uart16550 *u, unsigned offset, uint8_t value);
/* Bytes the receiver takes now: free FIFO slots, 0 in loopback. */
size_t uart16550_can_receive(struct uart16550 *u);
/* Bytes arriving on the serial input. */
void uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);
/* The timer armed through ops->timer_arm expired. */
void uart16550_timer_expired(struct uart16550 *u);
/* Modem inputs from outside (UART_MSR_CTS|DSR|RI|DCD); sets delta bits. */
void uart16550_set_modem_inputs(struct uart16550 *u, uint8_t lines);
/* Saved state: uart16550_state_set() replaces the model's with *s (a
 * state saved from u->s), re-arms the character timeout at its saved
 * deadline and drives the interrupt output to the level the state gives.
 * -EINVAL for a state no 16550 can be in (FIFO indices out of range, FCR,
 * IER or MCR bits a guest cannot set; a divisor of 0 is allowed: the guest
 * may write it). */
int uart16550_state_set(struct uart16550 *u, const struct uart16550_state *s);

#endif /* UART16550_H */
