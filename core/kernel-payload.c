/* SPDX-License-Identifier: MIT */
/*
 * core/kernel-payload.c - see kernel-payload.h.  Each codec is its Debian
 * library's one-shot or streaming decoder (zlib, liblzma, liblz4,
 * libzstd); the only format read by hand is LZ4's legacy framing, which
 * liblz4's frame API does not take and the kernel's build uses (lz4 -l).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#ifdef HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HAVE_LZ4
#include <lz4.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#include "core/kernel-payload.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *vmm_payload_codec(const uint8_t *p, size_t len)
{
	/* The magic numbers the kernel's own decompressors test for
	 * (lib/decompress.c's table). */
	static const struct { const char *name; unsigned len; uint8_t magic[6]; } codecs[] = {
		{ "gzip", 2, { 0x1f, 0x8b } },
		{ "xz", 6, { 0xfd, '7', 'z', 'X', 'Z', 0 } },
		{ "lz4", 4, { 0x02, 0x21, 0x4c, 0x18 } },
		{ "zstd", 4, { 0x28, 0xb5, 0x2f, 0xfd } },
		{ "bzip2", 3, { 'B', 'Z', 'h' } },
		{ "lzma", 3, { 0x5d, 0x00, 0x00 } },
		{ "lzo", 4, { 0x89, 0x4c, 0x5a, 0x4f } },
	};
	for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (len >= codecs[i].len && memcmp(p, codecs[i].magic, codecs[i].len) == 0)
			return codecs[i].name;
	return NULL;
}

int vmm_payload_codec_built(const char *codec)
{
	if (!codec)
		return 0;
	if (strcmp(codec, "gzip") == 0)
		return 1;
#ifdef HAVE_LZMA
	if (strcmp(codec, "xz") == 0)
		return 1;
#endif
#ifdef HAVE_LZ4
	if (strcmp(codec, "lz4") == 0)
		return 1;
#endif
#ifdef HAVE_ZSTD
	if (strcmp(codec, "zstd") == 0)
		return 1;
#endif
	return 0;
}

int vmm_bzimage_payload(const uint8_t *file, size_t len, uint16_t version, uint64_t setup_size,
			const uint8_t **payload, size_t *payload_len, char *err, size_t errlen)
{
	if (version < 0x0208 || len < 0x250)
		return -ENOENT;
	uint64_t off = le32(file + 0x248), plen = le32(file + 0x24c);
	if (plen == 0)
		return -ENOENT;
	if (setup_size > len || off > len - setup_size || plen > len - setup_size - off) {
		snprintf(err, errlen, "payload_offset 0x%llx + payload_length 0x%llx lie outside the "
			 "file's %zu bytes of protected-mode code", (unsigned long long)off,
			 (unsigned long long)plen, setup_size <= len ? len - (size_t)setup_size : 0);
		return -EINVAL;
	}
	*payload = file + setup_size + off;
	*payload_len = (size_t)plen;
	return 0;
}

static int inflate_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *got,
			char *err, size_t errlen)
{
	z_stream zs = { 0 };
	int zr;

	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {	/* 16: a gzip wrapper */
		snprintf(err, errlen, "zlib: cannot initialise");
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	zr = inflate(&zs, Z_FINISH);
	*got = cap - zs.avail_out;
	inflateEnd(&zs);
	if (zr != Z_STREAM_END) {
		snprintf(err, errlen, "gzip data %s after %zu bytes out", zr == Z_BUF_ERROR ?
			 "longer than its stated size or truncated" : "corrupt", *got);
		return -EINVAL;
	}
	return 0;
}

#ifdef HAVE_LZMA
static int inflate_xz(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *got,
		      char *err, size_t errlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED);

	if (r != LZMA_OK) {
		snprintf(err, errlen, "liblzma: cannot initialise (%d)", (int)r);
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	do
		r = lzma_code(&s, LZMA_FINISH);
	while (r == LZMA_OK);
	*got = cap - s.avail_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END) {
		snprintf(err, errlen, "xz data %s after %zu bytes out (liblzma %d)", r == LZMA_BUF_ERROR ?
			 "longer than its stated size or truncated" : "corrupt", *got, (int)r);
		return -EINVAL;
	}
	return 0;
}
#endif

#ifdef HAVE_LZ4
/* LZ4's legacy frame (lz4 -l, the kernel's lz4 payloads): the magic
 * 0x184c2102, then blocks each led by its compressed size (32-bit LE);
 * every block but the last decompresses to exactly 8 MiB.  A second
 * magic starts another frame. */
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)

static int inflate_lz4(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *got,
		       char *err, size_t errlen)
{
	size_t pos = 4;

	*got = 0;
	while (len - pos >= 4) {
		uint32_t bsize = le32(in + pos);

		pos += 4;
		if (bsize == LZ4_LEGACY_MAGIC)
			continue;
		if (bsize > len - pos || bsize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK)) {
			snprintf(err, errlen, "lz4 block of %u bytes at payload offset %zu runs past its end",
				 bsize, pos - 4);
			return -EINVAL;
		}
		size_t room = cap - *got < LZ4_LEGACY_BLOCK ? cap - *got : LZ4_LEGACY_BLOCK;
		int n = LZ4_decompress_safe((const char *)in + pos, (char *)out + *got, (int)bsize,
					    (int)room);
		if (n < 0) {
			snprintf(err, errlen, "lz4 block at payload offset %zu is corrupt or longer than "
				 "the stated size", pos - 4);
			return -EINVAL;
		}
		*got += (size_t)n;
		pos += bsize;
	}
	if (pos != len) {
		snprintf(err, errlen, "lz4 data: %zu stray bytes at the end", len - pos);
		return -EINVAL;
	}
	return 0;
}
#endif

#ifdef HAVE_ZSTD
static int inflate_zstd(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *got,
			char *err, size_t errlen)
{
	size_t n = ZSTD_decompress(out, cap, in, len);

	if (ZSTD_isError(n)) {
		*got = 0;
		snprintf(err, errlen, "zstd data: %s", ZSTD_getErrorName(n));
		return -EINVAL;
	}
	*got = n;
	return 0;
}
#endif

int vmm_payload_decompress(const uint8_t *payload, size_t len, uint64_t max_out, uint8_t **out,
			   size_t *out_len, char *err, size_t errlen)
{
	const char *codec = vmm_payload_codec(payload, len);
	size_t got = 0;
	int rc = -ENOTSUP;

	*out = NULL;
	if (!vmm_payload_codec_built(codec)) {
		snprintf(err, errlen, "%s payload: this vmmctl was built without its decompressor",
			 codec ? codec : "unrecognised");
		return -ENOTSUP;
	}
	if (len < 8) {
		snprintf(err, errlen, "%s payload of %zu bytes is truncated", codec, len);
		return -EINVAL;
	}
	/* The kernel's build appends the size (scripts/Makefile.lib,
	 * size_append); gzip's trailer ends with the same number (ISIZE). */
	uint32_t size = le32(payload + len - 4);
	if (size == 0 || size > max_out) {
		snprintf(err, errlen, "%s payload says it holds %u bytes, %s", codec, size,
			 size ? "more than the guest's RAM" : "nothing");
		return size ? -E2BIG : -EINVAL;
	}
	uint8_t *buf = malloc(size);
	if (!buf) {
		snprintf(err, errlen, "cannot allocate %u bytes to decompress it into", size);
		return -ENOMEM;
	}
	if (strcmp(codec, "gzip") == 0)
		rc = inflate_gzip(payload, len, buf, size, &got, err, errlen);
#ifdef HAVE_LZMA
	else if (strcmp(codec, "xz") == 0)
		rc = inflate_xz(payload, len - 4, buf, size, &got, err, errlen);
#endif
#ifdef HAVE_LZ4
	else if (strcmp(codec, "lz4") == 0)
		rc = inflate_lz4(payload, len - 4, buf, size, &got, err, errlen);
#endif
#ifdef HAVE_ZSTD
	else if (strcmp(codec, "zstd") == 0)
		rc = inflate_zstd(payload, len - 4, buf, size, &got, err, errlen);
#endif
	if (rc == 0 && got != size) {
		snprintf(err, errlen, "%s payload gave %zu bytes, its trailer says %u", codec, got, size);
		rc = -EINVAL;
	}
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = got;
	return 0;
}
