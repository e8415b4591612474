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

#include "plugins/char-common/char-input.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-A */

struct stdio_be {
	const struct vmm_host *h;
	pthread_mutex_t lock; /* the input's watch: main thread vs vCPU thread */
	struct char_input in;
	bool escape;
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

/* Take Ctrl-A sequences out of buf; returns the bytes left for the guest. */
static size_t filter_escapes(void *opaque, uint8_t *buf, size_t n)
{
	struct stdio_be *s = opaque;
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

/* EOF or error: the guest sees no more input. */
static void stdio_input_ended(void *opaque, int fd, ssize_t n)
{
	struct stdio_be *s = opaque;

	pthread_mutex_lock(&s->lock);
	char_input_stop(&s->in);
	pthread_mutex_unlock(&s->lock);
}

static void stdio_resume_input(void *state)
{
	struct stdio_be *s = state;

	char_input_resume(&s->in);
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
	char_input_init(&s->in, h, &s->lock);
	s->in.filter = filter_escapes;
	s->in.ended = stdio_input_ended;
	s->in.opaque = s;
	raw_terminal();
	/* epoll cannot watch a regular file or /dev/null: such a stdin gives
	 * the guest no input (a pipe or a terminal does). */
	struct stat st;
	if (fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
					       isatty(STDIN_FILENO)))
		char_input_start(&s->in, STDIN_FILENO);
	*state = s;
	return 0;
}

/* vmmctl check (ABI 1.6): nothing to verify, and the terminal must stay
 * as it is (open() makes it raw). */
static int stdio_check(const struct vmm_host *h, void **state)
{
	*state = NULL;
	return 0;
}

static void stdio_close(void *state)
{
	struct stdio_be *s = state;
	if (!s)
		return;
	char_input_stop(&s->in);
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
	.check = stdio_check,
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
