/* tests/guests-arm64/guest.S - the arm64 first-light guest: an Image that
 * checks its entry state, prints one line on the pl011 at 0x09000000 (the
 * UARTDR by MMIO, polling UARTFR.TXFF) and ends through KVM's PSCI.
 *
 * One source, four Images (tests/guests-arm64/local.mk):
 *   -DGUEST_OFF    hello.img: the line, then PSCI SYSTEM_OFF (status 0)
 *   -DGUEST_RESET  reset.img: a line, then PSCI SYSTEM_RESET (status 6)
 *   -DGUEST_NISV   nisv.img:  a line, then a store pair to the UART, an
 *                  MMIO access without a valid syndrome (ISV = 0) that
 *                  vmmctl must refuse (status 4), never abort on
 *   -DGUEST_GIC    gic.img: for machines/arm64-virt.conf: reads the GICv3
 *                  distributor's GICD_PIDR2 (KVM's vGIC answers; ArchRev,
 *                  bits 7:4, is 3) and the pl031's RTCDR (vmmctl answers:
 *                  an MMIO read exit; the time, never 0), says which it
 *                  found, then SYSTEM_OFF
 *   -DGUEST_SNAP   snap.img: for machines/arm64-virt-emulated.conf (2
 *                  vCPUs), the guest snapshotted and restored, and
 *                  live-migrated, by tests/e2e/nested-arm64.sh (issue 14;
 *                  tests/guests/snap-count.c is x86's): below
 *
 * The header is booting.rst's ("Call the kernel image"): code0 branches
 * past it, text_offset 0, image_size the whole Image, flags 0xa (little
 * endian, 4 KiB pages, placeable anywhere in RAM), magic "ARM\x64" at
 * 0x38.  Entry state (booting.rst): EL1, MMU off, D/A/I/F masked, x0 the
 * device tree's physical address; each is checked and a failed check
 * prints its own line instead of the greeting.
 */
#define UART      0x09000000
#define UARTDR    0x00
#define UARTFR    0x18
#define FR_TXFF   5          /* PL011 TRM 3.3.3: transmit FIFO full */
/* PSCI (Arm DEN 0022, 5.1): SMC32/HVC32 function ids */
#define PSCI_SYSTEM_OFF   0x84000008
#define PSCI_SYSTEM_RESET 0x84000009
#define FDT_MAGIC_LE 0xedfe0dd0 /* 0xd00dfeed, big-endian in memory */
#define GICD_PIDR2 0x0800ffe8   /* GICv3 spec 12.9.27: ArchRev in bits 7:4 */
#define RTCDR      0x09010000   /* the pl031's data register */

	.text
	.globl _start
_start:
	b	entry                    /* code0 */
	.long	0                        /* code1 */
	.quad	0                        /* text_offset */
	.quad	_end - _start            /* image_size */
	.quad	0xa                      /* flags */
	.quad	0, 0, 0                  /* res2-res4 */
	.ascii	"ARM\x64"                /* magic, at 0x38 */
	.long	0                        /* res5 */

entry:
	mov	x19, x0                  /* the device tree's address */
	mov	x9, #UART
	adr	x1, msg_bad_el
	mrs	x2, CurrentEL            /* bits 3:2: the exception level */
	cmp	x2, #(1 << 2)
	b.ne	say
	adr	x1, msg_bad_daif
	mrs	x2, DAIF
	cmp	x2, #0x3c0               /* D, A, I and F set */
	b.ne	say
	adr	x1, msg_bad_dtb
	cbz	x19, say
	ldr	w2, [x19]
	movz	w3, #(FDT_MAGIC_LE & 0xffff)
	movk	w3, #(FDT_MAGIC_LE >> 16), lsl #16
	cmp	w2, w3
	b.ne	say
	adr	x1, msg_hello
#if defined(GUEST_SNAP)
	b	snap_main
#endif
#if defined(GUEST_GIC)
	adr	x1, msg_no_gic
	movz	x2, #(GICD_PIDR2 & 0xffff)
	movk	x2, #(GICD_PIDR2 >> 16), lsl #16
	ldr	w3, [x2]
	ubfx	w3, w3, #4, #4
	cmp	w3, #3
	b.ne	say
	adr	x1, msg_no_rtc
	movz	x2, #(RTCDR & 0xffff)
	movk	x2, #(RTCDR >> 16), lsl #16
	ldr	w3, [x2]
	cbz	w3, say
	adr	x1, msg_hello
#endif
say:
	bl	puts
#if defined(GUEST_NISV)
	/* A store pair has no syndrome for KVM to decode (ARM ARM, ISV is 0
	 * for LDP/STP): KVM cannot emulate it as MMIO. */
	stp	x1, x2, [x9]
#elif defined(GUEST_RESET)
	movz	x0, #(PSCI_SYSTEM_RESET & 0xffff)
	movk	x0, #(PSCI_SYSTEM_RESET >> 16), lsl #16
	hvc	#0
#else
	movz	x0, #(PSCI_SYSTEM_OFF & 0xffff)
	movk	x0, #(PSCI_SYSTEM_OFF >> 16), lsl #16
	hvc	#0
#endif
1:	wfi                              /* PSCI does not return */
	b	1b

/* puts(x1): NUL-terminated string at x1 to the UART at x9. */
puts:
	ldrb	w4, [x1], #1             /* RAM: writeback addressing is fine here */
	cbz	w4, 3f
2:	ldr	w5, [x9, #UARTFR]        /* MMIO: plain register addressing, ISV = 1 */
	tbnz	w5, #FR_TXFF, 2b
	str	w4, [x9, #UARTDR]
	b	puts
3:	ret

#if defined(GUEST_SNAP)
#include "snap-count.inc"
#endif

#if defined(GUEST_NISV)
msg_hello:	.asciz "arm64 guest: a store pair to the UART next\n"
#elif defined(GUEST_RESET)
msg_hello:	.asciz "arm64 guest: asking for a reset\n"
#elif defined(GUEST_SNAP)
msg_hello:	.asciz "snap-count: start\n"
#elif defined(GUEST_GIC)
msg_hello:	.asciz "arm64 guest: a GICv3 distributor at 0x08000000 and the pl031's time\n"
msg_no_gic:	.asciz "arm64 guest: no GICv3 at 0x08000000\n"
msg_no_rtc:	.asciz "arm64 guest: the pl031 reads 0\n"
#else
msg_hello:	.asciz "Hello from an arm64 vmm guest: EL1, DAIF masked, x0 -> device tree\n"
#endif
msg_bad_el:	.asciz "arm64 guest: BAD entry: not at EL1\n"
msg_bad_daif:	.asciz "arm64 guest: BAD entry: DAIF not all masked\n"
msg_bad_dtb:	.asciz "arm64 guest: BAD entry: x0 is not a device tree\n"
	.balign	8
_end:
