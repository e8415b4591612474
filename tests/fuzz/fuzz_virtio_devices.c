/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_virtio_devices.c - libFuzzer target for virtio-blk,
 * virtio-rng, virtio-net and virtio-console through the virtio-mmio
 * transport, as a hostile driver sees
 * them: register reads and writes of any width and offset, guest RAM
 * written between them (rings, descriptors, requests), notifications,
 * resets, the main loop's deferred work, and input from the backends
 * (network frames, console bytes).
 *
 * The device sources and the devices/virtio sources are compiled into this
 * program (each device's vmm_plugin_entry renamed on the command line, see
 * tests/fuzz/local.mk) and run on the fake host of fake-host.c: 64 KiB of
 * RAM at gpa 0, a 64 KiB in-memory disk, a net backend that takes sent
 * frames and injects received ones, and a char backend that captures
 * output and injects input.
 *
 * Input layout:
 *   [0]  bit 7 clear: bit 0: 0 virtio-blk, 1 virtio-rng; virtio-blk
 *        only: bit 1 readonly, bits 2-3 num-queues - 1, bit 4 the disk can
 *        discard, bit 5 it can write zeroes, bit 6 its size is not whole
 *        sectors.
 *        bit 7 set: bit 0: 0 virtio-net, 1 virtio-console; virtio-net
 *        only: bits 1-4 the backend's offloads (CSUM, TSO4, TSO6, ECN),
 *        bit 5 the backend has a MAC, bit 6 properties mac and link=false;
 *        virtio-console only: bit 1 a second port (port1, name1: MULTIPORT
 *        offered, control queues 2 and 3, port 1's queues 4 and 5)
 *   then commands, each an opcode byte and its operands:
 *   0 off8 val32         32-bit register write at off8 * 4
 *   1 off16 val32        access of width 1 << (op >> 3 & 3), a read when
 *                        op bit 5 is set, at off16 & 0x3ff (0x200 and up
 *                        is outside the window)
 *   2 gpa16 len8 bytes   the driver writes guest RAM
 *   3                    the main loop runs due timers (deferred notifies)
 *   0x0b len16 split8 dlen8 bytes
 *                        the backend has input: net, a frame of
 *                        max(len16, 12) bytes (dlen8 bytes from the input,
 *                        then zeros) in two segments split at split8 * 4;
 *                        console, min(len16, 1024) such bytes for port
 *                        split8 & 1
 *   4                    machine reset (the device's reset op)
 *   5 q8                 QueueNotify q8
 *   6 feat32 size8       the whole 3.1.1 initialisation with features
 *                        feat32 (VERSION_1 added), queue 0 of 1 << (size8
 *                        & 7) entries at 0x1000 / 0x2000 / 0x3000 and,
 *                        for virtio-net and virtio-console, queue 1 of as
 *                        many at 0x8000 / 0x9000 / 0xa000, and for the
 *                        two-port console queues 2-5 at 0xb000 + (q - 2)
 *                        * 0x1000: descriptors, avail +0x800, used +0xa00
 *   7                    read InterruptStatus and acknowledge it
 *   (opcode & 7 selects; the other bits are operands of opcode 1)
 *
 * Checked beside AddressSanitizer and UBSan: the interrupt line follows
 * InterruptStatus, DRIVER_OK never shows without FEATURES_OK, the device
 * never sends the disk a request the core would refuse, virtio-net never
 * hands the backend a frame or offloads the core would refuse, and
 * destroy frees
 * everything (LeakSanitizer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmm/device.h>
#include <vmm/plugin.h>
#include "devices/virtio/virtio-mmio.h"
#include "fake-host.h"

/* The two devices, linked in with their entry points renamed. */
const struct vmm_plugin *fuzz_virtio_blk_entry(void);
const struct vmm_plugin *fuzz_virtio_rng_entry(void);
const struct vmm_plugin *fuzz_virtio_net_entry(void);
const struct vmm_plugin *fuzz_virtio_console_entry(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (64u << 10)
#define DISK_SIZE (64u << 10)
#define BASE 0xd0000000ull
#define MAX_COMMANDS 4096

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_virtio_devices: %s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #cond);                                \
			abort();                                                           \
		}                                                                          \
	} while (0)

struct input {
	const uint8_t *p;
	size_t left;
};

static bool take(struct input *in, void *buf, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(buf, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void reg_write(struct fake_host *fh, uint32_t off, uint32_t v)
{
	fake_host_mmio_write(fh, BASE + off, 4, v);
}

static uint32_t reg_read(struct fake_host *fh, uint32_t off)
{
	return (uint32_t)fake_host_mmio_read(fh, BASE + off, 4);
}

/* 3.1.1, as a well-behaved driver would do it: the quick way to a live
 * device from which the fuzzer's other commands go astray. */
static void queue_setup(struct fake_host *fh, uint32_t q, unsigned qsize, uint32_t desc,
			uint32_t avail, uint32_t used)
{
	reg_write(fh, VIRTIO_MMIO_QUEUE_SEL, q);
	reg_write(fh, VIRTIO_MMIO_QUEUE_NUM, qsize);
	reg_write(fh, VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
	reg_write(fh, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	reg_write(fh, VIRTIO_MMIO_QUEUE_DRIVER_LOW, avail);
	reg_write(fh, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	reg_write(fh, VIRTIO_MMIO_QUEUE_DEVICE_LOW, used);
	reg_write(fh, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	reg_write(fh, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_init(struct fake_host *fh, uint32_t features, unsigned qsize, unsigned nqueues)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	reg_write(fh, VIRTIO_MMIO_STATUS, 0);
	reg_write(fh, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	reg_write(fh, VIRTIO_MMIO_STATUS, s);
	reg_write(fh, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_write(fh, VIRTIO_MMIO_DRIVER_FEATURES, features);
	reg_write(fh, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_write(fh, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	reg_write(fh, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	queue_setup(fh, 0, qsize, 0x1000, 0x2000, 0x3000);
	if (nqueues > 1)
		queue_setup(fh, 1, qsize, 0x8000, 0x9000, 0xa000);
	for (uint32_t q = 2; q < nqueues; q++) {
		uint32_t at = 0xb000 + (q - 2) * 0x1000;

		queue_setup(fh, q, qsize, at, at + 0x800, at + 0xa00);
	}
	reg_write(fh, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void check_transport(struct fake_host *fh, const struct virtio_dev *d)
{
	CHECK(fh->irq_level == (d->isr != 0));
	CHECK(!(d->status & VIRTIO_STATUS_DRIVER_OK) || (d->status & VIRTIO_STATUS_FEATURES_OK));
	CHECK(fh->disk_refused == 0);
	CHECK(fh->net_refused == 0);
	for (unsigned i = 0; i < d->nqueues; i++) {
		const struct virtq *vq = &d->vqs[i];

		CHECK(!vq->ready || (vq->num && !(vq->num & (vq->num - 1)) &&
				     vq->num <= d->ops->queue_max));
	}
}

/* Backend input: 0x0b len16 split8 dlen8 bytes (see the header). */
static bool backend_input(struct fake_host *fh, struct input *in)
{
	static uint8_t frame[sizeof(struct vmm_net_hdr) + VMM_NET_FRAME_MAX];
	uint8_t b[4];
	size_t len, dlen;

	if (!take(in, b, 4))
		return false;
	len = b[0] | (size_t)b[1] << 8;
	dlen = b[3] < in->left ? b[3] : in->left;
	if (len < sizeof(struct vmm_net_hdr))
		len = sizeof(struct vmm_net_hdr);
	if (dlen > len)
		dlen = len;
	memset(frame, 0, len);
	take(in, frame, dlen);
	if (fh->net_present)
		fake_host_net_inject(fh, frame, len, (size_t)b[2] * 4);
	else if (fh->char_present)
		fake_host_char_inject(fh, b[2] & 1, frame, len);
	return true;
}

static void run(struct fake_host *fh, const struct virtio_dev *d, const struct vmm_device_ops *ops,
		void *state, struct input *in, unsigned nqueues)
{
	for (unsigned n = 0; n < MAX_COMMANDS && in->left; n++) {
		uint8_t op, b[8];

		take(in, &op, 1);
		switch (op & 7) {
		case 0:
			if (!take(in, b, 5))
				return;
			reg_write(fh, (uint32_t)b[0] * 4, le32(b + 1));
			break;
		case 1: {
			unsigned width = 1u << (op >> 3 & 3);
			uint32_t off;

			if (!take(in, b, 6))
				return;
			off = (b[0] | (uint32_t)b[1] << 8) & 0x3ff;
			if (op & 0x20)
				(void)fake_host_mmio_read(fh, BASE + off, width);
			else
				fake_host_mmio_write(fh, BASE + off, width, le32(b + 2));
			break;
		}
		case 2: {
			uint8_t len;
			uint32_t gpa;

			if (!take(in, b, 2) || !take(in, &len, 1))
				return;
			gpa = b[0] | (uint32_t)b[1] << 8;
			if (len > in->left)
				len = (uint8_t)in->left;
			if (len > RAM_SIZE - gpa)
				len = (uint8_t)(RAM_SIZE - gpa);
			take(in, fh->ram + gpa, len);
			break;
		}
		case 3:
			if (op & 8) {
				if (!backend_input(fh, in))
					return;
				break;
			}
			fake_host_run_timers(fh, 1000);
			break;
		case 4:
			ops->reset(state);
			break;
		case 5:
			if (!take(in, b, 1))
				return;
			reg_write(fh, VIRTIO_MMIO_QUEUE_NOTIFY, b[0]);
			break;
		case 6:
			if (!take(in, b, 5))
				return;
			driver_init(fh, le32(b), 1u << (b[4] & 7), nqueues);
			break;
		case 7:
			reg_write(fh, VIRTIO_MMIO_INTERRUPT_ACK, reg_read(fh, VIRTIO_MMIO_INTERRUPT_STATUS));
			break;
		}
		/* Back in the main loop: input the device made room for. */
		fake_host_poll(fh);
		check_transport(fh, d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char nq[2];
	struct fake_host fh;
	struct input in = { data, size };
	const struct vmm_plugin *plugin;
	const struct vmm_device_ops *ops;
	uint8_t cfg;
	void *state = NULL;

	if (!take(&in, &cfg, 1))
		return 0;
	bool other = cfg & 128, rng = !other && (cfg & 1);
	bool net = other && !(cfg & 1), con = other && (cfg & 1);
	uint32_t flags = (cfg & 2 ? VMM_BLOCK_READONLY : 0) | (cfg & 16 ? VMM_BLOCK_DISCARD : 0) |
			 (cfg & 32 ? VMM_BLOCK_WRITE_ZEROES : 0);
	if (fake_host_init(&fh, RAM_SIZE, other || rng ? 0 : DISK_SIZE, flags))
		abort();
	fake_host_set_prop(&fh, "base", "0xd0000000");
	fake_host_set_prop(&fh, "irq", "16");
	if (net) {
		fake_host_add_net(&fh, (uint32_t)(cfg >> 1 & 15), cfg & 32);
		fake_host_set_prop(&fh, "net", "net0");
		if (cfg & 64) {
			fake_host_set_prop(&fh, "mac", "52:54:00:12:34:56");
			fake_host_set_prop(&fh, "link", "false");
		}
		plugin = fuzz_virtio_net_entry();
	} else if (con) {
		fake_host_add_char(&fh);
		fake_host_set_prop(&fh, "chardev", "con0");
		if (cfg & 2) {
			fake_host_set_prop(&fh, "port1", "con1");
			fake_host_set_prop(&fh, "name1", "org.vmm.fuzz.1");
		}
		plugin = fuzz_virtio_console_entry();
	} else if (rng) {
		plugin = fuzz_virtio_rng_entry();
	} else {
		if (cfg & 64)
			fh.disk_bytes -= 100; /* a last, partial sector the device must not use */
		nq[0] = (char)('1' + (cfg >> 2 & 3));
		fake_host_set_prop(&fh, "disk", "disk0");
		fake_host_set_prop(&fh, "num-queues", nq);
		fake_host_set_prop(&fh, "serial", "fuzz-serial-0123456789");
		plugin = fuzz_virtio_blk_entry();
	}
	ops = plugin->ops;
	CHECK(ops->create(&fh.h, &state) == 0);
	/* Every device keeps its transport first in its state. */
	const struct virtio_dev *d = *(struct virtio_dev **)state;

	CHECK(reg_read(&fh, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC);
	run(&fh, d, ops, state, &in, con && (cfg & 2) ? 6 : other ? 2 : 1);
	ops->destroy(state);
	CHECK(!fh.mapped);
	fake_host_fini(&fh);
	return 0;
}
