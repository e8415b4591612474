/* tests/guests/hyperv.c - the hyperv plugin (emulated) seen from a guest:
 * CPUID 0x40000000 says "Microsoft Hv" with KVM's leaves at 0x40000100,
 * the guest OS ID and the hypercall page (a call through it, registers
 * preserved, the RAM underneath back after disabling), VP index and
 * runtime, TIME_REF_COUNT read twice (monotonic) and refusing a write
 * (#GP), and the reference TSC page agreeing with TIME_REF_COUNT within a
 * bound taken from the readings themselves; then the SynIC: a one-shot
 * message-mode timer (HvMessageTimerExpired in SINT2's slot, SINT2's
 * vector through the local APIC) and a periodic direct-mode timer (its own
 * vector, three times).  Each step prints one line;
 * the last is "HYPERV-DONE", then exit 0x21.  With kernel=1 (the VMM in
 * mode = "kernel") the hypercall page is not an overlay; with seq0=1 a TSC
 * page the host keeps invalid (sequence 0) is accepted and said.  Section numbers: Hyper-V
 * TLFS v6.0b. */
#include "hyperv-guest.h"

#define PATTERN			0x5a

static uint8_t hypercall_page[4096] __attribute__((aligned(4096)));
static uint8_t tsc_page[4096] __attribute__((aligned(4096)));
static uint8_t simp_page[4096] __attribute__((aligned(4096)));
static volatile uint32_t sint_irqs, direct_irqs;
static uint32_t hypercall_entry; /* every general register is an argument */
/* kernel=1 on the command line: the VMM runs mode = "kernel" (KVM's Hyper-V);
 * seq0=1: the host may keep the TSC page invalid (an unstable host TSC) */
static int kernel_mode, seq0_ok;

/* 3.7, x86: EDX:EAX the input value, EBX:ECX the input GPA, EDI:ESI the
 * output GPA; the result comes back in EDX:EAX, every other register as
 * it was. */
static uint64_t hypercall(uint32_t code)
{
	uint32_t lo = code, hi = 0, b = 0x11111111, c = 0x22222222, si = 0x33333333,
		 di = 0x44444444;

	hypercall_entry = (uint32_t)hypercall_page;
	__asm__ volatile("call *%6"
			 : "+a"(lo), "+d"(hi), "+b"(b), "+c"(c), "+S"(si), "+D"(di)
			 : "m"(hypercall_entry)
			 : "memory", "cc");
	if (b != 0x11111111 || c != 0x22222222 || si != 0x33333333 || di != 0x44444444)
		fail("hyperv: the hypercall page clobbered a register");
	return (uint64_t)hi << 32 | lo;
}

static void check_cpuid(void)
{
	uint32_t r[4];

	cpuid(0x40000000, r);
	if (r[1] != 0x7263694d || r[2] != 0x666f736f || r[3] != 0x76482074)
		fail("hyperv: CPUID 0x40000000 is not \"Microsoft Hv\"");
	if (r[0] < 0x40000005)
		fail("hyperv: CPUID 0x40000000 EAX below 0x40000005");
	uart_puts("hyperv: cpuid Microsoft Hv, max ");
	put_hex(r[0]);
	uart_putc('\n');
	cpuid(0x40000001, r);
	if (r[0] != 0x31237648)
		fail("hyperv: CPUID 0x40000001 is not Hv#1");
	cpuid(0x40000003, r);
	/* AccessPartitionReferenceCounter, AccessHypercallMsrs, AccessVpIndex,
	 * AccessPartitionReferenceTsc (HV_PARTITION_PRIVILEGE_MASK) */
	if ((r[0] & 0x262) != 0x262)
		fail("hyperv: CPUID 0x40000003 lacks a privilege");
	cpuid(0x40000100, r);
	if (r[1] != 0x4b4d564b) /* "KVMK" */
		fail("hyperv: KVM's leaves are not at 0x40000100");
	uart_puts("hyperv: Hv#1, privileges ok, KVM at 0x40000100\n");
}

static void check_hypercall(void)
{
	uint64_t r;

	for (unsigned i = 0; i < sizeof(hypercall_page); i++)
		hypercall_page[i] = PATTERN;
	wrmsr(HV_MSR_HYPERCALL, (uint32_t)hypercall_page | 1);
	if (rdmsr(HV_MSR_HYPERCALL) & 1)
		fail("hyperv: hypercall page enabled before the guest OS ID");
	wrmsr(HV_MSR_GUEST_OS_ID, (uint64_t)OS_ID_HI << 32 | 0x00060001);
	if ((rdmsr(HV_MSR_GUEST_OS_ID) >> 32) != OS_ID_HI)
		fail("hyperv: guest OS ID does not read back");
	wrmsr(HV_MSR_HYPERCALL, (uint32_t)hypercall_page | 1);
	if (!(rdmsr(HV_MSR_HYPERCALL) & 1) || hypercall_page[0] == PATTERN)
		fail("hyperv: hypercall page not enabled");
	r = hypercall(CALL_NOTIFY_LONG_SPIN_WAIT);
	if (r != 0)
		fail("hyperv: HvCallNotifyLongSpinWait did not succeed");
	r = hypercall(0xffff);
	if ((uint16_t)r != 2)
		fail("hyperv: an unknown call code is not HV_STATUS_INVALID_HYPERCALL_CODE");
	wrmsr(HV_MSR_HYPERCALL, (uint32_t)hypercall_page);
	/* kernel=1: KVM writes its page into the RAM and leaves it there
	 * (no overlay, TLFS 5.2.1), so there is nothing to give back. */
	if (!kernel_mode && (hypercall_page[0] != PATTERN || hypercall_page[4095] != PATTERN))
		fail("hyperv: RAM under the hypercall page not given back");
	uart_puts("hyperv: hypercall page ok (status 0, then 2)\n");
}

static void check_msrs(void)
{
	uint64_t t1, t2;

	if (rdmsr(HV_MSR_VP_INDEX) != 0)
		fail("hyperv: VP index of the boot vCPU is not 0");
	if (rdmsr(HV_MSR_VP_RUNTIME) == 0)
		fail("hyperv: VP runtime is 0");
	t1 = rdmsr(HV_MSR_TIME_REF_COUNT);
	t2 = rdmsr(HV_MSR_TIME_REF_COUNT);
	if (t1 == 0 || t2 < t1)
		fail("hyperv: TIME_REF_COUNT is 0 or went backwards");
	uart_puts("hyperv: time ref count ");
	put_hex64(t1);
	uart_puts(" then ");
	put_hex64(t2);
	uart_putc('\n');
	wrmsr(HV_MSR_TIME_REF_COUNT, 5);
	wrmsr(HV_MSR_VP_INDEX, 5);
	if (gp_count != 2)
		fail("hyperv: writing a read-only MSR did not #GP");
	uart_puts("hyperv: read-only MSRs #GP\n");
}

static void check_tsc_page(void)
{
	volatile uint32_t *seqp = (volatile uint32_t *)tsc_page;
	uint32_t seq;
	uint64_t scale, r1, r2, p, slack;
	int64_t offset;

	wrmsr(HV_MSR_REFERENCE_TSC, (uint32_t)tsc_page | 1);
	/* 12.7.3.2: read the fields between two equal, valid sequences. */
	do {
		seq = *seqp;
		if (seq == 0 && seq0_ok) {
			/* KVM, and the plugin after it, keep the page invalid
			 * while the guest TSC is not a stable clock (no
			 * master clock, e.g. under the emulated L1 of the
			 * nested host): 12.7.3.2, the guest then reads the
			 * MSR. */
			uart_puts("hyperv: TSC page invalid (sequence 0): TIME_REF_COUNT serves\n");
			return;
		}
		if (seq == 0)
			fail("hyperv: TSC page invalid (sequence 0)");
		scale = *(volatile uint64_t *)(tsc_page + 8);
		offset = *(volatile int64_t *)(tsc_page + 16);
		r1 = rdmsr(HV_MSR_TIME_REF_COUNT);
		p = mul_hi64(rdtsc(), scale) + (uint64_t)offset;
		r2 = rdmsr(HV_MSR_TIME_REF_COUNT);
	} while (*seqp != seq);
	uart_puts("hyperv: msr ");
	put_hex64(r1);
	uart_puts(" page ");
	put_hex64(p);
	uart_puts(" msr ");
	put_hex64(r2);
	uart_putc('\n');
	/* The page's reading lies between the two MSR readings, give or
	 * take the width of that window again: the page was anchored to the
	 * clock to within one such exit. */
	slack = r2 - r1 + 1;
	if (p + slack < r1 || p > r2 + slack)
		fail("hyperv: TSC page and TIME_REF_COUNT disagree");
	uart_puts("hyperv: TSC page agrees with TIME_REF_COUNT\n");
}

static void sint_irq(unsigned vector)
{
	(void)vector;
	sint_irqs++;
	lapic_write(LAPIC_EOI, 0);
}

static void direct_irq(unsigned vector)
{
	(void)vector;
	direct_irqs++;
	lapic_write(LAPIC_EOI, 0);
}

static void check_synic(void)
{
	volatile uint8_t *slot = simp_page + 2 * 256;
	uint32_t type, index;
	uint64_t due, exp;

	if (!lapic_present())
		fail("hyperv: no local APIC for the SynIC");
	lapic_enable(0);
	set_handler(VEC_SINT, sint_irq);
	set_handler(VEC_DIRECT, direct_irq);
	wrmsr(HV_MSR_SCONTROL, 1);
	wrmsr(HV_MSR_SIMP, (uint32_t)simp_page | 1);
	wrmsr(HV_MSR_SINT2, VEC_SINT);
	/* STIMER0: one-shot, message to SINT2, 1 ms from now */
	due = rdmsr(HV_MSR_TIME_REF_COUNT) + 10000;
	wrmsr(HV_MSR_STIMER0_CONFIG, STIMER_ENABLE | 2u << 16);
	wrmsr(HV_MSR_STIMER0_COUNT, due);
	while (!sint_irqs)
		irq_wait();
	type = *(volatile uint32_t *)slot;
	index = *(volatile uint32_t *)(slot + 16);
	exp = *(volatile uint64_t *)(slot + 24);
	if (type != MSG_TIMER_EXPIRED || index != 0 || exp != due)
		fail("hyperv: no HvMessageTimerExpired for STIMER0 in SINT2's slot");
	if (rdmsr(HV_MSR_STIMER0_CONFIG) & STIMER_ENABLE)
		fail("hyperv: the one-shot STIMER0 is still enabled");
	*(volatile uint32_t *)slot = 0;
	wrmsr(HV_MSR_EOM, 0);
	uart_puts("hyperv: stimer0 message ok\n");
	/* STIMER1: periodic, direct mode, every 1 ms */
	wrmsr(HV_MSR_STIMER1_CONFIG, STIMER_ENABLE | STIMER_PERIODIC | STIMER_DIRECT | VEC_DIRECT << 4);
	wrmsr(HV_MSR_STIMER1_COUNT, 10000);
	while (direct_irqs < 3)
		irq_wait();
	wrmsr(HV_MSR_STIMER1_CONFIG, 0);
	if (sint_irqs != 1)
		fail("hyperv: the one-shot timer's SINT came again");
	uart_puts("hyperv: stimer1 direct ok\n");
}

static void put_cycles(const char *what, uint64_t c)
{
	uart_puts(what);
	if (c >> 32)
		fail("hyperv-bench: more than 2^32 cycles; use a smaller bench=N");
	put_dec((uint32_t)c);
}

/*
 * bench=N on the command line (bench/hyperv.sh): N reference counter reads
 * by MSR and by the TSC page, and N synthetic timer interrupts (a one-shot
 * direct-mode STIMER1 already due when armed: the wrmsr to the handler),
 * each timed with the guest's TSC.
 */
static void bench(uint32_t n)
{
	uint64_t t0, t1, t2, t3;

	t0 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		rdmsr(HV_MSR_TIME_REF_COUNT);
	t1 = rdtsc();
	for (uint32_t i = 0; i < n; i++)
		hv_tsc_page_time(tsc_page);
	t2 = rdtsc();
	direct_irqs = 0;
	/* As Linux arms its clock event (hv_ce_set_next_event): auto-enable
	 * set once, then each COUNT write starts the one-shot timer, here
	 * already due (12.5.1). */
	wrmsr(HV_MSR_STIMER1_CONFIG, STIMER_AUTOENABLE | STIMER_DIRECT | VEC_DIRECT << 4);
	for (uint32_t i = 0; i < n; i++) {
		wrmsr(HV_MSR_STIMER1_COUNT, 1);
		while (direct_irqs <= i)
			irq_wait();
	}
	wrmsr(HV_MSR_STIMER1_CONFIG, 0);
	t3 = rdtsc();
	put_cycles("hyperv-bench: n=", n);
	put_cycles(" msr_cycles=", t1 - t0);
	put_cycles(" page_cycles=", t2 - t1);
	put_cycles(" stimer_cycles=", t3 - t2);
	uart_putc('\n');
}

void guest_main(uint32_t start_info)
{
	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	idt_load();
	idt_set_entry(13, gp_skip_msr);
	kernel_mode = cmdline_uint(start_info, "kernel", 0) != 0;
	seq0_ok = cmdline_uint(start_info, "seq0", 0) != 0;
	check_cpuid();
	check_hypercall();
	check_msrs();
	check_tsc_page();
	check_synic();
	if (cmdline_uint(start_info, "bench", 0))
		bench(cmdline_uint(start_info, "bench", 0));
	uart_puts("HYPERV-DONE\n");
	if (cmdline_uint(start_info, "crash", 0)) {
		/* crash=1: report a crash through the crash MSRs; the VMM
		 * logs it and ends the run as a crash */
		static const char msg[] = "hyperv.elf crash test";

		for (uint32_t i = 0; i < 3; i++)
			wrmsr(HV_MSR_CRASH_P0 + i, 0x100 + i);
		wrmsr(HV_MSR_CRASH_P0 + 3, (uint32_t)msg);
		wrmsr(HV_MSR_CRASH_P0 + 4, sizeof(msg) - 1);
		wrmsr(HV_MSR_CRASH_CTL, (uint64_t)(CRASH_NOTIFY_HI | CRASH_MESSAGE_HI) << 32);
		fail("hyperv: still running after the crash report");
	}
	guest_exit(EXIT_OK);
}
