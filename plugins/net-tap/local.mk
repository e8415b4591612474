# plugins/net-tap: a net backend on a Linux tap interface (ABI 1.2).
pkgplugin_LTLIBRARIES += plugins/net-tap/net-tap.la
plugins_net_tap_net_tap_la_SOURCES = plugins/net-tap/net-tap.c
plugins_net_tap_net_tap_la_CFLAGS = $(plugin_cflags)
plugins_net_tap_net_tap_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += plugins/net-tap/README.md
