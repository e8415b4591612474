/* SPDX-License-Identifier: MIT */
/*
 * devices/gic/gic-model.h - a GICv2 distributor and CPU interfaces, the
 * register model.
 *
 * This file knows registers and interrupt states and nothing else: no
 * host table, no bus.  Whoever embeds it (the gic plugin, or a test)
 * supplies the per-CPU IRQ and FIQ outputs through struct gic_ops, drives
 * the interrupt inputs with gic_set_spi() and gic_set_ppi(), and forwards
 * register accesses with the accessing CPU's number.  Register facts
 * follow the ARM Generic Interrupt Controller Architecture Specification,
 * GIC architecture version 2.0, ARM IHI 0048B ("spec, 4.3.x" names its
 * section); the implementation has no Security Extensions, so every
 * access is the one the spec calls "Secure" (GICD_CTLR and GICC_CTLR have
 * both group enables; GICD_NSACR is RAZ/WI).
 */
#ifndef GIC_MODEL_H
#define GIC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

/* Distributor registers (spec, 4.1.2, Table 4-1). */
#define GICD_CTLR        0x000
#define GICD_TYPER       0x004
#define GICD_IIDR        0x008
#define GICD_IGROUPR     0x080 /* ... 0x0fc */
#define GICD_ISENABLER   0x100
#define GICD_ICENABLER   0x180
#define GICD_ISPENDR     0x200
#define GICD_ICPENDR     0x280
#define GICD_ISACTIVER   0x300
#define GICD_ICACTIVER   0x380
#define GICD_IPRIORITYR  0x400 /* ... 0x7fb, byte-accessible */
#define GICD_ITARGETSR   0x800 /* ... 0xbfb, byte-accessible */
#define GICD_ICFGR       0xc00 /* ... 0xcfc */
#define GICD_NSACR       0xe00 /* ... 0xefc, RAZ/WI here */
#define GICD_SGIR        0xf00
#define GICD_CPENDSGIR   0xf10 /* ... 0xf1f, byte-accessible */
#define GICD_SPENDSGIR   0xf20 /* ... 0xf2f, byte-accessible */
#define GICD_PIDR4       0xfd0 /* identification registers 0xfd0-0xffc */
#define GICD_PIDR2       0xfe8
#define GICD_SIZE        0x1000

#define GICD_CTLR_ENABLE_GRP0 (1u << 0)
#define GICD_CTLR_ENABLE_GRP1 (1u << 1)

#define GICD_SGIR_FILTER_SHIFT 24
#define GICD_SGIR_LIST         0u /* the CPUTargetList field */
#define GICD_SGIR_OTHERS       1u /* every CPU interface but the requester's */
#define GICD_SGIR_SELF         2u /* the requester's only */
#define GICD_SGIR_TARGETS_SHIFT 16

/* CPU interface registers (spec, 4.1.3, Table 4-2). */
#define GICC_CTLR   0x000
#define GICC_PMR    0x004
#define GICC_BPR    0x008
#define GICC_IAR    0x00c
#define GICC_EOIR   0x010
#define GICC_RPR    0x014
#define GICC_HPPIR  0x018
#define GICC_ABPR   0x01c
#define GICC_AIAR   0x020
#define GICC_AEOIR  0x024
#define GICC_AHPPIR 0x028
#define GICC_APR0   0x0d0
#define GICC_NSAPR0 0x0e0
#define GICC_IIDR   0x0fc
#define GICC_DIR    0x1000
#define GICC_SIZE   0x2000

/* GICC_CTLR without Security Extensions (spec, 4.4.1). */
#define GICC_CTLR_ENABLE_GRP0 (1u << 0)
#define GICC_CTLR_ENABLE_GRP1 (1u << 1)
#define GICC_CTLR_ACKCTL      (1u << 2)
#define GICC_CTLR_FIQEN       (1u << 3)
#define GICC_CTLR_CBPR        (1u << 4)
#define GICC_CTLR_BYPASS      (0xfu << 5) /* FIQBypDisGrp0 ... IRQBypDisGrp1: stored */
#define GICC_CTLR_EOIMODES    (1u << 9)  /* Group 0 */
#define GICC_CTLR_EOIMODENS   (1u << 10) /* Group 1 */
#define GICC_CTLR_MASK        0x7ffu

#define GIC_INTID_SPURIOUS    1023u
#define GIC_INTID_GRP1_NO_ACK 1022u /* Group 1 highest, AckCtl clear */
#define GIC_IAR_CPUID_SHIFT   10

#define GIC_NR_SGIS       16u
#define GIC_NR_PRIVATE    32u  /* SGIs 0-15, PPIs 16-31 */
#define GIC_MAX_CPUS      8u
#define GIC_MAX_IRQS      1020u /* INTIDs 0-1019; 1020-1023 are special */
#define GIC_MAX_SPIS      (GIC_MAX_IRQS - GIC_NR_PRIVATE) /* 988 */

/* Priority bits implemented: 5 (32 levels, as a GIC-400), so the low 3
 * bits of every priority field and of GICC_PMR read as zero, GICC_BPR's
 * minimum is 2 and GICC_ABPR's 3 (spec, 3.3.3 and 4.4.3). */
#define GIC_PRIO_BITS 5u
#define GIC_PRIO_MASK ((0xffu << (8 - GIC_PRIO_BITS)) & 0xffu) /* 0xf8 */
#define GIC_BPR_MIN   (7u - GIC_PRIO_BITS)                     /* 2 */
#define GIC_IDLE_PRIORITY 0xffu

/* Identification: ARM's JEP106 code as implementer (0x43b), product 0,
 * revision 0; GICC_IIDR bits 19:16 the architecture version, 2. */
#define GICD_IIDR_VALUE 0x0000043bu
#define GICC_IIDR_VALUE 0x0002043bu

/* What the model needs from its surroundings. */
struct gic_ops {
	/* Drive CPU interface @cpu's IRQ (or FIQ) output.  Called only when
	 * the level changes. */
	void (*set_irq)(void *opaque, unsigned cpu, int level);
	void (*set_fiq)(void *opaque, unsigned cpu, int level); /* may be NULL */
};

/* Per-interrupt bit kinds; SGIs and PPIs are banked per CPU, SPIs
 * shared. */
enum gic_bit {
	GIC_BIT_ENABLE,
	GIC_BIT_GROUP,   /* 1: Group 1 */
	GIC_BIT_LATCH,   /* pending, by an edge or a GICD_ISPENDR write */
	GIC_BIT_LEVEL,   /* the input line as last driven */
	GIC_BIT_ACTIVE,
	GIC_BIT_EDGE,    /* configuration: 1 edge-triggered, 0 level-sensitive */
	GIC_BIT__COUNT
};

struct gic_cpu {
	uint32_t bank[GIC_BIT__COUNT];     /* INTIDs 0-31 */
	uint8_t priority[GIC_NR_PRIVATE];
	uint8_t sgi_sources[GIC_NR_SGIS];  /* pending SGI n: a bit per source CPU */
	uint32_t ctlr, pmr, bpr, abpr;
	/* Active priorities (GICC_APR0): a bit per preemption level, the
	 * group priority of each acknowledged interrupt not yet dropped. */
	uint32_t apr;
	int irq_out, fiq_out;
};

struct gic {
	unsigned nr_cpus;  /* 1-8 */
	unsigned nr_irqs;  /* 32 * (ITLinesNumber + 1), at most 1020 */
	uint32_t dctlr;
	uint32_t shared[GIC_BIT__COUNT][GIC_MAX_IRQS / 32 + 1]; /* word 0 unused */
	uint8_t priority[GIC_MAX_IRQS];  /* SPIs */
	uint8_t targets[GIC_MAX_IRQS];   /* SPIs */
	struct gic_cpu cpu[GIC_MAX_CPUS];
	const struct gic_ops *ops;
	void *opaque;
	uint64_t guest_errors;           /* accesses refused, counted */
};

/* @nr_cpus 1-8 and @nr_spis, rounded up to a multiple of 32 (at least
 * 32), are clamped: INTIDs stop at 1019 (GIC_MAX_IRQS), the last line of
 * 32 then having 28.  Resets. */
void gic_init(struct gic *g, const struct gic_ops *ops, void *opaque, unsigned nr_cpus,
	      unsigned nr_spis);
/* Every register to its reset value; input levels are kept (they are the
 * devices', not the GIC's) and pending again where level-sensitive. */
void gic_reset(struct gic *g);

/* Register accesses by CPU interface @cpu, @size 1, 2 or 4 bytes at
 * @offset in the distributor's 4 KiB or the CPU interface's 8 KiB.
 * False for an access the spec does not allow (a size the register does
 * not take, an unaligned offset, a reserved or read-only or write-only
 * register, a bad value): reads then return 0, writes are ignored, and
 * guest_errors counts it. */
bool gic_dist_read(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t *value);
bool gic_dist_write(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t value);
bool gic_cpu_read(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t *value);
bool gic_cpu_write(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t value);

/* Input lines: SPI @intid (32 up to nr_irqs - 1), or PPI @intid (16-31)
 * of CPU @cpu.  A level-sensitive interrupt is pending while its line is
 * high; an edge-triggered one becomes pending on a rising edge.  False
 * for an INTID out of range. */
bool gic_set_spi(struct gic *g, unsigned intid, int level);
bool gic_set_ppi(struct gic *g, unsigned cpu, unsigned intid, int level);

/* Take the saved state in @s as @g's (a restore): nr_cpus, nr_irqs,
 * dctlr, shared, priority, targets and cpu[0 .. nr_cpus - 1] but its ops.
 * Everything is checked first: on a value this GIC could not hold (another
 * CPU or INTID count, a bit for an INTID past nr_irqs, a target or SGI
 * source CPU past nr_cpus, reserved bits, a binary point below its minimum)
 * returns -EINVAL with *bad naming the field (and *bad_cpu its CPU, or -1),
 * @g untouched.  Otherwise drives every CPU's IRQ and FIQ outputs at the
 * saved levels, then as the state gives them. */
int gic_restore(struct gic *g, const struct gic *s, const char **bad, int *bad_cpu);

/* For tests and debugging: the interrupt's state as CPU @cpu sees it. */
bool gic_is_pending(const struct gic *g, unsigned cpu, unsigned intid);
bool gic_is_active(const struct gic *g, unsigned cpu, unsigned intid);

#endif /* GIC_MODEL_H */
