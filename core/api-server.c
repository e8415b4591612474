/* core/api-server.c - the control API served on a unix socket with
 * libevent's evhttp on the machine's event loop (the main thread), and
 * the target ops on a running machine (see api.h, docs/api.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>

#include <vmm/vmm.h>
#include "core/api.h"
#include "core/snapshot.h"
#include "core/migrate.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/power.h"

struct vmm_api {
	char *path;
	int fd;             /* the listening socket, kept across machines */
	dev_t dev;          /* the socket file, so that close removes only ours */
	ino_t ino;
	const struct vmm_api_target *t;
	void *ctx;
	struct evhttp *http;
	struct event *stop_ev; /* a stop whose reply was lost still stops */
	bool stop_due;
	struct api_later *pending; /* the migration's reply, when one is due */
};

/* A request whose reply comes later (vmm_api_later): evhttp keeps the
 * request until it is answered, even once its client has gone (then
 * evhttp_send_reply only frees it). */
struct api_later {
	struct vmm_api_later later;
	struct vmm_api *a;          /* NULL once the server is detached */
	struct evhttp_request *req; /* NULL once answered */
};

/* ---------------------------------------------------------------- socket */

/* A socket at `path` that nobody accepts on is stale (its vmmctl died
 * without removing it); one that answers belongs to a live process. */
static bool socket_is_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int vmm_api_listen(const char *path, struct vmm_api **out, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	*out = NULL;
	if (!path[0] || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--api %s: a unix socket path is 1 to %zu bytes long", path,
			 sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "--api %s: exists and is not a socket; not replacing it", path);
			return -EEXIST;
		}
		if (socket_is_live(&sa)) {
			snprintf(err, errlen, "--api %s: another process is serving on this socket", path);
			return -EADDRINUSE;
		}
		/* Stale: left by a vmmctl that was killed. */
		if (unlink(path) && errno != ENOENT) {
			rc = -errno;
			snprintf(err, errlen, "--api %s: cannot remove the stale socket: %s", path, strerror(-rc));
			return rc;
		}
		vmm_log(VMM_LOG_INFO, NULL, "--api %s: replacing a stale socket", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "--api %s: socket: %s", path, strerror(-rc));
		return rc;
	}
	/* The API controls the machine: its owner's alone (mode 0600). */
	mode_t old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc || listen(fd, 16)) {
		rc = -errno;
		snprintf(err, errlen, "--api %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	struct vmm_api *a = calloc(1, sizeof(*a));
	if (!a || !(a->path = strdup(path)) || stat(path, &st)) {
		snprintf(err, errlen, "--api %s: %s", path, a ? strerror(errno) : "out of memory");
		if (a)
			free(a->path);
		free(a);
		unlink(path);
		close(fd);
		return -ENOMEM;
	}
	a->fd = fd;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	*out = a;
	return 0;
}

void vmm_api_close(struct vmm_api *a)
{
	struct stat st;

	if (!a)
		return;
	vmm_api_detach(a);
	/* Only our own socket: someone may have replaced the path. */
	if (stat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino)
		unlink(a->path);
	close(a->fd);
	free(a->path);
	free(a);
}

/* ---------------------------------------------------------------- server */

static const char *method_name(enum evhttp_cmd_type c)
{
	switch (c) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

static void api_stop_now(struct vmm_api *a)
{
	if (!a->stop_due)
		return;
	a->stop_due = false;
	a->t->stop(a->ctx);
}

static void stop_timer(evutil_socket_t fd, short what, void *arg)
{
	api_stop_now(arg);
}

/* The reply to PUT /v1/machine/stop is out: now stop. */
static void stop_reply_sent(struct evhttp_request *req, void *arg)
{
	api_stop_now(arg);
}

static void send_reply(struct vmm_api *a, struct evhttp_request *req, struct vmm_api_reply *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", "application/json");
	if (r->allow)
		evhttp_add_header(h, "Allow", r->allow);
	struct evbuffer *out = evbuffer_new();
	if (out) {
		const char *text = r->body ? json_object_to_json_string_ext(r->body, JSON_C_TO_STRING_PRETTY |
									  JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)
					   : "{}";
		evbuffer_add_printf(out, "%s\n", text);
	}
	if (r->stop_after) {
		/* Stop once the reply is written; should the client go away
		 * first, the timer stops the machine all the same. */
		a->stop_due = true;
		evhttp_request_set_on_complete_cb(req, stop_reply_sent, a);
		struct timeval tv = { 0, 500 * 1000 };
		if (!a->stop_ev || event_add(a->stop_ev, &tv))
			api_stop_now(a);
	}
	evhttp_send_reply(req, r->status, vmm_api_reason(r->status), out);
	if (out)
		evbuffer_free(out);
	json_object_put(r->body);
}

/* A reply while the machine stops: the loop may not turn again to write
 * it, so it is written now (evhttp is freed with the machine anyway). */
static void send_reply_now(struct vmm_api *a, struct evhttp_request *req, struct vmm_api_reply *r)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;

	send_reply(a, req, r);
	if (bev)
		evbuffer_write(bufferevent_get_output(bev), bufferevent_getfd(bev));
}

static void later_send(struct vmm_api_later *l, struct vmm_api_reply *r)
{
	struct api_later *p = (struct api_later *)l;

	vmm_log(VMM_LOG_DEBUG, "api", "the reply given later: %d", r->status);
	if (p->a && p->req && r->status == 503)
		send_reply_now(p->a, p->req, r);
	else if (p->a && p->req)
		send_reply(p->a, p->req, r);
	else
		json_object_put(r->body);
	if (p->a && p->a->pending == p)
		p->a->pending = NULL;
	free(p);
}

static void api_request(struct evhttp_request *req, void *arg)
{
	struct vmm_api *a = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
	const char *method = method_name(evhttp_request_get_command(req));
	struct api_later *p = calloc(1, sizeof(*p));
	struct vmm_api_reply r;

	if (p) {
		p->later.send = later_send;
		p->a = a;
		p->req = req;
	}
	vmm_api_route(a->t, a->ctx, method, evhttp_request_get_uri(req), body, len, p ? &p->later : NULL, &r);
	vmm_log(VMM_LOG_DEBUG, "api", "%s %s: %d%s", method, evhttp_request_get_uri(req), r.status,
		r.later ? " (the reply comes later)" : "");
	if (r.later) {
		a->pending = p;
		return;
	}
	free(p);
	send_reply(a, req, &r);
}

int vmm_api_attach(struct vmm_api *a, struct vmm_machine *m)
{
	return vmm_api_serve(a, vmm_machine_event_base(m), &vmm_api_machine_target, m);
}

int vmm_api_serve(struct vmm_api *a, struct event_base *base, const struct vmm_api_target *t, void *ctx)
{
	vmm_api_detach(a);
	/* evhttp closes the socket it is given: it gets a duplicate, the
	 * listening socket stays for the next machine (on-reset = restart). */
	int fd = fcntl(a->fd, F_DUPFD_CLOEXEC, 0);
	a->t = t;
	a->ctx = ctx;
	a->http = evhttp_new(base);
	a->stop_ev = evtimer_new(base, stop_timer, a);
	if (fd < 0 || !a->http || !a->stop_ev || !evhttp_accept_socket_with_handle(a->http, fd)) {
		vmm_log(VMM_LOG_ERROR, NULL, "--api %s: cannot serve the socket", a->path);
		/* Not taken by evhttp: still ours. */
		if (fd >= 0)
			close(fd);
		vmm_api_detach(a);
		return -ENOMEM;
	}
	/* Every method reaches the router, so that one it does not take is
	 * a JSON 405 naming the one it does. */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(a->http, 64 * 1024);
	evhttp_set_max_headers_size(a->http, 16 * 1024);
	evhttp_set_timeout(a->http, 30);
	evhttp_set_gencb(a->http, api_request, a);
	return 0;
}

void vmm_api_detach(struct vmm_api *a)
{
	/* A reply still due: answered now, the migration left to end
	 * without one (the machine is going). */
	struct api_later *p = a->pending;
	if (p) {
		struct vmm_api_reply r = { .status = 503, .body = vmm_api_error("the machine stopped before the "
										 "migration ended") };
		send_reply_now(a, p->req, &r);
		p->req = NULL;
		p->a = NULL;
		a->pending = NULL;
	}
	if (a->http)
		evhttp_free(a->http);
	a->http = NULL;
	if (a->stop_ev)
		event_free(a->stop_ev);
	a->stop_ev = NULL;
	a->stop_due = false;
	a->t = NULL;
	a->ctx = NULL;
}

/* ------------------------------------------------ the machine as target */

static struct json_object *instance_json(const struct vmm_cfg_instance *ci)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(ci->name));
	json_object_object_add(o, "plugin", json_object_new_string(ci->plugin));
	if (ci->lp && ci->lp->desc) {
		if (ci->lp->desc->version)
			json_object_object_add(o, "version", json_object_new_string(ci->lp->desc->version));
		json_object_object_add(o, "path", json_object_new_string(ci->lp->path));
	}
	return o;
}

static const char *irq_mode_name(enum vmm_irq_mode mode)
{
	switch (mode) {
	case VMM_IRQ_EMULATED: return "emulated";
	case VMM_IRQ_SPLIT: return "split";
	case VMM_IRQ_KERNEL: return "kernel";
	}
	return "?";
}

static struct json_object *machine_info(void *ctx)
{
	struct vmm_machine *m = ctx;
	const struct vmm_machine_config *c = vmm_machine_config(m);
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	char abi[16];
	snprintf(abi, sizeof(abi), "%d.%d", VMM_ABI_MAJOR, VMM_ABI_MINOR);
	json_object_object_add(o, "state", json_object_new_string(vmm_machine_state_name(vmm_machine_state(m))));
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "abi", json_object_new_string(abi));
	json_object_object_add(o, "config", json_object_new_string(c->file));
	json_object_object_add(o, "memory", json_object_new_uint64(c->memory));
	if (c->kernel)
		json_object_object_add(o, "kernel", json_object_new_string(c->kernel));
	if (c->cmdline && c->cmdline[0])
		json_object_object_add(o, "cmdline", json_object_new_string(c->cmdline));
	if (c->initrd)
		json_object_object_add(o, "initrd", json_object_new_string(c->initrd));
	struct json_object *hv = instance_json(&c->hypervisor);
	json_object_object_add(hv, "irqchip", json_object_new_string(irq_mode_name(m->irq_mode)));
	json_object_object_add(o, "hypervisor", hv);
	struct json_object *vcpus = json_object_new_array();
	for (unsigned i = 0; i < m->nvcpus; i++) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "index", json_object_new_int((int)i));
		json_object_object_add(v, "parked", json_object_new_boolean(vmm_machine_vcpu_parked(m, i)));
		json_object_array_add(vcpus, v);
	}
	json_object_object_add(o, "vcpus", vcpus);
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < c->ndevices; i++)
		json_object_array_add(devs, instance_json(&c->devices[i]));
	struct json_object *bes = json_object_new_array();
	for (size_t i = 0; i < c->nbackends; i++)
		json_object_array_add(bes, instance_json(&c->backends[i]));
	/* Instances the core added itself (a chardev = "stdio" without a
	 * backend section of that name). */
	for (size_t i = 0; i < m->nimplicit; i++) {
		const struct vmm_cfg_instance *ci = m->implicit[i];
		bool backend = ci->lp && ci->lp->desc && ci->lp->desc->kind == VMM_PLUGIN_BACKEND;
		json_object_array_add(backend ? bes : devs, instance_json(ci));
	}
	json_object_object_add(o, "devices", devs);
	json_object_object_add(o, "backends", bes);
	json_object_object_add(o, "power_button", json_object_new_boolean(vmm_machine_has_power_button(m)));
	return o;
}

static struct json_object *machine_stats(void *ctx)
{
	struct vmm_machine *m = ctx;
	struct vmm_machine_stats st;

	if (vmm_machine_stats_get(m, &st))
		return NULL;
	struct json_object *o = json_object_new_object();
	struct json_object *vcpus = json_object_new_array();
	for (unsigned i = 0; i < st.nvcpus; i++) {
		struct json_object *v = json_object_new_object(), *ex = json_object_new_object();
		json_object_object_add(v, "index", json_object_new_int((int)i));
		for (unsigned r = 0; r < VMM_EXIT__COUNT; r++)
			if (st.vcpu[i].exits[r])
				json_object_object_add(ex, vmm_exit_reason_name(r),
						       json_object_new_uint64(st.vcpu[i].exits[r]));
		json_object_object_add(v, "exits", ex);
		json_object_object_add(v, "total", json_object_new_uint64(st.vcpu[i].total));
		json_object_object_add(v, "run_us", json_object_new_uint64(st.vcpu[i].run_us));
		json_object_array_add(vcpus, v);
	}
	json_object_object_add(o, "vcpus", vcpus);
	struct json_object *buses = json_object_new_object();
	for (int b = 0; b < VMM_BUS_COUNT; b++) {
		const struct vmm_bus_stats *bs = &st.bus[b];
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "regions", json_object_new_uint64(bs->regions));
		json_object_object_add(j, "unclaimed_reads", json_object_new_uint64(bs->unclaimed_reads));
		json_object_object_add(j, "unclaimed_writes", json_object_new_uint64(bs->unclaimed_writes));
		json_object_object_add(j, "refused_sizes", json_object_new_uint64(bs->refused_sizes));
		json_object_object_add(j, "device_errors", json_object_new_uint64(bs->device_errors));
		json_object_object_add(buses, bs->name, j);
	}
	json_object_object_add(o, "buses", buses);
	struct json_object *lines = json_object_new_array();
	for (unsigned i = 0; i < st.nirqfds; i++)
		json_object_array_add(lines, json_object_new_int((int)st.irqfd_lines[i]));
	json_object_object_add(o, "irqfd_lines", lines);
	json_object_object_add(o, "guest_errors", json_object_new_uint64(st.guest_errors));
	vmm_machine_stats_free(&st);
	return o;
}

static const char *machine_state(void *ctx)
{
	return vmm_machine_state_name(vmm_machine_state(ctx));
}

/* A refusal for the state the machine is in: 409 and why. */
static int state_refusal(int rc, const char *what, char *msg, size_t len)
{
	switch (rc) {
	case 0:
		return 0;
	case -EALREADY:
		snprintf(msg, len, "%s", what);
		return 409;
	case -ESHUTDOWN:
		snprintf(msg, len, "the machine is stopping");
		return 409;
	case -EAGAIN:
		snprintf(msg, len, "the machine has not started yet");
		return 409;
	case -ETIMEDOUT:
		snprintf(msg, len, "a vCPU did not stop within 5 s; the machine runs on");
		return 503;
	}
	snprintf(msg, len, "%s", strerror(-rc));
	return 500;
}

static int machine_pause(void *ctx, char *msg, size_t len)
{
	return state_refusal(vmm_machine_pause(ctx), "the machine is already paused", msg, len);
}

static int machine_resume(void *ctx, char *msg, size_t len)
{
	return state_refusal(vmm_machine_resume(ctx), "the machine is not paused", msg, len);
}

static int machine_shutdown(void *ctx, char *msg, size_t len)
{
	struct vmm_machine *m = ctx;
	int rc = state_refusal(vmm_machine_state(m) == VMM_MACHINE_STOPPING ? -ESHUTDOWN : 0, "", msg, len);
	if (rc)
		return rc;
	/* On success msg names the device that took the press (api.h). */
	rc = vmm_machine_power_button(m, msg, len);
	if (rc == -ENOTSUP) {
		snprintf(msg, len, "this machine has no power button (no device offers one: an x86 machine "
			 "needs an acpi-pm device; arm64 has none): use PUT /v1/machine/stop");
		return 409;
	}
	if (rc) {
		char who[64];
		snprintf(who, sizeof(who), "%s", msg);
		snprintf(msg, len, "device '%s' did not take the power button press: %s", who, strerror(-rc));
		return 409;
	}
	vmm_log(VMM_LOG_INFO, NULL, "power button pressed through the control API (device '%s')", msg);
	return 0;
}

static void machine_stop(void *ctx)
{
	vmm_log(VMM_LOG_INFO, NULL, "stop requested through the control API");
	/* A migration under way ends first: its client hears 503 while the
	 * loop still runs to send that. */
	vmm_migrate_cancel(ctx, "the machine was stopped through the API");
	vmm_machine_request_stop(ctx, VMM_STATUS_API_STOP, "control API stop");
}

/* A running machine is paused first and stays paused (the client resumes
 * or stops it): the snapshot is the state at that pause. */
static int machine_snapshot(void *ctx, const char *path, char *msg, size_t len)
{
	struct vmm_machine *m = ctx;
	int rc = 0;

	if (vmm_machine_state(m) == VMM_MACHINE_RUNNING)
		rc = vmm_machine_pause(m);
	if (rc && rc != -EALREADY)
		return state_refusal(rc, "", msg, len);
	rc = vmm_machine_snapshot(m, path, msg, len);
	if (rc)
		vmm_log(VMM_LOG_WARN, NULL, "snapshot refused: %s", msg);
	switch (rc) {
	case 0:
		return 0;
	case -EINVAL:
		return 400;
	case -EBUSY:
	case -EEXIST:
	case -ENOTSUP:
		return 409;
	}
	return 500;
}

/* The machine goes on here when the migration fails: 409 for what its
 * state or plugins refuse, 502 for the destination and the stream. */
static int migrate_status(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case -EBUSY:
	case -ENOTSUP:
		return 409;
	case -ENOMEM:
		return 500;
	case -ECANCELED: /* the machine is stopping */
		return 503;
	}
	return 502;
}

static void machine_migrated(void *arg, int rc, const struct vmm_migrate_stats *st, const char *err)
{
	struct json_object *o = NULL;

	if (!rc && (o = json_object_new_object())) {
		json_object_object_add(o, "rounds", json_object_new_int((int)st->rounds));
		json_object_object_add(o, "pages", json_object_new_uint64(st->pages));
		json_object_object_add(o, "paused-pages", json_object_new_uint64(st->last_pages));
		json_object_object_add(o, "total-ms", json_object_new_double(st->total_ns / 1e6));
		json_object_object_add(o, "downtime-ms", json_object_new_double(st->downtime_ns / 1e6));
		json_object_object_add(o, "harvest-ms", json_object_new_double(st->harvest_ns / 1e6));
		json_object_object_add(o, "paused-harvest-ms", json_object_new_double(st->paused_harvest_ns / 1e6));
	}
	vmm_api_later_done(arg, migrate_status(rc), o, err);
}

static int machine_migrate(void *ctx, const char *sock, unsigned max_rounds, struct vmm_api_later *later,
			   char *msg, size_t len)
{
	return migrate_status(vmm_migrate_start(ctx, sock, max_rounds, machine_migrated, later, msg, len));
}

const struct vmm_api_target vmm_api_machine_target = {
	.info = machine_info,
	.stats = machine_stats,
	.state = machine_state,
	.pause = machine_pause,
	.resume = machine_resume,
	.shutdown = machine_shutdown,
	.stop = machine_stop,
	.snapshot = machine_snapshot,
	.migrate = machine_migrate,
};
