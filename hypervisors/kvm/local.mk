# hypervisors/kvm: the Linux KVM backend, and its unit test against /dev/kvm.
# kvm.c is the architecture-neutral half, kvm-x86.c or kvm-arm64.c the
# host's own (kvm-internal.h says what each half gives the other).
kvm_common_sources = hypervisors/kvm/kvm.c hypervisors/kvm/kvm-internal.h \
	hypervisors/kvm/kvm-vcpus.c hypervisors/kvm/kvm-vcpus.h \
	hypervisors/kvm/kvm-dirty-ring.c hypervisors/kvm/kvm-dirty-ring.h
if HOST_AARCH64
pkgplugin_LTLIBRARIES += hypervisors/kvm/kvm.la
hypervisors_kvm_kvm_la_SOURCES = $(kvm_common_sources) hypervisors/kvm/kvm-arm64.c \
	hypervisors/kvm/kvm-arm64-state.c hypervisors/kvm/kvm-arm64-state.h \
	hypervisors/kvm/kvm-arm64-regs.c hypervisors/kvm/kvm-arm64-regs.h \
	hypervisors/kvm/kvm-arm64-vgic.c hypervisors/kvm/kvm-arm64-vgic.h
hypervisors_kvm_kvm_la_CFLAGS = $(plugin_cflags)
hypervisors_kvm_kvm_la_LDFLAGS = $(plugin_ldflags)
endif
if HOST_X86_64
pkgplugin_LTLIBRARIES += hypervisors/kvm/kvm.la
hypervisors_kvm_kvm_la_SOURCES = $(kvm_common_sources) hypervisors/kvm/kvm-x86.c \
	hypervisors/kvm/kvm-x86-state.c hypervisors/kvm/kvm-x86-state.h \
	hypervisors/kvm/kvm-cpuid.c hypervisors/kvm/kvm-cpuid.h
hypervisors_kvm_kvm_la_CFLAGS = $(plugin_cflags)
hypervisors_kvm_kvm_la_LDFLAGS = $(plugin_ldflags)

check_PROGRAMS += tests/unit/test_kvm
TESTS += tests/unit/test_kvm
tests_unit_test_kvm_SOURCES = tests/unit/test_kvm.c
tests_unit_test_kvm_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_kvm_LDADD = core/libvmmcore.la $(VMMCORE_USER_LIBS) $(CMOCKA_LIBS)

# The CPUID shaping is a pure function: tested on crafted tables, no /dev/kvm.
check_PROGRAMS += tests/unit/test_kvm_cpuid
TESTS += tests/unit/test_kvm_cpuid
tests_unit_test_kvm_cpuid_SOURCES = tests/unit/test_kvm_cpuid.c hypervisors/kvm/kvm-cpuid.c
tests_unit_test_kvm_cpuid_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_kvm_cpuid_LDADD = $(CMOCKA_LIBS)

# So is the vCPU count check: any host's NR_VCPUS/MAX_VCPUS/MAX_VCPU_ID.
check_PROGRAMS += tests/unit/test_kvm_vcpus
TESTS += tests/unit/test_kvm_vcpus
tests_unit_test_kvm_vcpus_SOURCES = tests/unit/test_kvm_vcpus.c hypervisors/kvm/kvm-vcpus.c
tests_unit_test_kvm_vcpus_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_kvm_vcpus_LDADD = $(CMOCKA_LIBS)

# And the dirty ring's harvest: fake rings in plain memory, a fake reset.
check_PROGRAMS += tests/unit/test_kvm_dirty_ring
TESTS += tests/unit/test_kvm_dirty_ring
tests_unit_test_kvm_dirty_ring_SOURCES = tests/unit/test_kvm_dirty_ring.c hypervisors/kvm/kvm-dirty-ring.c
tests_unit_test_kvm_dirty_ring_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_kvm_dirty_ring_LDADD = $(CMOCKA_LIBS) -lpthread
endif

# The arm64 register record (encoding, checks against KVM's list, load
# order) is pure: tested on any host.
check_PROGRAMS += tests/unit/test_kvm_arm64_regs
TESTS += tests/unit/test_kvm_arm64_regs
tests_unit_test_kvm_arm64_regs_SOURCES = tests/unit/test_kvm_arm64_regs.c \
	hypervisors/kvm/kvm-arm64-regs.c hypervisors/kvm/kvm-arm64-regs.h
tests_unit_test_kvm_arm64_regs_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_kvm_arm64_regs_LDADD = $(CMOCKA_LIBS)
# So is the in-kernel vGICv3's record (the registers walked, the load
# order, the checks), on a fake vGIC's device attributes.
check_PROGRAMS += tests/unit/test_kvm_arm64_vgic
TESTS += tests/unit/test_kvm_arm64_vgic
tests_unit_test_kvm_arm64_vgic_SOURCES = tests/unit/test_kvm_arm64_vgic.c \
	hypervisors/kvm/kvm-arm64-vgic.c hypervisors/kvm/kvm-arm64-vgic.h
tests_unit_test_kvm_arm64_vgic_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_kvm_arm64_vgic_LDADD = $(CMOCKA_LIBS)
EXTRA_DIST += hypervisors/kvm/README.md
