/* core/boot-arm64.c - the arm64 Image format and where its pieces go in
 * guest RAM.  Rules from Linux's Documentation/arch/arm64/booting.rst,
 * "Call the kernel image" and "Setup the device tree". */
#include "config.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/boot-arm64.h"

/* The 64-byte header (booting.rst, "Call the kernel image"), all fields
 * little-endian.  code0 may instead hold an EFI stub's "MZ" (Debian's
 * vmlinuz), which changes nothing for a loader that enters at byte 0. */
#define HDR_SIZE        64
#define HDR_TEXT_OFFSET 0x08
#define HDR_IMAGE_SIZE  0x10
#define HDR_FLAGS       0x18
#define HDR_MAGIC       0x38
#define IMAGE_MAGIC     "ARM\x64"
#define FLAG_BE         (1u << 0)  /* bit 0: kernel endianness, 1 = big */
/* A kernel before 3.17 has image_size 0 and an unreliable text_offset,
 * which booting.rst says to take as 0x80000. */
#define OLD_TEXT_OFFSET 0x80000u

static const uint8_t gzip_magic[2] = { 0x1f, 0x8b };

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

bool vmm_arm64_image_probe(const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len >= 2 && !memcmp(p, gzip_magic, 2))
		return true;
	return len >= HDR_SIZE && !memcmp(p + HDR_MAGIC, IMAGE_MAGIC, 4);
}

/* Inflate a gzip stream into a new buffer of at most @max bytes: a
 * compressed kernel larger than the guest's RAM is refused while it
 * inflates, not after. */
static int gunzip(const uint8_t *in, size_t len, size_t max, uint8_t **out, size_t *outlen,
		  char *err, size_t errlen)
{
	z_stream zs = { 0 };
	size_t cap = len * 4 < max ? len * 4 : max;
	uint8_t *buf = malloc(cap ? cap : 1);
	int rc;

	if (!buf)
		return fail(err, errlen, "out of memory inflating the gzip data");
	/* 16 + MAX_WBITS: the gzip wrapper, not zlib's own. */
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return fail(err, errlen, "zlib cannot start inflating");
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)(len < UINT32_MAX ? len : UINT32_MAX);
	for (;;) {
		zs.next_out = buf + zs.total_out;
		zs.avail_out = (uInt)(cap - zs.total_out < UINT32_MAX ? cap - zs.total_out : UINT32_MAX);
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			inflateEnd(&zs);
			free(buf);
			return fail(err, errlen, "corrupt gzip data (zlib: %s)", zs.msg ? zs.msg : "error");
		}
		if (zs.avail_out == 0) {
			if (cap >= max) {
				inflateEnd(&zs);
				free(buf);
				return fail(err, errlen,
					    "inflates to more than the guest's %zu MiB of RAM", max >> 20);
			}
			size_t ncap = cap * 2 < max ? cap * 2 : max;
			uint8_t *nbuf = realloc(buf, ncap);
			if (!nbuf) {
				inflateEnd(&zs);
				free(buf);
				return fail(err, errlen, "out of memory inflating the gzip data");
			}
			buf = nbuf;
			cap = ncap;
		} else if (zs.avail_in == 0) {
			inflateEnd(&zs);
			free(buf);
			return fail(err, errlen, "truncated gzip data");
		}
	}
	*outlen = zs.total_out;
	inflateEnd(&zs);
	*out = buf;
	return 0;
}

static int place(const uint8_t *img, size_t len, const void *initrd, size_t initrd_len,
		 uint8_t *ram, uint64_t ram_base, uint64_t ram_size, struct vmm_arm64_boot *out,
		 char *err, size_t errlen)
{
	uint64_t ram_end = ram_base + ram_size;
	uint64_t text_offset, image_size, flags, base;
	struct vmm_arm64_boot b = { 0 };

	if (len < HDR_SIZE)
		return fail(err, errlen, "%zu bytes: too short for an arm64 Image's 64-byte header", len);
	if (memcmp(img + HDR_MAGIC, IMAGE_MAGIC, 4))
		return fail(err, errlen, "not an arm64 Image (no \"ARM\\x64\" magic at offset 0x38)");
	text_offset = le64_at(img + HDR_TEXT_OFFSET);
	image_size = le64_at(img + HDR_IMAGE_SIZE);
	flags = le64_at(img + HDR_FLAGS);
	if (flags & FLAG_BE)
		return fail(err, errlen, "a big-endian kernel (flags bit 0); the guest runs little-endian");
	if (image_size == 0) {
		text_offset = OLD_TEXT_OFFSET;
		image_size = len;
	}
	if (len > image_size)
		return fail(err, errlen, "the file (%zu bytes) is longer than the image_size its header gives (%llu)",
			    len, (unsigned long long)image_size);
	/* text_offset is small in practice (0, or 0x80000 before 5.8); more
	 * than 2 MiB means a corrupt header. */
	if (text_offset >= VMM_ARM64_KERNEL_ALIGN || (text_offset & 7))
		return fail(err, errlen, "text_offset 0x%llx is not an offset within a 2 MiB block",
			    (unsigned long long)text_offset);

	base = (ram_base + VMM_ARM64_KERNEL_ALIGN - 1) & ~(uint64_t)(VMM_ARM64_KERNEL_ALIGN - 1);
	b.kernel_gpa = base + text_offset;
	if (image_size > ram_end || b.kernel_gpa > ram_end - image_size)
		return fail(err, errlen, "the kernel needs %llu MiB (image_size), more than the guest's %llu MiB of RAM",
			    (unsigned long long)((text_offset + image_size + (1 << 20) - 1) >> 20),
			    (unsigned long long)(ram_size >> 20));
	b.kernel_end = b.kernel_gpa + image_size;

	/* The device tree at the top of RAM, 2 MiB-aligned so that it never
	 * shares a 2 MiB block with the initrd or the kernel's mapping. */
	b.dtb_gpa = (ram_end - VMM_ARM64_DTB_MAX) & ~(uint64_t)(VMM_ARM64_DTB_MAX - 1);
	if (ram_end < VMM_ARM64_DTB_MAX || b.dtb_gpa < b.kernel_end)
		return fail(err, errlen, "no room for the device tree above the kernel (it ends at 0x%llx, RAM at 0x%llx)",
			    (unsigned long long)b.kernel_end, (unsigned long long)ram_end);
	b.dtb_max = ram_end - b.dtb_gpa < VMM_ARM64_DTB_MAX ? ram_end - b.dtb_gpa : VMM_ARM64_DTB_MAX;

	if (initrd_len) {
		/* Right below the device tree, page-aligned: anywhere in RAM
		 * is allowed, and the top keeps the kernel's room free. */
		if (initrd_len > b.dtb_gpa - b.kernel_end ||
		    ((b.dtb_gpa - initrd_len) & ~(uint64_t)0xfff) < b.kernel_end)
			return fail(err, errlen,
				    "the initrd (%zu bytes) does not fit between the kernel (ends at 0x%llx) and the device tree (0x%llx); give the guest more memory",
				    initrd_len, (unsigned long long)b.kernel_end, (unsigned long long)b.dtb_gpa);
		b.initrd_gpa = (b.dtb_gpa - initrd_len) & ~(uint64_t)0xfff;
		b.initrd_size = initrd_len;
	}

	/* Everything checked: write RAM. */
	memcpy(ram + (b.kernel_gpa - ram_base), img, len);
	memset(ram + (b.kernel_gpa - ram_base) + len, 0, image_size - len);
	if (initrd_len)
		memcpy(ram + (b.initrd_gpa - ram_base), initrd, initrd_len);
	*out = b;
	return 0;
}

int vmm_arm64_load(const void *file, size_t len, const void *initrd, size_t initrd_len,
		   uint8_t *ram, uint64_t ram_base, uint64_t ram_size, struct vmm_arm64_boot *out,
		   char *err, size_t errlen)
{
	const uint8_t *p = file;
	uint8_t *inflated = NULL;
	size_t ilen = 0;
	int rc;

	if (ram_size > SIZE_MAX || ram_base + ram_size < ram_base)
		return fail(err, errlen, "guest RAM 0x%llx+0x%llx is not addressable here",
			    (unsigned long long)ram_base, (unsigned long long)ram_size);
	if (len == 0)
		return fail(err, errlen, "empty file");
	if (len >= 2 && !memcmp(p, gzip_magic, 2)) {
		if (gunzip(p, len, (size_t)ram_size, &inflated, &ilen, err, errlen))
			return -1;
		rc = place(inflated, ilen, initrd, initrd_len, ram, ram_base, ram_size, out, err, errlen);
		if (rc) {
			/* Say that it was inside the gzip data. */
			char inner[256];

			snprintf(inner, sizeof(inner), "%s", err);
			snprintf(err, errlen, "gzip data: %s", inner);
		}
		free(inflated);
		return rc;
	}
	return place(p, len, initrd, initrd_len, ram, ram_base, ram_size, out, err, errlen);
}
