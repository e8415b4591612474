# tests/e2e/e2e-lib.sh - the nested end-to-end test host (sourced).
#
# A first-level guest ("L1") runs Debian's cloud kernel under QEMU's TCG
# emulator with an emulated AMD CPU (SVM), loads kvm_amd from an initramfs and
# so has an ordinary /dev/kvm.  Its /init runs a list of vmmctl commands and
# reports each through the serial console between markers:
#   E2E-INIT uptime=<s>                 /init started (kernel uptime)
#   E2E-KVM ok | E2E-KVM FAIL <why>     the kvm modules are loaded, /dev/kvm works
#   E2E-BEGIN <name>                    then the run's serial output (stdout),
#   E2E-STDERR <line>                   its standard error, one line each,
#   E2E-END <name> status=<n> time=<s>  its exit status and wall time in L1
#   E2E-TIMEOUT <name> after <s>        a hung run, killed (SIGTERM, then SIGKILL)
#   E2E-ALL-DONE                        then poweroff -f (QEMU exits)
#
# Use (see nested.sh):
#   e2e_setup                        checks tools, fetches the kernel (may skip)
#   e2e_rd_add_bin SRC DEST          a binary plus every library ldd names
#   e2e_rd_add_file SRC DEST         any file (e.g. an L2 bzImage or initramfs)
#   e2e_run [-t SECS] [-x WHY] [-w LINE -i FILE] [-k LINE] [-e LINE -c CMD] [-b CMD] [-a CMD] NAME "VMMCTL ARGS" STATUS [LINE...]
#                                    one vmmctl run in L1 and what to expect:
#                                    exit STATUS, each LINE as a whole line of
#                                    its output, and no line starting "FAIL: "
#   e2e_boot                         builds the initramfs, boots L1, waits
#   e2e_check                        checks the markers; prints ok:/FAIL: lines
#
# Paths inside L1: vmmctl is /e2e/bin/vmmctl, plugins are in /e2e/plugins
# (VMM_PLUGIN_PATH), files added with e2e_rd_add_file go where DEST says
# (use /e2e/...).  VMMCTL ARGS are word-split by L1's shell (eval), so quote
# inside them as in a shell command line.
#
# Kernel cache (the .deb is fetched with apt-get download and unpacked with
# dpkg -x, never installed): $VMM_E2E_CACHE if set, else /var/cache/vmm-e2e
# as root, else ${XDG_CACHE_HOME:-$HOME/.cache}/vmm-e2e.  One directory per
# kernel meta-package holds the current versioned package unpacked; a newer
# candidate in the archive replaces it.  Without network the cached kernel is
# used; with neither the test skips.
#
# Environment knobs: E2E_QEMU (qemu-system-x86_64), E2E_CPU (EPYC),
# E2E_MEM (1024), E2E_SMP (2), E2E_TIMEOUT (overall, 300 s), E2E_APPEND
# (more L1 kernel parameters), E2E_ONLY (an extended regex: only the runs
# whose names match),
# E2E_KEEP=1 (keep the work directory and print its path).

E2E_QEMU=${E2E_QEMU:-qemu-system-x86_64}
E2E_CPU=${E2E_CPU:-EPYC}
E2E_MEM=${E2E_MEM:-1024}
E2E_SMP=${E2E_SMP:-2}
E2E_TIMEOUT=${E2E_TIMEOUT:-300}
E2E_RUN_TIMEOUT=30
E2E_L1_PKG=${E2E_L1_PKG:-linux-image-cloud-amd64}

skip() { echo "SKIP: $*"; exit 77; }

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmm-e2e.XXXXXX") || exit 99
if [ "${E2E_KEEP:-0}" = 1 ]; then
	trap 'echo "(work directory kept: $E2E_TMP)"' EXIT
else
	trap 'rm -rf "$E2E_TMP"' EXIT
fi
E2E_RD="$E2E_TMP/l1-root"       # the L1 initramfs tree
E2E_RUNS="$E2E_TMP/runs"         # name|timeout|args, read by L1's /init
E2E_EXPECT="$E2E_TMP/expect"     # name|status|line;line;..., for e2e_check
E2E_SERIAL="$E2E_TMP/l1.serial"  # L1's console
E2E_LIBDIRS=""
: >"$E2E_RUNS"; : >"$E2E_EXPECT"

e2e_now_ms() { echo $(($(date +%s%N) / 1000000)); }
e2e_secs() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }

e2e_cache_dir() {
	if [ -n "${VMM_E2E_CACHE:-}" ]; then
		echo "$VMM_E2E_CACHE"
	elif [ "$(id -u)" = 0 ]; then
		echo /var/cache/vmm-e2e
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/vmm-e2e"
	fi
}

# e2e_apt_install PKG...: installs missing Debian packages (root only).
e2e_apt_install() {
	_miss=""
	for _p in "$@"; do
		dpkg-query -W -f='${Status}' "$_p" 2>/dev/null | grep -q "install ok installed" || _miss="$_miss $_p"
	done
	[ -z "$_miss" ] && return 0
	[ "$(id -u)" = 0 ] || return 1
	command -v apt-get >/dev/null || return 1
	echo "e2e: installing:$_miss"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends $_miss >"$E2E_TMP/apt.log" 2>&1 ||
		{ apt-get update -qq >>"$E2E_TMP/apt.log" 2>&1 &&
		  apt-get install -y -qq --no-install-recommends $_miss >>"$E2E_TMP/apt.log" 2>&1; }
}

# e2e_versioned_pkg META: the versioned kernel package META depends on.
e2e_versioned_pkg() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ <>]*\)$/\1/p' | head -n 1
}

# e2e_fetch_kernel META: sets E2E_KROOT to META's kernel package unpacked in
# the cache (boot/vmlinuz-*, lib/modules/*) and E2E_KERNEL to its vmlinuz.
# Returns 1 (with E2E_WHY set) when there is neither a download nor a cache.
# Tests that run side by side (make check -j) may want the same kernel: one
# fetches it while the others wait on the cache folder's lock, then find it.
e2e_fetch_kernel() {
	_lcd="$(e2e_cache_dir)/$1"
	mkdir -p "$_lcd" 2>/dev/null || { E2E_WHY="cannot create the cache directory $_lcd"; return 1; }
	exec 8>"$_lcd/.lock"
	flock 8
	e2e_fetch_kernel_locked "$1"
	_lrc=$?
	exec 8>&-
	return $_lrc
}

e2e_fetch_kernel_locked() {
	_meta=$1
	_cdir="$(e2e_cache_dir)/$_meta"
	mkdir -p "$_cdir" 2>/dev/null || { E2E_WHY="cannot create the cache directory $_cdir"; return 1; }
	_pkg=$(e2e_versioned_pkg "$_meta")
	if [ -z "$_pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >"$E2E_TMP/apt-update.log" 2>&1
		_pkg=$(e2e_versioned_pkg "$_meta")
	fi
	_ver=""
	[ -n "$_pkg" ] && _ver=$(apt-cache show --no-all-versions "$_pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	_want="$_cdir/${_pkg}_$_ver"
	if [ -n "$_pkg" ] && [ -n "$_ver" ] && [ ! -f "$_want/.complete" ]; then
		_dl=$(mktemp -d "$_cdir/.fetch.XXXXXX") || { E2E_WHY="cannot write to $_cdir"; return 1; }
		chmod 755 "$_dl"
		if ! (cd "$_dl" && apt-get download "$_pkg=$_ver") >"$_dl/download.log" 2>&1; then
			if [ "$(id -u)" = 0 ]; then
				apt-get update -qq >>"$_dl/download.log" 2>&1
				(cd "$_dl" && apt-get download "$_pkg=$_ver") >>"$_dl/download.log" 2>&1
			fi
		fi
		_deb=$(ls "$_dl"/*.deb 2>/dev/null | head -n 1)
		if [ -n "$_deb" ] && dpkg -x "$_deb" "$_dl/root" 2>>"$_dl/download.log" &&
		   ls "$_dl"/root/boot/vmlinuz-* >/dev/null 2>&1; then
			touch "$_dl/root/.complete"
			rm -rf "$_want"
			mv "$_dl/root" "$_want"
			# older versions of this meta-package's kernel
			for _old in "$_cdir"/*_*; do
				[ "$_old" = "$_want" ] || rm -rf "$_old"
			done
			echo "e2e: fetched $_pkg $_ver into $_want"
		else
			echo "e2e: could not fetch $_pkg $_ver:"
			tail -n 5 "$_dl/download.log" | sed 's/^/  /'
		fi
		rm -rf "$_dl"
	fi
	if [ ! -f "$_want/.complete" ]; then
		# offline: any complete cached version
		_want=""
		for _d in "$_cdir"/*_*; do
			[ -f "$_d/.complete" ] && _want=$_d
		done
		if [ -z "$_want" ]; then
			E2E_WHY="cannot fetch $_meta's kernel package (${_pkg:-apt-cache names none}) from the archive and nothing is cached in $_cdir"
			return 1
		fi
		echo "e2e: using the cached $(basename "$_want") (the archive could not be reached)"
	fi
	E2E_KROOT=$_want
	E2E_KERNEL=$(ls "$_want"/boot/vmlinuz-* | head -n 1)
	return 0
}

# e2e_module KROOT NAME: the path of module NAME (.ko, .ko.xz, .ko.zst, .ko.gz).
e2e_module() {
	find "$1/lib/modules" \( -name "$2.ko" -o -name "$2.ko.*" \) 2>/dev/null | head -n 1
}

# e2e_rd_add_module KROOT NAME: NAME.ko, decompressed, into the L1 initramfs;
# /init loads modules in the order they were added.
e2e_rd_add_module() {
	_m=$(e2e_module "$1" "$2")
	[ -n "$_m" ] || { echo "FAIL: module $2 not found under $1/lib/modules"; exit 1; }
	mkdir -p "$E2E_RD/e2e/modules"
	case "$_m" in
	*.ko.xz) xz -dc "$_m" ;;
	*.ko.zst) zstd -qdc "$_m" ;;
	*.ko.gz) gzip -dc "$_m" ;;
	*) cat "$_m" ;;
	esac >"$E2E_RD/e2e/modules/$2.ko" || { echo "FAIL: cannot decompress $_m"; exit 1; }
	echo "$2" >>"$E2E_RD/e2e/modules.order"
}

# e2e_rd_add_file SRC DEST: a file into the L1 initramfs at DEST.
e2e_rd_add_file() {
	mkdir -p "$E2E_RD$(dirname "$2")"
	cp -L "$1" "$E2E_RD$2" || { echo "FAIL: cannot copy $1 into the L1 initramfs"; exit 1; }
}

# e2e_rd_add_libs FILE: every shared library ldd names for FILE (and the
# dynamic loader), at the same paths; their directories go to LD_LIBRARY_PATH.
e2e_rd_add_libs() {
	_l=$(ldd "$1" 2>/dev/null) || return 0    # static, or not an ELF
	for _lib in $(echo "$_l" | grep -o '/[^ )]*'); do
		[ -f "$E2E_RD$_lib" ] && continue
		e2e_rd_add_file "$_lib" "$_lib"
		_dir=$(dirname "$_lib")
		case ":$E2E_LIBDIRS:" in *":$_dir:"*) ;; *) E2E_LIBDIRS="$E2E_LIBDIRS${E2E_LIBDIRS:+:}$_dir" ;; esac
	done
	echo "$_l" | grep -q 'not found' && { echo "FAIL: ldd $1: a library is not found:"; echo "$_l"; exit 1; }
	return 0
}

# e2e_rd_add_bin SRC DEST: an executable or shared object and its libraries.
e2e_rd_add_bin() {
	e2e_rd_add_file "$1" "$2"
	chmod +x "$E2E_RD$2"
	e2e_rd_add_libs "$1"
}

# e2e_real_binary FILE: FILE itself when it is an ELF, else the program a
# libtool wrapper script runs (.libs/lt-NAME or .libs/NAME).
e2e_real_binary() {
	if [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; then
		echo "$1"; return
	fi
	_d=$(dirname "$1"); _b=$(basename "$1")
	for _c in "$_d/.libs/lt-$_b" "$_d/.libs/$_b"; do
		[ -f "$_c" ] && { echo "$_c"; return; }
	done
	echo "$1"
}

# e2e_run [-t SECS] [-x REASON] NAME "ARGS" STATUS [LINE...]
#   -t: the run's timeout in L1 (default 30 s; a run that times out fails,
#   unless E2E_MAX_HUNG > 0 tolerates that many as "flaky:"; L1 lock-ups
#   are detected and retried per group instead); -x: a known failure: it is
#   reported as "xfail:" with REASON and does not fail the test (a pass is
#   reported as ok with a note to remove the mark); -w LINE -i FILE: once the
#   run's output has a line containing LINE, FILE (a path inside L1) is
#   typed at vmmctl's standard input, i.e. the guest's console; -k LINE:
#   SIGKILL vmmctl as soon as its output has LINE; -e LINE -c CMD: once the
#   run's output has a line containing LINE, run shell command CMD in L1
#   while vmmctl goes on (CMD may read the output so far in /tmp/out, e.g.
#   to wait for the guest's next line; its own output is part of the
#   run's); -b CMD, -a CMD: shell
#   commands run in L1 before vmmctl starts and after it has ended (their
#   output is part of the run's, so the expected LINEs can check it, e.g. a
#   disk image seen from the host side).
e2e_run() {
	_t=$E2E_RUN_TIMEOUT _x="" _w="" _i="" _k="" _b="" _a="" _e="" _c=""
	while :; do
		case "$1" in
		-t) _t=$2; shift 2 ;;
		-x) _x=$2; shift 2 ;;
		-w) _w=$2; shift 2 ;;
		-i) _i=$2; shift 2 ;;
		-k) _k=$2; shift 2 ;;
		-e) _e=$2; shift 2 ;;
		-c) _c=$2; shift 2 ;;
		-b) _b=$2; shift 2 ;;
		-a) _a=$2; shift 2 ;;
		*) break ;;
		esac
	done
	_name=$1 _args=$2 _status=$3
	shift 3
	if [ -n "${E2E_ONLY:-}" ] && ! echo "$_name" | grep -qE -- "$E2E_ONLY"; then
		return 0
	fi
	if { [ -n "$_e" ] && [ -z "$_c" ]; } || { [ -z "$_e" ] && [ -n "$_c" ]; }; then
		echo "FAIL: e2e_run $_name: -e LINE and -c CMD go together"; exit 1
	fi
	case "$_name$_args$_w$_i$_k$_e" in *'|'*) echo "FAIL: e2e_run $_name: '|' is not allowed in its arguments"; exit 1 ;; esac
	# -b/-a/-c commands travel as files: they may hold any character.
	mkdir -p "$E2E_RD/e2e/cmd"
	rm -f "$E2E_RD/e2e/cmd/$_name.before" "$E2E_RD/e2e/cmd/$_name.after" "$E2E_RD/e2e/cmd/$_name.on"
	[ -n "$_b" ] && printf '%s\n' "$_b" >"$E2E_RD/e2e/cmd/$_name.before"
	[ -n "$_a" ] && printf '%s\n' "$_a" >"$E2E_RD/e2e/cmd/$_name.after"
	[ -n "$_c" ] && printf '%s\n' "$_c" >"$E2E_RD/e2e/cmd/$_name.on"
	printf '%s\n' "$_name|$_t|$_w|$_i|$_k|$_e|$_args" >>"$E2E_RUNS"
	[ "$_t" -gt "${E2E_GROUP_MAXT:-0}" ] && E2E_GROUP_MAXT=$_t
	_lines=""
	for _ln in "$@"; do _lines="$_lines$_ln	"; done   # TAB-separated
	echo "$_name|$_status|$_lines|$_x" >>"$E2E_EXPECT"
}

# e2e_setup: the tools and the L1 kernel; skips (77) when they are missing.
e2e_setup() {
	[ "$(uname -m)" = x86_64 ] || skip "the nested test host is x86-64 only (this is $(uname -m))"
	if ! command -v "$E2E_QEMU" >/dev/null; then
		e2e_apt_install qemu-system-x86 >/dev/null 2>&1
		command -v "$E2E_QEMU" >/dev/null || skip "$E2E_QEMU is missing (Debian package qemu-system-x86)"
	fi
	[ -x /bin/busybox ] || e2e_apt_install busybox-static
	[ -x /bin/busybox ] || skip "/bin/busybox is missing (Debian package busybox-static)"
	/bin/busybox --list | grep -qx timeout || skip "/bin/busybox has no timeout applet (need busybox-static)"
	command -v cpio >/dev/null || e2e_apt_install cpio
	command -v cpio >/dev/null || skip "cpio is missing (Debian package cpio)"
	command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
		skip "apt-get and dpkg are needed to fetch Debian's kernel"
	e2e_fetch_kernel "$E2E_L1_PKG" || skip "$E2E_WHY"
	E2E_L1_KROOT=$E2E_KROOT E2E_L1_KERNEL=$E2E_KERNEL
	for _m in irqbypass kvm kvm-amd tun; do
		case "$(e2e_module "$E2E_L1_KROOT" "$_m")" in
		*.xz) command -v xz >/dev/null || e2e_apt_install xz-utils ;;
		*.zst) command -v zstd >/dev/null || e2e_apt_install zstd ;;
		esac
	done

	rm -rf "$E2E_RD"
	mkdir -p "$E2E_RD/bin" "$E2E_RD/proc" "$E2E_RD/sys" "$E2E_RD/dev" "$E2E_RD/tmp" \
		"$E2E_RD/e2e/bin" "$E2E_RD/e2e/plugins"
	cp /bin/busybox "$E2E_RD/bin/busybox"
	: >"$E2E_RD/e2e/modules.order"
	# tun: the taps that virtio-net runs reach L1 through
	for _m in irqbypass kvm kvm-amd tun; do
		e2e_rd_add_module "$E2E_L1_KROOT" "$_m"
	done
}

# The L1 /init.
e2e_write_init() {
	cat >"$E2E_RD/init" <<'EOF'
#!/bin/busybox sh
# L1's /init (generated by tests/e2e/e2e-lib.sh)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "E2E-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
. /e2e/env
cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }   # centiseconds since boot
fin() { echo "E2E-ALL-DONE"; sync; poweroff -f; sleep 5; exit 1; }
t0=$(cs)
why=""
for m in $(cat /e2e/modules.order); do
	out=$(insmod /e2e/modules/$m.ko 2>&1) || why="$why insmod $m: $out;"
done
t1=$(cs)
echo "E2E-MODULES time=$(((t1 - t0) / 100)).$(printf %02d $(((t1 - t0) % 100)))"
[ -c /dev/kvm ] || why="$why no /dev/kvm;"
if [ -n "$why" ]; then
	echo "E2E-KVM FAIL$why"
	dmesg | tail -n 20
	fin
fi
echo "E2E-KVM ok $(grep -c ^processor /proc/cpuinfo) cpus, $(grep -o -m1 -w svm /proc/cpuinfo) nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)"
cd /e2e
while IFS='|' read -r name tmo wait input killat onwait args; do
	[ -n "$name" ] || continue
	echo "E2E-BEGIN $name"
	rm -f /tmp/hung /tmp/in /tmp/out
	: >/tmp/out
	feeder=""
	if [ -n "$input" ]; then
		# The console's input: typed once the guest says it is ready.
		mkfifo /tmp/in
		(while ! grep -q -- "$wait" /tmp/out; do sleep 0.2; done; cat "$input"; exec sleep 3600) >/tmp/in &
		feeder=$!
	fi
	[ -f "/e2e/cmd/$name.before" ] && sh "/e2e/cmd/$name.before" </dev/null 2>&1
	s=$(cs)
	if [ -n "$feeder" ]; then
		eval "exec /e2e/bin/vmmctl $args" </tmp/in >/tmp/out 2>/tmp/err &
	else
		eval "exec /e2e/bin/vmmctl $args" </dev/null >/tmp/out 2>/tmp/err &
	fi
	pid=$!
	killer=""
	if [ -n "$killat" ]; then
		(while ! grep -q -- "$killat" /tmp/out; do sleep 0.05; done; kill -KILL $pid) </dev/null &
		killer=$!
	fi
	onpid=""
	if [ -n "$onwait" ]; then
		(while ! grep -q -- "$onwait" /tmp/out; do sleep 0.2; done; exec sh "/e2e/cmd/$name.on") </dev/null 2>&1 &
		onpid=$!
	fi
	# the timeout: SIGTERM (vmmctl ends the VM cleanly), SIGKILL 5 s later
	(sleep $tmo; kill -0 $pid 2>/dev/null && touch /tmp/hung && kill -TERM $pid 2>/dev/null &&
	 echo "E2E-TIMEOUT $name after $tmo s";
	 sleep 5; kill -KILL $pid 2>/dev/null && echo "E2E-TIMEOUT $name killed") </dev/null &
	wd=$!
	wait $pid
	st=$?
	kill $wd 2>/dev/null
	[ -n "$feeder" ] && kill $feeder 2>/dev/null
	[ -n "$killer" ] && kill $killer 2>/dev/null
	[ -n "$onpid" ] && kill $onpid 2>/dev/null
	e=$(cs)
	cat /tmp/out
	sed 's/^/E2E-STDERR /' /tmp/err
	[ -f "/e2e/cmd/$name.after" ] && sh "/e2e/cmd/$name.after" </dev/null 2>&1
	d=$((e - s))
	echo "E2E-END $name status=$st time=$((d / 100)).$(printf %02d $((d % 100)))"
done </e2e/runs
fin
EOF
	chmod +x "$E2E_RD/init"
	{
		echo "export VMM_PLUGIN_PATH=/e2e/plugins"
		echo "export LD_LIBRARY_PATH=$E2E_LIBDIRS"
	} >"$E2E_RD/e2e/env"
	cp "$E2E_RUNS" "$E2E_RD/e2e/runs"
}

# e2e_boot: packs the initramfs and boots L1; sets E2E_BOOT_STATUS (0, or
# "timeout", or qemu's exit status) and the times E2E_T_INIT, E2E_T_TOTAL (ms).
e2e_boot() {
	e2e_write_init
	_t=$(e2e_now_ms)
	(cd "$E2E_RD" && find . | cpio -o -H newc --quiet | gzip -1) >"$E2E_TMP/l1-initrd.gz" ||
		{ echo "FAIL: cannot pack the L1 initramfs"; exit 1; }
	E2E_T_PACK=$(($(e2e_now_ms) - _t))
	echo "e2e: L1 initramfs $(($(wc -c <"$E2E_TMP/l1-initrd.gz") / 1024)) KiB (packed in $(e2e_secs $E2E_T_PACK) s), kernel $(basename "$E2E_L1_KERNEL")"
	: >"$E2E_SERIAL"
	_start=$(e2e_now_ms)
	"$E2E_QEMU" -accel tcg -cpu "$E2E_CPU" -m "$E2E_MEM" -smp "$E2E_SMP" \
		-nodefaults -no-user-config -display none -no-reboot -net none \
		-serial "file:$E2E_SERIAL" \
		-kernel "$E2E_L1_KERNEL" -initrd "$E2E_TMP/l1-initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 mitigations=off ${E2E_APPEND:-}" \
		</dev/null >"$E2E_TMP/qemu.out" 2>&1 &
	_qpid=$!
	E2E_T_INIT=""
	E2E_BOOT_STATUS=""
	# A live L1 prints within a run's timeout (+5 s to the SIGKILL): a
	# console silent for longer is a frozen L1, even without an RCU stall
	# message (seen under load: both CPUs stopped for good).
	_silence=$(( (${E2E_GROUP_MAXT:-$E2E_RUN_TIMEOUT} + 30) * 1000 ))
	_size=0 _changed=$(e2e_now_ms)
	while :; do
		_now=$(e2e_now_ms)
		_s=$(wc -c <"$E2E_SERIAL")
		if [ "$_s" != "$_size" ]; then
			_size=$_s _changed=$_now
		elif [ $((_now - _changed)) -ge "$_silence" ]; then
			echo "rcu: INFO: (vmm e2e) L1's console silent for $((_silence / 1000)) s" >>"$E2E_SERIAL"
			kill $_qpid 2>/dev/null; wait $_qpid
			E2E_BOOT_STATUS=lockup
			break
		fi
		if [ -z "$E2E_T_INIT" ] && grep -q '^E2E-INIT' "$E2E_SERIAL"; then
			E2E_T_INIT=$((_now - _start))
		fi
		if ! kill -0 $_qpid 2>/dev/null; then
			wait $_qpid; E2E_BOOT_STATUS=$?
			break
		fi
		if [ $((_now - _start)) -ge $((E2E_TIMEOUT * 1000)) ]; then
			kill $_qpid 2>/dev/null; wait $_qpid
			E2E_BOOT_STATUS=timeout
			break
		fi
		# L1's own kernel saying a CPU or a task is stuck: kvm_amd under
		# QEMU's emulated SVM locks up now and then (README).  Seen too: a
		# vmmctl that a run's timeout SIGKILLed stays in L1's kernel and
		# khugepaged blocks behind it ("INFO: task ... blocked"); those
		# messages keep the console from going silent.  Waiting out the
		# timeout would only burn CI time.
		if grep -qE 'rcu: INFO: rcu_preempt detected stalls|soft lockup - CPU|INFO: task .* blocked for more than' "$E2E_SERIAL"; then
			kill $_qpid 2>/dev/null; wait $_qpid
			E2E_BOOT_STATUS=lockup
			break
		fi
		sleep 0.1
	done
	E2E_T_TOTAL=$(($(e2e_now_ms) - _start))
	tr -d '\r' <"$E2E_SERIAL" >"$E2E_TMP/l1.log"
	[ -z "$E2E_T_INIT" ] && grep -q '^E2E-INIT' "$E2E_TMP/l1.log" && E2E_T_INIT=$E2E_T_TOTAL
}

E2E_FAILED=0
E2E_CHECKED=0   # runs checked, over all groups
E2E_HUNG=0
E2E_MAX_HUNG=${E2E_MAX_HUNG:-0}  # L1 lock-ups are caught whole (e2e_boot_group); a run
				  # that times out on its own is a failure
e2e_fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	echo "FAIL: $1"
	echo "--- last 30 lines of $2 ---"
	tail -n 30 "$3"
	echo "---"
}

# e2e_check: checks the markers in L1's console log.
e2e_check() {
	_log="$E2E_TMP/l1.log"
	if [ "$E2E_BOOT_STATUS" = lockup ]; then
		e2e_fail "L1 locked up (RCU stall or soft lockup on its console; qemu killed)" "L1's console" "$_log"
	elif [ "$E2E_BOOT_STATUS" = timeout ]; then
		e2e_fail "L1 did not finish within ${E2E_TIMEOUT}s (qemu killed)" "L1's console" "$_log"
	elif [ "$E2E_BOOT_STATUS" != 0 ]; then
		e2e_fail "qemu exited with status $E2E_BOOT_STATUS" "qemu's output" "$E2E_TMP/qemu.out"
	fi
	_up=$(sed -n 's/^E2E-INIT uptime=//p' "$_log" | head -n 1)
	if [ -z "$_up" ]; then
		e2e_fail "L1 never reached its /init" "L1's console" "$_log"
		return
	fi
	echo "ok: L1 reached /init after $(e2e_secs "$E2E_T_INIT") s wall time (kernel uptime $_up s)"
	_kvm=$(grep -m1 '^E2E-KVM ' "$_log")
	case "$_kvm" in
	"E2E-KVM ok"*) echo "ok: /dev/kvm in L1 ($(sed -n 's/^E2E-MODULES time=//p' "$_log") s to load $(tr '\n' ' ' <"$E2E_RD/e2e/modules.order")): ${_kvm#E2E-KVM ok }" ;;
	*) e2e_fail "kvm in L1: ${_kvm:-no E2E-KVM marker}" "L1's console" "$_log"; return ;;
	esac
	while IFS='|' read -r _name _status _lines _xfail; do
		E2E_CHECKED=$((E2E_CHECKED + 1))
		_sec="$E2E_TMP/run-$_name.log"
		# the run's section of the console
		awk -v b="E2E-BEGIN $_name" -v e="E2E-END $_name " '
			$0 == b { on = 1; n = 0 } on { sec[n++] = $0 } on && index($0, e) == 1 { on = 0; last = n }
			END { if (on) last = n; for (i = 0; i < last; i++) print sec[i] }' "$_log" >"$_sec"

		_end=$(grep "^E2E-END $_name " "$_sec")
		if [ -z "$_end" ]; then
			if [ -s "$_sec" ]; then
				e2e_fail "$_name: no E2E-END marker (L1 stopped during the run)" "$_name's output" "$_sec"
			else
				e2e_fail "$_name: never started" "L1's console" "$_log"
			fi
			continue
		fi
		_st=$(echo "$_end" | sed -n 's/.* status=\([0-9]*\).*/\1/p')
		_time=$(echo "$_end" | sed -n 's/.* time=\([0-9.]*\).*/\1/p')
		_bad=""
		if [ "$_st" != "$_status" ]; then
			_bad="exit status $_st, expected $_status"
			[ "$_st" = 143 ] && _bad="$_bad (timed out after $(grep "^$_name|" "$E2E_RUNS" | cut -d'|' -f2) s)"
		fi
		if [ -z "$_bad" ] && grep -q '^FAIL: ' "$_sec"; then _bad="the guest reported a failure"; fi
		_n=0
		_old_ifs=$IFS; IFS='	'
		for _l in $_lines; do
			[ -n "$_bad" ] && break
			grep -qxF -- "$_l" "$_sec" || _bad="no line '$_l' in the output"
			_n=$((_n + 1))
		done
		IFS=$_old_ifs
		if [ -n "$_bad" ] && grep -q "^E2E-TIMEOUT $_name " "$_sec" &&
		   [ "$E2E_HUNG" -lt "$E2E_MAX_HUNG" ]; then
			# L1's kernel sometimes locks up in KVM_RUN (soft lockup, RCU
			# stall on the console): tolerated up to E2E_MAX_HUNG times
			E2E_HUNG=$((E2E_HUNG + 1))
			echo "flaky: $_name hung in L1 ($_bad); tolerated ($E2E_HUNG of at most $E2E_MAX_HUNG, E2E_MAX_HUNG=0 makes it fail):"
			grep -v '^E2E-\(BEGIN\|END\) ' "$_sec" | tail -n 5 | sed 's/^/  | /'
		elif [ -n "$_bad" ] && [ -n "$_xfail" ]; then
			echo "xfail: $_name: $_bad (${_time} s in L1); known failure: $_xfail"
			grep -v '^E2E-\(BEGIN\|END\) ' "$_sec" | tail -n 5 | sed 's/^/  | /'
		elif [ -n "$_bad" ]; then
			e2e_fail "$_name: $_bad" "$_name's output" "$_sec"
		else
			# Figures a run may report: vmmctl's own set-up (--stats) and
			# a stock guest's time to /init by its own clock.
			_fig=""
			_setup=$(sed -n 's/^E2E-STDERR setup: \([0-9.]*\) ms.*/\1/p' "$_sec" | head -n 1)
			[ -n "$_setup" ] && _fig="$_fig, vmmctl set-up ${_setup} ms"
			_init=$(sed -n 's/^L2-INIT uptime=\([0-9.]*\).*/\1/p' "$_sec" | head -n 1)
			[ -n "$_init" ] && _fig="$_fig, guest /init at ${_init} s"
			echo "ok: $_name: status $_st, $_n expected lines, ${_time} s in L1$_fig${_xfail:+ (marked as a known failure but passed: remove the -x mark)}"
		fi
	done <"$E2E_EXPECT"
	if ! grep -q '^E2E-ALL-DONE' "$_log"; then
		e2e_fail "no E2E-ALL-DONE marker" "L1's console" "$_log"
	fi
	echo "e2e: L1 total $(e2e_secs "$E2E_T_TOTAL") s wall time from qemu start to its exit"
}

# Runs are booted in groups, one L1 each, so that an L1 lock-up costs one
# group.  e2e_group starts a new group; e2e_boot_group boots it, and boots it
# once more if L1 locked up; a group that locks up twice is counted in
# E2E_LOCKED_GROUPS and not checked (nested.sh reports it).
E2E_LOCKED_GROUPS=""
e2e_group() {
	E2E_GROUP=$1
	E2E_GROUP_MAXT=0
	: >"$E2E_RUNS"
	: >"$E2E_EXPECT"
	E2E_TIMEOUT=${E2E_BASE_TIMEOUT:-120}
}

e2e_boot_group() {
	for _attempt in 1 2; do
		e2e_boot
		[ "$E2E_BOOT_STATUS" = lockup ] || break
		echo "e2e: L1 locked up in group $E2E_GROUP (attempt $_attempt): $(grep -m1 -E 'rcu: INFO|soft lockup|INFO: task .* blocked' "$E2E_TMP/l1.log")"
		# Where it was: the run it was in and its last console lines, so
		# repeated lock-ups can be told apart.
		echo "e2e: last run begun: $(grep '^E2E-BEGIN ' "$E2E_TMP/l1.log" | tail -n 1)"
		tail -n 8 "$E2E_TMP/l1.log" | sed 's/^/e2e:   | /'
	done
	if [ "$E2E_BOOT_STATUS" = lockup ]; then
		E2E_LOCKED_GROUPS="$E2E_LOCKED_GROUPS $E2E_GROUP"
		return
	fi
	echo "e2e: group $E2E_GROUP"
	e2e_check
}

# e2e_arm64_archive: makes the archive's arm64 packages reachable (adds the
# arm64 architecture to dpkg once, as root): the arm64 tests fetch their
# kernel and busybox from there.  Returns 1 with E2E_WHY set when it cannot.
e2e_arm64_archive() {
	dpkg --print-foreign-architectures 2>/dev/null | grep -qx arm64 && return 0
	[ "$(id -u)" = 0 ] || { E2E_WHY="dpkg has no arm64 architecture and adding it needs root"; return 1; }
	dpkg --add-architecture arm64 && apt-get update -qq >"$E2E_TMP/apt-update.log" 2>&1 ||
		{ E2E_WHY="cannot add the arm64 architecture to dpkg"; return 1; }
}

# e2e_fetch_arm64_busybox: sets E2E_BUSYBOX to a static arm64 busybox,
# busybox-static:arm64 unpacked (never installed) into the cache.  Returns 1
# with E2E_WHY set when it can be neither fetched nor found there.
e2e_fetch_arm64_busybox() {
	_bb="$(e2e_cache_dir)/busybox-static-arm64"
	mkdir -p "$_bb" || { E2E_WHY="cannot create $_bb"; return 1; }
	exec 8>"$_bb/.lock"
	flock 8   # as e2e_fetch_kernel: one test fetches, the others wait
	if [ ! -x "$_bb/bin/busybox" ]; then
		mkdir -p "$_bb/dl" || { E2E_WHY="cannot create $_bb"; return 1; }
		(cd "$_bb/dl" && apt-get download busybox-static:arm64) >"$E2E_TMP/bb.log" 2>&1 &&
			dpkg -x "$_bb"/dl/busybox-static_*.deb "$_bb" 2>>"$E2E_TMP/bb.log"
		rm -rf "$_bb/dl"
	fi
	exec 8>&-
	[ -x "$_bb/bin/busybox" ] ||
		{ E2E_WHY="cannot fetch busybox-static:arm64 ($(tail -n 1 "$E2E_TMP/bb.log"))"; return 1; }
	E2E_BUSYBOX="$_bb/bin/busybox"
}
