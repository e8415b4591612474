/* Loader tests: every refusal the ABI promises, against fixture plugins
 * that each break one rule (tests/fixtures/broken-plugin.c). */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loader.h"

static char fixture_dir[4096];

static const char *fixture(const char *name)
{
	static char path[4200];
	snprintf(path, sizeof(path), "%s/%s.so", fixture_dir, name);
	return path;
}

/* Load `name` and expect refusal `rc` with a message that names the file
 * and contains `what`, on a single line. */
static void expect_refused(const char *name, int rc, const char *what)
{
	struct vmm_loaded_plugin p;
	char err[1024] = "";
	const char *path = fixture(name);

	assert_int_equal(vmm_plugin_load_file(path, &p, err, sizeof(err)), rc);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, what));
	assert_null(strchr(err, '\n'));
	assert_null(p.desc);
}

static void test_good_plugin_loads(void **state)
{
	struct vmm_loaded_plugin p;
	char err[512] = "";
	assert_int_equal(vmm_plugin_load_file(fixture("good"), &p, err, sizeof(err)), 0);
	assert_string_equal(p.desc->name, "good");
	assert_int_equal(p.desc->kind, 2);
	assert_ptr_equal(p.ops, p.desc->ops);
	vmm_plugin_unload(&p);
}

static void test_refuses_other_major(void **state)
{
	expect_refused("bad-major", -EPROTO, "ABI major 2, expected 1");
}

/* A descriptor that forgot VMM_PLUGIN_HEADER is told so, not sent to
 * rebuild against this vmm (which would change nothing). */
static void test_refuses_missing_header(void **state)
{
	expect_refused("no-header", -EPROTO,
		       "descriptor has ABI 0.0 and size 0: it does not start with VMM_PLUGIN_HEADER");
}

static void test_refuses_newer_minor(void **state)
{
	char what[64];
	snprintf(what, sizeof(what), "ABI minor %d is newer", VMM_ABI_MINOR + 7);
	expect_refused("newer-minor", -EPROTO, what);
}

/* A plugin built against ABI 1.0 (older minor) still loads: tables only
 * grow at the end, so everything it knows is where it expects it. */
static void test_accepts_older_minor(void **state)
{
	struct vmm_loaded_plugin p;
	char err[512] = "";
	assert_int_equal(vmm_plugin_load_file(fixture("older-minor"), &p, err, sizeof(err)), 0);
	assert_int_equal(p.desc->abi_minor, 0);
	vmm_plugin_unload(&p);
}

static void test_refuses_small_descriptor(void **state)
{
	expect_refused("small-desc", -EPROTO, "descriptor size 12 is smaller");
}

static void test_refuses_unknown_kind(void **state)
{
	expect_refused("bad-kind", -EPROTO, "unknown plugin kind 42");
}

static void test_refuses_small_ops(void **state)
{
	expect_refused("small-ops", -EPROTO, "ops table of 'small-ops' is 2 bytes");
}

static void test_refuses_missing_entry(void **state)
{
	expect_refused("no-entry", -ENOENT,
		       "no vmm_plugin_entry symbol: not a vmm plugin (a plugin exports it with "
		       "VMM_PLUGIN_DEFINE(its descriptor)");
}

static void test_refuses_null_entry(void **state)
{
	expect_refused("null-entry", -EPROTO, "returned NULL");
}

static void test_refuses_unresolved_symbol(void **state)
{
	expect_refused("undefined-sym", -ENOEXEC, "vmm_fixture_symbol_nobody_defines");
}

static void test_refuses_non_elf(void **state)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/garbage-XXXXXX.so", P_tmpdir);
	int fd = mkstemps(path, 3);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a shared object\n", 20), 20);
	close(fd);

	struct vmm_loaded_plugin p;
	char err[1024] = "";
	assert_int_equal(vmm_plugin_load_file(path, &p, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "cannot load"));
	unlink(path);
}

static void test_refuses_missing_file(void **state)
{
	struct vmm_loaded_plugin p;
	char err[1024] = "";
	assert_int_equal(vmm_plugin_load_file("/nonexistent/x.so", &p, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "/nonexistent/x.so"));
}

static void test_set_refuses_misnamed_file(void **state)
{
	struct vmm_plugin_set *s = vmm_plugin_set_new();
	char err[1024] = "";
	assert_int_equal(vmm_plugin_set_add_file(s, fixture("misnamed"), err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "declares name 'not-misnamed'"));
	assert_int_equal(vmm_plugin_set_count(s), 0);
	vmm_plugin_set_free(s);
}

static void test_set_refuses_duplicate_name(void **state)
{
	/* The same plugin under two paths: the second is a duplicate. */
	char dir[] = "/tmp/vmm-loader-XXXXXX", copy[4200], cmd[8800];
	assert_non_null(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/good.so", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", fixture("good"), copy);
	assert_int_equal(system(cmd), 0);

	struct vmm_plugin_set *s = vmm_plugin_set_new();
	char err[1024] = "";
	assert_int_equal(vmm_plugin_set_add_file(s, fixture("good"), err, sizeof(err)), 0);
	assert_int_equal(vmm_plugin_set_add_file(s, copy, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, copy));
	assert_non_null(strstr(err, "duplicate plugin name 'good'"));
	assert_int_equal(vmm_plugin_set_count(s), 1);
	vmm_plugin_set_free(s);
	unlink(copy);
	rmdir(dir);
}

/* Descriptors and schemas the ABI does not allow are refused, naming the
 * plugin; before, each of these loaded. */
static void test_refuses_oversized_tables(void **state)
{
	char what[128];
	snprintf(what, sizeof(what), "descriptor of 'huge-desc' claims 4294967295 bytes, more than ABI %d.%d's %zu",
		 VMM_ABI_MAJOR, VMM_ABI_MINOR, sizeof(struct vmm_plugin));
	expect_refused("huge-desc", -EPROTO, what);
	expect_refused("huge-ops", -EPROTO, "device ops table of 'huge-ops' claims 4294967295 bytes");
}

static void test_refuses_names_that_are_not_plain(void **state)
{
	expect_refused("bad-name", -EPROTO, "descriptor name \"bad\\nname\" is not 1 to 63 characters");
	expect_refused("prop-name", -EPROTO, "property \"io base\\nvmmctl: forged\" of 'prop-name' is not");
	expect_refused("prop-empty", -EPROTO, "plugin 'prop-empty' has a property with an empty name");
	expect_refused("prop-reserved", -EPROTO, "property 'plugin' of 'prop-reserved' is reserved");
	expect_refused("prop-duplicate", -EPROTO, "property 'base' of 'prop-duplicate' is defined twice");
}

static void test_refuses_defaults_the_schema_refuses(void **state)
{
	expect_refused("prop-default-range", -EPROTO,
		       "property 'level' of 'prop-default-range': default 100 is outside its range 0..10");
	expect_refused("prop-default-enum", -EPROTO,
		       "property 'mode' of 'prop-default-enum': default \"maybe\" is not one of its choices");
	/* ABI 1.8: a declared system call libseccomp does not know. */
	expect_refused("bad-syscall", -EPROTO,
		       "'bad-syscall' declares system call \"no_such_call\", which is not one on this host");
}

static int report_count;
static char last_report[1024];

static void count_report(void *ctx, const char *line)
{
	report_count++;
	snprintf(last_report, sizeof(last_report), "%s", line);
}

static void test_scan_reports_each_broken_plugin_and_keeps_going(void **state)
{
	struct vmm_plugin_set *s = vmm_plugin_set_new();
	report_count = 0;
	int n = vmm_plugin_set_scan(s, fixture_dir, count_report, NULL);
	/* good and fake-hv load; the broken fixtures are reported, and so
	 * are crash-load and exit-load, whose constructors fault or call
	 * exit(): the scan loads each file in a child first and survives. */
	assert_true(n >= 2);
	assert_non_null(vmm_plugin_set_find(s, "good"));
	assert_non_null(vmm_plugin_set_find(s, "fake-hv"));
	assert_null(vmm_plugin_set_find(s, "bad-major"));
	assert_null(vmm_plugin_set_find(s, "crash-load"));
	assert_null(vmm_plugin_set_find(s, "exit-load"));
	assert_int_equal(report_count, 22); /* 20, no-header (issue 13), bad-syscall (issue 15) */
	vmm_plugin_set_free(s);
}

static void test_require_finds_by_name_on_path(void **state)
{
	struct vmm_plugin_set *s = vmm_plugin_set_new();
	const struct vmm_loaded_plugin *p = NULL;
	char path[8400], err[1024] = "";

	snprintf(path, sizeof(path), "/nonexistent:%s", fixture_dir);
	assert_int_equal(vmm_plugin_set_require(s, path, "good", &p, err, sizeof(err)), 0);
	assert_string_equal(p->desc->name, "good");
	/* only the plugin asked for was opened */
	assert_int_equal(vmm_plugin_set_count(s), 1);
	assert_int_equal(vmm_plugin_set_require(s, path, "nosuch", &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no plugin named 'nosuch'"));
	assert_int_equal(vmm_plugin_set_require(s, path, "../good", &p, err, sizeof(err)), -EINVAL);
	/* a name is plain: never a newline into a message */
	assert_int_equal(vmm_plugin_set_require(s, path, "a\nvmmctl: forged", &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid plugin name \"a\\nvmmctl: forged\""));
	assert_null(strchr(err, '\n'));
	vmm_plugin_set_free(s);
}

/* Pointers to loaded plugins stay valid while the set grows (a config keeps
 * them): more plugins than the set's first allocation. */
static void test_set_pointers_stable_while_growing(void **state)
{
	struct vmm_plugin_set *s = vmm_plugin_set_new();
	char err[1024];
	assert_int_equal(vmm_plugin_set_add_file(s, fixture("good"), err, sizeof(err)), 0);
	const struct vmm_loaded_plugin *first = vmm_plugin_set_find(s, "good");
	const char *name = first->desc->name;
	/* every loadable fixture and every plugin of the build: well past
	 * the set's first allocation of 8 */
	vmm_plugin_set_scan(s, fixture_dir, NULL, NULL);
	vmm_plugin_set_scan(s, getenv("VMM_PLUGIN_PATH"), NULL, NULL);
	assert_true(vmm_plugin_set_count(s) > 8);
	assert_ptr_equal(vmm_plugin_set_find(s, "good"), first);
	assert_string_equal(first->desc->name, name);
	vmm_plugin_set_free(s);
}

int main(void)
{
	const char *b = getenv("VMM_BUILDDIR");
	snprintf(fixture_dir, sizeof(fixture_dir), "%s/tests/fixtures/.libs", b ? b : ".");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_plugin_loads),
		cmocka_unit_test(test_refuses_other_major),
		cmocka_unit_test(test_refuses_missing_header),
		cmocka_unit_test(test_refuses_newer_minor),
		cmocka_unit_test(test_accepts_older_minor),
		cmocka_unit_test(test_refuses_small_descriptor),
		cmocka_unit_test(test_refuses_unknown_kind),
		cmocka_unit_test(test_refuses_small_ops),
		cmocka_unit_test(test_refuses_missing_entry),
		cmocka_unit_test(test_refuses_null_entry),
		cmocka_unit_test(test_refuses_unresolved_symbol),
		cmocka_unit_test(test_refuses_non_elf),
		cmocka_unit_test(test_refuses_missing_file),
		cmocka_unit_test(test_set_refuses_misnamed_file),
		cmocka_unit_test(test_refuses_oversized_tables),
		cmocka_unit_test(test_refuses_names_that_are_not_plain),
		cmocka_unit_test(test_refuses_defaults_the_schema_refuses),
		cmocka_unit_test(test_set_refuses_duplicate_name),
		cmocka_unit_test(test_scan_reports_each_broken_plugin_and_keeps_going),
		cmocka_unit_test(test_require_finds_by_name_on_path),
		cmocka_unit_test(test_set_pointers_stable_while_growing),
	};
	return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
