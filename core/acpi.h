/* core/acpi.h - ACPI tables built from the devices' own descriptions.
 *
 * Devices describe themselves with h->describe() (vmm/host.h); this module
 * turns the descriptions into RSDP, XSDT/RSDT, FADT, FACS, MADT and a DSDT
 * whose AML has one Device per described device.  It knows nothing of
 * plugins or KVM, so tests drive it with plain arrays.
 *
 * Error convention: 0 or a negative errno; `err` holds one line.
 */
#ifndef VMM_CORE_ACPI_H
#define VMM_CORE_ACPI_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <vmm/host.h>

/* Where the tables go: the legacy BIOS area, where an OS also finds the
 * RSDP by scanning (ACPI 6.5, 5.2.5.1), and which the e820 map reserves. */
#define VMM_ACPI_BASE 0xe0000ull
#define VMM_ACPI_SIZE 0x20000ull

struct vmm_acpi_input {
	const struct vmm_device_desc *descs; /* deep copies owned by the caller */
	size_t ndescs;
	unsigned nvcpus;
	bool local_apics; /* split/kernel modes: a MADT with one local APIC per vCPU */
};

/* Write the tables into `mem`, which is guest memory at `gpa` with `room`
 * bytes.  -ENOENT when there is no VMM_DESC_ACPI_PM description: without
 * PM1 registers there is no FADT an OS could use, so no tables at all. */
int vmm_acpi_build(const struct vmm_acpi_input *in, uint8_t *mem, uint64_t gpa, size_t room,
		   uint64_t *rsdp, char *err, size_t errlen);

/* AML pieces, exposed for unit tests. */
struct aml_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};
void aml_free(struct aml_buf *b);
/* PkgLength of `content_len` bytes that follow it (ACPI 6.5, 20.2.4). */
size_t aml_pkglength(uint8_t out[4], size_t content_len);
/* EisaId("PNP0501") as the 32-bit value AML stores; -EINVAL if malformed. */
int aml_eisaid(const char *id, uint32_t *out);
/* The _CRS resource template bytes for `res` (ACPI 6.5, 6.4). */
int aml_resource_template(struct aml_buf *b, const struct vmm_resource *res, uint32_t nres);

#endif
