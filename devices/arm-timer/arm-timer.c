/* SPDX-License-Identifier: MIT */
/*
 * devices/arm-timer/arm-timer.c - the ARM generic timer (ARM ARM, chapter
 * D11) of an arm64 machine: the arm-timer plugin.
 *
 * The timers themselves (CNTV_*, CNTP_*, the counter) run in the
 * hypervisor, per vCPU; what belongs to the machine is their interrupts:
 * - the device tree's arm,armv8-timer node and its four PPIs, described
 *   to the core (VMM_DESC_ARM_TIMER, ABI 1.14), which writes the node;
 * - with the hypervisor's in-kernel GIC (irqchip = "kernel"), the PPIs of
 *   the virtual and physical timers given to KVM per vCPU
 *   (KVM_ARM_VCPU_TIMER_CTRL: KVM_ARM_VCPU_TIMER_IRQ_VTIMER/PTIMER,
 *   Documentation/virt/kvm/devices/vcpu.rst), in the ready op: KVM takes
 *   them once its vGIC exists and until the first run;
 * - optionally the VM's virtual count (virtual-count: KVM_REG_ARM_TIMER_CNT
 *   through vcpu_reg_write in the ready op, which sets KVM's CNTVOFF);
 * - with the GIC in a plugin (irqchip = "emulated"), the timers' output
 *   levels, which KVM reports after each run (KVM_CAP_ARM_USER_IRQ) and
 *   the core hands over (timer_outputs), raised and lowered as that
 *   vCPU's PPIs on the GIC (private_irq_set).
 *
 * What KVM does with a userspace GIC, and why a level is enough here
 * (arch/arm64/kvm/arch_timer.c): it computes each timer's output from
 * CTL/CVAL and the counter at every exit and after the guest writes
 * CTL/CVAL, exits when an output differs from what it last reported, and
 * keeps the host's timer interrupt masked while the output is high, so
 * the guest is not stormed while it handles the interrupt.  This plugin
 * only has to pass each change on before the guest runs again: the
 * levels op runs on the vCPU's thread before the exit is handled, so a
 * GICC_EOIR written after the guest reprogrammed its timer meets the
 * lowered level and the interrupt is not signalled twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>

/* The binding's order (arm,arch_timer.yaml): secure physical, non-secure
 * physical, virtual, hypervisor. */
enum timer_slot { SLOT_SEC_PHYS, SLOT_PHYS, SLOT_VIRT, SLOT_HYP, SLOT__COUNT };

static const char *const slot_props[SLOT__COUNT] = {
	[SLOT_SEC_PHYS] = "sec-phys-irq",
	[SLOT_PHYS] = "phys-irq",
	[SLOT_VIRT] = "virt-irq",
	[SLOT_HYP] = "hyp-irq",
};

struct arm_timer {
	const struct vmm_host *h;
	uint32_t intid[SLOT__COUNT];
	bool kernel;          /* the hypervisor's GIC: PPIs through its vCPU attributes */
	bool drop_warned;     /* no GIC took a PPI: said once */
	unsigned long raises; /* PPIs raised, for a reader with a debugger */
	/* Per vCPU, the VMM_TIMER_OUT_* levels last driven onto the GIC: the
	 * only state the plugin keeps (emulated mode), saved so a restore
	 * raises again the PPIs a saved machine held. */
	unsigned nvcpus;
	uint8_t *levels;
};

#define TIMER_OUT_BITS (VMM_TIMER_OUT_VIRT | VMM_TIMER_OUT_PHYS)
#define ARM_TIMER_STATE_VERSION 1

/* One output bit and the PPI it drives. */
static void drive(struct arm_timer *t, unsigned vcpu, uint32_t intid, int level)
{
	int rc = t->h->private_irq_set(t->h, vcpu, intid, level);

	if (level)
		t->raises++;
	if (rc && !t->drop_warned) {
		t->drop_warned = true;
		t->h->log(t->h, VMM_LOG_WARN, "vCPU %u's timer PPI %u reaches no interrupt controller "
			  "(%s): the guest gets no timer interrupts", vcpu, intid, strerror(-rc));
	}
}

static void timer_levels(void *opaque, unsigned vcpu, uint32_t levels, uint32_t changed)
{
	struct arm_timer *t = opaque;

	if (vcpu < t->nvcpus)
		t->levels[vcpu] = (uint8_t)((t->levels[vcpu] & ~changed) | (levels & changed & TIMER_OUT_BITS));
	if (changed & VMM_TIMER_OUT_VIRT)
		drive(t, vcpu, t->intid[SLOT_VIRT], (levels & VMM_TIMER_OUT_VIRT) != 0);
	if (changed & VMM_TIMER_OUT_PHYS)
		drive(t, vcpu, t->intid[SLOT_PHYS], (levels & VMM_TIMER_OUT_PHYS) != 0);
}

static const struct vmm_timer_output_ops timer_output_ops = {
	.size = sizeof(struct vmm_timer_output_ops),
	.levels = timer_levels,
};

static void arm_timer_destroy(void *state)
{
	struct arm_timer *t = state;

	free(t->levels);
	free(t);
}

static int arm_timer_create(const struct vmm_host *h, void **state)
{
	struct arm_timer *t;
	int64_t v;
	int rc;

	if (!VMM_HOST_HAS(h, timer_outputs_register) || !VMM_HOST_HAS(h, hv_device_attr)) {
		h->log(h, VMM_LOG_ERROR, "the host lacks the services of ABI 1.14 "
		       "(timer_outputs_register, hv_device_attr) the timer needs");
		return -ENOTSUP;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->h = h;
	t->nvcpus = VMM_HOST_HAS(h, vcpu_count) ? h->vcpu_count(h) : 0;
	t->levels = calloc(t->nvcpus ? t->nvcpus : 1, 1);
	if (!t->levels) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (int i = 0; i < SLOT__COUNT; i++) {
		if (h->prop_int(h, slot_props[i], &v)) { /* the schema has defaults */
			rc = -EINVAL;
			goto out_free;
		}
		t->intid[i] = (uint32_t)v;
	}
	/* KVM refuses the same PPI for both timers at the first run
	 * (arch_timer.c, timer_irqs_are_valid); a userspace GIC would merge
	 * them.  Each timer needs its own. */
	for (int i = 0; i < SLOT__COUNT; i++)
		for (int j = i + 1; j < SLOT__COUNT; j++)
			if (t->intid[i] == t->intid[j]) {
				h->log(h, VMM_LOG_ERROR, "%s and %s are both INTID %u: each timer "
				       "needs its own PPI", slot_props[i], slot_props[j], t->intid[i]);
				rc = -EINVAL;
				goto out_free;
			}
	t->kernel = h->irq_mode(h) == VMM_IRQ_KERNEL;
	if (!t->kernel) {
		rc = h->timer_outputs_register(h, &timer_output_ops, t);
		if (rc) {
			h->log(h, VMM_LOG_ERROR, "cannot take the timers' output levels: %s",
			       strerror(-rc));
			goto out_free;
		}
	}

	struct vmm_resource res[SLOT__COUNT];
	for (int i = 0; i < SLOT__COUNT; i++)
		res[i] = (struct vmm_resource){ .type = VMM_RES_IRQ, .flags = VMM_RES_IRQ_LEVEL,
						.base = t->intid[i], .len = 1 };
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_ARM_TIMER,
					      .res = res, .nres = SLOT__COUNT };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_free;
	*state = t;
	return 0;

out_free:
	arm_timer_destroy(t);
	return rc;
}

/*
 * Kernel mode: every vCPU exists and so does the vGIC (the gic plugin's
 * create(), or the kvm plugin's default before the devices' ready ops):
 * give KVM the two PPIs.  KVM 6.1 applies a vCPU's setting to every vCPU
 * of the VM (set_timer_irqs); it is set on each, as the API is per vCPU.
 */
static int arm_timer_ready(void *state)
{
	struct arm_timer *t = state;
	const struct vmm_host *h = t->h;
	static const struct {
		enum timer_slot slot;
		uint64_t attr;
		const char *name;
	} attrs[] = {
		{ SLOT_VIRT, VMM_HV_VCPU_TIMER_IRQ_VTIMER, "KVM_ARM_VCPU_TIMER_IRQ_VTIMER" },
		{ SLOT_PHYS, VMM_HV_VCPU_TIMER_IRQ_PTIMER, "KVM_ARM_VCPU_TIMER_IRQ_PTIMER" },
	};

	int64_t count = -1;
	if (!h->prop_int(h, "virtual-count", &count) && count >= 0) {
		/* The VM's virtual counter offset (KVM_REG_ARM_TIMER_CNT): one
		 * write, on vCPU 0, because KVM 6.1 applies it to every vCPU,
		 * and writes on each at different moments would leave the last
		 * one's offset anyway. */
		uint64_t cnt = (uint64_t)count;
		int rc = VMM_HOST_HAS(h, vcpu_reg_write)
				 ? h->vcpu_reg_write(h, 0, VMM_REG_ARM64_TIMER_CNT, &cnt)
				 : -ENOTSUP;
		if (rc) {
			h->log(h, VMM_LOG_ERROR, "virtual-count = %lld: the hypervisor refused the "
			       "virtual counter (KVM_REG_ARM_TIMER_CNT): %s", (long long)count,
			       strerror(-rc));
			return rc;
		}
	}
	if (!t->kernel)
		return 0;
	for (unsigned cpu = 0; cpu < h->vcpu_count(h); cpu++)
		for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
			uint32_t intid = t->intid[attrs[i].slot];
			int rc = h->hv_device_attr(h, VMM_HV_DEV_VCPU(cpu), VMM_HV_ATTR_SET,
						   VMM_HV_VCPU_TIMER_CTRL, attrs[i].attr, &intid);
			if (rc) {
				h->log(h, VMM_LOG_ERROR, "vCPU %u: the hypervisor refused %s = %u (%s): "
				       "%s", cpu, slot_props[attrs[i].slot], intid, attrs[i].name,
				       strerror(-rc));
				return rc;
			}
		}
	return 0;
}

/*
 * Saved state (ABI 1.12), version 1: the two PPIs the timers drive
 * (virt-irq, phys-irq: a record from a machine wired otherwise is refused,
 * as its levels would land on other interrupts), the vCPU count and one
 * byte of VMM_TIMER_OUT_* levels per vCPU.  The timers themselves (CTL,
 * CVAL, the counter) are vCPU registers: the hypervisor backend saves them.
 * In kernel mode KVM drives the PPIs itself and every level here is 0.
 */
static int arm_timer_save(void *state, struct vmm_state_out *out)
{
	struct arm_timer *t = state;
	const struct vmm_host *h = t->h;
	int rc;

	rc = vmm_state_put_u32(h, out, "virt-irq", t->intid[SLOT_VIRT]);
	rc = rc ? rc : vmm_state_put_u32(h, out, "phys-irq", t->intid[SLOT_PHYS]);
	rc = rc ? rc : vmm_state_put_u32(h, out, "vcpus", t->nvcpus);
	rc = rc ? rc : vmm_state_put(h, out, "levels", t->levels, t->nvcpus);
	return rc;
}

static int arm_timer_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct arm_timer *t = state;
	const struct vmm_host *h = t->h;
	uint32_t virt, phys, vcpus;
	uint8_t *lv;
	const char *field;
	int rc;

	if (version != ARM_TIMER_STATE_VERSION) {
		h->log(h, VMM_LOG_ERROR, "saved state version %u is not one this plugin knows (1); "
		       "record refused", version);
		return -EPROTO;
	}
	if ((rc = vmm_state_get_u32(h, in, field = "virt-irq", &virt)) ||
	    (rc = vmm_state_get_u32(h, in, field = "phys-irq", &phys)) ||
	    (rc = vmm_state_get_u32(h, in, field = "vcpus", &vcpus))) {
		h->log(h, VMM_LOG_ERROR, "saved state field %s: %s; record refused", field,
		       rc == -ENOENT ? "missing" : "not 4 bytes long");
		return rc == -ENOENT ? -ENOENT : -EINVAL;
	}
	if (virt != t->intid[SLOT_VIRT] || phys != t->intid[SLOT_PHYS]) {
		h->log(h, VMM_LOG_ERROR, "saved state field %s: PPI %u, but this timer's is %u; "
		       "record refused", virt != t->intid[SLOT_VIRT] ? "virt-irq" : "phys-irq",
		       virt != t->intid[SLOT_VIRT] ? virt : phys,
		       t->intid[virt != t->intid[SLOT_VIRT] ? SLOT_VIRT : SLOT_PHYS]);
		return -EINVAL;
	}
	if (vcpus != t->nvcpus) {
		h->log(h, VMM_LOG_ERROR, "saved state field vcpus: %u, but this machine has %u; "
		       "record refused", vcpus, t->nvcpus);
		return -EINVAL;
	}
	lv = calloc(t->nvcpus ? t->nvcpus : 1, 1);
	if (!lv)
		return -ENOMEM;
	rc = vmm_state_get(h, in, "levels", lv, t->nvcpus);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "saved state field levels: %s; record refused",
		       rc == -ENOENT ? "missing" : "not one byte per vCPU");
		free(lv);
		return rc == -ENOENT ? -ENOENT : -EINVAL;
	}
	for (unsigned cpu = 0; cpu < t->nvcpus; cpu++)
		if (lv[cpu] & ~TIMER_OUT_BITS || (t->kernel && lv[cpu])) {
			h->log(h, VMM_LOG_ERROR, "saved state field levels: vCPU %u's 0x%x is not %s; "
			       "record refused", cpu, lv[cpu],
			       t->kernel ? "0 (KVM drives the PPIs in kernel mode)"
					 : "a set of the virtual and physical timers' outputs");
			free(lv);
			return -EINVAL;
		}
	/* Commit: every PPI the saved machine held is raised again, and one
	 * this instance held that the record does not is lowered. */
	for (unsigned cpu = 0; cpu < t->nvcpus; cpu++) {
		uint32_t drive_bits = (uint32_t)(t->levels[cpu] | lv[cpu]);

		if (drive_bits)
			timer_levels(t, cpu, lv[cpu], drive_bits);
	}
	free(lv);
	return 0;
}

static const struct vmm_device_ops arm_timer_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = arm_timer_create,
	.destroy = arm_timer_destroy,
	.ready = arm_timer_ready,
	.state_version = ARM_TIMER_STATE_VERSION,
	.save = arm_timer_save,
	.load = arm_timer_load,
};

/* The defaults are what KVM wires and QEMU virt describes (INTIDs: PPI n
 * is INTID 16 + n). */
static const struct vmm_prop_desc arm_timer_props[] = {
	{ .name = "virt-irq", .type = VMM_PROP_INT, .def_int = 27, .min = 16, .max = 31,
	  .help = "the EL1 virtual timer's PPI (INTID 16-31); kernel mode gives it to KVM" },
	{ .name = "phys-irq", .type = VMM_PROP_INT, .def_int = 30, .min = 16, .max = 31,
	  .help = "the EL1 physical timer's PPI (INTID 16-31); kernel mode gives it to KVM" },
	{ .name = "sec-phys-irq", .type = VMM_PROP_INT, .def_int = 29, .min = 16, .max = 31,
	  .help = "the secure physical timer's PPI, for the device tree only" },
	{ .name = "virtual-count", .type = VMM_PROP_INT, .def_int = -1, .min = -1,
	  .max = INT64_MAX,
	  .help = "the guest's virtual counter (CNTVCT_EL0) as its vCPUs start; -1: the "
		  "hypervisor's (KVM: near 0 at VM creation)" },
	{ .name = "hyp-irq", .type = VMM_PROP_INT, .def_int = 26, .min = 16, .max = 31,
	  .help = "the EL2 physical timer's PPI, for the device tree only" },
	{ .name = NULL },
};

static const struct vmm_plugin arm_timer_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "arm-timer",
	.version = "1.0",
	.summary = "ARM generic timer (arm64): its PPIs, in the device tree, in KVM or on the "
		   "GIC plugin",
	.props = arm_timer_props,
	.ops = &arm_timer_ops,
};

VMM_PLUGIN_DEFINE(arm_timer_plugin)
