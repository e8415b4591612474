#!/bin/sh
# uart-test.elf (PVH) on tests/guests/uart-test.conf: polled output, then
# THR-empty interrupts through the in-kernel 8259 (IRQ 4), then exit 0x21.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/uart-test.elf"

run_guest uart-test "$VMMCTL" run --kernel "$GUESTS/uart-test.elf" \
	"$VMM_SRCDIR/tests/guests/uart-test.conf"
expect_no_fail
expect_line "poll ok"
expect_line "irq tx ok"
expect_line "UART-TEST-DONE"
expect_status 67
echo "PASS: uart-test.elf: polled and interrupt-driven output, status 67"
