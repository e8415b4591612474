#!/bin/sh
# hyperv.elf (PVH) on tests/guests/hyperv.conf: the hyperv plugin in
# emulated mode seen from a guest on /dev/kvm (CPUID, hypercall page,
# synthetic MSRs, reference TSC page, a message-mode and a direct-mode
# synthetic timer through the SynIC), then exit 0x21; then hyperv-smp.elf
# on two vCPUs.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/hyperv.elf"
require_file "$GUESTS/hyperv-smp.elf"

run_guest hyperv "$VMMCTL" run --kernel "$GUESTS/hyperv.elf" \
	"$VMM_SRCDIR/tests/guests/hyperv.conf"
expect_no_fail
expect_line "hyperv: Hv#1, privileges ok, KVM at 0x40000100"
expect_line "hyperv: hypercall page ok (status 0, then 2)"
expect_line "hyperv: read-only MSRs #GP"
expect_line "hyperv: TSC page agrees with TIME_REF_COUNT"
expect_line "hyperv: stimer0 message ok"
expect_line "hyperv: stimer1 direct ok"
expect_line "HYPERV-DONE"
expect_status 67
echo "PASS: hyperv.elf: Hyper-V CPUID, hypercall page, MSRs, TSC page, SynIC timers, status 67"

# crash=1: the guest's crash report through the crash MSRs ends the run as
# a crash (status 4), its parameters and message in the log.
run_guest hyperv-crash "$VMMCTL" run --cmdline "crash=1" --kernel "$GUESTS/hyperv.elf" \
	"$VMM_SRCDIR/tests/guests/hyperv.conf"
grep -qF "guest crash (Hyper-V crash MSRs): P0=0x100 P1=0x101 P2=0x102" "$ERR" ||
	guest_fail "no crash report in vmmctl's log"
grep -qF "hyperv.elf crash test" "$ERR" || guest_fail "no crash message in vmmctl's log"
expect_status 4
echo "PASS: hyperv.elf crash=1: crash MSRs reported, status 4"

# Two vCPUs: VP index, the one TSC page on the AP, the AP's own SynIC.
run_guest hyperv-smp "$VMMCTL" run --kernel "$GUESTS/hyperv-smp.elf" \
	"$VMM_SRCDIR/tests/guests/hyperv-smp.conf"
expect_no_fail
expect_line "hyperv-smp: cpu1 up, VP index 1"
expect_line "hyperv-smp: cpu1 TSC page ok, its STIMER0 message and SINT on cpu1"
expect_line "HYPERV-SMP-DONE"
expect_status 67
echo "PASS: hyperv-smp.elf: two vCPUs, VP index, shared TSC page, per-vCPU SynIC, status 67"
