/* tests/guests/smp-ipi.c - two CPUs, local APICs and the IOAPIC (the VMM's
 * split and kernel modes with vcpus = 2):
 *   1. the BSP enables its local APIC, copies smp-tramp.S to 0x8000 and
 *      starts the AP with INIT, SIPI, SIPI (vector 0x08), waiting on the
 *      8254 in between; the AP loads the IDT, enables its local APIC and
 *      reports its APIC ID through ap_alive;
 *   2. IOAPIC pin P (the PIT; "pit_pin=N" on the command line, default 0)
 *      -> vector 0x30 on APIC ID 1, pin 8 (the RTC, periodic at 1024 Hz)
 *      -> vector 0x31 on APIC ID 0; each CPU counts what it receives;
 *   3. once both have more than 20, the pins are masked and the counts
 *      checked (PIT only on cpu1, RTC only on cpu0, both > 10): "smp: cpu0
 *      N interrupts, cpu1 M interrupts", "SMP-DONE", debug-exit 0x21. */
#include "irq-lib.h"

#define PIT_VECTOR	0x30
#define RTC_VECTOR	0x31
#define TRAMP_ADDR	0x8000u

extern char tramp_start[], tramp_end[];
void ap_main(void) __attribute__((noreturn));

uint32_t ap_stack_top;			/* read by smp-tramp.S */
static uint8_t ap_stack[4096] __attribute__((aligned(16)));
static volatile uint32_t ap_alive, ap_apic_id;
static volatile uint32_t pit_on[2], rtc_on[2], other_cpu;

static unsigned cpu_index(void)
{
	unsigned id = lapic_id();

	if (id > 1) {
		other_cpu++;
		return 0;
	}
	return id;
}

static void pit_irq(unsigned vector)
{
	(void)vector;
	pit_on[cpu_index()]++;
	lapic_write(LAPIC_EOI, 0);
}

static void rtc_irq(unsigned vector)
{
	(void)vector;
	(void)rtc_read(RTC_REG_C);
	rtc_on[cpu_index()]++;
	lapic_write(LAPIC_EOI, 0);
}

void ap_main(void)
{
	guest_ap_enter(&ap_apic_id, &ap_alive);
	for (;;)
		irq_wait();
}

void guest_main(uint32_t start_info)
{
	uint32_t pin, regb;
	unsigned bsp;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	pin = cmdline_uint(start_info, "pit_pin", 0);
	if (pin > 23 || pin == 8)
		fail("pit_pin out of range");
	idt_load();
	set_handler(PIT_VECTOR, pit_irq);
	set_handler(RTC_VECTOR, rtc_irq);
	bsp = apic_mode_init();
	if (bsp != 0)
		fail("the BSP's APIC ID is not 0");
	pit_start(PIT_1MS);

	/* INIT-SIPI-SIPI to APIC ID 1. */
	for (uint32_t i = 0; i < (uint32_t)(tramp_end - tramp_start); i++)
		((volatile char *)TRAMP_ADDR)[i] = tramp_start[i];
	ap_stack_top = (uint32_t)(ap_stack + sizeof(ap_stack));
	lapic_icr_send(1, 0x00004500);		/* INIT, level assert, edge */
	pit_wait_periods(10);
	for (int n = 0; n < 2 && !ap_alive; n++) {
		lapic_icr_send(1, 0x00004600 | (TRAMP_ADDR >> 12));	/* start-up */
		pit_wait_periods(1);
	}
	for (int n = 0; n < 500 && !ap_alive; n++)
		pit_wait_periods(1);
	if (!ap_alive)
		fail("smp: the AP did not start");
	uart_puts("smp: cpu1 up, apic id ");
	put_dec(ap_apic_id);
	uart_putc('\n');
	if (ap_apic_id != 1)
		fail("smp: the AP's APIC ID is not 1");

	/* PIT -> cpu1, RTC -> cpu0. */
	/* Unmask the pins before the RTC can tick: a masked pin loses its
	 * edge, and the RTC holds its line high until register C is read, so
	 * an edge lost here would be the last one.  Reading C after enabling
	 * PIE drops the line in case a tick got in between anyway. */
	ioapic_route(pin, PIT_VECTOR, 1, 0);
	ioapic_route(8, RTC_VECTOR, 0, 0);
	regb = rtc_read(RTC_REG_B);
	rtc_write(RTC_REG_A, 0x26);		/* 1024 Hz */
	rtc_write(RTC_REG_B, (uint8_t)(regb | 0x40));
	(void)rtc_read(RTC_REG_C);
	/* The BSP polls the PIT (at most ~2 s) rather than halting, so that
	 * missing interrupts end in a message instead of a hang. */
	irq_enable();
	for (uint32_t n = 0; (pit_on[1] <= 20 || rtc_on[0] <= 20) && n < 2000; n++)
		pit_wait_periods(1);
	irq_disable();
	ioapic_route(pin, PIT_VECTOR, 1, 1);
	ioapic_route(8, RTC_VECTOR, 0, 1);
	rtc_write(RTC_REG_B, (uint8_t)(regb & ~0x40u));

	uart_puts("smp: cpu0 ");
	put_dec(pit_on[0] + rtc_on[0]);
	uart_puts(" interrupts, cpu1 ");
	put_dec(pit_on[1] + rtc_on[1]);
	uart_puts(" interrupts\n");
	uart_puts("smp: pit ");
	put_dec(pit_on[0]);
	uart_putc('/');
	put_dec(pit_on[1]);
	uart_puts(", rtc ");
	put_dec(rtc_on[0]);
	uart_putc('/');
	put_dec(rtc_on[1]);
	uart_putc('\n');
	if (other_cpu)
		fail("smp: an interrupt on an unknown APIC ID");
	if (pit_on[1] <= 10)
		fail("smp: too few PIT interrupts on cpu1");
	if (rtc_on[0] <= 10)
		fail("smp: too few RTC interrupts on cpu0");
	if (pit_on[0] || rtc_on[1])
		fail("smp: an interrupt on the wrong CPU");
	uart_puts("SMP-DONE\n");
	guest_exit(EXIT_OK);
}
