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

#include "core/log.h"
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

static void test_bad_boot_decompress(void **state)
{
	(void)state;
	expect_error("hypervisor \"fake-hv\" {}\nboot {\n decompress = \"later\"\n}\n", 3,
		     "boot decompress \"later\" is not one of: host, guest");
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


/* ------------------------------------------- hostile input (issue 9) */

/* Load a text that is no file: a pipe, read through /dev/fd/N. */
static int load_pipe(const char *text, char *err, size_t errlen, char *name, size_t namelen)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = NULL;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], text, strlen(text)), (ssize_t)strlen(text));
	close(fds[1]);
	snprintf(name, namelen, "/dev/fd/%d", fds[0]);
	int rc = vmm_config_load(name, ps, plugin_path, &mc, err, errlen);
	close(fds[0]);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
	return rc;
}

/* A pipe can be read once: the error in it must not vanish. */
static void test_config_from_a_pipe_is_read_once(void **state)
{
	char err[1024] = "", name[64], want[128];
	assert_int_not_equal(load_pipe("hypervisor \"fake-hv\" {}\n\nmemroy = 16M\n", err, sizeof(err), name,
				       sizeof(name)), 0);
	snprintf(want, sizeof(want), "%s:3: ", name);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, "memroy"))
		fail_msg("expected \"%s...memroy\", got \"%s\"", want, err);
	assert_int_equal(load_pipe("hypervisor \"fake-hv\" {}\nmemory = 16M\n", err, sizeof(err), name,
				   sizeof(name)), 0);
}

static void test_directory_as_config(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "", want[512];
	assert_int_not_equal(vmm_config_load(conf_path, ps, plugin_path, &mc, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", conf_path);
	assert_string_equal(err, want);
	vmm_plugin_set_free(ps);
}

/* 40,000 open sections: libconfuse would recurse until the stack
 * overflows.  Refused at the first brace past the limit. */
static void test_deep_nesting_is_refused(void **state)
{
	size_t n = 40000;
	char *text = malloc(n * 4 + 64);
	assert_non_null(text);
	char *text2 = malloc(n * 16 + 64);
	assert_non_null(text2);
	char *p = text2 + sprintf(text2, "hypervisor \"fake-hv\" {}\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "device \"x\" {\n");
	expect_error(text2, 3, "a section inside device 'x'");
	free(text2);
	/* The same on one line, as lists the structure check does not name. */
	p = text + sprintf(text, "hypervisor \"fake-hv\" {}\nx = ");
	for (size_t i = 0; i < n; i++)
		*p++ = '{';
	*p = '\0';
	expect_error(text, 2, "nested more than 8 deep");
	free(text);
}

/* Parse time must stay linear: past 1024 sections a config is refused
 * before libconfuse (quadratic in the number of sections) sees it. */
static void test_section_count_limit(void **state)
{
	char *text = malloc(1100 * 64);
	assert_non_null(text);
	/* The hypervisor is named: the default one, kvm, is x86-only so
	 * far (this test runs on the nested arm64 host too). */
	char *p = text + sprintf(text, "hypervisor \"fake-hv\" {}\n");
	for (int i = 0; i < 1023; i++)
		p += sprintf(p, "device \"d%d\" { plugin = \"debug-exit\" }\n", i);
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = load_ok(text, ps);
	assert_int_equal(mc->ndevices, 1023);
	assert_int_equal(mc->devices[1022].line, 1024);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
	sprintf(p, "backend \"b\" { plugin = \"stdio\" }\n");
	expect_error(text, 1025, "more than 1024 sections");
	free(text);
}

static void test_size_limit(void **state)
{
	size_t n = (1u << 20) + 1;
	char *text = malloc(n + 1);
	assert_non_null(text);
	static const char hv[] = "hypervisor \"fake-hv\" {}\n#"; /* kvm is x86-only */
	memset(text, ' ', n);
	memcpy(text, hv, sizeof(hv) - 1);
	text[n] = '\0';
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "";
	const char *file = write_conf(text);
	assert_int_not_equal(vmm_config_load(file, ps, plugin_path, &mc, err, sizeof(err)), 0);
	assert_non_null(strstr(err, file));
	assert_non_null(strstr(err, "larger than 1 MiB"));
	vmm_plugin_set_free(ps);
	/* 1 MiB exactly is fine */
	text[n - 1] = '\0';
	ps = vmm_plugin_set_new();
	mc = load_ok(text, ps);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
	free(text);
}

/* A repeated setting is an error naming both lines, never "the last wins". */
static void test_repeated_settings(void **state)
{
	expect_error("memory = 64M\nhypervisor \"fake-hv\" {}\n\nmemory = 32M\n", 4,
		     "'memory' is set twice (first on line 1)");
	expect_error("hypervisor \"fake-hv\" {}\nboot { kernel = \"a\" }\nboot { cmdline = \"b\" }\n", 3,
		     "a second boot section (the first is on line 2)");
	expect_error("hypervisor \"fake-hv\" { slots = 4 }\n\nhypervisor \"fake-hv\" { slots = 8 }\n", 3,
		     "a second hypervisor section (the first is on line 1)");
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"x\" {\n plugin = \"debug-exit\"\n iobase = 1\n"
		     " iobase = 2\n}\n", 5, "device 'x': 'iobase' is set twice (first on line 4)");
	expect_error("hypervisor \"fake-hv\" {}\nboot {\n kernel = \"a\"\n kernel = \"b\"\n}\n", 4,
		     "boot: 'kernel' is set twice (first on line 3)");
	expect_error("hypervisor \"fake-hv\" {}\nbackend \"b\" { plugin = \"stdio\" }\n"
		     "device \"x\" { plugin = \"debug-exit\" }\nbackend \"b\" { plugin = \"file\" path = \"/x\" }\n", 4,
		     "backend 'b' is defined twice (first on line 2)");
}

static void test_unterminated_section(void **state)
{
	expect_error("hypervisor \"fake-hv\" {}\n\ndevice \"x\" {\n plugin = \"debug-exit\"\n\n", 3,
		     "device 'x' is not closed");
	expect_error("hypervisor \"fake-hv\" {}\n}\n", 2, "'}' closes no section");
}

/* Names are [A-Za-z0-9._-], 1 to 63 characters: never raw bytes in a log line. */
static void test_names_are_plain(void **state)
{
	static const char *const bad[] = {
		"\"\"", "\"a\\nb\"", "\"a\\033[31mred\"", "\"a b\"", "\"a\nb\"", "\"caf\xc3\xa9\"",
		"\"0123456789012345678901234567890123456789012345678901234567890123\"", "\"${HOME}\"",
	};
	char text[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "hypervisor \"fake-hv\" {}\ndevice %s { plugin = \"debug-exit\" }\n",
			 bad[i]);
		expect_error(text, 2, "device name");
		snprintf(text, sizeof(text), "hypervisor \"fake-hv\" {}\n\nbackend %s { plugin = \"stdio\" }\n", bad[i]);
		expect_error(text, 3, "backend name");
		snprintf(text, sizeof(text), "hypervisor \"fake-hv\" {}\ndevice \"d\" {\n plugin = %s\n}\n", bad[i]);
		expect_error(text, 3, "plugin name");
	}
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = load_ok(
		"hypervisor \"fake-hv\" {}\n"
		"device \"A-z_0.9\" { plugin = \"debug-exit\" }\n"
		"device 012345678901234567890123456789012345678901234567890123456789012 { plugin = debug-exit }\n", ps);
	assert_int_equal(mc->ndevices, 2);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
}

/* Whatever a bad value holds, the message stays one printable line. */
static void test_error_is_one_printable_line(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "";
	const char *file = write_conf("hypervisor \"fake-hv\" {}\ndevice \"x\" { plugin = \"debug-exit\"\n"
				      " iobase = \"1\\n\\033[31mvmmctl: forged\" }\n");
	assert_int_not_equal(vmm_config_load(file, ps, plugin_path, &mc, err, sizeof(err)), 0);
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("control character 0x%02x in \"%s\"", *p, err);
	assert_non_null(strstr(err, "\\n\\x1b[31mvmmctl: forged"));
	vmm_plugin_set_free(ps);
}

static void test_error_lines(void **state)
{
	/* the line where the string starts, not the end of the file */
	expect_error("hypervisor \"fake-hv\" {}\n\nboot { cmdline = \"console=ttyS0 }\n\n\n\n", 3,
		     "string not closed");
	expect_error("hypervisor \"fake-hv\" {}\nboot { cmdline = 'abc }\n\n", 2, "string not closed");
	expect_error("hypervisor \"fake-hv\" {}\n\n/* a comment\n\n", 3, "comment not closed");
	/* an unknown section on its own line, not the next section's */
	expect_error("hypervisor \"fake-hv\" {}\nfoo { x = 1 }\n\n\ndevice \"x\" { plugin = \"debug-exit\" }\n", 2,
		     "unknown section 'foo'");
	expect_error("hypervisor \"fake-hv\" {}\ndevice \"x\" {\n plugin = \"debug-exit\"\n"
		     " extra { x = 1 }\n}\n", 4, "a section inside device 'x'");
}

/* A UTF-8 byte-order mark at the start is skipped (vmm.conf(5)). */
static void test_byte_order_mark(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = load_ok("\xef\xbb\xbfmemory = 32M\nhypervisor \"fake-hv\" {}\n", ps);
	assert_int_equal(mc->memory, 32 << 20);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
	expect_error("\xef\xbb\xbfmemroy = 32M\nhypervisor \"fake-hv\" {}\n", 1, "no such option 'memroy'");
	/* anywhere else it is a stray character in a name */
	expect_error("hypervisor \"fake-hv\" {}\n\xef\xbb\xbfmemory = 32M\n", 2, "no such option '\\xef\\xbb\\xbfmemory'");
}

/* "//" at the start of a token opens a comment even before a word, as in
 * libconfuse 3.3 (the fuzzer found the scan taking it for a word). */
static void test_line_comment_before_a_word(void **state)
{
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = load_ok("hypervisor \"fake-hv\" {}\n"
						"//device \"a b\" { {{ plugin = \"x\"\n"
						"memory = 32M //x\n", ps);
	assert_int_equal(mc->memory, 32 << 20);
	assert_int_equal(mc->ndevices, 0);
	vmm_config_free(mc);
	vmm_plugin_set_free(ps);
}

/* Whatever reaches a log line (a backend a device names, say, or a
 * guest's text) comes out as one line, without control characters. */
static void test_log_line_is_one_line(void **state)
{
	char path[256], buf[512] = "";
	snprintf(path, sizeof(path), "%s/log", conf_path);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	dup2(fileno(f), STDERR_FILENO);
	vmm_log(VMM_LOG_ERROR, "dev", "no backend named '%s'", "x\nvmmctl: forged\033[2J");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	unlink(path);
	buf[n] = '\0';
	assert_string_equal(buf, "vmmctl: dev: error: no backend named 'x\\nvmmctl: forged\\x1b[2J'\r\n");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "hypervisor \"fake-hv\" {}\nmemory = 32M\0memroy = 1\n";
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	struct vmm_machine_config *mc = NULL;
	char err[1024] = "", want[300];
	char path[256];
	snprintf(path, sizeof(path), "%s/machine.conf", conf_path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, sizeof(text) - 1, f);
	fclose(f);
	assert_int_not_equal(vmm_config_load(path, ps, plugin_path, &mc, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s:2: a NUL byte", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("expected \"%s...\", got \"%s\"", want, err);
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
		cmocka_unit_test(test_bad_boot_decompress),
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
		cmocka_unit_test(test_config_from_a_pipe_is_read_once),
		cmocka_unit_test(test_directory_as_config),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_section_count_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_repeated_settings),
		cmocka_unit_test(test_unterminated_section),
		cmocka_unit_test(test_names_are_plain),
		cmocka_unit_test(test_error_is_one_printable_line),
		cmocka_unit_test(test_error_lines),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_comment_before_a_word),
		cmocka_unit_test(test_log_line_is_one_line),
	};
	/* TEST_FILTER=test_name (a glob) runs only those tests. */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	int rc = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", conf_path);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
