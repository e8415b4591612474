#!/bin/sh
# tests/e2e/mk-l2-initramfs.sh - builds the initramfs for a stock Linux
# guest ("L2") that vmmctl boots inside the nested test host.
#   mk-l2-initramfs.sh [--exit reset|poweroff|debug-exit|shell] [--modules KROOT]...
#                      [--busybox FILE] [--console TTY] OUT.cpio.gz
# --busybox: the static busybox to use (default /bin/busybox; an arm64 one
# for an arm64 guest); --console: the serial port's tty (default ttyS0;
# ttyAMA0 is a pl011).  Its /init (busybox) prints, on the console:
#   L2-INIT uptime=<s>
#   L2-TIMER-OK                 /proc/uptime advanced across a 1 s sleep
#   L2-TIMER-IRQ <a> -> <b>     with an arm64 architected timer: its count in
#                               /proc/interrupts (all CPUs) before and after
#   L2-CPUS <n>                 processors in /proc/cpuinfo
#   L2-RTC <date> <time>        from /proc/driver/rtc (or hwclock -r), then
#   L2-RTC-OK                   when the year is 2000 or later
#   L2-DONE
# With `l2.hyperv` on the kernel command line, before L2-DONE, the Hyper-V
# enlightenments (the hyperv plugin, machines/x86-hyperv.conf):
#   L2-HV-DETECTED              the boot log says "Hypervisor detected:
#                               Microsoft Hyper-V"
#   L2-HV-CLOCKSOURCE <name>    the current clocksource, then
#   L2-HV-TSC-PAGE-OK           when it is hyperv_clocksource_tsc_page
#   L2-HV-STIMER <a> -> <b>     the Hyper-V stimer0 interrupts (/proc/interrupts
#                               HVS, all CPUs) before and after a 1 s sleep,
#   L2-HV-STIMER-OK             when they rose (the synthetic timer is the
#                               clock event device)
#   L2-DMESG <line>             with `l2.dmesg` on the kernel command line,
#                               after L2-DONE: the kernel's log, each line
# With `l2.pwrbtn` on the kernel command line, before L2-DONE, it loads the
# evdev and button modules copied from the --modules KROOTs (when a kernel
# has them) and watches the ACPI fixed-feature power button in the
# background (the "Power Button" input device, /dev/input/eventN, opened
# before the marker so that no press is missed):
#   L2-PWRBTN-WATCHING          then a press (vmmctl shutdown in L1) gives
#   L2-POWER-BUTTON             the button's first input event read, and the
#                               watcher powers off (poweroff -f: status 0)
# With `l2.virtio` on the kernel command line it first loads the virtio
# modules copied from each --modules KROOT (an unpacked kernel package; they
# go to /lib/modules/<version>/) and checks the virtio-mmio devices:
#   L2-BLK-SYNCED               1 MiB of a known pattern written to /dev/vda
#                               and synced (flush reached the device)
#   L2-BLK-OK                   read back, page cache dropped, equal
#   L2-RO-OK                    writing /dev/vdb (a read-only disk) fails
#   L2-RNG-OK                   64 bytes read from /dev/hwrng
#   L2-HVC-GOT <line>           wrote L2-HVC-HELLO to /dev/hvc0, read a line
#   L2-VPORT-GOT <line>         the same on virtio-console port 1, found by
#                               its name org.vmm.test.0 (MULTIPORT)
#   L2-NET-TX-DONE, L2-NET-RX-OK  256 KiB sent over TCP to 10.0.2.1:5555
#                               (L1, on the tap) and 256 KiB received from
#                               10.0.2.1:5556 with the expected checksum
#   L2-LINK-READY               then L1 sets its tap down (nested.sh), and
#   L2-LINK-DOWN-OK             eth0's carrier became 0 (virtio-net's
#                               config-change interrupt), L1 sets it up,
#   L2-LINK-UP-OK               and the carrier became 1 again
# and ends the machine:
#   reset (default)  reboot -f: give the kernel reboot=k so it resets through
#                    the i8042 (vmmctl status 6 with reset = "stop")
#   poweroff         poweroff -f (needs ACPI in the machine; status 0)
#   debug-exit       writes 0x21 to port 0xf4 through /dev/port (status 67;
#                    needs CONFIG_DEVPORT, which Debian's cloud kernel lacks)
#   shell            prints L2-SHELL-READY and becomes an interactive shell
#                    on ttyS0: whoever types at the serial console ends the
#                    machine (e.g. "poweroff -f"); this checks serial input
# Needs /bin/busybox (busybox-static) and cpio.
set -eu
mode=reset
kroots=""
busybox=/bin/busybox
console=ttyS0
while :; do
	case "${1:-}" in
	--exit) mode=$2; shift 2 ;;
	--modules) kroots="$kroots $2"; shift 2 ;;
	--busybox) busybox=$2; shift 2 ;;
	--console) console=$2; shift 2 ;;
	*) break ;;
	esac
done
case "$mode" in reset|poweroff|debug-exit|shell) ;; *) echo "mk-l2-initramfs: unknown --exit $mode" >&2; exit 2 ;; esac
[ $# = 1 ] || { echo "usage: $0 [--exit reset|poweroff|debug-exit|shell] [--modules KROOT]... [--busybox FILE] [--console TTY] OUT.cpio.gz" >&2; exit 2; }
out=$1
[ -f "$busybox" ] || { echo "mk-l2-initramfs: $busybox is missing (busybox-static)" >&2; exit 1; }
case "$console" in *[!A-Za-z0-9]*|"") echo "mk-l2-initramfs: --console $console is not a tty name" >&2; exit 2 ;; esac

root=$(mktemp -d "${TMPDIR:-/tmp}/vmm-l2-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
# The virtio drivers, in load order (virtio_ring before virtio).
VIRTIO_MODULES="virtio_ring virtio virtio_mmio virtio_blk virtio-rng failover net_failover virtio_net virtio_console"
PWRBTN_MODULES="evdev button"
for kr in $kroots; do
	for md in "$kr"/lib/modules/*; do
		[ -d "$md" ] || continue
		dst="$root/lib/modules/$(basename "$md")"
		mkdir -p "$dst"
		for m in $VIRTIO_MODULES; do
			ko=$(find "$md" \( -name "$m.ko" -o -name "$m.ko.*" \) | head -n 1)
			[ -n "$ko" ] || { echo "mk-l2-initramfs: no $m module under $md" >&2; exit 1; }
			case "$ko" in
			*.xz) xz -dc "$ko" ;;
			*.zst) zstd -qdc "$ko" ;;
			*.gz) gzip -dc "$ko" ;;
			*) cat "$ko" ;;
			esac >"$dst/$m.ko"
		done
		# The power button's (l2.pwrbtn): only where the kernel has
		# them as modules (Debian amd64: CONFIG_ACPI_BUTTON=m,
		# CONFIG_INPUT_EVDEV=m); /init says FAIL when one is missing.
		for m in $PWRBTN_MODULES; do
			ko=$(find "$md" \( -name "$m.ko" -o -name "$m.ko.*" \) | head -n 1)
			[ -n "$ko" ] || continue
			case "$ko" in
			*.xz) xz -dc "$ko" ;;
			*.zst) zstd -qdc "$ko" ;;
			*.gz) gzip -dc "$ko" ;;
			*) cat "$ko" ;;
			esac >"$dst/$m.ko"
		done
	done
done
{
	echo '#!/bin/busybox sh'
	echo "TTY=$console"
	cat <<'EOF'
# L2's /init (generated by tests/e2e/mk-l2-initramfs.sh)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Markers go to the serial port itself, so a kernel booted without any
# console= (the console is then not the serial port) is still heard.
[ -c /dev/$TTY ] && exec >/dev/$TTY 2>&1
echo "L2-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
# The arm64 architected timer's interrupts, summed over the CPUs.
timer_irqs() { awk '/arch_timer/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts; }
i0=$(timer_irqs)
t0=$(cut -d. -f1 /proc/uptime)
sleep 1
t1=$(cut -d. -f1 /proc/uptime)
i1=$(timer_irqs)
[ "$t1" -gt "$t0" ] && echo "L2-TIMER-OK"
grep -q arch_timer /proc/interrupts && echo "L2-TIMER-IRQ $i0 -> $i1"
if grep -qw l2.hyperv /proc/cmdline; then
	dmesg | grep -q "Hypervisor detected: Microsoft Hyper-V" && echo "L2-HV-DETECTED"
	cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
	echo "L2-HV-CLOCKSOURCE $cs"
	[ "$cs" = hyperv_clocksource_tsc_page ] && echo "L2-HV-TSC-PAGE-OK"
	# x86's direct-mode stimer0 vector: the "HVS" row of /proc/interrupts.
	hv_irqs() { awk '$1 == "HVS:" { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts; }
	h0=$(hv_irqs)
	sleep 1
	h1=$(hv_irqs)
	echo "L2-HV-STIMER $h0 -> $h1"
	[ "$h1" -gt "$h0" ] && echo "L2-HV-STIMER-OK"
fi
echo "L2-CPUS $(grep -c '^processor' /proc/cpuinfo)"
if [ -r /proc/driver/rtc ]; then
	d=$(sed -n 's/^rtc_date[^:]*: *//p' /proc/driver/rtc)
	t=$(sed -n 's/^rtc_time[^:]*: *//p' /proc/driver/rtc)
	echo "L2-RTC $d $t"
	y=${d%%-*}
	[ -n "$y" ] && [ "$y" -ge 2000 ] 2>/dev/null && echo "L2-RTC-OK"
elif [ -e /dev/rtc0 ]; then
	r=$(hwclock -r -f /dev/rtc0 2>&1)
	echo "L2-RTC $r"
	case "$r" in *20[0-9][0-9]*) echo "L2-RTC-OK" ;; esac
else
	echo "L2-RTC none (no /proc/driver/rtc, no /dev/rtc0)"
fi
if grep -qw l2.pwrbtn /proc/cmdline; then
	md=/lib/modules/$(uname -r)
	for m in evdev button; do
		[ -f "$md/$m.ko" ] && { insmod "$md/$m.ko" || echo "FAIL: insmod $m"; }
	done
	# The fixed-feature button (the FADT's PWR_BUTTON clear) is the
	# input device "Power Button" of the LNXPWRBN device.
	ev=""
	n=0
	while [ -z "$ev" ] && [ $n -lt 50 ]; do
		for f in /sys/class/input/event*/device/name; do
			[ "$(cat "$f" 2>/dev/null)" = "Power Button" ] && ev=$(basename "$(dirname "$(dirname "$f")")")
		done
		[ -n "$ev" ] || { sleep 0.1; n=$((n + 1)); }
	done
	if [ -n "$ev" ] && [ -c "/dev/input/$ev" ]; then
		# Open before the marker: evdev queues events only for a reader
		# that has the device open.  One struct input_event (24 bytes on
		# a 64-bit kernel) is the press.
		exec 5<"/dev/input/$ev"
		# its line starts a line of its own: the shell's prompt (and its
		# cursor query) may be on the console already.  And it goes in
		# one write (through cat): printf to the console is line-buffered,
		# and a shell's message written between its two writes once made
		# "sh: L2-POWER-BUTTON" (busybox's "sh: " + "can't access tty...").
		(dd bs=24 count=1 of=/dev/null <&5 2>/dev/null && printf '\nL2-POWER-BUTTON\n' | cat && poweroff -f) &
		exec 5<&-
		echo "L2-PWRBTN-WATCHING"
	else
		echo "FAIL: no Power Button input device (input: $(cat /sys/class/input/*/device/name 2>/dev/null | tr '\n' ' '))"
	fi
fi
if grep -qw l2.virtio /proc/cmdline; then
	md=/lib/modules/$(uname -r)
	for m in virtio_ring virtio virtio_mmio virtio_blk virtio-rng failover net_failover virtio_net virtio_console; do
		insmod "$md/$m.ko" || echo "FAIL: insmod $m"
	done
	n=0
	while [ ! -b /dev/vdb ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	want=$(yes L2-DISK-PATTERN | head -c 1048576 | md5sum | cut -d' ' -f1)
	if yes L2-DISK-PATTERN | head -c 1048576 | dd of=/dev/vda bs=65536 2>/dev/null && sync; then
		echo "L2-BLK-SYNCED"
		echo 3 >/proc/sys/vm/drop_caches
		got=$(head -c 1048576 /dev/vda | md5sum | cut -d' ' -f1)
		[ "$got" = "$want" ] && echo "L2-BLK-OK" || echo "FAIL: /dev/vda reads back $got, wrote $want"
	else
		echo "FAIL: cannot write /dev/vda"
	fi
	if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null; then
		echo "FAIL: the read-only /dev/vdb took a write"
	else
		echo "L2-RO-OK"
	fi
	r=$(head -c 64 /dev/hwrng | wc -c)
	[ "$r" = 64 ] && echo "L2-RNG-OK" || echo "FAIL: /dev/hwrng gave $r bytes ($(cat /sys/class/misc/hw_random/rng_current 2>&1))"
	# hvc0 (virtio-console): L1 reads what is written and has typed a line
	n=0
	while [ ! -c /dev/hvc0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	if exec 3<>/dev/hvc0; then
		stty -F /dev/hvc0 -echo 2>/dev/null
		echo "L2-HVC-HELLO" >&3
		line=""
		read -t 20 -r line <&3
		echo "L2-HVC-GOT $(echo "$line" | tr -d '\r')"
		exec 3>&-
	else
		echo "FAIL: no /dev/hvc0"
	fi
	# The console's second port (MULTIPORT): no udev here to make
	# /dev/virtio-ports/NAME, so find it by the name the device sent
	# (PORT_NAME) in sysfs; devtmpfs made /dev/vportNpM.
	n=0
	vp=""
	while [ -z "$vp" ] && [ $n -lt 50 ]; do
		for f in /sys/class/virtio-ports/vport*/name; do
			[ "$(cat "$f" 2>/dev/null)" = org.vmm.test.0 ] && vp=$(basename "$(dirname "$f")")
		done
		[ -n "$vp" ] || { sleep 0.1; n=$((n + 1)); }
	done
	if [ -n "$vp" ] && [ -c "/dev/$vp" ] && exec 4<>"/dev/$vp"; then
		echo "L2-VPORT-HELLO" >&4
		line=""
		read -t 20 -r line <&4
		echo "L2-VPORT-GOT $line"
		exec 4>&-
	else
		echo "FAIL: no virtio port org.vmm.test.0 (ports: $(cat /sys/class/virtio-ports/*/name 2>&1 | tr '\n' ' '))"
	fi
	# The network: L1 is 10.0.2.1 on its tap, listening on 5555 for a
	# file from the guest and serving one on 5556.
	if ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0; then
		yes L2-NET-PATTERN | head -c 262144 | nc 10.0.2.1 5555 && echo "L2-NET-TX-DONE"
		want=$(yes L1-NET-PATTERN | head -c 262144 | md5sum)
		# an input that stays open: busybox nc ends at EOF on either side
		got=$( (sleep 60 &) | nc 10.0.2.1 5556 | md5sum)
		[ "$got" = "$want" ] && echo "L2-NET-RX-OK" || echo "FAIL: the file from L1 has md5 $got, expected $want"
		# The link: L1 sets its tap down once it reads the line below,
		# then up once it reads L2-LINK-DOWN-OK.  Waits are bounded.
		carrier() {
			n=0
			while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != "$1" ] && [ $n -lt 300 ]; do
				sleep 0.1; n=$((n + 1))
			done
			[ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = "$1" ]
		}
		echo "L2-LINK-READY"
		if carrier 0; then
			echo "L2-LINK-DOWN-OK"
			carrier 1 && echo "L2-LINK-UP-OK" ||
				echo "FAIL: eth0's carrier stayed $(cat /sys/class/net/eth0/carrier 2>&1) after L1 set its tap up"
		else
			echo "FAIL: eth0's carrier stayed $(cat /sys/class/net/eth0/carrier 2>&1) after L1 set its tap down"
		fi
	else
		echo "FAIL: no eth0 ($(ls /sys/class/net))"
	fi
fi
echo "L2-DONE"
# l2.dmesg: the kernel's log with its own timestamps, after L2-DONE so that
# the timed markers do not pay for the console (bench/nested-boot.sh)
grep -qw l2.dmesg /proc/cmdline && dmesg | sed 's/^/L2-DMESG /'
sync
EOF
	case "$mode" in
	reset) echo 'reboot -f' ;;
	poweroff) echo 'poweroff -f' ;;
	debug-exit) echo "printf '!' | dd of=/dev/port bs=1 seek=244 count=1 conv=notrunc 2>/dev/null || echo 'L2: no /dev/port'" ;;
	shell) echo 'echo L2-SHELL-READY'
	       echo 'exec sh -i </dev/$TTY >/dev/$TTY 2>&1' ;;
	esac
	echo 'sleep 10; exit 1'
} >"$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out"
