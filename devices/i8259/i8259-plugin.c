/* SPDX-License-Identifier: MIT */
/*
 * devices/i8259/i8259-plugin.c - the PC's 8259A pair on the I/O port bus.
 *
 * Glue only: the `mode` property, the master (0x20), slave (0xa0) and ELCR
 * (0x4d0) ports, interrupt lines 0-15 and the BSP's INTR pin, each wired to
 * the register model in i8259.c.  When the hypervisor runs its own 8259
 * (VMM_IRQ_KERNEL) the plugin stands aside and touches nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"
#include "i8259.h"

#define I8259_MASTER_PORT 0x20
#define I8259_SLAVE_PORT  0xa0
#define I8259_ELCR_PORT   0x4d0
#define I8259_BSP         0 /* the 8259 is wired to the bootstrap processor */

struct i8259_dev {
	struct i8259 pic;
	const struct vmm_host *h;
	bool emulated;
	bool mapped_master, mapped_slave, mapped_elcr;
};

static void pic_dev_set_intr(void *opaque, int level)
{
	struct i8259_dev *d = opaque;

	d->h->cpu_intr_set(d->h, I8259_BSP, level);
}

static void pic_dev_guest_error(void *opaque, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pic_dev_guest_error(void *opaque, const char *fmt, ...)
{
	struct i8259_dev *d = opaque;
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d->h->log(d->h, VMM_LOG_GUEST_ERROR, "%s", msg);
}

static const struct i8259_ops pic_dev_model_ops = {
	.set_intr = pic_dev_set_intr,
	.guest_error = pic_dev_guest_error,
};

static int pic_dev_master_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			       uint64_t *value)
{
	struct i8259_dev *d = opaque;

	*value = i8259_read(&d->pic, I8259_MASTER, (unsigned)offset);
	return 0;
}

static int pic_dev_master_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
				uint64_t value)
{
	struct i8259_dev *d = opaque;

	i8259_write(&d->pic, I8259_MASTER, (unsigned)offset, (uint8_t)value);
	return 0;
}

static int pic_dev_slave_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			      uint64_t *value)
{
	struct i8259_dev *d = opaque;

	*value = i8259_read(&d->pic, I8259_SLAVE, (unsigned)offset);
	return 0;
}

static int pic_dev_slave_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			       uint64_t value)
{
	struct i8259_dev *d = opaque;

	i8259_write(&d->pic, I8259_SLAVE, (unsigned)offset, (uint8_t)value);
	return 0;
}

/* 0x4d0 is the master's ELCR, 0x4d1 the slave's. */
static int pic_dev_elcr_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			     uint64_t *value)
{
	struct i8259_dev *d = opaque;

	*value = i8259_elcr_read(&d->pic, offset ? I8259_SLAVE : I8259_MASTER);
	return 0;
}

static int pic_dev_elcr_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			      uint64_t value)
{
	struct i8259_dev *d = opaque;

	i8259_elcr_write(&d->pic, offset ? I8259_SLAVE : I8259_MASTER, (uint8_t)value);
	return 0;
}

static const struct vmm_region_ops pic_dev_master_region = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = pic_dev_master_read,
	.write = pic_dev_master_write,
};

static const struct vmm_region_ops pic_dev_slave_region = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = pic_dev_slave_read,
	.write = pic_dev_slave_write,
};

static const struct vmm_region_ops pic_dev_elcr_region = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = pic_dev_elcr_read,
	.write = pic_dev_elcr_write,
};

static void pic_dev_set_level(void *opaque, uint32_t line, int level)
{
	struct i8259_dev *d = opaque;

	i8259_set_line(&d->pic, line, level);
}

static int pic_dev_ack(void *opaque, unsigned vcpu)
{
	struct i8259_dev *d = opaque;

	return i8259_ack(&d->pic);
}

static const struct vmm_irq_controller_ops pic_dev_irq_ops = {
	.size = sizeof(struct vmm_irq_controller_ops),
	.set_level = pic_dev_set_level,
	.ack = pic_dev_ack,
	.eoi = NULL, /* the 8259 hears EOIs through OCW2, never from a local APIC */
};

static const char *irq_mode_name(enum vmm_irq_mode mode)
{
	switch (mode) {
	case VMM_IRQ_EMULATED:
		return "emulated";
	case VMM_IRQ_SPLIT:
		return "split";
	case VMM_IRQ_KERNEL:
		return "kernel";
	}
	return "unknown";
}

/* The ABI 1.1 services this plugin calls; cpu_intr_set is the last.  A
 * host whose size covers them may still leave them unset (NULL), e.g. a
 * core built against the 1.1 header before it implemented them. */
static bool host_has_irq_services(const struct vmm_host *h)
{
	return VMM_HOST_HAS(h, irq_mode) && VMM_HOST_HAS(h, irq_controller_register) &&
	       VMM_HOST_HAS(h, cpu_intr_set);
}

static void pic_dev_destroy(void *state)
{
	struct i8259_dev *d = state;
	const struct vmm_host *h = d->h;

	/* The ABI has no way to give lines back: the core drops this
	 * instance's registration together with the instance. */
	if (d->mapped_elcr)
		h->bus_unmap(h, VMM_BUS_PIO, I8259_ELCR_PORT);
	if (d->mapped_slave)
		h->bus_unmap(h, VMM_BUS_PIO, I8259_SLAVE_PORT);
	if (d->mapped_master)
		h->bus_unmap(h, VMM_BUS_PIO, I8259_MASTER_PORT);
	if (d->emulated && d->pic.intr_level)
		h->cpu_intr_set(h, I8259_BSP, 0);
	free(d);
}

static int pic_dev_map(struct i8259_dev *d, uint16_t port, const struct vmm_region_ops *ops,
		       bool *mapped)
{
	const struct vmm_host *h = d->h;
	int rc = h->bus_map(h, VMM_BUS_PIO, port, 2, ops, d);

	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map ports 0x%x-0x%x", port, port + 1);
		return rc;
	}
	*mapped = true;
	return 0;
}

static int pic_dev_create_emulated(struct i8259_dev *d)
{
	const struct vmm_host *h = d->h;
	int rc;

	d->emulated = true;
	i8259_init(&d->pic, &pic_dev_model_ops, d);

	rc = pic_dev_map(d, I8259_MASTER_PORT, &pic_dev_master_region, &d->mapped_master);
	if (rc)
		return rc;
	rc = pic_dev_map(d, I8259_SLAVE_PORT, &pic_dev_slave_region, &d->mapped_slave);
	if (rc)
		return rc;
	rc = pic_dev_map(d, I8259_ELCR_PORT, &pic_dev_elcr_region, &d->mapped_elcr);
	if (rc)
		return rc;
	rc = h->irq_controller_register(h, 0, I8259_NR_LINES, &pic_dev_irq_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot receive interrupt lines 0-15: %s", strerror(-rc));
		return rc;
	}
	/* Claim the BSP's INTR pin now, low, so that an acknowledge cycle
	 * reaches this controller even before its first request. */
	h->cpu_intr_set(h, I8259_BSP, 0);
	return 0;
}

static int pic_dev_create(const struct vmm_host *h, void **state)
{
	struct i8259_dev *d;
	enum vmm_irq_mode machine;
	const char *mode;
	int rc;

	if (!host_has_irq_services(h)) {
		h->log(h, VMM_LOG_ERROR,
		       "the host (ABI 1.%u, %u-byte host table) lacks the ABI 1.1 "
		       "interrupt-controller services (irq_mode, irq_controller_register, "
		       "cpu_intr_set)", h->abi_minor, h->size);
		return -ENOTSUP;
	}
	machine = h->irq_mode(h);
	mode = h->prop_str(h, "mode");
	if (!mode)
		mode = "auto";

	if (!strcmp(mode, "kernel") && machine != VMM_IRQ_KERNEL) {
		h->log(h, VMM_LOG_ERROR, "mode=kernel needs the hypervisor's own 8259 "
		       "(irqchip kernel), but this machine's irqchip is %s", irq_mode_name(machine));
		return -EINVAL;
	}
	if (!strcmp(mode, "emulated") && machine == VMM_IRQ_KERNEL) {
		h->log(h, VMM_LOG_ERROR, "mode=emulated, but the hypervisor owns the 8259 "
		       "(irqchip kernel); use mode=auto or mode=kernel");
		return -EBUSY;
	}

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;

	/* An 8259 pair is there in either mode (MADT PCAT_COMPAT, PNP0000). */
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = I8259_MASTER_PORT, .len = 2 },
		{ .type = VMM_RES_IO, .base = I8259_SLAVE_PORT, .len = 2 },
		{ .type = VMM_RES_IRQ, .base = 2 },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_PIC,
					      .acpi_hid = "PNP0000", .res = res, .nres = 3 };
	rc = vmm_describe(h, &desc);
	if (rc) {
		free(d);
		return rc;
	}

	if (machine == VMM_IRQ_KERNEL) {
		h->log(h, VMM_LOG_DEBUG, "mode=kernel: the hypervisor's 8259 pair serves ports "
		       "0x20-0x21, 0xa0-0xa1, 0x4d0-0x4d1 and lines 0-15; nothing mapped");
		*state = d;
		return 0;
	}

	rc = pic_dev_create_emulated(d);
	if (rc) {
		pic_dev_destroy(d);
		return rc;
	}
	h->log(h, VMM_LOG_DEBUG, "mode=emulated (%s irqchip): ports 0x20, 0xa0, 0x4d0, lines 0-15",
	       irq_mode_name(machine));
	*state = d;
	return 0;
}

static void pic_dev_reset(void *state)
{
	struct i8259_dev *d = state;

	if (d->emulated)
		i8259_reset(&d->pic);
}

/*
 * Saved state, version 1: "emulated" (1, or 0 when the hypervisor's 8259
 * holds the state, which then travels with its VM state), and per chip
 * ("master." and "slave.") every register of struct i8259_chip_state.
 * INTR is not saved: it follows from the registers and is driven again.
 * The input line levels are saved with the chip: the devices driving them
 * raise them again in their own load, which must not look like an edge.
 */
#define PIC_CHIP_FIELD(m, max) STATE_FIELD(struct i8259_chip_state, m, #m, max)
#define PIC_CHIP_BOOL(m) STATE_BOOL(struct i8259_chip_state, m, #m)

static const struct state_field pic_chip_fields[] = {
	PIC_CHIP_FIELD(irr, 0),
	PIC_CHIP_FIELD(isr, 0),
	PIC_CHIP_FIELD(imr, 0),
	PIC_CHIP_FIELD(lines, 0),
	PIC_CHIP_FIELD(elcr, 0),
	PIC_CHIP_FIELD(icw1, 0),
	PIC_CHIP_FIELD(icw2, 0),
	PIC_CHIP_FIELD(icw3, 0),
	PIC_CHIP_FIELD(icw4, 0),
	PIC_CHIP_FIELD(init_step, I8259_WANT_ICW4),
	PIC_CHIP_FIELD(lowest, 7),
	PIC_CHIP_BOOL(rotate_in_aeoi),
	PIC_CHIP_BOOL(special_mask),
	PIC_CHIP_BOOL(read_isr),
	PIC_CHIP_BOOL(poll),
};

static const char *const pic_chip_prefix[I8259_NR_CHIPS] = { "master.", "slave." };

static int pic_dev_save(void *state, struct vmm_state_out *out)
{
	struct i8259_dev *d = state;
	int rc = vmm_state_put_u8(d->h, out, "emulated", d->emulated);

	for (unsigned i = 0; !rc && d->emulated && i < I8259_NR_CHIPS; i++)
		rc = state_fields_save(d->h, out, pic_chip_prefix[i], pic_chip_fields,
				       sizeof(pic_chip_fields) / sizeof(pic_chip_fields[0]),
				       &d->pic.s.chip[i]);
	return rc;
}

static int pic_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	static const uint8_t elcr_writable[I8259_NR_CHIPS] = { I8259_ELCR_MASK_MASTER,
							       I8259_ELCR_MASK_SLAVE };
	struct i8259_dev *d = state;
	const struct vmm_host *h = d->h;
	struct i8259_state s = { .version = I8259_STATE_VERSION };
	uint8_t emulated;
	int rc;

	rc = state_version_check(h, version, 1);
	if (!rc)
		rc = state_field_get(h, in, "emulated", &emulated, 1);
	if (rc)
		return rc;
	if (emulated != d->emulated)
		return state_field_refuse(h, "emulated", d->emulated
					  ? "the record holds no 8259 state (saved in mode=kernel)"
					  : "the record is an emulated 8259's; this one is the hypervisor's");
	if (!d->emulated)
		return 0;
	for (unsigned i = 0; i < I8259_NR_CHIPS; i++) {
		rc = state_fields_load(h, in, pic_chip_prefix[i], pic_chip_fields,
				       sizeof(pic_chip_fields) / sizeof(pic_chip_fields[0]),
				       &s.chip[i]);
		if (rc)
			return rc;
		/* The PC wires IRQ 0, 1, 2, 8 and 13 edge-only. */
		if (s.chip[i].elcr & ~elcr_writable[i])
			return state_field_refuse(h, i ? "slave.elcr" : "master.elcr",
						  "sets an edge-only IRQ's bit");
	}
	i8259_restore(&d->pic, &s);
	return 0;
}

static const struct vmm_device_ops pic_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = pic_dev_create,
	.destroy = pic_dev_destroy,
	.reset = pic_dev_reset,
	.state_version = 1,
	.save = pic_dev_save,
	.load = pic_dev_load,
};

static const char *const pic_dev_modes[] = { "auto", "emulated", "kernel", NULL };

static const struct vmm_prop_desc pic_dev_props[] = {
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "auto", .choices = pic_dev_modes,
	  .help = "auto follows the machine's irqchip; emulated runs this model; kernel defers "
		  "to the hypervisor's 8259" },
	{ .name = NULL },
};

static const struct vmm_plugin i8259_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "i8259",
	.version = "1.0",
	.summary = "cascaded 8259A interrupt controllers with ELCR (PC ports 0x20, 0xa0, 0x4d0)",
	.props = pic_dev_props,
	.ops = &pic_dev_ops,
};

VMM_PLUGIN_DEFINE(i8259_plugin)
