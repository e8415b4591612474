#!/bin/sh
# hello.elf (PVH) on vmmctl's built-in default machine, given with --kernel.
# The guest writes 0 to the debug-exit port: status 0 on the default machine.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/hello.elf"

run_guest hello "$VMMCTL" run --kernel "$GUESTS/hello.elf"
expect_line "Hello from a vmm guest"
expect_status 0
echo "PASS: hello.elf printed its line and exited with 0"
