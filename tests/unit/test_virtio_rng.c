/* tests/unit/test_virtio_rng.c - virtio-rng.so and the virtio-mmio transport
 * through the harness, with the test as the driver: registers, the
 * initialisation sequence, requests in harness RAM, the interrupt line,
 * and what a misbehaving driver gets. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vmm/harness.h>

#include "device-fixture.h"
#include "virtio-driver.h"

#define F_VERSION_1 VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define F_EVENT_IDX VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)

static int setup(void **state)
{
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	F->dev = drv_create("virtio-rng", NULL);
	assert_non_null(F->dev);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_identity_registers(void **state)
{
	assert_int_equal(vr(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vr(VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vr(VIRTIO_MMIO_DEVICE_ID), 4);
	assert_int_equal(vr(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	uint64_t f = drv_device_features();
	assert_true(f & F_VERSION_1);
	assert_true(f & F_EVENT_IDX);
	assert_true(f & F_INDIRECT);
	/* 4.2.2: DeviceFeaturesSel picks 32-bit words; only words 0 and 1
	 * hold features, every later word reads 0. */
	for (uint32_t sel = 2; sel < 5; sel++) {
		vw(VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
		assert_int_equal(vr(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	}
	vw(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	vw(VIRTIO_MMIO_QUEUE_SEL, 1); /* one queue only */
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* No config space: reads 0, any width. */
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + 0x100, 1), 0);
	assert_int_equal(irq(), 0);
}

static void test_init_sequence_and_one_request(void **state)
{
	uint32_t id, len;

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 1);

	uint16_t head = drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	assert_false(drv_get_used(0, &id, &len));
	assert_int_equal(irq(), 0);
	drv_kick(0);

	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 64);
	assert_false(all_zero(gpa_ptr(VDEV_BUF), 64));
	/* Used-buffer interrupt: level, held until acknowledged. */
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(irq(), 1);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(irq(), 1);
	vw(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(vmm_harness_irq_raises(F->h, VDEV_IRQ), 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

static void test_chain_of_writable_segments_and_batch(void **state)
{
	uint32_t id, len;

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	const struct drv_buf two[] = { { VDEV_BUF, 10, true }, { VDEV_BUF + 0x100, 22, true } };
	uint16_t h1 = drv_add(0, two, 2);
	uint16_t h2 = drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x200, 7, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(id, h1);
	assert_int_equal(len, 32);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(id, h2);
	assert_int_equal(len, 7);
	assert_false(drv_get_used(0, &id, &len));
	assert_int_equal(irq(), 1);
}

static void test_indirect_request(void **state)
{
	uint32_t id, len;
	struct virtq_desc *t = (struct virtq_desc *)gpa_ptr(VDEV_BUF + 0x1000);

	assert_int_equal(drv_init(F_VERSION_1 | F_INDIRECT, 1, 16), DRV_STATUS_LIVE);
	t[0] = (struct virtq_desc){ .addr = VDEV_BUF, .len = 8, .flags = VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, .next = 1 };
	t[1] = (struct virtq_desc){ .addr = VDEV_BUF + 8, .len = 8, .flags = VIRTQ_DESC_F_WRITE };
	uint16_t head = drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x1000, 32, false }, 1);
	drv_desc(0, head)->flags = VIRTQ_DESC_F_INDIRECT;
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(len, 16);
}

/* Hostile: QueueNotify before DRIVER_OK is ignored and counted. */
static void test_notify_before_driver_ok(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	drv_init_ex(F_VERSION_1, 1, 16, false);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	drv_kick(0);
	assert_false(drv_get_used(0, &id, &len));
	assert_true(all_zero(gpa_ptr(VDEV_BUF), 64));
	assert_int_equal(irq(), 0);
	assert_int_equal(vd->stats.notify_not_ready, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);

	/* Once DRIVER_OK, the same buffer is served. */
	vw(VIRTIO_MMIO_STATUS, DRV_STATUS_LIVE);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(len, 64);
}

/* Hostile: a request with only a device-readable buffer is failed (used
 * length 0), counted, and the device carries on. */
static void test_read_only_buffer(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	memset(gpa_ptr(VDEV_BUF), 0, 64);
	uint16_t head = drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, false }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_true(all_zero(gpa_ptr(VDEV_BUF), 64));
	assert_int_equal(vd->stats.bad_request, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);
	assert_false(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);

	drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(len, 64);
}

/* Hostile: a buffer outside guest RAM breaks the queue: DEVICE_NEEDS_RESET
 * with a configuration-change interrupt; only a reset brings it back. */
static void test_buffer_outside_ram_needs_reset(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	drv_add(0, &(struct drv_buf){ VDEV_RAM - 16, 64, true }, 1);
	drv_kick(0);
	assert_false(drv_get_used(0, &id, &len));
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(irq(), 1);
	assert_int_equal(vd->vqs[0].errors[VIRTQ_ERR_ADDR], 1);
	assert_int_equal(vd->stats.needs_reset, 1);

	/* Further notifications are ignored (and counted). */
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	drv_kick(0);
	assert_false(drv_get_used(0, &id, &len));
	assert_int_equal(vd->stats.notify_not_ready, 1);
	drv_ack();
	assert_int_equal(irq(), 0);

	/* Reset and start again: all is well. */
	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(len, 64);
}

static void test_descriptor_loop_needs_reset(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	uint16_t head = drv_add(0, (const struct drv_buf[]){ { VDEV_BUF, 8, true }, { VDEV_BUF, 8, true } }, 2);
	drv_desc(0, (uint16_t)(head + 1))->flags |= VIRTQ_DESC_F_NEXT;
	drv_desc(0, (uint16_t)(head + 1))->next = head;
	drv_kick(0);
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vd->vqs[0].errors[VIRTQ_ERR_LOOP], 1);
}

static void test_features_without_version_1_refused(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);
	uint32_t s = drv_init(0, 1, 16);

	assert_false(s & VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(vd->stats.bad_features, 1);
	/* DRIVER_OK cannot follow a refused FEATURES_OK. */
	vw(VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_DRIVER_OK);
	assert_false(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK);
}

static void test_unoffered_feature_refused(void **state)
{
	/* Bit 0 is not offered by the entropy device. */
	uint32_t s = drv_init(F_VERSION_1 | 1, 1, 16);

	assert_false(s & VIRTIO_STATUS_FEATURES_OK);
}

static void test_register_access_must_be_32_bit(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);

	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_MAGIC_VALUE, 1), 0);
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
	vmm_harness_mmio_write(F->h, VDEV_BASE + VIRTIO_MMIO_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vd->stats.bad_access, 3);
}

static void test_queue_setup_locked_while_ready(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	vw(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	vw(VIRTIO_MMIO_QUEUE_NUM, 8);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_DESC_LOW), DQ[0].desc);
	assert_int_equal(vd->stats.bad_queue_setup, 2);
}

static void test_queue_ready_refuses_bad_rings(void **state)
{
	drv_init_ex(F_VERSION_1, 0, 16, false);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	vw(VIRTIO_MMIO_QUEUE_NUM, 12); /* not a power of two */
	vw(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
	vw(VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0x11000);
	vw(VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x12000);
	vw(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 0);
	vw(VIRTIO_MMIO_QUEUE_NUM, 16);
	vw(VIRTIO_MMIO_QUEUE_DEVICE_LOW, VDEV_RAM); /* used ring outside RAM */
	vw(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 0);
	vw(VIRTIO_MMIO_QUEUE_DEVICE_LOW, 0x12000);
	vw(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 1);
}

/* Without EVENT_IDX the driver's NO_INTERRUPT flag suppresses. */
static void test_no_interrupt_flag(void **state)
{
	uint32_t id, len;

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	drv_avail(0)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 8, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(irq(), 0);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

/* With EVENT_IDX, used_event says when to interrupt. */
static void test_event_idx(void **state)
{
	uint32_t id, len;

	assert_int_equal(drv_init(F_VERSION_1 | F_EVENT_IDX, 1, 16), DRV_STATUS_LIVE);
	drv_avail(0)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* ignored now */
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 8, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(irq(), 1);
	drv_ack();

	/* Interrupt when entry 2 (the third) is used. */
	*drv_used_event(0) = 2;
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 8, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(irq(), 0);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 8, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(irq(), 1);
	/* The device asks to be notified at the next avail entry. */
	uint16_t *avail_event = (uint16_t *)&drv_used_ring(0)->ring[16];
	assert_int_equal(*avail_event, 3);
}

static void test_status_zero_resets(void **state)
{
	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 8, true }, 1);
	drv_kick(0);
	assert_int_equal(irq(), 1);
	vw(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(irq(), 0);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_machine_reset(void **state)
{
	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), 0);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 0);
}

static unsigned used_count(unsigned q)
{
	return drv_used_ring(q)->idx;
}

/* A notification serves VIRTIO_NOTIFY_BUDGET chains; the rest is served
 * from the main loop (a timer due at once), so a driver that keeps the
 * queue full cannot hold the notifying vCPU forever. */
static void test_notify_work_is_bounded_and_resumed(void **state)
{
	assert_int_equal(drv_init(F_VERSION_1, 1, 128), DRV_STATUS_LIVE);
	for (unsigned i = 0; i < 100; i++)
		drv_add(0, &(struct drv_buf){ VDEV_BUF + 16 * i, 16, true }, 1);
	drv_kick(0);
	assert_int_equal(used_count(0), VIRTIO_NOTIFY_BUDGET);
	assert_int_equal(irq(), 1);
	vmm_harness_clock_step(F->h, 0);
	assert_int_equal(used_count(0), 100);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

static void test_deferred_work_dropped_by_reset(void **state)
{
	assert_int_equal(drv_init(F_VERSION_1, 1, 128), DRV_STATUS_LIVE);
	for (unsigned i = 0; i < 100; i++)
		drv_add(0, &(struct drv_buf){ VDEV_BUF + 16 * i, 16, true }, 1);
	drv_kick(0);
	vw(VIRTIO_MMIO_STATUS, 0);
	vmm_harness_clock_step(F->h, 0);
	assert_int_equal(used_count(0), VIRTIO_NOTIFY_BUDGET);
}

/* Write notifications (an ioeventfd under vmmctl): one per queue on
 * QueueNotify, datamatch on the queue index; a kick goes through it. */
static void test_queue_notify_registration(void **state)
{
	enum vmm_bus bus;
	uint64_t addr, data;
	unsigned len;
	bool match;
	uint32_t id, rlen;

	assert_int_equal(vmm_harness_notify_count(F->h), 1);
	assert_int_equal(vmm_harness_notify_get(F->h, 0, &bus, &addr, &len, &match, &data), 0);
	assert_int_equal(bus, VMM_BUS_MMIO);
	assert_int_equal(addr, VDEV_BASE + VIRTIO_MMIO_QUEUE_NOTIFY);
	assert_int_equal(len, 4);
	assert_true(match);
	assert_int_equal(data, 0);
	assert_int_equal(vmm_harness_notify_get(F->h, 1, NULL, NULL, NULL, NULL, NULL), -ENOENT);

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	uint16_t head = drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	drv_kick(0);
	assert_int_equal(vmm_harness_notify_delivered(F->h), 1);
	assert_true(drv_get_used(0, &id, &rlen));
	assert_int_equal(id, head);
	assert_int_equal(rlen, 64);
	assert_false(all_zero(gpa_ptr(VDEV_BUF), 64));
	assert_int_equal(irq(), 1);

	/* No such queue: no registration matches, the register sees it. */
	vw(VIRTIO_MMIO_QUEUE_NOTIFY, 5);
	assert_int_equal(vmm_harness_notify_delivered(F->h), 1);
	assert_int_equal(drv_vdev(F->dev)->stats.notify_not_ready, 1);

	vmm_harness_destroy_device(F->dev);
	F->dev = NULL;
	assert_int_equal(vmm_harness_notify_count(F->h), 0);
	assert_int_equal(vmm_harness_notify_leaked(F->h), 0);
}

/* The same rules through the notification: before DRIVER_OK ignored and
 * counted; the per-notification budget holds. */
static void test_queue_notify_registration_rules(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	drv_init_ex(F_VERSION_1, 1, 128, false);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	drv_kick(0);
	assert_int_equal(vmm_harness_notify_delivered(F->h), 1);
	assert_false(drv_get_used(0, &id, &len));
	assert_int_equal(vd->stats.notify_not_ready, 1);

	vw(VIRTIO_MMIO_STATUS, DRV_STATUS_LIVE);
	for (unsigned i = 1; i < 100; i++)
		drv_add(0, &(struct drv_buf){ VDEV_BUF + 16 * i, 16, true }, 1);
	drv_kick(0);
	assert_int_equal(vmm_harness_notify_delivered(F->h), 2);
	assert_int_equal(used_count(0), VIRTIO_NOTIFY_BUDGET);
	vmm_harness_clock_step(F->h, 0);
	assert_int_equal(used_count(0), 100);
}

/* A host without the service (or a hypervisor without ioeventfd): the
 * device keeps taking QueueNotify as an MMIO write. */
static void test_queue_notify_without_registration(void **state)
{
	uint32_t id, len;

	vmm_harness_destroy_device(F->dev);
	vmm_harness_set_notify(F->h, false);
	F->dev = drv_create("virtio-rng", NULL);
	assert_non_null(F->dev);
	assert_int_equal(vmm_harness_notify_count(F->h), 0);
	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 64, true }, 1);
	drv_kick(0);
	assert_int_equal(vmm_harness_notify_delivered(F->h), 0);
	assert_true(drv_get_used(0, &id, &len));
	assert_int_equal(len, 64);
}

static void test_base_and_irq_required(void **state)
{
	const char *only_base[] = { "base=0xd0001000", NULL };

	assert_null(vmm_harness_create_device(F->h, "virtio-rng", "r2", only_base));
	const char *unaligned[] = { "base=0xd0001100", "irq=17", NULL };
	assert_null(vmm_harness_create_device(F->h, "virtio-rng", "r3", unaligned));
	const char *ok[] = { "base=0xd0001000", "irq=17", NULL };
	assert_non_null(vmm_harness_create_device(F->h, "virtio-rng", "r4", ok));
}

/* ---- Saved state (ABI 1.12) ---- */

static void rng_create_default(void)
{
	F->dev = drv_create("virtio-rng", NULL);
}

/* Requests processed, the used-buffer interrupt still pending, more
 * requests posted and not notified: the restored device raises the line
 * again and serves the rest exactly as the original does. */
static void test_save_load_mid_queue(void **state)
{
	struct drv_used_log before, orig, twin;
	struct drv_queue dq_at_save[8];
	size_t len;
	uint32_t isr_orig, gen;

	assert_int_equal(drv_init(F_VERSION_1 | F_EVENT_IDX | F_INDIRECT, 1, 16), DRV_STATUS_LIVE);
	for (unsigned i = 0; i < 3; i++)
		drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x100 * i, 16 + i, true }, 1);
	drv_kick(0);
	drv_collect(0, &before);
	assert_int_equal(before.n, 3);
	assert_int_equal(irq(), 1); /* not acknowledged: held across the save */
	/* 2.7.10: used_event 1 is behind: the next entries need no
	 * interrupt, which only a device that kept what it last signalled
	 * (used index 3) knows. */
	*drv_used_event(0) = 1;
	for (unsigned i = 0; i < 4; i++)
		drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x1000 + 0x100 * i, 8 + i, true }, 1);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	vw(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	gen = vr(VIRTIO_MMIO_CONFIG_GENERATION);

	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	memcpy(dq_at_save, DQ, sizeof(DQ));
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, rng_create_default);
	assert_int_equal(vmm_harness_irq_level(f2->h, VDEV_IRQ), 0);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	/* The line the saved device held is high again. */
	assert_int_equal(vmm_harness_irq_level(f2->h, VDEV_IRQ), 1);

	/* The original serves the rest. */
	assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_VRING);
	unsigned raises_orig = vmm_harness_irq_raises(F->h, VDEV_IRQ);
	drv_kick(0);
	drv_collect(0, &orig);
	isr_orig = vr(VIRTIO_MMIO_INTERRUPT_STATUS);
	raises_orig = vmm_harness_irq_raises(F->h, VDEV_IRQ) - raises_orig;

	/* The restored one, from the same driver state. */
	memcpy(DQ, dq_at_save, sizeof(DQ));
	F = f2;
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), DRV_STATUS_LIVE);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM), 16);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)DQ[0].desc);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_DRIVER_LOW), (uint32_t)DQ[0].avail);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_DEVICE_LOW), (uint32_t)DQ[0].used);
	/* DeviceFeaturesSel was 1 at the save: the high word. */
	uint32_t hi = vr(VIRTIO_MMIO_DEVICE_FEATURES);
	assert_int_equal(hi, drv_device_features() >> 32);
	assert_int_equal(hi, 1); /* VERSION_1 */
	assert_int_equal(vr(VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(irq(), 0);
	unsigned raises_twin0 = vmm_harness_irq_raises(F->h, VDEV_IRQ);
	drv_kick(0);
	drv_collect(0, &twin);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), isr_orig);
	F = orig_f;

	assert_int_equal(orig.n, 4);
	drv_used_log_equal(&orig, &twin);
	/* Same used ring and avail_event in guest RAM, byte for byte. */
	assert_memory_equal(gpa_ptr(DQ[0].used),
			    (uint8_t *)vmm_harness_ram(f2->h, NULL) + DQ[0].used, 6 + 8 * 16);
	/* The same interrupts: none, used_event being behind. */
	assert_int_equal(isr_orig, 0);
	assert_int_equal(raises_orig, 0);
	assert_int_equal(vmm_harness_irq_raises(f2->h, VDEV_IRQ) - raises_twin0, 0);
	assert_int_equal(vmm_harness_log_count(f2->h, VMM_LOG_GUEST_ERROR), 0);
	free(rec);
	drv_twin_free(f2);
}

/* A save between a budgeted notification and its deferred rest: the
 * restored device finishes from the main loop, unnotified. */
static void test_save_load_deferred_work(void **state)
{
	struct drv_used_log orig, twin;
	struct drv_queue dq_at_save[8];
	uint32_t id, len32;
	size_t len;

	assert_int_equal(drv_init(F_VERSION_1, 1, 128), DRV_STATUS_LIVE);
	for (unsigned i = 0; i < VIRTIO_NOTIFY_BUDGET + 6; i++)
		drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x40 * i, 4, true }, 1);
	drv_kick(0);
	for (unsigned i = 0; i < VIRTIO_NOTIFY_BUDGET; i++)
		assert_true(drv_get_used(0, &id, &len32));
	assert_false(drv_get_used(0, &id, &len32));
	drv_ack();

	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	memcpy(dq_at_save, DQ, sizeof(DQ));
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, rng_create_default);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);

	vmm_harness_clock_step(F->h, 0);
	drv_collect(0, &orig);
	memcpy(DQ, dq_at_save, sizeof(DQ));
	F = f2;
	vmm_harness_clock_step(F->h, 0);
	drv_collect(0, &twin);
	assert_int_equal(irq(), 1);
	F = orig_f;
	assert_int_equal(orig.n, 6);
	drv_used_log_equal(&orig, &twin);
	free(rec);
	drv_twin_free(f2);
}

/* Buffers the driver made available and notified, the notification not
 * yet with the device when the machine was saved (still in the
 * hypervisor's eventfd, as during a live migration): the loaded device
 * looks at its queues once from the main loop and serves them, unkicked. */
static void test_load_serves_unnotified_buffers(void **state)
{
	struct drv_used_log twin;
	size_t len;

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	for (unsigned i = 0; i < 3; i++)
		drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x40 * i, 4, true }, 1);
	/* no drv_kick(): the notification never reached this device */
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, rng_create_default);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	F = f2;
	vmm_harness_clock_step(F->h, 0);
	drv_collect(0, &twin);
	assert_int_equal(twin.n, 3);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_log_count(f2->h, VMM_LOG_GUEST_ERROR), 0);
	F = orig_f;
	free(rec);
	drv_twin_free(f2);
}

/* A snapshot is input: every field a running transport could not hold is
 * refused with one line and -EINVAL, an unknown version with -EPROTO, and
 * the instance stays loadable. */
static void test_load_refuses_corrupt_state(void **state)
{
	static const struct {
		const char *field;
		uint32_t value;
	} bad[] = {
		{ "q0.num", 3 },            /* not a power of two */
		{ "q0.num", 512 },          /* above QueueNumMax */
		{ "q0.num", 0x10000 },      /* not 16 bits */
		{ "q0.desc", VDEV_RAM },    /* outside RAM (low word; high is 0) */
		{ "q0.desc", 0x10008 },     /* misaligned */
		{ "q0.driver", VDEV_RAM - 2 },
		{ "q0.device", 0x12002 },   /* misaligned */
		{ "q0.last_avail", 2 + 17 }, /* 17 taken and not used, queue of 16 */
		{ "q0.used_idx", 0x10002 },
		{ "q0.flags", 0x40 },
		{ "virtio.status", 0x100 },
		{ "virtio.status", VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER_OK },
		{ "virtio.interrupt_status", 4 },
		{ "virtio.nqueues", 2 },
		{ "virtio.deferred", 2 },   /* queue 1 does not exist (low word) */
	};
	size_t len;

	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 4, true }, 1);
	drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x100, 4, true }, 1);
	drv_kick(0);
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	assert_int_equal(rec_get_u32(rec, len, "q0.last_avail"), 2);
	struct fixture *f2 = drv_twin(VMM_IRQ_EMULATED, rng_create_default);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long errs = vmm_harness_log_count(f2->h, VMM_LOG_ERROR);

		print_message("refusing %s = 0x%x\n", bad[i].field, bad[i].value);
		assert_int_equal(rec_load_patched32(f2, rec, len, bad[i].field, bad[i].value), -EINVAL);
		assert_true(vmm_harness_log_count(f2->h, VMM_LOG_ERROR) > errs);
		assert_int_equal(vmm_harness_irq_level(f2->h, VDEV_IRQ), 0);
	}
	/* Features the device never offered. */
	uint8_t *copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, rec, len);
	rec_set_u64(copy, len, "virtio.driver_features", F_VERSION_1 | VIRTIO_BIT(40));
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EINVAL);
	memcpy(copy, rec, len);
	rec_set_u64(copy, len, "virtio.device_features", F_VERSION_1);
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EINVAL);
	/* A version this plugin does not know. */
	memcpy(copy, rec, len);
	*rec_version(copy) = 9;
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EPROTO);
	free(copy);

	/* Nothing of the refused records stuck: the good one loads. */
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	struct fixture *orig_f = F;
	F = f2;
	uint32_t id, ulen;
	DQ[0].used_seen = 2;
	drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x200, 5, true }, 1);
	drv_kick(0);
	assert_true(drv_get_used(0, &id, &ulen));
	assert_int_equal(ulen, 5);
	F = orig_f;
	free(rec);
	drv_twin_free(f2);
}

/* A QueueReady the queue refused (rings outside RAM) leaves it not ready
 * and broken: a state a snapshot may hold, and load takes. */
static void test_save_load_refused_queue(void **state)
{
	size_t len;

	vw(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vw(VIRTIO_MMIO_QUEUE_SEL, 0);
	vw(VIRTIO_MMIO_QUEUE_NUM, 16);
	vw(VIRTIO_MMIO_QUEUE_DESC_LOW, VDEV_RAM);
	vw(VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 0);
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	assert_int_equal(rec_get_u32(rec, len, "q0.flags"), 2);
	struct fixture *f2 = drv_twin(VMM_IRQ_EMULATED, rng_create_default);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	struct fixture *orig_f = F;
	F = f2;
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_DESC_LOW), VDEV_RAM);
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE);
	F = orig_f;
	free(rec);
	drv_twin_free(f2);
}

/* Every byte of a record changed in turn (to 0, to all ones, one bit
 * flipped): load either takes it or refuses it, never crashes, and a
 * device that took it still serves its queue or stops it as a guest
 * error would. */
static void test_load_survives_any_byte_changed(void **state)
{
	static const uint8_t xors[] = { 0x01, 0x80, 0xff };
	size_t len;

	assert_int_equal(drv_init(F_VERSION_1 | F_EVENT_IDX, 1, 16), DRV_STATUS_LIVE);
	drv_add(0, &(struct drv_buf){ VDEV_BUF, 4, true }, 1);
	drv_kick(0);
	drv_add(0, &(struct drv_buf){ VDEV_BUF + 0x100, 4, true }, 1);
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	struct fixture *f2 = drv_twin(VMM_IRQ_EMULATED, rng_create_default);
	uint8_t *copy = malloc(len);
	unsigned taken = 0, refused = 0;

	assert_non_null(copy);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(xors); k++) {
			memcpy(copy, rec, len);
			copy[i] ^= xors[k];
			int rc = vmm_harness_load(f2->dev, copy, len);

			assert_true(rc == 0 || rc < 0);
			if (rc) {
				refused++;
				continue;
			}
			taken++;
			vmm_harness_mmio_write(f2->h, VDEV_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
			vmm_harness_clock_step(f2->h, 0);
		}
	}
	assert_true(taken > 0);
	assert_true(refused > 0);
	free(copy);
	free(rec);
	drv_twin_free(f2);
}

/* A device that was never set up saves and loads as such. */
static void test_save_load_before_driver(void **state)
{
	size_t len;
	uint8_t *rec = vmm_harness_save(F->dev, &len);

	assert_non_null(rec);
	struct fixture *f2 = drv_twin(VMM_IRQ_EMULATED, rng_create_default);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	struct fixture *orig_f = F;
	F = f2;
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(drv_init(F_VERSION_1, 1, 16), DRV_STATUS_LIVE);
	F = orig_f;
	free(rec);
	drv_twin_free(f2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity_registers),
		T(test_init_sequence_and_one_request),
		T(test_chain_of_writable_segments_and_batch),
		T(test_indirect_request),
		T(test_notify_before_driver_ok),
		T(test_read_only_buffer),
		T(test_buffer_outside_ram_needs_reset),
		T(test_descriptor_loop_needs_reset),
		T(test_features_without_version_1_refused),
		T(test_unoffered_feature_refused),
		T(test_register_access_must_be_32_bit),
		T(test_queue_setup_locked_while_ready),
		T(test_queue_ready_refuses_bad_rings),
		T(test_no_interrupt_flag),
		T(test_event_idx),
		T(test_status_zero_resets),
		T(test_machine_reset),
		T(test_notify_work_is_bounded_and_resumed),
		T(test_deferred_work_dropped_by_reset),
		T(test_queue_notify_registration),
		T(test_queue_notify_registration_rules),
		T(test_queue_notify_without_registration),
		T(test_base_and_irq_required),
		T(test_save_load_mid_queue),
		T(test_save_load_deferred_work),
		T(test_load_serves_unnotified_buffers),
		T(test_load_refuses_corrupt_state),
		T(test_save_load_before_driver),
		T(test_save_load_refused_queue),
		T(test_load_survives_any_byte_changed),
	};

	setenv("VMM_HARNESS_QUIET", "1", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
