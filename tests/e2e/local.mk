# tests/e2e: the end-to-end test on the nested test host (a Debian cloud
# kernel with kvm_amd under qemu-system-x86_64 -accel tcg; see
# tests/e2e/e2e-lib.sh).  It fetches the kernel package with apt-get download
# into a cache (/var/cache/vmm-e2e as root) and skips (77) without QEMU or
# without the kernel.
e2e_tests = tests/e2e/nested.sh
# The nested arm64 host: the aarch64 cross build (tools/cross-arm64.sh, into
# build-arm64/) on KVM/arm64 under qemu-system-aarch64 -accel tcg.
e2e_tests += tests/e2e/nested-arm64.sh
TESTS += $(e2e_tests)
EXTRA_DIST += $(e2e_tests) tests/e2e/e2e-lib.sh tests/e2e/mk-l2-initramfs.sh tests/e2e/l1-move.sh \
	tests/e2e/README.md

# The arm64 device tree (core/fdt.c) booting a stock arm64 Linux on QEMU's
# virt board (qemu-system-aarch64 -accel tcg); skips like nested.sh.
# Run in the nested x86 host's L1 before the e2e runs (issue 17).
check_PROGRAMS += tests/e2e/kvm-keeper
tests_e2e_kvm_keeper_SOURCES = tests/e2e/kvm-keeper.c
# Run in L1 by tests/e2e/l1-stress.sh, by hand (issue 17's evidence); its
# guests are x86 real-mode code, so the aarch64 build has none.
if HOST_X86_64
check_PROGRAMS += tests/e2e/l1-stress
endif
tests_e2e_l1_stress_SOURCES = tests/e2e/l1-stress.c
tests_e2e_l1_stress_LDADD = -lpthread
EXTRA_DIST += tests/e2e/l1-stress.sh
check_PROGRAMS += tests/e2e/fdt-virt-dtb
tests_e2e_fdt_virt_dtb_SOURCES = tests/e2e/fdt-virt-dtb.c
tests_e2e_fdt_virt_dtb_LDADD = core/libvmmcore.la $(VMMCORE_USER_LIBS)
TESTS += tests/e2e/fdt-boot.sh
EXTRA_DIST += tests/e2e/fdt-boot.sh
