/* core/jail.c - vmmctl's optional jail (see jail.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/jail.h"
#include "core/log.h"
#include "core/process.h"

/* CAP_SYS_ADMIN in the effective set: unshare() of the mount, PID, IPC,
 * UTS and network namespaces and every mount() below need it. */
static bool have_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

int vmm_jail_check(const char *dir, const char *what, char *err, size_t errlen)
{
	struct stat st;

	if (!dir[0] || stat(dir, &st) < 0) {
		int e = dir[0] ? errno : ENOENT;
		snprintf(err, errlen, "%s: cannot use \"%s\" as the jail's root: %s", what, dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: \"%s\" is not a directory", what, dir);
		return -ENOTDIR;
	}
	if (!have_sys_admin()) {
		snprintf(err, errlen, "%s: the jail needs root (CAP_SYS_ADMIN for its namespaces and "
			 "mounts; a jail through user namespaces is not built)", what);
		return -EPERM;
	}
	return 0;
}

/* ------------------------------------------------------------- step 1 */

/* The fds above stderr vmmctl was started with (vmm_jail_note_inherited_fds).
 * vmmctl never closes one of them, so none of these numbers is reused by
 * its own opens before the jailed child closes them. */
static int *inherited_fds;
static unsigned n_inherited, n_closed_inherited;

void vmm_jail_note_inherited_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long n = strtol(e->d_name, &end, 10);
		if (e->d_name[0] == '.' || *end || n <= 2 || n == dirfd(d))
			continue;
		int *grown = realloc(inherited_fds, (n_inherited + 1) * sizeof(*grown));
		if (!grown)
			break;
		inherited_fds = grown;
		inherited_fds[n_inherited++] = (int)n;
	}
	closedir(d);
}

unsigned vmm_jail_closed_inherited(void)
{
	return n_closed_inherited;
}

/* The child's end of a pipe whose other end only the parent holds: EOF
 * means the parent is gone (vmm_jail_rearm). */
static int alive_fd = -1;
/* This process's own PID namespace, to go back to before the next boot's
 * unshare(CLONE_NEWPID) (a second unshare is refused while the first one's
 * namespace is still set for children: pid_namespaces(7)). */
static int own_pidns = -1;

int vmm_jail_fork(bool new_pid_ns, int *status, int *forwarded, char *err, size_t errlen)
{
	sigset_t wait_set, old;
	int alive[2];
	pid_t child;

	/* Signals that come from here on wait for sigwaitinfo() in the parent
	 * (or for the child's own handling: the mask is restored there). */
	vmm_stop_signals(&wait_set);
	sigaddset(&wait_set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &wait_set, &old);
	if (new_pid_ns && own_pidns < 0)
		own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	else if (new_pid_ns && setns(own_pidns, CLONE_NEWPID) < 0)
		own_pidns = -1;
	if (pipe2(alive, O_CLOEXEC) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot make a pipe for the machine's process: %s", strerror(e));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -e;
	}
	if (new_pid_ns && (own_pidns < 0 || unshare(CLONE_NEWPID) < 0)) {
		int e = errno;
		snprintf(err, errlen, "jail: cannot make a PID namespace: %s", strerror(e));
		close(alive[0]);
		close(alive[1]);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -e;
	}
	child = fork();
	if (child < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot start the machine's process: %s", strerror(e));
		close(alive[0]);
		close(alive[1]);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -e;
	}
	if (child == 0) {
		struct pollfd p = { .fd = alive[0], .events = POLLIN };

		close(alive[1]);
		if (own_pidns >= 0)
			close(own_pidns); /* not into the jail */
		own_pidns = -1;
		/* Should the parent die, the machine ends as on a user's
		 * SIGTERM.  A parent already gone (before the prctl) shows as
		 * the pipe's other end closed. */
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (poll(&p, 1, 0) > 0)
			_exit(128 + SIGTERM);
		alive_fd = alive[0];
		if (new_pid_ns) {
			for (unsigned i = 0; i < n_inherited; i++)
				close(inherited_fds[i]);
			n_closed_inherited = n_inherited;
			n_inherited = 0;
		}
		vmm_process_forked();
		/* The mask this process had (a later boot's: the parent's,
		 * which blocks everything it waits for), SIGCHLD open. */
		sigemptyset(&wait_set);
		sigaddset(&wait_set, SIGCHLD);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_sigmask(SIG_UNBLOCK, &wait_set, NULL);
		return 0;
	}
	close(alive[0]);
	*forwarded = 0;
	/* The parent: waits, forwards.  The child is in the same process
	 * group, so a terminal's Ctrl-C reaches it directly too; the second
	 * copy is the same pending signal. */
	for (;;) {
		siginfo_t si;
		int ws, sig = sigwaitinfo(&wait_set, &si);

		if (sig < 0)
			continue; /* EINTR */
		if (sig != SIGCHLD) {
			if (!*forwarded)
				*forwarded = sig;
			kill(child, sig);
			continue;
		}
		pid_t r = waitpid(child, &ws, WNOHANG);
		if (r != child)
			continue;
		*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 2;
		break;
	}
	close(alive[1]);
	return 1;
}

void vmm_jail_rearm(void)
{
	struct pollfd p = { .fd = alive_fd, .events = POLLIN };

	if (alive_fd < 0)
		return;
	/* A change of uid or gid clears the parent-death signal (prctl(2),
	 * PR_SET_PDEATHSIG): set it again, then look whether the parent went
	 * meanwhile.  The stop signals are blocked by now: the event loop
	 * takes this one as a user's SIGTERM. */
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (poll(&p, 1, 0) > 0)
		raise(SIGTERM);
	close(alive_fd);
	alive_fd = -1;
}

/* ------------------------------------------------------------- step 2 */

/* The highest fd open, from /proc/self/fd (before the old root goes). */
static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int hi = 2;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char *end;
		long n = strtol(e->d_name, &end, 10);
		if (e->d_name[0] != '.' && !*end && n > hi && n != dirfd(d))
			hi = (int)n;
	}
	closedir(d);
	return hi;
}

/* Lower a limit (never raise it): soft and hard both. */
static int lower_limit(int res, rlim_t want, const char *name, rlim_t *set, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) < 0)
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = want;
	if (setrlimit(res, &rl) < 0) {
		int e = errno;
		snprintf(err, errlen, "jail: cannot set %s to %llu: %s", name, (unsigned long long)want,
			 strerror(e));
		return -e;
	}
	*set = want;
	return 0;
}

#define FAIL(what, ...)                                                                           \
	do {                                                                                      \
		int e_ = errno;                                                                   \
		snprintf(err, errlen, "jail: " what ": %s", __VA_ARGS__, strerror(e_));           \
		return -e_;                                                                       \
	} while (0)

int vmm_jail_enter(struct vmm_jail *j, char *err, size_t errlen)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | (j->new_net ? CLONE_NEWNET : 0);
	rlim_t v;
	int rc;

	/* glibc reads /etc/localtime at the first time conversion: while
	 * the host's is still there. */
	tzset();
	int hi = highest_fd();
	if (hi < 0)
		FAIL("cannot list the open fds (%s)", "/proc/self/fd");

	if (unshare(flags) < 0)
		FAIL("cannot make the %s namespaces", j->new_net ? "mount, IPC, UTS and network" : "mount, IPC and UTS");
	/* Nothing mounted or unmounted from here on reaches the host's
	 * namespace (a shared root would propagate it). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL("cannot make the mounts private (%s)", "/");
	/* pivot_root(2) wants the new root to be a mount point: DIR on
	 * itself, alone (MS_BIND without MS_REC: nothing mounted under DIR
	 * comes along), then without set-uid, devices or exec. */
	if (mount(j->dir, j->dir, NULL, MS_BIND, NULL) < 0)
		FAIL("cannot bind-mount %s", j->dir);
	if (mount(NULL, j->dir, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		FAIL("cannot remount %s nosuid, nodev, noexec", j->dir);
	/* The new root and the old one on the same directory (pivot_root(2),
	 * NOTES: new_root and put_old may be the same): the old root ends on
	 * top, and detaching it leaves only DIR. */
	if (chdir(j->dir) < 0)
		FAIL("cannot enter %s", j->dir);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		FAIL("pivot_root to %s", j->dir);
	if (umount2(".", MNT_DETACH) < 0)
		FAIL("cannot detach the old root (%s)", "/");
	if (chdir("/") < 0)
		FAIL("cannot enter the new root (%s)", "/");

	rc = lower_limit(RLIMIT_NOFILE, (rlim_t)hi + 1 + VMM_JAIL_NOFILE_MARGIN, "RLIMIT_NOFILE", &v, err,
			 errlen);
	if (rc)
		return rc;
	j->nofile = v;
	rc = lower_limit(RLIMIT_AS, j->guest_ram + VMM_JAIL_AS_MARGIN + VMM_JAIL_AS_PER_VCPU * j->vcpus,
			 "RLIMIT_AS", &v, err, errlen);
	if (rc)
		return rc;
	j->as = v;
	rc = lower_limit(RLIMIT_CORE, 0, "RLIMIT_CORE", &v, err, errlen);
	if (rc)
		return rc;
	return 0;
}
