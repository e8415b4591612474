# doc: the plugin author's kit (issue 13), installed under $(docdir):
#   examples/  a device plugin, its cmocka test and a PVH guest that uses it,
#              with a Makefile that needs only pkg-config (vmm-plugin(7));
#              guest.ld and pvh-start.S are the ones the project's own test
#              guests are built with
#   devices/   each device plugin's README as NAME.md
#   plugins/   the hypervisor's and the backends' READMEs as NAME.md
exampledir = $(docdir)/examples
# The control API's reference (vmmctl run --api), beside the examples.
apidocdir = $(docdir)
dist_apidoc_DATA = docs/api.md
dist_example_DATA = doc/examples/Makefile doc/examples/ticker.c doc/examples/test-ticker.c \
	doc/examples/guest.c doc/examples/ticker.conf tests/guests/guest.ld tests/guests/pvh-start.S

# Every README.md has the same name: installed renamed after its directory.
device_readmes = devices/uart16550/README.md devices/debug-exit/README.md \
	devices/acpi-pm/README.md devices/ioapic/README.md devices/cmos-rtc/README.md \
	devices/i8042/README.md devices/i8259/README.md devices/i8254/README.md \
	devices/virtio/README.md devices/virtio-rng/README.md devices/virtio-blk/README.md \
	devices/virtio-net/README.md devices/virtio-console/README.md devices/pl011/README.md \
	devices/pl031/README.md
plugin_readmes = hypervisors/kvm/README.md plugins/char-pty/README.md \
	plugins/char-socket/README.md plugins/net-tap/README.md
EXTRA_DIST += $(device_readmes) $(plugin_readmes)

install-data-local: install-readmes
install-readmes:
	$(MKDIR_P) '$(DESTDIR)$(docdir)/devices' '$(DESTDIR)$(docdir)/plugins'
	for f in $(device_readmes); do \
	  $(INSTALL_DATA) "$(srcdir)/$$f" "$(DESTDIR)$(docdir)/devices/`basename \`dirname $$f\``.md" || exit 1; \
	done
	for f in $(plugin_readmes); do \
	  $(INSTALL_DATA) "$(srcdir)/$$f" "$(DESTDIR)$(docdir)/plugins/`basename \`dirname $$f\``.md" || exit 1; \
	done
uninstall-local:
	for f in $(device_readmes); do rm -f "$(DESTDIR)$(docdir)/devices/`basename \`dirname $$f\``.md"; done
	for f in $(plugin_readmes); do rm -f "$(DESTDIR)$(docdir)/plugins/`basename \`dirname $$f\``.md"; done
.PHONY: install-readmes
