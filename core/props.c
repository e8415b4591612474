/* core/props.c - typed property values validated against a plugin's schema.
 *
 * Every value is parsed and range-checked here, once, when the config (or a
 * test) sets it.  Plugins read their properties through the host table and so
 * never see a malformed or out-of-range value: the schema is the contract.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/props.h"

struct prop_value {
	bool set;
	int64_t i;  /* INT, and BOOL as 0/1 */
	char *s;    /* STRING and ENUM, malloc'd */
};

struct vmm_propset {
	const struct vmm_prop_desc *schema;
	size_t count;
	struct prop_value values[]; /* one per schema entry, same order */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Small numbers read best in decimal (IRQ 4, 8 bits); addresses and masks
 * read best in hex (0x3f8).  One rule keeps defaults and range messages
 * consistent with each other.
 */
void vmm_prop_format_int(int64_t v, char *buf, size_t len)
{
	if (v > -256 && v < 256)
		snprintf(buf, len, "%" PRId64, v);
	else if (v < 0)
		snprintf(buf, len, "-0x%" PRIx64, -(uint64_t)v);
	else
		snprintf(buf, len, "0x%" PRIx64, (uint64_t)v);
}

const char *vmm_prop_type_name(enum vmm_prop_type t)
{
	switch (t) {
	case VMM_PROP_INT: return "int";
	case VMM_PROP_BOOL: return "bool";
	case VMM_PROP_STRING: return "string";
	case VMM_PROP_ENUM: return "enum";
	}
	return "unknown";
}

const struct vmm_prop_desc *vmm_prop_find(const struct vmm_prop_desc *schema, const char *name)
{
	if (!schema || !name)
		return NULL;
	for (const struct vmm_prop_desc *d = schema; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

int vmm_prop_parse_int(const char *s, int64_t *out)
{
	static const char suffixes[] = "KMGT";
	const char *p = s;
	bool neg = false;
	uint64_t mag;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	/* strtoull() would skip leading blanks and accept a second sign;
	 * a config value must be exactly a number. */
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return -EINVAL;

	errno = 0;
	mag = strtoull(p, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == p)
		return -EINVAL;

	if (*end) {
		const char *sfx = strchr(suffixes, toupper((unsigned char)*end));

		if (!sfx || end[1])
			return -EINVAL;
		for (int shift = (int)(sfx - suffixes) + 1; shift > 0; shift--) {
			if (mag > UINT64_MAX / 1024)
				return -ERANGE;
			mag *= 1024;
		}
	}

	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)mag;
	}
	return 0;
}

int vmm_prop_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

void vmm_prop_format_default(const struct vmm_prop_desc *d, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	switch (d->type) {
	case VMM_PROP_INT:
		vmm_prop_format_int(d->def_int, buf, len);
		break;
	case VMM_PROP_BOOL:
		snprintf(buf, len, "%s", d->def_int ? "true" : "false");
		break;
	case VMM_PROP_STRING:
	case VMM_PROP_ENUM:
		if (d->def_str)
			snprintf(buf, len, "\"%s\"", d->def_str);
		else
			snprintf(buf, len, "none");
		break;
	default:
		snprintf(buf, len, "none");
		break;
	}
}

struct vmm_propset *vmm_propset_new(const struct vmm_prop_desc *schema)
{
	struct vmm_propset *ps;
	size_t n = 0;

	if (schema)
		while (schema[n].name)
			n++;
	ps = calloc(1, sizeof(*ps) + n * sizeof(ps->values[0]));
	if (!ps)
		return NULL;
	ps->schema = schema;
	ps->count = n;
	return ps;
}

void vmm_propset_free(struct vmm_propset *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->count; i++)
		free(ps->values[i].s);
	free(ps);
}

static struct prop_value *lookup(const struct vmm_propset *ps, const char *name,
				 const struct vmm_prop_desc **desc)
{
	const struct vmm_prop_desc *d = vmm_prop_find(ps->schema, name);

	if (!d)
		return NULL;
	*desc = d;
	return (struct prop_value *)&ps->values[d - ps->schema];
}

static int check_enum(const struct vmm_prop_desc *d, const char *value, char *err, size_t errlen)
{
	char list[512];
	size_t used = 0;

	for (const char *const *c = d->choices; c && *c; c++)
		if (strcmp(*c, value) == 0)
			return 0;

	list[0] = '\0';
	for (const char *const *c = d->choices; c && *c; c++) {
		int n = snprintf(list + used, sizeof(list) - used, "%s%s",
				 c == d->choices ? "" : ", ", *c);
		if (n < 0 || (size_t)n >= sizeof(list) - used)
			break;
		used += (size_t)n;
	}
	set_err(err, errlen, "property '%s': \"%s\" is not one of: %s", d->name, value, list);
	return -EINVAL;
}

int vmm_propset_set(struct vmm_propset *ps, const char *name, const char *value, char *err, size_t errlen)
{
	const struct vmm_prop_desc *d = NULL;
	struct prop_value *v;
	int64_t i = 0;
	bool b;
	char *copy = NULL;
	int rc;

	v = lookup(ps, name, &d);
	if (!v) {
		set_err(err, errlen, "unknown property '%s'", name ? name : "(null)");
		return -ENOENT;
	}
	if (!value) {
		set_err(err, errlen, "property '%s': no value", d->name);
		return -EINVAL;
	}

	switch (d->type) {
	case VMM_PROP_INT:
		rc = vmm_prop_parse_int(value, &i);
		if (rc == -ERANGE) {
			set_err(err, errlen, "property '%s': \"%s\" does not fit in 64 bits",
				d->name, value);
			return -EINVAL;
		}
		if (rc) {
			set_err(err, errlen, "property '%s': \"%s\" is not an integer", d->name, value);
			return -EINVAL;
		}
		if (d->min <= d->max && (i < d->min || i > d->max)) {
			char lo[32], hi[32];

			vmm_prop_format_int(d->min, lo, sizeof(lo));
			vmm_prop_format_int(d->max, hi, sizeof(hi));
			set_err(err, errlen, "property '%s': \"%s\" is out of range %s..%s",
				d->name, value, lo, hi);
			return -EINVAL;
		}
		break;
	case VMM_PROP_BOOL:
		if (vmm_prop_parse_bool(value, &b)) {
			set_err(err, errlen,
				"property '%s': \"%s\" is not a boolean (true/false, yes/no, on/off, 1/0)",
				d->name, value);
			return -EINVAL;
		}
		i = b;
		break;
	case VMM_PROP_ENUM:
		rc = check_enum(d, value, err, errlen);
		if (rc)
			return rc;
		/* fall through */
	case VMM_PROP_STRING:
		copy = strdup(value);
		if (!copy) {
			set_err(err, errlen, "property '%s': out of memory", d->name);
			return -ENOMEM;
		}
		break;
	default:
		set_err(err, errlen, "property '%s' has unknown type %d", d->name, (int)d->type);
		return -EINVAL;
	}

	free(v->s);
	v->s = copy;
	v->i = i;
	v->set = true;
	return 0;
}

int vmm_propset_check(const struct vmm_propset *ps, char *err, size_t errlen)
{
	for (size_t n = 0; n < ps->count; n++) {
		if (ps->schema[n].required && !ps->values[n].set) {
			set_err(err, errlen, "required property '%s' is not set", ps->schema[n].name);
			return -EINVAL;
		}
	}
	return 0;
}

int vmm_propset_get_int(const struct vmm_propset *ps, const char *name, int64_t *out)
{
	const struct vmm_prop_desc *d;
	const struct prop_value *v = lookup(ps, name, &d);

	if (!v || d->type != VMM_PROP_INT)
		return -ENOENT;
	/* A required property has no meaningful default. */
	if (!v->set && d->required)
		return -ENOENT;
	*out = v->set ? v->i : d->def_int;
	return 0;
}

int vmm_propset_get_bool(const struct vmm_propset *ps, const char *name, bool *out)
{
	const struct vmm_prop_desc *d;
	const struct prop_value *v = lookup(ps, name, &d);

	if (!v || d->type != VMM_PROP_BOOL)
		return -ENOENT;
	if (!v->set && d->required)
		return -ENOENT;
	*out = v->set ? v->i != 0 : d->def_int != 0;
	return 0;
}

const char *vmm_propset_get_str(const struct vmm_propset *ps, const char *name)
{
	const struct vmm_prop_desc *d;
	const struct prop_value *v = lookup(ps, name, &d);

	if (!v || (d->type != VMM_PROP_STRING && d->type != VMM_PROP_ENUM))
		return NULL;
	return v->set ? v->s : d->def_str;
}

bool vmm_name_valid(const char *s, size_t len)
{
	if (!s || len == 0 || len > VMM_NAME_MAX)
		return false;
	/* Explicit ranges: isalnum() would follow the locale. */
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

void vmm_escape(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (!outlen)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char tmp[8];
		if (ch == '\n')
			snprintf(tmp, sizeof(tmp), "\\n");
		else if (ch == '\t')
			snprintf(tmp, sizeof(tmp), "\\t");
		else if (ch < 0x20 || ch >= 0x7f)
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		else
			snprintf(tmp, sizeof(tmp), "%c", ch);
		size_t n = strlen(tmp);
		/* Room for this, and for "..." should the next not fit. */
		if (o + n + 4 > outlen) {
			if (o + 4 <= outlen)
				memcpy(out + o, "...", 4);
			return;
		}
		memcpy(out + o, tmp, n + 1);
		o += n;
	}
}
