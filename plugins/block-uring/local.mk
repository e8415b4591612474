# plugins/block-uring: a block backend on a raw image file with io_uring
# (ABI 1.8), built where liburing is (configure's HAVE_LIBURING).
if HAVE_LIBURING
pkgplugin_LTLIBRARIES += plugins/block-uring/block-uring.la
plugins_block_uring_block_uring_la_SOURCES = plugins/block-uring/block-uring.c
plugins_block_uring_block_uring_la_CFLAGS = $(plugin_cflags) $(LIBURING_CFLAGS)
plugins_block_uring_block_uring_la_LDFLAGS = $(plugin_ldflags)
plugins_block_uring_block_uring_la_LIBADD = plugins/block-common/libblockio.la $(LIBURING_LIBS)
endif
