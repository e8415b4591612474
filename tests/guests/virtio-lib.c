/* tests/guests/virtio-lib.c - see virtio-lib.h. */
#include "virtio-lib.h"

#include "virtio-mmio.h"

static struct desc descs[VQ_SIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static volatile struct used used __attribute__((aligned(4096)));
static uint8_t buf[VRNG_REQUEST_LEN] __attribute__((aligned(16)));

const char *vrng_init(void)
{
	if (vmmio_rd(R_MAGIC) != 0x74726976u || vmmio_rd(R_VERSION) != 2 ||
	    vmmio_rd(R_DEVICE_ID) != 4)
		return "no virtio-rng at 0xd0000000";
	vmmio_wr(R_STATUS, 0);
	vmmio_wr(R_STATUS, 1 | 2);		/* ACKNOWLEDGE | DRIVER */
	vmmio_wr(R_DRV_FEAT_SEL, 1);
	vmmio_wr(R_DRV_FEAT, 1);		/* VIRTIO_F_VERSION_1 (bit 32) */
	vmmio_wr(R_DRV_FEAT_SEL, 0);
	vmmio_wr(R_DRV_FEAT, 0);
	vmmio_wr(R_STATUS, 1 | 2 | 8);		/* FEATURES_OK */
	if (!(vmmio_rd(R_STATUS) & 8))
		return "features refused";
	vmmio_wr(R_QUEUE_SEL, 0);
	vmmio_wr(R_QUEUE_NUM, VQ_SIZE);
	vmmio_wr(R_DESC_LO, (uint32_t)descs);
	vmmio_wr(R_DESC_HI, 0);
	vmmio_wr(R_AVAIL_LO, (uint32_t)&avail);
	vmmio_wr(R_AVAIL_HI, 0);
	vmmio_wr(R_USED_LO, (uint32_t)&used);
	vmmio_wr(R_USED_HI, 0);
	vmmio_wr(R_QUEUE_READY, 1);
	vmmio_wr(R_STATUS, 1 | 2 | 8 | 4);	/* DRIVER_OK */
	return 0;
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
