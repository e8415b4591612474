/* SPDX-License-Identifier: MIT */
/*
 * core/net.c - net frames checked before a backend sees them: a device bug
 * (or a guest that fooled its device) cannot hand a backend a frame without
 * its header or larger than any link carries, nor turn on an offload the
 * backend never offered.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/net.h"
#include "core/table.h"

_Static_assert(sizeof(struct vmm_net_hdr) == 12, "virtio 1.x net header is 12 bytes");

#define NET_HAS(ops, field) \
	VMM_TABLE_HAS((ops)->base.size, ops, struct vmm_net_backend_ops, field)

#define NET_OFFLOAD_ALL (VMM_NET_OFFLOAD_CSUM | VMM_NET_OFFLOAD_TSO4 | VMM_NET_OFFLOAD_TSO6 | \
			 VMM_NET_OFFLOAD_ECN | VMM_NET_OFFLOAD_UFO)

void vmm_net_query(const struct vmm_net_backend_ops *ops, void *state, struct vmm_net_info *out)
{
	struct vmm_net_info info = { .size = sizeof(info) };
	uint32_t size = out->size;

	if (NET_HAS(ops, info))
		ops->info(state, &info);
	info.offloads &= NET_OFFLOAD_ALL;
	/* The link state is the core's to report (vmm_net_link_flags), from
	 * what the backend said with net_link_set, not from its info op. */
	info.flags &= VMM_NET_HAS_MAC;
	/* A backend that cannot be told what to deliver can deliver nothing
	 * special. */
	if (!NET_HAS(ops, set_offloads))
		info.offloads = 0;
	info.size = size < sizeof(info) ? size : (uint32_t)sizeof(info);
	memcpy(out, &info, info.size);
}

ssize_t vmm_net_frame_len(const struct iovec *iov, int iovcnt)
{
	size_t bytes = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt && !iov))
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - bytes)
			return -EINVAL;
		bytes += iov[i].iov_len;
	}
	if (bytes < sizeof(struct vmm_net_hdr) ||
	    bytes - sizeof(struct vmm_net_hdr) > VMM_NET_FRAME_MAX)
		return -EINVAL;
	return (ssize_t)bytes;
}

int vmm_net_dispatch_send(const struct vmm_net_backend_ops *ops, void *state,
			  const struct iovec *iov, int iovcnt)
{
	ssize_t len = vmm_net_frame_len(iov, iovcnt);

	if (len < 0)
		return (int)len;
	return ops->send(state, iov, iovcnt);
}

int vmm_net_dispatch_offloads(const struct vmm_net_backend_ops *ops, void *state,
			      const struct vmm_net_info *info, uint32_t offloads)
{
	if (offloads & ~info->offloads)
		return -EINVAL;
	if (!NET_HAS(ops, set_offloads))
		return offloads ? -EOPNOTSUPP : 0;
	return ops->set_offloads(state, offloads);
}

bool vmm_net_has_resume(const struct vmm_net_backend_ops *ops)
{
	return NET_HAS(ops, resume_input);
}

void vmm_net_link_update(const struct vmm_net_client *c, void *opaque, bool *known, bool up)
{
	if (*known == up)
		return;
	*known = up;
	if (VMM_TABLE_HAS(c->size, c, struct vmm_net_client, link_changed))
		c->link_changed(opaque, up);
}
