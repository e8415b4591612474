/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-arm64-state.c - an arm64 vCPU's and VM's state as
 * records (vmm/state.h, ABI 1.12): vcpu_state_save/load and
 * vm_state_save/load of the kvm plugin on KVM/arm64.
 *
 * A vCPU's record (KVM API document, Documentation/virt/kvm/api.rst):
 *  - "mp_state" (u32): KVM_GET_MP_STATE (4.38): RUNNABLE, STOPPED (a
 *    secondary the guest has not started with PSCI CPU_ON yet, or stopped
 *    with CPU_OFF) or SUSPENDED.  A restored secondary that was off stays
 *    off, one that was running runs: the new vCPU's own state is only what
 *    KVM_ARM_VCPU_INIT gave it.
 *  - "regs": every register KVM_GET_REG_LIST (4.84) names for the vCPU,
 *    each read with KVM_GET_ONE_REG (4.69) and stored as id and value
 *    (kvm-arm64-regs.h has the encoding and the load order): the core
 *    registers, the FP/SIMD registers, the system registers, the
 *    architected timers (KVM_REG_ARM_TIMER_CTL/CNT/CVAL) and the firmware
 *    pseudo-registers (KVM_REG_ARM_FW: the PSCI version and the SMCCC
 *    workaround levels, 4.68 "ARM firmware pseudo-registers").  Loading
 *    checks the record against the list KVM gives the new vCPU: a
 *    register it lists without a value, or a value for one it does not
 *    list, is refused naming the register's id; then each is written with
 *    KVM_SET_ONE_REG, and one KVM refuses is refused by id unless the new
 *    vCPU already holds the saved value (invariant registers such as MIDR
 *    on the same host).
 *  - "timer-levels" (u8): the timers' output levels last passed to the
 *    arm-timer plugin with a GIC in userspace (kvm_arch_after_run), which
 *    that plugin's record holds too: put back in kvm_run, so KVM reports
 *    a level that changed while the machine was saved (api.rst 8.10
 *    KVM_CAP_ARM_USER_IRQ: KVM exits when the timers' levels differ from
 *    what kvm_run's device_irq_level says).
 *  - "serror-pending", "serror-has-esr", "serror-esr": KVM_GET_VCPU_EVENTS
 *    (4.31, arm64: a pending SError and its syndrome), where the host has
 *    KVM_CAP_VCPU_EVENTS; loaded last, after the registers.
 *
 * The VM's record: the irqchip mode (checked on load: a snapshot of
 * another interrupt controller is refused), and "counter", the
 * guest's virtual count (KVM_REG_ARM_TIMER_CNT on vCPU 0) read after every
 * vCPU and written last on load.  Writing it sets KVM's virtual offset for
 * every vCPU of the VM (Linux 6.1 arch/arm64/kvm/arch_timer.c,
 * update_vtimer_cntvoff) so that CNTVCT_EL0 goes on from the saved value:
 * the guest sees no time pass while it was saved, as x86's KVM_SET_CLOCK
 * does for kvmclock.  Linux 6.4's KVM_ARM_SET_COUNTER_OFFSET (api.rst
 * 4.139; KVM_CAP_COUNTER_OFFSET, 0 on the 6.1 test host) sets the same
 * offset in host counter units; the CNT write works on both.  The
 * physical counter (KVM_REG_ARM_PTIMER_CNT, where listed) is the host's:
 * a guest that reads CNTPCT_EL0 sees the time that passed.
 *
 * With the in-kernel vGICv3 (irqchip = "kernel") the VM record also holds
 * its state, read through the vGIC device's attributes
 * (Documentation/virt/kvm/devices/arm-vgic-v3.rst; kvm-arm64-vgic.c has
 * the registers and the order): "vgic-nr-irqs" (KVM_DEV_ARM_VGIC_GRP_
 * NR_IRQS), "vgic-mpidr" (each vCPU's MPIDR_EL1, u64 each: a
 * redistributor and a CPU interface are named by it) and "vgic" (every
 * register, kvm-arm64-vgic.h's entries).  On load, after every vCPU's
 * record (their MPIDR_EL1 among the registers) and before the counter:
 * the INTID count and the MPIDRs must be this machine's, the entries
 * exactly the registers of its walk, then they are written in order.
 * The core restores into a machine it has built whole, so the vGIC has
 * its vCPUs and is initialised (KVM_DEV_ARM_VGIC_CTRL_INIT) by then:
 * KVM refuses these attributes (EBUSY) before that.  A vGICv2, or a vGIC
 * with an ITS (whose tables live in guest RAM: this VMM creates none),
 * is refused in one line.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <vmm/state.h>

#include "hypervisors/kvm/kvm-arm64-regs.h"
#include "hypervisors/kvm/kvm-arm64-state.h"
#include "hypervisors/kvm/kvm-arm64-vgic.h"

/* kvm-arm64-regs.h's encoding is KVM's. */
_Static_assert(A64_REG_ARM64 == KVM_REG_ARM64 && A64_REG_SIZE_MASK == KVM_REG_SIZE_MASK &&
	       A64_REG_SIZE_SHIFT == KVM_REG_SIZE_SHIFT && A64_REG_ARCH_MASK == KVM_REG_ARCH_MASK,
	       "A64_REG_*");
_Static_assert(A64_REG_COPROC_MASK == KVM_REG_ARM_COPROC_MASK &&
	       A64_REG_COPROC_SHIFT == KVM_REG_ARM_COPROC_SHIFT, "A64_REG_COPROC_*");
_Static_assert((uint64_t)A64_COPROC_CORE << 16 == KVM_REG_ARM_CORE &&
	       (uint64_t)A64_COPROC_DEMUX << 16 == KVM_REG_ARM_DEMUX &&
	       (uint64_t)A64_COPROC_SYSREG << 16 == KVM_REG_ARM64_SYSREG &&
	       (uint64_t)A64_COPROC_FW << 16 == KVM_REG_ARM_FW &&
	       (uint64_t)A64_COPROC_SVE << 16 == KVM_REG_ARM64_SVE, "A64_COPROC_*");
_Static_assert(A64_TIMER_CTL == KVM_REG_ARM_TIMER_CTL && A64_TIMER_CNT == KVM_REG_ARM_TIMER_CNT &&
	       A64_TIMER_CVAL == KVM_REG_ARM_TIMER_CVAL, "A64_TIMER_*");
#ifdef KVM_REG_ARM_PTIMER_CNT
_Static_assert(A64_PTIMER_CTL == KVM_REG_ARM_PTIMER_CTL && A64_PTIMER_CNT == KVM_REG_ARM_PTIMER_CNT &&
	       A64_PTIMER_CVAL == KVM_REG_ARM_PTIMER_CVAL, "A64_PTIMER_*");
#endif
#ifdef KVM_REG_ARM_FW_FEAT_BMAP
_Static_assert((uint64_t)A64_COPROC_FW_BMAP << 16 == KVM_REG_ARM_FW_FEAT_BMAP, "A64_COPROC_FW_BMAP");
#endif

#define TIMER_LEVELS (KVM_ARM_DEV_EL1_VTIMER | KVM_ARM_DEV_EL1_PTIMER)

static void vcpu_err(const struct kvm_vcpu *vcpu, const char *what, int err)
{
	vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: %s on vCPU %u: %s", what, vcpu->index,
			 strerror(err));
}

static int one_reg(const struct kvm_vcpu *vcpu, unsigned long req, uint64_t id, void *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)val };

	return ioctl(vcpu->fd, req, &reg) < 0 ? -errno : 0;
}

/* KVM_GET_REG_LIST (api.rst 4.84): asked with n = 0, KVM says how many
 * (E2BIG); then the list. */
static struct kvm_reg_list *reg_list(const struct kvm_vcpu *vcpu)
{
	struct kvm_reg_list probe = { .n = 0 }, *l;

	if (ioctl(vcpu->fd, KVM_GET_REG_LIST, &probe) == 0 || errno != E2BIG) {
		vcpu_err(vcpu, "KVM_GET_REG_LIST", errno ? errno : EIO);
		return NULL;
	}
	if (probe.n > A64_REGS_MAX) {
		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: KVM_GET_REG_LIST on vCPU %u: %llu "
				 "registers, more than %u", vcpu->index, (unsigned long long)probe.n,
				 A64_REGS_MAX);
		return NULL;
	}
	l = calloc(1, sizeof(*l) + probe.n * sizeof(l->reg[0]));
	if (!l)
		return NULL;
	l->n = probe.n;
	if (ioctl(vcpu->fd, KVM_GET_REG_LIST, l) < 0) {
		vcpu_err(vcpu, "KVM_GET_REG_LIST", errno);
		free(l);
		return NULL;
	}
	return l;
}

static int save_regs(struct kvm_vcpu *vcpu, struct vmm_state_out *out)
{
	const struct vmm_host *h = vcpu->vm->h;
	struct kvm_reg_list *l = reg_list(vcpu);
	uint8_t *buf = NULL, val[A64_REG_MAX_BYTES];
	size_t len = 0;
	int rc = 0;

	if (!l)
		return -EIO;
	for (uint64_t i = 0; i < l->n; i++) {
		if (!a64_reg_size(l->reg[i])) {
			h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u: KVM lists register 0x%016llx, whose "
			       "size this plugin cannot hold", vcpu->index, (unsigned long long)l->reg[i]);
			rc = -E2BIG;
			goto out;
		}
		len += a64_reg_entry_len(l->reg[i]);
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	len = 0;
	for (uint64_t i = 0; i < l->n; i++) {
		uint64_t id = l->reg[i];

		rc = one_reg(vcpu, KVM_GET_ONE_REG, id, val);
		if (rc) {
			h->log(h, VMM_LOG_ERROR, "kvm: KVM_GET_ONE_REG 0x%016llx on vCPU %u: %s",
			       (unsigned long long)id, vcpu->index, strerror(-rc));
			goto out;
		}
		a64_reg_entry_put(buf + len, id, val);
		len += a64_reg_entry_len(id);
	}
	rc = vmm_state_put(h, out, "regs", buf, len);
out:
	free(buf);
	free(l);
	return rc;
}

int kvm_arm64_vcpu_state_save(void *opaque, struct vmm_state_out *out)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_vm *vm = vcpu->vm;
	const struct vmm_host *h = vm->h;
	struct kvm_mp_state mp;
	int rc;

	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) < 0) {
		rc = -errno;
		vcpu_err(vcpu, "KVM_GET_MP_STATE", -rc);
		return rc;
	}
	rc = vmm_state_put_u32(h, out, "mp_state", mp.mp_state);
	if (!rc)
		rc = save_regs(vcpu, out);
	if (!rc)
		rc = vmm_state_put_u8(h, out, "timer-levels", (uint8_t)(vcpu->reported_levels & TIMER_LEVELS));
	if (!rc && kvm_check_ext(vm, KVM_CAP_VCPU_EVENTS) > 0) {
		struct kvm_vcpu_events ev;

		memset(&ev, 0, sizeof(ev));
		if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0) {
			rc = -errno;
			vcpu_err(vcpu, "KVM_GET_VCPU_EVENTS", -rc);
			return rc;
		}
		rc = vmm_state_put_u8(h, out, "serror-pending", ev.exception.serror_pending);
		if (!rc)
			rc = vmm_state_put_u8(h, out, "serror-has-esr", ev.exception.serror_has_esr);
		if (!rc)
			rc = vmm_state_put_u64(h, out, "serror-esr", ev.exception.serror_esr);
	}
	return rc;
}

/* The "regs" field back into the vCPU: checked whole against KVM's list
 * before the first write, then written in kvm-arm64-regs.c's order. */
static int load_regs(struct kvm_vcpu *vcpu, struct vmm_state_in *in)
{
	const struct vmm_host *h = vcpu->vm->h;
	ssize_t len = h->state_get(h, in, "regs", NULL, 0);
	struct a64_reg_entry *e = NULL;
	struct kvm_reg_list *l = NULL;
	uint8_t *buf = NULL;
	size_t n = 0;
	uint64_t id;
	char why[160];
	int rc;

	if (len < 0) {
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: no field 'regs'", vcpu->index);
		return (int)len;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		return -ENOMEM;
	h->state_get(h, in, "regs", buf, (size_t)len);
	rc = a64_regs_parse(buf, (size_t)len, &e, &n, why, sizeof(why));
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: field 'regs': %s", vcpu->index, why);
		goto out;
	}
	l = reg_list(vcpu);
	if (!l) {
		rc = -EIO;
		goto out;
	}
	/* __u64 is unsigned long long on arm64, uint64_t unsigned long: one size. */
	rc = a64_regs_match(e, n, (const uint64_t *)(const void *)l->reg, (size_t)l->n, &id);
	if (rc == -ENOENT)
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: no value for register 0x%016llx, which "
		       "KVM lists for this vCPU (another kernel or vCPU features?)", vcpu->index,
		       (unsigned long long)id);
	else if (rc == -EPROTO)
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: register 0x%016llx is not one KVM "
		       "lists for this vCPU: it cannot be set", vcpu->index, (unsigned long long)id);
	if (rc)
		goto out;
	a64_regs_order(e, n);
	for (size_t i = 0; i < n; i++) {
		uint8_t cur[A64_REG_MAX_BYTES];

		if (a64_reg_rank(e[i].id) == A64_RANK_VM)
			continue;
		rc = one_reg(vcpu, KVM_SET_ONE_REG, e[i].id, buf + e[i].off);
		if (!rc)
			continue;
		/* Nothing to restore where the new vCPU holds the value. */
		if (one_reg(vcpu, KVM_GET_ONE_REG, e[i].id, cur) == 0 &&
		    memcmp(cur, buf + e[i].off, e[i].size) == 0) {
			rc = 0;
			continue;
		}
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u: KVM_SET_ONE_REG refused register 0x%016llx "
		       "with its saved value: %s", vcpu->index, (unsigned long long)e[i].id,
		       strerror(-rc));
		goto out;
	}
out:
	free(l);
	free(e);
	free(buf);
	return rc;
}

int kvm_arm64_vcpu_state_load(void *opaque, struct vmm_state_in *in)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_vm *vm = vcpu->vm;
	const struct vmm_host *h = vm->h;
	struct kvm_mp_state mp;
	uint8_t levels = 0;
	int rc;

	rc = vmm_state_get_u32(h, in, "mp_state", &mp.mp_state);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: field 'mp_state' %s", vcpu->index,
		       rc == -ENOENT ? "missing" : "damaged");
		return rc;
	}
	rc = load_regs(vcpu, in);
	if (rc)
		return rc;
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0) {
		rc = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_SET_MP_STATE %u on vCPU %u: %s", mp.mp_state,
		       vcpu->index, strerror(-rc));
		return rc;
	}
	rc = vmm_state_get_u8(h, in, "timer-levels", &levels);
	if (rc || (levels & ~TIMER_LEVELS)) {
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: field 'timer-levels' %s", vcpu->index,
		       rc == -ENOENT ? "missing" : "damaged");
		return rc ? rc : -EBADMSG;
	}
	vcpu->reported_levels = levels;
	if (vm->after_run) {
		vcpu->run->s.regs.device_irq_level &= ~(uint64_t)TIMER_LEVELS;
		vcpu->run->s.regs.device_irq_level |= levels;
	}
	if (h->state_get(h, in, "serror-pending", NULL, 0) >= 0) {
		struct kvm_vcpu_events ev;
		uint8_t pending = 0, has_esr = 0;
		uint64_t esr = 0;

		if (kvm_check_ext(vm, KVM_CAP_VCPU_EVENTS) <= 0) {
			h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record has vCPU events, this host lacks "
			       "KVM_CAP_VCPU_EVENTS", vcpu->index);
			return -EPROTO;
		}
		if ((rc = vmm_state_get_u8(h, in, "serror-pending", &pending)) ||
		    (rc = vmm_state_get_u8(h, in, "serror-has-esr", &has_esr)) ||
		    (rc = vmm_state_get_u64(h, in, "serror-esr", &esr))) {
			h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: its SError fields are damaged",
			       vcpu->index);
			return rc;
		}
		memset(&ev, 0, sizeof(ev));
		ev.exception.serror_pending = pending;
		ev.exception.serror_has_esr = has_esr;
		ev.exception.serror_esr = esr;
		if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
			rc = -errno;
			vcpu_err(vcpu, "KVM_SET_VCPU_EVENTS", -rc);
			return rc;
		}
	}
	return 0;
}

/* kvm-arm64-vgic.h's numbers are KVM's (arch/arm64/include/uapi/asm/kvm.h). */
_Static_assert(A64_VGIC_GRP_DIST_REGS == KVM_DEV_ARM_VGIC_GRP_DIST_REGS &&
	       A64_VGIC_GRP_NR_IRQS == KVM_DEV_ARM_VGIC_GRP_NR_IRQS &&
	       A64_VGIC_GRP_CTRL == KVM_DEV_ARM_VGIC_GRP_CTRL &&
	       A64_VGIC_GRP_REDIST_REGS == KVM_DEV_ARM_VGIC_GRP_REDIST_REGS &&
	       A64_VGIC_GRP_CPU_SYSREGS == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS &&
	       A64_VGIC_GRP_LEVEL_INFO == KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, "A64_VGIC_GRP_*");
_Static_assert(A64_VGIC_MPIDR_SHIFT == KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT &&
	       A64_VGIC_LEVEL_INFO_SHIFT == KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT &&
	       A64_VGIC_LEVEL_INFO_LINE_LEVEL == VGIC_LEVEL_INFO_LINE_LEVEL, "A64_VGIC_*_SHIFT");

/* kvm-arm64-vgic.c's accesses: KVM_SET/GET_DEVICE_ATTR on the vGIC's fd
 * (KVM API 4.81).  KVM takes every vCPU's mutex for them and answers EBUSY
 * while one runs (vgic-kvm-device.c): the core saves with every vCPU
 * parked and loads before the first run. */
static int vgic_io_attr(void *opaque, bool set, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uintptr_t)val };

	return ioctl(*(const int *)opaque, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

/* The machine the vGIC serves: its INTID count (KVM_DEV_ARM_VGIC_GRP_
 * NR_IRQS) and each vCPU's MPIDR_EL1 (KVM_GET_ONE_REG), which names its
 * redistributor and CPU interface.  *mpidr is malloc'd. */
static int vgic_machine(struct kvm_vm *vm, int fd, uint32_t *nr_irqs, uint64_t **mpidr)
{
	const struct vmm_host *h = vm->h;
	uint64_t *m;
	int rc;

	rc = vgic_io_attr((void *)&fd, false, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, nr_irqs);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "kvm: vGIC: KVM_DEV_ARM_VGIC_GRP_NR_IRQS: %s", strerror(-rc));
		return rc;
	}
	m = calloc(vm->nr_vcpus ? vm->nr_vcpus : 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *vcpu = kvm_arm64_vcpu(vm, i);

		rc = vcpu ? one_reg(vcpu, KVM_GET_ONE_REG, VMM_REG_ARM64_MPIDR_EL1, &m[i]) : -ENODEV;
		if (rc) {
			h->log(h, VMM_LOG_ERROR, "kvm: vGIC: vCPU %u's MPIDR_EL1: %s", i, strerror(-rc));
			free(m);
			return rc;
		}
	}
	*mpidr = m;
	return 0;
}

/* Only a vGICv3 without an ITS: a vGICv2's registers are another set
 * (arm-vgic.rst), and an ITS's tables live in guest RAM that KVM writes
 * with KVM_DEV_ARM_ITS_SAVE_TABLES and KVM_DEV_ARM_VGIC_SAVE_PENDING_
 * TABLES (arm-vgic-its.rst): this VMM creates no ITS (no plugin asks for
 * one), so neither is done. */
static int vgic_savable(struct kvm_vm *vm, int *fd)
{
	const struct vmm_host *h = vm->h;
	uint32_t type;
	bool its;

	*fd = kvm_arm64_vgic(vm, &type, &its);
	if (*fd < 0 || type != KVM_DEV_TYPE_ARM_VGIC_V3 || its) {
		h->log(h, VMM_LOG_ERROR, "kvm: %s: only a vGICv3 without an ITS is saved and restored",
		       *fd < 0 ? "the VM has no vGIC yet" : its ? "the VM has a vGIC ITS" : "the VM's vGIC is a GICv2");
		return -ENOTSUP;
	}
	return 0;
}

static int vgic_save(struct kvm_vm *vm, struct vmm_state_out *out)
{
	const struct vmm_host *h = vm->h;
	uint64_t *mpidr = NULL;
	uint8_t *buf = NULL, *m = NULL;
	uint32_t nr_irqs;
	size_t len;
	char why[200] = "";
	int fd, rc;

	if ((rc = vgic_savable(vm, &fd)) || (rc = vgic_machine(vm, fd, &nr_irqs, &mpidr)))
		return rc;
	struct a64_vgic_io io = { vgic_io_attr, &fd };
	rc = a64_vgic_save(&io, nr_irqs, mpidr, vm->nr_vcpus, &buf, &len, why, sizeof(why));
	if (rc)
		h->log(h, VMM_LOG_ERROR, "kvm: vGIC: %s", why);
	m = rc ? NULL : malloc(8 * (size_t)vm->nr_vcpus);
	if (!rc && !m)
		rc = -ENOMEM;
	for (uint32_t i = 0; !rc && i < vm->nr_vcpus; i++)
		for (int b = 0; b < 8; b++)
			m[8 * i + b] = (uint8_t)(mpidr[i] >> (8 * b));
	if (!rc)
		rc = vmm_state_put_u32(h, out, "vgic-nr-irqs", nr_irqs);
	if (!rc)
		rc = vmm_state_put(h, out, "vgic-mpidr", m, 8 * (size_t)vm->nr_vcpus);
	if (!rc)
		rc = vmm_state_put(h, out, "vgic", buf, len);
	free(m);
	free(buf);
	free(mpidr);
	return rc;
}

/* After every vCPU's record (their MPIDR_EL1 among the registers) and
 * with the vGIC initialised (the core builds the machine, CTRL_INIT
 * included, before loading a record): checked whole, then written in
 * kvm-arm64-vgic.c's order. */
static int vgic_load(struct kvm_vm *vm, struct vmm_state_in *in)
{
	const struct vmm_host *h = vm->h;
	uint64_t *mpidr = NULL, *saved = NULL;
	uint8_t *buf = NULL, *m = NULL;
	uint32_t nr_irqs, saved_irqs;
	ssize_t len, mlen;
	char why[200] = "";
	int fd, rc;

	len = h->state_get(h, in, "vgic", NULL, 0);
	mlen = h->state_get(h, in, "vgic-mpidr", NULL, 0);
	if (len < 0 || mlen < 0 || mlen % 8 || vmm_state_get_u32(h, in, "vgic-nr-irqs", &saved_irqs)) {
		h->log(h, VMM_LOG_ERROR, "kvm: VM record: the in-kernel vGIC's fields ('vgic', "
		       "'vgic-mpidr', 'vgic-nr-irqs') are %s", len < 0 && mlen < 0 ? "missing" : "damaged");
		return -EPROTO;
	}
	if ((rc = vgic_savable(vm, &fd)) || (rc = vgic_machine(vm, fd, &nr_irqs, &mpidr)))
		return rc;
	buf = malloc(len ? (size_t)len : 1);
	m = malloc(mlen ? (size_t)mlen : 1);
	saved = calloc(mlen ? (size_t)mlen / 8 : 1, sizeof(*saved));
	if (!buf || !m || !saved) {
		rc = -ENOMEM;
		goto out;
	}
	h->state_get(h, in, "vgic", buf, (size_t)len);
	h->state_get(h, in, "vgic-mpidr", m, (size_t)mlen);
	for (ssize_t i = 0; i < mlen / 8; i++)
		saved[i] = a64_get_le64(m + 8 * i);
	rc = a64_vgic_check_machine(saved_irqs, saved, (size_t)mlen / 8, nr_irqs, mpidr, vm->nr_vcpus,
				    why, sizeof(why));
	if (!rc) {
		struct a64_vgic_io io = { vgic_io_attr, &fd };

		rc = a64_vgic_load(&io, nr_irqs, mpidr, vm->nr_vcpus, buf, (size_t)len, why, sizeof(why));
	}
	if (rc)
		h->log(h, VMM_LOG_ERROR, "kvm: VM record: vGIC: %s", why);
out:
	free(saved);
	free(m);
	free(buf);
	free(mpidr);
	return rc;
}

int kvm_arm64_vm_state_save(void *opaque, struct vmm_state_out *out)
{
	struct kvm_vm *vm = opaque;
	const struct vmm_host *h = vm->h;
	struct kvm_vcpu *vcpu0 = kvm_arm64_vcpu0(vm);
	uint64_t cnt;
	int rc;

	if (!vcpu0)
		return -ENODEV;
	rc = one_reg(vcpu0, KVM_GET_ONE_REG, KVM_REG_ARM_TIMER_CNT, &cnt);
	if (rc) {
		vcpu_err(vcpu0, "KVM_GET_ONE_REG(KVM_REG_ARM_TIMER_CNT)", -rc);
		return rc;
	}
	rc = vmm_state_put_u8(h, out, "irqchip", (uint8_t)vm->mode);
	if (!rc)
		rc = vmm_state_put_u8(h, out, "user-gic", kvm_arm64_user_gic(vm));
	if (!rc)
		rc = vmm_state_put_u64(h, out, "counter", cnt);
	if (!rc && vm->irqchip)
		rc = vgic_save(vm, out);
	return rc;
}

int kvm_arm64_vm_state_load(void *opaque, struct vmm_state_in *in)
{
	struct kvm_vm *vm = opaque;
	const struct vmm_host *h = vm->h;
	struct kvm_vcpu *vcpu0 = kvm_arm64_vcpu0(vm);
	uint8_t mode, user_gic;
	uint64_t cnt;
	int rc;

	if ((rc = vmm_state_get_u8(h, in, "irqchip", &mode)) ||
	    (rc = vmm_state_get_u8(h, in, "user-gic", &user_gic)) || mode != (uint8_t)vm->mode ||
	    user_gic != kvm_arm64_user_gic(vm)) {
		h->log(h, VMM_LOG_ERROR, "kvm: VM record: irqchip mode %s the config's",
		       rc ? "missing, not" : "other than");
		return -EPROTO;
	}
	rc = vmm_state_get_u64(h, in, "counter", &cnt);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "kvm: VM record: no 'counter' field");
		return rc;
	}
	if (!vcpu0)
		return -ENODEV;
	if (vm->irqchip) {
		rc = vgic_load(vm, in);
		if (rc)
			return rc;
	} else if (h->state_get(h, in, "vgic", NULL, 0) >= 0) {
		/* A record of the in-kernel vGIC into a machine without it is
		 * caught by the irqchip mode above; this is a damaged one. */
		h->log(h, VMM_LOG_ERROR, "kvm: VM record: vGIC fields, but the machine has no in-kernel vGIC");
		return -EPROTO;
	}
	/* Last, after every vCPU's registers: the VM's one virtual offset
	 * (see the top of this file). */
	rc = one_reg(vcpu0, KVM_SET_ONE_REG, KVM_REG_ARM_TIMER_CNT, &cnt);
	if (rc)
		vcpu_err(vcpu0, "KVM_SET_ONE_REG(KVM_REG_ARM_TIMER_CNT)", -rc);
	return rc;
}
