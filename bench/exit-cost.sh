#!/bin/sh
# bench/exit-cost.sh - cost of one port-I/O exit through vmmctl against a
# minimal raw KVM program (bench/raw-kvm-pio), both running
# tests/guests/bench-pio.bin (N writes to the UART scratch register 0x3ff,
# then one write to the debug-exit port).  5 runs each, interleaved; the
# figure is median process wall time / number of exits (N + 1), so it
# includes process start-up (a few ms out of ~N * 10 us).
# No threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
RAW="$VMM_BUILDDIR/bench/raw-kvm-pio"
BIN="$GUESTS/bench-pio.bin"
RUNS=5

if ! kvm_usable; then
	echo "exit-cost: skipped: needs root and /dev/kvm"
	exit 0
fi
for f in "$RAW" "$MEASURE" "$VMMCTL" "$BIN"; do
	[ -e "$f" ] || { echo "exit-cost: $f is missing" >&2; exit 1; }
done

# One raw run first: checks the guest and gives N (writes to 0x3ff).
line=$("$RAW" "$BIN") || { echo "exit-cost: raw-kvm-pio failed" >&2; exit 1; }
writes=$(field writes "$line")
exits=$(field exits "$line")
[ -n "$exits" ] && [ "$exits" -gt 0 ] || { echo "exit-cost: bad raw-kvm-pio output: $line" >&2; exit 1; }

out=$("$MEASURE" -n $RUNS -q "$VMMCTL" run --kernel "$BIN" :: "$RAW" "$BIN") || {
	echo "exit-cost: measure failed: $out" >&2; exit 1; }
vline=$(printf '%s\n' "$out" | grep '^cmd=1 ')
rline=$(printf '%s\n' "$out" | grep '^cmd=2 ')
vst=$(field status "$vline"); rst=$(field status "$rline")
if [ "$vst" != 0 ] || [ "$rst" != 0 ]; then
	echo "exit-cost: a program failed: vmmctl status $vst, raw-kvm-pio status $rst" >&2
	exit 1
fi
vms=$(field wall_ms "$vline"); rms=$(field wall_ms "$rline")

awk -v v="$vms" -v r="$rms" -v e="$exits" -v w="$writes" -v n="$RUNS" 'BEGIN {
	vu = v * 1000 / e; ru = r * 1000 / e
	printf "exit-cost: vmmctl %.2f us/exit, raw KVM %.2f us/exit, ratio %.3f (target <= 1.05)\n", vu, ru, vu / ru
	printf "exit-cost: (%d writes to 0x3ff + 1 exit write; median wall of %d interleaved runs: vmmctl %.1f ms, raw %.1f ms)\n", w, n, v, r
}'
echo "exit-cost: raw KVM run loop alone: $(field us_per_exit "$line") us/exit"
