#!/bin/sh
# The real net-tap backend under virtio-net: needs root, /dev/net/tun and
# ip(8).  Creates its own taps (one single-queue, one multi-queue), removes
# them on exit, and runs tap-check (frames both ways; `ip link set TAP
# down`/`up` reaching the guest's link; a second open of a single-queue tap
# refused; a migration destination's standby queue on the multi-queue
# tap detached, every frame going to the source's, then attached again).
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create a tap interface"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null 2>&1 || skip "no ip(8) (iproute2)"
IF="vmmt$$"
ip tuntap add dev "$IF" mode tap 2>/dev/null || skip "cannot create a tap (ip tuntap add dev $IF mode tap failed)"
# and a multi-queue one: a live migration's two processes on one tap
# (net-tap's standby, ABI 1.17)
MQ="vmmq$$"
ip tuntap add dev "$MQ" mode tap multi_queue 2>/dev/null || { echo "FAIL: ip tuntap add dev $MQ mode tap multi_queue"; exit 1; }
trap 'ip link del "$IF" 2>/dev/null; ip link del "$MQ" 2>/dev/null' EXIT INT TERM
ip link set "$IF" up || { echo "FAIL: ip link set $IF up"; exit 1; }
ip link set "$MQ" up || { echo "FAIL: ip link set $MQ up"; exit 1; }
"$VMM_BUILDDIR/tests/unit/tap-check" "$IF" "$MQ"
