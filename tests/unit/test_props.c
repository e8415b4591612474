/* tests/unit/test_props.c - the property schema: parsing, ranges, errors. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/props.h"

static const char *const mode_choices[] = { "a", "b", NULL };

static const struct vmm_prop_desc schema[] = {
	{ .name = "base", .type = VMM_PROP_INT, .def_int = 0x3f8, .min = 0, .max = 0xffff },
	{ .name = "size", .type = VMM_PROP_INT, .def_int = 0, .min = 1, .max = 0 }, /* no range */
	{ .name = "irq", .type = VMM_PROP_INT, .def_int = 4, .min = 0, .max = 255 },
	{ .name = "enabled", .type = VMM_PROP_BOOL, .def_int = 1 },
	{ .name = "label", .type = VMM_PROP_STRING, .def_str = "stdio" },
	{ .name = "mode", .type = VMM_PROP_ENUM, .def_str = "a", .choices = mode_choices },
	{ .name = "path", .type = VMM_PROP_STRING, .required = true },
	{ .name = NULL },
};

struct fixture {
	struct vmm_propset *ps;
	char err[256];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.ps = vmm_propset_new(schema);
	assert_non_null(f.ps);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vmm_propset_free(f->ps);
	return 0;
}

static int64_t parse(const char *s)
{
	int64_t v = -12345;

	assert_int_equal(vmm_prop_parse_int(s, &v), 0);
	return v;
}

static void test_parse_int_bases(void **state)
{
	(void)state;
	assert_int_equal(parse("0"), 0);
	assert_int_equal(parse("42"), 42);
	assert_int_equal(parse("0x3f8"), 0x3f8);
	assert_int_equal(parse("0X3F8"), 0x3f8);
	assert_int_equal(parse("017"), 15);
	assert_int_equal(parse("-5"), -5);
	assert_int_equal(parse("+7"), 7);
	assert_int_equal(parse("9223372036854775807"), INT64_MAX);
	assert_true(parse("-9223372036854775808") == INT64_MIN);
}

static void test_parse_int_suffixes(void **state)
{
	(void)state;
	assert_int_equal(parse("4K"), 4096);
	assert_int_equal(parse("4k"), 4096);
	assert_int_equal(parse("2M"), 2 << 20);
	assert_int_equal(parse("1G"), 1 << 30);
	assert_true(parse("3T") == 3LL << 40);
	assert_int_equal(parse("0x10K"), 16 * 1024);
}

static void test_parse_int_rejects(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(vmm_prop_parse_int("", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int(" 1", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("1 ", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("0x", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("08", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("12abc", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("1KK", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("1P", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("--1", &v), -EINVAL);
	assert_int_equal(vmm_prop_parse_int("abc", &v), -EINVAL);
}

static void test_parse_int_overflow(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(vmm_prop_parse_int("9223372036854775808", &v), -ERANGE);
	assert_int_equal(vmm_prop_parse_int("-9223372036854775809", &v), -ERANGE);
	assert_int_equal(vmm_prop_parse_int("99999999999999999999999", &v), -ERANGE);
	assert_int_equal(vmm_prop_parse_int("8388608T", &v), -ERANGE);   /* 2^63 */
	assert_int_equal(vmm_prop_parse_int("16777216T", &v), -ERANGE);  /* 2^64 */
	assert_int_equal(vmm_prop_parse_int("8388607T", &v), 0);
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "On" };
	static const char *const no[] = { "false", "no", "off", "0", "No" };
	bool b;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(vmm_prop_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(vmm_prop_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	assert_int_equal(vmm_prop_parse_bool("maybe", &b), -EINVAL);
	assert_int_equal(vmm_prop_parse_bool("", &b), -EINVAL);
	assert_int_equal(vmm_prop_parse_bool("2", &b), -EINVAL);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	int64_t i;
	bool b;

	assert_int_equal(vmm_propset_get_int(f->ps, "base", &i), 0);
	assert_int_equal(i, 0x3f8);
	assert_int_equal(vmm_propset_get_int(f->ps, "irq", &i), 0);
	assert_int_equal(i, 4);
	assert_int_equal(vmm_propset_get_bool(f->ps, "enabled", &b), 0);
	assert_true(b);
	assert_string_equal(vmm_propset_get_str(f->ps, "label"), "stdio");
	assert_string_equal(vmm_propset_get_str(f->ps, "mode"), "a");
	/* Required and unset: no value at all. */
	assert_null(vmm_propset_get_str(f->ps, "path"));
}

static void test_set_and_get_each_type(void **state)
{
	struct fixture *f = *state;
	int64_t i;
	bool b;

	assert_int_equal(vmm_propset_set(f->ps, "base", "0x2f8", f->err, sizeof(f->err)), 0);
	assert_int_equal(vmm_propset_set(f->ps, "size", "-3M", f->err, sizeof(f->err)), 0);
	assert_int_equal(vmm_propset_set(f->ps, "enabled", "off", f->err, sizeof(f->err)), 0);
	assert_int_equal(vmm_propset_set(f->ps, "label", "file", f->err, sizeof(f->err)), 0);
	assert_int_equal(vmm_propset_set(f->ps, "mode", "b", f->err, sizeof(f->err)), 0);

	assert_int_equal(vmm_propset_get_int(f->ps, "base", &i), 0);
	assert_int_equal(i, 0x2f8);
	assert_int_equal(vmm_propset_get_int(f->ps, "size", &i), 0);
	assert_int_equal(i, -3 * 1024 * 1024);
	assert_int_equal(vmm_propset_get_bool(f->ps, "enabled", &b), 0);
	assert_false(b);
	assert_string_equal(vmm_propset_get_str(f->ps, "label"), "file");
	assert_string_equal(vmm_propset_get_str(f->ps, "mode"), "b");

	/* Setting again replaces the value. */
	assert_int_equal(vmm_propset_set(f->ps, "label", "other", f->err, sizeof(f->err)), 0);
	assert_string_equal(vmm_propset_get_str(f->ps, "label"), "other");
}

static void test_range_limits(void **state)
{
	struct fixture *f = *state;
	int64_t i;

	assert_int_equal(vmm_propset_set(f->ps, "base", "0", f->err, sizeof(f->err)), 0);
	assert_int_equal(vmm_propset_set(f->ps, "base", "0xffff", f->err, sizeof(f->err)), 0);
	assert_int_equal(vmm_propset_get_int(f->ps, "base", &i), 0);
	assert_int_equal(i, 0xffff);
}

static void test_error_out_of_range(void **state)
{
	struct fixture *f = *state;
	int64_t i;

	assert_int_equal(vmm_propset_set(f->ps, "base", "0x10000", f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "property 'base': \"0x10000\" is out of range 0..0xffff");
	assert_int_equal(vmm_propset_set(f->ps, "irq", "-1", f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "property 'irq': \"-1\" is out of range 0..255");
	/* A refused value leaves the previous one (here the default). */
	assert_int_equal(vmm_propset_get_int(f->ps, "base", &i), 0);
	assert_int_equal(i, 0x3f8);
}

static void test_error_not_an_integer(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_propset_set(f->ps, "irq", "four", f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "property 'irq': \"four\" is not an integer");
	assert_int_equal(vmm_propset_set(f->ps, "size", "99999999999999999999", f->err,
					 sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "property 'size': \"99999999999999999999\" does not fit in 64 bits");
}

static void test_error_not_a_bool(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_propset_set(f->ps, "enabled", "maybe", f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "property 'enabled': \"maybe\" is not a boolean "
				    "(true/false, yes/no, on/off, 1/0)");
}

static void test_error_enum_lists_choices(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_propset_set(f->ps, "mode", "x", f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "property 'mode': \"x\" is not one of: a, b");
	assert_string_equal(vmm_propset_get_str(f->ps, "mode"), "a");
}

static void test_error_unknown_property(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_propset_set(f->ps, "foo", "1", f->err, sizeof(f->err)), -ENOENT);
	assert_string_equal(f->err, "unknown property 'foo'");
}

static void test_required(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vmm_propset_check(f->ps, f->err, sizeof(f->err)), -EINVAL);
	assert_string_equal(f->err, "required property 'path' is not set");
	assert_int_equal(vmm_propset_set(f->ps, "path", "/tmp/x", f->err, sizeof(f->err)), 0);
	assert_int_equal(vmm_propset_check(f->ps, f->err, sizeof(f->err)), 0);
	assert_string_equal(vmm_propset_get_str(f->ps, "path"), "/tmp/x");
}

static void test_get_wrong_type(void **state)
{
	struct fixture *f = *state;
	int64_t i;
	bool b;

	assert_int_equal(vmm_propset_get_int(f->ps, "enabled", &i), -ENOENT);
	assert_int_equal(vmm_propset_get_bool(f->ps, "base", &b), -ENOENT);
	assert_null(vmm_propset_get_str(f->ps, "base"));
	assert_int_equal(vmm_propset_get_int(f->ps, "nosuch", &i), -ENOENT);
	assert_null(vmm_propset_get_str(f->ps, "nosuch"));
}

static void test_empty_schema(void **state)
{
	struct vmm_propset *ps = vmm_propset_new(NULL);
	char err[64];

	(void)state;
	assert_non_null(ps);
	assert_int_equal(vmm_propset_check(ps, err, sizeof(err)), 0);
	assert_int_equal(vmm_propset_set(ps, "x", "1", err, sizeof(err)), -ENOENT);
	/* No buffer for the message is fine too. */
	assert_int_equal(vmm_propset_set(ps, "x", "1", NULL, 0), -ENOENT);
	vmm_propset_free(ps);
}

static void test_find_and_names(void **state)
{
	(void)state;
	assert_ptr_equal(vmm_prop_find(schema, "irq"), &schema[2]);
	assert_null(vmm_prop_find(schema, "IRQ"));
	assert_string_equal(vmm_prop_type_name(VMM_PROP_INT), "int");
	assert_string_equal(vmm_prop_type_name(VMM_PROP_BOOL), "bool");
	assert_string_equal(vmm_prop_type_name(VMM_PROP_STRING), "string");
	assert_string_equal(vmm_prop_type_name(VMM_PROP_ENUM), "enum");
}

static void test_format_default(void **state)
{
	char buf[32];

	(void)state;
	vmm_prop_format_default(&schema[0], buf, sizeof(buf));
	assert_string_equal(buf, "0x3f8");
	vmm_prop_format_default(&schema[2], buf, sizeof(buf));
	assert_string_equal(buf, "4");
	vmm_prop_format_default(&schema[3], buf, sizeof(buf));
	assert_string_equal(buf, "true");
	vmm_prop_format_default(&schema[4], buf, sizeof(buf));
	assert_string_equal(buf, "\"stdio\"");
	vmm_prop_format_default(&schema[6], buf, sizeof(buf));
	assert_string_equal(buf, "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_int_bases),
		cmocka_unit_test(test_parse_int_suffixes),
		cmocka_unit_test(test_parse_int_rejects),
		cmocka_unit_test(test_parse_int_overflow),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_and_get_each_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_not_an_integer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_not_a_bool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_enum_lists_choices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_unknown_property, setup, teardown),
		cmocka_unit_test_setup_teardown(test_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_wrong_type, setup, teardown),
		cmocka_unit_test(test_empty_schema),
		cmocka_unit_test(test_find_and_names),
		cmocka_unit_test(test_format_default),
	};

	return cmocka_run_group_tests_name("props", tests, NULL, NULL);
}
