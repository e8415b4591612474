/* core/process.c - vmmctl as a process (see process.h).
 *
 * Everything a signal handler here does is async-signal-safe: the line it
 * prints is put together with plain byte copies from strings that exist
 * before the signal (the plugin's path and its "instance 'name'" text),
 * then write(2), tcsetattr() with the settings saved at start-up, _exit().
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/process.h"
#include "core/seccomp.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS (linux/signal.h) */
#endif

_Thread_local const struct vmm_who *vmm_who_now;
_Thread_local const char *vmm_thread_name;

/* The terminal as vmmctl found it: whatever a plugin did to it (the stdio
 * backend's raw mode), this is what the user gets back. */
static struct termios startup_tio;
static bool startup_tio_saved;

/* 64 KiB: glibc's own fault reporting and our line fit with room. */
#define ALT_STACK_SIZE (64 * 1024)

static void restore_terminal(void)
{
	if (startup_tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &startup_tio);
}

struct line {
	char buf[1024];
	size_t len;
};

static void put(struct line *l, const char *s)
{
	while (s && *s && l->len < sizeof(l->buf) - 3)
		l->buf[l->len++] = *s++;
}

static void put_int(struct line *l, long v)
{
	char d[24];
	int n = 0;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;

	do
		d[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < (int)sizeof(d));
	if (v < 0)
		put(l, "-");
	while (n)
		put(l, (char[]){ d[--n], '\0' });
}

/* "\r\n": the terminal may still be raw when the line goes out. */
static void emit(struct line *l)
{
	l->buf[l->len++] = '\r';
	l->buf[l->len++] = '\n';
	for (size_t off = 0; off < l->len;) {
		ssize_t n = write(STDERR_FILENO, l->buf + off, l->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

const char *vmm_signal_name(int sig)
{
	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGUSR2: return "SIGUSR2";
	case SIGSEGV: return "SIGSEGV";
	case SIGTERM: return "SIGTERM";
	case SIGSYS: return "SIGSYS";
	default: return "a signal";
	}
}

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS };
static const int stop_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGTERM };
/* Those vmmctl was started with ignored (nohup, a shell's background job):
 * the user asked for that, so they stay ignored. */
static sigset_t ignored_at_start;

static void fatal_signal(int sig, siginfo_t *si, void *uc)
{
	static atomic_flag reporting = ATOMIC_FLAG_INIT;
	const struct vmm_who *w = vmm_who_now;
	struct line l = { .len = 0 };

	(void)uc;
	/* Two threads faulting at once: the first one reports and exits. */
	if (atomic_flag_test_and_set(&reporting))
		for (;;)
			pause();
	/* Sent by another process (kill -SEGV): not the plugin's doing. */
	bool sent = si && si->si_code == SI_USER && si->si_pid != getpid();
	restore_terminal();
	if (sig == SIGSYS && si && si->si_code == SYS_SECCOMP) {
		/* A call outside this thread's seccomp allow-list
		 * (seccomp.h): whoever made it, one line and VMM_STATUS_SECCOMP. */
		const char *name = vmm_syscall_name(si->si_syscall);
		put(&l, "vmmctl: fatal: system call ");
		put(&l, name ? name : "number ");
		if (!name)
			put_int(&l, si->si_syscall);
		put(&l, " is not allowed on the ");
		put(&l, vmm_thread_name ? vmm_thread_name : "main");
		put(&l, " thread (seccomp)");
		if (w) {
			put(&l, ", called in plugin ");
			put(&l, w->path);
			put(&l, " (");
			put(&l, w->what);
			put(&l, ")");
		}
		put(&l, ": exiting with status ");
		put_int(&l, VMM_STATUS_SECCOMP);
		emit(&l);
		_exit(VMM_STATUS_SECCOMP);
	}
	put(&l, "vmmctl: fatal: ");
	put(&l, vmm_signal_name(sig));
	if (w && !sent) {
		put(&l, " in plugin ");
		put(&l, w->path);
		put(&l, " (");
		put(&l, w->what);
		put(&l, "): exiting with status ");
		put_int(&l, VMM_STATUS_PLUGIN_FAULT);
		emit(&l);
		_exit(VMM_STATUS_PLUGIN_FAULT);
	}
	put(&l, sent ? " sent by another process" : " in vmmctl itself (no plugin code was running)");
	emit(&l);
	/* vmmctl's own bug: die of the signal, core dump and all.  The signal
	 * is blocked in its handler, so it strikes as soon as this returns. */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A plugin calling exit() (in its constructor, or in a callback) would end
 * vmmctl with whatever status it chose, the VM not torn down.  glibc's
 * on_exit() hands this handler that status; the marker says whose exit()
 * it was.  vmmctl's own exit (main returning) has no marker set. */
static bool probe_child;

void vmm_process_probe_child(void)
{
	probe_child = true;
}

static void exit_guard(int status, void *arg)
{
	const struct vmm_who *w = vmm_who_now;
	struct line l = { .len = 0 };

	(void)arg;
	if (!w || probe_child)
		return;
	restore_terminal();
	put(&l, "vmmctl: fatal: plugin ");
	put(&l, w->path);
	put(&l, " (");
	put(&l, w->what);
	put(&l, ") called exit(");
	put_int(&l, status);
	put(&l, "): exiting with status ");
	put_int(&l, VMM_STATUS_PLUGIN_FAULT);
	emit(&l);
	_exit(VMM_STATUS_PLUGIN_FAULT);
}

static _Thread_local void *alt_stack;

void vmm_process_thread_init(void)
{
	stack_t ss = { .ss_size = ALT_STACK_SIZE };

	if (alt_stack)
		return;
	ss.ss_sp = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ss.ss_sp == MAP_FAILED)
		return; /* faults are still reported, a stack overflow is not */
	if (sigaltstack(&ss, NULL) < 0) {
		munmap(ss.ss_sp, ALT_STACK_SIZE);
		return;
	}
	alt_stack = ss.ss_sp;
}

void vmm_process_thread_fini(void)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	if (!alt_stack)
		return;
	sigaltstack(&ss, NULL);
	munmap(alt_stack, ALT_STACK_SIZE);
	alt_stack = NULL;
}

void vmm_process_init(void)
{
	struct sigaction sa = { .sa_sigaction = fatal_signal, .sa_flags = SA_SIGINFO | SA_ONSTACK };

	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &startup_tio) == 0)
		startup_tio_saved = true;
	vmm_process_thread_init();
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	on_exit(exit_guard, NULL);
	sigemptyset(&ignored_at_start);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		struct sigaction old;
		if (sigaction(stop_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			sigaddset(&ignored_at_start, stop_signals[i]);
	}
}

void vmm_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		if (sigismember(&ignored_at_start, stop_signals[i]) != 1)
			sigaddset(set, stop_signals[i]);
}

/* ------------------------------------------------------------- start-up */

static volatile sig_atomic_t startup_sig;
static timer_t watchdog;
static bool watchdog_ready;

/* Half a second after a stop signal, start-up has still not come back to
 * look: end here, without teardown, rather than make the user reach for
 * SIGKILL and leave the terminal raw. */
static void startup_watchdog(int sig)
{
	struct line l = { .len = 0 };
	int stop = startup_sig;

	(void)sig;
	restore_terminal();
	put(&l, "vmmctl: ");
	put(&l, vmm_signal_name(stop));
	put(&l, " during start-up, which did not return to check it: exiting without teardown");
	emit(&l);
	_exit(128 + stop);
}

static void startup_signal(int sig)
{
	struct itimerspec half = { .it_value = { .tv_sec = 0, .tv_nsec = 500 * 1000 * 1000 } };

	if (startup_sig)
		return;
	startup_sig = sig;
	if (watchdog_ready)
		timer_settime(watchdog, 0, &half, NULL);
}

static void watchdog_make(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
	struct sigaction wa = { .sa_handler = startup_watchdog };

	sigemptyset(&wa.sa_mask);
	sigaction(SIGALRM, &wa, NULL);
	watchdog_ready = timer_create(CLOCK_MONOTONIC, &sev, &watchdog) == 0;
}

void vmm_process_forked(void)
{
	/* A POSIX timer is not inherited by fork(): the child makes its own. */
	if (watchdog_ready)
		watchdog_make();
}

void vmm_startup_begin(void)
{
	struct sigaction sa = { .sa_handler = startup_signal }; /* no SA_RESTART */
	sigset_t set;

	if (!watchdog_ready)
		watchdog_make();
	vmm_stop_signals(&set);
	sa.sa_mask = set; /* one at a time: the first is the one recorded */
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&set, sig) == 1)
			sigaction(sig, &sa, NULL);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int vmm_startup_end(void)
{
	struct itimerspec off = { .it_value = { 0, 0 } };
	sigset_t set;

	vmm_stop_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (watchdog_ready)
		timer_settime(watchdog, 0, &off, NULL);
	int sig = startup_sig;
	startup_sig = 0;
	return sig;
}
