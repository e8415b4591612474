/* tests/guests/mig-pattern.c - a guest to live-migrate (issue 14,
 * tests/cli/migrate.sh, bench/migrate.sh): while the 8254 ticks at ~1 kHz
 * through the 8259 (a local APIC, where there is one, in virtual-wire
 * mode) it writes a pattern into `pages` pages from 4 MiB, pass after pass:
 * in pass G, page P gets G and P in four words spread over the page.
 * Before it writes a page it checks that the page holds pass G - 1's
 * pattern: a page a migration lost (sent before its last write and not
 * again) holds an older pass and is caught the next time the guest comes
 * to it, whichever process runs it then.
 *
 * Command line (numbers): pages=N (default 2048: 8 MiB), rate=R pages per
 * timer tick (default 0: as fast as it can), ticks=T when to end (default
 * 4000), blk=1: there is a virtio-blk disk at 0xd0000000 whose sector S
 * holds bytes (S * 7 + i) & 0xff; at each report the guest reads the next
 * sector (VIRTIO_BLK_T_IN, polled: the device writes the guest's buffer
 * and used ring) and checks it, so a disk whose queue state did not come
 * along, or a device write the migration lost, is caught on the
 * destination too ("MIG-PATTERN-BAD blk ...").  Prints "mig-pattern: start pages N", "mig-pattern: ticks T gen
 * G pages W" (W pages written since the start) every 100 ticks, and at T ticks checks every page once more (pages
 * before the current one hold G, the others G - 1) and prints
 *   "MIG-PATTERN-OK ticks T gen G checked C"
 * or, at the first page that is wrong,
 *   "MIG-PATTERN-BAD page P gen G words W0 W1 W2 W3"
 * then "MIG-PATTERN-END" (the result line is whole once it is there), and
 * halts with interrupts off. */
#include "irq-lib.h"

#define AREA 0x400000u
#define BLK_MMIO 0xd0000000u
#define VQ_SIZE 4
#include "virtio-mmio.h"
#define WORDS 1024u
#define REPORT_EVERY 100

static volatile uint32_t ticks;

static struct desc descs[VQ_SIZE] __attribute__((aligned(4096)));
static struct avail avail __attribute__((aligned(4096)));
static volatile struct used used __attribute__((aligned(4096)));
static struct { uint32_t type, reserved; uint64_t sector; } blk_hdr __attribute__((aligned(16)));
static volatile uint8_t blk_buf[512] __attribute__((aligned(512)));
static volatile uint8_t blk_status;
static uint16_t blk_reqs;


static void pit_irq(unsigned vector)
{
	(void)vector;
	ticks++;
	outb(PIC1_CMD, PIC_EOI);
}

static volatile uint32_t *page_at(uint32_t p)
{
	return (volatile uint32_t *)(AREA + p * 4096u);
}

static uint32_t mix(uint32_t gen, uint32_t p)
{
	return gen * 2654435761u ^ p;
}

/* The last line, after the result line: whole once this is seen. */
static __attribute__((noreturn)) void halt(void)
{
	irq_disable();
	uart_puts("MIG-PATTERN-END\n");
	for (;;)
		__asm__ volatile("hlt");
}

/* Page p holds pass gen's pattern, or the guest stops saying so. */
static void check(uint32_t p, uint32_t gen)
{
	volatile uint32_t *w = page_at(p);

	if (w[0] == gen && w[1] == p && w[WORDS / 2] == mix(gen, p) && w[WORDS - 1] == ~mix(gen, p))
		return;
	uint32_t got[4] = { w[0], w[1], w[WORDS / 2], w[WORDS - 1] };
	irq_disable();
	uart_puts("MIG-PATTERN-BAD page ");
	put_dec(p);
	uart_puts(" gen ");
	put_dec(gen);
	uart_puts(" words");
	for (int i = 0; i < 4; i++) {
		uart_puts(" ");
		put_hex(got[i]);
	}
	uart_puts("\n");
	halt();
}

static void fill(uint32_t p, uint32_t gen)
{
	volatile uint32_t *w = page_at(p);

	w[WORDS - 1] = ~mix(gen, p);
	w[WORDS / 2] = mix(gen, p);
	w[1] = p;
	w[0] = gen;
}

static void blk_bad(const char *why, uint32_t sector, uint32_t at, uint32_t got)
{
	irq_disable();
	uart_puts("MIG-PATTERN-BAD blk ");
	uart_puts(why);
	uart_puts(" sector ");
	put_dec(sector);
	uart_puts(" byte ");
	put_dec(at);
	uart_puts(" value ");
	put_hex(got);
	uart_puts("\n");
	halt();
}

/* Read sector `sector` into blk_buf (zeroed first) and check it. */
static void blk_read_check(uint32_t sector)
{
	for (unsigned i = 0; i < sizeof(blk_buf); i++)
		blk_buf[i] = 0;
	blk_hdr.type = 0;			/* VIRTIO_BLK_T_IN */
	blk_hdr.sector = sector;
	blk_status = 0xff;
	descs[0] = (struct desc){ (uint32_t)&blk_hdr, sizeof(blk_hdr), 1, 1 };		/* NEXT */
	descs[1] = (struct desc){ (uint32_t)blk_buf, sizeof(blk_buf), 1 | 2, 2 };	/* NEXT | WRITE */
	descs[2] = (struct desc){ (uint32_t)&blk_status, 1, 2, 0 };		/* WRITE */
	avail.ring[blk_reqs % VQ_SIZE] = 0;
	__asm__ volatile("" ::: "memory");
	avail.idx = ++blk_reqs;
	__asm__ volatile("mfence" ::: "memory");
	vmmio_set(BLK_MMIO, R_QUEUE_NOTIFY, 0);
	while (used.idx != blk_reqs)
		;
	if (blk_status != 0)
		blk_bad("status", sector, 0, blk_status);
	for (uint32_t i = 0; i < sizeof(blk_buf); i++)
		if (blk_buf[i] != (uint8_t)(sector * 7 + i))
			blk_bad("data", sector, i, blk_buf[i]);
}

void guest_main(uint32_t start_info)
{
	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	uint32_t npages = cmdline_uint(start_info, "pages", 2048);
	uint32_t rate = cmdline_uint(start_info, "rate", 0);
	uint32_t end = cmdline_uint(start_info, "ticks", 4000);
	uint32_t blk = cmdline_uint(start_info, "blk", 0), sector = 0;
	uint32_t gen = 1, p, next = REPORT_EVERY, checked = 0;
	uint32_t tick_seen = 0, this_tick = 0;

	idt_load();
	set_handler(PIC1_BASE + 0, pit_irq);
	pic_init(0xff, 0xff);
	if (lapic_present())
		lapic_enable(1);
	uart_puts("mig-pattern: start pages ");
	put_dec(npages);
	uart_puts("\n");
	if (blk) {
		const char *why = vmmio_setup(BLK_MMIO, 2, descs, &avail, &used);
		if (why)
			blk_bad(why, 0, 0, 0);
		blk_read_check(sector++);
	}
	for (p = 0; p < npages; p++)
		fill(p, gen);
	pit_start(PIT_1MS);
	outb(PIC1_DATA, 0xfe);		/* OCW1: IRQ 0 only */
	irq_enable();
	for (;;) {
		gen++;
		for (p = 0; p < npages; p++) {
			uint32_t t = ticks;

			if (rate) {
				/* At most `rate` pages a tick: wait for the next. */
				if (t != tick_seen) {
					tick_seen = t;
					this_tick = 0;
				}
				while (this_tick >= rate && ticks == tick_seen)
					;
				if (ticks != tick_seen) {
					tick_seen = ticks;
					this_tick = 0;
				}
				this_tick++;
			}
			check(p, gen - 1);
			fill(p, gen);
			checked++;
			if (t >= next) {
				uart_puts("mig-pattern: ticks ");
				put_dec(t);
				uart_puts(" gen ");
				put_dec(gen);
				uart_puts(" pages ");
				put_dec(checked);
				uart_puts("\n");
				if (blk)
					blk_read_check(sector++ % 2048);
				next = t - t % REPORT_EVERY + REPORT_EVERY;
			}
			if (t >= end)
				goto done;
		}
	}
done:
	irq_disable();
	/* Pages [0, p] hold this pass, the rest the one before. */
	for (uint32_t q = 0; q < npages; q++)
		check(q, q <= p ? gen : gen - 1);
	if (blk)
		blk_read_check(sector % 2048);
	uart_puts("MIG-PATTERN-OK ticks ");
	put_dec(ticks);
	uart_puts(" gen ");
	put_dec(gen);
	uart_puts(" checked ");
	put_dec(checked + npages);
	if (blk) {
		uart_puts(" sectors ");
		put_dec(sector + 1);
	}
	uart_puts("\n");
	halt();
}
