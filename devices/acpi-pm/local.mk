pkgplugin_LTLIBRARIES += devices/acpi-pm/acpi-pm.la
devices_acpi_pm_acpi_pm_la_SOURCES = devices/acpi-pm/acpi-pm.c
devices_acpi_pm_acpi_pm_la_CFLAGS = $(plugin_cflags)
devices_acpi_pm_acpi_pm_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/acpi-pm/README.md
