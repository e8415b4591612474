/* SPDX-License-Identifier: MIT */
/*
 * The kvm plugin's CPUID shaping on crafted KVM_GET_SUPPORTED_CPUID tables:
 * the hypervisor bit, the topology leaves for one package of N cores, and
 * no APIC anywhere with irqchip = "emulated".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hypervisors/kvm/kvm-cpuid.h"

enum { NENT = 12 };

/* What a host might report: an AMD-flavoured table with the host's own
 * APIC ID and core counts in it. */
static struct kvm_cpuid2 *host_table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + NENT * sizeof(c->entries[0]));
	static const struct kvm_cpuid_entry2 e[NENT] = {
		{ .function = 0, .eax = 0xd },
		{ .function = 1, .ebx = 0x07100800, .ecx = 0x7ed8320b, .edx = 0x178bfbff },
		{ .function = 4, .index = 0, .eax = 0x1c004121 },  /* L1d, 8 cores */
		{ .function = 4, .index = 1, .eax = 0x1c00417f },  /* L3 */
		{ .function = 0xb, .index = 0, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 7 },
		{ .function = 0xb, .index = 1, .eax = 4, .ebx = 16, .ecx = 0x201, .edx = 7 },
		{ .function = 0xb, .index = 2, .ecx = 2, .edx = 7 },
		{ .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b },
		{ .function = 0x40000001, .eax = 0x01007afb },
		{ .function = 0x80000001, .ecx = 0x3, .edx = 0x2fd3fbff },
		{ .function = 0x80000008, .eax = 0x3030, .ecx = 0x400f },
		{ .function = 0x8000001e, .eax = 7, .ebx = 0x0103, .ecx = 0x0300 },
	};
	c->nent = NENT;
	memcpy(c->entries, e, sizeof(e));
	/* the table above holds a 4-level entry: mark its L3 */
	c->entries[3].eax = (c->entries[3].eax & ~0xe0u) | (3u << 5);
	return c;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	fail_msg("leaf 0x%x.%u missing", fn, idx);
	return NULL;
}

/* Linux looks for KVM only when CPUID.1:ECX[31] says "hypervisor". */
static void test_hypervisor_bit(void **state)
{
	struct kvm_cpuid2 *c = host_table();

	kvm_cpuid_apply_shape(c, &(struct kvm_cpuid_shape){ .index = 0, .nr_vcpus = 1, .has_apic = true });
	assert_true(leaf(c, 1, 0)->ecx & (1u << 31));
	/* the signature leaves KVM gave are kept as they are */
	assert_int_equal(leaf(c, 0x40000000, 0)->ebx, 0x4b4d564b);
	assert_int_equal(leaf(c, 0x40000001, 0)->eax, 0x01007afb);
	free(c);
}

/* vCPU 2 of 4: APIC ID 2 everywhere, 4 cores in one package, one thread each. */
static void test_topology(void **state)
{
	struct kvm_cpuid2 *c = host_table();

	kvm_cpuid_apply_shape(c, &(struct kvm_cpuid_shape){ .index = 2, .nr_vcpus = 4, .has_apic = true });
	assert_int_equal(leaf(c, 1, 0)->ebx >> 24, 2);
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 4);
	assert_true(leaf(c, 1, 0)->edx & (1u << 28));       /* HTT: EBX[23:16] valid */
	assert_int_equal(leaf(c, 1, 0)->ebx & 0xffff, 0x0800); /* CLFLUSH size, brand kept */
	assert_int_equal(leaf(c, 4, 0)->eax >> 26, 3);      /* cores - 1 */
	assert_int_equal((leaf(c, 4, 0)->eax >> 14) & 0xfff, 0); /* L1: one core */
	assert_int_equal((leaf(c, 4, 1)->eax >> 14) & 0xfff, 3); /* L3: the package */
	/* 0xB: SMT level with one thread, core level with 4 (2 ID bits) */
	assert_int_equal(leaf(c, 0xb, 0)->ebx, 1);
	assert_int_equal(leaf(c, 0xb, 0)->eax, 0);
	assert_int_equal(leaf(c, 0xb, 0)->ecx, 0x100);
	assert_int_equal(leaf(c, 0xb, 1)->ebx, 4);
	assert_int_equal(leaf(c, 0xb, 1)->eax, 2);
	assert_int_equal(leaf(c, 0xb, 1)->ecx, 0x201);
	assert_int_equal(leaf(c, 0xb, 2)->ecx, 2);          /* level type 0: the end */
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(leaf(c, 0xb, i)->edx, 2);
	/* AMD: NC = 3, ApicIdSize = 2; extended APIC ID and core ID */
	assert_int_equal(leaf(c, 0x80000008, 0)->ecx & 0xff, 3);
	assert_int_equal((leaf(c, 0x80000008, 0)->ecx >> 12) & 0xf, 2);
	assert_int_equal(leaf(c, 0x8000001e, 0)->eax, 2);
	assert_int_equal(leaf(c, 0x8000001e, 0)->ebx, 2);
	free(c);
}

/* A uniprocessor: no HTT, one core, 0 ID bits. */
static void test_uniprocessor(void **state)
{
	struct kvm_cpuid2 *c = host_table();

	kvm_cpuid_apply_shape(c, &(struct kvm_cpuid_shape){ .index = 0, .nr_vcpus = 1, .has_apic = true });
	assert_int_equal(leaf(c, 1, 0)->edx & (1u << 28), 0);
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 1);
	assert_int_equal(leaf(c, 0xb, 1)->ebx, 1);
	assert_int_equal(leaf(c, 0xb, 1)->eax, 0);
	assert_int_equal(leaf(c, 0x80000008, 0)->ecx & 0xf0ff, 0);
	assert_true(leaf(c, 1, 0)->edx & (1u << 9));        /* APIC kept */
	free(c);
}

/* irqchip = "emulated": no APIC in leaf 1, in AMD's copy of it, no x2APIC,
 * and no KVM PV feature that works through a local APIC. */
static void test_no_apic(void **state)
{
	struct kvm_cpuid2 *c = host_table();

	kvm_cpuid_apply_shape(c, &(struct kvm_cpuid_shape){ .index = 0, .nr_vcpus = 1, .has_apic = false });
	assert_int_equal(leaf(c, 1, 0)->edx & (1u << 9), 0);
	assert_int_equal(leaf(c, 1, 0)->ecx & (1u << 21), 0);
	assert_int_equal(leaf(c, 0x80000001, 0)->edx & (1u << 9), 0);
	uint32_t kvm = leaf(c, 0x40000001, 0)->eax;
	assert_int_equal(kvm & ((1u << 6) | (1u << 7) | (1u << 11) | (1u << 14) | (1u << 15)), 0);
	assert_true(kvm & (1u << 3));                        /* CLOCKSOURCE2 kept */
	assert_true(leaf(c, 1, 0)->ecx & (1u << 31));
	free(c);
}

/* KVM emulates the APIC's TSC-deadline mode but leaves CPUID.1:ECX[24] to
 * the VMM: set when asked and there is an APIC, never without one (Linux
 * would arm a timer nobody emulates), and not when not asked. */
static void test_tsc_deadline(void **state)
{
	struct kvm_cpuid2 *c = host_table();

	assert_int_equal(leaf(c, 1, 0)->ecx & (1u << 24), 0); /* KVM's table: clear */
	kvm_cpuid_apply_shape(c, &(struct kvm_cpuid_shape){ .index = 0, .nr_vcpus = 1, .has_apic = true,
							    .tsc_deadline = true });
	assert_true(leaf(c, 1, 0)->ecx & (1u << 24));
	assert_true(leaf(c, 1, 0)->ecx & (1u << 31));         /* the rest of leaf 1 as before */
	free(c);

	c = host_table();
	kvm_cpuid_apply_shape(c, &(struct kvm_cpuid_shape){ .index = 0, .nr_vcpus = 1, .has_apic = true });
	assert_int_equal(leaf(c, 1, 0)->ecx & (1u << 24), 0);
	free(c);

	c = host_table();
	leaf(c, 1, 0)->ecx |= 1u << 24;  /* a host that did report it */
	kvm_cpuid_apply_shape(c, &(struct kvm_cpuid_shape){ .index = 0, .nr_vcpus = 1, .has_apic = false,
							    .tsc_deadline = true });
	assert_int_equal(leaf(c, 1, 0)->ecx & (1u << 24), 0);
	free(c);
}

/* A device's Hyper-V leaves take 0x40000000: KVM's own move to 0x40000100
 * with their highest-leaf EAX, the device's replace or add. */
static void test_merge_moves_kvm_leaves(void **state)
{
	struct kvm_cpuid2 *c = host_table(), *m;
	const struct vmm_cpuid_leaf hv[] = {
		{ .function = 0x40000000, .eax = 0x40000005, .ebx = 0x7263694d },
		{ .function = 0x40000001, .eax = 0x31237648 },
		{ .function = 0x40000005, .eax = 4 },
	};
	(void)state;
	m = kvm_cpuid_merge(c, hv, 3);
	assert_non_null(m);
	assert_int_equal(m->nent, NENT + 3); /* KVM's two moved, three added */
	assert_int_equal(leaf(m, 0x40000000, 0)->eax, 0x40000005);
	assert_int_equal(leaf(m, 0x40000000, 0)->ebx, 0x7263694d);
	assert_int_equal(leaf(m, 0x40000001, 0)->eax, 0x31237648);
	assert_int_equal(leaf(m, 0x40000005, 0)->eax, 4);
	assert_int_equal(leaf(m, 0x40000100, 0)->eax, 0x40000101);
	assert_int_equal(leaf(m, 0x40000100, 0)->ebx, 0x4b4d564b);
	assert_int_equal(leaf(m, 0x40000101, 0)->eax, 0x01007afb);
	assert_int_equal(leaf(m, 1, 0)->edx, c->entries[1].edx); /* others untouched */
	free(m);
	free(c);
}

/* Leaves outside the hypervisor range leave KVM's where they are; an
 * indexed leaf replaces only its own subleaf. */
static void test_merge_elsewhere(void **state)
{
	struct kvm_cpuid2 *c = host_table(), *m;
	const struct vmm_cpuid_leaf l = { .function = 0xb, .index = 1, .flags = VMM_CPUID_INDEXED,
					  .eax = 9 };
	(void)state;
	c->entries[5].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	m = kvm_cpuid_merge(c, &l, 1);
	assert_non_null(m);
	assert_int_equal(m->nent, NENT);
	assert_int_equal(leaf(m, 0xb, 1)->eax, 9);
	assert_int_equal(leaf(m, 0xb, 0)->eax, 1);
	assert_int_equal(leaf(m, 0x40000000, 0)->ebx, 0x4b4d564b);
	free(m);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hypervisor_bit),
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_uniprocessor),
		cmocka_unit_test(test_no_apic),
		cmocka_unit_test(test_tsc_deadline),
		cmocka_unit_test(test_merge_moves_kvm_leaves),
		cmocka_unit_test(test_merge_elsewhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
