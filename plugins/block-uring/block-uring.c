/* SPDX-License-Identifier: MIT */
/*
 * block-uring: a block backend on a raw disk image file that submits reads
 * and writes with io_uring (ABI 1.11), so that a batch of requests (all the
 * reads and writes a virtio-blk notification found queued) is in flight at
 * once: one io_uring_enter submits them and waits for the last.
 *
 * cache = "none" opens the image with O_DIRECT: the page cache is
 * bypassed, so a request goes to the disk and the host keeps no second
 * copy of the guest's data.  O_DIRECT wants the buffer address, the length
 * and the offset of a request aligned to the file system's block (512 bytes
 * on most disks, 4096 on some).  What is not 512-aligned, and what the
 * kernel refuses with EINVAL, goes through the page cache on a second
 * descriptor instead of failing, which a guest with odd-sized buffers then
 * pays in speed only.  A file system without O_DIRECT (tmpfs before Linux
 * 6.6, some FUSE ones) is refused at open with one line.
 *
 * cache = "writeback" (the default) goes through the page cache like
 * block-file: completed writes are in the host kernel and survive vmmctl
 * being killed; flush is fdatasync(2) in both modes.
 *
 * A short completion (a signal, the end of the file) is finished with
 * preadv/pwritev; a read that meets the end of the file fails with EIO.
 * Discard and write-zeroes are fallocate(2), as in block-file.
 *
 * Thread-safe as the ABI asks: the ring has one submitter at a time (a
 * mutex; a disk belongs to one device, so it is uncontended), positioned
 * I/O shares no file offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vmm/vmm.h>

#include "plugins/block-common/block-io.h"

/* Below this O_DIRECT is not attempted; above, the kernel may still say
 * EINVAL (a 4 KiB-sector file system), and the request is redone through
 * the page cache. */
#define DIRECT_ALIGN 512u

struct block_uring {
	int fd;       /* O_DIRECT with cache = "none" */
	int cached;   /* a page-cache descriptor: fd itself unless direct */
	uint64_t size;
	bool readonly;
	bool direct;
	pthread_mutex_t lock; /* the ring */
	struct io_uring ring;
	bool have_ring;
	atomic_bool no_punch;      /* PUNCH_HOLE said EOPNOTSUPP once */
	atomic_bool no_zero_range; /* ZERO_RANGE likewise */
};

static void uring_info(void *state, struct vmm_block_info *info)
{
	struct block_uring *u = state;

	info->bytes = u->size;
	info->flags = u->readonly ? VMM_BLOCK_READONLY : VMM_BLOCK_DISCARD | VMM_BLOCK_WRITE_ZEROES;
}

static bool direct_ok(const struct vmm_block_req *r)
{
	if (r->offset % DIRECT_ALIGN)
		return false;
	for (int i = 0; i < r->iovcnt; i++)
		if ((uintptr_t)r->iov[i].iov_base % DIRECT_ALIGN || r->iov[i].iov_len % DIRECT_ALIGN)
			return false;
	return true;
}

static uint64_t req_bytes(const struct vmm_block_req *r)
{
	uint64_t b = 0;

	for (int i = 0; i < r->iovcnt; i++)
		b += r->iov[i].iov_len;
	return b;
}

/* What a completion with result @res means for request @r: done, an
 * error, or (short, or O_DIRECT refused) the rest done synchronously. */
static int uring_finish(struct block_uring *u, const struct vmm_block_req *r, int res)
{
	bool write = r->op == VMM_BLOCK_OP_WRITE;

	if (res == -EINVAL && u->direct)
		return block_rw_sync(u->cached, r->iov, r->iovcnt, r->offset, write, 0);
	if (res == -EINTR || res == -EAGAIN)
		return block_rw_sync(u->fd, r->iov, r->iovcnt, r->offset, write, 0);
	if (res < 0)
		return res;
	if ((uint64_t)res == req_bytes(r))
		return 0;
	if (res == 0 && !write)
		return -EIO; /* the end of the file */
	/* Short: the rest on the page-cache descriptor, which takes any
	 * alignment. */
	return block_rw_sync(u->cached, r->iov, r->iovcnt, r->offset, write, (uint64_t)res);
}

static void uring_submit(void *state, const struct vmm_block_req *reqs, int *results, unsigned n)
{
	struct block_uring *u = state;
	unsigned queued = 0;

	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < n; i++) {
		const struct vmm_block_req *r = &reqs[i];
		bool write = r->op == VMM_BLOCK_OP_WRITE;
		struct io_uring_sqe *sqe;

		if (write && u->readonly) {
			results[i] = -EROFS;
			continue;
		}
		if (u->direct && !direct_ok(r)) {
			results[i] = block_rw_sync(u->cached, r->iov, r->iovcnt, r->offset, write, 0);
			continue;
		}
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe) { /* cannot happen: the ring holds VMM_BLOCK_BATCH_MAX */
			results[i] = block_rw_sync(u->fd, r->iov, r->iovcnt, r->offset, write, 0);
			continue;
		}
		if (write)
			io_uring_prep_writev(sqe, u->fd, r->iov, (unsigned)r->iovcnt, r->offset);
		else
			io_uring_prep_readv(sqe, u->fd, r->iov, (unsigned)r->iovcnt, r->offset);
		io_uring_sqe_set_data64(sqe, i);
		results[i] = 1; /* in flight */
		queued++;
	}
	if (queued) {
		int rc;

		do
			rc = io_uring_submit_and_wait(&u->ring, queued);
		while (rc == -EINTR);
		if (rc < 0) {
			/* Nothing was taken: run them here. */
			for (unsigned i = 0; i < n; i++)
				if (results[i] == 1)
					results[i] = block_rw_sync(u->fd, reqs[i].iov, reqs[i].iovcnt, reqs[i].offset,
							     reqs[i].op == VMM_BLOCK_OP_WRITE, 0);
			queued = 0;
		}
	}
	while (queued) {
		struct io_uring_cqe *cqe;
		int rc = io_uring_wait_cqe(&u->ring, &cqe);

		if (rc == -EINTR)
			continue;
		if (rc < 0)
			break; /* cannot happen with submitted requests */
		uint64_t i = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		if (i < n && results[i] == 1) {
			results[i] = uring_finish(u, &reqs[i], res);
			queued--;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (results[i] == 1)
			results[i] = -EIO;
	pthread_mutex_unlock(&u->lock);
}

static int uring_readv(void *state, const struct iovec *iov, int n, uint64_t offset)
{
	const struct vmm_block_req r = { .op = VMM_BLOCK_OP_READ, .iovcnt = n, .iov = iov, .offset = offset };
	int rc;

	uring_submit(state, &r, &rc, 1);
	return rc;
}

static int uring_writev(void *state, const struct iovec *iov, int n, uint64_t offset)
{
	const struct vmm_block_req r = { .op = VMM_BLOCK_OP_WRITE, .iovcnt = n, .iov = iov, .offset = offset };
	int rc;

	uring_submit(state, &r, &rc, 1);
	return rc;
}

static int uring_flush(void *state)
{
	/* One fdatasync covers both descriptors: they share the inode. */
	return block_flush(((struct block_uring *)state)->fd);
}

static int uring_discard(void *state, uint64_t offset, uint64_t len)
{
	struct block_uring *u = state;

	if (u->readonly)
		return -EROFS;
	return block_discard(u->fd, &u->no_punch, offset, len);
}

static int uring_write_zeroes(void *state, uint64_t offset, uint64_t len)
{
	struct block_uring *u = state;

	if (u->readonly)
		return -EROFS;
	/* Zeroes written by hand go through the page cache: the buffer is
	 * not aligned for O_DIRECT. */
	return block_write_zeroes(u->cached, &u->no_zero_range, offset, len);
}

/* The properties both open and check read: 0, or -EINVAL after a line. */
static int uring_props(const struct vmm_host *h, const char **path, bool *readonly, bool *direct)
{
	const char *cache = h->prop_str(h, "cache");

	*direct = cache && strcmp(cache, "none") == 0;
	return block_image_props(h, path, readonly);
}

static void uring_close(void *state)
{
	struct block_uring *u = state;

	if (u->have_ring)
		io_uring_queue_exit(&u->ring);
	if (u->cached >= 0 && u->cached != u->fd)
		close(u->cached);
	if (u->fd >= 0) /* a check's stand-in has none */
		close(u->fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static struct block_uring *uring_new(void)
{
	struct block_uring *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->fd = u->cached = -1;
	pthread_mutex_init(&u->lock, NULL);
	return u;
}

static int uring_open(const struct vmm_host *h, void **state)
{
	const char *path;
	bool readonly, direct;
	struct block_uring *u;
	int rc = uring_props(h, &path, &readonly, &direct);

	if (rc)
		return rc;
	u = uring_new();
	if (!u)
		return -ENOMEM;
	u->readonly = readonly;
	u->direct = direct;
	u->fd = block_image_open(h, path, readonly, direct ? O_DIRECT : 0, &u->size);
	if (u->fd < 0) {
		rc = u->fd;
		u->fd = -1;
		goto out;
	}
	u->cached = direct ? open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC) : u->fd;
	if (u->cached < 0) {
		rc = -errno;
		h->log(h, VMM_LOG_ERROR, "cannot open %s: %s", path, strerror(-rc));
		goto out;
	}
	rc = io_uring_queue_init(VMM_BLOCK_BATCH_MAX, &u->ring, 0);
	if (rc < 0) {
		h->log(h, VMM_LOG_ERROR, "io_uring is not available here (%s); use plugin \"block-file\"",
		       strerror(-rc));
		goto out;
	}
	u->have_ring = true;
	*state = u;
	return 0;

out:
	uring_close(u);
	return rc;
}

/*
 * vmmctl check (ABI 1.6): what open() would say of the image, without
 * writing (for cache = "none" it is opened read-only with O_DIRECT and
 * closed again, so a file system without direct I/O is found now).
 */
static int uring_check(const struct vmm_host *h, void **state)
{
	const char *path;
	bool readonly, direct;
	struct block_uring *u;
	uint64_t size;
	int rc = uring_props(h, &path, &readonly, &direct);

	if (rc || (rc = block_image_check(h, path, readonly, direct ? O_DIRECT : 0, &size)))
		return rc;
	u = uring_new();
	if (!u)
		return -ENOMEM;
	u->readonly = readonly;
	u->size = size;
	*state = u;
	return 0;
}

static const struct vmm_block_backend_ops uring_ops = {
	.base = {
		.size = sizeof(struct vmm_block_backend_ops),
		.type = VMM_BACKEND_BLOCK,
		.open = uring_open,
		.close = uring_close,
	},
	.info = uring_info,
	.readv = uring_readv,
	.writev = uring_writev,
	.flush = uring_flush,
	.discard = uring_discard,
	.write_zeroes = uring_write_zeroes,
	.check = uring_check,
	.submit = uring_submit,
};

static const char *const uring_cache_modes[] = { "writeback", "none", NULL };

static const struct vmm_prop_desc uring_props_desc[] = {
	{ .name = "path", .type = VMM_PROP_STRING, .required = true,
	  .help = "raw disk image (a regular file; its size is the disk's)" },
	{ .name = "readonly", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "open the image read-only; writes, discards and zeroing fail" },
	{ .name = "cache", .type = VMM_PROP_ENUM, .def_str = "writeback", .choices = uring_cache_modes,
	  .help = "writeback: through the host page cache; none: O_DIRECT (needs a file system with direct I/O)" },
	{ .name = NULL },
};

/* ABI 1.10: beyond vmmctl's seccomp allow-lists.  A batch is submitted
 * and waited for with io_uring_enter on the vCPU thread whose
 * notification brought it (the ring is set up before the filters). */
static const char *const uring_syscalls[] = { "io_uring_enter", NULL };

static const struct vmm_plugin block_uring_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_BACKEND,
	.name = "block-uring",
	.version = "1.0",
	.summary = "block backend on a raw disk image file, many requests in flight with io_uring",
	.props = uring_props_desc,
	.ops = &uring_ops,
	.syscalls = uring_syscalls,
};

VMM_PLUGIN_DEFINE(block_uring_plugin)
