/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_virtqueue.c - libFuzzer target for the split virtqueue
 * code (devices/virtio/virtqueue.c) on its own.
 *
 * Input layout (little-endian):
 *   [0]     queue size: low nibble n <= 8 gives 1 << n, above gives n * 7
 *           (not a power of two: virtq_enable() must refuse it)
 *   [1]     bit 0 INDIRECT_DESC, bit 1 EVENT_IDX negotiated; bit 2 puts
 *           the descriptor table at a wrapping address
 *   [2..7]  desc, avail and used ring gpa, 16 bits each (RAM is 16 KiB,
 *           so some land outside it)
 *   [8..8+RAM_SIZE)  guest RAM contents (the rest of RAM is zero)
 *   then    4-byte "driver writes" (gpa16, value16), one applied to RAM
 *           each time the ring is empty, as a driver on another vCPU
 *           would add buffers
 *
 * The target pops every available chain, completes it and checks: every
 * segment is inside guest RAM (AddressSanitizer catches any access past
 * the exact-size RAM block too), the segment lists add up, a chain is not
 * longer than the queue, the used index grows by one per completion, a
 * broken queue returns nothing more, and the number of pops is bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtqueue.h"
#include "fake-host.h"

#define RAM_SIZE (16u << 10)
#define HDR_SIZE 8
/* Chains popped between two driver writes at most.  Without a driver
 * write only the device's own writes (used ring, buffers) can move the
 * available index, and each pop moves last_avail on by one, so a queue
 * that keeps offering chains for more than a whole turn of the 16-bit
 * index has to be a loop in the queue code. */
#define MAX_POPS_PER_WRITE (65536u + VIRTQ_MAX_SIZE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_host FH;
static struct virtq VQ;
static struct virtq_elem ELEM;

/* An invariant broke: a bug in the queue code, not the guest's. */
#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_virtqueue: %s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #cond);                              \
			abort();                                                         \
		}                                                                        \
	} while (0)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static bool in_ram(const void *p, size_t len)
{
	const uint8_t *b = p;

	return b >= FH.ram && b <= FH.ram + FH.ram_size && len <= (size_t)(FH.ram + FH.ram_size - b);
}

static void check_elem(const struct virtq_elem *e)
{
	size_t out = 0, in = 0;

	CHECK(e->head < VQ.num);
	CHECK(e->nout + e->nin <= VQ.num);
	for (unsigned i = 0; i < e->nout + e->nin; i++) {
		CHECK(e->iov[i].iov_len > 0);
		CHECK(in_ram(e->iov[i].iov_base, e->iov[i].iov_len));
		if (i < e->nout)
			out += e->iov[i].iov_len;
		else
			in += e->iov[i].iov_len;
	}
	CHECK(out == e->out_len && in == e->in_len);
	CHECK(out + in <= VIRTQ_MAX_CHAIN_BYTES);
}

/* What a device does with a chain: read the start of the readable part,
 * write the start and the end of the writable part. */
static void complete(struct virtq_elem *e)
{
	static const uint8_t pattern[64] = { 0xa5 };
	uint8_t buf[64];
	size_t n;

	n = virtq_iov_read(e->iov, e->nout, 0, buf, sizeof(buf));
	CHECK(n == (e->out_len < sizeof(buf) ? e->out_len : sizeof(buf)));
	n = virtq_iov_write(e->iov + e->nout, e->nin, 0, pattern, sizeof(pattern));
	CHECK(n == (e->in_len < sizeof(pattern) ? e->in_len : sizeof(pattern)));
	if (e->in_len)
		CHECK(virtq_iov_write(e->iov + e->nout, e->nin, e->in_len - 1, pattern, 1) == 1);

	struct iovec slice[VIRTQ_MAX_SIZE];
	unsigned ns = virtq_iov_slice(e->iov + e->nout, e->nin, 1, e->in_len, slice);
	CHECK(ns <= e->nin);
	for (unsigned i = 0; i < ns; i++)
		CHECK(in_ram(slice[i].iov_base, slice[i].iov_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *pokes;
	size_t npokes, ram_bytes;
	unsigned completed = 0, pops = 0;

	if (size < HDR_SIZE)
		return 0;
	if (!FH.ram && fake_host_init(&FH, RAM_SIZE, 0, 0))
		abort();
	memset(FH.ram, 0, RAM_SIZE);
	ram_bytes = size - HDR_SIZE < RAM_SIZE ? size - HDR_SIZE : RAM_SIZE;
	memcpy(FH.ram, data + HDR_SIZE, ram_bytes);
	pokes = data + HDR_SIZE + ram_bytes;
	npokes = (size - HDR_SIZE - ram_bytes) / 4;

	virtq_init(&VQ, &FH.h, 0);
	unsigned code = data[0] & 15;
	VQ.num = (uint16_t)(code <= 8 ? 1u << code : code * 7);
	VQ.indirect = data[1] & 1;
	VQ.event_idx = data[1] & 2;
	VQ.desc_gpa = get16(data + 2) | (data[1] & 4 ? 0xffffffffffff0000ull : 0);
	VQ.avail_gpa = get16(data + 4);
	VQ.used_gpa = get16(data + 6);
	if (virtq_enable(&VQ)) {
		CHECK(!VQ.ready);
		CHECK(virtq_pop(&VQ, &ELEM) == 0);
		return 0;
	}
	CHECK(VQ.num && !(VQ.num & (VQ.num - 1)) && VQ.num <= VIRTQ_MAX_SIZE);
	CHECK(in_ram(VQ.desc, 16u * VQ.num) && in_ram(VQ.avail, 6u + 2u * VQ.num) &&
	      in_ram(VQ.used, 6u + 8u * VQ.num));

	for (;;) {
		int rc = virtq_pop(&VQ, &ELEM);

		CHECK(++pops <= MAX_POPS_PER_WRITE);
		if (rc < 0) {
			CHECK(VQ.broken);
			CHECK(virtq_pop(&VQ, &ELEM) == 0);
			break;
		}
		if (rc == 0) {
			/* The ring is empty: the driver writes one more
			 * 16-bit word, if it has any left. */
			if (!npokes)
				break;
			uint16_t gpa = get16(pokes) & (RAM_SIZE - 2);
			memcpy(FH.ram + gpa, pokes + 2, 2);
			pops = 0;
			pokes += 4;
			npokes--;
			continue;
		}
		CHECK(rc == 1);
		check_elem(&ELEM);
		complete(&ELEM);
		uint16_t before = VQ.used_idx;
		virtq_push(&VQ, &ELEM, (uint32_t)ELEM.in_len);
		completed++;
		CHECK(VQ.used_idx == (uint16_t)(before + 1));
		CHECK(VQ.used_idx == (uint16_t)completed);
		CHECK(__atomic_load_n(&VQ.used->idx, __ATOMIC_RELAXED) == VQ.used_idx);
		(void)virtq_need_interrupt(&VQ);
	}
	/* A reset queue is not ready: nothing more comes out. */
	virtq_reset(&VQ);
	CHECK(virtq_pop(&VQ, &ELEM) == 0);
	return 0;
}
