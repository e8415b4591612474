/* SPDX-License-Identifier: MIT */
/*
 * devices/model-glue/model-glue.h - the host side of a simple device model.
 *
 * The register models (uart16550.c, pl011.c, pl031.c) know nothing of the
 * plugin ABI: they call an ops table with an opaque pointer for their one
 * interrupt line, their clock, their one timer and, for a UART, a character
 * backend.  These hooks are that table's entries for every such plugin:
 * give the model a `struct model_glue *` as its opaque and point the ops at
 * the functions below.  A plugin with several lines or timers (the 8254,
 * the CMOS RTC) keeps its own hooks.
 */
#ifndef VMM_DEVICES_MODEL_GLUE_H
#define VMM_DEVICES_MODEL_GLUE_H

#include <stdint.h>

#include <vmm/vmm.h>

struct model_glue {
	const struct vmm_host *h;
	struct vmm_irq_line *irq;
	struct vmm_char *chr;       /* UARTs only */
	struct vmm_timer *timer;
};

void model_glue_set_irq(void *glue, int level);
/* A backend that has gone away loses the byte, like a cable pulled out of
 * a real port; the guest cannot tell and must not stall. */
void model_glue_transmit(void *glue, uint8_t byte);
void model_glue_rx_ready(void *glue);
uint64_t model_glue_now_ns(void *glue);
void model_glue_timer_arm(void *glue, uint64_t deadline_ns);
void model_glue_timer_cancel(void *glue);

#endif
