#!/bin/sh
# bench/hyperv.sh - the hyperv plugin's costs in one run of
# tests/guests/hyperv.elf with bench=N: reading the partition reference
# counter by MSR (an MSR exit to the plugin) against the reference TSC page
# (guest code only), and one synthetic timer interrupt (a direct-mode
# STIMER armed already due: the wrmsr, the main loop's timer, the MSI, the
# guest's handler), all in guest TSC cycles.  Emulated mode only: this
# host's KVM has no Hyper-V; bench/hyperv-nested.sh compares both modes on
# the nested test host.
# No threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
ELF="$GUESTS/hyperv.elf"
N=${N:-500}

bench_kvm_tmp hyperv
"$VMMCTL" run --cmdline "bench=$N" --kernel "$ELF" "$VMM_SRCDIR/tests/guests/hyperv.conf" \
	</dev/null >"$tmp/out" 2>"$tmp/err"
st=$?
[ "$st" = 67 ] || { echo "hyperv: status $st: $(tail -3 "$tmp/err") $(tail -3 "$tmp/out")" >&2; exit 1; }
line=$(tr -d '\r' <"$tmp/out" | grep '^hyperv-bench: ')
[ -n "$line" ] || { echo "hyperv: no hyperv-bench line" >&2; exit 1; }
n=$(field n "$line")
msr=$(field msr_cycles "$line")
page=$(field page_cycles "$line")
stimer=$(field stimer_cycles "$line")
awk -v n="$n" -v m="$msr" -v p="$page" -v s="$stimer" 'BEGIN {
	printf "hyperv: reference counter by MSR %.0f cycles/read, by TSC page %.0f cycles/read (page/MSR %.2fx); synthetic timer interrupt (emulated) %.0f cycles (%.1fx an MSR read)\n",
		m / n, p / n, p / m, s / n, s / m
}'
echo "hyperv: ($n of each, guest TSC cycles, one run; kernel mode: make bench-nested)"
