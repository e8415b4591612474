/* SPDX-License-Identifier: MIT */
/*
 * block-file: a block backend on a raw disk image file (ABI 1.2).
 *
 * Reads and writes go straight to the file with preadv/pwritev, so data a
 * device reported written is in the host kernel and survives vmmctl being
 * killed; flush is fdatasync(2).  Discard punches holes and write-zeroes
 * uses FALLOC_FL_ZERO_RANGE where the file system has them.
 *
 * Thread-safe as the ABI asks: positioned I/O shares no file offset, and
 * the only state written after open is two "not supported" flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vmm/vmm.h>

#include "plugins/block-common/block-io.h"

struct block_file {
	int fd;
	uint64_t size;
	bool readonly;
	atomic_bool no_punch;      /* PUNCH_HOLE said EOPNOTSUPP once */
	atomic_bool no_zero_range; /* ZERO_RANGE likewise */
};

static void block_file_info(void *state, struct vmm_block_info *info)
{
	struct block_file *f = state;

	info->bytes = f->size;
	info->flags = f->readonly ? VMM_BLOCK_READONLY
				  : VMM_BLOCK_DISCARD | VMM_BLOCK_WRITE_ZEROES;
}

static int block_file_readv(void *state, const struct iovec *iov, int n, uint64_t offset)
{
	struct block_file *f = state;

	return block_rw_sync(f->fd, iov, n, offset, false, 0);
}

static int block_file_writev(void *state, const struct iovec *iov, int n, uint64_t offset)
{
	struct block_file *f = state;

	if (f->readonly)
		return -EROFS;
	return block_rw_sync(f->fd, iov, n, offset, true, 0);
}

static int block_file_flush(void *state)
{
	struct block_file *f = state;

	while (fdatasync(f->fd) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int block_file_discard(void *state, uint64_t offset, uint64_t len)
{
	struct block_file *f = state;

	if (f->readonly)
		return -EROFS;
	return block_discard(f->fd, &f->no_punch, offset, len);
}

static int block_file_write_zeroes(void *state, uint64_t offset, uint64_t len)
{
	struct block_file *f = state;

	if (f->readonly)
		return -EROFS;
	return block_write_zeroes(f->fd, &f->no_zero_range, offset, len);
}

static int block_file_open(const struct vmm_host *h, void **state)
{
	const char *path = h->prop_str(h, "path");
	bool readonly = false;
	struct block_file *f;
	struct stat st;
	int rc;

	h->prop_bool(h, "readonly", &readonly);
	if (!path) {
		h->log(h, VMM_LOG_ERROR, "property 'path' is not set");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->readonly = readonly;
	/* O_NONBLOCK: opening a FIFO read-only would wait for a writer; a
	 * non-regular file is refused below anyway. */
	f->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC);
	if (f->fd < 0) {
		rc = -errno;
		h->log(h, VMM_LOG_ERROR, "cannot open %s: %s", path, strerror(-rc));
		goto out_free;
	}
	if (fstat(f->fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A block device would need BLKGETSIZE64 and BLKDISCARD. */
		h->log(h, VMM_LOG_ERROR, "%s is not a regular file", path);
		rc = -EINVAL;
		goto out_close;
	}
	if (fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		rc = -errno;
		goto out_close;
	}
	f->size = (uint64_t)st.st_size;
	*state = f;
	return 0;

out_close:
	close(f->fd);
out_free:
	free(f);
	return rc;
}

/*
 * vmmctl check (ABI 1.6): the image is a regular file, readable, and
 * writable unless `readonly`, as open() needs (with its messages).  The
 * stand-in has no fd, only what info() reports: the device is built on the
 * disk's real size and flags.
 */
static int block_file_check(const struct vmm_host *h, void **state)
{
	const char *path = h->prop_str(h, "path");
	bool readonly = false;
	struct block_file *f;
	struct stat st;

	h->prop_bool(h, "readonly", &readonly);
	if (!path) {
		h->log(h, VMM_LOG_ERROR, "property 'path' is not set");
		return -EINVAL;
	}
	int e = stat(path, &st) < 0 || access(path, readonly ? R_OK : R_OK | W_OK) < 0 ? errno : 0;
	if (!e && !readonly && S_ISDIR(st.st_mode))
		e = EISDIR; /* what open(O_RDWR) says of a directory */
	if (e) {
		h->log(h, VMM_LOG_ERROR, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		h->log(h, VMM_LOG_ERROR, "%s is not a regular file", path);
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->readonly = readonly;
	f->size = (uint64_t)st.st_size;
	*state = f;
	return 0;
}

static void block_file_close(void *state)
{
	struct block_file *f = state;

	if (f->fd >= 0) /* a check's stand-in has none */
		close(f->fd);
	free(f);
}

static const struct vmm_block_backend_ops block_file_ops = {
	.base = {
		.size = sizeof(struct vmm_block_backend_ops),
		.type = VMM_BACKEND_BLOCK,
		.open = block_file_open,
		.close = block_file_close,
	},
	.info = block_file_info,
	.readv = block_file_readv,
	.writev = block_file_writev,
	.flush = block_file_flush,
	.discard = block_file_discard,
	.write_zeroes = block_file_write_zeroes,
	.check = block_file_check,
};

static const struct vmm_prop_desc block_file_props[] = {
	{ .name = "path", .type = VMM_PROP_STRING, .required = true,
	  .help = "raw disk image (a regular file; its size is the disk's)" },
	{ .name = "readonly", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "open the image read-only; writes, discards and zeroing fail" },
	{ .name = NULL },
};

static const struct vmm_plugin block_file_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_BACKEND,
	.name = "block-file",
	.version = "1.0",
	.summary = "block backend on a raw disk image file",
	.props = block_file_props,
	.ops = &block_file_ops,
};

VMM_PLUGIN_DEFINE(block_file_plugin)
