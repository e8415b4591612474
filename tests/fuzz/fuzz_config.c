/* tests/fuzz/fuzz_config.c - the config reader (core/machine-config.c,
 * core/props.c, core/loader.c) on any text, against the real plugins'
 * schemas.
 *
 * Input: the config's text as it would be in a file, any bytes.  The
 * plugins on $VMM_PLUGIN_PATH (the build's, in `make check`) are loaded
 * once before the first input, so each run sees the same schemas and
 * allocates nothing that outlives it.
 *
 * Beside the sanitizers, the reader's promises are checked and a broken
 * one is an abort(): an error is one printable line naming the file; a
 * config that loads has at most 1024 sections, plain names only, and its
 * scan (core/machine-config.c) saw every section libconfuse did. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine-config.h"

#define FUZZ_FILE "fuzz.conf"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vmm_plugin_set *plugins;
static const char *plugin_path;

static void invariant(bool ok, const char *what, const char *detail)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_config: invariant failed: %s: %s\n", what, detail);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	plugin_path = getenv("VMM_PLUGIN_PATH");
	if (!plugin_path || !plugin_path[0]) {
		fprintf(stderr, "fuzz_config: set VMM_PLUGIN_PATH to the build's plugins (build-plugins)\n");
		exit(2);
	}
	plugins = vmm_plugin_set_new();
	if (!plugins || vmm_plugin_set_scan(plugins, plugin_path, NULL, NULL) <= 0) {
		fprintf(stderr, "fuzz_config: no plugins on %s\n", plugin_path);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "";
	size_t before = vmm_plugin_set_count(plugins);

	int rc = vmm_config_load_text(FUZZ_FILE, (const char *)data, size, plugins, plugin_path, &mc, err,
				      sizeof(err));
	if (rc) {
		invariant(!mc, "an error returns no config", err);
		invariant(strncmp(err, FUZZ_FILE ":", strlen(FUZZ_FILE ":")) == 0, "an error names the file", err);
		for (const char *p = err; *p; p++)
			invariant((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
				  "an error is one printable line", err);
	} else {
		invariant(mc && mc->ndevices + mc->nbackends <= 1024, "at most 1024 sections", FUZZ_FILE);
		/* A section the scan did not see (line 0) is one whose
		 * structure it did not follow: the scan and libconfuse
		 * disagree, and the scan's bounds cannot be trusted. */
		for (size_t i = 0; i < mc->ndevices; i++) {
			invariant(vmm_name_valid(mc->devices[i].name, strlen(mc->devices[i].name)),
				  "device names are plain", mc->devices[i].name);
			invariant(mc->devices[i].line > 0, "the scan saw each device", mc->devices[i].name);
		}
		for (size_t i = 0; i < mc->nbackends; i++) {
			invariant(vmm_name_valid(mc->backends[i].name, strlen(mc->backends[i].name)),
				  "backend names are plain", mc->backends[i].name);
			invariant(mc->backends[i].line > 0, "the scan saw each backend", mc->backends[i].name);
		}
		vmm_config_free(mc);
	}
	/* Every plugin a config can name was loaded up front. */
	invariant(vmm_plugin_set_count(plugins) == before, "no plugin loaded while fuzzing", FUZZ_FILE);
	return 0;
}
