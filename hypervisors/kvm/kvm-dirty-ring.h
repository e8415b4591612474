/* SPDX-License-Identifier: MIT */
/*
 * kvm-dirty-ring.h - the kvm plugin's dirty-ring mode (`dirty-log =
 * "ring"`): what it takes from each vCPU's ring of struct kvm_dirty_gfn and
 * how it turns that into the per-slot bitmaps the core's dirty_log_get()
 * hands out, the same bitmaps KVM_GET_DIRTY_LOG fills in the bitmap mode.
 *
 * Internal to the kvm plugin.  No ioctl here: KVM_RESET_DIRTY_RINGS is the
 * `reset` callback and the rings are arrays the caller mapped, so unit
 * tests drive it on plain memory (tests/unit/test_kvm_dirty_ring.c).
 *
 * Every function but kvm_ring_harvest() takes the lock itself; the rings
 * are harvested from the main loop (dirty_log_get) and from a vCPU thread
 * whose ring filled (KVM_EXIT_DIRTY_RING_FULL) at once.
 */
#ifndef VMM_KVM_DIRTY_RING_H
#define VMM_KVM_DIRTY_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

/* Slots the rings account for: the plugin's tracked slots (kvm-internal.h). */
#define KVM_RING_SLOTS 32
/* The entries of a ring: a power of two (KVM API document 8.29), at least
 * one page of entries (KVM refuses less) and at most KVM's
 * KVM_DIRTY_RING_MAX_ENTRIES. */
#define KVM_RING_MIN_ENTRIES 256u
#define KVM_RING_MAX_ENTRIES 65536u

/* One vCPU's ring, as KVM maps it at KVM_DIRTY_LOG_PAGE_OFFSET. */
struct kvm_ring {
	struct kvm_dirty_gfn *gfns;
	uint32_t entries; /* a power of two */
	uint32_t next;    /* free-running: the next entry to harvest */
};

struct kvm_ring_slot {
	uint64_t npages;  /* 0: the slot does not log */
	uint64_t *bitmap; /* pages harvested and not handed over yet */
};

struct kvm_rings {
	pthread_mutex_t lock;
	struct kvm_ring **ring; /* by vCPU index; NULL: none (yet) */
	uint32_t nring;
	struct kvm_ring_slot slot[KVM_RING_SLOTS];
	/* KVM_RESET_DIRTY_RINGS: 0 or a negative errno. */
	int (*reset)(void *opaque);
	void *opaque;
	/* Counters, for the log line at the end. */
	uint64_t harvested; /* entries taken into a bitmap */
	uint64_t dropped;   /* entries naming a slot or page that does not log */
	uint64_t full;      /* KVM_EXIT_DIRTY_RING_FULL exits served */
	/* A harvest found a ring dirty all the way round: KVM reached the
	 * ring's end, past its soft limit, and may have written over
	 * entries not harvested yet.  The log cannot be trusted until it
	 * starts again (kvm_rings_slot_log on). */
	bool overflow;
};

/* Which capability enables the rings, from KVM_CHECK_EXTENSION's answers
 * (each the largest ring in bytes KVM takes, 0: absent): *cap is
 * KVM_CAP_DIRTY_LOG_RING_ACQ_REL when KVM offers it, else
 * KVM_CAP_DIRTY_LOG_RING.  -ENOTSUP with neither, -E2BIG when `bytes` is
 * more than the chosen one takes. */
int kvm_ring_cap(int acq_rel_max, int ring_max, uint32_t bytes, long *cap, int *max);

int kvm_rings_init(struct kvm_rings *r, uint32_t nvcpus, int (*reset)(void *opaque), void *opaque);
void kvm_rings_fini(struct kvm_rings *r);
/* vCPU `index`'s ring from now on (NULL: none any more). */
void kvm_rings_attach(struct kvm_rings *r, uint32_t index, struct kvm_ring *ring);
/* Slot `slot` of `npages` pages starts (on) or stops logging; a start
 * begins with an empty bitmap and forgets an overflow.  -EINVAL for a slot past KVM_RING_SLOTS,
 * -ENOMEM. */
int kvm_rings_slot_log(struct kvm_rings *r, uint32_t slot, uint64_t npages, bool on);
/* With the lock held: the dirty entries of one ring, in order, into the
 * slots' bitmaps, each marked harvested (RESET); returns how many.  A
 * whole ring of them sets r->overflow. */
uint32_t kvm_ring_harvest(struct kvm_rings *r, struct kvm_ring *ring);
/* Every ring harvested and, when any entry was, KVM told (reset), then
 * slot `slot`'s pages since the last call into `bitmap` (one bit a page,
 * page n in bit n % 64 of word n / 64; the slot's own bitmap is cleared).
 * -ENOTSUP for a slot that does not log; the reset's errno; -EOVERFLOW
 * once a ring overflowed (the pages are not all there). */
int kvm_rings_take(struct kvm_rings *r, uint32_t slot, uint64_t *bitmap);
/* vCPU `index`'s ring is full (KVM_EXIT_DIRTY_RING_FULL): harvested and
 * reset, so that its KVM_RUN goes on. */
int kvm_rings_full(struct kvm_rings *r, uint32_t index);

#endif
