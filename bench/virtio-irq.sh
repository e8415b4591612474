#!/bin/sh
# bench/virtio-irq.sh - cost of one level-triggered device interrupt with
# the in-kernel irqchip, through a resampling irqfd (the kvm plugin's
# default) and through KVM_IRQ_LINE (irqfd = false):
# tests/guests/virtio-irq.elf makes N virtio-rng requests, each completed
# by one interrupt on IOAPIC pin 16 (hold=0: no held lines).  The figure is
# the slope of vmmctl's run-loop time (--stats run_us) between N1 and N2
# requests, so boot and exit cancel out; it covers the whole request (an
# ioeventfd notify, the device's work on the main loop, the interrupt, the
# handler's two register accesses and the EOI), of which only the
# interrupt's delivery differs between the two.  Medians of RUNS
# interleaved runs.  No threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
ELF="$GUESTS/virtio-irq.elf"
CONF="$VMM_SRCDIR/tests/guests/virtio-irq.conf"
RUNS=${RUNS:-7}
N1=200 N2=2000

bench_kvm_tmp virtio-irq
cp "$CONF" "$tmp/irqfd.conf"
sed 's/irqchip = "kernel" }/irqchip = "kernel" irqfd = false }/' "$CONF" >"$tmp/irq-line.conf"
grep -q 'irqfd = false' "$tmp/irq-line.conf" || { echo "virtio-irq: cannot turn irqfd off in $CONF" >&2; exit 1; }

run_us() { # MODE N
	"$VMMCTL" run --stats --cmdline "n=$2 hold=0" --kernel "$ELF" "$tmp/$1.conf" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
	st=$?
	[ "$st" = 67 ] || { echo "virtio-irq: $1 n=$2: status $st: $(tail -3 "$tmp/err")" >&2; exit 1; }
	want=1
	[ "$1" = irq-line ] && want=0
	grep -q "^irq: $want line(s) by irqfd" "$tmp/err" ||
		{ echo "virtio-irq: $1 n=$2: not $want line(s) by irqfd: $(grep '^irq:' "$tmp/err")" >&2; exit 1; }
	field run_us "$(grep '^vcpu0 exits:' "$tmp/err")"
}

slopes "$tmp" irqfd irq-line
x=$(median "$tmp/irqfd")
y=$(median "$tmp/irq-line")
echo "virtio-irq: irqfd $x us/irq, KVM_IRQ_LINE $y us/irq, ratio $(awk -v a="$x" -v b="$y" 'BEGIN { printf "%.2f", a / b }')"
echo "virtio-irq: (one virtio-rng request and its level-triggered interrupt; slope of run-loop time between $N1 and $N2 requests, median of $RUNS runs)"
