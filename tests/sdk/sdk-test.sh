#!/bin/sh
# The SDK seed: install into a scratch prefix, build a device plugin outside
# the tree with only `pkg-config --cflags vmm-plugin`, and load it into the
# installed vmmctl.  The guest part needs root and /dev/kvm; the rest does not.
set -u
: "${VMM_BUILDDIR:?}" "${VMM_SRCDIR:?}"
work=$(mktemp -d /tmp/vmm-sdk-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

make -s -C "$VMM_BUILDDIR" install DESTDIR="$work/root" >"$work/install.log" 2>&1 ||
	{ tail -20 "$work/install.log"; fail "make install DESTDIR failed"; }
pcdir=$(dirname "$(find "$work/root" -name vmm-plugin.pc | head -1)")
[ -n "$pcdir" ] || fail "vmm-plugin.pc was not installed"
cflags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$work/root" pkg-config --cflags vmm-plugin) ||
	fail "pkg-config --cflags vmm-plugin failed"
echo "pkg-config --cflags vmm-plugin: $cflags"

mkdir -p "$work/plugins"
# Outside the tree: nothing from the source directory but the plugin's own file.
cp "$VMM_SRCDIR/tests/sdk/sdk-example.c" "$work/"
${CC:-cc} -std=c11 -Wall -Wextra -Wno-unused-parameter -Werror $cflags -shared -o "$work/plugins/sdk-example.so" \
	"$work/sdk-example.c" || fail "the example plugin does not build against the installed SDK"

vmmctl=$(find "$work/root" -path '*/bin/vmmctl' | head -1)
plugdir=$(dirname "$(find "$work/root" -name kvm.so | head -1)")
export VMM_PLUGIN_PATH="$work/plugins:$plugdir"
out=$("$vmmctl" plugins describe sdk-example) || fail "vmmctl cannot load the plugin: $out"
echo "$out" | grep -q "port" || fail "describe does not show the port property: $out"
echo "ok: installed vmmctl loads the out-of-tree plugin"

# The author's kit (issue 13), from the staging install alone.
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$work/root"
libs=$(pkg-config --libs vmm-harness) || fail "pkg-config --libs vmm-harness failed"
echo "pkg-config --libs vmm-harness: $libs"
case " $libs " in *" -lvmm-harness "*) ;; *) fail "vmm-harness.pc links no -lvmm-harness: $libs" ;; esac
libdir=$(dirname "$(find "$work/root" -name 'libvmm-harness.so' | head -1)")
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
docdir=$(dirname "$(find "$work/root" -path '*/examples/ticker.c' | head -1)")
docdir=${docdir%/examples}
[ -d "$docdir" ] || fail "no examples installed"
mandir=$(dirname "$(dirname "$(find "$work/root" -name vmm-plugin.7 | head -1)")")
[ -f "$mandir/man7/vmm-plugin.7" ] || fail "vmm-plugin(7) was not installed"

# Man pages: no placeholder and no path into the source tree; the paths they
# name are installed (in the staging root).
checked=0
for page in "$mandir/man1/vmmctl.1" "$mandir/man5/vmm.conf.5" "$mandir/man7/vmm-plugin.7"; do
	bad=$(grep -nE '@[a-z]+@|PKGDATADIR|README\.md|(devices|plugins|tests)/[a-z0-9-]+/' "$page") &&
		fail "$(basename "$page") shows placeholders or source paths: $bad"
	# (paths under the installed doc, data and plugin directories)
	for dir in "${docdir#"$work/root"}" "${plugdir#"$work/root"}" \
		"$(dirname "${docdir#"$work/root"}")/../vmm"; do
		dir=$(echo "$dir" | sed 's|/doc/\.\./|/|')
		for path in $(sed 's/\\-/-/g' "$page" | grep -oE "$dir[A-Za-z0-9/._-]*" | sed 's/[.,]$//' | sort -u); do
			[ -e "$work/root$path" ] || fail "$(basename "$page") names $path, not installed"
			checked=$((checked + 1))
		done
	done
done
for f in devices/uart16550.md devices/virtio-blk.md devices/debug-exit.md plugins/net-tap.md \
	examples/Makefile examples/guest.ld examples/pvh-start.S; do
	[ -f "$docdir/$f" ] || fail "$docdir/$f is not installed"
done
[ "$checked" -ge 5 ] || fail "the man pages name only $checked installed paths"
echo "ok: man pages name installed paths only ($checked); device READMEs and examples installed"

# Every example in vmm-plugin(7) compiles: the plugin snippets as one plugin
# (loaded by vmmctl), the harness snippet as a test of the installed example.
extract() {
	awk -v kind="$1" '
		$0 == ".\\\" example: " kind { want = 1; next }
		want && $0 == ".EX" { inex = 1; next }
		inex && $0 == ".EE" { inex = 0; want = 0; next }
		inex { gsub(/\\e/, "\\"); gsub(/\\-/, "-"); print }
	' "$mandir/man7/vmm-plugin.7"
}
mkdir -p "$work/man"
{
	printf '#include <errno.h>\n#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n'
	printf '#include <stdlib.h>\n#include <string.h>\n#include <vmm/device.h>\n#include <vmm/backend.h>\n'
	extract plugin
} >"$work/man/mydev.c"
{
	printf '#include <setjmp.h>\n#include <stdarg.h>\n#include <stddef.h>\n#include <stdint.h>\n'
	printf '#include <cmocka.h>\n#include <vmm/harness.h>\n'
	extract test
} >"$work/man/test-man.c"
[ "$(grep -c . "$work/man/mydev.c")" -gt 100 ] || fail "no plugin examples found in vmm-plugin(7)"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -Wno-unused-function -Wno-unused-const-variable $cflags \
	-shared -o "$work/man/mydev.so" "$work/man/mydev.c" ||
	fail "the plugin examples of vmm-plugin(7) do not compile"
"$vmmctl" -P "$work/man" plugins describe mydev >/dev/null || fail "vmmctl refuses the man page's mydev.so"
${CC:-cc} -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags cmocka vmm-harness) -o "$work/man/test-man" \
	"$work/man/test-man.c" $(pkg-config --libs cmocka vmm-harness) ||
	fail "the harness example of vmm-plugin(7) does not compile"
echo "ok: vmm-plugin(7)'s examples compile; vmmctl loads its plugin"

# The installed examples, copied out and built with their Makefile: plugin,
# unit tests on the installed harness (then the man page's test too), guest.
cp -r "$docdir/examples" "$work/ex"
make -s -C "$work/ex" ticker.so test-ticker >"$work/ex.log" 2>&1 ||
	{ cat "$work/ex.log"; fail "the installed examples do not build"; }
# The guest is x86 code, like the project's own test guests.
if [ "$(uname -m)" = x86_64 ]; then
	make -s -C "$work/ex" guest.elf >"$work/ex.log" 2>&1 ||
		{ cat "$work/ex.log"; fail "the installed example guest does not build"; }
	readelf -lW "$work/ex/guest.elf" | grep -q 'LOAD .* 0x00100000 0x00100000' ||
		fail "the example guest's segment is not at 1 MiB: $(readelf -lW "$work/ex/guest.elf")"
fi
make -s -C "$work/ex" check >"$work/ex.log" 2>&1 || { cat "$work/ex.log"; fail "the installed example's tests fail"; }
grep -q "PASSED.*4 test" "$work/ex.log" || { cat "$work/ex.log"; fail "test-ticker did not pass 4 tests"; }
VMM_PLUGIN_PATH="$work/ex" "$work/man/test-man" >"$work/ex.log" 2>&1 ||
	{ cat "$work/ex.log"; fail "vmm-plugin(7)'s harness example fails on the example plugin"; }
echo "ok: the installed examples build out of tree and their tests pass"

if [ "$(id -u)" != 0 ] || [ ! -w /dev/kvm ] || [ "$(uname -m)" != x86_64 ]; then
	echo "SKIP: guest part needs root, /dev/kvm and x86-64"
	exit 0
fi
make -s -C "$work/ex" run VMMCTL="$vmmctl" >"$work/ex.log" 2>&1 ||
	{ cat "$work/ex.log"; fail "the installed example guest did not end with status 43"; }
echo "ok: the installed example guest ran on the example plugin (status 43)"
cat >"$work/sdk.conf" <<CONF
memory = 4M
hypervisor "kvm" { }
device "example" { plugin = "sdk-example" port = 0x510 }
device "exit" { plugin = "debug-exit" }
CONF
# real mode: mov dx,0x510; mov al,0xd2; out dx,al; in al,dx; mov dx,0xf4; out dx,al; hlt
printf '\272\020\005\260\322\356\354\272\364\000\356\364' >"$work/guest.bin"
"$vmmctl" run --format flat --kernel "$work/guest.bin" "$work/sdk.conf"
status=$?
# the guest reads back ~0xd2 = 0x2d; debug-exit: (0x2d << 1) | 1 = 91 (a value
# of 63 or more would give 127, whatever it was)
[ "$status" = 91 ] || fail "guest exit status $status, expected 91"
echo "ok: the guest used the out-of-tree device (status $status)"
