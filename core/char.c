/* SPDX-License-Identifier: MIT */
#include "core/char.h"

#include <stddef.h>

void vmm_char_connected_update(const struct vmm_char_client *c, void *opaque, bool *known,
			       bool connected)
{
	if (*known == connected)
		return;
	*known = connected;
	/* A client built before ABI 1.4 ends before `connected`. */
	if (c && c->size >= offsetof(struct vmm_char_client, connected) + sizeof(void *) &&
	    c->connected)
		c->connected(opaque, connected);
}
