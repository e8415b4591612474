/* core/seccomp.c - vmmctl's system call filters (see seccomp.h): the modes,
 * the call names of the SIGSYS line, each role's program (compiled in by
 * core/seccomp-filters.h, or by libseccomp at run time: seccomp-compile.c),
 * loading it on a thread, and the count of threads vmmctl did not start.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "core/seccomp.h"
#include "core/seccomp-filters.h"

static const char *const mode_names[] = {
	[VMM_SECCOMP_ON] = "on", [VMM_SECCOMP_LOG] = "log", [VMM_SECCOMP_OFF] = "off",
};

int vmm_seccomp_mode_parse(const char *s, enum vmm_seccomp_mode *out)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum vmm_seccomp_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *vmm_seccomp_mode_name(enum vmm_seccomp_mode mode)
{
	return (unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[mode] : "?";
}

bool vmm_syscall_name_known(const char *name)
{
	return name && seccomp_syscall_resolve_name(name) >= 0;
}

/* ------------------------------------------------------------- names */

/* Every call this build's kernel headers number, by number: nothing to do
 * at start-up, and a plain array read in the SIGSYS handler. */
static const char *const names[] = {
#include "core/syscall-names.h"
};

const char *vmm_syscall_name(long nr)
{
	return nr >= 0 && (unsigned long)nr < sizeof(names) / sizeof(names[0]) ? names[nr] : NULL;
}

const struct sock_filter *vmm_seccomp_precompiled(uint32_t arch, enum vmm_thread_role role,
						 unsigned short *len)
{
	for (size_t i = 0; i < sizeof(precompiled) / sizeof(precompiled[0]); i++)
		if (precompiled[i].arch == arch && precompiled[i].role == role) {
			*len = precompiled[i].len;
			return precompiled[i].insns;
		}
	return NULL;
}

int vmm_seccomp_build(enum vmm_thread_role role, enum vmm_seccomp_mode mode,
		      const char *const *const *extra, size_t nextra, struct vmm_seccomp_prog *out,
		      char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->mode = mode;
	if (mode == VMM_SECCOMP_OFF)
		return 0;
	/* glibc reads /etc/localtime at the first time conversion of the
	 * process (gmtime_r too: evhttp's Date header); once here, not
	 * behind the filter (found by tests/cli/api.sh). */
	tzset();
	unsigned short len = 0;
	const struct sock_filter *insns =
		mode == VMM_SECCOMP_ON && nextra == 0 ? vmm_seccomp_precompiled(seccomp_arch_native(), role, &len)
						       : NULL;
	if (!insns)
		return vmm_seccomp_compile(role, mode, SCMP_ARCH_NATIVE, extra, nextra, out, err, errlen);
	out->insns = malloc(len * sizeof(*insns));
	if (!out->insns) {
		snprintf(err, errlen, "seccomp: cannot make the filter's program: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	memcpy(out->insns, insns, len * sizeof(*insns));
	out->len = len;
	return 0;
}

int vmm_seccomp_load(const struct vmm_seccomp_prog *p, char *err, size_t errlen)
{
	struct sock_fprog fprog = { .len = p->len, .filter = p->insns };

	if (p->mode == VMM_SECCOMP_OFF)
		return 0;
	/* What seccomp_load() does (SCMP_FLTATR_CTL_NNP, set by vmmctl at
	 * start-up anyway), then the one call, no flags: no TSYNC (each
	 * thread has its own list), no SECCOMP_FILTER_FLAG_LOG. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0 &&
	     (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0))) {
		int e = errno;
		snprintf(err, errlen, "seccomp: cannot install the filter: %s%s", strerror(e),
			 p->mode == VMM_SECCOMP_LOG && e == EINVAL
				 ? " (a kernel without SECCOMP_RET_LOG, before Linux 4.14?)"
				 : "");
		return -e;
	}
	return 0;
}

int vmm_seccomp_install(enum vmm_thread_role role, enum vmm_seccomp_mode mode,
			const char *const *const *extra, size_t nextra, char *err, size_t errlen)
{
	struct vmm_seccomp_prog p;
	int rc = vmm_seccomp_build(role, mode, extra, nextra, &p, err, errlen);

	if (!rc)
		rc = vmm_seccomp_load(&p, err, errlen);
	vmm_seccomp_prog_free(&p);
	return rc;
}

/* /proc/self/task, opened before the jail (see seccomp.h); -1 when not. */
static int held_tasks = -1;

int vmm_seccomp_hold_tasks(void)
{
	if (held_tasks < 0)
		held_tasks = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return held_tasks < 0 ? -errno : 0;
}

void vmm_seccomp_release_tasks(void)
{
	if (held_tasks >= 0)
		close(held_tasks);
	held_tasks = -1;
}

/* Whether a task of our thread group runs user code that the filter
 * would miss: not a kernel worker (KVM's kvm-nx-lpage-recovery since
 * Linux 6.13, vhost: PF_USER_WORKER or PF_KTHREAD in /proc's flags
 * field), and not a thread on its way out.  A thread just joined is still
 * listed a while after pthread_join() returns (the kernel clears its tid,
 * which join waits for, before the task is released): it has PF_EXITING,
 * or is a zombie, or is gone by the time its stat is read, and returns to
 * user space no more. */
static bool live_user_thread(int tasks, const char *tid)
{
	char path[64], buf[512];
	unsigned long flags = 0;
	char state = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/stat", tid);
	fd = openat(tasks, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT && errno != ESRCH; /* gone: released meanwhile */
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errno != ESRCH;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	/* After "pid (comm)": state ppid pgrp session tty_nr tpgid flags */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return true;
	if (state == 'Z' || state == 'X')
		return false;
	return !(flags & (0x00004000ul | 0x00200000ul | 0x00000004ul)); /* workers; PF_EXITING */
}

int vmm_seccomp_other_threads(unsigned expected)
{
	int tasks = held_tasks >= 0 ? held_tasks : open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	/* One use: the held fd reaches the host's /proc from inside a jail. */
	held_tasks = -1;
	if (tasks < 0)
		return -1;
	d = fdopendir(tasks);
	if (!d) {
		close(tasks);
		return -1;
	}
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	/* Only more threads than expected are looked at closely: reading
	 * each one's stat took ~60 us of every start-up's critical path
	 * (the vCPUs wait for this thread's filter). */
	if (n > expected) {
		n = 0;
		rewinddir(d);
		while ((e = readdir(d)))
			if (e->d_name[0] != '.' && live_user_thread(tasks, e->d_name))
				n++;
	}
	closedir(d);
	return n > expected ? (int)(n - expected) : 0;
}
