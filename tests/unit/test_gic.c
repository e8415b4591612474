/* tests/unit/test_gic.c - the GICv2 register model (devices/gic/gic-model.c)
 * driven directly: each test is a sentence of ARM IHI 0048B (the GICv2
 * architecture specification): program these registers, drive these
 * lines, expect these register values and these levels on each CPU's IRQ
 * and FIQ outputs.  Expected values are worked out from the spec, not read
 * back from the model. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/gic/gic-model.h"

#define NCPUS 2
#define NSPIS 64
#define SPI0 32 /* the first SPI */

struct fake {
	int irq[GIC_MAX_CPUS], fiq[GIC_MAX_CPUS];
	unsigned irq_edges[GIC_MAX_CPUS]; /* changes seen */
	bool bad_call;                     /* a call that did not change the level */
};

static void fake_irq(void *opaque, unsigned cpu, int level)
{
	struct fake *f = opaque;

	if (cpu >= GIC_MAX_CPUS || f->irq[cpu] == level)
		f->bad_call = true;
	else
		f->irq[cpu] = level;
	f->irq_edges[cpu % GIC_MAX_CPUS]++;
}

static void fake_fiq(void *opaque, unsigned cpu, int level)
{
	struct fake *f = opaque;

	if (cpu >= GIC_MAX_CPUS || f->fiq[cpu] == level)
		f->bad_call = true;
	else
		f->fiq[cpu] = level;
}

static const struct gic_ops fake_ops = { .set_irq = fake_irq, .set_fiq = fake_fiq };

struct t {
	struct gic g;
	struct fake f;
};

static struct t *T;

static int setup_n(void **state, unsigned ncpus, unsigned nspis)
{
	T = calloc(1, sizeof(*T));
	assert_non_null(T);
	gic_init(&T->g, &fake_ops, &T->f, ncpus, nspis);
	*state = T;
	return 0;
}

static int setup(void **state)
{
	return setup_n(state, NCPUS, NSPIS);
}

static int setup_8(void **state)
{
	return setup_n(state, 8, 960);
}

static int teardown(void **state)
{
	assert_false(T->f.bad_call);
	free(T);
	return 0;
}

static uint32_t drd(unsigned cpu, unsigned off)
{
	uint32_t v;

	assert_true(gic_dist_read(&T->g, cpu, off, 4, &v));
	return v;
}

static void dwr(unsigned cpu, unsigned off, uint32_t v)
{
	assert_true(gic_dist_write(&T->g, cpu, off, 4, v));
}

static uint32_t crd(unsigned cpu, unsigned off)
{
	uint32_t v;

	assert_true(gic_cpu_read(&T->g, cpu, off, 4, &v));
	return v;
}

static void cwr(unsigned cpu, unsigned off, uint32_t v)
{
	assert_true(gic_cpu_write(&T->g, cpu, off, 4, v));
}

static void set_prio(unsigned cpu, unsigned intid, uint8_t prio)
{
	assert_true(gic_dist_write(&T->g, cpu, GICD_IPRIORITYR + intid, 1, prio));
}

static void enable(unsigned cpu, unsigned intid)
{
	dwr(cpu, GICD_ISENABLER + 4 * (intid / 32), 1u << (intid % 32));
}

static void target(unsigned intid, uint8_t mask)
{
	assert_true(gic_dist_write(&T->g, 0, GICD_ITARGETSR + intid, 1, mask));
}

/* What a Linux-like driver does: distributor and CPU interfaces on
 * (Group 0), priority mask 0xf0, and SPI @intid enabled at priority 0xa0
 * for CPU 0. */
static void bring_up(void)
{
	dwr(0, GICD_CTLR, GICD_CTLR_ENABLE_GRP0);
	for (unsigned cpu = 0; cpu < T->g.nr_cpus; cpu++) {
		cwr(cpu, GICC_PMR, 0xf0);
		cwr(cpu, GICC_CTLR, GICC_CTLR_ENABLE_GRP0);
	}
}

static void spi_on(unsigned intid, uint8_t prio, uint8_t targets)
{
	set_prio(0, intid, prio);
	target(intid, targets);
	enable(0, intid);
}

static bool pending(unsigned cpu, unsigned intid)
{
	return (drd(cpu, GICD_ISPENDR + 4 * (intid / 32)) >> (intid % 32)) & 1;
}

static bool active(unsigned cpu, unsigned intid)
{
	return (drd(cpu, GICD_ISACTIVER + 4 * (intid / 32)) >> (intid % 32)) & 1;
}

/* --- reset values and identification (spec, 4.3 and 4.4) ------------------ */

static void test_reset_values(void **state)
{
	/* ITLinesNumber: 32 * (N + 1) = 96 INTIDs -> 2; CPUNumber: 2 CPUs -> 1. */
	assert_int_equal(drd(0, GICD_TYPER), 2 | 1 << 5);
	assert_int_equal(drd(0, GICD_CTLR), 0);
	assert_int_equal(drd(0, GICD_IIDR) & 0xfff, 0x43b); /* ARM */
	assert_int_equal(drd(0, GICD_PIDR2) >> 4 & 0xf, 2); /* ArchRev: GICv2 */
	assert_int_equal(drd(0, GICD_ICFGR), 0xaaaaaaaa);  /* SGIs edge */
	assert_int_equal(drd(0, GICD_ICFGR + 4), 0);       /* PPIs level */
	assert_int_equal(drd(0, GICD_ISENABLER), 0);
	assert_int_equal(drd(0, GICD_IGROUPR + 4), 0);
	assert_int_equal(drd(0, GICD_IPRIORITYR + 40), 0);
	for (unsigned cpu = 0; cpu < NCPUS; cpu++) {
		assert_int_equal(crd(cpu, GICC_CTLR), 0);
		assert_int_equal(crd(cpu, GICC_PMR), 0);
		assert_int_equal(crd(cpu, GICC_BPR), GIC_BPR_MIN);
		assert_int_equal(crd(cpu, GICC_ABPR), GIC_BPR_MIN + 1);
		assert_int_equal(crd(cpu, GICC_RPR), 0xff);
		assert_int_equal(crd(cpu, GICC_IAR), GIC_INTID_SPURIOUS);
		assert_int_equal(crd(cpu, GICC_HPPIR), GIC_INTID_SPURIOUS);
		assert_int_equal(crd(cpu, GICC_IIDR) >> 16 & 0xf, 2);
		assert_int_equal(T->f.irq[cpu], 0);
	}
	assert_int_equal(T->g.guest_errors, 0);
}

static void test_typer_follows_spis_and_cpus(void **state)
{
	/* 8 CPUs, 960 SPIs: 992 INTIDs = 32 * 31 -> ITLinesNumber 30. */
	assert_int_equal(drd(0, GICD_TYPER), 30 | 7 << 5);
	/* Unimplemented INTIDs read as zero and ignore writes. */
	dwr(0, GICD_ISENABLER + 4 * 31, 0xffffffff);
	assert_int_equal(drd(0, GICD_ISENABLER + 4 * 31), 0);
	dwr(0, GICD_ISENABLER + 4 * 30, 0xffffffff);
	assert_int_equal(drd(0, GICD_ISENABLER + 4 * 30), 0xffffffff);
}

static void test_spis_clamped(void **state)
{
	struct gic g;
	struct fake f = { 0 };

	gic_init(&g, &fake_ops, &f, 12, 5000);
	assert_int_equal(g.nr_cpus, 8);
	assert_int_equal(g.nr_irqs, 1020);
	gic_init(&g, &fake_ops, &f, 0, 0);
	assert_int_equal(g.nr_cpus, 1);
	assert_int_equal(g.nr_irqs, 64);
}

/* --- register semantics ---------------------------------------------------- */

static void test_priority_fields_implement_five_bits(void **state)
{
	set_prio(0, SPI0 + 1, 0xff);
	assert_int_equal(drd(0, GICD_IPRIORITYR + SPI0), 0xf8u << 8);
	dwr(0, GICD_IPRIORITYR + 36, 0x11223344);
	assert_int_equal(drd(0, GICD_IPRIORITYR + 36), 0x10203040);
	cwr(0, GICC_PMR, 0xff);
	assert_int_equal(crd(0, GICC_PMR), 0xf8);
	/* Below the minimum, the binary points read their minimum. */
	cwr(0, GICC_BPR, 0);
	assert_int_equal(crd(0, GICC_BPR), GIC_BPR_MIN);
	cwr(0, GICC_BPR, 5);
	assert_int_equal(crd(0, GICC_BPR), 5);
	cwr(0, GICC_ABPR, 1);
	assert_int_equal(crd(0, GICC_ABPR), GIC_BPR_MIN + 1);
}

static void test_enable_set_clear(void **state)
{
	dwr(0, GICD_ISENABLER + 4, 0x00000005);
	dwr(0, GICD_ISENABLER + 4, 0x00000010);
	assert_int_equal(drd(0, GICD_ISENABLER + 4), 0x15);
	assert_int_equal(drd(0, GICD_ICENABLER + 4), 0x15);
	dwr(0, GICD_ICENABLER + 4, 0x00000004);
	assert_int_equal(drd(0, GICD_ISENABLER + 4), 0x11);
	/* Writing zeros changes nothing. */
	dwr(0, GICD_ISENABLER + 4, 0);
	dwr(0, GICD_ICENABLER + 4, 0);
	assert_int_equal(drd(0, GICD_ISENABLER + 4), 0x11);
}

static void test_group_register_reads_back(void **state)
{
	dwr(0, GICD_IGROUPR + 4, 0xf0f0f0f0);
	assert_int_equal(drd(0, GICD_IGROUPR + 4), 0xf0f0f0f0);
	dwr(0, GICD_IGROUPR + 4, 0x0000ffff);
	assert_int_equal(drd(0, GICD_IGROUPR + 4), 0x0000ffff);
}

static void test_config_register(void **state)
{
	/* SGIs read-only edge. */
	dwr(0, GICD_ICFGR, 0);
	assert_int_equal(drd(0, GICD_ICFGR), 0xaaaaaaaa);
	/* PPIs and SPIs: bit 1 of each field programmable, bit 0 RAZ/WI. */
	dwr(0, GICD_ICFGR + 4, 0xffffffff);
	assert_int_equal(drd(0, GICD_ICFGR + 4), 0xaaaaaaaa);
	dwr(0, GICD_ICFGR + 8, 0x00000008);
	assert_int_equal(drd(0, GICD_ICFGR + 8), 0x00000008);
}

static void test_targets(void **state)
{
	/* SGIs and PPIs: each byte reads the reading CPU's own bit. */
	assert_int_equal(drd(0, GICD_ITARGETSR), 0x01010101);
	assert_int_equal(drd(1, GICD_ITARGETSR + 28), 0x02020202);
	dwr(0, GICD_ITARGETSR, 0x02020202);
	assert_int_equal(drd(0, GICD_ITARGETSR), 0x01010101);
	/* SPIs: bits of CPUs that do not exist are RAZ/WI. */
	target(SPI0, 0xff);
	assert_int_equal(drd(0, GICD_ITARGETSR + SPI0) & 0xff, 0x03);
	dwr(1, GICD_ITARGETSR + SPI0 + 4, 0x01020301);
	assert_int_equal(drd(0, GICD_ITARGETSR + SPI0 + 4), 0x01020301);
}

static int setup_1(void **state)
{
	return setup_n(state, 1, 32);
}

/* One CPU: GICD_ITARGETSR is RAZ/WI and every SPI goes to CPU 0 (spec,
 * 4.3.12), which Linux relies on: it reads the targets back as 0 and
 * writes that mask to every SPI. */
static void test_uniprocessor_targets(void **state)
{
	assert_int_equal(drd(0, GICD_ITARGETSR), 0);
	dwr(0, GICD_ITARGETSR + SPI0, 0x01010101);
	assert_int_equal(drd(0, GICD_ITARGETSR + SPI0), 0);
	dwr(0, GICD_ITARGETSR + SPI0, 0);
	bring_up();
	set_prio(0, SPI0, 0xa0);
	enable(0, SPI0);
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
	/* CPUNumber 0. */
	assert_int_equal(drd(0, GICD_TYPER), 1);
}

/* --- level-sensitive and edge-triggered interrupts (spec, 1.4.2, 3.2.4) --- */

static void test_level_held_until_acknowledged(void **state)
{
	bring_up();
	spi_on(SPI0 + 1, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0 + 1, 1);
	assert_true(pending(0, SPI0 + 1));
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(T->f.irq[1], 0);
	/* The output stays up with nothing done but reads of other registers. */
	assert_int_equal(crd(0, GICC_HPPIR), SPI0 + 1);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 1);
	/* The line is still high: active and pending, and not signalled. */
	assert_true(active(0, SPI0 + 1));
	assert_true(pending(0, SPI0 + 1));
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(0, GICC_RPR), 0xa0);
	/* The handler quiets the device, then ends the interrupt. */
	gic_set_spi(&T->g, SPI0 + 1, 0);
	assert_false(pending(0, SPI0 + 1));
	cwr(0, GICC_EOIR, SPI0 + 1);
	assert_false(active(0, SPI0 + 1));
	assert_int_equal(crd(0, GICC_RPR), 0xff);
	assert_int_equal(T->f.irq[0], 0);
}

static void test_level_still_high_at_eoi_signals_again(void **state)
{
	bring_up();
	spi_on(SPI0, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
	assert_int_equal(T->f.irq[0], 0);
	cwr(0, GICC_EOIR, SPI0);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
}

static void test_level_lowered_before_acknowledge(void **state)
{
	bring_up();
	spi_on(SPI0 + 2, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0 + 2, 1);
	assert_int_equal(T->f.irq[0], 1);
	gic_set_spi(&T->g, SPI0 + 2, 0);
	assert_int_equal(T->f.irq[0], 0);
	assert_false(pending(0, SPI0 + 2));
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	assert_false(active(0, SPI0 + 2));
}

static void test_edge_latches_and_active_pending(void **state)
{
	bring_up();
	dwr(0, GICD_ICFGR + 8, 2u << 2 * (SPI0 + 3 - 32)); /* SPI0+3 edge */
	spi_on(SPI0 + 3, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0 + 3, 1);
	gic_set_spi(&T->g, SPI0 + 3, 0);
	/* The edge was latched: pending though the line is low. */
	assert_true(pending(0, SPI0 + 3));
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 3);
	assert_false(pending(0, SPI0 + 3));
	assert_true(active(0, SPI0 + 3));
	/* A second edge while active: active and pending, not signalled. */
	gic_set_spi(&T->g, SPI0 + 3, 1);
	gic_set_spi(&T->g, SPI0 + 3, 0);
	assert_true(pending(0, SPI0 + 3));
	assert_true(active(0, SPI0 + 3));
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	/* Deactivation makes it pending again: signalled. */
	cwr(0, GICC_EOIR, SPI0 + 3);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 3);
	cwr(0, GICC_EOIR, SPI0 + 3);
	assert_int_equal(T->f.irq[0], 0);
	/* A line held high is one edge, not a stream. */
	gic_set_spi(&T->g, SPI0 + 3, 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 3);
	cwr(0, GICC_EOIR, SPI0 + 3);
	gic_set_spi(&T->g, SPI0 + 3, 1);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
}

static void test_pending_set_clear_by_software(void **state)
{
	bring_up();
	spi_on(SPI0 + 4, 0xa0, 0x01);
	/* ISPENDR on a level-sensitive interrupt whose line is low. */
	dwr(0, GICD_ISPENDR + 4, 1u << 4);
	assert_true(pending(0, SPI0 + 4));
	assert_int_equal(T->f.irq[0], 1);
	dwr(0, GICD_ICPENDR + 4, 1u << 4);
	assert_false(pending(0, SPI0 + 4));
	assert_int_equal(T->f.irq[0], 0);
	/* Acknowledge clears a software pending state. */
	dwr(0, GICD_ISPENDR + 4, 1u << 4);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 4);
	assert_false(pending(0, SPI0 + 4));
	cwr(0, GICC_EOIR, SPI0 + 4);
	/* ICPENDR cannot clear what a high line holds. */
	gic_set_spi(&T->g, SPI0 + 4, 1);
	dwr(0, GICD_ICPENDR + 4, 1u << 4);
	assert_true(pending(0, SPI0 + 4));
	assert_int_equal(T->f.irq[0], 1);
}

static void test_active_set_clear_by_software(void **state)
{
	bring_up();
	spi_on(SPI0 + 5, 0xa0, 0x01);
	dwr(0, GICD_ISACTIVER + 4, 1u << 5);
	assert_true(active(0, SPI0 + 5));
	gic_set_spi(&T->g, SPI0 + 5, 1);
	/* Active and pending: not signalled. */
	assert_int_equal(T->f.irq[0], 0);
	dwr(0, GICD_ICACTIVER + 4, 1u << 5);
	assert_false(active(0, SPI0 + 5));
	assert_int_equal(T->f.irq[0], 1);
}

static void test_disabled_interrupt_stays_pending(void **state)
{
	bring_up();
	set_prio(0, SPI0 + 6, 0xa0);
	target(SPI0 + 6, 1);
	gic_set_spi(&T->g, SPI0 + 6, 1);
	assert_true(pending(0, SPI0 + 6));
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(0, GICC_HPPIR), GIC_INTID_SPURIOUS);
	enable(0, SPI0 + 6);
	assert_int_equal(T->f.irq[0], 1);
	dwr(0, GICD_ICENABLER + 4, 1u << 6);
	assert_int_equal(T->f.irq[0], 0);
}

/* --- the forwarding and signalling conditions (spec, 3.2.2, 3.3) ----------- */

static void test_distributor_and_cpu_interface_enables(void **state)
{
	spi_on(SPI0, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0, 1);
	cwr(0, GICC_PMR, 0xf0);
	assert_int_equal(T->f.irq[0], 0);
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0);
	assert_int_equal(T->f.irq[0], 0); /* distributor still off */
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	dwr(0, GICD_CTLR, GICD_CTLR_ENABLE_GRP0);
	assert_int_equal(T->f.irq[0], 1);
	cwr(0, GICC_CTLR, 0);
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	assert_false(active(0, SPI0));
}

static void test_priority_mask(void **state)
{
	bring_up();
	spi_on(SPI0, 0x80, 0x01);
	cwr(0, GICC_PMR, 0x80); /* equal priority is not higher than the mask */
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	/* HPPIR names it regardless of the mask. */
	assert_int_equal(crd(0, GICC_HPPIR), SPI0);
	cwr(0, GICC_PMR, 0x88);
	assert_int_equal(T->f.irq[0], 1);
	cwr(0, GICC_PMR, 0);
	assert_int_equal(T->f.irq[0], 0);
}

static void test_highest_priority_first_ties_lowest_id(void **state)
{
	bring_up();
	spi_on(SPI0 + 10, 0x90, 0x01);
	spi_on(SPI0 + 7, 0xa0, 0x01);
	spi_on(SPI0 + 12, 0x90, 0x01);
	gic_set_spi(&T->g, SPI0 + 7, 1);
	gic_set_spi(&T->g, SPI0 + 12, 1);
	gic_set_spi(&T->g, SPI0 + 10, 1);
	assert_int_equal(crd(0, GICC_HPPIR), SPI0 + 10);
	/* Raise all three to one priority: the lowest INTID wins. */
	set_prio(0, SPI0 + 7, 0x90);
	assert_int_equal(crd(0, GICC_HPPIR), SPI0 + 7);
	set_prio(0, SPI0 + 12, 0x10);
	assert_int_equal(crd(0, GICC_HPPIR), SPI0 + 12);
}

static void test_preemption_and_running_priority(void **state)
{
	bring_up();
	spi_on(SPI0, 0x80, 0x01);
	spi_on(SPI0 + 1, 0x40, 0x01);
	spi_on(SPI0 + 2, 0x80, 0x01);
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
	assert_int_equal(crd(0, GICC_RPR), 0x80);
	/* Equal priority does not preempt. */
	gic_set_spi(&T->g, SPI0 + 2, 1);
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	/* Higher priority does. */
	gic_set_spi(&T->g, SPI0 + 1, 1);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 1);
	assert_int_equal(crd(0, GICC_RPR), 0x40);
	assert_int_equal(crd(0, GICC_APR0), 1u << (0x40 >> 3) | 1u << (0x80 >> 3));
	gic_set_spi(&T->g, SPI0 + 1, 0);
	/* EOIs in nesting order: the running priority unwinds. */
	cwr(0, GICC_EOIR, SPI0 + 1);
	assert_int_equal(crd(0, GICC_RPR), 0x80);
	assert_int_equal(T->f.irq[0], 0); /* SPI0+2 is equal to the running 0x80 */
	gic_set_spi(&T->g, SPI0, 0);
	cwr(0, GICC_EOIR, SPI0);
	assert_int_equal(crd(0, GICC_RPR), 0xff);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 2);
}

static void test_binary_point_groups_priorities(void **state)
{
	bring_up();
	spi_on(SPI0, 0x70, 0x01);
	spi_on(SPI0 + 1, 0x68, 0x01);
	cwr(0, GICC_BPR, 4); /* group priority bits [7:5]: 0x70 and 0x68 are both 0x60 */
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
	assert_int_equal(crd(0, GICC_RPR), 0x60);
	gic_set_spi(&T->g, SPI0 + 1, 1);
	assert_int_equal(T->f.irq[0], 0);
	gic_set_spi(&T->g, SPI0 + 1, 0);
	cwr(0, GICC_EOIR, SPI0);
	/* With the finest binary point 0x68 preempts 0x70. */
	cwr(0, GICC_BPR, GIC_BPR_MIN);
	assert_int_equal(crd(0, GICC_IAR), SPI0); /* line still high */
	assert_int_equal(crd(0, GICC_RPR), 0x70);
	gic_set_spi(&T->g, SPI0 + 1, 1);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0 + 1);
}

static void test_eoi_without_active_is_ignored(void **state)
{
	bring_up();
	assert_false(gic_cpu_write(&T->g, 0, GICC_EOIR, 4, SPI0));
	assert_int_equal(T->g.guest_errors, 1);
	assert_int_equal(crd(0, GICC_RPR), 0xff);
	/* The spurious ID is taken and ignored. */
	assert_true(gic_cpu_write(&T->g, 0, GICC_EOIR, 4, GIC_INTID_SPURIOUS));
	assert_int_equal(T->g.guest_errors, 1);
}

static void test_eoimode_split_priority_drop_and_deactivate(void **state)
{
	bring_up();
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_EOIMODES);
	spi_on(SPI0, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
	gic_set_spi(&T->g, SPI0, 0);
	cwr(0, GICC_EOIR, SPI0);
	/* Priority dropped, still active. */
	assert_int_equal(crd(0, GICC_RPR), 0xff);
	assert_true(active(0, SPI0));
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(T->f.irq[0], 0);
	cwr(0, GICC_DIR, SPI0);
	assert_false(active(0, SPI0));
	assert_int_equal(T->f.irq[0], 1);
	/* GICC_DIR with EOImode 0 is refused. */
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
	assert_false(gic_cpu_write(&T->g, 0, GICC_DIR, 4, SPI0));
	assert_true(active(0, SPI0));
}

static void test_spurious_when_nothing_pending(void **state)
{
	bring_up();
	for (int i = 0; i < 3; i++)
		assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	assert_int_equal(crd(0, GICC_RPR), 0xff);
	assert_int_equal(crd(0, GICC_APR0), 0);
}

/* --- groups, FIQ and AckCtl ------------------------------------------------- */

static void test_group1_and_ackctl(void **state)
{
	bring_up();
	spi_on(SPI0, 0xa0, 0x01);
	dwr(0, GICD_IGROUPR + 4, 1);
	gic_set_spi(&T->g, SPI0, 1);
	/* Group 1 not enabled anywhere yet. */
	assert_int_equal(T->f.irq[0], 0);
	dwr(0, GICD_CTLR, GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1);
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_ENABLE_GRP1);
	assert_int_equal(T->f.irq[0], 1);
	/* AckCtl clear: a Group 1 interrupt cannot be acknowledged here. */
	assert_int_equal(crd(0, GICC_HPPIR), GIC_INTID_GRP1_NO_ACK);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_GRP1_NO_ACK);
	assert_false(active(0, SPI0));
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_ENABLE_GRP1 | GICC_CTLR_ACKCTL);
	assert_int_equal(crd(0, GICC_IAR), SPI0);
	/* Group 1 uses GICC_ABPR: 3 is group bits [7:3], the finest. */
	assert_int_equal(crd(0, GICC_RPR), 0xa0);
}

static void test_group0_to_fiq(void **state)
{
	bring_up();
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_FIQEN);
	spi_on(SPI0, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(T->f.fiq[0], 1);
	assert_int_equal(T->f.irq[0], 0);
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0);
	assert_int_equal(T->f.fiq[0], 0);
	assert_int_equal(T->f.irq[0], 1);
}

/* --- SGIs (spec, 4.3.15, 4.3.16, 4.3.17) ---------------------------------- */

static void test_sgi_target_list_and_source(void **state)
{
	bring_up();
	enable(1, 3);
	set_prio(1, 3, 0x20);
	/* CPU 0 sends SGI 3 to CPU 1. */
	dwr(0, GICD_SGIR, GICD_SGIR_LIST << 24 | 0x02 << 16 | 3);
	assert_int_equal(T->f.irq[1], 1);
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(1, GICC_HPPIR), 3 | 0 << 10);
	assert_int_equal(crd(1, GICC_IAR), 3 | 0 << 10);
	cwr(1, GICC_EOIR, 3);
	assert_int_equal(T->f.irq[1], 0);
	/* CPU 1 sends it to itself: the source field says 1. */
	dwr(1, GICD_SGIR, GICD_SGIR_SELF << 24 | 3);
	assert_int_equal(crd(1, GICC_IAR), 3 | 1 << 10);
	cwr(1, GICC_EOIR, 3 | 1 << 10);
}

static void test_sgi_sources_pend_separately(void **state)
{
	bring_up();
	enable(0, 5);
	dwr(0, GICD_SGIR, GICD_SGIR_SELF << 24 | 5);
	dwr(1, GICD_SGIR, GICD_SGIR_LIST << 24 | 0x01 << 16 | 5);
	assert_int_equal(drd(0, GICD_SPENDSGIR + 4) >> 8 & 0xff, 0x03);
	assert_int_equal(crd(0, GICC_IAR), 5 | 0 << 10);
	/* Source 1's SGI 5 waits until SGI 5 is deactivated. */
	assert_int_equal(drd(0, GICD_SPENDSGIR + 4) >> 8 & 0xff, 0x02);
	assert_int_equal(T->f.irq[0], 0);
	cwr(0, GICC_EOIR, 5);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_IAR), 5 | 1 << 10);
	cwr(0, GICC_EOIR, 5 | 1 << 10);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
}

static void test_sgi_filter_others_and_reserved(void **state)
{
	struct fake *f = &T->f;

	dwr(0, GICD_CTLR, GICD_CTLR_ENABLE_GRP0);
	for (unsigned cpu = 0; cpu < 8; cpu++) {
		cwr(cpu, GICC_PMR, 0xf0);
		cwr(cpu, GICC_CTLR, GICC_CTLR_ENABLE_GRP0);
		enable(cpu, 1);
	}
	dwr(2, GICD_SGIR, GICD_SGIR_OTHERS << 24 | 0x04 << 16 | 1);
	for (unsigned cpu = 0; cpu < 8; cpu++)
		assert_int_equal(f->irq[cpu], cpu != 2);
	assert_int_equal(crd(7, GICC_IAR), 1 | 2 << 10);
	/* Filter 3 is reserved: nothing is sent. */
	assert_false(gic_dist_write(&T->g, 2, GICD_SGIR, 4, 3u << 24 | 0xff << 16 | 1));
	assert_int_equal(f->irq[7], 0);
	assert_int_equal(f->irq[2], 0);
}

static void test_sgi_targets_beyond_cpus_ignored(void **state)
{
	bring_up();
	enable(0, 0);
	dwr(1, GICD_SGIR, GICD_SGIR_LIST << 24 | 0xfc << 16 | 0);
	assert_int_equal(drd(0, GICD_SPENDSGIR), 0);
	assert_int_equal(drd(1, GICD_SPENDSGIR), 0);
	/* An empty list sends nothing. */
	dwr(1, GICD_SGIR, GICD_SGIR_LIST << 24 | 0);
	assert_int_equal(crd(0, GICC_HPPIR), GIC_INTID_SPURIOUS);
}

static void test_sgi_pending_registers_banked(void **state)
{
	bring_up();
	enable(0, 2);
	enable(1, 2);
	/* CPU 0 sets SGI 2 pending from sources 1 (itself unsaid). */
	assert_true(gic_dist_write(&T->g, 0, GICD_SPENDSGIR + 2, 1, 0x02));
	assert_int_equal(drd(0, GICD_SPENDSGIR) >> 16 & 0xff, 0x02);
	assert_int_equal(drd(0, GICD_CPENDSGIR) >> 16 & 0xff, 0x02);
	assert_int_equal(drd(1, GICD_SPENDSGIR), 0);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(crd(0, GICC_HPPIR), 2 | 1 << 10);
	/* Sources that do not exist are RAZ/WI. */
	assert_true(gic_dist_write(&T->g, 0, GICD_SPENDSGIR + 2, 1, 0xf0));
	assert_int_equal(drd(0, GICD_SPENDSGIR) >> 16 & 0xff, 0x02);
	assert_true(gic_dist_write(&T->g, 0, GICD_CPENDSGIR + 2, 1, 0x02));
	assert_int_equal(drd(0, GICD_SPENDSGIR), 0);
	assert_int_equal(T->f.irq[0], 0);
	/* GICD_ISPENDR0's SGI bits read the state and ignore writes. */
	dwr(0, GICD_SGIR, GICD_SGIR_SELF << 24 | 2);
	assert_int_equal(drd(0, GICD_ISPENDR) & 0xffff, 1u << 2);
	dwr(0, GICD_ICPENDR, 1u << 2);
	assert_int_equal(drd(0, GICD_ISPENDR) & 0xffff, 1u << 2);
	dwr(1, GICD_ISPENDR, 1u << 4);
	assert_int_equal(drd(1, GICD_ISPENDR) & 0xffff, 0);
}

/* --- banked registers and PPIs ---------------------------------------------- */

static void test_private_registers_banked(void **state)
{
	dwr(0, GICD_ISENABLER, 0x00010001);
	dwr(1, GICD_ISENABLER, 0x08000000);
	assert_int_equal(drd(0, GICD_ISENABLER), 0x00010001);
	assert_int_equal(drd(1, GICD_ISENABLER), 0x08000000);
	set_prio(0, 27, 0x10);
	set_prio(1, 27, 0x30);
	assert_int_equal(drd(0, GICD_IPRIORITYR + 24) >> 24, 0x10);
	assert_int_equal(drd(1, GICD_IPRIORITYR + 24) >> 24, 0x30);
	dwr(1, GICD_IGROUPR, 0x80000000);
	assert_int_equal(drd(0, GICD_IGROUPR), 0);
	assert_int_equal(drd(1, GICD_IGROUPR), 0x80000000);
	dwr(1, GICD_ICFGR + 4, 0x80000000);
	assert_int_equal(drd(0, GICD_ICFGR + 4), 0);
	/* The SPI registers are shared. */
	dwr(1, GICD_ISENABLER + 4, 1);
	assert_int_equal(drd(0, GICD_ISENABLER + 4), 1);
}

static void test_ppi_reaches_its_cpu_only(void **state)
{
	bring_up();
	enable(0, 27);
	enable(1, 27);
	assert_true(gic_set_ppi(&T->g, 1, 27, 1));
	assert_int_equal(T->f.irq[1], 1);
	assert_int_equal(T->f.irq[0], 0);
	assert_false(pending(0, 27));
	assert_true(pending(1, 27));
	assert_int_equal(crd(1, GICC_IAR), 27);
	/* The timer's level still high: active and pending on CPU 1 only. */
	assert_true(active(1, 27));
	assert_false(active(0, 27));
	assert_true(gic_set_ppi(&T->g, 1, 27, 0));
	cwr(1, GICC_EOIR, 27);
	assert_int_equal(crd(1, GICC_RPR), 0xff);
	/* PPIs out of range, and CPUs that do not exist. */
	assert_false(gic_set_ppi(&T->g, 1, 15, 1));
	assert_false(gic_set_ppi(&T->g, 1, 32, 1));
	assert_false(gic_set_ppi(&T->g, 2, 27, 1));
	assert_false(gic_set_spi(&T->g, 31, 1));
	assert_false(gic_set_spi(&T->g, 96, 1));
}

static void test_spi_one_of_n(void **state)
{
	bring_up();
	spi_on(SPI0, 0xa0, 0x03);
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(T->f.irq[0], 1);
	assert_int_equal(T->f.irq[1], 1);
	assert_int_equal(crd(1, GICC_IAR), SPI0);
	/* Taken by CPU 1: CPU 0 no longer sees it. */
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(crd(0, GICC_IAR), GIC_INTID_SPURIOUS);
	gic_set_spi(&T->g, SPI0, 0);
	cwr(1, GICC_EOIR, SPI0);
	/* Retargeting a pending SPI moves it. */
	spi_on(SPI0 + 1, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0 + 1, 1);
	assert_int_equal(T->f.irq[0], 1);
	target(SPI0 + 1, 0x02);
	assert_int_equal(T->f.irq[0], 0);
	assert_int_equal(T->f.irq[1], 1);
	target(SPI0 + 1, 0);
	assert_int_equal(T->f.irq[1], 0);
}

static void test_reset_keeps_input_levels(void **state)
{
	bring_up();
	spi_on(SPI0, 0xa0, 0x01);
	gic_set_spi(&T->g, SPI0, 1);
	assert_int_equal(T->f.irq[0], 1);
	gic_reset(&T->g);
	assert_int_equal(T->f.irq[0], 0);
	assert_true(pending(0, SPI0));
	assert_false(gic_is_active(&T->g, 0, SPI0));
	assert_int_equal(drd(0, GICD_ISENABLER + 4), 0);
}

/* --- hostile accesses: counted and refused, never fatal -------------------- */

static void test_bad_sizes_offsets_and_cpus(void **state)
{
	uint32_t v = 0xdead;
	uint64_t errs = 0;

#define REFUSED(call) do { assert_false(call); assert_int_equal(T->g.guest_errors, ++errs); } while (0)
	REFUSED(gic_dist_read(&T->g, 0, GICD_CTLR, 2, &v));
	assert_int_equal(v, 0);
	REFUSED(gic_dist_read(&T->g, 0, GICD_CTLR, 1, &v));     /* word-only register */
	REFUSED(gic_dist_read(&T->g, 0, GICD_CTLR + 2, 4, &v)); /* unaligned */
	REFUSED(gic_dist_read(&T->g, 0, GICD_IPRIORITYR + 1, 4, &v));
	REFUSED(gic_dist_read(&T->g, 0, GICD_SIZE, 4, &v));
	REFUSED(gic_dist_read(&T->g, 0, 0x00c, 4, &v));         /* reserved */
	REFUSED(gic_dist_read(&T->g, 0, 0xd00, 4, &v));         /* reserved */
	REFUSED(gic_dist_read(&T->g, 0, GICD_SGIR, 4, &v));     /* write-only */
	REFUSED(gic_dist_read(&T->g, 2, GICD_CTLR, 4, &v));     /* no CPU 2 */
	REFUSED(gic_dist_read(&T->g, 0, GICD_CTLR, 8, &v));
	REFUSED(gic_dist_write(&T->g, 0, GICD_TYPER, 4, 0));    /* read-only */
	REFUSED(gic_dist_write(&T->g, 0, GICD_IIDR, 4, 0));
	REFUSED(gic_dist_write(&T->g, 0, GICD_PIDR2, 4, 0));
	REFUSED(gic_dist_write(&T->g, 0, GICD_ISENABLER, 1, 1));
	REFUSED(gic_dist_write(&T->g, 0, GICD_ISENABLER + 1, 4, 1));
	REFUSED(gic_dist_write(&T->g, 0, 0xffffff00u, 4, 1));
	REFUSED(gic_cpu_read(&T->g, 0, GICC_EOIR, 4, &v));       /* write-only */
	REFUSED(gic_cpu_read(&T->g, 0, GICC_DIR, 4, &v));
	REFUSED(gic_cpu_read(&T->g, 0, GICC_AIAR, 4, &v));       /* not offered */
	REFUSED(gic_cpu_read(&T->g, 0, GICC_IAR, 1, &v));
	REFUSED(gic_cpu_read(&T->g, 0, GICC_SIZE, 4, &v));
	REFUSED(gic_cpu_read(&T->g, 0, GICC_PMR + 1, 4, &v));
	REFUSED(gic_cpu_read(&T->g, 5, GICC_IAR, 4, &v));
	REFUSED(gic_cpu_write(&T->g, 0, GICC_IAR, 4, 0));        /* read-only */
	REFUSED(gic_cpu_write(&T->g, 0, GICC_RPR, 4, 0));
	REFUSED(gic_cpu_write(&T->g, 0, GICC_HPPIR, 4, 0));
	REFUSED(gic_cpu_write(&T->g, 0, GICC_IIDR, 4, 0));
	REFUSED(gic_cpu_write(&T->g, 0, GICC_PMR, 2, 0));
	REFUSED(gic_cpu_write(&T->g, 0, GICC_EOIR, 4, 1022));
	REFUSED(gic_cpu_write(&T->g, 0, GICC_DIR, 4, 100));      /* not implemented */
	REFUSED(gic_cpu_write(&T->g, 0, 0x800, 4, 0));
#undef REFUSED
	/* None of it changed a register. */
	assert_int_equal(drd(0, GICD_CTLR), 0);
	assert_int_equal(drd(0, GICD_ISENABLER), 0);
	assert_int_equal(crd(0, GICC_PMR), 0);
}

static void test_ignored_but_allowed(void **state)
{
	/* GICD_NSACR is RAZ/WI without Security Extensions; GICC_APR1-3 and
	 * the Non-secure APRs read zero. */
	dwr(0, GICD_NSACR, 0xffffffff);
	assert_int_equal(drd(0, GICD_NSACR), 0);
	cwr(0, GICC_NSAPR0, 1);
	assert_int_equal(crd(0, GICC_NSAPR0), 0);
	assert_int_equal(crd(0, GICC_APR0 + 4), 0);
	assert_int_equal(T->g.guest_errors, 0);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* A storm of random accesses and line changes: nothing crashes, the
 * outputs are only ever driven on a change (the fake checks), and
 * whenever an output is high an acknowledge gives a real INTID. */
static void test_random_accesses_keep_invariants(void **state)
{
	static const unsigned sizes[] = { 1, 2, 4, 8, 3 };
	uint32_t v;

	for (int i = 0; i < 200000; i++) {
		unsigned cpu = rnd() % 3, size = sizes[rnd() % 5];
		unsigned off = rnd() % 0x2100;

		switch (rnd() % 6) {
		case 0:
			gic_dist_read(&T->g, cpu, off & 0xfff, size, &v);
			break;
		case 1:
			gic_dist_write(&T->g, cpu, off & 0xfff, size, rnd() | rnd() << 24);
			break;
		case 2:
			gic_cpu_read(&T->g, cpu, off & ~3u, 4, &v);
			if ((off & ~3u) == GICC_IAR && cpu < NCPUS)
				assert_true(v == GIC_INTID_SPURIOUS || v == GIC_INTID_GRP1_NO_ACK ||
					    (v & 0x3ff) < T->g.nr_irqs);
			break;
		case 3:
			gic_cpu_write(&T->g, cpu, off & ~3u, size, rnd());
			break;
		case 4:
			gic_set_spi(&T->g, rnd() % 100, rnd() & 1);
			break;
		case 5:
			gic_set_ppi(&T->g, cpu, rnd() % 34, rnd() & 1);
			break;
		}
		for (unsigned c = 0; c < NCPUS; c++)
			if (T->f.irq[c] && !(T->g.cpu[c].ctlr & 3))
				fail_msg("CPU %u: IRQ high with its interface disabled", c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typer_follows_spis_and_cpus, setup_8, teardown),
		cmocka_unit_test(test_spis_clamped),
		cmocka_unit_test_setup_teardown(test_priority_fields_implement_five_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_set_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_register_reads_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uniprocessor_targets, setup_1, teardown),
		cmocka_unit_test_setup_teardown(test_level_held_until_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_still_high_at_eoi_signals_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_lowered_before_acknowledge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge_latches_and_active_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_set_clear_by_software, setup, teardown),
		cmocka_unit_test_setup_teardown(test_active_set_clear_by_software, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_interrupt_stays_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_distributor_and_cpu_interface_enables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_highest_priority_first_ties_lowest_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preemption_and_running_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_point_groups_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eoi_without_active_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eoimode_split_priority_drop_and_deactivate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spurious_when_nothing_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group1_and_ackctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group0_to_fiq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgi_target_list_and_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgi_sources_pend_separately, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgi_filter_others_and_reserved, setup_8, teardown),
		cmocka_unit_test_setup_teardown(test_sgi_targets_beyond_cpus_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgi_pending_registers_banked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_registers_banked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ppi_reaches_its_cpu_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spi_one_of_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_keeps_input_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_sizes_offsets_and_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignored_but_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_accesses_keep_invariants, setup, teardown),
	};

	return cmocka_run_group_tests_name("gic-model", tests, NULL, NULL);
}
