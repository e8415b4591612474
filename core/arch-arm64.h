/* core/arch-arm64.h - what an arm64 machine does differently: its memory
 * map and its boot path (core/arch-arm64.c).
 *
 * A machine has its host's architecture: vmmctl built for aarch64 builds
 * arm64 machines (VMM_HOST_ARM64), on KVM/arm64, unless its hypervisor
 * has x86 vCPU state (vcpu_set_sregs): the test hypervisors
 * (tests/fixtures/fake-vcpu-hv.c) drive x86-style machines on any host.
 * On other hosts a hypervisor with registers by id (vcpu_reg_get/set)
 * and no x86 state builds an arm64 machine: that is how
 * tests/fixtures/fake-arm64-hv.c lets an x86 `vmmctl check --dump-dtb`
 * show the device tree an arm64 machine gets, without KVM/arm64.
 * The code is plain C and compiled on every host; only VMM_HOST_ARM64
 * depends on the compiler.
 *
 * The arm64 memory map (that of QEMU's virt board, so the same device
 * addresses work in both): MMIO below 1 GiB (a pl011 at 0x09000000, a
 * pl031 at 0x09010000 in machines/arm64-minimal.conf), RAM from 1 GiB
 * (VMM_ARM64_RAM_BASE) in one region, up to the VM's IPA size.  No ACPI
 * tables and none of the x86 windows (local APIC, IOAPIC) are reserved.
 */
#ifndef VMM_CORE_ARCH_ARM64_H
#define VMM_CORE_ARCH_ARM64_H

#include <stdbool.h>
#include <stdint.h>

struct vmm_machine;

#if defined(__aarch64__)
#define VMM_HOST_ARM64 1
#else
#define VMM_HOST_ARM64 0
#endif

#define VMM_ARM64_RAM_BASE 0x40000000ull

/*
 * Load the config's kernel (an arm64 Image or Image.gz, core/boot-arm64.c)
 * and initrd into RAM, build the device tree from the devices'
 * descriptions (core/fdt.c) at the top of RAM, and set vCPU 0's entry
 * state through the hypervisor's vcpu_reg_set (ABI 1.6): PC at the
 * Image's first byte, x0 the device tree's address, x1-x3 zero, PSTATE
 * EL1h with D, A, I and F masked (arm64 booting.rst, "Call the kernel
 * image").  The other vCPUs stay powered off for the guest's PSCI CPU_ON.
 * Every error is one log line naming the file or the part that failed.
 */
int vmm_arm64_boot(struct vmm_machine *m);

/* Guest RAM in one region at VMM_ARM64_RAM_BASE: m->ram and m->nram,
 * before they are mapped. */
void vmm_arm64_ram_layout(struct vmm_machine *m);

/* "vCPU N: WHAT at pc 0x... (sp_el1 0x...)", or without the registers
 * when the hypervisor cannot read them: a crashed arm64 guest's line. */
void vmm_arm64_log_crash(struct vmm_machine *m, void *vcpu, unsigned index, const char *what);

/* The interrupt controller the devices described, for the device tree:
 * the kvm plugin's in-kernel vGICv3 (VMM_DESC_GICV3: GICD, GICR regions,
 * the first `room` of them into `redist`) or the gic plugin's GICv2
 * (VMM_DESC_GICV2: GICD, GICC); version 0 when none did. */
struct vmm_fdt_gic;
struct vmm_fdt_region;
void vmm_arm64_find_gic(const struct vmm_machine *m, struct vmm_fdt_region *redist,
			unsigned room, struct vmm_fdt_gic *out);

/* True for an arm64 machine (see above); the hypervisor is loaded. */
bool vmm_machine_is_arm64(const struct vmm_machine *m);
/* After the devices are ready: a machine with a GIC needs the architected
 * timer described (the arm-timer plugin), once.  Logs one line naming the
 * config and what to add; -EINVAL. */
int vmm_arm64_check_devices(struct vmm_machine *m);

#endif
