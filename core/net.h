/* SPDX-License-Identifier: MIT */
/*
 * core/net.h - net backends as the core (and the harness) drive them:
 * frames checked for size, offloads checked against what the backend said
 * it can do, then handed to the backend's ops.
 *
 * Error convention: 0 or a negative errno.
 */
#ifndef VMM_CORE_NET_H
#define VMM_CORE_NET_H

#include <vmm/vmm.h>

/* Ask the backend for its offloads and MAC; @out->size says how much the
 * caller's struct holds. */
void vmm_net_query(const struct vmm_net_backend_ops *ops, void *state, struct vmm_net_info *out);

/* Bytes in @iov when it is one well-formed frame (a header, at most
 * VMM_NET_FRAME_MAX bytes after it), else -EINVAL. */
ssize_t vmm_net_frame_len(const struct iovec *iov, int iovcnt);

/* A frame from the device to the backend. */
int vmm_net_dispatch_send(const struct vmm_net_backend_ops *ops, void *state,
			  const struct iovec *iov, int iovcnt);

/* Offloads the device's driver accepts; only those @info offered. */
int vmm_net_dispatch_offloads(const struct vmm_net_backend_ops *ops, void *state,
			      const struct vmm_net_info *info, uint32_t offloads);

/* The backend's link is now @up: when that differs from *@known, the
 * device's link_changed (if it has one) hears of it and *@known follows.
 * The caller holds the device's lock. */
void vmm_net_link_update(const struct vmm_net_client *c, void *opaque, bool *known, bool up);

/* Whether the table has resume_input. */
bool vmm_net_has_resume(const struct vmm_net_backend_ops *ops);

#endif
