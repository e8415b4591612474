#!/bin/sh
# bench/migrate.sh - live migration (issue 14): downtime and total time of
# `vmmctl migrate` between two vmmctl processes on this host, the guest
# tests/guests/mig-pattern.elf writing pages at a fixed rate (rate= pages
# per 1 ms tick of the 8254: R pages/ms is R * 4 MiB/s) over a working set
# of 8192 pages (32 MiB) in a 64 MiB machine (tests/guests/snap-kernel.conf's
# irqchip: KVM's).  For each rate, one migration: the figures of the
# API's reply (pre-copy rounds, pages sent, pages sent while paused, total
# time from connect to the destination's "ok", downtime from the pause to
# it), with the default rounds and with --max-rounds 1 (stop-and-copy
# right after round 1: what pre-copy saves), and the rate the guest
# reached (a slow vCPU writes fewer pages than it asks for).  No threshold
# fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
ELF="$GUESTS/mig-pattern.elf"
CONF="$VMM_SRCDIR/tests/guests/snap-kernel.conf"
RATES=${RATES:-"1 4 16 64"}

bench_kvm_tmp migrate
for f in "$VMMCTL" "$ELF" "$CONF"; do
	[ -e "$f" ] || { echo "migrate: $f is missing" >&2; exit 1; }
done
SRC= DST=
trap '[ -n "$SRC" ] && kill -KILL "$SRC" 2>/dev/null; [ -n "$DST" ] && kill -KILL "$DST" 2>/dev/null; rm -rf "$tmp"' EXIT
sed 's/^memory = .*/memory = 64M/' "$CONF" >"$tmp/m.conf"

num() { json_num "$1" "$tmp/mig.out"; }

for run in $RATES; do
for rounds in 30 1; do
	rate=$run
	bench_migrate_once migrate "$tmp/m.conf" "pages=8192 rate=$rate ticks=2000000000" --max-rounds "$rounds"
	last=$(grep '^mig-pattern: ticks' "$tmp/src" | tail -n 1)
	t=$(printf '%s\n' "$last" | sed -n 's/.*ticks \([0-9]*\) gen.*/\1/p')
	w=$(printf '%s\n' "$last" | sed -n 's/.* pages \([0-9]*\)$/\1/p')
	awk -v r="$rate" -v rounds="$(num rounds)" -v p="$(num pages)" -v pp="$(num paused-pages)" \
		-v t="$(num total-ms)" -v d="$(num downtime-ms)" -v ticks="$t" -v written="$w" -v max="$rounds" 'BEGIN {
		printf "migrate: 64 MiB guest, %d pages/ms asked (%.1f reached; 0: not measured) over 32 MiB, max-rounds %d: %d pre-copy rounds, %d pages sent (%d while paused), total %.1f ms, downtime %.2f ms\n", r, ticks ? written / ticks : 0, max, rounds, p, pp, t, d
	}'
done
done
