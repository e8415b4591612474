/* tests/unit/test_i8259.c - the cascaded 8259A pair through the harness and
 * the real i8259.so.  Each test is a datasheet sentence: write these
 * command words, drive this line, expect INTR and this vector. */
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
#include "devices/i8259/i8259.h"

#define MASTER_CMD  0x20
#define MASTER_DATA 0x21
#define SLAVE_CMD   0xa0
#define SLAVE_DATA  0xa1
#define ELCR1       0x4d0
#define ELCR2       0x4d1

#define BSP 0

/* OCW3 read selections, with the select bit. */
#define READ_IRR (OCW3_SEL | OCW3_RR)
#define READ_ISR (OCW3_SEL | OCW3_RR | OCW3_RIS)

#include "device-fixture.h"
#include "state-record.h"

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, "i8259", "pic");
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void out(uint16_t port, uint8_t value)
{
	vmm_harness_pio_write(F->h, port, 1, value);
}

static uint8_t in(uint16_t port)
{
	return (uint8_t)vmm_harness_pio_read(F->h, port, 1);
}

static void line(uint32_t irq, int level)
{
	assert_int_equal(vmm_harness_irq_drive(F->h, irq, level), 0);
}

/* An edge-triggered device's interrupt: the line rises and falls. */
static void pulse(uint32_t irq)
{
	line(irq, 1);
	line(irq, 0);
}

static int intr(void)
{
	return vmm_harness_cpu_intr(F->h, BSP);
}

static int inta(void)
{
	return vmm_harness_cpu_ack(F->h, BSP);
}

static uint8_t irr(uint16_t cmd_port)
{
	out(cmd_port, READ_IRR);
	return in(cmd_port);
}

static uint8_t isr(uint16_t cmd_port)
{
	uint8_t value;

	out(cmd_port, READ_ISR);
	value = in(cmd_port);
	out(cmd_port, READ_IRR);
	return value;
}

static void eoi(uint16_t cmd_port)
{
	out(cmd_port, OCW2_NONSPECIFIC_EOI);
}

/* ICW1-ICW4 as Linux and PC BIOSes program the pair. */
static void init_pair(uint8_t icw4_master, uint8_t icw4_slave)
{
	out(MASTER_CMD, ICW1_SEL | ICW1_IC4);  /* 0x11: cascade, edge, ICW4 */
	out(MASTER_DATA, 0x20);                 /* ICW2: vectors 0x20-0x27 */
	out(MASTER_DATA, 1u << 2);              /* ICW3: slave on IR2 */
	out(MASTER_DATA, icw4_master);          /* ICW4 */
	out(SLAVE_CMD, ICW1_SEL | ICW1_IC4);
	out(SLAVE_DATA, 0x28);                  /* ICW2: vectors 0x28-0x2f */
	out(SLAVE_DATA, 2);                     /* ICW3: slave ID 2 */
	out(SLAVE_DATA, icw4_slave);
}

static void init_pc(void)
{
	init_pair(ICW4_UPM, ICW4_UPM);
}

/* ---- initialisation ---- */

static void test_init_sequence_as_linux_does_it(void **state)
{
	init_pc();
	assert_int_equal(in(MASTER_DATA), 0x00); /* ICW1 cleared IMR */
	assert_int_equal(in(SLAVE_DATA), 0x00);
	out(MASTER_DATA, 0xfb);                  /* OCW1 now, not an ICW */
	out(SLAVE_DATA, 0xff);
	assert_int_equal(in(MASTER_DATA), 0xfb);
	assert_int_equal(in(SLAVE_DATA), 0xff);
	out(MASTER_DATA, 0x00);
	out(SLAVE_DATA, 0x00);

	pulse(0);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x20);
	assert_int_equal(intr(), 0);
	assert_int_equal(isr(MASTER_CMD), 0x01);
	eoi(MASTER_CMD);
	assert_int_equal(isr(MASTER_CMD), 0x00);

	pulse(14);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x2e);
	eoi(SLAVE_CMD);
	eoi(MASTER_CMD);
	assert_int_equal(isr(MASTER_CMD), 0);
	assert_int_equal(isr(SLAVE_CMD), 0);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

static void test_icw2_low_bits_ignored(void **state)
{
	out(MASTER_CMD, 0x11);
	out(MASTER_DATA, 0x0f); /* T7-T3 = 00001: base 0x08 */
	out(MASTER_DATA, 0x04);
	out(MASTER_DATA, 0x01);
	pulse(3);
	assert_int_equal(inta(), 0x0b);
}

static void test_single_mode_skips_icw3(void **state)
{
	out(MASTER_CMD, ICW1_SEL | ICW1_SNGL | ICW1_IC4);
	out(MASTER_DATA, 0x40);
	out(MASTER_DATA, ICW4_UPM); /* ICW4 right after ICW2 */
	out(MASTER_DATA, 0xf0);     /* OCW1 */
	assert_int_equal(in(MASTER_DATA), 0xf0);
	/* No cascade: IR2 delivers the master's own vector. */
	pulse(9);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x42);
}

static void test_icw1_reinitialises(void **state)
{
	init_pc();
	out(MASTER_DATA, 0x0f);
	pulse(4);
	pulse(6);
	assert_int_equal(inta(), 0x24);
	assert_int_equal(isr(MASTER_CMD), 0x10);
	out(MASTER_CMD, READ_ISR);

	init_pc();
	/* IMR and ISR cleared, IRR selected for reading, edges forgotten. */
	assert_int_equal(in(MASTER_DATA), 0x00);
	assert_int_equal(in(MASTER_CMD), 0x00);
	assert_int_equal(isr(MASTER_CMD), 0x00);
	assert_int_equal(intr(), 0);
}

static void test_edge_needs_new_rising_edge_after_icw1(void **state)
{
	line(5, 1);
	init_pc();
	assert_int_equal(irr(MASTER_CMD), 0x00);
	assert_int_equal(intr(), 0);
	line(5, 0);
	line(5, 1);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x25);
}

static void test_ocw_during_init_sequence_is_accepted(void **state)
{
	out(MASTER_CMD, 0x11);
	out(MASTER_CMD, READ_ISR);              /* OCW3 between ICW1 and ICW2 */
	out(MASTER_DATA, 0x20);
	out(MASTER_DATA, 0x04);
	out(MASTER_DATA, 0x01);
	out(MASTER_DATA, 0x00);                 /* and this is OCW1 */
	pulse(1);
	assert_int_equal(in(MASTER_CMD), 0x00); /* ISR selected: nothing in service */
	assert_int_equal(inta(), 0x21);
	assert_int_equal(in(MASTER_CMD), 0x02);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

static void test_mcs80_mode_is_a_guest_error(void **state)
{
	out(MASTER_CMD, ICW1_SEL);              /* no ICW4: MCS-80/85 mode */
	out(MASTER_DATA, 0x20);
	out(MASTER_DATA, 0x04);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);
	out(MASTER_DATA, 0x01);                 /* OCW1 */
	assert_int_equal(in(MASTER_DATA), 0x01);
	pulse(1);
	assert_int_equal(inta(), 0x21);         /* still 8086 vectors */
}

/* ---- priority, masking, EOI ---- */

static void test_fixed_priority_among_pending_lines(void **state)
{
	init_pc();
	pulse(5);
	pulse(3);
	pulse(7);
	assert_int_equal(irr(MASTER_CMD), 0xa8);
	assert_int_equal(inta(), 0x23);
	/* IR3 in service holds off the lower levels until its EOI. */
	assert_int_equal(intr(), 0);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x25);
	eoi(MASTER_CMD);
	assert_int_equal(inta(), 0x27);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 0);
	assert_int_equal(irr(MASTER_CMD), 0x00);
}

static void test_higher_priority_nests(void **state)
{
	init_pc();
	pulse(4);
	assert_int_equal(inta(), 0x24);
	pulse(1);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x21);
	assert_int_equal(isr(MASTER_CMD), 0x12);
	/* Same level again while in service: held. */
	pulse(1);
	assert_int_equal(intr(), 0);
}

static void test_imr_masks_and_unmasks(void **state)
{
	init_pc();
	out(MASTER_DATA, 0x10);
	pulse(4);
	assert_int_equal(irr(MASTER_CMD), 0x10); /* latched, but masked */
	assert_int_equal(intr(), 0);
	out(MASTER_DATA, 0x00);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x24);
	/* Masking a request that is already up drops INTR again. */
	pulse(6);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 1);
	out(MASTER_DATA, 0x40);
	assert_int_equal(intr(), 0);
}

static void test_nonspecific_eoi_clears_highest_in_service(void **state)
{
	init_pc();
	pulse(3);
	assert_int_equal(inta(), 0x23);
	pulse(1);
	assert_int_equal(inta(), 0x21);
	assert_int_equal(isr(MASTER_CMD), 0x0a);
	eoi(MASTER_CMD);
	assert_int_equal(isr(MASTER_CMD), 0x08);
	eoi(MASTER_CMD);
	assert_int_equal(isr(MASTER_CMD), 0x00);
	eoi(MASTER_CMD); /* nothing in service: no effect */
	assert_int_equal(isr(MASTER_CMD), 0x00);
}

static void test_specific_eoi_clears_named_level(void **state)
{
	init_pc();
	pulse(3);
	assert_int_equal(inta(), 0x23);
	pulse(1);
	assert_int_equal(inta(), 0x21);
	out(MASTER_CMD, OCW2_SPECIFIC_EOI | 3);
	assert_int_equal(isr(MASTER_CMD), 0x02);
	out(MASTER_CMD, OCW2_SPECIFIC_EOI | 1);
	assert_int_equal(isr(MASTER_CMD), 0x00);
}

static void test_ocw2_nop_changes_nothing(void **state)
{
	init_pc();
	pulse(3);
	assert_int_equal(inta(), 0x23);
	out(MASTER_CMD, OCW2_NOP | 3);
	assert_int_equal(isr(MASTER_CMD), 0x08);
}

static void test_auto_eoi(void **state)
{
	init_pair(ICW4_UPM | ICW4_AEOI, ICW4_UPM | ICW4_AEOI);
	pulse(3);
	pulse(6);
	assert_int_equal(inta(), 0x23);
	assert_int_equal(isr(MASTER_CMD), 0x00);
	/* Nothing in service: the next request goes out at once. */
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x26);
	assert_int_equal(intr(), 0);
}

/* ---- rotation ---- */

static void test_rotate_on_nonspecific_eoi(void **state)
{
	init_pc();
	pulse(3);
	assert_int_equal(inta(), 0x23);
	out(MASTER_CMD, OCW2_ROTATE_NS_EOI);
	assert_int_equal(isr(MASTER_CMD), 0x00);
	/* IR3 is now the lowest priority, IR4 the highest. */
	pulse(3);
	pulse(1);
	pulse(5);
	assert_int_equal(inta(), 0x25);
	out(MASTER_CMD, OCW2_ROTATE_NS_EOI); /* IR5 lowest, IR6 highest */
	assert_int_equal(inta(), 0x21);
	out(MASTER_CMD, OCW2_ROTATE_NS_EOI);
	assert_int_equal(inta(), 0x23);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 0);
}

static void test_rotate_on_specific_eoi(void **state)
{
	init_pc();
	pulse(6);
	assert_int_equal(inta(), 0x26);
	out(MASTER_CMD, OCW2_ROTATE_S_EOI | 6);
	assert_int_equal(isr(MASTER_CMD), 0x00);
	pulse(0);
	pulse(7);
	assert_int_equal(inta(), 0x27); /* IR7 follows IR6, the lowest */
	out(MASTER_CMD, OCW2_ROTATE_S_EOI | 0); /* IR0 lowest now, IR1 highest */
	assert_int_equal(isr(MASTER_CMD), 0x80);
	eoi(MASTER_CMD);
	pulse(1);
	assert_int_equal(inta(), 0x21);
}

static void test_set_priority(void **state)
{
	init_pc();
	out(MASTER_CMD, OCW2_SET_PRIORITY | 4); /* IR4 lowest: IR5 highest */
	pulse(0);
	pulse(4);
	pulse(5);
	assert_int_equal(inta(), 0x25);
	eoi(MASTER_CMD);
	assert_int_equal(inta(), 0x20);
	eoi(MASTER_CMD);
	assert_int_equal(inta(), 0x24);
	/* A lower-priority level in service does not block a higher one:
	 * IR4 (lowest) in service, IR6 arrives. */
	pulse(6);
	assert_int_equal(inta(), 0x26);
}

static void test_rotate_in_aeoi_mode(void **state)
{
	init_pair(ICW4_UPM | ICW4_AEOI, ICW4_UPM);
	out(MASTER_CMD, OCW2_ROTATE_AEOI_SET);
	pulse(3);
	assert_int_equal(inta(), 0x23); /* IR3 becomes the lowest */
	pulse(3);
	pulse(6);
	pulse(1);
	assert_int_equal(inta(), 0x26); /* IR4 highest: 6 before 1 */
	assert_int_equal(inta(), 0x21); /* IR6 lowest now: 7,0,1 first */
	assert_int_equal(inta(), 0x23);

	out(MASTER_CMD, OCW2_ROTATE_AEOI_CLEAR);
	/* IR3 is lowest (last rotation); acknowledging no longer rotates. */
	pulse(5);
	assert_int_equal(inta(), 0x25);
	pulse(5);
	pulse(6);
	assert_int_equal(inta(), 0x25);
	assert_int_equal(inta(), 0x26);
}

/* ---- OCW3 ---- */

static void test_ocw3_selects_irr_or_isr(void **state)
{
	init_pc();
	pulse(1);
	pulse(7);
	assert_int_equal(inta(), 0x21);
	out(MASTER_CMD, READ_IRR);
	assert_int_equal(in(MASTER_CMD), 0x80);
	assert_int_equal(in(MASTER_CMD), 0x80); /* the selection stays */
	out(MASTER_CMD, READ_ISR);
	assert_int_equal(in(MASTER_CMD), 0x02);
	out(MASTER_CMD, OCW3_SEL);              /* RR = 0: no change */
	assert_int_equal(in(MASTER_CMD), 0x02);
	assert_int_equal(in(MASTER_DATA), 0x00); /* A0 = 1 always reads IMR */
}

static void test_special_mask_mode(void **state)
{
	init_pc();
	pulse(1);
	assert_int_equal(inta(), 0x21);
	pulse(5);
	assert_int_equal(intr(), 0);            /* held off by IR1 in service */

	out(MASTER_CMD, OCW3_SEL | OCW3_ESMM | OCW3_SMM);
	out(MASTER_DATA, 0x02);                 /* mask IR1 */
	assert_int_equal(intr(), 1);            /* a lower level gets through */
	assert_int_equal(inta(), 0x25);
	assert_int_equal(isr(MASTER_CMD), 0x22);
	/* A non-specific EOI passes over the masked in-service IR1. */
	eoi(MASTER_CMD);
	assert_int_equal(isr(MASTER_CMD), 0x02);
	out(MASTER_CMD, OCW2_SPECIFIC_EOI | 1);
	assert_int_equal(isr(MASTER_CMD), 0x00);

	/* Cleared, the in-service level blocks lower ones again, masked or not. */
	pulse(1);
	out(MASTER_DATA, 0x00);
	assert_int_equal(inta(), 0x21);
	out(MASTER_CMD, OCW3_SEL | OCW3_ESMM);
	out(MASTER_DATA, 0x02);
	pulse(5);
	assert_int_equal(intr(), 0);
}

static void test_poll_mode(void **state)
{
	init_pc();
	out(MASTER_CMD, OCW3_SEL | OCW3_POLL);
	assert_int_equal(in(MASTER_CMD), 0x00); /* nothing pending */

	pulse(5);
	pulse(3);
	out(MASTER_CMD, OCW3_SEL | OCW3_POLL);
	assert_int_equal(in(MASTER_CMD), I8259_POLL_INT | 3);
	/* The poll read was the acknowledge. */
	assert_int_equal(isr(MASTER_CMD), 0x08);
	assert_int_equal(irr(MASTER_CMD), 0x20);
	assert_int_equal(intr(), 0);
	/* Reads after the poll are ordinary again. */
	assert_int_equal(in(MASTER_CMD), 0x20);
	eoi(MASTER_CMD);
	out(MASTER_CMD, OCW3_SEL | OCW3_POLL);
	assert_int_equal(in(MASTER_CMD), I8259_POLL_INT | 5);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 0);
}

static void test_poll_through_the_cascade(void **state)
{
	init_pc();
	pulse(11);
	out(MASTER_CMD, OCW3_SEL | OCW3_POLL);
	assert_int_equal(in(MASTER_CMD), I8259_POLL_INT | 2);
	out(SLAVE_CMD, OCW3_SEL | OCW3_POLL);
	assert_int_equal(in(SLAVE_CMD), I8259_POLL_INT | 3);
	assert_int_equal(isr(SLAVE_CMD), 0x08);
	assert_int_equal(isr(MASTER_CMD), 0x04);
}

/* ---- edge and level triggering ---- */

static void test_edge_latches_rising_edge_only(void **state)
{
	init_pc();
	line(4, 1);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x24);
	assert_int_equal(irr(MASTER_CMD), 0x00);
	eoi(MASTER_CMD);
	/* The line is still high: no new edge, no new request. */
	assert_int_equal(intr(), 0);
	line(4, 0);
	assert_int_equal(intr(), 0);
	line(4, 1);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x24);
}

static void test_edge_request_survives_falling_line(void **state)
{
	init_pc();
	out(MASTER_DATA, 0x08);
	pulse(3);
	assert_int_equal(irr(MASTER_CMD), 0x08);
	out(MASTER_DATA, 0x00);
	assert_int_equal(inta(), 0x23);
}

static void test_level_irr_follows_line(void **state)
{
	init_pc();
	out(ELCR1, 1u << 5);
	assert_int_equal(in(ELCR1), 0x20);
	line(5, 1);
	assert_int_equal(irr(MASTER_CMD), 0x20);
	assert_int_equal(intr(), 1);
	line(5, 0);
	assert_int_equal(irr(MASTER_CMD), 0x00);
	assert_int_equal(intr(), 0);

	line(5, 1);
	assert_int_equal(inta(), 0x25);
	assert_int_equal(irr(MASTER_CMD), 0x20); /* the ack does not clear it */
	eoi(MASTER_CMD);
	/* Still high after the EOI: it interrupts again. */
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x25);
	line(5, 0);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 0);
}

static void test_level_slave_line_retriggers_through_cascade(void **state)
{
	init_pc();
	out(ELCR2, 1u << (10 - 8));
	assert_int_equal(in(ELCR2), 0x04);
	line(10, 1);
	assert_int_equal(inta(), 0x2a);
	eoi(SLAVE_CMD);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x2a);
	line(10, 0);
	assert_int_equal(irr(SLAVE_CMD), 0x00);
	eoi(SLAVE_CMD);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 0);
}

static void test_ltim_makes_every_input_level(void **state)
{
	out(MASTER_CMD, ICW1_SEL | ICW1_LTIM | ICW1_IC4);
	out(MASTER_DATA, 0x20);
	out(MASTER_DATA, 0x04);
	out(MASTER_DATA, ICW4_UPM);
	line(6, 1);
	assert_int_equal(inta(), 0x26);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 1);
	line(6, 0);
	assert_int_equal(intr(), 0);
}

static void test_elcr_switch_to_level_with_line_high(void **state)
{
	init_pc();
	line(5, 1);
	assert_int_equal(inta(), 0x25);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 0);
	out(ELCR1, 0x20);
	assert_int_equal(intr(), 1);
	out(ELCR1, 0x00);
	/* Back to edge: the request stays until acknowledged. */
	assert_int_equal(intr(), 1);
}

static void test_elcr_pc_edge_only_bits(void **state)
{
	out(ELCR1, 0xff);
	out(ELCR2, 0xff);
	assert_int_equal(in(ELCR1), 0xf8); /* IRQ 0, 1, 2 */
	assert_int_equal(in(ELCR2), 0xde); /* IRQ 8, 13 */
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 2);
	/* One 16-bit access reaches both. */
	vmm_harness_pio_write(F->h, ELCR1, 2, 0x0020);
	assert_int_equal(vmm_harness_pio_read(F->h, ELCR1, 2), 0x0020);
}

/* ---- cascade ---- */

static void test_slave_line_delivers_slave_vector(void **state)
{
	init_pc();
	pulse(12);
	assert_int_equal(irr(MASTER_CMD), 0x04);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x2c);
	assert_int_equal(isr(MASTER_CMD), 0x04);
	assert_int_equal(isr(SLAVE_CMD), 0x10);
	eoi(SLAVE_CMD);
	eoi(MASTER_CMD);
	assert_int_equal(isr(MASTER_CMD), 0x00);
	assert_int_equal(isr(SLAVE_CMD), 0x00);
}

static void test_cascade_priority_sits_at_ir2(void **state)
{
	init_pc();
	pulse(3);
	pulse(9);
	pulse(1);
	assert_int_equal(inta(), 0x21);
	eoi(MASTER_CMD);
	assert_int_equal(inta(), 0x29);  /* IR2, between IR1 and IR3 */
	eoi(SLAVE_CMD);
	eoi(MASTER_CMD);
	assert_int_equal(inta(), 0x23);
}

static void test_slave_with_two_requests(void **state)
{
	init_pc();
	pulse(13);
	pulse(9);
	assert_int_equal(inta(), 0x29);
	assert_int_equal(intr(), 0);     /* master IR2 in service */
	eoi(SLAVE_CMD);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x2d);
}

static void test_slave_in_aeoi_with_two_requests(void **state)
{
	init_pair(ICW4_UPM | ICW4_AEOI, ICW4_UPM | ICW4_AEOI);
	pulse(13);
	pulse(9);
	assert_int_equal(inta(), 0x29);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x2d);
	assert_int_equal(intr(), 0);
}

static void test_masked_slave_or_cascade(void **state)
{
	init_pc();
	out(SLAVE_DATA, 0x01);
	pulse(8);
	assert_int_equal(intr(), 0);
	assert_int_equal(irr(MASTER_CMD), 0x00);
	out(MASTER_DATA, 0x04);
	out(SLAVE_DATA, 0x00);
	assert_int_equal(irr(MASTER_CMD), 0x04);
	assert_int_equal(intr(), 0);
	out(MASTER_DATA, 0x00);
	assert_int_equal(inta(), 0x28);
}

static void test_special_fully_nested_mode(void **state)
{
	/* Without SFNM a higher slave request waits for the master's EOI... */
	init_pc();
	pulse(12);
	assert_int_equal(inta(), 0x2c);
	pulse(9);
	assert_int_equal(intr(), 0);

	/* ...with it, the master takes it while IR2 is in service. */
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	init_pair(ICW4_UPM | ICW4_SFNM, ICW4_UPM);
	pulse(12);
	assert_int_equal(inta(), 0x2c);
	pulse(9);
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x29);
	/* A lower slave request still waits: the slave holds it. */
	pulse(14);
	assert_int_equal(intr(), 0);
}

static void test_line_2_is_the_cascade(void **state)
{
	init_pc();
	pulse(2);
	assert_int_equal(irr(MASTER_CMD), 0x00);
	assert_int_equal(intr(), 0);
}

/* ---- spurious interrupts ---- */

static void test_spurious_irq7(void **state)
{
	init_pc();
	out(ELCR1, 0x20);
	line(5, 1);
	assert_int_equal(intr(), 1);
	line(5, 0);              /* gone before the CPU acknowledged */
	assert_int_equal(intr(), 0);
	assert_int_equal(inta(), 0x27);
	assert_int_equal(isr(MASTER_CMD), 0x00);
	/* A real IR7 has the same vector but sets ISR. */
	pulse(7);
	assert_int_equal(inta(), 0x27);
	assert_int_equal(isr(MASTER_CMD), 0x80);
}

static void test_spurious_irq15(void **state)
{
	init_pc();
	out(ELCR2, 0x04);
	line(10, 1);
	assert_int_equal(intr(), 1);
	line(10, 0);
	/* Master IR2 latched the slave's request; the slave lost it. */
	assert_int_equal(inta(), 0x2f);
	assert_int_equal(isr(SLAVE_CMD), 0x00);
	assert_int_equal(isr(MASTER_CMD), 0x04);
	eoi(MASTER_CMD);
	assert_int_equal(intr(), 0);
}

/* ---- reset and modes ---- */

static void test_reset(void **state)
{
	init_pc();
	out(ELCR1, 0x20);
	out(MASTER_DATA, 0x80);
	pulse(3);
	assert_int_equal(inta(), 0x23);
	pulse(4);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(intr(), 0);
	assert_int_equal(in(MASTER_DATA), 0x00);
	assert_int_equal(in(ELCR1), 0x00);
	assert_int_equal(irr(MASTER_CMD), 0x00);
	assert_int_equal(isr(MASTER_CMD), 0x00);
}

static void test_state_is_versioned(void **state)
{
	struct i8259_dev_view {
		struct i8259 pic;
	} *d = vmm_harness_device_state(F->dev);

	assert_int_equal(d->pic.s.version, I8259_STATE_VERSION);
}

static void test_kernel_mode_maps_nothing(void **state)
{
	struct vmm_harness *h = vmm_harness_new();
	static const char *const explicit_kernel[] = { "mode=kernel", NULL };
	unsigned long before;

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_KERNEL);
	assert_non_null(vmm_harness_create_device(h, "i8259", "pic", NULL));
	assert_non_null(vmm_harness_create_device(h, "i8259", "pic2", explicit_kernel));
	before = vmm_harness_unclaimed_count(h);
	assert_int_equal(vmm_harness_pio_read(h, MASTER_DATA, 1), 0xff);
	assert_int_equal(vmm_harness_pio_read(h, SLAVE_DATA, 1), 0xff);
	assert_int_equal(vmm_harness_pio_read(h, ELCR1, 1), 0xff);
	assert_int_equal(vmm_harness_unclaimed_count(h), before + 3);
	assert_int_equal(vmm_harness_irq_drive(h, 4, 1), 0);
	assert_int_equal(vmm_harness_cpu_intr(h, BSP), 0);
	assert_int_equal(vmm_harness_cpu_ack(h, BSP), -1);
	assert_int_equal(vmm_harness_log_count(h, VMM_LOG_ERROR), 0);
	vmm_harness_free(h);
}

static void test_explicit_kernel_mode_refused_without_kernel_irqchip(void **state)
{
	static const char *const explicit_kernel[] = { "mode=kernel", NULL };
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	assert_null(vmm_harness_create_device(h, "i8259", "pic", explicit_kernel));
	assert_int_equal(vmm_harness_log_count(h, VMM_LOG_ERROR), 1);
	vmm_harness_set_irq_mode(h, VMM_IRQ_SPLIT);
	assert_null(vmm_harness_create_device(h, "i8259", "pic", explicit_kernel));
	/* Nothing stayed mapped: a default instance still fits. */
	assert_non_null(vmm_harness_create_device(h, "i8259", "pic", NULL));
	vmm_harness_free(h);
}

static void test_explicit_emulated_refused_on_kernel_irqchip(void **state)
{
	static const char *const emulated[] = { "mode=emulated", NULL };
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_KERNEL);
	assert_null(vmm_harness_create_device(h, "i8259", "pic", emulated));
	vmm_harness_free(h);
}

static void test_split_mode_emulates(void **state)
{
	static const char *const emulated[] = { "mode=emulated", NULL };
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_SPLIT);
	assert_non_null(vmm_harness_create_device(h, "i8259", "pic", NULL));
	vmm_harness_pio_write(h, MASTER_CMD, 1, 0x11);
	vmm_harness_pio_write(h, MASTER_DATA, 1, 0x30);
	vmm_harness_pio_write(h, MASTER_DATA, 1, 0x04);
	vmm_harness_pio_write(h, MASTER_DATA, 1, 0x01);
	assert_int_equal(vmm_harness_irq_drive(h, 1, 1), 0);
	assert_int_equal(vmm_harness_cpu_intr(h, BSP), 1);
	assert_int_equal(vmm_harness_cpu_ack(h, BSP), 0x31);
	/* Ports taken: a second emulated instance cannot map them. */
	assert_null(vmm_harness_create_device(h, "i8259", "pic2", emulated));
	vmm_harness_free(h);
}

static void test_only_byte_access(void **state)
{
	init_pc();
	out(MASTER_DATA, 0x5a);
	/* A word read splits into IRR (A0 = 0) and IMR (A0 = 1). */
	assert_int_equal(vmm_harness_pio_read(F->h, MASTER_CMD, 2), 0x5a00);
}

/* ---- saved state (ABI 1.12) ---- */

/* Mid-operation: master priority rotated (IR3 lowest), IR5 in service with
 * IR1 waiting behind it, ELCR making IRQ 10 level with its line high, so
 * the slave requests through the cascade, and OCW3 reading ISR. */
static void pic_mid_operation(void)
{
	init_pc();
	out(MASTER_CMD, OCW2_SET_PRIORITY | 3);
	out(ELCR2, 1u << 2);
	out(SLAVE_DATA, 0x01);		/* mask IRQ 8 */
	pulse(5);
	assert_int_equal(inta(), 0x25);
	pulse(1);
	line(10, 1);
	out(MASTER_CMD, READ_ISR);
	assert_int_equal(intr(), 0);	/* IR5 in service outranks IR1 and IR2 */
}

#define SCRIPT_MAX 32

/* What the guest sees from now on: reads, INTR and vectors, EOI by EOI. */
static size_t pic_script(struct vmm_harness *h, unsigned *v)
{
	size_t n = 0;

	v[n++] = (unsigned)vmm_harness_pio_read(h, MASTER_CMD, 1);	/* ISR */
	v[n++] = (unsigned)vmm_harness_pio_read(h, SLAVE_DATA, 1);	/* IMR */
	v[n++] = (unsigned)vmm_harness_cpu_intr(h, BSP);
	for (int i = 0; i < 3; i++) {
		vmm_harness_pio_write(h, MASTER_CMD, 1, OCW2_NONSPECIFIC_EOI);
		v[n++] = (unsigned)vmm_harness_cpu_intr(h, BSP);
		v[n++] = (unsigned)vmm_harness_cpu_ack(h, BSP);
		vmm_harness_pio_write(h, SLAVE_CMD, 1, OCW2_NONSPECIFIC_EOI);
		v[n++] = (unsigned)vmm_harness_pio_read(h, MASTER_CMD, 1);
	}
	vmm_harness_pio_write(h, MASTER_CMD, 1, READ_IRR);
	v[n++] = (unsigned)vmm_harness_pio_read(h, MASTER_CMD, 1);
	vmm_harness_pio_write(h, SLAVE_CMD, 1, READ_IRR);
	v[n++] = (unsigned)vmm_harness_pio_read(h, SLAVE_CMD, 1);
	return n;
}

/* A fresh i8259 in a new harness at the saved clock, with the lines its
 * devices hold raised again (as their own load() does). */
static struct vmm_harness *pic_restore_target(struct vmm_harness_dev **dev)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_EMULATED);
	vmm_harness_clock_step(h, vmm_harness_clock_ns(F->h));
	*dev = vmm_harness_create_device(h, "i8259", "pic", NULL);
	assert_non_null(*dev);
	return h;
}

static void test_save_load_mid_operation(void **state)
{
	unsigned want[SCRIPT_MAX], got[SCRIPT_MAX];
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, n1, n2;
	void *rec;

	pic_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pic_restore_target(&dev2);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	assert_int_equal(vmm_harness_irq_drive(h2, 10, 1), 0);
	n1 = pic_script(F->h, want);
	n2 = pic_script(h2, got);
	assert_int_equal(n1, n2);
	assert_memory_equal(want, got, n1 * sizeof(want[0]));
	/* and the script saw the state: rotation put IR1 before the cascade */
	assert_int_equal(want[0], 1u << 5);
	assert_int_equal(want[1], 0x01);
	assert_int_equal(want[4], 0x21);
	assert_int_equal(want[7], 0x2a);
	free(rec);
	vmm_harness_free(h2);
}

/* The restored PIC drives INTR again when its saved state requests. */
static void test_load_raises_intr(void **state)
{
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	void *rec;

	init_pc();
	pulse(3);
	assert_int_equal(intr(), 1);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pic_restore_target(&dev2);
	assert_int_equal(vmm_harness_cpu_intr(h2, BSP), 0);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	assert_int_equal(vmm_harness_cpu_intr(h2, BSP), 1);
	assert_int_equal(vmm_harness_cpu_ack(h2, BSP), 0x23);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_corrupt_fields(void **state)
{
	static const struct {
		const char *field;
		uint8_t value;
	} bad[] = {
		{ "master.lowest", 8 },
		{ "slave.init_step", 4 },
		{ "master.poll", 2 },
		{ "master.elcr", 0x01 },	/* IRQ 0 is edge-only */
		{ "slave.elcr", 0x20 },		/* IRQ 13 too */
	};
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	pic_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pic_restore_target(&dev2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = record_field(rec, len, bad[i].field, NULL), keep = *p;

		*p = bad[i].value;
		assert_int_equal(vmm_harness_load(dev2, rec, len), -EINVAL);
		*p = keep;
	}
	/* refused loads left the fresh instance as it was */
	assert_int_equal(vmm_harness_pio_read(h2, MASTER_DATA, 1), 0x00);
	record_hide_field(rec, len, "slave.isr");
	assert_int_equal(vmm_harness_load(dev2, rec, len), -ENOENT);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_unknown_version(void **state)
{
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	pic_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = pic_restore_target(&dev2);
	record_expect_next_version_refused(dev2, rec, len, 1);
	record_version(rec, len)[0] = 0;
	assert_int_equal(vmm_harness_load(dev2, rec, len), -EPROTO);
	free(rec);
	vmm_harness_free(h2);
}

/* In kernel mode the hypervisor's 8259 holds the state: the record says
 * so, and an emulated instance refuses it. */
static void test_kernel_mode_record_has_no_registers(void **state)
{
	struct vmm_harness *hk = vmm_harness_new();
	struct vmm_harness_dev *k;
	size_t len;
	uint8_t *rec;

	vmm_harness_set_irq_mode(hk, VMM_IRQ_KERNEL);
	k = vmm_harness_create_device(hk, "i8259", "pic", NULL);
	assert_non_null(k);
	rec = vmm_harness_save(k, &len);
	assert_non_null(rec);
	assert_int_equal(*record_field(rec, len, "emulated", NULL), 0);
	assert_int_equal(vmm_harness_load(k, rec, len), 0);
	assert_int_equal(vmm_harness_load(F->dev, rec, len), -EINVAL);
	free(rec);
	vmm_harness_free(hk);
}

/* The PIT's OUT 0 through the PIC, both restored in creation order: the
 * PIT raising line 0 again in its load finds the PIC already knowing the
 * line was high (no spurious edge), and the ticks go on at the same times
 * with the same vectors. */
#define PIT_CTRL 0x43
#define PIT_HZ 1193182ULL

static size_t pc_script(struct vmm_harness *h, unsigned *v)
{
	size_t n = 0;

	v[n++] = (unsigned)vmm_harness_cpu_intr(h, BSP);
	vmm_harness_pio_write(h, MASTER_CMD, 1, OCW2_NONSPECIFIC_EOI);	/* the saved tick's */
	for (int i = 0; i < 12; i++) {
		vmm_harness_clock_step(h, 250000);	/* a quarter of the period */
		v[n++] = (unsigned)vmm_harness_cpu_intr(h, BSP);
		if (v[n - 1]) {
			v[n++] = (unsigned)vmm_harness_cpu_ack(h, BSP);
			vmm_harness_pio_write(h, MASTER_CMD, 1, OCW2_NONSPECIFIC_EOI);
		}
	}
	return n;
}

static void test_save_load_with_the_pit(void **state)
{
	struct vmm_harness_dev *pit = vmm_harness_create_device(F->h, "i8254", "pit", NULL);
	struct vmm_harness_dev *pic2, *pit2;
	unsigned want[SCRIPT_MAX], got[SCRIPT_MAX];
	struct vmm_harness *h2;
	size_t len_pic, len_pit, n1, n2;
	void *rec_pic, *rec_pit;

	assert_non_null(pit);
	init_pc();
	/* mode 2 at 1 kHz (1193 input clocks) */
	out(PIT_CTRL, 0x34);
	out(0x40, 1193 & 0xff);
	out(0x40, 1193 >> 8);
	vmm_harness_clock_step(F->h, 1300000);	/* one tick delivered, in service */
	assert_int_equal(intr(), 1);
	assert_int_equal(inta(), 0x20);
	rec_pic = vmm_harness_save(F->dev, &len_pic);
	rec_pit = vmm_harness_save(pit, &len_pit);
	assert_non_null(rec_pic);
	assert_non_null(rec_pit);

	h2 = pic_restore_target(&pic2);
	pit2 = vmm_harness_create_device(h2, "i8254", "pit", NULL);
	assert_non_null(pit2);
	assert_int_equal(vmm_harness_load(pic2, rec_pic, len_pic), 0);
	assert_int_equal(vmm_harness_load(pit2, rec_pit, len_pit), 0);
	assert_int_equal(vmm_harness_irq_level(h2, 0), 1);	/* OUT 0 high again */
	n1 = pc_script(F->h, want);
	n2 = pc_script(h2, got);
	assert_int_equal(n1, n2);
	assert_memory_equal(want, got, n1 * sizeof(want[0]));
	/* IR0 in service at the save; after its EOI one tick per period */
	assert_int_equal(want[0], 0);
	assert_int_equal(n1, 1 + 12 + 3);
	free(rec_pic);
	free(rec_pit);
	vmm_harness_free(h2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_sequence_as_linux_does_it),
		T(test_icw2_low_bits_ignored),
		T(test_single_mode_skips_icw3),
		T(test_icw1_reinitialises),
		T(test_edge_needs_new_rising_edge_after_icw1),
		T(test_ocw_during_init_sequence_is_accepted),
		T(test_mcs80_mode_is_a_guest_error),
		T(test_fixed_priority_among_pending_lines),
		T(test_higher_priority_nests),
		T(test_imr_masks_and_unmasks),
		T(test_nonspecific_eoi_clears_highest_in_service),
		T(test_specific_eoi_clears_named_level),
		T(test_ocw2_nop_changes_nothing),
		T(test_auto_eoi),
		T(test_rotate_on_nonspecific_eoi),
		T(test_rotate_on_specific_eoi),
		T(test_set_priority),
		T(test_rotate_in_aeoi_mode),
		T(test_ocw3_selects_irr_or_isr),
		T(test_special_mask_mode),
		T(test_poll_mode),
		T(test_poll_through_the_cascade),
		T(test_edge_latches_rising_edge_only),
		T(test_edge_request_survives_falling_line),
		T(test_level_irr_follows_line),
		T(test_level_slave_line_retriggers_through_cascade),
		T(test_ltim_makes_every_input_level),
		T(test_elcr_switch_to_level_with_line_high),
		T(test_elcr_pc_edge_only_bits),
		T(test_slave_line_delivers_slave_vector),
		T(test_cascade_priority_sits_at_ir2),
		T(test_slave_with_two_requests),
		T(test_slave_in_aeoi_with_two_requests),
		T(test_masked_slave_or_cascade),
		T(test_special_fully_nested_mode),
		T(test_line_2_is_the_cascade),
		T(test_spurious_irq7),
		T(test_spurious_irq15),
		T(test_reset),
		T(test_state_is_versioned),
		T(test_kernel_mode_maps_nothing),
		T(test_explicit_kernel_mode_refused_without_kernel_irqchip),
		T(test_explicit_emulated_refused_on_kernel_irqchip),
		T(test_split_mode_emulates),
		T(test_only_byte_access),
		T(test_save_load_mid_operation),
		T(test_load_raises_intr),
		T(test_load_refuses_corrupt_fields),
		T(test_load_refuses_unknown_version),
		T(test_kernel_mode_record_has_no_registers),
		T(test_save_load_with_the_pit),
	};

	return cmocka_run_group_tests_name("i8259", tests, NULL, NULL);
}
