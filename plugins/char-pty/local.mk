# plugins/char-pty: a character backend on a new pseudo-terminal.
pkgplugin_LTLIBRARIES += plugins/char-pty/pty.la
plugins_char_pty_pty_la_SOURCES = plugins/char-pty/pty.c
plugins_char_pty_pty_la_CFLAGS = $(plugin_cflags)
plugins_char_pty_pty_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += plugins/char-pty/README.md
plugins_char_pty_pty_la_LIBADD = plugins/char-common/libcharinput.la
