/* tests/guests/irq-bench.c - interrupt delivery benchmark guest.
 *
 * N UART "THR empty" interrupts through the master 8259 (IRQ 4, vector
 * 0x24), one per interrupt: the handler reads IIR, writes one byte to THR
 * (which empties at once and raises the line again) and sends an EOI, so
 * every byte is one interrupt delivered through whichever 8259 the machine
 * has (a plugin in emulated and split modes, KVM's in kernel mode).
 * N comes from the PVH command line ("n=2000"; default 1000).  Prints
 * "irq-bench: N interrupts" and "IRQ-BENCH-DONE", exits with 0x21. */
#include "guest.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_DATA	0xa1
#define IRQ_BASE	0x20
#define UART_VECTOR	(IRQ_BASE + 4)
#define EXIT_OK		0x21
#define EXIT_FAIL	0x7f

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(8)));
static volatile uint32_t count, target;

void isr_uart(void);
void isr_spurious(void);
void isr_unexpected(void);
void uart_irq(void);
void unexpected_vector(void) __attribute__((noreturn));

void unexpected_vector(void)
{
	outb(COM1 + UART_IER, 0);
	uart_puts("FAIL: unexpected exception or interrupt\n");
	guest_exit(EXIT_FAIL);
}

/* One cause, one byte, one EOI: the next byte is the next interrupt. */
void uart_irq(void)
{
	if ((inb(COM1 + UART_IIR) & 0x0f) == 0x02) {
		if (++count < target)
			outb(COM1 + UART_THR, '.');
		else
			outb(COM1 + UART_IER, 0);
	}
	outb(PIC1_CMD, 0x20);
}

static void set_gate(unsigned v, void (*handler)(void))
{
	uint32_t a = (uint32_t)handler;

	idt[v] = (struct idt_gate){ (uint16_t)a, 0x08, 0, 0x8e, (uint16_t)(a >> 16) };
}

static uint32_t cmdline_n(uint32_t start_info)
{
	/* hvm_start_info.cmdline_paddr (u64) is at offset 24 */
	const char *s = (const char *)*(const volatile uint32_t *)(start_info + 24);
	uint32_t n = 0;

	for (; s && *s; s++)
		if (s[0] == 'n' && s[1] == '=') {
			for (s += 2; *s >= '0' && *s <= '9'; s++)
				n = n * 10 + (uint32_t)(*s - '0');
			break;
		}
	return n ? n : 1000;
}

static void put_u32(uint32_t v)
{
	char buf[12];
	int i = 0;

	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		uart_putc(buf[--i]);
}

void guest_main(uint32_t start_info)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) p = { sizeof(idt) - 1, (uint32_t)idt };

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		unexpected_vector();
	target = cmdline_n(start_info);
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, isr_unexpected);
	set_gate(UART_VECTOR, isr_uart);
	set_gate(IRQ_BASE + 7, isr_spurious);
	__asm__ volatile("lidt %0" : : "m"(p));

	outb(PIC1_CMD, 0x11);		/* ICW1 */
	outb(PIC1_DATA, IRQ_BASE);	/* ICW2 */
	outb(PIC1_DATA, 0x04);		/* ICW3 */
	outb(PIC1_DATA, 0x01);		/* ICW4 */
	outb(PIC1_DATA, 0xef);		/* only IRQ 4 */
	outb(PIC2_DATA, 0xff);

	outb(COM1 + UART_MCR, MCR_OUT2);
	outb(COM1 + UART_IER, IER_ETBEI);	/* THR is empty: the first interrupt now */
	for (;;) {
		__asm__ volatile("cli" : : : "memory");
		if (count >= target)
			break;
		__asm__ volatile("sti; hlt" : : : "memory");
	}
	uart_puts("\nirq-bench: ");
	put_u32(count);
	uart_puts(" interrupts\nIRQ-BENCH-DONE\n");
	guest_exit(EXIT_OK);
}
