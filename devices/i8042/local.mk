# devices/i8042: the 8042 keyboard controller plugin (register model + host
# glue) and its register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/i8042/i8042.la
devices_i8042_i8042_la_SOURCES = devices/i8042/i8042.c \
	devices/i8042/i8042.h devices/i8042/i8042-plugin.c
devices_i8042_i8042_la_CFLAGS = $(plugin_cflags)
devices_i8042_i8042_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/i8042/README.md

check_PROGRAMS += tests/unit/test_i8042
TESTS += tests/unit/test_i8042
tests_unit_test_i8042_SOURCES = tests/unit/test_i8042.c
tests_unit_test_i8042_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_i8042_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
