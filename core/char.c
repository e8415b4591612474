/* SPDX-License-Identifier: MIT */
#include "core/char.h"
#include "core/table.h"

#include <stddef.h>

void vmm_char_connected_update(const struct vmm_char_client *c, void *opaque, bool *known,
			       bool connected)
{
	if (*known == connected)
		return;
	*known = connected;
	/* A client built before ABI 1.4 ends before `connected`. */
	if (c && VMM_TABLE_HAS(c->size, c, struct vmm_char_client, connected))
		c->connected(opaque, connected);
}
