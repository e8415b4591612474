/* tests/guests/hyperv-guest.h - what the hyperv test guests share: the
 * Hyper-V synthetic MSRs they use (TLFS v6.0b), MSR, CPUID and TSC access,
 * and the reference TSC page's reading. */
#ifndef VMM_TEST_HYPERV_GUEST_H
#define VMM_TEST_HYPERV_GUEST_H

#include "irq-lib.h"

#define HV_MSR_GUEST_OS_ID	0x40000000u
#define HV_MSR_HYPERCALL	0x40000001u
#define HV_MSR_VP_INDEX		0x40000002u
#define HV_MSR_VP_RUNTIME	0x40000010u
#define HV_MSR_TIME_REF_COUNT	0x40000020u
#define HV_MSR_REFERENCE_TSC	0x40000021u
#define OS_ID_HI		0x81000000u	/* 3.6: open source, no vendor */
#define CALL_NOTIFY_LONG_SPIN_WAIT 0x0008u
#define HV_MSR_SCONTROL		0x40000080u
#define HV_MSR_SIMP		0x40000083u
#define HV_MSR_EOM		0x40000084u
#define HV_MSR_SINT2		0x40000092u
#define HV_MSR_STIMER0_CONFIG	0x400000b0u
#define HV_MSR_STIMER0_COUNT	0x400000b1u
#define HV_MSR_STIMER1_CONFIG	0x400000b2u
#define HV_MSR_STIMER1_COUNT	0x400000b3u
#define STIMER_ENABLE		0x1u
#define STIMER_PERIODIC		0x2u
#define STIMER_AUTOENABLE	0x8u
#define STIMER_DIRECT		0x1000u
#define MSG_TIMER_EXPIRED	0x80000010u
#define VEC_SINT		0x40
#define VEC_DIRECT		0x50
#define HV_MSR_CRASH_P0		0x40000100u
#define HV_MSR_CRASH_CTL	0x40000105u
#define CRASH_NOTIFY_HI		0x80000000u	/* CRASH_CTL bit 63 */
#define CRASH_MESSAGE_HI	0x40000000u	/* bit 62 */

static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "a"((uint32_t)v), "d"((uint32_t)(v >> 32)), "c"(msr)
			 : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* (a * b) >> 64 with 32-bit multiplies (no __int128 in 32-bit code). */
static inline uint64_t mul_hi64(uint64_t a, uint64_t b)
{
	uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
	uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;

	return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static inline void put_hex64(uint64_t v)
{
	if (v >> 32) {
		put_hex((uint32_t)(v >> 32));
		uart_putc(':');
	}
	put_hex((uint32_t)v);
}

/* 12.7.3.2: the reference time from a TSC page, read between two equal
 * sequence numbers; 0 while the page says invalid (sequence 0). */
static inline uint64_t hv_tsc_page_time(const volatile uint8_t *page)
{
	const volatile uint32_t *seqp = (const volatile uint32_t *)page;
	uint32_t seq;
	uint64_t t;

	do {
		seq = *seqp;
		if (!seq)
			return 0;
		t = mul_hi64(rdtsc(), *(const volatile uint64_t *)(page + 8)) +
		    *(const volatile uint64_t *)(page + 16);
	} while (*seqp != seq);
	return t;
}

#endif
