#!/bin/sh
# bench-pio.bin (flat real-mode binary at 0x8000) on the default machine:
# 20000 writes to the UART scratch register, then 0 to the debug-exit port.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/bench-pio.bin"

run_guest flat-pio "$VMMCTL" run --format flat --kernel "$GUESTS/bench-pio.bin"
expect_status 0
echo "PASS: bench-pio.bin ran to completion with status 0"
