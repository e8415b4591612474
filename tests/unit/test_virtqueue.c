/* tests/unit/test_virtqueue.c - the split virtqueue code (virtio 1.2, 2.7)
 * on its own, against a fake host table whose guest RAM is a 16 MiB array.
 * Each test builds rings the way a driver would, then checks what the
 * device side takes from them, and what it refuses and counts. */
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

#include <vmm/host.h>
#include "devices/virtio/virtqueue.h"

#define RAM_SIZE (16u << 20)
#define QSIZE 8
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x2000
#define USED_GPA  0x3000
#define BUF_GPA   0x4000
#define TABLE_GPA 0x8000

/* The fake: guest RAM at 0, guest errors counted. */
struct fake_host {
	struct vmm_host h;
	uint8_t ram[RAM_SIZE];
	unsigned long guest_errors;
	/* mark_dirty (ABI 1.15): a byte per guest byte the queue marked */
	uint8_t marked[RAM_SIZE / 64];
	unsigned marks;
};

static struct fake_host *FH;
static struct virtq VQ;

static bool fake_range_ok(uint64_t gpa, size_t len)
{
	return gpa <= RAM_SIZE && len <= RAM_SIZE - gpa;
}

static void *fake_mem_map(const struct vmm_host *h, uint64_t gpa, size_t len)
{
	return fake_range_ok(gpa, len) ? FH->ram + gpa : NULL;
}

static int fake_mem_read(const struct vmm_host *h, uint64_t gpa, void *buf, size_t len)
{
	if (!fake_range_ok(gpa, len))
		return -EFAULT;
	memcpy(buf, FH->ram + gpa, len);
	return 0;
}

static int fake_mem_write(const struct vmm_host *h, uint64_t gpa, const void *buf, size_t len)
{
	if (!fake_range_ok(gpa, len))
		return -EFAULT;
	memcpy(FH->ram + gpa, buf, len);
	return 0;
}

/* Marks recorded one bit per 8 guest bytes: enough to tell a used ring
 * entry or a buffer from its neighbours. */
static void fake_mark_dirty(const struct vmm_host *h, uint64_t gpa, uint64_t len)
{
	(void)h;
	FH->marks++;
	for (uint64_t a = gpa; a < gpa + len && a < RAM_SIZE; a += 1)
		FH->marked[a / 64] |= (uint8_t)(1u << ((a / 8) % 8));
}

static bool marked(uint64_t gpa, uint64_t len)
{
	for (uint64_t a = gpa; a < gpa + len; a++)
		if (!(FH->marked[a / 64] & (1u << ((a / 8) % 8))))
			return false;
	return true;
}

static void fake_log(const struct vmm_host *h, enum vmm_log_level level, const char *fmt, ...)
{
	if (level == VMM_LOG_GUEST_ERROR)
		FH->guest_errors++;
}

static struct virtq_desc *desc(unsigned i)
{
	return (struct virtq_desc *)(FH->ram + DESC_GPA) + i;
}

static struct virtq_avail *avail(void)
{
	return (struct virtq_avail *)(FH->ram + AVAIL_GPA);
}

static struct virtq_used *used(void)
{
	return (struct virtq_used *)(FH->ram + USED_GPA);
}

static uint16_t *used_event(void)
{
	return &avail()->ring[QSIZE];
}

static uint16_t *avail_event(void)
{
	return (uint16_t *)&used()->ring[QSIZE];
}

static void set_desc(struct virtq_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Make chain `head` available, as a driver does. */
static void offer(uint16_t head)
{
	avail()->ring[avail()->idx % QSIZE] = head;
	avail()->idx++;
}

static int setup(void **state)
{
	FH = calloc(1, sizeof(*FH));
	assert_non_null(FH);
	FH->h.size = sizeof(FH->h);
	FH->h.log = fake_log;
	FH->h.mem_map = fake_mem_map;
	FH->h.mem_read = fake_mem_read;
	FH->h.mem_write = fake_mem_write;
	FH->h.mark_dirty = fake_mark_dirty;
	virtq_init(&VQ, &FH->h, 0);
	VQ.num = QSIZE;
	VQ.desc_gpa = DESC_GPA;
	VQ.avail_gpa = AVAIL_GPA;
	VQ.used_gpa = USED_GPA;
	VQ.indirect = true;
	assert_int_equal(virtq_enable(&VQ), 0);
	return 0;
}

static int teardown(void **state)
{
	free(FH);
	FH = NULL;
	return 0;
}

static unsigned long total_errors(void)
{
	unsigned long n = 0;

	for (unsigned i = 0; i < VIRTQ_ERR_COUNT; i++)
		n += VQ.errors[i];
	return n;
}

/* One hostile chain: pop fails, the kind is counted once, a guest error is
 * logged, and the queue stays stopped (the chain is not retried). */
static void expect_refused(enum virtq_err kind)
{
	struct virtq_elem e;

	assert_int_equal(virtq_pop(&VQ, &e), -EINVAL);
	assert_int_equal(VQ.errors[kind], 1);
	assert_int_equal(total_errors(), 1);
	assert_int_equal(FH->guest_errors, 1);
	assert_true(VQ.broken);
	assert_int_equal(virtq_pop(&VQ, &e), 0);
	assert_int_equal(total_errors(), 1);
}

static void test_empty_ring(void **state)
{
	struct virtq_elem e;

	assert_int_equal(virtq_pop(&VQ, &e), 0);
	assert_int_equal(total_errors(), 0);
	/* Nothing used yet: no reason to interrupt. */
	assert_false(virtq_need_interrupt(&VQ));
}

static void test_chain_readable_then_writable(void **state)
{
	struct virtq_elem e;

	set_desc(desc(3), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
	set_desc(desc(5), BUF_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(3);

	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(e.head, 3);
	assert_int_equal(e.nout, 2);
	assert_int_equal(e.nin, 1);
	assert_int_equal(e.out_len, 116);
	assert_int_equal(e.in_len, 1);
	assert_ptr_equal(e.iov[0].iov_base, FH->ram + BUF_GPA);
	assert_int_equal(e.iov[1].iov_len, 100);
	assert_ptr_equal(e.iov[2].iov_base, FH->ram + BUF_GPA + 0x200);
	assert_int_equal(virtq_pop(&VQ, &e), 0);

	virtq_push(&VQ, &e, 1);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(used()->ring[0].id, 3);
	assert_int_equal(used()->ring[0].len, 1);
	assert_int_equal(total_errors(), 0);
}

/* What the device writes into guest memory it tells the core
 * (mark_dirty), after writing: the writable buffers of a chain it
 * returns, the used ring's entry and index; never the readable ones. */
static void test_writes_marked(void **state)
{
	struct virtq_elem e;

	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA + 0x1000, 0x1800, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(desc(2), BUF_GPA + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(FH->marks, 0);
	virtq_push(&VQ, &e, 0x1801);
	assert_true(marked(BUF_GPA + 0x1000, 0x1800));
	assert_true(marked(BUF_GPA + 0x3000, 1));
	assert_false(marked(BUF_GPA, 16));
	/* used: flags, idx, QSIZE entries, avail_event */
	assert_true(marked(USED_GPA, 4 + 8 * QSIZE + 2));
	assert_false(marked(DESC_GPA, 16));
	assert_false(marked(AVAIL_GPA, 4));
	/* A host without the service (before ABI 1.15): the same work, no
	 * call. */
	memset(FH->marked, 0, sizeof(FH->marked));
	FH->h.size = offsetof(struct vmm_host, mark_dirty);
	offer(0);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	virtq_push(&VQ, &e, 1);
	assert_int_equal(used()->idx, 2);
	assert_false(marked(USED_GPA, 4));
}

static void test_ring_indices_wrap(void **state)
{
	struct virtq_elem e;

	set_desc(desc(0), BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	/* 3 * QSIZE chains through the 8-entry rings: slots wrap, free
	 * running indices keep counting. */
	for (unsigned i = 0; i < 3 * QSIZE; i++) {
		offer(0);
		assert_int_equal(virtq_pop(&VQ, &e), 1);
		virtq_push(&VQ, &e, 8);
	}
	assert_int_equal(used()->idx, 3 * QSIZE);
	assert_int_equal(total_errors(), 0);
}

static void test_zero_length_descriptor_is_no_segment(void **state)
{
	struct virtq_elem e;

	set_desc(desc(0), 0xdead0000, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(e.nout + e.nin, 1);
	assert_int_equal(e.in_len, 4);
}

static void test_indirect_table(void **state)
{
	struct virtq_desc *t = (struct virtq_desc *)(FH->ram + TABLE_GPA);
	struct virtq_elem e;

	set_desc(&t[0], BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
	set_desc(&t[2], BUF_GPA + 0x100, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(&t[1], BUF_GPA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	/* The WRITE flag on the descriptor naming the table is ignored. */
	set_desc(desc(6), TABLE_GPA, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	offer(6);

	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(e.head, 6);
	assert_int_equal(e.nout, 1);
	assert_int_equal(e.nin, 2);
	assert_int_equal(e.out_len, 16);
	assert_int_equal(e.in_len, 513);
	assert_ptr_equal(e.iov[1].iov_base, FH->ram + BUF_GPA + 0x100);
	assert_int_equal(total_errors(), 0);
}

static void test_indirect_not_negotiated(void **state)
{
	VQ.indirect = false;
	set_desc(desc(0), TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_nested(void **state)
{
	struct virtq_desc *t = (struct virtq_desc *)(FH->ram + TABLE_GPA);

	set_desc(&t[0], TABLE_GPA + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(desc(0), TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_length_not_multiple_of_16(void **state)
{
	set_desc(desc(0), TABLE_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_with_next(void **state)
{
	set_desc(desc(0), TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_INDIRECT);
}

static void test_indirect_table_outside_ram(void **state)
{
	set_desc(desc(0), RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_ADDR);
}

static void test_indirect_table_loop(void **state)
{
	struct virtq_desc *t = (struct virtq_desc *)(FH->ram + TABLE_GPA);

	set_desc(&t[0], BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&t[1], BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
	set_desc(desc(0), TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_LOOP);
}

static void test_indirect_next_past_table(void **state)
{
	struct virtq_desc *t = (struct virtq_desc *)(FH->ram + TABLE_GPA);

	set_desc(&t[0], BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2); /* the table has 2 */
	set_desc(desc(0), TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_INDEX);
}

/* 2.7.4.2 / 2.7.5.3.1 (virtio 1.2): a chain may be as long as the queue,
 * no longer.  The longest legal chains are taken whole; the bound that
 * refuses loops must not cut them short. */
static void test_longest_direct_chain(void **state)
{
	struct virtq_elem e;

	for (unsigned i = 0; i < QSIZE; i++)
		set_desc(desc(i), BUF_GPA + 0x100 * i, 16,
			 i < QSIZE - 1 ? VIRTQ_DESC_F_NEXT : VIRTQ_DESC_F_WRITE, (uint16_t)(i + 1));
	offer(0);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(e.nout, QSIZE - 1);
	assert_int_equal(e.nin, 1);
	assert_int_equal(e.out_len, 16 * (QSIZE - 1));
	assert_int_equal(total_errors(), 0);
}

/* An indirect table of n entries, chained in order, the last writable. */
static void set_indirect_chain(unsigned n)
{
	struct virtq_desc *t = (struct virtq_desc *)(FH->ram + TABLE_GPA);

	for (unsigned i = 0; i < n; i++)
		set_desc(&t[i], BUF_GPA + 0x100 * i, 16,
			 i < n - 1 ? VIRTQ_DESC_F_NEXT : VIRTQ_DESC_F_WRITE, (uint16_t)(i + 1));
	set_desc(desc(2), TABLE_GPA, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	offer(2);
}

static void test_longest_indirect_table(void **state)
{
	struct virtq_elem e;

	set_indirect_chain(QSIZE);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(e.nout + e.nin, QSIZE);
	assert_int_equal(e.in_len, 16);
	assert_int_equal(total_errors(), 0);
}

static void test_indirect_table_one_too_long(void **state)
{
	set_indirect_chain(QSIZE + 1);
	expect_refused(VIRTQ_ERR_LOOP);
}

static void test_loop_in_main_table(void **state)
{
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_LOOP);
}

static void test_self_loop(void **state)
{
	set_desc(desc(2), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
	offer(2);
	expect_refused(VIRTQ_ERR_LOOP);
}

static void test_next_out_of_range(void **state)
{
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	offer(0);
	expect_refused(VIRTQ_ERR_INDEX);
}

static void test_head_out_of_range(void **state)
{
	offer(0xffff);
	expect_refused(VIRTQ_ERR_INDEX);
}

static void test_buffer_outside_ram(void **state)
{
	set_desc(desc(0), RAM_SIZE - 8, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_ADDR);
}

static void test_buffer_address_wraps(void **state)
{
	set_desc(desc(0), UINT64_MAX - 7, 16, 0, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_ADDR);
}

static void test_readable_after_writable(void **state)
{
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(desc(1), BUF_GPA + 16, 16, 0, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_ORDER);
}

static void test_absurd_length(void **state)
{
	/* Checked before the buffer is even mapped. */
	set_desc(desc(0), BUF_GPA, 0x80000000u, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	expect_refused(VIRTQ_ERR_LENGTH);
}

static void test_total_length_capped(void **state)
{
	/* Eight descriptors of 12 MiB, all over the same RAM: each is legal,
	 * the sum (96 MiB) passes VIRTQ_MAX_CHAIN_BYTES. */
	for (unsigned i = 0; i < QSIZE; i++)
		set_desc(desc(i), BUF_GPA, 12u << 20, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	desc(QSIZE - 1)->flags = 0;
	offer(0);
	expect_refused(VIRTQ_ERR_LENGTH);
}

static void test_avail_idx_too_far_ahead(void **state)
{
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	avail()->idx = QSIZE + 1;
	expect_refused(VIRTQ_ERR_AVAIL_IDX);
}

static void test_avail_idx_full_ring_is_fine(void **state)
{
	struct virtq_elem e;

	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		offer(0);
	for (unsigned i = 0; i < QSIZE; i++)
		assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(virtq_pop(&VQ, &e), 0);
	assert_int_equal(total_errors(), 0);
}

static void test_reset_keeps_counters_and_clears_broken(void **state)
{
	offer(0xffff);
	struct virtq_elem e;
	assert_int_equal(virtq_pop(&VQ, &e), -EINVAL);
	virtq_reset(&VQ);
	assert_false(VQ.ready);
	assert_false(VQ.broken);
	assert_int_equal(VQ.errors[VIRTQ_ERR_INDEX], 1);
	assert_int_equal(virtq_pop(&VQ, &e), 0);
}

static void test_enable_checks_rings(void **state)
{
	virtq_reset(&VQ);
	VQ.num = 6; /* not a power of two */
	VQ.desc_gpa = DESC_GPA;
	VQ.avail_gpa = AVAIL_GPA;
	VQ.used_gpa = USED_GPA;
	assert_int_equal(virtq_enable(&VQ), -EINVAL);
	VQ.num = 512; /* above VIRTQ_MAX_SIZE */
	assert_int_equal(virtq_enable(&VQ), -EINVAL);
	VQ.num = QSIZE;
	VQ.desc_gpa = DESC_GPA + 8; /* 2.7: the table is 16-byte aligned */
	assert_int_equal(virtq_enable(&VQ), -EINVAL);
	VQ.desc_gpa = DESC_GPA;
	VQ.used_gpa = USED_GPA + 2; /* the used ring is 4-byte aligned */
	assert_int_equal(virtq_enable(&VQ), -EINVAL);
	VQ.used_gpa = RAM_SIZE - 8; /* does not fit in RAM */
	assert_int_equal(virtq_enable(&VQ), -EINVAL);
	assert_false(VQ.ready);
	assert_int_equal(VQ.errors[VIRTQ_ERR_RING], 5);
	VQ.used_gpa = USED_GPA;
	assert_int_equal(virtq_enable(&VQ), 0);
	assert_true(VQ.ready);
}

static void pop_push_one(void)
{
	struct virtq_elem e;

	offer(0);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	virtq_push(&VQ, &e, 16);
}

/* Without EVENT_IDX (2.7.7.2): VIRTQ_AVAIL_F_NO_INTERRUPT suppresses. */
static void test_no_interrupt_flag(void **state)
{
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	pop_push_one();
	assert_true(virtq_need_interrupt(&VQ));
	/* Nothing new: nothing to signal. */
	assert_false(virtq_need_interrupt(&VQ));
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	pop_push_one();
	assert_false(virtq_need_interrupt(&VQ));
	avail()->flags = 0;
	pop_push_one();
	assert_true(virtq_need_interrupt(&VQ));
}

/* With EVENT_IDX (2.7.10): interrupt only when used idx passes used_event,
 * and the flag is ignored. */
static void test_event_idx_interrupts(void **state)
{
	VQ.event_idx = true;
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	*used_event() = 0;
	pop_push_one(); /* used idx 1 */
	assert_true(virtq_need_interrupt(&VQ));

	/* The driver wants to hear when entry 3 (the 4th) is used. */
	*used_event() = 3;
	pop_push_one(); /* 2 */
	assert_false(virtq_need_interrupt(&VQ));
	pop_push_one(); /* 3 */
	assert_false(virtq_need_interrupt(&VQ));
	pop_push_one(); /* 4: used_event 3 is now behind */
	assert_true(virtq_need_interrupt(&VQ));
	pop_push_one(); /* 5: used_event still 3, already signalled */
	assert_false(virtq_need_interrupt(&VQ));

	/* Two entries at once that jump over used_event still interrupt. */
	*used_event() = 5;
	pop_push_one();
	pop_push_one(); /* 7 */
	assert_true(virtq_need_interrupt(&VQ));
}

static void test_event_idx_avail_event_written(void **state)
{
	struct virtq_elem e;

	VQ.event_idx = true;
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	*avail_event() = 0xbeef;
	offer(0);
	offer(0);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(*avail_event(), 1);
	assert_int_equal(virtq_pop(&VQ, &e), 1);
	assert_int_equal(virtq_pop(&VQ, &e), 0);
	/* Empty: the driver is asked to notify for the next entry. */
	assert_int_equal(*avail_event(), 2);
}

static void test_event_idx_wraps(void **state)
{
	VQ.event_idx = true;
	set_desc(desc(0), BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
	/* Start just below the 16-bit wrap. */
	VQ.last_avail = VQ.used_idx = 0xfffe;
	avail()->idx = 0xfffe;
	used()->idx = 0xfffe;
	pop_push_one(); /* used idx 0xffff */
	assert_true(virtq_need_interrupt(&VQ));
	*used_event() = 0x0000;
	pop_push_one(); /* 0x0000 */
	assert_false(virtq_need_interrupt(&VQ));
	pop_push_one(); /* 0x0001 passes 0x0000 */
	assert_true(virtq_need_interrupt(&VQ));
}

static void test_iov_helpers(void **state)
{
	uint8_t a[3] = { 1, 2, 3 }, b[4] = { 4, 5, 6, 7 }, out[8];
	struct iovec iov[2] = { { a, 3 }, { b, 4 } }, sl[2];

	assert_int_equal(virtq_iov_read(iov, 2, 2, out, 4), 4);
	assert_memory_equal(out, ((uint8_t[]){ 3, 4, 5, 6 }), 4);
	assert_int_equal(virtq_iov_read(iov, 2, 5, out, 8), 2);
	assert_int_equal(virtq_iov_write(iov, 2, 6, "\x09\x09", 2), 1);
	assert_int_equal(b[3], 9);
	assert_int_equal(virtq_iov_slice(iov, 2, 1, 4, sl), 2);
	assert_ptr_equal(sl[0].iov_base, a + 1);
	assert_int_equal(sl[0].iov_len, 2);
	assert_ptr_equal(sl[1].iov_base, b);
	assert_int_equal(sl[1].iov_len, 2);
	assert_int_equal(virtq_iov_slice(iov, 2, 7, 4, sl), 0);

	/* iovec to iovec: bytes 1..5 of {a, b} into a 2 + 2 + 1 byte list. */
	uint8_t c[2], d[2], e[1];
	struct iovec dst[3] = { { c, 2 }, { d, 2 }, { e, 1 } };
	assert_int_equal(virtq_iov_copy(dst, 3, iov, 2, 1, 5), 5);
	assert_memory_equal(c, ((uint8_t[]){ 2, 3 }), 2);
	assert_memory_equal(d, ((uint8_t[]){ 4, 5 }), 2);
	assert_int_equal(e[0], 6);
	/* a destination shorter than the request: only what fits */
	assert_int_equal(virtq_iov_copy(dst, 1, iov, 2, 0, 7), 2);
	/* a source shorter than the request: only what is there */
	assert_int_equal(virtq_iov_copy(dst, 3, iov, 2, 5, 4), 2);
	assert_memory_equal(c, ((uint8_t[]){ 6, 9 }), 2);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random descriptor tables and avail rings, mostly plausible, sometimes
 * absurd: every pop ends (1, 0 or -EINVAL), and what it returns is inside
 * guest RAM and within the limits.  A fixed seed keeps it reproducible. */
static void test_random_rings_never_escape(void **state)
{
	struct virtq_elem e;
	unsigned long popped = 0, refused = 0;

	VQ.event_idx = true;
	for (unsigned round = 0; round < 3000; round++) {
		for (unsigned i = 0; i < QSIZE; i++) {
			uint64_t r = xorshift();
			uint16_t flags = (uint16_t)(r & 7);
			uint64_t addr = (r >> 8) % RAM_SIZE;
			uint32_t len = (uint32_t)((r >> 40) & 0x3ff);

			if ((r & 0xf00000000ull) == 0)
				addr = xorshift(); /* anywhere */
			if ((r & 0xf000000000ull) == 0)
				len = (uint32_t)xorshift();
			if (flags & VIRTQ_DESC_F_INDIRECT) {
				addr = TABLE_GPA;
				len = (uint32_t)(16 * (1 + (r >> 60)));
			}
			set_desc(desc(i), addr, len, flags, (uint16_t)((r >> 20) % (QSIZE + 2)));
			struct virtq_desc *t = (struct virtq_desc *)(FH->ram + TABLE_GPA) + i;
			set_desc(t, (r >> 12) % RAM_SIZE, (uint32_t)(r >> 50) & 0xff,
				 (uint16_t)((r >> 33) & 7), (uint16_t)((r >> 36) % 10));
		}
		uint64_t r = xorshift();
		for (unsigned i = 0; i < 1 + (r & 3); i++)
			offer((uint16_t)((r >> (8 + 4 * i)) % (QSIZE + 1)));
		if ((r & 0xff00) == 0)
			avail()->idx = (uint16_t)xorshift();

		int rc;
		while ((rc = virtq_pop(&VQ, &e)) == 1) {
			assert_true(e.nout + e.nin <= QSIZE);
			assert_true(e.out_len + e.in_len <= VIRTQ_MAX_CHAIN_BYTES);
			for (unsigned i = 0; i < e.nout + e.nin; i++) {
				uint8_t *p = e.iov[i].iov_base;
				assert_true(p >= FH->ram && p + e.iov[i].iov_len <= FH->ram + RAM_SIZE);
			}
			virtq_push(&VQ, &e, (uint32_t)e.in_len);
			popped++;
		}
		if (rc < 0) {
			assert_int_equal(rc, -EINVAL);
			assert_true(VQ.broken);
			refused++;
			/* The driver resets the queue and starts over. */
			virtq_reset(&VQ);
			VQ.num = QSIZE;
			VQ.desc_gpa = DESC_GPA;
			VQ.avail_gpa = AVAIL_GPA;
			VQ.used_gpa = USED_GPA;
			VQ.indirect = true;
			VQ.event_idx = true;
			assert_int_equal(virtq_enable(&VQ), 0);
			avail()->idx = 0;
			used()->idx = 0;
		}
	}
	/* Both paths were taken many times. */
	assert_true(popped > 100);
	assert_true(refused > 100);
	assert_int_equal(total_errors(), refused);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty_ring),
		T(test_chain_readable_then_writable),
		T(test_ring_indices_wrap),
		T(test_writes_marked),
		T(test_zero_length_descriptor_is_no_segment),
		T(test_indirect_table),
		T(test_indirect_not_negotiated),
		T(test_indirect_nested),
		T(test_indirect_length_not_multiple_of_16),
		T(test_indirect_with_next),
		T(test_indirect_table_outside_ram),
		T(test_indirect_table_loop),
		T(test_indirect_next_past_table),
		T(test_longest_direct_chain),
		T(test_longest_indirect_table),
		T(test_indirect_table_one_too_long),
		T(test_loop_in_main_table),
		T(test_self_loop),
		T(test_next_out_of_range),
		T(test_head_out_of_range),
		T(test_buffer_outside_ram),
		T(test_buffer_address_wraps),
		T(test_readable_after_writable),
		T(test_absurd_length),
		T(test_total_length_capped),
		T(test_avail_idx_too_far_ahead),
		T(test_avail_idx_full_ring_is_fine),
		T(test_reset_keeps_counters_and_clears_broken),
		T(test_enable_checks_rings),
		T(test_no_interrupt_flag),
		T(test_event_idx_interrupts),
		T(test_event_idx_avail_event_written),
		T(test_event_idx_wraps),
		T(test_iov_helpers),
		T(test_random_rings_never_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
