/* tests/unit/test_virtio_console.c - virtio-console.so through the
 * harness, with the test as the driver: port 0's transmitq reaching the
 * character backend, backend input reaching posted receiveq buffers, flow
 * control while no buffer is posted, emerg_wr, and what a misbehaving
 * driver gets (virtio 1.2 section 5.3); with a second port (MULTIPORT,
 * 5.3.6.2), the control handshake, data and flow control per port, and
 * every hostile control message; the backend's host end connecting and
 * leaving as PORT_OPEN 1 and 0 (ABI 1.4). */
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

/* ---- MULTIPORT (5.3.6.2): port 1 on backend property port1 ---- */

#define CTRL_RXQ 2
#define CTRL_TXQ 3
#define P1_RXQ 4
#define P1_TXQ 5
#define NQ_MP 6 /* two ports: 2 * 2 + 2 queues */
#define CTRL_BUF (VDEV_BUF + 0x10000) /* control receive buffers, 0x100 each */
#define CTRL_MSG (VDEV_BUF + 0x20000) /* control messages to the device */

enum { DEVICE_READY, DEVICE_ADD, DEVICE_REMOVE, PORT_READY, CONSOLE_PORT, RESIZE, PORT_OPEN,
       PORT_NAME };

#define P1_NAME "org.vmm.test.0"

static uint64_t ctrl_gpa[256]; /* control receive buffer by descriptor head */
static unsigned ctrl_posted;

static int setup_mp(void **state)
{
	static const char *const props[] = { "port1=p1", "name1=" P1_NAME, NULL };

	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	F->dev = drv_create("virtio-console", props);
	assert_non_null(F->dev);
	ctrl_posted = 0;
	return 0;
}

static const char *output1(size_t *len)
{
	return vmm_harness_char_output_prop(F->dev, "port1", len);
}

static size_t input1(const char *s)
{
	return vmm_harness_char_input_prop(F->dev, "port1", s, strlen(s));
}

static size_t pending1(void)
{
	return vmm_harness_char_pending_prop(F->dev, "port1");
}

static void live_mp(void)
{
	assert_int_equal(drv_init(F_VERSION_1 | F_MULTIPORT, NQ_MP, 16), DRV_STATUS_LIVE);
}

/* Post @n control receive buffers of @len bytes and notify. */
static void ctrl_post(unsigned n, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = CTRL_BUF + 0x100 * (ctrl_posted++ % 64);

		memset(gpa_ptr(gpa), 0xee, 0x100);
		ctrl_gpa[drv_add(CTRL_RXQ, &(struct drv_buf){ gpa, len, true }, 1)] = gpa;
	}
	drv_kick(CTRL_RXQ);
}

/* Send a control message of @len bytes (8: the header alone). */
static void ctrl_send_len(uint32_t id, uint16_t event, uint16_t value, uint32_t len)
{
	static unsigned n;
	uint64_t gpa = CTRL_MSG + 0x10 * (n++ % 256);
	uint8_t *m = gpa_ptr(gpa);
	uint32_t used_id, used_len;

	m[0] = (uint8_t)id, m[1] = (uint8_t)(id >> 8), m[2] = (uint8_t)(id >> 16);
	m[3] = (uint8_t)(id >> 24);
	m[4] = (uint8_t)event, m[5] = (uint8_t)(event >> 8);
	m[6] = (uint8_t)value, m[7] = (uint8_t)(value >> 8);
	uint16_t head = drv_add(CTRL_TXQ, &(struct drv_buf){ gpa, len, false }, 1);
	drv_kick(CTRL_TXQ);
	/* Every control message comes back, used length 0, whatever it said. */
	assert_true(drv_get_used(CTRL_TXQ, &used_id, &used_len));
	assert_int_equal(used_id, head);
	assert_int_equal(used_len, 0);
}

static void ctrl_send(uint32_t id, uint16_t event, uint16_t value)
{
	ctrl_send_len(id, event, value, 8);
}

/* The next control message from the device; its name part into @name. */
static bool ctrl_recv(uint32_t *id, uint16_t *event, uint16_t *value, char *name, size_t size)
{
	uint32_t head = 0, len = 0;

	if (!drv_get_used(CTRL_RXQ, &head, &len))
		return false;
	assert_true(len >= 8);
	const uint8_t *m = gpa_ptr(ctrl_gpa[head]);
	*id = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	*event = (uint16_t)(m[4] | m[5] << 8);
	*value = (uint16_t)(m[6] | m[7] << 8);
	if (name) {
		assert_true(len - 8 < size);
		memcpy(name, m + 8, len - 8);
		name[len - 8] = '\0';
	} else {
		assert_int_equal(len, 8);
	}
	return true;
}

static void expect_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
	uint32_t i;
	uint16_t e, v;

	assert_true(ctrl_recv(&i, &e, &v, NULL, 0));
	assert_int_equal(i, id);
	assert_int_equal(e, event);
	assert_int_equal(v, value);
}

static void expect_no_ctrl(void)
{
	uint32_t i;
	uint16_t e, v;

	assert_false(ctrl_recv(&i, &e, &v, NULL, 0));
}

/* The driver is live with eight control buffers and both ports are
 * announced (DEVICE_READY, two DEVICE_ADDs). */
static void announce(void)
{
	live_mp();
	ctrl_post(8, 0x100);
	ctrl_send(0, DEVICE_READY, 1);
	expect_ctrl(0, DEVICE_ADD, 1);
	expect_ctrl(1, DEVICE_ADD, 1);
	expect_no_ctrl();
}

/* The driver's PORT_READY for port 0: the console, open at the host end. */
static void port0_ready(void)
{
	ctrl_send(0, PORT_READY, 1);
	expect_ctrl(0, CONSOLE_PORT, 1);
	expect_ctrl(0, PORT_OPEN, 1);
}

/* The driver's PORT_READY for port 1: first its name. */
static void port1_ready_named(void)
{
	char name[64];
	uint32_t id;
	uint16_t e, v;

	ctrl_send(1, PORT_READY, 1);
	assert_true(ctrl_recv(&id, &e, &v, name, sizeof(name)));
	assert_int_equal(id, 1);
	assert_int_equal(e, PORT_NAME);
	assert_string_equal(name, P1_NAME); /* no NUL sent: the length says */
}

/* The whole handshake as Linux does it, ending with both ports open in
 * the guest. */
static void handshake(void)
{
	announce();
	port0_ready();
	port1_ready_named();
	expect_ctrl(1, PORT_OPEN, 1);
	expect_no_ctrl();
	ctrl_send(0, PORT_OPEN, 1);
	ctrl_send(1, PORT_OPEN, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

static void test_mp_identity(void **state)
{
	uint64_t f = drv_device_features();

	assert_true(f & F_MULTIPORT);
	assert_true(f & F_EMERG_WRITE);
	assert_int_equal(cfg_read(4, 4), 2); /* max_nr_ports */
	for (unsigned q = 0; q < NQ_MP; q++) {
		vw(VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	}
	vw(VIRTIO_MMIO_QUEUE_SEL, NQ_MP);
	assert_int_equal(vr(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

/* Ports up to the highest portN: a hole (port 1 unset) is never announced. */
static int setup_hole(void **state)
{
	static const char *const props[] = { "port2=p2", NULL };

	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	F->dev = drv_create("virtio-console", props);
	assert_non_null(F->dev);
	ctrl_posted = 0;
	return 0;
}

static void test_mp_port_hole(void **state)
{
	assert_int_equal(cfg_read(4, 4), 3);
	assert_int_equal(drv_init(F_VERSION_1 | F_MULTIPORT, 8, 16), DRV_STATUS_LIVE);
	ctrl_post(8, 0x100);
	ctrl_send(0, DEVICE_READY, 1);
	expect_ctrl(0, DEVICE_ADD, 1);
	expect_ctrl(2, DEVICE_ADD, 1);
	expect_no_ctrl();
	ctrl_send(2, PORT_READY, 1);
	expect_ctrl(2, PORT_OPEN, 1); /* unnamed, not a console */
	expect_no_ctrl();
	ctrl_send(1, PORT_READY, 1); /* the hole */
	expect_no_ctrl();
	assert_int_equal(drv_vdev(F->dev)->stats.bad_request, 1);
}

static void test_mp_bad_properties(void **state)
{
	static const char *const orphan[] = { "base=0xd0010000", "irq=17", "name2=x", NULL };
	static const char *const longname[] = {
		"base=0xd0010000", "irq=17", "port1=p1",
		"name1=0123456789012345678901234567890123456789012345678901234567890123", NULL
	};

	assert_null(vmm_harness_create_device(F->h, "virtio-console", "a", orphan));
	assert_null(vmm_harness_create_device(F->h, "virtio-console", "b", longname));
}

/* A driver that does not take MULTIPORT gets the one-port device: port 0
 * works, port 1's input waits, the control queues carry nothing. */
static void test_mp_not_negotiated(void **state)
{
	uint32_t id, len;
	struct virtio_dev *vd = drv_vdev(F->dev);

	assert_int_equal(drv_init(F_VERSION_1, 2, 16), DRV_STATUS_LIVE);
	post_tx(VDEV_BUF, "zero");
	drv_kick(TXQ);
	assert_string_equal(output(NULL), "zero");
	post_rx(VDEV_BUF + 0x100, 16);
	drv_kick(RXQ);
	assert_int_equal(input1("one"), 0);
	assert_int_equal(pending1(), 3);
	assert_int_equal(input("in"), 2);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 2);

	/* The same again with the other queues set up but not negotiated:
	 * each notification there is refused and counted, the buffers are
	 * left alone. */
	assert_int_equal(drv_init(F_VERSION_1, NQ_MP, 16), DRV_STATUS_LIVE);
	ctrl_post(2, 0x100);
	memset(gpa_ptr(CTRL_MSG), 0, 8);
	gpa_ptr(CTRL_MSG)[6] = 1; /* DEVICE_READY 1 */
	drv_add(CTRL_TXQ, &(struct drv_buf){ CTRL_MSG, 8, false }, 1);
	drv_kick(CTRL_TXQ);
	memcpy(gpa_ptr(VDEV_BUF + 0x200), "one?", 4);
	drv_add(P1_TXQ, &(struct drv_buf){ VDEV_BUF + 0x200, 4, false }, 1);
	drv_kick(P1_TXQ);
	expect_no_ctrl();
	assert_false(drv_get_used(CTRL_TXQ, &id, &len));
	assert_false(drv_get_used(P1_TXQ, &id, &len));
	assert_string_equal(output1(NULL), "");
	assert_int_equal(vd->stats.bad_request, 3);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 3);
}

static void test_mp_handshake(void **state)
{
	handshake();
	/* A repeated PORT_READY changes nothing. */
	ctrl_send(1, PORT_READY, 1);
	expect_no_ctrl();
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

/* Device messages wait for control receive buffers. */
static void test_mp_control_waits_for_buffers(void **state)
{
	live_mp();
	ctrl_send(0, DEVICE_READY, 1);
	expect_no_ctrl();
	ctrl_post(1, 0x100);
	expect_ctrl(0, DEVICE_ADD, 1);
	expect_no_ctrl();
	ctrl_post(1, 0x100);
	expect_ctrl(1, DEVICE_ADD, 1);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

/* Data both ways on port 0 and port 1, each with its own backend. */
static void test_mp_data_both_ports(void **state)
{
	uint32_t id, len;

	handshake();
	post_tx(VDEV_BUF, "to-zero");
	drv_kick(TXQ);
	memcpy(gpa_ptr(VDEV_BUF + 0x100), "to-one", 6);
	drv_add(P1_TXQ, &(struct drv_buf){ VDEV_BUF + 0x100, 6, false }, 1);
	drv_kick(P1_TXQ);
	assert_string_equal(output(NULL), "to-zero");
	assert_string_equal(output1(NULL), "to-one");
	assert_true(drv_get_used(TXQ, &id, &len));
	assert_true(drv_get_used(P1_TXQ, &id, &len));
	assert_int_equal(len, 0);

	post_rx(VDEV_BUF + 0x200, 32);
	drv_kick(RXQ);
	memset(gpa_ptr(VDEV_BUF + 0x300), 0, 32);
	uint16_t h1 = drv_add(P1_RXQ, &(struct drv_buf){ VDEV_BUF + 0x300, 32, true }, 1);
	drv_kick(P1_RXQ);
	assert_int_equal(input1("from-one"), 8);
	assert_int_equal(input("from-zero"), 9);
	assert_true(drv_get_used(P1_RXQ, &id, &len));
	assert_int_equal(id, h1);
	assert_int_equal(len, 8);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x300), "from-one", 8);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 9);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x200), "from-zero", 9);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

/* A full receiveq pauses only its own port; so does a port the guest has
 * not opened (or closed): the input waits in the backend, nothing lost. */
static void test_mp_flow_control_per_port(void **state)
{
	uint32_t id, len;

	handshake();
	assert_int_equal(input1("wait"), 0); /* no buffer on port 1 */
	assert_int_equal(pending1(), 4);
	post_rx(VDEV_BUF, 32);
	drv_kick(RXQ);
	assert_int_equal(input("go"), 2); /* port 0 is not held up */
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(pending1(), 4);
	drv_add(P1_RXQ, &(struct drv_buf){ VDEV_BUF + 0x100, 32, true }, 1);
	drv_kick(P1_RXQ);
	assert_int_equal(pending1(), 0);
	assert_true(drv_get_used(P1_RXQ, &id, &len));
	assert_int_equal(len, 4);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x100), "wait", 4);

	/* The guest closes port 1: a posted buffer is not used until it
	 * opens it again. */
	ctrl_send(1, PORT_OPEN, 0);
	drv_add(P1_RXQ, &(struct drv_buf){ VDEV_BUF + 0x200, 32, true }, 1);
	drv_kick(P1_RXQ);
	assert_int_equal(input1("later"), 0);
	assert_false(drv_get_used(P1_RXQ, &id, &len));
	ctrl_send(1, PORT_OPEN, 1);
	assert_int_equal(pending1(), 0);
	assert_true(drv_get_used(P1_RXQ, &id, &len));
	assert_int_equal(len, 5);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

/* Input before the handshake waits until the guest opens the port. */
static void test_mp_input_waits_for_open(void **state)
{
	uint32_t id, len;

	live_mp();
	drv_add(P1_RXQ, &(struct drv_buf){ VDEV_BUF, 32, true }, 1);
	drv_kick(P1_RXQ);
	assert_int_equal(input1("early"), 0);
	ctrl_post(8, 0x100);
	ctrl_send(0, DEVICE_READY, 1);
	ctrl_send(1, PORT_READY, 1);
	assert_int_equal(pending1(), 5);
	ctrl_send(1, PORT_OPEN, 1);
	assert_int_equal(pending1(), 0);
	assert_true(drv_get_used(P1_RXQ, &id, &len));
	assert_int_equal(len, 5);
}

/* Hostile control messages: each refused, counted (bad_request) and
 * logged as a guest error, with no effect; the device carries on. */
static void test_mp_hostile_control(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);
	unsigned long bad = 0;

#define REFUSED()                                                                          \
	do {                                                                               \
		bad++;                                                                     \
		expect_no_ctrl();                                                          \
		assert_int_equal(vd->stats.bad_request, bad);                              \
		assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), bad);   \
	} while (0)

	live_mp();
	ctrl_post(8, 0x100);
	ctrl_send(0, PORT_READY, 1);      /* before DEVICE_READY: not announced */
	REFUSED();
	ctrl_send(0, PORT_OPEN, 1);       /* port not ready */
	REFUSED();
	ctrl_send_len(0, DEVICE_READY, 1, 4); /* short */
	REFUSED();
	ctrl_send_len(0, DEVICE_READY, 1, 0); /* empty */
	REFUSED();
	ctrl_send(0, DEVICE_READY, 1);
	expect_ctrl(0, DEVICE_ADD, 1);
	expect_ctrl(1, DEVICE_ADD, 1);
	ctrl_send(2, PORT_READY, 1);      /* past max_nr_ports */
	REFUSED();
	ctrl_send(0xffffffffu, PORT_OPEN, 1);
	REFUSED();
	ctrl_send(1, 99, 1);              /* unknown event */
	REFUSED();
	ctrl_send(1, 0xffff, 0);
	REFUSED();
	ctrl_send(1, DEVICE_ADD, 1);      /* the device's to send */
	REFUSED();
	ctrl_send(1, CONSOLE_PORT, 1);
	REFUSED();
	ctrl_send(1, PORT_NAME, 1);
	REFUSED();
	ctrl_send(1, RESIZE, 1);
	REFUSED();
	ctrl_send(1, PORT_OPEN, 1);       /* PORT_OPEN before PORT_READY */
	REFUSED();
	ctrl_send(1, PORT_READY, 1);
	uint32_t id;
	uint16_t e, v;
	char name[64];
	assert_true(ctrl_recv(&id, &e, &v, name, sizeof(name)));
	assert_int_equal(e, PORT_NAME);
	expect_ctrl(1, PORT_OPEN, 1);
	ctrl_send(1, PORT_OPEN, 2);       /* neither open nor closed */
	REFUSED();
	/* A control message with a writable part. */
	memset(gpa_ptr(CTRL_MSG + 0x800), 0, 8);
	drv_add(CTRL_TXQ, (const struct drv_buf[]){ { CTRL_MSG + 0x800, 8, false },
						    { CTRL_MSG + 0x900, 8, true } }, 2);
	drv_kick(CTRL_TXQ);
	REFUSED();
	uint32_t used_len = 1;
	assert_true(drv_get_used(CTRL_TXQ, &id, &used_len));
	assert_int_equal(used_len, 0);
	assert_false(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);

	/* Port 1 still works after all that. */
	ctrl_send(1, PORT_OPEN, 1);
	drv_add(P1_RXQ, &(struct drv_buf){ VDEV_BUF, 32, true }, 1);
	drv_kick(P1_RXQ);
	assert_int_equal(input1("alive"), 5);
	assert_int_equal(vd->stats.bad_request, bad);
#undef REFUSED
}

/* Hostile: control receive buffers that cannot take a message are given
 * back empty and counted; a short one for a name gets what fits. */
static void test_mp_bad_control_buffers(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);
	uint32_t head = 0, len = 0;

	live_mp();
	ctrl_post(1, 4);                           /* smaller than a header */
	drv_add(CTRL_RXQ, &(struct drv_buf){ CTRL_BUF + 0x3000, 64, false }, 1); /* read-only */
	drv_kick(CTRL_RXQ);
	ctrl_send(0, DEVICE_READY, 1);
	assert_true(drv_get_used(CTRL_RXQ, &head, &len));
	assert_int_equal(len, 0);
	assert_true(drv_get_used(CTRL_RXQ, &head, &len));
	assert_int_equal(len, 0);
	assert_false(drv_get_used(CTRL_RXQ, &head, &len));
	assert_int_equal(vd->stats.bad_request, 2);
	ctrl_post(2, 0x100);
	expect_ctrl(0, DEVICE_ADD, 1);
	expect_ctrl(1, DEVICE_ADD, 1);
	ctrl_send(1, PORT_READY, 1);
	ctrl_post(1, 12);                          /* the name cut to 4 bytes */
	assert_true(drv_get_used(CTRL_RXQ, &head, &len));
	assert_int_equal(len, 12);
	assert_memory_equal(gpa_ptr(ctrl_gpa[head]) + 8, "org.", 4);
}

/* Hostile: the control transmitq before DRIVER_OK is the transport's to
 * refuse (counted there); nothing is answered. */
static void test_mp_control_before_driver_ok(void **state)
{
	struct virtio_dev *vd = drv_vdev(F->dev);

	drv_init_ex(F_VERSION_1 | F_MULTIPORT, NQ_MP, 16, false);
	ctrl_post(4, 0x100);
	memset(gpa_ptr(CTRL_MSG), 0, 8);
	gpa_ptr(CTRL_MSG)[6] = 1; /* DEVICE_READY 1 */
	drv_add(CTRL_TXQ, &(struct drv_buf){ CTRL_MSG, 8, false }, 1);
	drv_kick(CTRL_TXQ);
	expect_no_ctrl();
	assert_int_equal(vd->stats.notify_not_ready, 2);
	vw(VIRTIO_MMIO_STATUS, DRV_STATUS_LIVE);
	drv_kick(CTRL_TXQ);
	drv_kick(CTRL_RXQ);
	expect_ctrl(0, DEVICE_ADD, 1);
	expect_ctrl(1, DEVICE_ADD, 1);
}

/* A reset forgets the handshake: the next driver starts over. */
static void test_mp_reset_restarts_handshake(void **state)
{
	handshake();
	vw(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(input1("held"), 0);
	ctrl_posted = 0;
	handshake();
	drv_add(P1_RXQ, &(struct drv_buf){ VDEV_BUF, 32, true }, 1);
	drv_kick(P1_RXQ);
	assert_int_equal(pending1(), 0);
}

/* The backend of @prop gains (true) or loses someone at its host end. */
static void host_end(const char *prop, bool connected)
{
	assert_int_equal(vmm_harness_char_connect(F->dev, prop, connected), 0);
	assert_int_equal(vmm_harness_char_connected(F->dev, prop), connected);
}

/* 5.3.6.2: PORT_OPEN from the device says the host end opened (1) or
 * closed (0) the port; it follows the backend, on port 0 as on port 1. */
static void test_mp_host_end_follows_backend(void **state)
{
	handshake();
	ctrl_post(4, 0x100);
	host_end("port1", false);
	expect_ctrl(1, PORT_OPEN, 0);
	expect_no_ctrl();
	host_end("port1", false); /* no change, no message */
	expect_no_ctrl();
	host_end("port1", true);
	expect_ctrl(1, PORT_OPEN, 1);
	expect_no_ctrl();
	host_end("chardev", false);
	expect_ctrl(0, PORT_OPEN, 0);
	host_end("chardev", true);
	expect_ctrl(0, PORT_OPEN, 1);
	expect_no_ctrl();
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
}

/* Before PORT_READY the driver hears nothing; the PORT_OPEN that follows
 * PORT_READY carries the state then (none while nobody is connected). */
static void test_mp_host_end_before_ready(void **state)
{
	host_end("port1", false); /* before there is a driver */
	announce(); /* and nothing but the announcements */
	host_end("chardev", false);
	host_end("chardev", true); /* back before port 0 is ready */
	expect_no_ctrl();
	port0_ready();
	port1_ready_named();
	expect_no_ctrl(); /* port 1's host end is closed: no PORT_OPEN */
	host_end("port1", true);
	expect_ctrl(1, PORT_OPEN, 1);
	expect_no_ctrl();
}

/* Changes while the driver has posted no control buffer: what it gets
 * when it posts one is the state then, and nothing when that is what it
 * was last told. */
static void test_mp_host_end_waits_for_buffers(void **state)
{
	handshake(); /* six of its eight control buffers used */
	host_end("port1", false);
	expect_ctrl(1, PORT_OPEN, 0);
	host_end("port1", true);
	expect_ctrl(1, PORT_OPEN, 1);
	host_end("port1", false); /* no buffer left */
	host_end("port1", true);
	ctrl_post(1, 0x100);
	expect_no_ctrl();
	host_end("port1", false);
	expect_ctrl(1, PORT_OPEN, 0);
	host_end("port1", true); /* no buffer */
	host_end("port1", false);
	ctrl_post(1, 0x100);
	expect_no_ctrl();
	host_end("port1", true);
	expect_ctrl(1, PORT_OPEN, 1);
}

/* Without MULTIPORT negotiated there is no control queue to tell: the
 * control receiveq's buffers stay untouched and port 0 works on. */
static void test_mp_host_end_not_negotiated(void **state)
{
	uint32_t id, len;

	assert_int_equal(drv_init(F_VERSION_1, NQ_MP, 16), DRV_STATUS_LIVE);
	ctrl_post(2, 0x100); /* refused: one guest error */
	host_end("chardev", false);
	host_end("port1", false);
	host_end("chardev", true);
	expect_no_ctrl();
	post_rx(VDEV_BUF, 16);
	drv_kick(RXQ);
	assert_int_equal(input("in"), 2);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 2);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 1);
}

/* ---- Saved state (ABI 1.12) ---- */

static void con_create_twin(void)
{
	F->dev = drv_create("virtio-console", NULL);
}

static void con_create_twin_mp(void)
{
	static const char *const props[] = { "port1=p1", "name1=" P1_NAME, NULL };

	F->dev = drv_create("virtio-console", props);
}

/* Saved halfway through the MULTIPORT handshake (port 0 ready and open
 * in the guest, port 1 announced and not ready), with output posted and
 * not notified and a receive buffer posted: the twin writes the same
 * output, fills the same buffer with the same input and goes on with the
 * handshake where it was, with the same control messages. */
static void test_mp_save_load_mid_handshake(void **state)
{
	struct drv_used_log ctl_orig, ctl_twin, rx_orig, rx_twin, tx_orig, tx_twin;
	struct drv_queue dq_at_save[8];
	size_t len, n;

	announce();
	port0_ready();
	ctrl_send(0, PORT_OPEN, 1);
	expect_no_ctrl();
	post_tx(VDEV_BUF, "after-restore");
	post_rx(VDEV_BUF + 0x200, 32);
	drv_kick(RXQ);
	drv_ack();

	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	memcpy(dq_at_save, DQ, sizeof(DQ));
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, con_create_twin_mp);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);

	for (int run = 0; run < 2; run++) {
		if (run) {
			memcpy(DQ, dq_at_save, sizeof(DQ));
			F = f2;
		}
		drv_kick(TXQ);
		assert_string_equal(output(&n), "after-restore");
		assert_int_equal(input("typed"), 5);
		ctrl_send(1, PORT_READY, 1);
		drv_collect(CTRL_RXQ, run ? &ctl_twin : &ctl_orig);
		drv_collect(RXQ, run ? &rx_twin : &rx_orig);
		drv_collect(TXQ, run ? &tx_twin : &tx_orig);
		assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_VRING);
		assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), 0);
	}
	F = orig_f;
	assert_int_equal(ctl_orig.n, 2); /* PORT_NAME, PORT_OPEN 1 */
	drv_used_log_equal(&ctl_orig, &ctl_twin);
	assert_int_equal(rx_orig.n, 1);
	drv_used_log_equal(&rx_orig, &rx_twin);
	drv_used_log_equal(&tx_orig, &tx_twin);
	/* The twin's doorbells (ioeventfds) are create()'s, one per queue of
	 * the config, and the notifications after the load went through them. */
	assert_int_equal(vmm_harness_notify_count(f2->h), NQ_MP);
	assert_int_equal(vmm_harness_notify_delivered(f2->h), 2); /* TXQ, CTRL_TXQ */
	uint8_t *twin_ram = vmm_harness_ram(f2->h, NULL);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x200), "typed", 5);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x200), twin_ram + VDEV_BUF + 0x200, 32);
	assert_memory_equal(gpa_ptr(CTRL_BUF), twin_ram + CTRL_BUF, 0x100 * 8);
	free(rec);
	drv_twin_free(f2);
}

/* The twin's backend is not connected at the host end though the driver
 * was told it was: it hears PORT_OPEN 0 once loaded. */
static void test_mp_save_load_host_end_changed(void **state)
{
	size_t len;

	handshake();
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, con_create_twin_mp);
	F = f2;
	host_end("port1", false);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	expect_ctrl(1, PORT_OPEN, 0);
	expect_no_ctrl();
	assert_int_equal(irq(), 1);
	F = orig_f;
	free(rec);
	drv_twin_free(f2);
}

/* Every byte of a MULTIPORT record changed in turn: taken or refused,
 * never a crash, and a device that took it survives input, output and
 * control traffic. */
static void test_mp_load_survives_any_byte_changed(void **state)
{
	static const uint8_t xors[] = { 0x01, 0x10, 0xff };
	unsigned taken = 0, refused = 0;
	size_t len;

	handshake();
	post_rx(VDEV_BUF + 0x200, 32);
	drv_kick(RXQ);
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, con_create_twin_mp);
	uint8_t *copy = malloc(len);

	assert_non_null(copy);
	F = f2;
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(xors); k++) {
			memcpy(copy, rec, len);
			copy[i] ^= xors[k];
			if (vmm_harness_load(f2->dev, copy, len)) {
				refused++;
				continue;
			}
			taken++;
			for (unsigned q = 0; q < NQ_MP; q++)
				vmm_harness_mmio_write(F->h, VDEV_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q);
			vmm_harness_char_input(F->dev, "x", 1);
			vmm_harness_char_input_prop(F->dev, "port1", "y", 1);
			vmm_harness_clock_step(F->h, 0);
		}
	}
	F = orig_f;
	assert_true(taken > 0);
	assert_true(refused > 0);
	free(copy);
	free(rec);
	drv_twin_free(f2);
}

/* A receive buffer taken from the receiveq and not yet filled (the core's
 * backend asks can_receive() before it reads; the harness never leaves
 * the two apart, so the record is made as such a save would make it):
 * load gives it back to the ring, and the twin fills the same buffer with
 * the next input as the original does. */
static void test_save_load_held_receive_buffer(void **state)
{
	struct drv_used_log orig, twin;
	struct drv_queue dq_at_save[8];
	uint32_t id, ulen;
	size_t len;

	live();
	post_rx(VDEV_BUF, 16);
	drv_kick(RXQ);
	assert_int_equal(input("a"), 1);
	assert_true(drv_get_used(RXQ, &id, &ulen));
	post_rx(VDEV_BUF + 0x100, 16);
	drv_kick(RXQ);

	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	assert_int_equal(rec_get_u32(rec, len, "p0.flags"), 0);
	assert_int_equal(rec_get_u32(rec, len, "q0.last_avail"), 1);
	rec_set_u32(rec, len, "q0.last_avail", 2);
	rec_set_u32(rec, len, "p0.flags", 1u << 4); /* a buffer held */
	memcpy(dq_at_save, DQ, sizeof(DQ));
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, con_create_twin);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);

	assert_int_equal(input("xyz"), 3);
	drv_collect(RXQ, &orig);
	memcpy(DQ, dq_at_save, sizeof(DQ));
	F = f2;
	assert_int_equal(input("xyz"), 3);
	drv_collect(RXQ, &twin);
	F = orig_f;
	assert_int_equal(orig.n, 1);
	drv_used_log_equal(&orig, &twin);
	assert_memory_equal(gpa_ptr(VDEV_BUF + 0x100), "xyz", 3);
	assert_memory_equal((uint8_t *)vmm_harness_ram(f2->h, NULL) + VDEV_BUF + 0x100, "xyz", 3);

	/* Refused: a buffer held with none taken, unknown port bits, a
	 * version this plugin does not know. */
	rec_set_u32(rec, len, "q0.last_avail", 1);
	struct fixture *f3 = drv_twin(VMM_IRQ_EMULATED, con_create_twin);
	assert_int_equal(vmm_harness_load(f3->dev, rec, len), -EINVAL);
	assert_int_equal(rec_load_patched32(f3, rec, len, "p0.flags", 1u << 20), -EINVAL);
	*rec_version(rec) = 2;
	assert_int_equal(vmm_harness_load(f3->dev, rec, len), -EPROTO);
	assert_int_equal(vmm_harness_log_count(f3->h, VMM_LOG_ERROR), 3);
	free(rec);
	drv_twin_free(f3);
	drv_twin_free(f2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TM(fn) cmocka_unit_test_setup_teardown(fn, setup_mp, teardown)

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
		TM(test_mp_identity),
		cmocka_unit_test_setup_teardown(test_mp_port_hole, setup_hole, teardown),
		TM(test_mp_bad_properties),
		TM(test_mp_not_negotiated),
		TM(test_mp_handshake),
		TM(test_mp_control_waits_for_buffers),
		TM(test_mp_data_both_ports),
		TM(test_mp_flow_control_per_port),
		TM(test_mp_input_waits_for_open),
		TM(test_mp_hostile_control),
		TM(test_mp_bad_control_buffers),
		TM(test_mp_control_before_driver_ok),
		TM(test_mp_reset_restarts_handshake),
		TM(test_mp_host_end_follows_backend),
		TM(test_mp_host_end_before_ready),
		TM(test_mp_host_end_waits_for_buffers),
		TM(test_mp_host_end_not_negotiated),
		TM(test_mp_save_load_mid_handshake),
		TM(test_mp_save_load_host_end_changed),
		T(test_save_load_held_receive_buffer),
		TM(test_mp_load_survives_any_byte_changed),
	};

	setenv("VMM_HARNESS_QUIET", "1", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
