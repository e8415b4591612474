/* core/power.h - the machine's power button (ABI 1.16, the device ops'
 * power_button): what the control API's shutdown presses. */
#ifndef VMM_CORE_POWER_H
#define VMM_CORE_POWER_H

#include <stdbool.h>
#include <stddef.h>

struct vmm_machine;

/* Some device of the machine offers a power button (acpi-pm on x86). */
bool vmm_machine_has_power_button(struct vmm_machine *m);
/* Press it: the first device in config order with a power_button op that
 * takes the press.  0 with the instance's name in `who` (may be NULL);
 * -ENOTSUP when no device has a button; a device's own negative errno when
 * every device with one refused (`who` names the last). */
int vmm_machine_power_button(struct vmm_machine *m, char *who, size_t len);

#endif
