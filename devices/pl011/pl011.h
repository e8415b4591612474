/* SPDX-License-Identifier: MIT */
/*
 * devices/pl011/pl011.h - the ARM PrimeCell UART (PL011) r1p5 register model.
 *
 * This file knows registers and nothing else: no host table, no bus, no
 * backend.  Whoever embeds it (the plugin glue, or a test) supplies the
 * interrupt output, the transmit path and a clock through struct
 * pl011_ops, and feeds received bytes in with pl011_receive().  Register
 * facts follow the PrimeCell UART (PL011) Technical Reference Manual,
 * ARM DDI 0183 (r1p5); "TRM, X" names its section on register X.
 */
#ifndef PL011_H
#define PL011_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets (TRM, summary of registers). */
#define PL011_DR     0x000 /* UARTDR: data, receive error bits 11..8 */
#define PL011_RSR    0x004 /* read: UARTRSR; write: UARTECR (clear errors) */
#define PL011_FR     0x018 /* UARTFR: flags, read-only */
#define PL011_ILPR   0x020 /* UARTILPR: IrDA low-power divisor */
#define PL011_IBRD   0x024 /* UARTIBRD: integer baud divisor, 16 bits */
#define PL011_FBRD   0x028 /* UARTFBRD: fractional baud divisor, 6 bits */
#define PL011_LCR_H  0x02c /* UARTLCR_H: line control */
#define PL011_CR     0x030 /* UARTCR: control */
#define PL011_IFLS   0x034 /* UARTIFLS: FIFO interrupt levels */
#define PL011_IMSC   0x038 /* UARTIMSC: interrupt mask set/clear */
#define PL011_RIS    0x03c /* UARTRIS: raw interrupt status, read-only */
#define PL011_MIS    0x040 /* UARTMIS: masked interrupt status, read-only */
#define PL011_ICR    0x044 /* UARTICR: interrupt clear, write-only */
#define PL011_DMACR  0x048 /* UARTDMACR: DMA control */
#define PL011_PERIPH_ID0 0xfe0 /* UARTPeriphID0-3 at 0xfe0-0xfec */
#define PL011_PCELL_ID0  0xff0 /* UARTPCellID0-3 at 0xff0-0xffc */
#define PL011_MMIO_SIZE  0x1000

/* UARTDR and UARTRSR error bits (DR bits 11..8, RSR bits 3..0). */
#define PL011_DR_FE 0x100
#define PL011_DR_PE 0x200
#define PL011_DR_BE 0x400
#define PL011_DR_OE 0x800
#define PL011_RSR_FE 0x1
#define PL011_RSR_PE 0x2
#define PL011_RSR_BE 0x4
#define PL011_RSR_OE 0x8

#define PL011_FR_CTS  0x001
#define PL011_FR_DSR  0x002
#define PL011_FR_DCD  0x004
#define PL011_FR_BUSY 0x008
#define PL011_FR_RXFE 0x010
#define PL011_FR_TXFF 0x020
#define PL011_FR_RXFF 0x040
#define PL011_FR_TXFE 0x080
#define PL011_FR_RI   0x100

#define PL011_LCRH_BRK  0x01
#define PL011_LCRH_PEN  0x02
#define PL011_LCRH_EPS  0x04
#define PL011_LCRH_STP2 0x08
#define PL011_LCRH_FEN  0x10
#define PL011_LCRH_WLEN 0x60
#define PL011_LCRH_SPS  0x80

#define PL011_CR_UARTEN 0x0001
#define PL011_CR_SIREN  0x0002
#define PL011_CR_SIRLP  0x0004
#define PL011_CR_LBE    0x0080
#define PL011_CR_TXE    0x0100
#define PL011_CR_RXE    0x0200
#define PL011_CR_DTR    0x0400
#define PL011_CR_RTS    0x0800
#define PL011_CR_OUT1   0x1000
#define PL011_CR_OUT2   0x2000
#define PL011_CR_RTSEN  0x4000
#define PL011_CR_CTSEN  0x8000
#define PL011_CR_MASK   0xff87 /* bits 6..3 are reserved */
#define PL011_CR_RESET  (PL011_CR_TXE | PL011_CR_RXE) /* 0x0300 */

/* UARTIFLS: TXIFLSEL bits 2..0, RXIFLSEL bits 5..3. */
#define PL011_IFLS_TX_MASK 0x07
#define PL011_IFLS_RX_SHIFT 3
#define PL011_IFLS_MASK 0x3f
#define PL011_IFLS_RESET 0x12 /* both at 1/2 */

/* Interrupt bits, the same in IMSC, RIS, MIS and ICR. */
#define PL011_INT_RI  0x001
#define PL011_INT_CTS 0x002
#define PL011_INT_DCD 0x004
#define PL011_INT_DSR 0x008
#define PL011_INT_RX  0x010
#define PL011_INT_TX  0x020
#define PL011_INT_RT  0x040
#define PL011_INT_FE  0x080
#define PL011_INT_PE  0x100
#define PL011_INT_BE  0x200
#define PL011_INT_OE  0x400
#define PL011_INT_MASK 0x7ff

#define PL011_DMACR_MASK 0x7

/* r1p5 has 32-entry FIFOs (earlier revisions 16); with UARTLCR_H.FEN
 * clear each is a one-character holding register. */
#define PL011_FIFO_DEPTH 32

/* What the model needs from its surroundings. */
struct pl011_ops {
	/* Drive UARTINTR, the combined interrupt output. */
	void (*set_irq)(void *opaque, int level);
	/* One byte leaves UARTTXD. */
	void (*transmit)(void *opaque, uint8_t byte);
	/* The receiver has room again after can_receive() returned 0. */
	void (*rx_ready)(void *opaque);
	/* Virtual time and one timer for the receive timeout.  All three may
	 * be NULL: the receive timeout interrupt is then never raised. */
	uint64_t (*now_ns)(void *opaque);
	void (*timer_arm)(void *opaque, uint64_t deadline_ns);
	void (*timer_cancel)(void *opaque);
};

#define PL011_STATE_VERSION 1

/* Everything a migration would carry, and nothing else. */
struct pl011_state {
	uint32_t version;
	uint16_t cr, ibrd, imsc, ris;
	uint8_t fbrd, lcr_h, ifls, ilpr, dmacr, rsr;
	/* IBRD and FBRD as the last UARTLCR_H write latched them (TRM, UARTLCR_H). */
	uint16_t ibrd_latched;
	uint8_t fbrd_latched;
	uint16_t rx_fifo[PL011_FIFO_DEPTH]; /* data and error bits, as UARTDR reads */
	uint8_t rx_head, rx_count;
	uint8_t tx_fifo[PL011_FIFO_DEPTH];
	uint8_t tx_head, tx_count;
	bool rx_overrun; /* a character was lost: the next one stored carries OE */
	/* When the running receive timeout expires, absolute virtual-clock
	 * ns; 0 while none runs.  Kept so a restore re-arms the same instant. */
	uint64_t rt_deadline_ns;
};

struct pl011 {
	struct pl011_state s;
	const struct pl011_ops *ops;
	void *opaque;
	uint64_t clock_hz;  /* UARTCLK */
	/* What reset gives UARTCR, UARTIBRD, UARTFBRD and UARTLCR_H. */
	uint16_t cr_reset, ibrd_reset;
	uint8_t fbrd_reset, lcr_h_reset;
	int irq_level;      /* last level driven */
	bool rx_starved;    /* can_receive() said 0; rx_ready() owed */
};

/* The line a firmware-enabled UART comes out of reset with. */
#define PL011_FIRMWARE_BAUD 115200

/* @clock_hz: UARTCLK.  @enabled: reset leaves the UART as boot firmware
 * leaves a console: UARTEN, TXE and RXE set, PL011_FIRMWARE_BAUD from
 * @clock_hz, 8 bits, FIFOs on.  False gives the TRM's reset values
 * (UARTCR 0x0300, divisors and UARTLCR_H 0). */
void pl011_init(struct pl011 *p, const struct pl011_ops *ops, void *opaque, uint64_t clock_hz,
		bool enabled);
/* PRESETn: every register to its reset value, FIFOs emptied. */
void pl011_reset(struct pl011 *p);
/* 32-bit register at @offset (a multiple of 4 below PL011_MMIO_SIZE). */
uint32_t pl011_read(struct pl011 *p, unsigned offset);
/* False when @offset is read-only or reserved: the write is ignored. */
bool pl011_write(struct pl011 *p, unsigned offset, uint32_t value);
/* Bytes the receiver takes now: free receive FIFO entries, 0 while
 * reception is disabled or in loopback. */
size_t pl011_can_receive(struct pl011 *p);
/* Bytes arriving on UARTRXD. */
void pl011_receive(struct pl011 *p, const uint8_t *buf, size_t len);
/* The timer armed through ops->timer_arm expired. */
void pl011_timer_expired(struct pl011 *p);
/* Take @s as the UART's state (a restore): every field is checked first,
 * and on a value no UART could hold returns -EINVAL with *bad naming the
 * field, @p untouched.  Otherwise re-arms the saved timeout deadline and
 * re-drives the interrupt line at the saved level. */
int pl011_restore(struct pl011 *p, const struct pl011_state *s, const char **bad);
/* The receive timeout at the latched divisor: 32 bit periods, in ns. */
uint64_t pl011_rx_timeout_ns(const struct pl011 *p);

#endif /* PL011_H */
