# devices/hyperv: Hyper-V enlightenments (model + MSR-bus glue) and the
# model's unit test.
pkgplugin_LTLIBRARIES += devices/hyperv/hyperv.la
devices_hyperv_hyperv_la_SOURCES = devices/hyperv/hyperv.c \
	devices/hyperv/hyperv.h devices/hyperv/hyperv-plugin.c
devices_hyperv_hyperv_la_CFLAGS = $(plugin_cflags)
devices_hyperv_hyperv_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/hyperv/README.md

check_PROGRAMS += tests/unit/test_hyperv
TESTS += tests/unit/test_hyperv
tests_unit_test_hyperv_SOURCES = tests/unit/test_hyperv.c devices/hyperv/hyperv.c
tests_unit_test_hyperv_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_hyperv_LDADD = $(CMOCKA_LIBS)

# The plugin itself through the harness: CPUID given to the host, the
# hypercall port, the TSC page, the timers on the stepped virtual clock.
check_PROGRAMS += tests/unit/test_hyperv_plugin
TESTS += tests/unit/test_hyperv_plugin
tests_unit_test_hyperv_plugin_SOURCES = tests/unit/test_hyperv_plugin.c devices/hyperv/hyperv.c
tests_unit_test_hyperv_plugin_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_hyperv_plugin_LDADD = tests/harness/libvmm-harness.la $(core_test_ldadd)
