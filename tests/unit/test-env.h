/* tests/unit/test-env.h - lets a test program run on its own, outside
 * `make check`: before main(), the variables make check exports
 * (AM_TESTS_ENVIRONMENT in Makefile.am) get this build tree's values
 * unless they are already set.  So `tests/unit/test_virtio_blk` from any
 * directory finds build-plugins/ and the fixtures like make check does.
 * Included by device-fixture.h and by the core tests that load plugins. */
#ifndef VMM_TEST_ENV_H
#define VMM_TEST_ENV_H

#include <stdlib.h>

__attribute__((constructor)) static void test_env_defaults(void)
{
	setenv("VMM_PLUGIN_PATH", VMM_TEST_BUILDDIR "/build-plugins", 0);
	setenv("VMM_BUILDDIR", VMM_TEST_BUILDDIR, 0);
	setenv("VMM_SRCDIR", VMM_TEST_SRCDIR, 0);
}

#endif
