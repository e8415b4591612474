/* SPDX-License-Identifier: MIT */
/* devices/model-glue/model-glue.c - see model-glue.h. */
#include "model-glue.h"

void model_glue_set_irq(void *glue, int level)
{
	struct model_glue *g = glue;

	g->h->irq_set(g->h, g->irq, level);
}

void model_glue_transmit(void *glue, uint8_t byte)
{
	struct model_glue *g = glue;

	g->h->char_write(g->h, g->chr, &byte, 1);
}

void model_glue_rx_ready(void *glue)
{
	struct model_glue *g = glue;

	g->h->char_input_ready(g->h, g->chr);
}

uint64_t model_glue_now_ns(void *glue)
{
	struct model_glue *g = glue;

	return g->h->clock_ns(g->h);
}

void model_glue_timer_arm(void *glue, uint64_t deadline_ns)
{
	struct model_glue *g = glue;

	g->h->timer_arm(g->h, g->timer, deadline_ns);
}

void model_glue_timer_cancel(void *glue)
{
	struct model_glue *g = glue;

	g->h->timer_cancel(g->h, g->timer);
}
