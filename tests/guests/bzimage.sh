#!/bin/sh
# bz-guest.bzImage, a "fake Linux" bzImage, through vmmctl's 64-bit boot
# protocol loader: the guest checks long mode and its zero page (command
# line, initrd, e820) and exits 0.  Then the loader's refusals: an initrd
# larger than the VM, a truncated bzImage, an old boot protocol, a kernel
# without the 64-bit entry, a missing initrd: each one line, status 2, and no
# guest output.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
BZ="$GUESTS/bz-guest.bzImage"
require_file "$BZ"
require_file "$GUESTS/bz-guest.bin"
require_file "$GUESTS/mkbzimage"

# The initrd: the pattern the guest looks for, 100 KiB of filler, a newline.
{ printf 'VMMINITRD:PATTRN'; head -c 102400 /dev/zero; printf '\n'; } >"$TMPD/initrd.img"
rd_size=$(wc -c <"$TMPD/initrd.img")

run_guest boot "$VMMCTL" run --kernel "$BZ" --cmdline "console=ttyS0 vmm.test=bzimage" \
	--initrd "$TMPD/initrd.img"
expect_no_fail
expect_line "cmdline: console=ttyS0 vmm.test=bzimage"
tr -d '\r' <"$OUT" | grep -qE "^initrd: $rd_size bytes at 0x[0-9a-f]+000$" ||
	guest_fail "no initrd line for $rd_size bytes"
expect_line "ok: initrd starts with the pattern and ends with a newline"
expect_line "e820: 3 entries"
expect_line "bzimage: all checks passed"
expect_status 0
sed 's/^/  guest: /' "$OUT"
echo "ok: bzImage booted in long mode with its command line, initrd and e820 map"

# The same from a config file, paths relative to it, format = "bzimage".
cp "$BZ" "$TMPD/kernel.bz"
cat >"$TMPD/bz.conf" <<CONF
memory = 96M
hypervisor "kvm" { irqchip = "emulated" }
device "com1" { plugin = "uart16550" base = 0x3f8 irq = 4 chardev = "stdio" }
device "exit" { plugin = "debug-exit" iobase = 0xf4 zero-is-success = true }
boot { kernel = "kernel.bz" format = "bzimage" initrd = "initrd.img" cmdline = "from=config" }
CONF
run_guest conf "$VMMCTL" run "$TMPD/bz.conf"
expect_no_fail
expect_line "cmdline: from=config"
expect_line "bzimage: all checks passed"
expect_status 0
echo "ok: boot { format = \"bzimage\" initrd = ... } relative to the config file"

# refused KIND PATTERN ARGS...: vmmctl exits 2 with one matching stderr line
# and the guest never ran (no serial output).
refused() {
	kind=$1 pattern=$2; shift 2
	run_guest "$kind" "$VMMCTL" run "$@"
	[ "$STATUS" = 2 ] || guest_fail "$kind: exit status $STATUS, expected 2"
	grep -qE -- "$pattern" "$ERR" || guest_fail "$kind: no error line matching /$pattern/"
	[ -s "$OUT" ] && guest_fail "$kind: the guest ran"
	echo "ok: $kind: $(grep -E -- "$pattern" "$ERR" | head -n 1)"
}

truncate -s 128M "$TMPD/huge.img"
refused "initrd too big" "initrd $TMPD/huge.img: 128 MiB does not fit below 0x4000000 with the kernel at 0x1000000" \
	--kernel "$BZ" --initrd "$TMPD/huge.img"
refused "missing initrd" "initrd $TMPD/nonexistent.img: No such file or directory" \
	--kernel "$BZ" --initrd "$TMPD/nonexistent.img"
bz_size=$(wc -c <"$BZ")
head -c $((bz_size - 64)) "$BZ" >"$TMPD/short.bz"
refused "truncated bzImage" "kernel $TMPD/short.bz: truncated bzImage: header says [0-9]+ bytes of protected-mode code, file has [0-9]+" \
	--kernel "$TMPD/short.bz"
"$GUESTS/mkbzimage" -v 0x20a "$GUESTS/bz-guest.bin" "$TMPD/old.bz" || exit 99
refused "protocol 2.10" "kernel $TMPD/old.bz: boot protocol 2.10 is too old" --kernel "$TMPD/old.bz"
"$GUESTS/mkbzimage" -x 0 "$GUESTS/bz-guest.bin" "$TMPD/no64.bz" || exit 99
refused "no 64-bit entry" "kernel $TMPD/no64.bz: no 64-bit entry point" --kernel "$TMPD/no64.bz"
"$GUESTS/mkbzimage" -c 10 "$GUESTS/bz-guest.bin" "$TMPD/shortcl.bz" || exit 99
refused "command line too long" "kernel command line is 20 bytes, the kernel takes at most 10" \
	--kernel "$TMPD/shortcl.bz" --cmdline "01234567890123456789"
refused "not a bzImage" "kernel $GUESTS/bz-guest.bin: not a bzImage" \
	--kernel "$GUESTS/bz-guest.bin" "$TMPD/bz.conf"

# A PVH kernel takes the initrd as module 0 and still boots.
run_guest pvh-initrd "$VMMCTL" run --kernel "$GUESTS/hello.elf" --initrd "$TMPD/initrd.img"
expect_line "Hello from a vmm guest"
expect_status 0
echo "ok: a PVH kernel boots with --initrd"
echo "PASS: bzImage loader"
