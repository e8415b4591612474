/* tests/guests-arm64/irq-bench.S - the arm64 interrupt-cost guest (issue
 * 11's benchmark, bench/nested-irq-arm64.sh): takes N interrupts of the
 * virtual timer (PPI 27) and prints on the pl011
 *   IRQ-BENCH n=<N> ticks=<CNTVCT ticks for all N> freq=<CNTFRQ>
 * then ends through PSCI SYSTEM_OFF.  Each interrupt is what Linux's
 * arch_timer does for one timer event: acknowledge, mask the timer (its
 * level drops), EOI, program the next event (here: now, so the level
 * rises again at once) and unmask.  So the figure is one interrupt's whole
 * round trip: the timer's level reaching the GIC, the GIC signalling the
 * vCPU, the acknowledge and the EOI.
 *
 * One source, two Images (tests/guests-arm64/local.mk):
 *   -DGIC_V3  irq-v3.img, machines/arm64-virt.conf: KVM's vGICv3
 *             (distributor 0x08000000, redistributor 0x080a0000; the CPU
 *             interface is the ICC_* system registers)
 *   -DGIC_V2  irq-v2.img, machines/arm64-virt-emulated.conf: the gic
 *             plugin's GICv2 (distributor 0x08000000, CPU interface
 *             0x08010000, both MMIO)
 * The header and entry state are guest.S's (booting.rst).  No stack: the
 * handler uses x10-x11 only, the count lives in x20, the target in x21.
 * A run that takes no interrupt for 20 s prints IRQ-BENCH-STUCK with the
 * count so far; any other exception IRQ-BENCH-FAULT with its ESR and ELR.
 */
#define UART      0x09000000
#define UARTDR    0x00
#define UARTFR    0x18
#define FR_TXFF   5
#define PSCI_SYSTEM_OFF 0x84000008
#define NIRQ      2000
#define VTIMER    27                 /* the virtual timer's PPI (INTID) */
#define GICD      0x08000000
/* GICv3 (IHI 0069): GICD_CTLR ARE (bit 4), EnableGrp1 (1), EnableGrp0 (0)
 * with one security state (KVM's DS = 1); the redistributor's RD frame
 * (GICR_WAKER at 0x14) and SGI frame 64 KiB above it */
#define GICR_RD   0x080a0000
#define GICR_SGI  0x080b0000
/* ICC_* by encoding (IHI 0069 12.2): the assembler needs no GIC names */
#define ICC_PMR_EL1     S3_0_C4_C6_0
#define ICC_IAR1_EL1    S3_0_C12_C12_0
#define ICC_EOIR1_EL1   S3_0_C12_C12_1
#define ICC_SRE_EL1     S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1 S3_0_C12_C12_7
/* GICv2 (IHI 0048): GICC_CTLR 0x0, PMR 0x4, IAR 0xc, EOIR 0x10 */
#define GICC      0x08010000

.macro movl reg, val
	movz	\reg, #((\val) & 0xffff)
	movk	\reg, #(((\val) >> 16) & 0xffff), lsl #16
.endm

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
	movl	x9, UART
	adr	x0, vectors
	msr	vbar_el1, x0
	isb
	movl	x1, GICD
#if defined(GIC_V3)
	mov	w2, #0x13                /* ARE, EnableGrp1, EnableGrp0 */
	str	w2, [x1]
	movl	x1, GICR_RD
	ldr	w2, [x1, #0x14]          /* GICR_WAKER: ProcessorSleep (1) off */
	bic	w2, w2, #2
	str	w2, [x1, #0x14]
1:	ldr	w2, [x1, #0x14]          /* until ChildrenAsleep (2) clears */
	tbnz	w2, #2, 1b
	movl	x1, GICR_SGI
	mov	w2, #(1 << VTIMER)
	str	w2, [x1, #0x80]          /* GICR_IGROUPR0: group 1 */
	movl	w3, 0x80808080
	str	w3, [x1, #0x418]         /* GICR_IPRIORITYR6: INTIDs 24-27 */
	str	w2, [x1, #0x100]         /* GICR_ISENABLER0 */
	mrs	x2, ICC_SRE_EL1
	orr	x2, x2, #1               /* SRE: the system-register interface */
	msr	ICC_SRE_EL1, x2
	isb
	mov	x2, #0xff
	msr	ICC_PMR_EL1, x2
	mov	x2, #1
	msr	ICC_IGRPEN1_EL1, x2
	isb
#else
	mov	w2, #1
	str	w2, [x1]                 /* GICD_CTLR: enable */
	movl	w3, 0x80808080
	str	w3, [x1, #0x418]         /* GICD_IPRIORITYR6: INTIDs 24-27 */
	mov	w2, #(1 << VTIMER)
	str	w2, [x1, #0x100]         /* GICD_ISENABLER0 (banked) */
	movl	x12, GICC
	mov	w2, #0xff
	str	w2, [x12, #0x4]          /* GICC_PMR */
	mov	w2, #1
	str	w2, [x12, #0x0]          /* GICC_CTLR: enable */
#endif
	adr	x1, msg_start
	bl	puts
	mov	x20, #0
	movl	x21, NIRQ
	mrs	x24, cntfrq_el0
	mov	x2, #20
	mul	x24, x24, x2             /* 20 s: a run that is stuck says so */
	isb
	mrs	x22, cntvct_el0
	msr	cntv_cval_el0, x22       /* due now */
	mov	x2, #1
	msr	cntv_ctl_el0, x2         /* ENABLE, IMASK clear */
	isb
	msr	daifclr, #2              /* IRQs on */
	/* a busy wait, not wfi: the next interrupt is due at once, and a
	 * lost one must end the run, not park it */
2:	cmp	x20, x21
	b.hs	3f
	mrs	x2, cntvct_el0
	sub	x2, x2, x22
	cmp	x2, x24
	b.lo	2b
	msr	daifset, #2
	adr	x1, msg_stuck
	bl	puts
	mov	x0, x20
	bl	putdec
	adr	x1, msg_nl
	bl	puts
	b	off
3:	msr	daifset, #2
	isb
	mrs	x23, cntvct_el0
	msr	cntv_ctl_el0, xzr

	adr	x1, msg_n
	bl	puts
	mov	x0, x20
	bl	putdec
	adr	x1, msg_ticks
	bl	puts
	sub	x0, x23, x22
	bl	putdec
	adr	x1, msg_freq
	bl	puts
	mrs	x0, cntfrq_el0
	bl	putdec
	adr	x1, msg_nl
	bl	puts
off:	movl	x0, PSCI_SYSTEM_OFF
	hvc	#0
9:	wfi
	b	9b

/* Any other exception: its syndrome, then off (a bench that faults must
 * say so rather than hang). */
fault:
	adr	x1, msg_fault
	bl	puts
	mrs	x0, esr_el1
	bl	putdec
	adr	x1, msg_elr
	bl	puts
	mrs	x0, elr_el1
	bl	putdec
	adr	x1, msg_nl
	bl	puts
	b	off

irq:
#if defined(GIC_V3)
	mrs	x10, ICC_IAR1_EL1
#else
	ldr	w10, [x12, #0xc]         /* GICC_IAR */
#endif
	and	w11, w10, #0x3ff
	cmp	w11, #1020               /* 1020-1023: spurious, no EOI */
	b.hs	5f
	cmp	w11, #VTIMER
	b.ne	4f
	add	x20, x20, #1
	mov	x11, #3                  /* ENABLE | IMASK: the level drops */
	msr	cntv_ctl_el0, x11
4:
#if defined(GIC_V3)
	msr	ICC_EOIR1_EL1, x10
#else
	str	w10, [x12, #0x10]        /* GICC_EOIR */
#endif
	cmp	x20, x21
	b.hs	5f                       /* done: the timer stays masked */
	mrs	x11, cntvct_el0
	msr	cntv_cval_el0, x11       /* the next event: now */
	mov	x11, #1
	msr	cntv_ctl_el0, x11        /* unmasked: the level rises again */
5:	isb
	eret

/* puts(x1): NUL-terminated string at x1 to the UART at x9. */
puts:
	ldrb	w4, [x1], #1
	cbz	w4, 7f
6:	ldr	w5, [x9, #UARTFR]
	tbnz	w5, #FR_TXFF, 6b
	str	w4, [x9, #UARTDR]
	b	puts
7:	ret

/* putdec(x0): x0 in decimal (digits built backwards in numbuf). */
putdec:
	adr	x1, numbuf_end
	strb	wzr, [x1]
	mov	x3, #10
8:	udiv	x4, x0, x3
	msub	x5, x4, x3, x0
	add	w5, w5, #'0'
	strb	w5, [x1, #-1]!
	mov	x0, x4
	cbnz	x0, 8b
	b	puts

msg_start:	.asciz "irq-bench: GIC ready, timer on\n"
msg_stuck:	.asciz "IRQ-BENCH-STUCK after 20 s: interrupts taken "
msg_fault:	.asciz "IRQ-BENCH-FAULT esr="
msg_elr:	.asciz " elr="
msg_n:		.asciz "IRQ-BENCH n="
msg_ticks:	.asciz " ticks="
msg_freq:	.asciz " freq="
msg_nl:		.asciz "\n"
numbuf:		.space 24
numbuf_end:	.byte 0

/* VBAR_EL1's table (ARM ARM D1.10.2): 16 entries of 0x80 bytes; IRQs
 * from EL1 with SP_EL0 at 0x080 and with SP_EL1 at 0x280 (KVM starts the
 * vCPU in EL1h); every other entry reports the fault. */
	.balign	2048
vectors:
	.org	vectors + 0x000
	b	fault
	.org	vectors + 0x080
	b	irq
	.org	vectors + 0x100
	b	fault
	.org	vectors + 0x180
	b	fault
	.org	vectors + 0x200
	b	fault
	.org	vectors + 0x280
	b	irq
	.org	vectors + 0x300
	b	fault
	.org	vectors + 0x380
	b	fault
	.org	vectors + 0x400
	b	fault
	.org	vectors + 0x480
	b	fault
	.org	vectors + 0x500
	b	fault
	.org	vectors + 0x580
	b	fault
	.org	vectors + 0x600
	b	fault
	.org	vectors + 0x680
	b	fault
	.org	vectors + 0x700
	b	fault
	.org	vectors + 0x780
	b	fault
	.org	vectors + 0x800
	.balign	8
_end:
