/* tests/guests/jail-blk.c - tests/cli/jail.sh's guest: writes one sector
 * to the virtio-blk disk at 0xd0000000 (virtio 1.2, 5.2: a VIRTIO_BLK_T_OUT
 * request, header, 512 data bytes and a status byte, polled), says so on
 * COM1, then parks (cli; hlt) until vmmctl is stopped, so the host side
 * can look at the jailed process meanwhile. */
#include "guest.h"

#define MMIO		0xd0000000u
#define VQ_SIZE		4

#include "virtio-mmio.h"

static struct desc descs[VQ_SIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static volatile struct used used __attribute__((aligned(4096)));
static struct { uint32_t type, reserved; uint64_t sector; } hdr __attribute__((aligned(16)));
static uint8_t data[512] __attribute__((aligned(512)));
static volatile uint8_t status;

/* The line jail.sh looks for in the disk image afterwards. */
static const char text[] = "written by the jailed guest\n";

static void fail(const char *why)
{
	uart_puts("FAIL: ");
	uart_puts(why);
	uart_puts("\n");
	guest_exit(1);
}

void guest_main(uint32_t start_info)
{
	(void)start_info;
	const char *why = vmmio_setup(MMIO, 2, descs, &avail, &used);
	if (why)
		fail(why);

	for (unsigned i = 0; i < sizeof(text) - 1; i++)
		data[i] = (uint8_t)text[i];
	hdr.type = 1;				/* VIRTIO_BLK_T_OUT */
	hdr.sector = 0;
	status = 0xff;
	descs[0] = (struct desc){ (uint32_t)&hdr, sizeof(hdr), 1, 1 };		/* NEXT */
	descs[1] = (struct desc){ (uint32_t)data, sizeof(data), 1, 2 };		/* NEXT */
	descs[2] = (struct desc){ (uint32_t)&status, 1, 2, 0 };		/* WRITE */
	avail.ring[0] = 0;
	__asm__ volatile("" ::: "memory");
	avail.idx = 1;
	__asm__ volatile("mfence" ::: "memory");
	vmmio_set(MMIO, R_QUEUE_NOTIFY, 0);
	while (used.idx != 1)
		;
	if (status != 0)
		fail("the write's status is not OK");
	uart_puts("jail-blk: written\n");
	uart_puts("jail-blk: parked\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}
