#!/bin/sh
# bench/hyperv-nested.sh - the hyperv plugin's costs in both modes, side by
# side in one boot of the nested test host (tests/e2e/nested.sh, whose L1
# has kvm_amd with Hyper-V): tests/guests/hyperv.elf with bench=N under
# mode = "emulated" and mode = "kernel" (KVM's own), in guest TSC cycles.
# Printed as ratios: a synthetic timer interrupt (a direct-mode STIMER1
# armed already due) kernel against emulated, and a reference counter read
# by MSR kernel against emulated.  Not part of make check or make bench
# (it boots L1 under TCG: minutes); run it with `make bench-nested`.
# And the reference counter read through the TSC page, against the MSR, in
# each mode: L1 boots with tsc=reliable (e2e-lib.sh), so KVM has a master
# clock there and both modes keep the page valid; a run whose guest says
# the page was invalid (sequence 0: a read is then only a look at the
# sequence) has its page figure left out, with a line saying so.
# No threshold fails the run; only a failed run does.
: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set (run through make bench-nested)}"
: "${VMM_SRCDIR:?VMM_SRCDIR is not set (run through make bench-nested)}"
N=${N:-300}
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
E2E_ONLY='^hyperv-bench-' E2E_HV_BENCH=$N E2E_KEEP=1 sh "$VMM_SRCDIR/tests/e2e/nested.sh" >"$out" 2>&1
st=$?
dir=$(sed -n 's/^(work directory kept: \(.*\))$/\1/p' "$out" | tail -n 1)
if [ "$st" != 0 ] || [ -z "$dir" ]; then
	echo "hyperv-nested: the nested run failed (status $st):" >&2
	tail -n 20 "$out" >&2
	exit 1
fi
trap 'rm -f "$out"; rm -rf "$dir"' EXIT
line() { tr -d '\r' <"$dir/run-hyperv-bench-$1.log" | grep '^hyperv-bench: ' | head -n 1; }
em=$(line emulated) kn=$(line kernel)
[ -n "$em" ] && [ -n "$kn" ] || { echo "hyperv-nested: no hyperv-bench line (emulated: '$em', kernel: '$kn')" >&2; exit 1; }
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
awk -v n="$(field n "$em")" -v em="$(field msr_cycles "$em")" -v es="$(field stimer_cycles "$em")" \
    -v km="$(field msr_cycles "$kn")" -v ks="$(field stimer_cycles "$kn")" 'BEGIN {
	printf "hyperv-nested: synthetic timer interrupt: emulated %.0f, kernel %.0f cycles (kernel/emulated %.2fx)\n",
		es / n, ks / n, ks / es
	printf "hyperv-nested: reference counter by MSR: emulated %.0f, kernel %.0f cycles/read (kernel/emulated %.2fx)\n",
		em / n, km / n, km / em
}'
for m in emulated kernel; do
	l=$(line $m)
	if tr -d '\r' <"$dir/run-hyperv-bench-$m.log" | grep -q 'TSC page invalid'; then
		echo "hyperv-nested: $m: the TSC page was invalid (sequence 0): its reads are left out"
		continue
	fi
	awk -v m=$m -v n="$(field n "$l")" -v r="$(field msr_cycles "$l")" -v p="$(field page_cycles "$l")" 'BEGIN {
		printf "hyperv-nested: %s: reference counter by TSC page %.0f cycles/read, by MSR %.0f (MSR/page %.0fx)\n",
			m, p / n, r / n, r / p
	}'
done
echo "hyperv-nested: ($N of each, guest TSC cycles, one boot of the nested host: L1 under TCG, kvm_amd)"
