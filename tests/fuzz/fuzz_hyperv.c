/* tests/fuzz/fuzz_hyperv.c - the Hyper-V model (devices/hyperv/hyperv.c) fed
 * any sequence of guest actions.
 *
 * Input: byte 0 the enlightenments (HYPERV_F_* bits 0-7; its bit 0 also
 * turns on the crash MSRs), then commands of 11 bytes: op, vCPU (bit 0),
 * MSR offset from 0x40000000 (bit 7 of the op adds 0x100: the crash MSRs),
 * then a little-endian 64-bit value.  Ops (op & 7): 0 MSR read, 1 MSR
 * write, 2 hypercall port write (offset = the value's low 5 bits, data its
 * high half), 3 port read, 4 the clock advances by the value's low 24 bits
 * and one armed timer of the vCPU fires, 5 a guest write of the value's low
 * byte into RAM at its bits 16..31 (the guest emptying a message slot), 6
 * a reset, 7 an expiry of timer index `value` (out of range: ignored).
 * Guest RAM is one heap block of exactly RAM_SIZE bytes; the model reaches
 * it only through the bounds-checked ops, so ASan reports any access of the
 * model's own past its buffers.  Invariants (abort): no interrupt with a
 * vector below 16, no timer armed for a vCPU or timer out of range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/hyperv/hyperv.h"

#define RAM_SIZE 0x10000u

static uint8_t *ram;
static uint64_t now;
static struct hyperv hv;
static bool armed[HYPERV_MAX_VCPUS][HV_STIMER_COUNT];

static int f_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -14;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static int f_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -14;
	memcpy(ram + gpa, buf, len);
	return 0;
}

static uint64_t f_now(void *opaque)
{
	return now;
}

static int f_tsc(void *opaque, unsigned vcpu, uint64_t *tsc, uint64_t *ns, uint32_t *khz)
{
	*tsc = now * 3;
	*ns = now;
	*khz = 3000000;
	return 0;
}

static int f_interrupt(void *opaque, unsigned vcpu, uint8_t vector)
{
	if (vector < 16 || vcpu >= HYPERV_MAX_VCPUS)
		abort(); /* invariant failed */
	return 0;
}

static void f_arm(void *opaque, unsigned vcpu, unsigned t, uint64_t deadline)
{
	if (vcpu >= HYPERV_MAX_VCPUS || t >= HV_STIMER_COUNT)
		abort(); /* invariant failed */
	armed[vcpu][t] = true;
}

static void f_cancel(void *opaque, unsigned vcpu, unsigned t)
{
	if (vcpu >= HYPERV_MAX_VCPUS || t >= HV_STIMER_COUNT)
		abort(); /* invariant failed */
	armed[vcpu][t] = false;
}

static volatile unsigned crash_sum;

/* Every byte of the message is read: one past its buffer is an ASan report. */
static void f_crash(void *opaque, const uint64_t p[5], const char *msg, size_t len)
{
	if (len > HV_CRASH_MESSAGE_MAX || (len && !msg))
		abort(); /* invariant failed */
	for (size_t i = 0; i < len; i++)
		crash_sum += (unsigned char)msg[i];
}

static const struct hyperv_ops ops = {
	.mem_read = f_read,
	.mem_write = f_write,
	.now_ns = f_now,
	.guest_tsc = f_tsc,
	.interrupt = f_interrupt,
	.timer_arm = f_arm,
	.timer_cancel = f_cancel,
	.crash = f_crash,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 0;
	now = 1000000;
	memset(armed, 0, sizeof(armed));
	hyperv_init(&hv, (uint32_t)data[0] | (uint32_t)(data[0] & 1) << 8, 0xe00, &ops, NULL);
	for (size_t i = 1; i + 11 <= size; i += 11) {
		uint8_t op = data[i];
		unsigned vcpu = data[i + 1] & 1;
		uint32_t msr = HV_MSR_BASE + data[i + 2] + ((op & 0x80) ? 0x100 : 0);
		uint64_t v;
		uint32_t v32;

		memcpy(&v, data + i + 3, 8);
		switch (op & 7) {
		case 0:
			hyperv_msr_read(&hv, vcpu, msr, &v);
			break;
		case 1:
			hyperv_msr_write(&hv, vcpu, msr, v);
			break;
		case 2:
			hyperv_port_write(&hv, vcpu, (unsigned)v & 31, (uint32_t)(v >> 32));
			break;
		case 3:
			hyperv_port_read(&hv, vcpu, (unsigned)v & 31, &v32);
			break;
		case 4:
			now += v & 0xffffff;
			for (unsigned t = 0; t < HV_STIMER_COUNT; t++)
				if (armed[vcpu][t]) {
					armed[vcpu][t] = false;
					hyperv_stimer_expired(&hv, vcpu, t);
					break;
				}
			break;
		case 5:
			ram[(v >> 16) & (RAM_SIZE - 1)] = (uint8_t)v;
			break;
		case 6:
			hyperv_reset(&hv);
			break;
		default:
			hyperv_stimer_expired(&hv, vcpu, (unsigned)v); /* any index: refused */
			break;
		}
	}
	free(ram);
	return 0;
}
