# devices/gic: a GICv2 (distributor + CPU interfaces) emulated in userspace,
# the register model and its unit test.
EXTRA_DIST += devices/gic/README.md devices/gic/gic-model.h

check_PROGRAMS += tests/unit/test_gic
TESTS += tests/unit/test_gic
tests_unit_test_gic_SOURCES = tests/unit/test_gic.c devices/gic/gic-model.c
tests_unit_test_gic_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_gic_LDADD = $(CMOCKA_LIBS)
