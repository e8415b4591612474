#!/bin/sh
# bench/virtio-blk.sh - the virtio-blk request path (bench/blk-path: 4 KiB
# random reads and writes through the virtqueue, the device plugin and the
# block-file backend, driven by the test harness) against plain preadv /
# pwritev on the same 64 MiB file in $TMPDIR, at queue depth 1.  Both go
# through the page cache (no O_DIRECT), so the ratio is the cost of the
# request path.  ROUNDS rounds, each kind timed over REQUESTS requests,
# interleaved; the ratio of medians is printed.  Needs no KVM.  No
# threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
PROG="$VMM_BUILDDIR/bench/blk-path"
ROUNDS=${ROUNDS:-11}
REQUESTS=${REQUESTS:-20000}

[ -x "$PROG" ] || { echo "virtio-blk: $PROG is missing" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vblk-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
dd if=/dev/urandom of="$tmp/disk.img" bs=1M count=64 status=none ||
	{ echo "virtio-blk: cannot write $tmp/disk.img" >&2; exit 1; }
"$PROG" "$tmp/disk.img" "$ROUNDS" "$REQUESTS" >"$tmp/out" ||
	{ echo "virtio-blk: blk-path failed" >&2; exit 1; }

# median of column $1 of the per-round lines
median() { awk -v c="$1" '{ print $c }' "$tmp/out" | sort -n | awk '{ v[NR] = $1 } END {
	print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
awk -v rv="$(median 2)" -v rp="$(median 4)" -v wv="$(median 6)" -v wp="$(median 8)" -v n="$ROUNDS" 'BEGIN {
	printf "virtio-blk: 4 KiB random read %.2f us/req via virtqueue, %.2f us/req preadv, ratio %.3f (target <= 1.3)\n", rv, rp, rv / rp
	printf "virtio-blk: 4 KiB random write %.2f us/req via virtqueue, %.2f us/req pwritev, ratio %.3f (target <= 1.3)\n", wv, wp, wv / wp
	printf "virtio-blk: (queue depth 1, page cache, 64 MiB file; median of %d interleaved rounds)\n", n
}'
