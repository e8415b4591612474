/* core/machine.c - builds a machine from its config and tears it down.
 *
 * Here: the host table every instance gets (host_template, its entries
 * from the host-*.c files: host-services.h), the services tied to the
 * instances themselves (logging, properties, buses, firmware descriptions,
 * stopping the machine), creating the hypervisor, backend and device
 * instances, and the machine's life cycle: build (vmm_machine_create(),
 * vmm_machine_check()), stop and destroy.  Running it is core/vcpu-loop.c;
 * what differs by architecture is core/arch-x86.c and core/arch-arm64.c.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/arch-arm64.h"
#include "core/arch-x86.h"
#include "core/table.h"
#include "core/state.h"
#include "core/boot.h"
#include "core/bus.h"
#include "core/machine.h"
#include "core/migrate.h"
#include "core/host-services.h"
#include "core/machine-internal.h"
#include "core/process.h"
#include "core/seccomp.h"

/* ---------------------------------------------------------------- logging */

static const char *host_instance_name(const struct vmm_host *h)
{
	return inst_of(h)->name;
}

static void host_log(const struct vmm_host *h, enum vmm_log_level level, const char *fmt, ...)
{
	struct vmm_instance *in = inst_of(h);
	va_list ap;

	if (level == VMM_LOG_GUEST_ERROR)
		atomic_fetch_add_explicit(&in->m->guest_errors, 1, memory_order_relaxed);
	va_start(ap, fmt);
	vmm_vlog(level, in->name, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------- properties */

static int host_prop_int(const struct vmm_host *h, const char *name, int64_t *out)
{
	return vmm_propset_get_int(inst_of(h)->props, name, out);
}

static int host_prop_bool(const struct vmm_host *h, const char *name, bool *out)
{
	return vmm_propset_get_bool(inst_of(h)->props, name, out);
}

static const char *host_prop_str(const struct vmm_host *h, const char *name)
{
	return vmm_propset_get_str(inst_of(h)->props, name);
}

/* The config section of instance `name` in `list`, or NULL. */
static const struct vmm_cfg_instance *cfg_find(const struct vmm_cfg_instance *list, size_t n,
					       const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

/* A device's problem with what its section says (a backend it names):
 * the line names the section, where the fix is.  `user` may be another
 * instance (the hypervisor): then it is named as usual. */
void vmm_user_error(struct vmm_machine *m, const char *user, const char *fmt, ...)
{
	const struct vmm_cfg_instance *ci = cfg_find(m->cfg->devices, m->cfg->ndevices, user);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ci)
		vmm_log(VMM_LOG_ERROR, NULL, "%s:%d: device '%s': %s", m->cfg->file, ci->line, user, msg);
	else
		vmm_log(VMM_LOG_ERROR, user, "%s", msg);
}

/* ------------------------------------------------------------------ buses */

/*
 * An MSR region a device maps must see its guest's accesses even where the
 * hypervisor would answer them itself: KVM serves Hyper-V's MSRs as soon
 * as a vCPU's CPUID says "Hv#1" (arch/x86/kvm/hyperv.c, hyperv_enabled),
 * so the hyperv plugin's emulated mode would never hear of them on a host
 * with Hyper-V support.  Ranges KVM does not know exit anyway: a refusal
 * is only a warning.
 */
static void msr_intercept(struct vmm_instance *in, uint64_t base, uint64_t len)
{
	struct vmm_machine *m = in->m;
	int rc;

	if (!HV_HAS(m, msr_intercept))
		return;
	rc = VMM_AS(HV_WHO(m), m->hv_ops->msr_intercept(m->vm, (uint32_t)base, (uint32_t)len));
	if (rc == -ENOTSUP)
		vmm_log(VMM_LOG_DEBUG, in->name, "MSRs 0x%llx-0x%llx: the hypervisor cannot route "
			"them here (those it serves itself will not reach the device)",
			(unsigned long long)base, (unsigned long long)(base + len - 1));
	else if (rc < 0)
		vmm_log(VMM_LOG_WARN, in->name, "MSRs 0x%llx-0x%llx: the hypervisor cannot route "
			"them here: %s (those it serves itself will not reach the device)",
			(unsigned long long)base, (unsigned long long)(base + len - 1), strerror(-rc));
}

static int host_bus_map(const struct vmm_host *h, enum vmm_bus bus, uint64_t base, uint64_t len,
			const struct vmm_region_ops *ops, void *opaque)
{
	struct vmm_instance *in = inst_of(h);
	char err[512];

	if ((unsigned)bus >= VMM_BUS_COUNT) {
		vmm_log(VMM_LOG_ERROR, in->name, "bus_map: unknown bus %d", (int)bus);
		return -EINVAL;
	}
	int rc = vmm_bus_map(&in->m->bus[bus], base, len, ops, opaque, &in->owner, err, sizeof(err));
	if (!rc && bus == VMM_BUS_MSR)
		msr_intercept(in, base, len);
	if (rc) {
		/* A device's refusal names its config line: the fix is there. */
		const struct vmm_machine_config *cfg = in->m->cfg;
		size_t nlen = strlen(in->name);
		for (size_t i = 0; i < cfg->ndevices; i++) {
			if (strcmp(cfg->devices[i].name, in->name) != 0)
				continue;
			const char *msg = strncmp(err, in->name, nlen) == 0 && strncmp(err + nlen, ": ", 2) == 0 ?
					  err + nlen + 2 : err;
			vmm_log(VMM_LOG_ERROR, NULL, "%s:%d: device '%s': %s", cfg->file, cfg->devices[i].line,
				in->name, msg);
			return rc;
		}
		vmm_log(VMM_LOG_ERROR, NULL, "%s", err);
	}
	return rc;
}

static int host_bus_unmap(const struct vmm_host *h, enum vmm_bus bus, uint64_t base)
{
	struct vmm_instance *in = inst_of(h);
	if ((unsigned)bus >= VMM_BUS_COUNT)
		return -EINVAL;
	return vmm_bus_unmap(&in->m->bus[bus], base, &in->owner);
}

/* ------------------------------------------------------------ instances */

/* Every call into a device under its lock is a call into its plugin: the
 * lock also marks the thread as running that instance's code (process.h),
 * and the unlock gives the caller's marker back. */
const struct vmm_who *vmm_instance_lock(struct vmm_instance *in)
{
	if (in->serialised)
		pthread_mutex_lock(&in->lock);
	return vmm_who_enter(&in->who);
}

void vmm_instance_unlock(struct vmm_instance *in, const struct vmm_who *prev)
{
	vmm_who_leave(prev);
	if (in->serialised)
		pthread_mutex_unlock(&in->lock);
}

/* -------------------------------------------------------------- machine */

static void stop_event(evutil_socket_t fd, short what, void *arg)
{
	struct vmm_machine *m = arg;
	event_base_loopbreak(m->base);
}

void vmm_machine_stop(struct vmm_machine *m, int status, const char *why)
{
	bool expected = false;
	/* The first reason to stop wins; later ones are the fallout. */
	if (!atomic_compare_exchange_strong(&m->stopping, &expected, true))
		return;
	m->status = status;
	if (why)
		vmm_log(VMM_LOG_DEBUG, NULL, "stopping: %s (status %d)", why, status);
	/* vmm_kick_halted() below also wakes the vCPUs parked by a pause. */
	for (unsigned i = 0; i < m->nvcpus; i++)
		if (m->vcpus[i].hv)
			vmm_kick_vcpu(m, &m->vcpus[i]);
	vmm_kick_halted(m);
	event_active(m->stop_ev, EV_TIMEOUT, 0);
}

void vmm_machine_request_stop(struct vmm_machine *m, int status, const char *why)
{
	vmm_machine_stop(m, status, why);
}

static void host_machine_stop(const struct vmm_host *h, enum vmm_stop_reason reason, int status)
{
	struct vmm_instance *in = inst_of(h);
	switch (reason) {
	case VMM_STOP_EXIT:
		/* A guest's status is 0 or odd and at most 127: an even one
		 * or a larger one would read as vmmctl's own status or as a
		 * signal (see machine.h), so it becomes 127, said in a line. */
		if (status < 0 || status > VMM_STATUS_GUEST_MAX || (status && !(status & 1))) {
			vmm_log(VMM_LOG_WARN, in->name, "exit status %d is not a guest's status (0 or odd, "
				"up to %d): ending with %d", status, VMM_STATUS_GUEST_MAX, VMM_STATUS_GUEST_MAX);
			status = VMM_STATUS_GUEST_MAX;
		}
		vmm_machine_stop(in->m, status, "exit requested by device");
		break;
	case VMM_STOP_POWEROFF:
		vmm_machine_stop(in->m, VMM_STATUS_POWEROFF, "power off");
		break;
	case VMM_STOP_RESET:
		vmm_machine_stop(in->m, VMM_STATUS_RESET, "reset requested");
		break;
	case VMM_STOP_CRASH:
		vmm_machine_stop(in->m, VMM_STATUS_GUEST_CRASH, "guest crash");
		break;
	default:
		vmm_log(VMM_LOG_ERROR, in->name, "device stopped the machine");
		vmm_machine_stop(in->m, VMM_STATUS_ERROR, "device error");
		break;
	}
}

static void free_desc(struct vmm_device_desc *d)
{
	free((char *)d->acpi_hid);
	free((char *)d->fdt_compatible);
	free((struct vmm_resource *)d->res);
}

#define VMM_MAX_DESC_RES 16

static int host_describe(const struct vmm_host *h, const struct vmm_device_desc *d)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;

	if (!d || d->size < offsetof(struct vmm_device_desc, nres) + sizeof(d->nres) ||
	    d->kind > VMM_DESC_ARM_TIMER || d->nres > VMM_MAX_DESC_RES || (d->nres && !d->res) ||
	    (d->acpi_hid && strlen(d->acpi_hid) != 7 && strlen(d->acpi_hid) != 8)) {
		vmm_log(VMM_LOG_ERROR, in->name, "describe: bad description (kind, _HID of 7 or 8 "
			"characters, at most %d resources)", VMM_MAX_DESC_RES);
		return -EINVAL;
	}
	struct vmm_device_desc *n = realloc(m->descs, (m->ndescs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->descs = n;
	struct vmm_device_desc *c = &m->descs[m->ndescs];
	memset(c, 0, sizeof(*c));
	memcpy(c, d, d->size < sizeof(*c) ? d->size : sizeof(*c));
	c->size = sizeof(*c);
	c->acpi_hid = d->acpi_hid ? strdup(d->acpi_hid) : NULL;
	c->fdt_compatible = d->fdt_compatible ? strdup(d->fdt_compatible) : NULL;
	c->res = NULL;
	if (d->nres) {
		struct vmm_resource *r = calloc(d->nres, sizeof(*r));
		if (r)
			memcpy(r, d->res, d->nres * sizeof(*r));
		c->res = r;
	}
	if ((d->acpi_hid && !c->acpi_hid) || (d->fdt_compatible && !c->fdt_compatible) ||
	    (d->nres && !c->res)) {
		free_desc(c);
		return -ENOMEM;
	}
	m->ndescs++;
	return 0;
}

static uint64_t host_ram_size(const struct vmm_host *h)
{
	return inst_of(h)->m->cfg->memory;
}

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
	.notify_register = host_notify_register,
	.notify_unregister = host_notify_unregister,
	.net_link_set = host_net_link_set,
	.char_connected = host_char_connected,
	.char_is_connected = host_char_is_connected,
	.msi_route = host_msi_route,
	.vcpu_count = host_vcpu_count,
	.cpu_irq_line = host_cpu_irq_line,
	.private_irq_set = host_private_irq_set,
	.cpuid_set = host_cpuid_set,
	.vcpu_tsc = host_vcpu_tsc,
	.hyperv_cpuid = host_hyperv_cpuid,
	.hyperv_enable = host_hyperv_enable,
	.block_io_batch = host_block_io_batch,
	.state_put = vmm_state_host_put,
	.state_get = vmm_state_host_get,
	.hv_device_create = host_hv_device_create,
	.hv_device_attr = host_hv_device_attr,
	.timer_outputs_register = host_timer_outputs_register,
	.timer_outputs = host_timer_outputs,
	.vcpu_reg_write = host_vcpu_reg_write,
	.mark_dirty = host_mark_dirty,
};

static struct vmm_instance *instance_new(struct vmm_machine *m, const struct vmm_cfg_instance *ci,
					 bool serialised)
{
	struct vmm_instance *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->host = host_template;
	in->m = m;
	in->name = ci->name;
	in->lp = ci->lp;
	in->props = ci->props;
	in->serialised = serialised;
	pthread_mutex_init(&in->lock, NULL);
	in->owner.name = in->name;
	in->owner.lock = serialised ? &in->lock : NULL;
	/* Formatted now: the fatal signal handler can only copy it. */
	if (asprintf(&in->who_what, "instance '%s'", in->name) < 0)
		in->who_what = NULL;
	in->who.path = in->lp->path;
	in->who.what = in->who_what ? in->who_what : "an instance";
	in->owner.who = &in->who;
	in->next = m->instances;
	m->instances = in;
	return in;
}

static const char *backend_type_name(uint32_t type)
{
	return type == VMM_BACKEND_BLOCK ? "block" : type == VMM_BACKEND_NET ? "net" : "character";
}

typedef int (*backend_check_fn)(const struct vmm_host *h, void **state);

/* The table's check op (ABI 1.6), or NULL: older tables end before it. */
static backend_check_fn backend_check_op(const struct vmm_backend_ops *b)
{
	const struct vmm_char_backend_ops *c = (const void *)b;
	const struct vmm_block_backend_ops *k = (const void *)b;
	const struct vmm_net_backend_ops *n = (const void *)b;

	switch (b->type) {
	case VMM_BACKEND_CHAR:
		return VMM_TABLE_HAS(b->size, c, struct vmm_char_backend_ops, check) ? c->check : NULL;
	case VMM_BACKEND_BLOCK:
		return VMM_TABLE_HAS(b->size, k, struct vmm_block_backend_ops, check) ? k->check : NULL;
	case VMM_BACKEND_NET:
		return VMM_TABLE_HAS(b->size, n, struct vmm_net_backend_ops, check) ? n->check : NULL;
	}
	return NULL;
}

typedef int (*net_standby_fn)(void *state, int on);

/* A net backend's standby op (ABI 1.17), or NULL. */
static net_standby_fn net_standby_op(const struct vmm_backend_ops *b)
{
	const struct vmm_net_backend_ops *n = (const void *)b;

	if (b->type != VMM_BACKEND_NET)
		return NULL;
	return VMM_TABLE_HAS(b->size, n, struct vmm_net_backend_ops, standby) ? n->standby : NULL;
}

int vmm_machine_net_standby(struct vmm_machine *m, bool on, char *err, size_t errlen)
{
	for (struct vmm_instance *in = m->instances; in; in = in->next) {
		if (!in->is_backend || !in->opened)
			continue;
		net_standby_fn standby = net_standby_op(in->lp->ops);
		if (!standby)
			continue;
		int rc = VMM_AS(&in->who, standby(in->state, on));
		if (rc < 0)
			return vmm_errf(err, errlen, rc, "backend '%s' (plugin %s): %s standby: %s", in->name,
				    in->lp->desc->name, on ? "entering" : "leaving", strerror(-rc));
	}
	return 0;
}

/*
 * vmmctl check: a backend is checked, never opened, since opening may
 * change the host (truncate a file, create a socket or a tap, make the
 * terminal raw).  Its check op says what open() would refuse and may
 * give a state for info() (a disk's size); without the op the device gets
 * a stand-in with no state, and a line says the backend went unchecked.
 * 0, or the check op's error.
 */
static int backend_check(struct vmm_machine *m, struct vmm_instance *in,
			 const struct vmm_cfg_instance *ci)
{
	backend_check_fn check = backend_check_op(ci->lp->ops);

	in->stand_in = true;
	if (!check) {
		vmm_log(VMM_LOG_INFO, NULL, "backend '%s' (plugin %s): not opened by check, it has no "
			"check op", ci->name, ci->plugin);
		return 0;
	}
	int rc = VMM_AS(&in->who, check(&in->host, &in->state));
	/* close() is owed only a state the check op made. */
	if (rc >= 0)
		in->opened = in->state != NULL;
	return rc < 0 ? rc : 0;
}

/* The backend instance `ref` names: a `backend` section, or else a backend
 * plugin of that name with its defaults.  Opened on first use (checked,
 * under vmm_machine_check()).  Errors name the config line to fix: the
 * backend section's, or the device's that names the backend. */
struct vmm_instance *vmm_machine_backend(struct vmm_machine *m, const char *ref, const char *user,
					 enum vmm_backend_type type)
{
	const char *what = backend_type_name(type);

	for (struct vmm_instance *in = m->instances; in; in = in->next) {
		if (in->is_backend && strcmp(in->name, ref) == 0) {
			uint32_t is = ((const struct vmm_backend_ops *)in->lp->ops)->type;
			if (is != (uint32_t)type) {
				vmm_user_error(m, user, "backend '%s' is not a %s backend (it is a %s "
					   "backend)", ref, what, backend_type_name(is));
				return NULL;
			}
			/* One that failed to open was reported then; the
			 * next device naming it (vmmctl check goes on past
			 * a failure) must not get a backend without state. */
			if (in->failed) {
				vmm_user_error(m, user, "backend '%s' could not be opened (above)", ref);
				return NULL;
			}
			return in;
		}
	}

	const struct vmm_cfg_instance *ci = NULL;
	for (size_t i = 0; i < m->cfg->nbackends; i++)
		if (strcmp(m->cfg->backends[i].name, ref) == 0)
			ci = &m->cfg->backends[i];
	if (!ci) {
		/* An implicit backend: plugin `ref` with default properties. */
		struct vmm_cfg_instance *imp = calloc(1, sizeof(*imp));
		char err[512];
		const struct vmm_loaded_plugin *lp;
		if (!imp)
			return NULL;
		if (vmm_plugin_set_require(m->ps, m->plugin_path, ref, &lp, err, sizeof(err))) {
			vmm_user_error(m, user, "no backend section or backend plugin named '%s' (%s)",
				   ref, err);
			free(imp);
			return NULL;
		}
		if (lp->desc->kind != VMM_PLUGIN_BACKEND) {
			vmm_user_error(m, user, "'%s' is a %s plugin, not a backend", ref,
				   vmm_plugin_kind_name(lp->desc->kind));
			free(imp);
			return NULL;
		}
		imp->name = strdup(ref);
		imp->plugin = strdup(ref);
		imp->lp = lp;
		imp->props = vmm_propset_new(lp->desc->props);
		if (!imp->name || !imp->plugin || !imp->props ||
		    vmm_propset_check(imp->props, err, sizeof(err))) {
			vmm_user_error(m, user, "backend '%s': %s", ref, err);
			vmm_propset_free(imp->props);
			free(imp->name);
			free(imp->plugin);
			free(imp);
			return NULL;
		}
		struct vmm_cfg_instance **grown = realloc(m->implicit, (m->nimplicit + 1) * sizeof(*grown));
		if (!grown) {
			vmm_propset_free(imp->props);
			free(imp->name);
			free(imp->plugin);
			free(imp);
			return NULL;
		}
		m->implicit = grown;
		m->implicit[m->nimplicit++] = imp;
		ci = imp;
	}
	const struct vmm_backend_ops *ops = ci->lp->ops;
	if (ops->type != (uint32_t)type) {
		vmm_user_error(m, user, "backend '%s' is not a %s backend (it is a %s backend)", ref, what,
			   backend_type_name(ops->type));
		return NULL;
	}
	struct vmm_instance *in = instance_new(m, ci, false);
	if (!in)
		return NULL;
	in->is_backend = true;
	int rc = m->checking ? backend_check(m, in, ci) : VMM_AS(&in->who, ops->open(&in->host, &in->state));
	if (rc < 0) {
		/* The plugin said why; this line says where: the backend's
		 * section, or for a plugin named directly the device's. */
		const char *verb = m->checking ? "would fail to open" : "failed to open";
		if (ci->line)
			vmm_log(VMM_LOG_ERROR, NULL, "%s:%d: backend '%s' (plugin %s) %s", m->cfg->file,
				ci->line, ci->name, ci->plugin, verb);
		else
			vmm_user_error(m, user, "backend plugin '%s' %s", ci->plugin, verb);
		in->failed = true;
		return NULL;
	}
	if (!m->checking)
		in->opened = true;
	/* A migration's destination: until it is loaded, its net backends
	 * leave the host end to the source (vmm_machine_net_standby). */
	net_standby_fn standby = m->checking || !m->cfg->incoming ? NULL : net_standby_op(ops);
	if (standby && (rc = VMM_AS(&in->who, standby(in->state, 1))) < 0) {
		vmm_log(VMM_LOG_ERROR, NULL, "backend '%s' (plugin %s): cannot enter standby for the incoming "
			"migration: %s", ci->name, ci->plugin, strerror(-rc));
		in->failed = true;
		return NULL;
	}
	return in;
}

/* A device that failed (vmmctl check goes on past it): the interrupt
 * lines it registered to receive must not reach its state any more. */
static void forget_sinks(struct vmm_machine *m, struct vmm_instance *in)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < m->nsinks; i++)
		if (m->sinks[i].in != in)
			m->sinks[kept++] = m->sinks[i];
	m->nsinks = kept;
	/* cpu_intr_set() finds its sink again by instance. */
	for (unsigned i = 0; i < m->nvcpus; i++)
		m->vcpus[i].intr_sink = NULL;
	if (m->timer_in == in) {
		m->timer_ops = NULL;
		m->timer_in = NULL;
	}
}

/* 0, or the first device's error.  vmmctl check creates every device
 * even after one failed: each failure is one line to fix, and an author
 * wants them all from one run. */
static int create_devices(struct vmm_machine *m)
{
	int first = 0;

	for (size_t i = 0; i < m->cfg->ndevices; i++) {
		const struct vmm_cfg_instance *ci = &m->cfg->devices[i];
		const struct vmm_device_ops *ops = ci->lp->ops;
		struct vmm_instance *in = instance_new(m, ci, true);
		if (!in)
			return -ENOMEM;
		int rc = VMM_AS(&in->who, ops->create(&in->host, &in->state));
		if (rc != 0) {
			/* 0 or a negative errno (vmm/device.h): a positive value
			 * is a bug in the plugin, refused like a failure (its
			 * state is not destroyed: who knows what it holds). */
			if (rc > 0)
				vmm_log(VMM_LOG_ERROR, NULL, "%s:%d: device '%s' (plugin %s): create() returned %d, "
					"not 0 or a negative errno", m->cfg->file, ci->line, ci->name, ci->plugin, rc);
			else
				vmm_log(VMM_LOG_ERROR, NULL, "%s:%d: device '%s' (plugin %s) failed to start: %s",
					m->cfg->file, ci->line, ci->name, ci->plugin, strerror(-rc));
			rc = rc > 0 ? -EPROTO : rc;
			for (int b = 0; b < VMM_BUS_COUNT; b++)
				vmm_bus_unmap_owner(&m->bus[b], &in->owner);
			in->failed = true;
			if (!m->checking)
				return rc;
			forget_sinks(m, in);
			if (!first)
				first = rc;
			continue;
		}
		in->opened = true;
	}
	return first;
}

/*
 * ABI 1.14: every device and vCPU exists.  The backend adds what no device
 * did (the kvm plugin's default vGICv3), then each device's ready op runs
 * in config order (the gic plugin initialises its in-kernel vGIC there).
 * Before the irqfds and the firmware tables, which need the interrupt
 * controller to be complete.
 */
static int devices_ready(struct vmm_machine *m)
{
	struct vmm_instance **order;
	size_t n = 0;
	int rc = 0;

	if (HV_HAS(m, devices_ready)) {
		rc = VMM_AS(HV_WHO(m), m->hv_ops->devices_ready(m->vm));
		if (rc < 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "hypervisor '%s' could not complete the VM: %s",
				m->cfg->hypervisor.plugin, strerror(-rc));
			return rc;
		}
	}
	for (struct vmm_instance *in = m->instances; in; in = in->next)
		n++;
	order = calloc(n ? n : 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	/* The list is newest first: fill it backwards for config order. */
	size_t i = n;
	for (struct vmm_instance *in = m->instances; in; in = in->next)
		order[--i] = in;
	for (i = 0; i < n && !rc; i++) {
		struct vmm_instance *in = order[i];
		if (in == m->hv_inst || in->is_backend || !in->opened)
			continue;
		const struct vmm_device_ops *ops = in->lp->ops;
		if (ops->size < offsetof(struct vmm_device_ops, ready) + sizeof(ops->ready) ||
		    !ops->ready)
			continue;
		m->in_ready = true;
		rc = VMM_AS(&in->who, ops->ready(in->state));
		m->in_ready = false;
		if (rc) {
			int line = 0;
			for (size_t d = 0; d < m->cfg->ndevices; d++)
				if (strcmp(m->cfg->devices[d].name, in->name) == 0)
					line = m->cfg->devices[d].line;
			vmm_log(VMM_LOG_ERROR, NULL, "%s:%d: device '%s' (plugin %s) failed to start: %s",
				m->cfg->file, line, in->name, in->lp->desc->name,
				strerror(rc < 0 ? -rc : EPROTO));
			rc = rc < 0 ? rc : -EPROTO;
		}
	}
	free(order);
	return rc;
}

/* MMIO no device may take: guest RAM (a region there would never see an
 * access), and the windows the hypervisor's in-kernel interrupt
 * controllers answer itself (x86's: vmm_x86_reserve_mmio()). */
static void reserve_mmio(struct vmm_machine *m)
{
	struct vmm_bus_space *mmio = &m->bus[VMM_BUS_MMIO];

	for (unsigned i = 0; i < m->nram; i++)
		vmm_bus_reserve(mmio, m->ram[i].gpa, m->ram[i].size, "guest RAM");
	if (!vmm_machine_is_arm64(m)) /* arm64: none (core/arch-arm64.h) */
		vmm_x86_reserve_mmio(m);
}

/* libevent's own warnings become our log lines instead of raw stderr. */
static void libevent_log(int severity, const char *msg)
{
	vmm_log(severity >= EVENT_LOG_ERR ? VMM_LOG_ERROR : VMM_LOG_DEBUG, "libevent", "%s", msg);
}

static int machine_build(const struct vmm_machine_config *cfg, struct vmm_plugin_set *ps,
			 const char *plugin_path, bool checking, struct vmm_machine **out)
{
	static bool evthread_ready;
	struct vmm_machine *m = calloc(1, sizeof(*m));
	int rc = -ENOMEM;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	if (!evthread_ready && evthread_use_pthreads() == 0)
		evthread_ready = true;
	event_set_log_callback(libevent_log);
	m->cfg = cfg;
	m->ps = ps;
	m->plugin_path = plugin_path;
	m->pagemap_fd = -1;
	m->checking = checking;
	m->t0 = monotonic_ns();
	m->nvcpus = cfg->vcpus;
	pthread_mutex_init(&m->halt_lock, NULL);
	pthread_cond_init(&m->halt_cond, NULL);
	pthread_mutex_init(&m->gate_lock, NULL);
	pthread_cond_init(&m->gate_cond, NULL);
	pthread_mutex_init(&m->vcpu_prog_lock, NULL);
	pthread_cond_init(&m->park_cond, NULL);
	for (unsigned i = 0; i < VMM_MAX_IRQ_LINES; i++) {
		m->irq[i].gsi = i;
		m->irq[i].irqfd = m->irq[i].resample_fd = -1;
	}
	vmm_bus_init(&m->bus[VMM_BUS_PIO], "pio", 0x10000, VMM_BUS_BYTES);
	vmm_bus_init(&m->bus[VMM_BUS_MMIO], "mmio", 0, VMM_BUS_BYTES);
	vmm_bus_init(&m->bus[VMM_BUS_MSR], "msr", 0x100000000ull, VMM_BUS_REGISTERS);
	m->vcpus = calloc(cfg->vcpus, sizeof(*m->vcpus));
	m->base = event_base_new();
	if (!m->vcpus || !m->base)
		goto out_destroy;
	m->stop_ev = event_new(m->base, -1, 0, stop_event, m);
	if (!m->stop_ev)
		goto out_destroy;

	/* The hypervisor is an instance like any other, with its own host table. */
	m->hv_inst = instance_new(m, &cfg->hypervisor, false);
	if (!m->hv_inst)
		goto out_destroy;
	m->hv_ops = cfg->hypervisor.lp->ops;
	rc = VMM_AS(HV_WHO(m), m->hv_ops->vm_create(&m->hv_inst->host, cfg->vcpus, &m->vm));
	if (rc < 0) {
		vmm_log(VMM_LOG_ERROR, NULL, "hypervisor '%s' could not create the VM: %s",
			cfg->hypervisor.plugin, strerror(-rc));
		m->vm = NULL;
		goto out_destroy;
	}
	if (HV_HAS(m, irq_mode))
		m->irq_mode = VMM_AS(HV_WHO(m), m->hv_ops->irq_mode(m->vm));
	else
		m->irq_mode = m->hv_ops->irq_line ? VMM_IRQ_KERNEL : VMM_IRQ_EMULATED;
	rc = vmm_setup_ram(m);
	if (rc)
		goto out_destroy;
	if (!checking)
		m->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	reserve_mmio(m);
	for (unsigned i = 0; i < m->nvcpus; i++) {
		m->vcpus[i].m = m;
		m->vcpus[i].index = i;
		rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_create(m->vm, i, &m->vcpus[i].hv));
		if (rc < 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "cannot create vCPU %u: %s", i, strerror(-rc));
			m->vcpus[i].hv = NULL;
			goto out_destroy;
		}
	}
	rc = create_devices(m);
	if (!rc)
		rc = devices_ready(m);
	if (!rc && vmm_machine_is_arm64(m))
		rc = vmm_arm64_check_devices(m);
	if (!rc)
		rc = vmm_apply_cpuid(m);
	if (rc && !checking)
		goto out_destroy;
	/* The firmware tables describe the devices: with one missing they
	 * would be wrong, and their errors beside the point. */
	if (!rc) {
		vmm_check_irq_lines(m);
		vmm_setup_irqfds(m);
		/* arm64: a device tree instead, built by vmm_arm64_boot(). */
		rc = vmm_machine_is_arm64(m) ? 0 : vmm_x86_build_acpi(m);
		if (rc && !checking)
			goto out_destroy;
	}
	/* The payload does not depend on the devices: check loads it after
	 * a failed one too, so a bad kernel is reported in the same pass.
	 * A config may leave the kernel to run's --kernel: check then says
	 * it did not see one instead of refusing what is not an error yet. */
	int boot_rc = 0;
	if (cfg->no_payload && !checking)
		vmm_log(VMM_LOG_DEBUG, NULL, "restoring: no boot payload loaded");
	else if (checking && !cfg->kernel)
		vmm_log(VMM_LOG_INFO, NULL, "%s: no boot payload checked: run needs boot { kernel } or "
			"--kernel", cfg->file);
	else
		boot_rc = vmm_machine_is_arm64(m) ? vmm_arm64_boot(m) : vmm_boot_load(m);
	if (!rc)
		rc = boot_rc;
	if (rc)
		goto out_destroy;
	*out = m;
	return 0;

out_destroy:
	vmm_machine_destroy(m);
	return rc ? rc : -ENOMEM;
}

int vmm_machine_create(const struct vmm_machine_config *cfg, struct vmm_plugin_set *ps,
		       const char *plugin_path, struct vmm_machine **out)
{
	return machine_build(cfg, ps, plugin_path, false, out);
}

int vmm_machine_check(const struct vmm_machine_config *cfg, struct vmm_plugin_set *ps,
		      const char *plugin_path, struct vmm_machine **out)
{
	return machine_build(cfg, ps, plugin_path, true, out);
}

struct event_base *vmm_machine_event_base(struct vmm_machine *m)
{
	return m->base;
}

const struct vmm_machine_config *vmm_machine_config(struct vmm_machine *m)
{
	return m->cfg;
}

void vmm_machine_destroy(struct vmm_machine *m)
{
	if (!m)
		return;
	vmm_migrate_cancel(m, "the machine is stopping");
	/* Devices first (they hold backends), then backends, in reverse
	 * creation order, which the instance list already is. */
	for (int pass = 0; pass < 2; pass++) {
		for (struct vmm_instance *in = m->instances; in; in = in->next) {
			if (!in->opened || in == m->hv_inst)
				continue;
			if (pass == 0 && !in->is_backend) {
				const struct vmm_device_ops *ops = in->lp->ops;
				if (ops->destroy)
					VMM_IN(&in->who, ops->destroy(in->state));
				in->opened = false;
			} else if (pass == 1 && in->is_backend) {
				const struct vmm_backend_ops *ops = in->lp->ops;
				vmm_char_report_lost(in);
				if (ops->close)
					VMM_IN(&in->who, ops->close(in->state));
				in->opened = false;
			}
		}
	}
	if (m->vm)
		vmm_teardown_irqfds(m);
	for (unsigned i = 0; m->vcpus && i < m->nvcpus; i++)
		if (m->vcpus[i].hv)
			VMM_IN(HV_WHO(m), m->hv_ops->vcpu_destroy(m->vcpus[i].hv));
	if (m->vm)
		VMM_IN(HV_WHO(m), m->hv_ops->vm_destroy(m->vm));
	for (unsigned i = 0; i < m->nram; i++)
		if (m->ram[i].hva)
			munmap(m->ram[i].hva, m->ram[i].size);
	for (unsigned i = 0; i < m->nram; i++)
		free((void *)m->ram[i].dev_dirty);
	if (m->pagemap_fd >= 0)
		close(m->pagemap_fd);
	while (m->instances) {
		struct vmm_instance *in = m->instances;
		m->instances = in->next;
		free(in->chr);
		free(in->blk);
		free(in->net);
		free(in->who_what);
		pthread_mutex_destroy(&in->lock);
		free(in);
	}
	for (size_t i = 0; m->implicit && i < m->nimplicit; i++) {
		vmm_propset_free(m->implicit[i]->props);
		free(m->implicit[i]->name);
		free(m->implicit[i]->plugin);
		free(m->implicit[i]);
	}
	free(m->implicit);
	for (size_t i = 0; i < m->ndescs; i++)
		free_desc(&m->descs[i]);
	free(m->descs);
	free(m->cpuid);
	for (int b = 0; b < VMM_BUS_COUNT; b++)
		if (atomic_load(&m->bus[b].map))
			vmm_bus_destroy(&m->bus[b]);
	if (m->stop_ev)
		event_free(m->stop_ev);
	if (m->base)
		event_base_free(m->base);
	free(m->vcpus);
	pthread_cond_destroy(&m->halt_cond);
	pthread_cond_destroy(&m->park_cond);
	pthread_mutex_destroy(&m->halt_lock);
	pthread_cond_destroy(&m->gate_cond);
	pthread_mutex_destroy(&m->gate_lock);
	free(m->seccomp_extra);
	vmm_seccomp_prog_free(&m->vcpu_prog);
	pthread_mutex_destroy(&m->vcpu_prog_lock);
	free(m);
}
