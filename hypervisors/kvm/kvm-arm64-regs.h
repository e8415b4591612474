/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-arm64-regs.h - an arm64 vCPU's registers as a record
 * field, without KVM: the encoding, the checks a loader makes against the
 * list KVM gives (KVM_GET_REG_LIST) and the order registers are written
 * back in.  Pure functions, so tests/unit/test_kvm_arm64_regs runs them on
 * any host; kvm-arm64-state.c does the ioctls.
 *
 * The field "regs" is a sequence of entries, each the register's id (u64,
 * little-endian) followed by its value: KVM_REG_SIZE(id) bytes, as
 * KVM_GET_ONE_REG gives them (the guest's byte order, little-endian on
 * KVM/arm64).  The size comes from the id (KVM API document, 4.68
 * KVM_SET_ONE_REG: bits 55:52 are log2 of the size in bytes), so an entry
 * needs no length of its own.
 *
 * Error convention: 0 or a negative errno; `why` gets one line.
 */
#ifndef VMM_KVM_ARM64_REGS_H
#define VMM_KVM_ARM64_REGS_H

#include <stddef.h>
#include <stdint.h>

/* The id encoding (include/uapi/linux/kvm.h and arch/arm64/include/uapi/
 * asm/kvm.h; kvm-arm64-state.c checks these against the kernel's headers). */
#define A64_REG_ARCH_MASK    0xff00000000000000ull
#define A64_REG_ARM64        0x6000000000000000ull
#define A64_REG_SIZE_SHIFT   52
#define A64_REG_SIZE_MASK    0x00f0000000000000ull
#define A64_REG_COPROC_SHIFT 16
#define A64_REG_COPROC_MASK  0x000000000fff0000ull
#define A64_COPROC_CORE      0x0010u /* KVM_REG_ARM_CORE */
#define A64_COPROC_DEMUX     0x0011u /* KVM_REG_ARM_DEMUX: CCSIDRs */
#define A64_COPROC_SYSREG    0x0013u /* KVM_REG_ARM64_SYSREG */
#define A64_COPROC_FW        0x0014u /* KVM_REG_ARM_FW: PSCI, SMCCC */
#define A64_COPROC_SVE       0x0015u /* KVM_REG_ARM64_SVE */
#define A64_COPROC_FW_BMAP   0x0016u /* KVM_REG_ARM_FW_FEAT_BMAP (Linux 6.0) */

#define A64_SYSREG(op0, op1, crn, crm, op2)                                                \
	(A64_REG_ARM64 | 0x0030000000000000ull | (uint64_t)A64_COPROC_SYSREG << 16 |       \
	 (uint64_t)(op0) << 14 | (uint64_t)(op1) << 11 | (uint64_t)(crn) << 7 |            \
	 (uint64_t)(crm) << 3 | (uint64_t)(op2))
/* The timer registers KVM lists.  KVM_REG_ARM_TIMER_CNT and _CVAL carry
 * each other's architectural encodings (CNTV_CVAL_EL0's and CNTVCT_EL0's):
 * a mistake in the uapi kept for compatibility (api.rst, the arm64 ONE_REG
 * note; arch/arm64/include/uapi/asm/kvm.h). */
#define A64_TIMER_CTL   A64_SYSREG(3, 3, 14, 3, 1)
#define A64_TIMER_CNT   A64_SYSREG(3, 3, 14, 3, 2)
#define A64_TIMER_CVAL  A64_SYSREG(3, 3, 14, 0, 2)
#define A64_PTIMER_CTL  A64_SYSREG(3, 3, 14, 2, 1)
#define A64_PTIMER_CNT  A64_SYSREG(3, 3, 14, 0, 1)
#define A64_PTIMER_CVAL A64_SYSREG(3, 3, 14, 2, 2)

/* The largest register: an SVE Z register of 2048 bits. */
#define A64_REG_MAX_BYTES 256u
/* More than any KVM lists (Linux 6.1 lists ~200 without SVE). */
#define A64_REGS_MAX 4096u

/* Bytes of register `id`, or 0 when it is not an arm64 id or larger than
 * A64_REG_MAX_BYTES. */
size_t a64_reg_size(uint64_t id);

/* Where a register goes when a record is loaded (a64_regs_order). */
enum a64_rank {
	A64_RANK_FW,        /* firmware pseudo-registers: before the first run */
	A64_RANK_CORE,      /* x0-x30, SP, PC, PSTATE, SP_EL1, ELR, SPSRs, V0-V31 */
	A64_RANK_SYSREG,    /* system registers, CCSIDRs, SVE */
	A64_RANK_TIMER_CVAL,/* the compare values before the controls */
	A64_RANK_TIMER_CTL,
	A64_RANK_VM,        /* the counters: not a vCPU's to write (below) */
};
enum a64_rank a64_reg_rank(uint64_t id);

/* One parsed entry: its id, and where its value is in the field. */
struct a64_reg_entry {
	uint64_t id;
	uint32_t off;
	uint32_t size;
};

/* Bytes an entry of `id` takes in the field. */
static inline size_t a64_reg_entry_len(uint64_t id)
{
	return 8 + a64_reg_size(id);
}

/* Writes one entry at p (a64_reg_entry_len(id) bytes). */
void a64_reg_entry_put(uint8_t *p, uint64_t id, const void *val);

/* Splits a field into entries (malloc'd into *out, n of them).  -EBADMSG:
 * a truncated entry, an id that is not arm64's or too large, a repeated
 * id, or more than A64_REGS_MAX entries; `why` says which, naming the id. */
int a64_regs_parse(const uint8_t *buf, size_t len, struct a64_reg_entry **out, size_t *n, char *why,
		   size_t whylen);

/* The record against the list KVM gives for the vCPU it is loaded into:
 * -ENOENT when a register KVM lists has no entry, -EPROTO when an entry
 * names a register KVM does not list (it cannot be set); *id is the first
 * such register. */
int a64_regs_match(const struct a64_reg_entry *e, size_t n, const uint64_t *list, size_t nlist,
		   uint64_t *id);

/* Sorts entries into the order they are written back: by rank, and within
 * a rank in the record's order (stable). */
void a64_regs_order(struct a64_reg_entry *e, size_t n);

/* Little-endian u64 at p. */
uint64_t a64_get_le64(const uint8_t *p);

#endif
