#!/bin/sh
# The harness loads a plugin exactly as vmmctl does (issue 13): each broken
# fixture is refused by both with the same line (vmmctl's "vmmctl: " and the
# harness's "harness: " prefixes aside), whether the harness is given the
# file (DIR/NAME.so, what `vmmctl -P DIR NAME` opens) or the bare name on
# $VMM_PLUGIN_PATH; a bare name is searched on the same path by both, the
# installed plugin directory last.
set -u
: "${VMM_BUILDDIR:?}"
vmmctl="$VMM_BUILDDIR/core/vmmctl"
load="$VMM_BUILDDIR/tests/harness/harness-load"
fix="$VMM_BUILDDIR/tests/fixtures/.libs"
work=$(mktemp -d /tmp/vmm-parity-XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }

# Only the fixtures' directory, so nothing else on the path can answer.
export VMM_PLUGIN_PATH="$fix"
for name in no-header bad-major newer-minor small-desc bad-kind small-ops no-entry null-entry \
	undefined-sym misnamed huge-desc huge-ops bad-name prop-default-range prop-default-enum \
	prop-duplicate prop-empty prop-reserved prop-name; do
	[ -f "$fix/$name.so" ] || { fail "$name: no $fix/$name.so"; continue; }
	if "$vmmctl" -P "$fix" plugins describe "$name" >/dev/null 2>"$work/v"; then
		fail "$name: vmmctl accepts it"
		continue
	fi
	want=$(sed -n '1s/^vmmctl: //p' "$work/v")
	for spec in "$fix/$name.so" "$name"; do
		if "$load" "$spec" 2>"$work/h"; then
			fail "$name: the harness accepts $spec, vmmctl said: $want"
			continue
		fi
		got=$(sed -n '1s/^harness: //p' "$work/h")
		[ "$got" = "$want" ] || fail "$name ($spec): harness: '$got', vmmctl: '$want'"
	done
	printf "ok: %s: %s\n" "$name" "$want"
done

# A file the harness would have loaded before: other.so that declares 'good'.
cp "$fix/good.so" "$work/other.so"
"$vmmctl" -P "$work" plugins describe other >/dev/null 2>"$work/v" && fail "vmmctl loads other.so"
"$load" "$work/other.so" 2>"$work/h" && fail "the harness loads other.so"
want=$(sed -n '1s/^vmmctl: //p' "$work/v")
got=$(sed -n '1s/^harness: //p' "$work/h")
[ "$got" = "$want" ] && echo "ok: other.so declaring 'good': $want" ||
	fail "other.so: harness: '$got', vmmctl: '$want'"
# A file not named NAME.so at all: vmmctl could never open it.
cp "$fix/good.so" "$work/good.plugin"
"$load" "$work/good.plugin" 2>"$work/h" && fail "the harness loads good.plugin"
grep -q "not named NAME.so" "$work/h" && echo "ok: $(cat "$work/h")" ||
	fail "good.plugin: $(cat "$work/h")"
# The good fixture loads in both, by file and by name.
"$vmmctl" -P "$fix" plugins describe good >/dev/null || fail "vmmctl refuses good.so"
"$load" "$fix/good.so" || fail "the harness refuses $fix/good.so"
"$load" good || fail "the harness refuses good by name"

# The search path: the same one, ending in the installed plugin directory.
"$vmmctl" plugins describe no-such-plugin >/dev/null 2>"$work/v"
"$load" no-such-plugin 2>"$work/h"
want=$(sed -n '1s/^vmmctl: //p' "$work/v")
got=$(sed -n '1s/^harness: //p' "$work/h")
case "$want" in
"no plugin named 'no-such-plugin' on the plugin path $fix:/"*) ;;
*) fail "vmmctl's search path: $want" ;;
esac
[ "$got" = "$want" ] && echo "ok: $want" || fail "search path: harness: '$got', vmmctl: '$want'"
# Where vmm is installed, both find a stock plugin by name with no path at all.
unset VMM_PLUGIN_PATH
plugindir=${want##*:}
if [ -f "$plugindir/debug-exit.so" ]; then
	"$vmmctl" plugins describe debug-exit >/dev/null || fail "vmmctl: no debug-exit in $plugindir"
	"$load" debug-exit || fail "the harness: no debug-exit in $plugindir"
	echo "ok: both find debug-exit in $plugindir"
else
	echo "(vmm is not installed in $plugindir: the installed directory is checked by its name only)"
fi
exit $status
