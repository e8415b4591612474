/* core/machine-internal.h - machine state shared by the core's files:
 * the machine's life cycle (machine.c), its host services (host-*.c), the
 * vCPU loop (vcpu-loop.c), the architectures (arch-*.c), boot, snapshot
 * and migration.  The host table's entries themselves are declared in
 * core/host-services.h. */
#ifndef VMM_CORE_MACHINE_INTERNAL_H
#define VMM_CORE_MACHINE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <vmm/vmm.h>
#include "core/bus.h"
#include "core/machine-config.h"
#include "core/process.h"

#define VMM_MAX_IRQ_LINES 256

/* An interrupt controller plugin receiving lines [first, first + count). */
struct vmm_irq_sink {
	struct vmm_instance *in;
	uint32_t first, count;
	const struct vmm_irq_controller_ops *ops;
	void *opaque;
};

#define VMM_MAX_IRQ_SINKS 8

struct vmm_irq_line {
	uint32_t gsi;
	atomic_int level;
	/* A level-triggered line of the in-kernel irqchip delivered through a
	 * resampling irqfd (irqfd >= 0), set up before the vCPUs first run
	 * and fixed from then on; otherwise -1 and KVM_IRQ_LINE. */
	int irqfd, resample_fd;
	struct event *resample_ev;
	/* The first instance that asked for the line (irq_line()), for the
	 * start-up check that the line reaches a controller. */
	const char *user;
};

struct vmm_instance {
	struct vmm_host host; /* first: the plugin's host pointer is the instance */
	struct vmm_machine *m;
	const char *name;
	const struct vmm_loaded_plugin *lp;
	struct vmm_propset *props;
	void *state;
	/* Devices are serialised: bus accesses, timers and fd callbacks take
	 * this lock, so device code needs none of its own. */
	bool serialised;
	pthread_mutex_t lock;
	struct vmm_bus_owner owner;
	/* Marks the thread while it runs this instance's plugin code. */
	struct vmm_who who;
	char *who_what;
	bool is_backend, opened, failed;
	/* The plugin asked for a host pointer into guest RAM (mem_map): one
	 * built before ABI 1.15 cannot say what it wrote there, so the
	 * machine is not migrated (core/migrate.c). */
	atomic_bool mapped_ram;
	/* A backend built by vmm_machine_check(): checked, never opened.
	 * Its state (if any) goes only to info() and close(); the core
	 * itself answers its device's writes, requests and frames. */
	bool stand_in;
	struct vmm_char *chr; /* backends: the connection they feed */
	struct vmm_block *blk; /* block backends: the device using them */
	struct vmm_net *net;   /* net backends: the device using them */
	bool link_down;        /* net backends: what net_link_set() said last */
	bool char_down;        /* char backends: char_connected(false) said last */
	struct vmm_instance *next;
};

struct vmm_ram {
	uint64_t gpa, size;
	uint8_t *hva;
	/* Pages the VMM's own devices wrote (mark_dirty, mem_write), one bit
	 * a page as in the hypervisor's dirty log: KVM's log does not see
	 * them.  Set from any thread; a live migration takes and clears the
	 * words each round (vmm_machine_dev_dirty_take, core/migrate.c). */
	_Atomic uint64_t *dev_dirty;
};

struct vmm_vcpu {
	struct vmm_machine *m;
	unsigned index;
	void *hv;
	pthread_t thread;
	bool running;
	/* The INTR pin (emulated 8259): raised by cpu_intr_set(), answered
	 * with ack() by `intr_sink` when the vCPU can take an interrupt. */
	atomic_int intr_level;
	struct vmm_irq_sink *intr_sink;
	bool window_requested;
	/* The IRQ and FIQ inputs an interrupt controller plugin drives
	 * (cpu_irq_line, ABI 1.8): bit VMM_CPU_IRQ or VMM_CPU_FIQ set for a
	 * high level, written from any thread; `cpu_pins_given` is what this
	 * vCPU's own thread last handed the hypervisor, between its runs
	 * (vmm_apply_cpu_pins() in host-irq.c says why only that thread may). */
	atomic_uint cpu_pins;
	unsigned cpu_pins_given;
	bool parked; /* paused (vmm_machine_pause()): under the machine's halt_lock */
	/* In the core's halt wait (no in-kernel local APIC), under halt_lock:
	 * a snapshot keeps it, and a restored vCPU with start_halted begins
	 * there instead of running the instruction after its HLT. */
	bool halted, start_halted;
	uint64_t exits[VMM_EXIT__COUNT];
	uint64_t run_ns; /* wall time in the run loop, first vcpu_run() to the last exit */
};

struct vmm_machine {
	const struct vmm_machine_config *cfg;
	struct vmm_plugin_set *ps;
	const char *plugin_path;
	struct event_base *base;
	struct event *stop_ev;
	uint64_t t0;
	uint64_t clock_base;	/* the virtual clock at the start of the run (a restore's) */
	uint64_t started_ns;	/* CLOCK_MONOTONIC when the vCPUs started */
	atomic_int signalled;	/* a stop signal taken by the event loop, or 0 */

	struct vmm_instance *hv_inst;
	const struct vmm_hv_ops *hv_ops;
	void *vm;

	struct vmm_ram ram[2];
	unsigned nram;
	/* A live migration is logging dirty pages (core/migrate.c): until
	 * then mark_dirty returns at once, so a device's completions cost
	 * no atomic OR per page when nothing will read the bitmaps. */
	_Atomic bool dirty_tracking;
	/* The migration under way (core/migrate.c vmm_migrate_start), or
	 * NULL: main thread only. */
	struct vmm_migration *migration;
	/* /proc/self/pagemap, opened at build (seccomp forbids opening it
	 * later): a snapshot skips the RAM pages the guest never touched
	 * without touching them itself (core/snapshot.c).  -1: scan all. */
	int pagemap_fd;
	bool ram_from_file; /* restored: RAM pages not yet copied are in the file */
	struct vmm_bus_space bus[VMM_BUS_COUNT];
	struct vmm_irq_line irq[VMM_MAX_IRQ_LINES];
	unsigned nirqfds; /* lines with an irqfd */
	enum vmm_irq_mode irq_mode;
	/* Firmware descriptions from devices (deep copies). */
	struct vmm_device_desc *descs;
	size_t ndescs;
	/* CPUID leaves from devices (cpuid_set, ABI 1.9), applied to every
	 * vCPU once the devices exist. */
	struct vmm_cpuid_leaf *cpuid;
	size_t ncpuid;
	/* The device that enabled the hypervisor's in-kernel Hyper-V
	 * (hyperv_enable, ABI 1.13) and its client for VMM_EXIT_HYPERV. */
	struct vmm_instance *hyperv_in;
	struct vmm_hyperv_client hyperv_client;
	void *hyperv_opaque;
	/* Registered while devices are created, before any vCPU runs; read
	 * without a lock afterwards. */
	struct vmm_irq_sink sinks[VMM_MAX_IRQ_SINKS];
	unsigned nsinks;
	/* ABI 1.14: the device that takes the timers' output levels. */
	const struct vmm_timer_output_ops *timer_ops;
	void *timer_opaque;
	struct vmm_instance *timer_in;

	struct vmm_vcpu *vcpus;
	unsigned nvcpus;

	struct vmm_instance *instances; /* newest first */
	struct vmm_cfg_instance **implicit;
	size_t nimplicit;

	/* ACPI RSDP for the boot structures (vmm_boot_set_rsdp()): the
	 * address, and the guest-physical 64-bit field that holds it once
	 * vmm_boot_load() has built them (0: not yet, or a flat binary). */
	uint64_t boot_rsdp, boot_rsdp_field;
	/* arm64: the device tree vmm_arm64_boot() placed in guest RAM
	 * (size 0: none yet), for vmm_machine_dump_dtb(). */
	uint64_t dtb_gpa, dtb_size;

	/* Built by vmm_machine_check(): backends are checked instead of
	 * opened, construction goes on past a device that fails, and the
	 * machine never runs. */
	bool checking;
	bool in_ready; /* the devices' ready ops run (vcpu_reg_write, ABI 1.14) */

	atomic_bool stopping;
	/* vmm_machine_pause(): the vCPUs park at the top of their loop (or in
	 * their halt wait) while this is set.  `nparked` counts them, under
	 * halt_lock; park_cond tells the pausing thread of each one. */
	atomic_bool pause_requested;
	unsigned nparked;
	pthread_cond_t park_cond;
	int status;
	atomic_uint_fast64_t guest_errors;
	pthread_mutex_t halt_lock;
	pthread_cond_t halt_cond;
	/* Seccomp (seccomp.h): the plugins' extra calls, and the gate that
	 * holds every vCPU before its first entry until all filters are in. */
	const char *const **seccomp_extra;
	size_t nseccomp_extra;
	/* The vCPU threads' filter, built once (vcpu-loop.c, vcpu_confine). */
	pthread_mutex_t vcpu_prog_lock;
	struct vmm_seccomp_prog vcpu_prog;
	bool vcpu_prog_built;
	int vcpu_prog_rc;
	char vcpu_prog_err[256];
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	bool gate_open;
};

void vmm_machine_stop(struct vmm_machine *m, int status, const char *why);
/* Take and give back an instance's lock, marking the thread as running its
 * plugin's code (for the snapshot code in core/snapshot.c). */
const struct vmm_who *vmm_instance_lock(struct vmm_instance *in);
void vmm_instance_unlock(struct vmm_instance *in, const struct vmm_who *prev);
struct vmm_instance *vmm_machine_backend(struct vmm_machine *m, const char *ref, const char *user,
					 enum vmm_backend_type type);
/* Host pointer to guest RAM [gpa, gpa+len), or NULL. */
void *vmm_machine_ram(struct vmm_machine *m, uint64_t gpa, size_t len);

/* Guest RAM [gpa, gpa + len) written by the VMM itself: into the regions'
 * dev_dirty bitmaps (bytes outside RAM are ignored). */
void vmm_machine_mark_dirty(struct vmm_machine *m, uint64_t gpa, uint64_t len);
/* Region r's device-dirty bits ORed into bitmap (the region's pages
 * rounded up to 64) and cleared. */
void vmm_machine_dev_dirty_take(struct vmm_ram *r, uint64_t *bitmap);

/* ------------------------------- between the machine's files, by file */

/* machine.c */
/* A device's problem with what its config section says, on one line that
 * names the section (or the instance `user`, when it has none). */
void vmm_user_error(struct vmm_machine *m, const char *user, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* host-irq.c */
/* Warn of each line a device asked for that reaches no controller. */
void vmm_check_irq_lines(struct vmm_machine *m);
/* Level-triggered lines through resampling irqfds, before any vCPU runs. */
void vmm_setup_irqfds(struct vmm_machine *m);
/* Deassign and close every irqfd (machine teardown). */
void vmm_teardown_irqfds(struct vmm_machine *m);
/* On vCPU v's own thread, before a run: its IRQ/FIQ levels to the hypervisor. */
void vmm_apply_cpu_pins(struct vmm_machine *m, struct vmm_vcpu *v);

/* host-backends.c */
/* A char backend closing: one line for its failed writes not yet logged. */
void vmm_char_report_lost(struct vmm_instance *in);

/* host-hv.c */
/* The devices' CPUID leaves (cpuid_set) on every vCPU: 0 or the first error. */
int vmm_apply_cpuid(struct vmm_machine *m);

/* host-memory.c */
/* Map guest RAM (the architecture's layout) and give it to the hypervisor. */
int vmm_setup_ram(struct vmm_machine *m);

/* vcpu-loop.c */
/* The vCPU whose thread this is, or NULL (the main thread). */
extern __thread struct vmm_vcpu *vmm_this_vcpu;
/* Out of the hypervisor now: vcpu_kick() plus the kick signal. */
void vmm_kick_vcpu(struct vmm_machine *m, struct vmm_vcpu *v);
/* Wake the vCPUs waiting in the core's halt wait (or parked by a pause). */
void vmm_kick_halted(struct vmm_machine *m);

/* ------------------------------------ helpers of the machine's files */

#define VMM_KICK_SIGNAL SIGUSR1

/* The hypervisor plugin's marker, for every call into it (process.h). */
#define HV_WHO(m) (&(m)->hv_inst->who)

static inline struct vmm_instance *inst_of(const struct vmm_host *h)
{
	/* The host table is the first member of its instance. */
	return (struct vmm_instance *)(void *)h;
}

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline bool hv_has(const struct vmm_machine *m, size_t end)
{
	return m->hv_ops->size >= end;
}
#define HV_HAS(m, field) \
	(hv_has((m), offsetof(struct vmm_hv_ops, field) + sizeof(void *)) && (m)->hv_ops->field)

/* Reads and so resets an eventfd's counter, which sums every signal since
 * the last read: false when there was none (EAGAIN). */
static inline bool eventfd_take(int fd)
{
	uint64_t count;

	return read(fd, &count, sizeof(count)) == (ssize_t)sizeof(count);
}

#endif
