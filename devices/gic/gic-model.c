/* SPDX-License-Identifier: MIT */
/*
 * devices/gic/gic-model.c - a GICv2 distributor and CPU interfaces, the
 * register model (ARM IHI 0048B; "spec, X" names its section).
 *
 * The state is the spec's per-interrupt state machine (inactive, pending,
 * active, active and pending: spec, 1.4.2) kept as bits: an enable, a
 * group, a pending latch (set by an edge or GICD_ISPENDR), the input
 * line's level, an active bit, and the configuration.  A level-sensitive
 * interrupt is pending while its line is high or its latch is set; an
 * edge-triggered one while its latch is set.  SGIs are pending per source
 * CPU (spec, 3.2.3: each source's SGI n is its own pending state), with
 * one active bit per target CPU.
 *
 * Signalling (spec, 3.2.2 and 3.3): after every change the model finds,
 * for each CPU interface, the highest-priority interrupt that is pending,
 * not active, enabled, forwarded (its group enabled in GICD_CTLR and in
 * the CPU's GICC_CTLR) and, for an SPI, targeted at that CPU; it is
 * signalled when its priority is higher than GICC_PMR and its group
 * priority higher than the running priority.  Ties go to the lowest
 * INTID, and among an SGI's sources to the lowest CPU number.  A Group 0
 * interrupt goes to FIQ when GICC_CTLR.FIQEn is set, everything else to
 * IRQ; the outputs are levels, held until the guest acknowledges or the
 * interrupt stops being pending.
 */
#include <errno.h>
#include <string.h>

#include "gic-model.h"

static bool valid_cpu(const struct gic *g, unsigned cpu)
{
	return cpu < g->nr_cpus;
}

static uint32_t *word(struct gic *g, enum gic_bit kind, unsigned cpu, unsigned intid)
{
	return intid < GIC_NR_PRIVATE ? &g->cpu[cpu].bank[kind] : &g->shared[kind][intid / 32];
}

static bool bit(const struct gic *g, enum gic_bit kind, unsigned cpu, unsigned intid)
{
	return (*word((struct gic *)g, kind, cpu, intid) >> (intid % 32)) & 1;
}

static void bit_set(struct gic *g, enum gic_bit kind, unsigned cpu, unsigned intid, bool on)
{
	uint32_t *w = word(g, kind, cpu, intid);

	if (on)
		*w |= 1u << (intid % 32);
	else
		*w &= ~(1u << (intid % 32));
}

static uint8_t *prio_of(struct gic *g, unsigned cpu, unsigned intid)
{
	return intid < GIC_NR_PRIVATE ? &g->cpu[cpu].priority[intid] : &g->priority[intid];
}

bool gic_is_pending(const struct gic *g, unsigned cpu, unsigned intid)
{
	if (!valid_cpu(g, cpu) || intid >= g->nr_irqs)
		return false;
	if (intid < GIC_NR_SGIS)
		return g->cpu[cpu].sgi_sources[intid] != 0;
	if (bit(g, GIC_BIT_LATCH, cpu, intid))
		return true;
	return !bit(g, GIC_BIT_EDGE, cpu, intid) && bit(g, GIC_BIT_LEVEL, cpu, intid);
}

bool gic_is_active(const struct gic *g, unsigned cpu, unsigned intid)
{
	if (!valid_cpu(g, cpu) || intid >= g->nr_irqs)
		return false;
	return bit(g, GIC_BIT_ACTIVE, cpu, intid);
}

/* --- priorities --------------------------------------------------------- */

/* The group priority mask for an interrupt of @group on @c (spec, 3.3.3):
 * GICC_BPR = n splits at bit n (group priority bits [7:n+1]); GICC_ABPR,
 * which Group 1 uses unless CBPR is set, splits one bit lower (bits
 * [7:n]). */
static uint32_t group_mask(const struct gic_cpu *c, unsigned group)
{
	unsigned shift = (group && !(c->ctlr & GICC_CTLR_CBPR)) ? c->abpr : c->bpr + 1;

	return (0xffu << shift) & 0xffu;
}

/* GICC_RPR: the group priority of the highest-priority active interrupt
 * not yet dropped by an EOI, 0xff when none (spec, 4.4.6). */
static uint32_t running_priority(const struct gic_cpu *c)
{
	if (!c->apr)
		return GIC_IDLE_PRIORITY;
	return (uint32_t)__builtin_ctz(c->apr) << (8 - GIC_PRIO_BITS);
}

/* --- the highest-priority pending interrupt ---------------------------- */

struct candidate {
	unsigned intid;  /* GIC_INTID_SPURIOUS: none */
	unsigned source; /* SGIs: the source CPU */
	unsigned prio;
	unsigned group;
};

static bool group_forwarded(const struct gic *g, unsigned cpu, unsigned group)
{
	uint32_t den = group ? GICD_CTLR_ENABLE_GRP1 : GICD_CTLR_ENABLE_GRP0;
	uint32_t cen = group ? GICC_CTLR_ENABLE_GRP1 : GICC_CTLR_ENABLE_GRP0;

	return (g->dctlr & den) && (g->cpu[cpu].ctlr & cen);
}

/* The word of INTIDs [32w, 32w+32) that may be pending for @cpu: pending,
 * enabled, not active. */
static uint32_t pending_word(struct gic *g, unsigned cpu, unsigned w)
{
	unsigned base = 32 * w;
	uint32_t latch = *word(g, GIC_BIT_LATCH, cpu, base);
	uint32_t level = *word(g, GIC_BIT_LEVEL, cpu, base) & ~*word(g, GIC_BIT_EDGE, cpu, base);
	uint32_t pend = latch | level;

	if (w == 0) {
		pend &= ~0xffffu;
		for (unsigned i = 0; i < GIC_NR_SGIS; i++)
			if (g->cpu[cpu].sgi_sources[i])
				pend |= 1u << i;
	}
	return pend & *word(g, GIC_BIT_ENABLE, cpu, base) & ~*word(g, GIC_BIT_ACTIVE, cpu, base);
}

static struct candidate highest_pending(struct gic *g, unsigned cpu)
{
	struct candidate best = { .intid = GIC_INTID_SPURIOUS, .prio = 0x100 };

	for (unsigned w = 0; w * 32 < g->nr_irqs; w++) {
		uint32_t pend = pending_word(g, cpu, w);

		while (pend) {
			unsigned i = (unsigned)__builtin_ctz(pend);
			unsigned intid = 32 * w + i;
			unsigned prio, group;

			pend &= pend - 1;
			if (intid >= g->nr_irqs)
				break;
			/* A uniprocessor GIC targets every SPI at its CPU
			 * (spec, 4.3.12: GICD_ITARGETSR is RAZ/WI there). */
			if (intid >= GIC_NR_PRIVATE && g->nr_cpus > 1 &&
			    !(g->targets[intid] & (1u << cpu)))
				continue;
			group = bit(g, GIC_BIT_GROUP, cpu, intid);
			if (!group_forwarded(g, cpu, group))
				continue;
			prio = *prio_of(g, cpu, intid);
			if (prio < best.prio) {
				best.intid = intid;
				best.prio = prio;
				best.group = group;
			}
		}
	}
	if (best.intid < GIC_NR_SGIS)
		best.source = (unsigned)__builtin_ctz(g->cpu[cpu].sgi_sources[best.intid]);
	return best;
}

/* Whether @c may be interrupted by @cand now (spec, 3.3.2 and 3.3.3). */
static bool sufficient_priority(const struct gic_cpu *c, const struct candidate *cand)
{
	if (cand->intid == GIC_INTID_SPURIOUS)
		return false;
	if (cand->prio >= c->pmr)
		return false;
	return (cand->prio & group_mask(c, cand->group)) < running_priority(c);
}

static void update_cpu(struct gic *g, unsigned cpu)
{
	struct gic_cpu *c = &g->cpu[cpu];
	struct candidate cand = highest_pending(g, cpu);
	int irq = 0, fiq = 0;

	if (sufficient_priority(c, &cand)) {
		if (cand.group == 0 && (c->ctlr & GICC_CTLR_FIQEN))
			fiq = 1;
		else
			irq = 1;
	}
	if (irq != c->irq_out) {
		c->irq_out = irq;
		g->ops->set_irq(g->opaque, cpu, irq);
	}
	if (fiq != c->fiq_out) {
		c->fiq_out = fiq;
		if (g->ops->set_fiq)
			g->ops->set_fiq(g->opaque, cpu, fiq);
	}
}

static void update(struct gic *g)
{
	for (unsigned cpu = 0; cpu < g->nr_cpus; cpu++)
		update_cpu(g, cpu);
}

/* --- set-up --------------------------------------------------------------- */

void gic_reset(struct gic *g)
{
	for (unsigned k = 0; k < GIC_BIT__COUNT; k++) {
		if (k == GIC_BIT_LEVEL)
			continue;
		memset(g->shared[k], 0, sizeof(g->shared[k]));
	}
	memset(g->priority, 0, sizeof(g->priority));
	memset(g->targets, 0, sizeof(g->targets));
	g->dctlr = 0;
	for (unsigned cpu = 0; cpu < GIC_MAX_CPUS; cpu++) {
		struct gic_cpu *c = &g->cpu[cpu];
		uint32_t level = c->bank[GIC_BIT_LEVEL];

		memset(c->bank, 0, sizeof(c->bank));
		c->bank[GIC_BIT_LEVEL] = level;
		/* SGIs are edge-triggered, read-only (spec, 4.3.13). */
		c->bank[GIC_BIT_EDGE] = 0xffffu;
		memset(c->priority, 0, sizeof(c->priority));
		memset(c->sgi_sources, 0, sizeof(c->sgi_sources));
		c->ctlr = 0;
		c->pmr = 0;
		c->bpr = GIC_BPR_MIN;
		c->abpr = GIC_BPR_MIN + 1;
		c->apr = 0;
	}
	update(g);
}

void gic_init(struct gic *g, const struct gic_ops *ops, void *opaque, unsigned nr_cpus,
	      unsigned nr_spis)
{
	memset(g, 0, sizeof(*g));
	g->ops = ops;
	g->opaque = opaque;
	if (nr_cpus < 1)
		nr_cpus = 1;
	if (nr_cpus > GIC_MAX_CPUS)
		nr_cpus = GIC_MAX_CPUS;
	nr_spis = (nr_spis + 31) / 32 * 32;
	if (nr_spis < 32)
		nr_spis = 32;
	g->nr_cpus = nr_cpus;
	g->nr_irqs = GIC_NR_PRIVATE + nr_spis;
	if (g->nr_irqs > GIC_MAX_IRQS)
		g->nr_irqs = GIC_MAX_IRQS;
	gic_reset(g);
}

/* --- inputs ----------------------------------------------------------------- */

static void set_input(struct gic *g, unsigned cpu, unsigned intid, int level)
{
	bool was = bit(g, GIC_BIT_LEVEL, cpu, intid);

	bit_set(g, GIC_BIT_LEVEL, cpu, intid, level);
	/* An edge-triggered interrupt latches its rising edge (spec, 1.4.2);
	 * a level-sensitive one is pending while the line is high. */
	if (level && !was && bit(g, GIC_BIT_EDGE, cpu, intid))
		bit_set(g, GIC_BIT_LATCH, cpu, intid, true);
	update(g);
}

bool gic_set_spi(struct gic *g, unsigned intid, int level)
{
	if (intid < GIC_NR_PRIVATE || intid >= g->nr_irqs)
		return false;
	set_input(g, 0, intid, level != 0);
	return true;
}

bool gic_set_ppi(struct gic *g, unsigned cpu, unsigned intid, int level)
{
	if (!valid_cpu(g, cpu) || intid < GIC_NR_SGIS || intid >= GIC_NR_PRIVATE)
		return false;
	set_input(g, cpu, intid, level != 0);
	return true;
}

/* --- distributor ---------------------------------------------------------- */

static bool refuse(struct gic *g)
{
	g->guest_errors++;
	return false;
}

/* The bit-per-interrupt register banks: which kind, set or clear. */
struct bit_bank {
	unsigned base;
	enum gic_bit kind;
	bool set; /* ISxxx: write 1 sets; ICxxx: write 1 clears; IGROUPR: plain */
	bool plain;
};

static const struct bit_bank bit_banks[] = {
	{ GICD_IGROUPR, GIC_BIT_GROUP, false, true },
	{ GICD_ISENABLER, GIC_BIT_ENABLE, true, false },
	{ GICD_ICENABLER, GIC_BIT_ENABLE, false, false },
	{ GICD_ISPENDR, GIC_BIT_LATCH, true, false },
	{ GICD_ICPENDR, GIC_BIT_LATCH, false, false },
	{ GICD_ISACTIVER, GIC_BIT_ACTIVE, true, false },
	{ GICD_ICACTIVER, GIC_BIT_ACTIVE, false, false },
};

static const struct bit_bank *find_bank(unsigned offset)
{
	for (size_t i = 0; i < sizeof(bit_banks) / sizeof(bit_banks[0]); i++)
		if (offset >= bit_banks[i].base && offset < bit_banks[i].base + 0x80)
			return &bit_banks[i];
	return NULL;
}

/* Bits of word @w that name implemented INTIDs. */
static uint32_t implemented(const struct gic *g, unsigned w)
{
	unsigned first = 32 * w;

	if (first >= g->nr_irqs)
		return 0;
	if (g->nr_irqs - first >= 32)
		return 0xffffffffu;
	return (1u << (g->nr_irqs - first)) - 1;
}

static uint32_t bank_read(struct gic *g, unsigned cpu, const struct bit_bank *b, unsigned w)
{
	uint32_t v = 0;

	if (b->kind == GIC_BIT_LATCH) {
		/* GICD_ISPENDR/ICPENDR read the pending state (spec, 4.3.7). */
		for (unsigned i = 0; i < 32; i++)
			if (gic_is_pending(g, cpu, 32 * w + i))
				v |= 1u << i;
		return v;
	}
	return *word(g, b->kind, cpu, 32 * w) & implemented(g, w);
}

static void bank_write(struct gic *g, unsigned cpu, const struct bit_bank *b, unsigned w,
		       uint32_t value)
{
	uint32_t *p = word(g, b->kind, cpu, 32 * w);

	value &= implemented(g, w);
	/* SGI pending bits are set and cleared through GICD_SPENDSGIR and
	 * GICD_CPENDSGIR only (spec, 4.3.7 and 4.3.8): WI here. */
	if (w == 0 && b->kind == GIC_BIT_LATCH)
		value &= ~0xffffu;
	if (b->plain) {
		*p = (*p & ~implemented(g, w)) | value;
		return;
	}
	if (b->set)
		*p |= value;
	else
		*p &= ~value;
}

/* GICD_SGIR (spec, 4.3.15). */
static bool write_sgir(struct gic *g, unsigned cpu, uint32_t value)
{
	unsigned filter = (value >> GICD_SGIR_FILTER_SHIFT) & 3;
	unsigned sgi = value & 0xf;
	uint32_t targets;

	switch (filter) {
	case GICD_SGIR_LIST:
		targets = (value >> GICD_SGIR_TARGETS_SHIFT) & 0xff;
		break;
	case GICD_SGIR_OTHERS:
		targets = 0xffu & ~(1u << cpu);
		break;
	case GICD_SGIR_SELF:
		targets = 1u << cpu;
		break;
	default:
		return refuse(g); /* reserved filter: no SGI */
	}
	targets &= (1u << g->nr_cpus) - 1;
	for (unsigned t = 0; t < g->nr_cpus; t++)
		if (targets & (1u << t))
			g->cpu[t].sgi_sources[sgi] |= (uint8_t)(1u << cpu);
	update(g);
	return true;
}

static uint32_t typer(const struct gic *g)
{
	/* ITLinesNumber [4:0], CPUNumber [7:5]; no Security Extensions,
	 * LSPI 0 (spec, 4.3.2). */
	return ((g->nr_irqs + 31) / 32 - 1) | (g->nr_cpus - 1) << 5;
}

/* Peripheral and component ID bytes at 0xfd0-0xffc: PIDR4-7, PIDR0-3,
 * CIDR0-3; PIDR2 bits 7:4 give the architecture version, 2 (spec,
 * 4.3.16), the others name ARM as designer (JEP106 0x3b) with part 0. */
static const uint8_t dist_ids[12] = {
	0x04, 0x00, 0x00, 0x00, /* PIDR4-7 */
	0x00, 0xb0, 0x2b, 0x00, /* PIDR0-3 */
	0x0d, 0xf0, 0x05, 0xb1, /* CIDR0-3 */
};

/* One byte of a byte-accessible register (priorities, targets, SGI
 * pending), @offset exact. */
static uint8_t dist_read_byte(struct gic *g, unsigned cpu, unsigned offset)
{
	if (offset >= GICD_IPRIORITYR && offset < GICD_IPRIORITYR + 0x400) {
		unsigned intid = offset - GICD_IPRIORITYR;

		return intid < g->nr_irqs ? *prio_of(g, cpu, intid) : 0;
	}
	if (offset >= GICD_ITARGETSR && offset < GICD_ITARGETSR + 0x400) {
		unsigned intid = offset - GICD_ITARGETSR;

		/* SGIs and PPIs read the reading CPU's own bit; with one CPU
		 * every byte is RAZ/WI (spec, 4.3.12). */
		if (g->nr_cpus == 1)
			return 0;
		if (intid < GIC_NR_PRIVATE)
			return (uint8_t)(1u << cpu);
		return intid < g->nr_irqs ? g->targets[intid] : 0;
	}
	if (offset >= GICD_CPENDSGIR && offset < GICD_SPENDSGIR + 0x10)
		return g->cpu[cpu].sgi_sources[(offset - GICD_CPENDSGIR) & 0xf];
	return 0;
}

static void dist_write_byte(struct gic *g, unsigned cpu, unsigned offset, uint8_t v)
{
	if (offset >= GICD_IPRIORITYR && offset < GICD_IPRIORITYR + 0x400) {
		unsigned intid = offset - GICD_IPRIORITYR;

		if (intid < g->nr_irqs)
			*prio_of(g, cpu, intid) = v & GIC_PRIO_MASK;
	} else if (offset >= GICD_ITARGETSR && offset < GICD_ITARGETSR + 0x400) {
		unsigned intid = offset - GICD_ITARGETSR;

		/* Read-only for SGIs and PPIs; bits of absent CPUs RAZ/WI;
		 * all RAZ/WI with one CPU. */
		if (intid >= GIC_NR_PRIVATE && intid < g->nr_irqs && g->nr_cpus > 1)
			g->targets[intid] = v & (uint8_t)((1u << g->nr_cpus) - 1);
	} else if (offset >= GICD_CPENDSGIR && offset < GICD_CPENDSGIR + 0x10) {
		g->cpu[cpu].sgi_sources[offset - GICD_CPENDSGIR] &= (uint8_t)~v;
	} else if (offset >= GICD_SPENDSGIR && offset < GICD_SPENDSGIR + 0x10) {
		g->cpu[cpu].sgi_sources[offset - GICD_SPENDSGIR] |=
			v & (uint8_t)((1u << g->nr_cpus) - 1);
	}
}

static bool byte_accessible(unsigned offset)
{
	return (offset >= GICD_IPRIORITYR && offset < GICD_ITARGETSR + 0x400) ||
	       (offset >= GICD_CPENDSGIR && offset < GICD_SPENDSGIR + 0x10);
}

/* GICD_ICFGR (spec, 4.3.13): two bits per interrupt, bit 1 of each field
 * the configuration (1 edge); bit 0 reserved (RAZ/WI).  SGIs are
 * read-only edge; PPIs and SPIs programmable. */
static uint32_t icfgr_read(struct gic *g, unsigned cpu, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 16; i++) {
		unsigned intid = 16 * n + i;

		if (intid < g->nr_irqs && bit(g, GIC_BIT_EDGE, cpu, intid))
			v |= 2u << (2 * i);
	}
	return v;
}

static void icfgr_write(struct gic *g, unsigned cpu, unsigned n, uint32_t value)
{
	if (n == 0)
		return; /* SGIs */
	for (unsigned i = 0; i < 16; i++) {
		unsigned intid = 16 * n + i;

		if (intid < g->nr_irqs)
			bit_set(g, GIC_BIT_EDGE, cpu, intid, (value >> (2 * i + 1)) & 1);
	}
}

bool gic_dist_read(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t *value)
{
	const struct bit_bank *b;

	*value = 0;
	if (!valid_cpu(g, cpu) || offset >= GICD_SIZE || (size != 1 && size != 4) ||
	    (offset & (size - 1)))
		return refuse(g);
	if (size == 1) {
		if (!byte_accessible(offset))
			return refuse(g);
		*value = dist_read_byte(g, cpu, offset);
		return true;
	}
	if (byte_accessible(offset)) {
		for (unsigned i = 0; i < 4; i++)
			*value |= (uint32_t)dist_read_byte(g, cpu, offset + i) << (8 * i);
		return true;
	}
	if ((b = find_bank(offset)) != NULL) {
		*value = bank_read(g, cpu, b, (offset - b->base) / 4);
		return true;
	}
	if (offset >= GICD_ICFGR && offset < GICD_ICFGR + 0x100) {
		*value = icfgr_read(g, cpu, (offset - GICD_ICFGR) / 4);
		return true;
	}
	if (offset >= GICD_NSACR && offset < GICD_NSACR + 0x100)
		return true; /* RAZ/WI without Security Extensions */
	if (offset >= GICD_PIDR4) {
		*value = dist_ids[(offset - GICD_PIDR4) / 4];
		return true;
	}
	switch (offset) {
	case GICD_CTLR:
		*value = g->dctlr;
		return true;
	case GICD_TYPER:
		*value = typer(g);
		return true;
	case GICD_IIDR:
		*value = GICD_IIDR_VALUE;
		return true;
	}
	/* GICD_SGIR is write-only; everything else is reserved. */
	return refuse(g);
}

bool gic_dist_write(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t value)
{
	const struct bit_bank *b;

	if (!valid_cpu(g, cpu) || offset >= GICD_SIZE || (size != 1 && size != 4) ||
	    (offset & (size - 1)))
		return refuse(g);
	if (size == 1 || byte_accessible(offset)) {
		if (!byte_accessible(offset))
			return refuse(g);
		for (unsigned i = 0; i < size; i++)
			dist_write_byte(g, cpu, offset + i, (uint8_t)(value >> (8 * i)));
		update(g);
		return true;
	}
	if ((b = find_bank(offset)) != NULL) {
		bank_write(g, cpu, b, (offset - b->base) / 4, value);
		update(g);
		return true;
	}
	if (offset >= GICD_ICFGR && offset < GICD_ICFGR + 0x100) {
		icfgr_write(g, cpu, (offset - GICD_ICFGR) / 4, value);
		update(g);
		return true;
	}
	if (offset >= GICD_NSACR && offset < GICD_NSACR + 0x100)
		return true;
	switch (offset) {
	case GICD_CTLR:
		g->dctlr = value & (GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1);
		update(g);
		return true;
	case GICD_SGIR:
		return write_sgir(g, cpu, value);
	}
	/* GICD_TYPER, GICD_IIDR and the ID registers are read-only. */
	return refuse(g);
}

/* --- CPU interface ----------------------------------------------------------- */

/* GICC_IAR (spec, 4.4.4): acknowledge the highest-priority pending
 * interrupt if it may interrupt the CPU now: pending -> active, or
 * active and pending for a level-sensitive interrupt whose line is still
 * high; an SGI is acknowledged for one source. */
static uint32_t acknowledge(struct gic *g, unsigned cpu)
{
	struct gic_cpu *c = &g->cpu[cpu];
	struct candidate cand = highest_pending(g, cpu);
	uint32_t iar;

	if (!sufficient_priority(c, &cand))
		return GIC_INTID_SPURIOUS;
	if (cand.group == 1 && !(c->ctlr & GICC_CTLR_ACKCTL))
		return GIC_INTID_GRP1_NO_ACK;
	c->apr |= 1u << ((cand.prio & group_mask(c, cand.group)) >> (8 - GIC_PRIO_BITS));
	if (cand.intid < GIC_NR_SGIS) {
		c->sgi_sources[cand.intid] &= (uint8_t)~(1u << cand.source);
		iar = cand.intid | cand.source << GIC_IAR_CPUID_SHIFT;
	} else {
		bit_set(g, GIC_BIT_LATCH, cpu, cand.intid, false);
		iar = cand.intid;
	}
	bit_set(g, GIC_BIT_ACTIVE, cpu, cand.intid, true);
	update(g);
	return iar;
}

static unsigned eoi_mode(const struct gic_cpu *c, unsigned group)
{
	return (c->ctlr & (group ? GICC_CTLR_EOIMODENS : GICC_CTLR_EOIMODES)) != 0;
}

static bool deactivate(struct gic *g, unsigned cpu, unsigned intid)
{
	if (!bit(g, GIC_BIT_ACTIVE, cpu, intid))
		return refuse(g);
	bit_set(g, GIC_BIT_ACTIVE, cpu, intid, false);
	return true;
}

/* GICC_EOIR (spec, 4.4.5 and 3.2.1): drop the running priority to the
 * next active one; with EOImode 0 for the interrupt's group, also
 * deactivate it. */
static bool end_of_interrupt(struct gic *g, unsigned cpu, uint32_t value)
{
	struct gic_cpu *c = &g->cpu[cpu];
	unsigned intid = value & 0x3ff;
	bool ok = true;

	if (intid >= g->nr_irqs)
		return intid == GIC_INTID_SPURIOUS ? true : refuse(g); /* spurious: ignored */
	if (!c->apr)
		return refuse(g); /* nothing acknowledged */
	c->apr &= c->apr - 1;
	if (!eoi_mode(c, bit(g, GIC_BIT_GROUP, cpu, intid)))
		ok = deactivate(g, cpu, intid);
	update(g);
	return ok;
}

/* GICC_DIR (spec, 4.4.15): deactivate, meaningful with EOImode 1. */
static bool write_dir(struct gic *g, unsigned cpu, uint32_t value)
{
	struct gic_cpu *c = &g->cpu[cpu];
	unsigned intid = value & 0x3ff;
	bool ok;

	if (intid >= g->nr_irqs)
		return intid == GIC_INTID_SPURIOUS ? true : refuse(g);
	if (!eoi_mode(c, bit(g, GIC_BIT_GROUP, cpu, intid)))
		return refuse(g); /* UNPREDICTABLE with EOImode 0: ignored */
	ok = deactivate(g, cpu, intid);
	update(g);
	return ok;
}

static uint32_t hppir(struct gic *g, unsigned cpu)
{
	struct candidate cand = highest_pending(g, cpu);

	if (cand.intid == GIC_INTID_SPURIOUS)
		return GIC_INTID_SPURIOUS;
	if (cand.group == 1 && !(g->cpu[cpu].ctlr & GICC_CTLR_ACKCTL))
		return GIC_INTID_GRP1_NO_ACK;
	return cand.intid | (cand.intid < GIC_NR_SGIS ? cand.source << GIC_IAR_CPUID_SHIFT : 0);
}

bool gic_cpu_read(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t *value)
{
	struct gic_cpu *c;

	*value = 0;
	if (!valid_cpu(g, cpu) || size != 4 || (offset & 3) || offset >= GICC_SIZE)
		return refuse(g);
	c = &g->cpu[cpu];
	switch (offset) {
	case GICC_CTLR:
		*value = c->ctlr;
		return true;
	case GICC_PMR:
		*value = c->pmr;
		return true;
	case GICC_BPR:
		*value = c->bpr;
		return true;
	case GICC_IAR:
		*value = acknowledge(g, cpu);
		return true;
	case GICC_RPR:
		*value = running_priority(c);
		return true;
	case GICC_HPPIR:
		*value = hppir(g, cpu);
		return true;
	case GICC_ABPR:
		*value = c->abpr;
		return true;
	case GICC_APR0:
		*value = c->apr;
		return true;
	case GICC_APR0 + 4:
	case GICC_APR0 + 8:
	case GICC_APR0 + 12:
	case GICC_NSAPR0:
	case GICC_NSAPR0 + 4:
	case GICC_NSAPR0 + 8:
	case GICC_NSAPR0 + 12:
		return true; /* 32 preemption levels fit GICC_APR0; no Non-secure copies */
	case GICC_IIDR:
		*value = GICC_IIDR_VALUE;
		return true;
	}
	/* EOIR and DIR are write-only; AIAR, AEOIR, AHPPIR not offered. */
	return refuse(g);
}

bool gic_cpu_write(struct gic *g, unsigned cpu, unsigned offset, unsigned size, uint32_t value)
{
	struct gic_cpu *c;

	if (!valid_cpu(g, cpu) || size != 4 || (offset & 3) || offset >= GICC_SIZE)
		return refuse(g);
	c = &g->cpu[cpu];
	switch (offset) {
	case GICC_CTLR:
		c->ctlr = value & GICC_CTLR_MASK;
		break;
	case GICC_PMR:
		c->pmr = value & GIC_PRIO_MASK;
		break;
	case GICC_BPR:
		value &= 7;
		c->bpr = value < GIC_BPR_MIN ? GIC_BPR_MIN : value;
		break;
	case GICC_ABPR:
		value &= 7;
		c->abpr = value < GIC_BPR_MIN + 1 ? GIC_BPR_MIN + 1 : value;
		break;
	case GICC_EOIR:
		return end_of_interrupt(g, cpu, value);
	case GICC_DIR:
		return write_dir(g, cpu, value);
	case GICC_APR0:
		/* Software writes it back as read (a state restore). */
		c->apr = value;
		break;
	case GICC_APR0 + 4:
	case GICC_APR0 + 8:
	case GICC_APR0 + 12:
	case GICC_NSAPR0:
	case GICC_NSAPR0 + 4:
	case GICC_NSAPR0 + 8:
	case GICC_NSAPR0 + 12:
		return true;
	default:
		/* IAR, RPR, HPPIR, IIDR read-only; the rest reserved. */
		return refuse(g);
	}
	update(g);
	return true;
}

/* --- saved state ------------------------------------------------------- */

static const char *restore_check_cpu(const struct gic *g, const struct gic_cpu *c)
{
	uint32_t cpus = (1u << g->nr_cpus) - 1;

	/* SGIs are edge-triggered, read-only (spec, 4.3.13). */
	if ((c->bank[GIC_BIT_EDGE] & 0xffffu) != 0xffffu)
		return "banks";
	for (unsigned i = 0; i < GIC_NR_PRIVATE; i++)
		if (c->priority[i] & ~GIC_PRIO_MASK)
			return "priority";
	for (unsigned i = 0; i < GIC_NR_SGIS; i++)
		if (c->sgi_sources[i] & ~cpus)
			return "sgi-sources";
	if (c->ctlr & ~GICC_CTLR_MASK)
		return "ctlr";
	if (c->pmr & ~GIC_PRIO_MASK)
		return "pmr";
	if (c->bpr < GIC_BPR_MIN || c->bpr > 7)
		return "bpr";
	if (c->abpr < GIC_BPR_MIN + 1 || c->abpr > 7)
		return "abpr";
	if (c->irq_out & ~1)
		return "irq-out";
	if (c->fiq_out & ~1)
		return "fiq-out";
	return NULL;
}

int gic_restore(struct gic *g, const struct gic *s, const char **bad, int *bad_cpu)
{
	static const char *const kinds[GIC_BIT__COUNT] = {
		"spi-enable", "spi-group", "spi-latch", "spi-level", "spi-active", "spi-edge",
	};
	uint32_t cpus = (1u << g->nr_cpus) - 1;

	*bad = NULL;
	*bad_cpu = -1;
	if (s->nr_cpus != g->nr_cpus)
		*bad = "cpus";
	else if (s->nr_irqs != g->nr_irqs)
		*bad = "irqs";
	else if (s->dctlr & ~(GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1))
		*bad = "dctlr";
	/* Word 0 is the banked INTIDs' (unused here); bits past nr_irqs are
	 * INTIDs this GIC does not have. */
	for (unsigned k = 0; !*bad && k < GIC_BIT__COUNT; k++)
		for (unsigned w = 0; !*bad && w < GIC_MAX_IRQS / 32 + 1; w++)
			if (s->shared[k][w] & ~(w ? implemented(g, w) : 0))
				*bad = kinds[k];
	for (unsigned i = 0; !*bad && i < GIC_MAX_IRQS; i++) {
		bool spi = i >= GIC_NR_PRIVATE && i < g->nr_irqs;

		if (s->priority[i] & ~(spi ? GIC_PRIO_MASK : 0))
			*bad = "spi-priority";
		else if (s->targets[i] & ~(spi ? cpus : 0))
			*bad = "spi-targets";
	}
	for (unsigned cpu = 0; !*bad && cpu < g->nr_cpus; cpu++)
		if ((*bad = restore_check_cpu(g, &s->cpu[cpu])))
			*bad_cpu = (int)cpu;
	if (*bad)
		return -EINVAL;

	g->dctlr = s->dctlr;
	memcpy(g->shared, s->shared, sizeof(g->shared));
	memcpy(g->priority, s->priority, sizeof(g->priority));
	memcpy(g->targets, s->targets, sizeof(g->targets));
	for (unsigned cpu = 0; cpu < g->nr_cpus; cpu++) {
		struct gic_cpu *c = &g->cpu[cpu];

		*c = s->cpu[cpu];
		/* The vCPUs' inputs are the new machine's, low at creation:
		 * drive the levels the saved GIC held, then let the state
		 * decide (the same, for a record the GIC wrote). */
		g->ops->set_irq(g->opaque, cpu, c->irq_out);
		if (g->ops->set_fiq)
			g->ops->set_fiq(g->opaque, cpu, c->fiq_out);
	}
	update(g);
	return 0;
}
