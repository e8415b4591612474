/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm.c - the Linux KVM backend (x86-64).
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
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <vmm/hypervisor.h>

#include "hypervisors/kvm/kvm-cpuid.h"
#include "hypervisors/kvm/kvm-vcpus.h"

#define KVM_TSS_ADDR		0xfffbd000ul
/* The identity map page sits just below the three TSS pages. */
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ul

#define CPUID_INITIAL_NENT	64
#define CPUID_MAX_NENT		4096
#define CPUID_CLEAR_MAX		64
#define SPLIT_IOAPIC_PINS	24	/* GSIs KVM reserves for the IOAPIC in split mode */

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* One cpuid-clear entry: clear `bit` of `reg` in leaf `function`. */
struct cpuid_clear {
	uint32_t function;
	uint32_t index;
	bool any_index;		/* no SUBLEAF given: every subleaf */
	enum cpuid_reg reg;
	uint8_t bit;
};

struct kvm_vm {
	const struct vmm_host *h;
	int sys_fd;
	int vm_fd;
	int run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	bool irqchip;		/* in-kernel PIC+IOAPIC+LAPIC created */
	enum vmm_irq_mode mode;	/* the `irqchip` property */
	bool pit;		/* in-kernel PIT created */
	/* Split mode: the reserved IOAPIC routes, so that KVM reports the
	 * EOIs of level-triggered vectors.  Either one per IOAPIC pin, as the
	 * IOAPIC announces its entries (pin_routes, see kvm_msi_route), or,
	 * for an IOAPIC that never does (ABI < 1.5), the level-triggered
	 * MSIs seen so far (level_routes, see msi_route_level). */
	pthread_mutex_t route_lock;
	struct kvm_irq_routing_msi level_routes[SPLIT_IOAPIC_PINS];
	unsigned nlevel_routes, next_victim;
	struct kvm_irq_routing_msi pin_routes[SPLIT_IOAPIC_PINS];
	uint32_t pin_routed;	/* bit n: pin_routes[n] is valid */
	bool pin_routes_used;	/* the IOAPIC announces its pins */
	bool readonly_mem;	/* KVM_CAP_READONLY_MEM */
	bool ioeventfd;		/* KVM_CAP_IOEVENTFD */
	bool irqfd;		/* resampling irqfds offered (see kvm_irqfd) */
	uint32_t nr_vcpus;	/* for the CPUID topology */
	/* KVM_GET_SUPPORTED_CPUID, asked once by the first vcpu_create(): the
	 * answer is the host's and does not change; each vCPU patches a copy. */
	struct kvm_cpuid2 *supported_cpuid;
	unsigned int nr_clear;
	struct cpuid_clear clear[CPUID_CLEAR_MAX];
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
};

static const char *const irqchip_choices[] = { "kernel", "split", "emulated", NULL };

static const struct vmm_prop_desc kvm_props[] = {
	{ .name = "device", .type = VMM_PROP_STRING, .def_str = "/dev/kvm",
	  .help = "KVM device node" },
	{ .name = "irqchip", .type = VMM_PROP_ENUM, .def_str = "kernel",
	  .choices = irqchip_choices,
	  .help = "kernel: PIC, IOAPIC, local APICs in KVM; split: local APICs in KVM, the rest in "
		  "plugins; emulated: all in plugins, one vCPU, no APIC" },
	{ .name = "pit", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "create the in-kernel i8254 PIT (needs irqchip=kernel)" },
	{ .name = "user-msr", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "send MSR accesses KVM does not handle to the core's MSR bus" },
	{ .name = "cpuid-clear", .type = VMM_PROP_STRING, .def_str = "1.ecx:13",
	  .help = "CPUID bits to hide, LEAF[.SUBLEAF].REG:BIT,... (default hides CX16)" },
	{ .name = "irqfd", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "offer resampling irqfds for level-triggered lines (irqchip=kernel); false: "
		  "every line goes through KVM_IRQ_LINE" },
	{ .name = NULL },
};

/* ------------------------------------------------------------------ */
/* cpuid-clear parsing */

static int parse_u32(const char *s, const char **end, uint32_t *out)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &e, 0);
	if (errno || v > UINT32_MAX)
		return -EINVAL;
	*out = v;
	*end = e;
	return 0;
}

static int parse_reg(const char *s, size_t len, enum cpuid_reg *reg)
{
	static const char *const names[] = { "eax", "ebx", "ecx", "edx" };

	for (unsigned int i = 0; i < 4; i++) {
		if (len == 3 && strncasecmp(s, names[i], 3) == 0) {
			*reg = (enum cpuid_reg)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* One entry, [s, s+len): LEAF[.SUBLEAF].REG:BIT */
static int parse_clear_entry(const char *s, size_t len, struct cpuid_clear *c)
{
	const char *end = s + len, *p, *dot;
	uint32_t bit;

	if (parse_u32(s, &p, &c->function) || p >= end || *p != '.')
		return -EINVAL;
	p++;
	c->any_index = true;
	c->index = 0;
	/* A digit here is a SUBLEAF; a register name starts with 'e'. */
	if (*p >= '0' && *p <= '9') {
		if (parse_u32(p, &p, &c->index) || p >= end || *p != '.')
			return -EINVAL;
		c->any_index = false;
		p++;
	}
	dot = memchr(p, ':', end - p);
	if (!dot || parse_reg(p, dot - p, &c->reg))
		return -EINVAL;
	p = dot + 1;
	if (parse_u32(p, &p, &bit) || p != end || bit > 31)
		return -EINVAL;
	c->bit = bit;
	return 0;
}

/* Appends to vm->clear.  An empty string clears nothing; an empty entry
 * ("1.ecx:13,,") is a typo. */
static int parse_cpuid_clear(struct kvm_vm *vm, const char *spec)
{
	const char *s = spec;

	if (!spec || !*spec)
		return 0;
	for (;;) {
		size_t len = strcspn(s, ",");
		const char *b = s, *e = s + len;

		/* Tolerate spaces around entries: configs are written by people. */
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == b) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: cpuid-clear: empty entry in '%s'", spec);
			return -EINVAL;
		}
		if (vm->nr_clear == CPUID_CLEAR_MAX) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: cpuid-clear: more than %d entries",
				   CPUID_CLEAR_MAX);
			return -EINVAL;
		}
		if (parse_clear_entry(b, e - b, &vm->clear[vm->nr_clear])) {
			vm->h->log(vm->h, VMM_LOG_ERROR,
				   "kvm: cpuid-clear: bad entry '%.*s' (expected LEAF[.SUBLEAF].REG:BIT, e.g. 7.0.ebx:5)",
				   (int)(e - b), b);
			return -EINVAL;
		}
		vm->nr_clear++;
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

/* ------------------------------------------------------------------ */
/* VM */

static int check_ext(struct kvm_vm *vm, long cap)
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
static int check_caps(struct kvm_vm *vm, uint32_t nr_vcpus, bool want_irqchip)
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
		if (!check_ext(vm, required[i].cap)) {
			h->log(h, VMM_LOG_ERROR, "kvm: host lacks required capability %s",
			       required[i].name);
			missing++;
		}
	}
	/* NR_VCPUS is only KVM's recommendation (the host's CPUs); the limits
	 * are MAX_VCPUS and MAX_VCPU_ID (KVM API, 4.7 KVM_CREATE_VCPU). */
	caps = (struct kvm_vcpu_caps){ .nr_vcpus = check_ext(vm, KVM_CAP_NR_VCPUS),
				       .max_vcpus = check_ext(vm, KVM_CAP_MAX_VCPUS),
				       .max_vcpu_id = check_ext(vm, KVM_CAP_MAX_VCPU_ID) };
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
	if (want_irqchip && !check_ext(vm, KVM_CAP_IRQCHIP)) {
		h->log(h, VMM_LOG_ERROR,
		       "kvm: host lacks KVM_CAP_IRQCHIP, needed by irqchip=kernel (try irqchip=none)");
		missing++;
	}
	return missing ? -ENOTSUP : 0;
}

static int create_irqchip(struct kvm_vm *vm, bool pit)
{
	const struct vmm_host *h = vm->h;

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		int err = errno;

		h->log(h, VMM_LOG_ERROR, "kvm: KVM_CREATE_IRQCHIP: %s", strerror(err));
		return -err;
	}
	vm->irqchip = true;
	if (pit) {
		struct kvm_pit_config pc = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (!check_ext(vm, KVM_CAP_PIT2)) {
			h->log(h, VMM_LOG_ERROR, "kvm: pit=true but the host lacks KVM_CAP_PIT2");
			return -ENOTSUP;
		}
		if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pc) < 0) {
			int err = errno;

			h->log(h, VMM_LOG_ERROR, "kvm: KVM_CREATE_PIT2: %s", strerror(err));
			return -err;
		}
		vm->pit = true;
	}
	return 0;
}

/* Local APICs in KVM, everything else in plugins.  The reserved routes
 * (SPLIT_IOAPIC_PINS) are the IOAPIC pins, whose level-triggered vectors KVM
 * reports back with KVM_EXIT_IOAPIC_EOI. */

static int enable_split_irqchip(struct kvm_vm *vm)
{
	const struct vmm_host *h = vm->h;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args[0] = SPLIT_IOAPIC_PINS };

	if (!check_ext(vm, KVM_CAP_SPLIT_IRQCHIP)) {
		h->log(h, VMM_LOG_ERROR, "kvm: irqchip = \"split\" needs KVM_CAP_SPLIT_IRQCHIP, "
		       "which this host lacks");
		return -ENOTSUP;
	}
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		int err = errno;

		h->log(h, VMM_LOG_ERROR, "kvm: KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): %s", strerror(err));
		return -err;
	}
	vm->irqchip = false; /* no in-kernel PIC or IOAPIC: KVM_IRQ_LINE does not apply */
	return 0;
}

/* Real-mode and VMX-style hosts need these; others refuse harmlessly. */
static void set_x86_addrs(struct kvm_vm *vm)
{
	const struct vmm_host *h = vm->h;
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;

	if (check_ext(vm, KVM_CAP_SET_IDENTITY_MAP_ADDR) &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		h->log(h, VMM_LOG_DEBUG, "kvm: KVM_SET_IDENTITY_MAP_ADDR: %s (ignored)",
		       strerror(errno));
	if (check_ext(vm, KVM_CAP_SET_TSS_ADDR) &&
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		h->log(h, VMM_LOG_DEBUG, "kvm: KVM_SET_TSS_ADDR: %s (ignored)", strerror(errno));
}

static int enable_user_msr(struct kvm_vm *vm)
{
	const struct vmm_host *h = vm->h;
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_INVAL |
			   KVM_MSR_EXIT_REASON_FILTER,
	};

	if (!check_ext(vm, KVM_CAP_X86_USER_SPACE_MSR)) {
		h->log(h, VMM_LOG_INFO,
		       "kvm: host lacks KVM_CAP_X86_USER_SPACE_MSR: unknown MSRs get #GP from KVM");
		return 0;
	}
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		int err = errno;

		h->log(h, VMM_LOG_ERROR, "kvm: KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR): %s",
		       strerror(err));
		return -err;
	}
	return 0;
}

static bool prop_bool(const struct vmm_host *h, const char *name, bool def)
{
	bool v;

	return h->prop_bool(h, name, &v) == 0 ? v : def;
}

static void kvm_vm_destroy(void *opaque)
{
	struct kvm_vm *vm = opaque;

	if (!vm)
		return;
	close(vm->vm_fd);
	close(vm->sys_fd);
	pthread_mutex_destroy(&vm->route_lock);
	free(vm->supported_cpuid);
	free(vm);
}

static int kvm_vm_create(const struct vmm_host *h, uint32_t nr_vcpus, void **out)
{
	struct kvm_vm *vm;
	const char *dev, *irqchip;
	bool want_irqchip;
	int r;

	*out = NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		h->log(h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	vm->h = h;
	vm->sys_fd = vm->vm_fd = -1;
	pthread_mutex_init(&vm->route_lock, NULL);

	irqchip = h->prop_str(h, "irqchip");
	if (!irqchip)
		irqchip = "kernel";
	if (strcmp(irqchip, "kernel") == 0) {
		vm->mode = VMM_IRQ_KERNEL;
	} else if (strcmp(irqchip, "split") == 0) {
		vm->mode = VMM_IRQ_SPLIT;
	} else if (strcmp(irqchip, "emulated") == 0) {
		vm->mode = VMM_IRQ_EMULATED;
	} else {
		h->log(h, VMM_LOG_ERROR, "kvm: irqchip '%s' is not kernel, split or emulated", irqchip);
		r = -EINVAL;
		goto free_vm;
	}
	want_irqchip = vm->mode == VMM_IRQ_KERNEL;
	if (vm->mode == VMM_IRQ_EMULATED && nr_vcpus > 1) {
		/* The 8259 drives one CPU's INTR pin; SMP needs local APICs. */
		h->log(h, VMM_LOG_ERROR, "kvm: irqchip = \"emulated\" runs one vCPU, not %u "
		       "(use irqchip = \"split\" or \"kernel\" for SMP)", nr_vcpus);
		r = -EINVAL;
		goto free_vm;
	}
	/* Parse before touching the device: a config error is not a host error. */
	r = parse_cpuid_clear(vm, h->prop_str(h, "cpuid-clear"));
	if (r)
		goto free_vm;
	vm->nr_vcpus = nr_vcpus;

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
	r = check_caps(vm, nr_vcpus, want_irqchip);
	if (r)
		goto close_sys;
	vm->readonly_mem = check_ext(vm, KVM_CAP_READONLY_MEM) > 0;
	vm->ioeventfd = check_ext(vm, KVM_CAP_IOEVENTFD) > 0;
	/* A resampling irqfd needs the whole irqchip in the kernel: KVM
	 * refuses KVM_IRQFD_FLAG_RESAMPLE with a split irqchip, whose IOAPIC
	 * (where the EOI that resamples happens) is in userspace. */
	vm->irqfd = want_irqchip && prop_bool(h, "irqfd", true) &&
		    check_ext(vm, KVM_CAP_IRQFD) > 0 && check_ext(vm, KVM_CAP_IRQFD_RESAMPLE) > 0;

	vm->run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_GET_VCPU_MMAP_SIZE: %s",
		       vm->run_size < 0 ? strerror(errno) : "too small");
		r = vm->run_size < 0 ? -errno : -EPROTO;
		goto close_sys;
	}

	/* Retry on EINTR: a signal to this thread must not fail VM creation. */
	do {
		vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		r = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_CREATE_VM: %s", strerror(-r));
		goto close_sys;
	}

	set_x86_addrs(vm);
	if (vm->mode == VMM_IRQ_SPLIT) {
		r = enable_split_irqchip(vm);
		if (r)
			goto close_vm;
	}
	if (want_irqchip) {
		r = create_irqchip(vm, prop_bool(h, "pit", false));
		if (r)
			goto close_vm;
	} else if (prop_bool(h, "pit", false)) {
		h->log(h, VMM_LOG_WARN, "kvm: pit=true ignored: the in-kernel PIT needs irqchip=kernel");
	}
	if (prop_bool(h, "user-msr", true)) {
		r = enable_user_msr(vm);
		if (r)
			goto close_vm;
	}

	*out = vm;
	return 0;

close_vm:
	close(vm->vm_fd);
close_sys:
	close(vm->sys_fd);
free_vm:
	free(vm);
	return r;
}

static int kvm_set_memory(void *opaque, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
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
	return 0;
}

/* Stateless apart from the fd: KVM serialises KVM_IRQ_LINE, so any thread may call. */
static int kvm_irq_line(void *opaque, uint32_t line, int level)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = line, .level = level ? 1 : 0 };

	if (!vm->irqchip)
		return -ENOTSUP;
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

static struct kvm_cpuid2 *query_supported_cpuid(struct kvm_vm *vm)
{
	struct kvm_cpuid2 *cpuid;
	uint32_t nent = CPUID_INITIAL_NENT;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: out of memory for CPUID");
			return NULL;
		}
		cpuid->nent = nent;
		if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			return cpuid;
		int err = errno;

		free(cpuid);
		/* E2BIG: the buffer is too small; KVM does not say how big. */
		if (err != E2BIG || nent >= CPUID_MAX_NENT) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_GET_SUPPORTED_CPUID: %s",
				   strerror(err));
			return NULL;
		}
		nent *= 2;
	}
}

/* A copy of the supported table for one vCPU to patch (free() it). */
static struct kvm_cpuid2 *get_supported_cpuid(struct kvm_vm *vm)
{
	struct kvm_cpuid2 *copy;
	size_t size;

	if (!vm->supported_cpuid && !(vm->supported_cpuid = query_supported_cpuid(vm)))
		return NULL;
	size = sizeof(*copy) + vm->supported_cpuid->nent * sizeof(copy->entries[0]);
	copy = malloc(size);
	if (!copy) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: out of memory for CPUID");
		return NULL;
	}
	return memcpy(copy, vm->supported_cpuid, size);
}

static uint32_t *cpuid_reg_ptr(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg)
{
	switch (reg) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default: return &e->edx;
	}
}

/* The machine's shape first (hypervisor leaves, topology, APIC presence),
 * then the config's cpuid-clear, which may hide anything, even those. */
static void patch_cpuid(const struct kvm_vm *vm, struct kvm_cpuid2 *cpuid, uint32_t index)
{
	const struct kvm_cpuid_shape shape = {
		.index = index,
		.nr_vcpus = vm->nr_vcpus,
		.has_apic = vm->mode != VMM_IRQ_EMULATED,
	};

	kvm_cpuid_apply_shape(cpuid, &shape);
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		for (unsigned int c = 0; c < vm->nr_clear; c++) {
			const struct cpuid_clear *cl = &vm->clear[c];

			if (cl->function == e->function && (cl->any_index || cl->index == e->index))
				*cpuid_reg_ptr(e, cl->reg) &= ~(1u << cl->bit);
		}
	}
}

static void kvm_vcpu_destroy(void *opaque)
{
	struct kvm_vcpu *vcpu = opaque;

	if (!vcpu)
		return;
	munmap(vcpu->run, vcpu->vm->run_size);
	close(vcpu->fd);
	free(vcpu);
}

static int kvm_vcpu_create(void *opaque, uint32_t index, void **out)
{
	struct kvm_vm *vm = opaque;
	const struct vmm_host *h = vm->h;
	struct kvm_vcpu *vcpu;
	struct kvm_cpuid2 *cpuid;
	int r;

	*out = NULL;
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu) {
		h->log(h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->index = index;

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

	cpuid = get_supported_cpuid(vm);
	if (!cpuid) {
		r = -EIO;
		goto unmap_run;
	}
	patch_cpuid(vm, cpuid, index);
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	if (r < 0) {
		r = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_SET_CPUID2 for vCPU %u: %s", index,
		       strerror(-r));
		goto free_cpuid;
	}
	free(cpuid);

	if (vm->mode == VMM_IRQ_EMULATED) {
		/* KVM shows the guest CPUID.1:EDX.APIC from the APIC base MSR's
		 * enable bit, whatever the table says, and a vCPU starts with it
		 * set: with no local APIC at all, the MSR must say disabled. */
		struct kvm_sregs sregs;

		if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0 ||
		    (sregs.apic_base = 0, ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)) {
			r = -errno;
			h->log(h, VMM_LOG_ERROR, "kvm: disabling the APIC base of vCPU %u: %s", index,
			       strerror(-r));
			goto unmap_run;
		}
	}

	*out = vcpu;
	return 0;

free_cpuid:
	free(cpuid);
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

static void kvm_vcpu_kick(void *opaque)
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
		exit->reason = VMM_EXIT_UNKNOWN;
		exit->unknown.code = run->exit_reason;
		break;
	}
}

static int kvm_vcpu_run(void *opaque, struct vmm_exit *exit)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_run *run = vcpu->run;

	if (__builtin_expect(vcpu->pending != 0, 0))
		complete_exit(vcpu, exit);
	vcpu->stats.runs++;

	if (__builtin_expect(ioctl(vcpu->fd, KVM_RUN, 0) < 0, 0)) {
		int err = errno;

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
		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: KVM_RUN on vCPU %u: %s",
				 vcpu->index, strerror(err));
		return -err;
	}
	translate_exit(vcpu, run, exit);
	return 0;
}

static int kvm_vcpu_get_stats(void *opaque, struct vmm_vcpu_stats *st)
{
	struct kvm_vcpu *vcpu = opaque;

	*st = vcpu->stats;
	return 0;
}

/* ------------------------------------------------------------------ */
/* vCPU state */

static int vcpu_ioctl(struct kvm_vcpu *vcpu, unsigned long req, const char *name, void *arg)
{
	if (ioctl(vcpu->fd, req, arg) < 0) {
		int err = errno;

		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: %s on vCPU %u: %s", name,
				 vcpu->index, strerror(err));
		return -err;
	}
	return 0;
}

static int kvm_vcpu_get_regs(void *opaque, struct vmm_x86_regs *r)
{
	struct kvm_regs k;
	int ret = vcpu_ioctl(opaque, KVM_GET_REGS, "KVM_GET_REGS", &k);

	if (ret)
		return ret;
	*r = (struct vmm_x86_regs){
		.rax = k.rax, .rbx = k.rbx, .rcx = k.rcx, .rdx = k.rdx,
		.rsi = k.rsi, .rdi = k.rdi, .rsp = k.rsp, .rbp = k.rbp,
		.r8 = k.r8, .r9 = k.r9, .r10 = k.r10, .r11 = k.r11,
		.r12 = k.r12, .r13 = k.r13, .r14 = k.r14, .r15 = k.r15,
		.rip = k.rip, .rflags = k.rflags,
	};
	return 0;
}

static int kvm_vcpu_set_regs(void *opaque, const struct vmm_x86_regs *r)
{
	struct kvm_regs k = {
		.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx,
		.rsi = r->rsi, .rdi = r->rdi, .rsp = r->rsp, .rbp = r->rbp,
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11,
		.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
		.rip = r->rip, .rflags = r->rflags,
	};

	return vcpu_ioctl(opaque, KVM_SET_REGS, "KVM_SET_REGS", &k);
}

static void seg_from_kvm(struct vmm_x86_segment *d, const struct kvm_segment *s)
{
	*d = (struct vmm_x86_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl, .db = s->db,
		.s = s->s, .l = s->l, .g = s->g, .avl = s->avl, .unusable = s->unusable,
	};
}

static void seg_to_kvm(struct kvm_segment *d, const struct vmm_x86_segment *s)
{
	*d = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector,
		.type = s->type, .present = s->present, .dpl = s->dpl, .db = s->db,
		.s = s->s, .l = s->l, .g = s->g, .avl = s->avl, .unusable = s->unusable,
	};
}

static int kvm_vcpu_get_sregs(void *opaque, struct vmm_x86_sregs *s)
{
	struct kvm_sregs k;
	int ret = vcpu_ioctl(opaque, KVM_GET_SREGS, "KVM_GET_SREGS", &k);

	if (ret)
		return ret;
	seg_from_kvm(&s->cs, &k.cs);
	seg_from_kvm(&s->ds, &k.ds);
	seg_from_kvm(&s->es, &k.es);
	seg_from_kvm(&s->fs, &k.fs);
	seg_from_kvm(&s->gs, &k.gs);
	seg_from_kvm(&s->ss, &k.ss);
	seg_from_kvm(&s->tr, &k.tr);
	seg_from_kvm(&s->ldt, &k.ldt);
	s->gdt.base = k.gdt.base;
	s->gdt.limit = k.gdt.limit;
	s->idt.base = k.idt.base;
	s->idt.limit = k.idt.limit;
	s->cr0 = k.cr0;
	s->cr2 = k.cr2;
	s->cr3 = k.cr3;
	s->cr4 = k.cr4;
	s->cr8 = k.cr8;
	s->efer = k.efer;
	s->apic_base = k.apic_base;
	return 0;
}

static int kvm_vcpu_set_sregs(void *opaque, const struct vmm_x86_sregs *s)
{
	struct kvm_sregs k;
	/* Read first: interrupt_bitmap holds a pending external interrupt
	 * that the generic layout does not carry; writing zeros would drop it. */
	int ret = vcpu_ioctl(opaque, KVM_GET_SREGS, "KVM_GET_SREGS", &k);

	if (ret)
		return ret;
	seg_to_kvm(&k.cs, &s->cs);
	seg_to_kvm(&k.ds, &s->ds);
	seg_to_kvm(&k.es, &s->es);
	seg_to_kvm(&k.fs, &s->fs);
	seg_to_kvm(&k.gs, &s->gs);
	seg_to_kvm(&k.ss, &s->ss);
	seg_to_kvm(&k.tr, &s->tr);
	seg_to_kvm(&k.ldt, &s->ldt);
	k.gdt = (struct kvm_dtable){ .base = s->gdt.base, .limit = s->gdt.limit };
	k.idt = (struct kvm_dtable){ .base = s->idt.base, .limit = s->idt.limit };
	k.cr0 = s->cr0;
	k.cr2 = s->cr2;
	k.cr3 = s->cr3;
	k.cr4 = s->cr4;
	k.cr8 = s->cr8;
	k.efer = s->efer;
	k.apic_base = s->apic_base;
	return vcpu_ioctl(opaque, KVM_SET_SREGS, "KVM_SET_SREGS", &k);
}

static struct kvm_msrs *msrs_alloc(struct kvm_vcpu *vcpu, unsigned int n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + (size_t)n * sizeof(m->entries[0]));

	if (!m)
		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: out of memory for %u MSRs", n);
	else
		m->nmsrs = n;
	return m;
}

/* KVM_GET/SET_MSRS return how many entries were processed: stop at the
 * first MSR KVM refuses.  Name that MSR so the log says which one. */
static int msrs_ioctl(struct kvm_vcpu *vcpu, unsigned long req, const char *name,
		      struct kvm_msrs *m)
{
	int r = ioctl(vcpu->fd, req, m);

	if (r < 0) {
		int err = errno;

		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR, "kvm: %s on vCPU %u: %s", name,
				 vcpu->index, strerror(err));
		return -err;
	}
	if ((uint32_t)r < m->nmsrs) {
		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_ERROR,
				 "kvm: %s on vCPU %u: MSR 0x%x refused (%d of %u done)", name,
				 vcpu->index, m->entries[r].index, r, m->nmsrs);
		return -EIO;
	}
	return 0;
}

static int kvm_vcpu_get_msrs(void *opaque, struct vmm_msr_entry *e, unsigned int n)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_msrs *m;
	int r;

	if (n == 0)
		return 0;
	m = msrs_alloc(vcpu, n);
	if (!m)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		m->entries[i].index = e[i].index;
	r = msrs_ioctl(vcpu, KVM_GET_MSRS, "KVM_GET_MSRS", m);
	if (r == 0)
		for (unsigned int i = 0; i < n; i++)
			e[i].value = m->entries[i].data;
	free(m);
	return r;
}

static int kvm_vcpu_set_msrs(void *opaque, const struct vmm_msr_entry *e, unsigned int n)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_msrs *m;
	int r;

	if (n == 0)
		return 0;
	m = msrs_alloc(vcpu, n);
	if (!m)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		m->entries[i].index = e[i].index;
		m->entries[i].data = e[i].value;
	}
	r = msrs_ioctl(vcpu, KVM_SET_MSRS, "KVM_SET_MSRS", m);
	free(m);
	return r;
}

/* ------------------------------------------------------------------ */
/* interrupt modes (ABI 1.1) */

static enum vmm_irq_mode kvm_irq_mode(void *opaque)
{
	return ((struct kvm_vm *)opaque)->mode;
}

#define MSI_DATA_LEVEL_TRIGGER (1u << 15)

/*
 * With a split irqchip KVM exits with KVM_EXIT_IOAPIC_EOI only for vectors
 * it finds, level-triggered, among the MSI routes of the reserved IOAPIC
 * GSIs (KVM API, KVM_CAP_SPLIT_IRQCHIP).  A plugin IOAPIC delivers with
 * KVM_SIGNAL_MSI, which creates no route.  An IOAPIC that announces its
 * entries (kvm_msi_route) needs nothing here; for one that does not (ABI
 * < 1.5) give each distinct level-triggered message a route of its own as
 * it is sent, the oldest replaced when all 24 are taken.  That is only a
 * fallback: once a guest has used more than 24 such messages, a route can
 * be replaced while its interrupt is in service, and that EOI is lost.
 */
static void msi_route_level(struct kvm_vm *vm, const struct kvm_msi *msi)
{
	pthread_mutex_lock(&vm->route_lock);
	if (vm->pin_routes_used)
		goto out_unlock;	/* the IOAPIC's own routes hold it already */
	for (unsigned i = 0; i < vm->nlevel_routes; i++) {
		struct kvm_irq_routing_msi *r = &vm->level_routes[i];
		if (r->address_lo == msi->address_lo && r->address_hi == msi->address_hi &&
		    r->data == msi->data)
			goto out_unlock;
	}
	unsigned slot = vm->nlevel_routes < SPLIT_IOAPIC_PINS ? vm->nlevel_routes++ :
			vm->next_victim++ % SPLIT_IOAPIC_PINS;
	vm->level_routes[slot] = (struct kvm_irq_routing_msi){ .address_lo = msi->address_lo,
							       .address_hi = msi->address_hi,
							       .data = msi->data };
	struct kvm_irq_routing *table = calloc(1, sizeof(*table) +
						  vm->nlevel_routes * sizeof(table->entries[0]));
	if (!table)
		goto out_unlock;
	table->nr = vm->nlevel_routes;
	for (unsigned i = 0; i < vm->nlevel_routes; i++) {
		table->entries[i].gsi = i;
		table->entries[i].type = KVM_IRQ_ROUTING_MSI;
		table->entries[i].u.msi = vm->level_routes[i];
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		vm->h->log(vm->h, VMM_LOG_WARN, "kvm: KVM_SET_GSI_ROUTING: %s; level-triggered vector "
			   "%u may not see its EOI", strerror(errno), msi->data & 0xff);
	free(table);
out_unlock:
	pthread_mutex_unlock(&vm->route_lock);
}

/*
 * The IOAPIC's pin `pin` sends (addr, data) level-triggered, or no longer
 * does: route GSI `pin` to that message.  KVM_SET_GSI_ROUTING makes every
 * vCPU rescan the routes (KVM_REQ_SCAN_IOAPIC) for its EOI-exit vectors
 * before it next enters the guest, so a vector announced from the MMIO
 * exit that programmed it is in place before the guest can take an
 * interrupt on it, let alone end it.  One route per pin, as the 24
 * reserved GSIs are meant: a pin's route changes only when the guest
 * changes that pin, never because other messages were sent (the learned
 * routes of msi_route_level replaced the oldest, even one whose interrupt
 * was in service, and KVM then did not report its EOI).
 */
static int kvm_msi_route(void *opaque, uint32_t pin, bool valid, uint64_t addr, uint32_t data)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irq_routing *table;
	unsigned n = 0;
	int r = 0;

	if (vm->mode != VMM_IRQ_SPLIT)
		return -ENOTSUP;
	if (pin >= SPLIT_IOAPIC_PINS)
		return -EINVAL;
	table = calloc(1, sizeof(*table) + SPLIT_IOAPIC_PINS * sizeof(table->entries[0]));
	if (!table)
		return -ENOMEM;
	pthread_mutex_lock(&vm->route_lock);
	vm->pin_routes_used = true;
	if (valid) {
		vm->pin_routed |= 1u << pin;
		vm->pin_routes[pin] = (struct kvm_irq_routing_msi){ .address_lo = (uint32_t)addr,
								    .address_hi = (uint32_t)(addr >> 32),
								    .data = data };
	} else {
		vm->pin_routed &= ~(1u << pin);
	}
	for (unsigned i = 0; i < SPLIT_IOAPIC_PINS; i++) {
		if (!(vm->pin_routed & (1u << i)))
			continue;
		table->entries[n].gsi = i;
		table->entries[n].type = KVM_IRQ_ROUTING_MSI;
		table->entries[n].u.msi = vm->pin_routes[i];
		n++;
	}
	table->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) < 0) {
		r = -errno;
		vm->h->log(vm->h, VMM_LOG_WARN, "kvm: KVM_SET_GSI_ROUTING (IOAPIC pin %u): %s", pin,
			   strerror(-r));
	}
	pthread_mutex_unlock(&vm->route_lock);
	free(table);
	return r;
}

/* Any thread: KVM_SIGNAL_MSI only needs the VM fd. */
static int kvm_msi_send(void *opaque, uint64_t addr, uint32_t data)
{
	struct kvm_vm *vm = opaque;
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			       .data = data };

	if (vm->mode == VMM_IRQ_EMULATED)
		return -ENOTSUP;
	if (vm->mode == VMM_IRQ_SPLIT && (data & MSI_DATA_LEVEL_TRIGGER))
		msi_route_level(vm, &msi);
	/* 0: the guest's APICs filtered it out; -1 with EPERM: no local APIC
	 * matched the destination.  Both are the guest's programming, not
	 * an error here. */
	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0) {
		int err = errno;

		if (err == EPERM) {
			vm->h->log(vm->h, VMM_LOG_GUEST_ERROR, "kvm: MSI 0x%llx/0x%x reached no local APIC",
				   (unsigned long long)addr, data);
			return 0;
		}

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_SIGNAL_MSI 0x%llx/0x%x: %s",
			   (unsigned long long)addr, data, strerror(err));
		return -err;
	}
	return 0;
}

/* kvm_run says after each exit whether an external interrupt could be
 * injected now; if not, request_interrupt_window asks for an exit when it
 * can (KVM API: KVM_INTERRUPT, request_interrupt_window). */
/*
 * An MSR access the core refused completes at the next KVM_RUN with a #GP
 * that KVM queues then.  KVM_INTERRUPT before that run must wait: KVM
 * delivers the exception, skips the interrupt it holds as already
 * injected, and at the next exit clears its interrupt queue, so the
 * vector is lost while the 8259 has it in service, and no interrupt
 * of equal or lower priority ever comes again (Linux in irqchip =
 * "emulated" stopped at its first idle HLT about one boot in eight, when
 * a PIT tick met the one unknown MSR it reads; seen with L1's 6.1 KVM).
 * ready_for_interrupt_injection was computed at the exit, before the
 * #GP existed, so it cannot say so.
 */
static bool msr_fault_pending(const struct kvm_vcpu *vcpu)
{
	return (vcpu->pending == KVM_EXIT_X86_RDMSR || vcpu->pending == KVM_EXIT_X86_WRMSR) &&
	       vcpu->pending_exit && vcpu->pending_exit->msr.error;
}

static bool kvm_vcpu_irq_window(void *opaque, bool want)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_run *run = vcpu->run;
	bool ready = run->ready_for_interrupt_injection && run->if_flag && !msr_fault_pending(vcpu);

	run->request_interrupt_window = want && !ready;
	return ready;
}

static int kvm_vcpu_inject(void *opaque, uint32_t vector)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_interrupt irq = { .irq = vector };

	if (vector > 255)
		return -EINVAL;
	/* It goes in on the next KVM_RUN; until then no other may. */
	vcpu->run->ready_for_interrupt_injection = 0;
	return vcpu_ioctl(vcpu, KVM_INTERRUPT, "KVM_INTERRUPT", &irq);
}

static int kvm_accel(void *opaque, enum vmm_accel what)
{
	struct kvm_vm *vm = opaque;
	struct kvm_pit_config pc = { .flags = 0 };

	if (what != VMM_ACCEL_PIT)
		return -ENOTSUP;
	if (vm->mode != VMM_IRQ_KERNEL) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: the in-kernel PIT needs irqchip = \"kernel\"");
		return -ENOTSUP;
	}
	if (vm->pit)
		return 0;
	if (!check_ext(vm, KVM_CAP_PIT2)) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: the host lacks KVM_CAP_PIT2");
		return -ENOTSUP;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pc) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_CREATE_PIT2: %s", strerror(err));
		return -err;
	}
	vm->pit = true;
	return 0;
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
static int kvm_ioeventfd(void *opaque, enum vmm_bus bus, uint64_t addr, uint32_t len, bool match,
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
static int kvm_irqfd(void *opaque, uint32_t gsi, int fd, int resample_fd, bool assign)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi };

	/* Only the level-triggered form is offered: edge lines stay on
	 * KVM_IRQ_LINE, which the core already pulses. */
	if (!vm->irqfd || (assign && resample_fd < 0))
		return -ENOTSUP;
	if (fd < 0)
		return -EINVAL;
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

/* ------------------------------------------------------------------ */

static const struct vmm_hv_ops kvm_ops = {
	.size = sizeof(struct vmm_hv_ops),
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.set_memory = kvm_set_memory,
	.irq_line = kvm_irq_line,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_get_regs = kvm_vcpu_get_regs,
	.vcpu_set_regs = kvm_vcpu_set_regs,
	.vcpu_get_sregs = kvm_vcpu_get_sregs,
	.vcpu_set_sregs = kvm_vcpu_set_sregs,
	.vcpu_get_msrs = kvm_vcpu_get_msrs,
	.vcpu_set_msrs = kvm_vcpu_set_msrs,
	.vcpu_get_stats = kvm_vcpu_get_stats,
	.irq_mode = kvm_irq_mode,
	.msi_send = kvm_msi_send,
	.vcpu_irq_window = kvm_vcpu_irq_window,
	.vcpu_inject = kvm_vcpu_inject,
	.accel = kvm_accel,
	.ioeventfd = kvm_ioeventfd,
	.irqfd = kvm_irqfd,
	.msi_route = kvm_msi_route,
};

static const struct vmm_plugin kvm_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_HYPERVISOR,
	.name = "kvm",
	.version = PACKAGE_VERSION,
	.summary = "Linux KVM hypervisor backend (x86-64)",
	.props = kvm_props,
	.ops = &kvm_ops,
};

VMM_PLUGIN_DEFINE(kvm_plugin)
