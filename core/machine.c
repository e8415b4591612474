/* core/machine.c - builds a machine from its config and runs it.
 *
 * Threads: the main thread runs the libevent loop (backends' fds, device
 * timers, signals); each vCPU is a thread looping in the hypervisor's
 * vcpu_run() and dispatching exits onto the buses.  A vCPU is kicked out of
 * the hypervisor with vcpu_kick() (immediate exit) plus SIGUSR1.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/arch-arm64.h"
#include "core/arch-x86.h"
#include "core/block.h"
#include "core/net.h"
#include "core/table.h"
#include "core/state.h"
#include "core/char.h"
#include "core/boot.h"
#include "core/bus.h"
#include "core/machine.h"
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

void vmm_kick_halted(struct vmm_machine *m)
{
	pthread_mutex_lock(&m->halt_lock);
	pthread_cond_broadcast(&m->halt_cond);
	pthread_mutex_unlock(&m->halt_lock);
}

void vmm_kick_vcpu(struct vmm_machine *m, struct vmm_vcpu *v)
{
	VMM_IN(HV_WHO(m), m->hv_ops->vcpu_kick(v->hv));
	if (v->running && !pthread_equal(v->thread, pthread_self()))
		pthread_kill(v->thread, VMM_KICK_SIGNAL);
}

/* The vCPU whose thread this is (NULL on the main thread): vcpu_tsc is
 * only meaningful between that vCPU's runs, and only that thread gives
 * the hypervisor its interrupt inputs (vmm_apply_cpu_pins()). */
__thread struct vmm_vcpu *vmm_this_vcpu;

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

static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

/* Takes one stop signal from the machine's signalfd; false when none is
 * pending. */
static bool take_signal(struct vmm_machine *m, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	int sig = (int)si.ssi_signo;
	vmm_log(VMM_LOG_INFO, NULL, "%s received, stopping the VM", vmm_signal_name(sig));
	/* The user's signal outranks whatever the guest asked for in the
	 * same moment: a reset that won the race to stop must not turn it
	 * into a restart (on-reset = restart would then never end). */
	atomic_store(&m->signalled, sig);
	vmm_machine_stop(m, 128 + sig, "signal");
	return true;
}

static void signal_event(evutil_socket_t sfd, short what, void *arg)
{
	take_signal(arg, sfd);
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

/* ------------------------------------------------------------ vCPU loop */

static void dispatch_io(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	struct vmm_bus_space *pio = &m->bus[VMM_BUS_PIO];
	unsigned size = e->io.size;
	uint8_t *p = e->io.data;

	for (uint32_t i = 0; i < e->io.count; i++, p += size) {
		uint64_t val = 0;
		if (e->io.is_write) {
			memcpy(&val, p, size);
			vmm_bus_write(pio, v->index, e->io.port, size, val);
		} else {
			vmm_bus_read(pio, v->index, e->io.port, size, &val);
			memcpy(p, &val, size);
		}
	}
}

static void dispatch_mmio(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	struct vmm_bus_space *mmio = &m->bus[VMM_BUS_MMIO];
	uint64_t val = 0;
	unsigned len = e->mmio.len > 8 ? 8 : e->mmio.len;

	if (e->mmio.is_write) {
		memcpy(&val, e->mmio.data, len);
		vmm_bus_write(mmio, v->index, e->mmio.addr, len, val);
	} else {
		vmm_bus_read(mmio, v->index, e->mmio.addr, len, &val);
		memcpy(e->mmio.data, &val, len);
	}
}

static void log_guest_crash(struct vmm_machine *m, struct vmm_vcpu *v, const char *what)
{
	if (vmm_machine_is_arm64(m))
		vmm_arm64_log_crash(m, v->hv, v->index, what);
	else
		vmm_x86_log_crash(m, v->hv, v->index, what);
}

/*
 * A pause parks the vCPU here, halt_lock held, until a resume or a stop.
 * The pausing thread counts the parked vCPUs (park_cond).
 */
static void park_locked(struct vmm_machine *m, struct vmm_vcpu *v)
{
	v->parked = true;
	m->nparked++;
	pthread_cond_broadcast(&m->park_cond);
	while (atomic_load(&m->pause_requested) && !atomic_load(&m->stopping))
		pthread_cond_wait(&m->halt_cond, &m->halt_lock);
	m->nparked--;
	v->parked = false;
}

/* The in-kernel Hyper-V's exit goes to the device that enabled it.  A
 * hypercall nobody answers is one the partition does not offer (TLFS 3.8:
 * HV_STATUS_INVALID_HYPERCALL_CODE). */
static void handle_hyperv(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	const struct vmm_hyperv_client *c = &m->hyperv_client;
	const struct vmm_who *who_prev;

	if (e->hyperv.type == VMM_HYPERV_EXIT_HCALL) {
		e->hyperv.hcall.result = 2; /* HV_STATUS_INVALID_HYPERCALL_CODE */
		if (!m->hyperv_in || !c->hcall)
			return;
		who_prev = vmm_instance_lock(m->hyperv_in);
		e->hyperv.hcall.result = c->hcall(m->hyperv_opaque, v->index, e->hyperv.hcall.input,
						  e->hyperv.hcall.params[0], e->hyperv.hcall.params[1]);
		vmm_instance_unlock(m->hyperv_in, who_prev);
	} else if (e->hyperv.type == VMM_HYPERV_EXIT_SYNIC && m->hyperv_in && c->synic) {
		who_prev = vmm_instance_lock(m->hyperv_in);
		c->synic(m->hyperv_opaque, v->index, e->hyperv.msr, e->hyperv.synic.control,
			 e->hyperv.synic.evt_page, e->hyperv.synic.msg_page);
		vmm_instance_unlock(m->hyperv_in, who_prev);
	}
}

/* One exit; returns false when the vCPU must stop. */
static bool handle_exit(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	char what[192];

	switch (e->reason) {
	case VMM_EXIT_IO:
		dispatch_io(m, v, e);
		return true;
	case VMM_EXIT_MMIO:
		dispatch_mmio(m, v, e);
		return true;
	case VMM_EXIT_MSR_READ:
		e->msr.error = vmm_bus_read(&m->bus[VMM_BUS_MSR], v->index, e->msr.index, 8,
					    &e->msr.value) != 0;
		return true;
	case VMM_EXIT_MSR_WRITE:
		e->msr.error = vmm_bus_write(&m->bus[VMM_BUS_MSR], v->index, e->msr.index, 8,
					     e->msr.value) != 0;
		return true;
	case VMM_EXIT_INTR:
	case VMM_EXIT_IRQ_WINDOW:
		return true;
	case VMM_EXIT_EOI:
		/* A level-triggered vector ended: the IOAPIC clears remote IRR. */
		for (unsigned i = 0; i < m->nsinks; i++) {
			struct vmm_irq_sink *k = &m->sinks[i];
			if (VMM_TABLE_HAS(k->ops->size, k->ops, struct vmm_irq_controller_ops, eoi)) {
				const struct vmm_who *who_prev = vmm_instance_lock(k->in);
				k->ops->eoi(k->opaque, e->eoi.vector);
				vmm_instance_unlock(k->in, who_prev);
			}
		}
		return true;
	case VMM_EXIT_HALT:
		/* No in-kernel local APIC: sleep until the INTR pin rises or
		 * the machine stops.  A guest that halts with nothing to wake
		 * it (cli; hlt) stays here until SIGTERM, as hardware would. */
		pthread_mutex_lock(&m->halt_lock);
		v->halted = true;
		while (!atomic_load(&m->stopping) && !atomic_load(&v->intr_level)) {
			/* Paused while halted: parked here, so that a
			 * resume finds it still halted (no spurious wake). */
			if (atomic_load(&m->pause_requested))
				park_locked(m, v);
			else
				pthread_cond_wait(&m->halt_cond, &m->halt_lock);
		}
		v->halted = false;
		pthread_mutex_unlock(&m->halt_lock);
		return true;
	case VMM_EXIT_HYPERCALL:
		e->hypercall.ret = (uint64_t)-1000; /* KVM_ENOSYS: no hypercalls yet */
		return true;
	case VMM_EXIT_HYPERV:
		handle_hyperv(m, v, e);
		return true;
	case VMM_EXIT_SYSTEM_EVENT:
		if (e->system_event.type == VMM_SYSTEM_EVENT_SHUTDOWN)
			vmm_machine_stop(m, VMM_STATUS_POWEROFF, "guest power off");
		else if (e->system_event.type == VMM_SYSTEM_EVENT_RESET)
			vmm_machine_stop(m, VMM_STATUS_RESET, "guest reset");
		else {
			log_guest_crash(m, v, "guest reported a crash");
			vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "guest crash");
		}
		return false;
	case VMM_EXIT_SHUTDOWN:
		log_guest_crash(m, v, "triple fault (guest shutdown)");
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "triple fault");
		return false;
	case VMM_EXIT_INTERNAL_ERROR:
		if (e->internal.suberror == 1) { /* KVM_INTERNAL_ERROR_EMULATION */
			char bytes[64];
			bytes[0] = '\0';
			if (!vmm_machine_is_arm64(m))
				vmm_x86_code_bytes_at_rip(m, v->hv, bytes, sizeof(bytes));
			snprintf(what, sizeof(what),
				 "instruction emulation failed%s (hypervisor internal error, suberror 1)", bytes);
		} else {
			snprintf(what, sizeof(what), "hypervisor internal error, suberror %u",
				 e->internal.suberror);
		}
		log_guest_crash(m, v, what);
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "internal error");
		return false;
	case VMM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, hardware reason 0x%" PRIx64, e->fail_entry.reason);
		log_guest_crash(m, v, what);
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "entry failure");
		return false;
	default:
		snprintf(what, sizeof(what), "unhandled exit (hypervisor code %u)", e->unknown.code);
		log_guest_crash(m, v, what);
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "unknown exit");
		return false;
	}
}

/*
 * The INTR pin: while the controller holds it high, inject its vector as
 * soon as the vCPU can take one, or ask the hypervisor for an exit when it
 * can (an interrupt window).  The acknowledge happens only at injection,
 * as an INTA cycle does, so the controller's priorities stay exact.
 */
static void deliver_intr(struct vmm_machine *m, struct vmm_vcpu *v)
{
	if (!atomic_load_explicit(&v->intr_level, memory_order_acquire)) {
		if (v->window_requested) {
			VMM_IN(HV_WHO(m), m->hv_ops->vcpu_irq_window(v->hv, false));
			v->window_requested = false;
		}
		return;
	}
	if (!VMM_AS(HV_WHO(m), m->hv_ops->vcpu_irq_window(v->hv, true))) {
		v->window_requested = true;
		return;
	}
	v->window_requested = false;
	struct vmm_irq_sink *k = v->intr_sink;
	const struct vmm_who *who_prev = vmm_instance_lock(k->in);
	int vector = k->ops->ack(k->opaque, v->index);
	vmm_instance_unlock(k->in, who_prev);
	if (vector >= 0 && vector <= 255)
		VMM_IN(HV_WHO(m), m->hv_ops->vcpu_inject(v->hv, (uint32_t)vector));
}

/* Exits whose result the hypervisor hands the guest at the next entry. */
static bool exit_needs_reentry(unsigned reason)
{
	switch (reason) {
	case VMM_EXIT_IO:
	case VMM_EXIT_MMIO:
	case VMM_EXIT_MSR_READ:
	case VMM_EXIT_MSR_WRITE:
	case VMM_EXIT_HYPERCALL:
		return true;
	}
	return false;
}

/* Every vCPU thread loads the same program, built by the first one to
 * get here while the main thread builds its own (on another core), so
 * the filters cost one libseccomp build per kind of thread, not one per
 * thread (bench/seccomp-cost.sh). */
static int vcpu_confine(struct vmm_machine *m, char *err, size_t errlen)
{
	int rc = 0;

	if (m->cfg->seccomp == VMM_SECCOMP_OFF)
		return 0;
	pthread_mutex_lock(&m->vcpu_prog_lock);
	if (!m->vcpu_prog_built) {
		m->vcpu_prog_rc = vmm_seccomp_build(VMM_THREAD_VCPU, m->cfg->seccomp, m->seccomp_extra,
						    m->nseccomp_extra, &m->vcpu_prog, m->vcpu_prog_err,
						    sizeof(m->vcpu_prog_err));
		m->vcpu_prog_built = true;
	}
	if (m->vcpu_prog_rc) {
		snprintf(err, errlen, "%s", m->vcpu_prog_err);
		rc = m->vcpu_prog_rc;
	}
	pthread_mutex_unlock(&m->vcpu_prog_lock);
	return rc ? rc : vmm_seccomp_load(&m->vcpu_prog, err, errlen);
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *v = arg;
	struct vmm_machine *m = v->m;
	struct vmm_exit e;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VMM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* A plugin overflowing this thread's stack is reported too. */
	vmm_process_thread_init();
	vmm_this_vcpu = v;

	/* This thread's filter, then wait until the main thread has its own:
	 * no guest instruction runs before every thread is confined. */
	static _Thread_local char name[24];
	snprintf(name, sizeof(name), "vCPU %u", v->index);
	vmm_thread_name = name;
	char err[256];
	if (vcpu_confine(m, err, sizeof(err))) {
		vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u: %s", v->index, err);
		vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
	}
	pthread_mutex_lock(&m->gate_lock);
	while (!m->gate_open)
		pthread_cond_wait(&m->gate_cond, &m->gate_lock);
	pthread_mutex_unlock(&m->gate_lock);

	uint64_t start = monotonic_ns();
	bool can_inject = HV_HAS(m, vcpu_irq_window) && HV_HAS(m, vcpu_inject);
	bool drives_pins = m->irq_mode == VMM_IRQ_EMULATED && HV_HAS(m, vcpu_irq_set);
	e.reason = VMM_EXIT_NONE;
	/* Restored halted (core/snapshot.c): wait as its HLT did. */
	if (v->start_halted) {
		e.reason = VMM_EXIT_HALT;
		handle_exit(m, v, &e);
	}
	while (!atomic_load_explicit(&m->stopping, memory_order_relaxed)) {
		bool completing = false;

		if (atomic_load(&m->pause_requested)) {
			if (!exit_needs_reentry(e.reason)) {
				pthread_mutex_lock(&m->halt_lock);
				park_locked(m, v);
				pthread_mutex_unlock(&m->halt_lock);
				continue;
			}
			/* The I/O, MMIO, MSR or hypercall exit just handled is
			 * finished (its result given to the guest, RIP past the
			 * instruction) only when the vCPU enters the hypervisor
			 * again: KVM's api.rst, KVM_RUN, "the corresponding
			 * operations are complete (and guest state is
			 * consistent) only after userspace has re-entered the
			 * kernel".  Enter with the kick set, which runs no guest
			 * instruction, so a parked vCPU's state (a snapshot's)
			 * never holds a half-done one: an OUT saved before it
			 * completes would be done twice by the restored guest. */
			VMM_IN(HV_WHO(m), m->hv_ops->vcpu_kick(v->hv));
			completing = true;
		}
		if (can_inject && !completing)
			deliver_intr(m, v);
		if (drives_pins)
			vmm_apply_cpu_pins(m, v);
		int rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_run(v->hv, &e));
		if (rc < 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u cannot run: %s", v->index, strerror(-rc));
			vmm_machine_stop(m, VMM_STATUS_ERROR, "vcpu_run failed");
			break;
		}
		if (e.reason < VMM_EXIT__COUNT)
			v->exits[e.reason]++;
		if (!handle_exit(m, v, &e))
			break;
	}
	v->run_ns = monotonic_ns() - start;
	vmm_process_thread_fini();
	return NULL;
}

/*
 * Wait for a stopping vCPU's thread.  One kick should be enough, but a
 * vCPU that is not interrupted (seen once, under load, on a software-
 * nested host: the thread stayed in KVM_RUN) must not hang vmmctl for
 * good, out of reach of SIGTERM: kick it again every 100 ms.
 */
static void join_vcpu(struct vmm_machine *m, struct vmm_vcpu *v)
{
	for (unsigned tries = 1;; tries++) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(v->thread, NULL, &until) != ETIMEDOUT)
			return;
		if (tries == 10)
			vmm_log(VMM_LOG_WARN, NULL, "vCPU %u has not stopped after 1 s; kicking it again",
				v->index);
		vmm_kick_vcpu(m, v);
	}
}

/* The plugins' declared calls (vmm/plugin.h, ABI 1.10): a plugin's code
 * runs on the vCPU threads (its register callbacks) and on the main loop
 * (its fds and timers), so its calls join both lists. */
static int collect_seccomp_extra(struct vmm_machine *m)
{
	size_t n = 0;

	for (struct vmm_instance *in = m->instances; in; in = in->next)
		n++;
	free(m->seccomp_extra);
	m->nseccomp_extra = 0;
	m->seccomp_extra = calloc(n + 1, sizeof(*m->seccomp_extra));
	if (!m->seccomp_extra)
		return -ENOMEM;
	for (struct vmm_instance *in = m->instances; in; in = in->next) {
		const char *const *calls = vmm_plugin_syscalls(in->lp->desc);
		if (calls)
			m->seccomp_extra[m->nseccomp_extra++] = calls;
	}
	return 0;
}

/*
 * The main thread's filter, once every vCPU thread exists (so the list
 * needs no clone()).  A thread vmmctl did not start (a plugin's) would run
 * unconfined: with seccomp on, that is an error.  A caller that builds
 * the next machine on this thread after a reset (cfg->restart_on_reset:
 * open(), KVM_CREATE_VM, clone() for its vCPUs) gets only the vCPU threads
 * confined; vmmctl does not: each boot is a child process of its own
 * (jail.h), which clears the flag.
 */
static void confine_main(struct vmm_machine *m)
{
	enum vmm_seccomp_mode mode = m->cfg->seccomp;
	unsigned started = 0;
	char err[256];

	if (mode == VMM_SECCOMP_OFF || atomic_load(&m->stopping)) {
		vmm_seccomp_release_tasks();
		return;
	}
	for (unsigned i = 0; i < m->nvcpus; i++)
		started += m->vcpus[i].running;
	int others = vmm_seccomp_other_threads(1 + started);
	if (others > 0) {
		vmm_log(mode == VMM_SECCOMP_ON ? VMM_LOG_ERROR : VMM_LOG_WARN, NULL,
			"seccomp: %d thread%s not started by vmmctl (a plugin's) would run unconfined%s", others,
			others == 1 ? "" : "s", mode == VMM_SECCOMP_ON ? "; not running (seccomp = \"log\" or \"off\" to run anyway)" : "");
		if (mode == VMM_SECCOMP_ON) {
			vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
			return;
		}
	}
	if (m->cfg->restart_on_reset) {
		vmm_log(VMM_LOG_DEBUG, NULL, "seccomp: on-reset = restart: the main thread stays unconfined");
		return;
	}
	if (vmm_seccomp_install(VMM_THREAD_MAIN, mode, m->seccomp_extra, m->nseccomp_extra, err,
				sizeof(err))) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s", err);
		vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
	}
}

int vmm_machine_run(struct vmm_machine *m)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set, old, term;
	struct event *sig_ev = NULL;

	if (m->checking) {
		/* Its backends are stand-ins: nothing would reach the host. */
		vmm_log(VMM_LOG_ERROR, NULL, "a machine built by check does not run");
		return VMM_STATUS_ERROR;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(VMM_KICK_SIGNAL, &sa, NULL);
	/*
	 * The stop signals (SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGTERM: see
	 * process.h) stay blocked in every thread and are read from a
	 * signalfd by the event loop.  A blocked signal stays pending until it
	 * is read, so one that comes while the guest is already stopping (an
	 * instant reset racing the user's Ctrl-C) is never lost: it ends the
	 * run here.  (While a machine is built, vmmctl takes them itself:
	 * process.h.)  vCPU threads inherit this
	 * mask; only they unblock the kick signal.
	 */
	vmm_stop_signals(&term);
	set = term;
	sigaddset(&set, VMM_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int sfd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd >= 0)
		sig_ev = event_new(m->base, sfd, EV_READ | EV_PERSIST, signal_event, m);
	if (!sig_ev || event_add(sig_ev, NULL) != 0)
		vmm_log(VMM_LOG_WARN, NULL, "cannot watch the stop signals: %s", strerror(errno));

	m->gate_open = false;
	if (m->cfg->seccomp != VMM_SECCOMP_OFF) {
		if (collect_seccomp_extra(m)) {
			vmm_log(VMM_LOG_ERROR, NULL, "seccomp: out of memory");
			vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
		}
	}
	/* A restored machine's virtual clock goes on from the snapshot's
	 * (clock_base, set by vmm_machine_restore()), so device timers keep
	 * their deadlines; a new machine's starts at 0. */
	m->t0 = monotonic_ns() - m->clock_base;
	m->started_ns = monotonic_ns();
	for (unsigned i = 0; i < m->nvcpus && !atomic_load(&m->stopping); i++) {
		struct vmm_vcpu *v = &m->vcpus[i];
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		/* Dispatch needs little stack; a smaller one keeps RSS down. */
		pthread_attr_setstacksize(&attr, 256 * 1024);
		v->running = pthread_create(&v->thread, &attr, vcpu_thread, v) == 0;
		pthread_attr_destroy(&attr);
		if (!v->running) {
			vmm_log(VMM_LOG_ERROR, NULL, "cannot start vCPU %u thread", i);
			vmm_machine_stop(m, VMM_STATUS_ERROR, "thread creation failed");
			break;
		}
	}
	confine_main(m);
	pthread_mutex_lock(&m->gate_lock);
	m->gate_open = true;
	pthread_cond_broadcast(&m->gate_cond);
	pthread_mutex_unlock(&m->gate_lock);
	if (!atomic_load(&m->stopping))
		event_base_dispatch(m->base);
	/* The loop ends only through vmm_machine_stop(). */
	vmm_machine_stop(m, VMM_STATUS_ERROR, "event loop ended");
	for (unsigned i = 0; i < m->nvcpus; i++) {
		if (m->vcpus[i].running)
			join_vcpu(m, &m->vcpus[i]);
		m->vcpus[i].running = false;
	}
	/* A signal that came as the guest stopped still counts. */
	if (sfd >= 0 && !atomic_load(&m->signalled))
		take_signal(m, sfd);
	if (sig_ev)
		event_free(sig_ev);
	if (sfd >= 0)
		close(sfd);
	/* The caller's mask again: vmmctl keeps SIGINT/SIGTERM blocked
	 * between machines, so what came during teardown waits for the
	 * next machine or vmmctl's exit. */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (atomic_load(&m->signalled))
		m->status = 128 + atomic_load(&m->signalled);
	return m->status;
}

static const char *const exit_names[VMM_EXIT__COUNT] = {
	[VMM_EXIT_NONE] = "none", [VMM_EXIT_IO] = "io", [VMM_EXIT_MMIO] = "mmio",
	[VMM_EXIT_MSR_READ] = "msr-read", [VMM_EXIT_MSR_WRITE] = "msr-write", [VMM_EXIT_HALT] = "halt",
	[VMM_EXIT_SHUTDOWN] = "shutdown", [VMM_EXIT_SYSTEM_EVENT] = "system-event",
	[VMM_EXIT_HYPERCALL] = "hypercall", [VMM_EXIT_INTERNAL_ERROR] = "internal-error",
	[VMM_EXIT_FAIL_ENTRY] = "fail-entry", [VMM_EXIT_IRQ_WINDOW] = "irq-window",
	[VMM_EXIT_INTR] = "intr", [VMM_EXIT_UNKNOWN] = "unknown", [VMM_EXIT_EOI] = "eoi",
	[VMM_EXIT_HYPERV] = "hyperv",
};

uint64_t vmm_machine_started_ns(const struct vmm_machine *m)
{
	return m->started_ns;
}

const char *vmm_exit_reason_name(unsigned reason)
{
	return reason < VMM_EXIT__COUNT && exit_names[reason] ? exit_names[reason] : "?";
}

int vmm_machine_stats_get(struct vmm_machine *m, struct vmm_machine_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->vcpu = calloc(m->nvcpus ? m->nvcpus : 1, sizeof(*st->vcpu));
	if (!st->vcpu)
		return -ENOMEM;
	st->nvcpus = m->nvcpus;
	for (unsigned i = 0; i < m->nvcpus; i++) {
		struct vmm_vcpu *v = &m->vcpus[i];
		struct vmm_vcpu_exit_stats *vs = &st->vcpu[i];
		for (unsigned r = 0; r < VMM_EXIT__COUNT; r++) {
			/* Written by the vCPU's thread alone: a running
			 * one's count may be one exit behind. */
			vs->exits[r] = __atomic_load_n(&v->exits[r], __ATOMIC_RELAXED);
			vs->total += vs->exits[r];
		}
		vs->run_us = v->run_ns / 1000;
	}
	for (int b = 0; b < VMM_BUS_COUNT; b++) {
		struct vmm_bus_space *bus = &m->bus[b];
		struct vmm_bus_stats *bs = &st->bus[b];
		bs->name = bus->name;
		bs->regions = atomic_load(&bus->map) ? vmm_bus_count(bus) : 0;
		bs->unclaimed_reads = (uint64_t)bus->unclaimed_reads;
		bs->unclaimed_writes = (uint64_t)bus->unclaimed_writes;
		bs->refused_sizes = (uint64_t)bus->refused;
		bs->device_errors = (uint64_t)bus->device_errors;
	}
	for (unsigned i = 0; i < VMM_MAX_IRQ_LINES; i++)
		if (m->irq[i].irqfd >= 0 && st->nirqfds < sizeof(st->irqfd_lines) / sizeof(st->irqfd_lines[0]))
			st->irqfd_lines[st->nirqfds++] = i;
	st->guest_errors = (uint64_t)m->guest_errors;
	return 0;
}

void vmm_machine_stats_free(struct vmm_machine_stats *st)
{
	free(st->vcpu);
	st->vcpu = NULL;
}

void vmm_machine_print_stats(struct vmm_machine *m, FILE *f)
{
	struct vmm_machine_stats st;

	if (vmm_machine_stats_get(m, &st)) {
		fprintf(f, "stats: out of memory\n");
		return;
	}
	for (unsigned i = 0; i < st.nvcpus; i++) {
		const struct vmm_vcpu_exit_stats *vs = &st.vcpu[i];
		fprintf(f, "vcpu%u exits:", i);
		for (unsigned r = 0; r < VMM_EXIT__COUNT; r++)
			if (vs->exits[r])
				fprintf(f, " %s=%" PRIu64, exit_names[r], vs->exits[r]);
		fprintf(f, " total=%" PRIu64 " run_us=%" PRIu64 "\n", vs->total, vs->run_us);
	}
	for (int b = 0; b < VMM_BUS_COUNT; b++) {
		const struct vmm_bus_stats *bs = &st.bus[b];
		fprintf(f, "%s bus: regions=%zu unclaimed-reads=%" PRIu64 " unclaimed-writes=%" PRIu64
			" refused-sizes=%" PRIu64 " device-errors=%" PRIu64 "\n",
			bs->name, bs->regions, bs->unclaimed_reads, bs->unclaimed_writes, bs->refused_sizes,
			bs->device_errors);
	}
	fprintf(f, "irq: %u line(s) by irqfd", st.nirqfds);
	for (unsigned i = 0; i < st.nirqfds; i++)
		fprintf(f, "%s%u", i ? " " : " (", st.irqfd_lines[i]);
	fprintf(f, "%s\n", st.nirqfds ? ")" : "");
	fprintf(f, "guest errors logged by devices: %" PRIu64 "\n", st.guest_errors);
	vmm_machine_stats_free(&st);
}

/* ------------------------------------------------------- pause, resume */

int vmm_machine_pause(struct vmm_machine *m)
{
	if (atomic_load(&m->stopping))
		return -ESHUTDOWN;
	if (!m->started_ns)
		return -EAGAIN;
	pthread_mutex_lock(&m->halt_lock);
	if (atomic_load(&m->pause_requested)) {
		pthread_mutex_unlock(&m->halt_lock);
		return -EALREADY;
	}
	atomic_store(&m->pause_requested, true);
	/* Every vCPU: one whose thread is still starting parks as it enters
	 * its loop (a thread that could not start stops the machine). */
	unsigned want = m->nvcpus;
	/* A vCPU in the hypervisor leaves it at the kick; one halted in
	 * the core's own wait (halt_cond) parks there.  As in join_vcpu(),
	 * a kick that did not land is repeated every 100 ms. */
	for (unsigned tries = 0; m->nparked < want && !atomic_load(&m->stopping) && tries < 50; tries++) {
		struct timespec until;

		for (unsigned i = 0; i < m->nvcpus; i++)
			if (m->vcpus[i].hv && !m->vcpus[i].parked)
				vmm_kick_vcpu(m, &m->vcpus[i]);
		pthread_cond_broadcast(&m->halt_cond);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (m->nparked < want && !atomic_load(&m->stopping) &&
		       pthread_cond_timedwait(&m->park_cond, &m->halt_lock, &until) != ETIMEDOUT)
			;
	}
	int rc = 0;
	if (atomic_load(&m->stopping))
		rc = -ESHUTDOWN;
	else if (m->nparked < want)
		rc = -ETIMEDOUT;
	if (rc) {
		atomic_store(&m->pause_requested, false);
		pthread_cond_broadcast(&m->halt_cond);
	}
	pthread_mutex_unlock(&m->halt_lock);
	if (rc == -ETIMEDOUT)
		vmm_log(VMM_LOG_WARN, NULL, "pause: %u of %u vCPUs parked in 5 s; running on", m->nparked, want);
	return rc;
}

int vmm_machine_resume(struct vmm_machine *m)
{
	if (atomic_load(&m->stopping))
		return -ESHUTDOWN;
	pthread_mutex_lock(&m->halt_lock);
	if (!atomic_load(&m->pause_requested)) {
		pthread_mutex_unlock(&m->halt_lock);
		return -EALREADY;
	}
	atomic_store(&m->pause_requested, false);
	pthread_cond_broadcast(&m->halt_cond);
	pthread_mutex_unlock(&m->halt_lock);
	return 0;
}

enum vmm_machine_state vmm_machine_state(struct vmm_machine *m)
{
	if (atomic_load(&m->stopping))
		return VMM_MACHINE_STOPPING;
	if (!m->started_ns)
		return VMM_MACHINE_CREATED;
	/* vmm_machine_pause() returns only once all are parked. */
	return atomic_load(&m->pause_requested) ? VMM_MACHINE_PAUSED : VMM_MACHINE_RUNNING;
}

const char *vmm_machine_state_name(enum vmm_machine_state s)
{
	switch (s) {
	case VMM_MACHINE_CREATED: return "created";
	case VMM_MACHINE_RUNNING: return "running";
	case VMM_MACHINE_PAUSED: return "paused";
	case VMM_MACHINE_STOPPING: return "stopping";
	}
	return "?";
}

bool vmm_machine_vcpu_parked(struct vmm_machine *m, unsigned i)
{
	pthread_mutex_lock(&m->halt_lock);
	bool parked = i < m->nvcpus && m->vcpus[i].parked;
	pthread_mutex_unlock(&m->halt_lock);
	return parked;
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
