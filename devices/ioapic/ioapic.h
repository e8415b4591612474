/* SPDX-License-Identifier: MIT */
/*
 * devices/ioapic/ioapic.h - the I/O APIC register model.
 *
 * Registers and pins only: no host table, no bus.  The embedder feeds pin
 * levels in with ioapic_set_pin() and local APIC EOIs with ioapic_eoi(), and
 * receives each interrupt as an x86 MSI (address, data) through
 * struct ioapic_ops.  Register facts follow the Intel 82093AA I/O APIC
 * datasheet; the message format follows the Intel SDM vol. 3, "Message
 * Signalled Interrupts".
 */
#ifndef IOAPIC_H
#define IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_NUM_PINS 24

/* Memory-mapped registers, as offsets from the base. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN    0x10
#define IOAPIC_EOI      0x40 /* version 0x20 parts */
#define IOAPIC_MMIO_SIZE 0x100

/* Indirect registers, selected by IOREGSEL. */
#define IOAPIC_REG_ID      0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB     0x02
#define IOAPIC_REG_REDTBL  0x10 /* entry n: low dword 0x10 + 2n, high 0x11 + 2n */
#define IOAPIC_REG_REDTBL_END (IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS)

#define IOAPIC_ID_SHIFT 24
#define IOAPIC_ID_MASK  0x0f000000u /* bits 27:24 of ID and arbitration */

#define IOAPIC_VERSION 0x20 /* a PCH-style IOAPIC: has the EOI register */
#define IOAPIC_VERSION_VALUE \
	((uint32_t)(IOAPIC_NUM_PINS - 1) << 16 | IOAPIC_VERSION)

/* Redirection table entry bits (64-bit view). */
#define IOAPIC_RTE_VECTOR        0x00000000000000ffull
#define IOAPIC_RTE_DELMODE_SHIFT 8
#define IOAPIC_RTE_DELMODE       0x0000000000000700ull
#define IOAPIC_RTE_DESTMODE      (1ull << 11) /* 1: logical */
#define IOAPIC_RTE_DELIVS        (1ull << 12) /* RO */
#define IOAPIC_RTE_POLARITY      (1ull << 13) /* 1: active low */
#define IOAPIC_RTE_REMOTE_IRR    (1ull << 14) /* RO */
#define IOAPIC_RTE_TRIGGER       (1ull << 15) /* 1: level */
#define IOAPIC_RTE_MASK          (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT    56
#define IOAPIC_RTE_DEST          0xff00000000000000ull
#define IOAPIC_RTE_RO            (IOAPIC_RTE_DELIVS | IOAPIC_RTE_REMOTE_IRR)
#define IOAPIC_RTE_RW            (IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE | IOAPIC_RTE_DESTMODE | \
				  IOAPIC_RTE_POLARITY | IOAPIC_RTE_TRIGGER | IOAPIC_RTE_MASK | \
				  IOAPIC_RTE_DEST)

/* Delivery modes (RTE bits 10:8 and MSI data bits 10:8). */
#define IOAPIC_DM_FIXED    0
#define IOAPIC_DM_LOWEST   1
#define IOAPIC_DM_SMI      2
#define IOAPIC_DM_NMI      4
#define IOAPIC_DM_INIT     5
#define IOAPIC_DM_EXTINT   7

/* x86 MSI message format. */
#define MSI_ADDR_BASE          0xfee00000ull
#define MSI_ADDR_DEST_SHIFT    12
#define MSI_ADDR_REDIR_HINT    (1u << 3)
#define MSI_ADDR_DEST_LOGICAL  (1u << 2)
#define MSI_DATA_DELMODE_SHIFT 8
#define MSI_DATA_LEVEL_ASSERT  (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL (1u << 15)

struct ioapic_ops {
	/* One interrupt message to the local APICs. */
	void (*send_msi)(void *opaque, uint64_t addr, uint32_t data);
	/* May be NULL.  Pin `pin` now sends (addr, data) level-triggered
	 * (valid), or is no longer level-triggered (!valid).  Called when an
	 * entry's message changes, before that entry sends anything, so a
	 * host whose local APICs report only the EOIs of vectors it knows
	 * (KVM's split irqchip) knows the new vector before the guest can
	 * take and end it. */
	void (*level_route)(void *opaque, unsigned pin, bool valid, uint64_t addr, uint32_t data);
	/* The guest did something the hardware ignores; one line. */
	void (*guest_error)(void *opaque, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
};

#define IOAPIC_STATE_VERSION 1

/* Everything a migration would carry, and nothing else. */
struct ioapic_state {
	uint32_t version;
	uint32_t ioregsel;
	uint32_t id;                       /* ID register, bits 27:24 */
	uint32_t pin_levels;               /* electrical level on each input, bit n = pin n */
	uint64_t redtbl[IOAPIC_NUM_PINS];
};

struct ioapic {
	struct ioapic_state s;
	const struct ioapic_ops *ops;
	void *opaque;
	uint32_t reset_id; /* ID register value at reset */
	/* What level_route last said for each pin (not guest state). */
	uint32_t routed;                   /* bit n: pin n announced level-triggered */
	uint64_t routed_addr[IOAPIC_NUM_PINS];
	uint32_t routed_data[IOAPIC_NUM_PINS];
};

void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *opaque, uint8_t id);
/* Power-on values: every entry masked; pin levels are inputs and stay. */
void ioapic_reset(struct ioapic *io);
/* 32-bit accesses at IOAPIC_IOREGSEL, IOAPIC_IOWIN, IOAPIC_EOI. */
uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t offset);
void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint32_t value);
/* The input pin's electrical level (before polarity). */
void ioapic_set_pin(struct ioapic *io, unsigned pin, int level);
/* A local APIC's EOI of a level-triggered vector: clears remote IRR. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
/*
 * Snapshot restore.  ioapic_state_check() names the member of a saved state
 * no IOAPIC could hold ("id", "rte.N", ...), or returns NULL;
 * ioapic_restore() installs it and announces every level-triggered
 * entry's message through level_route, as the guest's writes did.
 */
const char *ioapic_state_check(const struct ioapic_state *s);
void ioapic_restore(struct ioapic *io, const struct ioapic_state *s);
/* The message an entry sends, for tests and the README's table. */
void ioapic_rte_to_msi(uint64_t rte, uint64_t *addr, uint32_t *data);

#endif /* IOAPIC_H */
