/* SPDX-License-Identifier: MIT */
/* Saved-state records: see core/state.h for the byte layout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/state.h>

#include "state.h"

static const uint8_t record_magic[4] = { 'V', 'M', 'M', 'R' };

int vmm_state_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > VMM_STATE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int out_reserve(struct vmm_state_out *o, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (o->error)
		return -o->error;
	if (o->len + more <= o->cap)
		return 0;
	cap = o->cap ? o->cap : 256;
	while (cap < o->len + more)
		cap *= 2;
	p = realloc(o->buf, cap);
	if (!p) {
		o->error = ENOMEM;
		return -ENOMEM;
	}
	o->buf = p;
	o->cap = cap;
	return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int out_append(struct vmm_state_out *o, const void *data, size_t len)
{
	int rc = out_reserve(o, len);

	if (rc)
		return rc;
	if (len)
		memcpy(o->buf + o->len, data, len);
	o->len += len;
	return 0;
}

static int out_append_le32(struct vmm_state_out *o, uint32_t v)
{
	uint8_t b[4];

	put_le32(b, v);
	return out_append(o, b, sizeof(b));
}

static int out_append_str8(struct vmm_state_out *o, const char *s)
{
	size_t n = strlen(s);
	uint8_t len = (uint8_t)n;
	int rc;

	if (n > 255)
		return -EINVAL;
	rc = out_append(o, &len, 1);
	return rc ? rc : out_append(o, s, n);
}

int vmm_state_out_init(struct vmm_state_out *o, const char *plugin, const char *instance,
		       uint32_t version)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if (strlen(plugin) > 255 || strlen(instance) > 255)
		return -EINVAL;
	if ((rc = out_append(o, record_magic, sizeof(record_magic))) ||
	    (rc = out_append_le32(o, VMM_STATE_RECORD_FORMAT)) || (rc = out_append_str8(o, plugin)) ||
	    (rc = out_append_str8(o, instance)) || (rc = out_append_le32(o, version))) {
		vmm_state_out_free(o);
		return rc;
	}
	o->nfields_at = o->len;
	if ((rc = out_append_le32(o, 0))) {
		vmm_state_out_free(o);
		return rc;
	}
	return 0;
}

/* Whether field `name` is in the record written so far (records hold tens
 * of fields: a linear walk is enough). */
static int out_has(const struct vmm_state_out *o, const char *name)
{
	size_t at = o->nfields_at + 4, n = strlen(name);

	for (uint32_t i = 0; i < o->nfields; i++) {
		uint8_t nl = o->buf[at];

		if (nl == n && memcmp(o->buf + at + 1, name, n) == 0)
			return 1;
		at += 1u + nl;
		at += 4u + get_le32(o->buf + at);
	}
	return 0;
}

int vmm_state_out_put(struct vmm_state_out *o, const char *name, const void *buf, size_t len)
{
	int rc;

	if (!vmm_state_name_ok(name) || len > VMM_STATE_FIELD_MAX || (len && !buf))
		return -EINVAL;
	if (o->error)
		return -o->error;
	if (out_has(o, name))
		return -EEXIST;
	if ((rc = out_append_str8(o, name)) || (rc = out_append_le32(o, (uint32_t)len)) ||
	    (rc = out_append(o, buf, len)))
		return rc;
	o->nfields++;
	put_le32(o->buf + o->nfields_at, o->nfields);
	return 0;
}

const uint8_t *vmm_state_out_bytes(struct vmm_state_out *o, size_t *len)
{
	*len = o->len;
	return o->buf;
}

void vmm_state_out_free(struct vmm_state_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

/* A bounds-checked reader over the record's bytes. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (n > c->left)
		return NULL;
	c->p += n;
	c->left -= n;
	return p;
}

static int take_le32(struct cursor *c, uint32_t *v)
{
	const uint8_t *p = take(c, 4);

	if (!p)
		return -EBADMSG;
	*v = get_le32(p);
	return 0;
}

static int take_str8(struct cursor *c, char *out, size_t cap)
{
	const uint8_t *lp = take(c, 1), *s;

	if (!lp || !(s = take(c, *lp)) || *lp >= cap)
		return -EBADMSG;
	memcpy(out, s, *lp);
	out[*lp] = '\0';
	return memchr(out, '\0', *lp) ? -EBADMSG : 0;
}

int vmm_state_in_parse(struct vmm_state_in *in, const void *buf, size_t len)
{
	struct cursor c = { buf, len };
	const uint8_t *magic = take(&c, 4);
	uint32_t format;

	memset(in, 0, sizeof(*in));
	if (!magic || memcmp(magic, record_magic, 4) || take_le32(&c, &format) ||
	    format != VMM_STATE_RECORD_FORMAT || take_str8(&c, in->plugin, sizeof(in->plugin)) ||
	    take_str8(&c, in->instance, sizeof(in->instance)) || take_le32(&c, &in->version) ||
	    take_le32(&c, &in->nfields))
		return -EBADMSG;
	/* Each field takes at least 6 bytes: a count beyond that is a lie. */
	if (in->nfields > c.left / 6)
		return -EBADMSG;
	in->fields = calloc(in->nfields ? in->nfields : 1, sizeof(*in->fields));
	if (!in->fields)
		return -ENOMEM;
	for (uint32_t i = 0; i < in->nfields; i++) {
		struct vmm_state_field *f = &in->fields[i];

		if (take_str8(&c, f->name, sizeof(f->name)) || !vmm_state_name_ok(f->name) ||
		    take_le32(&c, &f->len) || f->len > VMM_STATE_FIELD_MAX ||
		    !(f->data = take(&c, f->len)))
			goto bad;
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(in->fields[j].name, f->name) == 0)
				goto bad;
	}
	if (c.left == 0)
		return 0;
bad:
	vmm_state_in_free(in);
	return -EBADMSG;
}

ssize_t vmm_state_in_get(struct vmm_state_in *in, const char *name, void *buf, size_t cap)
{
	snprintf(in->last_name, sizeof(in->last_name), "%s", name ? name : "");
	in->last_cap = cap;
	in->last_len = -ENOENT;
	for (uint32_t i = 0; i < in->nfields; i++) {
		const struct vmm_state_field *f = &in->fields[i];

		if (name && strcmp(f->name, name) == 0) {
			if (cap && buf)
				memcpy(buf, f->data, f->len < cap ? f->len : cap);
			in->last_len = (ssize_t)f->len;
			return (ssize_t)f->len;
		}
	}
	return -ENOENT;
}

const char *vmm_state_in_why(const struct vmm_state_in *in, int rc, char *buf, size_t cap)
{
	if (rc == -ENOENT && in->last_name[0] && in->last_len == -ENOENT)
		snprintf(buf, cap, "field '%s' is missing", in->last_name);
	else if (rc == -EMSGSIZE && in->last_name[0] && in->last_len >= 0)
		snprintf(buf, cap, "field '%s' has %zd bytes, not %zu", in->last_name, in->last_len,
			 in->last_cap);
	else
		snprintf(buf, cap, "%s", strerror(rc < 0 ? -rc : rc));
	return buf;
}

void vmm_state_in_free(struct vmm_state_in *in)
{
	free(in->fields);
	in->fields = NULL;
	in->nfields = 0;
}

int vmm_state_host_put(const struct vmm_host *h, struct vmm_state_out *o, const char *name,
		       const void *buf, size_t len)
{
	(void)h;
	return o ? vmm_state_out_put(o, name, buf, len) : -EINVAL;
}

ssize_t vmm_state_host_get(const struct vmm_host *h, struct vmm_state_in *in, const char *name,
			   void *buf, size_t cap)
{
	(void)h;
	return in ? vmm_state_in_get(in, name, buf, cap) : -EINVAL;
}
