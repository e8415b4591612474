/* SPDX-License-Identifier: MIT */
/* core/migrate.c - pre-copy live migration (see migrate.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>
#include <vmm/vmm.h>

#include "core/log.h"
#include "core/machine-internal.h"
#include "core/machine.h"
#include "core/file.h"
#include "core/migrate.h"
#include "core/snapshot.h"

#define PAGE 4096u
static const char mig_magic[8] = { 'V', 'M', 'M', 'I', 'G', 'R', '\r', '\n' };
/* Bounds on what the destination takes, before it allocates anything. */
#define MANIFEST_MAX (1u << 20)
#define CONFIG_MAX (1u << 20)
#define STATE_MAX (256u << 20)
/* A socket that moves nothing for this long is a dead peer (a hang
 * guard: a live one moves pages far faster): VMM_MIG_IO_TIMEOUT_MS, which
 * only the unit tests change (vmm_migrate_set_io_timeout). */
static atomic_uint io_timeout_ms = VMM_MIG_IO_TIMEOUT_MS;

unsigned vmm_migrate_set_io_timeout(unsigned ms)
{
	return atomic_exchange(&io_timeout_ms, ms ? ms : VMM_MIG_IO_TIMEOUT_MS);
}

static struct timeval io_timeout(void)
{
	unsigned ms = atomic_load(&io_timeout_ms);

	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

/* The guard's length for a message: "60 s", or "100 ms" as the tests set it. */
static const char *io_timeout_text(char *buf, size_t len)
{
	unsigned ms = atomic_load(&io_timeout_ms);

	if (ms % 1000)
		snprintf(buf, len, "%u ms", ms);
	else
		snprintf(buf, len, "%u s", ms / 1000);
	return buf;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* send() with MSG_NOSIGNAL: a destination that went away is an EPIPE
 * error here, not a SIGPIPE that ends the source. */
/* 0, -ENODATA at a clean end of stream before the first byte, -EPIPE for
 * an end within, or -errno. */
static int recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		if (n == 0)
			return got ? -EPIPE : -ENODATA;
		got += (size_t)n;
	}
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = io_timeout();

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * A migration's address: a unix socket's path, or tcp:ADDRESS:PORT with a
 * numeric IPv4 address or a bracketed IPv6 one (tcp:[::1]:4444).  Numeric
 * only: resolving a host name reads /etc files and asks DNS, which the
 * main thread's seccomp filter refuses once the machine runs.  PORT 0 is
 * for a receive: the kernel picks one, which the log line names.
 */
struct mig_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_un un;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;
	bool tcp;
};

static int mig_addr_parse(const char *s, struct mig_addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(s, "tcp:", 4) != 0) {
		a->u.un.sun_family = AF_UNIX;
		if (!s[0] || strlen(s) >= sizeof(a->u.un.sun_path))
			return vmm_errf(err, errlen, -ENAMETOOLONG,
					"%s: not a unix socket path (empty, or over %zu bytes) nor tcp:ADDRESS:PORT", s,
					sizeof(a->u.un.sun_path) - 1);
		memcpy(a->u.un.sun_path, s, strlen(s) + 1);
		a->len = sizeof(a->u.un);
		return 0;
	}
	char host[64];
	const char *h = s + 4, *colon;
	size_t hlen;
	if (*h == '[') {
		const char *close = strchr(h, ']');
		colon = close && close[1] == ':' ? close + 1 : NULL;
		h++;
		hlen = close ? (size_t)(close - h) : 0;
	} else {
		colon = strrchr(h, ':');
		hlen = colon ? (size_t)(colon - h) : 0;
	}
	char *end = NULL;
	unsigned long port = colon && colon[1] ? strtoul(colon + 1, &end, 10) : 70000;
	if (!colon || !hlen || hlen >= sizeof(host) || (end && *end) || port > 65535)
		return vmm_errf(err, errlen, -EINVAL, "%s: not tcp:ADDRESS:PORT (a numeric IPv4 address or "
				"[IPv6], a port from 0 to 65535)", s);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	a->tcp = true;
	if (inet_pton(AF_INET, host, &a->u.in.sin_addr) == 1) {
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_port = htons((uint16_t)port);
		a->len = sizeof(a->u.in);
	} else if (inet_pton(AF_INET6, host, &a->u.in6.sin6_addr) == 1) {
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons((uint16_t)port);
		a->len = sizeof(a->u.in6);
	} else {
		return vmm_errf(err, errlen, -EINVAL, "%s: '%s' is not a numeric IPv4 or IPv6 address (host names "
				"are not resolved)", s, host);
	}
	return 0;
}

/* The stream's socket for `a`: close-on-exec, and for TCP without
 * Nagle's delay, so that END and the answer, small and last, go at once
 * (they are the downtime's end). */
static int mig_socket(const struct mig_addr *a)
{
	int fd = socket(a->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd >= 0 && a->tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* ------------------------------------------------------------- source */

/*
 * A migration walks guest RAM round by round: round 1 every page that is
 * not all zeros (the destination's RAM starts as zeros), each later round
 * the pages written since the one before (the hypervisor's dirty log ORed
 * with the pages the VMM's own devices wrote, which that log never sees:
 * host.h mark_dirty), region by region.  Pre-copy runs on the main loop a
 * slice at a time (vmm_migrate_start): a PAGES message goes out as far as
 * the socket takes it without waiting, and the loop serves the devices,
 * their timers and the API between slices; only the last round, with the
 * vCPUs paused, and the records are sent in one go (vmm_migrate_send does
 * it all in one go, for its callers that wait).
 */
struct vmm_migration {
	struct vmm_machine *m;
	char sock[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int fd;
	uint32_t msgs;
	uint64_t pages;
	uint64_t *bitmap;    /* the region being walked: its pages to send this round */
	size_t maxwords;
	struct json_object *man;
	unsigned max_rounds;
	unsigned rounds;     /* rounds done */
	bool first_round;    /* the walk sends every page that is not zeros */
	unsigned region;     /* the region being walked; nram: the round is over */
	uint64_t page;       /* the next page of it to look at */
	uint64_t found;      /* pages this round found */
	uint64_t harvest_ns; /* in the hypervisor's dirty_log_get, all rounds */
	int log_failed;      /* the dirty_log_get that failed: its region + 1 */
	bool logging, paused_here;
	uint64_t t0;
	/* The PAGES message going out: its 16-byte head (type, length, gpa)
	 * then its pages, straight from guest RAM. */
	uint8_t head[16];
	const uint8_t *data;
	size_t msg_len, msg_sent;
	uint64_t msg_pages;
	/* vmm_migrate_start's: the main loop's write event and the caller's
	 * end. */
	struct event *ev;
	vmm_migrate_done_fn done;
	void *done_arg;
};

/* vmm_send_all on the stream's socket: a send that waited out the hang
 * guard (SO_SNDTIMEO: EAGAIN on a blocking socket) is -ETIMEDOUT. */
static int send_bytes(int fd, const void *buf, size_t len)
{
	int rc = vmm_send_all(fd, buf, len);

	return rc == -EAGAIN || rc == -EWOULDBLOCK ? -ETIMEDOUT : rc;
}

static int send_msg(struct vmm_migration *g, uint32_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t head[8];

	if (alen + blen > UINT32_MAX)
		return -E2BIG;
	put_le(head, type, 4);
	put_le(head + 4, alen + blen, 4);
	int rc = send_bytes(g->fd, head, 8);
	if (!rc && alen)
		rc = send_bytes(g->fd, a, alen);
	if (!rc && blen)
		rc = send_bytes(g->fd, b, blen);
	if (!rc)
		g->msgs++;
	return rc;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;

	for (size_t i = 0; i < PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

static uint64_t bitmap_words(const struct vmm_ram *r)
{
	return (r->size / PAGE + 63) / 64;
}

static void begin_round(struct vmm_migration *g, bool first)
{
	g->first_round = first;
	g->region = 0;
	g->page = 0;
	g->found = 0;
}

static bool page_wanted(const struct vmm_migration *g, const struct vmm_ram *r, uint64_t p)
{
	return g->first_round ? !page_is_zero(r->hva + p * PAGE) : (g->bitmap[p / 64] >> (p % 64) & 1);
}

/* The next run of pages to send this round, at most VMM_MIG_PAGES_MAX,
 * as the PAGES message going out: 1, 0 when the round is over, or -errno.
 * A later round reads a region's dirty log as its walk reaches it
 * (KVM_GET_DIRTY_LOG returns and clears it, KVM API document 4.8): a
 * write after that is the next round's. */
static int next_run(struct vmm_migration *g)
{
	struct vmm_machine *m = g->m;

	while (g->region < m->nram) {
		struct vmm_ram *r = &m->ram[g->region];
		uint64_t npages = r->size / PAGE;

		if (g->page == 0 && !g->first_round) {
			memset(g->bitmap, 0, bitmap_words(r) * 8);
			uint64_t t = now_ns();
			int rc = VMM_AS(&m->hv_inst->who, m->hv_ops->dirty_log_get(m->vm, g->region, g->bitmap));
			g->harvest_ns += now_ns() - t;
			if (rc) {
				g->log_failed = (int)g->region + 1;
				return rc;
			}
			vmm_machine_dev_dirty_take(r, g->bitmap);
		}
		while (g->page < npages && !page_wanted(g, r, g->page))
			g->page++;
		if (g->page == npages) {
			g->region++;
			g->page = 0;
			continue;
		}
		uint64_t first = g->page, n = 0;
		while (g->page < npages && n < VMM_MIG_PAGES_MAX && page_wanted(g, r, g->page)) {
			g->page++;
			n++;
		}
		put_le(g->head, VMM_MIG_PAGES, 4);
		put_le(g->head + 4, 8 + n * PAGE, 4);
		put_le(g->head + 8, r->gpa + first * PAGE, 8);
		g->data = r->hva + first * PAGE;
		g->msg_len = 16 + n * PAGE;
		g->msg_sent = 0;
		g->msg_pages = n;
		g->found += n;
		return 1;
	}
	return 0;
}

/* Sends the round's pages: all of them (`wait`), or until the socket
 * would block or `budget` bytes went.  1 when the round is over, 0 when
 * it is not, or -errno. */
static int send_round(struct vmm_migration *g, bool wait, size_t budget)
{
	size_t sent = 0;

	while (wait || sent < budget) {
		if (g->msg_sent == g->msg_len) {
			int rc = next_run(g);
			if (rc <= 0)
				return rc < 0 ? rc : 1;
		}
		struct iovec iov[2];
		int n = 0;
		if (g->msg_sent < 16)
			iov[n++] = (struct iovec){ g->head + g->msg_sent, 16 - g->msg_sent };
		size_t off = g->msg_sent < 16 ? 0 : g->msg_sent - 16;
		iov[n++] = (struct iovec){ (void *)(g->data + off), g->msg_len - 16 - off };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t k = sendmsg(g->fd, &mh, MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		g->msg_sent += (size_t)k;
		sent += (size_t)k;
		if (g->msg_sent == g->msg_len) {
			g->msgs++;
			g->pages += g->msg_pages;
		}
	}
	return 0;
}

/* A round is over: 1 when pre-copy is (the rounds ran out, or a round
 * after the first found few pages: what the guest writes meanwhile is
 * little), else 0 and the next round begins. */
static int round_over(struct vmm_migration *g)
{
	g->rounds++;
	if (g->rounds >= g->max_rounds || (g->rounds > 1 && g->found <= VMM_MIG_DIRTY_PAGES_MIN))
		return 1;
	begin_round(g, false);
	return 0;
}

static int set_dirty_log(struct vmm_machine *m, bool on)
{
	/* KVM_SET_USER_MEMORY_REGION may change an existing slot's flags
	 * when its address and size stay (KVM API document 4.35): turning
	 * KVM_MEM_LOG_DIRTY_PAGES on starts a log, off ends it. */
	for (unsigned i = 0; i < m->nram; i++) {
		const struct vmm_ram *r = &m->ram[i];
		int rc = VMM_AS(&m->hv_inst->who, m->hv_ops->set_memory(m->vm, i, r->gpa, r->size, r->hva,
									  on ? VMM_MEM_DIRTY_LOG : 0));
		if (rc)
			return rc;
	}
	return 0;
}

/* What migration needs of the plugins, before anything is sent. */
static int can_migrate(struct vmm_machine *m, char *err, size_t errlen)
{
	int rc = vmm_machine_can_save(m, err, errlen);

	if (rc)
		return rc;
	if (m->hv_ops->size < offsetof(struct vmm_hv_ops, dirty_log_get) + sizeof(m->hv_ops->dirty_log_get) ||
	    !m->hv_ops->dirty_log_get)
		return vmm_errf(err, errlen, -ENOTSUP, "hypervisor plugin %s has no dirty-page log",
			    m->cfg->hypervisor.plugin);
	/* A plugin built before ABI 1.15 that writes guest RAM through
	 * mem_map cannot tell us which pages it wrote: its writes would be
	 * lost on the destination.  Refused rather than guessed. */
	for (struct vmm_instance *in = m->instances; in; in = in->next)
		if (in->lp && in->lp->desc->abi_minor < 15 && atomic_load(&in->mapped_ram))
			return vmm_errf(err, errlen, -ENOTSUP, "device '%s' (plugin %s, ABI %u.%u) maps guest memory "
				    "and predates ABI 1.15 (mark_dirty): its writes cannot be tracked",
				    in->name, in->lp->desc->name, in->lp->desc->abi_major, in->lp->desc->abi_minor);
	return 0;
}

/* The destination's one-line answer. */
static int read_answer(int fd, char *err, size_t errlen)
{
	char line[512];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		ssize_t k = read(fd, line + n, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			char t[32];
			return vmm_errf(err, errlen, -ETIMEDOUT, "the destination did not answer within %s (the "
				    "hang guard)", io_timeout_text(t, sizeof(t)));
		}
		if (k <= 0) {
			int e = k < 0 ? errno : EPIPE;
			return vmm_errf(err, errlen, -e, "the destination did not answer: %s",
				    k < 0 ? strerror(e) : "it closed the connection");
		}
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (strcmp(line, "ok") == 0)
		return 0;
	return vmm_errf(err, errlen, -EPROTO, "the destination refused the machine: %.400s",
		    strncmp(line, "error: ", 7) == 0 ? line + 7 : line);
}

static void migration_free(struct vmm_migration *g)
{
	if (g->ev)
		event_free(g->ev);
	if (g->fd >= 0)
		close(g->fd);
	if (g->m->migration == g)
		g->m->migration = NULL;
	free(g->bitmap);
	json_object_put(g->man);
	free(g);
}

/* A failed migration: the machine goes on here as it was. */
static int migration_fail(struct vmm_migration *g, int rc, const char *err)
{
	struct vmm_machine *m = g->m;

	if (rc == -ECANCELED) {
		/* The machine is stopping: nothing goes on here. */
		if (g->logging)
			set_dirty_log(m, false);
		atomic_store(&m->dirty_tracking, false);
		vmm_log(VMM_LOG_WARN, NULL, "%s", err);
		migration_free(g);
		return rc;
	}

	if (g->logging)
		set_dirty_log(m, false);
	atomic_store(&m->dirty_tracking, false);
	if (g->paused_here)
		vmm_machine_resume(m);
	vmm_log(VMM_LOG_WARN, NULL, "migration failed, the machine goes on here: %s", err);
	migration_free(g);
	return rc;
}

/* A send or a dirty-log read failed: which, in err. */
static int stream_broke(struct vmm_migration *g, int rc, char *err, size_t errlen)
{
	char t[32];

	if (g->log_failed)
		vmm_errf(err, errlen, rc, "hypervisor %s: the dirty-page log of RAM region %d failed after %" PRIu64
			 " pages: %s", g->m->cfg->hypervisor.plugin, g->log_failed - 1, g->pages, strerror(-rc));
	else if (rc == -ETIMEDOUT)
		vmm_errf(err, errlen, rc, "destination %s: the stream moved nothing for %s after %" PRIu64 " pages "
			 "(the hang guard): the destination reads nothing", g->sock, io_timeout_text(t, sizeof(t)),
			 g->pages);
	else
		vmm_errf(err, errlen, rc, "destination %s: the stream broke after %" PRIu64 " pages: %s", g->sock,
			 g->pages, strerror(-rc));
	return migration_fail(g, rc, err);
}

/* Connects, sends the manifest and the config, starts the dirty log:
 * round 1 is next.  On failure nothing is left. */
static int migration_begin(struct vmm_machine *m, const char *sock, unsigned max_rounds, struct vmm_migration **out,
			   char *err, size_t errlen)
{
	struct mig_addr sa;
	int rc;

	*out = NULL;
	if (atomic_load(&m->stopping) || !m->started_ns)
		return vmm_errf(err, errlen, -EBUSY, "the machine is %s", atomic_load(&m->stopping) ? "stopping" :
			    "not started yet");
	if (m->migration)
		return vmm_errf(err, errlen, -EBUSY, "a migration to %s is under way", m->migration->sock);
	rc = can_migrate(m, err, errlen);
	if (rc)
		return rc;
	rc = mig_addr_parse(sock, &sa, err, errlen);
	if (rc)
		return rc;
	struct vmm_migration *g = calloc(1, sizeof(*g));
	if (!g)
		return vmm_errf(err, errlen, -ENOMEM, "out of memory");
	g->m = m;
	g->fd = -1;
	g->t0 = now_ns();
	snprintf(g->sock, sizeof(g->sock), "%s", sock);
	g->max_rounds = !max_rounds || max_rounds > VMM_MIG_MAX_ROUNDS ? VMM_MIG_MAX_ROUNDS : max_rounds;
	for (unsigned i = 0; i < m->nram; i++)
		if (bitmap_words(&m->ram[i]) > g->maxwords)
			g->maxwords = bitmap_words(&m->ram[i]);
	g->bitmap = malloc(g->maxwords * 8);
	g->man = vmm_snapshot_manifest(m);
	const char *mtext = g->man ? json_object_to_json_string_ext(g->man, JSON_C_TO_STRING_PLAIN) : NULL;
	if (!g->bitmap || !mtext) {
		rc = vmm_errf(err, errlen, -ENOMEM, "out of memory");
		return migration_fail(g, rc, err);
	}
	g->fd = mig_socket(&sa);
	if (g->fd < 0 || connect(g->fd, &sa.u.sa, sa.len)) {
		rc = -errno;
		vmm_errf(err, errlen, rc, "destination %s: cannot connect: %s", sock, strerror(-rc));
		return migration_fail(g, rc, err);
	}
	set_timeouts(g->fd);

	uint8_t head[16];
	memcpy(head, mig_magic, 8);
	put_le(head + 8, VMM_MIGRATE_VERSION, 4);
	put_le(head + 12, 0, 4);
	rc = send_bytes(g->fd, head, sizeof(head));
	if (!rc)
		rc = send_msg(g, VMM_MIG_MANIFEST, mtext, strlen(mtext), NULL, 0);
	if (!rc)
		rc = send_msg(g, VMM_MIG_CONFIG, m->cfg->text ? m->cfg->text : "", m->cfg->text_len, NULL, 0);
	if (rc)
		return stream_broke(g, rc, err, errlen);

	/* The log starts before round 1 reads RAM: a write after that read
	 * is in the next round.  Device marks from before are stale. */
	atomic_store(&m->dirty_tracking, true);
	rc = set_dirty_log(m, true);
	if (rc) {
		vmm_errf(err, errlen, rc, "hypervisor %s: cannot start the dirty-page log: %s",
			 m->cfg->hypervisor.plugin, strerror(-rc));
		return migration_fail(g, rc, err);
	}
	g->logging = true;
	for (unsigned i = 0; i < m->nram; i++) {
		memset(g->bitmap, 0, g->maxwords * 8);
		vmm_machine_dev_dirty_take(&m->ram[i], g->bitmap);
	}
	begin_round(g, true);
	m->migration = g;
	*out = g;
	return 0;
}

/* Stop-and-copy: the vCPUs paused (no guest write from here on, and no
 * device callback either: this runs on the main loop, which they need),
 * the last dirty pages, the records, END and the destination's answer.
 * Frees g either way. */
static int migration_end(struct vmm_migration *g, struct vmm_migrate_stats *st, char *err, size_t errlen)
{
	struct vmm_machine *m = g->m;
	int rc;

	if (vmm_machine_state(m) == VMM_MACHINE_RUNNING) {
		rc = vmm_machine_pause(m);
		if (rc) {
			vmm_errf(err, errlen, rc, "cannot pause the vCPUs: %s", strerror(-rc));
			return migration_fail(g, rc, err);
		}
		g->paused_here = true;
	}
	uint64_t t_pause = now_ns(), before = g->pages, harvest_before = g->harvest_ns;
	/* A message the last slice left half-sent goes first. */
	rc = g->msg_sent < g->msg_len ? send_round(g, true, 0) : 0;
	if (rc >= 0) {
		begin_round(g, false);
		rc = send_round(g, true, 0);
	}
	st->paused_harvest_ns = g->harvest_ns - harvest_before;
	if (rc < 0)
		return stream_broke(g, rc, err, errlen);
	st->last_pages = g->pages - before;
	uint8_t *state = NULL;
	size_t state_len = 0;
	rc = vmm_machine_save_state(m, &state, &state_len, err, errlen);
	if (rc)
		return migration_fail(g, rc, err);
	rc = send_msg(g, VMM_MIG_STATE, state, state_len, NULL, 0);
	free(state);
	if (!rc) {
		uint8_t end[12];
		put_le(end, g->pages, 8);
		put_le(end + 8, g->msgs, 4);
		rc = send_msg(g, VMM_MIG_END, end, sizeof(end), NULL, 0);
	}
	if (rc)
		return stream_broke(g, rc, err, errlen);
	rc = read_answer(g->fd, err, errlen);
	if (rc)
		return migration_fail(g, rc, err);
	st->rounds = g->rounds;
	st->harvest_ns = g->harvest_ns;
	st->pages = g->pages;
	st->total_ns = now_ns() - g->t0;
	st->downtime_ns = now_ns() - t_pause;
	vmm_log(VMM_LOG_INFO, NULL, "migrated to %s: %u rounds, %" PRIu64 " pages (%" PRIu64 " while paused), "
		"%.1f ms, downtime %.1f ms, dirty-log harvest %.3f ms", g->sock, st->rounds, st->pages, st->last_pages,
		st->total_ns / 1e6, st->downtime_ns / 1e6, st->harvest_ns / 1e6);
	/* Paused for good: the caller stops it. */
	migration_free(g);
	return 0;
}

int vmm_migrate_send(struct vmm_machine *m, const char *sock, unsigned max_rounds, struct vmm_migrate_stats *st,
		     char *err, size_t errlen)
{
	struct vmm_migration *g;

	memset(st, 0, sizeof(*st));
	int rc = migration_begin(m, sock, max_rounds, &g, err, errlen);
	if (rc)
		return rc;
	do {
		rc = send_round(g, true, 0);
		if (rc < 0)
			return stream_broke(g, rc, err, errlen);
	} while (!round_over(g));
	return migration_end(g, st, err, errlen);
}

/* A slice of pre-copy, each time the socket can take more. */
#define SLICE_BYTES (1u << 20)

static void migration_slice(evutil_socket_t fd, short what, void *arg)
{
	struct vmm_migration *g = arg;
	struct vmm_migrate_stats st;
	char err[512];
	int rc;

	(void)fd;
	memset(&st, 0, sizeof(st));
	/* The hang guard of the sends that wait (set_timeouts): a socket
	 * that took nothing for as long. */
	rc = what & EV_TIMEOUT ? -ETIMEDOUT : send_round(g, false, SLICE_BYTES);
	if (rc < 0) {
		vmm_migrate_done_fn done = g->done;
		void *arg2 = g->done_arg;
		rc = stream_broke(g, rc, err, sizeof(err));
		done(arg2, rc, &st, err);
		return;
	}
	if (rc == 0 || !round_over(g))
		return;
	vmm_migrate_done_fn done = g->done;
	void *arg2 = g->done_arg;
	event_del(g->ev);
	rc = migration_end(g, &st, err, sizeof(err));
	done(arg2, rc, &st, rc ? err : "");
}

int vmm_migrate_start(struct vmm_machine *m, const char *sock, unsigned max_rounds, vmm_migrate_done_fn done,
		      void *arg, char *err, size_t errlen)
{
	struct vmm_migration *g;
	int rc = migration_begin(m, sock, max_rounds, &g, err, errlen);

	if (rc)
		return rc;
	g->done = done;
	g->done_arg = arg;
	g->ev = event_new(vmm_machine_event_base(m), g->fd, EV_WRITE | EV_PERSIST, migration_slice, g);
	struct timeval guard = io_timeout();
	if (!g->ev || event_add(g->ev, &guard)) {
		rc = vmm_errf(err, errlen, -ENOMEM, "cannot watch the migration's socket");
		return migration_fail(g, rc, err);
	}
	return 0;
}

int vmm_migrate_fd(const struct vmm_machine *m)
{
	return m->migration ? m->migration->fd : -1;
}

void vmm_migrate_cancel(struct vmm_machine *m, const char *why)
{
	struct vmm_migration *g = m->migration;
	struct vmm_migrate_stats st;

	if (!g)
		return;
	vmm_migrate_done_fn done = g->done;
	void *arg = g->done_arg;
	char err[512];
	snprintf(err, sizeof(err), "the migration to %s was cancelled: %s", g->sock, why);
	memset(&st, 0, sizeof(st));
	migration_fail(g, -ECANCELED, err);
	if (done)
		done(arg, -ECANCELED, &st, err);
}

/* -------------------------------------------------------- destination */

static const char *msg_name(uint32_t type)
{
	switch (type) {
	case VMM_MIG_MANIFEST: return "MANIFEST";
	case VMM_MIG_CONFIG: return "CONFIG";
	case VMM_MIG_PAGES: return "PAGES";
	case VMM_MIG_STATE: return "STATE";
	case VMM_MIG_END: return "END";
	}
	return "unknown";
}

/* One message's head; a clean end of stream where one is due is -EPIPE
 * too: the source stopped before END. */
static int read_head(int fd, const char *what, uint32_t n, uint32_t *type, uint32_t *len, char *err,
		     size_t errlen)
{
	uint8_t head[8];
	int rc = recv_all(fd, head, sizeof(head));

	if (rc)
		return vmm_errf(err, errlen, rc == -ENODATA || rc == -EPIPE ? -EPIPE : rc,
			    "%s: message %u: %s", what, n, rc == -ENODATA || rc == -EPIPE ?
			    "the stream ended before END" : strerror(-rc));
	*type = (uint32_t)get_le(head, 4);
	*len = (uint32_t)get_le(head + 4, 4);
	return 0;
}

/* A message body of `len` (at most max) bytes, NUL-terminated. */
static int read_body(int fd, const char *what, uint32_t n, uint32_t type, uint32_t len, uint32_t max,
		     char **out, char *err, size_t errlen)
{
	if (len > max)
		return vmm_errf(err, errlen, -EBADMSG, "%s: message %u (%s): length %u, at most %u", what, n,
			    msg_name(type), len, max);
	char *b = malloc((size_t)len + 1);
	if (!b)
		return vmm_errf(err, errlen, -ENOMEM, "out of memory");
	int rc = recv_all(fd, b, len);
	if (rc) {
		free(b);
		return vmm_errf(err, errlen, rc == -ENODATA ? -EPIPE : rc, "%s: message %u (%s): %s", what, n,
			    msg_name(type), rc == -ENODATA || rc == -EPIPE ? "the stream ended within it" :
			    strerror(-rc));
	}
	b[len] = '\0';
	*out = b;
	return 0;
}

static int expect(int fd, const char *what, uint32_t n, uint32_t want, uint32_t max, char **out, size_t *len,
		  char *err, size_t errlen)
{
	uint32_t type, l;
	int rc = read_head(fd, what, n, &type, &l, err, errlen);

	if (rc)
		return rc;
	if (type != want)
		return vmm_errf(err, errlen, -EBADMSG, "%s: message %u is %s (type %u), expected %s", what, n,
			    msg_name(type), type, msg_name(want));
	rc = read_body(fd, what, n, type, l, max, out, err, errlen);
	if (!rc)
		*len = l;
	return rc;
}

int vmm_migrate_read_begin(int fd, const char *what, struct vmm_snapshot **out, char *err, size_t errlen)
{
	struct vmm_snapshot *s = calloc(1, sizeof(*s));
	uint8_t head[16];
	char *text = NULL;
	size_t len;
	int rc;

	*out = NULL;
	if (!s || !(s->dir = strdup(what))) {
		free(s);
		return vmm_errf(err, errlen, -ENOMEM, "out of memory");
	}
	s->ram_loaded = true;
	rc = recv_all(fd, head, sizeof(head));
	if (rc) {
		vmm_errf(err, errlen, rc == -ENODATA ? -EPIPE : rc, "%s: no stream header: %s", what,
		     rc == -ENODATA || rc == -EPIPE ? "the stream ended" : strerror(-rc));
		goto out_free;
	}
	if (memcmp(head, mig_magic, 8) != 0) {
		rc = vmm_errf(err, errlen, -EBADMSG, "%s: not a migration stream (bad magic)", what);
		goto out_free;
	}
	if (get_le(head + 8, 4) != VMM_MIGRATE_VERSION || get_le(head + 12, 4) != 0) {
		rc = vmm_errf(err, errlen, -EPROTO, "%s: stream version %u, this vmmctl reads %d", what,
			  (unsigned)get_le(head + 8, 4), VMM_MIGRATE_VERSION);
		goto out_free;
	}
	rc = expect(fd, what, 1, VMM_MIG_MANIFEST, MANIFEST_MAX, &text, &len, err, errlen);
	if (rc)
		goto out_free;
	char where[320];
	snprintf(where, sizeof(where), "%.280s: message 1 (MANIFEST)", what);
	rc = vmm_snapshot_parse_manifest(s, what, where, text, len, err, errlen);
	free(text);
	if (rc)
		goto out_free;
	rc = expect(fd, what, 2, VMM_MIG_CONFIG, CONFIG_MAX, &s->config_text, &s->config_len, err, errlen);
	if (rc)
		goto out_free;
	*out = s;
	return 0;

out_free:
	vmm_snapshot_free(s);
	return rc;
}

/* The region holding [gpa, gpa + len) whole, or NULL. */
static struct vmm_ram *region_of(struct vmm_ram *ram, unsigned nram, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < nram; i++)
		if (gpa >= ram[i].gpa && gpa - ram[i].gpa <= ram[i].size && len <= ram[i].size - (gpa - ram[i].gpa))
			return &ram[i];
	return NULL;
}

int vmm_migrate_read_rest(int fd, struct vmm_snapshot *s, struct vmm_ram *ram, unsigned nram, char *err,
			  size_t errlen)
{
	const char *what = s->dir;
	uint64_t pages = 0;
	uint32_t n = 2, type, len;
	int rc;

	/* The source sends only pages that are not zeros in round 1: the
	 * rest must read as zeros here, whatever building the machine
	 * wrote.  Dropping an anonymous private mapping's pages makes them
	 * zero-fill again (madvise(2) MADV_DONTNEED). */
	for (unsigned i = 0; i < nram; i++)
		madvise(ram[i].hva, ram[i].size, MADV_DONTNEED);
	for (;;) {
		n++;
		rc = read_head(fd, what, n, &type, &len, err, errlen);
		if (rc)
			return rc;
		if (type != VMM_MIG_PAGES)
			break;
		uint8_t gpab[8];
		if (len < 8 + PAGE || (len - 8) % PAGE || (len - 8) / PAGE > VMM_MIG_PAGES_MAX)
			return vmm_errf(err, errlen, -EBADMSG, "%s: message %u (PAGES): length %u is not 8 + 1 to %u "
				    "pages", what, n, len, VMM_MIG_PAGES_MAX);
		rc = recv_all(fd, gpab, 8);
		uint64_t gpa = get_le(gpab, 8), bytes = len - 8;
		struct vmm_ram *r = rc ? NULL : region_of(ram, nram, gpa, bytes);
		if (!rc && (gpa % PAGE || !r))
			return vmm_errf(err, errlen, -EBADMSG, "%s: message %u (PAGES): 0x%" PRIx64 "+0x%" PRIx64
				    " is not %s", what, n, gpa, bytes, gpa % PAGE ? "page-aligned" :
				    "inside one RAM region");
		/* Straight into guest RAM: nothing runs it yet. */
		if (!rc)
			rc = recv_all(fd, r->hva + (gpa - r->gpa), bytes);
		if (rc)
			return vmm_errf(err, errlen, rc == -ENODATA ? -EPIPE : rc, "%s: message %u (PAGES): %s", what, n,
				    rc == -ENODATA || rc == -EPIPE ? "the stream ended within it" : strerror(-rc));
		pages += bytes / PAGE;
	}
	if (type != VMM_MIG_STATE)
		return vmm_errf(err, errlen, -EBADMSG, "%s: message %u is %s (type %u), expected PAGES or STATE", what,
			    n, msg_name(type), type);
	char *state;
	rc = read_body(fd, what, n, type, len, STATE_MAX, &state, err, errlen);
	if (rc)
		return rc;
	free(s->state);
	s->state = (uint8_t *)state;
	s->state_len = len;
	n++;
	char *end;
	size_t elen;
	rc = expect(fd, what, n, VMM_MIG_END, 12, &end, &elen, err, errlen);
	if (rc)
		return rc;
	uint64_t sent = elen == 12 ? get_le((uint8_t *)end, 8) : 0;
	uint32_t msgs = elen == 12 ? (uint32_t)get_le((uint8_t *)end + 8, 4) : 0;
	free(end);
	if (elen != 12 || sent != pages || msgs != n - 1)
		return vmm_errf(err, errlen, -EBADMSG, "%s: message %u (END): the source sent %" PRIu64 " pages in %u "
			    "messages, %" PRIu64 " in %u arrived", what, n, sent, msgs, pages, n - 1);
	return 0;
}

int vmm_migrate_accept(const char *sock, int *fd, struct vmm_snapshot **out, char *err, size_t errlen)
{
	struct mig_addr sa;
	struct stat st;
	int rc = mig_addr_parse(sock, &sa, err, errlen);
	char where[128];

	*fd = -1;
	*out = NULL;
	if (rc)
		return rc;
	if (!sa.tcp && lstat(sock, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return vmm_errf(err, errlen, -EEXIST, "%s exists and is not a socket", sock);
		unlink(sock); /* a stale one, from a receive that ended */
	}
	int l = mig_socket(&sa), one = 1;
	if (l >= 0 && sa.tcp)
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A unix socket is bound under a name of its own and renamed to SOCK
	 * once it listens: whoever waits for SOCK to appear (a script, the
	 * source's own retry) must never find a file that refuses the
	 * connection (ECONNREFUSED between bind and listen: a test's source
	 * hit that window on a loaded host).  Its mode is 0600 from the
	 * start, as for --api. */
	struct mig_addr tmp = sa;
	bool renamed = !sa.tcp && (size_t)snprintf(tmp.u.un.sun_path, sizeof(tmp.u.un.sun_path), "%s.%ld",
						     sock, (long)getpid()) < sizeof(tmp.u.un.sun_path);
	if (!renamed)
		tmp = sa;
	if (!sa.tcp)
		unlink(tmp.u.un.sun_path);
	mode_t old_mask = umask(0177);
	rc = l < 0 || bind(l, &tmp.u.sa, tmp.len) ? -errno : 0;
	umask(old_mask);
	if (!rc && listen(l, 1))
		rc = -errno;
	if (!rc && renamed && rename(tmp.u.un.sun_path, sock))
		rc = -errno;
	if (rc) {
		if (l >= 0)
			close(l);
		if (renamed)
			unlink(tmp.u.un.sun_path);
		return vmm_errf(err, errlen, rc, "%s: cannot listen: %s", sock, strerror(-rc));
	}
	snprintf(where, sizeof(where), "%s", sock);
	if (sa.tcp) {
		/* The port the kernel gave for PORT 0, in the log line. */
		char host[INET6_ADDRSTRLEN] = "?";
		socklen_t len = sizeof(sa.u);
		getsockname(l, &sa.u.sa, &len);
		bool v6 = sa.u.sa.sa_family == AF_INET6;
		inet_ntop(sa.u.sa.sa_family, v6 ? (void *)&sa.u.in6.sin6_addr : (void *)&sa.u.in.sin_addr, host,
			  sizeof(host));
		snprintf(where, sizeof(where), v6 ? "tcp:[%s]:%u" : "tcp:%s:%u", host,
			 ntohs(v6 ? sa.u.in6.sin6_port : sa.u.in.sin_port));
	}
	vmm_log(VMM_LOG_INFO, NULL, "waiting for a migration on %s", where);
	/* A stop signal interrupts it (start-up, process.h). */
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	rc = c < 0 ? -errno : 0;
	close(l);
	if (!sa.tcp)
		unlink(sock);
	if (rc)
		return vmm_errf(err, errlen, rc, "%s: accept: %s", where, strerror(-rc));
	if (sa.tcp)
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(c);
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "migration stream on %s", where);
	rc = vmm_migrate_read_begin(c, what, out, err, errlen);
	if (rc) {
		close(c);
		return rc;
	}
	*fd = c;
	return 0;
}

static void answer(int fd, const char *line)
{
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	vmm_send_all(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

int vmm_migrate_receive(struct vmm_machine *m, struct vmm_snapshot *s, int fd, char *err, size_t errlen)
{
	int rc = vmm_migrate_read_rest(fd, s, m->ram, m->nram, err, errlen);

	if (!rc)
		rc = vmm_machine_restore(m, s, err, errlen);
	/* Loaded: the host end is the destination's now (before "ok", so a
	 * backend that cannot take it fails the migration, the source
	 * running on). */
	if (!rc)
		rc = vmm_machine_net_standby(m, false, err, errlen);
	if (rc) {
		char line[560];
		snprintf(line, sizeof(line), "error: %.540s", err);
		answer(fd, line);
		return rc;
	}
	answer(fd, "ok");
	return 0;
}
