/* bench/raw-kvm-pio.c - the floor for port-I/O exits: a minimal raw KVM
 * program that runs tests/guests/bench-pio.bin the way vmmctl's flat format
 * does (16 MiB of RAM, file at 0x8000, real mode, CS=DS=ES=SS=0, IP=0x8000,
 * SP=0x8000, interrupts off).  It counts the guest's writes to port 0x3ff,
 * stops at the write to the debug-exit port 0xf4, and prints the time spent
 * in the KVM_RUN loop.
 *
 * Usage: raw-kvm-pio FILE
 * Output: one line, "raw-kvm-pio: writes=N exits=E loop_us=T us_per_exit=X".
 * Exit status: 0 when the guest wrote 0 to 0xf4, 1 on any error. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE	(16u << 20)
#define LOAD_ADDR	0x8000u
#define PORT_SCRATCH	0x3ff
#define PORT_EXIT	0xf4
#define TSS_ADDR	0xfffbd000ul

static void die(const char *what)
{
	fprintf(stderr, "raw-kvm-pio: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void real_mode_segment(struct kvm_segment *s, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->selector = 0;
	s->base = 0;
	s->limit = 0xffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: raw-kvm-pio FILE\n");
		return 1;
	}

	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(argv[1]);
	struct stat st;
	if (fstat(fd, &st) < 0)
		die(argv[1]);
	if (st.st_size <= 0 || (uint64_t)st.st_size > MEM_SIZE - LOAD_ADDR) {
		fprintf(stderr, "raw-kvm-pio: %s: size %lld does not fit at 0x%x\n", argv[1],
			(long long)st.st_size, LOAD_ADDR);
		return 1;
	}

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "raw-kvm-pio: unexpected KVM API version\n");
		return 1;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
		die("KVM_SET_TSS_ADDR");

	uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			    -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	ssize_t n = pread(fd, mem + LOAD_ADDR, (size_t)st.st_size, 0);
	if (n != st.st_size)
		die("read guest image");
	close(fd);

	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	real_mode_segment(&sregs.cs, 0xb);
	real_mode_segment(&sregs.ds, 0x3);
	real_mode_segment(&sregs.es, 0x3);
	real_mode_segment(&sregs.ss, 0x3);
	real_mode_segment(&sregs.fs, 0x3);
	real_mode_segment(&sregs.gs, 0x3);
	sregs.cr0 &= ~1ull;	/* real mode */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.rip = LOAD_ADDR;
	regs.rsp = LOAD_ADDR;
	regs.rflags = 0x2;	/* IF clear */
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	unsigned long writes = 0, exits = 0;
	uint8_t scratch = 0;	/* the "device register" behind 0x3ff */
	int status = -1;
	double t0 = now_us();
	while (status < 0) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		exits++;
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			if (run->io.port == PORT_SCRATCH && run->io.size == 1) {
				if (run->io.direction == KVM_EXIT_IO_OUT) {
					scratch = data[run->io.count - 1];
					writes += run->io.count;
				} else {
					memset(data, scratch, run->io.count);
				}
			} else if (run->io.port == PORT_EXIT && run->io.direction == KVM_EXIT_IO_OUT) {
				status = data[0];
			} else if (run->io.direction == KVM_EXIT_IO_IN) {
				memset(data, 0xff, (size_t)run->io.size * run->io.count);
			}
			break;
		}
		case KVM_EXIT_HLT:
			fprintf(stderr, "raw-kvm-pio: guest halted before writing to port 0x%x\n", PORT_EXIT);
			return 1;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "raw-kvm-pio: KVM_EXIT_INTERNAL_ERROR, suberror %u\n",
				run->internal.suberror);
			return 1;
		default:
			fprintf(stderr, "raw-kvm-pio: unexpected exit reason %u\n", run->exit_reason);
			return 1;
		}
	}
	double t = now_us() - t0;

	printf("raw-kvm-pio: writes=%lu exits=%lu loop_us=%.0f us_per_exit=%.3f\n", writes, exits, t,
	       t / (double)exits);
	if (status != 0) {
		fprintf(stderr, "raw-kvm-pio: guest wrote 0x%02x to the debug-exit port\n", status);
		return 1;
	}
	return 0;
}
