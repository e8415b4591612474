/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_state_hostile.c - a snapshot file is input: every device
 * plugin that saves its state must survive a damaged record in load().
 *
 * For each device below: build it, drive it into a non-default state, save
 * it, then for every field of the record load variants into a fresh
 * instance: the field zeroed, all ones, every byte 0x80, one byte short, one
 * byte long, missing; and the whole record with the next state version.
 * load() may accept a variant (then the device must go on working: its
 * registers are read, a virtio queue is notified and the clock runs on) or
 * refuse it with a negative errno and a line (the host names a missing or
 * mis-sized field; the device names one it judged wrong); it must
 * never crash, hang or touch memory outside guest RAM.  The unknown
 * version must be refused.
 */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <vmm/harness.h>
#include "core/state.h"

struct region {
	enum vmm_bus bus; /* 0: none */
	uint64_t base, len;
};

struct dev_case {
	const char *plugin;
	const char *const *props;
	struct region regions[2];
	/* Backends or an irqchip mode the device needs, in every harness
	 * (the saved one and each fresh one); may be NULL. */
	void (*setup)(struct vmm_harness *h);
	/* Brings the device into a state worth saving; may be NULL. */
	void (*drive)(struct vmm_harness *h);
	/* A virtio-mmio device: its queue 0 is notified after a load. */
	bool virtio_mmio;
	bool needs_ram;
};

static char fake_dev_path[4096];

static void drive_fake_dev(struct vmm_harness *h)
{
	vmm_harness_pio_write(h, 0x100, 4, 0x12345678);
	vmm_harness_msr_write(h, 0x4b564d00u, 0x1234);
}

static const char *const fake_dev_props[] = { "msr=1", NULL };

/* ---- drive functions: a state worth saving ---- */
static void drive_i8259(struct vmm_harness *h)
{
	/* ICW1-4 on both chips (8259A datasheet: edge, cascade, 8086 mode) */
	vmm_harness_pio_write(h, 0x20, 1, 0x11);
	vmm_harness_pio_write(h, 0x21, 1, 0x20);
	vmm_harness_pio_write(h, 0x21, 1, 0x04);
	vmm_harness_pio_write(h, 0x21, 1, 0x01);
	vmm_harness_pio_write(h, 0xa0, 1, 0x11);
	vmm_harness_pio_write(h, 0xa1, 1, 0x28);
	vmm_harness_pio_write(h, 0xa1, 1, 0x02);
	vmm_harness_pio_write(h, 0xa1, 1, 0x01);
	vmm_harness_pio_write(h, 0x21, 1, 0xf8);
	vmm_harness_irq_drive(h, 1, 1);
	vmm_harness_irq_drive(h, 10, 1);
	(void)vmm_harness_cpu_ack(h, 0);
}

static void drive_i8254(struct vmm_harness *h)
{
	vmm_harness_pio_write(h, 0x43, 1, 0x34); /* counter 0, lobyte/hibyte, mode 2 */
	vmm_harness_pio_write(h, 0x40, 1, 0x00);
	vmm_harness_pio_write(h, 0x40, 1, 0x10);
	vmm_harness_pio_write(h, 0x43, 1, 0xb6); /* counter 2, mode 3 */
	vmm_harness_pio_write(h, 0x42, 1, 0x33);
	vmm_harness_clock_step(h, 1000000);
	vmm_harness_pio_write(h, 0x43, 1, 0x00); /* latch counter 0 */
}

static void drive_ioapic(struct vmm_harness *h)
{
	vmm_harness_mmio_write(h, 0xfec00000, 4, 0x10 + 2 * 3); /* pin 3, low word */
	vmm_harness_mmio_write(h, 0xfec00010, 4, 0x8031);       /* level, vector 0x31 */
	vmm_harness_mmio_write(h, 0xfec00000, 4, 0x11 + 2 * 3);
	vmm_harness_mmio_write(h, 0xfec00010, 4, 0x01000000);
	vmm_harness_irq_drive(h, 3, 1);
}

static void drive_cmos_rtc(struct vmm_harness *h)
{
	vmm_harness_pio_write(h, 0x70, 1, 0x0b);
	vmm_harness_pio_write(h, 0x71, 1, 0x62); /* PIE, AIE, 24 h */
	vmm_harness_pio_write(h, 0x70, 1, 0x0a);
	vmm_harness_pio_write(h, 0x71, 1, 0x26);
	vmm_harness_pio_write(h, 0x70, 1, 0x01);
	vmm_harness_pio_write(h, 0x71, 1, 0x30);
	vmm_harness_clock_step(h, 3000000);
}

static void drive_i8042(struct vmm_harness *h)
{
	vmm_harness_pio_write(h, 0x64, 1, 0x60); /* write the command byte: next byte to 0x60 */
	vmm_harness_pio_write(h, 0x64, 1, 0xaa); /* self-test: 0x55 queued */
}

static void drive_acpi_pm(struct vmm_harness *h)
{
	vmm_harness_pio_write(h, 0x602, 2, 0x0100); /* PM1a_EN: power button */
	vmm_harness_pio_write(h, 0x604, 2, 0x0001); /* SCI_EN */
	vmm_harness_clock_step(h, 5000000);
}

static void drive_uart16550(struct vmm_harness *h)
{
	vmm_harness_pio_write(h, 0x3fb, 1, 0x83); /* DLAB, 8N1 */
	vmm_harness_pio_write(h, 0x3f8, 1, 0x01); /* divisor 1 */
	vmm_harness_pio_write(h, 0x3fb, 1, 0x03);
	vmm_harness_pio_write(h, 0x3fa, 1, 0xc1); /* FIFO on, trigger 14 */
	vmm_harness_pio_write(h, 0x3fc, 1, 0x18); /* OUT2, loopback: THR feeds the receiver */
	vmm_harness_pio_write(h, 0x3f8, 1, 'a');
	vmm_harness_pio_write(h, 0x3f8, 1, 'b');
	vmm_harness_pio_write(h, 0x3f8, 1, 'c');
	vmm_harness_pio_write(h, 0x3f9, 1, 0x0f); /* every interrupt */
	vmm_harness_clock_step(h, 1000);          /* the character timeout armed, not due */
}

static void setup_split(struct vmm_harness *h)
{
	vmm_harness_set_irq_mode(h, VMM_IRQ_SPLIT);
}

static void drive_pl031(struct vmm_harness *h)
{
	vmm_harness_mmio_write(h, 0x9010004, 4, 0x7fffffff); /* RTCMR */
	vmm_harness_mmio_write(h, 0x9010010, 4, 1);          /* RTCIMSC */
}

/* PL011: a character held in the transmit FIFO (TXE off, loopback on so a
 * later TXE would feed the receiver), interrupts unmasked. */
static void drive_pl011(struct vmm_harness *h)
{
	vmm_harness_mmio_write(h, 0x9000030, 4, 0x0281); /* UARTCR: UARTEN RXE LBE */
	vmm_harness_mmio_write(h, 0x9000000, 4, 'q');    /* UARTDR */
	vmm_harness_mmio_write(h, 0x9000038, 4, 0x7f0);  /* UARTIMSC */
}

/* arm-timer: emulated irqchip, two vCPUs and the GIC its PPIs reach;
 * vCPU 1's virtual timer output high. */
static void setup_arm_timer(struct vmm_harness *h)
{
	vmm_harness_set_irq_mode(h, VMM_IRQ_EMULATED);
	assert_int_equal(vmm_harness_set_vcpus(h, 2), 0);
	assert_non_null(vmm_harness_create_device(h, "gic", "gic", NULL));
}

static void drive_arm_timer(struct vmm_harness *h)
{
	vmm_harness_timer_outputs(h, 1, VMM_TIMER_OUT_VIRT, VMM_TIMER_OUT_VIRT);
}

/* gic, mode emulated, two vCPUs: distributor and CPU interfaces on, an
 * SGI acknowledged on vCPU 1 (active, a running priority), SPI 40 pending
 * for it. */
static void setup_gic(struct vmm_harness *h)
{
	vmm_harness_set_irq_mode(h, VMM_IRQ_EMULATED);
	assert_int_equal(vmm_harness_set_vcpus(h, 2), 0);
}

static void drive_gic(struct vmm_harness *h)
{
	const uint64_t d = 0x08000000ull, c = 0x08010000ull;

	vmm_harness_mmio_write(h, d + 0x000, 4, 1); /* GICD_CTLR */
	for (unsigned v = 0; v < 2; v++) {
		assert_int_equal(vmm_harness_set_vcpu(h, v), 0);
		vmm_harness_mmio_write(h, c + 0x004, 4, 0xf0); /* GICC_PMR */
		vmm_harness_mmio_write(h, c + 0x000, 4, 1);    /* GICC_CTLR */
		vmm_harness_mmio_write(h, d + 0x100, 4, 0xffff); /* SGIs enabled */
	}
	assert_int_equal(vmm_harness_set_vcpu(h, 0), 0);
	vmm_harness_mmio_write(h, d + 0x800 + 40, 1, 0x02);  /* ITARGETSR: vCPU 1 */
	vmm_harness_mmio_write(h, d + 0x104, 4, 1u << 8);    /* SPI 40 enabled */
	vmm_harness_mmio_write(h, d + 0xf00, 4, 0x02u << 16 | 3); /* SGI 3 to vCPU 1 */
	vmm_harness_irq_drive(h, 40, 1);
	assert_int_equal(vmm_harness_set_vcpu(h, 1), 0);
	(void)vmm_harness_mmio_read(h, c + 0x00c, 4); /* GICC_IAR */
	assert_int_equal(vmm_harness_set_vcpu(h, 0), 0);
}

/* virtio-mmio (virtio 1.2, 4.2.2): a driver through FEATURES_OK and one
 * queue of 8 set up and live, one buffer posted and not yet notified:
 * after a load the notify makes the device read the rings with whatever
 * indexes the record gave. */
static void drive_virtio(struct vmm_harness *h)
{
	const uint64_t b = 0xd0000000ull;

	vmm_harness_mmio_write(h, b + 0x70, 4, 1);
	vmm_harness_mmio_write(h, b + 0x70, 4, 3);
	vmm_harness_mmio_write(h, b + 0x24, 4, 1);
	vmm_harness_mmio_write(h, b + 0x20, 4, 1); /* VIRTIO_F_VERSION_1 */
	vmm_harness_mmio_write(h, b + 0x70, 4, 11);
	vmm_harness_mmio_write(h, b + 0x30, 4, 0);
	vmm_harness_mmio_write(h, b + 0x38, 4, 8);
	vmm_harness_mmio_write(h, b + 0x80, 4, 0x10000);
	vmm_harness_mmio_write(h, b + 0x90, 4, 0x11000);
	vmm_harness_mmio_write(h, b + 0xa0, 4, 0x12000);
	vmm_harness_mmio_write(h, b + 0x44, 4, 1);
	vmm_harness_mmio_write(h, b + 0x70, 4, 15);
	/* descriptor 0: 64 device-writable bytes at 0x20000 (2.7.5); the
	 * driver ring's idx 1 with entry 0 (2.7.6) */
	{
		size_t size;
		uint8_t *ram = vmm_harness_ram(h, &size);
		const uint64_t addr = 0x20000;
		const uint32_t len = 64;
		const uint16_t flags = 2, idx = 1;

		memcpy(ram + 0x10000, &addr, 8);
		memcpy(ram + 0x10008, &len, 4);
		memcpy(ram + 0x1000c, &flags, 2);
		memcpy(ram + 0x11002, &idx, 2);
	}
}

/* hyperv (TLFS): guest OS ID and the hypercall page, the reference TSC
 * page, the SynIC with its message page and SINT2, a periodic
 * message-mode STIMER0 of 1 ms whose second message waits for EOM. */
static void drive_hyperv(struct vmm_harness *h)
{
	vmm_harness_set_tsc(h, 2893301, 987654321ull);
	assert_int_equal(vmm_harness_msr_write(h, 0x40000000, 0x8100000000000000ull), 0);
	assert_int_equal(vmm_harness_msr_write(h, 0x40000001, 0x10000 | 1), 0);   /* HYPERCALL */
	assert_int_equal(vmm_harness_msr_write(h, 0x40000021, 0x30000 | 1), 0);   /* REFERENCE_TSC */
	assert_int_equal(vmm_harness_msr_write(h, 0x40000080, 1), 0);             /* SCONTROL */
	assert_int_equal(vmm_harness_msr_write(h, 0x40000083, 0x20000 | 1), 0);   /* SIMP */
	assert_int_equal(vmm_harness_msr_write(h, 0x40000082, 0x21000 | 1), 0);   /* SIEFP */
	assert_int_equal(vmm_harness_msr_write(h, 0x40000092, 0x40), 0);          /* SINT2 */
	assert_int_equal(vmm_harness_msr_write(h, 0x400000b0, 0x3 | 2ull << 16), 0); /* periodic */
	assert_int_equal(vmm_harness_msr_write(h, 0x400000b1, 10000), 0);         /* 1 ms */
	vmm_harness_clock_step(h, 2400000);
}

static void setup_hyperv(struct vmm_harness *h)
{
	vmm_harness_set_irq_mode(h, VMM_IRQ_SPLIT);
}

static char disk_path[4096];

static void setup_blk(struct vmm_harness *h)
{
	const char *props[] = { NULL, NULL };
	char p[4200];

	snprintf(p, sizeof(p), "path=%s", disk_path);
	props[0] = p;
	assert_int_equal(vmm_harness_add_backend(h, "disk0", "block-file", props), 0);
}

static void setup_net(struct vmm_harness *h)
{
	assert_int_equal(vmm_harness_add_net_fake(h, "net0", 0, NULL), 0);
}

static const char *const virtio_props[] = { "base=0xd0000000", "irq=16", NULL };
static const char *const blk_props[] = { "base=0xd0000000", "irq=16", "disk=disk0", NULL };
static const char *const net_props[] = { "base=0xd0000000", "irq=16", "net=net0", NULL };
static const char *const pl011_props[] = { "base=0x9000000", "irq=33", NULL };
static const char *const pl031_props[] = { "base=0x9010000", "irq=34", NULL };
static const char *const hyperv_props[] = { "mode=emulated", "hv-synic=true", "hv-stimer=true",
					    "hv-crash=true", NULL };
#define VIRTIO_REGS { { VMM_BUS_MMIO, 0xd0000000ull, 0x200 } }

static struct dev_case cases[] = {
	{ .plugin = fake_dev_path, .props = fake_dev_props,
	  .regions = { { VMM_BUS_PIO, 0x100, 8 }, { VMM_BUS_MMIO, 0x10000000, 8 } },
	  .drive = drive_fake_dev },
	{ .plugin = "uart16550", .regions = { { VMM_BUS_PIO, 0x3f8, 8 } }, .drive = drive_uart16550 },
	{ .plugin = "i8259", .regions = { { VMM_BUS_PIO, 0x20, 2 }, { VMM_BUS_PIO, 0xa0, 2 } },
	  .drive = drive_i8259 },
	{ .plugin = "i8254", .regions = { { VMM_BUS_PIO, 0x40, 4 } }, .drive = drive_i8254 },
	{ .plugin = "ioapic", .regions = { { VMM_BUS_MMIO, 0xfec00000, 0x20 } }, .setup = setup_split,
	  .drive = drive_ioapic },
	{ .plugin = "cmos-rtc", .regions = { { VMM_BUS_PIO, 0x70, 2 } }, .drive = drive_cmos_rtc },
	{ .plugin = "i8042", .regions = { { VMM_BUS_PIO, 0x60, 1 }, { VMM_BUS_PIO, 0x64, 1 } },
	  .drive = drive_i8042 },
	{ .plugin = "acpi-pm", .regions = { { VMM_BUS_PIO, 0x600, 16 } }, .drive = drive_acpi_pm },
	{ .plugin = "debug-exit", .regions = { { VMM_BUS_PIO, 0xf4, 4 } } },
	{ .plugin = "pl031", .props = pl031_props, .regions = { { VMM_BUS_MMIO, 0x9010000, 0x1000 } },
	  .drive = drive_pl031 },
	{ .plugin = "pl011", .props = pl011_props, .regions = { { VMM_BUS_MMIO, 0x9000000, 0x1000 } },
	  .drive = drive_pl011 },
	{ .plugin = "gic", .regions = { { VMM_BUS_MMIO, 0x08000000, 0x1000 },
					{ VMM_BUS_MMIO, 0x08010000, 0x2000 } },
	  .setup = setup_gic, .drive = drive_gic },
	{ .plugin = "arm-timer", .setup = setup_arm_timer, .drive = drive_arm_timer },
	{ .plugin = "hyperv", .props = hyperv_props, .regions = { { VMM_BUS_PIO, 0xe00, 32 } },
	  .needs_ram = true, .setup = setup_hyperv, .drive = drive_hyperv },
	{ .plugin = "virtio-rng", .props = virtio_props, .regions = VIRTIO_REGS, .virtio_mmio = true,
	  .needs_ram = true, .drive = drive_virtio },
	{ .plugin = "virtio-console", .props = virtio_props, .regions = VIRTIO_REGS, .virtio_mmio = true,
	  .needs_ram = true, .drive = drive_virtio },
	{ .plugin = "virtio-blk", .props = blk_props, .regions = VIRTIO_REGS, .virtio_mmio = true,
	  .needs_ram = true, .setup = setup_blk, .drive = drive_virtio },
	{ .plugin = "virtio-net", .props = net_props, .regions = VIRTIO_REGS, .virtio_mmio = true,
	  .needs_ram = true, .setup = setup_net, .drive = drive_virtio },
};

static struct vmm_harness *new_harness(const struct dev_case *c)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	if (c->needs_ram)
		assert_int_equal(vmm_harness_set_ram(h, 16 << 20), 0);
	if (c->setup)
		c->setup(h);
	return h;
}

/* After an accepted load: the device still answers and runs. */
static void exercise(struct vmm_harness *h, const struct dev_case *c)
{
	for (unsigned r = 0; r < 2; r++) {
		const struct region *g = &c->regions[r];

		for (uint64_t off = 0; g->bus && off < g->len && off < 0x200; off += 4)
			for (unsigned size = 1; size <= 4; size *= 2) {
				if (g->bus == VMM_BUS_PIO)
					(void)vmm_harness_pio_read(h, (uint16_t)(g->base + off), size);
				else
					(void)vmm_harness_mmio_read(h, g->base + off, size);
			}
	}
	if (c->virtio_mmio)
		vmm_harness_mmio_write(h, c->regions[0].base + 0x50, 4, 0); /* QueueNotify */
	vmm_harness_clock_step(h, 2000000000ull);
}

/* The saved harness's clock: a restored machine's clock continues from it. */
static uint64_t saved_clock_ns;

/* Loads `rec` into a fresh instance: 0, or the refusal (with its line). */
static int try_load(const struct dev_case *c, const void *rec, size_t len)
{
	struct vmm_harness *h = new_harness(c);
	struct vmm_harness_dev *d = vmm_harness_create_device(h, c->plugin, "dev0", c->props);
	int rc;

	assert_non_null(d);
	vmm_harness_clock_step(h, saved_clock_ns);
	rc = vmm_harness_load(d, rec, len);
	if (rc == 0)
		exercise(h, c);
	else if (rc != -ENOENT && rc != -EMSGSIZE && rc != -EBADMSG)
		/* a field the device judged: its own line names it (a missing
		 * or mis-sized field is named by the host's line) */
		assert_true(vmm_harness_log_count(h, VMM_LOG_ERROR) >= 1);
	vmm_harness_free(h);
	return rc;
}

enum mutation { M_ZERO, M_ONES, M_HALF, M_SHORT, M_LONG, M_MISSING, M__COUNT };

/* The record `in` again, with field `victim` changed by `m`. */
static void *mutate(const struct vmm_state_in *in, uint32_t victim, enum mutation m, uint32_t version,
		    size_t *len)
{
	struct vmm_state_out o;
	const uint8_t *bytes;
	void *copy;

	assert_int_equal(vmm_state_out_init(&o, in->plugin, in->instance, version), 0);
	for (uint32_t i = 0; i < in->nfields; i++) {
		const struct vmm_state_field *f = &in->fields[i];
		size_t n = f->len;
		uint8_t *buf = malloc(n + 1);

		assert_non_null(buf);
		memcpy(buf, f->data, n);
		if (i == victim) {
			switch (m) {
			case M_ZERO: memset(buf, 0, n); break;
			case M_ONES: memset(buf, 0xff, n); break;
			case M_HALF: memset(buf, 0x80, n); break;
			case M_SHORT: n = n ? n - 1 : 0; break;
			case M_LONG: buf[n++] = 0xa5; break;
			case M_MISSING: n = SIZE_MAX; break;
			default: break;
			}
		}
		if (n != SIZE_MAX)
			assert_int_equal(vmm_state_out_put(&o, f->name, buf, n), 0);
		free(buf);
	}
	bytes = vmm_state_out_bytes(&o, len);
	copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, bytes, *len);
	vmm_state_out_free(&o);
	return copy;
}

static void hostile_records(void **state)
{
	const struct dev_case *c = *state;
	struct vmm_harness *h = new_harness(c);
	struct vmm_harness_dev *d = vmm_harness_create_device(h, c->plugin, "dev0", c->props);
	struct vmm_state_in in;
	unsigned accepted = 0, refused = 0;
	size_t len, mlen;
	void *rec, *bad;

	assert_non_null(d);
	if (c->drive)
		c->drive(h);
	saved_clock_ns = vmm_harness_clock_ns(h);
	rec = vmm_harness_save(d, &len);
	assert_non_null(rec);
	assert_int_equal(vmm_state_in_parse(&in, rec, len), 0);
	/* the record itself loads */
	assert_int_equal(try_load(c, rec, len), 0);
	for (uint32_t i = 0; i < in.nfields; i++)
		for (int m = 0; m < M__COUNT; m++) {
			bad = mutate(&in, i, (enum mutation)m, in.version, &mlen);
			if (try_load(c, bad, mlen) == 0)
				accepted++;
			else
				refused++;
			free(bad);
		}
	/* a version the plugin has never written */
	bad = mutate(&in, UINT32_MAX, M_ZERO, in.version + 1, &mlen);
	assert_int_not_equal(try_load(c, bad, mlen), 0);
	free(bad);
	print_message("%s: %u fields, %u variants refused, %u accepted\n", in.plugin, in.nfields,
		      refused, accepted);
	vmm_state_in_free(&in);
	free(rec);
	vmm_harness_free(h);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];

	snprintf(fake_dev_path, sizeof(fake_dev_path), "%s/tests/fixtures/.libs/fake-dev.so",
		 getenv("VMM_BUILDDIR"));
	/* virtio-blk's disk: a 1 MiB image, removed at exit */
	{
		int fd;

		snprintf(disk_path, sizeof(disk_path), "/tmp/vmm-hostile-disk.XXXXXX");
		fd = mkstemp(disk_path);
		if (fd < 0 || ftruncate(fd, 1 << 20) < 0) {
			perror("test_state_hostile: disk image");
			return 1;
		}
		close(fd);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = strrchr(cases[i].plugin, '/');

		tests[i] = (struct CMUnitTest){ .name = name ? name + 1 : cases[i].plugin,
						.test_func = hostile_records,
						.initial_state = &cases[i] };
	}
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	unlink(disk_path);
	return rc;
}
