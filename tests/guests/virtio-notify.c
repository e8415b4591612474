/* tests/guests/virtio-notify.c - drives the virtio-rng device of
 * virtio-notify.conf (virtio-mmio at 0xd0000000) by polling, without
 * interrupts: VIRTIO_REQUESTS requests of 16 bytes, each notified with a
 * QueueNotify write of 0 and waited for on the used ring.  With an
 * ioeventfd those writes never exit to the VMM (virtio-notify.sh checks
 * the MMIO exit count); without one they are MMIO exits.  Either way every
 * request completes. */
#include "virtio-lib.h"

#define VIRTIO_REQUESTS	200

static void fail(const char *why)
{
	uart_puts("FAIL: virtio-notify: ");
	uart_puts(why);
	uart_puts("\n");
	guest_exit(1);
}

static void put_dec(uint32_t v)
{
	char s[11];
	int i = 10;

	s[i] = 0;
	do {
		s[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	uart_puts(&s[i]);
}

void guest_main(uint32_t start_info)
{
	const char *err;

	(void)start_info;
	err = vrng_init();
	if (err)
		fail(err);

	for (uint32_t i = 0; i < VIRTIO_REQUESTS; i++) {
		uint32_t spins = 0;

		vrng_post(i);
		/* The notification may be served on the VMM's main loop, after
		 * the write returned: wait for it. */
		while (vrng_used_idx() != (uint16_t)(i + 1)) {
			if (++spins == 200000000u)
				fail("request not completed");
			__asm__ volatile("pause" ::: "memory");
		}
		if (vrng_used_len(i) != VRNG_REQUEST_LEN)
			fail("short request");
	}
	uart_puts("virtio-notify: ");
	put_dec(VIRTIO_REQUESTS);
	uart_puts(" requests\n");
	uart_puts("VIRTIO-NOTIFY-DONE\n");
	guest_exit(0x21);
}
