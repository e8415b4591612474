# devices/virtio-rng: the virtio entropy device and its driver-side test.
pkgplugin_LTLIBRARIES += devices/virtio-rng/virtio-rng.la
devices_virtio_rng_virtio_rng_la_SOURCES = devices/virtio-rng/virtio-rng.c
devices_virtio_rng_virtio_rng_la_CFLAGS = $(plugin_cflags)
devices_virtio_rng_virtio_rng_la_LDFLAGS = $(plugin_ldflags)
devices_virtio_rng_virtio_rng_la_LIBADD = devices/virtio/libvirtio.la
EXTRA_DIST += devices/virtio-rng/README.md

check_PROGRAMS += tests/unit/test_virtio_rng
TESTS += tests/unit/test_virtio_rng
tests_unit_test_virtio_rng_SOURCES = tests/unit/test_virtio_rng.c tests/unit/virtio-driver.h
tests_unit_test_virtio_rng_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_virtio_rng_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
