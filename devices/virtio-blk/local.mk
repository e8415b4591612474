# devices/virtio-blk: the virtio block device on a block backend, and its
# driver-side test.
pkgplugin_LTLIBRARIES += devices/virtio-blk/virtio-blk.la
devices_virtio_blk_virtio_blk_la_SOURCES = devices/virtio-blk/virtio-blk.c
devices_virtio_blk_virtio_blk_la_CFLAGS = $(plugin_cflags)
devices_virtio_blk_virtio_blk_la_LDFLAGS = $(plugin_ldflags)
devices_virtio_blk_virtio_blk_la_LIBADD = devices/virtio/libvirtio.la
EXTRA_DIST += devices/virtio-blk/README.md

check_PROGRAMS += tests/unit/test_virtio_blk
TESTS += tests/unit/test_virtio_blk
tests_unit_test_virtio_blk_SOURCES = tests/unit/test_virtio_blk.c tests/unit/virtio-driver.h
tests_unit_test_virtio_blk_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_virtio_blk_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
