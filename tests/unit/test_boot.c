/* bzImage header checks, kernel and initrd placement and the zero page,
 * on crafted setup headers in memory (Linux's Documentation/arch/x86/
 * boot.rst and zero-page.rst give the offsets).  Then the loaders proper
 * (vmm_boot_load_image) on a fake machine (boot-machine.h): what format
 * "auto" refuses, PVH ELFs built here with overlapping or misplaced
 * segments and broken entry notes, command lines.  No KVM. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "core/boot.h"
#include "tests/unit/boot-machine.h"
#include "tests/unit/gzip-helper.h"

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

/* ------------------------------------------------- loaders on a machine */

#define RAM_SIZE (4u << 20)
#define ACPI_AREA 0x9fc00
#define ACPI_AREA_END 0x100000

static struct boot_machine *bm;
static char logged[4096]; /* what the last load() logged */

static int setup_machine(void **state)
{
	setup_good(state);
	bm = boot_machine_new(RAM_SIZE, VMM_BOOT_AUTO);
	assert_non_null(bm);
	/* what the firmware area holds when the kernel is loaded */
	memset(bm->m.ram[0].hva + ACPI_AREA, 0xac, ACPI_AREA_END - ACPI_AREA);
	return 0;
}

static int teardown_machine(void **state)
{
	(void)state;
	boot_machine_free(bm);
	bm = NULL;
	return 0;
}

/* vmm_boot_load_image() with stderr (the log) captured into `logged`. */
static int load(const void *data, size_t len)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	dup2(fileno(f), 2);
	int rc = vmm_boot_load_image(&bm->m, "k.img", data, len);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(logged, 1, sizeof(logged) - 1, f);
	logged[n] = '\0';
	fclose(f);
	return rc;
}

/* The load failed with one log line containing `what`, no vCPU state was
 * set and the firmware area is intact. */
static void expect_load_refused(const void *data, size_t len, const char *what)
{
	assert_int_not_equal(load(data, len), 0);
	if (!strstr(logged, what))
		fail_msg("log \"%s\" does not contain \"%s\"", logged, what);
	char *eol = strstr(logged, "\r\n");
	if (!eol || eol[2] != '\0')
		fail_msg("log \"%s\" is not one line", logged);
	assert_int_equal(bm->set_regs, 0);
	for (size_t i = ACPI_AREA; i < ACPI_AREA_END; i++)
		if (bm->m.ram[0].hva[i] != 0xac)
			fail_msg("firmware area byte 0x%zx was overwritten", i);
}

static void test_auto_refuses_unidentified(void **state)
{
	(void)state;
	static uint8_t rnd[4096];
	srand(9);
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)rand();
	const char *flat = "neither an ELF nor a bzImage; a flat real-mode binary needs format = \"flat\" "
			   "(vmmctl run --format flat)";
	expect_load_refused("", 0, "kernel k.img: empty file");
	expect_load_refused("x", 1, flat);
	expect_load_refused("\177ELF", 4, "kernel k.img: truncated or malformed ELF header");
	expect_load_refused(rnd, sizeof(rnd), flat);
	expect_load_refused(img, 0x204, flat);         /* cut inside "HdrS" */
	expect_load_refused(img, 0x268, "truncated bzImage: header says 2560 bytes of setup code");
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0 };
	expect_load_refused(gz, sizeof(gz), "a gzip-compressed file, neither an ELF nor a bzImage");
	bm->cfg.format = VMM_BOOT_FLAT;
	expect_load_refused("", 0, "kernel k.img: empty file");
}

static void test_flat(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xb0, 0x10, 0xe6, 0xf4, 0xf4 };
	bm->cfg.format = VMM_BOOT_FLAT;
	assert_int_equal(load(code, sizeof(code)), 0);
	assert_memory_equal(bm->m.ram[0].hva + 0x8000, code, sizeof(code));
	assert_int_equal(bm->regs.rip, 0x8000);
	assert_int_equal(bm->sregs.cs.selector, 0);
}

static void test_flat_takes_no_cmdline(void **state)
{
	(void)state;
	static const uint8_t code[] = { 0xf4 };
	bm->cfg.format = VMM_BOOT_FLAT;
	bm->cfg.cmdline = (char *)"console=ttyS0";
	expect_load_refused(code, 1, "kernel k.img: a flat binary takes no command line (got 13 bytes;");
	bm->cfg.cmdline = (char *)""; /* none */
	assert_int_equal(load(code, 1), 0);
	bm->cfg.cmdline = NULL;
}

static void test_flat_ends_below_ebda(void **state)
{
	(void)state;
	static uint8_t big[0x97c01];
	bm->cfg.format = VMM_BOOT_FLAT;
	expect_load_refused(big, sizeof(big), "a flat binary of 621569 bytes at 0x8000 runs past 0x9fc00");
	assert_int_equal(load(big, sizeof(big) - 1), 0);
}

/* An ELF32 x86 image: one PT_NOTE with the PVH entry note (4 bytes, or
 * `desc8` for 8), then PT_LOADs from `segs`, each segment's file bytes
 * 0x1000 apart from 0x1000 on, filled with 0x90 + its index. */
struct seg {
	uint32_t paddr, filesz, memsz;
};

static uint8_t elf[0x10000];

static size_t make_elf(uint64_t entry, bool desc8, const struct seg *segs, unsigned n)
{
	memset(elf, 0, sizeof(elf));
	Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf32_Ehdr), .e_ehsize = sizeof(Elf32_Ehdr),
			  .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = (uint16_t)(n + 1) };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(elf, &eh, sizeof(eh));

	const uint32_t note_off = 0x800;
	Elf32_Nhdr nh = { 4, desc8 ? 8 : 4, 18 /* XEN_ELFNOTE_PHYS32_ENTRY */ };
	memcpy(elf + note_off, &nh, sizeof(nh));
	memcpy(elf + note_off + 12, "Xen", 4);
	memcpy(elf + note_off + 16, &entry, desc8 ? 8 : 4);
	Elf32_Phdr ph = { .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = desc8 ? 24 : 20 };
	memcpy(elf + sizeof(eh), &ph, sizeof(ph));

	size_t end = 0x1000;
	for (unsigned i = 0; i < n; i++) {
		uint32_t off = 0x1000 * (i + 1);
		ph = (Elf32_Phdr){ .p_type = PT_LOAD, .p_offset = off, .p_vaddr = segs[i].paddr,
				   .p_paddr = segs[i].paddr, .p_filesz = segs[i].filesz,
				   .p_memsz = segs[i].memsz, .p_flags = PF_R | PF_X };
		memcpy(elf + sizeof(eh) + (i + 1) * sizeof(ph), &ph, sizeof(ph));
		assert_true(off + segs[i].filesz <= sizeof(elf));
		memset(elf + off, 0x90 + (int)i, segs[i].filesz);
		if (off + segs[i].filesz > end)
			end = off + segs[i].filesz;
	}
	return end;
}

static void test_pvh_loads(void **state)
{
	(void)state;
	const struct seg segs[] = { { 0x100000, 0x800, 0x1000 }, { 0x101000, 0x400, 0x400 } };
	size_t len = make_elf(0x100010, false, segs, 2);
	assert_int_equal(load(elf, len), 0);
	assert_int_equal(bm->regs.rip, 0x100010);
	assert_int_equal(bm->regs.rbx, BOOT_START_INFO);
	assert_int_equal(bm->m.ram[0].hva[0x100000], 0x90);
	assert_int_equal(bm->m.ram[0].hva[0x1007ff], 0x90);
	assert_int_equal(bm->m.ram[0].hva[0x100800], 0);      /* p_memsz beyond p_filesz: zeroed */
	assert_int_equal(bm->m.ram[0].hva[0x101000], 0x91);
	uint32_t magic;
	memcpy(&magic, bm->m.ram[0].hva + BOOT_START_INFO, 4);
	assert_int_equal(magic, 0x336ec578);
	/* the same with an 8-byte note value */
	len = make_elf(0x100010, true, segs, 2);
	assert_int_equal(load(elf, len), 0);
	assert_int_equal(bm->regs.rip, 0x100010);
}

static void test_pvh_overlapping_segments(void **state)
{
	(void)state;
	const struct seg segs[] = { { 0x200000, 0x100, 0x100 }, { 0x100000, 0x800, 0x2000 },
				    { 0x101800, 0x100, 0x100 } };
	size_t len = make_elf(0x100010, false, segs, 3);
	/* segment 2 (0x101800) lies in segment 1's p_memsz (its bss) */
	expect_load_refused(elf, len, "kernel k.img: segments 2 (0x100000+0x2000) and 3 (0x101800+0x100) "
			    "overlap");
	assert_int_equal(bm->m.ram[0].hva[0x100000], 0); /* nothing was loaded */
	/* the same start */
	const struct seg same[] = { { 0x100000, 0x100, 0x100 }, { 0x100000, 0x100, 0x100 } };
	len = make_elf(0x100010, false, same, 2);
	expect_load_refused(elf, len, "segments 1 (0x100000+0x100) and 2 (0x100000+0x100) overlap");
}

static void test_pvh_segment_over_loader_data(void **state)
{
	(void)state;
	/* the ACPI tables and BIOS area, 0x9fc00..0x100000 */
	const struct seg acpi[] = { { 0x100000, 0x100, 0x100 }, { 0xe0000, 0x100, 0x100 } };
	size_t len = make_elf(0x100010, false, acpi, 2);
	expect_load_refused(elf, len, "kernel k.img: segment 2 at 0xe0000+0x100 overlaps 0x9fc00..0x100000, "
			    "the EBDA, ACPI tables and BIOS area");
	/* ending just inside it */
	const struct seg edge[] = { { 0x9f000, 0xc01, 0xc01 } };
	len = make_elf(0x9f000, false, edge, 1);
	expect_load_refused(elf, len, "overlaps 0x9fc00..0x100000");
	/* the boot data: GDT, start info and memory map, the command line */
	const struct seg low[] = { { 0x6000, 0x100, 0x100 } };
	len = make_elf(0x6000, false, low, 1);
	expect_load_refused(elf, len, "segment 1 at 0x6000+0x100 overlaps 0x0..0x30000, the loader's boot "
			    "data (GDT, start info, memory map, command line)");
	const struct seg cmd[] = { { 0x2ff00, 0x100, 0x200 } };
	len = make_elf(0x2ff00, false, cmd, 1);
	expect_load_refused(elf, len, "overlaps 0x0..0x30000");
	/* right after both: fine */
	const struct seg ok[] = { { 0x30000, 0x100, 0x100 }, { 0x9f000, 0xc00, 0xc00 } };
	len = make_elf(0x30000, false, ok, 2);
	assert_int_equal(load(elf, len), 0);
}

static void test_pvh_segment_outside_ram(void **state)
{
	(void)state;
	const struct seg high[] = { { RAM_SIZE - 0x100, 0x100, 0x200 } };
	size_t len = make_elf(RAM_SIZE - 0x100, false, high, 1);
	expect_load_refused(elf, len, "segment 1 at 0x3fff00+0x200 does not fit guest RAM");
	const struct seg wrap[] = { { 0xfffff000, 0x100, 0x100 } };
	len = make_elf(0xfffff000, false, wrap, 1);
	expect_load_refused(elf, len, "does not fit guest RAM");
}

static void test_pvh_entry_note(void **state)
{
	(void)state;
	const struct seg segs[] = { { 0x100000, 0x100, 0x1000 } };
	size_t len = make_elf(0, false, segs, 1);
	expect_load_refused(elf, len, "kernel k.img: the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) gives entry "
			    "point 0x0, which is no entry point");
	len = make_elf(0x100100000ull, true, segs, 1);
	expect_load_refused(elf, len, "gives entry point 0x100100000, above 4 GiB (PVH starts in 32-bit mode)");
	/* in p_memsz but not in the file's bytes: zeroes */
	len = make_elf(0x100100, false, segs, 1);
	expect_load_refused(elf, len, "the PVH entry point 0x100100 is not in the file bytes of any PT_LOAD "
			    "segment");
	/* a note value of 2 bytes */
	len = make_elf(0x100010, false, segs, 1);
	elf[0x800 + 4] = 2;
	expect_load_refused(elf, len, "the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) has a 2-byte value, "
			    "expected 4 or 8");
	/* no note at all */
	len = make_elf(0x100010, false, segs, 1);
	elf[0x800 + 8] = 17;
	expect_load_refused(elf, len, "ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
}

static void test_pvh_no_load_segment(void **state)
{
	(void)state;
	size_t len = make_elf(0x100010, false, NULL, 0);
	expect_load_refused(elf, len, "kernel k.img: ELF has no PT_LOAD segment: nothing to load");
}

static void test_cmdline_too_long(void **state)
{
	(void)state;
	char *line = malloc(1 << 20 | 1);
	assert_non_null(line);
	memset(line, 'a', 1 << 20);
	line[1 << 20] = '\0';
	bm->cfg.cmdline = line;
	const struct seg segs[] = { { 0x100000, 0x100, 0x1000 } };
	size_t len = make_elf(0x100010, false, segs, 1);
	expect_load_refused(elf, len, "kernel k.img: the command line is 1048576 bytes, a PVH kernel gets at "
			    "most 65535");
	wr32(img + 0x260, 0x100000); /* init_size: 1 MiB, to fit in 4 MiB at 2 MiB */
	expect_load_refused(img, sizeof(img), "kernel k.img: kernel command line is 1048576 bytes, the kernel "
			    "takes at most 2047 (cmdline_size)");
	line[2047] = '\0';
	assert_int_equal(load(img, sizeof(img)), 0);
	line[65535] = '\0';
	assert_int_equal(load(elf, len), 0);
	bm->cfg.cmdline = NULL;
	free(line);
}

/* A bzImage whose payload is a gzip'd PVH ELF (every x86 Debian kernel's
 * shape, with xz or lz4): with boot { decompress = "host" } vmmctl
 * decompresses it and boots the ELF through PVH; by default it boots as a
 * bzImage; a payload that does not decompress is one clear line. */
static uint8_t bzpvh[SETUP_SIZE + sizeof(elf)];

static size_t make_bzimage_around_elf(size_t elf_len)
{
	size_t gz_len;
	uint8_t *gz = gzip_buffer(elf, elf_len, &gz_len);
	uint8_t *pm = bzpvh + SETUP_SIZE;

	assert_true(0x100 + gz_len <= sizeof(bzpvh) - SETUP_SIZE);
	memcpy(bzpvh, img, SETUP_SIZE);
	memcpy(pm + 0x100, gz, gz_len);	/* after the "decompressor" */
	free(gz);
	size_t pm_len = (0x100 + gz_len + 15) & ~(size_t)15;
	wr32(bzpvh + 0x1f4, (uint32_t)(pm_len / 16));	/* syssize */
	wr32(bzpvh + 0x248, 0x100);			/* payload_offset */
	wr32(bzpvh + 0x24c, (uint32_t)gz_len);		/* payload_length */
	wr32(bzpvh + 0x260, 0x100000);			/* init_size */
	return SETUP_SIZE + pm_len;
}

static void test_bzimage_payload_boots_through_pvh(void **state)
{
	(void)state;
	const struct seg segs[] = { { 0x100000, 0x800, 0x1000 } };
	size_t len = make_bzimage_around_elf(make_elf(0x100010, false, segs, 1));

	bm->cfg.decompress = VMM_DECOMPRESS_HOST;
	assert_int_equal(load(bzpvh, len), 0);
	assert_int_equal(bm->regs.rip, 0x100010);		/* the ELF's PVH entry */
	assert_int_equal(bm->regs.rbx, BOOT_START_INFO);
	assert_int_equal(bm->m.ram[0].hva[0x100000], 0x90);

	bm->cfg.decompress = VMM_DECOMPRESS_GUEST;
	memset(bm->m.ram[0].hva + 0x100000, 0, 0x1000);
	assert_int_equal(load(bzpvh, len), 0);
	assert_int_not_equal(bm->regs.rip, 0x100010);	/* the bzImage's 64-bit entry */
	assert_int_not_equal(bm->regs.rsi, 0);		/* the zero page */
}

static void test_bzimage_payload_corrupt(void **state)
{
	(void)state;
	const struct seg segs[] = { { 0x100000, 0x800, 0x1000 } };
	size_t len = make_bzimage_around_elf(make_elf(0x100010, false, segs, 1));

	bzpvh[SETUP_SIZE + 0x100 + 20] ^= 0xff;	/* inside the deflate stream */
	bm->cfg.decompress = VMM_DECOMPRESS_HOST;
	expect_load_refused(bzpvh, len, "kernel k.img: its gzip payload: gzip data");
}

/* A payload that is no PVH ELF (a kernel without CONFIG_PVH) is left to
 * the guest's decompressor. */
static void test_bzimage_payload_not_pvh(void **state)
{
	(void)state;
	const struct seg segs[] = { { 0x100000, 0x800, 0x1000 } };
	size_t elf_len = make_elf(0x100010, false, segs, 1);
	Elf32_Phdr ph;
	memcpy(&ph, elf + sizeof(Elf32_Ehdr), sizeof(ph));
	ph.p_type = PT_NULL;				/* no note segment */
	memcpy(elf + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	size_t len = make_bzimage_around_elf(elf_len);

	bm->cfg.decompress = VMM_DECOMPRESS_HOST;
	assert_int_equal(load(bzpvh, len), 0);
	assert_int_not_equal(bm->regs.rip, 0x100010);
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
		cmocka_unit_test_setup_teardown(test_auto_refuses_unidentified, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_flat, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_flat_takes_no_cmdline, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_flat_ends_below_ebda, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_pvh_loads, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_pvh_overlapping_segments, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_pvh_segment_over_loader_data, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_pvh_segment_outside_ram, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_bzimage_payload_boots_through_pvh, setup_machine,
						teardown_machine),
		cmocka_unit_test_setup_teardown(test_bzimage_payload_corrupt, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_bzimage_payload_not_pvh, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_pvh_entry_note, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_pvh_no_load_segment, setup_machine, teardown_machine),
		cmocka_unit_test_setup_teardown(test_cmdline_too_long, setup_machine, teardown_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
