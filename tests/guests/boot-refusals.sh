#!/bin/sh
# What vmmctl's boot loaders refuse, and how: each bad kernel, command line
# or format gives one error line naming the file and exit status 2, and no
# guest runs (no serial output).  Also `--format flat`, the one way a flat
# real-mode binary boots (`format = "auto"` boots only an ELF or a bzImage).
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/hello.elf"

# refused KIND PATTERN ARGS...: `vmmctl run ARGS` exits 2 with exactly one
# stderr line (its CR dropped: log lines end in CR LF), matching PATTERN,
# and the guest never ran.
refused() {
	kind=$1 pattern=$2; shift 2
	run_guest "$kind" "$VMMCTL" run "$@"
	[ "$STATUS" = 2 ] || guest_fail "$kind: exit status $STATUS, expected 2"
	tr -d '\r' <"$ERR" | grep -qE -- "$pattern" || guest_fail "$kind: no error line matching /$pattern/"
	[ "$(wc -l <"$ERR")" = 1 ] || guest_fail "$kind: $(wc -l <"$ERR") lines on stderr, expected one"
	[ -s "$OUT" ] && guest_fail "$kind: the guest ran"
	echo "ok: $kind: $(tr -d '\r' <"$ERR")"
}

# mov al,0x10; out 0xf4,al; hlt: debug-exit status (0x10 << 1) | 1 = 33
printf '\260\020\346\364\364' >"$TMPD/exit33.bin"
run_guest flat "$VMMCTL" run --format flat --kernel "$TMPD/exit33.bin"
expect_status 33
echo "ok: --format flat boots a flat binary"
refused "bad --format" "--format coff: not one of auto, pvh, bzimage, flat" \
	--format coff --kernel "$TMPD/exit33.bin"

# format = "auto" (the default) boots only an ELF or a bzImage; before,
# each of these ran as flat real-mode code and the guest spun forever.
: >"$TMPD/empty"
refused "empty file" "kernel $TMPD/empty: empty file\$" --kernel "$TMPD/empty"
printf 'x' >"$TMPD/one-byte"
refused "1-byte file" "kernel $TMPD/one-byte: neither an ELF nor a bzImage; a flat real-mode binary needs format = \"flat\" \\(vmmctl run --format flat\\)\$" \
	--kernel "$TMPD/one-byte"
printf '\177ELF' >"$TMPD/magic.elf"
refused "bare ELF magic" "kernel $TMPD/magic.elf: truncated or malformed ELF header\$" --kernel "$TMPD/magic.elf"
if [ -f "$GUESTS/bz-guest.bzImage" ]; then
	# through the setup header (it ends at 0x268), and short of "HdrS"
	head -c 616 "$GUESTS/bz-guest.bzImage" >"$TMPD/hdr.bz"
	refused "bzImage cut after its header" "kernel $TMPD/hdr.bz: truncated bzImage: header says [0-9]+ bytes of setup code, file has 616\$" \
		--kernel "$TMPD/hdr.bz"
	head -c 516 "$GUESTS/bz-guest.bzImage" >"$TMPD/cut.bz"
	refused "bzImage cut in its magic" "kernel $TMPD/cut.bz: neither an ELF nor a bzImage; a flat real-mode binary needs format" \
		--kernel "$TMPD/cut.bz"
fi
head -c 4096 /dev/urandom >"$TMPD/random"
refused "4 KiB of random bytes" "kernel $TMPD/random: neither an ELF nor a bzImage; a flat real-mode binary needs format" \
	--kernel "$TMPD/random"
refused "empty flat binary" "kernel $TMPD/empty: empty file\$" --format flat --kernel "$TMPD/empty"

# Sizes are checked against guest RAM (64 MiB on the default machine)
# before a byte is read: a 100 GB sparse file ended with status 2 and no
# message (the malloc failed), a 2 GB one was read whole first.  Sparse
# files cost no disk; run_guest's timeout is only a hang guard.
truncate -s 100G "$TMPD/sparse-100g"
refused "100 GB sparse kernel" "kernel $TMPD/sparse-100g: the file is 102400 MiB, more than the guest's 64 MiB of RAM\$" \
	--kernel "$TMPD/sparse-100g"
truncate -s 2G "$TMPD/sparse-2g"
refused "2 GB sparse kernel" "kernel $TMPD/sparse-2g: the file is 2048 MiB, more than the guest's 64 MiB of RAM\$" \
	--kernel "$TMPD/sparse-2g"
refused "2 GB flat binary" "kernel $TMPD/sparse-2g: a flat binary of 2147483648 bytes at 0x8000 runs past 0x9fc00, the end of the low RAM a real-mode program may use\$" \
	--format flat --kernel "$TMPD/sparse-2g"
head -c 621569 /dev/zero >"$TMPD/big.bin"   # 0x97c00 + 1: one byte too many from 0x8000
refused "flat binary into the EBDA" "kernel $TMPD/big.bin: a flat binary of 621569 bytes at 0x8000 runs past 0x9fc00" \
	--format flat --kernel "$TMPD/big.bin"

# Command lines.  A flat binary has no boot protocol to receive one: it was
# silently dropped, even 1 MB of it; now refused like an initrd.  A bzImage
# takes at most its cmdline_size bytes, a PVH kernel the 64 KiB the loader
# has room for.  1 MB does not fit in one argv string: from a config file
# (10^6 bytes: a config is at most 1 MiB, vmm.conf(5) LIMITS).
refused "flat binary with a command line" "kernel $TMPD/exit33.bin: a flat binary takes no command line \\(got 13 bytes; --cmdline \"\" clears the config's\\)\$" \
	--format flat --cmdline "console=ttyS0" --kernel "$TMPD/exit33.bin"
echo "initrd" >"$TMPD/initrd.img"
refused "flat binary with an initrd" "kernel $TMPD/exit33.bin: a flat binary takes no initrd \\($TMPD/initrd.img\\)\$" \
	--format flat --initrd "$TMPD/initrd.img" --kernel "$TMPD/exit33.bin"
big_cmdline=$(head -c 1000000 /dev/zero | tr '\0' 'a')
# conf FILE FORMAT: the default machine's devices, booting FILE with the 1 MB command line
conf() {
	cat <<CONF
memory = 64M
hypervisor "kvm" { irqchip = "emulated" }
device "pic" { plugin = "i8259" }
device "com1" { plugin = "uart16550" base = 0x3f8 irq = 4 chardev = "stdio" }
device "exit" { plugin = "debug-exit" }
boot { kernel = "$1" format = "$2" cmdline = "$big_cmdline" }
CONF
}
conf "$TMPD/exit33.bin" flat >"$TMPD/flat-1m.conf"
refused "flat binary with a 1 MB command line" "kernel $TMPD/exit33.bin: a flat binary takes no command line \\(got 1000000 bytes" \
	"$TMPD/flat-1m.conf"
conf "$GUESTS/hello.elf" auto >"$TMPD/pvh-1m.conf"
refused "PVH kernel with a 1 MB command line" "kernel $GUESTS/hello.elf: the command line is 1000000 bytes, a PVH kernel gets at most 65535\$" \
	"$TMPD/pvh-1m.conf"
if [ -f "$GUESTS/bz-guest.bzImage" ]; then
	conf "$GUESTS/bz-guest.bzImage" auto >"$TMPD/bz-1m.conf"
	refused "bzImage with a 1 MB command line" "kernel $GUESTS/bz-guest.bzImage: kernel command line is 1000000 bytes, the kernel takes at most [0-9]+ \\(cmdline_size\\)\$" \
		"$TMPD/bz-1m.conf"
fi

# The PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): hello.elf's says 0 now.
# Its value follows the 12-byte note header and the 4-byte name "Xen": at +16.
note=$(readelf -SW "$GUESTS/hello.elf" | sed -n 's/.* \.note\.pvh  *NOTE  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
[ -n "$note" ] || { echo "FAIL: no .note.pvh section in hello.elf"; exit 1; }
cp "$GUESTS/hello.elf" "$TMPD/entry0.elf"
printf '\0\0\0\0' | dd of="$TMPD/entry0.elf" bs=1 seek=$((0x$note + 16)) conv=notrunc 2>/dev/null
refused "PVH entry 0" "kernel $TMPD/entry0.elf: the PVH entry note \\(XEN_ELFNOTE_PHYS32_ENTRY\\) gives entry point 0x0, which is no entry point\$" \
	--kernel "$TMPD/entry0.elf"

# PT_LOAD segments may not cover what the loader places: hello.elf moved
# onto the ACPI tables (built before the kernel is loaded, and silently
# overwritten before) and onto the boot data below 0x30000.  Overlapping
# segments are refused too (tests/unit/test_boot builds such ELFs).
objcopy --change-addresses -0x20000 "$GUESTS/hello.elf" "$TMPD/acpi.elf" || exit 99
refused "ELF segment over the ACPI tables" "kernel $TMPD/acpi.elf: segment 0 at 0xe0000\\+0x[0-9a-f]+ overlaps 0x9fc00..0x100000, the EBDA, ACPI tables and BIOS area\$" \
	--kernel "$TMPD/acpi.elf" "$VMM_SRCDIR/machines/x86-pc-emulated.conf" --cmdline ""
objcopy --change-addresses -0xe0000 "$GUESTS/hello.elf" "$TMPD/low.elf" || exit 99
refused "ELF segment over the boot data" "kernel $TMPD/low.elf: segment 0 at 0x20000\\+0x[0-9a-f]+ overlaps 0x0..0x30000, the loader's boot data" \
	--kernel "$TMPD/low.elf"

echo "PASS: boot refusals"
