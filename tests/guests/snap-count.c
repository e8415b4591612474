/* tests/guests/snap-count.c - a guest to snapshot and restore (issue 14,
 * tests/cli/snapshot.sh): it counts in a loop while the 8254 ticks at
 * ~1 kHz through the 8259 (IRQ 0; a local APIC, where there is one, in
 * virtual-wire mode), and every 100 ticks prints
 *   "snap-count: ticks T count C"
 * (T the timer interrupts so far, C the loop's count).  Both only grow:
 * a restored copy prints values above the last ones printed before its
 * snapshot, never from zero, and never prints "snap-count: start" again.
 * At 5000 ticks it prints "SNAP-COUNT-DONE ticks T count C" and halts
 * with interrupts off (no debug-exit: the test machine's only userspace
 * device is the UART; the test stops vmmctl through its API). */
#include "irq-lib.h"

#define END_TICKS 5000
#define REPORT_EVERY 100

static volatile uint32_t ticks;

static void pit_irq(unsigned vector)
{
	(void)vector;
	ticks++;
	outb(PIC1_CMD, PIC_EOI);
}

static void report(const char *what, uint32_t t, uint32_t count)
{
	uart_puts(what);
	uart_puts(" ticks ");
	put_dec(t);
	uart_puts(" count ");
	put_dec(count);
	uart_puts("\n");
}

void guest_main(uint32_t start_info)
{
	uint32_t count = 0, next = REPORT_EVERY;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	idt_load();
	set_handler(PIC1_BASE + 0, pit_irq);
	pic_init(0xff, 0xff);
	if (lapic_present())
		lapic_enable(1);
	uart_puts("snap-count: start\n");
	pit_start(PIT_1MS);
	outb(PIC1_DATA, 0xfe);		/* OCW1: IRQ 0 only */
	irq_enable();
	for (;;) {
		uint32_t t = ticks;

		count++;
		if (t >= next) {
			report("snap-count:", t, count);
			next = t - t % REPORT_EVERY + REPORT_EVERY;
		}
		if (t >= END_TICKS)
			break;
	}
	irq_disable();
	report("SNAP-COUNT-DONE", ticks, count);
	for (;;)
		__asm__ volatile("hlt");
}
