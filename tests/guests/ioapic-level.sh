#!/bin/sh
# ioapic-level.elf on ioapic-level.conf: level-triggered IOAPIC pins whose
# line is still high at the EOI must interrupt again (82093AA datasheet,
# remote IRR), in every irqchip mode with an IOAPIC: "kernel" (KVM's IOAPIC;
# the virtio-rng's line through a resampling irqfd, and again with
# irqfd = false through KVM_IRQ_LINE) and "split" (the ioapic plugin, KVM's
# local APICs and its EOI exits).  Phases: the plain hold; the pin's vector
# rewritten in place with interrupts off just before the line rises (split
# mode lost that interrupt's EOI, so the second one never came); the same
# reprogrammed masked-then-unmasked; two pins sharing a vector; mask/unmask
# around the EOI; the EOI while masked; the EOI of an interrupt that stayed
# in service while another pin went through 25 vectors (split mode lost it:
# the kvm plugin kept only the 24 newest level-triggered messages as KVM
# routes, and KVM reports the EOIs of routed vectors only).  See
# ioapic-level.c; the nested test host runs the same with halt=1.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/ioapic-level.elf"
for p in virtio-rng i8259 ioapic cmos-rtc; do
	have_plugin $p || guest_fail "$p.so not in VMM_PLUGIN_PATH=$VMM_PLUGIN_PATH"
done
GUEST_TIMEOUT=120   # a hang guard: a loaded machine is slow (qemu-irq-reference.sh)

CONF="$VMM_SRCDIR/tests/guests/ioapic-level.conf"
sed 's/irqchip = "kernel"/irqchip = "kernel" irqfd = false/' "$CONF" >"$TMPD/irqfd-off.conf"
sed 's/irqchip = "kernel"/irqchip = "split"/' "$CONF" >"$TMPD/split.conf"
grep -q 'irqfd = false' "$TMPD/irqfd-off.conf" && grep -q 'irqchip = "split"' "$TMPD/split.conf" ||
	guest_fail "cannot make the irqfd = false and split copies of $CONF"

check_run() { # NAME CONF
	run_guest "$1" "$VMMCTL" run --kernel "$GUESTS/ioapic-level.elf" "$2"
	expect_no_fail
	for ph in hold revector remask shared mask-eoi eoi-masked churn; do
		expect_line "ioapic-level: $ph ok"
	done
	expect_line "IOAPIC-LEVEL-DONE"
	expect_status 67
	echo "ok: $1: $(grep -a 'spurious' "$OUT" | tr -d '\r')"
}

check_run kernel "$CONF"
check_run kernel-irqfd-off "$TMPD/irqfd-off.conf"
check_run split "$TMPD/split.conf"
echo "PASS: level-triggered IOAPIC pins held across the EOI, irqchip kernel (irqfd and KVM_IRQ_LINE) and split"
