/* SPDX-License-Identifier: MIT */
/* core/snapshot.c - snapshot and restore of a machine (see snapshot.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <vmm/vmm.h>

#include "core/machine-internal.h"
#include "core/process.h"
#include "core/snapshot.h"
#include "core/state.h"
#include "core/file.h"
#include "core/log.h"

#define PAGE 4096u
/* The core's own record. */
#define CORE_PLUGIN "vmmctl"
#define CORE_INSTANCE "machine"
#define CORE_STATE_VERSION 1
/* The state file's container. */
static const uint8_t state_magic[4] = { 'V', 'M', 'M', 'S' };
/* A state file larger than this is not one of ours. */
#define STATE_FILE_MAX (256u << 20)

#if defined(__x86_64__)
#define SNAP_ARCH "x86_64"
#elif defined(__aarch64__)
#define SNAP_ARCH "aarch64"
#else
#define SNAP_ARCH "unknown"
#endif

/* dir/name into path (PATH_MAX): -ENAMETOOLONG when it does not fit. */
static int join_path(char *path, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + 1 + b >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(path, dir, a);
	path[a] = '/';
	memcpy(path + a + 1, name, b + 1);
	return 0;
}

static bool is_device(const struct vmm_instance *in)
{
	return !in->is_backend && in->lp && in->lp->desc->kind == VMM_PLUGIN_DEVICE;
}

/* The device ops' save/load, where the plugin's table is new enough to
 * have them (ABI 1.12). */
static const struct vmm_device_ops *device_ops(const struct vmm_instance *in)
{
	return in->lp->ops;
}

static bool device_can_save(const struct vmm_instance *in)
{
	const struct vmm_device_ops *ops = device_ops(in);

	return ops->size >= offsetof(struct vmm_device_ops, load) + sizeof(ops->load) && ops->save &&
	       ops->load;
}

static bool hv_can_save(const struct vmm_machine *m)
{
	const struct vmm_hv_ops *o = m->hv_ops;

	return o->size >= offsetof(struct vmm_hv_ops, vm_state_load) + sizeof(o->vm_state_load) &&
	       o->vcpu_state_save && o->vcpu_state_load && o->vm_state_save && o->vm_state_load;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------- saving */

/* The records, appended to one growing buffer with their container. */
struct records {
	uint8_t *buf;
	size_t len, cap;
	uint32_t count;
};

static int records_add(struct records *r, struct vmm_state_out *o)
{
	size_t len;
	const uint8_t *b = vmm_state_out_bytes(o, &len);

	if (!b)
		return -ENOMEM;
	if (r->len + 4 + len > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + 4 + len)
			cap *= 2;
		uint8_t *p = realloc(r->buf, cap);
		if (!p)
			return -ENOMEM;
		r->buf = p;
		r->cap = cap;
	}
	for (int i = 0; i < 4; i++)
		r->buf[r->len + i] = (uint8_t)((uint32_t)len >> (8 * i));
	memcpy(r->buf + r->len + 4, b, len);
	r->len += 4 + len;
	r->count++;
	return 0;
}

static int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[PATH_MAX];
	int fd, rc;

	if (join_path(path, dir, name))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = vmm_pwrite_all(fd, buf, len, 0);
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;

	for (size_t i = 0; i < PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

/*
 * Whether page `p` of region `r` may hold data, from /proc/self/pagemap
 * (Documentation/admin-guide/mm/pagemap.rst: bit 63 present, bit 62
 * swapped).  An anonymous page neither present nor swapped was never
 * touched: it reads as zeros, and reading it would only fault in the zero
 * page, which for a large, mostly untouched guest costs more than the
 * rest of the snapshot.  A restored machine's RAM is a private mapping of
 * the snapshot file, whose pages not present are in that file: all of them
 * may hold data.  Without pagemap every page may.
 */
#define PAGEMAP_BATCH 512
struct pagemap_cursor {
	uint64_t first; /* the page index of entries[0] */
	unsigned n;
	uint64_t entries[PAGEMAP_BATCH];
};

static bool page_maybe_data(struct vmm_machine *m, const struct vmm_ram *r, uint64_t off,
			    struct pagemap_cursor *c)
{
	uint64_t page = ((uintptr_t)r->hva + off) / PAGE;

	if (m->pagemap_fd < 0 || m->ram_from_file)
		return true;
	if (page < c->first || page >= c->first + c->n) {
		ssize_t got = pread(m->pagemap_fd, c->entries, sizeof(c->entries), (off_t)(page * 8));
		if (got < 8)
			return true;
		c->first = page;
		c->n = (unsigned)(got / 8);
	}
	return (c->entries[page - c->first] >> 62) & 3;
}

/* Guest RAM, skipping pages of zeros: they stay holes of the sparse file.
 * Runs of data pages go in one write. */
static int write_memory(struct vmm_machine *m, const char *dir, uint64_t *data_bytes)
{
	char path[PATH_MAX];
	uint64_t off = 0;
	int fd, rc = 0;

	if (join_path(path, dir, "memory"))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	*data_bytes = 0;
	for (unsigned i = 0; i < m->nram && !rc; i++) {
		const struct vmm_ram *r = &m->ram[i];
		struct pagemap_cursor cur = { .n = 0 };
		uint64_t run = 0, p;

		for (p = 0; p <= r->size && !rc; p += PAGE) {
			bool data = p < r->size && page_maybe_data(m, r, p, &cur) && !page_is_zero(r->hva + p);

			if (data) {
				run += PAGE;
				continue;
			}
			if (run) {
				rc = vmm_pwrite_all(fd, r->hva + p - run, run, (off_t)(off + p - run));
				*data_bytes += run;
				run = 0;
			}
		}
		off += r->size;
	}
	if (!rc && ftruncate(fd, (off_t)off))
		rc = -errno;
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

static void remove_tmp(const char *tmp)
{
	static const char *const files[] = { "manifest.json", "config", "memory", "state" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!join_path(path, tmp, files[i]))
			unlink(path);
	}
	rmdir(tmp);
}

static struct json_object *manifest_new(struct vmm_machine *m, uint64_t clock_ns)
{
	const struct vmm_machine_config *c = m->cfg;
	struct json_object *o = json_object_new_object(), *ram = json_object_new_array(),
			   *devs = json_object_new_array();
	char abi[16];
	uint64_t off = 0;

	if (!o || !ram || !devs) {
		json_object_put(o);
		json_object_put(ram);
		json_object_put(devs);
		return NULL;
	}
	snprintf(abi, sizeof(abi), "%u.%u", VMM_ABI_MAJOR, VMM_ABI_MINOR);
	json_object_object_add(o, "format", json_object_new_int(VMM_SNAPSHOT_FORMAT));
	json_object_object_add(o, "vmmctl", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "abi", json_object_new_string(abi));
	json_object_object_add(o, "arch", json_object_new_string(SNAP_ARCH));
	json_object_object_add(o, "config", c->abs_file ? json_object_new_string(c->abs_file) : NULL);
	json_object_object_add(o, "kernel", c->kernel ? json_object_new_string(c->kernel) : NULL);
	json_object_object_add(o, "cmdline", c->cmdline ? json_object_new_string(c->cmdline) : NULL);
	json_object_object_add(o, "initrd", c->initrd ? json_object_new_string(c->initrd) : NULL);
	json_object_object_add(o, "boot-format", json_object_new_int((int)c->format));
	json_object_object_add(o, "memory", json_object_new_uint64(c->memory));
	json_object_object_add(o, "vcpus", json_object_new_int((int)m->nvcpus));
	json_object_object_add(o, "hypervisor", json_object_new_string(c->hypervisor.plugin));
	json_object_object_add(o, "clock-ns", json_object_new_uint64(clock_ns));
	for (unsigned i = 0; i < m->nram; i++) {
		struct json_object *r = json_object_new_object();
		if (!r)
			continue;
		json_object_object_add(r, "gpa", json_object_new_uint64(m->ram[i].gpa));
		json_object_object_add(r, "size", json_object_new_uint64(m->ram[i].size));
		json_object_object_add(r, "offset", json_object_new_uint64(off));
		json_object_array_add(ram, r);
		off += m->ram[i].size;
	}
	json_object_object_add(o, "ram", ram);
	for (struct vmm_instance *in = m->instances; in; in = in->next) {
		if (!is_device(in))
			continue;
		struct json_object *d = json_object_new_object();
		if (!d)
			continue;
		json_object_object_add(d, "name", json_object_new_string(in->name));
		json_object_object_add(d, "plugin", json_object_new_string(in->lp->desc->name));
		json_object_object_add(d, "version",
				       json_object_new_string(in->lp->desc->version ? in->lp->desc->version : ""));
		json_object_object_add(d, "state-version", json_object_new_int((int)device_ops(in)->state_version));
		json_object_array_add(devs, d);
	}
	json_object_object_add(o, "devices", devs);
	return o;
}

/* Every record, into r: the core's, the vCPUs', the VM's, the devices'. */
static int save_records(struct vmm_machine *m, uint64_t clock_ns, struct records *r, char *err, size_t errlen)
{
	const char *hv = m->cfg->hypervisor.plugin;
	struct vmm_state_out o;
	char name[32];
	int rc;

	rc = vmm_state_out_init(&o, CORE_PLUGIN, CORE_INSTANCE, CORE_STATE_VERSION);
	if (rc)
		return vmm_errf(err, errlen, rc, "out of memory");
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(clock_ns >> (8 * i));
	vmm_state_out_put(&o, "clock-ns", b, 8);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(m->cfg->memory >> (8 * i));
	vmm_state_out_put(&o, "memory", b, 8);
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(m->nvcpus >> (8 * i));
	vmm_state_out_put(&o, "vcpus", b, 4);
	/* Bit n: vCPU n waits in the core's halt wait (emulated irqchip; with
	 * an in-kernel local APIC the hypervisor's MP state says it). */
	uint64_t halted = 0;
	pthread_mutex_lock(&m->halt_lock);
	for (unsigned i = 0; i < m->nvcpus && i < 64; i++)
		if (m->vcpus[i].halted)
			halted |= 1ull << i;
	pthread_mutex_unlock(&m->halt_lock);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(halted >> (8 * i));
	vmm_state_out_put(&o, "halted", b, 8);
	rc = records_add(r, &o);
	vmm_state_out_free(&o);
	if (rc)
		return vmm_errf(err, errlen, rc, "out of memory");

	/* The vCPUs first, then the VM: its clock is read last (hypervisor.h). */
	for (unsigned i = 0; i < m->nvcpus; i++) {
		snprintf(name, sizeof(name), "vcpu%u", i);
		rc = vmm_state_out_init(&o, hv, name, 1);
		if (!rc)
			rc = VMM_AS(&m->hv_inst->who, m->hv_ops->vcpu_state_save(m->vcpus[i].hv, &o));
		if (!rc)
			rc = o.error ? -o.error : records_add(r, &o);
		vmm_state_out_free(&o);
		if (rc)
			return vmm_errf(err, errlen, rc, "vCPU %u: hypervisor %s could not save it: %s", i, hv,
				    strerror(-rc));
	}
	rc = vmm_state_out_init(&o, hv, "vm", 1);
	if (!rc)
		rc = VMM_AS(&m->hv_inst->who, m->hv_ops->vm_state_save(m->vm, &o));
	if (!rc)
		rc = o.error ? -o.error : records_add(r, &o);
	vmm_state_out_free(&o);
	if (rc)
		return vmm_errf(err, errlen, rc, "hypervisor %s could not save the VM: %s", hv, strerror(-rc));

	for (struct vmm_instance *in = m->instances; in; in = in->next) {
		if (!is_device(in))
			continue;
		const struct vmm_device_ops *ops = device_ops(in);
		rc = vmm_state_out_init(&o, in->lp->desc->name, in->name, ops->state_version);
		if (!rc) {
			const struct vmm_who *prev = vmm_instance_lock(in);
			rc = ops->save(in->state, &o);
			vmm_instance_unlock(in, prev);
		}
		if (!rc)
			rc = o.error ? -o.error : records_add(r, &o);
		vmm_state_out_free(&o);
		if (rc)
			return vmm_errf(err, errlen, rc, "device '%s' (plugin %s): save failed: %s", in->name,
				    in->lp->desc->name, strerror(-rc));
	}
	return 0;
}

/* The state container's header: magic, format, record count. */
static void state_header(uint8_t head[12], uint32_t count)
{
	memcpy(head, state_magic, 4);
	for (int i = 0; i < 4; i++) {
		head[4 + i] = (uint8_t)(VMM_SNAPSHOT_FORMAT >> (8 * i));
		head[8 + i] = (uint8_t)(count >> (8 * i));
	}
}

int vmm_machine_can_save(struct vmm_machine *m, char *err, size_t errlen)
{
	if (!hv_can_save(m))
		return vmm_errf(err, errlen, -ENOTSUP, "hypervisor '%s' (plugin %s) cannot save vCPU and VM state",
			    m->hv_inst->name, m->cfg->hypervisor.plugin);
	for (struct vmm_instance *in = m->instances; in; in = in->next)
		if (is_device(in) && !device_can_save(in))
			return vmm_errf(err, errlen, -ENOTSUP, "device '%s' (plugin %s) cannot be saved: its plugin has "
				    "no save op", in->name, in->lp->desc->name);
	return 0;
}

int vmm_machine_save_state(struct vmm_machine *m, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	struct records r = { .len = 12 };
	int rc;

	r.cap = 4096;
	r.buf = malloc(r.cap);
	if (!r.buf)
		return vmm_errf(err, errlen, -ENOMEM, "out of memory");
	rc = save_records(m, now_ns() - m->t0, &r, err, errlen);
	if (rc) {
		free(r.buf);
		return rc;
	}
	state_header(r.buf, r.count);
	*out = r.buf;
	*len = r.len;
	return 0;
}

struct json_object *vmm_snapshot_manifest(struct vmm_machine *m)
{
	return manifest_new(m, now_ns() - m->t0);
}

int vmm_machine_snapshot(struct vmm_machine *m, const char *dir, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct records r = { 0 };
	uint64_t t_start = now_ns(), data_bytes = 0;
	int rc;

	pthread_mutex_lock(&m->halt_lock);
	bool parked = atomic_load(&m->pause_requested) && m->nparked == m->nvcpus;
	pthread_mutex_unlock(&m->halt_lock);
	if (!parked || atomic_load(&m->stopping))
		return vmm_errf(err, errlen, -EBUSY, "the machine is not paused (every vCPU parked)");
	if (!dir || !dir[0] || strlen(dir) + 16 >= sizeof(tmp))
		return vmm_errf(err, errlen, -EINVAL, "snapshot path '%s' is empty or too long", dir ? dir : "");
	/* What cannot be saved is found before anything is written. */
	rc = vmm_machine_can_save(m, err, errlen);
	if (rc)
		return rc;
	struct stat st;
	if (lstat(dir, &st) == 0)
		return vmm_errf(err, errlen, -EEXIST, "%s exists: a snapshot goes to a new directory", dir);
	memcpy(tmp, dir, strlen(dir));
	memcpy(tmp + strlen(dir), ".tmp", 5);
	if (mkdir(tmp, 0700))
		return vmm_errf(err, errlen, -errno, "%s: %s", tmp, strerror(errno));

	/* The clock is read once: the core's record, the manifest and the
	 * devices' deadlines all count from it. */
	uint64_t clock_ns = now_ns() - m->t0;
	rc = save_records(m, clock_ns, &r, err, errlen);
	if (rc)
		goto out_remove;
	uint8_t head[12];
	state_header(head, r.count);
	char path[PATH_MAX];
	if (join_path(path, tmp, "state")) {
		rc = vmm_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", tmp);
		goto out_remove;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	rc = fd < 0 ? -errno : vmm_pwrite_all(fd, head, sizeof(head), 0);
	if (!rc)
		rc = vmm_pwrite_all(fd, r.buf, r.len, sizeof(head));
	if (!rc && fsync(fd))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc) {
		vmm_errf(err, errlen, rc, "%s: %s", path, strerror(-rc));
		goto out_remove;
	}
	rc = write_memory(m, tmp, &data_bytes);
	if (rc) {
		vmm_errf(err, errlen, rc, "%s/memory: %s", tmp, strerror(-rc));
		goto out_remove;
	}
	rc = write_file(tmp, "config", m->cfg->text ? m->cfg->text : "", m->cfg->text_len);
	if (rc) {
		vmm_errf(err, errlen, rc, "%s/config: %s", tmp, strerror(-rc));
		goto out_remove;
	}
	struct json_object *man = manifest_new(m, clock_ns);
	const char *text = man ? json_object_to_json_string_ext(man, JSON_C_TO_STRING_PRETTY) : NULL;
	rc = text ? write_file(tmp, "manifest.json", text, strlen(text)) : -ENOMEM;
	json_object_put(man);
	if (rc) {
		vmm_errf(err, errlen, rc, "%s/manifest.json: %s", tmp, strerror(-rc));
		goto out_remove;
	}
	if (rename(tmp, dir)) {
		rc = -errno;
		vmm_errf(err, errlen, rc, "rename %s to %s: %s", tmp, dir, strerror(-rc));
		goto out_remove;
	}
	free(r.buf);
	vmm_log(VMM_LOG_INFO, NULL, "snapshot %s: %u records, %" PRIu64 " KiB of RAM data, %.1f ms", dir,
		r.count, data_bytes >> 10, (double)(now_ns() - t_start) / 1e6);
	return 0;

out_remove:
	free(r.buf);
	remove_tmp(tmp);
	return rc;
}

/* ------------------------------------------------------------ reading */

static int read_file(const char *dir, const char *name, size_t max, char **out, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, rc = 0;

	if (join_path(path, dir, name))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (uint64_t)st.st_size > max) {
		close(fd);
		return -EBADMSG;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EBADMSG;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static bool json_u64(struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

void vmm_snapshot_free(struct vmm_snapshot *s)
{
	if (!s)
		return;
	free(s->dir);
	free(s->config_file);
	free(s->config_text);
	free(s->kernel);
	free(s->cmdline);
	free(s->initrd);
	free(s->state);
	free(s);
}

/* The manifest's JSON text (len bytes), read from `where` (a file, or a
 * migration stream), into s; `dir` names the snapshot in refusals. */
int vmm_snapshot_parse_manifest(struct vmm_snapshot *s, const char *dir, const char *where, const char *text,
				size_t len, char *err, size_t errlen)
{
	int rc;

	struct json_tokener *tok = json_tokener_new();
	struct json_object *man = tok ? json_tokener_parse_ex(tok, text, (int)len + 1) : NULL;
	bool parsed = tok && json_tokener_get_error(tok) == json_tokener_success &&
		      json_object_is_type(man, json_type_object);
	if (tok)
		json_tokener_free(tok);
	uint64_t format = 0, vcpus = 0, bfmt = 0;
	char *abi = NULL, *arch = NULL;
	if (!parsed || !json_u64(man, "format", &format) || !json_u64(man, "memory", &s->memory) ||
	    !json_u64(man, "vcpus", &vcpus) || !json_u64(man, "boot-format", &bfmt) ||
	    !(abi = json_str(man, "abi")) || !(arch = json_str(man, "arch"))) {
		json_object_put(man);
		free(abi);
		return vmm_errf(err, errlen, -EBADMSG, "%s: damaged (not the JSON object a snapshot "
			    "writes)", where);
	}
	s->vcpus = (unsigned)vcpus;
	s->format = (int)bfmt;
	s->config_file = json_str(man, "config");
	s->kernel = json_str(man, "kernel");
	s->cmdline = json_str(man, "cmdline");
	s->initrd = json_str(man, "initrd");
	json_object_put(man);
	unsigned major = 0;
	rc = 0;
	if (format != VMM_SNAPSHOT_FORMAT)
		rc = vmm_errf(err, errlen, -EPROTO, "%s: snapshot format %" PRIu64 ", this vmmctl reads %d", dir,
			  format, VMM_SNAPSHOT_FORMAT);
	else if (sscanf(abi, "%u.", &major) != 1 || major != VMM_ABI_MAJOR)
		rc = vmm_errf(err, errlen, -EPROTO, "%s: written with plugin ABI %s, this vmmctl has %d.%d", dir, abi,
			  VMM_ABI_MAJOR, VMM_ABI_MINOR);
	else if (strcmp(arch, SNAP_ARCH) != 0)
		rc = vmm_errf(err, errlen, -EPROTO, "%s: a snapshot of an %s machine, this host is %s", dir, arch,
			  SNAP_ARCH);
	free(abi);
	free(arch);
	return rc;
}

int vmm_snapshot_open(const char *dir, struct vmm_snapshot **out, char *err, size_t errlen)
{
	struct vmm_snapshot *s = calloc(1, sizeof(*s));
	char *text = NULL;
	size_t len;
	struct stat st;
	int rc;

	*out = NULL;
	if (!s)
		return vmm_errf(err, errlen, -ENOMEM, "out of memory");
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		rc = vmm_errf(err, errlen, -ENOENT, "%s: no snapshot there (not a directory)", dir);
		goto out_free;
	}
	s->dir = strdup(dir);
	rc = read_file(dir, "manifest.json", 1u << 20, &text, &len);
	if (rc) {
		rc = vmm_errf(err, errlen, rc == -ENOENT ? -ENOENT : -EBADMSG, "%s/manifest.json: %s", dir,
			  rc == -EBADMSG ? "damaged (too large)" : strerror(-rc));
		goto out_free;
	}
	char where[PATH_MAX + 16];
	snprintf(where, sizeof(where), "%s/manifest.json", dir);
	rc = vmm_snapshot_parse_manifest(s, dir, where, text, len, err, errlen);
	free(text);
	if (rc)
		goto out_free;
	rc = read_file(dir, "config", 1u << 20, &s->config_text, &s->config_len);
	if (rc) {
		rc = vmm_errf(err, errlen, rc == -ENOENT ? -ENOENT : -EBADMSG, "%s/config: %s", dir, strerror(-rc));
		goto out_free;
	}
	char *state;
	rc = read_file(dir, "state", STATE_FILE_MAX, &state, &s->state_len);
	if (rc) {
		rc = vmm_errf(err, errlen, rc == -ENOENT ? -ENOENT : -EBADMSG, "%s/state: %s", dir, strerror(-rc));
		goto out_free;
	}
	s->state = (uint8_t *)state;
	*out = s;
	return 0;

out_free:
	vmm_snapshot_free(s);
	return rc;
}

/* ------------------------------------------------------------ loading */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The state file's records, each parsed (and checked) before anything is loaded. */
static int parse_records(const struct vmm_snapshot *s, struct vmm_state_in **out, uint32_t *count,
			 char *err, size_t errlen)
{
	const uint8_t *p = s->state;
	size_t left = s->state_len;

	if (left < 12 || memcmp(p, state_magic, 4) != 0 || le32(p + 4) != VMM_SNAPSHOT_FORMAT)
		return vmm_errf(err, errlen, -EBADMSG, "%s/state: damaged (no state header)", s->dir);
	uint32_t n = le32(p + 8);
	p += 12;
	left -= 12;
	if (n == 0 || n > left / 4)
		return vmm_errf(err, errlen, -EBADMSG, "%s/state: damaged (%u records)", s->dir, n);
	struct vmm_state_in *in = calloc(n, sizeof(*in));
	if (!in)
		return vmm_errf(err, errlen, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = left >= 4 ? le32(p) : 0;
		int rc = left >= 4 && len <= left - 4 ? vmm_state_in_parse(&in[i], p + 4, len) : -EBADMSG;

		if (rc) {
			for (uint32_t j = 0; j < i; j++)
				vmm_state_in_free(&in[j]);
			free(in);
			return vmm_errf(err, errlen, rc == -ENOMEM ? rc : -EBADMSG, "%s/state: record %u of %u is "
				    "damaged", s->dir, i + 1, n);
		}
		p += 4 + len;
		left -= 4 + len;
	}
	if (left) {
		for (uint32_t j = 0; j < n; j++)
			vmm_state_in_free(&in[j]);
		free(in);
		return vmm_errf(err, errlen, -EBADMSG, "%s/state: damaged (%zu bytes after the last record)", s->dir,
			    left);
	}
	*out = in;
	*count = n;
	return 0;
}

static struct vmm_state_in *find_record(struct vmm_state_in *in, uint32_t n, const char *instance)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(in[i].instance, instance) == 0)
			return &in[i];
	return NULL;
}

static uint64_t field_u64(struct vmm_state_in *in, const char *name, bool *ok)
{
	uint8_t b[8];
	uint64_t v = 0;

	if (vmm_state_in_get(in, name, b, 8) != 8) {
		*ok = false;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* The memory file mapped over guest RAM, privately: pages come in on first
 * touch and are copied only when the guest writes them, and the file is
 * never written (as Firecracker's file-backed restore does).  The mapping
 * replaces the anonymous one at the same address, so the hypervisor's
 * memory slots stay as they are; KVM follows the change through its MMU
 * notifier. */
static int map_memory(struct vmm_machine *m, const struct vmm_snapshot *s, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t total = 0, off = 0;
	int fd;

	for (unsigned i = 0; i < m->nram; i++)
		total += m->ram[i].size;
	if (join_path(path, s->dir, "memory"))
		return vmm_errf(err, errlen, -ENAMETOOLONG, "%s: path too long", s->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vmm_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || (uint64_t)st.st_size != total) {
		close(fd);
		return vmm_errf(err, errlen, -EBADMSG, "%s: %" PRIu64 " bytes, the machine has %" PRIu64
			    " bytes of RAM: damaged", path, (uint64_t)st.st_size, total);
	}
	for (unsigned i = 0; i < m->nram; i++) {
		struct vmm_ram *r = &m->ram[i];
		void *p = mmap(r->hva, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd,
			       (off_t)off);
		if (p == MAP_FAILED) {
			int e = errno;
			close(fd);
			return vmm_errf(err, errlen, -e, "%s: cannot map it: %s", path, strerror(e));
		}
		off += r->size;
	}
	close(fd);
	return 0;
}

int vmm_machine_restore(struct vmm_machine *m, const struct vmm_snapshot *s, char *err, size_t errlen)
{
	const char *hv = m->cfg->hypervisor.plugin;
	struct vmm_state_in *recs = NULL, *core, *rec;
	uint32_t n = 0;
	char name[32];
	bool ok = true;
	int rc;

	if (!hv_can_save(m))
		return vmm_errf(err, errlen, -ENOTSUP, "hypervisor plugin %s cannot load vCPU and VM state", hv);
	rc = parse_records(s, &recs, &n, err, errlen);
	if (rc)
		return rc;
	core = find_record(recs, n, CORE_INSTANCE);
	uint64_t clock_ns = 0, memory = 0;
	uint64_t halted = 0;
	if (core && strcmp(core->plugin, CORE_PLUGIN) == 0) {
		clock_ns = field_u64(core, "clock-ns", &ok);
		memory = field_u64(core, "memory", &ok);
		halted = field_u64(core, "halted", &ok);
	}
	if (!core || strcmp(core->plugin, CORE_PLUGIN) != 0 || !ok) {
		rc = vmm_errf(err, errlen, -EBADMSG, "%s/state: damaged (no machine record)", s->dir);
		goto out;
	}
	if (memory != m->cfg->memory || s->vcpus != m->nvcpus) {
		rc = vmm_errf(err, errlen, -EPROTO, "%s: a machine of %" PRIu64 " MiB and %u vCPUs, the config "
			  "builds %" PRIu64 " MiB and %u", s->dir, memory >> 20, s->vcpus, m->cfg->memory >> 20,
			  m->nvcpus);
		goto out;
	}
	/* Every record has its instance and every device its record, with
	 * the same plugin: checked before anything is loaded. */
	for (uint32_t i = 0; i < n; i++) {
		struct vmm_instance *in = NULL;
		const char *inst = recs[i].instance;
		unsigned idx;
		char tail;

		if (&recs[i] == core)
			continue;
		if (strcmp(inst, "vm") == 0 ||
		    (sscanf(inst, "vcpu%u%c", &idx, &tail) == 1 && idx < m->nvcpus)) {
			if (strcmp(recs[i].plugin, hv) != 0) {
				rc = vmm_errf(err, errlen, -EPROTO, "%s: record '%s' was saved by hypervisor %s, the "
					  "machine runs on %s", s->dir, inst, recs[i].plugin, hv);
				goto out;
			}
			continue;
		}
		for (in = m->instances; in; in = in->next)
			if (is_device(in) && strcmp(in->name, inst) == 0)
				break;
		if (!in) {
			rc = vmm_errf(err, errlen, -EPROTO, "%s: record of device '%s' (plugin %s): the machine has "
				  "no such device", s->dir, inst, recs[i].plugin);
			goto out;
		}
		if (strcmp(recs[i].plugin, in->lp->desc->name) != 0) {
			rc = vmm_errf(err, errlen, -EPROTO, "%s: device '%s' was saved by plugin %s, the machine's is %s",
				  s->dir, inst, recs[i].plugin, in->lp->desc->name);
			goto out;
		}
	}
	for (struct vmm_instance *in = m->instances; in; in = in->next) {
		if (!is_device(in))
			continue;
		if (!find_record(recs, n, in->name)) {
			rc = vmm_errf(err, errlen, -EPROTO, "%s: no record for device '%s' (plugin %s)", s->dir, in->name,
				  in->lp->desc->name);
			goto out;
		}
		if (!device_can_save(in)) {
			rc = vmm_errf(err, errlen, -ENOTSUP, "device '%s' (plugin %s) cannot be loaded: its plugin has "
				  "no load op", in->name, in->lp->desc->name);
			goto out;
		}
	}

	/* A migration stream wrote RAM already (core/migrate.c). */
	if (!s->ram_loaded) {
		rc = map_memory(m, s, err, errlen);
		if (rc)
			goto out;
		m->ram_from_file = true;
	}
	for (unsigned i = 0; i < m->nvcpus; i++) {
		snprintf(name, sizeof(name), "vcpu%u", i);
		rec = find_record(recs, n, name);
		rc = rec ? VMM_AS(&m->hv_inst->who, m->hv_ops->vcpu_state_load(m->vcpus[i].hv, rec)) : -EBADMSG;
		if (rc) {
			vmm_errf(err, errlen, rc, "%s: vCPU %u: %s", s->dir, i,
			     rec ? "the hypervisor refused its state" : "no record");
			goto out;
		}
	}
	rec = find_record(recs, n, "vm");
	rc = rec ? VMM_AS(&m->hv_inst->who, m->hv_ops->vm_state_load(m->vm, rec)) : -EBADMSG;
	if (rc) {
		vmm_errf(err, errlen, rc, "%s: VM: %s", s->dir, rec ? "the hypervisor refused its state" : "no record");
		goto out;
	}
	/* The virtual clock as it was at the save: the devices re-arm their
	 * deadlines against it (device.h, load). */
	m->clock_base = clock_ns;
	for (unsigned i = 0; i < m->nvcpus && i < 64; i++)
		m->vcpus[i].start_halted = (halted >> i) & 1;
	m->t0 = now_ns() - clock_ns;
	/* In creation order (m->instances is newest first): an interrupt
	 * controller is created before the devices whose lines it owns, so
	 * a line a device raises again in its load() reaches a loaded one. */
	size_t ndev = 0;
	for (struct vmm_instance *in = m->instances; in; in = in->next)
		ndev += is_device(in);
	struct vmm_instance **order = calloc(ndev ? ndev : 1, sizeof(*order));
	if (!order) {
		rc = vmm_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	size_t k = ndev;
	for (struct vmm_instance *in = m->instances; in; in = in->next)
		if (is_device(in))
			order[--k] = in;
	for (k = 0; k < ndev; k++) {
		struct vmm_instance *in = order[k];
		rec = find_record(recs, n, in->name);
		const struct vmm_who *prev = vmm_instance_lock(in);
		rc = device_ops(in)->load(in->state, rec, rec->version);
		vmm_instance_unlock(in, prev);
		if (rc) {
			char why[128];
			vmm_errf(err, errlen, rc, "%s: device '%s' (plugin %s) refused its record (version %u): %s", s->dir,
			     in->name, in->lp->desc->name, rec->version, vmm_state_in_why(rec, rc, why, sizeof(why)));
			free(order);
			goto out;
		}
	}
	free(order);
	rc = 0;
out:
	for (uint32_t i = 0; i < n; i++)
		vmm_state_in_free(&recs[i]);
	free(recs);
	return rc;
}

void vmm_machine_start_paused(struct vmm_machine *m)
{
	atomic_store(&m->pause_requested, true);
}
