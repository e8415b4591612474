/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-arm64-regs.c - an arm64 vCPU's register record:
 * encoding, checks and load order (kvm-arm64-regs.h).  No KVM here.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisors/kvm/kvm-arm64-regs.h"

size_t a64_reg_size(uint64_t id)
{
	size_t size;

	if ((id & A64_REG_ARCH_MASK) != A64_REG_ARM64)
		return 0;
	size = (size_t)1 << ((id & A64_REG_SIZE_MASK) >> A64_REG_SIZE_SHIFT);
	return size <= A64_REG_MAX_BYTES ? size : 0;
}

/*
 * The load order.  What KVM needs (Linux 6.1, arch/arm64/kvm/guest.c,
 * arch_timer.c, hypercalls.c):
 *  - the firmware pseudo-registers (KVM_REG_ARM_FW: the PSCI version, the
 *    SMCCC workaround levels; KVM_REG_ARM_FW_FEAT_BMAP: the hypercall
 *    bitmaps) are accepted only until the VM first runs (-EBUSY after,
 *    api.rst 4.68 and Documentation/virt/kvm/arm/hypercalls.rst): first,
 *    which costs nothing as a restore writes them before any run anyway.
 *  - KVM_REG_ARM_TIMER_CNT is not a vCPU's own: writing it sets the
 *    virtual offset (CNTVOFF) of every vCPU of the VM to the host's
 *    counter minus the value (arch_timer.c, update_vtimer_cntvoff).  Each
 *    vCPU record holds it (KVM lists it), read a little apart from the
 *    others; the VM record's counter, read once after every vCPU, is the
 *    one written, last (kvm-arm64-state.c).  KVM_REG_ARM_PTIMER_CNT, which
 *    newer kernels list, is the host's counter itself (the physical timer
 *    has no offset before Linux 6.4's KVM_ARM_SET_COUNTER_OFFSET): KVM
 *    refuses it (kvm_arm_timer_set_reg has no case for it), nothing to load.
 *  - each timer's compare value before its control: the timer is enabled
 *    by CTL, and KVM judges whether it fires (kvm_timer_should_fire: CVAL
 *    against the counter) from what it holds when the vCPU is next loaded;
 *    written the other way round, an enabled timer would meet the fresh
 *    vCPU's CVAL of 0 in between.  KVM's own list gives CTL first.
 */
enum a64_rank a64_reg_rank(uint64_t id)
{
	unsigned coproc = (unsigned)((id & A64_REG_COPROC_MASK) >> A64_REG_COPROC_SHIFT);

	if (id == A64_TIMER_CNT || id == A64_PTIMER_CNT)
		return A64_RANK_VM;
	if (id == A64_TIMER_CVAL || id == A64_PTIMER_CVAL)
		return A64_RANK_TIMER_CVAL;
	if (id == A64_TIMER_CTL || id == A64_PTIMER_CTL)
		return A64_RANK_TIMER_CTL;
	switch (coproc) {
	case A64_COPROC_FW:
	case A64_COPROC_FW_BMAP:
		return A64_RANK_FW;
	case A64_COPROC_CORE:
		return A64_RANK_CORE;
	default:
		return A64_RANK_SYSREG;
	}
}

uint64_t a64_get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void a64_reg_entry_put(uint8_t *p, uint64_t id, const void *val)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(id >> (8 * i));
	memcpy(p + 8, val, a64_reg_size(id));
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int a64_regs_parse(const uint8_t *buf, size_t len, struct a64_reg_entry **out, size_t *n, char *why,
		   size_t whylen)
{
	struct a64_reg_entry *e = NULL;
	uint64_t *ids = NULL;
	size_t count = 0, cap = 0, off = 0;
	int rc = -EBADMSG;

	while (off < len) {
		uint64_t id;
		size_t size;

		if (len - off < 8) {
			snprintf(why, whylen, "an entry cut short at byte %zu", off);
			goto fail;
		}
		id = a64_get_le64(buf + off);
		size = a64_reg_size(id);
		if (!size) {
			snprintf(why, whylen, "register id 0x%016llx is not an arm64 register",
				 (unsigned long long)id);
			goto fail;
		}
		if (len - off - 8 < size) {
			snprintf(why, whylen, "register id 0x%016llx: its %zu-byte value is cut short",
				 (unsigned long long)id, size);
			goto fail;
		}
		if (count == A64_REGS_MAX) {
			snprintf(why, whylen, "more than %u registers", A64_REGS_MAX);
			goto fail;
		}
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct a64_reg_entry *p = realloc(e, ncap * sizeof(*e));

			if (!p) {
				rc = -ENOMEM;
				snprintf(why, whylen, "out of memory");
				goto fail;
			}
			e = p;
			cap = ncap;
		}
		e[count++] = (struct a64_reg_entry){ .id = id, .off = (uint32_t)(off + 8),
						     .size = (uint32_t)size };
		off += 8 + size;
	}
	/* A repeated id: which of its values is the register's? */
	ids = malloc((count ? count : 1) * sizeof(*ids));
	if (!ids) {
		rc = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < count; i++)
		ids[i] = e[i].id;
	qsort(ids, count, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < count; i++)
		if (ids[i] == ids[i - 1]) {
			snprintf(why, whylen, "register id 0x%016llx appears twice",
				 (unsigned long long)ids[i]);
			goto fail;
		}
	free(ids);
	*out = e;
	*n = count;
	return 0;
fail:
	free(ids);
	free(e);
	return rc;
}

static bool listed(const uint64_t *sorted, size_t n, uint64_t id)
{
	return bsearch(&id, sorted, n, sizeof(*sorted), cmp_id) != NULL;
}

int a64_regs_match(const struct a64_reg_entry *e, size_t n, const uint64_t *list, size_t nlist,
		   uint64_t *id)
{
	uint64_t *have = malloc((n ? n : 1) * sizeof(*have));
	uint64_t *kvm = malloc((nlist ? nlist : 1) * sizeof(*kvm));
	int rc = 0;

	if (!have || !kvm) {
		free(have);
		free(kvm);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		have[i] = e[i].id;
	memcpy(kvm, list, nlist * sizeof(*kvm));
	qsort(have, n, sizeof(*have), cmp_id);
	qsort(kvm, nlist, sizeof(*kvm), cmp_id);
	/* In KVM's order and the record's, so the register named is the
	 * first a reader of either list would meet. */
	for (size_t i = 0; i < nlist && !rc; i++)
		if (!listed(have, n, list[i])) {
			*id = list[i];
			rc = -ENOENT;
		}
	for (size_t i = 0; i < n && !rc; i++)
		if (!listed(kvm, nlist, e[i].id)) {
			*id = e[i].id;
			rc = -EPROTO;
		}
	free(have);
	free(kvm);
	return rc;
}

void a64_regs_order(struct a64_reg_entry *e, size_t n)
{
	/* Insertion sort: stable, and a record is a few hundred entries
	 * already nearly in order. */
	for (size_t i = 1; i < n; i++) {
		struct a64_reg_entry cur = e[i];
		enum a64_rank r = a64_reg_rank(cur.id);
		size_t j = i;

		while (j > 0 && a64_reg_rank(e[j - 1].id) > r) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = cur;
	}
}
