/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio/virtio-mmio.c - the virtio-mmio transport (virtio 1.2,
 * section 4.2), register layout version 2 only (no legacy interface).
 *
 * Interrupts: one level-triggered line, held high while InterruptStatus is
 * not zero and lowered when the driver acknowledges the last bit
 * (InterruptACK).  Notifications arrive as MMIO writes to QueueNotify, or,
 * where the host offers write notifications (an ioeventfd), as a callback
 * on the main loop for a write of a queue's index there; both take the same
 * path, vmmio_queue_notify().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-mmio.h"

static void vmmio_update_irq(struct virtio_dev *d)
{
	int level = d->isr != 0;

	if (level != d->irq_level) {
		d->irq_level = level;
		d->h->irq_set(d->h, d->irq, level);
	}
}

static void vmmio_guest_error(struct virtio_dev *d, unsigned long *counter, const char *what,
			      uint64_t offset, uint64_t value)
{
	(*counter)++;
	d->h->log(d->h, VMM_LOG_GUEST_ERROR, "%s (offset 0x%llx, value 0x%llx)", what,
		  (unsigned long long)offset, (unsigned long long)value);
}

static void vmmio_reset_state(struct virtio_dev *d)
{
	d->deferred = 0;
	if (d->timer)
		d->h->timer_cancel(d->h, d->timer);
	for (unsigned i = 0; i < d->nqueues; i++)
		virtq_reset(&d->vqs[i]);
	d->driver_features = 0;
	d->device_features_sel = d->driver_features_sel = 0;
	d->queue_sel = 0;
	d->status = 0;
	d->isr = 0;
	vmmio_update_irq(d);
	if (d->ops->reset)
		d->ops->reset(d->opaque);
}

static struct virtq *vmmio_sel_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->nqueues ? &d->vqs[d->queue_sel] : NULL;
}

static uint32_t vmmio_reg_read(struct virtio_dev *d, uint64_t offset)
{
	struct virtq *vq = vmmio_sel_queue(d);

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->device_features_sel > 1)
			return 0;
		return (uint32_t)(d->host_features >> (32 * d->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? d->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_NUM:
		return vq ? vq->num : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return d->isr;
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return vq ? (uint32_t)vq->desc_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vq ? (uint32_t)(vq->desc_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		return vq ? (uint32_t)vq->avail_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return vq ? (uint32_t)(vq->avail_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		return vq ? (uint32_t)vq->used_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return vq ? (uint32_t)(vq->used_gpa >> 32) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		/* 4.2.2: a length of all ones means "no such region"; this
		 * transport has no shared memory regions. */
		return 0xffffffffu;
	case VIRTIO_MMIO_SHM_SEL:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	default:
		vmmio_guest_error(d, &d->stats.bad_access, "read of a write-only or unknown register",
				  offset, 0);
		return 0;
	}
}

/* FEATURES_OK: the driver may only accept what we offered, and a version 2
 * transport serves only drivers that accept VIRTIO_F_VERSION_1 (4.2.2.2:
 * no legacy interface here). */
static bool vmmio_features_ok(struct virtio_dev *d)
{
	if (d->driver_features & ~d->host_features)
		return false;
	return d->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1);
}

static void vmmio_write_status(struct virtio_dev *d, uint32_t value)
{
	uint32_t sticky = d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET;

	if (value == 0) {
		vmmio_reset_state(d);
		return;
	}
	value &= 0xff & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	/* 2.1.1: the driver never clears a bit other than by a reset. */
	if (d->status & ~value & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET & 0xff) {
		vmmio_guest_error(d, &d->stats.bad_status, "status bits cleared without reset",
				  VIRTIO_MMIO_STATUS, value);
		value |= d->status & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	}
	if ((value & VIRTIO_STATUS_FEATURES_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* 3.1.1 step 6: the driver re-reads the status; a refused
		 * feature set shows as FEATURES_OK not set. */
		if (!vmmio_features_ok(d)) {
			vmmio_guest_error(d, &d->stats.bad_features, "features refused",
					  VIRTIO_MMIO_DRIVER_FEATURES, d->driver_features);
			value &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if ((value & VIRTIO_STATUS_DRIVER_OK) && !(value & VIRTIO_STATUS_FEATURES_OK)) {
		vmmio_guest_error(d, &d->stats.bad_status, "DRIVER_OK without FEATURES_OK",
				  VIRTIO_MMIO_STATUS, value);
		value &= ~(uint32_t)VIRTIO_STATUS_DRIVER_OK;
	}
	bool now_ok = (value & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_DRIVER_OK);

	d->status = value | sticky;
	if (now_ok && d->ops->driver_ok)
		d->ops->driver_ok(d->opaque, d);
}

static void vmmio_set_addr(struct virtio_dev *d, struct virtq *vq, uint64_t *field, bool high,
			   uint32_t value, uint64_t offset)
{
	if (!vq || vq->ready) {
		/* 4.2.2.3: queue registers are written only while QueueReady is 0. */
		vmmio_guest_error(d, &d->stats.bad_queue_setup,
				  vq ? "queue address written while ready" : "no such queue", offset,
				  value);
		return;
	}
	if (high)
		*field = (*field & 0xffffffffull) | ((uint64_t)value << 32);
	else
		*field = (*field & ~0xffffffffull) | value;
}

static void vmmio_queue_ready(struct virtio_dev *d, struct virtq *vq, uint32_t value)
{
	if (!vq) {
		vmmio_guest_error(d, &d->stats.bad_queue_setup, "no such queue", VIRTIO_MMIO_QUEUE_READY,
				  value);
		return;
	}
	if (!value) {
		/* Stopping a queue returns it to the reset state; the driver
		 * sets it up again before the next QueueReady = 1. */
		uint16_t num = vq->num;
		uint64_t desc = vq->desc_gpa, avail = vq->avail_gpa, used = vq->used_gpa;

		virtq_reset(vq);
		vq->num = num;
		vq->desc_gpa = desc;
		vq->avail_gpa = avail;
		vq->used_gpa = used;
		return;
	}
	if (vq->ready)
		return;
	if (vq->num > d->ops->queue_max) {
		vmmio_guest_error(d, &d->stats.bad_queue_setup, "QueueNum above QueueNumMax",
				  VIRTIO_MMIO_QUEUE_NUM, vq->num);
		return;
	}
	vq->event_idx = virtio_dev_has_feature(d, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = virtio_dev_has_feature(d, VIRTIO_RING_F_INDIRECT_DESC);
	if (virtq_enable(vq))
		d->stats.bad_queue_setup++; /* logged by the queue; QueueReady stays 0 */
}

static bool vmmio_queue_live(const struct virtio_dev *d, const struct virtq *vq)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && vq && vq->ready && !vq->broken;
}

static void vmmio_deferred(void *opaque)
{
	struct virtio_dev *d = opaque;

	while (d->deferred) {
		unsigned index = (unsigned)__builtin_ctzll(d->deferred);

		d->deferred &= d->deferred - 1;
		if (vmmio_queue_live(d, virtio_dev_queue(d, index)) && d->ops->queue_notify)
			d->ops->queue_notify(d->opaque, d, index);
	}
}

static void vmmio_queue_notify(struct virtio_dev *d, uint32_t value)
{
	struct virtq *vq = value < d->nqueues ? &d->vqs[value] : NULL;

	/* 3.1.1: the device is live only after DRIVER_OK; before that, and
	 * once it needs a reset, notifications mean nothing. */
	if (!vmmio_queue_live(d, vq)) {
		vmmio_guest_error(d, &d->stats.notify_not_ready,
				  !(d->status & VIRTIO_STATUS_DRIVER_OK) ? "notify before DRIVER_OK"
				  : (d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
					  ? "notify while the device needs a reset"
					  : "notify of a queue that is not running",
				  VIRTIO_MMIO_QUEUE_NOTIFY, value);
		return;
	}
	if (d->ops->queue_notify)
		d->ops->queue_notify(d->opaque, d, value);
}

/* The host saw the guest write this queue's index to QueueNotify. */
static void vmmio_doorbell(void *opaque)
{
	struct virtio_doorbell *b = opaque;

	vmmio_queue_notify(b->d, b->index);
}

/* One registration per queue: a datamatch on the queue index, so a write
 * of any other value (a queue that does not exist) still reaches
 * vmmio_write() and is counted there. */
static void vmmio_doorbells_register(struct virtio_dev *d)
{
	const struct vmm_host *h = d->h;
	unsigned got = 0;

	if (!VMM_HOST_HAS(h, notify_register) || !VMM_HOST_HAS(h, notify_unregister) ||
	    !d->nqueues)
		return;
	d->doorbells = calloc(d->nqueues, sizeof(*d->doorbells));
	if (!d->doorbells)
		return; /* notifications stay MMIO writes */
	for (unsigned i = 0; i < d->nqueues; i++) {
		d->doorbells[i].d = d;
		d->doorbells[i].index = i;
		d->doorbells[i].n = h->notify_register(h, VMM_BUS_MMIO,
						       d->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, i,
						       vmmio_doorbell, &d->doorbells[i]);
		got += d->doorbells[i].n != NULL;
	}
	if (got < d->nqueues)
		h->log(h, VMM_LOG_DEBUG, "%u of %u queue notifications through the hypervisor; "
		       "the rest are MMIO exits", got, d->nqueues);
}

static void vmmio_doorbells_unregister(struct virtio_dev *d)
{
	if (!d->doorbells)
		return;
	for (unsigned i = 0; i < d->nqueues; i++)
		if (d->doorbells[i].n)
			d->h->notify_unregister(d->h, d->doorbells[i].n);
	free(d->doorbells);
	d->doorbells = NULL;
}

static void vmmio_reg_write(struct virtio_dev *d, uint64_t offset, uint32_t value)
{
	struct virtq *vq = vmmio_sel_queue(d);

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = value;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* 3.1.1: features are set between DRIVER and FEATURES_OK. */
		if (d->status & VIRTIO_STATUS_FEATURES_OK) {
			vmmio_guest_error(d, &d->stats.bad_features, "features written after FEATURES_OK",
					  offset, value);
			return;
		}
		if (d->driver_features_sel < 2) {
			unsigned shift = 32 * d->driver_features_sel;
			d->driver_features &= ~(0xffffffffull << shift);
			d->driver_features |= (uint64_t)value << shift;
		} else if (value) {
			/* Nothing is offered there, so nothing may be accepted. */
			vmmio_guest_error(d, &d->stats.bad_features, "unoffered feature word",
					  offset, value);
		}
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = value;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = value;
		return;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (!vq || vq->ready) {
			vmmio_guest_error(d, &d->stats.bad_queue_setup,
					  vq ? "QueueNum written while ready" : "no such queue", offset,
					  value);
			return;
		}
		vq->num = value > 0xffff ? 0 : (uint16_t)value; /* checked at QueueReady */
		return;
	case VIRTIO_MMIO_QUEUE_READY:
		vmmio_queue_ready(d, vq, value & 1);
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		vmmio_queue_notify(d, value);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~value;
		vmmio_update_irq(d);
		return;
	case VIRTIO_MMIO_STATUS:
		vmmio_write_status(d, value);
		return;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		vmmio_set_addr(d, vq, vq ? &vq->desc_gpa : NULL, offset & 4, value, offset);
		return;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		vmmio_set_addr(d, vq, vq ? &vq->avail_gpa : NULL, offset & 4, value, offset);
		return;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		vmmio_set_addr(d, vq, vq ? &vq->used_gpa : NULL, offset & 4, value, offset);
		return;
	case VIRTIO_MMIO_SHM_SEL:
		return;
	default:
		vmmio_guest_error(d, &d->stats.bad_access, "write of a read-only or unknown register",
				  offset, value);
		return;
	}
}

static int vmmio_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct virtio_dev *d = opaque;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint32_t off = (uint32_t)(offset - VIRTIO_MMIO_CONFIG);

		*value = d->ops->config_read && off + len <= 0x100
				 ? d->ops->config_read(d->opaque, off, len) : 0;
		return 0;
	}
	/* 4.2.2.2: the registers take 32-bit aligned accesses only. */
	if (len != 4 || (offset & 3)) {
		vmmio_guest_error(d, &d->stats.bad_access, "register read not 32-bit", offset, len);
		*value = 0;
		return 0;
	}
	*value = vmmio_reg_read(d, offset);
	return 0;
}

static int vmmio_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct virtio_dev *d = opaque;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint32_t off = (uint32_t)(offset - VIRTIO_MMIO_CONFIG);

		if (d->ops->config_write && off + len <= 0x100)
			d->ops->config_write(d->opaque, off, len, value);
		return 0;
	}
	if (len != 4 || (offset & 3)) {
		vmmio_guest_error(d, &d->stats.bad_access, "register write not 32-bit", offset, value);
		return 0;
	}
	vmmio_reg_write(d, offset, (uint32_t)value);
	return 0;
}

static const struct vmm_region_ops vmmio_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_ANY,
	.read = vmmio_read,
	.write = vmmio_write,
};

int virtio_dev_create(const struct vmm_host *h, const struct virtio_dev_ops *ops,
		      const struct virtio_dev_setup *setup, void *opaque, struct virtio_dev **out)
{
	struct virtio_dev *d;
	int64_t base, irq;
	int rc;

	if (h->prop_int(h, "base", &base) || h->prop_int(h, "irq", &irq)) {
		h->log(h, VMM_LOG_ERROR, "properties 'base' and 'irq' are required");
		return -EINVAL;
	}
	if (base & 0xfff) {
		/* Linux maps each device's window as its own page. */
		h->log(h, VMM_LOG_ERROR, "base 0x%llx is not 4 KiB aligned", (unsigned long long)base);
		return -EINVAL;
	}
	if (ops->queue_max == 0 || ops->queue_max > VIRTQ_MAX_SIZE ||
	    (ops->queue_max & (ops->queue_max - 1)))
		return -EINVAL;
	if ((setup && setup->num_queues > 64) || ops->num_queues > 64)
		return -EINVAL; /* `deferred` has a bit per queue */

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;
	d->ops = ops;
	d->opaque = opaque;
	d->base = (uint64_t)base;
	d->host_features = (setup && setup->features ? setup->features : ops->features) |
			   VIRTIO_BIT(VIRTIO_F_VERSION_1);
	d->nqueues = setup && setup->num_queues ? setup->num_queues : ops->num_queues;
	d->vqs = calloc(d->nqueues ? d->nqueues : 1, sizeof(*d->vqs));
	if (!d->vqs) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (unsigned i = 0; i < d->nqueues; i++)
		virtq_init(&d->vqs[i], h, i);
	d->timer = h->timer_new(h, vmmio_deferred, d);
	if (!d->timer) {
		rc = -ENOMEM;
		goto out_free;
	}

	d->irq = h->irq_line(h, (uint32_t)irq);
	if (!d->irq) {
		h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq);
		rc = -ENODEV;
		goto out_free;
	}
	rc = h->bus_map(h, VMM_BUS_MMIO, d->base, VIRTIO_MMIO_SIZE, &vmmio_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map MMIO 0x%llx-0x%llx", (unsigned long long)d->base,
		       (unsigned long long)d->base + VIRTIO_MMIO_SIZE - 1);
		goto out_free;
	}
	d->mapped = true;
	vmmio_doorbells_register(d);

	const struct vmm_resource res[] = {
		{ .type = VMM_RES_MMIO, .base = d->base, .len = VIRTIO_MMIO_SIZE },
		{ .type = VMM_RES_IRQ, .flags = VMM_RES_IRQ_LEVEL, .base = (uint64_t)irq },
	};
	/* LNRO0005 is the ACPI id Linux's virtio-mmio driver matches. */
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_DEVICE,
					      .acpi_hid = "LNRO0005",
					      .acpi_uid = (uint32_t)(d->base >> 12),
					      .fdt_compatible = "virtio,mmio", .res = res, .nres = 2 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_free;
	*out = d;
	return 0;

out_free:
	virtio_dev_destroy(d);
	return rc;
}

void virtio_dev_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	vmmio_doorbells_unregister(d);
	if (d->mapped)
		d->h->bus_unmap(d->h, VMM_BUS_MMIO, d->base);
	if (d->timer)
		d->h->timer_free(d->h, d->timer);
	free(d->vqs);
	free(d);
}

void virtio_dev_reset(struct virtio_dev *d)
{
	vmmio_reset_state(d);
}

struct virtq *virtio_dev_queue(struct virtio_dev *d, unsigned index)
{
	return index < d->nqueues ? &d->vqs[index] : NULL;
}

bool virtio_dev_queue_live(const struct virtio_dev *d, unsigned index)
{
	return vmmio_queue_live(d, index < d->nqueues ? &d->vqs[index] : NULL);
}

bool virtio_dev_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return bit < 64 && (d->driver_features & (1ull << bit));
}

void virtio_dev_defer_notify(struct virtio_dev *d, unsigned index)
{
	if (index >= d->nqueues)
		return;
	d->deferred |= 1ull << index;
	/* A deadline already past runs from the main loop, never from here. */
	d->h->timer_arm(d->h, d->timer, d->h->clock_ns(d->h));
}

void virtio_dev_notify(struct virtio_dev *d, struct virtq *vq)
{
	if (!virtq_need_interrupt(vq))
		return;
	d->isr |= VIRTIO_MMIO_INT_VRING;
	vmmio_update_irq(d);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	if (!(d->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	d->isr |= VIRTIO_MMIO_INT_CONFIG;
	vmmio_update_irq(d);
}

void virtio_dev_needs_reset(struct virtio_dev *d)
{
	if (d->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	d->stats.needs_reset++;
	d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	d->h->log(d->h, VMM_LOG_GUEST_ERROR, "device needs a reset");
	/* 2.1.2: once DRIVER_OK is set, DEVICE_NEEDS_RESET comes with a
	 * configuration-change notification. */
	if (d->status & VIRTIO_STATUS_DRIVER_OK) {
		d->isr |= VIRTIO_MMIO_INT_CONFIG;
		vmmio_update_irq(d);
	}
}

struct virtio_dev_stats *virtio_dev_stats(struct virtio_dev *d)
{
	return &d->stats;
}

const struct vmm_host *virtio_dev_host(const struct virtio_dev *d)
{
	return d->h;
}
