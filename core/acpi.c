/* core/acpi.c - ACPI tables from device descriptions (see acpi.h).
 *
 * Section numbers are ACPI 6.5.  Everything is little-endian and packed;
 * tables are written field by field at explicit offsets rather than through
 * C structs, so layout never depends on the compiler.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/acpi.h"

#define OEM_ID "VMMVMM"       /* 6 bytes */
#define OEM_TABLE_ID "VMM     " /* 8 bytes */
#define CREATOR_ID "VMM "     /* 4 bytes */

/* ------------------------------------------------------------- bytes */

static void put8(uint8_t *p, uint8_t v) { p[0] = v; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

/* ----------------------------------------------------------- AML buffer */

static void aml_bytes(struct aml_buf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 256;
		while (ncap < b->len + n)
			ncap *= 2;
		uint8_t *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void aml_byte(struct aml_buf *b, uint8_t v)
{
	aml_bytes(b, &v, 1);
}

void aml_free(struct aml_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* 20.2.4: one to four bytes; the length counts the PkgLength itself. */
size_t aml_pkglength(uint8_t out[4], size_t content_len)
{
	if (content_len + 1 < 0x40) {
		out[0] = (uint8_t)(content_len + 1);
		return 1;
	}
	for (size_t n = 2; n <= 4; n++) {
		size_t total = content_len + n;
		if (total < (1u << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
			for (size_t i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0; /* over 256 MiB: never for our tables */
}

/* An opcode, a PkgLength and `body` (a finished buffer). */
static void aml_package(struct aml_buf *b, const uint8_t *op, size_t oplen, const struct aml_buf *body)
{
	uint8_t pl[4];
	size_t n = aml_pkglength(pl, body->len);
	aml_bytes(b, op, oplen);
	aml_bytes(b, pl, n);
	aml_bytes(b, body->p, body->len);
	if (body->oom)
		b->oom = true;
}

/* 20.2.3 integers, shortest form. */
static void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t t[9];
	if (v == 0) {
		aml_byte(b, 0x00); /* ZeroOp */
	} else if (v == 1) {
		aml_byte(b, 0x01); /* OneOp */
	} else if (v <= 0xff) {
		t[0] = 0x0a;
		t[1] = (uint8_t)v;
		aml_bytes(b, t, 2);
	} else if (v <= 0xffff) {
		t[0] = 0x0b;
		put16(t + 1, (uint16_t)v);
		aml_bytes(b, t, 3);
	} else if (v <= 0xffffffff) {
		t[0] = 0x0c;
		put32(t + 1, (uint32_t)v);
		aml_bytes(b, t, 5);
	} else {
		t[0] = 0x0e;
		put64(t + 1, v);
		aml_bytes(b, t, 9);
	}
}

static void aml_string(struct aml_buf *b, const char *s)
{
	aml_byte(b, 0x0d); /* StringPrefix */
	aml_bytes(b, s, strlen(s) + 1);
}

/* A NameSeg: four characters, '_'-padded. */
static void aml_nameseg(struct aml_buf *b, const char *seg)
{
	char s[4] = { '_', '_', '_', '_' };
	for (int i = 0; i < 4 && seg[i]; i++)
		s[i] = seg[i];
	aml_bytes(b, s, 4);
}

int aml_eisaid(const char *id, uint32_t *out)
{
	if (strlen(id) != 7)
		return -EINVAL;
	uint32_t vendor = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		vendor = (vendor << 5) | (uint32_t)(id[i] - 0x40);
	}
	uint32_t product = 0;
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
		if (d > 15)
			return -EINVAL;
		product = (product << 4) | d;
	}
	/* Both halves are stored big-endian in the little-endian DWord. */
	*out = ((vendor >> 8) & 0xff) | ((vendor & 0xff) << 8) | ((product >> 8) & 0xff) << 16 |
	       (product & 0xff) << 24;
	return 0;
}

/* 6.4: small IO and IRQ descriptors where they fit (what ISA devices use),
 * Memory32Fixed and Extended Interrupt otherwise. */
int aml_resource_template(struct aml_buf *b, const struct vmm_resource *res, uint32_t nres)
{
	for (uint32_t i = 0; i < nres; i++) {
		const struct vmm_resource *r = &res[i];
		uint8_t t[16];
		switch (r->type) {
		case VMM_RES_IO:
			if (r->base > 0xffff || r->len == 0 || r->len > 0xff || r->base + r->len > 0x10000)
				return -EINVAL;
			t[0] = 0x47; /* I/O port descriptor, length 7 */
			t[1] = 0x01; /* 16-bit decode */
			put16(t + 2, (uint16_t)r->base);
			put16(t + 4, (uint16_t)r->base);
			t[6] = 1;    /* alignment */
			t[7] = (uint8_t)r->len;
			aml_bytes(b, t, 8);
			break;
		case VMM_RES_MMIO:
			if (r->base > 0xffffffff || r->len == 0 || r->len > 0xffffffff)
				return -EINVAL;
			t[0] = 0x86; /* Memory32Fixed */
			put16(t + 1, 9);
			t[3] = 0x01; /* read-write */
			put32(t + 4, (uint32_t)r->base);
			put32(t + 8, (uint32_t)r->len);
			aml_bytes(b, t, 12);
			break;
		case VMM_RES_IRQ:
			if (r->base < 16 && !(r->flags & (VMM_RES_IRQ_LEVEL | VMM_RES_IRQ_ACTIVE_LOW |
							  VMM_RES_IRQ_SHARED))) {
				t[0] = 0x22; /* IRQNoFlags: edge, active high, exclusive */
				put16(t + 1, (uint16_t)(1u << r->base));
				aml_bytes(b, t, 3);
			} else {
				if (r->base > 0xffffffff)
					return -EINVAL;
				t[0] = 0x89; /* Extended Interrupt */
				put16(t + 1, 6);
				t[3] = 0x01 | /* consumer */
				       ((r->flags & VMM_RES_IRQ_LEVEL) ? 0 : 0x02) |
				       ((r->flags & VMM_RES_IRQ_ACTIVE_LOW) ? 0x04 : 0) |
				       ((r->flags & VMM_RES_IRQ_SHARED) ? 0x08 : 0);
				t[4] = 1;
				put32(t + 5, (uint32_t)r->base);
				aml_bytes(b, t, 9);
			}
			break;
		default:
			return -EINVAL;
		}
	}
	aml_byte(b, 0x79); /* End Tag */
	aml_byte(b, 0x00); /* checksum 0: "treat as correct" */
	return 0;
}

/* Name(_CRS, ResourceTemplate() { ... }) */
static int aml_crs(struct aml_buf *b, const struct vmm_resource *res, uint32_t nres)
{
	struct aml_buf tmpl = { 0 }, body = { 0 };
	int rc = aml_resource_template(&tmpl, res, nres);
	if (rc == 0) {
		aml_integer(&body, tmpl.len); /* BufferSize */
		aml_bytes(&body, tmpl.p, tmpl.len);
		aml_byte(b, 0x08); /* NameOp */
		aml_nameseg(b, "_CRS");
		static const uint8_t buffer_op = 0x11;
		aml_package(b, &buffer_op, 1, &body);
	}
	aml_free(&tmpl);
	aml_free(&body);
	return rc;
}

/* Device(Dnnn) { Name(_HID, ...) Name(_UID, n) Name(_CRS, ...) } */
static int aml_device(struct aml_buf *b, unsigned index, const struct vmm_device_desc *d)
{
	struct aml_buf body = { 0 };
	char seg[5];
	uint32_t eisa;
	int rc = 0;

	snprintf(seg, sizeof(seg), "D%03X", index & 0xfff);
	aml_nameseg(&body, seg);
	aml_byte(&body, 0x08); /* NameOp */
	aml_nameseg(&body, "_HID");
	if (aml_eisaid(d->acpi_hid, &eisa) == 0)
		aml_integer(&body, eisa);
	else
		aml_string(&body, d->acpi_hid);
	aml_byte(&body, 0x08);
	aml_nameseg(&body, "_UID");
	aml_integer(&body, d->acpi_uid);
	if (d->nres)
		rc = aml_crs(&body, d->res, d->nres);
	if (rc == 0) {
		static const uint8_t device_op[2] = { 0x5b, 0x82 }; /* ExtOpPrefix DeviceOp */
		aml_package(b, device_op, 2, &body);
	}
	aml_free(&body);
	return rc;
}

/* ---------------------------------------------------------------- tables */

/* 5.2.6: the header every table except the RSDP and FACS starts with. */
static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	put8(t + 8, rev);
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, 1);           /* OEM revision */
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t + 32, 1);           /* creator revision */
}

static void table_finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* 5.2.3.2: a Generic Address Structure in System I/O space. */
static void gas_io(uint8_t *p, uint8_t bit_width, uint8_t access_size, uint64_t port)
{
	p[0] = 1; /* SystemIO */
	p[1] = bit_width;
	p[2] = 0;
	p[3] = access_size;
	put64(p + 4, port);
}

struct layout {
	uint8_t *mem;
	uint64_t gpa;
	size_t room, used;
};

/* Room for `len` bytes aligned to `align`; NULL when the area is full. */
static uint8_t *alloc_table(struct layout *l, size_t len, size_t align, uint64_t *gpa)
{
	size_t at = (l->used + align - 1) & ~(align - 1);
	if (at + len > l->room)
		return NULL;
	l->used = at + len;
	*gpa = l->gpa + at;
	memset(l->mem + at, 0, len);
	return l->mem + at;
}

#define FADT_LEN 276 /* ACPI 6.x, 5.2.9 */
#define FACS_LEN 64

int vmm_acpi_build(const struct vmm_acpi_input *in, uint8_t *mem, uint64_t gpa, size_t room,
		   uint64_t *rsdp_out, char *err, size_t errlen)
{
	const struct vmm_device_desc *pm = NULL, *ioapic = NULL, *rtc = NULL;
	bool pic = false, i8042 = false;
	struct layout l = { mem, gpa, room, 0 };
	struct aml_buf body = { 0 }, dsdt_aml = { 0 };
	int rc = 0;

	for (size_t i = 0; i < in->ndescs; i++) {
		const struct vmm_device_desc *d = &in->descs[i];
		switch (d->kind) {
		case VMM_DESC_ACPI_PM: pm = d; break;
		case VMM_DESC_IOAPIC: ioapic = d; break;
		case VMM_DESC_PIC: pic = true; break;
		case VMM_DESC_I8042: i8042 = true; break;
		case VMM_DESC_RTC: rtc = d; break;
		default: break;
		}
	}
	if (!pm) {
		snprintf(err, errlen, "no acpi-pm device: no ACPI tables");
		return -ENOENT;
	}
	if (pm->nres < 2 || pm->res[0].type != VMM_RES_IO || pm->res[0].len < 13 ||
	    pm->res[1].type != VMM_RES_IRQ) {
		snprintf(err, errlen, "acpi-pm description needs an I/O block of 13+ ports and the SCI");
		return -EINVAL;
	}
	uint64_t pm_base = pm->res[0].base;
	uint32_t sci = (uint32_t)pm->res[1].base;

	/* RSDP first: 16-byte aligned in the BIOS area, where a scan finds it. */
	uint64_t rsdp_gpa, xsdt_gpa, rsdt_gpa, fadt_gpa, facs_gpa, dsdt_gpa, madt_gpa = 0;
	uint8_t *rsdp = alloc_table(&l, 36, 16, &rsdp_gpa);
	uint8_t *facs = alloc_table(&l, FACS_LEN, 64, &facs_gpa); /* 5.2.10: 64-byte aligned */
	if (!rsdp || !facs)
		goto out_full;

	/* DSDT: \_SB_ holds one Device per description with an _HID. */
	unsigned index = 0;
	for (size_t i = 0; i < in->ndescs && rc == 0; i++) {
		const struct vmm_device_desc *d = &in->descs[i];
		if (d->acpi_hid && (d->kind == VMM_DESC_DEVICE || d->kind == VMM_DESC_RTC ||
				    d->kind == VMM_DESC_I8042 || d->kind == VMM_DESC_PIC))
			rc = aml_device(&body, index++, d);
	}
	if (rc) {
		snprintf(err, errlen, "a device description has a resource ACPI cannot express");
		goto out_free;
	}
	{
		struct aml_buf scope = { 0 };
		static const uint8_t root_sb[5] = { '\\', '_', 'S', 'B', '_' };
		aml_bytes(&scope, root_sb, 5);
		aml_bytes(&scope, body.p, body.len);
		static const uint8_t scope_op = 0x10;
		aml_package(&dsdt_aml, &scope_op, 1, &scope);
		aml_free(&scope);
		/* Name(\_S5_, Package() { 5, 5, 0, 0 }): the SLP_TYP acpi-pm
		 * takes for power off (7.4.2). */
		static const uint8_t s5_name[6] = { 0x08, '\\', '_', 'S', '5', '_' };
		static const uint8_t s5_pkg[] = { 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
		struct aml_buf pkg = { 0 };
		aml_bytes(&pkg, s5_pkg, sizeof(s5_pkg));
		aml_bytes(&dsdt_aml, s5_name, sizeof(s5_name));
		static const uint8_t package_op = 0x12;
		aml_package(&dsdt_aml, &package_op, 1, &pkg);
		aml_free(&pkg);
	}
	if (dsdt_aml.oom || body.oom) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory building the DSDT");
		goto out_free;
	}
	uint32_t dsdt_len = (uint32_t)(36 + dsdt_aml.len);
	uint8_t *dsdt = alloc_table(&l, dsdt_len, 8, &dsdt_gpa);
	if (!dsdt)
		goto out_full;
	table_header(dsdt, "DSDT", dsdt_len, 2);
	memcpy(dsdt + 36, dsdt_aml.p, dsdt_aml.len);
	table_finish(dsdt, dsdt_len);

	/* FACS (5.2.10): no waking vector, no global lock users. */
	memcpy(facs, "FACS", 4);
	put32(facs + 4, FACS_LEN);
	put8(facs + 32, 2); /* version */

	/* FADT (5.2.9). */
	uint8_t *fadt = alloc_table(&l, FADT_LEN, 8, &fadt_gpa);
	if (!fadt)
		goto out_full;
	table_header(fadt, "FACP", FADT_LEN, 6);
	put32(fadt + 36, (uint32_t)facs_gpa);
	put32(fadt + 40, (uint32_t)dsdt_gpa);
	put16(fadt + 46, (uint16_t)sci);
	put32(fadt + 48, 0);                  /* no SMI_CMD: ACPI is always enabled */
	put32(fadt + 56, (uint32_t)pm_base);  /* PM1a_EVT_BLK */
	put32(fadt + 64, (uint32_t)pm_base + 4);  /* PM1a_CNT_BLK */
	put32(fadt + 76, (uint32_t)pm_base + 8);  /* PM_TMR_BLK */
	put8(fadt + 88, 4);                   /* PM1_EVT_LEN */
	put8(fadt + 89, 2);                   /* PM1_CNT_LEN */
	put8(fadt + 91, 4);                   /* PM_TMR_LEN */
	put16(fadt + 96, 101);                /* P_LVL2_LAT > 100: no C2 */
	put16(fadt + 98, 1001);               /* P_LVL3_LAT > 1000: no C3 */
	put8(fadt + 108, rtc ? (uint8_t)rtc->century : 0);
	/* IAPC_BOOT_ARCH (5.2.9.3): legacy devices, 8042, no VGA, no CMOS RTC. */
	put16(fadt + 109, (uint16_t)(0x01 | (i8042 ? 0x02 : 0) | 0x04 | (rtc ? 0 : 0x20)));
	/* Flags (table 5.10): WBINVD, PROC_C1, SLP_BUTTON (set with no
	 * PNP0C0E device: no sleep button), TMR_VAL_EXT (32-bit PM timer),
	 * RESET_REG_SUP.  PWR_BUTTON (bit 4) is clear and the DSDT has no
	 * PNP0C0C device: the power button is acpi-pm's fixed-feature one,
	 * PWRBTN_STS/PWRBTN_EN in PM1 (4.8.3.1.1). */
	put32(fadt + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 8) | (1u << 10));
	gas_io(fadt + 116, 8, 1, pm_base + 12); /* RESET_REG */
	put8(fadt + 128, 1);                  /* RESET_VALUE */
	put8(fadt + 131, 0);                  /* minor revision */
	put64(fadt + 132, facs_gpa);          /* X_FIRMWARE_CTRL */
	put64(fadt + 140, dsdt_gpa);          /* X_DSDT */
	gas_io(fadt + 148, 32, 2, pm_base);     /* X_PM1a_EVT_BLK */
	gas_io(fadt + 172, 16, 2, pm_base + 4); /* X_PM1a_CNT_BLK */
	gas_io(fadt + 208, 32, 3, pm_base + 8); /* X_PM_TMR_BLK */
	memcpy(fadt + 268, "VMMVMMVM", 8);    /* hypervisor vendor identity */
	table_finish(fadt, FADT_LEN);

	/* MADT (5.2.12) when there are local APICs. */
	if (in->local_apics) {
		uint32_t madt_len = 44 + 8 * in->nvcpus + (ioapic ? 12 : 0) + 10 + 6;
		uint8_t *madt = alloc_table(&l, madt_len, 8, &madt_gpa);
		if (!madt)
			goto out_full;
		table_header(madt, "APIC", madt_len, 5);
		put32(madt + 36, 0xfee00000);   /* local APIC address */
		put32(madt + 40, pic ? 1 : 0);  /* PCAT_COMPAT: an 8259 pair to mask */
		uint8_t *e = madt + 44;
		for (unsigned i = 0; i < in->nvcpus; i++, e += 8) {
			e[0] = 0;            /* Processor Local APIC */
			e[1] = 8;
			e[2] = (uint8_t)i;   /* ACPI processor UID */
			e[3] = (uint8_t)i;   /* APIC ID: the kvm plugin sets it to the index */
			put32(e + 4, 1);     /* enabled */
		}
		if (ioapic) {
			e[0] = 1;            /* I/O APIC */
			e[1] = 12;
			e[2] = (uint8_t)ioapic->apic_id;
			e[3] = 0;
			put32(e + 4, ioapic->nres ? (uint32_t)ioapic->res[0].base : 0xfec00000);
			put32(e + 8, ioapic->gsi_base);
			e += 12;
		}
		/* The SCI is level-triggered, active high on this machine
		 * (5.2.12.5); without this override an OS assumes active low
		 * and an idle line would look asserted forever. */
		e[0] = 2;
		e[1] = 10;
		e[2] = 0;                    /* ISA */
		e[3] = (uint8_t)sci;
		put32(e + 4, sci);
		put16(e + 8, 0x000d);        /* active high (01), level (11 << 2) */
		e += 10;
		e[0] = 4;                    /* Local APIC NMI: LINT1 of every CPU */
		e[1] = 6;
		e[2] = 0xff;
		put16(e + 3, 0x0005);        /* active high, edge */
		e[5] = 1;
		table_finish(madt, madt_len);
	}

	/* XSDT and RSDT (5.2.8, 5.2.7). */
	unsigned nent = madt_gpa ? 2 : 1;
	uint64_t ent[2] = { fadt_gpa, madt_gpa };
	uint8_t *xsdt = alloc_table(&l, 36 + 8 * nent, 8, &xsdt_gpa);
	uint8_t *rsdt = alloc_table(&l, 36 + 4 * nent, 8, &rsdt_gpa);
	if (!xsdt || !rsdt)
		goto out_full;
	table_header(xsdt, "XSDT", 36 + 8 * nent, 1);
	table_header(rsdt, "RSDT", 36 + 4 * nent, 1);
	for (unsigned i = 0; i < nent; i++) {
		put64(xsdt + 36 + 8 * i, ent[i]);
		put32(rsdt + 36 + 4 * i, (uint32_t)ent[i]);
	}
	table_finish(xsdt, 36 + 8 * nent);
	table_finish(rsdt, 36 + 4 * nent);

	/* RSDP (5.2.5.3), revision 2. */
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	put8(rsdp + 15, 2);
	put32(rsdp + 16, (uint32_t)rsdt_gpa);
	put32(rsdp + 20, 36);
	put64(rsdp + 24, xsdt_gpa);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, 36);
	*rsdp_out = rsdp_gpa;
	rc = 0;
	goto out_free;

out_full:
	snprintf(err, errlen, "ACPI tables do not fit in %zu bytes", room);
	rc = -ENOSPC;
out_free:
	aml_free(&body);
	aml_free(&dsdt_aml);
	return rc;
}
