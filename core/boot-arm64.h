/* core/boot-arm64.h - placing an arm64 Linux kernel, its initrd and its
 * device tree in guest RAM (Documentation/arch/arm64/booting.rst).
 *
 * A pure function on buffers, so the rules are unit-tested without a
 * hypervisor (tests/unit/test_boot_arm64.c).  The arm64 boot path (issue
 * 10) reads the files, calls it, builds the device tree (core/fdt.c) at
 * dtb_gpa with the initrd range in /chosen, and starts vCPU 0 at
 * kernel_gpa with x0 = dtb_gpa. */
#ifndef VMM_CORE_BOOT_ARM64_H
#define VMM_CORE_BOOT_ARM64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* booting.rst: the device tree is 8-byte aligned and at most 2 MiB; the
 * kernel is text_offset bytes above a 2 MiB-aligned base. */
#define VMM_ARM64_DTB_MAX     (2u << 20)
#define VMM_ARM64_KERNEL_ALIGN (2u << 20)

struct vmm_arm64_boot {
	uint64_t kernel_gpa;  /* the Image's first byte: the entry point (PC) */
	uint64_t kernel_end;  /* kernel_gpa + image_size: its BSS included */
	uint64_t initrd_gpa;  /* 0 with no initrd */
	uint64_t initrd_size;
	uint64_t dtb_gpa;     /* where the device tree goes (x0) */
	uint64_t dtb_max;     /* the room there, at most VMM_ARM64_DTB_MAX */
};

/* True when @data starts like an arm64 Image (the "ARM\x64" magic at
 * 0x38, with or without an EFI stub's MZ header before it) or like gzip
 * (an Image.gz): what format = "auto" accepts on arm64. */
bool vmm_arm64_image_probe(const void *data, size_t len);

/*
 * Load the kernel @file (@len bytes: an Image, or a gzip-compressed one,
 * inflated with zlib) and the initrd (@initrd, @initrd_len; NULL/0 for
 * none) into @ram, the guest's RAM [@ram_base, @ram_base + @ram_size):
 * the kernel at the 2 MiB-aligned start of RAM plus its text_offset, its
 * BSS zeroed; the device tree's room at the top of RAM; the initrd right
 * below it.  Returns 0 with *out filled, or -1 with a one-line reason in
 * @err (no file name: the caller has it) and RAM unchanged.
 */
int vmm_arm64_load(const void *file, size_t len, const void *initrd, size_t initrd_len,
		   uint8_t *ram, uint64_t ram_base, uint64_t ram_size, struct vmm_arm64_boot *out,
		   char *err, size_t errlen);

#endif
