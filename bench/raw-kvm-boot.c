/* bench/raw-kvm-boot.c - the start-up floor: the least a program must do to
 * run tests/guests/hello.elf on KVM, for bench/startup.sh to set vmmctl's
 * start-up beside.  It creates a VM with the memory vmmctl's default
 * machine has (64 MiB), loads the ELF's PT_LOAD segments, enters the PVH
 * entry point (the XEN_ELFNOTE_PHYS32_ENTRY note) the way core/boot-x86.c does
 * (32-bit flat protected mode, paging off), answers the guest's 16550
 * line-status reads with "transmitter empty", copies what it writes to
 * COM1 to stdout and exits at its write to the debug-exit port.
 *
 * No hvm_start_info, memory map, ACPI tables or devices: hello.elf reads
 * none of them, and the floor is what remains when nothing is optional.
 * It does not link the core on purpose: what it costs is the KVM and
 * process work every VMM pays.
 *
 * Usage: raw-kvm-boot FILE
 * Exit status: the byte the guest wrote to port 0xf4 (hello.elf: 0), or
 * 1 on any error (one line on stderr). */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEM_SIZE	(64ull << 20)	/* core/machine-config.c: memory = 64M */
#define COM1		0x3f8
#define PORT_EXIT	0xf4
#define TSS_ADDR	0xfffbd000ul
#define GDT_ADDR	0x500		/* core/boot.h: BOOT_GDT */
#define PHYS32_ENTRY	18		/* XEN_ELFNOTE_PHYS32_ENTRY */

static const char *path;

static void fail(const char *what)
{
	fprintf(stderr, "raw-kvm-boot: %s: %s\n", what, errno ? strerror(errno) : "bad ELF");
	exit(1);
}

/* One program header, whichever ELF class the file is. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static int get_phdr(const uint8_t *f, size_t size, unsigned i, struct phdr *p)
{
	if (f[EI_CLASS] == ELFCLASS32) {
		const Elf32_Ehdr *e = (const void *)f;
		const Elf32_Phdr *ph;
		if (i >= e->e_phnum || e->e_phoff + (uint64_t)(i + 1) * sizeof(*ph) > size)
			return -1;
		ph = (const void *)(f + e->e_phoff + i * sizeof(*ph));
		*p = (struct phdr){ ph->p_type, ph->p_offset, ph->p_paddr, ph->p_filesz, ph->p_memsz };
	} else {
		const Elf64_Ehdr *e = (const void *)f;
		const Elf64_Phdr *ph;
		if (i >= e->e_phnum || e->e_phoff + (uint64_t)(i + 1) * sizeof(*ph) > size)
			return -1;
		ph = (const void *)(f + e->e_phoff + i * sizeof(*ph));
		*p = (struct phdr){ ph->p_type, ph->p_offset, ph->p_paddr, ph->p_filesz, ph->p_memsz };
	}
	return p->offset + p->filesz > size ? -1 : 0;
}

/* Copies the PT_LOAD segments into @mem and returns the PVH entry point
 * found in a PT_NOTE segment (0 when there is none). */
static uint32_t load_elf(const uint8_t *f, size_t size, uint8_t *mem)
{
	uint32_t entry = 0;
	struct phdr p;

	errno = 0;
	if (size < sizeof(Elf64_Ehdr) || memcmp(f, ELFMAG, SELFMAG) ||
	    (f[EI_CLASS] != ELFCLASS32 && f[EI_CLASS] != ELFCLASS64))
		fail(path);
	for (unsigned i = 0; get_phdr(f, size, i, &p) == 0; i++) {
		if (p.type == PT_LOAD) {
			if (p.paddr + p.memsz > MEM_SIZE || p.filesz > p.memsz)
				fail(path);
			memcpy(mem + p.paddr, f + p.offset, p.filesz);
			/* The rest is .bss; anonymous memory is already zero. */
		} else if (p.type == PT_NOTE) {
			/* Notes: namesz, descsz, type, name and desc each padded to 4. */
			for (uint64_t o = 0; o + 12 <= p.filesz;) {
				const uint32_t *n = (const void *)(f + p.offset + o);
				uint64_t name = (n[0] + 3ull) & ~3ull, desc = (n[1] + 3ull) & ~3ull;
				if (n[2] == PHYS32_ENTRY && n[0] == 4 && n[1] >= 4 &&
				    o + 12 + name + 4 <= p.filesz && !memcmp(n + 3, "Xen", 4))
					memcpy(&entry, f + p.offset + o + 12 + name, 4);
				o += 12 + name + desc;
			}
		}
	}
	return entry;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
				   .present = 1, .db = 1, .s = 1, .g = 1 };
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: raw-kvm-boot FILE\n");
		return 1;
	}
	path = argv[1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fail(path);
	const uint8_t *file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		fail(path);

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		fail("/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		fail("KVM_CREATE_VM");
	if (ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
		fail("KVM_SET_TSS_ADDR");
	uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			    -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap guest memory");
	uint32_t entry = load_elf(file, (size_t)st.st_size, mem);
	if (!entry) {
		fprintf(stderr, "raw-kvm-boot: %s: no PVH entry note\n", path);
		return 1;
	}
	static const uint64_t gdt[4] = { 0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
	memcpy(mem + GDT_ADDR, gdt, sizeof(gdt));

	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		fail("KVM_SET_USER_MEMORY_REGION");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		fail("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		fail("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		fail("KVM_GET_SREGS");
	flat_segment(&sregs.cs, 0x10, 0xb);
	flat_segment(&sregs.ds, 0x18, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	sregs.gdt.base = GDT_ADDR;
	sregs.gdt.limit = sizeof(gdt) - 1;
	sregs.cr0 = 0x11;	/* PE | ET */
	sregs.cr3 = sregs.cr4 = sregs.efer = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		fail("KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = entry, .rflags = 2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		fail("KVM_SET_REGS");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			fail("KVM_RUN");
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "raw-kvm-boot: unexpected exit reason %u\n", run->exit_reason);
			return 1;
		}
		uint8_t *data = (uint8_t *)run + run->io.data_offset;
		size_t len = (size_t)run->io.size * run->io.count;
		if (run->io.direction == KVM_EXIT_IO_IN) {
			/* 0xff reads as "transmitter empty" on COM1's LSR, and as
			 * nothing there on any other port. */
			memset(data, 0xff, len);
		} else if (run->io.port == COM1) {
			fwrite(data, 1, len, stdout);
		} else if (run->io.port == PORT_EXIT) {
			fflush(stdout);
			return data[0];
		}
	}
}
