/* sdk-example: a third-party device plugin, built outside the source tree
 * with nothing but `pkg-config --cflags vmm-plugin` (see tests/sdk/sdk-test.sh).
 *
 * One port: a write stores a byte, a read returns it inverted, so a guest
 * can prove the plugin is really on its bus.
 */
#include <errno.h>
#include <stdlib.h>
#include <vmm/vmm.h>

struct sdk_example {
	uint8_t value;
};

static int ex_read(void *opaque, unsigned vcpu, uint64_t off, unsigned len, uint64_t *v)
{
	*v = (uint8_t)~((struct sdk_example *)opaque)->value;
	return 0;
}

static int ex_write(void *opaque, unsigned vcpu, uint64_t off, unsigned len, uint64_t v)
{
	((struct sdk_example *)opaque)->value = (uint8_t)v;
	return 0;
}

static const struct vmm_region_ops ex_region = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1,
	.read = ex_read,
	.write = ex_write,
};

static int ex_create(const struct vmm_host *h, void **state)
{
	int64_t port;
	struct sdk_example *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	h->prop_int(h, "port", &port);
	int rc = h->bus_map(h, VMM_BUS_PIO, (uint64_t)port, 1, &ex_region, e);
	if (rc) {
		free(e);
		return rc;
	}
	*state = e;
	return 0;
}

static void ex_destroy(void *state)
{
	free(state);
}

static const struct vmm_device_ops ex_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = ex_create,
	.destroy = ex_destroy,
};

static const struct vmm_prop_desc ex_props[] = {
	{ .name = "port", .type = VMM_PROP_INT, .def_int = 0x510, .min = 0, .max = 0xffff,
	  .help = "the I/O port" },
	{ .name = NULL },
};

static const struct vmm_plugin ex_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "sdk-example",
	.version = "0.1",
	.summary = "out-of-tree example device: reads return the last write inverted",
	.props = ex_props,
	.ops = &ex_ops,
};

VMM_PLUGIN_DEFINE(ex_plugin)
