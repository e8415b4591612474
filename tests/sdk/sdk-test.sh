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

if [ "$(id -u)" != 0 ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: guest part needs root and /dev/kvm"
	exit 0
fi
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
