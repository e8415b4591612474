#!/bin/sh
# bench/startup.sh - start-up cost of vmmctl's default machine running
# tests/guests/hello.elf against QEMU microvm (platform.md's command) and
# against the floor (bench/raw-kvm-boot: the least a program must do to run
# the same guest on KVM) on the same guest: 10 runs each, interleaved;
# median wall time and median peak RSS of the whole process.  No threshold fails the run; only a program
# error does.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
ELF="$GUESTS/hello.elf"
RUNS=10

if ! kvm_usable; then
	echo "startup: skipped: needs root and /dev/kvm"
	exit 0
fi
FLOOR="$VMM_BUILDDIR/bench/raw-kvm-boot"
for f in "$MEASURE" "$VMMCTL" "$ELF" "$FLOOR"; do
	[ -e "$f" ] || { echo "startup: $f is missing" >&2; exit 1; }
done

set -- "$VMMCTL" run --kernel "$ELF" :: "$FLOOR" "$ELF"
have_qemu=no
if [ -z "$QEMU_X86" ]; then
	why="QEMU_X86 is empty (configure found no qemu-system-x86_64)"
elif [ ! -x "$QEMU_X86" ]; then
	why="$QEMU_X86 is not executable"
else
	have_qemu=yes
	set -- "$@" :: "$QEMU_X86" -M microvm,x-option-roms=off,rtc=off,pit=off,pic=off \
		-enable-kvm -cpu kvm64 -m 64 -nodefaults -no-user-config -display none \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$ELF"
fi

out=$("$MEASURE" -n $RUNS -q "$@") || { echo "startup: measure failed: $out" >&2; exit 1; }
vline=$(printf '%s\n' "$out" | grep '^cmd=1 ')
vst=$(field status "$vline")
[ "$vst" = 0 ] || { echo "startup: vmmctl exited with $vst, expected 0" >&2; exit 1; }
vms=$(field wall_ms "$vline"); vkib=$(field rss_kib "$vline")
fline=$(printf '%s\n' "$out" | grep '^cmd=2 ')
fst=$(field status "$fline")
[ "$fst" = 0 ] || { echo "startup: raw-kvm-boot exited with $fst, expected 0" >&2; exit 1; }
fms=$(field wall_ms "$fline"); fkib=$(field rss_kib "$fline")
awk -v vms="$vms" -v fms="$fms" -v fk="$fkib" 'BEGIN {
	printf "startup: floor (raw KVM, same guest and memory) %.1f ms / %.1f MiB, vmmctl / floor %.2fx (target <= 1.3x)\n",
		fms, fk / 1024, vms / fms
}'

if [ $have_qemu = yes ]; then
	qline=$(printf '%s\n' "$out" | grep '^cmd=3 ')
	qst=$(field status "$qline")
	# isa-debug-exit: the guest's 0 becomes (0 << 1) | 1.
	[ "$qst" = 1 ] || { echo "startup: qemu exited with $qst, expected 1" >&2; exit 1; }
	qms=$(field wall_ms "$qline"); qkib=$(field rss_kib "$qline")
	awk -v vms="$vms" -v vk="$vkib" -v qms="$qms" -v qk="$qkib" 'BEGIN {
		printf "startup: vmmctl %.1f ms / %.1f MiB, qemu microvm %.0f ms / %.1f MiB, wall ratio %.1fx (target >= 10x), RSS %.1f MiB (target <= 5 MiB + guest memory touched)\n",
			vms, vk / 1024, qms, qk / 1024, qms / vms, vk / 1024
	}'
else
	awk -v vms="$vms" -v vk="$vkib" 'BEGIN {
		printf "startup: vmmctl %.1f ms / %.1f MiB, RSS %.1f MiB (target <= 5 MiB + guest memory touched)\n", vms, vk / 1024, vk / 1024
	}'
	echo "startup: no QEMU comparison: $why"
fi
echo "startup: (median of $RUNS interleaved runs, whole process, output to /dev/null)"

# Breakdown: the same machine with KVM's in-kernel irqchip instead.
out=$("$MEASURE" -n $RUNS -q "$VMMCTL" run --kernel "$ELF" "$VMM_SRCDIR/bench/startup-kernel-irqchip.conf" \
	:: "$VMMCTL" run --kernel "$ELF") || { echo "startup: measure failed: $out" >&2; exit 1; }
kms=$(field wall_ms "$(printf '%s\n' "$out" | grep '^cmd=1 ')")
dms=$(field wall_ms "$(printf '%s\n' "$out" | grep '^cmd=2 ')")
awk -v k="$kms" -v d="$dms" 'BEGIN {
	printf "startup: breakdown: default machine (8259 plugin) %.1f ms; with KVM_CREATE_IRQCHIP instead %.1f ms\n", d, k
}'
