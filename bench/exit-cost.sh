#!/bin/sh
# bench/exit-cost.sh - cost of one port-I/O exit through vmmctl against a
# minimal raw KVM program (bench/raw-kvm-pio), both running the flat guest
# tests/guests/bench-pio.bin: N writes to the UART scratch register 0x3ff,
# then one write to the debug-exit port.
#
# Each program times its own run loop (vmmctl: `--stats` run_us of vcpu0;
# raw-kvm-pio: loop_us), from the first KVM_RUN to the exit, so process
# start-up and teardown, whose jitter on these shared nested hosts is larger
# than the effect measured, stay out.  vmmctl runs bench/exit-cost.conf, the
# machine the raw program builds (16 MiB, no in-kernel irqchip).  RUNS runs
# each, interleaved; the ratio of medians is the headline, the ratio of the
# fastest runs is printed beside it.  No threshold fails the run; only a
# program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
RAW="$VMM_BUILDDIR/bench/raw-kvm-pio"
BIN="$GUESTS/bench-pio.bin"
CONF="$VMM_SRCDIR/bench/exit-cost.conf"
RUNS=${RUNS:-15}

if ! kvm_usable; then
	echo "exit-cost: skipped: needs root and /dev/kvm"
	exit 0
fi
for f in "$RAW" "$VMMCTL" "$BIN"; do
	[ -e "$f" ] || { echo "exit-cost: $f is missing" >&2; exit 1; }
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
exits=
i=0
while [ $i -lt "$RUNS" ]; do
	"$VMMCTL" run --stats --format flat --kernel "$BIN" "$CONF" </dev/null >/dev/null 2>"$tmp/stats" ||
		{ echo "exit-cost: vmmctl failed: $(cat "$tmp/stats")" >&2; exit 1; }
	line=$(grep '^vcpu0 exits:' "$tmp/stats")
	echo "$(field run_us "$line") $(field total "$line")" >>"$tmp/vmmctl"
	line=$("$RAW" "$BIN") || { echo "exit-cost: raw-kvm-pio failed" >&2; exit 1; }
	echo "$(field loop_us "$line") $(field exits "$line")" >>"$tmp/raw"
	i=$((i + 1))
done

# per-exit figures, sorted: median and minimum
stat() { awk '{ printf "%.4f\n", $1 / $2 }' "$1" | sort -n | awk '{ v[NR] = $1 } END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1] }'; }
set -- $(stat "$tmp/vmmctl") $(stat "$tmp/raw")
awk -v vm="$1" -v vmin="$2" -v rm="$3" -v rmin="$4" -v n="$RUNS" -v e="$(cut -d' ' -f2 "$tmp/raw" | head -1)" 'BEGIN {
	printf "exit-cost: vmmctl %.2f us/exit, raw KVM %.2f us/exit, ratio %.3f (target <= 1.05)\n", vm, rm, vm / rm
	printf "exit-cost: (run-loop time / %d exits, median of %d interleaved runs; fastest runs: vmmctl %.2f, raw %.2f, ratio %.3f)\n", e, n, vmin, rmin, vmin / rmin
}'
