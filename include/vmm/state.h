/* SPDX-License-Identifier: MIT */
/*
 * vmm/state.h - saved state as self-describing records (ABI 1.12), for
 * snapshot, restore and migration.
 *
 * A device's state (and a hypervisor backend's vCPU and VM state) is saved
 * as a record of named fields.  Each field is a name (1 to 63 characters of
 * A-Z a-z 0-9 . _ -, unique in its record), a length and that many bytes.
 * The record also carries the plugin's name, the instance's name and the
 * plugin's state version (vmm_device_ops.state_version), so a snapshot
 * names what it holds and a loader can refuse what it does not know.
 *
 * Integers are stored little-endian whatever the host: use the helpers
 * below rather than putting a struct's bytes, so that a record survives a
 * compiler's padding and another host's byte order.  A field a newer
 * version added is simply absent from an older record: load() decides
 * whether that is an error (-ENOENT from vmm_state_get_*) or a default.
 *
 * The core (or the harness) owns the record; a plugin only sees the opaque
 * pointers it is handed by save() and load() and passes them back to the
 * host's state_put and state_get services.
 *
 * Error convention: 0 or a negative errno.
 */
#ifndef VMM_STATE_H
#define VMM_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <sys/types.h>
#include <vmm/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest field name, without its terminating NUL. */
#define VMM_STATE_NAME_MAX 63
/* Largest single field (guest RAM is not saved through records). */
#define VMM_STATE_FIELD_MAX (16u << 20)

static inline int vmm_state_put(const struct vmm_host *h, struct vmm_state_out *o, const char *name,
				const void *buf, size_t len)
{
	return VMM_HOST_HAS(h, state_put) ? h->state_put(h, o, name, buf, len) : -ENOTSUP;
}

/* Copies field `name` into buf when it is exactly `len` bytes long:
 * -ENOENT when the record has no such field, -EMSGSIZE when its length
 * differs. */
static inline int vmm_state_get(const struct vmm_host *h, struct vmm_state_in *in, const char *name,
				void *buf, size_t len)
{
	ssize_t n;

	if (!VMM_HOST_HAS(h, state_get))
		return -ENOTSUP;
	n = h->state_get(h, in, name, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

static inline int vmm_state_put_u64(const struct vmm_host *h, struct vmm_state_out *o,
				    const char *name, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return vmm_state_put(h, o, name, b, sizeof(b));
}

static inline int vmm_state_get_u64(const struct vmm_host *h, struct vmm_state_in *in,
				    const char *name, uint64_t *v)
{
	uint8_t b[8];
	int rc = vmm_state_get(h, in, name, b, sizeof(b));

	if (rc)
		return rc;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return 0;
}

static inline int vmm_state_put_u32(const struct vmm_host *h, struct vmm_state_out *o,
				    const char *name, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return vmm_state_put(h, o, name, b, sizeof(b));
}

static inline int vmm_state_get_u32(const struct vmm_host *h, struct vmm_state_in *in,
				    const char *name, uint32_t *v)
{
	uint8_t b[4];
	int rc = vmm_state_get(h, in, name, b, sizeof(b));

	if (!rc)
		*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return rc;
}

static inline int vmm_state_put_u8(const struct vmm_host *h, struct vmm_state_out *o,
				   const char *name, uint8_t v)
{
	return vmm_state_put(h, o, name, &v, 1);
}

static inline int vmm_state_get_u8(const struct vmm_host *h, struct vmm_state_in *in,
				   const char *name, uint8_t *v)
{
	return vmm_state_get(h, in, name, v, 1);
}

#ifdef __cplusplus
}
#endif
#endif /* VMM_STATE_H */
