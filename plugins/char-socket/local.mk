# plugins/char-socket: a character backend on a unix stream socket.
pkgplugin_LTLIBRARIES += plugins/char-socket/socket.la
plugins_char_socket_socket_la_SOURCES = plugins/char-socket/socket.c
plugins_char_socket_socket_la_CFLAGS = $(plugin_cflags)
plugins_char_socket_socket_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += plugins/char-socket/README.md
plugins_char_socket_socket_la_LIBADD = plugins/char-common/libcharinput.la
