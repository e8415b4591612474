/* Device-tree builder tests: trees for a few arm64 machines, read back
 * with libfdt the way Linux reads them (paths, properties, phandles), the
 * refusals, and dtc's own checks on the blobs when dtc is installed. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libfdt.h>

#include "core/fdt.h"

/* ------------------------------------------------------------ machines */

#define DESC(compat, r) \
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_DEVICE, .fdt_compatible = (compat), \
	  .res = (r), .nres = sizeof(r) / sizeof((r)[0]) }

static const struct vmm_resource uart_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0x9000000, .len = 0x1000 },
	{ .type = VMM_RES_IRQ, .base = 33, .flags = VMM_RES_IRQ_LEVEL },
};
static const struct vmm_resource rtc_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0x9010000, .len = 0x1000 },
	{ .type = VMM_RES_IRQ, .base = 34, .flags = VMM_RES_IRQ_LEVEL },
};
static const struct vmm_resource vio0_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0xa000000, .len = 0x200 },
	{ .type = VMM_RES_IRQ, .base = 48, .flags = VMM_RES_IRQ_LEVEL },
};
static const struct vmm_resource vio1_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0xa000200, .len = 0x200 },
	{ .type = VMM_RES_IRQ, .base = 49, .flags = VMM_RES_IRQ_LEVEL | VMM_RES_IRQ_SHARED },
};
/* A third-party device: two register windows, an edge and a level line,
 * its IRQ resource before its first MMIO one. */
static const struct vmm_resource widget_res[] = {
	{ .type = VMM_RES_IRQ, .base = 100 },
	{ .type = VMM_RES_MMIO, .base = 0x10000000, .len = 0x100 },
	{ .type = VMM_RES_MMIO, .base = 0x10001000, .len = 0x40 },
	{ .type = VMM_RES_IRQ, .base = 101, .flags = VMM_RES_IRQ_LEVEL },
};

static const struct vmm_device_desc devices[] = {
	DESC("arm,pl011 arm,primecell", uart_res),
	DESC("arm,pl031 arm,primecell", rtc_res),
	DESC("virtio,mmio", vio0_res),
	DESC("virtio,mmio", vio1_res),
	DESC("acme,widget-2000 acme,widget", widget_res),
	/* An x86-only description: no compatible, so no node. */
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_PIC },
};
#define NDEVICES (sizeof(devices) / sizeof(devices[0]))
static const char *const device_names[NDEVICES] = { "uart0", "rtc", "vda", "rng", "widget", "pic" };

static const struct vmm_fdt_region ram[] = { { 0x40000000, 256ull << 20 } };
static const struct vmm_fdt_region gicv3_redist[] = { { 0x80a0000, 0x40000 } };
static const uint64_t mpidr_one[] = { 0x80000000 };
static const uint64_t mpidr_two[] = { 0x80000000, 0x80000001 };

static struct vmm_fdt_machine gicv3_one_vcpu(void)
{
	struct vmm_fdt_machine m = {
		.ram = ram, .nram = 1,
		.mpidr = mpidr_one, .nvcpus = 1,
		.psci_method = VMM_FDT_PSCI_HVC, .psci_version = VMM_FDT_PSCI_VERSION(1, 0),
		.gic = { .version = 3, .dist = { 0x8000000, 0x10000 }, .redist = gicv3_redist,
			 .nredist = 1, .nr_irqs = 256 },
		.bootargs = "console=ttyAMA0 quiet",
		.stdout_dev = &devices[0],
		.initrd_start = 0x48000000, .initrd_end = 0x48123457,
		.descs = devices, .ndescs = NDEVICES, .desc_names = device_names,
	};
	return m;
}

static struct vmm_fdt_machine gicv2_two_vcpus(void)
{
	struct vmm_fdt_machine m = {
		.ram = ram, .nram = 1,
		.mpidr = mpidr_two, .nvcpus = 2,
		.psci_method = VMM_FDT_PSCI_HVC, .psci_version = VMM_FDT_PSCI_VERSION(0, 2),
		.gic = { .version = 2, .dist = { 0x8000000, 0x1000 }, .cpu_if = { 0x8010000, 0x2000 } },
		.apb_clock_hz = 12500000,
		.bootargs = "console=ttyAMA0",
		.descs = devices, .ndescs = NDEVICES, .desc_names = device_names,
	};
	return m;
}

/* ------------------------------------------------------------- readers */

static void *build(const struct vmm_fdt_machine *m, size_t *size)
{
	void *blob = NULL;
	char err[256] = "";
	size_t sz = 0;
	int rc = vmm_fdt_build(m, &blob, &sz, err, sizeof(err));
	if (rc)
		print_error("vmm_fdt_build: %s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(fdt_check_header(blob), 0);
	assert_int_equal(fdt_totalsize(blob), sz);
	if (size)
		*size = sz;
	return blob;
}

/* The refusal's errno, and its message holds every one of `words`. */
static void refused(const struct vmm_fdt_machine *m, int want, const char *words)
{
	void *blob = NULL;
	size_t sz = 0;
	char err[256] = "";
	assert_int_equal(vmm_fdt_build(m, &blob, &sz, err, sizeof(err)), want);
	assert_null(blob);
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", words);
	for (char *save = NULL, *w = strtok_r(copy, "|", &save); w; w = strtok_r(NULL, "|", &save))
		if (!strstr(err, w)) {
			print_error("message \"%s\" lacks \"%s\"\n", err, w);
			fail();
		}
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);
	if (off < 0)
		print_error("no node %s\n", path);
	assert_true(off >= 0);
	return off;
}

static const void *getprop(const void *fdt, int off, const char *name, int *len)
{
	const void *v = fdt_getprop(fdt, off, name, len);
	if (!v)
		print_error("no property %s in %s\n", name, fdt_get_name(fdt, off, NULL));
	assert_non_null(v);
	return v;
}

static void expect_str(const void *fdt, int off, const char *name, const char *want)
{
	int len;
	const char *v = getprop(fdt, off, name, &len);
	assert_int_equal(len, strlen(want) + 1);
	assert_string_equal(v, want);
}

/* A string list: `want` with '\n' between the strings. */
static void expect_strlist(const void *fdt, int off, const char *name, const char *want)
{
	int len;
	const char *v = getprop(fdt, off, name, &len);
	char buf[256];
	size_t n = strlen(want) + 1;
	assert_true(n <= sizeof(buf));
	memcpy(buf, want, n);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = '\0';
	assert_int_equal(len, n);
	assert_memory_equal(v, buf, n);
}

static void expect_cells(const void *fdt, int off, const char *name, const uint32_t *want, int n)
{
	int len;
	const fdt32_t *v = getprop(fdt, off, name, &len);
	assert_int_equal(len, 4 * n);
	for (int i = 0; i < n; i++) {
		if (fdt32_to_cpu(v[i]) != want[i])
			print_error("%s cell %d: 0x%x, want 0x%x\n", name, i, fdt32_to_cpu(v[i]), want[i]);
		assert_int_equal(fdt32_to_cpu(v[i]), want[i]);
	}
}

static uint32_t get_u32(const void *fdt, int off, const char *name)
{
	int len;
	const fdt32_t *v = getprop(fdt, off, name, &len);
	assert_int_equal(len, 4);
	return fdt32_to_cpu(*v);
}

static uint64_t get_u64(const void *fdt, int off, const char *name)
{
	int len;
	const fdt64_t *v = getprop(fdt, off, name, &len);
	assert_int_equal(len, 8);
	return fdt64_to_cpu(*v);
}

static void expect_absent(const void *fdt, int off, const char *name)
{
	int len;
	assert_null(fdt_getprop(fdt, off, name, &len));
}

/* The node a phandle cell names. */
static int by_phandle(const void *fdt, uint32_t ph)
{
	int off = fdt_node_offset_by_phandle(fdt, ph);
	assert_true(off >= 0);
	return off;
}

static int count_subnodes(const void *fdt, int parent)
{
	int n = 0, child;
	fdt_for_each_subnode(child, fdt, parent)
		n++;
	return n;
}

/* ----------------------------------------------------------- the pieces */

static void test_compatible_list(void **state)
{
	char out[64];
	size_t len = 0;

	assert_int_equal(vmm_fdt_compatible_list("arm,pl011 arm,primecell", out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof("arm,pl011\0arm,primecell"));
	assert_memory_equal(out, "arm,pl011\0arm,primecell", len);
	assert_int_equal(vmm_fdt_compatible_list("virtio,mmio", out, sizeof(out), &len), 0);
	assert_int_equal(len, sizeof("virtio,mmio"));
	assert_int_equal(vmm_fdt_compatible_list("a b c", out, sizeof(out), &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "a\0b\0c\0", 6);

	assert_int_equal(vmm_fdt_compatible_list("", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(vmm_fdt_compatible_list(NULL, out, sizeof(out), &len), -EINVAL);
	assert_int_equal(vmm_fdt_compatible_list(" ", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(vmm_fdt_compatible_list(" a", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(vmm_fdt_compatible_list("a ", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(vmm_fdt_compatible_list("a  b", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(vmm_fdt_compatible_list("a\tb", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(vmm_fdt_compatible_list("a\nb", out, sizeof(out), &len), -EINVAL);
	/* "a b" needs 4 bytes. */
	assert_int_equal(vmm_fdt_compatible_list("a b", out, 3, &len), -ENOSPC);
	assert_int_equal(vmm_fdt_compatible_list("a b", out, 4, &len), 0);
}

static void expect_name(const char *list, const char *want)
{
	char out[32];
	int rc = vmm_fdt_generic_name(list, out, sizeof(out));
	if (rc)
		print_error("\"%s\": %d\n", list, rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, want);
}

static void test_generic_names(void **state)
{
	char out[32];

	/* 2.2.2's generic names for what we know, by model. */
	expect_name("arm,pl011 arm,primecell", "serial");
	expect_name("ns16550a", "serial");
	expect_name("snps,dw-apb-uart", "serial");
	expect_name("arm,pl031 arm,primecell", "rtc");
	expect_name("google,goldfish-rtc", "rtc");
	expect_name("virtio,mmio", "virtio_mmio");
	/* Any entry may say what it is: the most specific one that does. */
	expect_name("acme,console arm,pl011", "serial");
	/* Otherwise the first compatible's model. */
	expect_name("acme,widget-2000 acme,widget", "widget-2000");
	expect_name("widget", "widget");
	expect_name("arm,primecell", "primecell");
	/* A lettered part must start a word; digits may follow letters. */
	expect_name("acme,artcore", "artcore");
	expect_name("xlnx,xps-uartlite-1.00.a", "serial");
	expect_name("acme,rtc2", "rtc");
	expect_name("acme,my16550", "serial");

	/* Not node names (2.2.1): a leading digit, a '/', too long. */
	assert_int_equal(vmm_fdt_generic_name("acme,9000", out, sizeof(out)), -EINVAL);
	assert_int_equal(vmm_fdt_generic_name("acme,a/b", out, sizeof(out)), -EINVAL);
	assert_int_equal(vmm_fdt_generic_name("acme,abcdefghijklmnopqrstuvwxyz012345", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(vmm_fdt_generic_name("acme,abcdefghijklmnopqrstuvwxyz01234", out, sizeof(out)),
			 0);
	assert_int_equal(vmm_fdt_generic_name("", out, sizeof(out)), -EINVAL);
	assert_int_equal(vmm_fdt_generic_name("virtio,mmio", out, 11), -ENOSPC);
}

/* --------------------------------------------------------- whole trees */

/* What every tree has, whatever the machine. */
static void check_common(const void *fdt, const struct vmm_fdt_machine *m)
{
	int root = node(fdt, "/");
	expect_str(fdt, root, "compatible", "linux,dummy-virt");
	expect_str(fdt, root, "model", "vmm,arm64-virt");
	assert_int_equal(get_u32(fdt, root, "#address-cells"), 2);
	assert_int_equal(get_u32(fdt, root, "#size-cells"), 2);

	/* interrupt-parent names the GIC, an interrupt controller with
	 * three-cell specifiers. */
	int gic = by_phandle(fdt, get_u32(fdt, root, "interrupt-parent"));
	assert_int_equal(get_u32(fdt, gic, "#interrupt-cells"), 3);
	assert_int_equal(get_u32(fdt, gic, "#address-cells"), 0);
	int len;
	assert_non_null(fdt_getprop(fdt, gic, "interrupt-controller", &len));
	assert_int_equal(len, 0);
	char gic_path[64];
	snprintf(gic_path, sizeof(gic_path), "/interrupt-controller@%llx",
		 (unsigned long long)m->gic.dist.base);
	assert_int_equal(node(fdt, gic_path), gic);

	int mem = node(fdt, "/memory@40000000");
	expect_str(fdt, mem, "device_type", "memory");
	const uint32_t mem_reg[] = { 0, 0x40000000, 0, 0x10000000 };
	expect_cells(fdt, mem, "reg", mem_reg, 4);

	int psci = node(fdt, "/psci");
	expect_str(fdt, psci, "method", "hvc");

	int timer = node(fdt, "/timer");
	expect_str(fdt, timer, "compatible", "arm,armv8-timer");

	/* The devices, in the order described; the PIC has no node. */
	int uart = node(fdt, "/serial@9000000");
	expect_strlist(fdt, uart, "compatible", "arm,pl011\narm,primecell");
	const uint32_t uart_reg[] = { 0, 0x9000000, 0, 0x1000 };
	expect_cells(fdt, uart, "reg", uart_reg, 4);
	const uint32_t uart_irq[] = { 0, 1, 4 }; /* INTID 33 = SPI 1, level high */
	expect_cells(fdt, uart, "interrupts", uart_irq, 3);
	expect_strlist(fdt, uart, "clock-names", "uartclk\napb_pclk");
	const fdt32_t *clocks = getprop(fdt, uart, "clocks", &len);
	assert_int_equal(len, 8);
	int clk = by_phandle(fdt, fdt32_to_cpu(clocks[0]));
	assert_int_equal(by_phandle(fdt, fdt32_to_cpu(clocks[1])), clk);
	expect_str(fdt, clk, "compatible", "fixed-clock");
	assert_int_equal(get_u32(fdt, clk, "#clock-cells"), 0);
	assert_int_equal(get_u32(fdt, clk, "clock-frequency"),
			 m->apb_clock_hz ? m->apb_clock_hz : 24000000);

	int rtc = node(fdt, "/rtc@9010000");
	expect_strlist(fdt, rtc, "compatible", "arm,pl031\narm,primecell");
	const uint32_t rtc_irq[] = { 0, 2, 4 };
	expect_cells(fdt, rtc, "interrupts", rtc_irq, 3);
	expect_str(fdt, rtc, "clock-names", "apb_pclk");
	assert_int_equal(by_phandle(fdt, get_u32(fdt, rtc, "clocks")), clk);

	int vio0 = node(fdt, "/virtio_mmio@a000000");
	expect_str(fdt, vio0, "compatible", "virtio,mmio");
	const uint32_t vio0_reg[] = { 0, 0xa000000, 0, 0x200 };
	expect_cells(fdt, vio0, "reg", vio0_reg, 4);
	const uint32_t vio0_irq[] = { 0, 16, 4 };
	expect_cells(fdt, vio0, "interrupts", vio0_irq, 3);
	expect_absent(fdt, vio0, "clocks");
	expect_absent(fdt, vio0, "clock-names");
	/* Emulated devices are cache-coherent: an empty dma-coherent. */
	getprop(fdt, vio0, "dma-coherent", &len);
	assert_int_equal(len, 0);
	getprop(fdt, node(fdt, "/widget-2000@10000000"), "dma-coherent", &len);
	assert_int_equal(len, 0);
	int vio1 = node(fdt, "/virtio_mmio@a000200");
	const uint32_t vio1_irq[] = { 0, 17, 4 };
	expect_cells(fdt, vio1, "interrupts", vio1_irq, 3);
	assert_true(vio0 < vio1);

	/* The unknown device: named after its model, both windows in reg
	 * (the first gives the unit address), both lines, edge then level. */
	int widget = node(fdt, "/widget-2000@10000000");
	expect_strlist(fdt, widget, "compatible", "acme,widget-2000\nacme,widget");
	const uint32_t widget_reg[] = { 0, 0x10000000, 0, 0x100, 0, 0x10001000, 0, 0x40 };
	expect_cells(fdt, widget, "reg", widget_reg, 8);
	const uint32_t widget_irq[] = { 0, 68, 1, 0, 69, 4 };
	expect_cells(fdt, widget, "interrupts", widget_irq, 6);
	expect_absent(fdt, widget, "clocks");

	/* chosen, memory, cpus, psci, gic, timer, clock and five devices. */
	assert_int_equal(count_subnodes(fdt, root), 12 + (int)m->nram - 1);
	int chosen = node(fdt, "/chosen");
	expect_str(fdt, chosen, "bootargs", m->bootargs);
}

static void test_gicv3_one_vcpu_with_initrd(void **state)
{
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	void *fdt = build(&m, NULL);
	check_common(fdt, &m);

	int gic = node(fdt, "/interrupt-controller@8000000");
	expect_str(fdt, gic, "compatible", "arm,gic-v3");
	const uint32_t gic_reg[] = { 0, 0x8000000, 0, 0x10000, 0, 0x80a0000, 0, 0x40000 };
	expect_cells(fdt, gic, "reg", gic_reg, 8);
	expect_absent(fdt, gic, "#redistributor-regions");

	/* No cpu mask in a GICv3 PPI specifier. */
	const uint32_t timer_irq[] = { 1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4 };
	expect_cells(fdt, node(fdt, "/timer"), "interrupts", timer_irq, 12);

	expect_strlist(fdt, node(fdt, "/psci"), "compatible", "arm,psci-1.0\narm,psci-0.2");

	int cpus = node(fdt, "/cpus");
	assert_int_equal(get_u32(fdt, cpus, "#address-cells"), 1);
	assert_int_equal(get_u32(fdt, cpus, "#size-cells"), 0);
	assert_int_equal(count_subnodes(fdt, cpus), 1);
	int cpu = node(fdt, "/cpus/cpu@0");
	expect_str(fdt, cpu, "device_type", "cpu");
	expect_str(fdt, cpu, "compatible", "arm,armv8");
	expect_str(fdt, cpu, "enable-method", "psci");
	const uint32_t cpu_reg[] = { 0 }; /* MPIDR bit 31 (RES1) is not affinity */
	expect_cells(fdt, cpu, "reg", cpu_reg, 1);

	/* stdout-path resolves to the pl011. */
	int chosen = node(fdt, "/chosen");
	int len;
	const char *stdout_path = getprop(fdt, chosen, "stdout-path", &len);
	assert_string_equal(stdout_path, "/serial@9000000");
	assert_int_equal(fdt_path_offset(fdt, stdout_path), node(fdt, "/serial@9000000"));
	assert_int_equal(get_u64(fdt, chosen, "linux,initrd-start"), 0x48000000);
	assert_int_equal(get_u64(fdt, chosen, "linux,initrd-end"), 0x48123457);
	free(fdt);
}

static void test_gicv2_two_vcpus_without_initrd(void **state)
{
	struct vmm_fdt_machine m = gicv2_two_vcpus();
	void *fdt = build(&m, NULL);
	check_common(fdt, &m);

	int gic = node(fdt, "/interrupt-controller@8000000");
	expect_str(fdt, gic, "compatible", "arm,cortex-a15-gic");
	const uint32_t gic_reg[] = { 0, 0x8000000, 0, 0x1000, 0, 0x8010000, 0, 0x2000 };
	expect_cells(fdt, gic, "reg", gic_reg, 8);

	/* GICv2 PPIs carry the mask of the CPUs they reach, here 2. */
	const uint32_t timer_irq[] = { 1, 13, 0x304, 1, 14, 0x304, 1, 11, 0x304, 1, 10, 0x304 };
	expect_cells(fdt, node(fdt, "/timer"), "interrupts", timer_irq, 12);

	expect_strlist(fdt, node(fdt, "/psci"), "compatible", "arm,psci-0.2");

	int cpus = node(fdt, "/cpus");
	assert_int_equal(get_u32(fdt, cpus, "#address-cells"), 1);
	assert_int_equal(count_subnodes(fdt, cpus), 2);
	const uint32_t r0[] = { 0 }, r1[] = { 1 };
	expect_cells(fdt, node(fdt, "/cpus/cpu@0"), "reg", r0, 1);
	expect_cells(fdt, node(fdt, "/cpus/cpu@1"), "reg", r1, 1);
	expect_str(fdt, node(fdt, "/cpus/cpu@1"), "enable-method", "psci");

	int chosen = node(fdt, "/chosen");
	expect_absent(fdt, chosen, "linux,initrd-start");
	expect_absent(fdt, chosen, "linux,initrd-end");
	expect_absent(fdt, chosen, "stdout-path");
	free(fdt);
}

/* gic.version 0: a machine without an interrupt controller (arm64 first
 * light, a polling guest): no GIC node, no interrupt-parent, no timer,
 * devices without interrupts, the rest as usual. */
static void test_no_gic(void **state)
{
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	m.gic = (struct vmm_fdt_gic){ .version = 0 };
	void *fdt = build(&m, NULL);

	assert_true(fdt_path_offset(fdt, "/interrupt-controller@8000000") < 0);
	assert_true(fdt_path_offset(fdt, "/timer") < 0);
	expect_absent(fdt, 0, "interrupt-parent");
	int uart = node(fdt, "/serial@9000000");
	expect_strlist(fdt, uart, "compatible", "arm,pl011\narm,primecell");
	expect_absent(fdt, uart, "interrupts");
	expect_str(fdt, node(fdt, "/cpus/cpu@0"), "enable-method", "psci");
	int chosen = node(fdt, "/chosen");
	int len;
	assert_string_equal(getprop(fdt, chosen, "stdout-path", &len), "/serial@9000000");
	free(fdt);
	/* Device IRQs are still checked as SPIs. */
	struct vmm_device_desc bad = devices[0];
	struct vmm_resource res[] = { { .type = VMM_RES_MMIO, .base = 0x9000000, .len = 0x1000 },
				      { .type = VMM_RES_IRQ, .base = 5 } };
	bad.res = res;
	bad.nres = 2;
	m.descs = &bad;
	m.ndescs = 1;
	m.desc_names = NULL;
	m.stdout_dev = NULL;
	refused(&m, -EINVAL, "not a GIC SPI");
}

static void test_eight_vcpus_on_gicv2(void **state)
{
	static const uint64_t mpidr[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct vmm_fdt_machine m = gicv2_two_vcpus();
	m.mpidr = mpidr;
	m.nvcpus = 8;
	void *fdt = build(&m, NULL);
	const uint32_t timer_irq[] = { 1, 13, 0xff04, 1, 14, 0xff04, 1, 11, 0xff04, 1, 10, 0xff04 };
	expect_cells(fdt, node(fdt, "/timer"), "interrupts", timer_irq, 12);
	assert_int_equal(count_subnodes(fdt, node(fdt, "/cpus")), 8);
	node(fdt, "/cpus/cpu@7");
	free(fdt);
}

/* cpus.yaml: two address cells once some Aff3 is not zero, Aff3 in the
 * first; Aff2-Aff0 keep their places; MT and U bits stay out. */
static void test_mpidr_affinity_cells(void **state)
{
	static const uint64_t mpidr[] = { 0x81000100ull, 0x1c1020304ull };
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	m.mpidr = mpidr;
	m.nvcpus = 2;
	void *fdt = build(&m, NULL);
	int cpus = node(fdt, "/cpus");
	assert_int_equal(get_u32(fdt, cpus, "#address-cells"), 2);
	const uint32_t r0[] = { 0, 0x100 }, r1[] = { 1, 0x020304 };
	expect_cells(fdt, node(fdt, "/cpus/cpu@100"), "reg", r0, 2);
	expect_cells(fdt, node(fdt, "/cpus/cpu@100020304"), "reg", r1, 2);
	free(fdt);

	static const uint64_t aff2[] = { 0x80010203ull };
	m.mpidr = aff2;
	m.nvcpus = 1;
	fdt = build(&m, NULL);
	assert_int_equal(get_u32(fdt, node(fdt, "/cpus"), "#address-cells"), 1);
	const uint32_t r[] = { 0x010203 };
	expect_cells(fdt, node(fdt, "/cpus/cpu@10203"), "reg", r, 1);
	free(fdt);
}

static void test_gicv3_redistributor_regions(void **state)
{
	static const struct vmm_fdt_region redist[] = { { 0x80a0000, 0x20000 }, { 0x9100000, 0x20000 } };
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	m.gic.redist = redist;
	m.gic.nredist = 2;
	void *fdt = build(&m, NULL);
	int gic = node(fdt, "/interrupt-controller@8000000");
	assert_int_equal(get_u32(fdt, gic, "#redistributor-regions"), 2);
	const uint32_t reg[] = { 0, 0x8000000, 0, 0x10000, 0, 0x80a0000, 0, 0x20000,
				 0, 0x9100000, 0, 0x20000 };
	expect_cells(fdt, gic, "reg", reg, 12);
	free(fdt);
}

static void test_machine_options(void **state)
{
	static const struct vmm_fdt_region two_banks[] = {
		{ 0x40000000, 256ull << 20 }, { 0x100000000ull, 1ull << 30 },
	};
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	m.model = "test board";
	m.ram = two_banks;
	m.nram = 2;
	m.psci_method = VMM_FDT_PSCI_SMC;
	m.psci_version = VMM_FDT_PSCI_VERSION(1, 1);
	m.timer_irq[VMM_FDT_TIMER_SEC_PHYS] = 16 + 3;
	m.timer_irq[VMM_FDT_TIMER_PHYS] = 16 + 4;
	m.timer_irq[VMM_FDT_TIMER_VIRT] = 16 + 5;
	m.timer_irq[VMM_FDT_TIMER_HYP] = 31;
	m.stdout_dev = &devices[3];
	m.stdout_options = "115200n8";
	m.bootargs = NULL;
	m.initrd_start = 0x100000000ull;
	m.initrd_end = 0x100001000ull;
	void *fdt = build(&m, NULL);

	expect_str(fdt, node(fdt, "/"), "model", "test board");
	const uint32_t high[] = { 1, 0, 0, 0x40000000 };
	int mem = node(fdt, "/memory@100000000");
	expect_str(fdt, mem, "device_type", "memory");
	expect_cells(fdt, mem, "reg", high, 4);
	expect_strlist(fdt, node(fdt, "/psci"), "compatible", "arm,psci-1.0\narm,psci-0.2");
	expect_str(fdt, node(fdt, "/psci"), "method", "smc");
	const uint32_t timer_irq[] = { 1, 3, 4, 1, 4, 4, 1, 5, 4, 1, 15, 4 };
	expect_cells(fdt, node(fdt, "/timer"), "interrupts", timer_irq, 12);
	int chosen = node(fdt, "/chosen");
	expect_str(fdt, chosen, "stdout-path", "/virtio_mmio@a000200:115200n8");
	expect_absent(fdt, chosen, "bootargs");
	assert_int_equal(get_u64(fdt, chosen, "linux,initrd-start"), 0x100000000ull);
	free(fdt);
}

/* Many devices outgrow the first buffer; the tree still comes out whole. */
static void test_large_tree(void **state)
{
	enum { N = 400 };
	struct vmm_device_desc *d = calloc(N, sizeof(*d));
	struct vmm_resource *r = calloc(2 * N, sizeof(*r));
	assert_non_null(d);
	assert_non_null(r);
	for (int i = 0; i < N; i++) {
		r[2 * i] = (struct vmm_resource){ .type = VMM_RES_MMIO, .base = 0x20000000 + 0x1000ull * i,
						  .len = 0x200 };
		r[2 * i + 1] = (struct vmm_resource){ .type = VMM_RES_IRQ, .base = 32 + i % 200 };
		d[i] = (struct vmm_device_desc){ .size = sizeof(*d), .fdt_compatible = "virtio,mmio",
						 .res = &r[2 * i], .nres = 2 };
	}
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	m.descs = d;
	m.ndescs = N;
	m.desc_names = NULL;
	m.stdout_dev = &d[N - 1];
	size_t size;
	void *fdt = build(&m, &size);
	assert_true(size > 8192);
	assert_int_equal(count_subnodes(fdt, node(fdt, "/")), 7 + N);
	const uint32_t last_irq[] = { 0, (N - 1) % 200, 1 };
	char path[64];
	snprintf(path, sizeof(path), "/virtio_mmio@%x", 0x20000000 + 0x1000 * (N - 1));
	expect_cells(fdt, node(fdt, path), "interrupts", last_irq, 3);
	expect_str(fdt, node(fdt, "/chosen"), "stdout-path", path);
	free(fdt);

	/* Past arm64's 2 MiB limit it is refused. */
	char *huge = malloc(VMM_FDT_MAX_SIZE);
	assert_non_null(huge);
	memset(huge, 'x', VMM_FDT_MAX_SIZE - 1);
	huge[VMM_FDT_MAX_SIZE - 1] = '\0';
	m.bootargs = huge;
	refused(&m, -ENOSPC, "does not fit");
	free(huge);
	free(d);
	free(r);
}

/* ----------------------------------------------------------- refusals */

static void refused_device(const struct vmm_resource *res, uint32_t nres, const char *compat,
			   int want, const char *words)
{
	struct vmm_device_desc descs[2] = {
		devices[0],
		{ .size = sizeof(struct vmm_device_desc), .fdt_compatible = compat, .res = res, .nres = nres },
	};
	const char *const names[2] = { "uart0", "mydev" };
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	m.descs = descs;
	m.ndescs = 2;
	m.desc_names = names;
	m.stdout_dev = NULL;
	refused(&m, want, words);
	/* Without names the message gives its index (and no quoted names). */
	m.desc_names = NULL;
	char idx[256] = "device 1", copy[256];
	snprintf(copy, sizeof(copy), "%s", words);
	for (char *save = NULL, *w = strtok_r(copy, "|", &save); w; w = strtok_r(NULL, "|", &save))
		if (*w != '"')
			snprintf(idx + strlen(idx), sizeof(idx) - strlen(idx), "|%s", w);
	refused(&m, want, idx);
}

static void test_refused_devices(void **state)
{
	const struct vmm_resource irq_only[] = { { .type = VMM_RES_IRQ, .base = 40 } };
	refused_device(irq_only, 1, "acme,thing", -EINVAL, "\"mydev\"|no MMIO");
	refused_device(NULL, 0, "acme,thing", -EINVAL, "\"mydev\"|no MMIO");

	const struct vmm_resource ppi[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 },
		{ .type = VMM_RES_IRQ, .base = 31 },
	};
	refused_device(ppi, 2, "acme,thing", -EINVAL, "\"mydev\"|IRQ 31|not a GIC SPI");
	const struct vmm_resource first_spi[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 },
		{ .type = VMM_RES_IRQ, .base = 32 },
	};
	struct vmm_device_desc ok[2] = {
		devices[0],
		{ .size = sizeof(struct vmm_device_desc), .fdt_compatible = "acme,thing", .res = first_spi,
		  .nres = 2 },
	};
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	m.descs = ok;
	m.ndescs = 2;
	m.stdout_dev = NULL;
	m.desc_names = NULL;
	void *fdt = build(&m, NULL);
	const uint32_t spi0[] = { 0, 0, 1 };
	expect_cells(fdt, node(fdt, "/thing@9020000"), "interrupts", spi0, 3);
	free(fdt);

	/* The GIC implements 256 INTIDs: 255 is its last SPI. */
	const struct vmm_resource last_spi[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 },
		{ .type = VMM_RES_IRQ, .base = 255 },
	};
	ok[1].res = last_spi;
	fdt = build(&m, NULL);
	free(fdt);
	const struct vmm_resource beyond[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 },
		{ .type = VMM_RES_IRQ, .base = 256 },
	};
	refused_device(beyond, 2, "acme,thing", -EINVAL, "\"mydev\"|IRQ 256|255");

	const struct vmm_resource low[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 },
		{ .type = VMM_RES_IRQ, .base = 40, .flags = VMM_RES_IRQ_LEVEL | VMM_RES_IRQ_ACTIVE_LOW },
	};
	refused_device(low, 2, "acme,thing", -EINVAL, "\"mydev\"|active-low");
	const struct vmm_resource io[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 },
		{ .type = VMM_RES_IO, .base = 0x3f8, .len = 8 },
	};
	refused_device(io, 2, "ns16550a", -EINVAL, "\"mydev\"|port I/O");
	const struct vmm_resource odd[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 },
		{ .type = 9, .base = 1 },
	};
	refused_device(odd, 2, "acme,thing", -EINVAL, "\"mydev\"|unknown type");
	const struct vmm_resource empty[] = { { .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0 } };
	refused_device(empty, 1, "acme,thing", -EINVAL, "\"mydev\"|empty or wraps");
	const struct vmm_resource wraps[] = {
		{ .type = VMM_RES_MMIO, .base = 0xfffffffffffff000ull, .len = 0x2000 },
	};
	refused_device(wraps, 1, "acme,thing", -EINVAL, "\"mydev\"|empty or wraps");

	const struct vmm_resource fine[] = { { .type = VMM_RES_MMIO, .base = 0x9020000, .len = 0x1000 } };
	refused_device(fine, 1, "", -EINVAL, "\"mydev\"|compatible list is empty");
	refused_device(fine, 1, "  ", -EINVAL, "\"mydev\"|compatible list is empty");
	refused_device(fine, 1, "acme,thing  acme,base", -EINVAL, "\"mydev\"|malformed compatible");
	refused_device(fine, 1, "acme,3com", -EINVAL, "\"mydev\"|malformed compatible");

	/* Two claims on the same bytes: device and device, RAM, the GIC. */
	const struct vmm_resource on_uart[] = { { .type = VMM_RES_MMIO, .base = 0x9000800, .len = 0x1000 } };
	refused_device(on_uart, 1, "acme,thing", -EINVAL, "\"mydev\"|overlaps|\"uart0\"");
	const struct vmm_resource on_ram[] = { { .type = VMM_RES_MMIO, .base = 0x4fffff00, .len = 0x100 } };
	refused_device(on_ram, 1, "acme,thing", -EINVAL, "\"mydev\"|overlaps RAM");
	const struct vmm_resource below_ram[] = { { .type = VMM_RES_MMIO, .base = 0x3fffff00, .len = 0x101 } };
	refused_device(below_ram, 1, "acme,thing", -EINVAL, "\"mydev\"|overlaps RAM");
	const struct vmm_resource on_gicr[] = { { .type = VMM_RES_MMIO, .base = 0x80dffff, .len = 1 } };
	refused_device(on_gicr, 1, "acme,thing", -EINVAL, "\"mydev\"|overlaps|redistributor");
	const struct vmm_resource touching[] = {
		{ .type = VMM_RES_MMIO, .base = 0x9001000, .len = 0xf000 },
		{ .type = VMM_RES_MMIO, .base = 0x50000000, .len = 0x1000 },
	};
	ok[1].res = touching;
	ok[1].nres = 2;
	fdt = build(&m, NULL);
	free(fdt);
}

static void test_refused_machines(void **state)
{
	struct vmm_fdt_machine m;

	m = gicv3_one_vcpu();
	m.nram = 0;
	refused(&m, -EINVAL, "no RAM");
	const struct vmm_fdt_region empty_ram[] = { { 0x40000000, 0 } };
	m = gicv3_one_vcpu();
	m.ram = empty_ram;
	refused(&m, -EINVAL, "RAM region 0");

	m = gicv3_one_vcpu();
	m.nvcpus = 0;
	refused(&m, -EINVAL, "no vCPUs");
	static const uint64_t same[] = { 0x80000001, 0x1 };
	m = gicv3_one_vcpu();
	m.mpidr = same;
	m.nvcpus = 2;
	refused(&m, -EINVAL, "vCPUs 0 and 1|affinity 0x1");

	m = gicv3_one_vcpu();
	m.psci_version = VMM_FDT_PSCI_VERSION(0, 1);
	refused(&m, -EINVAL, "PSCI version 0.1");
	m = gicv3_one_vcpu();
	m.psci_method = (enum vmm_fdt_psci_method)7;
	refused(&m, -EINVAL, "PSCI method");

	m = gicv3_one_vcpu();
	m.gic.version = 4;
	refused(&m, -EINVAL, "GIC version 4");
	m = gicv3_one_vcpu();
	m.gic.nredist = 0;
	refused(&m, -EINVAL, "redistributor");
	m = gicv3_one_vcpu();
	m.gic.dist.size = 0;
	refused(&m, -EINVAL, "distributor");
	m = gicv3_one_vcpu();
	m.gic.nr_irqs = 32;
	refused(&m, -EINVAL, "no SPIs");
	m = gicv2_two_vcpus();
	m.gic.cpu_if.size = 0;
	refused(&m, -EINVAL, "CPU interface");
	static const uint64_t nine[9] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	m = gicv2_two_vcpus();
	m.mpidr = nine;
	m.nvcpus = 9;
	refused(&m, -EINVAL, "9 vCPUs|GICv2");
	m = gicv2_two_vcpus();
	m.gic.cpu_if.base = 0x8000800;
	refused(&m, -EINVAL, "CPU interface|overlaps|distributor");

	m = gicv3_one_vcpu();
	m.timer_irq[VMM_FDT_TIMER_VIRT] = 27;
	refused(&m, -EINVAL, "timer interrupt 0|INTID 0");
	m.timer_irq[0] = 29;
	m.timer_irq[1] = 30;
	m.timer_irq[3] = 32;
	refused(&m, -EINVAL, "timer interrupt 3|INTID 32");
	m.timer_irq[3] = 15;
	refused(&m, -EINVAL, "timer interrupt 3|INTID 15");

	m = gicv3_one_vcpu();
	m.initrd_start = 0x4ffff000;
	m.initrd_end = 0x50000001;
	refused(&m, -EINVAL, "initrd");
	m.initrd_end = 0x50000000; /* exclusive: ends at the last byte of RAM */
	free(build(&m, NULL));
	m.initrd_start = 0x48000000;
	m.initrd_end = 0x48000000;
	refused(&m, -EINVAL, "initrd");
	m.initrd_start = 0x3ffff000;
	m.initrd_end = 0x40001000;
	refused(&m, -EINVAL, "initrd");

	m = gicv3_one_vcpu();
	struct vmm_device_desc elsewhere = devices[0];
	m.stdout_dev = &elsewhere;
	refused(&m, -EINVAL, "console");
	m.stdout_dev = &devices[NDEVICES - 1]; /* the PIC: no node */
	refused(&m, -EINVAL, "console");
	m.stdout_dev = &devices[0];
	m.stdout_options = "115200 n8";
	refused(&m, -EINVAL, "console options");
}

/* ---------------------------------------------------------------- dtc */

/* dtc decompiles the blob without a warning: its checks (unit address
 * against reg, #address-cells, phandle references, interrupt providers,
 * node and property names) find nothing. */
static void dtc_clean(const struct vmm_fdt_machine *m, const char *what)
{
	size_t size;
	void *fdt = build(m, &size);
	char dtb[] = "/tmp/test_fdt.XXXXXX";
	int fd = mkstemp(dtb);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, fdt, size), (ssize_t)size);
	close(fd);
	free(fdt);

	char cmd[256], out[4096] = "";
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o /dev/null %s 2>&1", dtb);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	unlink(dtb);
	if (status != 0 || n != 0)
		print_error("dtc on the %s tree (status %d):\n%s", what, status, out);
	assert_int_equal(status, 0);
	assert_int_equal(n, 0);
}

static void test_dtc_finds_nothing(void **state)
{
	if (system("command -v dtc >/dev/null 2>&1") != 0) {
		print_message("SKIP: dtc is not installed (Debian: device-tree-compiler)\n");
		skip();
	}
	struct vmm_fdt_machine m = gicv3_one_vcpu();
	dtc_clean(&m, "GICv3");
	m = gicv2_two_vcpus();
	dtc_clean(&m, "GICv2");
	static const uint64_t mpidr[] = { 0x100000000ull, 0x100000001ull };
	m = gicv3_one_vcpu();
	m.mpidr = mpidr;
	m.nvcpus = 2;
	dtc_clean(&m, "Aff3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compatible_list),
		cmocka_unit_test(test_generic_names),
		cmocka_unit_test(test_gicv3_one_vcpu_with_initrd),
		cmocka_unit_test(test_gicv2_two_vcpus_without_initrd),
		cmocka_unit_test(test_eight_vcpus_on_gicv2),
		cmocka_unit_test(test_no_gic),
		cmocka_unit_test(test_mpidr_affinity_cells),
		cmocka_unit_test(test_gicv3_redistributor_regions),
		cmocka_unit_test(test_machine_options),
		cmocka_unit_test(test_large_tree),
		cmocka_unit_test(test_refused_devices),
		cmocka_unit_test(test_refused_machines),
		cmocka_unit_test(test_dtc_finds_nothing),
	};
	return cmocka_run_group_tests_name("fdt", tests, NULL, NULL);
}
