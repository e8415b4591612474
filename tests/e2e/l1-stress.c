/* SPDX-License-Identifier: MIT */
/*
 * tests/e2e/l1-stress.c - run inside the nested test host's L1 by
 * tests/e2e/l1-stress.sh (by hand, not by make check): does L1 itself
 * survive its emulator while its CPUs run nested guests?  No vmmctl is
 * involved, so whatever breaks here is the test host's, not ours (issue 17).
 *
 * Per L1 CPU, pinned to it:
 *   - a guest: a VM of its own whose 15 bytes of real-mode code execute
 *     CPUID ITERS times (each one a #VMEXIT to L1's KVM and a VMRUN back:
 *     KVM handles CPUID in the kernel), then OUT to port 0x10, which comes
 *     back here; the thread naps 0-2 ms and runs it again.  A guest exit
 *     other than that OUT (KVM_EXIT_SHUTDOWN: the guest triple-faulted,
 *     which this code cannot do on a sound CPU) is printed, and the guest
 *     is not run again;
 *   - a sleeper: nanosleep for 50 us to MAXUS us, again and again; each
 *     wake-up later than 1 s is printed (a halted CPU that was not woken);
 *   - a monitor of the other CPU's sleeper: one that has not woken for
 *     2 s is counted as stuck, printed, and woken by waking a thread
 *     pinned to its CPU (an IPI), so one lost wake-up does not end the run.
 * With VINTR 1, each guest has an interrupt queued that it never takes
 * (below).  Every STATP seconds one L1-STRESS-STAT line; L1-STRESS-DONE at the end.
 *
 * usage: l1-stress SECONDS GUESTS [MAXUS ITERS STATP VINTR]
 *   GUESTS: all (one per CPU), cpu0 (one, on CPU 0), two-on-cpu0, none
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 8

static int ncpu, maxus = 2000, iters = 2000, vintr;
static volatile uint64_t wakes[MAX_CPUS], guest_runs[MAX_CPUS];
static volatile uint64_t late[MAX_CPUS], stuck[MAX_CPUS], max_late_us[MAX_CPUS];
static volatile int guest_failed;
static pthread_mutex_t poke_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poke_cond[MAX_CPUS];
static int poked[MAX_CPUS];

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *sleeper(void *arg)
{
	int cpu = (int)(intptr_t)arg;
	unsigned seed = cpu * 7919 + 1;

	pin_to(cpu);
	for (;;) {
		uint64_t us = 50 + rand_r(&seed) % maxus;
		struct timespec ts = { 0, us * 1000 };
		uint64_t t0 = now_us(), over;

		nanosleep(&ts, NULL);
		over = now_us() - t0 - us;
		wakes[cpu]++;
		if (over > max_late_us[cpu])
			max_late_us[cpu] = over;
		if (over > 1000000) {
			late[cpu]++;
			printf("L1-STRESS-LATE cpu=%d late_ms=%llu\n", cpu, (unsigned long long)(over / 1000));
			fflush(stdout);
		}
	}
	return NULL;
}

/* A thread on CPU cpu that the other CPU's monitor wakes: a remote
 * wake-up is an IPI, which wakes a halted CPU that missed its timer. */
static void *pokee(void *arg)
{
	int cpu = (int)(intptr_t)arg;

	pin_to(cpu);
	pthread_mutex_lock(&poke_lock);
	for (;;) {
		while (!poked[cpu])
			pthread_cond_wait(&poke_cond[cpu], &poke_lock);
		poked[cpu] = 0;
	}
	return NULL;
}

static void *monitor(void *arg)
{
	int cpu = (int)(intptr_t)arg, other = (cpu + 1) % ncpu;
	uint64_t seen = 0, since = now_us();

	pin_to(cpu);
	for (;;) {
		uint64_t w, t;

		usleep(200000);
		w = wakes[other];
		t = now_us();
		if (w != seen) {
			seen = w;
			since = t;
		} else if (t - since > 2000000) {
			stuck[other]++;
			printf("L1-STRESS-STUCK cpu=%d for_ms=%llu; waking it\n", other,
			       (unsigned long long)((t - since) / 1000));
			fflush(stdout);
			pthread_mutex_lock(&poke_lock);
			poked[other] = 1;
			pthread_cond_signal(&poke_cond[other]);
			pthread_mutex_unlock(&poke_lock);
			since = t;
		}
	}
	return NULL;
}

static void *guest(void *arg)
{
	int cpu = (int)(intptr_t)arg, kvm, vm, vcpu, size;
	unsigned seed = cpu * 31 + 7;
	uint8_t *mem;
	struct kvm_run *run;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	/* at 0x1000, 16-bit real mode:
	 *   mov si, ITERS; 1: xor eax, eax; cpuid; dec si; jnz 1b;
	 *   out 0x10, al; jmp 0x1000 */
	const uint8_t code[] = { 0xbe, iters & 0xff, (iters >> 8) & 0xff, 0x66, 0x31, 0xc0,
				 0x0f, 0xa2, 0x4e, 0x75, 0xf8, 0xe6, 0x10, 0xeb, 0xf1 };
	struct kvm_userspace_memory_region region = { .slot = 0, .memory_size = 0x10000 };

	pin_to(cpu);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (vm < 0 || mem == MAP_FAILED) {
		printf("L1-STRESS-FAIL cpu=%d: no VM (/dev/kvm)\n", cpu);
		guest_failed = 1;
		return NULL;
	}
	memcpy(mem + 0x1000, code, sizeof(code));
	region.userspace_addr = (uintptr_t)mem;
	vcpu = -1;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0)
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = vcpu < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		printf("L1-STRESS-FAIL cpu=%d: no vCPU\n", cpu);
		guest_failed = 1;
		return NULL;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &sregs);
	ioctl(vcpu, KVM_SET_REGS, &regs);
	if (vintr) {
		/* An interrupt queued for a guest that never sets IF: L1's KVM
		 * asks for an interrupt window at every VMRUN (V_IRQ in the
		 * VMCB), so the emulated CPU sets and clears its virtual
		 * interrupt request at every world switch too. */
		struct kvm_interrupt irq = { .irq = 0x20 };

		ioctl(vcpu, KVM_INTERRUPT, &irq);
	}
	for (;;) {
		struct timespec nap = { 0, (rand_r(&seed) % 2000) * 1000 };

		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			continue;   /* EINTR */
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10) {
			printf("L1-STRESS-GUEST-EXIT cpu=%d reason=%u after %llu runs (this guest cannot "
			       "do that on a sound CPU)\n", cpu, run->exit_reason,
			       (unsigned long long)guest_runs[cpu]);
			fflush(stdout);
			guest_failed = 1;
			return NULL;
		}
		guest_runs[cpu]++;
		nanosleep(&nap, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int secs, statp = 30, i;
	const char *guests;
	uint64_t start;
	pthread_t t;

	if (argc < 3) {
		fprintf(stderr, "usage: l1-stress SECONDS all|cpu0|two-on-cpu0|none [MAXUS ITERS STATP VINTR]\n");
		return 2;
	}
	secs = atoi(argv[1]);
	guests = argv[2];
	if (argc > 3)
		maxus = atoi(argv[3]);
	if (argc > 4)
		iters = atoi(argv[4]);
	if (argc > 5)
		statp = atoi(argv[5]);
	if (argc > 6)
		vintr = atoi(argv[6]);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > MAX_CPUS)
		ncpu = MAX_CPUS;
	for (i = 0; i < ncpu; i++) {
		pthread_cond_init(&poke_cond[i], NULL);
		pthread_create(&t, NULL, sleeper, (void *)(intptr_t)i);
		pthread_create(&t, NULL, pokee, (void *)(intptr_t)i);
		if (ncpu > 1)
			pthread_create(&t, NULL, monitor, (void *)(intptr_t)i);
		if (!strcmp(guests, "all") || (i == 0 && !strcmp(guests, "cpu0")))
			pthread_create(&t, NULL, guest, (void *)(intptr_t)i);
		if (i == 0 && !strcmp(guests, "two-on-cpu0")) {
			pthread_create(&t, NULL, guest, (void *)(intptr_t)0);
			pthread_create(&t, NULL, guest, (void *)(intptr_t)0);
		}
	}
	printf("L1-STRESS-START cpus=%d guests=%s seconds=%d vintr=%d\n", ncpu, guests, secs, vintr);
	fflush(stdout);
	start = now_us();
	while (now_us() - start < secs * 1000000ull) {
		sleep(statp);
		printf("L1-STRESS-STAT t=%llus", (unsigned long long)((now_us() - start) / 1000000));
		for (i = 0; i < ncpu; i++)
			printf(" cpu%d: wakes=%llu guest-runs=%llu late=%llu stuck=%llu max-late-ms=%llu", i,
			       (unsigned long long)wakes[i], (unsigned long long)guest_runs[i],
			       (unsigned long long)late[i], (unsigned long long)stuck[i],
			       (unsigned long long)(max_late_us[i] / 1000));
		printf("\n");
		fflush(stdout);
	}
	printf("L1-STRESS-DONE guest-failed=%d\n", guest_failed);
	return 0;
}
