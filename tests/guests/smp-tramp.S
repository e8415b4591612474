/* tests/guests/smp-tramp.S - the application processor's way in.
 *
 * smp-ipi.c copies tramp_start..tramp_end to 0x8000 and sends SIPI vector
 * 0x08, so the AP starts here in real mode with CS = 0x0800, IP = 0.  The
 * code only uses offsets from tramp_start (CS-relative) until it loads a
 * GDT (an absolute one, in the image at 1 MiB), sets CR0.PE and far-jumps
 * with a 32-bit offset to ap_pm32, which takes the stack smp-ipi.c put in
 * ap_stack_top and calls ap_main(). */
	.text
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdtr - tramp_start
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $ap_pm32
	.p2align 2
	.word 0
tramp_gdtr:
	.word ap_gdt_end - ap_gdt - 1
	.long ap_gdt
tramp_end:

	.code32
ap_pm32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl ap_stack_top, %esp
	call ap_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
	.p2align 3
ap_gdt:					/* the same layout as pvh-start.S's */
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: code, base 0, 4 GiB, 32-bit */
	.quad 0x00cf93000000ffff	/* 0x10: data, base 0, 4 GiB */
ap_gdt_end:

	.section .note.GNU-stack, "", @progbits
