# devices/virtio: code shared by the virtio device plugins (split
# virtqueues and the virtio-mmio transport), linked into each of them as a
# convenience library; and the queue code's own test against a fake host.
noinst_LTLIBRARIES += devices/virtio/libvirtio.la
devices_virtio_libvirtio_la_SOURCES = devices/virtio/virtqueue.c devices/virtio/virtqueue.h \
	devices/virtio/virtio-mmio.c devices/virtio/virtio-mmio.h devices/virtio/virtio.h \
	devices/virtio/virtio-state.c
devices_virtio_libvirtio_la_CFLAGS = $(plugin_cflags)
EXTRA_DIST += devices/virtio/README.md

check_PROGRAMS += tests/unit/test_virtqueue
TESTS += tests/unit/test_virtqueue
tests_unit_test_virtqueue_SOURCES = tests/unit/test_virtqueue.c devices/virtio/virtqueue.c
tests_unit_test_virtqueue_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_virtqueue_LDADD = $(CMOCKA_LIBS)
