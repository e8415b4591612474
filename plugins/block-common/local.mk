# plugins/block-common: code shared by the raw-image block backends
# (block-file, block-uring), linked into each as a convenience library.
noinst_LTLIBRARIES += plugins/block-common/libblockio.la
plugins_block_common_libblockio_la_SOURCES = plugins/block-common/block-io.c \
	plugins/block-common/block-io.h
plugins_block_common_libblockio_la_CFLAGS = $(plugin_cflags)
