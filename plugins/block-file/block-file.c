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
	return block_flush(((struct block_file *)state)->fd);
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

/* The image, opened (fd >= 0) or, for a check, only looked at (fd -1). */
static int block_file_new(const struct vmm_host *h, void **state, bool check)
{
	const char *path;
	bool readonly;
	uint64_t size = 0;
	struct block_file *f;
	int rc = block_image_props(h, &path, &readonly);

	if (rc)
		return rc;
	rc = check ? block_image_check(h, path, readonly, 0, &size)
		   : block_image_open(h, path, readonly, 0, &size);
	if (rc < 0)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f) {
		if (!check)
			close(rc);
		return -ENOMEM;
	}
	f->fd = check ? -1 : rc;
	f->readonly = readonly;
	f->size = size;
	*state = f;
	return 0;
}

static int block_file_open(const struct vmm_host *h, void **state)
{
	return block_file_new(h, state, false);
}

/*
 * vmmctl check (ABI 1.6): the image is a regular file, readable, and
 * writable unless `readonly`, as open() needs (with its messages).  The
 * stand-in has no fd, only what info() reports: the device is built on the
 * disk's real size and flags.
 */
static int block_file_check(const struct vmm_host *h, void **state)
{
	return block_file_new(h, state, true);
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
