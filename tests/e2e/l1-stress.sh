#!/bin/sh
# tests/e2e/l1-stress.sh - does the nested test host's L1 survive its
# emulator while its CPUs run nested guests?  Run by hand from a build
# directory (not by make check: a run lasts minutes; issue 17,
# tests/e2e/README.md "The cause"):
#
#   VMM_SRCDIR=$PWD VMM_BUILDDIR=$PWD sh tests/e2e/l1-stress.sh
#   E2E_SMP=2 VMM_SRCDIR=$PWD VMM_BUILDDIR=$PWD sh tests/e2e/l1-stress.sh
#
# The first is the L1 the e2e tests now boot (one CPU) and passes; the
# second, two L1 CPUs as before, panicked L1 within 1-4 minutes in every
# run with QEMU 7.2.
#
# Boots the same L1 as nested.sh (e2e-lib.sh: its kernel, QEMU and
# parameters, and the knobs E2E_SMP, E2E_ACCEL, E2E_CPU, E2E_APPEND,
# E2E_KVM_AMD, E2E_L1_TICK), whose /init loads KVM and runs tests/e2e/l1-stress.c for
# STRESS_SECS (300) with STRESS_GUESTS (all: a guest in a CPUID loop on
# each L1 CPU, the default with two; cpu0; two-on-cpu0, the default with
# one; none), STRESS_VINTR=1 (each guest with an interrupt queued that it
# never takes: a V_IRQ at every VMRUN).  No vmmctl is involved.  Fails
# when L1's kernel panics or oopses, a guest exits in a way its code
# cannot (a triple fault), or an L1 CPU's wake-up was lost (a sleeper
# late by over 1 s, or stuck for 2 s).  Prints the last L1-STRESS-STAT.
: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set}"
: "${VMM_SRCDIR:?VMM_SRCDIR is not set}"
. "$VMM_SRCDIR/tests/e2e/e2e-lib.sh"

STRESS_SECS=${STRESS_SECS:-300}
[ "$E2E_SMP" = 1 ] && STRESS_GUESTS=${STRESS_GUESTS:-two-on-cpu0}
STRESS_GUESTS=${STRESS_GUESTS:-all}
prog=$(e2e_real_binary "$VMM_BUILDDIR/tests/e2e/l1-stress")
[ -f "$prog" ] || { echo "FAIL: $prog is missing (make check builds it: make tests/e2e/l1-stress)"; exit 1; }
e2e_setup
e2e_rd_add_bin "$prog" /e2e/bin/l1-stress
rm -f "$E2E_RD/e2e/modparams-kvm-amd"
[ -n "${E2E_KVM_AMD:-}" ] && echo "$E2E_KVM_AMD" >"$E2E_RD/e2e/modparams-kvm-amd"
echo "$STRESS_SECS $STRESS_GUESTS 1000 2000 15 ${STRESS_VINTR:-0}" >"$E2E_RD/e2e/stress-args"
echo "export LD_LIBRARY_PATH=$E2E_LIBDIRS" >"$E2E_RD/e2e/env"
{ e2e_init_start; cat <<'EOI'
[ -z "$why" ] || echo "L1-STRESS-FAIL$why"
echo "L1-STRESS-L1 cpus=$(nproc) npt=$(cat /sys/module/kvm_amd/parameters/npt) cmdline=$(cat /proc/cmdline)"
/e2e/bin/l1-stress $(cat /e2e/stress-args)
poweroff -f
EOI
} >"$E2E_RD/init"
chmod +x "$E2E_RD/init"
(cd "$E2E_RD" && find . | cpio -o -H newc --quiet | gzip -1) >"$E2E_TMP/l1-initrd.gz" ||
	{ echo "FAIL: cannot pack the L1 initramfs"; exit 1; }
: >"$E2E_SERIAL"
_t0=$(e2e_now_ms)
echo "l1-stress: L1 -accel $E2E_ACCEL -cpu $E2E_CPU -smp $E2E_SMP, kvm_amd ${E2E_KVM_AMD:-defaults}, guests: $STRESS_GUESTS, $STRESS_SECS s"
e2e_qemu_start "${E2E_APPEND:-}" ""
# panic=-1 and -no-reboot: a panicking L1 ends QEMU too
_n=0
while kill -0 $_qpid 2>/dev/null && [ $_n -lt $((STRESS_SECS * 2 + 600)) ]; do
	sleep 1; _n=$((_n + 1))
	grep -q 'L1-STRESS-DONE' "$E2E_SERIAL" && break
done
sleep 2
e2e_qemu_stop
_secs=$(( ($(e2e_now_ms) - _t0) / 1000 ))
tr -d '\r' <"$E2E_SERIAL" >"$E2E_TMP/l1.log"
L=$E2E_TMP/l1.log
grep -a '^L1-STRESS-L1' "$L"
grep -a '^L1-STRESS-STAT' "$L" | tail -n 1
bad=$(grep -a -m1 -E 'Kernel panic|BUG:|Oops|general protection|L1-STRESS-FAIL|L1-STRESS-GUEST-EXIT|L1-STRESS-LATE|L1-STRESS-STUCK' "$L")
if [ -n "$bad" ]; then
	grep -a -E 'Kernel panic|BUG:|Oops|RIP:|L1-STRESS-(FAIL|GUEST-EXIT|LATE|STUCK)' "$L" | head -n 12 | sed 's/^/  /'
	echo "FAIL: l1-stress: L1 did not survive ($_secs s in all): $bad"
	exit 1
fi
grep -q '^L1-STRESS-DONE guest-failed=0' "$L" ||
	{ tail -n 20 "$L" | sed 's/^/  /'; echo "FAIL: l1-stress: no L1-STRESS-DONE (timeout or L1 gone)"; exit 1; }
echo "ok: l1-stress: L1 survived $STRESS_SECS s of nested guests ($_secs s in all)"
