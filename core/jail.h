/* core/jail.h - vmmctl's optional jail (`vmmctl run --jail DIR`, or
 * `jail { dir = "DIR" }` in the config), built from the kernel's own
 * facilities: namespaces, pivot_root(2) and resource limits.
 *
 * Two steps, because a new PID namespace only takes a process's children
 * (unshare(2): CLONE_NEWPID):
 *
 * 1. vmm_jail_fork(), once the config is read and before anything is
 *    opened: vmmctl unshares its PID namespace and forks (and again for
 *    each boot with on-reset = "restart", jailed or not: each machine is
 *    built and run by a child of its own, so every thread of it is
 *    confined and the next one is built by the parent's fresh child).  The child, PID 1
 *    of the new namespace, goes on to build and run the machine; the
 *    parent stays outside, does nothing but wait, forwards the stop signals
 *    (SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGTERM) to the child and exits
 *    with the child's status (128+N when the child died of signal N), so
 *    `vmmctl run`'s status and its answer to Ctrl-C or kill are unchanged.
 *    The child gets SIGTERM should the parent die (PR_SET_PDEATHSIG).
 *
 * 2. vmm_jail_enter(), in the child once the machine is built (plugins
 *    loaded, /dev/kvm, taps, disk images, char backends' files and
 *    sockets, the API socket, kernel and initrd read) and before the
 *    privilege drop and the first vCPU thread: new mount, IPC and UTS
 *    namespaces, and a network namespace when the machine has no net
 *    backend (a tap's fd would keep working, but net-tap asks for its
 *    link's flags by interface name later, which needs the host's
 *    namespace); DIR bind-mounted (nosuid, nodev, noexec) becomes the root
 *    through pivot_root and the old root is detached; then the limits:
 *    RLIMIT_NOFILE to the highest open fd + 1 + VMM_JAIL_NOFILE_MARGIN,
 *    RLIMIT_AS to the guest's RAM + VMM_JAIL_AS_MARGIN +
 *    VMM_JAIL_AS_PER_VCPU per vCPU, RLIMIT_CORE 0 (a core file would hold
 *    the guest's memory).  Limits are only ever lowered.
 *
 * Error convention: 0 or a negative errno with one line in `err`.
 */
#ifndef VMM_CORE_JAIL_H
#define VMM_CORE_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for what is opened after the jail: the signalfd, control API and
 * char-socket clients. */
#define VMM_JAIL_NOFILE_MARGIN 64
/* Address space beyond guest RAM: vmmctl, its libraries and plugins
 * (about 60 MiB mapped at start-up), malloc's main heap, and per thread a
 * 64 MiB malloc arena reservation (glibc, 64-bit) and a 256 KiB stack. */
#define VMM_JAIL_AS_MARGIN (512ull << 20)
#define VMM_JAIL_AS_PER_VCPU (80ull << 20)

/* The refusals, before anything is built: DIR exists and is a directory,
 * and vmmctl runs as root (CAP_SYS_ADMIN, for the namespaces and mounts:
 * an unprivileged jail through user namespaces is not built).  `what`
 * names the setting ("--jail", "file:line: jail dir") in the line. */
int vmm_jail_check(const char *dir, const char *what, char *err, size_t errlen);

/* At vmmctl's start, before it opens anything: which fds above stderr it
 * inherited (a shell's or supervisor's leftovers).  The jailed child closes
 * them (vmm_jail_fork): an fd open on a host directory or file would reach
 * past the jail's root (openat(2) from it), and nothing vmmctl uses comes
 * to it that way. */
void vmm_jail_note_inherited_fds(void);

/* Step 1 (with a new PID namespace when `new_pid_ns`).  Returns 0 in the
 * child; in the parent, 1 once the child has ended, with its status in
 * *status and the first stop signal forwarded to it in *forwarded (0:
 * none); or -errno (nothing forked). */
int vmm_jail_fork(bool new_pid_ns, int *status, int *forwarded, char *err, size_t errlen);
/* How many inherited fds the jailed child closed (0 unjailed). */
unsigned vmm_jail_closed_inherited(void);
/* In the child, after a uid/gid change (which clears it): the
 * parent-death signal again. */
void vmm_jail_rearm(void);

struct vmm_jail {
	const char *dir;
	bool new_net;        /* the machine has no net backend */
	uint64_t guest_ram;  /* bytes */
	unsigned vcpus;
	/* Out: what was set, for the log line and the tests. */
	uint64_t nofile, as;
};

/* Step 2, on the only thread. */
int vmm_jail_enter(struct vmm_jail *j, char *err, size_t errlen);

#endif
