/* tests/guests/virtio-lib.c - see virtio-lib.h. */
#include "virtio-lib.h"

#include "virtio-mmio.h"

static struct desc descs[VQ_SIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static volatile struct used used __attribute__((aligned(4096)));
static uint8_t buf[VRNG_REQUEST_LEN] __attribute__((aligned(16)));

const char *vrng_init(void)
{
	return vmmio_setup(VIRTIO_MMIO, 4, descs, &avail, &used);
}

void vrng_post(uint32_t n)
{
	descs[0].addr = (uint32_t)buf;
	descs[0].len = sizeof(buf);
	descs[0].flags = 2;			/* VIRTQ_DESC_F_WRITE */
	avail.ring[n % VQ_SIZE] = 0;
	__asm__ volatile("" ::: "memory");
	avail.idx = (uint16_t)(n + 1);
	__asm__ volatile("mfence" ::: "memory");
	vmmio_wr(R_QUEUE_NOTIFY, 0);
}

uint16_t vrng_used_idx(void)
{
	return used.idx;
}

uint32_t vrng_used_len(uint32_t n)
{
	return used.ring[n % VQ_SIZE].len;
}
