# devices/virtio-net: the virtio network device on a net backend, and its
# driver-side test.
pkgplugin_LTLIBRARIES += devices/virtio-net/virtio-net.la
devices_virtio_net_virtio_net_la_SOURCES = devices/virtio-net/virtio-net.c
devices_virtio_net_virtio_net_la_CFLAGS = $(plugin_cflags)
devices_virtio_net_virtio_net_la_LDFLAGS = $(plugin_ldflags)
devices_virtio_net_virtio_net_la_LIBADD = devices/virtio/libvirtio.la
EXTRA_DIST += devices/virtio-net/README.md

check_PROGRAMS += tests/unit/test_virtio_net
TESTS += tests/unit/test_virtio_net
tests_unit_test_virtio_net_SOURCES = tests/unit/test_virtio_net.c tests/unit/virtio-driver.h
tests_unit_test_virtio_net_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_virtio_net_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)

# The real tap backend: tests/cli/tap.sh makes a tap and runs tap-check.
check_PROGRAMS += tests/unit/tap-check
tests_unit_tap_check_SOURCES = tests/unit/tap-check.c tests/unit/virtio-driver.h tests/unit/proc-fd.h
tests_unit_tap_check_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_tap_check_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
TESTS += tests/cli/tap.sh
EXTRA_DIST += tests/cli/tap.sh
