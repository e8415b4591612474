/* tests/guests/park.c - a guest that stays up: one line on COM1 (the marker
 * bench/density.sh waits for), then halts with interrupts off, which
 * vmmctl and QEMU both keep as a sleeping vCPU until they are signalled. */
#include "guest.h"

void guest_main(uint32_t start_info)
{
	(void)start_info;
	uart_puts("parked\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}
