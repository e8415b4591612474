# devices/i8254: the 8254 PIT plugin (register model + host glue) and its
# register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/i8254/i8254.la
devices_i8254_i8254_la_SOURCES = devices/i8254/i8254.c \
	devices/i8254/i8254.h devices/i8254/i8254-plugin.c
devices_i8254_i8254_la_CFLAGS = $(plugin_cflags)
devices_i8254_i8254_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/i8254/README.md

check_PROGRAMS += tests/unit/test_i8254
TESTS += tests/unit/test_i8254
tests_unit_test_i8254_SOURCES = tests/unit/test_i8254.c
tests_unit_test_i8254_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_i8254_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)

# The model alone, with a fake clock that runs late.
check_PROGRAMS += tests/unit/test_i8254_model
TESTS += tests/unit/test_i8254_model
tests_unit_test_i8254_model_SOURCES = tests/unit/test_i8254_model.c devices/i8254/i8254.c
tests_unit_test_i8254_model_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_i8254_model_LDADD = $(CMOCKA_LIBS)
