/* SPDX-License-Identifier: MIT */
/*
 * devices/cmos-rtc/rtc-plugin.c - the MC146818A RTC on the PC I/O bus.
 *
 * Glue only: properties, ports 0x70/0x71, the IRQ line, two virtual-clock
 * timers and the host's wall clock at creation, each handed to rtc.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"
#include "rtc.h"

#define RTC_DEV_BASE 0x70
/* Mirrors the core's guest RAM layout: RAM up to 3 GiB sits below the
 * 32-bit MMIO hole, the rest starts at 4 GiB. */
#define RTC_DEV_LOW_RAM_END 0xc0000000ULL
#define RTC_DEV_NOT_ARMED UINT64_MAX

struct rtc_dev {
	struct rtc rtc;
	const struct vmm_host *h;
	struct vmm_irq_line *irq;
	struct vmm_timer *timers[RTC_NR_TIMERS];
	/* Each timer's absolute deadline while armed, for save(). */
	uint64_t deadline[RTC_NR_TIMERS];
	bool mapped;
};

static void rtc_dev_set_irq(void *opaque, int level)
{
	struct rtc_dev *d = opaque;

	d->h->irq_set(d->h, d->irq, level);
}

static uint64_t rtc_dev_now(void *opaque)
{
	struct rtc_dev *d = opaque;

	return d->h->clock_ns(d->h);
}

static void rtc_dev_timer_arm(void *opaque, enum rtc_timer_id id, uint64_t deadline_ns)
{
	struct rtc_dev *d = opaque;

	d->deadline[id] = deadline_ns;
	d->h->timer_arm(d->h, d->timers[id], deadline_ns);
}

static void rtc_dev_timer_cancel(void *opaque, enum rtc_timer_id id)
{
	struct rtc_dev *d = opaque;

	d->deadline[id] = RTC_DEV_NOT_ARMED;
	d->h->timer_cancel(d->h, d->timers[id]);
}

static const struct rtc_ops rtc_dev_model_ops = {
	.set_irq = rtc_dev_set_irq,
	.now_ns = rtc_dev_now,
	.timer_arm = rtc_dev_timer_arm,
	.timer_cancel = rtc_dev_timer_cancel,
};

static void rtc_dev_update_timer(void *opaque)
{
	struct rtc_dev *d = opaque;

	d->deadline[RTC_TIMER_UPDATE] = RTC_DEV_NOT_ARMED;
	rtc_timer_expired(&d->rtc, RTC_TIMER_UPDATE);
}

static void rtc_dev_periodic_timer(void *opaque)
{
	struct rtc_dev *d = opaque;

	d->deadline[RTC_TIMER_PERIODIC] = RTC_DEV_NOT_ARMED;
	rtc_timer_expired(&d->rtc, RTC_TIMER_PERIODIC);
}

static int rtc_dev_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct rtc_dev *d = opaque;

	*value = rtc_read(&d->rtc, (unsigned)offset);
	return 0;
}

static int rtc_dev_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct rtc_dev *d = opaque;

	rtc_write(&d->rtc, (unsigned)offset, (uint8_t)value);
	return 0;
}

static const struct vmm_region_ops rtc_dev_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = rtc_dev_read,
	.write = rtc_dev_write,
};

/* The host's wall clock, as seconds since 1970 in UTC or in the host's
 * local time zone (what a DOS or Windows guest expects). */
static int64_t rtc_dev_host_secs(const char *base)
{
	time_t now = time(NULL);
	struct tm tm;

	if (base && !strcmp(base, "localtime") && localtime_r(&now, &tm))
		return (int64_t)now + tm.tm_gmtoff;
	return (int64_t)now;
}

static void rtc_dev_destroy(void *state)
{
	struct rtc_dev *d = state;

	if (d->mapped)
		d->h->bus_unmap(d->h, VMM_BUS_PIO, RTC_DEV_BASE);
	for (unsigned i = 0; i < RTC_NR_TIMERS; i++)
		if (d->timers[i])
			d->h->timer_free(d->h, d->timers[i]);
	free(d);
}

static int rtc_dev_create(const struct vmm_host *h, void **state)
{
	struct rtc_dev *d;
	int64_t irq, memory;
	uint64_t low;
	int rc;

	/* The schema gives both a default and a range: these cannot fail. */
	if (h->prop_int(h, "irq", &irq) || h->prop_int(h, "memory", &memory))
		return -EINVAL;
	/* memory = 0: report the machine's own RAM (ABI 1.1 ram_size). */
	if (memory == 0 && h->size >= offsetof(struct vmm_host, ram_size) + sizeof(h->ram_size) &&
	    h->ram_size)
		memory = (int64_t)h->ram_size(h);

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;
	d->deadline[RTC_TIMER_UPDATE] = d->deadline[RTC_TIMER_PERIODIC] = RTC_DEV_NOT_ARMED;

	d->irq = h->irq_line(h, (uint32_t)irq);
	if (!d->irq) {
		h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq);
		rc = -ENODEV;
		goto out_destroy;
	}
	d->timers[RTC_TIMER_UPDATE] = h->timer_new(h, rtc_dev_update_timer, d);
	d->timers[RTC_TIMER_PERIODIC] = h->timer_new(h, rtc_dev_periodic_timer, d);
	if (!d->timers[RTC_TIMER_UPDATE] || !d->timers[RTC_TIMER_PERIODIC]) {
		rc = -ENOMEM;
		goto out_destroy;
	}
	rtc_init(&d->rtc, &rtc_dev_model_ops, d, rtc_dev_host_secs(h->prop_str(h, "base")));
	low = (uint64_t)memory < RTC_DEV_LOW_RAM_END ? (uint64_t)memory : RTC_DEV_LOW_RAM_END;
	rtc_set_memory(&d->rtc, low, (uint64_t)memory - low);

	rc = h->bus_map(h, VMM_BUS_PIO, RTC_DEV_BASE, RTC_NR_PORTS, &rtc_dev_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map ports 0x70-0x71");
		goto out_destroy;
	}
	d->mapped = true;
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = RTC_DEV_BASE, .len = RTC_NR_PORTS },
		{ .type = VMM_RES_IRQ, .base = (uint64_t)irq },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_RTC,
					      .acpi_hid = "PNP0B00", .res = res, .nres = 2,
					      .century = 0x32 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;
	*state = d;
	return 0;

out_destroy:
	rtc_dev_destroy(d);
	return rc;
}

static void rtc_dev_reset(void *state)
{
	struct rtc_dev *d = state;

	rtc_reset(&d->rtc);
}

/*
 * Saved state, version 1: every member of struct rtc_state ("cmos" is the
 * 128 bytes of RAM, alarms and registers A and B; the time is the seconds
 * count and the divider's origin, in virtual-clock nanoseconds, which a
 * restore continues) and each timer's absolute deadline
 * ("update_deadline_ns", "periodic_deadline_ns"; all ones: not armed).
 * The interrupt line is not saved: it follows from the flags and enables
 * and load drives it again.
 */
#define RTC_FIELD(m, max) STATE_FIELD(struct rtc_state, m, #m, max)

static const struct state_field rtc_fields[] = {
	RTC_FIELD(index, 0),
	RTC_FIELD(flags, 0),
	RTC_FIELD(dow_delta, 0),
	STATE_BOOL(struct rtc_state, frozen, "frozen"),
	RTC_FIELD(frozen_secs, 0),
	RTC_FIELD(secs_at_origin, 0),
	RTC_FIELD(origin_ns, 0),
	RTC_FIELD(updates_seen, 0),
	RTC_FIELD(ticks_seen, 0),
};

static const char *const rtc_deadline_name[RTC_NR_TIMERS] = {
	[RTC_TIMER_UPDATE] = "update_deadline_ns",
	[RTC_TIMER_PERIODIC] = "periodic_deadline_ns",
};

static int rtc_dev_save(void *state, struct vmm_state_out *out)
{
	struct rtc_dev *d = state;
	const struct vmm_host *h = d->h;
	int rc = vmm_state_put(h, out, "cmos", d->rtc.s.cmos, sizeof(d->rtc.s.cmos));

	if (!rc)
		rc = state_fields_save(h, out, NULL, rtc_fields,
				       sizeof(rtc_fields) / sizeof(rtc_fields[0]), &d->rtc.s);
	for (unsigned i = 0; !rc && i < RTC_NR_TIMERS; i++)
		rc = vmm_state_put_u64(h, out, rtc_deadline_name[i], d->deadline[i]);
	return rc;
}

static int rtc_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct rtc_dev *d = state;
	const struct vmm_host *h = d->h;
	struct rtc_state s = { .version = RTC_STATE_VERSION };
	uint64_t deadline[RTC_NR_TIMERS], now = h->clock_ns(h);
	const char *bad;
	int rc;

	rc = state_version_check(h, version, 1);
	if (!rc)
		rc = state_field_get(h, in, "cmos", s.cmos, sizeof(s.cmos));
	if (!rc)
		rc = state_fields_load(h, in, NULL, rtc_fields,
				       sizeof(rtc_fields) / sizeof(rtc_fields[0]), &s);
	for (unsigned i = 0; !rc && i < RTC_NR_TIMERS; i++) {
		rc = state_field_get_u64(h, in, rtc_deadline_name[i], &deadline[i]);
		/* The next update is at most a second away, the slowest
		 * periodic tick half a second. */
		if (!rc && deadline[i] != RTC_DEV_NOT_ARMED && deadline[i] > now + 2 * RTC_NS_PER_SEC)
			rc = state_field_refuse(h, rtc_deadline_name[i],
						"further ahead than the next update");
	}
	if (rc)
		return rc;
	bad = rtc_state_check(&s, (int64_t)now);
	if (bad)
		return state_field_refuse(h, bad, "not a state the clock can be in");
	rtc_restore(&d->rtc, &s);
	for (unsigned i = 0; i < RTC_NR_TIMERS; i++) {
		if (deadline[i] == RTC_DEV_NOT_ARMED)
			rtc_dev_timer_cancel(d, (enum rtc_timer_id)i);
		else
			rtc_dev_timer_arm(d, (enum rtc_timer_id)i, deadline[i]);
	}
	return 0;
}

static const struct vmm_device_ops rtc_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = rtc_dev_create,
	.destroy = rtc_dev_destroy,
	.reset = rtc_dev_reset,
	.state_version = 1,
	.save = rtc_dev_save,
	.load = rtc_dev_load,
};

static const char *const rtc_dev_base_choices[] = { "utc", "localtime", NULL };

static const struct vmm_prop_desc rtc_dev_props[] = {
	{ .name = "irq", .type = VMM_PROP_INT, .def_int = 8, .min = 0, .max = 255,
	  .help = "interrupt line (8 on a PC)" },
	{ .name = "memory", .type = VMM_PROP_INT, .def_int = 0, .min = 0, .max = INT64_MAX,
	  .help = "guest RAM in bytes for the CMOS memory-size bytes; 0: the machine's RAM" },
	{ .name = "base", .type = VMM_PROP_ENUM, .def_str = "utc", .choices = rtc_dev_base_choices,
	  .help = "what the clock starts from: the host's UTC or local time" },
	{ .name = NULL },
};

static const struct vmm_plugin cmos_rtc_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "cmos-rtc",
	.version = "1.0",
	.summary = "MC146818A real-time clock and 128 bytes of CMOS RAM on ports 0x70-0x71",
	.props = rtc_dev_props,
	.ops = &rtc_dev_ops,
};

VMM_PLUGIN_DEFINE(cmos_rtc_plugin)
