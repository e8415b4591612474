machinesdir = $(pkgdatadir)/machines
dist_machines_DATA = machines/x86-minimal.conf machines/x86-serial-log.conf \
	machines/x86-pc-kernel.conf machines/x86-pc-split.conf machines/x86-pc-emulated.conf \
	machines/x86-pc-virtio.conf machines/x86-hyperv.conf machines/arm64-minimal.conf \
	machines/arm64-virt.conf machines/arm64-virt-emulated.conf
