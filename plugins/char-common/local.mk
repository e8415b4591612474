# plugins/char-common: code shared by the character backends (input flow
# control), linked into each as a convenience library.
noinst_LTLIBRARIES += plugins/char-common/libcharinput.la
plugins_char_common_libcharinput_la_SOURCES = plugins/char-common/char-input.c \
	plugins/char-common/char-input.h
plugins_char_common_libcharinput_la_CFLAGS = $(plugin_cflags)
