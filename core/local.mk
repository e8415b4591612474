# core: the small core as a convenience library, and vmmctl.
noinst_LTLIBRARIES += core/libvmmcore.la
core_libvmmcore_la_SOURCES = core/props.c core/props.h core/loader.c core/loader.h \
	core/log.c core/log.h core/bus.c core/bus.h core/machine-config.c core/machine-config.h \
	core/machine.c core/machine.h core/machine-internal.h core/boot.c core/boot.h core/boot-arm64.c core/boot-arm64.h \
	core/arch-arm64.c core/arch-arm64.h core/acpi.c core/acpi.h \
	core/fdt.c core/fdt.h core/x86-walk.c core/x86-walk.h \
	core/block.c core/block.h core/net.c core/net.h core/char.c core/char.h core/table.h \
	core/process.c core/process.h core/file.c core/file.h \
	core/api.h core/api-route.c core/api-server.c core/api-client.c
core_libvmmcore_la_CFLAGS = $(AM_CFLAGS) $(CONFUSE_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBEVENT_EXTRA_CFLAGS) \
	$(JSONC_CFLAGS) $(ZLIB_CFLAGS)
core_libvmmcore_la_LIBADD = $(CONFUSE_LIBS) $(LIBEVENT_LIBS) $(LIBEVENT_EXTRA_LIBS) $(JSONC_LIBS) \
	$(ZLIB_LIBS) $(FDT_LIBS) -ldl

bin_PROGRAMS += core/vmmctl
core_vmmctl_SOURCES = core/vmmctl.c
core_vmmctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
core_vmmctl_LDADD = core/libvmmcore.la
