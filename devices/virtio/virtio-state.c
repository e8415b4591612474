/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio/virtio-state.c - saving and loading the virtio-mmio
 * transport and its split virtqueues (ABI 1.12, vmm/state.h).
 *
 * What is saved is what the driver set and what the device has done with
 * the rings: the rings themselves are in guest RAM, which the core saves
 * and restores before load().  A queue's last_avail is the next available
 * entry the device will take and used_idx the used index it published;
 * every device here completes a chain on the thread that took it, so at a
 * pause nothing is between the two except what a device holds on purpose
 * (a console's receive buffer), which that device saves and gives back to
 * the ring on load.
 *
 * A record is input, possibly hostile: load() checks every field against
 * what the running transport itself would ever hold, and refuses with one
 * line naming the field.  It never checks what the guest controls (the
 * avail index in RAM, the ring contents): those are checked when used, as
 * on a machine that never stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio-mmio.h"

/* Status bits the transport can hold (2.1): anything else was never set. */
#define VIRTIO_STATUS_KNOWN                                                              \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |    \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)

static int vst_put32(struct virtio_dev *d, struct vmm_state_out *o, const char *name, uint32_t v)
{
	return vmm_state_put_u32(d->h, o, name, v);
}

/* "qN.field" */
static const char *vst_qname(char *buf, size_t len, unsigned q, const char *field)
{
	snprintf(buf, len, "q%u.%s", q, field);
	return buf;
}

static int vst_bad(struct virtio_dev *d, const char *field, const char *fmt, unsigned long long v)
{
	char why[96];

	snprintf(why, sizeof(why), fmt, v);
	d->h->log(d->h, VMM_LOG_ERROR, "saved state: %s: %s", field, why);
	return -EINVAL;
}

/* A field the record must have: a missing or mis-sized one is named. */
static int vst_get32(struct virtio_dev *d, struct vmm_state_in *in, const char *name, uint32_t *v)
{
	int rc = vmm_state_get_u32(d->h, in, name, v);

	if (rc)
		d->h->log(d->h, VMM_LOG_ERROR, "saved state: %s: %s", name,
			  rc == -ENOENT ? "missing" : rc == -EMSGSIZE ? "wrong size" : strerror(-rc));
	return rc;
}

static int vst_get64(struct virtio_dev *d, struct vmm_state_in *in, const char *name, uint64_t *v)
{
	int rc = vmm_state_get_u64(d->h, in, name, v);

	if (rc)
		d->h->log(d->h, VMM_LOG_ERROR, "saved state: %s: %s", name,
			  rc == -ENOENT ? "missing" : rc == -EMSGSIZE ? "wrong size" : strerror(-rc));
	return rc;
}

static int vst_save_queue(struct virtio_dev *d, struct vmm_state_out *o, unsigned q)
{
	const struct virtq *vq = &d->vqs[q];
	char n[32];
	int rc = 0;

	rc = rc ? rc : vst_put32(d, o, vst_qname(n, sizeof(n), q, "num"), vq->num);
	rc = rc ? rc : vmm_state_put_u64(d->h, o, vst_qname(n, sizeof(n), q, "desc"), vq->desc_gpa);
	rc = rc ? rc : vmm_state_put_u64(d->h, o, vst_qname(n, sizeof(n), q, "driver"), vq->avail_gpa);
	rc = rc ? rc : vmm_state_put_u64(d->h, o, vst_qname(n, sizeof(n), q, "device"), vq->used_gpa);
	/* Flags: what the transport decided at QueueReady and since. */
	rc = rc ? rc : vst_put32(d, o, vst_qname(n, sizeof(n), q, "flags"),
				 (uint32_t)vq->ready | (uint32_t)vq->broken << 1 |
					 (uint32_t)vq->event_idx << 2 | (uint32_t)vq->indirect << 3 |
					 (uint32_t)vq->signalled_valid << 4 | (uint32_t)vq->pushed << 5);
	rc = rc ? rc : vst_put32(d, o, vst_qname(n, sizeof(n), q, "last_avail"), vq->last_avail);
	rc = rc ? rc : vst_put32(d, o, vst_qname(n, sizeof(n), q, "used_idx"), vq->used_idx);
	rc = rc ? rc : vst_put32(d, o, vst_qname(n, sizeof(n), q, "signalled_used"),
				 vq->signalled_used);
	return rc;
}

int virtio_dev_save(struct virtio_dev *d, struct vmm_state_out *o)
{
	int rc = 0;

	rc = rc ? rc : vst_put32(d, o, "virtio.nqueues", d->nqueues);
	rc = rc ? rc : vmm_state_put_u64(d->h, o, "virtio.device_features", d->host_features);
	rc = rc ? rc : vmm_state_put_u64(d->h, o, "virtio.driver_features", d->driver_features);
	rc = rc ? rc : vst_put32(d, o, "virtio.device_features_sel", d->device_features_sel);
	rc = rc ? rc : vst_put32(d, o, "virtio.driver_features_sel", d->driver_features_sel);
	rc = rc ? rc : vst_put32(d, o, "virtio.queue_sel", d->queue_sel);
	rc = rc ? rc : vst_put32(d, o, "virtio.status", d->status);
	rc = rc ? rc : vst_put32(d, o, "virtio.interrupt_status", d->isr);
	rc = rc ? rc : vst_put32(d, o, "virtio.config_generation", d->config_generation);
	/* Chains left for the main loop by the notify budget: still in the
	 * avail ring, so only the "look again" is state. */
	rc = rc ? rc : vmm_state_put_u64(d->h, o, "virtio.deferred", d->deferred);
	for (unsigned q = 0; !rc && q < d->nqueues; q++)
		rc = vst_save_queue(d, o, q);
	return rc;
}

/* Map a ring for the check: the queue maps the same range at enable. */
static bool vst_in_ram(struct virtio_dev *d, uint64_t gpa, size_t len)
{
	return gpa + len >= gpa && d->h->mem_map(d->h, gpa, len) != NULL;
}

static int vst_load_queue(struct virtio_dev *d, struct vmm_state_in *in, unsigned q)
{
	struct virtq *vq = &d->vqs[q];
	uint32_t num, flags, last_avail, used_idx, signalled;
	uint64_t desc, avail, used;
	char n[32];
	int rc;

	if ((rc = vst_get32(d, in, vst_qname(n, sizeof(n), q, "num"), &num)) ||
	    (rc = vst_get64(d, in, vst_qname(n, sizeof(n), q, "desc"), &desc)) ||
	    (rc = vst_get64(d, in, vst_qname(n, sizeof(n), q, "driver"), &avail)) ||
	    (rc = vst_get64(d, in, vst_qname(n, sizeof(n), q, "device"), &used)) ||
	    (rc = vst_get32(d, in, vst_qname(n, sizeof(n), q, "flags"), &flags)) ||
	    (rc = vst_get32(d, in, vst_qname(n, sizeof(n), q, "last_avail"), &last_avail)) ||
	    (rc = vst_get32(d, in, vst_qname(n, sizeof(n), q, "used_idx"), &used_idx)) ||
	    (rc = vst_get32(d, in, vst_qname(n, sizeof(n), q, "signalled_used"), &signalled)))
		return rc;
	/* QueueNum holds 16 bits (anything wider was stored as 0). */
	if (num > 0xffff)
		return vst_bad(d, vst_qname(n, sizeof(n), q, "num"), "%llu is not a 16-bit queue size", num);
	if (flags & ~0x3fu)
		return vst_bad(d, vst_qname(n, sizeof(n), q, "flags"), "unknown bits 0x%llx", flags);
	if (last_avail > 0xffff)
		return vst_bad(d, vst_qname(n, sizeof(n), q, "last_avail"), "%llu is not a 16-bit index",
			       last_avail);
	if (used_idx > 0xffff)
		return vst_bad(d, vst_qname(n, sizeof(n), q, "used_idx"), "%llu is not a 16-bit index",
			       used_idx);
	if (signalled > 0xffff)
		return vst_bad(d, vst_qname(n, sizeof(n), q, "signalled_used"),
			       "%llu is not a 16-bit index", signalled);
	vq->num = (uint16_t)num;
	vq->desc_gpa = desc;
	vq->avail_gpa = avail;
	vq->used_gpa = used;
	if (!(flags & 1)) {
		/* Not ready: QueueNum and the addresses are just registers the
		 * driver may still change; the indices restart at enable.  A
		 * QueueReady the queue refused leaves it broken, with the
		 * options it was decided with (vmmio_queue_ready()). */
		if ((flags & ~0xeu) || last_avail || used_idx || signalled)
			return vst_bad(d, vst_qname(n, sizeof(n), q, "flags"),
				       "a queue that is not ready has ring state (flags 0x%llx)", flags);
		vq->broken = flags & 2;
		vq->event_idx = flags & 4;
		vq->indirect = flags & 8;
		return 0;
	}
	/* The checks virtq_enable() makes, named after the field at fault. */
	if (num == 0 || num > d->ops->queue_max || (num & (num - 1)))
		return vst_bad(d, vst_qname(n, sizeof(n), q, "num"),
			       "%llu is not a power of two up to QueueNumMax", num);
	if ((desc & 15) || !vst_in_ram(d, desc, 16 * (size_t)num))
		return vst_bad(d, vst_qname(n, sizeof(n), q, "desc"),
			       "0x%llx is not a 16-byte aligned table inside guest RAM", desc);
	if ((avail & 1) || !vst_in_ram(d, avail, 6 + 2 * (size_t)num))
		return vst_bad(d, vst_qname(n, sizeof(n), q, "driver"),
			       "0x%llx is not a 2-byte aligned ring inside guest RAM", avail);
	if ((used & 3) || !vst_in_ram(d, used, 6 + 8 * (size_t)num))
		return vst_bad(d, vst_qname(n, sizeof(n), q, "device"),
			       "0x%llx is not a 4-byte aligned ring inside guest RAM", used);
	/* Chains taken and not yet used: never more than the ring holds
	 * (each device completes what it takes, bar one held buffer). */
	if ((uint16_t)(last_avail - used_idx) > num)
		return vst_bad(d, vst_qname(n, sizeof(n), q, "last_avail"),
			       "%llu chains taken and not used, more than the queue size",
			       (uint16_t)(last_avail - used_idx));
	if (virtq_enable(vq))
		return -EINVAL; /* not reached after the checks above; logged */
	vq->broken = flags & 2;
	vq->event_idx = flags & 4;
	vq->indirect = flags & 8;
	vq->signalled_valid = flags & 16;
	vq->pushed = flags & 32;
	vq->last_avail = (uint16_t)last_avail;
	vq->used_idx = (uint16_t)used_idx;
	vq->signalled_used = (uint16_t)signalled;
	return 0;
}

int virtio_dev_load(struct virtio_dev *d, struct vmm_state_in *in)
{
	uint32_t nq, dsel, drsel, qsel, status, isr, gen;
	uint64_t host, drv, deferred;
	int rc;

	if ((rc = vst_get32(d, in, "virtio.nqueues", &nq)) ||
	    (rc = vst_get64(d, in, "virtio.device_features", &host)) ||
	    (rc = vst_get64(d, in, "virtio.driver_features", &drv)) ||
	    (rc = vst_get32(d, in, "virtio.device_features_sel", &dsel)) ||
	    (rc = vst_get32(d, in, "virtio.driver_features_sel", &drsel)) ||
	    (rc = vst_get32(d, in, "virtio.queue_sel", &qsel)) ||
	    (rc = vst_get32(d, in, "virtio.status", &status)) ||
	    (rc = vst_get32(d, in, "virtio.interrupt_status", &isr)) ||
	    (rc = vst_get32(d, in, "virtio.config_generation", &gen)) ||
	    (rc = vst_get64(d, in, "virtio.deferred", &deferred)))
		return rc;
	/* The instance was created from the same config: another queue
	 * count or feature offer means another device (or another backend
	 * under it), which a driver that negotiated would not survive. */
	if (nq != d->nqueues)
		return vst_bad(d, "virtio.nqueues", "%llu queues saved, this device has a different count",
			       nq);
	if (host != d->host_features)
		return vst_bad(d, "virtio.device_features",
			       "0x%llx saved, this device offers other features", host);
	if (drv & ~host)
		return vst_bad(d, "virtio.driver_features", "0x%llx accepts features not offered", drv);
	if (status & ~(uint32_t)VIRTIO_STATUS_KNOWN)
		return vst_bad(d, "virtio.status", "0x%llx has bits no driver can set", status);
	/* What vmmio_write_status() lets through. */
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(status & VIRTIO_STATUS_FEATURES_OK))
		return vst_bad(d, "virtio.status", "0x%llx has DRIVER_OK without FEATURES_OK", status);
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(drv & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		return vst_bad(d, "virtio.status", "0x%llx has FEATURES_OK without VERSION_1", status);
	if (isr & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
		return vst_bad(d, "virtio.interrupt_status", "0x%llx has unknown bits", isr);
	if (d->nqueues < 64 && (deferred >> d->nqueues))
		return vst_bad(d, "virtio.deferred", "0x%llx names queues this device lacks", deferred);
	for (unsigned q = 0; q < d->nqueues; q++) {
		rc = vst_load_queue(d, in, q);
		if (rc) {
			/* Leave the fresh instance as create() left it. */
			for (unsigned i = 0; i < d->nqueues; i++)
				virtq_reset(&d->vqs[i]);
			return rc;
		}
	}
	d->driver_features = drv;
	d->device_features_sel = dsel;
	d->driver_features_sel = drsel;
	d->queue_sel = qsel;
	d->status = status;
	d->isr = isr;
	d->config_generation = gen;
	d->deferred = deferred;
	/* The line the saved device held (vmm/device.h: raised in load). */
	if (isr) {
		d->irq_level = 1;
		d->h->irq_set(d->h, d->irq, 1);
	}
	/* Each running queue is looked at once, from the main loop: a
	 * notification the guest made just before the save may not have
	 * reached the device yet (a write notification waits in the
	 * hypervisor's eventfd until the main loop reads it, and a live
	 * migration keeps the main loop busy), and the saved machine does not
	 * carry it.  A queue with nothing new is a no-op.  Deferred work runs
	 * then too, as it would have. */
	for (unsigned q = 0; q < d->nqueues && q < 64; q++)
		if ((status & VIRTIO_STATUS_DRIVER_OK) && d->vqs[q].ready && !d->vqs[q].broken)
			d->deferred |= 1ull << q;
	if (d->deferred)
		d->h->timer_arm(d->h, d->timer, d->h->clock_ns(d->h));
	return 0;
}

int virtio_dev_load_version(struct virtio_dev *d, uint32_t version, uint32_t newest)
{
	if (version >= 1 && version <= newest)
		return 0;
	d->h->log(d->h, VMM_LOG_ERROR, "saved state version %u: this plugin knows 1 to %u", version,
		  newest);
	return -EPROTO;
}

uint32_t virtio_dev_status(const struct virtio_dev *d)
{
	return d->status;
}
