/* tests/guests/virtio-mmio.h - the driver's view of a virtio-mmio device
 * and its split virtqueue (virtio 1.2, 4.2.2 and 2.7), shared by the test
 * guests that drive one (virtio-lib.c, jail-blk.c).  Define VQ_SIZE, the
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

#endif
