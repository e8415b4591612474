/* tests/guests/rtc.c - the MC146818 RTC:
 *   1. reads the time after update-in-progress clears (twice, until two
 *      reads agree), decodes BCD and 12-hour mode per register B, checks
 *      it is plausible (year 2024-2099, month 1-12, day 1-31, hours 0-23)
 *      and prints "rtc: YYYY-MM-DD HH:MM:SS";
 *   2. periodic interrupts at 1024 Hz (register A rate 6, register B PIE)
 *      on IRQ 8 through the slave 8259 (master IRQ 2 and slave IRQ 8
 *      unmasked, EOI to both, register C read in the handler): 64 of them,
 *      "rtc: 64 periodic interrupts"; "RTC-DONE", debug-exit 0x21. */
#include "irq-lib.h"

static volatile uint32_t ticks;

static void rtc_irq(unsigned vector)
{
	(void)vector;
	(void)rtc_read(RTC_REG_C);	/* acknowledges; re-arms IRQF */
	ticks++;
	outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

struct rtc_time {
	uint8_t sec, min, hour, day, mon, year;
};

static void rtc_time_read(struct rtc_time *t)
{
	while (rtc_read(RTC_REG_A) & 0x80)	/* UIP */
		;
	t->sec = rtc_read(0x00);
	t->min = rtc_read(0x02);
	t->hour = rtc_read(0x04);
	t->day = rtc_read(0x07);
	t->mon = rtc_read(0x08);
	t->year = rtc_read(0x09);
}

static uint8_t bcd(uint8_t v)
{
	return (uint8_t)((v >> 4) * 10 + (v & 15));
}

static void put2(uint32_t v)
{
	if (v < 10)
		uart_putc('0');
	put_dec(v);
}

void guest_main(uint32_t start_info)
{
	struct rtc_time a, b;
	uint8_t regb, pm;
	uint32_t year;

	if (start_info == 0 || *(const volatile uint32_t *)start_info != HVM_START_MAGIC)
		fail("start_info magic");
	idt_load();
	set_handler(PIC2_BASE + 0, rtc_irq);
	pic_init(0xff, 0xff);
	if (lapic_present())
		lapic_enable(1);

	for (int tries = 0;; tries++) {
		rtc_time_read(&a);
		rtc_time_read(&b);
		if (a.sec == b.sec && a.min == b.min && a.hour == b.hour &&
		    a.day == b.day && a.mon == b.mon && a.year == b.year)
			break;
		if (tries == 5)
			fail("rtc: time keeps changing between reads");
	}
	regb = rtc_read(RTC_REG_B);
	pm = a.hour & 0x80;
	a.hour &= 0x7f;
	if (!(regb & 0x04)) {		/* DM = 0: BCD */
		a.sec = bcd(a.sec);
		a.min = bcd(a.min);
		a.hour = bcd(a.hour);
		a.day = bcd(a.day);
		a.mon = bcd(a.mon);
		a.year = bcd(a.year);
	}
	if (!(regb & 0x02)) {		/* 24/12 = 0: 12-hour mode */
		if (a.hour == 12)
			a.hour = 0;
		if (pm)
			a.hour = (uint8_t)(a.hour + 12);
	}
	year = 2000u + a.year;
	uart_puts("rtc: ");
	put_dec(year);
	uart_putc('-');
	put2(a.mon);
	uart_putc('-');
	put2(a.day);
	uart_putc(' ');
	put2(a.hour);
	uart_putc(':');
	put2(a.min);
	uart_putc(':');
	put2(a.sec);
	uart_puts(regb & 0x04 ? " (binary)\n" : " (bcd)\n");
	if (year < 2024 || year > 2099 || a.mon < 1 || a.mon > 12 || a.day < 1 ||
	    a.day > 31 || a.hour > 23 || a.min > 59 || a.sec > 59)
		fail("rtc: implausible date or time");

	(void)rtc_read(RTC_REG_C);		/* clear stale flags */
	rtc_write(RTC_REG_A, 0x26);		/* 32.768 kHz time base, rate 6: 1024 Hz */
	rtc_write(RTC_REG_B, regb | 0x40);	/* PIE */
	outb(PIC2_DATA, 0xfe);			/* slave: IRQ 8 */
	outb(PIC1_DATA, 0xfb);			/* master: IRQ 2 (cascade) */
	while (ticks < 64)
		irq_wait();
	outb(PIC2_DATA, 0xff);
	outb(PIC1_DATA, 0xff);
	rtc_write(RTC_REG_B, regb & (uint8_t)~0x40);
	uart_puts("rtc: 64 periodic interrupts\n");
	uart_puts("RTC-DONE\n");
	guest_exit(EXIT_OK);
}
