/* tests/unit/virtio-driver.h - a tiny virtio-mmio driver for harness tests:
 * the initialisation sequence of virtio 1.2 section 3.1.1 through register
 * writes, split queues laid out in harness RAM, chains posted and used
 * entries collected.  Include after device-fixture.h. */
#ifndef VMM_TEST_VIRTIO_DRIVER_H
#define VMM_TEST_VIRTIO_DRIVER_H

#include <string.h>

#include "devices/virtio/virtio-mmio.h"

#define VDEV_BASE 0xd0000000ull
#define VDEV_IRQ 16
#define VDEV_RAM (4u << 20)
#define VDEV_BUF 0x100000ull /* test buffers from here on */

struct drv_queue {
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx; /* next avail idx to publish */
	uint16_t used_seen; /* used entries collected */
	uint16_t next_desc; /* next free descriptor (round robin) */
};

static struct drv_queue DQ[8];

struct drv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

static inline uint32_t vr(uint64_t off)
{
	return (uint32_t)vmm_harness_mmio_read(F->h, VDEV_BASE + off, 4);
}

static inline void vw(uint64_t off, uint32_t v)
{
	vmm_harness_mmio_write(F->h, VDEV_BASE + off, 4, v);
}

static inline uint8_t *gpa_ptr(uint64_t gpa)
{
	return (uint8_t *)vmm_harness_ram(F->h, NULL) + gpa;
}

static inline struct virtq_desc *drv_desc(unsigned q, unsigned i)
{
	return (struct virtq_desc *)gpa_ptr(DQ[q].desc) + i;
}

static inline struct virtq_avail *drv_avail(unsigned q)
{
	return (struct virtq_avail *)gpa_ptr(DQ[q].avail);
}

static inline struct virtq_used *drv_used_ring(unsigned q)
{
	return (struct virtq_used *)gpa_ptr(DQ[q].used);
}

/* The driver's used_event (end of the available ring). */
static inline uint16_t *drv_used_event(unsigned q)
{
	return &drv_avail(q)->ring[DQ[q].size];
}

static inline struct virtio_dev *drv_vdev(struct vmm_harness_dev *dev)
{
	return *(struct virtio_dev **)vmm_harness_device_state(dev);
}

static inline int irq(void)
{
	return vmm_harness_irq_level(F->h, VDEV_IRQ);
}

/* Create the device at VDEV_BASE on VDEV_IRQ with @extra properties
 * (NULL-terminated) and give the machine RAM. */
static inline struct vmm_harness_dev *drv_create(const char *plugin, const char *const *extra)
{
	const char *props[16] = { "base=0xd0000000", "irq=16" };
	unsigned n = 2;

	for (; extra && *extra && n < 15; extra++)
		props[n++] = *extra;
	props[n] = NULL;
	assert_int_equal(vmm_harness_set_ram(F->h, VDEV_RAM), 0);
	return vmm_harness_create_device(F->h, plugin, "vdev", props);
}

/* Queue @q at 0x10000 + q * 0x4000: descriptors, then avail and used
 * rings a page apart. */
static inline void drv_queue_setup(unsigned q, uint16_t size)
{
	struct drv_queue *dq = &DQ[q];

	memset(dq, 0, sizeof(*dq));
	dq->size = size;
	dq->desc = 0x10000 + q * 0x4000;
	dq->avail = dq->desc + 0x1000;
	dq->used = dq->desc + 0x2000;
	vw(VIRTIO_MMIO_QUEUE_SEL, q);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(vr(VIRTIO_MMIO_QUEUE_NUM_MAX) >= size);
	vw(VIRTIO_MMIO_QUEUE_NUM, size);
	vw(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)dq->desc);
	vw(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	vw(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)dq->avail);
	vw(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	vw(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)dq->used);
	vw(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	vw(VIRTIO_MMIO_QUEUE_READY, 1);
}

static inline void drv_write_features(uint64_t features)
{
	vw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vw(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vw(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

static inline uint64_t drv_device_features(void)
{
	vw(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	uint64_t hi = vr(VIRTIO_MMIO_DEVICE_FEATURES);
	vw(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return hi << 32 | vr(VIRTIO_MMIO_DEVICE_FEATURES);
}

/* 3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (and check it
 * stuck), queues, DRIVER_OK.  Stops before DRIVER_OK when @driver_ok is
 * false.  Returns the status read back at the end. */
static inline uint32_t drv_init_ex(uint64_t features, unsigned nqueues, uint16_t qsize,
				   bool driver_ok)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	vw(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), 0);
	vw(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vw(VIRTIO_MMIO_STATUS, s);
	drv_write_features(features);
	vw(VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	if (!(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return vr(VIRTIO_MMIO_STATUS);
	s |= VIRTIO_STATUS_FEATURES_OK;
	for (unsigned q = 0; q < nqueues; q++)
		drv_queue_setup(q, qsize);
	if (driver_ok)
		vw(VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_DRIVER_OK);
	return vr(VIRTIO_MMIO_STATUS);
}

static inline uint32_t drv_init(uint64_t features, unsigned nqueues, uint16_t qsize)
{
	return drv_init_ex(features, nqueues, qsize, true);
}

#define DRV_STATUS_LIVE                                                                  \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |  \
	 VIRTIO_STATUS_DRIVER_OK)

/* Post one chain on queue @q (not notified); returns its head. */
static inline uint16_t drv_add(unsigned q, const struct drv_buf *b, unsigned n)
{
	struct drv_queue *dq = &DQ[q];
	uint16_t head = dq->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % dq->size);
		struct virtq_desc *desc = drv_desc(q, d);

		desc->addr = b[i].gpa;
		desc->len = b[i].len;
		desc->flags = (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		desc->next = (uint16_t)((d + 1) % dq->size);
	}
	dq->next_desc = (uint16_t)((head + n) % dq->size);
	drv_avail(q)->ring[dq->avail_idx % dq->size] = head;
	dq->avail_idx++;
	__atomic_store_n(&drv_avail(q)->idx, dq->avail_idx, __ATOMIC_RELEASE);
	return head;
}

static inline void drv_kick(unsigned q)
{
	vw(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Collect the next used entry of queue @q; false when there is none. */
static inline bool drv_get_used(unsigned q, uint32_t *id, uint32_t *len)
{
	struct drv_queue *dq = &DQ[q];
	struct virtq_used *u = drv_used_ring(q);

	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == dq->used_seen)
		return false;
	*id = u->ring[dq->used_seen % dq->size].id;
	*len = u->ring[dq->used_seen % dq->size].len;
	dq->used_seen++;
	return true;
}

/* Acknowledge every pending interrupt cause; returns what was pending. */
static inline uint32_t drv_ack(void)
{
	uint32_t isr = vr(VIRTIO_MMIO_INTERRUPT_STATUS);

	vw(VIRTIO_MMIO_INTERRUPT_ACK, isr);
	return isr;
}

/* ---- Snapshots (ABI 1.12): save in one harness, load in another ---- */

/* A second machine like F's: a new harness in @mode where @create makes
 * the same device (F points at the new fixture while it runs), then F's
 * RAM copied in and its clock stepped to F's, as a restore does before
 * load().  F is unchanged; the device is not loaded yet. */
static inline struct fixture *drv_twin(enum vmm_irq_mode mode, void (*create)(void))
{
	struct fixture *orig = F, *f2 = calloc(1, sizeof(*f2));
	size_t size, size2;

	assert_non_null(f2);
	f2->h = vmm_harness_new();
	assert_non_null(f2->h);
	vmm_harness_set_irq_mode(f2->h, mode);
	F = f2;
	create();
	F = orig;
	assert_non_null(f2->dev);
	void *src = vmm_harness_ram(orig->h, &size);
	void *dst = vmm_harness_ram(f2->h, &size2);
	assert_int_equal(size, size2);
	memcpy(dst, src, size);
	vmm_harness_clock_step(f2->h, vmm_harness_clock_ns(orig->h));
	return f2;
}

static inline void drv_twin_free(struct fixture *f2)
{
	vmm_harness_free(f2->h);
	free(f2);
}

/* Where field @name's value lies in record @rec (the layout of
 * core/state.h: a length byte, the name, a le32 length, the value). */
static inline uint8_t *rec_field(uint8_t *rec, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + 1 + n + 4 <= len; i++)
		if (rec[i] == n && !memcmp(rec + i + 1, name, n))
			return rec + i + 1 + n + 4;
	fail_msg("no field %s in the record", name);
	return NULL;
}

static inline void rec_set_u32(uint8_t *rec, size_t len, const char *name, uint32_t v)
{
	uint8_t *p = rec_field(rec, len, name);

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t rec_get_u32(uint8_t *rec, size_t len, const char *name)
{
	uint8_t *p = rec_field(rec, len, name);

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void rec_set_u64(uint8_t *rec, size_t len, const char *name, uint64_t v)
{
	uint8_t *p = rec_field(rec, len, name);

	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The record's state version (after the plugin's and instance's names). */
static inline uint8_t *rec_version(uint8_t *rec)
{
	return &rec[9 + rec[8] + 1 + rec[9 + rec[8]]];
}

/* Load a copy of @rec with field @name (4 bytes) set to @v into the
 * twin's device: what load() returns. */
static inline int rec_load_patched32(struct fixture *f2, const uint8_t *rec, size_t len,
				     const char *name, uint32_t v)
{
	uint8_t *copy = malloc(len);
	int rc;

	assert_non_null(copy);
	memcpy(copy, rec, len);
	rec_set_u32(copy, len, name, v);
	rc = vmm_harness_load(f2->dev, copy, len);
	free(copy);
	return rc;
}

/* One queue's used entries as collected by drv_get_used(). */
struct drv_used_log {
	unsigned n;
	uint32_t id[64], len[64];
};

static inline void drv_collect(unsigned q, struct drv_used_log *log)
{
	log->n = 0;
	while (log->n < 64 && drv_get_used(q, &log->id[log->n], &log->len[log->n]))
		log->n++;
}

static inline void drv_used_log_equal(const struct drv_used_log *a, const struct drv_used_log *b)
{
	assert_int_equal(a->n, b->n);
	for (unsigned i = 0; i < a->n; i++) {
		assert_int_equal(a->id[i], b->id[i]);
		assert_int_equal(a->len[i], b->len[i]);
	}
}

#endif
