/* SPDX-License-Identifier: MIT */
/*
 * devices/pl011/pl011.c - the ARM PrimeCell UART (PL011) r1p5 register model.
 *
 * Transmission is instantaneous: while the transmitter is enabled a byte
 * written to UARTDR leaves through ops->transmit before the write returns,
 * so the transmit FIFO only holds bytes written while UARTEN or TXE is
 * clear, and they leave the moment both are set.  Reception is paced by
 * the receive FIFO: the embedder asks pl011_can_receive() before handing
 * bytes over, so input from the host is never lost to an overrun; only
 * loopback, which the guest drives itself, can overrun.
 *
 * "TRM, X" below names the section of ARM DDI 0183 (PL011 TRM, r1p5) that
 * describes register or interrupt X.
 */
#include <errno.h>
#include <string.h>

#include "pl011.h"

#define NS_PER_SEC 1000000000ULL

/* UARTPeriphID0-3 then UARTPCellID0-3 (TRM, identification registers):
 * part 0x011, designer 0x41 (ARM), revision 3 = r1p5, configuration 0. */
static const uint8_t pl011_ids[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

/* IFLS level selects in eighths of the FIFO: 1/8, 1/4, 1/2, 3/4, 7/8;
 * the reserved encodings 5..7 act as 1/2. */
static const uint8_t ifls_eighths[8] = { 1, 2, 4, 6, 7, 4, 4, 4 };

static bool fifo_enabled(const struct pl011 *p)
{
	return p->s.lcr_h & PL011_LCRH_FEN;
}

static unsigned fifo_capacity(const struct pl011 *p)
{
	return fifo_enabled(p) ? PL011_FIFO_DEPTH : 1;
}

/* TRM, UARTCR: the UART transmits only while both TXE and UARTEN are
 * set, and receives only while both RXE and UARTEN are set. */
static bool tx_enabled(const struct pl011 *p)
{
	return (p->s.cr & (PL011_CR_UARTEN | PL011_CR_TXE)) == (PL011_CR_UARTEN | PL011_CR_TXE);
}

static bool rx_enabled(const struct pl011 *p)
{
	return (p->s.cr & (PL011_CR_UARTEN | PL011_CR_RXE)) == (PL011_CR_UARTEN | PL011_CR_RXE);
}

static bool loopback(const struct pl011 *p)
{
	return p->s.cr & PL011_CR_LBE;
}

/*
 * TRM, UARTRXINTR: with the FIFOs on, asserted when the receive FIFO
 * reaches the programmed level; with them off, when the holding register
 * fills.  So the level is "at least this many" and 1 without FIFOs.
 */
static unsigned rx_trigger(const struct pl011 *p)
{
	if (!fifo_enabled(p))
		return 1;
	return PL011_FIFO_DEPTH * ifls_eighths[(p->s.ifls >> PL011_IFLS_RX_SHIFT) & 7] / 8;
}

/*
 * TRM, UARTTXINTR: with the FIFOs on, asserted when the transmit FIFO is
 * at or below the programmed level; with them off, when the holding
 * register is empty.  So the level is "at most this many" and 0 without
 * FIFOs.
 */
static unsigned tx_trigger(const struct pl011 *p)
{
	if (!fifo_enabled(p))
		return 0;
	return PL011_FIFO_DEPTH * ifls_eighths[p->s.ifls & PL011_IFLS_TX_MASK] / 8;
}

/* TRM, UARTINTR: the OR of the masked sources, a level. */
static void pl011_update_irq(struct pl011 *p)
{
	int level = (p->s.ris & p->s.imsc) != 0;

	if (level != p->irq_level) {
		p->irq_level = level;
		p->ops->set_irq(p->opaque, level);
	}
}

uint64_t pl011_rx_timeout_ns(const struct pl011 *p)
{
	/*
	 * Baud rate divisor BAUDDIV = IBRD + FBRD / 64 (TRM, UARTFBRD), one
	 * bit is 16 UARTCLK periods of it, and the timeout is 32 bit periods
	 * (TRM, UARTRTINTR): 512 * (64 * IBRD + FBRD) / 64 clocks.  IBRD = 0
	 * is invalid (TRM, UARTIBRD) and ignores FBRD: taken as divisor 1.
	 * Rounded up, so the interrupt never comes early.
	 */
	uint64_t div64 = p->s.ibrd_latched ? 64ULL * p->s.ibrd_latched + p->s.fbrd_latched : 64;
	uint64_t hz = p->clock_hz ? p->clock_hz : 1;

	return (8 * div64 * NS_PER_SEC + hz - 1) / hz;
}

static void rx_cancel_timeout(struct pl011 *p)
{
	p->s.rt_deadline_ns = 0;
	if (p->ops->timer_cancel)
		p->ops->timer_cancel(p->opaque);
}

/* TRM, UARTRTINTR: asserted when the receive FIFO holds data and nothing
 * more has been received for 32 bit periods: every character received
 * restarts the wait; reads do not. */
static void rx_restart_timeout(struct pl011 *p)
{
	if (p->ops->timer_arm && p->ops->now_ns) {
		p->s.rt_deadline_ns = p->ops->now_ns(p->opaque) + pl011_rx_timeout_ns(p);
		p->ops->timer_arm(p->opaque, p->s.rt_deadline_ns);
	}
}

/* Tell the embedder input may flow again, once per stall. */
static void rx_check_room(struct pl011 *p)
{
	if (p->rx_starved && pl011_can_receive(p)) {
		p->rx_starved = false;
		if (p->ops->rx_ready)
			p->ops->rx_ready(p->opaque);
	}
}

static void rx_push(struct pl011 *p, uint8_t byte)
{
	struct pl011_state *s = &p->s;
	uint16_t entry = byte;

	if (s->rx_count >= fifo_capacity(p)) {
		/*
		 * TRM, UARTRSR: on overrun the FIFO keeps its contents and
		 * the new character is lost; OE is set at once.  TRM, UARTDR:
		 * DR's OE clears once there is room and a new character is
		 * written into the FIFO: that character carries it.
		 */
		s->rsr |= PL011_RSR_OE;
		s->ris |= PL011_INT_OE;
		s->rx_overrun = true;
		return;
	}
	if (s->rx_overrun) {
		entry |= PL011_DR_OE;
		s->rx_overrun = false;
	}
	s->rx_fifo[(s->rx_head + s->rx_count) % PL011_FIFO_DEPTH] = entry;
	s->rx_count++;
	if (s->rx_count >= rx_trigger(p))
		s->ris |= PL011_INT_RX;
	rx_restart_timeout(p);
}

static uint32_t rx_pop(struct pl011 *p)
{
	struct pl011_state *s = &p->s;
	uint16_t entry;

	if (!s->rx_count)
		return 0;
	entry = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % PL011_FIFO_DEPTH;
	s->rx_count--;
	/* TRM, UARTRSR: it takes the break, framing and parity status of the
	 * character read from UARTDR; overrun is set when it happens. */
	s->rsr = (uint8_t)((s->rsr & PL011_RSR_OE) | ((entry >> 8) & 0x7));
	/* TRM, UARTRXINTR: cleared by reading the FIFO below the level. */
	if (s->rx_count < rx_trigger(p))
		s->ris &= ~PL011_INT_RX;
	/* TRM, UARTRTINTR: cleared when reading empties the FIFO. */
	if (!s->rx_count) {
		s->ris &= ~PL011_INT_RT;
		rx_cancel_timeout(p);
	}
	rx_check_room(p);
	return entry;
}

/* A byte on UARTTXD: the backend, or the receiver in loopback (TRM,
 * UARTCR LBE: the transmit path is fed to the receive path). */
static void tx_out(struct pl011 *p, uint8_t byte)
{
	if (!loopback(p))
		p->ops->transmit(p->opaque, byte);
	else if (rx_enabled(p))
		rx_push(p, byte);
}

/* Send what the transmit FIFO holds, if the transmitter may. */
static void tx_drain(struct pl011 *p)
{
	struct pl011_state *s = &p->s;

	if (!s->tx_count || !tx_enabled(p))
		return;
	while (s->tx_count) {
		uint8_t byte = s->tx_fifo[s->tx_head];

		s->tx_head = (s->tx_head + 1) % PL011_FIFO_DEPTH;
		s->tx_count--;
		tx_out(p, byte);
	}
	/* TRM, UARTTXINTR: the FIFO drained to (below) the level: that asserts
	 * UARTTXINTR, whatever the mask, with or without FIFOs. */
	s->ris |= PL011_INT_TX;
}

static void tx_write(struct pl011 *p, uint8_t byte)
{
	struct pl011_state *s = &p->s;

	/* A write to a full FIFO is lost, as on the chip (TXFF said so). */
	if (s->tx_count >= fifo_capacity(p))
		return;
	s->tx_fifo[(s->tx_head + s->tx_count) % PL011_FIFO_DEPTH] = byte;
	s->tx_count++;
	/* TRM, UARTTXINTR: cleared by writing the FIFO above the level (or,
	 * without FIFOs, by a single write). */
	if (s->tx_count > tx_trigger(p))
		s->ris &= ~PL011_INT_TX;
	tx_drain(p);
}

static uint32_t pl011_flags(const struct pl011 *p)
{
	const struct pl011_state *s = &p->s;
	/* No modem lines: the host side is a terminal that is always there,
	 * so CTS, DSR and DCD read asserted and RI not. */
	uint32_t fr = PL011_FR_CTS | PL011_FR_DSR | PL011_FR_DCD;

	/* TRM, UARTFR: BUSY is set as soon as the transmit FIFO holds data,
	 * whether the UART is enabled or not. */
	if (s->tx_count)
		fr |= PL011_FR_BUSY;
	else
		fr |= PL011_FR_TXFE;
	if (s->tx_count >= fifo_capacity(p))
		fr |= PL011_FR_TXFF;
	if (!s->rx_count)
		fr |= PL011_FR_RXFE;
	if (s->rx_count >= fifo_capacity(p))
		fr |= PL011_FR_RXFF;
	return fr;
}

static void pl011_write_lcr_h(struct pl011 *p, uint32_t value)
{
	struct pl011_state *s = &p->s;

	s->lcr_h = (uint8_t)value;
	/* TRM, UARTLCR_H: it forms one 30-bit register with UARTIBRD and
	 * UARTFBRD, updated by the UARTLCR_H write strobe: a new divisor
	 * takes effect only when UARTLCR_H is written after it. */
	s->ibrd_latched = s->ibrd;
	s->fbrd_latched = s->fbrd;
	/* TRM, UARTCR (programming sequence): software flushes the transmit
	 * FIFO by setting FEN to 0. */
	if (!(s->lcr_h & PL011_LCRH_FEN)) {
		s->tx_head = 0;
		s->tx_count = 0;
	}
	rx_check_room(p);
}

bool pl011_write(struct pl011 *p, unsigned offset, uint32_t value)
{
	struct pl011_state *s = &p->s;

	switch (offset) {
	case PL011_DR:
		tx_write(p, (uint8_t)value);
		break;
	case PL011_RSR:
		/* UARTECR: any write clears the error status (TRM, UARTRSR). */
		s->rsr = 0;
		break;
	case PL011_ILPR:
		s->ilpr = (uint8_t)value;
		break;
	case PL011_IBRD:
		s->ibrd = (uint16_t)value;
		break;
	case PL011_FBRD:
		s->fbrd = value & 0x3f;
		break;
	case PL011_LCR_H:
		pl011_write_lcr_h(p, value);
		break;
	case PL011_CR:
		s->cr = value & PL011_CR_MASK;
		/* Bytes written while disabled leave now; reception enabled
		 * or loopback ended lets host input in again. */
		tx_drain(p);
		rx_check_room(p);
		break;
	case PL011_IFLS:
		s->ifls = value & PL011_IFLS_MASK;
		break;
	case PL011_IMSC:
		s->imsc = value & PL011_INT_MASK;
		break;
	case PL011_ICR:
		s->ris &= ~(value & PL011_INT_MASK);
		break;
	case PL011_DMACR:
		s->dmacr = value & PL011_DMACR_MASK;
		break;
	default:
		/* FR, RIS, MIS and the IDs are read-only; the rest reserved. */
		return false;
	}
	pl011_update_irq(p);
	return true;
}

uint32_t pl011_read(struct pl011 *p, unsigned offset)
{
	struct pl011_state *s = &p->s;
	uint32_t value = 0;

	switch (offset) {
	case PL011_DR:
		value = rx_pop(p);
		break;
	case PL011_RSR:
		value = s->rsr;
		break;
	case PL011_FR:
		value = pl011_flags(p);
		break;
	case PL011_ILPR:
		value = s->ilpr;
		break;
	case PL011_IBRD:
		value = s->ibrd;
		break;
	case PL011_FBRD:
		value = s->fbrd;
		break;
	case PL011_LCR_H:
		value = s->lcr_h;
		break;
	case PL011_CR:
		value = s->cr;
		break;
	case PL011_IFLS:
		value = s->ifls;
		break;
	case PL011_IMSC:
		value = s->imsc;
		break;
	case PL011_RIS:
		value = s->ris;
		break;
	case PL011_MIS:
		value = s->ris & s->imsc;
		break;
	case PL011_DMACR:
		value = s->dmacr;
		break;
	default:
		if (offset >= PL011_PERIPH_ID0 && offset < PL011_MMIO_SIZE)
			value = pl011_ids[(offset - PL011_PERIPH_ID0) / 4];
		/* UARTICR is write-only; reserved offsets read as zero. */
		break;
	}
	pl011_update_irq(p);
	return value;
}

size_t pl011_can_receive(struct pl011 *p)
{
	size_t room = 0;

	/* A disabled receiver, or loopback, takes nothing from UARTRXD:
	 * host input waits in the backend instead of being lost. */
	if (rx_enabled(p) && !loopback(p) && p->s.rx_count < fifo_capacity(p))
		room = fifo_capacity(p) - p->s.rx_count;
	if (!room)
		p->rx_starved = true;
	return room;
}

void pl011_receive(struct pl011 *p, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		rx_push(p, buf[i]);
	pl011_update_irq(p);
}

void pl011_timer_expired(struct pl011 *p)
{
	p->s.rt_deadline_ns = 0;
	if (p->s.rx_count)
		p->s.ris |= PL011_INT_RT;
	pl011_update_irq(p);
}

void pl011_reset(struct pl011 *p)
{
	struct pl011_state *s = &p->s;

	memset(s, 0, sizeof(*s));
	s->version = PL011_STATE_VERSION;
	s->cr = p->cr_reset;
	s->ibrd = s->ibrd_latched = p->ibrd_reset;
	s->fbrd = s->fbrd_latched = p->fbrd_reset;
	s->lcr_h = p->lcr_h_reset;
	s->ifls = PL011_IFLS_RESET;
	rx_cancel_timeout(p);
	pl011_update_irq(p);
	rx_check_room(p);
}

void pl011_init(struct pl011 *p, const struct pl011_ops *ops, void *opaque, uint64_t clock_hz,
		bool enabled)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->opaque = opaque;
	p->clock_hz = clock_hz;
	p->cr_reset = PL011_CR_RESET;
	if (enabled) {
		/*
		 * Linux's console setup, finding UARTEN set, takes the line as
		 * the firmware left it and divides UARTCLK by the divisors:
		 * they must be programmed.  BAUDDIV = UARTCLK / (16 * baud),
		 * in 64ths rounded to nearest (TRM, UARTFBRD).
		 */
		uint64_t div64 = (4 * clock_hz + PL011_FIRMWARE_BAUD / 2) / PL011_FIRMWARE_BAUD;

		if (div64 > 0xffffULL * 64)
			div64 = 0xffffULL * 64;
		p->cr_reset |= PL011_CR_UARTEN;
		p->ibrd_reset = (uint16_t)(div64 / 64);
		p->fbrd_reset = (uint8_t)(div64 % 64);
		p->lcr_h_reset = PL011_LCRH_WLEN | PL011_LCRH_FEN;
	}
	pl011_reset(p);
}

int pl011_restore(struct pl011 *p, const struct pl011_state *s, const char **bad)
{
	/* The longest timeout this UART can run: the largest divisors at its
	 * UARTCLK; a deadline further away than that from now was never armed. */
	struct pl011 longest = { .clock_hz = p->clock_hz };
	uint64_t now = p->ops->now_ns ? p->ops->now_ns(p->opaque) : 0;
	unsigned cap = (s->lcr_h & PL011_LCRH_FEN) ? PL011_FIFO_DEPTH : 1;

	longest.s.ibrd_latched = 0xffff;
	longest.s.fbrd_latched = 63;
	*bad = NULL;
	if (s->cr & ~PL011_CR_MASK)
		*bad = "cr";
	else if (s->imsc & ~PL011_INT_MASK)
		*bad = "imsc";
	else if (s->ris & ~PL011_INT_MASK)
		*bad = "ris";
	else if (s->fbrd > 63)
		*bad = "fbrd";
	else if (s->fbrd_latched > 63)
		*bad = "fbrd-latched";
	else if (s->ifls & ~PL011_IFLS_MASK)
		*bad = "ifls";
	else if (s->dmacr & ~PL011_DMACR_MASK)
		*bad = "dmacr";
	else if (s->rsr & ~0xf)
		*bad = "rsr";
	else if (s->rx_head >= PL011_FIFO_DEPTH)
		*bad = "rx-head";
	/* The FIFOs hold at most their capacity (one character without FEN:
	 * clearing FEN flushes them). */
	else if (s->rx_count > cap)
		*bad = "rx-count";
	else if (s->tx_head >= PL011_FIFO_DEPTH)
		*bad = "tx-head";
	else if (s->tx_count > cap)
		*bad = "tx-count";
	else if (s->rt_deadline_ns && (!p->ops->timer_arm ||
		 s->rt_deadline_ns > now + pl011_rx_timeout_ns(&longest)))
		*bad = "rt-deadline";
	for (unsigned i = 0; !*bad && i < PL011_FIFO_DEPTH; i++)
		if (s->rx_fifo[i] & ~0xfffu) /* a byte and error bits 11..8 */
			*bad = "rx-fifo";
	if (*bad)
		return -EINVAL;
	p->s = *s;
	p->s.version = PL011_STATE_VERSION;
	if (s->rt_deadline_ns)
		p->ops->timer_arm(p->opaque, s->rt_deadline_ns);
	else if (p->ops->timer_cancel)
		p->ops->timer_cancel(p->opaque);
	/* A fresh instance drove its line low at create: drive the saved
	 * level whatever the model last drove. */
	p->irq_level = -1;
	pl011_update_irq(p);
	/* The backend may have been told to wait (can_receive() 0) before
	 * the load: tell it once that the loaded FIFO has room, if it has. */
	p->rx_starved = true;
	rx_check_room(p);
	return 0;
}
