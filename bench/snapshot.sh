#!/bin/sh
# bench/snapshot.sh - snapshot and restore (issue 14) on tests/guests/spin.elf
# (numbered lines on COM1 until stopped) in a machine whose only userspace
# device is the UART (tests/guests/snap-kernel.conf: KVM's irqchip and PIT):
#  1. restore-to-running against a cold start of the same machine: vmmctl's
#     own "setup: X ms from vmmctl start to the first vCPU entry" (--stats)
#     for `vmmctl run` and for `vmmctl restore` of a snapshot of it, RUNS
#     runs each, interleaved; medians and their ratio;
#  2. snapshot write time (vmmctl's log line: pausing excluded) and size on
#     disk (du) and RAM data written, against guest memory size.
# No threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
RUNS=${RUNS:-5}
ELF="$GUESTS/spin.elf"
CONF="$VMM_SRCDIR/tests/guests/snap-kernel.conf"

bench_kvm_tmp snapshot
for f in "$VMMCTL" "$ELF" "$CONF"; do
	[ -e "$f" ] || { echo "snapshot: $f is missing" >&2; exit 1; }
done
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$tmp"' EXIT

# wait_line FILE PATTERN: bounded wait for a line (a hang guard).
wait_line() {
	w=0
	until grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$PID" 2>/dev/null || { echo "snapshot: vmmctl ended early: $(tail -n 3 "$tmp/err")" >&2; exit 1; }
		[ $w -lt 600 ] || { echo "snapshot: no '$2' in $1 after 60 s" >&2; exit 1; }
		sleep 0.1; w=$((w + 1))
	done
}

# start ARGS...: vmmctl ARGS --api $tmp/sock --stats in the background.
start() {
	: >"$tmp/out"; : >"$tmp/err"
	"$VMMCTL" "$@" --api "$tmp/sock" --stats </dev/null >"$tmp/out" 2>"$tmp/err" &
	PID=$!
}

# finish: stop it through the API; prints its setup time in ms.
finish() {
	"$VMMCTL" stop "$tmp/sock" >/dev/null 2>&1 || { echo "snapshot: vmmctl stop failed" >&2; exit 1; }
	wait "$PID"; st=$?
	PID=
	[ "$st" = 12 ] || { echo "snapshot: vmmctl ended with $st, expected 12: $(tail -n 3 "$tmp/err")" >&2; exit 1; }
	tr -d '\r' <"$tmp/err" | sed -n 's/^setup: \([0-9.]*\) ms from vmmctl start.*/\1/p'
}

# The snapshot every restore starts from, taken once the guest prints.
start run "$CONF" --kernel "$ELF"
wait_line "$tmp/out" '^tick '
"$VMMCTL" snapshot "$tmp/sock" "$tmp/snap" >/dev/null 2>"$tmp/snap.err" ||
	{ echo "snapshot: vmmctl snapshot: $(cat "$tmp/snap.err")" >&2; exit 1; }
finish >/dev/null

i=0
while [ $i -lt "$RUNS" ]; do
	start run "$CONF" --kernel "$ELF"
	wait_line "$tmp/out" '^tick '
	finish >>"$tmp/cold"
	start restore "$tmp/snap"
	# the restored guest goes on printing where it was
	wait_line "$tmp/out" '^tick '
	finish >>"$tmp/restore"
	i=$((i + 1))
done
cold=$(median "$tmp/cold") restored=$(median "$tmp/restore")
awk -v c="$cold" -v r="$restored" -v n="$RUNS" 'BEGIN {
	printf "snapshot: start to first vCPU entry, median of %d: cold start %.2f ms, restore %.2f ms, restore / cold %.2fx\n", n, c, r, r / c
}'

for mem in 16M 64M 256M 1024M; do
	sed "s/^memory = .*/memory = $mem/" "$CONF" >"$tmp/mem.conf"
	start run "$tmp/mem.conf" --kernel "$ELF"
	wait_line "$tmp/out" '^tick '
	"$VMMCTL" snapshot "$tmp/sock" "$tmp/snap-$mem" >/dev/null 2>"$tmp/snap.err" ||
		{ echo "snapshot: vmmctl snapshot ($mem): $(cat "$tmp/snap.err")" >&2; exit 1; }
	finish >/dev/null
	line=$(grep 'snapshot .*records' "$tmp/err" | tr -d '\r')
	ms=$(printf '%s\n' "$line" | sed -n 's/.*, \([0-9.]*\) ms$/\1/p')
	data=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) KiB of RAM data.*/\1/p')
	disk=$(du -sk "$tmp/snap-$mem" | cut -f1)
	apparent=$(du -sk --apparent-size "$tmp/snap-$mem" | cut -f1)
	echo "snapshot: guest memory $mem: written in $ms ms, $data KiB of RAM data, $disk KiB on disk ($apparent KiB apparent)"
	rm -rf "$tmp/snap-$mem"
done
