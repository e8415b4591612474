/* SPDX-License-Identifier: MIT */
/*
 * plugins/net-tap/net-tap.c - a net backend on a Linux tap interface.
 *
 * The tap is opened with IFF_VNET_HDR and a 12-byte vnet header
 * (TUNSETVNETHDRSZ), which is struct vmm_net_hdr, so frames pass between
 * the device and the kernel without being rewritten.  Input is read from a
 * non-blocking fd on the main loop; when the device has no room the frame
 * is kept and the fd is no longer watched until the device resumes input.
 *
 * The link (ABI 1.3) is the interface's IFF_UP, what `ip link set TAP
 * down|up` changes: read at open, then followed through an rtnetlink
 * socket (RTMGRP_LINK) on the main loop, and reported with
 * h->net_link_set().
 *
 * Threads: send() and resume_input() may run on a vCPU thread; everything
 * else, including every fd watch change, runs on the main thread.
 * resume_input() only writes an eventfd that the main loop watches.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vmm/vmm.h>

#define TAP_BUF (sizeof(struct vmm_net_hdr) + VMM_NET_FRAME_MAX)
/* Frames handed on per readable event, so one busy tap cannot starve the
 * rest of the main loop. */
#define TAP_BATCH 64

struct tap {
	const struct vmm_host *h;
	int fd;
	int kick;                 /* eventfd: the device can take input again */
	struct vmm_watch *watch;  /* on fd; NULL while input is paused */
	struct vmm_watch *kick_watch;
	int nl;                   /* rtnetlink socket (RTMGRP_LINK), -1 without one */
	struct vmm_watch *nl_watch;
	char ifname[IFNAMSIZ];    /* as the kernel named it */
	int ifindex;
	uint32_t caps;            /* VMM_NET_OFFLOAD_* the tap can do */
	bool multi_queue;         /* opened with IFF_MULTI_QUEUE (see tap_open) */
	bool standby;             /* a migration's destination, not loaded yet */
	size_t pending;           /* bytes in buf the device has not taken yet */
	uint8_t buf[TAP_BUF];
};

static unsigned tun_flags(uint32_t offloads)
{
	unsigned f = 0;

	if (offloads & VMM_NET_OFFLOAD_CSUM)
		f |= TUN_F_CSUM;
	if (offloads & VMM_NET_OFFLOAD_TSO4)
		f |= TUN_F_TSO4;
	if (offloads & VMM_NET_OFFLOAD_TSO6)
		f |= TUN_F_TSO6;
	if (offloads & VMM_NET_OFFLOAD_ECN)
		f |= TUN_F_TSO_ECN;
	if (offloads & VMM_NET_OFFLOAD_UFO)
		f |= TUN_F_UFO;
	return f;
}

static void tap_readable(void *opaque, int fd, unsigned events);

/* Hand the kept frame, then new ones, to the device until it is full,
 * the tap is empty or the batch is done. */
static void tap_drain(struct tap *t)
{
	for (unsigned i = 0; i < TAP_BATCH; i++) {
		if (!t->pending) {
			ssize_t n = read(t->fd, t->buf, sizeof(t->buf));

			if (n < 0)
				return; /* EAGAIN: empty; other errors: retried on the next event */
			if ((size_t)n < sizeof(struct vmm_net_hdr))
				continue;
			t->pending = (size_t)n;
		}
		struct iovec iov = { .iov_base = t->buf, .iov_len = t->pending };
		int rc = t->h->net_input(t->h, &iov, 1);

		if (rc == -EAGAIN) {
			/* Stop watching until the device resumes input;
			 * the kick eventfd says when. */
			if (t->watch)
				t->h->fd_unwatch(t->h, t->watch);
			t->watch = NULL;
			return;
		}
		t->pending = 0; /* taken, or refused for good (dropped) */
	}
}

static void tap_readable(void *opaque, int fd, unsigned events)
{
	tap_drain(opaque);
}

static void tap_kicked(void *opaque, int fd, unsigned events)
{
	struct tap *t = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;
	if (t->standby)
		return; /* tap_standby(0) watches the tap again */
	if (!t->watch)
		t->watch = t->h->fd_watch(t->h, t->fd, VMM_FD_READ, tap_readable, t);
	tap_drain(t);
}

/* ------------------------------------------------------------------ link */

static bool link_changes(const struct vmm_host *h)
{
	return VMM_HOST_HAS(h, net_link_set);
}

/* An interface ioctl (SIOCGIFFLAGS, SIOCGIFINDEX) on the tap: 0 or -errno. */
static int tap_ifreq(const struct tap *t, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, t->ifname, sizeof(ifr->ifr_name));
	if (ioctl(s, req, ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

/* Ask the kernel for the interface's flags and report IFF_UP. */
static void tap_link_query(struct tap *t)
{
	struct ifreq ifr;

	if (tap_ifreq(t, SIOCGIFFLAGS, &ifr) == 0)
		t->h->net_link_set(t->h, (ifr.ifr_flags & IFF_UP) != 0);
}

/* rtnetlink messages (RTMGRP_LINK): RTM_NEWLINK for the tap carries its
 * flags; RTM_DELLINK means it is gone. */
static void tap_netlink(void *opaque, int fd, unsigned events)
{
	struct tap *t = opaque;
	uint8_t buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (unsigned i = 0; i < TAP_BATCH; i++) {
		struct sockaddr_nl from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0) {
			/* ENOBUFS: messages were lost; ask for the state. */
			if (errno == ENOBUFS)
				tap_link_query(t);
			return;
		}
		if (fl < sizeof(from) || from.nl_pid != 0)
			continue; /* only the kernel speaks for links */
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)n);
		     m = NLMSG_NEXT(m, n)) {
			struct ifinfomsg *ifi = NLMSG_DATA(m);

			if ((m->nlmsg_type != RTM_NEWLINK && m->nlmsg_type != RTM_DELLINK) ||
			    m->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_index != t->ifindex)
				continue;
			t->h->net_link_set(t->h, m->nlmsg_type == RTM_NEWLINK &&
						      (ifi->ifi_flags & IFF_UP));
		}
	}
}

/* Watch the link from before its state is read, so no change is missed.
 * Without rtnetlink (or on an ABI 1.2 host) the link stays up; a failure
 * is logged. */
static void tap_link_open(struct tap *t)
{
	const struct vmm_host *h = t->h;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	struct ifreq ifr;
	int rc;

	t->nl = -1;
	if (!link_changes(h))
		return;
	rc = tap_ifreq(t, SIOCGIFINDEX, &ifr);
	if (rc == 0) {
		t->ifindex = ifr.ifr_ifindex;
		t->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (t->nl < 0 || bind(t->nl, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			rc = -errno;
		else if (!(t->nl_watch = h->fd_watch(h, t->nl, VMM_FD_READ, tap_netlink, t)))
			rc = -ENOMEM;
	}
	if (rc) {
		h->log(h, VMM_LOG_WARN, "tap '%s': cannot follow its link state (%s); the link stays up",
		       t->ifname, strerror(-rc));
		if (t->nl >= 0)
			close(t->nl);
		t->nl = -1;
		return;
	}
	tap_link_query(t);
}

static void tap_link_close(struct tap *t)
{
	if (t->nl_watch)
		t->h->fd_unwatch(t->h, t->nl_watch);
	if (t->nl >= 0)
		close(t->nl);
}

/* ----------------------------------------------------------------- frames */

static void tap_resume_input(void *state)
{
	struct tap *t = state;
	uint64_t one = 1;

	if (write(t->kick, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: a wake-up is pending */
	}
}

static int tap_send(void *state, const struct iovec *iov, int iovcnt)
{
	struct tap *t = state;
	ssize_t n;

	do
		n = writev(t->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	/* A full link drops, as a wire would; so does a tap set down (the
	 * kernel says EIO while the interface lacks IFF_UP). */
	if (n >= 0 || errno == EAGAIN || errno == ENOBUFS || errno == EIO)
		return 0;
	return -errno;
}

static void tap_info(void *state, struct vmm_net_info *info)
{
	struct tap *t = state;

	/* The tap's own MAC is the host end's, not the guest's: none here. */
	info->offloads = t->caps;
}

static int tap_set_offloads(void *state, uint32_t offloads)
{
	struct tap *t = state;

	if (ioctl(t->fd, TUNSETOFFLOAD, tun_flags(offloads)) < 0)
		return -errno;
	return 0;
}

/* TUNSETQUEUE: this fd's queue of a multi-queue tap attached or detached
 * (Documentation/networking/tuntap.rst, "Multiqueue tuntap interface"). */
static int tap_queue(struct tap *t, short flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	return ioctl(t->fd, TUNSETQUEUE, &ifr) < 0 ? -errno : 0;
}

/*
 * ABI 1.17: a live migration's destination.  On: the queue is detached,
 * so the kernel steers every frame to the queues still attached (the
 * source's, on the same host) and none waits here for a machine that is
 * not running yet, and the fd is not watched.  (A detached queue keeps
 * its tap: the ioctls that set the tap's offloads still work on it.)  Off:
 * attached again, and watched.  A single-queue tap has no other process on it
 * (the kernel would have refused this open), so only the watch changes.
 * Attaching needs CAP_NET_ADMIN unless the tap belongs to the user (as
 * open does); the core calls it before vmmctl drops its privileges.
 */
static int tap_standby(void *state, int on)
{
	struct tap *t = state;
	int rc;

	if (on && !t->standby) {
		if (t->multi_queue && (rc = tap_queue(t, IFF_DETACH_QUEUE)) < 0) {
			t->h->log(t->h, VMM_LOG_ERROR, "tap '%s': TUNSETQUEUE(IFF_DETACH_QUEUE): %s", t->ifname,
				  strerror(-rc));
			return rc;
		}
		if (t->watch)
			t->h->fd_unwatch(t->h, t->watch);
		t->watch = NULL;
		t->standby = true;
	} else if (!on && t->standby) {
		if (t->multi_queue) {
			if ((rc = tap_queue(t, IFF_ATTACH_QUEUE)) < 0) {
				t->h->log(t->h, VMM_LOG_ERROR, "tap '%s': TUNSETQUEUE(IFF_ATTACH_QUEUE): %s",
					  t->ifname, strerror(-rc));
				return rc;
			}
		}
		t->standby = false;
		t->watch = t->h->fd_watch(t->h, t->fd, VMM_FD_READ, tap_readable, t);
		if (!t->watch)
			return -ENOMEM;
	}
	return 0;
}

static int tap_open(const struct vmm_host *h, void **state)
{
	const char *ifname = h->prop_str(h, "ifname");
	struct ifreq ifr = { 0 };
	int hdr_size = (int)sizeof(struct vmm_net_hdr);
	struct tap *t;
	int rc;

	if (!VMM_HOST_HAS(h, net_input)) {
		h->log(h, VMM_LOG_ERROR, "the host has no net backends (ABI 1.2 needed)");
		return -ENOTSUP;
	}
	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ) {
		h->log(h, VMM_LOG_ERROR, "ifname must be 1 to %d characters", IFNAMSIZ - 1);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->h = h;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		rc = -errno;
		h->log(h, VMM_LOG_ERROR, "/dev/net/tun: %s", strerror(errno));
		goto out_free;
	}
	/* A multi-queue tap, so that a live migration's destination on the
	 * same host can open its own queue while the source still runs
	 * (tap_standby).  A tap made beforehand without multi_queue (ip
	 * tuntap add ... mode tap) takes no IFF_MULTI_QUEUE open (EINVAL):
	 * then as a single-queue tap. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	t->multi_queue = true;
	int set = ioctl(t->fd, TUNSETIFF, &ifr);
	if (set < 0 && errno == EINVAL) {
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		t->multi_queue = false;
		set = ioctl(t->fd, TUNSETIFF, &ifr);
	}
	if (set < 0) {
		rc = -errno;
		h->log(h, VMM_LOG_ERROR, "tap '%s': %s (see plugins/net-tap/README.md for the host setup)",
		       ifname, strerror(errno));
		goto out_close;
	}
	memcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname));
	t->ifname[IFNAMSIZ - 1] = '\0';
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr_size) < 0) {
		rc = -errno;
		h->log(h, VMM_LOG_ERROR, "tap '%s': TUNSETVNETHDRSZ: %s", ifname, strerror(errno));
		goto out_close;
	}
	/* What the kernel takes: probe, then start with plain frames until
	 * the device says what its driver accepts. */
	const uint32_t want = VMM_NET_OFFLOAD_CSUM | VMM_NET_OFFLOAD_TSO4 | VMM_NET_OFFLOAD_TSO6 |
			      VMM_NET_OFFLOAD_ECN;
	if (ioctl(t->fd, TUNSETOFFLOAD, tun_flags(want)) == 0)
		t->caps = want;
	else if (ioctl(t->fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0)
		t->caps = VMM_NET_OFFLOAD_CSUM;
	if (ioctl(t->fd, TUNSETOFFLOAD, 0) < 0)
		t->caps = 0;
	t->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->kick < 0) {
		rc = -errno;
		goto out_close;
	}
	t->kick_watch = h->fd_watch(h, t->kick, VMM_FD_READ, tap_kicked, t);
	t->watch = h->fd_watch(h, t->fd, VMM_FD_READ, tap_readable, t);
	if (!t->kick_watch || !t->watch) {
		rc = -ENOMEM;
		goto out_unwatch;
	}
	tap_link_open(t);
	*state = t;
	return 0;

out_unwatch:
	if (t->watch)
		h->fd_unwatch(h, t->watch);
	if (t->kick_watch)
		h->fd_unwatch(h, t->kick_watch);
	close(t->kick);
out_close:
	close(t->fd);
out_free:
	free(t);
	return rc;
}

/* A name the kernel takes for an interface (its dev_valid_name()). */
static bool tap_name_valid(const char *name)
{
	if (!name[0] || strlen(name) >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || *c == ' ' || (*c >= '\t' && *c <= '\r'))
			return false;
	return true;
}

/*
 * vmmctl check (ABI 1.6): open() would create the tap when it does not
 * exist.  Check instead that the name is one the kernel takes, that
 * /dev/net/tun can be opened, and that an interface of that name, if there
 * is one, is a tap (sysfs: tun_flags), with open()'s messages where it
 * has them.  No stand-in state: the offloads are probed on the real tap.
 */
static int tap_check(const struct vmm_host *h, void **state)
{
	const char *ifname = h->prop_str(h, "ifname");
	char path[64];
	FILE *f;

	if (!VMM_HOST_HAS(h, net_input)) {
		h->log(h, VMM_LOG_ERROR, "the host has no net backends (ABI 1.2 needed)");
		return -ENOTSUP;
	}
	if (!ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ) {
		h->log(h, VMM_LOG_ERROR, "ifname must be 1 to %d characters", IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (!tap_name_valid(ifname)) {
		h->log(h, VMM_LOG_ERROR, "tap '%s': %s (see plugins/net-tap/README.md for the host setup)",
		       ifname, strerror(EINVAL));
		return -EINVAL;
	}
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		int e = errno;
		h->log(h, VMM_LOG_ERROR, "/dev/net/tun: %s", strerror(e));
		return -e;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s", ifname);
	if (access(path, F_OK) == 0) {
		unsigned flags = 0;

		snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", ifname);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%x", &flags) != 1 || !(flags & IFF_TAP)) {
			h->log(h, VMM_LOG_ERROR, "tap '%s': an interface of that name exists and is "
			       "not a tap (see plugins/net-tap/README.md for the host setup)", ifname);
			if (f)
				fclose(f);
			return -EINVAL;
		}
		fclose(f);
	}
	*state = NULL;
	return 0;
}

static void tap_close(void *state)
{
	struct tap *t = state;

	if (!t)
		return;
	tap_link_close(t);
	if (t->watch)
		t->h->fd_unwatch(t->h, t->watch);
	t->h->fd_unwatch(t->h, t->kick_watch);
	close(t->kick);
	close(t->fd);
	free(t);
}

static const struct vmm_net_backend_ops tap_ops = {
	.base = {
		.size = sizeof(struct vmm_net_backend_ops),
		.type = VMM_BACKEND_NET,
		.open = tap_open,
		.close = tap_close,
	},
	.send = tap_send,
	.info = tap_info,
	.set_offloads = tap_set_offloads,
	.resume_input = tap_resume_input,
	.check = tap_check,
	.standby = tap_standby,
};

static const struct vmm_prop_desc tap_props[] = {
	{ .name = "ifname", .type = VMM_PROP_STRING, .required = true,
	  .help = "tap interface: an existing one (ip tuntap add dev NAME mode tap) or a new one" },
	{ .name = NULL },
};

/* ABI 1.10: beyond vmmctl's seccomp allow-lists.  When rtnetlink drops
 * messages (ENOBUFS) the link state is asked for again on the main loop
 * with SIOCGIFFLAGS, on an AF_INET socket made for it (tap_ifreq()). */
static const char *const tap_syscalls[] = { "socket", NULL };

static const struct vmm_plugin tap_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_BACKEND,
	.name = "net-tap",
	.version = "1.0",
	.summary = "net backend on a Linux tap interface (vnet header, offloads)",
	.props = tap_props,
	.ops = &tap_ops,
	.syscalls = tap_syscalls,
};

VMM_PLUGIN_DEFINE(tap_plugin)
