# bench/bench-lib.sh - shared by the bench scripts (sourced).
: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set (run through make bench)}"
VMMCTL="$VMM_BUILDDIR/core/vmmctl"
MEASURE="$VMM_BUILDDIR/bench/measure"
GUESTS="$VMM_BUILDDIR/tests/guests"

# kvm_usable: root and an openable /dev/kvm.
kvm_usable() {
	[ "$(id -u)" = 0 ] && [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null
}

# bench_kvm_tmp NAME: without root and /dev/kvm, says "NAME: skipped"
# and ends the script with status 0; else $tmp is a new directory, removed
# when the script exits.
bench_kvm_tmp() {
	if ! kvm_usable; then
		echo "$1: skipped: needs root and /dev/kvm"
		exit 0
	fi
	tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$tmp"' EXIT
}

# field NAME LINE: the value of NAME=VALUE in LINE.
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# slopes DIR MODE...: RUNS interleaved rounds over the MODEs, each adding
# to DIR/MODE the per-event cost (run_us MODE N2 - run_us MODE N1) /
# (N2 - N1), where run_us MODE N is the caller's: the run-loop time of one
# run with N events.  Start-up and teardown cancel out of the slope.
slopes() {
	_dir=$1
	shift
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		for _m in "$@"; do
			_a=$(run_us "$_m" "$N1") || exit 1
			_b=$(run_us "$_m" "$N2") || exit 1
			echo "$_a $_b" | awk -v n=$((N2 - N1)) '{ printf "%.3f\n", ($2 - $1) / n }' >>"$_dir/$_m"
		done
		_i=$((_i + 1))
	done
}

# bench_wait_line NAME FILE PATTERN PID: wait (60 s at most: a hang guard,
# not a threshold) for a line in FILE while process PID lives; NAME
# prefixes the error.
bench_wait_line() {
	_w=0
	until grep -q "$3" "$2" 2>/dev/null; do
		kill -0 "$4" 2>/dev/null || { echo "$1: vmmctl ended early: $(tail -n 3 "$2.err" 2>/dev/null)" >&2; exit 1; }
		[ $_w -lt 600 ] || { echo "$1: no '$3' in $2 after 60 s" >&2; exit 1; }
		sleep 0.1; _w=$((_w + 1))
	done
}

# json_num NAME FILE: the number member NAME of the JSON in FILE.
json_num() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$2"; }

# bench_migrate_once NAME CONF CMDLINE [ARG...]: one live migration in
# $tmp (bench/migrate.sh, bench/dirty-log.sh): the source `vmmctl run CONF`
# with tests/guests/mig-pattern.elf and CMDLINE, the destination `vmmctl
# receive`, and once the guest's first pass is behind it (two reports) and
# the destination listens, `vmmctl migrate ... ARG...`.  The API's reply is
# left in $tmp/mig.out, the source's serial output in $tmp/src (its log in
# $tmp/src.err), the destination's in $tmp/dst.  The source must end with
# status 12 and the guest go on at the destination without
# MIG-PATTERN-BAD; else NAME and why on stderr and the script exits 1.
# SRC and DST hold the processes' ids while they run (for the caller's
# trap).
bench_migrate_once() {
	_n=$1 _conf=$2 _cmd=$3
	shift 3
	# Every output of the run before goes first: a background job
	# truncates its file only once it runs, and the waits below must not
	# take that run's lines (its reports, its "waiting for a migration")
	# for this one's.
	rm -f "$tmp/src.sock" "$tmp/dst.sock" "$tmp/dapi.sock" "$tmp/src" "$tmp/src.err" "$tmp/dst" \
		"$tmp/dst.err" "$tmp/mig.out" "$tmp/mig.err"
	"$VMMCTL" run "$_conf" --kernel "$GUESTS/mig-pattern.elf" --cmdline "$_cmd" --api "$tmp/src.sock" \
		</dev/null >"$tmp/src" 2>"$tmp/src.err" &
	SRC=$!
	"$VMMCTL" receive "$tmp/dst.sock" --api "$tmp/dapi.sock" </dev/null >"$tmp/dst" 2>"$tmp/dst.err" &
	DST=$!
	bench_wait_line "$_n" "$tmp/src" '^mig-pattern: ticks [0-9]*00 gen [2-9]' "$SRC"
	bench_wait_line "$_n" "$tmp/dst.err" 'waiting for a migration' "$DST"
	"$VMMCTL" migrate "$tmp/src.sock" "$tmp/dst.sock" "$@" >"$tmp/mig.out" 2>"$tmp/mig.err" ||
		{ echo "$_n: vmmctl migrate: $(cat "$tmp/mig.err")" >&2; exit 1; }
	wait "$SRC"; _st=$?; SRC=
	[ "$_st" = 12 ] || { echo "$_n: the source ended with $_st, expected 12" >&2; exit 1; }
	bench_wait_line "$_n" "$tmp/dst" '^mig-pattern: ticks' "$DST"
	grep -q MIG-PATTERN-BAD "$tmp/dst" && { echo "$_n: $(grep MIG-PATTERN-BAD "$tmp/dst")" >&2; exit 1; }
	"$VMMCTL" stop "$tmp/dapi.sock" >/dev/null 2>&1
	wait "$DST"; DST=
	return 0
}
