/* tests/unit/test_block_io.c - plugins/block-common: positioned I/O
 * finished from any byte of a request on (a short completion's rest), and
 * the end of the file inside a read. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "plugins/block-common/block-io.h"

static char path[4200];
static int fd = -1;

static int setup(void **unused)
{
	uint8_t buf[4096];
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + i / 256);
	snprintf(path, sizeof(path), "%s/test-block-io.XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	return 0;
}

static int teardown(void **unused)
{
	close(fd);
	unlink(path);
	return 0;
}

static uint8_t at(uint64_t off)
{
	return (uint8_t)(off * 13 + off / 256);
}

/* Three segments of 100, 200 and 300 bytes at file offset 1000; the first
 * 250 bytes count as done already: the first segment and half of the
 * second stay untouched, the rest is read from the right offsets. */
static void test_skip_across_segments(void **unused)
{
	uint8_t a[100], b[200], c[300];
	struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };

	memset(a, 0xee, sizeof(a));
	memset(b, 0xee, sizeof(b));
	memset(c, 0xee, sizeof(c));
	assert_int_equal(block_rw_sync(fd, iov, 3, 1000, false, 250), 0);
	for (unsigned i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0xee);
	for (unsigned i = 0; i < 150; i++)
		assert_int_equal(b[i], 0xee);
	for (unsigned i = 150; i < sizeof(b); i++)
		assert_int_equal(b[i], at(1100 + i));
	for (unsigned i = 0; i < sizeof(c); i++)
		assert_int_equal(c[i], at(1300 + i));
	/* Everything done already: nothing to move. */
	assert_int_equal(block_rw_sync(fd, iov, 3, 1000, false, 600), 0);
}

static void test_write_from_skip(void **unused)
{
	uint8_t a[64], b[64], back[64];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	assert_int_equal(block_rw_sync(fd, iov, 2, 2048, true, 64), 0);
	assert_int_equal(pread(fd, back, sizeof(back), 2048), sizeof(back));
	assert_int_equal(back[0], at(2048)); /* the skipped segment was not written */
	assert_int_equal(pread(fd, back, sizeof(back), 2048 + 64), sizeof(back));
	for (unsigned i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 2);
}

static void test_end_of_file_is_eio(void **unused)
{
	uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };

	assert_int_equal(block_rw_sync(fd, &iov, 1, 4096 - 100, false, 0), -EIO);
	assert_int_equal(block_rw_sync(fd, &iov, 1, 8192, false, 0), -EIO);
	assert_int_equal(block_rw_sync(fd, &iov, -1, 0, false, 0), -EINVAL);
}

static void test_write_zeroes_and_discard(void **unused)
{
	atomic_bool no_zero = false, no_punch = false;
	uint8_t back[4096];
	int rc;

	assert_int_equal(block_write_zeroes(fd, &no_zero, 512, 1024), 0);
	/* Where ZERO_RANGE is missing, the fallback wrote them. */
	no_zero = true;
	assert_int_equal(block_write_zeroes(fd, &no_zero, 2048, 512), 0);
	assert_int_equal(pread(fd, back, sizeof(back), 0), sizeof(back));
	for (unsigned i = 512; i < 1536; i++)
		assert_int_equal(back[i], 0);
	for (unsigned i = 2048; i < 2560; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(back[1536], at(1536));
	rc = block_discard(fd, &no_punch, 0, 4096);
	assert_true(rc == 0 || (rc == -EOPNOTSUPP && no_punch));
	no_punch = true;
	assert_int_equal(block_discard(fd, &no_punch, 0, 4096), -EOPNOTSUPP);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_skip_across_segments),
		T(test_write_from_skip),
		T(test_end_of_file_is_eio),
		T(test_write_zeroes_and_discard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
