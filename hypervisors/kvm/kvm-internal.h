/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-internal.h - what the architecture-neutral half of
 * the kvm plugin (kvm.c: /dev/kvm, the VM, memory slots, vCPUs and their
 * run loop, ioeventfds, irqfds, ONE_REG) shares with its architecture half
 * (kvm-x86.c or kvm-arm64.c, chosen by hypervisors/kvm/local.mk).
 *
 * The architecture half defines struct kvm_arch_vm, the kvm_arch_* hooks
 * below, the property schema, the ops table and the plugin descriptor; the
 * ops table names the common kvm_* functions declared here.
 */
#ifndef VMM_KVM_INTERNAL_H
#define VMM_KVM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include <vmm/hypervisor.h>

#include "hypervisors/kvm/kvm-dirty-ring.h"

struct kvm_arch_vm;

/* Memory slots whose size the plugin remembers (the core uses 0..2). */
#define KVM_TRACKED_SLOTS 32

struct kvm_vm {
	const struct vmm_host *h;
	int sys_fd;
	int vm_fd;
	int run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	bool irqchip;		/* KVM_IRQ_LINE reaches an in-kernel irqchip */
	enum vmm_irq_mode mode;	/* the `irqchip` property */
	bool readonly_mem;	/* KVM_CAP_READONLY_MEM */
	bool ioeventfd;		/* KVM_CAP_IOEVENTFD */
	bool irqfd;		/* resampling irqfds offered (see kvm_irqfd) */
	bool one_reg;		/* KVM_CAP_ONE_REG */
	int clock_caps;		/* KVM_CAP_ADJUST_CLOCK's flags, -1: not asked yet */
	uint32_t nr_vcpus;
	/* kvm_arch_after_run() after every KVM_RUN: the architecture half
	 * reports per-vCPU lines from kvm_run (arm64 with a userspace GIC:
	 * the timers' levels).  False costs nothing on the run path. */
	bool after_run;
	struct kvm_arch_vm *arch; /* the architecture half's own state */
	/* set_memory(): each slot's size and whether it logs writes, for
	 * dirty_log_get() (the bitmap KVM fills is one bit a page of it). */
	uint64_t slot_size[KVM_TRACKED_SLOTS];
	bool slot_dirty_log[KVM_TRACKED_SLOTS];
	/* dirty-log = "ring": each vCPU's ring and the slots' harvested
	 * pages (kvm-dirty-ring.h); NULL in the bitmap mode. */
	struct kvm_rings *rings;
	bool ring_wanted;	/* dirty-log = "ring": enabled at the first vCPU */
	uint32_t ring_entries;	/* dirty-ring-size, or KVM's largest */
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	struct kvm_run *run;
	int fd;
	uint32_t index;
	/* The exit handed to the core last; its result is due at the next run. */
	uint32_t pending;
	const struct vmm_exit *pending_exit; /* where the core writes that result */
	struct vmm_vcpu_stats stats;
	/* The architecture half's: the per-vCPU line levels last reported to
	 * the core (arm64: kvm_run's device_irq_level bits). */
	uint64_t reported_levels;
	/* x86: KVM_GET_TSC_KHZ's answer, asked once (0: not yet).  vmmctl
	 * never sets the frequency, so it stays what KVM chose at creation;
	 * vcpu_tsc is on the MSR-exit path of the Hyper-V reference counter. */
	uint32_t tsc_khz;
	/* dirty-log = "ring": this vCPU's ring (ring.gfns NULL otherwise). */
	struct kvm_ring ring;
};

/* The properties of the dirty-log mode, for the architecture half's
 * schema (kvm.c reads them). */
#define KVM_DIRTY_LOG_PROPS \
	{ .name = "dirty-log", .type = VMM_PROP_ENUM, .def_str = "bitmap", .choices = kvm_dirty_log_choices, \
	  .help = "how a live migration learns the pages the guest wrote: bitmap (KVM_GET_DIRTY_LOG per " \
		  "slot) or ring (a ring per vCPU, KVM_CAP_DIRTY_LOG_RING; chosen here, before the vCPUs exist)" }, \
	{ .name = "dirty-ring-size", .type = VMM_PROP_INT, .def_int = 0, .min = 0, .max = KVM_RING_MAX_ENTRIES, \
	  .help = "dirty-log = ring: entries of each vCPU's ring (16 bytes each), a power of two from 256; " \
		  "0: the largest KVM takes (at most 65536)" }
extern const char *const kvm_dirty_log_choices[];

/* --- hooks the architecture half implements --- */

/* Before /dev/kvm is opened: read the properties (a config error is not a
 * host error), allocate vm->arch, set vm->mode.  Logs and returns an errno. */
int kvm_arch_vm_init(struct kvm_vm *vm, uint32_t nr_vcpus);
/* Log each capability this architecture needs and the host lacks; returns
 * how many. */
int kvm_arch_check_caps(struct kvm_vm *vm);
/* KVM_CREATE_VM's machine type argument. */
unsigned long kvm_arch_vm_type(struct kvm_vm *vm);
/* After KVM_CREATE_VM: in-kernel devices, capabilities to enable. */
int kvm_arch_vm_setup(struct kvm_vm *vm);
/* Frees vm->arch (may be NULL). */
void kvm_arch_vm_fini(struct kvm_vm *vm);
/* After KVM_CREATE_VCPU and the kvm_run mmap: the vCPU's initial state. */
int kvm_arch_vcpu_init(struct kvm_vcpu *vcpu);
/* An exit reason the common translation does not know: fill *exit and
 * return true, or false for VMM_EXIT_UNKNOWN. */
bool kvm_arch_translate_exit(struct kvm_vcpu *vcpu, struct kvm_run *run, struct vmm_exit *exit);
/* KVM_RUN failed with errno `err` (not EINTR/EAGAIN): 0 with *exit filled
 * when that is an exit of the guest's making, else -err. */
int kvm_arch_run_error(struct kvm_vcpu *vcpu, int err, struct vmm_exit *exit);
/* KVM_IRQ_LINE's irq field for the core's interrupt line. */
int kvm_arch_irq_encode(struct kvm_vm *vm, uint32_t line, uint32_t *irq);
/* KVM_IRQFD's gsi (a routing entry's number) for the core's line. */
int kvm_arch_irqfd_gsi(struct kvm_vm *vm, uint32_t line, uint32_t *gsi);
/* After each KVM_RUN (returned or failed), when vm->after_run is set. */
void kvm_arch_after_run(struct kvm_vcpu *vcpu);

/* --- common helpers --- */
int kvm_check_ext(struct kvm_vm *vm, long cap);
bool kvm_prop_bool(const struct vmm_host *h, const char *name, bool def);
int kvm_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned long req, const char *name, void *arg);

/* --- common ops, for the architecture half's ops table --- */
int kvm_vm_create(const struct vmm_host *h, uint32_t nr_vcpus, void **vm);
void kvm_vm_destroy(void *vm);
int kvm_set_memory(void *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
		   uint32_t flags);
int kvm_irq_line(void *vm, uint32_t line, int level);
int kvm_vcpu_create(void *vm, uint32_t index, void **vcpu);
void kvm_vcpu_destroy(void *vcpu);
int kvm_vcpu_run(void *vcpu, struct vmm_exit *exit);
void kvm_vcpu_kick(void *vcpu);
int kvm_vcpu_get_stats(void *vcpu, struct vmm_vcpu_stats *st);
enum vmm_irq_mode kvm_irq_mode(void *vm);
int kvm_ioeventfd(void *vm, enum vmm_bus bus, uint64_t addr, uint32_t len, bool match,
		  uint64_t data, int fd, bool assign);
int kvm_irqfd(void *vm, uint32_t gsi, int fd, int resample_fd, bool assign);
int kvm_vcpu_reg_get(void *vcpu, uint64_t id, void *val);
int kvm_vcpu_reg_set(void *vcpu, uint64_t id, const void *val);
int kvm_dirty_log_get(void *vm, uint32_t slot, uint64_t *bitmap);

#endif
