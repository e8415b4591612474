#!/bin/sh
# Reference for irq-modes.sh: the interrupt test guests under QEMU with KVM,
# independent of vmmctl and its plugins.  QEMU's microvm (with pic, pit and
# rtc on) and pc machines both route the PIT to IOAPIC pin 2 (the ISA
# override), so pit-ioapic and smp-ipi get pit_pin=2 on the command line;
# vmmctl's machines wire it to pin 0, the guests' default.  i8042-reset
# needs the pc machine (microvm has no i8042) and -no-reboot, which turns
# the reset into an exit with status 0.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
[ -n "$QEMU_X86" ] || skip "QEMU_X86 is empty (configure found no qemu-system-x86_64)"
[ -x "$QEMU_X86" ] || skip "QEMU_X86=$QEMU_X86 is not executable"
require_kvm
for g in pit-pic pit-ioapic rtc i8042-reset smp-ipi msr-gp-irq; do
	require_file "$GUESTS/$g.elf"
done
# A hang guard, not a time limit: guest kernel code is interpreted on this
# host's KVM (platform.md), and a loaded machine (CI beside the nested
# hosts' emulators) took over 30 s for the 50 PIT interrupts.
GUEST_TIMEOUT=120

# Word-split on purpose: none of these contain blanks.
QEMU_COMMON="-enable-kvm -cpu kvm64 -m 64 -nodefaults -no-user-config -display none
	-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4"
MICROVM="-M microvm,x-option-roms=off,pic=on,pit=on,rtc=on"

run_guest qemu-usable "$QEMU_X86" $QEMU_COMMON $MICROVM -kernel "$GUESTS/pit-pic.elf"
if grep -q 'failed to initialize kvm\|Could not access KVM' "$ERR"; then
	skip "QEMU cannot use KVM: $(head -n 1 "$ERR")"
fi

# qemu_check NAME STATUS QEMU-ARGS... -- LINE...
qemu_check() {
	check=$1 want=$2
	shift 2
	args=
	while [ "$1" != -- ]; do args="$args $1"; shift; done
	shift
	run_guest "qemu-$check" "$QEMU_X86" $QEMU_COMMON $args
	expect_no_fail
	for l in "$@"; do
		expect_line "$l"
	done
	expect_status "$want"
	echo "ok: $check under QEMU, status $STATUS"
}

qemu_check pit-pic-microvm 67 $MICROVM -kernel "$GUESTS/pit-pic.elf" -- \
	"pit-pic: 50 interrupts" "pit-pic: masked ok" "PIT-PIC-DONE"
qemu_check pit-ioapic-microvm 67 $MICROVM -kernel "$GUESTS/pit-ioapic.elf" -append pit_pin=2 -- \
	"pit-ioapic: 50 interrupts" "pit-ioapic: masked ok" "PIT-IOAPIC-DONE"
qemu_check msr-gp-irq-microvm 67 $MICROVM -kernel "$GUESTS/msr-gp-irq.elf" -- \
	"msr-gp-irq: 3000 #GPs, timer still running" "MSR-GP-IRQ-DONE"
qemu_check rtc-microvm 67 $MICROVM -kernel "$GUESTS/rtc.elf" -- \
	"rtc: 64 periodic interrupts" "RTC-DONE"
qemu_check smp-ipi-microvm 67 $MICROVM -smp 2 -kernel "$GUESTS/smp-ipi.elf" -append pit_pin=2 -- \
	"SMP-DONE"
grep '^smp: cpu0 ' "$OUT" | tr -d '\r'
# The pc machine boots SeaBIOS first (about 1.5 s here); one run each of
# the APIC guests there and the reset, which microvm cannot do.
qemu_check pit-ioapic-pc 67 -M pc -kernel "$GUESTS/pit-ioapic.elf" -append pit_pin=2 -- \
	"pit-ioapic: 50 interrupts" "pit-ioapic: masked ok" "PIT-IOAPIC-DONE"
qemu_check i8042-reset-pc 0 -M pc -no-reboot -kernel "$GUESTS/i8042-reset.elf" -- \
	"i8042: resetting"
echo "PASS: interrupt guests under QEMU (microvm and pc)"
