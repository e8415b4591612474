/* SPDX-License-Identifier: MIT */
/*
 * The in-kernel vGICv3's record (hypervisors/kvm/kvm-arm64-vgic.c) on a
 * fake vGIC: a table of device attributes that answers KVM_GET/SET_DEVICE_
 * ATTR the way arm-vgic-v3.rst says (32-bit distributor, redistributor and
 * line-level words, 64-bit CPU system registers, the affinity in attr bits
 * 63:32) and logs every write.  Checked: the registers walked, a save
 * loaded into a fresh vGIC gives the same registers, the order of the
 * writes on load (IIDR, then CTLR, configuration before line level before
 * pending, clear before set, ICC_SRE_EL1 and ICC_CTLR_EL1 before the rest
 * of a CPU interface), and a damaged, short or foreign record refused in
 * one line before anything is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hypervisors/kvm/kvm-arm64-vgic.h"

#define MAX_ATTRS 8192
#define MAX_LOG   16384

/* The fake: every (group, attr) it has been written or primed with. */
struct fake {
	struct {
		uint32_t group;
		uint64_t attr;
		uint64_t val;
	} a[MAX_ATTRS];
	size_t n;
	struct {
		uint32_t group;
		uint64_t attr;
		uint64_t val;
	} log[MAX_LOG];
	size_t nlog;
	size_t reads;
	uint32_t refuse_group; /* nonzero: refuse a set of this group/attr */
	uint64_t refuse_attr;
	uint64_t icc_ctlr;     /* what ICC_CTLR_EL1 reads as when unset */
};

static uint64_t *slot(struct fake *f, uint32_t group, uint64_t attr, bool make)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->a[i].group == group && f->a[i].attr == attr)
			return &f->a[i].val;
	if (!make || f->n == MAX_ATTRS)
		return NULL;
	f->a[f->n].group = group;
	f->a[f->n].attr = attr;
	f->a[f->n].val = (group == A64_VGIC_GRP_CPU_SYSREGS && (attr & 0xffff) == ICC_CTLR_EL1) ? f->icc_ctlr : 0;
	return &f->a[f->n++].val;
}

static int fake_attr(void *opaque, bool set, uint32_t group, uint64_t attr, void *val)
{
	struct fake *f = opaque;
	bool wide = group == A64_VGIC_GRP_CPU_SYSREGS;
	uint64_t *v;

	if (set && f->refuse_group == group && f->refuse_attr == attr)
		return -EINVAL;
	v = slot(f, group, attr, true);
	assert_non_null(v);
	if (set) {
		uint64_t nv = wide ? *(uint64_t *)val : *(uint32_t *)val;

		*v = nv;
		assert_true(f->nlog < MAX_LOG);
		f->log[f->nlog].group = group;
		f->log[f->nlog].attr = attr;
		f->log[f->nlog++].val = nv;
	} else {
		f->reads++;
		if (wide)
			*(uint64_t *)val = *v;
		else
			*(uint32_t *)val = (uint32_t)*v;
	}
	return 0;
}

static const uint64_t mpidr2[2] = { 0x80000000ull, 0x80000001ull };
#define AFF(cpu) ((uint64_t)(cpu) << 32) /* the attr's affinity field of mpidr2[cpu] */

/* Fills the fake with distinct values in every register a guest could
 * have changed, as a running vGIC would hold. */
static void prime(struct fake *f, uint32_t nr_irqs, unsigned ncpus, uint64_t ctlr)
{
	struct a64_vgic_reg *r;
	unsigned aprs[4];
	size_t n;

	for (unsigned c = 0; c < ncpus; c++)
		aprs[c] = a64_vgic_aprs(ctlr);
	assert_int_equal(a64_vgic_walk(nr_irqs, ncpus, aprs, &r, &n), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t attr = a64_vgic_attr(&r[i], mpidr2[r[i].cpu]);
		uint64_t v = 0x1000u * (i + 1) + r[i].reg;

		if (r[i].group == A64_VGIC_GRP_CPU_SYSREGS)
			v |= (uint64_t)(i + 1) << 40;
		if (r[i].group == A64_VGIC_GRP_CPU_SYSREGS && r[i].reg == ICC_CTLR_EL1)
			v = ctlr;
		if (r[i].width == 8 && r[i].group != A64_VGIC_GRP_CPU_SYSREGS) {
			*slot(f, r[i].group, attr, true) = (uint32_t)v;
			*slot(f, r[i].group, attr + 4, true) = i; /* the high half */
		} else {
			*slot(f, r[i].group, attr, true) = r[i].group == A64_VGIC_GRP_CPU_SYSREGS ? v : (uint32_t)v;
		}
	}
	free(r);
}

static struct fake *fake_new(uint64_t ctlr)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->icc_ctlr = ctlr;
	return f;
}

/* ICC_CTLR_EL1 with PRIbits = bits - 1 (bits 10:8) and IDbits 0. */
#define CTLR_PRIBITS(bits) ((uint64_t)((bits) - 1) << 8)

static size_t find_write(const struct fake *f, uint32_t group, uint64_t attr)
{
	for (size_t i = 0; i < f->nlog; i++)
		if (f->log[i].group == group && f->log[i].attr == attr)
			return i;
	fail_msg("no write of group %u attr 0x%llx", group, (unsigned long long)attr);
	return 0;
}

static size_t last_write(const struct fake *f, uint32_t group, uint64_t attr)
{
	size_t at = SIZE_MAX;

	for (size_t i = 0; i < f->nlog; i++)
		if (f->log[i].group == group && f->log[i].attr == attr)
			at = i;
	assert_true(at != SIZE_MAX);
	return at;
}

static bool walked(const struct a64_vgic_reg *r, size_t n, uint8_t group, uint16_t cpu, uint32_t reg)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].group == group && r[i].cpu == cpu && r[i].reg == reg)
			return true;
	return false;
}

static void test_walk_registers(void **state)
{
	struct a64_vgic_reg *r;
	unsigned aprs[2] = { 1, 4 };
	size_t n;

	(void)state;
	/* 96 INTIDs (the gic plugin's default 64 SPIs), 2 vCPUs. */
	assert_int_equal(a64_vgic_walk(96, 2, aprs, &r, &n), 0);
	/* The distributor: IIDR, CTLR, STATUSR; 2 SPI words of IGROUPR,
	 * ISENABLER, ISPENDR, ISACTIVER and line levels; 16 IPRIORITYR, 64
	 * IROUTER, 4 ICFGR.  Each redistributor 18 and its PPI levels; the
	 * CPU interfaces 7 + 2 APRs and 7 + 8. */
	assert_int_equal(n, 3 + 2 * 5 + 16 + 64 + 4 + 2 * 18 + (7 + 2) + (7 + 8));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_IIDR));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_CTLR));
	assert_false(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_TYPER));     /* read-only */
	assert_false(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_ISENABLER)); /* word 0: GICR's */
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_ISENABLER + 4));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_ISENABLER + 8));
	assert_false(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_ISENABLER + 12)); /* past 96 */
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_IPRIORITYR + 32));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_IPRIORITYR + 92));
	assert_false(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_IPRIORITYR + 96));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_IROUTER + 8 * 32));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_IROUTER + 8 * 95));
	assert_false(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_IROUTER + 8 * 31));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_ICFGR + 8));
	assert_true(walked(r, n, A64_VGIC_GRP_DIST_REGS, 0, GICD_ICFGR + 20));
	assert_true(walked(r, n, A64_VGIC_GRP_LEVEL_INFO, 0, 32));
	assert_true(walked(r, n, A64_VGIC_GRP_LEVEL_INFO, 0, 64));
	for (uint16_t c = 0; c < 2; c++) {
		assert_true(walked(r, n, A64_VGIC_GRP_LEVEL_INFO, c, 0)); /* the timers' PPIs */
		assert_true(walked(r, n, A64_VGIC_GRP_REDIST_REGS, c, GICR_ICFGR1));
		assert_true(walked(r, n, A64_VGIC_GRP_REDIST_REGS, c, GICR_ISPENDR0));
		assert_true(walked(r, n, A64_VGIC_GRP_REDIST_REGS, c, GICR_ISACTIVER0));
		assert_true(walked(r, n, A64_VGIC_GRP_REDIST_REGS, c, GICR_IPRIORITYR0 + 28));
		assert_true(walked(r, n, A64_VGIC_GRP_CPU_SYSREGS, c, ICC_SRE_EL1));
		assert_true(walked(r, n, A64_VGIC_GRP_CPU_SYSREGS, c, ICC_IGRPEN1_EL1));
		assert_true(walked(r, n, A64_VGIC_GRP_CPU_SYSREGS, c, ICC_PMR_EL1));
		assert_true(walked(r, n, A64_VGIC_GRP_CPU_SYSREGS, c, ICC_AP1R_EL1(0)));
	}
	/* The active priorities PRIbits implies, no more (KVM refuses them). */
	assert_false(walked(r, n, A64_VGIC_GRP_CPU_SYSREGS, 0, ICC_AP0R_EL1(1)));
	assert_true(walked(r, n, A64_VGIC_GRP_CPU_SYSREGS, 1, ICC_AP0R_EL1(3)));
	assert_true(walked(r, n, A64_VGIC_GRP_CPU_SYSREGS, 1, ICC_AP1R_EL1(3)));
	free(r);
	assert_int_equal(a64_vgic_aprs(CTLR_PRIBITS(5)), 1);
	assert_int_equal(a64_vgic_aprs(CTLR_PRIBITS(6)), 2);
	assert_int_equal(a64_vgic_aprs(CTLR_PRIBITS(7)), 4);
	/* Not a vGIC KVM makes. */
	assert_int_equal(a64_vgic_walk(48, 1, aprs, &r, &n), -EINVAL);
	assert_int_equal(a64_vgic_walk(1056, 1, aprs, &r, &n), -EINVAL);
	assert_int_equal(a64_vgic_walk(96, 0, aprs, &r, &n), -EINVAL);
}

static void test_attr_encoding(void **state)
{
	struct a64_vgic_reg d = { .group = A64_VGIC_GRP_DIST_REGS, .width = 4, .reg = GICD_ISPENDR + 4 };
	struct a64_vgic_reg rd = { .group = A64_VGIC_GRP_REDIST_REGS, .width = 4, .cpu = 1, .reg = GICR_ISPENDR0 };
	struct a64_vgic_reg icc = { .group = A64_VGIC_GRP_CPU_SYSREGS, .width = 8, .reg = ICC_IGRPEN1_EL1 };
	struct a64_vgic_reg lv = { .group = A64_VGIC_GRP_LEVEL_INFO, .width = 4, .reg = 64 };
	char name[64];

	(void)state;
	/* MPIDR_EL1 Aff3 (bits 39:32) lands in attr bits 63:56, Aff2-0 below. */
	uint64_t mpidr = 0x12ull << 32 | 0x80000000ull | 0x345678;
	assert_int_equal(a64_vgic_attr(&d, mpidr), GICD_ISPENDR + 4);
	assert_int_equal(a64_vgic_attr(&rd, mpidr), 0x12345678ull << 32 | GICR_ISPENDR0);
	assert_int_equal(a64_vgic_attr(&icc, mpidr), 0x12345678ull << 32 | 0xc667);
	assert_int_equal(a64_vgic_attr(&lv, 1), 1ull << 32 | 64);
	/* The encodings of arm-vgic-v3.rst's system registers. */
	assert_int_equal(ICC_SRE_EL1, 0xc665);
	assert_int_equal(ICC_CTLR_EL1, 0xc664);
	assert_int_equal(ICC_PMR_EL1, 0xc230);
	assert_int_equal(ICC_AP1R_EL1(0), 0xc648);
	assert_int_equal(ICC_AP0R_EL1(0), 0xc644);
	a64_vgic_reg_name(&rd, name, sizeof(name));
	assert_string_equal(name, "vCPU 1's GICR_ISPENDR0");
	a64_vgic_reg_name(&d, name, sizeof(name));
	assert_string_equal(name, "GICD_ISPENDR1");
	icc.reg = ICC_AP1R_EL1(2);
	a64_vgic_reg_name(&icc, name, sizeof(name));
	assert_string_equal(name, "vCPU 0's ICC_AP1R2_EL1");
	a64_vgic_reg_name(&lv, name, sizeof(name));
	assert_string_equal(name, "line levels of INTIDs 64-95");
}

/* SRC primed as a vGIC of IRQS INTIDs on CPUS vCPUs with ICC_CTLR_EL1
 * CTLR, then saved into *BUF. */
static void save_one(struct fake *src, uint32_t irqs, unsigned cpus, uint64_t ctlr, uint8_t **buf,
		     size_t *len)
{
	struct a64_vgic_io in = { fake_attr, src };
	char why[160] = "";

	prime(src, irqs, cpus, ctlr);
	assert_int_equal(a64_vgic_save(&in, irqs, mpidr2, cpus, buf, len, why, sizeof(why)), 0);
}

/* Saved from one vGIC, loaded into a fresh one: every register the walk
 * has holds what the first held, IROUTER's both halves too. */
static void test_round_trip(void **state)
{
	struct fake *src = fake_new(CTLR_PRIBITS(7)), *dst = fake_new(CTLR_PRIBITS(7));
	struct a64_vgic_io out = { fake_attr, dst };
	uint8_t *buf;
	size_t len;
	char why[160] = "";

	(void)state;
	save_one(src, 128, 2, CTLR_PRIBITS(7), &buf, &len);
	assert_int_equal(len % A64_VGIC_ENTRY_BYTES, 0);
	assert_int_equal(a64_vgic_load(&out, 128, mpidr2, 2, buf, len, why, sizeof(why)), 0);
	size_t compared = 0;
	for (size_t i = 0; i < src->n; i++) {
		uint64_t *v = slot(dst, src->a[i].group, src->a[i].attr, false);

		if (src->a[i].group == A64_VGIC_GRP_DIST_REGS && src->a[i].attr == GICD_TYPER)
			continue;
		assert_non_null(v);
		if (*v != src->a[i].val)
			fail_msg("group %u attr 0x%llx: 0x%llx, saved 0x%llx", src->a[i].group,
				 (unsigned long long)src->a[i].attr, (unsigned long long)*v,
				 (unsigned long long)src->a[i].val);
		compared++;
	}
	assert_true(compared > 300);
	/* The high half of an SPI's route went through. */
	assert_int_not_equal(*slot(dst, A64_VGIC_GRP_DIST_REGS, GICD_IROUTER + 8 * 40 + 4, false), 0);
	/* vCPU 1's redistributor is found by its affinity. */
	assert_non_null(slot(dst, A64_VGIC_GRP_REDIST_REGS, AFF(1) | GICR_ISPENDR0, false));
	assert_non_null(slot(dst, A64_VGIC_GRP_LEVEL_INFO, AFF(1) | 0, false));
	free(buf);
	free(src);
	free(dst);
}

static void test_load_order(void **state)
{
	struct fake *src = fake_new(CTLR_PRIBITS(5)), *dst = fake_new(CTLR_PRIBITS(5));
	struct a64_vgic_io out = { fake_attr, dst };
	uint8_t *buf;
	size_t len;
	char why[160] = "";

	(void)state;
	save_one(src, 96, 2, CTLR_PRIBITS(5), &buf, &len);
	assert_int_equal(a64_vgic_load(&out, 96, mpidr2, 2, buf, len, why, sizeof(why)), 0);
	/* GICD_IIDR first, GICD_CTLR next, before any redistributor. */
	assert_int_equal(dst->log[0].group, A64_VGIC_GRP_DIST_REGS);
	assert_int_equal(dst->log[0].attr, GICD_IIDR);
	assert_int_equal(dst->log[1].attr, GICD_CTLR);
	size_t d_ctlr = find_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_CTLR);
	for (unsigned c = 0; c < 2; c++) {
		/* Each redistributor: configuration, then the line level, then
		 * the pending latch; enables and actives cleared then set. */
		size_t cfg = find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ICFGR1);
		size_t lvl = find_write(dst, A64_VGIC_GRP_LEVEL_INFO, AFF(c) | 0);
		size_t pend = find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ISPENDR0);
		size_t prio = find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | (GICR_IPRIORITYR0 + 24));

		assert_true(d_ctlr < find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_CTLR));
		assert_true(cfg < lvl);
		assert_true(lvl < pend);
		assert_true(prio < pend);
		assert_true(find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ICENABLER0) <
			    find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ISENABLER0));
		assert_true(find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ICACTIVER0) <
			    find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ISACTIVER0));
		/* The clear register gets the complement of the saved bits. */
		uint32_t saved = (uint32_t)*slot(src, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ISENABLER0, false);
		assert_int_equal(dst->log[find_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ICENABLER0)].val,
				 (uint32_t)~saved);
		/* The CPU interface: SRE first, CTLR before the binary points,
		 * the group enables and the active priorities. */
		size_t sre = find_write(dst, A64_VGIC_GRP_CPU_SYSREGS, AFF(c) | ICC_SRE_EL1);
		size_t ctlr = find_write(dst, A64_VGIC_GRP_CPU_SYSREGS, AFF(c) | ICC_CTLR_EL1);
		assert_true(sre < ctlr);
		assert_true(ctlr < find_write(dst, A64_VGIC_GRP_CPU_SYSREGS, AFF(c) | ICC_BPR1_EL1));
		assert_true(ctlr < find_write(dst, A64_VGIC_GRP_CPU_SYSREGS, AFF(c) | ICC_PMR_EL1));
		assert_true(ctlr < find_write(dst, A64_VGIC_GRP_CPU_SYSREGS, AFF(c) | ICC_IGRPEN1_EL1));
		assert_true(ctlr < find_write(dst, A64_VGIC_GRP_CPU_SYSREGS, AFF(c) | ICC_AP1R_EL1(0)));
		assert_true(ctlr < find_write(dst, A64_VGIC_GRP_CPU_SYSREGS, AFF(c) | ICC_AP0R_EL1(0)));
		assert_true(last_write(dst, A64_VGIC_GRP_REDIST_REGS, AFF(c) | GICR_ISACTIVER0) < sre);
	}
	/* The SPIs: routes and configuration before the levels, the levels
	 * before the pending latches, then active. */
	size_t route = last_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_IROUTER + 8 * 95 + 4);
	size_t cfg = last_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_ICFGR + 20);
	size_t lvl = find_write(dst, A64_VGIC_GRP_LEVEL_INFO, 32);
	size_t pend = find_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_ISPENDR + 4);
	assert_true(d_ctlr < find_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_ISENABLER + 4));
	assert_true(route < pend);
	assert_true(cfg < lvl);
	assert_true(last_write(dst, A64_VGIC_GRP_LEVEL_INFO, 64) < pend);
	assert_true(pend < find_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_ISACTIVER + 4));
	assert_true(find_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_IROUTER + 8 * 40) <
		    find_write(dst, A64_VGIC_GRP_DIST_REGS, GICD_IROUTER + 8 * 40 + 4)); /* low half first */
	/* Nothing read-only written. */
	for (size_t i = 0; i < dst->nlog; i++)
		assert_false(dst->log[i].group == A64_VGIC_GRP_DIST_REGS && dst->log[i].attr == GICD_TYPER);
	free(buf);
	free(src);
	free(dst);
}

/* Drops entry i of the field (an entry is 16 bytes). */
static size_t drop(uint8_t *buf, size_t len, size_t i)
{
	memmove(buf + i * 16, buf + (i + 1) * 16, len - (i + 1) * 16);
	return len - 16;
}

static size_t index_of(const uint8_t *buf, size_t len, uint64_t key)
{
	for (size_t i = 0; i < len / 16; i++) {
		uint64_t k = 0;

		for (int b = 0; b < 8; b++)
			k |= (uint64_t)buf[i * 16 + b] << (8 * b);
		if (k == key)
			return i;
	}
	fail_msg("no key 0x%llx", (unsigned long long)key);
	return 0;
}

#define KEY(group, cpu, reg) ((uint64_t)(group) << 56 | (uint64_t)(cpu) << 32 | (reg))

static void expect_refused(uint8_t *buf, size_t len, uint32_t irqs, int err, const char *says)
{
	struct fake *dst = fake_new(CTLR_PRIBITS(5));
	struct a64_vgic_io out = { fake_attr, dst };
	char why[160] = "";

	assert_int_equal(a64_vgic_load(&out, irqs, mpidr2, 2, buf, len, why, sizeof(why)), err);
	if (!strstr(why, says))
		fail_msg("'%s' does not say '%s'", why, says);
	assert_null(strchr(why, '\n'));
	assert_int_equal(dst->nlog, 0); /* refused before the first write */
	free(dst);
}

static void test_damaged_refused(void **state)
{
	struct fake *src = fake_new(CTLR_PRIBITS(5));
	uint8_t *buf, *copy;
	size_t len, l;

	(void)state;
	save_one(src, 96, 2, CTLR_PRIBITS(5), &buf, &len);
	copy = malloc(len + 16);
	assert_non_null(copy);
	/* A missing register: vCPU 1's ICC_IGRPEN1_EL1, an SPI's pending word. */
	memcpy(copy, buf, len);
	l = drop(copy, len, index_of(copy, len, KEY(A64_VGIC_GRP_CPU_SYSREGS, 1, ICC_IGRPEN1_EL1)));
	expect_refused(copy, l, 96, -ENOENT, "no value for vCPU 1's ICC_IGRPEN1_EL1");
	memcpy(copy, buf, len);
	l = drop(copy, len, index_of(copy, len, KEY(A64_VGIC_GRP_LEVEL_INFO, 0, 64)));
	expect_refused(copy, l, 96, -ENOENT, "no value for line levels of INTIDs 64-95");
	memcpy(copy, buf, len);
	l = drop(copy, len, index_of(copy, len, KEY(A64_VGIC_GRP_CPU_SYSREGS, 0, ICC_CTLR_EL1)));
	expect_refused(copy, l, 96, -ENOENT, "no value for vCPU 0's ICC_CTLR_EL1");
	/* An extra one: a register of no vGIC this machine has (a third vCPU). */
	memcpy(copy, buf, len);
	memcpy(copy + len, copy, 16);
	for (int b = 0; b < 8; b++)
		copy[len + b] = (uint8_t)(KEY(A64_VGIC_GRP_REDIST_REGS, 2, GICR_CTLR) >> (8 * b));
	expect_refused(copy, len + 16, 96, -EPROTO, "vCPU 2's GICR_CTLR is not a register of this vGIC");
	/* The same register twice. */
	memcpy(copy, buf, len);
	memcpy(copy + len, copy + 16 * index_of(copy, len, KEY(A64_VGIC_GRP_DIST_REGS, 0, GICD_CTLR)), 16);
	expect_refused(copy, len + 16, 96, -EBADMSG, "GICD_CTLR appears twice");
	/* Cut short. */
	expect_refused(buf, len - 3, 96, -EBADMSG, "not a whole number");
	/* A record from a vGIC of more INTIDs: its SPI words are extra. */
	expect_refused(buf, len, 64, -EPROTO, "is not a register of this vGIC");
	/* From a CPU interface of 7 priority bits into the walk's 5: AP0R1-3
	 * are extra (KVM would refuse the CTLR too). */
	struct fake *src7 = fake_new(CTLR_PRIBITS(7));
	uint8_t *buf7;
	size_t len7;
	save_one(src7, 96, 2, CTLR_PRIBITS(7), &buf7, &len7);
	assert_int_equal(len7, len + 2 * 6 * 16);
	/* A 32-bit register holding more. */
	memcpy(copy, buf, len);
	copy[16 * index_of(copy, len, KEY(A64_VGIC_GRP_DIST_REGS, 0, GICD_ISPENDR + 4)) + 12] = 1;
	expect_refused(copy, len, 96, -EBADMSG, "GICD_ISPENDR1 holds 0x");
	free(buf7);
	free(src7);
	free(copy);
	free(buf);
	free(src);
}

static void test_machine_checked(void **state)
{
	const uint64_t other[2] = { 0x80000000ull, 0x80000100ull };
	char why[200] = "";

	(void)state;
	assert_int_equal(a64_vgic_check_machine(96, mpidr2, 2, 96, mpidr2, 2, why, sizeof(why)), 0);
	assert_int_equal(a64_vgic_check_machine(256, mpidr2, 2, 96, mpidr2, 2, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "a vGIC of 256 INTIDs was saved, this machine's has 96"));
	assert_int_equal(a64_vgic_check_machine(96, mpidr2, 1, 96, mpidr2, 2, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "name 1 vCPUs, the machine has 2"));
	assert_int_equal(a64_vgic_check_machine(96, other, 2, 96, mpidr2, 2, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "vCPU 1's MPIDR_EL1 is 0x80000001, its redistributor was saved for 0x80000100"));
}

/* KVM refusing a write ends the load, naming the register. */
static void test_kvm_refusal_named(void **state)
{
	struct fake *src = fake_new(CTLR_PRIBITS(5)), *dst = fake_new(CTLR_PRIBITS(5));
	struct a64_vgic_io out = { fake_attr, dst };
	uint8_t *buf;
	size_t len;
	char why[160] = "";

	(void)state;
	save_one(src, 96, 2, CTLR_PRIBITS(5), &buf, &len);
	dst->refuse_group = A64_VGIC_GRP_CPU_SYSREGS;
	dst->refuse_attr = AFF(1) | ICC_CTLR_EL1;
	assert_int_equal(a64_vgic_load(&out, 96, mpidr2, 2, buf, len, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "KVM refused vCPU 1's ICC_CTLR_EL1: "));
	free(buf);
	free(src);
	free(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_registers),
		cmocka_unit_test(test_attr_encoding),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_load_order),
		cmocka_unit_test(test_damaged_refused),
		cmocka_unit_test(test_machine_checked),
		cmocka_unit_test(test_kvm_refusal_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
