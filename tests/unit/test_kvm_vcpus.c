/* SPDX-License-Identifier: MIT */
/*
 * The kvm plugin's vCPU count check on made-up KVM_CHECK_EXTENSION answers:
 * KVM_CAP_NR_VCPUS is a recommendation (more vCPUs is overcommit: warn and
 * run), KVM_CAP_MAX_VCPUS and KVM_CAP_MAX_VCPU_ID are the limits, and the
 * KVM API's defaults stand in for absent capabilities.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hypervisors/kvm/kvm-vcpus.h"

static enum kvm_vcpu_verdict check(int nr, int max, int max_id, uint32_t want,
				   struct kvm_vcpu_limits *lim)
{
	const struct kvm_vcpu_caps caps = { .nr_vcpus = nr, .max_vcpus = max, .max_vcpu_id = max_id };

	return kvm_vcpu_count_check(&caps, want, lim);
}

/* This project's hosts: 2 CPUs, KVM takes 1024 (platform.md).  3 and 4
 * vCPUs are ordinary overcommit, which used to be refused. */
static void test_above_recommended_runs(void **state)
{
	struct kvm_vcpu_limits lim;

	(void)state;
	assert_int_equal(check(2, 1024, 1024, 1, &lim), KVM_VCPUS_OK);
	assert_int_equal(check(2, 1024, 1024, 2, &lim), KVM_VCPUS_OK);
	assert_int_equal(check(2, 1024, 1024, 3, &lim), KVM_VCPUS_OVERCOMMIT);
	assert_int_equal(lim.recommended, 2);
	assert_int_equal(check(2, 1024, 1024, 4, &lim), KVM_VCPUS_OVERCOMMIT);
	assert_int_equal(check(2, 1024, 1024, 1024, &lim), KVM_VCPUS_OVERCOMMIT);
}

static void test_above_max_refused(void **state)
{
	struct kvm_vcpu_limits lim;

	(void)state;
	assert_int_equal(check(2, 1024, 4096, 1025, &lim), KVM_VCPUS_TOO_MANY);
	assert_int_equal(lim.max, 1024);
	assert_int_equal(check(8, 8, 8, 9, &lim), KVM_VCPUS_TOO_MANY);
	assert_int_equal(check(8, 8, 8, 8, &lim), KVM_VCPUS_OK);
}

/* vCPU n gets id n: n vCPUs need ids up to n - 1 below MAX_VCPU_ID. */
static void test_vcpu_id_limit(void **state)
{
	struct kvm_vcpu_limits lim;

	(void)state;
	assert_int_equal(check(2, 1024, 16, 16, &lim), KVM_VCPUS_OVERCOMMIT);
	assert_int_equal(check(2, 1024, 16, 17, &lim), KVM_VCPUS_TOO_MANY);
	assert_int_equal(lim.max_id, 16);
}

/* KVM API 4.7: no NR_VCPUS, assume 4; no MAX_VCPUS, assume NR_VCPUS; no
 * MAX_VCPU_ID, assume MAX_VCPUS. */
static void test_absent_caps(void **state)
{
	struct kvm_vcpu_limits lim;

	(void)state;
	assert_int_equal(check(0, 0, 0, 4, &lim), KVM_VCPUS_OK);
	assert_int_equal(lim.recommended, 4);
	assert_int_equal(lim.max, 4);
	assert_int_equal(lim.max_id, 4);
	assert_int_equal(check(0, 0, 0, 5, &lim), KVM_VCPUS_TOO_MANY);
	assert_int_equal(check(2, 0, 0, 3, &lim), KVM_VCPUS_TOO_MANY);
	assert_int_equal(check(2, 0, 0, 2, &lim), KVM_VCPUS_OK);
	assert_int_equal(check(2, 8, 0, 8, &lim), KVM_VCPUS_OVERCOMMIT);
	assert_int_equal(lim.max_id, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_above_recommended_runs),
		cmocka_unit_test(test_above_max_refused),
		cmocka_unit_test(test_vcpu_id_limit),
		cmocka_unit_test(test_absent_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
