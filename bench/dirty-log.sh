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

num() { json_num "$1" "$tmp/mig.out"; }

# migrate_once MODE CMDLINE: one migration of the $mem machine; appends
# "downtime total harvest-per-round rounds pages full-exits" to
# $tmp/MODE.$work.
migrate_once() {
	bench_migrate_once "dirty-log: $1" "$tmp/$1-$mem.conf" "$2 ticks=2000000000"
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
