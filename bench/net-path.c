/* SPDX-License-Identifier: MIT */
/*
 * bench/net-path.c - the virtio-net transmit path against plain write(2)
 * on the same tap: 1500-byte Ethernet frames, each behind the 12-byte
 * virtio-net header (the tap has IFF_VNET_HDR), one frame at a time.
 *
 * The virtqueue side is what a guest driver does per frame, played
 * through the test harness (vmm/harness.h): post a one-descriptor chain
 * (header and frame) on the transmit queue, write QueueNotify, collect
 * the used entry, acknowledge the interrupt.  The device (virtio-net.so)
 * sends it through the real tap backend (net-tap.so).  The plain side
 * write()s the same 1512 bytes to the same tap descriptor (the one
 * net-tap opened, found in /proc/self/fd).  The frames go to a unicast
 * address nobody has, so the kernel drops them early on both sides.
 *
 * Usage: net-path IFNAME ROUNDS FRAMES.  Each round times FRAMES frames
 * of each kind, interleaved; prints one line per round:
 *   vq PPS direct PPS   (frames per second)
 * Exit status 1 on any failure (a frame not completed or not written).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vmm/harness.h>
#include "devices/virtio/virtio-mmio.h"

#define BASE 0xd0000000ull
#define RAM (4u << 20)
#define QSIZE 256
#define TXQ 1
#define DESC_GPA 0x10000ull
#define AVAIL_GPA 0x11000ull
#define USED_GPA 0x12000ull
#define FRAME_GPA 0x20000ull
#define HDR 12u
#define FRAME 1500u

static struct vmm_harness *H;
static uint8_t *RAMP;
static uint16_t avail_idx, used_seen;

static void vw(uint32_t off, uint32_t v)
{
	vmm_harness_mmio_write(H, BASE + off, 4, v);
}

static uint32_t vr(uint32_t off)
{
	return (uint32_t)vmm_harness_mmio_read(H, BASE + off, 4);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VERSION_1 only: no offloads, no mergeable buffers; only the transmit
 * queue is set up (the receive queue stays off, so nothing is read). */
static int driver_init(void)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	vw(VIRTIO_MMIO_STATUS, 0);
	vw(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vw(VIRTIO_MMIO_STATUS, s);
	vw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vw(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	vw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vw(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VIRTIO_F_VERSION_1 */
	vw(VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	if (!(vr(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return -1;
	vw(VIRTIO_MMIO_QUEUE_SEL, TXQ);
	vw(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	vw(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_GPA);
	vw(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL_GPA);
	vw(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED_GPA);
	vw(VIRTIO_MMIO_QUEUE_READY, 1);
	vw(VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return vr(VIRTIO_MMIO_QUEUE_READY) == 1 ? 0 : -1;
}

/* One frame through the transmit queue, post to completion. */
static int vq_frame(void)
{
	struct virtq_desc *d = (struct virtq_desc *)(RAMP + DESC_GPA);
	struct virtq_avail *a = (struct virtq_avail *)(RAMP + AVAIL_GPA);
	struct virtq_used *u = (struct virtq_used *)(RAMP + USED_GPA);

	d[0] = (struct virtq_desc){ FRAME_GPA, HDR + FRAME, 0, 0 };
	a->ring[avail_idx % QSIZE] = 0;
	avail_idx++;
	__atomic_store_n(&a->idx, avail_idx, __ATOMIC_RELEASE);
	vw(VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != (uint16_t)(used_seen + 1))
		return -1;
	used_seen++;
	vw(VIRTIO_MMIO_INTERRUPT_ACK, vr(VIRTIO_MMIO_INTERRUPT_STATUS));
	return 0;
}

/* A full tap queue drops, as tap_send does: only a real error fails. */
static int direct_frame(int fd, const void *buf)
{
	ssize_t n;

	do
		n = write(fd, buf, HDR + FRAME);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(HDR + FRAME) || (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) ? 0
												: -1;
}

/* The descriptor net-tap opened on /dev/net/tun. */
static int tap_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d))) {
		char path[300], target[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (!strcmp(target, "/dev/net/tun"))
				fd = atoi(e->d_name);
		}
	}
	if (d)
		closedir(d);
	return fd;
}

int main(int argc, char **argv)
{
	static const uint8_t eth[14] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* nobody's */
					 0x02, 0x76, 0x6d, 0x6d, 0x00, 0x01, 0x88, 0xb5 };
	static uint8_t buf[HDR + FRAME];
	char ifprop[64];
	int rounds, nframes, fd;

	if (argc != 4 || (rounds = atoi(argv[2])) < 1 || (nframes = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: net-path IFNAME ROUNDS FRAMES\n");
		return 2;
	}
	snprintf(ifprop, sizeof(ifprop), "ifname=%s", argv[1]);
	const char *be_props[] = { ifprop, NULL };
	const char *dev_props[] = { "base=0xd0000000", "irq=16", "net=net0", NULL };
	H = vmm_harness_new();
	if (!H || vmm_harness_set_ram(H, RAM) ||
	    vmm_harness_add_backend(H, "net0", "net-tap", be_props) ||
	    !vmm_harness_create_device(H, "virtio-net", "vnet", dev_props) || driver_init()) {
		fprintf(stderr, "net-path: cannot set up virtio-net on tap %s\n", argv[1]);
		return 1;
	}
	fd = tap_fd();
	if (fd < 0) {
		fprintf(stderr, "net-path: no /dev/net/tun descriptor\n");
		return 1;
	}
	RAMP = vmm_harness_ram(H, NULL);
	/* The same header (all zero: no offloads) and frame on both sides. */
	memcpy(buf + HDR, eth, sizeof(eth));
	for (unsigned i = HDR + sizeof(eth); i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	memcpy(RAMP + FRAME_GPA, buf, sizeof(buf));

	for (int r = 0; r < rounds; r++) {
		double pps[2];

		for (int kind = 0; kind < 2; kind++) {
			double t0 = now_s();

			for (int i = 0; i < nframes; i++) {
				if (kind == 0 ? vq_frame() : direct_frame(fd, buf)) {
					fprintf(stderr, "net-path: %s frame %d failed\n",
						kind == 0 ? "virtqueue" : "direct", i);
					return 1;
				}
			}
			pps[kind] = nframes / (now_s() - t0);
		}
		printf("vq %.0f direct %.0f\n", pps[0], pps[1]);
	}
	vmm_harness_free(H);
	return 0;
}
