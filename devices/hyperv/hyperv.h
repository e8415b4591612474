/* SPDX-License-Identifier: MIT */
/*
 * devices/hyperv/hyperv.h - Hyper-V enlightenments, emulated: the CPUID
 * leaves, the synthetic MSRs a partition sees and the hypercall page.
 *
 * This file knows the Hyper-V Top-Level Functional Specification (TLFS,
 * v6.0b and the online edition) and nothing of the host: guest memory, the
 * virtual clock and the guest's TSC come in through struct hyperv_ops, so the
 * model is tested without a hypervisor.  MSR accesses are 64-bit and name
 * the vCPU they come from; a refused access (-1) is #GP for the guest.
 */
#ifndef HYPERV_H
#define HYPERV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPUID leaves (TLFS 2.4 "Hypervisor Discovery" and 2.4.x). */
#define HV_CPUID_VENDOR   0x40000000u /* EAX highest leaf, EBX:ECX:EDX "Microsoft Hv" */
#define HV_CPUID_INTERFACE 0x40000001u /* EAX "Hv#1" */
#define HV_CPUID_VERSION  0x40000002u
#define HV_CPUID_FEATURES 0x40000003u /* EAX:EBX privilege mask, EDX features */
#define HV_CPUID_ENLIGHTENMENTS 0x40000004u
#define HV_CPUID_LIMITS   0x40000005u
#define HV_CPUID_HW_FEATURES 0x40000006u
#define HV_CPUID_MAX      HV_CPUID_HW_FEATURES
#define HV_CPUID_NR       (HV_CPUID_MAX - HV_CPUID_VENDOR + 1)
#define HV_INTERFACE_HV1  0x31237648u /* "Hv#1", little-endian */

/* HV_PARTITION_PRIVILEGE_MASK, low half: access to synthetic MSRs. */
#define HV_PRIV_VP_RUNTIME    (1u << 0) /* AccessVpRunTimeReg */
#define HV_PRIV_TIME_REF_COUNT (1u << 1) /* AccessPartitionReferenceCounter */
#define HV_PRIV_SYNIC         (1u << 2) /* AccessSynicRegs (not offered yet) */
#define HV_PRIV_STIMER        (1u << 3) /* AccessSyntheticTimerRegs (not offered yet) */
#define HV_PRIV_HYPERCALL     (1u << 5) /* AccessHypercallMsrs: GUEST_OS_ID, HYPERCALL */
#define HV_PRIV_VP_INDEX      (1u << 6) /* AccessVpIndex */
#define HV_PRIV_RESET         (1u << 7) /* AccessResetReg */
#define HV_PRIV_REFERENCE_TSC (1u << 9) /* AccessPartitionReferenceTsc */
/* 0x40000003 EDX: direct-mode synthetic timers (12.5.3). */
#define HV_FEAT_STIMER_DIRECT (1u << 19)
/* 0x40000003 EDX: the guest crash MSRs. */
#define HV_FEAT_CRASH_MSRS    (1u << 10)
/* 0x40000004 EAX: do not use auto-EOI (the local APIC is the
 * hypervisor's: an emulated SynIC cannot end the interrupt for the guest). */
#define HV_RECOMMEND_NO_AUTO_EOI (1u << 9)

/* Synthetic MSRs (TLFS appendix "Hypervisor Synthetic MSRs"). */
#define HV_MSR_BASE           0x40000000u
#define HV_MSR_COUNT          0x100u /* the range the plugin takes on the MSR bus */
#define HV_MSR_GUEST_OS_ID    0x40000000u
#define HV_MSR_HYPERCALL      0x40000001u
#define HV_MSR_VP_INDEX       0x40000002u
#define HV_MSR_RESET          0x40000003u /* bit 0: reset the partition */
#define HV_MSR_VP_RUNTIME     0x40000010u
#define HV_MSR_TIME_REF_COUNT 0x40000020u
#define HV_MSR_REFERENCE_TSC  0x40000021u
/* SynIC (11.8) and synthetic timers (12.5). */
#define HV_MSR_SCONTROL       0x40000080u
#define HV_MSR_SVERSION       0x40000081u
#define HV_MSR_SIEFP          0x40000082u
#define HV_MSR_SIMP           0x40000083u
#define HV_MSR_EOM            0x40000084u
#define HV_MSR_SINT0          0x40000090u /* .. SINT15 0x4000009f */
#define HV_MSR_STIMER0_CONFIG 0x400000b0u /* STIMERn_CONFIG = + 2n, _COUNT = + 2n + 1 */
#define HV_MSR_STIMER0_COUNT  0x400000b1u

/* Guest crash MSRs: P0-P4 the guest's parameters, then CRASH_CTL. */
#define HV_MSR_CRASH_P0       0x40000100u
#define HV_MSR_CRASH_CTL      0x40000105u
#define HV_MSR_CRASH_COUNT    6
#define HV_CRASH_CTL_NOTIFY   (1ull << 63) /* the guest crashed: P0-P4 hold why */
#define HV_CRASH_CTL_MESSAGE  (1ull << 62) /* P3 a message's GPA, P4 its length */
#define HV_CRASH_MESSAGE_MAX  4096

#define HV_SYNIC_SINT_COUNT   16
#define HV_SYNIC_VERSION      1
#define HV_SCONTROL_ENABLE    (1ull << 0)
#define HV_SYNIC_PAGE_ENABLE  (1ull << 0) /* SIMP and SIEFP; 11:1 RsvdP */
#define HV_SYNIC_PAGE_RSVD    0xffeull
#define HV_SINT_VECTOR(v)     ((uint8_t)(v))
#define HV_SINT_MASKED        (1ull << 16)
#define HV_SINT_AUTO_EOI      (1ull << 17)
#define HV_SINT_POLLING       (1ull << 18)
#define HV_SINT_RSVD          (~0x7ffffull)         /* 63:19 */
#define HV_SINT_RSVD_LOW      0xff00ull             /* 15:8 */
#define HV_SINT_FIRST_VECTOR  16 /* 0-15 are reserved: #GP unless masked */

#define HV_STIMER_COUNT       4
#define HV_STIMER_ENABLE      (1ull << 0)
#define HV_STIMER_PERIODIC    (1ull << 1)
#define HV_STIMER_LAZY        (1ull << 2)
#define HV_STIMER_AUTOENABLE  (1ull << 3)
#define HV_STIMER_VECTOR(c)   ((uint8_t)((c) >> 4))
#define HV_STIMER_DIRECT      (1ull << 12)
#define HV_STIMER_SINT(c)     ((unsigned)((c) >> 16) & 0xf)
#define HV_STIMER_RSVD        ((0x7ull << 13) | (~0ull << 20))

/* Messages (11.9): 16 slots of 256 bytes in the SIMP page, one per SINT. */
#define HV_MESSAGE_SIZE       256
#define HV_MSG_TYPE           0  /* uint32; 0 HvMessageTypeNone: the slot is free */
#define HV_MSG_PAYLOAD_SIZE   4  /* uint8 */
#define HV_MSG_FLAGS          5  /* uint8, bit 0 MessagePending */
#define HV_MSG_PAYLOAD        16
#define HV_MSG_FLAG_PENDING   0x01
#define HV_MSG_TIMER_EXPIRED  0x80000010u
/* HvMessageTimerExpired's payload: TimerIndex, Reserved, ExpirationTime,
 * DeliveryTime (12.5.4). */
#define HV_TIMER_MSG_PAYLOAD  24

/* HV_X64_MSR_HYPERCALL and HV_X64_MSR_REFERENCE_TSC: an enable bit, RsvdP
 * bits and a guest page frame number in 63:12. */
#define HV_HYPERCALL_ENABLE   (1ull << 0)
#define HV_HYPERCALL_LOCKED   (1ull << 1)
#define HV_HYPERCALL_RSVD     0xffcull /* 11:2 */
#define HV_REFTSC_ENABLE      (1ull << 0)
#define HV_REFTSC_RSVD        0xffeull /* 11:1 */
#define HV_PAGE_SIZE          4096u
#define HV_PAGE_MASK          (~(uint64_t)(HV_PAGE_SIZE - 1))

/* The reference TSC page (TLFS 12.7 "Partition Reference Time Enlightenment"):
 * ReferenceTime = ((VirtualTsc * TscScale) >> 64) + TscOffset, valid while
 * TscSequence is not 0 and unchanged across the read. */
#define HV_TSC_PAGE_SEQUENCE  0  /* uint32 */
#define HV_TSC_PAGE_SCALE     8  /* uint64 */
#define HV_TSC_PAGE_OFFSET    16 /* int64 */
#define HV_TSC_SEQUENCE_INVALID 0u

/* Hypercall input value (TLFS 3.7 "Hypercall Inputs") and result. */
#define HV_HC_CODE(c)         ((uint16_t)(c))
#define HV_HC_FAST            (1ull << 16)
#define HV_HC_REP_COUNT(c)    (((c) >> 32) & 0xfffu)
#define HV_HC_REP_START(c)    (((c) >> 48) & 0xfffu)
#define HV_HC_RSVD            ((1ull << 27) | (0xfull << 44) | (0xfull << 60))
#define HV_CALL_NOTIFY_LONG_SPIN_WAIT 0x0008u
#define HV_STATUS_SUCCESS     0x0000u
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x0002u
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003u

/*
 * The hypercall port: how the hypercall page's code reaches the VMM in
 * emulated mode (README.md).  Eight 32-bit registers, each at its own port
 * from the `hypercall-port` base, per vCPU: the page writes the input value,
 * input GPA and output GPA, then GO, and reads the result.
 */
#define HV_PORT_CTL_LO  0
#define HV_PORT_CTL_HI  4
#define HV_PORT_IN_LO   8
#define HV_PORT_IN_HI   12
#define HV_PORT_OUT_LO  16
#define HV_PORT_OUT_HI  20
#define HV_PORT_GO      24 /* write: run the call; read: result bits 31:0 */
#define HV_PORT_RES_HI  28 /* read: result bits 63:32 */
#define HV_PORT_LEN     32

#define HYPERV_MAX_VCPUS 64

/* What a partition is offered; each bit one `hv-*` property. */
#define HYPERV_F_VP_INDEX   (1u << 0)
#define HYPERV_F_VP_RUNTIME (1u << 1)
#define HYPERV_F_TIME       (1u << 2) /* TIME_REF_COUNT */
#define HYPERV_F_REF_TSC    (1u << 3) /* reference TSC page; needs HYPERV_F_TIME */
#define HYPERV_F_HYPERCALL  (1u << 4) /* GUEST_OS_ID, HYPERCALL and the page */
#define HYPERV_F_SYNIC      (1u << 5) /* SCONTROL .. SINT15, message pages */
#define HYPERV_F_STIMER     (1u << 6) /* STIMER0-3; needs SYNIC and TIME */
#define HYPERV_F_RESET      (1u << 7) /* HV_X64_MSR_RESET */
#define HYPERV_F_CRASH      (1u << 8) /* CRASH_P0-P4, CRASH_CTL */

struct hyperv_ops {
	/* Guest RAM, bounds-checked: 0 or a negative errno. */
	int (*mem_read)(void *opaque, uint64_t gpa, void *buf, size_t len);
	int (*mem_write)(void *opaque, uint64_t gpa, const void *buf, size_t len);
	/* Virtual time in nanoseconds since the partition was created. */
	uint64_t (*now_ns)(void *opaque);
	/* vCPU `vcpu`'s TSC as its guest reads it, the virtual time at that
	 * moment and the TSC's rate; called inside that vCPU's MSR write.
	 * Negative errno when unknown: the TSC page then says "invalid".
	 * May be NULL. */
	int (*guest_tsc)(void *opaque, unsigned vcpu, uint64_t *tsc, uint64_t *ns, uint32_t *khz);
	/* Time vCPU `vcpu` has run, in nanoseconds.  May be NULL (0). */
	uint64_t (*vp_runtime_ns)(void *opaque, unsigned vcpu);
	/* A guest error, for the embedder to log and count.  May be NULL. */
	void (*guest_error)(void *opaque, const char *what);
	/* SynIC: interrupt `vector` to vCPU `vcpu` (fixed, edge).  Negative
	 * errno when it cannot. */
	int (*interrupt)(void *opaque, unsigned vcpu, uint8_t vector);
	/* One host timer per (vcpu, timer): call hyperv_stimer_expired()
	 * when the clock reaches deadline_ns (absolute); re-arming replaces. */
	void (*timer_arm)(void *opaque, unsigned vcpu, unsigned timer, uint64_t deadline_ns);
	void (*timer_cancel)(void *opaque, unsigned vcpu, unsigned timer);
	/* The guest asked for a partition reset (HV_X64_MSR_RESET). */
	void (*reset_request)(void *opaque);
	/* The guest reported a crash: P0-P4 and, when it gave one, its
	 * message (not NUL-terminated, `len` bytes, at most
	 * HV_CRASH_MESSAGE_MAX), else NULL. */
	void (*crash)(void *opaque, const uint64_t p[5], const char *msg, size_t len);
};

struct hyperv_stimer {
	uint64_t config, count;
	uint64_t expiration; /* reference time of the next expiry, 100 ns */
	bool armed;
	bool msg_pending;    /* expired, its message not in the slot yet */
	uint64_t msg_expiration;
};

struct hyperv_vcpu {
	uint32_t port[HV_PORT_LEN / 4]; /* the hypercall port's staged registers */
	uint64_t result;
	/* SynIC */
	uint64_t scontrol, siefp, simp;
	uint64_t sint[HV_SYNIC_SINT_COUNT];
	bool simp_mapped, siefp_mapped;
	uint8_t simp_under[HV_PAGE_SIZE], siefp_under[HV_PAGE_SIZE];
	struct hyperv_stimer stimer[HV_STIMER_COUNT];
	/* VP_RUNTIME, 100 ns units: the host's figure plus runtime_base (what
	 * a restored vCPU had run before), never below runtime_last (the
	 * last value read), so that it never goes back across a restore. */
	uint64_t runtime_base, runtime_last;
};

struct hyperv {
	const struct hyperv_ops *ops;
	void *opaque;
	uint32_t features;   /* HYPERV_F_* */
	uint16_t hypercall_port;

	uint64_t guest_os_id;
	uint64_t hypercall;  /* the MSR as the guest reads it */
	uint64_t ref_tsc;    /* the MSR as the guest reads it */
	uint32_t tsc_sequence; /* the last valid sequence written */
	/* The formula the TSC page holds while it says valid: TIME_REF_COUNT
	 * is read through it too, so that the two agree (not saved: a load
	 * leaves the page invalid until it is written again). */
	bool tsc_formula;
	uint64_t tsc_scale;
	int64_t tsc_offset;
	/* Overlay pages (TLFS 5.2.1 "GPA Overlay Pages"): what the guest's
	 * RAM held before the page went over it, given back when it leaves. */
	uint8_t hypercall_under[HV_PAGE_SIZE];
	uint8_t ref_tsc_under[HV_PAGE_SIZE];
	bool hypercall_mapped, ref_tsc_mapped;
	/* Loaded from a snapshot: the TSC page in RAM says "invalid" until a
	 * vCPU's next synthetic MSR access writes it again from that vCPU's
	 * TSC (README.md, "Saved state"). */
	bool ref_tsc_stale;

	struct hyperv_vcpu vcpu[HYPERV_MAX_VCPUS];
	uint64_t crash_p[5];
	uint64_t guest_errors;
	uint64_t hypercalls;
	uint64_t interrupts, messages; /* SINT interrupts and timer messages sent */
};

void hyperv_init(struct hyperv *hv, uint32_t features, uint16_t hypercall_port,
		 const struct hyperv_ops *ops, void *opaque);
/* Power-on state: MSRs cleared, overlay pages forgotten (RAM is the
 * machine's to reload). */
void hyperv_reset(struct hyperv *hv);

/* The CPUID leaves 0x40000000-0x40000006 for these features, into
 * out[HV_CPUID_NR] as (function, eax, ebx, ecx, edx) rows. */
struct hyperv_cpuid {
	uint32_t function, eax, ebx, ecx, edx;
};
void hyperv_cpuid(const struct hyperv *hv, struct hyperv_cpuid out[HV_CPUID_NR]);
/* mode = "kernel": the same leaves, keeping only the features the
 * hypervisor's own Hyper-V supports (`kvm`, `nkvm` rows: what
 * KVM_GET_SUPPORTED_HV_CPUID answered; its 0x40000003 decides) and
 * without the emulated SynIC's advice against auto-EOI.  Returns the
 * HYPERV_F_* switched on that the hypervisor lacks (left out). */
uint32_t hyperv_cpuid_kernel(const struct hyperv *hv, const struct hyperv_cpuid *kvm, unsigned nkvm,
			     struct hyperv_cpuid out[HV_CPUID_NR]);

/* 0, or -1 for #GP. */
int hyperv_msr_read(struct hyperv *hv, unsigned vcpu, uint32_t msr, uint64_t *value);
int hyperv_msr_write(struct hyperv *hv, unsigned vcpu, uint32_t msr, uint64_t value);

/* The hypercall port, `offset` from its base, 4-byte accesses: 0 or -1. */
int hyperv_port_read(struct hyperv *hv, unsigned vcpu, unsigned offset, uint32_t *value);
int hyperv_port_write(struct hyperv *hv, unsigned vcpu, unsigned offset, uint32_t value);

/* The hypercall page's code for a given port (TLFS 3.13: the page is the
 * guest's only way to call); `page` holds HV_PAGE_SIZE bytes.  Exposed for
 * the tests. */
void hyperv_hypercall_code(uint16_t port, uint8_t *page);

/* The host timer of (vcpu, timer) fired. */
void hyperv_stimer_expired(struct hyperv *hv, unsigned vcpu, unsigned timer);

/*
 * Saved state (README.md, "Saved state").  A loader fills a struct hyperv
 * that hyperv_init() made with the instance's own config and ops (the
 * scratch copy), from a record, then asks hyperv_state_check() whether a
 * running partition of `nvcpus` vCPUs could hold it: -1 with `field` the
 * record's name of the first field that is wrong (the names of README.md's
 * table, vCPU n's as "v<n>.name" and its timer t's as
 * "v<n>.stimer<t>.name") and *why what is wrong, else 0.  Guest RAM must
 * already be the saved machine's: the overlay pages are looked up there.
 * hyperv_state_commit() then makes `hv` the scratch's state and re-arms
 * its timers at their saved absolute due times; it cannot fail.
 */
int hyperv_state_check(const struct hyperv *s, unsigned nvcpus, char *field, size_t cap,
		       const char **why);
void hyperv_state_commit(struct hyperv *hv, const struct hyperv *s);

/* The partition reference counter, 100 ns units. */
uint64_t hyperv_time_ref_count(const struct hyperv *hv);

/* TLFS 12.7.3.2: the reference time a TSC page gives for `tsc`. */
static inline uint64_t hyperv_tsc_page_time(uint64_t tsc, uint64_t scale, int64_t offset)
{
	return (uint64_t)(((unsigned __int128)tsc * scale) >> 64) + (uint64_t)offset;
}

#endif
