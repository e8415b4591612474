/* SPDX-License-Identifier: MIT */
/* Saved-state records (core/state.c) and the typed helpers of vmm/state.h:
 * what save() writes load() reads back, and a damaged record is refused. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmm/state.h>
#include "core/state.h"

/* A host table with only the two state services: the core's own. */
static const struct vmm_host fake_host = {
	.size = sizeof(struct vmm_host),
	.state_put = vmm_state_host_put,
	.state_get = vmm_state_host_get,
};

static void round_trip(void **unused)
{
	struct vmm_state_out o;
	struct vmm_state_in in;
	const uint8_t *bytes;
	size_t len;
	uint64_t v64;
	uint32_t v32;
	uint8_t v8, fifo[16], small[8];
	const uint8_t payload[16] = "0123456789abcdef";

	(void)unused;
	assert_int_equal(vmm_state_out_init(&o, "uart16550", "com1", 3), 0);
	assert_int_equal(vmm_state_put_u64(&fake_host, &o, "deadline", 0x0102030405060708ull), 0);
	assert_int_equal(vmm_state_put_u32(&fake_host, &o, "ier", 0xa5a5f00d), 0);
	assert_int_equal(vmm_state_put_u8(&fake_host, &o, "lcr", 0x83), 0);
	assert_int_equal(vmm_state_put(&fake_host, &o, "fifo", payload, sizeof(payload)), 0);
	assert_int_equal(vmm_state_put(&fake_host, &o, "empty", NULL, 0), 0);
	bytes = vmm_state_out_bytes(&o, &len);
	/* little-endian whatever the host: the u64's low byte comes first */
	assert_memory_equal(bytes, "VMMR", 4);

	assert_int_equal(vmm_state_in_parse(&in, bytes, len), 0);
	assert_string_equal(in.plugin, "uart16550");
	assert_string_equal(in.instance, "com1");
	assert_int_equal(in.version, 3);
	assert_int_equal(in.nfields, 5);
	assert_int_equal(vmm_state_get_u64(&fake_host, &in, "deadline", &v64), 0);
	assert_true(v64 == 0x0102030405060708ull);
	assert_int_equal(vmm_state_get_u32(&fake_host, &in, "ier", &v32), 0);
	assert_int_equal(v32, 0xa5a5f00d);
	assert_int_equal(vmm_state_get_u8(&fake_host, &in, "lcr", &v8), 0);
	assert_int_equal(v8, 0x83);
	assert_int_equal(vmm_state_get(&fake_host, &in, "fifo", fifo, sizeof(fifo)), 0);
	assert_memory_equal(fifo, payload, sizeof(payload));
	assert_int_equal(vmm_state_host_get(&fake_host, &in, "empty", NULL, 0), 0);
	/* absent, and present with another length */
	assert_int_equal(vmm_state_get_u32(&fake_host, &in, "missing", &v32), -ENOENT);
	assert_int_equal(vmm_state_get_u32(&fake_host, &in, "deadline", &v32), -EMSGSIZE);
	{
		char why[100];

		assert_string_equal(vmm_state_in_why(&in, -EMSGSIZE, why, sizeof(why)),
				    "field 'deadline' has 8 bytes, not 4");
		assert_int_equal(vmm_state_get_u32(&fake_host, &in, "missing", &v32), -ENOENT);
		assert_string_equal(vmm_state_in_why(&in, -ENOENT, why, sizeof(why)),
				    "field 'missing' is missing");
		assert_string_equal(vmm_state_in_why(&in, -EPROTO, why, sizeof(why)), "Protocol error");
	}
	/* a variable-length field: ask its length, then a short copy */
	assert_int_equal(vmm_state_host_get(&fake_host, &in, "fifo", NULL, 0), 16);
	memset(small, 'Z', sizeof(small));
	assert_int_equal(vmm_state_host_get(&fake_host, &in, "fifo", small, 3), 16);
	assert_memory_equal(small, "012ZZZZZ", 8); /* nothing past cap */
	vmm_state_in_free(&in);
	vmm_state_out_free(&o);
}

static void bad_puts(void **unused)
{
	struct vmm_state_out o;
	char long_name[VMM_STATE_NAME_MAX + 2];

	(void)unused;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(vmm_state_out_init(&o, "p", "i", 1), 0);
	assert_int_equal(vmm_state_put_u8(&fake_host, &o, "x", 1), 0);
	assert_int_equal(vmm_state_put_u8(&fake_host, &o, "x", 2), -EEXIST);
	assert_int_equal(vmm_state_put_u8(&fake_host, &o, "", 1), -EINVAL);
	assert_int_equal(vmm_state_put_u8(&fake_host, &o, "a b", 1), -EINVAL);
	assert_int_equal(vmm_state_put_u8(&fake_host, &o, long_name, 1), -EINVAL);
	long_name[VMM_STATE_NAME_MAX] = '\0';
	assert_int_equal(vmm_state_put_u8(&fake_host, &o, long_name, 1), 0);
	assert_int_equal(vmm_state_out_put(&o, "huge", "", VMM_STATE_FIELD_MAX + 1u), -EINVAL);
	assert_int_equal(o.nfields, 2);
	vmm_state_out_free(&o);
}

/* Every truncation of a good record, and single-byte damage in its
 * framing, is -EBADMSG, and never a read past the buffer: each truncated
 * copy ends where an inaccessible page begins, so one byte too far is a
 * crash. */
static void damaged_records(void **unused)
{
	struct vmm_state_out o;
	struct vmm_state_in in;
	const uint8_t *bytes;
	uint8_t *copy;
	size_t len;

	(void)unused;
	assert_int_equal(vmm_state_out_init(&o, "virtio-blk", "disk0", 1), 0);
	assert_int_equal(vmm_state_put_u32(&fake_host, &o, "a", 1), 0);
	assert_int_equal(vmm_state_put_u64(&fake_host, &o, "b", 2), 0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *guarded = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(guarded != MAP_FAILED);
	assert_int_equal(mprotect(guarded + page, page, PROT_NONE), 0);
	bytes = vmm_state_out_bytes(&o, &len);
	assert_true(len < page);
	for (size_t n = 0; n < len; n++) {
		memcpy(guarded + page - n, bytes, n);
		assert_int_equal(vmm_state_in_parse(&in, guarded + page - n, n), -EBADMSG);
	}
	munmap(guarded, 2 * page);
	copy = malloc(len + 1);
	memcpy(copy, bytes, len);
	copy[len] = 0;
	assert_int_equal(vmm_state_in_parse(&in, copy, len + 1), -EBADMSG); /* trailing byte */
	copy[0] = 'X';
	assert_int_equal(vmm_state_in_parse(&in, copy, len), -EBADMSG); /* magic */
	memcpy(copy, bytes, len);
	copy[4] = 2;
	assert_int_equal(vmm_state_in_parse(&in, copy, len), -EBADMSG); /* format */
	memcpy(copy, bytes, len);
	/* the second field's name "b" renamed "a": a repeated field */
	copy[len - 8 - 4 - 1] = 'a';
	assert_int_equal(vmm_state_in_parse(&in, copy, len), -EBADMSG);
	memcpy(copy, bytes, len);
	copy[len - 8 - 4 - 1] = ' ';
	assert_int_equal(vmm_state_in_parse(&in, copy, len), -EBADMSG); /* a bad name */
	memcpy(copy, bytes, len);
	assert_int_equal(vmm_state_in_parse(&in, copy, len), 0);
	vmm_state_in_free(&in);
	free(copy);
	vmm_state_out_free(&o);
}

/* A host without the services (older than ABI 1.12) is -ENOTSUP, not a crash. */
static void old_host(void **unused)
{
	static const struct vmm_host old = { .size = offsetof(struct vmm_host, state_put) };
	uint32_t v;

	(void)unused;
	assert_int_equal(vmm_state_put_u32(&old, NULL, "a", 1), -ENOTSUP);
	assert_int_equal(vmm_state_get_u32(&old, NULL, "a", &v), -ENOTSUP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(bad_puts),
		cmocka_unit_test(damaged_records),
		cmocka_unit_test(old_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
