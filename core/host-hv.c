/* core/host-hv.c - the host services that reach into the hypervisor for a
 * device: vCPU count and register writes (a device's ready op), CPUID
 * leaves, the in-kernel Hyper-V, acceleration hints and in-kernel devices.
 *
 * Each is a thin check-and-forward to the hypervisor plugin's ops; the
 * machine's life cycle (core/machine.c) applies the collected CPUID
 * leaves once every vCPU and device exists (vmm_apply_cpuid()).  CPUID
 * and Hyper-V are x86 facts, refused on an arm64 machine here rather than
 * moved out: the host table's entries are the same on every architecture.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/vmm.h>
#include "core/arch-arm64.h"
#include "core/host-services.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/process.h"

unsigned host_vcpu_count(const struct vmm_host *h)
{
	return inst_of(h)->m->nvcpus;
}

/* ABI 1.14: a device's register write, before any vCPU runs. */
int host_vcpu_reg_write(const struct vmm_host *h, unsigned vcpu, uint64_t id,
			       const void *val)
{
	struct vmm_machine *m = inst_of(h)->m;

	if (!m->in_ready)
		return -EBUSY;
	if (vcpu >= m->nvcpus || !m->vcpus[vcpu].hv || !val)
		return -EINVAL;
	if (!HV_HAS(m, vcpu_reg_set))
		return -ENOTSUP;
	return VMM_AS(HV_WHO(m), m->hv_ops->vcpu_reg_set(m->vcpus[vcpu].hv, id, val));
}

static bool same_leaf(const struct vmm_cpuid_leaf *a, const struct vmm_cpuid_leaf *b)
{
	if (a->function != b->function)
		return false;
	if ((a->flags | b->flags) & VMM_CPUID_INDEXED)
		return a->index == b->index;
	return true;
}

int host_cpuid_set(const struct vmm_host *h, const struct vmm_cpuid_leaf *leaves, unsigned n)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;
	struct vmm_cpuid_leaf *grown;

	if (!HV_HAS(m, vcpu_cpuid_set) || vmm_machine_is_arm64(m))
		return -ENOTSUP;
	for (unsigned i = 0; i < n; i++)
		for (size_t j = 0; j < m->ncpuid; j++)
			if (same_leaf(&leaves[i], &m->cpuid[j])) {
				vmm_log(VMM_LOG_ERROR, in->name,
					"CPUID leaf 0x%x.%u is given by another device already",
					leaves[i].function, leaves[i].index);
				return -EEXIST;
			}
	if (!n)
		return 0;
	grown = realloc(m->cpuid, (m->ncpuid + n) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	memcpy(grown + m->ncpuid, leaves, n * sizeof(*grown));
	m->cpuid = grown;
	m->ncpuid += n;
	return 0;
}

int vmm_apply_cpuid(struct vmm_machine *m)
{
	if (!m->ncpuid)
		return 0;
	for (unsigned i = 0; i < m->nvcpus; i++) {
		int rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_cpuid_set(m->vcpus[i].hv, m->cpuid,
								     (unsigned)m->ncpuid));
		if (rc < 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "cannot set the devices' CPUID leaves on vCPU %u: %s",
				i, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* ABI 1.13: the hypervisor's own Hyper-V, for the hyperv plugin's
 * mode = "kernel". */
int host_hyperv_cpuid(const struct vmm_host *h, struct vmm_cpuid_leaf *leaves, unsigned *n)
{
	struct vmm_machine *m = inst_of(h)->m;

	if (!HV_HAS(m, hyperv_cpuid) || vmm_machine_is_arm64(m))
		return -ENOTSUP;
	return VMM_AS(HV_WHO(m), m->hv_ops->hyperv_cpuid(m->vm, leaves, n));
}

/* The vCPUs exist before the devices (machine_build): each is switched on
 * here, before any runs. */
int host_hyperv_enable(const struct vmm_host *h, uint32_t what,
			      const struct vmm_hyperv_client *client, void *opaque)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;

	if (!HV_HAS(m, vcpu_hyperv_enable) || vmm_machine_is_arm64(m))
		return -ENOTSUP;
	if (m->hyperv_in && m->hyperv_in != in)
		return -EEXIST;
	if ((what & VMM_HYPERV_SYNIC) && m->irq_mode == VMM_IRQ_EMULATED)
		return -EINVAL;
	for (unsigned i = 0; i < m->nvcpus; i++) {
		int rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_hyperv_enable(m->vcpus[i].hv, what));

		if (rc < 0)
			return rc;
	}
	m->hyperv_in = in;
	m->hyperv_opaque = opaque;
	memset(&m->hyperv_client, 0, sizeof(m->hyperv_client));
	if (client)
		memcpy(&m->hyperv_client, client,
		       client->size < sizeof(*client) ? client->size : sizeof(*client));
	m->hyperv_client.size = sizeof(m->hyperv_client);
	return 0;
}

int host_hv_accel(const struct vmm_host *h, enum vmm_accel what)
{
	struct vmm_machine *m = inst_of(h)->m;

	if (!HV_HAS(m, accel))
		return -ENOTSUP;
	return VMM_AS(HV_WHO(m), m->hv_ops->accel(m->vm, what));
}

/*
 * ABI 1.14: in-kernel devices for device plugins (the gic plugin's mode =
 * "kernel").  The backend's errors come back unlogged: the plugin says
 * what it wanted.
 */
int host_hv_device_create(const struct vmm_host *h, uint32_t type)
{
	struct vmm_machine *m = inst_of(h)->m;
	int dev = -1;

	if (!HV_HAS(m, device_create))
		return -ENOTSUP;
	int rc = VMM_AS(HV_WHO(m), m->hv_ops->device_create(m->vm, type, &dev));
	if (rc < 0)
		return rc;
	return dev >= 0 && dev < VMM_HV_DEV_VCPU_BASE ? dev : -EPROTO;
}

int host_hv_device_attr(const struct vmm_host *h, int dev, enum vmm_hv_attr_op op,
			       uint32_t group, uint64_t attr, void *val)
{
	struct vmm_machine *m = inst_of(h)->m;

	if ((unsigned)op > VMM_HV_ATTR_HAS || dev < 0)
		return -EINVAL;
	if (dev >= VMM_HV_DEV_VCPU_BASE) {
		unsigned vcpu = (unsigned)(dev - VMM_HV_DEV_VCPU_BASE);

		if (vcpu >= m->nvcpus || !m->vcpus[vcpu].hv)
			return -EINVAL;
		if (!HV_HAS(m, vcpu_attr))
			return -ENOTSUP;
		return VMM_AS(HV_WHO(m), m->hv_ops->vcpu_attr(m->vcpus[vcpu].hv, op, group, attr, val));
	}
	if (!HV_HAS(m, device_attr))
		return -ENOTSUP;
	return VMM_AS(HV_WHO(m), m->hv_ops->device_attr(m->vm, dev, op, group, attr, val));
}
