/* SPDX-License-Identifier: MIT */
/*
 * core/state.h - saved-state records (vmm/state.h) as bytes: the codec the
 * core's and the harness's state_put/state_get services use, and that the
 * snapshot file stores one record per device, vCPU and VM.
 *
 * A record, all integers little-endian:
 *   "VMMR"  u32 format (1)
 *   u8 len + the plugin's name, u8 len + the instance's name, u32 state version
 *   u32 number of fields, then each field: u8 name length, the name,
 *       u32 data length, the data
 * Parsing checks every length against the buffer before use, so a corrupt
 * or hostile snapshot is refused (-EBADMSG), never read past.
 */
#ifndef VMM_CORE_STATE_H
#define VMM_CORE_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VMM_STATE_RECORD_FORMAT 1

struct vmm_state_field {
	char name[64];
	const uint8_t *data;
	uint32_t len;
};

/* A record being written: the fields are appended to buf. */
struct vmm_state_out {
	uint8_t *buf;
	size_t len, cap;
	uint32_t nfields;
	size_t nfields_at; /* where the field count goes in buf */
	int error;         /* the first failure of a put (ENOMEM), sticky */
};

/* A record parsed for reading: names and data point into the caller's buffer. */
struct vmm_state_in {
	char plugin[256];
	char instance[256];
	uint32_t version;
	uint32_t nfields;
	struct vmm_state_field *fields;
	/* The last field asked for and what was found (its length, or
	 * -ENOENT) against what the caller could take: a failed load() is
	 * reported with the field it most likely failed on. */
	char last_name[64];
	ssize_t last_len;
	size_t last_cap;
};

/* Start a record; 0 or -ENOMEM / -EINVAL (a name over 255 bytes). */
int vmm_state_out_init(struct vmm_state_out *o, const char *plugin, const char *instance,
		       uint32_t version);
/* Append a field: -EINVAL for a bad name (vmm/state.h's rules) or a length
 * over VMM_STATE_FIELD_MAX, -EEXIST for a name given before, -ENOMEM. */
int vmm_state_out_put(struct vmm_state_out *o, const char *name, const void *buf, size_t len);
/* The finished record's bytes (owned by o until vmm_state_out_free). */
const uint8_t *vmm_state_out_bytes(struct vmm_state_out *o, size_t *len);
void vmm_state_out_free(struct vmm_state_out *o);

/* Parse `len` bytes at buf (which must outlive `in`): 0, -EBADMSG for a
 * malformed record (bad magic, format, truncation, a bad or repeated field
 * name, trailing bytes), -ENOMEM. */
int vmm_state_in_parse(struct vmm_state_in *in, const void *buf, size_t len);
/* Copy at most cap bytes of field `name`; the field's length, or -ENOENT. */
ssize_t vmm_state_in_get(struct vmm_state_in *in, const char *name, void *buf, size_t cap);
void vmm_state_in_free(struct vmm_state_in *in);
/* Why load() most likely returned rc (-ENOENT, -EMSGSIZE: the field last
 * asked for), as "field 'x' is missing" or "field 'x' has 3 bytes, not 4";
 * else strerror(-rc).  Writes at most cap bytes to buf and returns it. */
const char *vmm_state_in_why(const struct vmm_state_in *in, int rc, char *buf, size_t cap);

struct vmm_host;
/* The host table's state_put and state_get services (ABI 1.12), the same
 * for vmmctl and the harness: the records are this codec's. */
int vmm_state_host_put(const struct vmm_host *h, struct vmm_state_out *o, const char *name,
		       const void *buf, size_t len);
ssize_t vmm_state_host_get(const struct vmm_host *h, struct vmm_state_in *in, const char *name,
			   void *buf, size_t cap);

/* True when `name` follows the field-name rules (1-63 of A-Za-z0-9._-). */
int vmm_state_name_ok(const char *name);

#endif /* VMM_CORE_STATE_H */
