/* core/host-time.c - the host services of time and events on the main
 * loop: the machine's virtual clock and device timers, a vCPU's TSC read
 * against that clock, fd watches, and write notifications (ioeventfds).
 *
 * All of them are libevent events on the machine's base; each callback
 * runs under its instance's lock (vmm_instance_lock(), core/machine.c).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/host-services.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/process.h"

/* ------------------------------------------------------ clock and timers */

struct vmm_timer {
	struct vmm_instance *in;
	struct event *ev;
	void (*cb)(void *opaque);
	void *opaque;
	bool armed; /* under the instance's lock: cancelled timers never call back */
	uint64_t deadline; /* of the last arm, on the virtual clock */
};

uint64_t host_clock_ns(const struct vmm_host *h)
{
	return monotonic_ns() - inst_of(h)->m->t0;
}

/*
 * libevent's timers may run early on the virtual clock: its clock is
 * CLOCK_MONOTONIC_COARSE (a tick behind ours), and an event added from a
 * vCPU thread while the main loop runs callbacks counts from the time
 * cached when the loop woke up.  A timer that fires before its deadline
 * waits for the rest instead of calling back, as timer_arm() promises.
 */
static void timer_add(struct vmm_timer *t, uint64_t rel)
{
	uint64_t us = (rel + 999) / 1000; /* rounded up: not early by the rest */
	struct timeval tv = { .tv_sec = (time_t)(us / 1000000), .tv_usec = (suseconds_t)(us % 1000000) };

	evtimer_add(t->ev, &tv);
}

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vmm_timer *t = arg;
	/* The callback may free its own timer. */
	struct vmm_instance *in = t->in;
	const struct vmm_who *who_prev = vmm_instance_lock(in);
	/* A vCPU thread may have cancelled the timer while this callback
	 * waited for the lock (see host_timer_cancel), or re-armed it: then
	 * the event is pending again and this firing is stale. */
	if (t->armed && !evtimer_pending(t->ev, NULL)) {
		uint64_t now = host_clock_ns(&in->host);

		if (now < t->deadline) {
			timer_add(t, t->deadline - now);
		} else {
			t->armed = false;
			t->cb(t->opaque);
		}
	}
	vmm_instance_unlock(in, who_prev);
}

struct vmm_timer *host_timer_new(const struct vmm_host *h, void (*cb)(void *opaque), void *opaque)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_timer *t = calloc(1, sizeof(*t));
	if (!t || !cb)
		goto out_free;
	t->in = in;
	t->cb = cb;
	t->opaque = opaque;
	t->ev = evtimer_new(in->m->base, timer_fired, t);
	if (!t->ev)
		goto out_free;
	return t;
out_free:
	free(t);
	return NULL;
}

void host_timer_arm(const struct vmm_host *h, struct vmm_timer *t, uint64_t deadline_ns)
{
	uint64_t now = host_clock_ns(h);

	if (t) {
		t->armed = true;
		t->deadline = deadline_ns;
		timer_add(t, deadline_ns > now ? deadline_ns - now : 0);
	}
}

/*
 * Devices arm and cancel their timers from vCPU threads with their own
 * lock held, while the main thread may be inside timer_fired() for the
 * same timer, waiting for that lock.  libevent's event_del() from another
 * thread waits for a running callback to return: that was a deadlock
 * (seen with Linux's one-shot PIT, which re-arms on every tick).  So the
 * delete does not wait, and `armed`, checked under the lock, drops the
 * firing that was already on its way.
 */
void host_timer_cancel(const struct vmm_host *h, struct vmm_timer *t)
{
	if (t) {
		t->armed = false;
		event_del_noblock(t->ev);
	}
}

void host_timer_free(const struct vmm_host *h, struct vmm_timer *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}
int host_vcpu_tsc(const struct vmm_host *h, unsigned vcpu, uint64_t *tsc, uint64_t *ns,
			 uint32_t *khz)
{
	struct vmm_machine *m = inst_of(h)->m;
	struct vmm_vcpu *v = vmm_this_vcpu;
	uint64_t before, after;
	int rc;

	if (!v || v->m != m || v->index != vcpu)
		return -EINVAL;
	if (!HV_HAS(m, vcpu_tsc))
		return -ENOTSUP;
	/* The counter is read between two clock readings: their midpoint is
	 * the clock at that moment, to within half the ioctl's time. */
	before = host_clock_ns(h);
	rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_tsc(v->hv, tsc, khz));
	after = host_clock_ns(h);
	if (rc < 0)
		return rc;
	*ns = before + (after - before) / 2;
	return 0;
}
/* -------------------------------------------------------------- fd watch */

struct vmm_watch {
	struct vmm_instance *in;
	struct event *ev;
	void (*cb)(void *opaque, int fd, unsigned events);
	void *opaque;
};

static void watch_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vmm_watch *w = arg;
	unsigned ev = ((what & EV_READ) ? VMM_FD_READ : 0) | ((what & EV_WRITE) ? VMM_FD_WRITE : 0);
	/* The callback may unwatch, freeing w: don't touch w after it. */
	struct vmm_instance *in = w->in;
	const struct vmm_who *who_prev = vmm_instance_lock(in);
	w->cb(w->opaque, (int)fd, ev);
	vmm_instance_unlock(in, who_prev);
}

struct vmm_watch *host_fd_watch(const struct vmm_host *h, int fd, unsigned events,
				       void (*cb)(void *opaque, int fd, unsigned events), void *opaque)
{
	struct vmm_instance *in = inst_of(h);
	short what = EV_PERSIST | ((events & VMM_FD_READ) ? EV_READ : 0) |
		     ((events & VMM_FD_WRITE) ? EV_WRITE : 0);
	struct vmm_watch *w = calloc(1, sizeof(*w));
	if (!w || !cb)
		goto out_free;
	w->in = in;
	w->cb = cb;
	w->opaque = opaque;
	w->ev = event_new(in->m->base, fd, what, watch_fired, w);
	if (!w->ev)
		goto out_free;
	if (event_add(w->ev, NULL) < 0)
		goto out_event;
	return w;
out_event:
	event_free(w->ev);
out_free:
	free(w);
	return NULL;
}

void host_fd_unwatch(const struct vmm_host *h, struct vmm_watch *w)
{
	if (!w)
		return;
	event_free(w->ev); /* event_free deletes a pending event first */
	free(w);
}

/* ------------------------------------------------ write notifications */

/* An ioeventfd: the hypervisor signals `fd` on a matching guest write, the
 * main loop reads it and calls the device under its lock. */
struct vmm_notify {
	struct vmm_instance *in;
	struct event *ev;
	int fd;
	enum vmm_bus bus;
	uint64_t addr, data;
	uint32_t len;
	bool match;
	void (*cb)(void *opaque);
	void *opaque;
};

static void notify_fired(evutil_socket_t fd, short what, void *arg)
{
	struct vmm_notify *n = arg;

	(void)what;
	/* Every write since the last read makes one callback. */
	if (!eventfd_take((int)fd))
		return;
	const struct vmm_who *who_prev = vmm_instance_lock(n->in);
	n->cb(n->opaque);
	vmm_instance_unlock(n->in, who_prev);
}

struct vmm_notify *host_notify_register(const struct vmm_host *h, enum vmm_bus bus,
					       uint64_t addr, unsigned len, bool match,
					       uint64_t data, void (*cb)(void *opaque), void *opaque)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;
	struct vmm_notify *n;

	if (!cb || (bus != VMM_BUS_PIO && bus != VMM_BUS_MMIO) ||
	    (len != 1 && len != 2 && len != 4 && len != 8) || !m->vm || !HV_HAS(m, ioeventfd))
		return NULL;
	/* Only a write the device's own region would have taken. */
	const struct vmm_bus_region *r = vmm_bus_find(&m->bus[bus], addr);
	if (!r || r->owner != &in->owner || addr + len - 1 > r->base + r->len - 1) {
		h->log(h, VMM_LOG_ERROR, "notify_register: %s 0x%llx/%u is not in this device's region",
		       bus == VMM_BUS_PIO ? "pio" : "mmio", (unsigned long long)addr, len);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->in = in;
	n->bus = bus;
	n->addr = addr;
	n->len = len;
	n->match = match;
	n->data = data;
	n->cb = cb;
	n->opaque = opaque;
	n->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->fd < 0)
		goto out_free;
	n->ev = event_new(m->base, n->fd, EV_READ | EV_PERSIST, notify_fired, n);
	if (!n->ev || event_add(n->ev, NULL) < 0)
		goto out_close;
	if (VMM_AS(HV_WHO(m), m->hv_ops->ioeventfd(m->vm, bus, addr, len, match, data, n->fd, true)) < 0)
		goto out_close; /* logged by the hypervisor */
	return n;
out_close:
	if (n->ev)
		event_free(n->ev);
	close(n->fd);
out_free:
	free(n);
	return NULL;
}

void host_notify_unregister(const struct vmm_host *h, struct vmm_notify *n)
{
	struct vmm_machine *m = inst_of(h)->m;

	if (!n)
		return;
	/* Deassign first: the guest's next write goes to the region, and
	 * nothing signals the fd once it is closed. */
	VMM_IN(HV_WHO(m), m->hv_ops->ioeventfd(m->vm, n->bus, n->addr, n->len, n->match, n->data, n->fd, false));
	event_free(n->ev);
	close(n->fd);
	free(n);
}
