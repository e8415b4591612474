/* tests/unit/test_i8042.c - the 8042 keyboard controller, command by
 * command, through the harness and the real i8042.so: write the command
 * port, read the status and data ports, expect these IRQ levels and this
 * machine stop. */
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
#include "devices/i8042/i8042.h"

#define KBD_IRQ 1
#define AUX_IRQ 12

#include "device-fixture.h"
#include "state-record.h"

static int setup(void **state)
{
	return fixture_setup(state, VMM_IRQ_EMULATED, "i8042", "kbc");
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void cmd(uint8_t v)
{
	vmm_harness_pio_write(F->h, 0x64, 1, v);
}

static void data_out(uint8_t v)
{
	vmm_harness_pio_write(F->h, 0x60, 1, v);
}

static uint8_t status(void)
{
	return (uint8_t)vmm_harness_pio_read(F->h, 0x64, 1);
}

static uint8_t data_in(void)
{
	return (uint8_t)vmm_harness_pio_read(F->h, 0x60, 1);
}

/* Read one byte the controller says is there. */
static uint8_t expect_byte(void)
{
	assert_true(status() & I8042_STR_OBF);
	return data_in();
}

static void expect_empty(void)
{
	assert_int_equal(status() & I8042_STR_OBF, 0);
}

static void write_cb(uint8_t v)
{
	cmd(I8042_CMD_WRITE_CB);
	data_out(v);
}

static void test_power_on_status(void **state)
{
	uint8_t st = status();

	assert_int_equal(st & (I8042_STR_OBF | I8042_STR_IBF), 0);
	assert_int_equal(st & I8042_STR_SYS, I8042_STR_SYS);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 0);
	assert_int_equal(vmm_harness_irq_level(F->h, AUX_IRQ), 0);
	/* Ports 0x61-0x63 are left to other devices. */
	assert_int_equal(vmm_harness_pio_read(F->h, 0x61, 1), 0xff);
}

static void test_self_test_and_interface_tests(void **state)
{
	cmd(I8042_CMD_SELF_TEST);
	assert_int_equal(status() & I8042_STR_CMD, I8042_STR_CMD);
	assert_int_equal(expect_byte(), 0x55);
	expect_empty();
	cmd(I8042_CMD_KBD_TEST);
	assert_int_equal(expect_byte(), 0x00);
	cmd(I8042_CMD_AUX_TEST);
	assert_int_equal(expect_byte(), 0x00);
	expect_empty();
	assert_int_equal(status() & I8042_STR_IBF, 0);
}

static void test_command_byte(void **state)
{
	cmd(I8042_CMD_READ_CB);
	assert_int_equal(expect_byte(), I8042_CB_POWER_ON);
	write_cb(0x30);
	assert_int_equal(status() & I8042_STR_CMD, 0); /* last write was data */
	cmd(I8042_CMD_READ_CB);
	assert_int_equal(expect_byte(), 0x30);
	/* The status system flag follows command byte bit 2. */
	assert_int_equal(status() & I8042_STR_SYS, 0);
	write_cb(0x04);
	assert_int_equal(status() & I8042_STR_SYS, I8042_STR_SYS);

	cmd(I8042_CMD_AUX_DISABLE);
	cmd(I8042_CMD_KBD_DISABLE);
	cmd(I8042_CMD_READ_CB);
	assert_int_equal(expect_byte(), 0x04 | I8042_CB_AUX_DIS | I8042_CB_KBD_DIS);
	cmd(I8042_CMD_AUX_ENABLE);
	cmd(I8042_CMD_KBD_ENABLE);
	cmd(I8042_CMD_READ_CB);
	assert_int_equal(expect_byte(), 0x04);
}

static void test_keyboard_reset_reply(void **state)
{
	data_out(KBD_CMD_RESET);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 1);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 1);
	assert_int_equal(expect_byte(), KBD_REPLY_BAT_OK);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 0);
	expect_empty();
	/* One edge per byte. */
	assert_int_equal(vmm_harness_irq_raises(F->h, KBD_IRQ), 2);
}

static void test_keyboard_commands(void **state)
{
	data_out(KBD_CMD_IDENTIFY);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	assert_int_equal(expect_byte(), 0xab);
	assert_int_equal(expect_byte(), 0x83);
	expect_empty();

	data_out(KBD_CMD_SET_LEDS);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	data_out(0x07);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	data_out(KBD_CMD_TYPEMATIC);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	data_out(0x00);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	data_out(KBD_CMD_DISABLE);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	data_out(KBD_CMD_ENABLE);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	data_out(0x01); /* not a keyboard command */
	assert_int_equal(expect_byte(), KBD_REPLY_RESEND);
	expect_empty();
}

static void test_write_output_buffers(void **state)
{
	write_cb(I8042_CB_KBD_INT | I8042_CB_AUX_INT);
	cmd(I8042_CMD_WRITE_KBD_OBUF);
	data_out(0x1c);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 1);
	assert_int_equal(vmm_harness_irq_level(F->h, AUX_IRQ), 0);
	assert_int_equal(status() & I8042_STR_AUXDATA, 0);
	assert_int_equal(expect_byte(), 0x1c);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 0);

	/* Aux loopback, as Linux uses it to find the aux port. */
	cmd(I8042_CMD_WRITE_AUX_OBUF);
	data_out(0xa5);
	assert_int_equal(vmm_harness_irq_level(F->h, AUX_IRQ), 1);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 0);
	assert_int_equal(status() & I8042_STR_AUXDATA, I8042_STR_AUXDATA);
	assert_int_equal(expect_byte(), 0xa5);
	assert_int_equal(vmm_harness_irq_level(F->h, AUX_IRQ), 0);

	/* No mouse behind 0xD4. */
	cmd(I8042_CMD_WRITE_AUX);
	data_out(0xf2);
	assert_int_equal(status() & I8042_STR_AUXDATA, I8042_STR_AUXDATA);
	assert_int_equal(expect_byte(), KBD_REPLY_RESEND);
}

static void test_interrupt_only_when_enabled(void **state)
{
	write_cb(I8042_CB_SYS); /* both interrupts off */
	cmd(I8042_CMD_WRITE_KBD_OBUF);
	data_out(0x1e);
	cmd(I8042_CMD_WRITE_AUX_OBUF);
	data_out(0x5a);
	assert_int_equal(vmm_harness_irq_raises(F->h, KBD_IRQ), 0);
	assert_int_equal(vmm_harness_irq_raises(F->h, AUX_IRQ), 0);
	assert_int_equal(expect_byte(), 0x1e);
	/* Enabling with a byte waiting raises the line at once. */
	write_cb(I8042_CB_SYS | I8042_CB_AUX_INT);
	assert_int_equal(vmm_harness_irq_level(F->h, AUX_IRQ), 1);
	assert_int_equal(expect_byte(), 0x5a);
	assert_int_equal(vmm_harness_irq_level(F->h, AUX_IRQ), 0);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 0);
}

static void test_ports_input_output(void **state)
{
	cmd(I8042_CMD_READ_INPUT);
	assert_int_equal(expect_byte(), I8042_INPUT_PORT);
	cmd(I8042_CMD_READ_OUTPUT);
	/* Bits 4 and 5 report the buffer as it was before the answer. */
	assert_int_equal(expect_byte(), I8042_OUT_POWER_ON);
	cmd(I8042_CMD_WRITE_OUTPUT);
	data_out(0x01); /* A20 off, reset line high */
	assert_false(vmm_harness_stopped(F->h, NULL, NULL));
	cmd(I8042_CMD_READ_OUTPUT);
	assert_int_equal(expect_byte() & ~I8042_OUT_KBD_OBF, 0x01);
	/* 0xFF pulses no line. */
	cmd(0xff);
	assert_false(vmm_harness_stopped(F->h, NULL, NULL));
}

static void test_reset_by_pulse(void **state)
{
	int reason = -1, status_code = -1;

	cmd(I8042_CMD_PULSE_RESET);
	assert_true(vmm_harness_stopped(F->h, &reason, &status_code));
	assert_int_equal(reason, VMM_STOP_RESET);
	assert_int_equal(status_code, 0);
}

static void test_reset_by_output_port(void **state)
{
	int reason = -1;

	cmd(I8042_CMD_WRITE_OUTPUT);
	data_out(0xfe);
	assert_true(vmm_harness_stopped(F->h, &reason, NULL));
	assert_int_equal(reason, VMM_STOP_RESET);
}

static void test_reset_poweroff_property(void **state)
{
	struct vmm_harness *h = vmm_harness_new();
	static const char *const props[] = { "reset=poweroff", NULL };
	int reason = -1, status_code = -1;

	assert_non_null(vmm_harness_create_device(h, "i8042", "kbc", props));
	vmm_harness_pio_write(h, 0x64, 1, I8042_CMD_PULSE_RESET);
	assert_true(vmm_harness_stopped(h, &reason, &status_code));
	assert_int_equal(reason, VMM_STOP_POWEROFF);
	assert_int_equal(status_code, 0);
	vmm_harness_free(h);

	h = vmm_harness_new();
	assert_non_null(vmm_harness_create_device(h, "i8042", "kbc", props));
	vmm_harness_pio_write(h, 0x64, 1, I8042_CMD_WRITE_OUTPUT);
	vmm_harness_pio_write(h, 0x60, 1, 0x02);
	assert_true(vmm_harness_stopped(h, &reason, NULL));
	assert_int_equal(reason, VMM_STOP_POWEROFF);
	vmm_harness_free(h);

	static const char *const bad[] = { "reset=explode", NULL };
	h = vmm_harness_new();
	assert_null(vmm_harness_create_device(h, "i8042", "kbc", bad));
	vmm_harness_free(h);
}

static void test_unknown_command_is_guest_error(void **state)
{
	unsigned long before = vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR);

	cmd(0xc8);
	assert_int_equal(vmm_harness_log_count(F->h, VMM_LOG_GUEST_ERROR), before + 1);
	expect_empty();
	assert_false(vmm_harness_stopped(F->h, NULL, NULL));
}

static void test_queue_overflow_is_harmless(void **state)
{
	for (int i = 0; i < 40; i++) {
		cmd(I8042_CMD_WRITE_KBD_OBUF);
		data_out((uint8_t)i);
	}
	for (int i = 0; i < I8042_QUEUE_SIZE; i++)
		assert_int_equal(expect_byte(), i);
	expect_empty();
}

static void test_device_reset(void **state)
{
	write_cb(0x00);
	data_out(KBD_CMD_RESET);
	assert_int_equal(vmm_harness_reset_device(F->dev), 0);
	expect_empty();
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 0);
	cmd(I8042_CMD_READ_CB);
	assert_int_equal(expect_byte(), I8042_CB_POWER_ON);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- saved state (ABI 1.12) ---- */

/* Mid-operation: both interrupts enabled, the identify reply half read, an aux byte and the ACK of
 * a set-LEDs command queued behind it (the LEDs' parameter still to come),
 * and a write-command-byte command waiting for its data byte. */
static void kbc_mid_operation(void)
{
	write_cb(I8042_CB_POWER_ON | I8042_CB_AUX_INT);
	data_out(KBD_CMD_IDENTIFY);
	assert_int_equal(expect_byte(), KBD_REPLY_ACK);
	cmd(I8042_CMD_WRITE_AUX_OBUF);
	data_out(0x5c);
	data_out(KBD_CMD_SET_LEDS);
	cmd(I8042_CMD_WRITE_CB);
	assert_int_equal(vmm_harness_irq_level(F->h, KBD_IRQ), 1);
}

#define KBC_SCRIPT_MAX 64

static unsigned kbc_in(struct vmm_harness *h, uint16_t port)
{
	return (unsigned)vmm_harness_pio_read(h, port, 1);
}

/* What the guest sees from now on: the queue drained byte by byte with
 * status and both lines, then the pending data bytes completed. */
static size_t kbc_script(struct vmm_harness *h, unsigned *v)
{
	unsigned base1 = vmm_harness_irq_raises(h, KBD_IRQ);
	unsigned base12 = vmm_harness_irq_raises(h, AUX_IRQ);
	size_t n = 0;

	for (int i = 0; i < 5; i++) {
		v[n++] = kbc_in(h, 0x64);
		v[n++] = (unsigned)vmm_harness_irq_level(h, KBD_IRQ);
		v[n++] = (unsigned)vmm_harness_irq_level(h, AUX_IRQ);
		v[n++] = kbc_in(h, 0x60);
	}
	vmm_harness_pio_write(h, 0x60, 1, I8042_CB_KBD_INT | I8042_CB_AUX_INT);	/* the CB */
	vmm_harness_pio_write(h, 0x60, 1, 0x02);	/* the LEDs */
	v[n++] = kbc_in(h, 0x64);
	v[n++] = kbc_in(h, 0x60);
	vmm_harness_pio_write(h, 0x64, 1, I8042_CMD_READ_CB);
	v[n++] = kbc_in(h, 0x60);
	v[n++] = vmm_harness_irq_raises(h, KBD_IRQ) - base1;
	v[n++] = vmm_harness_irq_raises(h, AUX_IRQ) - base12;
	return n;
}

static struct vmm_harness *kbc_restore_target(struct vmm_harness_dev **dev)
{
	struct vmm_harness *h = vmm_harness_new();

	assert_non_null(h);
	vmm_harness_clock_step(h, vmm_harness_clock_ns(F->h));
	*dev = vmm_harness_create_device(h, "i8042", "kbc", NULL);
	assert_non_null(*dev);
	return h;
}

static void test_save_load_mid_operation(void **state)
{
	unsigned want[KBC_SCRIPT_MAX], got[KBC_SCRIPT_MAX];
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len, n1, n2;
	void *rec;

	kbc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = kbc_restore_target(&dev2);
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	assert_int_equal(vmm_harness_irq_level(h2, KBD_IRQ), 1);	/* 0xab waits */
	n1 = kbc_script(F->h, want);
	n2 = kbc_script(h2, got);
	assert_int_equal(n1, n2);
	assert_memory_equal(want, got, n1 * sizeof(want[0]));
	/* the script saw the saved queue and pending commands */
	assert_true(want[0] & I8042_STR_CMD);
	assert_int_equal(want[3], 0xab);
	assert_int_equal(want[7], 0x83);
	assert_int_equal(want[8] & I8042_STR_AUXDATA, I8042_STR_AUXDATA);
	assert_int_equal(want[10], 1);				/* IRQ 12 for the aux byte */
	assert_int_equal(want[11], 0x5c);
	assert_int_equal(want[15], KBD_REPLY_ACK);
	assert_int_equal(want[19], KBD_REPLY_ACK);		/* empty: the last byte again */
	assert_int_equal(want[21], KBD_REPLY_ACK);		/* the LEDs' parameter */
	assert_int_equal(want[22], I8042_CB_KBD_INT | I8042_CB_AUX_INT);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_corrupt_fields(void **state)
{
	static const struct record_poke bad[] = {
		{ "head", 0, I8042_QUEUE_SIZE },
		{ "count", 0, I8042_QUEUE_SIZE + 1 },
		{ "queue_src", 5, 2 },
		{ "pending_cmd", 0, I8042_CMD_SELF_TEST },
		{ "kbd_pending", 0, KBD_CMD_RESET },
		{ "status_cmd", 0, 0x01 },
		{ "kbd_scanning", 0, 3 },
	};
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	kbc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = kbc_restore_target(&dev2);
	record_expect_refused(dev2, rec, len, bad, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(vmm_harness_irq_level(h2, KBD_IRQ), 0);
	record_hide_field(rec, len, "queue");
	assert_int_equal(vmm_harness_load(dev2, rec, len), -ENOENT);
	free(rec);
	vmm_harness_free(h2);
}

static void test_load_refuses_unknown_version(void **state)
{
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	kbc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = kbc_restore_target(&dev2);
	record_expect_next_version_refused(dev2, rec, len, 1);
	free(rec);
	vmm_harness_free(h2);
}

/* A hostile snapshot: every byte of the record in turn set to 0xff or
 * 0x10.  Load refuses it or takes it, and whatever it took, draining the
 * queue never reads past it nor crashes. */
static void test_load_survives_any_corrupt_byte(void **state)
{
	static const uint8_t values[] = { 0xff, 0x10 };
	struct vmm_harness_dev *dev2;
	struct vmm_harness *h2;
	size_t len;
	uint8_t *rec;

	kbc_mid_operation();
	rec = vmm_harness_save(F->dev, &len);
	assert_non_null(rec);
	h2 = kbc_restore_target(&dev2);
	for (size_t at = 0; at < len; at++) {
		for (size_t v = 0; v < sizeof(values); v++) {
			uint8_t keep = rec[at];
			int rc;

			rec[at] = values[v];
			rc = vmm_harness_load(dev2, rec, len);
			assert_true(rc == 0 || rc == -EINVAL || rc == -ENOENT || rc == -EPROTO ||
				    rc == -EBADMSG);
			for (int i = 0; i < 20; i++) {
				(void)kbc_in(h2, 0x64);
				(void)kbc_in(h2, 0x60);
			}
			rec[at] = keep;
		}
	}
	assert_int_equal(vmm_harness_load(dev2, rec, len), 0);
	free(rec);
	vmm_harness_free(h2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_power_on_status),
		T(test_self_test_and_interface_tests),
		T(test_command_byte),
		T(test_keyboard_reset_reply),
		T(test_keyboard_commands),
		T(test_write_output_buffers),
		T(test_interrupt_only_when_enabled),
		T(test_ports_input_output),
		T(test_reset_by_pulse),
		T(test_reset_by_output_port),
		cmocka_unit_test(test_reset_poweroff_property),
		T(test_unknown_command_is_guest_error),
		T(test_queue_overflow_is_harmless),
		T(test_device_reset),
		T(test_save_load_mid_operation),
		T(test_load_refuses_corrupt_fields),
		T(test_load_refuses_unknown_version),
		T(test_load_survives_any_corrupt_byte),
	};

	return cmocka_run_group_tests_name("i8042", tests, NULL, NULL);
}
