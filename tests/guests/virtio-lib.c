/* tests/guests/virtio-lib.c - see virtio-lib.h. */
#include "virtio-lib.h"

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
struct avail { uint16_t flags, idx, ring[VQ_SIZE], used_event; };
struct used_elem { uint32_t id, len; };
struct used { uint16_t flags, idx; struct used_elem ring[VQ_SIZE]; uint16_t avail_event; };

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
