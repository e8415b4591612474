/* core/fdt.h - the flattened device tree an arm64 guest boots with.
 *
 * The device-tree counterpart of core/acpi.h: devices describe themselves
 * with h->describe() (vmm/host.h) and this module turns the descriptions,
 * plus what the machine knows (RAM, vCPUs, GIC, timer, PSCI, boot
 * arguments), into a DTB a Linux arm64 kernel accepts.  It knows nothing of
 * plugins, KVM or the machine runtime, so tests drive it with plain arrays.
 *
 * Who calls it: the arm64 boot path (core/arch-arm64.c) fills a struct vmm_fdt_machine from the machine
 * (RAM regions, each vCPU's MPIDR_EL1, the gic and arm-timer plugins'
 * descriptions, the devices' descriptions), build the blob and copy it into
 * guest RAM for the kernel (x0 holds its address, arm64 booting.rst);
 * `vmmctl run|check --dump-dtb FILE` writes the same blob to a file.
 *
 * Conventions this module defines for arm64 machines:
 *
 * - IRQ lines are GIC INTIDs.  A VMM_RES_IRQ resource's `base` on arm64 is
 *   the interrupt's INTID as the GIC architecture numbers it: 0-15 SGIs,
 *   16-31 PPIs, 32-1019 SPIs (GICv3 spec, 2.2).  KVM_IRQ_LINE's SPI
 *   irq_id uses the same numbers.  Devices have SPIs, so a device line must
 *   be 32 or more; its device-tree specifier is <0 (INTID - 32) flags>.
 *   VMM_RES_IRQ_LEVEL gives level-high (4), else rising edge (1);
 *   VMM_RES_IRQ_ACTIVE_LOW is refused, since a GIC SPI is active-high or
 *   rising-edge only (arm,gic.yaml, arm,gic-v3.yaml).  VMM_RES_IRQ_SHARED
 *   needs nothing: two nodes may name the same SPI.
 *
 * - fdt_compatible is a list: one or more compatible strings separated by
 *   single spaces, most specific first, e.g. "arm,pl011 arm,primecell".
 *   It becomes the `compatible` string list in that order (Devicetree
 *   Specification v0.4, 2.3.1).  An empty list, an empty entry (leading,
 *   trailing or doubled space) or a character outside printable ASCII is
 *   refused.  A description without fdt_compatible (NULL) gets no node.
 *
 * - Node names are <generic-name>@<first MMIO base in hex> (2.2.1, 2.2.2):
 *   "serial" for a UART (pl011, 16550/8250, a model with a "uart" word),
 *   "rtc" for a pl031 or a model with an "rtc" word, "virtio_mmio" for
 *   virtio,mmio; the first entry of the list that is one of these decides.
 *   Otherwise the part of the first compatible after its comma
 *   ("acme,widget" -> "widget"), which must then be a valid node name.
 *
 * - A PrimeCell device ("arm,primecell" in its list) gets `clocks` and
 *   `clock-names` on the machine's fixed APB clock: "uartclk" and
 *   "apb_pclk" for a pl011 (pl011.yaml), "apb_pclk" for others (pl031):
 *   Linux's AMBA bus will not probe a PrimeCell without apb_pclk.
 *
 * - Every device node is `dma-coherent` (DT spec 2.3.9): a device the VMM
 *   emulates reaches guest RAM through the host's cacheable mapping.
 *
 * Error convention: 0 or a negative errno; `err` holds one line naming the
 * device or the part of the machine whose description is unusable.
 */
#ifndef VMM_CORE_FDT_H
#define VMM_CORE_FDT_H

#include <stddef.h>
#include <stdint.h>
#include <vmm/host.h>

/* arm64 booting.rst: the DTB must not exceed 2 MiB. */
#define VMM_FDT_MAX_SIZE (2u << 20)

/* A guest-physical range [base, base + size). */
struct vmm_fdt_region {
	uint64_t base;
	uint64_t size;
};

/* The interrupt controller, as the gic plugin describes it: the frames it
 * placed (for an in-kernel vGIC, the addresses it gave KVM_DEV_ARM_VGIC_GRP_ADDR).
 * How the plugin hands this to the core (say a VMM_DESC_GIC description)
 * is the arm64 integration's choice; this is what the tree needs. */
struct vmm_fdt_gic {
	unsigned version;                    /* 2 (GICv2) or 3 (GICv3); 0: none, for a
					      * guest that polls (issue 10's first light):
					      * no GIC, no interrupt-parent, no timer node,
					      * and device nodes without `interrupts`
					      * (their IRQs are still checked as SPIs) */
	struct vmm_fdt_region dist;          /* GICD */
	struct vmm_fdt_region cpu_if;        /* GICv2: GICC; GICv3: unused */
	const struct vmm_fdt_region *redist; /* GICv3: GICR regions, in order */
	unsigned nredist;                    /* GICv3: 1 or more */
	uint32_t nr_irqs;                    /* INTIDs the distributor implements,
					      * 32 * (GICD_TYPER.ITLinesNumber + 1);
					      * 0: every SPI up to 1019 */
};

enum vmm_fdt_psci_method {
	VMM_FDT_PSCI_HVC = 0, /* HVC #0: KVM's PSCI for its guests */
	VMM_FDT_PSCI_SMC = 1,
};

/* PSCI_VERSION's encoding: major in bits 31:16, minor in 15:0. */
#define VMM_FDT_PSCI_VERSION(major, minor) ((uint32_t)(major) << 16 | (uint32_t)(minor))

/* The architected timer's PPIs as INTIDs (16-31), in the binding's order. */
enum vmm_fdt_timer_irq {
	VMM_FDT_TIMER_SEC_PHYS = 0, /* default INTID 29 (PPI 13) */
	VMM_FDT_TIMER_PHYS = 1,     /* default INTID 30 (PPI 14) */
	VMM_FDT_TIMER_VIRT = 2,     /* default INTID 27 (PPI 11) */
	VMM_FDT_TIMER_HYP = 3,      /* default INTID 26 (PPI 10) */
};

struct vmm_fdt_machine {
	const char *model;                /* NULL: "vmm,arm64-virt" */
	const struct vmm_fdt_region *ram; /* one /memory node each; at least one */
	unsigned nram;
	/* One vCPU each: MPIDR_EL1 as the vCPU reports it; only the affinity
	 * fields (Aff3 in 39:32, Aff2-Aff0 in 23:0) reach the tree. */
	const uint64_t *mpidr;
	unsigned nvcpus;
	enum vmm_fdt_psci_method psci_method;
	uint32_t psci_version;            /* VMM_FDT_PSCI_VERSION(1, 0) or (0, 2); 0.1 is refused */
	struct vmm_fdt_gic gic;
	uint32_t timer_irq[4];            /* enum vmm_fdt_timer_irq; all 0: the defaults */
	uint32_t apb_clock_hz;            /* the PrimeCells' fixed clock; 0: 24 MHz */
	const char *bootargs;             /* NULL: no bootargs */
	/* The console: one of descs[] (NULL: no stdout-path) and the options
	 * after the path, e.g. "115200n8" (NULL: none). */
	const struct vmm_device_desc *stdout_dev;
	const char *stdout_options;
	uint64_t initrd_start, initrd_end; /* [start, end); both 0: no initrd */
	const struct vmm_device_desc *descs; /* deep copies owned by the caller */
	size_t ndescs;
	const char *const *desc_names;    /* optional: a name per desc for messages */
};

/* Build the DTB into a malloc'd buffer: *blob (free() it) of *size bytes,
 * at most VMM_FDT_MAX_SIZE.  -EINVAL for an unusable description, -ENOSPC
 * when the tree outgrows VMM_FDT_MAX_SIZE, -ENOMEM. */
int vmm_fdt_build(const struct vmm_fdt_machine *m, void **blob, size_t *size, char *err,
		  size_t errlen);

/* Pieces, exposed for unit tests. */

/* "a b c" -> "a\0b\0c\0" in out (a property value); its length in *len.
 * -EINVAL for a malformed list, -ENOSPC when out is too small. */
int vmm_fdt_compatible_list(const char *list, char *out, size_t room, size_t *len);
/* The generic node name for a compatible list (see above) into out;
 * -EINVAL when the list is malformed or the name is not a valid node name. */
int vmm_fdt_generic_name(const char *list, char *out, size_t room);

#endif
