/* SPDX-License-Identifier: MIT */
/*
 * devices/hyperv/hyperv-plugin.c - Hyper-V enlightenments on the MSR bus.
 *
 * Glue only: properties (one per enlightenment), the synthetic MSRs
 * 0x40000000-0x400000ff, the hypercall port, the CPUID leaves handed to the
 * core (cpuid_set, ABI 1.9) and the guest TSC for the reference TSC page
 * (vcpu_tsc), wired to the model in hyperv.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"
#include "hyperv.h"

struct hyperv_dev;

/* What a host timer's callback needs to name its synthetic timer. */
struct hyperv_timer_ref {
	struct hyperv_dev *d;
	unsigned vcpu, timer;
	struct vmm_timer *t;
};

struct hyperv_dev {
	struct hyperv hv;
	const struct vmm_host *h;
	bool kernel;		/* mode = "kernel" in force: KVM serves the MSRs */
	uint64_t kernel_hcalls;	/* hypercalls KVM left to us (kernel mode) */
	/* Host timers of the synthetic timers, made on first use. */
	struct hyperv_timer_ref timers[HYPERV_MAX_VCPUS][HV_STIMER_COUNT];
};

static int hv_dev_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	struct hyperv_dev *d = opaque;

	return d->h->mem_read(d->h, gpa, buf, len);
}

static int hv_dev_mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
	struct hyperv_dev *d = opaque;

	return d->h->mem_write(d->h, gpa, buf, len);
}

static uint64_t hv_dev_now(void *opaque)
{
	struct hyperv_dev *d = opaque;

	return d->h->clock_ns(d->h);
}

static int hv_dev_guest_tsc(void *opaque, unsigned vcpu, uint64_t *tsc, uint64_t *ns, uint32_t *khz)
{
	struct hyperv_dev *d = opaque;

	if (!VMM_HOST_HAS(d->h, vcpu_tsc))
		return -ENOTSUP;
	return d->h->vcpu_tsc(d->h, vcpu, tsc, ns, khz);
}

/* MSR accesses run on the accessing vCPU's own thread: its CPU time is the
 * time that vCPU ran, guest and exit handling alike. */
static uint64_t hv_dev_vp_runtime(void *opaque, unsigned vcpu)
{
	struct timespec ts;

	(void)opaque;
	(void)vcpu;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void hv_dev_guest_error(void *opaque, const char *what)
{
	struct hyperv_dev *d = opaque;

	d->h->log(d->h, VMM_LOG_GUEST_ERROR, "%s", what);
}

/* A SINT or a direct-mode timer: a fixed, edge-triggered MSI to the local
 * APIC whose ID is the vCPU's index (the kvm plugin numbers them so). */
static int hv_dev_interrupt(void *opaque, unsigned vcpu, uint8_t vector)
{
	struct hyperv_dev *d = opaque;

	return d->h->msi_send(d->h, 0xfee00000u | (uint64_t)vcpu << 12, vector);
}

static void hv_dev_timer_fired(void *opaque)
{
	struct hyperv_timer_ref *r = opaque;

	hyperv_stimer_expired(&r->d->hv, r->vcpu, r->timer);
}

static void hv_dev_timer_arm(void *opaque, unsigned vcpu, unsigned timer, uint64_t deadline_ns)
{
	struct hyperv_dev *d = opaque;
	struct hyperv_timer_ref *r = &d->timers[vcpu][timer];

	if (!r->t) {
		r->d = d;
		r->vcpu = vcpu;
		r->timer = timer;
		r->t = d->h->timer_new(d->h, hv_dev_timer_fired, r);
		if (!r->t) {
			d->h->log(d->h, VMM_LOG_ERROR, "no host timer for STIMER%u of vCPU %u", timer, vcpu);
			return;
		}
	}
	d->h->timer_arm(d->h, r->t, deadline_ns);
}

static void hv_dev_timer_cancel(void *opaque, unsigned vcpu, unsigned timer)
{
	struct hyperv_dev *d = opaque;
	struct hyperv_timer_ref *r = &d->timers[vcpu][timer];

	if (r->t)
		d->h->timer_cancel(d->h, r->t);
}

static void hv_dev_reset_request(void *opaque)
{
	struct hyperv_dev *d = opaque;

	d->h->log(d->h, VMM_LOG_INFO, "the guest asked for a reset (HV_X64_MSR_RESET)");
	d->h->machine_stop(d->h, VMM_STOP_RESET, 0);
}

/* The guest's crash report: its parameters and the start of its message
 * (printable characters only), then the machine ends as for a crash. */
static void hv_dev_crash(void *opaque, const uint64_t p[5], const char *msg, size_t len)
{
	struct hyperv_dev *d = opaque;
	char text[512];
	size_t n = 0;

	for (size_t i = 0; msg && i < len && n < sizeof(text) - 1; i++)
		text[n++] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : (msg[i] == '\n' ? '|' : '.');
	text[n] = '\0';
	d->h->log(d->h, VMM_LOG_ERROR,
		  "guest crash (Hyper-V crash MSRs): P0=0x%llx P1=0x%llx P2=0x%llx P3=0x%llx "
		  "P4=0x%llx%s%s",
		  (unsigned long long)p[0], (unsigned long long)p[1], (unsigned long long)p[2],
		  (unsigned long long)p[3], (unsigned long long)p[4], n ? ": " : "", text);
	d->h->machine_stop(d->h, VMM_STOP_CRASH, 0);
}

static const struct hyperv_ops hv_dev_model_ops = {
	.reset_request = hv_dev_reset_request,
	.crash = hv_dev_crash,
	.interrupt = hv_dev_interrupt,
	.timer_arm = hv_dev_timer_arm,
	.timer_cancel = hv_dev_timer_cancel,
	.mem_read = hv_dev_mem_read,
	.mem_write = hv_dev_mem_write,
	.now_ns = hv_dev_now,
	.guest_tsc = hv_dev_guest_tsc,
	.vp_runtime_ns = hv_dev_vp_runtime,
	.guest_error = hv_dev_guest_error,
};

static int hv_dev_msr_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct hyperv_dev *d = opaque;

	(void)len;
	return hyperv_msr_read(&d->hv, vcpu, HV_MSR_BASE + (uint32_t)offset, value) ? -EINVAL : 0;
}

static int hv_dev_msr_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct hyperv_dev *d = opaque;

	(void)len;
	return hyperv_msr_write(&d->hv, vcpu, HV_MSR_BASE + (uint32_t)offset, value) ? -EINVAL : 0;
}

static const struct vmm_region_ops hv_dev_msr_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_8,
	.read = hv_dev_msr_read,
	.write = hv_dev_msr_write,
};

/* The crash MSRs lie past the synthetic range's first 256. */
static int hv_dev_crash_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct hyperv_dev *d = opaque;

	(void)len;
	return hyperv_msr_read(&d->hv, vcpu, HV_MSR_CRASH_P0 + (uint32_t)offset, value) ? -EINVAL : 0;
}

static int hv_dev_crash_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct hyperv_dev *d = opaque;

	(void)len;
	return hyperv_msr_write(&d->hv, vcpu, HV_MSR_CRASH_P0 + (uint32_t)offset, value) ? -EINVAL : 0;
}

static const struct vmm_region_ops hv_dev_crash_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_8,
	.read = hv_dev_crash_read,
	.write = hv_dev_crash_write,
};

static int hv_dev_port_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct hyperv_dev *d = opaque;
	uint32_t v;

	(void)len;
	if (hyperv_port_read(&d->hv, vcpu, (unsigned)offset, &v))
		return -EINVAL;
	*value = v;
	return 0;
}

static int hv_dev_port_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct hyperv_dev *d = opaque;

	(void)len;
	return hyperv_port_write(&d->hv, vcpu, (unsigned)offset, (uint32_t)value) ? -EINVAL : 0;
}

static const struct vmm_region_ops hv_dev_port_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_4,
	.read = hv_dev_port_read,
	.write = hv_dev_port_write,
};

static const struct {
	const char *prop;
	uint32_t feature;
} hv_dev_switches[] = {
	{ "hv-vpindex", HYPERV_F_VP_INDEX },
	{ "hv-runtime", HYPERV_F_VP_RUNTIME },
	{ "hv-time", HYPERV_F_TIME },
	{ "hv-reftsc", HYPERV_F_REF_TSC },
	{ "hv-hypercall", HYPERV_F_HYPERCALL },
	{ "hv-synic", HYPERV_F_SYNIC },
	{ "hv-stimer", HYPERV_F_STIMER },
	{ "hv-reset", HYPERV_F_RESET },
	{ "hv-crash", HYPERV_F_CRASH },
};

/* KVM's own leaves, moved to 0x40000100 by the core (host.h, cpuid_set),
 * hidden by leaves of ours there: a Linux guest takes the hypervisor whose
 * signature leaf is highest (arch/x86/kernel/cpu/hypervisor.c,
 * detect_hypervisor_vendor), so with KVM's in sight it never uses
 * Hyper-V's enlightenments. */
#define HV_KVM_LEAVES_MOVED 0x40000100u
#define HV_KVM_LEAVES_HIDDEN 2

static int hv_dev_set_cpuid(struct hyperv_dev *d, const struct hyperv_cpuid rows[HV_CPUID_NR],
			    bool hide_kvm)
{
	const struct vmm_host *h = d->h;
	struct vmm_cpuid_leaf leaves[HV_CPUID_NR + HV_KVM_LEAVES_HIDDEN];
	unsigned n = 0;
	int rc;

	if (!VMM_HOST_HAS(h, cpuid_set)) {
		h->log(h, VMM_LOG_WARN, "the host cannot set CPUID leaves: the guest will not "
		       "find Hyper-V (its MSRs answer all the same)");
		return 0;
	}
	memset(leaves, 0, sizeof(leaves));
	for (unsigned i = 0; i < HV_CPUID_NR; i++, n++) {
		leaves[n].function = rows[i].function;
		leaves[n].eax = rows[i].eax;
		leaves[n].ebx = rows[i].ebx;
		leaves[n].ecx = rows[i].ecx;
		leaves[n].edx = rows[i].edx;
	}
	for (unsigned i = 0; hide_kvm && i < HV_KVM_LEAVES_HIDDEN; i++)
		leaves[n++].function = HV_KVM_LEAVES_MOVED + i;
	rc = h->cpuid_set(h, leaves, n);
	if (rc == -ENOTSUP) {
		h->log(h, VMM_LOG_ERROR, "the hypervisor cannot show CPUID leaves (not x86?)");
		return rc;
	}
	if (rc)
		h->log(h, VMM_LOG_ERROR, "cannot set the Hyper-V CPUID leaves: %s", strerror(-rc));
	return rc;
}

/* ---- mode = "kernel": KVM's own Hyper-V ---- */

/* KVM applied a SCONTROL, SIEFP or SIMP write (KVM_EXIT_HYPERV_SYNIC):
 * kept for the record; with no VMBus there is nothing to post there. */
static void hv_dev_kernel_synic(void *opaque, unsigned vcpu, uint32_t msr, uint64_t control,
				uint64_t evt_page, uint64_t msg_page)
{
	struct hyperv_dev *d = opaque;

	if (vcpu < HYPERV_MAX_VCPUS) {
		d->hv.vcpu[vcpu].scontrol = control;
		d->hv.vcpu[vcpu].siefp = evt_page;
		d->hv.vcpu[vcpu].simp = msg_page;
	}
	d->h->log(d->h, VMM_LOG_DEBUG, "vCPU %u: SynIC MSR 0x%x written: SCONTROL 0x%llx SIEFP "
		  "0x%llx SIMP 0x%llx", vcpu, msr, (unsigned long long)control,
		  (unsigned long long)evt_page, (unsigned long long)msg_page);
}

/* A hypercall KVM does not serve (HvPostMessage, HvSignalEvent without
 * an event fd, ...): none is offered beyond KVM's (TLFS 3.8). */
static uint64_t hv_dev_kernel_hcall(void *opaque, unsigned vcpu, uint64_t input, uint64_t in_gpa,
				    uint64_t out_gpa)
{
	struct hyperv_dev *d = opaque;

	(void)in_gpa;
	(void)out_gpa;
	d->kernel_hcalls++;
	d->h->log(d->h, VMM_LOG_DEBUG, "vCPU %u: hypercall 0x%04x left to the VMM: "
		  "HV_STATUS_INVALID_HYPERCALL_CODE", vcpu, (unsigned)HV_HC_CODE(input));
	return HV_STATUS_INVALID_HYPERCALL_CODE;
}

static const struct vmm_hyperv_client hv_dev_kernel_client = {
	.size = sizeof(struct vmm_hyperv_client),
	.synic = hv_dev_kernel_synic,
	.hcall = hv_dev_kernel_hcall,
};

#define HV_KVM_CPUID_MAX 64

/*
 * Try KVM's Hyper-V: its supported leaves, then the SynIC (when switched
 * on) and CPUID enforcement on every vCPU.  0 with *rows the leaves to
 * show; -ENOTSUP when the host has no in-kernel Hyper-V (`why` says what
 * is missing), another errno when it failed.
 */
static int hv_dev_kernel_setup(struct hyperv_dev *d, struct hyperv_cpuid rows[HV_CPUID_NR],
			       const char **why)
{
	const struct vmm_host *h = d->h;
	struct vmm_cpuid_leaf kl[HV_KVM_CPUID_MAX];
	struct hyperv_cpuid kvm[HV_KVM_CPUID_MAX];
	unsigned n = HV_KVM_CPUID_MAX;
	uint32_t missing, what = VMM_HYPERV_ENFORCE_CPUID;
	int rc;

	if (!VMM_HOST_HAS(h, hyperv_cpuid) || !VMM_HOST_HAS(h, hyperv_enable)) {
		*why = "the host offers no in-kernel Hyper-V";
		return -ENOTSUP;
	}
	rc = h->hyperv_cpuid(h, kl, &n);
	if (rc) {
		*why = rc == -ENOTSUP ? "the hypervisor has no Hyper-V CPUID (KVM_CAP_SYS_HYPERV_CPUID)"
				      : "its Hyper-V CPUID cannot be read";
		return rc == -ENOTSUP ? rc : -EIO;
	}
	for (unsigned i = 0; i < n; i++)
		kvm[i] = (struct hyperv_cpuid){ kl[i].function, kl[i].eax, kl[i].ebx, kl[i].ecx,
						kl[i].edx };
	missing = hyperv_cpuid_kernel(&d->hv, kvm, n, rows);
	for (size_t i = 0; i < sizeof(hv_dev_switches) / sizeof(hv_dev_switches[0]); i++)
		if (missing & hv_dev_switches[i].feature)
			h->log(h, VMM_LOG_WARN, "%s = true: the hypervisor's Hyper-V does not offer it; "
			       "the guest will not see it", hv_dev_switches[i].prop);
	if (d->hv.features & HYPERV_F_SYNIC)
		what |= VMM_HYPERV_SYNIC;
	rc = h->hyperv_enable(h, what, &hv_dev_kernel_client, d);
	if (rc == -ENOTSUP)
		*why = "the hypervisor cannot switch on its SynIC (KVM_CAP_HYPERV_SYNIC2)";
	else if (rc)
		*why = "switching on the hypervisor's Hyper-V failed";
	return rc;
}

static int hv_dev_create(const struct vmm_host *h, void **state)
{
	struct hyperv_dev *d;
	struct hyperv_cpuid rows[HV_CPUID_NR];
	const char *mode = h->prop_str(h, "mode"), *why = "";
	uint32_t features = 0;
	int64_t port = 0;
	bool kvm_leaves = true;
	int rc;

	if (!mode)
		mode = "auto";
	for (size_t i = 0; i < sizeof(hv_dev_switches) / sizeof(hv_dev_switches[0]); i++) {
		bool on = false;

		h->prop_bool(h, hv_dev_switches[i].prop, &on);
		if (on)
			features |= hv_dev_switches[i].feature;
	}
	h->prop_bool(h, "kvm-leaves", &kvm_leaves);
	if ((features & HYPERV_F_REF_TSC) && !(features & HYPERV_F_TIME)) {
		/* The page complements the counter; a guest falls back to the
		 * MSR whenever the page says invalid (TLFS 12.7). */
		h->log(h, VMM_LOG_ERROR, "hv-reftsc = true needs hv-time = true");
		return -EINVAL;
	}
	if ((features & HYPERV_F_STIMER) &&
	    (features & (HYPERV_F_SYNIC | HYPERV_F_TIME)) != (HYPERV_F_SYNIC | HYPERV_F_TIME)) {
		/* 12.5: timers count reference time and signal through a SINT. */
		h->log(h, VMM_LOG_ERROR, "hv-stimer = true needs hv-synic = true and hv-time = true");
		return -EINVAL;
	}
	if ((features & HYPERV_F_SYNIC) &&
	    (!VMM_HOST_HAS(h, irq_mode) || h->irq_mode(h) == VMM_IRQ_EMULATED ||
	     !VMM_HOST_HAS(h, msi_send))) {
		/* Emulated, SINTs are MSIs; in the kernel, KVM's SynIC needs
		 * its local APIC (KVM_CAP_HYPERV_SYNIC2 fails without). */
		h->log(h, VMM_LOG_ERROR, "hv-synic = true needs local APICs to deliver SINTs "
		       "(the hypervisor's irqchip = \"split\" or \"kernel\")");
		return -EINVAL;
	}
	h->prop_int(h, "hypercall-port", &port);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;
	hyperv_init(&d->hv, features, (uint16_t)port, &hv_dev_model_ops, d);
	if (strcmp(mode, "emulated") != 0) {
		rc = hv_dev_kernel_setup(d, rows, &why);
		if (!rc) {
			d->kernel = true;
		} else if (strcmp(mode, "kernel") == 0 || rc != -ENOTSUP) {
			h->log(h, VMM_LOG_ERROR, "mode = \"%s\": %s", mode, why);
			free(d);
			return rc;
		}
	}
	if (d->kernel) {
		/* KVM serves every synthetic MSR, the hypercall page (vmcall or
		 * vmmcall), reset and crash: nothing of ours on the buses. */
		h->log(h, VMM_LOG_INFO, "Hyper-V in the hypervisor (mode = \"%s\": kernel)", mode);
		rc = 0;
	} else {
		h->log(h, VMM_LOG_INFO, "Hyper-V emulated here (mode = \"%s\": emulated%s%s)", mode,
		       *why ? "; " : "", why);
		hyperv_cpuid(&d->hv, rows);
		rc = h->bus_map(h, VMM_BUS_MSR, HV_MSR_BASE, HV_MSR_COUNT, &hv_dev_msr_ops, d);
		if (!rc && (features & HYPERV_F_CRASH))
			rc = h->bus_map(h, VMM_BUS_MSR, HV_MSR_CRASH_P0, HV_MSR_CRASH_COUNT,
					&hv_dev_crash_ops, d);
		if (!rc && (features & HYPERV_F_HYPERCALL))
			rc = h->bus_map(h, VMM_BUS_PIO, (uint64_t)port, HV_PORT_LEN, &hv_dev_port_ops, d);
	}
	if (!rc)
		rc = hv_dev_set_cpuid(d, rows, !kvm_leaves);
	if (rc) {
		free(d);
		return rc;
	}
	*state = d;
	return 0;
}

static void hv_dev_destroy(void *state)
{
	struct hyperv_dev *d = state;

	for (unsigned v = 0; v < HYPERV_MAX_VCPUS; v++)
		for (unsigned t = 0; t < HV_STIMER_COUNT; t++)
			if (d->timers[v][t].t)
				d->h->timer_free(d->h, d->timers[v][t].t);
	free(d);
}

static void hv_dev_reset(void *state)
{
	struct hyperv_dev *d = state;

	/* Kernel mode: KVM resets its own state with the vCPUs. */
	if (!d->kernel)
		hyperv_reset(&d->hv);
}

/* ---- Saved state (ABI 1.12; README.md, "Saved state") ---- */

#define HV_STATE_VERSION 1

/* The partition's MSRs and the RAM under its overlay pages. */
static const struct state_field hv_dev_fields[] = {
	STATE_FIELD(struct hyperv, guest_os_id, "guest-os-id", 0),
	STATE_FIELD(struct hyperv, hypercall, "hypercall", 0),
	STATE_BOOL(struct hyperv, hypercall_mapped, "hypercall-mapped"),
	STATE_FIELD(struct hyperv, ref_tsc, "ref-tsc", 0),
	STATE_BOOL(struct hyperv, ref_tsc_mapped, "ref-tsc-mapped"),
	STATE_FIELD(struct hyperv, tsc_sequence, "tsc-sequence", 0),
	STATE_FIELD(struct hyperv, crash_p[0], "crash-p0", 0),
	STATE_FIELD(struct hyperv, crash_p[1], "crash-p1", 0),
	STATE_FIELD(struct hyperv, crash_p[2], "crash-p2", 0),
	STATE_FIELD(struct hyperv, crash_p[3], "crash-p3", 0),
	STATE_FIELD(struct hyperv, crash_p[4], "crash-p4", 0),
};

/* Per vCPU, after "v<n>.": the hypercall port's staged registers (a
 * snapshot may fall between the page's port writes), VP_RUNTIME, the
 * SynIC's MSRs. */
#define HV_VCPU_SINT(i) STATE_FIELD(struct hyperv_vcpu, sint[i], "sint" #i, 0)
static const struct state_field hv_dev_vcpu_fields[] = {
	STATE_FIELD(struct hyperv_vcpu, port[0], "port0", 0),
	STATE_FIELD(struct hyperv_vcpu, port[1], "port1", 0),
	STATE_FIELD(struct hyperv_vcpu, port[2], "port2", 0),
	STATE_FIELD(struct hyperv_vcpu, port[3], "port3", 0),
	STATE_FIELD(struct hyperv_vcpu, port[4], "port4", 0),
	STATE_FIELD(struct hyperv_vcpu, port[5], "port5", 0),
	STATE_FIELD(struct hyperv_vcpu, result, "result", 0),
	STATE_FIELD(struct hyperv_vcpu, runtime_last, "runtime", 0),
	STATE_FIELD(struct hyperv_vcpu, scontrol, "scontrol", 0),
	STATE_FIELD(struct hyperv_vcpu, simp, "simp", 0),
	STATE_BOOL(struct hyperv_vcpu, simp_mapped, "simp-mapped"),
	STATE_FIELD(struct hyperv_vcpu, siefp, "siefp", 0),
	STATE_BOOL(struct hyperv_vcpu, siefp_mapped, "siefp-mapped"),
	HV_VCPU_SINT(0), HV_VCPU_SINT(1), HV_VCPU_SINT(2), HV_VCPU_SINT(3),
	HV_VCPU_SINT(4), HV_VCPU_SINT(5), HV_VCPU_SINT(6), HV_VCPU_SINT(7),
	HV_VCPU_SINT(8), HV_VCPU_SINT(9), HV_VCPU_SINT(10), HV_VCPU_SINT(11),
	HV_VCPU_SINT(12), HV_VCPU_SINT(13), HV_VCPU_SINT(14), HV_VCPU_SINT(15),
};

/* Per timer, after "v<n>.stimer<t>.": its MSRs and an expiry whose
 * message waits for its slot; the due time is saved apart, as absolute
 * virtual-clock nanoseconds ("deadline-ns"). */
static const struct state_field hv_dev_stimer_fields[] = {
	STATE_FIELD(struct hyperv_stimer, config, "config", 0),
	STATE_FIELD(struct hyperv_stimer, count, "count", 0),
	STATE_BOOL(struct hyperv_stimer, armed, "armed"),
	STATE_BOOL(struct hyperv_stimer, msg_pending, "msg-pending"),
	STATE_FIELD(struct hyperv_stimer, msg_expiration, "msg-expiration", 0),
};

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* The vCPUs a record holds: the machine's. */
static unsigned hv_dev_vcpus(const struct vmm_host *h)
{
	unsigned n = VMM_HOST_HAS(h, vcpu_count) ? h->vcpu_count(h) : 1;

	return n < HYPERV_MAX_VCPUS ? n : HYPERV_MAX_VCPUS;
}

/* RAM a page overlay covers (TLFS 5.2.1): the guest's, given back when
 * the page goes, so it is the device's to save. */
static int hv_dev_put_page(const struct vmm_host *h, struct vmm_state_out *out, const char *name,
			   const uint8_t *page)
{
	int rc = vmm_state_put(h, out, name, page, HV_PAGE_SIZE);

	if (rc)
		h->log(h, VMM_LOG_ERROR, "cannot save state field %s: %s", name, strerror(-rc));
	return rc;
}

static int hv_dev_save(void *state, struct vmm_state_out *out)
{
	struct hyperv_dev *d = state;
	const struct vmm_host *h = d->h;
	const struct hyperv *hv = &d->hv;
	unsigned n = hv_dev_vcpus(h);
	char prefix[32], name[VMM_STATE_NAME_MAX + 1];
	int rc;

	/* Kernel mode: KVM holds every Hyper-V MSR and page, and they travel
	 * with the vCPU state the core saves through the hypervisor; the
	 * plugin keeps nothing a guest could tell apart (the SynIC writes it
	 * records are KVM's), so the record says only which mode it is. */
	rc = vmm_state_put_u8(h, out, "kernel-mode", d->kernel);
	if (rc || d->kernel)
		return rc;
	rc = vmm_state_put_u32(h, out, "vcpus", n);
	rc = rc ? rc : state_fields_save(h, out, NULL, hv_dev_fields, NFIELDS(hv_dev_fields), hv);
	rc = rc ? rc : hv_dev_put_page(h, out, "hypercall-under", hv->hypercall_under);
	rc = rc ? rc : hv_dev_put_page(h, out, "ref-tsc-under", hv->ref_tsc_under);
	for (unsigned v = 0; !rc && v < n; v++) {
		const struct hyperv_vcpu *c = &hv->vcpu[v];

		snprintf(prefix, sizeof(prefix), "v%u.", v);
		rc = state_fields_save(h, out, prefix, hv_dev_vcpu_fields, NFIELDS(hv_dev_vcpu_fields), c);
		snprintf(name, sizeof(name), "v%u.simp-under", v);
		rc = rc ? rc : hv_dev_put_page(h, out, name, c->simp_under);
		snprintf(name, sizeof(name), "v%u.siefp-under", v);
		rc = rc ? rc : hv_dev_put_page(h, out, name, c->siefp_under);
		for (unsigned t = 0; !rc && t < HV_STIMER_COUNT; t++) {
			const struct hyperv_stimer *st = &c->stimer[t];

			snprintf(prefix, sizeof(prefix), "v%u.stimer%u.", v, t);
			rc = state_fields_save(h, out, prefix, hv_dev_stimer_fields,
					       NFIELDS(hv_dev_stimer_fields), st);
			snprintf(name, sizeof(name), "v%u.stimer%u.deadline-ns", v, t);
			/* Reference time is the virtual clock / 100 (12.4). */
			rc = rc ? rc : vmm_state_put_u64(h, out, name, st->expiration * 100);
		}
	}
	return rc;
}

/* Fills the scratch partition `s` from the record: 0, or a negative errno
 * after a line naming the field. */
static int hv_dev_load_fields(const struct vmm_host *h, struct vmm_state_in *in, struct hyperv *s,
			      unsigned n)
{
	char prefix[32], name[VMM_STATE_NAME_MAX + 1];
	int rc;

	rc = state_fields_load(h, in, NULL, hv_dev_fields, NFIELDS(hv_dev_fields), s);
	rc = rc ? rc : state_field_get(h, in, "hypercall-under", s->hypercall_under, HV_PAGE_SIZE);
	rc = rc ? rc : state_field_get(h, in, "ref-tsc-under", s->ref_tsc_under, HV_PAGE_SIZE);
	for (unsigned v = 0; !rc && v < n; v++) {
		struct hyperv_vcpu *c = &s->vcpu[v];

		snprintf(prefix, sizeof(prefix), "v%u.", v);
		rc = state_fields_load(h, in, prefix, hv_dev_vcpu_fields, NFIELDS(hv_dev_vcpu_fields), c);
		snprintf(name, sizeof(name), "v%u.simp-under", v);
		rc = rc ? rc : state_field_get(h, in, name, c->simp_under, HV_PAGE_SIZE);
		snprintf(name, sizeof(name), "v%u.siefp-under", v);
		rc = rc ? rc : state_field_get(h, in, name, c->siefp_under, HV_PAGE_SIZE);
		for (unsigned t = 0; !rc && t < HV_STIMER_COUNT; t++) {
			struct hyperv_stimer *st = &c->stimer[t];
			uint64_t deadline = 0;

			snprintf(prefix, sizeof(prefix), "v%u.stimer%u.", v, t);
			rc = state_fields_load(h, in, prefix, hv_dev_stimer_fields,
					       NFIELDS(hv_dev_stimer_fields), st);
			snprintf(name, sizeof(name), "v%u.stimer%u.deadline-ns", v, t);
			rc = rc ? rc : state_field_get_u64(h, in, name, &deadline);
			if (!rc && deadline % 100)
				rc = state_field_refuse(h, name, "not a whole number of 100 ns "
							"(reference time) units");
			st->expiration = deadline / 100;
		}
	}
	return rc;
}

static int hv_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct hyperv_dev *d = state;
	const struct vmm_host *h = d->h;
	unsigned n = hv_dev_vcpus(h);
	char field[VMM_STATE_NAME_MAX + 1];
	const char *why;
	struct hyperv *s;
	uint32_t vcpus;
	uint8_t kernel, le[4];
	int rc;

	rc = state_version_check(h, version, HV_STATE_VERSION);
	if (rc)
		return rc;
	rc = state_field_get(h, in, "kernel-mode", &kernel, 1);
	if (rc)
		return rc;
	if (kernel != d->kernel) {
		h->log(h, VMM_LOG_ERROR, "saved state field kernel-mode: a record of mode = \"%s\", "
		       "this instance is mode = \"%s\"; record refused", kernel ? "kernel" : "emulated",
		       d->kernel ? "kernel" : "emulated");
		return -EINVAL;
	}
	if (d->kernel)
		return 0; /* KVM's state comes back with the vCPUs' */
	rc = state_field_get(h, in, "vcpus", le, sizeof(le));
	if (rc)
		return rc;
	vcpus = (uint32_t)le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 | (uint32_t)le[3] << 24;
	if (vcpus != n) {
		char why_n[64];

		snprintf(why_n, sizeof(why_n), "%u, but this machine has %u vCPUs", vcpus, n);
		return state_field_refuse(h, "vcpus", why_n);
	}
	/* Read into scratch and check everything before the instance
	 * changes: a refused record leaves it as it was. */
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	hyperv_init(s, d->hv.features, d->hv.hypercall_port, d->hv.ops, d->hv.opaque);
	rc = hv_dev_load_fields(h, in, s, n);
	if (!rc && hyperv_state_check(s, n, field, sizeof(field), &why))
		rc = state_field_refuse(h, field, why);
	if (!rc)
		hyperv_state_commit(&d->hv, s);
	free(s);
	return rc;
}

static const struct vmm_device_ops hv_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = hv_dev_create,
	.destroy = hv_dev_destroy,
	.reset = hv_dev_reset,
	.state_version = HV_STATE_VERSION,
	.save = hv_dev_save,
	.load = hv_dev_load,
};

static const char *const hv_dev_modes[] = { "auto", "emulated", "kernel", NULL };

static const struct vmm_prop_desc hv_dev_props[] = {
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "auto", .choices = hv_dev_modes,
	  .help = "emulated: here, on MSR exits; kernel: KVM's own Hyper-V (SynIC2); auto: kernel "
		  "where the host offers it, else emulated" },
	{ .name = "kvm-leaves", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "keep the hypervisor's own CPUID leaves at 0x40000100 (false hides them: a Linux "
		  "guest then uses Hyper-V's enlightenments instead of KVM's)" },
	{ .name = "hv-vpindex", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "HV_X64_MSR_VP_INDEX (0x40000002)" },
	{ .name = "hv-runtime", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "HV_X64_MSR_VP_RUNTIME (0x40000010), the vCPU thread's CPU time" },
	{ .name = "hv-time", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "HV_X64_MSR_TIME_REF_COUNT (0x40000020), 100 ns units" },
	{ .name = "hv-reftsc", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "the reference TSC page, HV_X64_MSR_REFERENCE_TSC (0x40000021); needs hv-time" },
	{ .name = "hv-hypercall", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "HV_X64_MSR_GUEST_OS_ID and HV_X64_MSR_HYPERCALL (0x40000000-1) and the page" },
	{ .name = "hv-synic", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "the SynIC: SCONTROL, SVERSION, SIEFP, SIMP, EOM, SINT0-15; needs local APICs" },
	{ .name = "hv-stimer", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "synthetic timers STIMER0-3, message and direct mode; needs hv-synic, hv-time" },
	{ .name = "hv-reset", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "HV_X64_MSR_RESET (0x40000003): the guest's reset request ends the run as a reset" },
	{ .name = "hv-crash", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "crash MSRs P0-P4, CTL (0x40000100-5): a guest crash is logged, the run ends (status 4)" },
	{ .name = "hypercall-port", .type = VMM_PROP_INT, .def_int = 0xe00, .min = 0,
	  .max = 0x10000 - HV_PORT_LEN,
	  .help = "first of the 32 I/O ports the hypercall page's code writes to" },
	{ .name = NULL },
};

static const struct vmm_plugin hyperv_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "hyperv",
	.version = "1.0",
	.summary = "Hyper-V enlightenments: CPUID, synthetic MSRs, hypercall page, reference TSC page, SynIC, synthetic timers",
	.props = hv_dev_props,
	.ops = &hv_dev_ops,
};

VMM_PLUGIN_DEFINE(hyperv_plugin)
