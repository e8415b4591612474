/* tests/unit/test_debug_exit.c - debug-exit.so through the harness: a
 * write ends the machine with the status the guest chose, and its saved
 * state (ABI 1.12) is an empty record of version 1. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vmm/harness.h>

#include "device-fixture.h"
#include "state-record.h"

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, "debug-exit", "exit");
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

/* Nothing lives in the port: the record holds no field, a fresh instance
 * takes it, and after the load a write still ends the machine. */
static void test_save_load_empty_record(void **state)
{
	struct vmm_harness *h2 = vmm_harness_new();
	struct vmm_harness_dev *dev2;
	int why = -1;
	int status = -1;
	size_t len;
	uint8_t *rec;

	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	assert_int_equal(record_le32(record_version(rec, len)), 1);
	assert_int_equal(record_le32(record_version(rec, len) + 4), 0);	/* no fields */
	assert_non_null(h2);
	dev2 = vmm_harness_create_device(h2, "debug-exit", "exit", NULL);
	assert_non_null(dev2);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	vmm_harness_pio_write(h2, 0xf4, 1, 3);
	assert_true(vmm_harness_stopped(h2, &why, &status));
	assert_int_equal(why, VMM_STOP_EXIT);
	assert_int_equal(status, 7);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_unknown_version(void **state)
{
	size_t len;
	uint8_t *rec = vmm_harness_save(F->dev, &len);

	assert_non_null(rec);
	record_version(rec, len)[0] = 2;
	assert_int_equal(vmm_harness_load(F->dev, rec, len), -EPROTO);
	free(rec);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_save_load_empty_record),
		T(test_load_refuses_unknown_version),
	};

	return cmocka_run_group_tests_name("debug-exit", tests, NULL, NULL);
}
