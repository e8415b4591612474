/* tests/unit/state-record.h - find a field, or the version, inside a saved
 * state record (the byte layout of core/state.h) so that a device test can
 * corrupt one and check that load() refuses it (record_expect_refused,
 * record_expect_next_version_refused).  Include after <cmocka.h>. */
#ifndef VMM_TEST_STATE_RECORD_H
#define VMM_TEST_STATE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <vmm/harness.h>

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

/* One byte of a field set to a value load() must refuse. */
struct record_poke {
	const char *field;
	uint8_t byte, value; /* byte index in the field, and what it becomes */
};

/* Each poke in turn: load into `dev` refuses the record with -EINVAL, then
 * the byte is put back. */
static inline void record_expect_refused(struct vmm_harness_dev *dev, uint8_t *rec, size_t len,
					 const struct record_poke *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = record_field(rec, len, bad[i].field, NULL), keep = p[bad[i].byte];

		p[bad[i].byte] = bad[i].value;
		assert_int_equal(vmm_harness_load(dev, rec, len), -EINVAL);
		p[bad[i].byte] = keep;
	}
}

/* The record says state version `version`; one past it, which the plugin
 * never wrote, is refused with -EPROTO (the record is left at it). */
static inline void record_expect_next_version_refused(struct vmm_harness_dev *dev, uint8_t *rec,
						      size_t len, uint32_t version)
{
	assert_int_equal(record_le32(record_version(rec, len)), version);
	record_version(rec, len)[0] = (uint8_t)(version + 1);
	assert_int_equal(vmm_harness_load(dev, rec, len), -EPROTO);
}

#endif
