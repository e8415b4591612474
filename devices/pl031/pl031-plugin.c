/* SPDX-License-Identifier: MIT */
/*
 * devices/pl031/pl031-plugin.c - the PL031 RTC on the MMIO bus.
 *
 * Glue only: properties, the 4 KiB register window, the IRQ line, one
 * virtual-clock timer and the host's wall clock at creation, each handed
 * to pl031.c, and the description the firmware tables (a device tree)
 * take.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmm/vmm.h>
#include "devices/model-glue/model-glue.h"
#include "pl031.h"

struct pl031_dev {
	struct pl031 rtc;
	struct model_glue g;	/* h, irq, chr, timer: the model's host side */
	uint64_t base;
	bool mapped;
};

static const struct pl031_ops pl031_dev_model_ops = {
	.set_irq = model_glue_set_irq,
	.now_ns = model_glue_now_ns,
	.timer_arm = model_glue_timer_arm,
	.timer_cancel = model_glue_timer_cancel,
};

static void pl031_dev_timer(void *opaque)
{
	struct pl031_dev *d = opaque;

	pl031_timer_expired(&d->rtc);
}

static int pl031_dev_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			  uint64_t *value)
{
	struct pl031_dev *d = opaque;

	*value = pl031_read(&d->rtc, (unsigned)offset);
	return 0;
}

static int pl031_dev_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			   uint64_t value)
{
	struct pl031_dev *d = opaque;

	if (!pl031_write(&d->rtc, (unsigned)offset, (uint32_t)value))
		d->g.h->log(d->g.h, VMM_LOG_GUEST_ERROR, "write of 0x%llx to offset 0x%03llx ignored",
			  (unsigned long long)value, (unsigned long long)offset);
	return 0;
}

/* The TRM's registers are 32 bits wide and its ID registers are read
 * with 32-bit accesses; Linux uses nothing else. */
static const struct vmm_region_ops pl031_dev_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_4,
	.read = pl031_dev_read,
	.write = pl031_dev_write,
};

/*
 * The counter's first value: the host's wall clock (CLOCK_REALTIME) as
 * seconds since 1970 in UTC, or in the host's local time zone, with the
 * sub-second part as the phase of the first increment; or a fixed epoch
 * second, phase 0, for reproducible runs.  -EINVAL for anything else.
 */
static int pl031_dev_start(const struct vmm_host *h, const char *start, uint32_t *secs,
			   uint32_t *phase_ns)
{
	struct timespec ts;
	struct tm tm;
	char *end;

	if (!start || !strcmp(start, "utc") || !strcmp(start, "localtime")) {
		if (clock_gettime(CLOCK_REALTIME, &ts))
			return -errno;
		if (start && !strcmp(start, "localtime") && localtime_r(&ts.tv_sec, &tm))
			ts.tv_sec += tm.tm_gmtoff;
		/* The counter is 32 bits: it wraps in 2106, as on the chip. */
		*secs = (uint32_t)ts.tv_sec;
		*phase_ns = (uint32_t)ts.tv_nsec;
		return 0;
	}
	errno = 0;
	unsigned long long v = strtoull(start, &end, 0);
	if (errno || end == start || *end || start[0] == '-' || v > UINT32_MAX) {
		h->log(h, VMM_LOG_ERROR, "start = \"%s\": not \"utc\", \"localtime\" or a number "
		       "of seconds since 1970 (0..4294967295)", start);
		return -EINVAL;
	}
	*secs = (uint32_t)v;
	*phase_ns = 0;
	return 0;
}

static void pl031_dev_destroy(void *state)
{
	struct pl031_dev *d = state;

	if (d->mapped)
		d->g.h->bus_unmap(d->g.h, VMM_BUS_MMIO, d->base);
	if (d->g.timer)
		d->g.h->timer_free(d->g.h, d->g.timer);
	free(d);
}

static int pl031_dev_create(const struct vmm_host *h, void **state)
{
	struct pl031_dev *d;
	int64_t base, irq;
	uint32_t secs = 0, phase_ns = 0;
	int rc;

	if (h->prop_int(h, "base", &base) || h->prop_int(h, "irq", &irq)) {
		h->log(h, VMM_LOG_ERROR, "properties 'base' and 'irq' are required");
		return -EINVAL;
	}
	if (base & (PL031_MMIO_SIZE - 1)) {
		h->log(h, VMM_LOG_ERROR, "base 0x%llx is not 4 KiB-aligned", (unsigned long long)base);
		return -EINVAL;
	}
	rc = pl031_dev_start(h, h->prop_str(h, "start"), &secs, &phase_ns);
	if (rc)
		return rc;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->g.h = h;
	d->base = (uint64_t)base;

	d->g.irq = h->irq_line(h, (uint32_t)irq);
	if (!d->g.irq) {
		h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq);
		rc = -ENODEV;
		goto out_destroy;
	}
	d->g.timer = h->timer_new(h, pl031_dev_timer, d);
	if (!d->g.timer) {
		rc = -ENOMEM;
		goto out_destroy;
	}
	pl031_init(&d->rtc, &pl031_dev_model_ops, &d->g, secs, phase_ns);

	rc = h->bus_map(h, VMM_BUS_MMIO, d->base, PL031_MMIO_SIZE, &pl031_dev_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map MMIO 0x%llx-0x%llx", (unsigned long long)d->base,
		       (unsigned long long)d->base + PL031_MMIO_SIZE - 1);
		goto out_destroy;
	}
	d->mapped = true;
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_MMIO, .base = d->base, .len = PL031_MMIO_SIZE },
		{ .type = VMM_RES_IRQ, .flags = VMM_RES_IRQ_LEVEL, .base = (uint64_t)irq },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_DEVICE,
					      .fdt_compatible = "arm,pl031 arm,primecell",
					      .res = res, .nres = 2 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;
	*state = d;
	return 0;

out_destroy:
	pl031_dev_destroy(d);
	return rc;
}

static void pl031_dev_reset(void *state)
{
	struct pl031_dev *d = state;

	pl031_reset(&d->rtc);
}

/*
 * Saved state (ABI 1.12): the registers and the clock's anchor.  The
 * counter is not a register: it is count0 plus the CLK1HZ edges since
 * edge0_ns on the virtual clock, which continues across a restore, so the
 * guest's RTC goes on from where it was plus the time the machine was
 * paused in virtual time (none).  The saved match deadline is re-armed as
 * it is (an absolute virtual time); the line is raised again when the
 * saved RTC held it.
 */
static int pl031_dev_save(void *state, struct vmm_state_out *out)
{
	struct pl031_dev *d = state;
	const struct vmm_host *h = d->g.h;
	const struct pl031_state *s = &d->rtc.s;
	int rc = 0;

	rc = rc ? rc : vmm_state_put_u32(h, out, "mr", s->mr);
	rc = rc ? rc : vmm_state_put_u32(h, out, "lr", s->lr);
	rc = rc ? rc : vmm_state_put_u8(h, out, "imsc", s->imsc);
	rc = rc ? rc : vmm_state_put_u8(h, out, "ris", s->ris);
	rc = rc ? rc : vmm_state_put_u32(h, out, "count0", s->count0);
	rc = rc ? rc : vmm_state_put_u64(h, out, "edge0_ns", (uint64_t)s->edge0_ns);
	rc = rc ? rc : vmm_state_put_u64(h, out, "match_ns", (uint64_t)s->match_ns);
	return rc;
}

static int pl031_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct pl031_dev *d = state;
	const struct vmm_host *h = d->g.h;
	struct pl031_state s = { .version = version };
	uint64_t edge0, match;
	const char *field = "mr", *bad;
	int rc;

	if (version != PL031_STATE_VERSION) {
		h->log(h, VMM_LOG_ERROR, "saved state version %u: this plugin knows %u", version,
		       PL031_STATE_VERSION);
		return -EPROTO;
	}
	if ((rc = vmm_state_get_u32(h, in, field = "mr", &s.mr)) ||
	    (rc = vmm_state_get_u32(h, in, field = "lr", &s.lr)) ||
	    (rc = vmm_state_get_u8(h, in, field = "imsc", &s.imsc)) ||
	    (rc = vmm_state_get_u8(h, in, field = "ris", &s.ris)) ||
	    (rc = vmm_state_get_u32(h, in, field = "count0", &s.count0)) ||
	    (rc = vmm_state_get_u64(h, in, field = "edge0_ns", &edge0)) ||
	    (rc = vmm_state_get_u64(h, in, field = "match_ns", &match))) {
		h->log(h, VMM_LOG_ERROR, "saved state: %s: %s", field,
		       rc == -ENOENT ? "missing" : "wrong size");
		return rc;
	}
	s.edge0_ns = (int64_t)edge0;
	s.match_ns = (int64_t)match;
	rc = pl031_restore(&d->rtc, &s, &bad);
	if (rc)
		h->log(h, VMM_LOG_ERROR, "saved state: %s: not a value this RTC can hold", bad);
	return rc;
}

static const struct vmm_device_ops pl031_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = pl031_dev_create,
	.destroy = pl031_dev_destroy,
	.reset = pl031_dev_reset,
	.state_version = PL031_STATE_VERSION,
	.save = pl031_dev_save,
	.load = pl031_dev_load,
};

static const struct vmm_prop_desc pl031_dev_props[] = {
	{ .name = "base", .type = VMM_PROP_INT, .min = 0, .max = INT64_MAX, .required = true,
	  .help = "guest-physical address of the 4 KiB register window (4 KiB-aligned)" },
	{ .name = "irq", .type = VMM_PROP_INT, .min = 0, .max = 255, .required = true,
	  .help = "interrupt line, level-triggered, active high" },
	{ .name = "start", .type = VMM_PROP_STRING, .def_str = "utc",
	  .help = "the counter's first value: \"utc\" or \"localtime\" (the host's clock), "
		  "or seconds since 1970" },
	{ .name = NULL },
};

static const struct vmm_plugin pl031_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "pl031",
	.version = "1.0",
	.summary = "ARM PrimeCell real-time clock (PL031): seconds counter and match interrupt",
	.props = pl031_dev_props,
	.ops = &pl031_dev_ops,
};

VMM_PLUGIN_DEFINE(pl031_plugin)
