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
 * device is the UART; the test stops vmmctl through its API).
 *
 * With "ap_at=T" on the command line (a machine with a second vCPU), the
 * second vCPU stays in wait-for-SIPI until tick T: then the BSP starts it
 * (INIT, SIPI, SIPI to APIC ID 1 through its local APIC, smp-tramp.S at
 * 0x8000, timed by the ticks), prints "snap-count: AP up, apic id 1" once
 * the AP runs, and at every report after it "snap-count: ap count A", the
 * AP's own loop count (it only grows).  A test that snapshots before tick
 * T checks that the restored process kept the AP waiting (it must not run
 * before the SIPI) with a local APIC that takes the INIT and the SIPI. */
#include "irq-lib.h"

#define END_TICKS 5000
#define REPORT_EVERY 100
#define TRAMP_ADDR 0x8000u
/* Ticks between the INIT and the first SIPI. */
#define AP_INIT_WAIT 10

extern char tramp_start[], tramp_end[];
void ap_main(void) __attribute__((noreturn));

uint32_t ap_stack_top;			/* read by smp-tramp.S */
static uint8_t ap_stack[4096] __attribute__((aligned(16)));
static volatile uint32_t ticks, ap_alive, ap_apic_id, ap_count;

/* The AP: its own local APIC on (LINT0 masked: the 8259's ticks are the
 * BSP's), then it counts. */
void ap_main(void)
{
	guest_ap_enter(&ap_apic_id, &ap_alive);
	for (;;)
		ap_count++;
}

/* The AP's start, a step at a time as the ticks go (the main loop calls
 * it until AP_UP): INIT at ap_at, a SIPI AP_INIT_WAIT ticks later, a
 * second one a tick after that, then the wait for the AP (no bound here:
 * an AP that never starts prints no line, which the test sees). */
enum ap_step { AP_WAIT, AP_INIT_SENT, AP_SIPI_SENT, AP_SIPI2_SENT, AP_UP };

static enum ap_step ap_start_step(enum ap_step step, uint32_t t, uint32_t ap_at, uint32_t *since)
{
	if (step == AP_WAIT) {
		if (t < ap_at)
			return step;
		for (uint32_t i = 0; i < (uint32_t)(tramp_end - tramp_start); i++)
			((volatile char *)TRAMP_ADDR)[i] = tramp_start[i];
		ap_stack_top = (uint32_t)(ap_stack + sizeof(ap_stack));
		lapic_icr_send(1, 0x00004500);		/* INIT, level assert, edge */
		*since = t;
		return AP_INIT_SENT;
	}
	if (ap_alive) {
		uart_puts("snap-count: AP up, apic id ");
		put_dec(ap_apic_id);
		uart_putc('\n');
		if (ap_apic_id != 1)
			fail("snap-count: the AP's APIC ID is not 1");
		return AP_UP;
	}
	if ((step == AP_INIT_SENT && t >= *since + AP_INIT_WAIT) || (step == AP_SIPI_SENT && t > *since)) {
		lapic_icr_send(1, 0x00004600 | (TRAMP_ADDR >> 12));	/* start-up */
		*since = t;
		return step + 1;
	}
	return step;
}

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
	uint32_t count = 0, next = REPORT_EVERY, ap_at, ap_since = 0;
	enum ap_step ap = AP_WAIT;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	ap_at = cmdline_uint(start_info, "ap_at", 0);
	idt_load();
	set_handler(PIC1_BASE + 0, pit_irq);
	pic_init(0xff, 0xff);
	if (lapic_present())
		lapic_enable(1);
	else if (ap_at)
		fail("snap-count: ap_at without a local APIC");
	uart_puts("snap-count: start\n");
	pit_start(PIT_1MS);
	outb(PIC1_DATA, 0xfe);		/* OCW1: IRQ 0 only */
	irq_enable();
	for (;;) {
		uint32_t t = ticks;

		count++;
		if (ap_at && ap != AP_UP)
			ap = ap_start_step(ap, t, ap_at, &ap_since);
		if (t >= next) {
			report("snap-count:", t, count);
			if (ap == AP_UP) {
				uart_puts("snap-count: ap count ");
				put_dec(ap_count);
				uart_putc('\n');
			}
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
