# devices/uart16550: the 16550A UART plugin (register model + host glue)
# and its register-level test through the harness.
pkgplugin_LTLIBRARIES += devices/uart16550/uart16550.la
devices_uart16550_uart16550_la_SOURCES = devices/uart16550/uart16550.c \
	devices/uart16550/uart16550.h devices/uart16550/uart16550-plugin.c
devices_uart16550_uart16550_la_CFLAGS = $(plugin_cflags)
devices_uart16550_uart16550_la_LIBADD = devices/model-glue/libmodel-glue.la
devices_uart16550_uart16550_la_LDFLAGS = $(plugin_ldflags)
EXTRA_DIST += devices/uart16550/README.md

check_PROGRAMS += tests/unit/test_uart16550
TESTS += tests/unit/test_uart16550
tests_unit_test_uart16550_SOURCES = tests/unit/test_uart16550.c
tests_unit_test_uart16550_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_uart16550_LDADD = tests/harness/libvmm-harness.la $(CMOCKA_LIBS)
