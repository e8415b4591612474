/* SPDX-License-Identifier: MIT */
/*
 * bench/blk-path.c - the virtio-blk request path against plain preadv /
 * pwritev on the same file: 4 KiB requests at random 4 KiB-aligned offsets,
 * one at a time (queue depth 1).
 *
 * The virtqueue side is what a guest driver does per request, played
 * through the test harness (vmm/harness.h): post a three-descriptor chain
 * (header, 4 KiB data, status byte), write QueueNotify, collect the used
 * entry, acknowledge the interrupt.  The device (virtio-blk.so) serves it
 * through the block-file backend plugin.  The plain side calls preadv or
 * pwritev on its own descriptor of the same file, at offsets drawn the same
 * way, the two sides taking turns in batches.
 * The page cache serves both (no O_DIRECT): what is measured is the
 * request path, not the disk.  VIRTIO_BLK_F_FLUSH is negotiated, so
 * writes are write-back on both sides.
 *
 * Usage: blk-path FILE ROUNDS REQUESTS.  Each round times REQUESTS of each
 * of the four kinds; prints one line per kind and round:
 *   read-vq US  read-plain US  write-vq US  write-plain US   (us/request)
 * Exit status 1 on any failure (a request not completed or not OK).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bench/virtio-bench-driver.h"

#define HDR_GPA 0x20000ull
#define STATUS_GPA 0x20100ull
#define DATA_GPA 0x30000ull
#define REQ 4096u
#define BATCH 100 /* requests per turn of one side */

/* One request through the virtqueue, start to completion. */
static int vq_request(bool write, uint64_t offset)
{
	struct virtq_desc *d = descs();
	uint32_t hdr[4] = { write ? 1 : 0, 0, (uint32_t)(offset / 512), (uint32_t)(offset / 512 >> 32) };

	memcpy(RAMP + HDR_GPA, hdr, sizeof(hdr));
	RAMP[STATUS_GPA] = 0xff;
	d[0] = (struct virtq_desc){ HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1 };
	d[1] = (struct virtq_desc){ DATA_GPA, REQ,
				    (uint16_t)(VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE)), 2 };
	d[2] = (struct virtq_desc){ STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0 };
	if (submit(0))
		return -1;
	return RAMP[STATUS_GPA] == 0 ? 0 : -1;
}

static int plain_request(int fd, bool write, uint64_t offset, void *buf)
{
	struct iovec iov = { buf, REQ };
	ssize_t n = write ? pwritev(fd, &iov, 1, (off_t)offset) : preadv(fd, &iov, 1, (off_t)offset);

	return n == REQ ? 0 : -1;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t next_offset(uint64_t blocks)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (rng_state % blocks) * REQ;
}

int main(int argc, char **argv)
{
	static uint8_t plain_buf[REQ] __attribute__((aligned(4096)));
	char path_prop[4200];
	uint64_t blocks, *offsets;
	int rounds, nreq, fd;
	off_t size;

	if (argc != 4 || (rounds = atoi(argv[2])) < 1 || (nreq = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: blk-path FILE ROUNDS REQUESTS\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || (size = lseek(fd, 0, SEEK_END)) < (off_t)REQ) {
		fprintf(stderr, "blk-path: %s: %s\n", argv[1], fd < 0 ? strerror(errno) : "too small");
		return 1;
	}
	blocks = (uint64_t)size / REQ;
	snprintf(path_prop, sizeof(path_prop), "path=%s", argv[1]);
	const char *be_props[] = { path_prop, NULL };
	const char *dev_props[] = { "base=0xd0000000", "irq=16", "disk=disk0", NULL };
	H = vmm_harness_new();
	if (!H || vmm_harness_set_ram(H, RAM) ||
	    vmm_harness_add_backend(H, "disk0", "block-file", be_props) ||
	    !vmm_harness_create_device(H, "virtio-blk", "vblk", dev_props) || driver_init(1u << 9 /* VIRTIO_BLK_F_FLUSH */, 0)) {
		fprintf(stderr, "blk-path: cannot set up virtio-blk on %s\n", argv[1]);
		return 1;
	}
	RAMP = vmm_harness_ram(H, NULL);
	memset(RAMP + DATA_GPA, 0x5a, REQ);
	memset(plain_buf, 0x5a, REQ);
	offsets = calloc(BATCH, sizeof(*offsets));
	if (!offsets)
		return 1;

	for (int r = 0; r < rounds; r++) {
		double t[4] = { 0 };

		/* Each kind (read or write) runs in batches of BATCH requests,
		 * the two sides taking turns and each side drawing its own
		 * random offsets.  Whatever the machine does in between (the
		 * page cache writing back the last write pass, the CPU caches
		 * still holding pages the other side just touched) then falls on
		 * both sides alike: with one pass per side, the pass that came
		 * first after the writes was ~0.6 us/request slower, a bias
		 * larger than the path being measured. */
		for (int kind = 0; kind < 4; kind += 2) {
			bool write = kind >= 2;

			for (int done = 0; done < nreq; done += BATCH) {
				int n = nreq - done < BATCH ? nreq - done : BATCH;

				for (int turn = 0; turn < 2; turn++) {
					bool vq = (turn + done / BATCH) % 2 == 0;
					double t0;

					for (int i = 0; i < n; i++)
						offsets[i] = next_offset(blocks);
					t0 = now_s();
					for (int i = 0; i < n; i++) {
						int rc = vq ? vq_request(write, offsets[i])
							    : plain_request(fd, write, offsets[i], plain_buf);
						if (rc) {
							fprintf(stderr, "blk-path: %s %s request failed\n",
								vq ? "virtqueue" : "plain",
								write ? "write" : "read");
							return 1;
						}
					}
					t[kind + !vq] += now_s() - t0;
				}
			}
		}
		for (int k = 0; k < 4; k++)
			t[k] = t[k] * 1e6 / nreq;
		printf("read-vq %.3f read-plain %.3f write-vq %.3f write-plain %.3f\n", t[0], t[1],
		       t[2], t[3]);
	}
	free(offsets);
	vmm_harness_free(H);
	close(fd);
	return 0;
}
