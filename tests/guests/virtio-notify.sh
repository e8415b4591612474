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
