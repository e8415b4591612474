# bench/bench-lib.sh - shared by the bench scripts (sourced).
: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set (run through make bench)}"
VMMCTL="$VMM_BUILDDIR/core/vmmctl"
MEASURE="$VMM_BUILDDIR/bench/measure"
GUESTS="$VMM_BUILDDIR/tests/guests"

# kvm_usable: root and an openable /dev/kvm.
kvm_usable() {
	[ "$(id -u)" = 0 ] && [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null
}

# field NAME LINE: the value of NAME=VALUE in LINE.
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
