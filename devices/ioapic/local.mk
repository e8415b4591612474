# devices/ioapic: the I/O APIC plugin (register model + host glue) and its
# register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/ioapic/ioapic.la
devices_ioapic_ioapic_la_SOURCES = devices/ioapic/ioapic.c \
	devices/ioapic/ioapic.h devices/ioapic/ioapic-plugin.c
devices_ioapic_ioapic_la_CFLAGS = $(plugin_cflags)
devices_ioapic_ioapic_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/ioapic/README.md

check_PROGRAMS += tests/unit/test_ioapic
TESTS += tests/unit/test_ioapic
tests_unit_test_ioapic_SOURCES = tests/unit/test_ioapic.c
tests_unit_test_ioapic_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_ioapic_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
