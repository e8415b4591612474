/* stdio: a character backend on vmmctl's own standard input and output.
 *
 * On a terminal, input is switched to raw mode so that every key (Ctrl-C
 * included) reaches the guest; Ctrl-A x quits and Ctrl-A Ctrl-A sends a
 * literal Ctrl-A, as in QEMU.  Output post-processing stays on so a guest's
 * bare "\n" still starts a new line.  The terminal is restored on close and,
 * should vmmctl exit some other way, by an atexit handler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <vmm/vmm.h>

#define ESCAPE_CHAR 0x01 /* Ctrl-A */

struct stdio_be {
	const struct vmm_host *h;
	pthread_mutex_t lock; /* watch and resume_pending: main thread vs vCPU thread */
	struct vmm_watch *watch;
	bool resume_pending;
	bool escape;
	bool eof;
};

static struct termios saved_tio;
static bool tio_saved;

static void restore_terminal(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = false;
	}
}

static void raw_terminal(void)
{
	struct termios t;
	static bool atexit_done;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	tio_saved = true;
	if (!atexit_done && atexit(restore_terminal) == 0)
		atexit_done = true;
	t = saved_tio;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

static void stdio_readable(void *opaque, int fd, unsigned events);

/* Take Ctrl-A sequences out of buf; returns the bytes left for the guest. */
static size_t filter_escapes(struct stdio_be *s, uint8_t *buf, size_t n)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = buf[i];
		if (s->escape) {
			s->escape = false;
			if (c == 'x' || c == 'X') {
				s->h->log(s->h, VMM_LOG_INFO, "Ctrl-A x: quitting");
				s->h->machine_stop(s->h, VMM_STOP_POWEROFF, 0);
				continue;
			}
			if (c != ESCAPE_CHAR)
				continue;
		} else if (c == ESCAPE_CHAR && tio_saved) {
			s->escape = true;
			continue;
		}
		buf[out++] = c;
	}
	return out;
}

static void stdio_readable(void *opaque, int fd, unsigned events)
{
	struct stdio_be *s = opaque;
	uint8_t buf[256];
	size_t room = s->h->char_input_room(s->h);

	if (room == 0) {
		/* The device is full: stop polling until it has room, unless
		 * it already said so while we were asking. */
		pthread_mutex_lock(&s->lock);
		if (s->resume_pending) {
			s->resume_pending = false;
		} else if (s->watch) {
			s->h->fd_unwatch(s->h, s->watch);
			s->watch = NULL;
		}
		pthread_mutex_unlock(&s->lock);
		return;
	}
	if (room > sizeof(buf))
		room = sizeof(buf);
	ssize_t n = read(fd, buf, room);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF or error: the guest sees no more input. */
		pthread_mutex_lock(&s->lock);
		s->eof = true;
		if (s->watch)
			s->h->fd_unwatch(s->h, s->watch);
		s->watch = NULL;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	size_t len = filter_escapes(s, buf, (size_t)n);
	if (len)
		s->h->char_input(s->h, buf, len);
}

static void stdio_resume_input(void *state)
{
	struct stdio_be *s = state;
	pthread_mutex_lock(&s->lock);
	if (s->eof) {
		/* nothing more will come */
	} else if (s->watch) {
		s->resume_pending = true;
	} else {
		s->watch = s->h->fd_watch(s->h, STDIN_FILENO, VMM_FD_READ, stdio_readable, s);
	}
	pthread_mutex_unlock(&s->lock);
}

static ssize_t stdio_write(void *state, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int stdio_open(const struct vmm_host *h, void **state)
{
	struct stdio_be *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->h = h;
	pthread_mutex_init(&s->lock, NULL);
	raw_terminal();
	/* epoll cannot watch a regular file or /dev/null: such a stdin gives
	 * the guest no input (a pipe or a terminal does). */
	struct stat st;
	if (fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
					       isatty(STDIN_FILENO)))
		s->watch = h->fd_watch(h, STDIN_FILENO, VMM_FD_READ, stdio_readable, s);
	else
		s->eof = true;
	*state = s;
	return 0;
}

static void stdio_close(void *state)
{
	struct stdio_be *s = state;
	if (!s)
		return;
	if (s->watch)
		s->h->fd_unwatch(s->h, s->watch);
	restore_terminal();
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct vmm_char_backend_ops stdio_ops = {
	.base = {
		.size = sizeof(struct vmm_char_backend_ops),
		.type = VMM_BACKEND_CHAR,
		.open = stdio_open,
		.close = stdio_close,
	},
	.write = stdio_write,
	.resume_input = stdio_resume_input,
};

static const struct vmm_plugin stdio_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_BACKEND,
	.name = "stdio",
	.version = "1.0",
	.summary = "character backend on vmmctl's stdin/stdout (raw terminal; Ctrl-A x quits)",
	.props = NULL,
	.ops = &stdio_ops,
};

VMM_PLUGIN_DEFINE(stdio_plugin)
