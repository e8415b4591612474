# devices/cmos-rtc: the MC146818A RTC / CMOS RAM plugin (register model +
# host glue) and its register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/cmos-rtc/cmos-rtc.la
devices_cmos_rtc_cmos_rtc_la_SOURCES = devices/cmos-rtc/rtc.c \
	devices/cmos-rtc/rtc.h devices/cmos-rtc/rtc-plugin.c
devices_cmos_rtc_cmos_rtc_la_CFLAGS = $(plugin_cflags)
devices_cmos_rtc_cmos_rtc_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/cmos-rtc/README.md

check_PROGRAMS += tests/unit/test_cmos_rtc
TESTS += tests/unit/test_cmos_rtc
# The calendar helpers are tested directly too.
tests_unit_test_cmos_rtc_SOURCES = tests/unit/test_cmos_rtc.c devices/cmos-rtc/rtc.c
tests_unit_test_cmos_rtc_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_cmos_rtc_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
