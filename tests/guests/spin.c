/* tests/guests/spin.c - runs until it is stopped: a numbered line on COM1,
 * then a short busy wait, forever.  The control API's test pauses it
 * (the lines stop), resumes it (they go on) and stops it. */
#include "guest.h"

static void put_dec(uint32_t v)
{
	char buf[11];
	int i = 0;
	do
		buf[i++] = (char)('0' + v % 10);
	while ((v /= 10) && i < 10);
	while (i)
		uart_putc(buf[--i]);
}

void guest_main(uint32_t start_info)
{
	(void)start_info;
	uart_puts("spin: running\n");
	for (uint32_t n = 0;; n++) {
		uart_puts("tick ");
		put_dec(n);
		uart_putc('\n');
		/* About 15 ms where guest code is interpreted (platform.md). */
		for (volatile uint32_t i = 0; i < 10000; i++)
			;
	}
}
