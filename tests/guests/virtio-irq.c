/* tests/guests/virtio-irq.c - drives the virtio-rng of virtio-irq.conf
 * (virtio-mmio at 0xd0000000, IOAPIC pin 16) with interrupts:
 *   1. local APIC enabled (LINT0 masked), both 8259s masked; pin 16 ->
 *      vector 0x31, fixed, physical destination this CPU, level-triggered,
 *      active high, unmasked;
 *   2. N requests ("n=N" on the PVH command line, default 100), one at a
 *      time: post, then halt until the interrupt handler has seen it on the
 *      used ring.  The handler reads InterruptStatus, writes it back to
 *      InterruptACK (which lowers the line) and EOIs;
 *   3. every tenth request ("hold=K": every K-th, 0 never) the handler's
 *      first call EOIs without the ACK:
 *      the line is still high, so a level-triggered pin must interrupt
 *      again (through KVM's IOAPIC alone, or through the VMM's re-assert
 *      after an irqfd's resample);
 *   4. "virtio-irq: N requests, I interrupts, H held", where I counts
 *      interrupts with work to do (N + H: one per request and one per held
 *      line), then "virtio-irq: S spurious", those that found
 *      InterruptStatus 0 (harmless, and not checked: this project's
 *      software-nested hosts deliver a few with KVM_IRQ_LINE as well as
 *      with an irqfd), then "VIRTIO-IRQ-DONE", debug-exit 0x21, or with
 *      "reset=1" a reset through the i8042 (for on-reset = "restart").
 * A request lost or an interrupt missing fails (or hangs until the host's
 * timeout: nothing else would wake the halted CPU). */
#include "irq-lib.h"
#include "virtio-lib.h"

#define VRNG_VECTOR	0x31
#define VRNG_PIN	16

static volatile uint32_t irqs, spurious, held, done, hold_next;

static void vrng_irq(unsigned vector)
{
	uint32_t st = vmmio_rd(R_INT_STATUS);

	(void)vector;
	if (!st) {
		spurious++;
	} else if (hold_next) {
		/* EOI with the line still high: it must come back. */
		hold_next = 0;
		held++;
		irqs++;
	} else {
		vmmio_wr(R_INT_ACK, st);
		irqs++;
		done = vrng_used_idx();
	}
	lapic_write(LAPIC_EOI, 0);
}

void guest_main(uint32_t start_info)
{
	uint32_t n, hold, want_held = 0;
	const char *err;
	unsigned id;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	n = cmdline_uint(start_info, "n", 100);
	if (n == 0 || n > 60000)
		fail("n out of range (1..60000)");
	hold = cmdline_uint(start_info, "hold", 10);
	idt_load();
	set_handler(VRNG_VECTOR, vrng_irq);
	id = apic_mode_init();
	err = vrng_init();
	if (err)
		fail(err);
	ioapic_route_level(VRNG_PIN, VRNG_VECTOR, (uint8_t)id, 0);

	for (uint32_t i = 0; i < n; i++) {
		if (hold && i % hold == 0) {
			hold_next = 1;
			want_held++;
		}
		vrng_post(i);
		while (done != (uint16_t)(i + 1))
			irq_wait();
		if (vrng_used_len(i) != VRNG_REQUEST_LEN)
			fail("short request");
	}
	if (vrng_used_idx() != (uint16_t)n || held != want_held || irqs != n + want_held)
		fail("virtio-irq: interrupts and requests disagree");
	uart_puts("virtio-irq: ");
	put_dec(n);
	uart_puts(" requests, ");
	put_dec(irqs);
	uart_puts(" interrupts, ");
	put_dec(held);
	uart_puts(" held\nvirtio-irq: ");
	put_dec(spurious);
	uart_puts(" spurious\n");
	uart_puts("VIRTIO-IRQ-DONE\n");
	if (cmdline_uint(start_info, "reset", 0)) {
		uart_puts("virtio-irq: resetting\n");
		outb(0x64, 0xfe);	/* i8042: pulse the reset line */
	}
	guest_exit(EXIT_OK);
}
