/* SPDX-License-Identifier: MIT */
/*
 * The kvm plugin's dirty-ring harvest (kvm-dirty-ring.c) on fake rings:
 * arrays of struct kvm_dirty_gfn in plain memory, filled here as KVM
 * fills its rings (flags DIRTY, the slot, the page offset), and a fake
 * KVM_RESET_DIRTY_RINGS that does what KVM's does (each entry marked
 * harvested, in order from where the last reset stopped, becomes free) and
 * records what it saw.  The rules checked are the KVM API document's
 * (8.29): dirty entries taken in order and none skipped, each one marked
 * harvested, the reset after the marks and before the caller gets the
 * pages, a slot or page that does not log dropped but given back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hypervisors/kvm/kvm-dirty-ring.h"

#define ENTRIES 8u

/* The fake KVM side of one VM: rings by vCPU and the reset's index. */
struct fake_kvm {
	struct kvm_dirty_gfn gfns[2][ENTRIES];
	uint32_t dirty_index[2]; /* where KVM writes next */
	uint32_t reset_index[2]; /* where KVM's reset looks next */
	struct kvm_ring ring[2];
	int resets;
	/* At the reset: entries still DIRTY (not marked) anywhere. */
	int unmarked_at_reset;
	int fail_reset; /* an errno to return, 0: succeed */
};

static struct fake_kvm fk;
static struct kvm_rings rings;

/* KVM pushes a dirty page of `slot` at `offset` onto vCPU v's ring. */
static void fake_dirty(unsigned v, uint32_t slot, uint64_t offset)
{
	struct kvm_dirty_gfn *e = &fk.gfns[v][fk.dirty_index[v] % ENTRIES];

	assert_int_equal(e->flags, 0); /* KVM never overwrites a used entry */
	e->slot = slot;
	e->offset = offset;
	e->flags = KVM_DIRTY_GFN_F_DIRTY;
	fk.dirty_index[v]++;
}

static int fake_reset(void *opaque)
{
	struct fake_kvm *k = opaque;

	k->resets++;
	if (k->fail_reset)
		return -k->fail_reset;
	for (unsigned v = 0; v < 2; v++) {
		for (uint32_t i = k->reset_index[v]; i != k->dirty_index[v]; i++)
			if (k->gfns[v][i % ENTRIES].flags & KVM_DIRTY_GFN_F_DIRTY &&
			    !(k->gfns[v][i % ENTRIES].flags & KVM_DIRTY_GFN_F_RESET))
				k->unmarked_at_reset++;
		/* KVM's reset: from reset_index while entries are marked. */
		while (k->reset_index[v] != k->dirty_index[v] &&
		       k->gfns[v][k->reset_index[v] % ENTRIES].flags & KVM_DIRTY_GFN_F_RESET) {
			k->gfns[v][k->reset_index[v] % ENTRIES].flags = 0;
			k->reset_index[v]++;
		}
	}
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	assert_int_equal(kvm_rings_init(&rings, 2, fake_reset, &fk), 0);
	for (unsigned v = 0; v < 2; v++) {
		fk.ring[v] = (struct kvm_ring){ .gfns = fk.gfns[v], .entries = ENTRIES };
		kvm_rings_attach(&rings, v, &fk.ring[v]);
	}
	/* Slot 0: 200 pages; slot 1: 64; slot 2 does not log. */
	assert_int_equal(kvm_rings_slot_log(&rings, 0, 200, true), 0);
	assert_int_equal(kvm_rings_slot_log(&rings, 1, 64, true), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kvm_rings_fini(&rings);
	return 0;
}

static bool bit(const uint64_t *b, uint64_t n)
{
	return b[n / 64] >> (n % 64) & 1;
}

static unsigned popcount(const uint64_t *b, unsigned words)
{
	unsigned n = 0;

	for (unsigned i = 0; i < words; i++)
		n += (unsigned)__builtin_popcountll(b[i]);
	return n;
}

/* Page n is bit n % 64 of word n / 64, at the word edges too, and each
 * slot gets only its own pages. */
static void test_offset_to_bit(void **state)
{
	uint64_t b0[4] = { 0 }, b1[1] = { 0 };

	(void)state;
	fake_dirty(0, 0, 0);
	fake_dirty(0, 0, 63);
	fake_dirty(0, 0, 64);
	fake_dirty(1, 0, 199); /* the slot's last page */
	fake_dirty(1, 1, 5);
	assert_int_equal(kvm_rings_take(&rings, 0, b0), 0);
	assert_true(bit(b0, 0) && bit(b0, 63) && bit(b0, 64) && bit(b0, 199));
	assert_int_equal(popcount(b0, 4), 4);
	assert_int_equal(b0[0], 1ull | 1ull << 63);
	assert_int_equal(b0[1], 1ull);
	assert_int_equal(b0[3], 1ull << (199 - 192));
	/* Slot 1's page was harvested with the rest and waits for its take. */
	assert_int_equal(kvm_rings_take(&rings, 1, b1), 0);
	assert_int_equal(b1[0], 1ull << 5);
	/* Handed over means cleared: nothing new, nothing again. */
	memset(b0, 0xff, sizeof(b0));
	assert_int_equal(kvm_rings_take(&rings, 0, b0), 0);
	assert_int_equal(popcount(b0, 4), 0);
	assert_int_equal(rings.harvested, 5);
}

/* Every harvested entry is marked (flags RESET) before the reset, the
 * reset happens once per take that harvested anything and before the take
 * returns (the caller reads the pages next), and after it the entries
 * are free for KVM again. */
static void test_marked_then_reset(void **state)
{
	uint64_t b[4] = { 0 };

	(void)state;
	fake_dirty(0, 0, 10);
	fake_dirty(0, 0, 11);
	fake_dirty(1, 0, 12);
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
	assert_int_equal(fk.resets, 1);
	assert_int_equal(fk.unmarked_at_reset, 0);
	assert_int_equal(fk.reset_index[0], 2);
	assert_int_equal(fk.reset_index[1], 1);
	for (unsigned i = 0; i < ENTRIES; i++)
		assert_int_equal(fk.gfns[0][i].flags, 0);
	/* Nothing harvested: no reset (an ioctl saved per round). */
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
	assert_int_equal(fk.resets, 1);
}

/* The harvest stops at the first entry that is not dirty, even with dirty
 * ones behind it (KVM fills in order; a later one is not ready to take). */
static void test_stops_at_first_clean(void **state)
{
	uint64_t b[4] = { 0 };

	(void)state;
	fake_dirty(0, 0, 1);
	fk.gfns[0][2] = (struct kvm_dirty_gfn){ .flags = KVM_DIRTY_GFN_F_DIRTY, .slot = 0, .offset = 3 };
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
	assert_true(bit(b, 1));
	assert_false(bit(b, 3));
	assert_int_equal(fk.ring[0].next, 1);
	assert_int_equal(fk.gfns[0][2].flags, KVM_DIRTY_GFN_F_DIRTY);
}

/* Many laps of a ring of 8: the index wraps with the entries. */
static void test_wraps(void **state)
{
	uint64_t b[4];

	(void)state;
	for (unsigned lap = 0; lap < 5; lap++) {
		for (unsigned i = 0; i < ENTRIES - 1; i++)
			fake_dirty(0, 0, lap * ENTRIES + i);
		memset(b, 0, sizeof(b));
		assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
		assert_int_equal(popcount(b, 4), ENTRIES - 1);
		for (unsigned i = 0; i < ENTRIES - 1; i++)
			assert_true(bit(b, lap * ENTRIES + i));
	}
	assert_int_equal(fk.ring[0].next, 5 * (ENTRIES - 1));
	assert_int_equal(fk.reset_index[0], 5 * (ENTRIES - 1));
}

/* Entries naming a slot past the table, another address space, a slot
 * that does not log, or a page past the slot's end mark nothing, and are
 * still given back (else the ring stays full). */
static void test_out_of_range_dropped(void **state)
{
	uint64_t b0[4] = { 0 }, b1[1] = { 0 };

	(void)state;
	fake_dirty(0, KVM_RING_SLOTS, 0);
	fake_dirty(0, 1u << 16, 1);  /* address space 1, slot 0 */
	fake_dirty(0, 2, 2);         /* slot 2: not logging */
	fake_dirty(0, 0, 200);       /* slot 0 has pages 0 to 199 */
	fake_dirty(0, 1, 64);        /* slot 1 has 0 to 63 */
	fake_dirty(0, 0, 7);
	assert_int_equal(kvm_rings_take(&rings, 0, b0), 0);
	assert_int_equal(popcount(b0, 4), 1);
	assert_true(bit(b0, 7));
	assert_int_equal(kvm_rings_take(&rings, 1, b1), 0);
	assert_int_equal(b1[0], 0);
	assert_int_equal(rings.dropped, 5);
	assert_int_equal(fk.reset_index[0], 6);
	/* A slot past the table or not logging has nothing to take. */
	assert_int_equal(kvm_rings_take(&rings, 2, b1), -ENOTSUP);
	assert_int_equal(kvm_rings_take(&rings, KVM_RING_SLOTS, b1), -ENOTSUP);
	assert_int_equal(kvm_rings_slot_log(&rings, KVM_RING_SLOTS, 1, true), -EINVAL);
}

/* A slot whose log stops drops what is left for it; its next start
 * begins empty. */
static void test_log_stop_and_restart(void **state)
{
	uint64_t b[4] = { 0 };

	(void)state;
	fake_dirty(0, 0, 9);
	assert_int_equal(kvm_rings_slot_log(&rings, 0, 200, false), 0);
	assert_int_equal(kvm_rings_take(&rings, 0, b), -ENOTSUP);
	fake_dirty(0, 0, 10);
	/* Harvested by the other slot's take, dropped: slot 0 is off. */
	uint64_t b1[1];
	assert_int_equal(kvm_rings_take(&rings, 1, b1), 0);
	assert_int_equal(kvm_rings_slot_log(&rings, 0, 200, true), 0);
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
	assert_int_equal(popcount(b, 4), 0);
	assert_int_equal(rings.dropped, 2);
}

/* KVM_EXIT_DIRTY_RING_FULL: the vCPU's own ring harvested and reset, its
 * pages kept for the next take. */
static void test_full_exit(void **state)
{
	uint64_t b[4] = { 0 };

	(void)state;
	/* At KVM's soft limit: the ring is not full to its end. */
	for (unsigned i = 0; i < ENTRIES - 2; i++)
		fake_dirty(1, 0, 100 + i);
	assert_int_equal(kvm_rings_full(&rings, 1), 0);
	assert_int_equal(fk.resets, 1);
	assert_int_equal(fk.unmarked_at_reset, 0);
	assert_int_equal(fk.reset_index[1], ENTRIES - 2);
	assert_int_equal(rings.full, 1);
	/* The ring has room again: KVM goes on writing into it. */
	fake_dirty(1, 0, 150);
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
	assert_int_equal(popcount(b, 4), ENTRIES - 1);
	assert_true(bit(b, 100) && bit(b, 105) && bit(b, 150));
	assert_int_equal(kvm_rings_full(&rings, 2), -EINVAL);
}

/* A failing reset is the take's error; the pages stay for the next take. */
static void test_reset_fails(void **state)
{
	uint64_t b[4] = { 0 };

	(void)state;
	fake_dirty(0, 0, 42);
	fk.fail_reset = EIO;
	assert_int_equal(kvm_rings_take(&rings, 0, b), -EIO);
	assert_int_equal(popcount(b, 4), 0);
	fk.fail_reset = 0;
	fake_reset(&fk);
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
	assert_true(bit(b, 42));
}

/* A ring found dirty all the way round overflowed (KVM passed its soft
 * limit and may have written over entries): every take fails until the
 * log starts again, though the entries are still given back. */
static void test_full_lap_is_overflow(void **state)
{
	uint64_t b[4] = { 0 };

	(void)state;
	for (unsigned i = 0; i < ENTRIES - 1; i++)
		fake_dirty(0, 0, i);
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0); /* one short: fine */
	for (unsigned i = 0; i < ENTRIES; i++)
		fake_dirty(1, 0, i);
	assert_int_equal(kvm_rings_full(&rings, 1), 0); /* the vCPU runs on */
	assert_int_equal(fk.reset_index[1], ENTRIES);
	assert_int_equal(kvm_rings_take(&rings, 0, b), -EOVERFLOW);
	assert_int_equal(kvm_rings_take(&rings, 0, b), -EOVERFLOW);
	assert_int_equal(kvm_rings_slot_log(&rings, 0, 200, true), 0);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(kvm_rings_take(&rings, 0, b), 0);
	assert_int_equal(popcount(b, 4), 0);
}

/* The capability: ACQ_REL first, the plain ring on a kernel without it,
 * neither refused, a ring bigger than KVM's largest refused. */
static void test_cap_choice(void **state)
{
	long cap;
	int max;

	(void)state;
	assert_int_equal(kvm_ring_cap(1 << 20, 1 << 20, 65536, &cap, &max), 0);
	assert_int_equal(cap, KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
	assert_int_equal(kvm_ring_cap(0, 1 << 16, 65536, &cap, &max), 0);
	assert_int_equal(cap, KVM_CAP_DIRTY_LOG_RING);
	assert_int_equal(kvm_ring_cap(0, 0, 65536, &cap, &max), -ENOTSUP);
	assert_int_equal(kvm_ring_cap(1 << 16, 0, 1 << 17, &cap, &max), -E2BIG);
	assert_int_equal(max, 1 << 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_offset_to_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marked_then_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stops_at_first_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_stop_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_lap_is_overflow, setup, teardown),
		cmocka_unit_test(test_cap_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
