/* tests/unit/gzip-helper.h - gzip-compress a buffer in a cmocka test (a
 * gzip wrapper, whose trailer ends with the input size, as Linux's gzip'd
 * payloads and Image.gz files have it).  Include after <cmocka.h>; link
 * zlib.  The result is malloc'd. */
#ifndef VMM_TESTS_GZIP_HELPER_H
#define VMM_TESTS_GZIP_HELPER_H

#include <stdint.h>
#include <stdlib.h>

#include <zlib.h>

static inline uint8_t *gzip_buffer(const uint8_t *in, size_t len, size_t *outlen)
{
	z_stream zs = { 0 };
	size_t cap = compressBound((uLong)len) + 64;
	uint8_t *out = malloc(cap);

	assert_non_null(out);
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

#endif
