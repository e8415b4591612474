/* tests/unit/test_virtio_console.c - virtio-console.so through the
 * harness, with the test as the driver: port 0's transmitq reaching the
 * character backend, backend input reaching posted receiveq buffers, flow
 * control while no buffer is posted, emerg_wr, and what a misbehaving
 * driver gets (virtio 1.2 section 5.3). */
#include "config.h"

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
#define F_SIZE VIRTIO_BIT(0)
#define F_MULTIPORT VIRTIO_BIT(1)
#define F_EMERG_WRITE VIRTIO_BIT(2)

#define RXQ 0
#define TXQ 1

static int setup(void **state)
{
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	F->dev = drv_create("virtio-console", NULL);
	assert_non_null(F->dev);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static const char *output(size_t *len)
{
	return vmm_harness_char_output(F->dev, len);
}

static size_t input(const char *s)
{
	return vmm_harness_char_input(F->dev, s, strlen(s));
}

static uint64_t cfg_read(unsigned off, unsigned len)
{
	return vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + off, len);
}

/* Put @s in guest RAM at @gpa and post it on the transmitq. */
static uint16_t post_tx(uint64_t gpa, const char *s)
{
	memcpy(gpa_ptr(gpa), s, strlen(s));
	return drv_add(TXQ, &(struct drv_buf){ gpa, (uint32_t)strlen(s), false }, 1);
}

static uint16_t post_rx(uint64_t gpa, uint32_t len)
{
	memset(gpa_ptr(gpa), 0, len);
	return drv_add(RXQ, &(struct drv_buf){ gpa, len, true }, 1);
}

static void live(void)
{
	assert_int_equal(drv_init(F_VERSION_1, 2, 16), DRV_STATUS_LIVE);
}

static void test_identity_and_config(void **state)
{
	assert_int_equal(vr(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vr(VIRTIO_MMIO_DEVICE_ID), 3);
	uint64_t f = drv_device_features();
	assert_true(f & F_VERSION_1);
	assert_true(f & F_EMERG_WRITE);
	/* One port only: no MULTIPORT (and so no control queues), no SIZE. */
	assert_false(f & F_MULTIPORT);
	assert_false(f & F_SIZE);
	vw(VIRTIO_MMIO_QUEUE_SEL, RXQ);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	vw(VIRTIO_MMIO_QUEUE_SEL, TXQ);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	vw(VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	/* 5.3.4: cols, rows (0), max_nr_ports (1), emerg_wr (reads 0). */
	assert_int_equal(cfg_read(0, 2), 0);
	assert_int_equal(cfg_read(2, 2), 0);
	assert_int_equal(cfg_read(4, 4), 1);
	assert_int_equal(cfg_read(8, 4), 0);
	assert_int_equal(cfg_read(12, 4), 0);
	/* Accepting MULTIPORT, not offered, is refused. */
	assert_false(drv_init(F_VERSION_1 | F_MULTIPORT, 2, 16) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_transmit_reaches_backend(void **state)
{
	uint32_t id, len;
	size_t n;

	live();
	uint16_t head = post_tx(VDEV_BUF, "Hello, ");
	assert_int_equal(irq(), 0);
	drv_kick(TXQ);
	assert_string_equal(output(&n), "Hello, ");
	assert_int_equal(n, 7);
	assert_true(drv_get_used(TXQ, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0); /* nothing written into a transmit buffer */
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(irq(), 1);
	drv_ack();
	assert_int_equal(irq(), 0);

	/* A chain of two segments, then another chain: in order. */
	memcpy(gpa_ptr(VDEV_BUF + 0x100), "wor", 3);
	memcpy(gpa_ptr(VDEV_BUF + 0x200), "ld", 2);
	drv_add(TXQ, (const struct drv_buf[]){ { VDEV_BUF + 0x100, 3, false },
					       { VDEV_BUF + 0x200, 2, false } }, 2);
	post_tx(VDEV_BUF + 0x300, "!\n");
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "Hello, world!\n");
	assert_true(drv_get_used(TXQ, &id, &len));
	assert_true(drv_get_used(TXQ, &id, &len));
	assert_false(drv_get_used(TXQ, &id, &len));
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

static void test_input_fills_posted_buffer_and_interrupts(void **state)
{
	uint32_t id, len;

	live();
	uint16_t head = post_rx(VDEV_BUF, 64);
	drv_kick(RXQ);
	assert_int_equal(irq(), 0);
	assert_int_equal(input("ls\r"), 3);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 3);
	assert_memory_equal(gpa_ptr(VDEV_BUF), "ls\r", 3);
	assert_int_equal(gpa_ptr(VDEV_BUF)[3], 0);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
}

/* Input larger than a buffer spreads over the posted buffers, in order;
 * what does not fit waits for more. */
static void test_input_spans_buffers(void **state)
{
	uint32_t id, len;

	live();
	uint16_t h1 = post_rx(VDEV_BUF, 4);
	uint16_t h2 = post_rx(VDEV_BUF + 0x100, 4);
	drv_kick(RXQ);
	assert_int_equal(input("0123456789"), 8);
	assert_int_equal(vmm_harness_char_pending(F->dev), 2);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(id, h1);
	assert_int_equal(len, 4);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(id, h2);
	assert_int_equal(len, 4);
	assert_memory_equal(gpa_ptr(VDEV_BUF), "0123", 4);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x100), "4567", 4);

	post_rx(VDEV_BUF + 0x200, 16);
	drv_kick(RXQ);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 2);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x200), "89", 2);
}

/* Flow control: with no receive buffer posted the device takes nothing
 * and the input waits; posting one and notifying lets it in. */
static void test_input_waits_for_a_buffer(void **state)
{
	uint32_t id, len;

	live();
	assert_int_equal(input("abc"), 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 3);
	assert_int_equal(irq(), 0);
	/* Still nothing while the driver posts without notifying? The device
	 * looks again only when input comes or the driver notifies. */
	post_rx(VDEV_BUF, 32);
	assert_int_equal(vmm_harness_char_pending(F->dev), 3);
	drv_kick(RXQ);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(gpa_ptr(VDEV_BUF), "abc", 3);
	assert_int_equal(irq(), 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

/* 3.1.1: buffers posted before DRIVER_OK are not used for input. */
static void test_no_input_before_driver_ok(void **state)
{
	uint32_t id, len;

	drv_init_ex(F_VERSION_1, 2, 16, false);
	post_rx(VDEV_BUF, 32);
	assert_int_equal(input("early"), 0);
	assert_false(drv_get_used(RXQ, &id, &len));
	assert_int_equal(gpa_ptr(VDEV_BUF)[0], 0);
	assert_int_equal(irq(), 0);

	vw(VIRTIO_MMIO_STATUS, DRV_STATUS_LIVE);
	drv_kick(RXQ);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(gpa_ptr(VDEV_BUF), "early", 5);
}

/* Hostile: QueueNotify on the transmitq before DRIVER_OK is ignored and
 * counted; nothing reaches the backend until the device is live. */
static void test_notify_before_driver_ok(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	drv_init_ex(F_VERSION_1, 2, 16, false);
	post_tx(VDEV_BUF, "too soon");
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "");
	assert_false(drv_get_used(TXQ, &id, &len));
	assert_int_equal(vd->stats.notify_not_ready, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);

	vw(VIRTIO_MMIO_STATUS, DRV_STATUS_LIVE);
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "too soon");
}

/* Hostile: a device-readable buffer on the receiveq (5.3.6.1) is given
 * back empty and counted; the next good buffer gets the input. */
static void test_read_only_buffer_on_receiveq(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	live();
	memcpy(gpa_ptr(VDEV_BUF), "keep", 4);
	uint16_t bad = drv_add(RXQ, &(struct drv_buf){ VDEV_BUF, 4, false }, 1);
	uint16_t good = post_rx(VDEV_BUF + 0x100, 16);
	drv_kick(RXQ);
	assert_int_equal(input("x"), 1);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(id, bad);
	assert_int_equal(len, 0);
	assert_memory_equal(gpa_ptr(VDEV_BUF), "keep", 4);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(id, good);
	assert_int_equal(len, 1);
	assert_int_equal(gpa_ptr(VDEV_BUF + 0x100)[0], 'x');
	assert_int_equal(vd->stats.bad_request, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);
	assert_false(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* Hostile: a transmitq chain with a device-writable part (5.3.6.1) is
 * refused whole: nothing output, used length 0, counted; the device goes on. */
static void test_writable_buffer_on_transmitq(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	live();
	memcpy(gpa_ptr(VDEV_BUF), "secret", 6);
	memset(gpa_ptr(VDEV_BUF + 0x100), 0x55, 16);
	uint16_t head = drv_add(TXQ, (const struct drv_buf[]){ { VDEV_BUF, 6, false },
							       { VDEV_BUF + 0x100, 16, true } }, 2);
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "");
	assert_true(drv_get_used(TXQ, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(gpa_ptr(VDEV_BUF + 0x100)[0], 0x55);
	assert_int_equal(vd->stats.bad_request, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);

	post_tx(VDEV_BUF + 0x200, "ok");
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "ok");
}

/* Hostile: a transmit buffer outside guest RAM breaks the queue:
 * DEVICE_NEEDS_RESET with a configuration-change interrupt. */
static void test_transmit_outside_ram_needs_reset(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	live();
	drv_add(TXQ, &(struct drv_buf){ VDEV_RAM - 8, 64, false }, 1);
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "");
	assert_false(drv_get_used(TXQ, &id, &len));
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(irq(), 1);
	assert_int_equal(vd->vqs[TXQ].errors[VIRTQ_ERR_ADDR], 1);
	assert_int_equal(vd->stats.needs_reset, 1);

	/* A reset brings it back. */
	live();
	post_tx(VDEV_BUF, "again");
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "again");
}

/* Hostile: a receive buffer outside guest RAM is found when input comes:
 * DEVICE_NEEDS_RESET, and the input stays with the backend. */
static void test_receive_outside_ram_needs_reset(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	live();
	drv_add(RXQ, &(struct drv_buf){ 0xfff00000ull, 64, true }, 1);
	drv_kick(RXQ);
	assert_int_equal(input("lost?"), 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 5);
	assert_false(drv_get_used(RXQ, &id, &len));
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vd->vqs[RXQ].errors[VIRTQ_ERR_ADDR], 1);
	assert_int_equal(irq(), 1);

	/* After a reset and a good buffer the waiting input arrives. */
	live();
	post_rx(VDEV_BUF, 16);
	drv_kick(RXQ);
	assert_int_equal(vmm_harness_char_pending(F->dev), 0);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 5);
	assert_memory_equal(gpa_ptr(VDEV_BUF), "lost?", 5);
}

static void test_descriptor_loop_on_transmitq(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);

	live();
	uint16_t head = drv_add(TXQ, (const struct drv_buf[]){ { VDEV_BUF, 8, false },
							       { VDEV_BUF, 8, false } }, 2);
	drv_desc(TXQ, (uint16_t)(head + 1))->flags |= VIRTQ_DESC_F_NEXT;
	drv_desc(TXQ, (uint16_t)(head + 1))->next = head;
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "");
	assert_true(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vd->vqs[TXQ].errors[VIRTQ_ERR_LOOP], 1);
}

/* 5.3.4, 5.3.5.1: emerg_wr works even on an unconfigured device; the rest
 * of the config space is read-only and a write there is counted. */
static void test_emergency_write(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);

	vmm_harness_mmio_write(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 8, 4, 0x1200 | 'E');
	vmm_harness_mmio_write(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 8, 4, '!');
	assert_string_equal(output(NULL), "E!");
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
	vmm_harness_mmio_write(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 0, 2, 80);
	assert_int_equal(cfg_read(0, 2), 0);
	assert_int_equal(vd->stats.bad_access, 1);
	assert_string_equal(output(NULL), "E!");
}

/* A notification serves VIRTIO_NOTIFY_BUDGET chains; the rest follows
 * from the main loop. */
static void test_transmit_work_is_bounded(void **state)
{
	assert_int_equal(drv_init(F_VERSION_1, 2, 128), DRV_STATUS_LIVE);
	for (unsigned i = 0; i < 100; i++)
		post_tx(VDEV_BUF + 16 * i, "x");
	drv_kick(TXQ);
	size_t n;
	output(&n);
	assert_int_equal(n, VIRTIO_NOTIFY_BUDGET);
	vmm_harness_clock_step(F->h, 0);
	output(&n);
	assert_int_equal(n, 100);
}

/* A device reset (status 0) forgets the queues; input waits again. */
static void test_reset_stops_input(void **state)
{
	uint32_t id, len;

	live();
	post_rx(VDEV_BUF, 16);
	drv_kick(RXQ);
	vw(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(input("zz"), 0);
	assert_int_equal(vmm_harness_char_pending(F->dev), 2);
	live();
	post_rx(VDEV_BUF, 16);
	drv_kick(RXQ);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity_and_config),
		T(test_transmit_reaches_backend),
		T(test_input_fills_posted_buffer_and_interrupts),
		T(test_input_spans_buffers),
		T(test_input_waits_for_a_buffer),
		T(test_no_input_before_driver_ok),
		T(test_notify_before_driver_ok),
		T(test_read_only_buffer_on_receiveq),
		T(test_writable_buffer_on_transmitq),
		T(test_transmit_outside_ram_needs_reset),
		T(test_receive_outside_ram_needs_reset),
		T(test_descriptor_loop_on_transmitq),
		T(test_emergency_write),
		T(test_transmit_work_is_bounded),
		T(test_reset_stops_input),
	};

	setenv("VMM_HARNESS_QUIET", "1", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
