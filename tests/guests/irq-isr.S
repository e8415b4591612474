/* tests/guests/irq-isr.S - the 256 interrupt entry stubs of irq-lib.c.
 *
 * Stub v sits at isr_stubs + 16 * v, pushes v and goes to isr_common,
 * which saves the registers and calls irq_dispatch(v).  The return is
 * popfl; ret instead of iret (see uart-isr.S: this host's CPL0 interpreter
 * fails a 32-bit iret), which is enough between handlers and code at the
 * same privilege level.  Exceptions with an error code never return
 * (irq_dispatch fails), so the stubs need not tell them apart. */
	.text
	.code32

	.globl isr_stubs
	.p2align 4
isr_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	pushl $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	pushal
	cld
	pushl 32(%esp)			/* the vector */
	call irq_dispatch
	addl $4, %esp
	popal
	addl $4, %esp			/* drop the vector: EIP, CS, EFLAGS left */
	/* Rewrite EIP, CS, EFLAGS into EFLAGS, EIP; then popfl; ret. */
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

	.section .note.GNU-stack, "", @progbits
