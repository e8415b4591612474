/* core/power.c - the machine's power button (ABI 1.16): a press goes to a
 * device's power_button op under the instance's lock, as a timer callback
 * does, so the device needs no lock of its own. */
#include <errno.h>
#include <stdio.h>
#include "core/machine-internal.h"
#include "core/power.h"
#include "core/table.h"

/* The device's power_button op, where its table is new enough to hold it
 * (ABI 1.16) and it fills it; NULL otherwise. */
static int (*button_op(const struct vmm_instance *in))(void *)
{
	if (in->is_backend || !in->opened || !in->lp || in->lp->desc->kind != VMM_PLUGIN_DEVICE)
		return NULL;
	const struct vmm_device_ops *ops = in->lp->ops;
	return VMM_TABLE_HAS(ops->size, ops, struct vmm_device_ops, power_button) ? ops->power_button : NULL;
}

bool vmm_machine_has_power_button(struct vmm_machine *m)
{
	for (struct vmm_instance *in = m->instances; in; in = in->next)
		if (button_op(in))
			return true;
	return false;
}

/* The list is newest first: recurse to its end so the first device of the
 * config is asked first (a machine has a handful of instances). */
static int press(struct vmm_instance *in, char *who, size_t len)
{
	if (!in)
		return -ENOTSUP;
	int rc = press(in->next, who, len);
	int (*op)(void *) = button_op(in);
	if (rc == 0 || !op)
		return rc;
	const struct vmm_who *prev = vmm_instance_lock(in);
	int r = op(in->state);
	vmm_instance_unlock(in, prev);
	if (who)
		snprintf(who, len, "%s", in->name);
	/* Anything but 0 or a negative errno is the plugin's bug: a refusal. */
	return r == 0 ? 0 : r < 0 ? r : -EPROTO;
}

int vmm_machine_power_button(struct vmm_machine *m, char *who, size_t len)
{
	if (who && len)
		who[0] = '\0';
	return press(m->instances, who, len);
}
