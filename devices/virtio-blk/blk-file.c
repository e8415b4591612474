/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio-blk/blk-file.c - a raw disk image file.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk-file.h"

int blk_file_open(struct blk_file *f, const char *path, bool readonly)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	f->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	if (fstat(f->fd, &st) < 0) {
		int e = errno;
		close(f->fd);
		f->fd = -1;
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		/* Block devices would need BLKGETSIZE64 and discard ioctls. */
		close(f->fd);
		f->fd = -1;
		return -EINVAL;
	}
	f->size = (uint64_t)st.st_size;
	f->readonly = readonly;
	return 0;
}

void blk_file_close(struct blk_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* preadv/pwritev until done: they may transfer less than asked (signals,
 * large requests), so the remaining segments are walked again. */
static int blk_file_rw(struct blk_file *f, const struct iovec *iov, unsigned n, uint64_t offset,
		       bool write)
{
	struct iovec left[BLK_FILE_MAX_SEGS];
	unsigned first = 0;

	if (n > BLK_FILE_MAX_SEGS)
		return -EINVAL;
	memcpy(left, iov, n * sizeof(*iov));
	while (first < n) {
		ssize_t done = write ? pwritev(f->fd, left + first, (int)(n - first), (off_t)offset)
				     : preadv(f->fd, left + first, (int)(n - first), (off_t)offset);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EIO; /* end of file inside the request */
		offset += (uint64_t)done;
		while (first < n && (size_t)done >= left[first].iov_len) {
			done -= (ssize_t)left[first].iov_len;
			first++;
		}
		if (first < n) {
			left[first].iov_base = (uint8_t *)left[first].iov_base + done;
			left[first].iov_len -= (size_t)done;
		}
	}
	return 0;
}

int blk_file_readv(struct blk_file *f, const struct iovec *iov, unsigned n, uint64_t offset)
{
	return blk_file_rw(f, iov, n, offset, false);
}

int blk_file_writev(struct blk_file *f, const struct iovec *iov, unsigned n, uint64_t offset)
{
	if (f->readonly)
		return -EROFS;
	return blk_file_rw(f, iov, n, offset, true);
}

int blk_file_flush(struct blk_file *f)
{
	while (fdatasync(f->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int blk_file_discard(struct blk_file *f, uint64_t offset, uint64_t len)
{
	if (f->readonly)
		return -EROFS;
	if (f->no_punch)
		return -EOPNOTSUPP;
	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
		      (off_t)len) == 0)
		return 0;
	if (errno == EOPNOTSUPP)
		f->no_punch = true;
	return -errno;
}

int blk_file_write_zeroes(struct blk_file *f, uint64_t offset, uint64_t len)
{
	static const uint8_t zeroes[65536];

	if (f->readonly)
		return -EROFS;
	if (!f->no_zero_range) {
		if (fallocate(f->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)offset,
			      (off_t)len) == 0)
			return 0;
		if (errno != EOPNOTSUPP)
			return -errno;
		f->no_zero_range = true;
	}
	while (len) {
		struct iovec iov = { (void *)zeroes, len < sizeof(zeroes) ? len : sizeof(zeroes) };
		int rc = blk_file_rw(f, &iov, 1, offset, true);

		if (rc)
			return rc;
		offset += iov.iov_len;
		len -= iov.iov_len;
	}
	return 0;
}
