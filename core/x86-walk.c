/* core/x86-walk.c - a software walk of an x86 vCPU's page tables.
 *
 * Used only to show the bytes of the instruction a vCPU stopped on (an
 * emulation failure): reading them from guest memory works with any
 * hypervisor, so the ABI needs no new exit field.  Access rights are not
 * checked: the question is where the code is, not whether the guest may
 * run it.
 */
#include "config.h"

#include <errno.h>

#include "core/x86-walk.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P (1ull << 0)
#define PTE_PS (1ull << 7)
/* Bits 51:12 of a 64-bit entry: the next table or the page frame. */
#define PTE_ADDR 0x000ffffffffff000ull

uint64_t vmm_x86_code_linear(const struct vmm_x86_sregs *s, uint64_t rip)
{
	if ((s->efer & EFER_LMA) && s->cs.l)
		return rip; /* 64-bit code: CS's base is ignored */
	if (!(s->cr0 & CR0_PE))
		return (s->cs.base + (rip & 0xffff)) & 0xfffff; /* real mode; no A20 games */
	return (s->cs.base + (s->cs.db ? rip & 0xffffffffu : rip & 0xffff)) & 0xffffffffu;
}

static int read_entry(vmm_phys_read_fn read, void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
	uint32_t e32;
	int rc;

	if (size == 4) {
		rc = read(ctx, gpa, &e32, 4);
		*e = e32;
	} else {
		rc = read(ctx, gpa, e, 8);
	}
	if (rc)
		return rc;
	return (*e & PTE_P) ? 0 : -EFAULT;
}

int vmm_x86_translate(const struct vmm_x86_sregs *s, uint64_t la, vmm_phys_read_fn read,
		      void *ctx, uint64_t *pa)
{
	uint64_t e;
	int rc;

	if (!(s->cr0 & CR0_PG)) {
		*pa = la;
		return 0;
	}
	if (!(s->cr4 & CR4_PAE)) {
		/* 32-bit paging: 10 + 10 + 12 bits, 4 MiB pages with PSE. */
		rc = read_entry(read, ctx, (s->cr3 & 0xfffff000u) + ((la >> 22) & 0x3ff) * 4, 4, &e);
		if (rc)
			return rc;
		if ((e & PTE_PS) && (s->cr4 & CR4_PSE)) {
			*pa = (e & 0xffc00000u) | ((e & 0x1fe000u) << 19) | (la & 0x3fffff);
			return 0;
		}
		rc = read_entry(read, ctx, (e & 0xfffff000u) + ((la >> 12) & 0x3ff) * 4, 4, &e);
		if (rc)
			return rc;
		*pa = (e & 0xfffff000u) | (la & 0xfff);
		return 0;
	}
	/* 64-bit entries, 9 bits a level.  PAE starts at the 4-entry PDPT
	 * (CR3 bits 31:5), long mode at the PML4 or, with LA57, the PML5. */
	int level;
	uint64_t table;
	if (!(s->efer & EFER_LMA)) {
		rc = read_entry(read, ctx, (s->cr3 & 0xffffffe0u) + ((la >> 30) & 3) * 8, 8, &e);
		if (rc)
			return rc;
		table = e & PTE_ADDR;
		level = 2;
	} else {
		table = s->cr3 & PTE_ADDR;
		level = (s->cr4 & CR4_LA57) ? 5 : 4;
	}
	for (; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		rc = read_entry(read, ctx, table + ((la >> shift) & 0x1ff) * 8, 8, &e);
		if (rc)
			return rc;
		/* A large page at level 2 (2 MiB) or 3 (1 GiB). */
		if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
			uint64_t mask = (1ull << shift) - 1;
			*pa = (e & PTE_ADDR & ~mask) | (la & mask);
			return 0;
		}
		table = e & PTE_ADDR;
	}
	return -EFAULT; /* not reached */
}

int vmm_x86_code_bytes(const struct vmm_x86_sregs *s, uint64_t rip, vmm_phys_read_fn read,
		       void *ctx, uint8_t *buf, size_t max)
{
	uint64_t la = vmm_x86_code_linear(s, rip), pa;
	int rc = vmm_x86_translate(s, la, read, ctx, &pa);
	if (rc)
		return rc;
	/* The next page may map elsewhere (or nowhere): stop at this one. */
	size_t n = 4096 - (size_t)(la & 0xfff);
	if (n > max)
		n = max;
	/* Near the end of RAM, fewer bytes may be there. */
	while (n && read(ctx, pa, buf, n) != 0)
		n--;
	return n ? (int)n : -EFAULT;
}
