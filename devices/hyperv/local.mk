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
