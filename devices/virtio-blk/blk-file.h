/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio-blk/blk-file.h - a raw disk image file: the block backend
 * virtio-blk uses.
 *
 * Kept apart from the device with no virtio in its interface, so that it
 * can become a block backend plugin (VMM_BACKEND_BLOCK) without touching
 * the request code.
 *
 * Error convention: 0 or a negative errno.  Offsets and lengths are in
 * bytes; callers have checked them against blk_file.size.
 */
#ifndef VMM_BLK_FILE_H
#define VMM_BLK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Segments one readv/writev takes at most. */
#define BLK_FILE_MAX_SEGS 256

struct blk_file {
	int fd;
	uint64_t size;     /* bytes, at open */
	bool readonly;
	bool no_punch;     /* FALLOC_FL_PUNCH_HOLE failed with EOPNOTSUPP once */
	bool no_zero_range;/* FALLOC_FL_ZERO_RANGE likewise */
};

/* Open @path read-write, or read-only when @readonly. */
int blk_file_open(struct blk_file *f, const char *path, bool readonly);
void blk_file_close(struct blk_file *f);

/* Read or write all of @iov at @offset; a short transfer is -EIO. */
int blk_file_readv(struct blk_file *f, const struct iovec *iov, unsigned n, uint64_t offset);
int blk_file_writev(struct blk_file *f, const struct iovec *iov, unsigned n, uint64_t offset);

/* Everything written so far reaches stable storage (fdatasync). */
int blk_file_flush(struct blk_file *f);

/* Deallocate [offset, offset + len), keeping the size; -EOPNOTSUPP when the
 * file system cannot (the range then keeps its data). */
int blk_file_discard(struct blk_file *f, uint64_t offset, uint64_t len);

/* Make [offset, offset + len) read as zeroes: FALLOC_FL_ZERO_RANGE where
 * the file system has it, writing zeroes otherwise. */
int blk_file_write_zeroes(struct blk_file *f, uint64_t offset, uint64_t len);

#endif
