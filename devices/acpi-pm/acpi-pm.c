/* acpi-pm: the ACPI fixed hardware of a PC, enough for an OS to power off,
 * reset and keep time (ACPI 6.5, 4.8).
 *
 * One block of I/O ports (the layout VMM_DESC_ACPI_PM promises the core's
 * FADT): PM1a_EVT at +0 (PM1_STS, PM1_EN), PM1a_CNT at +4, the PM timer at
 * +8 and the FADT's reset register at +12.  Writing SLP_TYP = 5 (the DSDT's
 * \_S5) with SLP_EN powers the machine off: vmmctl exits with status 0.
 *
 * One event: the fixed-feature power button (ACPI 6.5, 4.8.3.1.1.1; the
 * core's FADT clears PWR_BUTTON, table 5.10, and the DSDT has no PNP0C0C
 * device: together "fixed hardware power button", 4.8.3.1.1).  The core's
 * power_button op (ABI 1.16) sets PWRBTN_STS, and the SCI follows the rule
 * of 4.8.4.1.1 (table 4.11): it is held high while any status bit with an
 * enable bit in PM1_EN (4.8.4.1.2, table 4.12) is set together with that
 * enable, and drops when OSPM clears the status (write 1 to clear) or the
 * enable.  (ACPI 6.0 numbered these 4.8.2.2.1 and 4.8.3.1.)
 */
#include <errno.h>
#include <stdlib.h>
#include <vmm/vmm.h>
#include "devices/model-glue/state-fields.h"

#define PM_EVT 0x0          /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define PM_CNT 0x4          /* PM1_CNT (2 bytes) */
#define PM_TMR 0x8          /* PM_TMR (4 bytes) */
#define PM_RESET 0xc        /* reset register (1 byte) */
#define PM_NR_PORTS 16

#define PM1_CNT_SCI_EN (1u << 0)   /* always set: no SMI_CMD, ACPI is always on */
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7)
#define PM1_CNT_SLP_EN (1u << 13)  /* write-only */
#define SLP_TYP_S5 5              /* matches Name(\_S5_, Package() { 5, 5, 0, 0 }) */
#define PM1_STS_TMR (1u << 0)
#define PM1_STS_PWRBTN (1u << 8)  /* table 4.11; its enable is PM1_EN bit 8, table 4.12 */
#define PM1_STS_WAK (1u << 15)
/* The status bits PM1_EN enables at the same position (table 4.12: TMR,
 * GBL, PWRBTN, SLPBTN, RTC).  Only PWRBTN is ever set here: the timer's
 * carry event (TMR_STS, 4.8.3.3) is not modelled, so a guest that sets
 * TMR_EN gets no SCI from it; the others have no source.  A status bit
 * restored from a snapshot follows the same rule.  WAK_STS and BM_STS have
 * no enable and never raise the SCI. */
#define PM1_SCI_EVENTS 0x0721u
/* The status bits ACPI 6.5 defines (table 4.11: TMR, BM, GBL, PWRBTN,
 * SLPBTN, RTC, PCIEXP_WAKE, WAK); the others are reserved. */
#define PM1_STS_DEFINED 0xc731u
#define PM_TIMER_HZ 3579545ull     /* 4.8.3.3 */

struct acpi_pm {
	const struct vmm_host *h;
	struct vmm_irq_line *sci;
	uint16_t sts, en, cnt;
	int sci_level; /* what sci last got from irq_set() */
};

/* The SCI is level-triggered (the MADT's override says so, core/acpi.c):
 * it stays high as long as an enabled event is pending (table 4.11: "while
 * PWRBTN_EN and PWRBTN_STS are both set, an interrupt event is raised"),
 * so the guest's write-1-to-clear, not its EOI, ends it. */
static void pm_update_sci(struct acpi_pm *p)
{
	int level = (p->sts & p->en & PM1_SCI_EVENTS) != 0;

	if (level != p->sci_level) {
		p->sci_level = level;
		p->h->irq_set(p->h, p->sci, level);
	}
}

static uint32_t pm_timer(struct acpi_pm *p)
{
	/* The 32-bit counter (TMR_VAL_EXT) on the virtual clock. */
	uint64_t ns = p->h->clock_ns(p->h);
	return (uint32_t)((unsigned __int128)ns * PM_TIMER_HZ / 1000000000ull);
}

static int pm_read(void *opaque, unsigned vcpu, uint64_t off, unsigned len, uint64_t *value)
{
	struct acpi_pm *p = opaque;
	uint64_t v;

	if (off >= PM_TMR && off < PM_TMR + 4)
		v = (uint64_t)pm_timer(p) >> (8 * (off - PM_TMR));
	else if (off >= PM_CNT && off < PM_CNT + 2)
		v = (uint64_t)(p->cnt | PM1_CNT_SCI_EN) >> (8 * (off - PM_CNT));
	else if (off < 2)
		v = (uint64_t)p->sts >> (8 * off);
	else if (off < 4)
		v = (uint64_t)p->en >> (8 * (off - 2));
	else
		v = 0;
	*value = v & (len >= 8 ? ~0ull : (1ull << (8 * len)) - 1);
	return 0;
}

static int pm_write(void *opaque, unsigned vcpu, uint64_t off, unsigned len, uint64_t value)
{
	struct acpi_pm *p = opaque;

	if (off == PM_EVT && len >= 2) {
		p->sts &= (uint16_t)~value; /* write 1 to clear; a 0 leaves the bit */
		if (len == 4)
			p->en = (uint16_t)(value >> 16);
		pm_update_sci(p);
	} else if (off == PM_EVT + 2 && len == 2) {
		/* An event latched while disabled raises the SCI as soon as
		 * its enable is set (the status bit is sticky). */
		p->en = (uint16_t)value;
		pm_update_sci(p);
	} else if (off == PM_CNT && len >= 2) {
		p->cnt = (uint16_t)(value & ~PM1_CNT_SLP_EN);
		if ((value & PM1_CNT_SLP_EN) && PM1_CNT_SLP_TYP(value) == SLP_TYP_S5) {
			p->h->log(p->h, VMM_LOG_INFO, "guest entered S5: power off");
			p->h->machine_stop(p->h, VMM_STOP_POWEROFF, 0);
		} else if (value & PM1_CNT_SLP_EN) {
			/* S1-S4 are not offered (no _S1.._S4 objects). */
			p->h->log(p->h, VMM_LOG_GUEST_ERROR, "sleep type %u is not supported",
				  (unsigned)PM1_CNT_SLP_TYP(value));
			p->sts |= PM1_STS_WAK;
		}
	} else if (off == PM_RESET && len == 1) {
		if ((value & 0xff) == 1)
			p->h->machine_stop(p->h, VMM_STOP_RESET, 0);
	} else {
		p->h->log(p->h, VMM_LOG_GUEST_ERROR, "write of %u bytes at +0x%x ignored", len,
			  (unsigned)off);
	}
	return 0;
}

static const struct vmm_region_ops pm_region = {
	.size = sizeof(struct vmm_region_ops),
	.access_sizes = VMM_ACCESS_1 | VMM_ACCESS_2 | VMM_ACCESS_4,
	.read = pm_read,
	.write = pm_write,
};

static int pm_create(const struct vmm_host *h, void **state)
{
	int64_t base, sci;
	struct acpi_pm *p;
	int rc;

	if (h->size < offsetof(struct vmm_host, describe) + sizeof(h->describe) || !h->describe) {
		h->log(h, VMM_LOG_ERROR, "this vmm cannot describe devices to the firmware (needs ABI 1.1)");
		return -ENOTSUP;
	}
	h->prop_int(h, "base", &base);
	h->prop_int(h, "sci", &sci);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->h = h;
	p->sci = h->irq_line(h, (uint32_t)sci);
	if (!p->sci) {
		h->log(h, VMM_LOG_ERROR, "cannot get SCI line %lld", (long long)sci);
		rc = -EINVAL;
		goto out_free;
	}
	rc = h->bus_map(h, VMM_BUS_PIO, (uint64_t)base, PM_NR_PORTS, &pm_region, p);
	if (rc)
		goto out_free;
	const struct vmm_resource res[] = {
		{ .type = VMM_RES_IO, .base = (uint64_t)base, .len = PM_NR_PORTS },
		{ .type = VMM_RES_IRQ, .base = (uint64_t)sci, .flags = VMM_RES_IRQ_LEVEL },
	};
	const struct vmm_device_desc d = { .size = sizeof(d), .kind = VMM_DESC_ACPI_PM,
					   .res = res, .nres = 2 };
	rc = h->describe(h, &d);
	if (rc)
		goto out_unmap;
	*state = p;
	return 0;

out_unmap:
	h->bus_unmap(h, VMM_BUS_PIO, (uint64_t)base);
out_free:
	free(p);
	return rc;
}

static void pm_destroy(void *state)
{
	free(state);
}

static void pm_reset(void *state)
{
	struct acpi_pm *p = state;
	p->sts = p->en = p->cnt = 0;
	pm_update_sci(p);
}

/* ABI 1.16: the machine's power button.  PWRBTN_STS is set whatever
 * PWRBTN_EN says (4.8.3.1.1.1: "unconditionally set"); the SCI follows the
 * enable.  A second press before OSPM cleared the first changes nothing,
 * as with the real button's sticky bit. */
static int pm_power_button(void *state)
{
	struct acpi_pm *p = state;

	p->sts |= PM1_STS_PWRBTN;
	pm_update_sci(p);
	return 0;
}

/*
 * Saved state, version 1: "pm1_sts", "pm1_en" and "pm1_cnt" as the guest
 * left them.  The PM timer is not saved: it is the virtual clock, which a
 * restore continues, so it reads on from where it was.  A power button
 * press the guest had not handled is PWRBTN_STS in pm1_sts: the SCI's
 * level is derived from the registers, so load() raises the line again
 * when the record has an enabled event pending (same layout as before the
 * power button, so still version 1).
 */
static const struct state_field pm_fields[] = {
	STATE_FIELD(struct acpi_pm, sts, "pm1_sts", 0),
	STATE_FIELD(struct acpi_pm, en, "pm1_en", 0),
	STATE_FIELD(struct acpi_pm, cnt, "pm1_cnt", 0),
};

static int pm_save(void *state, struct vmm_state_out *out)
{
	struct acpi_pm *p = state;

	return state_fields_save(p->h, out, NULL, pm_fields, sizeof(pm_fields) / sizeof(pm_fields[0]),
				 p);
}

static int pm_load(void *state, struct vmm_state_in *in, uint32_t version)
{
	struct acpi_pm *p = state;
	struct acpi_pm s = { .h = p->h };
	int rc = state_version_check(p->h, version, 1);

	if (!rc)
		rc = state_fields_load(p->h, in, NULL, pm_fields,
				       sizeof(pm_fields) / sizeof(pm_fields[0]), &s);
	if (rc)
		return rc;
	if (s.sts & ~PM1_STS_DEFINED)
		return state_field_refuse(p->h, "pm1_sts", "sets reserved status bits");
	/* SLP_EN is write-only: the register never holds it. */
	if (s.cnt & PM1_CNT_SLP_EN)
		return state_field_refuse(p->h, "pm1_cnt", "holds SLP_EN, which is write-only");
	p->sts = s.sts;
	p->en = s.en;
	p->cnt = s.cnt;
	pm_update_sci(p);
	return 0;
}

static const struct vmm_device_ops pm_ops = {
	.size = sizeof(struct vmm_device_ops),
	.create = pm_create,
	.destroy = pm_destroy,
	.reset = pm_reset,
	.state_version = 1,
	.save = pm_save,
	.load = pm_load,
	.power_button = pm_power_button,
};

static const struct vmm_prop_desc pm_props[] = {
	{ .name = "base", .type = VMM_PROP_INT, .def_int = 0x600, .min = 0, .max = 0xfff0,
	  .help = "first of 16 I/O ports: PM1a_EVT, PM1a_CNT, PM_TMR, reset" },
	{ .name = "sci", .type = VMM_PROP_INT, .def_int = 9, .min = 0, .max = 255,
	  .help = "SCI interrupt line (level-triggered, active high): the power button's event" },
	{ .name = NULL },
};

static const struct vmm_plugin pm_plugin = {
	VMM_PLUGIN_HEADER,
	.kind = VMM_PLUGIN_DEVICE,
	.name = "acpi-pm",
	.version = "1.0",
	.summary = "ACPI fixed hardware: PM1 registers, power button and SCI, PM timer, reset register; makes the machine ACPI",
	.props = pm_props,
	.ops = &pm_ops,
};

VMM_PLUGIN_DEFINE(pm_plugin)
