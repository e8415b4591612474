#!/bin/sh
# bench/density.sh - VM density: N (32) trivial VMs started at once, by
# vmmctl and by QEMU microvm (startup.sh's command line), side by side.
# Each VM boots tests/guests/park.elf, which prints "parked" on COM1 and
# then halts with interrupts off, so a VM counts as running when its
# output holds that line, and it stays up (sleeping) until signalled.
#
# Per round and VMM: start all N at once, poll their outputs until every
# one printed the marker (VMs per second = N / that time), then read each
# process's PSS (/proc/PID/smaps_rollup: shared pages split between the
# processes sharing them, so the sum is the memory the N VMs cost) and RSS
# (/proc/PID/status), then SIGTERM them all.  ROUNDS rounds, the VMMs
# alternating which goes first; the medians are printed with their ratios.
# Bounded: a VM not running after TIMEOUT seconds fails the run, and every
# process started here is killed on the way out.  No threshold fails the
# run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
GUEST="$GUESTS/park.elf"
N=${N:-32}
ROUNDS=${ROUNDS:-3}
TIMEOUT=${TIMEOUT:-60}

bench_kvm_tmp density
for f in "$VMMCTL" "$GUEST"; do
	[ -e "$f" ] || { echo "density: $f is missing" >&2; exit 1; }
done
pids=""
# On any exit: the VMs of an unfinished round go too.
trap 'stop_all; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

stop_all() {
	[ -n "$pids" ] || return 0
	kill $pids 2>/dev/null
	# Give them 5 s to end on SIGTERM, then SIGKILL what is left.
	_t=0
	while [ $_t -lt 50 ] && kill -0 $pids 2>/dev/null; do
		sleep 0.1
		_t=$((_t + 1))
	done
	kill -KILL $pids 2>/dev/null
	wait 2>/dev/null
	pids=""
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# start KIND: launches the N VMs of KIND (vmm or qemu), outputs in
# $tmp/KIND.I.
start() {
	_i=0
	while [ $_i -lt "$N" ]; do
		if [ "$1" = vmm ]; then
			"$VMMCTL" run --kernel "$GUEST" >"$tmp/$1.$_i" 2>&1 </dev/null &
		else
			"$QEMU_X86" -M microvm,x-option-roms=off,rtc=off,pit=off,pic=off \
				-enable-kvm -cpu kvm64 -m 64 -nodefaults -no-user-config -display none \
				-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 \
				-kernel "$GUEST" >"$tmp/$1.$_i" 2>&1 </dev/null &
		fi
		pids="$pids $!"
		_i=$((_i + 1))
	done
}

# round KIND: one round; appends ms-to-all-running, total PSS KiB and
# total RSS KiB to $tmp/KIND.ms, .pss and .rss.
round() {
	rm -f "$tmp/$1".[0-9]*
	_t0=$(now_ms)
	start "$1"
	while :; do
		_up=$(grep -l '^parked' "$tmp/$1".[0-9]* 2>/dev/null | wc -l)
		[ "$_up" -ge "$N" ] && break
		for _p in $pids; do
			kill -0 "$_p" 2>/dev/null && continue
			echo "density: a $1 VM (pid $_p) ended before printing its marker:" >&2
			grep -L '^parked' "$tmp/$1".[0-9]* | head -1 | xargs cat >&2
			exit 1
		done
		if [ $(($(now_ms) - _t0)) -gt $((TIMEOUT * 1000)) ]; then
			echo "density: only $_up of $N $1 VMs running after $TIMEOUT s" >&2
			exit 1
		fi
		sleep 0.01
	done
	_t1=$(now_ms)
	echo $((_t1 - _t0)) >>"$tmp/$1.ms"
	_pss=0 _rss=0
	for _p in $pids; do
		_pss=$((_pss + $(awk '/^Pss:/ { print $2 }' /proc/"$_p"/smaps_rollup)))
		_rss=$((_rss + $(awk '/^VmRSS:/ { print $2 }' /proc/"$_p"/status)))
	done
	echo $_pss >>"$tmp/$1.pss"
	echo $_rss >>"$tmp/$1.rss"
	stop_all
}

kinds=vmm
if [ -z "$QEMU_X86" ]; then
	why="QEMU_X86 is empty (configure found no qemu-system-x86_64)"
elif [ ! -x "$QEMU_X86" ]; then
	why="$QEMU_X86 is not executable"
else
	kinds="vmm qemu"
fi
r=0
while [ $r -lt "$ROUNDS" ]; do
	# Alternate which VMM goes first: the second finds the page cache
	# and the host's memory as the first left them.
	if [ $((r % 2)) = 0 ]; then order=$kinds; else order=$(echo $kinds | awk '{ for (i = NF; i; i--) printf "%s ", $i }'); fi
	for k in $order; do
		round "$k"
	done
	r=$((r + 1))
done

report() {
	awk -v n="$N" -v who="$1" -v ms="$(median "$tmp/$2.ms")" -v pss="$(median "$tmp/$2.pss")" \
		-v rss="$(median "$tmp/$2.rss")" 'BEGIN {
		printf "density: %s: %d VMs running in %.0f ms (%.1f VMs/s); PSS %.1f MiB total, %.2f MiB per VM; RSS %.2f MiB per VM\n",
			who, n, ms, n * 1000 / ms, pss / 1024, pss / 1024 / n, rss / 1024 / n
	}'
}
report vmmctl vmm
if [ "$kinds" = vmm ]; then
	echo "density: no QEMU comparison: $why"
else
	report "qemu microvm" qemu
	awk -v vms="$(median "$tmp/vmm.ms")" -v qms="$(median "$tmp/qemu.ms")" \
		-v vp="$(median "$tmp/vmm.pss")" -v qp="$(median "$tmp/qemu.pss")" 'BEGIN {
		printf "density: vmmctl / qemu: start rate %.1fx (target >= 1x), memory (PSS) %.2fx (target <= 1x)\n",
			qms / vms, vp / qp
	}'
fi
echo "density: (median of $ROUNDS rounds, the VMMs alternating; a VM is running once it printed its marker)"
