pkgplugin_LTLIBRARIES += plugins/char-file/file.la
plugins_char_file_file_la_SOURCES = plugins/char-file/file.c
plugins_char_file_file_la_CFLAGS = $(plugin_cflags)
plugins_char_file_file_la_LDFLAGS = $(plugin_ldflags)
plugins_char_file_file_la_LIBADD = plugins/char-common/libcharinput.la
