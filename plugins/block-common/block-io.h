/* SPDX-License-Identifier: MIT */
/*
 * plugins/block-common/block-io.h - what the raw-image block backends
 * (block-file, block-uring) do alike: positioned I/O finished to the last
 * byte, and discard and write-zeroes with fallocate(2).
 *
 * Error convention: 0 or a negative errno.
 */
#ifndef VMM_BLOCK_IO_H
#define VMM_BLOCK_IO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* preadv/pwritev of @iov (n segments, at most IOV_MAX) at @offset, from
 * byte @skip of it on, until all is moved: they may move less than asked
 * (signals, very large requests).  A read that meets the end of the file
 * is -EIO. */
int block_rw_sync(int fd, const struct iovec *iov, int n, uint64_t offset, bool write, uint64_t skip);

/* Punch a hole; -EOPNOTSUPP (remembered in *no_punch) where the file
 * system cannot. */
int block_discard(int fd, atomic_bool *no_punch, uint64_t offset, uint64_t len);

/* FALLOC_FL_ZERO_RANGE, or where the file system has none (remembered in
 * *no_zero_range) zeroes written with pwritev on @fd, which must take any
 * buffer alignment (no O_DIRECT). */
int block_write_zeroes(int fd, atomic_bool *no_zero_range, uint64_t offset, uint64_t len);

#endif
