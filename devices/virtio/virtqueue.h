/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio/virtqueue.h - split virtqueues (virtio 1.2, section 2.7),
 * device side.
 *
 * The rings live in guest RAM and are reached only through the host table
 * (h->mem_map, bounds-checked).  Everything in them is guest-controlled:
 * a bad chain never crashes or hangs the VMM, it is counted in
 * struct virtq.errors, logged as VMM_LOG_GUEST_ERROR, marks the queue broken
 * and makes virtq_pop() return a negative errno so the device can take its
 * error path (normally virtio_dev_needs_reset()).
 *
 * Error convention: 0 or a negative errno; virtq_pop() returns 1 for an
 * element, 0 for an empty ring.
 *
 * Not thread-safe: the core serialises every call into one device instance.
 */
#ifndef VMM_VIRTQUEUE_H
#define VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <vmm/host.h>

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

/* Ring flags (2.7.6, 2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

/* Ring layouts in guest memory, little-endian (2.7.5, 2.7.6, 2.7.8). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* [num], then uint16_t used_event */
};

struct virtq_used_elem {
	uint32_t id;  /* head index of the chain, as a 32-bit value */
	uint32_t len; /* bytes written into the device-writable part */
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* [num], then uint16_t avail_event */
};

/* The largest queue this code runs, and so the longest chain it accepts
 * (2.7.5.3.1: no chain, indirect or not, is longer than the queue size). */
#define VIRTQ_MAX_SIZE 256

/* A chain whose buffers add up to more than this is refused: no device
 * here needs one, and a guest could otherwise make a device loop over
 * gigabytes of "buffer" built from one page referenced many times. */
#define VIRTQ_MAX_CHAIN_BYTES (64u << 20)

/* What can be wrong with a guest's queue; each kind is counted apart. */
enum virtq_err {
	VIRTQ_ERR_LOOP = 0,      /* chain longer than the queue (or table): a loop */
	VIRTQ_ERR_INDEX,         /* head or next index past the ring / table */
	VIRTQ_ERR_ADDR,          /* a buffer or table not inside guest RAM */
	VIRTQ_ERR_ORDER,         /* a device-readable buffer after a writable one */
	VIRTQ_ERR_LENGTH,        /* chain longer than VIRTQ_MAX_CHAIN_BYTES */
	VIRTQ_ERR_AVAIL_IDX,     /* avail idx more than the queue size ahead */
	VIRTQ_ERR_INDIRECT,      /* bad indirect descriptor (2.7.5.3.1) */
	VIRTQ_ERR_RING,          /* rings misaligned, not in RAM, or bad size */
	VIRTQ_ERR_COUNT
};

/* One available chain, split into device-readable ("out", first) and
 * device-writable ("in", after) segments, each mapped to host memory. */
struct virtq_elem {
	uint16_t head;         /* what virtq_push() reports back */
	unsigned nout, nin;    /* iov[0..nout) readable, iov[nout..nout+nin) writable */
	size_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SIZE];
	uint64_t gpa[VIRTQ_MAX_SIZE]; /* where iov[i] lies in guest memory */
};

struct virtq {
	const struct vmm_host *h;
	unsigned index;           /* for log lines */
	/* Set by the driver through the transport before virtq_enable(). */
	uint16_t num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;           /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;            /* VIRTIO_F_INDIRECT_DESC negotiated */

	bool ready;
	bool broken;              /* a guest error stopped the queue until reset */
	struct virtq_desc *desc;  /* host views of the rings, mapped at enable */
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;      /* next avail ring slot to pop */
	uint16_t used_idx;        /* our copy of used->idx */
	uint16_t signalled_used;  /* used_idx when the driver was last interrupted */
	bool signalled_valid;     /* signalled_used means something */
	bool pushed;              /* used entries added since the last decision */

	unsigned long errors[VIRTQ_ERR_COUNT];
};

/**
 * virtq_init() - a queue in its reset state.
 * @vq: the queue.
 * @h: the host whose guest memory holds the rings.
 * @index: the queue's number, for log lines.
 */
void virtq_init(struct virtq *vq, const struct vmm_host *h, unsigned index);

/**
 * virtq_reset() - forget the rings and negotiated options (device reset);
 * error counters are kept.
 * @vq: the queue.
 */
void virtq_reset(struct virtq *vq);

/**
 * virtq_enable() - map the rings the driver described (num, *_gpa) and start.
 * @vq: the queue.
 *
 * Return: 0, or -EINVAL (counted as VIRTQ_ERR_RING) when the size is not a
 * power of two up to VIRTQ_MAX_SIZE or a ring is misaligned or not in RAM.
 */
int virtq_enable(struct virtq *vq);

/**
 * virtq_pop() - take the next available chain.
 * @vq: an enabled queue.
 * @elem: receives the chain.
 *
 * Return: 1 with @elem filled, 0 when the ring is empty (or the queue is
 * not ready or broken), or a negative errno after a guest error: the queue
 * is then broken and the chain is not returned.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *elem);

/**
 * virtq_push() - return a chain to the driver in the used ring.
 * @vq: the queue it came from.
 * @elem: the chain (only head is used).
 * @written: bytes the device wrote into the writable part.
 */
void virtq_push(struct virtq *vq, const struct virtq_elem *elem, uint32_t written);

/**
 * virtq_fill() - write the used entry for a chain @idx places after the
 * used index, without publishing it (a frame spread over several chains is
 * published at once with virtq_flush()).
 * @vq: the queue it came from.
 * @elem: the chain (only head is used).
 * @written: bytes the device wrote into the writable part.
 * @idx: 0 for the next used entry, 1 for the one after, ...
 */
void virtq_fill(struct virtq *vq, const struct virtq_elem *elem, uint32_t written, unsigned idx);

/** virtq_flush() - publish @count entries written with virtq_fill(). */
void virtq_flush(struct virtq *vq, unsigned count);

/**
 * virtq_unpop() - give back the last @n chains popped and not pushed: the
 * next virtq_pop() returns them again (a device that found too few buffers
 * for a frame).
 */
void virtq_unpop(struct virtq *vq, unsigned n);

/**
 * virtq_need_interrupt() - whether the driver wants a used-buffer
 * notification for what was pushed since the last one (2.7.7.2, 2.7.10).
 * @vq: the queue.
 *
 * Return: true when the transport should interrupt; the queue then counts
 * the driver as notified up to the current used index.
 */
bool virtq_need_interrupt(struct virtq *vq);

/**
 * virtq_error() - count and log a guest error and break the queue.
 * @vq: the queue.
 * @err: the kind.
 * @fmt: printf-style detail.
 *
 * Return: -EINVAL, for the caller to pass on.
 */
int virtq_error(struct virtq *vq, enum virtq_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Helpers over segment lists, bounds-checked against the segments. */

/**
 * virtq_iov_read() - copy @len bytes at byte @offset of @iov into @buf.
 *
 * Return: the bytes copied (less than @len when the segments end first).
 */
size_t virtq_iov_read(const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len);

/**
 * virtq_iov_write() - copy @len bytes of @buf to byte @offset of @iov.
 *
 * Return: the bytes copied.
 */
size_t virtq_iov_write(const struct iovec *iov, unsigned n, size_t offset, const void *buf,
		       size_t len);

/**
 * virtq_iov_copy() - copy [@src_off, @src_off + @len) of the segments
 * @src into the segments @dst, from their start.
 *
 * Return: the bytes copied (less than @len when either side ends first).
 */
size_t virtq_iov_copy(const struct iovec *dst, unsigned dn, const struct iovec *src, unsigned sn,
		      size_t src_off, size_t len);

/**
 * virtq_iov_slice() - the segments covering [offset, offset + len) of @iov.
 * @dst: receives at most @n segments (never more than @iov had).
 *
 * Return: the number of segments in @dst; they cover less than @len only
 * when @iov is shorter.
 */
unsigned virtq_iov_slice(const struct iovec *iov, unsigned n, size_t offset, size_t len,
			 struct iovec *dst);

#endif
