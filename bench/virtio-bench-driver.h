/* SPDX-License-Identifier: MIT */
/*
 * bench/virtio-bench-driver.h - the guest-driver side the virtio benchmarks
 * share: one device at BASE in harness RAM, one split queue at fixed
 * addresses, descriptor chains always starting at descriptor 0, and a
 * request posted, notified and reaped one at a time (queue depth 1).
 * Each benchmark program includes it once.
 */
#ifndef VMM_BENCH_VIRTIO_DRIVER_H
#define VMM_BENCH_VIRTIO_DRIVER_H

#include <stdint.h>
#include <time.h>
#include <vmm/harness.h>
#include "devices/virtio/virtio-mmio.h"

#define BASE 0xd0000000ull
#define RAM (4u << 20)
#define QSIZE 256
#define DESC_GPA 0x10000ull
#define AVAIL_GPA 0x11000ull
#define USED_GPA 0x12000ull

static struct vmm_harness *H;
static uint8_t *RAMP;
static uint16_t avail_idx, used_seen;

static void vw(uint32_t off, uint32_t v)
{
	vmm_harness_mmio_write(H, BASE + off, 4, v);
}

static uint32_t vr(uint32_t off)
{
	return (uint32_t)vmm_harness_mmio_read(H, BASE + off, 4);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reset, negotiate VIRTIO_F_VERSION_1 plus @features (bits 0-31), set up
 * queue @queue alone and set DRIVER_OK: 0, or -1 when the device refuses. */
static int driver_init(uint32_t features, unsigned queue)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	vw(VIRTIO_MMIO_STATUS, 0);
	vw(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vw(VIRTIO_MMIO_STATUS, s);
	vw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vw(VIRTIO_MMIO_DRIVER_FEATURES, features);
	vw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vw(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VIRTIO_F_VERSION_1 */
	vw(VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	if (!(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -1;
	vw(VIRTIO_MMIO_QUEUE_SEL, queue);
	vw(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	vw(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_GPA);
	vw(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL_GPA);
	vw(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED_GPA);
	vw(VIRTIO_MMIO_QUEUE_READY, 1);
	vw(VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return vr(VIRTIO_MMIO_QUEUE_READY) == 1 ? 0 : -1;
}

static struct virtq_desc *descs(void)
{
	return (struct virtq_desc *)(RAMP + DESC_GPA);
}

/* Post the chain at descriptor 0 on @queue, notify, and reap it: 0 when
 * the device completed it within the notification, else -1. */
/* Unused by the programs that post several chains at once. */
__attribute__((unused)) static int submit(unsigned queue)
{
	struct virtq_avail *a = (struct virtq_avail *)(RAMP + AVAIL_GPA);
	struct virtq_used *u = (struct virtq_used *)(RAMP + USED_GPA);

	a->ring[avail_idx % QSIZE] = 0;
	avail_idx++;
	__atomic_store_n(&a->idx, avail_idx, __ATOMIC_RELEASE);
	vw(VIRTIO_MMIO_QUEUE_NOTIFY, queue);
	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != (uint16_t)(used_seen + 1))
		return -1;
	used_seen++;
	vw(VIRTIO_MMIO_INTERRUPT_ACK, vr(VIRTIO_MMIO_INTERRUPT_STATUS));
	return 0;
}

#endif
