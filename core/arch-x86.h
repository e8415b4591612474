/* core/arch-x86.h - what an x86 machine does differently: the windows its
 * hypervisor's interrupt controllers answer, its RAM below and above the
 * 32-bit MMIO hole, its ACPI tables, and what a crashed x86 guest's line
 * says (core/arch-x86.c).  Beside core/arch-arm64.h: the common code asks
 * vmm_machine_is_arm64() and calls one or the other.
 *
 * The x86 boot path itself (bzImage, PVH, flat binaries) is core/boot-x86.c,
 * vmm_boot_load().
 */
#ifndef VMM_CORE_ARCH_X86_H
#define VMM_CORE_ARCH_X86_H

#include <stddef.h>

struct vmm_machine;

/* Guest RAM below the 32-bit MMIO hole (at most 3 GiB from 0) and the
 * rest from 4 GiB: m->ram and m->nram, before they are mapped. */
void vmm_x86_ram_layout(struct vmm_machine *m);

/* Reserve on the MMIO bus the local APIC and IOAPIC windows that the
 * hypervisor's in-kernel interrupt controllers answer (by irq_mode). */
void vmm_x86_reserve_mmio(struct vmm_machine *m);

/* ACPI tables in the BIOS area when a device (acpi-pm) asks for them, and
 * the boot protocol's pointer to them: 0 or a negative errno, logged. */
int vmm_x86_build_acpi(struct vmm_machine *m);

/* "vCPU N: WHAT at rip 0x... (rsp 0x...)", or without the registers
 * when the hypervisor cannot read them: a crashed x86 guest's line. */
void vmm_x86_log_crash(struct vmm_machine *m, void *vcpu, unsigned index, const char *what);

/* " on the bytes 0f 0b ...": the instruction at the vCPU's CS:RIP, for an
 * emulation failure's line; "" when it cannot be read. */
void vmm_x86_code_bytes_at_rip(struct vmm_machine *m, void *vcpu, char *out, size_t len);

#endif
