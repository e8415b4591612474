/* SPDX-License-Identifier: MIT */
/*
 * vmm/device.h - the ops table of a device plugin (kind VMM_PLUGIN_DEVICE).
 *
 * A device sees register offsets only: at create() it reads its properties
 * (base address, IRQ line, backend) through the host table and maps its
 * regions on a bus.  It never includes core headers.
 *
 * Error convention: 0 or a negative errno; NULL for pointers.
 */
#ifndef VMM_DEVICE_H
#define VMM_DEVICE_H

#include <vmm/plugin.h>
#include <vmm/host.h>
#include <vmm/state.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmm_device_ops {
	uint32_t size; /* sizeof(struct vmm_device_ops) */
	/* Build one instance.  `h` stays valid until destroy().  On failure
	 * log why through h->log and return a negative errno; the core then
	 * unmaps anything the instance mapped.  Any other value than 0 or a
	 * negative errno is refused as a failure (and destroy() not called). */
	int (*create)(const struct vmm_host *h, void **state);
	/* Free the instance.  May be NULL. */
	void (*destroy)(void *state);
	/* Back to power-on state (machine reset).  May be NULL. */
	void (*reset)(void *state);

	/* --- ABI 1.12: saved state (vmm/state.h); check size --- */
	/* The layout version of the record save() writes; load() is told the
	 * version a record was written with, so a newer plugin can still load
	 * an older snapshot. */
	uint32_t state_version;
	/* Write the instance's state into `out` with the host's state_put
	 * service.  Called with the machine paused (no vCPU inside a bus
	 * access, no timer or fd callback running) under the instance's lock.
	 * Save what lives in the device (registers, FIFOs, pending lines, a
	 * virtqueue's last seen index, timers' absolute deadlines in clock_ns
	 * time), not guest RAM (the core saves it) nor host resources.  NULL
	 * means the device cannot be saved: a snapshot of a machine that has
	 * it fails, naming the instance.  A device without state puts nothing. */
	int (*save)(void *state, struct vmm_state_out *out);
	/* Replace the state of an instance just created from the same config
	 * (create() ran, no vCPU has run) with the record's.  `version` is the
	 * state_version the record was saved with: one the device does not
	 * know is -EPROTO, logged.  The virtual clock continues from the saved
	 * machine's (clock_ns() here is what it was at save()), so a saved
	 * deadline is re-armed as it is.  Interrupt lines the device held are
	 * raised again here; the guest's RAM is already loaded.  NULL: the
	 * device cannot be loaded (see save). */
	int (*load)(void *state, struct vmm_state_in *in, uint32_t version);

	/* --- ABI 1.14: check the core's size --- */
	/* May be NULL.  Called once per instance after every device's
	 * create() succeeded and every vCPU exists, before the firmware
	 * tables are built and before any vCPU runs: the place for set-up
	 * that needs them all, such as initialising an in-kernel interrupt
	 * controller (KVM's vGIC takes KVM_DEV_ARM_VGIC_CTRL_INIT only once
	 * its vCPUs exist) or setting every vCPU's attributes.  Instances
	 * are called in config order.  A negative errno fails the machine
	 * as a failed create() does (log why first); destroy() follows. */
	int (*ready)(void *state);

	/* --- ABI 1.16: check the core's size --- */
	/* May be NULL: the device has no power button.  The machine's power
	 * button was pressed (the control API's PUT /v1/machine/shutdown,
	 * vmmctl shutdown): latch the event the guest OS handles, such as
	 * ACPI's fixed-feature PWRBTN_STS and its SCI, and return at once;
	 * what the guest does about it (a clean power-off, or nothing) is
	 * its own business.  Called on the main thread under the instance's
	 * lock, like a timer callback, while the machine runs or is paused.
	 * 0: pressed; a negative errno: the device could not take it now
	 * (the core then tries the next device with a button). */
	int (*power_button)(void *state);
};

#ifdef __cplusplus
}
#endif
#endif /* VMM_DEVICE_H */
