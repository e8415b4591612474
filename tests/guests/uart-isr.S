/* tests/guests/uart-isr.S - interrupt entry stubs for uart-test.
 *
 * On this project's hosts guest CPL0 code is interpreted (platform.md), and
 * the interpreter stops the vCPU with KVM_EXIT_INTERNAL_ERROR (emulation
 * failure) on a 32-bit `iret`.  Returning to the same privilege level needs
 * nothing iret does beyond restoring EFLAGS and EIP, so the stubs do that
 * with popfl; ret.  The frame of a same-CPL interrupt is EIP, CS, EFLAGS.
 * If an interrupt arrives between popfl and ret it nests one more frame on
 * the same stack, which is harmless.  No locked instructions (xchg with
 * memory) either: those are another thing the interpreter may not do. */
	.text
	.code32

	/* Rewrite the frame EIP, CS, EFLAGS into EFLAGS, EIP and return. */
	.macro IRET_SAME_CPL
	pushl %eax
	pushl %ecx
	movl 8(%esp), %eax		/* EIP */
	movl 16(%esp), %ecx		/* EFLAGS */
	movl %eax, 16(%esp)
	movl %ecx, 12(%esp)
	popl %ecx
	popl %eax
	addl $4, %esp
	popfl
	ret
	.endm

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
