#!/bin/sh
# The harness library's ABI is exactly what vmm/harness.h declares: every
# declared function is exported, and nothing else (the folded-in core code
# in particular) leaks out.
set -e
lib="$VMM_BUILDDIR/tests/harness/.libs/libvmm-harness.so"
hdr="$VMM_SRCDIR/include/vmm/harness.h"
command -v nm >/dev/null || { echo "nm not found"; exit 77; }
[ -f "$lib" ] || { echo "no $lib"; exit 99; }

declared=$(sed -n 's/.*[ *]\(vmm_harness_[a-z_]*\)(.*/\1/p' "$hdr" | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort -u)

status=0
for f in $declared; do
	echo "$exported" | grep -qx "$f" || { echo "declared but not exported: $f"; status=1; }
done
for f in $exported; do
	case "$f" in _init|_fini) continue ;; esac
	echo "$declared" | grep -qx "$f" || { echo "exported but not declared: $f"; status=1; }
done
[ $status -eq 0 ] && echo "$(echo "$declared" | wc -l) functions declared and exported"
exit $status
