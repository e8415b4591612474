/* tests/guests/pwrbtn.c - acpi-pm's fixed-feature power button from the
 * guest's side (ACPI 6.5 4.8.3.1.1.1, PM1 registers at 0x600), in every
 * irqchip mode; pwrbtn.sh presses it with `vmmctl shutdown`:
 *   1. the SCI (IRQ 9) level-triggered and unmasked: through the IOAPIC
 *      (pin 9, active high, level) when there is a local APIC (split,
 *      kernel), else through the slave 8259 with ELCR bit 9 set (emulated);
 *   2. PM1_CNT reads SCI_EN; PWRBTN_EN set in PM1_EN; "pwrbtn: ready";
 *   3. waits for the interrupt: its handler reads PWRBTN_STS set, writes 1
 *      to clear it, reads it clear, then EOIs ("pwrbtn: PWRBTN_STS set,
 *      cleared");
 *   4. 20 ms of the PM timer with interrupts on, then 20 ms more: the
 *      level-triggered line must have dropped at the clear, so no interrupt
 *      comes in the second window ("pwrbtn: one interrupt, the SCI
 *      dropped").  One that finds PWRBTN_STS clear is spurious: the
 *      software-nested KVM of the split irqchip reports the EOI before the
 *      guest's, so the IOAPIC sends the still-high line once more
 *      (ioapic-level.c, vmm/host.h irq_set); at most one is allowed, in the
 *      first window only, and counted on that line;
 *   5. "PWRBTN-DONE" and S5 through PM1_CNT (SLP_TYP 5 | SLP_EN): vmmctl
 *      exits 0. */
#include "irq-lib.h"

#define PM1_STS		0x600
#define PM1_EN		0x602
#define PM1_CNT		0x604
#define PM_TMR		0x608
#define PWRBTN		(1u << 8)	/* PWRBTN_STS, PWRBTN_EN: tables 4.11, 4.12 */
#define SCI_EN		(1u << 0)
#define SLP_S5		((5u << 10) | (1u << 13))	/* the DSDT's \_S5, SLP_EN */
#define PM_TMR_HZ	3579545u
#define SCI_IRQ		9
#define ELCR2		0x4d1		/* edge/level control of IRQ 8-15 */
#define APIC_VECTOR	0x39

static volatile uint32_t interrupts, served, spurious, bad_status;
static int apic;

/* The OSPM's side of 4.8.3.1.1.1: read the status, clear it (write 1),
 * end the interrupt only then, as a level-triggered SCI needs. */
static void sci_irq(unsigned vector)
{
	(void)vector;
	interrupts++;
	if (inw(PM1_STS) & PWRBTN) {
		served++;
		outw(PM1_STS, PWRBTN);
		if (inw(PM1_STS) & PWRBTN)
			bad_status |= 2;
	} else {
		spurious++;
	}
	if (apic) {
		lapic_write(LAPIC_EOI, 0);
	} else {
		outb(PIC2_CMD, PIC_EOI);
		outb(PIC1_CMD, PIC_EOI);
	}
}

void guest_main(uint32_t start_info)
{
	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	idt_load();
	apic = lapic_present();
	if (apic) {
		unsigned id = apic_mode_init();

		set_handler(APIC_VECTOR, sci_irq);
		ioapic_route_level(SCI_IRQ, APIC_VECTOR, (uint8_t)id, 0);
		uart_puts("pwrbtn: SCI on IOAPIC pin 9, level\n");
	} else {
		set_handler(PIC2_BASE + (SCI_IRQ - 8), sci_irq);
		pic_init(0xff, 0xff);
		outb(ELCR2, (uint8_t)(inb(ELCR2) | 1u << (SCI_IRQ - 8)));
		if (!(inb(ELCR2) & 1u << (SCI_IRQ - 8)))
			fail("pwrbtn: ELCR bit 9 does not stick");
		outb(PIC2_DATA, (uint8_t)~(1u << (SCI_IRQ - 8)));
		outb(PIC1_DATA, 0xfb);	/* IRQ 2: the cascade */
		uart_puts("pwrbtn: SCI on 8259 IRQ 9, level (ELCR)\n");
	}
	if (!(inw(PM1_CNT) & SCI_EN))
		fail("pwrbtn: PM1_CNT.SCI_EN is clear");
	if (inw(PM1_STS) & PWRBTN)
		fail("pwrbtn: PWRBTN_STS set before any press");
	outw(PM1_EN, PWRBTN);
	if (inw(PM1_EN) != PWRBTN)
		fail("pwrbtn: PM1_EN does not hold PWRBTN_EN");
	uart_puts("pwrbtn: ready\n");

	while (!interrupts)
		irq_wait();
	if (!served)
		fail("pwrbtn: interrupt without PWRBTN_STS");
	if (bad_status & 2)
		fail("pwrbtn: PWRBTN_STS still set after writing 1 to it");
	uart_puts("pwrbtn: PWRBTN_STS set, cleared\n");

	/* Twice 20 ms on the PM timer (its 32-bit count wraps harmlessly in
	 * the unsigned difference) with interrupts on. */
	uint32_t before = interrupts;
	for (int window = 0; window < 2; window++) {
		uint32_t t0 = inl(PM_TMR);

		irq_enable();
		while (inl(PM_TMR) - t0 < PM_TMR_HZ / 50)
			;
		irq_disable();
		if (window == 0)
			before = interrupts;
	}
	uart_puts("pwrbtn: ");
	put_dec(interrupts);
	uart_puts(" interrupts, ");
	put_dec(spurious);
	uart_puts(" spurious\n");
	if (served != 1 || spurious > 1 || interrupts != before)
		fail("pwrbtn: the SCI came again after PWRBTN_STS was cleared");
	if (inw(PM1_STS) & PWRBTN)
		fail("pwrbtn: PWRBTN_STS set again without a press");
	uart_puts("pwrbtn: one interrupt, the SCI dropped\n");
	uart_puts("PWRBTN-DONE\n");
	outw(PM1_CNT, SLP_S5);
	fail("pwrbtn: still running after S5");
}
