/* SPDX-License-Identifier: MIT */
/*
 * devices/uart16550/uart16550-plugin.c - the 16550A on the PC I/O bus.
 *
 * Glue only: properties, the eight ports, the IRQ line, a character backend
 * and one timer, each wired to the register model in uart16550.c.
 */
#include <errno.h>
#include <stdlib.h>

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

static const struct vmm_device_ops uart_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = uart_dev_create,
	.destroy = uart_dev_destroy,
	.reset = uart_dev_reset,
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
