/* SPDX-License-Identifier: MIT */
/*
 * devices/virtio-console/virtio-console.c - the virtio console device
 * (virtio 1.2, section 5.3, device ID 3) on character backends.  Port 0
 * (property `chardev`) is the console: its transmitq goes to the backend
 * and its receiveq takes the backend's input.  Ports 1..7 (`portN`, named
 * by `nameN`) make it a MULTIPORT device with control queues (5.3.6.2);
 * each port has its own backend and its own flow control.  No console
 * size, no hot plug.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/virtio/virtio.h"

/* Feature bits (5.3.3). */
#define VIRTIO_CONSOLE_F_SIZE        0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Queues (5.3.2): port 0's receiveq and transmitq are 0 and 1; with
 * MULTIPORT the control receiveq and transmitq are 2 and 3, and port n >= 1
 * has 2n + 2 and 2n + 3. */
#define CON_RXQ 0 /* receiveq: host to guest, device-writable buffers */
#define CON_TXQ 1 /* transmitq: guest to host, device-readable buffers */
#define CON_CTRL_RXQ 2 /* control receiveq: device to driver messages */
#define CON_CTRL_TXQ 3 /* control transmitq: driver to device messages */

/* Ports beyond port 0, each on its own property pair portN / nameN. */
#define CON_EXTRA_PORTS 7
#define CON_MAX_PORTS (1 + CON_EXTRA_PORTS)
#define CON_NAME_MAX 63 /* bytes of a port name (PORT_NAME carries no NUL) */

/* Config space (5.3.4): le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
#define CON_CFG_MAX_NR_PORTS 4
#define CON_CFG_EMERG_WR     8
#define CON_CFG_SIZE         12

/* Control messages (5.3.6.2): struct virtio_console_control { le32 id;
 * le16 event; le16 value; }, PORT_NAME's name right after it. */
#define CON_CTRL_HDR 8
enum {
	CON_DEVICE_READY = 0,  /* driver: value 1 ready for DEVICE_ADD, 0 failed */
	CON_DEVICE_ADD = 1,    /* device: port id exists */
	CON_DEVICE_REMOVE = 2, /* device: port id is gone (never sent: no hot unplug) */
	CON_PORT_READY = 3,    /* driver: port id set up (value 1) or failed (0) */
	CON_CONSOLE_PORT = 4,  /* device: port id is a console (hvc) */
	CON_RESIZE = 5,        /* device: console size (never sent: no F_SIZE) */
	CON_PORT_OPEN = 6,     /* both: that side opened (1) or closed (0) port id */
	CON_PORT_NAME = 7,     /* device: port id's name follows the header */
};

/* Messages a port still owes the driver, sent in this order. */
#define CON_PEND_ADD     (1u << 0)
#define CON_PEND_CONSOLE (1u << 1)
#define CON_PEND_NAME    (1u << 2)
#define CON_PEND_OPEN    (1u << 3)

struct virtio_console;

struct con_port {
	struct virtio_console *c;
	unsigned id;
	struct vmm_char *chr;  /* NULL: the port does not exist (a hole in portN) */
	const char *name;      /* NULL: unnamed */
	unsigned rxq, txq;
	/* One receive buffer taken from the receiveq by can_receive() and
	 * filled by the receive() that follows. */
	struct virtq_elem rx;
	bool rx_held;
	/* can_receive() said 0: the backend waits for char_input_ready(),
	 * which the next receiveq notification (or the guest opening the
	 * port) sends. */
	bool rx_starved;
	/* MULTIPORT control state, forgotten at reset. */
	bool added;            /* DEVICE_ADD sent */
	bool ready;            /* the driver said PORT_READY 1 */
	bool guest_open;       /* the driver said PORT_OPEN 1 */
	bool host_told;        /* the last PORT_OPEN value sent (0 until one is) */
	unsigned pending;      /* CON_PEND_* */
	/* Someone is at the backend's host end (its char_connected, ABI 1.4);
	 * kept across resets: it is the backend's, not the driver's. */
	bool host_connected;
	unsigned long tx_bytes, rx_bytes;
};

struct virtio_console {
	struct virtio_dev *vdev; /* first: tests reach the counters through it */
	const struct vmm_host *h;
	struct con_port port[CON_MAX_PORTS];
	unsigned nports;         /* max_nr_ports: 1 + the highest portN configured */
	bool multiport;          /* F_MULTIPORT offered (some portN is set) */
	struct virtq_elem tx;    /* a transmitq or control transmitq chain */
	struct virtq_elem ctrl;  /* a control receiveq buffer */
	unsigned long emerg_bytes;
	unsigned long tx_errors; /* the backend refused output */
	unsigned long ctrl_errors; /* control messages refused (also in bad_request) */
};

static void con_output(struct con_port *p, const void *buf, size_t len)
{
	struct virtio_console *c = p->c;
	ssize_t n = p->chr ? c->h->char_write(c->h, p->chr, buf, len) : (ssize_t)len;

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

/* A control message the device refuses: counted, logged, no other effect. */
static void con_bad_control(struct virtio_console *c, uint32_t id, uint16_t event, const char *why)
{
	c->ctrl_errors++;
	virtio_dev_stats(c->vdev)->bad_request++;
	c->h->log(c->h, VMM_LOG_GUEST_ERROR, "control message (port %u, event %u): %s", id, event,
		  why);
}

/* Pop chains from @index while the budget lasts, calling @serve on each;
 * a malformed chain needs a reset, work left over is deferred. */
static void con_drain(struct virtio_console *c, unsigned index,
		      void (*serve)(struct virtio_console *c, struct virtq *vq, unsigned index))
{
	struct virtq *vq = virtio_dev_queue(c->vdev, index);
	unsigned budget = VIRTIO_NOTIFY_BUDGET;
	int rc = 0;

	while (budget && (rc = virtq_pop(vq, &c->tx)) > 0) {
		budget--;
		serve(c, vq, index);
	}
	if (rc < 0)
		virtio_dev_needs_reset(c->vdev);
	else if (!budget)
		virtio_dev_defer_notify(c->vdev, index);
	virtio_dev_notify(c->vdev, vq);
}

static void con_transmit(struct virtio_console *c, struct virtq *vq, unsigned index)
{
	struct virtq_elem *e = &c->tx;
	/* Port 0 transmits on queue 1, port n on 2n + 3 (5.3.2). */
	struct con_port *p = &c->port[index == CON_TXQ ? 0 : (index - 3) / 2];

	/* 5.3.6.1: a transmitq buffer is device-readable only.  A chain with
	 * a writable part is refused whole, so the guest learns nothing from
	 * what the device would have done with it. */
	if (e->nin) {
		con_bad_buffer(c, index, e->head, "has a device-writable part on the transmitq");
	} else {
		for (unsigned i = 0; i < e->nout; i++) {
			con_output(p, e->iov[i].iov_base, e->iov[i].iov_len);
			p->tx_bytes += e->iov[i].iov_len;
		}
	}
	/* 2.7.8: the used length counts bytes written to the buffer: none. */
	virtq_push(vq, e, 0);
}

/* Take the next usable buffer of receive queue @index into @e (the
 * receiveqs and the control receiveq alike).  Buffers the driver got
 * wrong are completed empty on the way.  Returns true when one is held. */
static bool con_rx_take(struct virtio_console *c, unsigned index, struct virtq_elem *e)
{
	struct virtq *vq = virtio_dev_queue(c->vdev, index);
	bool held = false;
	unsigned budget = VIRTIO_NOTIFY_BUDGET;
	int rc = 0;

	/* 3.1.1: buffers posted before DRIVER_OK are not the device's yet. */
	if (!virtio_dev_queue_live(c->vdev, index))
		return false;
	while (budget && (rc = virtq_pop(vq, e)) > 0) {
		budget--;
		if (e->nout) {
			/* 5.3.6.1: receiveq buffers are device-writable only. */
			con_bad_buffer(c, index, e->head, "is device-readable on a receiveq");
		} else if (e->in_len >= (index == CON_CTRL_RXQ ? CON_CTRL_HDR : 1)) {
			held = true;
			break;
		} else if (e->in_len) {
			con_bad_buffer(c, index, e->head, "cannot hold a control message header");
		}
		virtq_push(vq, e, 0); /* refused, or no room at all: back empty */
	}
	if (rc < 0)
		virtio_dev_needs_reset(c->vdev);
	else if (!held && !budget)
		/* More bad buffers may follow: look again from the main loop
		 * rather than on this thread (and with rx_starved set, the
		 * notification there asks the backend for input again). */
		virtio_dev_defer_notify(c->vdev, index);
	virtio_dev_notify(c->vdev, vq);
	return held;
}

static bool con_multiport(const struct virtio_console *c)
{
	return c->multiport && virtio_dev_has_feature(c->vdev, VIRTIO_CONSOLE_F_MULTIPORT);
}

/* With MULTIPORT a port takes input only while the guest has it open (its
 * PORT_OPEN 1): Linux discards data that comes for a closed port, so it
 * waits in the backend instead.  Without MULTIPORT negotiated port 0 is
 * always open, and ports 1 and up have no queues: their input waits. */
static bool con_port_takes_input(const struct con_port *p)
{
	if (!con_multiport(p->c))
		return p->id == 0;
	return p->guest_open;
}

static size_t con_can_receive(void *opaque)
{
	struct con_port *p = opaque;
	struct virtio_console *c = p->c;

	if (p->rx_held && !virtio_dev_queue_live(c->vdev, p->rxq))
		p->rx_held = false; /* the queue was stopped under it */
	/* A buffer held when the guest closed the port stays held. */
	if (con_port_takes_input(p) && !p->rx_held)
		p->rx_held = con_rx_take(c, p->rxq, &p->rx);
	if (!p->rx_held || !con_port_takes_input(p)) {
		p->rx_starved = true;
		return 0;
	}
	return p->rx.in_len;
}

static void con_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct con_port *p = opaque;
	struct virtio_console *c = p->c;
	struct virtq *vq = virtio_dev_queue(c->vdev, p->rxq);

	if (!p->rx_held)
		return; /* the backend gave more than can_receive() allowed */
	/* One receive() fills one buffer and completes it at once: a console
	 * wants each key in the guest now, not when a page is full. */
	size_t n = virtq_iov_write(&p->rx.iov[p->rx.nout], p->rx.nin, 0, buf, len);
	p->rx_bytes += n;
	p->rx_held = false;
	virtq_push(vq, &p->rx, (uint32_t)n);
	virtio_dev_notify(c->vdev, vq);
}

/* The port may take input again: let the backend deliver what waits. */
static void con_wake_input(struct con_port *p)
{
	if (p->rx_starved && p->chr) {
		p->rx_starved = false;
		p->c->h->char_input_ready(p->c->h, p->chr);
	}
}

/* Write one control message into a control receiveq buffer (5.3.6.2);
 * false when the driver has posted none. */
static bool con_ctrl_send(struct virtio_console *c, uint32_t id, uint16_t event, uint16_t value,
			  const char *extra)
{
	struct virtq *vq = virtio_dev_queue(c->vdev, CON_CTRL_RXQ);
	uint8_t msg[CON_CTRL_HDR + CON_NAME_MAX];
	size_t len = CON_CTRL_HDR, n;

	if (!con_rx_take(c, CON_CTRL_RXQ, &c->ctrl))
		return false;
	for (unsigned i = 0; i < 4; i++)
		msg[i] = (uint8_t)(id >> (8 * i));
	msg[4] = (uint8_t)event;
	msg[5] = (uint8_t)(event >> 8);
	msg[6] = (uint8_t)value;
	msg[7] = (uint8_t)(value >> 8);
	if (extra) {
		memcpy(msg + CON_CTRL_HDR, extra, strlen(extra)); /* no NUL: 5.3.6.2 */
		len += strlen(extra);
	}
	/* A buffer too small for a name gets what fits of it. */
	n = virtq_iov_write(&c->ctrl.iov[c->ctrl.nout], c->ctrl.nin, 0, msg, len);
	virtq_push(vq, &c->ctrl, (uint32_t)n);
	virtio_dev_notify(c->vdev, vq);
	return true;
}

/* Send what the ports owe the driver, as far as control buffers last: per
 * port in the order Linux expects (the port exists, is the console, has a
 * name, is open at the host end). */
static void con_ctrl_flush(struct virtio_console *c)
{
	static const struct {
		unsigned bit;
		uint16_t event;
	} order[] = {
		{ CON_PEND_ADD, CON_DEVICE_ADD },
		{ CON_PEND_CONSOLE, CON_CONSOLE_PORT },
		{ CON_PEND_NAME, CON_PORT_NAME },
		/* The host end as the backend says (Linux lets a guest write to
		 * a port only while it is open); its value is taken when sent. */
		{ CON_PEND_OPEN, CON_PORT_OPEN },
	};

	for (unsigned i = 0; i < c->nports; i++) {
		struct con_port *p = &c->port[i];

		for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
			bool open_msg = order[k].event == CON_PORT_OPEN;

			if (!(p->pending & order[k].bit))
				continue;
			/* A disconnect and reconnect before the driver posted
			 * a buffer change nothing the driver knows. */
			if (open_msg && p->host_connected == p->host_told) {
				p->pending &= ~order[k].bit;
				continue;
			}
			if (!con_ctrl_send(c, i, order[k].event, open_msg ? p->host_connected : 1,
					   order[k].event == CON_PORT_NAME ? p->name : NULL))
				return;
			if (open_msg)
				p->host_told = p->host_connected;
			p->pending &= ~order[k].bit;
		}
	}
}

/* One driver-to-device control message (5.3.6.2, 5.3.6.2.1). */
static void con_control(struct virtio_console *c, struct virtq *vq, unsigned index)
{
	struct virtq_elem *e = &c->tx;
	uint8_t m[CON_CTRL_HDR];
	struct con_port *p;

	(void)index;
	if (e->nin) {
		con_bad_buffer(c, CON_CTRL_TXQ, e->head, "has a device-writable part");
		goto done;
	}
	if (virtq_iov_read(e->iov, e->nout, 0, m, sizeof(m)) < sizeof(m)) {
		con_bad_control(c, 0, 0, "shorter than its 8-byte header");
		goto done;
	}
	uint32_t id = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	uint16_t event = (uint16_t)(m[4] | m[5] << 8), value = (uint16_t)(m[6] | m[7] << 8);

	if (event == CON_DEVICE_READY) {
		/* The id is meaningless here.  Value 1: announce every port. */
		if (value != 1) {
			c->h->log(c->h, VMM_LOG_WARN, "the driver failed to set the device up");
			goto done;
		}
		for (unsigned i = 0; i < c->nports; i++)
			if (c->port[i].chr && !c->port[i].added) {
				c->port[i].added = true;
				c->port[i].pending |= CON_PEND_ADD;
			}
		con_ctrl_flush(c);
		goto done;
	}
	if (event != CON_PORT_READY && event != CON_PORT_OPEN) {
		/* DEVICE_ADD, CONSOLE_PORT, ... are the device's to send. */
		con_bad_control(c, id, event, event <= CON_PORT_NAME ? "an event only the device sends"
								      : "an unknown event");
		goto done;
	}
	if (id >= c->nports || !c->port[id].chr) {
		con_bad_control(c, id, event, "no such port");
		goto done;
	}
	p = &c->port[id];
	if (event == CON_PORT_READY) {
		if (!p->added || (p->pending & CON_PEND_ADD)) {
			con_bad_control(c, id, event, "PORT_READY for a port not announced");
		} else if (value != 1) {
			c->h->log(c->h, VMM_LOG_WARN, "port %u: the driver failed to set it up", id);
		} else if (!p->ready) {
			p->ready = true;
			/* 5.3.6.2.1: port 0 is the console (so hvc0 stays one). */
			p->pending |= (id == 0 ? CON_PEND_CONSOLE : 0) | (p->name ? CON_PEND_NAME : 0) |
				      CON_PEND_OPEN;
			con_ctrl_flush(c);
		}
		goto done;
	}
	/* PORT_OPEN: the guest opened (1) or closed (0) the port. */
	if (!p->ready) {
		con_bad_control(c, id, event, "PORT_OPEN for a port not ready");
	} else if (value > 1) {
		con_bad_control(c, id, event, "PORT_OPEN with a value other than 0 or 1");
	} else {
		p->guest_open = value;
		if (value)
			con_wake_input(p);
	}
done:
	/* 2.7.8: nothing written into a control transmitq buffer. */
	virtq_push(vq, e, 0);
}

static void con_queue_notify(void *opaque, struct virtio_dev *vdev, unsigned index)
{
	struct virtio_console *c = opaque;

	(void)vdev;
	if (index >= CON_CTRL_RXQ && !con_multiport(c)) {
		/* Queues 2 and up exist because MULTIPORT was offered; without
		 * it negotiated there is only port 0 (5.3.2): left alone. */
		virtio_dev_stats(c->vdev)->bad_request++;
		c->h->log(c->h, VMM_LOG_GUEST_ERROR,
			  "queue %u notified without VIRTIO_CONSOLE_F_MULTIPORT", index);
		return;
	}
	if (index == CON_CTRL_RXQ) {
		con_ctrl_flush(c); /* new control buffers: what waited can go */
	} else if (index == CON_CTRL_TXQ) {
		con_drain(c, index, con_control);
	} else if (index % 2 == 0) {
		/* New receive buffers: input the backend held back can come.
		 * It is delivered later, never from inside this call. */
		con_wake_input(&c->port[index == CON_RXQ ? 0 : (index - 2) / 2]);
	} else {
		con_drain(c, index, con_transmit);
	}
}

static uint64_t con_config_read(void *opaque, uint32_t offset, unsigned len)
{
	struct virtio_console *c = opaque;
	/* cols and rows 0 (F_SIZE is not offered); max_nr_ports, though only
	 * valid with F_MULTIPORT; emerg_wr is write-only and reads 0. */
	uint8_t cfg[CON_CFG_SIZE] = { [CON_CFG_MAX_NR_PORTS] = (uint8_t)c->nports };
	uint64_t v = 0;

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
	 * no status or feature check here.  It goes to port 0. */
	if (offset == CON_CFG_EMERG_WR && len == 4) {
		uint8_t ch = (uint8_t)value;

		con_output(&c->port[0], &ch, 1);
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

	for (unsigned i = 0; i < c->nports; i++) {
		struct con_port *p = &c->port[i];

		/* The held buffer belonged to rings that are gone, and the
		 * next driver starts the control handshake afresh. */
		p->rx_held = false;
		p->added = p->ready = p->guest_open = p->host_told = false;
		p->pending = 0;
	}
}

/* The backend's host end was connected or left (ABI 1.4).  The driver
 * hears of it with PORT_OPEN (5.3.6.2) once the port is ready; before that
 * the PORT_OPEN that follows PORT_READY carries the state. */
static void con_connected(void *opaque, bool connected)
{
	struct con_port *p = opaque;

	p->host_connected = connected;
	if (p->ready && con_multiport(p->c)) {
		p->pending |= CON_PEND_OPEN;
		con_ctrl_flush(p->c);
	}
}

static const struct vmm_char_client con_char_client = {
	.size = sizeof(struct vmm_char_client),
	.can_receive = con_can_receive,
	.receive = con_receive,
	.connected = con_connected,
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

/* Open port @id's backend from property @prop; its name from @name_prop. */
static int con_port_open(struct virtio_console *c, unsigned id, const char *prop,
			 const char *name_prop)
{
	const struct vmm_host *h = c->h;
	struct con_port *p = &c->port[id];

	p->c = c;
	p->id = id;
	p->rxq = id == 0 ? CON_RXQ : 2 * id + 2;
	p->txq = p->rxq + 1;
	p->name = name_prop ? h->prop_str(h, name_prop) : NULL;
	if (p->name && !*p->name)
		p->name = NULL;
	if (!h->prop_str(h, prop) || !*h->prop_str(h, prop)) {
		if (p->name) {
			h->log(h, VMM_LOG_ERROR, "%s is set but %s is not", name_prop, prop);
			return -EINVAL;
		}
		return 0; /* no such port */
	}
	if (p->name && strlen(p->name) > CON_NAME_MAX) {
		h->log(h, VMM_LOG_ERROR, "%s is longer than %d bytes", name_prop, CON_NAME_MAX);
		return -EINVAL;
	}
	p->chr = h->char_open(h, prop, &con_char_client, p);
	if (!p->chr) {
		h->log(h, VMM_LOG_ERROR, "cannot open character backend '%s'", h->prop_str(h, prop));
		return -ENODEV;
	}
	/* An older host cannot say: its backends are always connected. */
	p->host_connected = !VMM_HOST_HAS(h, char_is_connected) || h->char_is_connected(h, p->chr);
	if (id >= c->nports)
		c->nports = id + 1;
	return 0;
}

static int con_create(const struct vmm_host *h, void **state)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	struct virtio_dev_setup setup = { 0 };
	int rc;

	if (!c)
		return -ENOMEM;
	c->h = h;
	c->nports = 1;
	rc = con_port_open(c, 0, "chardev", NULL);
	if (!rc && !c->port[0].chr) {
		h->log(h, VMM_LOG_ERROR, "property 'chardev' names no character backend");
		rc = -ENODEV;
	}
	for (unsigned i = 1; !rc && i < CON_MAX_PORTS; i++) {
		char prop[8], name[8];

		snprintf(prop, sizeof(prop), "port%u", i);
		snprintf(name, sizeof(name), "name%u", i);
		rc = con_port_open(c, i, prop, name);
	}
	if (rc) {
		free(c);
		return rc;
	}
	/* Only chardev: one port, no MULTIPORT, exactly the device it always
	 * was.  Any portN: MULTIPORT, the control queues and a queue pair
	 * for every port up to the highest one (5.3.2). */
	c->multiport = c->nports > 1;
	if (c->multiport) {
		setup.features = con_virtio_ops.features | VIRTIO_BIT(VIRTIO_CONSOLE_F_MULTIPORT);
		setup.num_queues = 2 * c->nports + 2;
	}
	rc = virtio_dev_create(h, &con_virtio_ops, &setup, c, &c->vdev);
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

/*
 * Saved state (ABI 1.12): the transport and its queues, and per port
 * "pN.flags" (the MULTIPORT handshake: announced, ready, the guest's and
 * the host's open state as last told, the messages still owed, a receive
 * buffer held).
 *
 * The one chain a device here keeps between taking and completing it is a
 * port's receive buffer, taken by can_receive() for the input that
 * follows.  It is not completed at save (there is no input for it); the
 * record says it is held, and load gives it back to its receiveq
 * (virtq_unpop: it was the last one taken there, the port takes no other
 * while it holds one), so the restored device takes the same buffer for
 * the next input.  Input not yet delivered waits in the backend, which is
 * not the device's: on load every port asks its (new) backend for input.
 * The backend's connection is its own too: where it differs from what the
 * driver was told, the driver is told again (PORT_OPEN).
 */
#define CON_STATE_VERSION 1

#define CON_SF_ADDED      (1u << 0)
#define CON_SF_READY      (1u << 1)
#define CON_SF_GUEST_OPEN (1u << 2)
#define CON_SF_HOST_TOLD  (1u << 3)
#define CON_SF_RX_HELD    (1u << 4)
#define CON_SF_PENDING_SHIFT 8 /* CON_PEND_* above */
#define CON_PEND_ALL (CON_PEND_ADD | CON_PEND_CONSOLE | CON_PEND_NAME | CON_PEND_OPEN)

static int con_save(void *state, struct vmm_state_out *out)
{
	struct virtio_console *c = state;
	int rc = virtio_dev_save(c->vdev, out);

	for (unsigned i = 0; !rc && i < c->nports; i++) {
		const struct con_port *p = &c->port[i];
		char name[16];

		snprintf(name, sizeof(name), "p%u.flags", i);
		rc = vmm_state_put_u32(c->h, out, name,
				       (p->added ? CON_SF_ADDED : 0) | (p->ready ? CON_SF_READY : 0) |
					       (p->guest_open ? CON_SF_GUEST_OPEN : 0) |
					       (p->host_told ? CON_SF_HOST_TOLD : 0) |
					       (p->rx_held ? CON_SF_RX_HELD : 0) |
					       p->pending << CON_SF_PENDING_SHIFT);
	}
	return rc;
}

static int con_load_port(struct virtio_console *c, struct con_port *p, uint32_t f, const char *name)
{
	const uint32_t known = CON_SF_ADDED | CON_SF_READY | CON_SF_GUEST_OPEN | CON_SF_HOST_TOLD |
			       CON_SF_RX_HELD | CON_PEND_ALL << CON_SF_PENDING_SHIFT;

	if (f & ~known) {
		c->h->log(c->h, VMM_LOG_ERROR, "saved state: %s: unknown bits 0x%x", name, f & ~known);
		return -EINVAL;
	}
	if (!p->chr && f) {
		c->h->log(c->h, VMM_LOG_ERROR, "saved state: %s: state for a port this device lacks", name);
		return -EINVAL;
	}
	if (f & CON_SF_RX_HELD) {
		struct virtq *vq = virtio_dev_queue(c->vdev, p->rxq);

		/* The held chain is the receiveq's last taken and not used. */
		if (!vq || !vq->ready || vq->last_avail == vq->used_idx) {
			c->h->log(c->h, VMM_LOG_ERROR,
				  "saved state: %s: a receive buffer held on a queue with none taken", name);
			return -EINVAL;
		}
	}
	return 0;
}

static int con_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct virtio_console *c = state;
	uint32_t flags[CON_MAX_PORTS] = { 0 };
	char name[16];
	int rc = virtio_dev_load_version(c->vdev, version, CON_STATE_VERSION);

	if (rc)
		return rc;
	rc = virtio_dev_load(c->vdev, in);
	if (rc)
		return rc;
	for (unsigned i = 0; i < c->nports; i++) {
		snprintf(name, sizeof(name), "p%u.flags", i);
		rc = vmm_state_get_u32(c->h, in, name, &flags[i]);
		if (rc) {
			c->h->log(c->h, VMM_LOG_ERROR, "saved state: %s: %s", name,
				  rc == -ENOENT ? "missing" : "wrong size");
			goto out_reset;
		}
		rc = con_load_port(c, &c->port[i], flags[i], name);
		if (rc)
			goto out_reset;
	}
	for (unsigned i = 0; i < c->nports; i++) {
		struct con_port *p = &c->port[i];
		uint32_t f = flags[i];

		p->added = f & CON_SF_ADDED;
		p->ready = f & CON_SF_READY;
		p->guest_open = f & CON_SF_GUEST_OPEN;
		p->host_told = f & CON_SF_HOST_TOLD;
		p->pending = f >> CON_SF_PENDING_SHIFT;
		p->rx_held = false;
		if (f & CON_SF_RX_HELD)
			virtq_unpop(virtio_dev_queue(c->vdev, p->rxq), 1);
	}
	for (unsigned i = 0; i < c->nports; i++) {
		struct con_port *p = &c->port[i];

		if (!p->chr)
			continue;
		if (p->ready && con_multiport(c) && p->host_connected != p->host_told)
			p->pending |= CON_PEND_OPEN;
		/* Whatever the old backend held back, the new one may have. */
		p->rx_starved = true;
		if (con_port_takes_input(p))
			con_wake_input(p);
	}
	if (virtio_dev_queue_live(c->vdev, CON_CTRL_RXQ) && con_multiport(c))
		con_ctrl_flush(c);
	return 0;

out_reset:
	/* The fresh instance as create() left it. */
	virtio_dev_reset(c->vdev);
	return rc;
}

static const struct vmm_device_ops con_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = con_create,
	.destroy = con_destroy,
	.reset = con_machine_reset,
	.state_version = CON_STATE_VERSION,
	.save = con_save,
	.load = con_load,
};

static const struct vmm_prop_desc con_props[] = {
	VIRTIO_TRANSPORT_PROPS,
	{ .name = "chardev", .type = VMM_PROP_STRING, .def_str = "stdio",
	  .help = "character backend of port 0 (a backend section or plugin name)" },
	{ .name = "port1", .type = VMM_PROP_STRING,
	  .help = "character backend of port 1 (offers MULTIPORT)" },
	{ .name = "name1", .type = VMM_PROP_STRING,
	  .help = "port 1's name (/dev/virtio-ports/NAME in a Linux guest)" },
	{ .name = "port2", .type = VMM_PROP_STRING,
	  .help = "character backend of port 2 (offers MULTIPORT)" },
	{ .name = "name2", .type = VMM_PROP_STRING,
	  .help = "port 2's name (/dev/virtio-ports/NAME in a Linux guest)" },
	{ .name = "port3", .type = VMM_PROP_STRING,
	  .help = "character backend of port 3 (offers MULTIPORT)" },
	{ .name = "name3", .type = VMM_PROP_STRING,
	  .help = "port 3's name (/dev/virtio-ports/NAME in a Linux guest)" },
	{ .name = "port4", .type = VMM_PROP_STRING,
	  .help = "character backend of port 4 (offers MULTIPORT)" },
	{ .name = "name4", .type = VMM_PROP_STRING,
	  .help = "port 4's name (/dev/virtio-ports/NAME in a Linux guest)" },
	{ .name = "port5", .type = VMM_PROP_STRING,
	  .help = "character backend of port 5 (offers MULTIPORT)" },
	{ .name = "name5", .type = VMM_PROP_STRING,
	  .help = "port 5's name (/dev/virtio-ports/NAME in a Linux guest)" },
	{ .name = "port6", .type = VMM_PROP_STRING,
	  .help = "character backend of port 6 (offers MULTIPORT)" },
	{ .name = "name6", .type = VMM_PROP_STRING,
	  .help = "port 6's name (/dev/virtio-ports/NAME in a Linux guest)" },
	{ .name = "port7", .type = VMM_PROP_STRING,
	  .help = "character backend of port 7 (offers MULTIPORT)" },
	{ .name = "name7", .type = VMM_PROP_STRING,
	  .help = "port 7's name (/dev/virtio-ports/NAME in a Linux guest)" },
	{ .name = NULL },
};

static const struct vmm_plugin virtio_console_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "virtio-console",
	.version = "1.0",
	.summary = "virtio console (up to 8 ports) on virtio-mmio and character backends",
	.props = con_props,
	.ops = &con_dev_ops,
};

VMM_PLUGIN_DEFINE(virtio_console_plugin)
