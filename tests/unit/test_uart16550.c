/* tests/unit/test_uart16550.c - the 16550A, register by register, through
 * the harness and the real uart16550.so.  Each test is a datasheet sentence:
 * write these registers, expect this register value and this IRQ level. */
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
#include "devices/uart16550/uart16550.h"

#define COM1 0x3f8
#define COM1_IRQ 4

/* Four character times of 8N1 at divisor 1 (115200 baud): 40 bits. */
#define TIMEOUT_8N1_DIV1_NS (40ULL * 16 * 1000000000ULL / 1843200)

#include "device-fixture.h"

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, "uart16550", "com1");
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void out(unsigned reg, uint8_t value)
{
	vmm_harness_pio_write(F->h, (uint16_t)(COM1 + reg), 1, value);
}

static uint8_t in(unsigned reg)
{
	return (uint8_t)vmm_harness_pio_read(F->h, (uint16_t)(COM1 + reg), 1);
}

static int irq(void)
{
	return vmm_harness_irq_level(F->h, COM1_IRQ);
}

static size_t type(const char *s)
{
	return vmm_harness_char_input(F->dev, s, strlen(s));
}

/* Loopback with the FIFO on: the guest feeds its own receiver. */
static void loop_send(const char *s)
{
	while (*s)
		out(UART_THR, (uint8_t)*s++);
}

static void test_power_on_values(void **state)
{
	assert_int_equal(in(UART_IER), 0x00);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(in(UART_LCR), 0x00);
	assert_int_equal(in(UART_MCR), 0x00);
	assert_int_equal(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	/* A host terminal is always attached: CTS, DSR and DCD, no deltas. */
	assert_int_equal(in(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	assert_int_equal(irq(), 0);
}

static void test_dlab_selects_divisor_latch(void **state)
{
	out(UART_IER, UART_IER_ERBFI);
	out(UART_LCR, UART_LCR_DLAB | 0x03);
	out(UART_DLL, 0x0c);
	out(UART_DLM, 0x01);
	assert_int_equal(in(UART_DLL), 0x0c);
	assert_int_equal(in(UART_DLM), 0x01);
	/* Writing the latch sent nothing and left IER alone. */
	assert_int_equal(vmm_harness_char_output(F->dev, NULL)[0], '\0');
	out(UART_LCR, 0x03);
	assert_int_equal(in(UART_IER), UART_IER_ERBFI);
	out(UART_THR, 'A');
	assert_string_equal(vmm_harness_char_output(F->dev, NULL), "A");
	out(UART_LCR, UART_LCR_DLAB);
	assert_int_equal(in(UART_DLL), 0x0c);
	assert_int_equal(in(UART_DLM), 0x01);
}

static void test_lcr_scr_mcr_read_back(void **state)
{
	out(UART_LCR, 0x1b);
	assert_int_equal(in(UART_LCR), 0x1b);
	out(UART_SCR, 0xa5);
	assert_int_equal(in(UART_SCR), 0xa5);
	/* MCR bits 7..5 are always zero; IER bits 7..4 too. */
	out(UART_MCR, 0xff);
	assert_int_equal(in(UART_MCR), 0x1f);
	out(UART_MCR, 0);
	out(UART_IER, 0xff);
	assert_int_equal(in(UART_IER), 0x0f);
}

static void test_thr_write_reaches_backend(void **state)
{
	size_t len;

	out(UART_LCR, 0x03);
	out(UART_THR, 'h');
	out(UART_THR, 'i');
	out(UART_THR, '\n');
	assert_string_equal(vmm_harness_char_output(F->dev, &len), "hi\n");
	assert_int_equal(len, 3);
	/* Sent at once: THR and the transmitter read empty again. */
	assert_int_equal(in(UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			 UART_LSR_THRE | UART_LSR_TEMT);
}

static void test_thre_raised_when_etbei_set_on_empty_thr(void **state)
{
	out(UART_MCR, UART_MCR_OUT2);
	assert_int_equal(irq(), 0);
	out(UART_IER, UART_IER_ETBEI);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_irq_raises(F->h, COM1_IRQ), 1);
}

static void test_thre_cleared_by_reading_iir(void **state)
{
	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ETBEI);
	assert_int_equal(in(UART_IIR), UART_IIR_THRI);
	assert_int_equal(irq(), 0);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
}

static void test_thre_cleared_by_thr_write_then_raised_again(void **state)
{
	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ETBEI);
	assert_int_equal(in(UART_IIR), UART_IIR_THRI);
	assert_int_equal(irq(), 0);
	/* The write clears THRE; the byte leaves at once, so THR is empty
	 * again and THRE is pending anew. */
	out(UART_THR, 'x');
	assert_int_equal(irq(), 1);
	assert_int_equal(in(UART_IIR), UART_IIR_THRI);
	assert_int_equal(vmm_harness_irq_raises(F->h, COM1_IRQ), 2);
}

static void test_thre_masked_when_etbei_cleared(void **state)
{
	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ETBEI);
	assert_int_equal(irq(), 1);
	out(UART_IER, 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
	/* Enabling it again while THR is empty raises it again. */
	out(UART_IER, UART_IER_ETBEI);
	assert_int_equal(irq(), 1);
}

static void test_iir_read_does_not_clear_hidden_thre(void **state)
{
	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	type("q");
	/* Data available outranks THRE; reading IIR reports it and leaves
	 * THRE pending. */
	assert_int_equal(in(UART_IIR), UART_IIR_RDI);
	assert_int_equal(in(UART_RBR), 'q');
	assert_int_equal(in(UART_IIR), UART_IIR_THRI);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
}

static void test_rx_data_available_16450_mode(void **state)
{
	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ERBFI);
	assert_int_equal(type("x"), 1);
	assert_int_equal(in(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(irq(), 1);
	assert_int_equal(in(UART_IIR), UART_IIR_RDI);
	assert_int_equal(in(UART_RBR), 'x');
	assert_int_equal(irq(), 0);
	assert_int_equal(in(UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
}

static void test_rx_trigger_levels(void **state)
{
	static const struct { uint8_t fcr; unsigned level; } cases[] = {
		{ 0x00, 1 }, { 0x40, 4 }, { 0x80, 8 }, { 0xc0, 14 },
	};
	static const char bytes[] = "0123456789abcdef";

	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ERBFI);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned level = cases[i].level;

		out(UART_FCR, cases[i].fcr | UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
		assert_int_equal(vmm_harness_char_input(F->dev, bytes, level - 1), level - 1);
		assert_int_equal(irq(), 0);
		assert_int_equal(vmm_harness_char_input(F->dev, bytes, 1), 1);
		assert_int_equal(irq(), 1);
		assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
		/* One read takes the FIFO below the trigger level. */
		assert_int_equal(in(UART_RBR), '0');
		assert_int_equal(irq(), 0);
	}
}

static void test_char_timeout_below_trigger(void **state)
{
	out(UART_LCR, UART_LCR_DLAB | 0x03);
	out(UART_DLL, 1);
	out(UART_DLM, 0);
	out(UART_LCR, 0x03);
	out(UART_FCR, 0xc0 | UART_FCR_ENABLE); /* trigger at 14 */
	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ERBFI);

	type("abc");
	assert_int_equal(irq(), 0);
	vmm_harness_clock_step(F->h, TIMEOUT_8N1_DIV1_NS - 1);
	assert_int_equal(irq(), 0);
	vmm_harness_clock_step(F->h, 1);
	assert_int_equal(irq(), 1);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_TIMEOUT);
	/* Reading a character clears the timeout and restarts the wait. */
	assert_int_equal(in(UART_RBR), 'a');
	assert_int_equal(irq(), 0);
	vmm_harness_clock_step(F->h, TIMEOUT_8N1_DIV1_NS);
	assert_int_equal(irq(), 1);
	assert_int_equal(in(UART_RBR), 'b');
	assert_int_equal(in(UART_RBR), 'c');
	/* Empty FIFO: no timeout however long we wait. */
	vmm_harness_clock_step(F->h, 10 * TIMEOUT_8N1_DIV1_NS);
	assert_int_equal(irq(), 0);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
}

static void test_iir_fifo_bits(void **state)
{
	assert_int_equal(in(UART_IIR) & UART_IIR_FIFO_ON, 0);
	out(UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	out(UART_FCR, 0);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
}

static void test_fifo_clear(void **state)
{
	out(UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(type("hello"), 5);
	out(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	assert_int_equal(in(UART_LSR) & UART_LSR_DR, 0);
	/* Leaving FIFO mode empties the FIFO too. */
	assert_int_equal(type("again"), 5);
	out(UART_FCR, 0);
	assert_int_equal(in(UART_LSR) & UART_LSR_DR, 0);
	/* The other FCR bits are not programmed while FCR0 is clear. */
	out(UART_FCR, 0xc0);
	assert_int_equal(in(UART_IIR) & UART_IIR_FIFO_ON, 0);
}

static void test_overrun_in_fifo_mode(void **state)
{
	out(UART_FCR, UART_FCR_ENABLE);
	out(UART_MCR, UART_MCR_LOOP);
	out(UART_IER, UART_IER_ELSI);
	loop_send("0123456789abcdef");
	assert_int_equal(in(UART_LSR) & UART_LSR_OE, 0);
	loop_send("X");
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RLSI);
	assert_int_equal(irq(), 0); /* no OUT2 */
	/* Reading LSR reports OE once and clears the line status source. */
	assert_int_equal(in(UART_LSR) & UART_LSR_OE, UART_LSR_OE);
	assert_int_equal(in(UART_LSR) & UART_LSR_OE, 0);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	/* The FIFO kept the first sixteen; the seventeenth was lost. */
	for (const char *p = "0123456789abcdef"; *p; p++)
		assert_int_equal(in(UART_RBR), *p);
	assert_int_equal(in(UART_LSR) & UART_LSR_DR, 0);
}

static void test_overrun_reported_by_lsr_once(void **state)
{
	out(UART_MCR, UART_MCR_LOOP);
	loop_send("ab");
	assert_int_equal(in(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
	assert_int_equal(in(UART_LSR) & UART_LSR_OE, 0);
	/* 16450 mode: the new character replaced the unread one. */
	assert_int_equal(in(UART_RBR), 'b');
}

static void test_loopback_routes_tx_to_rx(void **state)
{
	out(UART_MCR, UART_MCR_LOOP);
	out(UART_THR, 'Z');
	assert_string_equal(vmm_harness_char_output(F->dev, NULL), "");
	assert_int_equal(in(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(in(UART_RBR), 'Z');
	/* The serial input is disconnected: host input waits ... */
	assert_int_equal(type("k"), 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 1);
	/* ... until loopback ends. */
	out(UART_MCR, 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_int_equal(in(UART_RBR), 'k');
}

static void test_loopback_modem_outputs_to_inputs(void **state)
{
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1 | UART_MCR_OUT2);
	assert_int_equal(in(UART_MSR) & UART_MSR_LINES,
			 UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(in(UART_MSR) & UART_MSR_LINES, UART_MSR_CTS);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	assert_int_equal(in(UART_MSR) & UART_MSR_LINES, UART_MSR_DSR);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	assert_int_equal(in(UART_MSR) & UART_MSR_LINES, UART_MSR_RI);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	assert_int_equal(in(UART_MSR) & UART_MSR_LINES, UART_MSR_DCD);
}

static void test_msr_deltas(void **state)
{
	/* Entering loopback with all outputs off drops CTS, DSR and DCD. */
	out(UART_MCR, UART_MCR_LOOP);
	assert_int_equal(in(UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	/* Reading MSR cleared the deltas. */
	assert_int_equal(in(UART_MSR), 0);
	/* RI going active is not reported ... */
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	assert_int_equal(in(UART_MSR), UART_MSR_RI);
	/* ... only its trailing edge is (TERI). */
	out(UART_MCR, UART_MCR_LOOP);
	assert_int_equal(in(UART_MSR), UART_MSR_TERI);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(in(UART_MSR), UART_MSR_DCTS | UART_MSR_CTS);
}

static void test_modem_status_interrupt(void **state)
{
	out(UART_IER, UART_IER_EDSSI);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(in(UART_IIR), UART_IIR_MSI);
	in(UART_MSR);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
}

static void test_iir_priority_order(void **state)
{
	out(UART_FCR, UART_FCR_ENABLE);
	out(UART_IER, UART_IER_MASK);
	/* Loopback: an MSR delta, then overrun the FIFO; every THR write
	 * also leaves THRE pending. */
	out(UART_MCR, UART_MCR_LOOP);
	loop_send("0123456789abcdefX");

	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RLSI);
	in(UART_LSR);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
	for (int i = 0; i < 16; i++)
		in(UART_RBR);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_THRI);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_MSI);
	in(UART_MSR);
	assert_int_equal(in(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
}

static void test_out2_gates_irq_output(void **state)
{
	out(UART_IER, UART_IER_ETBEI);
	/* Pending in IIR, but the PC's OUT2 buffer keeps the line quiet. */
	assert_int_equal(irq(), 0);
	out(UART_MCR, UART_MCR_OUT2);
	assert_int_equal(irq(), 1);
	out(UART_MCR, 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(in(UART_IIR), UART_IIR_THRI);
	/* Loopback forces OUT2 inactive on the pin. */
	out(UART_IER, 0);
	out(UART_IER, UART_IER_ETBEI);
	out(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	assert_int_equal(irq(), 0);
	out(UART_MCR, UART_MCR_OUT2);
	assert_int_equal(irq(), 1);
}

static void test_input_flow_control_fifo(void **state)
{
	static const char text[] = "abcdefghijklmnopqrst"; /* 20 */

	out(UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(type(text), 16);
	assert_int_equal(vmm_harness_char_pending(F->dev), 4);
	/* Nothing lost, so no overrun. */
	assert_int_equal(in(UART_LSR) & UART_LSR_OE, 0);
	/* Each read makes room; the device asks for more and gets it. */
	for (size_t i = 0; i < 20; i++)
		assert_int_equal(in(UART_RBR), text[i]);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_int_equal(in(UART_LSR) & (UART_LSR_DR | UART_LSR_OE), 0);
}

static void test_input_flow_control_16450(void **state)
{
	assert_int_equal(type("xyz"), 1);
	assert_int_equal(in(UART_RBR), 'x');
	assert_int_equal(in(UART_RBR), 'y');
	assert_int_equal(in(UART_RBR), 'z');
	assert_int_equal(in(UART_LSR) & (UART_LSR_DR | UART_LSR_OE), 0);
}

static void test_only_byte_access(void **state)
{
	out(UART_LCR, 0x03);
	out(UART_MCR, UART_MCR_OUT2);
	/* A word access is split into byte accesses by the bus. */
	assert_int_equal(vmm_harness_pio_read(F->h, COM1 + UART_LCR, 2),
			 0x03 | (UART_MCR_OUT2 << 8));
	/* Nothing beyond the eight ports. */
	assert_int_equal(vmm_harness_pio_read(F->h, COM1 + 8, 1), 0xff);
}

static void test_reset(void **state)
{
	out(UART_LCR, UART_LCR_DLAB);
	out(UART_DLL, 3);
	out(UART_LCR, 0x03);
	out(UART_SCR, 0x42);
	out(UART_FCR, UART_FCR_ENABLE);
	out(UART_MCR, UART_MCR_OUT2);
	out(UART_IER, UART_IER_ETBEI);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(in(UART_IER), 0);
	assert_int_equal(in(UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(in(UART_LCR), 0);
	assert_int_equal(in(UART_MCR), 0);
	assert_int_equal(in(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	/* The master reset leaves the divisor latch and scratch alone. */
	assert_int_equal(in(UART_SCR), 0x42);
	out(UART_LCR, UART_LCR_DLAB);
	assert_int_equal(in(UART_DLL), 3);
}

static void test_properties(void **state)
{
	static const char *const com2[] = { "base=0x2f8", "irq=3", "chardev=file0", NULL };
	static const char *const bad_base[] = { "base=0xfff9", NULL };
	static const char *const bad_irq[] = { "irq=256", NULL };
	static const char *const clash[] = { "base=0x3fc", NULL };
	struct vmm_harness_dev *d2;

	d2 = vmm_harness_create_device(F->h, "uart16550", "com2", com2);
	assert_non_null(d2);
	vmm_harness_pio_write(F->h, 0x2f8 + UART_THR, 1, 'B');
	assert_string_equal(vmm_harness_char_output(d2, NULL), "B");
	vmm_harness_pio_write(F->h, 0x2f8 + UART_MCR, 1, UART_MCR_OUT2);
	vmm_harness_pio_write(F->h, 0x2f8 + UART_IER, 1, UART_IER_ETBEI);
	assert_int_equal(vmm_harness_irq_level(F->h, 3), 1);
	assert_int_equal(irq(), 0);

	assert_null(vmm_harness_create_device(F->h, "uart16550", "x", bad_base));
	assert_null(vmm_harness_create_device(F->h, "uart16550", "x", bad_irq));
	assert_null(vmm_harness_create_device(F->h, "uart16550", "x", clash));
}

/* Saved state (ABI 1.12): a UART saved in the middle of a reception (three
 * bytes in the FIFO below the trigger level, one read before, the character timeout half
 * run, a THRE interrupt latched and raised) and loaded into a fresh
 * instance in a new harness whose clock stands where the first one's did
 * behaves exactly as the original goes on to: same line level, same IIR,
 * the timeout at the same virtual time, the same bytes, the same
 * registers, transmission to its own backend. */
static void hout(struct vmm_harness *h, unsigned reg, uint8_t value)
{
	vmm_harness_pio_write(h, (uint16_t)(COM1 + reg), 1, value);
}

static uint8_t hin(struct vmm_harness *h, unsigned reg)
{
	return (uint8_t)vmm_harness_pio_read(h, (uint16_t)(COM1 + reg), 1);
}

static void goes_on_after_save(struct vmm_harness *h, struct vmm_harness_dev *dev)
{
	assert_int_equal(vmm_harness_irq_level(h, COM1_IRQ), 1);
	assert_int_equal(hin(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_THRI);
	assert_int_equal(vmm_harness_irq_level(h, COM1_IRQ), 0);
	assert_int_equal(hin(h, UART_LSR) & (UART_LSR_DR | UART_LSR_THRE), UART_LSR_DR | UART_LSR_THRE);
	/* The timeout was armed half a wait before the save. */
	vmm_harness_clock_step(h, TIMEOUT_8N1_DIV1_NS - TIMEOUT_8N1_DIV1_NS / 2 - 1);
	assert_int_equal(vmm_harness_irq_level(h, COM1_IRQ), 0);
	vmm_harness_clock_step(h, 1);
	assert_int_equal(vmm_harness_irq_level(h, COM1_IRQ), 1);
	assert_int_equal(hin(h, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_TIMEOUT);
	assert_int_equal(hin(h, UART_RBR), 'a');
	assert_int_equal(hin(h, UART_RBR), 'b');
	assert_int_equal(hin(h, UART_RBR), 'c');
	assert_int_equal(hin(h, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(hin(h, UART_SCR), 0x5a);
	assert_int_equal(hin(h, UART_LCR), 0x1b);
	assert_int_equal(hin(h, UART_MCR), UART_MCR_OUT2 | UART_MCR_RTS);
	hout(h, UART_LCR, UART_LCR_DLAB | 0x1b);
	assert_int_equal(hin(h, UART_DLL), 1);
	assert_int_equal(hin(h, UART_DLM), 0);
	hout(h, UART_LCR, 0x1b);
	/* Its input flows and its output reaches its own backend. */
	assert_int_equal(vmm_harness_char_input(dev, "z", 1), 1);
	assert_int_equal(hin(h, UART_RBR), 'z');
	hout(h, UART_THR, '!');
	assert_string_equal(vmm_harness_char_output(dev, NULL) + strlen(vmm_harness_char_output(dev, NULL)) - 1,
			    "!");
}

static void test_save_load_mid_reception(void **state)
{
	struct vmm_harness *h2 = vmm_harness_new();
	struct vmm_harness_dev *d2;
	uint8_t *rec;
	size_t len;

	assert_non_null(h2);
	vmm_harness_set_irq_mode(h2, VMM_IRQ_EMULATED);
	vmm_harness_clock_step(F->h, 12345);
	out(UART_LCR, UART_LCR_DLAB | 0x03); /* 8N1 at divisor 1 */
	out(UART_DLL, 1);
	out(UART_DLM, 0);
	out(UART_LCR, 0x03);
	out(UART_FCR, 0xc0 | UART_FCR_ENABLE);
	out(UART_MCR, UART_MCR_OUT2 | UART_MCR_RTS);
	out(UART_SCR, 0x5a);
	out(UART_IER, UART_IER_ERBFI);
	/* One byte read first: the ring's head is not at 0. */
	assert_int_equal(type("xabc"), 4);
	assert_int_equal(in(UART_RBR), 'x');
	vmm_harness_clock_step(F->h, TIMEOUT_8N1_DIV1_NS / 2);
	out(UART_IER, UART_IER_ERBFI | UART_IER_ETBEI); /* THRE latched: the line rises */
	/* A frame format changed after the bytes came (8E1): the running
	 * timeout keeps the deadline it was armed with. */
	out(UART_LCR, 0x1b);
	assert_int_equal(irq(), 1);

	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	/* The fresh instance's clock stands where the saved one's did. */
	vmm_harness_clock_step(h2, 12345 + TIMEOUT_8N1_DIV1_NS / 2);
	d2 = vmm_harness_create_device(h2, "uart16550", "com1", NULL);
	assert_non_null(d2);
	assert_int_equal(vmm_harness_irq_level(h2, COM1_IRQ), 0);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	free(rec);
	goes_on_after_save(F->h, F->dev);
	goes_on_after_save(h2, d2);
	vmm_harness_free(h2);
}

/* A record that is not one: refused with the codec's or the plugin's errno,
 * the instance untouched. */
static void test_load_refuses_bad_records(void **state)
{
	struct vmm_harness *h2 = vmm_harness_new();
	struct vmm_harness_dev *d2;
	uint8_t *rec;
	size_t len;

	assert_non_null(h2);
	out(UART_SCR, 0x77);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	d2 = vmm_harness_create_device(h2, "uart16550", "com1", NULL);
	assert_non_null(d2);
	assert_int_equal(vmm_harness_load(d2, rec, len - 1), -EBADMSG);
	/* the state version follows the two names (core/state.h) */
	size_t v = 8 + 1 + rec[8];
	v += 1 + rec[v];
	rec[v] = 2;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EPROTO);
	assert_int_equal((uint8_t)vmm_harness_pio_read(h2, COM1 + UART_SCR, 1), 0);
	rec[v] = 1;
	/* IER with bits no guest can set (field "ier": name length 3, the
	 * name, a u32 length of 1, the byte: core/state.h). */
	static const uint8_t ier_field[] = { 3, 'i', 'e', 'r', 1, 0, 0, 0 };
	uint8_t *f = memmem(rec, len, ier_field, sizeof(ier_field));
	assert_non_null(f);
	f[sizeof(ier_field)] = 0xf0;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	f[sizeof(ier_field)] = 0;
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	assert_int_equal((uint8_t)vmm_harness_pio_read(h2, COM1 + UART_SCR, 1), 0x77);
	free(rec);
	vmm_harness_free(h2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_power_on_values),
		T(test_dlab_selects_divisor_latch),
		T(test_lcr_scr_mcr_read_back),
		T(test_thr_write_reaches_backend),
		T(test_thre_raised_when_etbei_set_on_empty_thr),
		T(test_thre_cleared_by_reading_iir),
		T(test_thre_cleared_by_thr_write_then_raised_again),
		T(test_thre_masked_when_etbei_cleared),
		T(test_iir_read_does_not_clear_hidden_thre),
		T(test_rx_data_available_16450_mode),
		T(test_rx_trigger_levels),
		T(test_char_timeout_below_trigger),
		T(test_iir_fifo_bits),
		T(test_fifo_clear),
		T(test_overrun_in_fifo_mode),
		T(test_overrun_reported_by_lsr_once),
		T(test_loopback_routes_tx_to_rx),
		T(test_loopback_modem_outputs_to_inputs),
		T(test_msr_deltas),
		T(test_modem_status_interrupt),
		T(test_iir_priority_order),
		T(test_out2_gates_irq_output),
		T(test_input_flow_control_fifo),
		T(test_input_flow_control_16450),
		T(test_only_byte_access),
		T(test_reset),
		T(test_properties),
		T(test_save_load_mid_reception),
		T(test_load_refuses_bad_records),
	};

	return cmocka_run_group_tests_name("uart16550", tests, NULL, NULL);
}
