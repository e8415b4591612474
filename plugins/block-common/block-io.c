/* SPDX-License-Identifier: MIT */
/*
 * plugins/block-common/block-io.c - see block-io.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins/block-common/block-io.h"

int block_rw_sync(int fd, const struct iovec *iov, int n, uint64_t offset, bool write, uint64_t skip)
{
	struct iovec left[IOV_MAX];
	int first = 0;

	if (n < 0 || n > IOV_MAX)
		return -EINVAL;
	memcpy(left, iov, (size_t)n * sizeof(*iov));
	/* `done` bytes of what is left have moved: drop them, then move
	 * the rest. */
	for (uint64_t done = skip;;) {
		while (first < n && done >= left[first].iov_len) {
			done -= left[first].iov_len;
			offset += left[first].iov_len;
			first++;
		}
		if (first == n)
			return 0;
		left[first].iov_base = (uint8_t *)left[first].iov_base + done;
		left[first].iov_len -= done;
		offset += done;
		ssize_t r = write ? pwritev(fd, left + first, n - first, (off_t)offset)
				  : preadv(fd, left + first, n - first, (off_t)offset);
		if (r < 0 && errno == EINTR) {
			done = 0;
			continue;
		}
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the file ended inside the request */
		done = (uint64_t)r;
	}
}

int block_discard(int fd, atomic_bool *no_punch, uint64_t offset, uint64_t len)
{
	if (atomic_load(no_punch))
		return -EOPNOTSUPP;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) == 0)
		return 0;
	if (errno == EOPNOTSUPP)
		atomic_store(no_punch, true);
	return -errno;
}

int block_write_zeroes(int fd, atomic_bool *no_zero_range, uint64_t offset, uint64_t len)
{
	static const uint8_t zeroes[65536];

	if (!atomic_load(no_zero_range)) {
		if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) == 0)
			return 0;
		if (errno != EOPNOTSUPP)
			return -errno;
		atomic_store(no_zero_range, true);
	}
	while (len) {
		struct iovec iov = { (void *)zeroes, len < sizeof(zeroes) ? len : sizeof(zeroes) };
		int rc = block_rw_sync(fd, &iov, 1, offset, true, 0);

		if (rc)
			return rc;
		offset += iov.iov_len;
		len -= iov.iov_len;
	}
	return 0;
}

int block_image_props(const struct vmm_host *h, const char **path, bool *readonly)
{
	*path = h->prop_str(h, "path");
	*readonly = false;
	h->prop_bool(h, "readonly", readonly);
	if (!*path) {
		h->log(h, VMM_LOG_ERROR, "property 'path' is not set");
		return -EINVAL;
	}
	return 0;
}

/* open(2) with the one line a failure gets. */
static int open_logged(const struct vmm_host *h, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int e = errno;

	if (fd >= 0)
		return fd;
	if ((flags & O_DIRECT) && e == EINVAL)
		h->log(h, VMM_LOG_ERROR, "cannot open %s with O_DIRECT (cache = \"none\"): its file "
		       "system has no direct I/O; use cache = \"writeback\"", path);
	else
		h->log(h, VMM_LOG_ERROR, "cannot open %s: %s", path, strerror(e));
	return -e;
}

int block_image_open(const struct vmm_host *h, const char *path, bool readonly, int extra_flags,
		     uint64_t *size)
{
	struct stat st;
	int rc;
	/* O_NONBLOCK: opening a FIFO read-only would wait for a writer; a
	 * non-regular file is refused below anyway. */
	int fd = open_logged(h, path, (readonly ? O_RDONLY : O_RDWR) | extra_flags | O_NONBLOCK);

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		h->log(h, VMM_LOG_ERROR, "cannot stat %s: %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A block device would need BLKGETSIZE64 and BLKDISCARD. */
		h->log(h, VMM_LOG_ERROR, "%s is not a regular file", path);
		rc = -EINVAL;
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		rc = -errno;
		goto out;
	}
	*size = (uint64_t)st.st_size;
	return fd;
out:
	close(fd);
	return rc;
}

int block_image_check(const struct vmm_host *h, const char *path, bool readonly, int extra_flags,
		      uint64_t *size)
{
	struct stat st;
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
	if (extra_flags & O_DIRECT) {
		/* Only opening tells whether the file system has direct I/O. */
		int fd = open_logged(h, path, O_RDONLY | O_DIRECT | O_NONBLOCK);

		if (fd < 0)
			return fd;
		close(fd);
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int block_flush(int fd)
{
	while (fdatasync(fd) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}
