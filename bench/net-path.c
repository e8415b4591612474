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
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/virtio-bench-driver.h"
#include "tests/unit/proc-fd.h"

#define TXQ 1
#define FRAME_GPA 0x20000ull
#define HDR 12u
#define FRAME 1500u

/* One frame through the transmit queue, post to completion. */
static int vq_frame(void)
{
	descs()[0] = (struct virtq_desc){ FRAME_GPA, HDR + FRAME, 0, 0 };
	return submit(TXQ);
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
	    !vmm_harness_create_device(H, "virtio-net", "vnet", dev_props) || driver_init(0 /* no offloads, no mergeable buffers */, TXQ)) {
		fprintf(stderr, "net-path: cannot set up virtio-net on tap %s\n", argv[1]);
		return 1;
	}
	fd = proc_fd_find("/dev/net/tun", NULL); /* the one net-tap opened */
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
