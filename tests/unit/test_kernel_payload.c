/* core/kernel-payload.c: a bzImage's compressed payload found through its
 * setup header and decompressed with each codec this build has, against
 * data compressed here with the same libraries' encoders (and LZ4's legacy
 * framing written out by hand, as the kernel's `lz4 -l` writes it);
 * corrupt, truncated and oversized payloads are refused with a reason,
 * never a crash.  No KVM. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#ifdef HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HAVE_LZ4
#include <lz4.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "core/kernel-payload.h"
#include "tests/unit/gzip-helper.h"

static char err[256];

/* Kernel-like data: runs of code-like bytes and zeroes, 9 MiB so that an
 * LZ4 legacy frame needs two blocks (8 MiB each at most). */
#define DATA_SIZE (9u << 20)
static uint8_t *data;

static int setup(void **state)
{
	(void)state;
	data = malloc(DATA_SIZE);
	assert_non_null(data);
	uint32_t x = 12345;
	for (size_t i = 0; i < DATA_SIZE; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (i / 4096) % 3 == 0 ? 0 : (uint8_t)((x >> 16) & 0x1f);
	}
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(data);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* The kernel build's size_append: the decompressed size, 32-bit LE. */
static __attribute__((unused)) size_t size_append(uint8_t *buf, size_t len, uint32_t size)
{
	put32(buf + len, size);
	return len + 4;
}

static void expect_round_trip(const uint8_t *payload, size_t len, const char *codec)
{
	uint8_t *out;
	size_t out_len;

	assert_string_equal(vmm_payload_codec(payload, len), codec);
	assert_true(vmm_payload_codec_built(codec));
	int rc = vmm_payload_decompress(payload, len, 64u << 20, &out, &out_len, err, sizeof(err));
	if (rc)
		fail_msg("%s: %d: %s", codec, rc, err);
	assert_int_equal(out_len, DATA_SIZE);
	assert_memory_equal(out, data, DATA_SIZE);
	free(out);
}

/* Refused with a one-line reason containing `what`, and no buffer. */
static void expect_refused(const uint8_t *payload, size_t len, uint64_t max, int want, const char *what)
{
	uint8_t *out = (uint8_t *)1;
	size_t out_len;

	err[0] = '\0';
	assert_int_equal(vmm_payload_decompress(payload, len, max, &out, &out_len, err, sizeof(err)), want);
	assert_null(out);
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not contain \"%s\"", err, what);
	assert_null(strchr(err, '\n'));
}

/* A payload whose middle is overwritten (where the format has a check:
 * gzip's and xz's CRC32; LZ4's legacy frames have none), cut short with
 * its size trailer kept, or whose size trailer says one byte more or
 * less: each refused. */
static void expect_damage_refused(uint8_t *payload, size_t len, const char *codec, bool checked)
{
	uint8_t *copy = malloc(len);
	assert_non_null(copy);

	if (checked) {
		memcpy(copy, payload, len);
		memset(copy + len / 2, 0xa5, 64);
		expect_refused(copy, len, 64u << 20, -EINVAL, codec);
	}

	memcpy(copy, payload, len / 2);
	memcpy(copy + len / 2, payload + len - 4, 4);
	expect_refused(copy, len / 2 + 4, 64u << 20, -EINVAL, codec);

	memcpy(copy, payload, len);
	put32(copy + len - 4, DATA_SIZE - 1);
	expect_refused(copy, len, 64u << 20, -EINVAL, codec);
	put32(copy + len - 4, DATA_SIZE + 1);
	expect_refused(copy, len, 64u << 20, -EINVAL, codec);

	/* more than the guest's RAM */
	expect_refused(payload, len, DATA_SIZE - 1, -E2BIG, "RAM");
	free(copy);
}

static void test_gzip(void **state)
{
	(void)state;
	size_t len;
	uint8_t *gz = gzip_buffer(data, DATA_SIZE, &len);
	expect_round_trip(gz, len, "gzip");
	expect_damage_refused(gz, len, "gzip", true);
	free(gz);
}

static void test_xz(void **state)
{
	(void)state;
#ifdef HAVE_LZMA
	size_t cap = DATA_SIZE + 65536, len = 0;
	uint8_t *xz = malloc(cap + 4);
	assert_non_null(xz);
	/* the kernel's xz_wrap.sh: CRC32 check (its decoder has no SHA-256) */
	assert_int_equal(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, data, DATA_SIZE, xz, &len,
						 cap), LZMA_OK);
	len = size_append(xz, len, DATA_SIZE);
	expect_round_trip(xz, len, "xz");
	expect_damage_refused(xz, len, "xz", true);
	free(xz);
#else
	print_message("skipped: this build has no %s (its -dev package was not found)\n", "liblzma");
	skip();
#endif
}

static void test_lz4_legacy_frames(void **state)
{
	(void)state;
#ifdef HAVE_LZ4
	const size_t block = 8u << 20;
	size_t cap = 4 + 2 * (4 + (size_t)LZ4_compressBound((int)block)) + 4, len = 0;
	uint8_t *lz = malloc(cap);
	assert_non_null(lz);
	put32(lz, 0x184c2102);
	len = 4;
	for (size_t at = 0; at < DATA_SIZE; at += block) {
		size_t n = DATA_SIZE - at < block ? DATA_SIZE - at : block;
		int c = LZ4_compress_default((const char *)data + at, (char *)lz + len + 4, (int)n,
					     (int)(cap - len - 8));
		assert_true(c > 0);
		put32(lz + len, (uint32_t)c);
		len += 4 + (size_t)c;
	}
	len = size_append(lz, len, DATA_SIZE);
	expect_round_trip(lz, len, "lz4");
	expect_damage_refused(lz, len, "lz4", false);
	/* a block size that runs past the payload */
	put32(lz + 4, 0x7fffff00);
	expect_refused(lz, len, 64u << 20, -EINVAL, "runs past");
	free(lz);
#else
	print_message("skipped: this build has no %s (its -dev package was not found)\n", "liblz4");
	skip();
#endif
}

static void test_zstd(void **state)
{
	(void)state;
#ifdef HAVE_ZSTD
	size_t cap = ZSTD_compressBound(DATA_SIZE) + 4;
	uint8_t *zs = malloc(cap);
	assert_non_null(zs);
	size_t len = ZSTD_compress(zs, cap - 4, data, DATA_SIZE, 3);
	assert_false(ZSTD_isError(len));
	len = size_append(zs, len, DATA_SIZE);
	expect_round_trip(zs, len, "zstd");
	expect_damage_refused(zs, len, "zstd", false);
	free(zs);
#else
	print_message("skipped: this build has no %s (its -dev package was not found)\n", "libzstd");
	skip();
#endif
}

static void test_codecs_by_magic(void **state)
{
	(void)state;
	static const uint8_t bz2[] = "BZh91AY&SY", lzo[] = { 0x89, 'L', 'Z', 'O', 0, 0, 0, 0 },
			     lzma[] = { 0x5d, 0, 0, 0x80, 0, 0, 0, 0 }, junk[] = "not compressed";
	assert_string_equal(vmm_payload_codec(bz2, sizeof(bz2)), "bzip2");
	assert_string_equal(vmm_payload_codec(lzo, sizeof(lzo)), "lzo");
	assert_string_equal(vmm_payload_codec(lzma, sizeof(lzma)), "lzma");
	assert_null(vmm_payload_codec(junk, sizeof(junk)));
	assert_null(vmm_payload_codec(bz2, 2));	/* too short for its magic */
	/* codecs the kernel can use but vmmctl leaves to the guest */
	expect_refused(bz2, sizeof(bz2), 64u << 20, -ENOTSUP, "bzip2 payload");
	expect_refused(junk, sizeof(junk), 64u << 20, -ENOTSUP, "unrecognised payload");
	assert_false(vmm_payload_codec_built("bzip2"));
	assert_false(vmm_payload_codec_built(NULL));
}

static void test_tiny_and_empty_sizes(void **state)
{
	(void)state;
	static const uint8_t gz_magic_only[] = { 0x1f, 0x8b, 8, 0 };
	expect_refused(gz_magic_only, sizeof(gz_magic_only), 64u << 20, -EINVAL, "truncated");
	uint8_t zero_size[16] = { 0x1f, 0x8b, 8, 0 };
	expect_refused(zero_size, sizeof(zero_size), 64u << 20, -EINVAL, "nothing");
}

/* boot.rst: payload_offset (0x248) counts from the protected-mode code,
 * payload_length is 0x24c; both from protocol 2.08 on. */
static void test_payload_fields(void **state)
{
	(void)state;
	static uint8_t img[0x2000];
	const uint8_t *p;
	size_t len;

	memset(img, 0, sizeof(img));
	put32(img + 0x248, 0x100);
	put32(img + 0x24c, 0x200);
	assert_int_equal(vmm_bzimage_payload(img, sizeof(img), 0x020f, 0x1000, &p, &len, err, sizeof(err)), 0);
	assert_ptr_equal(p, img + 0x1100);
	assert_int_equal(len, 0x200);
	/* exactly to the end of the file */
	put32(img + 0x24c, 0xf00);
	assert_int_equal(vmm_bzimage_payload(img, sizeof(img), 0x020f, 0x1000, &p, &len, err, sizeof(err)), 0);
	/* one byte past it */
	put32(img + 0x24c, 0xf01);
	assert_int_equal(vmm_bzimage_payload(img, sizeof(img), 0x020f, 0x1000, &p, &len, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "outside"));
	put32(img + 0x248, 0xffffffff);
	assert_int_equal(vmm_bzimage_payload(img, sizeof(img), 0x020f, 0x1000, &p, &len, err, sizeof(err)),
			 -EINVAL);
	/* before 2.08 the fields do not exist; a zero length means none */
	assert_int_equal(vmm_bzimage_payload(img, sizeof(img), 0x0207, 0x1000, &p, &len, err, sizeof(err)),
			 -ENOENT);
	put32(img + 0x248, 0);
	put32(img + 0x24c, 0);
	assert_int_equal(vmm_bzimage_payload(img, sizeof(img), 0x020f, 0x1000, &p, &len, err, sizeof(err)),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lz4_legacy_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd, setup, teardown),
		cmocka_unit_test(test_codecs_by_magic),
		cmocka_unit_test(test_tiny_and_empty_sizes),
		cmocka_unit_test(test_payload_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
