/* tests/guests/iret-same-cpl.h - IRET_SAME_CPL, the return from an
 * interrupt or exception handler at the CPL it interrupted, for the
 * guests' .S files (#include, then the macro where iret would be).
 *
 * Why not iret: on this project's hosts guest CPL0 code is interpreted
 * (platform.md), and the interpreter stops the vCPU with
 * KVM_EXIT_INTERNAL_ERROR on a 32-bit iret.  A same-CPL return needs only
 * EFLAGS and EIP back: the frame EIP, CS, EFLAGS is rewritten into
 * EFLAGS, EIP for popfl; ret.
 *
 * Why the sti: popfl with IF set would let the next interrupt in before
 * ret, while the return EIP is still on the stack.  One such nesting is
 * harmless, but interrupts that come back to back (KVM's PIT re-injecting
 * the ticks a loaded host missed, 10,000 a second in msr-gp-irq) are each
 * taken at that ret, 4 bytes deeper every time, until the stack overflows
 * and the guest triple-faults: seen on the nested test host beside two
 * busy loops (vCPU 0 shut down delivering vector 0x20 at the ret, its
 * previous exits all interrupt windows at that ret).  So EFLAGS is loaded
 * with IF clear, and when the interrupted code had IF set, sti sets it
 * again: its interrupt shadow holds the next interrupt until ret is done
 * (Intel SDM vol. 2, STI).  btr, mov, pop and lea leave CF, the old IF,
 * for the jc. */
	.macro IRET_SAME_CPL
	pushl %eax
	pushl %ecx
	movl 8(%esp), %eax		/* EIP */
	movl 16(%esp), %ecx		/* EFLAGS */
	movl %eax, 16(%esp)
	btrl $9, %ecx			/* CF = IF; IF cleared in the copy */
	movl %ecx, 12(%esp)
	popl %ecx
	popl %eax
	leal 4(%esp), %esp		/* EFLAGS, EIP left */
	jc 1f
	popfl
	ret
1:	popfl
	sti
	ret
	.endm
