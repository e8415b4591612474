#!/bin/sh
# bench/nested-irq-arm64.sh - arm64 interrupt cost, KVM's in-kernel GIC
# against the gic plugin's emulated GICv2 (issue 11), on the nested arm64
# test host (tests/e2e/e2e-lib.sh's e2e_a64_boot: Debian's arm64 kernel
# under qemu-system-aarch64 -accel tcg, with KVM/arm64).  `make
# bench-nested` runs it (a few minutes, plus the aarch64 build the first
# time); it is in neither `make check` nor `make bench`.
#
# In one L1, ROUNDS rounds, alternating, the cross-built vmmctl runs
# tests/guests-arm64/irq-bench.S on 1 vCPU:
#   kernel    irq-v3.img on machines/arm64-virt.conf (irqchip = "kernel",
#             KVM's vGICv3; the virtio devices left out)
#   emulated  irq-v2.img on machines/arm64-virt-emulated.conf (irqchip =
#             "emulated", the gic plugin; vcpus = 1)
# Each takes N virtual-timer interrupts the way Linux's arch_timer does
# (ack, mask, EOI, next event now, unmask) and prints the CNTVCT ticks they
# took.  Prints the median cost per interrupt of each mode and the ratio
# emulated / kernel.  A run that fails to print its line fails the bench; no
# threshold does.  Knobs: BENCH_ROUNDS (5), VMM_ARM64_BUILD (the aarch64
# build, tools/cross-arm64.sh's), BENCH_NO_CROSS=1 (use that build as it is),
# E2E_KEEP=1.
: "${VMM_SRCDIR:?VMM_SRCDIR is not set (run through make bench-nested)}"
. "$VMM_SRCDIR/tests/e2e/e2e-lib.sh"
skip() { echo "nested-irq-arm64: skipped: $*"; exit 0; }

ROUNDS=${BENCH_ROUNDS:-5}
QEMU_A64=${QEMU_A64:-qemu-system-aarch64}
T_START=$(e2e_now_ms)
command -v "$QEMU_A64" >/dev/null || skip "$QEMU_A64 is missing (Debian package qemu-system-arm)"
command -v aarch64-linux-gnu-gcc >/dev/null || [ "$(id -u)" = 0 ] ||
	skip "no aarch64 cross compiler (gcc-aarch64-linux-gnu; tools/cross-arm64.sh installs it as root)"
BUILD=${VMM_ARM64_BUILD:-${VMM_BUILDDIR:-$VMM_SRCDIR}/build-arm64}
if [ "${BENCH_NO_CROSS:-0}" != 1 ]; then
	VMM_ARM64_BUILD=$BUILD "$VMM_SRCDIR/tools/cross-arm64.sh" >"$E2E_TMP/cross.log" 2>&1 || {
		echo "nested-irq-arm64: tools/cross-arm64.sh failed:"; tail -n 30 "$E2E_TMP/cross.log"; exit 1; }
fi
A64="$BUILD/src"
for f in "$A64/core/vmmctl" "$A64/tests/guests-arm64/irq-v3.img" "$A64/tests/guests-arm64/irq-v2.img"; do
	[ -f "$f" ] || { echo "nested-irq-arm64: $f is missing (tools/cross-arm64.sh)"; exit 1; }
done
e2e_arm64_archive || skip "$E2E_WHY"
e2e_fetch_kernel linux-image-cloud-arm64:arm64 || skip "$E2E_WHY"
L1_KERNEL=$E2E_KERNEL
e2e_fetch_arm64_busybox || skip "$E2E_WHY"

mkdir -p "$E2E_RD/bin" "$E2E_RD/lib/aarch64-linux-gnu" "$E2E_RD/e2e/plugins" "$E2E_RD/proc" "$E2E_RD/sys" \
	"$E2E_RD/dev" "$E2E_RD/tmp"
cp "$E2E_BUSYBOX" "$E2E_RD/bin/busybox"
cp -L /lib/ld-linux-aarch64.so.1 "$E2E_RD/lib/ld-linux-aarch64.so.1" ||
	{ echo "nested-irq-arm64: no /lib/ld-linux-aarch64.so.1 (libc6:arm64, tools/cross-arm64.sh)"; exit 1; }
E2E_A64_LIBPATH="$A64/tests/harness/.libs /usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu $BUILD/sysroot/usr/lib/aarch64-linux-gnu"
e2e_a64_add "$(e2e_real_binary "$A64/core/vmmctl")" /e2e/vmmctl
for so in "$A64"/build-plugins/*.so; do e2e_a64_add "$so" "/e2e/plugins/$(basename "$so")"; done
cp "$A64/tests/guests-arm64/irq-v3.img" "$A64/tests/guests-arm64/irq-v2.img" "$E2E_RD/e2e/"
# The two machines with nothing but the GIC, the pl011 and the pl031.
sed '/^device "rng"/,$d' "$VMM_SRCDIR/machines/arm64-virt.conf" >"$E2E_RD/e2e/kernel.conf"
sed 's/^vcpus = .*/vcpus = 1/' "$VMM_SRCDIR/machines/arm64-virt-emulated.conf" >"$E2E_RD/e2e/emulated.conf"
grep -q 'irqchip = "kernel"' "$E2E_RD/e2e/kernel.conf" && ! grep -q 'plugin = "virtio' "$E2E_RD/e2e/kernel.conf" &&
	grep -q '^vcpus = 1$' "$E2E_RD/e2e/emulated.conf" || { echo "nested-irq-arm64: could not edit the arm64 machines"; exit 1; }
echo "$ROUNDS" >"$E2E_RD/e2e/rounds"

cat >"$E2E_RD/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
export VMM_PLUGIN_PATH=/e2e/plugins
echo "A64-INIT uptime=$(cut -d' ' -f1 /proc/uptime) kvm=$([ -c /dev/kvm ] && echo yes || echo no)"
r=1
while [ $r -le $(cat /e2e/rounds) ]; do
	# alternating: the first mode changes from round to round
	modes="kernel emulated"; [ $((r % 2)) = 0 ] && modes="emulated kernel"
	for m in $modes; do
		img=/e2e/irq-v3.img; [ $m = emulated ] && img=/e2e/irq-v2.img
		timeout 60 /e2e/vmmctl run /e2e/$m.conf --kernel $img </dev/null >/tmp/out 2>/tmp/err
		rc=$?
		echo "A64-IRQ $m round=$r rc=$rc $(grep -a '^IRQ-BENCH' /tmp/out | tr -d '\r')"
		[ $rc = 0 ] || { tail -n 5 /tmp/out; tail -n 10 /tmp/err; } | sed "s/^/A64-IRQ-LOG $m: /"
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
echo "nested-irq-arm64: L1 $(e2e_secs $(($(e2e_now_ms) - T_BOOT))) s (qemu status $qrc), $(grep -m1 '^A64-INIT' "$LOG")"
fail=0
for m in kernel emulated; do
	n=$(grep -c "^A64-IRQ $m round=[0-9]* rc=0 IRQ-BENCH n=[0-9]* ticks=[0-9]* freq=[0-9]*$" "$LOG")
	[ "$n" = "$ROUNDS" ] || { echo "nested-irq-arm64: FAIL: $m: $n of $ROUNDS runs printed their figure"; fail=1; }
done
if [ $fail = 1 ]; then
	grep '^A64-IRQ' "$LOG"
	echo "--- last 20 lines of L1's console ---"
	tail -n 20 "$LOG"
	exit 1
fi
# ns per interrupt of each run: ticks / n * 1e9 / freq
each() {
	sed -n "s/^A64-IRQ $1 round=[0-9]* rc=0 IRQ-BENCH n=\([0-9]*\) ticks=\([0-9]*\) freq=\([0-9]*\)$/\1 \2 \3/p" "$LOG" |
		awk '{ printf "%.0f ", $2 / $1 * 1e9 / $3 }'
}
per() {
	each "$1" | tr ' ' '\n' | grep . | sort -n |
		awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
k=$(per kernel); e=$(per emulated)
echo "nested-irq-arm64: per interrupt (virtual timer, median of $ROUNDS runs of $(sed -n 's/.*IRQ-BENCH n=\([0-9]*\).*/\1/p' "$LOG" | head -n 1)): kernel GICv3 $k ns, emulated GICv2 $e ns"
echo "nested-irq-arm64: emulated / kernel: $(awk -v a="$e" -v b="$k" 'BEGIN { printf "%.2f", a / b }')x"
echo "nested-irq-arm64: every run (ns per interrupt): kernel $(each kernel); emulated $(each emulated)"
echo "nested-irq-arm64: whole bench $(e2e_secs $(($(e2e_now_ms) - T_START))) s"
