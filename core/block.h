/* SPDX-License-Identifier: MIT */
/*
 * core/block.h - block backends as the core (and the harness) drive them:
 * requests checked against the disk, then handed to the backend's ops.
 *
 * Error convention: 0 or a negative errno.
 */
#ifndef VMM_CORE_BLOCK_H
#define VMM_CORE_BLOCK_H

#include <vmm/vmm.h>

/* Ask the backend for its size and flags; @out->size says how much the
 * caller's struct holds. */
void vmm_block_query(const struct vmm_block_backend_ops *ops, void *state,
		     struct vmm_block_info *out);

/* Check @req against @info (range inside the disk, no change to a
 * read-only one, segment count) and run it on the backend. */
int vmm_block_dispatch(const struct vmm_block_backend_ops *ops, void *state,
		       const struct vmm_block_info *info, const struct vmm_block_req *req);

/* Check each of @n requests as vmm_block_dispatch does and run them:
 * READ and WRITE together through the backend's submit op where it has
 * one, everything else (and READ and WRITE without it) one at a time.
 * results[i] is reqs[i]'s result; -EINVAL for n over VMM_BLOCK_BATCH_MAX
 * (then no result is set). */
int vmm_block_dispatch_batch(const struct vmm_block_backend_ops *ops, void *state,
			     const struct vmm_block_info *info, const struct vmm_block_req *reqs,
			     int *results, unsigned n);

#endif
