/* bzImage header checks, kernel and initrd placement and the zero page,
 * on crafted setup headers in memory (Linux's Documentation/arch/x86/
 * boot.rst and zero-page.rst give the offsets).  No machine, no KVM. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot.h"

#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define PAYLOAD 0x3000
#define IMAGE_SIZE (SETUP_SIZE + PAYLOAD)

static uint8_t img[IMAGE_SIZE];
static char err[256];

static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A good protocol 2.15 header: 64-bit, relocatable, 16 MiB preferred. */
static int setup_good(void **state)
{
	(void)state;
	memset(img, 0, sizeof(img));
	img[0x1f1] = SETUP_SECTS;
	wr32(img + 0x1f4, PAYLOAD / 16);   /* syssize */
	wr16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x268 - 0x202;        /* header ends at 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	wr16(img + 0x206, 0x020f);
	img[0x211] = 0x01;                 /* LOADED_HIGH */
	wr32(img + 0x22c, 0x7fffffff);     /* initrd_addr_max */
	wr32(img + 0x230, 0x200000);       /* kernel_alignment */
	img[0x234] = 1;                    /* relocatable */
	wr16(img + 0x236, 0x3);            /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	wr32(img + 0x238, 2047);           /* cmdline_size */
	wr64(img + 0x258, 0x1000000);      /* pref_address */
	wr32(img + 0x260, 0x800000);       /* init_size */
	err[0] = '\0';
	return 0;
}

static void expect_refused(size_t len, const char *what)
{
	struct vmm_bzimage_info bi;
	assert_int_equal(vmm_bzimage_parse(img, len, &bi, err, sizeof(err)), -EINVAL);
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not contain \"%s\"", err, what);
	assert_null(strchr(err, '\n'));
}

static void test_good_header(void **state)
{
	(void)state;
	struct vmm_bzimage_info bi;
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.version, 0x020f);
	assert_int_equal(bi.setup_sects, SETUP_SECTS);
	assert_int_equal(bi.setup_size, SETUP_SIZE);
	assert_int_equal(bi.kernel_size, PAYLOAD);
	assert_int_equal(bi.hdr_end, 0x268);
	assert_true(bi.relocatable);
	assert_int_equal(bi.kernel_alignment, 0x200000);
	assert_int_equal(bi.pref_address, 0x1000000);
	assert_int_equal(bi.init_size, 0x800000);
	assert_int_equal(bi.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bi.cmdline_size, 2047);
}

static void test_not_a_bzimage(void **state)
{
	(void)state;
	struct vmm_bzimage_info bi;
	memcpy(img + 0x202, "HdrX", 4);
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), -ENOEXEC);
	assert_int_equal(vmm_bzimage_parse(img, 0x100, &bi, err, sizeof(err)), -ENOEXEC);
}

static void test_old_protocol(void **state)
{
	(void)state;
	wr16(img + 0x206, 0x020a);
	expect_refused(sizeof(img), "boot protocol 2.10 is too old");
}

static void test_no_64bit_entry(void **state)
{
	(void)state;
	wr16(img + 0x236, 0x2);
	expect_refused(sizeof(img), "XLF_KERNEL_64");
}

static void test_truncated(void **state)
{
	(void)state;
	expect_refused(sizeof(img) - 16, "truncated bzImage: header says 12288 bytes of protected-mode code, "
			"file has 12272");
	expect_refused(SETUP_SIZE - 1, "truncated bzImage");
	expect_refused(0x240, "truncated bzImage");
}

static void test_bad_boot_flag(void **state)
{
	(void)state;
	wr16(img + 0x1fe, 0);
	expect_refused(sizeof(img), "boot_flag");
}

static void test_setup_sects_zero_means_4(void **state)
{
	(void)state;
	struct vmm_bzimage_info bi;
	img[0x1f1] = 0;
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	assert_int_equal(bi.setup_sects, 4);
	assert_int_equal(bi.setup_size, 5 * 512);
}

static void test_cmdline_size(void **state)
{
	(void)state;
	struct vmm_bzimage_info bi;
	wr32(img + 0x238, 10);
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	assert_int_equal(vmm_bzimage_check_cmdline(&bi, 10, err, sizeof(err)), 0);
	assert_int_equal(vmm_bzimage_check_cmdline(&bi, 11, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "11 bytes, the kernel takes at most 10"));
	/* a large cmdline_size is still bounded by the loader's buffer */
	wr32(img + 0x238, 0xffffffff);
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	assert_int_equal(vmm_bzimage_check_cmdline(&bi, BOOT_CMDLINE_MAX, err, sizeof(err)), -E2BIG);
}

static void test_place_kernel(void **state)
{
	(void)state;
	struct vmm_bzimage_info bi;
	uint64_t at;
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	assert_int_equal(vmm_bzimage_place_kernel(&bi, 64 << 20, &at, err, sizeof(err)), 0);
	assert_int_equal(at, 0x1000000);
	/* 20 MiB of RAM: pref_address + init_size does not fit; relocated to 2 MiB */
	assert_int_equal(vmm_bzimage_place_kernel(&bi, 20 << 20, &at, err, sizeof(err)), 0);
	assert_int_equal(at, 0x200000);
	/* not relocatable: only pref_address will do */
	img[0x234] = 0;
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	assert_int_equal(vmm_bzimage_place_kernel(&bi, 20 << 20, &at, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "give the VM more memory"));
}

static void test_place_initrd(void **state)
{
	(void)state;
	uint64_t at;
	/* as high as possible, page-aligned */
	assert_int_equal(vmm_boot_place_initrd(0x1801, 64 << 20, 0x1000000, 0x1800000, &at, err,
					       sizeof(err)), 0);
	assert_int_equal(at, (64 << 20) - 0x2000);
	/* it would overlap the kernel */
	assert_int_equal(vmm_boot_place_initrd(48 << 20, 64 << 20, 0x1000000, 0x1800000, &at, err,
					       sizeof(err)), -ENOSPC);
	assert_string_equal(err, "48 MiB does not fit below 0x4000000 with the kernel at "
			    "0x1000000..0x1800000; give the VM more memory");
	/* larger than all of RAM */
	assert_int_equal(vmm_boot_place_initrd(1ull << 32, 64 << 20, 0x1000000, 0x1800000, &at, err,
					       sizeof(err)), -ENOSPC);
}

static void test_zero_page(void **state)
{
	(void)state;
	struct vmm_bzimage_info bi;
	static uint8_t zp[4096];
	const struct vmm_e820 map[] = { { 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 },
					{ 0x100000, 0x3f00000, 1 } };
	struct vmm_bzimage_boot b = { .cmdline = 0x20000, .initrd = 0x3fe0000, .initrd_size = 0x12345,
				      .rsdp = 0xe0000, .e820 = map, .ne820 = 3 };
	assert_int_equal(vmm_bzimage_parse(img, sizeof(img), &bi, err, sizeof(err)), 0);
	memset(zp, 0x5a, sizeof(zp));
	assert_int_equal(vmm_bzimage_zero_page(zp, img, &bi, &b), 0);
	assert_int_equal(zp[0], 0);                       /* the rest is zeroed */
	assert_memory_equal(zp + 0x202, "HdrS", 4);       /* the header is copied */
	assert_int_equal(rd16(zp + 0x1fe), 0xaa55);
	assert_int_equal(rd64(zp + 0x258), 0x1000000);
	assert_int_equal(zp[0x268], 0);                   /* but not beyond its end */
	assert_int_equal(zp[0x210], 0xff);                /* type_of_loader */
	assert_int_equal(zp[0x211], 0x81);                /* LOADED_HIGH | CAN_USE_HEAP */
	assert_int_equal(rd16(zp + 0x224), 0xfe00);       /* heap_end_ptr */
	assert_int_equal(rd32(zp + 0x228), 0x20000);      /* cmd_line_ptr */
	assert_int_equal(rd32(zp + 0x218), 0x3fe0000);    /* ramdisk_image */
	assert_int_equal(rd32(zp + 0x21c), 0x12345);      /* ramdisk_size */
	assert_int_equal(rd32(zp + 0x0c0), 0);            /* ext_ramdisk_image */
	assert_int_equal(rd64(zp + 0x070), 0xe0000);      /* acpi_rsdp_addr */
	assert_int_equal(zp[0x1e8], 3);                   /* e820_entries */
	assert_int_equal(rd64(zp + 0x2d0 + 20 * 2), 0x100000);
	assert_int_equal(rd64(zp + 0x2d0 + 20 * 2 + 8), 0x3f00000);
	assert_int_equal(rd32(zp + 0x2d0 + 20 * 1 + 16), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_good_header, setup_good),
		cmocka_unit_test_setup(test_not_a_bzimage, setup_good),
		cmocka_unit_test_setup(test_old_protocol, setup_good),
		cmocka_unit_test_setup(test_no_64bit_entry, setup_good),
		cmocka_unit_test_setup(test_truncated, setup_good),
		cmocka_unit_test_setup(test_bad_boot_flag, setup_good),
		cmocka_unit_test_setup(test_setup_sects_zero_means_4, setup_good),
		cmocka_unit_test_setup(test_cmdline_size, setup_good),
		cmocka_unit_test_setup(test_place_kernel, setup_good),
		cmocka_unit_test_setup(test_place_initrd, setup_good),
		cmocka_unit_test_setup(test_zero_page, setup_good),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
