/* tests/guests/virtio-notify.c - drives the virtio-rng device of
 * virtio-notify.conf (virtio-mmio at 0xd0000000) by polling, without
 * interrupts: VIRTIO_REQUESTS requests of 16 bytes, each notified with a
 * QueueNotify write of 0 and waited for on the used ring.  With an
 * ioeventfd those writes never exit to the VMM (virtio-notify.sh checks
 * the MMIO exit count); without one they are MMIO exits.  Either way every
 * request completes. */
#include "guest.h"

#define VIRTIO_REQUESTS	200
#define QSIZE		8
#define MMIO		0xd0000000u

#define R_MAGIC		0x000
#define R_VERSION	0x004
#define R_DEVICE_ID	0x008
#define R_DRV_FEAT	0x020
#define R_DRV_FEAT_SEL	0x024
#define R_QUEUE_SEL	0x030
#define R_QUEUE_NUM	0x038
#define R_QUEUE_READY	0x044
#define R_QUEUE_NOTIFY	0x050
#define R_STATUS	0x070
#define R_DESC_LO	0x080
#define R_DESC_HI	0x084
#define R_AVAIL_LO	0x090
#define R_AVAIL_HI	0x094
#define R_USED_LO	0x0a0
#define R_USED_HI	0x0a4

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used_elem { uint32_t id, len; };
struct used { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };

static struct desc descs[QSIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static volatile struct used used __attribute__((aligned(4096)));
static uint8_t buf[16] __attribute__((aligned(16)));

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(MMIO + off);
}

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(MMIO + off) = v;
}

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
	(void)start_info;
	if (rd(R_MAGIC) != 0x74726976u || rd(R_VERSION) != 2 || rd(R_DEVICE_ID) != 4)
		fail("no virtio-rng at 0xd0000000");
	wr(R_STATUS, 0);
	wr(R_STATUS, 1 | 2);			/* ACKNOWLEDGE | DRIVER */
	wr(R_DRV_FEAT_SEL, 1);
	wr(R_DRV_FEAT, 1);			/* VIRTIO_F_VERSION_1 (bit 32) */
	wr(R_DRV_FEAT_SEL, 0);
	wr(R_DRV_FEAT, 0);
	wr(R_STATUS, 1 | 2 | 8);		/* FEATURES_OK */
	if (!(rd(R_STATUS) & 8))
		fail("features refused");
	wr(R_QUEUE_SEL, 0);
	wr(R_QUEUE_NUM, QSIZE);
	wr(R_DESC_LO, (uint32_t)descs);
	wr(R_DESC_HI, 0);
	wr(R_AVAIL_LO, (uint32_t)&avail);
	wr(R_AVAIL_HI, 0);
	wr(R_USED_LO, (uint32_t)&used);
	wr(R_USED_HI, 0);
	wr(R_QUEUE_READY, 1);
	wr(R_STATUS, 1 | 2 | 8 | 4);		/* DRIVER_OK */

	for (uint32_t i = 0; i < VIRTIO_REQUESTS; i++) {
		uint32_t spins = 0;

		descs[0].addr = (uint32_t)buf;
		descs[0].len = sizeof(buf);
		descs[0].flags = 2;		/* VIRTQ_DESC_F_WRITE */
		avail.ring[avail.idx % QSIZE] = 0;
		__asm__ volatile("" ::: "memory");
		avail.idx++;
		__asm__ volatile("mfence" ::: "memory");
		wr(R_QUEUE_NOTIFY, 0);
		/* The notification may be served on the VMM's main loop, after
		 * the write returned: wait for it. */
		while (used.idx != (uint16_t)(i + 1)) {
			if (++spins == 200000000u)
				fail("request not completed");
			__asm__ volatile("pause" ::: "memory");
		}
		if (used.ring[i % QSIZE].len != sizeof(buf))
			fail("short request");
	}
	uart_puts("virtio-notify: ");
	put_dec(VIRTIO_REQUESTS);
	uart_puts(" requests\n");
	uart_puts("VIRTIO-NOTIFY-DONE\n");
	guest_exit(0x21);
}
