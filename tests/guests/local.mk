# tests/guests: tiny freestanding guests built with the host compiler.
#
# hello.elf, uart-test.elf: 32-bit PVH ELF kernels (entry through the
#   XEN_ELFNOTE_PHYS32_ENTRY note), linked at 1 MiB by guest.ld.
# bench-pio.bin: a flat 16-bit real-mode binary for vmmctl's flat format
#   (loaded and entered at 0x8000); BENCH_PIO_N out instructions to 0x3ff.
#
# Guest code runs interpreted on this project's hosts (see platform.md), so
# the guests stay as small as possible.

BENCH_PIO_N = 20000
# The short run lets bench/exit-cost.sh take the slope between the two, so
# start-up and teardown cancel out of the per-exit figure.
BENCH_PIO_N_SHORT = 2000

GUEST_CC = $(CC)
GUEST_OBJCOPY = objcopy
GUEST_COMPILEFLAGS = -m32 -march=i686 -O2 -std=gnu11 -Wall -Wextra -Werror \
	-ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-builtin -mgeneral-regs-only
GUEST_LINKFLAGS = -static -no-pie -Wl,--build-id=none -Wl,-n \
	-Wl,--no-warn-rwx-segments -Wl,--fatal-warnings \
	-Wl,-T,$(srcdir)/tests/guests/guest.ld

guest_common = tests/guests/pvh-start.S tests/guests/guest.h tests/guests/guest.ld \
	tests/guests/iret-same-cpl.h

tests/guests/hello.elf: $(guest_common) tests/guests/hello.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/hello.c

# triple-fault.elf: a CPU shutdown (tests/guests/triple-fault.sh, the nested e2e).
tests/guests/triple-fault.elf: $(guest_common) tests/guests/triple-fault.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/triple-fault.c

# park.elf: bench/density.sh's guest, up until signalled.
tests/guests/park.elf: $(guest_common) tests/guests/park.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/park.c

tests/guests/spin.elf: $(guest_common) tests/guests/spin.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/spin.c

# jail.sh: one sector written to a virtio-blk disk, then parked.
tests/guests/jail-blk.elf: $(guest_common) tests/guests/virtio-mmio.h tests/guests/jail-blk.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/jail-blk.c

tests/guests/uart-test.elf: $(guest_common) tests/guests/uart-test.c tests/guests/uart-isr.S
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/uart-isr.S \
	  $(srcdir)/tests/guests/uart-test.c

tests/guests/irq-bench.elf: $(guest_common) tests/guests/irq-bench.c tests/guests/uart-isr.S
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/uart-isr.S \
	  $(srcdir)/tests/guests/irq-bench.c

# The interrupt test guests (irq-modes.sh, qemu-irq-reference.sh).
irq_common = $(guest_common) tests/guests/irq-lib.h tests/guests/irq-lib.c \
	tests/guests/irq-isr.S
irq_link = $(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	$(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/irq-isr.S \
	$(srcdir)/tests/guests/irq-lib.c

tests/guests/pit-pic.elf: $(irq_common) tests/guests/pit-pic.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/pit-pic.c

tests/guests/pit-ioapic.elf: $(irq_common) tests/guests/pit-ioapic.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/pit-ioapic.c

tests/guests/rtc.elf: $(irq_common) tests/guests/rtc.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/rtc.c

tests/guests/smp-ipi.elf: $(irq_common) tests/guests/smp-ipi.c tests/guests/smp-tramp.S
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/smp-tramp.S \
	  $(srcdir)/tests/guests/smp-ipi.c

tests/guests/i8042-reset.elf: $(guest_common) tests/guests/i8042-reset.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/i8042-reset.c

tests/guests/msr-gp-irq.elf: $(irq_common) tests/guests/msr-gp-irq.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/msr-gp-irq.c

# hyperv.sh: the hyperv plugin's enlightenments from the guest's side.
tests/guests/hyperv.elf: $(irq_common) tests/guests/hyperv.c tests/guests/hyperv-guest.h
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/hyperv.c

tests/guests/hyperv-smp.elf: $(irq_common) tests/guests/hyperv-smp.c tests/guests/hyperv-guest.h \
		tests/guests/smp-tramp.S
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/smp-tramp.S $(srcdir)/tests/guests/hyperv-smp.c

# snapshot.sh's guest: counting while the PIT ticks.
tests/guests/snap-count.elf: $(irq_common) tests/guests/snap-count.c tests/guests/smp-tramp.S
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/smp-tramp.S $(srcdir)/tests/guests/snap-count.c

# migrate.sh's and bench/migrate.sh's guest: a pattern written and checked
# page by page while the PIT ticks.
tests/guests/mig-pattern.elf: $(irq_common) tests/guests/virtio-mmio.h tests/guests/mig-pattern.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/mig-pattern.c

# pwrbtn.sh: acpi-pm's power button pressed through the control API.
tests/guests/pwrbtn.elf: $(irq_common) tests/guests/pwrbtn.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/pwrbtn.c

irq_guests = tests/guests/pwrbtn.elf tests/guests/snap-count.elf tests/guests/mig-pattern.elf tests/guests/pit-pic.elf tests/guests/pit-ioapic.elf \
	tests/guests/rtc.elf tests/guests/smp-ipi.elf tests/guests/i8042-reset.elf \
	tests/guests/msr-gp-irq.elf tests/guests/hyperv.elf tests/guests/hyperv-smp.elf

# The virtio guests share the driver side of a virtio-rng (virtio-lib.c).
virtio_common = tests/guests/virtio-lib.h tests/guests/virtio-lib.c tests/guests/virtio-mmio.h

# virtio-notify.sh: polled virtio-rng requests, QueueNotify as an ioeventfd.
tests/guests/virtio-notify.elf: $(guest_common) $(virtio_common) tests/guests/virtio-notify.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) $(GUEST_COMPILEFLAGS) $(GUEST_LINKFLAGS) -o $@ \
	  $(srcdir)/tests/guests/pvh-start.S $(srcdir)/tests/guests/virtio-lib.c \
	  $(srcdir)/tests/guests/virtio-notify.c

# virtio-irq.sh (and bench/virtio-irq.sh): virtio-rng requests completed by
# a level-triggered interrupt, through an irqfd or KVM_IRQ_LINE.
tests/guests/virtio-irq.elf: $(irq_common) $(virtio_common) tests/guests/virtio-irq.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/virtio-lib.c $(srcdir)/tests/guests/virtio-irq.c

# ioapic-level.sh: level-triggered IOAPIC pins still high at the EOI
# (a virtio-rng and the RTC as the guest's own level sources).
tests/guests/ioapic-level.elf: $(irq_common) $(virtio_common) tests/guests/ioapic-level.c
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(irq_link) $(srcdir)/tests/guests/virtio-lib.c $(srcdir)/tests/guests/ioapic-level.c

tests/guests/bench-pio.bin: tests/guests/bench-pio.S
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) -m32 -DBENCH_PIO_N=$(BENCH_PIO_N) -ffreestanding \
	  -nostdlib -static -no-pie -fno-pic -Wl,--build-id=none -Wl,--fatal-warnings -Wl,-Ttext=0x8000 \
	  -Wl,-e,_start -o tests/guests/bench-pio.elf $(srcdir)/tests/guests/bench-pio.S && \
	$(GUEST_OBJCOPY) -O binary -j .text tests/guests/bench-pio.elf $@

tests/guests/bench-pio-short.bin: tests/guests/bench-pio.S
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) -m32 -DBENCH_PIO_N=$(BENCH_PIO_N_SHORT) -ffreestanding \
	  -nostdlib -static -no-pie -fno-pic -Wl,--build-id=none -Wl,--fatal-warnings -Wl,-Ttext=0x8000 \
	  -Wl,-e,_start -o tests/guests/bench-pio-short.elf $(srcdir)/tests/guests/bench-pio.S && \
	$(GUEST_OBJCOPY) -O binary -j .text tests/guests/bench-pio-short.elf $@

# bz-guest.bzImage: a "fake Linux" for the bzImage loader (64-bit boot
# protocol): 64-bit code linked at BZ_GUEST_LOAD (its pref_address), made a
# flat binary, and wrapped in boot-protocol setup sectors by mkbzimage.
BZ_GUEST_LOAD = 0x1000000
noinst_PROGRAMS += tests/guests/mkbzimage
tests_guests_mkbzimage_SOURCES = tests/guests/mkbzimage.c

tests/guests/bz-guest.bin: tests/guests/bz-head.S tests/guests/bz-guest.c tests/guests/bz-guest.ld
	@$(MKDIR_P) tests/guests
	$(AM_V_GEN)$(GUEST_CC) -m64 -O2 -std=gnu11 -Wall -Wextra -Werror -ffreestanding -nostdlib \
	  -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin \
	  -mno-red-zone -mgeneral-regs-only -static -no-pie -Wl,--build-id=none -Wl,-n \
	  -Wl,--no-warn-rwx-segments -Wl,--fatal-warnings -Wl,--defsym=BZ_GUEST_LOAD=$(BZ_GUEST_LOAD) \
	  -Wl,-T,$(srcdir)/tests/guests/bz-guest.ld -o tests/guests/bz-guest.elf \
	  $(srcdir)/tests/guests/bz-head.S $(srcdir)/tests/guests/bz-guest.c && \
	$(GUEST_OBJCOPY) -O binary tests/guests/bz-guest.elf $@

tests/guests/bz-guest.bzImage: tests/guests/bz-guest.bin tests/guests/mkbzimage$(EXEEXT)
	$(AM_V_GEN)tests/guests/mkbzimage$(EXEEXT) -p $(BZ_GUEST_LOAD) -i 0x100000 \
	  tests/guests/bz-guest.bin $@

test_guests = tests/guests/bz-guest.bzImage tests/guests/hello.elf tests/guests/triple-fault.elf tests/guests/park.elf tests/guests/spin.elf tests/guests/jail-blk.elf tests/guests/uart-test.elf tests/guests/irq-bench.elf \
	tests/guests/bench-pio.bin tests/guests/bench-pio-short.bin $(irq_guests) \
	tests/guests/virtio-notify.elf tests/guests/virtio-irq.elf tests/guests/ioapic-level.elf
noinst_DATA += $(test_guests)
CLEANFILES += $(test_guests) tests/guests/bench-pio.elf tests/guests/bench-pio-short.elf \
	tests/guests/bz-guest.elf tests/guests/bz-guest.bin

# vmmctl's default machine boots $(pkgdatadir)/guests/hello.elf.
pkgdata_guestsdir = $(pkgdatadir)/guests
pkgdata_guests_DATA = tests/guests/hello.elf

EXTRA_DIST += $(guest_common) tests/guests/hello.c tests/guests/triple-fault.c tests/guests/park.c tests/guests/spin.c tests/guests/jail-blk.c tests/guests/uart-test.c \
	tests/guests/uart-isr.S tests/guests/bench-pio.S tests/guests/irq-bench.c \
	tests/guests/irq-lib.h tests/guests/irq-lib.c tests/guests/irq-isr.S \
	tests/guests/pit-pic.c tests/guests/pit-ioapic.c tests/guests/rtc.c tests/guests/pwrbtn.c tests/guests/msr-gp-irq.c \
	tests/guests/snap-count.c tests/guests/snap-kernel.conf tests/guests/mig-pattern.c \
	tests/guests/smp-ipi.c tests/guests/smp-tramp.S tests/guests/i8042-reset.c \
	tests/guests/bz-head.S tests/guests/bz-guest.c tests/guests/bz-guest.ld \
	tests/guests/virtio-notify.c tests/guests/virtio-notify.conf \
	tests/guests/virtio-lib.h tests/guests/virtio-lib.c tests/guests/virtio-mmio.h \
	tests/guests/virtio-irq.c tests/guests/virtio-irq.conf \
	tests/guests/ioapic-level.c tests/guests/ioapic-level.conf \
	tests/guests/hyperv.c tests/guests/hyperv.conf tests/guests/hyperv-guest.h \
	tests/guests/hyperv-smp.c tests/guests/hyperv-smp.conf

# Guest tests on /dev/kvm (they skip with status 77 without root and KVM).
guest_tests = tests/guests/hello.sh tests/guests/uart-test.sh \
	tests/guests/flat-pio.sh tests/guests/qemu-reference.sh \
	tests/guests/irq-modes.sh tests/guests/qemu-irq-reference.sh \
	tests/guests/bzimage.sh tests/guests/virtio-notify.sh tests/guests/virtio-irq.sh \
	tests/guests/boot-refusals.sh tests/guests/ioapic-level.sh tests/guests/hyperv.sh \
	tests/guests/triple-fault.sh tests/guests/pwrbtn.sh
TESTS += $(guest_tests)
EXTRA_DIST += $(guest_tests) tests/guests/guest-lib.sh tests/guests/uart-test.conf \
	tests/guests/irq-emulated.conf tests/guests/irq-split.conf tests/guests/irq-kernel.conf
