/* pty: a character backend on a new pseudo-terminal.
 *
 * The device's output goes to the pty's master side and whatever a user
 * types on the slave side (`screen /dev/pts/N`, `cat`, a terminal emulator)
 * is the device's input.  The slave is put in raw mode, so bytes pass
 * unchanged both ways, and its path is logged at INFO (and, with `link`,
 * a symlink to it is made) so a user can find it.
 *
 * The backend keeps the slave open itself: with nobody else on it, reads
 * of the master then simply have nothing to give instead of failing with
 * EIO, and users may come and go.  Output nobody reads fills the pty's
 * buffer; a write waits for room at most PTY_WRITE_WAIT_MS and then drops
 * the rest and counts it, so a guest never stalls on a pty nobody watches.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <vmm/vmm.h>

#include "plugins/char-common/char-input.h"

#define PTY_WRITE_WAIT_MS 10

struct pty_be {
	const struct vmm_host *h;
	int master, slave;
	char path[128];
	char *link;                /* symlink made to the slave, or NULL */
	pthread_mutex_t lock;      /* the input's watch: main thread vs vCPU thread */
	struct char_input in;
	pthread_mutex_t wlock;     /* writers from several vCPUs, and the counter */
	unsigned long dropped;
	long long last_write_ms;   /* CLOCK_MONOTONIC of the last output, under wlock */
};

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pty_input_ended(void *opaque, int fd, ssize_t n)
{
	struct pty_be *p = opaque;

	pthread_mutex_lock(&p->lock);
	char_input_stop(&p->in);
	pthread_mutex_unlock(&p->lock);
	p->h->log(p->h, VMM_LOG_WARN, "%s: no more input (%s)", p->path,
		  n < 0 ? strerror((int)-n) : "end of file");
}

static void pty_resume_input(void *state)
{
	struct pty_be *p = state;

	char_input_resume(&p->in);
}

static ssize_t pty_write(void *state, const void *buf, size_t len)
{
	struct pty_be *p = state;

	pthread_mutex_lock(&p->wlock);
	size_t done = char_output_write(p->master, false, buf, len, PTY_WRITE_WAIT_MS);
	p->last_write_ms = monotonic_ms();
	if (done < len) {
		/* Nobody reads the slave: drop the rest rather than stall
		 * the vCPU that is writing. */
		if (p->dropped == 0)
			p->h->log(p->h, VMM_LOG_WARN, "%s: nobody reads it; dropping output", p->path);
		p->dropped += len - done;
	}
	pthread_mutex_unlock(&p->wlock);
	return (ssize_t)done;
}

static int pty_raw_slave(struct pty_be *p)
{
	struct termios t;

	if (tcgetattr(p->slave, &t) < 0)
		return -errno;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(p->slave, TCSANOW, &t) < 0)
		return -errno;
	return 0;
}

/* A symlink at @link to the slave; replaces only an older symlink. */
static int pty_make_link(struct pty_be *p, const char *link)
{
	struct stat st;

	if (lstat(link, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			p->h->log(p->h, VMM_LOG_ERROR, "link %s exists and is not a symlink", link);
			return -EEXIST;
		}
		unlink(link);
	}
	if (symlink(p->path, link) < 0) {
		int e = errno;
		p->h->log(p->h, VMM_LOG_ERROR, "cannot make link %s: %s", link, strerror(e));
		return -e;
	}
	p->link = strdup(link);
	return p->link ? 0 : -ENOMEM;
}

static void pty_close(void *state);

static int pty_open(const struct vmm_host *h, void **state)
{
	struct pty_be *p = calloc(1, sizeof(*p));
	const char *link = h->prop_str(h, "link");
	const char *what = "posix_openpt";
	int rc;

	if (!p)
		return -ENOMEM;
	p->h = h;
	p->slave = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->wlock, NULL);
	char_input_init(&p->in, h, &p->lock);
	p->in.ended = pty_input_ended;
	p->in.opaque = p;
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0)
		goto out_errno;
	what = "grantpt/unlockpt";
	if (grantpt(p->master) < 0 || unlockpt(p->master) < 0)
		goto out_errno;
	what = "ptsname";
	if ((rc = ptsname_r(p->master, p->path, sizeof(p->path))) != 0) {
		errno = rc;
		goto out_errno;
	}
	what = p->path;
	p->slave = open(p->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0)
		goto out_errno;
	if ((rc = pty_raw_slave(p)) < 0) {
		errno = -rc;
		goto out_errno;
	}
	/* Input through the watch, output must never block the vCPU. */
	if (fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK) < 0)
		goto out_errno;
	if (link && *link && (rc = pty_make_link(p, link)) < 0) {
		pty_close(p);
		return rc;
	}
	char_input_start(&p->in, p->master);
	h->log(h, VMM_LOG_INFO, "pty: %s%s%s", p->path, p->link ? " linked from " : "",
	       p->link ? p->link : "");
	*state = p;
	return 0;

out_errno:
	rc = -errno;
	h->log(h, VMM_LOG_ERROR, "%s: %s", what, strerror(errno));
	pty_close(p);
	return rc;
}

/*
 * vmmctl check (ABI 1.6): open() would make a new pty and the link; check
 * only that ptys can be had and that the link can be made where asked
 * (what is there already is an older symlink, and its directory takes a
 * new one), with open()'s messages.
 */
static int pty_check(const struct vmm_host *h, void **state)
{
	const char *link = h->prop_str(h, "link");
	struct stat st;

	if (access("/dev/ptmx", R_OK | W_OK) < 0) {
		int e = errno;
		h->log(h, VMM_LOG_ERROR, "posix_openpt: %s", strerror(e));
		return -e;
	}
	if (link && *link) {
		int e = 0;

		if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode)) {
			h->log(h, VMM_LOG_ERROR, "link %s exists and is not a symlink", link);
			return -EEXIST;
		}
		e = char_path_creatable(link);
		if (e) {
			h->log(h, VMM_LOG_ERROR, "cannot make link %s: %s", link, strerror(e));
			return -e;
		}
	}
	*state = NULL;
	return 0;
}

static void pty_close(void *state)
{
	struct pty_be *p = state;

	if (!p)
		return;
	char_input_stop(&p->in);
	if (p->dropped)
		p->h->log(p->h, VMM_LOG_INFO, "%s: %lu output bytes dropped", p->path, p->dropped);
	if (p->link) {
		unlink(p->link);
		free(p->link);
	}
	/* What the guest wrote last may not have reached the user yet: the
	 * kernel moves output from the master to the slave's input queue in
	 * a worker, and closing the master hangs the slave up, which throws
	 * away whatever is still queued.  So the user would miss the guest's
	 * last lines.  Wait until 100 ms after the last write and then while
	 * the slave holds unread bytes, 500 ms at most (a pty nobody reads
	 * costs that much at teardown, only when it was written to last). */
	for (long long t0 = monotonic_ms(), now = t0; p->slave >= 0 && p->master >= 0 && now - t0 < 500;
	     now = monotonic_ms()) {
		int unread = 0;

		pthread_mutex_lock(&p->wlock);
		bool recent = p->last_write_ms && now - p->last_write_ms < 100;
		pthread_mutex_unlock(&p->wlock);
		if (!recent && (ioctl(p->slave, FIONREAD, &unread) < 0 || unread <= 0))
			break;
		usleep(5000);
	}
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->wlock);
	free(p);
}

static const struct vmm_char_backend_ops pty_ops = {
	.base = {
		.size = sizeof(struct vmm_char_backend_ops),
		.type = VMM_BACKEND_CHAR,
		.open = pty_open,
		.close = pty_close,
	},
	.write = pty_write,
	.resume_input = pty_resume_input,
	.check = pty_check,
};

static const struct vmm_prop_desc pty_props[] = {
	{ .name = "link", .type = VMM_PROP_STRING,
	  .help = "also make a symlink at this path to the pty (an older symlink is replaced)" },
	{ .name = NULL },
};

static const struct vmm_plugin pty_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_BACKEND,
	.name = "pty",
	.version = "1.0",
	.summary = "character backend on a new pseudo-terminal (raw; its path is logged)",
	.props = pty_props,
	.ops = &pty_ops,
};

VMM_PLUGIN_DEFINE(pty_plugin)
