/* tests/unit/test_virtio_net.c - virtio-net.so through the harness on a
 * fake net backend, with the test as the driver (virtio 1.2, 5.1): feature
 * offers, config space, frames in both directions byte for byte, mergeable
 * receive buffers, offload negotiation reaching the backend, back-pressure,
 * link changes from the backend (config-change interrupts), and the hostile
 * cases. */
#include "config.h"
#include "tests/unit/test-env.h"

#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <vmm/harness.h>

#include "device-fixture.h"
#include "virtio-driver.h"

#define F_VERSION_1 VIRTIO_BIT(VIRTIO_F_VERSION_1)
#define F_CSUM VIRTIO_BIT(0)
#define F_GUEST_CSUM VIRTIO_BIT(1)
#define F_MAC VIRTIO_BIT(5)
#define F_GUEST_TSO4 VIRTIO_BIT(7)
#define F_GUEST_TSO6 VIRTIO_BIT(8)
#define F_GUEST_ECN VIRTIO_BIT(9)
#define F_HOST_TSO4 VIRTIO_BIT(11)
#define F_HOST_TSO6 VIRTIO_BIT(12)
#define F_HOST_ECN VIRTIO_BIT(13)
#define F_MRG VIRTIO_BIT(15)
#define F_STATUS VIRTIO_BIT(16)
#define F_BASE (F_VERSION_1 | F_MAC | F_STATUS)

#define RXQ 0
#define TXQ 1
#define HDR 12u
#define TX_GPA VDEV_BUF
#define RX_GPA (VDEV_BUF + 0x40000)

#define ALL_OFFLOADS (VMM_NET_OFFLOAD_CSUM | VMM_NET_OFFLOAD_TSO4 | VMM_NET_OFFLOAD_TSO6 | \
		      VMM_NET_OFFLOAD_ECN)

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

/* A fake backend "net0" with @caps and the device on it. */
static struct vmm_harness_dev *net_create(uint32_t caps, const char *const *extra)
{
	const char *props[8] = { "net=net0" };
	unsigned n = 1;

	for (; extra && *extra && n < 7; extra++)
		props[n++] = *extra;
	props[n] = NULL;
	assert_int_equal(vmm_harness_add_net_fake(F->h, "net0", caps, NULL), 0);
	return drv_create("virtio-net", props);
}

static struct virtio_dev_stats *stats(struct vmm_harness_dev *dev)
{
	return &drv_vdev(dev)->stats;
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static void test_features_and_config(void **state)
{
	struct vmm_harness_dev *dev = net_create(0, NULL);

	assert_non_null(dev);
	assert_int_equal(vr(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	uint64_t f = drv_device_features();
	assert_true((f & (F_BASE | F_MRG)) == (F_BASE | F_MRG));
	/* A backend without offloads gets none offered. */
	assert_false(f & (F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 | F_GUEST_TSO4));
	assert_int_equal(drv_init(F_BASE, 2, 16), DRV_STATUS_LIVE);
	/* 5.1.4: mac, then status with VIRTIO_NET_S_LINK_UP. */
	static const uint8_t mac[6] = { 0x02, 0x76, 0x6d, 0x6d, 0x00, 0x01 };
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + i, 1),
				 mac[i]);
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 6, 2), 1);
}

static void test_mac_and_link_props(void **state)
{
	static const char *const props[] = { "mac=52:54:00:ab:CD:ef", "link=false", NULL };
	struct vmm_harness_dev *dev = net_create(0, props);

	assert_non_null(dev);
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG, 4), 0xab005452);
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 4, 2), 0xefcd);
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 6, 2), 0);
}

static void test_bad_mac_refused(void **state)
{
	static const char *const bad[][2] = {
		{ "mac=52:54:00:ab:cd", NULL }, { "mac=52-54-00-ab-cd-ef", NULL },
		{ "mac=52:54:00:ab:cd:eg", NULL }, { "mac=01:00:5e:00:00:01", NULL }, /* multicast */
	};

	assert_int_equal(vmm_harness_set_ram(F->h, VDEV_RAM), 0);
	assert_int_equal(vmm_harness_add_net_fake(F->h, "net0", 0, NULL), 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *props[] = { "base=0xd0000000", "irq=16", "net=net0", bad[i][0], NULL };

		assert_null(vmm_harness_create_device(F->h, "virtio-net", "vdev", props));
	}
	/* A good one after them: the refusals left nothing behind. */
	const char *good[] = { "base=0xd0000000", "irq=16", "net=net0", "mac=02:00:00:00:00:02", NULL };
	assert_non_null(vmm_harness_create_device(F->h, "virtio-net", "vdev", good));
}

static void test_backend_offloads_offered(void **state)
{
	assert_non_null(net_create(ALL_OFFLOADS, NULL));
	uint64_t f = drv_device_features();
	uint64_t want = F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 | F_GUEST_TSO4 | F_HOST_TSO6 |
			F_GUEST_TSO6 | F_HOST_ECN | F_GUEST_ECN;
	assert_true((f & want) == want);
}

static void test_tx_frame_byte_exact(void **state)
{
	struct vmm_harness_dev *dev = net_create(0, NULL);
	uint8_t *p = gpa_ptr(TX_GPA);
	uint32_t id, len;
	size_t slen;

	assert_non_null(dev);
	assert_int_equal(drv_init(F_BASE, 2, 16), DRV_STATUS_LIVE);
	memset(p, 0, HDR);
	fill_pattern(p + 0x100, 60, 3);
	/* Header and frame in two descriptors, as Linux posts them. */
	struct drv_buf b[] = { { TX_GPA, HDR, false }, { TX_GPA + 0x100, 60, false } };
	uint16_t head = drv_add(TXQ, b, 2);
	drv_kick(TXQ);
	assert_int_equal(vmm_harness_net_sent_count(F->h, "net0"), 1);
	const uint8_t *s = vmm_harness_net_sent(F->h, "net0", 0, &slen);
	assert_int_equal(slen, HDR + 60);
	assert_memory_equal(s, p, HDR);
	assert_memory_equal(s + HDR, p + 0x100, 60);
	assert_true(drv_get_used(TXQ, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(irq(), 1);
	assert_int_equal(stats(dev)->bad_request, 0);
}

/* Post @n receive chains of @size bytes each on RXQ and kick. */
static void post_rx(unsigned n, uint32_t size)
{
	for (unsigned i = 0; i < n; i++) {
		struct drv_buf b = { RX_GPA + i * 0x10000, size, true };
		drv_add(RXQ, &b, 1);
	}
	drv_kick(RXQ);
}

static void make_frame(uint8_t *f, size_t payload, unsigned seed)
{
	memset(f, 0, HDR);
	fill_pattern(f + HDR, payload, seed);
}

static void test_rx_without_mergeable(void **state)
{
	static uint8_t frame[HDR + 100];
	struct vmm_harness_dev *dev = net_create(0, NULL);
	uint32_t id, len;

	assert_non_null(dev);
	assert_int_equal(drv_init(F_BASE, 2, 16), DRV_STATUS_LIVE);
	post_rx(1, 1526);
	make_frame(frame, 100, 9);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, sizeof(frame));
	assert_memory_equal(gpa_ptr(RX_GPA) + HDR, frame + HDR, 100);
	/* 5.1.6.4: num_buffers is 1 without mergeable buffers. */
	assert_int_equal(le16toh(*(uint16_t *)(gpa_ptr(RX_GPA) + 10)), 1);
	assert_int_equal(irq(), 1);

	/* A frame larger than the one buffer is dropped, the buffer kept. */
	static uint8_t big[HDR + 3000];
	post_rx(1, 1526);
	make_frame(big, 3000, 1);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", big, sizeof(big)), 0);
	assert_false(drv_get_used(RXQ, &id, &len));
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, sizeof(frame));
}

static void test_rx_mergeable_num_buffers(void **state)
{
	static uint8_t frame[HDR + 3000];
	struct vmm_harness_dev *dev = net_create(0, NULL);
	uint32_t id[2], len[2], x, y;

	assert_non_null(dev);
	assert_int_equal(drv_init(F_BASE | F_MRG, 2, 16), DRV_STATUS_LIVE);
	post_rx(4, 2048);
	make_frame(frame, 3000, 5);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	assert_true(drv_get_used(RXQ, &id[0], &len[0]));
	assert_true(drv_get_used(RXQ, &id[1], &len[1]));
	assert_false(drv_get_used(RXQ, &x, &y));
	assert_int_equal(len[0], 2048);
	assert_int_equal(len[1], sizeof(frame) - 2048);
	assert_int_equal(le16toh(*(uint16_t *)(gpa_ptr(RX_GPA) + 10)), 2);
	assert_memory_equal(gpa_ptr(RX_GPA) + HDR, frame + HDR, 2048 - HDR);
	assert_memory_equal(gpa_ptr(RX_GPA + 0x10000), frame + 2048, len[1]);
}

static void test_offloads_reach_backend(void **state)
{
	assert_non_null(net_create(ALL_OFFLOADS, NULL));
	assert_int_equal(drv_init(F_BASE | F_CSUM | F_GUEST_CSUM | F_GUEST_TSO4, 2, 16),
			 DRV_STATUS_LIVE);
	assert_int_equal(vmm_harness_net_offloads(F->h, "net0"),
			 VMM_NET_OFFLOAD_CSUM | VMM_NET_OFFLOAD_TSO4);
	/* A reset goes back to plain frames. */
	vw(VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vmm_harness_net_offloads(F->h, "net0"), 0);
	assert_int_equal(drv_init(F_BASE | F_GUEST_CSUM | F_GUEST_TSO6 | F_GUEST_ECN, 2, 16),
			 DRV_STATUS_LIVE);
	assert_int_equal(vmm_harness_net_offloads(F->h, "net0"),
			 VMM_NET_OFFLOAD_CSUM | VMM_NET_OFFLOAD_TSO6 | VMM_NET_OFFLOAD_ECN);
}

static void test_tx_offload_header_passes(void **state)
{
	struct vmm_harness_dev *dev = net_create(ALL_OFFLOADS, NULL);
	struct vmm_net_hdr *hdr = (struct vmm_net_hdr *)gpa_ptr(TX_GPA);
	size_t slen;

	assert_non_null(dev);
	assert_int_equal(drv_init(F_BASE | F_CSUM | F_HOST_TSO4, 2, 16), DRV_STATUS_LIVE);
	memset(hdr, 0, HDR);
	hdr->flags = VMM_NET_HDR_F_NEEDS_CSUM;
	hdr->gso_type = VMM_NET_HDR_GSO_TCPV4;
	hdr->hdr_len = htole16(54);
	hdr->gso_size = htole16(1448);
	hdr->csum_start = htole16(34);
	hdr->csum_offset = htole16(16);
	fill_pattern(gpa_ptr(TX_GPA) + HDR, 4000, 2);
	struct drv_buf b = { TX_GPA, HDR + 4000, false };
	drv_add(TXQ, &b, 1);
	drv_kick(TXQ);
	const uint8_t *s = vmm_harness_net_sent(F->h, "net0", 0, &slen);
	assert_non_null(s);
	assert_int_equal(slen, HDR + 4000);
	assert_memory_equal(s, gpa_ptr(TX_GPA), HDR + 4000);
	/* GSO_TCPV6 was not negotiated: dropped and counted. */
	hdr->gso_type = VMM_NET_HDR_GSO_TCPV6;
	drv_add(TXQ, &b, 1);
	drv_kick(TXQ);
	assert_int_equal(vmm_harness_net_sent_count(F->h, "net0"), 1);
	assert_int_equal(stats(dev)->bad_request, 1);
}

static void test_backpressure(void **state)
{
	static uint8_t frame[HDR + 3000];
	struct vmm_harness_dev *dev = net_create(0, NULL);
	uint32_t id, len;

	assert_non_null(dev);
	assert_int_equal(drv_init(F_BASE | F_MRG, 2, 16), DRV_STATUS_LIVE);
	make_frame(frame, 3000, 4);
	unsigned resumes = vmm_harness_net_resumes(F->h, "net0");
	/* No receive buffer: refused, input paused. */
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, 100), -EAGAIN);
	post_rx(1, 2048);
	assert_int_equal(vmm_harness_net_resumes(F->h, "net0"), resumes + 1);
	/* One 2 KiB buffer is not enough for 3012 bytes: refused, and the
	 * buffer is not used up. */
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), -EAGAIN);
	assert_false(drv_get_used(RXQ, &id, &len));
	post_rx(1, 2048);
	assert_int_equal(vmm_harness_net_resumes(F->h, "net0"), resumes + 2);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, 2048);
	assert_true(drv_get_used(RXQ, &id, &len));
	assert_int_equal(len, sizeof(frame) - 2048);
	assert_int_equal(stats(dev)->bad_request, 0);
}

/* ---- link status (5.1.4 status, 4.2.2 config-change interrupts) ---- */

static unsigned cfg_status(void)
{
	return (unsigned)vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 6, 2);
}

static uint32_t cfg_gen(void)
{
	return vr(VIRTIO_MMIO_CONFIG_GENERATION);
}

/* The backend's link goes @up: the driver sees status @up, InterruptStatus
 * bit 1 with the line high, and generation @gen; then acknowledges. */
static void link_to(bool up, uint32_t gen)
{
	assert_int_equal(vmm_harness_net_link(F->h, "net0", up), 0);
	assert_int_equal(vmm_harness_net_link_state(F->h, "net0"), up);
	assert_int_equal(cfg_status(), up);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(irq(), 1);
	assert_int_equal(cfg_gen(), gen);
	assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(irq(), 0);
}

static void test_link_follows_backend(void **state)
{
	assert_non_null(net_create(0, NULL));
	assert_int_equal(drv_init(F_BASE, 2, 16), DRV_STATUS_LIVE);
	assert_int_equal(cfg_status(), 1);
	assert_int_equal(irq(), 0);
	uint32_t gen = cfg_gen();

	link_to(false, gen + 1);

	/* The same state again is no change: no interrupt, same generation. */
	assert_int_equal(vmm_harness_net_link(F->h, "net0", false), 0);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(irq(), 0);
	assert_int_equal(cfg_gen(), gen + 1);

	link_to(true, gen + 2);
	assert_int_equal(vmm_harness_net_link(F->h, "nosuch", true), -ENOENT);
}

static void test_link_before_driver_ok(void **state)
{
	assert_non_null(net_create(0, NULL));
	assert_int_equal(drv_init_ex(F_BASE, 2, 16, false) & VIRTIO_STATUS_DRIVER_OK, 0);
	uint32_t gen = cfg_gen();

	/* Features accepted, no DRIVER_OK yet: the field and the generation
	 * change, no interrupt. */
	assert_int_equal(vmm_harness_net_link(F->h, "net0", false), 0);
	assert_int_equal(cfg_status(), 0);
	assert_int_equal(cfg_gen(), gen + 1);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(irq(), 0);
	vw(VIRTIO_MMIO_STATUS, DRV_STATUS_LIVE);
	assert_int_equal(vr(VIRTIO_MMIO_STATUS), DRV_STATUS_LIVE);
	assert_int_equal(irq(), 0);
	assert_int_equal(cfg_status(), 0);
}

static void test_link_without_status_feature(void **state)
{
	assert_non_null(net_create(0, NULL));
	assert_int_equal(drv_init(F_VERSION_1 | F_MAC, 2, 16), DRV_STATUS_LIVE);
	uint32_t gen = cfg_gen();

	/* The driver did not take VIRTIO_NET_F_STATUS: no interrupt. */
	assert_int_equal(vmm_harness_net_link(F->h, "net0", false), 0);
	assert_int_equal(cfg_status(), 0);
	assert_int_equal(cfg_gen(), gen);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(irq(), 0);
}

static void test_link_prop_and_initial_state(void **state)
{
	static const char *const off[] = { "link=false", NULL };

	/* The backend's link is down before the device opens it. */
	assert_int_equal(vmm_harness_add_net_fake(F->h, "net0", 0, NULL), 0);
	assert_int_equal(vmm_harness_net_link(F->h, "net0", false), 0);
	assert_non_null(drv_create("virtio-net", (const char *const[]){ "net=net0", NULL }));
	assert_int_equal(cfg_status(), 0);
	assert_int_equal(drv_init(F_BASE, 2, 16), DRV_STATUS_LIVE);
	assert_int_equal(irq(), 0);
	assert_int_equal(vmm_harness_net_link(F->h, "net0", true), 0);
	assert_int_equal(cfg_status(), 1);
	assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_CONFIG);
	fixture_teardown(state);

	/* link = false: down whatever the backend says, never an interrupt. */
	fixture_setup(state, VMM_IRQ_EMULATED, NULL, NULL);
	assert_non_null(net_create(0, off));
	assert_int_equal(drv_init(F_BASE, 2, 16), DRV_STATUS_LIVE);
	uint32_t gen = cfg_gen();
	for (int up = 0; up < 2; up++) {
		assert_int_equal(vmm_harness_net_link(F->h, "net0", up), 0);
		assert_int_equal(cfg_status(), 0);
		assert_int_equal(irq(), 0);
		assert_int_equal(cfg_gen(), gen);
	}
}

static void test_hostile_tx(void **state)
{
	struct vmm_harness_dev *dev = net_create(0, NULL);
	uint32_t id, len;

	assert_non_null(dev);
	/* Notify before DRIVER_OK: ignored and counted by the transport. */
	assert_int_equal(drv_init_ex(F_BASE, 2, 16, false) & VIRTIO_STATUS_DRIVER_OK, 0);
	drv_kick(TXQ);
	assert_int_equal(stats(dev)->notify_not_ready, 1);
	vw(VIRTIO_MMIO_STATUS, DRV_STATUS_LIVE);

	memset(gpa_ptr(TX_GPA), 0, HDR);
	/* A writable descriptor in a transmit chain. */
	struct drv_buf w[] = { { TX_GPA, HDR + 60, false }, { TX_GPA + 0x1000, 64, true } };
	drv_add(TXQ, w, 2);
	/* A frame longer than 65550 bytes. */
	struct drv_buf big = { TX_GPA, HDR + 65551, false };
	drv_add(TXQ, &big, 1);
	/* Shorter than the header. */
	struct drv_buf tiny = { TX_GPA, 8, false };
	drv_add(TXQ, &tiny, 1);
	/* NEEDS_CSUM without VIRTIO_NET_F_CSUM. */
	gpa_ptr(TX_GPA + 0x2000)[0] = VMM_NET_HDR_F_NEEDS_CSUM;
	struct drv_buf csum = { TX_GPA + 0x2000, HDR + 60, false };
	drv_add(TXQ, &csum, 1);
	drv_kick(TXQ);
	assert_int_equal(vmm_harness_net_sent_count(F->h, "net0"), 0);
	assert_int_equal(stats(dev)->bad_request, 4);
	for (int i = 0; i < 4; i++)
		assert_true(drv_get_used(TXQ, &id, &len));
	assert_int_equal(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);

	/* A buffer outside guest RAM: the queue stops, the device needs a reset. */
	struct drv_buf out = { VDEV_RAM - 16, 64, false };
	drv_add(TXQ, &out, 1);
	drv_kick(TXQ);
	assert_int_not_equal(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
	assert_int_equal(vmm_harness_net_sent_count(F->h, "net0"), 0);
	assert_true(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR) >= 5);
}

static void test_hostile_rx(void **state)
{
	static uint8_t frame[HDR + 60];
	struct vmm_harness_dev *dev = net_create(0, NULL);

	assert_non_null(dev);
	assert_int_equal(drv_init(F_BASE | F_MRG, 2, 16), DRV_STATUS_LIVE);
	/* A receive buffer too small for the header. */
	post_rx(1, 8);
	make_frame(frame, 60, 1);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	assert_int_not_equal(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
	assert_int_equal(stats(dev)->bad_request, 1);
	/* The device takes nothing more until reset. */
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), -EAGAIN);

	/* After a reset: a device-readable receive buffer. */
	assert_int_equal(drv_init(F_BASE | F_MRG, 2, 16), DRV_STATUS_LIVE);
	struct drv_buf ro = { RX_GPA, 2048, false };
	drv_add(RXQ, &ro, 1);
	drv_kick(RXQ);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	assert_int_not_equal(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
	assert_int_equal(stats(dev)->bad_request, 2);

	/* A frame past 65550 bytes never reaches the device. */
	static uint8_t huge[HDR + 65551];
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", huge, sizeof(huge)), -EINVAL);
}

/* ---- Saved state (ABI 1.12) ---- */

/* The MAC comes from the backend (no `mac` property), and the twin's
 * backend, a new one, has another. */
static void net_create_twin(void)
{
	static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };
	static unsigned made;

	assert_int_equal(vmm_harness_add_net_fake(F->h, "net0", ALL_OFFLOADS,
						  made++ % 2 ? mac_b : mac_a), 0);
	F->dev = drv_create("virtio-net", (const char *[]){ "net=net0", NULL });
}

/* Two frames to send posted and not notified, receive buffers posted; a
 * frame sent and one received before the save.  The twin gets the
 * offloads again, and sends and receives exactly what the original does,
 * into the same buffers. */
static void test_save_load_mid_queue(void **state)
{
	static uint8_t frame[HDR + 3000];
	struct drv_used_log tx_orig, rx_orig, tx_twin, rx_twin;
	struct drv_queue dq_at_save[8];
	uint8_t mac[6];
	size_t len;

	net_create_twin();
	assert_non_null(F->dev);
	assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + 5, 1), 0x0a);
	assert_int_equal(drv_init(F_BASE | F_MRG | F_CSUM | F_GUEST_CSUM | F_GUEST_TSO4, 2, 16),
			 DRV_STATUS_LIVE);
	memset(gpa_ptr(TX_GPA), 0, HDR);
	fill_pattern(gpa_ptr(TX_GPA + 0x100), 60, 1);
	drv_add(TXQ, (struct drv_buf[]){ { TX_GPA, HDR, false }, { TX_GPA + 0x100, 60, false } }, 2);
	drv_kick(TXQ);
	post_rx(4, 2048);
	make_frame(frame, 100, 2);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, HDR + 100), 0);
	drv_collect(TXQ, &tx_orig);
	drv_collect(RXQ, &rx_orig);
	assert_int_equal(tx_orig.n + rx_orig.n, 2);
	assert_int_equal(drv_ack(), VIRTIO_MMIO_INT_VRING);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t at = TX_GPA + 0x1000 * (i + 1);

		memset(gpa_ptr(at), 0, HDR);
		fill_pattern(gpa_ptr(at + 0x100), 200 + i, 7 + i);
		drv_add(TXQ, (struct drv_buf[]){ { at, HDR, false }, { at + 0x100, 200 + i, false } }, 2);
	}
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + i, 1);

	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	memcpy(dq_at_save, DQ, sizeof(DQ));
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, net_create_twin);
	assert_int_equal(vmm_harness_net_offloads(f2->h, "net0"), 0);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	/* DRIVER_OK told the old backend; load tells the new one. */
	assert_int_equal(vmm_harness_net_offloads(f2->h, "net0"), VMM_NET_OFFLOAD_CSUM | VMM_NET_OFFLOAD_TSO4);
	assert_int_equal(vmm_harness_irq_level(f2->h, VDEV_IRQ), 0);

	make_frame(frame, 3000, 5);
	vmm_harness_net_sent_clear(F->h, "net0");
	drv_kick(TXQ);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	drv_collect(TXQ, &tx_orig);
	drv_collect(RXQ, &rx_orig);
	uint32_t isr_orig = drv_ack();

	memcpy(DQ, dq_at_save, sizeof(DQ));
	F = f2;
	/* The MAC the driver read, not the new backend's. */
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vmm_harness_mmio_read(F->h, VDEV_BASE + VIRTIO_MMIO_CONFIG + i, 1), mac[i]);
	assert_int_equal(cfg_status(), 1);
	drv_kick(TXQ);
	assert_int_equal(vmm_harness_net_inject(F->h, "net0", frame, sizeof(frame)), 0);
	drv_collect(TXQ, &tx_twin);
	drv_collect(RXQ, &rx_twin);
	assert_int_equal(drv_ack(), isr_orig);
	F = orig_f;

	assert_int_equal(tx_orig.n, 2);
	assert_int_equal(rx_orig.n, 2);
	drv_used_log_equal(&tx_orig, &tx_twin);
	drv_used_log_equal(&rx_orig, &rx_twin);
	assert_int_equal(isr_orig, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(vmm_harness_net_sent_count(F->h, "net0"), 2);
	assert_int_equal(vmm_harness_net_sent_count(f2->h, "net0"), 2);
	for (size_t i = 0; i < 2; i++) {
		size_t l1, l2;
		const void *a = vmm_harness_net_sent(F->h, "net0", i, &l1);
		const void *b = vmm_harness_net_sent(f2->h, "net0", i, &l2);

		assert_int_equal(l1, HDR + 200 + i);
		assert_int_equal(l1, l2);
		assert_memory_equal(a, b, l1);
	}
	/* The received frame in the same buffers of both guests. */
	assert_memory_equal(gpa_ptr(RX_GPA), (uint8_t *)vmm_harness_ram(f2->h, NULL) + RX_GPA,
			    0x40000);
	assert_memory_equal(gpa_ptr(DQ[RXQ].used),
			    (uint8_t *)vmm_harness_ram(f2->h, NULL) + DQ[RXQ].used, 6 + 8 * 16);
	free(rec);
	drv_twin_free(f2);
}

/* The driver saw the link down; the new backend's is up: the restored
 * device says so with a configuration change, as for any link change. */
static void test_save_load_link_changed_meanwhile(void **state)
{
	size_t len;

	net_create_twin();
	assert_int_equal(drv_init(F_BASE, 2, 16), DRV_STATUS_LIVE);
	link_to(false, 1);
	uint8_t *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	struct fixture *orig_f = F, *f2 = drv_twin(VMM_IRQ_EMULATED, net_create_twin);
	assert_int_equal(vmm_harness_load(f2->dev, rec, len), 0);
	F = f2;
	assert_int_equal(cfg_status(), 1);
	assert_int_equal(vr(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(irq(), 1);
	assert_int_equal(cfg_gen(), 2);
	F = orig_f;

	/* A multicast MAC or unknown status bits are refused. */
	uint8_t *copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, rec, len);
	rec_field(copy, len, "net.mac")[0] |= 1;
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EINVAL);
	assert_int_equal(rec_load_patched32(f2, rec, len, "net.status", 2), -EINVAL);
	memcpy(copy, rec, len);
	*rec_version(copy) = 0;
	assert_int_equal(vmm_harness_load(f2->dev, copy, len), -EPROTO);
	free(copy);
	free(rec);
	drv_twin_free(f2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_save_load_mid_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_link_changed_meanwhile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_and_link_props, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mac_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_offloads_offered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_frame_byte_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_without_mergeable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_mergeable_num_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offloads_reach_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_offload_header_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_follows_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_before_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_without_status_feature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_prop_and_initial_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_rx, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
