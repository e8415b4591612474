/* SPDX-License-Identifier: MIT */
/*
 * kvm-cpuid.c - shaping KVM_GET_SUPPORTED_CPUID into what one vCPU sees.
 *
 * KVM reports what it *can* virtualise, with the host's topology and
 * without the "running under a hypervisor" bit: a VMM must say it is a
 * hypervisor, number its CPUs and describe how they are packaged, or Linux
 * boots as on bare metal (no kvm-clock, TSC calibration against a PIT that
 * an exit-heavy guest cannot time well) and counts CPUs wrongly.
 *
 * Topology: every vCPU is one core of a single package, one thread per
 * core; APIC IDs are the vCPU indices.
 */
#include "hypervisors/kvm/kvm-cpuid.h"

#include <stdlib.h>
#include <string.h>

/* CPUID.1 */
#define C1_ECX_X2APIC     (1u << 21)
#define C1_ECX_TSC_DEADLINE (1u << 24) /* the local APIC's TSC-deadline mode */
#define C1_ECX_HYPERVISOR (1u << 31) /* reserved for hypervisors, SDM vol. 2A CPUID */
#define C1_EDX_APIC       (1u << 9)
#define C1_EDX_HTT        (1u << 28) /* EBX[23:16] is valid */
/* CPUID.80000001h: AMD repeats the APIC bit here (APM vol. 3, E.4.2) */
#define C81_EDX_APIC      (1u << 9)
/* KVM_CPUID_FEATURES (0x40000001) EAX bits that need a local APIC in
 * KVM (Documentation/virt/kvm/x86/cpuid.rst) */
#define KVM_CPUID_FEATURES_LEAF 0x40000001u
#define KVM_F_PV_EOI          (1u << 6)
#define KVM_F_PV_UNHALT       (1u << 7)
#define KVM_F_PV_SEND_IPI     (1u << 11)
#define KVM_F_ASYNC_PF_INT    (1u << 14)
#define KVM_F_MSI_EXT_DEST_ID (1u << 15)
#define KVM_F_NEED_APIC (KVM_F_PV_EOI | KVM_F_PV_UNHALT | KVM_F_PV_SEND_IPI | KVM_F_ASYNC_PF_INT | \
			 KVM_F_MSI_EXT_DEST_ID)

/* Bits an APIC ID needs to number n CPUs. */
static uint32_t id_bits(uint32_t n)
{
	uint32_t b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static void shape_leaf(struct kvm_cpuid_entry2 *e, const struct kvm_cpuid_shape *s)
{
	uint32_t n = s->nr_vcpus ? s->nr_vcpus : 1;

	switch (e->function) {
	case 1:
		/* EBX[31:24] initial APIC ID, [23:16] logical processors per
		 * package (valid with HTT). */
		e->ebx = (e->ebx & 0x0000ffffu) | (s->index << 24) | ((n & 0xff) << 16);
		if (n > 1)
			e->edx |= C1_EDX_HTT;
		else
			e->edx &= ~C1_EDX_HTT;
		e->ecx |= C1_ECX_HYPERVISOR;
		/* With it Linux arms its timer by TSC deadline and skips
		 * calibrating the APIC timer against the PIT or PM timer
		 * (calibrate_APIC_clock), a wait of 100 ms of timer ticks or
		 * more on a slow host. */
		if (s->has_apic && s->tsc_deadline)
			e->ecx |= C1_ECX_TSC_DEADLINE;
		if (!s->has_apic) {
			e->edx &= ~C1_EDX_APIC;
			e->ecx &= ~(C1_ECX_X2APIC | C1_ECX_TSC_DEADLINE);
		}
		break;
	case 4:
		/* Deterministic cache parameters: EAX[31:26] cores per package
		 * minus one, [25:14] threads sharing the cache minus one (a
		 * core's own caches: 0; L3, level 3, is package-wide). */
		if ((e->eax & 0x1f) == 0)
			break; /* no more caches */
		e->eax &= 0x00003fffu;
		e->eax |= ((n - 1) & 0x3f) << 26;
		if (((e->eax >> 5) & 7) == 3)
			e->eax |= ((n - 1) & 0xfff) << 14;
		break;
	case 0xb:
	case 0x1f:
		/* Extended topology: level 0 is SMT (one thread), level 1 the
		 * cores of the package; EDX the x2APIC ID (SDM vol. 2A). */
		e->edx = s->index;
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | 0;
		} else if (e->index == 1) {
			e->eax = id_bits(n);
			e->ebx = n;
			e->ecx = (2u << 8) | 1;
		} else {
			e->eax = 0;
			e->ebx = 0;
			e->ecx = e->index; /* type 0: no more levels */
		}
		break;
	case KVM_CPUID_FEATURES_LEAF:
		if (!s->has_apic)
			e->eax &= ~KVM_F_NEED_APIC;
		break;
	case 0x80000001:
		if (!s->has_apic)
			e->edx &= ~C81_EDX_APIC;
		break;
	case 0x80000008:
		/* AMD: ECX[7:0] cores in the package minus one, [15:12] APIC ID
		 * bits for them (APM vol. 3, E.4.7). */
		e->ecx = (e->ecx & ~0xf0ffu) | (id_bits(n) << 12) | ((n - 1) & 0xff);
		break;
	case 0x8000001e:
		/* AMD: EAX extended APIC ID, EBX[7:0] core ID and [15:8]
		 * threads per core minus one, ECX[7:0] node ID. */
		e->eax = s->index;
		e->ebx = s->index & 0xff;
		e->ecx = 0;
		break;
	default:
		break;
	}
}

void kvm_cpuid_apply_shape(struct kvm_cpuid2 *cpuid, const struct kvm_cpuid_shape *s)
{
	for (uint32_t i = 0; i < cpuid->nent; i++)
		shape_leaf(&cpuid->entries[i], s);
}

static bool in_hv_range(uint32_t function)
{
	return function >= KVM_CPUID_HV_BASE && function <= KVM_CPUID_HV_LIMIT;
}

static struct kvm_cpuid_entry2 *find_entry(struct kvm_cpuid2 *c, const struct vmm_cpuid_leaf *l)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != l->function)
			continue;
		if ((l->flags & VMM_CPUID_INDEXED) || (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX))
			if (e->index != l->index)
				continue;
		return e;
	}
	return NULL;
}

struct kvm_cpuid2 *kvm_cpuid_merge(const struct kvm_cpuid2 *base,
				   const struct vmm_cpuid_leaf *leaves, unsigned n)
{
	struct kvm_cpuid2 *c;
	bool take_range = false;

	c = calloc(1, sizeof(*c) + (base->nent + n) * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	c->nent = base->nent;
	memcpy(c->entries, base->entries, base->nent * sizeof(c->entries[0]));
	for (unsigned i = 0; i < n; i++)
		take_range |= in_hv_range(leaves[i].function);
	if (take_range) {
		/* KVM finds its own leaves by their signature in steps of
		 * 0x100 (kvm_update_kvm_cpuid_base), as Linux guests do
		 * (hypervisor_cpuid_base): moved, they keep working for a
		 * guest that looks past the first hypervisor. */
		for (uint32_t i = 0; i < c->nent; i++) {
			struct kvm_cpuid_entry2 *e = &c->entries[i];

			if (!in_hv_range(e->function))
				continue;
			if (e->function == KVM_CPUID_HV_BASE && in_hv_range(e->eax))
				e->eax += KVM_CPUID_HV_MOVE;
			e->function += KVM_CPUID_HV_MOVE;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		const struct vmm_cpuid_leaf *l = &leaves[i];
		struct kvm_cpuid_entry2 *e = find_entry(c, l);

		if (!e) {
			e = &c->entries[c->nent++];
			memset(e, 0, sizeof(*e));
		}
		e->function = l->function;
		e->index = (l->flags & VMM_CPUID_INDEXED) ? l->index : 0;
		e->flags = (l->flags & VMM_CPUID_INDEXED) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
		e->eax = l->eax;
		e->ebx = l->ebx;
		e->ecx = l->ecx;
		e->edx = l->edx;
	}
	return c;
}
