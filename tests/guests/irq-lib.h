/* tests/guests/irq-lib.h - shared by the interrupt test guests (pit-pic,
 * pit-ioapic, rtc, smp-ipi): output, failure, an IDT whose 256 entry stubs
 * (irq-isr.S) call C handlers, and the PC's 8259, 8254, MC146818 RTC, local
 * APIC and IOAPIC at their fixed addresses.  Guest code is interpreted on
 * this project's hosts (platform.md), so everything stays small. */
#ifndef VMM_TEST_IRQ_LIB_H
#define VMM_TEST_IRQ_LIB_H

#include "guest.h"

#define EXIT_OK		0x21
#define EXIT_FAIL	0x7f

/* 8259A pair. */
#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define PIC_EOI		0x20	/* OCW2: non-specific EOI */
#define PIC1_BASE	0x20	/* vectors 0x20-0x27 */
#define PIC2_BASE	0x28	/* vectors 0x28-0x2f */

/* 8254: channel 0 at 1.193182 MHz; 1193 counts is about 1 ms. */
#define PIT_CH0		0x40
#define PIT_CMD		0x43
#define PIT_1MS		1193

/* MC146818 RTC. */
#define RTC_INDEX	0x70
#define RTC_DATA	0x71
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c

/* Local APIC (xAPIC MMIO; paging is off so physical = linear). */
#define LAPIC_BASE	0xfee00000u
#define LAPIC_ID	0x020
#define LAPIC_VERSION	0x030
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT0	0x350
#define LAPIC_LVT1	0x360
#define IOAPIC_BASE	0xfec00000u

typedef void (*irq_handler_t)(unsigned vector);

/* Output. */
void put_dec(uint32_t v);
void put_hex(uint32_t v);
__attribute__((noreturn)) void fail(const char *what);

/* Loads the IDT (on every CPU); all vectors fail except those with a
 * handler.  Spurious vectors 0x27, 0x2f and 0xff are accepted by
 * default. */
void idt_load(void);
void set_handler(unsigned vector, irq_handler_t h);
/* After idt_load(): vector's gate jumps to `entry` itself, for a stub
 * that handles an exception with an error code (the shared stubs do not). */
void idt_set_entry(unsigned vector, void (*entry)(void));

/* 8259: ICW1-4 (edge, cascade on IRQ 2, bases 0x20/0x28), then the
 * given masks (OCW1). */
void pic_init(uint8_t mask1, uint8_t mask2);
/* 8254 channel 0, mode 2 (rate generator), binary, lo/hi byte. */
void pit_start(uint16_t count);
uint16_t pit_read(void);
/* Waits n periods of channel 0 (running with pit_start), counting the
 * wraps of the latched count. */
void pit_wait_periods(uint32_t n);

uint8_t rtc_read(uint8_t reg);
void rtc_write(uint8_t reg, uint8_t v);

/* Local APIC: present (CPUID.1:EDX.APIC, IA32_APIC_BASE.EN at 0xFEE00000
 * and a version register that answers)? */
int lapic_present(void);
/* Hardware- and software-enable this CPU's local APIC (spurious vector
 * 0xff); LINT0 ExtINT (virtual wire, for the 8259) or masked. */
void lapic_enable(int virtual_wire);
static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}
static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

/* An IPI through the local APIC's ICR to APIC ID dest (ICR low word `low`:
 * 0x4500 INIT, 0x4600 | page start-up), waiting a bounded while for its
 * delivery status (bit 12, send pending) to clear. */
static inline void lapic_icr_send(uint32_t dest, uint32_t low)
{
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, low);
	for (unsigned i = 0; i < 1000 && (lapic_read(LAPIC_ICR_LO) & 0x1000); i++)
		;
}
static inline unsigned lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}
/* An AP's first steps in C (smp-tramp.S calls ap_main): the IDT, its local
 * APIC with LINT0 masked (the 8259 is the BSP's), its APIC ID, and only then
 * the alive flag: the BSP reads the ID as soon as it sees the flag.  Both
 * are volatile, so the compiler keeps the two stores in this order, and x86
 * makes them visible in program order. */
static inline void guest_ap_enter(volatile uint32_t *apic_id, volatile uint32_t *alive)
{
	idt_load();
	lapic_enable(0);
	*apic_id = lapic_id();
	*alive = 1;
}
/* Interrupts through the IOAPIC: both 8259s masked, the local APIC
 * present (else fail) and enabled with LINT0 masked.  Returns this CPU's
 * APIC ID. */
unsigned apic_mode_init(void);

/* IOAPIC redirection entry for `pin`: fixed, physical destination, edge,
 * active high. */
void ioapic_route(unsigned pin, uint8_t vector, uint8_t apic_id, int masked);
/* The same, level-triggered (bit 15), active high: the interrupt ends
 * with the EOI, and comes again while the line is still high. */
void ioapic_route_level(unsigned pin, uint8_t vector, uint8_t apic_id, int masked);
uint32_t ioapic_read(uint8_t reg);
/* One IOAPIC register through IOREGSEL/IOWIN, for guests that build
 * entries themselves (0x10 + 2n: entry n's low dword). */
void ioapic_write(uint8_t reg, uint32_t v);

/* The PVH command line's "name=N" (decimal) or `def`. */
uint32_t cmdline_uint(uint32_t start_info, const char *name, uint32_t def);

static inline void irq_enable(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
/* sti's one-instruction shadow makes "sti; hlt" race-free. */
static inline void irq_wait(void) { __asm__ volatile("sti; hlt; cli" : : : "memory"); }

/* A #GP handler for the IDT (idt_set_entry(13, gp_skip_msr)) in guests
 * that expect refused MSR accesses: drops the error code, counts in
 * gp_count and returns past the 2-byte rdmsr/wrmsr (0f 32, 0f 30). */
extern volatile uint32_t gp_count;
void gp_skip_msr(void);

#endif
