/* SPDX-License-Identifier: MIT */
/* core/migrate.c - pre-copy live migration (see migrate.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

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
 * guard: a live one moves pages far faster). */
#define IO_TIMEOUT_S 60

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
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int sock_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(sa->sun_path))
		return vmm_errf(err, errlen, -ENAMETOOLONG, "%s: not a unix socket path (empty, or over %zu bytes)",
			    path, sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* ------------------------------------------------------------- source */

struct sender {
	int fd;
	uint32_t msgs;
	uint64_t pages;
	uint64_t harvest_ns; /* in dirty_log_get, all rounds */
	int log_failed;      /* the dirty_log_get that failed: its region + 1 */
	uint8_t *bitmap; /* scratch: one region's dirty bits */
};

static int send_msg(struct sender *s, uint32_t type, const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t head[8];

	if (alen + blen > UINT32_MAX)
		return -E2BIG;
	put_le(head, type, 4);
	put_le(head + 4, alen + blen, 4);
	int rc = vmm_send_all(s->fd, head, 8);
	if (!rc && alen)
		rc = vmm_send_all(s->fd, a, alen);
	if (!rc && blen)
		rc = vmm_send_all(s->fd, b, blen);
	if (!rc)
		s->msgs++;
	return rc;
}

/* Pages [first, first + n) of region r, in messages of VMM_MIG_PAGES_MAX. */
static int send_run(struct sender *s, const struct vmm_ram *r, uint64_t first, uint64_t n)
{
	while (n) {
		uint64_t k = n < VMM_MIG_PAGES_MAX ? n : VMM_MIG_PAGES_MAX;
		uint8_t gpa[8];

		put_le(gpa, r->gpa + first * PAGE, 8);
		int rc = send_msg(s, VMM_MIG_PAGES, gpa, 8, r->hva + first * PAGE, k * PAGE);
		if (rc)
			return rc;
		s->pages += k;
		first += k;
		n -= k;
	}
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;

	for (size_t i = 0; i < PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

/* Round 1: every page that is not all zeros (the destination's RAM starts
 * as zeros), in runs. */
static int send_all_pages(struct sender *s, struct vmm_machine *m)
{
	for (unsigned i = 0; i < m->nram; i++) {
		const struct vmm_ram *r = &m->ram[i];
		uint64_t npages = r->size / PAGE, run = 0, p;

		for (p = 0; p <= npages; p++) {
			if (p < npages && !page_is_zero(r->hva + p * PAGE)) {
				run++;
				continue;
			}
			if (run) {
				int rc = send_run(s, r, p - run, run);
				if (rc)
					return rc;
				run = 0;
			}
		}
	}
	return 0;
}

static uint64_t bitmap_words(const struct vmm_ram *r)
{
	return (r->size / PAGE + 63) / 64;
}

/*
 * The pages written since the last call, region by region: the
 * hypervisor's dirty log (KVM_GET_DIRTY_LOG returns and clears it, KVM API
 * document 4.8) ORed with the pages the VMM's own devices wrote, which
 * that log never sees (host.h mark_dirty).  With `send` they are sent;
 * *count gets how many there were.
 */
static int dirty_round(struct sender *s, struct vmm_machine *m, bool send, uint64_t *count)
{
	*count = 0;
	for (unsigned i = 0; i < m->nram; i++) {
		struct vmm_ram *r = &m->ram[i];
		uint64_t *bm = (uint64_t *)(void *)s->bitmap, words = bitmap_words(r);
		uint64_t npages = r->size / PAGE, run = 0;

		memset(bm, 0, words * 8);
		uint64_t t = now_ns();
		int rc = VMM_AS(&m->hv_inst->who, m->hv_ops->dirty_log_get(m->vm, i, bm));
		s->harvest_ns += now_ns() - t;
		if (rc) {
			s->log_failed = (int)i + 1;
			return rc;
		}
		vmm_machine_dev_dirty_take(r, bm);
		for (uint64_t p = 0; p <= npages; p++) {
			if (p < npages && (bm[p / 64] >> (p % 64) & 1)) {
				run++;
				continue;
			}
			if (run && send) {
				rc = send_run(s, r, p - run, run);
				if (rc)
					return rc;
			}
			*count += run;
			run = 0;
		}
	}
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
		if (k <= 0) {
			int e = k < 0 ? (errno == EAGAIN ? ETIMEDOUT : errno) : EPIPE;
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

int vmm_migrate_send(struct vmm_machine *m, const char *sock, unsigned max_rounds, struct vmm_migrate_stats *st,
		     char *err, size_t errlen)
{
	struct sender s = { .fd = -1 };
	struct sockaddr_un sa;
	uint64_t t0 = now_ns(), t_pause = 0, count = 0, maxwords = 0;
	bool paused_here = false, logging = false;
	int rc;

	memset(st, 0, sizeof(*st));
	if (atomic_load(&m->stopping) || !m->started_ns)
		return vmm_errf(err, errlen, -EBUSY, "the machine is %s", atomic_load(&m->stopping) ? "stopping" :
			    "not started yet");
	rc = can_migrate(m, err, errlen);
	if (rc)
		return rc;
	rc = sock_addr(sock, &sa, err, errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < m->nram; i++)
		if (bitmap_words(&m->ram[i]) > maxwords)
			maxwords = bitmap_words(&m->ram[i]);
	s.bitmap = malloc(maxwords * 8);
	struct json_object *man = vmm_snapshot_manifest(m);
	const char *mtext = man ? json_object_to_json_string_ext(man, JSON_C_TO_STRING_PLAIN) : NULL;
	if (!s.bitmap || !mtext) {
		rc = vmm_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.fd < 0 || connect(s.fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		vmm_errf(err, errlen, rc, "destination %s: cannot connect: %s", sock, strerror(-rc));
		goto out;
	}
	set_timeouts(s.fd);

	uint8_t head[16];
	memcpy(head, mig_magic, 8);
	put_le(head + 8, VMM_MIGRATE_VERSION, 4);
	put_le(head + 12, 0, 4);
	rc = vmm_send_all(s.fd, head, sizeof(head));
	s.msgs = 0;
	if (!rc)
		rc = send_msg(&s, VMM_MIG_MANIFEST, mtext, strlen(mtext), NULL, 0);
	if (!rc)
		rc = send_msg(&s, VMM_MIG_CONFIG, m->cfg->text ? m->cfg->text : "", m->cfg->text_len, NULL, 0);
	if (rc)
		goto out_io;

	/* The log starts before round 1 reads RAM: a write after that read
	 * is in the next round.  Device marks from before are stale. */
	atomic_store(&m->dirty_tracking, true);
	rc = set_dirty_log(m, true);
	if (rc) {
		vmm_errf(err, errlen, rc, "hypervisor %s: cannot start the dirty-page log: %s",
		     m->cfg->hypervisor.plugin, strerror(-rc));
		goto out;
	}
	logging = true;
	for (unsigned i = 0; i < m->nram; i++) {
		memset(s.bitmap, 0, maxwords * 8);
		vmm_machine_dev_dirty_take(&m->ram[i], (uint64_t *)(void *)s.bitmap);
	}
	rc = send_all_pages(&s, m);
	st->rounds = 1;
	if (!max_rounds || max_rounds > VMM_MIG_MAX_ROUNDS)
		max_rounds = VMM_MIG_MAX_ROUNDS;
	while (!rc && st->rounds < max_rounds) {
		/* Each round sends what it found; one that found few ends
		 * pre-copy: what the guest writes meanwhile is little. */
		rc = dirty_round(&s, m, true, &count);
		st->rounds++;
		if (count <= VMM_MIG_DIRTY_PAGES_MIN)
			break;
	}
	if (rc)
		goto out_io;

	/* Stop-and-copy: no guest write from here on, and no device
	 * callback either (this runs on the main loop, which they need). */
	if (vmm_machine_state(m) == VMM_MACHINE_RUNNING) {
		rc = vmm_machine_pause(m);
		if (rc) {
			vmm_errf(err, errlen, rc, "cannot pause the vCPUs: %s", strerror(-rc));
			goto out;
		}
		paused_here = true;
	}
	t_pause = now_ns();
	uint64_t before = s.pages, harvest_before = s.harvest_ns;
	rc = dirty_round(&s, m, true, &count);
	st->paused_harvest_ns = s.harvest_ns - harvest_before;
	if (rc)
		goto out_io;
	st->last_pages = s.pages - before;
	uint8_t *state = NULL;
	size_t state_len = 0;
	rc = vmm_machine_save_state(m, &state, &state_len, err, errlen);
	if (rc)
		goto out;
	rc = send_msg(&s, VMM_MIG_STATE, state, state_len, NULL, 0);
	free(state);
	if (!rc) {
		uint8_t end[12];
		put_le(end, s.pages, 8);
		put_le(end + 8, s.msgs, 4);
		rc = send_msg(&s, VMM_MIG_END, end, sizeof(end), NULL, 0);
	}
	if (rc)
		goto out_io;
	rc = read_answer(s.fd, err, errlen);
	if (rc)
		goto out;
	st->pages = s.pages;
	st->total_ns = now_ns() - t0;
	st->downtime_ns = now_ns() - t_pause;
	st->harvest_ns = s.harvest_ns;
	vmm_log(VMM_LOG_INFO, NULL, "migrated to %s: %u rounds, %" PRIu64 " pages (%" PRIu64 " while paused), "
		"%.1f ms, downtime %.1f ms, dirty-log harvest %.3f ms", sock, st->rounds, st->pages, st->last_pages,
		st->total_ns / 1e6, st->downtime_ns / 1e6, st->harvest_ns / 1e6);
	close(s.fd);
	free(s.bitmap);
	json_object_put(man);
	/* Paused for good: the caller stops it. */
	return 0;

out_io:
	if (s.log_failed)
		vmm_errf(err, errlen, rc, "hypervisor %s: the dirty-page log of RAM region %d failed after %" PRIu64
			 " pages: %s", m->cfg->hypervisor.plugin, s.log_failed - 1, s.pages, strerror(-rc));
	else
		vmm_errf(err, errlen, rc, "destination %s: the stream broke after %" PRIu64 " pages: %s", sock,
			 s.pages, strerror(-rc));
out:
	if (s.fd >= 0)
		close(s.fd);
	if (logging)
		set_dirty_log(m, false);
	atomic_store(&m->dirty_tracking, false);
	if (paused_here)
		vmm_machine_resume(m);
	free(s.bitmap);
	json_object_put(man);
	vmm_log(VMM_LOG_WARN, NULL, "migration failed, the machine goes on here: %s", err);
	return rc;
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
	struct sockaddr_un sa;
	struct stat st;
	int rc = sock_addr(sock, &sa, err, errlen);

	*fd = -1;
	*out = NULL;
	if (rc)
		return rc;
	if (lstat(sock, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return vmm_errf(err, errlen, -EEXIST, "%s exists and is not a socket", sock);
		unlink(sock); /* a stale one, from a receive that ended */
	}
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1)) {
		rc = -errno;
		if (l >= 0)
			close(l);
		return vmm_errf(err, errlen, rc, "%s: cannot listen: %s", sock, strerror(-rc));
	}
	chmod(sock, 0600);
	vmm_log(VMM_LOG_INFO, NULL, "waiting for a migration on %s", sock);
	/* A stop signal interrupts it (start-up, process.h). */
	int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	rc = c < 0 ? -errno : 0;
	close(l);
	unlink(sock);
	if (rc)
		return vmm_errf(err, errlen, rc, "%s: accept: %s", sock, strerror(-rc));
	set_timeouts(c);
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "migration stream on %s", sock);
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
	if (rc) {
		char line[560];
		snprintf(line, sizeof(line), "error: %.540s", err);
		answer(fd, line);
		return rc;
	}
	answer(fd, "ok");
	return 0;
}
