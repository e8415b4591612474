/* core/loader.h - finding, opening and checking plugin shared objects.
 * Error convention: 0 or a negative errno; on error `err` holds one line
 * naming the file and what was wrong. */
#ifndef VMM_CORE_LOADER_H
#define VMM_CORE_LOADER_H

#include <stddef.h>
#include <vmm/plugin.h>

struct vmm_loaded_plugin {
	const struct vmm_plugin *desc;
	const void *ops;  /* desc->ops, already checked against the kind's minimum size */
	char *path;       /* malloc'd */
	void *dl;         /* dlopen handle; plugins are never unloaded while in use */
};

/* Open one .so and check its descriptor: entry symbol present, ABI major
 * equal, minor not newer, descriptor and ops tables large enough, known kind,
 * non-empty name.  Never crashes on a bad file. */
int vmm_plugin_load_file(const char *path, struct vmm_loaded_plugin *out, char *err, size_t errlen);
void vmm_plugin_unload(struct vmm_loaded_plugin *p);

/* A set of plugins found on a search path (dirs separated by ':').
 * Later duplicates of a name are refused with a message naming both files. */
struct vmm_plugin_set;
struct vmm_plugin_set *vmm_plugin_set_new(void);
void vmm_plugin_set_free(struct vmm_plugin_set *s);
/* Scan the directories; load failures are reported through `report` (one
 * line each) and skipped.  Returns the number of plugins loaded. */
int vmm_plugin_set_scan(struct vmm_plugin_set *s, const char *path,
			void (*report)(void *ctx, const char *line), void *ctx);
/* Add one file; 0, or a negative errno with `err` set (duplicates included). */
int vmm_plugin_set_add_file(struct vmm_plugin_set *s, const char *file, char *err, size_t errlen);
/* The first `DIR/NAME.so` that exists for DIR on `path` (malloc'd), or NULL. */
char *vmm_plugin_find_file(const char *path, const char *name);
/* Find plugin NAME: already loaded, or NAME.so in the first directory of
 * `path` holding one.  -ENOENT with `err` set when there is none. */
int vmm_plugin_set_require(struct vmm_plugin_set *s, const char *path, const char *name,
			   const struct vmm_loaded_plugin **out, char *err, size_t errlen);
/* The plugin search path (malloc'd): `dirs` (vmmctl's -P), then
 * $VMM_PLUGIN_PATH, then the installed plugin directory.  vmmctl and the
 * harness both use it, so a bare name finds the same file under both. */
char *vmm_plugin_search_path(char *const *dirs, size_t ndirs);
/* `spec` is a bare plugin name (vmm_plugin_set_require() on `path`) or a
 * file path with a '/', which must be DIR/NAME.so holding plugin NAME: what
 * `vmmctl -P DIR` would open.  A file already in the set is shared. */
int vmm_plugin_set_open(struct vmm_plugin_set *s, const char *path, const char *spec,
			const struct vmm_loaded_plugin **out, char *err, size_t errlen);
const struct vmm_loaded_plugin *vmm_plugin_set_find(const struct vmm_plugin_set *s, const char *name);
size_t vmm_plugin_set_count(const struct vmm_plugin_set *s);
const struct vmm_loaded_plugin *vmm_plugin_set_at(const struct vmm_plugin_set *s, size_t i);

const char *vmm_plugin_kind_name(uint32_t kind);
/* A descriptor's extra system calls (ABI 1.10), or NULL: read only when its
 * abi_minor and size cover the field. */
#define VMM_PLUGIN_SYSCALLS_MAX 64
const char *const *vmm_plugin_syscalls(const struct vmm_plugin *d);

#endif
