/* SPDX-License-Identifier: MIT */
/*
 * devices/hyperv/hyperv.c - Hyper-V enlightenments, emulated (hyperv.h).
 *
 * Section numbers are those of the Hyper-V Top-Level Functional
 * Specification (TLFS) v6.0b.
 */
#include <stdio.h>
#include <string.h>

#include "hyperv.h"

/* What 0x40000002 reports: Hyper-V's own numbering, major.minor 10.0; a
 * guest prints it ("Hyper-V: Host Build ...") and tests nothing on it. */
#define HV_VERSION_BUILD 0x4e20u /* 20000 */
#define HV_VERSION_MAJOR_MINOR 0x000a0000u
/* 0x40000004 EBX: spinlock retries before HvCallNotifyLongSpinWait;
 * all ones means never notify (TLFS 2.4.5). */
#define HV_SPIN_NEVER 0xffffffffu

static void guest_error(struct hyperv *hv, const char *what)
{
	hv->guest_errors++;
	if (hv->ops->guest_error)
		hv->ops->guest_error(hv->opaque, what);
}

static bool has(const struct hyperv *hv, uint32_t f)
{
	return (hv->features & f) != 0;
}

void hyperv_init(struct hyperv *hv, uint32_t features, uint16_t hypercall_port,
		 const struct hyperv_ops *ops, void *opaque)
{
	memset(hv, 0, sizeof(*hv));
	hv->ops = ops;
	hv->opaque = opaque;
	hv->features = features;
	hv->hypercall_port = hypercall_port;
	/* 11.8.4: every SINT starts masked. */
	for (unsigned v = 0; v < HYPERV_MAX_VCPUS; v++)
		for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
			hv->vcpu[v].sint[i] = HV_SINT_MASKED;
}

static void stimer_stop(struct hyperv *hv, unsigned vcpu, unsigned t);

void hyperv_reset(struct hyperv *hv)
{
	for (unsigned v = 0; v < HYPERV_MAX_VCPUS; v++)
		for (unsigned t = 0; t < HV_STIMER_COUNT; t++)
			stimer_stop(hv, v, t);
	uint32_t features = hv->features;
	uint16_t port = hv->hypercall_port;
	const struct hyperv_ops *ops = hv->ops;
	void *opaque = hv->opaque;
	uint64_t errors = hv->guest_errors;

	hyperv_init(hv, features, port, ops, opaque);
	hv->guest_errors = errors;
}

/* ------------------------------------------------------------------ CPUID */

static uint32_t privileges(const struct hyperv *hv)
{
	uint32_t p = 0;

	if (has(hv, HYPERV_F_VP_RUNTIME))
		p |= HV_PRIV_VP_RUNTIME;
	if (has(hv, HYPERV_F_TIME))
		p |= HV_PRIV_TIME_REF_COUNT;
	if (has(hv, HYPERV_F_HYPERCALL))
		p |= HV_PRIV_HYPERCALL;
	if (has(hv, HYPERV_F_VP_INDEX))
		p |= HV_PRIV_VP_INDEX;
	if (has(hv, HYPERV_F_REF_TSC))
		p |= HV_PRIV_REFERENCE_TSC;
	if (has(hv, HYPERV_F_SYNIC))
		p |= HV_PRIV_SYNIC;
	if (has(hv, HYPERV_F_STIMER))
		p |= HV_PRIV_STIMER;
	if (has(hv, HYPERV_F_RESET))
		p |= HV_PRIV_RESET;
	return p;
}

void hyperv_cpuid(const struct hyperv *hv, struct hyperv_cpuid out[HV_CPUID_NR])
{
	memset(out, 0, HV_CPUID_NR * sizeof(out[0]));
	for (unsigned i = 0; i < HV_CPUID_NR; i++)
		out[i].function = HV_CPUID_VENDOR + i;
	/* 2.4.1: the highest leaf and "Microsoft Hv" in EBX, ECX, EDX. */
	out[0].eax = HV_CPUID_MAX;
	memcpy(&out[0].ebx, "Micr", 4);
	memcpy(&out[0].ecx, "osof", 4);
	memcpy(&out[0].edx, "t Hv", 4);
	/* 2.4.2: "Hv#1", the interface this specification describes. */
	out[1].eax = HV_INTERFACE_HV1;
	out[2].eax = HV_VERSION_BUILD;
	out[2].ebx = HV_VERSION_MAJOR_MINOR;
	/* 2.4.4: the partition privilege mask's low half (synthetic MSRs);
	 * the high half (hypercalls such as HvPostMessage) stays 0. */
	out[3].eax = privileges(hv);
	if (has(hv, HYPERV_F_STIMER))
		out[3].edx |= HV_FEAT_STIMER_DIRECT;
	if (has(hv, HYPERV_F_CRASH))
		out[3].edx |= HV_FEAT_CRASH_MSRS;
	if (has(hv, HYPERV_F_SYNIC))
		out[4].eax = HV_RECOMMEND_NO_AUTO_EOI;
	out[4].ebx = HV_SPIN_NEVER;
	/* 2.4.6: implementation limits, the virtual processors first. */
	out[5].eax = HYPERV_MAX_VCPUS;
}

/* The leaf bits each feature needs (TLFS 2.4.4): all of them, or the
 * feature is not offered. */
static const struct {
	uint32_t feature, eax, edx;
} feature_bits[] = {
	{ HYPERV_F_VP_INDEX, HV_PRIV_VP_INDEX, 0 },
	{ HYPERV_F_VP_RUNTIME, HV_PRIV_VP_RUNTIME, 0 },
	{ HYPERV_F_TIME, HV_PRIV_TIME_REF_COUNT, 0 },
	{ HYPERV_F_REF_TSC, HV_PRIV_REFERENCE_TSC, 0 },
	{ HYPERV_F_HYPERCALL, HV_PRIV_HYPERCALL, 0 },
	{ HYPERV_F_SYNIC, HV_PRIV_SYNIC, 0 },
	{ HYPERV_F_STIMER, HV_PRIV_STIMER, HV_FEAT_STIMER_DIRECT },
	{ HYPERV_F_RESET, HV_PRIV_RESET, 0 },
	{ HYPERV_F_CRASH, 0, HV_FEAT_CRASH_MSRS },
};

uint32_t hyperv_cpuid_kernel(const struct hyperv *hv, const struct hyperv_cpuid *kvm, unsigned nkvm,
			     struct hyperv_cpuid out[HV_CPUID_NR])
{
	const struct hyperv_cpuid *kf = NULL, *ke = NULL, *kl = NULL;
	uint32_t missing = 0;

	for (unsigned i = 0; i < nkvm; i++) {
		if (kvm[i].function == HV_CPUID_FEATURES)
			kf = &kvm[i];
		else if (kvm[i].function == HV_CPUID_ENLIGHTENMENTS)
			ke = &kvm[i];
		else if (kvm[i].function == HV_CPUID_LIMITS)
			kl = &kvm[i];
	}
	hyperv_cpuid(hv, out);
	/* A feature is shown only whole: the timers' direct mode without
	 * their MSRs would be a promise nobody keeps. */
	for (size_t i = 0; i < sizeof(feature_bits) / sizeof(feature_bits[0]); i++) {
		uint32_t eax = feature_bits[i].eax, edx = feature_bits[i].edx;

		if (!has(hv, feature_bits[i].feature))
			continue;
		if (kf && (kf->eax & eax) == eax && (kf->edx & edx) == edx)
			continue;
		missing |= feature_bits[i].feature;
		out[3].eax &= ~eax;
		out[3].edx &= ~edx;
	}
	/* The hypervisor's SynIC ends auto-EOI interrupts itself: the
	 * emulated SynIC's advice against them (HV_RECOMMEND_NO_AUTO_EOI)
	 * does not apply. */
	out[4].eax &= ~HV_RECOMMEND_NO_AUTO_EOI;
	/* 2.4.5: the spin count before HvCallNotifyLongSpinWait is the
	 * hypervisor's, which serves that call (and with its CPUID
	 * enforced refuses it when told "never"). */
	if (ke)
		out[4].ebx = ke->ebx;
	/* 2.4.6: as many virtual processors as the hypervisor serves. */
	if (kl && kl->eax && kl->eax < out[5].eax)
		out[5].eax = kl->eax;
	return missing;
}

/* ---------------------------------------------------------- overlay pages */

/*
 * 5.2.1: an overlay page covers the guest's RAM at its GPA while enabled and
 * uncovers it when disabled or moved.  Emulated, the overlay is a write into
 * RAM: what was there is kept and written back.
 */
static int overlay_map(struct hyperv *hv, uint64_t gpa, uint8_t *under, const void *page)
{
	if (hv->ops->mem_read(hv->opaque, gpa, under, HV_PAGE_SIZE) < 0)
		return -1;
	if (hv->ops->mem_write(hv->opaque, gpa, page, HV_PAGE_SIZE) < 0)
		return -1;
	return 0;
}

static void overlay_unmap(struct hyperv *hv, uint64_t gpa, const uint8_t *under)
{
	hv->ops->mem_write(hv->opaque, gpa, under, HV_PAGE_SIZE);
}

/* ---------------------------------------------------------- hypercall page */

/*
 * The page's code: one entry at offset 0 for both 32-bit and 64-bit callers
 * (3.13).  It tells the modes apart by 0x48, "dec eax" in 32-bit code and a
 * REX.W prefix in 64-bit code, then hands the registers of the calling
 * convention (3.7: x64 RCX input value, RDX input GPA, R8 output GPA, result
 * in RAX; x86 EDX:EAX, EBX:ECX, EDI:ESI, result in EDX:EAX) to the hypercall
 * port one 32-bit half at a time, with interrupts off so that a call from an
 * interrupt handler cannot interleave, and reads the result back.  Every
 * other register is preserved.  The port number is patched in at
 * HC_PORT64 and HC_PORT32.
 */
#define HC_PORT64 0x10
#define HC_PORT32 0x61
static const uint8_t hypercall_code[] = {
	0x50, 0x31, 0xc0, 0x48, 0x90, 0x85, 0xc0, /* push; xor eax; dec eax|rex.w nop; test */
	0x58, 0x75, 0x51,                         /* pop; jnz 32-bit at 0x5b */
	/* 64-bit: pushfq; cli; push rdx; push rax; mov dx, PORT */
	0x9c, 0xfa, 0x52, 0x50, 0x66, 0xba, 0x00, 0x00,
	0x89, 0xc8, 0xef,                         /* mov eax, ecx; out (CTL_LO) */
	0x66, 0x83, 0xc2, 0x04, 0x48, 0x89, 0xc8, /* add dx, 4; mov rax, rcx */
	0x48, 0xc1, 0xe8, 0x20, 0xef,             /* shr rax, 32; out (CTL_HI) */
	0x66, 0x83, 0xc2, 0x04,
	0x48, 0x8b, 0x44, 0x24, 0x08, 0xef,       /* mov rax, [rsp+8] (rdx); out (IN_LO) */
	0x66, 0x83, 0xc2, 0x04,
	0x48, 0xc1, 0xe8, 0x20, 0xef,             /* shr rax, 32; out (IN_HI) */
	0x66, 0x83, 0xc2, 0x04,
	0x4c, 0x89, 0xc0, 0xef,                   /* mov rax, r8; out (OUT_LO) */
	0x66, 0x83, 0xc2, 0x04,
	0x48, 0xc1, 0xe8, 0x20, 0xef,             /* shr rax, 32; out (OUT_HI) */
	0x66, 0x83, 0xc2, 0x04, 0xef,             /* out (GO) */
	0xed, 0x89, 0x04, 0x24,                   /* in (result 31:0); mov [rsp], eax */
	0x66, 0x83, 0xc2, 0x04,
	0xed, 0x89, 0x44, 0x24, 0x04,             /* in (result 63:32); mov [rsp+4], eax */
	0x58, 0x5a, 0x9d, 0xc3,                   /* pop rax; pop rdx; popfq; ret */
	/* 32-bit at 0x5b: pushfd; cli; push edx; push eax; mov dx, PORT */
	0x9c, 0xfa, 0x52, 0x50, 0x66, 0xba, 0x00, 0x00,
	0xef,                                     /* out (CTL_LO = eax) */
	0x66, 0x83, 0xc2, 0x04,
	0x8b, 0x44, 0x24, 0x04, 0xef,             /* mov eax, [esp+4] (edx); out (CTL_HI) */
	0x66, 0x83, 0xc2, 0x04, 0x89, 0xc8, 0xef, /* mov eax, ecx; out (IN_LO) */
	0x66, 0x83, 0xc2, 0x04, 0x89, 0xd8, 0xef, /* mov eax, ebx; out (IN_HI) */
	0x66, 0x83, 0xc2, 0x04, 0x89, 0xf0, 0xef, /* mov eax, esi; out (OUT_LO) */
	0x66, 0x83, 0xc2, 0x04, 0x89, 0xf8, 0xef, /* mov eax, edi; out (OUT_HI) */
	0x66, 0x83, 0xc2, 0x04, 0xef,             /* out (GO) */
	0xed, 0x89, 0x04, 0x24,                   /* in (result 31:0); mov [esp], eax */
	0x66, 0x83, 0xc2, 0x04,
	0xed, 0x89, 0xc2,                         /* in (result 63:32); mov edx, eax */
	0x58, 0x83, 0xc4, 0x04, 0x9d, 0xc3,       /* pop eax; add esp, 4; popfd; ret */
};

void hyperv_hypercall_code(uint16_t port, uint8_t *page)
{
	memset(page, 0xcc, HV_PAGE_SIZE); /* int3 past the code */
	memcpy(page, hypercall_code, sizeof(hypercall_code));
	page[HC_PORT64] = page[HC_PORT32] = (uint8_t)port;
	page[HC_PORT64 + 1] = page[HC_PORT32 + 1] = (uint8_t)(port >> 8);
}

static uint64_t hypercall_run(struct hyperv *hv, struct hyperv_vcpu *v)
{
	uint64_t control = (uint64_t)v->port[HV_PORT_CTL_HI / 4] << 32 | v->port[HV_PORT_CTL_LO / 4];
	uint16_t code = HV_HC_CODE(control);

	hv->hypercalls++;
	if (!(hv->hypercall & HV_HYPERCALL_ENABLE)) {
		/* A real partition gets #UD from a hypercall instruction
		 * without the page (3.13); the port cannot raise it. */
		guest_error(hv, "hypercall port used with the hypercall page disabled");
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	}
	switch (code) {
	case HV_CALL_NOTIFY_LONG_SPIN_WAIT:
		/* 7.5.1: a simple call; nothing to yield to here. */
		if (HV_HC_REP_COUNT(control) || HV_HC_REP_START(control) || (control & HV_HC_RSVD))
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		return HV_STATUS_SUCCESS;
	default:
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	}
}

int hyperv_port_write(struct hyperv *hv, unsigned vcpu, unsigned offset, uint32_t value)
{
	struct hyperv_vcpu *v;

	if (vcpu >= HYPERV_MAX_VCPUS || offset >= HV_PORT_LEN || (offset & 3))
		return -1;
	v = &hv->vcpu[vcpu];
	if (offset == HV_PORT_GO)
		v->result = hypercall_run(hv, v);
	else if (offset < HV_PORT_GO)
		v->port[offset / 4] = value;
	else
		return -1;
	return 0;
}

int hyperv_port_read(struct hyperv *hv, unsigned vcpu, unsigned offset, uint32_t *value)
{
	struct hyperv_vcpu *v;

	if (vcpu >= HYPERV_MAX_VCPUS || offset >= HV_PORT_LEN || (offset & 3))
		return -1;
	v = &hv->vcpu[vcpu];
	if (offset == HV_PORT_GO)
		*value = (uint32_t)v->result;
	else if (offset == HV_PORT_RES_HI)
		*value = (uint32_t)(v->result >> 32);
	else
		*value = v->port[offset / 4];
	return 0;
}

static int hypercall_msr_write(struct hyperv *hv, uint64_t value)
{
	uint8_t page[HV_PAGE_SIZE];
	uint64_t old = hv->hypercall;

	if (value & HV_HYPERCALL_RSVD) {
		/* RsvdP: a guest preserves what it read, always 0 here. */
		guest_error(hv, "HV_X64_MSR_HYPERCALL: reserved bits 11:2 set");
		return -1;
	}
	if (old & HV_HYPERCALL_LOCKED)
		return 0; /* immutable until reset (3.13) */
	/* 3.13: the page cannot be enabled before a guest OS ID is set. */
	if (!hv->guest_os_id)
		value &= ~HV_HYPERCALL_ENABLE;
	if (hv->hypercall_mapped && (!(value & HV_HYPERCALL_ENABLE) ||
				     (value & HV_PAGE_MASK) != (old & HV_PAGE_MASK))) {
		overlay_unmap(hv, old & HV_PAGE_MASK, hv->hypercall_under);
		hv->hypercall_mapped = false;
	}
	if ((value & HV_HYPERCALL_ENABLE) && !hv->hypercall_mapped) {
		hyperv_hypercall_code(hv->hypercall_port, page);
		if (overlay_map(hv, value & HV_PAGE_MASK, hv->hypercall_under, page) < 0) {
			guest_error(hv, "HV_X64_MSR_HYPERCALL: page outside guest RAM");
			hv->hypercall = old & ~HV_HYPERCALL_ENABLE;
			return -1;
		}
		hv->hypercall_mapped = true;
	}
	hv->hypercall = value;
	return 0;
}

/* ------------------------------------------------------------------- time */

uint64_t hyperv_time_ref_count(const struct hyperv *hv)
{
	/* 12.4: 100 ns units since the partition was created. */
	return hv->ops->now_ns(hv->opaque) / 100;
}

/*
 * 12.7.3: TscScale is the reference time per TSC tick as a 64.64 fraction,
 * 10^7 / (khz * 1000) = 10^4 / khz, and TscOffset puts the sample (tsc, ns)
 * where the reference counter reads at that moment.  Every vCPU's TSC runs
 * from the same base in KVM, so one page serves them all.
 */
static void ref_tsc_fill(struct hyperv *hv, unsigned vcpu, uint8_t *page)
{
	uint64_t tsc, ns, scale;
	uint32_t khz, seq = HV_TSC_SEQUENCE_INVALID;
	int64_t offset = 0;

	memset(page, 0, HV_PAGE_SIZE);
	hv->tsc_formula = false;
	if (hv->ops->guest_tsc && hv->ops->guest_tsc(hv->opaque, vcpu, &tsc, &ns, &khz) == 0 && khz) {
		scale = (uint64_t)(((unsigned __int128)10000 << 64) / khz);
		offset = (int64_t)(ns / 100 - (uint64_t)(((unsigned __int128)tsc * scale) >> 64));
		/* A new valid sequence, never 0 (invalid) nor all ones (the
		 * invalid value of earlier TLFS versions). */
		seq = hv->tsc_sequence + 1;
		if (seq == 0 || seq == 0xffffffffu)
			seq = 1;
		hv->tsc_sequence = seq;
		memcpy(page + HV_TSC_PAGE_SCALE, &scale, 8);
		memcpy(page + HV_TSC_PAGE_OFFSET, &offset, 8);
		hv->tsc_formula = true;
		hv->tsc_scale = scale;
		hv->tsc_offset = offset;
	}
	memcpy(page + HV_TSC_PAGE_SEQUENCE, &seq, 4);
}

/*
 * TIME_REF_COUNT as vCPU `vcpu` reads it.  While the TSC page is valid the
 * counter follows the page's formula from that vCPU's TSC, as a guest
 * reading the page would compute it (12.7.3: both are the same reference
 * time): the virtual clock and the guest's TSC rate as the hypervisor
 * reports it can disagree (a host whose TSC frequency was calibrated
 * under emulation is off by parts per thousand), and a guest that reads
 * both must never see them apart.  Otherwise the virtual clock.
 */
static uint64_t time_ref_count_on(struct hyperv *hv, unsigned vcpu)
{
	uint64_t tsc, ns;
	uint32_t khz;

	if (hv->ref_tsc_mapped && hv->tsc_formula && hv->ops->guest_tsc &&
	    hv->ops->guest_tsc(hv->opaque, vcpu, &tsc, &ns, &khz) == 0)
		return (uint64_t)(((unsigned __int128)tsc * hv->tsc_scale) >> 64) + (uint64_t)hv->tsc_offset;
	return hyperv_time_ref_count(hv);
}

static int ref_tsc_msr_write(struct hyperv *hv, unsigned vcpu, uint64_t value)
{
	uint8_t page[HV_PAGE_SIZE];
	uint64_t old = hv->ref_tsc;

	if (value & HV_REFTSC_RSVD) {
		guest_error(hv, "HV_X64_MSR_REFERENCE_TSC: reserved bits 11:1 set");
		return -1;
	}
	if (hv->ref_tsc_mapped) {
		overlay_unmap(hv, old & HV_PAGE_MASK, hv->ref_tsc_under);
		hv->ref_tsc_mapped = false;
	}
	if (value & HV_REFTSC_ENABLE) {
		ref_tsc_fill(hv, vcpu, page);
		if (overlay_map(hv, value & HV_PAGE_MASK, hv->ref_tsc_under, page) < 0) {
			guest_error(hv, "HV_X64_MSR_REFERENCE_TSC: page outside guest RAM");
			hv->ref_tsc = 0;
			return -1;
		}
		hv->ref_tsc_mapped = true;
	}
	hv->ref_tsc = value;
	return 0;
}

/* ------------------------------------------------------------------ SynIC */

static void synic_interrupt(struct hyperv *hv, unsigned vcpu, uint8_t vector)
{
	if (vector < HV_SINT_FIRST_VECTOR) {
		/* Refused at the MSR writes; never an exception vector. */
		guest_error(hv, "SynIC: vector below 16 not sent");
		return;
	}
	hv->interrupts++;
	if (!hv->ops->interrupt || hv->ops->interrupt(hv->opaque, vcpu, vector) < 0)
		guest_error(hv, "SynIC: an interrupt could not be delivered");
}

/* Where SINT `sint`'s message slot is, or false when the SynIC or its
 * message page is off. */
static bool msg_slot(const struct hyperv_vcpu *v, unsigned sint, uint64_t *gpa)
{
	if (!(v->scontrol & HV_SCONTROL_ENABLE) || !(v->simp & HV_SYNIC_PAGE_ENABLE))
		return false;
	*gpa = (v->simp & HV_PAGE_MASK) + (uint64_t)sint * HV_MESSAGE_SIZE;
	return true;
}

/*
 * 11.9.3: a message goes into its SINT's slot only while the slot's type is
 * HvMessageTypeNone; otherwise the slot's MessagePending flag asks the
 * guest to write EOM once it has emptied it, and the sender retries then.
 * The type is written last, after the payload, as the guest reads it first.
 * True when the message is in the slot.
 */
static bool stimer_post(struct hyperv *hv, unsigned vcpu, unsigned t)
{
	struct hyperv_vcpu *v = &hv->vcpu[vcpu];
	struct hyperv_stimer *st = &v->stimer[t];
	unsigned sint = HV_STIMER_SINT(st->config);
	uint8_t msg[HV_MSG_PAYLOAD + HV_TIMER_MSG_PAYLOAD];
	uint32_t type, index = t, zero = 0;
	uint64_t gpa, delivery = hyperv_time_ref_count(hv);
	uint8_t flags;

	if (!msg_slot(v, sint, &gpa))
		return false;
	if (hv->ops->mem_read(hv->opaque, gpa + HV_MSG_TYPE, &type, 4) < 0)
		return false;
	if (type != 0) {
		if (hv->ops->mem_read(hv->opaque, gpa + HV_MSG_FLAGS, &flags, 1) == 0) {
			flags |= HV_MSG_FLAG_PENDING;
			hv->ops->mem_write(hv->opaque, gpa + HV_MSG_FLAGS, &flags, 1);
		}
		/* The guest, on another vCPU thread, may have emptied the slot
		 * since the first look and checked MessagePending before it
		 * was set; it would then write no EOM.  Look again: an empty
		 * slot now takes the message (its header clears the flag). */
		if (hv->ops->mem_read(hv->opaque, gpa + HV_MSG_TYPE, &type, 4) < 0 || type != 0)
			return false;
	}
	memset(msg, 0, sizeof(msg));
	msg[HV_MSG_PAYLOAD_SIZE] = HV_TIMER_MSG_PAYLOAD;
	memcpy(msg + HV_MSG_PAYLOAD, &index, 4);
	memcpy(msg + HV_MSG_PAYLOAD + 4, &zero, 4);
	memcpy(msg + HV_MSG_PAYLOAD + 8, &st->msg_expiration, 8);
	memcpy(msg + HV_MSG_PAYLOAD + 16, &delivery, 8);
	if (hv->ops->mem_write(hv->opaque, gpa + 4, msg + 4, sizeof(msg) - 4) < 0)
		return false;
	type = HV_MSG_TIMER_EXPIRED;
	hv->ops->mem_write(hv->opaque, gpa + HV_MSG_TYPE, &type, 4);
	hv->messages++;
	if (!(v->sint[sint] & HV_SINT_MASKED))
		synic_interrupt(hv, vcpu, HV_SINT_VECTOR(v->sint[sint]));
	return true;
}

/* Pending timer messages of vCPU `vcpu` try their slots again (an EOM, a
 * SINT, the SynIC or its message page changed). */
static void synic_retry(struct hyperv *hv, unsigned vcpu)
{
	struct hyperv_vcpu *v = &hv->vcpu[vcpu];

	for (unsigned t = 0; t < HV_STIMER_COUNT; t++)
		if (v->stimer[t].msg_pending && stimer_post(hv, vcpu, t))
			v->stimer[t].msg_pending = false;
}

/* SIMP and SIEFP: overlay pages that start zeroed (11.8.2, 11.8.3). */
static int synic_page_write(struct hyperv *hv, uint64_t *reg, bool *mapped, uint8_t *under,
			    uint64_t value, const char *name)
{
	static const uint8_t zero[HV_PAGE_SIZE];
	char what[80];

	if (value & HV_SYNIC_PAGE_RSVD) {
		snprintf(what, sizeof(what), "%s: reserved bits 11:1 set", name);
		guest_error(hv, what);
		return -1;
	}
	if (*mapped && (!(value & HV_SYNIC_PAGE_ENABLE) ||
			(value & HV_PAGE_MASK) != (*reg & HV_PAGE_MASK))) {
		overlay_unmap(hv, *reg & HV_PAGE_MASK, under);
		*mapped = false;
	}
	if ((value & HV_SYNIC_PAGE_ENABLE) && !*mapped) {
		if (overlay_map(hv, value & HV_PAGE_MASK, under, zero) < 0) {
			snprintf(what, sizeof(what), "%s: page outside guest RAM", name);
			guest_error(hv, what);
			return -1;
		}
		*mapped = true;
	}
	*reg = value;
	return 0;
}

static int sint_write(struct hyperv *hv, unsigned vcpu, unsigned sint, uint64_t value)
{
	if (value & (HV_SINT_RSVD | HV_SINT_RSVD_LOW)) {
		guest_error(hv, "SINTx: reserved bits set");
		return -1;
	}
	/* 11.8.4: vectors 0-15 are the processor's; an unmasked SINT with
	 * one is refused. */
	if (!(value & HV_SINT_MASKED) && HV_SINT_VECTOR(value) < HV_SINT_FIRST_VECTOR) {
		guest_error(hv, "SINTx: vector below 16");
		return -1;
	}
	hv->vcpu[vcpu].sint[sint] = value;
	synic_retry(hv, vcpu);
	return 0;
}

/* ------------------------------------------------------- synthetic timers */

static void stimer_stop(struct hyperv *hv, unsigned vcpu, unsigned t)
{
	struct hyperv_stimer *st = &hv->vcpu[vcpu].stimer[t];

	if (st->armed && hv->ops->timer_cancel)
		hv->ops->timer_cancel(hv->opaque, vcpu, t);
	st->armed = false;
}

/* The last reference time the virtual clock's 64-bit nanoseconds reach:
 * a due time past it (a guest's count that large) never comes, and must
 * not wrap round into the past, where the timer would fire without end. */
#define HV_REF_TIME_MAX (UINT64_MAX / 100)

static uint64_t ref_time_add(uint64_t a, uint64_t b)
{
	if (a > HV_REF_TIME_MAX || b > HV_REF_TIME_MAX - a)
		return HV_REF_TIME_MAX;
	return a + b;
}

static void stimer_arm(struct hyperv *hv, unsigned vcpu, unsigned t, uint64_t expiration)
{
	struct hyperv_stimer *st = &hv->vcpu[vcpu].stimer[t];

	st->expiration = expiration;
	st->armed = true;
	if (hv->ops->timer_arm)
		hv->ops->timer_arm(hv->opaque, vcpu, t, expiration * 100);
}

/* 12.5.1: a periodic timer's first expiry is one period from now; a
 * one-shot's count is the absolute reference time it expires at (in the
 * past: at once). */
static void stimer_start(struct hyperv *hv, unsigned vcpu, unsigned t)
{
	struct hyperv_stimer *st = &hv->vcpu[vcpu].stimer[t];
	uint64_t now = hyperv_time_ref_count(hv);

	stimer_stop(hv, vcpu, t);
	if (!(st->config & HV_STIMER_ENABLE) || !st->count)
		return;
	if (st->config & HV_STIMER_PERIODIC)
		stimer_arm(hv, vcpu, t, ref_time_add(now, st->count));
	else
		stimer_arm(hv, vcpu, t, ref_time_add(st->count, 0));
}

void hyperv_stimer_expired(struct hyperv *hv, unsigned vcpu, unsigned t)
{
	struct hyperv_stimer *st;
	uint64_t now;

	if (vcpu >= HYPERV_MAX_VCPUS || t >= HV_STIMER_COUNT)
		return;
	st = &hv->vcpu[vcpu].stimer[t];
	if (!st->armed)
		return;
	st->armed = false;
	now = hyperv_time_ref_count(hv);
	if (st->config & HV_STIMER_DIRECT) {
		/* 12.5.3: direct mode sends its own vector, no message. */
		synic_interrupt(hv, vcpu, HV_STIMER_VECTOR(st->config));
	} else if (!st->msg_pending) {
		st->msg_expiration = st->expiration;
		st->msg_pending = !stimer_post(hv, vcpu, t);
	}
	if (st->config & HV_STIMER_PERIODIC) {
		/* The next expiry counts from this one's due time, not from
		 * when the host got round to it, so periods do not drift;
		 * periods missed altogether are skipped (one expiry is
		 * signalled for them, as a lazy timer's are, 12.5.2). */
		uint64_t next = ref_time_add(st->expiration, st->count);

		if (next <= now)
			next = ref_time_add(now, st->count - (now - st->expiration) % st->count);
		stimer_arm(hv, vcpu, t, next);
	} else {
		/* 12.5.1: a one-shot timer disables itself when it expires. */
		st->config &= ~HV_STIMER_ENABLE;
	}
}

static int stimer_config_write(struct hyperv *hv, unsigned vcpu, unsigned t, uint64_t value)
{
	struct hyperv_stimer *st = &hv->vcpu[vcpu].stimer[t];

	if (value & HV_STIMER_RSVD) {
		guest_error(hv, "STIMERx_CONFIG: reserved bits set");
		return -1;
	}
	/* A timer that is or may become enabled (AutoEnable) in direct mode
	 * with one of the processor's own vectors, as for SINTs (11.8.4). */
	if ((value & (HV_STIMER_ENABLE | HV_STIMER_AUTOENABLE)) && (value & HV_STIMER_DIRECT) &&
	    HV_STIMER_VECTOR(value) < HV_SINT_FIRST_VECTOR) {
		guest_error(hv, "STIMERx_CONFIG: direct-mode vector below 16");
		return -1;
	}
	st->config = value;
	st->msg_pending = false;
	stimer_start(hv, vcpu, t);
	return 0;
}

static int stimer_count_write(struct hyperv *hv, unsigned vcpu, unsigned t, uint64_t value)
{
	struct hyperv_stimer *st = &hv->vcpu[vcpu].stimer[t];

	st->count = value;
	/* 12.5.1: AutoEnable sets Enable when a count is written; a count
	 * of 0 stops the timer. */
	if (!value)
		st->config &= ~HV_STIMER_ENABLE;
	else if (st->config & HV_STIMER_AUTOENABLE)
		st->config |= HV_STIMER_ENABLE;
	stimer_start(hv, vcpu, t);
	return 0;
}

static bool synic_msr(uint32_t msr)
{
	return (msr >= HV_MSR_SCONTROL && msr <= HV_MSR_EOM) ||
	       (msr >= HV_MSR_SINT0 && msr < HV_MSR_SINT0 + HV_SYNIC_SINT_COUNT);
}

static bool stimer_msr(uint32_t msr)
{
	return msr >= HV_MSR_STIMER0_CONFIG && msr < HV_MSR_STIMER0_CONFIG + 2 * HV_STIMER_COUNT;
}

static int synic_msr_read(struct hyperv *hv, unsigned vcpu, uint32_t msr, uint64_t *value)
{
	struct hyperv_vcpu *v = &hv->vcpu[vcpu];

	if (stimer_msr(msr)) {
		struct hyperv_stimer *st = &v->stimer[(msr - HV_MSR_STIMER0_CONFIG) / 2];

		*value = (msr - HV_MSR_STIMER0_CONFIG) % 2 ? st->count : st->config;
		return 0;
	}
	switch (msr) {
	case HV_MSR_SCONTROL: *value = v->scontrol; return 0;
	case HV_MSR_SVERSION: *value = HV_SYNIC_VERSION; return 0;
	case HV_MSR_SIEFP: *value = v->siefp; return 0;
	case HV_MSR_SIMP: *value = v->simp; return 0;
	case HV_MSR_EOM: *value = 0; return 0; /* write-only, reads 0 */
	default: *value = v->sint[msr - HV_MSR_SINT0]; return 0;
	}
}

static int synic_msr_write(struct hyperv *hv, unsigned vcpu, uint32_t msr, uint64_t value)
{
	struct hyperv_vcpu *v = &hv->vcpu[vcpu];
	int rc;

	if (stimer_msr(msr)) {
		unsigned t = (msr - HV_MSR_STIMER0_CONFIG) / 2;

		return (msr - HV_MSR_STIMER0_CONFIG) % 2 ? stimer_count_write(hv, vcpu, t, value)
							 : stimer_config_write(hv, vcpu, t, value);
	}
	switch (msr) {
	case HV_MSR_SCONTROL:
		if (value & ~HV_SCONTROL_ENABLE) {
			guest_error(hv, "SCONTROL: reserved bits set");
			return -1;
		}
		v->scontrol = value;
		synic_retry(hv, vcpu);
		return 0;
	case HV_MSR_SVERSION:
		guest_error(hv, "write to the read-only SVERSION");
		return -1;
	case HV_MSR_SIEFP:
		return synic_page_write(hv, &v->siefp, &v->siefp_mapped, v->siefp_under, value, "SIEFP");
	case HV_MSR_SIMP:
		rc = synic_page_write(hv, &v->simp, &v->simp_mapped, v->simp_under, value, "SIMP");
		if (!rc)
			synic_retry(hv, vcpu);
		return rc;
	case HV_MSR_EOM:
		/* 11.9.3: the guest emptied a slot that had MessagePending. */
		synic_retry(hv, vcpu);
		return 0;
	default:
		return sint_write(hv, vcpu, msr - HV_MSR_SINT0, value);
	}
}

/* ------------------------------------------------------- reset and crash */

static bool crash_msr(uint32_t msr)
{
	return msr >= HV_MSR_CRASH_P0 && msr < HV_MSR_CRASH_P0 + HV_MSR_CRASH_COUNT;
}

static int crash_ctl_write(struct hyperv *hv, uint64_t value)
{
	char msg[HV_CRASH_MESSAGE_MAX];
	size_t len = 0;

	if (value & ~(HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE)) {
		guest_error(hv, "HV_X64_MSR_CRASH_CTL: reserved bits set");
		return -1;
	}
	if (!(value & HV_CRASH_CTL_NOTIFY))
		return 0;
	if (value & HV_CRASH_CTL_MESSAGE) {
		/* P3 the message's GPA, P4 its length: what fits, from RAM. */
		len = hv->crash_p[4] < sizeof(msg) ? (size_t)hv->crash_p[4] : sizeof(msg);
		if (len && hv->ops->mem_read(hv->opaque, hv->crash_p[3], msg, len) < 0) {
			guest_error(hv, "HV_X64_MSR_CRASH_CTL: crash message outside guest RAM");
			len = 0;
		}
	}
	if (hv->ops->crash)
		hv->ops->crash(hv->opaque, hv->crash_p, len ? msg : NULL, len);
	return 0;
}

/* ------------------------------------------------------------------- MSRs */

/* The host's figure goes on from what a restored vCPU had run, and never
 * back (a new vCPU thread starts its CPU time at 0). */
static uint64_t vp_runtime(struct hyperv *hv, unsigned vcpu)
{
	struct hyperv_vcpu *v = &hv->vcpu[vcpu];
	uint64_t r = v->runtime_base;

	if (hv->ops->vp_runtime_ns)
		r += hv->ops->vp_runtime_ns(hv->opaque, vcpu) / 100;
	if (r < v->runtime_last)
		r = v->runtime_last;
	v->runtime_last = r;
	return r;
}

/*
 * After a restore the TSC page's scale and offset were computed from
 * another host's (or another run's) guest TSC: load wrote the page
 * invalid, and the first synthetic MSR access of any vCPU (a guest that
 * finds the page invalid reads TIME_REF_COUNT, 12.7.3.3) computes them
 * anew from that vCPU's TSC, on its own thread where the host can read
 * it.  Scale and offset go first, the sequence last: a reader on another
 * vCPU that sees the new sequence sees the values it guards.
 */
static void ref_tsc_refresh(struct hyperv *hv, unsigned vcpu)
{
	uint8_t page[HV_PAGE_SIZE];
	uint64_t gpa = hv->ref_tsc & HV_PAGE_MASK;

	hv->ref_tsc_stale = false;
	if (!hv->ref_tsc_mapped)
		return;
	ref_tsc_fill(hv, vcpu, page);
	hv->ops->mem_write(hv->opaque, gpa + HV_TSC_PAGE_SCALE, page + HV_TSC_PAGE_SCALE,
			   HV_PAGE_SIZE - HV_TSC_PAGE_SCALE);
	hv->ops->mem_write(hv->opaque, gpa + HV_TSC_PAGE_SEQUENCE, page + HV_TSC_PAGE_SEQUENCE, 4);
}

int hyperv_msr_read(struct hyperv *hv, unsigned vcpu, uint32_t msr, uint64_t *value)
{
	if (vcpu >= HYPERV_MAX_VCPUS)
		return -1;
	if (hv->ref_tsc_stale)
		ref_tsc_refresh(hv, vcpu);
	if ((synic_msr(msr) && has(hv, HYPERV_F_SYNIC)) || (stimer_msr(msr) && has(hv, HYPERV_F_STIMER)))
		return synic_msr_read(hv, vcpu, msr, value);
	if (crash_msr(msr) && has(hv, HYPERV_F_CRASH)) {
		/* CRASH_CTL reads as what the partition may report. */
		*value = msr == HV_MSR_CRASH_CTL ? HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE
						 : hv->crash_p[msr - HV_MSR_CRASH_P0];
		return 0;
	}
	switch (msr) {
	case HV_MSR_GUEST_OS_ID:
		if (!has(hv, HYPERV_F_HYPERCALL))
			break;
		*value = hv->guest_os_id;
		return 0;
	case HV_MSR_HYPERCALL:
		if (!has(hv, HYPERV_F_HYPERCALL))
			break;
		*value = hv->hypercall;
		return 0;
	case HV_MSR_VP_INDEX:
		if (!has(hv, HYPERV_F_VP_INDEX))
			break;
		*value = vcpu;
		return 0;
	case HV_MSR_RESET:
		if (!has(hv, HYPERV_F_RESET))
			break;
		*value = 0;
		return 0;
	case HV_MSR_VP_RUNTIME:
		if (!has(hv, HYPERV_F_VP_RUNTIME))
			break;
		*value = vp_runtime(hv, vcpu);
		return 0;
	case HV_MSR_TIME_REF_COUNT:
		if (!has(hv, HYPERV_F_TIME))
			break;
		*value = time_ref_count_on(hv, vcpu);
		return 0;
	case HV_MSR_REFERENCE_TSC:
		if (!has(hv, HYPERV_F_REF_TSC))
			break;
		*value = hv->ref_tsc;
		return 0;
	default:
		break;
	}
	return -1; /* not offered: #GP, as for any MSR the partition lacks */
}

int hyperv_msr_write(struct hyperv *hv, unsigned vcpu, uint32_t msr, uint64_t value)
{
	if (vcpu >= HYPERV_MAX_VCPUS)
		return -1;
	if (hv->ref_tsc_stale)
		ref_tsc_refresh(hv, vcpu);
	if ((synic_msr(msr) && has(hv, HYPERV_F_SYNIC)) || (stimer_msr(msr) && has(hv, HYPERV_F_STIMER)))
		return synic_msr_write(hv, vcpu, msr, value);
	if (crash_msr(msr) && has(hv, HYPERV_F_CRASH)) {
		if (msr == HV_MSR_CRASH_CTL)
			return crash_ctl_write(hv, value);
		hv->crash_p[msr - HV_MSR_CRASH_P0] = value;
		return 0;
	}
	switch (msr) {
	case HV_MSR_GUEST_OS_ID:
		if (!has(hv, HYPERV_F_HYPERCALL))
			break;
		hv->guest_os_id = value;
		/* 3.13: clearing the guest OS ID disables the hypercall page. */
		if (!value && (hv->hypercall & HV_HYPERCALL_ENABLE))
			return hypercall_msr_write(hv, hv->hypercall & ~HV_HYPERCALL_ENABLE);
		return 0;
	case HV_MSR_HYPERCALL:
		if (!has(hv, HYPERV_F_HYPERCALL))
			break;
		return hypercall_msr_write(hv, value);
	case HV_MSR_REFERENCE_TSC:
		if (!has(hv, HYPERV_F_REF_TSC))
			break;
		return ref_tsc_msr_write(hv, vcpu, value);
	case HV_MSR_RESET:
		if (!has(hv, HYPERV_F_RESET))
			break;
		if (value & ~1ull) {
			guest_error(hv, "HV_X64_MSR_RESET: reserved bits set");
			return -1;
		}
		if ((value & 1) && hv->ops->reset_request)
			hv->ops->reset_request(hv->opaque);
		return 0;
	case HV_MSR_VP_INDEX:
	case HV_MSR_VP_RUNTIME:
	case HV_MSR_TIME_REF_COUNT:
		/* Read-only (appendix: "Hypervisor Synthetic MSRs"). */
		if (hv->features & (msr == HV_MSR_VP_INDEX ? HYPERV_F_VP_INDEX :
				    msr == HV_MSR_VP_RUNTIME ? HYPERV_F_VP_RUNTIME : HYPERV_F_TIME))
			guest_error(hv, "write to a read-only Hyper-V MSR");
		break;
	default:
		break;
	}
	return -1;
}

/* ------------------------------------------------------------ saved state */

/* An overlay page's GPA names a whole page of guest RAM. */
static bool page_in_ram(const struct hyperv *s, uint64_t gpa)
{
	uint8_t probe[HV_PAGE_SIZE];

	return s->ops->mem_read(s->opaque, gpa & HV_PAGE_MASK, probe, sizeof(probe)) == 0;
}

#define REFUSE(...) do { snprintf(field, cap, __VA_ARGS__); *why = reason; return -1; } while (0)

/* An overlay page's MSR (SIMP, SIEFP, HYPERCALL, REFERENCE_TSC) and whether
 * its page is over RAM: what the MSR writes above would have left. */
static const char *page_msr_wrong(const struct hyperv *s, uint64_t msr, uint64_t rsvd,
				  uint64_t enable, bool mapped, const char **which)
{
	*which = "";
	if (msr & rsvd)
		return "reserved bits set";
	if (mapped != ((msr & enable) != 0)) {
		*which = "-mapped";
		return "disagrees with the MSR's enable bit";
	}
	if (mapped && !page_in_ram(s, msr))
		return "page outside guest RAM";
	return NULL;
}

static int stimer_check(const struct hyperv *s, unsigned v, unsigned t, char *field, size_t cap,
			const char **why)
{
	const struct hyperv_stimer *st = &s->vcpu[v].stimer[t];
	bool enabled = (st->config & HV_STIMER_ENABLE) != 0;
	uint64_t now = hyperv_time_ref_count(s);
	const char *reason;

	if (!has(s, HYPERV_F_STIMER) && (st->config || st->count || st->armed || st->msg_pending)) {
		reason = "set, but hv-stimer is off";
		REFUSE("v%u.stimer%u.config", v, t);
	}
	reason = "reserved bits set";
	if (st->config & HV_STIMER_RSVD)
		REFUSE("v%u.stimer%u.config", v, t);
	reason = "direct-mode vector below 16";
	if ((st->config & (HV_STIMER_ENABLE | HV_STIMER_AUTOENABLE)) && (st->config & HV_STIMER_DIRECT) &&
	    HV_STIMER_VECTOR(st->config) < HV_SINT_FIRST_VECTOR)
		REFUSE("v%u.stimer%u.config", v, t);
	/* A timer runs while enabled with a count (a guest may set Enable
	 * before it writes the count); a running periodic timer with a count
	 * of 0 would expire without end (and divide by it). */
	reason = "0 in a running timer";
	if (st->armed && !st->count)
		REFUSE("v%u.stimer%u.count", v, t);
	reason = "differs from whether the timer is enabled with a count";
	if (st->armed != (enabled && st->count))
		REFUSE("v%u.stimer%u.armed", v, t);
	/* The due time is absolute: a one-shot's is its count; a periodic
	 * one's is at most one period ahead of the clock (it may be past: a
	 * snapshot taken before a due timer ran). */
	reason = "not the one-shot timer's count";
	if (st->armed && !(st->config & HV_STIMER_PERIODIC) &&
	    st->expiration != ref_time_add(st->count, 0))
		REFUSE("v%u.stimer%u.deadline-ns", v, t);
	reason = "more than one period ahead of the clock";
	if (st->armed && (st->config & HV_STIMER_PERIODIC) &&
	    st->expiration > ref_time_add(now, st->count))
		REFUSE("v%u.stimer%u.deadline-ns", v, t);
	reason = "a direct-mode timer sends no messages";
	if (st->msg_pending && (st->config & HV_STIMER_DIRECT))
		REFUSE("v%u.stimer%u.msg-pending", v, t);
	return 0;
}

static int vcpu_check(const struct hyperv *s, unsigned v, char *field, size_t cap, const char **why)
{
	const struct hyperv_vcpu *c = &s->vcpu[v];
	const char *reason, *which;

	if (!has(s, HYPERV_F_SYNIC)) {
		reason = "set, but hv-synic is off";
		if (c->scontrol)
			REFUSE("v%u.scontrol", v);
		if (c->simp || c->simp_mapped)
			REFUSE("v%u.simp", v);
		if (c->siefp || c->siefp_mapped)
			REFUSE("v%u.siefp", v);
		for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++)
			if (c->sint[i] != HV_SINT_MASKED)
				REFUSE("v%u.sint%u", v, i);
	}
	reason = "reserved bits set";
	if (c->scontrol & ~HV_SCONTROL_ENABLE)
		REFUSE("v%u.scontrol", v);
	reason = page_msr_wrong(s, c->simp, HV_SYNIC_PAGE_RSVD, HV_SYNIC_PAGE_ENABLE, c->simp_mapped, &which);
	if (reason)
		REFUSE("v%u.simp%s", v, which);
	reason = page_msr_wrong(s, c->siefp, HV_SYNIC_PAGE_RSVD, HV_SYNIC_PAGE_ENABLE, c->siefp_mapped,
				&which);
	if (reason)
		REFUSE("v%u.siefp%s", v, which);
	for (unsigned i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
		reason = "reserved bits set";
		if (c->sint[i] & (HV_SINT_RSVD | HV_SINT_RSVD_LOW))
			REFUSE("v%u.sint%u", v, i);
		/* 11.8.4: vectors 0-15 are the processor's exceptions. */
		reason = "vector below 16 while unmasked";
		if (!(c->sint[i] & HV_SINT_MASKED) && HV_SINT_VECTOR(c->sint[i]) < HV_SINT_FIRST_VECTOR)
			REFUSE("v%u.sint%u", v, i);
	}
	for (unsigned t = 0; t < HV_STIMER_COUNT; t++)
		if (stimer_check(s, v, t, field, cap, why))
			return -1;
	return 0;
}

int hyperv_state_check(const struct hyperv *s, unsigned nvcpus, char *field, size_t cap,
		       const char **why)
{
	const char *reason, *which;

	if (!has(s, HYPERV_F_HYPERCALL)) {
		reason = "set, but hv-hypercall is off";
		if (s->guest_os_id)
			REFUSE("guest-os-id");
		if (s->hypercall || s->hypercall_mapped)
			REFUSE("hypercall");
	}
	reason = page_msr_wrong(s, s->hypercall, HV_HYPERCALL_RSVD, HV_HYPERCALL_ENABLE,
				s->hypercall_mapped, &which);
	if (reason)
		REFUSE("hypercall%s", which);
	/* 3.13: the page is never enabled without a guest OS ID. */
	reason = "enabled with guest OS ID 0";
	if ((s->hypercall & HV_HYPERCALL_ENABLE) && !s->guest_os_id)
		REFUSE("hypercall");
	if (!has(s, HYPERV_F_REF_TSC) && (s->ref_tsc || s->ref_tsc_mapped)) {
		reason = "set, but hv-reftsc is off";
		REFUSE("ref-tsc");
	}
	reason = page_msr_wrong(s, s->ref_tsc, HV_REFTSC_RSVD, HV_REFTSC_ENABLE, s->ref_tsc_mapped,
				&which);
	if (reason)
		REFUSE("ref-tsc%s", which);
	for (unsigned i = 0; i < 5; i++)
		if (!has(s, HYPERV_F_CRASH) && s->crash_p[i]) {
			reason = "set, but hv-crash is off";
			REFUSE("crash-p%u", i);
		}
	for (unsigned v = 0; v < nvcpus && v < HYPERV_MAX_VCPUS; v++)
		if (vcpu_check(s, v, field, cap, why))
			return -1;
	return 0;
}

#undef REFUSE

void hyperv_state_commit(struct hyperv *hv, const struct hyperv *s)
{
	for (unsigned v = 0; v < HYPERV_MAX_VCPUS; v++)
		for (unsigned t = 0; t < HV_STIMER_COUNT; t++)
			stimer_stop(hv, v, t);
	hv->guest_os_id = s->guest_os_id;
	hv->hypercall = s->hypercall;
	hv->ref_tsc = s->ref_tsc;
	hv->tsc_sequence = s->tsc_sequence;
	memcpy(hv->hypercall_under, s->hypercall_under, HV_PAGE_SIZE);
	memcpy(hv->ref_tsc_under, s->ref_tsc_under, HV_PAGE_SIZE);
	hv->hypercall_mapped = s->hypercall_mapped;
	hv->ref_tsc_mapped = s->ref_tsc_mapped;
	memcpy(hv->crash_p, s->crash_p, sizeof(hv->crash_p));
	memcpy(hv->vcpu, s->vcpu, sizeof(hv->vcpu));
	for (unsigned v = 0; v < HYPERV_MAX_VCPUS; v++) {
		struct hyperv_vcpu *c = &hv->vcpu[v];

		c->runtime_base = c->runtime_last;
		for (unsigned t = 0; t < HV_STIMER_COUNT; t++)
			if (c->stimer[t].armed)
				stimer_arm(hv, v, t, c->stimer[t].expiration);
	}
	/* The page's formula was the saved host's guest TSC's: invalid
	 * until a vCPU computes it again (ref_tsc_refresh). */
	hv->ref_tsc_stale = hv->ref_tsc_mapped;
	hv->tsc_formula = false; /* the page is invalid until rewritten */
	if (hv->ref_tsc_mapped) {
		uint32_t invalid = HV_TSC_SEQUENCE_INVALID;

		hv->ops->mem_write(hv->opaque, (hv->ref_tsc & HV_PAGE_MASK) + HV_TSC_PAGE_SEQUENCE,
				   &invalid, 4);
	}
}
