# tests/cli/snap-lib.sh - what snapshot.sh and migrate.sh share: the
# test machines of each irqchip mode and the helpers that start, wait for
# and stop vmmctl.  Sourced after tests/guests/guest-lib.sh; the caller
# sets FIX (the fixtures' plugin directory) and PID (the vmmctl running).

fail() {
	echo "FAIL: $*"
	for f in "$TMPD"/*.out "$TMPD"/*.err; do
		[ -s "$f" ] && { echo "--- last lines of $f"; tail -n 8 "$f"; }
	done
	[ -n "${PID:-}" ] && kill -KILL "$PID" 2>/dev/null
	exit 1
}

# conf_for MODE [EXTRA]: the machine for irqchip MODE, the UART on stdio,
# EXTRA appended (a device line).
conf_for() {
	vcpus=1
	case $1 in
	kernel) echo 'hypervisor "kvm" { irqchip = "kernel"  pit = true }' ;;
	kernel-smp) echo 'hypervisor "kvm" { irqchip = "kernel"  pit = true }'; vcpus=2 ;;
	split | split-smp) printf '%s\n' 'hypervisor "kvm" { irqchip = "split" }' 'device "pic" { plugin = "i8259" }' \
		'device "pit" { plugin = "i8254" }' 'device "ioapic" { plugin = "ioapic" }'
		[ "$1" = split ] || vcpus=2 ;;
	emulated) printf '%s\n' 'hypervisor "kvm" { irqchip = "emulated" }' 'device "pic" { plugin = "i8259" }' \
		'device "pit" { plugin = "i8254" }' ;;
	*) fail "no machine for irqchip mode $1" ;;
	esac
	printf '%s\n' 'memory = 16M' "vcpus = $vcpus" 'boot { }' \
		'device "com1" { plugin = "uart16550"  base = 0x3f8  irq = 4  chardev = "stdio" }'
	[ $# -ge 2 ] && echo "$2"
	return 0
}

# wait_for FILE PATTERN WHAT: until FILE has a line matching PATTERN
# (bounded: a hang guard, not a timing threshold).
wait_for() {
	w=0
	until grep -q "$2" "$1" 2>/dev/null; do
		[ -z "$PID" ] || kill -0 "$PID" 2>/dev/null || { wait "$PID"; s=$?; PID=; fail "$3: vmmctl ended with $s"; }
		[ $w -lt 1200 ] || fail "$3: no line matching '$2' in $1 after 120 s"
		sleep 0.1; w=$((w + 1))
	done
}

# last_whole PATTERN FILE: the last line of FILE matching PATTERN that
# the guest finished: a machine paused (snapshot) or stopped (migration)
# may have stopped in the middle of printing one ("ticks 500 co").
last_whole() {
	head -n "$(wc -l <"$2")" "$2" | grep "$1" | tail -n 1
}

# start NAME ARGS...: vmmctl ARGS in the background, serial output in
# $TMPD/NAME.out.
start() {
	OUT="$TMPD/$1.out"; ERR="$TMPD/$1.err"; shift
	"$VMMCTL" -P "$FIX" "$@" </dev/null >"$OUT" 2>"$ERR" &
	PID=$!
}

# stop_vmm SOCK NAME: vmmctl stop; the run ends with status 12.
stop_vmm() {
	"$VMMCTL" stop "$1" >/dev/null 2>"$TMPD/stop.err" || fail "$2: vmmctl stop: $(cat "$TMPD/stop.err")"
	wait "$PID"; s=$?
	PID=
	[ "$s" = 12 ] || fail "$2: stopped through the API, vmmctl ended with $s, expected 12"
}

# refused STATUS PATTERN NAME CMD...: CMD exits with STATUS and says PATTERN
# on stderr in one line.
refused() {
	want=$1 pat=$2 name=$3
	shift 3
	"$@" >"$TMPD/refused.out" 2>"$TMPD/refused.err"
	s=$?
	[ "$s" = "$want" ] || fail "$name: exit status $s, expected $want: $(cat "$TMPD/refused.err")"
	grep -q -- "$pat" "$TMPD/refused.err" || fail "$name: no '$pat' in: $(cat "$TMPD/refused.err")"
	n=$(wc -l <"$TMPD/refused.err")
	[ "$n" = 1 ] || fail "$name: $n lines on stderr, expected one: $(cat "$TMPD/refused.err")"
}

