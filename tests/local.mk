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

check_LTLIBRARIES += tests/fixtures/fake-hv.la
tests_fixtures_fake_hv_la_SOURCES = tests/fixtures/fake-hv.c
tests_fixtures_fake_hv_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_hv_la_LDFLAGS = $(fixture_ldflags)

core_test_ldadd = core/libvmmcore.la $(CMOCKA_LIBS)
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

check_PROGRAMS += tests/unit/test_boot
TESTS += tests/unit/test_boot
tests_unit_test_boot_SOURCES = tests/unit/test_boot.c
tests_unit_test_boot_CFLAGS = $(core_test_cflags)
tests_unit_test_boot_LDADD = $(core_test_ldadd)

TESTS += tests/sdk/sdk-test.sh
EXTRA_DIST += tests/sdk/sdk-test.sh tests/sdk/sdk-example.c

TESTS += tests/cli/vmmctl-cli.sh tests/cli/acpi.sh tests/cli/robustness.sh
EXTRA_DIST += tests/cli/vmmctl-cli.sh tests/cli/acpi.sh tests/cli/robustness.sh

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
EXTRA_DIST += tests/unit/device-fixture.h

# The machine loop on real threads: a fake hypervisor and a device whose
# behaviour the test supplies (tests/unit/test_machine.c).
check_LTLIBRARIES += tests/fixtures/fake-vcpu-hv.la
tests_fixtures_fake_vcpu_hv_la_SOURCES = tests/fixtures/fake-vcpu-hv.c tests/fixtures/fake-vcpu-hv.h
tests_fixtures_fake_vcpu_hv_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_vcpu_hv_la_LDFLAGS = $(fixture_ldflags)

check_LTLIBRARIES += tests/fixtures/fake-hook-dev.la
tests_fixtures_fake_hook_dev_la_SOURCES = tests/fixtures/fake-hook-dev.c tests/fixtures/fake-hook-dev.h
tests_fixtures_fake_hook_dev_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_hook_dev_la_LDFLAGS = $(fixture_ldflags)

check_PROGRAMS += tests/unit/test_machine
TESTS += tests/unit/test_machine
tests_unit_test_machine_SOURCES = tests/unit/test_machine.c tests/fixtures/fake-vcpu-hv.h \
	tests/fixtures/fake-hook-dev.h
tests_unit_test_machine_CFLAGS = $(core_test_cflags) $(LIBEVENT_CFLAGS)
tests_unit_test_machine_LDADD = $(core_test_ldadd)

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
