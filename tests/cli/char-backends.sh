#!/bin/sh
# The pty and socket character backends (plugins/char-pty, plugins/char-socket)
# under the 16550 UART: their properties through `vmmctl check`, then a tiny
# real-mode guest that waits for one byte on the UART, echoes it with a
# newline and exits with status 33, run with the UART on a pty and on a
# unix socket; tests/cli/char-peer is the user's end.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
fail() { echo "FAIL: $*"; [ -n "${1:-}" ] && for f in "$TMPD"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done; exit 1; }
PEER="$VMM_BUILDDIR/tests/cli/char-peer"
require_file "$VMMCTL"
require_file "$PEER"
require_plugins pty socket uart16550 debug-exit

# machine NAME BACKEND-BODY: a config with com1 on backend "con".
machine() {
	cat >"$TMPD/$1.conf" <<EOC
memory = 16M
vcpus = 1
hypervisor "kvm" { }
boot { }
backend "con" { $2 }
device "com1" { plugin = "uart16550" base = 0x3f8 irq = 4 chardev = "con" }
device "exit" { plugin = "debug-exit" }
EOC
}

# ---- properties (no guest needed)
machine nopath 'plugin = "socket"'
"$VMMCTL" check "$TMPD/nopath.conf" >"$TMPD/nopath.err" 2>&1 && fail "a socket backend without path passed check"
grep -q path "$TMPD/nopath.err" || fail "check did not name the missing 'path': $(cat "$TMPD/nopath.err")"
"$VMMCTL" plugins describe socket | grep -q server || fail "plugins describe socket lists no 'server'"
echo "ok: vmmctl check wants the socket's path; socket describes its properties"

require_kvm
# check builds the machine on /dev/kvm; it makes no pty and no link.
machine ptyok "plugin = \"pty\" link = \"$TMPD/ptylink\""
"$VMMCTL" check "$TMPD/ptyok.conf" >/dev/null 2>&1 || fail "a pty backend with link failed check"
[ -L "$TMPD/ptylink" ] && fail "check made the pty backend's link"
echo "ok: vmmctl check takes a pty backend with a link, and makes no link"
# mov dx,0x3fd; 1: in al,dx; test al,1; jz 1b (LSR.DR); mov dx,0x3f8;
# in al,dx; out dx,al (echo); mov al,10; out dx,al; mov al,0x10; out 0xf4,al; hlt
printf '\272\375\003\354\250\001\164\370\272\370\003\354\356\260\012\356\260\020\346\364\364' \
	>"$TMPD/echo.bin"

# start NAME: run the guest in the background on $TMPD/NAME.conf.
start() {
	timeout "$GUEST_TIMEOUT" "$VMMCTL" run --format flat --kernel "$TMPD/echo.bin" "$TMPD/$1.conf" \
		>"$TMPD/$1.out" 2>"$TMPD/$1.err" </dev/null &
	VMM_PID=$!
}

# echo_roundtrip NAME KIND PATH: run the echo guest on NAME.conf, type Z
# from a char-peer of KIND (tty or unix) at PATH; the guest must echo it
# and exit with status 33.
echo_roundtrip() {
	start "$1"
	"$PEER" "$2" "$3" Z 20 >"$TMPD/$1.peer" 2>"$TMPD/$1.peer.err" || fail "$1 peer: $(cat "$TMPD/$1.peer.err")"
	wait $VMM_PID; st=$?
	[ "$st" = 33 ] || fail "$1 run: status $st, expected 33"
	[ "$(cat "$TMPD/$1.peer")" = Z ] || fail "$1 peer read '$(od -c "$TMPD/$1.peer")', expected Z and a newline"
}

# ---- pty: raw slave, path logged at INFO, input in, output out
machine pty "plugin = \"pty\" link = \"$TMPD/pty\""
echo_roundtrip pty tty "$TMPD/pty"
grep -q 'info: pty: /dev/pts/[0-9]* linked from' "$TMPD/pty.err" || fail "the pty's path is not logged at info"
[ ! -e "$TMPD/pty" ] || fail "the pty's link outlived the run"
echo "ok: pty: a byte typed on the slave reached the guest, its echo came back (status 33)"

# ---- socket, wait = true: the machine starts once the client is there
sock="$TMPD/con.sock"
machine sock "plugin = \"socket\" path = \"$sock\" wait = true"
echo_roundtrip sock unix "$sock"
[ ! -e "$sock" ] || fail "the socket file outlived the run"
echo "ok: socket: the client's byte reached the guest, its echo came back, the socket file is gone"

# ---- a stale socket file (vmmctl killed) is replaced; a regular file is not
"$VMMCTL" run --format flat --kernel "$TMPD/echo.bin" "$TMPD/sock.conf" >/dev/null 2>"$TMPD/killed.err" </dev/null &
VMM_PID=$!
i=0; while [ ! -S "$sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -S "$sock" ] || fail "no socket at $sock"
# Owner-only: whoever connects types at the guest's console (issue 15).
[ "$(stat -c %a "$sock")" = 600 ] || { kill -KILL $VMM_PID; fail "socket mode $(stat -c %a "$sock"), expected 600"; }
kill -KILL $VMM_PID; wait $VMM_PID 2>/dev/null
[ -S "$sock" ] || fail "killed vmmctl left no stale socket to test with"
start sock
"$PEER" unix "$sock" Q 20 >"$TMPD/stale.peer" 2>"$TMPD/stale.peer.err" || fail "stale: $(cat "$TMPD/stale.peer.err")"
wait $VMM_PID; st=$?
[ "$st" = 33 ] && [ "$(cat "$TMPD/stale.peer")" = Q ] || fail "after a stale socket: status $st, read '$(cat "$TMPD/stale.peer")'"
echo data >"$sock"
timeout "$GUEST_TIMEOUT" "$VMMCTL" run --format flat --kernel "$TMPD/echo.bin" "$TMPD/sock.conf" >/dev/null 2>"$TMPD/file.err" </dev/null &&
	fail "a regular file at the socket path was accepted"
grep -q "not a socket" "$TMPD/file.err" || fail "no 'not a socket' error: $(cat "$TMPD/file.err")"
[ "$(cat "$sock")" = data ] || fail "the regular file at the socket path was changed"
rm -f "$sock"
echo "ok: socket: a stale socket file is replaced, a regular file is refused and kept"

# ---- SIGTERM ends a wait for a client that never comes
machine term "plugin = \"socket\" path = \"$TMPD/term.sock\" wait = true"
"$VMMCTL" run --format flat --kernel "$TMPD/echo.bin" "$TMPD/term.conf" >/dev/null 2>"$TMPD/term.err" </dev/null &
VMM_PID=$!
i=0; while [ ! -S "$TMPD/term.sock" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $VMM_PID
i=0; while kill -0 $VMM_PID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 $VMM_PID 2>/dev/null; then kill -KILL $VMM_PID; fail "SIGTERM did not end a wait for a client"; fi
wait $VMM_PID; st=$?
[ "$st" != 0 ] && [ "$st" != 33 ] || fail "an interrupted wait ended with status $st"
[ ! -e "$TMPD/term.sock" ] || fail "the socket file outlived an interrupted wait"
echo "ok: socket: SIGTERM ends a wait for a client (status $st)"

# ---- socket, no client: output dropped and counted, the guest runs on
machine nocl "plugin = \"socket\" path = \"$sock\""
timeout "$GUEST_TIMEOUT" "$VMMCTL" run --kernel "$GUESTS/hello.elf" "$TMPD/nocl.conf" \
	>/dev/null 2>"$TMPD/nocl.err" </dev/null; st=$?
[ "$st" = 1 ] || fail "hello with no socket client: status $st, expected 1"
grep -q "output bytes dropped with no client" "$TMPD/nocl.err" || fail "dropped output not reported: $(cat "$TMPD/nocl.err")"
echo "ok: socket: with no client the guest's output is dropped and counted, the guest is not held"
echo "PASS: char-pty and char-socket"
