/* tests/guests/hyperv-smp.c - the hyperv plugin with two vCPUs (kernel
 * irqchip): the BSP enables the reference TSC page and starts the AP
 * (INIT, SIPI, SIPI through smp-tramp.S, waits timed by TIME_REF_COUNT);
 * the AP reads VP_INDEX (1), reads the BSP's TSC page between two
 * TIME_REF_COUNT readings (one page serves every vCPU, TLFS 12.7), and arms
 * its own SynIC and a one-shot message-mode STIMER0, whose SINT must reach
 * the AP's local APIC and not the BSP's.  Prints "hyperv-smp: ..." lines,
 * "HYPERV-SMP-DONE", then exit 0x21. */
#include "hyperv-guest.h"

#define TRAMP_ADDR	0x8000u
#define MS		10000u	/* reference time units per millisecond */

extern char tramp_start[], tramp_end[];
void ap_main(void) __attribute__((noreturn));

uint32_t ap_stack_top;			/* read by smp-tramp.S */
static uint8_t ap_stack[4096] __attribute__((aligned(16)));
static uint8_t tsc_page[4096] __attribute__((aligned(4096)));
static uint8_t ap_simp[4096] __attribute__((aligned(4096)));
static volatile uint32_t ap_alive, ap_vp_index, sint_on[2], sint_elsewhere;
static volatile uint64_t ap_r1, ap_page, ap_r2, ap_due;

static void sint_irq(unsigned vector)
{
	unsigned id = lapic_id();

	(void)vector;
	if (id > 1)
		sint_elsewhere++;
	else
		sint_on[id]++;
	lapic_write(LAPIC_EOI, 0);
}

static void wait_ref(uint64_t units)
{
	uint64_t end = rdmsr(HV_MSR_TIME_REF_COUNT) + units;

	while (rdmsr(HV_MSR_TIME_REF_COUNT) < end)
		;
}

void ap_main(void)
{
	idt_load();
	lapic_enable(0);
	ap_vp_index = (uint32_t)rdmsr(HV_MSR_VP_INDEX);
	ap_r1 = rdmsr(HV_MSR_TIME_REF_COUNT);
	ap_page = hv_tsc_page_time(tsc_page);
	ap_r2 = rdmsr(HV_MSR_TIME_REF_COUNT);
	/* this vCPU's own SynIC: SINT2 for STIMER0's message, 1 ms on */
	wrmsr(HV_MSR_SCONTROL, 1);
	wrmsr(HV_MSR_SIMP, (uint32_t)ap_simp | 1);
	wrmsr(HV_MSR_SINT2, VEC_SINT);
	ap_due = rdmsr(HV_MSR_TIME_REF_COUNT) + MS;
	wrmsr(HV_MSR_STIMER0_CONFIG, STIMER_ENABLE | 2u << 16);
	wrmsr(HV_MSR_STIMER0_COUNT, ap_due);
	ap_alive = 1;
	for (;;)
		irq_wait();
}

void guest_main(uint32_t start_info)
{
	volatile uint8_t *slot = ap_simp + 2 * 256;
	uint64_t slack;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	idt_load();
	set_handler(VEC_SINT, sint_irq);
	if (!lapic_present())
		fail("hyperv-smp: no local APIC");
	lapic_enable(0);
	if (rdmsr(HV_MSR_VP_INDEX) != 0)
		fail("hyperv-smp: the BSP's VP index is not 0");
	wrmsr(HV_MSR_REFERENCE_TSC, (uint32_t)tsc_page | 1);

	for (uint32_t i = 0; i < (uint32_t)(tramp_end - tramp_start); i++)
		((volatile char *)TRAMP_ADDR)[i] = tramp_start[i];
	ap_stack_top = (uint32_t)(ap_stack + sizeof(ap_stack));
	lapic_icr_send(1, 0x00004500);		/* INIT */
	wait_ref(10 * MS);
	for (int n = 0; n < 2 && !ap_alive; n++) {
		lapic_icr_send(1, 0x00004600 | (TRAMP_ADDR >> 12));	/* start-up */
		wait_ref(MS);
	}
	/* bounded: a missing AP or SINT ends in a message, not a hang */
	for (int n = 0; n < 5000 && (!ap_alive || !sint_on[1]); n++)
		wait_ref(MS);
	if (!ap_alive)
		fail("hyperv-smp: the AP did not start");
	uart_puts("hyperv-smp: cpu1 up, VP index ");
	put_dec(ap_vp_index);
	uart_putc('\n');
	if (ap_vp_index != 1)
		fail("hyperv-smp: the AP's VP index is not 1");
	uart_puts("hyperv-smp: cpu1 msr ");
	put_hex64(ap_r1);
	uart_puts(" page ");
	put_hex64(ap_page);
	uart_puts(" msr ");
	put_hex64(ap_r2);
	uart_putc('\n');
	slack = ap_r2 - ap_r1 + 1;
	if (ap_page == 0 || ap_page + slack < ap_r1 || ap_page > ap_r2 + slack)
		fail("hyperv-smp: the TSC page disagrees with TIME_REF_COUNT on cpu1");
	if (sint_on[1] != 1 || sint_on[0] || sint_elsewhere)
		fail("hyperv-smp: cpu1's SINT did not reach cpu1 alone, once");
	if (*(volatile uint32_t *)slot != MSG_TIMER_EXPIRED ||
	    *(volatile uint64_t *)(slot + 24) != ap_due)
		fail("hyperv-smp: no timer message in cpu1's SIMP");
	uart_puts("hyperv-smp: cpu1 TSC page ok, its STIMER0 message and SINT on cpu1\n");
	uart_puts("HYPERV-SMP-DONE\n");
	guest_exit(EXIT_OK);
}
