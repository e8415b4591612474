/* tests/guests/pvh-start.S - PVH entry for the 32-bit test guests.
 *
 * The loader (QEMU -kernel or vmmctl) finds the entry point through the ELF
 * note XEN_ELFNOTE_PHYS32_ENTRY and enters it in 32-bit flat protected mode,
 * paging off, with EBX = physical address of struct hvm_start_info.  The
 * descriptor tables the loader used are unspecified, so load our own GDT
 * (an IDT gate needs a valid code selector), clear .bss, set up a stack and
 * call guest_main(start_info). */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.pvh, "a", @note
	.p2align 2
	.long 2f - 1f			/* namesz */
	.long 4f - 3f			/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY	/* type */
1:	.asciz "Xen"
2:	.p2align 2
3:	.long pvh_start
4:	.p2align 2

	.section .text.entry, "ax"
	.code32
	.globl pvh_start
	.type pvh_start, @function
pvh_start:
	cli
	cld
	movl %ebx, %esi
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $stack_top, %esp
	pushl %esi
	call guest_main
	/* guest_main does not return; if it does, report a failure. */
	movb $0x7f, %al
	outb %al, $0xf4
2:	hlt
	jmp 2b
	.size pvh_start, . - pvh_start

	.section .rodata
	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: code, base 0, 4 GiB, 32-bit */
	.quad 0x00cf93000000ffff	/* 0x10: data, base 0, 4 GiB */
gdt_end:
	.p2align 2
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.p2align 4
stack:
	.skip 4096
stack_top:

	.section .note.GNU-stack, "", @progbits
