/* core/loader.c - open plugin shared objects and check their descriptors.
 *
 * The loader is the ABI gate: everything a plugin hands us is checked here
 * once (sizes, versions, kind, name) so that the rest of the core can trust
 * the descriptor.  Plugins are opened RTLD_LOCAL so two plugins cannot clash
 * on symbol names, and RTLD_NOW so an unresolved symbol is refused at load
 * time rather than crashing the VM later.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/loader.h"
#include "core/process.h"
#include "core/props.h"
#include "core/seccomp.h"

/* Each plugin is allocated on its own: configs and instances keep pointers
 * to them while the set grows. */
struct vmm_plugin_set {
	struct vmm_loaded_plugin **items;
	size_t count, cap;
};

const char *vmm_plugin_kind_name(uint32_t kind)
{
	switch (kind) {
	case VMM_PLUGIN_HYPERVISOR: return "hypervisor";
	case VMM_PLUGIN_DEVICE: return "device";
	case VMM_PLUGIN_BACKEND: return "backend";
	default: return "unknown";
	}
}

static int refuse(char *err, size_t errlen, int rc, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int refuse(char *err, size_t errlen, int rc, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && errlen)
		snprintf(err, errlen, "plugin %s: %s", path, msg);
	return rc;
}

/* The smallest ops table each kind must provide: every field the core
 * needs without checking `size` again (ABI 1.0). */
static size_t min_ops_size(uint32_t kind)
{
	switch (kind) {
	case VMM_PLUGIN_HYPERVISOR:
		return offsetof(struct vmm_hv_ops, vcpu_kick) + sizeof(void *);
	case VMM_PLUGIN_DEVICE:
		return offsetof(struct vmm_device_ops, create) + sizeof(void *);
	case VMM_PLUGIN_BACKEND:
		return sizeof(struct vmm_backend_ops);
	default:
		return 0;
	}
}

static size_t max_ops_size(uint32_t kind)
{
	switch (kind) {
	case VMM_PLUGIN_HYPERVISOR: return sizeof(struct vmm_hv_ops);
	case VMM_PLUGIN_DEVICE: return sizeof(struct vmm_device_ops);
	default: return SIZE_MAX; /* backends: by their type, below */
	}
}

/* The schema is the contract between a config and the plugin (vmm/plugin.h):
 * each property named once, plainly, not a key the config reader uses
 * itself, with a default its own type and range accept. */
static int check_props(const char *path, const struct vmm_plugin *d, char *err, size_t errlen)
{
	for (const struct vmm_prop_desc *p = d->props; p->name; p++) {
		char shown[128], lo[32], hi[32];
		vmm_escape(p->name, strnlen(p->name, 64), shown, sizeof(shown));
		if (!p->name[0])
			return refuse(err, errlen, -EPROTO, path, "plugin '%s' has a property with an empty name",
				      d->name);
		if (!vmm_name_valid(p->name, strnlen(p->name, VMM_NAME_MAX + 1)))
			return refuse(err, errlen, -EPROTO, path,
				      "property \"%s\" of '%s' is not 1 to %d characters of A-Z a-z 0-9 . _ -",
				      shown, d->name, VMM_NAME_MAX);
		if (strcmp(p->name, "plugin") == 0)
			return refuse(err, errlen, -EPROTO, path,
				      "property 'plugin' of '%s' is reserved (a section's plugin = names the plugin)",
				      d->name);
		for (const struct vmm_prop_desc *q = d->props; q < p; q++)
			if (strcmp(q->name, p->name) == 0)
				return refuse(err, errlen, -EPROTO, path, "property '%s' of '%s' is defined twice",
					      p->name, d->name);
		if (p->type < VMM_PROP_INT || p->type > VMM_PROP_ENUM)
			return refuse(err, errlen, -EPROTO, path, "property '%s' of '%s' has unknown type %d",
				      p->name, d->name, (int)p->type);
		if (p->type == VMM_PROP_ENUM && (!p->choices || !p->choices[0]))
			return refuse(err, errlen, -EPROTO, path, "enum property '%s' of '%s' has no choices",
				      p->name, d->name);
		/* A required property has no default to check. */
		if (p->required)
			continue;
		if (p->type == VMM_PROP_INT && p->min <= p->max && (p->def_int < p->min || p->def_int > p->max)) {
			char def[32];
			vmm_prop_format_int(p->min, lo, sizeof(lo));
			vmm_prop_format_int(p->max, hi, sizeof(hi));
			vmm_prop_format_int(p->def_int, def, sizeof(def));
			return refuse(err, errlen, -EPROTO, path,
				      "property '%s' of '%s': default %s is outside its range %s..%s",
				      p->name, d->name, def, lo, hi);
		}
		if (p->type == VMM_PROP_BOOL && p->def_int != 0 && p->def_int != 1)
			return refuse(err, errlen, -EPROTO, path,
				      "property '%s' of '%s': boolean default %" PRId64 " is not 0 or 1", p->name,
				      d->name, p->def_int);
		if (p->type == VMM_PROP_ENUM && p->def_str) {
			const char *const *c = p->choices;
			while (*c && strcmp(*c, p->def_str) != 0)
				c++;
			if (!*c) {
				vmm_escape(p->def_str, strnlen(p->def_str, 64), shown, sizeof(shown));
				return refuse(err, errlen, -EPROTO, path,
					      "property '%s' of '%s': default \"%s\" is not one of its choices",
					      p->name, d->name, shown);
			}
		}
	}
	return 0;
}

const char *const *vmm_plugin_syscalls(const struct vmm_plugin *d)
{
	if (d->abi_minor < 10 || d->size < offsetof(struct vmm_plugin, syscalls) + sizeof(void *))
		return NULL;
	return d->syscalls;
}

static int check_descriptor(const char *path, const struct vmm_plugin *d, char *err, size_t errlen)
{
	/* Read abi_major/minor/size first: they are at fixed offsets in
	 * every ABI version, so they are safe even for an alien descriptor.
	 * Major 0 was never released: it is a descriptor whose designated
	 * initialisers left the header out, and "rebuild" would not help. */
	if (d->abi_major == 0)
		return refuse(err, errlen, -EPROTO, path,
			      "descriptor has ABI %u.%u and size %u: it does not start with "
			      "VMM_PLUGIN_HEADER (static const struct vmm_plugin NAME = { VMM_PLUGIN_HEADER, "
			      ".kind = ..., ... }, vmm/plugin.h)",
			      d->abi_major, d->abi_minor, d->size);
	if (d->abi_major != VMM_ABI_MAJOR)
		return refuse(err, errlen, -EPROTO, path,
			      "ABI major %u, expected %u (rebuild the plugin against this vmm)",
			      d->abi_major, VMM_ABI_MAJOR);
	if (d->abi_minor > VMM_ABI_MINOR)
		return refuse(err, errlen, -EPROTO, path,
			      "ABI minor %u is newer than this vmm's %u.%u",
			      d->abi_minor, VMM_ABI_MAJOR, VMM_ABI_MINOR);
	if (d->size < offsetof(struct vmm_plugin, ops) + sizeof(void *))
		return refuse(err, errlen, -EPROTO, path,
			      "descriptor size %u is smaller than the ABI %u.0 minimum %zu",
			      d->size, VMM_ABI_MAJOR, offsetof(struct vmm_plugin, ops) + sizeof(void *));
	if (d->kind != VMM_PLUGIN_HYPERVISOR && d->kind != VMM_PLUGIN_DEVICE &&
	    d->kind != VMM_PLUGIN_BACKEND)
		return refuse(err, errlen, -EPROTO, path,
			      "unknown plugin kind %u (expected 1 hypervisor, 2 device or 3 backend)",
			      d->kind);
	if (!d->name || !d->name[0])
		return refuse(err, errlen, -EPROTO, path, "descriptor has no name");
	/* The name is a file name and goes into every message about the
	 * plugin: the plain names of vmm.conf(5) only. */
	if (!vmm_name_valid(d->name, strnlen(d->name, VMM_NAME_MAX + 1))) {
		char shown[128];
		vmm_escape(d->name, strnlen(d->name, 64), shown, sizeof(shown));
		return refuse(err, errlen, -EPROTO, path,
			      "descriptor name \"%s\" is not 1 to %d characters of A-Z a-z 0-9 . _ -", shown,
			      VMM_NAME_MAX);
	}
	/* Tables only grow, and a plugin is never newer than the core: a
	 * descriptor larger than ours is a corrupt size, not a future one. */
	if (d->size > sizeof(struct vmm_plugin))
		return refuse(err, errlen, -EPROTO, path,
			      "descriptor of '%s' claims %u bytes, more than ABI %u.%u's %zu", d->name, d->size,
			      VMM_ABI_MAJOR, VMM_ABI_MINOR, sizeof(struct vmm_plugin));
	/* ABI 1.10: the extra system calls, each one libseccomp knows. */
	const char *const *calls = vmm_plugin_syscalls(d);
	for (size_t i = 0; calls && calls[i]; i++) {
		if (i == VMM_PLUGIN_SYSCALLS_MAX)
			return refuse(err, errlen, -EPROTO, path, "'%s' declares more than %d system calls",
				      d->name, VMM_PLUGIN_SYSCALLS_MAX);
		if (!vmm_syscall_name_known(calls[i])) {
			char shown[128];
			vmm_escape(calls[i], strnlen(calls[i], 64), shown, sizeof(shown));
			return refuse(err, errlen, -EPROTO, path,
				      "'%s' declares system call \"%s\", which is not one on this host", d->name,
				      shown);
		}
	}
	if (!d->ops)
		return refuse(err, errlen, -EPROTO, path, "%s plugin '%s' has no ops table",
			      vmm_plugin_kind_name(d->kind), d->name);

	uint32_t ops_size = *(const uint32_t *)d->ops;
	size_t need = min_ops_size(d->kind), most = max_ops_size(d->kind);
	if (ops_size < need)
		return refuse(err, errlen, -EPROTO, path,
			      "%s ops table of '%s' is %u bytes, expected at least %zu",
			      vmm_plugin_kind_name(d->kind), d->name, ops_size, need);
	if (ops_size > most)
		return refuse(err, errlen, -EPROTO, path,
			      "%s ops table of '%s' claims %u bytes, more than ABI %u.%u's %zu",
			      vmm_plugin_kind_name(d->kind), d->name, ops_size, VMM_ABI_MAJOR, VMM_ABI_MINOR, most);
	if (d->kind == VMM_PLUGIN_BACKEND) {
		const struct vmm_backend_ops *b = d->ops;
		size_t bneed, bmost;
		const char *tname;
		/* The ops a backend of its type cannot do without, and the most
		 * a table of this ABI can hold. */
		switch (b->type) {
		case VMM_BACKEND_CHAR:
			bneed = offsetof(struct vmm_char_backend_ops, write) + sizeof(void *);
			bmost = sizeof(struct vmm_char_backend_ops);
			tname = "char";
			break;
		case VMM_BACKEND_BLOCK:
			bneed = offsetof(struct vmm_block_backend_ops, flush) + sizeof(void *);
			bmost = sizeof(struct vmm_block_backend_ops);
			tname = "block";
			break;
		case VMM_BACKEND_NET:
			bneed = offsetof(struct vmm_net_backend_ops, send) + sizeof(void *);
			bmost = sizeof(struct vmm_net_backend_ops);
			tname = "net";
			break;
		default:
			return refuse(err, errlen, -EPROTO, path,
				      "backend '%s' has unknown type %u", d->name, b->type);
		}
		if (b->size < bneed)
			return refuse(err, errlen, -EPROTO, path,
				      "%s backend ops table of '%s' is %u bytes, expected at least %zu",
				      tname, d->name, b->size, bneed);
		if (b->size > bmost)
			return refuse(err, errlen, -EPROTO, path,
				      "%s backend ops table of '%s' claims %u bytes, more than ABI %u.%u's %zu",
				      tname, d->name, b->size, VMM_ABI_MAJOR, VMM_ABI_MINOR, bmost);
	}
	return d->props ? check_props(path, d, err, errlen) : 0;
}

int vmm_plugin_load_file(const char *path, struct vmm_loaded_plugin *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));

	/* dlopen() of a FIFO would wait for a writer, for good. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return refuse(err, errlen, -ENOEXEC, path, "not a regular file");

	/* The file's constructors and its entry point are its code: a fault
	 * in them names the file (process.h). */
	const struct vmm_who loading = { path, "while loading it" };
	const struct vmm_who *prev = vmm_who_enter(&loading);
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	vmm_who_leave(prev);
	if (!dl) {
		/* dlerror() already names the file; keep its one line. */
		const char *e = dlerror();
		if (err && errlen)
			snprintf(err, errlen, "plugin %s: cannot load: %s", path,
				 e ? e : "unknown dlopen error");
		return -ENOEXEC;
	}
	dlerror();
	vmm_plugin_entry_fn entry = (vmm_plugin_entry_fn)dlsym(dl, VMM_PLUGIN_ENTRY_SYMBOL);
	if (!entry) {
		VMM_IN(&loading, dlclose(dl));
		return refuse(err, errlen, -ENOENT, path,
			      "no %s symbol: not a vmm plugin (a plugin exports it with "
			      "VMM_PLUGIN_DEFINE(its descriptor), vmm/plugin.h)",
			      VMM_PLUGIN_ENTRY_SYMBOL);
	}
	const struct vmm_plugin *d = VMM_AS(&loading, entry());
	if (!d) {
		VMM_IN(&loading, dlclose(dl));
		return refuse(err, errlen, -EPROTO, path, "%s() returned NULL", VMM_PLUGIN_ENTRY_SYMBOL);
	}
	/* A descriptor pointing at garbage faults in here: still the file's doing. */
	int rc = VMM_AS(&loading, check_descriptor(path, d, err, errlen));
	if (rc) {
		VMM_IN(&loading, dlclose(dl));
		return rc;
	}
	out->desc = d;
	out->ops = d->ops;
	out->path = strdup(path);
	out->dl = dl;
	if (!out->path) {
		VMM_IN(&loading, dlclose(dl));
		return refuse(err, errlen, -ENOMEM, path, "out of memory");
	}
	return 0;
}

void vmm_plugin_unload(struct vmm_loaded_plugin *p)
{
	if (!p)
		return;
	/* Its destructors run now: their faults name the file too. */
	const struct vmm_who unloading = { p->path, "while unloading it" };
	if (p->dl)
		VMM_IN(&unloading, dlclose(p->dl));
	free(p->path);
	memset(p, 0, sizeof(*p));
}

struct vmm_plugin_set *vmm_plugin_set_new(void)
{
	return calloc(1, sizeof(struct vmm_plugin_set));
}

void vmm_plugin_set_free(struct vmm_plugin_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++) {
		vmm_plugin_unload(s->items[i]);
		free(s->items[i]);
	}
	free(s->items);
	free(s);
}

const struct vmm_loaded_plugin *vmm_plugin_set_find(const struct vmm_plugin_set *s, const char *name)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->items[i]->desc->name, name) == 0)
			return s->items[i];
	return NULL;
}

size_t vmm_plugin_set_count(const struct vmm_plugin_set *s)
{
	return s->count;
}

const struct vmm_loaded_plugin *vmm_plugin_set_at(const struct vmm_plugin_set *s, size_t i)
{
	return i < s->count ? s->items[i] : NULL;
}

int vmm_plugin_set_add_file(struct vmm_plugin_set *s, const char *file, char *err, size_t errlen)
{
	struct vmm_loaded_plugin p;
	int rc = vmm_plugin_load_file(file, &p, err, errlen);
	if (rc)
		return rc;

	/* The file name is the plugin's name: that lets vmmctl open only the
	 * plugins a machine uses instead of every file on the path. */
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	size_t blen = strlen(base);
	if (blen > 3 && strcmp(base + blen - 3, ".so") == 0 &&
	    (strlen(p.desc->name) != blen - 3 || strncmp(base, p.desc->name, blen - 3) != 0)) {
		rc = refuse(err, errlen, -EPROTO, file, "declares name '%s' but the file must be named %s.so",
			    p.desc->name, p.desc->name);
		vmm_plugin_unload(&p);
		return rc;
	}

	const struct vmm_loaded_plugin *prev = vmm_plugin_set_find(s, p.desc->name);
	if (prev) {
		rc = refuse(err, errlen, -EEXIST, file, "duplicate plugin name '%s' (already loaded from %s)",
			    p.desc->name, prev->path);
		vmm_plugin_unload(&p);
		return rc;
	}
	struct vmm_loaded_plugin *item = malloc(sizeof(*item));
	if (!item)
		goto out_nomem;
	if (s->count == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct vmm_loaded_plugin **n = realloc(s->items, ncap * sizeof(*n));
		if (!n)
			goto out_free_item;
		s->items = n;
		s->cap = ncap;
	}
	*item = p;
	s->items[s->count++] = item;
	return 0;

out_free_item:
	free(item);
out_nomem:
	vmm_plugin_unload(&p);
	return refuse(err, errlen, -ENOMEM, file, "out of memory");
}

/* How long a file may take to load in the probe before it counts as hung. */
#define PROBE_TIMEOUT_MS 10000

/*
 * A scan opens every file on the path, including ones nobody asked for, so
 * each is loaded in a child process first: a file whose constructor or
 * entry point crashes, hangs or calls exit() takes down only the child, and
 * the listing names it and goes on.  The child says "ok" or "refused"
 * (with its one-line reason) on a pipe; no word at all means it died.
 * Returns 0 when the file loads, or -EPROTO with `err` set.
 */
static int probe_file(const char *file, char *err, size_t errlen)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	char msg[1024];
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return 0; /* no probe: load it in-process as before */
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return 0;
	}
	if (pid == 0) {
		struct vmm_loaded_plugin p;
		int null = open("/dev/null", O_WRONLY);

		/* The parent reads the signal from the wait status, and the
		 * plugin's own chatter must not mix with the listing. */
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], SIG_DFL);
		/* A crash here is the answer, not a bug to keep a core of. */
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		vmm_process_probe_child();
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		int rc = vmm_plugin_load_file(file, &p, msg + 8, sizeof(msg) - 8);
		if (rc) {
			memcpy(msg, "refused ", 8);
			ssize_t n = write(pfd[1], msg, strlen(msg));
			(void)n;
		} else if (write(pfd[1], "ok", 2) != 2) {
			_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	size_t got = 0;
	bool hung = false;
	for (;;) {
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		int r = poll(&pf, 1, PROBE_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			hung = true;
			kill(pid, SIGKILL);
			break;
		}
		ssize_t n = r > 0 ? read(pfd[0], msg + got, sizeof(msg) - 1 - got) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == sizeof(msg) - 1)
			break;
	}
	msg[got] = '\0';
	close(pfd[0]);
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (got == 2 && memcmp(msg, "ok", 2) == 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	if (got > 8 && memcmp(msg, "refused ", 8) == 0) {
		snprintf(err, errlen, "%s", msg + 8);
		return -EPROTO;
	}
	if (hung)
		return refuse(err, errlen, -EPROTO, file, "still loading after %d s (a constructor that "
			      "hangs?): not listed", PROBE_TIMEOUT_MS / 1000);
	if (WIFSIGNALED(ws))
		return refuse(err, errlen, -EPROTO, file, "crashed while loading (%s): not listed",
			      vmm_signal_name(WTERMSIG(ws)));
	return refuse(err, errlen, -EPROTO, file, "ended the process while loading (exit status %d, "
		      "a constructor that calls exit()?): not listed", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scan one directory in name order so that which duplicate wins does not
 * depend on readdir() order. */
static int scan_dir(struct vmm_plugin_set *s, const char *dir,
		    void (*report)(void *ctx, const char *line), void *ctx)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* a missing directory on the path is not an error */

	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);

	int loaded = 0;
	for (size_t i = 0; i < n; i++) {
		char file[4096], err[8448];
		snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
		/* NAME.so holds plugin NAME, so an earlier directory on the
		 * path shadows a later one without opening the later file. */
		names[i][strlen(names[i]) - 3] = '\0';
		const struct vmm_loaded_plugin *prev = vmm_plugin_set_find(s, names[i]);
		if (prev) {
			if (strcmp(prev->path, file) != 0 && report) {
				snprintf(err, sizeof(err), "plugin %s: shadowed by %s (earlier on the plugin path)",
					 file, prev->path);
				report(ctx, err);
			}
		} else if (probe_file(file, err, sizeof(err)) == 0 &&
			   vmm_plugin_set_add_file(s, file, err, sizeof(err)) == 0) {
			loaded++;
		} else if (report) {
			report(ctx, err);
		}
		free(names[i]);
	}
	free(names);
	return loaded;
}

int vmm_plugin_set_scan(struct vmm_plugin_set *s, const char *path,
			void (*report)(void *ctx, const char *line), void *ctx)
{
	int loaded = 0;
	char *copy = strdup(path ? path : "");
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
		loaded += scan_dir(s, dir, report, ctx);
	free(copy);
	return loaded;
}

char *vmm_plugin_find_file(const char *path, const char *name)
{
	char *copy = strdup(path ? path : ""), *save = NULL, *found = NULL;
	if (!copy)
		return NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;
		if (asprintf(&found, "%s/%s.so", dir, name) < 0) {
			found = NULL;
			break;
		}
		if (stat(found, &st) != 0) {
			free(found);
			found = NULL;
		}
	}
	free(copy);
	return found;
}

char *vmm_plugin_search_path(char *const *dirs, size_t ndirs)
{
	const char *env = getenv("VMM_PLUGIN_PATH");
	size_t len = strlen(VMM_PLUGINDIR) + 1;
	for (size_t i = 0; i < ndirs; i++)
		len += strlen(dirs[i]) + 1;
	if (env && env[0])
		len += strlen(env) + 1;
	char *p = malloc(len);
	if (!p)
		return NULL;
	p[0] = '\0';
	for (size_t i = 0; i < ndirs; i++) {
		strcat(p, dirs[i]);
		strcat(p, ":");
	}
	if (env && env[0]) {
		strcat(p, env);
		strcat(p, ":");
	}
	strcat(p, VMM_PLUGINDIR);
	return p;
}

int vmm_plugin_set_open(struct vmm_plugin_set *s, const char *path, const char *spec,
			const struct vmm_loaded_plugin **out, char *err, size_t errlen)
{
	if (!strchr(spec, '/'))
		return vmm_plugin_set_require(s, path, spec, out, err, errlen);
	/* A file is what `-P its-directory NAME` would open: a second device
	 * of the same file shares the one loaded. */
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->items[i]->path, spec) == 0) {
			*out = s->items[i];
			return 0;
		}
	/* vmmctl only ever opens DIR/NAME.so for plugin NAME; a file by any
	 * other name could pass here and never load there. */
	const char *base = strrchr(spec, '/') + 1;
	size_t blen = strlen(base);
	if (blen < 4 || strcmp(base + blen - 3, ".so") != 0)
		return refuse(err, errlen, -EINVAL, spec,
			      "not named NAME.so: vmmctl opens plugin NAME only from a file NAME.so");
	int rc = vmm_plugin_set_add_file(s, spec, err, errlen);
	if (rc == 0)
		*out = s->items[s->count - 1];
	return rc;
}

int vmm_plugin_set_require(struct vmm_plugin_set *s, const char *path, const char *name,
			   const struct vmm_loaded_plugin **out, char *err, size_t errlen)
{
	const struct vmm_loaded_plugin *p = vmm_plugin_set_find(s, name);
	if (p) {
		*out = p;
		return 0;
	}
	/* A name is a file name: plain names only (vmm.conf(5), NAMES). */
	if (!vmm_name_valid(name, strnlen(name, VMM_NAME_MAX + 1))) {
		char shown[128];
		vmm_escape(name, strnlen(name, 64), shown, sizeof(shown));
		snprintf(err, errlen, "invalid plugin name \"%s\": a name is 1 to %d characters of A-Z a-z 0-9 . _ -",
			 shown, VMM_NAME_MAX);
		return -EINVAL;
	}
	char *file = vmm_plugin_find_file(path, name);
	if (!file) {
		snprintf(err, errlen, "no plugin named '%s' on the plugin path %s", name,
			 path && path[0] ? path : "(empty)");
		return -ENOENT;
	}
	int rc = vmm_plugin_set_add_file(s, file, err, errlen);
	if (rc == 0)
		*out = vmm_plugin_set_find(s, name);
	free(file);
	return rc;
}
