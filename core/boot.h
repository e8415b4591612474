/* core/boot.h - boot payloads: bzImage (64-bit boot protocol), PVH ELF and
 * flat real-mode binaries, and the initrd that goes with the first two.
 * Error convention: 0 or a negative errno; errors are logged naming the file.
 * The vmm_bzimage_* and vmm_boot_place_initrd() helpers work on buffers
 * only (no machine) and put one line, without the file name, in `err`. */
#ifndef VMM_CORE_BOOT_H
#define VMM_CORE_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/machine-config.h"

struct vmm_machine;

/* Guest-physical layout of what the loader writes below 1 MiB.  Every
 * address here is RAM in the guest's memory map (e820 / PVH memmap): the
 * kernel may reuse it once it has read its boot data.  0x30000..0x9fc00 is
 * left free; 0x9fc00..0x100000 is reported reserved (the place for ACPI
 * tables and the RSDP, e.g. 0xe0000..0xfffff). */
#define BOOT_GDT 0x500          /* PVH: null, null, code32 0x10, data 0x18 */
#define BOOT_GDT64 0x540        /* bzImage: null, null, code64 0x10, data 0x18 */
#define BOOT_START_INFO 0x6000  /* PVH hvm_start_info */
#define BOOT_MEMMAP 0x6040      /* PVH memory map, at most 4 entries */
#define BOOT_MODLIST 0x6100     /* PVH module list (the initrd), 1 entry */
#define BOOT_ZERO_PAGE 0x7000   /* bzImage struct boot_params, 4 KiB */
#define BOOT_PML4 0x9000        /* bzImage page tables: PML4, PDPT, 4 PDs of */
#define BOOT_PDPT 0xa000        /* 2 MiB pages identity-mapping 0..4 GiB */
#define BOOT_PD 0xb000          /* ..0xf000 */
#define BOOT_CMDLINE 0x20000    /* both: the command line, NUL-terminated */
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_LOW_RESERVED_END 0x30000 /* payloads may not load below this */

/* Load the config's kernel (and initrd) into guest RAM and set vCPU 0's
 * entry state.  A kernel file larger than guest RAM (for a flat binary: than
 * the low RAM from its load address to 0x9fc00) is refused before it is
 * read.  Every error is one log line naming the file. */
int vmm_boot_load(struct vmm_machine *m);

/* vmm_boot_load() on a kernel already in memory (`path` names it in
 * messages): the boot loaders proper, which the fuzz targets drive. */
int vmm_boot_load_image(struct vmm_machine *m, const char *path, const uint8_t *data, size_t size);

/* "auto", "pvh", "bzimage" or "flat" (vmm.conf's boot { format }, vmmctl
 * run --format); -EINVAL for anything else. */
int vmm_boot_format_parse(const char *name, enum vmm_boot_format *out);

/* Tell the guest where the ACPI RSDP is: boot_params.acpi_rsdp_addr for a
 * bzImage (honoured by kernels with boot protocol 2.14 or newer; older ones
 * find the RSDP by scanning 0xe0000..0xfffff), hvm_start_info.rsdp_paddr
 * for PVH.  May be called before or after vmm_boot_load(), but before the
 * vCPUs run.  Returns 0, or -EINVAL for rsdp 0. */
int vmm_boot_set_rsdp(struct vmm_machine *m, uint64_t rsdp);

/* What a bzImage's setup header says (Documentation/arch/x86/boot.rst). */
struct vmm_bzimage_info {
	uint16_t version;        /* boot protocol, e.g. 0x020f for 2.15 */
	unsigned setup_sects;    /* setup sectors after the boot sector (0 in the file means 4) */
	uint64_t setup_size;     /* (setup_sects + 1) * 512: file offset of the protected-mode code */
	uint64_t kernel_size;    /* bytes of protected-mode code (syssize * 16) */
	size_t hdr_end;          /* the setup header is file bytes 0x1f1 .. hdr_end */
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint64_t init_size;      /* memory the kernel needs from its load address */
	uint64_t initrd_addr_max; /* highest address the initrd's last byte may have */
	uint32_t cmdline_size;   /* longest command line, without the NUL */
};

/* -ENOEXEC: not a bzImage (no "HdrS" at 0x202); -EINVAL: a bzImage this
 * loader refuses (err says why). */
int vmm_bzimage_parse(const uint8_t *buf, size_t len, struct vmm_bzimage_info *out, char *err,
		      size_t errlen);

/* Where the protected-mode kernel goes: pref_address when it fits below
 * ram_end (and is aligned), else the lowest aligned address from 1 MiB for
 * a relocatable kernel.  -ENOSPC when init_size does not fit. */
int vmm_bzimage_place_kernel(const struct vmm_bzimage_info *bi, uint64_t ram_end, uint64_t *at,
			     char *err, size_t errlen);

/* -E2BIG when a command line of `len` bytes (no NUL) exceeds cmdline_size. */
int vmm_bzimage_check_cmdline(const struct vmm_bzimage_info *bi, size_t len, char *err, size_t errlen);

/* An initrd of `size` bytes, page-aligned as high as possible with its end
 * at or below `top`, not overlapping the kernel [kernel, kernel_end).
 * -ENOSPC when it does not fit. */
int vmm_boot_place_initrd(uint64_t size, uint64_t top, uint64_t kernel, uint64_t kernel_end,
			  uint64_t *at, char *err, size_t errlen);

struct vmm_e820 {
	uint64_t addr, size;
	uint32_t type; /* 1 RAM, 2 reserved */
};

/* What the loader chose, for the zero page. */
struct vmm_bzimage_boot {
	uint64_t cmdline, initrd, initrd_size, rsdp;
	const struct vmm_e820 *e820;
	unsigned ne820;
};

/* Fill a 4 KiB struct boot_params from the file's setup header and `b`.
 * -E2BIG for more than 128 e820 entries. */
int vmm_bzimage_zero_page(uint8_t zp[4096], const uint8_t *file, const struct vmm_bzimage_info *bi,
			  const struct vmm_bzimage_boot *b);

#endif
