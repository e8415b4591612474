/* tests/unit/test_api.c - the control API without a machine: the router
 * (core/api-route.c) with a fake target, good and bad requests; the server
 * (core/api-server.c) on a real unix socket with the same fake on its own
 * event loop, driven by vmmctl's client (core/api-client.c): concurrent
 * clients, a client that goes away mid-request, stop after its reply, and
 * the socket path rules (stale, live, not a socket). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <json-c/json.h>

#include "core/api.h"

/* ------------------------------------------------------------ the fake */

struct fake {
	const char *state;
	int next_rc; /* what the next action returns (0: do it) */
	int pauses, resumes, stops;
	struct event_base *base;
	char snapshot_path[128]; /* the last snapshot's */
	char migrate_socket[256]; /* the last migration's */
	unsigned migrate_rounds;
	struct vmm_api_later *later; /* the migration's, once started */
	struct test_later {          /* the router's later reply, as sent */
		struct vmm_api_later l;
		struct vmm_api_reply r;
		int sent;
	} tl;
	const char *button; /* the device that takes a press, or NULL: none */
	int presses;
};

static struct json_object *fake_info(void *ctx)
{
	struct fake *f = ctx;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(f->state));
	json_object_object_add(o, "fake", json_object_new_boolean(1));
	return o;
}

static struct json_object *fake_stats(void *ctx)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "vcpus", json_object_new_array());
	return o;
}

static const char *fake_state(void *ctx)
{
	return ((struct fake *)ctx)->state;
}

static int fake_action(struct fake *f, const char *from, const char *to, int *count, char *msg, size_t len)
{
	if (f->next_rc) {
		int rc = f->next_rc;
		f->next_rc = 0;
		snprintf(msg, len, "refused with %d", rc);
		return rc;
	}
	if (strcmp(f->state, from) != 0) {
		snprintf(msg, len, "the machine is not %s", from);
		return 409;
	}
	f->state = to;
	(*count)++;
	return 0;
}

static int fake_pause(void *ctx, char *msg, size_t len)
{
	struct fake *f = ctx;
	return fake_action(f, "running", "paused", &f->pauses, msg, len);
}

static int fake_resume(void *ctx, char *msg, size_t len)
{
	struct fake *f = ctx;
	return fake_action(f, "paused", "running", &f->resumes, msg, len);
}

static int fake_shutdown(void *ctx, char *msg, size_t len)
{
	struct fake *f = ctx;
	if (!f->button) {
		snprintf(msg, len, "no power button");
		return 409;
	}
	f->presses++;
	snprintf(msg, len, "%s", f->button);
	return 0;
}

static void fake_stop(void *ctx)
{
	struct fake *f = ctx;
	f->stops++;
	f->state = "stopping";
	if (f->base)
		event_base_loopbreak(f->base);
}

/* PUT /v1/snapshot: a running fake pauses itself first, as the machine does. */
static int fake_snapshot(void *ctx, const char *path, char *msg, size_t len)
{
	struct fake *f = ctx;

	if (f->next_rc) {
		int rc = f->next_rc;
		f->next_rc = 0;
		snprintf(msg, len, "refused with %d", rc);
		return rc;
	}
	snprintf(f->snapshot_path, sizeof(f->snapshot_path), "%s", path);
	f->state = "paused";
	return 0;
}

/* PUT /v1/migration/send: 0 means started (the test ends it through
 * f->later); next_rc a refusal before it started, the fake running on. */
static int fake_migrate(void *ctx, const char *sock, unsigned max_rounds, struct vmm_api_later *later, char *msg,
			size_t len)
{
	struct fake *f = ctx;

	if (f->next_rc) {
		int rc = f->next_rc;
		f->next_rc = 0;
		snprintf(msg, len, "refused with %d", rc);
		return rc;
	}
	snprintf(f->migrate_socket, sizeof(f->migrate_socket), "%s", sock);
	f->migrate_rounds = max_rounds;
	f->later = later;
	return 0;
}

static void test_later_send(struct vmm_api_later *l, struct vmm_api_reply *r)
{
	struct test_later *t = (struct test_later *)l;

	t->r = *r;
	t->sent++;
}

static const struct vmm_api_target fake_target = {
	.info = fake_info,
	.stats = fake_stats,
	.state = fake_state,
	.pause = fake_pause,
	.resume = fake_resume,
	.shutdown = fake_shutdown,
	.stop = fake_stop,
	.snapshot = fake_snapshot,
	.migrate = fake_migrate,
};

/* ------------------------------------------------------------- router */

static struct vmm_api_reply route_len(struct fake *f, const char *method, const char *uri, const char *body,
				      size_t len)
{
	struct vmm_api_reply r;
	f->tl.l.send = test_later_send;
	vmm_api_route(&fake_target, f, method, uri, body, len, &f->tl.l, &r);
	if (!r.later)
		assert_non_null(r.body);
	return r;
}

static struct vmm_api_reply route(struct fake *f, const char *method, const char *uri, const char *body)
{
	return route_len(f, method, uri, body ? body : "", body ? strlen(body) : 0);
}

/* An error reply: the status, and {"error": "..."} alone containing `text`. */
static void expect_error(struct vmm_api_reply *r, int status, const char *text)
{
	struct json_object *e;

	assert_int_equal(r->status, status);
	assert_int_equal(json_object_object_length(r->body), 1);
	assert_true(json_object_object_get_ex(r->body, "error", &e));
	assert_true(json_object_is_type(e, json_type_string));
	if (!strstr(json_object_get_string(e), text))
		fail_msg("error '%s' does not say '%s'", json_object_get_string(e), text);
	json_object_put(r->body);
}

static void expect_state(struct vmm_api_reply *r, const char *state)
{
	struct json_object *s;

	assert_int_equal(r->status, 200);
	assert_true(json_object_object_get_ex(r->body, "state", &s));
	assert_string_equal(json_object_get_string(s), state);
	json_object_put(r->body);
}

static void test_reads(void **state)
{
	struct fake f = { .state = "running" };
	struct json_object *v;

	struct vmm_api_reply r = route(&f, "GET", "/v1/machine", NULL);
	assert_int_equal(r.status, 200);
	assert_true(json_object_object_get_ex(r.body, "fake", &v));
	json_object_put(r.body);
	r = route(&f, "GET", "/v1/machine/", NULL); /* one trailing slash */
	assert_int_equal(r.status, 200);
	json_object_put(r.body);
	r = route(&f, "GET", "/v1/stats", NULL);
	assert_int_equal(r.status, 200);
	assert_true(json_object_object_get_ex(r.body, "vcpus", &v));
	json_object_put(r.body);
	assert_int_equal(f.pauses + f.resumes + f.stops, 0);
}

static void test_actions(void **state)
{
	struct fake f = { .state = "running" };

	struct vmm_api_reply r = route(&f, "PUT", "/v1/machine/pause", NULL);
	expect_state(&r, "paused");
	r = route(&f, "PUT", "/v1/machine/pause", "{}");
	expect_error(&r, 409, "not running");
	r = route(&f, "PUT", "/v1/machine/resume", " { }\r\n");
	expect_state(&r, "running");
	r = route(&f, "PUT", "/v1/machine/resume", NULL);
	expect_error(&r, 409, "not paused");
	r = route(&f, "PUT", "/v1/machine/shutdown", NULL);
	expect_error(&r, 409, "no power button");
	/* A press: 200, the state as it was, what was pressed and where. */
	f.button = "acpi";
	r = route(&f, "PUT", "/v1/machine/shutdown", "{}");
	struct json_object *v;
	assert_true(json_object_object_get_ex(r.body, "power_button", &v));
	assert_string_equal(json_object_get_string(v), "pressed");
	assert_true(json_object_object_get_ex(r.body, "device", &v));
	assert_string_equal(json_object_get_string(v), "acpi");
	expect_state(&r, "running");
	assert_int_equal(f.presses, 1);
	f.button = NULL;
	/* A target's status passes through; anything else is a 500. */
	f.next_rc = 503;
	r = route(&f, "PUT", "/v1/machine/pause", NULL);
	expect_error(&r, 503, "refused with 503");
	f.next_rc = -5;
	r = route(&f, "PUT", "/v1/machine/pause", NULL);
	expect_error(&r, 500, "refused with -5");
	assert_int_equal(f.pauses, 1);
	assert_int_equal(f.resumes, 1);
}

static void test_stop_is_deferred(void **state)
{
	struct fake f = { .state = "paused" };

	struct vmm_api_reply r = route(&f, "PUT", "/v1/machine/stop", NULL);
	assert_true(r.stop_after);
	expect_state(&r, "stopping");
	/* The router never stops: the server does, once the reply is out. */
	assert_int_equal(f.stops, 0);
	f.state = "stopping";
	r = route(&f, "PUT", "/v1/machine/stop", NULL);
	assert_false(r.stop_after);
	expect_error(&r, 409, "already stopping");
}

static void test_not_found(void **state)
{
	static const char *const paths[] = {
		"/", "/v1", "/v2/machine", "/v1/machinex", "/v1/machine//", "/V1/machine",
		"/v1/machine/pause/now", "v1/machine", "", "/v1/snapshots",
	};
	struct fake f = { .state = "running" };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct vmm_api_reply r = route(&f, "GET", paths[i], NULL);
		char want[64];
		snprintf(want, sizeof(want), "no resource %s ", paths[i]);
		expect_error(&r, 404, want);
		assert_null(r.allow);
	}
}

static void test_snapshot(void **state)
{
	struct fake f = { .state = "running" };
	struct vmm_api_reply r;

	r = route(&f, "PUT", "/v1/snapshot", "{\"path\": \"/tmp/snap\"}");
	expect_state(&r, "paused");
	assert_string_equal(f.snapshot_path, "/tmp/snap");
	r = route(&f, "PUT", "/v1/snapshot", NULL);
	expect_error(&r, 400, "needs a body");
	r = route(&f, "PUT", "/v1/snapshot", "{}");
	expect_error(&r, 400, "must be a non-empty string");
	r = route(&f, "PUT", "/v1/snapshot", "{\"path\": 3}");
	expect_error(&r, 400, "must be a non-empty string");
	r = route(&f, "PUT", "/v1/snapshot", "{\"path\": \"\"}");
	expect_error(&r, 400, "must be a non-empty string");
	r = route(&f, "PUT", "/v1/snapshot", "{\"path\": \"/x\", \"compress\": true}");
	expect_error(&r, 400, "unknown member 'compress'");
	f.next_rc = 409;
	r = route(&f, "PUT", "/v1/snapshot", "{\"path\": \"/x\"}");
	expect_error(&r, 409, "refused with 409");
	assert_string_equal(f.snapshot_path, "/tmp/snap");
	r = route(&f, "GET", "/v1/snapshot", NULL);
	assert_string_equal(r.allow, "PUT");
	expect_error(&r, 405, "PUT only");
	/* The other actions still take no members. */
	r = route(&f, "PUT", "/v1/machine/resume", "{\"path\": \"/x\"}");
	expect_error(&r, 400, "unknown member 'path'");
}

/* The reply to PUT /v1/migration/send comes when the migration ends. */
static struct vmm_api_reply migration_started(struct fake *f, const char *body)
{
	struct vmm_api_reply r = route(f, "PUT", "/v1/migration/send", body);

	assert_true(r.later);
	assert_null(r.body);
	assert_ptr_equal(f->later, &f->tl.l);
	assert_int_equal(f->tl.sent, 0);
	return r;
}

static void test_migrate(void **state)
{
	struct fake f = { .state = "running" };
	struct vmm_api_reply r;

	(void)state;
	migration_started(&f, "{\"socket\": \"/tmp/dest\"}");
	assert_string_equal(f.migrate_socket, "/tmp/dest");
	assert_int_equal(f.migrate_rounds, 0);
	/* Migrated: the figures, "stopping", and stop() after the reply. */
	struct json_object *figures = json_object_new_object();
	json_object_object_add(figures, "rounds", json_object_new_int(3));
	vmm_api_later_done(f.later, 0, figures, "");
	assert_int_equal(f.tl.sent, 1);
	r = f.tl.r;
	assert_int_equal(r.status, 200);
	assert_true(r.stop_after);
	struct json_object *v;
	assert_true(json_object_object_get_ex(r.body, "rounds", &v));
	assert_int_equal(json_object_get_int(v), 3);
	expect_state(&r, "stopping");
	/* Failed once started: the error and its status, no stop. */
	f.tl.sent = 0;
	migration_started(&f, "{\"socket\": \"/tmp/d2\", \"max-rounds\": 1}");
	assert_int_equal(f.migrate_rounds, 1);
	vmm_api_later_done(f.later, 502, NULL, "destination /tmp/d2: the stream broke after 7 pages");
	assert_int_equal(f.tl.sent, 1);
	r = f.tl.r;
	assert_false(r.stop_after);
	expect_error(&r, 502, "the stream broke after 7 pages");
	/* A server that cannot answer later: refused. */
	vmm_api_route(&fake_target, &f, "PUT", "/v1/migration/send", "{\"socket\": \"/x\"}", strlen("{\"socket\": \"/x\"}"), NULL, &r);
	assert_false(r.later);
	expect_error(&r, 500, "cannot answer a migration");
	r = route(&f, "PUT", "/v1/migration/send", NULL);
	expect_error(&r, 400, "needs a body");
	r = route(&f, "PUT", "/v1/migration/send", "{\"max-rounds\": 2}");
	expect_error(&r, 400, "\"socket\" must be a non-empty string");
	r = route(&f, "PUT", "/v1/migration/send", "{\"socket\": \"/x\", \"max-rounds\": 0}");
	expect_error(&r, 400, "from 1 to 30");
	r = route(&f, "PUT", "/v1/migration/send", "{\"socket\": \"/x\", \"max-rounds\": \"2\"}");
	expect_error(&r, 400, "from 1 to 30");
	r = route(&f, "PUT", "/v1/migration/send", "{\"socket\": \"/x\", \"tcp\": true}");
	expect_error(&r, 400, "unknown member 'tcp'");
	f.next_rc = 502;
	r = route(&f, "PUT", "/v1/migration/send", "{\"socket\": \"/x\"}");
	expect_error(&r, 502, "refused with 502");
	assert_false(r.stop_after);
	/* A snapshot takes no max-rounds. */
	r = route(&f, "PUT", "/v1/snapshot", "{\"path\": \"/x\", \"max-rounds\": 1}");
	expect_error(&r, 400, "unknown member 'max-rounds'");
}

static void test_wrong_method(void **state)
{
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{ "POST", "/v1/machine/pause", "PUT" }, { "GET", "/v1/machine/pause", "PUT" },
		{ "DELETE", "/v1/machine/stop", "PUT" }, { "PUT", "/v1/machine", "GET" },
		{ "PATCH", "/v1/machine", "GET" },      { "POST", "/v1/stats", "GET" },
		{ "HEAD", "/v1/machine", "GET" },
	};
	struct fake f = { .state = "running" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmm_api_reply r = route(&f, cases[i].method, cases[i].path, NULL);
		assert_string_equal(r.allow, cases[i].allow);
		expect_error(&r, 405, "method not allowed");
	}
	assert_string_equal(f.state, "running");
}

static void test_bad_bodies(void **state)
{
	static const struct {
		const char *body, *error;
	} cases[] = {
		{ "{", "ends too early" },
		{ "{\"a\":", "ends too early" },
		{ "pause", "is not JSON" },
		{ "[1, 2]", "must be a JSON object, got array" },
		{ "\"x\"", "must be a JSON object, got string" },
		{ "1", "must be a JSON object, got int" },
		{ "null", "must be a JSON object, got null" },
		{ "{\"vcpu\": 1}", "unknown member 'vcpu'" },
		{ "{} {}", "trailing bytes at offset 3" },
		{ "{}x", "trailing bytes at offset 2" },
	};
	struct fake f = { .state = "running" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmm_api_reply r = route(&f, "PUT", "/v1/machine/pause", cases[i].body);
		expect_error(&r, 400, cases[i].error);
	}
	struct vmm_api_reply r = route_len(&f, "PUT", "/v1/machine/pause", "{}\0", 3);
	expect_error(&r, 400, "NUL byte");
	r = route_len(&f, "PUT", "/v1/machine/pause", "\0\0", 2);
	expect_error(&r, 400, "NUL byte");
	r = route(&f, "GET", "/v1/machine", "{}");
	expect_error(&r, 400, "GET /v1/machine takes no body");
	r = route(&f, "GET", "/v1/machine?all=1", NULL);
	expect_error(&r, 400, "no query string");
	/* None of them acted. */
	assert_int_equal(f.pauses, 0);
	assert_string_equal(f.state, "running");
}

/* ------------------------------------------------------------- server */

struct server {
	char dir[64], path[128];
	struct vmm_api *api;
	struct fake f;
	pthread_t loop;
	bool loop_ended; /* joined already (the fake's stop() ended it) */
};

static void *loop_thread(void *arg)
{
	struct server *s = arg;
	event_base_loop(s->f.base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static int server_setup(void **state)
{
	struct server *s = calloc(1, sizeof(*s));
	char err[256];

	strcpy(s->dir, "/tmp/vmm-test-api.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/api.sock", s->dir);
	assert_int_equal(vmm_api_listen(s->path, &s->api, err, sizeof(err)), 0);
	s->f.state = "running";
	s->f.base = event_base_new();
	assert_non_null(s->f.base);
	assert_int_equal(vmm_api_serve(s->api, s->f.base, &fake_target, &s->f), 0);
	assert_int_equal(pthread_create(&s->loop, NULL, loop_thread, s), 0);
	*state = s;
	return 0;
}

static int server_teardown(void **state)
{
	struct server *s = *state;
	if (!s->loop_ended) {
		event_base_loopbreak(s->f.base);
		pthread_join(s->loop, NULL);
	}
	vmm_api_close(s->api);
	/* The socket is gone with the server. */
	assert_int_equal(access(s->path, F_OK), -1);
	event_base_free(s->f.base);
	rmdir(s->dir);
	free(s);
	return 0;
}

/* A request through vmmctl's client; its reply parsed. */
static struct json_object *request(struct server *s, const char *method, const char *path, const char *body,
				   int want_status)
{
	char err[256], *reply;
	int status = 0;

	int rc = vmm_api_request(s->path, method, path, body, &status, &reply, err, sizeof(err));
	if (rc)
		fail_msg("%s %s: %s", method, path, err);
	assert_int_equal(status, want_status);
	struct json_object *o = json_tokener_parse(reply);
	if (!o)
		fail_msg("%s %s: the reply is not JSON: %s", method, path, reply);
	free(reply);
	return o;
}

static void test_server_roundtrip(void **state)
{
	struct server *s = *state;
	struct json_object *o, *v;

	o = request(s, "GET", "/v1/machine", NULL, 200);
	assert_true(json_object_object_get_ex(o, "fake", &v));
	json_object_put(o);
	o = request(s, "PUT", "/v1/machine/pause", NULL, 200);
	assert_true(json_object_object_get_ex(o, "state", &v));
	assert_string_equal(json_object_get_string(v), "paused");
	json_object_put(o);
	o = request(s, "PUT", "/v1/machine/pause", "{}", 409);
	assert_true(json_object_object_get_ex(o, "error", &v));
	json_object_put(o);
	o = request(s, "POST", "/v1/machine/resume", NULL, 405);
	json_object_put(o);
	o = request(s, "PUT", "/v1/machine/resume", "{\"now\": true}", 400);
	json_object_put(o);
	o = request(s, "OPTIONS", "/v1/nowhere", NULL, 404);
	json_object_put(o);
	o = request(s, "PUT", "/v1/machine/resume", "{}", 200);
	json_object_put(o);
	assert_int_equal(s->f.pauses, 1);
	assert_int_equal(s->f.resumes, 1);
}

#define CLIENTS 8
#define REQUESTS 25

static void *client_thread(void *arg)
{
	struct server *s = arg;
	long ok = 0;
	for (int i = 0; i < REQUESTS; i++) {
		char err[256], *reply = NULL;
		int status = 0;
		if (vmm_api_request(s->path, "GET", i & 1 ? "/v1/stats" : "/v1/machine", NULL, &status, &reply,
				    err, sizeof(err)) == 0 && status == 200) {
			struct json_object *o = json_tokener_parse(reply);
			ok += o != NULL;
			json_object_put(o);
		}
		free(reply);
	}
	return (void *)ok;
}

static void test_server_concurrent_clients(void **state)
{
	struct server *s = *state;
	pthread_t t[CLIENTS];

	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, client_thread, s), 0);
	for (int i = 0; i < CLIENTS; i++) {
		void *ok;
		pthread_join(t[i], &ok);
		assert_int_equal((long)ok, REQUESTS);
	}
}

static int raw_connect(struct server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, s->path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void test_server_client_goes_away(void **state)
{
	struct server *s = *state;
	static const char *const partial[] = {
		"PUT /v1/machine/pause HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{",
		"PUT /v1/machine/pau",
		"GET /v1/machine HTTP/1.1\r\nHost: x\r\n",
		"",
	};

	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		int fd = raw_connect(s);
		assert_int_equal(send(fd, partial[i], strlen(partial[i]), MSG_NOSIGNAL), (ssize_t)strlen(partial[i]));
		close(fd);
	}
	/* A whole request whose client does not read the reply. */
	int fd = raw_connect(s);
	const char *req = "PUT /v1/machine/pause HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	shutdown(fd, SHUT_WR);
	/* The server goes on: the next client is served, and only the whole
	 * request acted (the partial pause never did). */
	struct json_object *o = request(s, "GET", "/v1/machine", NULL, 200);
	json_object_put(o);
	close(fd);
	o = request(s, "GET", "/v1/stats", NULL, 200);
	json_object_put(o);
	assert_int_equal(s->f.pauses, 1);
}

static void test_server_stop_after_reply(void **state)
{
	struct server *s = *state;

	struct json_object *o = request(s, "PUT", "/v1/machine/stop", NULL, 200);
	struct json_object *v;
	assert_true(json_object_object_get_ex(o, "state", &v));
	assert_string_equal(json_object_get_string(v), "stopping");
	json_object_put(o);
	/* The fake's stop() ends the loop once the reply is written. */
	pthread_join(s->loop, NULL);
	s->loop_ended = true;
	assert_int_equal(s->f.stops, 1);
}

/* --------------------------------------------------------- socket paths */

static void test_listen_paths(void **state)
{
	char dir[] = "/tmp/vmm-test-api.XXXXXX", path[128], err[256];
	struct vmm_api *a, *b;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	strcpy(sa.sun_path, path);

	/* A regular file: refused, untouched. */
	FILE *f = fopen(path, "w");
	fputs("keep", f);
	fclose(f);
	assert_int_equal(vmm_api_listen(path, &a, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "exists and is not a socket"));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);
	unlink(path);

	/* A stale socket (bound, nobody listening): replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(vmm_api_listen(path, &a, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A live one: refused, and still served. */
	assert_int_equal(vmm_api_listen(path, &b, err, sizeof(err)), -EADDRINUSE);
	assert_non_null(strstr(err, "another process is serving"));
	assert_int_equal(stat(path, &st), 0);
	vmm_api_close(a);
	assert_int_equal(access(path, F_OK), -1);

	/* Close removes only its own socket, not what replaced it. */
	assert_int_equal(vmm_api_listen(path, &a, err, sizeof(err)), 0);
	unlink(path);
	f = fopen(path, "w");
	fclose(f);
	vmm_api_close(a);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);

	/* Too long for sun_path; empty. */
	char longp[200];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(vmm_api_listen(longp, &a, err, sizeof(err)), -ENAMETOOLONG);
	assert_int_equal(vmm_api_listen("", &a, err, sizeof(err)), -ENAMETOOLONG);
	rmdir(dir);
}

static void test_client_errors(void **state)
{
	char err[256], *reply;
	int status;

	assert_int_equal(vmm_api_request("/nonexistent/vmm.sock", "GET", "/v1/machine", NULL, &status, &reply,
					 err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/vmm.sock"));
	assert_null(reply);

	/* A peer that answers something other than HTTP. */
	char dir[] = "/tmp/vmm-test-api.XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid_t pid = fork();
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);
		char buf[512];
		(void)!read(c, buf, sizeof(buf));
		(void)!write(c, "SSH-2.0-OpenSSH\r\n", 17);
		_exit(0);
	}
	assert_int_equal(vmm_api_request(path, "GET", "/v1/machine", NULL, &status, &reply, err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, "not HTTP"));
	close(lfd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	evthread_use_pthreads();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_stop_is_deferred),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_wrong_method),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test_setup_teardown(test_server_roundtrip, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_server_concurrent_clients, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_server_client_goes_away, server_setup, server_teardown),
		cmocka_unit_test_setup_teardown(test_server_stop_after_reply, server_setup, server_teardown),
		cmocka_unit_test(test_listen_paths),
		cmocka_unit_test(test_client_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
