/* core/api.h - the control API: HTTP/1.1 with JSON bodies on a unix socket
 * (vmmctl run --api PATH), and vmmctl's client for it (docs/api.md).
 *
 * Three parts: the router (api-route.c) turns a method, a path and a body
 * into a status and a JSON reply through a table of target ops, with no
 * HTTP or machine in sight, so the unit tests drive it with a fake target;
 * the server (api-server.c) binds the socket and serves it with libevent's
 * evhttp on the machine's event loop, its target the running machine; the
 * client (api-client.c) is vmmctl's info, pause, ... subcommands.
 *
 * Error convention: 0 or a negative errno; `err` gets one line.
 */
#ifndef VMM_CORE_API_H
#define VMM_CORE_API_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct event_base;
struct vmm_machine;
struct vmm_api_later;

/*
 * What the API controls: the running machine in vmmctl, a fake in the
 * tests.  The actions return 0, or an HTTP status (409 for a request the
 * machine's state refuses, 500, 503) with `msg` saying why.  info() and
 * stats() return a new JSON object (the caller puts it), NULL when out of
 * memory.  stop() is called only once the reply to it has been sent.
 */
struct vmm_api_target {
	struct json_object *(*info)(void *ctx);
	struct json_object *(*stats)(void *ctx);
	const char *(*state)(void *ctx); /* "running", "paused", ... */
	int (*pause)(void *ctx, char *msg, size_t len);
	int (*resume)(void *ctx, char *msg, size_t len);
	/* Press the power button: 0 with `msg` naming the device that took
	 * it (or empty), or a refusal as above (409: no button). */
	int (*shutdown)(void *ctx, char *msg, size_t len);
	void (*stop)(void *ctx);
	/* PUT /v1/snapshot {"path": DIR}: save the machine into DIR (a
	 * running one is paused first and stays paused).  NULL: refused
	 * with 500. */
	int (*snapshot)(void *ctx, const char *path, char *msg, size_t len);
	/* PUT /v1/migration/send {"socket": PATH, "max-rounds": N}: start
	 * migrating the machine to the vmmctl receive on PATH
	 * (core/migrate.h) in at most N pre-copy rounds (0: the default),
	 * and return 0; the reply waits for the end: the op calls
	 * vmm_api_later_done(later, ...) once, from the event loop.  A
	 * refusal before anything started returns its status as the other
	 * actions do (and never calls later).  NULL: refused with 500. */
	int (*migrate)(void *ctx, const char *socket, unsigned max_rounds, struct vmm_api_later *later, char *msg,
		       size_t len);
};

/* A request's outcome: the HTTP status, its JSON body (owned: put it), the
 * Allow header of a 405, and whether the target's stop() is due once the
 * reply is out; or `later`: no reply now, the action answers through the
 * vmm_api_later it was given. */
struct vmm_api_reply {
	int status;
	struct json_object *body;
	const char *allow;
	bool stop_after;
	bool later;
};

/* A reply given later (PUT /v1/migration/send answers once the migration
 * has ended): the server makes one per request, the router passes it to
 * the action, and vmm_api_later_done() turns the action's outcome into
 * the reply and hands it to send(), which owns it then (puts its body). */
struct vmm_api_later {
	void (*send)(struct vmm_api_later *l, struct vmm_api_reply *r);
};
/* The migration's outcome: status 0 (the destination runs the machine:
 * 200, `done`'s figures and "state": "stopping", and stop() once the reply
 * is out) or a refusal's status and `msg` (the machine runs on here).
 * Takes `done`. */
void vmm_api_later_done(struct vmm_api_later *l, int status, struct json_object *done, const char *msg);

/* Route one request.  `method` is the request line's ("GET", "PUT", ...),
 * `uri` its target ("/v1/machine", possibly with a query), `body` the
 * request body (len bytes, not NUL-terminated; len 0 for none); `later`
 * the server's for a reply given later (NULL: such a request is refused
 * with 500). */
void vmm_api_route(const struct vmm_api_target *t, void *ctx, const char *method, const char *uri,
		   const char *body, size_t len, struct vmm_api_later *later, struct vmm_api_reply *r);
/* The reason phrase of a status the router gives ("Conflict"). */
const char *vmm_api_reason(int status);
/* The body of an error reply: {"error": "..."} */
struct json_object *vmm_api_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The server.  vmm_api_listen() binds and listens on the unix socket PATH
 * (mode 0600) before anything else is built: a path that exists and is not
 * a socket is refused, a socket another process still serves is refused, a
 * stale one (nobody accepts on it: a vmmctl that was killed) is replaced.
 * vmm_api_attach() serves it on a machine's event loop (once per machine:
 * a guest reset with on-reset = restart builds a new one); detach before
 * the machine is destroyed.  vmm_api_close() closes the socket and removes
 * its path (if the path still names this socket).
 */
struct vmm_api;
int vmm_api_listen(const char *path, struct vmm_api **out, char *err, size_t errlen);
int vmm_api_attach(struct vmm_api *a, struct vmm_machine *m);
/* The same for any target on any event loop (the unit tests' fakes). */
int vmm_api_serve(struct vmm_api *a, struct event_base *base, const struct vmm_api_target *t, void *ctx);
void vmm_api_detach(struct vmm_api *a);
void vmm_api_close(struct vmm_api *a);
/* The target ops for a running machine (ctx: the struct vmm_machine). */
extern const struct vmm_api_target vmm_api_machine_target;

/*
 * The client: one request to the API at `sock` over a new connection.
 * On success (a reply came, whatever its status) *status is the HTTP
 * status and *reply the body (malloc'd, NUL-terminated).  -errno when the
 * socket cannot be reached or the reply is not HTTP (err says which).
 */
int vmm_api_request(const char *sock, const char *method, const char *path, const char *body,
		    int *status, char **reply, char *err, size_t errlen);

#endif
