/* SPDX-License-Identifier: MIT */
/*
 * core/snapshot.h - a paused machine saved to a directory, and a new
 * machine loaded from one (vmmctl restore, PUT /v1/snapshot; docs/api.md
 * "Snapshot and restore" describes the files).
 *
 * A snapshot directory:
 *   manifest.json  format, vmmctl version, plugin ABI, architecture, the
 *                  config's absolute path, the payload options, memory
 *                  size, vCPU count, the RAM regions, the devices
 *   config         the config's text as vmmctl read it (restore builds
 *                  the machine from it, anchored at the saved path)
 *   memory         guest RAM, the regions one after the other; pages of
 *                  zeros are holes (a sparse file)
 *   state          the records (core/state.h), in a container:
 *                  "VMMS" u32 format (1) u32 count, then count times
 *                  u32 length + one record.  First the core's own
 *                  ("vmmctl"/"machine": clock-ns, memory, vcpus,
 *                  halted: a bit per vCPU in the core's halt wait), then
 *                  each vCPU ("<hypervisor>"/"vcpuN"), the VM
 *                  ("<hypervisor>"/"vm"), each device by instance name.
 * It is written as DIR.tmp and renamed to DIR when complete: a failed
 * snapshot leaves nothing under either name.
 *
 * Error convention: 0 or a negative errno; `err` gets one line.
 */
#ifndef VMM_CORE_SNAPSHOT_H
#define VMM_CORE_SNAPSHOT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct vmm_machine;
struct json_object;

#define VMM_SNAPSHOT_FORMAT 1

/* Save the paused machine `m` (every vCPU parked) into `dir`, which must
 * not exist.  -EBUSY: not paused; -EEXIST: dir exists; -ENOTSUP: a device
 * or the hypervisor cannot save (err names the instance and plugin);
 * other errnos: I/O. */
int vmm_machine_snapshot(struct vmm_machine *m, const char *dir, char *err, size_t errlen);

/* A snapshot read back: what vmmctl needs to build the machine again. */
struct vmm_snapshot {
	char *dir;
	char *config_file;    /* absolute path; NULL: the built-in machine */
	char *config_text;
	size_t config_len;
	char *kernel, *cmdline, *initrd;
	int format;
	uint64_t memory;
	unsigned vcpus;
	uint8_t *state;       /* the state file's bytes */
	size_t state_len;
	/* Guest RAM is in place already (a migration stream, core/migrate.c):
	 * restore loads the records only, no memory file. */
	bool ram_loaded;
};

/* Read dir's manifest, config and state: -ENOENT (no such snapshot),
 * -EBADMSG (damaged), -EPROTO (another format, ABI major or architecture). */
int vmm_snapshot_open(const char *dir, struct vmm_snapshot **out, char *err, size_t errlen);
void vmm_snapshot_free(struct vmm_snapshot *s);

/* Load snapshot `s` into `m`, just built from its config (with
 * no_payload) and not yet run: RAM, the vCPUs, the VM, the virtual clock,
 * each device.  Refuses (-EPROTO) a snapshot whose memory, vCPUs, devices
 * or plugins differ from the machine's, and -EBADMSG a damaged record. */
int vmm_machine_restore(struct vmm_machine *m, const struct vmm_snapshot *s, char *err, size_t errlen);
/* The pieces a snapshot is made of, for a migration (core/migrate.c):
 * whether every device and the hypervisor can save (-ENOTSUP naming the
 * one that cannot); the manifest (a new JSON object; NULL: no memory); the
 * records of the paused machine in the state file's container (*out
 * malloc'd); and a manifest's text (NUL-terminated at text[len]) read into
 * s: `dir` names the snapshot or stream in refusals, `where` the manifest. */
int vmm_machine_can_save(struct vmm_machine *m, char *err, size_t errlen);
struct json_object *vmm_snapshot_manifest(struct vmm_machine *m);
int vmm_machine_save_state(struct vmm_machine *m, uint8_t **out, size_t *len, char *err, size_t errlen);
int vmm_snapshot_parse_manifest(struct vmm_snapshot *s, const char *dir, const char *where, const char *text,
				size_t len, char *err, size_t errlen);

/* vmmctl restore --paused: the vCPUs park before their first instruction. */
void vmm_machine_start_paused(struct vmm_machine *m);

#endif
