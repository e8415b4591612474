#!/bin/sh
# virtio-irq.elf on virtio-irq.conf: 100 virtio-rng requests, each noticed
# through the device's level-triggered interrupt on IOAPIC pin 16, every
# tenth one held high across an EOI (it must come again).  Run twice:
# with the kvm plugin's default irqfd = true the core delivers the line
# through a resampling irqfd (--stats: "irq: 1 line(s) by irqfd (16)");
# with irqfd = false through KVM_IRQ_LINE ("irq: 0 line(s) by irqfd").
# The guest's counts must be the same both ways (spurious interrupts, which
# find nothing to do, are shown but not counted: see virtio-irq.c).
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/virtio-irq.elf"
for p in virtio-rng i8259 ioapic i8042 file; do
	have_plugin $p || guest_fail "$p.so not in VMM_PLUGIN_PATH=$VMM_PLUGIN_PATH"
done

CONF="$VMM_SRCDIR/tests/guests/virtio-irq.conf"
sed 's/^hypervisor "kvm" { irqchip = "kernel" }$/hypervisor "kvm" { irqchip = "kernel" irqfd = false }/' \
	"$CONF" >"$TMPD/irqfd-off.conf"
grep -q 'irqfd = false' "$TMPD/irqfd-off.conf" || guest_fail "cannot make the irqfd = false copy of $CONF"

check_run() { # NAME CONF EXPECTED-STATS-LINE
	run_guest "$1" "$VMMCTL" run --stats --kernel "$GUESTS/virtio-irq.elf" "$2"
	expect_no_fail
	expect_line "virtio-irq: 100 requests, 110 interrupts, 10 held"
	expect_line "VIRTIO-IRQ-DONE"
	expect_status 67
	grep -qxF "$3" "$ERR" || guest_fail "$1: no '$3' in the --stats output"
	if grep -q 'no irqfd' "$ERR"; then
		guest_fail "$1: the core fell back to KVM_IRQ_LINE"
	fi
	echo "$1: $3, $(grep -a "spurious" "$OUT" | tr -d '\r')"
}

check_run irqfd "$CONF" "irq: 1 line(s) by irqfd (16)"
check_run irq-line "$TMPD/irqfd-off.conf" "irq: 0 line(s) by irqfd"
# on-reset = "restart": every boot is a new VM, and its irqfd must be set
# up again and work (each boot's 20 requests need their interrupts).
{ echo 'on-reset = "restart"'
  echo "backend \"log\" { plugin = \"file\" path = \"$TMPD/boots.log\" append = true }"
  sed 's/chardev = "stdio"/chardev = "log"/' "$CONF"; } >"$TMPD/restart.conf"
grep -q 'chardev = "log"' "$TMPD/restart.conf" || guest_fail "cannot make the restart copy of $CONF"
run_restarts "$GUESTS/virtio-irq.elf" "$TMPD/restart.conf" "$TMPD/boots.log" "virtio-irq: resetting" \
	--stats --cmdline "n=20 reset=1"
[ "$boots" -ge 3 ] && [ "$STATUS" = 143 ] ||
	guest_fail "on-reset = restart: $boots boots, status $STATUS (expected >= 3 boots, 143)"
expect_no_fail
stats=$(grep -c '^irq: 1 line(s) by irqfd (16)$' "$ERR")
[ "$stats" -ge "$boots" ] || guest_fail "on-reset = restart: $boots boots but $stats with the irqfd"
echo "restart: $boots boots, each with its irqfd"

echo "PASS: 100 interrupt-driven virtio requests through an irqfd and through KVM_IRQ_LINE, and across restarts"
