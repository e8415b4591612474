#!/bin/sh
# bench/dirty-log.sh - the kvm plugin's two dirty logs side by side (issue
# 14): the same live migrations as bench/migrate.sh, once with dirty-log =
# "bitmap" (KVM_GET_DIRTY_LOG per slot) and once with "ring" (a ring per
# vCPU, KVM_CAP_DIRTY_LOG_RING_ACQ_REL), interleaved run by run, and for each
# workload the medians of downtime, total time and the harvest cost per
# round (the API's harvest-ms, the time in the plugin's dirty_log_get, over
# the rounds that harvested), with ring/bitmap ratios.  The guest is
# tests/guests/mig-pattern.elf in a 64 MiB machine with KVM's irqchip:
# idle (16 pages, 1 page a tick: few pages dirty), then rate= R pages a
# tick over 8192 pages (32 MiB) for each R in RATES, and "max" (as fast as
# it writes); idle-1g is idle in a 1 GiB machine, where a bitmap is 16
# times longer and the ring's entries as few.  RUNS (default 5) migrations per workload and mode.  No
# threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
ELF="$GUESTS/mig-pattern.elf"
CONF="$VMM_SRCDIR/tests/guests/snap-kernel.conf"
RATES=${RATES:-"1 4 16 64"}
RUNS=${RUNS:-5}

bench_kvm_tmp dirty-log
for f in "$VMMCTL" "$ELF" "$CONF"; do
	[ -e "$f" ] || { echo "dirty-log: $f is missing" >&2; exit 1; }
done
SRC= DST=
trap '[ -n "$SRC" ] && kill -KILL "$SRC" 2>/dev/null; [ -n "$DST" ] && kill -KILL "$DST" 2>/dev/null; rm -rf "$tmp"' EXIT
for mode in bitmap ring; do
	for mem in 64M 1G; do
		sed -e "s/^memory = .*/memory = $mem/" \
			-e "s/^hypervisor \"kvm\" {/hypervisor \"kvm\" { dirty-log = \"$mode\"/" "$CONF" >"$tmp/$mode-$mem.conf"
	done
done

wait_line() { bench_wait_line dirty-log "$@"; }
num() { json_num "$1" "$tmp/mig.out"; }

# migrate_once MODE CMDLINE: one migration of the $mem machine; appends
# "downtime total harvest-per-round rounds pages full-exits" to
# $tmp/MODE.$work.
migrate_once() {
	# The outputs go first: a background job truncates its file only
	# once it runs, and the last run's lines must not pass for this one's.
	rm -f "$tmp/src.sock" "$tmp/dst.sock" "$tmp/dapi.sock" "$tmp/src" "$tmp/src.err" "$tmp/dst" "$tmp/dst.err"
	"$VMMCTL" run "$tmp/$1-$mem.conf" --kernel "$ELF" --cmdline "$2 ticks=2000000000" \
		--api "$tmp/src.sock" </dev/null >"$tmp/src" 2>"$tmp/src.err" &
	SRC=$!
	"$VMMCTL" receive "$tmp/dst.sock" --api "$tmp/dapi.sock" </dev/null >"$tmp/dst" 2>"$tmp/dst.err" &
	DST=$!
	wait_line "$tmp/src" '^mig-pattern: ticks [0-9]*00 gen [2-9]' "$SRC"
	wait_line "$tmp/dst.err" 'waiting for a migration' "$DST"
	"$VMMCTL" migrate "$tmp/src.sock" "$tmp/dst.sock" >"$tmp/mig.out" 2>"$tmp/mig.err" ||
		{ echo "dirty-log: $1: vmmctl migrate: $(cat "$tmp/mig.err")" >&2; exit 1; }
	wait "$SRC"; st=$?; SRC=
	[ "$st" = 12 ] || { echo "dirty-log: $1: the source ended with $st, expected 12" >&2; exit 1; }
	until [ "$(grep -c '^mig-pattern: ticks' "$tmp/dst")" -ge 1 ]; do
		kill -0 "$DST" 2>/dev/null || { echo "dirty-log: $1: the destination ended: $(tail -n 3 "$tmp/dst.err")" >&2; exit 1; }
		sleep 0.1
	done
	grep -q MIG-PATTERN-BAD "$tmp/dst" && { echo "dirty-log: $1: $(grep MIG-PATTERN-BAD "$tmp/dst")" >&2; exit 1; }
	"$VMMCTL" stop "$tmp/dapi.sock" >/dev/null 2>&1
	wait "$DST"; DST=
	full=$(sed -n 's/.*dirty rings: .* \([0-9]*\) ring-full exits.*/\1/p' "$tmp/src.err")
	echo "$(num downtime-ms) $(num total-ms) $(num harvest-ms) $(num rounds) $(num pages) ${full:-0}" |
		awk '{ printf "%s %s %.4f %s %s %s\n", $1, $2, $4 ? $3 / $4 : 0, $4, $5, $6 }' >>"$tmp/$1.$work"
}

# col FILE N: the median of column N.
col() { awk -v n="$2" '{ print $n }' "$1" >"$tmp/col"; median "$tmp/col"; }

for work in idle idle-1g $RATES max; do
	mem=64M
	case $work in
	idle) cmd="pages=16 rate=1" ;;
	idle-1g) cmd="pages=16 rate=1" mem=1G ;;
	max) cmd="pages=8192 rate=0" ;;
	*) cmd="pages=8192 rate=$work" ;;
	esac
	i=0
	while [ $i -lt "$RUNS" ]; do
		migrate_once bitmap "$cmd"
		migrate_once ring "$cmd"
		i=$((i + 1))
	done
	bd=$(col "$tmp/bitmap.$work" 1) bt=$(col "$tmp/bitmap.$work" 2) bh=$(col "$tmp/bitmap.$work" 3)
	rd=$(col "$tmp/ring.$work" 1) rt=$(col "$tmp/ring.$work" 2) rh=$(col "$tmp/ring.$work" 3)
	br=$(col "$tmp/bitmap.$work" 4) rr=$(col "$tmp/ring.$work" 4) rf=$(col "$tmp/ring.$work" 6)
	awk -v w="$work" -v c="$cmd" -v m="$mem" -v n="$RUNS" -v bd="$bd" -v bt="$bt" -v bh="$bh" -v rd="$rd" -v rt="$rt" \
		-v rh="$rh" -v br="$br" -v rr="$rr" -v rf="$rf" 'function q(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "-" }
	BEGIN {
		printf "dirty-log: %s (%s, %s), median of %d: downtime bitmap %.2f ms ring %.2f ms (%s), total %.1f ms / %.1f ms (%s), harvest per round %.3f ms / %.3f ms (%s); rounds %s / %s, ring-full exits %s\n",
			w, c, m, n, bd, rd, q(rd, bd), bt, rt, q(rt, bt), bh, rh, q(rh, bh), br, rr, rf
	}'
done
