/* file: a character backend that writes the device's output to a file.
 *
 * Output only.  Every write goes to the file before the device's register
 * write returns, and close() flushes it to the disk, so a serial log is
 * complete even when vmmctl is stopped by a signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vmm/vmm.h>

#include "plugins/char-common/char-input.h"

struct file_be {
	const struct vmm_host *h;
	const char *path;
	int fd;
};

static ssize_t file_write(void *state, const void *buf, size_t len)
{
	struct file_be *f = state;
	const uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(f->fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int file_open(const struct vmm_host *h, void **state)
{
	const char *path = h->prop_str(h, "path");
	bool append = false;
	struct file_be *f;

	h->prop_bool(h, "append", &append);
	if (!path) {
		h->log(h, VMM_LOG_ERROR, "property 'path' is not set");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->h = h;
	f->path = path;
	/* O_NONBLOCK: opening a FIFO would otherwise wait, for good, until
	 * some process opens it for reading; without one it fails (ENXIO)
	 * and says so.  Writes block as usual afterwards: a FIFO's reader
	 * paces the guest's output like a pipe on stdout does. */
	f->fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
		     0644);
	if (f->fd < 0) {
		int e = errno;
		if (e == ENXIO)
			h->log(h, VMM_LOG_ERROR, "cannot open %s: a FIFO that no process reads "
			       "(start its reader first)", path);
		else
			h->log(h, VMM_LOG_ERROR, "cannot open %s: %s", path, strerror(e));
		free(f);
		return -e;
	}
	if (fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int e = errno;
		h->log(h, VMM_LOG_ERROR, "cannot open %s: %s", path, strerror(e));
		close(f->fd);
		free(f);
		return -e;
	}
	*state = f;
	return 0;
}

/*
 * vmmctl check (ABI 1.6): what open() would refuse, without opening, which
 * would create or truncate the file.  An existing path must be writable
 * and not a directory (a FIFO passes: whether its reader is there is only
 * known when it is opened); a new file needs a directory it can be made
 * in.  The messages are open()'s.
 */
static int file_check(const struct vmm_host *h, void **state)
{
	const char *path = h->prop_str(h, "path");
	struct stat st;
	int e = 0;

	if (!path) {
		h->log(h, VMM_LOG_ERROR, "property 'path' is not set");
		return -EINVAL;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			e = EISDIR;
		else if (access(path, W_OK) < 0)
			e = errno;
	} else if (errno != ENOENT) {
		e = errno;
	} else {
		e = char_path_creatable(path);
	}
	if (e) {
		h->log(h, VMM_LOG_ERROR, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	*state = NULL;
	return 0;
}

static void file_close(void *state)
{
	struct file_be *f = state;
	if (!f)
		return;
	/* The last chance to hear of a full disk (write errors are logged by
	 * the core); EINVAL and EROFS: a device or FIFO, nothing to sync. */
	if (fdatasync(f->fd) < 0 && errno != EINVAL && errno != EROFS)
		f->h->log(f->h, VMM_LOG_ERROR, "cannot flush %s: %s", f->path, strerror(errno));
	close(f->fd);
	free(f);
}

static const struct vmm_char_backend_ops file_ops = {
	.base = {
		.size = sizeof(struct vmm_char_backend_ops),
		.type = VMM_BACKEND_CHAR,
		.open = file_open,
		.close = file_close,
	},
	.write = file_write,
	.resume_input = NULL,
	.check = file_check,
};

static const struct vmm_prop_desc file_props[] = {
	{ .name = "path", .type = VMM_PROP_STRING, .required = true, .help = "file to write" },
	{ .name = "append", .type = VMM_PROP_BOOL, .def_int = 0,
	  .help = "append instead of truncating the file" },
	{ .name = NULL },
};

static const struct vmm_plugin file_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_BACKEND,
	.name = "file",
	.version = "1.0",
	.summary = "character backend writing output to a file",
	.props = file_props,
	.ops = &file_ops,
};

VMM_PLUGIN_DEFINE(file_plugin)
