/* core/boot.c - put the boot payload in guest memory and set up vCPU 0.
 *
 * bzImage: Linux's x86 boot protocol (Documentation/arch/x86/boot.rst and
 * zero-page.rst), 64-bit flavour: the protected-mode code is loaded at the
 * kernel's pref_address, a struct boot_params ("zero page") is built from
 * the file's setup header, and the vCPU starts in long mode at the load
 * address + 0x200 with RSI pointing to the zero page.  The real-mode setup
 * code is never run.
 *
 * PVH: the ELF's XEN_ELFNOTE_PHYS32_ENTRY note gives a 32-bit entry point
 * entered in flat protected mode with paging off and EBX pointing to an
 * hvm_start_info (Xen's docs/misc/pvh.pandoc and public/arch-x86/hvm/
 * start_info.h).  Flat: raw bytes at load_address, entered in real mode.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/boot.h"
#include "core/file.h"
#include "core/log.h"
#include "core/machine-internal.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC 0x336ec578u

struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct pvh_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

#define E820_RAM 1
#define E820_RESERVED 2

struct payload {
	const char *path;
	uint8_t *data;
	size_t size;
};

static int read_payload(const char *path, struct payload *p)
{
	struct stat st;
	int fd = vmm_open_nowait(path, O_RDONLY); /* a FIFO must not block start-up */

	p->path = path;
	if (fd < 0) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	p->size = (size_t)st.st_size;
	p->data = malloc(p->size ? p->size : 1);
	if (!p->data) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < p->size) {
		ssize_t n = read(fd, p->data + got, p->size - got);
		if (n <= 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: read failed", path);
			close(fd);
			free(p->data);
			return -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

static int put(struct vmm_machine *m, const char *path, uint64_t gpa, const void *src, uint64_t len,
	       uint64_t zero_len)
{
	uint8_t *dst = vmm_machine_ram(m, gpa, (size_t)(len + zero_len));
	if (!dst || gpa < BOOT_LOW_RESERVED_END) {
		vmm_log(VMM_LOG_ERROR, NULL,
			"kernel %s: segment 0x%" PRIx64 "+0x%" PRIx64 " does not fit guest RAM "
			"(0x%x..0x%" PRIx64 ")", path, gpa, len + zero_len, BOOT_LOW_RESERVED_END,
			m->ram[0].size);
		return -ERANGE;
	}
	memcpy(dst, src, (size_t)len);
	memset(dst + len, 0, (size_t)zero_len);
	return 0;
}

/* ELF32 and ELF64 headers share the fields we need up to e_phoff's
 * width; read them through these accessors. */
struct elf_view {
	bool is64;
	uint64_t phoff;
	unsigned phnum, phentsize;
	uint16_t machine;
};

static int elf_view(const struct payload *p, struct elf_view *v)
{
	const unsigned char *id = p->data;
	if (p->size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (id[EI_DATA] != ELFDATA2LSB) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: big-endian ELF", p->path);
		return -EINVAL;
	}
	if (id[EI_CLASS] == ELFCLASS64 && p->size >= sizeof(Elf64_Ehdr)) {
		const Elf64_Ehdr *eh = (const void *)p->data;
		*v = (struct elf_view){ true, eh->e_phoff, eh->e_phnum, eh->e_phentsize, eh->e_machine };
		if (eh->e_phentsize != sizeof(Elf64_Phdr))
			goto bad;
	} else if (id[EI_CLASS] == ELFCLASS32 && p->size >= sizeof(Elf32_Ehdr)) {
		const Elf32_Ehdr *eh = (const void *)p->data;
		*v = (struct elf_view){ false, eh->e_phoff, eh->e_phnum, eh->e_phentsize, eh->e_machine };
		if (eh->e_phentsize != sizeof(Elf32_Phdr))
			goto bad;
	} else {
		goto bad;
	}
	if (v->machine != EM_386 && v->machine != EM_X86_64) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: ELF for machine %u, expected x86 (3) or x86-64 (62)",
			p->path, v->machine);
		return -EINVAL;
	}
	if (v->phoff > p->size || (uint64_t)v->phnum * v->phentsize > p->size - v->phoff)
		goto bad;
	return 0;
bad:
	vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: truncated or malformed ELF header", p->path);
	return -EINVAL;
}

struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static struct phdr elf_phdr(const struct payload *p, const struct elf_view *v, unsigned i)
{
	const uint8_t *at = p->data + v->phoff + (uint64_t)i * v->phentsize;
	if (v->is64) {
		const Elf64_Phdr *ph = (const void *)at;
		return (struct phdr){ ph->p_type, ph->p_offset, ph->p_paddr, ph->p_filesz, ph->p_memsz };
	}
	const Elf32_Phdr *ph = (const void *)at;
	return (struct phdr){ ph->p_type, ph->p_offset, ph->p_paddr, ph->p_filesz, ph->p_memsz };
}

/* Find the PVH entry in the PT_NOTE segments; 0 when there is none. */
static uint64_t pvh_entry(const struct payload *p, const struct elf_view *v)
{
	for (unsigned i = 0; i < v->phnum; i++) {
		struct phdr ph = elf_phdr(p, v, i);
		if (ph.type != PT_NOTE || ph.offset > p->size || ph.filesz > p->size - ph.offset)
			continue;
		uint64_t off = ph.offset, end = ph.offset + ph.filesz;
		/* Elf32_Nhdr and Elf64_Nhdr have the same layout. */
		while (end - off >= sizeof(Elf32_Nhdr)) {
			const Elf32_Nhdr *n = (const void *)(p->data + off);
			uint64_t name_off = off + sizeof(*n);
			uint64_t desc_off = name_off + ((n->n_namesz + 3ull) & ~3ull);
			uint64_t next = desc_off + ((n->n_descsz + 3ull) & ~3ull);
			if (next > end)
				break;
			if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
			    memcmp(p->data + name_off, "Xen", 4) == 0) {
				if (n->n_descsz == 4)
					return *(const uint32_t *)(p->data + desc_off);
				if (n->n_descsz == 8)
					return *(const uint64_t *)(p->data + desc_off);
			}
			off = next;
		}
	}
	return 0;
}

static void flat_segment(struct vmm_x86_segment *s, uint16_t sel, uint8_t type, bool code32)
{
	*s = (struct vmm_x86_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
				       .present = 1, .dpl = 0, .db = code32, .s = 1, .l = 0, .g = 1 };
}

/* ------------------------------------------------------------ shared */

/* The guest's memory map: low RAM, the legacy hole (EBDA, VGA, BIOS: ACPI
 * tables go there), the rest of RAM below 3 GiB, RAM above 4 GiB.  The
 * loader's own structures below 0x9fc00 are RAM: the kernel's to reuse. */
static unsigned memory_map(const struct vmm_machine *m, struct vmm_e820 map[4])
{
	unsigned n = 0;
	map[n++] = (struct vmm_e820){ 0, 0x9fc00, E820_RAM };
	map[n++] = (struct vmm_e820){ 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED };
	if (m->ram[0].size > 0x100000)
		map[n++] = (struct vmm_e820){ 0x100000, m->ram[0].size - 0x100000, E820_RAM };
	if (m->nram > 1)
		map[n++] = (struct vmm_e820){ m->ram[1].gpa, m->ram[1].size, E820_RAM };
	return n;
}

static uint64_t mib_up(uint64_t bytes)
{
	return (bytes + (1u << 20) - 1) >> 20;
}

int vmm_boot_place_initrd(uint64_t size, uint64_t top, uint64_t kernel, uint64_t kernel_end,
			  uint64_t *at, char *err, size_t errlen)
{
	uint64_t start = size <= top ? (top - size) & ~0xfffull : 0;

	if (size > top || start < kernel_end) {
		snprintf(err, errlen, "%" PRIu64 " MiB does not fit below 0x%" PRIx64 " with the kernel at "
			 "0x%" PRIx64 "..0x%" PRIx64 "; give the VM more memory", mib_up(size), top, kernel,
			 kernel_end);
		return -ENOSPC;
	}
	*at = start;
	return 0;
}

/* Size the config's initrd, place it below `top` above the kernel, and read
 * it into guest RAM.  *size is 0 when there is no initrd. */
static int load_initrd(struct vmm_machine *m, uint64_t top, uint64_t kernel, uint64_t kernel_end,
		       uint64_t *at, uint64_t *size)
{
	const char *path = m->cfg->initrd;
	char err[256];
	struct stat st;
	int rc = 0;

	*at = *size = 0;
	if (!path)
		return 0;
	int fd = vmm_open_nowait(path, O_RDONLY); /* a FIFO must not block start-up */
	if (fd < 0) {
		rc = -errno;
		vmm_log(VMM_LOG_ERROR, NULL, "initrd %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vmm_log(VMM_LOG_ERROR, NULL, "initrd %s: not a regular file", path);
		rc = -EINVAL;
		goto out_close;
	}
	if (st.st_size == 0) {
		vmm_log(VMM_LOG_ERROR, NULL, "initrd %s: empty file", path);
		rc = -EINVAL;
		goto out_close;
	}
	*size = (uint64_t)st.st_size;
	rc = vmm_boot_place_initrd(*size, top, kernel, kernel_end, at, err, sizeof(err));
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "initrd %s: %s", path, err);
		goto out_close;
	}
	uint8_t *dst = vmm_machine_ram(m, *at, (size_t)*size);
	for (uint64_t got = 0; got < *size;) {
		ssize_t r = read(fd, dst + got, (size_t)(*size - got));
		if (r <= 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "initrd %s: read failed%s%s", path, r ? ": " : "",
				r ? strerror(errno) : " (file shrank)");
			rc = -EIO;
			goto out_close;
		}
		got += (uint64_t)r;
	}
	vmm_log(VMM_LOG_DEBUG, NULL, "initrd %s: %" PRIu64 " bytes at 0x%" PRIx64, path, *size, *at);
out_close:
	close(fd);
	return rc;
}

/* ------------------------------------------------------------ bzImage */

/* Setup header fields: file offsets, the same in struct boot_params. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200          /* its second byte gives the header's end */
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_END 0x264       /* through init_size: protocol 2.10 */
#define HDR_MAX_END 0x290       /* struct boot_params' room for the header */

/* Other struct boot_params fields (zero-page.rst). */
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_MAX 128
#define ZP_SIZE 4096

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x0001
#define BOOT_FLAG_MAGIC 0xaa55
#define BZ_ENTRY64_OFFSET 0x200
#define BZ_HEAP_END 0xfe00      /* heap_end_ptr: unused by the 64-bit entry */

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

int vmm_bzimage_parse(const uint8_t *buf, size_t len, struct vmm_bzimage_info *out, char *err,
		      size_t errlen)
{
	struct vmm_bzimage_info bi = { 0 };

	if (len < HDR_MAGIC + 4 || memcmp(buf + HDR_MAGIC, "HdrS", 4) != 0) {
		snprintf(err, errlen, "not a bzImage (no \"HdrS\" at 0x202)");
		return -ENOEXEC;
	}
	if (len < HDR_VERSION + 2) {
		snprintf(err, errlen, "truncated bzImage: %zu bytes, the setup header alone needs more", len);
		return -EINVAL;
	}
	bi.version = rd16(buf + HDR_VERSION);
	if (bi.version < 0x020c) {
		snprintf(err, errlen, "boot protocol %u.%02u is too old: the 64-bit entry needs 2.12 or newer",
			 bi.version >> 8, bi.version & 0xff);
		return -EINVAL;
	}
	bi.hdr_end = HDR_MAGIC + (size_t)buf[HDR_JUMP + 1];
	if (bi.hdr_end < HDR_MIN_END || bi.hdr_end > HDR_MAX_END) {
		snprintf(err, errlen, "setup header ends at 0x%zx, expected 0x%x..0x%x", bi.hdr_end,
			 HDR_MIN_END, HDR_MAX_END);
		return -EINVAL;
	}
	if (len < bi.hdr_end) {
		snprintf(err, errlen, "truncated bzImage: %zu bytes, the setup header ends at 0x%zx", len,
			 bi.hdr_end);
		return -EINVAL;
	}
	if (rd16(buf + HDR_BOOT_FLAG) != BOOT_FLAG_MAGIC) {
		snprintf(err, errlen, "boot_flag at 0x1fe is 0x%04x, expected 0xaa55",
			 rd16(buf + HDR_BOOT_FLAG));
		return -EINVAL;
	}
	bi.setup_sects = buf[HDR_SETUP_SECTS] ? buf[HDR_SETUP_SECTS] : 4;
	bi.setup_size = (bi.setup_sects + 1ull) * 512;
	bi.kernel_size = (uint64_t)rd32(buf + HDR_SYSSIZE) * 16;
	if (len < bi.setup_size) {
		snprintf(err, errlen, "truncated bzImage: header says %" PRIu64 " bytes of setup code, file has %zu",
			 bi.setup_size, len);
		return -EINVAL;
	}
	if (bi.kernel_size == 0) {
		snprintf(err, errlen, "syssize is 0: no protected-mode code");
		return -EINVAL;
	}
	if (bi.kernel_size > len - bi.setup_size) {
		snprintf(err, errlen, "truncated bzImage: header says %" PRIu64 " bytes of protected-mode code, "
			 "file has %zu", bi.kernel_size, len - (size_t)bi.setup_size);
		return -EINVAL;
	}
	bi.loadflags = buf[HDR_LOADFLAGS];
	bi.xloadflags = rd16(buf + HDR_XLOADFLAGS);
	if (!(bi.xloadflags & XLF_KERNEL_64)) {
		snprintf(err, errlen, "no 64-bit entry point (XLF_KERNEL_64 clear in xloadflags 0x%x)",
			 bi.xloadflags);
		return -EINVAL;
	}
	if (!(bi.loadflags & LOADED_HIGH)) {
		snprintf(err, errlen, "a zImage (LOADED_HIGH clear in loadflags 0x%x): only bzImage is supported",
			 bi.loadflags);
		return -EINVAL;
	}
	bi.relocatable = buf[HDR_RELOCATABLE] != 0;
	bi.kernel_alignment = rd32(buf + HDR_KERNEL_ALIGNMENT);
	if (bi.relocatable && (bi.kernel_alignment < 0x1000 ||
			       (bi.kernel_alignment & (bi.kernel_alignment - 1)))) {
		snprintf(err, errlen, "kernel_alignment 0x%x is not a power of two of at least 4 KiB",
			 bi.kernel_alignment);
		return -EINVAL;
	}
	bi.pref_address = rd64(buf + HDR_PREF_ADDRESS);
	if (!bi.pref_address)
		bi.pref_address = 0x100000;
	bi.init_size = rd32(buf + HDR_INIT_SIZE);
	if (bi.init_size < bi.kernel_size)
		bi.init_size = bi.kernel_size;
	bi.initrd_addr_max = rd32(buf + HDR_INITRD_ADDR_MAX);
	if (!bi.initrd_addr_max)
		bi.initrd_addr_max = 0x37ffffff;
	bi.cmdline_size = rd32(buf + HDR_CMDLINE_SIZE);
	*out = bi;
	return 0;
}

int vmm_bzimage_place_kernel(const struct vmm_bzimage_info *bi, uint64_t ram_end, uint64_t *at,
			     char *err, size_t errlen)
{
	uint64_t align = bi->relocatable ? bi->kernel_alignment : 1;
	uint64_t a = bi->pref_address;

	if (a >= 0x100000 && a % align == 0 && a <= ram_end && bi->init_size <= ram_end - a) {
		*at = a;
		return 0;
	}
	if (bi->relocatable) {
		a = (0x100000 + align - 1) & ~(align - 1);
		if (a <= ram_end && bi->init_size <= ram_end - a) {
			*at = a;
			return 0;
		}
	}
	snprintf(err, errlen, "the kernel needs %" PRIu64 " MiB (init_size) from 0x%" PRIx64 " and guest RAM "
		 "below 4 GiB ends at 0x%" PRIx64 "; give the VM more memory", mib_up(bi->init_size), a,
		 ram_end);
	return -ENOSPC;
}

int vmm_bzimage_check_cmdline(const struct vmm_bzimage_info *bi, size_t len, char *err, size_t errlen)
{
	if (len > bi->cmdline_size || len >= BOOT_CMDLINE_MAX) {
		snprintf(err, errlen, "kernel command line is %zu bytes, the kernel takes at most %u "
			 "(cmdline_size)", len, bi->cmdline_size < BOOT_CMDLINE_MAX - 1 ?
			 bi->cmdline_size : BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	return 0;
}

int vmm_bzimage_zero_page(uint8_t zp[4096], const uint8_t *file, const struct vmm_bzimage_info *bi,
			  const struct vmm_bzimage_boot *b)
{
	if (b->ne820 > ZP_E820_MAX)
		return -E2BIG;
	memset(zp, 0, ZP_SIZE);
	memcpy(zp + HDR_SETUP_SECTS, file + HDR_SETUP_SECTS, bi->hdr_end - HDR_SETUP_SECTS);
	zp[HDR_TYPE_OF_LOADER] = 0xff; /* no assigned loader ID */
	zp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	wr16(zp + HDR_HEAP_END_PTR, BZ_HEAP_END);
	wr32(zp + HDR_CMD_LINE_PTR, (uint32_t)b->cmdline);
	wr32(zp + ZP_EXT_CMD_LINE_PTR, (uint32_t)(b->cmdline >> 32));
	wr32(zp + HDR_RAMDISK_IMAGE, (uint32_t)b->initrd);
	wr32(zp + ZP_EXT_RAMDISK_IMAGE, (uint32_t)(b->initrd >> 32));
	wr32(zp + HDR_RAMDISK_SIZE, (uint32_t)b->initrd_size);
	wr32(zp + ZP_EXT_RAMDISK_SIZE, (uint32_t)(b->initrd_size >> 32));
	wr64(zp + ZP_ACPI_RSDP_ADDR, b->rsdp);
	zp[ZP_E820_ENTRIES] = (uint8_t)b->ne820;
	for (unsigned i = 0; i < b->ne820; i++) {
		uint8_t *e = zp + ZP_E820_TABLE + 20 * i; /* packed {u64 addr, u64 size, u32 type} */
		wr64(e, b->e820[i].addr);
		wr64(e + 8, b->e820[i].size);
		wr32(e + 16, b->e820[i].type);
	}
	return 0;
}

/* Identity-map 0..4 GiB with 2 MiB pages (1 GiB pages need CPUID pdpe1gb). */
static void build_page_tables(struct vmm_machine *m)
{
	uint64_t *pml4 = vmm_machine_ram(m, BOOT_PML4, 0x1000);
	uint64_t *pdpt = vmm_machine_ram(m, BOOT_PDPT, 0x1000);
	uint64_t *pd = vmm_machine_ram(m, BOOT_PD, 4 * 0x1000);

	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = BOOT_PDPT | 0x3; /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD + i * 0x1000) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */
}

static int load_bzimage(struct vmm_machine *m, const struct payload *p)
{
	const struct vmm_machine_config *c = m->cfg;
	uint64_t ram_end = m->ram[0].size, at, initrd, initrd_size;
	struct vmm_bzimage_info bi;
	char err[256];
	int rc;

	rc = vmm_bzimage_parse(p->data, p->size, &bi, err, sizeof(err));
	if (rc == 0)
		rc = vmm_bzimage_place_kernel(&bi, ram_end, &at, err, sizeof(err));
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: %s", p->path, err);
		return rc;
	}
	const char *cmdline = c->cmdline ? c->cmdline : "";
	size_t clen = strlen(cmdline);
	rc = vmm_bzimage_check_cmdline(&bi, clen, err, sizeof(err));
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: %s", p->path, err);
		return rc;
	}
	memcpy(vmm_machine_ram(m, at, (size_t)bi.kernel_size), p->data + bi.setup_size,
	       (size_t)bi.kernel_size);
	memcpy(vmm_machine_ram(m, BOOT_CMDLINE, clen + 1), cmdline, clen + 1);

	uint64_t top = ram_end < bi.initrd_addr_max + 1 ? ram_end : bi.initrd_addr_max + 1;
	rc = load_initrd(m, top, at, at + bi.init_size, &initrd, &initrd_size);
	if (rc)
		return rc;

	struct vmm_e820 map[4];
	struct vmm_bzimage_boot b = { .cmdline = BOOT_CMDLINE, .initrd = initrd, .initrd_size = initrd_size,
				      .rsdp = m->boot_rsdp, .e820 = map, .ne820 = memory_map(m, map) };
	rc = vmm_bzimage_zero_page(vmm_machine_ram(m, BOOT_ZERO_PAGE, ZP_SIZE), p->data, &bi, &b);
	if (rc)
		return rc;
	m->boot_rsdp_field = BOOT_ZERO_PAGE + ZP_ACPI_RSDP_ADDR;

	/* The 64-bit entry wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
	static const uint64_t gdt[4] = { 0, 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull };
	memcpy(vmm_machine_ram(m, BOOT_GDT64, sizeof(gdt)), gdt, sizeof(gdt));
	build_page_tables(m);

	void *cpu = m->vcpus[0].hv;
	struct vmm_x86_sregs s;
	rc = m->hv_ops->vcpu_get_sregs(cpu, &s);
	if (rc)
		return rc;
	flat_segment(&s.cs, 0x10, 0xb, false);
	s.cs.l = 1;
	flat_segment(&s.ds, 0x18, 0x3, true);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.tr = (struct vmm_x86_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s.gdt = (struct vmm_x86_dtable){ BOOT_GDT64, sizeof(gdt) - 1 };
	s.idt = (struct vmm_x86_dtable){ 0, 0 };
	s.cr0 = 0x80050033; /* PG | AM | WP | NE | ET | MP | PE */
	s.cr3 = BOOT_PML4;
	s.cr4 = 0x20;       /* PAE */
	s.efer = 0x500;     /* LMA | LME */
	rc = m->hv_ops->vcpu_set_sregs(cpu, &s);
	if (rc)
		return rc;
	struct vmm_x86_regs r = { .rip = at + BZ_ENTRY64_OFFSET, .rsi = BOOT_ZERO_PAGE, .rflags = 2 };
	rc = m->hv_ops->vcpu_set_regs(cpu, &r);
	if (rc == 0)
		vmm_log(VMM_LOG_DEBUG, NULL, "kernel %s: bzImage protocol %u.%02u, %" PRIu64 " bytes at 0x%" PRIx64
			", entry 0x%" PRIx64, p->path, bi.version >> 8, bi.version & 0xff, bi.kernel_size, at,
			r.rip);
	return rc;
}

static int load_pvh(struct vmm_machine *m, const struct payload *p, const struct elf_view *v)
{
	uint64_t entry = pvh_entry(p, v);
	int rc;

	if (!entry) {
		vmm_log(VMM_LOG_ERROR, NULL,
			"kernel %s: ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
			"only PVH ELF kernels boot for now", p->path);
		return -ENOEXEC;
	}
	uint64_t kstart = UINT64_MAX, kend = 0;
	for (unsigned i = 0; i < v->phnum; i++) {
		struct phdr ph = elf_phdr(p, v, i);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.offset > p->size || ph.filesz > p->size - ph.offset || ph.filesz > ph.memsz) {
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: segment %u lies outside the file (truncated?)",
				p->path, i);
			return -EINVAL;
		}
		rc = put(m, p->path, ph.paddr, p->data + ph.offset, ph.filesz, ph.memsz - ph.filesz);
		if (rc)
			return rc;
		if (ph.paddr < kstart)
			kstart = ph.paddr;
		if (ph.paddr + ph.memsz > kend)
			kend = ph.paddr + ph.memsz;
	}
	if (kstart == UINT64_MAX)
		kstart = kend = BOOT_LOW_RESERVED_END;

	/* GDT: null, null, flat 32-bit code (0x10), flat data (0x18). */
	static const uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
	memcpy(vmm_machine_ram(m, BOOT_GDT, sizeof(gdt)), gdt, sizeof(gdt));

	struct vmm_e820 e820[4];
	struct pvh_memmap_entry map[4];
	unsigned n = memory_map(m, e820);
	for (unsigned i = 0; i < n; i++)
		map[i] = (struct pvh_memmap_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
	memcpy(vmm_machine_ram(m, BOOT_MEMMAP, sizeof(map)), map, n * sizeof(map[0]));

	const char *cmdline = m->cfg->cmdline ? m->cfg->cmdline : "";
	size_t clen = strlen(cmdline) + 1;
	if (clen > BOOT_CMDLINE_MAX) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel command line is %zu bytes, at most %d", clen - 1,
			BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	memcpy(vmm_machine_ram(m, BOOT_CMDLINE, clen), cmdline, clen);

	/* The initrd is module 0, above the kernel's highest segment. */
	uint64_t initrd, initrd_size;
	rc = load_initrd(m, m->ram[0].size, kstart, kend, &initrd, &initrd_size);
	if (rc)
		return rc;
	struct pvh_start_info si = { .magic = PVH_START_MAGIC, .version = 1, .cmdline_paddr = BOOT_CMDLINE,
				     .rsdp_paddr = m->boot_rsdp, .memmap_paddr = BOOT_MEMMAP,
				     .memmap_entries = n };
	if (initrd_size) {
		struct pvh_modlist_entry mod = { .paddr = initrd, .size = initrd_size };
		memcpy(vmm_machine_ram(m, BOOT_MODLIST, sizeof(mod)), &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_MODLIST;
	}
	memcpy(vmm_machine_ram(m, BOOT_START_INFO, sizeof(si)), &si, sizeof(si));
	m->boot_rsdp_field = BOOT_START_INFO + offsetof(struct pvh_start_info, rsdp_paddr);

	void *cpu = m->vcpus[0].hv;
	struct vmm_x86_sregs s;
	rc = m->hv_ops->vcpu_get_sregs(cpu, &s);
	if (rc)
		return rc;
	flat_segment(&s.cs, 0x10, 0xb, true);
	flat_segment(&s.ds, 0x18, 0x3, true);
	s.es = s.fs = s.gs = s.ss = s.ds;
	s.tr = (struct vmm_x86_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s.gdt = (struct vmm_x86_dtable){ BOOT_GDT, sizeof(gdt) - 1 };
	s.idt = (struct vmm_x86_dtable){ 0, 0 };
	s.cr0 = 0x11; /* PE | ET */
	s.cr3 = s.cr4 = 0;
	s.efer = 0;
	rc = m->hv_ops->vcpu_set_sregs(cpu, &s);
	if (rc)
		return rc;
	struct vmm_x86_regs r = { .rip = entry, .rbx = BOOT_START_INFO, .rflags = 2 };
	return m->hv_ops->vcpu_set_regs(cpu, &r);
}

static int load_flat(struct vmm_machine *m, const struct payload *p)
{
	uint64_t at = m->cfg->load_address;
	int rc;

	if (at > 0xffff) {
		vmm_log(VMM_LOG_ERROR, NULL, "flat binary %s: load-address 0x%" PRIx64 " is above 0xffff "
			"(flat binaries start in real mode at 0:load-address)", p->path, at);
		return -ERANGE;
	}
	uint8_t *dst = vmm_machine_ram(m, at, p->size);
	if (!dst) {
		vmm_log(VMM_LOG_ERROR, NULL, "flat binary %s: %zu bytes at 0x%" PRIx64 " do not fit guest RAM",
			p->path, p->size, at);
		return -ERANGE;
	}
	memcpy(dst, p->data, p->size);

	void *cpu = m->vcpus[0].hv;
	struct vmm_x86_sregs s;
	rc = m->hv_ops->vcpu_get_sregs(cpu, &s);
	if (rc)
		return rc;
	struct vmm_x86_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss };
	for (unsigned i = 0; i < 6; i++) {
		segs[i]->base = 0;
		segs[i]->selector = 0;
	}
	rc = m->hv_ops->vcpu_set_sregs(cpu, &s);
	if (rc)
		return rc;
	struct vmm_x86_regs r = { .rip = at, .rsp = at, .rflags = 2 };
	return m->hv_ops->vcpu_set_regs(cpu, &r);
}

/* Compressed files people pass by mistake (a gzip'd vmlinux, an initrd). */
static const char *compressed_kind(const struct payload *p)
{
	static const struct { const char *name; unsigned len; uint8_t magic[6]; } kinds[] = {
		{ "gzip", 2, { 0x1f, 0x8b } },
		{ "xz", 6, { 0xfd, '7', 'z', 'X', 'Z', 0 } },
		{ "zstd", 4, { 0x28, 0xb5, 0x2f, 0xfd } },
		{ "LZ4", 4, { 0x02, 0x21, 0x4c, 0x18 } },
		{ "bzip2", 3, { 'B', 'Z', 'h' } },
		{ "cpio", 6, { '0', '7', '0', '7', '0', '1' } },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (p->size >= kinds[i].len && memcmp(p->data, kinds[i].magic, kinds[i].len) == 0)
			return kinds[i].name;
	return NULL;
}

/*
 * With format = auto, a file that is neither an ELF nor a bzImage is taken
 * as a flat real-mode binary only when it could be one: it must end below
 * the legacy video and BIOS area at 0xA0000 that real-mode programs cannot
 * use as RAM, and must not be a compressed file.  Anything else is refused
 * rather than executed as garbage; format = "flat" skips the guess.
 */
static int flat_plausible(const struct vmm_machine *m, const struct payload *p)
{
	const char *kind = compressed_kind(p);

	if (kind) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: a %s-compressed file, neither an ELF nor a "
			"bzImage", p->path, kind);
		return -ENOEXEC;
	}
	if (m->cfg->load_address + p->size > 0xa0000) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: neither an ELF nor a bzImage, and at %zu bytes "
			"too large for a flat real-mode binary (set boot { format } to force one)",
			p->path, p->size);
		return -ENOEXEC;
	}
	return 0;
}

int vmm_boot_load(struct vmm_machine *m)
{
	const struct vmm_machine_config *c = m->cfg;
	struct payload p = { 0 };
	struct elf_view v;
	int rc;

	if (!c->kernel) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s: no boot payload: set boot { kernel = ... } or use --kernel",
			c->file);
		return -EINVAL;
	}
	rc = read_payload(c->kernel, &p);
	if (rc)
		return rc;
	int is_elf = elf_view(&p, &v);
	bool is_bz = p.size >= HDR_MAGIC + 4 && memcmp(p.data + HDR_MAGIC, "HdrS", 4) == 0;
	switch (c->format) {
	case VMM_BOOT_PVH:
		rc = is_elf == -ENOEXEC ? (vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: not an ELF file", p.path),
					   -ENOEXEC) : is_elf ? is_elf : load_pvh(m, &p, &v);
		break;
	case VMM_BOOT_BZIMAGE:
		rc = load_bzimage(m, &p); /* says "not a bzImage" without the magic */
		break;
	case VMM_BOOT_FLAT:
		rc = load_flat(m, &p);
		break;
	default:
		/* An ELF, then a bzImage, then a plausible flat binary. */
		if (is_elf == 0)
			rc = load_pvh(m, &p, &v);
		else if (is_elf != -ENOEXEC)
			rc = is_elf;
		else if (is_bz)
			rc = load_bzimage(m, &p);
		else if ((rc = flat_plausible(m, &p)) == 0)
			rc = load_flat(m, &p);
		break;
	}
	if (rc == 0 && c->initrd && (c->format == VMM_BOOT_FLAT || (c->format == VMM_BOOT_AUTO &&
								  is_elf != 0 && !is_bz))) {
		vmm_log(VMM_LOG_ERROR, NULL, "initrd %s: a flat binary takes no initrd", c->initrd);
		rc = -EINVAL;
	}
	free(p.data);
	return rc;
}

int vmm_boot_set_rsdp(struct vmm_machine *m, uint64_t rsdp)
{
	if (!rsdp)
		return -EINVAL;
	m->boot_rsdp = rsdp;
	if (m->boot_rsdp_field)
		memcpy(vmm_machine_ram(m, m->boot_rsdp_field, 8), &rsdp, 8);
	return 0;
}
