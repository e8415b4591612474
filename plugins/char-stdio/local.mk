pkgplugin_LTLIBRARIES += plugins/char-stdio/stdio.la
plugins_char_stdio_stdio_la_SOURCES = plugins/char-stdio/stdio.c
plugins_char_stdio_stdio_la_CFLAGS = $(plugin_cflags)
plugins_char_stdio_stdio_la_LDFLAGS = $(plugin_ldflags)
plugins_char_stdio_stdio_la_LIBADD = plugins/char-common/libcharinput.la
