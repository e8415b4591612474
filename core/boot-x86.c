/* core/boot-x86.c - put an x86 boot payload in guest memory and set up vCPU 0
 * (arm64's Image is core/boot-arm64.c).
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
 * start_info.h).  Flat: raw bytes at load_address, entered in real mode;
 * only with format = "flat", as nothing in such a file identifies it.
 *
 * Whatever the file, it is checked before it is believed: its size against
 * guest RAM before it is read, every header field against the file and the
 * guest's memory before anything is written, and each refusal is one error
 * line naming the file.
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
#include <time.h>
#include <unistd.h>

#include "core/boot.h"
#include "core/file.h"
#include "core/kernel-payload.h"
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

static uint64_t mib_up(uint64_t bytes);

/* Flat binaries run in real mode from low RAM: they must end where the
 * guest's memory map stops calling it RAM (0x9fc00, the EBDA, then VGA,
 * the ACPI tables at 0xe0000 and the BIOS area). */
#define FLAT_END 0x9fc00

static uint64_t ram_total(const struct vmm_machine *m)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < m->nram; i++)
		total += m->ram[i].size;
	return total;
}

/* Refuse a kernel file by its size alone, before a byte of it is read: a
 * file that cannot fit the guest's RAM cannot be loaded in any format, and
 * reading it (a 100 GB sparse file, say) would only cost time and memory.
 * A flat binary has the tighter bound of low RAM.  A vmlinux carrying debug
 * info can exceed the RAM its segments need: strip it (objcopy -S). */
static int check_payload_size(const struct vmm_machine *m, const char *path, uint64_t size)
{
	const struct vmm_machine_config *c = m->cfg;

	if (c->format == VMM_BOOT_FLAT && (c->load_address >= FLAT_END ||
					    size > FLAT_END - c->load_address)) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: a flat binary of %" PRIu64 " bytes at 0x%" PRIx64
			" runs past 0x%x, the end of the low RAM a real-mode program may use", path, size,
			c->load_address, FLAT_END);
		return -EFBIG;
	}
	if (size > ram_total(m)) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: the file is %" PRIu64 " MiB, more than the guest's "
			"%" PRIu64 " MiB of RAM", path, mib_up(size), mib_up(ram_total(m)));
		return -EFBIG;
	}
	return 0;
}

static int read_payload(const struct vmm_machine *m, const char *path, struct payload *p)
{
	struct stat st;
	int rc, fd = vmm_open_nowait(path, O_RDONLY); /* a FIFO must not block start-up */

	p->path = path;
	p->data = NULL;
	if (fd < 0) {
		rc = -errno;
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	rc = check_payload_size(m, path, (uint64_t)st.st_size);
	if (rc) {
		close(fd);
		return rc;
	}
	p->size = (size_t)st.st_size;
	p->data = malloc(p->size ? p->size : 1);
	if (!p->data) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: cannot allocate %zu bytes to read it", path, p->size);
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < p->size) {
		ssize_t n = read(fd, p->data + got, p->size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: read failed: %s", path,
				n ? strerror(errno) : "the file shrank while it was read");
			close(fd);
			free(p->data);
			p->data = NULL;
			return -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
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

static bool has_elf_magic(const struct payload *p)
{
	return p->size >= SELFMAG && memcmp(p->data, ELFMAG, SELFMAG) == 0;
}

/* -ENOEXEC without the ELF magic; a file that has it is an ELF, and one
 * too short for its header is a truncated ELF, not something else. */
static int elf_view(const struct payload *p, struct elf_view *v)
{
	const unsigned char *id = p->data;
	if (!has_elf_magic(p))
		return -ENOEXEC;
	if (p->size < EI_NIDENT)
		goto bad;
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
	unsigned index;
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static struct phdr elf_phdr(const struct payload *p, const struct elf_view *v, unsigned i)
{
	const uint8_t *at = p->data + v->phoff + (uint64_t)i * v->phentsize;
	Elf64_Phdr ph64;
	Elf32_Phdr ph32;
	/* memcpy: e_phoff need not be aligned in a hostile file. */
	if (v->is64) {
		memcpy(&ph64, at, sizeof(ph64));
		return (struct phdr){ i, ph64.p_type, ph64.p_offset, ph64.p_paddr, ph64.p_filesz, ph64.p_memsz };
	}
	memcpy(&ph32, at, sizeof(ph32));
	return (struct phdr){ i, ph32.p_type, ph32.p_offset, ph32.p_paddr, ph32.p_filesz, ph32.p_memsz };
}

/*
 * The PVH entry point: the XEN_ELFNOTE_PHYS32_ENTRY note (type 18, name
 * "Xen") in a PT_NOTE segment, whose descriptor is the 32-bit physical
 * address the kernel is entered at (Xen's docs/misc/pvh.pandoc; Linux's
 * arch/x86/platform/pvh/head.S emits it as a 4-byte value, other kernels as
 * 8).  Notes are padded to 4 bytes (ELF spec, "Note Section").  0 with the
 * entry, -ENOENT when there is no such note, -EINVAL for a broken one (after
 * logging it).
 */
static int pvh_entry(const struct payload *p, const struct elf_view *v, uint64_t *entry)
{
	for (unsigned i = 0; i < v->phnum; i++) {
		struct phdr ph = elf_phdr(p, v, i);
		if (ph.type != PT_NOTE || ph.offset > p->size || ph.filesz > p->size - ph.offset)
			continue;
		uint64_t off = ph.offset, end = ph.offset + ph.filesz;
		/* Elf32_Nhdr and Elf64_Nhdr have the same layout. */
		while (end - off >= sizeof(Elf32_Nhdr)) {
			Elf32_Nhdr n;
			memcpy(&n, p->data + off, sizeof(n));
			uint64_t name_off = off + sizeof(n);
			uint64_t desc_off = name_off + ((n.n_namesz + 3ull) & ~3ull);
			uint64_t next = desc_off + ((n.n_descsz + 3ull) & ~3ull);
			if (next > end)
				break;
			if (n.n_type == XEN_ELFNOTE_PHYS32_ENTRY && n.n_namesz == 4 &&
			    memcmp(p->data + name_off, "Xen", 4) == 0) {
				uint32_t e32;
				if (n.n_descsz == 4) {
					memcpy(&e32, p->data + desc_off, 4);
					*entry = e32;
				} else if (n.n_descsz == 8) {
					memcpy(entry, p->data + desc_off, 8);
				} else {
					vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: the PVH entry note "
						"(XEN_ELFNOTE_PHYS32_ENTRY) has a %u-byte value, expected 4 or 8",
						p->path, n.n_descsz);
					return -EINVAL;
				}
				return 0;
			}
			off = next;
		}
	}
	return -ENOENT;
}

/* A hypervisor that refuses vCPU 0's entry state: say so, naming the file. */
static int vcpu_failed(const struct payload *p, int rc)
{
	vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: cannot set vCPU 0's entry registers: %s", p->path,
		strerror(rc < 0 ? -rc : rc));
	return rc < 0 ? rc : -EIO;
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

/* boot.rst: cmdline_size (protocol 2.06+) is the longest command line the
 * kernel takes, without the terminating NUL; the loader's own room at
 * BOOT_CMDLINE bounds it too. */
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
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: %u e820 entries, the zero page holds %d", p->path,
			b.ne820, ZP_E820_MAX);
		return rc;
	}
	m->boot_rsdp_field = BOOT_ZERO_PAGE + ZP_ACPI_RSDP_ADDR;

	/* The 64-bit entry wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
	static const uint64_t gdt[4] = { 0, 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull };
	memcpy(vmm_machine_ram(m, BOOT_GDT64, sizeof(gdt)), gdt, sizeof(gdt));
	build_page_tables(m);

	void *cpu = m->vcpus[0].hv;
	struct vmm_x86_sregs s;
	rc = m->hv_ops->vcpu_get_sregs(cpu, &s);
	if (rc)
		return vcpu_failed(p, rc);
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
		return vcpu_failed(p, rc);
	struct vmm_x86_regs r = { .rip = at + BZ_ENTRY64_OFFSET, .rsi = BOOT_ZERO_PAGE, .rflags = 2 };
	rc = m->hv_ops->vcpu_set_regs(cpu, &r);
	if (rc)
		return vcpu_failed(p, rc);
	vmm_log(VMM_LOG_DEBUG, NULL, "kernel %s: bzImage protocol %u.%02u, %" PRIu64 " bytes at 0x%" PRIx64
		", entry 0x%" PRIx64, p->path, bi.version >> 8, bi.version & 0xff, bi.kernel_size, at, r.rip);
	return 0;
}

static int cmp_paddr(const void *a, const void *b)
{
	const struct phdr *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* What the PVH path itself writes, or the firmware area, that no PT_LOAD
 * segment may cover: the loader's boot data (GDT at 0x500, start info, memory
 * map and module list at 0x6000, the command line at 0x20000) and the
 * legacy area from 0x9fc00, where the ACPI tables (0xe0000) are already
 * built when the kernel is loaded; the memory map reports it reserved. */
static const struct { uint64_t start, end; const char *what; } pvh_reserved[] = {
	{ 0, BOOT_LOW_RESERVED_END, "the loader's boot data (GDT, start info, memory map, command line)" },
	{ 0x9fc00, 0x100000, "the EBDA, ACPI tables and BIOS area" },
};

/*
 * Check every PT_LOAD segment before anything is written: it lies in the
 * file (p_filesz <= p_memsz, ELF spec "Program Header"), in guest RAM, clear
 * of pvh_reserved and of every other segment (overlapping segments would
 * overwrite each other in an order the file does not define).  Returns the
 * segments sorted by address in *out (caller frees), their count in *n.
 */
static int pvh_segments(struct vmm_machine *m, const struct payload *p, const struct elf_view *v,
			struct phdr **out, unsigned *n)
{
	struct phdr *seg = calloc(v->phnum ? v->phnum : 1, sizeof(*seg));
	unsigned k = 0;

	if (!seg) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: out of memory", p->path);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < v->phnum; i++) {
		struct phdr ph = elf_phdr(p, v, i);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.offset > p->size || ph.filesz > p->size - ph.offset || ph.filesz > ph.memsz) {
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: segment %u lies outside the file (truncated?)",
				p->path, i);
			goto fail;
		}
		if (ph.memsz > SIZE_MAX || !vmm_machine_ram(m, ph.paddr, (size_t)ph.memsz)) {
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: segment %u at 0x%" PRIx64 "+0x%" PRIx64
				" does not fit guest RAM (0..0x%" PRIx64 ")", p->path, i, ph.paddr, ph.memsz,
				m->ram[0].size);
			goto fail;
		}
		for (size_t r = 0; r < sizeof(pvh_reserved) / sizeof(pvh_reserved[0]); r++) {
			if (ph.paddr < pvh_reserved[r].end && ph.paddr + ph.memsz > pvh_reserved[r].start) {
				vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: segment %u at 0x%" PRIx64 "+0x%" PRIx64
					" overlaps 0x%" PRIx64 "..0x%" PRIx64 ", %s", p->path, i, ph.paddr,
					ph.memsz, pvh_reserved[r].start, pvh_reserved[r].end, pvh_reserved[r].what);
				goto fail;
			}
		}
		seg[k++] = ph;
	}
	if (k == 0) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: ELF has no PT_LOAD segment: nothing to load", p->path);
		goto fail;
	}
	/* Sorted by start, two segments overlap only if some neighbours do. */
	qsort(seg, k, sizeof(*seg), cmp_paddr);
	for (unsigned i = 1; i < k; i++) {
		if (seg[i].paddr < seg[i - 1].paddr + seg[i - 1].memsz) {
			const struct phdr *x = &seg[i - 1], *y = &seg[i];
			if (x->index > y->index) {
				const struct phdr *t = x;
				x = y;
				y = t;
			}
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: segments %u (0x%" PRIx64 "+0x%" PRIx64 ") and "
				"%u (0x%" PRIx64 "+0x%" PRIx64 ") overlap", p->path, x->index, x->paddr, x->memsz,
				y->index, y->paddr, y->memsz);
			goto fail;
		}
	}
	*out = seg;
	*n = k;
	return 0;
fail:
	free(seg);
	return -EINVAL;
}

static int load_pvh(struct vmm_machine *m, const struct payload *p, const struct elf_view *v)
{
	uint64_t entry = 0;
	int rc = pvh_entry(p, v, &entry);

	if (rc == -ENOENT) {
		vmm_log(VMM_LOG_ERROR, NULL,
			"kernel %s: ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); "
			"only PVH ELF kernels boot for now", p->path);
		return -ENOEXEC;
	}
	if (rc)
		return rc;
	/* PVH enters in 32-bit protected mode with paging off: the entry is a
	 * physical address below 4 GiB, and 0 is no entry at all. */
	if (entry == 0 || entry > UINT32_MAX) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) gives "
			"entry point 0x%" PRIx64 ", %s", p->path, entry,
			entry ? "above 4 GiB (PVH starts in 32-bit mode)" : "which is no entry point");
		return -EINVAL;
	}
	const char *cmdline = m->cfg->cmdline ? m->cfg->cmdline : "";
	size_t clen = strlen(cmdline) + 1;
	/* PVH has no cmdline_size: the bound is the room the loader gives it. */
	if (clen > BOOT_CMDLINE_MAX) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: the command line is %zu bytes, a PVH kernel gets at "
			"most %d", p->path, clen - 1, BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}

	struct phdr *seg;
	unsigned nseg;
	rc = pvh_segments(m, p, v, &seg, &nseg);
	if (rc)
		return rc;
	bool entry_loaded = false;
	for (unsigned i = 0; i < nseg; i++)
		if (entry >= seg[i].paddr && entry - seg[i].paddr < seg[i].filesz)
			entry_loaded = true;
	if (!entry_loaded) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: the PVH entry point 0x%" PRIx64 " is not in the file "
			"bytes of any PT_LOAD segment", p->path, entry);
		free(seg);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nseg; i++) {
		uint8_t *dst = vmm_machine_ram(m, seg[i].paddr, (size_t)seg[i].memsz);
		memcpy(dst, p->data + seg[i].offset, (size_t)seg[i].filesz);
		memset(dst + seg[i].filesz, 0, (size_t)(seg[i].memsz - seg[i].filesz));
	}
	uint64_t kstart = seg[0].paddr, kend = 0;
	for (unsigned i = 0; i < nseg; i++)
		if (seg[i].paddr + seg[i].memsz > kend)
			kend = seg[i].paddr + seg[i].memsz;
	free(seg);

	/* GDT: null, null, flat 32-bit code (0x10), flat data (0x18). */
	static const uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
	memcpy(vmm_machine_ram(m, BOOT_GDT, sizeof(gdt)), gdt, sizeof(gdt));

	struct vmm_e820 e820[4];
	struct pvh_memmap_entry map[4];
	unsigned n = memory_map(m, e820);
	for (unsigned i = 0; i < n; i++)
		map[i] = (struct pvh_memmap_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
	memcpy(vmm_machine_ram(m, BOOT_MEMMAP, sizeof(map)), map, n * sizeof(map[0]));

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
		return vcpu_failed(p, rc);
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
		return vcpu_failed(p, rc);
	struct vmm_x86_regs r = { .rip = entry, .rbx = BOOT_START_INFO, .rflags = 2 };
	rc = m->hv_ops->vcpu_set_regs(cpu, &r);
	return rc ? vcpu_failed(p, rc) : 0;
}

/*
 * A flat binary is raw real-mode code with no header, so nothing in it says
 * what it is: it is booted only when the config asks for it (format =
 * "flat"), never guessed.  It has no boot protocol either, so no way to be
 * given a command line or an initrd: both are refused rather than dropped,
 * so that a wrong format or a forgotten option shows at once.
 */
static int load_flat(struct vmm_machine *m, const struct payload *p)
{
	const struct vmm_machine_config *c = m->cfg;
	uint64_t at = c->load_address;
	int rc;

	if (c->cmdline && c->cmdline[0]) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: a flat binary takes no command line (got %zu bytes; "
			"--cmdline \"\" clears the config's)", p->path, strlen(c->cmdline));
		return -EINVAL;
	}
	if (c->initrd) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: a flat binary takes no initrd (%s)", p->path, c->initrd);
		return -EINVAL;
	}
	if (at > 0xffff) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: load-address 0x%" PRIx64 " is above 0xffff "
			"(flat binaries start in real mode at 0:load-address)", p->path, at);
		return -ERANGE;
	}
	uint8_t *dst = p->size <= FLAT_END - at ? vmm_machine_ram(m, at, p->size) : NULL;
	if (!dst) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: a flat binary of %zu bytes at 0x%" PRIx64 " runs past "
			"0x%x, the end of the low RAM a real-mode program may use", p->path, p->size, at,
			FLAT_END);
		return -ERANGE;
	}
	memcpy(dst, p->data, p->size);

	void *cpu = m->vcpus[0].hv;
	struct vmm_x86_sregs s;
	rc = m->hv_ops->vcpu_get_sregs(cpu, &s);
	if (rc)
		return vcpu_failed(p, rc);
	struct vmm_x86_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss };
	for (unsigned i = 0; i < 6; i++) {
		segs[i]->base = 0;
		segs[i]->selector = 0;
	}
	rc = m->hv_ops->vcpu_set_sregs(cpu, &s);
	if (rc)
		return vcpu_failed(p, rc);
	struct vmm_x86_regs r = { .rip = at, .rsp = at, .rflags = 2 };
	rc = m->hv_ops->vcpu_set_regs(cpu, &r);
	return rc ? vcpu_failed(p, rc) : 0;
}

/*
 * boot { decompress = "host" }: a bzImage boots as the vmlinux inside it,
 * its payload decompressed here rather than by the kernel's own
 * decompressor in the guest, then booted through PVH, which every x86
 * Debian kernel supports (CONFIG_PVH).  Not the default: on the nested
 * test host (issue 16) it was slower, not faster — vmmctl's own
 * decompression there runs no faster than the guest's, and the guest
 * reached /init later through PVH than through the bzImage entry.
 * Returns 1 where it does not apply: decompress = "guest", an old boot
 * protocol, a codec this build lacks, a payload that is not a PVH ELF.  A
 * payload that does not decompress is an error: the guest's decompressor
 * would fail on it too, less clearly.
 */
static int load_bzimage_decompressed(struct vmm_machine *m, const struct payload *p)
{
	struct vmm_bzimage_info bi;
	const uint8_t *payload;
	size_t plen, elen;
	uint8_t *elf;
	char err[256];
	struct elf_view v;
	uint64_t entry;
	struct timespec t0, t1;
	int rc;

	if (m->cfg->decompress != VMM_DECOMPRESS_HOST ||
	    vmm_bzimage_parse(p->data, p->size, &bi, err, sizeof(err)))
		return 1;
	rc = vmm_bzimage_payload(p->data, p->size, bi.version, bi.setup_size, &payload, &plen, err,
				 sizeof(err));
	if (rc == -ENOENT)
		return 1;
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: %s", p->path, err);
		return rc;
	}
	const char *codec = vmm_payload_codec(payload, plen);
	if (!vmm_payload_codec_built(codec)) {
		vmm_log(VMM_LOG_DEBUG, NULL, "kernel %s: a %s payload, decompressed by the guest", p->path,
			codec ? codec : "unrecognised");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = vmm_payload_decompress(payload, plen, ram_total(m), &elf, &elen, err, sizeof(err));
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: its %s payload: %s", p->path, codec, err);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct payload e = { p->path, elf, elen };
	if (!has_elf_magic(&e) || elf_view(&e, &v) || pvh_entry(&e, &v, &entry)) {
		vmm_log(VMM_LOG_DEBUG, NULL, "kernel %s: the payload is no PVH ELF; the guest decompresses it",
			p->path);
		free(elf);
		return 1;
	}
	vmm_log(VMM_LOG_INFO, NULL, "kernel %s: a %s payload, %zu KiB of vmlinux in %.1f ms, booted "
		"through PVH", p->path, codec, elen >> 10,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	rc = load_pvh(m, &e, &v);
	free(elf);
	return rc;
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

static bool has_bzimage_magic(const struct payload *p)
{
	/* boot.rst: "HdrS" at 0x202 marks boot protocol 2.00 and newer. */
	return p->size >= HDR_MAGIC + 4 && memcmp(p->data + HDR_MAGIC, "HdrS", 4) == 0;
}

int vmm_boot_format_parse(const char *name, enum vmm_boot_format *out)
{
	static const struct { const char *name; enum vmm_boot_format f; } names[] = {
		{ "auto", VMM_BOOT_AUTO }, { "pvh", VMM_BOOT_PVH },
		{ "bzimage", VMM_BOOT_BZIMAGE }, { "flat", VMM_BOOT_FLAT },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -EINVAL;
}

int vmm_boot_load_image(struct vmm_machine *m, const char *path, const uint8_t *data, size_t size)
{
	const struct vmm_machine_config *c = m->cfg;
	struct payload p = { path, (uint8_t *)data, size };
	struct elf_view v;
	int rc;

	if (size == 0) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: empty file", path);
		return -ENOEXEC;
	}
	switch (c->format) {
	case VMM_BOOT_PVH:
		rc = elf_view(&p, &v);
		if (rc == -ENOEXEC)
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: not an ELF file (format = \"pvh\")", path);
		return rc ? rc : load_pvh(m, &p, &v);
	case VMM_BOOT_BZIMAGE:
		rc = load_bzimage_decompressed(m, &p);
		return rc <= 0 ? rc : load_bzimage(m, &p); /* says "not a bzImage" without the magic */
	case VMM_BOOT_FLAT:
		return load_flat(m, &p);
	default:
		break;
	}
	/* auto boots only what it identifies by its magic: an ELF (ELF spec
	 * e_ident) or a bzImage ("HdrS").  Garbage run as real-mode code spins
	 * or crashes the guest, so a flat binary must be asked for. */
	if (has_elf_magic(&p)) {
		rc = elf_view(&p, &v);
		return rc ? rc : load_pvh(m, &p, &v);
	}
	if (has_bzimage_magic(&p)) {
		rc = load_bzimage_decompressed(m, &p);
		return rc <= 0 ? rc : load_bzimage(m, &p);
	}
	const char *kind = compressed_kind(&p);
	if (kind)
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: a %s-compressed file, neither an ELF nor a bzImage",
			path, kind);
	else
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: neither an ELF nor a bzImage; a flat real-mode binary "
			"needs format = \"flat\" (vmmctl run --format flat)", path);
	return -ENOEXEC;
}

int vmm_boot_load(struct vmm_machine *m)
{
	const struct vmm_machine_config *c = m->cfg;
	struct payload p = { 0 };
	int rc;

	if (!c->kernel) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s: no boot payload: set boot { kernel = ... } or use --kernel",
			c->file);
		return -EINVAL;
	}
	rc = read_payload(m, c->kernel, &p);
	if (rc)
		return rc;
	rc = vmm_boot_load_image(m, c->kernel, p.data, p.size);
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
