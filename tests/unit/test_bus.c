/* Bus tests: registration edges, overlap, access-size adaptation and
 * unclaimed accesses, with fake regions that record what they see. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "core/bus.h"

/* A fake device region: remembers its last access, reads back a pattern. */
struct fake_region {
	unsigned reads, writes;
	uint64_t last_off, last_val;
	unsigned last_len;
	int fail;
	uint8_t mem[64];
};

static int fake_read(void *opaque, unsigned vcpu, uint64_t off, unsigned len, uint64_t *value)
{
	struct fake_region *f = opaque;
	f->reads++;
	f->last_off = off;
	f->last_len = len;
	if (f->fail)
		return -EIO;
	*value = 0;
	memcpy(value, f->mem + off, len);
	return 0;
}

static int fake_write(void *opaque, unsigned vcpu, uint64_t off, unsigned len, uint64_t value)
{
	struct fake_region *f = opaque;
	f->writes++;
	f->last_off = off;
	f->last_len = len;
	f->last_val = value;
	if (f->fail)
		return -EIO;
	memcpy(f->mem + off, &value, len);
	return 0;
}

static const struct vmm_region_ops any_ops = {
	.size = sizeof(struct vmm_region_ops), .access_sizes = 0, .read = fake_read, .write = fake_write,
};
static const struct vmm_region_ops byte_ops = {
	.size = sizeof(struct vmm_region_ops), .access_sizes = VMM_ACCESS_1, .read = fake_read,
	.write = fake_write,
};
static const struct vmm_region_ops dword_ops = {
	.size = sizeof(struct vmm_region_ops), .access_sizes = VMM_ACCESS_4, .read = fake_read,
	.write = fake_write,
};

static struct vmm_bus_owner owner_a = { "dev-a", NULL, NULL }, owner_b = { "dev-b", NULL, NULL };

static int setup_pio(void **state)
{
	static struct vmm_bus_space b;
	assert_int_equal(vmm_bus_init(&b, "pio", 0x10000, VMM_BUS_BYTES), 0);
	*state = &b;
	return 0;
}

static int teardown(void **state)
{
	vmm_bus_destroy(*state);
	return 0;
}

static void test_rejects_zero_length(void **state)
{
	struct fake_region f = { 0 };
	char err[256] = "";
	assert_int_equal(vmm_bus_map(*state, 0x100, 0, &any_ops, &f, &owner_a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "zero length"));
	assert_non_null(strstr(err, "dev-a"));
}

static void test_rejects_wraparound(void **state)
{
	struct vmm_bus_space mmio;
	struct fake_region f = { 0 };
	char err[256] = "";
	vmm_bus_init(&mmio, "mmio", 0, VMM_BUS_BYTES);
	assert_int_equal(vmm_bus_map(&mmio, ~0ull - 3, 8, &any_ops, &f, &owner_a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "wraps"));
	/* the very last bytes of the space are fine */
	assert_int_equal(vmm_bus_map(&mmio, ~0ull - 3, 4, &any_ops, &f, &owner_a, err, sizeof(err)), 0);
	vmm_bus_destroy(&mmio);
}

static void test_rejects_beyond_limit(void **state)
{
	struct fake_region f = { 0 };
	char err[256] = "";
	assert_int_equal(vmm_bus_map(*state, 0xfffe, 4, &any_ops, &f, &owner_a, err, sizeof(err)), -EINVAL);
	assert_int_equal(vmm_bus_map(*state, 0xfffc, 4, &any_ops, &f, &owner_a, err, sizeof(err)), 0);
}

static void test_overlap_names_both_owners(void **state)
{
	struct fake_region f = { 0 };
	char err[256] = "";
	assert_int_equal(vmm_bus_map(*state, 0x3f8, 8, &any_ops, &f, &owner_a, err, sizeof(err)), 0);
	/* inside, straddling each end, and covering */
	const uint64_t bases[] = { 0x3f8, 0x3fc, 0x3f0, 0x3ff, 0x3f0 };
	const uint64_t lens[] = { 8, 1, 9, 4, 0x20 };
	for (unsigned i = 0; i < 5; i++) {
		err[0] = '\0';
		assert_int_equal(vmm_bus_map(*state, bases[i], lens[i], &any_ops, &f, &owner_b, err,
					     sizeof(err)), -EEXIST);
		assert_non_null(strstr(err, "dev-a"));
		assert_non_null(strstr(err, "dev-b"));
	}
	/* adjacent on both sides is not an overlap */
	assert_int_equal(vmm_bus_map(*state, 0x3f0, 8, &any_ops, &f, &owner_b, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_map(*state, 0x400, 8, &any_ops, &f, &owner_b, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_count(*state), 3);
}

static void test_lookup_among_many_regions(void **state)
{
	static struct fake_region f[64];
	char err[256];
	/* map in a scrambled order; the bus keeps them sorted */
	for (unsigned i = 0; i < 64; i++) {
		unsigned k = (i * 37) % 64;
		assert_int_equal(vmm_bus_map(*state, 0x1000 + k * 0x10, 8, &any_ops, &f[k], &owner_a, err,
					     sizeof(err)), 0);
	}
	for (unsigned k = 0; k < 64; k++) {
		assert_ptr_equal(vmm_bus_find(*state, 0x1000 + k * 0x10 + 7)->opaque, &f[k]);
		assert_null(vmm_bus_find(*state, 0x1000 + k * 0x10 + 8));
	}
}

static void test_unclaimed_reads_ones_and_writes_counted(void **state)
{
	struct vmm_bus_space *b = *state;
	uint64_t v = 0;
	assert_int_equal(vmm_bus_read(b, 0, 0x80, 1, &v), -ENOENT);
	assert_int_equal(v, 0xff);
	assert_int_equal(vmm_bus_read(b, 0, 0x80, 4, &v), -ENOENT);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(vmm_bus_write(b, 0, 0x80, 2, 0x1234), -ENOENT);
	assert_int_equal(b->unclaimed_reads, 5);
	assert_int_equal(b->unclaimed_writes, 2);
}

static void test_accepted_size_goes_straight_through(void **state)
{
	struct fake_region f = { 0 };
	char err[256];
	uint64_t v;
	assert_int_equal(vmm_bus_map(*state, 0xcf8, 8, &any_ops, &f, &owner_a, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_write(*state, 0, 0xcfc, 4, 0xdeadbeef), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.last_off, 4);
	assert_int_equal(f.last_len, 4);
	assert_int_equal(vmm_bus_read(*state, 0, 0xcfc, 2, &v), 0);
	assert_int_equal(v, 0xbeef);
}

static void test_wide_access_split_into_accepted_sizes(void **state)
{
	struct fake_region f = { 0 };
	char err[256];
	uint64_t v;
	assert_int_equal(vmm_bus_map(*state, 0x3f8, 8, &byte_ops, &f, &owner_a, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_write(*state, 0, 0x3f8, 4, 0x44332211), 0);
	assert_int_equal(f.writes, 4);
	assert_int_equal(f.last_len, 1);
	assert_int_equal(f.last_off, 3);
	assert_memory_equal(f.mem, "\x11\x22\x33\x44", 4);
	assert_int_equal(vmm_bus_read(*state, 0, 0x3f9, 2, &v), 0);
	assert_int_equal(v, 0x3322);
}

static void test_access_past_region_end_is_part_unclaimed(void **state)
{
	struct fake_region f = { .mem = { [6] = 0xaa, [7] = 0xbb } };
	char err[256];
	uint64_t v;
	assert_int_equal(vmm_bus_map(*state, 0x3f8, 8, &byte_ops, &f, &owner_a, err, sizeof(err)), 0);
	/* 0x3fe, 0x3ff are claimed; 0x400, 0x401 are not */
	assert_int_equal(vmm_bus_read(*state, 0, 0x3fe, 4, &v), -ENOENT);
	assert_int_equal(v, 0xffffbbaa);
}

static void test_narrow_access_refused(void **state)
{
	struct vmm_bus_space *b = *state;
	struct fake_region f = { 0 };
	char err[256];
	uint64_t v;
	assert_int_equal(vmm_bus_map(b, 0x500, 8, &dword_ops, &f, &owner_a, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_read(b, 0, 0x500, 2, &v), -EIO);
	assert_int_equal(v, 0xffff);
	assert_int_equal(vmm_bus_write(b, 0, 0x500, 1, 5), -EIO);
	assert_int_equal(f.reads + f.writes, 0);
	assert_int_equal(b->refused, 2);
	/* an 8-byte access to a 4-only region becomes two 4-byte accesses */
	assert_int_equal(vmm_bus_write(b, 0, 0x500, 8, 0x1111111122222222ull), 0);
	assert_int_equal(f.writes, 2);
}

static void test_device_error_reads_ones(void **state)
{
	struct vmm_bus_space *b = *state;
	struct fake_region f = { .fail = 1 };
	char err[256];
	uint64_t v;
	assert_int_equal(vmm_bus_map(b, 0x600, 4, &any_ops, &f, &owner_a, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_read(b, 0, 0x600, 4, &v), -EIO);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(b->device_errors, 1);
}

static void test_unmap(void **state)
{
	struct fake_region f = { 0 };
	char err[256];
	assert_int_equal(vmm_bus_map(*state, 0x60, 1, &any_ops, &f, &owner_a, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_map(*state, 0x64, 1, &any_ops, &f, &owner_a, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_unmap(*state, 0x60, &owner_b), -ENOENT); /* not b's */
	assert_int_equal(vmm_bus_unmap(*state, 0x60, &owner_a), 0);
	assert_null(vmm_bus_find(*state, 0x60));
	vmm_bus_unmap_owner(*state, &owner_a);
	assert_int_equal(vmm_bus_count(*state), 0);
}

static int locked_calls;
static pthread_mutex_t owner_lock = PTHREAD_MUTEX_INITIALIZER;

static int check_locked_write(void *opaque, unsigned vcpu, uint64_t off, unsigned len, uint64_t value)
{
	/* the bus holds the owner's lock around the call */
	assert_int_equal(pthread_mutex_trylock(&owner_lock), EBUSY);
	locked_calls++;
	return 0;
}

static void test_owner_lock_held_during_access(void **state)
{
	static const struct vmm_region_ops ops = { .size = sizeof(ops), .write = check_locked_write };
	struct vmm_bus_owner owner = { "locked", &owner_lock, NULL };
	char err[256];
	assert_int_equal(vmm_bus_map(*state, 0x70, 2, &ops, NULL, &owner, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_write(*state, 0, 0x70, 1, 1), 0);
	assert_int_equal(locked_calls, 1);
}

/* Lookups from several threads while regions are added: readers never
 * see a torn map (run under valgrind/helgrind for more). */
static struct vmm_bus_space *race_bus;
static atomic_bool race_stop;

static void *race_reader(void *arg)
{
	uint64_t v, n = 0;
	while (!atomic_load(&race_stop)) {
		vmm_bus_read(race_bus, 1, 0x2000, 1, &v);
		assert_true(v == 0xff || v == 0);
		n++;
	}
	return NULL;
}

static void test_concurrent_lookup_during_map(void **state)
{
	static struct fake_region f[200];
	pthread_t t[2];
	char err[256];
	race_bus = *state;
	atomic_store(&race_stop, false);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, race_reader, NULL);
	for (unsigned i = 0; i < 200; i++)
		assert_int_equal(vmm_bus_map(race_bus, 0x3000 + i * 4, 4, &any_ops, &f[i], &owner_a, err,
					     sizeof(err)), 0);
	assert_int_equal(vmm_bus_map(race_bus, 0x2000, 1, &any_ops, &f[0], &owner_a, err, sizeof(err)), 0);
	atomic_store(&race_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(vmm_bus_count(race_bus), 201);
}

static void test_msr_bus_addresses_whole_registers(void **state)
{
	static const struct vmm_region_ops msr_ops = { .size = sizeof(msr_ops), .access_sizes = VMM_ACCESS_8,
						       .read = fake_read, .write = fake_write };
	struct vmm_bus_space msr;
	struct fake_region f = { 0 };
	char err[256];
	uint64_t v;
	vmm_bus_init(&msr, "msr", 0x100000000ull, VMM_BUS_REGISTERS);
	/* two MSRs, 0x40000070 and 0x40000071, each 8 bytes wide */
	assert_int_equal(vmm_bus_map(&msr, 0x40000070, 2, &msr_ops, &f, &owner_a, err, sizeof(err)), 0);
	assert_int_equal(vmm_bus_write(&msr, 0, 0x40000071, 8, 0x1122334455667788ull), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.last_off, 1);
	assert_int_equal(f.last_len, 8);
	assert_int_equal(f.last_val, 0x1122334455667788ull);
	assert_int_equal(vmm_bus_read(&msr, 0, 0x40000072, 8, &v), -ENOENT);
	assert_int_equal(v, ~0ull);
	assert_int_equal(msr.unclaimed_reads, 1);
	vmm_bus_destroy(&msr);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_pio, teardown)
	const struct CMUnitTest tests[] = {
		T(test_rejects_zero_length),
		T(test_rejects_wraparound),
		T(test_rejects_beyond_limit),
		T(test_overlap_names_both_owners),
		T(test_lookup_among_many_regions),
		T(test_unclaimed_reads_ones_and_writes_counted),
		T(test_accepted_size_goes_straight_through),
		T(test_wide_access_split_into_accepted_sizes),
		T(test_access_past_region_end_is_part_unclaimed),
		T(test_narrow_access_refused),
		T(test_device_error_reads_ones),
		T(test_unmap),
		T(test_owner_lock_held_during_access),
		T(test_concurrent_lookup_during_map),
		T(test_msr_bus_addresses_whole_registers),
	};
	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
