/* SPDX-License-Identifier: MIT */
/*
 * devices/ioapic/ioapic-plugin.c - the I/O APIC on a PC's memory bus.
 *
 * Glue only: properties, the MMIO window, the interrupt lines it receives
 * and the MSIs it sends, each wired to the register model in ioapic.c.  In
 * kernel mode the hypervisor's own IOAPIC answers at the same address and
 * this instance does nothing at all.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"
#include "ioapic.h"

enum ioapic_mode {
	IOAPIC_MODE_EMULATED,
	IOAPIC_MODE_KERNEL,
};

struct ioapic_dev {
	struct ioapic ioapic;
	const struct vmm_host *h;
	enum ioapic_mode mode;
	uint64_t base;
	uint32_t irq_base;
	bool mapped;
	bool msi_failed; /* already said that msi_send failed */
	bool route_failed; /* already said that msi_route failed */
};

static void ioapic_dev_send_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct ioapic_dev *d = opaque;
	int rc = d->h->msi_send(d->h, addr, data);

	/* Not the guest's doing, and nothing the guest can fix: say it once
	 * rather than on every interrupt. */
	if (rc && !d->msi_failed) {
		d->msi_failed = true;
		d->h->log(d->h, VMM_LOG_WARN, "msi_send(0x%llx, 0x%x) failed: %s; interrupts lost",
			  (unsigned long long)addr, data, strerror(-rc));
	}
}

/*
 * KVM's split irqchip reports a local APIC's EOI (VMM_EXIT_EOI) only for
 * vectors it finds, level-triggered, among the routes of its reserved
 * IOAPIC GSIs (KVM API, KVM_CAP_SPLIT_IRQCHIP), and it looks them up when
 * the routes change, not when the EOI happens.  Announcing each entry's
 * message from the register write that changed it puts a new vector
 * there before the entry can send it; an older host without msi_route
 * (or another irqchip mode, -ENOTSUP) needs nothing.
 */
static void ioapic_dev_level_route(void *opaque, unsigned pin, bool valid, uint64_t addr,
				   uint32_t data)
{
	struct ioapic_dev *d = opaque;
	int rc;

	if (d->mode != IOAPIC_MODE_EMULATED || !VMM_HOST_HAS(d->h, msi_route))
		return;
	rc = d->h->msi_route(d->h, pin, valid, addr, data);
	if (rc && rc != -ENOTSUP && !d->route_failed) {
		d->route_failed = true;
		d->h->log(d->h, VMM_LOG_WARN, "msi_route(pin %u, 0x%llx, 0x%x) failed: %s; the EOIs "
			  "of level-triggered interrupts may not come back", pin,
			  (unsigned long long)addr, data, strerror(-rc));
	}
}

static void ioapic_dev_guest_error(void *opaque, const char *fmt, ...)
{
	struct ioapic_dev *d = opaque;
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->h->log(d->h, VMM_LOG_GUEST_ERROR, "%s", msg);
}

static const struct ioapic_ops ioapic_dev_model_ops = {
	.send_msi = ioapic_dev_send_msi,
	.level_route = ioapic_dev_level_route,
	.guest_error = ioapic_dev_guest_error,
};

static int ioapic_dev_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			   uint64_t *value)
{
	struct ioapic_dev *d = opaque;

	*value = ioapic_mmio_read(&d->ioapic, offset);
	return 0;
}

static int ioapic_dev_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			    uint64_t value)
{
	struct ioapic_dev *d = opaque;

	ioapic_mmio_write(&d->ioapic, offset, (uint32_t)value);
	return 0;
}

static const struct vmm_region_ops ioapic_dev_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_4,
	.read = ioapic_dev_read,
	.write = ioapic_dev_write,
};

static void ioapic_dev_set_level(void *opaque, uint32_t line, int level)
{
	struct ioapic_dev *d = opaque;

	ioapic_set_pin(&d->ioapic, line - d->irq_base, level);
}

static void ioapic_dev_eoi(void *opaque, uint32_t vector)
{
	struct ioapic_dev *d = opaque;

	ioapic_eoi(&d->ioapic, (uint8_t)vector);
}

static const struct vmm_irq_controller_ops ioapic_dev_irq_ops = {
	.size = sizeof(struct vmm_irq_controller_ops),
	.set_level = ioapic_dev_set_level,
	.ack = NULL, /* delivers by MSI, never drives INTR */
	.eoi = ioapic_dev_eoi,
};

static void ioapic_dev_destroy(void *state)
{
	struct ioapic_dev *d = state;

	if (d->mapped)
		d->h->bus_unmap(d->h, VMM_BUS_MMIO, d->base);
	free(d);
}

/* Which IOAPIC this machine gets, or a negative errno after saying why. */
static int ioapic_dev_pick_mode(const struct vmm_host *h, enum ioapic_mode *mode)
{
	const char *want = h->prop_str(h, "mode");
	enum vmm_irq_mode irq_mode;

	if (!VMM_HOST_HAS(h, irq_mode) || !VMM_HOST_HAS(h, irq_controller_register) ||
	    !VMM_HOST_HAS(h, msi_send)) {
		h->log(h, VMM_LOG_ERROR, "ioapic needs the ABI 1.1 interrupt services (irq_mode, "
					 "irq_controller_register, msi_send), which this core lacks");
		return -ENOTSUP;
	}
	irq_mode = h->irq_mode(h);
	if (!want || !strcmp(want, "auto"))
		want = irq_mode == VMM_IRQ_KERNEL ? "kernel" : "emulated";

	if (!strcmp(want, "kernel")) {
		if (irq_mode != VMM_IRQ_KERNEL) {
			h->log(h, VMM_LOG_ERROR, "mode=kernel needs the hypervisor's irqchip=kernel; "
						 "use mode=emulated or mode=auto");
			return -EINVAL;
		}
		*mode = IOAPIC_MODE_KERNEL;
		return 0;
	}
	if (irq_mode == VMM_IRQ_EMULATED) {
		h->log(h, VMM_LOG_ERROR, "ioapic needs local APICs: set the hypervisor's irqchip "
					 "to split or kernel");
		return -ENODEV;
	}
	if (irq_mode == VMM_IRQ_KERNEL) {
		h->log(h, VMM_LOG_ERROR, "mode=emulated but irqchip=kernel already has an IOAPIC "
					 "in the hypervisor; use mode=auto or irqchip=split");
		return -EBUSY;
	}
	*mode = IOAPIC_MODE_EMULATED;
	return 0;
}

static int ioapic_dev_create(const struct vmm_host *h, void **state)
{
	struct ioapic_dev *d;
	int64_t base, irq_base, id;
	enum ioapic_mode mode;
	int rc;

	/* The schema gives each a default and a range: these cannot fail. */
	if (h->prop_int(h, "base", &base) || h->prop_int(h, "irq-base", &irq_base) ||
	    h->prop_int(h, "id", &id))
		return -EINVAL;
	rc = ioapic_dev_pick_mode(h, &mode);
	if (rc)
		return rc;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;
	d->mode = mode;
	d->base = (uint64_t)base;
	d->irq_base = (uint32_t)irq_base;
	ioapic_init(&d->ioapic, &ioapic_dev_model_ops, d, (uint8_t)id);

	/* For the MADT.  In kernel mode KVM's IOAPIC sits at 0xfec00000 with
	 * ID 0 and takes the lines from 0. */
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_MMIO, .base = mode == IOAPIC_MODE_KERNEL ? 0xfec00000 : d->base,
		  .len = IOAPIC_MMIO_SIZE },
	};
	const struct vmm_device_desc desc = {
		.size = sizeof(desc), .kind = VMM_DESC_IOAPIC, .res = res, .nres = 1,
		.apic_id = mode == IOAPIC_MODE_KERNEL ? 0 : (uint32_t)id,
		.gsi_base = mode == IOAPIC_MODE_KERNEL ? 0 : d->irq_base,
	};
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;

	if (mode == IOAPIC_MODE_KERNEL) {
		/* The hypervisor answers at its own fixed address and takes the
		 * lines itself; base, irq-base and id are not ours to apply. */
		h->log(h, VMM_LOG_DEBUG, "IOAPIC runs in the hypervisor");
		*state = d;
		return 0;
	}

	rc = h->bus_map(h, VMM_BUS_MMIO, d->base, IOAPIC_MMIO_SIZE, &ioapic_dev_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map MMIO 0x%llx-0x%llx: %s",
		       (unsigned long long)d->base,
		       (unsigned long long)d->base + IOAPIC_MMIO_SIZE - 1, strerror(-rc));
		goto out_destroy;
	}
	d->mapped = true;
	/* Last: there is no way to give the lines back if a later step failed. */
	rc = h->irq_controller_register(h, d->irq_base, IOAPIC_NUM_PINS, &ioapic_dev_irq_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot receive interrupt lines %u-%u: %s", d->irq_base,
		       d->irq_base + IOAPIC_NUM_PINS - 1, strerror(-rc));
		goto out_destroy;
	}
	*state = d;
	return 0;

out_destroy:
	ioapic_dev_destroy(d);
	return rc;
}

static void ioapic_dev_reset(void *state)
{
	struct ioapic_dev *d = state;

	ioapic_reset(&d->ioapic);
}

/*
 * Saved state, version 1: "emulated" (0 in kernel mode, where the
 * hypervisor's IOAPIC travels with its VM state and nothing else is put),
 * "ioregsel", "id", "pin_levels" (the input levels, so that a device
 * raising its line again in its own load is no new edge) and "rte.0" to
 * "rte.23", the redirection entries with their remote IRR.  Nothing is
 * held high: the IOAPIC's outputs are messages.
 */
static const struct state_field ioapic_fields[] = {
	STATE_FIELD(struct ioapic_state, ioregsel, "ioregsel", 0),
	STATE_FIELD(struct ioapic_state, id, "id", 0),
	STATE_FIELD(struct ioapic_state, pin_levels, "pin_levels", 0),
};

static int ioapic_dev_save(void *state, struct vmm_state_out *out)
{
	struct ioapic_dev *d = state;
	const struct vmm_host *h = d->h;
	bool emulated = d->mode == IOAPIC_MODE_EMULATED;
	int rc = vmm_state_put_u8(h, out, "emulated", emulated);
	char name[16];

	if (rc || !emulated)
		return rc;
	rc = state_fields_save(h, out, NULL, ioapic_fields,
			       sizeof(ioapic_fields) / sizeof(ioapic_fields[0]), &d->ioapic.s);
	for (unsigned pin = 0; !rc && pin < IOAPIC_NUM_PINS; pin++) {
		snprintf(name, sizeof(name), "rte.%u", pin);
		rc = vmm_state_put_u64(h, out, name, d->ioapic.s.redtbl[pin]);
	}
	return rc;
}

static int ioapic_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct ioapic_dev *d = state;
	const struct vmm_host *h = d->h;
	bool emulated = d->mode == IOAPIC_MODE_EMULATED;
	struct ioapic_state s = { .version = IOAPIC_STATE_VERSION };
	const char *bad;
	uint8_t saved_emulated;
	char name[16];
	int rc;

	rc = state_version_check(h, version, 1);
	if (!rc)
		rc = state_field_get(h, in, "emulated", &saved_emulated, 1);
	if (rc)
		return rc;
	if (saved_emulated != emulated)
		return state_field_refuse(h, "emulated", emulated
					  ? "the record holds no IOAPIC state (saved in mode=kernel)"
					  : "the record is an emulated IOAPIC's; this one is the hypervisor's");
	if (!emulated)
		return 0;
	rc = state_fields_load(h, in, NULL, ioapic_fields,
			       sizeof(ioapic_fields) / sizeof(ioapic_fields[0]), &s);
	for (unsigned pin = 0; !rc && pin < IOAPIC_NUM_PINS; pin++) {
		snprintf(name, sizeof(name), "rte.%u", pin);
		rc = state_field_get_u64(h, in, name, &s.redtbl[pin]);
	}
	if (rc)
		return rc;
	bad = ioapic_state_check(&s);
	if (bad)
		return state_field_refuse(h, bad, "holds bits no IOAPIC register can");
	ioapic_restore(&d->ioapic, &s);
	return 0;
}

static const struct vmm_device_ops ioapic_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = ioapic_dev_create,
	.destroy = ioapic_dev_destroy,
	.reset = ioapic_dev_reset,
	.state_version = 1,
	.save = ioapic_dev_save,
	.load = ioapic_dev_load,
};

static const char *const ioapic_dev_modes[] = { "auto", "emulated", "kernel", NULL };

static const struct vmm_prop_desc ioapic_dev_props[] = {
	{ .name = "base", .type = VMM_PROP_INT, .def_int = 0xfec00000, .min = 0,
	  .max = 0xffffff00, .help = "guest-physical address of IOREGSEL (IOWIN is at +0x10)" },
	{ .name = "irq-base", .type = VMM_PROP_INT, .def_int = 0, .min = 0,
	  .max = 0xffffff, .help = "interrupt line of pin 0; pins 0-23 take the next 24 lines" },
	{ .name = "id", .type = VMM_PROP_INT, .def_int = 0, .min = 0, .max = 15,
	  .help = "IOAPIC ID register value after reset (the MADT's I/O APIC ID)" },
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "auto", .choices = ioapic_dev_modes,
	  .help = "emulated (needs irqchip=split), kernel (irqchip=kernel), or auto" },
	{ .name = NULL },
};

static const struct vmm_plugin ioapic_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "ioapic",
	.version = "1.0",
	.summary = "I/O APIC: 24 interrupt lines delivered as MSIs to the local APICs",
	.props = ioapic_dev_props,
	.ops = &ioapic_dev_ops,
};

VMM_PLUGIN_DEFINE(ioapic_plugin)
