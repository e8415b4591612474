/* Config tests: each class of error names the file and the right line;
 * valid configs come out as the machine they describe. */
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

#include "core/machine-config.h"

static char plugin_path[8400];
static char conf_path[] = "/tmp/vmm-config-test-XXXXXX";

static const char *write_conf(const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/machine.conf", conf_path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load `text`; expect failure with "FILE:LINE: ...what...". */
static void expect_error(const char *text, int line, const char *what)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "", want[512];
	const char *file = write_conf(text);

	assert_int_not_equal(vmm_config_load(file, ps, plugin_path, &mc, err, sizeof(err)), 0);
	assert_null(mc);
	snprintf(want, sizeof(want), "%s:%d: ", file, line);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
		fail_msg("expected \"%s...%s\", got \"%s\"", want, what, err);
	assert_null(strchr(err, '\n'));
	vmm_plugin_set_free(ps);
}

static struct vmm_machine_config *load_ok(const char *text, struct vmm_plugin_set *ps)
{
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "";
	if (vmm_config_load(write_conf(text), ps, plugin_path, &mc, err, sizeof(err)))
		fail_msg("unexpected error: %s", err);
	return mc;
}

static void test_valid_machine(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = load_ok(
		"memory = 32M\n"
		"vcpus = 2\n"
		"hypervisor \"fake-hv\" { slots = 16 }\n"
		"boot { kernel = \"guest.elf\" cmdline = \"console=ttyS0\" initrd = \"rd.cpio\"\n"
		"       format = \"bzimage\" }\n"
		"backend \"log\" { plugin = \"file\" path = \"/tmp/x\" append = yes }\n"
		"device \"exit\" {\n"
		"  iobase = 0x501   # properties may come before the plugin\n"
		"  plugin = \"debug-exit\"\n"
		"}\n", ps);
	int64_t v;
	bool b;
	assert_int_equal(mc->memory, 32 << 20);
	assert_int_equal(mc->vcpus, 2);
	assert_string_equal(mc->hypervisor.plugin, "fake-hv");
	assert_int_equal(vmm_propset_get_int(mc->hypervisor.props, "slots", &v), 0);
	assert_int_equal(v, 16);
	assert_string_equal(vmm_propset_get_str(mc->hypervisor.props, "irqchip"), "kernel");
	/* a relative kernel path is relative to the config file */
	char want[300];
	snprintf(want, sizeof(want), "%s/guest.elf", conf_path);
	assert_string_equal(mc->kernel, want);
	assert_string_equal(mc->cmdline, "console=ttyS0");
	snprintf(want, sizeof(want), "%s/rd.cpio", conf_path);
	assert_string_equal(mc->initrd, want);
	assert_int_equal(mc->format, VMM_BOOT_BZIMAGE);
	assert_int_equal(mc->nbackends, 1);
	assert_string_equal(vmm_propset_get_str(mc->backends[0].props, "path"), "/tmp/x");
	assert_int_equal(vmm_propset_get_bool(mc->backends[0].props, "append", &b), 0);
	assert_true(b);
	assert_int_equal(mc->ndevices, 1);
	assert_string_equal(mc->devices[0].name, "exit");
	assert_int_equal(mc->devices[0].line, 7);
	assert_int_equal(vmm_propset_get_int(mc->devices[0].props, "iobase", &v), 0);
	assert_int_equal(v, 0x501);
	assert_int_equal(vmm_propset_get_int(mc->devices[0].props, "iosize", &v), 0);
	assert_int_equal(v, 4); /* the schema default */
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
}

static void test_defaults_when_unset(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = load_ok("hypervisor \"fake-hv\" {}\n", ps);
	assert_int_equal(mc->memory, 64 << 20);
	assert_int_equal(mc->vcpus, 1);
	assert_null(mc->kernel);
	assert_int_equal(mc->ndevices, 0);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
}

static void test_syntax_error_line(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\n\ndevice \"x\" {\n  plugin = \"debug-exit\"\n  iobase = = 3\n}\n", 5, "");
}

static void test_unknown_top_level_option(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\nmemroy = 16M\n", 2, "memroy");
}

static void test_unknown_property(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\n"
		     "backend \"log\" { plugin = \"file\" path = \"/tmp/x\" }\n"
		     "device \"exit\" {\n plugin = \"debug-exit\"\n path = \"/x\"\n}\n",
		     5, "device 'exit': plugin 'debug-exit' has no property 'path'");
}

static void test_value_out_of_range(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"exit\" {\n plugin = \"debug-exit\"\n\n iobase = 0x10000\n}\n",
		     5, "iobase");
}

static void test_value_not_a_number(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"exit\" {\n plugin = \"debug-exit\"\n iosize = four\n}\n",
		     4, "iosize");
}

static void test_bad_enum(void **state)
{
	expect_error("memory = 16M\nhypervisor \"fake-hv\" {\n\n irqchip = \"magic\"\n}\n", 4, "irqchip");
}

static void test_bad_bool(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"exit\" { plugin = \"debug-exit\"\n zero-is-success = maybe }\n",
		     3, "zero-is-success");
}

static void test_missing_required_property(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\n\nbackend \"log\" {\n plugin = \"file\"\n append = true\n}\n",
		     3, "required property 'path'");
}

static void test_section_without_plugin(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"exit\" {\n iobase = 0xf4\n}\n", 2, "names no plugin");
}

static void test_unknown_plugin(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\n\ndevice \"d\" { plugin = \"no-such-device\" }\n", 3,
		     "no plugin named 'no-such-device'");
}

static void test_plugin_of_wrong_kind(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"d\" {\n plugin = \"stdio\"\n}\n", 3,
		     "plugin 'stdio' is a backend plugin, not a device");
	expect_error("\nhypervisor \"debug-exit\" {\n}\n", 2, "is a device plugin, not a hypervisor");
}

static void test_duplicate_device_name(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"a\" { plugin = \"debug-exit\" }\n"
		     "device \"a\" { plugin = \"debug-exit\" iobase = 0x501 }\n", 3, "a");
}

static void test_bad_memory_and_vcpus(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\n\nmemory = 1K\n", 3, "memory");
	expect_error("hypervisor \"fake-hv\" {}\nmemory = lots\n", 2, "memory");
	expect_error("hypervisor \"fake-hv\" {}\nvcpus = 0\n", 2, "vcpus");
}

static void test_on_reset(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = load_ok("hypervisor \"fake-hv\" {}\non-reset = \"restart\"\n", ps);
	assert_true(mc->restart_on_reset);
	vmm_config_free(mc);
	mc = load_ok("hypervisor \"fake-hv\" {}\n", ps);
	assert_false(mc->restart_on_reset);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
	expect_error("hypervisor \"fake-hv\" {}\n\non-reset = \"reboot\"\n", 3, "on-reset");
}

static void test_bad_boot_format(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\nboot {\n kernel = \"k\"\n format = \"coff\"\n}\n", 4,
		     "format");
}

static void test_missing_file(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc;
	char err[512] = "";
	assert_int_not_equal(vmm_config_load("/nonexistent/m.conf", ps, plugin_path, &mc, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/m.conf"));
	vmm_plugin_set_free(ps);
}

static void test_default_machine(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "";
#ifndef __x86_64__
	/* The built-in default machine is an x86 PC; other builds (the
	 * aarch64 one run on the nested arm64 host) have none yet. */
	print_message("skipped: the default machine is x86-only\n");
	vmm_plugin_set_free(ps);
	skip();
#endif
	if (vmm_config_load(NULL, ps, plugin_path, &mc, err, sizeof(err)))
		fail_msg("default machine: %s", err);
	assert_string_equal(mc->hypervisor.plugin, "kvm");
	assert_string_equal(vmm_propset_get_str(mc->hypervisor.props, "irqchip"), "emulated");
	assert_int_equal(mc->ndevices, 3);
	assert_string_equal(mc->devices[0].plugin, "i8259");
	assert_string_equal(mc->devices[1].plugin, "uart16550");
	assert_string_equal(mc->devices[2].plugin, "debug-exit");
	assert_non_null(strstr(mc->kernel, "guests/hello.elf"));
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
}

int main(void)
{
	const char *b = getenv("VMM_BUILDDIR");
	snprintf(plugin_path, sizeof(plugin_path), "%s/build-plugins:%s/tests/fixtures/.libs", b ? b : ".",
		 b ? b : ".");
	if (!mkdtemp(conf_path))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_machine),
		cmocka_unit_test(test_defaults_when_unset),
		cmocka_unit_test(test_syntax_error_line),
		cmocka_unit_test(test_unknown_top_level_option),
		cmocka_unit_test(test_unknown_property),
		cmocka_unit_test(test_value_out_of_range),
		cmocka_unit_test(test_value_not_a_number),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_bad_bool),
		cmocka_unit_test(test_missing_required_property),
		cmocka_unit_test(test_section_without_plugin),
		cmocka_unit_test(test_unknown_plugin),
		cmocka_unit_test(test_plugin_of_wrong_kind),
		cmocka_unit_test(test_duplicate_device_name),
		cmocka_unit_test(test_bad_memory_and_vcpus),
		cmocka_unit_test(test_bad_boot_format),
		cmocka_unit_test(test_on_reset),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_default_machine),
	};
	int rc = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", conf_path);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
