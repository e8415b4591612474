/* Machine loop tests: a whole machine built from a config, with the fake
 * hypervisor fake-vcpu-hv and the device fake-hook-dev (tests/fixtures/),
 * runs on real vCPU threads and the real main loop.  The test thread plays
 * the guest: each guest_*() call hands one exit to a vCPU and waits until
 * the core has dispatched it.
 *
 * No /dev/kvm, no root.  Every wait is bounded: a deadlock or a vCPU that
 * never stops ends the test as a FAIL (an alarm ends the whole program
 * with a message when even that does not come back). */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/arch-arm64.h"
#include "core/fdt.h"
#include "core/log.h"
#include "core/power.h"
#include "core/state.h"
#include "tests/fixtures/fake-hook-dev.h"
#include "tests/fixtures/fake-vcpu-hv.h"

#define DEV_PORT 0x80
#define DEV_IRQ 10
#define WAIT_S 5        /* bound of each wait for the machine */
#define WATCHDOG_S 20   /* bound of a whole test, should one wait not return */

/* Device commands (0 and 1 drive the line, see fake-hook-dev.h). */
enum {
	CMD_CANCEL_WHILE_DUE = 2, /* timer 0 due, its callback waiting for us: cancel it */
	CMD_REARM_WHILE_DUE,      /* the same, held 2 * REARM_NS, re-armed REARM_NS later */
	CMD_BARRIER,              /* timer 1 at once: its callback runs after what the loop runs now */
};
#define REARM_NS (5 * 1000 * 1000ull)

/* ------------------------------------------------------------ the guest */

/* One vCPU as the test drives it.  `posted` counts exits handed over,
 * `done` those the core has dispatched: the vCPU is back in vcpu_run(). */
struct guest_cpu {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vmm_exit exit;
	struct vmm_exit handled;   /* the last exit as the core left it (its results) */
	bool has_exit;
	unsigned long posted, taken, done;
	bool in_run;               /* waiting inside vcpu_run() */
	unsigned kicks;            /* vcpu_kick() calls */
	unsigned kicks_ignored;    /* the first N kicks do not end the run */
	unsigned kicks_in_run;     /* kicks that came while in_run */
	unsigned kick_pending;     /* kicks that will end the run */
	unsigned intr_exits;       /* runs ended by a kick */
	uint8_t io[8];
};

struct fixture {
	char dir[64];
	struct vmm_plugin_set *ps;
	struct vmm_machine_config *mc;
	struct vmm_machine *m;
	struct fake_vm *vm;
	struct fake_hook_dev *dev;
	struct guest_cpu cpu[2];
	pthread_t thread;
	bool running;
	pid_t main_tid;          /* the machine's main loop */
	int status;

	/* Results from the device's hooks, under `lock`. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool main_blocked;       /* the main loop was seen waiting for the device */
	unsigned timer0_fired;
	uint64_t timer0_first_ns, deadline;
	unsigned barriers;
};

static struct fixture *F;
static char plugin_path[4200];
/* More config lines for machine_create(), e.g. a second device. */
static const char *machine_extra = "";

static void deadline_in(struct timespec *ts, unsigned s)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += s;
}

/* pthread_cond_wait with the common bound: false when it ran out. */
static bool wait_bounded(pthread_cond_t *c, pthread_mutex_t *l, const struct timespec *until)
{
	return pthread_cond_timedwait(c, l, until) != ETIMEDOUT;
}

static int guest_run(void *ctx, unsigned index, struct vmm_exit *e)
{
	struct guest_cpu *c = &((struct fixture *)ctx)->cpu[index];

	pthread_mutex_lock(&c->lock);
	c->handled = *e;
	c->done = c->taken; /* back here: the previous exit is dispatched */
	c->in_run = true;
	pthread_cond_broadcast(&c->cond);
	while (!c->has_exit && !c->kick_pending)
		pthread_cond_wait(&c->cond, &c->lock);
	c->in_run = false;
	if (c->has_exit) {
		*e = c->exit;
		if (e->reason == VMM_EXIT_IO)
			e->io.data = c->io;
		c->has_exit = false;
		c->taken = c->posted;
	} else {
		memset(e, 0, sizeof(*e));
		e->reason = VMM_EXIT_INTR;
		c->kick_pending = 0;
		c->intr_exits++;
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void guest_kick(void *ctx, unsigned index)
{
	struct guest_cpu *c = &((struct fixture *)ctx)->cpu[index];

	pthread_mutex_lock(&c->lock);
	if (c->in_run)
		c->kicks_in_run++;
	if (++c->kicks > c->kicks_ignored)
		c->kick_pending++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Hand exit `e` to vCPU `index`; with `wait`, return once the core has
 * dispatched it.  False when the vCPU did not come back in time. */
static bool guest_exit(unsigned index, const struct vmm_exit *e, const void *data, bool wait)
{
	struct guest_cpu *c = &F->cpu[index];
	struct timespec until;
	bool ok = true;

	deadline_in(&until, WAIT_S);
	pthread_mutex_lock(&c->lock);
	c->exit = *e;
	if (data)
		memcpy(c->io, data, e->io.size);
	c->has_exit = true;
	unsigned long seq = ++c->posted;
	pthread_cond_broadcast(&c->cond);
	while (wait && ok && c->done < seq)
		ok = wait_bounded(&c->cond, &c->lock, &until);
	pthread_mutex_unlock(&c->lock);
	return ok;
}

static void guest_outb(uint16_t port, uint8_t value)
{
	const struct vmm_exit e = { .reason = VMM_EXIT_IO,
				    .io = { .port = port, .size = 1, .is_write = 1, .count = 1 } };

	if (!guest_exit(0, &e, &value, true))
		fail_msg("outb 0x%x to port 0x%x: the vCPU did not come back in %d s", value, port,
			 WAIT_S);
}

static void guest_power_off(unsigned index)
{
	const struct vmm_exit e = { .reason = VMM_EXIT_SYSTEM_EVENT,
				    .system_event = { .type = VMM_SYSTEM_EVENT_SHUTDOWN } };

	guest_exit(index, &e, NULL, false);
}

/* True once vCPU `index` waits in vcpu_run() (bounded). */
static bool guest_wait_in_run(unsigned index)
{
	struct guest_cpu *c = &F->cpu[index];
	struct timespec until;
	bool ok = true;

	deadline_in(&until, WAIT_S);
	pthread_mutex_lock(&c->lock);
	while (ok && !c->in_run)
		ok = wait_bounded(&c->cond, &c->lock, &until);
	pthread_mutex_unlock(&c->lock);
	return ok;
}

/* ------------------------------------------------------------ the machine */

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Build the machine: `hv` is the body of the hypervisor section, `dev`
 * of the device's.  No seccomp: this process is cmocka's, with threads
 * vmmctl would not have (the machine runs on one of the test's own), and
 * the fake hypervisor's vCPUs call back into the test; the filters are
 * tested on vmmctl itself (tests/cli/seccomp.sh). */
static void machine_create(unsigned vcpus, const char *hv, const char *dev)
{
	char conf[1024], path[128], guest[128], err[1024] = "";
	const uint8_t hlt = 0xf4;

	snprintf(guest, sizeof(guest), "%s/guest.bin", F->dir);
	write_file(guest, &hlt, 1);
	snprintf(conf, sizeof(conf),
		 "memory = 2M\nvcpus = %u\nseccomp = \"off\"\n"
		 "hypervisor \"fake-vcpu-hv\" { %s }\n"
		 "boot { kernel = \"%s\" format = \"flat\" }\n"
		 "device \"dev\" { plugin = \"fake-hook-dev\" port = %d irq = %d %s }\n%s\n",
		 vcpus, hv, guest, DEV_PORT, DEV_IRQ, dev, machine_extra);
	snprintf(path, sizeof(path), "%s/machine.conf", F->dir);
	write_file(path, conf, strlen(conf));

	F->ps = vmm_plugin_set_new();
	assert_non_null(F->ps);
	if (vmm_config_load(path, F->ps, plugin_path, &F->mc, err, sizeof(err)))
		fail_msg("config: %s", err);
	assert_int_equal(vmm_machine_create(F->mc, F->ps, plugin_path, &F->m), 0);
	F->vm = F->m->vm;
	for (struct vmm_instance *in = F->m->instances; in; in = in->next)
		if (strcmp(in->name, "dev") == 0)
			F->dev = in->state;
	assert_non_null(F->dev);
	F->vm->hooks = (struct fake_vcpu_hooks){ guest_run, guest_kick, F };
	F->dev->ctx = F;
}

static void *machine_thread(void *arg)
{
	F->main_tid = (pid_t)syscall(SYS_gettid);
	F->status = vmm_machine_run(F->m);
	return NULL;
}

static void machine_start(void)
{
	assert_int_equal(pthread_create(&F->thread, NULL, machine_thread, NULL), 0);
	F->running = true;
}

/* Wait for vmm_machine_run() to return; its status, or -1 after WAIT_S. */
static int machine_join(void)
{
	struct timespec until;

	deadline_in(&until, WAIT_S);
	if (pthread_timedjoin_np(F->thread, NULL, &until) != 0)
		return -1;
	F->running = false;
	return F->status;
}

static void machine_finish(void)
{
	guest_power_off(0);
	assert_int_equal(machine_join(), VMM_STATUS_POWEROFF);
}

static char *machine_stats(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	vmm_machine_print_stats(F->m, f);
	fclose(f);
	return buf;
}

/* The watchdog: a wait that never returns (a deadlock in the core) must
 * still end the test, and say so. */
static void watchdog_fired(int sig)
{
	static const char msg[] = "test_machine: FAIL: a test did not end in time "
				  "(a deadlock in the machine loop?)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(99);
	_exit(99);
}

static int setup(void **state)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	snprintf(F->dir, sizeof(F->dir), "/tmp/vmm-machine-test-XXXXXX");
	assert_non_null(mkdtemp(F->dir));
	pthread_mutex_init(&F->lock, NULL);
	pthread_cond_init(&F->cond, NULL);
	for (unsigned i = 0; i < 2; i++) {
		pthread_mutex_init(&F->cpu[i].lock, NULL);
		pthread_cond_init(&F->cpu[i].cond, NULL);
	}
	machine_extra = "";
	alarm(WATCHDOG_S);
	*state = F;
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	if (F->running) {
		/* A failed test: stop the machine whatever the vCPUs were doing. */
		F->cpu[0].kicks_ignored = F->cpu[1].kicks_ignored = 0;
		vmm_machine_stop(F->m, VMM_STATUS_ERROR, "test teardown");
		if (machine_join() < 0) {
			fflush(stdout); /* cmocka's report of the failure */
			fprintf(stderr, "test_machine: FAIL: the machine did not stop in %d s\n", WAIT_S);
			_exit(99);
		}
	}
	vmm_machine_destroy(F->m);
	vmm_config_free(F->mc);
	if (F->ps)
		vmm_plugin_set_free(F->ps);
	alarm(0);
	snprintf(path, sizeof(path), "%s/machine.conf", F->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/guest.bin", F->dir);
	unlink(path);
	rmdir(F->dir);
	free(F);
	F = NULL;
	return 0;
}

/* --------------------------------------------------------------- timers */

/* True once thread `tid` sleeps in futex(): the main loop waiting for a
 * lock, here the device's (bounded; false when it never does). */
static bool wait_thread_in_futex(pid_t tid)
{
	char path[64];
	struct timespec pause = { 0, 100 * 1000 };

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (unsigned i = 0; i < WAIT_S * 10000; i++) {
		FILE *f = fopen(path, "r");
		long nr = -1;

		if (!f)
			return false;
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
		if (nr == SYS_futex)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

/*
 * On the vCPU thread, under the device's lock.  The timer is made due at
 * once, and the main loop's callback for it then waits for this lock: the
 * moment of the deadlock the old timer_cancel() had (its event_del()
 * waited for that callback, which waited for this lock).
 */
static void timer_dev_write(struct fake_hook_dev *d, uint8_t value)
{
	const struct vmm_host *h = d->h;
	struct fixture *fx = d->ctx;

	switch (value) {
	case CMD_CANCEL_WHILE_DUE:
	case CMD_REARM_WHILE_DUE: {
		h->timer_arm(h, d->timers[0], h->clock_ns(h));
		bool blocked = wait_thread_in_futex(fx->main_tid);
		if (value == CMD_CANCEL_WHILE_DUE) {
			h->timer_cancel(h, d->timers[0]);
		} else {
			/* Keep the main loop waiting longer than the new
			 * interval: a timer that counts from the time libevent
			 * cached when the loop woke is then due at once. */
			uint64_t until = h->clock_ns(h) + 2 * REARM_NS;
			struct timespec pause = { 0, 100 * 1000 };
			while (h->clock_ns(h) < until)
				nanosleep(&pause, NULL);
			uint64_t deadline = h->clock_ns(h) + REARM_NS;
			h->timer_arm(h, d->timers[0], deadline);
			pthread_mutex_lock(&fx->lock);
			fx->deadline = deadline;
			pthread_mutex_unlock(&fx->lock);
		}
		pthread_mutex_lock(&fx->lock);
		fx->main_blocked = blocked;
		pthread_mutex_unlock(&fx->lock);
		break;
	}
	case CMD_BARRIER:
		h->timer_arm(h, d->timers[1], 0);
		break;
	}
}

static void timer_dev_fired(struct fake_hook_dev *d, unsigned n)
{
	struct fixture *fx = d->ctx;
	uint64_t now = d->h->clock_ns(d->h);

	pthread_mutex_lock(&fx->lock);
	if (n == 0 && fx->timer0_fired++ == 0)
		fx->timer0_first_ns = now;
	if (n == 1)
		fx->barriers++;
	pthread_cond_broadcast(&fx->cond);
	pthread_mutex_unlock(&fx->lock);
}

/* Wait (bounded) until timer 0 fired `n` times or `barriers` barriers passed. */
static bool wait_timer_events(unsigned n, unsigned barriers)
{
	struct timespec until;
	bool ok = true;

	deadline_in(&until, WAIT_S);
	pthread_mutex_lock(&F->lock);
	while (ok && (F->timer0_fired < n || F->barriers < barriers))
		ok = wait_bounded(&F->cond, &F->lock, &until);
	pthread_mutex_unlock(&F->lock);
	return ok;
}

/* Every callback the main loop had begun by now has returned. */
static void main_loop_barrier(void)
{
	unsigned want = F->barriers + 1;

	guest_outb(DEV_PORT, CMD_BARRIER);
	if (!wait_timer_events(0, want))
		fail_msg("the barrier timer did not fire in %d s", WAIT_S);
}

static void timer_machine_start(void)
{
	machine_create(1, "irqchip = \"kernel\"", "level = false");
	F->dev->on_write = timer_dev_write;
	F->dev->on_timer = timer_dev_fired;
	machine_start();
}

static void test_timer_cancel_while_its_callback_waits(void **state)
{
	timer_machine_start();
	/* The old cancel deadlocked here: the watchdog ends the program. */
	guest_outb(DEV_PORT, CMD_CANCEL_WHILE_DUE);
	main_loop_barrier();
	assert_true(F->main_blocked);   /* the race really happened */
	assert_int_equal(F->timer0_fired, 0); /* a cancelled timer never calls back */
	machine_finish();
}

static void test_timer_rearm_while_its_callback_waits(void **state)
{
	timer_machine_start();
	guest_outb(DEV_PORT, CMD_REARM_WHILE_DUE);
	assert_true(F->main_blocked);
	if (!wait_timer_events(1, 0))
		fail_msg("the re-armed timer did not fire in %d s", WAIT_S);
	main_loop_barrier();
	/* The firing that was due is dropped; only the new deadline fires. */
	assert_int_equal(F->timer0_fired, 1);
	if (F->timer0_first_ns < F->deadline)
		fail_msg("the timer fired at %llu ns, before its deadline %llu ns",
			 (unsigned long long)F->timer0_first_ns, (unsigned long long)F->deadline);
	machine_finish();
}

/* ----------------------------------------------------------------- stop */

/* vCPU 0 misses its stop kick (the hypervisor ignores the first): the
 * core kicks it again until it stops, and the machine ends. */
static void test_stop_rekicks_a_vcpu_that_missed_its_kick(void **state)
{
	machine_create(2, "irqchip = \"kernel\"", "");
	F->cpu[0].kicks_ignored = 1;
	machine_start();
	assert_true(guest_wait_in_run(0));
	guest_power_off(1);
	assert_int_equal(machine_join(), VMM_STATUS_POWEROFF);
	assert_true(F->cpu[0].kicks_in_run >= 2);
	assert_int_equal(F->cpu[0].intr_exits, 1);
}

/* ------------------------------------------------------- pause, resume */

/* True once vCPU `index` is parked by a pause (bounded). */
static bool vcpu_parked_within(unsigned index)
{
	for (unsigned i = 0; i < WAIT_S * 1000; i++) {
		if (vmm_machine_vcpu_parked(F->m, index))
			return true;
		struct timespec ms = { 0, 1000 * 1000 };
		nanosleep(&ms, NULL);
	}
	return false;
}

static void test_pause_parks_every_vcpu_until_resume(void **state)
{
	machine_create(2, "irqchip = \"kernel\"", "");
	machine_start();
	assert_true(guest_wait_in_run(0));
	assert_true(guest_wait_in_run(1));
	assert_int_equal(vmm_machine_state(F->m), VMM_MACHINE_RUNNING);
	assert_int_equal(vmm_machine_resume(F->m), -EALREADY);

	/* Both vCPUs were in vcpu_run(): the pause kicks them out of it
	 * and returns only once both are parked. */
	assert_int_equal(vmm_machine_pause(F->m), 0);
	assert_int_equal(vmm_machine_state(F->m), VMM_MACHINE_PAUSED);
	assert_true(vmm_machine_vcpu_parked(F->m, 0));
	assert_true(vmm_machine_vcpu_parked(F->m, 1));
	assert_int_equal(F->cpu[0].intr_exits, 1);
	assert_int_equal(F->cpu[1].intr_exits, 1);
	assert_int_equal(vmm_machine_pause(F->m), -EALREADY);

	/* An exit handed over while paused is not taken: a parked vCPU
	 * does not enter vcpu_run(). */
	const uint8_t v = 0;
	const struct vmm_exit e = { .reason = VMM_EXIT_IO,
				    .io = { .port = DEV_PORT, .size = 1, .is_write = 1, .count = 1 } };
	guest_exit(0, &e, &v, false);
	assert_true(vmm_machine_vcpu_parked(F->m, 0));
	pthread_mutex_lock(&F->cpu[0].lock);
	assert_true(F->cpu[0].has_exit);
	pthread_mutex_unlock(&F->cpu[0].lock);
	char *paused = machine_stats();
	char *again = machine_stats();
	assert_string_equal(paused, again);

	/* Resumed, the vCPU takes it. */
	assert_int_equal(vmm_machine_resume(F->m), 0);
	assert_int_equal(vmm_machine_state(F->m), VMM_MACHINE_RUNNING);
	assert_int_equal(vmm_machine_resume(F->m), -EALREADY);
	struct guest_cpu *c = &F->cpu[0];
	struct timespec until;
	bool ok = true;
	deadline_in(&until, WAIT_S);
	pthread_mutex_lock(&c->lock);
	while (ok && c->done < c->posted)
		ok = wait_bounded(&c->cond, &c->lock, &until);
	pthread_mutex_unlock(&c->lock);
	assert_true(ok);
	char *resumed = machine_stats();
	assert_string_not_equal(paused, resumed);
	free(paused);
	free(again);
	free(resumed);
	machine_finish();
}

static void test_stop_ends_a_paused_machine(void **state)
{
	machine_create(2, "irqchip = \"kernel\"", "");
	machine_start();
	assert_true(guest_wait_in_run(0));
	assert_true(guest_wait_in_run(1));
	assert_int_equal(vmm_machine_pause(F->m), 0);
	vmm_machine_request_stop(F->m, VMM_STATUS_API_STOP, "test");
	assert_int_equal(machine_join(), VMM_STATUS_API_STOP);
	assert_int_equal(vmm_machine_state(F->m), VMM_MACHINE_STOPPING);
	assert_int_equal(vmm_machine_pause(F->m), -ESHUTDOWN);
	assert_int_equal(vmm_machine_resume(F->m), -ESHUTDOWN);
}

static void test_pause_parks_a_halted_vcpu_where_it_halts(void **state)
{
	machine_create(1, "irqchip = \"emulated\"", "");
	machine_start();
	assert_true(guest_wait_in_run(0));
	/* hlt with no interrupt to come: the vCPU waits in the core. */
	const struct vmm_exit hlt = { .reason = VMM_EXIT_HALT };
	guest_exit(0, &hlt, NULL, false);
	/* Taken (guest_run() signals nothing then: look every ms). */
	bool taken = false;
	for (unsigned i = 0; !taken && i < WAIT_S * 1000; i++) {
		pthread_mutex_lock(&F->cpu[0].lock);
		taken = !F->cpu[0].has_exit;
		pthread_mutex_unlock(&F->cpu[0].lock);
		struct timespec ms = { 0, 1000 * 1000 };
		nanosleep(&ms, NULL);
	}
	assert_true(taken);
	assert_int_equal(vmm_machine_pause(F->m), 0);
	assert_true(vmm_machine_vcpu_parked(F->m, 0));
	/* Not kicked out of a vcpu_run() it was not in. */
	assert_int_equal(F->cpu[0].intr_exits, 0);
	assert_int_equal(vmm_machine_resume(F->m), 0);
	/* Resumed, it is still halted: not back in vcpu_run(). */
	assert_int_equal(vmm_machine_pause(F->m), 0);
	assert_true(vcpu_parked_within(0));
	pthread_mutex_lock(&F->cpu[0].lock);
	assert_false(F->cpu[0].in_run);
	assert_int_equal(F->cpu[0].done, 0);
	pthread_mutex_unlock(&F->cpu[0].lock);
	assert_int_equal(vmm_machine_resume(F->m), 0);
	vmm_machine_request_stop(F->m, VMM_STATUS_API_STOP, "test");
	assert_int_equal(machine_join(), VMM_STATUS_API_STOP);
}

/* -------------------------------------------------------------- irqfds */

/* The eventfd's counter, read and so reset: 0 when nothing was written. */
static uint64_t eventfd_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

static bool fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

static void eventfd_signal(int fd)
{
	uint64_t one = 1;

	assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
}

/* Wait until the main loop has taken the resample the test signalled and
 * finished with it. */
static void resample_taken(int resample_fd)
{
	for (unsigned i = 0; fd_readable(resample_fd, 0); i++) {
		struct timespec pause = { 0, 100 * 1000 };
		if (i == WAIT_S * 10000)
			fail_msg("the main loop did not take the resample in %d s", WAIT_S);
		nanosleep(&pause, NULL);
	}
	main_loop_barrier();
}

static void irq_machine_start(const char *hv, const char *dev)
{
	machine_create(1, hv, dev);
	F->dev->on_write = timer_dev_write; /* for the barrier */
	F->dev->on_timer = timer_dev_fired;
	machine_start();
}

static void test_level_line_goes_through_a_resampling_irqfd(void **state)
{
	irq_machine_start("irqchip = \"kernel\" irqfd = true", "level = true");
	assert_int_equal(F->vm->nirqfds, 1);
	const struct fake_irqfd *q = &F->vm->irqfds[0];
	assert_int_equal(q->gsi, DEV_IRQ);
	assert_true(q->assigned);
	assert_true(q->fd >= 0 && q->resample_fd >= 0);

	char *stats = machine_stats();
	assert_non_null(strstr(stats, "irq: 1 line(s) by irqfd (10)\n"));
	free(stats);

	guest_outb(DEV_PORT, 1);     /* raise: the irqfd asserts the line */
	assert_int_equal(eventfd_count(q->fd), 1);
	guest_outb(DEV_PORT, 0);     /* lower: nothing, the EOI deasserts it */
	assert_int_equal(eventfd_count(q->fd), 0);
	guest_outb(DEV_PORT, 1);
	assert_int_equal(eventfd_count(q->fd), 1);

	/* EOI with the line still held: asserted again. */
	eventfd_signal(q->resample_fd);
	assert_true(fd_readable(q->fd, WAIT_S * 1000));
	assert_int_equal(eventfd_count(q->fd), 1);

	/* EOI after the device lowered it: not asserted. */
	guest_outb(DEV_PORT, 0);
	eventfd_signal(q->resample_fd);
	resample_taken(q->resample_fd);
	assert_int_equal(eventfd_count(q->fd), 0);

	assert_int_equal(atomic_load(&F->vm->irq_line_calls), 0);
	machine_finish();
}

/* Without the op (-ENOTSUP) the same line goes through irq_line(). */
static void test_level_line_without_irqfd_uses_irq_line(void **state)
{
	irq_machine_start("irqchip = \"kernel\" irqfd = false", "level = true");
	assert_int_equal(F->vm->nirqfds, 0);
	char *stats = machine_stats();
	assert_non_null(strstr(stats, "irq: 0 line(s) by irqfd\n"));
	free(stats);

	guest_outb(DEV_PORT, 1);
	assert_int_equal(atomic_load(&F->vm->irq_line_calls), 1);
	assert_int_equal(atomic_load(&F->vm->last_line), DEV_IRQ);
	assert_int_equal(atomic_load(&F->vm->last_level), 1);
	guest_outb(DEV_PORT, 0);
	assert_int_equal(atomic_load(&F->vm->irq_line_calls), 2);
	assert_int_equal(atomic_load(&F->vm->last_level), 0);
	machine_finish();
}

/* An edge-triggered line keeps irq_line() even when irqfds are offered. */
static void test_edge_line_keeps_irq_line(void **state)
{
	irq_machine_start("irqchip = \"kernel\" irqfd = true", "level = false");
	assert_int_equal(F->vm->nirqfds, 0);
	guest_outb(DEV_PORT, 1);
	assert_int_equal(atomic_load(&F->vm->irq_line_calls), 1);
	assert_int_equal(atomic_load(&F->vm->last_level), 1);
	machine_finish();
}

/* ------------------------------------------- CPUID and TSC (ABI 1.9) */

static struct vmm_instance *instance_named(const char *name)
{
	for (struct vmm_instance *in = F->m->instances; in; in = in->next)
		if (strcmp(in->name, name) == 0)
			return in;
	fail_msg("no instance %s", name);
	return NULL;
}

/* A device's leaves (the hyperv plugin's) reach every vCPU before it runs;
 * vcpu_tsc answers on the vCPU's thread, inside its MSR exit, and nowhere
 * else. */
static void test_device_cpuid_and_vcpu_tsc(void **state)
{
	const struct vmm_exit wr = { .reason = VMM_EXIT_MSR_WRITE,
				     .msr = { .index = 0x40000021, .value = 0x100000 | 1 } };
	uint64_t tsc, ns, scale;
	uint32_t khz, seq;
	uint8_t *page;

	(void)state;
	machine_extra = "device \"hv\" { plugin = \"hyperv\" }";
	machine_create(2, "irqchip = \"kernel\"", "");
	for (unsigned i = 0; i < 2; i++) {
		struct fake_vcpu *c = &F->vm->vcpus[i];

		assert_int_equal(c->cpuid_calls, 1);
		assert_int_equal(c->ncpuid, 7);
		assert_int_equal(c->cpuid[0].function, 0x40000000);
		assert_memory_equal(&c->cpuid[0].ebx, "Micr", 4);
	}
	struct vmm_instance *hv = instance_named("hv");
	assert_int_equal(hv->host.vcpu_tsc(&hv->host, 0, &tsc, &ns, &khz), -EINVAL);
	machine_start();
	assert_true(guest_exit(0, &wr, NULL, true));
	assert_int_equal(atomic_load(&F->vm->vcpus[0].tsc_calls), 1);
	page = vmm_machine_ram(F->m, 0x100000, 24);
	assert_non_null(page);
	memcpy(&seq, page, 4);
	memcpy(&scale, page + 8, 8);
	assert_int_not_equal(seq, 0);
	assert_true(scale == (uint64_t)(((unsigned __int128)10000 << 64) / FAKE_TSC_KHZ));
	machine_finish();
}

/* A hypervisor whose guest TSC is no stable clock (the kvm plugin without
 * KVM's master clock, as on the nested test host) answers vcpu_tsc with
 * -EAGAIN: the TSC page the guest enables says invalid (sequence 0), so
 * the guest reads TIME_REF_COUNT, instead of a formula that goes wrong
 * as KVM moves the TSC. */
static void test_tsc_page_invalid_without_a_stable_tsc(void **state)
{
	const struct vmm_exit wr = { .reason = VMM_EXIT_MSR_WRITE,
				     .msr = { .index = 0x40000021, .value = 0x100000 | 1 } };
	uint8_t *page;
	uint32_t seq;

	(void)state;
	machine_extra = "device \"hv\" { plugin = \"hyperv\" mode = \"emulated\" }";
	machine_create(1, "irqchip = \"kernel\" tsc-stable = false", "");
	page = vmm_machine_ram(F->m, 0x100000, 24);
	assert_non_null(page);
	memset(page, 0xa5, 24);
	machine_start();
	assert_true(guest_exit(0, &wr, NULL, true));
	assert_int_equal(F->cpu[0].handled.msr.error, 0);
	assert_int_equal(atomic_load(&F->vm->vcpus[0].tsc_calls), 1);
	memcpy(&seq, page, 4);
	assert_int_equal(seq, 0);
	machine_finish();
}

/* ---------------------- the hyperv plugin on the hypervisor's Hyper-V (ABI 1.13) */

static int build_logged(const char *hv, const char *extra, bool check, char *log, size_t loglen);

static const struct vmm_cpuid_leaf *vcpu_leaf(const struct fake_vcpu *c, uint32_t function)
{
	for (unsigned i = 0; i < c->ncpuid; i++)
		if (c->cpuid[i].function == function)
			return &c->cpuid[i];
	fail_msg("vCPU %u was not given leaf 0x%x", c->index, function);
	return NULL;
}

/* Run `e` on vCPU 0 with the log at debug level going to `log`. */
static void guest_exit_logged(const struct vmm_exit *e, char *log, size_t loglen)
{
	char path[128];
	int saved, fd, threshold = vmm_log_threshold;

	snprintf(path, sizeof(path), "%s/exit-log", F->dir);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	vmm_log_threshold = VMM_LOG_DEBUG;
	bool ok = guest_exit(0, e, NULL, true);
	vmm_log_threshold = threshold;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ssize_t n = pread(fd, log, loglen - 1, 0);
	close(fd);
	unlink(path);
	log[n > 0 ? n : 0] = '\0';
	assert_true(ok);
}

/* mode = "kernel": the leaves every vCPU gets are the plugin's, keeping of
 * the hypervisor's 0x40000003 only what the switches ask (not its APIC
 * access or frequency bits, not the crash MSRs it lacks), its spin count,
 * the plugin's 64 processors; KVM's own leaves hidden with kvm-leaves =
 * false; SynIC2 and CPUID enforcement on each vCPU once; no MSR of the
 * plugin's on the bus, none intercepted.  Then the exits: a hypercall KVM
 * leaves to the VMM gets HV_STATUS_INVALID_HYPERCALL_CODE, a SynIC exit
 * reaches the plugin. */
static void test_hyperv_kernel_mode(void **state)
{
	const struct vmm_exit hcall = {
		.reason = VMM_EXIT_HYPERV,
		.hyperv = { .type = VMM_HYPERV_EXIT_HCALL,
			    .hcall = { .input = 0x005c, .params = { 0x1000, 0x2000 } } },
	};
	const struct vmm_exit synic = {
		.reason = VMM_EXIT_HYPERV,
		.hyperv = { .type = VMM_HYPERV_EXIT_SYNIC, .msr = 0x40000083,
			    .synic = { .control = 1, .evt_page = 0, .msg_page = 0x5001 } },
	};
	char log[4096];

	(void)state;
	machine_extra = "device \"hv\" { plugin = \"hyperv\" mode = \"kernel\" hv-synic = true "
			"hv-stimer = true hv-crash = true kvm-leaves = false }";
	machine_create(2, "irqchip = \"kernel\" hyperv = true", "");
	for (unsigned i = 0; i < 2; i++) {
		const struct fake_vcpu *c = &F->vm->vcpus[i];
		const struct vmm_cpuid_leaf *l;

		assert_int_equal(c->cpuid_calls, 1);
		assert_int_equal(c->ncpuid, 9);
		assert_memory_equal(&vcpu_leaf(c, 0x40000000)->ebx, "Micr", 4);
		assert_int_equal(vcpu_leaf(c, 0x40000001)->eax, 0x31237648);
		l = vcpu_leaf(c, 0x40000003);
		/* VP runtime, reference counter, SynIC, timers, hypercall MSRs,
		 * VP index, reference TSC: bits 0-3, 5, 6, 9 */
		assert_int_equal(l->eax, 0x26f);
		assert_int_equal(l->edx, 1u << 19);
		l = vcpu_leaf(c, 0x40000004);
		assert_int_equal(l->eax & (1u << 9), 0);
		assert_int_equal(l->ebx, FAKE_HV_SPIN_COUNT);
		assert_int_equal(vcpu_leaf(c, 0x40000005)->eax, 64);
		for (uint32_t f = 0x40000100; f <= 0x40000101; f++) {
			l = vcpu_leaf(c, f);
			assert_true(l->eax == 0 && l->ebx == 0 && l->ecx == 0 && l->edx == 0);
		}
		assert_int_equal(c->hyperv_calls, 1);
		assert_int_equal(c->hyperv_what, VMM_HYPERV_SYNIC | VMM_HYPERV_ENFORCE_CPUID);
	}
	assert_int_equal(F->vm->nintercepts, 0);
	assert_null(vmm_bus_find(&F->m->bus[VMM_BUS_MSR], 0x40000000));
	assert_null(vmm_bus_find(&F->m->bus[VMM_BUS_PIO], 0xe00));
	machine_start();
	assert_true(guest_exit(0, &hcall, NULL, true));
	assert_int_equal(F->cpu[0].handled.reason, VMM_EXIT_HYPERV);
	assert_int_equal(F->cpu[0].handled.hyperv.hcall.result, 2);
	guest_exit_logged(&synic, log, sizeof(log));
	if (!strstr(log, "vCPU 0: SynIC MSR 0x40000083 written: SCONTROL 0x1 SIEFP 0x0 SIMP 0x5001"))
		fail_msg("the SynIC exit did not reach the plugin: %s", log);
	machine_finish();
}

/* The instance named `name`. */
static struct vmm_instance *instance(const char *name)
{
	for (struct vmm_instance *in = F->m->instances; in; in = in->next)
		if (!strcmp(in->name, name))
			return in;
	fail_msg("no instance %s", name);
	return NULL;
}

/* mode = "kernel": KVM's Hyper-V state travels with the vCPUs', so the
 * plugin's record says only its mode (README.md, "Saved state"); it loads
 * back, and an emulated-mode record is refused with -EINVAL. */
static void test_hyperv_kernel_mode_state(void **state)
{
	struct vmm_state_out out;
	struct vmm_state_in in;
	const uint8_t *bytes;
	const uint8_t zero = 0;
	size_t len;

	(void)state;
	machine_extra = "device \"hv\" { plugin = \"hyperv\" mode = \"kernel\" hv-synic = true }";
	machine_create(2, "irqchip = \"kernel\" hyperv = true", "");
	struct vmm_instance *hv = instance("hv");
	const struct vmm_device_ops *ops = hv->lp->ops;

	assert_int_equal(ops->state_version, 1);
	assert_int_equal(vmm_state_out_init(&out, "hyperv", "hv", ops->state_version), 0);
	assert_int_equal(ops->save(hv->state, &out), 0);
	bytes = vmm_state_out_bytes(&out, &len);
	assert_int_equal(vmm_state_in_parse(&in, bytes, len), 0);
	assert_int_equal(in.nfields, 1);
	assert_string_equal(in.fields[0].name, "kernel-mode");
	assert_int_equal(in.fields[0].len, 1);
	assert_int_equal(in.fields[0].data[0], 1);
	assert_int_equal(ops->load(hv->state, &in, 1), 0);
	vmm_state_in_free(&in);
	vmm_state_out_free(&out);
	/* the other mode's record */
	assert_int_equal(vmm_state_out_init(&out, "hyperv", "hv", 1), 0);
	assert_int_equal(vmm_state_out_put(&out, "kernel-mode", &zero, 1), 0);
	bytes = vmm_state_out_bytes(&out, &len);
	assert_int_equal(vmm_state_in_parse(&in, bytes, len), 0);
	assert_int_equal(ops->load(hv->state, &in, 1), -EINVAL);
	vmm_state_in_free(&in);
	vmm_state_out_free(&out);
	machine_start();
	machine_finish();
}

/* The hypervisor's SynIC needs its local APIC: with irqchip = "emulated"
 * mode = "kernel" and hv-synic are refused in one line, whereas without
 * the SynIC kernel mode runs (CPUID enforcement only).  A host without an
 * in-kernel Hyper-V refuses "kernel" saying what it lacks. */
static void test_hyperv_kernel_mode_refused(void **state)
{
	char log[4096];

	(void)state;
	assert_int_not_equal(build_logged("irqchip = \"emulated\" hyperv = true",
					  "device \"hv\" { plugin = \"hyperv\" mode = \"kernel\" hv-synic = true }",
					  false, log, sizeof(log)), 0);
	if (!strstr(log, "hv: error: hv-synic = true needs local APICs to deliver SINTs (the "
			 "hypervisor's irqchip = \"split\" or \"kernel\")"))
		fail_msg("no refusal of the SynIC without local APICs: %s", log);
	teardown(state);
	setup(state);
	assert_int_equal(build_logged("irqchip = \"emulated\" hyperv = true",
				      "device \"hv\" { plugin = \"hyperv\" mode = \"kernel\" }",
				      false, log, sizeof(log)), 0);
	assert_int_equal(((struct fake_vm *)F->m->vm)->vcpus[0].hyperv_what, VMM_HYPERV_ENFORCE_CPUID);
	teardown(state);
	setup(state);
	assert_int_not_equal(build_logged("irqchip = \"kernel\"",
					  "device \"hv\" { plugin = \"hyperv\" mode = \"kernel\" }",
					  false, log, sizeof(log)), 0);
	if (!strstr(log, "hv: error: mode = \"kernel\": the hypervisor has no Hyper-V CPUID"))
		fail_msg("no refusal of mode = kernel on a host without Hyper-V: %s", log);
}

/* auto: the hypervisor's Hyper-V where it has one, else emulated with the
 * plugin's MSR ranges intercepted (a hypervisor with its own Hyper-V
 * would answer them otherwise); one line says which. */
static void test_hyperv_auto_mode(void **state)
{
	const char *dev = "device \"hv\" { plugin = \"hyperv\" hv-crash = true }";
	struct fake_vm *vm;
	char log[4096];

	(void)state;
	assert_int_equal(build_logged("hyperv = true", dev, false, log, sizeof(log)), 0);
	if (!strstr(log, "hv: info: Hyper-V in the hypervisor (mode = \"auto\": kernel)"))
		fail_msg("auto did not say it picked kernel: %s", log);
	vm = F->m->vm;
	assert_int_equal(vm->vcpus[0].hyperv_calls, 1);
	assert_int_equal(vm->nintercepts, 0);
	teardown(state);
	setup(state);
	assert_int_equal(build_logged("hyperv = false", dev, false, log, sizeof(log)), 0);
	if (!strstr(log, "hv: info: Hyper-V emulated here (mode = \"auto\": emulated; the "
			 "hypervisor has no Hyper-V CPUID"))
		fail_msg("auto did not say it picked emulated: %s", log);
	vm = F->m->vm;
	assert_int_equal(vm->vcpus[0].hyperv_calls, 0);
	assert_int_equal(vm->nintercepts, 2);
	assert_int_equal(vm->intercepts[0].base, 0x40000000);
	assert_int_equal(vm->intercepts[0].count, 0x100);
	assert_int_equal(vm->intercepts[1].base, 0x40000100);
	assert_int_equal(vm->intercepts[1].count, 6);
}

/* ---------------------------------------- the devices' ready op (ABI 1.14) */

/* Once per device, after every device's create() and every vCPU, in
 * config order ("dev" is line 5, "dev2" after it). */
static void test_ready_once_in_config_order(void **state)
{
	(void)state;
	machine_extra = "device \"dev2\" { plugin = \"fake-hook-dev\" port = 0x90 irq = 12 }";
	machine_create(2, "", "");
	struct fake_hook_dev *d2 = instance_named("dev2")->state;
	assert_int_equal(F->dev->ready_calls, 1);
	assert_int_equal(d2->ready_calls, 1);
	assert_int_equal(d2->ready_seq, F->dev->ready_seq + 1);
	assert_int_equal(F->dev->ready_vcpus, 2);
	machine_start();
	machine_finish();
}

/* ABI 1.16: the power button goes to the first device of the config that
 * has one, under its lock; one that refuses passes it to the next.  Two
 * fake-hook-devs, "dev" (with `dev_props`) and "dev2": one press, which
 * of them took it (`want_who`, or none with `want_rc`), and the presses
 * each saw. */
static void press_two_buttons(const char *dev_props, int want_rc, const char *want_who, unsigned dev_presses,
			      unsigned dev2_presses)
{
	char who[64];

	machine_extra = "device \"dev2\" { plugin = \"fake-hook-dev\" port = 0x90 irq = 12 }";
	machine_create(1, "", dev_props);
	struct fake_hook_dev *d2 = instance_named("dev2")->state;
	assert_true(vmm_machine_has_power_button(F->m));
	assert_int_equal(vmm_machine_power_button(F->m, who, sizeof(who)), want_rc);
	assert_string_equal(who, want_who);
	assert_int_equal(F->dev->presses, dev_presses);
	assert_int_equal(d2->presses, dev2_presses);
}

static void test_power_button_first_taker_in_config_order(void **state)
{
	(void)state;
	press_two_buttons("", 0, "dev", 1, 0);
}

static void test_power_button_refused_goes_on(void **state)
{
	(void)state;
	press_two_buttons("button-refuses = true", 0, "dev2", 1, 1);
}

static void test_power_button_all_refuse(void **state)
{
	char who[64];

	(void)state;
	machine_create(1, "", "button-refuses = true");
	assert_int_equal(vmm_machine_power_button(F->m, who, sizeof(who)), -EBUSY);
	assert_string_equal(who, "dev");
	assert_int_equal(F->dev->presses, 1);
}

/* ------------------------------------------- machines that are refused */

/* Build the usual machine (its device "dev" on line 5) with the
 * hypervisor section's body `hv` and `extra` from line 6, by
 * vmm_machine_create() or, with `check`, vmm_machine_check(); the log
 * lines it wrote go to `log`.  Returns what the build returned; the
 * machine, if any, is F->m. */
static int build_logged(const char *hv, const char *extra, bool check, char *log, size_t loglen)
{
	char conf[2048], path[128], guest[128], logpath[128], err[1024] = "";
	const uint8_t hlt = 0xf4;

	snprintf(guest, sizeof(guest), "%s/guest.bin", F->dir);
	write_file(guest, &hlt, 1);
	snprintf(conf, sizeof(conf),
		 "memory = 2M\nvcpus = 1\n"
		 "hypervisor \"fake-vcpu-hv\" { %s }\n"
		 "boot { kernel = \"%s\" format = \"flat\" }\n"
		 "device \"dev\" { plugin = \"fake-hook-dev\" port = %d irq = %d }\n%s\n"
		 "seccomp = \"off\"\n",
		 hv, guest, DEV_PORT, DEV_IRQ, extra);
	snprintf(path, sizeof(path), "%s/machine.conf", F->dir);
	write_file(path, conf, strlen(conf));
	F->ps = vmm_plugin_set_new();
	if (vmm_config_load(path, F->ps, plugin_path, &F->mc, err, sizeof(err)))
		fail_msg("config: %s", err);
	F->m = NULL;

	snprintf(logpath, sizeof(logpath), "%s/log", F->dir);
	fflush(stderr);
	int saved = dup(STDERR_FILENO), fd = open(logpath, O_CREAT | O_TRUNC | O_RDWR, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	int rc = check ? vmm_machine_check(F->mc, F->ps, plugin_path, &F->m)
		       : vmm_machine_create(F->mc, F->ps, plugin_path, &F->m);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ssize_t n = pread(fd, log, loglen - 1, 0);
	close(fd);
	unlink(logpath);
	log[n > 0 ? n : 0] = '\0';
	return rc;
}

/* The machine of build_logged() must be refused with `what` on line
 * 6, by run and by check alike. */
static void expect_refused(const char *hv, const char *extra, const char *what)
{
	char log[4096], want[512];

	for (int check = 0; check < 2; check++) {
		int rc = build_logged(hv, extra, check, log, sizeof(log));

		snprintf(want, sizeof(want), "%s/machine.conf:6: %s", F->dir, what);
		if (rc == 0 || !strstr(log, want))
			fail_msg("expected %s to refuse with \"%s\", got %d and: %s", check ? "check" : "create",
				 want, rc, log);
		vmm_machine_destroy(F->m);
		F->m = NULL;
		vmm_config_free(F->mc);
		F->mc = NULL;
		vmm_plugin_set_free(F->ps);
		F->ps = NULL;
	}
}

/* A device whose ready op fails fails the machine, named with its line. */
static void test_ready_failure_refuses_the_machine(void **state)
{
	(void)state;
	expect_refused("", "device \"dev2\" { plugin = \"fake-hook-dev\" port = 0x90 irq = 12 "
		       "ready-fails = true }",
		       "device 'dev2' (plugin fake-hook-dev) failed to start: Input/output error");
}

/* ------------------------------- an interrupt controller plugin (ABI 1.8) */

/* One 4-byte MMIO access by vCPU `index` at `addr`, dispatched by the
 * core on that vCPU's thread; a read's value. */
static uint32_t guest_mmio32(unsigned index, uint64_t addr, bool write, uint32_t value)
{
	uint8_t buf[4];
	const struct vmm_exit e = { .reason = VMM_EXIT_MMIO,
				    .mmio = { .addr = addr, .len = 4, .is_write = write, .data = buf } };

	memcpy(buf, &value, sizeof(buf));
	if (!guest_exit(index, &e, NULL, true))
		fail_msg("MMIO at 0x%llx: vCPU %u did not come back in %d s", (unsigned long long)addr,
			 index, WAIT_S);
	memcpy(&value, buf, sizeof(buf));
	return value;
}

/* True once the fake hypervisor holds vCPU `vcpu`'s input `pin` at
 * `level` (bounded). */
static bool wait_cpu_pin(unsigned vcpu, enum vmm_cpu_pin pin, int level)
{
	const struct timespec ms = { 0, 1000 * 1000 };

	for (unsigned i = 0; i < WAIT_S * 1000; i++) {
		if (atomic_load(&F->vm->cpu_pin[vcpu][pin]) == level)
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

#define GICD 0x08000000u
#define GICC 0x08010000u

/* A running machine of `vcpus` with the gic plugin as its interrupt
 * controller, each vCPU's CPU interface enabled as Linux leaves it
 * (GICC_PMR 0xf0, Group 0 on) by its own accesses. */
static void gic_machine_start(unsigned vcpus)
{
	machine_extra = "device \"gic\" { plugin = \"gic\" }";
	machine_create(vcpus, "irqchip = \"emulated\"", "");
	machine_start();
	guest_mmio32(0, GICD + 0x000, true, 1); /* GICD_CTLR */
	for (unsigned i = 0; i < vcpus; i++) {
		guest_mmio32(i, GICC + 0x004, true, 0xf0); /* GICC_PMR */
		guest_mmio32(i, GICC + 0x000, true, 1);    /* GICC_CTLR */
	}
}

/* The hypervisor's per-vCPU lines reach the gic plugin (private_irq_set ->
 * set_private), and its output reaches the hypervisor's vCPU input
 * (cpu_irq_line -> vcpu_irq_set) on that vCPU's thread, between its runs,
 * whichever thread drove it: here the test's, so the core kicks the vCPU
 * out of its run first.  The core says how many vCPUs there are. */
static void test_private_lines_and_cpu_inputs_through_the_core(void **state)
{
	gic_machine_start(1);
	struct fake_vm *vm = F->vm;
	const struct vmm_host *hv = &F->m->hv_inst->host;
	const struct vmm_host *dev = &instance_named("dev")->host;

	assert_int_equal(dev->vcpu_count(dev), 1);
	guest_mmio32(0, GICD + 0x100, true, 1u << 27); /* GICD_ISENABLER0: the virtual timer's PPI */
	assert_int_equal(atomic_load(&vm->vcpu_irq_set_calls), 0);

	assert_int_equal(hv->private_irq_set(hv, 0, 27, 1), 0);
	assert_true(wait_cpu_pin(0, VMM_CPU_IRQ, 1));
	assert_int_equal(atomic_load(&vm->vcpu_irq_set_calls), 1);
	assert_int_equal(hv->private_irq_set(hv, 0, 27, 0), 0);
	assert_true(wait_cpu_pin(0, VMM_CPU_IRQ, 0));
	assert_int_equal(atomic_load(&vm->vcpu_irq_set_calls), 2);
	/* Refused: a vCPU that does not exist, a pin that does not. */
	assert_int_equal(hv->private_irq_set(hv, 1, 27, 1), -EINVAL);
	assert_int_equal(dev->cpu_irq_line(dev, 1, VMM_CPU_IRQ, 1), -EINVAL);
	assert_int_equal(dev->cpu_irq_line(dev, 0, (enum vmm_cpu_pin)2, 1), -EINVAL);
	assert_int_equal(dev->cpu_irq_line(dev, 0, VMM_CPU_FIQ, 1), 0);
	assert_true(wait_cpu_pin(0, VMM_CPU_FIQ, 1));
	assert_int_equal(atomic_load(&vm->vcpu_irq_set_foreign), 0);
	machine_finish();
}

/* Issue 11's hang: an SGI vCPU 0 sends raises vCPU 1's IRQ input, which
 * KVM/arm64 may lose when it comes from vCPU 0's thread while vCPU 1 runs
 * (hypervisor.h, vcpu_irq_set).  It must reach the hypervisor on vCPU 1's
 * own thread, between its runs, and so must the lower that its
 * acknowledge brings; vCPU 0's input is never touched. */
static void test_sgi_reaches_the_other_vcpu_on_its_own_thread(void **state)
{
	gic_machine_start(2);
	struct fake_vm *vm = F->vm;

	guest_mmio32(1, GICD + 0x100, true, 1u << 3);  /* GICD_ISENABLER0, banked: SGI 3 on CPU 1 */
	assert_true(guest_wait_in_run(1));
	guest_mmio32(0, GICD + 0xf00, true, 1u << 17 | 3); /* GICD_SGIR: SGI 3 to CPU 1 */
	assert_true(wait_cpu_pin(1, VMM_CPU_IRQ, 1));
	/* Acknowledged by vCPU 1: SGI 3 from CPU 0, and the input drops. */
	assert_int_equal(guest_mmio32(1, GICC + 0x00c, false, 0), 3);
	assert_true(wait_cpu_pin(1, VMM_CPU_IRQ, 0));
	guest_mmio32(1, GICC + 0x010, true, 3);        /* GICC_EOIR */
	assert_int_equal(atomic_load(&vm->cpu_pin[0][VMM_CPU_IRQ]), 0);
	assert_int_equal(atomic_load(&vm->vcpu_irq_set_calls), 2);
	assert_int_equal(atomic_load(&vm->vcpu_irq_set_foreign), 0);
	machine_finish();
}

/* The gic plugin's description is the device tree's GICv2: its two
 * windows and its INTID count (core/arch-arm64.c, then core/fdt.c). */
static void test_gicv2_description_for_the_device_tree(void **state)
{
	struct vmm_fdt_region redist[2];
	struct vmm_fdt_gic g;
	char log[4096];

	assert_int_equal(build_logged("irqchip = \"emulated\"",
				      "device \"gic\" { plugin = \"gic\" spis = 96 }", false, log,
				      sizeof(log)), 0);
	vmm_arm64_find_gic(F->m, redist, 2, &g);
	assert_int_equal(g.version, 2);
	assert_int_equal(g.dist.base, 0x08000000);
	assert_int_equal(g.dist.size, 0x1000);
	assert_int_equal(g.cpu_if.base, 0x08010000);
	assert_int_equal(g.cpu_if.size, 0x2000);
	assert_int_equal(g.nr_irqs, 128);
}

/* Without a controller that takes them, private lines are dropped; in
 * kernel mode the vCPUs' inputs are the hypervisor's. */
static void test_private_lines_without_a_controller(void **state)
{
	char log[4096];

	assert_int_equal(build_logged("irqchip = \"kernel\"", "", false, log, sizeof(log)), 0);
	const struct vmm_host *hv = &F->m->hv_inst->host;
	const struct vmm_host *dev = &instance_named("dev")->host;

	assert_int_equal(hv->private_irq_set(hv, 0, 27, 1), -ENODEV);
	assert_int_equal(dev->cpu_irq_line(dev, 0, VMM_CPU_IRQ, 1), -ENOTSUP);
	assert_int_equal(atomic_load(&((struct fake_vm *)F->m->vm)->vcpu_irq_set_calls), 0);
}

/* A device's create() returns 0 or a negative errno; anything else is
 * refused, naming the device, its line and its plugin. */
static void test_create_returning_a_positive_value_is_refused(void **state)
{
	expect_refused("", "device \"pc\" { plugin = \"positive-create\" }",
		       "device 'pc' (plugin positive-create): create() returned 1, not 0 or a negative errno");
}

#define MMIO_DEV(base) "device \"m\" { plugin = \"fake-hook-dev\" port = 0x81 irq = 11 mmio = " base \
	" mmio-size = 0x1000 }"

/* MMIO inside guest RAM (at 0 too) would never see an access. */
static void test_mmio_in_guest_ram_is_refused(void **state)
{
	expect_refused("irqchip = \"emulated\"", MMIO_DEV("0"),
		       "device 'm': mmio region 0x0+0x1000 overlaps guest RAM (0x0-0x1fffff)");
	teardown(state);
	setup(state);
	expect_refused("irqchip = \"emulated\"", MMIO_DEV("0x1ff000"),
		       "device 'm': mmio region 0x1ff000+0x1000 overlaps guest RAM (0x0-0x1fffff)");
}

/* The local APIC window is the hypervisor's with an in-kernel LAPIC. */
static void test_mmio_over_the_local_apic_is_refused(void **state)
{
	expect_refused("irqchip = \"kernel\"", MMIO_DEV("0xfee00000"),
		       "device 'm': mmio region 0xfee00000+0x1000 overlaps the local APIC window of the "
		       "hypervisor (0xfee00000-0xfeefffff)");
	teardown(state);
	setup(state);
	expect_refused("irqchip = \"split\"", MMIO_DEV("0xfeeff000"),
		       "device 'm': mmio region 0xfeeff000+0x1000 overlaps the local APIC window");
}

/* The IOAPIC window is the hypervisor's when its IOAPIC is in the kernel. */
static void test_mmio_over_the_in_kernel_ioapic_is_refused(void **state)
{
	expect_refused("irqchip = \"kernel\"", MMIO_DEV("0xfec00000"),
		       "device 'm': mmio region 0xfec00000+0x1000 overlaps the IOAPIC window of the "
		       "hypervisor (0xfec00000-0xfec00fff)");
}

/* Where no one else owns them, the same windows are a device's to take
 * (no local APIC without an irqchip; split's IOAPIC is a plugin's, and a
 * clash with it is an overlap of two regions). */
static void test_mmio_where_nothing_owns_the_window(void **state)
{
	machine_create(1, "irqchip = \"emulated\"", "mmio = 0xfee00000 mmio-size = 0x1000");
	teardown(state);
	setup(state);
	machine_create(1, "irqchip = \"split\"", "mmio = 0xfec00000 mmio-size = 0x1000");
}

/* ------------------------------------------------------ vmmctl check */

static void expect_in_log(const char *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void expect_in_log(const char *log, const char *fmt, ...)
{
	char want[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	if (!strstr(log, want))
		fail_msg("no \"%s\" in: %s", want, log);
}

/* check creates every device, past those that fail, and reports each
 * with its line; create stops at the first. */
static void test_check_reports_every_device_that_fails(void **state)
{
	const char *extra = "device \"f1\" { plugin = \"failing-create\" }\n"
			    "device \"f2\" { plugin = \"positive-create\" }\n";
	char log[4096];

	assert_int_not_equal(build_logged("", extra, true, log, sizeof(log)), 0);
	assert_null(F->m);
	expect_in_log(log, "%s/machine.conf:6: device 'f1' (plugin failing-create) failed to start", F->dir);
	expect_in_log(log, "%s/machine.conf:7: device 'f2' (plugin positive-create): create() returned 1",
		      F->dir);
	vmm_config_free(F->mc);
	F->mc = NULL;
	vmm_plugin_set_free(F->ps);
	F->ps = NULL;

	assert_int_not_equal(build_logged("", extra, false, log, sizeof(log)), 0);
	expect_in_log(log, "device 'f1' (plugin failing-create) failed to start");
	if (strstr(log, "'f2'"))
		fail_msg("create went on past the first failed device: %s", log);
}

/* check opens no backend: one with a check op is checked (block-file:
 * the device is built on the image's real size), one without is a
 * stand-in (fake-block, whose open() would create its log file), said in
 * a line; neither is opened, and the machine does not run. */
static void test_check_opens_no_backend(void **state)
{
	char extra[1024], img[128], fake_log[128], log[4096];
	uint64_t sectors = 0;

	snprintf(img, sizeof(img), "%s/disk.img", F->dir);
	snprintf(fake_log, sizeof(fake_log), "%s/fake.log", F->dir);
	assert_int_equal(truncate(img, 0) == 0 || errno == ENOENT, 1);
	FILE *f = fopen(img, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 16 * 512), 0);
	fclose(f);
	snprintf(extra, sizeof(extra),
		 "backend \"img\" { plugin = \"block-file\" path = \"%s\" }\n"
		 "device \"vda\" { plugin = \"virtio-blk\" base = 0xd0001000 irq = 11 disk = \"img\" }\n"
		 "backend \"fake\" { plugin = \"fake-block\" path = \"%s\" log = \"%s\" }\n"
		 "device \"vdb\" { plugin = \"virtio-blk\" base = 0xd0002000 irq = 12 disk = \"fake\" }\n",
		 img, img, fake_log);
	int rc = build_logged("irqchip = \"kernel\"", extra, true, log, sizeof(log));
	if (rc)
		fail_msg("check refused the machine (%d): %s", rc, log);
	expect_in_log(log, "backend 'fake' (plugin fake-block): not opened by check, it has no check op");
	assert_int_equal(access(fake_log, F_OK), -1);
	for (struct vmm_instance *in = F->m->instances; in; in = in->next) {
		if (strcmp(in->name, "img") == 0)
			assert_true(in->stand_in && in->state && in->opened); /* its check's state */
		if (strcmp(in->name, "fake") == 0)
			assert_true(in->stand_in && !in->state && !in->opened);
	}
	/* virtio-mmio config space at 0x100: virtio-blk's capacity. */
	assert_int_equal(vmm_bus_read(&F->m->bus[VMM_BUS_MMIO], 0, 0xd0001100, 4, &sectors), 0);
	assert_int_equal(sectors, 16);
	assert_int_equal(vmm_machine_run(F->m), VMM_STATUS_ERROR);
	unlink(img);
}

int main(int argc, char **argv)
{
	const char *b = getenv("VMM_BUILDDIR"), *pp = getenv("VMM_PLUGIN_PATH");
	struct sigaction sa = { .sa_handler = watchdog_fired };

	/* The fixtures, and the real plugins (virtio-blk, block-file). */
	snprintf(plugin_path, sizeof(plugin_path), "%s/tests/fixtures/.libs:%s", b ? b : ".",
		 pp ? pp : "");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]); /* one test by name, for debugging */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_once_in_config_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_button_first_taker_in_config_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_button_refused_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_power_button_all_refuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_failure_refuses_the_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_cancel_while_its_callback_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_rearm_while_its_callback_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_rekicks_a_vcpu_that_missed_its_kick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_parks_every_vcpu_until_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_ends_a_paused_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_parks_a_halted_vcpu_where_it_halts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_line_goes_through_a_resampling_irqfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_line_without_irqfd_uses_irq_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge_line_keeps_irq_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_returning_a_positive_value_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgi_reaches_the_other_vcpu_on_its_own_thread, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private_lines_and_cpu_inputs_through_the_core, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private_lines_without_a_controller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gicv2_description_for_the_device_tree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmio_in_guest_ram_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_over_the_local_apic_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_over_the_in_kernel_ioapic_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmio_where_nothing_owns_the_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_reports_every_device_that_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_opens_no_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_cpuid_and_vcpu_tsc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tsc_page_invalid_without_a_stable_tsc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hyperv_kernel_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hyperv_kernel_mode_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hyperv_kernel_mode_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hyperv_auto_mode, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
