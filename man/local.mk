dist_man1_MANS = man/vmmctl.1
dist_man5_MANS = man/vmm.conf.5
dist_man7_MANS = man/vmm-plugin.7

# The pages name installed paths as @pkgdatadir[@], @plugindir[@] and @docdir[@]
# (the [@]: configure must not substitute them here);
# the installed copies get this build's directories, so no page shows a
# placeholder or a path in vmm's source tree.
install-data-hook: install-man-paths
install-man-paths:
	for f in man1/vmmctl.1 man5/vmm.conf.5 man7/vmm-plugin.7; do \
	  p='$(DESTDIR)$(mandir)/'$$f; \
	  sed -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' -e 's|@plugindir[@]|$(pkgplugindir)|g' \
	      -e 's|@docdir[@]|$(docdir)|g' "$$p" >"$$p.tmp" && mv "$$p.tmp" "$$p" || exit 1; \
	done
.PHONY: install-man-paths
