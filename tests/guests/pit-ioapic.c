/* tests/guests/pit-ioapic.c - the 8254 through the IOAPIC and the local
 * APIC (the VMM's split and kernel modes):
 *   1. local APIC enabled (LINT0 masked), both 8259s initialised and fully
 *      masked, 8254 channel 0 mode 2 at ~1 kHz;
 *   2. IOAPIC pin P -> vector 0x30, fixed, physical destination = this
 *      CPU's APIC ID, edge, active high, unmasked.  P is "pit_pin=N" from
 *      the PVH command line, default 0 (the VMM wires ISA line n to pin n;
 *      QEMU's pc and microvm machines route the PIT to pin 2);
 *   3. 50 interrupts, EOI to the local APIC each time: "pit-ioapic: 50
 *      interrupts"; pin masked, none after 2 + 20 PIT periods: "pit-ioapic:
 *      masked ok"; "PIT-IOAPIC-DONE", debug-exit 0x21. */
#include "irq-lib.h"

#define PIT_VECTOR	0x30

static volatile uint32_t ticks;

static void pit_irq(unsigned vector)
{
	(void)vector;
	ticks++;
	lapic_write(LAPIC_EOI, 0);
}

void guest_main(uint32_t start_info)
{
	uint32_t pin, snap;
	unsigned id;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	pin = cmdline_uint(start_info, "pit_pin", 0);
	if (pin > 23)
		fail("pit_pin out of range");
	idt_load();
	set_handler(PIT_VECTOR, pit_irq);
	id = apic_mode_init();
	uart_puts("pit-ioapic: pin ");
	put_dec(pin);
	uart_puts(", apic id ");
	put_dec(id);
	uart_puts(", ioapic version ");
	put_hex(ioapic_read(0x01));
	uart_putc('\n');
	pit_start(PIT_1MS);
	ioapic_route(pin, PIT_VECTOR, (uint8_t)id, 0);
	while (ticks < 50)
		irq_wait();
	uart_puts("pit-ioapic: 50 interrupts\n");

	ioapic_route(pin, PIT_VECTOR, (uint8_t)id, 1);
	irq_enable();
	pit_wait_periods(2);
	snap = ticks;
	pit_wait_periods(20);
	irq_disable();
	if (ticks != snap)
		fail("pit-ioapic: interrupt while the IOAPIC pin was masked");
	uart_puts("pit-ioapic: masked ok\n");
	uart_puts("PIT-IOAPIC-DONE\n");
	guest_exit(EXIT_OK);
}
