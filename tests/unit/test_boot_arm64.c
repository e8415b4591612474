/* tests/unit/test_boot_arm64.c - the arm64 Image loader (core/boot-arm64.c)
 * on crafted images in a RAM buffer: placement by booting.rst's rules,
 * gzip-compressed images through zlib, and every refusal with RAM left
 * untouched. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/boot-arm64.h"
#include "tests/unit/gzip-helper.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (64ull << 20)
#define MiB (1ull << 20)

static uint8_t *ram;
static char err[512];
static struct vmm_arm64_boot b;

static int setup(void **state)
{
	ram = malloc(RAM_SIZE);
	assert_non_null(ram);
	memset(ram, 0xa5, RAM_SIZE); /* the loader must zero the BSS itself */
	err[0] = 0;
	memset(&b, 0, sizeof(b));
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An Image of @len bytes (at least the header), a byte pattern after the
 * header, with the given header fields. */
static uint8_t *make_image(size_t len, uint64_t text_offset, uint64_t image_size, uint64_t flags)
{
	uint8_t *p = calloc(1, len);

	assert_non_null(p);
	p[0] = 'M';
	p[1] = 'Z'; /* an EFI stub's header, as Debian's vmlinuz has */
	put64(p + 0x08, text_offset);
	put64(p + 0x10, image_size);
	put64(p + 0x18, flags);
	memcpy(p + 0x38, "ARM\x64", 4);
	for (size_t i = 64; i < len; i++)
		p[i] = (uint8_t)(i * 13 + 1);
	return p;
}

static uint8_t *at(uint64_t gpa)
{
	return ram + (gpa - RAM_BASE);
}

static int load(const void *file, size_t len, const void *initrd, size_t initrd_len)
{
	return vmm_arm64_load(file, len, initrd, initrd_len, ram, RAM_BASE, RAM_SIZE, &b, err,
			      sizeof(err));
}

static bool ram_untouched(void)
{
	for (size_t i = 0; i < RAM_SIZE; i += 4093)
		if (ram[i] != 0xa5)
			return false;
	return true;
}

/* Debian's layout: text_offset 0, flags 0xa (4K pages, anywhere in RAM),
 * image_size larger than the file by its BSS. */
static void test_image_placed_at_ram_base_with_bss_zeroed(void **state)
{
	size_t len = 1 * MiB;
	uint8_t *img = make_image(len, 0, 3 * MiB, 0xa);

	assert_int_equal(load(img, len, NULL, 0), 0);
	assert_int_equal(b.kernel_gpa, RAM_BASE);
	assert_int_equal(b.kernel_end, RAM_BASE + 3 * MiB);
	assert_memory_equal(at(b.kernel_gpa), img, len);
	for (uint64_t i = len; i < 3 * MiB; i += 511)
		assert_int_equal(at(b.kernel_gpa)[i], 0);
	/* the device tree: top 2 MiB of RAM, 8-byte (here 2 MiB) aligned */
	assert_int_equal(b.dtb_gpa, RAM_BASE + RAM_SIZE - 2 * MiB);
	assert_int_equal(b.dtb_max, 2 * MiB);
	assert_int_equal(b.initrd_gpa, 0);
	assert_int_equal(b.initrd_size, 0);
	free(img);
}

static void test_text_offset_from_the_2mib_base(void **state)
{
	uint8_t *img = make_image(4096, 0x80000, 1 * MiB, 0x2);

	assert_int_equal(load(img, 4096, NULL, 0), 0);
	assert_int_equal(b.kernel_gpa, RAM_BASE + 0x80000);
	assert_memory_equal(at(RAM_BASE + 0x80000), img, 4096);
	assert_int_equal(ram[0], 0xa5); /* below the kernel: not written */
	free(img);
}

/* RAM that does not start on a 2 MiB boundary: the base is rounded up. */
static void test_unaligned_ram_base_rounds_up(void **state)
{
	uint8_t *img = make_image(4096, 0, 1 * MiB, 0xa);

	assert_int_equal(vmm_arm64_load(img, 4096, NULL, 0, ram, RAM_BASE + 0x1000, RAM_SIZE - 0x1000, &b,
					err, sizeof(err)), 0);
	assert_int_equal(b.kernel_gpa, RAM_BASE + 2 * MiB);
	free(img);
}

/* booting.rst: before 3.17 image_size is 0 and text_offset is 0x80000. */
static void test_old_kernel_without_image_size(void **state)
{
	uint8_t *img = make_image(8192, 0x12345678, 0, 0);

	assert_int_equal(load(img, 8192, NULL, 0), 0);
	assert_int_equal(b.kernel_gpa, RAM_BASE + 0x80000);
	assert_int_equal(b.kernel_end, RAM_BASE + 0x80000 + 8192);
	free(img);
}

static void test_initrd_below_the_device_tree(void **state)
{
	uint8_t *img = make_image(4096, 0, 2 * MiB, 0xa);
	size_t rdlen = 5 * MiB + 123;
	uint8_t *rd = malloc(rdlen);

	for (size_t i = 0; i < rdlen; i++)
		rd[i] = (uint8_t)(i * 7);
	assert_int_equal(load(img, 4096, rd, rdlen), 0);
	assert_int_equal(b.initrd_size, rdlen);
	assert_int_equal(b.initrd_gpa & 0xfff, 0);
	assert_true(b.initrd_gpa >= b.kernel_end);
	assert_true(b.initrd_gpa + rdlen <= b.dtb_gpa);
	assert_true(b.dtb_gpa - (b.initrd_gpa + rdlen) < 4096);
	assert_memory_equal(at(b.initrd_gpa), rd, rdlen);
	free(rd);
	free(img);
}

static void test_gzip_image(void **state)
{
	size_t len = 2 * MiB + 100, zlen;
	uint8_t *img = make_image(len, 0, 4 * MiB, 0xa);
	uint8_t *z = gzip_buffer(img, len, &zlen);

	assert_true(vmm_arm64_image_probe(z, zlen));
	assert_int_equal(load(z, zlen, NULL, 0), 0);
	assert_int_equal(b.kernel_gpa, RAM_BASE);
	assert_memory_equal(at(RAM_BASE), img, len);
	assert_int_equal(at(RAM_BASE)[len], 0);
	free(z);
	free(img);
}

static void expect_refused(const void *file, size_t len, const void *rd, size_t rdlen,
			   const char *words)
{
	assert_int_equal(load(file, len, rd, rdlen), -1);
	if (!strstr(err, words))
		fail_msg("error '%s' does not say '%s'", err, words);
	assert_null(strchr(err, '\n'));
	assert_true(ram_untouched());
}

static void test_refusals(void **state)
{
	uint8_t junk[4096];
	uint8_t *img;

	memset(junk, 0x41, sizeof(junk));
	expect_refused(junk, 0, NULL, 0, "empty file");
	expect_refused(junk, 63, NULL, 0, "too short for an arm64 Image's 64-byte header");
	expect_refused(junk, sizeof(junk), NULL, 0, "no \"ARM\\x64\" magic at offset 0x38");
	assert_false(vmm_arm64_image_probe(junk, sizeof(junk)));

	img = make_image(4096, 0, 1 * MiB, 0xb);
	expect_refused(img, 4096, NULL, 0, "big-endian kernel");
	free(img);

	img = make_image(8192, 0, 4096, 0xa);
	expect_refused(img, 8192, NULL, 0, "longer than the image_size its header gives (4096)");
	free(img);

	img = make_image(4096, 3 * MiB, 1 * MiB, 0xa);
	expect_refused(img, 4096, NULL, 0, "text_offset 0x300000 is not an offset within a 2 MiB block");
	free(img);

	img = make_image(4096, 0, RAM_SIZE + 1, 0xa);
	expect_refused(img, 4096, NULL, 0, "more than the guest's 64 MiB of RAM");
	free(img);

	/* a kernel that fills RAM up to the device tree's 2 MiB */
	img = make_image(4096, 0, RAM_SIZE - 1 * MiB, 0xa);
	expect_refused(img, 4096, NULL, 0, "no room for the device tree above the kernel");
	free(img);

	/* an initrd that does not fit between kernel and device tree */
	img = make_image(4096, 0, 30 * MiB, 0xa);
	uint8_t *rd = calloc(1, 33 * MiB);
	expect_refused(img, 4096, rd, 33 * MiB, "the initrd (34603008 bytes) does not fit");
	free(rd);
	free(img);
}

static void test_gzip_refusals(void **state)
{
	size_t zlen;
	uint8_t *img = make_image(4096, 0, 1 * MiB, 0xa);
	uint8_t *z = gzip_buffer(img, 4096, &zlen);

	expect_refused(z, zlen / 2, NULL, 0, "truncated gzip data");
	z[zlen / 2] ^= 0xff;
	z[zlen / 2 + 1] ^= 0x55;
	expect_refused(z, zlen, NULL, 0, "gzip");
	free(z);

	/* gzip around something that is no Image */
	uint8_t junk[4096];
	memset(junk, 0x41, sizeof(junk));
	z = gzip_buffer(junk, sizeof(junk), &zlen);
	expect_refused(z, zlen, NULL, 0, "gzip data: not an arm64 Image");
	free(z);

	/* more than RAM once inflated: refused while inflating */
	size_t big = RAM_SIZE + 4096;
	uint8_t *zeros = calloc(1, big);
	memcpy(zeros, img, 64);
	z = gzip_buffer(zeros, big, &zlen);
	assert_true(zlen < 1 * MiB);
	expect_refused(z, zlen, NULL, 0, "inflates to more than the guest's 64 MiB of RAM");
	free(z);
	free(zeros);
	free(img);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_image_placed_at_ram_base_with_bss_zeroed),
		T(test_text_offset_from_the_2mib_base),
		T(test_unaligned_ram_base_rounds_up),
		T(test_old_kernel_without_image_size),
		T(test_initrd_below_the_device_tree),
		T(test_gzip_image),
		T(test_refusals),
		T(test_gzip_refusals),
	};
	return cmocka_run_group_tests_name("boot-arm64", tests, NULL, NULL);
}
