/* tests/guests/guest.h - port I/O and polled 16550 output for the test
 * guests (freestanding, 32-bit, no libc). */
#ifndef VMM_TEST_GUEST_H
#define VMM_TEST_GUEST_H

#include <stdint.h>

#define COM1		0x3f8
#define UART_THR	0	/* transmit holding register (write) */
#define UART_RBR	0	/* receive buffer (read) */
#define UART_IER	1
#define UART_IIR	2	/* interrupt identification (read) */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define LSR_THRE	0x20
#define IER_ETBEI	0x02
#define MCR_OUT2	0x08

#define DEBUG_EXIT_PORT	0xf4

/* hvm_start_info.magic (Xen PVH boot ABI). */
#define HVM_START_MAGIC	0x336ec578u

/* Port I/O of each width: outb/inb, outw/inw, outl/inl. */
#define GUEST_PORT_IO(sfx, type)                                               \
	static inline void out##sfx(uint16_t port, type v)                     \
	{                                                                      \
		__asm__ volatile("out" #sfx " %0, %1" : : "a"(v), "Nd"(port)); \
	}                                                                      \
	static inline type in##sfx(uint16_t port)                              \
	{                                                                      \
		type v;                                                        \
		__asm__ volatile("in" #sfx " %1, %0" : "=a"(v) : "Nd"(port));  \
		return v;                                                      \
	}
GUEST_PORT_IO(b, uint8_t)
GUEST_PORT_IO(w, uint16_t)
GUEST_PORT_IO(l, uint32_t)

static inline void uart_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		;
	outb(COM1 + UART_THR, (uint8_t)c);
}

static inline void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

/* Debug-exit: the VMM (and QEMU's isa-debug-exit) exits with (v << 1) | 1. */
static inline __attribute__((noreturn)) void guest_exit(uint8_t v)
{
	outb(DEBUG_EXIT_PORT, v);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Called from pvh-start.S. */
void guest_main(uint32_t start_info) __attribute__((noreturn));

#endif
