#!/bin/sh
# bench/irq-cost.sh - cost of one interrupt delivered through the 8259 in
# each interrupt mode: tests/guests/irq-bench.elf takes N UART THR-empty
# interrupts, one byte each.  Per-interrupt cost is the slope of vmmctl's
# run-loop time (--stats run_us) between N=200 and N=2000, so boot and exit
# cancel out; medians of RUNS interleaved runs.  emulated and split are
# reported as ratios against kernel mode (KVM's own 8259).  No threshold
# fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
ELF="$GUESTS/irq-bench.elf"
RUNS=${RUNS:-7}
N1=200 N2=2000

bench_kvm_tmp irq-cost

modes=kernel
for m in split emulated; do
	if [ -e "${VMM_PLUGIN_PATH%%:*}/i8259.so" ]; then
		modes="$modes $m"
	else
		echo "irq-cost: $m mode skipped: the i8259 plugin is not built"
	fi
done

run_us() { # MODE N
	"$VMMCTL" run --stats --cmdline "n=$2" --kernel "$ELF" "$VMM_SRCDIR/bench/irq-$1.conf" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	st=$?
	[ "$st" = 67 ] || { echo "irq-cost: $1 n=$2: status $st: $(tail -3 "$tmp/err")" >&2; exit 1; }
	field run_us "$(grep '^vcpu0 exits:' "$tmp/err")"
}

slopes "$tmp" $modes
k=$(median "$tmp/kernel")
line="irq-cost: kernel $k us/irq"
for m in $modes; do
	[ $m = kernel ] && continue
	v=$(median "$tmp/$m")
	line="$line, $m $v us/irq ($(awk -v a="$v" -v b="$k" 'BEGIN { printf "%.2fx", a / b }') kernel)"
done
echo "$line"
echo "irq-cost: (8259 path, UART THR-empty interrupts; slope of run-loop time between $N1 and $N2 interrupts, median of $RUNS runs)"
