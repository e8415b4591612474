#!/bin/sh
# vmmctl's command line: help, version, plugin listing and description,
# one-line errors with exit status 2; then,
# with /dev/kvm, SIGTERM shutdown, the file backend and bad payloads.
. "$VMM_SRCDIR/tests/guests/guest-lib.sh"

fail() { echo "FAIL: $*"; exit 1; }
# expect STATUS PATTERN CMD...: exit status and a line of output matching PATTERN.
expect() {
	want=$1 pattern=$2; shift 2
	out=$("$@" 2>&1 </dev/null); got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $out"
	printf '%s\n' "$out" | grep -qE -- "$pattern" || fail "'$*' printed no line matching /$pattern/: $out"
	echo "ok: $*"
}

expect 0 '^Usage: vmmctl' "$VMMCTL" --help
expect 0 "^vmmctl [0-9.]+ \(plugin ABI 1\.[0-9]+\)" "$VMMCTL" --version
expect 2 "unknown command 'frobnicate'" "$VMMCTL" frobnicate
expect 2 '^Usage' "$VMMCTL"
expect 0 '^uart16550 +device +1\.0 +1\.[0-9]+ ' "$VMMCTL" plugins
expect 0 '^kvm +hypervisor ' "$VMMCTL" plugins list
expect 0 'chardev +string, default "stdio"' "$VMMCTL" plugins describe uart16550
expect 0 'irqchip +one of kernel, split, emulated' "$VMMCTL" plugins describe kvm
expect 2 "no plugin named 'nope'" "$VMMCTL" plugins describe nope
# Options a command does not take: one line naming the option and whose it is.
expect 2 '^vmmctl: check runs nothing: --api is for run$' "$VMMCTL" check --api /tmp/x.sock
expect 2 '^vmmctl: check runs nothing: --stats is for run$' "$VMMCTL" check --stats
expect 2 '^vmmctl: --paused is for restore$' "$VMMCTL" run --paused
expect 2 '^vmmctl: --paused is for restore$' "$VMMCTL" check --paused
for opt in kernel cmdline initrd format dump-acpi dump-dtb; do
	expect 2 "^vmmctl: restore takes the machine from the snapshot: --$opt is for run\$" "$VMMCTL" restore --$opt x /nowhere
done
# (check on the shipped machines, which builds them on /dev/kvm: check.sh)
expect 2 "/nonexistent.conf: cannot read" "$VMMCTL" check /nonexistent.conf
# describe shows ranges in the notation of the errors (issue 13): 0..0xfff8 in
# both.
expect 0 'base +int 0\.\.0xfff8, default 0x3f8' "$VMMCTL" plugins describe uart16550
expect 2 "property 'base': \"0x10000\" is out of range 0\.\.0xfff8" sh -c \
	"printf 'memory = 4M\\nhypervisor \"kvm\" { }\\ndevice \"c\" { plugin = \"uart16550\" base = 0x10000 }\\n' |
	 '$VMMCTL' check /dev/stdin"

# Hostile configs: one line naming the file and the line, status 2, never a
# crash (libconfuse recursed once per open section) nor minutes of parsing
# (it is quadratic in sections; past the limit nothing reaches it).
awk 'BEGIN { for (i = 0; i < 40000; i++) print "device \"x\" {" }' >"$TMPD/deep.conf"
expect 2 "deep.conf:2: a section inside device 'x'" "$VMMCTL" check "$TMPD/deep.conf"
expect 2 "deep.conf:2: a section inside device 'x'" "$VMMCTL" run "$TMPD/deep.conf"
awk 'BEGIN { for (i = 0; i < 154000; i++) printf "device \"d%d\" { plugin = \"debug-exit\" }\n", i }' \
	>"$TMPD/many.conf"
expect 2 "many.conf: larger than 1 MiB, the limit" "$VMMCTL" check "$TMPD/many.conf"
head -n 2000 "$TMPD/many.conf" >"$TMPD/2000.conf"
expect 2 "2000.conf:1025: more than 1024 sections" "$VMMCTL" check "$TMPD/2000.conf"
expect 2 "^vmmctl: $TMPD: cannot read: Is a directory\$" "$VMMCTL" check "$TMPD"
# A pipe is read once: its error is reported, not lost to a second read.
out=$(printf 'memory = 32M\nmemroy = 1\n' | "$VMMCTL" check /dev/stdin 2>&1); got=$?
[ "$got" = 2 ] || fail "check /dev/stdin: exit $got, expected 2: $out"
printf '%s\n' "$out" | grep -q "^vmmctl: /dev/stdin:2: no such option 'memroy'" ||
	fail "check /dev/stdin: $out"
echo "ok: check /dev/stdin reports the error in a pipe"

# A broken .so on the path is reported in one line; the listing goes on.
mkdir -p "$TMPD/plugins"
echo "not a plugin" >"$TMPD/plugins/broken.so"
expect 0 "broken.so: cannot load" "$VMMCTL" -P "$TMPD/plugins" plugins
out=$("$VMMCTL" -P "$TMPD/plugins" plugins 2>/dev/null)
echo "$out" | grep -q '^debug-exit ' || fail "listing stopped at the broken plugin"

require_kvm

expect 2 "no boot payload" "$VMMCTL" run "$VMM_SRCDIR/machines/x86-serial-log.conf"
expect 2 "kernel /nonexistent.elf: No such file" "$VMMCTL" run --kernel /nonexistent.elf
# an ELF without a PVH note (a host program) is refused, no guest started
expect 2 "no PVH entry note" "$VMMCTL" run --kernel "$VMMCTL"
# an ELF whose segment lies beyond guest memory (hello moved to 1 GiB)
objcopy --change-addresses 0x40000000 "$GUESTS/hello.elf" "$TMPD/high.elf" 2>/dev/null ||
	fail "objcopy failed"
expect 2 "does not fit guest RAM" "$VMMCTL" run --kernel "$TMPD/high.elf"
# a truncated ELF
head -c 100 "$GUESTS/hello.elf" >"$TMPD/short.elf"
expect 2 "short.elf: (truncated|segment)" "$VMMCTL" run --kernel "$TMPD/short.elf"

# an ELF for another machine (hello.elf with e_machine = 183, AArch64)
cp "$GUESTS/hello.elf" "$TMPD/arm.elf"
printf '\267\000' | dd of="$TMPD/arm.elf" bs=1 seek=18 conv=notrunc 2>/dev/null
expect 2 "arm.elf: ELF for machine 183, expected x86" "$VMMCTL" run --kernel "$TMPD/arm.elf"
# neither ELF nor bzImage: a compressed file, and any other file (a flat
# real-mode binary needs --format flat), are refused instead of run as code
gzip -c "$GUESTS/hello.elf" >"$TMPD/hello.gz"
expect 2 "hello.gz: a gzip-compressed file, neither an ELF nor a bzImage" "$VMMCTL" run --kernel "$TMPD/hello.gz"
head -c 1048576 /dev/zero >"$TMPD/big.bin"
expect 2 "big.bin: neither an ELF nor a bzImage; a flat real-mode binary needs format = .flat." "$VMMCTL" run --kernel "$TMPD/big.bin"

# An instruction KVM cannot emulate (an x87 load from the unbacked VGA
# window, real mode: mov ax,0xa000; mov ds,ax; fld dword [0]; hlt): status 4
# and the bytes at RIP, so an author sees what the guest did (issue 13).
printf '\270\000\240\216\330\331\006\000\000\364' >"$TMPD/fld.bin"
expect 4 "vCPU 0: instruction emulation failed on the bytes d9 06 00 00 f4 .*at rip 0x8005" \
	"$VMMCTL" run --format flat --kernel "$TMPD/fld.bin"

# SIGTERM ends a running guest cleanly with 128+15.
printf '\353\376' >"$TMPD/spin.bin"   # jmp $
"$VMMCTL" run --format flat --kernel "$TMPD/spin.bin" </dev/null >"$TMPD/spin.out" 2>&1 &
pid=$!
sleep 1
kill -TERM $pid
waited=0
while kill -0 $pid 2>/dev/null && [ $waited -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
kill -0 $pid 2>/dev/null && { kill -KILL $pid; fail "vmmctl ignored SIGTERM for 5 s"; }
wait $pid; status=$?
[ "$status" = 143 ] || fail "SIGTERM: exit status $status, expected 143: $(cat "$TMPD/spin.out")"
grep -q "SIGTERM received" "$TMPD/spin.out" || fail "no SIGTERM log line: $(cat "$TMPD/spin.out")"
echo "ok: SIGTERM stops a spinning guest with status 143"

# The file backend: serial output lands in the file, complete, at exit.
sed "s|/tmp/vmm-serial.log|$TMPD/serial.log|" "$VMM_SRCDIR/machines/x86-serial-log.conf" >"$TMPD/log.conf"
run_guest filelog "$VMMCTL" run --kernel "$GUESTS/hello.elf" "$TMPD/log.conf"
expect_status 1   # hello writes 0 to debug-exit; without zero-is-success that is status 1
tr -d '\r' <"$TMPD/serial.log" | grep -qxF "Hello from a vmm guest" ||
	fail "serial log has no hello line: $(cat "$TMPD/serial.log")"
[ -s "$OUT" ] && fail "serial output leaked to stdout: $(cat "$OUT")"
echo "ok: file backend captured the serial output"

# Options may come after CONFIG too, as in the README.
run_guest order "$VMMCTL" run "$VMM_SRCDIR/machines/x86-minimal.conf" --kernel "$GUESTS/hello.elf" --stats
expect_status 0
expect_line "Hello from a vmm guest"
echo "ok: vmmctl run CONFIG --kernel FILE --stats (options after CONFIG)"

# --stats prints exit counters per vCPU and bus counters.
run_guest stats "$VMMCTL" run --stats --kernel "$GUESTS/hello.elf"
expect_status 0
grep -qE '^vcpu0 exits: io=[0-9]+ .*total=' "$ERR" || fail "no exit counters: $(cat "$ERR")"
grep -qE '^pio bus: regions=5 ' "$ERR" || fail "no pio bus counters (pic 3, com1, exit): $(cat "$ERR")"
grep -qE '^setup: [0-9]+\.[0-9]+ ms from vmmctl start to the first vCPU entry$' "$ERR" ||
	fail "no set-up time: $(cat "$ERR")"
echo "ok: --stats ($(grep '^setup:' "$ERR"))"

# Input on a pipe that closes while the guest runs (EOF unwatches stdin
# from inside its own callback: this once was a use-after-free).
echo "typed ahead" | timeout -k 10 60 "$VMMCTL" run --kernel "$GUESTS/hello.elf" >"$TMPD/pipe.out" 2>&1
status=$?
[ "$status" = 0 ] || fail "hello with piped stdin: status $status: $(cat "$TMPD/pipe.out")"
echo "ok: piped stdin"

# The whole run path under valgrind: no invalid access, no leak at exit.
# Valgrind runs the program's system calls itself and knows no seccomp(2):
# a filter would trap valgrind's own calls, so this run has none.
if command -v valgrind >/dev/null; then
	echo "typed ahead" | timeout -k 10 120 valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite "$VMMCTL" run --seccomp off --kernel "$GUESTS/hello.elf" \
		>"$TMPD/vg.out" 2>&1
	status=$?
	[ "$status" = 0 ] || fail "valgrind: status $status: $(tail -30 "$TMPD/vg.out")"
	echo "ok: a guest run is valgrind-clean"
else
	echo "SKIP: valgrind part: valgrind is not installed"
fi

# The stdio backend on a real terminal (script(1) gives us a pty): raw while
# the guest runs, restored after a guest exit, SIGTERM and Ctrl-A x.
if command -v script >/dev/null; then
	printf '\353\376' >"$TMPD/spin.bin"
	export VMMCTL TMPD GUESTS
	script -qec 'stty -g >"$TMPD/t0"; "$VMMCTL" run --kernel "$GUESTS/hello.elf" >/dev/null; stty -g >"$TMPD/t1"' \
		/dev/null </dev/null >/dev/null 2>&1
	cmp -s "$TMPD/t0" "$TMPD/t1" || fail "terminal not restored after the guest's exit"
	script -qec '"$VMMCTL" run --format flat --kernel "$TMPD/spin.bin" </dev/tty >/dev/null 2>&1 & sleep 1;
		stty -g >"$TMPD/t2"; kill -TERM $!; wait $!; echo $? >"$TMPD/st"; stty -g >"$TMPD/t3"' \
		/dev/null </dev/null >/dev/null 2>&1
	cmp -s "$TMPD/t0" "$TMPD/t2" && fail "terminal was not in raw mode while the guest ran"
	cmp -s "$TMPD/t0" "$TMPD/t3" || fail "terminal not restored after SIGTERM"
	[ "$(cat "$TMPD/st")" = 143 ] || fail "SIGTERM on a terminal: status $(cat "$TMPD/st")"
	(sleep 1.5; printf '\001x') | script -qec '"$VMMCTL" run --format flat --kernel "$TMPD/spin.bin" >/dev/null 2>&1;
		echo $? >"$TMPD/st"; stty -g >"$TMPD/t4"' /dev/null >/dev/null 2>&1
	[ "$(cat "$TMPD/st")" = 0 ] || fail "Ctrl-A x: status $(cat "$TMPD/st"), expected 0"
	cmp -s "$TMPD/t0" "$TMPD/t4" || fail "terminal not restored after Ctrl-A x"
	echo "ok: terminal raw while running, restored after exit, SIGTERM and Ctrl-A x"
else
	echo "SKIP: terminal part: script(1) is not installed"
fi

# Guest input: stdin -> stdio backend -> UART receive FIFO -> guest.  The
# echo guest (real mode) polls LSR.DR, uppercases each byte onto THR and
# exits 0 at the newline; 300 bytes overrun the 16-byte FIFO many times over,
# so the backend must pause and resume with the device's room.
printf '\272\375\003\354\250\001\164\373\272\370\003\354\074\012\164\005\044\337\356\353\353\260\000\346\364\364' \
	>"$TMPD/echo.bin"
{ head -c 300 /dev/zero | tr '\0' 'q'; echo; } | timeout -k 10 60 "$VMMCTL" run --format flat --kernel "$TMPD/echo.bin" \
	>"$TMPD/echo.out" 2>&1
status=$?
[ "$status" = 0 ] || fail "echo guest: status $status: $(tail -c 200 "$TMPD/echo.out")"
[ "$(tr -d '\n' <"$TMPD/echo.out")" = "$(head -c 300 /dev/zero | tr '\0' 'Q')" ] ||
	fail "echo guest: expected 300 Q, got $(wc -c <"$TMPD/echo.out") bytes: $(head -c 80 "$TMPD/echo.out")"
echo "ok: 300 bytes of input reach the guest through the UART FIFO (flow control)"
