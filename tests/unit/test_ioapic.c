/* tests/unit/test_ioapic.c - the I/O APIC through the harness and the real
 * ioapic.so.  Each test reads like the datasheet: program these redirection
 * entries, drive these lines, expect these MSIs (address and data as the
 * SDM's message format lays them out). */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vmm/harness.h>
#include "devices/ioapic/ioapic.h"

#define IOAPIC_BASE 0xfec00000ull

/* Redirection entry fields, as a driver would build them. */
#define VEC(v)      ((uint32_t)(v))
#define DM(m)       ((uint32_t)(m) << 8)
#define LOGICAL     (1u << 11)
#define DELIVS      (1u << 12)
#define ACTIVE_LOW  (1u << 13)
#define REMOTE_IRR  (1u << 14)
#define LEVEL       (1u << 15)
#define MASKED      (1u << 16)
#define DEST(d)     ((uint32_t)(d) << 24)

#include "device-fixture.h"
#include "state-record.h"

/* A split-irqchip machine with the ioapic at its default place. */
static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_SPLIT, "ioapic", "ioapic");
}

static int setup_split(void **state)
{
	return fixture_setup(state, VMM_IRQ_SPLIT, NULL, NULL);
}

static int setup_kernel(void **state)
{
	return fixture_setup(state, VMM_IRQ_KERNEL, NULL, NULL);
}

static int setup_emulated(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void mmio_write(unsigned offset, uint32_t value)
{
	vmm_harness_mmio_write(F->h, IOAPIC_BASE + offset, 4, value);
}

static uint32_t mmio_read(unsigned offset)
{
	return (uint32_t)vmm_harness_mmio_read(F->h, IOAPIC_BASE + offset, 4);
}

static uint32_t reg_read(unsigned index)
{
	mmio_write(IOAPIC_IOREGSEL, index);
	return mmio_read(IOAPIC_IOWIN);
}

static void reg_write(unsigned index, uint32_t value)
{
	mmio_write(IOAPIC_IOREGSEL, index);
	mmio_write(IOAPIC_IOWIN, value);
}

static uint32_t rte_low(unsigned pin)
{
	return reg_read(0x10 + 2 * pin);
}

static uint32_t rte_high(unsigned pin)
{
	return reg_read(0x11 + 2 * pin);
}

/* High dword first, as drivers do, so the entry is complete when unmasked. */
static void rte_set(unsigned pin, uint32_t low, uint32_t high)
{
	reg_write(0x11 + 2 * pin, high);
	reg_write(0x10 + 2 * pin, low);
}

static void line(uint32_t n, int level)
{
	assert_int_equal(vmm_harness_irq_drive(F->h, n, level), 0);
}

static size_t msis(void)
{
	return vmm_harness_msi_count(F->h);
}

static void expect_msi(size_t i, uint64_t addr, uint32_t data)
{
	uint64_t a;
	uint32_t d;

	assert_int_equal(vmm_harness_msi_get(F->h, i, &a, &d), 0);
	assert_int_equal(a, addr);
	assert_int_equal(d, data);
}

static unsigned long guest_errors(void)
{
	return vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR);
}

/* ---- registers ---- */

static void test_id_version_arbitration(void **state)
{
	unsigned long errs;

	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
	/* Version 0x20, maximum redirection entry 23. */
	assert_int_equal(reg_read(IOAPIC_REG_VERSION), 0x00170020);
	assert_int_equal(reg_read(IOAPIC_REG_ARB), 0);

	/* ID bits 27:24 are writable, the rest reserved; arbitration
	 * follows the ID. */
	reg_write(IOAPIC_REG_ID, 0xf5ffffff);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0x05000000);
	assert_int_equal(reg_read(IOAPIC_REG_ARB), 0x05000000);

	errs = guest_errors();
	reg_write(IOAPIC_REG_VERSION, 0);
	reg_write(IOAPIC_REG_ARB, 0);
	assert_int_equal(reg_read(IOAPIC_REG_VERSION), 0x00170020);
	assert_int_equal(reg_read(IOAPIC_REG_ARB), 0x05000000);
	assert_int_equal(guest_errors(), errs + 2);
}

static void test_id_property(void **state)
{
	static const char *const props[] = { "id=3", NULL };

	F->dev = vmm_harness_create_device(F->h, "ioapic", "ioapic", props);
	assert_non_null(F->dev);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0x03000000);
	reg_write(IOAPIC_REG_ID, 0x07000000);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0x03000000);
}

static void test_ioregsel_reads_back(void **state)
{
	mmio_write(IOAPIC_IOREGSEL, 0x2b);
	assert_int_equal(mmio_read(IOAPIC_IOREGSEL), 0x2b);
	/* Only bits 7:0 select. */
	mmio_write(IOAPIC_IOREGSEL, 0xffffff01);
	assert_int_equal(mmio_read(IOAPIC_IOREGSEL), 0x01);
	assert_int_equal(mmio_read(IOAPIC_IOWIN), 0x00170020);
}

static void test_reset_state_all_masked(void **state)
{
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		assert_int_equal(rte_low(pin), MASKED);
		assert_int_equal(rte_high(pin), 0);
	}
	rte_set(7, VEC(0x47) | LEVEL, DEST(2));
	rte_set(23, VEC(0x57), DEST(1));
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		assert_int_equal(rte_low(pin), MASKED);
		assert_int_equal(rte_high(pin), 0);
	}
	/* Masked after reset: a line going high sends nothing. */
	line(7, 1);
	assert_int_equal(msis(), 0);
}

static void test_rte_read_back(void **state)
{
	unsigned long errs = guest_errors();

	rte_set(3, VEC(0x9a) | DM(IOAPIC_DM_LOWEST) | LOGICAL | ACTIVE_LOW | LEVEL | MASKED,
		DEST(0xa5));
	assert_int_equal(rte_low(3), VEC(0x9a) | DM(IOAPIC_DM_LOWEST) | LOGICAL | ACTIVE_LOW |
					     LEVEL | MASKED);
	assert_int_equal(rte_high(3), DEST(0xa5));
	/* Neighbours untouched. */
	assert_int_equal(rte_low(2), MASKED);
	assert_int_equal(rte_low(4), MASKED);
	assert_int_equal(guest_errors(), errs);

	/* Reserved bits read as zero; delivery status and remote IRR are
	 * read-only, and trying to set them is a (logged) guest error. */
	reg_write(0x10 + 2 * 9, 0xffffffff);
	assert_int_equal(rte_low(9), 0x1afff);
	assert_int_equal(guest_errors(), errs + 1);
	reg_write(0x11 + 2 * 9, 0xffffffff);
	assert_int_equal(rte_high(9), 0xff000000);
}

static void test_remote_irr_survives_rewrite(void **state)
{
	unsigned long errs;

	rte_set(4, VEC(0x44) | LEVEL, DEST(0));
	line(4, 1);
	assert_int_equal(msis(), 1);
	assert_true(rte_low(4) & REMOTE_IRR);
	/* A read-modify-write that masks keeps remote IRR... */
	reg_write(0x10 + 2 * 4, rte_low(4) | MASKED);
	assert_int_equal(rte_low(4), VEC(0x44) | LEVEL | MASKED | REMOTE_IRR);
	/* ...and so does one that writes it as 0, as a driver composing a
	 * fresh entry does: not a guest error. */
	errs = guest_errors();
	reg_write(0x10 + 2 * 4, VEC(0x44) | LEVEL | MASKED);
	assert_true(rte_low(4) & REMOTE_IRR);
	assert_false(rte_low(4) & DELIVS);
	assert_int_equal(guest_errors(), errs);
	/* Trying to set delivery status is one. */
	reg_write(0x10 + 2 * 4, VEC(0x44) | LEVEL | MASKED | DELIVS);
	assert_false(rte_low(4) & DELIVS);
	assert_int_equal(guest_errors(), errs + 1);
}

static void test_bad_accesses_ignored(void **state)
{
	unsigned long errs = guest_errors();

	/* Undefined indices: reads 0, writes dropped, both logged. */
	assert_int_equal(reg_read(0x03), 0);
	assert_int_equal(reg_read(0x40), 0);
	assert_int_equal(reg_read(0xff), 0);
	reg_write(0x0f, 0x12345678);
	assert_int_equal(guest_errors(), errs + 4);

	/* Offsets that hold no register. */
	assert_int_equal(mmio_read(0x04), 0);
	mmio_write(0x20, 1);
	assert_int_equal(guest_errors(), errs + 6);

	/* Byte accesses are narrower than the window accepts. */
	vmm_harness_mmio_write(F->h, IOAPIC_BASE + IOAPIC_IOREGSEL, 1, 0x01);
	assert_int_equal(guest_errors(), errs + 7);

	/* Nothing changed. */
	for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
		assert_int_equal(rte_low(pin), MASKED);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
}

/* ---- edge-triggered delivery ---- */

static void test_edge_one_msi_per_rising_edge(void **state)
{
	rte_set(1, VEC(0x31), DEST(0));
	line(1, 1);
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee00000, 0x4031);
	/* Held high: nothing more, and no EOI handshake for edges. */
	vmm_harness_eoi(F->h, 0x31);
	assert_int_equal(msis(), 1);
	assert_false(rte_low(1) & REMOTE_IRR);
	line(1, 0);
	assert_int_equal(msis(), 1);
	line(1, 1);
	line(1, 0);
	line(1, 1);
	assert_int_equal(msis(), 3);
	expect_msi(2, 0xfee00000, 0x4031);
}

static void test_msi_encoding(void **state)
{
	static const struct {
		uint32_t low, high;
		uint64_t addr;
		uint32_t data;
	} cases[] = {
		/* fixed, physical destination 3 */
		{ VEC(0x40) | DM(IOAPIC_DM_FIXED), DEST(0x03), 0xfee03000, 0x4040 },
		/* lowest priority, logical 0x0f: redirection hint and DM */
		{ VEC(0x51) | DM(IOAPIC_DM_LOWEST) | LOGICAL, DEST(0x0f), 0xfee0f00c, 0x4151 },
		/* fixed, logical broadcast */
		{ VEC(0x52) | LOGICAL, DEST(0xff), 0xfeeff004, 0x4052 },
		/* SMI, NMI, INIT, ExtINT: edge whatever the trigger bit says */
		{ VEC(0x00) | DM(IOAPIC_DM_SMI), DEST(0x01), 0xfee01000, 0x4200 },
		{ VEC(0x02) | DM(IOAPIC_DM_NMI) | LEVEL, DEST(0x02), 0xfee02000, 0x4402 },
		{ VEC(0x00) | DM(IOAPIC_DM_INIT), DEST(0x80), 0xfee80000, 0x4500 },
		{ VEC(0x20) | DM(IOAPIC_DM_EXTINT), DEST(0x00), 0xfee00000, 0x4720 },
		/* level, fixed, physical 0xfe */
		{ VEC(0x63) | LEVEL, DEST(0xfe), 0xfeefe000, 0xc063 },
		/* level, lowest priority, logical */
		{ VEC(0x64) | DM(IOAPIC_DM_LOWEST) | LOGICAL | LEVEL, DEST(0x03), 0xfee0300c,
		  0xc164 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vmm_harness_msi_clear(F->h);
		rte_set(10 + i, cases[i].low, cases[i].high);
		line(10 + i, 1);
		assert_int_equal(msis(), 1);
		expect_msi(0, cases[i].addr, cases[i].data);
	}
}

static void test_reserved_delivery_mode_dropped(void **state)
{
	unsigned long errs = guest_errors();

	rte_set(2, VEC(0x22) | DM(3), DEST(0));
	line(2, 1);
	assert_int_equal(msis(), 0);
	assert_int_equal(guest_errors(), errs + 1);
}

static void test_masked_edge_is_lost(void **state)
{
	rte_set(6, VEC(0x36) | MASKED, DEST(0));
	line(6, 1);
	assert_int_equal(msis(), 0);
	/* Unmasking an edge entry while the line is high sends nothing:
	 * the edge came and went while masked. */
	reg_write(0x10 + 2 * 6, VEC(0x36));
	assert_int_equal(msis(), 0);
	line(6, 0);
	line(6, 1);
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee00000, 0x4036);
	/* Masked again: further edges are lost, not queued. */
	reg_write(0x10 + 2 * 6, VEC(0x36) | MASKED);
	line(6, 0);
	line(6, 1);
	reg_write(0x10 + 2 * 6, VEC(0x36));
	assert_int_equal(msis(), 1);
}

/* ---- level-triggered delivery ---- */

static void test_level_remote_irr_and_eoi(void **state)
{
	rte_set(9, VEC(0x69) | LEVEL, DEST(1));
	line(9, 1);
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee01000, 0xc069);
	assert_true(rte_low(9) & REMOTE_IRR);

	/* No second message while remote IRR is set, whatever the line does. */
	line(9, 0);
	line(9, 1);
	assert_int_equal(msis(), 1);
	/* An EOI for another vector changes nothing. */
	vmm_harness_eoi(F->h, 0x68);
	assert_int_equal(msis(), 1);
	assert_true(rte_low(9) & REMOTE_IRR);

	/* EOI while the line is still asserted: delivered again at once. */
	vmm_harness_eoi(F->h, 0x69);
	assert_int_equal(msis(), 2);
	expect_msi(1, 0xfee01000, 0xc069);
	assert_true(rte_low(9) & REMOTE_IRR);

	/* The device withdraws the request, then the handler's EOI. */
	line(9, 0);
	vmm_harness_eoi(F->h, 0x69);
	assert_int_equal(msis(), 2);
	assert_false(rte_low(9) & REMOTE_IRR);
	line(9, 1);
	assert_int_equal(msis(), 3);
}

static void test_level_eoi_register(void **state)
{
	rte_set(12, VEC(0x7c) | LEVEL, DEST(0));
	line(12, 1);
	assert_int_equal(msis(), 1);
	mmio_write(IOAPIC_EOI, 0x7b);
	assert_int_equal(msis(), 1);
	mmio_write(IOAPIC_EOI, 0x7c);
	assert_int_equal(msis(), 2);
	line(12, 0);
	mmio_write(IOAPIC_EOI, 0x7c);
	assert_false(rte_low(12) & REMOTE_IRR);
	assert_int_equal(msis(), 2);
}

static void test_eoi_clears_every_pin_with_the_vector(void **state)
{
	rte_set(16, VEC(0x90) | LEVEL, DEST(0));
	rte_set(17, VEC(0x90) | LEVEL, DEST(0));
	line(16, 1);
	line(17, 1);
	assert_int_equal(msis(), 2);
	line(16, 0);
	line(17, 0);
	vmm_harness_eoi(F->h, 0x90);
	assert_false(rte_low(16) & REMOTE_IRR);
	assert_false(rte_low(17) & REMOTE_IRR);
}

static void test_level_unmask_delivers(void **state)
{
	rte_set(5, VEC(0x55) | LEVEL | MASKED, DEST(0));
	line(5, 1);
	assert_int_equal(msis(), 0);
	assert_false(rte_low(5) & REMOTE_IRR);
	reg_write(0x10 + 2 * 5, VEC(0x55) | LEVEL);
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee00000, 0xc055);
	/* Masking does not forget remote IRR, and unmasking while it is set
	 * sends nothing until the EOI. */
	reg_write(0x10 + 2 * 5, VEC(0x55) | LEVEL | MASKED);
	reg_write(0x10 + 2 * 5, VEC(0x55) | LEVEL);
	assert_int_equal(msis(), 1);
	vmm_harness_eoi(F->h, 0x55);
	assert_int_equal(msis(), 2);
}

/* The guest masks a level entry while its interrupt is in service and
 * EOIs with the line still high: the EOI clears remote IRR, but a masked
 * pin asks for nothing (82093AA 3.2.4, mask bit); unmasking then delivers
 * the still-asserted line once. */
static void test_level_masked_at_eoi_waits_for_unmask(void **state)
{
	rte_set(10, VEC(0x6a) | LEVEL, DEST(0));
	line(10, 1);
	assert_int_equal(msis(), 1);
	reg_write(0x10 + 2 * 10, VEC(0x6a) | LEVEL | MASKED);
	assert_true(rte_low(10) & REMOTE_IRR);
	vmm_harness_eoi(F->h, 0x6a);
	assert_int_equal(msis(), 1);
	assert_false(rte_low(10) & REMOTE_IRR);
	reg_write(0x10 + 2 * 10, VEC(0x6a) | LEVEL);
	assert_int_equal(msis(), 2);
	expect_msi(1, 0xfee00000, 0xc06a);
	assert_true(rte_low(10) & REMOTE_IRR);
}

static void test_level_to_edge_drops_remote_irr(void **state)
{
	rte_set(8, VEC(0x88) | LEVEL, DEST(0));
	line(8, 1);
	assert_true(rte_low(8) & REMOTE_IRR);
	reg_write(0x10 + 2 * 8, VEC(0x88));
	assert_false(rte_low(8) & REMOTE_IRR);
	assert_int_equal(msis(), 1);
}

/* ---- routes for KVM's split irqchip (ABI 1.5 msi_route) ---- */

static bool route(unsigned pin, uint64_t *addr, uint32_t *data)
{
	return vmm_harness_msi_route_get(F->h, pin, addr, data);
}

/* KVM reports only the EOIs of vectors it finds in its IOAPIC routes (KVM
 * API, KVM_CAP_SPLIT_IRQCHIP).  A level entry unmasked with its line
 * already high sends from inside the register write: the route must be
 * there before that message, not learned from it. */
static void test_level_route_before_first_message(void **state)
{
	uint64_t a;
	uint32_t d;

	line(2, 1);
	rte_set(2, VEC(0x41) | LEVEL, DEST(1));
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee01000, 0xc041);
	assert_true(vmm_harness_msi_routed(F->h, 0));
	assert_true(route(2, &a, &d));
	assert_int_equal(a, 0xfee01000);
	assert_int_equal(d, 0xc041);
}

/* The route follows the entry: a new vector (rewritten in place, never
 * masked) and a new destination before anything is sent with them; edge
 * entries and reset have none; masking and unmasking change nothing (a
 * masked entry still waits for its EOI), so they cost no route update. */
static void test_level_route_follows_entry(void **state)
{
	uint64_t a;
	uint32_t d;
	unsigned calls;

	assert_false(route(16, &a, &d));
	rte_set(16, VEC(0x31) | LEVEL, DEST(0));
	assert_true(route(16, &a, &d));
	assert_int_equal(d, 0xc031);

	reg_write(0x10 + 2 * 16, VEC(0x32) | LEVEL);
	assert_true(route(16, &a, &d));
	assert_int_equal(d, 0xc032);
	line(16, 1);
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee00000, 0xc032);
	assert_true(vmm_harness_msi_routed(F->h, 0));

	reg_write(0x11 + 2 * 16, DEST(3));
	assert_true(route(16, &a, &d));
	assert_int_equal(a, 0xfee03000);

	calls = vmm_harness_msi_route_calls(F->h);
	reg_write(0x10 + 2 * 16, VEC(0x32) | LEVEL | MASKED);
	reg_write(0x10 + 2 * 16, VEC(0x32) | LEVEL);
	assert_int_equal(vmm_harness_msi_route_calls(F->h), calls);
	assert_true(route(16, &a, &d));

	/* Every pin keeps its own route: another pin's changes leave it. */
	rte_set(8, VEC(0x40) | LEVEL, DEST(0));
	for (unsigned v = 0x41; v < 0x41 + 30; v++)
		reg_write(0x10 + 2 * 8, VEC(v) | LEVEL);
	assert_true(route(16, &a, &d));
	assert_int_equal(d, 0xc032);
	assert_true(route(8, &a, &d));
	assert_int_equal(d, 0xc000 | (0x41 + 29));

	reg_write(0x10 + 2 * 16, VEC(0x32));	/* edge */
	assert_false(route(16, &a, &d));
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_false(route(8, &a, &d));
}

/* Edge and edge-only (NMI) entries need no EOI and get no route. */
static void test_no_route_for_edge(void **state)
{
	uint64_t a;
	uint32_t d;

	rte_set(3, VEC(0x33), DEST(0));
	rte_set(4, VEC(0x34) | DM(IOAPIC_DM_NMI) | LEVEL, DEST(0));
	assert_false(route(3, &a, &d));
	assert_false(route(4, &a, &d));
	assert_int_equal(vmm_harness_msi_route_calls(F->h), 0);
}

/* ---- polarity ---- */

static void test_active_low_edge(void **state)
{
	/* Line low from the start: an active-low pin sits asserted, but
	 * programming the entry is no edge. */
	rte_set(14, VEC(0x4e) | ACTIVE_LOW, DEST(0));
	assert_int_equal(msis(), 0);
	line(14, 1); /* deasserts */
	assert_int_equal(msis(), 0);
	line(14, 0); /* the falling edge asserts */
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee00000, 0x404e);
}

static void test_active_low_level(void **state)
{
	line(15, 1); /* idle for an active-low line */
	rte_set(15, VEC(0x5f) | ACTIVE_LOW | LEVEL, DEST(0));
	assert_int_equal(msis(), 0);
	line(15, 0);
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee00000, 0xc05f);
	line(15, 1);
	vmm_harness_eoi(F->h, 0x5f);
	assert_int_equal(msis(), 1);
	assert_false(rte_low(15) & REMOTE_IRR);
	/* Unmasking a level pin whose active-low line is low delivers. */
	reg_write(0x10 + 2 * 15, VEC(0x5f) | ACTIVE_LOW | LEVEL | MASKED);
	line(15, 0);
	assert_int_equal(msis(), 1);
	reg_write(0x10 + 2 * 15, VEC(0x5f) | ACTIVE_LOW | LEVEL);
	assert_int_equal(msis(), 2);
}

/* ---- placement and modes ---- */

static void test_base_and_irq_base(void **state)
{
	static const char *const props[] = { "base=0xfec01000", "irq-base=24", NULL };
	uint64_t v;

	F->dev = vmm_harness_create_device(F->h, "ioapic", "ioapic2", props);
	assert_non_null(F->dev);
	vmm_harness_mmio_write(F->h, 0xfec01000, 4, IOAPIC_REG_VERSION);
	v = vmm_harness_mmio_read(F->h, 0xfec01010, 4);
	assert_int_equal(v, 0x00170020);
	/* Line 24 is pin 0; line 0 is not ours. */
	vmm_harness_mmio_write(F->h, 0xfec01000, 4, 0x10);
	vmm_harness_mmio_write(F->h, 0xfec01010, 4, VEC(0xa0));
	line(0, 1);
	assert_int_equal(msis(), 0);
	line(24, 1);
	assert_int_equal(msis(), 1);
	expect_msi(0, 0xfee00000, 0x40a0);
}

static void test_emulated_machine_refused(void **state)
{
	static const char *const emulated[] = { "mode=emulated", NULL };

	assert_null(vmm_harness_create_device(F->h, "ioapic", "ioapic", NULL));
	assert_null(vmm_harness_create_device(F->h, "ioapic", "ioapic", emulated));
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), 2);
	assert_int_equal(vmm_harness_mmio_read(F->h, IOAPIC_BASE, 4), 0xffffffff);
}

static void test_explicit_kernel_refused_on_split(void **state)
{
	static const char *const kernel[] = { "mode=kernel", NULL };

	assert_null(vmm_harness_create_device(F->h, "ioapic", "ioapic", kernel));
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), 1);
}

static void test_kernel_mode_maps_nothing(void **state)
{
	static const char *const kernel[] = { "mode=kernel", NULL };
	unsigned long unclaimed = vmm_harness_unclaimed_count(F->h);

	F->dev = vmm_harness_create_device(F->h, "ioapic", "ioapic", NULL);
	assert_non_null(F->dev);
	assert_int_equal(vmm_harness_mmio_read(F->h, IOAPIC_BASE + IOAPIC_IOWIN, 4), 0xffffffff);
	assert_int_equal(vmm_harness_unclaimed_count(F->h), unclaimed + 1);
	line(1, 1);
	assert_int_equal(msis(), 0);
	vmm_harness_destroy_device(F->dev);

	/* Explicitly, too; and emulated is refused where the kernel has one. */
	F->dev = vmm_harness_create_device(F->h, "ioapic", "ioapic", kernel);
	assert_non_null(F->dev);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	vmm_harness_destroy_device(F->dev);
	F->dev = NULL;
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), 0);
}

static void test_emulated_refused_on_kernel_machine(void **state)
{
	static const char *const emulated[] = { "mode=emulated", NULL };

	assert_null(vmm_harness_create_device(F->h, "ioapic", "ioapic", emulated));
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), 1);
}

/* ---- saved state (ABI 1.12) ---- */

/* Mid-operation: pin 10 level-triggered, line high, its message sent and
 * waiting for the EOI (remote IRR); pin 4 edge-triggered with its line
 * high; pin 7 level and masked; IOREGSEL left at pin 10's low dword. */
static void ioapic_mid_operation(void)
{
	rte_set(10, VEC(0x41) | LEVEL, DEST(1));
	rte_set(4, VEC(0x34), DEST(0));
	rte_set(7, VEC(0x37) | LEVEL | ACTIVE_LOW | MASKED, DEST(2));
	reg_write(IOAPIC_REG_ID, 5u << 24);
	line(10, 1);
	line(4, 1);
	assert_int_equal(msis(), 2);
	assert_true(rte_low(10) & REMOTE_IRR);
}

#define IOAPIC_SCRIPT_MAX 64

/* What the guest and the local APICs see from now on. */
static size_t ioapic_script(struct vmm_harness *h, uint64_t *v)
{
	size_t n = 0, first = vmm_harness_msi_count(h);
	uint64_t a;
	uint32_t d;

	v[n++] = vmm_harness_mmio_read(h, IOAPIC_BASE + IOAPIC_IOREGSEL, 4);
	v[n++] = vmm_harness_mmio_read(h, IOAPIC_BASE + IOAPIC_IOWIN, 4);
	vmm_harness_mmio_write(h, IOAPIC_BASE + IOAPIC_IOREGSEL, 4, IOAPIC_REG_ID);
	v[n++] = vmm_harness_mmio_read(h, IOAPIC_BASE + IOAPIC_IOWIN, 4);
	/* the line is still high at the EOI: a new message */
	vmm_harness_eoi(h, 0x41);
	/* an edge pin held high needs a new rising edge */
	vmm_harness_irq_drive(h, 4, 1);
	vmm_harness_irq_drive(h, 4, 0);
	vmm_harness_irq_drive(h, 4, 1);
	/* the masked level pin asserts (active low) and is unmasked */
	vmm_harness_irq_drive(h, 7, 0);
	vmm_harness_mmio_write(h, IOAPIC_BASE + IOAPIC_IOREGSEL, 4, 0x10 + 2 * 7);
	vmm_harness_mmio_write(h, IOAPIC_BASE + IOAPIC_IOWIN, 4, VEC(0x37) | LEVEL | ACTIVE_LOW);
	v[n++] = vmm_harness_msi_count(h) - first;
	for (size_t i = first; vmm_harness_msi_get(h, i, &a, &d) == 0; i++) {
		v[n++] = a;
		v[n++] = d;
		v[n++] = vmm_harness_msi_routed(h, i);
	}
	return n;
}

static struct vmm_harness *ioapic_restore_target(struct vmm_harness_dev **dev)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_set_irq_mode(h, VMM_IRQ_SPLIT);
	vmm_harness_clock_step(h, vmm_harness_clock_ns(F->h));
	*dev = vmm_harness_create_device(h, "ioapic", "ioapic", NULL);
	assert_non_null(*dev);
	return h;
}

static void test_save_load_mid_operation(void **state)
{
	uint64_t want[IOAPIC_SCRIPT_MAX], got[IOAPIC_SCRIPT_MAX], a;
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, n1, n2;
	uint32_t d;
	void *rec;

	ioapic_mid_operation();
	mmio_write(IOAPIC_IOREGSEL, 0x10 + 2 * 10);
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = ioapic_restore_target(&dev2);
	assert_false(vmm_harness_msi_route_get(h2, 10, &a, &d));
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	/* the level entries are announced again, as the guest's writes did */
	assert_true(vmm_harness_msi_route_get(h2, 10, &a, &d));
	assert_int_equal(a, 0xfee01000);
	assert_int_equal(d, 0xc041);
	assert_true(vmm_harness_msi_route_get(h2, 7, &a, &d));
	assert_false(vmm_harness_msi_route_get(h2, 4, &a, &d));
	/* the devices driving lines 10 and 4 raise them again: no new edge */
	assert_int_equal(vmm_harness_irq_drive(h2, 10, 1), 0);
	assert_int_equal(vmm_harness_irq_drive(h2, 4, 1), 0);
	assert_int_equal(vmm_harness_irq_drive(h2, 7, 1), 0);
	line(7, 1);
	assert_int_equal(vmm_harness_msi_count(h2), 0);
	vmm_harness_msi_clear(F->h);
	n1 = ioapic_script(F->h, want);
	n2 = ioapic_script(h2, got);
	assert_int_equal(n1, n2);
	assert_memory_equal(want, got, n1 * sizeof(want[0]));
	/* and the script saw the saved state */
	assert_true(want[1] & REMOTE_IRR);
	assert_int_equal(want[2], 5u << 24);
	assert_int_equal(want[3], 3);		/* EOI resend, new edge, unmasked level */
	assert_int_equal(want[5], 0xc041);
	assert_true(want[6]);			/* sent with its route announced */
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_corrupt_fields(void **state)
{
	static const struct record_poke bad[] = {
		{ "ioregsel", 1, 1 },
		{ "id", 0, 1 },			/* bits 23:0 are reserved */
		{ "pin_levels", 3, 1 },		/* a 25th pin */
		{ "rte.4", 1, 0x40 },		/* remote IRR on an edge entry */
		{ "rte.10", 1, 0x90 },		/* delivery status pending */
		{ "rte.23", 4, 1 },		/* reserved bit 32 */
	};
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	ioapic_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = ioapic_restore_target(&dev2);
	record_expect_refused(dev2, rec, len, bad, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(vmm_harness_msi_route_calls(h2), 0);
	record_hide_field(rec, len, "rte.17");
	assert_int_equal(vmm_harness_load(dev2, rec, len), -ENOENT);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_unknown_version(void **state)
{
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	ioapic_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = ioapic_restore_target(&dev2);
	record_expect_next_version_refused(dev2, rec, len, 1);
	free(rec);
	vmm_harness_free(h2);
}

/* In kernel mode the hypervisor's IOAPIC holds the state: the record says
 * so and nothing else, and an emulated instance refuses it. */
static void test_kernel_mode_record_has_no_entries(void **state)
{
	struct vmm_harness *hk = vmm_harness_new();
	struct vmm_harness_dev *k;
	size_t len;
	uint8_t *rec;

	vmm_harness_set_irq_mode(hk, VMM_IRQ_KERNEL);
	k = vmm_harness_create_device(hk, "ioapic", "ioapic", NULL);
	assert_non_null(k);
	rec = vmm_harness_save(k, &len);
	assert_non_null(rec);
	assert_int_equal(*record_field(rec, len, "emulated", NULL), 0);
	assert_int_equal(record_le32(record_version(rec, len) + 4), 1);	/* one field */
	assert_int_equal(vmm_harness_load(k, rec, len), 0);
	assert_int_equal(vmm_harness_load(F->dev, rec, len), -EINVAL);
	free(rec);
	vmm_harness_free(hk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_id_version_arbitration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_property, setup_split, teardown),
		cmocka_unit_test_setup_teardown(test_ioregsel_reads_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_state_all_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rte_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_irr_survives_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_accesses_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge_one_msi_per_rising_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msi_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_delivery_mode_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masked_edge_is_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_remote_irr_and_eoi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_eoi_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eoi_clears_every_pin_with_the_vector, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_level_unmask_delivers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_masked_at_eoi_waits_for_unmask, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_level_to_edge_drops_remote_irr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_route_before_first_message, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_level_route_follows_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_route_for_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_active_low_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_active_low_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_and_irq_base, setup_split, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_mid_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_corrupt_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_unknown_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_mode_record_has_no_entries, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_emulated_machine_refused, setup_emulated,
						teardown),
		cmocka_unit_test_setup_teardown(test_explicit_kernel_refused_on_split, setup_split,
						teardown),
		cmocka_unit_test_setup_teardown(test_kernel_mode_maps_nothing, setup_kernel,
						teardown),
		cmocka_unit_test_setup_teardown(test_emulated_refused_on_kernel_machine,
						setup_kernel, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
