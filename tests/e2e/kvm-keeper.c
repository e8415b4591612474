/* SPDX-License-Identifier: MIT */
/*
 * tests/e2e/kvm-keeper.c - started by the nested test host's L1 /init
 * (e2e-lib.sh) before the first run, and left running: it holds two idle
 * VMs so that L1's KVM never flips its static keys while the tests run.
 *
 * Why (issue 17): KVM counts vCPUs whose local APIC is software-disabled
 * (apic_sw_disabled), hardware-disabled (apic_hw_disabled) and vCPUs with
 * no in-kernel local APIC (kvm_has_noapic_vcpu) in static keys
 * (arch/x86/kvm/lapic.c, x86.c).  Each count going 0 -> 1 or back (the
 * first vCPU of a run, the last one gone a second later) makes L1's
 * kernel patch its own text: int3 on every patched site, then IPIs that
 * the other CPU must answer (text_poke_bp).  Every frozen L1 captured so
 * far had a CPU in exc_int3/poke_int3_handler or waiting for the other
 * CPU with interrupts off: an interrupt between QEMU's emulated CPUs lost
 * under TCG.  The test guests' group, dozens of short VMs, froze L1 twice
 * in one CI run.  With these counts held at 1 or more from the start, a
 * run's vCPUs only move them between 1 and 2: no patching.
 *
 * Creating a VM also flips the scheduler's preempt-notifier key (the
 * first VM in, the last one out): these two VMs hold it too.  Counted
 * (E2E_COUNT_POKES, tests/e2e/README.md): the test guests' group made L1
 * patch its text 146 times without this program, 0 times with it.
 *
 * VM 1 has the in-kernel irqchip and one vCPU that never runs: its local
 * APIC stays software-disabled (as created) and is hardware-disabled here
 * (APIC base without its enable bit, KVM_SET_SREGS).  VM 2 has no
 * in-kernel irqchip and one vCPU.  Prints one line, E2E-KEEPER ..., then
 * waits until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <linux/kvm.h>

#define APIC_BASE_ENABLE (1ull << 11) /* IA32_APIC_BASE bit 11 (SDM 3A 11.4.4) */

static int fail(const char *what)
{
	printf("E2E-KEEPER FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	struct kvm_sregs sr;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0)
		return fail("/dev/kvm");
	int vm1 = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm1 < 0 || ioctl(vm1, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("VM 1 with the in-kernel irqchip");
	int cpu1 = ioctl(vm1, KVM_CREATE_VCPU, 0);
	if (cpu1 < 0 || ioctl(cpu1, KVM_GET_SREGS, &sr) < 0)
		return fail("VM 1's vCPU");
	sr.apic_base &= ~APIC_BASE_ENABLE;
	if (ioctl(cpu1, KVM_SET_SREGS, &sr) < 0)
		return fail("VM 1's vCPU: its local APIC hardware-disabled");
	int vm2 = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm2 < 0 || ioctl(vm2, KVM_CREATE_VCPU, 0) < 0)
		return fail("VM 2 (no in-kernel irqchip) and its vCPU");
	printf("E2E-KEEPER holding KVM's local-APIC static keys (a vCPU with its APIC software- and "
	       "hardware-disabled, one without an in-kernel APIC)\n");
	fflush(stdout);
	for (;;)
		pause();
}
#else
int main(void)
{
	printf("E2E-KEEPER none: x86-64 only\n");
	return 0;
}
#endif
