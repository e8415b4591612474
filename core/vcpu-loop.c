/* core/vcpu-loop.c - the machine running: a thread per vCPU looping in the
 * hypervisor's vcpu_run() and dispatching its exits onto the buses, the
 * main thread's event loop (vmm_machine_run()), the kicks that get a vCPU
 * out of the hypervisor or its halt wait, the seccomp filters both kinds
 * of thread take before the guest's first instruction, pause and resume,
 * and the run's statistics.
 *
 * Threads: the main thread runs the libevent loop (backends' fds, device
 * timers, signals); each vCPU is a thread looping in the hypervisor's
 * vcpu_run() and dispatching exits onto the buses.  A vCPU is kicked out of
 * the hypervisor with vcpu_kick() (immediate exit) plus SIGUSR1.
 *
 * The machine is built and destroyed by core/machine.c; what an exit means
 * on one architecture only (a crash's registers, an x86 instruction's
 * bytes) is in core/arch-*.c.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/arch-arm64.h"
#include "core/arch-x86.h"
#include "core/bus.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/process.h"
#include "core/seccomp.h"
#include "core/table.h"

/* ------------------------------------------------------------ vCPU loop */

void vmm_kick_halted(struct vmm_machine *m)
{
	pthread_mutex_lock(&m->halt_lock);
	pthread_cond_broadcast(&m->halt_cond);
	pthread_mutex_unlock(&m->halt_lock);
}

void vmm_kick_vcpu(struct vmm_machine *m, struct vmm_vcpu *v)
{
	VMM_IN(HV_WHO(m), m->hv_ops->vcpu_kick(v->hv));
	if (v->running && !pthread_equal(v->thread, pthread_self()))
		pthread_kill(v->thread, VMM_KICK_SIGNAL);
}

/* The vCPU whose thread this is (NULL on the main thread): vcpu_tsc is
 * only meaningful between that vCPU's runs, and only that thread gives
 * the hypervisor its interrupt inputs (vmm_apply_cpu_pins()). */
__thread struct vmm_vcpu *vmm_this_vcpu;

static void dispatch_io(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	struct vmm_bus_space *pio = &m->bus[VMM_BUS_PIO];
	unsigned size = e->io.size;
	uint8_t *p = e->io.data;

	for (uint32_t i = 0; i < e->io.count; i++, p += size) {
		uint64_t val = 0;
		if (e->io.is_write) {
			memcpy(&val, p, size);
			vmm_bus_write(pio, v->index, e->io.port, size, val);
		} else {
			vmm_bus_read(pio, v->index, e->io.port, size, &val);
			memcpy(p, &val, size);
		}
	}
}

static void dispatch_mmio(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	struct vmm_bus_space *mmio = &m->bus[VMM_BUS_MMIO];
	uint64_t val = 0;
	unsigned len = e->mmio.len > 8 ? 8 : e->mmio.len;

	if (e->mmio.is_write) {
		memcpy(&val, e->mmio.data, len);
		vmm_bus_write(mmio, v->index, e->mmio.addr, len, val);
	} else {
		vmm_bus_read(mmio, v->index, e->mmio.addr, len, &val);
		memcpy(e->mmio.data, &val, len);
	}
}

static void log_guest_crash(struct vmm_machine *m, struct vmm_vcpu *v, const char *what)
{
	if (vmm_machine_is_arm64(m))
		vmm_arm64_log_crash(m, v->hv, v->index, what);
	else
		vmm_x86_log_crash(m, v->hv, v->index, what);
}

/*
 * A pause parks the vCPU here, halt_lock held, until a resume or a stop.
 * The pausing thread counts the parked vCPUs (park_cond).
 */
static void park_locked(struct vmm_machine *m, struct vmm_vcpu *v)
{
	v->parked = true;
	m->nparked++;
	pthread_cond_broadcast(&m->park_cond);
	while (atomic_load(&m->pause_requested) && !atomic_load(&m->stopping))
		pthread_cond_wait(&m->halt_cond, &m->halt_lock);
	m->nparked--;
	v->parked = false;
}

/* The in-kernel Hyper-V's exit goes to the device that enabled it.  A
 * hypercall nobody answers is one the partition does not offer (TLFS 3.8:
 * HV_STATUS_INVALID_HYPERCALL_CODE). */
static void handle_hyperv(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	const struct vmm_hyperv_client *c = &m->hyperv_client;
	const struct vmm_who *who_prev;

	if (e->hyperv.type == VMM_HYPERV_EXIT_HCALL) {
		e->hyperv.hcall.result = 2; /* HV_STATUS_INVALID_HYPERCALL_CODE */
		if (!m->hyperv_in || !c->hcall)
			return;
		who_prev = vmm_instance_lock(m->hyperv_in);
		e->hyperv.hcall.result = c->hcall(m->hyperv_opaque, v->index, e->hyperv.hcall.input,
						  e->hyperv.hcall.params[0], e->hyperv.hcall.params[1]);
		vmm_instance_unlock(m->hyperv_in, who_prev);
	} else if (e->hyperv.type == VMM_HYPERV_EXIT_SYNIC && m->hyperv_in && c->synic) {
		who_prev = vmm_instance_lock(m->hyperv_in);
		c->synic(m->hyperv_opaque, v->index, e->hyperv.msr, e->hyperv.synic.control,
			 e->hyperv.synic.evt_page, e->hyperv.synic.msg_page);
		vmm_instance_unlock(m->hyperv_in, who_prev);
	}
}

/* One exit; returns false when the vCPU must stop. */
static bool handle_exit(struct vmm_machine *m, struct vmm_vcpu *v, struct vmm_exit *e)
{
	char what[192];

	switch (e->reason) {
	case VMM_EXIT_IO:
		dispatch_io(m, v, e);
		return true;
	case VMM_EXIT_MMIO:
		dispatch_mmio(m, v, e);
		return true;
	case VMM_EXIT_MSR_READ:
		e->msr.error = vmm_bus_read(&m->bus[VMM_BUS_MSR], v->index, e->msr.index, 8,
					    &e->msr.value) != 0;
		return true;
	case VMM_EXIT_MSR_WRITE:
		e->msr.error = vmm_bus_write(&m->bus[VMM_BUS_MSR], v->index, e->msr.index, 8,
					     e->msr.value) != 0;
		return true;
	case VMM_EXIT_INTR:
	case VMM_EXIT_IRQ_WINDOW:
		return true;
	case VMM_EXIT_EOI:
		/* A level-triggered vector ended: the IOAPIC clears remote IRR. */
		for (unsigned i = 0; i < m->nsinks; i++) {
			struct vmm_irq_sink *k = &m->sinks[i];
			if (VMM_TABLE_HAS(k->ops->size, k->ops, struct vmm_irq_controller_ops, eoi)) {
				const struct vmm_who *who_prev = vmm_instance_lock(k->in);
				k->ops->eoi(k->opaque, e->eoi.vector);
				vmm_instance_unlock(k->in, who_prev);
			}
		}
		return true;
	case VMM_EXIT_HALT:
		/* No in-kernel local APIC: sleep until the INTR pin rises or
		 * the machine stops.  A guest that halts with nothing to wake
		 * it (cli; hlt) stays here until SIGTERM, as hardware would. */
		pthread_mutex_lock(&m->halt_lock);
		v->halted = true;
		while (!atomic_load(&m->stopping) && !atomic_load(&v->intr_level)) {
			/* Paused while halted: parked here, so that a
			 * resume finds it still halted (no spurious wake). */
			if (atomic_load(&m->pause_requested))
				park_locked(m, v);
			else
				pthread_cond_wait(&m->halt_cond, &m->halt_lock);
		}
		v->halted = false;
		pthread_mutex_unlock(&m->halt_lock);
		return true;
	case VMM_EXIT_HYPERCALL:
		e->hypercall.ret = (uint64_t)-1000; /* KVM_ENOSYS: no hypercalls yet */
		return true;
	case VMM_EXIT_HYPERV:
		handle_hyperv(m, v, e);
		return true;
	case VMM_EXIT_SYSTEM_EVENT:
		if (e->system_event.type == VMM_SYSTEM_EVENT_SHUTDOWN)
			vmm_machine_stop(m, VMM_STATUS_POWEROFF, "guest power off");
		else if (e->system_event.type == VMM_SYSTEM_EVENT_RESET)
			vmm_machine_stop(m, VMM_STATUS_RESET, "guest reset");
		else {
			log_guest_crash(m, v, "guest reported a crash");
			vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "guest crash");
		}
		return false;
	case VMM_EXIT_SHUTDOWN:
		log_guest_crash(m, v, "triple fault (guest shutdown)");
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "triple fault");
		return false;
	case VMM_EXIT_INTERNAL_ERROR:
		if (e->internal.suberror == 1) { /* KVM_INTERNAL_ERROR_EMULATION */
			char bytes[64];
			bytes[0] = '\0';
			if (!vmm_machine_is_arm64(m))
				vmm_x86_code_bytes_at_rip(m, v->hv, bytes, sizeof(bytes));
			snprintf(what, sizeof(what),
				 "instruction emulation failed%s (hypervisor internal error, suberror 1)", bytes);
		} else {
			snprintf(what, sizeof(what), "hypervisor internal error, suberror %u",
				 e->internal.suberror);
		}
		log_guest_crash(m, v, what);
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "internal error");
		return false;
	case VMM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, hardware reason 0x%" PRIx64, e->fail_entry.reason);
		log_guest_crash(m, v, what);
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "entry failure");
		return false;
	default:
		snprintf(what, sizeof(what), "unhandled exit (hypervisor code %u)", e->unknown.code);
		log_guest_crash(m, v, what);
		vmm_machine_stop(m, VMM_STATUS_GUEST_CRASH, "unknown exit");
		return false;
	}
}

/*
 * The INTR pin: while the controller holds it high, inject its vector as
 * soon as the vCPU can take one, or ask the hypervisor for an exit when it
 * can (an interrupt window).  The acknowledge happens only at injection,
 * as an INTA cycle does, so the controller's priorities stay exact.
 */
static void deliver_intr(struct vmm_machine *m, struct vmm_vcpu *v)
{
	if (!atomic_load_explicit(&v->intr_level, memory_order_acquire)) {
		if (v->window_requested) {
			VMM_IN(HV_WHO(m), m->hv_ops->vcpu_irq_window(v->hv, false));
			v->window_requested = false;
		}
		return;
	}
	if (!VMM_AS(HV_WHO(m), m->hv_ops->vcpu_irq_window(v->hv, true))) {
		v->window_requested = true;
		return;
	}
	v->window_requested = false;
	struct vmm_irq_sink *k = v->intr_sink;
	const struct vmm_who *who_prev = vmm_instance_lock(k->in);
	int vector = k->ops->ack(k->opaque, v->index);
	vmm_instance_unlock(k->in, who_prev);
	if (vector >= 0 && vector <= 255)
		VMM_IN(HV_WHO(m), m->hv_ops->vcpu_inject(v->hv, (uint32_t)vector));
}

/* Exits whose result the hypervisor hands the guest at the next entry. */
static bool exit_needs_reentry(unsigned reason)
{
	switch (reason) {
	case VMM_EXIT_IO:
	case VMM_EXIT_MMIO:
	case VMM_EXIT_MSR_READ:
	case VMM_EXIT_MSR_WRITE:
	case VMM_EXIT_HYPERCALL:
		return true;
	}
	return false;
}

/* Every vCPU thread loads the same program, made by the first one to
 * get here while the main thread makes its own (on another core): a
 * copy of the one compiled into vmmctl, or, with a plugin's extra calls
 * or in "log" mode, one libseccomp build per kind of thread, not one per
 * thread (bench/seccomp-cost.sh). */
static int vcpu_confine(struct vmm_machine *m, char *err, size_t errlen)
{
	int rc = 0;

	if (m->cfg->seccomp == VMM_SECCOMP_OFF)
		return 0;
	pthread_mutex_lock(&m->vcpu_prog_lock);
	if (!m->vcpu_prog_built) {
		m->vcpu_prog_rc = vmm_seccomp_build(VMM_THREAD_VCPU, m->cfg->seccomp, m->seccomp_extra,
						    m->nseccomp_extra, &m->vcpu_prog, m->vcpu_prog_err,
						    sizeof(m->vcpu_prog_err));
		m->vcpu_prog_built = true;
	}
	if (m->vcpu_prog_rc) {
		snprintf(err, errlen, "%s", m->vcpu_prog_err);
		rc = m->vcpu_prog_rc;
	}
	pthread_mutex_unlock(&m->vcpu_prog_lock);
	return rc ? rc : vmm_seccomp_load(&m->vcpu_prog, err, errlen);
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *v = arg;
	struct vmm_machine *m = v->m;
	struct vmm_exit e;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VMM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* A plugin overflowing this thread's stack is reported too. */
	vmm_process_thread_init();
	vmm_this_vcpu = v;

	/* This thread's filter, then wait until the main thread has its own:
	 * no guest instruction runs before every thread is confined. */
	static _Thread_local char name[24];
	snprintf(name, sizeof(name), "vCPU %u", v->index);
	vmm_thread_name = name;
	char err[256];
	if (vcpu_confine(m, err, sizeof(err))) {
		vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u: %s", v->index, err);
		vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
	}
	pthread_mutex_lock(&m->gate_lock);
	while (!m->gate_open)
		pthread_cond_wait(&m->gate_cond, &m->gate_lock);
	pthread_mutex_unlock(&m->gate_lock);

	uint64_t start = monotonic_ns();
	bool can_inject = HV_HAS(m, vcpu_irq_window) && HV_HAS(m, vcpu_inject);
	bool drives_pins = m->irq_mode == VMM_IRQ_EMULATED && HV_HAS(m, vcpu_irq_set);
	e.reason = VMM_EXIT_NONE;
	/* Restored halted (core/snapshot.c): wait as its HLT did. */
	if (v->start_halted) {
		e.reason = VMM_EXIT_HALT;
		handle_exit(m, v, &e);
	}
	while (!atomic_load_explicit(&m->stopping, memory_order_relaxed)) {
		bool completing = false;

		if (atomic_load(&m->pause_requested)) {
			if (!exit_needs_reentry(e.reason)) {
				pthread_mutex_lock(&m->halt_lock);
				park_locked(m, v);
				pthread_mutex_unlock(&m->halt_lock);
				continue;
			}
			/* The I/O, MMIO, MSR or hypercall exit just handled is
			 * finished (its result given to the guest, RIP past the
			 * instruction) only when the vCPU enters the hypervisor
			 * again: KVM's api.rst, KVM_RUN, "the corresponding
			 * operations are complete (and guest state is
			 * consistent) only after userspace has re-entered the
			 * kernel".  Enter with the kick set, which runs no guest
			 * instruction, so a parked vCPU's state (a snapshot's)
			 * never holds a half-done one: an OUT saved before it
			 * completes would be done twice by the restored guest. */
			VMM_IN(HV_WHO(m), m->hv_ops->vcpu_kick(v->hv));
			completing = true;
		}
		if (can_inject && !completing)
			deliver_intr(m, v);
		if (drives_pins)
			vmm_apply_cpu_pins(m, v);
		int rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_run(v->hv, &e));
		if (rc < 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u cannot run: %s", v->index, strerror(-rc));
			vmm_machine_stop(m, VMM_STATUS_ERROR, "vcpu_run failed");
			break;
		}
		if (e.reason < VMM_EXIT__COUNT)
			v->exits[e.reason]++;
		if (!handle_exit(m, v, &e))
			break;
	}
	v->run_ns = monotonic_ns() - start;
	vmm_process_thread_fini();
	return NULL;
}

/*
 * Wait for a stopping vCPU's thread.  One kick should be enough, but a
 * vCPU that is not interrupted (seen once, under load, on a software-
 * nested host: the thread stayed in KVM_RUN) must not hang vmmctl for
 * good, out of reach of SIGTERM: kick it again every 100 ms.
 */
static void join_vcpu(struct vmm_machine *m, struct vmm_vcpu *v)
{
	for (unsigned tries = 1;; tries++) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(v->thread, NULL, &until) != ETIMEDOUT)
			return;
		if (tries == 10)
			vmm_log(VMM_LOG_WARN, NULL, "vCPU %u has not stopped after 1 s; kicking it again",
				v->index);
		vmm_kick_vcpu(m, v);
	}
}

/* The plugins' declared calls (vmm/plugin.h, ABI 1.10): a plugin's code
 * runs on the vCPU threads (its register callbacks) and on the main loop
 * (its fds and timers), so its calls join both lists. */
static int collect_seccomp_extra(struct vmm_machine *m)
{
	size_t n = 0;

	for (struct vmm_instance *in = m->instances; in; in = in->next)
		n++;
	free(m->seccomp_extra);
	m->nseccomp_extra = 0;
	m->seccomp_extra = calloc(n + 1, sizeof(*m->seccomp_extra));
	if (!m->seccomp_extra)
		return -ENOMEM;
	for (struct vmm_instance *in = m->instances; in; in = in->next) {
		const char *const *calls = vmm_plugin_syscalls(in->lp->desc);
		if (calls)
			m->seccomp_extra[m->nseccomp_extra++] = calls;
	}
	return 0;
}

/*
 * The main thread's filter, once every vCPU thread exists (so the list
 * needs no clone()).  A thread vmmctl did not start (a plugin's) would run
 * unconfined: with seccomp on, that is an error.  A caller that builds
 * the next machine on this thread after a reset (cfg->restart_on_reset:
 * open(), KVM_CREATE_VM, clone() for its vCPUs) gets only the vCPU threads
 * confined; vmmctl does not: each boot is a child process of its own
 * (jail.h), which clears the flag.
 */
static void confine_main(struct vmm_machine *m)
{
	enum vmm_seccomp_mode mode = m->cfg->seccomp;
	unsigned started = 0;
	char err[256];

	if (mode == VMM_SECCOMP_OFF || atomic_load(&m->stopping)) {
		vmm_seccomp_release_tasks();
		return;
	}
	for (unsigned i = 0; i < m->nvcpus; i++)
		started += m->vcpus[i].running;
	int others = vmm_seccomp_other_threads(1 + started);
	if (others > 0) {
		vmm_log(mode == VMM_SECCOMP_ON ? VMM_LOG_ERROR : VMM_LOG_WARN, NULL,
			"seccomp: %d thread%s not started by vmmctl (a plugin's) would run unconfined%s", others,
			others == 1 ? "" : "s", mode == VMM_SECCOMP_ON ? "; not running (seccomp = \"log\" or \"off\" to run anyway)" : "");
		if (mode == VMM_SECCOMP_ON) {
			vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
			return;
		}
	}
	if (m->cfg->restart_on_reset) {
		vmm_log(VMM_LOG_DEBUG, NULL, "seccomp: on-reset = restart: the main thread stays unconfined");
		return;
	}
	if (vmm_seccomp_install(VMM_THREAD_MAIN, mode, m->seccomp_extra, m->nseccomp_extra, err,
				sizeof(err))) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s", err);
		vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
	}
}
static void kick_handler(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

/* Takes one stop signal from the machine's signalfd; false when none is
 * pending. */
static bool take_signal(struct vmm_machine *m, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	int sig = (int)si.ssi_signo;
	vmm_log(VMM_LOG_INFO, NULL, "%s received, stopping the VM", vmm_signal_name(sig));
	/* The user's signal outranks whatever the guest asked for in the
	 * same moment: a reset that won the race to stop must not turn it
	 * into a restart (on-reset = restart would then never end). */
	atomic_store(&m->signalled, sig);
	vmm_machine_stop(m, 128 + sig, "signal");
	return true;
}

static void signal_event(evutil_socket_t sfd, short what, void *arg)
{
	take_signal(arg, sfd);
}
int vmm_machine_run(struct vmm_machine *m)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set, old, term;
	struct event *sig_ev = NULL;

	if (m->checking) {
		/* Its backends are stand-ins: nothing would reach the host. */
		vmm_log(VMM_LOG_ERROR, NULL, "a machine built by check does not run");
		return VMM_STATUS_ERROR;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(VMM_KICK_SIGNAL, &sa, NULL);
	/*
	 * The stop signals (SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGTERM: see
	 * process.h) stay blocked in every thread and are read from a
	 * signalfd by the event loop.  A blocked signal stays pending until it
	 * is read, so one that comes while the guest is already stopping (an
	 * instant reset racing the user's Ctrl-C) is never lost: it ends the
	 * run here.  (While a machine is built, vmmctl takes them itself:
	 * process.h.)  vCPU threads inherit this
	 * mask; only they unblock the kick signal.
	 */
	vmm_stop_signals(&term);
	set = term;
	sigaddset(&set, VMM_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int sfd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd >= 0)
		sig_ev = event_new(m->base, sfd, EV_READ | EV_PERSIST, signal_event, m);
	if (!sig_ev || event_add(sig_ev, NULL) != 0)
		vmm_log(VMM_LOG_WARN, NULL, "cannot watch the stop signals: %s", strerror(errno));

	m->gate_open = false;
	if (m->cfg->seccomp != VMM_SECCOMP_OFF) {
		if (collect_seccomp_extra(m)) {
			vmm_log(VMM_LOG_ERROR, NULL, "seccomp: out of memory");
			vmm_machine_stop(m, VMM_STATUS_ERROR, "seccomp");
		}
	}
	/* A restored machine's virtual clock goes on from the snapshot's
	 * (clock_base, set by vmm_machine_restore()), so device timers keep
	 * their deadlines; a new machine's starts at 0. */
	m->t0 = monotonic_ns() - m->clock_base;
	m->started_ns = monotonic_ns();
	for (unsigned i = 0; i < m->nvcpus && !atomic_load(&m->stopping); i++) {
		struct vmm_vcpu *v = &m->vcpus[i];
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		/* Dispatch needs little stack; a smaller one keeps RSS down. */
		pthread_attr_setstacksize(&attr, 256 * 1024);
		v->running = pthread_create(&v->thread, &attr, vcpu_thread, v) == 0;
		pthread_attr_destroy(&attr);
		if (!v->running) {
			vmm_log(VMM_LOG_ERROR, NULL, "cannot start vCPU %u thread", i);
			vmm_machine_stop(m, VMM_STATUS_ERROR, "thread creation failed");
			break;
		}
	}
	confine_main(m);
	pthread_mutex_lock(&m->gate_lock);
	m->gate_open = true;
	pthread_cond_broadcast(&m->gate_cond);
	pthread_mutex_unlock(&m->gate_lock);
	if (!atomic_load(&m->stopping))
		event_base_dispatch(m->base);
	/* The loop ends only through vmm_machine_stop(). */
	vmm_machine_stop(m, VMM_STATUS_ERROR, "event loop ended");
	for (unsigned i = 0; i < m->nvcpus; i++) {
		if (m->vcpus[i].running)
			join_vcpu(m, &m->vcpus[i]);
		m->vcpus[i].running = false;
	}
	/* A signal that came as the guest stopped still counts. */
	if (sfd >= 0 && !atomic_load(&m->signalled))
		take_signal(m, sfd);
	if (sig_ev)
		event_free(sig_ev);
	if (sfd >= 0)
		close(sfd);
	/* The caller's mask again: vmmctl keeps SIGINT/SIGTERM blocked
	 * between machines, so what came during teardown waits for the
	 * next machine or vmmctl's exit. */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (atomic_load(&m->signalled))
		m->status = 128 + atomic_load(&m->signalled);
	return m->status;
}

static const char *const exit_names[VMM_EXIT__COUNT] = {
	[VMM_EXIT_NONE] = "none", [VMM_EXIT_IO] = "io", [VMM_EXIT_MMIO] = "mmio",
	[VMM_EXIT_MSR_READ] = "msr-read", [VMM_EXIT_MSR_WRITE] = "msr-write", [VMM_EXIT_HALT] = "halt",
	[VMM_EXIT_SHUTDOWN] = "shutdown", [VMM_EXIT_SYSTEM_EVENT] = "system-event",
	[VMM_EXIT_HYPERCALL] = "hypercall", [VMM_EXIT_INTERNAL_ERROR] = "internal-error",
	[VMM_EXIT_FAIL_ENTRY] = "fail-entry", [VMM_EXIT_IRQ_WINDOW] = "irq-window",
	[VMM_EXIT_INTR] = "intr", [VMM_EXIT_UNKNOWN] = "unknown", [VMM_EXIT_EOI] = "eoi",
	[VMM_EXIT_HYPERV] = "hyperv",
};

uint64_t vmm_machine_started_ns(const struct vmm_machine *m)
{
	return m->started_ns;
}

const char *vmm_exit_reason_name(unsigned reason)
{
	return reason < VMM_EXIT__COUNT && exit_names[reason] ? exit_names[reason] : "?";
}

int vmm_machine_stats_get(struct vmm_machine *m, struct vmm_machine_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->vcpu = calloc(m->nvcpus ? m->nvcpus : 1, sizeof(*st->vcpu));
	if (!st->vcpu)
		return -ENOMEM;
	st->nvcpus = m->nvcpus;
	for (unsigned i = 0; i < m->nvcpus; i++) {
		struct vmm_vcpu *v = &m->vcpus[i];
		struct vmm_vcpu_exit_stats *vs = &st->vcpu[i];
		for (unsigned r = 0; r < VMM_EXIT__COUNT; r++) {
			/* Written by the vCPU's thread alone: a running
			 * one's count may be one exit behind. */
			vs->exits[r] = __atomic_load_n(&v->exits[r], __ATOMIC_RELAXED);
			vs->total += vs->exits[r];
		}
		vs->run_us = v->run_ns / 1000;
	}
	for (int b = 0; b < VMM_BUS_COUNT; b++) {
		struct vmm_bus_space *bus = &m->bus[b];
		struct vmm_bus_stats *bs = &st->bus[b];
		bs->name = bus->name;
		bs->regions = atomic_load(&bus->map) ? vmm_bus_count(bus) : 0;
		bs->unclaimed_reads = (uint64_t)bus->unclaimed_reads;
		bs->unclaimed_writes = (uint64_t)bus->unclaimed_writes;
		bs->refused_sizes = (uint64_t)bus->refused;
		bs->device_errors = (uint64_t)bus->device_errors;
	}
	for (unsigned i = 0; i < VMM_MAX_IRQ_LINES; i++)
		if (m->irq[i].irqfd >= 0 && st->nirqfds < sizeof(st->irqfd_lines) / sizeof(st->irqfd_lines[0]))
			st->irqfd_lines[st->nirqfds++] = i;
	st->guest_errors = (uint64_t)m->guest_errors;
	return 0;
}

void vmm_machine_stats_free(struct vmm_machine_stats *st)
{
	free(st->vcpu);
	st->vcpu = NULL;
}

void vmm_machine_print_stats(struct vmm_machine *m, FILE *f)
{
	struct vmm_machine_stats st;

	if (vmm_machine_stats_get(m, &st)) {
		fprintf(f, "stats: out of memory\n");
		return;
	}
	for (unsigned i = 0; i < st.nvcpus; i++) {
		const struct vmm_vcpu_exit_stats *vs = &st.vcpu[i];
		fprintf(f, "vcpu%u exits:", i);
		for (unsigned r = 0; r < VMM_EXIT__COUNT; r++)
			if (vs->exits[r])
				fprintf(f, " %s=%" PRIu64, exit_names[r], vs->exits[r]);
		fprintf(f, " total=%" PRIu64 " run_us=%" PRIu64 "\n", vs->total, vs->run_us);
	}
	for (int b = 0; b < VMM_BUS_COUNT; b++) {
		const struct vmm_bus_stats *bs = &st.bus[b];
		fprintf(f, "%s bus: regions=%zu unclaimed-reads=%" PRIu64 " unclaimed-writes=%" PRIu64
			" refused-sizes=%" PRIu64 " device-errors=%" PRIu64 "\n",
			bs->name, bs->regions, bs->unclaimed_reads, bs->unclaimed_writes, bs->refused_sizes,
			bs->device_errors);
	}
	fprintf(f, "irq: %u line(s) by irqfd", st.nirqfds);
	for (unsigned i = 0; i < st.nirqfds; i++)
		fprintf(f, "%s%u", i ? " " : " (", st.irqfd_lines[i]);
	fprintf(f, "%s\n", st.nirqfds ? ")" : "");
	fprintf(f, "guest errors logged by devices: %" PRIu64 "\n", st.guest_errors);
	vmm_machine_stats_free(&st);
}

/* ------------------------------------------------------- pause, resume */

int vmm_machine_pause(struct vmm_machine *m)
{
	if (atomic_load(&m->stopping))
		return -ESHUTDOWN;
	if (!m->started_ns)
		return -EAGAIN;
	pthread_mutex_lock(&m->halt_lock);
	if (atomic_load(&m->pause_requested)) {
		pthread_mutex_unlock(&m->halt_lock);
		return -EALREADY;
	}
	atomic_store(&m->pause_requested, true);
	/* Every vCPU: one whose thread is still starting parks as it enters
	 * its loop (a thread that could not start stops the machine). */
	unsigned want = m->nvcpus;
	/* A vCPU in the hypervisor leaves it at the kick; one halted in
	 * the core's own wait (halt_cond) parks there.  As in join_vcpu(),
	 * a kick that did not land is repeated every 100 ms. */
	for (unsigned tries = 0; m->nparked < want && !atomic_load(&m->stopping) && tries < 50; tries++) {
		struct timespec until;

		for (unsigned i = 0; i < m->nvcpus; i++)
			if (m->vcpus[i].hv && !m->vcpus[i].parked)
				vmm_kick_vcpu(m, &m->vcpus[i]);
		pthread_cond_broadcast(&m->halt_cond);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (m->nparked < want && !atomic_load(&m->stopping) &&
		       pthread_cond_timedwait(&m->park_cond, &m->halt_lock, &until) != ETIMEDOUT)
			;
	}
	int rc = 0;
	if (atomic_load(&m->stopping))
		rc = -ESHUTDOWN;
	else if (m->nparked < want)
		rc = -ETIMEDOUT;
	if (rc) {
		atomic_store(&m->pause_requested, false);
		pthread_cond_broadcast(&m->halt_cond);
	}
	pthread_mutex_unlock(&m->halt_lock);
	if (rc == -ETIMEDOUT)
		vmm_log(VMM_LOG_WARN, NULL, "pause: %u of %u vCPUs parked in 5 s; running on", m->nparked, want);
	return rc;
}

int vmm_machine_resume(struct vmm_machine *m)
{
	if (atomic_load(&m->stopping))
		return -ESHUTDOWN;
	pthread_mutex_lock(&m->halt_lock);
	if (!atomic_load(&m->pause_requested)) {
		pthread_mutex_unlock(&m->halt_lock);
		return -EALREADY;
	}
	atomic_store(&m->pause_requested, false);
	pthread_cond_broadcast(&m->halt_cond);
	pthread_mutex_unlock(&m->halt_lock);
	return 0;
}

enum vmm_machine_state vmm_machine_state(struct vmm_machine *m)
{
	if (atomic_load(&m->stopping))
		return VMM_MACHINE_STOPPING;
	if (!m->started_ns)
		return VMM_MACHINE_CREATED;
	/* vmm_machine_pause() returns only once all are parked. */
	return atomic_load(&m->pause_requested) ? VMM_MACHINE_PAUSED : VMM_MACHINE_RUNNING;
}

const char *vmm_machine_state_name(enum vmm_machine_state s)
{
	switch (s) {
	case VMM_MACHINE_CREATED: return "created";
	case VMM_MACHINE_RUNNING: return "running";
	case VMM_MACHINE_PAUSED: return "paused";
	case VMM_MACHINE_STOPPING: return "stopping";
	}
	return "?";
}

bool vmm_machine_vcpu_parked(struct vmm_machine *m, unsigned i)
{
	pthread_mutex_lock(&m->halt_lock);
	bool parked = i < m->nvcpus && m->vcpus[i].parked;
	pthread_mutex_unlock(&m->halt_lock);
	return parked;
}
