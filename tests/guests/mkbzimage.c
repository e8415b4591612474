/* tests/guests/mkbzimage.c - wrap a flat 64-bit payload in a bzImage: a
 * boot sector and setup sectors that are zeros except for the setup header
 * of Linux's x86 boot protocol (Documentation/arch/x86/boot.rst), then the
 * payload as the protected-mode code.  The tests use it for the fake Linux
 * guest and for headers vmmctl must refuse.
 *
 * mkbzimage [-v VERSION] [-x XLOADFLAGS] [-s SETUP_SECTS] [-p PREF_ADDRESS]
 *           [-i INIT_SIZE] [-c CMDLINE_SIZE] PAYLOAD OUT
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

int main(int argc, char **argv)
{
	unsigned long long version = 0x020f, xloadflags = 0x3, setup_sects = 4;
	unsigned long long pref = 0x1000000, init_size = 0x100000, cmdline_size = 2047;
	int o;

	while ((o = getopt(argc, argv, "v:x:s:p:i:c:")) != -1) {
		unsigned long long v = strtoull(optarg, NULL, 0);
		switch (o) {
		case 'v': version = v; break;
		case 'x': xloadflags = v; break;
		case 's': setup_sects = v; break;
		case 'p': pref = v; break;
		case 'i': init_size = v; break;
		case 'c': cmdline_size = v; break;
		default:
			fprintf(stderr, "usage: mkbzimage [-v VERSION] [-x XLOADFLAGS] [-s SETUP_SECTS] "
				"[-p PREF_ADDRESS] [-i INIT_SIZE] [-c CMDLINE_SIZE] PAYLOAD OUT\n");
			return 2;
		}
	}
	if (argc - optind != 2 || setup_sects > 255) {
		fprintf(stderr, "mkbzimage: need PAYLOAD and OUT (and SETUP_SECTS <= 255)\n");
		return 2;
	}
	FILE *in = fopen(argv[optind], "rb");
	if (!in) {
		perror(argv[optind]);
		return 1;
	}
	static uint8_t payload[16 << 20];
	size_t n = fread(payload, 1, sizeof(payload), in);
	fclose(in);
	size_t padded = (n + 15) & ~(size_t)15;

	/* setup_sects 0 means 4 to the loader */
	size_t setup = ((setup_sects ? setup_sects : 4) + 1) * 512;
	uint8_t *img = calloc(1, setup + padded);
	if (!img)
		return 1;
	img[0x1f1] = (uint8_t)setup_sects;
	wr32(img + 0x1f4, (uint32_t)(padded / 16));  /* syssize */
	wr16(img + 0x1fe, 0xaa55);                    /* boot_flag */
	img[0x200] = 0xeb;                            /* jmp short over the header, */
	img[0x201] = 0x268 - 0x202;                   /* which ends at 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	wr16(img + 0x206, (uint16_t)version);
	img[0x211] = 0x01;                            /* loadflags: LOADED_HIGH */
	wr32(img + 0x214, 0x100000);                  /* code32_start */
	wr32(img + 0x22c, 0x7fffffff);                /* initrd_addr_max */
	wr32(img + 0x230, 0x200000);                  /* kernel_alignment */
	img[0x234] = 1;                               /* relocatable_kernel */
	img[0x235] = 21;                              /* min_alignment: 2 MiB */
	wr16(img + 0x236, (uint16_t)xloadflags);
	wr32(img + 0x238, (uint32_t)cmdline_size);
	wr64(img + 0x258, pref);                      /* pref_address */
	wr32(img + 0x260, (uint32_t)init_size);
	memcpy(img + setup, payload, n);

	FILE *out = fopen(argv[optind + 1], "wb");
	if (!out || fwrite(img, 1, setup + padded, out) != setup + padded || fclose(out) != 0) {
		perror(argv[optind + 1]);
		return 1;
	}
	free(img);
	return 0;
}
