/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm.c - the Linux KVM backend, its architecture-neutral
 * half: /dev/kvm, the VM, memory slots, vCPU creation, the run loop and
 * kick, ioeventfds, irqfds, registers by id (ONE_REG) and statistics.  The
 * architecture half (kvm-x86.c, kvm-arm64.c; kvm-internal.h) adds its
 * properties, irqchip, vCPU set-up, exits and ops table.
 *
 * One struct kvm_vm per VM and one struct kvm_vcpu per vCPU; there is no
 * global state, so a process may run several VMs.  Every ioctl failure is
 * logged as one line through the instance's host table, naming the ioctl.
 *
 * The hot path is kvm_vcpu_run(): one KVM_RUN and a switch on the exit
 * reason.  Data of port and MMIO reads is exchanged in place in the shared
 * kvm_run page (the generic exit points into it), so only MSR and
 * hypercall results need copying back before the next KVM_RUN.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hypervisors/kvm/kvm-internal.h"
#include "hypervisors/kvm/kvm-vcpus.h"

/* ------------------------------------------------------------------ */
/* VM */

int kvm_check_ext(struct kvm_vm *vm, long cap)
{
	int r = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static int open_device(struct kvm_vm *vm, const char *dev)
{
	vm->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		int err = errno;
		const char *hint = "";

		if (err == EACCES || err == EPERM)
			hint = " (run as root or join group kvm)";
		else if (err == ENOENT || err == ENXIO || err == ENODEV)
			hint = " (is the kvm module loaded?)";
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: cannot open %s: %s%s", dev, strerror(err), hint);
		return -err;
	}
	return 0;
}

/* Log every missing required capability, not only the first. */
static int check_caps(struct kvm_vm *vm, uint32_t nr_vcpus)
{
	static const struct {
		long cap;
		const char *name;
	} required[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	const struct vmm_host *h = vm->h;
	struct kvm_vcpu_caps caps;
	struct kvm_vcpu_limits lim;
	int missing = 0;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!kvm_check_ext(vm, required[i].cap)) {
			h->log(h, VMM_LOG_ERROR, "kvm: host lacks required capability %s",
			       required[i].name);
			missing++;
		}
	}
	/* NR_VCPUS is only KVM's recommendation (the host's CPUs); the limits
	 * are MAX_VCPUS and MAX_VCPU_ID (KVM API, 4.7 KVM_CREATE_VCPU). */
	caps = (struct kvm_vcpu_caps){ .nr_vcpus = kvm_check_ext(vm, KVM_CAP_NR_VCPUS),
				       .max_vcpus = kvm_check_ext(vm, KVM_CAP_MAX_VCPUS),
				       .max_vcpu_id = kvm_check_ext(vm, KVM_CAP_MAX_VCPU_ID) };
	switch (kvm_vcpu_count_check(&caps, nr_vcpus, &lim)) {
	case KVM_VCPUS_TOO_MANY:
		h->log(h, VMM_LOG_ERROR, "kvm: %u vCPUs asked for, more than this host's KVM takes "
		       "(KVM_CAP_MAX_VCPUS %u, KVM_CAP_MAX_VCPU_ID %u)", nr_vcpus, lim.max, lim.max_id);
		missing++;
		break;
	case KVM_VCPUS_OVERCOMMIT:
		h->log(h, VMM_LOG_WARN, "kvm: %u vCPUs on a host whose KVM recommends at most %u "
		       "(KVM_CAP_NR_VCPUS): overcommitted, they share the host's CPUs",
		       nr_vcpus, lim.recommended);
		break;
	case KVM_VCPUS_OK:
		break;
	}
	if (vm->ring_wanted && kvm_check_ext(vm, KVM_CAP_DIRTY_LOG_RING_ACQ_REL) <= 0 &&
	    kvm_check_ext(vm, KVM_CAP_DIRTY_LOG_RING) <= 0) {
		h->log(h, VMM_LOG_ERROR, "kvm: dirty-log = \"ring\" needs KVM_CAP_DIRTY_LOG_RING_ACQ_REL or "
		       "KVM_CAP_DIRTY_LOG_RING, which this host's KVM lacks (use dirty-log = \"bitmap\")");
		missing++;
	}
	missing += kvm_arch_check_caps(vm);
	return missing ? -ENOTSUP : 0;
}

bool kvm_prop_bool(const struct vmm_host *h, const char *name, bool def)
{
	bool v;

	return h->prop_bool(h, name, &v) == 0 ? v : def;
}

/* ------------------------------------------------------------------ */
/* The dirty ring (dirty-log = "ring"; kvm-dirty-ring.h) */

const char *const kvm_dirty_log_choices[] = { "bitmap", "ring", NULL };

/* Before /dev/kvm is opened: the mode and the ring's size. */
static int dirty_log_props(struct kvm_vm *vm)
{
	const struct vmm_host *h = vm->h;
	const char *mode = h->prop_str(h, "dirty-log");
	int64_t entries = 0;

	if (!mode || strcmp(mode, "ring") != 0)
		return 0;
	vm->ring_wanted = true;
	h->prop_int(h, "dirty-ring-size", &entries);
	if (entries && (entries < KVM_RING_MIN_ENTRIES || entries > KVM_RING_MAX_ENTRIES || (entries & (entries - 1)))) {
		h->log(h, VMM_LOG_ERROR, "kvm: dirty-ring-size %lld is neither 0 (KVM's largest) nor a power of two "
		       "from %u to %u", (long long)entries, KVM_RING_MIN_ENTRIES, KVM_RING_MAX_ENTRIES);
		return -EINVAL;
	}
	vm->ring_entries = (uint32_t)entries;
	return 0;
}

static int rings_reset(void *opaque)
{
	struct kvm_vm *vm = opaque;

	if (ioctl(vm->vm_fd, KVM_RESET_DIRTY_RINGS, 0) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_RESET_DIRTY_RINGS: %s", strerror(err));
		return -err;
	}
	return 0;
}

/*
 * At the first vCPU: KVM takes the ring only before the first vCPU exists
 * and its size in bytes a power of two (KVM API document 8.29).
 * The mode is the config's because of that: a migration that comes later
 * cannot switch it.  Memory slots log into the rings as into bitmaps
 * (KVM_MEM_LOG_DIRTY_PAGES), and KVM_GET_DIRTY_LOG then has no bitmap to
 * return (ENXIO), so dirty_log_get() reads the rings instead.
 * KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP (pages written with no vCPU running)
 * is an arm64 matter (the vGIC ITS tables); x86 never needs it.
 */
static int dirty_ring_enable(struct kvm_vm *vm)
{
	const struct vmm_host *h = vm->h;
	uint32_t bytes;
	long cap;
	int max, r;

	if (!vm->ring_wanted || vm->rings)
		return 0;
	/* dirty-ring-size = 0: the largest ring KVM takes (up to
	 * KVM_RING_MAX_ENTRIES), the most room between two harvests.  Room
	 * matters more than it seems: KVM adds an entry per page written
	 * since its last reset, but for a write it emulates (an MMIO
	 * instruction's, kvmclock's, and on this project's hosts every store
	 * of guest kernel code, which kvm_pvm interprets) an entry per write,
	 * the same page again and again (kvm_main.c, mark_page_dirty_in_slot:
	 * no check whether the page is in the ring already). */
	if (!vm->ring_entries) {
		long c;
		int m = 0;

		kvm_ring_cap(kvm_check_ext(vm, KVM_CAP_DIRTY_LOG_RING_ACQ_REL), kvm_check_ext(vm, KVM_CAP_DIRTY_LOG_RING),
			     0, &c, &m);
		vm->ring_entries = KVM_RING_MAX_ENTRIES;
		while (vm->ring_entries > KVM_RING_MIN_ENTRIES &&
		       (uint64_t)vm->ring_entries * sizeof(struct kvm_dirty_gfn) > (uint64_t)m)
			vm->ring_entries /= 2;
	}
	bytes = vm->ring_entries * (uint32_t)sizeof(struct kvm_dirty_gfn);
#if KVM_DIRTY_LOG_PAGE_OFFSET == 0
	h->log(h, VMM_LOG_ERROR, "kvm: dirty-log = \"ring\": this plugin was built without "
	       "KVM_DIRTY_LOG_PAGE_OFFSET (its kernel headers have no KVM_CAP_DIRTY_LOG_RING for this architecture)");
	return -ENOTSUP;
#endif
	r = kvm_ring_cap(kvm_check_ext(vm, KVM_CAP_DIRTY_LOG_RING_ACQ_REL), kvm_check_ext(vm, KVM_CAP_DIRTY_LOG_RING),
			 bytes, &cap, &max);
	if (r == -ENOTSUP) {
		h->log(h, VMM_LOG_ERROR, "kvm: dirty-log = \"ring\" needs KVM_CAP_DIRTY_LOG_RING_ACQ_REL or "
		       "KVM_CAP_DIRTY_LOG_RING, which this host's KVM lacks (use dirty-log = \"bitmap\")");
		return r;
	}
	if (r) {
		h->log(h, VMM_LOG_ERROR, "kvm: dirty-ring-size %u (%u bytes) is more than this host's KVM takes "
		       "(%s: %d bytes, %d entries)", vm->ring_entries, bytes,
		       cap == KVM_CAP_DIRTY_LOG_RING_ACQ_REL ? "KVM_CAP_DIRTY_LOG_RING_ACQ_REL" : "KVM_CAP_DIRTY_LOG_RING",
		       max, max / (int)sizeof(struct kvm_dirty_gfn));
		return r;
	}
	struct kvm_enable_cap ec = { .cap = (uint32_t)cap, .args[0] = bytes };
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &ec) < 0) {
		r = -errno;
		/* EINVAL also for a ring smaller than KVM's reserved entries
		 * (64, plus the CPU's own log buffer: 512 with Intel's PML). */
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_ENABLE_CAP %s with %u bytes: %s",
		       cap == KVM_CAP_DIRTY_LOG_RING_ACQ_REL ? "KVM_CAP_DIRTY_LOG_RING_ACQ_REL" : "KVM_CAP_DIRTY_LOG_RING",
		       bytes, strerror(-r));
		return r;
	}
	vm->rings = malloc(sizeof(*vm->rings));
	if (!vm->rings || kvm_rings_init(vm->rings, vm->nr_vcpus, rings_reset, vm)) {
		free(vm->rings);
		vm->rings = NULL;
		h->log(h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void dirty_ring_fini(struct kvm_vm *vm)
{
	struct kvm_rings *r = vm->rings;

	if (!r)
		return;
	if (r->harvested || r->dropped || r->full)
		vm->h->log(vm->h, VMM_LOG_INFO, "kvm: dirty rings: %llu entries harvested, %llu dropped, "
			   "%llu ring-full exits", (unsigned long long)r->harvested, (unsigned long long)r->dropped,
			   (unsigned long long)r->full);
	kvm_rings_fini(r);
	free(r);
	vm->rings = NULL;
}

/* The vCPU's ring, mapped from its fd (KVM API document 8.29). */
static int dirty_ring_map(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	size_t bytes = (size_t)vm->ring_entries * sizeof(struct kvm_dirty_gfn);
	void *p;

	if (!vm->rings)
		return 0;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd,
		 (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * sysconf(_SC_PAGESIZE));
	if (p == MAP_FAILED) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: mmap of the dirty ring of vCPU %u: %s", vcpu->index,
			   strerror(err));
		return -err;
	}
	vcpu->ring = (struct kvm_ring){ .gfns = p, .entries = vm->ring_entries };
	kvm_rings_attach(vm->rings, vcpu->index, &vcpu->ring);
	return 0;
}

static void dirty_ring_unmap(struct kvm_vcpu *vcpu)
{
	if (!vcpu->ring.gfns)
		return;
	kvm_rings_attach(vcpu->vm->rings, vcpu->index, NULL);
	munmap(vcpu->ring.gfns, (size_t)vcpu->ring.entries * sizeof(struct kvm_dirty_gfn));
	vcpu->ring.gfns = NULL;
}

/* ------------------------------------------------------------------ */
/* VM */

void kvm_vm_destroy(void *opaque)
{
	struct kvm_vm *vm = opaque;

	if (!vm)
		return;
	close(vm->vm_fd);
	close(vm->sys_fd);
	dirty_ring_fini(vm);
	kvm_arch_vm_fini(vm);
	free(vm);
}

int kvm_vm_create(const struct vmm_host *h, uint32_t nr_vcpus, void **out)
{
	struct kvm_vm *vm;
	const char *dev;
	int r;

	*out = NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		h->log(h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	vm->h = h;
	vm->sys_fd = vm->vm_fd = -1;
	vm->clock_caps = -1;
	vm->nr_vcpus = nr_vcpus;
	/* Properties before touching the device: a config error is not a
	 * host error. */
	r = kvm_arch_vm_init(vm, nr_vcpus);
	if (!r)
		r = dirty_log_props(vm);
	if (r)
		goto free_vm;

	dev = h->prop_str(h, "device");
	r = open_device(vm, dev ? dev : "/dev/kvm");
	if (r)
		goto free_vm;

	r = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		if (r < 0)
			h->log(h, VMM_LOG_ERROR, "kvm: KVM_GET_API_VERSION: %s", strerror(errno));
		else
			h->log(h, VMM_LOG_ERROR, "kvm: KVM API version %d, expected %d", r,
			       KVM_API_VERSION);
		r = -ENOTSUP;
		goto close_sys;
	}
	r = check_caps(vm, nr_vcpus);
	if (r)
		goto close_sys;
	vm->readonly_mem = kvm_check_ext(vm, KVM_CAP_READONLY_MEM) > 0;
	vm->ioeventfd = kvm_check_ext(vm, KVM_CAP_IOEVENTFD) > 0;
	vm->one_reg = kvm_check_ext(vm, KVM_CAP_ONE_REG) > 0;

	vm->run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_GET_VCPU_MMAP_SIZE: %s",
		       vm->run_size < 0 ? strerror(errno) : "too small");
		r = vm->run_size < 0 ? -errno : -EPROTO;
		goto close_sys;
	}

	/* Retry on EINTR: a signal to this thread must not fail VM creation. */
	do {
		vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, kvm_arch_vm_type(vm));
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		r = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_CREATE_VM: %s", strerror(-r));
		goto close_sys;
	}
	r = kvm_arch_vm_setup(vm);
	if (r)
		goto close_vm;

	*out = vm;
	return 0;

close_vm:
	close(vm->vm_fd);
	dirty_ring_fini(vm);
close_sys:
	close(vm->sys_fd);
free_vm:
	kvm_arch_vm_fini(vm);
	free(vm);
	return r;
}

int kvm_set_memory(void *opaque, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
			  uint32_t flags)
{
	struct kvm_vm *vm = opaque;
	struct kvm_userspace_memory_region mr = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (flags & ~(VMM_MEM_DIRTY_LOG | VMM_MEM_READONLY)) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: set_memory: unknown flags 0x%x", flags);
		return -EINVAL;
	}
	if (flags & VMM_MEM_DIRTY_LOG)
		mr.flags |= KVM_MEM_LOG_DIRTY_PAGES;
	if (flags & VMM_MEM_READONLY) {
		if (!vm->readonly_mem) {
			vm->h->log(vm->h, VMM_LOG_ERROR,
				   "kvm: read-only memory slot %u needs KVM_CAP_READONLY_MEM", slot);
			return -ENOTSUP;
		}
		mr.flags |= KVM_MEM_READONLY;
	}
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR,
			   "kvm: KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx: %s", slot,
			   (unsigned long long)gpa, (unsigned long long)size, strerror(err));
		return -err;
	}
	if (slot < KVM_TRACKED_SLOTS) {
		vm->slot_size[slot] = size;
		vm->slot_dirty_log[slot] = (flags & VMM_MEM_DIRTY_LOG) != 0;
	}
	/* The ring mode's bitmap of the slot starts empty with its log. */
	if (vm->rings && slot < KVM_TRACKED_SLOTS) {
		int r = kvm_rings_slot_log(vm->rings, slot, size / 4096, (flags & VMM_MEM_DIRTY_LOG) != 0);
		if (r) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: dirty ring: slot %u: %s", slot, strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * KVM_GET_DIRTY_LOG: the pages of `slot` written since the last call, one
 * bit each (bit n of the u64 array is page n: KVM's bitmap is an array of
 * longs, which on a 64-bit little-endian host is the same), and the log
 * cleared and the pages write-protected again (without
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled, api.rst).  The caller's
 * bitmap holds the slot's pages rounded up to 64.
 */
int kvm_dirty_log_get(void *opaque, uint32_t slot, uint64_t *bitmap)
{
	struct kvm_vm *vm = opaque;
	struct kvm_dirty_log d = { .slot = slot, .dirty_bitmap = bitmap };

	if (slot >= KVM_TRACKED_SLOTS || !vm->slot_size[slot] || !vm->slot_dirty_log[slot])
		return -ENOTSUP;
	if (vm->rings) {
		int r = kvm_rings_take(vm->rings, slot, bitmap);

		if (r == -EOVERFLOW)
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: a dirty ring of %u entries overflowed (KVM wrote past "
				   "its ring-full exit): written pages may be missing, so this dirty log is refused "
				   "(a larger dirty-ring-size, or dirty-log = \"bitmap\")", vm->ring_entries);
		return r;
	}
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &d) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_GET_DIRTY_LOG slot %u: %s", slot, strerror(err));
		return -err;
	}
	return 0;
}

/* Stateless apart from the fd: KVM serialises KVM_IRQ_LINE, so any thread may call. */
int kvm_irq_line(void *opaque, uint32_t line, int level)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irq_level irq = { .level = level ? 1 : 0 };

	if (!vm->irqchip)
		return -ENOTSUP;
	if (kvm_arch_irq_encode(vm, line, &irq.irq))
		return -EINVAL;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_IRQ_LINE %u level %d: %s", line, level,
			   strerror(err));
		return -err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* vCPU setup */

void kvm_vcpu_destroy(void *opaque)
{
	struct kvm_vcpu *vcpu = opaque;

	if (!vcpu)
		return;
	dirty_ring_unmap(vcpu);
	munmap(vcpu->run, vcpu->vm->run_size);
	close(vcpu->fd);
	free(vcpu);
}

int kvm_vcpu_create(void *opaque, uint32_t index, void **out)
{
	struct kvm_vm *vm = opaque;
	const struct vmm_host *h = vm->h;
	struct kvm_vcpu *vcpu;
	int r;

	*out = NULL;
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu) {
		h->log(h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->index = index;

	r = dirty_ring_enable(vm);
	if (r)
		goto free_vcpu;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0) {
		r = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_CREATE_VCPU %u: %s", index, strerror(-r));
		goto free_vcpu;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		r = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: mmap of kvm_run for vCPU %u: %s", index,
		       strerror(-r));
		goto close_vcpu;
	}
	r = dirty_ring_map(vcpu);
	if (r)
		goto unmap_run;
	r = kvm_arch_vcpu_init(vcpu);
	if (r)
		goto unmap_ring;

	*out = vcpu;
	return 0;

unmap_ring:
	dirty_ring_unmap(vcpu);
unmap_run:
	munmap(vcpu->run, vm->run_size);
close_vcpu:
	close(vcpu->fd);
free_vcpu:
	free(vcpu);
	return r;
}

/* ------------------------------------------------------------------ */
/* vCPU run: the hot path */

void kvm_vcpu_kick(void *opaque)
{
	struct kvm_vcpu *vcpu = opaque;

	/* Only a store: this runs in signal handlers and on other threads.
	 * KVM polls the flag at KVM_RUN entry; the core's signal covers a
	 * vCPU that is already inside the guest. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
}

static inline void complete_exit(struct kvm_vcpu *vcpu, const struct vmm_exit *exit)
{
	struct kvm_run *run = vcpu->run;

	switch (vcpu->pending) {
	case KVM_EXIT_X86_RDMSR:
		run->msr.data = exit->msr.value;
		run->msr.error = exit->msr.error;
		break;
	case KVM_EXIT_X86_WRMSR:
		run->msr.error = exit->msr.error;
		break;
	case KVM_EXIT_HYPERCALL:
		run->hypercall.ret = exit->hypercall.ret;
		break;
	case KVM_EXIT_HYPERV:
		/* Only a hypercall's exit is left pending (kvm-x86.c). */
		run->hyperv.u.hcall.result = exit->hyperv.hcall.result;
		break;
	default:
		/* I/O and MMIO data was written in place in kvm_run. */
		break;
	}
	vcpu->pending = 0;
}

static inline void translate_exit(struct kvm_vcpu *vcpu, struct kvm_run *run,
				  struct vmm_exit *exit)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit->reason = VMM_EXIT_IO;
		exit->io.port = run->io.port;
		exit->io.size = run->io.size;
		exit->io.is_write = run->io.direction == KVM_EXIT_IO_OUT;
		exit->io.count = run->io.count;
		exit->io.data = (uint8_t *)run + run->io.data_offset;
		break;
	case KVM_EXIT_MMIO:
		exit->reason = VMM_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = run->mmio.len;
		exit->mmio.is_write = run->mmio.is_write;
		exit->mmio.data = run->mmio.data;
		break;
	case KVM_EXIT_X86_RDMSR:
		exit->reason = VMM_EXIT_MSR_READ;
		exit->msr.index = run->msr.index;
		exit->msr.error = 0;
		exit->msr.value = 0;
		vcpu->pending = KVM_EXIT_X86_RDMSR;
		vcpu->pending_exit = exit;
		break;
	case KVM_EXIT_X86_WRMSR:
		exit->reason = VMM_EXIT_MSR_WRITE;
		exit->msr.index = run->msr.index;
		exit->msr.error = 0;
		exit->msr.value = run->msr.data;
		vcpu->pending = KVM_EXIT_X86_WRMSR;
		vcpu->pending_exit = exit;
		break;
	case KVM_EXIT_HLT:
		exit->reason = VMM_EXIT_HALT;
		break;
	case KVM_EXIT_SHUTDOWN:
		exit->reason = VMM_EXIT_SHUTDOWN;
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		exit->reason = VMM_EXIT_SYSTEM_EVENT;
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			exit->system_event.type = VMM_SYSTEM_EVENT_SHUTDOWN;
			break;
		case KVM_SYSTEM_EVENT_RESET:
			exit->system_event.type = VMM_SYSTEM_EVENT_RESET;
			break;
		case KVM_SYSTEM_EVENT_CRASH:
			exit->system_event.type = VMM_SYSTEM_EVENT_CRASH;
			break;
		default:
			/* No generic name yet (WAKEUP, SUSPEND, ...): pass
			 * KVM's raw type, the core treats it as unknown. */
			exit->system_event.type = run->system_event.type;
			break;
		}
		break;
	case KVM_EXIT_HYPERCALL:
		exit->reason = VMM_EXIT_HYPERCALL;
		exit->hypercall.nr = run->hypercall.nr;
		memcpy(exit->hypercall.args, run->hypercall.args, sizeof(exit->hypercall.args));
		exit->hypercall.ret = 0;
		vcpu->pending = KVM_EXIT_HYPERCALL;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->reason = VMM_EXIT_INTERNAL_ERROR;
		exit->internal.suberror = run->internal.suberror;
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit->reason = VMM_EXIT_FAIL_ENTRY;
		exit->fail_entry.reason = run->fail_entry.hardware_entry_failure_reason;
		break;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		exit->reason = VMM_EXIT_IRQ_WINDOW;
		break;
	case KVM_EXIT_IOAPIC_EOI:
		exit->reason = VMM_EXIT_EOI;
		exit->eoi.vector = run->eoi.vector;
		break;
	case KVM_EXIT_INTR:
		exit->reason = VMM_EXIT_INTR;
		break;
	default:
		if (!kvm_arch_translate_exit(vcpu, run, exit)) {
			exit->reason = VMM_EXIT_UNKNOWN;
			exit->unknown.code = run->exit_reason;
		}
		break;
	}
}

int kvm_vcpu_run(void *opaque, struct vmm_exit *exit)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_run *run = vcpu->run;

	if (__builtin_expect(vcpu->pending != 0, 0))
		complete_exit(vcpu, exit);
again:
	vcpu->stats.runs++;

	int ran = ioctl(vcpu->fd, KVM_RUN, 0);
	int run_errno = errno;

	if (vcpu->vm->after_run)
		kvm_arch_after_run(vcpu);
	if (__builtin_expect(ran < 0, 0)) {
		int err = run_errno;

		if (err == EINTR) {
			/* Kicked: by immediate_exit (KVM still completed the
			 * pending exit first) or by a signal.  Clear the flag
			 * only now, so a kick before this run was not lost. */
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELAXED);
			vcpu->stats.signal_exits++;
			exit->reason = VMM_EXIT_INTR;
			return 0;
		}
		if (err == EAGAIN) {
			/* An AP waiting for INIT/SIPI (KVM_MP_STATE_UNINITIALIZED)
			 * was woken, e.g. by INIT, and is not runnable yet: KVM
			 * wants another KVM_RUN.  A kick stays in immediate_exit. */
			exit->reason = VMM_EXIT_INTR;
			return 0;
		}
		if (kvm_arch_run_error(vcpu, err, exit) == 0)
			return 0;
		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: KVM_RUN on vCPU %u: %s",
				 vcpu->index, strerror(err));
		return -err;
	}
	if (__builtin_expect(run->exit_reason == KVM_EXIT_DIRTY_RING_FULL, 0) && vcpu->vm->rings) {
		/* The ring reached KVM's soft limit (its size less the
		 * reserved entries, dirty_ring.c): KVM runs the vCPU no more
		 * until it is harvested and reset.  That is the backend's
		 * business, not an exit of the guest's: harvest here and run
		 * on (a kick still ends the next KVM_RUN at once). */
		int r = kvm_rings_full(vcpu->vm->rings, vcpu->index);
		if (r)
			return r;
		goto again;
	}
	translate_exit(vcpu, run, exit);
	return 0;
}

int kvm_vcpu_get_stats(void *opaque, struct vmm_vcpu_stats *st)
{
	struct kvm_vcpu *vcpu = opaque;

	*st = vcpu->stats;
	return 0;
}

/* ------------------------------------------------------------------ */
/* vCPU state */

int kvm_vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned long req, const char *name, void *arg)
{
	if (ioctl(vcpu->fd, req, arg) < 0) {
		int err = errno;

		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: %s on vCPU %u: %s", name,
				 vcpu->index, strerror(err));
		return -err;
	}
	return 0;
}

/*
 * Registers by id (ABI 1.7): KVM API document, 4.68 KVM_SET_ONE_REG and
 * 4.69 KVM_GET_ONE_REG.  The id's size field (bits 55:52) says how many
 * bytes `addr` points to; the generic ids are KVM's, so no translation.
 * Unknown ids are ENOENT from KVM.  A host without KVM_CAP_ONE_REG (x86
 * before Linux 6.8 has it only for a few registers, if at all) says
 * -ENOTSUP.
 */
static int reg_ioctl(struct kvm_vcpu *vcpu, unsigned long req, const char *name, uint64_t id,
		     void *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)val };

	if (!vcpu->vm->one_reg)
		return -ENOTSUP;
	if (ioctl(vcpu->fd, req, &reg) < 0) {
		int err = errno;

		vcpu->vm->h->log(vcpu->vm->h, err == ENOENT ? VMM_LOG_DEBUG : VMM_LOG_ERROR,
				 "kvm: %s 0x%llx on vCPU %u: %s", name, (unsigned long long)id,
				 vcpu->index, strerror(err));
		return -err;
	}
	return 0;
}

int kvm_vcpu_reg_get(void *opaque, uint64_t id, void *val)
{
	return reg_ioctl(opaque, KVM_GET_ONE_REG, "KVM_GET_ONE_REG", id, val);
}

int kvm_vcpu_reg_set(void *opaque, uint64_t id, const void *val)
{
	return reg_ioctl(opaque, KVM_SET_ONE_REG, "KVM_SET_ONE_REG", id, (void *)val);
}

enum vmm_irq_mode kvm_irq_mode(void *opaque)
{
	return ((struct kvm_vm *)opaque)->mode;
}

/*
 * KVM API document, 4.59 KVM_IOEVENTFD: a guest write to addr of len bytes
 * (1, 2, 4 or 8; len 0 needs KVM_CAP_IOEVENTFD_ANY_LENGTH and is not used
 * here) signals the eventfd without an exit; with
 * KVM_IOEVENTFD_FLAG_DATAMATCH only a write whose value equals datamatch
 * does.  KVM_IOEVENTFD_FLAG_PIO selects the port bus instead of MMIO.  A
 * deassign (KVM_IOEVENTFD_FLAG_DEASSIGN) must repeat addr, len, fd and the
 * datamatch flag and value of the assignment.  Any thread: only the VM fd.
 */
int kvm_ioeventfd(void *opaque, enum vmm_bus bus, uint64_t addr, uint32_t len, bool match,
			 uint64_t data, int fd, bool assign)
{
	struct kvm_vm *vm = opaque;
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = fd };

	if (!vm->ioeventfd)
		return -ENOTSUP;
	if ((bus != VMM_BUS_PIO && bus != VMM_BUS_MMIO) || fd < 0 ||
	    (len != 1 && len != 2 && len != 4 && len != 8) ||
	    (bus == VMM_BUS_PIO && (addr > 0xffff || addr + len > 0x10000)))
		return -EINVAL;
	if (match) {
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		io.datamatch = len == 8 ? data : data & ((1ull << (8 * len)) - 1);
	}
	if (bus == VMM_BUS_PIO)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (!assign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		int err = errno;

		vm->h->log(vm->h, assign && err == EEXIST ? VMM_LOG_WARN : VMM_LOG_ERROR,
			   "kvm: KVM_IOEVENTFD %s %s 0x%llx/%u%s: %s", assign ? "assign" : "deassign",
			   bus == VMM_BUS_PIO ? "pio" : "mmio", (unsigned long long)addr, len,
			   match ? " datamatch" : "", strerror(err));
		return -err;
	}
	return 0;
}

/*
 * KVM API document, 4.75 KVM_IRQFD: a write to kvm_irqfd.fd asserts
 * kvm_irqfd.gsi.  With KVM_CAP_IRQFD_RESAMPLE and KVM_IRQFD_FLAG_RESAMPLE
 * the line stays asserted until the irqchip is resampled (an EOI); KVM
 * then deasserts it and signals resamplefd, and re-asserting a line that
 * still needs service is the user's job.  Only the whole in-kernel
 * irqchip resamples.  A deassign names fd and gsi and needs no resample
 * flag; closing resamplefd alone does not end the irqfd.  Any thread.
 */
int kvm_irqfd(void *opaque, uint32_t line, int fd, int resample_fd, bool assign)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd };
	uint32_t gsi;

	/* Only the level-triggered form is offered: edge lines stay on
	 * KVM_IRQ_LINE, which the core already pulses. */
	if (!vm->irqfd || (assign && resample_fd < 0))
		return -ENOTSUP;
	if (fd < 0 || kvm_arch_irqfd_gsi(vm, line, &gsi))
		return -EINVAL;
	irqfd.gsi = gsi;
	if (!assign) {
		irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
	} else {
		irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = (uint32_t)resample_fd;
	}
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_DEBUG, "kvm: KVM_IRQFD %s gsi %u: %s",
			   assign ? "assign" : "deassign", gsi, strerror(err));
		return -err;
	}
	return 0;
}

