/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio/virtio-mmio.h - the virtio-mmio transport, register layout
 * version 2 (virtio 1.2, section 4.2.2).
 *
 * Device models include virtio.h, not this: the register offsets and the
 * transport state are here for the transport itself and for tests that
 * play the driver.
 */
#ifndef VMM_VIRTIO_MMIO_H
#define VMM_VIRTIO_MMIO_H

#include <stdint.h>

#include "virtio.h"

#define VIRTIO_MMIO_SIZE 0x200 /* registers 0x000-0x0ff, config 0x100-0x1ff */

#define VIRTIO_MMIO_MAGIC_VALUE         0x000 /* "virt" */
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_SHM_SEL             0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW         0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH        0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW        0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH       0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

#define VIRTIO_MMIO_MAGIC     0x74726976u
#define VIRTIO_MMIO_VENDOR    0x004d4d56u /* "VMM" */

/* InterruptStatus bits (4.2.2). */
#define VIRTIO_MMIO_INT_VRING  1 /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG 2 /* configuration change */

/* A device's state starts with its struct virtio_dev pointer, so a test
 * holding vmm_harness_device_state() can reach the counters. */
struct virtio_dev {
	const struct vmm_host *h;
	const struct virtio_dev_ops *ops;
	void *opaque;
	struct vmm_irq_line *irq;
	uint64_t base;
	bool mapped;
	int irq_level;

	uint64_t host_features;
	uint64_t driver_features;
	uint32_t device_features_sel, driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t config_generation;

	unsigned nqueues;
	struct virtq *vqs;
	struct vmm_timer *timer;  /* runs deferred notifications */
	uint64_t deferred;        /* queues with one pending, a bit each */
	struct virtio_dev_stats stats;
	/* One QueueNotify doorbell per queue in the hypervisor (ioeventfd),
	 * NULL where the host has none: that queue's notifications stay MMIO
	 * writes. */
	struct virtio_doorbell *doorbells;
};

struct virtio_doorbell {
	struct virtio_dev *d;
	unsigned index;
	struct vmm_notify *n;
};

#endif
