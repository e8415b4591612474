/* core/api-route.c - the control API's resources: a method, a path and a
 * body in, an HTTP status and a JSON body out (see api.h, docs/api.md). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/api.h"
#include "core/migrate.h"

struct json_object *vmm_api_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct json_object *o = json_object_new_object();
	if (o)
		json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

const char *vmm_api_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 502: return "Bad Gateway";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Error";
}

enum api_action { ACT_INFO, ACT_STATS, ACT_PAUSE, ACT_RESUME, ACT_SHUTDOWN, ACT_STOP, ACT_SNAPSHOT, ACT_MIGRATE };

/* Each resource takes one method: GET reads, PUT acts. */
static const struct api_resource {
	const char *path;
	const char *method;
	enum api_action action;
	/* The one member its body must have (a non-empty string), or NULL:
	 * the action takes no body members. */
	const char *member, *member_help;
	/* An optional integer member from 1 to opt_max, or NULL. */
	const char *opt;
	int64_t opt_max;
} resources[] = {
	{ "/v1/machine", "GET", ACT_INFO, NULL, NULL, NULL, 0 },
	{ "/v1/stats", "GET", ACT_STATS, NULL, NULL, NULL, 0 },
	{ "/v1/machine/pause", "PUT", ACT_PAUSE, NULL, NULL, NULL, 0 },
	{ "/v1/machine/resume", "PUT", ACT_RESUME, NULL, NULL, NULL, 0 },
	{ "/v1/machine/shutdown", "PUT", ACT_SHUTDOWN, NULL, NULL, NULL, 0 },
	{ "/v1/machine/stop", "PUT", ACT_STOP, NULL, NULL, NULL, 0 },
	{ "/v1/snapshot", "PUT", ACT_SNAPSHOT, "path", "the snapshot directory to create", NULL, 0 },
	{ "/v1/migration/send", "PUT", ACT_MIGRATE, "socket", "the unix socket a vmmctl receive listens on",
	  "max-rounds", VMM_MIG_MAX_ROUNDS },
};

static void reply_error(struct vmm_api_reply *r, int status, struct json_object *body)
{
	r->status = status;
	r->body = body;
}

/*
 * A body is optional.  GET takes none; a PUT's, when given, is a JSON
 * object with the members its action takes (PUT /v1/snapshot: "path", a
 * string, required; the others none), and a member it does not know is
 * refused rather than ignored, so a client never believes a setting was
 * applied.  *path gets a copy of "path" (the caller frees it).
 */
static bool body_ok(const struct api_resource *res, const char *body, size_t len, struct vmm_api_reply *r,
		    char **path, int64_t *opt)
{
	size_t i = 0;
	while (i < len && body[i] && strchr(" \t\r\n", body[i]))
		i++;
	if (i == len && res->member) {
		reply_error(r, 400, vmm_api_error("PUT %s needs a body: {\"%s\": \"...\"} (%s)", res->path,
						  res->member, res->member_help));
		return false;
	}
	if (i == len)
		return true;
	if (strcmp(res->method, "GET") == 0) {
		reply_error(r, 400, vmm_api_error("GET %s takes no body (got %zu bytes)", res->path, len));
		return false;
	}
	if (memchr(body, '\0', len)) {
		reply_error(r, 400, vmm_api_error("the body of PUT %s is not JSON: it contains a NUL byte",
						  res->path));
		return false;
	}
	struct json_tokener *tok = json_tokener_new();
	if (!tok) {
		reply_error(r, 500, vmm_api_error("out of memory"));
		return false;
	}
	/* With its NUL, so that a body that is a bare number ends. */
	char *text = strndup(body, len);
	if (!text) {
		json_tokener_free(tok);
		reply_error(r, 500, vmm_api_error("out of memory"));
		return false;
	}
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)len + 1);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	bool ok = false;

	if (end > len)
		end = len;
	/* `body` has no NUL of its own: look at the copy. */
	bool trailing = strspn(text + end, " \t\r\n") != len - end;
	free(text);
	if (jerr == json_tokener_continue || jerr == json_tokener_error_parse_eof)
		reply_error(r, 400, vmm_api_error("the body of PUT %s is not JSON: it ends too early", res->path));
	else if (jerr != json_tokener_success)
		reply_error(r, 400, vmm_api_error("the body of PUT %s is not JSON: %s at offset %zu", res->path,
						  json_tokener_error_desc(jerr), end));
	else if (trailing)
		reply_error(r, 400, vmm_api_error("the body of PUT %s is not JSON: trailing bytes at offset %zu",
						  res->path, end));
	else if (!json_object_is_type(o, json_type_object))
		reply_error(r, 400, vmm_api_error("the body of PUT %s must be a JSON object, got %s", res->path,
						  json_type_to_name(json_object_get_type(o))));
	else if (res->member) {
		struct json_object *p = NULL;
		json_object_object_foreach(o, key, val) {
			if (res->opt && strcmp(key, res->opt) == 0) {
				int64_t v = json_object_get_int64(val);
				if (!json_object_is_type(val, json_type_int) || v < 1 || v > res->opt_max) {
					reply_error(r, 400, vmm_api_error("PUT %s: \"%s\" must be an integer from 1 to "
									  "%lld", res->path, key,
									  (long long)res->opt_max));
					goto done;
				}
				*opt = v;
				continue;
			}
			if (strcmp(key, res->member) != 0) {
				reply_error(r, 400, vmm_api_error("PUT %s: unknown member '%s' (it takes \"%s\"%s%s%s)",
								  res->path, key, res->member, res->opt ? " and \"" : "",
								  res->opt ? res->opt : "", res->opt ? "\"" : ""));
				goto done;
			}
		}
		if (!json_object_object_get_ex(o, res->member, &p) || !json_object_is_type(p, json_type_string) ||
		    !json_object_get_string_len(p))
			reply_error(r, 400, vmm_api_error("PUT %s: \"%s\" must be a non-empty string (%s)",
							  res->path, res->member, res->member_help));
		else if (!(*path = strdup(json_object_get_string(p))))
			reply_error(r, 500, vmm_api_error("out of memory"));
		else
			ok = true;
	} else if (json_object_object_length(o) > 0) {
		struct json_object_iterator it = json_object_iter_begin(o);
		reply_error(r, 400, vmm_api_error("PUT %s: unknown member '%s' (this action takes none)",
						  res->path, json_object_iter_peek_name(&it)));
	} else
		ok = true;
done:
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

/* An action's refusal: its status (409, 500, 503) and message. */
static void reply_action(const struct vmm_api_target *t, void *ctx, int rc, const char *msg,
			 struct vmm_api_reply *r)
{
	if (rc) {
		reply_error(r, rc >= 400 && rc <= 599 ? rc : 500, vmm_api_error("%s", msg[0] ? msg : "failed"));
		return;
	}
	r->status = 200;
	r->body = json_object_new_object();
	if (r->body)
		json_object_object_add(r->body, "state", json_object_new_string(t->state(ctx)));
}

void vmm_api_later_done(struct vmm_api_later *l, int status, struct json_object *done, const char *msg)
{
	struct vmm_api_reply r;

	memset(&r, 0, sizeof(r));
	if (status) {
		json_object_put(done);
		reply_error(&r, status >= 400 && status <= 599 ? status : 500,
			    vmm_api_error("%s", msg && msg[0] ? msg : "failed"));
	} else {
		/* The destination runs the machine now: this one stops once
		 * the reply is out, as after PUT /v1/machine/stop. */
		r.status = 200;
		r.body = done ? done : json_object_new_object();
		if (r.body)
			json_object_object_add(r.body, "state", json_object_new_string("stopping"));
		r.stop_after = true;
	}
	l->send(l, &r);
}

void vmm_api_route(const struct vmm_api_target *t, void *ctx, const char *method, const char *uri,
		   const char *body, size_t len, struct vmm_api_later *later, struct vmm_api_reply *r)
{
	const struct api_resource *res = NULL;
	char msg[256] = "";

	memset(r, 0, sizeof(*r));
	size_t plen = strcspn(uri, "?#");
	if (uri[plen]) {
		reply_error(r, 400, vmm_api_error("%.*s: the API takes no query string", (int)plen, uri));
		return;
	}
	int shown = (int)plen; /* messages name the path as given */
	/* One trailing slash is the same resource (/v1/machine/). */
	if (plen > 1 && uri[plen - 1] == '/')
		plen--;
	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
		if (strlen(resources[i].path) == plen && strncmp(resources[i].path, uri, plen) == 0)
			res = &resources[i];
	if (!res) {
		reply_error(r, 404, vmm_api_error("no resource %.*s (GET /v1/machine, GET /v1/stats, PUT "
						  "/v1/machine/{pause,resume,shutdown,stop}, PUT /v1/snapshot, PUT "
						  "/v1/migration/send)", shown, uri));
		return;
	}
	if (strcmp(method, res->method) != 0) {
		r->allow = res->method;
		reply_error(r, 405, vmm_api_error("%s %s: method not allowed (%s only)", method, res->path,
						  res->method));
		return;
	}
	char *path = NULL;
	int64_t opt = 0;
	if (!body_ok(res, body, len, r, &path, &opt))
		return;

	int rc;
	switch (res->action) {
	case ACT_INFO:
	case ACT_STATS:
		r->body = res->action == ACT_INFO ? t->info(ctx) : t->stats(ctx);
		r->status = r->body ? 200 : 500;
		if (!r->body)
			r->body = vmm_api_error("out of memory");
		return;
	case ACT_PAUSE:
		rc = t->pause(ctx, msg, sizeof(msg));
		break;
	case ACT_RESUME:
		rc = t->resume(ctx, msg, sizeof(msg));
		break;
	case ACT_SHUTDOWN:
		rc = t->shutdown(ctx, msg, sizeof(msg));
		if (rc)
			break;
		/* The press is done; the guest decides what follows, so the
		 * machine's state is still what it was. */
		reply_action(t, ctx, 0, msg, r);
		if (r->body) {
			json_object_object_add(r->body, "power_button", json_object_new_string("pressed"));
			if (msg[0])
				json_object_object_add(r->body, "device", json_object_new_string(msg));
		}
		return;
	case ACT_STOP:
		if (strcmp(t->state(ctx), "stopping") == 0) {
			reply_error(r, 409, vmm_api_error("the machine is already stopping"));
			return;
		}
		/* The target stops once this reply is out (the server calls
		 * stop()): its state is what it will be. */
		r->status = 200;
		r->body = json_object_new_object();
		if (r->body)
			json_object_object_add(r->body, "state", json_object_new_string("stopping"));
		r->stop_after = true;
		return;
	case ACT_SNAPSHOT:
		if (!t->snapshot) {
			rc = 500;
			snprintf(msg, sizeof(msg), "this target cannot take snapshots");
		} else
			rc = t->snapshot(ctx, path, msg, sizeof(msg));
		free(path);
		break;
	case ACT_MIGRATE:
		if (!t->migrate) {
			rc = 500;
			snprintf(msg, sizeof(msg), "this target cannot migrate");
		} else if (!later) {
			rc = 500;
			snprintf(msg, sizeof(msg), "this server cannot answer a migration");
		} else
			rc = t->migrate(ctx, path, (unsigned)opt, later, msg, sizeof(msg));
		free(path);
		if (!rc) {
			r->later = true;
			return;
		}
		break;
	default:
		rc = 500;
		snprintf(msg, sizeof(msg), "unknown action");
		break;
	}
	reply_action(t, ctx, rc, msg, r);
}
