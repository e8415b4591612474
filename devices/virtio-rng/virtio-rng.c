/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio-rng/virtio-rng.c - the virtio entropy device (virtio 1.2,
 * section 5.4, device ID 4): one request queue whose device-writable
 * buffers are filled from the host's getrandom().
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include <vmm/vmm.h>
#include "devices/virtio/virtio.h"

/* Bytes given per request at most: 5.4.6 lets the device place "one or
 * more" bytes, and a small cap keeps a vCPU's notify exit short whatever
 * buffer sizes the guest posts. */
#define RNG_MAX_PER_REQUEST 65536

struct virtio_rng {
	struct virtio_dev *vdev; /* first: tests reach the counters through it */
	const struct vmm_host *h;
	struct virtq_elem elem;
	unsigned long bytes_given;
};

/* Fill the writable part of one request; returns the bytes written. */
static uint32_t rng_fill(struct virtio_rng *r, const struct virtq_elem *e)
{
	size_t done = 0;

	for (unsigned i = e->nout; i < e->nout + e->nin && done < RNG_MAX_PER_REQUEST; i++) {
		uint8_t *p = e->iov[i].iov_base;
		size_t want = e->iov[i].iov_len, got = 0;

		if (want > RNG_MAX_PER_REQUEST - done)
			want = RNG_MAX_PER_REQUEST - done;
		while (got < want) {
			ssize_t n = getrandom(p + got, want - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return (uint32_t)(done + got); /* give what we have */
			got += (size_t)n;
		}
		done += got;
	}
	return (uint32_t)done;
}

static void rng_queue_notify(void *opaque, struct virtio_dev *vdev, unsigned index)
{
	struct virtio_rng *r = opaque;
	struct virtq *vq = virtio_dev_queue(vdev, index);
	unsigned budget = VIRTIO_NOTIFY_BUDGET;
	int rc = 0;

	while (budget && (rc = virtq_pop(vq, &r->elem)) > 0) {
		budget--;
		uint32_t n = 0;

		if (r->elem.nin == 0) {
			/* 5.4.6.1: requests are device-writable buffers; a
			 * readable-only one is failed with nothing written. */
			virtio_dev_stats(vdev)->bad_request++;
			r->h->log(r->h, VMM_LOG_GUEST_ERROR,
				  "request %u has no device-writable buffer", r->elem.head);
		} else {
			n = rng_fill(r, &r->elem);
			r->bytes_given += n;
		}
		virtq_push(vq, &r->elem, n);
	}
	if (rc < 0)
		virtio_dev_needs_reset(vdev);
	else if (!budget)
		virtio_dev_defer_notify(vdev, index);
	virtio_dev_notify(vdev, vq);
}

static const struct virtio_dev_ops rng_virtio_ops = {
	.device_id = VIRTIO_ID_ENTROPY,
	.features = VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX),
	.num_queues = 1,
	.queue_max = 256,
	.queue_notify = rng_queue_notify,
};

static void rng_destroy(void *state)
{
	struct virtio_rng *r = state;

	virtio_dev_destroy(r->vdev);
	free(r);
}

static int rng_create(const struct vmm_host *h, void **state)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	r->h = h;
	rc = virtio_dev_create(h, &rng_virtio_ops, NULL, r, &r->vdev);
	if (rc) {
		free(r);
		return rc;
	}
	*state = r;
	return 0;
}

static void rng_reset(void *state)
{
	struct virtio_rng *r = state;

	virtio_dev_reset(r->vdev);
}

/* Saved state (ABI 1.12): the transport and its queue only.  Each request
 * is filled and completed inside its notification, and the device has no
 * rate limit or timer of its own: nothing else to carry. */
#define RNG_STATE_VERSION 1

static int rng_save(void *state, struct vmm_state_out *out)
{
	struct virtio_rng *r = state;

	return virtio_dev_save(r->vdev, out);
}

static int rng_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct virtio_rng *r = state;
	int rc = virtio_dev_load_version(r->vdev, version, RNG_STATE_VERSION);

	return rc ? rc : virtio_dev_load(r->vdev, in);
}

static const struct vmm_device_ops rng_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = rng_create,
	.destroy = rng_destroy,
	.reset = rng_reset,
	.state_version = RNG_STATE_VERSION,
	.save = rng_save,
	.load = rng_load,
};

static const struct vmm_prop_desc rng_props[] = {
	VIRTIO_TRANSPORT_PROPS,
	{ .name = NULL },
};

static const struct vmm_plugin virtio_rng_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "virtio-rng",
	.version = "1.0",
	.summary = "virtio entropy device on virtio-mmio, fed by getrandom()",
	.props = rng_props,
	.ops = &rng_dev_ops,
};

VMM_PLUGIN_DEFINE(virtio_rng_plugin)
