#!/bin/sh
# Issue 14, the control API from the outside (docs/api.md): vmmctl run --api
# on a guest that prints numbered lines until stopped (tests/guests/spin.c),
# driven by curl --unix-socket and by vmmctl's client commands.  A pause
# holds: the serial output and the exit counters do not change between two
# reads while paused (counts are compared, never timed); a resume lets the
# output grow again; errors are JSON with 400/404/405/409; stop ends vmmctl
# with status 12 and removes the socket; a stale socket is replaced, a live
# one or a path that is not a socket refused.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"

fail() {
	echo "FAIL: $*"
	for f in "$TMPD"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
	[ -n "${PID:-}" ] && kill -KILL "$PID" 2>/dev/null
	exit 1
}

require_kvm
require_file "$GUESTS/spin.elf"
command -v curl >/dev/null 2>&1 || skip "needs curl (curl --unix-socket drives the API)"

SOCK="$TMPD/api.sock"
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMPD"' EXIT

# start NAME CONF: vmmctl run CONF --api $SOCK in the background, its
# serial output in $TMPD/NAME.out; waits for the first line.
start() {
	SERIAL="$TMPD/$1.out"; ERR="$TMPD/$1.err"
	# No timeout(1) between: the stale-socket case kills vmmctl itself.
	# Every wait below is bounded, and the EXIT trap kills a vmmctl left.
	"$VMMCTL" run "$2" --kernel "$GUESTS/spin.elf" --api "$SOCK" </dev/null >"$SERIAL" 2>"$ERR" &
	PID=$!
	w=0
	until [ -S "$SOCK" ] && grep -q '^tick ' "$SERIAL"; do
		kill -0 "$PID" 2>/dev/null || { wait "$PID"; fail "$1: vmmctl ended with $? before serving"; }
		[ $w -lt 600 ] || fail "$1: no socket or no guest output after 60 s"
		sleep 0.1; w=$((w + 1))
	done
}

# api METHOD PATH [BODY]: curl; $CODE is the HTTP status, $BODY the reply.
api() {
	if [ $# -ge 3 ]; then
		BODY=$(curl -s -S --unix-socket "$SOCK" -X "$1" -H 'Content-Type: application/json' \
			--data-binary "$3" -w '\n%{http_code}' "http://localhost$2") || fail "curl $1 $2 failed"
	else
		BODY=$(curl -s -S --unix-socket "$SOCK" -X "$1" -w '\n%{http_code}' "http://localhost$2") ||
			fail "curl $1 $2 failed"
	fi
	CODE=$(printf '%s\n' "$BODY" | tail -n 1)
	BODY=$(printf '%s\n' "$BODY" | sed '$d')
}

# expect CODE TEXT: the last api call answered CODE with TEXT in its body.
expect() {
	[ "$CODE" = "$1" ] || fail "expected HTTP $1, got $CODE: $BODY"
	printf '%s\n' "$BODY" | grep -qF -- "$2" || fail "HTTP $1 without '$2' in: $BODY"
}

# grows: the serial output grows past $1 bytes (bounded wait, no threshold).
grows() {
	w=0
	while [ "$(wc -c <"$SERIAL")" -le "$1" ]; do
		[ $w -lt 600 ] || fail "the serial output did not grow past $1 bytes in 60 s"
		sleep 0.1; w=$((w + 1))
	done
}

# pause_resume NAME: pause holds the guest still, resume lets it go on.
pause_resume() {
	api PUT /v1/machine/pause
	expect 200 '"state": "paused"'
	s1=$(wc -c <"$SERIAL")
	api GET /v1/stats
	st1=$BODY
	t1=$(printf '%s\n' "$st1" | grep -c '"total"')
	[ "$t1" -ge 1 ] || fail "$1: no vCPU totals in the stats: $st1"
	sleep 0.5
	s2=$(wc -c <"$SERIAL")
	"$VMMCTL" stats "$SOCK" >"$TMPD/stats2.json" 2>"$TMPD/stats2.err" || fail "$1: vmmctl stats failed"
	[ "$s1" = "$s2" ] || fail "$1: paused, the serial output grew from $s1 to $s2 bytes"
	printf '%s\n' "$st1" | cmp -s - "$TMPD/stats2.json" ||
		fail "$1: paused, the counters changed: $(printf '%s\n' "$st1" | diff - "$TMPD/stats2.json")"
	api GET /v1/machine
	expect 200 '"state": "paused"'
	n=$(printf '%s\n' "$BODY" | grep -c '"parked": true')
	v=$(printf '%s\n' "$BODY" | grep -c '"parked"')
	[ "$n" = "$v" ] || fail "$1: paused, $n of $v vCPUs parked"
	api PUT /v1/machine/pause
	expect 409 'already paused'
	"$VMMCTL" resume "$SOCK" >"$TMPD/resume.out" 2>"$TMPD/resume.err" || fail "$1: vmmctl resume failed"
	grep -qF '"state": "running"' "$TMPD/resume.out" || fail "$1: vmmctl resume said $(cat "$TMPD/resume.out")"
	grows "$s2"
	"$VMMCTL" stats "$SOCK" >"$TMPD/stats3.json" || fail "$1: vmmctl stats failed"
	cmp -s "$TMPD/stats2.json" "$TMPD/stats3.json" && fail "$1: resumed, the exit counters did not move"
	echo "ok: $1: pause holds the output and the exit counters still, resume lets them go on"
}

# stop_run NAME: vmmctl stop; vmmctl run ends with 10, the socket is gone.
stop_run() {
	"$VMMCTL" stop "$SOCK" >"$TMPD/stop.out" 2>"$TMPD/stop.err" || fail "$1: vmmctl stop: $(cat "$TMPD/stop.err")"
	grep -qF '"state": "stopping"' "$TMPD/stop.out" || fail "$1: vmmctl stop said $(cat "$TMPD/stop.out")"
	wait_gone "$PID" || fail "$1: vmmctl still runs 60 s after vmmctl stop"
	wait "$PID"; status=$?
	PID=
	[ "$status" = 12 ] || fail "$1: stopped through the API, vmmctl ended with $status, expected 12"
	[ -e "$SOCK" ] && fail "$1: the socket is still there after the run"
	echo "ok: $1: stop ends vmmctl with status 12 and removes the socket"
}

# --- irqchip = emulated, one vCPU: the whole API
start minimal "$VMM_SRCDIR/machines/x86-minimal.conf"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "the socket's mode is $(stat -c %a "$SOCK"), expected 600"

api GET /v1/machine
expect 200 '"state": "running"'
for field in '"config": "' '"memory": 67108864' '"abi": "' '"hypervisor": {' '"irqchip": "emulated"' \
	'"vcpus": [' '"index": 0' '"devices": [' '"plugin": "uart16550"' '"plugin": "debug-exit"' \
	'"backends": [' '"plugin": "stdio"' '"power_button": false' "\"kernel\": \"$GUESTS/spin.elf\""; do
	printf '%s\n' "$BODY" | grep -qF -- "$field" || fail "GET /v1/machine: no $field in: $BODY"
done
"$VMMCTL" info "$SOCK" >"$TMPD/info.out" 2>"$TMPD/info.err" || fail "vmmctl info failed: $(cat "$TMPD/info.err")"
grep -qF '"state": "running"' "$TMPD/info.out" || fail "vmmctl info: $(cat "$TMPD/info.out")"
api GET /v1/stats
expect 200 '"vcpus": ['
for field in '"exits": {' '"io": ' '"total": ' '"buses": {' '"pio": {' '"mmio": {' '"msr": {' \
	'"unclaimed_reads": ' '"irqfd_lines": [' '"guest_errors": '; do
	printf '%s\n' "$BODY" | grep -qF -- "$field" || fail "GET /v1/stats: no $field in: $BODY"
done
echo "ok: GET /v1/machine and GET /v1/stats (curl, vmmctl info) give the machine's fields"

pause_resume "irqchip = emulated"

# Errors: JSON with a status that names what was wrong.
api GET /v1/nothing
expect 404 '"error": "no resource /v1/nothing'
api GET /v1/machine/pause
expect 405 'method not allowed (PUT only)'
api POST /v1/machine
expect 405 'method not allowed (GET only)'
api DELETE /v1/machine/stop
expect 405 'method not allowed (PUT only)'
api PUT /v1/machine/pause '{"pause": '
expect 400 'is not JSON'
api PUT /v1/machine/pause '[1, 2]'
expect 400 'must be a JSON object, got array'
api PUT /v1/machine/pause '{"vcpu": 1}'
expect 400 "unknown member 'vcpu'"
api PUT /v1/machine/pause '{} x'
expect 400 'trailing bytes'
api GET '/v1/machine?verbose=1'
expect 400 'no query string'
api PUT /v1/machine/resume
expect 409 'not paused'
api PUT /v1/machine/shutdown '{}'
expect 409 'this machine has no power button (no device offers one: an x86 machine needs an acpi-pm device'
api GET /v1/machine
expect 200 '"state": "running"'
echo "ok: 404, 405, 400 and 409 are JSON errors naming what was wrong; the machine runs on"

# The client: a refusal is status 1 with the server's message.
"$VMMCTL" resume "$SOCK" >"$TMPD/c.out" 2>"$TMPD/c.err"
status=$?
[ "$status" = 1 ] || fail "vmmctl resume on a running machine: status $status, expected 1"
grep -qF "409: the machine is not paused" "$TMPD/c.err" || fail "vmmctl resume: $(cat "$TMPD/c.err")"
"$VMMCTL" shutdown "$SOCK" >/dev/null 2>"$TMPD/c.err"
[ $? = 1 ] && grep -qF "409: this machine has no power button" "$TMPD/c.err" || fail "vmmctl shutdown: $(cat "$TMPD/c.err")"
"$VMMCTL" info "$TMPD/no-such.sock" >/dev/null 2>"$TMPD/c.err"
status=$?
[ "$status" = 2 ] || fail "vmmctl info on a missing socket: status $status, expected 2"
grep -qF "no-such.sock: No such file or directory" "$TMPD/c.err" || fail "vmmctl info: $(cat "$TMPD/c.err")"
echo "ok: vmmctl's client exits 1 with the server's message, 2 when the socket is not there"

# A live socket is not taken over; the second vmmctl says so and builds nothing.
"$VMMCTL" run "$VMM_SRCDIR/machines/x86-minimal.conf" --kernel "$GUESTS/spin.elf" --api "$SOCK" \
	</dev/null >/dev/null 2>"$TMPD/second.err"
status=$?
[ "$status" = 2 ] || fail "a second vmmctl on a live socket: status $status, expected 2"
grep -qF "another process is serving on this socket" "$TMPD/second.err" ||
	fail "a second vmmctl on a live socket: $(cat "$TMPD/second.err")"
api GET /v1/machine
expect 200 '"state": "running"'
echo "ok: a socket another vmmctl serves is refused"

stop_run "irqchip = emulated"

# --- A stale socket (its vmmctl killed) is replaced; in-kernel irqchip, 2 vCPUs.
start killed "$VMM_SRCDIR/machines/x86-minimal.conf"
kill -KILL "$PID"; wait "$PID" 2>/dev/null
PID=
[ -S "$SOCK" ] || fail "no stale socket left by a killed vmmctl"
start kernel "$VMM_SRCDIR/machines/x86-pc-kernel.conf"
grep -qF "replacing a stale socket" "$ERR" || fail "the stale socket was not reported: $(cat "$ERR")"
api GET /v1/machine
expect 200 '"irqchip": "kernel"'
echo "ok: a stale socket is replaced"
# This machine has acpi-pm: its fixed-feature power button (the spin guest
# never enables it, so the press only latches PWRBTN_STS; pwrbtn.sh has a
# guest that acts on it).
printf '%s\n' "$BODY" | grep -qF '"power_button": true' || fail "x86-pc-kernel: GET /v1/machine: $BODY"
api PUT /v1/machine/shutdown
expect 200 '"power_button": "pressed"'
printf '%s\n' "$BODY" | grep -qF '"device": "acpi"' || fail "x86-pc-kernel: shutdown: $BODY"
printf '%s\n' "$BODY" | grep -qF '"state": "running"' || fail "x86-pc-kernel: shutdown: $BODY"
"$VMMCTL" shutdown "$SOCK" >"$TMPD/c.out" 2>"$TMPD/c.err" || fail "vmmctl shutdown: $(cat "$TMPD/c.err")"
grep -qF '"power_button": "pressed"' "$TMPD/c.out" || fail "vmmctl shutdown printed $(cat "$TMPD/c.out")"
echo "ok: with acpi-pm, power_button is true and a shutdown presses it (200)"
pause_resume "irqchip = kernel, 2 vCPUs"
stop_run "irqchip = kernel"

# --- irqchip = split, and a stop while paused.
start split "$VMM_SRCDIR/machines/x86-pc-split.conf"
pause_resume "irqchip = split, 2 vCPUs"
api PUT /v1/machine/pause
expect 200 '"state": "paused"'
stop_run "paused, irqchip = split"

# --- A path that is not a socket is refused in one line, and left alone.
echo keep >"$TMPD/file"
"$VMMCTL" run "$VMM_SRCDIR/machines/x86-minimal.conf" --kernel "$GUESTS/spin.elf" --api "$TMPD/file" \
	</dev/null >/dev/null 2>"$TMPD/file.err"
status=$?
[ "$status" = 2 ] || fail "--api on a regular file: status $status, expected 2"
[ "$(cat "$TMPD/file.err")" = "vmmctl: --api $TMPD/file: exists and is not a socket; not replacing it" ] ||
	fail "--api on a regular file: $(cat "$TMPD/file.err")"
[ "$(cat "$TMPD/file")" = keep ] || fail "--api replaced a regular file"
echo "ok: a path that is not a socket is refused in one line and left as it was"
