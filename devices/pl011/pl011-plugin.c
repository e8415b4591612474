/* SPDX-License-Identifier: MIT */
/*
 * devices/pl011/pl011-plugin.c - the PL011 UART on the MMIO bus.
 *
 * Glue only: properties, the 4 KiB register window, the IRQ line, a
 * character backend and one timer, each wired to the register model in
 * pl011.c, and the description the firmware tables (a device tree) take.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/model-glue/model-glue.h"
#include "devices/model-glue/state-fields.h"
#include "pl011.h"

struct pl011_dev {
	struct pl011 uart;
	struct model_glue g;	/* h, irq, chr, timer: the model's host side */
	uint64_t base;
	bool mapped;
};

static const struct pl011_ops pl011_dev_model_ops = {
	.set_irq = model_glue_set_irq,
	.transmit = model_glue_transmit,
	.rx_ready = model_glue_rx_ready,
	.now_ns = model_glue_now_ns,
	.timer_arm = model_glue_timer_arm,
	.timer_cancel = model_glue_timer_cancel,
};

static void pl011_dev_timeout(void *opaque)
{
	struct pl011_dev *d = opaque;

	pl011_timer_expired(&d->uart);
}

/*
 * Registers are 32 bits wide on a 4-byte stride.  Linux's amba-pl011
 * driver uses 16-bit accesses and its earlycon 8-bit stores to UARTDR, so
 * narrower accesses are taken: a read returns the bytes it covers (a read
 * of any byte of UARTDR pops the FIFO), a write at the register's own
 * offset writes its value zero-extended.  A write that starts inside a
 * register has no defined meaning on the APB and is ignored.
 */
static int pl011_dev_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			  uint64_t *value)
{
	struct pl011_dev *d = opaque;
	unsigned shift = (unsigned)(offset & 3) * 8;
	uint32_t reg = pl011_read(&d->uart, (unsigned)offset & ~3u);

	*value = (reg >> shift) & (len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1);
	return 0;
}

static int pl011_dev_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			   uint64_t value)
{
	struct pl011_dev *d = opaque;

	if ((offset & 3) || !pl011_write(&d->uart, (unsigned)offset, (uint32_t)value))
		d->g.h->log(d->g.h, VMM_LOG_GUEST_ERROR, "write of 0x%llx to offset 0x%03llx ignored",
			  (unsigned long long)value, (unsigned long long)offset);
	return 0;
}

static const struct vmm_region_ops pl011_dev_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1 | VMM_ACCESS_2 | VMM_ACCESS_4,
	.read = pl011_dev_read,
	.write = pl011_dev_write,
};

static size_t pl011_dev_can_receive(void *opaque)
{
	struct pl011_dev *d = opaque;

	return pl011_can_receive(&d->uart);
}

static void pl011_dev_receive(void *opaque, const uint8_t *buf, size_t len)
{
	struct pl011_dev *d = opaque;

	pl011_receive(&d->uart, buf, len);
}

static const struct vmm_char_client pl011_dev_char_client = {
	.size = sizeof(struct vmm_char_client),
	.can_receive = pl011_dev_can_receive,
	.receive = pl011_dev_receive,
};

static void pl011_dev_destroy(void *state)
{
	struct pl011_dev *d = state;

	if (d->mapped)
		d->g.h->bus_unmap(d->g.h, VMM_BUS_MMIO, d->base);
	if (d->g.timer)
		d->g.h->timer_free(d->g.h, d->g.timer);
	free(d);
}

static int pl011_dev_create(const struct vmm_host *h, void **state)
{
	struct pl011_dev *d;
	int64_t base, irq, clock;
	bool enabled;
	int rc;

	if (h->prop_int(h, "base", &base) || h->prop_int(h, "irq", &irq)) {
		h->log(h, VMM_LOG_ERROR, "properties 'base' and 'irq' are required");
		return -EINVAL;
	}
	/* The schema gives these a default and a range: they cannot fail. */
	if (h->prop_int(h, "clock", &clock) || h->prop_bool(h, "enabled", &enabled))
		return -EINVAL;
	if (base & (PL011_MMIO_SIZE - 1)) {
		h->log(h, VMM_LOG_ERROR, "base 0x%llx is not 4 KiB-aligned", (unsigned long long)base);
		return -EINVAL;
	}

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->g.h = h;
	d->base = (uint64_t)base;

	d->g.irq = h->irq_line(h, (uint32_t)irq);
	if (!d->g.irq) {
		h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq);
		rc = -ENODEV;
		goto out_destroy;
	}
	d->g.timer = h->timer_new(h, pl011_dev_timeout, d);
	if (!d->g.timer) {
		rc = -ENOMEM;
		goto out_destroy;
	}
	/* The model's reset drives the line and the timer: both exist now. */
	pl011_init(&d->uart, &pl011_dev_model_ops, &d->g, (uint64_t)clock, enabled);
	d->g.chr = h->char_open(h, "chardev", &pl011_dev_char_client, d);
	if (!d->g.chr) {
		h->log(h, VMM_LOG_ERROR, "cannot open character backend '%s'",
		       h->prop_str(h, "chardev") ? h->prop_str(h, "chardev") : "");
		rc = -ENODEV;
		goto out_destroy;
	}
	rc = h->bus_map(h, VMM_BUS_MMIO, d->base, PL011_MMIO_SIZE, &pl011_dev_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map MMIO 0x%llx-0x%llx", (unsigned long long)d->base,
		       (unsigned long long)d->base + PL011_MMIO_SIZE - 1);
		goto out_destroy;
	}
	d->mapped = true;
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_MMIO, .base = d->base, .len = PL011_MMIO_SIZE },
		{ .type = VMM_RES_IRQ, .flags = VMM_RES_IRQ_LEVEL, .base = (uint64_t)irq },
	};
	/* Linux's AMBA bus matches the driver by the PrimeCell IDs it reads
	 * from the device; the compatible list only makes it an AMBA device. */
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_DEVICE,
					      .fdt_compatible = "arm,pl011 arm,primecell",
					      .res = res, .nres = 2 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;
	*state = d;
	return 0;

out_destroy:
	pl011_dev_destroy(d);
	return rc;
}

static void pl011_dev_reset(void *state)
{
	struct pl011_dev *d = state;

	pl011_reset(&d->uart);
}

/*
 * Saved state (ABI 1.12), record version 1: every register, both FIFOs
 * (each ring whole, with its head and count), the pending overrun and the
 * receive timeout's deadline on the virtual clock (0: none), which
 * continues across a restore, so the timeout fires at the same instant.
 * The interrupt line's level follows from RIS and IMSC and is driven
 * again by load.  The width/range table checks what one byte can tell;
 * pl011_restore() checks the rest (reserved bits, counts past capacity).
 */
#define F(m, n, max) STATE_FIELD(struct pl011_state, m, n, max)
static const struct state_field pl011_fields[] = {
	F(cr, "cr", 0), F(ibrd, "ibrd", 0), F(fbrd, "fbrd", 0), F(lcr_h, "lcr-h", 0),
	F(ifls, "ifls", 0), F(imsc, "imsc", 0), F(ris, "ris", 0), F(ilpr, "ilpr", 0),
	F(dmacr, "dmacr", 0), F(rsr, "rsr", 0), F(ibrd_latched, "ibrd-latched", 0),
	F(fbrd_latched, "fbrd-latched", 0), F(rx_head, "rx-head", 0), F(rx_count, "rx-count", 0),
	F(tx_head, "tx-head", 0), F(tx_count, "tx-count", 0),
	STATE_BOOL(struct pl011_state, rx_overrun, "rx-overrun"),
	F(rt_deadline_ns, "rt-deadline", 0),
};
#undef F
#define NFIELDS (sizeof(pl011_fields) / sizeof(pl011_fields[0]))

static int pl011_dev_save(void *state, struct vmm_state_out *out)
{
	struct pl011_dev *d = state;
	const struct vmm_host *h = d->g.h;
	const struct pl011_state *s = &d->uart.s;
	uint8_t rx[2 * PL011_FIFO_DEPTH];
	int rc;

	for (unsigned i = 0; i < PL011_FIFO_DEPTH; i++) { /* u16 entries, little-endian */
		rx[2 * i] = (uint8_t)s->rx_fifo[i];
		rx[2 * i + 1] = (uint8_t)(s->rx_fifo[i] >> 8);
	}
	rc = state_fields_save(h, out, NULL, pl011_fields, NFIELDS, s);
	rc = rc ? rc : vmm_state_put(h, out, "rx-fifo", rx, sizeof(rx));
	rc = rc ? rc : vmm_state_put(h, out, "tx-fifo", s->tx_fifo, sizeof(s->tx_fifo));
	return rc;
}

static int pl011_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct pl011_dev *d = state;
	const struct vmm_host *h = d->g.h;
	struct pl011_state s;
	uint8_t rx[2 * PL011_FIFO_DEPTH];
	const char *bad;
	int rc;

	rc = state_version_check(h, version, PL011_STATE_VERSION);
	if (rc)
		return rc;
	/* Everything into scratch, checked, then committed: a refused
	 * record leaves the UART as it was. */
	memset(&s, 0, sizeof(s));
	rc = state_fields_load(h, in, NULL, pl011_fields, NFIELDS, &s);
	rc = rc ? rc : state_field_get(h, in, "rx-fifo", rx, sizeof(rx));
	rc = rc ? rc : state_field_get(h, in, "tx-fifo", s.tx_fifo, sizeof(s.tx_fifo));
	if (rc)
		return rc;
	for (unsigned i = 0; i < PL011_FIFO_DEPTH; i++)
		s.rx_fifo[i] = (uint16_t)(rx[2 * i] | rx[2 * i + 1] << 8);
	rc = pl011_restore(&d->uart, &s, &bad);
	if (rc)
		return state_field_refuse(h, bad, "not a value this UART can hold");
	return 0;
}

static const struct vmm_device_ops pl011_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = pl011_dev_create,
	.destroy = pl011_dev_destroy,
	.reset = pl011_dev_reset,
	.state_version = PL011_STATE_VERSION,
	.save = pl011_dev_save,
	.load = pl011_dev_load,
};

static const struct vmm_prop_desc pl011_dev_props[] = {
	{ .name = "base", .type = VMM_PROP_INT, .min = 0, .max = INT64_MAX, .required = true,
	  .help = "guest-physical address of the 4 KiB register window (4 KiB-aligned)" },
	{ .name = "irq", .type = VMM_PROP_INT, .min = 0, .max = 255, .required = true,
	  .help = "interrupt line, level-triggered, active high" },
	{ .name = "chardev", .type = VMM_PROP_STRING, .def_str = "stdio",
	  .help = "character backend the serial line is connected to" },
	{ .name = "clock", .type = VMM_PROP_INT, .def_int = 24000000, .min = 1, .max = 1000000000,
	  .help = "UARTCLK in Hz, which the baud rate divisors divide (the device tree's uartclk)" },
	{ .name = "enabled", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "reset leaves it as firmware leaves a console (enabled, 115200 8N1, FIFOs on), "
		  "so earlycon writes at once; false: the TRM's reset values" },
	{ .name = NULL },
};

static const struct vmm_plugin pl011_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "pl011",
	.version = "1.0",
	.summary = "ARM PrimeCell UART (PL011 r1p5) with 32-entry FIFOs on the MMIO bus",
	.props = pl011_dev_props,
	.ops = &pl011_dev_ops,
};

VMM_PLUGIN_DEFINE(pl011_plugin)
