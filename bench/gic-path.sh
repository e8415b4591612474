#!/bin/sh
# bench/gic-path.sh - what one interrupt costs in the VMM with the GIC in
# userspace (irqchip = "emulated" on arm64; bench/gic-path: an SPI from a
# device, the virtual timer's PPI from the hypervisor, an SGI between
# vCPUs, each raised, acknowledged through GICC_IAR and ended through
# GICC_EOIR, through the harness and the real gic.so).  The exits and
# KVM_IRQ_LINE calls around it are not included: the kernel/emulated ratio
# per interrupt needs the nested arm64 host.  Median of ROUNDS rounds of
# INTERRUPTS each.  Needs no KVM; no threshold fails the run.
. "${VMM_SRCDIR:?VMM_SRCDIR is not set}/bench/bench-lib.sh"
PROG="$VMM_BUILDDIR/bench/gic-path"
ROUNDS=${ROUNDS:-11}
INTERRUPTS=${INTERRUPTS:-100000}

[ -x "$PROG" ] || { echo "gic-path: $PROG is missing" >&2; exit 1; }
out=$("$PROG" "$ROUNDS" "$INTERRUPTS") || { echo "gic-path: gic-path failed" >&2; exit 1; }
median() { echo "$out" | awk -v c="$1" '{ print $c }' | sort -n | awk '{ v[NR] = $1 } END {
	print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "gic (emulated GICv2, userspace part): $(median 2) ns per SPI, $(median 4) ns per timer PPI, $(median 6) ns per SGI (raise, IAR, EOI; median of $ROUNDS rounds)"
