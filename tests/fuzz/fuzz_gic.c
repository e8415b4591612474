/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_gic.c - libFuzzer target for the GICv2 register model
 * (devices/gic/gic-model.c) on its own: its register interface from every
 * CPU interface and its input lines.
 *
 * Input layout:
 *   [0]     CPU interfaces: 1 + n % 8
 *   [1]     SPIs: 32 * (1 + n % 31)
 *   then    8-byte operations: [op] [cpu] [offset lo] [offset hi]
 *           [value 0..3, little-endian]; op % 9 picks a distributor read
 *           or write, a CPU interface read or write (size 1, 2, 4 or 3
 *           from op's bits 4-5), an SPI or PPI level, an acknowledge and
 *           EOI pair, or a reset.
 *
 * Checked after every operation: outputs are driven only on a change
 * (the callbacks see the level flip), an output is high only while
 * GICC_HPPIR names an interrupt, GICC_IAR returns an implemented INTID or
 * 1022/1023, and the running priority is 0xff exactly when no priority is
 * active.  AddressSanitizer and UBSan catch any access outside the
 * model's arrays (offsets and INTIDs come from the input unchecked).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/gic/gic-model.h"

struct outputs {
	int irq[GIC_MAX_CPUS], fiq[GIC_MAX_CPUS];
};

static void invariant(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant failed: %s\n", what);
		abort();
	}
}

static void out_irq(void *opaque, unsigned cpu, int level)
{
	struct outputs *o = opaque;

	invariant(cpu < GIC_MAX_CPUS, "output for a CPU that does not exist");
	invariant(o->irq[cpu] != level, "IRQ driven without a change");
	o->irq[cpu] = level;
}

static void out_fiq(void *opaque, unsigned cpu, int level)
{
	struct outputs *o = opaque;

	invariant(cpu < GIC_MAX_CPUS, "output for a CPU that does not exist");
	invariant(o->fiq[cpu] != level, "FIQ driven without a change");
	o->fiq[cpu] = level;
}

static const struct gic_ops ops = { .set_irq = out_irq, .set_fiq = out_fiq };

static void check(struct gic *g, const struct outputs *o)
{
	for (unsigned c = 0; c < g->nr_cpus; c++) {
		uint32_t v;

		invariant(gic_cpu_read(g, c, GICC_HPPIR, 4, &v), "GICC_HPPIR refused");
		if (o->irq[c] || o->fiq[c])
			invariant((v & 0x3ff) != GIC_INTID_SPURIOUS, "output high, nothing pending");
		invariant(gic_cpu_read(g, c, GICC_RPR, 4, &v), "GICC_RPR refused");
		invariant((v == GIC_IDLE_PRIORITY) == (g->cpu[c].apr == 0), "running priority");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sizes[4] = { 1, 2, 4, 3 };
	struct outputs o;
	struct gic *g;

	if (size < 2)
		return 0;
	g = malloc(sizeof(*g));
	if (!g)
		return 0;
	memset(&o, 0, sizeof(o));
	gic_init(g, &ops, &o, 1u + data[0] % 8, 32u * (1u + data[1] % 31));
	for (size_t i = 2; i + 8 <= size; i += 8) {
		const uint8_t *p = data + i;
		unsigned op = p[0], cpu = p[1] % 10, len = sizes[(op >> 4) & 3];
		unsigned off = (unsigned)p[2] | (unsigned)p[3] << 8;
		uint32_t value = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
				 (uint32_t)p[7] << 24;
		uint32_t v;

		switch (op % 9) {
		case 0:
			gic_dist_read(g, cpu, off, len, &v);
			break;
		case 1:
			gic_dist_write(g, cpu, off, len, value);
			break;
		case 2:
			gic_cpu_read(g, cpu, off, len, &v);
			break;
		case 3:
			gic_cpu_write(g, cpu, off, len, value);
			break;
		case 4:
			gic_set_spi(g, off, value & 1);
			break;
		case 5:
			gic_set_ppi(g, cpu, off, value & 1);
			break;
		case 6:
			if (gic_cpu_read(g, cpu, GICC_IAR, 4, &v)) {
				invariant((v & 0x3ff) < g->nr_irqs || v == GIC_INTID_SPURIOUS ||
					  v == GIC_INTID_GRP1_NO_ACK, "GICC_IAR out of range");
				if (value & 1)
					gic_cpu_write(g, cpu, GICC_EOIR, 4, v);
			}
			break;
		case 7:
			gic_cpu_write(g, cpu, GICC_EOIR, 4, value);
			break;
		case 8:
			if ((value & 0xff) == 0)
				gic_reset(g);
			break;
		}
		check(g, &o);
	}
	free(g);
	return 0;
}
