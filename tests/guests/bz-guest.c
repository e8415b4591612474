/* tests/guests/bz-guest.c - a "fake Linux" for vmmctl's bzImage loader
 * (64-bit boot protocol).  It checks what a kernel relies on at its 64-bit
 * entry: long mode with paging, and a zero page (struct boot_params, see
 * Linux's Documentation/arch/x86/zero-page.rst) with the boot flag, loader
 * type, command line, initrd and e820 map; prints one line per check on
 * COM1 (polled) and exits through the debug-exit port: 0 when every check
 * passed, 0x10 otherwise (vmmctl status 33).
 *
 * The test's initrd starts with BZ_INITRD_MAGIC and ends with '\n'. */
#include <stdint.h>

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define BZ_INITRD_MAGIC "VMMINITRD:PATTRN"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc_(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void put_hex(uint64_t v)
{
	puts_("0x");
	int started = 0;
	for (int shift = 60; shift >= 0; shift -= 4) {
		unsigned d = (unsigned)(v >> shift) & 0xf;
		if (d || started || shift == 0) {
			putc_((char)(d < 10 ? '0' + d : 'a' + d - 10));
			started = 1;
		}
	}
}

static void put_dec(uint64_t v)
{
	char buf[24];
	int i = 0;
	do {
		buf[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		putc_(buf[--i]);
}

static unsigned failures;

static void check(int ok, const char *what)
{
	puts_(ok ? "ok: " : "FAIL: ");
	puts_(what);
	putc_('\n');
	failures += !ok;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

/* Is [addr, addr+len) inside one e820 RAM entry? */
static int in_ram(const uint8_t *zp, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < zp[0x1e8]; i++) {
		const uint8_t *e = zp + 0x2d0 + 20 * i;
		uint64_t a = rd64(e), s = rd64(e + 8);
		if (rd32(e + 16) == 1 && addr >= a && addr + len <= a + s)
			return 1;
	}
	return 0;
}

void bz_main(const uint8_t *zp);

void bz_main(const uint8_t *zp)
{
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	check((rdmsr(0xc0000080) & 0x500) == 0x500, "long mode (EFER.LME and LMA)");
	check((cr0 & 0x80000001) == 0x80000001 && (cr4 & 0x20), "paging with PAE");

	puts_("zero page at ");
	put_hex((uintptr_t)zp);
	putc_('\n');
	check(rd16(zp + 0x1fe) == 0xaa55, "boot_flag 0xaa55");
	check(rd32(zp + 0x202) == 0x53726448, "header magic HdrS");
	check(zp[0x210] == 0xff, "type_of_loader 0xff");
	check((zp[0x211] & 0x81) == 0x81, "loadflags LOADED_HIGH and CAN_USE_HEAP");

	uint64_t cl = rd32(zp + 0x228) | (uint64_t)rd32(zp + 0xc8) << 32;
	check(cl != 0, "cmd_line_ptr set");
	if (cl) {
		puts_("cmdline: ");
		puts_((const char *)(uintptr_t)cl);
		putc_('\n');
	}

	uint64_t rd = rd32(zp + 0x218) | (uint64_t)rd32(zp + 0xc0) << 32;
	uint64_t rs = rd32(zp + 0x21c) | (uint64_t)rd32(zp + 0xc4) << 32;
	if (rs) {
		const char *p = (const char *)(uintptr_t)rd, *want = BZ_INITRD_MAGIC;
		int same = 1;
		for (unsigned i = 0; want[i]; i++)
			same &= p[i] == want[i];
		puts_("initrd: ");
		put_dec(rs);
		puts_(" bytes at ");
		put_hex(rd);
		putc_('\n');
		check((rd & 0xfff) == 0, "initrd page-aligned");
		check(same && p[rs - 1] == '\n', "initrd starts with the pattern and ends with a newline");
		check(in_ram(zp, rd, rs), "initrd in e820 RAM");
	} else {
		puts_("initrd: none\n");
	}

	unsigned n = zp[0x1e8];
	puts_("e820: ");
	put_dec(n);
	puts_(" entries\n");
	int sane = n >= 3 && n <= 128 && rd64(zp + 0x2d0) == 0 && rd32(zp + 0x2d0 + 16) == 1;
	for (unsigned i = 0; i < n && i < 128; i++) {
		const uint8_t *e = zp + 0x2d0 + 20 * i;
		puts_("e820: ");
		put_hex(rd64(e));
		puts_(" ");
		put_hex(rd64(e + 8));
		puts_(" type ");
		put_dec(rd32(e + 16));
		putc_('\n');
		if (i && rd64(e) < rd64(e - 20) + rd64(e - 20 + 8))
			sane = 0; /* unsorted or overlapping */
	}
	check(sane, "e820 sorted, starting with RAM at 0");
	check(in_ram(zp, (uintptr_t)zp, 4096), "zero page in e820 RAM");
	check(in_ram(zp, (uintptr_t)&bz_main, 1), "kernel in e820 RAM");
	check(!in_ram(zp, 0xa0000, 1), "legacy hole 0xa0000 not RAM");

	if (failures) {
		puts_("bzimage: ");
		put_dec(failures);
		puts_(" checks failed\n");
		outb(DEBUG_EXIT_PORT, 0x10);
	} else {
		puts_("bzimage: all checks passed\n");
		outb(DEBUG_EXIT_PORT, 0);
	}
	for (;;)
		__asm__ volatile("hlt");
}
