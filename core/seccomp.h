/* core/seccomp.h - vmmctl's system call filters (libseccomp), one per kind
 * of thread.
 *
 * Threads in vmmctl: the main thread (config, plugin loading, machine
 * construction, then the event loop that runs every device's fds and
 * timers, then teardown) and one thread per vCPU (KVM_RUN and the device
 * callbacks for the guest's port and MMIO accesses).  No plugin in the
 * tree starts a thread of its own; the worker allow-list is for one that
 * the core would start for a backend, and vmmctl refuses to run confined
 * when it finds a thread it did not start (see vmm_seccomp_other_threads).
 *
 * Each thread installs its own filter (no SECCOMP_FILTER_FLAG_TSYNC: TSYNC
 * gives every thread the caller's filter, and the lists differ): each vCPU
 * thread as it starts, then the main thread once every vCPU thread exists
 * (so the main loop's list needs no clone()), and only then does any vCPU
 * enter the guest (a barrier in vcpu-loop.c).  Filters are for the life of
 * the thread: the main thread's stays through teardown and exit.
 *
 * A call outside the list: SECCOMP_RET_TRAP, a SIGSYS whose handler
 * (process.c) prints one line naming the call and the thread and exits with
 * VMM_STATUS_SECCOMP.  In "log" mode the call is made and the kernel logs
 * it (SECCOMP_RET_LOG: the audit log, dmesg).
 */
#ifndef VMM_CORE_SECCOMP_H
#define VMM_CORE_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vmm_seccomp_mode { VMM_SECCOMP_ON = 0, VMM_SECCOMP_LOG, VMM_SECCOMP_OFF };
enum vmm_thread_role { VMM_THREAD_MAIN = 0, VMM_THREAD_VCPU, VMM_THREAD_WORKER };

/* "on", "log", "off" -> mode: 0, or -EINVAL. */
int vmm_seccomp_mode_parse(const char *s, enum vmm_seccomp_mode *out);
const char *vmm_seccomp_mode_name(enum vmm_seccomp_mode mode);

/* A system call name this build's libseccomp knows for the host's ABI. */
bool vmm_syscall_name_known(const char *name);

/* The name of system call `nr`, or NULL: async-signal-safe (a static
 * table, core/syscall-names.h). */
const char *vmm_syscall_name(long nr);

/* A filter as a BPF program, built once and loaded by every thread of its
 * role (compiled into vmmctl, or by libseccomp where a plugin declares
 * more calls or in "log" mode; loading is one seccomp(2) call). */
struct sock_filter;
struct vmm_seccomp_prog {
	enum vmm_seccomp_mode mode;
	unsigned short len;
	struct sock_filter *insns;
};

/* `role`'s filter, allowing also the calls named in the `nextra`
 * NULL-terminated lists `extra` (the machine's plugins' declarations);
 * nothing for mode off.  0, or -errno with one line in `err`. */
int vmm_seccomp_build(enum vmm_thread_role role, enum vmm_seccomp_mode mode,
		      const char *const *const *extra, size_t nextra, struct vmm_seccomp_prog *out,
		      char *err, size_t errlen);
/* The same with libseccomp's compiler, always, for architecture `arch`
 * (an SCMP_ARCH_ token; SCMP_ARCH_NATIVE, 0, for this machine's):
 * vmm_seccomp_build's fallback and tools/gen-seccomp-filters.c's source
 * (core/seccomp-compile.c). */
int vmm_seccomp_compile(enum vmm_thread_role role, enum vmm_seccomp_mode mode, uint32_t arch,
			const char *const *const *extra, size_t nextra, struct vmm_seccomp_prog *out,
			char *err, size_t errlen);
/* `role`'s "on" filter for `arch` without extra calls as compiled into
 * vmmctl (core/seccomp-filters.h), its length in *len; NULL if there is
 * none for `arch`. */
const struct sock_filter *vmm_seccomp_precompiled(uint32_t arch, enum vmm_thread_role role,
						 unsigned short *len);
/* Installs it on the calling thread (no_new_privs set first).  0, or
 * -errno with one line in `err`. */
int vmm_seccomp_load(const struct vmm_seccomp_prog *p, char *err, size_t errlen);
void vmm_seccomp_prog_free(struct vmm_seccomp_prog *p);

/* Build and load in one (vmm_seccomp_build, vmm_seccomp_load). */
int vmm_seccomp_install(enum vmm_thread_role role, enum vmm_seccomp_mode mode,
			const char *const *const *extra, size_t nextra, char *err, size_t errlen);

/* Threads of this process beyond `expected` (from /proc/self/task), or -1
 * when that cannot be read.  Uses (and closes) the directory held by
 * vmm_seccomp_hold_tasks() if there is one. */
int vmm_seccomp_other_threads(unsigned expected);
/* The jail (jail.h) shows no /proc: vmmctl opens /proc/self/task before
 * entering it, for the one count above, which closes it (an fd into the
 * host's /proc must not stay in the jail); release closes it unused.
 * 0 or -errno. */
int vmm_seccomp_hold_tasks(void);
void vmm_seccomp_release_tasks(void);

#endif
