#!/bin/sh
# bench/virtio-blk.sh - the virtio-blk request path (bench/blk-path: 4 KiB
# random reads and writes through the virtqueue, the device plugin and the
# block-file backend, driven by the test harness) against plain preadv /
# pwritev on the same 64 MiB file in $TMPDIR, at queue depth 1.  Both go
# through the page cache (no O_DIRECT), so the ratio is the cost of the
# request path.  ROUNDS rounds, each kind timed over REQUESTS requests,
# interleaved; the ratio of medians is printed.
#
# Then, where liburing is (bench/blk-depth): 4 KiB random reads and writes
# at queue depths 1, 8 and 32 through the virtqueue on the block-uring
# backend with cache = "none" (O_DIRECT) against io_uring used directly,
# also with O_DIRECT, on the same 64 MiB file in DEPTH_DIR (default the
# build tree: it must be on a disk, not tmpfs, for the figures to be the
# disk's).  Printed as IOPS and their ratio per depth and kind.
#
# Needs no KVM.  No threshold fails the run; only a program error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
PROG="$VMM_BUILDDIR/bench/blk-path"
ROUNDS=${ROUNDS:-11}
REQUESTS=${REQUESTS:-20000}
DEPTH_PROG="$VMM_BUILDDIR/bench/blk-depth"
DEPTH_DIR=${DEPTH_DIR:-$VMM_BUILDDIR}
DEPTH_ROUNDS=${DEPTH_ROUNDS:-7}
DEPTH_REQUESTS=${DEPTH_REQUESTS:-2048}

[ -x "$PROG" ] || { echo "virtio-blk: $PROG is missing" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vblk-bench.XXXXXX") || exit 1
dtmp=
trap 'rm -rf "$tmp" $dtmp' EXIT
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

if [ ! -x "$DEPTH_PROG" ]; then
	echo "virtio-blk: no queue-depth figures: built without liburing (block-uring and bench/blk-depth need it)"
	exit 0
fi
dtmp=$(mktemp -d "$DEPTH_DIR/vblk-depth.XXXXXX") || exit 1
fstype=$(stat -f -c %T "$dtmp")
dd if=/dev/urandom of="$dtmp/disk.img" bs=1M count=64 status=none ||
	{ echo "virtio-blk: cannot write $dtmp/disk.img" >&2; exit 1; }
"$DEPTH_PROG" "$dtmp/disk.img" "$DEPTH_ROUNDS" "$DEPTH_REQUESTS" >"$tmp/depth" ||
	{ echo "virtio-blk: blk-depth failed" >&2; exit 1; }
# dmedian DEPTH COLUMN: median of COLUMN over the rounds at DEPTH
dmedian() { awk -v d="$1" -v c="$2" '$2 == d { print $c }' "$tmp/depth" | sort -n | awk '{ v[NR] = $1 } END {
	print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for d in 1 8 32; do
	awk -v d="$d" -v rv="$(dmedian $d 4)" -v ru="$(dmedian $d 6)" -v wv="$(dmedian $d 8)" -v wu="$(dmedian $d 10)" 'BEGIN {
		t = d == 32 ? " (target >= 0.9)" : ""
		printf "virtio-blk: depth %2d: 4 KiB random read %6.0f IOPS via virtqueue, %6.0f IOPS io_uring, ratio %.3f%s; write %6.0f / %6.0f IOPS, ratio %.3f%s\n",
			d, 1e6 / rv, 1e6 / ru, ru / rv, t, 1e6 / wv, 1e6 / wu, wu / wv, t
		if (d == 1)
			printf "virtio-blk: depth  1: read time per request via virtqueue / io_uring %.3f (target <= 1.15)\n", rv / ru
	}'
done
echo "virtio-blk: (block-uring, cache = \"none\", against io_uring with O_DIRECT on the same 64 MiB file on $fstype; median of $DEPTH_ROUNDS interleaved rounds of $DEPTH_REQUESTS requests per kind)"
[ "$fstype" = tmpfs ] && echo "virtio-blk: note: $DEPTH_DIR is tmpfs: these are not a disk's figures; set DEPTH_DIR to a directory on a disk"
exit 0
