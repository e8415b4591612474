/* tests/guests/pit-pic.c - the 8254 through the 8259, no APIC involved:
 *   1. 8259 pair initialised (ICW1-4, bases 0x20/0x28), 8254 channel 0 in
 *      mode 2 at 1193 counts (~1 kHz), IRQ 0 the only unmasked line;
 *   2. sti/hlt until the handler (non-specific EOI each time) has counted
 *      50 interrupts: "pit-pic: 50 interrupts";
 *   3. IRQ 0 masked in the IMR, interrupts enabled for 2 + 20 PIT periods
 *      (wraps of the latched channel-0 count); none may arrive after the
 *      first 2 (one may already have been on its way): "pit-pic: masked ok";
 *   4. "PIT-PIC-DONE", debug-exit 0x21.  Failures print "FAIL: ..." and
 *      exit with 0x7f.
 * If the CPU has an enabled local APIC (QEMU, the VMM's split and kernel
 * modes) it is put in virtual-wire mode so the 8259's INTR reaches the CPU;
 * in the VMM's emulated mode there is none. */
#include "irq-lib.h"

static volatile uint32_t ticks;

static void pit_irq(unsigned vector)
{
	(void)vector;
	ticks++;
	outb(PIC1_CMD, PIC_EOI);
}

void guest_main(uint32_t start_info)
{
	uint32_t snap;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	idt_load();
	set_handler(PIC1_BASE + 0, pit_irq);
	pic_init(0xff, 0xff);
	if (lapic_present())
		lapic_enable(1);
	pit_start(PIT_1MS);
	outb(PIC1_DATA, 0xfe);		/* OCW1: IRQ 0 only */
	while (ticks < 50)
		irq_wait();
	uart_puts("pit-pic: 50 interrupts\n");

	outb(PIC1_DATA, 0xff);		/* mask IRQ 0 */
	irq_enable();
	pit_wait_periods(2);
	snap = ticks;
	pit_wait_periods(20);
	irq_disable();
	if (ticks != snap)
		fail("pit-pic: interrupt while IRQ 0 was masked");
	uart_puts("pit-pic: masked ok\n");
	uart_puts("PIT-PIC-DONE\n");
	guest_exit(EXIT_OK);
}
