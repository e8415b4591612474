/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio-blk/virtio-blk.c - the virtio block device (virtio 1.2,
 * section 5.2, device ID 2) on a block backend (h->block_open, ABI 1.2),
 * normally plugins/block-file.
 *
 * Requests run on the thread that wrote QueueNotify; their data moves
 * between the backend and the guest buffers mapped by the virtqueue code,
 * with no copy in between.  The reads and writes one notification finds
 * queued go to the backend as one batch (h->block_io_batch, ABI 1.11), so
 * a backend that can (block-uring) has them all in flight at once: that is
 * what a driver's queue depth buys.  The notification returns when the
 * batch has completed.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/virtio/virtio.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_MQ           12
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_DWZ_F_UNMAP 1 /* discard / write-zeroes segment flag */

#define SECTOR 512u
#define BLK_QUEUE_MAX 256
#define BLK_MAX_QUEUES 16
/* Discard and write-zeroes limits we advertise: at most this many segments
 * of at most this many sectors (128 MiB) per request, so writing zeroes by
 * hand on a file system without ZERO_RANGE stays bounded. */
#define BLK_MAX_DWZ_SEGS 16
#define BLK_MAX_DWZ_SECTORS ((128u << 20) / SECTOR)

/* Byte offsets in struct virtio_blk_config (5.2.4). */
#define BLK_CFG_CAPACITY        0
#define BLK_CFG_SEG_MAX         12
#define BLK_CFG_BLK_SIZE        20
#define BLK_CFG_NUM_QUEUES      34
#define BLK_CFG_MAX_DISCARD_SECTORS 36
#define BLK_CFG_MAX_DISCARD_SEG     40
#define BLK_CFG_DISCARD_ALIGN       44
#define BLK_CFG_MAX_WZ_SECTORS      48
#define BLK_CFG_MAX_WZ_SEG          52
#define BLK_CFG_WZ_MAY_UNMAP        56
#define BLK_CFG_SIZE                60

/* A read or write waiting for the rest of its batch. */
struct blk_pending {
	struct virtq_elem elem;
	struct iovec data[VIRTQ_MAX_SIZE];
	struct vmm_block_req req;
	uint32_t len; /* bytes of data */
};

struct virtio_blk {
	struct virtio_dev *vdev; /* first: tests reach the counters through it */
	const struct vmm_host *h;
	struct vmm_block *disk;
	struct vmm_block_info info;
	bool readonly;     /* the property, or a read-only backend */
	uint64_t capacity; /* sectors */
	unsigned num_queues;
	char serial[VIRTIO_BLK_ID_BYTES];
	uint8_t config[BLK_CFG_SIZE];
	/* One notification's requests; calloc'd, so pages no driver uses
	 * are never touched. */
	struct blk_pending *batch; /* VIRTIO_NOTIFY_BUDGET of them */
	struct vmm_block_req reqs[VIRTIO_NOTIFY_BUDGET];
	int results[VIRTIO_NOTIFY_BUDGET];
	unsigned long io_errors; /* host-side failures, not the guest's */
};

struct blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

static void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static uint64_t blk_config_read(void *opaque, uint32_t offset, unsigned len)
{
	struct virtio_blk *b = opaque;
	uint64_t v = 0;

	/* Bytes past the structure read as zero. */
	for (unsigned i = 0; i < len; i++)
		if (offset + i < BLK_CFG_SIZE)
			v |= (uint64_t)b->config[offset + i] << (8 * i);
	return v;
}

/* A guest mistake in one request: counted and logged; the caller picks the
 * status it gets. */
static uint8_t blk_bad(struct virtio_blk *b, uint8_t status, const char *why, uint16_t head)
{
	virtio_dev_stats(b->vdev)->bad_request++;
	b->h->log(b->h, VMM_LOG_GUEST_ERROR, "request %u: %s", head, why);
	return status;
}

static uint8_t blk_io_status(struct virtio_blk *b, int rc, const char *op)
{
	if (!rc)
		return VIRTIO_BLK_S_OK;
	b->io_errors++;
	b->h->log(b->h, VMM_LOG_WARN, "%s failed: %s", op, strerror(-rc));
	return VIRTIO_BLK_S_IOERR;
}

static int blk_io(struct virtio_blk *b, uint32_t op, const struct iovec *iov, unsigned n,
		  uint64_t offset, uint64_t len)
{
	const struct vmm_block_req req = { .op = op, .iovcnt = (int)n, .iov = iov,
					   .offset = offset, .len = len };

	return b->h->block_io(b->h, b->disk, &req);
}

/* [sector, sector + count) inside the disk, without overflow. */
static bool blk_range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t count)
{
	return sector <= b->capacity && count <= b->capacity - sector;
}

/* Check a read or write and set up p->req: BLK_QUEUED when it joins the
 * batch, else the status it completes with now. */
#define BLK_QUEUED 0xff
static uint8_t blk_rw(struct virtio_blk *b, struct blk_pending *p, const struct blk_req_hdr *hdr,
		      bool write)
{
	const struct virtq_elem *e = &p->elem;
	size_t len = write ? e->out_len - sizeof(*hdr) : e->in_len - 1;
	unsigned n;

	/* 5.2.6.1: data is a whole number of 512-byte sectors. */
	if (len % SECTOR)
		return blk_bad(b, VIRTIO_BLK_S_IOERR, "data not a multiple of 512 bytes", e->head);
	if (!blk_range_ok(b, hdr->sector, len / SECTOR))
		return blk_bad(b, VIRTIO_BLK_S_IOERR, "sector beyond capacity", e->head);
	if (write) {
		/* 5.2.6.2: a write to a read-only device fails and
		 * writes nothing. */
		if (b->readonly)
			return blk_bad(b, VIRTIO_BLK_S_IOERR, "write to a read-only disk", e->head);
		n = virtq_iov_slice(e->iov, e->nout, sizeof(*hdr), len, p->data);
	} else {
		n = virtq_iov_slice(e->iov + e->nout, e->nin, 0, len, p->data);
	}
	p->req = (struct vmm_block_req){ .op = write ? VMM_BLOCK_OP_WRITE : VMM_BLOCK_OP_READ,
					 .iovcnt = (int)n, .iov = p->data,
					 .offset = hdr->sector * SECTOR };
	p->len = (uint32_t)len;
	return BLK_QUEUED;
}

static uint8_t blk_discard_or_zero(struct virtio_blk *b, const struct virtq_elem *e, bool zero)
{
	size_t len = e->out_len - sizeof(struct blk_req_hdr);
	unsigned feature = zero ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;

	if (!virtio_dev_has_feature(b->vdev, feature))
		return blk_bad(b, VIRTIO_BLK_S_UNSUPP, "command not negotiated", e->head);
	if (b->readonly)
		return blk_bad(b, VIRTIO_BLK_S_IOERR, "write to a read-only disk", e->head);
	if (len == 0 || len % sizeof(struct blk_dwz_seg) ||
	    len / sizeof(struct blk_dwz_seg) > BLK_MAX_DWZ_SEGS)
		return blk_bad(b, VIRTIO_BLK_S_IOERR, "bad segment list", e->head);

	/* Check every segment before touching the disk, so a bad list has
	 * no effect at all. */
	struct blk_dwz_seg segs[BLK_MAX_DWZ_SEGS];
	size_t nseg = len / sizeof(struct blk_dwz_seg);
	virtq_iov_read(e->iov, e->nout, sizeof(struct blk_req_hdr), segs, len);
	for (size_t i = 0; i < nseg; i++) {
		uint64_t sector = le64toh(segs[i].sector);
		uint32_t count = le32toh(segs[i].num_sectors), flags = le32toh(segs[i].flags);

		/* 5.2.6.2: unmap in a discard, or unknown flag bits, are
		 * unsupported. */
		if ((flags & ~(uint32_t)VIRTIO_BLK_DWZ_F_UNMAP) ||
		    (!zero && (flags & VIRTIO_BLK_DWZ_F_UNMAP)))
			return blk_bad(b, VIRTIO_BLK_S_UNSUPP, "unsupported segment flags", e->head);
		if (count > BLK_MAX_DWZ_SECTORS || !blk_range_ok(b, sector, count))
			return blk_bad(b, VIRTIO_BLK_S_IOERR, "segment beyond the limits", e->head);
		segs[i].sector = sector;
		segs[i].num_sectors = count;
	}
	for (size_t i = 0; i < nseg; i++) {
		uint64_t off = segs[i].sector * SECTOR, bytes = (uint64_t)segs[i].num_sectors * SECTOR;
		int rc = blk_io(b, zero ? VMM_BLOCK_OP_WRITE_ZEROES : VMM_BLOCK_OP_DISCARD, NULL, 0,
				off, bytes);

		/* Discard is a hint: where the file system cannot punch
		 * holes the data simply stays. */
		if (!zero && rc == -EOPNOTSUPP)
			rc = 0;
		if (rc)
			return blk_io_status(b, rc, zero ? "write zeroes" : "discard");
	}
	return VIRTIO_BLK_S_OK;
}

static void blk_complete(struct virtq *vq, const struct virtq_elem *e, uint8_t status,
			 uint32_t written)
{
	virtq_iov_write(e->iov + e->nout, e->nin, e->in_len - 1, &status, 1);
	virtq_push(vq, e, written + 1);
}

/* Run the @n queued reads and writes in b->batch together and complete
 * them. */
static void blk_run_batch(struct virtio_blk *b, struct virtq *vq, unsigned n)
{
	const struct vmm_host *h = b->h;
	bool wrote = false;
	int frc = 0;

	for (unsigned i = 0; i < n; i++)
		b->reqs[i] = b->batch[i].req;
	if (VMM_HOST_HAS(h, block_io_batch)) {
		if (h->block_io_batch(h, b->disk, b->reqs, b->results, n))
			for (unsigned i = 0; i < n; i++)
				b->results[i] = -EIO;
	} else {
		for (unsigned i = 0; i < n; i++)
			b->results[i] = h->block_io(h, b->disk, &b->reqs[i]);
	}
	for (unsigned i = 0; i < n; i++)
		wrote |= b->reqs[i].op == VMM_BLOCK_OP_WRITE && !b->results[i];
	/* Without VIRTIO_BLK_F_FLUSH the driver cannot ask for a flush, so
	 * the cache is write-through: durable before completion.  One flush
	 * covers the batch. */
	if (wrote && !virtio_dev_has_feature(b->vdev, VIRTIO_BLK_F_FLUSH))
		frc = blk_io(b, VMM_BLOCK_OP_FLUSH, NULL, 0, 0, 0);
	for (unsigned i = 0; i < n; i++) {
		bool write = b->reqs[i].op == VMM_BLOCK_OP_WRITE;
		int rc = b->results[i] ? b->results[i] : write ? frc : 0;
		uint8_t status = blk_io_status(b, rc, write ? "write" : "read");

		blk_complete(vq, &b->batch[i].elem, status,
			     !write && status == VIRTIO_BLK_S_OK ? b->batch[i].len : 0);
	}
}

/* Serve the request in b->batch[*n]: a read or write joins the batch
 * (*n grows); anything else runs now, after the batch so far.  Returns
 * false when it has no status byte to report through: the queue is then
 * unusable. */
static bool blk_request(struct virtio_blk *b, struct virtq *vq, unsigned *n)
{
	struct blk_pending *p = &b->batch[*n];
	struct virtq_elem *e = &p->elem;
	struct blk_req_hdr hdr;
	uint32_t written = 0;
	uint8_t status;

	/* 5.2.6: the last byte of the device-writable part is the status. */
	if (e->in_len == 0) {
		blk_bad(b, 0, "no device-writable status byte", e->head);
		virtq_push(vq, e, 0);
		return false;
	}
	if (e->out_len < sizeof(hdr)) {
		status = blk_bad(b, VIRTIO_BLK_S_IOERR, "request header shorter than 16 bytes",
				 e->head);
		goto out;
	}
	virtq_iov_read(e->iov, e->nout, 0, &hdr, sizeof(hdr));
	hdr.type = le32toh(hdr.type);
	hdr.sector = le64toh(hdr.sector);

	if (hdr.type == VIRTIO_BLK_T_IN || hdr.type == VIRTIO_BLK_T_OUT) {
		status = blk_rw(b, p, &hdr, hdr.type == VIRTIO_BLK_T_OUT);
		if (status == BLK_QUEUED) {
			(*n)++;
			return true;
		}
		goto out;
	}
	/* A flush covers what completed before it: finish the batch first
	 * (the other commands are ordered after it only for simplicity). */
	if (*n) {
		blk_run_batch(b, vq, *n);
		*n = 0;
	}
	switch (hdr.type) {
	case VIRTIO_BLK_T_FLUSH:
		/* Completion after fdatasync: what was reported written
		 * before the flush is on the disk when the guest hears. */
		status = blk_io_status(b, blk_io(b, VMM_BLOCK_OP_FLUSH, NULL, 0, 0, 0), "flush");
		break;
	case VIRTIO_BLK_T_GET_ID: {
		size_t idlen = e->in_len - 1 < VIRTIO_BLK_ID_BYTES ? e->in_len - 1 : VIRTIO_BLK_ID_BYTES;

		written += (uint32_t)virtq_iov_write(e->iov + e->nout, e->nin, 0, b->serial, idlen);
		status = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
		status = blk_discard_or_zero(b, e, false);
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = blk_discard_or_zero(b, e, true);
		break;
	default:
		status = blk_bad(b, VIRTIO_BLK_S_UNSUPP, "unknown request type", e->head);
		break;
	}
out:
	blk_complete(vq, e, status, written);
	return true;
}

static void blk_queue_notify(void *opaque, struct virtio_dev *vdev, unsigned index)
{
	struct virtio_blk *b = opaque;
	struct virtq *vq = virtio_dev_queue(vdev, index);
	unsigned budget = VIRTIO_NOTIFY_BUDGET, n = 0;
	int rc = 0;

	while (budget && (rc = virtq_pop(vq, &b->batch[n].elem)) > 0) {
		budget--;
		if (!blk_request(b, vq, &n)) {
			rc = -EINVAL;
			break;
		}
	}
	if (n)
		blk_run_batch(b, vq, n);
	if (rc < 0)
		virtio_dev_needs_reset(vdev);
	else if (!budget)
		virtio_dev_defer_notify(vdev, index);
	virtio_dev_notify(vdev, vq);
}

static const struct virtio_dev_ops blk_virtio_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.features = VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |
		    VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		    VIRTIO_BIT(VIRTIO_BLK_F_FLUSH),
	.num_queues = 1,
	.queue_max = BLK_QUEUE_MAX,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
};

static void blk_build_config(struct virtio_blk *b)
{
	uint8_t *c = b->config;

	put_le64(c + BLK_CFG_CAPACITY, b->capacity);
	/* seg_max counts data segments: header and status take two of the
	 * queue-size descriptors a chain may have. */
	put_le32(c + BLK_CFG_SEG_MAX, BLK_QUEUE_MAX - 2);
	put_le32(c + BLK_CFG_BLK_SIZE, SECTOR);
	put_le16(c + BLK_CFG_NUM_QUEUES, (uint16_t)b->num_queues);
	put_le32(c + BLK_CFG_MAX_DISCARD_SECTORS, BLK_MAX_DWZ_SECTORS);
	put_le32(c + BLK_CFG_MAX_DISCARD_SEG, BLK_MAX_DWZ_SEGS);
	put_le32(c + BLK_CFG_DISCARD_ALIGN, 1);
	put_le32(c + BLK_CFG_MAX_WZ_SECTORS, BLK_MAX_DWZ_SECTORS);
	put_le32(c + BLK_CFG_MAX_WZ_SEG, BLK_MAX_DWZ_SEGS);
	c[BLK_CFG_WZ_MAY_UNMAP] = 0;
}

static void blk_destroy(void *state)
{
	struct virtio_blk *b = state;

	/* The block backend is the core's; it closes it after the devices. */
	virtio_dev_destroy(b->vdev);
	free(b->batch);
	free(b);
}

static int blk_create(const struct vmm_host *h, void **state)
{
	const char *serial = h->prop_str(h, "serial");
	struct virtio_dev_setup setup = { 0 };
	struct virtio_blk *b;
	bool readonly = false;
	int64_t nq = 1;
	int rc;

	if (!VMM_HOST_HAS(h, block_open) || !VMM_HOST_HAS(h, block_io)) {
		h->log(h, VMM_LOG_ERROR, "the host has no block backends (ABI 1.2 needed)");
		return -ENOTSUP;
	}
	h->prop_bool(h, "readonly", &readonly);
	h->prop_int(h, "num-queues", &nq);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->h = h;
	b->num_queues = (unsigned)nq;
	b->batch = calloc(VIRTIO_NOTIFY_BUDGET, sizeof(*b->batch));
	if (!b->batch) {
		free(b);
		return -ENOMEM;
	}
	b->info.size = sizeof(b->info);
	b->disk = h->block_open(h, "disk", &b->info);
	if (!b->disk) {
		h->log(h, VMM_LOG_ERROR, "cannot open block backend '%s'",
		       h->prop_str(h, "disk") ? h->prop_str(h, "disk") : "");
		free(b->batch);
		free(b);
		return -ENODEV;
	}
	b->readonly = readonly || (b->info.flags & VMM_BLOCK_READONLY);
	b->capacity = b->info.bytes / SECTOR;
	if (b->info.bytes % SECTOR)
		h->log(h, VMM_LOG_WARN, "the last %llu bytes of the disk are not a whole sector and are not used",
		       (unsigned long long)(b->info.bytes % SECTOR));
	if (serial) {
		size_t n = strlen(serial);

		if (n > VIRTIO_BLK_ID_BYTES)
			h->log(h, VMM_LOG_WARN, "serial is cut to %d bytes", VIRTIO_BLK_ID_BYTES);
		/* 5.2.6: zero-padded, no terminator when all 20 are used. */
		memcpy(b->serial, serial, n < VIRTIO_BLK_ID_BYTES ? n : VIRTIO_BLK_ID_BYTES);
	}
	blk_build_config(b);

	setup.features = blk_virtio_ops.features;
	if (b->readonly) {
		setup.features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	} else {
		/* Offered only where the backend can: a guest that was told
		 * it may discard expects the command to be taken. */
		if (b->info.flags & VMM_BLOCK_DISCARD)
			setup.features |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD);
		if (b->info.flags & VMM_BLOCK_WRITE_ZEROES)
			setup.features |= VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	}
	if (b->num_queues > 1)
		setup.features |= VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	setup.num_queues = b->num_queues;
	rc = virtio_dev_create(h, &blk_virtio_ops, &setup, b, &b->vdev);
	if (rc) {
		free(b->batch);
		free(b);
		return rc;
	}
	*state = b;
	return 0;
}

static void blk_reset(void *state)
{
	struct virtio_blk *b = state;

	virtio_dev_reset(b->vdev);
}

/*
 * Saved state (ABI 1.12): the transport and its queues, and the disk's
 * geometry the driver was told (capacity, read-only), checked on load so a
 * snapshot is not resumed on another disk.  Every request completes inside
 * its notification (the batch is run before it returns), so at a pause no
 * request is between the avail and used rings, and the data already
 * reached the backend; the config space is built from the disk at create.
 * What the guest was told is written may still be in a write-back cache
 * (VIRTIO_BLK_F_FLUSH): save flushes the backend first, so the disk a
 * snapshot names holds it, and a flush that fails fails the snapshot.
 */
#define BLK_STATE_VERSION 1

static int blk_save(void *state, struct vmm_state_out *out)
{
	struct virtio_blk *b = state;
	int rc = b->readonly ? 0 : blk_io(b, VMM_BLOCK_OP_FLUSH, NULL, 0, 0, 0);

	if (rc) {
		b->h->log(b->h, VMM_LOG_ERROR, "flushing the disk before the snapshot failed: %s",
			  strerror(-rc));
		return rc;
	}
	rc = virtio_dev_save(b->vdev, out);
	if (!rc)
		rc = vmm_state_put_u64(b->h, out, "blk.capacity", b->capacity);
	if (!rc)
		rc = vmm_state_put_u8(b->h, out, "blk.readonly", b->readonly);
	return rc;
}

static int blk_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct virtio_blk *b = state;
	const char *field;
	uint64_t capacity;
	uint8_t ro;
	int rc = virtio_dev_load_version(b->vdev, version, BLK_STATE_VERSION);

	if (rc)
		return rc;
	if ((rc = vmm_state_get_u64(b->h, in, field = "blk.capacity", &capacity)) ||
	    (rc = vmm_state_get_u8(b->h, in, field = "blk.readonly", &ro))) {
		b->h->log(b->h, VMM_LOG_ERROR, "saved state: %s: %s", field,
			  rc == -ENOENT ? "missing" : "wrong size");
		return rc;
	}
	if (capacity != b->capacity) {
		b->h->log(b->h, VMM_LOG_ERROR, "saved state: blk.capacity: %llu sectors saved, the disk has %llu",
			  (unsigned long long)capacity, (unsigned long long)b->capacity);
		return -EINVAL;
	}
	if (ro != b->readonly) {
		b->h->log(b->h, VMM_LOG_ERROR, "saved state: blk.readonly: %u saved, the disk is %s",
			  ro, b->readonly ? "read-only" : "writable");
		return -EINVAL;
	}
	return virtio_dev_load(b->vdev, in);
}

static const struct vmm_device_ops blk_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = blk_create,
	.destroy = blk_destroy,
	.reset = blk_reset,
	.state_version = BLK_STATE_VERSION,
	.save = blk_save,
	.load = blk_load,
};

static const struct vmm_prop_desc blk_props[] = {
	VIRTIO_TRANSPORT_PROPS,
	{ .name = "disk", .type = VMM_PROP_STRING, .required = true,
	  .help = "block backend holding the disk (a backend section, e.g. plugin block-file)" },
	{ .name = "readonly", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "offer the disk read-only (VIRTIO_BLK_F_RO) even on a writable backend" },
	{ .name = "num-queues", .type = VMM_PROP_INT, .def_int = 1, .min = 1, .max = BLK_MAX_QUEUES,
	  .help = "request queues (more than 1 offers VIRTIO_BLK_F_MQ)" },
	{ .name = "serial", .type = VMM_PROP_STRING,
	  .help = "disk serial returned by GET_ID (up to 20 bytes)" },
	{ .name = NULL },
};

static const struct vmm_plugin virtio_blk_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "virtio-blk",
	.version = "1.0",
	.summary = "virtio block device on virtio-mmio, on a block backend",
	.props = blk_props,
	.ops = &blk_dev_ops,
};

VMM_PLUGIN_DEFINE(virtio_blk_plugin)
