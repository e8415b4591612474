#!/bin/sh
# tools/cross-arm64.sh - cross-build vmmctl, its plugins and the test
# programs for aarch64 (Debian's gcc-aarch64-linux-gnu and :arm64 libraries)
# into build-arm64/, for the nested arm64 test host (tests/e2e).
#   tools/cross-arm64.sh          install what is missing, configure, build
# Safe to run again.  Prints the build folder's path last.
#
# Two of the -dev packages cannot be installed beside their amd64 twins in
# bookworm: installing libevent-dev:arm64 or libfdt-dev:arm64 removes the
# amd64 one (they are not Multi-Arch: same).  So those two are unpacked into
# a private sysroot instead (their runtime libraries are multi-arch and
# install normally), and pkg-config is pointed at it; nothing of the amd64
# build is touched.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
BUILD=${VMM_ARM64_BUILD:-$top/build-arm64}
SYSROOT=${VMM_ARM64_SYSROOT:-$BUILD/sysroot}
MA=aarch64-linux-gnu

PACKAGES="gcc-$MA libc6-dev:arm64 libconfuse-dev:arm64 libcmocka-dev:arm64 zlib1g-dev:arm64
libevent-core-2.1-7:arm64 libevent-pthreads-2.1-7:arm64 libevent-extra-2.1-7:arm64 libfdt1:arm64 libseccomp-dev:arm64
libjson-c-dev:arm64"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "cross-arm64: adding the arm64 architecture to dpkg"
	dpkg --add-architecture arm64
	apt-get update -qq
fi
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "cross-arm64: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
fi

# The private sysroot: libevent-dev and libfdt-dev for arm64, unpacked.
if [ ! -f "$SYSROOT/.done" ]; then
	rm -rf "$SYSROOT" && mkdir -p "$SYSROOT/debs"
	(cd "$SYSROOT/debs" && apt-get download libevent-dev:arm64 libfdt-dev:arm64 >/dev/null 2>&1) ||
		{ echo "cross-arm64: apt-get download libevent-dev:arm64 libfdt-dev:arm64 failed" >&2; exit 1; }
	for d in "$SYSROOT"/debs/*.deb; do dpkg -x "$d" "$SYSROOT"; done
	# The .pc files say prefix=/usr, and the lib*.so links point at the
	# runtime libraries, which live in the system's multiarch folder.
	sed -i "s|^prefix=/usr\$|prefix=$SYSROOT/usr|" "$SYSROOT"/usr/lib/$MA/pkgconfig/*.pc
	for l in "$SYSROOT"/usr/lib/$MA/*.so; do
		[ -L "$l" ] && ln -sf "/usr/lib/$MA/$(readlink "$l")" "$l"
	done
	touch "$SYSROOT/.done"
fi

# A VPATH build needs an unconfigured source folder, and this one may be
# configured in place (tools/bootstrap.sh): build from a copy of the sources,
# the files git tracks (make check may be running here: no make in this
# tree), or in a release tarball's folder what make dist shipped.
mkdir -p "$BUILD"
if [ -d .git ] || [ -f .git ]; then
	new=$(git ls-files -s | git hash-object --stdin)$(git diff HEAD | git hash-object --stdin)
	if [ "$(cat "$BUILD/src.stamp" 2>/dev/null)" != "$new" ]; then
		rm -rf "$BUILD/src" && mkdir -p "$BUILD/src"
		git ls-files -z | tar --null -T - -cf - | tar -C "$BUILD/src" -xf -
		(cd "$BUILD/src" && autoreconf -fi >/dev/null 2>&1)
		echo "$new" >"$BUILD/src.stamp"
	fi
elif [ ! -f "$BUILD/src/configure" ]; then
	[ -f Makefile ] || ./configure -q 2>/dev/null
	make -s distdir distdir="$BUILD/src" >/dev/null
fi
cd "$BUILD/src"
# Run from a test under make check, the outer make's command-line
# variables (TEST_LOGS, ...) would reach this build through MAKEFLAGS.
unset MAKEFLAGS MFLAGS MAKELEVEL
export PKG_CONFIG_LIBDIR="$SYSROOT/usr/lib/$MA/pkgconfig:/usr/lib/$MA/pkgconfig:/usr/share/pkgconfig"
if [ ! -f Makefile ]; then
	# libfdt has no .pc file in bookworm: its folder goes in by hand.
	./configure -q --host=$MA --prefix=/usr/local PKG_CONFIG=pkg-config FUZZ_CC=false \
		CPPFLAGS="-I$SYSROOT/usr/include" LDFLAGS="-L$SYSROOT/usr/lib/$MA" \
		2>configure.err || { cat configure.err; exit 1; }
	grep -v "cannot remove 'core'" configure.err >&2 || true
fi
make -s -j"$(nproc)"
make -s -j"$(nproc)" check TESTS= >/dev/null
echo "cross-arm64: built in $BUILD/src"
