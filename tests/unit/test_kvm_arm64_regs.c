/* SPDX-License-Identifier: MIT */
/*
 * The arm64 vCPU register record of the kvm plugin (hypervisors/kvm/
 * kvm-arm64-regs.c) without KVM: entries of id and value whose size the id
 * gives (KVM API document 4.68), the refusals of a damaged record or one
 * that does not match the list KVM_GET_REG_LIST gives, and the order the
 * registers are written back in (the timers' compare values before their
 * controls, the counters left to the VM record).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hypervisors/kvm/kvm-arm64-regs.h"

/* KVM_REG_ARM64 | size | KVM_REG_ARM_CORE | the word offset in kvm_regs. */
#define CORE64(word)  (0x6030000000100000ull | (word))
#define CORE128(word) (0x6040000000100000ull | (word))
#define CORE32(word)  (0x6020000000100000ull | (word))
#define X0      CORE64(0)
#define PC      CORE64(64)
#define V0      CORE128(0x54)
#define FPSR    CORE32(0xd4)
#define SCTLR   A64_SYSREG(3, 0, 1, 0, 0)
#define MPIDR   A64_SYSREG(3, 0, 0, 0, 5)
#define PSCI_VERSION 0x6030000000140000ull /* KVM_REG_ARM_FW_REG(0) */
#define CCSIDR0 0x6020000000110000ull       /* KVM_REG_ARM_DEMUX, a u32 */

static size_t build(uint8_t *buf, const uint64_t *ids, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t val[A64_REG_MAX_BYTES];

		for (size_t b = 0; b < sizeof(val); b++)
			val[b] = (uint8_t)(i + b);
		a64_reg_entry_put(buf + len, ids[i], val);
		len += a64_reg_entry_len(ids[i]);
	}
	return len;
}

static void test_sizes_from_the_id(void **state)
{
	(void)state;
	assert_int_equal(a64_reg_size(X0), 8);
	assert_int_equal(a64_reg_size(V0), 16);
	assert_int_equal(a64_reg_size(FPSR), 4);
	assert_int_equal(a64_reg_size(A64_TIMER_CNT), 8);
	assert_int_equal(a64_reg_size(0x6080000000150000ull), 256); /* an SVE Z register */
	/* An x86 id (KVM_REG_X86) and a size beyond 2048 bits: none. */
	assert_int_equal(a64_reg_size(0x2030000000000000ull), 0);
	assert_int_equal(a64_reg_size(0x6090000000150000ull), 0);
}

static void test_round_trip(void **state)
{
	const uint64_t ids[] = { X0, PC, V0, FPSR, SCTLR, A64_TIMER_CTL, A64_TIMER_CNT,
				 A64_TIMER_CVAL, PSCI_VERSION, CCSIDR0 };
	uint8_t buf[1024];
	size_t len = build(buf, ids, 10), n = 0;
	struct a64_reg_entry *e = NULL;
	char why[128] = "";

	(void)state;
	assert_int_equal(len, 10 * 8 + 8 + 8 + 16 + 4 + 8 + 8 + 8 + 8 + 8 + 4);
	assert_int_equal(a64_regs_parse(buf, len, &e, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_true(e[i].id == ids[i]);
		assert_int_equal(e[i].size, a64_reg_size(ids[i]));
		assert_int_equal(buf[e[i].off], (uint8_t)i);
		assert_int_equal(buf[e[i].off + e[i].size - 1], (uint8_t)(i + e[i].size - 1));
	}
	free(e);
	/* An empty field is a record of no registers (refused by the match). */
	assert_int_equal(a64_regs_parse(buf, 0, &e, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	free(e);
}

static void expect_damaged(const uint8_t *buf, size_t len, const char *needle)
{
	struct a64_reg_entry *e = (void *)1;
	size_t n = 99;
	char why[128] = "";

	assert_int_equal(a64_regs_parse(buf, len, &e, &n, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, needle));
}

static void test_damaged_refused(void **state)
{
	const uint64_t ids[] = { X0, V0, PC };
	uint8_t buf[256];
	size_t len = build(buf, ids, 3);

	(void)state;
	/* Cut in an id, and in a value. */
	expect_damaged(buf, 4, "cut short at byte 0");
	expect_damaged(buf, len - 3, "0x6030000000100040: its 8-byte value is cut short");
	expect_damaged(buf, 8 + 8 + 8 + 5, "0x6040000000100054: its 16-byte value");
	/* An id of another architecture. */
	uint8_t x86[16] = { 0 };
	x86[7] = 0x20;
	expect_damaged(x86, sizeof(x86), "0x2000000000000000 is not an arm64 register");
	/* The same register twice. */
	const uint64_t twice[] = { X0, PC, X0 };
	len = build(buf, twice, 3);
	expect_damaged(buf, len, "0x6030000000100000 appears twice");
}

static void test_match_against_kvm_list(void **state)
{
	const uint64_t rec[] = { X0, PC, SCTLR, A64_TIMER_CNT };
	const uint64_t same[] = { A64_TIMER_CNT, SCTLR, PC, X0 };
	const uint64_t more[] = { X0, PC, MPIDR, SCTLR, A64_TIMER_CNT };
	const uint64_t fewer[] = { X0, PC, A64_TIMER_CNT };
	uint8_t buf[256];
	size_t len = build(buf, rec, 4), n;
	struct a64_reg_entry *e;
	uint64_t id = 0;
	char why[128];

	(void)state;
	assert_int_equal(a64_regs_parse(buf, len, &e, &n, why, sizeof(why)), 0);
	/* The same registers in another order: fine. */
	assert_int_equal(a64_regs_match(e, n, same, 4, &id), 0);
	/* KVM lists MPIDR, the record has no value for it. */
	assert_int_equal(a64_regs_match(e, n, more, 5, &id), -ENOENT);
	assert_true(id == MPIDR);
	/* The record has SCTLR, which KVM does not list: it cannot be set. */
	id = 0;
	assert_int_equal(a64_regs_match(e, n, fewer, 3, &id), -EPROTO);
	assert_true(id == SCTLR);
	/* A record of nothing against a list of something. */
	assert_int_equal(a64_regs_match(e, 0, fewer, 3, &id), -ENOENT);
	assert_true(id == X0);
	free(e);
}

static size_t position(const struct a64_reg_entry *e, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].id == id)
			return i;
	fail_msg("register 0x%llx not in the record", (unsigned long long)id);
	return n;
}

/* KVM lists the timers CTL, CNT, CVAL (guest.c, copy_timer_indices), and
 * the firmware registers before the system registers. */
static void test_load_order(void **state)
{
	const uint64_t kvm_order[] = { X0, PC, V0, PSCI_VERSION, A64_TIMER_CTL, A64_TIMER_CNT,
				       A64_TIMER_CVAL, A64_PTIMER_CTL, A64_PTIMER_CNT,
				       A64_PTIMER_CVAL, SCTLR, MPIDR, CCSIDR0 };
	const size_t nids = sizeof(kvm_order) / sizeof(kvm_order[0]);
	uint8_t buf[1024];
	size_t len = build(buf, kvm_order, nids), n;
	struct a64_reg_entry *e;
	char why[128];

	(void)state;
	assert_int_equal(a64_regs_parse(buf, len, &e, &n, why, sizeof(why)), 0);
	a64_regs_order(e, n);
	assert_int_equal(n, nids);
	/* The firmware registers first, the core ones next in KVM's order. */
	assert_int_equal(position(e, n, PSCI_VERSION), 0);
	assert_int_equal(position(e, n, X0), 1);
	assert_int_equal(position(e, n, PC), 2);
	assert_int_equal(position(e, n, V0), 3);
	/* Every timer register after every other system register. */
	size_t last_sys = position(e, n, CCSIDR0);
	assert_true(position(e, n, SCTLR) < position(e, n, MPIDR));
	assert_true(position(e, n, A64_TIMER_CVAL) > last_sys);
	/* Each compare value before its control. */
	assert_true(position(e, n, A64_TIMER_CVAL) < position(e, n, A64_TIMER_CTL));
	assert_true(position(e, n, A64_PTIMER_CVAL) < position(e, n, A64_PTIMER_CTL));
	/* The counters last: the VM's (the loader leaves them to it). */
	assert_int_equal(a64_reg_rank(A64_TIMER_CNT), A64_RANK_VM);
	assert_int_equal(a64_reg_rank(A64_PTIMER_CNT), A64_RANK_VM);
	assert_true(position(e, n, A64_TIMER_CNT) >= n - 2);
	assert_true(position(e, n, A64_PTIMER_CNT) >= n - 2);
	/* No other register is left to the VM. */
	for (size_t i = 0; i < n; i++)
		if (e[i].id != A64_TIMER_CNT && e[i].id != A64_PTIMER_CNT)
			assert_int_not_equal(a64_reg_rank(e[i].id), A64_RANK_VM);
	/* The values travel with their ids. */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf[e[i].off - 8], (uint8_t)e[i].id);
	free(e);
}

/* The encoding is KVM's (the arm64 build checks it against the kernel's
 * headers too): CNT and CVAL carry each other's architectural names. */
static void test_timer_ids(void **state)
{
	(void)state;
	assert_true(A64_TIMER_CTL == 0x603000000013df19ull);
	assert_true(A64_TIMER_CNT == 0x603000000013df1aull);
	assert_true(A64_TIMER_CVAL == 0x603000000013df02ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_from_the_id),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged_refused),
		cmocka_unit_test(test_match_against_kvm_list),
		cmocka_unit_test(test_load_order),
		cmocka_unit_test(test_timer_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
