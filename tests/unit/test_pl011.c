/* tests/unit/test_pl011.c - the PL011 UART, register by register, through
 * the harness and the real pl011.so.  Each test is a sentence of ARM DDI
 * 0183: write these registers, step this much virtual time, expect this
 * register value and this level on the interrupt line. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vmm/harness.h>
#include "devices/pl011/pl011.h"

#define BASE 0x09000000ULL
#define IRQ 33
#define CLOCK_HZ 24000000ULL

#define FR_IDLE (PL011_FR_TXFE | PL011_FR_RXFE | PL011_FR_CTS | PL011_FR_DSR | PL011_FR_DCD)
#define CR_ON (PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE)
#define LCRH_8N1_FIFO (PL011_LCRH_WLEN | PL011_LCRH_FEN)
#define LCRH_8N1 PL011_LCRH_WLEN

/* 115200 baud from 24 MHz: BAUDDIV = 24e6 / (16 * 115200) = 13.02, so
 * IBRD 13, FBRD round(0.02 * 64) = 1.  The receive timeout is 32 bit
 * periods of 16 * (13 + 1/64) clocks: 6664 clocks, 277666.7 ns. */
#define TIMEOUT_115200_NS 277667ULL

#include "device-fixture.h"

/* 32 bit periods of 16 UARTCLK cycles each at divisor ibrd + fbrd/64, in
 * ns rounded up: worked out from the TRM's formula, not the device's. */
static uint64_t timeout_ns(unsigned ibrd, unsigned fbrd, uint64_t hz)
{
	uint64_t clocks_x64 = 32ULL * 16 * (64ULL * ibrd + fbrd);

	return (clocks_x64 * 1000000000ULL + 64 * hz - 1) / (64 * hz);
}

static struct vmm_harness_dev *create(const char *const *extra)
{
	const char *props[8] = { "base=0x09000000", "irq=33" };
	size_t n = 2;

	for (; extra && *extra; extra++)
		props[n++] = *extra;
	props[n] = NULL;
	return vmm_harness_create_device(F->h, "pl011", "uart0", props);
}

static int setup(void **state)
{
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	F->dev = create(NULL);
	assert_non_null(F->dev);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void wr(unsigned reg, uint32_t value)
{
	vmm_harness_mmio_write(F->h, BASE + reg, 4, value);
}

static uint32_t rd(unsigned reg)
{
	return (uint32_t)vmm_harness_mmio_read(F->h, BASE + reg, 4);
}

static int irq(void)
{
	return vmm_harness_irq_level(F->h, IRQ);
}

static size_t type(const char *s)
{
	return vmm_harness_char_input(F->dev, s, strlen(s));
}

static const char *output(size_t *len)
{
	return vmm_harness_char_output(F->dev, len);
}

static void step(uint64_t ns)
{
	vmm_harness_clock_step(F->h, ns);
}

static unsigned long guest_errors(void)
{
	return vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR);
}

/* Linux's set_termios order: divisors, then UARTLCR_H, which latches them. */
static void set_baud_115200(uint32_t lcr_h)
{
	wr(PL011_IBRD, 13);
	wr(PL011_FBRD, 1);
	wr(PL011_LCR_H, lcr_h);
}

static void test_primecell_ids(void **state)
{
	static const uint8_t ids[8] = { 0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	uint32_t periph = 0, cell = 0;

	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rd(PL011_PERIPH_ID0 + 4 * i), ids[i]);
	/* As Linux's AMBA bus assembles them: part 0x011, ARM (0x41),
	 * revision 3 (r1p5, 32-entry FIFOs), and the PrimeCell id. */
	for (unsigned i = 0; i < 4; i++) {
		periph |= (rd(PL011_PERIPH_ID0 + 4 * i) & 0xff) << (8 * i);
		cell |= (rd(PL011_PCELL_ID0 + 4 * i) & 0xff) << (8 * i);
	}
	assert_int_equal(periph, 0x00341011);
	assert_int_equal(cell, 0xb105f00d);
	/* Read-only. */
	wr(PL011_PERIPH_ID0, 0);
	assert_int_equal(rd(PL011_PERIPH_ID0), 0x11);
}

static void test_power_on_values(void **state)
{
	assert_int_equal(rd(PL011_FR), FR_IDLE);
	/* As firmware leaves a console (the `enabled` property): UARTEN,
	 * TXE and RXE set, 115200 baud from 24 MHz, 8N1, FIFOs on.  Linux's
	 * console setup reads the line back from these when UARTEN is set. */
	assert_int_equal(rd(PL011_CR), CR_ON);
	assert_int_equal(rd(PL011_IFLS), 0x12);
	assert_int_equal(rd(PL011_LCR_H), LCRH_8N1_FIFO);
	assert_int_equal(rd(PL011_IBRD), 13);
	assert_int_equal(rd(PL011_FBRD), 1);
	assert_int_equal(CLOCK_HZ * 4 / (64 * 13 + 1), 115246); /* Linux's sum */
	assert_int_equal(rd(PL011_ILPR), 0);
	assert_int_equal(rd(PL011_IMSC), 0);
	assert_int_equal(rd(PL011_RIS), 0);
	assert_int_equal(rd(PL011_MIS), 0);
	assert_int_equal(rd(PL011_RSR), 0);
	assert_int_equal(rd(PL011_DMACR), 0);
	assert_int_equal(irq(), 0);
}

static void test_registers_read_back_their_bits(void **state)
{
	wr(PL011_IBRD, 0x12345);
	assert_int_equal(rd(PL011_IBRD), 0x2345);
	wr(PL011_FBRD, 0xff);
	assert_int_equal(rd(PL011_FBRD), 0x3f);
	wr(PL011_ILPR, 0x1ab);
	assert_int_equal(rd(PL011_ILPR), 0xab);
	wr(PL011_LCR_H, 0x1ff);
	assert_int_equal(rd(PL011_LCR_H), 0xff);
	/* UARTCR bits 6..3 are reserved. */
	wr(PL011_CR, 0xffff);
	assert_int_equal(rd(PL011_CR), 0xff87);
	wr(PL011_IFLS, 0xff);
	assert_int_equal(rd(PL011_IFLS), 0x3f);
	wr(PL011_IMSC, 0xffff);
	assert_int_equal(rd(PL011_IMSC), 0x7ff);
	wr(PL011_DMACR, 0xff);
	assert_int_equal(rd(PL011_DMACR), 0x7);
	/* UARTICR is write-only. */
	assert_int_equal(rd(PL011_ICR), 0);
}

static void test_read_only_and_reserved_offsets(void **state)
{
	unsigned long errors = guest_errors();

	wr(PL011_FR, 0);
	wr(PL011_RIS, PL011_INT_MASK);
	wr(PL011_MIS, PL011_INT_MASK);
	assert_int_equal(rd(PL011_FR), FR_IDLE);
	assert_int_equal(rd(PL011_RIS), 0);
	assert_int_equal(guest_errors(), errors + 3);
	/* Reserved space reads as zero and ignores writes; the window is
	 * 4 KiB. */
	wr(0x008, 0xffffffff);
	assert_int_equal(rd(0x008), 0);
	assert_int_equal(rd(0x080), 0);
	assert_int_equal(rd(0xfdc), 0);
	assert_int_equal(guest_errors(), errors + 4);
	assert_int_equal(vmm_harness_mmio_read(F->h, BASE + PL011_MMIO_SIZE, 4), 0xffffffff);
}

static void test_dr_write_reaches_backend(void **state)
{
	size_t len;

	wr(PL011_DR, 'h');
	wr(PL011_DR, 'i');
	wr(PL011_DR, 0x100 | '\n'); /* only bits 7..0 are data */
	assert_string_equal(output(&len), "hi\n");
	assert_int_equal(len, 3);
	/* Sent at once: the FIFO is empty and nothing is shifting out. */
	assert_int_equal(rd(PL011_FR) & (PL011_FR_TXFE | PL011_FR_BUSY), PL011_FR_TXFE);
}

static void test_tx_needs_uarten_and_txe(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	wr(PL011_CR, PL011_CR_TXE | PL011_CR_RXE); /* UARTEN off */
	wr(PL011_DR, 'a');
	assert_string_equal(output(NULL), "");
	/* BUSY is set while the FIFO holds data, enabled or not. */
	assert_int_equal(rd(PL011_FR) & (PL011_FR_TXFE | PL011_FR_BUSY), PL011_FR_BUSY);
	wr(PL011_CR, PL011_CR_UARTEN | PL011_CR_RXE); /* TXE off */
	wr(PL011_DR, 'b');
	assert_string_equal(output(NULL), "");
	wr(PL011_CR, CR_ON);
	assert_string_equal(output(NULL), "ab");
	assert_int_equal(rd(PL011_FR) & (PL011_FR_TXFE | PL011_FR_BUSY), PL011_FR_TXFE);
}

static void test_tx_holding_register_without_fifo(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1);
	wr(PL011_CR, 0);
	wr(PL011_DR, 'a');
	/* FEN clear: one location, full after one write ... */
	assert_int_equal(rd(PL011_FR) & PL011_FR_TXFF, PL011_FR_TXFF);
	/* ... and a write to it when full is lost. */
	wr(PL011_DR, 'b');
	wr(PL011_CR, CR_ON);
	assert_string_equal(output(NULL), "a");
	assert_int_equal(rd(PL011_FR) & PL011_FR_TXFF, 0);
}

static void test_tx_fifo_holds_32(void **state)
{
	size_t len;

	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	wr(PL011_CR, 0);
	for (int i = 0; i < PL011_FIFO_DEPTH - 1; i++)
		wr(PL011_DR, (uint32_t)('A' + i));
	assert_int_equal(rd(PL011_FR) & PL011_FR_TXFF, 0);
	wr(PL011_DR, '#');
	assert_int_equal(rd(PL011_FR) & PL011_FR_TXFF, PL011_FR_TXFF);
	wr(PL011_DR, '!'); /* lost */
	wr(PL011_CR, CR_ON);
	output(&len);
	assert_int_equal(len, PL011_FIFO_DEPTH);
	assert_int_equal(output(NULL)[PL011_FIFO_DEPTH - 1], '#');
}

static void test_clearing_fen_flushes_tx_fifo(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	wr(PL011_CR, 0);
	wr(PL011_DR, 'x');
	wr(PL011_DR, 'y');
	wr(PL011_LCR_H, PL011_LCRH_WLEN);
	assert_int_equal(rd(PL011_FR) & (PL011_FR_TXFE | PL011_FR_BUSY), PL011_FR_TXFE);
	wr(PL011_CR, CR_ON);
	assert_string_equal(output(NULL), "");
}

static void test_tx_interrupt_after_each_character(void **state)
{
	wr(PL011_IMSC, PL011_INT_TX);
	/* Nothing has been sent since reset: no event yet. */
	assert_int_equal(rd(PL011_RIS), 0);
	assert_int_equal(irq(), 0);
	wr(PL011_DR, 'x');
	/* The byte left at once: the FIFO drained to the level. */
	assert_int_equal(rd(PL011_RIS), PL011_INT_TX);
	assert_int_equal(rd(PL011_MIS), PL011_INT_TX);
	assert_int_equal(irq(), 1);
	wr(PL011_ICR, PL011_INT_TX);
	assert_int_equal(rd(PL011_RIS), 0);
	assert_int_equal(irq(), 0);
	wr(PL011_DR, 'y');
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_irq_raises(F->h, IRQ), 2);
	/* The mask gates the line and MIS, not RIS. */
	wr(PL011_IMSC, 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL011_RIS), PL011_INT_TX);
	assert_int_equal(rd(PL011_MIS), 0);
	/* Unmasking a pending raw interrupt raises the line. */
	wr(PL011_IMSC, PL011_INT_TX);
	assert_int_equal(irq(), 1);
}

static void test_tx_interrupt_levels_with_fifo(void **state)
{
	static const struct { uint32_t sel; unsigned level; } cases[] = {
		{ 0, 4 }, { 1, 8 }, { 2, 16 }, { 3, 24 }, { 4, 28 },
	};

	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	wr(PL011_IMSC, PL011_INT_TX);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned level = cases[i].level;

		wr(PL011_IFLS, 0x10 | cases[i].sel);
		wr(PL011_CR, CR_ON);
		wr(PL011_DR, '.');
		assert_int_equal(irq(), 1);
		/* Hold the transmitter: up to the level the FIFO is still
		 * "at or below" it and the interrupt stays ... */
		wr(PL011_CR, 0);
		for (unsigned n = 0; n < level; n++)
			wr(PL011_DR, '-');
		assert_int_equal(irq(), 1);
		/* ... one more takes it above: cleared. */
		wr(PL011_DR, '+');
		assert_int_equal(rd(PL011_RIS) & PL011_INT_TX, 0);
		assert_int_equal(irq(), 0);
		/* Transmission drains it below the level again. */
		wr(PL011_CR, CR_ON);
		assert_int_equal(rd(PL011_FR) & PL011_FR_TXFE, PL011_FR_TXFE);
		assert_int_equal(irq(), 1);
	}
}

static void test_tx_interrupt_without_fifo(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1);
	wr(PL011_IMSC, PL011_INT_TX);
	wr(PL011_DR, 'a');
	assert_int_equal(irq(), 1);
	/* FIFO off: a single write fills the holding register and clears
	 * the interrupt; it comes back when the register empties. */
	wr(PL011_CR, 0);
	wr(PL011_DR, 'b');
	assert_int_equal(irq(), 0);
	wr(PL011_CR, CR_ON);
	assert_int_equal(irq(), 1);
	assert_string_equal(output(NULL), "ab");
}

static void test_rx_data_and_flags(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1);
	assert_int_equal(type("a"), 1);
	assert_int_equal(rd(PL011_FR) & (PL011_FR_RXFE | PL011_FR_RXFF), PL011_FR_RXFF);
	/* No errors in the upper bits. */
	assert_int_equal(rd(PL011_DR), 'a');
	assert_int_equal(rd(PL011_FR) & (PL011_FR_RXFE | PL011_FR_RXFF), PL011_FR_RXFE);
	assert_int_equal(rd(PL011_RSR), 0);
	/* Reading an empty FIFO gives 0. */
	assert_int_equal(rd(PL011_DR), 0);
}

static void test_rx_interrupt_without_fifo(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1);
	wr(PL011_IMSC, PL011_INT_RX);
	type("q");
	assert_int_equal(rd(PL011_RIS), PL011_INT_RX);
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL011_DR), 'q');
	assert_int_equal(rd(PL011_RIS), 0);
	assert_int_equal(irq(), 0);
}

static void test_rx_trigger_levels(void **state)
{
	static const struct { uint32_t sel; unsigned level; } cases[] = {
		{ 0, 4 }, { 1, 8 }, { 2, 16 }, { 3, 24 }, { 4, 28 },
	};
	static const char bytes[] = "0123456789abcdefghijklmnopqrstuv";

	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	wr(PL011_IMSC, PL011_INT_RX);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned level = cases[i].level;

		wr(PL011_IFLS, cases[i].sel << PL011_IFLS_RX_SHIFT);
		assert_int_equal(vmm_harness_char_input(F->dev, bytes, level - 1), level - 1);
		assert_int_equal(irq(), 0);
		assert_int_equal(vmm_harness_char_input(F->dev, bytes, 1), 1);
		assert_int_equal(irq(), 1);
		/* One read takes the FIFO below the level. */
		assert_int_equal(rd(PL011_DR), '0');
		assert_int_equal(irq(), 0);
		while (!(rd(PL011_FR) & PL011_FR_RXFE))
			rd(PL011_DR);
	}
}

static void test_rx_interrupt_cleared_by_icr(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	wr(PL011_IFLS, 0); /* RX at 4 */
	wr(PL011_IMSC, PL011_INT_RX);
	type("abcd");
	assert_int_equal(irq(), 1);
	wr(PL011_ICR, PL011_INT_RX);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL011_RIS), 0);
	/* The next character at or above the level raises it again. */
	type("e");
	assert_int_equal(irq(), 1);
}

static void test_rx_timeout(void **state)
{
	set_baud_115200(LCRH_8N1_FIFO);
	wr(PL011_IMSC, PL011_INT_RX | PL011_INT_RT);

	type("abc"); /* below the level of 16 */
	assert_int_equal(irq(), 0);
	step(TIMEOUT_115200_NS - 1);
	assert_int_equal(irq(), 0);
	step(1);
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL011_MIS), PL011_INT_RT);
	/* Cleared when reading empties the FIFO, not before. */
	assert_int_equal(rd(PL011_DR), 'a');
	assert_int_equal(rd(PL011_DR), 'b');
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL011_DR), 'c');
	assert_int_equal(irq(), 0);
	/* Empty FIFO: no timeout however long we wait. */
	step(10 * TIMEOUT_115200_NS);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL011_RIS), 0);
}

static void test_rx_timeout_restarts_with_each_character(void **state)
{
	set_baud_115200(LCRH_8N1_FIFO);
	wr(PL011_IMSC, PL011_INT_RT);
	type("a");
	step(TIMEOUT_115200_NS - 1);
	type("b");
	step(TIMEOUT_115200_NS - 1);
	assert_int_equal(irq(), 0);
	step(1);
	assert_int_equal(irq(), 1);
}

static void test_rx_timeout_cleared_by_icr(void **state)
{
	set_baud_115200(LCRH_8N1_FIFO);
	wr(PL011_IMSC, PL011_INT_RT);
	type("a");
	step(TIMEOUT_115200_NS);
	assert_int_equal(irq(), 1);
	wr(PL011_ICR, PL011_INT_RT);
	assert_int_equal(irq(), 0);
	/* Data still waits, but nothing new arrived: no second timeout. */
	step(10 * TIMEOUT_115200_NS);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL011_DR), 'a');
}

static void test_rx_timeout_without_fifo(void **state)
{
	set_baud_115200(PL011_LCRH_WLEN);
	wr(PL011_IMSC, PL011_INT_RT);
	type("z");
	step(TIMEOUT_115200_NS);
	assert_int_equal(rd(PL011_RIS), PL011_INT_RX | PL011_INT_RT);
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL011_DR), 'z');
	assert_int_equal(rd(PL011_RIS), 0);
}

/* Type one character and check the receive timeout comes after @ns. */
static void expect_timeout_after(uint64_t ns)
{
	type("t");
	step(ns - 1);
	assert_int_equal(irq(), 0);
	step(1);
	assert_int_equal(irq(), 1);
	assert_int_equal(rd(PL011_DR), 't');
	assert_int_equal(irq(), 0);
}

static void test_baud_divisor_latched_by_lcr_h(void **state)
{
	assert_int_equal(timeout_ns(13, 1, CLOCK_HZ), TIMEOUT_115200_NS);
	wr(PL011_IMSC, PL011_INT_RT);
	/* The 115200 baud the UART came out of reset with. */
	expect_timeout_after(TIMEOUT_115200_NS);
	/* New divisors read back at once but only count once UARTLCR_H is
	 * written.  The fractional part counts: 9600 baud is IBRD 156,
	 * FBRD 16. */
	wr(PL011_IBRD, 156);
	wr(PL011_FBRD, 16);
	assert_int_equal(rd(PL011_IBRD), 156);
	assert_int_equal(rd(PL011_FBRD), 16);
	expect_timeout_after(TIMEOUT_115200_NS);
	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	expect_timeout_after(timeout_ns(156, 16, CLOCK_HZ));
	/* IBRD 0 is invalid and ignores FBRD: divisor 1. */
	wr(PL011_IBRD, 0);
	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	expect_timeout_after(timeout_ns(1, 0, CLOCK_HZ));
}

static void test_rx_holding_register_flow_control(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1);
	/* FEN clear: one character at a time; the rest wait in the backend. */
	assert_int_equal(type("xyz"), 1);
	assert_int_equal(vmm_harness_char_pending(F->dev), 2);
	assert_int_equal(rd(PL011_FR) & PL011_FR_RXFF, PL011_FR_RXFF);
	assert_int_equal(rd(PL011_DR), 'x');
	assert_int_equal(rd(PL011_DR), 'y');
	assert_int_equal(rd(PL011_DR), 'z');
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_int_equal(rd(PL011_RSR), 0);
	assert_int_equal(rd(PL011_RIS) & PL011_INT_OE, 0);
}

static void test_rx_fifo_flow_control(void **state)
{
	static const char text[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"; /* 40 */

	wr(PL011_LCR_H, LCRH_8N1_FIFO);
	assert_int_equal(type(text), PL011_FIFO_DEPTH);
	assert_int_equal(vmm_harness_char_pending(F->dev), 40 - PL011_FIFO_DEPTH);
	assert_int_equal(rd(PL011_FR) & PL011_FR_RXFF, PL011_FR_RXFF);
	/* Each read makes room; the device asks for more and gets it. */
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(rd(PL011_DR), text[i]);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_int_equal(rd(PL011_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
	/* Nothing lost, so no overrun. */
	assert_int_equal(rd(PL011_RSR), 0);
	assert_int_equal(rd(PL011_RIS) & PL011_INT_OE, 0);
}

static void test_rx_needs_uarten_and_rxe(void **state)
{
	wr(PL011_CR, PL011_CR_UARTEN | PL011_CR_TXE); /* RXE off */
	assert_int_equal(type("k"), 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 1);
	wr(PL011_CR, PL011_CR_TXE | PL011_CR_RXE); /* UARTEN off */
	assert_int_equal(vmm_harness_char_pending(F->dev), 1);
	/* Enabling reception lets the waiting input in. */
	wr(PL011_CR, CR_ON);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_int_equal(rd(PL011_DR), 'k');
}

static void test_loopback(void **state)
{
	wr(PL011_CR, CR_ON | PL011_CR_LBE);
	wr(PL011_DR, 'Z');
	assert_string_equal(output(NULL), "");
	assert_int_equal(rd(PL011_DR), 'Z');
	/* Host input waits while the receiver listens to the transmitter ... */
	assert_int_equal(type("k"), 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 1);
	/* ... until loopback ends. */
	wr(PL011_CR, CR_ON);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_int_equal(rd(PL011_DR), 'k');
	/* Loopback with the receiver off loses the byte. */
	wr(PL011_CR, PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_LBE);
	wr(PL011_DR, 'L');
	assert_int_equal(rd(PL011_FR) & PL011_FR_RXFE, PL011_FR_RXFE);
	assert_string_equal(output(NULL), "");
}

static void test_overrun(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1);
	wr(PL011_IMSC, PL011_INT_OE);
	wr(PL011_CR, CR_ON | PL011_CR_LBE);
	wr(PL011_DR, 'a');
	assert_int_equal(irq(), 0);
	/* FEN clear: the holding register is full, 'b' is lost. */
	wr(PL011_DR, 'b');
	assert_int_equal(rd(PL011_RSR), PL011_RSR_OE);
	assert_int_equal(rd(PL011_RIS) & PL011_INT_OE, PL011_INT_OE);
	assert_int_equal(irq(), 1);
	/* The FIFO contents stay valid ... */
	assert_int_equal(rd(PL011_DR), 'a');
	/* ... and the next character stored carries OE in UARTDR. */
	wr(PL011_DR, 'c');
	assert_int_equal(rd(PL011_DR), PL011_DR_OE | 'c');
	wr(PL011_DR, 'd');
	assert_int_equal(rd(PL011_DR), 'd');
	/* UARTRSR keeps OE until UARTECR is written; RIS until UARTICR. */
	assert_int_equal(rd(PL011_RSR), PL011_RSR_OE);
	wr(PL011_RSR, 0);
	assert_int_equal(rd(PL011_RSR), 0);
	assert_int_equal(irq(), 1);
	wr(PL011_ICR, PL011_INT_OE);
	assert_int_equal(irq(), 0);
}

static void test_icr_clears_only_the_bits_written(void **state)
{
	wr(PL011_LCR_H, LCRH_8N1);
	wr(PL011_IMSC, PL011_INT_MASK);
	wr(PL011_DR, 'x');                 /* TX */
	type("y");                         /* RX */
	assert_int_equal(rd(PL011_RIS), PL011_INT_TX | PL011_INT_RX);
	wr(PL011_ICR, PL011_INT_RX);
	assert_int_equal(rd(PL011_RIS), PL011_INT_TX);
	assert_int_equal(irq(), 1);
	wr(PL011_ICR, PL011_INT_MASK);
	assert_int_equal(rd(PL011_RIS), 0);
	assert_int_equal(irq(), 0);
}

static void test_each_source_masks_and_clears(void **state)
{
	static const uint32_t sources[] = { PL011_INT_TX, PL011_INT_RX, PL011_INT_RT,
					    PL011_INT_OE };
	const uint32_t all = PL011_INT_TX | PL011_INT_RX | PL011_INT_RT | PL011_INT_OE;

	/* Everything masked; loopback with FEN clear: 'a' is sent (TX) and
	 * received (RX at one character), 'b' overruns (OE), then the
	 * timeout passes (RT). */
	set_baud_115200(PL011_LCRH_WLEN);
	wr(PL011_CR, CR_ON | PL011_CR_LBE);
	wr(PL011_DR, 'a');
	wr(PL011_DR, 'b');
	step(TIMEOUT_115200_NS);
	assert_int_equal(rd(PL011_RIS), all);
	assert_int_equal(rd(PL011_MIS), 0);
	assert_int_equal(irq(), 0);
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		wr(PL011_IMSC, sources[i]);
		assert_int_equal(rd(PL011_MIS), sources[i]);
		assert_int_equal(irq(), 1);
		wr(PL011_ICR, sources[i]);
		assert_int_equal(rd(PL011_MIS), 0);
		assert_int_equal(irq(), 0);
	}
	assert_int_equal(rd(PL011_RIS), 0);
	/* Nothing else is ever raised: the modem and FE/PE/BE bits stay 0. */
	wr(PL011_IMSC, PL011_INT_MASK);
	assert_int_equal(irq(), 0);
}

static void test_narrow_accesses(void **state)
{
	unsigned long errors = guest_errors();

	/* Linux: 16-bit accesses; its earlycon a byte store to UARTDR. */
	vmm_harness_mmio_write(F->h, BASE + PL011_DR, 1, 'e');
	vmm_harness_mmio_write(F->h, BASE + PL011_DR, 2, 'w');
	assert_string_equal(output(NULL), "ew");
	assert_int_equal(vmm_harness_mmio_read(F->h, BASE + PL011_FR, 2), FR_IDLE);
	vmm_harness_mmio_write(F->h, BASE + PL011_CR, 2, CR_ON | PL011_CR_RTS);
	assert_int_equal(rd(PL011_CR), CR_ON | PL011_CR_RTS);
	/* A narrow read returns the bytes it covers. */
	assert_int_equal(vmm_harness_mmio_read(F->h, BASE + PL011_CR + 1, 1),
			 (CR_ON | PL011_CR_RTS) >> 8);
	assert_int_equal(vmm_harness_mmio_read(F->h, BASE + PL011_PERIPH_ID0 + 8, 1), 0x34);
	/* A write starting inside a register is ignored. */
	vmm_harness_mmio_write(F->h, BASE + PL011_CR + 1, 1, 0);
	assert_int_equal(rd(PL011_CR), CR_ON | PL011_CR_RTS);
	assert_int_equal(guest_errors(), errors + 1);
	/* 64-bit accesses are split into two registers. */
	assert_int_equal(vmm_harness_mmio_read(F->h, BASE + PL011_IBRD, 8), (1ULL << 32) | 13);
}

static void test_dma_not_offered(void **state)
{
	/* The enables are stored, but no DMA request ever happens: data
	 * still goes through UARTDR. */
	wr(PL011_DMACR, 0x3);
	assert_int_equal(rd(PL011_DMACR), 0x3);
	wr(PL011_DR, 'p');
	assert_string_equal(output(NULL), "p");
	type("r");
	assert_int_equal(rd(PL011_DR), 'r');
}

static void test_reset(void **state)
{
	wr(PL011_CR, PL011_CR_TXE); /* hold transmission, stop reception */
	wr(PL011_IBRD, 156);
	wr(PL011_FBRD, 16);
	wr(PL011_LCR_H, LCRH_8N1_FIFO | PL011_LCRH_BRK);
	wr(PL011_ILPR, 9);
	wr(PL011_IFLS, 0x3f);
	wr(PL011_DMACR, 1);
	wr(PL011_DR, 'x');
	wr(PL011_IMSC, PL011_INT_MASK);
	wr(PL011_CR, CR_ON | PL011_CR_LBE);
	wr(PL011_CR, PL011_CR_UARTEN | PL011_CR_RXE | PL011_CR_LBE);
	wr(PL011_DR, 'y');
	assert_int_equal(type("q"), 0);
	assert_int_equal(irq(), 1);

	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(rd(PL011_CR), CR_ON);
	assert_int_equal(rd(PL011_LCR_H), LCRH_8N1_FIFO);
	assert_int_equal(rd(PL011_IBRD), 13);
	assert_int_equal(rd(PL011_FBRD), 1);
	assert_int_equal(rd(PL011_ILPR), 0);
	assert_int_equal(rd(PL011_IFLS), 0x12);
	assert_int_equal(rd(PL011_IMSC), 0);
	assert_int_equal(rd(PL011_RSR), 0);
	assert_int_equal(rd(PL011_DMACR), 0);
	/* Both FIFOs emptied: the held 'y' is gone, the looped 'x' too; the
	 * host input that waited comes in, below the RX level. */
	assert_int_equal(rd(PL011_RIS), 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_int_equal(rd(PL011_DR), 'q');
	assert_int_equal(rd(PL011_FR), FR_IDLE);
	assert_string_equal(output(NULL), "");
}

static void test_disabled_at_reset(void **state)
{
	static const char *const off[] = { "enabled=false", NULL };

	vmm_harness_destroy_device(F->dev);
	F->dev = create(off);
	assert_non_null(F->dev);
	assert_int_equal(rd(PL011_CR), PL011_CR_RESET);
	assert_int_equal(rd(PL011_LCR_H), 0);
	assert_int_equal(rd(PL011_IBRD), 0);
	assert_int_equal(rd(PL011_FBRD), 0);
	wr(PL011_DR, 'a');
	assert_string_equal(output(NULL), "");
	assert_int_equal(type("b"), 0);
	/* What Linux's driver does in startup and console writes. */
	wr(PL011_CR, CR_ON);
	assert_string_equal(output(NULL), "a");
	assert_int_equal(rd(PL011_DR), 'b');
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(rd(PL011_CR), PL011_CR_RESET);
}

static void test_properties(void **state)
{
	static const char *const no_base[] = { "irq=40", NULL };
	static const char *const no_irq[] = { "base=0x09004000", NULL };
	static const char *const unaligned[] = { "base=0x09004100", "irq=40", NULL };
	static const char *const clash[] = { "base=0x09000000", "irq=40", NULL };
	static const char *const bad_irq[] = { "base=0x09004000", "irq=256", NULL };
	static const char *const bad_clock[] = { "base=0x09004000", "irq=40", "clock=0", NULL };

	assert_null(vmm_harness_create_device(F->h, "pl011", "x", no_base));
	assert_null(vmm_harness_create_device(F->h, "pl011", "x", no_irq));
	assert_null(vmm_harness_create_device(F->h, "pl011", "x", unaligned));
	assert_null(vmm_harness_create_device(F->h, "pl011", "x", clash));
	assert_null(vmm_harness_create_device(F->h, "pl011", "x", bad_irq));
	assert_null(vmm_harness_create_device(F->h, "pl011", "x", bad_clock));
}

static void test_second_uart(void **state)
{
	static const char *const uart1[] = { "base=0x09001000", "irq=34", "chardev=file0",
					     "clock=3686400", NULL };
	struct vmm_harness_dev *d1 = vmm_harness_create_device(F->h, "pl011", "uart1", uart1);
	const uint64_t b1 = 0x09001000;

	assert_non_null(d1);
	vmm_harness_mmio_write(F->h, b1 + PL011_DR, 4, 'B');
	assert_string_equal(vmm_harness_char_output(d1, NULL), "B");
	assert_string_equal(output(NULL), "");
	vmm_harness_mmio_write(F->h, b1 + PL011_IMSC, 4, PL011_INT_TX);
	assert_int_equal(vmm_harness_irq_level(F->h, 34), 1);
	assert_int_equal(irq(), 0);

	/* Its UARTCLK is 3.6864 MHz: 115200 baud there is IBRD 2, FBRD 0,
	 * what it comes out of reset with. */
	assert_int_equal(vmm_harness_mmio_read(F->h, b1 + PL011_IBRD, 4), 2);
	assert_int_equal(vmm_harness_mmio_read(F->h, b1 + PL011_FBRD, 4), 0);
	vmm_harness_mmio_write(F->h, b1 + PL011_IMSC, 4, PL011_INT_RT);
	assert_int_equal(vmm_harness_char_input(d1, "x", 1), 1);
	vmm_harness_clock_step(F->h, timeout_ns(2, 0, 3686400) - 1);
	assert_int_equal(vmm_harness_irq_level(F->h, 34), 0);
	vmm_harness_clock_step(F->h, 1);
	assert_int_equal(vmm_harness_irq_level(F->h, 34), 1);
}

/* Saved state (ABI 1.12): a UART saved mid-reception (four characters in
 * the FIFO at the 1/8 level, one read before so the ring's head is not 0,
 * the receive timeout half run, the RX interrupt raised, a character held
 * in the transmit FIFO while TXE is off) and loaded into a fresh instance
 * in a new harness whose clock stands where the first one's did behaves
 * as the original goes on to: same line, the timeout at the same instant,
 * the same bytes, registers, and the held character sent to its own
 * backend once TXE is set. */
static void hwr(struct vmm_harness *h, unsigned reg, uint32_t value)
{
	vmm_harness_mmio_write(h, BASE + reg, 4, value);
}

static uint32_t hrd(struct vmm_harness *h, unsigned reg)
{
	return (uint32_t)vmm_harness_mmio_read(h, BASE + reg, 4);
}

static void pl011_goes_on_after_save(struct vmm_harness *h, struct vmm_harness_dev *dev)
{
	size_t len;

	assert_int_equal(vmm_harness_irq_level(h, IRQ), 1);
	assert_int_equal(hrd(h, PL011_MIS), PL011_INT_RX);
	assert_int_equal(hrd(h, PL011_DR), 'a');
	assert_int_equal(vmm_harness_irq_level(h, IRQ), 0); /* below the level */
	/* The timeout was restarted by 'd', half a wait before the save. */
	vmm_harness_clock_step(h, TIMEOUT_115200_NS - TIMEOUT_115200_NS / 2 - 1);
	assert_int_equal(vmm_harness_irq_level(h, IRQ), 0);
	vmm_harness_clock_step(h, 1);
	assert_int_equal(vmm_harness_irq_level(h, IRQ), 1);
	assert_int_equal(hrd(h, PL011_MIS), PL011_INT_RT);
	assert_int_equal(hrd(h, PL011_DR), 'b');
	assert_int_equal(hrd(h, PL011_DR), 'c');
	assert_int_equal(hrd(h, PL011_DR), 'd');
	assert_int_equal(vmm_harness_irq_level(h, IRQ), 0);
	assert_true(hrd(h, PL011_FR) & PL011_FR_RXFE);
	assert_int_equal(hrd(h, PL011_IBRD), 13);
	assert_int_equal(hrd(h, PL011_FBRD), 1);
	assert_int_equal(hrd(h, PL011_LCR_H), LCRH_8N1_FIFO);
	assert_int_equal(hrd(h, PL011_IFLS), 0x02);
	assert_int_equal(hrd(h, PL011_CR), PL011_CR_UARTEN | PL011_CR_RXE);
	assert_string_equal(vmm_harness_char_output(dev, &len), "");
	hwr(h, PL011_CR, CR_ON);
	assert_string_equal(vmm_harness_char_output(dev, &len), "q");
	/* Its input flows. */
	assert_int_equal(vmm_harness_char_input(dev, "z", 1), 1);
	assert_int_equal(hrd(h, PL011_DR), 'z');
}

static void test_save_load_mid_reception(void **state)
{
	struct vmm_harness *h2 = vmm_harness_new();
	const char *const props[] = { "base=0x09000000", "irq=33", NULL };
	struct vmm_harness_dev *d2;
	uint8_t *rec;
	size_t len;

	assert_non_null(h2);
	vmm_harness_set_irq_mode(h2, VMM_IRQ_EMULATED);
	step(12345);
	set_baud_115200(LCRH_8N1_FIFO);
	wr(PL011_IFLS, 0x02); /* receive at 1/8 (4), transmit at 1/2 */
	wr(PL011_IMSC, PL011_INT_RX | PL011_INT_RT);
	wr(PL011_CR, PL011_CR_UARTEN | PL011_CR_RXE);
	wr(PL011_DR, 'q'); /* held: TXE is off */
	assert_int_equal(type("xabcd"), 5);
	assert_int_equal(rd(PL011_DR), 'x');
	step(TIMEOUT_115200_NS / 2);
	assert_int_equal(irq(), 1);

	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	vmm_harness_clock_step(h2, 12345 + TIMEOUT_115200_NS / 2);
	d2 = vmm_harness_create_device(h2, "pl011", "uart0", props);
	assert_non_null(d2);
	assert_int_equal(vmm_harness_irq_level(h2, IRQ), 0);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	free(rec);
	pl011_goes_on_after_save(F->h, F->dev);
	pl011_goes_on_after_save(h2, d2);
	vmm_harness_free(h2);
}

/* Records no UART could have written: refused, naming the field, with the
 * instance left as created. */
static void test_load_refuses_bad_records(void **state)
{
	struct vmm_harness *h2 = vmm_harness_new();
	const char *const props[] = { "base=0x09000000", "irq=33", NULL };
	/* A field is its name's length, the name, a u32 length, the bytes. */
	static const uint8_t rx_count[] = { 8, 'r', 'x', '-', 'c', 'o', 'u', 'n', 't', 1, 0, 0, 0 };
	static const uint8_t cr[] = { 2, 'c', 'r', 2, 0, 0, 0 };
	struct vmm_harness_dev *d2;
	uint8_t *rec, *f, *g, save;
	size_t len, v;

	assert_non_null(h2);
	wr(PL011_IBRD, 0x1234);
	assert_int_equal(type("ab"), 2);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	d2 = vmm_harness_create_device(h2, "pl011", "uart0", props);
	assert_non_null(d2);
	assert_int_equal(vmm_harness_load(d2, rec, len - 1), -EBADMSG);
	/* the state version follows the two names (core/state.h) */
	v = 8 + 1 + rec[8];
	v += 1 + rec[v];
	rec[v] = 2;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EPROTO);
	rec[v] = 1;
	f = memmem(rec, len, rx_count, sizeof(rx_count));
	assert_non_null(f);
	save = f[sizeof(rx_count)];
	assert_int_equal(save, 2);
	f[sizeof(rx_count)] = PL011_FIFO_DEPTH + 1; /* past the FIFO */
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	f[sizeof(rx_count)] = save;
	g = memmem(rec, len, cr, sizeof(cr));
	assert_non_null(g);
	g[sizeof(cr)] |= 0x08; /* a reserved bit */
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	g[sizeof(cr)] &= (uint8_t)~0x08;
	/* Nothing of the refused records was taken. */
	assert_int_equal(vmm_harness_mmio_read(h2, BASE + PL011_IBRD, 4), 13);
	assert_true(vmm_harness_mmio_read(h2, BASE + PL011_FR, 4) & PL011_FR_RXFE);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	assert_int_equal(vmm_harness_mmio_read(h2, BASE + PL011_IBRD, 4), 0x1234);
	assert_int_equal(vmm_harness_mmio_read(h2, BASE + PL011_DR, 4), 'a');
	free(rec);
	vmm_harness_free(h2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_primecell_ids),
		T(test_power_on_values),
		T(test_registers_read_back_their_bits),
		T(test_read_only_and_reserved_offsets),
		T(test_dr_write_reaches_backend),
		T(test_tx_needs_uarten_and_txe),
		T(test_tx_holding_register_without_fifo),
		T(test_tx_fifo_holds_32),
		T(test_clearing_fen_flushes_tx_fifo),
		T(test_tx_interrupt_after_each_character),
		T(test_tx_interrupt_levels_with_fifo),
		T(test_tx_interrupt_without_fifo),
		T(test_rx_data_and_flags),
		T(test_rx_interrupt_without_fifo),
		T(test_rx_trigger_levels),
		T(test_rx_interrupt_cleared_by_icr),
		T(test_rx_timeout),
		T(test_rx_timeout_restarts_with_each_character),
		T(test_rx_timeout_cleared_by_icr),
		T(test_rx_timeout_without_fifo),
		T(test_baud_divisor_latched_by_lcr_h),
		T(test_rx_holding_register_flow_control),
		T(test_rx_fifo_flow_control),
		T(test_rx_needs_uarten_and_rxe),
		T(test_loopback),
		T(test_overrun),
		T(test_icr_clears_only_the_bits_written),
		T(test_each_source_masks_and_clears),
		T(test_narrow_accesses),
		T(test_dma_not_offered),
		T(test_reset),
		T(test_disabled_at_reset),
		T(test_properties),
		T(test_second_uart),
		T(test_save_load_mid_reception),
		T(test_load_refuses_bad_records),
	};

	return cmocka_run_group_tests_name("pl011", tests, NULL, NULL);
}
