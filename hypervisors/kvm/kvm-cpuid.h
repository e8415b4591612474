/* SPDX-License-Identifier: MIT */
/*
 * kvm-cpuid.h - the CPUID a vCPU sees: KVM_GET_SUPPORTED_CPUID, shaped for
 * this machine (hypervisor leaves, topology, APIC presence).
 *
 * Internal to the kvm plugin; a pure function so that unit tests can feed
 * it any host's table without /dev/kvm.
 */
#ifndef VMM_KVM_CPUID_H
#define VMM_KVM_CPUID_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include <vmm/host.h>

struct kvm_cpuid_shape {
	uint32_t index;    /* this vCPU: its APIC ID */
	uint32_t nr_vcpus; /* vCPUs in the machine: one package, one core each */
	bool has_apic;     /* false: irqchip = "emulated", no local APIC at all */
	/* KVM's local APIC emulates the TSC-deadline timer mode
	 * (KVM_CAP_TSC_DEADLINE_TIMER): say so in CPUID.1:ECX[24], which
	 * KVM_GET_SUPPORTED_CPUID leaves to the VMM.  Ignored without an APIC. */
	bool tsc_deadline;
};

/* Rewrites `cpuid` in place for vCPU s->index.  Leaves that are not in the
 * table are not added (KVM refuses leaves beyond the maximum it reports). */
void kvm_cpuid_apply_shape(struct kvm_cpuid2 *cpuid, const struct kvm_cpuid_shape *s);

/* The hypervisor range a device may take with its own leaves (host.h,
 * cpuid_set), and where KVM's own leaves go then. */
#define KVM_CPUID_HV_BASE  0x40000000u
#define KVM_CPUID_HV_LIMIT 0x400000ffu
#define KVM_CPUID_HV_MOVE  0x100u

/* A new table: `base` with the device leaves merged in.  A device leaf
 * replaces the entry of the same function (and index, when indexed) or is
 * appended; when any device leaf lies in the hypervisor range, KVM's own
 * entries there move up by KVM_CPUID_HV_MOVE first, and the moved
 * signature leaf's EAX (its highest leaf) with them.  NULL when out of
 * memory.  The caller frees it. */
struct kvm_cpuid2 *kvm_cpuid_merge(const struct kvm_cpuid2 *base,
				   const struct vmm_cpuid_leaf *leaves, unsigned n);

#endif
