/* tests/unit/state-record.h - find a field, or the version, inside a saved
 * state record (the byte layout of core/state.h) so that a device test can
 * corrupt one and check that load() refuses it.  Include after <cmocka.h>. */
#ifndef VMM_TEST_STATE_RECORD_H
#define VMM_TEST_STATE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t record_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The record's state version (after "VMMR", the format, the plugin's and
 * the instance's names). */
static inline uint8_t *record_version(uint8_t *rec, size_t len)
{
	size_t at = 8;

	assert_true(len > at);
	at += 1 + rec[at];		/* plugin name */
	assert_true(len > at);
	at += 1 + rec[at];		/* instance name */
	assert_true(len >= at + 8);
	return rec + at;
}

/* The data of field `name`, and its length in *flen; fails the test when
 * the record has no such field. */
static inline uint8_t *record_field(uint8_t *rec, size_t len, const char *name, size_t *flen)
{
	uint8_t *p = record_version(rec, len) + 4;
	uint32_t n = record_le32(p);
	size_t at = (size_t)(p + 4 - rec);

	for (uint32_t i = 0; i < n; i++) {
		size_t nl = rec[at];
		uint32_t dl;

		assert_true(len >= at + 1 + nl + 4);
		dl = record_le32(rec + at + 1 + nl);
		assert_true(len >= at + 1 + nl + 4 + dl);
		if (nl == strlen(name) && !memcmp(rec + at + 1, name, nl)) {
			if (flen)
				*flen = dl;
			return rec + at + 1 + nl + 4;
		}
		at += 1 + nl + 4 + dl;
	}
	fail_msg("the record has no field %s", name);
	return NULL;
}

/* Rename field `name` (same length) so the record lacks it. */
static inline void record_hide_field(uint8_t *rec, size_t len, const char *name)
{
	size_t flen;
	uint8_t *data = record_field(rec, len, name, &flen);

	/* The name ends 4 bytes before the data; its first letter becomes
	 * one no device uses. */
	data[-4 - (ptrdiff_t)strlen(name)] = 'Z';
}

#endif
