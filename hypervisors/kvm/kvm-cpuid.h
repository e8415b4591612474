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

struct kvm_cpuid_shape {
	uint32_t index;    /* this vCPU: its APIC ID */
	uint32_t nr_vcpus; /* vCPUs in the machine: one package, one core each */
	bool has_apic;     /* false: irqchip = "emulated", no local APIC at all */
};

/* Rewrites `cpuid` in place for vCPU s->index.  Leaves that are not in the
 * table are not added (KVM refuses leaves beyond the maximum it reports). */
void kvm_cpuid_apply_shape(struct kvm_cpuid2 *cpuid, const struct kvm_cpuid_shape *s);

#endif
