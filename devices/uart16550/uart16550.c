/* SPDX-License-Identifier: MIT */
/*
 * devices/uart16550/uart16550.c - the 16550A register model.
 *
 * Transmission is instantaneous: a byte written to THR leaves through
 * ops->transmit before the write returns, so THR and the transmitter are
 * always empty by the time the guest can look.  Reception is paced by the
 * receive FIFO: the embedder asks uart16550_can_receive() before handing
 * bytes over, so input from the host is never lost to an overrun; only the
 * loopback path, which the guest drives itself, can overrun.
 */
#include <errno.h>
#include <string.h>

#include "uart16550.h"

/* The PC's 1.8432 MHz crystal; the baud rate is XTAL / (16 * divisor). */
#define UART_XTAL_HZ 1843200ULL

static const uint8_t rx_trigger_levels[4] = { 1, 4, 8, 14 };

static bool fifo_enabled(const struct uart16550 *u)
{
	return u->s.fcr & UART_FCR_ENABLE;
}

/* In 16450 mode the "FIFO" is the single receiver buffer register. */
static unsigned rx_capacity(const struct uart16550 *u)
{
	return fifo_enabled(u) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart16550 *u)
{
	return rx_trigger_levels[u->s.fcr >> 6];
}

static bool rx_data_available(const struct uart16550 *u)
{
	if (!u->s.rx_count)
		return false;
	return !fifo_enabled(u) || u->s.rx_count >= rx_trigger(u);
}

/* Highest-priority pending interrupt, as IIR bits 3..0. */
static uint8_t uart_pending_iid(const struct uart16550 *u)
{
	const struct uart16550_state *s = &u->s;

	if ((s->ier & UART_IER_ELSI) && (s->lsr & UART_LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((s->ier & UART_IER_ERBFI) && rx_data_available(u))
		return UART_IIR_RDI;
	if ((s->ier & UART_IER_ERBFI) && s->timeout_pending)
		return UART_IIR_TIMEOUT;
	if ((s->ier & UART_IER_ETBEI) && s->thr_ipending)
		return UART_IIR_THRI;
	if ((s->ier & UART_IER_EDSSI) && (s->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/*
 * On a PC the chip's INTR pin reaches the interrupt controller through a
 * buffer enabled by OUT2, which is why drivers set OUT2 before they expect
 * interrupts.  Loopback forces the OUT2 pin inactive, so the line is also
 * quiet in loopback even though IIR still reports the source.
 */
static void uart_update_irq(struct uart16550 *u)
{
	int level = uart_pending_iid(u) != UART_IIR_NO_INT &&
		    (u->s.mcr & UART_MCR_OUT2) && !(u->s.mcr & UART_MCR_LOOP);

	if (level != u->irq_level) {
		u->irq_level = level;
		u->ops->set_irq(u->opaque, level);
	}
}

/* Four character times at the current divisor and frame format. */
static uint64_t uart_timeout_ns(const struct uart16550 *u)
{
	unsigned wls = u->s.lcr & UART_LCR_WLS_MASK;
	uint64_t divisor = u->s.divisor ? u->s.divisor : 1;
	/* Count half bits: 5-bit words with STB have 1.5 stop bits. */
	unsigned half_bits = 2 * (1 + 5 + wls + !!(u->s.lcr & UART_LCR_PEN));

	if (!(u->s.lcr & UART_LCR_STB))
		half_bits += 2;
	else
		half_bits += wls == 0 ? 3 : 4;
	return 4 * half_bits * divisor * 16 * 1000000000ULL / (2 * UART_XTAL_HZ);
}

/*
 * The timeout indication means "data sat in the FIFO for four character
 * times with no FIFO activity", so every push or pop restarts the wait.
 */
static void uart_restart_rx_timeout(struct uart16550 *u)
{
	u->s.timeout_pending = false;
	if (!u->ops->timer_arm || !u->ops->now_ns)
		return;
	if (fifo_enabled(u) && u->s.rx_count) {
		u->s.timeout_deadline = u->ops->now_ns(u->opaque) + uart_timeout_ns(u);
		u->ops->timer_arm(u->opaque, u->s.timeout_deadline);
	} else {
		u->s.timeout_deadline = 0;
		if (u->ops->timer_cancel)
			u->ops->timer_cancel(u->opaque);
	}
}

static void uart_clear_rx(struct uart16550 *u)
{
	u->s.rx_head = 0;
	u->s.rx_count = 0;
	u->s.lsr &= ~UART_LSR_DR;
}

/* Tell the embedder input may flow again, once per stall. */
static void uart_check_rx_room(struct uart16550 *u)
{
	if (u->rx_starved && uart16550_can_receive(u)) {
		u->rx_starved = false;
		if (u->ops->rx_ready)
			u->ops->rx_ready(u->opaque);
	}
}

static void uart_receive_byte(struct uart16550 *u, uint8_t byte)
{
	struct uart16550_state *s = &u->s;

	if (s->rx_count == rx_capacity(u)) {
		/* FIFO mode keeps the FIFO and loses the new character;
		 * 16450 mode overwrites the character in RBR. */
		s->lsr |= UART_LSR_OE;
		if (!fifo_enabled(u))
			s->rx_fifo[s->rx_head] = byte;
	} else {
		s->rx_fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = byte;
		s->rx_count++;
	}
	s->lsr |= UART_LSR_DR;
	uart_restart_rx_timeout(u);
}

static uint8_t uart_pop_rx(struct uart16550 *u)
{
	struct uart16550_state *s = &u->s;

	if (!s->rx_count)
		return s->rbr_stale;
	s->rbr_stale = s->rx_fifo[s->rx_head];
	s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
	if (--s->rx_count == 0)
		s->lsr &= ~UART_LSR_DR;
	uart_restart_rx_timeout(u);
	uart_check_rx_room(u);
	return s->rbr_stale;
}

/* MSR bits 7..4 follow the modem inputs, or MCR's outputs in loopback;
 * bits 3..0 latch changes until MSR is read. */
static void uart_update_modem_lines(struct uart16550 *u)
{
	struct uart16550_state *s = &u->s;
	uint8_t lines, changed;

	if (s->mcr & UART_MCR_LOOP) {
		lines = 0;
		if (s->mcr & UART_MCR_RTS)
			lines |= UART_MSR_CTS;
		if (s->mcr & UART_MCR_DTR)
			lines |= UART_MSR_DSR;
		if (s->mcr & UART_MCR_OUT1)
			lines |= UART_MSR_RI;
		if (s->mcr & UART_MCR_OUT2)
			lines |= UART_MSR_DCD;
	} else {
		lines = s->modem_inputs & UART_MSR_LINES;
	}

	changed = (uint8_t)((s->msr ^ lines) & UART_MSR_LINES);
	if (changed & UART_MSR_CTS)
		s->msr |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		s->msr |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		s->msr |= UART_MSR_DDCD;
	/* Trailing edge only: RI going inactive. */
	if ((changed & UART_MSR_RI) && !(lines & UART_MSR_RI))
		s->msr |= UART_MSR_TERI;
	s->msr = (uint8_t)((s->msr & UART_MSR_DELTAS) | lines);
}

void uart16550_set_modem_inputs(struct uart16550 *u, uint8_t lines)
{
	u->s.modem_inputs = lines & UART_MSR_LINES;
	uart_update_modem_lines(u);
	uart_update_irq(u);
}

static void uart_write_fcr(struct uart16550 *u, uint8_t value)
{
	struct uart16550_state *s = &u->s;

	/* Switching between FIFO and 16450 mode empties the FIFOs. */
	if ((value ^ s->fcr) & UART_FCR_ENABLE)
		uart_clear_rx(u);
	if (!(value & UART_FCR_ENABLE)) {
		/* The other bits are only programmed while FCR0 is set. */
		s->fcr = 0;
	} else {
		if (value & UART_FCR_CLEAR_RX)
			uart_clear_rx(u);
		/* CLEAR_TX: the transmit FIFO is always empty here. */
		s->fcr = value & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIG_MASK);
	}
	uart_restart_rx_timeout(u);
	uart_check_rx_room(u);
}

static void uart_write_thr(struct uart16550 *u, uint8_t value)
{
	struct uart16550_state *s = &u->s;

	/* Writing THR acknowledges a THRE interrupt ... */
	s->thr_ipending = false;
	if (s->mcr & UART_MCR_LOOP)
		uart_receive_byte(u, value);
	else
		u->ops->transmit(u->opaque, value);
	/* ... and the byte is gone at once, so THR is empty again: that is
	 * a new THRE event, as after a real character time. */
	s->thr_ipending = true;
}

static void uart_write_ier(struct uart16550 *u, uint8_t value)
{
	struct uart16550_state *s = &u->s;
	uint8_t old = s->ier;

	s->ier = value & UART_IER_MASK;
	/* Enabling ETBEI while THR is already empty interrupts at once;
	 * drivers rely on this to start transmission. */
	if ((s->ier & UART_IER_ETBEI) && !(old & UART_IER_ETBEI) && (s->lsr & UART_LSR_THRE))
		s->thr_ipending = true;
}

void uart16550_write(struct uart16550 *u, unsigned offset, uint8_t value)
{
	struct uart16550_state *s = &u->s;
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (offset & 7) {
	case UART_THR:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0xff00) | value);
		else
			uart_write_thr(u, value);
		break;
	case UART_IER:
		if (dlab)
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | (value << 8));
		else
			uart_write_ier(u, value);
		break;
	case UART_FCR:
		uart_write_fcr(u, value);
		break;
	case UART_LCR:
		s->lcr = value;
		break;
	case UART_MCR: {
		bool was_loop = s->mcr & UART_MCR_LOOP;

		s->mcr = value & UART_MCR_MASK;
		uart_update_modem_lines(u);
		/* Leaving loopback reconnects the serial input. */
		if (was_loop && !(s->mcr & UART_MCR_LOOP))
			uart_check_rx_room(u);
		break;
	}
	case UART_LSR:
	case UART_MSR:
		/* Factory test registers on the real part; writes do nothing. */
		break;
	case UART_SCR:
		s->scr = value;
		break;
	}
	uart_update_irq(u);
}

uint8_t uart16550_read(struct uart16550 *u, unsigned offset)
{
	struct uart16550_state *s = &u->s;
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t value = 0;

	switch (offset & 7) {
	case UART_RBR:
		value = dlab ? (uint8_t)s->divisor : uart_pop_rx(u);
		break;
	case UART_IER:
		value = dlab ? (uint8_t)(s->divisor >> 8) : s->ier;
		break;
	case UART_IIR:
		value = uart_pending_iid(u);
		/* Reading IIR acknowledges THRE, but only when THRE is what
		 * it reports: a higher-priority source hides it. */
		if (value == UART_IIR_THRI)
			s->thr_ipending = false;
		if (fifo_enabled(u))
			value |= UART_IIR_FIFO_ON;
		break;
	case UART_LCR:
		value = s->lcr;
		break;
	case UART_MCR:
		value = s->mcr;
		break;
	case UART_LSR:
		value = s->lsr;
		s->lsr &= ~UART_LSR_ERRORS;
		break;
	case UART_MSR:
		value = s->msr;
		s->msr &= ~UART_MSR_DELTAS;
		break;
	case UART_SCR:
		value = s->scr;
		break;
	}
	uart_update_irq(u);
	return value;
}

size_t uart16550_can_receive(struct uart16550 *u)
{
	size_t room = 0;

	/* Loopback disconnects the serial input from the outside. */
	if (!(u->s.mcr & UART_MCR_LOOP))
		room = rx_capacity(u) - u->s.rx_count;
	if (!room)
		u->rx_starved = true;
	return room;
}

void uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		uart_receive_byte(u, buf[i]);
	uart_update_irq(u);
}

void uart16550_timer_expired(struct uart16550 *u)
{
	u->s.timeout_deadline = 0;
	if (fifo_enabled(u) && u->s.rx_count)
		u->s.timeout_pending = true;
	uart_update_irq(u);
}

void uart16550_reset(struct uart16550 *u)
{
	struct uart16550_state *s = &u->s;

	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->fcr = 0;
	s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	s->thr_ipending = false;
	uart_clear_rx(u);
	uart_restart_rx_timeout(u);
	/* The master reset clears the deltas; lines follow the inputs. */
	s->msr = s->modem_inputs & UART_MSR_LINES;
	uart_update_irq(u);
	uart_check_rx_room(u);
}

void uart16550_init(struct uart16550 *u, const struct uart16550_ops *ops, void *opaque)
{
	memset(u, 0, sizeof(*u));
	u->ops = ops;
	u->opaque = opaque;
	u->s.version = UART16550_STATE_VERSION;
	/* The host side is a terminal that is always there and ready. */
	u->s.modem_inputs = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	uart16550_reset(u);
}

int uart16550_state_set(struct uart16550 *u, const struct uart16550_state *s)
{
	/* Only what a guest can write: IER's and MCR's spare bits read 0. */
	if (s->rx_head >= UART_FIFO_SIZE || s->rx_count > UART_FIFO_SIZE || (s->fcr & ~0xc9) ||
	    (s->ier & ~UART_IER_MASK) || (s->mcr & ~UART_MCR_MASK))
		return -EINVAL;
	u->s = *s;
	u->s.version = UART16550_STATE_VERSION;
	if (u->s.timeout_deadline && u->ops->timer_arm)
		u->ops->timer_arm(u->opaque, u->s.timeout_deadline);
	else if (u->ops->timer_cancel)
		u->ops->timer_cancel(u->opaque);
	/* Whatever this instance drove before, the line now follows the
	 * loaded registers. */
	u->irq_level = -1;
	uart_update_irq(u);
	uart_check_rx_room(u);
	return 0;
}
