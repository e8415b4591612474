/* SPDX-License-Identifier: MIT */
/*
 * devices/i8042/i8042-plugin.c - the 8042 keyboard controller on the PC
 * I/O bus.
 *
 * Glue only: properties, ports 0x60 and 0x64 (0x61-0x63 belong to others),
 * the keyboard and aux IRQ lines, and the CPU reset line turned into a
 * machine stop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"
#include "i8042.h"

#define I8042_DEV_DATA_PORT 0x60
#define I8042_DEV_CMD_PORT  0x64

struct i8042_dev {
	struct i8042 kbc;
	const struct vmm_host *h;
	struct vmm_irq_line *irq[2];
	enum vmm_stop_reason reset_reason;
	bool data_mapped, cmd_mapped;
};

static void i8042_dev_set_irq(void *opaque, enum i8042_channel ch, int level)
{
	struct i8042_dev *d = opaque;

	d->h->irq_set(d->h, d->irq[ch], level);
}

static void i8042_dev_reset_request(void *opaque)
{
	struct i8042_dev *d = opaque;

	/* The core ends the run or restarts the machine as configured. */
	d->h->machine_stop(d->h, d->reset_reason, 0);
}

static const struct i8042_ops i8042_dev_model_ops = {
	.set_irq = i8042_dev_set_irq,
	.reset_request = i8042_dev_reset_request,
};

static int i8042_dev_read(struct i8042_dev *d, unsigned offset, uint64_t *value)
{
	*value = i8042_read(&d->kbc, offset);
	return 0;
}

static int i8042_dev_write(struct i8042_dev *d, unsigned offset, uint8_t value)
{
	if (!i8042_write(&d->kbc, offset, value))
		d->h->log(d->h, VMM_LOG_GUEST_ERROR, "unknown controller command 0x%02x", value);
	return 0;
}

static int i8042_dev_data_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			       uint64_t *value)
{
	return i8042_dev_read(opaque, I8042_DATA, value);
}

static int i8042_dev_data_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
				uint64_t value)
{
	return i8042_dev_write(opaque, I8042_DATA, (uint8_t)value);
}

static int i8042_dev_cmd_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			      uint64_t *value)
{
	return i8042_dev_read(opaque, I8042_COMMAND, value);
}

static int i8042_dev_cmd_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len,
			       uint64_t value)
{
	return i8042_dev_write(opaque, I8042_COMMAND, (uint8_t)value);
}

static const struct vmm_region_ops i8042_dev_data_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = i8042_dev_data_read,
	.write = i8042_dev_data_write,
};

static const struct vmm_region_ops i8042_dev_cmd_ops = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = i8042_dev_cmd_read,
	.write = i8042_dev_cmd_write,
};

static void i8042_dev_destroy(void *state)
{
	struct i8042_dev *d = state;

	if (d->cmd_mapped)
		d->h->bus_unmap(d->h, VMM_BUS_PIO, I8042_DEV_CMD_PORT);
	if (d->data_mapped)
		d->h->bus_unmap(d->h, VMM_BUS_PIO, I8042_DEV_DATA_PORT);
	free(d);
}

static int i8042_dev_create(const struct vmm_host *h, void **state)
{
	struct i8042_dev *d;
	int64_t irq[2];
	const char *reset;
	int rc;

	/* The schema gives defaults and ranges: these cannot fail. */
	if (h->prop_int(h, "irq", &irq[I8042_KBD]) || h->prop_int(h, "aux_irq", &irq[I8042_AUX]))
		return -EINVAL;
	reset = h->prop_str(h, "reset");

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->h = h;
	d->reset_reason = reset && !strcmp(reset, "poweroff") ? VMM_STOP_POWEROFF : VMM_STOP_RESET;
	i8042_init(&d->kbc, &i8042_dev_model_ops, d);

	for (int ch = 0; ch < 2; ch++) {
		d->irq[ch] = h->irq_line(h, (uint32_t)irq[ch]);
		if (!d->irq[ch]) {
			h->log(h, VMM_LOG_ERROR, "cannot get IRQ line %lld", (long long)irq[ch]);
			rc = -ENODEV;
			goto out_destroy;
		}
	}
	rc = h->bus_map(h, VMM_BUS_PIO, I8042_DEV_DATA_PORT, 1, &i8042_dev_data_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map port 0x60");
		goto out_destroy;
	}
	d->data_mapped = true;
	rc = h->bus_map(h, VMM_BUS_PIO, I8042_DEV_CMD_PORT, 1, &i8042_dev_cmd_ops, d);
	if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot map port 0x64");
		goto out_destroy;
	}
	d->cmd_mapped = true;
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = I8042_DEV_DATA_PORT, .len = 1 },
		{ .type = VMM_RES_IO, .base = I8042_DEV_CMD_PORT, .len = 1 },
		{ .type = VMM_RES_IRQ, .base = (uint64_t)irq[0] },
	};
	const struct vmm_device_desc desc = { .size = sizeof(desc), .kind = VMM_DESC_I8042,
					      .acpi_hid = "PNP0303", .res = res, .nres = 3 };
	rc = vmm_describe(h, &desc);
	if (rc)
		goto out_destroy;
	*state = d;
	return 0;

out_destroy:
	i8042_dev_destroy(d);
	return rc;
}

static void i8042_dev_reset(void *state)
{
	struct i8042_dev *d = state;

	i8042_reset(&d->kbc);
}

/*
 * Saved state, version 1: every member of struct i8042_state: the command
 * byte, output port, the controller command and keyboard command waiting
 * for their data byte, scanning, and the output buffer with the bytes
 * queued behind it as its ring ("queue", "queue_src": 16 bytes each,
 * "head", "count"; the byte at head stays readable when the queue is
 * empty, as the chip's output buffer does).  The IRQ lines follow from
 * the buffer and the command byte, and load drives them again.
 */
#define KBC_FIELD(m, max) STATE_FIELD(struct i8042_state, m, #m, max)

static const struct state_field i8042_fields[] = {
	KBC_FIELD(status_cmd, 0),
	KBC_FIELD(cb, 0),
	KBC_FIELD(outport, 0),
	KBC_FIELD(pending_cmd, 0),
	KBC_FIELD(kbd_pending, 0),
	STATE_BOOL(struct i8042_state, kbd_scanning, "kbd_scanning"),
	KBC_FIELD(head, 0),
	KBC_FIELD(count, 0),
};

static int i8042_dev_save(void *state, struct vmm_state_out *out)
{
	struct i8042_dev *d = state;
	const struct vmm_host *h = d->h;
	int rc = state_fields_save(h, out, NULL, i8042_fields,
				   sizeof(i8042_fields) / sizeof(i8042_fields[0]), &d->kbc.s);

	if (!rc)
		rc = vmm_state_put(h, out, "queue", d->kbc.s.queue, sizeof(d->kbc.s.queue));
	if (!rc)
		rc = vmm_state_put(h, out, "queue_src", d->kbc.s.queue_src,
				   sizeof(d->kbc.s.queue_src));
	return rc;
}

static int i8042_dev_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct i8042_dev *d = state;
	const struct vmm_host *h = d->h;
	struct i8042_state s = { .version = I8042_STATE_VERSION };
	const char *bad;
	int rc;

	rc = state_version_check(h, version, 1);
	if (!rc)
		rc = state_fields_load(h, in, NULL, i8042_fields,
				       sizeof(i8042_fields) / sizeof(i8042_fields[0]), &s);
	if (!rc)
		rc = state_field_get(h, in, "queue", s.queue, sizeof(s.queue));
	if (!rc)
		rc = state_field_get(h, in, "queue_src", s.queue_src, sizeof(s.queue_src));
	if (rc)
		return rc;
	bad = i8042_state_check(&s);
	if (bad)
		return state_field_refuse(h, bad, "not a state the controller can be in");
	i8042_restore(&d->kbc, &s);
	return 0;
}

static const struct vmm_device_ops i8042_dev_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = i8042_dev_create,
	.destroy = i8042_dev_destroy,
	.reset = i8042_dev_reset,
	.state_version = 1,
	.save = i8042_dev_save,
	.load = i8042_dev_load,
};

static const char *const i8042_dev_reset_choices[] = { "stop", "poweroff", NULL };

static const struct vmm_prop_desc i8042_dev_props[] = {
	{ .name = "irq", .type = VMM_PROP_INT, .def_int = 1, .min = 0, .max = 255,
	  .help = "keyboard interrupt line (1 on a PC)" },
	{ .name = "aux_irq", .type = VMM_PROP_INT, .def_int = 12, .min = 0, .max = 255,
	  .help = "auxiliary (mouse) interrupt line (12 on a PC)" },
	{ .name = "reset", .type = VMM_PROP_ENUM, .def_str = "stop",
	  .choices = i8042_dev_reset_choices,
	  .help = "what a CPU reset through the controller does: stop (reset) or poweroff" },
	{ .name = NULL },
};

static const struct vmm_plugin i8042_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "i8042",
	.version = "1.0",
	.summary = "8042 keyboard controller on ports 0x60/0x64, with CPU reset",
	.props = i8042_dev_props,
	.ops = &i8042_dev_ops,
};

VMM_PLUGIN_DEFINE(i8042_plugin)
