#!/bin/sh
# tests/fuzz/run-fuzz.sh - run each libFuzzer target for a bounded time
# from its committed seed corpus (tests/fuzz/corpus/<target>/).  New inputs
# go to a scratch directory, never into the source tree.  A crash, a leak,
# a sanitizer report or a timeout fails the test and names the reproducer.
# FUZZ_TIME (seconds per target, default 15) and FUZZ_ARGS (extra libFuzzer
# flags) override the defaults; see tests/fuzz/README.md.
: "${VMM_BUILDDIR:?VMM_BUILDDIR is not set (run through make check)}"
: "${VMM_SRCDIR:?VMM_SRCDIR is not set (run through make check)}"
FUZZ_TIME=${FUZZ_TIME:-15}
targets="fuzz_virtqueue fuzz_virtio_devices fuzz_boot_pvh fuzz_boot_bzimage fuzz_boot_flat
	fuzz_config fuzz_gic fuzz_hyperv"

for t in $targets; do
	if [ ! -x "$VMM_BUILDDIR/tests/fuzz/$t" ]; then
		echo "SKIP: no clang with -fsanitize=fuzzer (Debian package clang)"
		exit 77
	fi
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmm-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
artifacts="$VMM_BUILDDIR/tests/fuzz/artifacts"
mkdir -p "$artifacts" || exit 1
status=0
for t in $targets; do
	mkdir -p "$scratch/$t"
	log="$VMM_BUILDDIR/tests/fuzz/$t.fuzz-log"
	# The first corpus directory is the one libFuzzer adds to: the scratch one.
	"$VMM_BUILDDIR/tests/fuzz/$t" -max_total_time="$FUZZ_TIME" -rss_limit_mb=1024 \
		-timeout=10 -max_len=20000 -print_final_stats=1 \
		-artifact_prefix="$artifacts/$t-" $FUZZ_ARGS \
		"$scratch/$t" "$VMM_SRCDIR/tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\) ft: \([0-9]*\).*/\1 edges, \2 features/p' "$log")
	if [ $rc -ne 0 ]; then
		status=1
		echo "FAIL: $t (exit $rc); log $log"
		grep -E 'ERROR|invariant failed|SUMMARY' "$log" | head -5
		repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		[ -n "$repro" ] && echo "reproduce: $VMM_BUILDDIR/tests/fuzz/$t $repro"
	else
		echo "ok: $t: ${runs:-?} executions in ${FUZZ_TIME}s, coverage ${cov:-?}"
	fi
done
exit $status
