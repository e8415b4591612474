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
 *
 * Mode "kernel" (ABI 1.14): the hypervisor's in-kernel GIC (KVM's vGICv3
 * or vGICv2), created through hv_device_create and configured through
 * hv_device_attr: the frames' addresses and the INTID count at create(),
 * CTRL_INIT in ready(), once every vCPU exists
 * (Documentation/virt/kvm/devices/arm-vgic-v3.rst and arm-vgic.rst).
 * KVM then answers the frames itself: nothing is mapped on the bus.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "gic-model.h"
#include "devices/model-glue/state-fields.h"

/* The in-kernel GICv3's frames (GICv3 architecture specification, 12.1):
 * the distributor's 64 KiB, and per CPU a redistributor of two 64 KiB
 * frames (RD_base and SGI_base, 12.10), laid out one after the other. */
#define GICV3_DIST_SIZE    0x10000ull
#define GICV3_REDIST_SIZE  0x20000ull
#define GICV3_ALIGN        0x10000ull /* arm-vgic-v3.rst: 64 KiB-aligned */
/* KVM's INTID limit (arm-vgic.rst, KVM_DEV_ARM_VGIC_GRP_NR_IRQS: at most
 * 1024) and its vCPU limit for a vGICv3 (VGIC_V3_MAX_CPUS). */
#define GIC_KVM_MAX_IRQS   1024u
#define GICV3_MAX_CPUS     512u

struct gic_dev {
	struct gic gic;
	const struct vmm_host *h;
	bool kernel;        /* mode = "kernel": the hypervisor's GIC */
	unsigned version;   /* 2 or 3 */
	int hv_dev;         /* kernel: hv_device_create's handle */
	uint32_t kernel_irqs; /* kernel: the INTID count given to the hypervisor */
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

	if (d->kernel) { /* the hypervisor's device goes with the VM */
		free(d);
		return;
	}
	if (d->dist_mapped)
		d->h->bus_unmap(d->h, VMM_BUS_MMIO, d->dist_base);
	if (d->cpu_mapped)
		d->h->bus_unmap(d->h, VMM_BUS_MMIO, d->cpu_base);
	free(d);
}

static int kernel_attr(struct gic_dev *d, uint32_t group, uint64_t attr, void *val,
		       const char *what, uint64_t shown)
{
	const struct vmm_host *h = d->h;
	int rc = h->hv_device_attr(h, d->hv_dev, VMM_HV_ATTR_SET, group, attr, val);

	if (rc)
		h->log(h, VMM_LOG_ERROR, "in-kernel GICv%u: the hypervisor refused %s 0x%llx: %s",
		       d->version, what, (unsigned long long)shown, strerror(-rc));
	return rc;
}

/*
 * mode = "kernel": create the hypervisor's GIC, place its frames and size
 * it (Documentation/virt/kvm/devices/arm-vgic-v3.rst and arm-vgic.rst:
 * KVM_DEV_ARM_VGIC_GRP_ADDR and GRP_NR_IRQS before the vGIC is
 * initialised), and describe it for the device tree.
 */
static int gic_kernel_create(const struct vmm_host *h, unsigned version, void **state)
{
	struct gic_dev *d;
	int64_t dist, cpu, redist, spis;
	unsigned vcpus;
	uint64_t second, second_len, align;
	uint32_t nr_irqs;
	int rc;

	if (!VMM_HOST_HAS(h, hv_device_create) || !VMM_HOST_HAS(h, hv_device_attr) ||
	    !VMM_HOST_HAS(h, vcpu_count)) {
		h->log(h, VMM_LOG_ERROR, "the host lacks the services of ABI 1.14 "
		       "(hv_device_create, hv_device_attr) an in-kernel GIC needs");
		return -ENOTSUP;
	}
	if (h->irq_mode(h) != VMM_IRQ_KERNEL) {
		h->log(h, VMM_LOG_ERROR, "mode = \"kernel\" needs the hypervisor's irqchip = "
		       "\"kernel\" (the machine's interrupts are not delegated to it)");
		return -EINVAL;
	}
	if (h->prop_int(h, "dist-base", &dist) || h->prop_int(h, "cpu-base", &cpu) ||
	    h->prop_int(h, "redist-base", &redist) || h->prop_int(h, "spis", &spis))
		return -EINVAL;
	vcpus = h->vcpu_count(h);
	if (version == 3) {
		align = GICV3_ALIGN;
		second = (uint64_t)redist;
		second_len = (uint64_t)vcpus * GICV3_REDIST_SIZE;
		if (vcpus < 1 || vcpus > GICV3_MAX_CPUS) {
			h->log(h, VMM_LOG_ERROR, "%u vCPUs: an in-kernel GICv3 serves 1 to %u", vcpus,
			       GICV3_MAX_CPUS);
			return -EINVAL;
		}
	} else {
		align = GICD_SIZE;
		second = (uint64_t)cpu;
		second_len = GICC_SIZE;
		if (vcpus < 1 || vcpus > GIC_MAX_CPUS) {
			h->log(h, VMM_LOG_ERROR, "%u vCPUs: a GICv2 serves 1 to %u", vcpus, GIC_MAX_CPUS);
			return -EINVAL;
		}
	}
	uint64_t dist_len = version == 3 ? GICV3_DIST_SIZE : GICD_SIZE;
	if (((uint64_t)dist & (align - 1)) || (second & (align - 1))) {
		h->log(h, VMM_LOG_ERROR, "dist-base 0x%llx and %s 0x%llx must be %llu KiB-aligned",
		       (unsigned long long)dist, version == 3 ? "redist-base" : "cpu-base",
		       (unsigned long long)second, (unsigned long long)(align >> 10));
		return -EINVAL;
	}
	if (second + second_len < second ||
	    ((uint64_t)dist < second + second_len && second < (uint64_t)dist + dist_len)) {
		h->log(h, VMM_LOG_ERROR, "the distributor [0x%llx, +0x%llx) and the %s [0x%llx, "
		       "+0x%llx) overlap", (unsigned long long)dist, (unsigned long long)dist_len,
		       version == 3 ? "redistributors" : "CPU interface",
		       (unsigned long long)second, (unsigned long long)second_len);
		return -EINVAL;
	}
	nr_irqs = GIC_NR_PRIVATE + ((uint32_t)spis + 31) / 32 * 32;
	if (nr_irqs > GIC_KVM_MAX_IRQS)
		nr_irqs = GIC_KVM_MAX_IRQS;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;
	d->kernel = true;
	d->version = version;
	d->dist_base = (uint64_t)dist;
	d->cpu_base = second;
	d->kernel_irqs = nr_irqs;
	rc = h->hv_device_create(h, version == 3 ? VMM_HV_DEV_ARM_VGIC_V3 : VMM_HV_DEV_ARM_VGIC_V2);
	if (rc < 0) {
		if (rc == -ENODEV)
			h->log(h, VMM_LOG_ERROR, "version = %u: the hypervisor cannot create an "
			       "in-kernel GICv%u (%s: the host's GIC has no GICv%u-compatible "
			       "interface); use version = %u, or mode = \"emulated\" (a GICv2 in this "
			       "plugin)", version, version, strerror(-rc), version, version == 2 ? 3 : 2);
		else
			h->log(h, VMM_LOG_ERROR, "the hypervisor cannot create an in-kernel GICv%u: %s",
			       version, strerror(-rc));
		goto out_free;
	}
	d->hv_dev = rc;
	uint64_t addr = d->dist_base;
	if ((rc = kernel_attr(d, VMM_HV_VGIC_GRP_ADDR, version == 3 ? VMM_HV_VGIC_V3_ADDR_DIST
								       : VMM_HV_VGIC_V2_ADDR_DIST,
			      &addr, "the distributor at", d->dist_base)))
		goto out_free;
	addr = second;
	if ((rc = kernel_attr(d, VMM_HV_VGIC_GRP_ADDR, version == 3 ? VMM_HV_VGIC_V3_ADDR_REDIST
								       : VMM_HV_VGIC_V2_ADDR_CPU,
			      &addr, version == 3 ? "the redistributors at" : "the CPU interface at",
			      second)))
		goto out_free;
	if ((rc = kernel_attr(d, VMM_HV_VGIC_GRP_NR_IRQS, 0, &nr_irqs, "an INTID count of",
			      nr_irqs)))
		goto out_free;

	const struct vmm_resource res[] = {
		{ .type = VMM_RES_MMIO, .base = d->dist_base, .len = dist_len },
		{ .type = VMM_RES_MMIO, .base = second, .len = second_len },
	};
	const struct vmm_device_desc desc = {
		.size = sizeof(desc), .kind = version == 3 ? VMM_DESC_GICV3 : VMM_DESC_GICV2,
		.res = res, .nres = 2, .gsi_base = nr_irqs,
	};
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_free;
	*state = d;
	return 0;

out_free:
	/* The hypervisor's device lives as long as the VM: nothing to undo. */
	free(d);
	return rc;
}

/* Every vCPU exists: the in-kernel GIC can build its redistributors and
 * CPU interfaces (a vGICv3 is never initialised lazily: without this the
 * first KVM_RUN fails). */
static int gic_dev_ready(void *state)
{
	struct gic_dev *d = state;

	if (!d->kernel)
		return 0;
	return kernel_attr(d, VMM_HV_VGIC_GRP_CTRL, VMM_HV_VGIC_CTRL_INIT, NULL,
			   "initialisation (KVM_DEV_ARM_VGIC_CTRL_INIT) after vCPU count", 
			   d->h->vcpu_count(d->h));
}

static int gic_emulated_create(const struct vmm_host *h, void **state);

static int gic_dev_create(const struct vmm_host *h, void **state)
{
	const char *mode = h->prop_str(h, "mode");
	const char *ver = h->prop_str(h, "version");
	long version;
	bool kernel;

	/* No mode: the hypervisor's irqchip decides (kernel: its GIC). */
	if (mode)
		kernel = strcmp(mode, "kernel") == 0;
	else
		kernel = VMM_HOST_HAS(h, irq_mode) && h->irq_mode(h) == VMM_IRQ_KERNEL;
	/* An enum of "2" and "3" (the schema checked it); unset: the mode's. */
	version = ver ? strtol(ver, NULL, 10) : kernel ? 3 : 2;
	if (!kernel && version != 2) {
		h->log(h, VMM_LOG_ERROR, "version = %ld: mode = \"emulated\" is a GICv2 (version = 2); "
		       "a GICv3 is mode = \"kernel\"", version);
		return -EINVAL;
	}
	return kernel ? gic_kernel_create(h, (unsigned)version, state) : gic_emulated_create(h, state);
}

static int gic_emulated_create(const struct vmm_host *h, void **state)
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

	if (!d->kernel) /* the in-kernel GIC: the hypervisor's reset */
		gic_reset(&d->gic);
}

/*
 * Saved state (ABI 1.12), version 1, mode "emulated": the CPU and INTID
 * counts (a record from another GIC is refused), GICD_CTLR, the SPIs'
 * bit arrays (enable, group, pending latch, input level, active, edge
 * configuration) as little-endian words, their priority and target bytes,
 * and per CPU "cpuN." its banked SGI/PPI bits, priorities, SGI sources,
 * GICC_CTLR (EOImode), PMR, BPR, ABPR, the active-priority stack (APR,
 * whose lowest bit is the running priority) and the IRQ/FIQ output
 * levels, re-driven by load.  Mode "kernel": the GIC's state is the
 * hypervisor's, saved in its VM record (the kvm plugin: kvm-arm64-vgic.c);
 * this record says only what GIC it is ("kernel" 1, "version", "irqs"), so
 * a record of the other mode, version or INTID count is refused.
 */
#define GIC_STATE_VERSION 1

/* The record's fields, save and load from the same tables (state-fields.h):
 * the distributor's sizes first (checked against this GIC before the rest
 * is read), then its registers, then each CPU's under "cpuN.". */
static const struct state_field gic_size_fields[] = {
	STATE_FIELD(struct gic, nr_cpus, "cpus", 0),
	STATE_FIELD(struct gic, nr_irqs, "irqs", 0),
};

static const struct state_field gic_dist_fields[] = {
	STATE_FIELD(struct gic, dctlr, "dctlr", 0),
	/* one array of words per bit kind (enum gic_bit), word 0 unused */
	STATE_ARRAY(struct gic, shared[GIC_BIT_ENABLE], "spi-enable"),
	STATE_ARRAY(struct gic, shared[GIC_BIT_GROUP], "spi-group"),
	STATE_ARRAY(struct gic, shared[GIC_BIT_LATCH], "spi-latch"),
	STATE_ARRAY(struct gic, shared[GIC_BIT_LEVEL], "spi-level"),
	STATE_ARRAY(struct gic, shared[GIC_BIT_ACTIVE], "spi-active"),
	STATE_ARRAY(struct gic, shared[GIC_BIT_EDGE], "spi-edge"),
	STATE_ARRAY(struct gic, priority, "spi-priority"),
	STATE_ARRAY(struct gic, targets, "spi-targets"),
};

static const struct state_field gic_cpu_fields[] = {
	STATE_ARRAY(struct gic_cpu, bank, "banks"),
	STATE_ARRAY(struct gic_cpu, priority, "priority"),
	STATE_ARRAY(struct gic_cpu, sgi_sources, "sgi-sources"),
	STATE_FIELD(struct gic_cpu, ctlr, "ctlr", 0),
	STATE_FIELD(struct gic_cpu, pmr, "pmr", 0),
	STATE_FIELD(struct gic_cpu, bpr, "bpr", 0),
	STATE_FIELD(struct gic_cpu, abpr, "abpr", 0),
	STATE_FIELD(struct gic_cpu, apr, "apr", 0),
	/* the IRQ/FIQ output levels, re-driven by load */
	STATE_FIELD(struct gic_cpu, irq_out, "irq-out", 1),
	STATE_FIELD(struct gic_cpu, fiq_out, "fiq-out", 1),
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

static int gic_dev_save(void *state, struct vmm_state_out *out)
{
	struct gic_dev *d = state;
	const struct vmm_host *h = d->h;
	const struct gic *g = &d->gic;
	char prefix[16];
	int rc;

	if (d->kernel) {
		rc = vmm_state_put_u8(h, out, "kernel", 1);
		rc = rc ? rc : vmm_state_put_u32(h, out, "version", d->version);
		return rc ? rc : vmm_state_put_u32(h, out, "irqs", d->kernel_irqs);
	}
	rc = state_fields_save(h, out, NULL, gic_size_fields, NFIELDS(gic_size_fields), g);
	rc = rc ? rc : state_fields_save(h, out, NULL, gic_dist_fields, NFIELDS(gic_dist_fields), g);
	for (unsigned cpu = 0; !rc && cpu < g->nr_cpus; cpu++) {
		snprintf(prefix, sizeof(prefix), "cpu%u.", cpu);
		rc = state_fields_save(h, out, prefix, gic_cpu_fields, NFIELDS(gic_cpu_fields), &g->cpu[cpu]);
	}
	return rc;
}

static int gic_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct gic_dev *d = state;
	const struct vmm_host *h = d->h;
	char prefix[16];
	struct gic *s;
	const char *bad;
	int bad_cpu, rc;

	rc = state_version_check(h, version, GIC_STATE_VERSION);
	if (rc)
		return rc;
	uint8_t kernel = 0;
	uint32_t ver = 0, irqs = 0;
	bool saved_kernel = h->state_get(h, in, "kernel", NULL, 0) >= 0;
	if (saved_kernel != d->kernel) {
		h->log(h, VMM_LOG_ERROR, "saved state of a GIC of mode \"%s\", this one's is \"%s\"; "
		       "record refused", saved_kernel ? "kernel" : "emulated", d->kernel ? "kernel" : "emulated");
		return -EPROTO;
	}
	if (d->kernel) { /* the state itself is in the hypervisor's VM record */
		if (vmm_state_get_u8(h, in, "kernel", &kernel) || kernel != 1 ||
		    vmm_state_get_u32(h, in, "version", &ver) || vmm_state_get_u32(h, in, "irqs", &irqs) ||
		    ver != d->version || irqs != d->kernel_irqs) {
			h->log(h, VMM_LOG_ERROR, "saved state of an in-kernel GICv%u of %u INTIDs, this one is "
			       "a GICv%u of %u; record refused", ver, irqs, d->version, d->kernel_irqs);
			return -EPROTO;
		}
		return 0;
	}
	/* Everything into scratch, checked by gic_restore(), then committed. */
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = state_fields_load(h, in, NULL, gic_size_fields, NFIELDS(gic_size_fields), s);
	if (!rc && s->nr_cpus != d->gic.nr_cpus) {
		h->log(h, VMM_LOG_ERROR, "saved state field cpus: %u, but this GIC serves %u; "
		       "record refused", s->nr_cpus, d->gic.nr_cpus);
		rc = -EINVAL;
	}
	rc = rc ? rc : state_fields_load(h, in, NULL, gic_dist_fields, NFIELDS(gic_dist_fields), s);
	for (unsigned cpu = 0; !rc && cpu < s->nr_cpus; cpu++) {
		snprintf(prefix, sizeof(prefix), "cpu%u.", cpu);
		rc = state_fields_load(h, in, prefix, gic_cpu_fields, NFIELDS(gic_cpu_fields), &s->cpu[cpu]);
	}
	if (!rc) {
		rc = gic_restore(&d->gic, s, &bad, &bad_cpu);
		if (rc && bad_cpu >= 0)
			h->log(h, VMM_LOG_ERROR, "saved state field cpu%d.%s: not a value this GIC can "
			       "hold; record refused", bad_cpu, bad);
		else if (rc)
			h->log(h, VMM_LOG_ERROR, "saved state field %s: not a value this GIC can "
			       "hold; record refused", bad);
	}
	free(s);
	return rc;
}

static const struct vmm_device_ops gic_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = gic_dev_create,
	.destroy = gic_dev_destroy,
	.reset = gic_dev_reset,
	.ready = gic_dev_ready,
	.state_version = GIC_STATE_VERSION,
	.save = gic_dev_save,
	.load = gic_dev_load,
};

static const char *const gic_modes[] = { "emulated", "kernel", NULL };
static const char *const gic_versions[] = { "2", "3", NULL };

static const struct vmm_prop_desc gic_dev_props[] = {
	{ .name = "mode", .type = VMM_PROP_ENUM, .choices = gic_modes,
	  .help = "emulated: a GICv2 in this plugin (needs the hypervisor's irqchip = "
		  "\"emulated\"); kernel: the hypervisor's in-kernel GIC (irqchip = \"kernel\"); "
		  "unset: what the hypervisor's irqchip says" },
	{ .name = "version", .type = VMM_PROP_ENUM, .choices = gic_versions,
	  .help = "GIC architecture version: 3 (mode kernel's default) or 2 (emulated: only 2)" },
	{ .name = "dist-base", .type = VMM_PROP_INT, .def_int = 0x08000000, .min = 0,
	  .max = INT64_MAX, .help = "guest-physical address of the distributor (GICD: 4 KiB in "
				    "v2, 64 KiB in v3)" },
	{ .name = "cpu-base", .type = VMM_PROP_INT, .def_int = 0x08010000, .min = 0,
	  .max = INT64_MAX, .help = "version 2: guest-physical address of the CPU interface's "
				    "8 KiB (GICC)" },
	{ .name = "redist-base", .type = VMM_PROP_INT, .def_int = 0x080a0000, .min = 0,
	  .max = INT64_MAX, .help = "version 3: guest-physical address of the redistributors, "
				    "128 KiB per vCPU, 64 KiB-aligned (GICR)" },
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
	.summary = "ARM GIC (arm64): a GICv2 emulated in userspace, or the hypervisor's "
		   "in-kernel GICv3/v2",
	.props = gic_dev_props,
	.ops = &gic_dev_ops,
};

VMM_PLUGIN_DEFINE(gic_plugin)
