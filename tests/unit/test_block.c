/* tests/unit/test_block.c - core/block.c: what the core lets through to a
 * block backend.  A fake backend records the calls it gets; every request
 * outside the disk, or changing a read-only one, must stop before it. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/block.h"

static unsigned calls;
static uint64_t last_offset, last_len;

static void fake_info(void *state, struct vmm_block_info *info)
{
	info->bytes = 4096;
	info->flags = VMM_BLOCK_DISCARD | VMM_BLOCK_WRITE_ZEROES;
}

static int fake_rw(void *state, const struct iovec *iov, int n, uint64_t offset)
{
	calls++;
	last_offset = offset;
	return 0;
}

static int fake_flush(void *state)
{
	calls++;
	return 0;
}

static int fake_range(void *state, uint64_t offset, uint64_t len)
{
	calls++;
	last_offset = offset;
	last_len = len;
	return 0;
}

static const struct vmm_block_backend_ops fake_ops = {
	.base = { .size = sizeof(struct vmm_block_backend_ops), .type = VMM_BACKEND_BLOCK },
	.info = fake_info,
	.readv = fake_rw,
	.writev = fake_rw,
	.flush = fake_flush,
	.discard = fake_range,
	.write_zeroes = fake_range,
};

/* An older backend whose table ends before discard. */
static const struct vmm_block_backend_ops short_ops = {
	.base = { .size = offsetof(struct vmm_block_backend_ops, discard), .type = VMM_BACKEND_BLOCK },
	.info = fake_info,
	.readv = fake_rw,
	.writev = fake_rw,
	.flush = fake_flush,
	.discard = fake_range, /* past .size: must not be used */
};

static struct vmm_block_info info(const struct vmm_block_backend_ops *ops)
{
	struct vmm_block_info i = { .size = sizeof(i) };

	vmm_block_query(ops, NULL, &i);
	return i;
}

static int io(const struct vmm_block_info *i, uint32_t op, void *buf, size_t len, uint64_t offset)
{
	struct iovec iov = { buf, len };
	struct vmm_block_req req = { .op = op, .iovcnt = 1, .iov = &iov, .offset = offset, .len = len };

	return vmm_block_dispatch(&fake_ops, NULL, i, &req);
}

static int setup(void **state)
{
	calls = 0;
	return 0;
}

static void test_query(void **state)
{
	struct vmm_block_info i = info(&fake_ops);

	assert_int_equal(i.size, sizeof(i));
	assert_int_equal(i.bytes, 4096);
	assert_int_equal(i.flags, VMM_BLOCK_DISCARD | VMM_BLOCK_WRITE_ZEROES);
	/* A backend cannot claim ops its table does not have. */
	i = info(&short_ops);
	assert_int_equal(i.flags, 0);
	/* An older device's smaller struct gets only what it has room for. */
	struct { struct vmm_block_info i; uint64_t guard; } small = { .i.size = 8, .guard = 7 };
	vmm_block_query(&fake_ops, NULL, &small.i);
	assert_int_equal(small.i.size, 8);
	assert_int_equal(small.i.bytes, 0);
}

static void test_read_write_inside(void **state)
{
	struct vmm_block_info i = info(&fake_ops);
	uint8_t buf[512];

	assert_int_equal(io(&i, VMM_BLOCK_OP_READ, buf, 512, 0), 0);
	assert_int_equal(io(&i, VMM_BLOCK_OP_WRITE, buf, 512, 4096 - 512), 0);
	assert_int_equal(last_offset, 4096 - 512);
	assert_int_equal(io(&i, VMM_BLOCK_OP_READ, buf, 0, 4096), 0);
	assert_int_equal(calls, 3);
}

static void test_outside_refused(void **state)
{
	struct vmm_block_info i = info(&fake_ops);
	uint8_t buf[512];

	assert_int_equal(io(&i, VMM_BLOCK_OP_READ, buf, 512, 4096 - 256), -EINVAL);
	assert_int_equal(io(&i, VMM_BLOCK_OP_WRITE, buf, 512, UINT64_MAX - 100), -EINVAL);
	assert_int_equal(io(&i, VMM_BLOCK_OP_READ, buf, 1, 4097), -EINVAL);
	struct vmm_block_req d = { .op = VMM_BLOCK_OP_DISCARD, .offset = 4000, .len = 200 };
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &d), -EINVAL);
	/* Segment lengths that wrap around when summed. */
	struct iovec two[2] = { { buf, SIZE_MAX }, { buf, 2 } };
	struct vmm_block_req w = { .op = VMM_BLOCK_OP_READ, .iovcnt = 2, .iov = two };
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &w), -EINVAL);
	w.iovcnt = -1;
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &w), -EINVAL);
	w.iovcnt = IOV_MAX + 1;
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &w), -EINVAL);
	w.op = 99;
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &w), -EINVAL);
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, NULL), -EINVAL);
	assert_int_equal(calls, 0);
}

static void test_read_only_refuses_changes(void **state)
{
	struct vmm_block_info i = info(&fake_ops);
	uint8_t buf[512];

	i.flags |= VMM_BLOCK_READONLY;
	assert_int_equal(io(&i, VMM_BLOCK_OP_WRITE, buf, 512, 0), -EROFS);
	struct vmm_block_req r = { .op = VMM_BLOCK_OP_DISCARD, .len = 512 };
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &r), -EROFS);
	r.op = VMM_BLOCK_OP_WRITE_ZEROES;
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &r), -EROFS);
	assert_int_equal(calls, 0);
	assert_int_equal(io(&i, VMM_BLOCK_OP_READ, buf, 512, 0), 0);
	r.op = VMM_BLOCK_OP_FLUSH;
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &r), 0);
	assert_int_equal(calls, 2);
}

static void test_missing_ops(void **state)
{
	struct vmm_block_info i = info(&short_ops);
	struct vmm_block_req r = { .op = VMM_BLOCK_OP_DISCARD, .offset = 512, .len = 512 };

	assert_int_equal(vmm_block_dispatch(&short_ops, NULL, &i, &r), -EOPNOTSUPP);
	r.op = VMM_BLOCK_OP_WRITE_ZEROES;
	assert_int_equal(vmm_block_dispatch(&short_ops, NULL, &i, &r), -EOPNOTSUPP);
	assert_int_equal(calls, 0);
	i = info(&fake_ops);
	assert_int_equal(vmm_block_dispatch(&fake_ops, NULL, &i, &r), 0);
	assert_int_equal(last_offset, 512);
	assert_int_equal(last_len, 512);
}

/* A backend with a submit op (ABI 1.11): what reaches it. */
static unsigned submits, submitted;

static void fake_submit(void *state, const struct vmm_block_req *reqs, int *results, unsigned n)
{
	submits++;
	submitted += n;
	for (unsigned i = 0; i < n; i++)
		results[i] = reqs[i].op == VMM_BLOCK_OP_READ ? 0 : -EIO;
}

static const struct vmm_block_backend_ops batch_ops = {
	.base = { .size = sizeof(struct vmm_block_backend_ops), .type = VMM_BACKEND_BLOCK },
	.info = fake_info,
	.readv = fake_rw,
	.writev = fake_rw,
	.flush = fake_flush,
	.discard = fake_range,
	.write_zeroes = fake_range,
	.submit = fake_submit,
};

/* Reads and writes inside the disk go to submit together, in one call;
 * one past the end is refused before it, a flush runs on its own. */
static void test_batch(void **state)
{
	static uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct vmm_block_info i = info(&batch_ops);
	struct vmm_block_req r[4] = {
		{ .op = VMM_BLOCK_OP_READ, .iovcnt = 1, .iov = &iov, .offset = 0 },
		{ .op = VMM_BLOCK_OP_WRITE, .iovcnt = 1, .iov = &iov, .offset = 512 },
		{ .op = VMM_BLOCK_OP_READ, .iovcnt = 1, .iov = &iov, .offset = 4096 },
		{ .op = VMM_BLOCK_OP_FLUSH },
	};
	int res[4] = { 9, 9, 9, 9 };

	submits = submitted = 0;
	assert_int_equal(vmm_block_dispatch_batch(&batch_ops, NULL, &i, r, res, 4), 0);
	assert_int_equal(submits, 1);
	assert_int_equal(submitted, 2);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], -EIO); /* the fake fails writes */
	assert_int_equal(res[2], -EINVAL);
	assert_int_equal(res[3], 0);
	assert_int_equal(calls, 1); /* the flush */
	assert_int_equal(vmm_block_dispatch_batch(&batch_ops, NULL, &i, r, res, VMM_BLOCK_BATCH_MAX + 1),
			 -EINVAL);

	/* Without submit: one at a time through readv and writev. */
	calls = 0;
	i = info(&fake_ops);
	assert_int_equal(vmm_block_dispatch_batch(&fake_ops, NULL, &i, r, res, 4), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(res[2], -EINVAL);
	assert_int_equal(res[3], 0);
	assert_int_equal(calls, 3);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_query),
		T(test_read_write_inside),
		T(test_outside_refused),
		T(test_read_only_refuses_changes),
		T(test_missing_ops),
		T(test_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
