/* tests/guests/hello.c - the smallest PVH guest: one line on COM1, then
 * debug-exit with 0. */
#include "guest.h"

void guest_main(uint32_t start_info)
{
	(void)start_info;
	uart_puts("Hello from a vmm guest\n");
	guest_exit(0);
}
