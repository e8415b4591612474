/* tests/unit/test_hyperv_plugin.c - the real hyperv.so through the harness:
 * the CPUID leaves it gives the host, its properties, the hypercall port,
 * the reference TSC page against the harness's TSC, and the SynIC's
 * timers on the stepped virtual clock, their SINTs as MSIs (Hyper-V TLFS
 * v6.0b section numbers). */
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

#include <vmm/harness.h>
#include "core/state.h"
#include "devices/hyperv/hyperv.h"
#include "device-fixture.h"

#define RAM (1u << 20)
#define PORT 0xe00
#define SIMP_GPA 0x20000
#define SLOT2 (SIMP_GPA + 2 * HV_MESSAGE_SIZE)
#define MS 1000000ull

static struct vmm_harness_dev *create(enum vmm_irq_mode mode, const char *const *props)
{
	fixture_setup((void **)&F, mode, NULL, NULL);
	assert_int_equal(vmm_harness_set_ram(F->h, RAM), 0);
	return vmm_harness_create_device(F->h, "hyperv", "hv", props);
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static uint64_t msr(uint32_t index)
{
	uint64_t v = 0;

	assert_int_equal(vmm_harness_msr_read(F->h, index, &v), 0);
	return v;
}

static void wrmsr(uint32_t index, uint64_t v)
{
	assert_int_equal(vmm_harness_msr_write(F->h, index, v), 0);
}

static uint8_t *ram(void)
{
	return vmm_harness_ram(F->h, NULL);
}

static void test_cpuid_given_to_host(void **state)
{
	struct vmm_cpuid_leaf l;

	(void)state;
	assert_non_null(create(VMM_IRQ_KERNEL, NULL));
	assert_int_equal(vmm_harness_cpuid(F->h, 0x40000000, 0, &l), 0);
	assert_int_equal(l.eax, 0x40000006);
	assert_memory_equal(&l.ebx, "Micr", 4);
	assert_memory_equal(&l.ecx, "osof", 4);
	assert_memory_equal(&l.edx, "t Hv", 4);
	assert_int_equal(vmm_harness_cpuid(F->h, 0x40000001, 0, &l), 0);
	assert_int_equal(l.eax, HV_INTERFACE_HV1);
	assert_int_equal(vmm_harness_cpuid(F->h, 0x40000003, 0, &l), 0);
	assert_int_equal(l.eax, 0x263); /* defaults: all but the SynIC and timers */
	assert_int_equal(vmm_harness_cpuid(F->h, 0x40000007, 0, &l), -ENOENT);
	/* the whole synthetic range is the plugin's: SynIC off, #GP */
	uint64_t v;
	assert_int_equal(vmm_harness_msr_read(F->h, HV_MSR_SCONTROL, &v), -EIO);
}

static void test_switches(void **state)
{
	static const char *const props[] = { "hv-time=false", "hv-reftsc=false", "hv-runtime=false",
					     NULL };
	struct vmm_cpuid_leaf l;
	uint64_t v;

	(void)state;
	assert_non_null(create(VMM_IRQ_KERNEL, props));
	assert_int_equal(vmm_harness_cpuid(F->h, 0x40000003, 0, &l), 0);
	assert_int_equal(l.eax, HV_PRIV_HYPERCALL | HV_PRIV_VP_INDEX);
	assert_int_equal(vmm_harness_msr_read(F->h, HV_MSR_TIME_REF_COUNT, &v), -EIO);
	assert_int_equal(vmm_harness_msr_read(F->h, HV_MSR_VP_RUNTIME, &v), -EIO);
	assert_int_equal(msr(HV_MSR_VP_INDEX), 0);
}

/* Configurations the plugin refuses, each with one line. */
static void test_refused_configs(void **state)
{
	static const char *const reftsc[] = { "hv-time=false", NULL };
	static const char *const synic[] = { "hv-synic=true", NULL };
	static const char *const stimer[] = { "hv-stimer=true", NULL };
	static const char *const kernel[] = { "mode=kernel", NULL };

	(void)state;
	assert_null(create(VMM_IRQ_KERNEL, reftsc));
	fixture_teardown(state);
	assert_null(create(VMM_IRQ_EMULATED, synic)); /* no local APIC for SINTs */
	fixture_teardown(state);
	assert_null(create(VMM_IRQ_KERNEL, stimer));   /* timers without the SynIC */
	fixture_teardown(state);
	assert_null(create(VMM_IRQ_KERNEL, kernel));   /* the harness has no in-kernel Hyper-V */
}

/* kvm-leaves = false: zeroed leaves at 0x40000100-0x40000101 hide the
 * hypervisor's own (moved there), so that Linux picks Hyper-V. */
static void test_kvm_leaves_hidden(void **state)
{
	static const char *const hide[] = { "kvm-leaves=false", NULL };
	struct vmm_cpuid_leaf l;

	(void)state;
	assert_non_null(create(VMM_IRQ_KERNEL, NULL));
	assert_int_equal(vmm_harness_cpuid(F->h, 0x40000100, 0, &l), -ENOENT);
	fixture_teardown(state);
	assert_non_null(create(VMM_IRQ_KERNEL, hide));
	for (uint32_t f = 0x40000100; f <= 0x40000101; f++) {
		assert_int_equal(vmm_harness_cpuid(F->h, f, 0, &l), 0);
		assert_true(l.eax == 0 && l.ebx == 0 && l.ecx == 0 && l.edx == 0);
	}
	assert_int_equal(vmm_harness_cpuid(F->h, 0x40000102, 0, &l), -ENOENT);
}

static void port_call(uint64_t control, uint32_t *lo, uint32_t *hi)
{
	vmm_harness_pio_write(F->h, PORT + HV_PORT_CTL_LO, 4, (uint32_t)control);
	vmm_harness_pio_write(F->h, PORT + HV_PORT_CTL_HI, 4, (uint32_t)(control >> 32));
	vmm_harness_pio_write(F->h, PORT + HV_PORT_GO, 4, 0);
	*lo = (uint32_t)vmm_harness_pio_read(F->h, PORT + HV_PORT_GO, 4);
	*hi = (uint32_t)vmm_harness_pio_read(F->h, PORT + HV_PORT_RES_HI, 4);
}

static void test_hypercall_port(void **state)
{
	uint8_t code[HV_PAGE_SIZE];
	uint32_t lo, hi;

	(void)state;
	assert_non_null(create(VMM_IRQ_KERNEL, NULL));
	wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000000000000ull);
	wrmsr(HV_MSR_HYPERCALL, 0x10000 | HV_HYPERCALL_ENABLE);
	hyperv_hypercall_code(PORT, code);
	assert_memory_equal(ram() + 0x10000, code, HV_PAGE_SIZE);
	port_call(HV_CALL_NOTIFY_LONG_SPIN_WAIT, &lo, &hi);
	assert_int_equal(lo, HV_STATUS_SUCCESS);
	assert_int_equal(hi, 0);
	port_call(0x77, &lo, &hi);
	assert_int_equal(lo, HV_STATUS_INVALID_HYPERCALL_CODE);
	/* a 1-byte access is not the page's: refused by the bus */
	vmm_harness_pio_write(F->h, PORT + HV_PORT_GO, 1, 0);
}

/* 12.7: the page's reading of the harness TSC is the reference counter,
 * at the sample and 1.5 s of TSC later. */
static void test_tsc_page(void **state)
{
	uint32_t seq;
	uint64_t scale, tsc;
	int64_t offset;

	(void)state;
	assert_non_null(create(VMM_IRQ_KERNEL, NULL));
	vmm_harness_set_tsc(F->h, 2893301, 987654321ull);
	vmm_harness_clock_step(F->h, 3 * MS + 17);
	wrmsr(HV_MSR_REFERENCE_TSC, 0x30000 | HV_REFTSC_ENABLE);
	memcpy(&seq, ram() + 0x30000 + HV_TSC_PAGE_SEQUENCE, 4);
	memcpy(&scale, ram() + 0x30000 + HV_TSC_PAGE_SCALE, 8);
	memcpy(&offset, ram() + 0x30000 + HV_TSC_PAGE_OFFSET, 8);
	assert_int_not_equal(seq, 0);
	vmm_harness_clock_step(F->h, 1500 * MS);
	tsc = 987654321ull + (uint64_t)((unsigned __int128)vmm_harness_clock_ns(F->h) * 2893301 / 1000000);
	uint64_t t = hyperv_tsc_page_time(tsc, scale, offset);
	uint64_t r = msr(HV_MSR_TIME_REF_COUNT);
	assert_true(t + 1 >= r && t <= r + 1);
}

/* SynIC on, message page at SIMP_GPA, SINT2 at vector 0x40. */
static void synic_up(void)
{
	static const char *const props[] = { "hv-synic=true", "hv-stimer=true", NULL };

	assert_non_null(create(VMM_IRQ_SPLIT, props));
	wrmsr(HV_MSR_SCONTROL, HV_SCONTROL_ENABLE);
	wrmsr(HV_MSR_SIMP, SIMP_GPA | HV_SYNIC_PAGE_ENABLE);
	wrmsr(HV_MSR_SINT0 + 2, 0x40);
}

static void expect_msi(size_t i, uint32_t vector)
{
	uint64_t addr;
	uint32_t data;

	assert_int_equal(vmm_harness_msi_get(F->h, i, &addr, &data), 0);
	assert_int_equal(addr, 0xfee00000u); /* vCPU 0's local APIC */
	assert_int_equal(data, vector);
}

static uint32_t slot2_type(void)
{
	uint32_t t;

	memcpy(&t, ram() + SLOT2, 4);
	return t;
}

/* A periodic message-mode timer on the virtual clock: one message, then
 * MessagePending while the slot is full, the next after EOM (11.9.3). */
static void test_stimer_messages(void **state)
{
	uint32_t none = 0;

	(void)state;
	synic_up();
	wrmsr(HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wrmsr(HV_MSR_STIMER0_COUNT, 10000); /* 1 ms */
	vmm_harness_clock_step(F->h, MS - 1);
	assert_int_equal(vmm_harness_msi_count(F->h), 0);
	vmm_harness_clock_step(F->h, 1);
	assert_int_equal(vmm_harness_msi_count(F->h), 1);
	expect_msi(0, 0x40);
	assert_int_equal(slot2_type(), HV_MSG_TIMER_EXPIRED);
	vmm_harness_clock_step(F->h, MS);
	assert_int_equal(vmm_harness_msi_count(F->h), 1);
	assert_int_equal(ram()[SLOT2 + HV_MSG_FLAGS] & HV_MSG_FLAG_PENDING, HV_MSG_FLAG_PENDING);
	memcpy(ram() + SLOT2, &none, 4);
	wrmsr(HV_MSR_EOM, 0);
	assert_int_equal(vmm_harness_msi_count(F->h), 2);
	expect_msi(1, 0x40);
	/* masked: messages, no interrupts */
	memcpy(ram() + SLOT2, &none, 4);
	wrmsr(HV_MSR_SINT0 + 2, HV_SINT_MASKED | 0x40);
	vmm_harness_clock_step(F->h, MS);
	assert_int_equal(slot2_type(), HV_MSG_TIMER_EXPIRED);
	assert_int_equal(vmm_harness_msi_count(F->h), 2);
}

/* A periodic direct-mode timer stepped in uneven steps: exactly one
 * interrupt per period, on the period's grid. */
static void test_stimer_direct_periodic(void **state)
{
	(void)state;
	synic_up();
	wrmsr(HV_MSR_STIMER0_CONFIG + 2,
	      HV_STIMER_ENABLE | HV_STIMER_PERIODIC | HV_STIMER_DIRECT | 0x50 << 4);
	wrmsr(HV_MSR_STIMER0_COUNT + 2, 10000);
	for (unsigned i = 0; i < 30; i++)
		vmm_harness_clock_step(F->h, 700000 - (i % 3) * 100000); /* 0.7, 0.6, 0.5 ms */
	/* 30 steps of 18 ms in all */
	assert_int_equal(vmm_harness_clock_ns(F->h), 18 * MS);
	assert_int_equal(vmm_harness_msi_count(F->h), 18);
	for (size_t i = 0; i < 18; i++)
		expect_msi(i, 0x50);
	assert_int_equal(slot2_type(), 0);
	/* a count of 0 stops it */
	wrmsr(HV_MSR_STIMER0_COUNT + 2, 0);
	vmm_harness_clock_step(F->h, 10 * MS);
	assert_int_equal(vmm_harness_msi_count(F->h), 18);
}

/* A one-shot timer with AutoEnable, from its count write alone. */
static void test_stimer_auto_enable(void **state)
{
	(void)state;
	synic_up();
	wrmsr(HV_MSR_STIMER0_CONFIG, HV_STIMER_AUTOENABLE | 2ull << 16);
	vmm_harness_clock_step(F->h, 5 * MS);
	assert_int_equal(vmm_harness_msi_count(F->h), 0);
	wrmsr(HV_MSR_STIMER0_COUNT, msr(HV_MSR_TIME_REF_COUNT) + 20000);
	assert_int_equal(msr(HV_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE, HV_STIMER_ENABLE);
	vmm_harness_clock_step(F->h, 2 * MS);
	assert_int_equal(vmm_harness_msi_count(F->h), 1);
	assert_int_equal(msr(HV_MSR_STIMER0_CONFIG) & HV_STIMER_ENABLE, 0);
	vmm_harness_clock_step(F->h, 10 * MS);
	assert_int_equal(vmm_harness_msi_count(F->h), 1);
}

/* hv-crash: the guest's crash report ends the run as a crash; hv-reset:
 * its reset request as a reset. */
static void test_crash_and_reset(void **state)
{
	static const char *const props[] = { "hv-crash=true", "hv-reset=true", NULL };
	int reason = -1, status = -1;

	(void)state;
	assert_non_null(create(VMM_IRQ_KERNEL, props));
	wrmsr(HV_MSR_CRASH_P0, 0xdead);
	assert_false(vmm_harness_stopped(F->h, &reason, &status));
	wrmsr(HV_MSR_CRASH_CTL, HV_CRASH_CTL_NOTIFY);
	assert_true(vmm_harness_stopped(F->h, &reason, &status));
	assert_int_equal(reason, VMM_STOP_CRASH);
	fixture_teardown(state);
	assert_non_null(create(VMM_IRQ_KERNEL, props));
	wrmsr(HV_MSR_RESET, 1);
	assert_true(vmm_harness_stopped(F->h, &reason, &status));
	assert_int_equal(reason, VMM_STOP_RESET);
}


/* ---- Saved state (ABI 1.12; README.md, "Saved state") ---- */

#define HC_GPA 0x10000
#define TSC_GPA 0x30000
static const char *const full_props[] = { "hv-synic=true", "hv-stimer=true", "hv-crash=true", NULL };

/* The guest's RAM under the pages before they appear: a pattern to find
 * again when they go. */
static void ram_pattern(void)
{
	for (unsigned i = 0; i < RAM; i++)
		ram()[i] = (uint8_t)(i * 13 + 5);
}

static bool ram_is_pattern(uint64_t gpa)
{
	for (unsigned i = 0; i < HV_PAGE_SIZE; i++)
		if (ram()[gpa + i] != (uint8_t)((gpa + i) * 13 + 5))
			return false;
	return true;
}

/* Every page and a periodic message-mode timer (1 ms, SINT2), then two
 * periods and 0.4 ms: the second message waits for EOM (MessagePending)
 * and the timer is mid-period. */
static void drive_mid_period(void)
{
	struct vmm_harness_dev *d = create(VMM_IRQ_SPLIT, full_props);

	assert_non_null(d);
	F->dev = d;
	ram_pattern();
	vmm_harness_set_tsc(F->h, 2893301, 987654321ull);
	wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000000000000ull);
	wrmsr(HV_MSR_HYPERCALL, HC_GPA | HV_HYPERCALL_ENABLE);
	wrmsr(HV_MSR_REFERENCE_TSC, TSC_GPA | HV_REFTSC_ENABLE);
	wrmsr(HV_MSR_CRASH_P0 + 1, 0xc0ffee);
	wrmsr(HV_MSR_SCONTROL, HV_SCONTROL_ENABLE);
	wrmsr(HV_MSR_SIMP, SIMP_GPA | HV_SYNIC_PAGE_ENABLE);
	wrmsr(HV_MSR_SIEFP, 0x40000 | HV_SYNIC_PAGE_ENABLE);
	wrmsr(HV_MSR_SINT0 + 2, 0x40);
	vmm_harness_clock_step(F->h, 123456700);
	wrmsr(HV_MSR_STIMER0_CONFIG, HV_STIMER_ENABLE | HV_STIMER_PERIODIC | 2ull << 16);
	wrmsr(HV_MSR_STIMER0_COUNT, 10000); /* 1 ms */
	vmm_harness_clock_step(F->h, 2 * MS + 400000);
	assert_int_equal(vmm_harness_msi_count(F->h), 1);
	assert_int_equal(ram()[SLOT2 + HV_MSG_FLAGS] & HV_MSG_FLAG_PENDING, HV_MSG_FLAG_PENDING);
}

/* The vCPUs of the twin's machine. */
static unsigned twin_vcpus = 1;

/* A fresh instance of the same config in a new harness whose RAM is a
 * copy of F's and whose clock continues from F's; the load's result in
 * *rc.  Returns the new fixture (F stays). */
static struct fixture *twin(const void *rec, size_t len, const char *const *props, int *rc)
{
	struct fixture *orig = F;
	struct vmm_harness_dev *d;

	F = NULL;
	d = create(VMM_IRQ_SPLIT, props);
	assert_non_null(d);
	assert_int_equal(vmm_harness_set_vcpus(F->h, twin_vcpus), 0);
	memcpy(ram(), vmm_harness_ram(orig->h, NULL), RAM);
	vmm_harness_clock_step(F->h, vmm_harness_clock_ns(orig->h));
	F->dev = d;
	*rc = vmm_harness_load(d, rec, len);
	struct fixture *f2 = F;
	F = orig;
	return f2;
}

static void twin_free(struct fixture *f2)
{
	vmm_harness_free(f2->h);
	free(f2);
}

static struct fixture *twin_loaded(void)
{
	size_t len;
	void *rec = vmm_harness_save(F->dev, &len);
	int rc;

	assert_non_null(rec);
	struct fixture *f2 = twin(rec, len, full_props, &rc);
	assert_int_equal(rc, 0);
	free(rec);
	return f2;
}

/* The guest's SINT2 handler: empty the slot, EOM if MessagePending. */
static void guest_handles_slot2(void)
{
	uint32_t none = 0;
	bool pending = ram()[SLOT2 + HV_MSG_FLAGS] & HV_MSG_FLAG_PENDING;

	memcpy(ram() + SLOT2, &none, 4);
	if (pending)
		wrmsr(HV_MSR_EOM, 0);
}

/* The twin delivers the same messages (ExpirationTime, DeliveryTime) and
 * SINTs at the same virtual times as the original, starting with the one
 * pending EOM, over 40 uneven steps. */
static void test_save_load_stimer_twin(void **state)
{
	(void)state;
	drive_mid_period();
	size_t base = vmm_harness_msi_count(F->h);
	struct fixture *orig = F, *f2 = twin_loaded();

	for (unsigned i = 0; i < 40; i++) {
		uint64_t step = 300000 + (i % 4) * 110000;
		uint8_t a[HV_MESSAGE_SIZE], b[HV_MESSAGE_SIZE];
		size_t na, nb;

		if (i % 3 == 0) { /* the guest looks at its slot now and then */
			guest_handles_slot2();
			F = f2;
			guest_handles_slot2();
			F = orig;
		}
		vmm_harness_clock_step(orig->h, step);
		vmm_harness_clock_step(f2->h, step);
		memcpy(a, vmm_harness_ram(orig->h, NULL) + SLOT2, sizeof(a));
		memcpy(b, vmm_harness_ram(f2->h, NULL) + SLOT2, sizeof(b));
		assert_memory_equal(a, b, sizeof(a));
		na = vmm_harness_msi_count(orig->h) - base;
		nb = vmm_harness_msi_count(f2->h);
		assert_int_equal(na, nb);
	}
	assert_true(vmm_harness_msi_count(f2->h) >= 10);
	for (size_t i = 0; i < vmm_harness_msi_count(f2->h); i++) {
		F = f2;
		expect_msi(i, 0x40);
		F = orig;
	}
	/* the restored MSRs read the same */
	static const uint32_t same[] = { HV_MSR_GUEST_OS_ID, HV_MSR_HYPERCALL, HV_MSR_REFERENCE_TSC,
					 HV_MSR_SCONTROL, HV_MSR_SIMP, HV_MSR_SIEFP, HV_MSR_SINT0 + 2,
					 HV_MSR_STIMER0_CONFIG, HV_MSR_STIMER0_COUNT,
					 HV_MSR_CRASH_P0 + 1, HV_MSR_TIME_REF_COUNT };
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		uint64_t x = msr(same[i]);

		F = f2;
		assert_int_equal(msr(same[i]), x);
		F = orig;
	}
	assert_int_equal(vmm_harness_log_count(f2->h, VMM_LOG_ERROR), 0);
	twin_free(f2);
}

/* The RAM the pages covered, saved with the device, comes back when the
 * restored guest turns them off. */
static void test_save_load_pages_given_back(void **state)
{
	(void)state;
	drive_mid_period();
	struct fixture *orig = F, *f2 = twin_loaded();

	F = f2;
	assert_false(ram_is_pattern(HC_GPA));
	assert_false(ram_is_pattern(SIMP_GPA));
	wrmsr(HV_MSR_HYPERCALL, 0);
	wrmsr(HV_MSR_REFERENCE_TSC, 0);
	wrmsr(HV_MSR_SIMP, 0);
	wrmsr(HV_MSR_SIEFP, 0);
	assert_true(ram_is_pattern(HC_GPA));
	assert_true(ram_is_pattern(TSC_GPA));
	assert_true(ram_is_pattern(SIMP_GPA));
	assert_true(ram_is_pattern(0x40000));
	F = orig;
	twin_free(f2);
}

/* After a restore the TSC page says invalid (the guest's TSC may not have
 * continued as the clock did), until a vCPU's next synthetic MSR access
 * computes it from the restoring host's TSC: then it reads as the
 * reference counter again, with a new sequence. */
static void test_save_load_tsc_page(void **state)
{
	uint32_t seq0, seq;
	uint64_t scale, tsc;
	int64_t offset;

	(void)state;
	drive_mid_period();
	memcpy(&seq0, ram() + TSC_GPA + HV_TSC_PAGE_SEQUENCE, 4);
	assert_int_not_equal(seq0, 0);
	struct fixture *orig = F, *f2 = twin_loaded();

	F = f2;
	/* the restoring host: another rate, another TSC */
	vmm_harness_set_tsc(F->h, 3100000, 5555555555ull);
	memcpy(&seq, ram() + TSC_GPA + HV_TSC_PAGE_SEQUENCE, 4);
	assert_int_equal(seq, HV_TSC_SEQUENCE_INVALID);
	uint64_t r = msr(HV_MSR_TIME_REF_COUNT);
	memcpy(&seq, ram() + TSC_GPA + HV_TSC_PAGE_SEQUENCE, 4);
	memcpy(&scale, ram() + TSC_GPA + HV_TSC_PAGE_SCALE, 8);
	memcpy(&offset, ram() + TSC_GPA + HV_TSC_PAGE_OFFSET, 8);
	assert_int_not_equal(seq, 0);
	assert_int_not_equal(seq, seq0);
	vmm_harness_clock_step(F->h, 700 * MS);
	r = msr(HV_MSR_TIME_REF_COUNT);
	tsc = 5555555555ull + (uint64_t)((unsigned __int128)vmm_harness_clock_ns(F->h) * 3100000 / 1000000);
	uint64_t t = hyperv_tsc_page_time(tsc, scale, offset);
	assert_true(t + 1 >= r && t <= r + 1);
	F = orig;
	twin_free(f2);
}

/* vCPU 1's own SynIC and a one-shot direct-mode timer on it, saved
 * before it expires: the twin of a 2-vCPU machine sends its vector to
 * vCPU 1's local APIC at the same time; a 1-vCPU machine refuses the
 * record (vcpus). */
static void test_save_load_second_vcpu(void **state)
{
	uint64_t addr;
	uint32_t data;
	size_t len;
	int rc;

	(void)state;
	struct vmm_harness_dev *d = create(VMM_IRQ_SPLIT, full_props);
	assert_non_null(d);
	F->dev = d;
	assert_int_equal(vmm_harness_set_vcpus(F->h, 2), 0);
	assert_int_equal(vmm_harness_set_vcpu(F->h, 1), 0);
	vmm_harness_clock_step(F->h, 5 * MS);
	wrmsr(HV_MSR_SCONTROL, HV_SCONTROL_ENABLE);
	wrmsr(HV_MSR_STIMER0_CONFIG + 2, HV_STIMER_ENABLE | HV_STIMER_DIRECT | 0x70 << 4);
	wrmsr(HV_MSR_STIMER0_COUNT + 2, msr(HV_MSR_TIME_REF_COUNT) + 30000); /* 3 ms */
	vmm_harness_clock_step(F->h, 1 * MS);
	void *rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	twin_vcpus = 2;
	struct fixture *f2 = twin(rec, len, full_props, &rc);
	twin_vcpus = 1;
	assert_int_equal(rc, 0);
	for (unsigned i = 0; i < 4; i++) {
		vmm_harness_clock_step(F->h, MS);
		vmm_harness_clock_step(f2->h, MS);
		assert_int_equal(vmm_harness_msi_count(f2->h), vmm_harness_msi_count(F->h));
		assert_int_equal(vmm_harness_msi_count(F->h), i >= 1);
	}
	assert_int_equal(vmm_harness_msi_get(f2->h, 0, &addr, &data), 0);
	assert_int_equal(addr, 0xfee01000u); /* vCPU 1's local APIC */
	assert_int_equal(data, 0x70);
	twin_free(f2);
	f2 = twin(rec, len, full_props, &rc);
	assert_int_equal(rc, -EINVAL);
	twin_free(f2);
	free(rec);
}

/* A snapshot taken between the hypercall page's port writes: the restored
 * vCPU's GO runs the call the saved one staged. */
static void test_save_load_mid_hypercall(void **state)
{
	uint32_t lo;

	(void)state;
	drive_mid_period();
	vmm_harness_pio_write(F->h, PORT + HV_PORT_CTL_LO, 4, HV_CALL_NOTIFY_LONG_SPIN_WAIT);
	vmm_harness_pio_write(F->h, PORT + HV_PORT_CTL_HI, 4, 0);
	struct fixture *orig = F, *f2 = twin_loaded();

	F = f2;
	vmm_harness_pio_write(F->h, PORT + HV_PORT_GO, 4, 0);
	lo = (uint32_t)vmm_harness_pio_read(F->h, PORT + HV_PORT_GO, 4);
	assert_int_equal(lo, HV_STATUS_SUCCESS);
	assert_int_equal(vmm_harness_pio_read(F->h, PORT + HV_PORT_CTL_LO, 4),
			 HV_CALL_NOTIFY_LONG_SPIN_WAIT);
	F = orig;
	twin_free(f2);
}

/* `rec` again with field `name` replaced by `n` bytes of `val` (or the
 * whole record at another version when name is NULL). */
static void *edit(const void *rec, size_t len, const char *name, const void *val, size_t n,
		  uint32_t version, size_t *out_len)
{
	struct vmm_state_in in;
	struct vmm_state_out o;
	const uint8_t *bytes;
	void *copy;
	bool found = !name;

	assert_int_equal(vmm_state_in_parse(&in, rec, len), 0);
	assert_int_equal(vmm_state_out_init(&o, in.plugin, in.instance, version ? version : in.version), 0);
	for (uint32_t i = 0; i < in.nfields; i++) {
		const struct vmm_state_field *f = &in.fields[i];

		if (name && !strcmp(f->name, name)) {
			assert_int_equal(vmm_state_out_put(&o, f->name, val, n), 0);
			found = true;
		} else {
			assert_int_equal(vmm_state_out_put(&o, f->name, f->data, f->len), 0);
		}
	}
	assert_true(found);
	bytes = vmm_state_out_bytes(&o, out_len);
	copy = malloc(*out_len);
	assert_non_null(copy);
	memcpy(copy, bytes, *out_len);
	vmm_state_out_free(&o);
	vmm_state_in_free(&in);
	return copy;
}

static void le64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* What no running partition holds is refused with -EINVAL and one line
 * naming the field, the instance left as created; another version is
 * -EPROTO; then the good record still loads. */
static void test_load_refusals(void **state)
{
	static const struct {
		const char *field;
		uint64_t value;
		unsigned width;
	} bad[] = {
		{ "v0.sint2", 0x05, 8 },                          /* unmasked vector 5 */
		{ "v0.simp", 0x7fff000 | HV_SYNIC_PAGE_ENABLE, 8 }, /* past RAM */
		{ "hypercall", 0x200000 | HV_HYPERCALL_ENABLE, 8 }, /* past RAM */
		{ "ref-tsc", TSC_GPA | 0x10 | HV_REFTSC_ENABLE, 8 }, /* reserved bit */
		{ "v0.stimer0.count", 0, 8 },                     /* running periodic, period 0 */
		{ "v0.stimer0.armed", 0, 1 },
		{ "v0.stimer0.deadline-ns", 0, 8 },               /* below: 5 ms ahead */
		{ "v0.stimer0.deadline-ns", 1, 8 },               /* below: not whole 100 ns */
		{ "v0.stimer1.config", HV_STIMER_ENABLE | HV_STIMER_DIRECT | 0x5 << 4, 8 },
		{ "v0.scontrol", 2, 8 },
		{ "v0.simp-mapped", 0, 1 },
		{ "guest-os-id", 0, 8 },                          /* hypercall page enabled */
		{ "vcpus", 2, 4 },                                /* past the machine's */
		{ "kernel-mode", 1, 1 },                          /* the other mode's record */
	};
	size_t len, blen;
	void *rec;
	int rc;

	(void)state;
	drive_mid_period();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	uint64_t now = vmm_harness_clock_ns(F->h);
	struct fixture *orig = F, *f2 = twin(rec, len, full_props, &rc);

	assert_int_equal(rc, 0);
	twin_free(f2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t v[8];
		uint64_t value = bad[i].value;

		if (i == 6)
			value = now + 5 * MS - now % 100;
		if (i == 7)
			value = now + 1;
		le64(v, value);
		void *b = edit(rec, len, bad[i].field, v, bad[i].width, 0, &blen);

		f2 = twin(b, blen, full_props, &rc);
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(vmm_harness_log_count(f2->h, VMM_LOG_ERROR), 1);
		/* as created: SynIC off, nothing armed, no page over RAM */
		F = f2;
		assert_int_equal(msr(HV_MSR_SCONTROL), 0);
		assert_int_equal(msr(HV_MSR_SIMP), 0);
		assert_int_equal(msr(HV_MSR_HYPERCALL), 0);
		assert_int_equal(msr(HV_MSR_STIMER0_CONFIG), 0);
		vmm_harness_clock_step(F->h, 10 * MS);
		assert_int_equal(vmm_harness_msi_count(F->h), 0);
		F = orig;
		twin_free(f2);
		free(b);
	}
	void *b = edit(rec, len, NULL, NULL, 0, 2, &blen);
	f2 = twin(b, blen, full_props, &rc);
	assert_int_equal(rc, -EPROTO);
	twin_free(f2);
	free(b);
	/* a record of a config without the timers */
	static const char *const no_stimer[] = { "hv-synic=true", "hv-crash=true", NULL };
	f2 = twin(rec, len, no_stimer, &rc);
	assert_int_equal(rc, -EINVAL);
	twin_free(f2);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cpuid_given_to_host, teardown),
		cmocka_unit_test_teardown(test_switches, teardown),
		cmocka_unit_test_teardown(test_refused_configs, teardown),
		cmocka_unit_test_teardown(test_kvm_leaves_hidden, teardown),
		cmocka_unit_test_teardown(test_hypercall_port, teardown),
		cmocka_unit_test_teardown(test_tsc_page, teardown),
		cmocka_unit_test_teardown(test_stimer_messages, teardown),
		cmocka_unit_test_teardown(test_stimer_direct_periodic, teardown),
		cmocka_unit_test_teardown(test_stimer_auto_enable, teardown),
		cmocka_unit_test_teardown(test_crash_and_reset, teardown),
		cmocka_unit_test_teardown(test_save_load_stimer_twin, teardown),
		cmocka_unit_test_teardown(test_save_load_pages_given_back, teardown),
		cmocka_unit_test_teardown(test_save_load_tsc_page, teardown),
		cmocka_unit_test_teardown(test_load_refusals, teardown),
		cmocka_unit_test_teardown(test_save_load_second_vcpu, teardown),
		cmocka_unit_test_teardown(test_save_load_mid_hypercall, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
