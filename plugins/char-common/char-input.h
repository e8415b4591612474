/* SPDX-License-Identifier: MIT */
/*
 * char-input.h - reading a character backend's input fd with the device's
 * flow control, and writing output that must not stall a vCPU; shared by the
 * stdio, pty and socket backends.
 *
 * A backend hands input over with h->char_input() only as far as
 * h->char_input_room() allows.  When the device is full the fd stops being
 * watched, and the backend's resume_input op (which may run on a vCPU
 * thread, even while the main thread is inside the read callback) watches
 * it again; `resume_pending` covers that race.  Linked into each backend as
 * a convenience library; it uses only include/vmm/ headers.
 *
 * char_path_creatable() is for the backends' check ops (vmmctl check): the
 * file, pty and socket backends make something at a path when they open.
 *
 * Error convention: none of these fail; a watch the host cannot make just
 * leaves the input idle.
 */
#ifndef VMM_CHAR_INPUT_H
#define VMM_CHAR_INPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <vmm/vmm.h>

struct char_input {
	const struct vmm_host *h;
	pthread_mutex_t *lock;     /* the backend's own; guards everything below */
	int fd;                    /* being read, or -1: no input (ended, none yet) */
	struct vmm_watch *watch;
	bool resume_pending;       /* resume_input came while the watch was still on */
	/* Optional: edit the bytes just read in place (e.g. take out escape
	 * keys); returns how many are left for the device. */
	size_t (*filter)(void *opaque, uint8_t *buf, size_t n);
	/* The fd gave EOF (n = 0) or an error (n = -errno).  Called without
	 * the lock; must end with char_input_stop() for that fd. */
	void (*ended)(void *opaque, int fd, ssize_t n);
	void *opaque;
};

/* Set up @in; the backend fills filter, ended and opaque afterwards. */
void char_input_init(struct char_input *in, const struct vmm_host *h, pthread_mutex_t *lock);
/* With the lock held: start reading @fd. */
void char_input_start(struct char_input *in, int fd);
/* With the lock held: stop reading (the fd is the caller's to close). */
void char_input_stop(struct char_input *in);
/* The backend's resume_input op: the device has room again.  Takes the lock. */
void char_input_resume(struct char_input *in);

/* Output to a non-blocking @fd that must never stall the writing vCPU:
 * writes what it can, waiting at most @wait_ms each time the peer's buffer
 * is full; a socket is written with send(MSG_NOSIGNAL), so a peer that
 * left gives EPIPE, not SIGPIPE.  Returns the bytes written; the caller
 * decides what the rest means (dropped and counted). */
size_t char_output_write(int fd, bool socket, const void *buf, size_t len, int wait_ms);

/* 0 when a new file can be made at @path (its directory is writable and
 * searchable), else the errno that says why not (ENOMEM included). */
int char_path_creatable(const char *path);

#endif
