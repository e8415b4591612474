/* tests/guests/virtio-mmio.h - the driver's view of a virtio-mmio device
 * and its split virtqueue (virtio 1.2, 4.2.2 and 2.7), shared by the test
 * guests that drive one (virtio-lib.c, jail-blk.c, mig-pattern.c).  Define VQ_SIZE, the
 * queue size the guest offers, before including. */
#ifndef VMM_GUEST_VIRTIO_MMIO_H
#define VMM_GUEST_VIRTIO_MMIO_H

#include <stdint.h>

#ifndef VQ_SIZE
#error "define VQ_SIZE before including virtio-mmio.h"
#endif

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

static inline uint32_t vmmio_get(uint32_t base, uint32_t off)
{
	return *(volatile uint32_t *)(base + off);
}

static inline void vmmio_set(uint32_t base, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

/* The driver's initialisation (3.1.1) of the device at `base`, which must
 * be device `id`: reset, ACKNOWLEDGE | DRIVER, VIRTIO_F_VERSION_1 alone,
 * FEATURES_OK, queue 0 of VQ_SIZE descriptors at the rings given,
 * DRIVER_OK.  NULL, or what went wrong. */
static inline const char *vmmio_setup(uint32_t base, uint32_t id, const void *descs, const void *avail,
				      const volatile void *used)
{
	if (vmmio_get(base, R_MAGIC) != 0x74726976u || vmmio_get(base, R_VERSION) != 2 ||
	    vmmio_get(base, R_DEVICE_ID) != id)
		return "no such virtio device there";
	vmmio_set(base, R_STATUS, 0);
	vmmio_set(base, R_STATUS, 1 | 2);		/* ACKNOWLEDGE | DRIVER */
	vmmio_set(base, R_DRV_FEAT_SEL, 1);
	vmmio_set(base, R_DRV_FEAT, 1);			/* VIRTIO_F_VERSION_1 (bit 32) only */
	vmmio_set(base, R_DRV_FEAT_SEL, 0);
	vmmio_set(base, R_DRV_FEAT, 0);
	vmmio_set(base, R_STATUS, 1 | 2 | 8);		/* FEATURES_OK */
	if (!(vmmio_get(base, R_STATUS) & 8))
		return "features refused";
	vmmio_set(base, R_QUEUE_SEL, 0);
	vmmio_set(base, R_QUEUE_NUM, VQ_SIZE);
	vmmio_set(base, R_DESC_LO, (uint32_t)descs);
	vmmio_set(base, R_DESC_HI, 0);
	vmmio_set(base, R_AVAIL_LO, (uint32_t)avail);
	vmmio_set(base, R_AVAIL_HI, 0);
	vmmio_set(base, R_USED_LO, (uint32_t)used);
	vmmio_set(base, R_USED_HI, 0);
	vmmio_set(base, R_QUEUE_READY, 1);
	vmmio_set(base, R_STATUS, 1 | 2 | 8 | 4);	/* DRIVER_OK */
	return 0;
}

#endif
