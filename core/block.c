/* SPDX-License-Identifier: MIT */
/*
 * core/block.c - block requests checked against the disk, then handed to
 * the backend: a device bug (or a guest that fooled its device) cannot make
 * a backend read or write outside the image.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/block.h"
#include "core/table.h"

/* Whether the backend's table has op `field` and sets it. */
#define BLOCK_HAS(ops, field) \
	VMM_TABLE_HAS((ops)->base.size, ops, struct vmm_block_backend_ops, field)

void vmm_block_query(const struct vmm_block_backend_ops *ops, void *state,
		     struct vmm_block_info *out)
{
	struct vmm_block_info info = { .size = sizeof(info) };
	uint32_t size = out->size;

	if (BLOCK_HAS(ops, info))
		ops->info(state, &info);
	/* A disk without an op cannot claim it. */
	if (!BLOCK_HAS(ops, discard))
		info.flags &= ~(uint32_t)VMM_BLOCK_DISCARD;
	if (!BLOCK_HAS(ops, write_zeroes))
		info.flags &= ~(uint32_t)VMM_BLOCK_WRITE_ZEROES;
	info.size = size < sizeof(info) ? size : (uint32_t)sizeof(info);
	memcpy(out, &info, info.size);
}

static bool range_ok(const struct vmm_block_info *info, uint64_t offset, uint64_t len)
{
	return offset <= info->bytes && len <= info->bytes - offset;
}

/* A READ or WRITE @req may go to the backend: 0, or the errno it fails
 * with. */
static int rw_ok(const struct vmm_block_info *info, const struct vmm_block_req *req)
{
	uint64_t bytes = 0;

	if (req->iovcnt < 0 || req->iovcnt > IOV_MAX || (req->iovcnt && !req->iov))
		return -EINVAL;
	for (int i = 0; i < req->iovcnt; i++) {
		if (req->iov[i].iov_len > UINT64_MAX - bytes)
			return -EINVAL;
		bytes += req->iov[i].iov_len;
	}
	if (!range_ok(info, req->offset, bytes))
		return -EINVAL;
	if (req->op == VMM_BLOCK_OP_WRITE && (info->flags & VMM_BLOCK_READONLY))
		return -EROFS;
	return 0;
}

int vmm_block_dispatch(const struct vmm_block_backend_ops *ops, void *state,
		       const struct vmm_block_info *info, const struct vmm_block_req *req)
{
	int rc;

	if (!req)
		return -EINVAL;
	switch (req->op) {
	case VMM_BLOCK_OP_READ:
	case VMM_BLOCK_OP_WRITE:
		rc = rw_ok(info, req);
		if (rc)
			return rc;
		if (req->op == VMM_BLOCK_OP_READ)
			return ops->readv(state, req->iov, req->iovcnt, req->offset);
		return ops->writev(state, req->iov, req->iovcnt, req->offset);
	case VMM_BLOCK_OP_FLUSH:
		return ops->flush(state);
	case VMM_BLOCK_OP_DISCARD:
	case VMM_BLOCK_OP_WRITE_ZEROES:
		if (!range_ok(info, req->offset, req->len))
			return -EINVAL;
		if (info->flags & VMM_BLOCK_READONLY)
			return -EROFS;
		if (req->op == VMM_BLOCK_OP_DISCARD)
			return BLOCK_HAS(ops, discard) ? ops->discard(state, req->offset, req->len)
						       : -EOPNOTSUPP;
		return BLOCK_HAS(ops, write_zeroes) ? ops->write_zeroes(state, req->offset, req->len)
						    : -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

int vmm_block_dispatch_batch(const struct vmm_block_backend_ops *ops, void *state,
			     const struct vmm_block_info *info, const struct vmm_block_req *reqs,
			     int *results, unsigned n)
{
	struct vmm_block_req rw[VMM_BLOCK_BATCH_MAX];
	unsigned idx[VMM_BLOCK_BATCH_MAX], nrw = 0;
	int rwres[VMM_BLOCK_BATCH_MAX];

	if (n > VMM_BLOCK_BATCH_MAX || (n && (!reqs || !results)))
		return -EINVAL;
	if (!BLOCK_HAS(ops, submit)) {
		for (unsigned i = 0; i < n; i++)
			results[i] = vmm_block_dispatch(ops, state, info, &reqs[i]);
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		if (reqs[i].op != VMM_BLOCK_OP_READ && reqs[i].op != VMM_BLOCK_OP_WRITE) {
			results[i] = vmm_block_dispatch(ops, state, info, &reqs[i]);
			continue;
		}
		results[i] = rw_ok(info, &reqs[i]);
		if (results[i])
			continue;
		idx[nrw] = i;
		rw[nrw++] = reqs[i];
	}
	if (nrw)
		ops->submit(state, rw, rwres, nrw);
	for (unsigned k = 0; k < nrw; k++)
		results[idx[k]] = rwres[k];
	return 0;
}
