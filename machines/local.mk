machinesdir = $(pkgdatadir)/machines
dist_machines_DATA = machines/x86-minimal.conf machines/x86-serial-log.conf
