/* core/fdt.c - the arm64 device tree from device descriptions (see fdt.h).
 *
 * Section numbers are the Devicetree Specification v0.4 ("DT spec");
 * bindings are Linux's Documentation/devicetree/bindings files, named by
 * their file name.  The whole description is checked first, so every
 * refusal names what is wrong before any byte is written; then libfdt's
 * sequential-write API emits the tree into a buffer that doubles until the
 * tree fits.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "core/fdt.h"

/* Phandles (2.3.3): any unique non-zero 32-bit values. */
#define PHANDLE_GIC 1
#define PHANDLE_APB_CLOCK 2

#define DEFAULT_MODEL "vmm,arm64-virt" /* 2.3.2: "manufacturer,model" */
#define DEFAULT_APB_CLOCK_HZ 24000000u

/* Interrupt specifier cells of arm,gic.yaml and arm,gic-v3.yaml. */
#define GIC_SPI 0
#define GIC_PPI 1
#define GIC_EDGE_RISING 1
#define GIC_LEVEL_HIGH 4
#define GIC_FIRST_SPI 32
#define GIC_LAST_SPI 1019 /* 1020-1023 are special INTIDs */
#define GIC_FIRST_PPI 16
#define GICV2_MAX_CPUS 8  /* the PPI cpu mask has 8 bits */

/* Node names: 1 to 31 characters (2.2.1) plus "@" and 16 hex digits. */
#define NAME_MAX_LEN 31
#define NODE_NAME_ROOM (NAME_MAX_LEN + 1 + 16 + 1)

/* MPIDR_EL1 affinity: Aff3 in 39:32, Aff2-Aff0 in 23:0 (arm/cpus.yaml). */
#define MPIDR_AFF_MASK 0xff00ffffffull

/* ------------------------------------------------------ compatible lists */

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool compat_char_ok(char c)
{
	return c > ' ' && c <= '~';
}

int vmm_fdt_compatible_list(const char *list, char *out, size_t room, size_t *len)
{
	size_t n = 0;
	bool empty_entry = true;

	if (!list || !*list)
		return -EINVAL;
	for (const char *p = list;; p++) {
		if (*p == ' ' || *p == '\0') {
			if (empty_entry)
				return -EINVAL; /* leading, trailing or doubled space */
			if (n >= room)
				return -ENOSPC;
			out[n++] = '\0';
			empty_entry = true;
			if (*p == '\0')
				break;
			continue;
		}
		if (!compat_char_ok(*p))
			return -EINVAL;
		if (n >= room)
			return -ENOSPC;
		out[n++] = *p;
		empty_entry = false;
	}
	*len = n;
	return 0;
}

/* Does the string list value `v` (len bytes) hold `s`? */
static bool list_has(const char *v, size_t len, const char *s)
{
	for (size_t off = 0; off < len; off += strlen(v + off) + 1)
		if (strcmp(v + off, s) == 0)
			return true;
	return false;
}

/* 2.2.1, Table 2.1: the characters of a node name; it starts with a letter. */
static bool node_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > NAME_MAX_LEN)
		return false;
	if (!is_letter(s[0]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(is_letter(c) || (c >= '0' && c <= '9') ||
		      c == ',' || c == '.' || c == '_' || c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* The generic names of 2.2.2 for the models we know, by a part of the
 * model (the text after the vendor's comma).  A part that starts with a
 * letter must start a word ("dw-apb-uart", not "artcore"). */
static const struct {
	const char *part, *name;
} generic_names[] = {
	{ "pl011", "serial" }, { "uart", "serial" }, { "16550", "serial" }, { "8250", "serial" },
	{ "pl031", "rtc" },    { "rtc", "rtc" },
};

static bool model_has(const char *model, const char *part)
{
	for (const char *p = strstr(model, part); p; p = strstr(p + 1, part))
		if (!is_letter(part[0]) || p == model || !is_letter(p[-1]))
			return true;
	return false;
}

static const char *model_of(const char *compat)
{
	const char *comma = strchr(compat, ',');
	return comma ? comma + 1 : compat;
}

int vmm_fdt_generic_name(const char *list, char *out, size_t room)
{
	size_t len;
	char *v = malloc(list ? strlen(list) + 1 : 1);
	int rc;

	if (!v)
		return -ENOMEM;
	rc = vmm_fdt_compatible_list(list, v, list ? strlen(list) + 1 : 1, &len);
	if (rc)
		goto out_free;
	const char *name = NULL;
	for (size_t off = 0; off < len && !name; off += strlen(v + off) + 1) {
		const char *c = v + off;
		/* 2.2.2 has no generic name for virtio; "virtio_mmio" is the
		 * one virtual machines use ('_' is valid in 2.2.1, though
		 * dtc's off-by-default node_name_chars_strict check frowns
		 * on it).  Linux matches the compatible, never the name. */
		if (strcmp(c, "virtio,mmio") == 0) {
			name = "virtio_mmio";
			break;
		}
		for (size_t i = 0; i < sizeof(generic_names) / sizeof(generic_names[0]); i++)
			if (model_has(model_of(c), generic_names[i].part)) {
				name = generic_names[i].name;
				break;
			}
	}
	if (!name)
		name = model_of(v);
	if (!node_name_ok(name)) {
		rc = -EINVAL;
		goto out_free;
	}
	if (strlen(name) >= room) {
		rc = -ENOSPC;
		goto out_free;
	}
	strcpy(out, name);
out_free:
	free(v);
	return rc;
}

/* ------------------------------------------------------------ validation */

static void desc_label(const struct vmm_fdt_machine *m, size_t i, char *buf, size_t n)
{
	const struct vmm_device_desc *d = &m->descs[i];
	if (m->desc_names && m->desc_names[i])
		snprintf(buf, n, "device \"%s\" (%s)", m->desc_names[i], d->fdt_compatible);
	else
		snprintf(buf, n, "device %zu (%s)", i, d->fdt_compatible);
}

/* A range of guest-physical space some node claims, for overlap checks. */
struct claim {
	uint64_t base, size;
	char what[160];
};

static bool range_ok(uint64_t base, uint64_t size)
{
	return size != 0 && base + (size - 1) >= base;
}

static bool overlap(const struct claim *a, const struct claim *b)
{
	return a->base <= b->base + (b->size - 1) && b->base <= a->base + (a->size - 1);
}

static uint64_t affinity(uint64_t mpidr)
{
	return mpidr & MPIDR_AFF_MASK;
}

static uint32_t spi_limit(const struct vmm_fdt_gic *g)
{
	return g->nr_irqs == 0 || g->nr_irqs > GIC_LAST_SPI ? GIC_LAST_SPI : g->nr_irqs - 1;
}

static bool is_device(const struct vmm_device_desc *d)
{
	return d->fdt_compatible != NULL;
}

static int check_device(const struct vmm_fdt_machine *m, size_t i, char *err, size_t errlen)
{
	const struct vmm_device_desc *d = &m->descs[i];
	char label[128], name[NAME_MAX_LEN + 1];
	bool mmio = false;

	desc_label(m, i, label, sizeof(label));
	int rc = vmm_fdt_generic_name(d->fdt_compatible, name, sizeof(name));
	if (rc == -ENOMEM) {
		snprintf(err, errlen, "out of memory checking the device tree");
		return rc;
	}
	if (rc) {
		if (!*d->fdt_compatible || strspn(d->fdt_compatible, " ") == strlen(d->fdt_compatible))
			snprintf(err, errlen, "%s: the compatible list is empty", label);
		else
			snprintf(err, errlen, "%s: malformed compatible list (one or more strings "
				 "separated by single spaces, the first naming a model that can be a "
				 "node name)", label);
		return -EINVAL;
	}
	if (d->nres && !d->res) {
		snprintf(err, errlen, "%s: %u resources but no array", label, d->nres);
		return -EINVAL;
	}
	for (uint32_t r = 0; r < d->nres; r++) {
		const struct vmm_resource *res = &d->res[r];
		switch (res->type) {
		case VMM_RES_MMIO:
			if (!range_ok(res->base, res->len)) {
				snprintf(err, errlen, "%s: MMIO range 0x%" PRIx64 "+0x%" PRIx64
					 " is empty or wraps", label, res->base, res->len);
				return -EINVAL;
			}
			mmio = true;
			break;
		case VMM_RES_IRQ:
			if (res->base < GIC_FIRST_SPI || res->base > spi_limit(&m->gic)) {
				snprintf(err, errlen, "%s: IRQ %" PRIu64 " is not a GIC SPI (INTID %d to %"
					 PRIu32 " on this GIC)", label, res->base, GIC_FIRST_SPI,
					 spi_limit(&m->gic));
				return -EINVAL;
			}
			if (res->flags & VMM_RES_IRQ_ACTIVE_LOW) {
				snprintf(err, errlen, "%s: IRQ %" PRIu64 " is active-low, but a GIC SPI "
					 "is active-high or rising-edge only", label, res->base);
				return -EINVAL;
			}
			break;
		case VMM_RES_IO:
			snprintf(err, errlen, "%s: an I/O port resource, but arm64 has no port I/O",
				 label);
			return -EINVAL;
		default:
			snprintf(err, errlen, "%s: resource %u has unknown type %u", label, r, res->type);
			return -EINVAL;
		}
	}
	if (!mmio) {
		snprintf(err, errlen, "%s: no MMIO resource, so no reg and no unit address", label);
		return -EINVAL;
	}
	return 0;
}

static int add_claim(struct claim **cl, size_t *n, size_t *cap, uint64_t base, uint64_t size,
		     const char *what)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct claim *c = realloc(*cl, ncap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		*cl = c;
		*cap = ncap;
	}
	(*cl)[*n].base = base;
	(*cl)[*n].size = size;
	snprintf((*cl)[*n].what, sizeof((*cl)[*n].what), "%s", what);
	(*n)++;
	return 0;
}

/* No two nodes may claim the same guest-physical bytes: RAM, the GIC's
 * frames and the devices' MMIO ranges (a clash is also a duplicate unit
 * address when two bases meet, 2.2.1). */
static int check_overlaps(const struct vmm_fdt_machine *m, char *err, size_t errlen)
{
	struct claim *cl = NULL;
	size_t n = 0, cap = 0;
	char what[160], label[128];
	int rc = 0;

	for (unsigned i = 0; i < m->nram && !rc; i++) {
		snprintf(what, sizeof(what), "RAM 0x%" PRIx64 "+0x%" PRIx64, m->ram[i].base,
			 m->ram[i].size);
		rc = add_claim(&cl, &n, &cap, m->ram[i].base, m->ram[i].size, what);
	}
	if (!rc && m->gic.version)
		rc = add_claim(&cl, &n, &cap, m->gic.dist.base, m->gic.dist.size, "the GIC distributor");
	if (!rc && m->gic.version == 2)
		rc = add_claim(&cl, &n, &cap, m->gic.cpu_if.base, m->gic.cpu_if.size,
			       "the GIC CPU interface");
	for (unsigned i = 0; m->gic.version == 3 && i < m->gic.nredist && !rc; i++)
		rc = add_claim(&cl, &n, &cap, m->gic.redist[i].base, m->gic.redist[i].size,
			       "a GIC redistributor region");
	for (size_t i = 0; i < m->ndescs && !rc; i++) {
		const struct vmm_device_desc *d = &m->descs[i];
		if (!is_device(d))
			continue;
		desc_label(m, i, label, sizeof(label));
		for (uint32_t r = 0; r < d->nres && !rc; r++)
			if (d->res[r].type == VMM_RES_MMIO)
				rc = add_claim(&cl, &n, &cap, d->res[r].base, d->res[r].len, label);
	}
	if (rc) {
		snprintf(err, errlen, "out of memory checking the device tree");
		goto out_free;
	}
	for (size_t a = 0; a < n && !rc; a++)
		for (size_t b = a + 1; b < n && !rc; b++)
			if (overlap(&cl[a], &cl[b])) {
				snprintf(err, errlen, "%s at 0x%" PRIx64 " overlaps %s at 0x%" PRIx64,
					 cl[b].what, cl[b].base, cl[a].what, cl[a].base);
				rc = -EINVAL;
			}
out_free:
	free(cl);
	return rc;
}

static bool timer_irqs_default(const struct vmm_fdt_machine *m)
{
	for (int i = 0; i < 4; i++)
		if (m->timer_irq[i])
			return false;
	return true;
}

static int check_machine(const struct vmm_fdt_machine *m, char *err, size_t errlen)
{
	const struct vmm_fdt_gic *g = &m->gic;

	if (!m->nram || !m->ram) {
		snprintf(err, errlen, "no RAM: a device tree needs a /memory node");
		return -EINVAL;
	}
	for (unsigned i = 0; i < m->nram; i++)
		if (!range_ok(m->ram[i].base, m->ram[i].size)) {
			snprintf(err, errlen, "RAM region %u is empty or wraps", i);
			return -EINVAL;
		}
	if (!m->nvcpus || !m->mpidr) {
		snprintf(err, errlen, "no vCPUs (and their MPIDRs) to describe");
		return -EINVAL;
	}
	for (unsigned i = 0; i < m->nvcpus; i++)
		for (unsigned j = i + 1; j < m->nvcpus; j++)
			if (affinity(m->mpidr[i]) == affinity(m->mpidr[j])) {
				snprintf(err, errlen, "vCPUs %u and %u have the same MPIDR affinity 0x%"
					 PRIx64, i, j, affinity(m->mpidr[i]));
				return -EINVAL;
			}
	if (m->psci_method != VMM_FDT_PSCI_HVC && m->psci_method != VMM_FDT_PSCI_SMC) {
		snprintf(err, errlen, "PSCI method %d is neither hvc nor smc", (int)m->psci_method);
		return -EINVAL;
	}
	/* PSCI 0.1 needs per-machine function IDs (psci.yaml); KVM has 0.2+. */
	if (m->psci_version < VMM_FDT_PSCI_VERSION(0, 2)) {
		snprintf(err, errlen, "PSCI version %u.%u: 0.2 or later is needed",
			 m->psci_version >> 16, m->psci_version & 0xffff);
		return -EINVAL;
	}
	if (g->version != 0 && g->version != 2 && g->version != 3) {
		snprintf(err, errlen, "GIC version %u: 2 or 3 is needed (0: none)", g->version);
		return -EINVAL;
	}
	if (g->version == 0) {
		/* No interrupt controller (a guest that polls): nothing of it
		 * to check, nor timer PPIs to place. */
	} else if (!range_ok(g->dist.base, g->dist.size)) {
		snprintf(err, errlen, "the GIC distributor's range is empty or wraps");
		return -EINVAL;
	}
	if (g->version == 2) {
		if (!range_ok(g->cpu_if.base, g->cpu_if.size)) {
			snprintf(err, errlen, "the GICv2 CPU interface's range is empty or wraps");
			return -EINVAL;
		}
		if (m->nvcpus > GICV2_MAX_CPUS) {
			snprintf(err, errlen, "%u vCPUs: a GICv2 serves at most %d", m->nvcpus,
				 GICV2_MAX_CPUS);
			return -EINVAL;
		}
	} else if (g->version == 3) {
		if (!g->nredist || !g->redist) {
			snprintf(err, errlen, "a GICv3 needs at least one redistributor region");
			return -EINVAL;
		}
		for (unsigned i = 0; i < g->nredist; i++)
			if (!range_ok(g->redist[i].base, g->redist[i].size)) {
				snprintf(err, errlen, "GICv3 redistributor region %u is empty or wraps", i);
				return -EINVAL;
			}
	}
	if (g->nr_irqs && g->nr_irqs <= GIC_FIRST_SPI) {
		snprintf(err, errlen, "a GIC with %u INTIDs has no SPIs", g->nr_irqs);
		return -EINVAL;
	}
	if (g->version && !timer_irqs_default(m))
		for (int i = 0; i < 4; i++)
			if (m->timer_irq[i] < GIC_FIRST_PPI || m->timer_irq[i] >= GIC_FIRST_SPI) {
				snprintf(err, errlen, "timer interrupt %d is INTID %u, not a PPI (16-31)",
					 i, m->timer_irq[i]);
				return -EINVAL;
			}
	if (m->initrd_start || m->initrd_end) {
		bool in_ram = false;
		for (unsigned i = 0; i < m->nram; i++)
			if (m->initrd_start >= m->ram[i].base && m->initrd_end > m->initrd_start &&
			    m->initrd_end - 1 <= m->ram[i].base + (m->ram[i].size - 1))
				in_ram = true;
		if (!in_ram) {
			snprintf(err, errlen, "initrd [0x%" PRIx64 ", 0x%" PRIx64 ") is empty or not "
				 "inside one RAM region", m->initrd_start, m->initrd_end);
			return -EINVAL;
		}
	}
	if (m->ndescs && !m->descs) {
		snprintf(err, errlen, "%zu device descriptions but no array", m->ndescs);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->ndescs; i++) {
		if (!is_device(&m->descs[i]))
			continue;
		int rc = check_device(m, i, err, errlen);
		if (rc)
			return rc;
	}
	if (m->stdout_dev) {
		uintptr_t p = (uintptr_t)m->stdout_dev, first = (uintptr_t)m->descs;
		if (!m->descs || p < first || p >= first + m->ndescs * sizeof(*m->descs) ||
		    (p - first) % sizeof(*m->descs) || !is_device(m->stdout_dev)) {
			snprintf(err, errlen, "the console is not one of the described devices with a "
				 "compatible list");
			return -EINVAL;
		}
		if (m->stdout_options && strpbrk(m->stdout_options, ": /")) {
			snprintf(err, errlen, "console options \"%s\": no ':', '/' or spaces",
				 m->stdout_options);
			return -EINVAL;
		}
	}
	return check_overlaps(m, err, errlen);
}

/* --------------------------------------------------------------- writing */

/* Sequential writes; the first libfdt error sticks and later calls do nothing. */
struct writer {
	void *fdt;
	int e;
};

static void begin_node(struct writer *w, const char *name)
{
	if (!w->e)
		w->e = fdt_begin_node(w->fdt, name);
}

static void end_node(struct writer *w)
{
	if (!w->e)
		w->e = fdt_end_node(w->fdt);
}

static void prop(struct writer *w, const char *name, const void *val, int len)
{
	if (!w->e)
		w->e = fdt_property(w->fdt, name, val, len);
}

static void prop_str(struct writer *w, const char *name, const char *s)
{
	prop(w, name, s, (int)strlen(s) + 1);
}

static void prop_u32(struct writer *w, const char *name, uint32_t v)
{
	if (!w->e)
		w->e = fdt_property_u32(w->fdt, name, v);
}

static void prop_u64(struct writer *w, const char *name, uint64_t v)
{
	if (!w->e)
		w->e = fdt_property_u64(w->fdt, name, v);
}

/* A property of n big-endian cells. */
static void prop_cells(struct writer *w, const char *name, const uint32_t *cells, size_t n)
{
	void *val;
	if (!w->e)
		w->e = fdt_property_placeholder(w->fdt, name, (int)(n * 4), &val);
	if (!w->e)
		for (size_t i = 0; i < n; i++) {
			fdt32_t be = cpu_to_fdt32(cells[i]);
			memcpy((char *)val + 4 * i, &be, 4);
		}
}

/* A reg entry with the root's #address-cells = #size-cells = 2 (2.3.6). */
static void put_reg(uint32_t *c, uint64_t base, uint64_t size)
{
	c[0] = (uint32_t)(base >> 32);
	c[1] = (uint32_t)base;
	c[2] = (uint32_t)(size >> 32);
	c[3] = (uint32_t)size;
}

/* 2.2.1: the unit address is the first reg address, in hex, no leading zeros. */
static void node_name(char *buf, const char *generic, uint64_t addr)
{
	snprintf(buf, NODE_NAME_ROOM, "%s@%" PRIx64, generic, addr);
}

static void write_chosen(struct writer *w, const struct vmm_fdt_machine *m)
{
	begin_node(w, "chosen"); /* 3.6 */
	if (m->bootargs)
		prop_str(w, "bootargs", m->bootargs);
	if (m->stdout_dev) {
		const struct vmm_device_desc *d = m->stdout_dev;
		char generic[NAME_MAX_LEN + 1], path[1 + NODE_NAME_ROOM + 64];
		uint64_t base = 0;
		for (uint32_t r = 0; r < d->nres; r++)
			if (d->res[r].type == VMM_RES_MMIO) {
				base = d->res[r].base;
				break;
			}
		vmm_fdt_generic_name(d->fdt_compatible, generic, sizeof(generic));
		int n = snprintf(path, sizeof(path), "/%s@%" PRIx64, generic, base);
		if (m->stdout_options && *m->stdout_options)
			snprintf(path + n, sizeof(path) - (size_t)n, ":%s", m->stdout_options);
		prop_str(w, "stdout-path", path);
	}
	/* Linux reads these as one or two cells, whichever the length says
	 * (drivers/of/fdt.c); two cells hold any address.  End is exclusive
	 * (chosen.yaml). */
	if (m->initrd_start || m->initrd_end) {
		prop_u64(w, "linux,initrd-start", m->initrd_start);
		prop_u64(w, "linux,initrd-end", m->initrd_end);
	}
	end_node(w);
}

static void write_memory(struct writer *w, const struct vmm_fdt_machine *m)
{
	for (unsigned i = 0; i < m->nram; i++) {
		char name[NODE_NAME_ROOM];
		uint32_t reg[4];
		node_name(name, "memory", m->ram[i].base); /* 3.4 */
		begin_node(w, name);
		prop_str(w, "device_type", "memory");
		put_reg(reg, m->ram[i].base, m->ram[i].size);
		prop_cells(w, "reg", reg, 4);
		end_node(w);
	}
}

static void write_cpus(struct writer *w, const struct vmm_fdt_machine *m)
{
	/* arm/cpus.yaml: one cell holds Aff2-Aff0; a second is needed only
	 * when some Aff3 is not 0. */
	uint32_t cells = 1;
	for (unsigned i = 0; i < m->nvcpus; i++)
		if (affinity(m->mpidr[i]) >> 32)
			cells = 2;

	begin_node(w, "cpus"); /* 3.7 */
	prop_u32(w, "#address-cells", cells);
	prop_u32(w, "#size-cells", 0);
	for (unsigned i = 0; i < m->nvcpus; i++) {
		uint64_t aff = affinity(m->mpidr[i]);
		uint32_t reg[2] = { (uint32_t)(aff >> 32), (uint32_t)aff };
		char name[NODE_NAME_ROOM];
		node_name(name, "cpu", aff); /* 3.8 */
		begin_node(w, name);
		prop_str(w, "device_type", "cpu");
		prop_str(w, "compatible", "arm,armv8"); /* cpus.yaml: for software models */
		prop_cells(w, "reg", cells == 2 ? reg : reg + 1, cells);
		prop_str(w, "enable-method", "psci");
		end_node(w);
	}
	end_node(w);
}

static void write_psci(struct writer *w, const struct vmm_fdt_machine *m)
{
	/* psci.yaml: 1.0 lists 0.2 after it, for kernels that know only 0.2;
	 * neither needs function IDs.  1.1 and later use the 1.0 string. */
	static const char v1[] = "arm,psci-1.0\0arm,psci-0.2";
	static const char v02[] = "arm,psci-0.2";

	begin_node(w, "psci");
	if (m->psci_version >= VMM_FDT_PSCI_VERSION(1, 0))
		prop(w, "compatible", v1, sizeof(v1));
	else
		prop(w, "compatible", v02, sizeof(v02));
	prop_str(w, "method", m->psci_method == VMM_FDT_PSCI_SMC ? "smc" : "hvc");
	end_node(w);
}

static void write_gic(struct writer *w, const struct vmm_fdt_machine *m)
{
	const struct vmm_fdt_gic *g = &m->gic;
	char name[NODE_NAME_ROOM];
	size_t nregs = g->version == 3 ? 1 + g->nredist : 2;
	uint32_t *reg = calloc(nregs * 4, sizeof(*reg));

	if (!reg) {
		w->e = -FDT_ERR_INTERNAL;
		return;
	}
	node_name(name, "interrupt-controller", g->dist.base); /* 2.2.2 */
	begin_node(w, name);
	put_reg(reg, g->dist.base, g->dist.size);
	if (g->version == 3) {
		/* arm,gic-v3.yaml: GICD, then each GICR region in order. */
		prop_str(w, "compatible", "arm,gic-v3");
		for (unsigned i = 0; i < g->nredist; i++)
			put_reg(reg + 4 * (1 + i), g->redist[i].base, g->redist[i].size);
		if (g->nredist > 1)
			prop_u32(w, "#redistributor-regions", g->nredist);
	} else {
		/* arm,gic.yaml: the distributor, then the CPU interface. */
		prop_str(w, "compatible", "arm,cortex-a15-gic");
		put_reg(reg + 4, g->cpu_if.base, g->cpu_if.size);
	}
	prop_cells(w, "reg", reg, nregs * 4);
	prop_u32(w, "#interrupt-cells", 3);
	/* An interrupt-map elsewhere would read the parent's unit address
	 * with this (2.4.3.1); no child has one, so 0, which both GIC
	 * bindings allow and dtc's interrupt_provider check wants. */
	prop_u32(w, "#address-cells", 0);
	prop(w, "interrupt-controller", "", 0); /* an empty property (2.2.4.2) */
	prop_u32(w, "phandle", PHANDLE_GIC);
	end_node(w);
	free(reg);
}

static void write_timer(struct writer *w, const struct vmm_fdt_machine *m)
{
	static const uint32_t defaults[4] = { 29, 30, 27, 26 }; /* PPIs 13, 14, 11, 10 */
	const uint32_t *intid = timer_irqs_default(m) ? defaults : m->timer_irq;
	/* The timer holds its output while its condition is met: a level,
	 * active high.  On a GICv2 a PPI's specifier also names the CPUs it
	 * is wired to, bits 15:8 (arm,gic.yaml); a GICv3 has no such field. */
	uint32_t flags = GIC_LEVEL_HIGH;
	if (m->gic.version == 2)
		flags |= ((1u << m->nvcpus) - 1) << 8;
	uint32_t cells[12];
	for (int i = 0; i < 4; i++) {
		cells[3 * i] = GIC_PPI;
		cells[3 * i + 1] = intid[i] - GIC_FIRST_PPI;
		cells[3 * i + 2] = flags;
	}
	begin_node(w, "timer");
	prop_str(w, "compatible", "arm,armv8-timer");
	prop_cells(w, "interrupts", cells, 12); /* arm,arch_timer.yaml: sec, phys, virt, hyp */
	end_node(w);
}

static void write_clock(struct writer *w, const struct vmm_fdt_machine *m)
{
	begin_node(w, "apb-clock");
	prop_str(w, "compatible", "fixed-clock"); /* fixed-clock.yaml */
	prop_u32(w, "#clock-cells", 0);
	prop_u32(w, "clock-frequency", m->apb_clock_hz ? m->apb_clock_hz : DEFAULT_APB_CLOCK_HZ);
	prop_u32(w, "phandle", PHANDLE_APB_CLOCK);
	end_node(w);
}

static void write_device(struct writer *w, const struct vmm_device_desc *d, bool gic)
{
	size_t room = strlen(d->fdt_compatible) + 1, clen = 0;
	char *compat = malloc(room), generic[NAME_MAX_LEN + 1], name[NODE_NAME_ROOM];
	uint32_t *reg = calloc(d->nres ? d->nres * 4 : 1, sizeof(*reg));
	uint32_t *irq = calloc(d->nres ? d->nres * 3 : 1, sizeof(*irq));
	size_t nreg = 0, nirq = 0;

	if (!compat || !reg || !irq) {
		w->e = -FDT_ERR_INTERNAL;
		goto out_free;
	}
	vmm_fdt_compatible_list(d->fdt_compatible, compat, room, &clen);
	vmm_fdt_generic_name(d->fdt_compatible, generic, sizeof(generic));
	for (uint32_t r = 0; r < d->nres; r++) {
		const struct vmm_resource *res = &d->res[r];
		if (res->type == VMM_RES_MMIO) {
			put_reg(reg + 4 * nreg++, res->base, res->len);
		} else if (res->type == VMM_RES_IRQ) {
			/* arm,gic.yaml: <0 spi flags> with SPI n = INTID 32 + n. */
			irq[3 * nirq] = GIC_SPI;
			irq[3 * nirq + 1] = (uint32_t)res->base - GIC_FIRST_SPI;
			irq[3 * nirq + 2] = (res->flags & VMM_RES_IRQ_LEVEL) ? GIC_LEVEL_HIGH
									 : GIC_EDGE_RISING;
			nirq++;
		}
	}
	node_name(name, generic, ((uint64_t)reg[0] << 32) | reg[1]);
	begin_node(w, name);
	prop(w, "compatible", compat, (int)clen);
	prop_cells(w, "reg", reg, 4 * nreg);
	if (nirq && gic)
		prop_cells(w, "interrupts", irq, 3 * nirq);
	/*
	 * DT spec 2.3.9 "dma-coherent": the device's DMA is coherent with the
	 * CPUs' caches.  Every device here is the VMM's code reading and
	 * writing guest RAM through the host's cacheable mapping, so it is;
	 * without the property Linux cleans and invalidates the caches around
	 * each buffer (arm64's non-coherent DMA ops) and, where KVM's stage 2
	 * does not force write-back, maps coherent buffers non-cacheable, which
	 * the VMM's cached view would not see.  QEMU's virt board says the same
	 * for its virtio-mmio transports.  A device without DMA ignores it.
	 */
	prop(w, "dma-coherent", "", 0);
	if (list_has(compat, clen, "arm,primecell")) {
		/* pl011.yaml: UARTCLK then PCLK; other PrimeCells (pl031) take
		 * the bus clock alone, which Linux's AMBA bus enables to read
		 * the peripheral ID. */
		static const char uart_names[] = "uartclk\0apb_pclk";
		static const char pclk_name[] = "apb_pclk";
		static const uint32_t two[2] = { PHANDLE_APB_CLOCK, PHANDLE_APB_CLOCK };
		if (list_has(compat, clen, "arm,pl011")) {
			prop_cells(w, "clocks", two, 2);
			prop(w, "clock-names", uart_names, sizeof(uart_names));
		} else {
			prop_cells(w, "clocks", two, 1);
			prop(w, "clock-names", pclk_name, sizeof(pclk_name));
		}
	}
	end_node(w);
out_free:
	free(compat);
	free(reg);
	free(irq);
}

static int write_tree(const struct vmm_fdt_machine *m, void *buf, int size)
{
	struct writer w = { buf, 0 };
	static const char root_compat[] = "linux,dummy-virt";

	w.e = fdt_create(buf, size);
	if (!w.e)
		w.e = fdt_finish_reservemap(buf);
	begin_node(&w, "");
	/* 3.2: the root's model and compatible.  Linux's arm64 code matches
	 * no board; "linux,dummy-virt" (arm/linux,dummy-virt.yaml) is the
	 * name virtual machines share. */
	prop_str(&w, "model", m->model ? m->model : DEFAULT_MODEL);
	prop(&w, "compatible", root_compat, sizeof(root_compat));
	prop_u32(&w, "#address-cells", 2);
	prop_u32(&w, "#size-cells", 2);
	if (m->gic.version) /* 0: no interrupt controller at all */
		prop_u32(&w, "interrupt-parent", PHANDLE_GIC); /* 2.4.1: inherited by every node */
	write_chosen(&w, m);
	write_memory(&w, m);
	write_cpus(&w, m);
	write_psci(&w, m);
	if (m->gic.version) {
		write_gic(&w, m);
		/* arm,arch_timer.yaml requires its interrupts: without a GIC
		 * there is no timer node (Linux then has no clock event). */
		write_timer(&w, m);
	}
	write_clock(&w, m);
	for (size_t i = 0; i < m->ndescs; i++)
		if (is_device(&m->descs[i]))
			write_device(&w, &m->descs[i], m->gic.version != 0);
	end_node(&w);
	if (!w.e)
		w.e = fdt_finish(buf);
	return w.e;
}

int vmm_fdt_build(const struct vmm_fdt_machine *m, void **blob, size_t *size, char *err,
		  size_t errlen)
{
	*blob = NULL;
	*size = 0;
	int rc = check_machine(m, err, errlen);
	if (rc)
		return rc;

	for (size_t room = 8192; room <= VMM_FDT_MAX_SIZE; room *= 2) {
		void *buf = malloc(room);
		if (!buf) {
			snprintf(err, errlen, "out of memory for the device tree");
			return -ENOMEM;
		}
		int e = write_tree(m, buf, (int)room);
		if (e == 0) {
			size_t total = fdt_totalsize(buf);
			void *shrunk = realloc(buf, total);
			*blob = shrunk ? shrunk : buf;
			*size = total;
			return 0;
		}
		free(buf);
		if (e == -FDT_ERR_INTERNAL) { /* our own allocations failed */
			snprintf(err, errlen, "out of memory building the device tree");
			return -ENOMEM;
		}
		if (e != -FDT_ERR_NOSPACE) {
			snprintf(err, errlen, "libfdt: %s", fdt_strerror(e));
			return -EINVAL;
		}
	}
	snprintf(err, errlen, "the device tree does not fit in %u bytes", VMM_FDT_MAX_SIZE);
	return -ENOSPC;
}
