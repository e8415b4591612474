/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio/virtqueue.c - split virtqueues, device side (virtio 1.2,
 * section 2.7).
 *
 * The driver writes the descriptor table and the available ring from other
 * vCPUs while we read them, so every descriptor is copied once into a local
 * before it is checked and used, and ring indices are read with acquire
 * loads: a value is never checked in guest memory and then read again.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "virtqueue.h"

static const char *const virtq_err_names[VIRTQ_ERR_COUNT] = {
	[VIRTQ_ERR_LOOP] = "descriptor loop",
	[VIRTQ_ERR_INDEX] = "descriptor index out of range",
	[VIRTQ_ERR_ADDR] = "buffer outside guest RAM",
	[VIRTQ_ERR_ORDER] = "readable descriptor after a writable one",
	[VIRTQ_ERR_LENGTH] = "chain too long",
	[VIRTQ_ERR_AVAIL_IDX] = "available index too far ahead",
	[VIRTQ_ERR_INDIRECT] = "bad indirect descriptor",
	[VIRTQ_ERR_RING] = "bad ring",
};

void virtq_init(struct virtq *vq, const struct vmm_host *h, unsigned index)
{
	memset(vq, 0, sizeof(*vq));
	vq->h = h;
	vq->index = index;
}

void virtq_reset(struct virtq *vq)
{
	unsigned long errors[VIRTQ_ERR_COUNT];

	memcpy(errors, vq->errors, sizeof(errors));
	virtq_init(vq, vq->h, vq->index);
	memcpy(vq->errors, errors, sizeof(errors));
}

int virtq_error(struct virtq *vq, enum virtq_err err, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if ((unsigned)err < VIRTQ_ERR_COUNT)
		vq->errors[err]++;
	vq->h->log(vq->h, VMM_LOG_GUEST_ERROR, "virtqueue %u: %s: %s; queue stopped until reset",
		   vq->index, (unsigned)err < VIRTQ_ERR_COUNT ? virtq_err_names[err] : "error",
		   detail);
	vq->broken = true;
	return -EINVAL;
}

/* Map [gpa, gpa + len) when it is inside guest RAM; a zero-length range
 * needs no mapping (and may point anywhere). */
static void *virtq_map(struct virtq *vq, uint64_t gpa, size_t len)
{
	if (len == 0)
		return NULL;
	if (gpa + len < gpa)
		return NULL;
	return vq->h->mem_map(vq->h, gpa, len);
}

/*
 * Guest memory this device wrote through its mapping, told to the core
 * (ABI 1.15, host.h mark_dirty): the hypervisor's dirty log never sees it,
 * and a live migration would leave the page stale on the destination.
 * Always after the write, before the guest may see it.
 */
static void virtq_mark(struct virtq *vq, uint64_t gpa, uint64_t len)
{
	if (VMM_HOST_HAS(vq->h, mark_dirty))
		vq->h->mark_dirty(vq->h, gpa, len);
}

/* The used ring with avail_event after it (2.7.8): what the device writes
 * of the rings. */
static void virtq_mark_used(struct virtq *vq)
{
	virtq_mark(vq, vq->used_gpa, 6 + 8 * (uint64_t)vq->num + 2);
}

int virtq_enable(struct virtq *vq)
{
	size_t n = vq->num;

	/* 2.7: a split queue's size is a power of two (the free-running
	 * 16-bit indices wrap cleanly only then), at most 32768; we take
	 * up to VIRTQ_MAX_SIZE. */
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return virtq_error(vq, VIRTQ_ERR_RING, "queue size %zu", n);
	/* 2.7 table "Virtqueue Part Alignment": descriptors 16, available
	 * ring 2, used ring 4. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return virtq_error(vq, VIRTQ_ERR_RING, "misaligned rings (desc 0x%llx avail 0x%llx used 0x%llx)",
				   (unsigned long long)vq->desc_gpa, (unsigned long long)vq->avail_gpa,
				   (unsigned long long)vq->used_gpa);
	/* Both rings end with the other side's event index (2.7.6, 2.7.8). */
	vq->desc = virtq_map(vq, vq->desc_gpa, 16 * n);
	vq->avail = virtq_map(vq, vq->avail_gpa, 6 + 2 * n);
	vq->used = virtq_map(vq, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return virtq_error(vq, VIRTQ_ERR_RING, "rings not in guest RAM");
	}
	vq->broken = false;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->pushed = false;
	vq->ready = true;
	return 0;
}

static uint16_t *virtq_used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->num];
}

static uint16_t *virtq_avail_event(struct virtq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

static uint16_t virtq_avail_idx(struct virtq *vq)
{
	return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
}

/* Walk one chain: either the main table from `head`, or an indirect table
 * from entry 0.  `count` counts descriptors over the whole chain. */
static int virtq_walk(struct virtq *vq, struct virtq_elem *e, const struct virtq_desc *table,
		      unsigned entries, uint16_t first, bool in_indirect, unsigned *count)
{
	uint16_t i = first;

	for (;;) {
		struct virtq_desc d;
		uint64_t addr;
		uint32_t len;
		uint16_t flags;

		if (i >= entries)
			return virtq_error(vq, VIRTQ_ERR_INDEX, "index %u of %u", i, entries);
		/* 2.7.5.3.1 and 2.7.4.2: no chain is longer than the queue;
		 * passing that many descriptors means the chain loops. */
		if (++*count > vq->num)
			return virtq_error(vq, VIRTQ_ERR_LOOP, "chain from head %u passes %u descriptors",
					   e->head, vq->num);
		memcpy(&d, &table[i], sizeof(d));
		addr = le64toh(d.addr);
		len = le32toh(d.len);
		flags = le16toh(d.flags);

		if (flags & VIRTQ_DESC_F_INDIRECT) {
			const struct virtq_desc *sub;

			/* 2.7.5.3.1: only when negotiated, never nested, never
			 * with NEXT, and the table holds whole descriptors.  We
			 * take it only as the chain's first descriptor, as
			 * drivers place it; anything else is refused. */
			if (!vq->indirect || in_indirect || (flags & VIRTQ_DESC_F_NEXT) ||
			    *count != 1 || len == 0 || (len & 15))
				return virtq_error(vq, VIRTQ_ERR_INDIRECT,
						   "flags 0x%x length %u at head %u%s", flags, len, e->head,
						   vq->indirect ? "" : " (not negotiated)");
			if (len / 16 > vq->num)
				return virtq_error(vq, VIRTQ_ERR_LOOP, "indirect table of %u entries",
						   len / 16);
			sub = virtq_map(vq, addr, len);
			if (!sub)
				return virtq_error(vq, VIRTQ_ERR_ADDR, "indirect table at 0x%llx+%u",
						   (unsigned long long)addr, len);
			/* The indirect descriptor itself is not a buffer: its
			 * WRITE flag is ignored (2.7.5.3.2). */
			*count = 0;
			return virtq_walk(vq, e, sub, len / 16, 0, true, count);
		}

		if (flags & VIRTQ_DESC_F_WRITE) {
			e->in_len += len;
		} else {
			/* 2.7.4.2: device-writable buffers come after all
			 * device-readable ones. */
			if (e->nin)
				return virtq_error(vq, VIRTQ_ERR_ORDER, "descriptor %u at head %u", i,
						   e->head);
			e->out_len += len;
		}
		if (e->out_len + e->in_len > VIRTQ_MAX_CHAIN_BYTES)
			return virtq_error(vq, VIRTQ_ERR_LENGTH, "more than %u bytes at head %u",
					   VIRTQ_MAX_CHAIN_BYTES, e->head);
		if (len) {
			void *p = virtq_map(vq, addr, len);

			if (!p)
				return virtq_error(vq, VIRTQ_ERR_ADDR, "buffer 0x%llx+%u at head %u",
						   (unsigned long long)addr, len, e->head);
			/* *count <= num <= VIRTQ_MAX_SIZE bounds nout + nin. */
			e->iov[e->nout + e->nin].iov_base = p;
			e->iov[e->nout + e->nin].iov_len = len;
			e->gpa[e->nout + e->nin] = addr;
			if (flags & VIRTQ_DESC_F_WRITE)
				e->nin++;
			else
				e->nout++;
		}
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
	}
}

int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
	uint16_t avail_idx, pending, head;
	unsigned count = 0;

	if (!vq->ready || vq->broken)
		return 0;
	avail_idx = virtq_avail_idx(vq);
	if (avail_idx == vq->last_avail && vq->event_idx) {
		/* 2.7.10: tell the driver which index to notify us at, then
		 * look again, so a buffer made available between our read
		 * and our write is not left without a notification. */
		__atomic_store_n(virtq_avail_event(vq), htole16(vq->last_avail), __ATOMIC_RELAXED);
		virtq_mark_used(vq);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = virtq_avail_idx(vq);
	}
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->num)
		return virtq_error(vq, VIRTQ_ERR_AVAIL_IDX, "idx %u, last seen %u, queue size %u",
				   avail_idx, vq->last_avail, vq->num);

	head = le16toh(__atomic_load_n(&vq->avail->ring[vq->last_avail & (vq->num - 1)],
				       __ATOMIC_RELAXED));
	e->head = head;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;
	int rc = virtq_walk(vq, e, vq->desc, vq->num, head, false, &count);
	if (rc)
		return rc;
	vq->last_avail++;
	if (vq->event_idx) {
		__atomic_store_n(virtq_avail_event(vq), htole16(vq->last_avail), __ATOMIC_RELAXED);
		virtq_mark_used(vq);
	}
	return 1;
}

void virtq_fill(struct virtq *vq, const struct virtq_elem *e, uint32_t written, unsigned idx)
{
	struct virtq_used_elem *u;

	if (!vq->ready)
		return;
	/* Its device-writable buffers: written by now (the whole of each:
	 * `written` need not say which bytes). */
	for (unsigned i = e->nout; i < e->nout + e->nin; i++)
		virtq_mark(vq, e->gpa[i], e->iov[i].iov_len);
	u = &vq->used->ring[(uint16_t)(vq->used_idx + idx) & (vq->num - 1)];
	u->id = htole32(e->head);
	u->len = htole32(written);
}

void virtq_flush(struct virtq *vq, unsigned count)
{
	if (!vq->ready || !count)
		return;
	vq->used_idx = (uint16_t)(vq->used_idx + count);
	vq->pushed = true;
	/* 2.7.8.2: the elements are visible before the index that publishes them. */
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	virtq_mark_used(vq);
}

void virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t written)
{
	virtq_fill(vq, e, written, 0);
	virtq_flush(vq, 1);
}

void virtq_unpop(struct virtq *vq, unsigned n)
{
	if (!vq->ready)
		return;
	vq->last_avail = (uint16_t)(vq->last_avail - n);
	if (vq->event_idx) {
		__atomic_store_n(virtq_avail_event(vq), htole16(vq->last_avail), __ATOMIC_RELAXED);
		virtq_mark_used(vq);
	}
}

/* 2.7.10: the driver asks to be interrupted when used idx passes
 * used_event, i.e. when used_event lies in [old, new). */
static bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_need_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_valid;

	/* Nothing pushed since the last decision: nothing to tell. */
	if (!vq->ready || !vq->pushed)
		return false;
	vq->pushed = false;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	/* The used index we published must be visible before we read the
	 * driver's suppression state, or both sides may skip the wake-up. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		/* 2.7.7.2: without EVENT_IDX the driver's flag decides. */
		return !(le16toh(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED)) &
			 VIRTQ_AVAIL_F_NO_INTERRUPT);
	/* The first decision after enable has no "old": interrupt. */
	if (!valid)
		return true;
	return vring_need_event(le16toh(__atomic_load_n(virtq_used_event(vq), __ATOMIC_RELAXED)),
				vq->used_idx, old);
}

/* Copy between a flat buffer and [offset, offset + len) of the segments,
 * either way: the one loop behind virtq_iov_read and virtq_iov_write. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t offset, uint8_t *buf, size_t len,
		       bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - offset;
		if (chunk > len - done)
			chunk = len - done;
		uint8_t *seg = (uint8_t *)iov[i].iov_base + offset;
		if (to_iov)
			memcpy(seg, buf + done, chunk);
		else
			memcpy(buf + done, seg, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t virtq_iov_read(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len)
{
	return iov_copy(iov, n, offset, buf, len, false);
}

size_t virtq_iov_write(const struct iovec *iov, unsigned n, size_t offset, const void *buf,
		       size_t len)
{
	/* to_iov: the buffer is only read */
	return iov_copy(iov, n, offset, (uint8_t *)(uintptr_t)buf, len, true);
}

size_t virtq_iov_copy(const struct iovec *dst, unsigned dn, const struct iovec *src, unsigned sn,
		      size_t src_off, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < sn && done < len; i++) {
		size_t l = src[i].iov_len, take, put;

		if (src_off >= l) {
			src_off -= l;
			continue;
		}
		take = l - src_off < len - done ? l - src_off : len - done;
		put = virtq_iov_write(dst, dn, done, (const uint8_t *)src[i].iov_base + src_off, take);
		done += put;
		if (put < take)
			break; /* @dst is full */
		src_off = 0;
	}
	return done;
}

unsigned virtq_iov_slice(const struct iovec *iov, unsigned n, size_t offset, size_t len,
			 struct iovec *dst)
{
	unsigned nd = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		size_t chunk = iov[i].iov_len - offset;
		if (chunk > len)
			chunk = len;
		dst[nd].iov_base = (uint8_t *)iov[i].iov_base + offset;
		dst[nd].iov_len = chunk;
		nd++;
		len -= chunk;
		offset = 0;
	}
	return nd;
}
