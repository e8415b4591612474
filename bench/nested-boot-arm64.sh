#!/bin/sh
# bench/nested-boot-arm64.sh - the arm64 half of bench/nested-boot.sh: a
# stock Debian arm64 kernel booted by vmmctl and by Debian's arm64 QEMU
# (-M virt -accel kvm) on the nested arm64 test host (tests/e2e/e2e-lib.sh's
# e2e_a64_boot: qemu-system-aarch64 -accel tcg with KVM/arm64 inside).
# `make bench-nested` runs it (minutes; the first time also the aarch64
# build and QEMU's arm64 packages).
#
# In one L1, ROUNDS rounds, alternating, the same kernel (L1's own, the
# cloud arm64 Image) and initramfs (mk-l2-initramfs.sh --exit poweroff) on
# 1 vCPU and 256 MiB with `console=ttyAMA0 panic=-1 quiet`:
#   vmmctl   machines/arm64-virt.conf without its virtio devices (KVM's
#            vGICv3, pl011, pl031)
#   qemu     qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host
#            (Debian's qemu-system-arm:arm64, unpacked with the arm64
#            libraries it needs, never installed)
# timed in L1 by bench/boot-timer (built here for aarch64) from the process
# start to the guest's L2-INIT line and to its exit after power-off (PSCI
# SYSTEM_OFF), and to L2-DONE.  Prints the medians and the ratio QEMU /
# vmmctl.  Knobs:
# BENCH_ROUNDS (5), VMM_ARM64_BUILD, BENCH_NO_CROSS=1 (as in
# nested-irq-arm64.sh), BENCH_APPEND (more kernel parameters; "l2.dmesg
# printk.time=1" brings each boot's kernel log back), E2E_KEEP=1.
: "${VMM_SRCDIR:?VMM_SRCDIR is not set (run through make bench-nested)}"
. "$VMM_SRCDIR/tests/e2e/e2e-lib.sh"
skip() { echo "nested-boot-arm64: skipped: $*"; exit 0; }

ROUNDS=${BENCH_ROUNDS:-5}
MA=aarch64-linux-gnu
T_START=$(e2e_now_ms)
command -v "${QEMU_A64:-qemu-system-aarch64}" >/dev/null || skip "qemu-system-aarch64 is missing (Debian package qemu-system-arm)"
BUILD=${VMM_ARM64_BUILD:-${VMM_BUILDDIR:-$VMM_SRCDIR}/build-arm64}
if [ "${BENCH_NO_CROSS:-0}" != 1 ]; then
	VMM_ARM64_BUILD=$BUILD "$VMM_SRCDIR/tools/cross-arm64.sh" >"$E2E_TMP/cross.log" 2>&1 || {
		echo "nested-boot-arm64: tools/cross-arm64.sh failed:"; tail -n 30 "$E2E_TMP/cross.log"; exit 1; }
fi
A64="$BUILD/src"
[ -f "$A64/core/vmmctl" ] || { echo "nested-boot-arm64: $A64/core/vmmctl is missing (tools/cross-arm64.sh)"; exit 1; }
command -v $MA-gcc >/dev/null || skip "$MA-gcc is missing (tools/cross-arm64.sh installs it)"
e2e_arm64_archive || skip "$E2E_WHY"
e2e_fetch_kernel linux-image-cloud-arm64:arm64 || skip "$E2E_WHY"
L1_KERNEL=$E2E_KERNEL
e2e_fetch_arm64_busybox || skip "$E2E_WHY"

# Debian's arm64 QEMU and the arm64 libraries it needs that are not
# installed, unpacked into the cache.  A library's package is its amd64
# twin's name (dpkg -S on this host, where qemu-system-x86 needs the same
# ones) with :arm64.
QROOT="$(e2e_cache_dir)/qemu-system-arm-arm64"
mkdir -p "$QROOT/debs" || skip "cannot create $QROOT"
exec 7>"$QROOT/.lock"
flock 7
if [ ! -x "$QROOT/usr/bin/qemu-system-aarch64" ]; then
	(cd "$QROOT/debs" && apt-get download qemu-system-arm:arm64) >"$E2E_TMP/qemu-dl.log" 2>&1 &&
		dpkg -x "$QROOT"/debs/qemu-system-arm_*.deb "$QROOT" ||
		skip "cannot fetch qemu-system-arm:arm64 ($(tail -n 1 "$E2E_TMP/qemu-dl.log"))"
fi
E2E_A64_LIBPATH="$A64/tests/harness/.libs /usr/lib/$MA /lib/$MA $BUILD/sysroot/usr/lib/$MA $QROOT/usr/lib/$MA $QROOT/lib/$MA"
# qemu_libs ELF: fetch each NEEDED library no folder of E2E_A64_LIBPATH has
qemu_libs() {
	for _n in $($MA-readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		_f=""
		for _d in $E2E_A64_LIBPATH; do [ -f "$_d/$_n" ] && { _f="$_d/$_n"; break; }; done
		if [ -z "$_f" ]; then
			_pkg=$(dpkg -S "*/$_n" 2>/dev/null | sed -n 's/^\([^:]*\):amd64: .*/\1/p' | head -n 1)
			[ -n "$_pkg" ] || { echo "nested-boot-arm64: no package known for $_n (needed by $1)"; exit 1; }
			(cd "$QROOT/debs" && apt-get download "$_pkg:arm64") >>"$E2E_TMP/qemu-dl.log" 2>&1 &&
				dpkg -x "$(ls -t "$QROOT"/debs/"${_pkg}"_*_arm64.deb | head -n 1)" "$QROOT" ||
				{ echo "nested-boot-arm64: cannot fetch $_pkg:arm64 for $_n"; tail -n 3 "$E2E_TMP/qemu-dl.log"; exit 1; }
			for _d in $E2E_A64_LIBPATH; do [ -f "$_d/$_n" ] && { _f="$_d/$_n"; break; }; done
			[ -n "$_f" ] || { echo "nested-boot-arm64: $_pkg:arm64 has no $_n"; exit 1; }
		fi
		qemu_libs "$_f"
	done
}
qemu_libs "$QROOT/usr/bin/qemu-system-aarch64"
exec 7>&-

mkdir -p "$E2E_RD/bin" "$E2E_RD/lib/$MA" "$E2E_RD/e2e/plugins" "$E2E_RD/proc" "$E2E_RD/sys" "$E2E_RD/dev" "$E2E_RD/tmp"
cp "$E2E_BUSYBOX" "$E2E_RD/bin/busybox"
cp -L /lib/ld-linux-aarch64.so.1 "$E2E_RD/lib/ld-linux-aarch64.so.1" ||
	{ echo "nested-boot-arm64: no /lib/ld-linux-aarch64.so.1 (libc6:arm64)"; exit 1; }
e2e_a64_add "$(e2e_real_binary "$A64/core/vmmctl")" /e2e/vmmctl
for so in "$A64"/build-plugins/*.so; do e2e_a64_add "$so" "/e2e/plugins/$(basename "$so")"; done
e2e_a64_add "$QROOT/usr/bin/qemu-system-aarch64" /e2e/qemu-system-aarch64
$MA-gcc -O2 -Wall -o "$E2E_TMP/boot-timer" "$VMM_SRCDIR/bench/boot-timer.c" ||
	{ echo "nested-boot-arm64: cannot build bench/boot-timer.c for aarch64"; exit 1; }
e2e_a64_add "$E2E_TMP/boot-timer" /e2e/boot-timer
cp "$L1_KERNEL" "$E2E_RD/e2e/Image"
sh "$VMM_SRCDIR/tests/e2e/mk-l2-initramfs.sh" --busybox "$E2E_BUSYBOX" --console ttyAMA0 --exit poweroff \
	"$E2E_RD/e2e/l2.gz" || { echo "nested-boot-arm64: mk-l2-initramfs.sh failed"; exit 1; }
sed -e '/^device "rng"/,$d' -e 's/^vcpus = .*/vcpus = 1/' -e 's/^memory = .*/memory = 256M/' \
	"$VMM_SRCDIR/machines/arm64-virt.conf" >"$E2E_RD/e2e/virt.conf"
grep -q '^vcpus = 1$' "$E2E_RD/e2e/virt.conf" && ! grep -q 'plugin = "virtio' "$E2E_RD/e2e/virt.conf" ||
	{ echo "nested-boot-arm64: could not edit machines/arm64-virt.conf"; exit 1; }
echo "$ROUNDS" >"$E2E_RD/e2e/rounds"
# BENCH_APPEND: more kernel parameters for both; with l2.dmesg among them
# each boot's kernel log comes back (A64-DMESG lines) for a breakdown
echo "${BENCH_APPEND:-}" >"$E2E_RD/e2e/append"

cat >"$E2E_RD/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
export VMM_PLUGIN_PATH=/e2e/plugins
echo "A64-INIT uptime=$(cut -d' ' -f1 /proc/uptime) kvm=$([ -c /dev/kvm ] && echo yes || echo no)"
ap="console=ttyAMA0 panic=-1 quiet $(cat /e2e/append)"
r=1
while [ $r -le $(cat /e2e/rounds) ]; do
	vs="vmmctl qemu"; [ $((r % 2)) = 0 ] && vs="qemu vmmctl"
	for v in $vs; do
		if [ $v = vmmctl ]; then
			set -- /e2e/vmmctl run /e2e/virt.conf --kernel /e2e/Image --initrd /e2e/l2.gz --cmdline "$ap"
		else
			set -- /e2e/qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host -m 256 -smp 1 \
				-nodefaults -no-user-config -display none -no-reboot -serial stdio \
				-kernel /e2e/Image -initrd /e2e/l2.gz -append "$ap"
		fi
		timeout 150 /e2e/boot-timer -m L2-INIT -m L2-DONE -- "$@" </dev/null >/tmp/out 2>/tmp/err
		rc=$?
		echo "A64-BOOT $v round=$r rc=$rc $(grep -a '^BOOT-MARK .* L2-INIT' /tmp/out | cut -d' ' -f2) $(grep -a '^BOOT-EXIT ' /tmp/out | cut -d' ' -f2) $(grep -a '^BOOT-MARK .* L2-DONE' /tmp/out | cut -d' ' -f2) $(grep -a '^L2-INIT' /tmp/out | tr -d '\r')"
		[ $rc = 0 ] || { tail -n 8 /tmp/out; tail -n 8 /tmp/err; } | sed "s/^/A64-BOOT-LOG $v: /"
		grep -a '^L2-DMESG' /tmp/out | tr -d '\r' | sed "s/^L2-DMESG /A64-DMESG $v: /"
	done
	r=$((r + 1))
done
echo "A64-ALL-DONE"
sync; poweroff -f
EOF
chmod +x "$E2E_RD/init"

T_BOOT=$(e2e_now_ms)
e2e_a64_boot "$L1_KERNEL"
qrc=$?
tr -d '\r' <"$E2E_SERIAL" >"$E2E_TMP/l1.log"
LOG="$E2E_TMP/l1.log"
echo "nested-boot-arm64: L1 $(e2e_secs $(($(e2e_now_ms) - T_BOOT))) s (qemu status $qrc), $(grep -m1 '^A64-INIT' "$LOG")"
grep '^A64-BOOT' "$LOG" | sed 's/^/  /'
fail=0
for v in vmmctl qemu; do
	n=$(grep -c "^A64-BOOT $v round=[0-9]* rc=0 [0-9.]* [0-9.]* [0-9.]* L2-INIT" "$LOG")
	[ "$n" = "$ROUNDS" ] || { echo "nested-boot-arm64: FAIL: $v: $n of $ROUNDS boots reached /init and powered off"; fail=1; }
done
[ $fail = 0 ] || { echo "--- last 20 lines of L1's console ---"; tail -n 20 "$LOG"; exit 1; }
# med VARIANT FIELD: the median of field FIELD (5: to /init, 6: to exit,
# 7: to L2-DONE) in ms
med() {
	grep "^A64-BOOT $1 round=[0-9]* rc=0 " "$LOG" | cut -d' ' -f"$2" | sort -n |
		awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
vi=$(med vmmctl 5); ve=$(med vmmctl 6); qi=$(med qemu 5); qe=$(med qemu 6)
echo "nested-boot-arm64: medians of $ROUNDS rounds (ms from the process start, L1's clock): vmmctl $vi to /init, $(med vmmctl 7) to L2-DONE, $ve to exit; qemu $qi to /init, $(med qemu 7) to L2-DONE, $qe to exit"
echo "nested-boot-arm64: qemu / vmmctl: $(awk -v a="$qi" -v b="$vi" 'BEGIN { printf "%.2f", a / b }')x to /init, $(awk -v a="$qe" -v b="$ve" 'BEGIN { printf "%.2f", a / b }')x to exit"
echo "nested-boot-arm64: whole bench $(e2e_secs $(($(e2e_now_ms) - T_START))) s"
