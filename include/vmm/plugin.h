/* SPDX-License-Identifier: MIT */
/*
 * vmm/plugin.h - the plugin descriptor every plugin exports.
 *
 * A plugin is a shared object exporting one function, vmm_plugin_entry(),
 * that returns a pointer to a const struct vmm_plugin.  The loader accepts the
 * plugin when abi_major equals VMM_ABI_MAJOR and abi_minor is not newer than
 * the core's VMM_ABI_MINOR.  Tables crossing the boundary only grow by
 * appending fields; each starts with its own size so that either side reads a
 * field only when the other side's size covers it.
 *
 * Error convention for every vmm/ header: functions returning int return 0 on
 * success and a negative errno value on failure; functions returning a
 * pointer return NULL on failure.
 */
#ifndef VMM_PLUGIN_H
#define VMM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMM_ABI_MAJOR 1
#define VMM_ABI_MINOR 17 /* 1.1: interrupt controllers, MSIs, in-kernel acceleration;
			 * 1.2: block and net backends, write notifications
			 * (ioeventfd);
			 * 1.3: net link changes; irqfd for level-triggered
			 * lines (hypervisor table);
			 * 1.4: character backend connections (a client
			 * on a socket comes and goes);
			 * 1.5: an IOAPIC's level-triggered messages told to
			 * the hypervisor as its entries change (msi_route);
			 * 1.6: backends' check op (vmmctl check builds the
			 * machine without opening them, vmm/backend.h);
			 * 1.7: vCPU registers by id (vcpu_reg_get/set,
			 * KVM's ONE_REG ids), arm64 vCPU start state and
			 * GIC INTIDs as interrupt lines (hypervisor.h); a
			 * GICv3 described for device trees
			 * (VMM_DESC_GICV3, host.h);
			 * 1.8: an interrupt controller in a plugin on
			 * arm64: a vCPU's IRQ/FIQ inputs held as levels
			 * (cpu_irq_line, hypervisor vcpu_irq_set), lines
			 * private to a vCPU reported by the hypervisor
			 * (private_irq_set, set_private: the timers'
			 * PPIs), the vCPU count, a GICv2 described for
			 * device trees (VMM_DESC_GICV2);
			 * 1.9: CPUID leaves from devices (cpuid_set, host.h;
			 * vcpu_cpuid_set, hypervisor.h) and a vCPU's TSC with
			 * its rate (vcpu_tsc); a guest crash reported by a
			 * device (VMM_STOP_CRASH);
			 * 1.10: a plugin's extra system calls (struct
			 * vmm_plugin's syscalls: vmmctl's seccomp filters);
			 * 1.11: block requests in batches (block_io_batch,
			 * host.h; a block backend's submit op);
			 * 1.12: saved state: a device's save/load ops and
			 * state_version (device.h), the host's state_put and
			 * state_get (records, vmm/state.h), a hypervisor's
			 * vCPU and VM state and dirty log (hypervisor.h);
			 * 1.13: the hypervisor's in-kernel Hyper-V
			 * (hyperv_cpuid, hyperv_enable, struct
			 * vmm_hyperv_client, host.h; hyperv_cpuid,
			 * vcpu_hyperv_enable, VMM_EXIT_HYPERV,
			 * hypervisor.h) and MSR ranges routed to the
			 * core's MSR bus (msr_intercept);
			 * 1.14: in-kernel devices created by device plugins
			 * (hv_device_create, hv_device_attr, host.h;
			 * device_create, device_attr, vcpu_attr,
			 * devices_ready, hypervisor.h) and a device's ready
			 * op after every device and vCPU exists (device.h):
			 * the gic plugin's mode = "kernel"; the timers'
			 * output levels (timer_outputs), a device's vCPU
			 * register write from its ready op (vcpu_reg_write)
			 * and VMM_DESC_ARM_TIMER: the arm-timer plugin;
			 * 1.15: guest memory a device wrote through mem_map
			 * told to the core (mark_dirty, host.h) for live
			 * migration's dirty-page rounds;
			 * 1.16: a device's power button (the power_button
			 * op, device.h): the control API's shutdown presses
			 * it (acpi-pm's fixed-feature button);
			 * 1.17: a net backend's standby op (backend.h): a
			 * live migration's destination shares the host end
			 * with its source on the same host */

/* Name of the symbol the loader looks up with dlsym(). */
#define VMM_PLUGIN_ENTRY_SYMBOL "vmm_plugin_entry"

/* Plugins are built with -fvisibility=hidden; this marks the one export. */
#define VMM_EXPORT __attribute__((visibility("default")))

enum vmm_plugin_kind {
	VMM_PLUGIN_HYPERVISOR = 1, /* ops: struct vmm_hv_ops (vmm/hypervisor.h) */
	VMM_PLUGIN_DEVICE = 2,     /* ops: struct vmm_device_ops (vmm/device.h) */
	VMM_PLUGIN_BACKEND = 3,    /* ops: struct vmm_backend_ops (vmm/backend.h) */
};

/* Property types.  Config values are validated against these before any
 * plugin code runs, so a plugin reading its properties never sees bad input. */
enum vmm_prop_type {
	VMM_PROP_INT = 1,    /* signed 64-bit; decimal, 0x hex or 0 octal; optional K/M/G suffix */
	VMM_PROP_BOOL = 2,   /* true/false, yes/no, on/off, 1/0 */
	VMM_PROP_STRING = 3, /* any string */
	VMM_PROP_ENUM = 4,   /* one of .choices */
};

/* The loader refuses a schema that breaks these rules, naming the plugin:
 * each name 1 to 63 characters of A-Z a-z 0-9 . _ -, given once, and not
 * "plugin" (the config's key for the plugin itself); an INT default inside
 * min..max, a BOOL default 0 or 1, an ENUM default one of .choices (a
 * required property's default is not checked).  The descriptor's and the
 * ops tables' `size` are at most what this ABI version defines. */
struct vmm_prop_desc {
	const char *name;           /* NULL terminates a schema array */
	enum vmm_prop_type type;
	const char *help;           /* one line, shown by `vmmctl plugins describe` */
	int64_t def_int;            /* default for INT and BOOL (0/1) */
	const char *def_str;        /* default for STRING and ENUM; NULL means unset */
	int64_t min, max;           /* INT range, inclusive; ignored when min > max */
	const char *const *choices; /* ENUM values, NULL-terminated */
	bool required;              /* the config must set it */
};

struct vmm_plugin {
	uint32_t abi_major;   /* VMM_ABI_MAJOR the plugin was built with */
	uint32_t abi_minor;   /* VMM_ABI_MINOR the plugin was built with */
	uint32_t size;        /* sizeof(struct vmm_plugin) the plugin was built with */
	uint32_t kind;        /* enum vmm_plugin_kind */
	const char *name;     /* unique; what a config's `plugin = ` names; 1-63 of A-Za-z0-9._- */
	const char *version;  /* the plugin's own version string */
	const char *summary;  /* one line */
	const struct vmm_prop_desc *props; /* NULL-name-terminated, or NULL for none */
	const void *ops;      /* kind-specific table; it starts with uint32_t size */
	/* ABI 1.10.  System calls the plugin's code makes beyond vmmctl's
	 * allow-lists (vmm.conf(5): seccomp), by name as in syscalls(2)
	 * ("socket", "ioctl": any request), NULL-terminated, at most 64; NULL
	 * for none.  They are allowed on every thread the plugin's code runs
	 * on (the vCPU threads and the main loop) whenever the machine uses
	 * the plugin.  A name the host's libseccomp does not know is refused
	 * at load.  Shown by `vmmctl plugins describe`. */
	const char *const *syscalls;
};

typedef const struct vmm_plugin *(*vmm_plugin_entry_fn)(void);

/*
 * VMM_PLUGIN_DEFINE(desc) exports the entry point returning &desc.
 * Usage:  static const struct vmm_plugin my_plugin = { VMM_PLUGIN_HEADER, ... };
 *         VMM_PLUGIN_DEFINE(my_plugin)
 */
#define VMM_PLUGIN_HEADER \
	.abi_major = VMM_ABI_MAJOR, .abi_minor = VMM_ABI_MINOR, .size = sizeof(struct vmm_plugin)

#define VMM_PLUGIN_DEFINE(desc)                                                \
	VMM_EXPORT const struct vmm_plugin *vmm_plugin_entry(void);            \
	VMM_EXPORT const struct vmm_plugin *vmm_plugin_entry(void) { return &(desc); }

#ifdef __cplusplus
}
#endif
#endif /* VMM_PLUGIN_H */
