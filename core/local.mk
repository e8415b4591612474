# core: the small core as a convenience library, and vmmctl.
noinst_LTLIBRARIES += core/libvmmcore.la
core_libvmmcore_la_SOURCES = core/props.c core/props.h core/loader.c core/loader.h \
	core/log.c core/log.h core/bus.c core/bus.h core/machine-config.c core/machine-config.h \
	core/machine.c core/machine.h core/machine-internal.h core/host-services.h core/host-irq.c core/host-hv.c core/host-memory.c core/host-time.c core/host-backends.c core/vcpu-loop.c core/boot-x86.c core/boot.h core/boot-arm64.c core/boot-arm64.h \
	core/arch-arm64.c core/arch-arm64.h core/arch-x86.c core/arch-x86.h core/acpi.c core/acpi.h \
	core/fdt.c core/fdt.h core/x86-walk.c core/x86-walk.h \
	core/block.c core/block.h core/net.c core/net.h core/char.c core/char.h core/table.h \
	core/process.c core/process.h core/file.c core/file.h \
	core/kernel-payload.c core/kernel-payload.h core/seccomp.c core/seccomp.h core/seccomp-compile.c core/seccomp-filters.h core/syscall-names.h \
	core/privilege.c core/privilege.h core/jail.c core/jail.h core/api.h core/api-route.c core/api-server.c core/api-client.c \
	core/state.c core/state.h core/snapshot.c core/snapshot.h \
	core/migrate.c core/migrate.h core/power.c core/power.h
core_libvmmcore_la_CFLAGS = $(AM_CFLAGS) $(CONFUSE_CFLAGS) $(LIBEVENT_CFLAGS) $(ZLIB_CFLAGS) $(LZMA_CFLAGS) $(LZ4_CFLAGS) $(ZSTD_CFLAGS) \
	$(SECCOMP_CFLAGS) $(LIBEVENT_EXTRA_CFLAGS) $(JSONC_CFLAGS)
# VMMCORE_LIBADD: libconfuse, libevent (core, pthreads, extra), zlib and libfdt unless vmmctl links their
# static archives (configure.ac); the others are always shared.
core_libvmmcore_la_LIBADD = $(VMMCORE_LIBADD) $(LZMA_LIBS) $(LZ4_LIBS) $(ZSTD_LIBS) $(SECCOMP_LIBS) $(JSONC_LIBS) -ldl

bin_PROGRAMS += core/vmmctl
core_vmmctl_SOURCES = core/vmmctl.c
# VMMCTL_STATIC_DEPS: the static archives of libconfuse, libevent, zlib
# and libfdt where they are installed (empty with configure
# --disable-static-deps, when libvmmcore.la brings the shared ones): vmmctl
# starts without loading them.  Other users of libvmmcore.la add
# $(VMMCORE_USER_LIBS), the shared ones when vmmctl has the archives.
core_vmmctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
core_vmmctl_LDADD = core/libvmmcore.la $(VMMCTL_STATIC_DEPS)
