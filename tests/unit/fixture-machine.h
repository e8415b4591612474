/* tests/unit/fixture-machine.h - what the machine tests over the
 * fixture plugins (fake-vcpu-hv, fake-dev) share: the plugin search path
 * (the fixtures, then the real plugins) and a file written whole.
 * Include after <cmocka.h>. */
#ifndef VMM_TEST_FIXTURE_MACHINE_H
#define VMM_TEST_FIXTURE_MACHINE_H

#include <stdio.h>
#include <stdlib.h>

static char plugin_path[4200];

/* plugin_path from $VMM_BUILDDIR and $VMM_PLUGIN_PATH. */
static void plugin_path_init(void)
{
	const char *b = getenv("VMM_BUILDDIR"), *pp = getenv("VMM_PLUGIN_PATH");

	snprintf(plugin_path, sizeof(plugin_path), "%s/tests/fixtures/.libs:%s", b ? b : ".", pp ? pp : "");
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

#endif
