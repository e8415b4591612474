/* core/arch-x86.c - the x86 machine's facts the common machine code
 * leaves to its architecture: see core/arch-x86.h.  core/arch-arm64.c is
 * the arm64 side of each.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <vmm/vmm.h>
#include "core/acpi.h"
#include "core/arch-x86.h"
#include "core/boot.h"
#include "core/bus.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/process.h"
#include "core/x86-walk.h"

/* Guest RAM: below the 32-bit MMIO hole, and the rest above 4 GiB. */
#define LOW_RAM_END 0xc0000000ull

void vmm_x86_ram_layout(struct vmm_machine *m)
{
	uint64_t total = m->cfg->memory;
	uint64_t low = total < LOW_RAM_END ? total : LOW_RAM_END;

	m->ram[0].gpa = 0;
	m->ram[0].size = low;
	m->nram = 1;
	if (total > low) {
		m->ram[1].gpa = 0x100000000ull;
		m->ram[1].size = total - low;
		m->nram = 2;
	}
}

/* With irqchip = "split" or "emulated" the IOAPIC window belongs to the
 * ioapic plugin, whose region a clash already names; with "emulated"
 * there is no local APIC. */
void vmm_x86_reserve_mmio(struct vmm_machine *m)
{
	struct vmm_bus_space *mmio = &m->bus[VMM_BUS_MMIO];

	if (m->irq_mode != VMM_IRQ_EMULATED)
		vmm_bus_reserve(mmio, 0xfee00000, 0x100000, "the local APIC window of the hypervisor");
	if (m->irq_mode == VMM_IRQ_KERNEL)
		vmm_bus_reserve(mmio, 0xfec00000, 0x1000, "the IOAPIC window of the hypervisor");
}

/* ACPI tables in the BIOS area, when the machine has an acpi-pm device. */
int vmm_x86_build_acpi(struct vmm_machine *m)
{
	struct vmm_acpi_input in = { m->descs, m->ndescs, m->nvcpus, m->irq_mode != VMM_IRQ_EMULATED };
	uint8_t *mem = vmm_machine_ram(m, VMM_ACPI_BASE, VMM_ACPI_SIZE);
	char err[256];

	if (!mem)
		return 0;
	uint64_t rsdp = 0;
	int rc = vmm_acpi_build(&in, mem, VMM_ACPI_BASE, VMM_ACPI_SIZE, &rsdp, err, sizeof(err));
	if (rc == -ENOENT) {
		vmm_log(VMM_LOG_DEBUG, NULL, "%s", err);
		return 0;
	}
	if (rc) {
		vmm_log(VMM_LOG_ERROR, NULL, "ACPI: %s", err);
		return rc;
	}
	/* The boot protocol points at it too (boot_params / PVH start info). */
	return vmm_boot_set_rsdp(m, rsdp);
}

uint64_t vmm_machine_rsdp(struct vmm_machine *m)
{
	return m->boot_rsdp;
}

/* Write each ACPI table to DIR/<signature>.dat (e.g. for iasl -d). */
int vmm_machine_dump_acpi(struct vmm_machine *m, const char *dir)
{
	uint64_t tables[8];
	unsigned n = 0;
	const uint8_t *rsdp = m->boot_rsdp ? vmm_machine_ram(m, m->boot_rsdp, 36) : NULL;

	if (!rsdp) {
		vmm_log(VMM_LOG_ERROR, NULL, "--dump-acpi: this machine has no ACPI tables "
			"(add an acpi-pm device)");
		return -ENOENT;
	}
	uint64_t xsdt = 0;
	memcpy(&xsdt, rsdp + 24, 8);
	const uint8_t *x = vmm_machine_ram(m, xsdt, 36);
	uint32_t xlen = 0;
	if (x)
		memcpy(&xlen, x + 4, 4);
	tables[n++] = xsdt;
	for (uint32_t off = 36; x && off + 8 <= xlen && n < 6; off += 8) {
		uint64_t t;
		memcpy(&t, x + off, 8);
		tables[n++] = t;
		const uint8_t *tp = vmm_machine_ram(m, t, 36);
		if (tp && memcmp(tp, "FACP", 4) == 0) {
			uint64_t dsdt;
			memcpy(&dsdt, tp + 140, 8);
			tables[n++] = dsdt;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *t = vmm_machine_ram(m, tables[i], 36);
		uint32_t len;
		char path[4200];
		if (!t)
			continue;
		memcpy(&len, t + 4, 4);
		t = vmm_machine_ram(m, tables[i], len);
		if (!t)
			continue;
		snprintf(path, sizeof(path), "%s/%.4s.dat", dir, (const char *)t);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(t, 1, len, f) != len) {
			vmm_log(VMM_LOG_ERROR, NULL, "--dump-acpi: cannot write %s: %s", path, strerror(errno));
			if (f)
				fclose(f);
			return -EIO;
		}
		fclose(f);
	}
	return 0;
}

void vmm_x86_log_crash(struct vmm_machine *m, void *vcpu, unsigned index, const char *what)
{
	struct vmm_x86_regs r;
	if (m->hv_ops->vcpu_get_regs && VMM_AS(HV_WHO(m), m->hv_ops->vcpu_get_regs(vcpu, &r)) == 0)
		vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u: %s at rip 0x%" PRIx64 " (rsp 0x%" PRIx64 ")",
			index, what, r.rip, r.rsp);
	else
		vmm_log(VMM_LOG_ERROR, NULL, "vCPU %u: %s", index, what);
}

static int phys_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	void *p = vmm_machine_ram(ctx, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

/* What the hypervisor could not emulate, as " on the bytes 0f 0b ...": the
 * instruction at CS:RIP read from guest memory through the vCPU's mode and
 * page tables (any hypervisor, no new exit field), so an author sees what
 * their guest did.  "" when the bytes cannot be found. */
void vmm_x86_code_bytes_at_rip(struct vmm_machine *m, void *vcpu, char *out, size_t len)
{
	struct vmm_x86_regs r;
	struct vmm_x86_sregs sr;
	uint8_t code[15]; /* the longest x86 instruction */

	out[0] = '\0';
	if (!m->hv_ops->vcpu_get_regs || !m->hv_ops->vcpu_get_sregs ||
	    VMM_AS(HV_WHO(m), m->hv_ops->vcpu_get_regs(vcpu, &r)) != 0 ||
	    VMM_AS(HV_WHO(m), m->hv_ops->vcpu_get_sregs(vcpu, &sr)) != 0)
		return;
	int n = vmm_x86_code_bytes(&sr, r.rip, phys_read, m, code, sizeof(code));
	size_t o = (size_t)snprintf(out, len, "%s", n > 0 ? " on the bytes" : "");
	for (int i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, " %02x", code[i]);
}
