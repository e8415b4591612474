/* core/arch-arm64.c - the arm64 boot path: see core/arch-arm64.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/arch-arm64.h"
#include "core/boot-arm64.h"
#include "core/fdt.h"
#include "core/file.h"
#include "core/log.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/process.h"

/* The whole of a regular file, at most `max` bytes; what names it in
 * messages ("kernel", "initrd"). */
static int read_file(const char *what, const char *path, uint64_t max, uint8_t **data, size_t *len)
{
	struct stat st;
	int fd = vmm_open_nowait(path, O_RDONLY), rc = 0;

	*data = NULL;
	*len = 0;
	if (fd < 0) {
		rc = -errno;
		vmm_log(VMM_LOG_ERROR, NULL, "%s %s: %s", what, path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s %s: not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s %s: %" PRIu64 " MiB, more than the guest's RAM", what,
			path, (uint64_t)st.st_size >> 20);
		close(fd);
		return -EFBIG;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t got = 0; got < *len;) {
		ssize_t n = read(fd, *data + got, *len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "%s %s: read failed: %s", what, path,
				n ? strerror(errno) : "the file shrank while it was read");
			free(*data);
			*data = NULL;
			close(fd);
			return -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

static bool hv_has_regs(const struct vmm_machine *m)
{
	const struct vmm_hv_ops *o = m->hv_ops;

	return o->size >= offsetof(struct vmm_hv_ops, vcpu_reg_set) + sizeof(void *) &&
	       o->vcpu_reg_get && o->vcpu_reg_set;
}

bool vmm_machine_is_arm64(const struct vmm_machine *m)
{
	if (m->hv_ops->vcpu_set_sregs)
		return false;
	return VMM_HOST_ARM64 || hv_has_regs(m);
}

/* One region from 1 GiB (core/arch-arm64.h). */
void vmm_arm64_ram_layout(struct vmm_machine *m)
{
	m->ram[0].gpa = VMM_ARM64_RAM_BASE;
	m->ram[0].size = m->cfg->memory;
	m->nram = 1;
}

void vmm_arm64_log_crash(struct vmm_machine *m, void *vcpu, unsigned index, const char *what)
{
	uint64_t pc, pstate;

	if (hv_has_regs(m) &&
	    VMM_AS(HV_WHO(m), m->hv_ops->vcpu_reg_get(vcpu, VMM_REG_ARM64_PC, &pc)) == 0 &&
	    VMM_AS(HV_WHO(m), m->hv_ops->vcpu_reg_get(vcpu, VMM_REG_ARM64_PSTATE, &pstate)) == 0)
		vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u: %s at pc 0x%" PRIx64 " (pstate 0x%" PRIx64 ")",
			index, what, pc, pstate);
	else
		vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u: %s", index, what);
}

static int set_reg(struct vmm_machine *m, uint64_t id, uint64_t v, const char *name)
{
	int rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_reg_set(m->vcpus[0].hv, id, &v));

	if (rc)
		vmm_log(VMM_LOG_ERROR, NULL, "cannot set vCPU 0's %s: %s", name, strerror(-rc));
	return rc;
}

/* The console: the first pl011 (its compatible list names arm,pl011). */
static const struct vmm_device_desc *find_console(const struct vmm_machine *m)
{
	for (size_t i = 0; i < m->ndescs; i++) {
		const char *c = m->descs[i].fdt_compatible;
		if (c && strstr(c, "arm,pl011"))
			return &m->descs[i];
	}
	return NULL;
}

/* The interrupt controller someone described (the kvm plugin's in-kernel
 * vGICv3: VMM_DESC_GICV3, res[0] GICD, res[1..] GICR regions; the gic
 * plugin's emulated GICv2: VMM_DESC_GICV2, res[0] GICD, res[1] GICC), or
 * none: version 0, a machine whose guest polls. */
static struct vmm_fdt_gic find_gic(const struct vmm_machine *m, struct vmm_fdt_region *redist,
				   unsigned room);

void vmm_arm64_find_gic(const struct vmm_machine *m, struct vmm_fdt_region *redist,
			unsigned room, struct vmm_fdt_gic *out)
{
	*out = find_gic(m, redist, room);
}

static struct vmm_fdt_gic find_gic(const struct vmm_machine *m, struct vmm_fdt_region *redist,
				   unsigned room)
{
	struct vmm_fdt_gic g = { .version = 0 };

	for (size_t i = 0; i < m->ndescs; i++) {
		const struct vmm_device_desc *d = &m->descs[i];
		if (d->kind == VMM_DESC_GICV2 && d->nres >= 2) {
			g.version = 2;
			g.dist = (struct vmm_fdt_region){ d->res[0].base, d->res[0].len };
			g.cpu_if = (struct vmm_fdt_region){ d->res[1].base, d->res[1].len };
			g.nr_irqs = d->gsi_base;
			break;
		}
		if (d->kind != VMM_DESC_GICV3 || d->nres < 2)
			continue;
		g.version = 3;
		g.dist = (struct vmm_fdt_region){ d->res[0].base, d->res[0].len };
		for (uint32_t r = 1; r < d->nres && g.nredist < room; r++)
			redist[g.nredist++] = (struct vmm_fdt_region){ d->res[r].base, d->res[r].len };
		g.redist = redist;
		g.nr_irqs = d->gsi_base;
		break;
	}
	return g;
}

/* The architected timer someone described (VMM_DESC_ARM_TIMER), or NULL. */
static const struct vmm_device_desc *find_timer(const struct vmm_machine *m, size_t *count)
{
	const struct vmm_device_desc *t = NULL;

	*count = 0;
	for (size_t i = 0; i < m->ndescs; i++)
		if (m->descs[i].kind == VMM_DESC_ARM_TIMER) {
			if (!t)
				t = &m->descs[i];
			(*count)++;
		}
	return t;
}

/*
 * A GIC without the architected timer's description would give the guest
 * no timer node (arm,arch_timer.yaml needs its interrupts) and, with the
 * GIC in a plugin, no timer interrupts at all: the timer's levels reach
 * the GIC only through the arm-timer plugin.  Say what to add rather than
 * boot a guest that cannot keep time.
 */
int vmm_arm64_check_devices(struct vmm_machine *m)
{
	struct vmm_fdt_region redist[1];
	struct vmm_fdt_gic g = find_gic(m, redist, 1);
	size_t n;
	const struct vmm_device_desc *t = find_timer(m, &n);

	if (n > 1) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s: %zu devices describe the architected timer: one "
			"arm-timer device is the machine's", m->cfg->file, n);
		return -EINVAL;
	}
	if (g.version && !t) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s: an arm64 machine with a GIC needs its architected "
			"timer: add device \"timer\" { plugin = \"arm-timer\" }", m->cfg->file);
		return -EINVAL;
	}
	return 0;
}

static int build_dtb(struct vmm_machine *m, const struct vmm_arm64_boot *b)
{
	struct vmm_fdt_region redist[8];
	const struct vmm_ram *ram = &m->ram[0];
	struct vmm_fdt_region region = { ram->gpa, ram->size };
	uint64_t *mpidr = calloc(m->nvcpus, sizeof(*mpidr));
	char err[256];
	void *blob = NULL;
	size_t size = 0;
	int rc = 0;

	if (!mpidr)
		return -ENOMEM;
	/* KVM derives each vCPU's MPIDR_EL1 from its id; ask, do not guess. */
	for (unsigned i = 0; i < m->nvcpus && !rc; i++) {
		rc = VMM_AS(HV_WHO(m), m->hv_ops->vcpu_reg_get(m->vcpus[i].hv, VMM_REG_ARM64_MPIDR_EL1,
								&mpidr[i]));
		if (rc)
			vmm_log(VMM_LOG_ERROR, NULL, "cannot read vCPU %u's MPIDR_EL1: %s", i,
				strerror(-rc));
	}
	if (rc) {
		free(mpidr);
		return rc;
	}
	struct vmm_fdt_machine fm = {
		.ram = &region,
		.nram = 1,
		.mpidr = mpidr,
		.nvcpus = m->nvcpus,
		/* KVM's PSCI, through HVC #0 (KVM API, KVM_ARM_VCPU_PSCI_0_2). */
		.psci_method = VMM_FDT_PSCI_HVC,
		.psci_version = VMM_FDT_PSCI_VERSION(1, 0),
		.gic = find_gic(m, redist, 8),
		.bootargs = m->cfg->cmdline && *m->cfg->cmdline ? m->cfg->cmdline : NULL,
		.stdout_dev = find_console(m),
		.initrd_start = b->initrd_gpa,
		.initrd_end = b->initrd_gpa ? b->initrd_gpa + b->initrd_size : 0,
		.descs = m->descs,
		.ndescs = m->ndescs,
	};
	/* The arm-timer plugin's PPIs, in the binding's order. */
	size_t ntimers;
	const struct vmm_device_desc *t = find_timer(m, &ntimers);
	for (uint32_t i = 0; t && i < 4 && i < t->nres; i++)
		fm.timer_irq[i] = (uint32_t)t->res[i].base;
	rc = vmm_fdt_build(&fm, &blob, &size, err, sizeof(err));
	free(mpidr);
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "device tree: %s", err);
		return rc;
	}
	uint8_t *dst = vmm_machine_ram(m, b->dtb_gpa, size);
	if (size > b->dtb_max || !dst) {
		vmm_log(VMM_LOG_ERROR, NULL, "device tree: %zu bytes do not fit the %" PRIu64
			" reserved for it", size, b->dtb_max);
		free(blob);
		return -ENOSPC;
	}
	memcpy(dst, blob, size);
	free(blob);
	m->dtb_gpa = b->dtb_gpa;
	m->dtb_size = size;
	return 0;
}

int vmm_machine_dump_dtb(struct vmm_machine *m, const char *file)
{
	const uint8_t *dtb = m->dtb_size ? vmm_machine_ram(m, m->dtb_gpa, m->dtb_size) : NULL;

	if (!vmm_machine_is_arm64(m)) {
		vmm_log(VMM_LOG_ERROR, NULL, "--dump-dtb: %s is an x86 machine: it has no device tree "
			"(--dump-acpi writes its ACPI tables)", m->cfg->file);
		return -ENOENT;
	}
	if (!dtb) {
		/* The tree holds the initrd's place: it is built with the payload. */
		vmm_log(VMM_LOG_ERROR, NULL, "--dump-dtb: no device tree without a kernel: set boot "
			"{ kernel = ... } or use --kernel");
		return -ENOENT;
	}
	FILE *f = fopen(file, "wb");
	bool ok = f && fwrite(dtb, 1, m->dtb_size, f) == m->dtb_size;
	int err = errno;

	if (f && fclose(f) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (!ok) {
		vmm_log(VMM_LOG_ERROR, NULL, "--dump-dtb: cannot write %s: %s", file, strerror(err));
		return -EIO;
	}
	return 0;
}

int vmm_arm64_boot(struct vmm_machine *m)
{
	const struct vmm_machine_config *c = m->cfg;
	const struct vmm_ram *ram = &m->ram[0];
	struct vmm_arm64_boot b;
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t klen = 0, ilen = 0;
	char err[256];
	int rc;

	if (!c->kernel) {
		vmm_log(VMM_LOG_ERROR, NULL, "%s: no boot payload: set boot { kernel = ... } or use --kernel",
			c->file);
		return -EINVAL;
	}
	if (c->format != VMM_BOOT_AUTO) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: an arm64 machine boots an Image (format = "
			"\"auto\"); pvh, bzimage and flat are x86 formats", c->kernel);
		return -EINVAL;
	}
	if (!hv_has_regs(m)) {
		vmm_log(VMM_LOG_ERROR, NULL, "hypervisor '%s' cannot set vCPU registers by id "
			"(vcpu_reg_set, ABI 1.7): it cannot start an arm64 guest", c->hypervisor.plugin);
		return -ENOTSUP;
	}
	rc = read_file("kernel", c->kernel, ram->size, &kernel, &klen);
	if (!rc && c->initrd)
		rc = read_file("initrd", c->initrd, ram->size, &initrd, &ilen);
	if (!rc && vmm_arm64_load(kernel, klen, initrd, ilen, ram->hva, ram->gpa, ram->size, &b, err,
				  sizeof(err)) != 0) {
		vmm_log(VMM_LOG_ERROR, NULL, "kernel %s: %s", c->kernel, err);
		rc = -ENOEXEC;
	}
	free(kernel);
	free(initrd);
	if (rc)
		return rc;
	rc = build_dtb(m, &b);
	if (rc)
		return rc;
	/* booting.rst, "Call the kernel image": x0 the device tree's physical
	 * address, x1-x3 zero (reserved), the MMU off, interrupts masked. */
	if ((rc = set_reg(m, VMM_REG_ARM64_PC, b.kernel_gpa, "PC")) ||
	    (rc = set_reg(m, VMM_REG_ARM64_X(0), b.dtb_gpa, "x0")) ||
	    (rc = set_reg(m, VMM_REG_ARM64_X(1), 0, "x1")) ||
	    (rc = set_reg(m, VMM_REG_ARM64_X(2), 0, "x2")) ||
	    (rc = set_reg(m, VMM_REG_ARM64_X(3), 0, "x3")) ||
	    (rc = set_reg(m, VMM_REG_ARM64_PSTATE, VMM_ARM64_PSTATE_EL1H | VMM_ARM64_PSTATE_DAIF,
			  "PSTATE")))
		return rc;
	vmm_log(VMM_LOG_DEBUG, NULL, "arm64: kernel at 0x%" PRIx64 ", device tree at 0x%" PRIx64
		"%s", b.kernel_gpa, b.dtb_gpa, b.initrd_gpa ? ", initrd" : "");
	return 0;
}
