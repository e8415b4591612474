/* SPDX-License-Identifier: MIT */
/*
 * kvm-vcpus.c - see kvm-vcpus.h.
 *
 * KVM API document, 4.7 KVM_CREATE_VCPU: KVM_CAP_NR_VCPUS is the
 * *recommended* number of vCPUs (the host's CPUs) and KVM_CAP_MAX_VCPUS the
 * maximum; without NR_VCPUS assume 4, without MAX_VCPUS assume NR_VCPUS,
 * without MAX_VCPU_ID assume MAX_VCPUS.  A vCPU id must be below
 * MAX_VCPU_ID, and this plugin gives vCPU n the id (and APIC ID) n.
 * More vCPUs than recommended is overcommit, which KVM runs (QEMU warns).
 */
#include "kvm-vcpus.h"

enum kvm_vcpu_verdict kvm_vcpu_count_check(const struct kvm_vcpu_caps *caps, uint32_t want,
					   struct kvm_vcpu_limits *lim)
{
	lim->recommended = caps->nr_vcpus > 0 ? (uint32_t)caps->nr_vcpus : 4;
	lim->max = caps->max_vcpus > 0 ? (uint32_t)caps->max_vcpus : lim->recommended;
	lim->max_id = caps->max_vcpu_id > 0 ? (uint32_t)caps->max_vcpu_id : lim->max;

	if (want > lim->max || want > lim->max_id)
		return KVM_VCPUS_TOO_MANY;
	return want > lim->recommended ? KVM_VCPUS_OVERCOMMIT : KVM_VCPUS_OK;
}
