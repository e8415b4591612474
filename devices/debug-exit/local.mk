pkgplugin_LTLIBRARIES += devices/debug-exit/debug-exit.la
devices_debug_exit_debug_exit_la_SOURCES = devices/debug-exit/debug-exit.c
devices_debug_exit_debug_exit_la_CFLAGS = $(plugin_cflags)
devices_debug_exit_debug_exit_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/debug-exit/README.md
