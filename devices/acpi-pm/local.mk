pkgplugin_LTLIBRARIES += devices/acpi-pm/acpi-pm.la
devices_acpi_pm_acpi_pm_la_SOURCES = devices/acpi-pm/acpi-pm.c
devices_acpi_pm_acpi_pm_la_CFLAGS = $(plugin_cflags)
devices_acpi_pm_acpi_pm_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/acpi-pm/README.md

# Its saved state through the harness.
check_PROGRAMS += tests/unit/test_acpi_pm
TESTS += tests/unit/test_acpi_pm
tests_unit_test_acpi_pm_SOURCES = tests/unit/test_acpi_pm.c
tests_unit_test_acpi_pm_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_acpi_pm_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
