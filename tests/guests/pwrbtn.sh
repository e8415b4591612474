#!/bin/sh
# Issue 14: the control API's shutdown presses acpi-pm's fixed-feature
# power button (ABI 1.16).  pwrbtn.elf (pwrbtn.c) on irq-{emulated,split,
# kernel}.conf with an acpi-pm device added: it enables PWRBTN_EN and the
# SCI (IRQ 9, level) in the mode's interrupt controller and says "ready";
# `vmmctl shutdown SOCK` presses the button; the guest takes one SCI, finds
# PWRBTN_STS, clears it, sees no second interrupt and powers off through
# PM1_CNT (S5): vmmctl run exits 0.  GET /v1/machine says power_button
# true first.  In split mode the press comes while the machine is paused
# and reaches the guest at the resume.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
require_file "$GUESTS/pwrbtn.elf"
for p in i8259 i8254 ioapic acpi-pm; do
	have_plugin "$p" || guest_fail "plugin $p is not in VMM_PLUGIN_PATH=$VMM_PLUGIN_PATH"
done

SOCK="$TMPD/api.sock"
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMPD"' EXIT
fail() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	STATUS=none
	guest_fail "$*"
}

# wait_line TEXT: a line of the guest's serial output is TEXT (60 s at most).
wait_line() {
	w=0
	until tr -d '\r' <"$OUT" | grep -qxF -- "$1"; do
		kill -0 "$PID" 2>/dev/null || { wait "$PID"; STATUS=$?; PID=; guest_fail "vmmctl ended ($STATUS) before '$1'"; }
		[ $w -lt 600 ] || fail "no line '$1' after 60 s"
		sleep 0.1; w=$((w + 1))
	done
}

# client CMD: vmmctl CMD $SOCK into $TMPD/CMD.out and .err; status 0 or fail.
client() {
	"$VMMCTL" "$1" "$SOCK" >"$TMPD/$1.out" 2>"$TMPD/$1.err" ||
		fail "vmmctl $1: status $?: $(cat "$TMPD/$1.err")"
}

for m in emulated split kernel; do
	conf="$TMPD/pwrbtn-$m.conf"
	{ cat "$VMM_SRCDIR/tests/guests/irq-$m.conf"; echo 'device "acpi" { plugin = "acpi-pm" }'; } >"$conf"
	OUT="$TMPD/$m.out"; ERR="$TMPD/$m.err"
	: >"$OUT"
	timeout -k 10 "$GUEST_TIMEOUT" "$VMMCTL" run --kernel "$GUESTS/pwrbtn.elf" --api "$SOCK" "$conf" \
		</dev/null >"$OUT" 2>"$ERR" &
	PID=$!
	wait_line "pwrbtn: ready"
	client info
	grep -qF '"power_button": true' "$TMPD/info.out" || fail "$m: GET /v1/machine: $(cat "$TMPD/info.out")"
	if [ $m = split ]; then
		client pause
		client shutdown
		sleep 0.2
		tr -d '\r' <"$OUT" | grep -qxF "pwrbtn: PWRBTN_STS set, cleared" &&
			fail "$m: the paused guest took the SCI"
		client resume
	else
		client shutdown
	fi
	for want in '"power_button": "pressed"' '"device": "acpi"'; do
		grep -qF "$want" "$TMPD/shutdown.out" || fail "$m: vmmctl shutdown printed $(cat "$TMPD/shutdown.out")"
	done
	wait_gone "$PID" || fail "$m: vmmctl still runs 60 s after the press"
	wait "$PID"; STATUS=$?
	PID=
	expect_no_fail
	for l in "pwrbtn: PWRBTN_STS set, cleared" "pwrbtn: one interrupt, the SCI dropped" "PWRBTN-DONE"; do
		expect_line "$l"
	done
	expect_status 0
	grep -qF "power button pressed through the control API (device 'acpi')" "$ERR" ||
		guest_fail "$m: vmmctl did not log the press"
	echo "ok: irqchip $m: vmmctl shutdown pressed the button; one SCI, cleared, S5, status 0 ($(tr -d "\r" <"$OUT" | grep "spurious$"))"
done
echo "PASS: the power button in irqchip emulated, split (pressed while paused) and kernel"
