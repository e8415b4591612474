/* tests/unit/test_gic_plugin.c - the gic plugin (an emulated GICv2)
 * through the harness and the real gic.so: guest accesses on its two MMIO
 * windows from a chosen vCPU, device lines as SPIs, the hypervisor's
 * per-vCPU PPIs (private_irq_set), and the vCPUs' IRQ and FIQ inputs it
 * drives (cpu_irq_line, ABI 1.8).  The register semantics themselves are
 * test_gic.c's; this checks the wiring. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vmm/harness.h>
#include "devices/gic/gic-model.h"

#include "device-fixture.h"

#define GICD 0x08000000ULL
#define GICC 0x08010000ULL

/* A "gic" on VCPUS vCPUs of harness H, created with PROPS. */
static struct vmm_harness_dev *gic_on(struct vmm_harness *h, unsigned vcpus,
				      const char *const *props)
{
	struct vmm_harness_dev *d;

	assert_non_null(h);
	assert_int_equal(vmm_harness_set_vcpus(h, vcpus), 0);
	d = vmm_harness_create_device(h, "gic", "gic", props);
	assert_non_null(d);
	return d;
}

/* A second machine for a saved record to go into: a new harness in MODE
 * with a "gic" of its own in *DEV. */
static struct vmm_harness *second_gic(enum vmm_irq_mode mode, unsigned vcpus,
				      const char *const *props, struct vmm_harness_dev **dev)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, mode);
	*dev = gic_on(h, vcpus, props);
	return h;
}

static int setup_n(void **state, unsigned vcpus, const char *const *props)
{
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	F->dev = gic_on(F->h, vcpus, props);
	return 0;
}

static int setup(void **state)
{
	return setup_n(state, 2, NULL);
}

static int setup_bare(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static uint32_t drd(unsigned vcpu, unsigned off)
{
	assert_int_equal(vmm_harness_set_vcpu(F->h, vcpu), 0);
	return (uint32_t)vmm_harness_mmio_read(F->h, GICD + off, 4);
}

static void dwr(unsigned vcpu, unsigned off, uint32_t v)
{
	assert_int_equal(vmm_harness_set_vcpu(F->h, vcpu), 0);
	vmm_harness_mmio_write(F->h, GICD + off, 4, v);
}

static uint32_t crd(unsigned vcpu, unsigned off)
{
	assert_int_equal(vmm_harness_set_vcpu(F->h, vcpu), 0);
	return (uint32_t)vmm_harness_mmio_read(F->h, GICC + off, 4);
}

static void cwr(unsigned vcpu, unsigned off, uint32_t v)
{
	assert_int_equal(vmm_harness_set_vcpu(F->h, vcpu), 0);
	vmm_harness_mmio_write(F->h, GICC + off, 4, v);
}

static int irq(unsigned vcpu)
{
	return vmm_harness_cpu_line(F->h, vcpu, VMM_CPU_IRQ);
}

static int fiq(unsigned vcpu)
{
	return vmm_harness_cpu_line(F->h, vcpu, VMM_CPU_FIQ);
}

static void bring_up(unsigned vcpus)
{
	dwr(0, GICD_CTLR, GICD_CTLR_ENABLE_GRP0);
	for (unsigned v = 0; v < vcpus; v++) {
		cwr(v, GICC_PMR, 0xf0);
		cwr(v, GICC_CTLR, GICC_CTLR_ENABLE_GRP0);
	}
}

static void test_identity_and_windows(void **state)
{
	/* 64 SPIs by default: 96 INTIDs, ITLinesNumber 2; 2 CPUs. */
	assert_int_equal(drd(0, GICD_TYPER), 2 | 1 << 5);
	assert_int_equal(drd(1, GICD_IIDR), GICD_IIDR_VALUE);
	assert_int_equal(crd(0, GICC_IIDR), GICC_IIDR_VALUE);
	/* GICC_DIR is in the second 4 KiB of the CPU interface: it is mapped. */
	cwr(0, GICC_DIR, GIC_INTID_SPURIOUS);
	assert_int_equal(vmm_harness_unclaimed_count(F->h), 0);
	/* Past both windows: nothing. */
	vmm_harness_mmio_read(F->h, GICC + GICC_SIZE, 4);
	vmm_harness_mmio_read(F->h, GICD + GICD_SIZE, 4);
	assert_int_equal(vmm_harness_unclaimed_count(F->h), 2);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

/* The accessing vCPU picks the banked registers, in both windows. */
static void test_banked_by_the_accessing_vcpu(void **state)
{
	assert_int_equal(drd(0, GICD_ITARGETSR), 0x01010101);
	assert_int_equal(drd(1, GICD_ITARGETSR + 28), 0x02020202);
	dwr(1, GICD_ISENABLER, 1u << 27);
	assert_int_equal(drd(1, GICD_ISENABLER), 1u << 27);
	assert_int_equal(drd(0, GICD_ISENABLER), 0);
	cwr(1, GICC_PMR, 0x80);
	assert_int_equal(crd(1, GICC_PMR), 0x80);
	assert_int_equal(crd(0, GICC_PMR), 0);
}

static void test_spi_from_a_device_line(void **state)
{
	bring_up(2);
	assert_true(vmm_harness_set_vcpu(F->h, 0) == 0);
	vmm_harness_mmio_write(F->h, GICD + GICD_ITARGETSR + 33, 1, 0x02); /* to vCPU 1 */
	dwr(0, GICD_ISENABLER + 4, 1u << 1);
	vmm_harness_irq_drive(F->h, 33, 1);
	assert_int_equal(irq(1), 1);
	assert_int_equal(irq(0), 0);
	assert_int_equal(crd(1, GICC_IAR), 33);
	assert_int_equal(irq(1), 0);
	vmm_harness_irq_drive(F->h, 33, 0);
	cwr(1, GICC_EOIR, 33);
	assert_int_equal(irq(1), 0);
	assert_int_equal(crd(1, GICC_RPR), 0xff);
}

static void test_line_high_before_enable_and_after_reset(void **state)
{
	vmm_harness_irq_drive(F->h, 40, 1);
	bring_up(2);
	vmm_harness_mmio_write(F->h, GICD + GICD_ITARGETSR + 40, 1, 0x01);
	dwr(0, GICD_ISENABLER + 4, 1u << 8);
	assert_int_equal(irq(0), 1);
	/* Reset: every register to its reset value, the line still high. */
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(irq(0), 0);
	assert_int_equal(drd(0, GICD_ISPENDR + 4), 1u << 8);
}

static void test_ppis_from_the_hypervisor(void **state)
{
	bring_up(2);
	dwr(0, GICD_ISENABLER, 1u << 27);
	dwr(1, GICD_ISENABLER, 1u << 27 | 1u << 30);
	/* vCPU 1's virtual timer fires. */
	assert_int_equal(vmm_harness_private_drive(F->h, 1, 27, 1), 0);
	assert_int_equal(irq(1), 1);
	assert_int_equal(irq(0), 0);
	assert_int_equal(crd(1, GICC_IAR), 27);
	/* The handler reprograms the timer: the level falls, then EOI. */
	assert_int_equal(vmm_harness_private_drive(F->h, 1, 27, 0), 0);
	cwr(1, GICC_EOIR, 27);
	assert_int_equal(irq(1), 0);
	/* Still high at EOI: signalled again, as a level is. */
	assert_int_equal(vmm_harness_private_drive(F->h, 1, 30, 1), 0);
	assert_int_equal(crd(1, GICC_IAR), 30);
	cwr(1, GICC_EOIR, 30);
	assert_int_equal(irq(1), 1);
	/* A private line that is no PPI is dropped with a warning. */
	unsigned long warns = vmm_harness_log_count(F->h, VMM_LOG_WARN);
	assert_int_equal(vmm_harness_private_drive(F->h, 0, 40, 1), 0);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_WARN), warns + 1);
	assert_int_equal(vmm_harness_private_drive(F->h, 2, 27, 1), -EINVAL);
}

static void test_sgi_between_vcpus(void **state)
{
	bring_up(2);
	dwr(1, GICD_ISENABLER, 1u << 1);
	dwr(0, GICD_SGIR, GICD_SGIR_LIST << 24 | 0x02 << 16 | 1);
	assert_int_equal(irq(1), 1);
	assert_int_equal(irq(0), 0);
	assert_int_equal(crd(1, GICC_IAR), 1 | 0 << GIC_IAR_CPUID_SHIFT);
	cwr(1, GICC_EOIR, 1);
	dwr(1, GICD_SGIR, GICD_SGIR_OTHERS << 24 | 1);
	assert_int_equal(irq(1), 0);
	dwr(0, GICD_ISENABLER, 1u << 1);
	assert_int_equal(irq(0), 1);
	assert_int_equal(crd(0, GICC_IAR), 1 | 1 << GIC_IAR_CPUID_SHIFT);
}

static void test_group0_fiq_pin(void **state)
{
	bring_up(2);
	cwr(0, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_FIQEN);
	dwr(0, GICD_ISENABLER, 1u << 2);
	dwr(0, GICD_SGIR, GICD_SGIR_SELF << 24 | 2);
	assert_int_equal(fiq(0), 1);
	assert_int_equal(irq(0), 0);
}

static void test_only_changes_reach_the_hypervisor(void **state)
{
	bring_up(2);
	dwr(0, GICD_ISENABLER + 4, 1u << 1);
	vmm_harness_mmio_write(F->h, GICD + GICD_ITARGETSR + 33, 1, 0x01);
	unsigned calls = vmm_harness_cpu_line_calls(F->h);
	vmm_harness_irq_drive(F->h, 33, 1);
	assert_int_equal(vmm_harness_cpu_line_calls(F->h), calls + 1);
	/* Register traffic that changes nothing does not touch the input. */
	for (int i = 0; i < 10; i++)
		(void)crd(0, GICC_HPPIR);
	dwr(0, GICD_ISENABLER + 4, 1u << 1);
	assert_int_equal(vmm_harness_cpu_line_calls(F->h), calls + 1);
}

static void test_hostile_accesses_counted(void **state)
{
	unsigned long errs = vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR);

	/* Halfwords, unaligned words, reserved offsets, write-only reads:
	 * guest errors that read 0 and write nothing. */
	assert_int_equal(vmm_harness_mmio_read(F->h, GICD + GICD_CTLR, 2), 0);
	vmm_harness_mmio_write(F->h, GICD + GICD_CTLR, 2, 3);
	vmm_harness_mmio_write(F->h, GICD + GICD_CTLR, 1, 3);
	assert_int_equal(vmm_harness_mmio_read(F->h, GICD + 0x00c, 4), 0);
	assert_int_equal(vmm_harness_mmio_read(F->h, GICD + GICD_SGIR, 4), 0);
	assert_int_equal(vmm_harness_mmio_read(F->h, GICC + GICC_EOIR, 4), 0);
	assert_int_equal(vmm_harness_mmio_read(F->h, GICC + GICC_AIAR, 4), 0);
	vmm_harness_mmio_write(F->h, GICC + GICC_PMR, 1, 0xf0);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), errs + 8);
	assert_int_equal(drd(0, GICD_CTLR), 0);
	assert_int_equal(crd(0, GICC_PMR), 0);
	/* A byte-accessible register takes bytes and halfword-free words. */
	vmm_harness_mmio_write(F->h, GICD + GICD_IPRIORITYR + 33, 1, 0xa0);
	assert_int_equal(drd(0, GICD_IPRIORITYR + 32), 0xa000);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), errs + 8);
	/* An 8-byte access is two words. */
	vmm_harness_mmio_write(F->h, GICD + GICD_IPRIORITYR + 40, 8, 0x1020304050607080ull);
	assert_int_equal(drd(0, GICD_IPRIORITYR + 44), 0x10203040);
}

static void test_spis_property(void **state)
{
	static const char *const props[] = { "spis=988", NULL };

	setup_n(state, 8, props);
	/* 1020 INTIDs: ITLinesNumber 31; 8 CPUs. */
	assert_int_equal(drd(0, GICD_TYPER), 31 | 7 << 5);
	bring_up(8);
	dwr(0, GICD_ISENABLER + 4 * 31, 1u << 27); /* INTID 1019 */
	vmm_harness_mmio_write(F->h, GICD + GICD_ITARGETSR + 1019, 1, 0x80);
	vmm_harness_irq_drive(F->h, 1019, 1);
	assert_int_equal(irq(7), 1);
	assert_int_equal(crd(7, GICC_IAR), 1019);
}

static void test_refused_configurations(void **state)
{
	static const char *const unaligned[] = { "dist-base=0x08000800", NULL };
	static const char *const overlap[] = { "cpu-base=0x08000000", NULL };
	static const char *const too_few[] = { "spis=16", NULL };

	assert_null(vmm_harness_create_device(F->h, "gic", "gic", unaligned));
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", overlap));
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", too_few));
	/* The hypervisor's own interrupt controller: no emulated GIC. */
	static const char *const emulated[] = { "mode=emulated", NULL };
	vmm_harness_set_irq_mode(F->h, VMM_IRQ_KERNEL);
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", emulated));
	vmm_harness_set_irq_mode(F->h, VMM_IRQ_EMULATED);
	F->dev = vmm_harness_create_device(F->h, "gic", "gic", NULL);
	assert_non_null(F->dev);
	/* Nothing was left mapped by the failures. */
	assert_int_equal(drd(0, GICD_TYPER), 2);
}

/* ---- mode = "kernel" (ABI 1.14): the hypervisor's vGIC, against the
 * harness's fake of KVM's device API ---- */

static int setup_kernel(void **state)
{
	return fixture_setup(state, VMM_IRQ_KERNEL, NULL, NULL);
}

static void expect_attr(size_t i, int dev, uint32_t group, uint64_t attr, uint64_t value)
{
	const struct vmm_harness_hv_attr *a = vmm_harness_hv_attr_at(F->h, i);

	assert_non_null(a);
	assert_int_equal(a->dev, dev);
	assert_int_equal(a->op, VMM_HV_ATTR_SET);
	assert_int_equal(a->group, group);
	assert_int_equal(a->attr, attr);
	assert_int_equal(a->value, value);
}

static void test_kernel_v3_sequence(void **state)
{
	uint32_t type;
	bool init;

	/* No mode: the hypervisor's irqchip = "kernel" picks it; version 3. */
	F->dev = gic_on(F->h, 2, NULL);
	assert_int_equal(vmm_harness_hv_device_type(F->h, 0, &type, &init), 0);
	assert_int_equal(type, VMM_HV_DEV_ARM_VGIC_V3);
	assert_true(init);
	/* arm-vgic-v3.rst: the frames and the INTID count, then CTRL_INIT. */
	assert_int_equal(vmm_harness_hv_attr_count(F->h), 4);
	expect_attr(0, 0, VMM_HV_VGIC_GRP_ADDR, VMM_HV_VGIC_V3_ADDR_DIST, 0x08000000);
	expect_attr(1, 0, VMM_HV_VGIC_GRP_ADDR, VMM_HV_VGIC_V3_ADDR_REDIST, 0x080a0000);
	expect_attr(2, 0, VMM_HV_VGIC_GRP_NR_IRQS, 0, 32 + 64);
	expect_attr(3, 0, VMM_HV_VGIC_GRP_CTRL, VMM_HV_VGIC_CTRL_INIT, 0);
	/* The device tree's GICv3: the distributor's 64 KiB and one
	 * redistributor region of 128 KiB per vCPU. */
	assert_int_equal(vmm_harness_desc_count(F->h), 1);
	const struct vmm_device_desc *d = vmm_harness_desc_at(F->h, 0);
	assert_int_equal(d->kind, VMM_DESC_GICV3);
	assert_int_equal(d->nres, 2);
	assert_int_equal(d->res[0].base, 0x08000000);
	assert_int_equal(d->res[0].len, 0x10000);
	assert_int_equal(d->res[1].base, 0x080a0000);
	assert_int_equal(d->res[1].len, 2 * 0x20000);
	assert_int_equal(d->gsi_base, 96);
	/* KVM answers the frames: nothing on the bus. */
	unsigned long before = vmm_harness_unclaimed_count(F->h);
	vmm_harness_mmio_read(F->h, GICD, 4);
	assert_int_equal(vmm_harness_unclaimed_count(F->h), before + 1);
	/* Lines are the hypervisor's: no controller took them. */
	assert_int_equal(vmm_harness_private_drive(F->h, 0, 27, 1), -ENODEV);
}

static void test_kernel_v3_properties(void **state)
{
	static const char *const props[] = { "mode=kernel", "version=3", "dist-base=0x2f000000",
					     "redist-base=0x2f100000", "spis=200", NULL };

	F->dev = gic_on(F->h, 3, props);
	expect_attr(0, 0, VMM_HV_VGIC_GRP_ADDR, VMM_HV_VGIC_V3_ADDR_DIST, 0x2f000000);
	expect_attr(1, 0, VMM_HV_VGIC_GRP_ADDR, VMM_HV_VGIC_V3_ADDR_REDIST, 0x2f100000);
	expect_attr(2, 0, VMM_HV_VGIC_GRP_NR_IRQS, 0, 32 + 224); /* rounded up to 32s */
	assert_int_equal(vmm_harness_desc_at(F->h, 0)->res[1].len, 3 * 0x20000);
}

/* The redistributors take 128 KiB per vCPU: with 4 vCPUs from 0x080a0000
 * they end at 0x08120000, so a distributor there fits and one 64 KiB
 * lower overlaps the last. */
static void test_kernel_redistributors_sized_for_the_vcpus(void **state)
{
	static const char *const below[] = { "dist-base=0x08110000", NULL };
	static const char *const after[] = { "dist-base=0x08120000", NULL };

	assert_int_equal(vmm_harness_set_vcpus(F->h, 4), 0);
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", below));
	assert_int_equal(vmm_harness_hv_attr_count(F->h), 0); /* refused before KVM */
	F->dev = vmm_harness_create_device(F->h, "gic", "gic", after);
	assert_non_null(F->dev);
	expect_attr(0, 0, VMM_HV_VGIC_GRP_ADDR, VMM_HV_VGIC_V3_ADDR_DIST, 0x08120000);
}

static void test_kernel_v2(void **state)
{
	static const char *const props[] = { "mode=kernel", "version=2", NULL };
	uint32_t type;
	bool init;

	F->dev = gic_on(F->h, 2, props);
	assert_int_equal(vmm_harness_hv_device_type(F->h, 0, &type, &init), 0);
	assert_int_equal(type, VMM_HV_DEV_ARM_VGIC_V2);
	assert_true(init);
	expect_attr(0, 0, VMM_HV_VGIC_GRP_ADDR, VMM_HV_VGIC_V2_ADDR_DIST, 0x08000000);
	expect_attr(1, 0, VMM_HV_VGIC_GRP_ADDR, VMM_HV_VGIC_V2_ADDR_CPU, 0x08010000);
	expect_attr(2, 0, VMM_HV_VGIC_GRP_NR_IRQS, 0, 96);
	expect_attr(3, 0, VMM_HV_VGIC_GRP_CTRL, VMM_HV_VGIC_CTRL_INIT, 0);
	const struct vmm_device_desc *d = vmm_harness_desc_at(F->h, 0);
	assert_int_equal(d->kind, VMM_DESC_GICV2);
	assert_int_equal(d->res[0].len, 0x1000);
	assert_int_equal(d->res[1].base, 0x08010000);
	assert_int_equal(d->res[1].len, 0x2000);
}

/* The nested arm64 test host's KVM: KVM_CREATE_DEVICE(vGICv2) is ENODEV.
 * One error line, no device. */
static void test_kernel_v2_refused_by_the_host(void **state)
{
	static const char *const props[] = { "mode=kernel", "version=2", NULL };
	unsigned long errs = vmm_harness_log_count(F->h, VMM_LOG_ERROR);

	vmm_harness_hv_refuse_device(F->h, VMM_HV_DEV_ARM_VGIC_V2, -ENODEV);
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", props));
	/* The plugin's line; the harness's own goes to stderr uncounted. */
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), errs + 1);
	assert_int_equal(vmm_harness_hv_attr_count(F->h), 0);
	/* Version 3 on the same host is fine. */
	F->dev = vmm_harness_create_device(F->h, "gic", "gic", NULL);
	assert_non_null(F->dev);
}

static void test_kernel_refusals(void **state)
{
	static const char *const emulated_v3[] = { "mode=emulated", "version=3", NULL };
	static const char *const kernel[] = { "mode=kernel", NULL };
	static const char *const unaligned[] = { "redist-base=0x080a8000", NULL };
	static const char *const v2_unaligned[] = { "version=2", "cpu-base=0x08010800", NULL };

	/* The emulated GIC is a GICv2. */
	vmm_harness_set_irq_mode(F->h, VMM_IRQ_EMULATED);
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", emulated_v3));
	/* The machine's interrupts are not the hypervisor's. */
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", kernel));
	vmm_harness_set_irq_mode(F->h, VMM_IRQ_KERNEL);
	/* A vGICv3's frames are 64 KiB-aligned. */
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", unaligned));
	/* A vGICv2's frames are 4 KiB-aligned. */
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", v2_unaligned));
	assert_int_equal(vmm_harness_hv_attr_count(F->h), 0);
	/* The hypervisor refuses an attribute: the device fails. */
	vmm_harness_hv_refuse_attr(F->h, VMM_HV_VGIC_GRP_NR_IRQS, 0, -EINVAL);
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", NULL));
	/* ... or its CTRL_INIT (at ready()). */
	vmm_harness_hv_refuse_attr(F->h, VMM_HV_VGIC_GRP_CTRL, VMM_HV_VGIC_CTRL_INIT, -ENXIO);
	assert_null(vmm_harness_create_device(F->h, "gic", "gic", NULL));
}

/* One in-kernel GIC per VM (KVM's -EEXIST for a second). */
static void test_kernel_second_gic_refused(void **state)
{
	F->dev = vmm_harness_create_device(F->h, "gic", "gic", NULL);
	assert_non_null(F->dev);
	assert_null(vmm_harness_create_device(F->h, "gic", "gic2", NULL));
}

/* Saved state (ABI 1.12), mode emulated: a GIC saved mid-operation (vCPU
 * 0 with a timer PPI pending and its IRQ line high; vCPU 1 handling an SGI
 * from vCPU 0 at priority 0x40 under EOImode 1, with SPI 40 at 0x80
 * pending behind it, a binary point of 3) and loaded into a fresh GIC in a
 * new harness behaves as the original goes on to. */
static uint32_t hc(struct vmm_harness *h, unsigned vcpu, unsigned off)
{
	assert_int_equal(vmm_harness_set_vcpu(h, vcpu), 0);
	return (uint32_t)vmm_harness_mmio_read(h, GICC + off, 4);
}

static void hcw(struct vmm_harness *h, unsigned vcpu, unsigned off, uint32_t v)
{
	assert_int_equal(vmm_harness_set_vcpu(h, vcpu), 0);
	vmm_harness_mmio_write(h, GICC + off, 4, v);
}

static uint32_t hd(struct vmm_harness *h, unsigned vcpu, unsigned off)
{
	assert_int_equal(vmm_harness_set_vcpu(h, vcpu), 0);
	return (uint32_t)vmm_harness_mmio_read(h, GICD + off, 4);
}

static void gic_goes_on_after_save(struct vmm_harness *h)
{
	assert_int_equal(vmm_harness_cpu_line(h, 0, VMM_CPU_IRQ), 1);
	assert_int_equal(vmm_harness_cpu_line(h, 1, VMM_CPU_IRQ), 0);
	assert_int_equal(hc(h, 1, GICC_RPR), 0x40);
	assert_int_equal(hc(h, 1, GICC_BPR), 3);
	assert_int_equal(hc(h, 1, GICC_PMR), 0xf0);
	assert_int_equal(hd(h, 0, GICD_ITARGETSR + 40) >> 0 & 0xff, 0x02);
	/* vCPU 0: the timer's PPI, ended once the level fell. */
	assert_int_equal(hc(h, 0, GICC_IAR), 27);
	assert_int_equal(vmm_harness_private_drive(h, 0, 27, 0), 0);
	hcw(h, 0, GICC_EOIR, 27);
	assert_int_equal(vmm_harness_cpu_line(h, 0, VMM_CPU_IRQ), 0);
	/* vCPU 1, EOImode 1: EOIR drops the priority, and SPI 40 is
	 * signalled; the SGI stays active until GICC_DIR. */
	hcw(h, 1, GICC_EOIR, 3 | 0 << GIC_IAR_CPUID_SHIFT);
	assert_int_equal(vmm_harness_cpu_line(h, 1, VMM_CPU_IRQ), 1);
	assert_int_equal(hd(h, 1, GICD_ISACTIVER) & (1u << 3), 1u << 3);
	hcw(h, 1, GICC_DIR, 3 | 0 << GIC_IAR_CPUID_SHIFT);
	assert_int_equal(hd(h, 1, GICD_ISACTIVER) & (1u << 3), 0);
	assert_int_equal(hc(h, 1, GICC_IAR), 40);
	assert_int_equal(hc(h, 1, GICC_RPR), 0x80);
	/* The SPI's line is still the device's, high: pending again after the
	 * end of it, until it falls. */
	vmm_harness_irq_drive(h, 40, 0);
	hcw(h, 1, GICC_EOIR, 40);
	hcw(h, 1, GICC_DIR, 40);
	assert_int_equal(vmm_harness_cpu_line(h, 1, VMM_CPU_IRQ), 0);
	assert_int_equal(hc(h, 1, GICC_RPR), 0xff);
}

static void test_save_load_mid_operation(void **state)
{
	struct vmm_harness *h2;
	struct vmm_harness_dev *d2;
	uint8_t *rec;
	size_t len;

	bring_up(2);
	cwr(1, GICC_CTLR, GICC_CTLR_ENABLE_GRP0 | GICC_CTLR_EOIMODES);
	cwr(1, GICC_BPR, 3);
	dwr(0, GICD_ISENABLER, 1u << 27);
	dwr(1, GICD_ISENABLER, 1u << 3);
	vmm_harness_mmio_write(F->h, GICD + GICD_IPRIORITYR + 3, 1, 0x40); /* vCPU 1's bank */
	assert_int_equal(vmm_harness_set_vcpu(F->h, 0), 0);
	vmm_harness_mmio_write(F->h, GICD + GICD_IPRIORITYR + 40, 1, 0x80);
	vmm_harness_mmio_write(F->h, GICD + GICD_ITARGETSR + 40, 1, 0x02);
	dwr(0, GICD_ISENABLER + 4, 1u << 8);
	dwr(0, GICD_SGIR, GICD_SGIR_LIST << 24 | 0x02 << 16 | 3);
	assert_int_equal(crd(1, GICC_IAR), 3 | 0 << GIC_IAR_CPUID_SHIFT);
	vmm_harness_irq_drive(F->h, 40, 1);
	assert_int_equal(vmm_harness_private_drive(F->h, 0, 27, 1), 0);
	assert_int_equal(irq(0), 1);
	assert_int_equal(irq(1), 0);

	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = second_gic(VMM_IRQ_EMULATED, 2, NULL, &d2);
	assert_int_equal(vmm_harness_cpu_line(h2, 0, VMM_CPU_IRQ), 0);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	free(rec);
	assert_int_equal(vmm_harness_cpu_line(h2, 0, VMM_CPU_IRQ), 1);
	/* The other devices' loads drive their lines again (the harness's
	 * record of a line is its own): here the test is the device holding
	 * SPI 40 and the timer holding vCPU 0's PPI 27. */
	vmm_harness_irq_drive(h2, 40, 1);
	assert_int_equal(vmm_harness_private_drive(h2, 0, 27, 1), 0);
	gic_goes_on_after_save(F->h);
	gic_goes_on_after_save(h2);
	vmm_harness_free(h2);
}

/* Records this GIC could not have written: refused naming the field, the
 * GIC left as created. */
static void test_load_refuses_bad_records(void **state)
{
	/* A field is its name's length, the name, a u32 length, the bytes. */
	static const uint8_t targets[] = { 11, 's', 'p', 'i', '-', 't', 'a', 'r', 'g', 'e', 't', 's',
					   0xfc, 0x03, 0, 0 };
	static const uint8_t enable[] = { 10, 's', 'p', 'i', '-', 'e', 'n', 'a', 'b', 'l', 'e',
					  4 * (GIC_MAX_IRQS / 32 + 1), 0, 0, 0 };
	static const uint8_t bpr[] = { 8, 'c', 'p', 'u', '1', '.', 'b', 'p', 'r', 4, 0, 0, 0 };
	struct vmm_harness *h2;
	struct vmm_harness_dev *d2;
	uint8_t *rec, *f;
	size_t len, v;

	bring_up(2);
	vmm_harness_mmio_write(F->h, GICD + GICD_ITARGETSR + 40, 1, 0x02);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = second_gic(VMM_IRQ_EMULATED, 2, NULL, &d2);

	v = 8 + 1 + rec[8];
	v += 1 + rec[v];
	rec[v] = 2;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EPROTO);
	rec[v] = 1;
	/* A target CPU past the two (the default 64 SPIs: INTIDs to 95). */
	f = memmem(rec, len, targets, sizeof(targets));
	assert_non_null(f);
	assert_int_equal(f[sizeof(targets) + 40], 0x02);
	f[sizeof(targets) + 40] = 0x04;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	f[sizeof(targets) + 40] = 0x02;
	/* An enable bit for INTID 100, past the SPIs. */
	f = memmem(rec, len, enable, sizeof(enable));
	assert_non_null(f);
	f[sizeof(enable) + 4 * 3] = 0x10;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	f[sizeof(enable) + 4 * 3] = 0;
	/* A binary point below the minimum. */
	f = memmem(rec, len, bpr, sizeof(bpr));
	assert_non_null(f);
	f[sizeof(bpr)] = 1;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	f[sizeof(bpr)] = 2;
	/* Nothing taken from the refused records. */
	assert_int_equal(hd(h2, 0, GICD_CTLR), 0);
	assert_int_equal(hd(h2, 0, GICD_ITARGETSR + 40) & 0xff, 0);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	assert_int_equal(hd(h2, 0, GICD_CTLR), GICD_CTLR_ENABLE_GRP0);
	assert_int_equal(hd(h2, 0, GICD_ITARGETSR + 40) & 0xff, 0x02);
	free(rec);
	vmm_harness_free(h2);

	/* Another vCPU count. */
	rec = vmm_harness_save(F->dev, &len);
	h2 = second_gic(VMM_IRQ_EMULATED, 3, NULL, &d2);
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	free(rec);
	vmm_harness_free(h2);
}

/* Mode kernel: the GIC's state is the hypervisor's (the kvm plugin's VM
 * record); this record says which GIC it is, and a record of another
 * version, INTID count or mode is refused. */
static void test_kernel_record(void **state)
{
	struct vmm_harness *h2;
	struct vmm_harness_dev *d2;
	uint8_t *rec, *emu;
	size_t len, elen;

	(void)state;
	F->dev = gic_on(F->h, 2, NULL);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	/* The same GIC takes it. */
	h2 = second_gic(VMM_IRQ_KERNEL, 2, NULL, &d2);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	vmm_harness_free(h2);
	/* Another INTID count. */
	static const char *const more[] = { "spis=128", NULL };
	h2 = second_gic(VMM_IRQ_KERNEL, 2, more, &d2);
	unsigned long errors = vmm_harness_log_count(h2, VMM_LOG_ERROR);
	assert_int_equal(vmm_harness_load(d2, rec, len), -EPROTO);
	assert_int_equal(vmm_harness_log_count(h2, VMM_LOG_ERROR), errors + 1);
	vmm_harness_free(h2);
	/* An emulated GIC's record into this one, and this one's into an
	 * emulated GIC. */
	h2 = second_gic(VMM_IRQ_EMULATED, 2, NULL, &d2);
	emu = vmm_harness_save(d2, &elen);
	assert_non_null(emu);
	assert_int_equal(vmm_harness_load(d2, rec, len), -EPROTO);
	assert_int_equal(vmm_harness_load(F->dev, emu, elen), -EPROTO);
	vmm_harness_free(h2);
	free(emu);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_and_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_banked_by_the_accessing_vcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spi_from_a_device_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_high_before_enable_and_after_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ppis_from_the_hypervisor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgi_between_vcpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group0_fiq_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_changes_reach_the_hypervisor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_accesses_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spis_property, setup_bare, teardown),
		cmocka_unit_test_setup_teardown(test_refused_configurations, setup_bare, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_v3_sequence, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_v3_properties, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_redistributors_sized_for_the_vcpus,
						setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_v2, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_v2_refused_by_the_host, setup_kernel,
						teardown),
		cmocka_unit_test_setup_teardown(test_kernel_refusals, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_second_gic_refused, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_mid_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_bad_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_record, setup_kernel, teardown),
	};

	return cmocka_run_group_tests_name("gic-plugin", tests, NULL, NULL);
}
