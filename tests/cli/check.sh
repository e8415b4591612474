#!/bin/sh
# vmmctl check builds the machine as run would (issue 9): it refuses what
# run would refuse, each problem one line naming the file and line, in one
# pass where construction can go on; it says ok for the shipped machines;
# and it opens no backend whose opening changes the host (a log file is not
# truncated, no socket file, pty link or tap interface appears).
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"

fail() { echo "FAIL: $*"; exit 1; }
# expect STATUS PATTERN CMD...: exit status and a line of output matching PATTERN.
expect() {
	want=$1 pattern=$2; shift 2
	out=$("$@" 2>&1 </dev/null); got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $out"
	printf '%s\n' "$out" | grep -qE -- "$pattern" || fail "'$*' printed no line matching /$pattern/: $out"
}

FIX="$VMM_BUILDDIR/tests/fixtures/.libs"
mkdir -p "$TMPD/plugins"
for f in failing-create positive-create fake-block fake-hv; do
	require_file "$FIX/$f.so"
	ln -s "$FIX/$f.so" "$TMPD/plugins/$f.so"
done
CHECK="$VMMCTL -P $TMPD/plugins check"
# The machine is built for real: a KVM VM and its vCPUs.
require_kvm

# conf NAME: a small machine, its line 6 onwards from stdin.
conf() {
	{
		printf 'memory = 64M\nvcpus = 1\nhypervisor "kvm" { irqchip = "emulated" }\n'
		printf 'device "pic" { plugin = "i8259" }\n'
		printf 'device "com1" { plugin = "uart16550" base = 0x3f8 irq = 4 chardev = "log" }\n'
		cat
	} >"$TMPD/$1.conf"
}
printf 'backend "log" { plugin = "file" path = "%s/serial.log" }\n' "$TMPD" | conf ok
expect 0 "ok.conf: ok: kvm, 64 MiB, 1 vCPU, 2 devices, 1 backend section" $CHECK "$TMPD/ok.conf"
echo "ok: a good machine is ok"

# Two devices on the same ports: the second one's line, the first one named.
printf 'backend "log" { plugin = "file" path = "%s/serial.log" }\n' "$TMPD" | conf overlap
echo 'device "com2" { plugin = "uart16550" base = 0x3fa irq = 3 chardev = "stdio" }' >>"$TMPD/overlap.conf"
expect 2 "overlap.conf:7: device 'com2': pio region 0x3fa\+0x8 overlaps 0x3f8\+0x8 of com1" \
	$CHECK "$TMPD/overlap.conf"
expect 2 "overlap.conf:7: device 'com2' \(plugin uart16550\) failed to start" $CHECK "$TMPD/overlap.conf"
echo "ok: overlapping devices are refused"

# Every device whose create() fails, in one pass.
printf 'backend "log" { plugin = "file" path = "%s/serial.log" }\n' "$TMPD" | conf create
printf 'device "f1" { plugin = "failing-create" }\ndevice "f2" { plugin = "positive-create" }\n' \
	>>"$TMPD/create.conf"
expect 2 "create.conf:7: device 'f1' \(plugin failing-create\) failed to start: No such device" \
	$CHECK "$TMPD/create.conf"
expect 2 "create.conf:8: device 'f2' \(plugin positive-create\): create\(\) returned 1" \
	$CHECK "$TMPD/create.conf"
echo "ok: each device whose create() fails is reported, with its line"

# A device on a backend that does not exist, and on one of another kind.
printf '' | conf missing
expect 2 "missing.conf:5: device 'com1': no backend section or backend plugin named 'log'" \
	$CHECK "$TMPD/missing.conf"
printf 'backend "log" { plugin = "block-file" path = "%s/disk.img" }\n' "$TMPD" | conf kind
truncate -s 1M "$TMPD/disk.img"
expect 2 "kind.conf:5: device 'com1': backend 'log' is not a character backend \(it is a block backend\)" \
	$CHECK "$TMPD/kind.conf"
expect 2 "kind.conf:5: device 'com1' \(plugin uart16550\) failed to start" $CHECK "$TMPD/kind.conf"
echo "ok: a device on a missing or a wrong-kind backend is refused"

# A backend that would not open: its own line, then the device's.
printf 'backend "log" { plugin = "file" path = "%s/no/such/dir/serial.log" }\n' "$TMPD" | conf nodir
expect 2 "nodir.conf:6: backend 'log' \(plugin file\) would fail to open" $CHECK "$TMPD/nodir.conf"
expect 2 "log: error: cannot open $TMPD/no/such/dir/serial.log: No such file or directory" \
	$CHECK "$TMPD/nodir.conf"
echo "ok: a file backend in a missing directory is refused"

# What the other backends' check ops refuse, as their open() would.
printf 'backend "log" { plugin = "socket" path = "%s/ok.conf" }\n' "$TMPD" | conf sockfile
expect 2 "log: error: $TMPD/ok.conf exists and is not a socket" $CHECK "$TMPD/sockfile.conf"
mkdir -p "$TMPD/adir"
printf 'backend "d" { plugin = "block-file" path = "%s/adir" }\n' "$TMPD" | conf blkdir
echo 'device "vda" { plugin = "virtio-blk" base = 0xd0001000 irq = 5 disk = "d" }' >>"$TMPD/blkdir.conf"
sed -i 's|chardev = "log"|chardev = "stdio"|' "$TMPD/blkdir.conf"
expect 2 "d: error: cannot open $TMPD/adir: Is a directory" $CHECK "$TMPD/blkdir.conf"
printf 'backend "n" { plugin = "net-tap" ifname = "lo" }\n' | conf taplo
echo 'device "eth0" { plugin = "virtio-net" base = 0xd0001000 irq = 5 net = "n" }' >>"$TMPD/taplo.conf"
sed -i 's|chardev = "log"|chardev = "stdio"|' "$TMPD/taplo.conf"
expect 2 "n: error: tap 'lo': an interface of that name exists and is not a tap" $CHECK "$TMPD/taplo.conf"
expect 2 "taplo.conf:6: backend 'n' \(plugin net-tap\) would fail to open" $CHECK "$TMPD/taplo.conf"
echo "ok: a socket path that is a file, an image that is a directory and a tap named after lo are refused"

# MMIO in guest RAM would never see an access.
printf 'backend "log" { plugin = "file" path = "%s/serial.log" }\n' "$TMPD" | conf ram
echo 'device "rng" { plugin = "virtio-rng" base = 0x100000 irq = 5 }' >>"$TMPD/ram.conf"
expect 2 "ram.conf:7: device 'rng': mmio region 0x100000\+0x200 overlaps guest RAM" \
	$CHECK "$TMPD/ram.conf"
echo "ok: MMIO in guest RAM is refused"

# The boot payload is loaded as run loads it: an empty kernel is refused,
# in the same pass as a failing device.
: >"$TMPD/empty.bin"
expect 2 "kernel $TMPD/empty.bin: empty file" $CHECK "$TMPD/ok.conf" --kernel "$TMPD/empty.bin"
printf 'boot { kernel = "%s/empty.bin" }\n' "$TMPD" >>"$TMPD/create.conf"
expect 2 "kernel $TMPD/empty.bin: empty file" $CHECK "$TMPD/create.conf"
expect 2 "create.conf:7: device 'f1'" $CHECK "$TMPD/create.conf"
expect 0 "ok.conf: ok: " $CHECK "$TMPD/ok.conf" --kernel "$GUESTS/hello.elf"
echo "ok: a bad kernel is refused; a good one is ok"

# A hypervisor that cannot create the VM fails check with run's line
# (as KVM does without access to /dev/kvm).
sed 's|hypervisor "kvm" { irqchip = "emulated" }|hypervisor "fake-hv" { }|' "$TMPD/ok.conf" >"$TMPD/nohv.conf"
expect 2 "hypervisor 'fake-hv' could not create the VM" $CHECK "$TMPD/nohv.conf"
expect 2 "hypervisor 'fake-hv' could not create the VM" "$VMMCTL" -P "$TMPD/plugins" run \
	--kernel "$GUESTS/hello.elf" "$TMPD/nohv.conf"
echo "ok: no VM, no ok: check fails with run's line"

# A backend without a check op (an older ABI, a third party) is not opened;
# one line says so.  fake-block's open() would create its log file.
printf 'backend "d" { plugin = "fake-block" path = "%s/disk.img" log = "%s/fake.log" }\n' "$TMPD" "$TMPD" |
	conf nocheck
echo 'device "vda" { plugin = "virtio-blk" base = 0xd0001000 irq = 5 disk = "d" }' >>"$TMPD/nocheck.conf"
sed -i 's|chardev = "log"|chardev = "stdio"|' "$TMPD/nocheck.conf"
expect 0 "backend 'd' \(plugin fake-block\): not opened by check, it has no check op" \
	$CHECK "$TMPD/nocheck.conf"
[ -e "$TMPD/fake.log" ] && fail "check opened a backend that has no check op"
echo "ok: a backend without a check op is not opened, and check says so"

# The shipped machines are ok.  The virtio one's disk is relative to the
# current directory, and its tap, if missing, would be created by run:
# check must not create it.
cd "$TMPD" || fail "cd $TMPD"
truncate -s 1M disk.img
links=$(ip -o link 2>/dev/null | sed 's/^[0-9]*: //; s/[:@].*//' | sort)
for conf in "$VMM_SRCDIR"/machines/x86-*.conf; do
	expect 0 ": ok: kvm, " $CHECK "$conf"
done
[ "$(ip -o link 2>/dev/null | sed 's/^[0-9]*: //; s/[:@].*//' | sort)" = "$links" ] ||
	fail "check changed the host's interfaces: $(ip -o link)"
echo "ok: the shipped machines are ok; no interface appeared"

# Backends whose opening changes the host are checked, not opened: the
# log is not truncated, no socket file or pty link is made.
echo "the last run's log" >"$TMPD/serial.log"
cat >"$TMPD/effects.conf" <<EOC
memory = 64M
vcpus = 1
hypervisor "kvm" { irqchip = "emulated" }
device "pic" { plugin = "i8259" }
backend "log" { plugin = "file" path = "$TMPD/serial.log" }
device "com1" { plugin = "uart16550" base = 0x3f8 irq = 4 chardev = "log" }
backend "sock" { plugin = "socket" path = "$TMPD/console.sock" wait = true }
device "com2" { plugin = "uart16550" base = 0x2f8 irq = 3 chardev = "sock" }
backend "tty" { plugin = "pty" link = "$TMPD/console.pty" }
device "com3" { plugin = "uart16550" base = 0x3e8 irq = 5 chardev = "tty" }
EOC
expect 0 "effects.conf: ok: " timeout 20 $CHECK "$TMPD/effects.conf"
[ "$(cat "$TMPD/serial.log")" = "the last run's log" ] || fail "check truncated the file backend's log"
[ -e "$TMPD/console.sock" ] && fail "check made the socket backend's socket"
[ -e "$TMPD/console.pty" ] || [ -L "$TMPD/console.pty" ] && fail "check made the pty backend's link"
echo "ok: check truncates no log, makes no socket file and no pty link"
exit 0
