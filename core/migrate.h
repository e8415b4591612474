/* SPDX-License-Identifier: MIT */
/*
 * core/migrate.h - pre-copy live migration of a running machine to another
 * vmmctl over a unix socket or TCP (PUT /v1/migration/send, vmmctl migrate and
 * vmmctl receive; docs/api.md "Live migration").
 *
 * The stream, every integer little-endian:
 *   header    "VMMIGR\r\n", u32 version (VMM_MIGRATE_VERSION), u32 0
 *   messages  u32 type, u32 length, then length bytes:
 *     MANIFEST  the snapshot's manifest.json text (core/snapshot.h)
 *     CONFIG    the config's text as vmmctl read it
 *     PAGES     u64 gpa (4 KiB-aligned), then 1 to MIG_PAGES_MAX whole
 *               pages of guest RAM from there, all in one RAM region
 *     STATE     the records in the snapshot state file's container
 *     END       u64 pages sent, u32 messages sent before END
 *   in that order: MANIFEST, CONFIG, any number of PAGES, STATE, END.
 * The source sends round 1 (every RAM page that is not all zeros), then
 * rounds of the pages written since the last one (the hypervisor's dirty
 * log ORed with the pages the VMM's devices wrote, host.h mark_dirty)
 * until few are left or the rounds run out, then pauses the vCPUs and
 * sends the last dirty pages, the records and END.  The destination
 * answers one line: "ok" once it has loaded everything, or "error: WHY".
 *
 * The stream is untrusted input to the destination: every length is
 * bounded before anything is allocated or read, every page range is
 * checked against the machine's RAM, and anything amiss is a one-line
 * error naming the message.
 *
 * Error convention: 0 or a negative errno; `err` gets one line.
 */
#ifndef VMM_CORE_MIGRATE_H
#define VMM_CORE_MIGRATE_H

#include <stddef.h>
#include <stdint.h>

struct vmm_machine;
struct vmm_ram;
struct vmm_snapshot;

#define VMM_MIGRATE_VERSION 1

enum vmm_mig_msg {
	VMM_MIG_MANIFEST = 1,
	VMM_MIG_CONFIG = 2,
	VMM_MIG_PAGES = 3,
	VMM_MIG_STATE = 4,
	VMM_MIG_END = 5,
};

/* Pages in one PAGES message at most. */
#define VMM_MIG_PAGES_MAX 64u

/* Pre-copy ends when a round finds at most this many dirty pages, or
 * after VMM_MIG_MAX_ROUNDS rounds (round 1 included): then the vCPUs
 * pause for the last one. */
#define VMM_MIG_DIRTY_PAGES_MIN 64u
#define VMM_MIG_MAX_ROUNDS 30u

/* The hang guard: a stream's socket that moves nothing for this long (a
 * destination that stopped reading or answering, a source that stopped
 * sending) ends the migration with -ETIMEDOUT, the source running on. */
#define VMM_MIG_IO_TIMEOUT_MS 60000u

/* What a migration did, for its reply and the bench. */
struct vmm_migrate_stats {
	unsigned rounds;           /* pre-copy rounds, the last one (paused) not counted */
	uint64_t pages;            /* pages sent in all */
	uint64_t last_pages;       /* pages sent while paused */
	uint64_t total_ns;         /* from connect to the destination's answer */
	uint64_t downtime_ns;      /* from the pause to the destination's answer */
	/* Time in the hypervisor's dirty_log_get, over every round that
	 * harvested (each pre-copy round after the first, and the paused
	 * one: `rounds` of them): what collecting the dirty set cost. */
	uint64_t harvest_ns;
	uint64_t paused_harvest_ns; /* ... of which in the paused round */
};

/* Source: migrate the running (or paused) machine `m` to the vmmctl
 * receive listening on `sock` (a unix socket's path, or tcp:ADDRESS:PORT
 * with a numeric address), in at most max_rounds pre-copy
 * rounds (0: VMM_MIG_MAX_ROUNDS; 1: round 1 only, everything the guest
 * writes meanwhile goes while it is paused).  On success the destination
 * runs the machine and the caller stops this one; on failure this one
 * goes on as it was (running again if it was running) and err names what
 * failed: -ENOTSUP (a device that cannot be saved, or a plugin built
 * before ABI 1.15 that maps guest RAM), -EBUSY (not running), another
 * errno for the socket or the destination's refusal (-EPROTO). */
int vmm_migrate_send(struct vmm_machine *m, const char *sock, unsigned max_rounds, struct vmm_migrate_stats *st,
		     char *err, size_t errlen);
/* The same without holding the main loop: connects and sends the
 * manifest and the config now (a failure here is returned, as above),
 * then sends pre-copy a slice at a time as the socket takes it while the
 * loop serves the devices and the API; the paused last round, the records
 * and the answer go in one go; then done(arg, rc, stats, err) on the
 * main loop, once (rc and err as vmm_migrate_send's).  One migration at a
 * time: -EBUSY while one is under way. */
typedef void (*vmm_migrate_done_fn)(void *arg, int rc, const struct vmm_migrate_stats *st, const char *err);
int vmm_migrate_start(struct vmm_machine *m, const char *sock, unsigned max_rounds, vmm_migrate_done_fn done,
		      void *arg, char *err, size_t errlen);
/* Ends a migration under way because the machine stops (PUT
 * /v1/machine/stop, its teardown): done(arg, -ECANCELED, ...) now. */
void vmm_migrate_cancel(struct vmm_machine *m, const char *why);

/* For the unit tests only: the hang guard's length for the migrations
 * started from now on, both ends (0: VMM_MIG_IO_TIMEOUT_MS again); the
 * previous length.  vmmctl never calls it. */
unsigned vmm_migrate_set_io_timeout(unsigned ms);
/* For the unit tests only: the socket of the migration under way on m
 * (from the thread that runs it), or -1. */
int vmm_migrate_fd(const struct vmm_machine *m);

/* Destination, first part: listen on `sock` (a stale socket file is
 * replaced, anything else refused), accept one source, read the header,
 * the manifest and the config into *out (its `dir` naming the stream).
 * *fd is the connection, for vmm_migrate_receive(). */
int vmm_migrate_accept(const char *sock, int *fd, struct vmm_snapshot **out, char *err, size_t errlen);
/* The same from a connected fd (the unit tests' streams). */
int vmm_migrate_read_begin(int fd, const char *what, struct vmm_snapshot **out, char *err, size_t errlen);
/* The pages, the records and END from fd into the regions `ram` (nram of
 * them) and s->state.  Nothing of the machine is touched but its RAM. */
int vmm_migrate_read_rest(int fd, struct vmm_snapshot *s, struct vmm_ram *ram, unsigned nram, char *err,
			  size_t errlen);
/* Destination, second part, on the machine built from *out's config (not
 * yet run): read the rest of the stream, load the records
 * (vmm_machine_restore) and answer the source: "ok", or the error. */
int vmm_migrate_receive(struct vmm_machine *m, struct vmm_snapshot *s, int fd, char *err, size_t errlen);

#endif
