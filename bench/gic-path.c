/* SPDX-License-Identifier: MIT */
/*
 * bench/gic-path.c - the userspace cost of one interrupt through the
 * emulated GICv2 (the gic plugin), without a guest: what irqchip =
 * "emulated" adds in the VMM per interrupt, beside the exits (an MMIO
 * exit for GICC_IAR, one for GICC_EOIR) and the KVM_IRQ_LINE ioctls the
 * nested host measures.
 *
 * Played through the test harness (vmm/harness.h) and the real gic.so,
 * 2 vCPUs, a Linux-like set-up: per interrupt a device raises SPI 33, the
 * GIC raises vCPU 0's IRQ input, the "guest" reads GICC_IAR (the input
 * falls), the device lowers the line, the guest writes GICC_EOIR.  The
 * other kinds: a PPI from the hypervisor (the virtual timer, 27) the same
 * way, and an SGI from vCPU 1 to vCPU 0 (GICD_SGIR, IAR, EOIR).
 *
 * Usage: gic-path ROUNDS INTERRUPTS.  Prints per round:
 *   spi NS  ppi NS  sgi NS   (ns per interrupt)
 * Exit status 1 when an interrupt is not delivered as expected.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vmm/harness.h>

#define GICD 0x08000000ull
#define GICC 0x08010000ull

static struct vmm_harness *h;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void wr(unsigned vcpu, uint64_t addr, uint32_t v)
{
	vmm_harness_set_vcpu(h, vcpu);
	vmm_harness_mmio_write(h, addr, 4, v);
}

static uint32_t rd(unsigned vcpu, uint64_t addr)
{
	vmm_harness_set_vcpu(h, vcpu);
	return (uint32_t)vmm_harness_mmio_read(h, addr, 4);
}

static int take(uint32_t want)
{
	if (!vmm_harness_cpu_line(h, 0, VMM_CPU_IRQ))
		return -1;
	if ((rd(0, GICC + 0x0c) & 0x3ff) != want)
		return -1;
	return vmm_harness_cpu_line(h, 0, VMM_CPU_IRQ) ? -1 : 0;
}

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 11;
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;

	setenv("VMM_HARNESS_QUIET", "1", 0);
	h = vmm_harness_new();
	if (!h || vmm_harness_set_vcpus(h, 2) ||
	    !vmm_harness_create_device(h, "gic", "gic", NULL)) {
		fprintf(stderr, "gic-path: cannot create the gic device\n");
		return 1;
	}
	wr(0, GICD + 0x000, 1);                     /* GICD_CTLR */
	for (unsigned v = 0; v < 2; v++) {
		wr(v, GICC + 0x004, 0xf0);          /* GICC_PMR */
		wr(v, GICC + 0x000, 1);             /* GICC_CTLR */
		wr(v, GICD + 0x100, 0x0000ffff);    /* SGIs on */
	}
	wr(0, GICD + 0x100, 1u << 27);              /* the virtual timer's PPI */
	wr(0, GICD + 0x104, 1u << 1);               /* SPI 33 */
	vmm_harness_set_vcpu(h, 0);
	vmm_harness_mmio_write(h, GICD + 0x800 + 33, 1, 0x01);
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t t[4];

		t[0] = now_ns();
		for (unsigned i = 0; i < n; i++) {
			vmm_harness_irq_drive(h, 33, 1);
			if (take(33))
				goto bad;
			vmm_harness_irq_drive(h, 33, 0);
			wr(0, GICC + 0x10, 33);
		}
		t[1] = now_ns();
		for (unsigned i = 0; i < n; i++) {
			vmm_harness_private_drive(h, 0, 27, 1);
			if (take(27))
				goto bad;
			vmm_harness_private_drive(h, 0, 27, 0);
			wr(0, GICC + 0x10, 27);
		}
		t[2] = now_ns();
		for (unsigned i = 0; i < n; i++) {
			wr(1, GICD + 0xf00, 0x01u << 16 | 1);
			if (take(1))
				goto bad;
			wr(0, GICC + 0x10, 1 | 1u << 10);
		}
		t[3] = now_ns();
		printf("spi %.1f ppi %.1f sgi %.1f\n", (double)(t[1] - t[0]) / n,
		       (double)(t[2] - t[1]) / n, (double)(t[3] - t[2]) / n);
	}
	vmm_harness_free(h);
	return 0;
bad:
	fprintf(stderr, "gic-path: an interrupt was not delivered as the GICv2 specification says\n");
	return 1;
}
