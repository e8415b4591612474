/* SPDX-License-Identifier: MIT */
/*
 * devices/i8254/i8254-plugin.c - the PC's 8254 PIT on the I/O port bus.
 *
 * Glue only: properties, ports 0x40-0x43 and 0x61, counter 0's OUT on an
 * interrupt line and one timer for its edges, wired to the model in
 * i8254.c.  Or, in kernel mode, a request that the hypervisor run the PIT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "i8254.h"

#define PIT_BASE 0x40
#define PIT_PORT61 0x61

struct i8254_dev {
	struct i8254 pit;
	const struct vmm_host *h;
	struct vmm_irq_line *irq;
	struct vmm_timer *timer; /* counter 0's edges */
	bool kernel;             /* the hypervisor runs the PIT; nothing here is used */
	bool mapped_pit;
	bool mapped_port61;
};

static uint64_t pit_dev_now(void *opaque)
{
	struct i8254_dev *d = opaque;

	return d->h->clock_ns(d->h);
}

static void pit_dev_set_out(void *opaque, unsigned idx, int level)
{
	struct i8254_dev *d = opaque;

	if (idx == 0)
		d->h->irq_set(d->h, d->irq, level);
}

static void pit_dev_timer_arm(void *opaque, unsigned idx, uint64_t deadline_ns)
{
	struct i8254_dev *d = opaque;

	if (idx == 0)
		d->h->timer_arm(d->h, d->timer, deadline_ns);
}

static void pit_dev_timer_cancel(void *opaque, unsigned idx)
{
	struct i8254_dev *d = opaque;

	if (idx == 0)
		d->h->timer_cancel(d->h, d->timer);
}

static void pit_dev_guest_error(void *opaque, const char *what)
{
	struct i8254_dev *d = opaque;

	d->h->log(d->h, VMM_LOG_GUEST_ERROR, "%s", what);
}

static const struct i8254_ops pit_dev_model_ops = {
	.now_ns = pit_dev_now,
	.set_out = pit_dev_set_out,
	.timer_arm = pit_dev_timer_arm,
	.timer_cancel = pit_dev_timer_cancel,
	.guest_error = pit_dev_guest_error,
};

static void pit_dev_timeout(void *opaque)
{
	struct i8254_dev *d = opaque;

	i8254_timer_expired(&d->pit, 0);
}

static int pit_dev_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct i8254_dev *d = opaque;

	*value = i8254_read(&d->pit, (unsigned)offset);
	return 0;
}

static int pit_dev_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct i8254_dev *d = opaque;

	i8254_write(&d->pit, (unsigned)offset, (uint8_t)value);
	return 0;
}

static const struct vmm_region_ops pit_dev_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = pit_dev_read,
	.write = pit_dev_write,
};

static int port61_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct i8254_dev *d = opaque;

	*value = i8254_port61_read(&d->pit);
	return 0;
}

static int port61_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct i8254_dev *d = opaque;

	i8254_port61_write(&d->pit, (uint8_t)value);
	return 0;
}

static const struct vmm_region_ops port61_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = port61_read,
	.write = port61_write,
};

static void pit_dev_destroy(void *state)
{
	struct i8254_dev *d = state;

	if (d->mapped_port61)
		d->h->bus_unmap(d->h, VMM_BUS_PIO, PIT_PORT61);
	if (d->mapped_pit)
		d->h->bus_unmap(d->h, VMM_BUS_PIO, PIT_BASE);
	if (d->timer)
		d->h->timer_free(d->h, d->timer);
	free(d);
}

/* Decide where the PIT runs: 1 for the hypervisor, 0 here, <0 on error. */
static int pit_dev_want_kernel(const struct vmm_host *h)
{
	const char *mode = h->prop_str(h, "mode");
	bool kernel_irqchip = VMM_HOST_HAS(h, irq_mode) && h->irq_mode(h) == VMM_IRQ_KERNEL;

	if (!mode || !strcmp(mode, "auto"))
		return kernel_irqchip;
	if (!strcmp(mode, "emulated"))
		return 0;
	if (!kernel_irqchip) {
		h->log(h, VMM_LOG_ERROR,
		       "property mode=kernel needs the hypervisor's interrupt controllers (irqchip = kernel)");
		return -EINVAL;
	}
	return 1;
}

static int pit_dev_create(const struct vmm_host *h, void **state)
{
	struct i8254_dev *d;
	int64_t irq;
	int kernel, rc;

	kernel = pit_dev_want_kernel(h);
	if (kernel < 0)
		return kernel;
	/* The schema gives a default and a range: this cannot fail. */
	if (h->prop_int(h, "irq", &irq))
		return -EINVAL;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;

	/* The same ports and line in both modes, whoever answers them. */
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = PIT_BASE, .len = I8254_NR_REGS },
		{ .type = VMM_RES_IRQ, .base = kernel ? 0 : (uint64_t)irq },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_DEVICE,
					      .acpi_hid = "PNP0100", .res = res, .nres = 2 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;

	if (kernel) {
		rc = VMM_HOST_HAS(h, hv_accel) ? h->hv_accel(h, VMM_ACCEL_PIT) : -ENOTSUP;
		if (rc) {
			h->log(h, VMM_LOG_ERROR, "the hypervisor cannot run the PIT in the kernel (%s)",
			       strerror(-rc));
			goto out_destroy;
		}
		if (irq != 0)
			h->log(h, VMM_LOG_WARN, "irq=%lld ignored: the hypervisor's PIT drives line 0",
			       (long long)irq);
		d->kernel = true;
		*state = d;
		return 0;
	}

	d->irq = h->irq_line(h, (uint32_t)irq);
	if (!d->irq) {
		h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq);
		rc = -ENODEV;
		goto out_destroy;
	}
	d->timer = h->timer_new(h, pit_dev_timeout, d);
	if (!d->timer) {
		rc = -ENOMEM;
		goto out_destroy;
	}
	i8254_init(&d->pit, &pit_dev_model_ops, d, 1u << 0);

	rc = h->bus_map(h, VMM_BUS_PIO, PIT_BASE, I8254_NR_REGS, &pit_dev_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map ports 0x40-0x43");
		goto out_destroy;
	}
	d->mapped_pit = true;
	rc = h->bus_map(h, VMM_BUS_PIO, PIT_PORT61, 1, &port61_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map port 0x61");
		goto out_destroy;
	}
	d->mapped_port61 = true;
	*state = d;
	return 0;

out_destroy:
	pit_dev_destroy(d);
	return rc;
}

static void pit_dev_reset(void *state)
{
	struct i8254_dev *d = state;

	/* In kernel mode the hypervisor resets its own PIT. */
	if (!d->kernel)
		i8254_reset(&d->pit);
}

static const struct vmm_device_ops pit_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = pit_dev_create,
	.destroy = pit_dev_destroy,
	.reset = pit_dev_reset,
};

static const char *const pit_dev_modes[] = { "auto", "emulated", "kernel", NULL };

static const struct vmm_prop_desc pit_dev_props[] = {
	{ .name = "irq", .type = VMM_PROP_INT, .def_int = 0, .min = 0, .max = 255,
	  .help = "interrupt line counter 0's OUT drives (ISA IRQ 0)" },
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "auto", .choices = pit_dev_modes,
	  .help = "auto: in the kernel when irqchip = kernel; emulated: here; kernel: in the hypervisor" },
	{ .name = NULL },
};

static const struct vmm_plugin i8254_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "i8254",
	.version = "1.0",
	.summary = "8254 programmable interval timer (ports 0x40-0x43) and port 0x61",
	.props = pit_dev_props,
	.ops = &pit_dev_ops,
};

VMM_PLUGIN_DEFINE(i8254_plugin)
