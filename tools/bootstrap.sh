#!/bin/sh
# Install what vmm needs on Debian 12, then configure and build it.
#   tools/bootstrap.sh            build in the source tree
#   tools/bootstrap.sh --install  build, then `make install` (vmmctl in /usr/local/bin)
# Safe to run again: packages already present are not fetched twice and an
# existing configure is reused.
set -eu
cd "$(dirname "$0")/.."

# liblzma, liblz4, libzstd: vmmctl decompresses a bzImage's payload itself;
# libjson-c-dev: the control API's JSON (core/api.c);
# clang and its runtime: the libFuzzer targets; iproute2: the tap tests;
# device-tree-compiler: dtc checks the device trees core/fdt.c builds;
# qemu-system-arm: the arm64 test hosts; libseccomp-dev: vmmctl's system call filters;
# liburing-dev: the block-uring backend (optional: without it only block-file is built).
PACKAGES="build-essential autoconf automake libtool pkg-config libconfuse-dev libevent-dev
libfdt-dev libjson-c-dev libseccomp-dev libcmocka-dev zlib1g-dev liblzma-dev liblz4-dev libzstd-dev qemu-system-x86 valgrind acpica-tools busybox-static cpio xz-utils zstd
clang libclang-rt-14-dev iproute2 device-tree-compiler qemu-system-arm liburing-dev"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bootstrap: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi >/dev/null
fi
if [ ! -f Makefile ]; then
	# configure's own `rm -f core` cleanup complains about our core/
	# directory; drop just that line.
	./configure -q 2>configure.err || { cat configure.err; exit 1; }
	grep -v "cannot remove 'core'" configure.err >&2 || true
	rm -f configure.err
fi
make -s -j"$(nproc)"

if [ "${1:-}" = "--install" ]; then
	make -s install >install.log 2>&1 || { cat install.log; exit 1; }
	ldconfig
	echo "bootstrap: installed $(command -v vmmctl || echo vmmctl) (log: install.log)"
fi
