# devices/virtio-console: the virtio console device on a character backend,
# and its driver-side test.
pkgplugin_LTLIBRARIES += devices/virtio-console/virtio-console.la
devices_virtio_console_virtio_console_la_SOURCES = devices/virtio-console/virtio-console.c
devices_virtio_console_virtio_console_la_CFLAGS = $(plugin_cflags)
devices_virtio_console_virtio_console_la_LDFLAGS = $(plugin_ldflags)
devices_virtio_console_virtio_console_la_LIBADD = devices/virtio/libvirtio.la
EXTRA_DIST += devices/virtio-console/README.md

check_PROGRAMS += tests/unit/test_virtio_console
TESTS += tests/unit/test_virtio_console
tests_unit_test_virtio_console_SOURCES = tests/unit/test_virtio_console.c tests/unit/virtio-driver.h
tests_unit_test_virtio_console_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_virtio_console_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
