#!/bin/sh
# The real net-tap backend under virtio-net: needs root, /dev/net/tun and
# ip(8).  Creates its own tap, removes it on exit, and runs tap-check
# (frames both ways; `ip link set TAP down`/`up` reaching the guest's link).
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create a tap interface"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null 2>&1 || skip "no ip(8) (iproute2)"
IF="vmmt$$"
ip tuntap add dev "$IF" mode tap 2>/dev/null || skip "cannot create a tap (ip tuntap add dev $IF mode tap failed)"
trap 'ip link del "$IF" 2>/dev/null' EXIT INT TERM
ip link set "$IF" up || { echo "FAIL: ip link set $IF up"; exit 1; }
"$VMM_BUILDDIR/tests/unit/tap-check" "$IF"
