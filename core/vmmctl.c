/* vmmctl - run, check and inspect machines (see vmmctl(1)). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <vmm/vmm.h>
#include <vmm/backend.h>
#include "core/machine-config.h"
#include "core/loader.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/boot.h"
#include "core/process.h"
#include "core/seccomp.h"
#include "core/privilege.h"
#include "core/jail.h"
#include "core/api.h"
#include "core/snapshot.h"
#include "core/migrate.h"
#include <limits.h>
#include <unistd.h>

#include <json-c/json.h>

#define EXIT_USAGE VMM_STATUS_ERROR

static void usage(FILE *f)
{
	fputs("Usage: vmmctl [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Commands:\n"
	      "  run [CONFIG]            run a machine (the built-in default machine without CONFIG)\n"
	      "      --kernel FILE       boot FILE (bzImage, PVH ELF; flat binary: --format flat) instead of the config's\n"
	      "      --cmdline TEXT      kernel command line\n"
	      "      --initrd FILE       initial ramdisk for a bzImage or PVH kernel\n"
	      "      --format FORMAT     auto (ELF or bzImage), pvh, bzimage or flat (a real-mode binary)\n"
	      "      --stats             print per-vCPU exit counters and bus counters at the end\n"
	      "      --dump-acpi DIR     write the generated ACPI tables to DIR/<signature>.dat\n"
	      "      --seccomp MODE      on, log or off: the config's seccomp setting, overridden\n"
	      "      --api SOCKET        serve the control API (HTTP/1.1, JSON) on the unix socket SOCKET\n"
	      "      --dump-dtb FILE     write an arm64 machine's device tree (a DTB) to FILE\n"
	      "      --jail DIR          run the machine jailed, DIR its root (the config's jail\n"
	      "                          section, overridden; needs root; vmmctl(1), JAIL)\n"
	      "  restore DIR             build the machine snapshot DIR was taken of, load its RAM,\n"
	      "                          vCPUs, VM and devices, and run it on (docs/api.md)\n"
	      "      --paused            leave it paused (resume through --api)\n"
	      "      --api, --stats, --seccomp   as for run\n"
	      "  receive SOCKET          listen on the unix socket SOCKET (or tcp:ADDRESS:PORT, a\n"
	      "                          numeric address; port 0: any, logged) for one live\n"
	      "                          migration (vmmctl migrate), and run the machine once all\n"
	      "                          of it has arrived and loaded; a broken or refused stream:\n"
	      "                          status 2\n"
	      "      --api, --stats, --seccomp, --jail   as for run\n"
	      "  check [CONFIG]          build the machine as run would (the VM, devices, firmware\n"
	      "                          tables, payload: --kernel, --initrd, --format, --cmdline,\n"
	      "                          --dump-acpi, --dump-dtb), opening no backend; run nothing\n"
	      "  plugins                 list plugins: name, kind, version, ABI, path\n"
	      "  plugins describe NAME   show a plugin's properties with types, defaults and help\n"
	      "  info SOCKET             a running machine's config, plugins, vCPUs and state (JSON)\n"
	      "  stats SOCKET            its per-vCPU exit counters and bus counters (JSON)\n"
	      "  pause SOCKET            stop its vCPUs until resume\n"
	      "  resume SOCKET           run them again\n"
	      "  shutdown SOCKET         press its ACPI power button (where it has one)\n"
	      "  stop SOCKET             end its run: vmmctl run exits with status 12\n"
	      "  snapshot SOCKET DIR     pause it (if running) and save it into the new directory DIR\n"
	      "                          (SOCKET: the --api socket of a vmmctl run; docs/api.md)\n"
	      "  migrate SOCKET DEST     live-migrate it to the vmmctl receive listening on the unix\n"
	      "                          socket DEST (or tcp:ADDRESS:PORT); it then ends with\n"
	      "                          status 12 (as for stop); if\n"
	      "                          the migration fails it runs on here (status 1, why on stderr)\n"
	      "      --max-rounds N      at most N pre-copy rounds (1 to 30, default 30)\n"
	      "\n"
	      "Options:\n"
	      "  -P, --plugin-path DIR   search DIR for plugins first (repeatable)\n"
	      "  -v, --verbose           more log lines (repeat for debug)\n"
	      "  -q, --quiet             errors only\n"
	      "  -h, --help              this help\n"
	      "  -V, --version           version and plugin ABI\n"
	      "\n"
	      "Plugin search path: --plugin-path, then $VMM_PLUGIN_PATH (colon-separated), then\n"
	      VMM_PLUGINDIR ".\n"
	      "Exit status of run: 0 on power off, the guest's debug-exit status (odd, 1..127),\n"
	      "2 on a vmmctl error, 4 when the guest crashed, 6 when it asked for a reset,\n"
	      "8 when plugin code crashed, 10 when a thread made a system call its seccomp\n"
	      "filter does not allow (vmm.conf(5): seccomp), 12 when stopped through the\n"
	      "control API, 128+N on signal N.\n"
	      "Exit status of the client commands: 0 when the machine did it, 1 when it refused\n"
	      "(its message on stderr), 2 when SOCKET could not be reached.\n",
	      f);
}

static void report_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "vmmctl: %s\n", line);
}

static int cmd_plugins_list(struct vmm_plugin_set *ps, const char *path)
{
	vmm_plugin_set_scan(ps, path, report_line, NULL);
	printf("%-16s %-11s %-10s %-5s %s\n", "NAME", "KIND", "VERSION", "ABI", "PATH");
	for (size_t i = 0; i < vmm_plugin_set_count(ps); i++) {
		const struct vmm_loaded_plugin *p = vmm_plugin_set_at(ps, i);
		char abi[16];
		snprintf(abi, sizeof(abi), "%u.%u", p->desc->abi_major, p->desc->abi_minor);
		printf("%-16s %-11s %-10s %-5s %s\n", p->desc->name, vmm_plugin_kind_name(p->desc->kind),
		       p->desc->version ? p->desc->version : "-", abi, p->path);
	}
	return 0;
}

static int cmd_plugins_describe(struct vmm_plugin_set *ps, const char *path, const char *name)
{
	const struct vmm_loaded_plugin *p;
	char err[1024];
	if (vmm_plugin_set_require(ps, path, name, &p, err, sizeof(err))) {
		fprintf(stderr, "vmmctl: %s\n", err);
		return EXIT_USAGE;
	}
	const struct vmm_plugin *d = p->desc;
	printf("%s %s: %s\n", d->name, d->version ? d->version : "", d->summary ? d->summary : "");
	printf("kind: %s, ABI %u.%u, file %s\n", vmm_plugin_kind_name(d->kind), d->abi_major, d->abi_minor,
	       p->path);
	/* ABI 1.10: what it adds to the seccomp allow-lists (vmm.conf(5)). */
	const char *const *calls = vmm_plugin_syscalls(d);
	printf("system calls beyond vmmctl's seccomp allow-lists:%s", calls && *calls ? "" : " none");
	for (size_t i = 0; calls && calls[i]; i++)
		printf(" %s", calls[i]);
	printf("\n");
	if (!d->props || !d->props->name) {
		printf("properties: none\n");
		return 0;
	}
	printf("properties:\n");
	for (const struct vmm_prop_desc *pr = d->props; pr->name; pr++) {
		char def[128], type[256];
		vmm_prop_format_default(pr, def, sizeof(def));
		if (pr->type == VMM_PROP_INT && pr->min <= pr->max) {
			/* The notation of the errors ("out of range 0..0xfff8"). */
			char lo[32], hi[32];
			vmm_prop_format_int(pr->min, lo, sizeof(lo));
			vmm_prop_format_int(pr->max, hi, sizeof(hi));
			snprintf(type, sizeof(type), "int %s..%s", lo, hi);
		}
		else if (pr->type == VMM_PROP_ENUM && pr->choices) {
			size_t o = (size_t)snprintf(type, sizeof(type), "one of");
			for (const char *const *c = pr->choices; *c && o < sizeof(type); c++)
				o += (size_t)snprintf(type + o, sizeof(type) - o, "%s %s", c == pr->choices ? "" : ",", *c);
		} else
			snprintf(type, sizeof(type), "%s", vmm_prop_type_name(pr->type));
		printf("  %-16s %s, %s%s\n", pr->name, type, pr->required ? "required" : "default ",
		       pr->required ? "" : def);
		if (pr->help)
			printf("  %-16s %s\n", "", pr->help);
	}
	return 0;
}

/* A stop signal came while the machine was being built: what was built is
 * torn down by now; vmmctl's status says which signal. */
static int stopped_in_startup(int sig)
{
	vmm_log(VMM_LOG_INFO, NULL, "%s received during start-up, stopping", vmm_signal_name(sig));
	return 128 + sig;
}

/* When main() began: vmmctl's set-up time is measured from here. */
static uint64_t vmmctl_start_ns;

static uint64_t monotonic_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * vmmctl check: the machine is built by the code that builds it for run
 * (vmm_machine_check(): the same construction, backends checked instead of
 * opened), then torn down, so that "ok" means run starts.  Every problem is
 * one line naming the file and line (or the plugin); status 2 when any.
 */
/* --dump-acpi DIR and --dump-dtb FILE: the firmware description the
 * machine built, written before the guest runs. */
struct dumps {
	const char *acpi, *dtb;
};

static int write_dumps(struct vmm_machine *m, const struct dumps *d)
{
	if (d->acpi && vmm_machine_dump_acpi(m, d->acpi))
		return -EIO;
	if (d->dtb && vmm_machine_dump_dtb(m, d->dtb))
		return -EIO;
	return 0;
}

static int check_machine(struct vmm_plugin_set *ps, const char *path, struct vmm_machine_config *mc,
			 const struct dumps *dumps)
{
	struct vmm_machine *m;
	int rc, sig;

	vmm_startup_begin();
	rc = vmm_machine_check(mc, ps, path, &m);
	if (!rc && write_dumps(m, dumps)) {
		vmm_machine_destroy(m);
		rc = -EIO;
	}
	sig = vmm_startup_end();
	if (sig) {
		if (!rc)
			vmm_machine_destroy(m);
		return stopped_in_startup(sig);
	}
	if (rc)
		return VMM_STATUS_ERROR;
	vmm_machine_destroy(m);
	printf("%s: ok: %s, %" PRIu64 " MiB, %u vCPU%s, %zu device%s, %zu backend section%s\n", mc->file,
	       mc->hypervisor.plugin, mc->memory >> 20, mc->vcpus, mc->vcpus == 1 ? "" : "s", mc->ndevices,
	       mc->ndevices == 1 ? "" : "s", mc->nbackends, mc->nbackends == 1 ? "" : "s");
	return 0;
}

/* A net backend (a tap) keeps the host's network namespace: net-tap asks
 * for its interface's flags by name after start-up (jail.h). */
static bool has_net_backend(const struct vmm_machine_config *mc)
{
	for (size_t i = 0; i < mc->nbackends; i++) {
		const struct vmm_loaded_plugin *lp = mc->backends[i].lp;
		const struct vmm_backend_ops *ops = lp ? lp->desc->ops : NULL;
		if (ops && ops->type == VMM_BACKEND_NET)
			return true;
	}
	return false;
}

static int enter_jail(const struct vmm_machine_config *mc, const char *dir)
{
	struct vmm_jail j = {
		.dir = dir, .new_net = !has_net_backend(mc), .guest_ram = mc->memory, .vcpus = mc->vcpus,
	};
	char err[512];

	/* The main thread's count of threads (seccomp.h) reads /proc. */
	if (mc->seccomp != VMM_SECCOMP_OFF)
		vmm_seccomp_hold_tasks();
	int rc = vmm_jail_enter(&j, err, sizeof(err));
	if (rc) {
		vmm_seccomp_release_tasks();
		vmm_log(VMM_LOG_ERROR, NULL, "%s", err);
		return rc;
	}
	vmm_log(VMM_LOG_INFO, NULL,
		"jail: %s is the root; PID, mount, IPC, UTS%s namespaces; open files < %llu, "
		"address space <= %llu MiB, no core file; %u inherited fd(s) closed", dir,
		j.new_net ? ", network" : "", (unsigned long long)j.nofile, (unsigned long long)(j.as >> 20),
		vmm_jail_closed_inherited());
	return 0;
}

/* Which of run, check and restore take each option that not all three
 * take, and the one line that refuses it elsewhere. */
enum { FOR_RUN = 1, FOR_CHECK = 2, FOR_RESTORE = 4 };
static const struct option_scope {
	char o;
	const char *name;
	unsigned taken_by;
} option_scopes[] = {
	/* A restore builds the machine the snapshot was taken of: its
	 * payload options are the snapshot's. */
	{ 'k', "kernel", FOR_RUN | FOR_CHECK },
	{ 'c', "cmdline", FOR_RUN | FOR_CHECK },
	{ 'i', "initrd", FOR_RUN | FOR_CHECK },
	{ 'f', "format", FOR_RUN | FOR_CHECK },
	{ 'a', "dump-acpi", FOR_RUN | FOR_CHECK },
	{ 'd', "dump-dtb", FOR_RUN | FOR_CHECK },
	/* check runs nothing. */
	{ 'A', "api", FOR_RUN | FOR_RESTORE },
	{ 's', "stats", FOR_RUN | FOR_RESTORE },
	{ 'p', "paused", FOR_RESTORE },
};

static bool option_refused(int o, bool check, bool restore)
{
	unsigned cmd = check ? FOR_CHECK : restore ? FOR_RESTORE : FOR_RUN;

	for (size_t i = 0; i < sizeof(option_scopes) / sizeof(option_scopes[0]); i++) {
		const struct option_scope *sc = &option_scopes[i];

		if (sc->o != o || (sc->taken_by & cmd))
			continue;
		if (sc->taken_by == FOR_RESTORE)
			fprintf(stderr, "vmmctl: --%s is for restore\n", sc->name);
		else if (restore)
			fprintf(stderr, "vmmctl: restore takes the machine from the snapshot: --%s is for run\n",
				sc->name);
		else
			fprintf(stderr, "vmmctl: check runs nothing: --%s is for run\n", sc->name);
		return true;
	}
	return false;
}

/* run, and check with the same payload options (check takes no --stats). */
static int cmd_run(struct vmm_plugin_set *ps, const char *path, int argc, char **argv, bool check,
		   bool restore, bool receive)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "stats", no_argument, NULL, 's' },
		{ "dump-acpi", required_argument, NULL, 'a' },
		{ "seccomp", required_argument, NULL, 'S' },
		{ "api", required_argument, NULL, 'A' },
		{ "dump-dtb", required_argument, NULL, 'd' },
		{ "paused", no_argument, NULL, 'p' },
		{ "jail", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kernel = NULL, *cmdline = NULL, *initrd = NULL, *format = NULL;
	struct dumps dumps = { NULL, NULL };
	const char *seccomp = NULL;
	enum vmm_seccomp_mode seccomp_mode = VMM_SECCOMP_ON;
	const char *api_path = NULL, *jail = NULL;
	bool stats = false, paused = false;
	int o;

	optind = 0; /* glibc: 0 re-initialises getopt, with the permute mode of this optstring */
	/* Options may follow CONFIG (vmmctl run my.conf --kernel k): permute. */
	while ((o = getopt_long(argc, argv, "k:c:i:f:sa:S:A:d:J:ph", opts, NULL)) != -1) {
		if (option_refused(o, check, restore))
			return EXIT_USAGE;
		switch (o) {
		case 'p': paused = true; break;
		case 'S': seccomp = optarg; break;
		case 'A': api_path = optarg; break;
		case 'J': jail = optarg; break;
		case 'a': dumps.acpi = optarg; break;
		case 'd': dumps.dtb = optarg; break;
		case 'k': kernel = optarg; break;
		case 'c': cmdline = optarg; break;
		case 'i': initrd = optarg; break;
		case 'f': format = optarg; break;
		case 's': stats = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "vmmctl: %s takes at most one CONFIG, got %d arguments\n", argv[0],
			argc - optind);
		return EXIT_USAGE;
	}
	const char *file = optind < argc ? argv[optind] : NULL;
	if (receive && (!file || paused)) {
		fprintf(stderr, "vmmctl: usage: vmmctl receive SOCKET [--api SOCKET] [--stats] [--seccomp MODE] "
			"[--jail DIR] (SOCKET: where to listen for vmmctl migrate)\n");
		return EXIT_USAGE;
	}
	if (restore && !file) {
		fprintf(stderr, "vmmctl: usage: vmmctl restore DIR [--paused] [--api SOCKET] (DIR: a snapshot)\n");
		return EXIT_USAGE;
	}
	if (seccomp && vmm_seccomp_mode_parse(seccomp, &seccomp_mode)) {
		fprintf(stderr, "vmmctl: --seccomp %s: not one of on, log, off\n", seccomp);
		return EXIT_USAGE;
	}
	enum vmm_boot_format fmt = VMM_BOOT_AUTO;
	if (format && vmm_boot_format_parse(format, &fmt)) {
		fprintf(stderr, "vmmctl: --format %s: not one of auto, pvh, bzimage, flat\n", format);
		return EXIT_USAGE;
	}

	struct vmm_machine_config *mc;
	char err[1024];
	int status, sig;
	/* --jail's refusals before anything is read: a vmmctl without root
	 * hears that it needs root, not what it could not open first. */
	if (jail && vmm_jail_check(jail, "--jail", err, sizeof(err))) {
		fprintf(stderr, "vmmctl: %s\n", err);
		return EXIT_USAGE;
	}
	/*
	 * The stop signals (SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGTERM) end
	 * vmmctl in every phase.  During start-up they interrupt what is in
	 * progress and are checked after each step (process.h); while a
	 * machine runs, its event loop takes them; during teardown they are
	 * blocked, so teardown is never cut short.
	 */
	vmm_startup_begin();
	struct vmm_snapshot *snap = NULL;
	int mig_fd = -1; /* receive: the source's connection, answered once the machine is loaded */
	if (restore) {
		/* The machine from the config text the snapshot holds, read
		 * as if from its file (relative paths anchored there), with
		 * the payload options it ran with. */
		int rc = receive ? vmm_migrate_accept(file, &mig_fd, &snap, err, sizeof(err))
				 : vmm_snapshot_open(file, &snap, err, sizeof(err));
		if (!rc && vmm_config_load_text(snap->config_file, snap->config_text, snap->config_len, ps, path,
						&mc, err, sizeof(err)))
			rc = -EPROTO;
		if (rc) {
			vmm_snapshot_free(snap);
			if (mig_fd >= 0)
				close(mig_fd);
			sig = vmm_startup_end();
			if (sig)
				return stopped_in_startup(sig);
			fprintf(stderr, "vmmctl: %s\n", err);
			return EXIT_USAGE;
		}
		kernel = snap->kernel;
		initrd = snap->initrd;
		cmdline = snap->cmdline;
		mc->format = (enum vmm_boot_format)snap->format;
		mc->no_payload = true;
		mc->incoming = receive;
	} else if (vmm_config_load(file, ps, path, &mc, err, sizeof(err))) {
		sig = vmm_startup_end();
		if (sig)
			return stopped_in_startup(sig);
		fprintf(stderr, "vmmctl: %s\n", err);
		return EXIT_USAGE;
	}
	if ((kernel && vmm_config_set_kernel(mc, kernel)) || (initrd && vmm_config_set_initrd(mc, initrd))) {
		vmm_config_free(mc);
		vmm_snapshot_free(snap);
		vmm_startup_end();
		return EXIT_USAGE;
	}
	if (format)
		mc->format = fmt;
	if (seccomp)
		mc->seccomp = seccomp_mode;
	if (cmdline) {
		free(mc->cmdline);
		mc->cmdline = strdup(cmdline);
	}
	/* The config's jail section's refusals, for check too: "ok" means
	 * run starts (--jail's were made above). */
	const char *jail_dir = jail ? jail : mc->jail_dir;
	if (!jail && jail_dir) {
		char what[64 + 256];

		snprintf(what, sizeof(what), "%.256s:%d: jail dir", mc->file, mc->jail_line);
		if (vmm_jail_check(mc->jail_dir, what, err, sizeof(err))) {
			vmm_config_free(mc);
			sig = vmm_startup_end();
			if (sig)
				return stopped_in_startup(sig);
			fprintf(stderr, "vmmctl: %s\n", err);
			return EXIT_USAGE;
		}
	}
	/* Reading the config was start-up too; check's own begins again. */
	if (check) {
		sig = vmm_startup_end();
		status = sig ? stopped_in_startup(sig) : check_machine(ps, path, mc, &dumps);
		vmm_config_free(mc);
		return status;
	}
	/* The API socket first: a path that cannot be served is refused
	 * before anything is built, and it stays across restarts. */
	struct vmm_api *api = NULL;
	if (api_path && vmm_api_listen(api_path, &api, err, sizeof(err))) {
		vmm_config_free(mc);
		vmm_snapshot_free(snap);
		sig = vmm_startup_end();
		if (sig)
			return stopped_in_startup(sig);
		fprintf(stderr, "vmmctl: %s\n", err);
		return EXIT_USAGE;
	}
	/*
	 * Jailed, or restarted on reset: each machine is built and run by a
	 * child (in a new PID namespace when jailed) and this process only
	 * waits, forwards the stop signals and starts the next boot's child
	 * on a reset (jail.h).  The child confines every thread, the main one
	 * too, and drops every privilege: the next machine is not its to
	 * build.  The API socket is this process's, inherited by each child.
	 */
	unsigned boots = 0;
	bool child = false;
	if (jail_dir || mc->restart_on_reset) {
		for (;;) {
			/* A restart is a power cycle: the machine is built
			 * again from its config, RAM and devices fresh, the
			 * payload reloaded. */
			if (boots++) {
				vmm_log(VMM_LOG_INFO, NULL, "guest reset: restarting the machine (boot %u)", boots);
				/* Restored once; a reset is a cold boot of its config. */
				vmm_snapshot_free(snap);
				snap = NULL;
				mc->no_payload = false;
				mc->incoming = false;
			}
			int jstatus, fwd, jrc = vmm_jail_fork(jail_dir != NULL, &jstatus, &fwd, err, sizeof(err));
			if (jrc == 0)
				break;
			/* A stop signal that reached a child already on its way
			 * out with a reset would have ended the next start-up
			 * of an unsupervised vmmctl: it ends the run here. */
			if (jrc > 0 && jstatus == VMM_STATUS_RESET && fwd) {
				vmm_log(VMM_LOG_INFO, NULL, "%s received as the guest reset, stopping",
					vmm_signal_name(fwd));
				jstatus = 128 + fwd;
			}
			if (jrc < 0) {
				fprintf(stderr, "vmmctl: %s\n", err);
				jstatus = EXIT_USAGE;
			}
			if (jrc < 0 || jstatus != VMM_STATUS_RESET || !mc->restart_on_reset) {
				vmm_snapshot_free(snap);
				vmm_api_close(api);
				vmm_config_free(mc);
				return jstatus;
			}
		}
		child = true;
		mc->restart_on_reset = false; /* this child's machine is its last */
		vmm_startup_begin();
	}
	struct vmm_machine *m;
	bool dropped = false;
	do {
		/* A restart is a power cycle: the machine is built again from
		 * its config, RAM and devices fresh, the payload reloaded. */
		if (!child && boots++) {
			vmm_log(VMM_LOG_INFO, NULL, "guest reset: restarting the machine (boot %u)", boots);
			vmm_startup_begin();
		}
		int rc = vmm_machine_create(mc, ps, path, &m);
		if (!rc && write_dumps(m, &dumps)) {
			vmm_machine_destroy(m);
			rc = -EIO;
		}
		/* The snapshot's state replaces the new machine's, before any
		 * vCPU has run; a reset later is a cold boot of the config. */
		if (!rc && snap) {
			rc = mig_fd >= 0 ? vmm_migrate_receive(m, snap, mig_fd, err, sizeof(err))
					 : vmm_machine_restore(m, snap, err, sizeof(err));
			if (mig_fd >= 0)
				close(mig_fd);
			mig_fd = -1;
			if (rc) {
				vmm_log(VMM_LOG_ERROR, NULL, "%s: %s", receive ? "receive" : "restore", err);
				vmm_machine_destroy(m);
			} else if (paused) {
				vmm_machine_start_paused(m);
			}
			vmm_snapshot_free(snap);
			snap = NULL;
			mc->no_payload = false;
			mc->incoming = false; /* a reset later is a cold boot, its backends taking frames at once */
		}
		/* A signal during start-up outranks the error it may have
		 * caused (an open() it interrupted). */
		sig = vmm_startup_end();
		if (sig) {
			if (!rc)
				vmm_machine_destroy(m);
			vmm_snapshot_free(snap);
			if (!child)
				vmm_api_close(api);
			vmm_config_free(mc);
			return stopped_in_startup(sig);
		}
		if (!rc && api && vmm_api_attach(api, m)) {
			vmm_machine_destroy(m);
			rc = -ENOMEM;
		}
		/* Everything the machine needs from the host's file system is
		 * open: into the jail, before the privilege drop (which takes
		 * the capabilities the jail's mounts need) and before the
		 * first vCPU thread (jail.h). */
		if (!rc && jail_dir) {
			rc = enter_jail(mc, jail_dir);
			if (rc)
				vmm_machine_destroy(m);
		}
		/* Everything that needs root is open: give it up for good,
		 * before the first vCPU thread (privilege.h). */
		if (!rc && mc->drop_privileges && !dropped) {
			char perr[256];
			rc = vmm_priv_drop(mc->uid, mc->gid, perr, sizeof(perr));
			if (rc) {
				vmm_log(VMM_LOG_ERROR, NULL, "%s: %s", mc->file, perr);
				vmm_machine_destroy(m);
			}
			dropped = true;
		} else if (!rc && !mc->drop_privileges && !mc->restart_on_reset && !dropped) {
			char perr[256];
			rc = vmm_priv_drop_caps(perr, sizeof(perr));
			if (rc) {
				vmm_log(VMM_LOG_ERROR, NULL, "%s", perr);
				vmm_machine_destroy(m);
			}
			dropped = true;
		}
		/* The uid change cleared the parent-death signal. */
		if (!rc && child)
			vmm_jail_rearm();
		if (rc) {
			status = VMM_STATUS_ERROR;
			break;
		}
		status = vmm_machine_run(m);
		if (api)
			vmm_api_detach(api);
		if (stats) {
			if (boots == 1 && vmm_machine_started_ns(m))
				fprintf(stderr, "setup: %.2f ms from vmmctl start to the first vCPU entry\n",
					(double)(vmm_machine_started_ns(m) - vmmctl_start_ns) / 1e6);
			vmm_machine_print_stats(m, stderr);
		}
		vmm_machine_destroy(m);
	} while (status == VMM_STATUS_RESET && mc->restart_on_reset);
	vmm_snapshot_free(snap); /* a restore whose machine could not be built */
	/* A child leaves the socket to the parent, for the next boot. */
	if (!child)
		vmm_api_close(api);
	/* The stop signals stay blocked: one that comes from here on finds
	 * vmmctl already on its way out. */
	vmm_config_free(mc);
	return status;
}

/*
 * The client commands: one request to a vmmctl run's --api socket.  The
 * reply's JSON goes to stdout; a refusal's message to stderr with status
 * 1; a socket that cannot be reached is status 2.
 */
static const struct api_command {
	const char *name, *method, *path;
} api_commands[] = {
	{ "info", "GET", "/v1/machine" },
	{ "stats", "GET", "/v1/stats" },
	{ "pause", "PUT", "/v1/machine/pause" },
	{ "resume", "PUT", "/v1/machine/resume" },
	{ "shutdown", "PUT", "/v1/machine/shutdown" },
	{ "stop", "PUT", "/v1/machine/stop" },
};

static int cmd_api(const struct api_command *c, int argc, char **argv)
{
	char err[512], *reply;
	int status;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "vmmctl: usage: vmmctl %s SOCKET (the --api socket of a vmmctl run)\n", c->name);
		return EXIT_USAGE;
	}
	if (vmm_api_request(argv[1], c->method, c->path, NULL, &status, &reply, err, sizeof(err))) {
		fprintf(stderr, "vmmctl: %s\n", err);
		return EXIT_USAGE;
	}
	struct json_object *o = json_tokener_parse(reply);
	if (status != 200) {
		struct json_object *e;
		const char *msg = o && json_object_object_get_ex(o, "error", &e) ? json_object_get_string(e) : reply;
		fprintf(stderr, "vmmctl: %s: %s %s: %d: %s\n", argv[1], c->method, c->path, status, msg);
		status = 1;
	} else {
		fputs(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE)
			: reply, stdout);
		fputc('\n', stdout);
		status = 0;
	}
	json_object_put(o);
	free(reply);
	return status;
}

/* `name` made absolute into abs (PATH_MAX): the server's working
 * directory is not the client's.  -1 after saying why. */
static int absolute(const char *name, char *abs)
{
	char cwd[PATH_MAX] = "";

	if (name[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "vmmctl: cannot read the working directory: %s\n", strerror(errno));
		return -1;
	}
	if (strlen(cwd) + 1 + strlen(name) >= PATH_MAX) {
		fprintf(stderr, "vmmctl: %s: path too long\n", name);
		return -1;
	}
	strcpy(abs, cwd);
	if (cwd[0])
		strcat(abs, "/");
	strcat(abs, name);
	return 0;
}

/* PUT c->path {member: value, opt: optval (when optval > 0)}; the reply
 * as cmd_api prints it. */
static int cmd_put_member(const struct api_command *c, const char *sock, const char *member, const char *value,
			  const char *opt, long optval)
{
	char err[512], *reply;
	int status;
	struct json_object *body = json_object_new_object();

	if (!body)
		return EXIT_USAGE;
	json_object_object_add(body, member, json_object_new_string(value));
	if (opt && optval > 0)
		json_object_object_add(body, opt, json_object_new_int64(optval));
	int rc = vmm_api_request(sock, c->method, c->path, json_object_to_json_string(body), &status, &reply, err,
				 sizeof(err));
	json_object_put(body);
	if (rc) {
		fprintf(stderr, "vmmctl: %s\n", err);
		return EXIT_USAGE;
	}
	struct json_object *o = json_tokener_parse(reply);
	if (status != 200) {
		struct json_object *e;
		const char *msg = o && json_object_object_get_ex(o, "error", &e) ? json_object_get_string(e) : reply;
		fprintf(stderr, "vmmctl: %s: %s %s: %d: %s\n", sock, c->method, c->path, status, msg);
		status = 1;
	} else {
		printf("%s\n", o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								 JSON_C_TO_STRING_NOSLASHESCAPE) : reply);
		status = 0;
	}
	json_object_put(o);
	free(reply);
	return status;
}

/* vmmctl snapshot SOCKET DIR: PUT /v1/snapshot {"path": DIR}. */
static int cmd_snapshot(int argc, char **argv)
{
	static const struct api_command c = { "snapshot", "PUT", "/v1/snapshot" };
	char dir[PATH_MAX];

	if (argc != 3 || argv[1][0] == '-' || !argv[2][0]) {
		fprintf(stderr, "vmmctl: usage: vmmctl snapshot SOCKET DIR (DIR: a new directory)\n");
		return EXIT_USAGE;
	}
	if (absolute(argv[2], dir))
		return EXIT_USAGE;
	return cmd_put_member(&c, argv[1], "path", dir, NULL, 0);
}

/* vmmctl migrate SOCKET DEST: PUT /v1/migration/send {"socket": DEST}. */
static int cmd_migrate(int argc, char **argv)
{
	static const struct api_command c = { "migrate", "PUT", "/v1/migration/send" };
	char dest[PATH_MAX], *end = NULL;
	long rounds = 0;

	if (argc == 5 && strcmp(argv[3], "--max-rounds") == 0) {
		rounds = strtol(argv[4], &end, 10);
		if (!argv[4][0] || *end || rounds < 1 || rounds > VMM_MIG_MAX_ROUNDS) {
			fprintf(stderr, "vmmctl: --max-rounds %s: not a number from 1 to %u\n", argv[4],
				VMM_MIG_MAX_ROUNDS);
			return EXIT_USAGE;
		}
		argc = 3;
	}
	if (argc != 3 || argv[1][0] == '-' || !argv[2][0]) {
		fprintf(stderr, "vmmctl: usage: vmmctl migrate SOCKET DEST [--max-rounds N] (DEST: the socket of a "
			"vmmctl receive, or tcp:ADDRESS:PORT)\n");
		return EXIT_USAGE;
	}
	if (strncmp(argv[2], "tcp:", 4) == 0)
		snprintf(dest, sizeof(dest), "%s", argv[2]);
	else if (absolute(argv[2], dest))
		return EXIT_USAGE;
	return cmd_put_member(&c, argv[1], "socket", dest, "max-rounds", rounds);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin-path", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *dirs[16];
	size_t ndirs = 0;
	int o, status;

	vmmctl_start_ns = monotonic_now_ns();
	vmm_jail_note_inherited_fds();
	vmm_process_init();
	/* No exec'd program gains privileges (setuid, file capabilities);
	 * and seccomp filters need it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "vmmctl: cannot set no_new_privs: %s\n", strerror(errno));
		return EXIT_USAGE;
	}

	while ((o = getopt_long(argc, argv, "+P:vqhV", opts, NULL)) != -1) {
		switch (o) {
		case 'P':
			if (ndirs == 16) {
				fprintf(stderr, "vmmctl: at most 16 --plugin-path options\n");
				return EXIT_USAGE;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'v': vmm_log_threshold++; break;
		case 'q': vmm_log_threshold = VMM_LOG_ERROR; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("vmmctl %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, VMM_ABI_MAJOR, VMM_ABI_MINOR);
			return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	char *path = vmm_plugin_search_path(dirs, ndirs);
	struct vmm_plugin_set *ps = vmm_plugin_set_new();
	if (!path || !ps) {
		fprintf(stderr, "vmmctl: out of memory\n");
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	int cargc = argc - optind;
	char **cargv = argv + optind;

	if (strcmp(cmd, "run") == 0 || strcmp(cmd, "check") == 0) {
		status = cmd_run(ps, path, cargc, cargv, strcmp(cmd, "check") == 0, false, false);
	} else if (strcmp(cmd, "restore") == 0) {
		status = cmd_run(ps, path, cargc, cargv, false, true, false);
	} else if (strcmp(cmd, "receive") == 0) {
		status = cmd_run(ps, path, cargc, cargv, false, true, true);
	} else if (strcmp(cmd, "snapshot") == 0) {
		status = cmd_snapshot(cargc, cargv);
	} else if (strcmp(cmd, "migrate") == 0) {
		status = cmd_migrate(cargc, cargv);
	} else if (strcmp(cmd, "plugins") == 0) {
		if (cargc == 1 || (cargc == 2 && strcmp(cargv[1], "list") == 0))
			status = cmd_plugins_list(ps, path);
		else if (cargc == 3 && strcmp(cargv[1], "describe") == 0)
			status = cmd_plugins_describe(ps, path, cargv[2]);
		else {
			fprintf(stderr, "vmmctl: usage: vmmctl plugins [list | describe NAME]\n");
			status = EXIT_USAGE;
		}
	} else {
		const struct api_command *c = NULL;
		for (size_t i = 0; i < sizeof(api_commands) / sizeof(api_commands[0]); i++)
			if (strcmp(cmd, api_commands[i].name) == 0)
				c = &api_commands[i];
		if (c) {
			status = cmd_api(c, cargc, cargv);
		} else {
			fprintf(stderr, "vmmctl: unknown command '%s' (try vmmctl --help)\n", cmd);
			status = EXIT_USAGE;
		}
	}
	/* Every instance is gone by now; dlclose() also runs any atexit
	 * handler a plugin registered (glibc ties them to their object). */
	vmm_plugin_set_free(ps);
	free(path);
	return status;
}
