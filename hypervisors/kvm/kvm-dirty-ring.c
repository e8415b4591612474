/* SPDX-License-Identifier: MIT */
/*
 * kvm-dirty-ring.c - see kvm-dirty-ring.h.
 *
 * The rules (KVM API document, 8.29 KVM_CAP_DIRTY_LOG_RING /
 * KVM_CAP_DIRTY_LOG_RING_ACQ_REL, and include/uapi/linux/kvm.h's comment
 * on the kvm_dirty_gfn flags): an entry is free (flags 00), dirty (01) or
 * harvested (1X).  Userspace takes the dirty ones in ring order without
 * skipping any, stops at the first that is not dirty, and marks each one
 * harvested; KVM_RESET_DIRTY_RINGS then lets KVM write-protect those pages
 * again and free the entries, and it must come before the pages' contents
 * are read (a page written between the harvest and the reset makes no new
 * entry).  With the ACQ_REL capability the flags are read with acquire
 * (the slot and offset are valid only after it) and written with release
 * (KVM may reuse the entry once it sees the mark).
 */
#include "kvm-dirty-ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int kvm_ring_cap(int acq_rel_max, int ring_max, uint32_t bytes, long *cap, int *max)
{
	if (acq_rel_max > 0) {
		*cap = KVM_CAP_DIRTY_LOG_RING_ACQ_REL;
		*max = acq_rel_max;
	} else if (ring_max > 0) {
		/* x86 offers both (total store order makes them one); a
		 * kernel from before ACQ_REL (5.11 to 5.x) has only this. */
		*cap = KVM_CAP_DIRTY_LOG_RING;
		*max = ring_max;
	} else {
		*max = 0;
		return -ENOTSUP;
	}
	return bytes > (uint32_t)*max ? -E2BIG : 0;
}

int kvm_rings_init(struct kvm_rings *r, uint32_t nvcpus, int (*reset)(void *opaque), void *opaque)
{
	memset(r, 0, sizeof(*r));
	r->ring = calloc(nvcpus ? nvcpus : 1, sizeof(*r->ring));
	if (!r->ring)
		return -ENOMEM;
	r->nring = nvcpus;
	r->reset = reset;
	r->opaque = opaque;
	pthread_mutex_init(&r->lock, NULL);
	return 0;
}

void kvm_rings_fini(struct kvm_rings *r)
{
	if (!r->ring)
		return;
	for (unsigned i = 0; i < KVM_RING_SLOTS; i++)
		free(r->slot[i].bitmap);
	free(r->ring);
	pthread_mutex_destroy(&r->lock);
	memset(r, 0, sizeof(*r));
}

void kvm_rings_attach(struct kvm_rings *r, uint32_t index, struct kvm_ring *ring)
{
	if (index >= r->nring)
		return;
	pthread_mutex_lock(&r->lock);
	r->ring[index] = ring;
	pthread_mutex_unlock(&r->lock);
}

int kvm_rings_slot_log(struct kvm_rings *r, uint32_t slot, uint64_t npages, bool on)
{
	struct kvm_ring_slot *s;
	int rc = 0;

	if (slot >= KVM_RING_SLOTS)
		return -EINVAL;
	s = &r->slot[slot];
	pthread_mutex_lock(&r->lock);
	if (!on) {
		/* Entries still in the rings for it are dropped when harvested. */
		s->npages = 0;
	} else {
		size_t bytes = (npages + 63) / 64 * 8;
		uint64_t *b = s->npages == npages && s->bitmap ? s->bitmap : realloc(s->bitmap, bytes ? bytes : 8);

		if (!b) {
			rc = -ENOMEM;
		} else {
			memset(b, 0, bytes);
			s->bitmap = b;
			s->npages = npages;
			r->overflow = false;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

uint32_t kvm_ring_harvest(struct kvm_rings *r, struct kvm_ring *ring)
{
	uint32_t n = 0;

	/* At most one lap: KVM never has more than `entries` outstanding. */
	while (n < ring->entries) {
		struct kvm_dirty_gfn *e = &ring->gfns[ring->next & (ring->entries - 1)];
		uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

		if (!(flags & KVM_DIRTY_GFN_F_DIRTY))
			break;
		/* slot: the address space in bits 31:16 (vmmctl uses only
		 * 0, no SMM), the memslot in 15:0; offset: the page within. */
		uint32_t as_id = e->slot >> 16, id = e->slot & 0xffff;
		uint64_t off = e->offset;
		struct kvm_ring_slot *s = as_id == 0 && id < KVM_RING_SLOTS ? &r->slot[id] : NULL;

		if (s && off < s->npages) {
			s->bitmap[off / 64] |= 1ull << (off % 64);
			r->harvested++;
		} else {
			/* A slot that stopped logging, or one KVM should never
			 * name: nothing to mark, but the entry is still given
			 * back, or the ring would stay full. */
			r->dropped++;
		}
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		ring->next++;
		n++;
	}
	/* KVM keeps `entries` less its reserve outstanding at most when the
	 * vCPU takes its ring-full exit in time (dirty_ring.c, soft limit);
	 * a full lap means it did not, and an entry may have been written
	 * over before it was read (this project's hosts did that:
	 * hypervisors/kvm/README.md).  Refused rather than trusted. */
	if (n == ring->entries)
		r->overflow = true;
	return n;
}

/* With the lock held. */
static int collect(struct kvm_rings *r)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < r->nring; i++)
		if (r->ring[i])
			n += kvm_ring_harvest(r, r->ring[i]);
	return n ? r->reset(r->opaque) : 0;
}

int kvm_rings_take(struct kvm_rings *r, uint32_t slot, uint64_t *bitmap)
{
	int rc;

	if (slot >= KVM_RING_SLOTS)
		return -ENOTSUP;
	pthread_mutex_lock(&r->lock);
	struct kvm_ring_slot *s = &r->slot[slot];
	if (!s->npages) {
		rc = -ENOTSUP;
	} else {
		/* The reset comes first: the caller reads the pages next. */
		rc = collect(r);
		if (!rc && r->overflow)
			rc = -EOVERFLOW;
		if (!rc) {
			size_t bytes = (s->npages + 63) / 64 * 8;

			memcpy(bitmap, s->bitmap, bytes);
			memset(s->bitmap, 0, bytes);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int kvm_rings_full(struct kvm_rings *r, uint32_t index)
{
	int rc = 0;

	if (index >= r->nring)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	r->full++;
	/* Reset even when nothing was left to harvest: the entries that
	 * fill it may be marked already, by a harvest whose reset failed. */
	if (r->ring[index]) {
		kvm_ring_harvest(r, r->ring[index]);
		rc = r->reset(r->opaque);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}
