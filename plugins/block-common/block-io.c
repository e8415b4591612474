/* SPDX-License-Identifier: MIT */
/*
 * plugins/block-common/block-io.c - see block-io.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <string.h>
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
