/* tests/cli/char-peer.c - the user's end of a character backend, for the
 * char-pty and char-socket tests (no socat or python needed):
 *
 *	char-peer tty|unix PATH SEND SECONDS [AFTER]
 *
 * Waits up to SECONDS for PATH to appear and open (a pty slave, or a unix
 * socket to connect to), writes SEND (once the other end has sent the text
 * AFTER, if given: a guest that says it is ready), then copies everything it reads to
 * stdout until the other end goes away (EOF, or EIO on a pty) or SECONDS
 * have passed.  Status 0 when the other end went away, 1 on a timeout,
 * 2 on a usage or system error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int try_open(const char *kind, const char *path)
{
	if (strcmp(kind, "tty") == 0)
		return open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	if ((argc != 5 && argc != 6) || (strcmp(argv[1], "tty") && strcmp(argv[1], "unix"))) {
		fprintf(stderr, "usage: char-peer tty|unix PATH SEND SECONDS [AFTER]\n");
		return 2;
	}
	const char *after = argc == 6 ? argv[5] : NULL;
	char seen[8192];
	size_t nseen = 0;
	long long deadline = now_ms() + atoi(argv[4]) * 1000LL;
	int fd;

	while ((fd = try_open(argv[1], argv[2])) < 0) {
		if (now_ms() >= deadline) {
			fprintf(stderr, "char-peer: %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
		usleep(20000);
	}
	size_t len = strlen(argv[3]);
	bool sent = false;
	for (;;) {
		if (!sent && (!after || (nseen && strstr(seen, after)))) {
			if (len && write(fd, argv[3], len) != (ssize_t)len) {
				perror("char-peer: write");
				return 2;
			}
			sent = true;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		char buf[4096];

		if (left <= 0) {
			fprintf(stderr, "char-peer: timed out\n");
			return 1;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			perror("char-peer: poll");
			return 2;
		}
		if (!pfd.revents)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0; /* EOF, or EIO: the pty's master side closed */
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
		/* the last few KiB, NUL-free, for AFTER */
		for (ssize_t i = 0; i < n && !sent; i++) {
			if (nseen == sizeof(seen) - 1) {
				memmove(seen, seen + sizeof(seen) / 2, sizeof(seen) / 2 - 1);
				nseen = sizeof(seen) / 2 - 1;
			}
			if (buf[i])
				seen[nseen++] = buf[i];
			seen[nseen] = 0;
		}
	}
}
