#!/bin/sh
# Issue 15: vmmctl's seccomp filters.  A device (tests/fixtures/
# forbidden-plugin.c) calls socket() when the guest writes port 0x520, on
# the vCPU thread or on the main loop: with seccomp = "on" (the default)
# vmmctl ends with status 10 and one line naming the call, the thread and
# the plugin; with "log", "off", or the call declared by the plugin (ABI
# 1.8) the guest runs on.  In every irqchip mode.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"

fail() { echo "FAIL: $*"; exit 1; }

FIX="$VMM_BUILDDIR/tests/fixtures/.libs"
mkdir -p "$TMPD/plugins"
for f in forbidden-dev forbidden-ok bad-syscall; do
	require_file "$FIX/$f.so"
	ln -s "$FIX/$f.so" "$TMPD/plugins/$f.so"
done
V="$VMMCTL -P $TMPD/plugins"

# The declaration, shown; a name that is no system call, refused at load.
$V plugins describe forbidden-ok >"$TMPD/d.out" 2>&1 || fail "describe forbidden-ok: $(cat "$TMPD/d.out")"
grep -qx "system calls beyond vmmctl's seccomp allow-lists: socket" "$TMPD/d.out" ||
	fail "describe forbidden-ok does not show socket: $(cat "$TMPD/d.out")"
$V plugins describe forbidden-dev >"$TMPD/d.out" 2>&1 || fail "describe forbidden-dev: $(cat "$TMPD/d.out")"
grep -qx "system calls beyond vmmctl's seccomp allow-lists: none" "$TMPD/d.out" ||
	fail "describe forbidden-dev: $(cat "$TMPD/d.out")"
$V plugins >"$TMPD/l.out" 2>"$TMPD/l.err"
grep -q "bad-syscall.so: .*'bad-syscall' declares system call \"no_such_call\", which is not one on this host" \
	"$TMPD/l.err" || fail "bad-syscall.so not refused: $(cat "$TMPD/l.err")"
echo "ok: plugins describe shows a plugin's system calls; an unknown name is refused at load"

# A bad value names the file and the line.
printf 'memory = 16M\n\nseccomp = "maybe"\n' >"$TMPD/bad.conf"
$V check "$TMPD/bad.conf" >"$TMPD/bad.out" 2>&1
status=$?
[ "$status" = 2 ] || fail "seccomp = maybe: status $status"
grep -qF "$TMPD/bad.conf:3: seccomp = \"maybe\": expected on, log or off" "$TMPD/bad.out" ||
	fail "seccomp = maybe: $(cat "$TMPD/bad.out")"
$V run --seccomp maybe >"$TMPD/bad.out" 2>&1
status=$?
[ "$status" = 2 ] && grep -qF -- "--seccomp maybe: not one of on, log, off" "$TMPD/bad.out" ||
	fail "--seccomp maybe: status $status: $(cat "$TMPD/bad.out")"
echo "ok: a bad seccomp value names the file and line (or the option)"

require_kvm
grep -q '^Seccomp:' /proc/self/status || skip "the kernel has no seccomp (no Seccomp: in /proc/self/status)"

# mov dx,0x520; out dx,al; 1: in al,dx; test al,al; jz 1b; mov al,0; out 0xf4,al; hlt
printf '\272\040\005\356\354\204\300\164\373\260\000\346\364\364' >"$TMPD/guest.bin"

# conf NAME MODE DEVICE-PROPS [TOP-LEVEL LINE]: the irq test machine of MODE
# with device "bad" added.
conf() {
	{
		[ -n "${4:-}" ] && echo "$4"
		sed "s|^device \"exit\"|device \"bad\" { $3 }\\ndevice \"exit\"|" \
			"$VMM_SRCDIR/tests/guests/irq-$2.conf"
	} >"$TMPD/$1.conf"
	grep -q '^device "bad"' "$TMPD/$1.conf" || fail "could not add the device to irq-$2.conf"
}

# expect_trap NAME THREAD: status 10 and the one line.
expect_trap() {
	expect_status 10
	line="vmmctl: fatal: system call socket is not allowed on the $2 thread (seccomp), called in plugin $TMPD/plugins/forbidden-dev.so (instance 'bad'): exiting with status 10"
	tr -d '\r' <"$ERR" | grep -qxF "$line" || guest_fail "no line '$line'"
	[ "$(grep -c 'fatal' "$ERR")" = 1 ] || guest_fail "more than one fatal line"
}

for mode in kernel split emulated; do
	conf "vcpu-$mode" "$mode" 'plugin = "forbidden-dev"'
	run_guest "vcpu-$mode" $V run --format flat --kernel "$TMPD/guest.bin" "$TMPD/vcpu-$mode.conf"
	expect_trap "vcpu-$mode" "vCPU 0"
	conf "main-$mode" "$mode" 'plugin = "forbidden-dev" where = "main"'
	run_guest "main-$mode" $V run --format flat --kernel "$TMPD/guest.bin" "$TMPD/main-$mode.conf"
	expect_trap "main-$mode" "main"
done
echo "ok: socket() on a vCPU thread and on the main loop ends vmmctl with 10 and one line, irqchip kernel, split and emulated"

# The guest writes 0 to debug-exit (no zero-is-success here): status 1.
for where in vcpu main; do
	conf "log-$where" kernel "plugin = \"forbidden-dev\" where = \"$where\"" 'seccomp = "log"'
	run_guest "log-$where" $V run --format flat --kernel "$TMPD/guest.bin" "$TMPD/log-$where.conf"
	expect_status 1
	conf "off-$where" kernel "plugin = \"forbidden-dev\" where = \"$where\"" 'seccomp = "off"'
	run_guest "off-$where" $V run --format flat --kernel "$TMPD/guest.bin" "$TMPD/off-$where.conf"
	expect_status 1
	run_guest "opt-$where" $V run --seccomp log --format flat --kernel "$TMPD/guest.bin" "$TMPD/vcpu-kernel.conf"
	expect_status 1
	conf "ok-$where" kernel "plugin = \"forbidden-ok\" where = \"$where\""
	run_guest "ok-$where" $V run --format flat --kernel "$TMPD/guest.bin" "$TMPD/ok-$where.conf"
	expect_status 1
done
echo "ok: with seccomp = log or off, --seccomp log, or the call declared by the plugin, the guest runs on"
