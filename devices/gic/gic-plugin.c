/* SPDX-License-Identifier: MIT */
/*
 * devices/gic/gic-plugin.c - the GICv2 model on the MMIO bus: the gic
 * plugin, mode "emulated".
 *
 * Glue only: properties, the distributor's 4 KiB and the CPU interface's
 * 8 KiB windows (the accessing vCPU picks the banked registers), the SPIs
 * as the machine's interrupt lines 32 and up, the PPIs the hypervisor
 * reports per vCPU (set_private: the architected timers' outputs), each
 * CPU interface's IRQ and FIQ outputs to its vCPU's inputs (cpu_irq_line,
 * ABI 1.8), and the description the device tree takes (VMM_DESC_GICV2).
 * The in-kernel GIC is the kvm plugin's `irqchip = "kernel"`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "gic-model.h"

struct gic_dev {
	struct gic gic;
	const struct vmm_host *h;
	uint64_t dist_base, cpu_base;
	bool dist_mapped, cpu_mapped;
	bool output_failed; /* cpu_irq_line refused once: said so */
};

static void gic_dev_output(struct gic_dev *d, unsigned cpu, enum vmm_cpu_pin pin, int level)
{
	int rc = d->h->cpu_irq_line(d->h, cpu, pin, level);

	if (rc && !d->output_failed) {
		d->output_failed = true;
		d->h->log(d->h, VMM_LOG_ERROR, "cannot drive vCPU %u's %s input: %s", cpu,
			  pin == VMM_CPU_IRQ ? "IRQ" : "FIQ", strerror(-rc));
	}
}

static void gic_dev_set_irq(void *opaque, unsigned cpu, int level)
{
	gic_dev_output(opaque, cpu, VMM_CPU_IRQ, level);
}

static void gic_dev_set_fiq(void *opaque, unsigned cpu, int level)
{
	gic_dev_output(opaque, cpu, VMM_CPU_FIQ, level);
}

static const struct gic_ops gic_dev_model_ops = {
	.set_irq = gic_dev_set_irq,
	.set_fiq = gic_dev_set_fiq,
};

/* A device drove SPI `line`. */
static void gic_dev_set_level(void *opaque, uint32_t line, int level)
{
	struct gic_dev *d = opaque;

	gic_set_spi(&d->gic, line, level);
}

/* The hypervisor reported vCPU `vcpu`'s PPI `line` (a timer's output). */
static void gic_dev_set_private(void *opaque, unsigned vcpu, uint32_t line, int level)
{
	struct gic_dev *d = opaque;

	if (!gic_set_ppi(&d->gic, vcpu, line, level))
		d->h->log(d->h, VMM_LOG_WARN, "private line %u of vCPU %u is not a PPI: dropped",
			  line, vcpu);
}

static const struct vmm_irq_controller_ops gic_dev_ctl_ops = {
	.size = sizeof(struct vmm_irq_controller_ops),
	.set_level = gic_dev_set_level,
	.set_private = gic_dev_set_private,
};

static void guest_error(struct gic_dev *d, const char *frame, bool write, unsigned vcpu,
			uint64_t offset, unsigned len, uint64_t value)
{
	if (write)
		d->h->log(d->h, VMM_LOG_GUEST_ERROR, "vCPU %u: %u-byte write of 0x%llx to %s offset "
			  "0x%03llx ignored", vcpu, len, (unsigned long long)value, frame,
			  (unsigned long long)offset);
	else
		d->h->log(d->h, VMM_LOG_GUEST_ERROR, "vCPU %u: %u-byte read of %s offset 0x%03llx "
			  "refused (reads 0)", vcpu, len, frame, (unsigned long long)offset);
}

/*
 * Both windows take 1-, 2- and 4-byte accesses and hand them to the model,
 * which refuses what the spec does not allow (2 bytes anywhere, 1 byte
 * outside the byte-accessible registers): the refusal is a guest error
 * that reads as zero, never a bus fault.  An 8-byte access arrives as two
 * 4-byte ones.
 */
static int gic_dev_dist_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			     uint64_t *value)
{
	struct gic_dev *d = opaque;
	uint32_t v;

	if (!gic_dist_read(&d->gic, vcpu, (unsigned)offset, len, &v))
		guest_error(d, "distributor", false, vcpu, offset, len, 0);
	*value = v;
	return 0;
}

static int gic_dev_dist_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			      uint64_t value)
{
	struct gic_dev *d = opaque;

	if (!gic_dist_write(&d->gic, vcpu, (unsigned)offset, len, (uint32_t)value))
		guest_error(d, "distributor", true, vcpu, offset, len, value);
	return 0;
}

static int gic_dev_cpu_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			    uint64_t *value)
{
	struct gic_dev *d = opaque;
	uint32_t v;

	if (!gic_cpu_read(&d->gic, vcpu, (unsigned)offset, len, &v))
		guest_error(d, "CPU interface", false, vcpu, offset, len, 0);
	*value = v;
	return 0;
}

static int gic_dev_cpu_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			     uint64_t value)
{
	struct gic_dev *d = opaque;

	if (!gic_cpu_write(&d->gic, vcpu, (unsigned)offset, len, (uint32_t)value))
		guest_error(d, "CPU interface", true, vcpu, offset, len, value);
	return 0;
}

static const struct vmm_region_ops gic_dev_dist_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1 | VMM_ACCESS_2 | VMM_ACCESS_4,
	.read = gic_dev_dist_read,
	.write = gic_dev_dist_write,
};

static const struct vmm_region_ops gic_dev_cpu_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1 | VMM_ACCESS_2 | VMM_ACCESS_4,
	.read = gic_dev_cpu_read,
	.write = gic_dev_cpu_write,
};

static void gic_dev_destroy(void *state)
{
	struct gic_dev *d = state;

	if (d->dist_mapped)
		d->h->bus_unmap(d->h, VMM_BUS_MMIO, d->dist_base);
	if (d->cpu_mapped)
		d->h->bus_unmap(d->h, VMM_BUS_MMIO, d->cpu_base);
	free(d);
}

static int gic_dev_create(const struct vmm_host *h, void **state)
{
	struct gic_dev *d;
	int64_t dist, cpu, spis;
	unsigned vcpus;
	int rc;

	if (!VMM_HOST_HAS(h, cpu_irq_line) || !VMM_HOST_HAS(h, vcpu_count) ||
	    !VMM_HOST_HAS(h, irq_controller_register)) {
		h->log(h, VMM_LOG_ERROR, "the host lacks the services of ABI 1.8 (cpu_irq_line, "
		       "vcpu_count) an emulated GIC needs");
		return -ENOTSUP;
	}
	if (h->irq_mode(h) != VMM_IRQ_EMULATED) {
		h->log(h, VMM_LOG_ERROR, "mode = \"emulated\" needs the hypervisor's irqchip = "
		       "\"emulated\" (the hypervisor has its own interrupt controller)");
		return -EBUSY;
	}
	/* The schema gives these defaults and ranges: they cannot fail. */
	if (h->prop_int(h, "dist-base", &dist) || h->prop_int(h, "cpu-base", &cpu) ||
	    h->prop_int(h, "spis", &spis))
		return -EINVAL;
	if ((dist & (GICD_SIZE - 1)) || (cpu & (GICD_SIZE - 1))) {
		h->log(h, VMM_LOG_ERROR, "dist-base 0x%llx and cpu-base 0x%llx must be 4 KiB-aligned",
		       (unsigned long long)dist, (unsigned long long)cpu);
		return -EINVAL;
	}
	vcpus = h->vcpu_count(h);
	if (vcpus < 1 || vcpus > GIC_MAX_CPUS) {
		h->log(h, VMM_LOG_ERROR, "%u vCPUs: a GICv2 serves 1 to %u", vcpus, GIC_MAX_CPUS);
		return -EINVAL;
	}

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;
	d->dist_base = (uint64_t)dist;
	d->cpu_base = (uint64_t)cpu;
	gic_init(&d->gic, &gic_dev_model_ops, d, vcpus, (unsigned)spis);

	rc = h->bus_map(h, VMM_BUS_MMIO, d->dist_base, GICD_SIZE, &gic_dev_dist_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map the distributor at 0x%llx",
		       (unsigned long long)d->dist_base);
		goto out_destroy;
	}
	d->dist_mapped = true;
	rc = h->bus_map(h, VMM_BUS_MMIO, d->cpu_base, GICC_SIZE, &gic_dev_cpu_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map the CPU interface at 0x%llx",
		       (unsigned long long)d->cpu_base);
		goto out_destroy;
	}
	d->cpu_mapped = true;
	rc = h->irq_controller_register(h, GIC_NR_PRIVATE, d->gic.nr_irqs - GIC_NR_PRIVATE,
					&gic_dev_ctl_ops, d);
	if (rc)
		goto out_destroy;

	const struct vmm_resource res[] = {
		{ .type = VMM_RES_MMIO, .base = d->dist_base, .len = GICD_SIZE },
		{ .type = VMM_RES_MMIO, .base = d->cpu_base, .len = GICC_SIZE },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_GICV2,
					      .res = res, .nres = 2, .gsi_base = d->gic.nr_irqs };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;
	*state = d;
	return 0;

out_destroy:
	gic_dev_destroy(d);
	return rc;
}

static void gic_dev_reset(void *state)
{
	struct gic_dev *d = state;

	gic_reset(&d->gic);
}

static const struct vmm_device_ops gic_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = gic_dev_create,
	.destroy = gic_dev_destroy,
	.reset = gic_dev_reset,
};

static const char *const gic_modes[] = { "emulated", NULL };

static const struct vmm_prop_desc gic_dev_props[] = {
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "emulated", .choices = gic_modes,
	  .help = "emulated: a GICv2 in this plugin (needs the hypervisor's irqchip = "
		  "\"emulated\"); the in-kernel GIC is the hypervisor's irqchip = \"kernel\"" },
	{ .name = "dist-base", .type = VMM_PROP_INT, .def_int = 0x08000000, .min = 0,
	  .max = INT64_MAX, .help = "guest-physical address of the distributor's 4 KiB (GICD)" },
	{ .name = "cpu-base", .type = VMM_PROP_INT, .def_int = 0x08010000, .min = 0,
	  .max = INT64_MAX, .help = "guest-physical address of the CPU interface's 8 KiB (GICC)" },
	{ .name = "spis", .type = VMM_PROP_INT, .def_int = 64, .min = 32, .max = GIC_MAX_SPIS,
	  .help = "shared peripheral interrupts, INTIDs 32 and up; rounded up to a multiple of 32 "
		  "(GICD_TYPER.ITLinesNumber), INTIDs stop at 1019" },
	{ .name = NULL },
};

static const struct vmm_plugin gic_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "gic",
	.version = "1.0",
	.summary = "ARM GICv2 distributor and CPU interfaces emulated in userspace (arm64)",
	.props = gic_dev_props,
	.ops = &gic_dev_ops,
};

VMM_PLUGIN_DEFINE(gic_plugin)
