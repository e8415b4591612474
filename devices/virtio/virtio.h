/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio/virtio.h - what a virtio device model sees of virtio.
 *
 * A device fills a static const struct virtio_dev_ops and calls
 * virtio_dev_create() from its plugin's create(); it never names its
 * transport.  The transport (virtio-mmio.c today) owns the registers,
 * feature negotiation, device status, the queues' setup and the interrupt
 * line, and calls the device back through the ops.
 *
 * Error convention: 0 or a negative errno; NULL for pointers.
 */
#ifndef VMM_VIRTIO_H
#define VMM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include <vmm/host.h>
#include <vmm/plugin.h>
#include <vmm/state.h>
#include "virtqueue.h"

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Device-independent feature bits (6). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

#define VIRTIO_BIT(n) (1ull << (n))

/* Device IDs (5). */
#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_ENTROPY 4

struct virtio_dev;

struct virtio_dev_ops {
	uint32_t device_id;     /* VIRTIO_ID_* */
	uint64_t features;      /* offered; VIRTIO_F_VERSION_1 is always added */
	unsigned num_queues;    /* default queue count */
	uint16_t queue_max;     /* QueueNumMax, a power of two <= VIRTQ_MAX_SIZE */
	/* Device config space, [0, 0x100): the @len (1, 2, 4 or 8) bytes at
	 * @offset, little-endian; bytes the device does not have read as 0.
	 * NULL: no config space (reads 0). */
	uint64_t (*config_read)(void *opaque, uint32_t offset, unsigned len);
	/* NULL: writes are ignored. */
	void (*config_write)(void *opaque, uint32_t offset, unsigned len, uint64_t value);
	/* The driver notified queue @index (only after DRIVER_OK, only for
	 * a ready queue that is not broken). */
	void (*queue_notify)(void *opaque, struct virtio_dev *vdev, unsigned index);
	/* The driver reset the device (status 0) or the machine was reset;
	 * the queues are already reset.  May be NULL. */
	void (*reset)(void *opaque);
	/* The driver set DRIVER_OK: the negotiated features are final (e.g.
	 * offloads to set on a backend).  May be NULL. */
	void (*driver_ok)(void *opaque, struct virtio_dev *vdev);
};

/* Per-device guest-error counters, beside the queues' own. */
struct virtio_dev_stats {
	unsigned long notify_not_ready;  /* QueueNotify before DRIVER_OK, bad queue, or broken */
	unsigned long bad_access;        /* register access of the wrong width or offset */
	unsigned long bad_features;      /* FEATURES_OK refused */
	unsigned long bad_queue_setup;   /* queue registers written while ready, bad enable */
	unsigned long bad_status;        /* DRIVER_OK without FEATURES_OK, bits cleared */
	unsigned long needs_reset;       /* times the device set DEVICE_NEEDS_RESET */
	unsigned long bad_request;       /* device-level request errors (counted by the device) */
};

/* Per-instance overrides of the ops' defaults; zero fields keep them. */
struct virtio_dev_setup {
	uint64_t features;    /* replaces ops->features when non-zero */
	unsigned num_queues;  /* replaces ops->num_queues when non-zero */
};

/* The transport's properties, for a device's schema:
 *	static const struct vmm_prop_desc props[] = { VIRTIO_TRANSPORT_PROPS, ... };
 */
#define VIRTIO_TRANSPORT_PROPS                                                          \
	{ .name = "base", .type = VMM_PROP_INT, .min = 0, .max = 0xfffffe00,            \
	  .required = true,                                                             \
	  .help = "guest-physical address of the 0x200-byte register window (below 4G)" }, \
	{ .name = "irq", .type = VMM_PROP_INT, .min = 0, .max = 255, .required = true,  \
	  .help = "interrupt line, level-triggered (a free IOAPIC pin, e.g. 16..23)" }

/**
 * virtio_dev_create() - attach a device model to its transport: read the
 * transport properties, map the registers, get the IRQ line, describe the
 * device to the firmware tables.
 * @h: the instance's host.
 * @ops: the device's ops, which must outlive the instance.
 * @setup: per-instance overrides, or NULL.
 * @opaque: passed to every op.
 * @out: receives the transport instance.
 *
 * Return: 0, or a negative errno after logging why.
 */
int virtio_dev_create(const struct vmm_host *h, const struct virtio_dev_ops *ops,
		      const struct virtio_dev_setup *setup, void *opaque, struct virtio_dev **out);

/** virtio_dev_destroy() - unmap and free; NULL is ignored. */
void virtio_dev_destroy(struct virtio_dev *vdev);

/** virtio_dev_reset() - the power-on state (machine reset). */
void virtio_dev_reset(struct virtio_dev *vdev);

/** virtio_dev_queue() - queue @index, or NULL past the device's queues. */
struct virtq *virtio_dev_queue(struct virtio_dev *vdev, unsigned index);

/**
 * virtio_dev_queue_live() - whether queue @index runs now: DRIVER_OK set,
 * DEVICE_NEEDS_RESET clear, the queue ready and not broken.  A device that
 * takes buffers outside queue_notify (input arriving from a backend) asks
 * this first: before DRIVER_OK the buffers are not the device's (3.1.1).
 */
bool virtio_dev_queue_live(const struct virtio_dev *vdev, unsigned index);

/** virtio_dev_has_feature() - whether the driver accepted feature bit @bit. */
bool virtio_dev_has_feature(const struct virtio_dev *vdev, unsigned bit);

/**
 * virtio_dev_notify() - the device pushed used buffers on @vq: interrupt
 * the driver unless it suppressed the notification.
 */
void virtio_dev_notify(struct virtio_dev *vdev, struct virtq *vq);

/** virtio_dev_config_changed() - new config space: bump ConfigGeneration
 * and send a configuration-change interrupt. */
void virtio_dev_config_changed(struct virtio_dev *vdev);

/**
 * virtio_dev_needs_reset() - the device met a guest error it cannot
 * recover from: set DEVICE_NEEDS_RESET and, once DRIVER_OK, send a
 * configuration-change interrupt (2.1.2).  Counted.
 */
void virtio_dev_needs_reset(struct virtio_dev *vdev);

/* Chains a device serves per notification at most.  A driver on another
 * vCPU can refill a queue as fast as the device drains it; without a bound
 * the notifying vCPU would never get back to the guest.  The rest is
 * served from the main loop (virtio_dev_defer_notify()). */
#define VIRTIO_NOTIFY_BUDGET 64

/**
 * virtio_dev_defer_notify() - the device stopped at VIRTIO_NOTIFY_BUDGET
 * with work left on queue @index: call its queue_notify again soon, from
 * the main loop, as if the driver had notified (if the device is still
 * live then).
 */
void virtio_dev_defer_notify(struct virtio_dev *vdev, unsigned index);

/* The transport's state version, which each device's state_version
 * covers (a device bumps its own when this changes). */
#define VIRTIO_STATE_VERSION 1

/**
 * virtio_dev_save() - put the transport's and the queues' state (ABI
 * 1.12) into @out as fields named "virtio.*" and "qN.*": device status,
 * feature selectors and negotiated features, QueueSel, InterruptStatus,
 * ConfigGeneration, deferred notifications, and per queue its size,
 * ready/broken, ring addresses, options and indices.  Nothing is in
 * flight inside the transport: a chain a device holds between virtq_pop()
 * and virtq_push() is the device's to save (see virtio-console).
 *
 * Return: 0 or what state_put returned.
 */
int virtio_dev_save(struct virtio_dev *vdev, struct vmm_state_out *out);

/**
 * virtio_dev_load() - load what virtio_dev_save() put into a freshly
 * created instance of the same config; guest RAM is in place.  Every field
 * is checked (a snapshot is input): a feature not offered, a status the
 * transport never sets, a queue size not a power of two or above
 * QueueNumMax, rings misaligned or outside RAM, more chains taken than the
 * queue holds: one line naming the field and -EINVAL.  A record of another
 * queue count or feature offer is -EINVAL too (a different config).  The
 * line is raised when InterruptStatus is not 0 and deferred notifications
 * are re-armed.  The device's driver_ok op is not called: a device that
 * tells a backend something at DRIVER_OK tells it again in its own load.
 *
 * Return: 0 or a negative errno after one line.
 */
int virtio_dev_load(struct virtio_dev *vdev, struct vmm_state_in *in);

/**
 * virtio_dev_load_version() - the version check every virtio device's
 * load() starts with: -EPROTO and one line for a version it does not know.
 */
int virtio_dev_load_version(struct virtio_dev *vdev, uint32_t version, uint32_t newest);

/** virtio_dev_status() - the device status register (2.1). */
uint32_t virtio_dev_status(const struct virtio_dev *vdev);

/** virtio_dev_stats() - the device's guest-error counters (a device bumps
 * bad_request itself). */
struct virtio_dev_stats *virtio_dev_stats(struct virtio_dev *vdev);

/** virtio_dev_host() - the host table the device was created with. */
const struct vmm_host *virtio_dev_host(const struct virtio_dev *vdev);

#endif
