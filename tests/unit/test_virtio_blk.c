/* tests/unit/test_virtio_blk.c - virtio-blk.so through the harness on a
 * temporary raw image behind the block-file backend plugin, with the test
 * as the driver: requests (virtio 1.2,
 * 5.2.6) built in harness RAM, their status bytes and used lengths, the
 * image file's contents checked from the host side, and the hostile cases. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
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

#include "device-fixture.h"
#include "virtio-driver.h"

#define F_VERSION_1 VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define F_INDIRECT VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)
#define F_SEG_MAX VIRTIO_BIT(2)
#define F_RO VIRTIO_BIT(5)
#define F_BLK_SIZE VIRTIO_BIT(6)
#define F_FLUSH VIRTIO_BIT(9)
#define F_MQ VIRTIO_BIT(12)
#define F_DISCARD VIRTIO_BIT(13)
#define F_WRITE_ZEROES VIRTIO_BIT(14)

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define DISK_SECTORS 2048 /* 1 MiB */
#define HDR_GPA VDEV_BUF
#define STATUS_GPA (VDEV_BUF + 0x800)
#define DATA_GPA (VDEV_BUF + 0x10000)

#define F_ALL (F_VERSION_1 | F_FLUSH | F_DISCARD | F_WRITE_ZEROES | F_SEG_MAX | F_BLK_SIZE)

static char disk_path[64];
static int disk_fd = -1;
static char ops_log[80]; /* the fake-block backend's operations log, when used */
static const char *backend = "block-file"; /* what blk_create_ex() puts the disk on */

static int setup(void **state)
{
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	const char *tmp = getenv("TMPDIR");
	snprintf(disk_path, sizeof(disk_path), "%s/vblk-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	disk_fd = mkstemp(disk_path);
	assert_true(disk_fd >= 0);
	assert_int_equal(ftruncate(disk_fd, DISK_SECTORS * 512), 0);
	return 0;
}

static int teardown(void **state)
{
	fixture_teardown(state);
	close(disk_fd);
	unlink(disk_path);
	if (ops_log[0])
		unlink(ops_log);
	ops_log[0] = 0;
	backend = "block-file";
	return 0;
}

/* A block backend "disk0" (block-file unless a test set `backend`) on the image (read-only when @ro) and the
 * device on it, with @extra device properties. */
static void blk_create_ex(const char *const *extra, bool ro)
{
	char path_prop[80];
	const char *be_props[] = { path_prop, ro ? "readonly=true" : NULL, NULL };
	const char *props[8] = { "disk=disk0" };
	unsigned n = 1;

	snprintf(path_prop, sizeof(path_prop), "path=%s", disk_path);
	assert_int_equal(vmm_harness_add_backend(F->h, "disk0", backend, be_props), 0);
	for (; extra && *extra && n < 7; extra++)
		props[n++] = *extra;
	props[n] = NULL;
	F->dev = drv_create("virtio-blk", props);
	assert_non_null(F->dev);
}

static void blk_create(const char *const *extra)
{
	blk_create_ex(extra, false);
}

static struct virtio_dev *vdev(void)
{
	return drv_vdev(F->dev);
}

static void put_hdr(uint32_t type, uint64_t sector)
{
	uint8_t *p = gpa_ptr(HDR_GPA);

	memset(p, 0, 16);
	memcpy(p, &type, 4);
	memcpy(p + 8, &sector, 8);
}

/* One request on queue @q: header, @len data bytes at DATA_GPA (device-
 * writable when @data_in), status byte.  Returns the status; *used gets
 * the used length. */
static int blk_req_q(unsigned q, uint32_t type, uint64_t sector, uint32_t len, bool data_in,
		     uint32_t *used)
{
	struct drv_buf b[3] = { { HDR_GPA, 16, false } };
	unsigned n = 1;
	uint32_t id, ulen;

	put_hdr(type, sector);
	if (len)
		b[n++] = (struct drv_buf){ DATA_GPA, len, data_in };
	b[n++] = (struct drv_buf){ STATUS_GPA, 1, true };
	*gpa_ptr(STATUS_GPA) = 0xff;
	uint16_t head = drv_add(q, b, n);
	drv_kick(q);
	if (!drv_get_used(q, &id, &ulen))
		return -1;
	assert_int_equal(id, head);
	if (used)
		*used = ulen;
	return *gpa_ptr(STATUS_GPA);
}

static int blk_req(uint32_t type, uint64_t sector, uint32_t len, bool data_in, uint32_t *used)
{
	return blk_req_q(0, type, sector, len, data_in, used);
}

static void fill_pattern(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void disk_read(uint64_t off, void *buf, size_t len)
{
	assert_int_equal(pread(disk_fd, buf, len, (off_t)off), (ssize_t)len);
}

static void disk_fill(uint64_t off, size_t len, uint8_t seed)
{
	uint8_t buf[8192];

	assert_true(len <= sizeof(buf));
	fill_pattern(buf, len, seed);
	assert_int_equal(pwrite(disk_fd, buf, len, (off_t)off), (ssize_t)len);
}

static bool disk_zero(uint64_t off, size_t len)
{
	uint8_t buf[8192];

	assert_true(len <= sizeof(buf));
	disk_read(off, buf, len);
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* A discard segment at DATA_GPA + 16 * i. */
static void put_seg(unsigned i, uint64_t sector, uint32_t count, uint32_t flags)
{
	uint8_t *p = gpa_ptr(DATA_GPA + 16 * i);

	memcpy(p, &sector, 8);
	memcpy(p + 8, &count, 4);
	memcpy(p + 12, &flags, 4);
}

static void test_features_and_config(void **state)
{
	const char *props[] = { "serial=abc", NULL };

	blk_create(props);
	assert_int_equal(vr(VIRTIO_MMIO_DEVICE_ID), 2);
	uint64_t f = drv_device_features();
	assert_int_equal(f, F_ALL | F_INDIRECT | F_EVENT_IDX);
	/* capacity, any width */
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + 0x100, 8), DISK_SECTORS);
	assert_int_equal(vr(0x100), DISK_SECTORS);
	assert_int_equal(vr(0x104), 0);
	assert_int_equal(vr(0x100 + 12), 254); /* seg_max */
	assert_int_equal(vr(0x100 + 20), 512); /* blk_size */
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + 0x100 + 34, 2), 1); /* num_queues */
	assert_int_equal(vr(0x100 + 40), 16); /* max_discard_seg */
	assert_int_equal(vr(0x100 + 52), 16); /* max_write_zeroes_seg */
	assert_int_equal(vr(0x100 + 0xfc), 0); /* past the structure */
}

static void test_write_then_read_back(void **state)
{
	uint8_t file[4096];
	uint32_t used;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	fill_pattern(gpa_ptr(DATA_GPA), 4096, 0x11);
	assert_int_equal(blk_req(T_OUT, 8, 4096, false, &used), S_OK);
	assert_int_equal(used, 1);
	/* In the file as soon as it completes: a kill -9 of vmmctl now
	 * cannot lose it (the host kernel has it). */
	disk_read(8 * 512, file, sizeof(file));
	assert_memory_equal(file, gpa_ptr(DATA_GPA), 4096);

	memset(gpa_ptr(DATA_GPA), 0, 4096);
	assert_int_equal(blk_req(T_IN, 8, 4096, true, &used), S_OK);
	assert_int_equal(used, 4097);
	assert_memory_equal(gpa_ptr(DATA_GPA), file, 4096);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

static void test_read_scattered_segments(void **state)
{
	uint32_t id, len;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	disk_fill(0, 1024, 0x40);
	put_hdr(T_IN, 0);
	/* 1024 bytes into three segments of 100, 412 and 512 bytes. */
	const struct drv_buf b[] = { { HDR_GPA, 16, false },
				     { DATA_GPA, 100, true },
				     { DATA_GPA + 0x1000, 412, true },
				     { DATA_GPA + 0x2000, 512, true },
				     { STATUS_GPA, 1, true } };
	drv_add(0, b, 5);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(len, 1025);
	assert_int_equal(*gpa_ptr(STATUS_GPA), S_OK);
	uint8_t want[1024];
	fill_pattern(want, sizeof(want), 0x40);
	assert_memory_equal(gpa_ptr(DATA_GPA), want, 100);
	assert_memory_equal(gpa_ptr(DATA_GPA + 0x1000), want + 100, 412);
	assert_memory_equal(gpa_ptr(DATA_GPA + 0x2000), want + 512, 512);
}

static void test_indirect_write(void **state)
{
	uint32_t id, len;
	uint8_t file[512];

	blk_create(NULL);
	struct virtq_desc *t = (struct virtq_desc *)gpa_ptr(VDEV_BUF + 0x4000);
	assert_int_equal(drv_init(F_ALL | F_INDIRECT, 1, 64), DRV_STATUS_LIVE);
	put_hdr(T_OUT, 3);
	fill_pattern(gpa_ptr(DATA_GPA), 512, 0x99);
	t[0] = (struct virtq_desc){ HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1 };
	t[1] = (struct virtq_desc){ DATA_GPA, 512, VIRTQ_DESC_F_NEXT, 2 };
	t[2] = (struct virtq_desc){ STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0 };
	uint16_t head = drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x4000, 48, false }, 1);
	drv_desc(0, head)->flags = VIRTQ_DESC_F_INDIRECT;
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(*gpa_ptr(STATUS_GPA), S_OK);
	disk_read(3 * 512, file, 512);
	assert_memory_equal(file, gpa_ptr(DATA_GPA), 512);
}

static void test_flush(void **state)
{
	uint32_t used;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	fill_pattern(gpa_ptr(DATA_GPA), 512, 1);
	assert_int_equal(blk_req(T_OUT, 0, 512, false, &used), S_OK);
	assert_int_equal(blk_req(T_FLUSH, 0, 0, false, &used), S_OK);
	assert_int_equal(used, 1);
}

static void test_write_through_without_flush_feature(void **state)
{
	uint8_t file[512];

	blk_create(NULL);
	assert_int_equal(drv_init(F_VERSION_1, 1, 64), DRV_STATUS_LIVE);
	fill_pattern(gpa_ptr(DATA_GPA), 512, 5);
	assert_int_equal(blk_req(T_OUT, 1, 512, false, NULL), S_OK);
	disk_read(512, file, 512);
	assert_memory_equal(file, gpa_ptr(DATA_GPA), 512);
}

/* ---- what the device asks of its backend: the fake-block fixture logs
 * each operation, so a flush that never reaches the disk shows (reading
 * the image back cannot tell: the page cache has the data either way). */

/* The device on a fake-block backend over the same image, logging to
 * ops_log; @fail names an operation that fails with EIO (or NULL). */
static void blk_create_logged(const char *fail)
{
	char path_prop[80], log_prop[100], fail_prop[40], fixture[512];
	const char *be_props[] = { path_prop, log_prop, fail ? fail_prop : NULL, NULL };
	const char *props[] = { "disk=disk0", NULL };

	snprintf(ops_log, sizeof(ops_log), "%s.ops", disk_path);
	unlink(ops_log);
	snprintf(path_prop, sizeof(path_prop), "path=%s", disk_path);
	snprintf(log_prop, sizeof(log_prop), "log=%s", ops_log);
	snprintf(fail_prop, sizeof(fail_prop), "fail=%s", fail ? fail : "");
	snprintf(fixture, sizeof(fixture), "%s/tests/fixtures/.libs/fake-block.so",
		 getenv("VMM_BUILDDIR"));
	assert_int_equal(vmm_harness_add_backend(F->h, "disk0", fixture, be_props), 0);
	F->dev = drv_create("virtio-blk", props);
	assert_non_null(F->dev);
}

/* The operations logged so far, one word each, space-separated. */
static const char *ops(void)
{
	static char buf[512];
	FILE *f = fopen(ops_log, "r");
	size_t n = 0;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF && n < sizeof(buf) - 1)
		buf[n++] = c == '\n' ? ' ' : (char)c;
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* 5.2.6.2 (virtio 1.2): with VIRTIO_BLK_F_FLUSH a write may complete from
 * a write-back cache, and a flush request completes only once what was
 * written before it is durable: the backend's flush, exactly once, before
 * the used entry. */
static void test_flush_request_calls_backend_flush(void **state)
{
	uint32_t used;

	blk_create_logged(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	fill_pattern(gpa_ptr(DATA_GPA), 512, 1);
	assert_int_equal(blk_req(T_OUT, 0, 512, false, NULL), S_OK);
	assert_int_equal(blk_req(T_OUT, 1, 512, false, NULL), S_OK);
	assert_string_equal(ops(), "write write ");
	assert_int_equal(blk_req(T_FLUSH, 0, 0, false, &used), S_OK);
	assert_int_equal(used, 1);
	assert_string_equal(ops(), "write write flush ");
}

static void test_flush_failure_is_ioerr(void **state)
{
	blk_create_logged("flush");
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(T_FLUSH, 0, 0, false, NULL), S_IOERR);
	assert_string_equal(ops(), "flush ");
}

/* Without VIRTIO_BLK_F_FLUSH the driver cannot ask for a flush, so the
 * device must offer a write-through cache (5.2.5: the driver then
 * "assumes" writeback is off): each write flushed once, before it
 * completes. */
static void test_write_through_flushes_each_write(void **state)
{
	blk_create_logged(NULL);
	assert_int_equal(drv_init(F_VERSION_1, 1, 64), DRV_STATUS_LIVE);
	fill_pattern(gpa_ptr(DATA_GPA), 1024, 2);
	assert_int_equal(blk_req(T_OUT, 0, 1024, false, NULL), S_OK);
	assert_string_equal(ops(), "write flush ");
	assert_int_equal(blk_req(T_IN, 0, 512, true, NULL), S_OK);
	assert_int_equal(blk_req(T_OUT, 4, 512, false, NULL), S_OK);
	assert_string_equal(ops(), "write flush read write flush ");
}

static void test_write_through_flush_failure_is_ioerr(void **state)
{
	blk_create_logged("flush");
	assert_int_equal(drv_init(F_VERSION_1, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(T_OUT, 0, 512, false, NULL), S_IOERR);
	assert_string_equal(ops(), "write flush ");
}

static void test_write_failure_is_ioerr_and_not_flushed(void **state)
{
	blk_create_logged("write");
	assert_int_equal(drv_init(F_VERSION_1, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(T_OUT, 0, 512, false, NULL), S_IOERR);
	assert_string_equal(ops(), "write ");
}

/* A failing discard or write-zeroes completes with IOERR and stops at the
 * failing segment: the driver hears of the failure, later segments are
 * not tried. */
static void test_discard_failure_is_ioerr(void **state)
{
	blk_create_logged("discard");
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	put_seg(0, 0, 8, 0);
	put_seg(1, 16, 8, 0);
	assert_int_equal(blk_req(T_DISCARD, 0, 32, false, NULL), S_IOERR);
	assert_string_equal(ops(), "discard ");
}

static void test_write_zeroes_failure_is_ioerr(void **state)
{
	blk_create_logged("write-zeroes");
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	put_seg(0, 0, 8, 0);
	put_seg(1, 16, 8, 0);
	assert_int_equal(blk_req(T_WRITE_ZEROES, 0, 32, false, NULL), S_IOERR);
	assert_string_equal(ops(), "write-zeroes ");
}

/* Each segment is one backend call, in the driver's order. */
static void test_discard_and_write_zeroes_each_segment(void **state)
{
	blk_create_logged(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	put_seg(0, 0, 8, 0);
	put_seg(1, 16, 8, 0);
	assert_int_equal(blk_req(T_DISCARD, 0, 32, false, NULL), S_OK);
	assert_int_equal(blk_req(T_WRITE_ZEROES, 0, 32, false, NULL), S_OK);
	assert_string_equal(ops(), "discard discard write-zeroes write-zeroes ");
}

static void test_get_id(void **state)
{
	const char *props[] = { "serial=vmm-disk-1", NULL };
	uint32_t used;

	blk_create(props);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	memset(gpa_ptr(DATA_GPA), 0xee, 32);
	assert_int_equal(blk_req(T_GET_ID, 0, 20, true, &used), S_OK);
	assert_int_equal(used, 21);
	assert_memory_equal(gpa_ptr(DATA_GPA), "vmm-disk-1\0\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(gpa_ptr(DATA_GPA)[20], 0xee);
}

static void test_get_id_20_bytes_has_no_terminator(void **state)
{
	const char *props[] = { "serial=0123456789abcdefghijXYZ", NULL };
	uint32_t used;

	blk_create(props);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(T_GET_ID, 0, 20, true, &used), S_OK);
	assert_memory_equal(gpa_ptr(DATA_GPA), "0123456789abcdefghij", 20);
}

static bool punch_supported(void)
{
	return fallocate(disk_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 (DISK_SECTORS - 1) * 512, 512) == 0 ||
	       errno != EOPNOTSUPP;
}

static void test_discard(void **state)
{
	uint32_t used;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	disk_fill(0, 8192, 0x21);
	put_seg(0, 4, 4, 0);
	put_seg(1, 12, 2, 0);
	assert_int_equal(blk_req(T_DISCARD, 0, 32, false, &used), S_OK);
	assert_int_equal(used, 1);
	if (punch_supported()) {
		assert_true(disk_zero(4 * 512, 4 * 512));
		assert_true(disk_zero(12 * 512, 2 * 512));
	}
	/* Outside the ranges the data stays, and the size is kept. */
	assert_false(disk_zero(8 * 512, 4 * 512));
	assert_int_equal(lseek(disk_fd, 0, SEEK_END), DISK_SECTORS * 512);
}

static void test_discard_unmap_flag_unsupported(void **state)
{
	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	disk_fill(0, 4096, 0x21);
	put_seg(0, 0, 8, 1);
	assert_int_equal(blk_req(T_DISCARD, 0, 16, false, NULL), S_UNSUPP);
	assert_false(disk_zero(0, 4096));
}

static void test_write_zeroes(void **state)
{
	uint32_t used;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	disk_fill(0, 8192, 0x33);
	put_seg(0, 2, 6, 0);
	assert_int_equal(blk_req(T_WRITE_ZEROES, 0, 16, false, &used), S_OK);
	assert_true(disk_zero(2 * 512, 6 * 512));
	assert_false(disk_zero(0, 2 * 512));
	assert_false(disk_zero(8 * 512, 512));
	assert_int_equal(lseek(disk_fd, 0, SEEK_END), DISK_SECTORS * 512);
	/* The guest reads the zeroes back. */
	memset(gpa_ptr(DATA_GPA), 0xff, 512);
	assert_int_equal(blk_req(T_IN, 3, 512, true, &used), S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(gpa_ptr(DATA_GPA)[i], 0);
}

static void test_write_zeroes_bad_segment_changes_nothing(void **state)
{
	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	disk_fill(0, 4096, 0x33);
	put_seg(0, 0, 8, 0);
	put_seg(1, DISK_SECTORS - 1, 2, 0); /* one sector past the end */
	assert_int_equal(blk_req(T_WRITE_ZEROES, 0, 32, false, NULL), S_IOERR);
	assert_false(disk_zero(0, 4096));
	assert_int_equal(vdev()->stats.bad_request, 1);
}

static void test_discard_not_negotiated(void **state)
{
	blk_create(NULL);
	assert_int_equal(drv_init(F_VERSION_1 | F_FLUSH, 1, 64), DRV_STATUS_LIVE);
	put_seg(0, 0, 8, 0);
	assert_int_equal(blk_req(T_DISCARD, 0, 16, false, NULL), S_UNSUPP);
	assert_int_equal(blk_req(T_WRITE_ZEROES, 0, 16, false, NULL), S_UNSUPP);
}

static void check_read_only(void)
{
	uint8_t file[512];
	uint32_t used;

	uint64_t f = drv_device_features();
	assert_true(f & F_RO);
	assert_false(f & (F_DISCARD | F_WRITE_ZEROES));
	assert_int_equal(drv_init(F_VERSION_1 | F_RO | F_FLUSH, 1, 64), DRV_STATUS_LIVE);
	disk_fill(0, 512, 0x77);
	memset(gpa_ptr(DATA_GPA), 0, 512);
	/* 5.2.6.2: a write to a read-only disk fails and writes nothing. */
	assert_int_equal(blk_req(T_OUT, 0, 512, false, &used), S_IOERR);
	assert_int_equal(used, 1);
	disk_read(0, file, 512);
	assert_int_not_equal(file[1], 0);
	assert_int_equal(vdev()->stats.bad_request, 1);
	/* Reads work. */
	assert_int_equal(blk_req(T_IN, 0, 512, true, &used), S_OK);
	assert_memory_equal(gpa_ptr(DATA_GPA), file, 512);
	/* Discard is refused even when the driver asks without the feature. */
	put_seg(0, 0, 1, 0);
	assert_int_equal(blk_req(T_DISCARD, 0, 16, false, NULL), S_UNSUPP);
}

static void test_read_only_disk(void **state)
{
	const char *props[] = { "readonly=true", NULL };

	blk_create(props);
	check_read_only();
}

static void test_read_only_backend(void **state)
{
	blk_create_ex(NULL, true);
	check_read_only();
}

static void test_two_request_queues(void **state)
{
	const char *props[] = { "num-queues=2", NULL };
	uint32_t used;

	blk_create(props);
	assert_true(drv_device_features() & F_MQ);
	/* One QueueNotify write notification per queue, matching its index. */
	assert_int_equal(vmm_harness_notify_count(F->h), 2);
	for (unsigned q = 0; q < 2; q++) {
		uint64_t addr, data;
		unsigned len;
		bool match;

		assert_int_equal(vmm_harness_notify_get(F->h, q, NULL, &addr, &len, &match, &data), 0);
		assert_int_equal(addr, VDEV_BASE + VIRTIO_MMIO_QUEUE_NOTIFY);
		assert_int_equal(len, 4);
		assert_true(match);
		assert_int_equal(data, q);
	}
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + 0x100 + 34, 2), 2);
	vw(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(drv_init(F_ALL | F_MQ, 2, 64), DRV_STATUS_LIVE);

	fill_pattern(gpa_ptr(DATA_GPA), 1024, 0x5a);
	assert_int_equal(blk_req_q(1, T_OUT, 100, 1024, false, &used), S_OK);
	assert_int_equal(drv_used_ring(0)->idx, 0);
	assert_int_equal(drv_used_ring(1)->idx, 1);
	assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_VRING);
	memset(gpa_ptr(DATA_GPA), 0, 1024);
	assert_int_equal(blk_req_q(0, T_IN, 100, 1024, true, &used), S_OK);
	assert_int_equal(used, 1025);
	uint8_t want[1024];
	fill_pattern(want, sizeof(want), 0x5a);
	assert_memory_equal(gpa_ptr(DATA_GPA), want, 1024);
	assert_int_equal(drv_used_ring(1)->idx, 1);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_notify_delivered(F->h), 2);
}

/* Requests queued before one notification form a batch (ABI 1.11): eight
 * writes, one past the capacity, a flush, and reads of what the writes
 * wrote, in one QueueNotify.  Each completes with its own status; the
 * reads after the flush see the writes, since the flush finishes the batch
 * before it.  Run on block-file (one at a time) and, where built, on
 * block-uring (all in flight at once). */
static void batch_round(void)
{
	struct drv_buf b[3];
	uint16_t heads[18];
	uint8_t want[512];
	unsigned n = 0;
	uint32_t id = 0, len = 0;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	for (unsigned i = 0; i < 18; i++) {
		uint64_t hdr = HDR_GPA + 16 * i, data = DATA_GPA + 512 * i;
		uint32_t type = i < 9 ? T_OUT : i == 9 ? T_FLUSH : T_IN;
		/* 8: one sector past the end; the reads read the writes'. */
		uint64_t sector = i == 8 ? DISK_SECTORS : 10 + 3 * (i < 9 ? i : i - 10);
		uint8_t *h = gpa_ptr(hdr);

		memset(h, 0, 16);
		memcpy(h, &type, 4);
		memcpy(h + 8, &sector, 8);
		*gpa_ptr(STATUS_GPA + i) = 0xff;
		if (i < 9)
			fill_pattern(gpa_ptr(data), 512, (uint8_t)i);
		else
			memset(gpa_ptr(data), 0, 512);
		b[0] = (struct drv_buf){ hdr, 16, false };
		n = 1;
		if (type != T_FLUSH)
			b[n++] = (struct drv_buf){ data, 512, type == T_IN };
		b[n++] = (struct drv_buf){ STATUS_GPA + i, 1, true };
		heads[i] = drv_add(0, b, n);
	}
	drv_kick(0);
	for (unsigned k = 0; k < 18; k++) {
		unsigned i;

		assert_true(drv_get_used(0, &id, &len));
		for (i = 0; i < 18 && heads[i] != id; i++)
			;
		assert_true(i < 18);
		assert_int_equal(*gpa_ptr(STATUS_GPA + i), i == 8 ? S_IOERR : S_OK);
		assert_int_equal(len, i > 9 ? 513 : 1);
	}
	assert_false(drv_get_used(0, &id, &len));
	for (unsigned i = 10; i < 18; i++) {
		fill_pattern(want, sizeof(want), (uint8_t)(i - 10));
		assert_memory_equal(gpa_ptr(DATA_GPA + 512 * i), want, sizeof(want));
	}
	assert_int_equal(vdev()->stats.bad_request, 1);
}

static void test_batch_block_file(void **state)
{
	batch_round();
}

static void test_batch_block_uring(void **state)
{
#ifdef HAVE_LIBURING
	backend = "block-uring";
	batch_round();
#else
	skip();
#endif
}

/* ---- hostile requests ---- */

static void test_short_header(void **state)
{
	uint32_t id, len;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	put_hdr(T_IN, 0);
	const struct drv_buf b[] = { { HDR_GPA, 8, false }, { STATUS_GPA, 1, true } };
	drv_add(0, b, 2);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(*gpa_ptr(STATUS_GPA), S_IOERR);
	assert_int_equal(vdev()->stats.bad_request, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);
}

static void test_sector_beyond_capacity(void **state)
{
	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(T_IN, DISK_SECTORS, 512, true, NULL), S_IOERR);
	assert_int_equal(blk_req(T_IN, DISK_SECTORS - 1, 1024, true, NULL), S_IOERR);
	assert_int_equal(blk_req(T_OUT, UINT64_MAX, 512, false, NULL), S_IOERR);
	assert_int_equal(blk_req(T_OUT, DISK_SECTORS - 1, 512, false, NULL), S_OK);
	assert_int_equal(vdev()->stats.bad_request, 3);
	assert_int_equal(lseek(disk_fd, 0, SEEK_END), DISK_SECTORS * 512);
}

static void test_data_not_whole_sectors(void **state)
{
	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(T_IN, 0, 100, true, NULL), S_IOERR);
	assert_int_equal(blk_req(T_OUT, 0, 513, false, NULL), S_IOERR);
}

static void test_unknown_type(void **state)
{
	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(99, 0, 0, false, NULL), S_UNSUPP);
}

static void test_status_byte_not_writable_needs_reset(void **state)
{
	uint32_t id, len;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	put_hdr(T_IN, 0);
	const struct drv_buf b[] = { { HDR_GPA, 16, false }, { STATUS_GPA, 1, false } };
	drv_add(0, b, 2);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(len, 0);
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(drv_ack() & VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(vdev()->stats.bad_request, 1);
	assert_int_equal(vdev()->stats.needs_reset, 1);
}

static void test_wrong_direction_needs_reset(void **state)
{
	uint32_t id, len;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	put_hdr(T_OUT, 0);
	/* Writable data before the readable header's successor. */
	const struct drv_buf b[] = { { DATA_GPA, 512, true }, { HDR_GPA, 16, false },
				     { STATUS_GPA, 1, true } };
	drv_add(0, b, 3);
	drv_kick(0);
	assert_false(drv_get_used(0, &id, &len));
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vdev()->vqs[0].errors[VIRTQ_ERR_ORDER], 1);
}

static void test_data_outside_ram_needs_reset(void **state)
{
	uint32_t id, len;

	blk_create(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	put_hdr(T_IN, 0);
	const struct drv_buf b[] = { { HDR_GPA, 16, false }, { VDEV_RAM - 256, 512, true },
				     { STATUS_GPA, 1, true } };
	drv_add(0, b, 3);
	drv_kick(0);
	assert_false(drv_get_used(0, &id, &len));
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vdev()->vqs[0].errors[VIRTQ_ERR_ADDR], 1);
	/* The driver resets and the disk works again. */
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	assert_int_equal(blk_req(T_IN, 0, 512, true, NULL), S_OK);
}

static void test_notify_before_driver_ok(void **state)
{
	uint32_t id, len;

	blk_create(NULL);
	drv_init_ex(F_ALL, 1, 64, false);
	put_hdr(T_IN, 0);
	const struct drv_buf b[] = { { HDR_GPA, 16, false }, { STATUS_GPA, 1, true } };
	drv_add(0, b, 2);
	drv_kick(0);
	assert_false(drv_get_used(0, &id, &len));
	assert_int_equal(vdev()->stats.notify_not_ready, 1);
}

static void test_missing_or_unknown_backend_refused(void **state)
{
	const char *no_disk[] = { "base=0xd0000000", "irq=16", NULL };
	const char *unknown[] = { "base=0xd0000000", "irq=16", "disk=nope", NULL };
	const char *bad_path[] = { "path=/nonexistent/disk.img", NULL };

	assert_int_equal(vmm_harness_set_ram(F->h, VDEV_RAM), 0);
	assert_null(vmm_harness_create_device(F->h, "virtio-blk", "d1", no_disk));
	assert_null(vmm_harness_create_device(F->h, "virtio-blk", "d2", unknown));
	assert_int_equal(vmm_harness_add_backend(F->h, "bad", "block-file", bad_path), -ENOENT);
}

static void test_backend_used_by_one_device(void **state)
{
	const char *second[] = { "base=0xd0001000", "irq=17", "disk=disk0", NULL };

	blk_create(NULL);
	assert_null(vmm_harness_create_device(F->h, "virtio-blk", "vdb", second));
	/* Once the first device is gone, the disk is free again. */
	vmm_harness_destroy_device(F->dev);
	F->dev = vmm_harness_create_device(F->h, "virtio-blk", "vdb", second);
	assert_non_null(F->dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- Saved state (ABI 1.12) ---- */

static char twin_disk[sizeof(disk_path) + 8];
static const char *const *twin_props; /* the original's extra properties */

/* The twin's disk: a copy of the image at save time, so both machines
 * start from the same bytes and each writes its own. */
static void blk_create_twin(void)
{
	char keep[sizeof(disk_path)];

	memcpy(keep, disk_path, sizeof(keep));
	assert_true(strlen(twin_disk) < sizeof(disk_path));
	memcpy(disk_path, twin_disk, sizeof(disk_path));
	blk_create(twin_props);
	memcpy(disk_path, keep, sizeof(keep));
}

static void copy_disk(void)
{
	static uint8_t buf[DISK_SECTORS * 512];
	int fd;

	snprintf(twin_disk, sizeof(twin_disk), "%s.twin", disk_path);
	fd = open(twin_disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	disk_read(0, buf, sizeof(buf));
	assert_int_equal(pwrite(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(fd);
}

/* Request @i of the pending set: its own header, data and status. */
static uint16_t blk_post(unsigned i, uint32_t type, uint64_t sector, uint32_t len, bool data_in)
{
	uint64_t hdr = VDEV_BUF + 0x2000 + i * 0x100, st = hdr + 0x80;
	uint64_t data = VDEV_BUF + 0x20000 + i * 0x1000;
	struct drv_buf b[3] = { { hdr, 16, false } };
	unsigned n = 1;
	uint8_t *p = gpa_ptr(hdr);

	memset(p, 0, 16);
	memcpy(p, &type, 4);
	memcpy(p + 8, &sector, 8);
	if (len)
		b[n++] = (struct drv_buf){ data, len, data_in };
	b[n++] = (struct drv_buf){ st, 1, true };
	*gpa_ptr(st) = 0xff;
	return drv_add(0, b, n);
}

/* A write completed, then a write, a read of what the first wrote, a
 * flush and a GET_ID posted and not notified; saved there, loaded in a
 * twin machine on a copy of the disk: the twin completes them with the
 * same used entries, status bytes, data read and bytes on its disk as
 * the original. */
static void test_save_load_mid_queue(void **state)
{
	static uint8_t disk_orig[DISK_SECTORS * 512], disk_twin[DISK_SECTORS * 512];
	struct drv_used_log orig, twin;
	struct drv_queue dq_at_save[8];
	size_t len;

	static const char *const props[] = { "serial=snap-1", NULL };

	twin_props = props;
	blk_create(props);
	assert_int_equal(drv_init(F_VERSION_1 | F_FLUSH, 1, 16), DRV_STATUS_LIVE);
	fill_pattern(gpa_ptr(DATA_GPA), 1024, 3);
	assert_int_equal(blk_req(T_OUT, 4, 1024, false, NULL), S_OK);
	assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_VRING);

	fill_pattern(gpa_ptr(VDEV_BUF + 0x20000), 2048, 9);
	blk_post(0, T_OUT, 100, 2048, false);
	blk_post(1, T_IN, 4, 1024, true);
	blk_post(2, T_FLUSH, 0, 0, false);
	blk_post(3, T_GET_ID, 0, 20, true);

	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	memcpy(dq_at_save, DQ, sizeof(DQ));
	copy_disk();
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, blk_create_twin);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	assert_int_equal(vmm_harness_irq_level(f2->h, VDEV_IRQ), 0);

	drv_kick(0);
	drv_collect(0, &orig);
	uint32_t isr_orig = drv_ack();
	memcpy(DQ, dq_at_save, sizeof(DQ));
	F = f2;
	drv_kick(0);
	drv_collect(0, &twin);
	assert_int_equal(drv_ack(), isr_orig);
	F = orig_f;

	assert_int_equal(orig.n, 4);
	assert_int_equal(isr_orig, VIRTIO_MMIO_INT_VRING);
	drv_used_log_equal(&orig, &twin);
	assert_int_equal(vmm_harness_irq_raises(F->h, VDEV_IRQ), 2);
	assert_int_equal(vmm_harness_irq_raises(f2->h, VDEV_IRQ), 1);
	/* Statuses, data read, GET_ID: the same bytes in both guests. */
	assert_memory_equal(gpa_ptr(VDEV_BUF), (uint8_t *)vmm_harness_ram(f2->h, NULL) + VDEV_BUF,
			    0x30000);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(*gpa_ptr(VDEV_BUF + 0x2000 + i * 0x100 + 0x80), S_OK);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x21000), gpa_ptr(DATA_GPA), 1024);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x23000), "snap-1", 6);
	/* The same disk. */
	disk_read(0, disk_orig, sizeof(disk_orig));
	int fd = open(twin_disk, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, disk_twin, sizeof(disk_twin), 0), (ssize_t)sizeof(disk_twin));
	close(fd);
	assert_memory_equal(disk_orig, disk_twin, sizeof(disk_orig));
	free(rec);
	drv_twin_free(f2);
	unlink(twin_disk);
}

/* What the guest was told is written is on the disk before the snapshot
 * names it: save flushes the backend (a write-back cache with F_FLUSH),
 * and a flush that fails fails the save. */
static void test_save_flushes_disk(void **state)
{
	size_t len;

	blk_create_logged(NULL);
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	fill_pattern(gpa_ptr(DATA_GPA), 512, 1);
	assert_int_equal(blk_req(T_OUT, 0, 512, false, NULL), S_OK);
	assert_string_equal(ops(), "write ");
	void *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	assert_string_equal(ops(), "write flush ");
	free(rec);
}

static void test_save_fails_when_flush_fails(void **state)
{
	size_t len;

	blk_create_logged("flush");
	assert_int_equal(drv_init(F_ALL, 1, 64), DRV_STATUS_LIVE);
	assert_null(vmm_harness_save(F->dev, &len));
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_ERROR), 1);
}

/* A snapshot of another disk, or of a read-only one, is refused. */
static void test_load_refuses_other_disk(void **state)
{
	size_t len;

	twin_props = NULL;
	blk_create(NULL);
	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	copy_disk();
	struct fixture *f2 = drv_twin(VMM_IRQ_EMULATED, blk_create_twin);
	uint8_t *copy = malloc(len);
	assert_non_null(copy);

	memcpy(copy, rec, len);
	rec_set_u64(copy, len, "blk.capacity", DISK_SECTORS * 2);
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EINVAL);
	memcpy(copy, rec, len);
	*rec_field(copy, len, "blk.readonly") = 1;
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EINVAL);
	memcpy(copy, rec, len);
	*rec_version(copy) = 2;
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EPROTO);
	/* A field the record lacks (renamed here): -ENOENT, named. */
	memcpy(copy, rec, len);
	rec_field(copy, len, "blk.capacity")[-5] = 'X';
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -ENOENT);
	memcpy(copy, rec, len);
	rec_field(copy, len, "q0.used_idx")[-5] = 'X';
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -ENOENT);
	assert_int_equal(vmm_harness_log_count(f2->h, VMM_LOG_ERROR), 5);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	free(copy);
	free(rec);
	drv_twin_free(f2);
	unlink(twin_disk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_features_and_config),
		T(test_write_then_read_back),
		T(test_read_scattered_segments),
		T(test_indirect_write),
		T(test_flush),
			T(test_write_through_without_flush_feature),
		T(test_flush_request_calls_backend_flush),
		T(test_flush_failure_is_ioerr),
		T(test_write_through_flushes_each_write),
		T(test_write_through_flush_failure_is_ioerr),
		T(test_write_failure_is_ioerr_and_not_flushed),
		T(test_discard_failure_is_ioerr),
		T(test_write_zeroes_failure_is_ioerr),
		T(test_discard_and_write_zeroes_each_segment),
		T(test_get_id),
		T(test_get_id_20_bytes_has_no_terminator),
		T(test_discard),
		T(test_discard_unmap_flag_unsupported),
		T(test_write_zeroes),
		T(test_write_zeroes_bad_segment_changes_nothing),
		T(test_discard_not_negotiated),
		T(test_read_only_disk),
		T(test_read_only_backend),
		T(test_two_request_queues),
		T(test_batch_block_file),
		T(test_batch_block_uring),
		T(test_short_header),
		T(test_sector_beyond_capacity),
		T(test_data_not_whole_sectors),
		T(test_unknown_type),
		T(test_status_byte_not_writable_needs_reset),
		T(test_wrong_direction_needs_reset),
		T(test_data_outside_ram_needs_reset),
		T(test_notify_before_driver_ok),
		T(test_missing_or_unknown_backend_refused),
		T(test_backend_used_by_one_device),
		T(test_save_load_mid_queue),
		T(test_load_refuses_other_disk),
		T(test_save_flushes_disk),
		T(test_save_fails_when_flush_fails),
	};

	setenv("VMM_HARNESS_QUIET", "1", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
