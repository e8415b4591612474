/* tests/unit/test_char_socket.c - the socket character backend
 * (plugins/char-socket) through the harness, on a real unix socket: it
 * reports no connection at open, connected when a client is accepted,
 * disconnected when the client leaves, and again for the next client
 * (h->char_connected, ABI 1.4).  The harness runs its fd watches with
 * vmm_harness_fd_poll(): a unix socket's connect is in the listen backlog,
 * and its close readable at the accepted end, once the call returns, so
 * no step waits for time. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmm/harness.h>

struct fix {
	struct vmm_harness *h;
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	char prop[128];
	const char *props[] = { prop, NULL };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/vmm-char-socket.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/s", f->dir);
	snprintf(prop, sizeof(prop), "path=%s", f->path);
	f->h = vmm_harness_new();
	assert_non_null(f->h);
	assert_int_equal(vmm_harness_add_backend(f->h, "con", "socket", props), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vmm_harness_free(f->h); /* closes the backend, which removes its socket */
	rmdir(f->dir);
	free(f);
	return 0;
}

static int client(const struct fix *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, f->path);
	assert_int_equal(connect(fd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int connected(const struct fix *f)
{
	return vmm_harness_backend_char_connected(f->h, "con");
}

static void test_connect_and_leave(void **state)
{
	struct fix *f = *state;

	assert_int_equal(connected(f), 0); /* nobody there at open */
	assert_int_equal(vmm_harness_fd_poll(f->h), 0);
	assert_int_equal(connected(f), 0);

	int fd = client(f);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1); /* the accept */
	assert_int_equal(connected(f), 1);
	/* Bytes from the client are input, not a hang-up. */
	assert_int_equal(write(fd, "hi", 2), 2);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1);
	assert_int_equal(connected(f), 1);

	close(fd);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1); /* the EOF */
	assert_int_equal(connected(f), 0);

	/* The next client is accepted and reported the same way. */
	fd = client(f);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1);
	assert_int_equal(connected(f), 1);
	close(fd);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1);
	assert_int_equal(connected(f), 0);
}

/* A second client waits in the backlog while the first is served; when
 * the first leaves the backend is disconnected, then takes the second. */
static void test_second_client_waits(void **state)
{
	struct fix *f = *state;
	int a = client(f);

	assert_int_equal(vmm_harness_fd_poll(f->h), 1);
	assert_int_equal(connected(f), 1);
	int b = client(f);
	assert_int_equal(vmm_harness_fd_poll(f->h), 0); /* not listening */
	close(a);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1);
	assert_int_equal(connected(f), 0);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1); /* b, from the backlog */
	assert_int_equal(connected(f), 1);
	close(b);
	assert_int_equal(vmm_harness_fd_poll(f->h), 1);
	assert_int_equal(connected(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_and_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_client_waits, setup, teardown),
	};

	setenv("VMM_HARNESS_QUIET", "1", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
