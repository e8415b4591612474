/* tests/unit/test_hyperv.c - the Hyper-V model (devices/hyperv/hyperv.c)
 * driven directly: its CPUID leaves per switch, the synthetic MSRs' rules,
 * the hypercall page and port, the reference counter and TSC page, against
 * a fake guest RAM, clock and TSC. */
#include "config.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/hyperv/hyperv.h"

#define RAM_SIZE 0x10000u
#define ALL (HYPERV_F_VP_INDEX | HYPERV_F_VP_RUNTIME | HYPERV_F_TIME | HYPERV_F_REF_TSC | \
	     HYPERV_F_HYPERCALL)
#define PORT 0xe00
#define OS_ID 0x8100000000000000ull /* TLFS 3.6: open-source OS, vendor bit set */

struct fake {
	uint8_t ram[RAM_SIZE];
	uint64_t now;
	bool have_tsc;
	uint64_t tsc;
	uint32_t khz;
	unsigned errors;
	/* SynIC: interrupts sent, host timers armed */
	unsigned nirq;
	struct { unsigned vcpu; uint8_t vector; } irq[32];
	bool armed[2][HV_STIMER_COUNT];
	uint64_t deadline[2][HV_STIMER_COUNT];
	unsigned resets, crashes;
	uint64_t crash_p[5];
	char crash_msg[HV_CRASH_MESSAGE_MAX + 1];
	size_t crash_len;
	bool crash_has_msg;
	/* The guest empties the slot at race_gpa right after the model's
	 * first look at it. */
	uint64_t race_gpa;
	unsigned race_reads;
	struct hyperv hv;
};

static int fake_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	struct fake *f = opaque;

	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -14;
	memcpy(buf, f->ram + gpa, len);
	if (f->race_gpa && gpa == f->race_gpa && len == 4 && ++f->race_reads == 1)
		memset(f->ram + gpa, 0, 4);
	return 0;
}

static int fake_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
	struct fake *f = opaque;

	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -14;
	memcpy(f->ram + gpa, buf, len);
	return 0;
}

static uint64_t fake_now(void *opaque)
{
	return ((struct fake *)opaque)->now;
}

static int fake_tsc(void *opaque, unsigned vcpu, uint64_t *tsc, uint64_t *ns, uint32_t *khz)
{
	struct fake *f = opaque;

	(void)vcpu;
	if (!f->have_tsc)
		return -95;
	*tsc = f->tsc;
	*ns = f->now;
	*khz = f->khz;
	return 0;
}

static uint64_t fake_runtime(void *opaque, unsigned vcpu)
{
	(void)opaque;
	return 1000ull * (vcpu + 1);
}

static void fake_error(void *opaque, const char *what)
{
	(void)what;
	((struct fake *)opaque)->errors++;
}

static int fake_interrupt(void *opaque, unsigned vcpu, uint8_t vector)
{
	struct fake *f = opaque;

	assert_true(f->nirq < 32);
	f->irq[f->nirq].vcpu = vcpu;
	f->irq[f->nirq].vector = vector;
	f->nirq++;
	return 0;
}

static void fake_timer_arm(void *opaque, unsigned vcpu, unsigned timer, uint64_t deadline_ns)
{
	struct fake *f = opaque;

	assert_true(vcpu < 2);
	f->armed[vcpu][timer] = true;
	f->deadline[vcpu][timer] = deadline_ns;
}

static void fake_timer_cancel(void *opaque, unsigned vcpu, unsigned timer)
{
	struct fake *f = opaque;

	f->armed[vcpu][timer] = false;
}

static void fake_reset_request(void *opaque)
{
	((struct fake *)opaque)->resets++;
}

static void fake_crash(void *opaque, const uint64_t p[5], const char *msg, size_t len)
{
	struct fake *f = opaque;

	f->crashes++;
	memcpy(f->crash_p, p, sizeof(f->crash_p));
	f->crash_has_msg = msg != NULL;
	f->crash_len = len;
	assert_true(len <= HV_CRASH_MESSAGE_MAX);
	if (msg)
		memcpy(f->crash_msg, msg, len);
	f->crash_msg[len] = '\0';
}

static const struct hyperv_ops fake_ops = {
	.reset_request = fake_reset_request,
	.crash = fake_crash,
	.interrupt = fake_interrupt,
	.timer_arm = fake_timer_arm,
	.timer_cancel = fake_timer_cancel,
	.mem_read = fake_read,
	.mem_write = fake_write,
	.now_ns = fake_now,
	.guest_tsc = fake_tsc,
	.vp_runtime_ns = fake_runtime,
	.guest_error = fake_error,
};

static struct fake *fake_new(uint32_t features)
{
	struct fake *f = test_calloc(1, sizeof(*f));

	for (unsigned i = 0; i < RAM_SIZE; i++)
		f->ram[i] = (uint8_t)(i * 7 + 3);
	hyperv_init(&f->hv, features, PORT, &fake_ops, f);
	return f;
}

static uint64_t rd(struct fake *f, unsigned vcpu, uint32_t msr)
{
	uint64_t v = 0xdead;

	assert_int_equal(hyperv_msr_read(&f->hv, vcpu, msr, &v), 0);
	return v;
}

static void wr(struct fake *f, uint32_t msr, uint64_t v)
{
	assert_int_equal(hyperv_msr_write(&f->hv, 0, msr, v), 0);
}

static bool ram_untouched(const struct fake *f, uint64_t gpa)
{
	for (unsigned i = 0; i < HV_PAGE_SIZE; i++)
		if (f->ram[gpa + i] != (uint8_t)((gpa + i) * 7 + 3))
			return false;
	return true;
}

/* ------------------------------------------------------------------ CPUID */

static void test_cpuid_identity(void **state)
{
	struct fake *f = fake_new(ALL);
	struct hyperv_cpuid c[HV_CPUID_NR];
	char vendor[13] = { 0 };

	(void)state;
	hyperv_cpuid(&f->hv, c);
	for (unsigned i = 0; i < HV_CPUID_NR; i++)
		assert_int_equal(c[i].function, 0x40000000 + i);
	assert_int_equal(c[0].eax, 0x40000006);
	memcpy(vendor, &c[0].ebx, 4);
	memcpy(vendor + 4, &c[0].ecx, 4);
	memcpy(vendor + 8, &c[0].edx, 4);
	assert_string_equal(vendor, "Microsoft Hv");
	assert_memory_equal(&c[1].eax, "Hv#1", 4);
	/* every MSR of the five switches, nothing else (SynIC, timers) */
	assert_int_equal(c[3].eax, (1u << 0) | (1u << 1) | (1u << 5) | (1u << 6) | (1u << 9));
	assert_int_equal(c[3].ebx, 0);
	assert_int_equal(c[4].ebx, 0xffffffffu);
	assert_true(c[5].eax >= 1);
	test_free(f);
}

/* One switch on: one privilege bit on (TLFS HV_PARTITION_PRIVILEGE_MASK). */
static void test_cpuid_per_switch(void **state)
{
	static const struct { uint32_t f, bits; } sw[] = {
		{ 0, 0 },
		{ HYPERV_F_VP_RUNTIME, 1u << 0 },
		{ HYPERV_F_TIME, 1u << 1 },
		{ HYPERV_F_HYPERCALL, 1u << 5 },
		{ HYPERV_F_VP_INDEX, 1u << 6 },
		{ HYPERV_F_TIME | HYPERV_F_REF_TSC, (1u << 1) | (1u << 9) },
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(sw) / sizeof(sw[0]); i++) {
		struct fake *f = fake_new(sw[i].f);
		struct hyperv_cpuid c[HV_CPUID_NR];

		hyperv_cpuid(&f->hv, c);
		assert_int_equal(c[3].eax, sw[i].bits);
		test_free(f);
	}
}

/* Kernel mode: of what the hypervisor supports only what the switches ask,
 * a feature left out whole when a bit of it is missing (the timers without
 * direct mode), the hypervisor's spin count, no auto-EOI advice, the
 * smaller processor count. */
static void test_cpuid_kernel_filter(void **state)
{
	const uint32_t all = HYPERV_F_VP_INDEX | HYPERV_F_VP_RUNTIME | HYPERV_F_TIME |
			     HYPERV_F_REF_TSC | HYPERV_F_HYPERCALL | HYPERV_F_SYNIC | HYPERV_F_STIMER |
			     HYPERV_F_RESET | HYPERV_F_CRASH;
	/* everything but AccessResetReg, plus APIC access (4) and the
	 * frequency MSRs (11); EDX crash MSRs (10), no direct timers (19) */
	struct hyperv_cpuid kvm[] = {
		{ HV_CPUID_FEATURES, 0xa7f, 0x830, 0, 1u << 10 },
		{ HV_CPUID_ENLIGHTENMENTS, 1u << 9, 0xfff, 0, 0 },
		{ HV_CPUID_LIMITS, 16, 0, 0, 0 },
	};
	struct fake *f = fake_new(all);
	struct hyperv_cpuid c[HV_CPUID_NR];
	uint32_t missing;

	(void)state;
	missing = hyperv_cpuid_kernel(&f->hv, kvm, 3, c);
	assert_int_equal(missing, HYPERV_F_RESET | HYPERV_F_STIMER);
	/* runtime, counter, SynIC, hypercall, VP index, TSC page */
	assert_int_equal(c[3].eax, 0x267);
	assert_int_equal(c[3].ebx, 0);
	assert_int_equal(c[3].edx, 1u << 10);
	assert_int_equal(c[4].eax, 0);
	assert_int_equal(c[4].ebx, 0xfff);
	assert_int_equal(c[5].eax, 16);
	assert_memory_equal(&c[0].ebx, "Micr", 4);
	assert_int_equal(c[1].eax, HV_INTERFACE_HV1);
	/* a hypervisor that says nothing of its features offers none */
	missing = hyperv_cpuid_kernel(&f->hv, NULL, 0, c);
	assert_int_equal(missing, all);
	assert_int_equal(c[3].eax, 0);
	assert_int_equal(c[3].edx, 0);
	assert_int_equal(c[5].eax, HYPERV_MAX_VCPUS);
	test_free(f);
}

/* -------------------------------------------------------------- MSR rules */

/* An MSR whose switch is off is not there: #GP, read or write. */
static void test_msrs_not_offered(void **state)
{
	static const uint32_t msrs[] = { HV_MSR_GUEST_OS_ID, HV_MSR_HYPERCALL, HV_MSR_VP_INDEX,
					 HV_MSR_VP_RUNTIME, HV_MSR_TIME_REF_COUNT,
					 HV_MSR_REFERENCE_TSC, 0x40000080 /* SCONTROL */,
					 0x400000b0 /* STIMER0_CONFIG */ };
	struct fake *f = fake_new(0);
	uint64_t v;

	(void)state;
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		assert_int_equal(hyperv_msr_read(&f->hv, 0, msrs[i], &v), -1);
		assert_int_equal(hyperv_msr_write(&f->hv, 0, msrs[i], 0), -1);
	}
	test_free(f);
	f = fake_new(ALL);
	assert_int_equal(hyperv_msr_read(&f->hv, 0, 0x40000080, &v), -1);
	test_free(f);
}

static void test_read_only_msrs(void **state)
{
	struct fake *f = fake_new(ALL);

	(void)state;
	assert_int_equal(rd(f, 0, HV_MSR_VP_INDEX), 0);
	assert_int_equal(rd(f, 3, HV_MSR_VP_INDEX), 3);
	assert_int_equal(rd(f, 1, HV_MSR_VP_RUNTIME), 20); /* 2000 ns */
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_VP_INDEX, 5), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_TIME_REF_COUNT, 5), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_VP_RUNTIME, 5), -1);
	assert_int_equal(f->errors, 3);
	assert_int_equal(rd(f, 3, HV_MSR_VP_INDEX), 3);
	test_free(f);
}

static void test_time_ref_count(void **state)
{
	struct fake *f = fake_new(ALL);

	(void)state;
	f->now = 12345678999;
	assert_int_equal(rd(f, 0, HV_MSR_TIME_REF_COUNT), 123456789);
	f->now += 100;
	assert_int_equal(rd(f, 0, HV_MSR_TIME_REF_COUNT), 123456790);
	test_free(f);
}

/* --------------------------------------------------------- hypercall page */

static void test_hypercall_needs_guest_os_id(void **state)
{
	struct fake *f = fake_new(ALL);

	(void)state;
	wr(f, HV_MSR_HYPERCALL, 0x2000 | HV_HYPERCALL_ENABLE);
	assert_int_equal(rd(f, 0, HV_MSR_HYPERCALL), 0x2000);
	assert_true(ram_untouched(f, 0x2000));
	test_free(f);
}

static void test_hypercall_page_contents(void **state)
{
	struct fake *f = fake_new(ALL);
	uint8_t want[HV_PAGE_SIZE];

	(void)state;
	wr(f, HV_MSR_GUEST_OS_ID, OS_ID);
	assert_int_equal(rd(f, 0, HV_MSR_GUEST_OS_ID), OS_ID);
	wr(f, HV_MSR_HYPERCALL, 0x3000 | HV_HYPERCALL_ENABLE);
	assert_int_equal(rd(f, 0, HV_MSR_HYPERCALL), 0x3000 | HV_HYPERCALL_ENABLE);
	hyperv_hypercall_code(PORT, want);
	assert_memory_equal(f->ram + 0x3000, want, HV_PAGE_SIZE);
	/* both entries load DX with the port: mov dx, imm16 (66 ba) */
	assert_int_equal(want[0x0e], 0x66);
	assert_int_equal(want[0x0f], 0xba);
	assert_int_equal(want[0x10] | want[0x11] << 8, PORT);
	assert_int_equal(want[0x5f], 0x66);
	assert_int_equal(want[0x60], 0xba);
	assert_int_equal(want[0x61] | want[0x62] << 8, PORT);
	assert_true(ram_untouched(f, 0x2000));
	assert_true(ram_untouched(f, 0x4000));
	/* moved: the old place gets its RAM back */
	wr(f, HV_MSR_HYPERCALL, 0x5000 | HV_HYPERCALL_ENABLE);
	assert_true(ram_untouched(f, 0x3000));
	assert_memory_equal(f->ram + 0x5000, want, HV_PAGE_SIZE);
	/* disabled: uncovered */
	wr(f, HV_MSR_HYPERCALL, 0x5000);
	assert_true(ram_untouched(f, 0x5000));
	test_free(f);
}

static void test_hypercall_guest_os_id_cleared(void **state)
{
	struct fake *f = fake_new(ALL);

	(void)state;
	wr(f, HV_MSR_GUEST_OS_ID, OS_ID);
	wr(f, HV_MSR_HYPERCALL, 0x3000 | HV_HYPERCALL_ENABLE);
	wr(f, HV_MSR_GUEST_OS_ID, 0);
	assert_int_equal(rd(f, 0, HV_MSR_HYPERCALL) & HV_HYPERCALL_ENABLE, 0);
	assert_true(ram_untouched(f, 0x3000));
	test_free(f);
}

static void test_hypercall_bad_values(void **state)
{
	struct fake *f = fake_new(ALL);
	uint64_t v;

	(void)state;
	wr(f, HV_MSR_GUEST_OS_ID, OS_ID);
	/* RsvdP bits 11:2 set: #GP, nothing mapped */
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_HYPERCALL,
					  0x3000 | 0x4 | HV_HYPERCALL_ENABLE), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_HYPERCALL,
					  0x3000 | 0x800 | HV_HYPERCALL_ENABLE), -1);
	assert_true(ram_untouched(f, 0x3000));
	/* a page outside RAM: #GP, stays disabled */
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_HYPERCALL,
					  0x100000 | HV_HYPERCALL_ENABLE), -1);
	assert_int_equal(hyperv_msr_read(&f->hv, 0, HV_MSR_HYPERCALL, &v), 0);
	assert_int_equal(v & HV_HYPERCALL_ENABLE, 0);
	assert_int_equal(f->errors, 3);
	test_free(f);
}

static void test_hypercall_locked(void **state)
{
	struct fake *f = fake_new(ALL);

	(void)state;
	wr(f, HV_MSR_GUEST_OS_ID, OS_ID);
	wr(f, HV_MSR_HYPERCALL, 0x3000 | HV_HYPERCALL_LOCKED | HV_HYPERCALL_ENABLE);
	wr(f, HV_MSR_HYPERCALL, 0x4000 | HV_HYPERCALL_ENABLE);
	assert_int_equal(rd(f, 0, HV_MSR_HYPERCALL),
			 0x3000 | HV_HYPERCALL_LOCKED | HV_HYPERCALL_ENABLE);
	assert_true(ram_untouched(f, 0x4000));
	hyperv_reset(&f->hv);
	assert_int_equal(rd(f, 0, HV_MSR_HYPERCALL), 0);
	test_free(f);
}

/* What the page's code does, for vCPU `vcpu`. */
static uint64_t call(struct fake *f, unsigned vcpu, uint64_t control, uint64_t in, uint64_t out)
{
	uint32_t lo, hi;

	assert_int_equal(hyperv_port_write(&f->hv, vcpu, HV_PORT_CTL_LO, (uint32_t)control), 0);
	assert_int_equal(hyperv_port_write(&f->hv, vcpu, HV_PORT_CTL_HI, (uint32_t)(control >> 32)), 0);
	assert_int_equal(hyperv_port_write(&f->hv, vcpu, HV_PORT_IN_LO, (uint32_t)in), 0);
	assert_int_equal(hyperv_port_write(&f->hv, vcpu, HV_PORT_IN_HI, (uint32_t)(in >> 32)), 0);
	assert_int_equal(hyperv_port_write(&f->hv, vcpu, HV_PORT_OUT_LO, (uint32_t)out), 0);
	assert_int_equal(hyperv_port_write(&f->hv, vcpu, HV_PORT_OUT_HI, (uint32_t)(out >> 32)), 0);
	assert_int_equal(hyperv_port_write(&f->hv, vcpu, HV_PORT_GO, 0), 0);
	assert_int_equal(hyperv_port_read(&f->hv, vcpu, HV_PORT_GO, &lo), 0);
	assert_int_equal(hyperv_port_read(&f->hv, vcpu, HV_PORT_RES_HI, &hi), 0);
	return (uint64_t)hi << 32 | lo;
}

static void test_hypercalls(void **state)
{
	struct fake *f = fake_new(ALL);
	uint32_t v;

	(void)state;
	/* no page yet: the port answers with an error, and counts it */
	assert_int_equal(call(f, 0, HV_CALL_NOTIFY_LONG_SPIN_WAIT, 0, 0),
			 HV_STATUS_INVALID_HYPERCALL_CODE);
	assert_int_equal(f->errors, 1);
	wr(f, HV_MSR_GUEST_OS_ID, OS_ID);
	wr(f, HV_MSR_HYPERCALL, 0x3000 | HV_HYPERCALL_ENABLE);
	assert_int_equal(call(f, 0, HV_CALL_NOTIFY_LONG_SPIN_WAIT, 0, 0), HV_STATUS_SUCCESS);
	assert_int_equal(call(f, 1, 0xffff, 0, 0), HV_STATUS_INVALID_HYPERCALL_CODE);
	/* a simple call with a rep count, or a reserved bit */
	assert_int_equal(call(f, 0, HV_CALL_NOTIFY_LONG_SPIN_WAIT | 1ull << 32, 0, 0),
			 HV_STATUS_INVALID_HYPERCALL_INPUT);
	assert_int_equal(call(f, 0, HV_CALL_NOTIFY_LONG_SPIN_WAIT | 1ull << 27, 0, 0),
			 HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* vCPUs stage their own registers */
	assert_int_equal(hyperv_port_write(&f->hv, 0, HV_PORT_CTL_LO, 0xffff), 0);
	assert_int_equal(hyperv_port_write(&f->hv, 1, HV_PORT_CTL_LO, HV_CALL_NOTIFY_LONG_SPIN_WAIT), 0);
	assert_int_equal(hyperv_port_write(&f->hv, 1, HV_PORT_CTL_HI, 0), 0);
	assert_int_equal(hyperv_port_write(&f->hv, 1, HV_PORT_GO, 0), 0);
	assert_int_equal(hyperv_port_read(&f->hv, 1, HV_PORT_GO, &v), 0);
	assert_int_equal(v, HV_STATUS_SUCCESS);
	/* bad offsets and vCPUs are refused */
	assert_int_equal(hyperv_port_write(&f->hv, 0, 2, 0), -1);
	assert_int_equal(hyperv_port_write(&f->hv, 0, HV_PORT_RES_HI, 0), -1);
	assert_int_equal(hyperv_port_read(&f->hv, HYPERV_MAX_VCPUS, 0, &v), -1);
	test_free(f);
}

/*
 * The page's 64-bit code, run for real in this (x86-64) process: at user
 * level its port accesses and cli fault, and a SIGSEGV handler plays the
 * hypercall port (out dx, eax / in eax, dx) on the model and skips cli, as
 * the VMM's exits do.  What the guest sees: the result in RAX, RCX, RDX and
 * R8 (the arguments) and every other register preserved.
 */
#if defined(__x86_64__)
static struct hyperv *x64_hv;
static unsigned x64_port_accesses;

static void x64_trap(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	greg_t *g = uc->uc_mcontext.gregs;
	const uint8_t *ip = (const uint8_t *)g[REG_RIP];
	unsigned offset = (unsigned)((uint16_t)g[REG_RDX] - PORT);
	uint32_t v;

	(void)sig;
	(void)si;
	switch (ip[0]) {
	case 0xef: /* out dx, eax */
		if (hyperv_port_write(x64_hv, 0, offset, (uint32_t)g[REG_RAX]))
			abort();
		x64_port_accesses++;
		break;
	case 0xed: /* in eax, dx: a 32-bit result zero-extends */
		if (hyperv_port_read(x64_hv, 0, offset, &v))
			abort();
		g[REG_RAX] = v;
		x64_port_accesses++;
		break;
	case 0xfa: /* cli */
		break;
	default:
		abort();
	}
	g[REG_RIP] += 1;
}

static uint64_t x64_call(void *page, uint64_t control, uint64_t in, uint64_t out,
			 uint64_t *rcx, uint64_t *rdx, uint64_t *r8, uint64_t *others)
{
	register uint64_t r8v __asm__("r8") = out;
	register uint64_t r9v __asm__("r9") = 0x9999;
	register uint64_t r10v __asm__("r10") = 0x1010;
	register uint64_t r11v __asm__("r11") = 0x1111;
	register void *entry __asm__("r12") = page;
	uint64_t rax = 0xaaaa, rbx = 0xbbbb, rsi = 0x5151, rdi = 0xd1d1;

	/* The call and the page's pushes must not land in this function's
	 * red zone (SysV x86-64: 128 bytes below RSP). */
	__asm__ volatile("sub $128, %%rsp\n\tcall *%[entry]\n\tadd $128, %%rsp"
			 : "+a"(rax), "+b"(rbx), "+c"(control), "+d"(in), "+S"(rsi), "+D"(rdi),
			   "+r"(r8v), "+r"(r9v), "+r"(r10v), "+r"(r11v)
			 : [entry] "r"(entry)
			 : "memory", "cc");
	*rcx = control;
	*rdx = in;
	*r8 = r8v;
	*others = (rbx == 0xbbbb) + (rsi == 0x5151) + (rdi == 0xd1d1) + (r9v == 0x9999) +
		  (r10v == 0x1010) + (r11v == 0x1111);
	return rax;
}

static void test_hypercall_page_x64_runs(void **state)
{
	struct fake *f = fake_new(ALL);
	struct sigaction sa = { .sa_sigaction = x64_trap, .sa_flags = SA_SIGINFO }, old;
	uint8_t *page;
	uint64_t rcx, rdx, r8, others, r;

	(void)state;
	page = mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		skip();
	hyperv_hypercall_code(PORT, page);
	wr(f, HV_MSR_GUEST_OS_ID, OS_ID);
	wr(f, HV_MSR_HYPERCALL, 0x3000 | HV_HYPERCALL_ENABLE);
	x64_hv = &f->hv;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	r = x64_call(page, HV_CALL_NOTIFY_LONG_SPIN_WAIT, 0x123456789000ull, 0xfedcba987000ull,
		     &rcx, &rdx, &r8, &others);
	assert_int_equal(r, HV_STATUS_SUCCESS);
	assert_int_equal(rcx, HV_CALL_NOTIFY_LONG_SPIN_WAIT);
	assert_int_equal(rdx, 0x123456789000ull);
	assert_int_equal(r8, 0xfedcba987000ull);
	assert_int_equal(others, 6);
	assert_int_equal(x64_port_accesses, 9);
	/* the halves reached the port in the calling convention's order */
	assert_int_equal(f->hv.vcpu[0].port[HV_PORT_IN_LO / 4], 0x56789000u);
	assert_int_equal(f->hv.vcpu[0].port[HV_PORT_IN_HI / 4], 0x1234u);
	assert_int_equal(f->hv.vcpu[0].port[HV_PORT_OUT_LO / 4], 0xba987000u);
	assert_int_equal(f->hv.vcpu[0].port[HV_PORT_OUT_HI / 4], 0xfedcu);
	r = x64_call(page, 0x1234 | 5ull << 32, 0, 0, &rcx, &rdx, &r8, &others);
	assert_int_equal(r, HV_STATUS_INVALID_HYPERCALL_CODE);
	assert_int_equal(f->hv.vcpu[0].port[HV_PORT_CTL_HI / 4], 5);
	sigaction(SIGSEGV, &old, NULL);
	munmap(page, HV_PAGE_SIZE);
	test_free(f);
}
#else
static void test_hypercall_page_x64_runs(void **state)
{
	(void)state;
	skip();
}
#endif

/* ------------------------------------------------------ reference TSC page */

static void tsc_page(const struct fake *f, uint64_t gpa, uint32_t *seq, uint64_t *scale,
		     int64_t *offset)
{
	memcpy(seq, f->ram + gpa + HV_TSC_PAGE_SEQUENCE, 4);
	memcpy(scale, f->ram + gpa + HV_TSC_PAGE_SCALE, 8);
	memcpy(offset, f->ram + gpa + HV_TSC_PAGE_OFFSET, 8);
}

/* TLFS 12.7.3.2: ((tsc * scale) >> 64) + offset is the reference counter,
 * at the sample and a second later by the TSC's own rate. */
static void test_tsc_page_formula(void **state)
{
	static const uint32_t rates[] = { 2500000, 1000000, 3187654, 100000 };

	(void)state;
	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct fake *f = fake_new(ALL);
		uint32_t seq;
		uint64_t scale, t;
		int64_t offset;

		f->have_tsc = true;
		f->khz = rates[i];
		f->now = 777777777700ull;
		f->tsc = 123456789012345ull;
		wr(f, HV_MSR_REFERENCE_TSC, 0x6000 | HV_REFTSC_ENABLE);
		assert_int_equal(rd(f, 0, HV_MSR_REFERENCE_TSC), 0x6000 | HV_REFTSC_ENABLE);
		tsc_page(f, 0x6000, &seq, &scale, &offset);
		assert_int_not_equal(seq, 0);
		assert_int_not_equal(seq, 0xffffffffu);
		t = hyperv_tsc_page_time(f->tsc, scale, offset);
		assert_true(t <= rd(f, 0, HV_MSR_TIME_REF_COUNT) + 1);
		assert_true(t + 1 >= rd(f, 0, HV_MSR_TIME_REF_COUNT));
		/* one second of TSC ticks is 10^7 units, to one unit per
		 * 2^64 / scale rounding (under a part in 10^9 here) */
		f->now += 1000000000ull;
		f->tsc += (uint64_t)rates[i] * 1000;
		t = hyperv_tsc_page_time(f->tsc, scale, offset);
		assert_true(t <= rd(f, 0, HV_MSR_TIME_REF_COUNT) + 2);
		assert_true(t + 2 >= rd(f, 0, HV_MSR_TIME_REF_COUNT));
		assert_true(t <= f->now / 100 + 2 && t + 2 >= f->now / 100);
		/* rest of the page is zero */
		for (unsigned b = 24; b < HV_PAGE_SIZE; b++)
			assert_int_equal(f->ram[0x6000 + b], 0);
		test_free(f);
	}
}

/* The guest's TSC runs a part in a thousand fast against the virtual
 * clock (a hypervisor whose TSC rate was calibrated under emulation, as the
 * nested test host's): while the page is valid TIME_REF_COUNT follows the
 * page's formula, so a guest comparing the two never sees them apart (the
 * nested hyperv.elf run found the page 0.24 ms behind the counter); with
 * the page disabled, the virtual clock. */
static void test_time_ref_count_follows_a_valid_page(void **state)
{
	struct fake *f = fake_new(ALL);
	uint32_t seq;
	uint64_t scale, t;
	int64_t offset;

	(void)state;
	f->have_tsc = true;
	f->khz = 2000000;
	f->now = 5000000000ull;
	f->tsc = 10000000000ull;
	wr(f, HV_MSR_REFERENCE_TSC, 0x6000 | HV_REFTSC_ENABLE);
	tsc_page(f, 0x6000, &seq, &scale, &offset);
	assert_int_not_equal(seq, 0);
	f->now += 1000000000ull;
	f->tsc += 2002000000ull; /* 1.001 s of ticks at the reported rate */
	t = hyperv_tsc_page_time(f->tsc, scale, offset);
	assert_true(t > f->now / 100 + 9000); /* the page is 1 ms ahead of the clock */
	assert_true(rd(f, 0, HV_MSR_TIME_REF_COUNT) + 1 >= t);
	assert_true(rd(f, 0, HV_MSR_TIME_REF_COUNT) <= t + 1);
	wr(f, HV_MSR_REFERENCE_TSC, 0x6000);
	assert_int_equal(rd(f, 0, HV_MSR_TIME_REF_COUNT), f->now / 100);
	test_free(f);
}

static void test_tsc_page_sequence_and_overlay(void **state)
{
	struct fake *f = fake_new(ALL);
	uint32_t seq1, seq2;
	uint64_t scale;
	int64_t offset;

	(void)state;
	/* no TSC known: the page says invalid, the guest uses the MSR */
	wr(f, HV_MSR_REFERENCE_TSC, 0x6000 | HV_REFTSC_ENABLE);
	tsc_page(f, 0x6000, &seq1, &scale, &offset);
	assert_int_equal(seq1, HV_TSC_SEQUENCE_INVALID);
	f->have_tsc = true;
	f->khz = 2000000;
	wr(f, HV_MSR_REFERENCE_TSC, 0x6000 | HV_REFTSC_ENABLE);
	tsc_page(f, 0x6000, &seq1, &scale, &offset);
	wr(f, HV_MSR_REFERENCE_TSC, 0x7000 | HV_REFTSC_ENABLE);
	assert_true(ram_untouched(f, 0x6000));
	tsc_page(f, 0x7000, &seq2, &scale, &offset);
	assert_int_not_equal(seq1, 0);
	assert_int_not_equal(seq2, 0);
	assert_int_not_equal(seq1, seq2);
	wr(f, HV_MSR_REFERENCE_TSC, 0x7000);
	assert_true(ram_untouched(f, 0x7000));
	/* reserved bits and pages outside RAM: #GP */
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_REFERENCE_TSC, 0x6000 | 0x2 | 1), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_REFERENCE_TSC, 0x200000 | 1), -1);
	assert_true(ram_untouched(f, 0x6000));
	assert_int_equal(rd(f, 0, HV_MSR_REFERENCE_TSC), 0);
	test_free(f);
}

/* ------------------------------------------------------------------ SynIC */

#define SYNIC (ALL | HYPERV_F_SYNIC | HYPERV_F_STIMER)
#define SIMP_GPA 0x8000
#define SLOT(sint) (SIMP_GPA + (sint) * HV_MESSAGE_SIZE)

static void wr_v(struct fake *f, unsigned vcpu, uint32_t msr, uint64_t v)
{
	assert_int_equal(hyperv_msr_write(&f->hv, vcpu, msr, v), 0);
}

static uint32_t slot_type(const struct fake *f, unsigned sint)
{
	uint32_t t;

	memcpy(&t, f->ram + SLOT(sint) + HV_MSG_TYPE, 4);
	return t;
}

/* The clock reaches the armed deadline of (vcpu, t), `late` ns after it. */
static void fire(struct fake *f, unsigned vcpu, unsigned t, uint64_t late)
{
	assert_true(f->armed[vcpu][t]);
	f->now = f->deadline[vcpu][t] + late;
	f->armed[vcpu][t] = false;
	hyperv_stimer_expired(&f->hv, vcpu, t);
}

/* SynIC on, message page at SIMP_GPA, SINT2 unmasked at vector 0x40. */
static struct fake *synic_up(void)
{
	struct fake *f = fake_new(SYNIC);

	f->now = 1000000;
	wr_v(f, 0, HV_MSR_SCONTROL, HV_SCONTROL_ENABLE);
	wr_v(f, 0, HV_MSR_SIMP, SIMP_GPA | HV_SYNIC_PAGE_ENABLE);
	wr_v(f, 0, HV_MSR_SINT0 + 2, 0x40);
	return f;
}

static void test_synic_cpuid(void **state)
{
	struct fake *f = fake_new(SYNIC);
	struct hyperv_cpuid c[HV_CPUID_NR];

	(void)state;
	hyperv_cpuid(&f->hv, c);
	assert_int_equal(c[3].eax & 0xc, 0xc);          /* AccessSynicRegs, AccessSyntheticTimerRegs */
	assert_int_equal(c[3].edx, HV_FEAT_STIMER_DIRECT);
	assert_int_equal(c[4].eax, HV_RECOMMEND_NO_AUTO_EOI);
	test_free(f);
}

static void test_synic_msr_rules(void **state)
{
	struct fake *f = fake_new(SYNIC);
	uint64_t v;

	(void)state;
	assert_int_equal(rd(f, 0, HV_MSR_SVERSION), 1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_SVERSION, 2), -1);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(rd(f, 1, HV_MSR_SINT0 + i), HV_SINT_MASKED);
	/* vectors 0-15 only while masked; reserved bits never */
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_SINT0, 15), -1);
	wr(f, HV_MSR_SINT0, HV_SINT_MASKED | 15);
	wr(f, HV_MSR_SINT0, 16);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_SINT0, 0x140), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_SINT0, 0x40 | 1ull << 19), -1);
	assert_int_equal(rd(f, 0, HV_MSR_SINT0), 16);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_SCONTROL, 2), -1);
	assert_int_equal(rd(f, 0, HV_MSR_EOM), 0);
	/* per vCPU */
	assert_int_equal(rd(f, 1, HV_MSR_SINT0), HV_SINT_MASKED);
	/* reserved timer bits, a direct vector below 16 */
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_STIMER0_CONFIG, 1ull << 13), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_STIMER0_CONFIG, 1ull << 20), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_STIMER0_CONFIG,
					  HV_STIMER_ENABLE | HV_STIMER_DIRECT | 8 << 4), -1);
	assert_int_equal(hyperv_msr_read(&f->hv, 0, HV_MSR_STIMER0_CONFIG + 8, &v), -1);
	assert_int_equal(f->errors, 8);
	test_free(f);
}

static void test_synic_pages(void **state)
{
	struct fake *f = fake_new(SYNIC);

	(void)state;
	wr(f, HV_MSR_SIMP, SIMP_GPA | 1);
	wr(f, HV_MSR_SIEFP, 0x9000 | 1);
	for (unsigned i = 0; i < HV_PAGE_SIZE; i++) {
		assert_int_equal(f->ram[SIMP_GPA + i], 0);
		assert_int_equal(f->ram[0x9000 + i], 0);
	}
	wr(f, HV_MSR_SIMP, SIMP_GPA);
	wr(f, HV_MSR_SIEFP, 0);
	assert_true(ram_untouched(f, SIMP_GPA));
	assert_true(ram_untouched(f, 0x9000));
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_SIMP, 0x400000 | 1), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_SIMP, SIMP_GPA | 2 | 1), -1);
	assert_true(ram_untouched(f, SIMP_GPA));
	test_free(f);
}

/* A one-shot timer in message mode: HvMessageTimerExpired in SINT2's
 * slot, SINT2's vector, and the timer disabled after (12.5). */
static void test_stimer_oneshot_message(void **state)
{
	struct fake *f = synic_up();
	uint64_t due = f->now / 100 + 1000, exp, delivery;
	uint32_t index;

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG + 2, HV_STIMER_ENABLE | 2ull << 16); /* STIMER1 */
	wr(f, HV_MSR_STIMER0_COUNT + 2, due);
	assert_true(f->armed[0][1]);
	assert_int_equal(f->deadline[0][1], due * 100);
	fire(f, 0, 1, 500);
	assert_int_equal(slot_type(f, 2), HV_MSG_TIMER_EXPIRED);
	assert_int_equal(f->ram[SLOT(2) + HV_MSG_PAYLOAD_SIZE], 24);
	memcpy(&index, f->ram + SLOT(2) + HV_MSG_PAYLOAD, 4);
	memcpy(&exp, f->ram + SLOT(2) + HV_MSG_PAYLOAD + 8, 8);
	memcpy(&delivery, f->ram + SLOT(2) + HV_MSG_PAYLOAD + 16, 8);
	assert_int_equal(index, 1);
	assert_int_equal(exp, due);
	assert_int_equal(delivery, due + 5);
	assert_int_equal(f->nirq, 1);
	assert_int_equal(f->irq[0].vcpu, 0);
	assert_int_equal(f->irq[0].vector, 0x40);
	assert_int_equal(rd(f, 0, HV_MSR_STIMER0_CONFIG + 2) & HV_STIMER_ENABLE, 0);
	assert_false(f->armed[0][1]);
	assert_int_equal(slot_type(f, 0), 0); /* other slots untouched */
	test_free(f);
}

/* A full slot: MessagePending, no interrupt; the guest frees the slot and
 * writes EOM, and the message follows (11.9.3). */
static void test_stimer_pending_eom(void **state)
{
	struct fake *f = synic_up();
	uint32_t none = 0;

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, 1000);
	fire(f, 0, 0, 0);
	assert_int_equal(f->nirq, 1);
	fire(f, 0, 0, 0);
	assert_int_equal(f->nirq, 1);
	assert_int_equal(f->ram[SLOT(2) + HV_MSG_FLAGS] & HV_MSG_FLAG_PENDING, HV_MSG_FLAG_PENDING);
	/* an EOM with the slot still full changes nothing */
	wr(f, HV_MSR_EOM, 0);
	assert_int_equal(f->nirq, 1);
	memcpy(f->ram + SLOT(2) + HV_MSG_TYPE, &none, 4);
	wr(f, HV_MSR_EOM, 0);
	assert_int_equal(f->nirq, 2);
	assert_int_equal(slot_type(f, 2), HV_MSG_TIMER_EXPIRED);
	assert_int_equal(f->ram[SLOT(2) + HV_MSG_FLAGS], 0);
	assert_int_equal(f->hv.messages, 2);
	test_free(f);
}

/* The guest empties the slot between the model's look at it and its
 * MessagePending, having checked the flag before it was set: it writes no
 * EOM, so the model must see the empty slot itself (11.9.3). */
static void test_stimer_slot_emptied_meanwhile(void **state)
{
	struct fake *f = synic_up();

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, 1000);
	fire(f, 0, 0, 0);
	assert_int_equal(f->nirq, 1);
	f->race_gpa = SLOT(2) + HV_MSG_TYPE;
	fire(f, 0, 0, 0);
	assert_int_equal(f->nirq, 2);
	assert_int_equal(slot_type(f, 2), HV_MSG_TIMER_EXPIRED);
	assert_int_equal(f->ram[SLOT(2) + HV_MSG_FLAGS], 0);
	test_free(f);
}

/* Periods count from the due times, however late each expiry runs; a
 * timer that missed whole periods comes back on the same grid. */
static void test_stimer_periodic_no_drift(void **state)
{
	struct fake *f = synic_up();
	uint64_t start = f->now / 100;

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | HV_STIMER_DIRECT |
	   0x50 << 4);
	wr(f, HV_MSR_STIMER0_COUNT, 1000);
	for (unsigned k = 1; k <= 5; k++) {
		assert_int_equal(f->deadline[0][0], (start + k * 1000) * 100);
		fire(f, 0, 0, 37 * 100);
	}
	assert_int_equal(f->deadline[0][0], (start + 6000) * 100);
	fire(f, 0, 0, 3500 * 100); /* 3.5 periods late */
	assert_int_equal(f->deadline[0][0], (start + 10000) * 100);
	assert_int_equal(f->nirq, 6);
	for (unsigned i = 0; i < f->nirq; i++)
		assert_int_equal(f->irq[i].vector, 0x50);
	test_free(f);
}

/* 12.5.1: AutoEnable turns the timer on with a count; a count of 0 stops
 * it. */
static void test_stimer_auto_enable(void **state)
{
	struct fake *f = synic_up();

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_AUTOENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	assert_false(f->armed[0][0]);
	wr(f, HV_MSR_STIMER0_COUNT, 500);
	assert_int_equal(rd(f, 0, HV_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE, HV_STIMER_ENABLE);
	assert_true(f->armed[0][0]);
	assert_int_equal(f->deadline[0][0], f->now + 500 * 100);
	wr(f, HV_MSR_STIMER0_COUNT, 0);
	assert_int_equal(rd(f, 0, HV_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE, 0);
	assert_false(f->armed[0][0]);
	/* without AutoEnable a count arms nothing */
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_PERIODIC | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, 500);
	assert_false(f->armed[0][0]);
	test_free(f);
}

/* Direct mode: the timer's own vector, no message; a masked SINT gets
 * its message but no interrupt. */
static void test_stimer_direct_and_masked(void **state)
{
	struct fake *f = synic_up();

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_DIRECT | 0x51 << 4 | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, f->now / 100 + 10);
	fire(f, 0, 0, 0);
	assert_int_equal(f->nirq, 1);
	assert_int_equal(f->irq[0].vector, 0x51);
	assert_int_equal(slot_type(f, 2), 0);
	wr(f, HV_MSR_SINT0 + 2, HV_SINT_MASKED | 0x40);
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, f->now / 100 + 10);
	fire(f, 0, 0, 0);
	assert_int_equal(slot_type(f, 2), HV_MSG_TIMER_EXPIRED);
	assert_int_equal(f->nirq, 1);
	/* a one-shot time already past expires at once */
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_DIRECT | 0x52 << 4);
	wr(f, HV_MSR_STIMER0_COUNT, 1);
	assert_true(f->armed[0][0]);
	assert_true(f->deadline[0][0] <= f->now);
	/* the SynIC off: the message waits until it is on again */
	wr(f, HV_MSR_SINT0 + 2, 0x40);
	memset(f->ram + SLOT(2), 0, 4);
	wr(f, HV_MSR_SCONTROL, 0);
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, f->now / 100 + 10);
	fire(f, 0, 0, 0);
	assert_int_equal(slot_type(f, 2), 0);
	assert_int_equal(f->nirq, 1);
	wr(f, HV_MSR_SCONTROL, HV_SCONTROL_ENABLE);
	assert_int_equal(slot_type(f, 2), HV_MSG_TIMER_EXPIRED);
	assert_int_equal(f->nirq, 2);
	test_free(f);
}

/* A direct-mode vector below 16 never reaches the guest, even when the
 * timer gets enabled by AutoEnable rather than by its config write. */
static void test_stimer_low_vector_by_auto_enable(void **state)
{
	struct fake *f = synic_up();

	(void)state;
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_STIMER0_CONFIG,
					  HV_STIMER_AUTOENABLE | HV_STIMER_DIRECT | 8 << 4), -1);
	/* and a config that got in anyway (not enabled) is not sent */
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_DIRECT | 8 << 4);
	wr(f, HV_MSR_STIMER0_CONFIG + 2, HV_STIMER_DIRECT | 9 << 4);
	f->hv.vcpu[0].stimer[1].config |= HV_STIMER_AUTOENABLE; /* as a restore might */
	wr(f, HV_MSR_STIMER0_COUNT + 2, f->now / 100 + 10);
	fire(f, 0, 1, 0);
	assert_int_equal(f->nirq, 0);
	test_free(f);
}

/* ------------------------------------------------------ reset and crash */

static void test_reset_msr(void **state)
{
	struct fake *f = fake_new(ALL | HYPERV_F_RESET);
	struct hyperv_cpuid c[HV_CPUID_NR];
	uint64_t v;

	(void)state;
	hyperv_cpuid(&f->hv, c);
	assert_int_equal(c[3].eax & HV_PRIV_RESET, HV_PRIV_RESET);
	assert_int_equal(rd(f, 0, HV_MSR_RESET), 0);
	wr(f, HV_MSR_RESET, 0);
	assert_int_equal(f->resets, 0);
	wr(f, HV_MSR_RESET, 1);
	assert_int_equal(f->resets, 1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_RESET, 3), -1);
	assert_int_equal(f->resets, 1);
	test_free(f);
	f = fake_new(ALL);
	assert_int_equal(hyperv_msr_read(&f->hv, 0, HV_MSR_RESET, &v), -1);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_RESET, 1), -1);
	assert_int_equal(f->resets, 0);
	test_free(f);
}

static void test_crash_msrs(void **state)
{
	struct fake *f = fake_new(ALL | HYPERV_F_CRASH);
	struct hyperv_cpuid c[HV_CPUID_NR];
	static const char panic[] = "Kernel panic - not syncing: test";

	(void)state;
	hyperv_cpuid(&f->hv, c);
	assert_int_equal(c[3].edx & HV_FEAT_CRASH_MSRS, HV_FEAT_CRASH_MSRS);
	assert_int_equal(rd(f, 0, HV_MSR_CRASH_CTL), HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE);
	for (unsigned i = 0; i < 3; i++)
		wr(f, HV_MSR_CRASH_P0 + i, 0x1000 + i);
	memcpy(f->ram + 0x4000, panic, sizeof(panic) - 1);
	wr(f, HV_MSR_CRASH_P0 + 3, 0x4000);
	wr(f, HV_MSR_CRASH_P0 + 4, sizeof(panic) - 1);
	assert_int_equal(rd(f, 1, HV_MSR_CRASH_P0 + 1), 0x1001);
	wr(f, HV_MSR_CRASH_CTL, 0); /* no notify: nothing */
	assert_int_equal(f->crashes, 0);
	wr(f, HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE);
	assert_int_equal(f->crashes, 1);
	assert_int_equal(f->crash_p[2], 0x1002);
	assert_string_equal(f->crash_msg, panic);
	/* without the message bit, no message */
	wr(f, HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY);
	assert_false(f->crash_has_msg);
	/* a huge length is cut to one page; a message outside RAM is dropped */
	wr(f, HV_MSR_CRASH_P0 + 4, 1ull << 40);
	wr(f, HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE);
	assert_int_equal(f->crash_len, HV_CRASH_MESSAGE_MAX);
	wr(f, HV_MSR_CRASH_P0 + 3, RAM_SIZE - 16);
	wr(f, HV_MSR_CRASH_P0 + 4, 64);
	wr(f, HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY | HV_CRASH_CTL_MESSAGE);
	assert_false(f->crash_has_msg);
	assert_int_equal(f->crashes, 4);
	assert_int_equal(hyperv_msr_write(&f->hv, 0, HV_MSR_CRASH_CTL, 1), -1);
	assert_int_equal(f->errors, 2);
	test_free(f);
}

static void test_synic_reset(void **state)
{
	struct fake *f = synic_up();

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, 1000);
	assert_true(f->armed[0][0]);
	hyperv_reset(&f->hv);
	assert_false(f->armed[0][0]);
	assert_int_equal(rd(f, 0, HV_MSR_SINT0 + 2), HV_SINT_MASKED);
	assert_int_equal(rd(f, 0, HV_MSR_SCONTROL), 0);
	test_free(f);
}

/* Whatever a guest writes, in whatever order, the model neither crashes
 * nor touches memory outside the RAM (the fake refuses it) nor sends a
 * vector below 16: a deterministic stream of random MSR and port accesses
 * and timer expiries over the whole synthetic range, from two vCPUs. */
static void test_random_guest(void **state)
{
	static const uint64_t gpas[] = { 0x3000, 0x8000, 0xf000, 0x10000, 0xfffff000ull,
					 0xfffffffffffff000ull };
	struct fake *f = fake_new(SYNIC);
	uint64_t x = 0x9e3779b97f4a7c15ull, v;

	(void)state;
	for (unsigned i = 0; i < 200000; i++) {
		unsigned vcpu, op;
		uint32_t msr;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		vcpu = (unsigned)(x >> 60) & 1;
		op = (unsigned)(x >> 56) & 7;
		msr = HV_MSR_BASE + (uint32_t)((x >> 8) & 0xff);
		switch (op) {
		case 0:
			hyperv_msr_read(&f->hv, vcpu, msr, &v);
			break;
		case 1: /* a small value: flags, vectors, counts */
			hyperv_msr_write(&f->hv, vcpu, msr, (x >> 20) & 0x1ffff);
			break;
		case 2: /* a page, maybe outside RAM, maybe enabled */
			hyperv_msr_write(&f->hv, vcpu, msr, gpas[(x >> 24) % 6] | ((x >> 30) & 1));
			break;
		case 3:
			hyperv_msr_write(&f->hv, vcpu, msr, x);
			break;
		case 4:
			hyperv_port_write(&f->hv, vcpu, (unsigned)(x >> 12) & 31, (uint32_t)x);
			break;
		case 5:
			hyperv_port_read(&f->hv, vcpu, (unsigned)(x >> 12) & 31, (uint32_t *)&v);
			break;
		default: /* time passes; a timer fires */
			f->now += (x >> 40) & 0xfffff;
			hyperv_stimer_expired(&f->hv, vcpu, (unsigned)(x >> 4) & 3);
			break;
		}
		for (unsigned k = 0; k < f->nirq; k++)
			assert_true(f->irq[k].vector >= 16);
		f->nirq = 0;
	}
	assert_true(f->hv.guest_errors > 0);
	test_free(f);
}


/* A count too large for the clock (a periodic timer's now + count, a
 * one-shot's count past 2^64 ns) is a due time that never comes: never one
 * wrapped round into the past, where the timer would fire without end. */
static void test_stimer_huge_count(void **state)
{
	struct fake *f = synic_up();
	const uint64_t never = UINT64_MAX / 100 * 100;

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, UINT64_MAX - 5);
	assert_int_equal(f->deadline[0][0], never);
	wr(f, HV_MSR_STIMER0_CONFIG + 2, HV_STIMER_ENABLE | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT + 2, UINT64_MAX);
	assert_int_equal(f->deadline[0][1], never);
	test_free(f);
}

/* ---- saved state: check, then commit (README.md, "Saved state") ---- */

/* `from`'s partition state as a loader's scratch copy for `to`: the
 * instance's config and ops, the record's state. */
static struct hyperv *scratch_of(const struct fake *from, struct fake *to)
{
	struct hyperv *s = test_malloc(sizeof(*s));

	*s = from->hv;
	s->ops = &fake_ops;
	s->opaque = to;
	return s;
}

/* A periodic message-mode timer mid-period with its second message
 * waiting for EOM, a one-shot on vCPU 1, the TSC page: committed into a
 * fresh partition whose clock and RAM continue the saved one's, the
 * timers are re-armed at the same absolute due times, the page says
 * invalid until an MSR access computes it from the new TSC, and the
 * pending message is delivered at EOM with its own ExpirationTime. */
static void test_state_commit(void **state)
{
	struct fake *f = synic_up(), *g = fake_new(SYNIC);
	char field[64];
	const char *why = NULL;
	uint32_t seq, none = 0;
	uint64_t exp;

	(void)state;
	f->have_tsc = true;
	f->tsc = 5000000;
	f->khz = 1000000;
	wr(f, HV_MSR_REFERENCE_TSC, 0x3000 | HV_REFTSC_ENABLE);
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, 1000);
	wr_v(f, 1, HV_MSR_STIMER0_CONFIG + 2, HV_STIMER_ENABLE | HV_STIMER_DIRECT | 0x60 << 4);
	wr_v(f, 1, HV_MSR_STIMER0_COUNT + 2, f->now / 100 + 7777);
	fire(f, 0, 0, 0);
	fire(f, 0, 0, 0);
	assert_true(f->hv.vcpu[0].stimer[0].msg_pending);
	f->now += 40000;
	memcpy(g->ram, f->ram, RAM_SIZE);
	g->now = f->now;
	struct hyperv *s = scratch_of(f, g);
	assert_int_equal(hyperv_state_check(s, 2, field, sizeof(field), &why), 0);
	hyperv_state_commit(&g->hv, s);
	test_free(s);
	assert_true(g->armed[0][0] && g->armed[1][1]);
	assert_int_equal(g->deadline[0][0], f->deadline[0][0]);
	assert_int_equal(g->deadline[1][1], f->deadline[1][1]);
	memcpy(&seq, g->ram + 0x3000, 4);
	assert_int_equal(seq, 0);
	g->have_tsc = true;
	g->tsc = 123456789;
	g->khz = 2000000;
	(void)rd(g, 0, HV_MSR_TIME_REF_COUNT);
	memcpy(&seq, g->ram + 0x3000, 4);
	assert_true(seq != 0 && seq != f->hv.tsc_sequence);
	uint64_t scale;
	int64_t offset;
	memcpy(&scale, g->ram + 0x3000 + HV_TSC_PAGE_SCALE, 8);
	memcpy(&offset, g->ram + 0x3000 + HV_TSC_PAGE_OFFSET, 8);
	assert_int_equal(hyperv_tsc_page_time(g->tsc, scale, offset), g->now / 100);
	/* the message waiting in f is the one g delivers at EOM */
	memcpy(g->ram + SLOT(2), &none, 4);
	wr_v(g, 0, HV_MSR_EOM, 0);
	assert_int_equal(slot_type(g, 2), HV_MSG_TIMER_EXPIRED);
	memcpy(&exp, g->ram + SLOT(2) + HV_MSG_PAYLOAD + 8, 8);
	assert_int_equal(exp, f->hv.vcpu[0].stimer[0].msg_expiration);
	assert_int_equal(g->irq[g->nirq - 1].vector, 0x40);
	test_free(f);
	test_free(g);
}

/* What no running partition holds: refused, naming the record's field. */
static void test_state_check_refuses(void **state)
{
	struct fake *f = synic_up(), *g = fake_new(SYNIC);
	char field[64];
	const char *why = NULL;
	struct hyperv *s;

	(void)state;
	wr(f, HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wr(f, HV_MSR_STIMER0_COUNT, 1000);
	memcpy(g->ram, f->ram, RAM_SIZE);
	g->now = f->now;
	s = scratch_of(f, g);
	s->vcpu[0].sint[3] = 0x0f;
	assert_int_equal(hyperv_state_check(s, 1, field, sizeof(field), &why), -1);
	assert_string_equal(field, "v0.sint3");
	test_free(s);
	s = scratch_of(f, g);
	s->vcpu[0].simp = (RAM_SIZE + 0x1000) | HV_SYNIC_PAGE_ENABLE;
	assert_int_equal(hyperv_state_check(s, 1, field, sizeof(field), &why), -1);
	assert_string_equal(field, "v0.simp");
	test_free(s);
	s = scratch_of(f, g);
	s->vcpu[0].stimer[0].count = 0;
	assert_int_equal(hyperv_state_check(s, 1, field, sizeof(field), &why), -1);
	assert_string_equal(field, "v0.stimer0.count");
	test_free(s);
	s = scratch_of(f, g);
	s->vcpu[0].stimer[0].expiration += 1001; /* past one period ahead */
	assert_int_equal(hyperv_state_check(s, 1, field, sizeof(field), &why), -1);
	assert_string_equal(field, "v0.stimer0.deadline-ns");
	test_free(s);
	/* a vCPU past the count checked is not looked at */
	s = scratch_of(f, g);
	s->vcpu[1].sint[0] = 0x01;
	assert_int_equal(hyperv_state_check(s, 1, field, sizeof(field), &why), 0);
	assert_int_equal(hyperv_state_check(s, 2, field, sizeof(field), &why), -1);
	assert_string_equal(field, "v1.sint0");
	test_free(s);
	/* nothing of g changed by the checks */
	assert_false(g->armed[0][0]);
	test_free(f);
	test_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_identity),
		cmocka_unit_test(test_cpuid_per_switch),
		cmocka_unit_test(test_cpuid_kernel_filter),
		cmocka_unit_test(test_msrs_not_offered),
		cmocka_unit_test(test_read_only_msrs),
		cmocka_unit_test(test_time_ref_count),
		cmocka_unit_test(test_hypercall_needs_guest_os_id),
		cmocka_unit_test(test_hypercall_page_contents),
		cmocka_unit_test(test_hypercall_guest_os_id_cleared),
		cmocka_unit_test(test_hypercall_bad_values),
		cmocka_unit_test(test_hypercall_locked),
		cmocka_unit_test(test_hypercalls),
		cmocka_unit_test(test_hypercall_page_x64_runs),
		cmocka_unit_test(test_tsc_page_formula),
		cmocka_unit_test(test_time_ref_count_follows_a_valid_page),
		cmocka_unit_test(test_tsc_page_sequence_and_overlay),
		cmocka_unit_test(test_synic_cpuid),
		cmocka_unit_test(test_synic_msr_rules),
		cmocka_unit_test(test_synic_pages),
		cmocka_unit_test(test_stimer_oneshot_message),
		cmocka_unit_test(test_stimer_pending_eom),
		cmocka_unit_test(test_stimer_slot_emptied_meanwhile),
		cmocka_unit_test(test_stimer_periodic_no_drift),
		cmocka_unit_test(test_stimer_auto_enable),
		cmocka_unit_test(test_stimer_direct_and_masked),
		cmocka_unit_test(test_stimer_low_vector_by_auto_enable),
		cmocka_unit_test(test_reset_msr),
		cmocka_unit_test(test_crash_msrs),
		cmocka_unit_test(test_synic_reset),
		cmocka_unit_test(test_random_guest),
		cmocka_unit_test(test_stimer_huge_count),
		cmocka_unit_test(test_state_commit),
		cmocka_unit_test(test_state_check_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
