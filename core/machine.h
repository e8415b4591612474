/* core/machine.h - a machine built from a config: hypervisor, memory,
 * plugin instances, buses, vCPU threads and the event loop.
 * Error convention: 0 or a negative errno; errors are logged (one line). */
#ifndef VMM_CORE_MACHINE_H
#define VMM_CORE_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <vmm/vmm.h>
#include "core/bus.h"
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
#define VMM_STATUS_SECCOMP 10     /* a system call outside the thread's allow-list (seccomp.h) */
#define VMM_STATUS_API_STOP 12    /* stopped through the control API (PUT /v1/machine/stop) */
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

/*
 * The counters --stats prints, taken at one moment (a running vCPU's
 * counters are read as they are: exact once it is paused or stopped).
 * The control API's GET /v1/stats reports the same numbers.
 */
struct vmm_vcpu_exit_stats {
	uint64_t exits[VMM_EXIT__COUNT]; /* by reason: vmm_exit_reason_name() */
	uint64_t total;
	uint64_t run_us; /* time in the run loop; 0 until the vCPU has stopped */
};
struct vmm_bus_stats {
	const char *name; /* "pio", "mmio", "msr" */
	size_t regions;
	uint64_t unclaimed_reads, unclaimed_writes, refused_sizes, device_errors;
};
struct vmm_machine_stats {
	unsigned nvcpus;
	struct vmm_vcpu_exit_stats *vcpu; /* nvcpus of them */
	struct vmm_bus_stats bus[VMM_BUS_COUNT];
	unsigned nirqfds;            /* lines delivered by irqfd, */
	uint32_t irqfd_lines[256];   /* these */
	uint64_t guest_errors;       /* guest errors logged by devices */
};
int vmm_machine_stats_get(struct vmm_machine *m, struct vmm_machine_stats *st);
void vmm_machine_stats_free(struct vmm_machine_stats *st);
/* "io", "mmio", "halt", ...: the names --stats and the API use. */
const char *vmm_exit_reason_name(unsigned reason);

/*
 * Pausing a running machine (the control API, from the main loop; any
 * thread but a vCPU's may call these).
 * vmm_machine_pause() kicks every vCPU out of the hypervisor (its kick op:
 * immediate exit, and the kick signal) and returns once each has parked,
 * so no guest instruction runs until vmm_machine_resume().  Device timers
 * and backends go on.  -EALREADY: already paused; -ESHUTDOWN: stopping;
 * -EAGAIN: the vCPUs have not started; -ETIMEDOUT: a vCPU did not park
 * within 5 s (the machine runs on).  vmm_machine_resume(): -EALREADY when
 * not paused, -ESHUTDOWN when stopping.
 */
enum vmm_machine_state {
	VMM_MACHINE_CREATED,  /* built, vCPUs not started */
	VMM_MACHINE_RUNNING,
	VMM_MACHINE_PAUSED,
	VMM_MACHINE_STOPPING, /* on its way out: no request changes that */
};
int vmm_machine_pause(struct vmm_machine *m);
int vmm_machine_resume(struct vmm_machine *m);
enum vmm_machine_state vmm_machine_state(struct vmm_machine *m);
const char *vmm_machine_state_name(enum vmm_machine_state s);
/* Whether vCPU i is parked by a pause. */
bool vmm_machine_vcpu_parked(struct vmm_machine *m, unsigned i);
/* End the run with `status` (vmm_machine_run() returns it), as a guest's
 * power-off would: the event loop ends, the vCPUs are joined. */
void vmm_machine_request_stop(struct vmm_machine *m, int status, const char *why);
/* The machine's event loop (the main thread's), for the control API. */
struct event_base *vmm_machine_event_base(struct vmm_machine *m);
/* The machine's config, as built. */
const struct vmm_machine_config *vmm_machine_config(struct vmm_machine *m);
/* CLOCK_MONOTONIC nanoseconds at which vmm_machine_run() started the vCPUs
 * (0 before): the end of vmmctl's set-up. */
uint64_t vmm_machine_started_ns(const struct vmm_machine *m);
void vmm_machine_destroy(struct vmm_machine *m);

/* A migration's destination (cfg->incoming): its net backends with a
 * standby op (ABI 1.17) leave standby (on false: the loaded machine takes
 * its frames) or enter it.  0, or the first backend's error, in err. */
int vmm_machine_net_standby(struct vmm_machine *m, bool on, char *err, size_t errlen);
/* Guest-physical address of the ACPI RSDP, or 0 without ACPI tables. */
uint64_t vmm_machine_rsdp(struct vmm_machine *m);
/* Write the machine's ACPI tables to DIR/<signature>.dat. */
int vmm_machine_dump_acpi(struct vmm_machine *m, const char *dir);
/* Write the device tree an arm64 machine boots with to FILE, as the
 * guest gets it (before the guest runs). */
int vmm_machine_dump_dtb(struct vmm_machine *m, const char *file);

#endif
