/* SPDX-License-Identifier: MIT */
/*
 * devices/ioapic/ioapic.c - the I/O APIC register model.
 *
 * The 82093AA turns pin activity into messages on the APIC bus; here the
 * message is an MSI write, which is what an IOAPIC on a front-side-bus or
 * later platform sends anyway.  Sending is instantaneous, so delivery status
 * never reads as pending.  Remote IRR is set when the message is sent: the
 * local APICs never refuse a fixed or lowest-priority message, so "sent"
 * and "accepted" are the same moment.
 */
#include <stddef.h>

#include "ioapic.h"

#define RTE_LOW_RO  ((uint32_t)IOAPIC_RTE_RO)
#define RTE_LOW_RW  ((uint32_t)IOAPIC_RTE_RW)
#define RTE_HIGH_RW ((uint32_t)(IOAPIC_RTE_RW >> 32))

static unsigned rte_delivery_mode(uint64_t rte)
{
	return (unsigned)((rte & IOAPIC_RTE_DELMODE) >> IOAPIC_RTE_DELMODE_SHIFT);
}

/*
 * The datasheet makes SMI, NMI, INIT and ExtINT edge-only ("the trigger
 * mode bit is ignored"), so only fixed and lowest-priority entries can be
 * level-triggered and take part in the remote IRR / EOI handshake.
 */
static bool rte_is_level(uint64_t rte)
{
	unsigned dm = rte_delivery_mode(rte);

	return (rte & IOAPIC_RTE_TRIGGER) && (dm == IOAPIC_DM_FIXED || dm == IOAPIC_DM_LOWEST);
}

static bool delivery_mode_valid(unsigned dm)
{
	return dm != 3 && dm != 6; /* both reserved */
}

void ioapic_rte_to_msi(uint64_t rte, uint64_t *addr, uint32_t *data)
{
	unsigned dm = rte_delivery_mode(rte);
	uint64_t a = MSI_ADDR_BASE | ((rte & IOAPIC_RTE_DEST) >> IOAPIC_RTE_DEST_SHIFT)
						  << MSI_ADDR_DEST_SHIFT;
	uint32_t d = (uint32_t)(rte & IOAPIC_RTE_VECTOR) | (uint32_t)dm << MSI_DATA_DELMODE_SHIFT;

	/* The redirection hint is what lets the local APICs pick the
	 * lowest-priority processor; without it the destination mode bit
	 * would be ignored by them. */
	if (dm == IOAPIC_DM_LOWEST)
		a |= MSI_ADDR_REDIR_HINT;
	if (rte & IOAPIC_RTE_DESTMODE)
		a |= MSI_ADDR_DEST_LOGICAL;
	/* An IOAPIC only ever signals assertion; the level bit matters to
	 * the local APIC only for level-triggered messages. */
	d |= MSI_DATA_LEVEL_ASSERT;
	if (rte_is_level(rte))
		d |= MSI_DATA_TRIGGER_LEVEL;
	*addr = a;
	*data = d;
}

/*
 * Tell the host what the entry of `pin` sends when it is level-triggered,
 * if that changed since it was last told.  The mask bit is not part of the
 * message: a masked entry with remote IRR set still waits for its EOI
 * (82093AA datasheet 3.2.4), so it stays announced.
 */
static void ioapic_update_route(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->s.redtbl[pin], addr = 0;
	uint32_t data = 0, bit = 1u << pin;
	bool valid = rte_is_level(rte);

	if (valid)
		ioapic_rte_to_msi(rte, &addr, &data);
	if (valid == !!(io->routed & bit) &&
	    (!valid || (io->routed_addr[pin] == addr && io->routed_data[pin] == data)))
		return;
	if (valid)
		io->routed |= bit;
	else
		io->routed &= ~bit;
	io->routed_addr[pin] = addr;
	io->routed_data[pin] = data;
	if (io->ops->level_route)
		io->ops->level_route(io->opaque, pin, valid, addr, data);
}

static bool pin_asserted(const struct ioapic *io, unsigned pin)
{
	bool level = (io->s.pin_levels >> pin) & 1;

	return level != !!(io->s.redtbl[pin] & IOAPIC_RTE_POLARITY);
}

static void ioapic_deliver(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->s.redtbl[pin];
	uint64_t addr;
	uint32_t data;

	if (!delivery_mode_valid(rte_delivery_mode(rte))) {
		io->ops->guest_error(io->opaque, "pin %u: reserved delivery mode %u, interrupt dropped",
				     pin, rte_delivery_mode(rte));
		return;
	}
	if (rte_is_level(rte))
		io->s.redtbl[pin] |= IOAPIC_RTE_REMOTE_IRR;
	ioapic_rte_to_msi(rte, &addr, &data);
	io->ops->send_msi(io->opaque, addr, data);
}

/* A level-triggered pin asks for service while it is asserted, unmasked
 * and not already being serviced (remote IRR clear). */
static void ioapic_service_level(struct ioapic *io, unsigned pin)
{
	uint64_t rte = io->s.redtbl[pin];

	if (!rte_is_level(rte) || (rte & (IOAPIC_RTE_MASK | IOAPIC_RTE_REMOTE_IRR)))
		return;
	if (pin_asserted(io, pin))
		ioapic_deliver(io, pin);
}

void ioapic_set_pin(struct ioapic *io, unsigned pin, int level)
{
	uint32_t bit;
	bool was_asserted;

	if (pin >= IOAPIC_NUM_PINS)
		return;
	bit = 1u << pin;
	was_asserted = pin_asserted(io, pin);
	if (level)
		io->s.pin_levels |= bit;
	else
		io->s.pin_levels &= ~bit;

	/* A masked pin is not held pending: an edge arriving while masked is
	 * lost, and a level is only looked at again on unmasking. */
	if (io->s.redtbl[pin] & IOAPIC_RTE_MASK)
		return;
	if (rte_is_level(io->s.redtbl[pin]))
		ioapic_service_level(io, pin);
	else if (!was_asserted && pin_asserted(io, pin))
		ioapic_deliver(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		uint64_t *rte = &io->s.redtbl[pin];

		if ((*rte & IOAPIC_RTE_VECTOR) != vector || !(*rte & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
		/* A line still asserted after the handler ran is a new request. */
		ioapic_service_level(io, pin);
	}
}

static void rte_write_low(struct ioapic *io, unsigned pin, uint32_t value)
{
	uint64_t *rte = &io->s.redtbl[pin];
	uint32_t old = (uint32_t)*rte;

	/* Drivers build entries from scratch with these bits clear, so only
	 * an attempt to set one is a mistake worth a line. */
	if (value & ~old & RTE_LOW_RO)
		io->ops->guest_error(io->opaque,
				     "pin %u: write setting read-only delivery status/remote IRR "
				     "ignored", pin);
	*rte = (*rte & ~(uint64_t)UINT32_MAX) | (value & RTE_LOW_RW) | (old & RTE_LOW_RO);
	/* Remote IRR means nothing for an edge entry; drop it so a later
	 * switch back to level does not find a stale one. */
	if (!rte_is_level(*rte))
		*rte &= ~IOAPIC_RTE_REMOTE_IRR;
	/* Before anything is sent with the new vector or trigger mode. */
	ioapic_update_route(io, pin);
	/* Unmasking, or turning an asserted pin's entry to level or flipping
	 * its polarity, can make it ask for service now. */
	ioapic_service_level(io, pin);
}

static void rte_write_high(struct ioapic *io, unsigned pin, uint32_t value)
{
	uint64_t *rte = &io->s.redtbl[pin];

	*rte = (*rte & UINT32_MAX) | (uint64_t)(value & RTE_HIGH_RW) << 32;
	/* A new destination is a new message for the same vector. */
	ioapic_update_route(io, pin);
}

static uint32_t ioapic_reg_read(struct ioapic *io, uint32_t index)
{
	if (index >= IOAPIC_REG_REDTBL && index < IOAPIC_REG_REDTBL_END) {
		uint64_t rte = io->s.redtbl[(index - IOAPIC_REG_REDTBL) / 2];

		return (index & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	switch (index) {
	case IOAPIC_REG_ID:
		return io->s.id;
	case IOAPIC_REG_VERSION:
		return IOAPIC_VERSION_VALUE;
	case IOAPIC_REG_ARB:
		/* Loaded from the ID register whenever that is written. */
		return io->s.id;
	default:
		io->ops->guest_error(io->opaque, "read of undefined register 0x%02x", index);
		return 0;
	}
}

static void ioapic_reg_write(struct ioapic *io, uint32_t index, uint32_t value)
{
	if (index >= IOAPIC_REG_REDTBL && index < IOAPIC_REG_REDTBL_END) {
		unsigned pin = (index - IOAPIC_REG_REDTBL) / 2;

		if (index & 1)
			rte_write_high(io, pin, value);
		else
			rte_write_low(io, pin, value);
		return;
	}
	switch (index) {
	case IOAPIC_REG_ID:
		io->s.id = value & IOAPIC_ID_MASK;
		break;
	case IOAPIC_REG_VERSION:
	case IOAPIC_REG_ARB:
		io->ops->guest_error(io->opaque, "write 0x%08x to read-only register 0x%02x ignored",
				     value, index);
		break;
	default:
		io->ops->guest_error(io->opaque, "write 0x%08x to undefined register 0x%02x ignored",
				     value, index);
		break;
	}
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint64_t offset)
{
	switch (offset) {
	case IOAPIC_IOREGSEL:
		return io->s.ioregsel;
	case IOAPIC_IOWIN:
		return ioapic_reg_read(io, io->s.ioregsel);
	default:
		io->ops->guest_error(io->opaque, "read at offset 0x%llx: no register there",
				     (unsigned long long)offset);
		return 0;
	}
}

void ioapic_mmio_write(struct ioapic *io, uint64_t offset, uint32_t value)
{
	switch (offset) {
	case IOAPIC_IOREGSEL:
		/* Bits 31:8 are reserved. */
		io->s.ioregsel = value & 0xff;
		break;
	case IOAPIC_IOWIN:
		ioapic_reg_write(io, io->s.ioregsel, value);
		break;
	case IOAPIC_EOI:
		ioapic_eoi(io, (uint8_t)value);
		break;
	default:
		io->ops->guest_error(io->opaque, "write 0x%08x at offset 0x%llx: no register there",
				     value, (unsigned long long)offset);
		break;
	}
}

const char *ioapic_state_check(const struct ioapic_state *s)
{
	static const char *const rte_name[IOAPIC_NUM_PINS] = {
		"rte.0", "rte.1", "rte.2", "rte.3", "rte.4", "rte.5", "rte.6", "rte.7",
		"rte.8", "rte.9", "rte.10", "rte.11", "rte.12", "rte.13", "rte.14", "rte.15",
		"rte.16", "rte.17", "rte.18", "rte.19", "rte.20", "rte.21", "rte.22", "rte.23",
	};

	if (s->ioregsel > 0xff)
		return "ioregsel";
	if (s->id & ~IOAPIC_ID_MASK)
		return "id";
	if (s->pin_levels >> IOAPIC_NUM_PINS)
		return "pin_levels";
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		uint64_t rte = s->redtbl[pin];

		/* Delivery status never reads pending here, and remote IRR
		 * only ever belongs to a level-triggered entry (rte_write_low
		 * drops it otherwise). */
		if ((rte & ~(IOAPIC_RTE_RW | IOAPIC_RTE_REMOTE_IRR)) ||
		    ((rte & IOAPIC_RTE_REMOTE_IRR) && !rte_is_level(rte)))
			return rte_name[pin];
	}
	return NULL;
}

void ioapic_restore(struct ioapic *io, const struct ioapic_state *s)
{
	io->s = *s;
	io->s.version = IOAPIC_STATE_VERSION;
	/* A host whose local APICs report only the EOIs of vectors it was
	 * told of (KVM's split irqchip) must hear of each level entry again,
	 * or a pin waiting for its EOI at the save would wait for ever. */
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		ioapic_update_route(io, pin);
}

void ioapic_reset(struct ioapic *io)
{
	uint32_t levels = io->s.pin_levels;

	io->s = (struct ioapic_state){ .version = IOAPIC_STATE_VERSION };
	io->s.pin_levels = levels;
	/* The datasheet resets the ID to 0; the embedder's configured ID
	 * stands in for the firmware that would program it. */
	io->s.id = io->reset_id;
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		io->s.redtbl[pin] = IOAPIC_RTE_MASK;
		ioapic_update_route(io, pin);	/* edge again: no longer level */
	}
}

void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *opaque, uint8_t id)
{
	io->ops = ops;
	io->opaque = opaque;
	io->s.pin_levels = 0;
	io->routed = 0;
	io->reset_id = (uint32_t)(id & 0x0f) << IOAPIC_ID_SHIFT;
	ioapic_reset(io);
}
