# bench: `make bench` runs every script in bench_scripts (see Makefile.am).
# The helper programs are check programs so that `make bench` builds them.

check_PROGRAMS += bench/raw-kvm-pio bench/raw-kvm-boot bench/measure
bench_raw_kvm_pio_SOURCES = bench/raw-kvm-pio.c
# The start-up floor bench/startup.sh sets vmmctl beside.
bench_raw_kvm_boot_SOURCES = bench/raw-kvm-boot.c
bench_measure_SOURCES = bench/measure.c

bench_scripts += bench/exit-cost.sh bench/startup.sh bench/irq-cost.sh

# 32 VMs at once, vmmctl against QEMU microvm (tests/guests/park.elf).
bench_scripts += bench/density.sh
EXTRA_DIST += bench/density.sh

# The hyperv plugin: reference counter by MSR against the TSC page, and a
# synthetic timer interrupt (the guest is tests/guests/hyperv.elf).
bench_scripts += bench/hyperv.sh
EXTRA_DIST += bench/hyperv.sh

# The seccomp filters on against off (issue 15).
bench_scripts += bench/seccomp-cost.sh
EXTRA_DIST += bench/seccomp-cost.sh

# Level-triggered interrupts through an irqfd against KVM_IRQ_LINE (the
# guest and its machine are tests/guests/virtio-irq.*).
bench_scripts += bench/virtio-irq.sh
EXTRA_DIST += bench/virtio-irq.sh
EXTRA_DIST += bench/exit-cost.sh bench/startup.sh bench/bench-lib.sh bench/exit-cost.conf bench/startup-kernel-irqchip.conf bench/irq-cost.sh bench/irq-kernel.conf bench/irq-split.conf bench/irq-emulated.conf

# virtio-blk request path against preadv/pwritev (no KVM needed).
check_PROGRAMS += bench/blk-path
bench_blk_path_SOURCES = bench/blk-path.c bench/virtio-bench-driver.h
bench_blk_path_LDADD = tests/harness/libvmm-harness.la
bench_scripts += bench/virtio-blk.sh
EXTRA_DIST += bench/virtio-blk.sh
# ... and at queue depths 1, 8 and 32 on block-uring (O_DIRECT) against
# io_uring directly (virtio-blk.sh runs it where liburing is).
if HAVE_LIBURING
check_PROGRAMS += bench/blk-depth
bench_blk_depth_SOURCES = bench/blk-depth.c bench/virtio-bench-driver.h
bench_blk_depth_CFLAGS = $(AM_CFLAGS) $(LIBURING_CFLAGS)
bench_blk_depth_LDADD = tests/harness/libvmm-harness.la $(LIBURING_LIBS)
endif

# virtio-net transmit path against write(2) to the same tap (root and
# /dev/net/tun, else SKIP; no KVM needed).
check_PROGRAMS += bench/net-path
bench_net_path_SOURCES = bench/net-path.c bench/virtio-bench-driver.h tests/unit/proc-fd.h
bench_net_path_LDADD = tests/harness/libvmm-harness.la
bench_scripts += bench/virtio-net.sh
EXTRA_DIST += bench/virtio-net.sh

# The emulated GICv2's userspace cost per interrupt (no KVM needed).
check_PROGRAMS += bench/gic-path
bench_gic_path_SOURCES = bench/gic-path.c
bench_gic_path_LDADD = tests/harness/libvmm-harness.la
bench_scripts += bench/gic-path.sh
EXTRA_DIST += bench/gic-path.sh

# The same in both of the hyperv plugin's modes on the nested test host
# (minutes: it boots L1 under TCG), by hand: make bench-nested.
EXTRA_DIST += bench/hyperv-nested.sh
bench-nested: all $(check_PROGRAMS) $(check_LTLIBRARIES) build-plugins-stamp
	VMM_PLUGIN_PATH='$(BUILD_PLUGIN_DIR)' VMM_BUILDDIR='$(abs_top_builddir)' \
	VMM_SRCDIR='$(abs_top_srcdir)' QEMU_X86='$(QEMU_X86)' $(SHELL) $(srcdir)/bench/hyperv-nested.sh

# Snapshot and restore (issue 14): restore-to-running against a cold start,
# snapshot write time and size against guest memory size.
bench_scripts += bench/snapshot.sh
EXTRA_DIST += bench/snapshot.sh
