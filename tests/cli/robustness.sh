#!/bin/sh
# Issue 9, robustness from the outside: vmmctl's exit statuses are never
# ambiguous, signals end it cleanly in every phase, faulting plugins are
# named, a path that would block start-up is refused, and a backend's write
# error is reported.  Each part says why it skips.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"

fail() { echo "FAIL: $*"; exit 1; }

# Plugins whose code crashes (tests/fixtures/crash-plugin.c), on a plugin
# path of their own.
FIX="$VMM_BUILDDIR/tests/fixtures/.libs"
mkdir -p "$TMPD/plugins"
for f in crash-dev crash-load exit-load; do
	require_file "$FIX/$f.so"
	ln -s "$FIX/$f.so" "$TMPD/plugins/$f.so"
done
# crash_conf NAME PLUGIN [PROPS]: x86-minimal with device "boom" added.
crash_conf() {
	sed "s|^device \"exit\"|device \"boom\" { plugin = \"$2\" $3 }\\ndevice \"exit\"|" \
		"$VMM_SRCDIR/machines/x86-minimal.conf" >"$TMPD/$1.conf"
}
printf '\272\020\005\356\364' >"$TMPD/boom.bin"           # mov dx,0x510; out dx,al; hlt

# The listing survives a file that crashes or exits while it is loaded:
# the good plugins are listed, the bad ones named on stderr.
"$VMMCTL" -P "$TMPD/plugins" plugins >"$TMPD/list.out" 2>"$TMPD/list.err" </dev/null
status=$?
[ "$status" = 0 ] || fail "plugins with crashing files: status $status: $(cat "$TMPD/list.err")"
grep -q '^debug-exit ' "$TMPD/list.out" || fail "plugins: debug-exit not listed: $(cat "$TMPD/list.out")"
grep -q '^crash-dev ' "$TMPD/list.out" || fail "plugins: crash-dev (loads fine) not listed"
grep -q "crash-load.so: crashed while loading (SIGSEGV)" "$TMPD/list.err" ||
	fail "plugins: crash-load.so not named: $(cat "$TMPD/list.err")"
grep -q "exit-load.so: ended the process while loading (exit status 3" "$TMPD/list.err" ||
	fail "plugins: exit-load.so not named: $(cat "$TMPD/list.err")"
echo "ok: plugins lists the good plugins and names the files that crash or exit while loading"

# The rest runs guests.
require_kvm

# Exit statuses: a guest's debug-exit value can no longer pass for one of
# vmmctl's own (value 1 gave 3, the reset status) or wrap around (0x80
# gave 1).  Flat real-mode guests: out 0xf4 with al/ax, then hlt.
printf '\260\001\346\364\364' >"$TMPD/v1.bin"           # mov al,1; out 0xf4,al
run_guest v1 "$VMMCTL" run --kernel "$TMPD/v1.bin"
expect_status 3
printf '\260\200\346\364\364' >"$TMPD/v80.bin"          # mov al,0x80; out 0xf4,al
run_guest v80 "$VMMCTL" run --kernel "$TMPD/v80.bin"
expect_status 127
grep -q "exit: warning: the guest wrote 0x80: exit status 127" "$ERR" ||
	guest_fail "no line naming the value 0x80"
printf '\270\064\022\347\364\364' >"$TMPD/v1234.bin"    # mov ax,0x1234; out 0xf4,ax
run_guest v1234 "$VMMCTL" run --kernel "$TMPD/v1234.bin"
expect_status 127
# 0xFE to the 8042 is a reset request: 6, which no debug-exit value gives.
sed 's|^device "exit"|device "kbc" { plugin = "i8042" }\ndevice "exit"|' \
	"$VMM_SRCDIR/machines/x86-minimal.conf" >"$TMPD/kbc.conf"
grep -q i8042 "$TMPD/kbc.conf" || fail "could not add an i8042 to x86-minimal.conf"
printf '\260\376\346\144\364' >"$TMPD/reset.bin"        # mov al,0xfe; out 0x64,al; hlt
run_guest reset "$VMMCTL" run --kernel "$TMPD/reset.bin" "$TMPD/kbc.conf"
expect_status 6
echo "ok: debug-exit 1 -> 3, 0x80 and 0x1234 -> 127 (logged), reset -> 6"

# A fault in a plugin's code ends vmmctl with status 8 and one line naming
# the file and the instance, wherever the core called it.
for where in create write timer overflow abort exit; do
	crash_conf "crash-$where" crash-dev "crash = \"$where\""
	run_guest "crash-$where" "$VMMCTL" -P "$TMPD/plugins" run --kernel "$TMPD/boom.bin" "$TMPD/crash-$where.conf"
	case $where in
	abort) line="fatal: SIGABRT in plugin $TMPD/plugins/crash-dev.so (instance 'boom')" ;;
	exit) line="fatal: plugin $TMPD/plugins/crash-dev.so (instance 'boom') called exit(5)" ;;
	*) line="fatal: SIGSEGV in plugin $TMPD/plugins/crash-dev.so (instance 'boom')" ;;
	esac
	expect_status 8
	grep -qF "$line" "$ERR" || guest_fail "crash in $where: no line '$line'"
	echo "ok: a plugin crashing in $where: status 8, '$line'"
done
crash_conf load crash-load
run_guest load "$VMMCTL" -P "$TMPD/plugins" run --kernel "$TMPD/boom.bin" "$TMPD/load.conf"
expect_status 8
grep -qF "fatal: SIGSEGV in plugin $TMPD/plugins/crash-load.so (while loading it)" "$ERR" ||
	guest_fail "no line naming crash-load.so"
crash_conf exitload exit-load
run_guest exitload "$VMMCTL" -P "$TMPD/plugins" run --kernel "$TMPD/boom.bin" "$TMPD/exitload.conf"
expect_status 8
grep -qF "fatal: plugin $TMPD/plugins/exit-load.so (while loading it) called exit(3)" "$ERR" ||
	guest_fail "no line naming exit-load.so"
echo "ok: a constructor's fault or exit() names the file (status 8)"

# On a terminal (script(1) gives a pty), the crash leaves it as it was.
if command -v script >/dev/null; then
	export VMMCTL TMPD
	script -qec 'stty -g >"$TMPD/t0"; "$VMMCTL" -P "$TMPD/plugins" run --kernel "$TMPD/boom.bin" \
		"$TMPD/crash-write.conf" >/dev/null 2>"$TMPD/tty-crash.err"; echo $? >"$TMPD/st";
		stty -g >"$TMPD/t1"' /dev/null </dev/null >/dev/null 2>&1
	[ "$(cat "$TMPD/st")" = 8 ] || fail "crash on a terminal: status $(cat "$TMPD/st"): $(cat "$TMPD/tty-crash.err")"
	cmp -s "$TMPD/t0" "$TMPD/t1" || fail "terminal left raw after a plugin crashed"
	echo "ok: a plugin crash on a terminal restores it"
else
	echo "SKIP: terminal part: script(1) is not installed"
fi
