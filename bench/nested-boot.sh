#!/bin/sh
# bench/nested-boot.sh - a stock Debian x86 kernel booted by vmmctl and by
# Debian's QEMU (-M microvm and -M pc, -accel kvm), side by side, on the
# nested test host (tests/e2e/e2e-lib.sh: one L1 = QEMU TCG with kvm_amd).
# `make bench-nested` runs it; it takes 10-20 minutes and is in neither
# `make check` nor `make bench`.
#
# In one L1, ROUNDS rounds, each booting the same kernel and initramfs
# (tests/e2e/mk-l2-initramfs.sh --exit poweroff: /init prints L2-INIT,
# checks the timer, RTC and CPUs, prints L2-DONE and powers off) with:
#   vmmctl        machines/x86-pc-kernel.conf (memory and vCPUs below)
#   vmmctl-nodl   the same with tsc-deadline = false (the kvm plugin's
#                 default before: no TSC-deadline timer in CPUID)
#   vmmctl-hostdc the same as vmmctl with boot { decompress = "host" }
#   qemu-microvm  qemu-system-x86_64 -M microvm -accel kvm -cpu host
#   qemu-pc       qemu-system-x86_64 -M pc -accel kvm -cpu host
# with `quiet`, timed in L1 by bench/boot-timer from the VMM's process
# start to the guest's L2-INIT line (its /init) and to the VMM's exit
# (power-off); the guest's uptime at L2-INIT says when its clock started
# (so what came before it: the VMM's set-up, firmware, decompressor).
# Then one more boot of each with `l2.dmesg`: after L2-DONE the initramfs
# prints the kernel's log with its timestamps (a quiet boot's own times,
# which a verbose console would inflate: every byte is an exit), the
# breakdown of where the time goes.
#
# Prints the medians, the ratios QEMU / vmmctl (above 1: vmmctl is faster)
# and the breakdowns.  No threshold fails it; a run that does not end with
# status 0 does.  Knobs: BENCH_ROUNDS (5), BENCH_KERNEL (the kernel
# package, linux-image-cloud-amd64), BENCH_VCPUS (1), BENCH_MEM (256M),
# BENCH_QEMU_CPU (host), BENCH_APPEND (more guest kernel parameters, all
# runs), BENCH_VMM_APPEND (more, vmmctl's runs only), BENCH_DMESG=0 (no
# breakdown boots), BENCH_ONLY (an extended regex of the variants to run),
# and e2e-lib.sh's (E2E_KEEP=1 keeps L1's console log).
: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set (run through make bench-nested)}"
: "${VMM_SRCDIR:?VMM_SRCDIR is not set (run through make bench-nested)}"
. "$VMM_SRCDIR/tests/e2e/e2e-lib.sh"
# a bench that cannot run says so and is not a failure
skip() { echo "nested-boot: skipped: $*"; exit 0; }

ROUNDS=${BENCH_ROUNDS:-5}
KPKG=${BENCH_KERNEL:-linux-image-cloud-amd64}
VCPUS=${BENCH_VCPUS:-1}
MEM=${BENCH_MEM:-256M}
QCPU=${BENCH_QEMU_CPU:-host}
DMESG=${BENCH_DMESG:-1}
ONLY=${BENCH_ONLY:-.}
QEMU=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 is missing (Debian package qemu-system-x86)"
VMMCTL=$(e2e_real_binary "$VMM_BUILDDIR/core/vmmctl")
TIMER=$(e2e_real_binary "$VMM_BUILDDIR/bench/boot-timer")
for f in "$VMMCTL" "$TIMER"; do
	[ -f "$f" ] || { echo "nested-boot: $f is missing (run make bench-nested)"; exit 1; }
done
T_START=$(e2e_now_ms)
e2e_setup
e2e_fetch_kernel "$KPKG" || skip "$E2E_WHY"
KERNEL=$E2E_KERNEL

e2e_rd_add_vmmctl "$VMMCTL"
e2e_rd_add_bin "$TIMER" /e2e/bin/boot-timer
# Debian's QEMU and the firmware its machines load (-L /e2e/qemu): qboot
# for microvm, SeaBIOS and the option ROMs -kernel and the KVM APIC use
# for pc.
e2e_rd_add_bin "$QEMU" /e2e/bin/qemu-system-x86_64
for fw in bios-microvm.bin bios-256k.bin linuxboot_dma.bin linuxboot.bin kvmvapic.bin multiboot_dma.bin pvh.bin; do
	for d in /usr/share/qemu /usr/share/seabios; do
		[ -f "$d/$fw" ] && { e2e_rd_add_file "$d/$fw" "/e2e/qemu/$fw"; break; }
	done
	[ -f "$E2E_RD/e2e/qemu/$fw" ] || { echo "nested-boot: no $fw in /usr/share/qemu or /usr/share/seabios (qemu-system-data, seabios)"; exit 1; }
done
e2e_rd_add_file "$KERNEL" /e2e/l2/k.bz
sh "$VMM_SRCDIR/tests/e2e/mk-l2-initramfs.sh" --exit poweroff "$E2E_TMP/l2-initrd.gz" ||
	{ echo "nested-boot: mk-l2-initramfs.sh failed"; exit 1; }
e2e_rd_add_file "$E2E_TMP/l2-initrd.gz" /e2e/l2/initrd.gz
sed -e "s/^memory = .*/memory = $MEM/" -e "s/^vcpus = .*/vcpus = $VCPUS/" \
	"$VMM_SRCDIR/machines/x86-pc-kernel.conf" >"$E2E_TMP/pc.conf"
sed 's/^boot {$/boot {\n\tdecompress = "host"/' "$E2E_TMP/pc.conf" >"$E2E_TMP/pc-hostdc.conf"
sed 's/^\(\tirqchip = "kernel"\)$/\1\n\ttsc-deadline = false/' "$E2E_TMP/pc.conf" >"$E2E_TMP/pc-nodl.conf"
grep -q "^vcpus = $VCPUS\$" "$E2E_TMP/pc.conf" && grep -q 'decompress = "host"' "$E2E_TMP/pc-hostdc.conf" &&
	grep -q 'tsc-deadline = false' "$E2E_TMP/pc-nodl.conf" ||
	{ echo "nested-boot: could not edit machines/x86-pc-kernel.conf"; exit 1; }
for c in pc pc-hostdc pc-nodl; do
	e2e_rd_add_file "$E2E_TMP/$c.conf" /e2e/conf/$c.conf
done

# The same kernel parameters for every VMM (QEMU's -append, vmmctl's
# --cmdline); BENCH_VMM_APPEND only for vmmctl's.
QUIET="console=ttyS0 panic=-1 quiet ${BENCH_APPEND:-}"
DMESGED="$QUIET printk.time=1 l2.dmesg"
MEM_MB=${MEM%M}
QARGS="-accel kvm -cpu $QCPU -m $MEM_MB -smp $VCPUS -nodefaults -no-user-config -display none -no-reboot -serial stdio -L /e2e/qemu -kernel l2/k.bz -initrd l2/initrd.gz"
MARKS="-m L2-INIT -m L2-DONE"

# cmdline VARIANT APPEND: the command line (for e2e_run -p) of VARIANT.
cmdline() {
	case $1 in
	vmmctl) echo "/e2e/bin/boot-timer $3 $MARKS -- /e2e/bin/vmmctl run --stats conf/pc.conf --kernel l2/k.bz --initrd l2/initrd.gz --cmdline '$2 ${BENCH_VMM_APPEND:-}'" ;;
	vmmctl-nodl) echo "/e2e/bin/boot-timer $3 $MARKS -- /e2e/bin/vmmctl run --stats conf/pc-nodl.conf --kernel l2/k.bz --initrd l2/initrd.gz --cmdline '$2 ${BENCH_VMM_APPEND:-}'" ;;
	vmmctl-hostdc) echo "/e2e/bin/boot-timer $3 $MARKS -- /e2e/bin/vmmctl -v run --stats conf/pc-hostdc.conf --kernel l2/k.bz --initrd l2/initrd.gz --cmdline '$2 ${BENCH_VMM_APPEND:-}'" ;;
	qemu-microvm) echo "/e2e/bin/boot-timer $3 $MARKS -- /e2e/bin/qemu-system-x86_64 -M microvm $QARGS -append '$2'" ;;
	qemu-pc) echo "/e2e/bin/boot-timer $3 $MARKS -- /e2e/bin/qemu-system-x86_64 -M pc $QARGS -append '$2'" ;;
	esac
}

VARIANTS=""
for v in vmmctl vmmctl-nodl vmmctl-hostdc qemu-microvm qemu-pc; do
	echo "$v" | grep -qE -- "$ONLY" && VARIANTS="$VARIANTS $v"
done
[ -n "$VARIANTS" ] || { echo "nested-boot: BENCH_ONLY=$ONLY selects no variant"; exit 1; }

e2e_group nested-boot
# Alternating: each round runs every variant once, the first variant
# changing from round to round (a slow spell in L1 is not one VMM's).
r=1
while [ $r -le "$ROUNDS" ]; do
	set -- $VARIANTS
	i=1
	while [ $i -lt $r ]; do v=$1; shift; set -- "$@" "$v"; i=$((i + 1)); done
	for v in "$@"; do
		e2e_run -p -t 150 "$v.$r" "$(cmdline $v "$QUIET")" 0 "L2-DONE"
		E2E_TIMEOUT=$((E2E_TIMEOUT + 150))
	done
	r=$((r + 1))
done
if [ "$DMESG" = 1 ]; then
	for v in $VARIANTS; do
		e2e_run -p -t 150 "$v.dmesg" "$(cmdline $v "$DMESGED")" 0 "L2-DONE"
		E2E_TIMEOUT=$((E2E_TIMEOUT + 150))
	done
fi
echo "nested-boot: prepared in $(e2e_secs $(($(e2e_now_ms) - T_START))) s; kernel $(basename "$(dirname "$(dirname "$KERNEL")")"), $VCPUS vCPU(s), $MEM, $ROUNDS rounds"
e2e_boot_group

# ---- figures ----
med() { sort -n | awk '{ v[NR] = $1 } END { if (!NR) print ""; else print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# fig VARIANT WHAT: the median over the rounds of WHAT (init, done, exit) in ms
fig() {
	for f in "$E2E_TMP"/run-"$1".[0-9]*.log; do
		[ -f "$f" ] || continue
		case $2 in
		init) sed -n 's/^BOOT-MARK \([0-9.]*\) L2-INIT$/\1/p' "$f" ;;
		exit) sed -n 's/^BOOT-EXIT \([0-9.]*\) status=0$/\1/p' "$f" ;;
		# L1's time at L2-INIT less the guest's uptime there: when
		# the guest kernel's clock started
		clock0) awk '/^L2-INIT uptime=/ { sub(/^L2-INIT uptime=/, ""); up = $1 * 1000 }
			/^BOOT-MARK [0-9.]* L2-INIT$/ { at = $2 } END { if (up != "" && at != "") printf "%.0f\n", at - up }' "$f" ;;
		setup) sed -n 's/^E2E-STDERR setup: \([0-9.]*\) ms.*/\1/p' "$f" ;;
		esac
	done | med
}
echo
echo "nested-boot: medians of $ROUNDS rounds (ms, L1's clock, from the VMM's process start)"
printf '  %-14s %10s %10s %14s %14s\n' variant "to /init" "to exit" "guest clock 0" "vmmctl set-up"
for v in $VARIANTS; do
	printf '  %-14s %10s %10s %14s %14s\n' "$v" "$(fig $v init)" "$(fig $v exit)" "$(fig $v clock0)" "$(fig $v setup)"
done
ratio() {
	[ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }' || printf '-'
}
for q in qemu-microvm qemu-pc; do
	for v in vmmctl vmmctl-hostdc; do
		echo " $VARIANTS " | grep -q " $q " && echo " $VARIANTS " | grep -q " $v " || continue
		echo "nested-boot: $q / $v: $(ratio "$(fig $q init)" "$(fig $v init)")x to /init, $(ratio "$(fig $q exit)" "$(fig $v exit)")x to exit"
	done
done
for v in vmmctl-nodl vmmctl-hostdc; do
	echo " $VARIANTS " | grep -q " $v " && echo " $VARIANTS " | grep -q " vmmctl " &&
		echo "nested-boot: $v / vmmctl: $(ratio "$(fig $v init)" "$(fig vmmctl init)")x to /init, $(ratio "$(fig $v exit)" "$(fig vmmctl exit)")x to exit"
done

# The breakdown of each l2.dmesg boot: L1's clock for the host side (the
# VMM's set-up, when the guest's clock started, /init, the exit), the
# guest's own log for its steps, and the largest gaps between its lines.
breakdown() {
	f="$E2E_TMP/run-$1.dmesg.log"
	[ -f "$f" ] || return 0
	echo
	echo "nested-boot: breakdown of $1 (a quiet boot; L1 ms from the VMM's process start, guest s from its clock's start)"
	awk '
	function at(re,   i) { for (i = 1; i <= n; i++) if (txt[i] ~ re) return i; return 0 }
	function guest(re, what,   i) { i = at(re); if (i) printf "  %-46s guest %8.3f s  %s\n", what, pt[i], substr(txt[i], 1, 60); else printf "  %-46s (no such line)\n", what }
	/^E2E-STDERR setup: / { setup = $3 }
	/^E2E-STDERR .*decompressed/ { sub(/^E2E-STDERR /, ""); dc = $0 }
	/^L2-INIT uptime=/ { up = substr($2, 8) * 1000 }
	/^BOOT-MARK [0-9.]* L2-INIT$/ { init = $2 }
	/^BOOT-MARK [0-9.]* L2-DONE$/ { done = $2 }
	/^BOOT-EXIT / { ex = $2 }
	/^L2-DMESG \[ *[0-9]+\.[0-9]+\]/ { t = $0; sub(/^L2-DMESG \[ */, "", t); p = t; sub(/\].*/, "", p); sub(/^[^\]]*\] ?/, "", t)
		n++; pt[n] = p + 0; txt[n] = t }
	END {
		if (setup != "") printf "  %-46s L1 %8.1f ms (vmmctl --stats)\n", "VMM set-up to the first vCPU entry", setup
		if (dc != "") printf "  host decompression: %s\n", dc
		if (init != "" && up != "") printf "  %-46s L1 %8.1f ms (set-up, firmware, decompressor, early kernel)\n", "the guest kernel'"'"'s clock starts", init - up
		guest("tsc: (Detected|Fast TSC|Refined)", "TSC frequency known")
		guest("Calibrating delay", "delay loop (lpj)")
		guest("TSC deadline timer|APIC calibration|APIC timer", "APIC timer (TSC deadline or calibrated)")
		guest("smp: Brought up", "CPUs up")
		guest("Serial: 8250", "8250 driver starts")
		guest("ttyS0 at", "8250: ttyS0 found")
		guest("i8042", "i8042: first line")
		guest("Freeing unused kernel image", "kernel init done (init memory freed)")
		guest("Run /init", "Run /init")
		if (init != "") printf "  %-46s L1 %8.1f ms\n", "initramfs: L2-INIT", init
		if (done != "") printf "  %-46s L1 %8.1f ms (its checks include a 1 s sleep)\n", "initramfs: L2-DONE", done
		if (ex != "") printf "  %-46s L1 %8.1f ms (after the log dump)\n", "exit (power-off)", ex
		m = 0
		for (i = 2; i <= n; i++) { m++; gap[m] = pt[i] - pt[i - 1]; gl[m] = i }
		printf "  largest gaps in the guest log (the line after the gap):\n"
		for (k = 1; k <= 10 && k <= m; k++) {
			b = 0; for (j = 1; j <= m; j++) if (!(j in used) && (b == 0 || gap[j] > gap[b])) b = j
			if (!b) break
			used[b] = 1
			printf "    %7.3f s before [%9.3f] %s\n", gap[b], pt[gl[b]], substr(txt[gl[b]], 1, 80)
		}
	}' "$f"
}
for v in $VARIANTS; do breakdown "$v"; done

echo
echo "nested-boot: whole bench $(e2e_secs $(($(e2e_now_ms) - T_START))) s"
if [ "$E2E_FAILED" -ne 0 ]; then
	echo "nested-boot: FAIL: $E2E_FAILED run(s) failed (above)"
	exit 1
fi
