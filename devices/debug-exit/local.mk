pkgplugin_LTLIBRARIES += devices/debug-exit/debug-exit.la
devices_debug_exit_debug_exit_la_SOURCES = devices/debug-exit/debug-exit.c
devices_debug_exit_debug_exit_la_CFLAGS = $(plugin_cflags)
devices_debug_exit_debug_exit_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/debug-exit/README.md

# Its exit status and (empty) saved state through the harness.
check_PROGRAMS += tests/unit/test_debug_exit
TESTS += tests/unit/test_debug_exit
tests_unit_test_debug_exit_SOURCES = tests/unit/test_debug_exit.c
tests_unit_test_debug_exit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_debug_exit_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
