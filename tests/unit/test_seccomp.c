/* tests/unit/test_seccomp.c - core/seccomp.c without a machine: the static
 * system call name table (core/syscall-names.h) agrees with libseccomp's
 * for every number it names (a call newer than the build's kernel headers
 * has none: the SIGSYS line gives its number), and a filter built once (vmm_seccomp_build) and loaded
 * (vmm_seccomp_load) in a child allows what its list names and stops the
 * rest with SIGSYS, in two threads' worth of loads from the same program;
 * the filters compiled into vmmctl (core/seccomp-filters.h) are what
 * libseccomp compiles from the lists now, for x86_64 and aarch64, and are
 * what vmm_seccomp_build gives a machine without extra calls. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <seccomp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <linux/filter.h>

#include "core/seccomp.h"

static void names_match_libseccomp(void **state)
{
	unsigned named = 0;

	(void)state;
	for (long nr = -1; nr < 1100; nr++) {
		char *want = nr < 0 ? NULL : seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
		const char *got = vmm_syscall_name(nr);
		/* A call newer than this build's kernel headers (no __NR_
		 * macro) is left out: its SIGSYS line gives the number. */
		if (want && !got) {
			free(want);
			continue;
		}
		if (!want || !got) {
			if (want || got)
				fail_msg("system call %ld: libseccomp says %s, the table %s", nr,
					 want ? want : "(none)", got ? got : "(none)");
		} else if (strcmp(want, got) != 0) {
			fail_msg("system call %ld: libseccomp says %s, the table %s", nr, want, got);
		} else {
			named++;
		}
		free(want);
	}
	assert_true(named > 300);
	assert_string_equal(vmm_syscall_name(__NR_socket), "socket");
}

/* In a child: load `p` (twice when `twice`: a second thread's load stacks
 * the same program), then getpid() (allowed) and socket() (not). */
static int run_child(const struct vmm_seccomp_prog *p, bool twice)
{
	pid_t pid = fork();
	int ws;

	if (pid == 0) {
		char err[256];
		signal(SIGSYS, SIG_DFL); /* not cmocka's handler */
		if (vmm_seccomp_load(p, err, sizeof(err)) || (twice && vmm_seccomp_load(p, err, sizeof(err))))
			_exit(3);
		if (getpid() <= 0)
			_exit(4);
		socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(5);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	return ws;
}

static void built_once_loaded_anywhere(void **state)
{
	struct vmm_seccomp_prog p;
	char err[256];
	int ws;

	(void)state;
	assert_int_equal(vmm_seccomp_build(VMM_THREAD_VCPU, VMM_SECCOMP_ON, NULL, 0, &p, err, sizeof(err)), 0);
	assert_non_null(p.insns);
	assert_true(p.len > 10);
	ws = run_child(&p, false);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGSYS);
	ws = run_child(&p, true);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGSYS);
	vmm_seccomp_prog_free(&p);
	assert_null(p.insns);

	/* The same list with socket declared (a plugin's): allowed. */
	static const char *const sock[] = { "socket", NULL };
	const char *const *extra[] = { sock };
	assert_int_equal(vmm_seccomp_build(VMM_THREAD_VCPU, VMM_SECCOMP_ON, extra, 1, &p, err, sizeof(err)), 0);
	ws = run_child(&p, false);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 5);
	vmm_seccomp_prog_free(&p);

	/* off: nothing built, nothing loaded. */
	assert_int_equal(vmm_seccomp_build(VMM_THREAD_MAIN, VMM_SECCOMP_OFF, NULL, 0, &p, err, sizeof(err)), 0);
	assert_null(p.insns);
	ws = run_child(&p, false);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 5);
}

static void precompiled_filters_match_the_lists(void **state)
{
	static const uint32_t arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64 };
	static const enum vmm_thread_role roles[] = { VMM_THREAD_MAIN, VMM_THREAD_VCPU, VMM_THREAD_WORKER };
	struct vmm_seccomp_prog p, b;
	unsigned short len;
	char err[256];

	(void)state;
	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++)
		for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
			const struct sock_filter *f = vmm_seccomp_precompiled(arches[a], roles[r], &len);
			assert_non_null(f);
			assert_int_equal(vmm_seccomp_compile(roles[r], VMM_SECCOMP_ON, arches[a], NULL, 0, &p, err,
							     sizeof(err)),
					 0);
			if (p.len != len || memcmp(p.insns, f, len * sizeof(*f)) != 0)
				fail_msg("core/seccomp-filters.h is not what the lists compile to (arch %#x, role %d: "
					 "%u instructions, the lists %u): run `make seccomp-filters`",
					 arches[a], (int)roles[r], len, p.len);
			vmm_seccomp_prog_free(&p);
		}
	/* This machine's, as vmm_seccomp_build gives it without extras. */
	for (size_t r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
		const struct sock_filter *f = vmm_seccomp_precompiled(seccomp_arch_native(), roles[r], &len);
		assert_non_null(f);
		assert_int_equal(vmm_seccomp_build(roles[r], VMM_SECCOMP_ON, NULL, 0, &b, err, sizeof(err)), 0);
		assert_int_equal(b.len, len);
		assert_memory_equal(b.insns, f, len * sizeof(*f));
		vmm_seccomp_prog_free(&b);
	}
	/* No filter compiled in for an architecture not listed. */
	assert_null(vmm_seccomp_precompiled(SCMP_ARCH_RISCV64, VMM_THREAD_MAIN, &len));
}

/* The threads vmmctl did not start are counted (a plugin's would run
 * unconfined): this test's own second thread stands for one. */
static void *wait_for_end(void *arg)
{
	pthread_mutex_t *mx = arg;

	pthread_mutex_lock(mx);
	pthread_mutex_unlock(mx);
	return NULL;
}

static void other_threads_counted(void **state)
{
	pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
	pthread_t t;

	(void)state;
	assert_int_equal(vmm_seccomp_other_threads(1), 0);
	assert_int_equal(vmm_seccomp_other_threads(2), 0);
	pthread_mutex_lock(&mx);
	assert_int_equal(pthread_create(&t, NULL, wait_for_end, &mx), 0);
	assert_int_equal(vmm_seccomp_other_threads(1), 1);
	assert_int_equal(vmm_seccomp_other_threads(2), 0);
	/* Held before a jail: the count uses that directory, once. */
	assert_int_equal(vmm_seccomp_hold_tasks(), 0);
	assert_int_equal(vmm_seccomp_other_threads(1), 1);
	pthread_mutex_unlock(&mx);
	pthread_join(t, NULL);
	assert_int_equal(vmm_seccomp_other_threads(1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_match_libseccomp),
		cmocka_unit_test(built_once_loaded_anywhere),
		cmocka_unit_test(precompiled_filters_match_the_lists),
		cmocka_unit_test(other_threads_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
