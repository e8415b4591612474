/* tests/guests/bz-head.S - start of a "fake Linux" bzImage's protected-mode
 * code, linked at the load address (bz-guest.ld).  The 32-bit entry at
 * offset 0 is not used by vmmctl and just halts; the 64-bit entry of the
 * boot protocol is at offset 0x200, entered in long mode with RSI holding
 * the zero page.  It takes a stack of its own and calls bz_main(zero page). */
	.section .head.text, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
1:	hlt
	jmp 1b

	.code64
	.org 0x200
	.globl startup_64
startup_64:
	lea bz_stack_top(%rip), %rsp
	mov %rsi, %rdi
	call bz_main
2:	hlt
	jmp 2b

	.section .bss
	.balign 16
bz_stack:
	.skip 4096
bz_stack_top:

	.section .note.GNU-stack, "", @progbits
