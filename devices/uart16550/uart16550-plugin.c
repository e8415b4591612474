/* SPDX-License-Identifier: MIT */
/*
 * devices/uart16550/uart16550-plugin.c - the 16550A on the PC I/O bus.
 *
 * Glue only: properties, the eight ports, the IRQ line, a character backend
 * and one timer, each wired to the register model in uart16550.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/model-glue/model-glue.h"
#include "uart16550.h"

struct uart16550_dev {
	struct uart16550 uart;
	struct model_glue g;	/* h, irq, chr, timer: the model's host side */
	uint64_t base;
	bool mapped;
};

static const struct uart16550_ops uart_dev_model_ops = {
	.set_irq = model_glue_set_irq,
	.transmit = model_glue_transmit,
	.rx_ready = model_glue_rx_ready,
	.now_ns = model_glue_now_ns,
	.timer_arm = model_glue_timer_arm,
	.timer_cancel = model_glue_timer_cancel,
};

static void uart_dev_timeout(void *opaque)
{
	struct uart16550_dev *d = opaque;

	uart16550_timer_expired(&d->uart);
}

static int uart_dev_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct uart16550_dev *d = opaque;

	*value = uart16550_read(&d->uart, (unsigned)offset);
	return 0;
}

static int uart_dev_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct uart16550_dev *d = opaque;

	uart16550_write(&d->uart, (unsigned)offset, (uint8_t)value);
	return 0;
}

static const struct vmm_region_ops uart_dev_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = uart_dev_read,
	.write = uart_dev_write,
};

static size_t uart_dev_can_receive(void *opaque)
{
	struct uart16550_dev *d = opaque;

	return uart16550_can_receive(&d->uart);
}

static void uart_dev_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct uart16550_dev *d = opaque;

	uart16550_receive(&d->uart, buf, len);
}

static const struct vmm_char_client uart_dev_char_client = {
	.size = sizeof(struct vmm_char_client),
	.can_receive = uart_dev_can_receive,
	.receive = uart_dev_receive,
};

static void uart_dev_destroy(void *state)
{
	struct uart16550_dev *d = state;

	if (d->mapped)
		d->g.h->bus_unmap(d->g.h, VMM_BUS_PIO, d->base);
	if (d->g.timer)
		d->g.h->timer_free(d->g.h, d->g.timer);
	free(d);
}

static int uart_dev_create(const struct vmm_host *h, void **state)
{
	struct uart16550_dev *d;
	int64_t base, irq;
	int rc;

	/* The schema gives both a default and a range: these cannot fail. */
	if (h->prop_int(h, "base", &base) || h->prop_int(h, "irq", &irq))
		return -EINVAL;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->g.h = h;
	d->base = (uint64_t)base;
	uart16550_init(&d->uart, &uart_dev_model_ops, &d->g);

	d->g.irq = h->irq_line(h, (uint32_t)irq);
	if (!d->g.irq) {
		h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq);
		rc = -ENODEV;
		goto out_destroy;
	}
	d->g.timer = h->timer_new(h, uart_dev_timeout, d);
	if (!d->g.timer) {
		rc = -ENOMEM;
		goto out_destroy;
	}
	d->g.chr = h->char_open(h, "chardev", &uart_dev_char_client, d);
	if (!d->g.chr) {
		h->log(h, VMM_LOG_ERROR, "cannot open character backend '%s'",
		       h->prop_str(h, "chardev") ? h->prop_str(h, "chardev") : "");
		rc = -ENODEV;
		goto out_destroy;
	}
	rc = h->bus_map(h, VMM_BUS_PIO, d->base, UART_NR_REGS, &uart_dev_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map ports 0x%llx-0x%llx",
		       (unsigned long long)d->base, (unsigned long long)d->base + UART_NR_REGS - 1);
		goto out_destroy;
	}
	d->mapped = true;
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = d->base, .len = UART_NR_REGS },
		{ .type = VMM_RES_IRQ, .base = (uint64_t)irq },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_DEVICE,
					      .acpi_hid = "PNP0501", .acpi_uid = (uint32_t)d->base,
					      .fdt_compatible = "ns16550a", .res = res, .nres = 2 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;
	*state = d;
	return 0;

out_destroy:
	uart_dev_destroy(d);
	return rc;
}

static void uart_dev_reset(void *state)
{
	struct uart16550_dev *d = state;

	uart16550_reset(&d->uart);
}

/*
 * Saved state (vmm/state.h), record version 1: every register, the
 * receive FIFO as the ring it is (16 bytes, head and count), the latched
 * THRE and timeout indications, the modem inputs and the character
 * timeout's deadline on the virtual clock.  Transmission is immediate, so
 * no byte is ever in flight on the transmit side; the interrupt line's
 * level follows from the registers and is driven again on load.
 */
#define UART_DEV_STATE_VERSION 1

static int uart_dev_save(void *state, struct vmm_state_out *out)
{
	struct uart16550_dev *d = state;
	const struct vmm_host *h = d->g.h;
	const struct uart16550_state *s = &d->uart.s;
	int rc = 0;

	rc |= vmm_state_put_u32(h, out, "divisor", s->divisor);
	rc |= vmm_state_put_u8(h, out, "ier", s->ier);
	rc |= vmm_state_put_u8(h, out, "lcr", s->lcr);
	rc |= vmm_state_put_u8(h, out, "mcr", s->mcr);
	rc |= vmm_state_put_u8(h, out, "lsr", s->lsr);
	rc |= vmm_state_put_u8(h, out, "msr", s->msr);
	rc |= vmm_state_put_u8(h, out, "scr", s->scr);
	rc |= vmm_state_put_u8(h, out, "fcr", s->fcr);
	rc |= vmm_state_put(h, out, "rx-fifo", s->rx_fifo, sizeof(s->rx_fifo));
	rc |= vmm_state_put_u8(h, out, "rx-head", s->rx_head);
	rc |= vmm_state_put_u8(h, out, "rx-count", s->rx_count);
	rc |= vmm_state_put_u8(h, out, "rbr-stale", s->rbr_stale);
	rc |= vmm_state_put_u8(h, out, "thr-ipending", s->thr_ipending);
	rc |= vmm_state_put_u8(h, out, "timeout-pending", s->timeout_pending);
	rc |= vmm_state_put_u8(h, out, "modem-inputs", s->modem_inputs);
	rc |= vmm_state_put_u64(h, out, "timeout-deadline", s->timeout_deadline);
	return rc ? -EIO : 0;
}

static int uart_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct uart16550_dev *d = state;
	const struct vmm_host *h = d->g.h;
	struct uart16550_state s = d->uart.s;
	uint32_t divisor = 0;
	uint8_t thr = 0, tmo = 0;
	int rc = 0;

	if (version != UART_DEV_STATE_VERSION) {
		h->log(h, VMM_LOG_ERROR, "uart16550: state version %u, this plugin knows %u", version,
		       UART_DEV_STATE_VERSION);
		return -EPROTO;
	}
	rc = vmm_state_get_u32(h, in, "divisor", &divisor);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "ier", &s.ier);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "lcr", &s.lcr);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "mcr", &s.mcr);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "lsr", &s.lsr);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "msr", &s.msr);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "scr", &s.scr);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "fcr", &s.fcr);
	if (!rc)
		rc = vmm_state_get(h, in, "rx-fifo", s.rx_fifo, sizeof(s.rx_fifo));
	if (!rc)
		rc = vmm_state_get_u8(h, in, "rx-head", &s.rx_head);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "rx-count", &s.rx_count);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "rbr-stale", &s.rbr_stale);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "thr-ipending", &thr);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "timeout-pending", &tmo);
	if (!rc)
		rc = vmm_state_get_u8(h, in, "modem-inputs", &s.modem_inputs);
	if (!rc)
		rc = vmm_state_get_u64(h, in, "timeout-deadline", &s.timeout_deadline);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "uart16550: saved state incomplete or damaged: %s", strerror(-rc));
		return rc;
	}
	if (divisor > 0xffff) {
		h->log(h, VMM_LOG_ERROR, "uart16550: saved divisor %u does not fit 16 bits", divisor);
		return -EINVAL;
	}
	s.divisor = (uint16_t)divisor;
	s.thr_ipending = thr != 0;
	s.timeout_pending = tmo != 0;
	rc = uart16550_state_set(&d->uart, &s);
	if (rc)
		h->log(h, VMM_LOG_ERROR, "uart16550: saved state out of range (FIFO head %u, count %u, FCR "
		       "0x%02x, IER 0x%02x, MCR 0x%02x)", s.rx_head, s.rx_count, s.fcr, s.ier, s.mcr);
	return rc;
}

static const struct vmm_device_ops uart_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = uart_dev_create,
	.destroy = uart_dev_destroy,
	.reset = uart_dev_reset,
	.state_version = UART_DEV_STATE_VERSION,
	.save = uart_dev_save,
	.load = uart_dev_load,
};

static const struct vmm_prop_desc uart_dev_props[] = {
	{ .name = "base", .type = VMM_PROP_INT, .def_int = 0x3f8, .min = 0, .max = 0xfff8,
	  .help = "first of the eight I/O ports (COM1 0x3f8, COM2 0x2f8)" },
	{ .name = "irq", .type = VMM_PROP_INT, .def_int = 4, .min = 0, .max = 255,
	  .help = "interrupt line (COM1 4, COM2 3)" },
	{ .name = "chardev", .type = VMM_PROP_STRING, .def_str = "stdio",
	  .help = "character backend the serial line is connected to" },
	{ .name = NULL },
};

static const struct vmm_plugin uart16550_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "uart16550",
	.version = "1.0",
	.summary = "16550A UART with 16-byte FIFOs on the I/O port bus",
	.props = uart_dev_props,
	.ops = &uart_dev_ops,
};

VMM_PLUGIN_DEFINE(uart16550_plugin)
