/* core/x86-walk.h - where a vCPU's code is in guest-physical memory, for
 * messages about a stopped guest (the instruction bytes at RIP).
 * Error convention: 0 or a negative errno. */
#ifndef VMM_CORE_X86_WALK_H
#define VMM_CORE_X86_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <vmm/hypervisor.h>

/* Reads guest-physical memory: 0, or -EFAULT outside RAM. */
typedef int (*vmm_phys_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

/* The linear address of CS:RIP in the vCPU's mode (real, protected or long). */
uint64_t vmm_x86_code_linear(const struct vmm_x86_sregs *s, uint64_t rip);

/* Translate linear address @la through the vCPU's page tables (none with
 * paging off; 32-bit, PAE, 4- and 5-level): -EFAULT when a table is not in
 * RAM or an entry is not present. */
int vmm_x86_translate(const struct vmm_x86_sregs *s, uint64_t la, vmm_phys_read_fn read,
		      void *ctx, uint64_t *pa);

/* Up to @max bytes of code at CS:RIP, stopping at the end of a page
 * or of RAM: the count read, or a negative errno. */
int vmm_x86_code_bytes(const struct vmm_x86_sregs *s, uint64_t rip, vmm_phys_read_fn read,
		       void *ctx, uint8_t *buf, size_t max);

#endif
