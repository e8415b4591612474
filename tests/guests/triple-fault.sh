#!/bin/sh
# triple-fault.elf: a guest whose CPU shuts down (a triple fault) ends
# vmmctl with status 4 and one error line naming the vCPU, in each irqchip
# mode; what the guest wrote before is kept.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/triple-fault.elf"

for m in kernel split emulated; do
	run_guest "triple-$m" "$VMMCTL" run --kernel "$GUESTS/triple-fault.elf" "$VMM_SRCDIR/tests/guests/irq-$m.conf"
	expect_line "triple-fault: an empty IDT, then a division by zero"
	expect_status 4
	grep -q "^vmmctl: error: vCPU 0: triple fault (guest shutdown)" "$ERR" ||
		guest_fail "irqchip $m: no 'vCPU 0: triple fault' line from vmmctl"
	[ "$(grep -c '^vmmctl: error: ' "$ERR")" = 1 ] ||
		guest_fail "irqchip $m: expected one error line, got: $(grep '^vmmctl: error: ' "$ERR")"
	echo "ok: irqchip $m: the triple fault ended vmmctl with 4 and one error line"
done
echo "PASS: triple-fault.elf"
