/* core/machine.h - a machine built from a config: hypervisor, memory,
 * plugin instances, buses, vCPU threads and the event loop.
 * Error convention: 0 or a negative errno; errors are logged (one line). */
#ifndef VMM_CORE_MACHINE_H
#define VMM_CORE_MACHINE_H

#include <stdio.h>
#include "core/machine-config.h"
#include "core/log.h"

struct vmm_machine;

/*
 * vmmctl's exit statuses.  They never collide: vmmctl's own are even and
 * small, a guest's debug-exit statuses odd and at most 127
 * (VMM_STATUS_GUEST_MAX), and a signal that stopped the VM gives 128 + N.
 * A script can tell "the guest said 1" (3) from "the guest reset" (6).
 */
#define VMM_STATUS_POWEROFF 0
#define VMM_STATUS_ERROR 2        /* vmmctl could not build or run the machine */
#define VMM_STATUS_GUEST_CRASH 4  /* triple fault, emulation failure */
#define VMM_STATUS_RESET 6        /* the guest asked for a reset */
#define VMM_STATUS_PLUGIN_FAULT 8 /* plugin code crashed or called exit() (process.h) */
#define VMM_STATUS_GUEST_MAX 127  /* the largest status a guest can choose */

int vmm_machine_create(const struct vmm_machine_config *cfg, struct vmm_plugin_set *ps,
		       const char *plugin_path, struct vmm_machine **out);
/*
 * vmmctl check: the machine built as vmm_machine_create() builds it, for
 * real (the hypervisor's VM and vCPUs, guest RAM, every device created on
 * the buses, the firmware tables, the boot payload loaded), so that the
 * two cannot drift, except that no backend is opened: each is checked
 * instead (its check op, vmm/backend.h) and its device gets a stand-in.
 * Every problem is logged as run would log it, as many as construction
 * can go on past (each device whose create() fails, and the payload).
 * Without a boot payload that part is skipped, said in one line.  On
 * success *out is a machine to inspect and destroy; vmm_machine_run()
 * refuses it.
 */
int vmm_machine_check(const struct vmm_machine_config *cfg, struct vmm_plugin_set *ps,
		      const char *plugin_path, struct vmm_machine **out);
/* Runs until the guest or a signal ends it; returns vmmctl's exit status. */
int vmm_machine_run(struct vmm_machine *m);
void vmm_machine_print_stats(struct vmm_machine *m, FILE *f);
/* CLOCK_MONOTONIC nanoseconds at which vmm_machine_run() started the vCPUs
 * (0 before): the end of vmmctl's set-up. */
uint64_t vmm_machine_started_ns(const struct vmm_machine *m);
void vmm_machine_destroy(struct vmm_machine *m);
/* Guest-physical address of the ACPI RSDP, or 0 without ACPI tables. */
uint64_t vmm_machine_rsdp(struct vmm_machine *m);
/* Write the machine's ACPI tables to DIR/<signature>.dat. */
int vmm_machine_dump_acpi(struct vmm_machine *m, const char *dir);
/* Write the device tree an arm64 machine boots with to FILE, as the
 * guest gets it (before the guest runs). */
int vmm_machine_dump_dtb(struct vmm_machine *m, const char *file);

#endif
