/* SPDX-License-Identifier: MIT */
/*
 * bench/blk-depth.c - 4 KiB random reads and writes at queue depth 1, 8 and
 * 32 through the virtqueue, the virtio-blk device and the block-uring
 * backend (cache = "none": O_DIRECT), against io_uring used directly on the
 * same file with O_DIRECT, so that both sides reach the disk.
 *
 * At depth D the guest-driver side (played through the test harness, like
 * bench/blk-path.c) posts D three-descriptor chains, writes QueueNotify
 * once and reaps D used entries; the device hands the D requests to the
 * backend as one batch, which submits them together.  The direct side
 * queues D readv/writev SQEs, submits them with one io_uring_enter and
 * reaps D completions.  Both sides thus keep exactly D requests in flight
 * per round trip; the two take turns in batches of requests, each drawing
 * its own random 4 KiB-aligned offsets, so whatever the disk and the host
 * do in between falls on both alike.
 *
 * Usage: blk-depth FILE ROUNDS REQUESTS.  Each round times REQUESTS of each
 * kind at each depth; prints per round and depth:
 *   depth D read-vq US read-uring US write-vq US write-uring US  (us/request)
 * Exit status 1 on any failure (a request not completed or not OK).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench/virtio-bench-driver.h"

#define HDR_GPA 0x20000ull    /* 16 bytes per request */
#define STATUS_GPA 0x21000ull /* 1 byte per request */
#define DATA_GPA 0x40000ull   /* 4 KiB per request, page-aligned */
#define REQ 4096u
#define MAX_DEPTH 32
#define TURN 64 /* requests per turn of one side: two submissions at depth 32, so
		 * drift in the disk's speed falls on both sides alike */

static const int depths[] = { 1, 8, 32 };

static uint64_t rng_state = 88172645463325252ull;

static uint64_t next_offset(uint64_t blocks)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (rng_state % blocks) * REQ;
}

/* @n requests through the virtqueue: post n chains, one notification,
 * reap n used entries. */
static int vq_requests(bool write, const uint64_t *offsets, int n)
{
	struct virtq_desc *d = descs();
	struct virtq_avail *a = (struct virtq_avail *)(RAMP + AVAIL_GPA);
	struct virtq_used *u = (struct virtq_used *)(RAMP + USED_GPA);

	for (int i = 0; i < n; i++) {
		uint16_t h = (uint16_t)(3 * i);
		uint32_t hdr[4] = { write ? 1 : 0, 0, (uint32_t)(offsets[i] / 512),
				    (uint32_t)(offsets[i] / 512 >> 32) };

		memcpy(RAMP + HDR_GPA + 16 * i, hdr, sizeof(hdr));
		RAMP[STATUS_GPA + i] = 0xff;
		d[h] = (struct virtq_desc){ HDR_GPA + 16 * i, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(h + 1) };
		d[h + 1] = (struct virtq_desc){ DATA_GPA + (uint64_t)REQ * i, REQ,
						(uint16_t)(VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE)),
						(uint16_t)(h + 2) };
		d[h + 2] = (struct virtq_desc){ STATUS_GPA + i, 1, VIRTQ_DESC_F_WRITE, 0 };
		a->ring[(avail_idx + i) % QSIZE] = h;
	}
	avail_idx = (uint16_t)(avail_idx + n);
	__atomic_store_n(&a->idx, avail_idx, __ATOMIC_RELEASE);
	vw(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != (uint16_t)(used_seen + n))
		return -1;
	used_seen = (uint16_t)(used_seen + n);
	vw(VIRTIO_MMIO_INTERRUPT_ACK, vr(VIRTIO_MMIO_INTERRUPT_STATUS));
	for (int i = 0; i < n; i++)
		if (RAMP[STATUS_GPA + i] != 0)
			return -1;
	return 0;
}

static struct io_uring ring;
static int direct_fd;
static uint8_t *host_buf;
static struct iovec host_iov[MAX_DEPTH];

/* @n requests with io_uring directly: n SQEs, one submission, n CQEs. */
static int uring_requests(bool write, const uint64_t *offsets, int n)
{
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		if (!sqe)
			return -1;
		if (write)
			io_uring_prep_writev(sqe, direct_fd, &host_iov[i], 1, offsets[i]);
		else
			io_uring_prep_readv(sqe, direct_fd, &host_iov[i], 1, offsets[i]);
	}
	if (io_uring_submit_and_wait(&ring, (unsigned)n) < n)
		return -1;
	for (int i = 0; i < n; i++) {
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe(&ring, &cqe) < 0)
			return -1;
		int res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res != (int)REQ)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char path_prop[4200];
	uint64_t blocks, offsets[MAX_DEPTH];
	int rounds, nreq;
	off_t size;

	if (argc != 4 || (rounds = atoi(argv[2])) < 1 || (nreq = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: blk-depth FILE ROUNDS REQUESTS\n");
		return 2;
	}
	direct_fd = open(argv[1], O_RDWR | O_DIRECT);
	if (direct_fd < 0 || (size = lseek(direct_fd, 0, SEEK_END)) < (off_t)REQ) {
		fprintf(stderr, "blk-depth: %s: %s\n", argv[1],
			direct_fd < 0 ? strerror(errno) : "too small");
		return 1;
	}
	blocks = (uint64_t)size / REQ;
	if (posix_memalign((void **)&host_buf, 4096, (size_t)REQ * MAX_DEPTH) ||
	    io_uring_queue_init(MAX_DEPTH, &ring, 0) < 0) {
		fprintf(stderr, "blk-depth: cannot set up io_uring\n");
		return 1;
	}
	memset(host_buf, 0x5a, (size_t)REQ * MAX_DEPTH);
	for (int i = 0; i < MAX_DEPTH; i++)
		host_iov[i] = (struct iovec){ host_buf + (size_t)REQ * i, REQ };

	snprintf(path_prop, sizeof(path_prop), "path=%s", argv[1]);
	const char *be_props[] = { path_prop, "cache=none", NULL };
	const char *dev_props[] = { "base=0xd0000000", "irq=16", "disk=disk0", NULL };
	H = vmm_harness_new();
	if (!H || vmm_harness_set_ram(H, RAM) ||
	    vmm_harness_add_backend(H, "disk0", "block-uring", be_props) ||
	    !vmm_harness_create_device(H, "virtio-blk", "vblk", dev_props) ||
	    driver_init(1u << 9 /* VIRTIO_BLK_F_FLUSH */, 0)) {
		fprintf(stderr, "blk-depth: cannot set up virtio-blk on block-uring on %s\n", argv[1]);
		return 1;
	}
	RAMP = vmm_harness_ram(H, NULL);
	memset(RAMP + DATA_GPA, 0x5a, (size_t)REQ * MAX_DEPTH);

	for (int r = 0; r < rounds; r++) {
		for (size_t di = 0; di < sizeof(depths) / sizeof(depths[0]); di++) {
			int depth = depths[di];
			double t[4] = { 0 };

			for (int kind = 0; kind < 4; kind += 2) {
				bool write = kind >= 2;

				for (int done = 0; done < nreq; done += TURN) {
					int n = nreq - done < TURN ? nreq - done : TURN;

					for (int turn = 0; turn < 2; turn++) {
						bool vq = (turn + done / TURN) % 2 == 0;
						double t0 = now_s();

						for (int k = 0; k < n; k += depth) {
							int m = n - k < depth ? n - k : depth;

							for (int i = 0; i < m; i++)
								offsets[i] = next_offset(blocks);
							if (vq ? vq_requests(write, offsets, m)
							       : uring_requests(write, offsets, m)) {
								fprintf(stderr, "blk-depth: %s %s at depth %d failed\n",
									vq ? "virtqueue" : "io_uring",
									write ? "write" : "read", depth);
								return 1;
							}
						}
						t[kind + !vq] += now_s() - t0;
					}
				}
			}
			for (int k = 0; k < 4; k++)
				t[k] = t[k] * 1e6 / nreq;
			printf("depth %d read-vq %.3f read-uring %.3f write-vq %.3f write-uring %.3f\n", depth,
			       t[0], t[1], t[2], t[3]);
			fflush(stdout);
		}
	}
	vmm_harness_free(H);
	io_uring_queue_exit(&ring);
	close(direct_fd);
	free(host_buf);
	return 0;
}
