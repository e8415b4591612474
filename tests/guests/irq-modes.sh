#!/bin/sh
# The interrupt test guests on vmmctl in the three interrupt modes of the
# kvm hypervisor's irqchip property (irq-emulated.conf, irq-split.conf,
# irq-kernel.conf):
#   pit-pic.elf      emulated, split, kernel   8254 -> 8259, 50 ticks, masking
#   pit-ioapic.elf   split, kernel             8254 -> IOAPIC pin 0 -> LAPIC
#   rtc.elf          emulated, split, kernel   time of day, 1024 Hz on IRQ 8
#   i8042-reset.elf  emulated                  0xFE to port 0x64: status 6 with
#                                              reset = "stop" (default), 0 with
#                                              reset = "poweroff"
#   smp-ipi.elf      split, kernel, vcpus = 2  INIT-SIPI-SIPI; PIT -> cpu1,
#                                              RTC -> cpu0
#   msr-gp-irq.elf   emulated, split, kernel   fast PIT ticks against 3000
#                                              refused rdmsr (#GP): no tick lost
# The same guests run under QEMU in qemu-irq-reference.sh.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/tests/guests/guest-lib.sh"
require_kvm
require_file "$VMMCTL"
GUEST_TIMEOUT=120   # a hang guard: a loaded machine is slow (qemu-irq-reference.sh)

# The platform plugins and the kvm plugin's three modes are all built
# here: a missing one is a failure, not a reason to skip.
for p in i8259 i8254 ioapic cmos-rtc i8042; do
	have_plugin "$p" || guest_fail "plugin $p is not in VMM_PLUGIN_PATH=$VMM_PLUGIN_PATH"
done
for g in pit-pic pit-ioapic rtc i8042-reset smp-ipi msr-gp-irq; do
	require_file "$GUESTS/$g.elf"
done

CONF="$VMM_SRCDIR/tests/guests"

# run_check GUEST CONFIG WHAT STATUS LINE...: runs GUEST.elf on CONFIG and
# expects no "FAIL:" line, each LINE, and exit status STATUS.
RUNS=0
run_check() {
	g=$1 conf=$2 what=$3 want=$4
	shift 4
	RUNS=$((RUNS + 1))
	run_guest "$RUNS-$g" "$VMMCTL" run --kernel "$GUESTS/$g.elf" "$conf"
	expect_no_fail
	for l in "$@"; do
		expect_line "$l"
	done
	expect_status "$want"
	echo "ok: $g.elf, $what, status $STATUS"
}

for m in emulated split kernel; do
	run_check pit-pic "$CONF/irq-$m.conf" "irqchip $m" 67 \
		"pit-pic: 50 interrupts" "pit-pic: masked ok" "PIT-PIC-DONE"
done
for m in emulated split kernel; do
	run_check msr-gp-irq "$CONF/irq-$m.conf" "irqchip $m" 67 \
		"msr-gp-irq: 3000 #GPs, timer still running" "MSR-GP-IRQ-DONE"
done
for m in split kernel; do
	run_check pit-ioapic "$CONF/irq-$m.conf" "irqchip $m" 67 \
		"pit-ioapic: 50 interrupts" "pit-ioapic: masked ok" "PIT-IOAPIC-DONE"
done
for m in emulated split kernel; do
	run_check rtc "$CONF/irq-$m.conf" "irqchip $m" 67 \
		"rtc: 64 periodic interrupts" "RTC-DONE"
done

run_check i8042-reset "$CONF/irq-emulated.conf" 'reset = "stop" (default)' 6 \
	"i8042: resetting"
sed 's/plugin = "i8042"/plugin = "i8042"  reset = "poweroff"/' \
	"$CONF/irq-emulated.conf" >"$TMPD/irq-poweroff.conf"
grep -q 'reset = "poweroff"' "$TMPD/irq-poweroff.conf" || { echo "FAIL: could not edit irq-emulated.conf"; exit 1; }
run_check i8042-reset "$TMPD/irq-poweroff.conf" 'reset = "poweroff"' 0 \
	"i8042: resetting"

# on-reset = "restart": every 0xFE power-cycles the machine, so the guest
# boots again and again; its serial log (appended across boots) counts the
# boots, and SIGTERM ends the loop cleanly.
{ echo 'on-reset = "restart"'
  echo "backend \"log\" { plugin = \"file\" path = \"$TMPD/boots.log\" append = true }"
  sed 's/chardev = "stdio"/chardev = "log"/' "$CONF/irq-emulated.conf"; } >"$TMPD/irq-restart.conf"
grep -q 'chardev = "log"' "$TMPD/irq-restart.conf" || { echo "FAIL: could not edit irq-emulated.conf"; exit 1; }
run_restarts "$GUESTS/i8042-reset.elf" "$TMPD/irq-restart.conf" "$TMPD/boots.log" "i8042: resetting"
if [ "$boots" -lt 3 ] || [ "$STATUS" != 143 ]; then
	echo "FAIL: on-reset = restart: $boots boots, status $STATUS (expected >= 3 boots, 143)"
	tail -5 "$ERR"; exit 1
fi
echo "ok: i8042-reset.elf, on-reset = \"restart\": $boots boots, SIGTERM status 143"

for m in split kernel; do
	sed 's/^vcpus = 1$/vcpus = 2/' "$CONF/irq-$m.conf" >"$TMPD/irq-$m-smp.conf"
	grep -q '^vcpus = 2$' "$TMPD/irq-$m-smp.conf" || { echo "FAIL: could not edit irq-$m.conf"; exit 1; }
	run_check smp-ipi "$TMPD/irq-$m-smp.conf" "irqchip $m, vcpus 2" 67 "SMP-DONE"
	grep '^smp: cpu0 ' "$OUT" | tr -d '\r'
done
echo "PASS: interrupt guests in the emulated, split and kernel modes"
