/* tests/harness/harness.c - a fake host for plugin unit tests.
 *
 * Everything a device can observe through struct vmm_host is modelled here
 * with plain data structures and no threads: buses are short lists, the
 * clock only moves when a test steps it, and the character backend is a
 * buffer.  The rules the core enforces (access sizes, overlap, flow control)
 * are enforced the same way here, so a device that passes its unit tests
 * does not meet new rules under vmmctl.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <vmm/vmm.h>
#include <vmm/harness.h>
#include "core/block.h"
#include "core/net.h"
#include "core/table.h"
#include "core/state.h"
#include "core/char.h"
#include "core/bus.h"
#include "core/loader.h"
#include "core/props.h"

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define LOG_LEVELS (VMM_LOG_GUEST_ERROR + 1)

/* What h->irq_line() returns: one device's driver on a shared line. */
struct vmm_irq_line {
	struct vmm_irq_line *next;
	struct vmm_harness_dev *owner;
	struct irq_wire *wire;
	int level;
};

struct irq_wire {
	struct irq_wire *next;
	uint32_t line;
	unsigned drivers_high;
	unsigned raises;
	struct vmm_irq_line *test_driver; /* vmm_harness_irq_drive() */
};

/* An interrupt controller plugin receiving lines [first, first + count). */
struct irq_sink {
	struct irq_sink *next;
	struct vmm_harness_dev *owner;
	uint32_t first, count;
	const struct vmm_irq_controller_ops *ops;
	void *opaque;
};

#define HARNESS_MAX_VCPUS 8
#define HARNESS_MAX_MSIS 256

struct vmm_timer {
	struct vmm_timer *next;
	struct vmm_harness_dev *owner;
	void (*cb)(void *opaque);
	void *opaque;
	bool armed;
	uint64_t deadline;
	uint64_t seq; /* arm order, to break deadline ties */
};

struct vmm_watch {
	struct vmm_watch *next;
	struct vmm_harness_dev *owner;
	int fd;
	unsigned events;
	void (*cb)(void *opaque, int fd, unsigned events);
	void *opaque;
};

/* A write notification (what an ioeventfd is under vmmctl). */
struct vmm_notify {
	struct vmm_notify *next;
	struct vmm_harness_dev *owner;
	enum vmm_bus bus;
	uint64_t addr, data;
	unsigned len;
	bool match;
	void (*cb)(void *opaque);
	void *opaque;
};

/* The fake character backend: capture output, queue input.  A device may
 * open several (one per string property); they are kept in opening order. */
struct vmm_char {
	struct vmm_char *next;
	char *prop;        /* the property it was opened by */
	const struct vmm_char_client *client;
	void *opaque;
	char *out;
	size_t out_len, out_cap;
	uint8_t *in;
	size_t in_len, in_cap;
	bool stalled;      /* can_receive() said 0; wait for char_input_ready() */
	bool ready_posted; /* char_input_ready() called, delivery deferred */
	bool connected;    /* what the device was told (ABI 1.4) */
};

struct vmm_harness_dev {
	struct vmm_host host; /* handed to the plugin; container_of() finds us */
	struct vmm_harness_dev *next;
	struct vmm_harness *h;
	char *name;
	const struct vmm_loaded_plugin *plugin; /* in h->plugins */
	const struct vmm_device_ops *ops;
	struct vmm_propset *props;
	void *state;
	bool created;
	struct vmm_char *chr;        /* the character backends it opened, first first */
	struct vmm_block *blk;       /* the block backend this device opened */
	struct vmm_net *net;         /* the net backend this device opened */
	struct vmm_bus_owner owner; /* names the device in bus errors */
};

/* A block or net backend instance added with vmm_harness_add_backend()
 * or vmm_harness_add_net_fake(). */
struct harness_backend {
	struct harness_backend *next;
	struct vmm_harness_dev *inst; /* its host table, properties and plugin */
	uint32_t type;                /* enum vmm_backend_type */
	const struct vmm_block_backend_ops *ops;
	const struct vmm_net_backend_ops *net_ops;
	struct vmm_block *user;
	struct vmm_net *net_user;
	struct net_fake *fake;        /* a fake net backend: its state */
	bool link_down;               /* net: what the backend (or the test) said last */
	const struct vmm_char_backend_ops *char_ops; /* char: no device uses it here */
	bool char_down;               /* char: char_connected(false) said last */
};

/* The fake net backend: frames the device sent, offloads it set. */
#define NET_FAKE_MAX_FRAMES 1024
struct net_fake {
	struct vmm_net_info info;
	struct { uint8_t *data; size_t len; } sent[NET_FAKE_MAX_FRAMES];
	size_t nsent;
	uint32_t offloads;
	unsigned resumes;
};

struct vmm_net {
	struct harness_backend *be;
	struct vmm_harness_dev *dev;
	const struct vmm_net_client *client;
	void *opaque;
	struct vmm_net_info info;
	bool paused;       /* input refused; waiting for net_input_ready() */
	bool ready_posted; /* net_input_ready() called, resume deferred */
	bool link_up;      /* what the device was told */
};

struct vmm_block {
	struct harness_backend *be;
	struct vmm_block_info info;
};

struct vmm_harness {
	/* The plugins loaded, as vmmctl keeps them: one set, by the core's
	 * loader, each file once, unloaded when the harness is freed. */
	struct vmm_plugin_set *plugins;
	struct vmm_harness_dev *devs; /* newest first */
	struct harness_backend *backends;
	/* The core's own buses: the same rules under test as under vmmctl. */
	struct vmm_bus_space bus[VMM_BUS_COUNT];
	struct irq_wire *wires;
	struct vmm_irq_line *lines;
	struct irq_sink *sinks;
	enum vmm_irq_mode irq_mode;
	int cpu_intr[HARNESS_MAX_VCPUS];
	struct vmm_harness_dev *cpu_intr_owner[HARNESS_MAX_VCPUS];
	/* ABI 1.8: the vCPU count devices are told, the vCPU the next bus
	 * accesses come from, and the IRQ/FIQ levels given by cpu_irq_line. */
	unsigned nvcpus, vcpu;
	int cpu_line[HARNESS_MAX_VCPUS][2];
	unsigned cpu_line_calls;
	struct { uint64_t addr; uint32_t data; bool routed; } msis[HARNESS_MAX_MSIS];
	size_t nmsis;
	/* msi_route (ABI 1.5): what each IOAPIC pin said it sends. */
	struct { uint64_t addr; uint32_t data; bool valid; } msi_routes[VMM_HARNESS_MSI_ROUTES];
	unsigned msi_route_calls;
	/* cpuid_set and vcpu_tsc (ABI 1.9) */
	struct vmm_cpuid_leaf cpuid[VMM_HARNESS_CPUID_LEAVES];
	size_t ncpuid;
	uint32_t tsc_khz; /* 0: vcpu_tsc not offered */
	uint64_t tsc_base;
	unsigned accel_mask;
	/* ABI 1.14: a fake of KVM's device API (hv_device_create/attr). */
	struct { uint32_t type; bool initialised; } hv_devs[VMM_HARNESS_HV_DEVS];
	unsigned nhv_devs;
	struct vmm_harness_hv_attr hv_attrs[VMM_HARNESS_HV_ATTRS];
	size_t nhv_attrs;
	/* describe(): copies of every description (res[] included). */
	struct vmm_device_desc descs[VMM_HARNESS_DESCS];
	struct vmm_resource desc_res[VMM_HARNESS_DESCS][VMM_HARNESS_DESC_RES];
	size_t ndescs;
	/* timer_outputs_register (ABI 1.14) */
	const struct vmm_timer_output_ops *timer_ops;
	void *timer_opaque;
	struct vmm_harness_dev *timer_dev;
	/* vcpu_reg_write (ABI 1.14): the last value written per vCPU and id */
	struct { unsigned vcpu; uint64_t id, value; } regs[VMM_HARNESS_REGS];
	size_t nregs;
	bool in_ready;
	uint32_t hv_refuse_type;
	int hv_refuse_type_err;
	uint32_t hv_refuse_group;
	uint64_t hv_refuse_attr;
	int hv_refuse_attr_err;
	struct vmm_timer *timers;
	struct vmm_watch *watches;
	struct vmm_notify *notifies; /* in registration order */
	bool no_notify;              /* vmm_harness_set_notify(h, false) */
	unsigned long notify_delivered;
	unsigned long notify_leaked;   /* left registered when a device went */
	uint8_t *ram;
	size_t ram_size;
	uint64_t now;
	uint64_t arm_seq;
	unsigned long unclaimed;
	unsigned long log_counts[LOG_LEVELS];
	bool stopped;
	int stop_reason, stop_status;
	bool quiet;
	unsigned depth; /* nesting of harness calls into devices */
};

static void dev_release(struct vmm_harness_dev *dev);

static struct vmm_harness_dev *dev_of(const struct vmm_host *host)
{
	return container_of(host, struct vmm_harness_dev, host);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *const level_names[LOG_LEVELS] = {
	[VMM_LOG_ERROR] = "error",
	[VMM_LOG_WARN] = "warning",
	[VMM_LOG_INFO] = "info",
	[VMM_LOG_DEBUG] = "debug",
	[VMM_LOG_GUEST_ERROR] = "guest error",
};

static void dev_vlog(struct vmm_harness_dev *dev, enum vmm_log_level level, const char *fmt, va_list ap)
{
	struct vmm_harness *h = dev->h;
	unsigned idx = (unsigned)level < LOG_LEVELS ? (unsigned)level : VMM_LOG_ERROR;

	h->log_counts[idx]++;
	if (h->quiet)
		return;
	fprintf(stderr, "[%s] %s: ", dev->name, level_names[idx]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void dev_log(struct vmm_harness_dev *dev, enum vmm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void dev_log(struct vmm_harness_dev *dev, enum vmm_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dev_vlog(dev, level, fmt, ap);
	va_end(ap);
}

/* ---- character input delivery ---- */

/*
 * Feed queued input while the device has room.  Runs only when no device
 * callback is on the stack, because the core never re-enters a device
 * from inside one of its own callbacks (it holds the instance lock).
 */
static size_t char_pump(struct vmm_char *c)
{
	size_t taken = 0;

	if (!c || !c->client || c->stalled)
		return 0;
	while (c->in_len) {
		size_t room = c->client->can_receive(c->opaque);

		if (!room) {
			c->stalled = true;
			break;
		}
		if (room > c->in_len)
			room = c->in_len;
		c->client->receive(c->opaque, c->in, room);
		memmove(c->in, c->in + room, c->in_len - room);
		c->in_len -= room;
		taken += room;
	}
	return taken;
}

static void run_deferred(struct vmm_harness *h)
{
	bool again = true;

	/* Delivering input may make a device post another ready. */
	while (again) {
		again = false;
		for (struct vmm_harness_dev *d = h->devs; d; d = d->next) {
			struct vmm_net *n = d->net;

			if (n && n->ready_posted) {
				n->ready_posted = false;
				h->depth++;
				if (vmm_net_has_resume(n->be->net_ops))
					n->be->net_ops->resume_input(n->be->inst->state);
				h->depth--;
				again = true;
			}
			for (struct vmm_char *c = d->chr; c; c = c->next) {
				if (!c->ready_posted)
					continue;
				c->ready_posted = false;
				c->stalled = false;
				h->depth++;
				char_pump(c);
				h->depth--;
				again = true;
			}
		}
	}
}

static void enter(struct vmm_harness *h)
{
	h->depth++;
}

static void leave(struct vmm_harness *h)
{
	if (--h->depth == 0)
		run_deferred(h);
}

/* ---- host services ---- */

static const char *host_instance_name(const struct vmm_host *host)
{
	return dev_of(host)->name;
}

static void host_log(const struct vmm_host *host, enum vmm_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dev_vlog(dev_of(host), level, fmt, ap);
	va_end(ap);
}

static int host_prop_int(const struct vmm_host *host, const char *name, int64_t *out)
{
	return vmm_propset_get_int(dev_of(host)->props, name, out);
}

static int host_prop_bool(const struct vmm_host *host, const char *name, bool *out)
{
	return vmm_propset_get_bool(dev_of(host)->props, name, out);
}

static const char *host_prop_str(const struct vmm_host *host, const char *name)
{
	return vmm_propset_get_str(dev_of(host)->props, name);
}

static int host_bus_map(const struct vmm_host *host, enum vmm_bus bus, uint64_t base, uint64_t len,
			const struct vmm_region_ops *ops, void *opaque)
{
	struct vmm_harness_dev *dev = dev_of(host);
	char err[512];
	int rc;

	if ((unsigned)bus >= VMM_BUS_COUNT) {
		dev_log(dev, VMM_LOG_ERROR, "bus_map: unknown bus %u", (unsigned)bus);
		return -EINVAL;
	}
	rc = vmm_bus_map(&dev->h->bus[bus], base, len, ops, opaque, &dev->owner, err, sizeof(err));
	if (rc)
		dev_log(dev, VMM_LOG_ERROR, "bus_map: %s", err);
	return rc;
}

static int host_bus_unmap(const struct vmm_host *host, enum vmm_bus bus, uint64_t base)
{
	struct vmm_harness_dev *dev = dev_of(host);

	if ((unsigned)bus >= VMM_BUS_COUNT)
		return -EINVAL;
	return vmm_bus_unmap(&dev->h->bus[bus], base, &dev->owner);
}

static struct vmm_irq_line *host_irq_line(const struct vmm_host *host, uint32_t line)
{
	struct vmm_harness_dev *dev = dev_of(host);
	struct vmm_harness *h = dev->h;
	struct irq_wire *w;
	struct vmm_irq_line *l;

	for (l = h->lines; l; l = l->next)
		if (l->owner == dev && l->wire->line == line)
			return l;
	for (w = h->wires; w; w = w->next)
		if (w->line == line)
			break;
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return NULL;
		w->line = line;
		w->next = h->wires;
		h->wires = w;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->owner = dev;
	l->wire = w;
	l->next = h->lines;
	h->lines = l;
	return l;
}

/* The wire's level changed: tell every controller that receives it. */
static void wire_notify(struct vmm_harness *h, struct irq_wire *w, int level)
{
	for (struct irq_sink *k = h->sinks; k; k = k->next)
		if (w->line >= k->first && w->line - k->first < k->count) {
			enter(h);
			k->ops->set_level(k->opaque, w->line, level);
			leave(h);
		}
}

static void line_drive(struct vmm_harness *h, struct vmm_irq_line *l, int level)
{
	level = !!level;
	if (l->level == level)
		return;
	l->level = level;
	if (level) {
		if (l->wire->drivers_high++ == 0) {
			l->wire->raises++;
			wire_notify(h, l->wire, 1);
		}
	} else if (--l->wire->drivers_high == 0) {
		wire_notify(h, l->wire, 0);
	}
}

static void host_irq_set(const struct vmm_host *host, struct vmm_irq_line *line, int level)
{
	if (line)
		line_drive(dev_of(host)->h, line, level);
}

static enum vmm_irq_mode host_irq_mode(const struct vmm_host *host)
{
	return dev_of(host)->h->irq_mode;
}

static int host_irq_controller_register(const struct vmm_host *host, uint32_t first, uint32_t count,
					const struct vmm_irq_controller_ops *ops, void *opaque)
{
	struct vmm_harness_dev *dev = dev_of(host);
	struct irq_sink *k;

	if (dev->h->irq_mode == VMM_IRQ_KERNEL)
		return -EBUSY;
	if (!count || !ops || !ops->set_level ||
	    ops->size < offsetof(struct vmm_irq_controller_ops, set_level) + sizeof(ops->set_level)) {
		dev_log(dev, VMM_LOG_ERROR, "irq_controller_register: bad lines or ops");
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	*k = (struct irq_sink){ .next = dev->h->sinks, .owner = dev, .first = first, .count = count,
				.ops = ops, .opaque = opaque };
	dev->h->sinks = k;
	/* Lines already high are replayed, as the core does. */
	for (struct irq_wire *w = dev->h->wires; w; w = w->next)
		if (w->drivers_high && w->line - first < count)
			ops->set_level(opaque, w->line, 1);
	return 0;
}

static void host_cpu_intr_set(const struct vmm_host *host, unsigned vcpu, int level)
{
	struct vmm_harness_dev *dev = dev_of(host);

	if (vcpu >= HARNESS_MAX_VCPUS)
		return;
	dev->h->cpu_intr[vcpu] = !!level;
	dev->h->cpu_intr_owner[vcpu] = dev;
}

static int host_msi_send(const struct vmm_host *host, uint64_t addr, uint32_t data)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (h->irq_mode == VMM_IRQ_EMULATED)
		return -ENOTSUP;
	if (h->nmsis < HARNESS_MAX_MSIS) {
		h->msis[h->nmsis].addr = addr;
		h->msis[h->nmsis].data = data;
		h->msis[h->nmsis].routed = false;
		for (unsigned i = 0; i < VMM_HARNESS_MSI_ROUTES; i++)
			if (h->msi_routes[i].valid && h->msi_routes[i].addr == addr &&
			    h->msi_routes[i].data == data)
				h->msis[h->nmsis].routed = true;
		h->nmsis++;
	}
	return 0;
}

static unsigned host_vcpu_count(const struct vmm_host *host)
{
	return dev_of(host)->h->nvcpus;
}

/* As KVM/arm64 without an in-kernel GIC: the inputs are held levels. */
static int host_cpu_irq_line(const struct vmm_host *host, unsigned vcpu, enum vmm_cpu_pin pin,
			     int level)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (vcpu >= h->nvcpus || (pin != VMM_CPU_IRQ && pin != VMM_CPU_FIQ))
		return -EINVAL;
	if (h->irq_mode != VMM_IRQ_EMULATED)
		return -ENOTSUP;
	h->cpu_line[vcpu][pin] = !!level;
	h->cpu_line_calls++;
	return 0;
}

static int private_drive(struct vmm_harness *h, unsigned vcpu, uint32_t line, int level)
{
	int rc = -ENODEV;

	if (vcpu >= h->nvcpus)
		return -EINVAL;
	for (struct irq_sink *k = h->sinks; k; k = k->next)
		if (VMM_TABLE_HAS(k->ops->size, k->ops, struct vmm_irq_controller_ops, set_private)) {
			enter(h);
			k->ops->set_private(k->opaque, vcpu, line, !!level);
			leave(h);
			rc = 0;
		}
	return rc;
}

static int host_private_irq_set(const struct vmm_host *host, unsigned vcpu, uint32_t line,
				int level)
{
	return private_drive(dev_of(host)->h, vcpu, line, level);
}

static bool same_cpuid_leaf(const struct vmm_cpuid_leaf *a, const struct vmm_cpuid_leaf *b)
{
	if (a->function != b->function)
		return false;
	return !((a->flags | b->flags) & VMM_CPUID_INDEXED) || a->index == b->index;
}

/* As the core: machine-wide leaves, one device per leaf. */
static int host_cpuid_set(const struct vmm_host *host, const struct vmm_cpuid_leaf *leaves,
			  unsigned n)
{
	struct vmm_harness *h = dev_of(host)->h;

	for (unsigned i = 0; i < n; i++)
		for (size_t j = 0; j < h->ncpuid; j++)
			if (same_cpuid_leaf(&leaves[i], &h->cpuid[j]))
				return -EEXIST;
	if (n > VMM_HARNESS_CPUID_LEAVES - h->ncpuid)
		return -ENOSPC;
	memcpy(h->cpuid + h->ncpuid, leaves, n * sizeof(*leaves));
	h->ncpuid += n;
	return 0;
}

/* A TSC that reads tsc_base at virtual time 0 and runs at tsc_khz. */
static int host_vcpu_tsc(const struct vmm_host *host, unsigned vcpu, uint64_t *tsc, uint64_t *ns,
			 uint32_t *khz)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (vcpu >= HARNESS_MAX_VCPUS)
		return -EINVAL;
	if (!h->tsc_khz)
		return -ENOTSUP;
	*ns = h->now;
	*khz = h->tsc_khz;
	*tsc = h->tsc_base + (uint64_t)((unsigned __int128)h->now * h->tsc_khz / 1000000u);
	return 0;
}

/* As KVM's split irqchip: only there is a route needed. */
static int host_msi_route(const struct vmm_host *host, uint32_t pin, bool valid, uint64_t addr,
			  uint32_t data)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (h->irq_mode != VMM_IRQ_SPLIT)
		return -ENOTSUP;
	if (pin >= VMM_HARNESS_MSI_ROUTES)
		return -EINVAL;
	h->msi_routes[pin].valid = valid;
	h->msi_routes[pin].addr = valid ? addr : 0;
	h->msi_routes[pin].data = valid ? data : 0;
	h->msi_route_calls++;
	return 0;
}

static uint64_t host_ram_size(const struct vmm_host *host)
{
	return dev_of(host)->h->ram_size;
}

static int host_hv_accel(const struct vmm_host *host, enum vmm_accel what)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (h->irq_mode != VMM_IRQ_KERNEL || (unsigned)what >= 32)
		return -ENOTSUP;
	h->accel_mask |= 1u << what;
	return 0;
}

/* ABI 1.14: KVM's device API as far as the GIC and timer plugins use it. */
static int host_hv_device_create(const struct vmm_host *host, uint32_t type)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (h->irq_mode != VMM_IRQ_KERNEL)
		return -ENOTSUP;
	if (h->hv_refuse_type_err && type == h->hv_refuse_type)
		return h->hv_refuse_type_err;
	if (type != VMM_HV_DEV_ARM_VGIC_V2 && type != VMM_HV_DEV_ARM_VGIC_V3)
		return -ENODEV;
	for (unsigned i = 0; i < h->nhv_devs; i++) /* KVM: one vGIC per VM */
		if (h->hv_devs[i].type == VMM_HV_DEV_ARM_VGIC_V2 ||
		    h->hv_devs[i].type == VMM_HV_DEV_ARM_VGIC_V3)
			return -EEXIST;
	if (h->nhv_devs >= VMM_HARNESS_HV_DEVS)
		return -ENOSPC;
	h->hv_devs[h->nhv_devs].type = type;
	h->hv_devs[h->nhv_devs].initialised = false;
	return (int)h->nhv_devs++;
}

/* The value's size for the groups the fake knows (arm-vgic*.rst, vcpu.rst). */
static unsigned hv_attr_size(bool vcpu, uint32_t group)
{
	if (vcpu)
		return group == VMM_HV_VCPU_TIMER_CTRL ? 4 : 0;
	return group == VMM_HV_VGIC_GRP_ADDR ? 8 : group == VMM_HV_VGIC_GRP_NR_IRQS ? 4 : 0;
}

static int host_hv_device_attr(const struct vmm_host *host, int dev, enum vmm_hv_attr_op op,
			       uint32_t group, uint64_t attr, void *val)
{
	struct vmm_harness *h = dev_of(host)->h;
	bool vcpu = dev >= VMM_HV_DEV_VCPU_BASE;
	struct vmm_harness_hv_attr *a;
	unsigned size = hv_attr_size(vcpu, group);

	if (h->irq_mode != VMM_IRQ_KERNEL)
		return -ENOTSUP;
	if (vcpu ? (unsigned)(dev - VMM_HV_DEV_VCPU_BASE) >= h->nvcpus
		 : dev < 0 || (unsigned)dev >= h->nhv_devs)
		return vcpu ? -EINVAL : -EBADF;
	if (h->nhv_attrs >= VMM_HARNESS_HV_ATTRS)
		return -ENOSPC;
	if ((size && !val) || (unsigned)op > VMM_HV_ATTR_HAS)
		return -EFAULT;
	a = &h->hv_attrs[h->nhv_attrs++];
	memset(a, 0, sizeof(*a));
	a->dev = dev;
	a->op = op;
	a->group = group;
	a->attr = attr;
	if (op == VMM_HV_ATTR_SET && size == 8)
		memcpy(&a->value, val, 8);
	else if (op == VMM_HV_ATTR_SET && size == 4) {
		uint32_t v;
		memcpy(&v, val, 4);
		a->value = v;
	}
	if (h->hv_refuse_attr_err && group == h->hv_refuse_group && attr == h->hv_refuse_attr)
		return h->hv_refuse_attr_err;
	if (!vcpu && op == VMM_HV_ATTR_SET) {
		/* KVM: the frames and the INTID count are fixed at CTRL_INIT. */
		if (h->hv_devs[dev].initialised && group != VMM_HV_VGIC_GRP_CTRL)
			return -EBUSY;
		if (group == VMM_HV_VGIC_GRP_CTRL && attr == VMM_HV_VGIC_CTRL_INIT)
			h->hv_devs[dev].initialised = true;
	}
	return 0;
}

static int host_describe(const struct vmm_host *host, const struct vmm_device_desc *d)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (!d || d->size < offsetof(struct vmm_device_desc, century) + sizeof(d->century) ||
	    d->nres > VMM_HARNESS_DESC_RES || (d->nres && !d->res))
		return -EINVAL;
	if (h->ndescs >= VMM_HARNESS_DESCS)
		return -ENOSPC;
	struct vmm_device_desc *c = &h->descs[h->ndescs];
	memcpy(h->desc_res[h->ndescs], d->res, d->nres * sizeof(*d->res));
	*c = *d;
	c->size = sizeof(*c);
	c->res = h->desc_res[h->ndescs];
	c->acpi_hid = NULL;       /* the strings are the device's: not kept */
	c->fdt_compatible = NULL;
	h->ndescs++;
	return 0;
}

size_t vmm_harness_desc_count(struct vmm_harness *h)
{
	return h->ndescs;
}

const struct vmm_device_desc *vmm_harness_desc_at(struct vmm_harness *h, size_t i)
{
	return i < h->ndescs ? &h->descs[i] : NULL;
}

static int host_timer_outputs_register(const struct vmm_host *host,
				       const struct vmm_timer_output_ops *ops, void *opaque)
{
	struct vmm_harness_dev *dev = dev_of(host);
	struct vmm_harness *h = dev->h;

	if (!ops || !VMM_TABLE_HAS(ops->size, ops, struct vmm_timer_output_ops, levels))
		return -EINVAL;
	if (h->timer_ops && h->timer_dev != dev)
		return -EBUSY;
	h->timer_ops = ops;
	h->timer_opaque = opaque;
	h->timer_dev = dev;
	return 0;
}

int vmm_harness_timer_outputs(struct vmm_harness *h, unsigned vcpu, uint32_t levels,
			      uint32_t changed)
{
	if (vcpu >= h->nvcpus)
		return -EINVAL;
	if (!h->timer_ops)
		return -ENODEV;
	enter(h);
	h->timer_ops->levels(h->timer_opaque, vcpu, levels, changed);
	leave(h);
	return 0;
}

static int host_timer_outputs(const struct vmm_host *host, unsigned vcpu, uint32_t levels,
			      uint32_t changed)
{
	return vmm_harness_timer_outputs(dev_of(host)->h, vcpu, levels, changed);
}

static int host_vcpu_reg_write(const struct vmm_host *host, unsigned vcpu, uint64_t id,
			       const void *val)
{
	struct vmm_harness *h = dev_of(host)->h;
	uint64_t v = 0;
	size_t i;

	if (!h->in_ready)
		return -EBUSY;
	if (vcpu >= h->nvcpus || !val || VMM_REG_SIZE(id) > 8)
		return -EINVAL;
	memcpy(&v, val, VMM_REG_SIZE(id));
	for (i = 0; i < h->nregs; i++)
		if (h->regs[i].vcpu == vcpu && h->regs[i].id == id)
			break;
	if (i == h->nregs) {
		if (h->nregs >= VMM_HARNESS_REGS)
			return -ENOSPC;
		h->nregs++;
	}
	h->regs[i].vcpu = vcpu;
	h->regs[i].id = id;
	h->regs[i].value = v;
	return 0;
}

int vmm_harness_vcpu_reg(struct vmm_harness *h, unsigned vcpu, uint64_t id, uint64_t *value)
{
	for (size_t i = 0; i < h->nregs; i++)
		if (h->regs[i].vcpu == vcpu && h->regs[i].id == id) {
			*value = h->regs[i].value;
			return 0;
		}
	return -ENOENT;
}

size_t vmm_harness_hv_attr_count(struct vmm_harness *h)
{
	return h->nhv_attrs;
}

const struct vmm_harness_hv_attr *vmm_harness_hv_attr_at(struct vmm_harness *h, size_t i)
{
	return i < h->nhv_attrs ? &h->hv_attrs[i] : NULL;
}

int vmm_harness_hv_device_type(struct vmm_harness *h, int dev, uint32_t *type, bool *initialised)
{
	if (dev < 0 || (unsigned)dev >= h->nhv_devs)
		return -EBADF;
	*type = h->hv_devs[dev].type;
	*initialised = h->hv_devs[dev].initialised;
	return 0;
}

void vmm_harness_hv_refuse_device(struct vmm_harness *h, uint32_t type, int err)
{
	h->hv_refuse_type = type;
	h->hv_refuse_type_err = err;
}

void vmm_harness_hv_refuse_attr(struct vmm_harness *h, uint32_t group, uint64_t attr, int err)
{
	h->hv_refuse_group = group;
	h->hv_refuse_attr = attr;
	h->hv_refuse_attr_err = err;
}

static bool ram_range_ok(struct vmm_harness *h, uint64_t gpa, size_t len)
{
	return h->ram && gpa <= h->ram_size && len <= h->ram_size - gpa;
}

static int host_mem_read(const struct vmm_host *host, uint64_t gpa, void *buf, size_t len)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (!ram_range_ok(h, gpa, len))
		return -EFAULT;
	memcpy(buf, h->ram + gpa, len);
	return 0;
}

static int host_mem_write(const struct vmm_host *host, uint64_t gpa, const void *buf, size_t len)
{
	struct vmm_harness *h = dev_of(host)->h;

	if (!ram_range_ok(h, gpa, len))
		return -EFAULT;
	memcpy(h->ram + gpa, buf, len);
	return 0;
}

static void *host_mem_map(const struct vmm_host *host, uint64_t gpa, size_t len)
{
	struct vmm_harness *h = dev_of(host)->h;

	return ram_range_ok(h, gpa, len) ? h->ram + gpa : NULL;
}

static uint64_t host_clock_ns(const struct vmm_host *host)
{
	return dev_of(host)->h->now;
}

static struct vmm_timer *host_timer_new(const struct vmm_host *host, void (*cb)(void *opaque), void *opaque)
{
	struct vmm_harness_dev *dev = dev_of(host);
	struct vmm_timer *t;

	if (!cb)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->owner = dev;
	t->cb = cb;
	t->opaque = opaque;
	t->next = dev->h->timers;
	dev->h->timers = t;
	return t;
}

static void host_timer_arm(const struct vmm_host *host, struct vmm_timer *t, uint64_t deadline_ns)
{
	if (!t)
		return;
	t->armed = true;
	t->deadline = deadline_ns;
	t->seq = dev_of(host)->h->arm_seq++;
}

static void host_timer_cancel(const struct vmm_host *host, struct vmm_timer *t)
{
	if (t)
		t->armed = false;
}

static void timer_unlink(struct vmm_harness *h, struct vmm_timer *t)
{
	for (struct vmm_timer **pt = &h->timers; *pt; pt = &(*pt)->next) {
		if (*pt == t) {
			*pt = t->next;
			free(t);
			return;
		}
	}
}

static void host_timer_free(const struct vmm_host *host, struct vmm_timer *t)
{
	if (t)
		timer_unlink(dev_of(host)->h, t);
}

static struct vmm_watch *host_fd_watch(const struct vmm_host *host, int fd, unsigned events,
				       void (*cb)(void *opaque, int fd, unsigned events), void *opaque)
{
	struct vmm_harness_dev *dev = dev_of(host);
	struct vmm_watch *w;

	if (fd < 0 || !cb)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->owner = dev;
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->opaque = opaque;
	w->next = dev->h->watches;
	dev->h->watches = w;
	return w;
}

static void watch_unlink(struct vmm_harness *h, struct vmm_watch *w)
{
	for (struct vmm_watch **pw = &h->watches; *pw; pw = &(*pw)->next) {
		if (*pw == w) {
			*pw = w->next;
			free(w);
			return;
		}
	}
}

static void host_fd_unwatch(const struct vmm_host *host, struct vmm_watch *w)
{
	if (w)
		watch_unlink(dev_of(host)->h, w);
}

static struct vmm_notify *host_notify_register(const struct vmm_host *host, enum vmm_bus bus,
					       uint64_t addr, unsigned len, bool match,
					       uint64_t data, void (*cb)(void *opaque), void *opaque)
{
	struct vmm_harness_dev *dev = dev_of(host);
	struct vmm_notify *n, **pn;

	if (dev->h->no_notify || !cb || (bus != VMM_BUS_PIO && bus != VMM_BUS_MMIO) ||
	    (len != 1 && len != 2 && len != 4 && len != 8))
		return NULL;
	/* As the core: only inside a region of the device's own. */
	const struct vmm_bus_region *r = vmm_bus_find(&dev->h->bus[bus], addr);
	if (!r || r->owner != &dev->owner || addr + len - 1 > r->base + r->len - 1) {
		dev_log(dev, VMM_LOG_ERROR, "notify_register: 0x%llx/%u is not in this device's region",
			(unsigned long long)addr, len);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->owner = dev;
	n->bus = bus;
	n->addr = addr;
	n->len = len;
	n->match = match;
	n->data = len == 8 ? data : data & ((1ull << (8 * len)) - 1);
	n->cb = cb;
	n->opaque = opaque;
	for (pn = &dev->h->notifies; *pn; pn = &(*pn)->next)
		;
	*pn = n;
	return n;
}

static void host_notify_unregister(const struct vmm_host *host, struct vmm_notify *n)
{
	struct vmm_harness *h = dev_of(host)->h;

	for (struct vmm_notify **pn = &h->notifies; *pn; pn = &(*pn)->next) {
		if (*pn == n) {
			*pn = n->next;
			free(n);
			return;
		}
	}
}

static struct vmm_char *host_char_open(const struct vmm_host *host, const char *prop,
				       const struct vmm_char_client *client, void *opaque)
{
	struct vmm_harness_dev *dev = dev_of(host);
	const struct vmm_prop_desc *d = vmm_prop_find(dev->plugin->desc->props, prop);
	struct vmm_char *c, **tail = &dev->chr;

	/* The harness connects every backend name to its capture buffer, but
	 * the property must exist so a typo fails here as it would in vmmctl. */
	if (!d || d->type != VMM_PROP_STRING || !vmm_propset_get_str(dev->props, prop)) {
		dev_log(dev, VMM_LOG_ERROR, "char_open: '%s' is not a set string property",
			prop ? prop : "(null)");
		return NULL;
	}
	for (; *tail; tail = &(*tail)->next)
		if (strcmp((*tail)->prop, prop) == 0) {
			dev_log(dev, VMM_LOG_ERROR, "char_open: '%s' is open already", prop);
			return NULL;
		}
	if (client && (client->size < offsetof(struct vmm_char_client, receive) + sizeof(client->receive) ||
		       !client->can_receive || !client->receive)) {
		dev_log(dev, VMM_LOG_ERROR, "char_open: incomplete vmm_char_client");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->prop = strdup(prop))) {
		free(c);
		return NULL;
	}
	c->client = client;
	c->opaque = opaque;
	c->connected = true; /* the capture is connected until a test says not */
	*tail = c;
	return c;
}

static bool host_char_is_connected(const struct vmm_host *host, struct vmm_char *c)
{
	return !c || c->connected;
}

static int grow(void **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 64;
	void *n;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*buf, ncap);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = ncap;
	return 0;
}

static ssize_t host_char_write(const struct vmm_host *host, struct vmm_char *c, const void *buf, size_t len)
{
	if (!c)
		return -EINVAL;
	/* +1 keeps room for the terminating NUL of char_output(). */
	if (grow((void **)&c->out, &c->out_cap, c->out_len + len + 1))
		return -ENOMEM;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->out[c->out_len] = '\0';
	return (ssize_t)len;
}

static void host_char_input_ready(const struct vmm_host *host, struct vmm_char *c)
{
	if (c)
		c->ready_posted = true;
}

static struct harness_backend *backend_of(struct vmm_harness *h, struct vmm_harness_dev *inst);

/* The backend side of the char API: devices have no use for it, and a
 * char backend plugin added with vmm_harness_add_backend() feeds no
 * device, so its input is taken and dropped (it keeps reading, and sees
 * its peer leave). */
static size_t host_char_input_room(const struct vmm_host *host)
{
	struct vmm_harness_dev *inst = dev_of(host);
	struct harness_backend *be = backend_of(inst->h, inst);

	return be && be->type == VMM_BACKEND_CHAR ? 4096 : 0;
}

static size_t host_char_input(const struct vmm_host *host, const void *buf, size_t len)
{
	return host_char_input_room(host) ? len : 0;
}

/* A char backend plugin (vmm_harness_add_backend) says who is connected. */
static void host_char_connected(const struct vmm_host *host, bool connected)
{
	struct vmm_harness_dev *inst = dev_of(host);
	struct harness_backend *be = backend_of(inst->h, inst);

	if (be && be->type == VMM_BACKEND_CHAR)
		be->char_down = !connected;
}

static void host_machine_stop(const struct vmm_host *host, enum vmm_stop_reason reason, int status)
{
	struct vmm_harness *h = dev_of(host)->h;

	h->stopped = true;
	h->stop_reason = (int)reason;
	h->stop_status = status;
}

static struct vmm_block *host_block_open(const struct vmm_host *host, const char *prop,
					 struct vmm_block_info *info)
{
	struct vmm_harness_dev *dev = dev_of(host);
	const struct vmm_prop_desc *d = vmm_prop_find(dev->plugin->desc->props, prop);
	const char *ref = d && d->type == VMM_PROP_STRING ? vmm_propset_get_str(dev->props, prop) : NULL;
	struct harness_backend *be;
	struct vmm_block *b;

	if (!ref) {
		dev_log(dev, VMM_LOG_ERROR, "block_open: '%s' is not a set string property",
			prop ? prop : "(null)");
		return NULL;
	}
	if (!info || info->size < offsetof(struct vmm_block_info, bytes) + sizeof(info->bytes)) {
		dev_log(dev, VMM_LOG_ERROR, "block_open: incomplete vmm_block_info");
		return NULL;
	}
	for (be = dev->h->backends; be; be = be->next)
		if (strcmp(be->inst->name, ref) == 0)
			break;
	if (!be) {
		dev_log(dev, VMM_LOG_ERROR, "block_open: no backend '%s' (vmm_harness_add_backend)", ref);
		return NULL;
	}
	if (be->user || dev->blk) {
		dev_log(dev, VMM_LOG_ERROR, "block_open: backend '%s' is already in use", ref);
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->be = be;
	b->info.size = sizeof(b->info);
	vmm_block_query(be->ops, be->inst->state, &b->info);
	memcpy(info, &b->info, info->size < sizeof(b->info) ? info->size : sizeof(b->info));
	be->user = b;
	dev->blk = b;
	return b;
}

static int host_block_io(const struct vmm_host *host, struct vmm_block *b, const struct vmm_block_req *req)
{
	if (!b)
		return -EINVAL;
	return vmm_block_dispatch(b->be->ops, b->be->inst->state, &b->info, req);
}

static int host_block_io_batch(const struct vmm_host *host, struct vmm_block *b,
			       const struct vmm_block_req *reqs, int *results, unsigned n)
{
	if (!b)
		return -EINVAL;
	return vmm_block_dispatch_batch(b->be->ops, b->be->inst->state, &b->info, reqs, results, n);
}

/* ---- net backends ---- */

static struct vmm_net *host_net_open(const struct vmm_host *host, const char *prop,
				     const struct vmm_net_client *client, void *opaque,
				     struct vmm_net_info *info)
{
	struct vmm_harness_dev *dev = dev_of(host);
	const struct vmm_prop_desc *d = vmm_prop_find(dev->plugin->desc->props, prop);
	const char *ref = d && d->type == VMM_PROP_STRING ? vmm_propset_get_str(dev->props, prop) : NULL;
	struct harness_backend *be;
	struct vmm_net *n;

	if (!ref) {
		dev_log(dev, VMM_LOG_ERROR, "net_open: '%s' is not a set string property",
			prop ? prop : "(null)");
		return NULL;
	}
	if (!info || info->size < offsetof(struct vmm_net_info, offloads) + sizeof(info->offloads) ||
	    !client || client->size < offsetof(struct vmm_net_client, receive) + sizeof(void *) ||
	    !client->can_receive || !client->receive) {
		dev_log(dev, VMM_LOG_ERROR, "net_open: incomplete vmm_net_info or vmm_net_client");
		return NULL;
	}
	for (be = dev->h->backends; be; be = be->next)
		if (strcmp(be->inst->name, ref) == 0)
			break;
	if (!be || be->type != VMM_BACKEND_NET) {
		dev_log(dev, VMM_LOG_ERROR, "net_open: no net backend '%s' (vmm_harness_add_backend)", ref);
		return NULL;
	}
	if (be->net_user || dev->net) {
		dev_log(dev, VMM_LOG_ERROR, "net_open: backend '%s' is already in use", ref);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->be = be;
	n->dev = dev;
	n->client = client;
	n->opaque = opaque;
	n->info.size = sizeof(n->info);
	vmm_net_query(be->net_ops, be->inst->state, &n->info);
	n->link_up = !be->link_down;
	if (be->link_down)
		n->info.flags |= VMM_NET_LINK_DOWN;
	memcpy(info, &n->info, info->size < sizeof(n->info) ? info->size : sizeof(n->info));
	be->net_user = n;
	dev->net = n;
	return n;
}

static int host_net_send(const struct vmm_host *host, struct vmm_net *n, const struct iovec *iov,
			 int iovcnt)
{
	if (!n)
		return -EINVAL;
	return vmm_net_dispatch_send(n->be->net_ops, n->be->inst->state, iov, iovcnt);
}

static void host_net_input_ready(const struct vmm_host *host, struct vmm_net *n)
{
	/* As the core: the backend resumes after the device's callback. */
	if (n && n->paused) {
		n->paused = false;
		n->ready_posted = true;
	}
}

static int host_net_set_offloads(const struct vmm_host *host, struct vmm_net *n, uint32_t offloads)
{
	if (!n)
		return -EINVAL;
	return vmm_net_dispatch_offloads(n->be->net_ops, n->be->inst->state, &n->info, offloads);
}

static struct harness_backend *backend_of(struct vmm_harness *h, struct vmm_harness_dev *inst)
{
	for (struct harness_backend *be = h->backends; be; be = be->next)
		if (be->inst == inst)
			return be;
	return NULL;
}

/* A frame from a net backend (plugin or fake) for its device. */
static int net_deliver(struct harness_backend *be, const struct iovec *iov, int iovcnt)
{
	struct vmm_net *n = be ? be->net_user : NULL;
	int rc;

	if (!n)
		return -ENOTCONN;
	if (vmm_net_frame_len(iov, iovcnt) < 0)
		return -EINVAL;
	rc = n->client->can_receive(n->opaque) ? n->client->receive(n->opaque, iov, iovcnt) : -EAGAIN;
	if (rc == -EAGAIN)
		n->paused = true;
	return rc;
}

static int host_net_input(const struct vmm_host *host, const struct iovec *iov, int iovcnt)
{
	struct vmm_harness_dev *inst = dev_of(host);

	return net_deliver(backend_of(inst->h, inst), iov, iovcnt);
}

/* A net backend's link (plugin or fake, or the test) went up or down. */
static void net_link(struct harness_backend *be, bool up)
{
	be->link_down = !up;
	if (be->net_user)
		vmm_net_link_update(be->net_user->client, be->net_user->opaque, &be->net_user->link_up,
				    up);
}

static void host_net_link_set(const struct vmm_host *host, bool up)
{
	struct vmm_harness_dev *inst = dev_of(host);
	struct harness_backend *be = backend_of(inst->h, inst);

	if (be && be->type == VMM_BACKEND_NET)
		net_link(be, up);
}

/* The fake net backend's ops; its state is the struct net_fake. */
static int fake_net_send(void *state, const struct iovec *iov, int iovcnt)
{
	struct net_fake *f = state;
	size_t len = 0, off = 0;
	uint8_t *buf;

	if (f->nsent == NET_FAKE_MAX_FRAMES)
		return 0; /* a full capture drops, as a link may */
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	f->sent[f->nsent].data = buf;
	f->sent[f->nsent].len = len;
	f->nsent++;
	return 0;
}

static void fake_net_info(void *state, struct vmm_net_info *info)
{
	struct net_fake *f = state;

	info->flags = f->info.flags;
	info->offloads = f->info.offloads;
	memcpy(info->mac, f->info.mac, sizeof(info->mac));
}

static int fake_net_set_offloads(void *state, uint32_t offloads)
{
	((struct net_fake *)state)->offloads = offloads;
	return 0;
}

static void fake_net_resume(void *state)
{
	((struct net_fake *)state)->resumes++;
}

static void fake_net_clear(struct net_fake *f)
{
	for (size_t i = 0; i < f->nsent; i++)
		free(f->sent[i].data);
	f->nsent = 0;
}

static void fake_net_close(void *state)
{
	fake_net_clear(state);
	free(state);
}

static const struct vmm_net_backend_ops fake_net_ops = {
	.base = {
		.size = sizeof(struct vmm_net_backend_ops),
		.type = VMM_BACKEND_NET,
		.close = fake_net_close,
	},
	.send = fake_net_send,
	.info = fake_net_info,
	.set_offloads = fake_net_set_offloads,
	.resume_input = fake_net_resume,
};

static const struct vmm_host host_template = {
	.size = sizeof(struct vmm_host),
	.abi_minor = VMM_ABI_MINOR,
	.instance_name = host_instance_name,
	.log = host_log,
	.prop_int = host_prop_int,
	.prop_bool = host_prop_bool,
	.prop_str = host_prop_str,
	.bus_map = host_bus_map,
	.bus_unmap = host_bus_unmap,
	.irq_line = host_irq_line,
	.irq_set = host_irq_set,
	.mem_read = host_mem_read,
	.mem_write = host_mem_write,
	.mem_map = host_mem_map,
	.clock_ns = host_clock_ns,
	.timer_new = host_timer_new,
	.timer_arm = host_timer_arm,
	.timer_cancel = host_timer_cancel,
	.timer_free = host_timer_free,
	.fd_watch = host_fd_watch,
	.fd_unwatch = host_fd_unwatch,
	.char_open = host_char_open,
	.char_write = host_char_write,
	.char_input_ready = host_char_input_ready,
	.char_input_room = host_char_input_room,
	.char_input = host_char_input,
	.machine_stop = host_machine_stop,
	.irq_mode = host_irq_mode,
	.irq_controller_register = host_irq_controller_register,
	.cpu_intr_set = host_cpu_intr_set,
	.msi_send = host_msi_send,
	.hv_accel = host_hv_accel,
	.ram_size = host_ram_size,
	.describe = host_describe,
	.block_open = host_block_open,
	.block_io = host_block_io,
	.net_open = host_net_open,
	.net_send = host_net_send,
	.net_input_ready = host_net_input_ready,
	.net_set_offloads = host_net_set_offloads,
	.net_input = host_net_input,
	.net_link_set = host_net_link_set,
	.char_connected = host_char_connected,
	.char_is_connected = host_char_is_connected,
	.msi_route = host_msi_route,
	.cpuid_set = host_cpuid_set,
	.vcpu_tsc = host_vcpu_tsc,
	.notify_register = host_notify_register,
	.notify_unregister = host_notify_unregister,
	.vcpu_count = host_vcpu_count,
	.cpu_irq_line = host_cpu_irq_line,
	.private_irq_set = host_private_irq_set,
	.block_io_batch = host_block_io_batch,
	.state_put = vmm_state_host_put,
	.state_get = vmm_state_host_get,
	.hv_device_create = host_hv_device_create,
	.hv_device_attr = host_hv_device_attr,
	.timer_outputs_register = host_timer_outputs_register,
	.timer_outputs = host_timer_outputs,
	.vcpu_reg_write = host_vcpu_reg_write,
};

/* ---- harness lifetime ---- */

struct vmm_harness *vmm_harness_new(void)
{
	struct vmm_harness *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->quiet = getenv("VMM_HARNESS_QUIET") != NULL;
	h->nvcpus = 1;
	h->plugins = vmm_plugin_set_new();
	if (!h->plugins) {
		free(h);
		return NULL;
	}
	vmm_bus_init(&h->bus[VMM_BUS_PIO], "pio", 0x10000, VMM_BUS_BYTES);
	vmm_bus_init(&h->bus[VMM_BUS_MMIO], "mmio", 0, VMM_BUS_BYTES);
	vmm_bus_init(&h->bus[VMM_BUS_MSR], "msr", 0x100000000ull, VMM_BUS_REGISTERS);
	return h;
}

static void ram_free(struct vmm_harness *h)
{
	if (h->ram)
		munmap(h->ram, h->ram_size);
	h->ram = NULL;
}

void vmm_harness_free(struct vmm_harness *h)
{
	if (!h)
		return;
	while (h->devs)
		vmm_harness_destroy_device(h->devs);
	/* Backends after the devices that used them. */
	while (h->backends) {
		struct harness_backend *be = h->backends;

		h->backends = be->next;
		const struct vmm_backend_ops *bops = be->type == VMM_BACKEND_NET    ? &be->net_ops->base
						     : be->type == VMM_BACKEND_CHAR ? &be->char_ops->base
										    : &be->ops->base;
		if (bops->close)
			bops->close(be->inst->state);
		dev_release(be->inst);
		free(be);
	}
	while (h->wires) {
		struct irq_wire *w = h->wires;

		h->wires = w->next;
		free(w->test_driver);
		free(w);
	}
	for (int b = 0; b < VMM_BUS_COUNT; b++)
		vmm_bus_destroy(&h->bus[b]);
	ram_free(h);
	/* After every device and backend: their code lives in these. */
	vmm_plugin_set_free(h->plugins);
	free(h);
}

int vmm_harness_set_ram(struct vmm_harness *h, size_t size)
{
	uint8_t *ram = NULL;

	/* Page-aligned and zeroed, as the core's guest RAM is: calloc()
	 * returned RAM 16 bytes past a page boundary, and every copy into
	 * "guest pages" then straddled cache lines (the virtio-blk benchmark's
	 * 4 KiB reads ran ~0.2 us slower than into an aligned buffer). */
	if (size) {
		ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (ram == MAP_FAILED)
			return -ENOMEM;
	}
	ram_free(h);
	h->ram = ram;
	h->ram_size = size;
	return 0;
}

void *vmm_harness_ram(struct vmm_harness *h, size_t *size)
{
	if (size)
		*size = h->ram_size;
	return h->ram;
}

/* ---- devices ---- */

/*
 * Load @spec into the harness's plugin set exactly as vmmctl would: a bare
 * name is NAME.so on vmmctl's search path without -P ($VMM_PLUGIN_PATH, then
 * the installed plugin directory); a path is what `vmmctl -P its-directory
 * NAME` opens, so it must be NAME.so holding plugin NAME.  The refusals are
 * the loader's own lines, word for word vmmctl's.
 */
static const struct vmm_loaded_plugin *load_plugin(struct vmm_harness *h, const char *spec)
{
	const struct vmm_loaded_plugin *p = NULL;
	char err[8448];
	char *path = vmm_plugin_search_path(NULL, 0);

	if (!path) {
		fail("out of memory");
		return NULL;
	}
	if (vmm_plugin_set_open(h->plugins, path, spec, &p, err, sizeof(err)))
		fail("%s", err);
	free(path);
	return p;
}

static void dev_release(struct vmm_harness_dev *dev)
{
	struct vmm_harness *h = dev->h;

	/* The device should have freed these; a leaky device must not leave
	 * callbacks behind that point into an unloaded .so. */
	for (int b = 0; b < VMM_BUS_COUNT; b++)
		vmm_bus_unmap_owner(&h->bus[b], &dev->owner);
	if (h->timer_dev == dev) {
		h->timer_ops = NULL;
		h->timer_dev = NULL;
	}
	for (struct vmm_timer **pt = &h->timers; *pt;) {
		struct vmm_timer *t = *pt;

		if (t->owner == dev) {
			*pt = t->next;
			free(t);
		} else {
			pt = &t->next;
		}
	}
	for (struct vmm_watch **pw = &h->watches; *pw;) {
		struct vmm_watch *w = *pw;

		if (w->owner == dev) {
			*pw = w->next;
			free(w);
		} else {
			pw = &w->next;
		}
	}
	for (struct vmm_notify **pn = &h->notifies; *pn;) {
		struct vmm_notify *n = *pn;

		if (n->owner == dev) {
			*pn = n->next;
			h->notify_leaked++;
			free(n);
		} else {
			pn = &n->next;
		}
	}
	for (struct irq_sink **pk = &h->sinks; *pk;) {
		struct irq_sink *k = *pk;

		if (k->owner == dev) {
			*pk = k->next;
			free(k);
		} else {
			pk = &k->next;
		}
	}
	for (unsigned v = 0; v < HARNESS_MAX_VCPUS; v++)
		if (h->cpu_intr_owner[v] == dev) {
			h->cpu_intr_owner[v] = NULL;
			h->cpu_intr[v] = 0;
		}
	for (struct vmm_irq_line **pl = &h->lines; *pl;) {
		struct vmm_irq_line *l = *pl;

		if (l->owner == dev) {
			line_drive(h, l, 0);
			*pl = l->next;
			free(l);
		} else {
			pl = &l->next;
		}
	}
	if (dev->blk) {
		dev->blk->be->user = NULL;
		free(dev->blk);
	}
	if (dev->net) {
		dev->net->be->net_user = NULL;
		free(dev->net);
	}
	while (dev->chr) {
		struct vmm_char *c = dev->chr;

		dev->chr = c->next;
		free(c->out);
		free(c->in);
		free(c->prop);
		free(c);
	}
	vmm_propset_free(dev->props);
	free(dev->name);
	free(dev);
}

static int apply_props(struct vmm_harness_dev *dev, const char *const *props)
{
	char err[512];

	for (const char *const *p = props; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		char *name;
		int rc;

		if (!eq) {
			fail("%s: property \"%s\" is not name=value", dev->name, *p);
			return -EINVAL;
		}
		name = strndup(*p, (size_t)(eq - *p));
		if (!name)
			return -ENOMEM;
		rc = vmm_propset_set(dev->props, name, eq + 1, err, sizeof(err));
		free(name);
		if (rc) {
			fail("%s: %s", dev->name, err);
			return rc;
		}
	}
	if (vmm_propset_check(dev->props, err, sizeof(err))) {
		fail("%s: %s", dev->name, err);
		return -EINVAL;
	}
	return 0;
}

struct vmm_harness_dev *vmm_harness_create_device(struct vmm_harness *h, const char *plugin,
						  const char *instance, const char *const *props)
{
	struct vmm_harness_dev *dev;
	int rc;

	if (!h || !plugin || !instance)
		return NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->host = host_template;
	dev->h = h;
	dev->name = strdup(instance);
	dev->owner.name = dev->name;
	if (!dev->name || !(dev->plugin = load_plugin(h, plugin)))
		goto out_free_dev;
	if (dev->plugin->desc->kind != VMM_PLUGIN_DEVICE) {
		fail("%s: plugin '%s' is a %s, not a device", instance, dev->plugin->desc->name,
		     vmm_plugin_kind_name(dev->plugin->desc->kind));
		goto out_free_dev;
	}
	dev->ops = dev->plugin->ops;
	dev->props = vmm_propset_new(dev->plugin->desc->props);
	if (!dev->props || apply_props(dev, props))
		goto out_free_dev;

	/* Link first: create() maps regions and opens backends through us. */
	dev->next = h->devs;
	h->devs = dev;
	enter(h);
	rc = dev->ops->create(&dev->host, &dev->state);
	if (rc) {
		h->depth--;
		h->devs = dev->next;
		fail("%s: create() of plugin '%s' failed: %s", instance, dev->plugin->desc->name,
		     strerror(-rc));
		dev_release(dev);
		return NULL;
	}
	dev->created = true;
	/* The harness's vCPUs exist from the start: a device is ready (ABI
	 * 1.14) as soon as it is created. */
	if (VMM_TABLE_HAS(dev->ops->size, dev->ops, struct vmm_device_ops, ready)) {
		h->in_ready = true;
		rc = dev->ops->ready(dev->state);
		h->in_ready = false;
		if (rc) {
			leave(h);
			fail("%s: ready() of plugin '%s' failed: %s", instance,
			     dev->plugin->desc->name, strerror(rc < 0 ? -rc : EPROTO));
			vmm_harness_destroy_device(dev);
			return NULL;
		}
	}
	leave(h);
	return dev;

out_free_dev:
	dev_release(dev);
	return NULL;
}

/* The ops table's size covers member `field` (ABI 1.12's save and load). */
#define DEV_OPS_HAS(ops, field) \
	((ops)->size >= offsetof(struct vmm_device_ops, field) + sizeof((ops)->field) && (ops)->field)

void *vmm_harness_save(struct vmm_harness_dev *dev, size_t *len)
{
	struct vmm_state_out out;
	const uint8_t *bytes;
	void *copy = NULL;
	int rc;

	if (!dev || !len)
		return NULL;
	if (!DEV_OPS_HAS(dev->ops, save)) {
		fail("%s: plugin '%s' cannot save its state (no save op)", dev->name,
		     dev->plugin->desc->name);
		return NULL;
	}
	rc = vmm_state_out_init(&out, dev->plugin->desc->name, dev->name, dev->ops->state_version);
	if (rc) {
		fail("%s: cannot start a state record: %s", dev->name, strerror(-rc));
		return NULL;
	}
	enter(dev->h);
	rc = dev->ops->save(dev->state, &out);
	leave(dev->h);
	if (!rc && out.error)
		rc = -out.error;
	if (rc) {
		fail("%s: save() of plugin '%s' failed: %s", dev->name, dev->plugin->desc->name,
		     strerror(-rc));
	} else {
		bytes = vmm_state_out_bytes(&out, len);
		copy = malloc(*len);
		if (copy)
			memcpy(copy, bytes, *len);
	}
	vmm_state_out_free(&out);
	return copy;
}

int vmm_harness_load(struct vmm_harness_dev *dev, const void *rec, size_t len)
{
	struct vmm_state_in in;
	int rc;

	if (!dev || !rec)
		return -EINVAL;
	if (!DEV_OPS_HAS(dev->ops, load)) {
		fail("%s: plugin '%s' cannot load a state (no load op)", dev->name,
		     dev->plugin->desc->name);
		return -ENOTSUP;
	}
	rc = vmm_state_in_parse(&in, rec, len);
	if (rc) {
		fail("%s: the state record is malformed", dev->name);
		return rc;
	}
	if (strcmp(in.plugin, dev->plugin->desc->name) != 0) {
		fail("%s: the state record is plugin '%s''s, not '%s''s", dev->name, in.plugin,
		     dev->plugin->desc->name);
		vmm_state_in_free(&in);
		return -EINVAL;
	}
	enter(dev->h);
	rc = dev->ops->load(dev->state, &in, in.version);
	leave(dev->h);
	if (rc) {
		char why[160];

		fail("%s: load() of plugin '%s' (state version %u) failed: %s", dev->name,
		     dev->plugin->desc->name, in.version, vmm_state_in_why(&in, rc, why, sizeof(why)));
	}
	vmm_state_in_free(&in);
	return rc;
}

int vmm_harness_add_backend(struct vmm_harness *h, const char *name, const char *plugin,
			    const char *const *props)
{
	struct harness_backend *be;
	struct vmm_harness_dev *inst;
	int rc = -ENOMEM;

	if (!h || !name || !plugin)
		return -EINVAL;
	be = calloc(1, sizeof(*be));
	inst = calloc(1, sizeof(*inst));
	if (!be || !inst)
		goto out_free;
	inst->host = host_template;
	inst->h = h;
	inst->name = strdup(name);
	inst->owner.name = inst->name;
	if (!inst->name || !(inst->plugin = load_plugin(h, plugin))) {
		rc = -ENOENT;
		goto out_free_inst;
	}
	const struct vmm_backend_ops *ops = inst->plugin->ops;
	if (inst->plugin->desc->kind != VMM_PLUGIN_BACKEND ||
	    (ops->type != VMM_BACKEND_BLOCK && ops->type != VMM_BACKEND_NET &&
	     ops->type != VMM_BACKEND_CHAR)) {
		fail("%s: plugin '%s' is not a block, net or char backend", name,
		     inst->plugin->desc->name);
		rc = -EINVAL;
		goto out_free_inst;
	}
	inst->props = vmm_propset_new(inst->plugin->desc->props);
	if (!inst->props) {
		rc = -ENOMEM;
		goto out_free_inst;
	}
	rc = apply_props(inst, props);
	if (rc)
		goto out_free_inst;
	/* Linked before open(): a backend may feed input from inside it. */
	be->inst = inst;
	be->type = ops->type;
	if (ops->type == VMM_BACKEND_NET)
		be->net_ops = inst->plugin->ops;
	else if (ops->type == VMM_BACKEND_CHAR)
		be->char_ops = inst->plugin->ops;
	else
		be->ops = inst->plugin->ops;
	be->next = h->backends;
	h->backends = be;
	enter(h);
	rc = ops->open(&inst->host, &inst->state);
	leave(h);
	if (rc) {
		h->backends = be->next;
		fail("%s: open() of plugin '%s' failed: %s", name, inst->plugin->desc->name,
		     strerror(-rc));
		goto out_free_inst;
	}
	return 0;

out_free_inst:
	dev_release(inst);
	inst = NULL;
out_free:
	free(inst);
	free(be);
	return rc;
}

void vmm_harness_destroy_device(struct vmm_harness_dev *dev)
{
	struct vmm_harness *h;

	if (!dev)
		return;
	h = dev->h;
	for (struct vmm_harness_dev **pd = &h->devs; *pd; pd = &(*pd)->next) {
		if (*pd == dev) {
			*pd = dev->next;
			break;
		}
	}
	if (dev->created && dev->ops->destroy) {
		h->depth++;
		dev->ops->destroy(dev->state);
		h->depth--;
	}
	dev_release(dev);
}

int vmm_harness_reset_device(struct vmm_harness_dev *dev)
{
	if (!dev->ops->reset)
		return -ENOTSUP;
	enter(dev->h);
	dev->ops->reset(dev->state);
	leave(dev->h);
	return 0;
}

int vmm_harness_power_button(struct vmm_harness_dev *dev)
{
	if (!DEV_OPS_HAS(dev->ops, power_button))
		return -ENOTSUP;
	enter(dev->h);
	int rc = dev->ops->power_button(dev->state);
	leave(dev->h);
	return rc;
}

void *vmm_harness_device_state(struct vmm_harness_dev *dev)
{
	return dev->state;
}

/* ---- buses ---- */

/*
 * One guest access through the core's bus code, inside enter()/leave() so
 * input a device asks for is delivered after it returns.  An access with
 * any unclaimed byte counts once; one a region refuses as too narrow is
 * the device's guest error, as under vmmctl.
 */
static int bus_access(struct vmm_harness *h, enum vmm_bus bus, uint64_t addr, unsigned size,
		      uint64_t *value, bool is_write)
{
	struct vmm_bus_space *b = &h->bus[bus];
	uint64_t refused = b->refused;
	int rc;

	if (size != 1 && size != 2 && size != 4 && size != 8) {
		fail("%s access of %u bytes at 0x%llx: size must be 1, 2, 4 or 8", b->name, size,
		     (unsigned long long)addr);
		if (!is_write)
			*value = UINT64_MAX;
		return -EINVAL;
	}
	if (is_write) {
		/* As with an ioeventfd, a matching write never reaches the bus. */
		for (struct vmm_notify *n = h->notifies; n; n = n->next) {
			uint64_t v = size == 8 ? *value : *value & ((1ull << (8 * size)) - 1);

			if (n->bus != bus || n->addr != addr || n->len != size ||
			    (n->match && n->data != v))
				continue;
			h->notify_delivered++;
			enter(h);
			n->cb(n->opaque);
			leave(h);
			return 0;
		}
	}
	enter(h);
	rc = is_write ? vmm_bus_write(b, h->vcpu, addr, size, *value)
		      : vmm_bus_read(b, h->vcpu, addr, size, value);
	leave(h);
	if (rc == -ENOENT)
		h->unclaimed++;
	if (b->refused != refused) {
		const struct vmm_bus_region *r = vmm_bus_find(b, addr);
		if (r)
			dev_log(container_of(r->owner, struct vmm_harness_dev, owner), VMM_LOG_GUEST_ERROR,
				"%s %s of %u bytes at 0x%llx refused: narrower than the region accepts",
				b->name, is_write ? "write" : "read", size, (unsigned long long)addr);
	}
	return rc;
}

uint64_t vmm_harness_pio_read(struct vmm_harness *h, uint16_t port, unsigned size)
{
	uint64_t v;

	bus_access(h, VMM_BUS_PIO, port, size, &v, false);
	return v;
}

void vmm_harness_pio_write(struct vmm_harness *h, uint16_t port, unsigned size, uint64_t value)
{
	bus_access(h, VMM_BUS_PIO, port, size, &value, true);
}

uint64_t vmm_harness_mmio_read(struct vmm_harness *h, uint64_t gpa, unsigned size)
{
	uint64_t v;

	bus_access(h, VMM_BUS_MMIO, gpa, size, &v, false);
	return v;
}

void vmm_harness_mmio_write(struct vmm_harness *h, uint64_t gpa, unsigned size, uint64_t value)
{
	bus_access(h, VMM_BUS_MMIO, gpa, size, &value, true);
}

int vmm_harness_msr_read(struct vmm_harness *h, uint32_t index, uint64_t *value)
{
	return bus_access(h, VMM_BUS_MSR, index, 8, value, false) ? -EIO : 0;
}

int vmm_harness_msr_write(struct vmm_harness *h, uint32_t index, uint64_t value)
{
	return bus_access(h, VMM_BUS_MSR, index, 8, &value, true) ? -EIO : 0;
}

unsigned long vmm_harness_unclaimed_count(struct vmm_harness *h)
{
	return h->unclaimed;
}

/* ---- interrupts ---- */

static struct irq_wire *wire_find(struct vmm_harness *h, uint32_t line)
{
	for (struct irq_wire *w = h->wires; w; w = w->next)
		if (w->line == line)
			return w;
	return NULL;
}

int vmm_harness_irq_level(struct vmm_harness *h, uint32_t line)
{
	struct irq_wire *w = wire_find(h, line);

	return w && w->drivers_high ? 1 : 0;
}

unsigned vmm_harness_irq_raises(struct vmm_harness *h, uint32_t line)
{
	struct irq_wire *w = wire_find(h, line);

	return w ? w->raises : 0;
}

void vmm_harness_set_irq_mode(struct vmm_harness *h, enum vmm_irq_mode mode)
{
	h->irq_mode = mode;
}

int vmm_harness_irq_drive(struct vmm_harness *h, uint32_t line, int level)
{
	struct irq_wire *w = wire_find(h, line);

	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		w->line = line;
		w->next = h->wires;
		h->wires = w;
	}
	if (!w->test_driver) {
		w->test_driver = calloc(1, sizeof(*w->test_driver));
		if (!w->test_driver)
			return -ENOMEM;
		w->test_driver->wire = w;
	}
	line_drive(h, w->test_driver, level);
	return 0;
}

int vmm_harness_set_vcpus(struct vmm_harness *h, unsigned count)
{
	if (count < 1 || count > HARNESS_MAX_VCPUS)
		return -EINVAL;
	h->nvcpus = count;
	return 0;
}

int vmm_harness_set_vcpu(struct vmm_harness *h, unsigned vcpu)
{
	if (vcpu >= h->nvcpus)
		return -EINVAL;
	h->vcpu = vcpu;
	return 0;
}

int vmm_harness_cpu_line(struct vmm_harness *h, unsigned vcpu, enum vmm_cpu_pin pin)
{
	if (vcpu >= HARNESS_MAX_VCPUS || (pin != VMM_CPU_IRQ && pin != VMM_CPU_FIQ))
		return 0;
	return h->cpu_line[vcpu][pin];
}

unsigned vmm_harness_cpu_line_calls(struct vmm_harness *h)
{
	return h->cpu_line_calls;
}

int vmm_harness_private_drive(struct vmm_harness *h, unsigned vcpu, uint32_t line, int level)
{
	return private_drive(h, vcpu, line, level);
}

int vmm_harness_cpu_intr(struct vmm_harness *h, unsigned vcpu)
{
	return vcpu < HARNESS_MAX_VCPUS ? h->cpu_intr[vcpu] : 0;
}

int vmm_harness_cpu_ack(struct vmm_harness *h, unsigned vcpu)
{
	struct vmm_harness_dev *dev;
	int vector = -1;

	if (vcpu >= HARNESS_MAX_VCPUS || !(dev = h->cpu_intr_owner[vcpu]))
		return -1;
	for (struct irq_sink *k = h->sinks; k; k = k->next)
		if (k->owner == dev && k->ops->ack) {
			enter(h);
			vector = k->ops->ack(k->opaque, vcpu);
			leave(h);
			break;
		}
	return vector;
}

void vmm_harness_eoi(struct vmm_harness *h, uint32_t vector)
{
	for (struct irq_sink *k = h->sinks; k; k = k->next)
		if (VMM_TABLE_HAS(k->ops->size, k->ops, struct vmm_irq_controller_ops, eoi)) {
			enter(h);
			k->ops->eoi(k->opaque, vector);
			leave(h);
		}
}

size_t vmm_harness_msi_count(struct vmm_harness *h)
{
	return h->nmsis;
}

int vmm_harness_msi_get(struct vmm_harness *h, size_t i, uint64_t *addr, uint32_t *data)
{
	if (i >= h->nmsis)
		return -ENOENT;
	*addr = h->msis[i].addr;
	*data = h->msis[i].data;
	return 0;
}

bool vmm_harness_msi_routed(struct vmm_harness *h, size_t i)
{
	return i < h->nmsis && h->msis[i].routed;
}

bool vmm_harness_msi_route_get(struct vmm_harness *h, uint32_t pin, uint64_t *addr,
			       uint32_t *data)
{
	if (pin >= VMM_HARNESS_MSI_ROUTES || !h->msi_routes[pin].valid)
		return false;
	*addr = h->msi_routes[pin].addr;
	*data = h->msi_routes[pin].data;
	return true;
}

unsigned vmm_harness_msi_route_calls(struct vmm_harness *h)
{
	return h->msi_route_calls;
}

void vmm_harness_msi_clear(struct vmm_harness *h)
{
	h->nmsis = 0;
}

int vmm_harness_cpuid(struct vmm_harness *h, uint32_t function, uint32_t index,
		      struct vmm_cpuid_leaf *out)
{
	for (size_t i = 0; i < h->ncpuid; i++) {
		const struct vmm_cpuid_leaf *l = &h->cpuid[i];

		if (l->function == function && (!(l->flags & VMM_CPUID_INDEXED) || l->index == index)) {
			*out = *l;
			return 0;
		}
	}
	return -ENOENT;
}

void vmm_harness_set_tsc(struct vmm_harness *h, uint32_t khz, uint64_t base)
{
	h->tsc_khz = khz;
	h->tsc_base = base;
}

bool vmm_harness_accel_requested(struct vmm_harness *h, enum vmm_accel what)
{
	return (unsigned)what < 32 && (h->accel_mask & (1u << what));
}

/* ---- character backend ---- */

/* The backend @dev opened by @prop; NULL (the first one) for the
 * functions without a property. */
static struct vmm_char *char_of(struct vmm_harness_dev *dev, const char *prop)
{
	struct vmm_char *c = dev->chr;

	while (c && prop && strcmp(c->prop, prop) != 0)
		c = c->next;
	return c;
}

const char *vmm_harness_char_output_prop(struct vmm_harness_dev *dev, const char *prop, size_t *len)
{
	struct vmm_char *c = char_of(dev, prop);

	if (len)
		*len = c ? c->out_len : 0;
	return c && c->out ? c->out : "";
}

const char *vmm_harness_char_output(struct vmm_harness_dev *dev, size_t *len)
{
	return vmm_harness_char_output_prop(dev, NULL, len);
}

void vmm_harness_char_clear_prop(struct vmm_harness_dev *dev, const char *prop)
{
	struct vmm_char *c = char_of(dev, prop);

	if (c) {
		c->out_len = 0;
		if (c->out)
			c->out[0] = '\0';
	}
}

void vmm_harness_char_clear(struct vmm_harness_dev *dev)
{
	vmm_harness_char_clear_prop(dev, NULL);
}

size_t vmm_harness_char_input_prop(struct vmm_harness_dev *dev, const char *prop, const void *buf,
				   size_t len)
{
	struct vmm_char *c = char_of(dev, prop);
	size_t taken;

	if (!c || !c->client) {
		fail("%s: char input but the device opened no backend with a client%s%s", dev->name,
		     prop ? " for " : "", prop ? prop : "");
		return 0;
	}
	if (grow((void **)&c->in, &c->in_cap, c->in_len + len))
		return 0;
	memcpy(c->in + c->in_len, buf, len);
	c->in_len += len;
	enter(dev->h);
	taken = char_pump(c);
	leave(dev->h);
	return taken;
}

int vmm_harness_char_connect(struct vmm_harness_dev *dev, const char *prop, bool connected)
{
	struct vmm_char *c = char_of(dev, prop);

	if (!c)
		return -ENOENT;
	enter(dev->h);
	vmm_char_connected_update(c->client, c->opaque, &c->connected, connected);
	leave(dev->h);
	return 0;
}

int vmm_harness_char_connected(struct vmm_harness_dev *dev, const char *prop)
{
	struct vmm_char *c = char_of(dev, prop);

	return c ? c->connected : -ENOENT;
}

size_t vmm_harness_char_input(struct vmm_harness_dev *dev, const void *buf, size_t len)
{
	return vmm_harness_char_input_prop(dev, NULL, buf, len);
}

size_t vmm_harness_char_pending_prop(struct vmm_harness_dev *dev, const char *prop)
{
	struct vmm_char *c = char_of(dev, prop);

	return c ? c->in_len : 0;
}

size_t vmm_harness_char_pending(struct vmm_harness_dev *dev)
{
	return vmm_harness_char_pending_prop(dev, NULL);
}

/* ---- clock ---- */

uint64_t vmm_harness_clock_ns(struct vmm_harness *h)
{
	return h->now;
}

static struct vmm_timer *next_due(struct vmm_harness *h, uint64_t until)
{
	struct vmm_timer *best = NULL;

	for (struct vmm_timer *t = h->timers; t; t = t->next) {
		if (!t->armed || t->deadline > until)
			continue;
		if (!best || t->deadline < best->deadline ||
		    (t->deadline == best->deadline && t->seq < best->seq))
			best = t;
	}
	return best;
}

void vmm_harness_clock_step(struct vmm_harness *h, uint64_t ns)
{
	uint64_t until = ns > UINT64_MAX - h->now ? UINT64_MAX : h->now + ns;
	struct vmm_timer *t;

	enter(h);
	while ((t = next_due(h, until))) {
		/* A timer armed in the past fires "now", not back in time. */
		if (t->deadline > h->now)
			h->now = t->deadline;
		t->armed = false;
		t->cb(t->opaque);
		/* Input the callback made room for arrives at this instant. */
		if (h->depth == 1) {
			h->depth = 0;
			run_deferred(h);
			h->depth = 1;
		}
	}
	h->now = until;
	leave(h);
}

/* ---- event loop, machine, logs ---- */

unsigned vmm_harness_fd_trigger(struct vmm_harness *h, int fd, unsigned events)
{
	unsigned ran = 0;
	struct vmm_watch *w, *next;

	enter(h);
	for (w = h->watches; w; w = next) {
		next = w->next;
		if (w->fd == fd && (w->events & events)) {
			w->cb(w->opaque, fd, w->events & events);
			ran++;
		}
	}
	leave(h);
	return ran;
}

unsigned vmm_harness_fd_poll(struct vmm_harness *h)
{
	unsigned ran = 0;
	struct vmm_watch *w, *next;

	enter(h);
	for (w = h->watches; w; w = next) {
		struct pollfd pfd = { .fd = w->fd };
		unsigned ev = 0;

		/* One pass, as the list stood: a callback may add watches
		 * (at the head, not visited) and end its own. */
		next = w->next;
		pfd.events = (short)((w->events & VMM_FD_READ ? POLLIN : 0) |
				     (w->events & VMM_FD_WRITE ? POLLOUT : 0));
		if (poll(&pfd, 1, 0) <= 0)
			continue;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			ev |= w->events & VMM_FD_READ;
		if (pfd.revents & (POLLOUT | POLLERR))
			ev |= w->events & VMM_FD_WRITE;
		if (ev) {
			w->cb(w->opaque, w->fd, ev);
			ran++;
		}
	}
	leave(h);
	return ran;
}

bool vmm_harness_stopped(struct vmm_harness *h, int *reason, int *status)
{
	if (h->stopped) {
		if (reason)
			*reason = h->stop_reason;
		if (status)
			*status = h->stop_status;
	}
	return h->stopped;
}

unsigned long vmm_harness_log_count(struct vmm_harness *h, enum vmm_log_level level)
{
	return (unsigned)level < LOG_LEVELS ? h->log_counts[level] : 0;
}

/* ---- net backends ---- */

int vmm_harness_add_net_fake(struct vmm_harness *h, const char *name, uint32_t offloads,
			     const uint8_t *mac)
{
	struct harness_backend *be;
	struct vmm_harness_dev *inst;
	struct net_fake *f;

	if (!h || !name)
		return -EINVAL;
	be = calloc(1, sizeof(*be));
	inst = calloc(1, sizeof(*inst));
	f = calloc(1, sizeof(*f));
	if (!be || !inst || !f || !(inst->name = strdup(name))) {
		free(f);
		if (inst)
			free(inst->name);
		free(inst);
		free(be);
		return -ENOMEM;
	}
	inst->host = host_template;
	inst->h = h;
	inst->owner.name = inst->name;
	inst->state = f;
	f->info.size = sizeof(f->info);
	f->info.offloads = offloads;
	if (mac) {
		f->info.flags = VMM_NET_HAS_MAC;
		memcpy(f->info.mac, mac, sizeof(f->info.mac));
	}
	be->inst = inst;
	be->type = VMM_BACKEND_NET;
	be->net_ops = &fake_net_ops;
	be->fake = f;
	be->next = h->backends;
	h->backends = be;
	return 0;
}

static struct harness_backend *net_backend(struct vmm_harness *h, const char *name, bool fake)
{
	for (struct harness_backend *be = h->backends; be; be = be->next)
		if (be->type == VMM_BACKEND_NET && strcmp(be->inst->name, name) == 0 &&
		    (!fake || be->fake))
			return be;
	fail("%s: no %snet backend of that name", name, fake ? "fake " : "");
	return NULL;
}

int vmm_harness_net_inject(struct vmm_harness *h, const char *name, const void *frame, size_t len)
{
	struct harness_backend *be = net_backend(h, name, false);
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };
	int rc;

	if (!be)
		return -ENOENT;
	enter(h);
	rc = net_deliver(be, &iov, 1);
	leave(h);
	return rc;
}

int vmm_harness_net_link(struct vmm_harness *h, const char *name, bool up)
{
	struct harness_backend *be = net_backend(h, name, false);

	if (!be)
		return -ENOENT;
	enter(h);
	net_link(be, up);
	leave(h);
	return 0;
}

int vmm_harness_backend_char_connected(struct vmm_harness *h, const char *name)
{
	for (struct harness_backend *be = h->backends; be; be = be->next)
		if (be->type == VMM_BACKEND_CHAR && strcmp(be->inst->name, name) == 0)
			return !be->char_down;
	fail("%s: no char backend of that name", name);
	return -ENOENT;
}

int vmm_harness_net_standby(struct vmm_harness *h, const char *name, bool on)
{
	struct harness_backend *be = net_backend(h, name, false);

	if (!be)
		return -ENOENT;
	if (be->fake || !VMM_TABLE_HAS(be->net_ops->base.size, be->net_ops, struct vmm_net_backend_ops, standby) ||
	    !be->net_ops->standby)
		return -ENOTSUP;
	enter(h);
	int rc = be->net_ops->standby(be->inst->state, on);
	leave(h);
	return rc;
}

int vmm_harness_net_link_state(struct vmm_harness *h, const char *name)
{
	struct harness_backend *be = net_backend(h, name, false);

	return be ? !be->link_down : -ENOENT;
}

size_t vmm_harness_net_sent_count(struct vmm_harness *h, const char *name)
{
	struct harness_backend *be = net_backend(h, name, true);

	return be ? be->fake->nsent : 0;
}

const void *vmm_harness_net_sent(struct vmm_harness *h, const char *name, size_t i, size_t *len)
{
	struct harness_backend *be = net_backend(h, name, true);

	if (!be || i >= be->fake->nsent)
		return NULL;
	if (len)
		*len = be->fake->sent[i].len;
	return be->fake->sent[i].data;
}

void vmm_harness_net_sent_clear(struct vmm_harness *h, const char *name)
{
	struct harness_backend *be = net_backend(h, name, true);

	if (be)
		fake_net_clear(be->fake);
}

uint32_t vmm_harness_net_offloads(struct vmm_harness *h, const char *name)
{
	struct harness_backend *be = net_backend(h, name, true);

	return be ? be->fake->offloads : 0;
}

unsigned vmm_harness_net_resumes(struct vmm_harness *h, const char *name)
{
	struct harness_backend *be = net_backend(h, name, true);

	return be ? be->fake->resumes : 0;
}

/* ---- write notifications ---- */

void vmm_harness_set_notify(struct vmm_harness *h, bool offered)
{
	h->no_notify = !offered;
}

size_t vmm_harness_notify_count(struct vmm_harness *h)
{
	size_t n = 0;

	for (struct vmm_notify *r = h->notifies; r; r = r->next)
		n++;
	return n;
}

int vmm_harness_notify_get(struct vmm_harness *h, size_t i, enum vmm_bus *bus, uint64_t *addr,
			   unsigned *len, bool *match, uint64_t *data)
{
	struct vmm_notify *r = h->notifies;

	while (r && i--)
		r = r->next;
	if (!r)
		return -ENOENT;
	if (bus)
		*bus = r->bus;
	if (addr)
		*addr = r->addr;
	if (len)
		*len = r->len;
	if (match)
		*match = r->match;
	if (data)
		*data = r->data;
	return 0;
}

unsigned long vmm_harness_notify_delivered(struct vmm_harness *h)
{
	return h->notify_delivered;
}

unsigned long vmm_harness_notify_leaked(struct vmm_harness *h)
{
	return h->notify_leaked;
}
