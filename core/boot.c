/* core/boot.c - put the boot payload in guest memory and set up vCPU 0.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/boot.h"
#include "core/log.h"
#include "core/machine-internal.h"

/* Guest-physical layout of what the loader writes below 1 MiB. */
#define BOOT_GDT 0x500
#define BOOT_START_INFO 0x6000
#define BOOT_MEMMAP 0x6040
#define BOOT_CMDLINE 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_LOW_RESERVED_END 0x30000 /* payloads may not load below this */

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
	int fd = open(path, O_RDONLY | O_CLOEXEC);

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
	}

	/* GDT: null, null, flat 32-bit code (0x10), flat data (0x18). */
	static const uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
	memcpy(vmm_machine_ram(m, BOOT_GDT, sizeof(gdt)), gdt, sizeof(gdt));

	/* The memory map: low RAM, the legacy hole, the rest of RAM. */
	struct pvh_memmap_entry map[4];
	unsigned n = 0;
	map[n++] = (struct pvh_memmap_entry){ 0, 0x9fc00, E820_RAM, 0 };
	map[n++] = (struct pvh_memmap_entry){ 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED, 0 };
	if (m->ram[0].size > 0x100000)
		map[n++] = (struct pvh_memmap_entry){ 0x100000, m->ram[0].size - 0x100000, E820_RAM, 0 };
	if (m->nram > 1)
		map[n++] = (struct pvh_memmap_entry){ m->ram[1].gpa, m->ram[1].size, E820_RAM, 0 };
	memcpy(vmm_machine_ram(m, BOOT_MEMMAP, sizeof(map)), map, n * sizeof(map[0]));

	const char *cmdline = m->cfg->cmdline ? m->cfg->cmdline : "";
	size_t clen = strlen(cmdline) + 1;
	if (clen > BOOT_CMDLINE_MAX) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel command line is %zu bytes, at most %d", clen - 1,
			BOOT_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	memcpy(vmm_machine_ram(m, BOOT_CMDLINE, clen), cmdline, clen);

	struct pvh_start_info si = { .magic = PVH_START_MAGIC, .version = 1, .cmdline_paddr = BOOT_CMDLINE,
				     .rsdp_paddr = m->rsdp, .memmap_paddr = BOOT_MEMMAP,
				     .memmap_entries = n };
	memcpy(vmm_machine_ram(m, BOOT_START_INFO, sizeof(si)), &si, sizeof(si));

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
	switch (c->format) {
	case VMM_BOOT_PVH:
		rc = is_elf == -ENOEXEC ? (vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: not an ELF file", p.path),
					   -ENOEXEC) : is_elf ? is_elf : load_pvh(m, &p, &v);
		break;
	case VMM_BOOT_FLAT:
		rc = load_flat(m, &p);
		break;
	default:
		if (is_elf == 0)
			rc = load_pvh(m, &p, &v);
		else if (is_elf != -ENOEXEC)
			rc = is_elf;
		else if (p.size >= 0x206 && memcmp(p.data + 0x202, "HdrS", 4) == 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: bzImage is not supported yet; "
				"use the PVH ELF vmlinux", p.path);
			rc = -ENOEXEC;
		} else {
			rc = load_flat(m, &p);
		}
		break;
	}
	free(p.data);
	return rc;
}
