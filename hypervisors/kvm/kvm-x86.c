/* SPDX-License-Identifier: MIT */
/*
 * hypervisors/kvm/kvm-x86.c - the x86-64 half of the kvm plugin: its
 * properties, the irqchip modes (KVM_CREATE_IRQCHIP, the split irqchip's
 * routes, KVM_CREATE_PIT2), CPUID, MSR exits, the x86 register ops, MSIs,
 * interrupt windows and injection, and the ops table (kvm-internal.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hypervisors/kvm/kvm-internal.h"
#include "hypervisors/kvm/kvm-cpuid.h"
#include "hypervisors/kvm/kvm-x86-state.h"

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

struct kvm_arch_vm {
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
	/* KVM_GET_SUPPORTED_CPUID, asked once by the first vcpu_create(): the
	 * answer is the host's and does not change; each vCPU patches a copy. */
	struct kvm_cpuid2 *supported_cpuid;
	bool tsc_deadline;	/* offered in CPUID (tsc-deadline and the capability) */
	unsigned int nr_clear;
	struct cpuid_clear clear[CPUID_CLEAR_MAX];
	/* KVM_CAP_X86_USER_SPACE_MSR is on: a filtered MSR exits to the core. */
	bool user_msr;
	/* MSR ranges the core's devices own (kvm_msr_intercept), all denied
	 * in the VM's MSR filter so that they exit even where KVM has a
	 * handler of its own. */
	pthread_mutex_t filter_lock;
	struct kvm_msr_filter filter;
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
	{ .name = "tsc-deadline", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "offer the local APIC's TSC-deadline mode in CPUID where KVM emulates it "
		  "(irqchip=kernel or split): Linux then skips calibrating the APIC timer" },
	KVM_DIRTY_LOG_PROPS,
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

/* Appends to vm->arch->clear.  An empty string clears nothing; an empty entry
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
		if (vm->arch->nr_clear == CPUID_CLEAR_MAX) {
			vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: cpuid-clear: more than %d entries",
				   CPUID_CLEAR_MAX);
			return -EINVAL;
		}
		if (parse_clear_entry(b, e - b, &vm->arch->clear[vm->arch->nr_clear])) {
			vm->h->log(vm->h, VMM_LOG_ERROR,
				   "kvm: cpuid-clear: bad entry '%.*s' (expected LEAF[.SUBLEAF].REG:BIT, e.g. 7.0.ebx:5)",
				   (int)(e - b), b);
			return -EINVAL;
		}
		vm->arch->nr_clear++;
		if (!s[len])
			return 0;
		s += len + 1;
	}
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

		if (!kvm_check_ext(vm, KVM_CAP_PIT2)) {
			h->log(h, VMM_LOG_ERROR, "kvm: pit=true but the host lacks KVM_CAP_PIT2");
			return -ENOTSUP;
		}
		if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pc) < 0) {
			int err = errno;

			h->log(h, VMM_LOG_ERROR, "kvm: KVM_CREATE_PIT2: %s", strerror(err));
			return -err;
		}
		vm->arch->pit = true;
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

	if (!kvm_check_ext(vm, KVM_CAP_SPLIT_IRQCHIP)) {
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

	if (kvm_check_ext(vm, KVM_CAP_SET_IDENTITY_MAP_ADDR) &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		h->log(h, VMM_LOG_DEBUG, "kvm: KVM_SET_IDENTITY_MAP_ADDR: %s (ignored)",
		       strerror(errno));
	if (kvm_check_ext(vm, KVM_CAP_SET_TSS_ADDR) &&
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

	if (!kvm_check_ext(vm, KVM_CAP_X86_USER_SPACE_MSR)) {
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
	vm->arch->user_msr = true;
	return 0;
}

/*
 * MSRs [base, base + count) exit to the core whatever KVM would do with
 * them: a range of the VM's MSR filter (KVM API document,
 * KVM_X86_SET_MSR_FILTER) whose bitmap denies every MSR in it, reads and
 * writes, so that with KVM_MSR_EXIT_REASON_FILTER each access becomes
 * KVM_EXIT_X86_RDMSR/WRMSR.  Everything else stays allowed
 * (KVM_MSR_FILTER_DEFAULT_ALLOW).  KVM copies the bitmaps at the ioctl,
 * so one zeroed bitmap serves every range; the whole filter is set again
 * for each new range.
 */
static const uint8_t msr_deny_bitmap[KVM_MSR_FILTER_MAX_BITMAP_SIZE];

static int kvm_msr_intercept(void *opaque, uint32_t base, uint32_t count)
{
	struct kvm_vm *vm = opaque;
	struct kvm_msr_filter *f = &vm->arch->filter;
	unsigned n;
	int r = 0;

	if (!vm->arch->user_msr || kvm_check_ext(vm, KVM_CAP_X86_MSR_FILTER) <= 0)
		return -ENOTSUP;
	if (count == 0 || count > KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8)
		return -ENOSPC;
	pthread_mutex_lock(&vm->arch->filter_lock);
	for (n = 0; n < KVM_MSR_FILTER_MAX_RANGES && f->ranges[n].nmsrs; n++)
		;
	if (n == KVM_MSR_FILTER_MAX_RANGES) {
		r = -ENOSPC;
		goto out_unlock;
	}
	f->flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
	f->ranges[n] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
		.nmsrs = count,
		.base = base,
		.bitmap = (uint8_t *)msr_deny_bitmap,
	};
	if (ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, f) < 0) {
		r = -errno;
		f->ranges[n].nmsrs = 0;
		vm->h->log(vm->h, VMM_LOG_WARN, "kvm: KVM_X86_SET_MSR_FILTER (MSRs 0x%x-0x%x): %s",
			   base, base + count - 1, strerror(-r));
	}
out_unlock:
	pthread_mutex_unlock(&vm->arch->filter_lock);
	return r;
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

	if (!vm->arch->supported_cpuid && !(vm->arch->supported_cpuid = query_supported_cpuid(vm)))
		return NULL;
	size = sizeof(*copy) + vm->arch->supported_cpuid->nent * sizeof(copy->entries[0]);
	copy = malloc(size);
	if (!copy) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: out of memory for CPUID");
		return NULL;
	}
	return memcpy(copy, vm->arch->supported_cpuid, size);
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
		.tsc_deadline = vm->arch->tsc_deadline,
	};

	kvm_cpuid_apply_shape(cpuid, &shape);
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		for (unsigned int c = 0; c < vm->arch->nr_clear; c++) {
			const struct cpuid_clear *cl = &vm->arch->clear[c];

			if (cl->function == e->function && (cl->any_index || cl->index == e->index))
				*cpuid_reg_ptr(e, cl->reg) &= ~(1u << cl->bit);
		}
	}
}


static int kvm_vcpu_get_regs(void *opaque, struct vmm_x86_regs *r)
{
	struct kvm_regs k;
	int ret = kvm_vcpu_ioctl(opaque, KVM_GET_REGS, "KVM_GET_REGS", &k);

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

	return kvm_vcpu_ioctl(opaque, KVM_SET_REGS, "KVM_SET_REGS", &k);
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
	int ret = kvm_vcpu_ioctl(opaque, KVM_GET_SREGS, "KVM_GET_SREGS", &k);

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
	int ret = kvm_vcpu_ioctl(opaque, KVM_GET_SREGS, "KVM_GET_SREGS", &k);

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
	return kvm_vcpu_ioctl(opaque, KVM_SET_SREGS, "KVM_SET_SREGS", &k);
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
	pthread_mutex_lock(&vm->arch->route_lock);
	if (vm->arch->pin_routes_used)
		goto out_unlock;	/* the IOAPIC's own routes hold it already */
	for (unsigned i = 0; i < vm->arch->nlevel_routes; i++) {
		struct kvm_irq_routing_msi *r = &vm->arch->level_routes[i];
		if (r->address_lo == msi->address_lo && r->address_hi == msi->address_hi &&
		    r->data == msi->data)
			goto out_unlock;
	}
	unsigned slot = vm->arch->nlevel_routes < SPLIT_IOAPIC_PINS ? vm->arch->nlevel_routes++ :
			vm->arch->next_victim++ % SPLIT_IOAPIC_PINS;
	vm->arch->level_routes[slot] = (struct kvm_irq_routing_msi){ .address_lo = msi->address_lo,
							       .address_hi = msi->address_hi,
							       .data = msi->data };
	struct kvm_irq_routing *table = calloc(1, sizeof(*table) +
						  vm->arch->nlevel_routes * sizeof(table->entries[0]));
	if (!table)
		goto out_unlock;
	table->nr = vm->arch->nlevel_routes;
	for (unsigned i = 0; i < vm->arch->nlevel_routes; i++) {
		table->entries[i].gsi = i;
		table->entries[i].type = KVM_IRQ_ROUTING_MSI;
		table->entries[i].u.msi = vm->arch->level_routes[i];
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		vm->h->log(vm->h, VMM_LOG_WARN, "kvm: KVM_SET_GSI_ROUTING: %s; level-triggered vector "
			   "%u may not see its EOI", strerror(errno), msi->data & 0xff);
	free(table);
out_unlock:
	pthread_mutex_unlock(&vm->arch->route_lock);
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
	pthread_mutex_lock(&vm->arch->route_lock);
	vm->arch->pin_routes_used = true;
	if (valid) {
		vm->arch->pin_routed |= 1u << pin;
		vm->arch->pin_routes[pin] = (struct kvm_irq_routing_msi){ .address_lo = (uint32_t)addr,
								    .address_hi = (uint32_t)(addr >> 32),
								    .data = data };
	} else {
		vm->arch->pin_routed &= ~(1u << pin);
	}
	for (unsigned i = 0; i < SPLIT_IOAPIC_PINS; i++) {
		if (!(vm->arch->pin_routed & (1u << i)))
			continue;
		table->entries[n].gsi = i;
		table->entries[n].type = KVM_IRQ_ROUTING_MSI;
		table->entries[n].u.msi = vm->arch->pin_routes[i];
		n++;
	}
	table->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, table) < 0) {
		r = -errno;
		vm->h->log(vm->h, VMM_LOG_WARN, "kvm: KVM_SET_GSI_ROUTING (IOAPIC pin %u): %s", pin,
			   strerror(-r));
	}
	pthread_mutex_unlock(&vm->arch->route_lock);
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
	return kvm_vcpu_ioctl(vcpu, KVM_INTERRUPT, "KVM_INTERRUPT", &irq);
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
	if (vm->arch->pit)
		return 0;
	if (!kvm_check_ext(vm, KVM_CAP_PIT2)) {
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: the host lacks KVM_CAP_PIT2");
		return -ENOTSUP;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pc) < 0) {
		int err = errno;

		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_CREATE_PIT2: %s", strerror(err));
		return -err;
	}
	vm->arch->pit = true;
	return 0;
}


/* ------------------------------------------------------------------ */
/* hooks of kvm-internal.h */

int kvm_arch_vm_init(struct kvm_vm *vm, uint32_t nr_vcpus)
{
	const struct vmm_host *h = vm->h;
	const char *irqchip = h->prop_str(h, "irqchip");

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch) {
		h->log(h, VMM_LOG_ERROR, "kvm: out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&vm->arch->route_lock, NULL);
	pthread_mutex_init(&vm->arch->filter_lock, NULL);
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
		return -EINVAL;
	}
	if (vm->mode == VMM_IRQ_EMULATED && nr_vcpus > 1) {
		/* The 8259 drives one CPU's INTR pin; SMP needs local APICs. */
		h->log(h, VMM_LOG_ERROR, "kvm: irqchip = \"emulated\" runs one vCPU, not %u "
		       "(use irqchip = \"split\" or \"kernel\" for SMP)", nr_vcpus);
		return -EINVAL;
	}
	return parse_cpuid_clear(vm, h->prop_str(h, "cpuid-clear"));
}

void kvm_arch_vm_fini(struct kvm_vm *vm)
{
	if (!vm->arch)
		return;
	pthread_mutex_destroy(&vm->arch->route_lock);
	pthread_mutex_destroy(&vm->arch->filter_lock);
	free(vm->arch->supported_cpuid);
	free(vm->arch);
	vm->arch = NULL;
}

int kvm_arch_check_caps(struct kvm_vm *vm)
{
	if (vm->mode == VMM_IRQ_KERNEL && !kvm_check_ext(vm, KVM_CAP_IRQCHIP)) {
		vm->h->log(vm->h, VMM_LOG_ERROR,
			   "kvm: host lacks KVM_CAP_IRQCHIP, needed by irqchip=kernel (try irqchip=none)");
		return 1;
	}
	return 0;
}

unsigned long kvm_arch_vm_type(struct kvm_vm *vm)
{
	return 0;
}

int kvm_arch_vm_setup(struct kvm_vm *vm)
{
	const struct vmm_host *h = vm->h;
	bool want_irqchip = vm->mode == VMM_IRQ_KERNEL;
	int r;

	/* A resampling irqfd needs the whole irqchip in the kernel: KVM
	 * refuses KVM_IRQFD_FLAG_RESAMPLE with a split irqchip, whose IOAPIC
	 * (where the EOI that resamples happens) is in userspace. */
	vm->irqfd = want_irqchip && kvm_prop_bool(h, "irqfd", true) &&
		    kvm_check_ext(vm, KVM_CAP_IRQFD) > 0 && kvm_check_ext(vm, KVM_CAP_IRQFD_RESAMPLE) > 0;
	/* asked once, with the other capabilities: each vCPU's CPUID uses it */
	vm->arch->tsc_deadline = vm->mode != VMM_IRQ_EMULATED && kvm_prop_bool(h, "tsc-deadline", true) &&
				 kvm_check_ext(vm, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	set_x86_addrs(vm);
	if (vm->mode == VMM_IRQ_SPLIT) {
		r = enable_split_irqchip(vm);
		if (r)
			return r;
	}
	if (want_irqchip) {
		r = create_irqchip(vm, kvm_prop_bool(h, "pit", false));
		if (r)
			return r;
	} else if (kvm_prop_bool(h, "pit", false)) {
		h->log(h, VMM_LOG_WARN, "kvm: pit=true ignored: the in-kernel PIT needs irqchip=kernel");
	}
	if (kvm_prop_bool(h, "user-msr", true))
		return enable_user_msr(vm);
	return 0;
}

static int kvm_vcpu_cpuid_set(void *opaque, const struct vmm_cpuid_leaf *leaves, unsigned n)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_cpuid2 *cpuid, *merged;
	int r;

	cpuid = get_supported_cpuid(vm);
	if (!cpuid)
		return -EIO;
	patch_cpuid(vm, cpuid, vcpu->index);
	merged = kvm_cpuid_merge(cpuid, leaves, n);
	free(cpuid);
	if (!merged)
		return -ENOMEM;
	/* Before the first KVM_RUN KVM takes a new table as a whole. */
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, merged);
	free(merged);
	if (r < 0) {
		r = -errno;
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_SET_CPUID2 (device leaves) for vCPU %u: %s",
			   vcpu->index, strerror(-r));
		return r;
	}
	return 0;
}

/*
 * The guest's TSC is a clock only while KVM keeps its master clock
 * (KVM_GET_CLOCK's KVM_CLOCK_TSC_STABLE, KVM API document, KVM_GET_CLOCK):
 * without it (a host whose own TSC is unstable, as the nested test host's
 * emulated L1) KVM moves the guest's TSC forward to catch up at vCPU
 * entries, so a TSC-to-time formula taken now is wrong later.  KVM then
 * keeps its own Hyper-V TSC page invalid; callers of vcpu_tsc get
 * -EAGAIN and do the same.  A KVM that does not report the flag
 * (KVM_CAP_ADJUST_CLOCK without it) cannot tell: the TSC is taken as is.
 */
static bool kvm_tsc_unstable(struct kvm_vm *vm)
{
	struct kvm_clock_data clk = { 0 };

	/* The capability is the host's, asked once per VM (-1: not yet);
	 * the flag itself can change while the VM runs (the host's clock
	 * source), so KVM_GET_CLOCK is asked every time. */
	if (vm->clock_caps < 0)
		vm->clock_caps = kvm_check_ext(vm, KVM_CAP_ADJUST_CLOCK);
	if (!(vm->clock_caps & KVM_CLOCK_TSC_STABLE))
		return false;
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clk) < 0)
		return false;
	return !(clk.flags & KVM_CLOCK_TSC_STABLE);
}

static int kvm_vcpu_tsc(void *opaque, uint64_t *tsc, uint32_t *khz)
{
	struct kvm_vcpu *vcpu = opaque;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = 0x10 /* IA32_TIME_STAMP_COUNTER */ };
	int r;

	if (kvm_tsc_unstable(vcpu->vm)) {
		vcpu->vm->h->log(vcpu->vm->h, VMM_LOG_DEBUG, "kvm: vCPU %u: the guest TSC is not "
				 "stable (no KVM_CLOCK_TSC_STABLE)", vcpu->index);
		return -EAGAIN;
	}

	if (!vcpu->tsc_khz) {
		r = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
		if (r <= 0)
			return r < 0 ? -errno : -ENOTSUP;
		vcpu->tsc_khz = (uint32_t)r;
	}
	*khz = vcpu->tsc_khz;
	if (ioctl(vcpu->fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*tsc = m.e.data;
	return 0;
}

/* ------------------------------------------------------------------ */
/* KVM's own Hyper-V (ABI 1.13) */

#define HV_CPUID_MAX_NENT 64

/*
 * KVM_GET_SUPPORTED_HV_CPUID on /dev/kvm (KVM API document, same name): the leaves KVM's
 * Hyper-V emulation supports, whatever a vCPU shows.  The system form
 * (KVM_CAP_SYS_HYPERV_CPUID, Linux 5.11) needs no vCPU; older hosts are
 * taken as having none.
 */
static int kvm_hyperv_cpuid(void *opaque, struct vmm_cpuid_leaf *leaves, unsigned *n)
{
	struct kvm_vm *vm = opaque;
	struct kvm_cpuid2 *c;
	int r = 0;

	if (kvm_check_ext(vm, KVM_CAP_HYPERV_CPUID) <= 0 ||
	    kvm_check_ext(vm, KVM_CAP_SYS_HYPERV_CPUID) <= 0)
		return -ENOTSUP;
	c = calloc(1, sizeof(*c) + HV_CPUID_MAX_NENT * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = HV_CPUID_MAX_NENT;
	if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_HV_CPUID, c) < 0) {
		r = -errno;
		vm->h->log(vm->h, VMM_LOG_ERROR, "kvm: KVM_GET_SUPPORTED_HV_CPUID: %s", strerror(-r));
		goto out_free;
	}
	if (c->nent > *n) {
		r = -E2BIG;
		goto out_free;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		leaves[i] = (struct vmm_cpuid_leaf){
			.function = e->function,
			.index = e->index,
			.flags = (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? VMM_CPUID_INDEXED : 0,
			.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
		};
	}
	*n = c->nent;
out_free:
	free(c);
	return r;
}

/*
 * KVM_CAP_HYPERV_SYNIC2 per vCPU (KVM API 7, KVM_CAP_HYPERV_SYNIC2): KVM then serves the
 * SynIC and synthetic timer MSRs and reports SCONTROL/SIEFP/SIMP writes
 * as KVM_EXIT_HYPERV; it needs KVM's local APIC (EINVAL otherwise).
 * SYNIC2 rather than SYNIC: KVM does not zero the message and event
 * pages when the guest enables them (TLFS 11.8: the guest owns their
 * contents).  KVM_CAP_HYPERV_ENFORCE_CPUID (Linux 5.14) limits the
 * synthetic MSRs and hypercalls to what the vCPU's Hyper-V CPUID leaves
 * offer; a host without it serves them all, so it is asked for only
 * where offered.
 */
static int kvm_vcpu_hyperv_enable(void *opaque, uint32_t what)
{
	struct kvm_vcpu *vcpu = opaque;
	struct kvm_vm *vm = vcpu->vm;
	int r;

	if (what & ~(uint32_t)(VMM_HYPERV_SYNIC | VMM_HYPERV_ENFORCE_CPUID))
		return -EINVAL;
	if (what & VMM_HYPERV_SYNIC) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_HYPERV_SYNIC2 };

		if (kvm_check_ext(vm, KVM_CAP_HYPERV_SYNIC2) <= 0)
			return -ENOTSUP;
		if (vm->mode == VMM_IRQ_EMULATED)
			return -EINVAL;
		r = kvm_vcpu_ioctl(vcpu, KVM_ENABLE_CAP, "KVM_ENABLE_CAP(KVM_CAP_HYPERV_SYNIC2)", &cap);
		if (r)
			return r;
	}
	if ((what & VMM_HYPERV_ENFORCE_CPUID) && kvm_check_ext(vm, KVM_CAP_HYPERV_ENFORCE_CPUID) > 0) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_HYPERV_ENFORCE_CPUID, .args[0] = 1 };

		r = kvm_vcpu_ioctl(vcpu, KVM_ENABLE_CAP, "KVM_ENABLE_CAP(KVM_CAP_HYPERV_ENFORCE_CPUID)",
				   &cap);
		if (r)
			return r;
	}
	return 0;
}

int kvm_arch_vcpu_init(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	const struct vmm_host *h = vm->h;
	uint32_t index = vcpu->index;
	struct kvm_cpuid2 *cpuid;
	int r;

	cpuid = get_supported_cpuid(vm);
	if (!cpuid)
		return -EIO;
	patch_cpuid(vm, cpuid, index);
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (r < 0) {
		r = -errno;
		h->log(h, VMM_LOG_ERROR, "kvm: KVM_SET_CPUID2 for vCPU %u: %s", index,
		       strerror(-r));
		return r;
	}
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
			return r;
		}
	}
	return 0;
}

/* KVM_EXIT_HYPERV (KVM API 5, "struct kvm_hyperv_exit"): a hypercall's
 * result is due at the next KVM_RUN (complete_exit).  SYNDBG exits need
 * the debugging MSRs, which the hyperv plugin never offers: unknown. */
bool kvm_arch_translate_exit(struct kvm_vcpu *vcpu, struct kvm_run *run, struct vmm_exit *exit)
{
	if (run->exit_reason != KVM_EXIT_HYPERV)
		return false;
	switch (run->hyperv.type) {
	case KVM_EXIT_HYPERV_SYNIC:
		exit->reason = VMM_EXIT_HYPERV;
		exit->hyperv.type = VMM_HYPERV_EXIT_SYNIC;
		exit->hyperv.msr = run->hyperv.u.synic.msr;
		exit->hyperv.synic.control = run->hyperv.u.synic.control;
		exit->hyperv.synic.evt_page = run->hyperv.u.synic.evt_page;
		exit->hyperv.synic.msg_page = run->hyperv.u.synic.msg_page;
		return true;
	case KVM_EXIT_HYPERV_HCALL:
		exit->reason = VMM_EXIT_HYPERV;
		exit->hyperv.type = VMM_HYPERV_EXIT_HCALL;
		exit->hyperv.msr = 0;
		exit->hyperv.hcall.input = run->hyperv.u.hcall.input;
		exit->hyperv.hcall.params[0] = run->hyperv.u.hcall.params[0];
		exit->hyperv.hcall.params[1] = run->hyperv.u.hcall.params[1];
		exit->hyperv.hcall.result = 2; /* HV_STATUS_INVALID_HYPERCALL_CODE */
		vcpu->pending = KVM_EXIT_HYPERV;
		vcpu->pending_exit = exit;
		return true;
	default:
		return false;
	}
}

int kvm_arch_run_error(struct kvm_vcpu *vcpu, int err, struct vmm_exit *exit)
{
	return -err;
}

/* The GSI numbering of the in-kernel PIC and IOAPIC: the line itself. */
/* Nothing to report after a run on x86 (vm->after_run stays false). */
void kvm_arch_after_run(struct kvm_vcpu *vcpu)
{
	(void)vcpu;
}

int kvm_arch_irq_encode(struct kvm_vm *vm, uint32_t line, uint32_t *irq)
{
	*irq = line;
	return 0;
}

/* KVM's default routing: GSI n is PIC/IOAPIC pin n, the line itself. */
int kvm_arch_irqfd_gsi(struct kvm_vm *vm, uint32_t line, uint32_t *gsi)
{
	*gsi = line;
	return 0;
}

bool kvm_x86_has_pit(const struct kvm_vm *vm)
{
	return vm->arch && vm->arch->pit;
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
	.vcpu_reg_get = kvm_vcpu_reg_get,
	.vcpu_reg_set = kvm_vcpu_reg_set,
	.vcpu_cpuid_set = kvm_vcpu_cpuid_set,
	.vcpu_tsc = kvm_vcpu_tsc,
	.vcpu_state_save = kvm_x86_vcpu_state_save,
	.vcpu_state_load = kvm_x86_vcpu_state_load,
	.vm_state_save = kvm_x86_vm_state_save,
	.vm_state_load = kvm_x86_vm_state_load,
	.dirty_log_get = kvm_dirty_log_get,
	.hyperv_cpuid = kvm_hyperv_cpuid,
	.vcpu_hyperv_enable = kvm_vcpu_hyperv_enable,
	.msr_intercept = kvm_msr_intercept,
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
