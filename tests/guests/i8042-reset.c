/* tests/guests/i8042-reset.c - asks the i8042 keyboard controller to reset
 * the machine (command 0xFE: pulse output port bit 0, the CPU reset line)
 * and expects the VMM to end the VM before it gets far; if it is still
 * running after a while (~0.5 s here, much less on hardware) it prints
 * "FAIL: no reset" and exits 0x7f. */
#include "guest.h"

void guest_main(uint32_t start_info)
{
	(void)start_info;
	uart_puts("i8042: resetting\n");
	/* The controller takes a command once its input buffer is empty. */
	for (unsigned i = 0; i < 1000 && (inb(0x64) & 0x02); i++)
		;
	outb(0x64, 0xfe);
	for (volatile uint32_t i = 0; i < 300000; i++)
		;
	uart_puts("FAIL: no reset\n");
	guest_exit(0x7f);
}
