/* tests/unit/device-fixture.h - the fixture every device test uses: one
 * harness per cmocka test, in a given interrupt mode, optionally with one
 * device created with its default properties.  Include after <cmocka.h>
 * and <vmm/harness.h>. */
#ifndef VMM_TEST_DEVICE_FIXTURE_H
#define VMM_TEST_DEVICE_FIXTURE_H

#include <stdlib.h>

struct fixture {
	struct vmm_harness *h;
	struct vmm_harness_dev *dev; /* NULL when the test creates its own */
};

static struct fixture *F;

static inline int fixture_setup(void **state, enum vmm_irq_mode mode, const char *plugin,
				const char *instance)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	F->h = vmm_harness_new();
	assert_non_null(F->h);
	vmm_harness_set_irq_mode(F->h, mode);
	if (plugin) {
		F->dev = vmm_harness_create_device(F->h, plugin, instance, NULL);
		assert_non_null(F->dev);
	}
	*state = F;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	vmm_harness_free(F->h);
	free(F);
	F = NULL;
	return 0;
}

#endif
