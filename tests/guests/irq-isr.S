/* tests/guests/irq-isr.S - the 256 interrupt entry stubs of irq-lib.c.
 *
 * Stub v sits at isr_stubs + 16 * v, pushes v and goes to isr_common,
 * which saves the registers and calls irq_dispatch(v).  The return is
 * IRET_SAME_CPL (iret-same-cpl.h: no iret on this project's hosts).
 * Exceptions with an error code never return (irq_dispatch fails), so the
 * stubs need not tell them apart; gp_skip_msr below is the one that does. */
#include "iret-same-cpl.h"

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
	IRET_SAME_CPL

/* A #GP handler for the IDT (irq-lib.h): counts the #GP (gp_count, in
 * irq-lib.c) and returns past the 2-byte rdmsr or wrmsr that raised it. */
	.globl gp_skip_msr
gp_skip_msr:
	addl $4, %esp			/* the error code */
	incl gp_count
	addl $2, (%esp)			/* EIP */
	IRET_SAME_CPL

	.section .note.GNU-stack, "", @progbits
