/* SPDX-License-Identifier: MIT */
/*
 * devices/i8254/i8254-plugin.c - the PC's 8254 PIT on the I/O port bus.
 *
 * Glue only: properties, ports 0x40-0x43 and 0x61, counter 0's OUT on an
 * interrupt line and one timer for its edges, wired to the model in
 * i8254.c.  Or, in kernel mode, a request that the hypervisor run the PIT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"
#include "i8254.h"

#define PIT_BASE 0x40
#define PIT_PORT61 0x61

struct i8254_dev {
	struct i8254 pit;
	const struct vmm_host *h;
	struct vmm_irq_line *irq;
	struct vmm_timer *timer; /* counter 0's edges */
	bool kernel;             /* the hypervisor runs the PIT; nothing here is used */
	bool mapped_pit;
	bool mapped_port61;
};

static uint64_t pit_dev_now(void *opaque)
{
	struct i8254_dev *d = opaque;

	return d->h->clock_ns(d->h);
}

static void pit_dev_set_out(void *opaque, unsigned idx, int level)
{
	struct i8254_dev *d = opaque;

	if (idx == 0)
		d->h->irq_set(d->h, d->irq, level);
}

static void pit_dev_timer_arm(void *opaque, unsigned idx, uint64_t deadline_ns)
{
	struct i8254_dev *d = opaque;

	if (idx == 0)
		d->h->timer_arm(d->h, d->timer, deadline_ns);
}

static void pit_dev_timer_cancel(void *opaque, unsigned idx)
{
	struct i8254_dev *d = opaque;

	if (idx == 0)
		d->h->timer_cancel(d->h, d->timer);
}

static void pit_dev_guest_error(void *opaque, const char *what)
{
	struct i8254_dev *d = opaque;

	d->h->log(d->h, VMM_LOG_GUEST_ERROR, "%s", what);
}

static const struct i8254_ops pit_dev_model_ops = {
	.now_ns = pit_dev_now,
	.set_out = pit_dev_set_out,
	.timer_arm = pit_dev_timer_arm,
	.timer_cancel = pit_dev_timer_cancel,
	.guest_error = pit_dev_guest_error,
};

static void pit_dev_timeout(void *opaque)
{
	struct i8254_dev *d = opaque;

	i8254_timer_expired(&d->pit, 0);
}

static int pit_dev_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct i8254_dev *d = opaque;

	*value = i8254_read(&d->pit, (unsigned)offset);
	return 0;
}

static int pit_dev_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct i8254_dev *d = opaque;

	i8254_write(&d->pit, (unsigned)offset, (uint8_t)value);
	return 0;
}

static const struct vmm_region_ops pit_dev_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = pit_dev_read,
	.write = pit_dev_write,
};

static int port61_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct i8254_dev *d = opaque;

	*value = i8254_port61_read(&d->pit);
	return 0;
}

static int port61_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct i8254_dev *d = opaque;

	i8254_port61_write(&d->pit, (uint8_t)value);
	return 0;
}

static const struct vmm_region_ops port61_region_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = port61_read,
	.write = port61_write,
};

static void pit_dev_destroy(void *state)
{
	struct i8254_dev *d = state;

	if (d->mapped_port61)
		d->h->bus_unmap(d->h, VMM_BUS_PIO, PIT_PORT61);
	if (d->mapped_pit)
		d->h->bus_unmap(d->h, VMM_BUS_PIO, PIT_BASE);
	if (d->timer)
		d->h->timer_free(d->h, d->timer);
	free(d);
}

/* Decide where the PIT runs: 1 for the hypervisor, 0 here, <0 on error. */
static int pit_dev_want_kernel(const struct vmm_host *h)
{
	const char *mode = h->prop_str(h, "mode");
	bool kernel_irqchip = VMM_HOST_HAS(h, irq_mode) && h->irq_mode(h) == VMM_IRQ_KERNEL;

	if (!mode || !strcmp(mode, "auto"))
		return kernel_irqchip;
	if (!strcmp(mode, "emulated"))
		return 0;
	if (!kernel_irqchip) {
		h->log(h, VMM_LOG_ERROR,
		       "property mode=kernel needs the hypervisor's interrupt controllers (irqchip = kernel)");
		return -EINVAL;
	}
	return 1;
}

static int pit_dev_create(const struct vmm_host *h, void **state)
{
	struct i8254_dev *d;
	int64_t irq;
	int kernel, rc;

	kernel = pit_dev_want_kernel(h);
	if (kernel < 0)
		return kernel;
	/* The schema gives a default and a range: this cannot fail. */
	if (h->prop_int(h, "irq", &irq))
		return -EINVAL;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;

	/* The same ports and line in both modes, whoever answers them. */
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = PIT_BASE, .len = I8254_NR_REGS },
		{ .type = VMM_RES_IRQ, .base = kernel ? 0 : (uint64_t)irq },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_DEVICE,
					      .acpi_hid = "PNP0100", .res = res, .nres = 2 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;

	if (kernel) {
		rc = VMM_HOST_HAS(h, hv_accel) ? h->hv_accel(h, VMM_ACCEL_PIT) : -ENOTSUP;
		if (rc) {
			h->log(h, VMM_LOG_ERROR, "the hypervisor cannot run the PIT in the kernel (%s)",
			       strerror(-rc));
			goto out_destroy;
		}
		if (irq != 0)
			h->log(h, VMM_LOG_WARN, "irq=%lld ignored: the hypervisor's PIT drives line 0",
			       (long long)irq);
		d->kernel = true;
		*state = d;
		return 0;
	}

	d->irq = h->irq_line(h, (uint32_t)irq);
	if (!d->irq) {
		h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq);
		rc = -ENODEV;
		goto out_destroy;
	}
	d->timer = h->timer_new(h, pit_dev_timeout, d);
	if (!d->timer) {
		rc = -ENOMEM;
		goto out_destroy;
	}
	i8254_init(&d->pit, &pit_dev_model_ops, d, 1u << 0);

	rc = h->bus_map(h, VMM_BUS_PIO, PIT_BASE, I8254_NR_REGS, &pit_dev_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map ports 0x40-0x43");
		goto out_destroy;
	}
	d->mapped_pit = true;
	rc = h->bus_map(h, VMM_BUS_PIO, PIT_PORT61, 1, &port61_region_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map port 0x61");
		goto out_destroy;
	}
	d->mapped_port61 = true;
	*state = d;
	return 0;

out_destroy:
	pit_dev_destroy(d);
	return rc;
}

static void pit_dev_reset(void *state)
{
	struct i8254_dev *d = state;

	/* In kernel mode the hypervisor resets its own PIT. */
	if (!d->kernel)
		i8254_reset(&d->pit);
}

/*
 * Saved state, version 1: "emulated" (0 in kernel mode, where the PIT's
 * state travels with the hypervisor's VM state and nothing else is put),
 * "speaker", per counter ("c0." to "c2.") every member of struct
 * i8254_counter_state, whose times are absolute input-clock ticks of the
 * virtual clock (which a restore continues), and for counter 0, whose OUT
 * is the interrupt line: "c0.out", the level last driven, and
 * "c0.deadline_ns", its timer's absolute deadline (all ones: not armed).
 */
#define PIT_FIELD(m, max) STATE_FIELD(struct i8254_counter_state, m, #m, max)
#define PIT_BOOL(m) STATE_BOOL(struct i8254_counter_state, m, #m)

static const struct state_field pit_counter_fields[] = {
	PIT_FIELD(ctrl, 0x3f),
	PIT_FIELD(cr, 0),
	PIT_FIELD(cr_lsb, 0),
	PIT_BOOL(write_msb),
	PIT_BOOL(read_msb),
	PIT_FIELD(ol, 0),
	PIT_BOOL(count_latched),
	PIT_FIELD(status, 0),
	PIT_BOOL(status_latched),
	PIT_BOOL(gate),
	PIT_BOOL(have_count),
	PIT_BOOL(null_count),
	PIT_BOOL(loaded),
	PIT_BOOL(running),
	PIT_BOOL(load_low),
	PIT_FIELD(load_at, 0),
	PIT_FIELD(n, 0),
	PIT_FIELD(base, 0),
	PIT_FIELD(val, 0),
};

#define PIT_NR_FIELDS (sizeof(pit_counter_fields) / sizeof(pit_counter_fields[0]))
#define PIT_NO_DEADLINE UINT64_MAX

static const char *const pit_counter_prefix[I8254_NR_COUNTERS] = { "c0.", "c1.", "c2." };

static int pit_dev_save(void *state, struct vmm_state_out *out)
{
	struct i8254_dev *d = state;
	const struct vmm_host *h = d->h;
	int64_t event = d->pit.event[0];
	int rc = vmm_state_put_u8(h, out, "emulated", !d->kernel);

	if (rc || d->kernel)
		return rc;
	rc = vmm_state_put_u8(h, out, "speaker", d->pit.s.speaker);
	for (unsigned i = 0; !rc && i < I8254_NR_COUNTERS; i++)
		rc = state_fields_save(h, out, pit_counter_prefix[i], pit_counter_fields,
				       PIT_NR_FIELDS, &d->pit.s.c[i]);
	if (!rc)
		rc = vmm_state_put_u8(h, out, "c0.out", d->pit.out_level[0] == 1);
	if (!rc)
		rc = vmm_state_put_u64(h, out, "c0.deadline_ns",
				       event >= 0 ? i8254_tick_to_ns(event) : PIT_NO_DEADLINE);
	return rc;
}

static int pit_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct i8254_dev *d = state;
	const struct vmm_host *h = d->h;
	struct i8254_state s = { .version = I8254_STATE_VERSION };
	int out_level[I8254_NR_COUNTERS] = { 0 };
	int64_t event[I8254_NR_COUNTERS] = { -1, -1, -1 };
	int64_t now = i8254_ns_to_tick(h->clock_ns(h));
	uint8_t emulated, speaker, out0;
	uint64_t deadline;
	const char *bad;
	int rc;

	rc = state_version_check(h, version, 1);
	if (!rc)
		rc = state_field_get(h, in, "emulated", &emulated, 1);
	if (rc)
		return rc;
	if (emulated != !d->kernel)
		return state_field_refuse(h, "emulated", d->kernel
					  ? "the record is an emulated PIT's; this one is the hypervisor's"
					  : "the record holds no PIT state (saved in mode=kernel)");
	if (d->kernel)
		return 0;
	rc = state_field_get(h, in, "speaker", &speaker, 1);
	if (!rc && speaker > 1)
		rc = state_field_refuse(h, "speaker", "not 0 or 1");
	for (unsigned i = 0; !rc && i < I8254_NR_COUNTERS; i++)
		rc = state_fields_load(h, in, pit_counter_prefix[i], pit_counter_fields,
				       PIT_NR_FIELDS, &s.c[i]);
	if (!rc)
		rc = state_field_get(h, in, "c0.out", &out0, 1);
	if (!rc && out0 > 1)
		rc = state_field_refuse(h, "c0.out", "not 0 or 1");
	if (!rc)
		rc = state_field_get_u64(h, in, "c0.deadline_ns", &deadline);
	if (rc)
		return rc;
	s.speaker = speaker;
	bad = i8254_state_check(&s, now);
	if (bad)
		return state_field_refuse(h, bad, "out of the range the counter can reach");
	out_level[0] = out0;
	if (deadline != PIT_NO_DEADLINE) {
		/* Due at most a count and a load ahead; any time past is a
		 * late timer the restored machine runs at once. */
		if (deadline > i8254_tick_to_ns(now + 2 * 65537))
			return state_field_refuse(h, "c0.deadline_ns", "further ahead than a count");
		event[0] = i8254_ns_to_tick(deadline);
	}
	i8254_restore(&d->pit, &s, out_level, event);
	return 0;
}

static const struct vmm_device_ops pit_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = pit_dev_create,
	.destroy = pit_dev_destroy,
	.reset = pit_dev_reset,
	.state_version = 1,
	.save = pit_dev_save,
	.load = pit_dev_load,
};

static const char *const pit_dev_modes[] = { "auto", "emulated", "kernel", NULL };

static const struct vmm_prop_desc pit_dev_props[] = {
	{ .name = "irq", .type = VMM_PROP_INT, .def_int = 0, .min = 0, .max = 255,
	  .help = "interrupt line counter 0's OUT drives (ISA IRQ 0)" },
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "auto", .choices = pit_dev_modes,
	  .help = "auto: in the kernel when irqchip = kernel; emulated: here; kernel: in the hypervisor" },
	{ .name = NULL },
};

static const struct vmm_plugin i8254_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "i8254",
	.version = "1.0",
	.summary = "8254 programmable interval timer (ports 0x40-0x43) and port 0x61",
	.props = pit_dev_props,
	.ops = &pit_dev_ops,
};

VMM_PLUGIN_DEFINE(i8254_plugin)
