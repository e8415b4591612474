/* tests/guests/msr-gp-irq.c - timer interrupts that meet refused MSR
 * accesses.  The 8254 runs fast (IRQ 0 about every 100 us) while the guest,
 * interrupts enabled, reads an MSR nobody claims MSR_GP_READS times: each
 * read is an MSR exit the core refuses, so the next run delivers a #GP
 * (the stub below skips the 2-byte rdmsr).  Sooner or later the 8259
 * raises INTR while such an exit is being handled.  In irqchip = emulated
 * the VMM injects the vector itself, and KVM (6.1) dropped one injected
 * just before that #GP: the 8259 kept IRQ 0 in service for ever and the
 * timer stopped (Linux hung at its first idle HLT).  So: every read must
 * fault once, and after them the timer must still interrupt:
 *   "msr-gp-irq: N #GPs, timer still running", "MSR-GP-IRQ-DONE", exit 0x21.
 * In split and kernel mode the local APIC (virtual wire) is KVM's. */
#include "irq-lib.h"

#define MSR_GP_READS	3000
#define MSR_NOBODY	0x1234	/* neither KVM nor a device claims it */
#define PIT_FAST	120	/* ~100 us */

static volatile uint32_t ticks;

static void pit_irq(unsigned vector)
{
	(void)vector;
	ticks++;
	outb(PIC1_CMD, PIC_EOI);
}

void guest_main(uint32_t start_info)
{
	uint32_t snap, lo, hi;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	idt_load();
	set_handler(PIC1_BASE + 0, pit_irq);
	idt_set_entry(13, gp_skip_msr);
	pic_init(0xff, 0xff);
	if (lapic_present())
		lapic_enable(1);
	pit_start(PIT_FAST);
	outb(PIC1_DATA, 0xfe);		/* OCW1: IRQ 0 only */
	irq_enable();
	for (uint32_t i = 0; i < MSR_GP_READS; i++)
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_NOBODY) : "memory");
	irq_disable();
	if (gp_count != MSR_GP_READS) {
		uart_puts("msr-gp-irq: #GPs ");
		put_dec(gp_count);
		uart_putc('\n');
		fail("msr-gp-irq: not one #GP per refused rdmsr");
	}
	/* A lost vector leaves IRQ 0 in service: no tick ever again.  A
	 * healthy timer ticks within a period or two, but the VMM's main
	 * thread may be descheduled on a loaded host: wait 1000 periods. */
	snap = ticks;
	irq_enable();
	pit_wait_periods(1000);
	irq_disable();
	if (ticks == snap)
		fail("msr-gp-irq: no timer interrupt any more: one was lost next to a #GP");
	uart_puts("msr-gp-irq: ");
	put_dec(gp_count);
	uart_puts(" #GPs, timer still running\n");
	uart_puts("MSR-GP-IRQ-DONE\n");
	guest_exit(EXIT_OK);
}
