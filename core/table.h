/* SPDX-License-Identifier: MIT */
/*
 * core/table.h - whether an ABI table a plugin handed in has a member.
 * Tables only grow by appending (include/vmm/plugin.h), so a member is
 * there when the table's own size field covers it, and offered when it is
 * also set.  Check the size first: a shorter table ends before the member.
 */
#ifndef VMM_CORE_TABLE_H
#define VMM_CORE_TABLE_H

#include <stddef.h>

/* `size` is the table's size field, `tbl` a pointer to it as `type`. */
#define VMM_TABLE_HAS(size, tbl, type, field) \
	((size) >= offsetof(type, field) + sizeof((tbl)->field) && (tbl)->field)

#endif
