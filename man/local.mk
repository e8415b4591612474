dist_man1_MANS = man/vmmctl.1
dist_man5_MANS = man/vmm.conf.5
