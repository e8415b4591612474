# devices/pl011: the ARM PrimeCell UART (PL011) plugin (register model + host
# glue) and its register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/pl011/pl011.la
devices_pl011_pl011_la_SOURCES = devices/pl011/pl011.c devices/pl011/pl011.h \
	devices/pl011/pl011-plugin.c
devices_pl011_pl011_la_CFLAGS = $(plugin_cflags)
devices_pl011_pl011_la_LIBADD = devices/model-glue/libmodel-glue.la
devices_pl011_pl011_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/pl011/README.md

check_PROGRAMS += tests/unit/test_pl011
TESTS += tests/unit/test_pl011
tests_unit_test_pl011_SOURCES = tests/unit/test_pl011.c
tests_unit_test_pl011_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pl011_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
