/* core/machine-config.c - machine configs with libconfuse (see machine-config.h and vmm.conf(5)).
 *
 * The file is read once, into memory (a pipe cannot be read twice), and
 * scanned before libconfuse sees it: the scan bounds what libconfuse would
 * choke on (it recurses once per open section and is quadratic in the
 * number of sections), finds the errors it reports on the wrong line or
 * not at all (strings, comments and sections left open, unknown or nested
 * sections, repeated settings, names that are not plain), and records the
 * line of every section and setting.
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
#include <sys/stat.h>

#include "core/machine-config.h"
#include "core/seccomp.h"
#include "core/privilege.h"

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

/* Limits that keep reading a config linear and its recursion bounded; see
 * vmm.conf(5), LIMITS.  A machine has at most 256 interrupt lines, so 1024
 * sections is far more than any real machine needs. */
#define CONFIG_MAX_BYTES (1u << 20)
#define CONFIG_MAX_SECTIONS 1024
#define CONFIG_MAX_DEPTH 8

/* A section or a setting the scan found; names point into the text. */
struct scan_section {
	const char *name, *title; /* title: raw, without quotes; NULL when untitled */
	size_t nlen, tlen;
	int line;                 /* of the section's name */
	size_t first, n;          /* its settings: sets[first .. first + n) */
};

struct scan_setting {
	long section; /* index in secs, or -1 at the top level */
	const char *name;
	size_t len;
	int line;
};

struct parse_ctx {
	const char *file;
	char *err;
	size_t errlen;
	bool have_err;
	const char *text; /* the whole config, NUL-terminated */
	struct scan_section *secs;
	size_t nsecs;
	struct scan_setting *sets;
	size_t nsets, setcap;
	/* Which plugin a section names (known after pass 1). */
	const char *(*plugin_of)(const void *pass1, const char *section, const char *title);
	const void *pass1;
};

/* libconfuse's callbacks carry no user pointer; parsing is single-threaded. */
static _Thread_local struct parse_ctx *cur;

/* Every message is one printable line, whatever bytes the config holds:
 * a value with a newline or an escape sequence must not forge log lines. */
static void set_line(char *err, size_t errlen, const char *msg)
{
	vmm_escape(msg, strlen(msg), err, errlen);
}

static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512], opt[128], line[1024];
	if (!cur || cur->have_err)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* In a plugin's section an unknown option is a property the plugin
	 * does not have: say so, and where to look. */
	const char *plugin = cfg && cfg->title && cur->plugin_of ? cur->plugin_of(cur->pass1, cfg->name, cfg->title) : NULL;
	if (plugin && sscanf(msg, "no such option '%127[^']'", opt) == 1)
		snprintf(line, sizeof(line), "%s:%d: %s '%s': plugin '%s' has no property '%s' "
			 "(see: vmmctl plugins describe %s)", cur->file, cfg->line, cfg->name, cfg->title,
			 plugin, opt, plugin);
	else
		snprintf(line, sizeof(line), "%s:%d: %s", cur->file, cfg ? cfg->line : 0, msg);
	set_line(cur->err, cur->errlen, line);
	cur->have_err = true;
}

static bool span_eq(const char *s, size_t len, const char *z)
{
	return strlen(z) == len && memcmp(s, z, len) == 0;
}

/* The scanned section `section "title"` (title NULL: untitled).  Titles
 * that reach libconfuse are plain names, so the raw text is the title. */
static const struct scan_section *find_section(const struct parse_ctx *c, const char *section, const char *title)
{
	for (size_t i = 0; i < c->nsecs; i++) {
		const struct scan_section *s = &c->secs[i];
		if (span_eq(s->name, s->nlen, section) &&
		    (title ? s->title && span_eq(s->title, s->tlen, title) : !s->title))
			return s;
	}
	return NULL;
}

/* Line of `option` in section `section "title"` (section NULL: the top
 * level); with option NULL, the line of the section itself.  0 when the
 * text does not have it (a default). */
static int line_of(const struct parse_ctx *c, const char *section, const char *title, const char *option)
{
	if (!section) {
		for (size_t i = 0; i < c->nsets; i++)
			if (c->sets[i].section < 0 && span_eq(c->sets[i].name, c->sets[i].len, option))
				return c->sets[i].line;
		return 0;
	}
	const struct scan_section *s = find_section(c, section, title);
	if (!s)
		return 0;
	if (!option)
		return s->line;
	for (size_t i = s->first; i < s->first + s->n; i++)
		if (span_eq(c->sets[i].name, c->sets[i].len, option))
			return c->sets[i].line;
	return 0;
}

static int section_line(const struct parse_ctx *c, const char *section, const char *title)
{
	return line_of(c, section, title, NULL);
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
	char full[1024];
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", c->file, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", c->file, msg);
	set_line(c->err, c->errlen, full);
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

/* ------------------------------------------------------------ the scan */

/* The scan follows libconfuse's lexer (3.3, as Debian 12 ships it; the
 * fuzzer tests/fuzz/fuzz_config checks that they agree): blanks and
 * newlines, # and // comments to the end of the line, C comments, "..." strings with
 * backslash escapes and ${VAR} references, '...' strings, the symbols
 * { } ( ) = += , and unquoted words of any other characters but '*'.
 * Where it agrees with libconfuse it can bound and check the structure
 * before libconfuse builds it; where it cannot follow (a syntax error)
 * it stops checking structure, keeps bounding depth, and leaves the
 * error to libconfuse. */
enum tok { T_EOF, T_ERR, T_STR, T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_EQ, T_PLUSEQ, T_COMMA };

struct token {
	enum tok type;
	const char *s; /* T_STR: the raw text, without quotes */
	size_t len;
	bool quoted;
	int line;      /* where it starts */
};

struct scanner {
	struct parse_ctx *c;
	const char *p;
	int line;
	/* No '}' at or after this point: ${ without a closing brace is plain
	 * text, and looking for one again would make the scan quadratic. */
	const char *no_brace_from;
	size_t seccap;
};

static bool word_char(char ch)
{
	return ch && !strchr(" \t\n\r#\"'={}()+,*", ch);
}

/* The '}' closing a ${ at p (p points after "${"), or NULL. */
static const char *env_close(struct scanner *s, const char *p)
{
	if (s->no_brace_from && p >= s->no_brace_from)
		return NULL;
	const char *e = strchr(p, '}');
	if (!e)
		s->no_brace_from = p;
	return e;
}

static void count_lines(struct scanner *s, const char *from, const char *to)
{
	for (const char *q = from; q < to; q++)
		if (*q == '\n')
			s->line++;
}

static enum tok lex(struct scanner *s, struct token *t)
{
	const char *p = s->p, *e;

	for (;;) {
		char ch = *p;
		t->line = s->line;
		t->quoted = false;
		if (!ch) {
			s->p = p;
			return t->type = T_EOF;
		}
		if (ch == '\n') {
			s->line++;
			p++;
			continue;
		}
		if (ch == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		if (ch == '/' && p[1] == '/') {
			/* At the start of a token, even "//x" is a comment
			 * (libconfuse 3.3: its rule runs to the end of the line,
			 * so it is always the longest match); "a//b" is a word. */
			p += strcspn(p, "\n");
			continue;
		} else if (ch == '/' && p[1] == '*') {
			e = strstr(p + 2, "*/");
			if (!e) {
				fail(s->c, s->line, "comment not closed: '/*' without '*/'");
				return t->type = T_ERR;
			}
			count_lines(s, p, e);
			p = e + 2;
			continue;
		}
		if (ch == '"' || ch == '\'') {
			const char *b = ++p;
			for (;;) {
				if (!*p) {
					fail(s->c, t->line, "string not closed: %c without a closing %c", ch, ch);
					return t->type = T_ERR;
				}
				if (*p == ch)
					break;
				if (*p == '\\' && p[1]) {
					count_lines(s, p + 1, p + 2);
					p += 2;
				} else if (ch == '"' && *p == '$' && p[1] == '{' && (e = env_close(s, p + 2))) {
					count_lines(s, p, e);
					p = e + 1;
				} else {
					count_lines(s, p, p + 1);
					p++;
				}
			}
			t->s = b;
			t->len = (size_t)(p - b);
			t->quoted = true;
			s->p = p + 1;
			return t->type = T_STR;
		}
		if (ch == '$' && p[1] == '{' && (e = env_close(s, p + 2))) {
			t->s = p;
			t->len = (size_t)(e + 1 - p);
			count_lines(s, p, e);
			s->p = e + 1;
			return t->type = T_STR;
		}
		s->p = p + 1;
		switch (ch) {
		case '{': return t->type = T_LBRACE;
		case '}': return t->type = T_RBRACE;
		case '(': return t->type = T_LPAREN;
		case ')': return t->type = T_RPAREN;
		case '=': return t->type = T_EQ;
		case ',': return t->type = T_COMMA;
		case '+':
			if (p[1] == '=') {
				s->p = p + 2;
				return t->type = T_PLUSEQ;
			}
			break;
		default:
			break;
		}
		if (word_char(ch)) {
			const char *b = p;
			while (word_char(*p))
				p++;
			t->s = b;
			t->len = (size_t)(p - b);
			s->p = p;
			return t->type = T_STR;
		}
		p++; /* '\r', '*', a lone '+': libconfuse skips them too */
	}
}

/* A name from the text, printable, for a message. */
static const char *shown(const char *s, size_t len, char *buf, size_t buflen)
{
	vmm_escape(s, len, buf, buflen);
	return buf;
}

static int setting_cmp(const void *a, const void *b)
{
	const struct scan_setting *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->name, y->name, n);
	if (r)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

/* Settings [first, first + n) of section `section` (-1: the top level)
 * each once.  A sorted copy keeps this O(n log n). */
static int check_repeats(struct parse_ctx *c, size_t first, size_t n, long section)
{
	struct scan_setting *v = malloc((n ? n : 1) * sizeof(*v));
	size_t m = 0, run = 0;
	const struct scan_setting *bad = NULL, *orig = NULL;
	if (!v)
		return -ENOMEM;
	for (size_t i = first; i < first + n; i++)
		if (c->sets[i].section == section)
			v[m++] = c->sets[i];
	qsort(v, m, sizeof(*v), setting_cmp);
	/* By name, then line: each run's first is the original; of all the
	 * repeats, report the one earliest in the file. */
	for (size_t i = 1; i < m; i++) {
		if (v[i].len != v[run].len || memcmp(v[i].name, v[run].name, v[i].len) != 0) {
			run = i;
			continue;
		}
		if (!bad || v[i].line < bad->line) {
			bad = &v[i];
			orig = &v[run];
		}
	}
	int rc = 0;
	if (bad) {
		char name[96], sec[96], title[96];
		const struct scan_section *s = section >= 0 ? &c->secs[section] : NULL;
		shown(bad->name, bad->len, name, sizeof(name));
		if (!s)
			rc = fail(c, bad->line, "'%s' is set twice (first on line %d)", name, orig->line);
		else if (s->title)
			rc = fail(c, bad->line, "%s '%s': '%s' is set twice (first on line %d)",
				  shown(s->name, s->nlen, sec, sizeof(sec)), shown(s->title, s->tlen, title, sizeof(title)),
				  name, orig->line);
		else
			rc = fail(c, bad->line, "%s: '%s' is set twice (first on line %d)",
				  shown(s->name, s->nlen, sec, sizeof(sec)), name, orig->line);
	}
	free(v);
	return rc;
}

static const char *const section_kinds[] = { "hypervisor", "boot", "device", "backend", "jail" };
#define N_SECTION_KINDS 5
/* boot and jail: one, untitled. */
#define SECTION_UNTITLED(kind) ((kind) == 1 || (kind) == 4)

/* Where a section opens: `parent` is the section it would be inside (-1:
 * the top level, -2: something the scan does not follow).  Checks it and
 * records it; its index, or a negative errno. */
static long open_section(struct parse_ctx *c, struct scanner *s, const struct token *name,
			 const struct token *title, long parent, bool nested)
{
	char nm[96], tt[96], pn[96], pt[96];
	shown(name->s, name->len, nm, sizeof(nm));
	if (nested) {
		if (parent < 0)
			return fail(c, name->line, "section '%s' inside a list: sections do not nest", nm);
		const struct scan_section *p = &c->secs[parent];
		if (p->title)
			return fail(c, name->line, "a section inside %s '%s' ('%s'): sections do not nest",
				    shown(p->name, p->nlen, pn, sizeof(pn)), shown(p->title, p->tlen, pt, sizeof(pt)), nm);
		return fail(c, name->line, "a section inside %s ('%s'): sections do not nest",
			    shown(p->name, p->nlen, pn, sizeof(pn)), nm);
	}
	unsigned kind = 0;
	while (kind < N_SECTION_KINDS && !span_eq(name->s, name->len, section_kinds[kind]))
		kind++;
	if (kind == N_SECTION_KINDS)
		return fail(c, name->line, "unknown section '%s' (sections are hypervisor, boot, device, backend and jail)",
			    nm);
	if (SECTION_UNTITLED(kind) && title)
		return fail(c, name->line, "%s takes no name: %s { ... }", nm, nm);
	if (!SECTION_UNTITLED(kind) && !title)
		return fail(c, name->line, "%s section without a name: %s \"NAME\" { ... }", nm, nm);
	if (title && !vmm_name_valid(title->s, title->len))
		return fail(c, name->line, "%s name \"%s\": a name is 1 to %d characters of A-Z a-z 0-9 . _ -",
			    nm, shown(title->s, title->len, tt, sizeof(tt)), VMM_NAME_MAX);
	/* Repeats: a last-one-wins merge would hide what the user wrote.
	 * At most CONFIG_MAX_SECTIONS + 1 sections get here, so the
	 * quadratic search stays small. */
	for (size_t i = 0; i < c->nsecs; i++) {
		const struct scan_section *o = &c->secs[i];
		if (!span_eq(o->name, o->nlen, section_kinds[kind]))
			continue;
		if (kind == 0 || SECTION_UNTITLED(kind))
			return fail(c, name->line, "a second %s section (the first is on line %d)%s", nm, o->line,
				    kind == 0 ? "; a machine has one hypervisor" : "");
		if (o->tlen == title->len && memcmp(o->title, title->s, title->len) == 0)
			return fail(c, name->line, "%s '%s' is defined twice (first on line %d)", nm,
				    shown(title->s, title->len, tt, sizeof(tt)), o->line);
	}
	if (c->nsecs == s->seccap) {
		size_t ncap = s->seccap ? s->seccap * 2 : 16;
		struct scan_section *n = realloc(c->secs, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->secs = n;
		s->seccap = ncap;
	}
	c->secs[c->nsecs] = (struct scan_section){ .name = name->s, .nlen = name->len,
						   .title = title ? title->s : NULL, .tlen = title ? title->len : 0,
						   .line = name->line, .first = c->nsets };
	return (long)c->nsecs++;
}

static int add_setting(struct parse_ctx *c, long section, const struct token *name)
{
	if (c->nsets == c->setcap) {
		size_t ncap = c->setcap ? c->setcap * 2 : 64;
		struct scan_setting *n = realloc(c->sets, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->sets = n;
		c->setcap = ncap;
	}
	c->sets[c->nsets++] = (struct scan_setting){ section, name->s, name->len, name->line };
	return 0;
}

/* Scan the whole text once (see above).  0, or a negative errno with the
 * error set. */
static int scan(struct parse_ctx *c)
{
	struct scanner s = { .c = c, .p = c->text, .line = 1 };
	struct frame {
		enum tok kind;
		int line;
		long section; /* the section this brace opened, or -1 */
	} stack[CONFIG_MAX_DEPTH];
	size_t depth = 0, top_braces = 0;
	enum { P_STMT, P_NAME, P_TITLE, P_VALUE, P_LIST } st = P_STMT;
	bool lost = false; /* not a structure the scan follows: libconfuse will say why */
	struct token t, name = { 0 }, title = { 0 };
	long opened;
	int rc;

	for (;;) {
		if (lex(&s, &t) == T_ERR)
			return -EINVAL;
		if (t.type == T_EOF)
			break;
		opened = -1;
		long in = depth == 0 ? -1 : stack[depth - 1].kind == T_LBRACE ? stack[depth - 1].section : -2;
		if (!lost) {
			switch (st) {
			case P_STMT:
				if (t.type == T_STR) {
					name = t;
					st = P_NAME;
				} else if (t.type == T_RBRACE && in >= 0) {
					struct scan_section *sec = &c->secs[in];
					sec->n = c->nsets - sec->first;
					rc = check_repeats(c, sec->first, sec->n, in);
					if (rc)
						return rc;
				} else if (!(t.type == T_RBRACE && depth == 0)) {
					lost = true;
				}
				break;
			case P_NAME:
				st = P_STMT;
				if (t.type == T_EQ || t.type == T_PLUSEQ) {
					if (in == -2)
						lost = true;
					else if ((rc = add_setting(c, in, &name)))
						return rc;
					st = P_VALUE;
				} else if (t.type == T_STR) {
					title = t;
					st = P_TITLE;
				} else if (t.type == T_LBRACE) {
					opened = open_section(c, &s, &name, NULL, in, depth > 0);
					if (opened < 0)
						return (int)opened;
				} else {
					lost = true;
				}
				break;
			case P_TITLE:
				st = P_STMT;
				if (t.type == T_LBRACE) {
					opened = open_section(c, &s, &name, &title, in, depth > 0);
					if (opened < 0)
						return (int)opened;
				} else {
					lost = true;
				}
				break;
			case P_VALUE:
				st = t.type == T_LBRACE ? P_LIST : P_STMT;
				if (t.type != T_STR && t.type != T_LBRACE)
					lost = true;
				break;
			case P_LIST:
				if (t.type == T_RBRACE)
					st = P_STMT;
				else if (t.type != T_STR && t.type != T_COMMA)
					lost = true;
				break;
			}
		}
		if (t.type == T_LBRACE || t.type == T_LPAREN) {
			if (depth == 0 && t.type == T_LBRACE && ++top_braces > CONFIG_MAX_SECTIONS)
				return fail(c, t.line, "more than %d sections, the limit for a machine config",
					    CONFIG_MAX_SECTIONS);
			if (depth == CONFIG_MAX_DEPTH)
				return fail(c, t.line, "nested more than %d deep", CONFIG_MAX_DEPTH);
			stack[depth++] = (struct frame){ t.type, t.line, opened };
		} else if (t.type == T_RBRACE || t.type == T_RPAREN) {
			if (depth == 0)
				return fail(c, t.line, t.type == T_RBRACE ? "'}' closes no section" : "')' closes nothing");
			depth--;
		}
	}
	if (depth) {
		const struct frame *f = &stack[depth - 1];
		char nm[96], tt[96];
		if (f->section < 0)
			return fail(c, f->line, "'%c' is not closed before the end of the file",
				    f->kind == T_LBRACE ? '{' : '(');
		const struct scan_section *sec = &c->secs[f->section];
		if (sec->title)
			return fail(c, sec->line, "%s '%s' is not closed: no '}' before the end of the file",
				    shown(sec->name, sec->nlen, nm, sizeof(nm)), shown(sec->title, sec->tlen, tt, sizeof(tt)));
		return fail(c, sec->line, "%s is not closed: no '}' before the end of the file",
			    shown(sec->name, sec->nlen, nm, sizeof(nm)));
	}
	return lost ? 0 : check_repeats(c, 0, c->nsets, -1);
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

static cfg_t *parse(cfg_opt_t *opts, int flags, struct parse_ctx *c)
{
	cfg_t *cfg = cfg_init(opts, flags);
	if (!cfg) {
		fail(c, 0, "cannot initialise the config parser");
		return NULL;
	}
	cfg_set_error_function(cfg, confuse_error);
	cur = c;
	int rc = cfg_parse_buf(cfg, c->text);
	cur = NULL;
	if (rc != CFG_SUCCESS)
		fail(c, 0, "syntax error");
	if (rc != CFG_SUCCESS) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

static int run_pass1(struct pass1 *p, struct parse_ctx *c)
{
	cfg_opt_t any[] = { CFG_STR("plugin", NULL, CFGF_NONE), CFG_STR("__unknown", NULL, CFGF_NONE),
			    CFG_END() };
	cfg_opt_t opts[] = {
		CFG_STR("__unknown", NULL, CFGF_NONE),
		CFG_SEC("hypervisor", any, CFGF_MULTI | CFGF_TITLE),
		CFG_SEC("boot", any, CFGF_NONE),
		CFG_SEC("jail", any, CFGF_NONE),
		CFG_SEC("backend", any, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_SEC("device", any, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	cfg_t *cfg = parse(opts, CFGF_IGNORE_UNKNOWN, c);
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
			/* A plugin name becomes a file name and goes into
			 * messages: plain names only, like section names. */
			if (!vmm_name_valid(plugin, strlen(plugin))) {
				char shown[128];
				vmm_escape(plugin, strlen(plugin), shown, sizeof(shown));
				fail(c, line_of(c, multi[k], cfg_title(s), "plugin"),
				     "%s '%s': plugin name \"%s\": a name is 1 to %d characters of "
				     "A-Z a-z 0-9 . _ -", multi[k], cfg_title(s), shown, VMM_NAME_MAX);
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
	/* From the scan, which saw every section libconfuse accepts (the
	 * fuzzer checks that this is never 0). */
	ci->line = section_line(c, section, title);
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

static int run_pass2(const char *file, const struct pass1 *p1, struct vmm_plugin_set *ps,
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
	static const char *const boot_names[] = { "kernel", "cmdline", "format", "load-address", "initrd",
						    "decompress" };
	for (unsigned i = 0; i < sizeof(boot_names) / sizeof(boot_names[0]); i++)
		optlist_add_str(&boot_opts, boot_names[i]);

	cfg_opt_t jail_opts[] = { CFG_STR("dir", NULL, CFGF_NONE), CFG_END() };
	cfg_opt_t opts[] = {
		CFG_STR("memory", "64M", CFGF_NONE),
		CFG_INT("vcpus", 1, CFGF_NONE),
		CFG_STR("on-reset", "exit", CFGF_NONE),
		CFG_STR("seccomp", "on", CFGF_NONE),
		CFG_STR("user", "", CFGF_NONE),
		CFG_STR("group", "", CFGF_NONE),
		CFG_SEC("hypervisor", optlist_done(&hv_opts), CFGF_MULTI | CFGF_TITLE),
		CFG_SEC("boot", optlist_done(&boot_opts), CFGF_NONE),
		CFG_SEC("jail", jail_opts, CFGF_NONE),
		CFG_SEC("backend", optlist_done(&be_opts), CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_SEC("device", optlist_done(&dev_opts), CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
		CFG_END()
	};
	cfg = parse(opts, CFGF_NONE, c);
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
	const char *user = cfg_getstr(cfg, "user"), *group = cfg_getstr(cfg, "group");
	if (*group && !*user) {
		fail(c, line_of(c, NULL, NULL, "group"), "group = \"%s\" without user", group);
		goto out;
	}
	if (*user) {
		char perr[256];
		if (vmm_priv_resolve(user, group, &mc->uid, &mc->gid, perr, sizeof(perr))) {
			fail(c, line_of(c, NULL, NULL, strncmp(perr, "group", 5) == 0 ? "group" : "user"), "%s",
			     perr);
			goto out;
		}
		mc->drop_privileges = true;
	}
	const char *seccomp = cfg_getstr(cfg, "seccomp");
	if (vmm_seccomp_mode_parse(seccomp, &mc->seccomp)) {
		fail(c, line_of(c, NULL, NULL, "seccomp"), "seccomp = \"%s\": expected on, log or off",
		     seccomp);
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
		const char *dc = cfg_getstr(boot, "decompress");
		if (dc && strcmp(dc, "host") == 0)
			mc->decompress = VMM_DECOMPRESS_HOST;
		else if (dc && strcmp(dc, "guest") != 0) {
			fail(c, line_of(c, "boot", NULL, "decompress"),
			     "boot decompress \"%s\" is not one of: host, guest", dc);
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

	/* jail { dir = "DIR" } (jail.h): DIR relative to the file. */
	cfg_t *jail = cfg_size(cfg, "jail") ? cfg_getsec(cfg, "jail") : NULL;
	/* libconfuse gives a section that is not in the file all the same. */
	if (jail && (cfg_getstr(jail, "dir") || section_line(c, "jail", NULL) > 0)) {
		if (!cfg_getstr(jail, "dir")) {
			fail(c, section_line(c, "jail", NULL), "jail section without dir");
			goto out;
		}
		mc->jail_dir = resolve_path(file, cfg_getstr(jail, "dir"));
		mc->jail_line = line_of(c, "jail", NULL, "dir");
		if (!mc->jail_dir) {
			rc = -ENOMEM;
			goto out;
		}
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

int vmm_config_load_text(const char *file, const char *text, size_t len, struct vmm_plugin_set *ps,
			 const char *plugin_path, struct vmm_machine_config **out, char *err, size_t errlen)
{
	struct pass1 p1 = { 0 };
	struct parse_ctx c = { .file = file ? file : DEFAULT_MACHINE_NAME, .err = err, .errlen = errlen,
			       .plugin_of = pass1_plugin_of, .pass1 = &p1 };
	struct vmm_machine_config *mc = NULL;
	char *copy = NULL;
	int rc;

	*out = NULL;
	if (len > CONFIG_MAX_BYTES) {
		rc = fail(&c, 0, "larger than 1 MiB, the limit for a machine config");
		goto out;
	}
	/* libconfuse reads a C string: a NUL would end the config there. */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *q = text; q < nul; q++)
			line += *q == '\n';
		rc = fail(&c, line, "a NUL byte: not a text file");
		goto out;
	}
	mc = calloc(1, sizeof(*mc));
	copy = malloc(len + 1);
	if (!mc || !copy) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	/* A UTF-8 byte-order mark, as some editors write, is not part of
	 * the first name (vmm.conf(5)). */
	c.text = len >= 3 && memcmp(copy, "\xef\xbb\xbf", 3) == 0 ? copy + 3 : copy;
	mc->file = strdup(c.file);
	/* Kept for a snapshot, which restores from the text as it was read
	 * (core/snapshot.h), anchored where the file was. */
	mc->text = malloc(len + 1);
	if (mc->text) {
		memcpy(mc->text, text, len);
		mc->text[len] = '\0';
		mc->text_len = len;
	}
	if (file && mc->text) {
		mc->abs_file = realpath(file, NULL);
		if (!mc->abs_file) /* gone since (a restore's): as it was saved */
			mc->abs_file = strdup(file);
	}
	rc = mc->file && mc->text ? scan(&c) : -ENOMEM;
	if (rc == 0)
		rc = run_pass1(&p1, &c);
	if (rc == 0)
		rc = run_pass2(file, &p1, ps, plugin_path, mc, &c);
	if (rc == 0 && !file && !mc->kernel)
		mc->kernel = strdup(DEFAULT_KERNEL);
out:
	pass1_free(&p1);
	free(c.secs);
	free(c.sets);
	free(copy);
	if (rc) {
		if (!c.have_err)
			snprintf(err, errlen, "%s: %s", c.file, strerror(-rc));
		vmm_config_free(mc);
		return rc;
	}
	*out = mc;
	return 0;
}

/* The whole file, once: a pipe or /dev/stdin has no second read.  At
 * most CONFIG_MAX_BYTES + 1 bytes are read, enough to tell it is too
 * large. */
static int read_config(struct parse_ctx *c, char **text, size_t *len)
{
	struct stat st;
	FILE *f = fopen(c->file, "r");
	if (!f)
		return fail(c, 0, "cannot read: %s", strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return fail(c, 0, "cannot read: %s", strerror(EISDIR));
	}
	char *buf = malloc(CONFIG_MAX_BYTES + 2);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		free(buf);
		return fail(c, 0, "cannot read: %s", strerror(e ? e : EIO));
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int vmm_config_load(const char *file, struct vmm_plugin_set *ps, const char *plugin_path,
		    struct vmm_machine_config **out, char *err, size_t errlen)
{
	struct parse_ctx c = { .file = file, .err = err, .errlen = errlen };
	char *text = NULL;
	size_t len = 0;

	*out = NULL;
	if (!file)
		return vmm_config_load_text(NULL, vmm_default_machine, strlen(vmm_default_machine), ps,
					    plugin_path, out, err, errlen);
	int rc = read_config(&c, &text, &len);
	if (rc) {
		if (!c.have_err)
			snprintf(err, errlen, "%s: %s", file, strerror(-rc));
		return rc;
	}
	rc = vmm_config_load_text(file, text, len, ps, plugin_path, out, err, errlen);
	free(text);
	return rc;
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
	free(c->jail_dir);
	free(c->file);
	free(c->abs_file);
	free(c->text);
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
