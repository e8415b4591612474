/* SPDX-License-Identifier: MIT */
/*
 * devices/model-glue/state-fields.h - a register model's migratable struct
 * as named record fields (vmm/state.h, ABI 1.12), from a table.
 *
 * The PC devices keep their guest-visible state in one plain struct per
 * model (struct i8259_state, struct i8254_state, ...).  A table lists each
 * member once: its field name, where it lives, its width and the largest
 * value a load accepts.  Save and load then walk the same table, so a
 * member cannot be saved under one name and loaded under another, and
 * every load checks every width and range before the device uses a byte of
 * it: a snapshot file is input, and a hostile one must be refused with a
 * line naming the field, never trusted.
 *
 * Values are stored little-endian at the member's own width (1, 2, 4 or 8
 * bytes); a signed member is stored as its two's complement bits and its
 * range is the model's to check (state_field_refuse()).
 *
 * Header only (static inline), so each plugin links nothing more.
 * Error convention: 0 or a negative errno, after one log line.
 */
#ifndef VMM_DEVICES_STATE_FIELDS_H
#define VMM_DEVICES_STATE_FIELDS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vmm/vmm.h>

struct state_field {
	const char *name; /* record name after the table's prefix */
	size_t offset;    /* offsetof() the member in the saved struct */
	uint8_t width;    /* sizeof() the member (an array's element): 1, 2, 4 or 8 */
	uint64_t max;     /* largest value load accepts (each element); 0 means the width's */
	uint16_t count;   /* an array's elements, one record of width * count bytes; 0 or 1: a scalar */
};

#define STATE_FIELD(type, member, fname, maxval) \
	{ .name = (fname), .offset = offsetof(type, member), \
	  .width = (uint8_t)sizeof(((type *)0)->member), .max = (maxval) }
/* A bool member: stored as one byte, 0 or 1. */
#define STATE_BOOL(type, member, fname) STATE_FIELD(type, member, fname, 1)
/* An array member, its elements little-endian one after the other; any
 * value is taken (the model's own restore checks them). */
#define STATE_ARRAY(type, member, fname) \
	{ .name = (fname), .offset = offsetof(type, member), \
	  .width = (uint8_t)sizeof(((type *)0)->member[0]), .max = 0, \
	  .count = (uint16_t)(sizeof(((type *)0)->member) / sizeof(((type *)0)->member[0])) }

/* The largest record a table field makes (arrays: a GIC's 1020 priorities). */
#define STATE_FIELD_BYTES 4096u

static inline size_t state_field_count(const struct state_field *f)
{
	return f->count > 1 ? f->count : 1;
}

static inline uint64_t state_field_read(const uint8_t *p, unsigned width)
{
	switch (width) {
	case 1: { uint8_t x; memcpy(&x, p, 1); return x; }
	case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
	case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
	default: { uint64_t x; memcpy(&x, p, 8); return x; }
	}
}

static inline void state_field_write(uint8_t *p, unsigned width, uint64_t v)
{
	switch (width) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

static inline void state_field_name(char *buf, size_t cap, const char *prefix, const char *name)
{
	snprintf(buf, cap, "%s%s", prefix ? prefix : "", name);
}

static inline int state_fields_save(const struct vmm_host *h, struct vmm_state_out *out,
				    const char *prefix, const struct state_field *f, size_t n,
				    const void *base)
{
	char name[VMM_STATE_NAME_MAX + 1];
	uint8_t le[STATE_FIELD_BYTES];

	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)base + f[i].offset;
		size_t count = state_field_count(&f[i]);
		int rc;

		state_field_name(name, sizeof(name), prefix, f[i].name);
		if (count * f[i].width > sizeof(le)) {
			h->log(h, VMM_LOG_ERROR, "cannot save state field %s: larger than %u bytes", name,
			       STATE_FIELD_BYTES);
			return -EMSGSIZE;
		}
		for (size_t e = 0; e < count; e++) {
			uint64_t v = state_field_read(p + e * f[i].width, f[i].width);

			for (unsigned b = 0; b < f[i].width; b++)
				le[e * f[i].width + b] = (uint8_t)(v >> (8 * b));
		}
		rc = vmm_state_put(h, out, name, le, count * f[i].width);
		if (rc) {
			h->log(h, VMM_LOG_ERROR, "cannot save state field %s: %s", name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* One field that load refuses: the line every refusal gives. */
static inline int state_field_refuse(const struct vmm_host *h, const char *name, const char *why)
{
	h->log(h, VMM_LOG_ERROR, "saved state field %s: %s; record refused", name, why);
	return -EINVAL;
}

/* Reads field `name` of exactly `len` bytes: 0, or a negative errno after
 * a line naming the field (-ENOENT missing, -EINVAL another length). */
static inline int state_field_get(const struct vmm_host *h, struct vmm_state_in *in,
				  const char *name, void *buf, size_t len)
{
	int rc = vmm_state_get(h, in, name, buf, len);

	if (rc == -ENOENT) {
		h->log(h, VMM_LOG_ERROR, "saved state field %s is missing; record refused", name);
	} else if (rc == -EMSGSIZE) {
		char why[48];

		snprintf(why, sizeof(why), "not %zu bytes long", len);
		rc = state_field_refuse(h, name, why);
	} else if (rc) {
		h->log(h, VMM_LOG_ERROR, "cannot read saved state field %s: %s", name, strerror(-rc));
	}
	return rc;
}

static inline int state_field_get_u64(const struct vmm_host *h, struct vmm_state_in *in,
				      const char *name, uint64_t *v)
{
	uint8_t le[8];
	int rc = state_field_get(h, in, name, le, sizeof(le));

	if (rc)
		return rc;
	*v = 0;
	for (unsigned b = 0; b < 8; b++)
		*v |= (uint64_t)le[b] << (8 * b);
	return 0;
}

static inline int state_fields_load(const struct vmm_host *h, struct vmm_state_in *in,
				    const char *prefix, const struct state_field *f, size_t n,
				    void *base)
{
	char name[VMM_STATE_NAME_MAX + 1];
	uint8_t le[STATE_FIELD_BYTES];

	for (size_t i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)base + f[i].offset;
		size_t count = state_field_count(&f[i]);
		int rc;

		state_field_name(name, sizeof(name), prefix, f[i].name);
		if (count * f[i].width > sizeof(le))
			return state_field_refuse(h, name, "larger than a table field can be");
		rc = state_field_get(h, in, name, le, count * f[i].width);
		if (rc)
			return rc;
		/* Every element checked before any is stored. */
		for (size_t e = 0; e < count; e++) {
			uint64_t v = 0;

			for (unsigned b = 0; b < f[i].width; b++)
				v |= (uint64_t)le[e * f[i].width + b] << (8 * b);
			if (f[i].max && v > f[i].max) {
				char why[96];

				if (count > 1)
					snprintf(why, sizeof(why), "element %zu: %llu is past its largest value %llu",
						 e, (unsigned long long)v, (unsigned long long)f[i].max);
				else
					snprintf(why, sizeof(why), "%llu is past its largest value %llu",
						 (unsigned long long)v, (unsigned long long)f[i].max);
				return state_field_refuse(h, name, why);
			}
		}
		for (size_t e = 0; e < count; e++) {
			uint64_t v = 0;

			for (unsigned b = 0; b < f[i].width; b++)
				v |= (uint64_t)le[e * f[i].width + b] << (8 * b);
			state_field_write(p + e * f[i].width, f[i].width, v);
		}
	}
	return 0;
}

/* The versions a plugin's load() knows are 1..known: else -EPROTO, logged. */
static inline int state_version_check(const struct vmm_host *h, uint32_t version, uint32_t known)
{
	if (version >= 1 && version <= known)
		return 0;
	h->log(h, VMM_LOG_ERROR, "saved state version %u is not one this plugin knows (1 to %u); "
	       "record refused", version, known);
	return -EPROTO;
}

#endif
