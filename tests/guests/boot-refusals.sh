#!/bin/sh
# What vmmctl's boot loaders refuse, and how: each bad kernel, command line
# or format gives one error line naming the file and exit status 2, and no
# guest runs (no serial output).  Also `--format flat`, the one way a flat
# real-mode binary boots (`format = "auto"` boots only an ELF or a bzImage).
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/hello.elf"

# refused KIND PATTERN ARGS...: `vmmctl run ARGS` exits 2 with exactly one
# stderr line, matching PATTERN, and the guest never ran.
refused() {
	kind=$1 pattern=$2; shift 2
	run_guest "$kind" "$VMMCTL" run "$@"
	[ "$STATUS" = 2 ] || guest_fail "$kind: exit status $STATUS, expected 2"
	grep -qE -- "$pattern" "$ERR" || guest_fail "$kind: no error line matching /$pattern/"
	[ "$(wc -l <"$ERR")" = 1 ] || guest_fail "$kind: $(wc -l <"$ERR") lines on stderr, expected one"
	[ -s "$OUT" ] && guest_fail "$kind: the guest ran"
	echo "ok: $kind: $(cat "$ERR")"
}

# mov al,0x10; out 0xf4,al; hlt: debug-exit status (0x10 << 1) | 1 = 33
printf '\260\020\346\364\364' >"$TMPD/exit33.bin"
run_guest flat "$VMMCTL" run --format flat --kernel "$TMPD/exit33.bin"
expect_status 33
echo "ok: --format flat boots a flat binary"
refused "bad --format" "--format coff: not one of auto, pvh, bzimage, flat" \
	--format coff --kernel "$TMPD/exit33.bin"

echo "PASS: boot refusals"
