# devices/gic: a GICv2 (distributor + CPU interfaces) emulated in userspace:
# the register model, the plugin glue, and their tests (the model driven
# directly; the plugin through the harness).
pkgplugin_LTLIBRARIES += devices/gic/gic.la
devices_gic_gic_la_SOURCES = devices/gic/gic-model.c devices/gic/gic-model.h \
	devices/gic/gic-plugin.c
devices_gic_gic_la_CFLAGS = $(plugin_cflags)
devices_gic_gic_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/gic/README.md

check_PROGRAMS += tests/unit/test_gic
TESTS += tests/unit/test_gic
tests_unit_test_gic_SOURCES = tests/unit/test_gic.c devices/gic/gic-model.c
tests_unit_test_gic_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_gic_LDADD = $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_gic_plugin
TESTS += tests/unit/test_gic_plugin
tests_unit_test_gic_plugin_SOURCES = tests/unit/test_gic_plugin.c
tests_unit_test_gic_plugin_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_gic_plugin_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
