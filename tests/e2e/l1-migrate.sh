#!/bin/sh
# tests/e2e/l1-migrate.sh - runs inside the nested test host's L1 (put
# there by nested.sh, started by e2e_run -p): a stock Linux guest live-
# migrated between two vmmctl processes (issue 14).
#   sh /e2e/l1-migrate.sh CONF KERNEL
# The source (`vmmctl run --api`) boots KERNEL on CONF with the L2
# initramfs up to its serial shell (L2-SHELL-READY), the destination
# (`vmmctl receive --api`) listens; `vmmctl migrate` moves the running
# guest; the source must end with status 12 and print no more; the
# destination's console (a FIFO on its standard input) is then typed at:
# the shell that was waiting on the source answers on the destination
# (L2-SHELL-42) and powers it off (status 0).  The lines it prints
# (L1-MIG-*) are the run's expected output; a failure prints FAIL: and the
# last lines of both consoles.
conf=$1 kernel=$2
cd /e2e || exit 1
rm -f /tmp/mig-src.sock /tmp/mig-dst.sock /tmp/mig-dapi.sock /tmp/mig-in
mkfifo /tmp/mig-in || exit 1

fail() {
	echo "FAIL: $*"
	for f in src.out src.err dst.out dst.err; do
		echo "--- last lines of /tmp/mig-$f ---"
		tail -n 15 "/tmp/mig-$f"
	done
	[ -n "${spid:-}" ] && kill -KILL "$spid" 2>/dev/null
	[ -n "${dpid:-}" ] && kill -KILL "$dpid" 2>/dev/null
	exit 1
}

# until FILE PATTERN WHAT: bounded (a hang guard, not a timing threshold)
until_line() {
	n=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		[ $n -lt 1200 ] || fail "no '$2' in $1 ($3) after 120 s"
		sleep 0.1; n=$((n + 1))
	done
}

bin/vmmctl receive /tmp/mig-dst.sock --api /tmp/mig-dapi.sock </tmp/mig-in >/tmp/mig-dst.out 2>/tmp/mig-dst.err &
dpid=$!
# The FIFO's writer: opening it lets the destination's open (above) return.
exec 7>/tmp/mig-in
bin/vmmctl run --api /tmp/mig-src.sock "$conf" --kernel "$kernel" --initrd l2/initrd.gz \
	--cmdline 'console=ttyS0 panic=-1 quiet' </dev/null >/tmp/mig-src.out 2>/tmp/mig-src.err &
spid=$!
until_line /tmp/mig-src.out L2-SHELL-READY "the source's guest"
n=0
while [ ! -S /tmp/mig-dst.sock ]; do
	[ $n -lt 1200 ] || fail "the destination has no socket after 120 s"
	sleep 0.1; n=$((n + 1))
done
echo "L1-MIG-READY"
bin/vmmctl migrate /tmp/mig-src.sock /tmp/mig-dst.sock >/tmp/mig.out 2>&1 || fail "vmmctl migrate: $(cat /tmp/mig.out)"
echo "L1-MIG-FIGURES $(tr -d '\n' </tmp/mig.out | tr -s ' ')"
wait "$spid"
s=$?
spid=
[ "$s" = 12 ] || fail "the source ended with $s, expected 12"
echo "L1-MIG-SOURCE-STOPPED 12"
# The shell the guest started on the source reads the destination's console.
printf 'echo L2-SHELL-$((6 * 7))\npoweroff -f\n' >&7
n=0
while kill -0 "$dpid" 2>/dev/null; do
	[ $n -lt 1200 ] || fail "the destination did not end within 120 s of the typed poweroff"
	sleep 0.1; n=$((n + 1))
done
wait "$dpid"
d=$?
dpid=
exec 7>&-
grep -q '^L2-SHELL-READY' /tmp/mig-dst.out && fail "the guest started again on the destination"
grep -q '^L2-SHELL-42' /tmp/mig-dst.out || fail "no answer from the shell on the destination"
grep -q 'L2-SHELL-42' /tmp/mig-src.out && fail "the source's guest answered"
echo "L1-MIG-ANSWERED L2-SHELL-42"
[ "$d" = 0 ] || fail "the destination ended with $d, expected 0 (poweroff)"
echo "L1-MIG-DESTINATION-POWEROFF 0"
