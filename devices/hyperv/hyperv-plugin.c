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

static int hv_dev_set_cpuid(struct hyperv_dev *d)
{
	const struct vmm_host *h = d->h;
	struct hyperv_cpuid rows[HV_CPUID_NR];
	struct vmm_cpuid_leaf leaves[HV_CPUID_NR];
	int rc;

	if (!VMM_HOST_HAS(h, cpuid_set)) {
		h->log(h, VMM_LOG_WARN, "the host cannot set CPUID leaves: the guest will not "
		       "find Hyper-V (its MSRs answer all the same)");
		return 0;
	}
	hyperv_cpuid(&d->hv, rows);
	memset(leaves, 0, sizeof(leaves));
	for (unsigned i = 0; i < HV_CPUID_NR; i++) {
		leaves[i].function = rows[i].function;
		leaves[i].eax = rows[i].eax;
		leaves[i].ebx = rows[i].ebx;
		leaves[i].ecx = rows[i].ecx;
		leaves[i].edx = rows[i].edx;
	}
	rc = h->cpuid_set(h, leaves, HV_CPUID_NR);
	if (rc == -ENOTSUP) {
		h->log(h, VMM_LOG_ERROR, "the hypervisor cannot show CPUID leaves (not x86?)");
		return rc;
	}
	if (rc)
		h->log(h, VMM_LOG_ERROR, "cannot set the Hyper-V CPUID leaves: %s", strerror(-rc));
	return rc;
}

static int hv_dev_create(const struct vmm_host *h, void **state)
{
	struct hyperv_dev *d;
	const char *mode = h->prop_str(h, "mode");
	uint32_t features = 0;
	int64_t port = 0;
	int rc;

	if (mode && strcmp(mode, "kernel") == 0) {
		h->log(h, VMM_LOG_ERROR, "mode = \"kernel\" (KVM's own Hyper-V emulation) is not "
		       "implemented yet: use \"emulated\" or \"auto\"");
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(hv_dev_switches) / sizeof(hv_dev_switches[0]); i++) {
		bool on = false;

		h->prop_bool(h, hv_dev_switches[i].prop, &on);
		if (on)
			features |= hv_dev_switches[i].feature;
	}
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
	rc = h->bus_map(h, VMM_BUS_MSR, HV_MSR_BASE, HV_MSR_COUNT, &hv_dev_msr_ops, d);
	if (!rc && (features & HYPERV_F_CRASH))
		rc = h->bus_map(h, VMM_BUS_MSR, HV_MSR_CRASH_P0, HV_MSR_CRASH_COUNT, &hv_dev_crash_ops, d);
	if (!rc && (features & HYPERV_F_HYPERCALL))
		rc = h->bus_map(h, VMM_BUS_PIO, (uint64_t)port, HV_PORT_LEN, &hv_dev_port_ops, d);
	if (!rc)
		rc = hv_dev_set_cpuid(d);
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

	hyperv_reset(&d->hv);
}

static const struct vmm_device_ops hv_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = hv_dev_create,
	.destroy = hv_dev_destroy,
	.reset = hv_dev_reset,
};

static const char *const hv_dev_modes[] = { "auto", "emulated", "kernel", NULL };

static const struct vmm_prop_desc hv_dev_props[] = {
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "auto", .choices = hv_dev_modes,
	  .help = "auto and emulated: here, on MSR exits; kernel: KVM's (not implemented yet)" },
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
