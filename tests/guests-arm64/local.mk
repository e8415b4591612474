# tests/guests-arm64: the arm64 test guests (guest.S), built by an aarch64
# build only (tools/cross-arm64.sh) and run by tests/e2e/nested-arm64.sh on
# KVM/arm64 with machines/arm64-minimal.conf (gic.img: arm64-virt.conf).
EXTRA_DIST += tests/guests-arm64/guest.S tests/guests-arm64/snap-count.inc \
	tests/guests-arm64/irq-bench.S
if HOST_AARCH64
arm64_guests = tests/guests-arm64/hello.img tests/guests-arm64/reset.img \
	tests/guests-arm64/nisv.img tests/guests-arm64/gic.img \
	tests/guests-arm64/snap.img tests/guests-arm64/snap-v3.img \
	tests/guests-arm64/irq-v3.img tests/guests-arm64/irq-v2.img
noinst_DATA += $(arm64_guests)
CLEANFILES += $(arm64_guests) $(arm64_guests:.img=.elf)
A64_GUEST_FLAGS = -nostdlib -static -no-pie -ffreestanding -Wl,-Ttext=0 -Wl,--build-id=none \
	-Wl,-e,_start -Wl,--fatal-warnings
a64_guest_cc = $(CC) $(A64_GUEST_FLAGS) -o $(@:.img=.elf) $(srcdir)/tests/guests-arm64/guest.S
a64_guest_bin = $(OBJCOPY) -O binary -j .text $(@:.img=.elf) $@

tests/guests-arm64/hello.img: tests/guests-arm64/guest.S
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_guest_cc) -DGUEST_OFF && $(a64_guest_bin)
tests/guests-arm64/reset.img: tests/guests-arm64/guest.S
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_guest_cc) -DGUEST_RESET && $(a64_guest_bin)
tests/guests-arm64/nisv.img: tests/guests-arm64/guest.S
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_guest_cc) -DGUEST_NISV && $(a64_guest_bin)
tests/guests-arm64/gic.img: tests/guests-arm64/guest.S
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_guest_cc) -DGUEST_GIC && $(a64_guest_bin)
# The guest snapshotted, restored and migrated (arm64-virt-emulated.conf).
tests/guests-arm64/snap.img: tests/guests-arm64/guest.S tests/guests-arm64/snap-count.inc
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_guest_cc) -DGUEST_SNAP && $(a64_guest_bin)
# The same guest's timer through KVM's vGICv3 (arm64-virt.conf).
tests/guests-arm64/snap-v3.img: tests/guests-arm64/guest.S tests/guests-arm64/snap-count.inc
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_guest_cc) -DGUEST_SNAP -DSNAP_GICV3 && $(a64_guest_bin)
# The interrupt-cost guest (bench/nested-irq-arm64.sh): KVM's vGICv3 and
# the gic plugin's GICv2.
a64_irq_cc = $(CC) $(A64_GUEST_FLAGS) -o $(@:.img=.elf) $(srcdir)/tests/guests-arm64/irq-bench.S
tests/guests-arm64/irq-v3.img: tests/guests-arm64/irq-bench.S
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_irq_cc) -DGIC_V3 && $(a64_guest_bin)
tests/guests-arm64/irq-v2.img: tests/guests-arm64/irq-bench.S
	@$(MKDIR_P) tests/guests-arm64
	$(AM_V_GEN)$(a64_irq_cc) -DGIC_V2 && $(a64_guest_bin)
endif
