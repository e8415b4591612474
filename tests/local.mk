# tests: core unit tests (cmocka) and the plugin fixtures they load.
fixture_ldflags = -module -avoid-version -shared -no-undefined -rpath /nowhere

check_LTLIBRARIES += tests/fixtures/good.la
tests_fixtures_good_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_good_la_CFLAGS = $(plugin_cflags) -DFIXTURE_NAME=\"good\"
tests_fixtures_good_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/bad-major.la
tests_fixtures_bad_major_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_bad_major_la_CFLAGS = $(plugin_cflags) -DBROKEN_MAJOR -DFIXTURE_NAME=\"bad-major\"
tests_fixtures_bad_major_la_LDFLAGS = $(fixture_ldflags)

# A descriptor written without VMM_PLUGIN_HEADER (issue 13).
check_LTLIBRARIES += tests/fixtures/no-header.la
tests_fixtures_no_header_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_no_header_la_CFLAGS = $(plugin_cflags) -DBROKEN_NO_HEADER -DFIXTURE_NAME=\"no-header\"
tests_fixtures_no_header_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/newer-minor.la
tests_fixtures_newer_minor_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_newer_minor_la_CFLAGS = $(plugin_cflags) -DBROKEN_MINOR -DFIXTURE_NAME=\"newer-minor\"
tests_fixtures_newer_minor_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/small-desc.la
tests_fixtures_small_desc_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_small_desc_la_CFLAGS = $(plugin_cflags) -DBROKEN_SMALL_DESC -DFIXTURE_NAME=\"small-desc\"
tests_fixtures_small_desc_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/bad-kind.la
tests_fixtures_bad_kind_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_bad_kind_la_CFLAGS = $(plugin_cflags) -DBROKEN_KIND -DFIXTURE_NAME=\"bad-kind\"
tests_fixtures_bad_kind_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/small-ops.la
tests_fixtures_small_ops_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_small_ops_la_CFLAGS = $(plugin_cflags) -DBROKEN_SMALL_OPS -DFIXTURE_NAME=\"small-ops\"
tests_fixtures_small_ops_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/no-entry.la
tests_fixtures_no_entry_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_no_entry_la_CFLAGS = $(plugin_cflags) -DBROKEN_NO_ENTRY
tests_fixtures_no_entry_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/null-entry.la
tests_fixtures_null_entry_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_null_entry_la_CFLAGS = $(plugin_cflags) -DBROKEN_NULL_ENTRY
tests_fixtures_null_entry_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/undefined-sym.la
tests_fixtures_undefined_sym_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_undefined_sym_la_CFLAGS = $(plugin_cflags) -DBROKEN_UNDEFINED -DFIXTURE_NAME=\"undefined-sym\"
tests_fixtures_undefined_sym_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

check_LTLIBRARIES += tests/fixtures/misnamed.la
tests_fixtures_misnamed_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_misnamed_la_CFLAGS = $(plugin_cflags) -DFIXTURE_NAME=\"not-misnamed\"
tests_fixtures_misnamed_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/older-minor.la
tests_fixtures_older_minor_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_older_minor_la_CFLAGS = $(plugin_cflags) -DOLDER_MINOR -DFIXTURE_NAME=\"older-minor\"
tests_fixtures_older_minor_la_LDFLAGS = $(fixture_ldflags)

# Descriptors and schemas that break the rules of vmm/plugin.h (issue 9),
# and a device whose create() returns a positive value.
check_LTLIBRARIES += tests/fixtures/huge-desc.la
tests_fixtures_huge_desc_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_huge_desc_la_CFLAGS = $(plugin_cflags) -DBROKEN_HUGE_DESC -DFIXTURE_NAME=\"huge-desc\"
tests_fixtures_huge_desc_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/huge-ops.la
tests_fixtures_huge_ops_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_huge_ops_la_CFLAGS = $(plugin_cflags) -DBROKEN_HUGE_OPS -DFIXTURE_NAME=\"huge-ops\"
tests_fixtures_huge_ops_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/bad-name.la
tests_fixtures_bad_name_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_bad_name_la_CFLAGS = $(plugin_cflags) -DBROKEN_NAME -DFIXTURE_NAME=\"bad-name\"
tests_fixtures_bad_name_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/prop-default-range.la
tests_fixtures_prop_default_range_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_prop_default_range_la_CFLAGS = $(plugin_cflags) -DBROKEN_PROP_DEFAULT_RANGE -DFIXTURE_NAME=\"prop-default-range\"
tests_fixtures_prop_default_range_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/prop-default-enum.la
tests_fixtures_prop_default_enum_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_prop_default_enum_la_CFLAGS = $(plugin_cflags) -DBROKEN_PROP_DEFAULT_ENUM -DFIXTURE_NAME=\"prop-default-enum\"
tests_fixtures_prop_default_enum_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/prop-duplicate.la
tests_fixtures_prop_duplicate_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_prop_duplicate_la_CFLAGS = $(plugin_cflags) -DBROKEN_PROP_DUPLICATE -DFIXTURE_NAME=\"prop-duplicate\"
tests_fixtures_prop_duplicate_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/prop-empty.la
tests_fixtures_prop_empty_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_prop_empty_la_CFLAGS = $(plugin_cflags) -DBROKEN_PROP_EMPTY -DFIXTURE_NAME=\"prop-empty\"
tests_fixtures_prop_empty_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/prop-reserved.la
tests_fixtures_prop_reserved_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_prop_reserved_la_CFLAGS = $(plugin_cflags) -DBROKEN_PROP_RESERVED -DFIXTURE_NAME=\"prop-reserved\"
tests_fixtures_prop_reserved_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/prop-name.la
tests_fixtures_prop_name_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_prop_name_la_CFLAGS = $(plugin_cflags) -DBROKEN_PROP_NAME -DFIXTURE_NAME=\"prop-name\"
tests_fixtures_prop_name_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/positive-create.la
tests_fixtures_positive_create_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_positive_create_la_CFLAGS = $(plugin_cflags) -DPOSITIVE_CREATE -DFIXTURE_NAME=\"positive-create\"
tests_fixtures_positive_create_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/failing-create.la
tests_fixtures_failing_create_la_SOURCES = tests/fixtures/broken-plugin.c
tests_fixtures_failing_create_la_CFLAGS = $(plugin_cflags) -DFAILING_CREATE -DFIXTURE_NAME=\"failing-create\"
tests_fixtures_failing_create_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/fake-hv.la
tests_fixtures_fake_hv_la_SOURCES = tests/fixtures/fake-hv.c
tests_fixtures_fake_hv_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_hv_la_LDFLAGS = $(fixture_ldflags)

core_test_ldadd = core/libvmmcore.la $(VMMCORE_USER_LIBS) $(CMOCKA_LIBS)
core_test_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test_loader
TESTS += tests/unit/test_loader
tests_unit_test_loader_SOURCES = tests/unit/test_loader.c
tests_unit_test_loader_CFLAGS = $(core_test_cflags)
tests_unit_test_loader_LDADD = $(core_test_ldadd)

check_PROGRAMS += tests/unit/test_block
TESTS += tests/unit/test_block
tests_unit_test_block_SOURCES = tests/unit/test_block.c
tests_unit_test_block_CFLAGS = $(core_test_cflags)
tests_unit_test_block_LDADD = $(core_test_ldadd)

# plugins/block-common (the raw-image backends' shared I/O).
check_PROGRAMS += tests/unit/test_block_io
TESTS += tests/unit/test_block_io
tests_unit_test_block_io_SOURCES = tests/unit/test_block_io.c
tests_unit_test_block_io_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_block_io_LDADD = plugins/block-common/libblockio.la $(CMOCKA_LIBS)

# plugins/block-uring through its ops table (only where liburing is).
if HAVE_LIBURING
check_PROGRAMS += tests/unit/test_block_uring
TESTS += tests/unit/test_block_uring
tests_unit_test_block_uring_SOURCES = tests/unit/test_block_uring.c
tests_unit_test_block_uring_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_block_uring_LDADD = $(CMOCKA_LIBS) -ldl
endif

check_PROGRAMS += tests/unit/test_bus
TESTS += tests/unit/test_bus
tests_unit_test_bus_SOURCES = tests/unit/test_bus.c
tests_unit_test_bus_CFLAGS = $(core_test_cflags)
tests_unit_test_bus_LDADD = $(core_test_ldadd)

check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(core_test_cflags)
tests_unit_test_config_LDADD = $(core_test_ldadd)

check_PROGRAMS += tests/unit/test_boot_arm64
TESTS += tests/unit/test_boot_arm64
tests_unit_test_boot_arm64_SOURCES = tests/unit/test_boot_arm64.c tests/unit/gzip-helper.h
tests_unit_test_boot_arm64_CFLAGS = $(core_test_cflags) $(ZLIB_CFLAGS)
tests_unit_test_boot_arm64_LDADD = $(core_test_ldadd) $(ZLIB_LIBS)

check_PROGRAMS += tests/unit/test_kernel_payload
TESTS += tests/unit/test_kernel_payload
tests_unit_test_kernel_payload_SOURCES = tests/unit/test_kernel_payload.c tests/unit/gzip-helper.h
tests_unit_test_kernel_payload_CFLAGS = $(core_test_cflags) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) $(LZ4_CFLAGS) $(ZSTD_CFLAGS)
tests_unit_test_kernel_payload_LDADD = $(core_test_ldadd) $(ZLIB_LIBS) $(LZMA_LIBS) $(LZ4_LIBS) $(ZSTD_LIBS)

check_PROGRAMS += tests/unit/test_boot
TESTS += tests/unit/test_boot
tests_unit_test_boot_SOURCES = tests/unit/test_boot.c tests/unit/boot-machine.h tests/unit/gzip-helper.h
tests_unit_test_boot_CFLAGS = $(core_test_cflags) $(ZLIB_CFLAGS)
tests_unit_test_boot_LDADD = $(core_test_ldadd) $(ZLIB_LIBS)

TESTS += tests/sdk/sdk-test.sh
EXTRA_DIST += tests/sdk/sdk-test.sh tests/sdk/sdk-example.c

TESTS += tests/cli/vmmctl-cli.sh tests/cli/acpi.sh tests/cli/robustness.sh tests/cli/check.sh tests/cli/api.sh tests/cli/dump-dtb.sh tests/cli/snapshot.sh tests/cli/migrate.sh
EXTRA_DIST += tests/cli/vmmctl-cli.sh tests/cli/acpi.sh tests/cli/robustness.sh tests/cli/check.sh tests/cli/api.sh tests/cli/dump-dtb.sh tests/cli/snapshot.sh tests/cli/migrate.sh tests/cli/snap-lib.sh

# The pty and socket backends, with the user's end played by char-peer.
check_PROGRAMS += tests/cli/char-peer
tests_cli_char_peer_SOURCES = tests/cli/char-peer.c
TESTS += tests/cli/char-backends.sh
EXTRA_DIST += tests/cli/char-backends.sh

check_PROGRAMS += tests/unit/test_acpi
TESTS += tests/unit/test_acpi
tests_unit_test_acpi_SOURCES = tests/unit/test_acpi.c
tests_unit_test_acpi_CFLAGS = $(core_test_cflags)
tests_unit_test_acpi_LDADD = $(core_test_ldadd)

check_PROGRAMS += tests/unit/test_fdt
TESTS += tests/unit/test_fdt
tests_unit_test_fdt_SOURCES = tests/unit/test_fdt.c
tests_unit_test_fdt_CFLAGS = $(core_test_cflags)
tests_unit_test_fdt_LDADD = $(core_test_ldadd) $(FDT_LIBS)
EXTRA_DIST += tests/unit/device-fixture.h tests/unit/test-env.h tests/unit/state-record.h

# The machine loop on real threads: a fake hypervisor and a device whose
# behaviour the test supplies (tests/unit/test_machine.c).
check_LTLIBRARIES += tests/fixtures/fake-vcpu-hv.la
tests_fixtures_fake_vcpu_hv_la_SOURCES = tests/fixtures/fake-vcpu-hv.c tests/fixtures/fake-vcpu-hv.h
tests_fixtures_fake_vcpu_hv_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_vcpu_hv_la_LDFLAGS = $(fixture_ldflags)

# An arm64 machine without KVM/arm64: vmmctl check --dump-dtb on any host
# (tests/cli/dump-dtb.sh).
check_LTLIBRARIES += tests/fixtures/fake-arm64-hv.la
tests_fixtures_fake_arm64_hv_la_SOURCES = tests/fixtures/fake-arm64-hv.c
tests_fixtures_fake_arm64_hv_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_arm64_hv_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/fake-hook-dev.la
tests_fixtures_fake_hook_dev_la_SOURCES = tests/fixtures/fake-hook-dev.c tests/fixtures/fake-hook-dev.h
tests_fixtures_fake_hook_dev_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_hook_dev_la_LDFLAGS = $(fixture_ldflags)

# core/snapshot.c against fake-vcpu-hv and fake-dev (their save/load ops).
check_PROGRAMS += tests/unit/test_snapshot
TESTS += tests/unit/test_snapshot
tests_unit_test_snapshot_SOURCES = tests/unit/test_snapshot.c tests/fixtures/fake-vcpu-hv.h tests/unit/fixture-machine.h
tests_unit_test_snapshot_CFLAGS = $(core_test_cflags) $(LIBEVENT_CFLAGS)
tests_unit_test_snapshot_LDADD = $(core_test_ldadd)

# core/migrate.c: damaged streams, and migrations between two machines of
# fake-vcpu-hv (its dirty log filled by the test) and fake-dev.
check_PROGRAMS += tests/unit/test_migrate
TESTS += tests/unit/test_migrate
tests_unit_test_migrate_SOURCES = tests/unit/test_migrate.c tests/fixtures/fake-vcpu-hv.h tests/unit/fixture-machine.h
tests_unit_test_migrate_CFLAGS = $(core_test_cflags) $(LIBEVENT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_migrate_LDADD = $(core_test_ldadd) $(LIBEVENT_LIBS) $(JSONC_LIBS) -lpthread

check_PROGRAMS += tests/unit/test_machine
TESTS += tests/unit/test_machine
tests_unit_test_machine_SOURCES = tests/unit/test_machine.c tests/fixtures/fake-vcpu-hv.h \
	tests/fixtures/fake-hook-dev.h
tests_unit_test_machine_CFLAGS = $(core_test_cflags) $(LIBEVENT_CFLAGS)
tests_unit_test_machine_LDADD = $(core_test_ldadd)

# A block backend that logs each operation (tests/unit/test_virtio_blk.c).
check_LTLIBRARIES += tests/fixtures/fake-block.la
tests_fixtures_fake_block_la_SOURCES = tests/fixtures/fake-block.c
tests_fixtures_fake_block_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_block_la_LDFLAGS = $(fixture_ldflags)

# Plugins whose code crashes: vmmctl names them (tests/cli/robustness.sh).
check_LTLIBRARIES += tests/fixtures/crash-dev.la
tests_fixtures_crash_dev_la_SOURCES = tests/fixtures/crash-plugin.c
tests_fixtures_crash_dev_la_CFLAGS = $(plugin_cflags)
tests_fixtures_crash_dev_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/crash-load.la
tests_fixtures_crash_load_la_SOURCES = tests/fixtures/crash-plugin.c
tests_fixtures_crash_load_la_CFLAGS = $(plugin_cflags) -DCRASH_IN_CONSTRUCTOR -DFIXTURE_NAME=\"crash-load\"
tests_fixtures_crash_load_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/exit-load.la
tests_fixtures_exit_load_la_SOURCES = tests/fixtures/crash-plugin.c
tests_fixtures_exit_load_la_CFLAGS = $(plugin_cflags) -DEXIT_IN_CONSTRUCTOR -DFIXTURE_NAME=\"exit-load\"
tests_fixtures_exit_load_la_LDFLAGS = $(fixture_ldflags)

# A device that makes a system call outside the seccomp allow-lists, with
# and without declaring it (tests/cli/seccomp.sh, issue 15).
check_LTLIBRARIES += tests/fixtures/forbidden-dev.la
tests_fixtures_forbidden_dev_la_SOURCES = tests/fixtures/forbidden-plugin.c
tests_fixtures_forbidden_dev_la_CFLAGS = $(plugin_cflags)
tests_fixtures_forbidden_dev_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/forbidden-ok.la
tests_fixtures_forbidden_ok_la_SOURCES = tests/fixtures/forbidden-plugin.c
tests_fixtures_forbidden_ok_la_CFLAGS = $(plugin_cflags) -DDECLARE_SOCKET -DFIXTURE_NAME=\"forbidden-ok\"
tests_fixtures_forbidden_ok_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/bad-syscall.la
tests_fixtures_bad_syscall_la_SOURCES = tests/fixtures/forbidden-plugin.c
tests_fixtures_bad_syscall_la_CFLAGS = $(plugin_cflags) -DDECLARE_BOGUS -DFIXTURE_NAME=\"bad-syscall\"
tests_fixtures_bad_syscall_la_LDFLAGS = $(fixture_ldflags)

TESTS += tests/cli/seccomp.sh tests/cli/privileges.sh tests/cli/jail.sh
EXTRA_DIST += tests/cli/seccomp.sh tests/cli/privileges.sh tests/cli/jail.sh

# The instruction bytes at RIP of a stopped vCPU (issue 13).
check_PROGRAMS += tests/unit/test_x86_walk
TESTS += tests/unit/test_x86_walk
tests_unit_test_x86_walk_SOURCES = tests/unit/test_x86_walk.c
tests_unit_test_x86_walk_CFLAGS = $(core_test_cflags)
tests_unit_test_x86_walk_LDADD = $(core_test_ldadd)

# seccomp's name table and its filters built once, loaded per thread (issue 15).
check_PROGRAMS += tests/unit/test_seccomp
TESTS += tests/unit/test_seccomp
tests_unit_test_seccomp_SOURCES = tests/unit/test_seccomp.c
tests_unit_test_seccomp_CFLAGS = $(core_test_cflags) $(SECCOMP_CFLAGS)
tests_unit_test_seccomp_LDADD = $(core_test_ldadd) $(SECCOMP_LIBS)

# The control API without a machine: router, server and client (issue 14).
check_PROGRAMS += tests/unit/test_api
TESTS += tests/unit/test_api
tests_unit_test_api_SOURCES = tests/unit/test_api.c
tests_unit_test_api_CFLAGS = $(core_test_cflags) $(LIBEVENT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_api_LDADD = $(core_test_ldadd) $(LIBEVENT_LIBS) $(JSONC_LIBS)

check_PROGRAMS += tests/unit/test_state
TESTS += tests/unit/test_state
tests_unit_test_state_SOURCES = tests/unit/test_state.c
tests_unit_test_state_CFLAGS = $(core_test_cflags)
tests_unit_test_state_LDADD = $(core_test_ldadd)
