#!/bin/sh
# Issue 9, robustness from the outside: vmmctl's exit statuses are never
# ambiguous, signals end it cleanly in every phase, faulting plugins are
# named, a path that would block start-up is refused, and a backend's write
# error is reported.  Each part says why it skips.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"

fail() { echo "FAIL: $*"; exit 1; }

require_kvm

# Exit statuses: a guest's debug-exit value can no longer pass for one of
# vmmctl's own (value 1 gave 3, the reset status) or wrap around (0x80
# gave 1).  Flat real-mode guests: out 0xf4 with al/ax, then hlt.
printf '\260\001\346\364\364' >"$TMPD/v1.bin"           # mov al,1; out 0xf4,al
run_guest v1 "$VMMCTL" run --kernel "$TMPD/v1.bin"
expect_status 3
printf '\260\200\346\364\364' >"$TMPD/v80.bin"          # mov al,0x80; out 0xf4,al
run_guest v80 "$VMMCTL" run --kernel "$TMPD/v80.bin"
expect_status 127
grep -q "exit: warning: the guest wrote 0x80: exit status 127" "$ERR" ||
	guest_fail "no line naming the value 0x80"
printf '\270\064\022\347\364\364' >"$TMPD/v1234.bin"    # mov ax,0x1234; out 0xf4,ax
run_guest v1234 "$VMMCTL" run --kernel "$TMPD/v1234.bin"
expect_status 127
# 0xFE to the 8042 is a reset request: 6, which no debug-exit value gives.
sed 's|^device "exit"|device "kbc" { plugin = "i8042" }\ndevice "exit"|' \
	"$VMM_SRCDIR/machines/x86-minimal.conf" >"$TMPD/kbc.conf"
grep -q i8042 "$TMPD/kbc.conf" || fail "could not add an i8042 to x86-minimal.conf"
printf '\260\376\346\144\364' >"$TMPD/reset.bin"        # mov al,0xfe; out 0x64,al; hlt
run_guest reset "$VMMCTL" run --kernel "$TMPD/reset.bin" "$TMPD/kbc.conf"
expect_status 6
echo "ok: debug-exit 1 -> 3, 0x80 and 0x1234 -> 127 (logged), reset -> 6"
