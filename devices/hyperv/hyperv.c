/* SPDX-License-Identifier: MIT */
/*
 * devices/hyperv/hyperv.c - Hyper-V enlightenments, emulated (hyperv.h).
 *
 * Section numbers are those of the Hyper-V Top-Level Functional
 * Specification (TLFS) v6.0b.
 */
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
}

void hyperv_reset(struct hyperv *hv)
{
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
	out[4].ebx = HV_SPIN_NEVER;
	/* 2.4.6: implementation limits, the virtual processors first. */
	out[5].eax = HYPERV_MAX_VCPUS;
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
	}
	memcpy(page + HV_TSC_PAGE_SEQUENCE, &seq, 4);
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

/* ------------------------------------------------------------------- MSRs */

int hyperv_msr_read(struct hyperv *hv, unsigned vcpu, uint32_t msr, uint64_t *value)
{
	if (vcpu >= HYPERV_MAX_VCPUS)
		return -1;
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
	case HV_MSR_VP_RUNTIME:
		if (!has(hv, HYPERV_F_VP_RUNTIME))
			break;
		*value = hv->ops->vp_runtime_ns ? hv->ops->vp_runtime_ns(hv->opaque, vcpu) / 100 : 0;
		return 0;
	case HV_MSR_TIME_REF_COUNT:
		if (!has(hv, HYPERV_F_TIME))
			break;
		*value = hyperv_time_ref_count(hv);
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
