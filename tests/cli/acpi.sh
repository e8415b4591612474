#!/bin/sh
# ACPI: the tables a PC machine gets, decompiled by ACPICA's iasl (the
# reference parser), and the acpi-pm device's power off, reset and PM timer
# driven by tiny real-mode guests.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
require_kvm

MACHINE="$VMM_SRCDIR/machines/x86-pc-split.conf"
mkdir -p "$TMPD/acpi"
run_guest tables "$VMMCTL" run --dump-acpi "$TMPD/acpi" --kernel "$GUESTS/hello.elf" "$MACHINE"
expect_status 1   # hello writes 0 to debug-exit: (0 << 1) | 1
for t in XSDT FACP APIC DSDT; do
	[ -s "$TMPD/acpi/$t.dat" ] || fail "--dump-acpi wrote no $t"
done
echo "ok: --dump-acpi wrote XSDT, FACP, APIC, DSDT"

if command -v iasl >/dev/null; then
	(cd "$TMPD/acpi" && iasl -d XSDT.dat FACP.dat APIC.dat DSDT.dat) >"$TMPD/iasl.out" 2>&1 ||
		fail "iasl -d failed: $(tail -5 "$TMPD/iasl.out")"
	grep -qi "error" "$TMPD/iasl.out" && fail "iasl reported errors: $(grep -i error "$TMPD/iasl.out")"
	dsl="$TMPD/acpi/DSDT.dsl"
	for id in PNP0501 PNP0B00 PNP0303 PNP0000 PNP0100; do
		grep -q "EisaId (\"$id\")" "$dsl" || fail "DSDT has no $id device"
	done
	grep -q 'Name (\\_S5, Package' "$dsl" || fail "DSDT has no \\_S5"
	[ "$(grep -c 'Processor Local APIC' "$TMPD/acpi/APIC.dsl")" = 2 ] || fail "MADT should list 2 local APICs"
	grep -q 'Subtable Type : 01 \[I/O APIC\]' "$TMPD/acpi/APIC.dsl" || fail "MADT has no I/O APIC"
	grep -q 'PM1A Control Block Address : 00000604' "$TMPD/acpi/FACP.dsl" || fail "FADT PM1a_CNT is not 0x604"
	# The fixed-feature power button (ACPI 6.5 table 5.10: PWR_BUTTON clear).
	grep -q 'Control Method Power Button (V1) : 0' "$TMPD/acpi/FACP.dsl" ||
		fail "FADT's PWR_BUTTON flag is set: the power button would be a control method device"
	# The SCI's override: ISA 9 -> GSI 9, active high (polarity 1), level (trigger mode 3).
	grep -A8 'Interrupt Source Override' "$TMPD/acpi/APIC.dsl" | tr -d ' ' |
		grep -A4 'Interrupt:00000009' | tr '\n' ' ' | grep -q 'Polarity:1 TriggerMode:3' ||
		fail "MADT: the SCI's override is not level, active high: $(grep -A8 'Interrupt Source Override' "$TMPD/acpi/APIC.dsl")"
	echo "ok: iasl decompiles every table; DSDT devices, \\_S5, MADT and FADT as expected"
else
	echo "SKIP: iasl part: acpica-tools is not installed"
fi

# mov dx,0x604; mov ax,(5 << 10) | (1 << 13); out dx,ax; hlt: S5 with SLP_EN
printf '\272\004\006\270\000\064\357\364' >"$TMPD/s5.bin"
run_guest s5 "$VMMCTL" run --format flat --cmdline "" --kernel "$TMPD/s5.bin" "$MACHINE"
expect_status 0
echo "ok: SLP_TYP 5 + SLP_EN in PM1a_CNT powers off (status 0)"

# mov dx,0x60c; mov al,1; out dx,al; hlt: the FADT's reset register
printf '\272\014\006\260\001\356\364' >"$TMPD/reset.bin"
run_guest reset "$VMMCTL" run --format flat --cmdline "" --kernel "$TMPD/reset.bin" "$MACHINE"
expect_status 6
echo "ok: the reset register is a reset request (status 6)"

# PM timer: read, spin 1000 loops, read again; 0x10 (status 33) if it moved.
printf '\272\010\006\146\355\146\211\303\271\350\003\342\376\146\355\146\051\330\164\004\260\020\346\364\260\021\346\364\364' >"$TMPD/tmr.bin"
run_guest tmr "$VMMCTL" run --format flat --cmdline "" --kernel "$TMPD/tmr.bin" "$MACHINE"
expect_status 33
echo "ok: the PM timer advances"

# virtio-mmio devices describe themselves: LNRO0005 with their register
# window and a level-triggered, active-high interrupt.
# The disk also starts under vmmctl on a block-file backend.
truncate -s 1M "$TMPD/disk.img"
sed 's|^device "exit"|device "rng" { plugin = "virtio-rng" base = 0xd0000000 irq = 16 }\
backend "disk0" { plugin = "block-file" path = "'"$TMPD/disk.img"'" }\
device "vda" { plugin = "virtio-blk" base = 0xd0001000 irq = 17 disk = "disk0" }\
device "exit"|' "$MACHINE" >"$TMPD/virtio.conf"
mkdir -p "$TMPD/acpi-virtio"
run_guest virtio-tables "$VMMCTL" run --dump-acpi "$TMPD/acpi-virtio" --kernel "$GUESTS/hello.elf" \
	"$TMPD/virtio.conf"
expect_status 1
[ "$(grep -ao LNRO0005 "$TMPD/acpi-virtio/DSDT.dat" | wc -l)" = 2 ] ||
	fail "DSDT should have two LNRO0005 devices"
if command -v iasl >/dev/null; then
	(cd "$TMPD/acpi-virtio" && iasl -d DSDT.dat) >"$TMPD/iasl-virtio.out" 2>&1 ||
		fail "iasl -d failed on the virtio DSDT"
	dsl="$TMPD/acpi-virtio/DSDT.dsl"
	grep -A12 '"LNRO0005"' "$dsl" >"$TMPD/lnro.dsl"
	grep -q '0xD0000000,' "$TMPD/lnro.dsl" || fail "LNRO0005 has no window at 0xd0000000"
	grep -q '0x00000200,' "$TMPD/lnro.dsl" || fail "LNRO0005 window is not 0x200 bytes"
	grep -q 'Interrupt (ResourceConsumer, Level, ActiveHigh' "$TMPD/lnro.dsl" ||
		fail "LNRO0005 interrupt is not level-triggered, active high"
	grep -q '0x00000010,' "$TMPD/lnro.dsl" || fail "LNRO0005 interrupt is not line 16"
	grep -q '0xD0001000,' "$TMPD/lnro.dsl" || fail "no LNRO0005 window at 0xd0001000"
	grep -q '0x00000011,' "$TMPD/lnro.dsl" || fail "no LNRO0005 interrupt on line 17"
	echo "ok: virtio-rng and virtio-blk are LNRO0005 devices: 0x200-byte windows, level interrupts 16, 17"
else
	echo "ok: the DSDT has two LNRO0005 devices (iasl not installed: layout not checked)"
fi

# A disk must name a block backend: a character one is refused at start.
sed 's|disk = "disk0"|disk = "stdio"|' "$TMPD/virtio.conf" >"$TMPD/virtio-bad.conf"
run_guest virtio-bad "$VMMCTL" run --kernel "$GUESTS/hello.elf" "$TMPD/virtio-bad.conf"
expect_status 2
grep -q "backend 'stdio' is not a block backend" "$ERR" ||
	fail "no 'not a block backend' error: $(cat "$ERR")"
echo "ok: virtio-blk on a character backend is refused"
