/* SPDX-License-Identifier: MIT */
/*
 * ticker.c - the example device plugin of vmm-plugin(7): a periodic tick
 * counter on four I/O ports, built outside vmm's source tree with
 *   cc $(pkg-config --cflags vmm-plugin) -shared -o ticker.so ticker.c
 *
 * Registers, one byte each at base + offset:
 *   0 CTRL    read/write  bit 0: run.  Writing it 1 starts a tick every
 *                         PERIOD ms of virtual time; 0 stops them.
 *   1 PERIOD  read/write  milliseconds between ticks, 1..255 (0 reads as 1).
 *   2 STATUS  read        bit 0: a tick happened since the last clear.
 *             write       1 to bit 0 clears it (write-one-to-clear).
 *   3 COUNT   read        ticks so far, modulo 256; writes are ignored.
 * The interrupt line `irq` is level-triggered: high while STATUS bit 0 is.
 *
 * Everything a device needs comes through the host table `h`; the plugin
 * calls no vmm symbol, so the same .so runs under vmmctl and the harness.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <vmm/device.h>

enum { CTRL = 0, PERIOD = 1, STATUS = 2, COUNT = 3, NREGS = 4 };
#define CTRL_RUN 0x01u
#define STATUS_TICK 0x01u
#define NS_PER_MS 1000000ull

struct ticker {
	const struct vmm_host *h;
	struct vmm_irq_line *irq;
	struct vmm_timer *timer;
	uint64_t base;
	uint64_t next_ns; /* the next tick's deadline while running */
	uint8_t ctrl, period, status, count;
};

/* The line follows STATUS: a level-triggered device never pulses. */
static void update_irq(struct ticker *t)
{
	t->h->irq_set(t->h, t->irq, (t->status & STATUS_TICK) != 0);
}

static uint64_t period_ns(const struct ticker *t)
{
	return (t->period ? t->period : 1) * NS_PER_MS;
}

/* Runs on the main loop, under this instance's lock (the core never calls
 * two of our callbacks at once). */
static void tick(void *opaque)
{
	struct ticker *t = opaque;

	t->count++;
	t->status |= STATUS_TICK;
	update_irq(t);
	/* From the deadline, not from now: a late callback does not make
	 * the ticks drift. */
	t->next_ns += period_ns(t);
	t->h->timer_arm(t->h, t->timer, t->next_ns);
}

static int ticker_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	struct ticker *t = opaque;

	(void)vcpu;
	(void)len; /* always 1: the region accepts VMM_ACCESS_1 only */
	switch (offset) {
	case CTRL: *value = t->ctrl; break;
	case PERIOD: *value = t->period ? t->period : 1; break;
	case STATUS: *value = t->status; break;
	case COUNT: *value = t->count; break;
	default: return -EINVAL; /* never: the bus checks the offset */
	}
	return 0;
}

static int ticker_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct ticker *t = opaque;
	const struct vmm_host *h = t->h;

	(void)vcpu;
	(void)len;
	switch (offset) {
	case CTRL:
		if ((value & CTRL_RUN) && !(t->ctrl & CTRL_RUN)) {
			t->next_ns = h->clock_ns(h) + period_ns(t);
			h->timer_arm(h, t->timer, t->next_ns);
		} else if (!(value & CTRL_RUN)) {
			h->timer_cancel(h, t->timer);
		}
		t->ctrl = (uint8_t)(value & CTRL_RUN);
		break;
	case PERIOD:
		t->period = (uint8_t)value;
		break;
	case STATUS:
		t->status &= (uint8_t)~(value & STATUS_TICK);
		update_irq(t);
		break;
	case COUNT:
		/* A guest error, not ours: logged (rate-limited) and counted. */
		h->log(h, VMM_LOG_GUEST_ERROR, "write of 0x%02x to the read-only COUNT",
		       (unsigned)value & 0xff);
		break;
	}
	return 0;
}

static const struct vmm_region_ops ticker_region = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = ticker_read,
	.write = ticker_write,
};

static void ticker_reset(void *state)
{
	struct ticker *t = state;

	t->h->timer_cancel(t->h, t->timer);
	t->ctrl = 0;
	t->period = 10;
	t->status = 0;
	t->count = 0;
	update_irq(t);
}

static void ticker_destroy(void *state)
{
	struct ticker *t = state;

	if (!t)
		return;
	if (t->timer)
		t->h->timer_free(t->h, t->timer);
	/* Regions are unmapped by the core after destroy(). */
	free(t);
}

static int ticker_create(const struct vmm_host *h, void **state)
{
	struct ticker *t = calloc(1, sizeof(*t));
	int64_t base, irq;
	int rc;

	if (!t)
		return -ENOMEM;
	t->h = h;
	/* Validated against the schema before create() runs: present and
	 * in range, so these cannot fail for a schema property. */
	h->prop_int(h, "base", &base);
	h->prop_int(h, "irq", &irq);
	t->base = (uint64_t)base;
	t->irq = h->irq_line(h, (uint32_t)irq);
	t->timer = h->timer_new(h, tick, t);
	if (!t->irq || !t->timer) {
		h->log(h, VMM_LOG_ERROR, "out of memory");
		ticker_destroy(t);
		return -ENOMEM;
	}
	rc = h->bus_map(h, VMM_BUS_PIO, t->base, NREGS, &ticker_region, t);
	if (rc) {
		ticker_destroy(t); /* bus_map logged the overlap */
		return rc;
	}
	/* In the ACPI tables as a device with its ports and its level line;
	 * vmm_describe() is a no-op on a host older than ABI 1.1. */
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = t->base, .len = NREGS },
		{ .type = VMM_RES_IRQ, .base = (uint64_t)irq, .flags = VMM_RES_IRQ_LEVEL },
	};
	const struct vmm_device_desc desc = {
		.size = sizeof(desc),
		.kind = VMM_DESC_DEVICE,
		.acpi_hid = "VMMT0001",
		.res = res,
		.nres = 2,
	};
	rc = vmm_describe(h, &desc);
	if (rc) {
		ticker_destroy(t);
		return rc;
	}
	ticker_reset(t);
	*state = t;
	return 0;
}

static const struct vmm_device_ops ticker_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = ticker_create,
	.destroy = ticker_destroy,
	.reset = ticker_reset,
};

static const struct vmm_prop_desc ticker_props[] = {
	{ .name = "base", .type = VMM_PROP_INT, .def_int = 0x520, .min = 0, .max = 0xfffc,
	  .help = "first of the four I/O ports" },
	{ .name = "irq", .type = VMM_PROP_INT, .def_int = 5, .min = 0, .max = 23,
	  .help = "interrupt line, level-triggered" },
	{ .name = NULL },
};

static const struct vmm_plugin ticker_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "ticker", /* so the file is ticker.so */
	.version = "1.0",
	.summary = "example: a tick counter on the virtual clock (vmm-plugin(7))",
	.props = ticker_props,
	.ops = &ticker_ops,
};

VMM_PLUGIN_DEFINE(ticker_plugin)
