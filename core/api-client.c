/* core/api-client.c - one HTTP/1.1 request to the control API over its
 * unix socket, for vmmctl's client subcommands (see api.h).  The server is
 * asked to close the connection after the reply, so the reply ends at
 * EOF; its Content-Length, when given, is checked against what came. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/api.h"
#include "core/file.h"

#define API_CLIENT_TIMEOUT_MS 30000 /* longer than a pause's 5 s bound */
#define API_REPLY_MAX (4u << 20)

int vmm_api_request(const char *sock, const char *method, const char *path, const char *body,
		    int *status, char **reply, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *buf = NULL, head[512];
	size_t len = 0, cap = 0;
	int fd, rc;

	*reply = NULL;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", sock);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s%s", sock, strerror(-rc),
			 rc == -ECONNREFUSED ? " (no vmmctl is serving it: a stale socket?)" : "");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	size_t blen = body ? strlen(body) : 0;
	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAccept: application/json\r\n"
		 "%sContent-Length: %zu\r\n\r\n",
		 method, path, blen ? "Content-Type: application/json\r\n" : "", blen);
	rc = vmm_send_all(fd, head, strlen(head));
	if (!rc && blen)
		rc = vmm_send_all(fd, body, blen);
	if (rc) {
		snprintf(err, errlen, "%s: sending the request: %s", sock, strerror(-rc));
		close(fd);
		return rc;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		rc = poll(&p, 1, API_CLIENT_TIMEOUT_MS);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			snprintf(err, errlen, "%s: no reply within %d s", sock, API_CLIENT_TIMEOUT_MS / 1000);
			rc = -ETIMEDOUT;
			goto out;
		}
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 8192;
			char *nb = cap <= API_REPLY_MAX ? realloc(buf, cap + 1) : NULL;
			if (!nb) {
				snprintf(err, errlen, "%s: reply too large", sock);
				rc = -EFBIG;
				goto out;
			}
			buf = nb;
		}
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: reading the reply: %s", sock, strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = -EPROTO;
	if (!buf) {
		snprintf(err, errlen, "%s: the server closed the connection without a reply", sock);
		goto out;
	}
	buf[len] = '\0';
	int st;
	char *hend = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/1.%*[01] %3d", &st) != 1 || st < 100 || st > 599 || !hend) {
		snprintf(err, errlen, "%s: the reply is not HTTP", sock);
		goto out;
	}
	char *b = hend + 4;
	/* Content-Length, when the server gave it, must match. */
	for (char *l = strstr(buf, "\r\n"); l && l < hend; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, "Content-Length:", 15) == 0 &&
		    strtoull(l + 17, NULL, 10) != (unsigned long long)(len - (size_t)(b - buf))) {
			snprintf(err, errlen, "%s: the reply was cut short", sock);
			goto out;
		}
	}
	*status = st;
	*reply = strdup(b);
	rc = *reply ? 0 : -ENOMEM;
	if (rc)
		snprintf(err, errlen, "out of memory");
out:
	free(buf);
	close(fd);
	return rc;
}
