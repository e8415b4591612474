/* tests/guests/triple-fault.c - a guest that shuts its CPU down: an IDT
 * with no entries, then a division by zero.  The divide error's entry lies
 * beyond the IDT's limit, so it raises #GP, whose entry does too, which makes a double
 * fault, whose entry does too: the third fault shuts the CPU down (Intel
 * SDM vol. 3A, 6.15, interrupt 8: a fault while delivering a double fault;
 * AMD APM vol. 2, 8.2.9).  vmmctl must end the machine with its crash
 * status (4) and one line naming the vCPU, never abort. */
#include "guest.h"

void guest_main(uint32_t start_info)
{
	static const struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	(void)start_info;
	uart_puts("triple-fault: an empty IDT, then a division by zero\n");
	/* Not int3 or ud2: KVM may intercept #BP and #UD to emulate them. */
	__asm__ volatile("lidt %0\n\txorl %%ecx, %%ecx\n\tdivl %%ecx" : : "m"(empty_idt) : "eax", "ecx", "edx", "memory");
	uart_puts("triple-fault: FAIL: the CPU went on after the division\n");
	guest_exit(1);
}
