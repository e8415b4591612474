# plugins/block-file: a block backend on a raw image file (ABI 1.2).
pkgplugin_LTLIBRARIES += plugins/block-file/block-file.la
plugins_block_file_block_file_la_SOURCES = plugins/block-file/block-file.c
plugins_block_file_block_file_la_CFLAGS = $(plugin_cflags)
plugins_block_file_block_file_la_LDFLAGS = $(plugin_ldflags)
plugins_block_file_block_file_la_LIBADD = plugins/block-common/libblockio.la
