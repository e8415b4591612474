/* tests/unit/test_block_uring.c - plugins/block-uring on its own: the
 * plugin is loaded from the build's plugin directory and driven through
 * its ops table with a small fake host (properties and a log), on image
 * files in $TMPDIR (a file system with O_DIRECT, for cache = "none").
 * Reads, writes, batches, flush, discard, write-zeroes, the errors it
 * reports and the short transfers it must finish or fail. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmm/vmm.h>

#define DISK (1u << 20)

static const struct vmm_plugin *desc;
static const struct vmm_block_backend_ops *ops;

struct fake_host {
	struct vmm_host h; /* first: the plugin's h points here */
	const char *path, *cache, *readonly;
	char last_error[512];
};

static void fake_log(const struct vmm_host *h, enum vmm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fake_log(const struct vmm_host *h, enum vmm_log_level level, const char *fmt, ...)
{
	struct fake_host *fh = (struct fake_host *)h;
	va_list ap;

	if (level != VMM_LOG_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(fh->last_error, sizeof(fh->last_error), fmt, ap);
	va_end(ap);
}

static const char *fake_prop_str(const struct vmm_host *h, const char *name)
{
	const struct fake_host *fh = (const struct fake_host *)h;

	if (strcmp(name, "path") == 0)
		return fh->path;
	if (strcmp(name, "cache") == 0)
		return fh->cache ? fh->cache : "writeback";
	return NULL;
}

static int fake_prop_bool(const struct vmm_host *h, const char *name, bool *out)
{
	const struct fake_host *fh = (const struct fake_host *)h;

	if (strcmp(name, "readonly"))
		return -ENOENT;
	*out = fh->readonly && strcmp(fh->readonly, "true") == 0;
	return 0;
}

static struct fake_host host;
static char image[4096];
static void *state;

/* A DISK-byte image whose every byte is (offset / 512) & 0xff. */
static void make_image(void)
{
	static uint8_t buf[DISK];
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int fd;

	for (unsigned i = 0; i < DISK; i++)
		buf[i] = (uint8_t)(i / 512);
	snprintf(image, sizeof(image), "%s/test-block-uring.XXXXXX", dir);
	fd = mkstemp(image);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, DISK), DISK);
	close(fd);
}

static int open_with(const char *cache, const char *readonly)
{
	memset(&host, 0, sizeof(host));
	host.h.size = sizeof(host.h);
	host.h.abi_minor = VMM_ABI_MINOR;
	host.h.log = fake_log;
	host.h.prop_str = fake_prop_str;
	host.h.prop_bool = fake_prop_bool;
	host.path = image;
	host.cache = cache;
	host.readonly = readonly;
	state = NULL;
	return ops->base.open(&host.h, &state);
}

static int setup(void **unused)
{
	make_image();
	return 0;
}

static int teardown(void **unused)
{
	if (state)
		ops->base.close(state);
	state = NULL;
	unlink(image);
	return 0;
}

static void check_pattern(const uint8_t *p, uint64_t offset, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)((offset + i) / 512))
			fail_msg("byte %zu of a read at %llu is 0x%02x", i, (unsigned long long)offset, p[i]);
}

static void test_info(void **unused)
{
	struct vmm_block_info info = { .size = sizeof(info) };

	assert_int_equal(open_with(NULL, NULL), 0);
	ops->info(state, &info);
	assert_int_equal(info.bytes, DISK);
	assert_int_equal(info.flags, VMM_BLOCK_DISCARD | VMM_BLOCK_WRITE_ZEROES);
}

/* A read split over three segments, then a write and its read-back. */
static void rw_round(void)
{
	static uint8_t a[512], b[1024], c[512], w[4096];
	struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec wv = { w, sizeof(w) };

	assert_int_equal(ops->readv(state, iov, 3, 8192), 0);
	check_pattern(a, 8192, sizeof(a));
	check_pattern(b, 8192 + 512, sizeof(b));
	check_pattern(c, 8192 + 1536, sizeof(c));
	memset(w, 0xa5, sizeof(w));
	assert_int_equal(ops->writev(state, &wv, 1, 65536), 0);
	memset(w, 0, sizeof(w));
	assert_int_equal(ops->readv(state, &wv, 1, 65536), 0);
	for (size_t i = 0; i < sizeof(w); i++)
		assert_int_equal(w[i], 0xa5);
}

static void test_read_write(void **unused)
{
	assert_int_equal(open_with(NULL, NULL), 0);
	rw_round();
	assert_int_equal(ops->flush(state), 0);
}

/* 32 writes, then 32 reads of the same blocks, each as one batch. */
static void batch_round(void)
{
	static uint8_t buf[32][4096] __attribute__((aligned(4096)));
	struct vmm_block_req reqs[32];
	struct iovec iov[32];
	int results[32];

	for (int i = 0; i < 32; i++) {
		memset(buf[i], 0x40 + i, sizeof(buf[i]));
		iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
		/* Every other block, backwards: nothing depends on order. */
		reqs[i] = (struct vmm_block_req){ .op = VMM_BLOCK_OP_WRITE, .iovcnt = 1, .iov = &iov[i],
						  .offset = (uint64_t)(62 - 2 * i) * 4096 };
		results[i] = 99;
	}
	ops->submit(state, reqs, results, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(results[i], 0);
	for (int i = 0; i < 32; i++) {
		memset(buf[i], 0, sizeof(buf[i]));
		reqs[i].op = VMM_BLOCK_OP_READ;
		results[i] = 99;
	}
	ops->submit(state, reqs, results, 32);
	for (int i = 0; i < 32; i++) {
		assert_int_equal(results[i], 0);
		for (size_t k = 0; k < sizeof(buf[i]); k++)
			assert_int_equal(buf[i][k], 0x40 + i);
	}
}

static void test_batch(void **unused)
{
	assert_int_equal(open_with(NULL, NULL), 0);
	batch_round();
}

/* O_DIRECT: aligned requests go direct, a misaligned one through the
 * page cache; both give the same data.  On a file system without direct
 * I/O the open fails with the one line naming O_DIRECT. */
static void test_cache_none(void **unused)
{
	static uint8_t odd[1000];
	struct iovec iov = { odd + 1, 700 };
	int rc = open_with("none", NULL);

	if (rc == -EINVAL) {
		assert_non_null(strstr(host.last_error, "O_DIRECT"));
		skip();
	}
	assert_int_equal(rc, 0);
	rw_round();
	/* Unaligned in memory, length and offset (and clear of the blocks
	 * the rounds write). */
	assert_int_equal(ops->readv(state, &iov, 1, 300000 + 1), 0);
	check_pattern(odd + 1, 300000 + 1, 700);
	batch_round();
	assert_int_equal(ops->flush(state), 0);
}

static void test_discard_and_zeroes(void **unused)
{
	static uint8_t buf[8192];
	struct iovec iov = { buf, sizeof(buf) };
	int rc;

	assert_int_equal(open_with(NULL, NULL), 0);
	assert_int_equal(ops->write_zeroes(state, 4096, 8192), 0);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(ops->readv(state, &iov, 1, 4096), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	rc = ops->discard(state, 32768, 8192);
	if (rc == -EOPNOTSUPP)
		return; /* a hint the file system may not take */
	assert_int_equal(rc, 0);
	assert_int_equal(ops->readv(state, &iov, 1, 32768), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

static void test_readonly(void **unused)
{
	static uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct vmm_block_req req = { .op = VMM_BLOCK_OP_WRITE, .iovcnt = 1, .iov = &iov };
	struct vmm_block_info info = { .size = sizeof(info) };
	int result;

	assert_int_equal(open_with(NULL, "true"), 0);
	ops->info(state, &info);
	assert_int_equal(info.flags, VMM_BLOCK_READONLY);
	assert_int_equal(ops->writev(state, &iov, 1, 0), -EROFS);
	ops->submit(state, &req, &result, 1);
	assert_int_equal(result, -EROFS);
	assert_int_equal(ops->discard(state, 0, 512), -EROFS);
	assert_int_equal(ops->write_zeroes(state, 0, 512), -EROFS);
	assert_int_equal(ops->readv(state, &iov, 1, 512), 0);
	check_pattern(buf, 512, sizeof(buf));
}

static void test_open_errors(void **unused)
{
	char missing[4200];

	snprintf(missing, sizeof(missing), "%s.missing", image);
	assert_int_equal(open_with(NULL, NULL), 0);
	ops->base.close(state);
	state = NULL;
	host.path = missing;
	assert_int_equal(ops->base.open(&host.h, &state), -ENOENT);
	assert_non_null(strstr(host.last_error, "cannot open"));
	assert_null(state);
	host.path = NULL;
	assert_int_equal(ops->base.open(&host.h, &state), -EINVAL);
	assert_string_equal(host.last_error, "property 'path' is not set");
	host.path = "/";
	assert_int_equal(ops->base.open(&host.h, &state), -EISDIR);
}

/* The image shrinks under the open disk: a read reaching past the new end
 * comes back short, and the backend, unable to finish it, fails it with
 * EIO; a read wholly past the end likewise.  One in a batch fails alone. */
static void test_short_io(void **unused)
{
	static uint8_t buf[3][8192];
	struct iovec iov[3] = { { buf[0], 8192 }, { buf[1], 8192 }, { buf[2], 8192 } };
	struct vmm_block_req reqs[3] = {
		{ .op = VMM_BLOCK_OP_READ, .iovcnt = 1, .iov = &iov[0], .offset = 0 },
		{ .op = VMM_BLOCK_OP_READ, .iovcnt = 1, .iov = &iov[1], .offset = DISK / 2 - 4096 },
		{ .op = VMM_BLOCK_OP_READ, .iovcnt = 1, .iov = &iov[2], .offset = DISK / 2 + 8192 },
	};
	int results[3];

	assert_int_equal(open_with(NULL, NULL), 0);
	assert_int_equal(truncate(image, DISK / 2), 0);
	assert_int_equal(ops->readv(state, &iov[1], 1, DISK / 2 - 4096), -EIO);
	assert_int_equal(ops->readv(state, &iov[2], 1, DISK / 2 + 8192), -EIO);
	ops->submit(state, reqs, results, 3);
	assert_int_equal(results[0], 0);
	check_pattern(buf[0], 0, 8192);
	assert_int_equal(results[1], -EIO);
	assert_int_equal(results[2], -EIO);
}

int main(void)
{
	const char *dir = getenv("VMM_PLUGIN_PATH");
	char path[4096];
	void *so;

	snprintf(path, sizeof(path), "%s/block-uring.so", dir);
	so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "test_block_uring: %s\n", dlerror());
		return 1;
	}
	const struct vmm_plugin *(*entry)(void) =
		(const struct vmm_plugin *(*)(void))dlsym(so, VMM_PLUGIN_ENTRY_SYMBOL);
	if (!entry)
		return 1;
	desc = entry();
	ops = desc->ops;

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_and_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_io, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
