# tests/harness: the fake host plugin authors test against (libvmm-harness),
# its fixture device and its own test.
vmminclude_HEADERS += include/vmm/harness.h

lib_LTLIBRARIES += tests/harness/libvmm-harness.la
tests_harness_libvmm_harness_la_SOURCES = tests/harness/harness.c
tests_harness_libvmm_harness_la_CFLAGS = $(AM_CFLAGS)
# Export only the documented API: core/libvmmcore.la is folded in, but the
# props and loader functions are not part of this library's ABI.
tests_harness_libvmm_harness_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-export-symbols-regex '^vmm_harness_'
tests_harness_libvmm_harness_la_LIBADD = core/libvmmcore.la $(VMMCORE_USER_LIBS)

check_LTLIBRARIES += tests/fixtures/fake-dev.la
tests_fixtures_fake_dev_la_SOURCES = tests/fixtures/fake-dev.c
tests_fixtures_fake_dev_la_CFLAGS = $(plugin_cflags)
tests_fixtures_fake_dev_la_LDFLAGS = -module -avoid-version -shared -no-undefined -rpath /nowhere \
	-export-symbols-regex '^vmm_plugin_entry$$'

check_PROGRAMS += tests/unit/test_harness
TESTS += tests/unit/test_harness
tests_unit_test_harness_SOURCES = tests/unit/test_harness.c
tests_unit_test_harness_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_harness_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)

TESTS += tests/harness/check-exports.sh
EXTRA_DIST += tests/harness/check-exports.sh

# The harness and vmmctl refuse the same files with the same lines (issue 13).
check_PROGRAMS += tests/harness/harness-load
tests_harness_harness_load_SOURCES = tests/harness/harness-load.c
tests_harness_harness_load_LDADD = tests/harness/libvmm-harness.la
TESTS += tests/harness/parity.sh
EXTRA_DIST += tests/harness/parity.sh

# Damaged saved-state records against every device plugin that saves (ABI 1.12).
check_PROGRAMS += tests/unit/test_state_hostile
TESTS += tests/unit/test_state_hostile
tests_unit_test_state_hostile_SOURCES = tests/unit/test_state_hostile.c
tests_unit_test_state_hostile_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_state_hostile_LDADD = tests/harness/libvmm-harness.la $(core_test_ldadd)
