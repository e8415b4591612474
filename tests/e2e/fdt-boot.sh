#!/bin/sh
# The device tree core/fdt.c builds, given to a stock arm64 Linux: Debian's
# cloud arm64 kernel boots under qemu-system-aarch64 -accel tcg on QEMU's
# "virt" board with -dtb from tests/e2e/fdt-virt-dtb (that board's layout,
# our tree), once with a GICv3 and once with a GICv2, 2 CPUs each.  The
# initramfs is loaded where our /chosen says (a loader device, not -initrd,
# so QEMU leaves linux,initrd-* alone) and there is no -append, so the
# command line is our bootargs and the console is found by stdout-path.
# Its /init reports what the kernel found:
#   FDT-MODEL vmm,arm64-virt              the root's model
#   FDT-CPUS 0-1                          the second CPU started (PSCI CPU_ON)
#   FDT-AMBA ... 9000000.serial 9010000.rtc   the PrimeCells (apb_pclk)
#   FDT-RTC rtc-pl031                     the pl031 driver bound
#   FDT-VIRTIO a000000.virtio_mmio a000200.virtio_mmio
#   FDT-IRQ <n> <controller> <intid> Level <name>   timer, pl011, pl031
#   FDT-CMDLINE quiet fdt.boot
# (QEMU replaces /psci and the /memory nodes with its own, so those two
# are checked by test_fdt only.)
# Skips (77) with VMM_E2E_SKIP=1, without qemu-system-aarch64, or when the
# arm64 kernel or busybox can be neither fetched nor found in the cache
# (as root it adds the arm64 architecture to dpkg for them).
: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set (run through make check)}"
: "${VMM_SRCDIR:?VMM_SRCDIR is not set (run through make check)}"
. "$VMM_SRCDIR/tests/e2e/e2e-lib.sh"

if [ "${VMM_E2E_SKIP:-0}" = 1 ]; then
	skip "end-to-end tests are off (VMM_E2E_SKIP=1)"
fi
DTB_TOOL="$VMM_BUILDDIR/tests/e2e/fdt-virt-dtb"
[ -x "$DTB_TOOL" ] || { echo "FAIL: $DTB_TOOL is missing (run make check)"; exit 1; }
QEMU=${E2E_QEMU_ARM64:-qemu-system-aarch64}
command -v "$QEMU" >/dev/null 2>&1 || e2e_apt_install qemu-system-arm ||
	skip "no $QEMU (Debian: qemu-system-arm)"
command -v "$QEMU" >/dev/null 2>&1 || skip "no $QEMU (Debian: qemu-system-arm)"
command -v cpio >/dev/null 2>&1 || e2e_apt_install cpio || skip "no cpio"

e2e_arm64_archive || skip "$E2E_WHY"
e2e_fetch_kernel "linux-image-cloud-arm64:arm64" || skip "$E2E_WHY"
KERNEL=$E2E_KERNEL
e2e_fetch_arm64_busybox || skip "$E2E_WHY"

rd="$E2E_TMP/rd"
mkdir -p "$rd/bin" "$rd/proc" "$rd/sys" "$rd/dev"
cp "$E2E_BUSYBOX" "$rd/bin/busybox"
cat >"$rd/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
echo "FDT-MODEL $(cat /proc/device-tree/model)"
echo "FDT-CPUS $(cat /sys/devices/system/cpu/online)"
echo "FDT-AMBA $(ls /sys/bus/amba/devices | tr '\n' ' ')"
echo "FDT-RTC $(cat /sys/class/rtc/rtc0/name 2>&1 | cut -d' ' -f1)"
echo "FDT-VIRTIO $(ls /sys/bus/platform/devices | grep virtio | tr '\n' ' ')"
sed -n 's/^ *\([0-9]*\): .*\(GIC[^ ]*\) *\([0-9]*\) Level *\(arch_timer\|uart-pl011\|rtc-pl031\)$/FDT-IRQ \1 \2 \3 Level \4/p' /proc/interrupts
echo "FDT-CMDLINE $(cat /proc/cmdline)"
echo FDT-DONE
poweroff -f
EOF
chmod +x "$rd/init"
(cd "$rd" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$E2E_TMP/rd.cpio.gz" ||
	{ echo "FAIL: could not pack the initramfs"; exit 1; }

INITRD_ADDR=0x4c000000  # QEMU puts the kernel low and the DTB at 128 MiB
failed=0
for gic in 3 2; do
	dtb="$E2E_TMP/virt-gicv$gic.dtb"
	log="$E2E_TMP/gicv$gic.log"
	"$DTB_TOOL" "$dtb" $gic 2 256 "$E2E_TMP/rd.cpio.gz" $INITRD_ADDR || { echo "FAIL: fdt-virt-dtb"; exit 1; }
	t0=$(e2e_now_ms)
	timeout -k 5 180 "$QEMU" -M virt,gic-version=$gic -cpu cortex-a57 -smp 2 -m 256 \
		-nographic -no-reboot -kernel "$KERNEL" -dtb "$dtb" \
		-device loader,file="$E2E_TMP/rd.cpio.gz",addr=$INITRD_ADDR,force-raw=on \
		</dev/null >"$log" 2>&1
	t1=$(e2e_now_ms)
	tr -d '\r' <"$log" >"$log.txt"
	bad=""
	expect() { grep -qx -- "$1" "$log.txt" || bad="$bad
    missing: $1"; }
	expect_re() { grep -qE -- "$1" "$log.txt" || bad="$bad
    missing: /$1/"; }
	expect "FDT-MODEL vmm,arm64-virt"
	expect "FDT-CPUS 0-1"
	expect_re "^FDT-AMBA .*9000000\.serial "
	expect_re "^FDT-AMBA .*9010000\.rtc "
	expect "FDT-RTC rtc-pl031"
	expect "FDT-VIRTIO a000000.virtio_mmio a000200.virtio_mmio "
	expect_re "^FDT-IRQ [0-9]+ GIC[^ ]* 27 Level arch_timer$"
	expect_re "^FDT-IRQ [0-9]+ GIC[^ ]* 33 Level uart-pl011$"
	expect_re "^FDT-IRQ [0-9]+ GIC[^ ]* 34 Level rtc-pl031$"
	expect "FDT-CMDLINE quiet fdt.boot"
	expect "FDT-DONE"
	if [ -z "$bad" ]; then
		echo "ok: GICv$gic tree: Linux booted with 2 CPUs, found pl011 (console by stdout-path), pl031, 2 virtio-mmio, the timer ($(e2e_secs $((t1 - t0))) s)"
	else
		echo "FAIL: GICv$gic tree:$bad"
		echo "  console (last 30 lines):"
		tail -n 30 "$log.txt" | sed 's/^/  | /'
		failed=1
	fi
done
exit $failed
