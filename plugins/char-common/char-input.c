/* SPDX-License-Identifier: MIT */
/* char-input.c - see char-input.h. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plugins/char-common/char-input.h"

static void char_input_readable(void *opaque, int fd, unsigned events)
{
	struct char_input *in = opaque;
	uint8_t buf[256];
	size_t room = in->h->char_input_room(in->h);

	if (room == 0) {
		/* The device is full: stop polling until resume_input, unless
		 * it already came while we were asking. */
		pthread_mutex_lock(in->lock);
		if (in->resume_pending) {
			in->resume_pending = false;
		} else if (in->watch && in->fd == fd) {
			in->h->fd_unwatch(in->h, in->watch);
			in->watch = NULL;
		}
		pthread_mutex_unlock(in->lock);
		return;
	}
	if (room > sizeof(buf))
		room = sizeof(buf);
	ssize_t n = read(fd, buf, room);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		in->ended(in->opaque, fd, n < 0 ? -errno : 0);
		return;
	}
	size_t len = in->filter ? in->filter(in->opaque, buf, (size_t)n) : (size_t)n;
	if (len)
		in->h->char_input(in->h, buf, len);
}

void char_input_init(struct char_input *in, const struct vmm_host *h, pthread_mutex_t *lock)
{
	*in = (struct char_input){ .h = h, .lock = lock, .fd = -1 };
}

void char_input_start(struct char_input *in, int fd)
{
	in->fd = fd;
	in->resume_pending = false;
	in->watch = in->h->fd_watch(in->h, fd, VMM_FD_READ, char_input_readable, in);
}

void char_input_stop(struct char_input *in)
{
	if (in->watch)
		in->h->fd_unwatch(in->h, in->watch);
	in->watch = NULL;
	in->fd = -1;
	in->resume_pending = false;
}

void char_input_resume(struct char_input *in)
{
	pthread_mutex_lock(in->lock);
	if (in->fd < 0) {
		/* nothing to read: input ended, or no client yet */
	} else if (in->watch) {
		in->resume_pending = true;
	} else {
		in->watch = in->h->fd_watch(in->h, in->fd, VMM_FD_READ, char_input_readable, in);
	}
	pthread_mutex_unlock(in->lock);
}

size_t char_output_write(int fd, bool socket, const void *buf, size_t len, int wait_ms)
{
	const uint8_t *b = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = socket ? send(fd, b + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL)
				   : write(fd, b + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			if (poll(&pfd, 1, wait_ms) > 0)
				continue;
		}
		break;
	}
	return done;
}

int char_path_creatable(const char *path)
{
	char *copy = strdup(path); /* dirname() may write to its argument */
	int e = 0;

	if (!copy)
		return ENOMEM;
	if (access(dirname(copy), W_OK | X_OK) < 0)
		e = errno;
	free(copy);
	return e;
}
