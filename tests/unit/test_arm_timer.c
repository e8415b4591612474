/* tests/unit/test_arm_timer.c - the arm-timer plugin through the harness
 * and the real arm-timer.so: its description for the device tree (the four
 * PPIs in the binding's order), the PPIs it gives an in-kernel GIC's
 * hypervisor per vCPU (KVM_ARM_VCPU_TIMER_CTRL, against the harness's fake
 * of KVM's device API), and, with the GIC in a plugin, the timers' output
 * levels the hypervisor reports turned into that vCPU's PPIs on the gic
 * plugin (a real GICv2 model: what the guest would acknowledge). */
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
#include <vmm/hypervisor.h>
#include "devices/gic/gic-model.h"

#include "device-fixture.h"

#define GICD 0x08000000ULL
#define GICC 0x08010000ULL

static struct vmm_harness_dev *gic;

static int setup_kernel(void **state)
{
	fixture_setup(state, VMM_IRQ_KERNEL, NULL, NULL);
	assert_int_equal(vmm_harness_set_vcpus(F->h, 2), 0);
	return 0;
}

static int setup_emulated(void **state)
{
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	assert_int_equal(vmm_harness_set_vcpus(F->h, 2), 0);
	gic = vmm_harness_create_device(F->h, "gic", "gic", NULL);
	assert_non_null(gic);
	return 0;
}

static int teardown(void **state)
{
	gic = NULL;
	return fixture_teardown(state);
}

static const struct vmm_device_desc *timer_desc(void)
{
	for (size_t i = 0; i < vmm_harness_desc_count(F->h); i++) {
		const struct vmm_device_desc *d = vmm_harness_desc_at(F->h, i);
		if (d->kind == VMM_DESC_ARM_TIMER)
			return d;
	}
	return NULL;
}

static void expect_desc(uint32_t sec_phys, uint32_t phys, uint32_t virt, uint32_t hyp)
{
	const struct vmm_device_desc *d = timer_desc();
	const uint32_t want[4] = { sec_phys, phys, virt, hyp };

	assert_non_null(d);
	assert_int_equal(d->nres, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(d->res[i].type, VMM_RES_IRQ);
		assert_int_equal(d->res[i].base, want[i]);
		assert_true(d->res[i].flags & VMM_RES_IRQ_LEVEL);
	}
}

static void expect_timer_attr(size_t i, unsigned vcpu, uint64_t attr, uint32_t intid)
{
	const struct vmm_harness_hv_attr *a = vmm_harness_hv_attr_at(F->h, i);

	assert_non_null(a);
	assert_int_equal(a->dev, VMM_HV_DEV_VCPU(vcpu));
	assert_int_equal(a->op, VMM_HV_ATTR_SET);
	assert_int_equal(a->group, VMM_HV_VCPU_TIMER_CTRL);
	assert_int_equal(a->attr, attr);
	assert_int_equal(a->value, intid);
}

/* Kernel mode, defaults: QEMU virt's and KVM's PPIs, given to every vCPU. */
static void test_kernel_defaults(void **state)
{
	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", NULL);
	assert_non_null(F->dev);
	expect_desc(29, 30, 27, 26);
	assert_int_equal(vmm_harness_hv_attr_count(F->h), 4);
	expect_timer_attr(0, 0, VMM_HV_VCPU_TIMER_IRQ_VTIMER, 27);
	expect_timer_attr(1, 0, VMM_HV_VCPU_TIMER_IRQ_PTIMER, 30);
	expect_timer_attr(2, 1, VMM_HV_VCPU_TIMER_IRQ_VTIMER, 27);
	expect_timer_attr(3, 1, VMM_HV_VCPU_TIMER_IRQ_PTIMER, 30);
	/* In kernel mode KVM's GIC takes the levels: the plugin does not. */
	assert_int_equal(vmm_harness_timer_outputs(F->h, 0, VMM_TIMER_OUT_VIRT, VMM_TIMER_OUT_VIRT),
			 -ENODEV);
}

static void test_kernel_other_ppis(void **state)
{
	static const char *const props[] = { "virt-irq=20", "phys-irq=21", "sec-phys-irq=22",
					     "hyp-irq=23", NULL };

	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", props);
	assert_non_null(F->dev);
	expect_desc(22, 21, 20, 23);
	expect_timer_attr(0, 0, VMM_HV_VCPU_TIMER_IRQ_VTIMER, 20);
	expect_timer_attr(1, 0, VMM_HV_VCPU_TIMER_IRQ_PTIMER, 21);
	expect_timer_attr(3, 1, VMM_HV_VCPU_TIMER_IRQ_PTIMER, 21);
}

static void test_refusals(void **state)
{
	static const char *const same[] = { "virt-irq=30", NULL };
	static const char *const spi[] = { "virt-irq=32", NULL };
	unsigned long errs = vmm_harness_log_count(F->h, VMM_LOG_ERROR);

	/* Both timers on one PPI: KVM would refuse the first run. */
	assert_null(vmm_harness_create_device(F->h, "arm-timer", "timer", same));
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), errs + 1);
	/* Not a PPI: the schema's range (16-31) refuses it before create(). */
	assert_null(vmm_harness_create_device(F->h, "arm-timer", "timer", spi));
	/* The hypervisor refuses the PPI: one line, no device. */
	vmm_harness_hv_refuse_attr(F->h, VMM_HV_VCPU_TIMER_CTRL, VMM_HV_VCPU_TIMER_IRQ_PTIMER,
				   -EBUSY);
	errs = vmm_harness_log_count(F->h, VMM_LOG_ERROR);
	assert_null(vmm_harness_create_device(F->h, "arm-timer", "timer", NULL));
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), errs + 1);
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

/* A guest's GIC set-up on both CPUs: distributor and CPU interfaces on,
 * every priority let through, the timers' PPIs enabled (banked). */
static void guest_enables(uint32_t ppis)
{
	dwr(0, GICD_CTLR, 1);
	for (unsigned c = 0; c < 2; c++) {
		cwr(c, GICC_PMR, 0xff);
		cwr(c, GICC_CTLR, 1);
		dwr(c, GICD_ISENABLER, ppis);
	}
}

static int irq(unsigned vcpu)
{
	return vmm_harness_cpu_line(F->h, vcpu, VMM_CPU_IRQ);
}

/* The virtual timer's output on vCPU 1 becomes vCPU 1's PPI 27, nobody
 * else's; lowered before the acknowledge, it is withdrawn (GICC_IAR
 * 1023): a guest that reprogrammed its timer is not interrupted again. */
static void test_levels_to_ppis(void **state)
{
	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", NULL);
	assert_non_null(F->dev);
	expect_desc(29, 30, 27, 26);
	assert_int_equal(vmm_harness_hv_attr_count(F->h), 0); /* no KVM attributes */
	guest_enables(1u << 27 | 1u << 30);

	assert_int_equal(vmm_harness_timer_outputs(F->h, 1, VMM_TIMER_OUT_VIRT, VMM_TIMER_OUT_VIRT), 0);
	assert_int_equal(irq(1), 1);
	assert_int_equal(irq(0), 0);
	assert_int_equal(vmm_harness_timer_outputs(F->h, 1, 0, VMM_TIMER_OUT_VIRT), 0);
	assert_int_equal(irq(1), 0);
	assert_int_equal(crd(1, GICC_IAR) & 0x3ff, 1023);

	/* The physical timer on vCPU 0: PPI 30, acknowledged, held while the
	 * level stays high (active and pending), gone once lowered and ended. */
	assert_int_equal(vmm_harness_timer_outputs(F->h, 0, VMM_TIMER_OUT_PHYS, VMM_TIMER_OUT_PHYS), 0);
	assert_int_equal(irq(0), 1);
	assert_int_equal(crd(0, GICC_IAR) & 0x3ff, 30);
	assert_int_equal(irq(0), 0); /* active: not signalled again */
	assert_int_equal(vmm_harness_timer_outputs(F->h, 0, 0, VMM_TIMER_OUT_PHYS), 0);
	cwr(0, GICC_EOIR, 30);
	assert_int_equal(irq(0), 0);
	assert_int_equal(drd(0, GICD_ISPENDR) & (1u << 30), 0);
}

/* Only the changed bits are passed on: an unchanged high level in the
 * same report is not raised a second time (the GIC would see no edge
 * anyway, but a missed lower would be a stuck interrupt). */
static void test_only_changed_bits(void **state)
{
	static const char *const props[] = { "virt-irq=20", "phys-irq=21", NULL };

	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", props);
	assert_non_null(F->dev);
	guest_enables(1u << 20 | 1u << 21);
	/* Both high; then the physical one lowers while the virtual stays. */
	vmm_harness_timer_outputs(F->h, 0, VMM_TIMER_OUT_VIRT | VMM_TIMER_OUT_PHYS,
				  VMM_TIMER_OUT_VIRT | VMM_TIMER_OUT_PHYS);
	assert_int_equal(drd(0, GICD_ISPENDR) & (3u << 20), 3u << 20);
	vmm_harness_timer_outputs(F->h, 0, VMM_TIMER_OUT_VIRT, VMM_TIMER_OUT_PHYS);
	assert_int_equal(drd(0, GICD_ISPENDR) & (3u << 20), 1u << 20);
	/* vCPU 1's banked PPIs saw nothing. */
	assert_int_equal(drd(1, GICD_ISPENDR) & (3u << 20), 0);
	/* The levels of a vCPU that does not exist are refused. */
	assert_int_equal(vmm_harness_timer_outputs(F->h, 2, VMM_TIMER_OUT_VIRT, VMM_TIMER_OUT_VIRT),
			 -EINVAL);
}

/* virtual-count: one write of KVM_REG_ARM_TIMER_CNT, on vCPU 0 (KVM 6.1
 * sets CNTVOFF for the whole VM); none when unset. */
static void test_virtual_count(void **state)
{
	static const char *const props[] = { "virtual-count=0x123456789", NULL };
	uint64_t v = 0;

	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", NULL);
	assert_non_null(F->dev);
	assert_int_equal(vmm_harness_vcpu_reg(F->h, 0, VMM_REG_ARM64_TIMER_CNT, &v), -ENOENT);
	vmm_harness_destroy_device(F->dev);
	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", props);
	assert_non_null(F->dev);
	assert_int_equal(vmm_harness_vcpu_reg(F->h, 0, VMM_REG_ARM64_TIMER_CNT, &v), 0);
	assert_int_equal(v, 0x123456789ull);
	assert_int_equal(vmm_harness_vcpu_reg(F->h, 1, VMM_REG_ARM64_TIMER_CNT, &v), -ENOENT);
	/* 0 is a count like any other: the guest's counter from zero. */
	static const char *const zero[] = { "virtual-count=0", NULL };
	vmm_harness_destroy_device(F->dev);
	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", zero);
	assert_non_null(F->dev);
	assert_int_equal(vmm_harness_vcpu_reg(F->h, 0, VMM_REG_ARM64_TIMER_CNT, &v), 0);
	assert_int_equal(v, 0);
}

/* One device takes the outputs. */
static void test_one_timer(void **state)
{
	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", NULL);
	assert_non_null(F->dev);
	assert_null(vmm_harness_create_device(F->h, "arm-timer", "timer2", NULL));
}

/* Saved state (ABI 1.12): the PPI levels the timer drove are saved and
 * raised again by load in a fresh machine (new harness, own GIC); a
 * record from another wiring or vCPU count, or with levels no timer has,
 * is refused and leaves the instance as created. */
static struct vmm_harness *emulated_machine(unsigned vcpus, struct vmm_harness_dev **timer,
					    const char *const *props)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_EMULATED);
	assert_int_equal(vmm_harness_set_vcpus(h, vcpus), 0);
	assert_non_null(vmm_harness_create_device(h, "gic", "gic", NULL));
	*timer = vmm_harness_create_device(h, "arm-timer", "timer", props);
	assert_non_null(*timer);
	return h;
}

static uint32_t hpending(struct vmm_harness *h, unsigned vcpu)
{
	assert_int_equal(vmm_harness_set_vcpu(h, vcpu), 0);
	return (uint32_t)vmm_harness_mmio_read(h, GICD + GICD_ISPENDR, 4);
}

static void test_save_load_levels(void **state)
{
	struct vmm_harness_dev *d2;
	struct vmm_harness *h2;
	uint8_t *rec;
	size_t len;

	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", NULL);
	assert_non_null(F->dev);
	vmm_harness_timer_outputs(F->h, 1, VMM_TIMER_OUT_VIRT, VMM_TIMER_OUT_VIRT);
	vmm_harness_timer_outputs(F->h, 0, VMM_TIMER_OUT_PHYS, VMM_TIMER_OUT_PHYS);
	vmm_harness_timer_outputs(F->h, 0, 0, VMM_TIMER_OUT_PHYS); /* raised and lowered */
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);

	h2 = emulated_machine(2, &d2, NULL);
	assert_int_equal(hpending(h2, 1) & (1u << 27), 0);
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	assert_int_equal(hpending(h2, 1) & (1u << 27 | 1u << 30), 1u << 27);
	assert_int_equal(hpending(h2, 0) & (1u << 27 | 1u << 30), 0);
	/* The loaded level is the timer's own: KVM's report of the fall lowers it. */
	assert_int_equal(vmm_harness_timer_outputs(h2, 1, 0, VMM_TIMER_OUT_VIRT), 0);
	assert_int_equal(hpending(h2, 1) & (1u << 27), 0);
	vmm_harness_free(h2);
	free(rec);
}

static void test_load_refuses_bad_records(void **state)
{
	static const char *const other[] = { "virt-irq=20", NULL };
	/* A field is its name's length, the name, a u32 length, the bytes. */
	static const uint8_t levels[] = { 6, 'l', 'e', 'v', 'e', 'l', 's', 2, 0, 0, 0 };
	struct vmm_harness_dev *d2;
	struct vmm_harness *h2;
	uint8_t *rec, *f;
	size_t len, v;

	F->dev = vmm_harness_create_device(F->h, "arm-timer", "timer", NULL);
	assert_non_null(F->dev);
	vmm_harness_timer_outputs(F->h, 1, VMM_TIMER_OUT_VIRT, VMM_TIMER_OUT_VIRT);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);

	h2 = emulated_machine(3, &d2, NULL); /* another vCPU count */
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	vmm_harness_free(h2);
	h2 = emulated_machine(2, &d2, other); /* another PPI */
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	vmm_harness_free(h2);

	h2 = emulated_machine(2, &d2, NULL);
	v = 8 + 1 + rec[8];
	v += 1 + rec[v];
	rec[v] = 2;
	assert_int_equal(vmm_harness_load(d2, rec, len), -EPROTO);
	rec[v] = 1;
	f = memmem(rec, len, levels, sizeof(levels));
	assert_non_null(f);
	assert_int_equal(f[sizeof(levels) + 1], VMM_TIMER_OUT_VIRT);
	f[sizeof(levels) + 1] |= 0x4; /* an output no timer has */
	assert_int_equal(vmm_harness_load(d2, rec, len), -EINVAL);
	assert_int_equal(hpending(h2, 1) & (1u << 27), 0); /* nothing taken */
	f[sizeof(levels) + 1] = VMM_TIMER_OUT_VIRT;
	assert_int_equal(vmm_harness_load(d2, rec, len), 0);
	assert_int_equal(hpending(h2, 1) & (1u << 27), 1u << 27);
	vmm_harness_free(h2);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kernel_defaults, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_other_ppis, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_levels_to_ppis, setup_emulated, teardown),
		cmocka_unit_test_setup_teardown(test_only_changed_bits, setup_emulated, teardown),
		cmocka_unit_test_setup_teardown(test_one_timer, setup_emulated, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_count, setup_kernel, teardown),
		cmocka_unit_test_setup_teardown(test_virtual_count, setup_emulated, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_levels, setup_emulated, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_bad_records, setup_emulated, teardown),
	};

	return cmocka_run_group_tests_name("arm-timer", tests, NULL, NULL);
}
