/* ACPI builder tests: AML encodings against the spec's byte layouts, and
 * whole table sets checked the way an OS reads them (signatures, lengths,
 * checksums, links). */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/acpi.h"

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static void test_pkglength(void **state)
{
	uint8_t b[4];
	/* 20.2.4: one byte up to 63 in total, then 2 bytes with the low nibble first */
	assert_int_equal(aml_pkglength(b, 0), 1);
	assert_int_equal(b[0], 1);
	assert_int_equal(aml_pkglength(b, 62), 1);
	assert_int_equal(b[0], 63);
	assert_int_equal(aml_pkglength(b, 63), 2);
	assert_int_equal(b[0], 0x40 | (65 & 0xf));
	assert_int_equal(b[1], 65 >> 4);
	assert_int_equal(aml_pkglength(b, 4093), 2);  /* 4095 total */
	assert_int_equal(aml_pkglength(b, 4094), 3);
	assert_int_equal(b[0], 0x80 | (4097 & 0xf));
	assert_int_equal(b[1], (4097 >> 4) & 0xff);
	assert_int_equal(b[2], 4097 >> 12);
}

static void test_eisaid(void **state)
{
	uint32_t v;
	assert_int_equal(aml_eisaid("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105d041); /* what iasl emits for EisaId("PNP0501") */
	assert_int_equal(aml_eisaid("PNP0B00", &v), 0);
	assert_int_equal(v, 0x000bd041);
	assert_int_equal(aml_eisaid("LNRO0005", &v), -EINVAL); /* 8 chars: a string _HID */
	assert_int_equal(aml_eisaid("pnp0501", &v), -EINVAL);
	assert_int_equal(aml_eisaid("PNP05G1", &v), -EINVAL);
}

static void test_resource_templates(void **state)
{
	const struct vmm_resource isa[] = {
		{ .type = VMM_RES_IO, .base = 0x3f8, .len = 8 },
		{ .type = VMM_RES_IRQ, .base = 4 },
	};
	static const uint8_t isa_bytes[] = {
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* IO(Decode16, 0x3f8, 0x3f8, 1, 8) */
		0x22, 0x10, 0x00,                               /* IRQNoFlags() {4} */
		0x79, 0x00,                                     /* End Tag */
	};
	struct aml_buf b = { 0 };
	assert_int_equal(aml_resource_template(&b, isa, 2), 0);
	assert_int_equal(b.len, sizeof(isa_bytes));
	assert_memory_equal(b.p, isa_bytes, sizeof(isa_bytes));
	aml_free(&b);

	const struct vmm_resource virtio[] = {
		{ .type = VMM_RES_MMIO, .base = 0xd0000000, .len = 0x200 },
		{ .type = VMM_RES_IRQ, .base = 5, .flags = VMM_RES_IRQ_LEVEL },
	};
	static const uint8_t virtio_bytes[] = {
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00, /* Memory32Fixed */
		0x89, 0x06, 0x00, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00, /* Interrupt(Consumer, Level, High, Excl) {5} */
		0x79, 0x00,
	};
	assert_int_equal(aml_resource_template(&b, virtio, 2), 0);
	assert_memory_equal(b.p, virtio_bytes, sizeof(virtio_bytes));
	aml_free(&b);

	const struct vmm_resource bad[] = { { .type = VMM_RES_IO, .base = 0xfffe, .len = 8 } };
	assert_int_equal(aml_resource_template(&b, bad, 1), -EINVAL);
	aml_free(&b);
}

/* A PC: acpi-pm, uart, ioapic, pic, rtc, i8042. */
static const struct vmm_resource pm_res[] = {
	{ .type = VMM_RES_IO, .base = 0x600, .len = 16 },
	{ .type = VMM_RES_IRQ, .base = 9, .flags = VMM_RES_IRQ_LEVEL },
};
static const struct vmm_resource uart_res[] = {
	{ .type = VMM_RES_IO, .base = 0x3f8, .len = 8 },
	{ .type = VMM_RES_IRQ, .base = 4 },
};
static const struct vmm_resource ioapic_res[] = { { .type = VMM_RES_MMIO, .base = 0xfec00000, .len = 0x100 } };
static const struct vmm_device_desc pc[] = {
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_ACPI_PM, .res = pm_res, .nres = 2 },
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_DEVICE, .acpi_hid = "PNP0501",
	  .acpi_uid = 1, .res = uart_res, .nres = 2 },
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_IOAPIC, .res = ioapic_res, .nres = 1,
	  .apic_id = 2 },
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_PIC },
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_RTC, .century = 0x32 },
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_DEVICE, .acpi_hid = "LNRO0005",
	  .acpi_uid = 0, .res = NULL, .nres = 0 },
};

#define GPA 0xe0000ull
static uint8_t mem[0x20000];

static const uint8_t *at(uint64_t gpa, size_t len)
{
	assert_true(gpa >= GPA && gpa + len <= GPA + sizeof(mem));
	return mem + (gpa - GPA);
}

static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = at(gpa, 36);
	assert_memory_equal(t, sig, 4);
	uint32_t len = rd32(t + 4);
	at(gpa, len);
	assert_int_equal(sum(t, len), 0);
	return t;
}

static void test_pc_tables(void **state)
{
	struct vmm_acpi_input in = { pc, sizeof(pc) / sizeof(pc[0]), 2, true };
	uint64_t rsdp_gpa = 0;
	char err[256];

	assert_int_equal(vmm_acpi_build(&in, mem, GPA, sizeof(mem), &rsdp_gpa, err, sizeof(err)), 0);
	assert_int_equal(rsdp_gpa % 16, 0);
	const uint8_t *rsdp = at(rsdp_gpa, 36);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(sum(rsdp, 20), 0);
	assert_int_equal(sum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);

	const uint8_t *xsdt = table(rd64(rsdp + 24), "XSDT");
	const uint8_t *rsdt = table(rd32(rsdp + 16), "RSDT");
	assert_int_equal(rd32(xsdt + 4), 36 + 16);
	assert_int_equal(rd32(rsdt + 36), (uint32_t)rd64(xsdt + 36));

	const uint8_t *fadt = table(rd64(xsdt + 36), "FACP");
	assert_int_equal(rd32(fadt + 4), 276);
	assert_int_equal(fadt[46], 9);                   /* SCI */
	assert_int_equal(rd32(fadt + 64), 0x604);        /* PM1a_CNT_BLK */
	assert_int_equal(rd32(fadt + 76), 0x608);        /* PM_TMR_BLK */
	assert_int_equal(fadt[108], 0x32);               /* century */
	assert_int_equal(rd64(fadt + 116 + 4), 0x60c);   /* RESET_REG address */
	/* Flags (table 5.10): PWR_BUTTON (bit 4) clear, the fixed-feature
	 * power button of acpi-pm; SLP_BUTTON (bit 5) set, no sleep button. */
	assert_int_equal(rd32(fadt + 112) & (1u << 4), 0);
	assert_int_equal(rd32(fadt + 112) & (1u << 5), 1u << 5);
	const uint8_t *facs = at(rd64(fadt + 132), 64);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(rd64(fadt + 132) % 64, 0);
	const uint8_t *dsdt = table(rd64(fadt + 140), "DSDT");
	assert_int_equal(rd32(fadt + 40), (uint32_t)rd64(fadt + 140));

	/* The DSDT holds the UART's _HID as EisaId and the virtio one as a string. */
	uint32_t len = rd32(dsdt + 4);
	static const uint8_t pnp0501[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	assert_non_null(memmem(dsdt, len, pnp0501, sizeof(pnp0501)));
	assert_non_null(memmem(dsdt, len, "\x0dLNRO0005", 10));
	assert_non_null(memmem(dsdt, len, "_S5_", 4));

	const uint8_t *madt = table(rd64(xsdt + 44), "APIC");
	assert_int_equal(rd32(madt + 40), 1);            /* PCAT_COMPAT: there is a PIC */
	unsigned lapics = 0, ioapics = 0, isos = 0;
	for (uint32_t off = 44; off < rd32(madt + 4); off += madt[off + 1]) {
		assert_true(madt[off + 1] > 0);
		if (madt[off] == 0)
			lapics++;
		if (madt[off] == 1) {
			ioapics++;
			assert_int_equal(madt[off + 2], 2);
			assert_int_equal(rd32(madt + off + 4), 0xfec00000);
		}
		if (madt[off] == 2) {
			isos++;
			assert_int_equal(madt[off + 3], 9);
			/* The SCI: GSI 9, active high (01), level (11 << 2). */
			assert_int_equal(rd32(madt + off + 4), 9);
			assert_int_equal(madt[off + 8] | madt[off + 9] << 8, 0x000d);
		}
	}
	assert_int_equal(lapics, 2);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
}

static void test_no_madt_without_local_apics(void **state)
{
	struct vmm_acpi_input in = { pc, 2, 1, false };
	uint64_t rsdp_gpa;
	char err[256];

	assert_int_equal(vmm_acpi_build(&in, mem, GPA, sizeof(mem), &rsdp_gpa, err, sizeof(err)), 0);
	const uint8_t *xsdt = table(rd64(at(rsdp_gpa, 36) + 24), "XSDT");
	assert_int_equal(rd32(xsdt + 4), 36 + 8); /* the FADT only */
}

static void test_refusals(void **state)
{
	struct vmm_acpi_input none = { pc + 1, 1, 1, false };
	struct vmm_acpi_input in = { pc, 2, 1, false };
	uint64_t rsdp_gpa;
	char err[256];

	assert_int_equal(vmm_acpi_build(&none, mem, GPA, sizeof(mem), &rsdp_gpa, err, sizeof(err)), -ENOENT);
	assert_int_equal(vmm_acpi_build(&in, mem, GPA, 200, &rsdp_gpa, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "do not fit"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglength),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_resource_templates),
		cmocka_unit_test(test_pc_tables),
		cmocka_unit_test(test_no_madt_without_local_apics),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
