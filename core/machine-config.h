/* core/machine-config.h - machine configs (libconfuse) validated against plugin schemas.
 *
 * A config is read once, scanned for what libconfuse cannot be trusted
 * with (see machine-config.c), then parsed in two passes: the first learns
 * which plugins the file names, the second parses again with a schema that
 * knows those plugins' properties, so every value is checked with its file
 * and line before any plugin code runs.
 *
 * Error convention: 0 or a negative errno; on error `err` holds one line,
 * "FILE:LINE: what is wrong".
 */
#ifndef VMM_CORE_MACHINE_CONFIG_H
#define VMM_CORE_MACHINE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core/loader.h"
#include "core/props.h"
#include "core/seccomp.h"

struct vmm_cfg_instance {
	char *name;   /* section title */
	char *plugin; /* plugin name */
	int line;     /* where the section starts (0 when unknown) */
	const struct vmm_loaded_plugin *lp;
	struct vmm_propset *props;
};

enum vmm_boot_format { VMM_BOOT_AUTO = 0, VMM_BOOT_PVH, VMM_BOOT_FLAT, VMM_BOOT_BZIMAGE };
/* Who decompresses a bzImage's payload: vmmctl (then PVH boot) or the guest. */
enum vmm_decompress { VMM_DECOMPRESS_GUEST = 0, VMM_DECOMPRESS_HOST };

struct vmm_machine_config {
	char *file;        /* the config file, or "<default machine>" */
	uint64_t memory;   /* bytes */
	unsigned vcpus;
	struct vmm_cfg_instance hypervisor;
	char *kernel;      /* boot payload; NULL when the config has none */
	char *cmdline;
	char *initrd;      /* initial ramdisk; NULL for none */
	enum vmm_boot_format format;
	enum vmm_decompress decompress;
	uint64_t load_address; /* flat binaries */
	bool restart_on_reset; /* on-reset = "restart": a guest reset rebuilds the machine */
	enum vmm_seccomp_mode seccomp; /* seccomp = on|log|off (core/seccomp.h) */
	bool drop_privileges;  /* user = (and group =): become uid/gid after start-up (privilege.h) */
	uid_t uid;
	gid_t gid;
	char *jail_dir;        /* jail { dir = } (jail.h), resolved; NULL for none */
	int jail_line;
	struct vmm_cfg_instance *devices;
	size_t ndevices;
	struct vmm_cfg_instance *backends;
	size_t nbackends;
	/* The text the config was read from (NUL-terminated; the built-in
	 * machine's for none) and the file's absolute path (NULL for the
	 * built-in machine, or where realpath() failed): a snapshot stores
	 * both and restore reads the text again anchored at that path. */
	char *text;
	size_t text_len;
	char *abs_file;
	/* vmmctl restore: build the machine without loading the boot
	 * payload (the snapshot's RAM and registers replace it). */
	bool no_payload;
	/* vmmctl receive: the machine is a live migration's destination;
	 * its net backends open in standby (ABI 1.17, vmm/backend.h) until
	 * vmm_migrate_receive has loaded it. */
	bool incoming;
};

/* The machine used when no file is given (see vmm.conf(5)). */
extern const char vmm_default_machine[];

/* Read `file` (NULL: the built-in default machine), loading the plugins it
 * names from `plugin_path` into `ps`. */
int vmm_config_load(const char *file, struct vmm_plugin_set *ps, const char *plugin_path,
		    struct vmm_machine_config **out, char *err, size_t errlen);
/* The same from `len` bytes of text (any bytes: a NUL is an error):
 * `file` names it in messages and anchors relative paths; NULL means the
 * built-in default machine.  For tests and the fuzzer. */
int vmm_config_load_text(const char *file, const char *text, size_t len, struct vmm_plugin_set *ps,
			 const char *plugin_path, struct vmm_machine_config **out, char *err, size_t errlen);
void vmm_config_free(struct vmm_machine_config *c);

/* Settings a command line may override; NULL/0 keep the config's. */
int vmm_config_set_kernel(struct vmm_machine_config *c, const char *kernel);
int vmm_config_set_initrd(struct vmm_machine_config *c, const char *initrd);

#endif
