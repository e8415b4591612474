#!/bin/sh
# Issue 15: no privileges after start-up.  Started as root with user =
# "nobody", vmmctl opens what needs root (/dev/kvm, a log file in a
# directory only root may enter), then every thread runs as nobody with no
# capabilities, no_new_privs and a seccomp filter.  Without user it keeps
# uid 0 but clears every capability and sets no_new_privs.  A user that does not exist names
# the file and line.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"

fail() { echo "FAIL: $*"; exit 1; }

# A name that does not resolve: the file and the line, before anything runs.
printf 'memory = 16M\nuser = "no-such-user-vmm15"\n' >"$TMPD/nouser.conf"
"$VMMCTL" check "$TMPD/nouser.conf" >"$TMPD/nouser.out" 2>&1
status=$?
[ "$status" = 2 ] && grep -qF "$TMPD/nouser.conf:2: user = \"no-such-user-vmm15\": no such user" "$TMPD/nouser.out" ||
	fail "unknown user: status $status: $(cat "$TMPD/nouser.out")"
printf 'memory = 16M\ngroup = "nogroup"\n' >"$TMPD/nogroup.conf"
"$VMMCTL" check "$TMPD/nogroup.conf" >"$TMPD/nogroup.out" 2>&1
[ $? = 2 ] && grep -qF "$TMPD/nogroup.conf:2: group = \"nogroup\" without user" "$TMPD/nogroup.out" ||
	fail "group without user: $(cat "$TMPD/nogroup.out")"
echo "ok: an unknown user, or a group without a user, names the file and line"

require_kvm
id nobody >/dev/null 2>&1 || skip "no user 'nobody' to drop to"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
grep -q '^NoNewPrivs:' /proc/self/status || skip "the kernel shows no NoNewPrivs in /proc/PID/status"

# A guest that spins (jmp $) until SIGTERM; its UART goes to a file in a
# directory only root may enter, so only a root vmmctl could open it.
printf '\353\376' >"$TMPD/spin.bin"
mkdir -m 700 "$TMPD/rootonly"
sed -e 's|chardev = "stdio"|chardev = "log"|' "$VMM_SRCDIR/machines/x86-minimal.conf" >"$TMPD/base.conf"
printf 'backend "log" { plugin = "file" path = "%s/rootonly/serial.log" }\n' "$TMPD" >>"$TMPD/base.conf"
{ echo 'user = "nobody"'; cat "$TMPD/base.conf"; } >"$TMPD/drop.conf"

# field STATUS-FILE NAME: the value of a /proc/PID/status line, tabs as spaces.
field() { sed -n "s/^$2:[[:space:]]*//p" "$1" | tr '\t' ' ' | sed 's/ *$//'; }

# wait_confined PID: until every thread shows Seccomp 2 (the main thread
# installs its filter after the vCPU threads start), at most 10 s.
wait_confined() {
	i=0
	while [ $i -lt 100 ]; do
		n=0; ok=0
		for t in /proc/$1/task/*; do
			n=$((n + 1))
			[ "$(field "$t/status" Seccomp 2>/dev/null)" = 2 ] && ok=$((ok + 1))
		done
		[ $n -ge 2 ] && [ $ok = $n ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

"$VMMCTL" run --format flat --kernel "$TMPD/spin.bin" "$TMPD/drop.conf" >"$TMPD/drop.out" 2>"$TMPD/drop.err" </dev/null &
pid=$!
wait_confined $pid || { kill -KILL $pid; fail "threads not all confined after 10 s: $(cat "$TMPD/drop.err")"; }
for t in /proc/$pid/task/*; do
	cp "$t/status" "$TMPD/st" 2>/dev/null || continue
	name="thread $(basename "$t")"
	[ "$(field "$TMPD/st" Uid)" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ] ||
		{ kill -KILL $pid; fail "$name: Uid $(field "$TMPD/st" Uid), expected $NOBODY_UID x4"; }
	[ "$(field "$TMPD/st" Gid)" = "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" ] ||
		{ kill -KILL $pid; fail "$name: Gid $(field "$TMPD/st" Gid), expected $NOBODY_GID x4"; }
	[ "$(field "$TMPD/st" Groups)" = "$NOBODY_GID" ] ||
		{ kill -KILL $pid; fail "$name: Groups '$(field "$TMPD/st" Groups)', expected $NOBODY_GID"; }
	for c in CapInh CapPrm CapEff CapAmb CapBnd; do
		[ "$(field "$TMPD/st" $c)" = 0000000000000000 ] ||
			{ kill -KILL $pid; fail "$name: $c $(field "$TMPD/st" $c)"; }
	done
	[ "$(field "$TMPD/st" NoNewPrivs)" = 1 ] || { kill -KILL $pid; fail "$name: NoNewPrivs is not 1"; }
done
[ -f "$TMPD/rootonly/serial.log" ] || { kill -KILL $pid; fail "the log file was not opened"; }
kill -TERM $pid
wait $pid
status=$?
[ "$status" = 143 ] || fail "SIGTERM after the drop: status $status: $(cat "$TMPD/drop.err")"
echo "ok: with user = nobody every thread runs as $NOBODY_UID:$NOBODY_GID, no capabilities (bounding set too), no_new_privs, seccomp; a root-only file was opened first"

# Without user: uid 0 still, but no capabilities, no_new_privs and the
# filters all the same.
"$VMMCTL" run --format flat --kernel "$TMPD/spin.bin" "$TMPD/base.conf" >/dev/null 2>"$TMPD/keep.err" </dev/null &
pid=$!
wait_confined $pid || { kill -KILL $pid; fail "threads not all confined after 10 s: $(cat "$TMPD/keep.err")"; }
cp /proc/$pid/status "$TMPD/st"
kill -TERM $pid
wait $pid
[ "$(field "$TMPD/st" NoNewPrivs)" = 1 ] || fail "without user: NoNewPrivs is not 1"
[ "$(field "$TMPD/st" Uid)" = "0 0 0 0" ] || fail "without user: Uid $(field "$TMPD/st" Uid)"
for c in CapInh CapPrm CapEff CapAmb CapBnd; do
	[ "$(field "$TMPD/st" $c)" = 0000000000000000 ] || fail "without user: $c $(field "$TMPD/st" $c)"
done
echo "ok: without user, uid 0 keeps no capability (none in any set), and no_new_privs is set all the same"
