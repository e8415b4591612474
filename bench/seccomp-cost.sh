#!/bin/sh
# bench/seccomp-cost.sh - what vmmctl's seccomp filters (issue 15) cost:
# the same runs with --seccomp on (the default) and --seccomp off,
# interleaved, as ratios in one run.
#   start-up and exit: the whole process, vmmctl's default machine running
#     tests/guests/hello.elf (bench/measure: median wall time and peak RSS);
#   per exit: tests/guests/bench-pio.bin's port writes on
#     bench/exit-cost.conf, vcpu0's run-loop time from --stats per exit
#     (every exit is an ioctl(KVM_RUN) through the vCPU thread's filter).
# No threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
ELF="$GUESTS/hello.elf"
BIN="$GUESTS/bench-pio.bin"
CONF="$VMM_SRCDIR/bench/exit-cost.conf"
RUNS=${RUNS:-15}

if ! kvm_usable; then
	echo "seccomp-cost: skipped: needs root and /dev/kvm"
	exit 0
fi
for f in "$MEASURE" "$VMMCTL" "$ELF" "$BIN"; do
	[ -e "$f" ] || { echo "seccomp-cost: $f is missing" >&2; exit 1; }
done

out=$("$MEASURE" -n "$RUNS" -q "$VMMCTL" run --seccomp on --kernel "$ELF" \
	:: "$VMMCTL" run --seccomp off --kernel "$ELF") || { echo "seccomp-cost: measure failed: $out" >&2; exit 1; }
on=$(printf '%s\n' "$out" | grep '^cmd=1 '); off=$(printf '%s\n' "$out" | grep '^cmd=2 ')
for l in "$on" "$off"; do
	[ "$(field status "$l")" = 0 ] || { echo "seccomp-cost: vmmctl exited with $(field status "$l")" >&2; exit 1; }
done
awk -v a="$(field wall_ms "$on")" -v b="$(field wall_ms "$off")" -v ak="$(field rss_kib "$on")" \
	-v bk="$(field rss_kib "$off")" -v n="$RUNS" 'BEGIN {
	printf "seccomp-cost: start-up and exit: on %.1f ms / %.1f MiB, off %.1f ms / %.1f MiB, wall ratio %.3f (target <= 1.05; median of %d interleaved runs)\n",
		a, ak / 1024, b, bk / 1024, a / b, n
}'
# The fastest run of each: on a shared, loaded host the medians move with
# the neighbours' load; the minimum is closer to the work itself.
awk -v a="$(field wall_min_ms "$on")" -v b="$(field wall_min_ms "$off")" -v n="$RUNS" 'BEGIN {
	printf "seccomp-cost: start-up and exit, fastest of %d: on %.2f ms, off %.2f ms, ratio %.3f\n", n, a, b, a / b
}'

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
i=0
while [ "$i" -lt "$RUNS" ]; do
	for mode in on off; do
		"$VMMCTL" run --seccomp $mode --stats --format flat --kernel "$BIN" "$CONF" </dev/null >/dev/null \
			2>"$tmp/stats" || { echo "seccomp-cost: vmmctl failed: $(cat "$tmp/stats")" >&2; exit 1; }
		line=$(grep '^vcpu0 exits:' "$tmp/stats")
		echo "$(field run_us "$line") $(field total "$line")" >>"$tmp/$mode"
	done
	i=$((i + 1))
done
med() { awk '{ printf "%.4f\n", $1 / $2 }' "$1" | sort -n | awk '{ v[NR] = $1 } END {
	print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
awk -v a="$(med "$tmp/on")" -v b="$(med "$tmp/off")" -v n="$RUNS" 'BEGIN {
	printf "seccomp-cost: per exit: on %.2f us, off %.2f us, ratio %.3f (target <= 1.05; median of %d interleaved runs)\n", a, b, a / b, n
}'
