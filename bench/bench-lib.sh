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
