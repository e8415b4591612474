/* tests/e2e/fdt-virt-dtb - writes the device tree core/fdt.c builds for a
 * machine laid out like QEMU's arm64 "virt" board, so fdt-boot.sh can boot
 * a stock arm64 Linux on QEMU's hardware with our tree (-dtb) and see that
 * the kernel finds every device through it.  The addresses are facts of
 * that board (RAM at 1 GiB; GIC at 0x8000000; pl011, pl031; virtio-mmio
 * transports from 0xa000000 with SPI 16 up); the tree is all ours.
 *
 *   fdt-virt-dtb OUT.dtb GIC-VERSION NCPUS RAM-MIB [INITRD-FILE INITRD-ADDR]
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fdt.h"

static const struct vmm_resource uart_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0x9000000, .len = 0x1000 },
	{ .type = VMM_RES_IRQ, .base = 32 + 1, .flags = VMM_RES_IRQ_LEVEL },
};
static const struct vmm_resource rtc_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0x9010000, .len = 0x1000 },
	{ .type = VMM_RES_IRQ, .base = 32 + 2, .flags = VMM_RES_IRQ_LEVEL },
};
static const struct vmm_resource vio0_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0xa000000, .len = 0x200 },
	{ .type = VMM_RES_IRQ, .base = 32 + 16, .flags = VMM_RES_IRQ_LEVEL },
};
static const struct vmm_resource vio1_res[] = {
	{ .type = VMM_RES_MMIO, .base = 0xa000200, .len = 0x200 },
	{ .type = VMM_RES_IRQ, .base = 32 + 17, .flags = VMM_RES_IRQ_LEVEL },
};

#define DESC(compat, r) \
	{ .size = sizeof(struct vmm_device_desc), .kind = VMM_DESC_DEVICE, .fdt_compatible = (compat), \
	  .res = (r), .nres = 2 }

static const struct vmm_device_desc devices[] = {
	DESC("arm,pl011 arm,primecell", uart_res),
	DESC("arm,pl031 arm,primecell", rtc_res),
	DESC("virtio,mmio", vio0_res),
	DESC("virtio,mmio", vio1_res),
};
static const char *const names[] = { "uart0", "rtc", "virtio0", "virtio1" };

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 7) {
		fprintf(stderr, "usage: fdt-virt-dtb OUT.dtb GIC-VERSION NCPUS RAM-MIB "
			"[INITRD-FILE INITRD-ADDR]\n");
		return 2;
	}
	unsigned gic = (unsigned)strtoul(argv[2], NULL, 0);
	unsigned ncpus = (unsigned)strtoul(argv[3], NULL, 0);
	struct vmm_fdt_region ram = { 0x40000000, strtoull(argv[4], NULL, 0) << 20 };
	/* QEMU's virt: one 128 KiB redistributor frame pair per CPU. */
	struct vmm_fdt_region redist = { 0x80a0000, 0x20000ull * ncpus };
	uint64_t mpidr[8];

	if (ncpus < 1 || ncpus > 8) {
		fprintf(stderr, "fdt-virt-dtb: 1 to 8 CPUs\n");
		return 2;
	}
	for (unsigned i = 0; i < ncpus; i++)
		mpidr[i] = 0x80000000u | i; /* Aff0 = index, as QEMU numbers them */
	struct vmm_fdt_machine m = {
		.ram = &ram, .nram = 1,
		.mpidr = mpidr, .nvcpus = ncpus,
		.psci_method = VMM_FDT_PSCI_HVC, .psci_version = VMM_FDT_PSCI_VERSION(1, 0),
		.gic = { .version = gic, .dist = { 0x8000000, 0x10000 }, .cpu_if = { 0x8010000, 0x10000 },
			 .redist = &redist, .nredist = 1 },
		/* No console=: the kernel finds its console through stdout-path. */
		.bootargs = "quiet fdt.boot",
		.stdout_dev = &devices[0],
		.descs = devices, .ndescs = sizeof(devices) / sizeof(devices[0]), .desc_names = names,
	};
	if (argc == 7) {
		struct stat st;
		if (stat(argv[5], &st) != 0) {
			perror(argv[5]);
			return 1;
		}
		m.initrd_start = strtoull(argv[6], NULL, 0);
		m.initrd_end = m.initrd_start + (uint64_t)st.st_size;
	}

	void *blob;
	size_t size;
	char err[256];
	int rc = vmm_fdt_build(&m, &blob, &size, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "fdt-virt-dtb: %s (%s)\n", err, strerror(-rc));
		return 1;
	}
	FILE *f = fopen(argv[1], "wb");
	if (!f || fwrite(blob, 1, size, f) != size || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	free(blob);
	return 0;
}
