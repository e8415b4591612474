/* SPDX-License-Identifier: MIT */
/*
 * vmm/hypervisor.h - the ops table of a hypervisor backend (kind
 * VMM_PLUGIN_HYPERVISOR), the generic VM-exit record and x86 vCPU state.
 *
 * The core owns the run loop: it calls vcpu_run() on a vCPU thread, and
 * dispatches the returned struct vmm_exit.  Results of a read (I/O in, MMIO
 * read, MSR read) are stored through the exit record before the next
 * vcpu_run(), which hands them to the guest.  The core passes the same exit
 * record to the next vcpu_run() of that vCPU; io.data and mmio.data point
 * into the backend's own buffers and are valid only until that call.
 *
 * With an in-kernel local APIC, HLT is handled in the kernel and never
 * returns VMM_EXIT_HALT.
 *
 * arm64 (ABI 1.7): the guest's vCPU 0 is the boot CPU; the backend starts
 * every other vCPU powered off, for the guest's PSCI CPU_ON to bring up
 * (KVM: KVM_ARM_VCPU_POWER_OFF at vcpu_create).  An interrupt line
 * (irq_line, irqfd, struct vmm_resource) is a GIC INTID: an SPI is 32 to
 * 1019 (GICv3 architecture specification, 2.2); the backend turns it into
 * its own encoding.  PSCI SYSTEM_OFF and SYSTEM_RESET arrive as
 * VMM_EXIT_SYSTEM_EVENT.  Registers are read and written by id
 * (vcpu_reg_get/vcpu_reg_set below).
 *
 * Error convention: 0 or a negative errno; NULL for pointers.
 */
#ifndef VMM_HYPERVISOR_H
#define VMM_HYPERVISOR_H

#include <vmm/plugin.h>
#include <vmm/host.h>
#include <vmm/state.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vmm_exit_reason {
	VMM_EXIT_NONE = 0,
	VMM_EXIT_IO,             /* port I/O: exit.io */
	VMM_EXIT_MMIO,           /* MMIO outside RAM: exit.mmio */
	VMM_EXIT_MSR_READ,       /* exit.msr; the core sets value and error */
	VMM_EXIT_MSR_WRITE,      /* exit.msr; the core sets error */
	VMM_EXIT_HALT,           /* HLT with no in-kernel local APIC */
	VMM_EXIT_SHUTDOWN,       /* triple fault */
	VMM_EXIT_SYSTEM_EVENT,   /* exit.system_event */
	VMM_EXIT_HYPERCALL,      /* exit.hypercall */
	VMM_EXIT_INTERNAL_ERROR, /* exit.internal */
	VMM_EXIT_FAIL_ENTRY,     /* exit.fail_entry */
	VMM_EXIT_IRQ_WINDOW,     /* the guest can take an interrupt now */
	VMM_EXIT_INTR,           /* kicked (signal or immediate exit): nothing to do */
	VMM_EXIT_UNKNOWN,        /* exit.unknown.code holds the backend's raw reason */
	VMM_EXIT_EOI,            /* exit.eoi: a local APIC's EOI of a level-triggered
				  * vector (VMM_IRQ_SPLIT); ABI 1.1 */
	VMM_EXIT_HYPERV,         /* exit.hyperv: the hypervisor's in-kernel Hyper-V
				  * (vcpu_hyperv_enable) tells or asks; ABI 1.13 */
	VMM_EXIT__COUNT
};

enum vmm_system_event {
	VMM_SYSTEM_EVENT_SHUTDOWN = 1,
	VMM_SYSTEM_EVENT_RESET = 2,
	VMM_SYSTEM_EVENT_CRASH = 3,
};

struct vmm_exit {
	uint32_t reason; /* enum vmm_exit_reason */
	union {
		struct {
			uint16_t port;
			uint8_t size;     /* 1, 2 or 4 */
			uint8_t is_write;
			uint32_t count;   /* string I/O repeats */
			uint8_t *data;    /* count * size bytes; the core fills it on reads */
		} io;
		struct {
			uint64_t addr;
			uint32_t len;     /* 1..8 */
			uint8_t is_write;
			uint8_t *data;    /* len bytes; the core fills it on reads */
		} mmio;
		struct {
			uint32_t index;
			uint8_t error;    /* set by the core: 1 injects #GP */
			uint64_t value;   /* write: from the guest; read: set by the core */
		} msr;
		struct {
			uint32_t type;    /* enum vmm_system_event */
		} system_event;
		struct {
			uint64_t nr;
			uint64_t args[6];
			uint64_t ret;     /* set by the core */
		} hypercall;
		struct {
			uint32_t suberror;
		} internal;
		struct {
			uint64_t reason;
		} fail_entry;
		struct {
			uint32_t code;
		} unknown;
		struct {
			uint32_t vector;
		} eoi;
		/* ABI 1.13 (KVM API document, 5 "struct kvm_run",
		 * KVM_EXIT_HYPERV; the TLFS sections named). */
		struct {
			uint32_t type;    /* VMM_HYPERV_EXIT_* */
			uint32_t msr;     /* SYNIC: the MSR the guest wrote */
			union {
				struct {
					/* SCONTROL, SIEFP and SIMP as they are
					 * now (TLFS 11.8): informative, the
					 * hypervisor has applied them */
					uint64_t control, evt_page, msg_page;
				} synic;
				struct {
					uint64_t input;  /* hypercall input value (TLFS 3.7) */
					uint64_t params[2]; /* input and output GPAs, or
							     * fast-call values */
					uint64_t result; /* set by the core: the
							  * hypercall result value */
				} hcall;
			};
		} hyperv;
	};
};

/* exit.hyperv.type */
#define VMM_HYPERV_EXIT_SYNIC 1 /* the guest changed SCONTROL, SIEFP or SIMP */
#define VMM_HYPERV_EXIT_HCALL 2 /* a hypercall the hypervisor leaves to the VMM */

/* vcpu_hyperv_enable's `what`: VMM_HYPERV_* of vmm/host.h. */

/* x86 state, in the backend-neutral layout the core uses for booting and
 * for save/restore. */
struct vmm_x86_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

struct vmm_x86_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g, avl;
	uint8_t unusable;
};

struct vmm_x86_dtable {
	uint64_t base;
	uint16_t limit;
};

struct vmm_x86_sregs {
	struct vmm_x86_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct vmm_x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
};

struct vmm_msr_entry {
	uint32_t index;
	uint64_t value;
};

/*
 * Register ids for vcpu_reg_get/vcpu_reg_set (ABI 1.7): the encoding of
 * the KVM API's ONE_REG interface (KVM API document, 4.68 KVM_SET_ONE_REG),
 * which a backend on another hypervisor translates.  Bits 63:56 name the
 * architecture, bits 55:52 the register's size as log2(bytes), so `val`
 * points to VMM_REG_SIZE(id) bytes.  An id the backend does not know is
 * -ENOENT (KVM's own answer).
 */
#define VMM_REG_SIZE_SHIFT 52
#define VMM_REG_SIZE(id) (1u << (((id) >> VMM_REG_SIZE_SHIFT) & 0xf))

/* arm64 core registers: KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE
 * | the 32-bit word offset of the field in struct kvm_regs, whose first
 * member is struct user_pt_regs { regs[31], sp, pc, pstate }
 * (arch/arm64/include/uapi/asm/kvm.h; the kvm plugin checks these against
 * its kernel headers at build time). */
#define VMM_REG_ARM64_CORE(word) (0x6030000000100000ull | (uint64_t)(word))
#define VMM_REG_ARM64_X(n)   VMM_REG_ARM64_CORE(2 * (n)) /* x0..x30 */
#define VMM_REG_ARM64_SP     VMM_REG_ARM64_CORE(62)      /* SP_EL0 */
#define VMM_REG_ARM64_PC     VMM_REG_ARM64_CORE(64)
#define VMM_REG_ARM64_PSTATE VMM_REG_ARM64_CORE(66)
/* arm64 system registers: KVM_REG_ARM64_SYSREG with op0, op1, CRn, CRm,
 * op2 in bits 15:14, 13:11, 10:7, 6:3, 2:0 (ARM ARM, D19 the system
 * register encodings). */
#define VMM_REG_ARM64_SYSREG(op0, op1, crn, crm, op2)                                   \
	(0x6030000000130000ull | (uint64_t)(op0) << 14 | (uint64_t)(op1) << 11 |        \
	 (uint64_t)(crn) << 7 | (uint64_t)(crm) << 3 | (uint64_t)(op2))
#define VMM_REG_ARM64_MPIDR_EL1 VMM_REG_ARM64_SYSREG(3, 0, 0, 0, 5)
/* ABI 1.14: the guest's virtual count (CNTVCT_EL0) as KVM's
 * KVM_REG_ARM_TIMER_CNT names it.  Its encoding is (3, 3, 14, 3, 2), which
 * the architecture gives CNTV_CVAL_EL0: KVM's uapi swapped the CNT and
 * CVAL ids long ago and keeps them so (arch/arm64/include/uapi/asm/kvm.h).
 * Writing it sets the VM's virtual counter offset: KVM 6.1 applies it to
 * every vCPU of the VM (arch_timer.c, update_vtimer_cntvoff). */
#define VMM_REG_ARM64_TIMER_CNT VMM_REG_ARM64_SYSREG(3, 3, 14, 3, 2)

/* PSTATE values (ARM ARM, C5.2.19 SPSR_EL2: M[3:0] and the DAIF bits). */
#define VMM_ARM64_PSTATE_EL1H 0x5u        /* EL1 with SP_EL1 */
#define VMM_ARM64_PSTATE_DAIF (0xfu << 6) /* D, A, I, F masked */

/* Flags for set_memory() */
#define VMM_MEM_DIRTY_LOG (1u << 0) /* track writes for dirty-page logging */
#define VMM_MEM_READONLY  (1u << 1) /* guest writes become MMIO exits */

/* Per-vCPU statistics the backend keeps itself (the core counts exits).
 * Updated by the vCPU thread without locking: read from elsewhere, they are
 * approximate. */
struct vmm_vcpu_stats {
	uint64_t runs;         /* vcpu_run() calls */
	uint64_t signal_exits; /* runs ended by a kick */
};

struct vmm_hv_ops {
	uint32_t size; /* sizeof(struct vmm_hv_ops) */

	/* Open the hypervisor and create one VM with `nr_vcpus` vCPUs to come.
	 * Check API version and required extensions here; log what is missing
	 * through h->log and return -ENOTSUP. */
	int (*vm_create)(const struct vmm_host *h, uint32_t nr_vcpus, void **vm);
	void (*vm_destroy)(void *vm);

	/* Map host memory [hva, hva+size) at guest-physical gpa in `slot`.
	 * Called again for a slot with the same gpa, size and hva, it changes
	 * only the flags: a live migration turns VMM_MEM_DIRTY_LOG on and off
	 * on a running machine's RAM this way (KVM: KVM_SET_USER_MEMORY_REGION
	 * on an existing slot, a flags-only change, KVM API document 4.35). */
	int (*set_memory)(void *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
			  uint32_t flags);
	/* Set an interrupt line's level on the in-kernel interrupt controller.
	 * NULL or -ENOTSUP when the backend has none. */
	int (*irq_line)(void *vm, uint32_t line, int level);

	int (*vcpu_create)(void *vm, uint32_t index, void **vcpu);
	void (*vcpu_destroy)(void *vcpu);
	/* Run until an exit the core must see.  Returns 0 with *exit filled,
	 * or a negative errno when the vCPU cannot run at all. */
	int (*vcpu_run)(void *vcpu, struct vmm_exit *exit);
	/* Make the current or next vcpu_run() return VMM_EXIT_INTR soon.
	 * Async-signal-safe; the core also sends the vCPU thread a signal. */
	void (*vcpu_kick)(void *vcpu);

	int (*vcpu_get_regs)(void *vcpu, struct vmm_x86_regs *r);
	int (*vcpu_set_regs)(void *vcpu, const struct vmm_x86_regs *r);
	int (*vcpu_get_sregs)(void *vcpu, struct vmm_x86_sregs *s);
	int (*vcpu_set_sregs)(void *vcpu, const struct vmm_x86_sregs *s);
	int (*vcpu_get_msrs)(void *vcpu, struct vmm_msr_entry *e, unsigned n);
	int (*vcpu_set_msrs)(void *vcpu, const struct vmm_msr_entry *e, unsigned n);
	int (*vcpu_get_stats)(void *vcpu, struct vmm_vcpu_stats *st);

	/* --- ABI 1.1: check size --- */
	/* The interrupt mode the VM was created in (its `irqchip` property). */
	enum vmm_irq_mode (*irq_mode)(void *vm);
	/* Deliver an MSI to the local APICs (split and kernel modes). */
	int (*msi_send)(void *vm, uint64_t addr, uint32_t data);
	/* On the vCPU's thread, between runs: true when the vCPU can take an
	 * external interrupt now.  When it cannot and `want` is true, the next
	 * run ends with VMM_EXIT_IRQ_WINDOW as soon as it can; `want` false
	 * withdraws that request.  The core has written its results into the
	 * last exit (e.g. msr.error) before it asks: a refused MSR access,
	 * whose #GP the next run delivers first, is a reason to say false. */
	bool (*vcpu_irq_window)(void *vcpu, bool want);
	/* Inject external interrupt `vector` (the 8259's INTA answer); only
	 * after vcpu_irq_window() returned true. */
	int (*vcpu_inject)(void *vcpu, uint32_t vector);
	/* Create an in-kernel device (VMM_IRQ_KERNEL mode). */
	int (*accel)(void *vm, enum vmm_accel what);

	/* --- ABI 1.2: check size --- */
	/* Assign (assign true) or deassign an ioeventfd: a guest write of
	 * `len` bytes (1, 2, 4 or 8) to `addr` on `bus` (VMM_BUS_PIO or
	 * VMM_BUS_MMIO) signals eventfd `fd` in the hypervisor instead of
	 * exiting; with `match`, only a write of value `data` does, and other
	 * writes exit as usual.  Deassigning takes the same arguments.  Any
	 * thread.  -ENOTSUP when the hypervisor has no ioeventfd; -EEXIST when
	 * the same address, length and data are assigned already. */
	int (*ioeventfd)(void *vm, enum vmm_bus bus, uint64_t addr, uint32_t len, bool match,
			 uint64_t data, int fd, bool assign);

	/* --- ABI 1.3: check size --- */
	/* Assign (assign true) or deassign an irqfd: a write to eventfd `fd`
	 * asserts interrupt line `gsi` of the in-kernel irqchip without a
	 * system call of the VMM's into the hypervisor.  With resample_fd
	 * >= 0 the line is level-triggered: it stays asserted until the
	 * guest's EOI, then the hypervisor deasserts it and signals eventfd
	 * resample_fd, and the VMM writes `fd` again if its line is still
	 * high.  Deassigning takes the same gsi and fd.  Any thread.
	 * -ENOTSUP when the hypervisor does not offer it (no in-kernel
	 * irqchip, or a capability missing). */
	int (*irqfd)(void *vm, uint32_t gsi, int fd, int resample_fd, bool assign);

	/* --- ABI 1.5: check size --- */
	/* VMM_IRQ_SPLIT: the userspace IOAPIC's pin `pin` (0-23) is
	 * level-triggered and sends MSI (addr, data) (valid true), or is not
	 * (valid false).  The hypervisor reports VMM_EXIT_EOI for the vectors
	 * of the valid pins from the vCPUs' next runs on.  Called on the
	 * vCPU thread whose guest write changed the entry (any thread is
	 * allowed).  -ENOTSUP in other modes. */
	int (*msi_route)(void *vm, uint32_t pin, bool valid, uint64_t addr, uint32_t data);

	/* --- ABI 1.7: check size --- */
	/* Read or write one vCPU register by id (VMM_REG_*): `val` holds
	 * VMM_REG_SIZE(id) bytes in host order.  On the vCPU's thread, or
	 * before the vCPUs run.  -ENOENT for an id the backend does not know,
	 * -ENOTSUP when it has no register access by id.  This is how the
	 * core sets an arm64 vCPU's entry state (PC, X0-X3, PSTATE). */
	int (*vcpu_reg_get)(void *vcpu, uint64_t id, void *val);
	int (*vcpu_reg_set)(void *vcpu, uint64_t id, const void *val);

	/* --- ABI 1.8: check size --- */
	/* Drive vCPU `vcpu`'s interrupt input `pin` (enum vmm_cpu_pin, host.h)
	 * to `level` and hold it there: the level an interrupt controller in
	 * a plugin gives (KVM: KVM_IRQ_LINE with KVM_ARM_IRQ_TYPE_CPU).  The
	 * core calls it only on that vCPU's own thread, between its runs:
	 * KVM/arm64 keeps the input as a bit of the vCPU's HCR_EL2 copy,
	 * which the vCPU's thread rewrites without an atomic operation each
	 * time it is loaded (Linux 6.1, arch/arm64/kvm/arm.c,
	 * kvm_arch_vcpu_load), so a call from another thread while the vCPU
	 * runs can be undone.  A level changed on another thread reaches the
	 * vCPU by a kick (core/host-irq.c, vmm_apply_cpu_pins).  -ENOTSUP when the
	 * VM has an in-kernel interrupt controller or the architecture no
	 * such input.
	 * A backend that offers it and can report lines private to a vCPU
	 * (arm64's timer outputs with a userspace GIC) calls the host's
	 * private_irq_set() from vcpu_run, before returning the exit. */
	int (*vcpu_irq_set)(void *vm, uint32_t vcpu, uint32_t pin, int level);

	/* --- ABI 1.9: check size --- */
	/* x86: merge device-contributed leaves (host.h, cpuid_set) into the
	 * vCPU's CPUID table, replacing the hypervisor's leaf of the same
	 * function (and index when VMM_CPUID_INDEXED), and apply the table.
	 * When any leaf lies in 0x40000000-0x400000ff the backend's own
	 * hypervisor leaves there move up by 0x100 (the signature leaf's EAX
	 * follows).  Called once per vCPU, after the devices are created and
	 * before the vCPU first runs.  -ENOTSUP on a backend without CPUID. */
	int (*vcpu_cpuid_set)(void *vcpu, const struct vmm_cpuid_leaf *leaves, unsigned n);
	/* x86: the vCPU's TSC as its guest reads it now (IA32_TSC) and its
	 * rate in kHz.  On the vCPU's thread, between runs.  -ENOTSUP when
	 * the backend cannot tell; -EAGAIN when the guest's TSC is no stable
	 * clock now (KVM without its master clock moves it to catch up), so
	 * that a formula taken from it would go wrong. */
	int (*vcpu_tsc)(void *vcpu, uint64_t *tsc, uint32_t *khz);

	/* --- ABI 1.12: saved state (vmm/state.h); check size --- */
	/* A vCPU's whole architectural state as one record (x86 with KVM:
	 * MP state, registers, special registers, FPU/XSAVE, XCRs, local
	 * APIC, MSRs, vCPU events, debug registers; arm64: its registers by
	 * id), through the state_put/state_get services of the host table the
	 * backend was given at vm_create.  With every vCPU out of vcpu_run
	 * (the machine paused), from the main thread.  Loading happens into a
	 * VM created from the same config, before any vCPU has run; the
	 * backend applies the pieces in the order its hypervisor needs.
	 * NULL or -ENOTSUP: the backend cannot save (a snapshot fails).
	 * The record may hold the hypervisor's own structures: its plugin
	 * name is in it, and a snapshot restores only on the same backend
	 * and a compatible host CPU (the backend refuses, naming what
	 * differs, what it cannot load). */
	int (*vcpu_state_save)(void *vcpu, struct vmm_state_out *out);
	int (*vcpu_state_load)(void *vcpu, struct vmm_state_in *in);
	/* The VM's own state: its clock, in-kernel interrupt controllers and
	 * timers (x86 KVM: the PIC pair, the IOAPIC, the PIT).  The core
	 * saves it after the vCPUs' and loads it after theirs and before the
	 * devices' (a device's load() may raise a line into an in-kernel
	 * controller), so the clock is set last and the guest sees no time
	 * pass beyond the pause. */
	int (*vm_state_save)(void *vm, struct vmm_state_out *out);
	int (*vm_state_load)(void *vm, struct vmm_state_in *in);
	/* The dirty log of memory slot `slot` (created with VMM_MEM_DIRTY_LOG)
	 * since the last call: one bit per 4 KiB page of the slot, page 0 in
	 * bit 0 of bitmap[0]; the log is cleared.  -ENOTSUP without one. */
	int (*dirty_log_get)(void *vm, uint32_t slot, uint64_t *bitmap);

	/* --- ABI 1.13: check size --- */
	/* x86: the Hyper-V CPUID leaves the hypervisor's own (in-kernel)
	 * Hyper-V emulation supports (KVM: KVM_GET_SUPPORTED_HV_CPUID on
	 * /dev/kvm).  `*n` holds the room in `leaves` on entry and how many
	 * were written on return.  -ENOTSUP when the hypervisor has none,
	 * -E2BIG when they do not fit.  Any thread. */
	int (*hyperv_cpuid)(void *vm, struct vmm_cpuid_leaf *leaves, unsigned *n);
	/* x86: switch on parts of the hypervisor's in-kernel Hyper-V on
	 * this vCPU (VMM_HYPERV_*), before it first runs.  From then on the
	 * hypervisor serves the synthetic MSRs itself, as its Hyper-V CPUID
	 * leaves (vcpu_cpuid_set) say, and its vcpu_run may return
	 * VMM_EXIT_HYPERV.  -EINVAL for VMM_HYPERV_SYNIC without an
	 * in-kernel local APIC (VMM_IRQ_EMULATED), -ENOTSUP when the
	 * hypervisor cannot. */
	int (*vcpu_hyperv_enable)(void *vcpu, uint32_t what);
	/* x86: guest accesses to MSRs [base, base + count) leave the guest
	 * as VMM_EXIT_MSR_READ/_WRITE even where the hypervisor has a
	 * handler of its own for them (KVM: KVM_X86_SET_MSR_FILTER), so that
	 * a device on the core's MSR bus sees them.  The core calls it for
	 * each MSR bus region a device maps, before the vCPUs run.
	 * -ENOTSUP when the hypervisor cannot (the accesses it handles
	 * itself then never reach the device), -ENOSPC past its limits. */
	int (*msr_intercept)(void *vm, uint32_t base, uint32_t count);

	/* --- ABI 1.14: check size --- */
	/* An in-kernel device (host.h: hv_device_create, VMM_HV_DEV_*,
	 * KVM_CREATE_DEVICE): *dev is the backend's handle, >= 0 and below
	 * VMM_HV_DEV_VCPU_BASE.  Creating an interrupt controller makes it
	 * the VM's (irq_line and irqfd reach it).  Returns the hypervisor's
	 * negative errno, unlogged.  -ENOTSUP when the VM's irqchip mode
	 * does not delegate it. */
	int (*device_create)(void *vm, uint32_t type, int *dev);
	/* Attribute (group, attr) of device `dev` (KVM_SET/GET/HAS_DEVICE_ATTR):
	 * op is enum vmm_hv_attr_op.  Returns the hypervisor's errno,
	 * unlogged. */
	int (*device_attr)(void *vm, int dev, uint32_t op, uint32_t group, uint64_t attr,
			   void *val);
	/* The same for vCPU `vcpu`'s own attributes (the timers' PPIs). */
	int (*vcpu_attr)(void *vcpu, uint32_t op, uint32_t group, uint64_t attr, void *val);
	/* May be NULL.  Called once after every device's create() and every
	 * vCPU exists, before the devices' ready ops: what the backend adds
	 * when no device did (the kvm plugin's default vGICv3 with irqchip =
	 * "kernel" and no gic device of mode "kernel").  A negative errno
	 * fails the machine; log why. */
	int (*devices_ready)(void *vm);
};

#ifdef __cplusplus
}
#endif
#endif /* VMM_HYPERVISOR_H */
