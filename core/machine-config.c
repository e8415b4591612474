/* core/machine-config.c - machine configs with libconfuse (see machine-config.h and vmm.conf(5)).
 *
 * libconfuse needs every option name before it parses, but a device
 * section's options are its plugin's properties.  So pass 1 parses with
 * unknown options ignored, only to learn which plugins are named; pass 2
 * parses with sections whose options are the union of those plugins'
 * properties (all as strings), and the values are then checked against
 * each section's own plugin schema, with the line each came from.
 */
#include "config.h"

#include <confuse.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/machine-config.h"

/* Uniprocessor, so the 8259 runs as a plugin (irqchip = "emulated"): the
 * UART's interrupts work and start-up skips KVM_CREATE_IRQCHIP, which costs
 * more than the rest of vmmctl's start-up on nested hosts. */
const char vmm_default_machine[] =
	"# the built-in default machine\n"
	"memory = 64M\n"
	"vcpus = 1\n"
	"hypervisor \"kvm\" { irqchip = \"emulated\" }\n"
	"device \"pic\" { plugin = \"i8259\" }\n"
	"device \"com1\" { plugin = \"uart16550\" base = 0x3f8 irq = 4 chardev = \"stdio\" }\n"
	"device \"exit\" { plugin = \"debug-exit\" iobase = 0xf4 zero-is-success = true }\n";

#define DEFAULT_MACHINE_NAME "<default machine>"
#define DEFAULT_KERNEL VMM_DATADIR "/guests/hello.elf"

/* Where each option value came from, recorded while libconfuse parses. */
struct opt_line {
	char *section; /* "device", "backend", "hypervisor", "boot", or NULL for top level */
	char *title;
	char *option;
	int line;
};

struct parse_ctx {
	const char *file;
	char *err;
	size_t errlen;
	bool have_err;
	struct opt_line *lines;
	size_t nlines, cap;
	const char *text; /* the config's text, for section start lines */
	/* Which plugin a section names (known after pass 1). */
	const char *(*plugin_of)(const void *pass1, const char *section, const char *title);
	const void *pass1;
};

/* libconfuse's callbacks carry no user pointer; parsing is single-threaded. */
static _Thread_local struct parse_ctx *cur;

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512], opt[128];
	if (!cur || cur->have_err)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* In a plugin's section an unknown option is a property the plugin
	 * does not have: say so, and where to look. */
	const char *plugin = cfg && cfg->title && cur->plugin_of ? cur->plugin_of(cur->pass1, cfg->name, cfg->title) : NULL;
	if (plugin && sscanf(msg, "no such option '%127[^']'", opt) == 1)
		snprintf(cur->err, cur->errlen, "%s:%d: %s '%s': plugin '%s' has no property '%s' "
			 "(see: vmmctl plugins describe %s)", cur->file, cfg->line, cfg->name, cfg->title,
			 plugin, opt, plugin);
	else
		snprintf(cur->err, cur->errlen, "%s:%d: %s", cur->file, cfg ? cfg->line : 0, msg);
	cur->have_err = true;
}

static int record_line(cfg_t *cfg, cfg_opt_t *opt)
{
	if (!cur)
		return 0;
	if (cur->nlines == cur->cap) {
		size_t ncap = cur->cap ? cur->cap * 2 : 32;
		struct opt_line *n = realloc(cur->lines, ncap * sizeof(*n));
		if (!n)
			return 0;
		cur->lines = n;
		cur->cap = ncap;
	}
	bool top = !cfg->name || strcmp(cfg->name, "root") == 0;
	struct opt_line *l = &cur->lines[cur->nlines++];
	l->section = top ? NULL : strdup(cfg->name);
	l->title = cfg->title ? strdup(cfg->title) : NULL;
	l->option = strdup(opt->name);
	l->line = cfg->line;
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Line of `option` in section `section "title"`; with option NULL, the
 * first line seen in that section. */
static int line_of(const struct parse_ctx *c, const char *section, const char *title, const char *option)
{
	int best = 0;
	for (size_t i = 0; i < c->nlines; i++) {
		const struct opt_line *l = &c->lines[i];
		if (!str_eq(l->section, section) || !str_eq(l->title, title))
			continue;
		if (option && strcmp(l->option, option) == 0)
			return l->line; /* the last assignment wins in libconfuse, but
					 * the first one is where to look */
		if (!option && (!best || l->line < best))
			best = l->line;
	}
	return best;
}

/* The line where `section "title"` opens, found in the text itself:
 * libconfuse only knows where a section ends. */
static int section_line(const struct parse_ctx *c, const char *section, const char *title)
{
	const char *t = c->text;
	char *owned = NULL;
	int line = 1, found = 0;
	size_t slen = strlen(section), tlen = strlen(title);

	if (!t) {
		FILE *f = fopen(c->file, "r");
		size_t cap = 0;
		if (!f)
			return 0;
		if (getdelim(&owned, &cap, '\0', f) < 0) {
			fclose(f);
			free(owned);
			return 0;
		}
		fclose(f);
		t = owned;
	}
	for (const char *p = t; *p && !found; line++) {
		const char *q = p + strspn(p, " \t");
		if (strncmp(q, section, slen) == 0 && (q[slen] == ' ' || q[slen] == '\t')) {
			q += slen + strspn(q + slen, " \t");
			if (*q == '"')
				q++;
			if (strncmp(q, title, tlen) == 0 && strchr("\" \t{", q[tlen]))
				found = line;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	free(owned);
	return found;
}

static void free_lines(struct parse_ctx *c)
{
	for (size_t i = 0; i < c->nlines; i++) {
		free(c->lines[i].section);
		free(c->lines[i].title);
		free(c->lines[i].option);
	}
	free(c->lines);
	c->lines = NULL;
	c->nlines = c->cap = 0;
}

static int fail(struct parse_ctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct parse_ctx *c, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	if (c->have_err)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(c->err, c->errlen, "%s:%d: %s", c->file, line, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", c->file, msg);
	c->have_err = true;
	return -EINVAL;
}

/* ------------------------------------------------------------- schemas */

/* A growable option array ending in CFG_END(). */
struct optlist {
	cfg_opt_t *o;
	size_t n, cap;
};

static int optlist_add(struct optlist *l, cfg_opt_t opt)
{
	for (size_t i = 0; i < l->n; i++)
		if (opt.name && strcmp(l->o[i].name, opt.name) == 0)
			return 0;
	if (l->n + 1 >= l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		cfg_opt_t *n = realloc(l->o, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		l->o = n;
		l->cap = ncap;
	}
	l->o[l->n++] = opt;
	cfg_opt_t end[] = { CFG_END() };
	l->o[l->n] = end[0];
	return 0;
}

static int optlist_add_str(struct optlist *l, const char *name)
{
	cfg_opt_t t[] = { CFG_STR("x", NULL, CFGF_NONE) };
	t[0].name = (char *)name;
	t[0].validcb = record_line;
	return optlist_add(l, t[0]);
}

static int optlist_add_props(struct optlist *l, const struct vmm_prop_desc *props)
{
	for (const struct vmm_prop_desc *p = props; p && p->name; p++)
		if (optlist_add_str(l, p->name))
			return -ENOMEM;
	return 0;
}

static cfg_opt_t *optlist_done(struct optlist *l)
{
	if (!l->o)
		optlist_add_str(l, "plugin"); /* never empty */
	return l->o;
}

/* ------------------------------------------------------------ pass 1 */

struct named {
	char *section, *title, *plugin;
};

struct pass1 {
	char *hv; /* hypervisor title */
	int hv_line;
	struct named *items;
	size_t n;
};

static const char *pass1_plugin_of(const void *pass1, const char *section, const char *title)
{
	const struct pass1 *p = pass1;
	if (strcmp(section, "hypervisor") == 0)
		return p->hv;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].section, section) == 0 && strcmp(p->items[i].title, title) == 0)
			return p->items[i].plugin;
	return NULL;
}

static void pass1_free(struct pass1 *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].title);
		free(p->items[i].plugin);
	}
	free(p->items);
	free(p->hv);
	memset(p, 0, sizeof(*p));
}

static cfg_t *parse(const char *file, const char *text, cfg_opt_t *opts, int flags, struct parse_ctx *c)
{
	cfg_t *cfg = cfg_init(opts, flags);
	if (!cfg) {
		fail(c, 0, "cannot initialise the config parser");
		return NULL;
	}
	cfg_set_error_function(cfg, confuse_error);
	cur = c;
	int rc = text ? cfg_parse_buf(cfg, text) : cfg_parse(cfg, file);
	cur = NULL;
	if (rc == CFG_FILE_ERROR) {
		fail(c, 0, "cannot read: %s", strerror(errno ? errno : ENOENT));
	} else if (rc != CFG_SUCCESS) {
		fail(c, 0, "syntax error");
	}
	if (rc != CFG_SUCCESS) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

static int run_pass1(const char *file, const char *text, struct pass1 *p, struct parse_ctx *c)
{
	cfg_opt_t any[] = { CFG_STR("plugin", NULL, CFGF_NONE), CFG_STR("__unknown", NULL, CFGF_NONE),
			    CFG_END() };
	any[0].validcb = record_line;
	any[1].validcb = record_line;
	cfg_opt_t opts[] = {
		CFG_STR("__unknown", NULL, CFGF_NONE),
		CFG_SEC("hypervisor", any, CFGF_MULTI | CFGF_TITLE),
		CFG_SEC("boot", any, CFGF_NONE),
		CFG_SEC("backend", any, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_SEC("device", any, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	cfg_t *cfg = parse(file, text, opts, CFGF_IGNORE_UNKNOWN, c);
	if (!cfg)
		return -EINVAL;

	/* A titled section must be MULTI in libconfuse; allow one. */
	if (cfg_size(cfg, "hypervisor") > 1) {
		cfg_t *second = cfg_getnsec(cfg, "hypervisor", 1);
		fail(c, second->line, "only one hypervisor section is allowed");
		cfg_free(cfg);
		return -EINVAL;
	}
	cfg_t *hv = cfg_size(cfg, "hypervisor") ? cfg_getnsec(cfg, "hypervisor", 0) : NULL;
	p->hv = strdup(hv && cfg_title(hv) ? cfg_title(hv) : "kvm");
	p->hv_line = hv ? hv->line : 0;
	static const char *const multi[] = { "backend", "device" };
	size_t total = cfg_size(cfg, "backend") + cfg_size(cfg, "device");
	p->items = calloc(total + 1, sizeof(*p->items));
	if (!p->hv || !p->items) {
		cfg_free(cfg);
		return -ENOMEM;
	}
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned i = 0; i < cfg_size(cfg, multi[k]); i++) {
			cfg_t *s = cfg_getnsec(cfg, multi[k], i);
			const char *plugin = cfg_getstr(s, "plugin");
			if (!plugin) {
				int line = section_line(c, multi[k], cfg_title(s));
				fail(c, line ? line : s->line, "%s '%s' names no plugin (add plugin = \"NAME\")",
				     multi[k], cfg_title(s));
				cfg_free(cfg);
				return -EINVAL;
			}
			struct named *nm = &p->items[p->n++];
			nm->section = (char *)multi[k];
			nm->title = strdup(cfg_title(s));
			nm->plugin = strdup(plugin);
		}
	}
	cfg_free(cfg);
	return 0;
}

/* ------------------------------------------------------------ pass 2 */

static int require_plugin(struct parse_ctx *c, struct vmm_plugin_set *ps, const char *path, const char *section,
			  const char *title, const char *plugin, uint32_t kind, int fallback_line,
			  const struct vmm_loaded_plugin **out)
{
	char err[1024];
	int line = line_of(c, section, title, "plugin");
	if (!line)
		line = section_line(c, section, title);
	if (!line)
		line = fallback_line;
	if (vmm_plugin_set_require(ps, path, plugin, out, err, sizeof(err)))
		return fail(c, line, "%s '%s': %s", section, title, err);
	if ((*out)->desc->kind != kind)
		return fail(c, line, "%s '%s': plugin '%s' is a %s plugin, not a %s", section, title, plugin,
			    vmm_plugin_kind_name((*out)->desc->kind), vmm_plugin_kind_name(kind));
	return 0;
}

/* Copy section `s`'s values into a propset checked against its plugin. */
static int fill_instance(struct parse_ctx *c, cfg_t *s, const char *section, const char *title,
			 const struct optlist *union_opts, struct vmm_cfg_instance *ci)
{
	const struct vmm_prop_desc *schema = ci->lp->desc->props;
	char err[512];

	ci->props = vmm_propset_new(schema);
	if (!ci->props)
		return -ENOMEM;
	ci->line = section_line(c, section, title);
	if (!ci->line)
		ci->line = s->line;
	for (size_t i = 0; i < union_opts->n; i++) {
		const char *name = union_opts->o[i].name;
		const char *value = cfg_size(s, name) ? cfg_getstr(s, name) : NULL;
		if (strcmp(name, "plugin") == 0 || !value)
			continue;
		int line = line_of(c, section, title, name);
		if (!vmm_prop_find(schema, name))
			return fail(c, line, "%s '%s': plugin '%s' has no property '%s' "
				    "(see: vmmctl plugins describe %s)", section, title, ci->plugin, name,
				    ci->plugin);
		if (vmm_propset_set(ci->props, name, value, err, sizeof(err)))
			return fail(c, line, "%s '%s': %s", section, title, err);
	}
	if (vmm_propset_check(ci->props, err, sizeof(err)))
		return fail(c, ci->line, "%s '%s': %s", section, title, err);
	return 0;
}

static char *resolve_path(const char *config_file, const char *p)
{
	if (!p)
		return NULL;
	if (p[0] == '/' || !config_file)
		return strdup(p);
	char *copy = strdup(config_file);
	if (!copy)
		return NULL;
	char *dir = dirname(copy);
	char *out = NULL;
	if (asprintf(&out, "%s/%s", dir, p) < 0)
		out = NULL;
	free(copy);
	return out;
}

static int run_pass2(const char *file, const char *text, const struct pass1 *p1, struct vmm_plugin_set *ps,
		     const char *path, struct vmm_machine_config *mc, struct parse_ctx *c)
{
	struct optlist hv_opts = { 0 }, be_opts = { 0 }, dev_opts = { 0 }, boot_opts = { 0 };
	cfg_t *cfg = NULL;
	int rc = -EINVAL;

	/* Load every plugin named, in file order; errors name the line. */
	mc->hypervisor.name = strdup(p1->hv);
	mc->hypervisor.plugin = strdup(p1->hv);
	if (require_plugin(c, ps, path, "hypervisor", p1->hv, p1->hv, VMM_PLUGIN_HYPERVISOR,
			   p1->hv_line, &mc->hypervisor.lp)) {
		goto out;
	}
	optlist_add_props(&hv_opts, mc->hypervisor.lp->desc->props);
	optlist_add_str(&dev_opts, "plugin");
	optlist_add_str(&be_opts, "plugin");
	for (size_t i = 0; i < p1->n; i++) {
		const struct named *nm = &p1->items[i];
		bool dev = strcmp(nm->section, "device") == 0;
		const struct vmm_loaded_plugin *lp;
		if (require_plugin(c, ps, path, nm->section, nm->title, nm->plugin,
				   dev ? VMM_PLUGIN_DEVICE : VMM_PLUGIN_BACKEND, 0, &lp))
			goto out;
		optlist_add_props(dev ? &dev_opts : &be_opts, lp->desc->props);
	}
	static const char *const boot_names[] = { "kernel", "cmdline", "format", "load-address", "initrd" };
	for (unsigned i = 0; i < sizeof(boot_names) / sizeof(boot_names[0]); i++)
		optlist_add_str(&boot_opts, boot_names[i]);

	cfg_opt_t opts[] = {
		CFG_STR("memory", "64M", CFGF_NONE),
		CFG_INT("vcpus", 1, CFGF_NONE),
		CFG_STR("on-reset", "exit", CFGF_NONE),
		CFG_SEC("hypervisor", optlist_done(&hv_opts), CFGF_MULTI | CFGF_TITLE),
		CFG_SEC("boot", optlist_done(&boot_opts), CFGF_NONE),
		CFG_SEC("backend", optlist_done(&be_opts), CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_SEC("device", optlist_done(&dev_opts), CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	opts[0].validcb = record_line;
	opts[1].validcb = record_line;
	opts[2].validcb = record_line;
	free_lines(c);
	cfg = parse(file, text, opts, CFGF_NONE, c);
	if (!cfg)
		goto out;

	int64_t mem;
	char err[256];
	const char *memstr = cfg_getstr(cfg, "memory");
	if (vmm_prop_parse_int(memstr, &mem) || mem < (2 << 20) || mem > (1ll << 40)) {
		fail(c, line_of(c, NULL, NULL, "memory"), "memory = \"%s\": expected a size from 2M to 1T",
		     memstr);
		goto out;
	}
	mc->memory = (uint64_t)mem & ~0xfffull;
	long vcpus = cfg_getint(cfg, "vcpus");
	if (vcpus < 1 || vcpus > 256) {
		fail(c, line_of(c, NULL, NULL, "vcpus"), "vcpus = %ld: expected 1 to 256", vcpus);
		goto out;
	}
	mc->vcpus = (unsigned)vcpus;
	const char *on_reset = cfg_getstr(cfg, "on-reset");
	if (strcmp(on_reset, "restart") == 0) {
		mc->restart_on_reset = true;
	} else if (strcmp(on_reset, "exit") != 0) {
		fail(c, line_of(c, NULL, NULL, "on-reset"), "on-reset = \"%s\": expected exit or restart",
		     on_reset);
		goto out;
	}

	cfg_t *hv = cfg_size(cfg, "hypervisor") ? cfg_getnsec(cfg, "hypervisor", 0) : NULL;
	if (hv) {
		if (fill_instance(c, hv, "hypervisor", p1->hv, &hv_opts, &mc->hypervisor))
			goto out;
	} else {
		mc->hypervisor.props = vmm_propset_new(mc->hypervisor.lp->desc->props);
		if (!mc->hypervisor.props || vmm_propset_check(mc->hypervisor.props, err, sizeof(err))) {
			fail(c, 0, "hypervisor '%s': %s", p1->hv, err);
			goto out;
		}
	}

	mc->format = VMM_BOOT_AUTO;
	mc->load_address = 0x8000;
	cfg_t *boot = cfg_size(cfg, "boot") ? cfg_getsec(cfg, "boot") : NULL;
	if (boot) {
		const char *fmt = cfg_getstr(boot, "format");
		const char *la = cfg_getstr(boot, "load-address");
		mc->kernel = resolve_path(file, cfg_getstr(boot, "kernel"));
		mc->cmdline = cfg_getstr(boot, "cmdline") ? strdup(cfg_getstr(boot, "cmdline")) : NULL;
		mc->initrd = resolve_path(file, cfg_getstr(boot, "initrd"));
		if (fmt && strcmp(fmt, "pvh") == 0)
			mc->format = VMM_BOOT_PVH;
		else if (fmt && strcmp(fmt, "flat") == 0)
			mc->format = VMM_BOOT_FLAT;
		else if (fmt && strcmp(fmt, "bzimage") == 0)
			mc->format = VMM_BOOT_BZIMAGE;
		else if (fmt && strcmp(fmt, "auto") != 0) {
			fail(c, line_of(c, "boot", NULL, "format"),
			     "boot format \"%s\" is not one of: auto, pvh, bzimage, flat", fmt);
			goto out;
		}
		int64_t addr;
		if (la && (vmm_prop_parse_int(la, &addr) || addr < 0 || addr > 0xffff)) {
			fail(c, line_of(c, "boot", NULL, "load-address"),
			     "boot load-address \"%s\": expected 0 to 0xffff", la);
			goto out;
		}
		if (la)
			mc->load_address = (uint64_t)addr;
	}

	static const char *const multi[] = { "backend", "device" };
	mc->nbackends = cfg_size(cfg, "backend");
	mc->ndevices = cfg_size(cfg, "device");
	mc->backends = calloc(mc->nbackends + 1, sizeof(*mc->backends));
	mc->devices = calloc(mc->ndevices + 1, sizeof(*mc->devices));
	if (!mc->backends || !mc->devices) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned k = 0; k < 2; k++) {
		bool dev = k == 1;
		for (unsigned i = 0; i < cfg_size(cfg, multi[k]); i++) {
			cfg_t *s = cfg_getnsec(cfg, multi[k], i);
			struct vmm_cfg_instance *ci = dev ? &mc->devices[i] : &mc->backends[i];
			ci->name = strdup(cfg_title(s));
			ci->plugin = strdup(cfg_getstr(s, "plugin"));
			if (!ci->name || !ci->plugin) {
				rc = -ENOMEM;
				goto out;
			}
			ci->lp = vmm_plugin_set_find(ps, ci->plugin);
			if (fill_instance(c, s, multi[k], ci->name, dev ? &dev_opts : &be_opts, ci))
				goto out;
		}
	}
	rc = 0;
out:
	if (cfg)
		cfg_free(cfg);
	free(hv_opts.o);
	free(be_opts.o);
	free(dev_opts.o);
	free(boot_opts.o);
	return rc;
}

int vmm_config_load(const char *file, struct vmm_plugin_set *ps, const char *plugin_path,
		    struct vmm_machine_config **out, char *err, size_t errlen)
{
	struct pass1 p1 = { 0 };
	struct parse_ctx c = { .file = file ? file : DEFAULT_MACHINE_NAME, .err = err, .errlen = errlen,
			       .text = file ? NULL : vmm_default_machine, .plugin_of = pass1_plugin_of,
			       .pass1 = &p1 };
	struct vmm_machine_config *mc = calloc(1, sizeof(*mc));
	const char *text = file ? NULL : vmm_default_machine;
	int rc;

	*out = NULL;
	if (!mc)
		return -ENOMEM;
	mc->file = strdup(c.file);
	rc = run_pass1(file, text, &p1, &c);
	if (rc == 0)
		rc = run_pass2(file, text, &p1, ps, plugin_path, mc, &c);
	if (rc == 0 && !file && !mc->kernel)
		mc->kernel = strdup(DEFAULT_KERNEL);
	pass1_free(&p1);
	free_lines(&c);
	if (rc) {
		if (!c.have_err)
			snprintf(err, errlen, "%s: %s", c.file, strerror(-rc));
		vmm_config_free(mc);
		return rc;
	}
	*out = mc;
	return 0;
}

static void free_instance(struct vmm_cfg_instance *ci)
{
	free(ci->name);
	free(ci->plugin);
	vmm_propset_free(ci->props);
}

void vmm_config_free(struct vmm_machine_config *c)
{
	if (!c)
		return;
	free_instance(&c->hypervisor);
	for (size_t i = 0; c->devices && i < c->ndevices; i++)
		free_instance(&c->devices[i]);
	for (size_t i = 0; c->backends && i < c->nbackends; i++)
		free_instance(&c->backends[i]);
	free(c->devices);
	free(c->backends);
	free(c->kernel);
	free(c->cmdline);
	free(c->initrd);
	free(c->file);
	free(c);
}

int vmm_config_set_kernel(struct vmm_machine_config *c, const char *kernel)
{
	char *k = strdup(kernel);
	if (!k)
		return -ENOMEM;
	free(c->kernel);
	c->kernel = k;
	return 0;
}

int vmm_config_set_initrd(struct vmm_machine_config *c, const char *initrd)
{
	char *i = strdup(initrd);
	if (!i)
		return -ENOMEM;
	free(c->initrd);
	c->initrd = i;
	return 0;
}
