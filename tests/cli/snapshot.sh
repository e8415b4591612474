#!/bin/sh
# Issue 14, snapshot and restore (docs/api.md "Snapshot and restore"), with
# seccomp on (vmmctl's default): tests/guests/snap-count.elf counts in a
# loop while the 8254 ticks, printing "snap-count: ticks T count C" every
# 100 ticks.  For each irqchip mode in MODES:
#   vmmctl run --api; once it has printed a few reports, `vmmctl snapshot
#   SOCK DIR` (which pauses the running machine itself); vmmctl is killed
#   (SIGKILL: nothing of the old process helps); `vmmctl restore DIR
#   --paused --api SOCK2` in a new process stays paused until `vmmctl
#   resume`; then the guest goes on from where it was: its first report
#   after the restore is above the last one before it (ticks and count, not
#   from zero), it never prints its start line again, the timer keeps
#   ticking (reports go on) and it ends with SNAP-COUNT-DONE.  A snapshot
#   of the restored machine (its RAM mapped from the first snapshot's file)
#   restores in a third process and goes on from its own point.
# The machines with a second vCPU (kernel-smp, split-smp) run the guest
# with ap_at=2500: its AP is powered off (wait-for-SIPI) at both
# snapshots, taken before tick 1000, and the guest starts it (INIT, SIPI,
# SIPI through its local APIC) at tick 2500, after the restore.  The AP's
# line ("snap-count: AP up, apic id 1") is not printed before the
# snapshot, is printed after each restore, and the AP's count goes on:
# the restored process kept the AP waiting (a restored AP that ran before
# its SIPI would start at the reset vector, outside RAM, and crash) with a
# local APIC that takes the INIT and the SIPI.
# Refusals: a snapshot into a directory that exists (409), of a machine
# with a device whose plugin has no save op (409 naming the instance and
# plugin; nothing left behind), a PUT /v1/snapshot without a path (400);
# restore of a missing directory, of a damaged state file (-EBADMSG) and of
# a config that no longer matches its records: one line, status 2.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"
. "$VMM_SRCDIR/tests/cli/snap-lib.sh"

# The machines tested, one word each (conf_for builds them): the three
# irqchip modes (split and emulated with the i8259, i8254 and ioapic
# plugins, which save themselves; kernel with KVM's own, in the kvm
# plugin's VM record) and kernel-smp and split-smp, kernel and split with
# a second vCPU (an AP the guest starts after the restore: above).  A new
# mode is a word here and a case in conf_for.
MODES="kernel kernel-smp split split-smp emulated"
# When the guest starts its AP: well after the snapshots (ticks 300 to
# 999, and the first report after the restore).
AP_AT=2500

require_kvm
require_file "$GUESTS/snap-count.elf"
FIX="$VMM_BUILDDIR/tests/fixtures/.libs"
require_file "$FIX/good.so"

PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMPD"' EXIT

# ticks_of LINE / count_of LINE: the numbers of a report line.
ticks_of() { printf '%s\n' "$1" | sed -n 's/.*ticks \([0-9]*\) count.*/\1/p'; }
count_of() { printf '%s\n' "$1" | sed -n 's/.*count \([0-9]*\)$/\1/p'; }

# wait_done WHAT: until the guest's last line (or its FAIL line) in $OUT.
wait_done() {
	wait_for "$OUT" '^SNAP-COUNT-DONE\|^FAIL' "$1"
	grep '^FAIL' "$OUT" && fail "$1: the guest failed"
	return 0
}

# ap_started WHAT: $OUT (a restored machine's, run to SNAP-COUNT-DONE)
# has the AP's line once and its count goes on: two reports at least,
# none below the one before (on a loaded host the AP's thread may not run
# between two), the last above the first.
ap_started() {
	n=$(grep -c '^snap-count: AP up, apic id 1$' "$OUT")
	[ "$n" = 1 ] || fail "$1: $n 'AP up' lines after the restore, expected one"
	first= prev=0 n=0
	for c in $(sed -n 's/^snap-count: ap count \([0-9]*\)$/\1/p' "$OUT"); do
		[ "$c" -ge "$prev" ] || fail "$1: the AP's count went from $prev down to $c"
		first=${first:-$c} prev=$c n=$((n + 1))
	done
	[ "$n" -ge 2 ] || fail "$1: $n reports of the AP's count after the restore"
	[ "$prev" -gt "$first" ] || fail "$1: the AP's count stayed at $first over $n reports"
	AP_REPORTS=$n
}

for mode in $MODES; do
	conf_for "$mode" >"$TMPD/$mode.conf"
	SOCK="$TMPD/$mode.sock" SNAP="$TMPD/snap-$mode"
	case $mode in *-smp) cmdline="ap_at=$AP_AT" ;; *) cmdline= ;; esac
	start "$mode-before" run "$TMPD/$mode.conf" --kernel "$GUESTS/snap-count.elf" --cmdline "$cmdline" \
		--api "$SOCK" --seccomp on
	wait_for "$OUT" '^snap-count: ticks [3-9][0-9][0-9] ' "$mode: before the snapshot"
	[ -S "$SOCK" ] || fail "$mode: no API socket"
	"$VMMCTL" snapshot "$SOCK" "$SNAP" >"$TMPD/snap.out" 2>"$TMPD/snap.err" ||
		fail "$mode: vmmctl snapshot: $(cat "$TMPD/snap.err")"
	grep -qF '"state": "paused"' "$TMPD/snap.out" || fail "$mode: after the snapshot: $(cat "$TMPD/snap.out")"
	# Paused: what it printed last is what it was saved with.
	last=$(last_whole '^snap-count: ticks' "$OUT")
	refused 1 "exists" "$mode: a directory that exists" "$VMMCTL" snapshot "$SOCK" "$SNAP"
	grep -q 409 "$TMPD/refused.err" || fail "$mode: an existing directory: not a 409: $(cat "$TMPD/refused.err")"
	code=$(curl -s --unix-socket "$SOCK" -X PUT -d '{}' -o "$TMPD/body" -w '%{http_code}' \
		http://localhost/v1/snapshot 2>/dev/null)
	if [ -n "$code" ] && [ "$code" != 000 ]; then # without curl, vmmctl's client is tested alone
		[ "$code" = 400 ] && grep -q 'path.* must be' "$TMPD/body" || fail "PUT /v1/snapshot {}: $code $(cat "$TMPD/body")"
	fi
	kill -KILL "$PID"; wait "$PID" 2>/dev/null; PID=
	grep -q SNAP-COUNT-DONE "$OUT" && fail "$mode: the guest finished before the snapshot: no test"
	grep -q '^snap-count: AP up\|^snap-count: ap count' "$OUT" && fail "$mode: the AP started before the snapshot: no test"
	t1=$(ticks_of "$last") c1=$(count_of "$last")
	[ -n "$t1" ] && [ -n "$c1" ] || fail "$mode: no report before the snapshot"
	for f in manifest.json config memory state; do
		[ -s "$SNAP/$f" ] || fail "$mode: the snapshot has no $f"
	done
	[ -e "$SNAP.tmp" ] && fail "$mode: $SNAP.tmp left behind"
	grep -qF '"plugin":"uart16550"' "$SNAP/manifest.json" || fail "$mode: manifest: $(cat "$SNAP/manifest.json")"
	echo "ok: $mode: snapshot of a running guest at ticks $t1 count $c1 (paused by the request)"

	start "$mode-after" restore "$SNAP" --paused --api "$SOCK" --seccomp on
	w=0
	until [ -S "$SOCK" ] && "$VMMCTL" info "$SOCK" >"$TMPD/info.out" 2>/dev/null; do
		kill -0 "$PID" 2>/dev/null || { wait "$PID"; s=$?; PID=; fail "$mode: restore ended with $s"; }
		[ $w -lt 600 ] || fail "$mode: the restored vmmctl serves no API after 60 s"
		sleep 0.1; w=$((w + 1))
	done
	grep -qF '"state": "paused"' "$TMPD/info.out" || fail "$mode: restore --paused: $(cat "$TMPD/info.out")"
	[ -s "$OUT" ] && fail "$mode: restored paused, the guest printed: $(head -n 3 "$OUT")"
	"$VMMCTL" resume "$SOCK" >/dev/null 2>"$TMPD/resume.err" || fail "$mode: resume: $(cat "$TMPD/resume.err")"
	# A snapshot of the restored machine (its RAM a private mapping of
	# the first snapshot's file) restores too, in a third process.
	wait_for "$OUT" '^snap-count: ticks' "$mode: after the restore"
	"$VMMCTL" snapshot "$SOCK" "$SNAP-2" >/dev/null 2>"$TMPD/snap2.err" ||
		fail "$mode: snapshot of the restored machine: $(cat "$TMPD/snap2.err")"
	last2=$(last_whole '^snap-count: ticks' "$OUT")
	"$VMMCTL" resume "$SOCK" >/dev/null 2>"$TMPD/resume.err" || fail "$mode: resume: $(cat "$TMPD/resume.err")"
	wait_done "$mode: after the restore"
	stop_vmm "$SOCK" "$mode: restored"
	grep -q '^snap-count: start' "$OUT" && fail "$mode: the restored guest started again from its entry"
	first=$(grep '^snap-count: ticks' "$OUT" | head -n 1)
	t2=$(ticks_of "$first") c2=$(count_of "$first")
	[ -n "$t2" ] && [ "$t2" -gt "$t1" ] || fail "$mode: first ticks after the restore '$first', before $t1"
	[ "$c2" -gt "$c1" ] || fail "$mode: first count after the restore $c2, before $c1: counting from zero?"
	n=$(grep -c '^snap-count: ticks' "$OUT")
	[ "$n" -ge 2 ] || fail "$mode: $n reports after the restore: the timer stopped?"
	echo "ok: $mode: restored in a new process (paused until resumed), goes on at ticks $t2 count $c2," \
		"$n reports, SNAP-COUNT-DONE"
	if [ -n "$cmdline" ]; then
		ap_started "$mode: restored"
		echo "ok: $mode: the AP, powered off at the snapshot, started at tick $AP_AT after the restore" \
			"($AP_REPORTS reports of its count, growing)"
	fi

	start "$mode-third" restore "$SNAP-2" --api "$SOCK" --seccomp on
	wait_done "$mode: the second snapshot restored"
	stop_vmm "$SOCK" "$mode: second restore"
	[ -z "$cmdline" ] || ap_started "$mode: the second snapshot restored"
	first=$(grep '^snap-count: ticks' "$OUT" | head -n 1)
	t3=$(ticks_of "$first") c3=$(count_of "$first") t1=$(ticks_of "$last2") c1=$(count_of "$last2")
	[ -n "$t3" ] && [ "$t3" -gt "$t1" ] && [ "$c3" -gt "$c1" ] ||
		fail "$mode: the snapshot of the restored machine went on at '$first', it was saved at '$last2'"
	grep -q '^snap-count: start' "$OUT" && fail "$mode: the second restore started the guest again"
	echo "ok: $mode: a snapshot of the restored machine restores in a third process (on at ticks $t3)"
	[ -z "$cmdline" ] || echo "ok: $mode: its AP, powered off at that snapshot too, started after the third restore"
done

# --- refusals
mode=${MODES%% *}
SNAP="$TMPD/snap-$mode" SOCK="$TMPD/r.sock"
conf_for "$mode" 'device "nosave" { plugin = "good" }' >"$TMPD/nosave.conf"
start nosave run "$TMPD/nosave.conf" --kernel "$GUESTS/snap-count.elf" --api "$SOCK"
wait_for "$OUT" '^snap-count: ticks' "nosave"
refused 1 "device 'nosave' (plugin good) cannot be saved" "a device without save" \
	"$VMMCTL" snapshot "$SOCK" "$TMPD/never"
[ -e "$TMPD/never" ] || [ -e "$TMPD/never.tmp" ] && fail "a refused snapshot left $TMPD/never(.tmp) behind"
grep -q 409 "$TMPD/refused.err" || fail "a device without save: not a 409: $(cat "$TMPD/refused.err")"
# The refused request left the machine paused, and it runs on when resumed.
n1=$(wc -c <"$OUT")
"$VMMCTL" resume "$SOCK" >/dev/null 2>"$TMPD/resume.err" || fail "nosave: resume: $(cat "$TMPD/resume.err")"
w=0
while [ "$(wc -c <"$OUT")" -le "$n1" ]; do
	[ $w -lt 600 ] || fail "nosave: no guest output for 60 s after the refused snapshot and a resume"
	sleep 0.1; w=$((w + 1))
done
stop_vmm "$SOCK" "nosave"
echo "ok: refused: a snapshot into an existing directory (409), without a path (400), of a device" \
	"without save (409 naming it, nothing left behind; the machine resumes)"

refused 2 "no snapshot there" "a missing directory" "$VMMCTL" restore "$TMPD/nothing"
cp -r "$SNAP" "$TMPD/damaged"
# A record's length field overwritten: the container no longer adds up.
printf '\377\377\377\177' | dd of="$TMPD/damaged/state" bs=1 seek=12 conv=notrunc 2>/dev/null
refused 2 "damaged" "a damaged state file" "$VMMCTL" restore "$TMPD/damaged"
cp -r "$SNAP" "$TMPD/damaged2"
head -c 100 "$SNAP/state" >"$TMPD/damaged2/state"
refused 2 "damaged" "a truncated state file" "$VMMCTL" restore "$TMPD/damaged2"
cp -r "$SNAP" "$TMPD/other-mem"
sed -i 's/^memory = 16M/memory = 32M/' "$TMPD/other-mem/config"
refused 2 "16 MiB" "a config with other memory" "$VMMCTL" restore "$TMPD/other-mem"
cp -r "$SNAP" "$TMPD/other-dev"
sed -i 's/device "com1"/device "com2"/' "$TMPD/other-dev/config"
refused 2 "no such device" "a config without the saved device" "$VMMCTL" restore "$TMPD/other-dev"
echo "ok: restore refused in one line, status 2: missing, damaged, truncated, other memory, other device"
