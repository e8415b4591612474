/* tests/guests/uart-test.c - exercises the 16550 both ways a driver uses it:
 *   1. checks hvm_start_info.magic;
 *   2. polled output (LSR.THRE before each THR write);
 *   3. interrupt-driven output: master 8259 at vector base 0x20 with only
 *      IRQ 4 unmasked, IDT gate 0x24 whose handler feeds THR while IIR says
 *      "THR empty", MCR.OUT2 + IER.ETBEI, then sti/hlt until the handler has
 *      sent the whole message (the local APIC, if enabled, is put in
 *      virtual-wire mode so the 8259's INTR reaches the CPU);
 *   4. prints UART-TEST-DONE and exits through debug-exit with 0x21
 *      (process status 67).  Any failure prints "FAIL: <what>" and exits
 *      with 0x7f. */
#include "guest.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC_EOI		0x20
#define IRQ_BASE	0x20
#define UART_IRQ	4
#define UART_VECTOR	(IRQ_BASE + UART_IRQ)

#define EXIT_OK		0x21
#define EXIT_FAIL	0x7f

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

static const char irq_msg[] = "irq tx ok\n";
#define IRQ_MSG_LEN (sizeof(irq_msg) - 1)

static volatile uint32_t tx_pos;
static volatile uint32_t tx_done;
static volatile uint32_t irq_count;

/* Entry stubs (uart-isr.S) and the C functions they call. */
void isr_uart(void);
void isr_spurious(void);
void isr_unexpected(void);
void uart_irq(void);
void unexpected_vector(void) __attribute__((noreturn));

static __attribute__((noreturn)) void fail(const char *what)
{
	__asm__ volatile("cli");
	outb(COM1 + UART_IER, 0);
	uart_puts("FAIL: ");
	uart_puts(what);
	uart_putc('\n');
	guest_exit(EXIT_FAIL);
}

void unexpected_vector(void)
{
	fail("unexpected exception or interrupt");
}

static void set_gate(unsigned v, void (*handler)(void))
{
	uint32_t a = (uint32_t)handler;

	idt[v].off_lo = (uint16_t)a;
	idt[v].sel = 0x08;		/* code selector of pvh-start.S's GDT */
	idt[v].zero = 0;
	idt[v].type = 0x8e;		/* present, DPL 0, 32-bit interrupt gate */
	idt[v].off_hi = (uint16_t)(a >> 16);
}

/* IRQ 4: serve every pending UART cause; THR-empty sends the next byte. */
void uart_irq(void)
{
	irq_count++;
	for (unsigned guard = 0; guard < 4 * IRQ_MSG_LEN; guard++) {
		uint8_t iir = inb(COM1 + UART_IIR);

		if (iir & 0x01)		/* no interrupt pending */
			break;
		switch (iir & 0x0e) {
		case 0x02:		/* THR empty */
			if (tx_pos < IRQ_MSG_LEN) {
				outb(COM1 + UART_THR, (uint8_t)irq_msg[tx_pos]);
				tx_pos++;
			} else {
				outb(COM1 + UART_IER, 0);
				tx_done = 1;
			}
			break;
		case 0x06:		/* line status */
			(void)inb(COM1 + UART_LSR);
			break;
		case 0x04:		/* received data */
		case 0x0c:		/* character timeout */
			(void)inb(COM1 + UART_RBR);
			break;
		default:		/* modem status */
			(void)inb(COM1 + UART_MSR);
			break;
		}
	}
	outb(PIC1_CMD, PIC_EOI);	/* non-specific EOI */
}

static void pic_init(void)
{
	outb(PIC1_CMD, 0x11);		/* ICW1: edge, cascade, ICW4 follows */
	outb(PIC1_DATA, IRQ_BASE);	/* ICW2: vector base */
	outb(PIC1_DATA, 0x04);		/* ICW3: slave on IRQ 2 */
	outb(PIC1_DATA, 0x01);		/* ICW4: 8086 mode, normal EOI */
	outb(PIC1_DATA, (uint8_t)~(1u << UART_IRQ));	/* OCW1: only IRQ 4 */
}

/* An 8259 interrupt reaches the CPU through the local APIC's LINT0 pin when
 * the APIC is enabled.  KVM resets the BSP's LVT0 to ExtINT, but QEMU
 * microvm leaves it masked with the APIC software-disabled, so do what an OS
 * does for the PIC ("virtual wire" mode): software-enable the APIC and route
 * LINT0 as ExtINT.  With the APIC globally disabled, INTR is wired straight
 * to the 8259 and there is nothing to do. */
#define MSR_APIC_BASE		0x1b
#define APIC_BASE_ENABLE	(1u << 11)
#define APIC_SVR		0xf0
#define APIC_LVT0		0x350

static void lapic_virtual_wire(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
	if (!(lo & APIC_BASE_ENABLE))
		return;
	volatile uint32_t *apic = (volatile uint32_t *)(lo & 0xfffff000u);
	apic[APIC_SVR / 4] = 0x1ff;	/* software enable, spurious vector 0xff */
	apic[APIC_LVT0 / 4] = 0x700;	/* LINT0: ExtINT, unmasked, edge */
}

static void idt_init(void)
{
	struct idt_ptr p;

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, isr_unexpected);
	set_gate(UART_VECTOR, isr_uart);
	set_gate(IRQ_BASE + 7, isr_spurious);
	p.limit = sizeof(idt) - 1;
	p.base = (uint32_t)idt;
	__asm__ volatile("lidt %0" : : "m"(p));
}

void guest_main(uint32_t start_info)
{
	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");

	uart_puts("poll ok\n");

	idt_init();
	pic_init();
	lapic_virtual_wire();
	outb(COM1 + UART_MCR, MCR_OUT2);
	outb(COM1 + UART_IER, IER_ETBEI);
	for (;;) {
		__asm__ volatile("cli" : : : "memory");
		if (tx_done)
			break;
		/* sti's one-instruction shadow makes "sti; hlt" race-free. */
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	outb(COM1 + UART_IER, 0);
	if (tx_pos != IRQ_MSG_LEN)
		fail("irq tx incomplete");
	if (irq_count == 0)
		fail("no uart interrupt");

	uart_puts("UART-TEST-DONE\n");
	guest_exit(EXIT_OK);
}
