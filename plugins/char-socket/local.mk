# plugins/char-socket: a character backend on a unix stream socket.
pkgplugin_LTLIBRARIES += plugins/char-socket/socket.la
plugins_char_socket_socket_la_SOURCES = plugins/char-socket/socket.c
plugins_char_socket_socket_la_CFLAGS = $(plugin_cflags)
plugins_char_socket_socket_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += plugins/char-socket/README.md
plugins_char_socket_socket_la_LIBADD = plugins/char-common/libcharinput.la

check_PROGRAMS += tests/unit/test_char_socket
TESTS += tests/unit/test_char_socket
tests_unit_test_char_socket_SOURCES = tests/unit/test_char_socket.c
tests_unit_test_char_socket_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_char_socket_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
