/* core/host-backends.c - the host services that join a device to its
 * backends: a char device's connection (output, flow-controlled input,
 * connect and disconnect), a block device's requests and a net device's
 * frames and link, each in both directions.
 *
 * The backend instances themselves are found, opened or checked by the
 * machine (vmm_machine_backend(), core/machine.c); this file holds the
 * glue once a device has one.  The backend ops' helpers are in
 * core/char.c, core/block.c and core/net.c.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/block.h"
#include "core/char.h"
#include "core/host-services.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/net.h"
#include "core/process.h"

/* ------------------------------------------------------- char backends */

struct vmm_char {
	struct vmm_instance *dev;     /* the device using it */
	struct vmm_instance *backend; /* the backend instance */
	const struct vmm_char_backend_ops *ops;
	const struct vmm_char_client *client;
	void *client_opaque;
	atomic_bool input_paused;
	bool connected;               /* what the device was told; under its lock */
	/* Write errors, under the device's lock (it makes every write). */
	uint64_t write_errors, lost_bytes; /* since the last line about them */
	uint64_t write_error_ns;           /* when that line was logged, or 0 */
};

/* After its first write error a backend says so at most every 10 s. */
#define WRITE_ERROR_INTERVAL_NS (10 * 1000000000ull)

struct vmm_char *host_char_open(const struct vmm_host *h, const char *prop,
				       const struct vmm_char_client *client, void *opaque)
{
	struct vmm_instance *dev = inst_of(h);
	const char *ref = vmm_propset_get_str(dev->props, prop);
	if (!ref) {
		vmm_log(VMM_LOG_ERROR, dev->name, "property '%s' names no character backend", prop);
		return NULL;
	}
	struct vmm_instance *be = vmm_machine_backend(dev->m, ref, dev->name, VMM_BACKEND_CHAR);
	if (!be)
		return NULL;
	const struct vmm_char_backend_ops *ops = be->lp->ops;
	if (be->chr) {
		vmm_user_error(dev->m, dev->name, "backend '%s' is already used by '%s'", ref,
			   be->chr->dev->name);
		return NULL;
	}
	struct vmm_char *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->dev = dev;
	c->backend = be;
	c->ops = ops;
	if (client && client->size >= offsetof(struct vmm_char_client, receive) + sizeof(void *)) {
		c->client = client;
		c->client_opaque = opaque;
	}
	/* The backend's open() may have said nobody is connected. */
	c->connected = !be->char_down;
	be->chr = c;
	return c;
}

bool host_char_is_connected(const struct vmm_host *h, struct vmm_char *c)
{
	return !c || c->connected;
}

/* Called by a char backend instance (from open() or the main thread) when
 * someone connects to or leaves its host side. */
void host_char_connected(const struct vmm_host *h, bool connected)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_char *c = in->chr;

	if (in->char_down != !connected)
		vmm_log(VMM_LOG_DEBUG, in->name, "%s", connected ? "connected" : "disconnected");
	in->char_down = !connected;
	if (!c)
		return;
	const struct vmm_who *who_prev = vmm_instance_lock(c->dev);
	vmm_char_connected_update(c->client, c->client_opaque, &c->connected, connected);
	vmm_instance_unlock(c->dev, who_prev);
}

/* Where a backend's output goes, for its error lines: its `path`
 * property when it has one (file), else its plugin's name. */
static const char *char_destination(const struct vmm_instance *be)
{
	const char *path = vmm_propset_get_str(be->props, "path");
	return path ? path : be->lp->desc->name;
}

/*
 * A device has nowhere to report that the guest's output was lost (a UART
 * has no error for it), so the core does: the first failed write of a
 * backend is logged with its name and destination, later ones are counted
 * and summed up at most every 10 s, and at teardown.  A backend that said
 * nobody is connected is expected to refuse output: not an error.
 */
static void char_write_failed(struct vmm_char *c, ssize_t rc, size_t len)
{
	uint64_t now = monotonic_ns();

	c->write_errors++;
	c->lost_bytes += len;
	if (c->write_error_ns && now - c->write_error_ns < WRITE_ERROR_INTERVAL_NS)
		return;
	if (!c->write_error_ns)
		vmm_log(VMM_LOG_ERROR, c->backend->name, "cannot write to %s: %s: the guest's output "
			"is lost (further errors: one line per 10 s)", char_destination(c->backend),
			strerror((int)-rc));
	else
		vmm_log(VMM_LOG_ERROR, c->backend->name, "cannot write to %s: %s: %" PRIu64
			" more failed writes, %" PRIu64 " bytes lost", char_destination(c->backend),
			strerror((int)-rc), c->write_errors, c->lost_bytes);
	c->write_error_ns = now;
	c->write_errors = c->lost_bytes = 0;
}

/* At teardown, the lost output not yet said (char_write_failed()). */
void vmm_char_report_lost(struct vmm_instance *in)
{
	struct vmm_char *c = in->chr;
	if (c && c->write_errors)
		vmm_log(VMM_LOG_ERROR, in->name, "%s: %" PRIu64 " more failed writes, "
			"%" PRIu64 " bytes lost", char_destination(in), c->write_errors,
			c->lost_bytes);
}

ssize_t host_char_write(const struct vmm_host *h, struct vmm_char *c, const void *buf, size_t len)
{
	if (!c)
		return -EINVAL;
	/* vmmctl check: the backend is not open and nothing runs; output a
	 * device writes as it is created (a banner) goes nowhere. */
	if (c->backend->stand_in)
		return (ssize_t)len;
	ssize_t rc = VMM_AS(&c->backend->who, c->ops->write(c->backend->state, buf, len));
	if (rc < 0 && !c->backend->char_down)
		char_write_failed(c, rc, len);
	return rc;
}

void host_char_input_ready(const struct vmm_host *h, struct vmm_char *c)
{
	if (!c || c->backend->stand_in)
		return;
	if (atomic_exchange(&c->input_paused, false) && c->ops->base.size >=
	    offsetof(struct vmm_char_backend_ops, resume_input) + sizeof(void *) && c->ops->resume_input)
		VMM_IN(&c->backend->who, c->ops->resume_input(c->backend->state));
}
/* Called by a backend instance: how much its device would take now. */
size_t host_char_input_room(const struct vmm_host *h)
{
	struct vmm_char *c = inst_of(h)->chr;
	size_t room = 0;
	if (!c || !c->client)
		return 0;
	const struct vmm_who *who_prev = vmm_instance_lock(c->dev);
	room = c->client->can_receive(c->client_opaque);
	/* Paused under the device's lock, as host_net_input() does: paused
	 * after the unlock, a vCPU that drained the device in between (its
	 * char_input_ready() found nothing paused) left the backend paused
	 * for good.  Seen on the nested host: a stock guest's shell got the
	 * first 16 bytes L1 typed (the 16550's FIFO) and never the rest. */
	if (!room)
		atomic_store(&c->input_paused, true);
	vmm_instance_unlock(c->dev, who_prev);
	return room;
}

size_t host_char_input(const struct vmm_host *h, const void *buf, size_t len)
{
	struct vmm_char *c = inst_of(h)->chr;
	if (!c || !c->client)
		return 0;
	const struct vmm_who *who_prev = vmm_instance_lock(c->dev);
	size_t room = c->client->can_receive(c->client_opaque);
	if (len > room)
		len = room;
	if (len)
		c->client->receive(c->client_opaque, buf, len);
	vmm_instance_unlock(c->dev, who_prev);
	return len;
}
/* ------------------------------------------------------ block backends */

struct vmm_block {
	struct vmm_instance *dev;     /* the device using it */
	struct vmm_instance *backend;
	const struct vmm_block_backend_ops *ops;
	struct vmm_block_info info;
};

struct vmm_block *host_block_open(const struct vmm_host *h, const char *prop,
					 struct vmm_block_info *info)
{
	struct vmm_instance *dev = inst_of(h);
	const char *ref = vmm_propset_get_str(dev->props, prop);
	if (!ref) {
		vmm_log(VMM_LOG_ERROR, dev->name, "property '%s' names no block backend", prop);
		return NULL;
	}
	if (!info || info->size < offsetof(struct vmm_block_info, bytes) + sizeof(info->bytes)) {
		vmm_log(VMM_LOG_ERROR, dev->name, "block_open: incomplete vmm_block_info");
		return NULL;
	}
	struct vmm_instance *be = vmm_machine_backend(dev->m, ref, dev->name, VMM_BACKEND_BLOCK);
	if (!be)
		return NULL;
	if (be->blk) {
		vmm_user_error(dev->m, dev->name, "backend '%s' is already used by '%s'", ref,
			   be->blk->dev->name);
		return NULL;
	}
	struct vmm_block *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->dev = dev;
	b->backend = be;
	b->ops = be->lp->ops;
	b->info.size = sizeof(b->info);
	/* A stand-in without state (vmmctl check, a backend with no check
	 * op) is an empty disk; one with a state tells the real size. */
	if (!be->stand_in || be->state)
		VMM_IN(&be->who, vmm_block_query(b->ops, be->state, &b->info));
	memcpy(info, &b->info, info->size < sizeof(b->info) ? info->size : sizeof(b->info));
	be->blk = b;
	return b;
}

int host_block_io(const struct vmm_host *h, struct vmm_block *b, const struct vmm_block_req *req)
{
	if (!b)
		return -EINVAL;
	if (b->backend->stand_in)
		return -EIO; /* vmmctl check: no disk is open, and nothing runs */
	return VMM_AS(&b->backend->who, vmm_block_dispatch(b->ops, b->backend->state, &b->info, req));
}

int host_block_io_batch(const struct vmm_host *h, struct vmm_block *b,
			       const struct vmm_block_req *reqs, int *results, unsigned n)
{
	if (!b || n > VMM_BLOCK_BATCH_MAX)
		return -EINVAL;
	if (b->backend->stand_in) {
		for (unsigned i = 0; i < n; i++)
			results[i] = -EIO;
		return 0;
	}
	return VMM_AS(&b->backend->who,
		      vmm_block_dispatch_batch(b->ops, b->backend->state, &b->info, reqs, results, n));
}

/* -------------------------------------------------------- net backends */

struct vmm_net {
	struct vmm_instance *dev;     /* the device using it */
	struct vmm_instance *backend;
	const struct vmm_net_backend_ops *ops;
	const struct vmm_net_client *client;
	void *client_opaque;
	struct vmm_net_info info;
	atomic_bool input_paused;
	bool link_up;                 /* what the device was told; under its lock */
};

struct vmm_net *host_net_open(const struct vmm_host *h, const char *prop,
				     const struct vmm_net_client *client, void *opaque,
				     struct vmm_net_info *info)
{
	struct vmm_instance *dev = inst_of(h);
	const char *ref = vmm_propset_get_str(dev->props, prop);
	if (!ref) {
		vmm_log(VMM_LOG_ERROR, dev->name, "property '%s' names no net backend", prop);
		return NULL;
	}
	if (!info || info->size < offsetof(struct vmm_net_info, offloads) + sizeof(info->offloads) ||
	    !client || client->size < offsetof(struct vmm_net_client, receive) + sizeof(void *) ||
	    !client->can_receive || !client->receive) {
		vmm_log(VMM_LOG_ERROR, dev->name, "net_open: incomplete vmm_net_info or vmm_net_client");
		return NULL;
	}
	struct vmm_instance *be = vmm_machine_backend(dev->m, ref, dev->name, VMM_BACKEND_NET);
	if (!be)
		return NULL;
	if (be->net) {
		vmm_user_error(dev->m, dev->name, "backend '%s' is already used by '%s'", ref,
			   be->net->dev->name);
		return NULL;
	}
	struct vmm_net *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->dev = dev;
	n->backend = be;
	n->ops = be->lp->ops;
	n->client = client;
	n->client_opaque = opaque;
	n->info.size = sizeof(n->info);
	if (!be->stand_in || be->state) /* as for block_open */
		VMM_IN(&be->who, vmm_net_query(n->ops, be->state, &n->info));
	/* The backend's open() may have said its link is down. */
	n->link_up = !be->link_down;
	if (be->link_down)
		n->info.flags |= VMM_NET_LINK_DOWN;
	memcpy(info, &n->info, info->size < sizeof(n->info) ? info->size : sizeof(n->info));
	be->net = n;
	return n;
}

int host_net_send(const struct vmm_host *h, struct vmm_net *n, const struct iovec *iov,
			 int iovcnt)
{
	if (!n)
		return -EINVAL;
	/* vmmctl check: dropped, as by a link nobody listens on. */
	if (n->backend->stand_in)
		return vmm_net_frame_len(iov, iovcnt) < 0 ? -EINVAL : 0;
	return VMM_AS(&n->backend->who, vmm_net_dispatch_send(n->ops, n->backend->state, iov, iovcnt));
}

void host_net_input_ready(const struct vmm_host *h, struct vmm_net *n)
{
	if (n && !n->backend->stand_in && atomic_exchange(&n->input_paused, false) &&
	    vmm_net_has_resume(n->ops))
		VMM_IN(&n->backend->who, n->ops->resume_input(n->backend->state));
}

int host_net_set_offloads(const struct vmm_host *h, struct vmm_net *n, uint32_t offloads)
{
	if (!n)
		return -EINVAL;
	if (n->backend->stand_in) /* the same answer, without the backend */
		return offloads & ~n->info.offloads ? -EINVAL : 0;
	return VMM_AS(&n->backend->who, vmm_net_dispatch_offloads(n->ops, n->backend->state, &n->info, offloads));
}

/* Called by a net backend instance with one frame for its device. */
int host_net_input(const struct vmm_host *h, const struct iovec *iov, int iovcnt)
{
	struct vmm_net *n = inst_of(h)->net;
	int rc;

	if (!n)
		return -ENOTCONN;
	if (vmm_net_frame_len(iov, iovcnt) < 0)
		return -EINVAL;
	const struct vmm_who *who_prev = vmm_instance_lock(n->dev);
	rc = n->client->can_receive(n->client_opaque) ? n->client->receive(n->client_opaque, iov, iovcnt)
						       : -EAGAIN;
	/* Paused under the device's lock: a net_input_ready() the device
	 * makes after this sees it. */
	if (rc == -EAGAIN)
		atomic_store(&n->input_paused, true);
	vmm_instance_unlock(n->dev, who_prev);
	return rc;
}

/* Called by a net backend instance (from open() or the main thread) when
 * its link goes up or down. */
void host_net_link_set(const struct vmm_host *h, bool up)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_net *n = in->net;

	if (in->link_down != !up)
		vmm_log(VMM_LOG_DEBUG, in->name, "link %s", up ? "up" : "down");
	in->link_down = !up;
	if (!n)
		return;
	const struct vmm_who *who_prev = vmm_instance_lock(n->dev);
	vmm_net_link_update(n->client, n->client_opaque, &n->link_up, up);
	vmm_instance_unlock(n->dev, who_prev);
}
