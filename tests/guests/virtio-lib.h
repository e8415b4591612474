/* tests/guests/virtio-lib.h - the driver side of a virtio-rng on
 * virtio-mmio at VIRTIO_MMIO (virtio 1.2, 4.2.2 and 5.4), shared by the
 * virtio test guests: feature negotiation (VIRTIO_F_VERSION_1 only), one
 * queue of VQ_SIZE descriptors, and 16-byte requests posted one at a time
 * in descriptor 0.  Guest code is interpreted on this project's hosts
 * (platform.md), so this stays minimal. */
#ifndef VMM_TEST_VIRTIO_LIB_H
#define VMM_TEST_VIRTIO_LIB_H

#include "guest.h"

#define VIRTIO_MMIO		0xd0000000u
#define VQ_SIZE			8
#define VRNG_REQUEST_LEN	16

#define R_INT_STATUS	0x060
#define R_INT_ACK	0x064
#define INT_VRING	1u

static inline uint32_t vmmio_rd(uint32_t off)
{
	return *(volatile uint32_t *)(VIRTIO_MMIO + off);
}

static inline void vmmio_wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(VIRTIO_MMIO + off) = v;
}

/* Resets the device, negotiates and sets queue 0 up (DRIVER_OK): NULL, or
 * what went wrong. */
const char *vrng_init(void);
/* Posts request `n` (0, 1, 2...) and writes QueueNotify. */
void vrng_post(uint32_t n);
/* The used ring's index, and the length the device wrote for request n. */
uint16_t vrng_used_idx(void);
uint32_t vrng_used_len(uint32_t n);

#endif
