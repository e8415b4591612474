# tests/fuzz: libFuzzer targets for the virtio code, the boot loaders and the
# config reader, built with $(FUZZ_CC)
# (clang) rather than $(CC), so by explicit rules instead of automake
# programs.  The device sources are compiled into the fuzz binary (each
# device's vmm_plugin_entry renamed) against tests/fuzz/fake-host.c, so
# the fuzzer's coverage instrumentation covers them without dlopen.
# `make check` runs each target for a bounded time (tests/fuzz/run-fuzz.sh);
# without a usable clang that test reports SKIP.
TESTS += tests/fuzz/run-fuzz.sh
EXTRA_DIST += tests/fuzz/run-fuzz.sh tests/fuzz/README.md tests/fuzz/make-corpus.py \
	tests/fuzz/fake-host.c tests/fuzz/fake-host.h tests/fuzz/fuzz_virtqueue.c \
	tests/fuzz/fuzz_virtio_devices.c tests/fuzz/fuzz_boot.c tests/fuzz/fuzz_config.c \
	tests/fuzz/fuzz_gic.c tests/fuzz/fuzz_hyperv.c \
	tests/fuzz/corpus
CLEANFILES += tests/fuzz/*.fuzz-log

if HAVE_FUZZ
# -fno-sanitize-recover: a UBSan report is a crash the run fails on.
# -Wno-unused-parameter as in WARN_CFLAGS (host callbacks ignore arguments).
FUZZ_CFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -g -O1 -I$(top_srcdir)/include -I$(top_srcdir) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
	-Wno-unused-parameter $(FUZZ_CFLAGS)
FUZZ_LINK = $(FUZZ_CC) $(FUZZ_CFLAGS_ALL) -fsanitize=fuzzer

fuzz_programs = tests/fuzz/fuzz_virtqueue tests/fuzz/fuzz_virtio_devices \
	tests/fuzz/fuzz_boot_pvh tests/fuzz/fuzz_boot_bzimage tests/fuzz/fuzz_boot_flat \
	tests/fuzz/fuzz_config tests/fuzz/fuzz_gic tests/fuzz/fuzz_hyperv
check_SCRIPTS = $(fuzz_programs)
CLEANFILES += $(fuzz_programs) tests/fuzz/*.fuzz.o

fuzz_common = $(srcdir)/tests/fuzz/fake-host.c $(srcdir)/devices/virtio/virtqueue.c
# Every target depends on the plugin ABI's headers too: a fuzzer built
# before an ABI change loads the plugins built after it as too new.
fuzz_abi_deps = $(srcdir)/include/vmm/plugin.h $(srcdir)/include/vmm/host.h \
	$(srcdir)/include/vmm/device.h $(srcdir)/include/vmm/backend.h \
	$(srcdir)/include/vmm/hypervisor.h $(srcdir)/include/vmm/state.h
fuzz_deps = $(srcdir)/tests/fuzz/fake-host.h $(srcdir)/devices/virtio/virtqueue.h $(fuzz_abi_deps)

tests/fuzz/fuzz_virtqueue: $(srcdir)/tests/fuzz/fuzz_virtqueue.c $(fuzz_common) $(fuzz_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_LINK) -o $@ $(srcdir)/tests/fuzz/fuzz_virtqueue.c $(fuzz_common)

tests/fuzz/virtio-blk.fuzz.o: $(srcdir)/devices/virtio-blk/virtio-blk.c $(srcdir)/devices/virtio/virtio.h $(fuzz_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS_ALL) -Dvmm_plugin_entry=fuzz_virtio_blk_entry -c -o $@ \
		$(srcdir)/devices/virtio-blk/virtio-blk.c

tests/fuzz/virtio-rng.fuzz.o: $(srcdir)/devices/virtio-rng/virtio-rng.c $(srcdir)/devices/virtio/virtio.h $(fuzz_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS_ALL) -Dvmm_plugin_entry=fuzz_virtio_rng_entry -c -o $@ \
		$(srcdir)/devices/virtio-rng/virtio-rng.c

tests/fuzz/virtio-net.fuzz.o: $(srcdir)/devices/virtio-net/virtio-net.c $(srcdir)/devices/virtio/virtio.h $(fuzz_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS_ALL) -Dvmm_plugin_entry=fuzz_virtio_net_entry -c -o $@ \
		$(srcdir)/devices/virtio-net/virtio-net.c

tests/fuzz/virtio-console.fuzz.o: $(srcdir)/devices/virtio-console/virtio-console.c $(srcdir)/devices/virtio/virtio.h $(fuzz_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS_ALL) -Dvmm_plugin_entry=fuzz_virtio_console_entry -c -o $@ \
		$(srcdir)/devices/virtio-console/virtio-console.c

fuzz_device_objs = tests/fuzz/virtio-blk.fuzz.o tests/fuzz/virtio-rng.fuzz.o \
	tests/fuzz/virtio-net.fuzz.o tests/fuzz/virtio-console.fuzz.o

tests/fuzz/fuzz_virtio_devices: $(srcdir)/tests/fuzz/fuzz_virtio_devices.c $(fuzz_common) \
		$(srcdir)/devices/virtio/virtio-mmio.c $(srcdir)/devices/virtio/virtio-mmio.h \
		$(srcdir)/devices/virtio/virtio-state.c $(fuzz_device_objs) $(fuzz_deps)
	$(AM_V_CCLD)$(FUZZ_LINK) -o $@ $(srcdir)/tests/fuzz/fuzz_virtio_devices.c $(fuzz_common) \
		$(srcdir)/devices/virtio/virtio-mmio.c $(srcdir)/devices/virtio/virtio-state.c \
		$(fuzz_device_objs)

# The GICv2 register model on its own (devices/gic/gic-model.c).
tests/fuzz/fuzz_gic: $(srcdir)/tests/fuzz/fuzz_gic.c $(srcdir)/devices/gic/gic-model.c \
		$(srcdir)/devices/gic/gic-model.h $(fuzz_abi_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_LINK) -o $@ $(srcdir)/tests/fuzz/fuzz_gic.c $(srcdir)/devices/gic/gic-model.c

# The Hyper-V model alone, no host table.
tests/fuzz/fuzz_hyperv: $(srcdir)/tests/fuzz/fuzz_hyperv.c $(srcdir)/devices/hyperv/hyperv.c \
		$(srcdir)/devices/hyperv/hyperv.h $(fuzz_abi_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_LINK) -o $@ $(srcdir)/tests/fuzz/fuzz_hyperv.c $(srcdir)/devices/hyperv/hyperv.c

# The boot loaders: core/boot-x86.c against tests/unit/boot-machine.h, once per
# format (config.h is in the build tree).
# A bzImage's payload goes through the decompressors (core/kernel-payload.c).
fuzz_boot_src = $(srcdir)/tests/fuzz/fuzz_boot.c $(srcdir)/core/boot-x86.c $(srcdir)/core/file.c \
	$(srcdir)/core/kernel-payload.c
fuzz_boot_deps = $(fuzz_boot_src) $(srcdir)/core/boot.h $(srcdir)/tests/unit/boot-machine.h \
	$(srcdir)/core/machine-internal.h $(srcdir)/core/kernel-payload.h $(fuzz_abi_deps)
fuzz_boot_link = $(FUZZ_LINK) -I$(top_builddir) -o $@ $(fuzz_boot_src) $(ZLIB_LIBS) $(LZMA_LIBS) \
	$(LZ4_LIBS) $(ZSTD_LIBS)

tests/fuzz/fuzz_boot_pvh: $(fuzz_boot_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(fuzz_boot_link) -DFUZZ_BOOT_FORMAT=VMM_BOOT_PVH

tests/fuzz/fuzz_boot_bzimage: $(fuzz_boot_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(fuzz_boot_link) -DFUZZ_BOOT_FORMAT=VMM_BOOT_BZIMAGE

tests/fuzz/fuzz_boot_flat: $(fuzz_boot_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(fuzz_boot_link) -DFUZZ_BOOT_FORMAT=VMM_BOOT_FLAT

# The config reader with libconfuse (not instrumented: its crashes still
# show) and the loader; the plugins' schemas come from dlopen()ing the
# build's plugins at start-up (VMM_PLUGIN_PATH).  -I$(top_builddir): config.h;
# VMM_DATADIR and VMM_PLUGINDIR as for the core (Makefile.am).
fuzz_config_sources = $(srcdir)/tests/fuzz/fuzz_config.c $(srcdir)/core/machine-config.c \
	$(srcdir)/core/props.c $(srcdir)/core/loader.c $(srcdir)/core/process.c $(srcdir)/core/seccomp.c $(srcdir)/core/seccomp-compile.c \
	$(srcdir)/core/privilege.c

tests/fuzz/fuzz_config: $(fuzz_config_sources) $(srcdir)/core/machine-config.h $(srcdir)/core/props.h \
		$(srcdir)/core/loader.h $(fuzz_abi_deps)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_LINK) -I$(top_builddir) -DVMM_DATADIR='"$(pkgdatadir)"' \
		-DVMM_PLUGINDIR='"$(pkgplugindir)"' $(CONFUSE_CFLAGS) \
		-o $@ $(fuzz_config_sources) \
		$(CONFUSE_LIBS) $(SECCOMP_LIBS) -ldl
endif
