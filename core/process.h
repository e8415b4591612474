/* core/process.h - vmmctl as a process: which plugin is running, fatal
 * signals, the signals that stop the VM, the terminal, exit() by plugins.
 *
 * Plugins run in vmmctl's process, so a plugin that faults takes vmmctl
 * down.  The core marks every call into plugin code with the plugin's file
 * and instance (a thread-local pointer store on the way in and out), and
 * the fatal signal handler names them in one line, restores the terminal
 * and exits with VMM_STATUS_PLUGIN_FAULT. */
#ifndef VMM_CORE_PROCESS_H
#define VMM_CORE_PROCESS_H

#include <signal.h>
#include <stdbool.h>

/* Who the core is calling: both strings live as long as the marker is set. */
struct vmm_who {
	const char *path; /* the plugin's file */
	const char *what; /* "instance 'com1'", "while loading it", ... */
};

/* This thread's name in a seccomp line ("vCPU 0"); NULL: "main". */
extern _Thread_local const char *vmm_thread_name;

/* The plugin code this thread is in, or NULL for the core's own. */
extern _Thread_local const struct vmm_who *vmm_who_now;

static inline const struct vmm_who *vmm_who_enter(const struct vmm_who *w)
{
	const struct vmm_who *prev = vmm_who_now;
	vmm_who_now = w;
	return prev;
}

static inline void vmm_who_leave(const struct vmm_who *prev)
{
	vmm_who_now = prev;
}

/* Run a statement (VMM_IN) or evaluate an expression (VMM_AS) as plugin
 * code of `who`.  Nesting is fine: a plugin calling the host, which calls
 * another plugin, gets its own marker back afterwards. */
#define VMM_IN(who, ...)                                                         \
	do {                                                                     \
		const struct vmm_who *vmm_prev_ = vmm_who_enter(who);            \
		__VA_ARGS__;                                                     \
		vmm_who_leave(vmm_prev_);                                        \
	} while (0)
#define VMM_AS(who, ...)                                                         \
	({                                                                       \
		const struct vmm_who *vmm_prev_ = vmm_who_enter(who);            \
		__typeof__(__VA_ARGS__) vmm_ret_ = (__VA_ARGS__);                \
		vmm_who_leave(vmm_prev_);                                        \
		vmm_ret_;                                                        \
	})

/* Once, first thing in main(): saves the terminal's settings, catches the
 * fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, and SIGSYS: a
 * call a seccomp filter refuses, named with its thread) on an alternate
 * stack, ignores SIGPIPE (a reader that went away is a write error, not
 * the end of vmmctl) and reports a plugin's exit(). */
void vmm_process_init(void);
/* In a child that loads a file to see whether it is safe (loader.c): a
 * plugin's exit() ends the child with the plugin's status, unreported. */
void vmm_process_probe_child(void);
/* Each thread that runs plugin code calls these at its start and end: the
 * alternate signal stack, so a stack overflow is reported too. */
void vmm_process_thread_init(void);
void vmm_process_thread_fini(void);

/* The signals that end the VM cleanly: SIGHUP, SIGINT, SIGQUIT, SIGUSR2 and
 * SIGTERM, less those vmmctl was started with ignored (nohup). */
void vmm_stop_signals(sigset_t *set);
/* "SIGTERM" and the like, for log lines. */
const char *vmm_signal_name(int sig);

/*
 * Start-up (config, plugins, machine creation): the stop signals are
 * unblocked with a handler that records the first one and interrupts the
 * system call in progress (no SA_RESTART), so vmmctl notices between two
 * steps and tears down what it built.  Should the step not return (a
 * plugin that retries its open()), vmmctl exits without teardown half a
 * second after the signal, the terminal restored.  startup_end() blocks
 * them again and returns the signal that came meanwhile, or 0.
 */
void vmm_startup_begin(void);
int vmm_startup_end(void);
/* In a child of fork() that carries on with start-up (the jail, jail.h):
 * its own start-up watchdog timer. */
void vmm_process_forked(void);

#endif
