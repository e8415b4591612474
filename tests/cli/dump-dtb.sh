#!/bin/sh
# vmmctl --dump-dtb FILE: the device tree an arm64 machine boots with,
# decompiled by dtc (the reference parser) and checked node by node.
# machines/arm64-virt.conf is built on tests/fixtures/fake-arm64-hv.so
# (an arm64 machine without KVM/arm64, core/arch-arm64.h), with its own
# devices and a minimal Image and initrd, so no /dev/kvm and no arm64 host
# is needed: vmmctl check builds the machine, and the tree, as run does.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
command -v dtc >/dev/null || { echo "SKIP: dtc is missing (Debian package device-tree-compiler)"; exit 77; }

FIX="$VMM_BUILDDIR/tests/fixtures/.libs"
require_file "$FIX/fake-arm64-hv.so"
mkdir -p "$TMPD/plugins"
ln -s "$FIX/fake-arm64-hv.so" "$TMPD/plugins/fake-arm64-hv.so"
CHECK="$VMMCTL -P $TMPD/plugins check"

# The shipped machine on the fake hypervisor, its disk in $TMPD; 2 vCPUs.
sed -e 's/^hypervisor "kvm"/hypervisor "fake-arm64-hv"/' -e 's/^vcpus = .*/vcpus = 2/' \
	-e "s|^\(	path = \)\"disk.img\"|\1\"$TMPD/disk.img\"|" \
	"$VMM_SRCDIR/machines/arm64-virt.conf" >"$TMPD/virt.conf"
grep -q '"fake-arm64-hv"' "$TMPD/virt.conf" && grep -q "\"$TMPD/disk.img\"" "$TMPD/virt.conf" ||
	fail "could not edit arm64-virt.conf"
truncate -s 1M "$TMPD/disk.img"
# An arm64 Image header (booting.rst): text_offset 0, image_size 64 KiB,
# flags 0xa, "ARM\x64" at 0x38; and a 4 KiB initrd.
{
	printf '\0\0\0\0\0\0\0\0' ; printf '\0\0\0\0\0\0\0\0'
	printf '\0\0\1\0\0\0\0\0' ; printf '\012\0\0\0\0\0\0\0'
	head -c 24 /dev/zero; printf 'ARM\144\0\0\0\0'
} >"$TMPD/Image"
head -c 4096 /dev/zero >"$TMPD/initrd"

out=$($CHECK "$TMPD/virt.conf" --kernel "$TMPD/Image" --initrd "$TMPD/initrd" \
	--cmdline "console=ttyAMA0 quiet" --dump-dtb "$TMPD/virt.dtb" 2>&1) ||
	fail "vmmctl check --dump-dtb: $out"
[ -s "$TMPD/virt.dtb" ] || fail "--dump-dtb wrote nothing"
dtc -I dtb -O dts -o "$TMPD/virt.dts" "$TMPD/virt.dtb" 2>"$TMPD/dtc.err" ||
	fail "dtc cannot read the tree: $(cat "$TMPD/dtc.err")"
grep -q . "$TMPD/dtc.err" && fail "dtc warns about the tree: $(head -n 5 "$TMPD/dtc.err")"
echo "ok: --dump-dtb wrote a tree dtc decompiles without a warning"

# node PATH: the node's own lines (its properties, not its children's).
node() {
	awk -v want="$1" '
		/{$/ { name = $1; if (name == "/") name = ""; path[++d] = name
		       p = ""; for (i = 2; i <= d; i++) p = p "/" path[i]; if (p == "") p = "/"
		       inside = (p == want); next }
		/};$/ { d--; inside = 0; next }
		inside' "$TMPD/virt.dts"
}
# has PATH LINE...: each LINE (a fixed string) is one of the node's lines.
has() {
	n=$1; shift
	body=$(node "$n")
	[ -n "$body" ] || fail "no node $n in the tree"
	for l in "$@"; do
		printf '%s\n' "$body" | sed 's/^[	 ]*//' | grep -qxF -- "$l" ||
			fail "node $n has no line '$l': $(printf '%s' "$body" | tr '\n' ' ')"
	done
}
has / 'interrupt-parent = <0x01>;' 'compatible = "linux,dummy-virt";' '#address-cells = <0x02>;'
has /memory@40000000 'device_type = "memory";' 'reg = <0x00 0x40000000 0x00 0x10000000>;'
has /cpus/cpu@0 'device_type = "cpu";' 'enable-method = "psci";' 'reg = <0x00>;'
has /cpus/cpu@1 'enable-method = "psci";' 'reg = <0x01>;'
has /psci 'method = "hvc";'
node /psci | grep -q 'compatible = "arm,psci-1.0\\0arm,psci-0.2";' || fail "psci is not arm,psci-1.0 and 0.2"
# The GIC is the interrupt parent: the root's phandle is its.
has /interrupt-controller@8000000 'compatible = "arm,gic-v3";' 'phandle = <0x01>;' \
	'interrupt-controller;' '#interrupt-cells = <0x03>;' \
	'reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x40000>;'
# The timer (the arm-timer plugin's description): 4 PPIs, level high
# (sec phys 13, phys 14, virt 11, hyp 10).
has /timer 'compatible = "arm,armv8-timer";' \
	'interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x01 0x0b 0x04 0x01 0x0a 0x04>;'
# chosen: our bootargs, the pl011 as stdout, the initrd right below the
# tree at the top of RAM (4 KiB: end - start).
has /chosen 'bootargs = "console=ttyAMA0 quiet";' 'stdout-path = "/serial@9000000";'
start=$(node /chosen | sed -n 's/.*linux,initrd-start = <0x00 \(0x[0-9a-f]*\)>;/\1/p')
end=$(node /chosen | sed -n 's/.*linux,initrd-end = <0x00 \(0x[0-9a-f]*\)>;/\1/p')
[ -n "$start" ] && [ -n "$end" ] && [ $((end - start)) = 4096 ] ||
	fail "chosen's initrd range is '$start'..'$end', not 4 KiB"
[ $((start)) -ge $((0x40000000)) ] && [ $((end)) -le $((0x50000000)) ] ||
	fail "the initrd ($start..$end) is outside RAM"
has /serial@9000000 'compatible = "arm,pl011\0arm,primecell";' 'reg = <0x00 0x9000000 0x00 0x1000>;' \
	'interrupts = <0x00 0x01 0x04>;' 'clock-names = "uartclk\0apb_pclk";'
has /rtc@9010000 'compatible = "arm,pl031\0arm,primecell";' 'reg = <0x00 0x9010000 0x00 0x1000>;' \
	'interrupts = <0x00 0x02 0x04>;' 'clock-names = "apb_pclk";'
echo "ok: memory, 2 cpus (psci), psci, the GICv3 as interrupt parent, the timer's 4 PPIs, chosen, pl011, pl031"
# The virtio devices: one virtio,mmio node each, their window, their SPI
# (INTID 48 + n = SPI 16 + n, level high) and dma-coherent.
for n in 0 1 2 3; do
	has "/virtio_mmio@a00${n}000" 'compatible = "virtio,mmio";' \
		"reg = <0x00 0xa00${n}000 0x00 0x200>;" "interrupts = <0x00 0x1$n 0x04>;" 'dma-coherent;'
done
[ "$(grep -c 'virtio_mmio@' "$TMPD/virt.dts")" = 4 ] || fail "the tree should have 4 virtio_mmio nodes"
echo "ok: rng, disk, net and console are virtio,mmio nodes at 0xa000000 + 0x1000n on SPIs 16-19, dma-coherent"

# run writes the same tree (the fake's vCPU powers off at once: status 0).
$VMMCTL -P "$TMPD/plugins" run "$TMPD/virt.conf" --kernel "$TMPD/Image" --initrd "$TMPD/initrd" \
	--cmdline "console=ttyAMA0 quiet" --dump-dtb "$TMPD/run.dtb" </dev/null >"$TMPD/run.out" 2>&1 ||
	fail "vmmctl run --dump-dtb: status $?: $(tail -n 3 "$TMPD/run.out")"
cmp -s "$TMPD/virt.dtb" "$TMPD/run.dtb" || fail "run --dump-dtb wrote another tree than check"
echo "ok: run --dump-dtb writes the tree check writes"

# Without its gic device the machine gets the hypervisor's default vGICv3
# (devices_ready, ABI 1.14): the same tree.
awk '/^device "gic" \{/ { skip = 1 } !skip; skip && /^\}/ { skip = 0 }' "$TMPD/virt.conf" >"$TMPD/nogic.conf"
! grep -q 'plugin = "gic"' "$TMPD/nogic.conf" || fail "could not remove the gic device"
$CHECK "$TMPD/nogic.conf" --kernel "$TMPD/Image" --initrd "$TMPD/initrd" \
	--cmdline "console=ttyAMA0 quiet" --dump-dtb "$TMPD/nogic.dtb" >"$TMPD/nogic.out" 2>&1 ||
	fail "vmmctl check without the gic device: $(tail -n 3 "$TMPD/nogic.out")"
cmp -s "$TMPD/virt.dtb" "$TMPD/nogic.dtb" || fail "without its gic device the tree differs"
echo "ok: without a gic device, the hypervisor's default vGICv3 gives the same tree"

# The timer node is the arm-timer plugin's description: its PPIs move with
# its properties; a machine with a GIC and no timer device is refused with
# one line naming what to add.
sed 's/^	plugin = "arm-timer".*/	plugin = "arm-timer"  virt-irq = 20  phys-irq = 21/' "$TMPD/virt.conf" >"$TMPD/ppis.conf"
$CHECK "$TMPD/ppis.conf" --kernel "$TMPD/Image" --dump-dtb "$TMPD/ppis.dtb" >"$TMPD/ppis.out" 2>&1 ||
	fail "vmmctl check with other timer PPIs: $(tail -n 3 "$TMPD/ppis.out")"
dtc -I dtb -O dts "$TMPD/ppis.dtb" 2>/dev/null | grep -qF 'interrupts = <0x01 0x0d 0x04 0x01 0x05 0x04 0x01 0x04 0x04 0x01 0x0a 0x04>;' ||
	fail "the timer node does not follow the arm-timer plugin's virt-irq and phys-irq"
awk '/^device "timer" \{/ { skip = 1 } !skip; skip && /^\}/ { skip = 0 }' "$TMPD/virt.conf" >"$TMPD/notimer.conf"
o=$($CHECK "$TMPD/notimer.conf" --kernel "$TMPD/Image" 2>&1) && fail "a GIC without a timer device is accepted"
printf '%s\n' "$o" | grep -q 'needs its architected timer: add device "timer" { plugin = "arm-timer" }' ||
	fail "a GIC without a timer device: $o"
echo "ok: the timer node follows the arm-timer plugin's PPIs; a GIC without it is one line"

# arm64-minimal.conf: no GIC, so no interrupt-parent, timer or interrupts.
sed 's/^hypervisor "kvm"/hypervisor "fake-arm64-hv"/' "$VMM_SRCDIR/machines/arm64-minimal.conf" >"$TMPD/min.conf"
$CHECK "$TMPD/min.conf" --kernel "$TMPD/Image" --dump-dtb "$TMPD/min.dtb" >/dev/null 2>&1 ||
	fail "vmmctl check --dump-dtb on arm64-minimal.conf failed"
dtc -I dtb -O dts -o "$TMPD/min.dts" "$TMPD/min.dtb" 2>/dev/null || fail "dtc cannot read the minimal tree"
! grep -q 'interrupt-parent\|interrupts = \|timer\|virtio' "$TMPD/min.dts" ||
	fail "the minimal machine's tree has interrupts, a timer or virtio"
grep -q 'serial@9000000' "$TMPD/min.dts" || fail "the minimal machine's tree has no pl011"
echo "ok: arm64-minimal.conf's tree: the pl011, no GIC, timer, interrupts or virtio"

# Refusals, one line each: no kernel (the tree places the initrd), an x86
# machine (ACPI instead), an unwritable file.
expect_err() { # PATTERN CMD...
	pat=$1; shift
	o=$("$@" 2>&1 </dev/null); s=$?
	[ "$s" = 2 ] || fail "'$*' exited $s, expected 2: $o"
	printf '%s\n' "$o" | grep -q -- "$pat" || fail "'$*' did not say '$pat': $o"
}
expect_err "no device tree without a kernel" $CHECK "$TMPD/virt.conf" --dump-dtb "$TMPD/x.dtb"
expect_err "cannot write $TMPD/no/such/dir/x.dtb" $CHECK "$TMPD/virt.conf" --kernel "$TMPD/Image" \
	--dump-dtb "$TMPD/no/such/dir/x.dtb"
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ "$(uname -m)" = x86_64 ]; then
	expect_err "x86 machine: it has no device tree" $VMMCTL check "$VMM_SRCDIR/machines/x86-minimal.conf" \
		--kernel "$GUESTS/hello.elf" --dump-dtb "$TMPD/x.dtb"
fi
echo "ok: --dump-dtb refuses without a kernel and an unwritable file with one line, status 2"
echo "PASS: vmmctl --dump-dtb"
