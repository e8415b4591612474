/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio-net/virtio-net.c - the virtio network device (virtio 1.2,
 * section 5.1, device ID 1) on a net backend (h->net_open, ABI 1.2),
 * normally plugins/net-tap.
 *
 * One receive queue (0) and one transmit queue (1).  Every frame carries
 * the 12-byte virtio 1.x header (5.1.6), which is struct vmm_net_hdr, so
 * headers pass between the guest and the backend unchanged: offloads work
 * end to end where the backend can do them.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/virtio/virtio.h"

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN  9
#define VIRTIO_NET_F_HOST_TSO4  11
#define VIRTIO_NET_F_HOST_TSO6  12
#define VIRTIO_NET_F_HOST_ECN   13
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16

#define VIRTIO_NET_S_LINK_UP 1

#define NET_RXQ 0
#define NET_TXQ 1
#define NET_QUEUE_MAX 256
#define NET_HDR ((uint32_t)sizeof(struct vmm_net_hdr))

/* struct virtio_net_config (5.1.4): mac, status, max_virtqueue_pairs. */
#define NET_CFG_MAC    0
#define NET_CFG_STATUS 6
#define NET_CFG_MAX_VQ 8
#define NET_CFG_SIZE   10

#define NET_DEFAULT_MAC "02:76:6d:6d:00:01" /* locally administered, unicast */

struct net_stats {
	unsigned long tx_frames, rx_frames;
	unsigned long tx_errors;   /* backend refused a frame */
	unsigned long rx_dropped;  /* no single buffer large enough (no mergeable buffers) */
	unsigned long rx_stalls;   /* input paused for want of receive buffers */
};

struct virtio_net {
	struct virtio_dev *vdev; /* first: tests reach the counters through it */
	const struct vmm_host *h;
	struct vmm_net *net;
	struct vmm_net_info info;
	uint8_t config[NET_CFG_SIZE];
	bool link_prop;          /* the `link` property */
	bool backend_up;         /* the backend's link (ABI 1.3 link_changed) */
	bool rx_stalled;         /* the backend waits for net_input_ready() */
	struct net_stats stats;
	struct virtq_elem elem;
	struct iovec seg[VIRTQ_MAX_SIZE];
};

/* A guest mistake: counted and logged. */
static void net_bad(struct virtio_net *n, const char *why, uint16_t head)
{
	virtio_dev_stats(n->vdev)->bad_request++;
	n->h->log(n->h, VMM_LOG_GUEST_ERROR, "chain %u: %s", head, why);
}

static uint64_t net_config_read(void *opaque, uint32_t offset, unsigned len)
{
	struct virtio_net *n = opaque;
	uint64_t v = 0;

	for (unsigned i = 0; i < len; i++)
		if (offset + i < NET_CFG_SIZE)
			v |= (uint64_t)n->config[offset + i] << (8 * i);
	return v;
}

/* Config `status` (5.1.4): VIRTIO_NET_S_LINK_UP while the `link` property
 * and the backend's link are both up. */
static bool net_set_status(struct virtio_net *n)
{
	uint16_t old, st = htole16(n->link_prop && n->backend_up ? VIRTIO_NET_S_LINK_UP : 0);

	memcpy(&old, n->config + NET_CFG_STATUS, 2);
	memcpy(n->config + NET_CFG_STATUS, &st, 2);
	return old != st;
}

static void net_link_changed(void *opaque, bool up)
{
	struct virtio_net *n = opaque;

	n->backend_up = up;
	if (!net_set_status(n))
		return;
	n->h->log(n->h, VMM_LOG_INFO, "link %s", up ? "up" : "down");
	/* 5.1.4: `status` exists only with VIRTIO_NET_F_STATUS, and a driver
	 * that negotiated it reads the link from it (5.1.4.2); a changed
	 * config comes with a configuration change notification (4.2.2:
	 * InterruptStatus bit 1, ConfigGeneration bumped), which the
	 * transport sends only after DRIVER_OK, so before it just the field
	 * and the generation change.  A driver without the feature assumes
	 * the link is up and gets no interrupt. */
	if (virtio_dev_has_feature(n->vdev, VIRTIO_NET_F_STATUS))
		virtio_dev_config_changed(n->vdev);
}

/* ------------------------------------------------------------------- TX */

/* Header fields the driver may only use with a feature it accepted
 * (5.1.6.2.1): the backend would otherwise get offloads nobody agreed to. */
static const char *net_tx_hdr_bad(struct virtio_net *n, const struct vmm_net_hdr *hdr)
{
	struct virtio_dev *v = n->vdev;

	if ((hdr->flags & VMM_NET_HDR_F_NEEDS_CSUM) && !virtio_dev_has_feature(v, VIRTIO_NET_F_CSUM))
		return "NEEDS_CSUM without VIRTIO_NET_F_CSUM";
	switch (hdr->gso_type & ~VMM_NET_HDR_GSO_ECN) {
	case VMM_NET_HDR_GSO_NONE:
		if (hdr->gso_type & VMM_NET_HDR_GSO_ECN)
			return "GSO_ECN without a GSO type";
		return NULL;
	case VMM_NET_HDR_GSO_TCPV4:
		if (!virtio_dev_has_feature(v, VIRTIO_NET_F_HOST_TSO4))
			return "GSO_TCPV4 without VIRTIO_NET_F_HOST_TSO4";
		break;
	case VMM_NET_HDR_GSO_TCPV6:
		if (!virtio_dev_has_feature(v, VIRTIO_NET_F_HOST_TSO6))
			return "GSO_TCPV6 without VIRTIO_NET_F_HOST_TSO6";
		break;
	default:
		return "unsupported GSO type";
	}
	if ((hdr->gso_type & VMM_NET_HDR_GSO_ECN) && !virtio_dev_has_feature(v, VIRTIO_NET_F_HOST_ECN))
		return "GSO_ECN without VIRTIO_NET_F_HOST_ECN";
	return NULL;
}

static void net_tx_one(struct virtio_net *n, const struct virtq_elem *e)
{
	struct vmm_net_hdr hdr;
	const char *bad;

	/* 5.1.6.2: a transmit chain is device-readable only. */
	if (e->nin) {
		net_bad(n, "device-writable descriptor in a transmit chain", e->head);
		return;
	}
	if (e->out_len < NET_HDR) {
		net_bad(n, "transmit chain shorter than the 12-byte header", e->head);
		return;
	}
	if (e->out_len - NET_HDR > VMM_NET_FRAME_MAX) {
		net_bad(n, "frame longer than 65550 bytes", e->head);
		return;
	}
	virtq_iov_read(e->iov, e->nout, 0, &hdr, sizeof(hdr));
	bad = net_tx_hdr_bad(n, &hdr);
	if (bad) {
		net_bad(n, bad, e->head);
		return;
	}
	int rc = n->h->net_send(n->h, n->net, e->iov, (int)e->nout);
	if (rc) {
		n->stats.tx_errors++;
		n->h->log(n->h, VMM_LOG_WARN, "send failed: %s", strerror(-rc));
		return;
	}
	n->stats.tx_frames++;
}

static void net_tx(struct virtio_net *n, struct virtio_dev *vdev)
{
	struct virtq *vq = virtio_dev_queue(vdev, NET_TXQ);
	unsigned budget = VIRTIO_NOTIFY_BUDGET;
	int rc = 0;

	while (budget && (rc = virtq_pop(vq, &n->elem)) > 0) {
		budget--;
		net_tx_one(n, &n->elem);
		/* A bad chain is dropped; the driver still gets it back. */
		virtq_push(vq, &n->elem, 0);
	}
	if (rc < 0)
		virtio_dev_needs_reset(vdev);
	else if (!budget)
		virtio_dev_defer_notify(vdev, NET_TXQ);
	virtio_dev_notify(vdev, vq);
}

/* ------------------------------------------------------------------- RX */

static bool net_rx_live(struct virtio_net *n)
{
	return virtio_dev_queue_live(n->vdev, NET_RXQ);
}

static bool net_can_receive(void *opaque)
{
	struct virtio_net *n = opaque;
	struct virtq *vq = virtio_dev_queue(n->vdev, NET_RXQ);
	int rc = 0;

	if (net_rx_live(n)) {
		rc = virtq_pop(vq, &n->elem);
		if (rc > 0)
			virtq_unpop(vq, 1);
		else if (rc < 0)
			virtio_dev_needs_reset(n->vdev);
	}
	if (rc <= 0) {
		n->rx_stalled = true;
		n->stats.rx_stalls++;
	}
	return rc > 0;
}

static int net_receive(void *opaque, const struct iovec *iov, int iovcnt)
{
	struct virtio_net *n = opaque;
	struct virtq *vq = virtio_dev_queue(n->vdev, NET_RXQ);
	bool mrg = virtio_dev_has_feature(n->vdev, VIRTIO_NET_F_MRG_RXBUF);
	struct iovec nb_seg[2]; /* where the first chain's num_buffers lies */
	unsigned nb_nseg = 0, used = 0;
	size_t total = 0, off = 0;
	int rc;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (!net_rx_live(n))
		goto stall;
	while (off < total) {
		rc = virtq_pop(vq, &n->elem);
		if (rc < 0)
			goto reset;
		if (rc == 0) {
			/* Too few buffers for the whole frame: give back
			 * what was taken and wait for more. */
			virtq_unpop(vq, used);
			goto stall;
		}
		const struct virtq_elem *e = &n->elem;
		struct iovec *w = n->elem.iov + e->nout;

		/* 5.1.6.3: receive buffers are device-writable only and
		 * hold at least the header. */
		if (e->nout) {
			net_bad(n, "device-readable descriptor in a receive chain", e->head);
			goto reset;
		}
		if (used == 0 && e->in_len < NET_HDR) {
			net_bad(n, "receive buffer shorter than the 12-byte header", e->head);
			goto reset;
		}
		if (!mrg && e->in_len < total) {
			/* 5.1.6.3.1: without mergeable buffers one buffer
			 * takes a whole frame; this one cannot.  The frame is
			 * dropped, the buffer stays for the next. */
			virtq_unpop(vq, 1);
			n->stats.rx_dropped++;
			net_bad(n, "receive buffer too small for the frame", e->head);
			return 0;
		}
		size_t take = e->in_len < total - off ? e->in_len : total - off;
		virtq_iov_copy(w, e->nin, iov, (unsigned)iovcnt, off, take);
		if (used == 0)
			nb_nseg = virtq_iov_slice(w, e->nin, offsetof(struct vmm_net_hdr, num_buffers),
						  2, nb_seg);
		virtq_fill(vq, e, (uint32_t)take, used);
		used++;
		off += take;
	}
	/* 5.1.6.4: num_buffers is the chains the frame spans (1 without
	 * mergeable buffers); written before the entries are published. */
	uint16_t nb = htole16((uint16_t)used);
	virtq_iov_write(nb_seg, nb_nseg, 0, &nb, sizeof(nb));
	virtq_flush(vq, used);
	n->stats.rx_frames++;
	virtio_dev_notify(n->vdev, vq);
	return 0;

stall:
	n->rx_stalled = true;
	n->stats.rx_stalls++;
	return -EAGAIN;
reset:
	/* The frame is lost with the queue; the driver must reset. */
	virtio_dev_needs_reset(n->vdev);
	return 0;
}

static void net_queue_notify(void *opaque, struct virtio_dev *vdev, unsigned index)
{
	struct virtio_net *n = opaque;

	if (index == NET_TXQ) {
		net_tx(n, vdev);
	} else if (index == NET_RXQ && n->rx_stalled) {
		/* New receive buffers: the backend may send again. */
		n->rx_stalled = false;
		n->h->net_input_ready(n->h, n->net);
	}
}

/* Guest-side offloads as the driver accepted them, to the backend. */
static void net_driver_ok(void *opaque, struct virtio_dev *vdev)
{
	struct virtio_net *n = opaque;
	uint32_t off = 0;

	if (virtio_dev_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM))
		off |= VMM_NET_OFFLOAD_CSUM;
	if (virtio_dev_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4))
		off |= VMM_NET_OFFLOAD_TSO4;
	if (virtio_dev_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO6))
		off |= VMM_NET_OFFLOAD_TSO6;
	if (virtio_dev_has_feature(vdev, VIRTIO_NET_F_GUEST_ECN))
		off |= VMM_NET_OFFLOAD_ECN;
	int rc = n->h->net_set_offloads(n->h, n->net, off & n->info.offloads);
	if (rc)
		n->h->log(n->h, VMM_LOG_WARN, "setting offloads 0x%x failed: %s", off, strerror(-rc));
	/* Frames may have waited for buffers before the driver was ready. */
	n->rx_stalled = false;
	n->h->net_input_ready(n->h, n->net);
}

static void net_virtio_reset(void *opaque)
{
	struct virtio_net *n = opaque;

	/* Plain frames until the next driver accepts offloads again. */
	if (n->info.offloads)
		n->h->net_set_offloads(n->h, n->net, 0);
	n->rx_stalled = true;
}

static const struct virtio_dev_ops net_virtio_ops = {
	.device_id = VIRTIO_ID_NET,
	.features = VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) |
		    VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		    VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF),
	.num_queues = 2,
	.queue_max = NET_QUEUE_MAX,
	.config_read = net_config_read,
	.queue_notify = net_queue_notify,
	.reset = net_virtio_reset,
	.driver_ok = net_driver_ok,
};

/* ---------------------------------------------------------------- plugin */

/* "xx:xx:xx:xx:xx:xx", hex digits only. */
static int net_parse_mac(const char *s, uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdefABCDEF";

	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !strchr(hex, s[i]) || !s[i])
			return -EINVAL;
	}
	for (int i = 0; i < 6; i++) {
		unsigned v;

		if (sscanf(s + 3 * i, "%2x", &v) != 1)
			return -EINVAL;
		mac[i] = (uint8_t)v;
	}
	return 0;
}

/* Offered only where the backend can (5.1.3.1: each needs the one it
 * names: TSO needs CSUM, ECN needs TSO). */
static uint64_t net_offload_features(uint32_t caps)
{
	uint64_t f = 0;

	if (!(caps & VMM_NET_OFFLOAD_CSUM))
		return 0;
	f |= VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if (caps & VMM_NET_OFFLOAD_TSO4)
		f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4);
	if (caps & VMM_NET_OFFLOAD_TSO6)
		f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6);
	if ((caps & VMM_NET_OFFLOAD_ECN) && (caps & (VMM_NET_OFFLOAD_TSO4 | VMM_NET_OFFLOAD_TSO6)))
		f |= VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN);
	return f;
}

static void net_destroy(void *state)
{
	struct virtio_net *n = state;

	/* The net backend is the core's; it closes it after the devices. */
	virtio_dev_destroy(n->vdev);
	free(n);
}

static const struct vmm_net_client net_client = {
	.size = sizeof(struct vmm_net_client),
	.can_receive = net_can_receive,
	.receive = net_receive,
	.link_changed = net_link_changed,
};

static int net_create(const struct vmm_host *h, void **state)
{
	const char *mac_prop = h->prop_str(h, "mac");
	struct virtio_dev_setup setup = { 0 };
	struct virtio_net *n;
	uint8_t mac[6];
	int rc;

	if (!VMM_HOST_HAS(h, net_open) || !VMM_HOST_HAS(h, net_input_ready)) {
		h->log(h, VMM_LOG_ERROR, "the host has no net backends (ABI 1.2 needed)");
		return -ENOTSUP;
	}
	if (mac_prop && (net_parse_mac(mac_prop, mac) || (mac[0] & 1))) {
		h->log(h, VMM_LOG_ERROR, "mac \"%s\": expected a unicast xx:xx:xx:xx:xx:xx in hex",
		       mac_prop);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->h = h;
	n->link_prop = true;
	h->prop_bool(h, "link", &n->link_prop);
	n->rx_stalled = true;
	n->info.size = sizeof(n->info);
	n->net = h->net_open(h, "net", &net_client, n, &n->info);
	if (!n->net) {
		h->log(h, VMM_LOG_ERROR, "cannot open net backend '%s'",
		       h->prop_str(h, "net") ? h->prop_str(h, "net") : "");
		free(n);
		return -ENODEV;
	}
	/* The property, else the backend's own, else a fixed local one. */
	if (!mac_prop) {
		if (n->info.flags & VMM_NET_HAS_MAC)
			memcpy(mac, n->info.mac, sizeof(mac));
		else
			net_parse_mac(NET_DEFAULT_MAC, mac);
	}
	memcpy(n->config + NET_CFG_MAC, mac, sizeof(mac));
	/* An ABI 1.2 host never sets VMM_NET_LINK_DOWN: the link is up. */
	n->backend_up = !(n->info.flags & VMM_NET_LINK_DOWN);
	net_set_status(n);
	uint16_t vqs = htole16(1);
	memcpy(n->config + NET_CFG_MAX_VQ, &vqs, 2);

	setup.features = net_virtio_ops.features | net_offload_features(n->info.offloads);
	rc = virtio_dev_create(h, &net_virtio_ops, &setup, n, &n->vdev);
	if (rc) {
		free(n);
		return rc;
	}
	*state = n;
	return 0;
}

static void net_reset(void *state)
{
	struct virtio_net *n = state;

	virtio_dev_reset(n->vdev);
}

/*
 * Saved state (ABI 1.12): the transport and its queues, the MAC the driver
 * read and the link status it last saw.  Frames are moved inside one call
 * (a transmit notification, a backend's receive), so no frame is half
 * done at a pause; a received frame waiting for buffers is the backend's.
 * On load the backend, a new one, is told again what DRIVER_OK told the
 * old one (the offloads the driver accepted) and asked for input; its link
 * is its own: when it differs from the one the driver saw, the driver
 * hears of it as of any link change.
 */
#define NET_STATE_VERSION 1

static int net_save(void *state, struct vmm_state_out *out)
{
	struct virtio_net *n = state;
	uint16_t st;
	int rc = virtio_dev_save(n->vdev, out);

	memcpy(&st, n->config + NET_CFG_STATUS, 2);
	if (!rc)
		rc = vmm_state_put(n->h, out, "net.mac", n->config + NET_CFG_MAC, 6);
	if (!rc)
		rc = vmm_state_put_u32(n->h, out, "net.status", le16toh(st));
	return rc;
}

static int net_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct virtio_net *n = state;
	const char *field;
	uint8_t mac[6];
	uint32_t status;
	uint16_t st;
	int rc = virtio_dev_load_version(n->vdev, version, NET_STATE_VERSION);

	if (rc)
		return rc;
	if ((rc = vmm_state_get(n->h, in, field = "net.mac", mac, sizeof(mac))) ||
	    (rc = vmm_state_get_u32(n->h, in, field = "net.status", &status))) {
		n->h->log(n->h, VMM_LOG_ERROR, "saved state: %s: %s", field,
			  rc == -ENOENT ? "missing" : "wrong size");
		return rc;
	}
	if (mac[0] & 1) {
		n->h->log(n->h, VMM_LOG_ERROR, "saved state: net.mac: a multicast address");
		return -EINVAL;
	}
	if (status & ~(uint32_t)VIRTIO_NET_S_LINK_UP) {
		n->h->log(n->h, VMM_LOG_ERROR, "saved state: net.status: unknown bits 0x%x", status);
		return -EINVAL;
	}
	rc = virtio_dev_load(n->vdev, in);
	if (rc)
		return rc;
	/* The guest's driver has this MAC, whatever the new backend's is. */
	memcpy(n->config + NET_CFG_MAC, mac, sizeof(mac));
	st = htole16((uint16_t)status);
	memcpy(n->config + NET_CFG_STATUS, &st, 2);
	if (net_set_status(n) && virtio_dev_has_feature(n->vdev, VIRTIO_NET_F_STATUS))
		virtio_dev_config_changed(n->vdev);
	if (virtio_dev_status(n->vdev) & VIRTIO_STATUS_DRIVER_OK)
		net_driver_ok(n, n->vdev);
	return 0;
}

static const struct vmm_device_ops net_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = net_create,
	.destroy = net_destroy,
	.reset = net_reset,
	.state_version = NET_STATE_VERSION,
	.save = net_save,
	.load = net_load,
};

static const struct vmm_prop_desc net_props[] = {
	VIRTIO_TRANSPORT_PROPS,
	{ .name = "net", .type = VMM_PROP_STRING, .required = true,
	  .help = "net backend (a backend section, e.g. plugin net-tap)" },
	{ .name = "mac", .type = VMM_PROP_STRING,
	  .help = "MAC address xx:xx:xx:xx:xx:xx (default: the backend's, else " NET_DEFAULT_MAC ")" },
	{ .name = "link", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "false: the link is always down; true: it follows the backend's (VIRTIO_NET_F_STATUS)" },
	{ .name = NULL },
};

static const struct vmm_plugin virtio_net_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "virtio-net",
	.version = "1.0",
	.summary = "virtio network device on virtio-mmio, on a net backend",
	.props = net_props,
	.ops = &net_dev_ops,
};

VMM_PLUGIN_DEFINE(virtio_net_plugin)
