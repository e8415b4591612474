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

	/* --- ABI 1.12: check the core's size --- */
	/* May be NULL.  Called once per instance after every device's
	 * create() succeeded and every vCPU exists, before the firmware
	 * tables are built and before any vCPU runs: the place for set-up
	 * that needs them all, such as initialising an in-kernel interrupt
	 * controller (KVM's vGIC takes KVM_DEV_ARM_VGIC_CTRL_INIT only once
	 * its vCPUs exist) or setting every vCPU's attributes.  Instances
	 * are called in config order.  A negative errno fails the machine
	 * as a failed create() does (log why first); destroy() follows. */
	int (*ready)(void *state);
};

#ifdef __cplusplus
}
#endif
#endif /* VMM_DEVICE_H */
