/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-arm64-vgic.h - KVM's in-kernel vGICv3 as a record
 * field, without KVM: the registers walked, the order they are written
 * back in, and the checks a loader makes.  The device attribute accesses go
 * through a small ops table (struct a64_vgic_io), so kvm-arm64-state.c
 * hands it KVM_GET/SET_DEVICE_ATTR on the vGIC's fd and
 * tests/unit/test_kvm_arm64_vgic hands it a fake vGIC on any host.
 *
 * Facts from Linux's Documentation/virt/kvm/devices/arm-vgic-v3.rst
 * ("Groups"), numbers from arch/arm64/include/uapi/asm/kvm.h
 * (kvm-arm64-state.c checks them against the kernel's headers).
 *
 * The field "vgic" is a sequence of 16-byte entries, each a key (u64,
 * little-endian: group << 56 | vCPU index << 32 | register) and the
 * register's value (u64, little-endian; 32-bit registers zero-extended).
 * The register is the distributor's or redistributor's offset, the CPU
 * system register's encoding, or the first INTID of a line-level word.
 *
 * Error convention: 0 or a negative errno; `why` gets one line.
 */
#ifndef VMM_KVM_ARM64_VGIC_H
#define VMM_KVM_ARM64_VGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* KVM_DEV_ARM_VGIC_GRP_* (arm-vgic-v3.rst, "Groups"). */
#define A64_VGIC_GRP_DIST_REGS   1u
#define A64_VGIC_GRP_NR_IRQS     3u
#define A64_VGIC_GRP_CTRL        4u
#define A64_VGIC_GRP_REDIST_REGS 5u
#define A64_VGIC_GRP_CPU_SYSREGS 6u
#define A64_VGIC_GRP_LEVEL_INFO  7u
/* KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT: a redistributor, a CPU interface or a
 * PPI's level is named by its vCPU's affinity in attr bits 63:32 (Aff3 in
 * 63:56 ... Aff0 in 39:32). */
#define A64_VGIC_MPIDR_SHIFT     32
/* KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT and VGIC_LEVEL_INFO_LINE_LEVEL:
 * attr bits 31:10 say what is read, bits 9:0 the first INTID of 32. */
#define A64_VGIC_LEVEL_INFO_SHIFT 10
#define A64_VGIC_LEVEL_INFO_LINE_LEVEL 0u

/* GICv3 architecture specification (IHI 0069), 12.9 and 12.11: the
 * distributor's registers, and the redistributor's RD_base and SGI_base
 * frames (SGI_base 64 KiB above RD_base, 12.10). */
#define GICD_CTLR        0x0000u
#define GICD_TYPER       0x0004u
#define GICD_IIDR        0x0008u
#define GICD_STATUSR     0x0010u
#define GICD_IGROUPR     0x0080u
#define GICD_ISENABLER   0x0100u
#define GICD_ICENABLER   0x0180u
#define GICD_ISPENDR     0x0200u
#define GICD_ISACTIVER   0x0300u
#define GICD_ICACTIVER   0x0380u
#define GICD_IPRIORITYR  0x0400u
#define GICD_ICFGR       0x0c00u
#define GICD_IROUTER     0x6000u
#define GICR_CTLR        0x0000u
#define GICR_STATUSR     0x0010u
#define GICR_WAKER       0x0014u
#define GICR_SGI_BASE    0x10000u
#define GICR_IGROUPR0    (GICR_SGI_BASE + 0x0080u)
#define GICR_ISENABLER0  (GICR_SGI_BASE + 0x0100u)
#define GICR_ICENABLER0  (GICR_SGI_BASE + 0x0180u)
#define GICR_ISPENDR0    (GICR_SGI_BASE + 0x0200u)
#define GICR_ISACTIVER0  (GICR_SGI_BASE + 0x0300u)
#define GICR_ICACTIVER0  (GICR_SGI_BASE + 0x0380u)
#define GICR_IPRIORITYR0 (GICR_SGI_BASE + 0x0400u)
#define GICR_ICFGR0      (GICR_SGI_BASE + 0x0c00u)
#define GICR_ICFGR1      (GICR_SGI_BASE + 0x0c04u)

/* The CPU interface's system registers as KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS
 * names them (arm-vgic-v3.rst: op0 in bits 15:14, op1 13:11, CRn 10:7,
 * CRm 6:3, op2 2:0; GICv3 specification 12.2). */
#define A64_ICC(op0, op1, crn, crm, op2) \
	((uint32_t)((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2)))
#define ICC_PMR_EL1     A64_ICC(3, 0, 4, 6, 0)
#define ICC_BPR0_EL1    A64_ICC(3, 0, 12, 8, 3)
#define ICC_AP0R_EL1(n) A64_ICC(3, 0, 12, 8, 4 + (n))
#define ICC_AP1R_EL1(n) A64_ICC(3, 0, 12, 9, (n))
#define ICC_BPR1_EL1    A64_ICC(3, 0, 12, 12, 3)
#define ICC_CTLR_EL1    A64_ICC(3, 0, 12, 12, 4)
#define ICC_SRE_EL1     A64_ICC(3, 0, 12, 12, 5)
#define ICC_IGRPEN0_EL1 A64_ICC(3, 0, 12, 12, 6)
#define ICC_IGRPEN1_EL1 A64_ICC(3, 0, 12, 12, 7)

/* KVM's INTID range for a vGIC: 64 (one SPI word) to 1024, in 32s. */
#define A64_VGIC_MIN_IRQS 64u
#define A64_VGIC_MAX_IRQS 1024u
/* Bytes of one entry of the field. */
#define A64_VGIC_ENTRY_BYTES 16u

/* The device attribute accesses: op(opaque, set, group, attr, val) is
 * KVM_SET_DEVICE_ATTR (set) or KVM_GET_DEVICE_ATTR on the vGIC; val points
 * to a u32 for the distributor, redistributor and line-level groups, a u64
 * for the CPU system registers (arm-vgic-v3.rst).  0 or a negative errno. */
struct a64_vgic_io {
	int (*attr)(void *opaque, bool set, uint32_t group, uint64_t attr, void *val);
	void *opaque;
};

/* One register of the walk. */
struct a64_vgic_reg {
	uint8_t group;     /* A64_VGIC_GRP_* */
	uint8_t width;     /* 4, or 8: a GICD_IROUTER, two 32-bit halves, low first */
	uint16_t cpu;      /* the vCPU (redistributor, CPU interface, PPI levels) */
	uint32_t reg;      /* offset, system register encoding or first INTID */
	uint32_t clear;    /* nonzero: the clear register, written ~value first */
};

/* The record's key of a register. */
static inline uint64_t a64_vgic_key(const struct a64_vgic_reg *r)
{
	return (uint64_t)r->group << 56 | (uint64_t)r->cpu << 32 | r->reg;
}

/* The attr of KVM_*_DEVICE_ATTR for register r of the vCPU whose
 * MPIDR_EL1 is mpidr (ignored for the distributor). */
uint64_t a64_vgic_attr(const struct a64_vgic_reg *r, uint64_t mpidr);

/* The active-priority registers each group has (ICC_AP0Rn/AP1Rn, n below
 * the answer) for a CPU interface whose ICC_CTLR_EL1 is ctlr: 1, 2 or 4 by
 * its PRIbits (GICv3 specification 12.2.1 and 12.2.2: AP0R1 with 6 bits of
 * priority, AP0R2-3 with 7). */
unsigned a64_vgic_aprs(uint64_t ctlr);

/* The walk for nr_irqs INTIDs and ncpus vCPUs, aprs[i] active-priority
 * registers a group on vCPU i, in the order a load writes them
 * (kvm-arm64-vgic.c says why).  malloc'd into *out, *n entries. */
int a64_vgic_walk(uint32_t nr_irqs, unsigned ncpus, const unsigned *aprs,
		  struct a64_vgic_reg **out, size_t *n);

/* The register's name for a message ("vCPU 1's GICR_ISPENDR0"). */
void a64_vgic_reg_name(const struct a64_vgic_reg *r, char *buf, size_t len);

/* The record's machine against this one: the INTID count and each vCPU's
 * MPIDR_EL1 (a redistributor is found by it).  -EPROTO with `why`. */
int a64_vgic_check_machine(uint32_t saved_irqs, const uint64_t *saved_mpidr, size_t saved_cpus,
			   uint32_t nr_irqs, const uint64_t *mpidr, unsigned ncpus, char *why,
			   size_t whylen);

/* Reads every register of the walk into a field's bytes (malloc'd into
 * *buf, *len bytes).  mpidr[i] is vCPU i's MPIDR_EL1. */
int a64_vgic_save(const struct a64_vgic_io *io, uint32_t nr_irqs, const uint64_t *mpidr,
		  unsigned ncpus, uint8_t **buf, size_t *len, char *why, size_t whylen);

/* Checks a field against the walk of this machine (-EBADMSG: damaged;
 * -ENOENT: a register the walk has is missing; -EPROTO: an entry the walk
 * has not), then writes it in the walk's order.  A write KVM refuses ends
 * it with KVM's errno, naming the register. */
int a64_vgic_load(const struct a64_vgic_io *io, uint32_t nr_irqs, const uint64_t *mpidr,
		  unsigned ncpus, const uint8_t *buf, size_t len, char *why, size_t whylen);

#endif
