/* SPDX-License-Identifier: MIT */
/*
 * core/char.h - character backend connections as the core (and the
 * harness) report them to devices (ABI 1.4).
 */
#ifndef VMM_CORE_CHAR_H
#define VMM_CORE_CHAR_H

#include <vmm/vmm.h>

/* The backend is now @connected: when that differs from *@known, the
 * device's connected callback (if its client has one) hears of it and
 * *@known follows.  The caller holds the device's lock; @c may be NULL
 * (an output-only device). */
void vmm_char_connected_update(const struct vmm_char_client *c, void *opaque, bool *known,
			       bool connected);

#endif
