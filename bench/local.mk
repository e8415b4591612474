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

# The hyperv plugin in both modes on the nested test host (stimer and
# reference-counter costs, emulated against kernel).
bench_nested_scripts += bench/hyperv-nested.sh
EXTRA_DIST += bench/hyperv-nested.sh
# Linux boot on the nested test host, vmmctl against QEMU (make bench-nested:
# long, so in neither make check nor make bench; bench/README.md).
check_PROGRAMS += bench/boot-timer
bench_boot_timer_SOURCES = bench/boot-timer.c
bench_nested_scripts += bench/nested-boot.sh
EXTRA_DIST += bench/nested-boot.sh bench/README.md
# arm64 interrupt cost, KVM's vGICv3 against the gic plugin's GICv2, on the
# nested arm64 host (tests/guests-arm64/irq-bench.S; issue 11).
bench_nested_scripts += bench/nested-irq-arm64.sh
EXTRA_DIST += bench/nested-irq-arm64.sh
# The arm64 half of the boot comparison: vmmctl against Debian's arm64 QEMU
# (-M virt -accel kvm) on the nested arm64 host.
bench_nested_scripts += bench/nested-boot-arm64.sh
EXTRA_DIST += bench/nested-boot-arm64.sh

# Snapshot and restore (issue 14): restore-to-running against a cold start,
# snapshot write time and size against guest memory size.
bench_scripts += bench/snapshot.sh
EXTRA_DIST += bench/snapshot.sh

# Live migration (issue 14): downtime and total time for a guest writing
# memory at fixed rates (the guest is tests/guests/mig-pattern.elf).
bench_scripts += bench/migrate.sh
EXTRA_DIST += bench/migrate.sh
# ... and the kvm plugin's dirty bitmap against its dirty ring, the same
# migrations side by side.
bench_scripts += bench/dirty-log.sh
EXTRA_DIST += bench/dirty-log.sh
