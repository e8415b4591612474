/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-arm64-vgic.c - the in-kernel vGICv3's state as a
 * record field (kvm-arm64-vgic.h): the walk, save, checks and load.  No
 * KVM here: the attribute accesses go through struct a64_vgic_io.
 *
 * What is saved (Documentation/virt/kvm/devices/arm-vgic-v3.rst, "Groups",
 * and Linux 6.1 arch/arm64/kvm/vgic/vgic-mmio-v3.c, the registers with a
 * user access), for the guest's interrupts to survive: whether each is
 * enabled, pending, active, its group, priority, edge/level configuration
 * and routing, the input level of every level-triggered line (the timer
 * PPIs and the devices' SPIs, which irqfds resample), the distributor's
 * and redistributors' controls, and each CPU interface's priority mask,
 * binary points, group enables and active priorities.
 *  - distributor (KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 32-bit accesses at the
 *    offset): GICD_IIDR, GICD_CTLR, GICD_STATUSR, and for the SPIs
 *    GICD_IGROUPR, GICD_ISENABLER, GICD_IPRIORITYR, GICD_IROUTER (64-bit:
 *    two halves, as arm-vgic-v3.rst asks of 64-bit registers), GICD_ICFGR,
 *    GICD_ISPENDR, GICD_ISACTIVER.  GICD_TYPER is read-only: KVM_DEV_ARM_
 *    VGIC_GRP_NR_IRQS, checked apart, says the same.  GICD_IGRPMODR and
 *    the non-secure access registers do not exist for a VM (KVM's vGIC
 *    has one security state: GICD_CTLR.DS reads 1).
 *  - each redistributor (KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, attr = the
 *    vCPU's affinity << 32 | offset): GICR_CTLR, GICR_STATUSR, GICR_WAKER,
 *    and in the SGI_base frame the SGIs' and PPIs' IGROUPR0, ISENABLER0,
 *    IPRIORITYR0-7, ICFGR0-1, ISPENDR0, ISACTIVER0.  GICR_PROPBASER and
 *    GICR_PENDBASER only matter with LPIs, that is with an ITS, which this
 *    VMM does not create (kvm-arm64-state.c refuses a VM that has one).
 *  - each CPU interface (KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, 64-bit):
 *    ICC_SRE_EL1, ICC_CTLR_EL1, ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1,
 *    ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1, and the ICC_AP0Rn/AP1Rn_EL1 its
 *    ICC_CTLR_EL1.PRIbits implies (KVM refuses the others).
 *  - line levels (KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, VGIC_LEVEL_INFO_LINE_
 *    LEVEL): per vCPU the PPIs' word (INTID 0), and each SPI word once.
 *
 * Pending and active are read and written with arm-vgic-v3.rst's user
 * semantics: GICD_ISPENDR/GICR_ISPENDR0 give and set the pending latch
 * itself (set and clear: its ICPENDR twins are RAZ/WI to userspace), not
 * the guest's view, which ORs in the line level; so the level goes in its
 * own group.  ISACTIVER only sets, so ICACTIVER clears first (and
 * ICENABLER before ISENABLER), making a load set the whole state whatever
 * the vGIC held before.
 *
 * The load order (each step's reason; QEMU's hw/intc/arm_gicv3_kvm.c
 * kvm_arm_gicv3_put takes the same steps, a reference for ordering only):
 *  1. GICD_IIDR first: arm-vgic-v3.rst asks userspace to write the value
 *     it read before any other register, so KVM behaves as the saved
 *     implementation revision did (e.g. whether groups are writable).
 *  2. GICD_CTLR next, the distributor before the redistributors: with
 *     ARE (RAO in KVM) the redistributors' SGI/PPI registers are the ones
 *     that count, and GICD_CTLR.EnableGrp1 gates what a restored pending
 *     interrupt may signal (vgic_mmio_write_v3_misc).
 *  3. each redistributor, then the SPIs, each as: group, enable (clear
 *     then set), priority and routing (GICD_IROUTER: "targets before
 *     pending", so a restored pending SPI is queued on the vCPU it is
 *     routed to), configuration (ICFGR: edge or level, before anything
 *     pending, so the pending state is judged by the right trigger), the
 *     line level (before the pending latch: a level-triggered interrupt
 *     is pending by its latch OR its level, and the level is what KVM
 *     samples when the latch is written), the pending latch, active.
 *  4. each CPU interface: ICC_SRE_EL1 first (arm-vgic-v3.rst: SRE is RAO;
 *     a record saying otherwise is refused here, before the rest),
 *     ICC_CTLR_EL1 before the binary points and active priorities (its
 *     CBPR decides whether ICC_BPR1_EL1 is its own, and KVM takes its
 *     PRIbits as the number of active-priority registers that exist:
 *     vgic-sys-reg-v3.c set_gic_ctlr, access_gic_aprn), then PMR, BPR0,
 *     BPR1, the group enables, and the active priorities last.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisors/kvm/kvm-arm64-vgic.h"

uint64_t a64_vgic_attr(const struct a64_vgic_reg *r, uint64_t mpidr)
{
	/* MPIDR_EL1: Aff3 in bits 39:32, Aff2-Aff0 in 23:0; the attr wants
	 * them packed Aff3:Aff2:Aff1:Aff0 (arm-vgic-v3.rst). */
	uint64_t aff = (mpidr >> 32 & 0xff) << 24 | (mpidr & 0xffffff);

	switch (r->group) {
	case A64_VGIC_GRP_DIST_REGS:
		return r->reg;
	case A64_VGIC_GRP_LEVEL_INFO:
		return aff << A64_VGIC_MPIDR_SHIFT |
		       (uint64_t)A64_VGIC_LEVEL_INFO_LINE_LEVEL << A64_VGIC_LEVEL_INFO_SHIFT | r->reg;
	default:
		return aff << A64_VGIC_MPIDR_SHIFT | r->reg;
	}
}

unsigned a64_vgic_aprs(uint64_t ctlr)
{
	unsigned pribits = (unsigned)((ctlr >> 8) & 7) + 1; /* ICC_CTLR_EL1.PRIbits */

	return pribits >= 7 ? 4 : pribits == 6 ? 2 : 1;
}

struct walk {
	struct a64_vgic_reg *r;
	size_t n, cap;
	int err;
};

static void add(struct walk *w, uint8_t group, uint16_t cpu, uint32_t reg, uint8_t width, uint32_t clear)
{
	if (w->err)
		return;
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 256;
		struct a64_vgic_reg *p = realloc(w->r, ncap * sizeof(*p));

		if (!p) {
			w->err = -ENOMEM;
			return;
		}
		w->r = p;
		w->cap = ncap;
	}
	w->r[w->n++] = (struct a64_vgic_reg){ .group = group, .width = width, .cpu = cpu, .reg = reg,
					      .clear = clear };
}

#define DIST(off) add(&w, A64_VGIC_GRP_DIST_REGS, 0, (off), 4, 0)
#define DIST_SC(off, clr) add(&w, A64_VGIC_GRP_DIST_REGS, 0, (off), 4, (clr))
#define RDIST(c, off) add(&w, A64_VGIC_GRP_REDIST_REGS, (uint16_t)(c), (off), 4, 0)
#define RDIST_SC(c, off, clr) add(&w, A64_VGIC_GRP_REDIST_REGS, (uint16_t)(c), (off), 4, (clr))
#define ICC(c, reg) add(&w, A64_VGIC_GRP_CPU_SYSREGS, (uint16_t)(c), (reg), 8, 0)
#define LEVEL(c, intid) add(&w, A64_VGIC_GRP_LEVEL_INFO, (uint16_t)(c), (intid), 4, 0)

int a64_vgic_walk(uint32_t nr_irqs, unsigned ncpus, const unsigned *aprs,
		  struct a64_vgic_reg **out, size_t *n)
{
	struct walk w = { 0 };
	uint32_t words = nr_irqs / 32; /* 32 INTIDs a word, word 0 the SGIs and PPIs */

	if (nr_irqs < A64_VGIC_MIN_IRQS || nr_irqs > A64_VGIC_MAX_IRQS || nr_irqs % 32 || !ncpus ||
	    ncpus > 0xffff)
		return -EINVAL;
	/* 1, 2: the distributor's identification and controls. */
	DIST(GICD_IIDR);
	DIST(GICD_CTLR);
	DIST(GICD_STATUSR);
	/* 3: each redistributor, its SGIs and PPIs. */
	for (unsigned c = 0; c < ncpus; c++) {
		RDIST(c, GICR_CTLR);
		RDIST(c, GICR_STATUSR);
		RDIST(c, GICR_WAKER);
		RDIST(c, GICR_IGROUPR0);
		RDIST_SC(c, GICR_ISENABLER0, GICR_ICENABLER0);
		for (uint32_t i = 0; i < 8; i++)
			RDIST(c, GICR_IPRIORITYR0 + 4 * i);
		RDIST(c, GICR_ICFGR0);
		RDIST(c, GICR_ICFGR1);
		LEVEL(c, 0);
		RDIST(c, GICR_ISPENDR0);
		RDIST_SC(c, GICR_ISACTIVER0, GICR_ICACTIVER0);
	}
	/* 3: the SPIs, one kind of register at a time over all of them. */
	for (uint32_t k = 1; k < words; k++)
		DIST(GICD_IGROUPR + 4 * k);
	for (uint32_t k = 1; k < words; k++)
		DIST_SC(GICD_ISENABLER + 4 * k, GICD_ICENABLER + 4 * k);
	for (uint32_t k = 8; k < nr_irqs / 4; k++)          /* 4 INTIDs a register */
		DIST(GICD_IPRIORITYR + 4 * k);
	for (uint32_t intid = 32; intid < nr_irqs; intid++)
		add(&w, A64_VGIC_GRP_DIST_REGS, 0, GICD_IROUTER + 8 * intid, 8, 0);
	for (uint32_t k = 2; k < nr_irqs / 16; k++)         /* 16 INTIDs a register */
		DIST(GICD_ICFGR + 4 * k);
	for (uint32_t k = 1; k < words; k++)
		LEVEL(0, 32 * k);
	for (uint32_t k = 1; k < words; k++)
		DIST(GICD_ISPENDR + 4 * k);
	for (uint32_t k = 1; k < words; k++)
		DIST_SC(GICD_ISACTIVER + 4 * k, GICD_ICACTIVER + 4 * k);
	/* 4: each CPU interface. */
	for (unsigned c = 0; c < ncpus; c++) {
		ICC(c, ICC_SRE_EL1);
		ICC(c, ICC_CTLR_EL1);
		ICC(c, ICC_PMR_EL1);
		ICC(c, ICC_BPR0_EL1);
		ICC(c, ICC_BPR1_EL1);
		ICC(c, ICC_IGRPEN0_EL1);
		ICC(c, ICC_IGRPEN1_EL1);
		for (unsigned i = 0; i < aprs[c] && i < 4; i++)
			ICC(c, ICC_AP0R_EL1(i));
		for (unsigned i = 0; i < aprs[c] && i < 4; i++)
			ICC(c, ICC_AP1R_EL1(i));
	}
	if (w.err) {
		free(w.r);
		return w.err;
	}
	*out = w.r;
	*n = w.n;
	return 0;
}

static const struct {
	uint32_t off, len, step;
	const char *name;
} dist_names[] = {
	{ GICD_CTLR, 4, 4, "GICD_CTLR" }, { GICD_TYPER, 4, 4, "GICD_TYPER" },
	{ GICD_IIDR, 4, 4, "GICD_IIDR" }, { GICD_STATUSR, 4, 4, "GICD_STATUSR" },
	{ GICD_IGROUPR, 0x80, 4, "GICD_IGROUPR" }, { GICD_ISENABLER, 0x80, 4, "GICD_ISENABLER" },
	{ GICD_ICENABLER, 0x80, 4, "GICD_ICENABLER" }, { GICD_ISPENDR, 0x80, 4, "GICD_ISPENDR" },
	{ GICD_ISACTIVER, 0x80, 4, "GICD_ISACTIVER" }, { GICD_ICACTIVER, 0x80, 4, "GICD_ICACTIVER" },
	{ GICD_IPRIORITYR, 0x400, 4, "GICD_IPRIORITYR" }, { GICD_ICFGR, 0x100, 4, "GICD_ICFGR" },
	{ GICD_IROUTER, 0x2000, 8, "GICD_IROUTER" },
}, rdist_names[] = {
	{ GICR_CTLR, 4, 4, "GICR_CTLR" }, { GICR_STATUSR, 4, 4, "GICR_STATUSR" },
	{ GICR_WAKER, 4, 4, "GICR_WAKER" }, { GICR_IGROUPR0, 4, 4, "GICR_IGROUPR0" },
	{ GICR_ISENABLER0, 4, 4, "GICR_ISENABLER0" }, { GICR_ICENABLER0, 4, 4, "GICR_ICENABLER0" },
	{ GICR_ISPENDR0, 4, 4, "GICR_ISPENDR0" }, { GICR_ISACTIVER0, 4, 4, "GICR_ISACTIVER0" },
	{ GICR_ICACTIVER0, 4, 4, "GICR_ICACTIVER0" }, { GICR_IPRIORITYR0, 0x20, 4, "GICR_IPRIORITYR" },
	{ GICR_ICFGR0, 8, 4, "GICR_ICFGR" },
};

static const char *icc_name(uint32_t reg, unsigned *n)
{
	*n = 0;
	switch (reg) {
	case ICC_PMR_EL1: return "ICC_PMR_EL1";
	case ICC_BPR0_EL1: return "ICC_BPR0_EL1";
	case ICC_BPR1_EL1: return "ICC_BPR1_EL1";
	case ICC_CTLR_EL1: return "ICC_CTLR_EL1";
	case ICC_SRE_EL1: return "ICC_SRE_EL1";
	case ICC_IGRPEN0_EL1: return "ICC_IGRPEN0_EL1";
	case ICC_IGRPEN1_EL1: return "ICC_IGRPEN1_EL1";
	}
	for (unsigned i = 0; i < 4; i++) {
		*n = i;
		if (reg == ICC_AP0R_EL1(i))
			return "ICC_AP0R%u_EL1";
		if (reg == ICC_AP1R_EL1(i))
			return "ICC_AP1R%u_EL1";
	}
	return NULL;
}

void a64_vgic_reg_name(const struct a64_vgic_reg *r, char *buf, size_t len)
{
	char who[24] = "";
	const char *fmt;
	unsigned n;

	if (r->group != A64_VGIC_GRP_DIST_REGS && !(r->group == A64_VGIC_GRP_LEVEL_INFO && r->reg >= 32))
		snprintf(who, sizeof(who), "vCPU %u's ", r->cpu);
	switch (r->group) {
	case A64_VGIC_GRP_DIST_REGS:
	case A64_VGIC_GRP_REDIST_REGS: {
		bool d = r->group == A64_VGIC_GRP_DIST_REGS;
		size_t count = d ? sizeof(dist_names) / sizeof(dist_names[0])
				 : sizeof(rdist_names) / sizeof(rdist_names[0]);

		for (size_t i = 0; i < count; i++) {
			uint32_t off = d ? dist_names[i].off : rdist_names[i].off;
			uint32_t l = d ? dist_names[i].len : rdist_names[i].len;
			uint32_t step = d ? dist_names[i].step : rdist_names[i].step;
			const char *name = d ? dist_names[i].name : rdist_names[i].name;

			if (r->reg < off || r->reg - off >= l)
				continue;
			if (l == step)
				snprintf(buf, len, "%s%s", who, name);
			else
				snprintf(buf, len, "%s%s%u", who, name, (r->reg - off) / step);
			return;
		}
		snprintf(buf, len, "%s%s offset 0x%x", who, d ? "distributor" : "redistributor", r->reg);
		return;
	}
	case A64_VGIC_GRP_CPU_SYSREGS:
		fmt = icc_name(r->reg, &n);
		if (fmt) {
			char name[24];

			snprintf(name, sizeof(name), fmt, n);
			snprintf(buf, len, "%s%s", who, name);
		} else {
			snprintf(buf, len, "%sCPU system register 0x%04x", who, r->reg);
		}
		return;
	case A64_VGIC_GRP_LEVEL_INFO:
		snprintf(buf, len, "%sline levels of INTIDs %u-%u", who, r->reg, r->reg + 31);
		return;
	default:
		snprintf(buf, len, "vGIC group %u register 0x%x of vCPU %u", r->group, r->reg, r->cpu);
	}
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int vgic_access(const struct a64_vgic_io *io, bool set, const struct a64_vgic_reg *r, uint32_t reg,
		  uint64_t mpidr, uint64_t *val)
{
	struct a64_vgic_reg one = *r;
	int rc;

	one.reg = reg;
	if (r->group == A64_VGIC_GRP_CPU_SYSREGS)
		return io->attr(io->opaque, set, r->group, a64_vgic_attr(&one, mpidr), val);
	if (r->width == 8) { /* two 32-bit halves, low first */
		uint32_t lo = (uint32_t)*val, hi = (uint32_t)(*val >> 32);

		rc = io->attr(io->opaque, set, r->group, a64_vgic_attr(&one, mpidr), &lo);
		one.reg = reg + 4;
		if (!rc)
			rc = io->attr(io->opaque, set, r->group, a64_vgic_attr(&one, mpidr), &hi);
		if (!rc && !set)
			*val = (uint64_t)hi << 32 | lo;
		return rc;
	}
	uint32_t v32 = (uint32_t)*val;

	rc = io->attr(io->opaque, set, r->group, a64_vgic_attr(&one, mpidr), &v32);
	if (!rc && !set)
		*val = v32;
	return rc;
}

static void fail_access(const struct a64_vgic_reg *r, bool set, int rc, char *why, size_t whylen)
{
	char name[64];

	a64_vgic_reg_name(r, name, sizeof(name));
	snprintf(why, whylen, "KVM %s %s: %s", set ? "refused" : "cannot read", name, strerror(-rc));
}

int a64_vgic_check_machine(uint32_t saved_irqs, const uint64_t *saved_mpidr, size_t saved_cpus,
			   uint32_t nr_irqs, const uint64_t *mpidr, unsigned ncpus, char *why,
			   size_t whylen)
{
	if (saved_irqs != nr_irqs) {
		snprintf(why, whylen, "a vGIC of %u INTIDs was saved, this machine's has %u "
			 "(KVM_DEV_ARM_VGIC_GRP_NR_IRQS: the gic device's spis must match)", saved_irqs,
			 nr_irqs);
		return -EPROTO;
	}
	if (saved_cpus != ncpus) {
		snprintf(why, whylen, "the vGIC's saved MPIDRs name %zu vCPUs, the machine has %u",
			 saved_cpus, ncpus);
		return -EPROTO;
	}
	for (unsigned i = 0; i < ncpus; i++)
		if (saved_mpidr[i] != mpidr[i]) {
			snprintf(why, whylen, "vCPU %u's MPIDR_EL1 is 0x%llx, its redistributor was saved "
				 "for 0x%llx", i, (unsigned long long)mpidr[i],
				 (unsigned long long)saved_mpidr[i]);
			return -EPROTO;
		}
	return 0;
}

/* Each vCPU's active-priority register count, from ICC_CTLR_EL1 as KVM
 * gives it (save) or as the record holds it (load: get is NULL). */
static int cpu_aprs(const struct a64_vgic_io *io, const uint64_t *mpidr, unsigned ncpus,
		    const uint8_t *buf, size_t len, unsigned *aprs, char *why, size_t whylen)
{
	for (unsigned c = 0; c < ncpus; c++) {
		struct a64_vgic_reg r = { .group = A64_VGIC_GRP_CPU_SYSREGS, .width = 8,
					  .cpu = (uint16_t)c, .reg = ICC_CTLR_EL1 };
		uint64_t ctlr = 0;
		bool found = false;

		if (io) {
			int rc = vgic_access(io, false, &r, r.reg, mpidr[c], &ctlr);

			if (rc) {
				fail_access(&r, false, rc, why, whylen);
				return rc;
			}
		} else {
			for (size_t off = 0; off + A64_VGIC_ENTRY_BYTES <= len && !found; off += A64_VGIC_ENTRY_BYTES)
				if (get_le64(buf + off) == a64_vgic_key(&r)) {
					ctlr = get_le64(buf + off + 8);
					found = true;
				}
			if (!found) {
				char name[64];

				a64_vgic_reg_name(&r, name, sizeof(name));
				snprintf(why, whylen, "no value for %s", name);
				return -ENOENT;
			}
		}
		aprs[c] = a64_vgic_aprs(ctlr);
	}
	return 0;
}

int a64_vgic_save(const struct a64_vgic_io *io, uint32_t nr_irqs, const uint64_t *mpidr,
		  unsigned ncpus, uint8_t **buf, size_t *len, char *why, size_t whylen)
{
	struct a64_vgic_reg *r = NULL;
	unsigned *aprs = calloc(ncpus ? ncpus : 1, sizeof(*aprs));
	uint8_t *out = NULL;
	size_t n = 0;
	int rc;

	if (!aprs)
		return -ENOMEM;
	rc = cpu_aprs(io, mpidr, ncpus, NULL, 0, aprs, why, whylen);
	if (!rc) {
		rc = a64_vgic_walk(nr_irqs, ncpus, aprs, &r, &n);
		if (rc == -EINVAL)
			snprintf(why, whylen, "a vGIC of %u INTIDs and %u vCPUs cannot be walked", nr_irqs,
				 ncpus);
	}
	if (!rc && !(out = malloc(n * A64_VGIC_ENTRY_BYTES)))
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t v = 0;

		rc = vgic_access(io, false, &r[i], r[i].reg, mpidr[r[i].cpu], &v);
		if (rc) {
			fail_access(&r[i], false, rc, why, whylen);
			break;
		}
		put_le64(out + i * A64_VGIC_ENTRY_BYTES, a64_vgic_key(&r[i]));
		put_le64(out + i * A64_VGIC_ENTRY_BYTES + 8, v);
	}
	if (rc == -ENOMEM)
		snprintf(why, whylen, "out of memory");
	free(aprs);
	free(r);
	if (rc) {
		free(out);
		return rc;
	}
	*buf = out;
	*len = n * A64_VGIC_ENTRY_BYTES;
	return 0;
}

struct kv {
	uint64_t key, val;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The key's register, for a message about an entry the walk lacks. */
static struct a64_vgic_reg key_reg(uint64_t key)
{
	return (struct a64_vgic_reg){ .group = (uint8_t)(key >> 56), .cpu = (uint16_t)(key >> 32),
				      .reg = (uint32_t)key, .width = 4 };
}

int a64_vgic_load(const struct a64_vgic_io *io, uint32_t nr_irqs, const uint64_t *mpidr,
		  unsigned ncpus, const uint8_t *buf, size_t len, char *why, size_t whylen)
{
	struct a64_vgic_reg *r = NULL;
	unsigned *aprs = NULL;
	struct kv *keys = NULL;
	uint64_t *walk_keys = NULL, *vals = NULL;
	size_t n = 0, count = len / A64_VGIC_ENTRY_BYTES;
	char name[64];
	int rc = -EBADMSG;

	if (len % A64_VGIC_ENTRY_BYTES) {
		snprintf(why, whylen, "%zu bytes, not a whole number of %u-byte entries", len,
			 A64_VGIC_ENTRY_BYTES);
		return -EBADMSG;
	}
	aprs = calloc(ncpus ? ncpus : 1, sizeof(*aprs));
	keys = malloc((count ? count : 1) * sizeof(*keys));
	if (!aprs || !keys) {
		rc = -ENOMEM;
		goto nomem;
	}
	for (size_t i = 0; i < count; i++) {
		keys[i].key = get_le64(buf + i * A64_VGIC_ENTRY_BYTES);
		keys[i].val = get_le64(buf + i * A64_VGIC_ENTRY_BYTES + 8);
	}
	/* cmp_u64 compares the key, the first member */
	qsort(keys, count, sizeof(*keys), cmp_u64);
	for (size_t i = 1; i < count; i++)
		if (keys[i].key == keys[i - 1].key) {
			struct a64_vgic_reg k = key_reg(keys[i].key);

			a64_vgic_reg_name(&k, name, sizeof(name));
			snprintf(why, whylen, "%s appears twice", name);
			goto out;
		}
	rc = cpu_aprs(NULL, mpidr, ncpus, buf, len, aprs, why, whylen);
	if (rc)
		goto out;
	rc = a64_vgic_walk(nr_irqs, ncpus, aprs, &r, &n);
	if (rc) {
		if (rc == -ENOMEM)
			goto nomem;
		snprintf(why, whylen, "a vGIC of %u INTIDs and %u vCPUs cannot be walked", nr_irqs, ncpus);
		goto out;
	}
	/* The whole field against the walk before the first write: every
	 * register the walk has, nothing else. */
	walk_keys = malloc(n * sizeof(*walk_keys));
	vals = malloc(n * sizeof(*vals));
	if (!walk_keys || !vals) {
		rc = -ENOMEM;
		goto nomem;
	}
	for (size_t i = 0; i < n; i++) {
		struct kv want = { .key = a64_vgic_key(&r[i]) };
		const struct kv *have = bsearch(&want, keys, count, sizeof(*keys), cmp_u64);

		walk_keys[i] = want.key;
		if (!have) {
			a64_vgic_reg_name(&r[i], name, sizeof(name));
			snprintf(why, whylen, "no value for %s", name);
			rc = -ENOENT;
			goto out;
		}
		vals[i] = have->val;
	}
	qsort(walk_keys, n, sizeof(*walk_keys), cmp_u64);
	for (size_t j = 0; j < count; j++) {
		uint64_t key = get_le64(buf + j * A64_VGIC_ENTRY_BYTES);

		if (!bsearch(&key, walk_keys, n, sizeof(*walk_keys), cmp_u64)) {
			struct a64_vgic_reg k = key_reg(key);

			a64_vgic_reg_name(&k, name, sizeof(name));
			snprintf(why, whylen, "%s is not a register of this vGIC", name);
			rc = -EPROTO;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v = vals[i];

		if (r[i].width == 4 && v >> 32) {
			a64_vgic_reg_name(&r[i], name, sizeof(name));
			snprintf(why, whylen, "%s holds 0x%llx, more than its 32 bits", name,
				 (unsigned long long)v);
			rc = -EBADMSG;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v = vals[i];

		if (r[i].clear) {
			uint64_t c = (uint32_t)~v;

			rc = vgic_access(io, true, &r[i], r[i].clear, mpidr[r[i].cpu], &c);
			if (rc) {
				struct a64_vgic_reg cl = r[i];

				cl.reg = r[i].clear;
				fail_access(&cl, true, rc, why, whylen);
				goto out;
			}
		}
		rc = vgic_access(io, true, &r[i], r[i].reg, mpidr[r[i].cpu], &v);
		if (rc) {
			fail_access(&r[i], true, rc, why, whylen);
			goto out;
		}
	}
	rc = 0;
	goto out;
nomem:
	snprintf(why, whylen, "out of memory");
out:
	free(vals);
	free(walk_keys);
	free(keys);
	free(aprs);
	free(r);
	return rc;
}
