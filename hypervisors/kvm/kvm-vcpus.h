/* SPDX-License-Identifier: MIT */
/*
 * kvm-vcpus.h - how many vCPUs a KVM host takes: its recommended count and
 * its limits, from KVM_CHECK_EXTENSION's answers.
 *
 * Internal to the kvm plugin; a pure function so that unit tests can give
 * it any host's answers without /dev/kvm.
 */
#ifndef VMM_KVM_VCPUS_H
#define VMM_KVM_VCPUS_H

#include <stdint.h>

/* KVM_CHECK_EXTENSION's answers as they came (0: the capability is absent,
 * or the ioctl failed). */
struct kvm_vcpu_caps {
	int nr_vcpus;    /* KVM_CAP_NR_VCPUS: recommended, the host's CPUs */
	int max_vcpus;   /* KVM_CAP_MAX_VCPUS: the most vCPUs one VM may have */
	int max_vcpu_id; /* KVM_CAP_MAX_VCPU_ID: vCPU ids (our APIC IDs) are below it */
};

/* The same with the KVM API's defaults for absent capabilities applied. */
struct kvm_vcpu_limits {
	uint32_t recommended, max, max_id;
};

enum kvm_vcpu_verdict {
	KVM_VCPUS_OK,           /* at most the recommended count */
	KVM_VCPUS_OVERCOMMIT,   /* more than recommended, within the limits: warn, run */
	KVM_VCPUS_TOO_MANY,     /* above KVM_CAP_MAX_VCPUS or an id past MAX_VCPU_ID: refuse */
};

/* The verdict for a VM of `want` vCPUs (ids 0..want-1); *lim gets the
 * effective limits for the message. */
enum kvm_vcpu_verdict kvm_vcpu_count_check(const struct kvm_vcpu_caps *caps, uint32_t want,
					   struct kvm_vcpu_limits *lim);

#endif
