/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-arm64.c - the arm64 half of the kvm plugin
 * (kvm-internal.h): KVM/arm64 vCPUs started with KVM_ARM_VCPU_INIT, the
 * PSCI 0.2+ firmware interface in KVM, registers through ONE_REG, and MMIO
 * aborts KVM cannot decode refused with a clear line.
 *
 * Interrupts: `irqchip = "kernel"` delegates the GIC to KVM.  The gic
 * plugin's mode = "kernel" creates it (device_create: KVM_CREATE_DEVICE,
 * then its attributes through device_attr and CTRL_INIT in its ready op,
 * ABI 1.14) and describes it; a machine without such a device gets the
 * default vGICv3 from devices_ready() below, at QEMU virt's addresses,
 * created, described (VMM_DESC_GICV3) and initialised here as before
 * ABI 1.14, so configs that name no gic device keep working.  Lines are
 * SPIs through KVM_IRQ_LINE or irqfds.  `irqchip = "emulated"`: no
 * interrupt controller in KVM; the gic plugin's GICv2 takes the lines and
 * drives each vCPU's IRQ and FIQ inputs (vcpu_irq_set: KVM_IRQ_LINE of
 * the CPU type), and the architected timers' output levels, which KVM
 * then reports in kvm_run (KVM_CAP_ARM_USER_IRQ), go to the arm-timer
 * plugin after every run (kvm_arch_after_run, timer_outputs), which
 * raises its PPIs on the GIC.  `irqchip = "none"`: no interrupt
 * controller, a guest that polls its devices runs, interrupt lines reach
 * nothing (the core warns), and the timers' levels are not passed on.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hypervisors/kvm/kvm-internal.h"
#include "hypervisors/kvm/kvm-arm64-state.h"

/* The generic ids of vmm/hypervisor.h are KVM's own: checked here against
 * the kernel's headers (arch/arm64/include/uapi/asm/kvm.h). */
#define CORE_ID(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(field))
_Static_assert(VMM_REG_ARM64_X(0) == CORE_ID(regs.regs[0]), "VMM_REG_ARM64_X(0)");
_Static_assert(VMM_REG_ARM64_X(3) == CORE_ID(regs.regs[3]), "VMM_REG_ARM64_X(3)");
_Static_assert(VMM_REG_ARM64_X(30) == CORE_ID(regs.regs[30]), "VMM_REG_ARM64_X(30)");
_Static_assert(VMM_REG_ARM64_SP == CORE_ID(regs.sp), "VMM_REG_ARM64_SP");
_Static_assert(VMM_REG_ARM64_PC == CORE_ID(regs.pc), "VMM_REG_ARM64_PC");
_Static_assert(VMM_REG_ARM64_PSTATE == CORE_ID(regs.pstate), "VMM_REG_ARM64_PSTATE");
_Static_assert(VMM_REG_ARM64_MPIDR_EL1 == ARM64_SYS_REG(3, 0, 0, 0, 5), "VMM_REG_ARM64_MPIDR_EL1");
_Static_assert(VMM_REG_SIZE(VMM_REG_ARM64_PC) == 8, "VMM_REG_SIZE");
_Static_assert(VMM_REG_ARM64_TIMER_CNT == KVM_REG_ARM_TIMER_CNT, "VMM_REG_ARM64_TIMER_CNT");
/* vcpu_irq_set's pins (host.h) are KVM_IRQ_LINE's irq_id for the CPU type. */
_Static_assert(VMM_CPU_IRQ == KVM_ARM_IRQ_CPU_IRQ && VMM_CPU_FIQ == KVM_ARM_IRQ_CPU_FIQ,
	       "enum vmm_cpu_pin");
/* ABI 1.14's in-kernel device numbers (host.h) are KVM's. */
_Static_assert(VMM_HV_DEV_ARM_VGIC_V2 == KVM_DEV_TYPE_ARM_VGIC_V2 &&
	       VMM_HV_DEV_ARM_VGIC_V3 == KVM_DEV_TYPE_ARM_VGIC_V3, "VMM_HV_DEV_ARM_VGIC_*");
_Static_assert(VMM_HV_VGIC_GRP_ADDR == KVM_DEV_ARM_VGIC_GRP_ADDR &&
	       VMM_HV_VGIC_GRP_NR_IRQS == KVM_DEV_ARM_VGIC_GRP_NR_IRQS &&
	       VMM_HV_VGIC_GRP_CTRL == KVM_DEV_ARM_VGIC_GRP_CTRL &&
	       VMM_HV_VGIC_CTRL_INIT == KVM_DEV_ARM_VGIC_CTRL_INIT, "VMM_HV_VGIC_GRP_*");
_Static_assert(VMM_HV_VGIC_V2_ADDR_DIST == KVM_VGIC_V2_ADDR_TYPE_DIST &&
	       VMM_HV_VGIC_V2_ADDR_CPU == KVM_VGIC_V2_ADDR_TYPE_CPU &&
	       VMM_HV_VGIC_V3_ADDR_DIST == KVM_VGIC_V3_ADDR_TYPE_DIST &&
	       VMM_HV_VGIC_V3_ADDR_REDIST == KVM_VGIC_V3_ADDR_TYPE_REDIST, "VMM_HV_VGIC_*_ADDR_*");
_Static_assert(VMM_HV_VCPU_TIMER_CTRL == KVM_ARM_VCPU_TIMER_CTRL &&
	       VMM_HV_VCPU_TIMER_IRQ_VTIMER == KVM_ARM_VCPU_TIMER_IRQ_VTIMER &&
	       VMM_HV_VCPU_TIMER_IRQ_PTIMER == KVM_ARM_VCPU_TIMER_IRQ_PTIMER, "VMM_HV_VCPU_TIMER_*");

/* The vGICv3's frames (QEMU virt's layout): the distributor's 64 KiB, then
 * from GICR_BASE each vCPU's redistributor, two 64 KiB frames (RD_base and
 * SGI_base; GICv3 architecture specification, 12.10), below the UART at
 * 0x09000000.  GIC_NR_IRQS: the 32 private INTIDs and 224 SPIs. */
#define GICD_BASE	0x08000000ull
#define GICD_SIZE	0x10000ull
#define GICR_BASE	0x080a0000ull
#define GICR_STRIDE	0x20000ull
#define GICR_END	0x09000000ull
#define GIC_NR_IRQS	256u

/* In-kernel devices a plugin may create (device_create): a GIC and room
 * for an ITS or a PMU later. */
#define KVM_ARM_MAX_DEVS 4

struct kvm_arch_vm {
	int gic_fd;		/* the default vGICv3 device (devices_ready), or -1 */
	int dev_fds[KVM_ARM_MAX_DEVS];	/* device_create's, by handle */
	unsigned ndevs;
	/* KVM_ARM_PREFERRED_TARGET, asked once: the host's CPU type that
	 * KVM_ARM_VCPU_INIT takes (KVM API document, 4.83). */
	struct kvm_vcpu_init target;
	bool have_target;
	bool nisv;		/* KVM_CAP_ARM_NISV_TO_USER enabled */
	bool user_gic;		/* irqchip = "emulated": a GIC in a plugin */
	/* The VM's virtual counter is read and set through a vCPU
	 * (kvm-arm64-state.c); vCPUs live until the VM goes. */
	struct kvm_vcpu *vcpu0;
	/* Every vCPU by index (nr_vcpus of them): the vGIC's redistributors
	 * and CPU interfaces are named by each one's MPIDR_EL1. */
	struct kvm_vcpu **vcpus;
	/* The VM's vGIC (the default one's gic_fd, or a plugin's
	 * device_create), -1 without one; its KVM_DEV_TYPE_*. */
	int vgic_fd;
	uint32_t vgic_type;
	bool its;		/* a plugin created a vGIC ITS (KVM_DEV_TYPE_ARM_VGIC_ITS) */
};

bool kvm_arm64_user_gic(const struct kvm_vm *vm)
{
	return vm->arch->user_gic;
}

struct kvm_vcpu *kvm_arm64_vcpu0(const struct kvm_vm *vm)
{
	return vm->arch->vcpu0;
}

struct kvm_vcpu *kvm_arm64_vcpu(const struct kvm_vm *vm, uint32_t index)
{
	return index < vm->nr_vcpus ? vm->arch->vcpus[index] : NULL;
}

int kvm_arm64_vgic(const struct kvm_vm *vm, uint32_t *type, bool *its)
{
	*type = vm->arch->vgic_type;
	*its = vm->arch->its;
	return vm->arch->vgic_fd;
}

static const char *const irqchip_choices[] = { "kernel", "emulated", "none", NULL };

static const struct vmm_prop_desc kvm_props[] = {
	{ .name = "device", .type = VMM_PROP_STRING, .def_str = "/dev/kvm",
	  .help = "KVM device node" },
	{ .name = "irqchip", .type = VMM_PROP_ENUM, .def_str = "kernel",
	  .choices = irqchip_choices,
	  .help = "kernel: KVM's in-kernel GICv3 at 0x08000000; emulated: a GICv2 in the gic "
		  "plugin (list it as a device), fed the timers' levels; none: no interrupt "
		  "controller (a guest that polls)" },
	{ .name = "irqfd", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "with irqchip = kernel: level-triggered device lines (SPIs) through resampling "
		  "irqfds instead of KVM_IRQ_LINE" },
	{ .name = NULL },
};

int kvm_arch_vm_init(struct kvm_vm *vm, uint32_t nr_vcpus)
{
	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	vm->arch->gic_fd = -1;
	vm->arch->vgic_fd = -1;
	vm->arch->vcpus = calloc(nr_vcpus ? nr_vcpus : 1, sizeof(*vm->arch->vcpus));
	if (!vm->arch->vcpus) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	const char *irqchip = vm->h->prop_str(vm->h, "irqchip");
	if (!irqchip || strcmp(irqchip, "kernel") == 0) {
		vm->mode = VMM_IRQ_KERNEL;
	} else if (strcmp(irqchip, "emulated") == 0) {
		/* The core's "everything in plugins" mode, with a GIC plugin
		 * that drives the vCPUs' inputs (ABI 1.8). */
		vm->mode = VMM_IRQ_EMULATED;
		vm->arch->user_gic = true;
		if (!VMM_HOST_HAS(vm->h, timer_outputs)) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: irqchip = \"emulated\" needs a core "
				   "of ABI 1.14 (timer_outputs), for the timers' interrupts");
			return -ENOTSUP;
		}
	} else if (strcmp(irqchip, "none") == 0) {
		/* Nothing in KVM: the core's "everything in plugins" mode, and
		 * with no plugin controller either, lines reach nothing. */
		vm->mode = VMM_IRQ_EMULATED;
	} else {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: irqchip '%s' is not kernel, emulated or none",
			   irqchip);
		return -EINVAL;
	}
	return 0;
}

void kvm_arch_vm_fini(struct kvm_vm *vm)
{
	if (vm->arch && vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	for (unsigned i = 0; vm->arch && i < vm->arch->ndevs; i++)
		close(vm->arch->dev_fds[i]);
	if (vm->arch)
		free(vm->arch->vcpus);
	free(vm->arch);
	vm->arch = NULL;
}

int kvm_arch_check_caps(struct kvm_vm *vm)
{
	static const struct {
		long cap;
		const char *name;
	} required[] = {
		/* Registers are set by id only on arm64 (no KVM_SET_REGS). */
		{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
		/* PSCI 0.2+ in KVM: CPU_ON for the secondaries, SYSTEM_OFF and
		 * SYSTEM_RESET as KVM_EXIT_SYSTEM_EVENT (KVM API, 4.82). */
		{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
	};
	int missing = 0;

	if (vm->mode == VMM_IRQ_KERNEL && !kvm_check_ext(vm, KVM_CAP_DEVICE_CTRL)) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: host lacks KVM_CAP_DEVICE_CTRL, needed by "
			   "irqchip = \"kernel\" (the vGICv3; try irqchip = \"none\")");
		missing++;
	}
	/* KVM API, 8.10 KVM_CAP_ARM_USER_IRQ: with no in-kernel GIC, KVM
	 * reports the timers' output levels in kvm_run->s.regs.device_irq_level
	 * and exits when they change; without it the guest's timer interrupts
	 * would never reach the emulated GIC. */
	if (vm->arch->user_gic && !kvm_check_ext(vm, KVM_CAP_ARM_USER_IRQ)) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: host lacks KVM_CAP_ARM_USER_IRQ, needed by "
			   "irqchip = \"emulated\" (the timers' levels for the GIC plugin)");
		missing++;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!kvm_check_ext(vm, required[i].cap)) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: host lacks required capability %s",
				   required[i].name);
			missing++;
		}
	return missing;
}

/* KVM API, 4.2 KVM_CREATE_VM: on arm64 the type's low byte is the IPA
 * size; 0 is the default 40 bits (1 TiB), ample for RAM at 1 GiB. */
unsigned long kvm_arch_vm_type(struct kvm_vm *vm)
{
	return 0;
}

static int gic_attr(struct kvm_vm *vm, uint32_t group, uint64_t attr, void *val, const char *what)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uintptr_t)val };

	if (ioctl(vm->arch->gic_fd, KVM_SET_DEVICE_ATTR, &a) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: vGICv3 %s: %s", what, strerror(err));
		return -err;
	}
	return 0;
}

static bool vgic_irqfds(struct kvm_vm *vm)
{
	/* The vGIC resamples a level-triggered SPI's irqfd at the guest's
	 * EOI (vgic-irqfd.c; KVM API 4.75), as x86's whole in-kernel irqchip
	 * does. */
	return kvm_prop_bool(vm->h, "irqfd", true) && kvm_check_ext(vm, KVM_CAP_IRQFD) > 0 &&
	       kvm_check_ext(vm, KVM_CAP_IRQFD_RESAMPLE) > 0;
}

/*
 * KVM API 4.80 KVM_CREATE_DEVICE and Documentation/virt/kvm/devices/
 * arm-vgic-v3.rst: the distributor's and the redistributors' base
 * addresses (KVM_DEV_ARM_VGIC_GRP_ADDR, 64 KiB-aligned) and the number of
 * INTIDs (KVM_DEV_ARM_VGIC_GRP_NR_IRQS, a multiple of 32) are set before
 * the VGIC is initialised; KVM_DEV_ARM_VGIC_CTRL_INIT comes after every
 * vCPU exists (devices_ready() runs after the vCPUs).  A GICv3's
 * INIT is never lazy: without it the first KVM_RUN fails.
 */
static int create_vgic(struct kvm_vm *vm)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	uint64_t dist = GICD_BASE, redist = GICR_BASE;
	uint32_t nr_irqs = GIC_NR_IRQS;
	int rc;

	if (GICR_BASE + (uint64_t)vm->nr_vcpus * GICR_STRIDE > GICR_END) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: %u vCPUs' GICv3 redistributors do not "
			   "fit below 0x%llx (a gic device of mode \"kernel\" may place them "
			   "elsewhere)", vm->nr_vcpus, (unsigned long long)GICR_END);
		return -EINVAL;
	}

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_CREATE_DEVICE(vGICv3): %s%s", strerror(err),
			   err == ENODEV ? " (the host's GIC cannot back a vGICv3; try irqchip = \"none\")"
					 : "");
		return -err;
	}
	vm->arch->gic_fd = (int)cd.fd;
	vm->arch->vgic_fd = vm->arch->gic_fd;
	vm->arch->vgic_type = KVM_DEV_TYPE_ARM_VGIC_V3;
	if ((rc = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist,
			   "distributor address")) ||
	    (rc = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist,
			   "redistributor address")) ||
	    (rc = gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs, "number of interrupts")))
		return rc;
	vm->irqchip = true;
	vm->irqfd = vgic_irqfds(vm);

	/* The device tree's interrupt controller (core/arch-arm64.c). */
	const struct vmm_resource res[2] = {
		{ .type = VMM_RES_MMIO, .base = GICD_BASE, .len = GICD_SIZE },
		{ .type = VMM_RES_MMIO, .base = GICR_BASE, .len = vm->nr_vcpus * GICR_STRIDE },
	};
	const struct vmm_device_desc d = {
		.size = sizeof(d), .kind = VMM_DESC_GICV3, .res = res, .nres = 2,
		.gsi_base = GIC_NR_IRQS,
	};
	rc = vmm_describe(vm->h, &d);
	if (rc) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: cannot describe the vGICv3: %s", strerror(-rc));
		return rc;
	}
	/* Every vCPU exists by now (the core creates them before devices). */
	return gic_attr(vm, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL,
			"KVM_DEV_ARM_VGIC_CTRL_INIT");
}

/*
 * ABI 1.14: with irqchip = "kernel" and no gic device of mode "kernel",
 * the default vGICv3, so that a machine naming no GIC keeps the one it
 * had before the gic plugin could create it.
 */
static int kvm_devices_ready(void *opaque)
{
	struct kvm_vm *vm = opaque;

	if (vm->mode != VMM_IRQ_KERNEL || vm->irqchip)
		return 0;
	vm->h->log(vm->h, VMM_LOG_DEBUG, "kvm: no gic device of mode \"kernel\": the default "
		   "vGICv3 at 0x%llx", (unsigned long long)GICD_BASE);
	return create_vgic(vm);
}

static bool is_vgic(uint32_t type)
{
	return type == KVM_DEV_TYPE_ARM_VGIC_V2 || type == KVM_DEV_TYPE_ARM_VGIC_V3;
}

/*
 * ABI 1.14, KVM API 4.80 KVM_CREATE_DEVICE: a plugin's in-kernel device.
 * A vGIC only with irqchip = "kernel" (else KVM would take the vCPUs'
 * interrupts from a plugin's GIC), and once: it becomes the VM's
 * interrupt controller, which KVM_IRQ_LINE's SPIs and the irqfds reach.
 * Errors are the caller's to report.
 */
static int kvm_device_create(void *opaque, uint32_t type, int *dev)
{
	struct kvm_vm *vm = opaque;
	struct kvm_create_device cd = { .type = type };

	if (is_vgic(type) && vm->mode != VMM_IRQ_KERNEL)
		return -ENOTSUP;
	if (is_vgic(type) && vm->irqchip)
		return -EEXIST;
	if (vm->arch->ndevs >= KVM_ARM_MAX_DEVS)
		return -ENOSPC;
	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return -errno;
	vm->arch->dev_fds[vm->arch->ndevs] = (int)cd.fd;
	*dev = (int)vm->arch->ndevs++;
	if (is_vgic(type)) {
		vm->irqchip = true;
		vm->irqfd = vgic_irqfds(vm);
		vm->arch->vgic_fd = (int)cd.fd;
		vm->arch->vgic_type = type;
	}
	if (type == KVM_DEV_TYPE_ARM_VGIC_ITS)
		vm->arch->its = true;
	return 0;
}

static int device_attr_ioctl(int fd, uint32_t op, uint32_t group, uint64_t attr, void *val)
{
	static const unsigned long req[] = {
		[VMM_HV_ATTR_SET] = KVM_SET_DEVICE_ATTR,
		[VMM_HV_ATTR_GET] = KVM_GET_DEVICE_ATTR,
		[VMM_HV_ATTR_HAS] = KVM_HAS_DEVICE_ATTR,
	};
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uintptr_t)val };

	if (op > VMM_HV_ATTR_HAS)
		return -EINVAL;
	return ioctl(fd, req[op], &a) < 0 ? -errno : 0;
}

/* KVM API 4.81 KVM_SET_DEVICE_ATTR on a device's fd. */
static int kvm_device_attr(void *opaque, int dev, uint32_t op, uint32_t group, uint64_t attr,
			   void *val)
{
	struct kvm_vm *vm = opaque;

	if (dev < 0 || (unsigned)dev >= vm->arch->ndevs)
		return -EBADF;
	return device_attr_ioctl(vm->arch->dev_fds[dev], op, group, attr, val);
}

/* The same on a vCPU's fd (KVM API 4.81: vCPU attributes,
 * Documentation/virt/kvm/devices/vcpu.rst, e.g. the timers' PPIs). */
static int kvm_vcpu_attr(void *opaque, uint32_t op, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_vcpu *vcpu = opaque;

	return device_attr_ioctl(vcpu->fd, op, group, attr, val);
}

int kvm_arch_vm_setup(struct kvm_vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

	/* KVM API, 7.18 KVM_CAP_ARM_NISV_TO_USER: a data abort outside the
	 * memslots whose syndrome carries no decoding (ISV = 0: a load/store
	 * pair, writeback addressing...) exits as KVM_EXIT_ARM_NISV instead
	 * of failing KVM_RUN with ENOSYS.  Either way it is refused below;
	 * with the exit the message can name the address. */
	if (kvm_check_ext(vm, KVM_CAP_ARM_NISV_TO_USER) > 0 &&
	    ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0)
		vm->arch->nisv = true;
	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &vm->arch->target) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_ARM_PREFERRED_TARGET: %s", strerror(err));
		return -err;
	}
	vm->arch->have_target = true;
	vm->after_run = vm->arch->user_gic;
	return 0;
}

/*
 * KVM API, 4.82 KVM_ARM_VCPU_INIT: the preferred target, with PSCI 0.2
 * (KVM_ARM_VCPU_PSCI_0_2, which KVM reports as PSCI 1.x on 6.1), and every
 * vCPU but the boot CPU, vCPU 0, powered off until the guest's PSCI CPU_ON
 * (KVM_ARM_VCPU_POWER_OFF).  The reset state is EL1h with DAIF masked and
 * the MMU off (booting.rst's requirements); the core sets PC and x0-x3.
 */
int kvm_arch_vcpu_init(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_vcpu_init init = vm->arch->target;

	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->index != 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	else
		vm->arch->vcpu0 = vcpu;
	if (vcpu->index < vm->nr_vcpus)
		vm->arch->vcpus[vcpu->index] = vcpu;
	/* The vGIC is created and initialised after every vCPU: by the gic
	 * plugin (its ready op) or devices_ready(). */
	return kvm_vcpu_ioctl(vcpu, KVM_ARM_VCPU_INIT, "KVM_ARM_VCPU_INIT", &init);
}

static void refuse_nisv(struct kvm_vcpu *vcpu, uint64_t ipa, uint64_t iss, struct vmm_exit *exit)
{
	const struct vmm_host *h = vcpu->vm->h;

	if (ipa != UINT64_MAX)
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u: an MMIO access at 0x%llx without a valid "
		       "syndrome (ESR ISS 0x%llx, ISV = 0: a load/store pair, writeback or similar "
		       "instruction KVM cannot decode); refused", vcpu->index,
		       (unsigned long long)ipa, (unsigned long long)iss);
	else
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u: an MMIO access without a valid syndrome "
		       "(an instruction KVM cannot decode: KVM_RUN said ENOSYS); refused",
		       vcpu->index);
	exit->reason = VMM_EXIT_INTERNAL_ERROR;
	exit->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
}

bool kvm_arch_translate_exit(struct kvm_vcpu *vcpu, struct kvm_run *run, struct vmm_exit *exit)
{
	if (run->exit_reason != KVM_EXIT_ARM_NISV)
		return false;
	refuse_nisv(vcpu, run->arm_nisv.fault_ipa, run->arm_nisv.esr_iss, exit);
	return true;
}

/* Without KVM_CAP_ARM_NISV_TO_USER, KVM_RUN fails with ENOSYS for the same
 * abort ("load/store instruction decoding not implemented"). */
int kvm_arch_run_error(struct kvm_vcpu *vcpu, int err, struct vmm_exit *exit)
{
	if (err != ENOSYS)
		return -err;
	refuse_nisv(vcpu, UINT64_MAX, 0, exit);
	return 0;
}

/*
 * KVM API, 4.25 KVM_IRQ_LINE on arm64: irq_type in bits 27:24 (1: an SPI
 * of the in-kernel GIC), irq_id in 15:0, the SPI's INTID itself (32 to
 * 1019).  The core's lines are INTIDs (vmm/hypervisor.h), so only SPIs go
 * here.  Unused until an in-kernel vGIC exists (vm->irqchip stays false).
 */
int kvm_arch_irq_encode(struct kvm_vm *vm, uint32_t line, uint32_t *irq)
{
	if (line < 32 || line > 1019)
		return -EINVAL;
	*irq = (uint32_t)KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT | line;
	return 0;
}

/*
 * KVM_IRQFD on arm64 names a GSI of the VM's routing table, and the vGIC's
 * default table (virt/kvm/arm/vgic/vgic-irqfd.c,
 * kvm_vgic_setup_default_irq_routing) maps GSI n to the irqchip pin n,
 * which vgic_irqfd_set_irq() raises as SPI INTID n + 32.  So the core's
 * line, an INTID, is GSI INTID - 32; only SPIs have one.
 */
int kvm_arch_irqfd_gsi(struct kvm_vm *vm, uint32_t line, uint32_t *gsi)
{
	if (line < 32 || line > 1019)
		return -EINVAL;
	*gsi = line - 32;
	return 0;
}

/* ABI 1.14's timer output bits are KVM's device_irq_level bits. */
_Static_assert(VMM_TIMER_OUT_VIRT == KVM_ARM_DEV_EL1_VTIMER &&
	       VMM_TIMER_OUT_PHYS == KVM_ARM_DEV_EL1_PTIMER, "VMM_TIMER_OUT_*");
#define TIMER_OUTS (VMM_TIMER_OUT_VIRT | VMM_TIMER_OUT_PHYS)

/*
 * irqchip = "emulated" (KVM API, 8.10 KVM_CAP_ARM_USER_IRQ): after every
 * run KVM has written the timers' output levels to device_irq_level;
 * before entering the guest it compares them with what it last wrote and
 * exits (KVM_RUN fails with EINTR) when they changed, so a level change
 * is seen here before the guest runs again.  The changed levels go to the
 * arm-timer plugin (timer_outputs, ABI 1.14), which raises or lowers its
 * PPIs on the GIC plugin before the core sees the exit: a guest's
 * GICC_EOIR write after it reprogrammed the timer meets the lowered
 * level, and the interrupt is not signalled again.  While the level is
 * high KVM keeps the host's timer interrupt masked, so the guest is not
 * stormed; it samples the timer again at each exit.  The PMU's level
 * (KVM_ARM_DEV_PMU) is not passed on: no vCPU is given a PMU.
 */
void kvm_arch_after_run(struct kvm_vcpu *vcpu)
{
	const struct vmm_host *h = vcpu->vm->h;
	uint64_t now = vcpu->run->s.regs.device_irq_level & TIMER_OUTS;
	uint64_t changed = now ^ vcpu->reported_levels;

	if (__builtin_expect(!changed, 1))
		return;
	vcpu->reported_levels = now;
	h->timer_outputs(h, vcpu->index, (uint32_t)now, (uint32_t)changed);
}

/*
 * ABI 1.8: the emulated GIC's output to a vCPU's IRQ or FIQ input (KVM
 * API, 4.25 KVM_IRQ_LINE on arm64: irq_type 0 = KVM_ARM_IRQ_TYPE_CPU, the
 * vCPU index in bits 23:16 (and 31:28 above 255), irq_id 0 IRQ, 1 FIQ).
 * KVM holds the level (HCR_EL2.VI/VF of the vCPU) for the vCPU's next
 * entries.  The core calls this on the vCPU's own thread, between runs:
 * from another thread, KVM's non-atomic rewrite of the same word at
 * vcpu_load could undo it (hypervisor.h, vcpu_irq_set).
 */
static int kvm_vcpu_irq_set(void *opaque, uint32_t vcpu, uint32_t pin, int level)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irq_level irq = { .level = level ? 1 : 0 };

	if (vm->irqchip || !vm->arch->user_gic)
		return -ENOTSUP;
	if (vcpu >= vm->nr_vcpus || (pin != VMM_CPU_IRQ && pin != VMM_CPU_FIQ))
		return -EINVAL;
	irq.irq = (uint32_t)KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT |
		  (vcpu & KVM_ARM_IRQ_VCPU_MASK) << KVM_ARM_IRQ_VCPU_SHIFT |
#ifdef KVM_ARM_IRQ_VCPU2_SHIFT
		  ((vcpu >> 8) & KVM_ARM_IRQ_VCPU2_MASK) << KVM_ARM_IRQ_VCPU2_SHIFT |
#endif
		  (pin == VMM_CPU_IRQ ? KVM_ARM_IRQ_CPU_IRQ : KVM_ARM_IRQ_CPU_FIQ);
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_IRQ_LINE vCPU %u %s level %d: %s", vcpu,
			   pin == VMM_CPU_IRQ ? "IRQ" : "FIQ", level, strerror(err));
		return -err;
	}
	return 0;
}

static const struct vmm_hv_ops kvm_ops = {
	.size = sizeof(struct vmm_hv_ops),
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.set_memory = kvm_set_memory,
	.irq_line = kvm_irq_line,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_get_stats = kvm_vcpu_get_stats,
	.irq_mode = kvm_irq_mode,
	.ioeventfd = kvm_ioeventfd,
	.irqfd = kvm_irqfd,
	.vcpu_reg_get = kvm_vcpu_reg_get,
	.vcpu_reg_set = kvm_vcpu_reg_set,
	.dirty_log_get = kvm_dirty_log_get,
	.vcpu_irq_set = kvm_vcpu_irq_set,
	.device_create = kvm_device_create,
	.device_attr = kvm_device_attr,
	.vcpu_attr = kvm_vcpu_attr,
	.devices_ready = kvm_devices_ready,
	.vcpu_state_save = kvm_arm64_vcpu_state_save,
	.vcpu_state_load = kvm_arm64_vcpu_state_load,
	.vm_state_save = kvm_arm64_vm_state_save,
	.vm_state_load = kvm_arm64_vm_state_load,
};

static const struct vmm_plugin kvm_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_HYPERVISOR,
	.name = "kvm",
	.version = PACKAGE_VERSION,
	.summary = "Linux KVM hypervisor backend (arm64)",
	.props = kvm_props,
	.ops = &kvm_ops,
};

VMM_PLUGIN_DEFINE(kvm_plugin)
