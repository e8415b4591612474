# tests/unit: the property schema (core/props.c).
check_PROGRAMS += tests/unit/test_props
TESTS += tests/unit/test_props
tests_unit_test_props_SOURCES = tests/unit/test_props.c
tests_unit_test_props_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_props_LDADD = core/libvmmcore.la $(VMMCORE_USER_LIBS) $(CMOCKA_LIBS)
