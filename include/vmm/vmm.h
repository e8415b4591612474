/* SPDX-License-Identifier: MIT */
/* vmm/vmm.h - everything a plugin may include, in one header. */
#ifndef VMM_VMM_H
#define VMM_VMM_H
#include <vmm/plugin.h>
#include <vmm/host.h>
#include <vmm/device.h>
#include <vmm/backend.h>
#include <vmm/hypervisor.h>
#include <vmm/state.h>
#endif
