/* tests/guests/uart-isr.S - interrupt entry stubs for uart-test.
 *
 * On this project's hosts guest CPL0 code is interpreted (platform.md), and
 * the interpreter stops the vCPU with KVM_EXIT_INTERNAL_ERROR (emulation
 * failure) on a 32-bit `iret`, so the stubs return with IRET_SAME_CPL
 * (iret-same-cpl.h).  No locked instructions (xchg with memory) either:
 * those are another thing the interpreter may not do. */
#include "iret-same-cpl.h"

	.text
	.code32

	/* Vector 0x24 (master 8259, IRQ 4): the UART. */
	.globl isr_uart
	.type isr_uart, @function
isr_uart:
	pushal
	cld
	call uart_irq
	popal
	IRET_SAME_CPL
	.size isr_uart, . - isr_uart

	/* Vector 0x27: a spurious IRQ 7 from the master 8259 gets no EOI. */
	.globl isr_spurious
	.type isr_spurious, @function
isr_spurious:
	IRET_SAME_CPL
	.size isr_spurious, . - isr_spurious

	/* Every other vector: an exception or a stray interrupt. */
	.globl isr_unexpected
	.type isr_unexpected, @function
isr_unexpected:
	cli
	cld
	call unexpected_vector
1:	hlt
	jmp 1b
	.size isr_unexpected, . - isr_unexpected

	.section .note.GNU-stack, "", @progbits
