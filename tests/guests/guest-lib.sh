# tests/guests/guest-lib.sh - shared by the guest test scripts (sourced).
# Environment (AM_TESTS_ENVIRONMENT): VMM_BUILDDIR, VMM_SRCDIR,
# VMM_PLUGIN_PATH, QEMU_X86.

: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set (run through make check)}"
: "${VMM_SRCDIR:?VMM_SRCDIR is not set (run through make check)}"

GUESTS="$VMM_BUILDDIR/tests/guests"
VMMCTL="$VMM_BUILDDIR/core/vmmctl"
GUEST_TIMEOUT=60

skip() { echo "SKIP: $*"; exit 77; }

# Guests run on /dev/kvm: needs root (or a usable /dev/kvm) on a KVM host.
require_kvm() {
	if [ "$(id -u)" != 0 ]; then
		skip "needs root and /dev/kvm (not running as root)"
	fi
	if [ ! -c /dev/kvm ]; then
		skip "needs root and /dev/kvm (/dev/kvm does not exist)"
	fi
	if ! (exec 3<>/dev/kvm) 2>/dev/null; then
		skip "needs root and /dev/kvm (/dev/kvm cannot be opened)"
	fi
}

require_file() {
	[ -f "$1" ] || { echo "FAIL: $1 is missing (run make first)"; exit 1; }
}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/vmm-guest-test.XXXXXX") || exit 99
trap 'rm -rf "$TMPD"' EXIT

# run_guest NAME COMMAND...: runs COMMAND with a timeout; serial output (the
# command's stdout) goes to $TMPD/NAME.out, stderr to $TMPD/NAME.err and the
# exit status to $STATUS.
run_guest() {
	name=$1; shift
	OUT="$TMPD/$name.out"; ERR="$TMPD/$name.err"
	# -k: a vmmctl that ignores the TERM must not hang the suite
	timeout -k 10 "$GUEST_TIMEOUT" "$@" >"$OUT" 2>"$ERR" </dev/null
	STATUS=$?
}

guest_fail() {
	echo "FAIL: $*"
	echo "--- last 20 lines of guest output ($OUT) ---"
	tail -n 20 "$OUT"
	if [ -s "$ERR" ]; then
		echo "--- last 20 lines of stderr ---"
		tail -n 20 "$ERR"
	fi
	[ "$STATUS" = 124 ] && echo "(timed out after ${GUEST_TIMEOUT}s)"
	exit 1
}

# expect_line TEXT: a whole line of the serial output equals TEXT (a
# trailing CR is ignored).
expect_line() {
	tr -d '\r' <"$OUT" | grep -qxF -- "$1" || guest_fail "no line '$1' in the output"
}

expect_status() {
	[ "$STATUS" = "$1" ] || guest_fail "exit status $STATUS, expected $1"
}

expect_no_fail() {
	if grep -q '^FAIL: ' "$OUT"; then
		guest_fail "the guest reported a failure"
	fi
}

# wait_gone PID: waits, 60 s at most, for the background process PID to
# end; 1 when it still runs then.
wait_gone() {
	_w=0
	while kill -0 "$1" 2>/dev/null; do
		[ $_w -lt 600 ] || return 1
		sleep 0.1; _w=$((_w + 1))
	done
}

# have_plugin NAME: NAME.so is in a directory of $VMM_PLUGIN_PATH.
have_plugin() {
	_old_ifs=$IFS; IFS=:
	for _d in $VMM_PLUGIN_PATH; do
		if [ -n "$_d" ] && [ -f "$_d/$1.so" ]; then
			IFS=$_old_ifs; return 0
		fi
	done
	IFS=$_old_ifs
	return 1
}

# require_plugins NAME...: skip (77) unless every plugin is built.
require_plugins() {
	for _p in "$@"; do
		have_plugin "$_p" || skip "plugin $_p not built yet (no $_p.so in VMM_PLUGIN_PATH=$VMM_PLUGIN_PATH)"
	done
}

# run_restarts KERNEL CONF LOG MARKER [ARGS...]: runs vmmctl on CONF (an
# on-reset = "restart" machine whose serial log, appended across boots, is
# LOG) until MARKER has shown in LOG three times, then sends SIGTERM.  Sets
# $boots (lines with MARKER) and $STATUS; vmmctl's stderr is in $ERR.
run_restarts() {
	_kernel=$1 _conf=$2 _log=$3 _marker=$4
	shift 4
	ERR="$TMPD/restart.err"; OUT=$_log
	"$VMMCTL" run "$@" --kernel "$_kernel" "$_conf" </dev/null >/dev/null 2>"$ERR" &
	_pid=$!
	boots=0 _waited=0
	while [ "$boots" -lt 3 ] && [ $_waited -lt 200 ] && kill -0 $_pid 2>/dev/null; do
		sleep 0.1; _waited=$((_waited + 1))
		# grep -c prints 0 itself when the log has no marker yet (and
		# fails): "|| echo 0" made that "0 0", which ended the wait.
		boots=$(grep -c "$_marker" "$_log" 2>/dev/null)
		boots=${boots:-0}
	done
	kill -TERM $_pid 2>/dev/null
	# A vmmctl that lost the signal would loop forever: never wait unbounded.
	_waited=0
	while kill -0 $_pid 2>/dev/null && [ $_waited -lt 100 ]; do sleep 0.1; _waited=$((_waited + 1)); done
	if kill -0 $_pid 2>/dev/null; then
		kill -KILL $_pid
		echo "FAIL: on-reset = restart: vmmctl ignored SIGTERM for 10 s"
		exit 1
	fi
	wait $_pid; STATUS=$?
}
