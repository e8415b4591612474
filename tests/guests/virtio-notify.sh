#!/bin/sh
# virtio-notify.elf on virtio-notify.conf: 200 polled virtio-rng requests,
# each notified by a QueueNotify write.  The kvm plugin offers ioeventfd
# (KVM_CAP_IOEVENTFD), so the transport registers QueueNotify with the core,
# which assigns a KVM_IOEVENTFD and serves the doorbell from its main loop:
# the 200 writes must not show as MMIO exits (the set-up register accesses
# before them are about 20).
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/virtio-notify.elf"
have_plugin virtio-rng || guest_fail "virtio-rng.so not in VMM_PLUGIN_PATH=$VMM_PLUGIN_PATH"

run_guest virtio-notify "$VMMCTL" run --stats --kernel "$GUESTS/virtio-notify.elf" \
	"$VMM_SRCDIR/tests/guests/virtio-notify.conf"
expect_no_fail
expect_line "virtio-notify: 200 requests"
expect_line "VIRTIO-NOTIFY-DONE"
expect_status 67
mmio=$(sed -n 's/^vcpu0 exits:.* mmio=\([0-9]*\).*/\1/p' "$ERR" "$OUT" | head -n 1)
[ -n "$mmio" ] || mmio=0
echo "vcpu0 MMIO exits: $mmio"
[ "$mmio" -lt 100 ] || guest_fail "$mmio MMIO exits: the QueueNotify writes were not ioeventfds"
echo "PASS: 200 virtio requests, QueueNotify through KVM_IOEVENTFD ($mmio MMIO exits in all)"

# A line no controller receives: with irqchip = emulated only the 8259's
# lines 0-15 go anywhere, so a virtio device on IOAPIC pin 16 gets a
# warning naming it and its line (the polled guest still runs).
cat >"$TMPD/unwired.conf" <<'CONF'
memory = 16M
hypervisor "kvm" { irqchip = "emulated" }
device "pic" { plugin = "i8259" }
device "com1" { plugin = "uart16550"  base = 0x3f8  irq = 4  chardev = "stdio" }
device "rng" { plugin = "virtio-rng"  base = 0xd0000000  irq = 16 }
device "exit" { plugin = "debug-exit" }
CONF
run_guest unwired "$VMMCTL" run --kernel "$GUESTS/virtio-notify.elf" "$TMPD/unwired.conf"
expect_status 67
expect_line "VIRTIO-NOTIFY-DONE"
grep -q "rng.*IRQ line 16 reaches no interrupt controller (irqchip = emulated)" "$ERR" ||
	guest_fail "no warning that the rng's IRQ line 16 reaches no controller"
grep -q "com1.*IRQ line 4 reaches no" "$ERR" && guest_fail "a warning for com1's line 4, which the 8259 takes"
echo "PASS: a line no controller takes is named in a warning: $(grep 'reaches no' "$ERR")"
