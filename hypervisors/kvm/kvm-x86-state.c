/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-x86-state.c - an x86 vCPU's and VM's state as
 * records (vmm/state.h, ABI 1.12): vcpu_state_save/load and
 * vm_state_save/load of the kvm plugin.
 *
 * Each KVM structure is stored as one field, its bytes as KVM gives them
 * (struct kvm_regs, kvm_sregs, kvm_xsave, ...): the record is this
 * backend's, and a snapshot restores only on the same backend and a host
 * CPU with the same XSAVE layout and MSRs (docs/api.md says so).  Fields
 * whose size KVM may change (XSAVE, the MSR list) are read back with their
 * stored length and checked.
 *
 * The order of the ioctls is KVM's rule (Documentation/virt/kvm/api.rst):
 *  - the special registers as SREGS2 where the host offers it (the PAE
 *    PDPTRs with them), else SREGS; a record with SREGS2 needs it.
 *  - saving: MP state first (KVM_GET_MP_STATE runs the APIC's pending
 *    INIT/SIPI events, which change the registers read after it); the
 *    vCPU events late, after every read that may change them.
 *  - loading: the CPUID table first (what the rest may depend on), and
 *    special registers before the local APIC (KVM_SET_SREGS sets
 *    the APIC base MSR, which resets the APIC's mode); the local APIC
 *    before the MSRs (MSR_IA32_TSC_DEADLINE is dropped unless the APIC's
 *    timer is in TSC-deadline mode); registers before the vCPU events
 *    (KVM_SET_REGS drops a pending exception); the vCPU events last.
 *  - per VM the clock last, so the guest sees no time pass beyond the
 *    pause (KVM_SET_CLOCK without KVM_CLOCK_REALTIME).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hypervisors/kvm/kvm-internal.h"
#include "hypervisors/kvm/kvm-x86-state.h"

#define MSR_LIST_MAX 1024

static void state_err(const struct kvm_vm *vm, const char *what, unsigned idx, int err)
{
	vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: %s on vCPU %u: %s", what, idx, strerror(err));
}

/* One ioctl whose argument is stored as field `field`. */
static int put_ioctl(struct kvm_vcpu *vcpu, struct vmm_state_out *out, unsigned long req,
		     const char *name, const char *field, void *buf, size_t len)
{
	if (ioctl(vcpu->fd, req, buf) < 0) {
		int err = errno;

		state_err(vcpu->vm, name, vcpu->index, err);
		return -err;
	}
	return vmm_state_put(vcpu->vm->h, out, field, buf, len);
}

static int get_field(struct kvm_vcpu *vcpu, struct vmm_state_in *in, const char *field, void *buf,
		     size_t len)
{
	int r = vmm_state_get(vcpu->vm->h, in, field, buf, len);

	if (r)
		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: vCPU %u record: field '%s': %s",
				 vcpu->index, field, r == -EMSGSIZE ? "wrong size" : strerror(-r));
	return r;
}

static int set_ioctl(struct kvm_vcpu *vcpu, struct vmm_state_in *in, unsigned long req,
		     const char *name, const char *field, void *buf, size_t len)
{
	int r = get_field(vcpu, in, field, buf, len);

	if (r)
		return r;
	if (ioctl(vcpu->fd, req, buf) < 0) {
		r = -errno;
		state_err(vcpu->vm, name, vcpu->index, -r);
	}
	return r;
}

/* The XSAVE area's size: KVM_CAP_XSAVE2 gives it where dynamic features
 * (AMX) can make it larger than struct kvm_xsave's 4 KiB; 0 without
 * XSAVE (then KVM_GET_FPU). */
static size_t xsave_size(struct kvm_vm *vm)
{
	int n;

	if (kvm_check_ext(vm, KVM_CAP_XSAVE) <= 0)
		return 0;
	n = kvm_check_ext(vm, KVM_CAP_XSAVE2);
	return n > (int)sizeof(struct kvm_xsave) ? (size_t)n : sizeof(struct kvm_xsave);
}

/*
 * The MSRs KVM lists (KVM_GET_MSR_INDEX_LIST: the ones it saves and the
 * ones it emulates), keeping those KVM_GET_MSRS reads on this vCPU: the
 * list is the host's, and some entries depend on CPUID (KVM_GET_MSRS stops
 * at the first it refuses and returns how many it did).
 */
static struct kvm_msrs *read_msrs(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + MSR_LIST_MAX * sizeof(uint32_t));
	struct kvm_msrs *m = NULL;
	uint32_t kept = 0;

	if (!list)
		return NULL;
	list->nmsrs = MSR_LIST_MAX;
	if (ioctl(vm->sys_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		state_err(vm, "KVM_GET_MSR_INDEX_LIST", vcpu->index, errno);
		goto out;
	}
	m = calloc(1, sizeof(*m) + (size_t)list->nmsrs * sizeof(m->entries[0]));
	if (!m)
		goto out;
	for (uint32_t i = 0; i < list->nmsrs;) {
		uint32_t n = list->nmsrs - i;
		struct kvm_msrs *batch = calloc(1, sizeof(*batch) + (size_t)n * sizeof(batch->entries[0]));
		int r;

		if (!batch) {
			free(m);
			m = NULL;
			goto out;
		}
		batch->nmsrs = n;
		for (uint32_t j = 0; j < n; j++)
			batch->entries[j].index = list->indices[i + j];
		r = ioctl(vcpu->fd, KVM_GET_MSRS, batch);
		if (r < 0) {
			state_err(vm, "KVM_GET_MSRS", vcpu->index, errno);
			free(batch);
			free(m);
			m = NULL;
			goto out;
		}
		memcpy(&m->entries[kept], batch->entries, (size_t)r * sizeof(batch->entries[0]));
		kept += (uint32_t)r;
		i += (uint32_t)r + 1; /* skip the one refused */
		free(batch);
	}
	m->nmsrs = kept;
out:
	free(list);
	return m;
}

/* The CPUID table the vCPU was given (KVM_GET_CPUID2 grows its buffer on
 * E2BIG): kept with the vCPU, so a restored one gets the same table, not
 * the one the new host and config would give. */
static int save_cpuid(struct kvm_vcpu *vcpu, struct vmm_state_out *out)
{
	for (uint32_t nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		int r;

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		r = ioctl(vcpu->fd, KVM_GET_CPUID2, c);
		if (r < 0 && errno == E2BIG) {
			free(c);
			continue;
		}
		if (r < 0) {
			r = -errno;
			state_err(vcpu->vm, "KVM_GET_CPUID2", vcpu->index, -r);
		} else {
			r = vmm_state_put(vcpu->vm->h, out, "cpuid", c->entries, c->nent * sizeof(c->entries[0]));
		}
		free(c);
		return r;
	}
	return -E2BIG;
}

/* First on load: other state depends on it (the XSAVE features, the
 * MSRs that exist). */
static int load_cpuid(struct kvm_vcpu *vcpu, struct vmm_state_in *in)
{
	const struct vmm_host *h = vcpu->vm->h;
	ssize_t len = h->state_get(h, in, "cpuid", NULL, 0);
	struct kvm_cpuid2 *c;
	int r = 0;

	if (len < 0 || len % (ssize_t)sizeof(struct kvm_cpuid_entry2) ||
	    len / (ssize_t)sizeof(struct kvm_cpuid_entry2) > 4096) {
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: field 'cpuid': %s", vcpu->index,
		       len < 0 ? strerror((int)-len) : "not a whole number of CPUID entries");
		return len < 0 ? (int)len : -EBADMSG;
	}
	c = calloc(1, sizeof(*c) + (size_t)len);
	if (!c)
		return -ENOMEM;
	c->nent = (uint32_t)(len / (ssize_t)sizeof(struct kvm_cpuid_entry2));
	h->state_get(h, in, "cpuid", c->entries, (size_t)len);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0) {
		r = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_SET_CPUID2 on vCPU %u with the saved table: %s (a host "
		       "CPU without the saved features?)", vcpu->index, strerror(-r));
	}
	free(c);
	return r;
}

int kvm_x86_vcpu_state_save(void *opaque, struct vmm_state_out *out)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_vm *vm = vcpu->vm;
	const struct vmm_host *h = vm->h;
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	struct kvm_msrs *msrs;
	size_t xs = xsave_size(vm);
	int r;

	memset(&events, 0, sizeof(events));
	r = put_ioctl(vcpu, out, KVM_GET_MP_STATE, "KVM_GET_MP_STATE", "mp_state", &mp, sizeof(mp));
	if (!r)
		r = put_ioctl(vcpu, out, KVM_GET_REGS, "KVM_GET_REGS", "regs", &regs, sizeof(regs));
	/* SREGS2 where offered: it carries the PDPTRs, which a PAE guest's
	 * paging uses (without EPT/NPT they are not reloaded from memory). */
	if (!r && kvm_check_ext(vm, KVM_CAP_SREGS2) > 0) {
		struct kvm_sregs2 sregs2;

		r = put_ioctl(vcpu, out, KVM_GET_SREGS2, "KVM_GET_SREGS2", "sregs2", &sregs2, sizeof(sregs2));
	} else if (!r) {
		r = put_ioctl(vcpu, out, KVM_GET_SREGS, "KVM_GET_SREGS", "sregs", &sregs, sizeof(sregs));
	}
	if (!r && xs) {
		void *x = calloc(1, xs);

		if (!x)
			return -ENOMEM;
		r = put_ioctl(vcpu, out, xs > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
			      "KVM_GET_XSAVE", "xsave", x, xs);
		free(x);
	} else if (!r) {
		struct kvm_fpu fpu;

		r = put_ioctl(vcpu, out, KVM_GET_FPU, "KVM_GET_FPU", "fpu", &fpu, sizeof(fpu));
	}
	if (!r && kvm_check_ext(vm, KVM_CAP_XCRS) > 0)
		r = put_ioctl(vcpu, out, KVM_GET_XCRS, "KVM_GET_XCRS", "xcrs", &xcrs, sizeof(xcrs));
	if (!r && vm->mode != VMM_IRQ_EMULATED)
		r = put_ioctl(vcpu, out, KVM_GET_LAPIC, "KVM_GET_LAPIC", "lapic", &lapic, sizeof(lapic));
	if (r)
		return r;
	msrs = read_msrs(vcpu);
	if (!msrs)
		return -EIO;
	r = vmm_state_put(h, out, "msrs", msrs->entries, (size_t)msrs->nmsrs * sizeof(msrs->entries[0]));
	free(msrs);
	if (!r)
		r = put_ioctl(vcpu, out, KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS", "events", &events,
			      sizeof(events));
	if (!r)
		r = put_ioctl(vcpu, out, KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS", "debugregs", &dregs,
			      sizeof(dregs));
	if (!r)
		r = save_cpuid(vcpu, out);
	return r;
}

/* The saved MSRs back: all of them, or the first refused is named. */
static int load_msrs(struct kvm_vcpu *vcpu, struct vmm_state_in *in)
{
	struct kvm_vm *vm = vcpu->vm;
	const struct vmm_host *h = vm->h;
	ssize_t len = h->state_get(h, in, "msrs", NULL, 0);
	struct kvm_msrs *m;
	int r;

	if (len < 0 || len % (ssize_t)sizeof(struct kvm_msr_entry) ||
	    len / (ssize_t)sizeof(struct kvm_msr_entry) > MSR_LIST_MAX) {
		h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: field 'msrs': %s", vcpu->index,
		       len < 0 ? strerror((int)-len) : "not a whole number of MSR entries");
		return len < 0 ? (int)len : -EBADMSG;
	}
	m = calloc(1, sizeof(*m) + (size_t)len);
	if (!m)
		return -ENOMEM;
	uint32_t total = (uint32_t)(len / (ssize_t)sizeof(struct kvm_msr_entry));
	h->state_get(h, in, "msrs", m->entries, (size_t)len);
	/*
	 * KVM_SET_MSRS stops at the first MSR it refuses and returns how many
	 * it set.  Some it lists and reads it never lets userspace write in
	 * some configurations (MSR_KVM_ASYNC_PF_INT without an in-kernel
	 * local APIC, even with 0): one the new vCPU already holds at the
	 * saved value has nothing to restore and is passed over; any other
	 * refusal fails the load, naming the MSR.
	 */
	struct kvm_msr_entry *e = m->entries;
	r = 0;
	while (total) {
		m->nmsrs = total;
		if (e != m->entries)
			memmove(m->entries, e, total * sizeof(*e));
		e = m->entries;
		int done = ioctl(vcpu->fd, KVM_SET_MSRS, m);
		if (done < 0) {
			r = -errno;
			state_err(vm, "KVM_SET_MSRS", vcpu->index, -r);
			break;
		}
		if ((uint32_t)done >= total)
			break;
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry one;
		} cur = { .hdr.nmsrs = 1, .one.index = e[done].index };
		if (ioctl(vcpu->fd, KVM_GET_MSRS, &cur) != 1 || cur.one.data != e[done].data) {
			h->log(h, VMM_LOG_ERROR, "kvm: KVM_SET_MSRS on vCPU %u: MSR 0x%x = 0x%llx refused: a host "
			       "with other MSRs?", vcpu->index, e[done].index, (unsigned long long)e[done].data);
			r = -EIO;
			break;
		}
		e += done + 1;
		total -= (uint32_t)done + 1;
	}
	free(m);
	return r;
}

int kvm_x86_vcpu_state_load(void *opaque, struct vmm_state_in *in)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_vm *vm = vcpu->vm;
	const struct vmm_host *h = vm->h;
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	size_t xs = xsave_size(vm);
	int r;

	r = load_cpuid(vcpu, in);
	if (!r)
		r = set_ioctl(vcpu, in, KVM_SET_MP_STATE, "KVM_SET_MP_STATE", "mp_state", &mp, sizeof(mp));
	if (!r)
		r = set_ioctl(vcpu, in, KVM_SET_REGS, "KVM_SET_REGS", "regs", &regs, sizeof(regs));
	if (!r && h->state_get(h, in, "sregs2", NULL, 0) >= 0) {
		struct kvm_sregs2 sregs2;

		if (kvm_check_ext(vm, KVM_CAP_SREGS2) <= 0) {
			h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record has SREGS2, this host lacks "
			       "KVM_CAP_SREGS2", vcpu->index);
			return -EPROTO;
		}
		r = set_ioctl(vcpu, in, KVM_SET_SREGS2, "KVM_SET_SREGS2", "sregs2", &sregs2, sizeof(sregs2));
	} else if (!r) {
		r = set_ioctl(vcpu, in, KVM_SET_SREGS, "KVM_SET_SREGS", "sregs", &sregs, sizeof(sregs));
	}
	if (!r && xs) {
		ssize_t have = h->state_get(h, in, "xsave", NULL, 0);
		void *x;

		if (have != (ssize_t)xs) {
			h->log(h, VMM_LOG_ERROR, "kvm: vCPU %u record: XSAVE area of %zd bytes, this host's "
			       "is %zu: another host CPU", vcpu->index, have, xs);
			return -EPROTO;
		}
		x = calloc(1, xs);
		if (!x)
			return -ENOMEM;
		/* KVM_SET_XSAVE takes the larger area too (api.rst, KVM_GET_XSAVE2). */
		r = set_ioctl(vcpu, in, KVM_SET_XSAVE, "KVM_SET_XSAVE", "xsave", x, xs);
		free(x);
	} else if (!r) {
		struct kvm_fpu fpu;

		r = set_ioctl(vcpu, in, KVM_SET_FPU, "KVM_SET_FPU", "fpu", &fpu, sizeof(fpu));
	}
	if (!r && kvm_check_ext(vm, KVM_CAP_XCRS) > 0)
		r = set_ioctl(vcpu, in, KVM_SET_XCRS, "KVM_SET_XCRS", "xcrs", &xcrs, sizeof(xcrs));
	if (!r)
		r = set_ioctl(vcpu, in, KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS", "debugregs", &dregs,
			      sizeof(dregs));
	if (!r && vm->mode != VMM_IRQ_EMULATED)
		r = set_ioctl(vcpu, in, KVM_SET_LAPIC, "KVM_SET_LAPIC", "lapic", &lapic, sizeof(lapic));
	if (!r)
		r = load_msrs(vcpu, in);
	if (r)
		return r;
	r = get_field(vcpu, in, "events", &events, sizeof(events));
	if (r)
		return r;
	/* Which parts KVM_SET_VCPU_EVENTS applies is in `flags`: the NMI
	 * pending state and the SIPI vector only when asked for (api.rst,
	 * KVM_SET_VCPU_EVENTS); the rest the saved flags say. */
	events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &events) < 0) {
		r = -errno;
		state_err(vm, "KVM_SET_VCPU_EVENTS", vcpu->index, -r);
	}
	return r;
}

static int vm_ioctl(struct kvm_vm *vm, unsigned long req, const char *name, void *arg)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: %s: %s", name, strerror(err));
		return -err;
	}
	return 0;
}

static const char *const chip_field[3] = { "pic-master", "pic-slave", "ioapic" };

int kvm_x86_vm_state_save(void *opaque, struct vmm_state_out *out)
{
	struct kvm_vm *vm = opaque;
	const struct vmm_host *h = vm->h;
	int r = 0;

	vmm_state_put_u8(h, out, "irqchip", (uint8_t)vm->mode);
	if (vm->mode == VMM_IRQ_KERNEL) {
		for (unsigned c = 0; c < 3 && !r; c++) {
			struct kvm_irqchip chip = { .chip_id = c };

			r = vm_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", &chip);
			if (!r)
				r = vmm_state_put(h, out, chip_field[c], &chip, sizeof(chip));
		}
	}
	if (!r && kvm_x86_has_pit(vm)) {
		struct kvm_pit_state2 pit;

		r = vm_ioctl(vm, KVM_GET_PIT2, "KVM_GET_PIT2", &pit);
		if (!r)
			r = vmm_state_put(h, out, "pit2", &pit, sizeof(pit));
	}
	if (!r) {
		struct kvm_clock_data clock = { 0 };

		r = vm_ioctl(vm, KVM_GET_CLOCK, "KVM_GET_CLOCK", &clock);
		if (!r)
			r = vmm_state_put_u64(h, out, "clock", clock.clock);
	}
	return r;
}

int kvm_x86_vm_state_load(void *opaque, struct vmm_state_in *in)
{
	struct kvm_vm *vm = opaque;
	const struct vmm_host *h = vm->h;
	uint8_t mode;
	uint64_t ns;
	int r;

	r = vmm_state_get_u8(h, in, "irqchip", &mode);
	if (r || mode != (uint8_t)vm->mode) {
		h->log(h, VMM_LOG_ERROR, "kvm: VM record: irqchip mode %s the config's", r ? "missing, not" :
		       "other than");
		return -EPROTO;
	}
	if (vm->mode == VMM_IRQ_KERNEL) {
		for (unsigned c = 0; c < 3; c++) {
			struct kvm_irqchip chip;

			r = vmm_state_get(h, in, chip_field[c], &chip, sizeof(chip));
			if (r || chip.chip_id != c) {
				h->log(h, VMM_LOG_ERROR, "kvm: VM record: field '%s' missing or damaged",
				       chip_field[c]);
				return r ? r : -EBADMSG;
			}
			r = vm_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", &chip);
			if (r)
				return r;
		}
	}
	if (kvm_x86_has_pit(vm)) {
		struct kvm_pit_state2 pit;

		r = vmm_state_get(h, in, "pit2", &pit, sizeof(pit));
		if (r) {
			h->log(h, VMM_LOG_ERROR, "kvm: VM record: no in-kernel PIT state (field 'pit2')");
			return r;
		}
		r = vm_ioctl(vm, KVM_SET_PIT2, "KVM_SET_PIT2", &pit);
		if (r)
			return r;
	}
	r = vmm_state_get_u64(h, in, "clock", &ns);
	if (r) {
		h->log(h, VMM_LOG_ERROR, "kvm: VM record: no 'clock' field");
		return r;
	}
	/* Last, and without KVM_CLOCK_REALTIME: kvmclock goes on from the
	 * saved value, so the guest sees no time pass while it was saved. */
	struct kvm_clock_data clock = { .clock = ns };
	return vm_ioctl(vm, KVM_SET_CLOCK, "KVM_SET_CLOCK", &clock);
}
