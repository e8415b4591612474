/* tests/unit/test_x86_walk.c - core/x86-walk.c: the code at CS:RIP found
 * in each x86 mode, through page tables built here in a fake guest RAM. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/x86-walk.h"

#define RAM_SIZE (8u << 20)
static uint8_t ram[RAM_SIZE];

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }

static void test_real_mode(void **state)
{
	struct vmm_x86_sregs s = { .cs = { .base = 0xf0000, .selector = 0xf000 } };
	uint8_t b[15];

	(void)state;
	memset(ram, 0, sizeof(ram));
	assert_int_equal(vmm_x86_code_linear(&s, 0xfff0), 0xffff0);
	s.cs.base = 0x800;
	memcpy(ram + 0x8005, "\xd9\x06\x00\x00\xf4", 5);
	assert_int_equal(vmm_x86_code_bytes(&s, 0x7805, ram_read, NULL, b, 5), 5);
	assert_memory_equal(b, "\xd9\x06\x00\x00\xf4", 5);
}

static void test_protected_flat_and_end_of_ram(void **state)
{
	struct vmm_x86_sregs s = { .cr0 = 1, .cs = { .db = 1 } };
	uint8_t b[15];

	(void)state;
	/* Three bytes before the end of RAM: three are shown. */
	assert_int_equal(vmm_x86_code_bytes(&s, RAM_SIZE - 3, ram_read, NULL, b, 15), 3);
	assert_int_equal(vmm_x86_code_bytes(&s, RAM_SIZE, ram_read, NULL, b, 15), -EFAULT);
}

static void test_32bit_paging(void **state)
{
	struct vmm_x86_sregs s = { .cr0 = 0x80000001, .cr3 = 0x100000, .cr4 = 0x10, .cs = { .db = 1 } };
	uint64_t pa;

	(void)state;
	memset(ram, 0, sizeof(ram));
	put32(0x100000 + 0x300 * 4, 0x101000 | 1);     /* 0xc0000000: a page table */
	put32(0x101000 + 0x12 * 4, 0x234000 | 1);      /* 0xc0012000 -> 0x234000 */
	put32(0x100000 + 0x1 * 4, 0x400000 | 0x81);    /* 0x00400000: a 4 MiB page */
	assert_int_equal(vmm_x86_translate(&s, 0xc0012345, ram_read, NULL, &pa), 0);
	assert_int_equal(pa, 0x234345);
	assert_int_equal(vmm_x86_translate(&s, 0x00412345, ram_read, NULL, &pa), 0);
	assert_int_equal(pa, 0x412345);
	assert_int_equal(vmm_x86_translate(&s, 0x80000000, ram_read, NULL, &pa), -EFAULT);
}

static void test_pae_paging(void **state)
{
	struct vmm_x86_sregs s = { .cr0 = 0x80000001, .cr3 = 0x100020, .cr4 = 0x20, .cs = { .db = 1 } };
	uint64_t pa;

	(void)state;
	memset(ram, 0, sizeof(ram));
	put64(0x100020 + 3 * 8, 0x102000 | 1);          /* PDPTE 3: 0xc0000000.. */
	put64(0x102000 + 1 * 8, 0x600000 | 0x81);       /* a 2 MiB page at 0xc0200000 */
	assert_int_equal(vmm_x86_translate(&s, 0xc0212345, ram_read, NULL, &pa), 0);
	assert_int_equal(pa, 0x612345);
}

static void test_long_mode(void **state)
{
	struct vmm_x86_sregs s = { .cr0 = 0x80000001, .cr3 = 0x100000, .cr4 = 0x20,
				   .efer = 0x500, .cs = { .l = 1, .base = 0x1234 } };
	uint64_t la = 0xffffffff81000010ull, pa;
	uint8_t b[4];

	(void)state;
	memset(ram, 0, sizeof(ram));
	assert_int_equal(vmm_x86_code_linear(&s, la), la); /* CS base ignored */
	put64(0x100000 + ((la >> 39) & 0x1ff) * 8, 0x101000 | 3);
	put64(0x101000 + ((la >> 30) & 0x1ff) * 8, 0x102000 | 3);
	put64(0x102000 + ((la >> 21) & 0x1ff) * 8, 0x103000 | 3);
	put64(0x103000 + ((la >> 12) & 0x1ff) * 8, 0x345000 | 3);
	memcpy(ram + 0x345010, "\x0f\x0b\x90\x90", 4);
	assert_int_equal(vmm_x86_translate(&s, la, ram_read, NULL, &pa), 0);
	assert_int_equal(pa, 0x345010);
	assert_int_equal(vmm_x86_code_bytes(&s, la, ram_read, NULL, b, 4), 4);
	assert_memory_equal(b, "\x0f\x0b\x90\x90", 4);
	/* A 1 GiB page at the PDPT. */
	put64(0x101000 + ((la >> 30) & 0x1ff) * 8, 0x40000000 | 0x83);
	assert_int_equal(vmm_x86_translate(&s, la, ram_read, NULL, &pa), 0);
	assert_int_equal(pa, 0x41000010);
	/* Page tables outside RAM. */
	s.cr3 = 0x10000000;
	assert_int_equal(vmm_x86_translate(&s, la, ram_read, NULL, &pa), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_mode),
		cmocka_unit_test(test_protected_flat_and_end_of_ram),
		cmocka_unit_test(test_32bit_paging),
		cmocka_unit_test(test_pae_paging),
		cmocka_unit_test(test_long_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
