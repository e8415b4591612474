/* SPDX-License-Identifier: MIT */
/*
 * plugins/block-common/block-io.h - what the raw-image block backends
 * (block-file, block-uring) do alike: their `path` and `readonly`
 * properties, opening and checking the image, positioned I/O finished to
 * the last byte, flush, and discard and write-zeroes with fallocate(2).
 *
 * Error convention: 0 or a negative errno.
 */
#ifndef VMM_BLOCK_IO_H
#define VMM_BLOCK_IO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <vmm/host.h>

/* The `path` and `readonly` properties: 0, or -EINVAL after a line when
 * path is unset. */
int block_image_props(const struct vmm_host *h, const char **path, bool *readonly);

/* Open the raw image @path for a backend's open(): read-only or
 * read-write, with @extra_flags (O_DIRECT) added; anything but a regular
 * file is refused.  The descriptor (blocking, close-on-exec) and the
 * image's size in *size, or a negative errno after one line naming the
 * path (for O_DIRECT refused by the file system, a line saying so). */
int block_image_open(const struct vmm_host *h, const char *path, bool readonly, int extra_flags,
		     uint64_t *size);

/* What block_image_open() would say of @path, for a backend's check()
 * (vmmctl check, ABI 1.6), without opening it for writing: the image
 * exists, is a regular file, readable, writable unless @readonly, and
 * (with O_DIRECT in @extra_flags) on a file system with direct I/O.  Its
 * size in *size, or a negative errno after the same line. */
int block_image_check(const struct vmm_host *h, const char *path, bool readonly, int extra_flags,
		      uint64_t *size);

/* fdatasync(2), again after a signal. */
int block_flush(int fd);

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
