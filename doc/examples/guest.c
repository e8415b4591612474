/* SPDX-License-Identifier: MIT */
/*
 * guest.c - a tiny PVH guest that uses the ticker device: it starts a 1 ms
 * tick, waits for three (polling STATUS and clearing it), checks COUNT, and
 * ends the run through the debug-exit port with 21, so vmmctl's status is
 * (21 << 1) | 1 = 43.  Any other status says which step failed.
 *
 * Built freestanding, 32-bit, and linked by guest.ld at 1 MiB so that the
 * PVH entry note and everything else land in one segment in RAM (see
 * vmm-plugin(7), WRITING A TEST GUEST).  pvh-start.S enters guest_main().
 */
#include <stdint.h>

#define TICKER 0x520
#define DEBUG_EXIT 0xf4

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static __attribute__((noreturn)) void guest_exit(uint8_t v)
{
	outb(DEBUG_EXIT, v);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_main(uint32_t start_info);

void guest_main(uint32_t start_info)
{
	(void)start_info;
	if (inb(TICKER + 3) != 0)
		guest_exit(1); /* COUNT is 0 after reset */
	outb(TICKER + 1, 1);  /* PERIOD: 1 ms */
	outb(TICKER + 0, 1);  /* CTRL: run */
	for (int seen = 0; seen < 3;) {
		if (inb(TICKER + 2) & 1) {
			outb(TICKER + 2, 1); /* clear STATUS */
			seen++;
		}
	}
	outb(TICKER + 0, 0);
	if (inb(TICKER + 3) < 3)
		guest_exit(2);
	guest_exit(21);
}
