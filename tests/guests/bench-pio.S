/* tests/guests/bench-pio.S - port-I/O exit benchmark guest (flat format).
 *
 * vmmctl's flat format loads the file at guest physical 0x8000 and enters
 * it in real mode with CS=DS=ES=SS=0, IP=0x8000, SP=0x8000, interrupts off.
 * The guest writes one byte to port 0x3ff (the 16550 scratch register, a
 * real device register) BENCH_PIO_N times, then writes 0 to the debug-exit
 * port 0xf4.  BENCH_PIO_N is fixed at build time (20000, see local.mk);
 * bench/raw-kvm-pio.c and bench/exit-cost.sh use the same constant. */

#ifndef BENCH_PIO_N
#error BENCH_PIO_N must be defined
#endif

	.code16
	.text
	.globl _start
_start:
	cli
	movw $BENCH_PIO_N, %cx
	movw $0x3ff, %dx
	movb $0x5a, %al
1:	outb %al, %dx
	decw %cx
	jnz 1b
	xorb %al, %al
	outb %al, $0xf4
2:	hlt
	jmp 2b

	.section .note.GNU-stack, "", @progbits
