# devices/arm-timer: the ARM generic timer's interrupts (device tree node,
# KVM's per-vCPU PPIs, the output levels onto the GIC plugin) and its
# harness test.
pkgplugin_LTLIBRARIES += devices/arm-timer/arm-timer.la
devices_arm_timer_arm_timer_la_SOURCES = devices/arm-timer/arm-timer.c
devices_arm_timer_arm_timer_la_CFLAGS = $(plugin_cflags)
devices_arm_timer_arm_timer_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/arm-timer/README.md

check_PROGRAMS += tests/unit/test_arm_timer
TESTS += tests/unit/test_arm_timer
tests_unit_test_arm_timer_SOURCES = tests/unit/test_arm_timer.c
tests_unit_test_arm_timer_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_arm_timer_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
