#!/bin/sh
# Issue 14, live migration (docs/api.md "Live migration"), with seccomp on
# (vmmctl's default): tests/guests/mig-pattern.elf writes a pattern into
# 2048 pages pass after pass while the 8254 ticks, checking each page holds
# the previous pass before it writes it, and ends with MIG-PATTERN-OK once
# every page is checked once more (MIG-PATTERN-BAD at a page a migration
# lost).  For each machine in MODES: `vmmctl run --api` as the source,
# `vmmctl receive DEST --api` as the destination; once the guest has
# written a few passes, `vmmctl migrate SRC DEST`: the source ends with
# status 12 (as for a stop) and prints no more, the destination goes on
# from where the guest was (its first report is later than the source's
# last, it never prints its start line) and prints MIG-PATTERN-OK.
# Failures: a destination socket nobody listens on (the API answers an
# error naming it, the source runs on and migrates later), a destination
# killed during the transfer (an error, the source runs on and answers;
# while it was stopped, the pre-copy waiting on it held nothing else: the
# guest ran, the API answered, a second migration got 409), a source
# stopped while a migration waits (its client hears 503),
# a destination given a stream that is not one (one line, status 2) and
# one whose source vanished mid-stream (one line, status 2).  As root, a
# jailed destination too (kernel-jail).
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"
. "$VMM_SRCDIR/tests/cli/snap-lib.sh"

# The machines (conf_for in snap-lib.sh builds the irqchip part), and
# kernel-tcp: kernel over TCP on the loopback (the receiver on port 0,
# the kernel's pick, read from its log line); and
# kernel-blk: kernel with a virtio-blk disk on a file, whose device record
# goes along: the guest (blk=1) reads and checks a sector of it at every
# report, before, during and after the migration.  The word's suffix "/1" migrates in one pre-copy round
# (--max-rounds 1): every page the guest writes during round 1 goes in the
# paused round.
# The suffix "+ring": the kvm plugin's dirty ring (dirty-log = "ring")
# instead of its bitmap, of the default size (KVM's largest); the source's
# last line counts the entries it harvested.  (A small ring fills, and on
# this project's hosts KVM can write past its end before the ring-full
# exit: hypervisors/kvm/README.md.  The ring-full harvest and the overflow
# check are tested on fake rings, tests/unit/test_kvm_dirty_ring.c.)
MODES="kernel kernel-blk split/1 emulated kernel-tcp kernel+ring split+ring/1 emulated+ring"
# kernel-jail: the destination jailed (`vmmctl receive --jail DIR`), as
# root (no user = in the config: the source, which runs it too, would
# then not reach the destination's owner-only socket): the machine is built and loaded
# in the jail's own PID namespace and goes on there.
if [ "$(id -u)" = 0 ] && grep -q '^NSpid:' /proc/self/status; then
	MODES="$MODES kernel-jail"
else
	echo "ok: (the jailed destination needs root and NSpid: left out)"
fi

require_kvm
require_file "$GUESTS/mig-pattern.elf"
command -v python3 >/dev/null 2>&1 || {
	MODES="kernel split/1 emulated kernel-tcp kernel+ring split+ring/1 emulated+ring"
	echo "ok: (kernel-blk needs python3 to write its disk image: skipped, none here)"
}
FIX="$VMM_BUILDDIR/tests/fixtures/.libs"

PID= DPID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; [ -n "$DPID" ] && kill -KILL "$DPID" 2>/dev/null; rm -rf "$TMPD"' EXIT

# machine MODE[+ring]: its config on stdout.
machine() {
	case $1 in
	*+ring) machine "${1%+ring}" |
		sed 's/^hypervisor "kvm" {/hypervisor "kvm" { dirty-log = "ring"/' ;;
	kernel-blk)
		# sector S, byte i: (S * 7 + i) & 0xff, as the guest checks
		python3 -c 'import sys
sys.stdout.buffer.write(bytes((s * 7 + i) & 255 for s in range(2048) for i in range(512)))' >"$TMPD/disk.img"
		conf_for kernel "backend \"disk\" { plugin = \"block-file\" path = \"$TMPD/disk.img\" }
device \"vda\" { plugin = \"virtio-blk\" base = 0xd0000000 irq = 5 disk = \"disk\" }" ;;
	kernel-jail | kernel-tcp) conf_for kernel ;;
	*) conf_for "$1" ;;
	esac
}

# receiver NAME SOCK ARGS...: vmmctl receive SOCK ARGS in the background,
# output in $TMPD/NAME.out (DOUT), pid DPID.
receiver() {
	DOUT="$TMPD/$1.out" DERR="$TMPD/$1.err"; dsock=$2; shift 2
	"$VMMCTL" -P "$FIX" receive "$dsock" "$@" </dev/null >"$DOUT" 2>"$DERR" &
	DPID=$!
	w=0
	# tcp:...:0: the port the kernel gave, from the receiver's log line
	until case $dsock in tcp:*) DEST=$(tr -d '\r' <"$DERR" | sed -n 's/.*waiting for a migration on \(tcp:.*\)$/\1/p')
		[ -n "$DEST" ] ;; *) [ -S "$dsock" ] ;; esac; do
		kill -0 "$DPID" 2>/dev/null || { wait "$DPID"; fail "vmmctl receive ended with $?: $(cat "$DERR")"; }
		[ $w -lt 600 ] || fail "vmmctl receive: not listening on $dsock after 60 s"
		sleep 0.1; w=$((w + 1))
	done
}

tick_of() { printf '%s\n' "$1" | sed -n 's/.*ticks \([0-9]*\) gen.*/\1/p'; }

for word in $MODES; do
	mode=${word%/*} rounds=
	[ "$word" = "$mode" ] || rounds="--max-rounds ${word#*/}"
	machine "$mode" >"$TMPD/$mode.conf"
	SOCK="$TMPD/$mode.sock" DEST="$TMPD/$mode-dest.sock" DAPI="$TMPD/$mode-dapi.sock"
	# kernel-tcp: over TCP on the loopback, the port the receiver's
	[ "$mode" = kernel-tcp ] && DEST=tcp:127.0.0.1:0
	cmdline=
	[ "$mode" = kernel-blk ] && cmdline="blk=1"
	start "$mode-src" run "$TMPD/$mode.conf" --kernel "$GUESTS/mig-pattern.elf" --cmdline "$cmdline" \
		--api "$SOCK" --seccomp on
	SRCPID=$PID
	wait_for "$OUT" '^mig-pattern: ticks [3-9][0-9][0-9] ' "$mode: before the migration"
	if [ "$mode" = kernel-jail ]; then
		mkdir -p "$TMPD/jail"
		chmod 755 "$TMPD"
		receiver "$mode-dst" "$DEST" --api "$DAPI" --seccomp on --jail "$TMPD/jail"
	else
		receiver "$mode-dst" "$DEST" --api "$DAPI" --seccomp on
	fi
	# shellcheck disable=SC2086 # $rounds: an option and its value, or nothing
	"$VMMCTL" migrate "$SOCK" "$DEST" $rounds >"$TMPD/mig.out" 2>"$TMPD/mig.err" ||
		fail "$mode: vmmctl migrate: $(cat "$TMPD/mig.err")"
	grep -qF '"state": "stopping"' "$TMPD/mig.out" || fail "$mode: vmmctl migrate said: $(cat "$TMPD/mig.out")"
	wait "$SRCPID"; s=$?; PID=
	[ "$s" = 12 ] || fail "$mode: the migrated source ended with $s, expected 12"
	grep -q 'MIG-PATTERN' "$OUT" && fail "$mode: the guest ended on the source: $(grep MIG-PATTERN "$OUT")"
	last=$(last_whole '^mig-pattern: ticks' "$OUT")
	SRCOUT=$OUT OUT=$DOUT PID=$DPID
	if [ "$mode" = kernel-jail ]; then
		# The machine is the receiver's child, PID 1 of its own
		# namespace, with the jail's directory as its root.
		jc=$(cat /proc/$DPID/task/$DPID/children 2>/dev/null | tr -d ' ')
		[ -n "$jc" ] || fail "$mode: vmmctl receive $DPID has no child (the jailed machine)"
		[ "$(sed -n 's/^NSpid:[[:space:]]*//p' /proc/$jc/status | tr '\t' ' ')" = "$jc 1" ] ||
			fail "$mode: the destination's machine is not PID 1 of its own namespace: $(grep NSpid /proc/$jc/status)"
		[ -z "$(ls -A /proc/$jc/root)" ] || fail "$mode: the jailed destination's root holds: $(ls -A /proc/$jc/root)"
		grep -q 'jail: .* is the root' "$DERR" || fail "$mode: no jail line from the destination: $(cat "$DERR")"
	fi
	# The guest's last line: its result line is whole.
	wait_for "$DOUT" '^MIG-PATTERN-END' "$mode: on the destination"
	stop_vmm "$DAPI" "$mode: destination"
	DPID=
	grep -q '^MIG-PATTERN-OK' "$DOUT" || fail "$mode: $(grep MIG-PATTERN "$DOUT")"
	if [ -n "$cmdline" ]; then
		grep -q '^MIG-PATTERN-OK.* sectors [0-9]' "$DOUT" || fail "$mode: the guest read no sector: $(grep MIG-PATTERN "$DOUT")"
	fi
	grep -q '^mig-pattern: start' "$DOUT" && fail "$mode: the guest started again on the destination"
	first=$(grep '^mig-pattern: ticks' "$DOUT" | head -n 1)
	t1=$(tick_of "$last") t2=$(tick_of "$first")
	[ -n "$t1" ] && [ -n "$t2" ] && [ "$t2" -gt "$t1" ] ||
		fail "$mode: the destination's first report '$first', the source's last '$last'"
	n=$(sed -n 's/.*"rounds": \([0-9]*\).*/\1/p' "$TMPD/mig.out")
	paused=$(sed -n 's/.*"paused-pages": \([0-9]*\).*/\1/p' "$TMPD/mig.out")
	[ "$mode" = kernel-tcp ] && { grep -q "waiting for a migration on tcp:127.0.0.1:[1-9]" "$TMPD/$mode-dst.err" ||
		fail "$mode: the receiver's line: $(cat "$TMPD/$mode-dst.err")"; word="$word (to $DEST)"; }
	if [ "${mode%+ring}" != "$mode" ]; then
		grep -q 'kvm: dirty rings: [1-9][0-9]* entries harvested' "$TMPD/$mode-src.err" ||
			fail "$mode: the source harvested no ring: $(grep 'dirty rings' "$TMPD/$mode-src.err")"
		echo "ok: $word: $(grep -o 'dirty rings: .*' "$TMPD/$mode-src.err")"
	fi
	echo "ok: $word: migrated at '$last' in $n pre-copy rounds ($paused pages while paused), source status 12, the guest goes on" \
		"at '$first' and checks every page: $(grep '^MIG-PATTERN-OK' "$DOUT")"
	rm -f "$SRCOUT"
done

# --- a tap shared by the source and the destination on one host (a local
# move, ABI 1.17: net-tap's standby).  As root, with /dev/net/tun and
# python3: the machine has a virtio-net on a tap net-tap makes (a
# multi-queue one); the stream passes through a relay that holds it after
# its first 256 KiB (the destination has its config and has opened its
# backends, and waits for pages), and while it holds, the tap has one
# attached queue, the source's: the destination's queue is detached.
# Released, the migration completes; the source's queue goes with it and
# the destination's is attached: a frame sent into the tap is read.  Without standby the
# destination's queue would take half the flows from the start, frames
# for a machine not yet running.
tap_queues() { ls "/sys/class/net/$1/queues" 2>/dev/null | grep -c '^tx-'; }
dst_has_tun() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q '/dev/net/tun'; }
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] && command -v python3 >/dev/null 2>&1; then
	TAP="vmmig$$"
	machine kernel >"$TMPD/tap.conf"
	printf '%s\n' "backend \"net0\" { plugin = \"net-tap\" ifname = \"$TAP\" }" \
		'device "eth0" { plugin = "virtio-net" base = 0xd0001000 irq = 6 net = "net0" }' >>"$TMPD/tap.conf"
	SOCK="$TMPD/tap.sock" DEST="$TMPD/tap-dest.sock" RELAY="$TMPD/tap-relay.sock"
	start tap-src run "$TMPD/tap.conf" --kernel "$GUESTS/mig-pattern.elf" --api "$SOCK" --seccomp on
	SRCPID=$PID
	wait_for "$OUT" '^mig-pattern: ticks [3-9][0-9][0-9] ' "tap: before the migration"
	[ "$(tap_queues "$TAP")" = 1 ] || fail "tap: the source's tap $TAP has $(tap_queues "$TAP") queues"
	receiver tap-dst "$DEST" --seccomp on
	# The relay: source -> RELAY -> DEST, holding after 256 KiB until
	# $TMPD/go exists; the answer goes back.
	python3 - "$RELAY" "$DEST" "$TMPD/held" "$TMPD/go" <<'PY' &
import os, socket, sys, threading, time
relay, dest, held, go = sys.argv[1:]
l = socket.socket(socket.AF_UNIX); l.bind(relay); l.listen(1)
s, _ = l.accept()
d = socket.socket(socket.AF_UNIX); d.connect(dest)
def back():
    while True:
        b = d.recv(65536)
        if not b: break
        s.sendall(b)
    s.shutdown(socket.SHUT_WR)
threading.Thread(target=back, daemon=True).start()
n, told = 0, False
deadline = time.time() + 120   # a hang guard
while True:
    if n >= 256 * 1024 and not os.path.exists(go):
        if not told:
            open(held, "w").close(); told = True
        if time.time() > deadline: sys.exit(1)
        time.sleep(0.05); continue
    b = s.recv(65536)
    if not b: break
    d.sendall(b); n += len(b)
d.shutdown(socket.SHUT_WR)
time.sleep(2)
PY
	RPID=$!
	w=0; until [ -S "$RELAY" ]; do [ $w -lt 600 ] || fail "tap: no relay socket"; sleep 0.1; w=$((w + 1)); done
	"$VMMCTL" migrate "$SOCK" "$RELAY" >"$TMPD/mig.out" 2>"$TMPD/mig.err" &
	MIG=$!
	w=0; until [ -e "$TMPD/held" ]; do [ $w -lt 600 ] || fail "tap: the relay held nothing in 60 s"; sleep 0.1; w=$((w + 1)); done
	# Held: the destination opens its tap, then its queue leaves the tap
	# (bounded: a destination whose queue stayed attached fails here).
	w=0
	until dst_has_tun "$DPID" && [ "$(tap_queues "$TAP")" = 1 ]; do
		[ $w -lt 600 ] || fail "tap: while the destination loads: $(tap_queues "$TAP") attached queues on $TAP, expected the source's alone (the destination $(dst_has_tun "$DPID" && echo holds || echo "does not hold") the tap)"
		sleep 0.1; w=$((w + 1))
	done
	kill -0 "$MIG" 2>/dev/null || fail "tap: vmmctl migrate ended while the relay held: $(cat "$TMPD/mig.err")"
	: >"$TMPD/go"
	wait "$MIG" || fail "tap: vmmctl migrate: $(cat "$TMPD/mig.err")"
	wait "$SRCPID"; s=$?; PID=
	[ "$s" = 12 ] || fail "tap: the migrated source ended with $s, expected 12"
	wait "$RPID" 2>/dev/null
	OUT=$DOUT PID=$DPID
	wait_for "$DOUT" '^mig-pattern: ticks' "tap: on the destination"
	# The destination's queue is attached: a frame sent into the tap is
	# read (the tap counts it in tx_packets when a reader takes it; with
	# no queue attached it would count it in tx_dropped).  (sysfs's queue
	# count says nothing here: the kernel never sets it below 1.)
	ip link set "$TAP" up || fail "tap: ip link set $TAP up"
	p0=$(cat "/sys/class/net/$TAP/statistics/tx_packets")
	w=0
	until [ "$(cat "/sys/class/net/$TAP/statistics/tx_packets")" -gt "$p0" ]; do
		[ $w -lt 100 ] || fail "tap: after the migration no frame sent into $TAP was read (tx_packets $p0, tx_dropped $(cat "/sys/class/net/$TAP/statistics/tx_dropped")): the destination's queue is not attached"
		python3 -c 'import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(b"\xff" * 6 + b"\x02\x76\x6d\x6d\x00\x09" + b"\x88\xb5" + bytes(46))' "$TAP" ||
			fail "tap: cannot send a frame into $TAP"
		sleep 0.1; w=$((w + 1))
	done
	kill -TERM "$DPID"; wait "$DPID"; DPID= PID=
	echo "ok: tap: a same-host migration with the tap $TAP: while the destination loaded, the source's queue alone was attached; after it, the destination's reads the tap"
else
	echo "ok: (the same-host migration over a tap needs root, /dev/net/tun and python3: left out)"
fi

# --- failures, on the first machine
mode=${MODES%% *}
SOCK="$TMPD/f.sock" DEST="$TMPD/f-dest.sock"
machine "$mode" >"$TMPD/f.conf"
# The guest runs until stopped (ticks: beyond the test).
LONG="ticks=2000000000"
start f-src run "$TMPD/f.conf" --kernel "$GUESTS/mig-pattern.elf" --cmdline "$LONG" --api "$SOCK" --seccomp on
wait_for "$OUT" '^mig-pattern: ticks' "failures: the source"

# guest_goes_on WHAT: the source prints more (it runs) and answers.
guest_goes_on() {
	n1=$(wc -c <"$OUT")
	w=0
	while [ "$(wc -c <"$OUT")" -le "$n1" ]; do
		kill -0 "$PID" 2>/dev/null || { wait "$PID"; fail "$1: the source ended with $?"; }
		[ $w -lt 600 ] || fail "$1: no guest output on the source for 60 s"
		sleep 0.1; w=$((w + 1))
	done
	# Bounded: the answer comes from the main loop, which a migration
	# must never hold (the pre-copy waiting on a stopped destination).
	timeout 10 "$VMMCTL" info "$SOCK" >"$TMPD/info.out" 2>&1 ||
		fail "$1: the source does not answer (status $?): $(cat "$TMPD/info.out")"
	grep -qF '"state": "running"' "$TMPD/info.out" || fail "$1: the source: $(cat "$TMPD/info.out")"
}

refused 1 "$TMPD/nobody.sock: cannot connect" "a destination socket nobody listens on" \
	"$VMMCTL" migrate "$SOCK" "$TMPD/nobody.sock"
grep -q 502 "$TMPD/refused.err" || fail "no destination: not a 502: $(cat "$TMPD/refused.err")"
guest_goes_on "after a migration to no destination"
echo "ok: a destination socket nobody listens on: 502 naming it, the source runs on"

# A destination killed as the pages arrive: a fake one (a socket that
# reads a little and closes), so that where it dies is not a race.
if command -v python3 >/dev/null 2>&1; then
	python3 - "$DEST" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
c.recv(65536)
c.close()
EOF
	FAKE=$!
	w=0
	until [ -S "$DEST" ]; do [ $w -lt 100 ] || fail "the fake destination did not listen"; sleep 0.1; w=$((w + 1)); done
	refused 1 "stream broke" "a destination gone mid-transfer" "$VMMCTL" migrate "$SOCK" "$DEST"
	wait "$FAKE"
	rm -f "$DEST"
	guest_goes_on "after a destination gone mid-transfer"
	echo "ok: a destination that closed mid-transfer: an error naming it, the source runs on and answers"
else
	echo "ok: (a fake destination needs python3: skipped, none here)"
fi

# to_stopped_destination NAME WHAT: a real destination (DPID) stopped
# (SIGSTOP) before the source connects, so that it accepts nothing and
# reads nothing, and `vmmctl migrate` to it in the background (MIG): the
# source connects (the kernel queues the connection), fills the socket's
# buffer and waits for it to drain.
to_stopped_destination() {
	receiver "$1" "$DEST" --seccomp on
	kill -STOP "$DPID"
	"$VMMCTL" migrate "$SOCK" "$DEST" >"$TMPD/mig.out" 2>"$TMPD/mig.err" &
	MIG=$!
	# The queued connection shows in /proc/net/unix under the listener's path.
	w=0
	while [ "$(grep -c "$DEST" /proc/net/unix)" -lt 2 ]; do
		[ $w -lt 600 ] || fail "$2: the source did not connect in 60 s"
		sleep 0.1; w=$((w + 1))
	done
}

# A real destination killed during the transfer (stopped, then killed).
to_stopped_destination f-dst "a stopped destination"
# Pre-copy waits on the full socket, and only it does: the main loop goes
# on (the guest prints, the API answers at once) and a second migration
# is refused while this one is under way.
guest_goes_on "while the migration waits on a stopped destination"
refused 1 "409: a migration to $DEST is under way" "a second migration" \
	timeout 10 "$VMMCTL" migrate "$SOCK" "$TMPD/other.sock"
kill -0 "$MIG" 2>/dev/null || fail "a stopped destination: vmmctl migrate ended already: $(cat "$TMPD/mig.err")"
echo "ok: a migration waiting on a stopped destination holds nothing else: the guest runs, the API answers, a second migration is refused (409)"
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=
wait "$MIG"; s=$?
[ "$s" = 1 ] || fail "a destination killed during the transfer: vmmctl migrate ended with $s: $(cat "$TMPD/mig.err")"
grep -q "502: destination $DEST: the stream broke after [0-9]* pages" "$TMPD/mig.err" ||
	fail "a destination killed during the transfer: $(cat "$TMPD/mig.err")"
guest_goes_on "after a killed destination"
echo "ok: a destination killed during the transfer: 502, the stream broke, the source runs on and answers"
rm -f "$DEST"

# Destinations given bad streams: one line, status 2, nothing run.
# badstream WHAT PATTERN: vmmctl receive gets the bytes on stdin of a
# writer (python3) as its source.
badstream() {
	what=$1 pat=$2
	"$VMMCTL" receive "$DEST" --seccomp on </dev/null >"$TMPD/bad.out" 2>"$TMPD/bad.err" &
	DPID=$!
	w=0
	until [ -S "$DEST" ]; do [ $w -lt 600 ] || fail "$what: no socket"; sleep 0.1; w=$((w + 1)); done
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR); s.recv(1000)' "$DEST" 2>/dev/null
	wait "$DPID"; s=$?; DPID=
	[ "$s" = 2 ] || fail "$what: vmmctl receive ended with $s, expected 2: $(cat "$TMPD/bad.err")"
	grep -q -- "$pat" "$TMPD/bad.err" || fail "$what: no '$pat' in: $(cat "$TMPD/bad.err")"
	n=$(grep -vc '^vmmctl: info:' "$TMPD/bad.err")
	[ "$n" = 1 ] || fail "$what: $n lines on stderr, expected one: $(cat "$TMPD/bad.err")"
	[ -s "$TMPD/bad.out" ] && fail "$what: the guest ran: $(head -n 2 "$TMPD/bad.out")"
	return 0
}
if command -v python3 >/dev/null 2>&1; then
	printf 'GET / HTTP/1.1\r\n\r\n' | badstream "not a stream" "not a migration stream"
	# A header and a MANIFEST message claiming 16 MiB.
	printf 'VMMIGR\r\n\001\000\000\000\000\000\000\000\001\000\000\000\000\000\000\001' |
		badstream "a manifest too long" "length 16777216, at most"
	# The stream a real source sends, captured and cut in its pages.
	rm -f "$DEST"
	python3 - "$DEST" "$TMPD/captured" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
data = b''
while len(data) < 300000:
    d = c.recv(65536)
    if not d:
        break
    data += d
open(sys.argv[2], 'wb').write(data)
c.close()
EOF
	CAP=$!
	w=0
	until [ -S "$DEST" ]; do [ $w -lt 100 ] || fail "capture: no socket"; sleep 0.1; w=$((w + 1)); done
	"$VMMCTL" migrate "$SOCK" "$DEST" >/dev/null 2>&1 && fail "a migration to a capture succeeded"
	wait "$CAP"
	rm -f "$DEST"
	[ "$(wc -c <"$TMPD/captured")" -gt 200000 ] || fail "captured only $(wc -c <"$TMPD/captured") bytes"
	head -c 200000 "$TMPD/captured" | badstream "a stream cut in its pages" "message [0-9]*.*the stream ended"
	# The same with a page's address moved outside RAM.
	python3 -c 'import sys, struct
d = bytearray(open(sys.argv[1], "rb").read())
o = 16
for i in range(3):  # MANIFEST, CONFIG, the first PAGES
    t, l = struct.unpack_from("<II", d, o)
    if t == 3:
        struct.pack_into("<Q", d, o + 8, 1 << 40)
        break
    o += 8 + l
sys.stdout.buffer.write(d)' "$TMPD/captured" | badstream "a page outside RAM" "(PAGES): 0x10000000000+0x[0-9a-f]* is not inside one RAM region"
	echo "ok: destinations refuse in one line with status 2: not a stream, a manifest too long, a stream cut" \
		"short, a page outside RAM"
else
	echo "ok: (bad streams need python3 to send them: skipped, none here)"
fi
guest_goes_on "at the end"
# Stopped while a migration waits on a destination that reads nothing (a
# real one, SIGSTOPped): the migration's client hears 503 naming the
# stop, the source ends with 12 as for any stop.
to_stopped_destination f-dst2 "a stop during a migration"
stop_vmm "$SOCK" "the source of the failures, stopped during a migration"
wait "$MIG"; s=$?
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=
[ "$s" = 1 ] && grep -q "503: the migration to $DEST was cancelled: the machine was stopped through the API" "$TMPD/mig.err" ||
	fail "a stop during a migration: vmmctl migrate ended with $s: $(cat "$TMPD/mig.err")"
echo "ok: stopped during a migration: its client hears 503 naming the stop, the source ends with 12"
