#!/bin/sh
# bench/virtio-net.sh - the virtio-net transmit path (bench/net-path:
# 1500-byte frames posted on the transmit queue and notified one at a
# time, through the device plugin and the real net-tap backend, driven by
# the test harness) against write(2) of the same frames with the same
# 12-byte vnet header straight to the same tap descriptor.  ROUNDS rounds,
# each kind timed over FRAMES frames, interleaved; the ratio of medians
# (direct pps / virtqueue pps: the cost of the path) is printed.  Needs
# root and /dev/net/tun (it creates a tap for the run and removes it);
# without them it prints SKIP and exits 0.  Needs no KVM.  No threshold
# fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
PROG="$VMM_BUILDDIR/bench/net-path"
ROUNDS=${ROUNDS:-11}
FRAMES=${FRAMES:-50000}

skip() { echo "virtio-net: SKIP (needs root and /dev/net/tun)"; exit 0; }
[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && command -v ip >/dev/null 2>&1 || skip
[ -x "$PROG" ] || { echo "virtio-net: $PROG is missing" >&2; exit 1; }
IF="vmmb$$"
ip tuntap add dev "$IF" mode tap 2>/dev/null || skip
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vnet-bench.XXXXXX") || { ip link del "$IF"; exit 1; }
trap 'ip link del "$IF" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
ip link set "$IF" up || { echo "virtio-net: ip link set $IF up failed" >&2; exit 1; }
"$PROG" "$IF" "$ROUNDS" "$FRAMES" >"$tmp/out" ||
	{ echo "virtio-net: net-path failed" >&2; exit 1; }

# median of column $1 of the per-round lines
median() { awk -v c="$1" '{ print $c }' "$tmp/out" | sort -n | awk '{ v[NR] = $1 } END {
	print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
awk -v vq="$(median 2)" -v d="$(median 4)" -v n="$ROUNDS" 'BEGIN {
	printf "virtio-net: 1500-byte frames to tap: %.1f kpps via virtqueue, %.1f kpps direct, ratio %.3f (target <= 1.5)\n", vq / 1000, d / 1000, d / vq
	printf "virtio-net: (one frame per notification, no offloads; median of %d interleaved rounds)\n", n
}'
