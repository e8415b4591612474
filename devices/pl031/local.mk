# devices/pl031: the ARM PrimeCell RTC (PL031) plugin (register model + host
# glue) and its register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/pl031/pl031.la
devices_pl031_pl031_la_SOURCES = devices/pl031/pl031.c devices/pl031/pl031.h \
	devices/pl031/pl031-plugin.c
devices_pl031_pl031_la_CFLAGS = $(plugin_cflags)
devices_pl031_pl031_la_LIBADD = devices/model-glue/libmodel-glue.la
devices_pl031_pl031_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/pl031/README.md

check_PROGRAMS += tests/unit/test_pl031
TESTS += tests/unit/test_pl031
tests_unit_test_pl031_SOURCES = tests/unit/test_pl031.c
tests_unit_test_pl031_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pl031_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
