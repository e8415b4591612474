/* debug-exit: a port that ends the VM, compatible with QEMU's isa-debug-exit.
 *
 * Writing v ends vmmctl with status (v << 1) | 1, so a guest can report
 * success or failure to a test without any other device.  Because that
 * status is always odd, `zero-is-success` lets a machine map a write of 0 to
 * status 0, which the default machine uses so that its demo guest exits 0.
 * An exit status has 8 bits, and vmmctl keeps the even ones and 128 and up
 * for itself (vmmctl(1)), so v is capped at 63: any larger value gives 127,
 * and its exact value is logged.  QEMU would wrap it (0x80 gives 1, a pass).
 */
#include <errno.h>
#include <stdlib.h>
#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"

struct debug_exit {
	const struct vmm_host *h;
	bool zero_is_success;
};

static int debug_exit_read(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value)
{
	*value = 0;
	return 0;
}

static int debug_exit_write(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value)
{
	struct debug_exit *d = opaque;
	int status = (int)(((value < 63 ? value : 63) << 1) | 1);

	if (value == 0 && d->zero_is_success)
		status = 0;
	if (value >= 63)
		d->h->log(d->h, VMM_LOG_WARN, "the guest wrote 0x%llx: exit status 127 (the values from "
			  "63 up all give 127)", (unsigned long long)value);
	d->h->machine_stop(d->h, VMM_STOP_EXIT, status);
	return 0;
}

static const struct vmm_region_ops debug_exit_region = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1 | VMM_ACCESS_2 | VMM_ACCESS_4,
	.read = debug_exit_read,
	.write = debug_exit_write,
};

static int debug_exit_create(const struct vmm_host *h, void **state)
{
	int64_t base, size;
	struct debug_exit *d = calloc(1, sizeof(*d));
	int rc;

	if (!d)
		return -ENOMEM;
	d->h = h;
	h->prop_int(h, "iobase", &base);
	h->prop_int(h, "iosize", &size);
	h->prop_bool(h, "zero-is-success", &d->zero_is_success);
	rc = h->bus_map(h, VMM_BUS_PIO, (uint64_t)base, (uint64_t)size, &debug_exit_region, d);
	if (rc) {
		free(d);
		return rc;
	}
	*state = d;
	return 0;
}

static void debug_exit_destroy(void *state)
{
	free(state);
}

/* Saved state, version 1: none.  The port keeps nothing between writes
 * (its only property comes from the config), so the record is empty; load
 * still checks the version, so a newer plugin's record is refused. */
static int debug_exit_save(void *state, struct vmm_state_out *out)
{
	return 0;
}

static int debug_exit_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct debug_exit *d = state;

	return state_version_check(d->h, version, 1);
}

static const struct vmm_device_ops debug_exit_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = debug_exit_create,
	.destroy = debug_exit_destroy,
	.state_version = 1,
	.save = debug_exit_save,
	.load = debug_exit_load,
};

static const struct vmm_prop_desc debug_exit_props[] = {
	{ .name = "iobase", .type = VMM_PROP_INT, .def_int = 0xf4, .min = 0, .max = 0xffff,
	  .help = "first I/O port" },
	{ .name = "iosize", .type = VMM_PROP_INT, .def_int = 4, .min = 1, .max = 16,
	  .help = "number of ports; a write to any of them ends the VM" },
	{ .name = "zero-is-success", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "a write of 0 ends vmmctl with status 0 instead of 1" },
	{ .name = NULL },
};

static const struct vmm_plugin debug_exit_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "debug-exit",
	.version = "1.0",
	.summary = "ends the VM with a status the guest writes (QEMU isa-debug-exit compatible)",
	.props = debug_exit_props,
	.ops = &debug_exit_ops,
};

VMM_PLUGIN_DEFINE(debug_exit_plugin)
