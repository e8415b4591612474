#!/bin/sh
# Reference: the same guests under QEMU microvm with KVM, independent of
# vmmctl.  QEMU's isa-debug-exit exits with (v << 1) | 1, so hello (v = 0)
# gives 1 and uart-test (v = 0x21) gives 67.  uart-test needs the 8259, so
# its machine drops pic=off.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
[ -n "$QEMU_X86" ] || skip "QEMU_X86 is empty (configure found no qemu-system-x86_64)"
[ -x "$QEMU_X86" ] || skip "QEMU_X86=$QEMU_X86 is not executable"
require_kvm
require_file "$GUESTS/hello.elf"
require_file "$GUESTS/uart-test.elf"

# Word-split on purpose: none of these contain blanks.
QEMU_COMMON="-enable-kvm -cpu kvm64 -m 64 -nodefaults -no-user-config -display none
	-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4"

run_guest qemu-hello "$QEMU_X86" $QEMU_COMMON \
	-M microvm,x-option-roms=off,rtc=off,pit=off,pic=off \
	-kernel "$GUESTS/hello.elf"
expect_line "Hello from a vmm guest"
expect_status 1

run_guest qemu-uart-test "$QEMU_X86" $QEMU_COMMON \
	-M microvm,x-option-roms=off,rtc=off,pit=off \
	-kernel "$GUESTS/uart-test.elf"
expect_no_fail
expect_line "poll ok"
expect_line "irq tx ok"
expect_line "UART-TEST-DONE"
expect_status 67
echo "PASS: hello.elf and uart-test.elf under QEMU microvm"
