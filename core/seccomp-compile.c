/* core/seccomp-compile.c - vmmctl's allow-lists and their compilation
 * into BPF by libseccomp, for this machine's architecture or another one
 * libseccomp knows.
 *
 * vmmctl compiles at run time only what core/seccomp-filters.h does not
 * hold: a machine whose plugins declare extra calls, and "log" mode.  The
 * filters of a machine without them ("on") are compiled once, by
 * tools/gen-seccomp-filters.c (`make seccomp-filters`), into that header:
 * libseccomp's compiler took ~0.1-0.25 ms a filter, a tenth of vmmctl's
 * whole start-up (bench/seccomp-cost.sh).  tests/unit/test_seccomp checks
 * the header against what this file compiles, so a list changed without
 * regenerating it fails there.
 *
 * The lists were measured, not guessed: `strace -f` of vmmctl under every
 * guest test (every tests/guests script, tests/cli/char-backends.sh; irq modes
 * kernel, split and emulated; virtio-rng with and without ioeventfd), the
 * main thread's calls counted from its last clone3() (the last vCPU thread
 * started) to its exit, each vCPU thread's from its start.  What the
 * backends do on paths those tests do not reach (block-file's flush,
 * discard and write-zeroes; the char backends' polls and a socket client
 * that comes later) is added from their source and named below.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

#include "core/seccomp.h"

/* Every thread. */
static const char *const common_calls[] = {
	/* fds: eventfds, the char, block and net backends' data path */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
	"pwritev2", "close", "lseek", "fstat", "newfstatat", "fcntl", "poll", "ppoll",
	/* the char-socket backend (send() from a vCPU thread), net-tap's
	 * rtnetlink messages */
	"sendto", "recvfrom",
	/* block-file: flush, discard, write-zeroes; char-file's flush */
	"fdatasync", "fsync", "fallocate",
	/* locks, signals (the vCPU kick, the fatal-signal handler's own
	 * calls: its write, signal(SIG_DFL), raise()) */
	"futex", "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "restart_syscall",
	"tgkill", "gettid", "getpid", "sched_yield",
	/* memory: malloc's arenas, a thread's stack freed at its exit */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* time (the vDSO's fallbacks), virtio-rng */
	"clock_gettime", "clock_getres", "gettimeofday", "clock_nanosleep", "nanosleep", "getrandom",
	"exit", "exit_group",
	NULL,
};

/* The main thread after start-up: the event loop, the char-socket
 * backend's clients, teardown (pty links and socket files unlinked). */
static const char *const main_calls[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "accept4", "accept", "unlink",
	/* the control API's connections (evhttp: a reply's end) */
	"shutdown",
	"unlinkat", /* glibc's unlink() on arm64, which has no unlink (not measured there) */
	/* measured at teardown (libevent, glibc) */
	"getuid", "geteuid", "getgid", "getegid",
	/* PUT /v1/snapshot (core/snapshot.c): DIR.tmp made, its files
	 * created (openat, only with O_CREAT|O_EXCL: see main_create_only)
	 * and written (pwrite64, fsync: common), the memory file sized,
	 * renamed to DIR; on failure removed again */
	"mkdir", "mkdirat", "ftruncate", "rename", "renameat", "renameat2", "rmdir",
	/* PUT /v1/migration/send (core/migrate.c): the connection to the
	 * destination and its hang guard (SO_SNDTIMEO, SO_RCVTIMEO); its
	 * data goes with sendto (MSG_NOSIGNAL) and read: common; pre-copy's
	 * pages with sendmsg (a message's head and its pages from guest RAM,
	 * MSG_DONTWAIT).  socket itself only for a unix stream socket
	 * (make_filter). */
	"connect", "setsockopt", "sendmsg",
	NULL,
};

/* A device's callback re-arming a backend's fd watch (the stdio backend's
 * input resumed as the guest reads the UART: libevent's event_add() from
 * this thread) changes the main loop's epoll set.  Found by
 * tests/cli/vmmctl-cli.sh's echo guest. */
static const char *const vcpu_calls[] = { "epoll_ctl", NULL };

static const char *const worker_calls[] = { "epoll_wait", "epoll_pwait", "epoll_ctl", NULL };

/* ioctl: KVM's (type 0xAE), the terminal's (the stdio backend, the
 * fatal-signal handler restoring it; the pty backend's FIONREAD), net-tap's
 * offloads as the guest's driver negotiates them (on a vCPU thread) and its
 * interface queries; the rest refused unless a plugin declares "ioctl"
 * (then any). */
static const unsigned long other_ioctls[] = {
	TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, FIONREAD, FIONBIO, TUNSETOFFLOAD, SIOCGIFFLAGS,
	SIOCGIFINDEX,
};

/* Rules take the call by its number on the machine compiling the filter,
 * which libseccomp translates to the filter's architecture by name; a
 * call this machine lacks has a negative "pseudo" number there, which
 * translates all the same (epoll_wait for x86_64 compiled on arm64).  A
 * call the filter's architecture lacks (epoll_wait on arm64) is left out.
 * So a filter is the same wherever it is compiled (test_seccomp, on both
 * nested hosts). */
static int allow(scmp_filter_ctx ctx, uint32_t arch, const char *name, char *err, size_t errlen)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR) {
		snprintf(err, errlen, "seccomp: unknown system call \"%s\"", name);
		return -EINVAL;
	}
	if ((arch == SCMP_ARCH_NATIVE ? nr : seccomp_syscall_resolve_name_arch(arch, name)) < 0)
		return 0;
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	if (rc < 0 && rc != -EEXIST) {
		snprintf(err, errlen, "seccomp: cannot allow %s: %s", name, strerror(-rc));
		return rc;
	}
	return 0;
}

static int allow_list(scmp_filter_ctx ctx, uint32_t arch, const char *const *list, bool *any_ioctl,
		      char *err, size_t errlen)
{
	for (; list && *list; list++) {
		if (strcmp(*list, "ioctl") == 0) {
			*any_ioctl = true;
			continue;
		}
		int rc = allow(ctx, arch, *list, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* The filter for `role` as a libseccomp context (see vmm_seccomp_compile). */
static scmp_filter_ctx make_filter(enum vmm_thread_role role, enum vmm_seccomp_mode mode, uint32_t arch,
				   const char *const *const *extra, size_t nextra, char *err, size_t errlen)
{
	static const char *const *const role_calls[] = {
		[VMM_THREAD_MAIN] = main_calls, [VMM_THREAD_VCPU] = vcpu_calls,
		[VMM_THREAD_WORKER] = worker_calls,
	};
	bool any_ioctl = false;
	int rc;

	scmp_filter_ctx ctx = seccomp_init(mode == VMM_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot make a filter");
		return NULL;
	}
	rc = 0;
	if (arch != SCMP_ARCH_NATIVE && arch != seccomp_arch_native()) {
		rc = seccomp_arch_add(ctx, arch);
		if (!rc)
			rc = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
		if (rc)
			snprintf(err, errlen, "seccomp: cannot make a filter for architecture %#x: %s", arch,
				 strerror(-rc));
	}
	if (!rc)
		rc = allow_list(ctx, arch, common_calls, &any_ioctl, err, errlen);
	if (!rc)
		rc = allow_list(ctx, arch, role_calls[role], &any_ioctl, err, errlen);
	for (size_t i = 0; !rc && i < nextra; i++)
		rc = allow_list(ctx, arch, extra[i], &any_ioctl, err, errlen);
	/* The main thread may create new files (a snapshot's), never open
	 * an existing one: openat only with both O_CREAT and O_EXCL set. */
	if (!rc && role == VMM_THREAD_MAIN) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT | O_EXCL, O_CREAT | O_EXCL));
		if (rc == -EEXIST) /* a plugin's extra calls allow every openat */
			rc = 0;
		if (rc)
			snprintf(err, errlen, "seccomp: cannot allow openat(O_CREAT|O_EXCL): %s", strerror(-rc));
	}
	/* ... and make a stream socket, unix or TCP over IPv4 or IPv6, the
	 * migration's connection (core/migrate.c); no other kind. */
	static const int stream_families[] = { AF_UNIX, AF_INET, AF_INET6 };
	for (size_t i = 0; !rc && role == VMM_THREAD_MAIN && i < 3; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)stream_families[i], 0),
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM));
		if (rc == -EEXIST) /* a plugin's extra calls allow every socket */
			rc = 0;
		if (rc)
			snprintf(err, errlen, "seccomp: cannot allow socket(%d, SOCK_STREAM): %s", stream_families[i],
				 strerror(-rc));
	}
	if (!rc && any_ioctl) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);
	} else if (!rc) {
		/* The request is an unsigned int: compare its low 32 bits. */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xff00, 0xae00));
		for (size_t i = 0; !rc && i < sizeof(other_ioctls) / sizeof(other_ioctls[0]); i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					      SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, other_ioctls[i]));
		if (rc)
			snprintf(err, errlen, "seccomp: cannot allow ioctl: %s", strerror(-rc));
	}
	/* The hot call first: KVM_RUN is an ioctl, one per exit, and by
	 * default libseccomp tests it after dozens of others; with optimize
	 * level 2 the syscall numbers are searched as a binary tree.  Both
	 * only reorder the filter: what it allows is the same. */
	if (!rc) {
		rc = seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
		if (!rc)
			rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#endif
		if (rc)
			snprintf(err, errlen, "seccomp: cannot order the filter: %s", strerror(-rc));
	}
	if (rc) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

int vmm_seccomp_compile(enum vmm_thread_role role, enum vmm_seccomp_mode mode, uint32_t arch,
			const char *const *const *extra, size_t nextra, struct vmm_seccomp_prog *out,
			char *err, size_t errlen)
{
	int fd = -1, rc;

	memset(out, 0, sizeof(*out));
	out->mode = mode;
	if (mode == VMM_SECCOMP_OFF)
		return 0;
	scmp_filter_ctx ctx = make_filter(role, mode, arch, extra, nextra, err, errlen);
	if (!ctx)
		return -EINVAL;
	/* libseccomp 2.5 exports BPF to an fd only (seccomp_export_bpf_mem
	 * came in 2.6). */
	fd = memfd_create("vmm-seccomp", MFD_CLOEXEC);
	rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
	off_t len = rc ? 0 : lseek(fd, 0, SEEK_END);
	if (!rc && (len <= 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > 0xffff))
		rc = -EINVAL;
	if (!rc && !(out->insns = malloc((size_t)len)))
		rc = -ENOMEM;
	if (!rc && pread(fd, out->insns, (size_t)len, 0) != len)
		rc = -EIO;
	if (rc)
		snprintf(err, errlen, "seccomp: cannot make the filter's program: %s", strerror(-rc));
	else
		out->len = (unsigned short)(len / sizeof(struct sock_filter));
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	if (rc) {
		free(out->insns);
		out->insns = NULL;
	}
	return rc;
}

void vmm_seccomp_prog_free(struct vmm_seccomp_prog *p)
{
	free(p->insns);
	p->insns = NULL;
	p->len = 0;
}
