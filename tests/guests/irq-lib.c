/* tests/guests/irq-lib.c - see irq-lib.h. */
#include "irq-lib.h"

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t zero;
	uint8_t type;
	uint16_t off_hi;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(8)));
static irq_handler_t handlers[256];
static int idt_ready;

/* irq-isr.S: 256 stubs, 16 bytes apart, each pushes its vector and calls
 * irq_dispatch(). */
extern char isr_stubs[];
void irq_dispatch(uint32_t vector);

void put_dec(uint32_t v)
{
	char buf[11];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		uart_putc(buf[--i]);
}

void put_hex(uint32_t v)
{
	uart_puts("0x");
	for (int s = 28; s >= 0; s -= 4)
		uart_putc("0123456789abcdef"[(v >> s) & 15]);
}

void fail(const char *what)
{
	irq_disable();
	uart_puts("FAIL: ");
	uart_puts(what);
	uart_putc('\n');
	guest_exit(EXIT_FAIL);
}

static void spurious(unsigned vector)
{
	(void)vector;
}

static void spurious_slave(unsigned vector)
{
	(void)vector;
	outb(PIC1_CMD, PIC_EOI);	/* the master did see IRQ 2 */
}

void irq_dispatch(uint32_t vector)
{
	irq_handler_t h = vector < 256 ? handlers[vector] : 0;

	if (!h) {
		irq_disable();
		uart_puts("FAIL: unexpected vector ");
		put_hex(vector);
		uart_putc('\n');
		guest_exit(EXIT_FAIL);
	}
	h(vector);
}

void set_handler(unsigned vector, irq_handler_t h)
{
	handlers[vector & 255] = h;
}

void idt_set_entry(unsigned vector, void (*entry)(void))
{
	uint32_t a = (uint32_t)entry;

	idt[vector & 255].off_lo = (uint16_t)a;
	idt[vector & 255].off_hi = (uint16_t)(a >> 16);
}

void idt_load(void)
{
	struct idt_ptr p;

	if (!idt_ready) {
		for (unsigned v = 0; v < 256; v++) {
			uint32_t a = (uint32_t)isr_stubs + 16 * v;

			idt[v].off_lo = (uint16_t)a;
			idt[v].sel = 0x08;	/* pvh-start.S's code selector */
			idt[v].zero = 0;
			idt[v].type = 0x8e;	/* present, DPL 0, 32-bit interrupt gate */
			idt[v].off_hi = (uint16_t)(a >> 16);
		}
		set_handler(PIC1_BASE + 7, spurious);
		set_handler(PIC2_BASE + 7, spurious_slave);
		set_handler(0xff, spurious);
		idt_ready = 1;
	}
	p.limit = sizeof(idt) - 1;
	p.base = (uint32_t)idt;
	__asm__ volatile("lidt %0" : : "m"(p));
}

void pic_init(uint8_t mask1, uint8_t mask2)
{
	outb(PIC1_CMD, 0x11);		/* ICW1: edge, cascade, ICW4 follows */
	outb(PIC1_DATA, PIC1_BASE);	/* ICW2 */
	outb(PIC1_DATA, 0x04);		/* ICW3: a slave on IRQ 2 */
	outb(PIC1_DATA, 0x01);		/* ICW4: 8086 mode, normal EOI */
	outb(PIC2_CMD, 0x11);
	outb(PIC2_DATA, PIC2_BASE);
	outb(PIC2_DATA, 0x02);		/* ICW3: slave identity 2 */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, mask1);		/* OCW1 */
	outb(PIC2_DATA, mask2);
}

void pit_start(uint16_t count)
{
	outb(PIT_CMD, 0x34);		/* channel 0, lo/hi byte, mode 2, binary */
	outb(PIT_CH0, (uint8_t)count);
	outb(PIT_CH0, (uint8_t)(count >> 8));
}

uint16_t pit_read(void)
{
	uint8_t lo, hi;

	outb(PIT_CMD, 0x00);		/* counter latch, channel 0 */
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return (uint16_t)(lo | hi << 8);
}

void pit_wait_periods(uint32_t n)
{
	uint16_t prev = pit_read();

	while (n) {
		uint16_t now = pit_read();

		if (now > prev)		/* counted down to 1 and reloaded */
			n--;
		prev = now;
	}
}

uint8_t rtc_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

void rtc_write(uint8_t reg, uint8_t v)
{
	outb(RTC_INDEX, reg);
	outb(RTC_DATA, v);
}

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_ENABLE	(1u << 11)

int lapic_present(void)
{
	uint32_t a, b, c, d, lo, hi;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(d & (1u << 9)))
		return 0;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
	if (!(lo & APIC_BASE_ENABLE) || (lo & 0xfffff000u) != LAPIC_BASE)
		return 0;
	/* Without an in-kernel irqchip KVM still reports CPUID.APIC and an
	 * enabled IA32_APIC_BASE, but nothing answers at 0xFEE00000: insist
	 * on a plausible version register (integrated APIC: 0x10-0x15). */
	a = lapic_read(LAPIC_VERSION) & 0xff;
	return a >= 0x10 && a <= 0x15;
}

void lapic_enable(int virtual_wire)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
	if ((lo & 0xfffff000u) != LAPIC_BASE || !(lo & APIC_BASE_ENABLE)) {
		lo = LAPIC_BASE | APIC_BASE_ENABLE | (lo & 0x100);	/* keep BSP */
		__asm__ volatile("wrmsr" : : "a"(lo), "d"(0), "c"(MSR_APIC_BASE));
	}
	lapic_write(LAPIC_SVR, 0x1ff);	/* software enable, spurious vector 0xff */
	lapic_write(LAPIC_LVT0, virtual_wire ? 0x700 : 0x10000);	/* ExtINT or masked */
}

uint32_t ioapic_read(uint8_t reg)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;		/* IOREGSEL */
	return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);	/* IOWIN */
}

void ioapic_write(uint8_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

unsigned apic_mode_init(void)
{
	pic_init(0xff, 0xff);
	if (!lapic_present())
		fail("no local APIC (CPUID, IA32_APIC_BASE or its version register)");
	lapic_enable(0);
	return lapic_id();
}

static void ioapic_program(unsigned pin, uint8_t vector, uint8_t apic_id, int masked, int level)
{
	/* Mask first so that no half-written entry fires. */
	ioapic_write((uint8_t)(0x10 + 2 * pin), 0x10000);
	ioapic_write((uint8_t)(0x11 + 2 * pin), (uint32_t)apic_id << 24);
	ioapic_write((uint8_t)(0x10 + 2 * pin),
		     vector | (level ? 0x8000u : 0) | (masked ? 0x10000u : 0));
}

void ioapic_route(unsigned pin, uint8_t vector, uint8_t apic_id, int masked)
{
	ioapic_program(pin, vector, apic_id, masked, 0);
}

void ioapic_route_level(unsigned pin, uint8_t vector, uint8_t apic_id, int masked)
{
	ioapic_program(pin, vector, apic_id, masked, 1);
}

uint32_t cmdline_uint(uint32_t start_info, const char *name, uint32_t def)
{
	/* hvm_start_info.cmdline_paddr: a u64 at offset 24. */
	const char *p = (const char *)*(const volatile uint32_t *)(start_info + 24);

	if (!p)
		return def;
	while (*p) {
		const char *n = name, *q = p;

		while (*n && *q == *n) {
			n++;
			q++;
		}
		if (!*n && *q == '=' && q[1] >= '0' && q[1] <= '9') {
			uint32_t v = 0;

			for (q++; *q >= '0' && *q <= '9'; q++)
				v = v * 10 + (uint32_t)(*q - '0');
			return v;
		}
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return def;
}

volatile uint32_t gp_count;

/* gp_skip_msr, the #GP handler that counts here, is in irq-isr.S. */
