# devices/i8259: the cascaded 8259A pair with ELCR (register model + host
# glue) and its register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/i8259/i8259.la
devices_i8259_i8259_la_SOURCES = devices/i8259/i8259.c \
	devices/i8259/i8259.h devices/i8259/i8259-plugin.c
devices_i8259_i8259_la_CFLAGS = $(plugin_cflags)
devices_i8259_i8259_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/i8259/README.md

check_PROGRAMS += tests/unit/test_i8259
TESTS += tests/unit/test_i8259
tests_unit_test_i8259_SOURCES = tests/unit/test_i8259.c
tests_unit_test_i8259_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_i8259_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
