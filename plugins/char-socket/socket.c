/* socket: a character backend on a unix stream socket.
 *
 * As a server (the default) it listens on `path` and serves one client at
 * a time: the client's bytes are the device's input and the device's output
 * goes to it.  Further clients wait in the listen backlog until the current
 * one leaves.  With no client connected, output is dropped and counted, so
 * a guest never stalls on a socket nobody is attached to; with `wait`, the
 * machine does not start until the first client is there, so none of the
 * guest's output is lost.  As a client (`server = false`) it connects to
 * `path` once, at open.
 *
 * The backend is connected (h->char_connected, ABI 1.4) while a client
 * is: reported at open (not connected unless `wait` or client mode got
 * one), at each accept and when the client's EOF or error drops it.
 *
 * Threads: writes come from vCPU threads, accepts and reads from the main
 * thread.  `lock` guards the client fd and the watches; it is never held
 * while calling into the host's char_input or char_connected services (the
 * device lock is taken there, and a device holds its lock while it writes
 * to us).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vmm/vmm.h>

#include "plugins/char-common/char-input.h"

/* How long a write waits for a slow client before dropping the rest. */
#define SOCK_WRITE_WAIT_MS 100

struct sock_be {
	const struct vmm_host *h;
	char *path;
	bool server;
	int listen_fd;               /* -1 in client mode */
	pthread_mutex_t lock;
	int client_fd;               /* -1: none connected */
	struct vmm_watch *listen_watch;
	struct char_input in;        /* reads client_fd */
	unsigned long dropped;       /* output bytes with nobody to take them */
	unsigned long clients;       /* connections accepted */
};

static void sock_listen_ready(void *opaque, int fd, unsigned events);

/* Tell the device whether a client is there; without the lock. */
static void sock_report(struct sock_be *s, bool connected)
{
	if (VMM_HOST_HAS(s->h, char_connected))
		s->h->char_connected(s->h, connected);
}

/* With the lock held: forget the client and take the next one. */
static void sock_drop_client_locked(struct sock_be *s)
{
	char_input_stop(&s->in);
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
	if (s->server && !s->listen_watch)
		s->listen_watch = s->h->fd_watch(s->h, s->listen_fd, VMM_FD_READ, sock_listen_ready, s);
}

/* With the lock held: @fd is the client now. */
static void sock_set_client_locked(struct sock_be *s, int fd)
{
	s->client_fd = fd;
	s->clients++;
	char_input_start(&s->in, fd);
	/* One client at a time: the next waits in the backlog. */
	if (s->listen_watch)
		s->h->fd_unwatch(s->h, s->listen_watch);
	s->listen_watch = NULL;
}

static void sock_listen_ready(void *opaque, int fd, unsigned events)
{
	struct sock_be *s = opaque;
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	bool taken = false;

	if (c < 0)
		return; /* EAGAIN, or a client that left already */
	pthread_mutex_lock(&s->lock);
	if (s->client_fd >= 0) {
		close(c); /* cannot happen: we stop listening while one is served */
	} else {
		sock_set_client_locked(s, c);
		taken = true;
		s->h->log(s->h, VMM_LOG_INFO, "%s: client connected", s->path);
	}
	pthread_mutex_unlock(&s->lock);
	if (taken)
		sock_report(s, true);
}

static void sock_client_ended(void *opaque, int fd, ssize_t n)
{
	struct sock_be *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (s->client_fd == fd)
		sock_drop_client_locked(s);
	pthread_mutex_unlock(&s->lock);
	s->h->log(s->h, VMM_LOG_INFO, "%s: client disconnected", s->path);
	sock_report(s, false);
}

static void sock_resume_input(void *state)
{
	struct sock_be *s = state;

	/* with no client, a new one is watched at accept */
	char_input_resume(&s->in);
}

static ssize_t sock_write(void *state, const void *buf, size_t len)
{
	struct sock_be *s = state;
	size_t done = 0;

	pthread_mutex_lock(&s->lock);
	/* A client that stopped reading, or left (EPIPE): its read side sees
	 * the hang-up and drops it on the main thread. */
	if (s->client_fd >= 0)
		done = char_output_write(s->client_fd, true, buf, len, SOCK_WRITE_WAIT_MS);
	if (done < len) {
		if (s->dropped == 0)
			s->h->log(s->h, VMM_LOG_INFO, "%s: no client reading; dropping output", s->path);
		s->dropped += len - done;
	}
	pthread_mutex_unlock(&s->lock);
	/* The bytes are gone either way: the device must not stall on us. */
	return (ssize_t)len;
}

static int sock_addr(struct sock_be *s, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(s->path) >= sizeof(sa->sun_path)) {
		s->h->log(s->h, VMM_LOG_ERROR, "socket path %s is longer than %zu bytes", s->path,
			  sizeof(sa->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa->sun_path, s->path);
	return 0;
}

static int sock_listen(struct sock_be *s, const struct sockaddr_un *sa)
{
	struct stat st;

	/* A socket file left by an earlier run is stale (bind would fail);
	 * anything else at the path is not ours to remove. */
	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			s->h->log(s->h, VMM_LOG_ERROR, "%s exists and is not a socket", s->path);
			return -EEXIST;
		}
		unlink(s->path);
	}
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* Owner-only (0600): whoever may connect types at the guest's
	 * console.  bind() takes the mode from the umask; open runs while
	 * vmmctl builds the machine, on its one thread. */
	mode_t old_umask = umask(0177);
	int brc = s->listen_fd < 0 ? -1 : bind(s->listen_fd, (const struct sockaddr *)sa, sizeof(*sa));
	int berr = errno;
	umask(old_umask);
	errno = berr;
	if (s->listen_fd < 0 || brc < 0 || listen(s->listen_fd, 4) < 0) {
		int e = errno;
		s->h->log(s->h, VMM_LOG_ERROR, "cannot listen on %s: %s", s->path, strerror(e));
		return -e;
	}
	s->h->log(s->h, VMM_LOG_INFO, "listening on %s", s->path);
	return 0;
}

/* `wait`: block until the first client is there. */
static int sock_wait_client(struct sock_be *s)
{
	struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };

	s->h->log(s->h, VMM_LOG_INFO, "%s: waiting for a client", s->path);
	for (;;) {
		sigset_t pending;

		/* Ctrl-C and SIGTERM must end a wait for a client that never
		 * comes.  vmmctl lets its stop signals interrupt system calls
		 * during start-up (the poll's EINTR below); a host that keeps
		 * them blocked instead leaves them pending: look for those. */
		if (sigpending(&pending) == 0 &&
		    (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
		     sigismember(&pending, SIGHUP) == 1)) {
			s->h->log(s->h, VMM_LOG_ERROR, "%s: interrupted while waiting for a client",
				  s->path);
			return -EINTR;
		}
		if (poll(&pfd, 1, 100) < 0) {
			if (errno != EINTR)
				return -errno;
			s->h->log(s->h, VMM_LOG_ERROR, "%s: interrupted while waiting for a client",
				  s->path);
			return -EINTR;
		}
		if (!(pfd.revents & POLLIN))
			continue;
		int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c >= 0) {
			pthread_mutex_lock(&s->lock);
			sock_set_client_locked(s, c);
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
}

static int sock_connect(struct sock_be *s, const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		s->h->log(s->h, VMM_LOG_ERROR, "cannot connect to %s: %s", s->path, strerror(e));
		return -e;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	pthread_mutex_lock(&s->lock);
	sock_set_client_locked(s, fd);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void sock_close(void *state);

static int sock_open(const struct vmm_host *h, void **state)
{
	struct sock_be *s = calloc(1, sizeof(*s));
	const char *path = h->prop_str(h, "path");
	bool wait = false;
	struct sockaddr_un sa;
	int rc;

	if (!s)
		return -ENOMEM;
	s->h = h;
	s->listen_fd = s->client_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	char_input_init(&s->in, h, &s->lock);
	s->in.ended = sock_client_ended;
	s->in.opaque = s;
	s->server = true;
	h->prop_bool(h, "server", &s->server);
	h->prop_bool(h, "wait", &wait);
	if (!path || !*path) {
		h->log(h, VMM_LOG_ERROR, "property 'path' is not set");
		rc = -EINVAL;
		goto out_close;
	}
	s->path = strdup(path);
	if (!s->path) {
		rc = -ENOMEM;
		goto out_close;
	}
	if ((rc = sock_addr(s, &sa)) < 0)
		goto out_close;
	if (!s->server) {
		rc = sock_connect(s, &sa);
	} else if ((rc = sock_listen(s, &sa)) == 0) {
		if (wait)
			rc = sock_wait_client(s);
		else
			s->listen_watch = h->fd_watch(h, s->listen_fd, VMM_FD_READ, sock_listen_ready, s);
	}
	if (rc < 0)
		goto out_close;
	/* Before any device uses us: connected only with a client already. */
	sock_report(s, s->client_fd >= 0);
	*state = s;
	return 0;

out_close:
	sock_close(s);
	return rc;
}

/*
 * vmmctl check (ABI 1.6): open() would bind (creating the socket file,
 * after removing a stale one) or connect (a client the server would see).
 * Check what makes them fail instead, with their messages: the path fits
 * a socket address; a server's path is free or a stale socket, in a
 * directory where one can be made; a client's is a socket.
 */
static int sock_check(const struct vmm_host *h, void **state)
{
	const char *path = h->prop_str(h, "path");
	struct sockaddr_un sa;
	bool server = true;
	struct stat st;
	int e = 0;

	h->prop_bool(h, "server", &server);
	if (!path || !*path) {
		h->log(h, VMM_LOG_ERROR, "property 'path' is not set");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		h->log(h, VMM_LOG_ERROR, "socket path %s is longer than %zu bytes", path,
		       sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if (!server) {
		if (stat(path, &st) < 0)
			e = errno;
		else if (!S_ISSOCK(st.st_mode))
			e = ECONNREFUSED;
		if (e) {
			h->log(h, VMM_LOG_ERROR, "cannot connect to %s: %s", path, strerror(e));
			return -e;
		}
	} else if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			h->log(h, VMM_LOG_ERROR, "%s exists and is not a socket", path);
			return -EEXIST;
		}
	} else {
		e = char_path_creatable(path);
		if (e) {
			h->log(h, VMM_LOG_ERROR, "cannot listen on %s: %s", path, strerror(e));
			return -e;
		}
	}
	*state = NULL;
	return 0;
}

static void sock_close(void *state)
{
	struct sock_be *s = state;

	if (!s)
		return;
	char_input_stop(&s->in);
	if (s->listen_watch)
		s->h->fd_unwatch(s->h, s->listen_watch);
	if (s->client_fd >= 0)
		close(s->client_fd);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path); /* ours: made by bind() at open */
	}
	if (s->dropped)
		s->h->log(s->h, VMM_LOG_INFO, "%s: %lu output bytes dropped with no client", s->path,
			  s->dropped);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

static const struct vmm_char_backend_ops sock_ops = {
	.base = {
		.size = sizeof(struct vmm_char_backend_ops),
		.type = VMM_BACKEND_CHAR,
		.open = sock_open,
		.close = sock_close,
	},
	.write = sock_write,
	.resume_input = sock_resume_input,
	.check = sock_check,
};

static const struct vmm_prop_desc sock_props[] = {
	{ .name = "path", .type = VMM_PROP_STRING, .required = true,
	  .help = "unix socket path (a stale socket file there is replaced)" },
	{ .name = "server", .type = VMM_PROP_BOOL, .def_int = 1,
	  .help = "listen and accept one client at a time (false: connect to path)" },
	{ .name = "wait", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "server: do not start the machine until the first client connects" },
	{ .name = NULL },
};

static const struct vmm_plugin sock_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_BACKEND,
	.name = "socket",
	.version = "1.0",
	.summary = "character backend on a unix stream socket (server or client)",
	.props = sock_props,
	.ops = &sock_ops,
};

VMM_PLUGIN_DEFINE(sock_plugin)
