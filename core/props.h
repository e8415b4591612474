/* core/props.h - typed property values validated against a plugin's schema.
 * Shared by the config reader (vmmctl) and the unit-test harness.
 * Error convention: 0 or a negative errno; messages go to `err` as one line
 * without file or line (the caller adds those). */
#ifndef VMM_CORE_PROPS_H
#define VMM_CORE_PROPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <vmm/plugin.h>

struct vmm_propset;

struct vmm_propset *vmm_propset_new(const struct vmm_prop_desc *schema);
void vmm_propset_free(struct vmm_propset *ps);
/* Parse `value` per the schema's type and range. -ENOENT: no such property;
 * -EINVAL: bad value or out of range. */
int vmm_propset_set(struct vmm_propset *ps, const char *name, const char *value, char *err, size_t errlen);
/* Every required property set? -EINVAL naming the first one missing. */
int vmm_propset_check(const struct vmm_propset *ps, char *err, size_t errlen);
/* Value, or the schema default when unset.  -ENOENT when neither exists or
 * the property has another type. */
int vmm_propset_get_int(const struct vmm_propset *ps, const char *name, int64_t *out);
int vmm_propset_get_bool(const struct vmm_propset *ps, const char *name, bool *out);
const char *vmm_propset_get_str(const struct vmm_propset *ps, const char *name);

const struct vmm_prop_desc *vmm_prop_find(const struct vmm_prop_desc *schema, const char *name);
/* Decimal, 0x hex, 0 octal, optional K/M/G/T suffix (powers of 1024). */
int vmm_prop_parse_int(const char *s, int64_t *out);
int vmm_prop_parse_bool(const char *s, bool *out);
const char *vmm_prop_type_name(enum vmm_prop_type t);

/* Names of devices, backends, plugins and properties: 1 to
 * VMM_NAME_MAX characters of A-Z a-z 0-9 . _ - (vmm.conf(5)).  They go
 * into log lines and file names, so nothing else is allowed. */
#define VMM_NAME_MAX 63
bool vmm_name_valid(const char *s, size_t len);
/* `s` (len bytes) made printable for a message: control characters and
 * bytes >= 0x7f as \n, \t or \xNN, and cut with "..." to fit `out`. */
void vmm_escape(const char *s, size_t len, char *out, size_t outlen);
/* The default rendered as text ("0x3f8", "true", "\"stdio\"", "none"). */
/* An integer as every message and `plugins describe` shows it: decimal
 * from -255 to 255, hex beyond (0x3f8), so ranges read the same everywhere. */
void vmm_prop_format_int(int64_t v, char *buf, size_t len);
void vmm_prop_format_default(const struct vmm_prop_desc *d, char *buf, size_t len);

#endif
