/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio-console/virtio-console.c - the virtio console device
 * (virtio 1.2, section 5.3, device ID 3) on a character backend: one port,
 * port 0, whose transmitq goes to the backend and whose receiveq takes the
 * backend's input.  No multiport (no control queues), no console size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/virtio/virtio.h"

/* Feature bits (5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE        0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Port 0's queues (5.3.2); without MULTIPORT there are no others. */
#define CON_RXQ 0 /* receiveq: host to guest, device-writable buffers */
#define CON_TXQ 1 /* transmitq: guest to host, device-readable buffers */

/* Config space (5.3.4): le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
#define CON_CFG_MAX_NR_PORTS 4
#define CON_CFG_EMERG_WR     8
#define CON_CFG_SIZE         12

struct virtio_console {
	struct virtio_dev *vdev; /* first: tests reach the counters through it */
	const struct vmm_host *h;
	struct vmm_char *chr;
	/* One receive buffer taken from the receiveq by can_receive() and
	 * filled by the receive() that follows. */
	struct virtq_elem rx;
	bool rx_held;
	/* can_receive() said 0: the backend waits for char_input_ready(),
	 * which the next receiveq notification sends. */
	bool rx_starved;
	struct virtq_elem tx;
	unsigned long tx_bytes, rx_bytes, emerg_bytes;
	unsigned long tx_errors; /* the backend refused output */
};

static void con_output(struct virtio_console *c, const void *buf, size_t len)
{
	ssize_t n = c->chr ? c->h->char_write(c->h, c->chr, buf, len) : (ssize_t)len;

	/* The guest cannot do anything about a backend that is gone: its
	 * bytes are consumed either way, and counted. */
	if (n < 0 || (size_t)n < len)
		c->tx_errors++;
}

static void con_bad_buffer(struct virtio_console *c, unsigned index, uint16_t head, const char *why)
{
	virtio_dev_stats(c->vdev)->bad_request++;
	c->h->log(c->h, VMM_LOG_GUEST_ERROR, "queue %u: buffer %u %s", index, head, why);
}

static void con_transmit(struct virtio_console *c, struct virtq *vq)
{
	struct virtq_elem *e = &c->tx;

	/* 5.3.6.1: a transmitq buffer is device-readable only.  A chain with
	 * a writable part is refused whole, so the guest learns nothing from
	 * what the device would have done with it. */
	if (e->nin) {
		con_bad_buffer(c, CON_TXQ, e->head, "has a device-writable part on the transmitq");
	} else {
		for (unsigned i = 0; i < e->nout; i++) {
			con_output(c, e->iov[i].iov_base, e->iov[i].iov_len);
			c->tx_bytes += e->iov[i].iov_len;
		}
	}
	/* 2.7.8: the used length counts bytes written to the buffer: none. */
	virtq_push(vq, e, 0);
}

/* Take the next usable receive buffer into c->rx.  Buffers the driver got
 * wrong are completed empty on the way.  Returns true when one is held. */
static bool con_rx_take(struct virtio_console *c)
{
	struct virtq *vq = virtio_dev_queue(c->vdev, CON_RXQ);
	bool held = false;
	unsigned budget = VIRTIO_NOTIFY_BUDGET;
	int rc = 0;

	/* 3.1.1: buffers posted before DRIVER_OK are not the device's yet. */
	if (!virtio_dev_queue_live(c->vdev, CON_RXQ))
		return false;
	while (budget && (rc = virtq_pop(vq, &c->rx)) > 0) {
		budget--;
		if (c->rx.nout) {
			/* 5.3.6.1: receiveq buffers are device-writable only. */
			con_bad_buffer(c, CON_RXQ, c->rx.head, "is device-readable on the receiveq");
		} else if (c->rx.in_len) {
			held = true;
			break;
		}
		virtq_push(vq, &c->rx, 0); /* refused, or no room at all: back empty */
	}
	if (rc < 0)
		virtio_dev_needs_reset(c->vdev);
	else if (!held && !budget)
		/* More bad buffers may follow: look again from the main loop
		 * rather than on this thread (and with rx_starved set, the
		 * notification there asks the backend for input again). */
		virtio_dev_defer_notify(c->vdev, CON_RXQ);
	virtio_dev_notify(c->vdev, vq);
	c->rx_held = held;
	return held;
}

static size_t con_can_receive(void *opaque)
{
	struct virtio_console *c = opaque;

	if (c->rx_held && !virtio_dev_queue_live(c->vdev, CON_RXQ))
		c->rx_held = false; /* the queue was stopped under it */
	if (!c->rx_held && !con_rx_take(c)) {
		c->rx_starved = true;
		return 0;
	}
	return c->rx.in_len;
}

static void con_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_console *c = opaque;
	struct virtq *vq = virtio_dev_queue(c->vdev, CON_RXQ);

	if (!c->rx_held)
		return; /* the backend gave more than can_receive() allowed */
	/* One receive() fills one buffer and completes it at once: a console
	 * wants each key in the guest now, not when a page is full. */
	size_t n = virtq_iov_write(&c->rx.iov[c->rx.nout], c->rx.nin, 0, buf, len);
	c->rx_bytes += n;
	c->rx_held = false;
	virtq_push(vq, &c->rx, (uint32_t)n);
	virtio_dev_notify(c->vdev, vq);
}

static void con_queue_notify(void *opaque, struct virtio_dev *vdev, unsigned index)
{
	struct virtio_console *c = opaque;
	struct virtq *vq = virtio_dev_queue(vdev, index);
	unsigned budget = VIRTIO_NOTIFY_BUDGET;
	int rc = 0;

	if (index == CON_RXQ) {
		/* New receive buffers: input the backend held back can come.
		 * It is delivered later, never from inside this call. */
		if (c->rx_starved && c->chr) {
			c->rx_starved = false;
			c->h->char_input_ready(c->h, c->chr);
		}
		return;
	}
	while (budget && (rc = virtq_pop(vq, &c->tx)) > 0) {
		budget--;
		con_transmit(c, vq);
	}
	if (rc < 0)
		virtio_dev_needs_reset(vdev);
	else if (!budget)
		virtio_dev_defer_notify(vdev, index);
	virtio_dev_notify(vdev, vq);
}

static uint64_t con_config_read(void *opaque, uint32_t offset, unsigned len)
{
	/* cols and rows 0 (F_SIZE is not offered); max_nr_ports 1, though
	 * only valid with F_MULTIPORT; emerg_wr is write-only and reads 0. */
	uint8_t cfg[CON_CFG_SIZE] = { [CON_CFG_MAX_NR_PORTS] = 1 };
	uint64_t v = 0;

	(void)opaque;
	for (unsigned i = 0; i < len; i++)
		if (offset + i < sizeof(cfg))
			v |= (uint64_t)cfg[offset + i] << (8 * i);
	return v;
}

static void con_config_write(void *opaque, uint32_t offset, unsigned len, uint64_t value)
{
	struct virtio_console *c = opaque;

	/* 5.3.4: a write to emerg_wr sends its low byte to the port, and
	 * 5.3.5.1 lets a driver do it even before the device is configured:
	 * no status or feature check here. */
	if (offset == CON_CFG_EMERG_WR && len == 4) {
		uint8_t ch = (uint8_t)value;

		con_output(c, &ch, 1);
		c->emerg_bytes++;
		return;
	}
	/* Everything else in this config space is read-only. */
	virtio_dev_stats(c->vdev)->bad_access++;
	c->h->log(c->h, VMM_LOG_GUEST_ERROR, "config write of %u bytes at 0x%x is not emerg_wr",
		  len, offset);
}

static void con_reset(void *opaque)
{
	struct virtio_console *c = opaque;

	/* The held buffer belonged to rings that are gone. */
	c->rx_held = false;
}

static const struct vmm_char_client con_char_client = {
	.size = sizeof(struct vmm_char_client),
	.can_receive = con_can_receive,
	.receive = con_receive,
};

static const struct virtio_dev_ops con_virtio_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.features = VIRTIO_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE) |
		    VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX),
	.num_queues = 2,
	.queue_max = 256,
	.config_read = con_config_read,
	.config_write = con_config_write,
	.queue_notify = con_queue_notify,
	.reset = con_reset,
};

static void con_destroy(void *state)
{
	struct virtio_console *c = state;

	virtio_dev_destroy(c->vdev);
	free(c);
}

static int con_create(const struct vmm_host *h, void **state)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->h = h;
	c->chr = h->char_open(h, "chardev", &con_char_client, c);
	if (!c->chr) {
		h->log(h, VMM_LOG_ERROR, "cannot open character backend '%s'",
		       h->prop_str(h, "chardev") ? h->prop_str(h, "chardev") : "");
		free(c);
		return -ENODEV;
	}
	rc = virtio_dev_create(h, &con_virtio_ops, NULL, c, &c->vdev);
	if (rc) {
		free(c);
		return rc;
	}
	*state = c;
	return 0;
}

static void con_machine_reset(void *state)
{
	struct virtio_console *c = state;

	virtio_dev_reset(c->vdev);
}

static const struct vmm_device_ops con_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = con_create,
	.destroy = con_destroy,
	.reset = con_machine_reset,
};

static const struct vmm_prop_desc con_props[] = {
	VIRTIO_TRANSPORT_PROPS,
	{ .name = "chardev", .type = VMM_PROP_STRING, .def_str = "stdio",
	  .help = "character backend of port 0 (a backend section or plugin name)" },
	{ .name = NULL },
};

static const struct vmm_plugin virtio_console_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "virtio-console",
	.version = "1.0",
	.summary = "virtio console (one port) on virtio-mmio and a character backend",
	.props = con_props,
	.ops = &con_dev_ops,
};

VMM_PLUGIN_DEFINE(virtio_console_plugin)
