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

# A FIFO named like a plugin would block dlopen() for good.
mkdir -p "$TMPD/fifo-plugins"
mkfifo "$TMPD/fifo-plugins/fifo.so"
timeout -k 1 10 "$VMMCTL" -P "$TMPD/fifo-plugins" plugins >"$TMPD/fl.out" 2>"$TMPD/fl.err" </dev/null
status=$?
[ "$status" = 0 ] || fail "plugins with a FIFO on the path: status $status (124: blocked): $(cat "$TMPD/fl.err")"
grep -q "fifo.so: not a regular file" "$TMPD/fl.err" || fail "plugins: the FIFO is not named: $(cat "$TMPD/fl.err")"
echo "ok: a FIFO on the plugin path is named, not opened"

# The rest runs guests.
require_kvm

# Exit statuses: a guest's debug-exit value can no longer pass for one of
# vmmctl's own (value 1 gave 3, the reset status) or wrap around (0x80
# gave 1).  Flat real-mode guests: out 0xf4 with al/ax, then hlt.
printf '\260\001\346\364\364' >"$TMPD/v1.bin"           # mov al,1; out 0xf4,al
run_guest v1 "$VMMCTL" run --format flat --kernel "$TMPD/v1.bin"
expect_status 3
printf '\260\200\346\364\364' >"$TMPD/v80.bin"          # mov al,0x80; out 0xf4,al
run_guest v80 "$VMMCTL" run --format flat --kernel "$TMPD/v80.bin"
expect_status 127
grep -q "exit: warning: the guest wrote 0x80: exit status 127" "$ERR" ||
	guest_fail "no line naming the value 0x80"
printf '\270\064\022\347\364\364' >"$TMPD/v1234.bin"    # mov ax,0x1234; out 0xf4,ax
run_guest v1234 "$VMMCTL" run --format flat --kernel "$TMPD/v1234.bin"
expect_status 127
# 0xFE to the 8042 is a reset request: 6, which no debug-exit value gives.
sed 's|^device "exit"|device "kbc" { plugin = "i8042" }\ndevice "exit"|' \
	"$VMM_SRCDIR/machines/x86-minimal.conf" >"$TMPD/kbc.conf"
grep -q i8042 "$TMPD/kbc.conf" || fail "could not add an i8042 to x86-minimal.conf"
printf '\260\376\346\144\364' >"$TMPD/reset.bin"        # mov al,0xfe; out 0x64,al; hlt
run_guest reset "$VMMCTL" run --format flat --kernel "$TMPD/reset.bin" "$TMPD/kbc.conf"
expect_status 6
echo "ok: debug-exit 1 -> 3, 0x80 and 0x1234 -> 127 (logged), reset -> 6"

# A fault in a plugin's code ends vmmctl with status 8 and one line naming
# the file and the instance, wherever the core called it.
for where in create write timer overflow abort exit; do
	crash_conf "crash-$where" crash-dev "crash = \"$where\""
	run_guest "crash-$where" "$VMMCTL" -P "$TMPD/plugins" run --format flat --kernel "$TMPD/boom.bin" "$TMPD/crash-$where.conf"
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
run_guest load "$VMMCTL" -P "$TMPD/plugins" run --format flat --kernel "$TMPD/boom.bin" "$TMPD/load.conf"
expect_status 8
grep -qF "fatal: SIGSEGV in plugin $TMPD/plugins/crash-load.so (while loading it)" "$ERR" ||
	guest_fail "no line naming crash-load.so"
crash_conf exitload exit-load
run_guest exitload "$VMMCTL" -P "$TMPD/plugins" run --format flat --kernel "$TMPD/boom.bin" "$TMPD/exitload.conf"
expect_status 8
grep -qF "fatal: plugin $TMPD/plugins/exit-load.so (while loading it) called exit(3)" "$ERR" ||
	guest_fail "no line naming exit-load.so"
echo "ok: a constructor's fault or exit() names the file (status 8)"

# On a terminal (script(1) gives a pty), the crash leaves it as it was.
if command -v script >/dev/null; then
	export VMMCTL TMPD
	script -qec 'stty -g >"$TMPD/t0"; "$VMMCTL" -P "$TMPD/plugins" run --format flat --kernel "$TMPD/boom.bin" \
		"$TMPD/crash-write.conf" >/dev/null 2>"$TMPD/tty-crash.err"; echo $? >"$TMPD/st";
		stty -g >"$TMPD/t1"' /dev/null </dev/null >/dev/null 2>&1
	[ "$(cat "$TMPD/st")" = 8 ] || fail "crash on a terminal: status $(cat "$TMPD/st"): $(cat "$TMPD/tty-crash.err")"
	cmp -s "$TMPD/t0" "$TMPD/t1" || fail "terminal left raw after a plugin crashed"
	echo "ok: a plugin crash on a terminal restores it"
else
	echo "SKIP: terminal part: script(1) is not installed"
fi

# wait_for FILE PATTERN: until a line of FILE matches (10 s at most).
wait_for() {
	_w=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ $_w -lt 100 ] || return 1
		sleep 0.1; _w=$((_w + 1))
	done
}
# stop_with SIG PID: sends SIG and waits for PID, 10 s at most; sets $STATUS.
stop_with() {
	kill -"$1" "$2"
	_w=0
	while kill -0 "$2" 2>/dev/null && [ $_w -lt 100 ]; do sleep 0.1; _w=$((_w + 1)); done
	if kill -0 "$2" 2>/dev/null; then
		kill -KILL "$2"
		fail "SIG$1: vmmctl still running 10 s later"
	fi
	wait "$2"; STATUS=$?
}
# A shell starts background jobs with SIGINT and SIGQUIT ignored, and
# vmmctl keeps a stop signal ignored that it was started with (nohup):
# give it the default dispositions, as a terminal would.
VMMCTL_BG="env --default-signal=INT,QUIT $VMMCTL"
signum() {
	case $1 in HUP) echo 1 ;; INT) echo 2 ;; QUIT) echo 3 ;; USR2) echo 12 ;; TERM) echo 15 ;; esac
}

# The stop signals end a running VM cleanly, like SIGTERM: the log line,
# 128 + N, and what the guest wrote to a file backend is in the file.  The
# guest writes X to the UART, then spins.
printf '\272\370\003\260\130\356\353\376' >"$TMPD/x-spin.bin"   # mov dx,0x3f8; mov al,'X'; out dx,al; jmp $
sed "s|/tmp/vmm-serial.log|$TMPD/sig.log|" "$VMM_SRCDIR/machines/x86-serial-log.conf" >"$TMPD/sig.conf"
for sig in HUP INT QUIT USR2 TERM; do
	rm -f "$TMPD/sig.log"
	$VMMCTL_BG run --format flat --kernel "$TMPD/x-spin.bin" "$TMPD/sig.conf" </dev/null >/dev/null 2>"$TMPD/sig.err" &
	pid=$!
	wait_for "$TMPD/sig.log" X || { kill -KILL $pid; fail "SIG$sig: the guest wrote nothing"; }
	stop_with "$sig" $pid
	want=$((128 + $(signum "$sig")))
	[ "$STATUS" = "$want" ] || fail "SIG$sig: status $STATUS, expected $want: $(cat "$TMPD/sig.err")"
	grep -q "SIG$sig received, stopping the VM" "$TMPD/sig.err" ||
		fail "SIG$sig: no teardown line: $(cat "$TMPD/sig.err")"
	[ "$(cat "$TMPD/sig.log")" = X ] || fail "SIG$sig: the serial log holds '$(cat "$TMPD/sig.log")'"
done
echo "ok: SIGHUP, SIGINT, SIGQUIT, SIGUSR2 and SIGTERM stop a running VM cleanly (128+N, data in the file)"
# Started with SIGHUP ignored (nohup), vmmctl keeps ignoring it: the
# SIGTERM sent after it is the one that ends the run.
rm -f "$TMPD/sig.log"
env --default-signal=INT,QUIT --ignore-signal=HUP "$VMMCTL" run --format flat --kernel "$TMPD/x-spin.bin" "$TMPD/sig.conf" \
	</dev/null >/dev/null 2>"$TMPD/sig.err" &
pid=$!
wait_for "$TMPD/sig.log" X || { kill -KILL $pid; fail "nohup: the guest wrote nothing"; }
kill -HUP $pid
stop_with TERM $pid
[ "$STATUS" = 143 ] || fail "nohup: status $STATUS, expected 143: $(cat "$TMPD/sig.err")"
echo "ok: an ignored SIGHUP (nohup) stays ignored"

# A fatal signal that is not a plugin's: one line, then vmmctl dies of it.
rm -f "$TMPD/sig.log"
$VMMCTL_BG run --format flat --kernel "$TMPD/x-spin.bin" "$TMPD/sig.conf" </dev/null >/dev/null 2>"$TMPD/sig.err" &
pid=$!
wait_for "$TMPD/sig.log" X || { kill -KILL $pid; fail "SIGSEGV: the guest wrote nothing"; }
stop_with SEGV $pid
[ "$STATUS" = 139 ] || fail "kill -SEGV: status $STATUS, expected 139 (death by the signal)"
grep -q "fatal: SIGSEGV sent by another process" "$TMPD/sig.err" || fail "kill -SEGV: no line: $(cat "$TMPD/sig.err")"
echo "ok: a SIGSEGV from outside is named and still kills vmmctl (139)"

# A stop signal during start-up: crash-dev blocks in create; `sleep` is
# interrupted and vmmctl tears down what it built, `hang` retries and
# vmmctl leaves without teardown half a second later.  Both exit 128+N.
crash_conf sleep crash-dev 'crash = "sleep"'
crash_conf hang crash-dev 'crash = "hang"'
for sig in TERM INT HUP; do
	rm -f "$TMPD/start.err"
	$VMMCTL_BG -P "$TMPD/plugins" run --format flat --kernel "$TMPD/boom.bin" "$TMPD/sleep.conf" </dev/null \
		>/dev/null 2>"$TMPD/start.err" &
	pid=$!
	wait_for "$TMPD/start.err" "blocking in create" || { kill -KILL $pid; fail "crash-dev never blocked"; }
	stop_with "$sig" $pid
	want=$((128 + $(signum "$sig")))
	[ "$STATUS" = "$want" ] || fail "SIG$sig in start-up: status $STATUS, expected $want: $(cat "$TMPD/start.err")"
	grep -q "SIG$sig received during start-up, stopping" "$TMPD/start.err" ||
		fail "SIG$sig in start-up: no line: $(cat "$TMPD/start.err")"
done
$VMMCTL_BG -P "$TMPD/plugins" run --format flat --kernel "$TMPD/boom.bin" "$TMPD/hang.conf" </dev/null \
	>/dev/null 2>"$TMPD/hang.err" &
pid=$!
wait_for "$TMPD/hang.err" "blocking in create" || { kill -KILL $pid; fail "crash-dev never blocked"; }
stop_with TERM $pid
[ "$STATUS" = 143 ] || fail "SIGTERM in a start-up that hangs: status $STATUS: $(cat "$TMPD/hang.err")"
grep -q "SIGTERM during start-up, which did not return to check it: exiting without teardown" \
	"$TMPD/hang.err" || fail "SIGTERM in a hung start-up: no line: $(cat "$TMPD/hang.err")"
echo "ok: SIGTERM, SIGINT and SIGHUP end start-up (cleanly, or without teardown when it hangs)"

# On a terminal: restored after each stop signal while the guest runs and
# while start-up hangs.  tty-stop.sh runs inside script(1)'s pty.
if command -v script >/dev/null; then
	cat >"$TMPD/tty-stop.sh" <<'EOS'
# tty-stop.sh SIG CONFIG...: stty before, while vmmctl has made the terminal
# raw, after it ended by SIG; its status.
sig=$1; shift
stty -g >"$TMPD/t0"
$VMMCTL_BG -P "$TMPD/plugins" run "$@" </dev/tty >/dev/null 2>"$TMPD/tty.err" &
pid=$!
w=0
while [ "$(stty -g)" = "$(cat "$TMPD/t0")" ] && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
stty -g >"$TMPD/t1"
# hang.conf: the terminal is raw before crash-dev blocks; wait for that too
w=0
while grep -q '"hang"' "$3" 2>/dev/null && ! grep -q "blocking in create" "$TMPD/tty.err" && [ $w -lt 100 ]; do
	sleep 0.1; w=$((w + 1))
done
kill -"$sig" $pid
w=0
while kill -0 $pid 2>/dev/null && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
kill -0 $pid 2>/dev/null && kill -KILL $pid   # status 137: the test fails
wait $pid; echo $? >"$TMPD/st"
stty -g >"$TMPD/t2"
EOS
	export VMMCTL VMMCTL_BG TMPD
	for sig in HUP QUIT USR2 INT TERM; do
		rm -f "$TMPD/st"
		script -qec "sh '$TMPD/tty-stop.sh' $sig --format flat --kernel '$TMPD/x-spin.bin'" /dev/null </dev/null >/dev/null 2>&1
		want=$((128 + $(signum "$sig")))
		[ "$(cat "$TMPD/st" 2>/dev/null)" = "$want" ] ||
			fail "SIG$sig on a terminal: status $(cat "$TMPD/st" 2>/dev/null), expected $want: $(cat "$TMPD/tty.err")"
		cmp -s "$TMPD/t0" "$TMPD/t1" && fail "SIG$sig on a terminal: it never went raw"
		cmp -s "$TMPD/t0" "$TMPD/t2" || fail "SIG$sig on a terminal: left raw"
	done
	script -qec "sh '$TMPD/tty-stop.sh' TERM --format flat --kernel '$TMPD/boom.bin' '$TMPD/hang.conf'" /dev/null </dev/null >/dev/null 2>&1
	[ "$(cat "$TMPD/st")" = 143 ] || fail "SIGTERM in a hung start-up on a terminal: status $(cat "$TMPD/st")"
	cmp -s "$TMPD/t0" "$TMPD/t2" || fail "SIGTERM in a hung start-up on a terminal: left raw"
	echo "ok: the terminal is restored after SIGHUP, SIGQUIT, SIGUSR2, SIGINT, SIGTERM and a hung start-up"
else
	echo "SKIP: terminal part: script(1) is not installed"
fi

# The terminal goes away: vmmctl on a pty whose master is closed gets
# SIGHUP from the kernel and stops cleanly (129); what the guest wrote to
# its file backend (com2) is in the file.  python3's pty module plays the
# terminal emulator.
if command -v python3 >/dev/null; then
	sed "s|^device \"exit\"|backend \"log\" { plugin = \"file\" path = \"$TMPD/hup.log\" }\\
device \"com2\" { plugin = \"uart16550\" base = 0x2f8 irq = 3 chardev = \"log\" }\\
device \"exit\"|" "$VMM_SRCDIR/machines/x86-minimal.conf" >"$TMPD/hup.conf"
	grep -q com2 "$TMPD/hup.conf" || fail "could not add com2 to x86-minimal.conf"
	# mov dx,0x2f8; mov al,'X'; out dx,al; jmp $
	printf '\272\370\002\260\130\356\353\376' >"$TMPD/hup.bin"
	python3 - "$VMMCTL" "$TMPD" <<'EOP' || fail "SIGHUP on a closed pty: see above"
import fcntl, os, pty, subprocess, sys, termios, time
vmmctl, tmpd = sys.argv[1:3]
master, slave = pty.openpty()
def own_terminal():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
err = open(tmpd + "/hup.err", "w")
p = subprocess.Popen([vmmctl, "run", "--format", "flat", "--kernel", tmpd + "/hup.bin", tmpd + "/hup.conf"],
                     stdin=slave, stdout=slave, stderr=err, preexec_fn=own_terminal)
os.close(slave)
for _ in range(100):  # until the guest has written X (10 s at most)
    if os.path.exists(tmpd + "/hup.log") and open(tmpd + "/hup.log").read() == "X":
        break
    time.sleep(0.1)
else:
    p.kill()
    sys.exit("FAIL: the guest wrote nothing to hup.log")
os.close(master)
try:
    status = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit("FAIL: vmmctl still running 10 s after its terminal went away")
log = open(tmpd + "/hup.err").read()
if status != 129 or "SIGHUP received, stopping the VM" not in log:
    sys.exit("FAIL: closed pty: status %d (expected 129): %s" % (status, log))
EOP
	[ "$(cat "$TMPD/hup.log")" = X ] || fail "closed pty: the log holds '$(cat "$TMPD/hup.log")'"
	echo "ok: the terminal going away (SIGHUP) stops vmmctl cleanly with 129"
else
	echo "SKIP: closed-pty part: python3 is not installed"
fi

# Paths that would block start-up in open(): a FIFO as --kernel, --initrd,
# a file backend's or a read-only disk's path.  Each is refused at once
# with one line (the 10 s timeout, status 124, means it blocked).
mkfifo "$TMPD/fifo"
quick() { timeout -k 1 10 "$@" </dev/null >"$TMPD/q.out" 2>"$TMPD/q.err"; STATUS=$?; }
quick "$VMMCTL" run --format flat --kernel "$TMPD/fifo"
[ "$STATUS" = 2 ] || fail "--kernel FIFO: status $STATUS: $(cat "$TMPD/q.err")"
grep -q "kernel $TMPD/fifo: not a regular file" "$TMPD/q.err" || fail "--kernel FIFO: $(cat "$TMPD/q.err")"
quick "$VMMCTL" run --kernel "$GUESTS/hello.elf" --initrd "$TMPD/fifo"
[ "$STATUS" = 2 ] || fail "--initrd FIFO: status $STATUS: $(cat "$TMPD/q.err")"
grep -q "initrd $TMPD/fifo: not a regular file" "$TMPD/q.err" || fail "--initrd FIFO: $(cat "$TMPD/q.err")"
sed "s|/tmp/vmm-serial.log|$TMPD/fifo|" "$VMM_SRCDIR/machines/x86-serial-log.conf" >"$TMPD/fifo.conf"
quick "$VMMCTL" run --kernel "$GUESTS/hello.elf" "$TMPD/fifo.conf"
[ "$STATUS" = 2 ] || fail "file backend on a FIFO without a reader: status $STATUS: $(cat "$TMPD/q.err")"
grep -q "cannot open $TMPD/fifo: a FIFO that no process reads" "$TMPD/q.err" ||
	fail "file backend on a FIFO: $(cat "$TMPD/q.err")"
sed "s|^device \"exit\"|backend \"ro\" { plugin = \"block-file\" path = \"$TMPD/fifo\" readonly = true }\\
device \"vda\" { plugin = \"virtio-blk\" base = 0xd0001000 irq = 5 disk = \"ro\" }\\
device \"exit\"|" "$VMM_SRCDIR/machines/x86-minimal.conf" >"$TMPD/fifo-disk.conf"
quick "$VMMCTL" run --kernel "$GUESTS/hello.elf" "$TMPD/fifo-disk.conf"
[ "$STATUS" = 2 ] || fail "read-only disk on a FIFO: status $STATUS: $(cat "$TMPD/q.err")"
grep -q "$TMPD/fifo is not a regular file" "$TMPD/q.err" || fail "read-only disk on a FIFO: $(cat "$TMPD/q.err")"
# With its reader there, a FIFO is a fine place for the serial output.
# The shell is the reader (read-write: opening does not wait); what the
# guest wrote is in the pipe when vmmctl has exited, and cat drains it.
exec 3<>"$TMPD/fifo"
quick "$VMMCTL" run --kernel "$GUESTS/hello.elf" "$TMPD/fifo.conf"
timeout 2 cat <&3 >"$TMPD/fifo.out"
exec 3<&-
[ "$STATUS" = 1 ] || fail "file backend on a FIFO with a reader: status $STATUS: $(cat "$TMPD/q.err")"
tr -d '\r' <"$TMPD/fifo.out" | grep -qxF "Hello from a vmm guest" || fail "the FIFO's reader got: $(cat "$TMPD/fifo.out")"
echo "ok: FIFOs as --kernel, --initrd, file backend (no reader) and read-only disk are refused at once; with a reader the file backend writes to it"

# A file backend on /dev/full: every write fails.  The first failure is
# one line naming the backend and its path, the rest are summed up (here
# once, at the end): never silence, never a line per byte.
sed "s|/tmp/vmm-serial.log|/dev/full|" "$VMM_SRCDIR/machines/x86-serial-log.conf" >"$TMPD/full.conf"
run_guest full "$VMMCTL" run --kernel "$GUESTS/hello.elf" "$TMPD/full.conf"
expect_status 1
grep -q "serial-log: error: cannot write to /dev/full: No space left on device: the guest's output is lost" "$ERR" ||
	guest_fail "no line about the failed writes"
[ "$(grep -c "serial-log: error" "$ERR")" = 2 ] || guest_fail "expected 2 error lines (first error, summary)"
grep -qE "serial-log: error: /dev/full: [0-9]+ more failed writes, [0-9]+ bytes lost" "$ERR" ||
	guest_fail "no summary of the failed writes at the end"
echo "ok: a file backend on /dev/full: its first write error and a summary are logged"
