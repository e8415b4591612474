/* SPDX-License-Identifier: MIT */
/*
 * vmm/host.h - the services the core offers to every plugin instance.
 *
 * The core hands each plugin instance its own const struct vmm_host *.  Every
 * service takes that pointer first, so the core (or the test harness, or a
 * fuzzer) knows which instance is calling.  Plugins never call core symbols
 * directly: the same .so runs under vmmctl and under the unit-test harness.
 *
 * Error convention: int-returning services return 0 on success or a negative
 * errno; pointer-returning services return NULL on failure.
 *
 * Threads and locking: the core serialises every call into one *device*
 * instance (bus accesses from any vCPU thread, timer and fd callbacks from the
 * main thread, character input) with a per-instance lock, so device code needs
 * no locking of its own.  Backend plugins are not serialised: their ops may be
 * called from any thread and must be thread-safe.
 *
 * Check h->size before using a service appended after ABI 1.0.
 * ABI 1.2 (unreleased) adds block and net backends and write notifications
 * (notify_register / notify_unregister).
 * ABI 1.3 adds net link changes (net_link_set, vmm_net_client.link_changed,
 * VMM_NET_LINK_DOWN).
 * ABI 1.4 adds character connection changes (char_connected,
 * vmm_char_client.connected, char_is_connected).
 * ABI 1.5 adds msi_route: an IOAPIC tells the hypervisor what its
 * level-triggered pins send, so that their EOIs come back.
 * ABI 1.7 adds VMM_DESC_GICV3: a GICv3 described for arm64 device trees.
 * ABI 1.8 adds an arm64 interrupt controller in a plugin: vcpu_count,
 * cpu_irq_line (its outputs to the vCPUs' IRQ and FIQ inputs),
 * private_irq_set and vmm_irq_controller_ops.set_private (per-vCPU lines
 * such as the architected timers' PPIs, reported by the hypervisor), and
 * VMM_DESC_GICV2.
 * ABI 1.9 adds cpuid_set (a device's CPUID leaves, e.g. Hyper-V's),
 * vcpu_tsc (a vCPU's TSC, the virtual clock at the same moment, its rate)
 * and VMM_STOP_CRASH.
 * ABI 1.11 adds block_io_batch: many block requests in flight at once.
 * ABI 1.12 adds saved state (state_put, state_get; vmm/state.h).
 * ABI 1.13 adds the hypervisor's in-kernel Hyper-V: hyperv_cpuid,
 * hyperv_enable and struct vmm_hyperv_client.
 * ABI 1.14 adds hv_device_create and hv_device_attr: a device plugin
 * creates an in-kernel device of the hypervisor's (KVM's vGIC) and sets
 * its attributes and the vCPUs' (the timers' PPIs); timer_outputs and
 * timer_outputs_register: the architected timers' output levels the
 * hypervisor reports, for the arm-timer plugin; VMM_DESC_ARM_TIMER;
 * vcpu_reg_write from a device's ready op (the timer's virtual count).
 * ABI 1.15 adds mark_dirty: guest memory a device wrote through mem_map,
 * for live migration's dirty-page rounds.
 */
#ifndef VMM_HOST_H
#define VMM_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vmm_log_level {
	VMM_LOG_ERROR = 0,
	VMM_LOG_WARN = 1,
	VMM_LOG_INFO = 2,
	VMM_LOG_DEBUG = 3,
	VMM_LOG_GUEST_ERROR = 4, /* the guest did something wrong; rate-limited and counted */
};

enum vmm_bus {
	VMM_BUS_PIO = 0,  /* x86 I/O ports, 16-bit addresses */
	VMM_BUS_MMIO = 1, /* guest-physical addresses */
	VMM_BUS_MSR = 2,  /* x86 model-specific registers: an address is one MSR
			   * number, a region's length counts MSRs, and every
			   * access is 8 bytes at offset (index - base) */
	VMM_BUS_COUNT
};

/* Access sizes a region accepts, as a bit mask of the byte counts. */
#define VMM_ACCESS_1 (1u << 0)
#define VMM_ACCESS_2 (1u << 1)
#define VMM_ACCESS_4 (1u << 2)
#define VMM_ACCESS_8 (1u << 3)
#define VMM_ACCESS_ANY (VMM_ACCESS_1 | VMM_ACCESS_2 | VMM_ACCESS_4 | VMM_ACCESS_8)

/*
 * A bus region.  The bus only calls read/write with a size in access_sizes
 * and an offset inside the region: a wider access is split into the largest
 * accepted sizes; an access narrower than every accepted size is refused (a
 * read returns all ones, a write is dropped) and counted as a guest error.
 * A non-zero return reports a guest error: PIO/MMIO reads then return all
 * ones, and on the MSR bus the guest gets #GP.
 */
struct vmm_region_ops {
	uint32_t size;         /* sizeof(struct vmm_region_ops) */
	uint32_t access_sizes; /* VMM_ACCESS_* mask; 0 means VMM_ACCESS_ANY */
	int (*read)(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t *value);
	int (*write)(void *opaque, unsigned vcpu, uint64_t offset, unsigned len, uint64_t value);
};

/* Opaque handles owned by the core. */
struct vmm_irq_line;
struct vmm_timer;
struct vmm_watch;
struct vmm_char;
struct vmm_block;
struct vmm_net;
struct vmm_notify;
struct vmm_state_out; /* a record being saved (vmm/state.h) */
struct vmm_state_in;  /* a record being loaded */

/* fd watch events */
#define VMM_FD_READ  (1u << 0)
#define VMM_FD_WRITE (1u << 1)

/* What a device gives when it opens a character backend. */
struct vmm_char_client {
	uint32_t size; /* sizeof(struct vmm_char_client) */
	/* How many bytes the device can take now (e.g. free receive FIFO slots). */
	size_t (*can_receive)(void *opaque);
	/* Bytes from the backend; never more than can_receive() said. */
	void (*receive)(void *opaque, const uint8_t *buf, size_t len);
	/* ABI 1.4, may be NULL: someone connected to (true) or left (false)
	 * the host side of the backend (its char_connected), e.g. a client on
	 * a socket.  Called under the device's instance lock, only when the
	 * state differs from the last one the device was given (what
	 * char_is_connected() said at open, then each call). */
	void (*connected)(void *opaque, bool connected);
};

/* Where the machine's interrupt controllers live (the hypervisor's
 * `irqchip` setting). */
enum vmm_irq_mode {
	VMM_IRQ_EMULATED = 0, /* all in plugins; uniprocessor; the PIC feeds the CPU directly */
	VMM_IRQ_SPLIT = 1,    /* local APICs in the hypervisor; PIC, IOAPIC, PIT in plugins */
	VMM_IRQ_KERNEL = 2,   /* PIC, IOAPIC, local APICs (and the PIT on request) in the hypervisor */
};

/* What a plugin may ask the hypervisor to run in the kernel. */
enum vmm_accel {
	VMM_ACCEL_PIT = 1, /* an in-kernel i8254 on ports 0x40-0x43 and 0x61, output on line 0 */
};

/* A plugin that owns interrupt lines (ABI 1.1): an 8259 or an IOAPIC. */
struct vmm_irq_controller_ops {
	uint32_t size; /* sizeof(struct vmm_irq_controller_ops) */
	/* A device drove `line` to `level`. */
	void (*set_level)(void *opaque, uint32_t line, int level);
	/* Interrupt acknowledge for the controller that drives a CPU's INTR
	 * pin (cpu_intr_set): the vector to deliver now, or -1 for none.
	 * May be NULL for controllers that deliver by MSI. */
	int (*ack)(void *opaque, unsigned vcpu);
	/* A local APIC signalled end-of-interrupt for `vector` (level-
	 * triggered interrupts; the IOAPIC's remote IRR).  May be NULL. */
	void (*eoi)(void *opaque, uint32_t vector);
	/* ABI 1.8, may be NULL: line `line`, private to vCPU `vcpu`, changed
	 * to `level` (private_irq_set: on arm64 a PPI, INTID 16-31, such as
	 * an architected timer's output that the hypervisor reports).  Called
	 * under this instance's lock; a controller that has it receives every
	 * private line of every vCPU, whatever lines it registered. */
	void (*set_private)(void *opaque, unsigned vcpu, uint32_t line, int level);
};

/* The architected timers' outputs of one vCPU (ABI 1.14, arm64: ARM ARM
 * D11.2, a timer's interrupt is a level, high while its condition is met
 * and it is enabled and unmasked).  The bits are KVM's device_irq_level. */
#define VMM_TIMER_OUT_VIRT (1u << 0) /* EL1 virtual timer, CNTV_* */
#define VMM_TIMER_OUT_PHYS (1u << 1) /* EL1 physical timer, CNTP_* */

/* What the device that owns the timers' interrupts gives (ABI 1.14,
 * timer_outputs_register): the arm-timer plugin. */
struct vmm_timer_output_ops {
	uint32_t size; /* sizeof(struct vmm_timer_output_ops) */
	/* vCPU `vcpu`'s timer outputs are now `levels` (VMM_TIMER_OUT_*
	 * bits high); `changed` holds the bits that differ from the last
	 * report.  Called on that vCPU's thread under this instance's lock,
	 * before the core handles the exit that brought it: the device
	 * drives its interrupts (private_irq_set) before the guest runs on. */
	void (*levels)(void *opaque, unsigned vcpu, uint32_t levels, uint32_t changed);
};

/* A vCPU's interrupt inputs (ABI 1.8, arm64: ARM ARM, the IRQ and FIQ
 * exceptions), driven by an interrupt controller plugin through
 * cpu_irq_line(). */
enum vmm_cpu_pin {
	VMM_CPU_IRQ = 0,
	VMM_CPU_FIQ = 1,
};

/* How a device appears in the firmware tables (ACPI DSDT/MADT/FADT, later an
 * FDT): devices describe themselves and the core writes the tables, so a
 * new device needs no core change (ABI 1.1). */
enum vmm_desc_kind {
	VMM_DESC_DEVICE = 0,  /* a DSDT Device with _HID, _UID and _CRS from res[] */
	VMM_DESC_PIC = 1,     /* a PC 8259 pair is present (MADT PCAT_COMPAT) */
	VMM_DESC_IOAPIC = 2,  /* MADT I/O APIC: res[0] its MMIO window, apic_id, gsi_base */
	VMM_DESC_ACPI_PM = 3, /* the FADT's fixed hardware: res[0] an I/O block laid out as
			       * PM1a_EVT (+0, 4 bytes), PM1a_CNT (+4, 2), PM_TMR (+8, 4,
			       * 32-bit), RESET (+12, 1 byte, written with 1); res[1] the
			       * SCI line */
	VMM_DESC_I8042 = 4,   /* an 8042 keyboard controller (FADT IAPC_BOOT_ARCH) */
	VMM_DESC_RTC = 5,     /* a CMOS RTC: also a DSDT Device; `century` is its CMOS index */
	VMM_DESC_GICV3 = 6,   /* ABI 1.7, arm64: a GICv3 for the device tree, e.g. the
			       * hypervisor's in-kernel one: res[0] its distributor
			       * (GICD), res[1..] its redistributor regions (GICR), all
			       * VMM_RES_MMIO; gsi_base the INTIDs it implements (32 *
			       * (GICD_TYPER.ITLinesNumber + 1)), 0 for all up to 1019 */
	VMM_DESC_GICV2 = 7,   /* ABI 1.8, arm64: a GICv2 for the device tree, e.g. the
			       * gic plugin's: res[0] its distributor (GICD, 4 KiB),
			       * res[1] its CPU interface (GICC, 8 KiB), both
			       * VMM_RES_MMIO; gsi_base the INTIDs it implements, as
			       * for VMM_DESC_GICV3 */
	VMM_DESC_ARM_TIMER = 8, /* ABI 1.14, arm64: the architected timer for the device
				 * tree (arm,armv8-timer), e.g. the arm-timer plugin:
				 * res[0..3] VMM_RES_IRQ, the INTIDs (PPIs, 16-31) of
				 * the secure physical, non-secure physical, virtual
				 * and hypervisor timers, the binding's order */
};

enum vmm_res_type {
	VMM_RES_IO = 1,   /* I/O ports [base, base + len) */
	VMM_RES_MMIO = 2, /* guest-physical [base, base + len) */
	VMM_RES_IRQ = 3,  /* interrupt line `base` */
};

/* VMM_RES_IRQ flags; 0 is edge-triggered, active high, exclusive (ISA). */
#define VMM_RES_IRQ_LEVEL      (1u << 0)
#define VMM_RES_IRQ_ACTIVE_LOW (1u << 1)
#define VMM_RES_IRQ_SHARED     (1u << 2)

struct vmm_resource {
	uint32_t type;  /* enum vmm_res_type */
	uint32_t flags; /* VMM_RES_IRQ_* for interrupts */
	uint64_t base;
	uint64_t len;
};

struct vmm_device_desc {
	uint32_t size;          /* sizeof(struct vmm_device_desc) */
	uint32_t kind;          /* enum vmm_desc_kind */
	const char *acpi_hid;   /* "PNP0501" (EISA id) or "LNRO0005" (ACPI id); NULL: none */
	uint32_t acpi_uid;
	/* For device trees: the node's compatible list, most specific
	 * first, compatibles separated by single spaces ("arm,pl011
	 * arm,primecell").  A compatible never contains a space, so the FDT
	 * builder splits on them into the property's NUL-separated strings.
	 * NULL: none. */
	const char *fdt_compatible;
	const struct vmm_resource *res;
	uint32_t nres;
	uint32_t apic_id;       /* VMM_DESC_IOAPIC */
	uint32_t gsi_base;      /* VMM_DESC_IOAPIC */
	uint32_t century;       /* VMM_DESC_RTC: CMOS index of the century byte, 0: none */
};

/* A block backend as a device sees it (ABI 1.2). */
#define VMM_BLOCK_READONLY     (1u << 0) /* writes, discards and zeroing fail with -EROFS */
#define VMM_BLOCK_DISCARD      (1u << 1) /* VMM_BLOCK_OP_DISCARD may deallocate */
#define VMM_BLOCK_WRITE_ZEROES (1u << 2) /* VMM_BLOCK_OP_WRITE_ZEROES is offered */

struct vmm_block_info {
	uint32_t size;  /* sizeof(struct vmm_block_info) */
	uint32_t flags; /* VMM_BLOCK_* */
	uint64_t bytes; /* the disk's size */
};

enum vmm_block_op {
	VMM_BLOCK_OP_READ = 0,         /* iov <- [offset, offset + iov bytes) */
	VMM_BLOCK_OP_WRITE = 1,        /* iov -> [offset, ...) */
	VMM_BLOCK_OP_FLUSH = 2,        /* completed writes reach stable storage */
	VMM_BLOCK_OP_DISCARD = 3,      /* [offset, offset + len) may be deallocated; a
					* backend that cannot returns -EOPNOTSUPP */
	VMM_BLOCK_OP_WRITE_ZEROES = 4, /* [offset, offset + len) reads as zeroes */
};

struct vmm_block_req {
	uint32_t op;              /* enum vmm_block_op */
	int iovcnt;               /* READ, WRITE: segments, at most 1024 (IOV_MAX) */
	const struct iovec *iov;
	uint64_t offset;          /* bytes */
	uint64_t len;             /* DISCARD, WRITE_ZEROES: bytes */
};

/* Requests one block_io_batch call (ABI 1.11) takes at most. */
#define VMM_BLOCK_BATCH_MAX 256

/*
 * A network frame's leading header (ABI 1.2): the layout of struct
 * virtio_net_hdr for virtio 1.x (virtio 1.2, 5.1.6), 12 bytes, fields
 * little-endian.  Every frame between a net device and a net backend
 * starts with one, in both directions.
 */
struct vmm_net_hdr {
	uint8_t flags;        /* VMM_NET_HDR_F_* */
	uint8_t gso_type;     /* VMM_NET_HDR_GSO_* */
	uint16_t hdr_len;     /* GSO: bytes of headers */
	uint16_t gso_size;    /* GSO: payload bytes per segment */
	uint16_t csum_start;  /* NEEDS_CSUM: checksum from here ... */
	uint16_t csum_offset; /* ... stored at csum_start + csum_offset */
	uint16_t num_buffers; /* receive buffers a frame spans (mergeable buffers) */
};

#define VMM_NET_HDR_F_NEEDS_CSUM 1
#define VMM_NET_HDR_F_DATA_VALID 2
#define VMM_NET_HDR_GSO_NONE  0
#define VMM_NET_HDR_GSO_TCPV4 1
#define VMM_NET_HDR_GSO_UDP   3
#define VMM_NET_HDR_GSO_TCPV6 4
#define VMM_NET_HDR_GSO_ECN   0x80

/* Header plus the largest frame a net device or backend moves:
 * 65535 bytes of IP packet behind a 14-byte Ethernet and a 4-byte VLAN
 * header, rounded as the virtio-net spec's 65550. */
#define VMM_NET_FRAME_MAX 65550u

/* Offloads (ABI 1.2): what a backend can take from and give to a device. */
#define VMM_NET_OFFLOAD_CSUM (1u << 0) /* partial checksums (NEEDS_CSUM) */
#define VMM_NET_OFFLOAD_TSO4 (1u << 1) /* GSO_TCPV4 */
#define VMM_NET_OFFLOAD_TSO6 (1u << 2) /* GSO_TCPV6 */
#define VMM_NET_OFFLOAD_ECN  (1u << 3) /* GSO_ECN with TSO4/TSO6 */
#define VMM_NET_OFFLOAD_UFO  (1u << 4) /* GSO_UDP */

#define VMM_NET_HAS_MAC (1u << 0) /* vmm_net_info.mac is the backend's */
/* ABI 1.3: set by the core in what net_open() fills when the backend's
 * link is down at that moment (net_link_set); a backend does not set it
 * in its info op.  An older core never sets it: the link is up. */
#define VMM_NET_LINK_DOWN (1u << 1)

struct vmm_net_info {
	uint32_t size;     /* sizeof(struct vmm_net_info) */
	uint32_t flags;    /* VMM_NET_HAS_MAC, VMM_NET_LINK_DOWN */
	uint32_t offloads; /* VMM_NET_OFFLOAD_* the backend takes in frames sent
			    * to it and can be asked for with net_set_offloads */
	uint8_t mac[6];
};

/* What a device gives when it opens a net backend (ABI 1.2). */
struct vmm_net_client {
	uint32_t size; /* sizeof(struct vmm_net_client) */
	/* Whether the device could take a frame now (a receive buffer is
	 * posted).  False pauses input until h->net_input_ready(). */
	bool (*can_receive)(void *opaque);
	/* One frame (header first, at most sizeof(struct vmm_net_hdr) +
	 * VMM_NET_FRAME_MAX bytes).  0 taken (delivered or dropped), or
	 * -EAGAIN: no room after all; the backend keeps the frame, input
	 * pauses until h->net_input_ready(). */
	int (*receive)(void *opaque, const struct iovec *iov, int iovcnt);
	/* ABI 1.3, may be NULL: the backend's link went up or down (its
	 * net_link_set).  Called under the device's instance lock, only when
	 * the state differs from the last one the device was given (the
	 * VMM_NET_LINK_DOWN flag net_open() filled, then each call). */
	void (*link_changed)(void *opaque, bool up);
};

enum vmm_stop_reason {
	VMM_STOP_EXIT = 0,     /* guest asked to end with a status (debug-exit) */
	VMM_STOP_POWEROFF = 1, /* orderly power off: status 0 */
	VMM_STOP_RESET = 2,    /* guest asked for a reset */
	VMM_STOP_ERROR = 3,    /* the device cannot go on */
	VMM_STOP_CRASH = 4,    /* ABI 1.9: the guest reported a crash (e.g. through
				* Hyper-V's crash MSRs); vmmctl ends as for a
				* hypervisor's crash event (status 4) */
};

/* One x86 CPUID leaf a device contributes (ABI 1.9, cpuid_set). */
#define VMM_CPUID_INDEXED (1u << 0) /* `index` (ECX on input) selects the subleaf */

struct vmm_cpuid_leaf {
	uint32_t function; /* EAX on input */
	uint32_t index;    /* ECX on input, with VMM_CPUID_INDEXED */
	uint32_t flags;    /* VMM_CPUID_* */
	uint32_t eax, ebx, ecx, edx;
};

/* hyperv_enable's `what` (ABI 1.13; the hypervisor's vcpu_hyperv_enable
 * takes the same). */
#define VMM_HYPERV_SYNIC         (1u << 0) /* the SynIC and synthetic timers (KVM:
					    * KVM_CAP_HYPERV_SYNIC2) */
#define VMM_HYPERV_ENFORCE_CPUID (1u << 1) /* only what the Hyper-V CPUID leaves
					    * offer: other synthetic MSRs and
					    * hypercalls fail (KVM:
					    * KVM_CAP_HYPERV_ENFORCE_CPUID) */

/*
 * What a device that enabled the hypervisor's in-kernel Hyper-V
 * (hyperv_enable, ABI 1.13) hears of it.  Each is called on the vCPU's
 * thread, under this instance's lock.  NULL members are allowed.
 */
struct vmm_hyperv_client {
	uint32_t size; /* sizeof(struct vmm_hyperv_client) */
	/* vCPU `vcpu`'s guest wrote SynIC MSR `msr` (SCONTROL, SIEFP or
	 * SIMP; TLFS 11.8); `control`, `evt_page`, `msg_page` are those MSRs
	 * now.  The hypervisor has applied the write already. */
	void (*synic)(void *opaque, unsigned vcpu, uint32_t msr, uint64_t control,
		      uint64_t evt_page, uint64_t msg_page);
	/* A hypercall the hypervisor leaves to the VMM (TLFS 3.7: `input`
	 * the input value, `in_gpa`/`out_gpa` the parameters): return the
	 * result value.  Without it the core answers
	 * HV_STATUS_INVALID_HYPERCALL_CODE (2). */
	uint64_t (*hcall)(void *opaque, unsigned vcpu, uint64_t input, uint64_t in_gpa,
			  uint64_t out_gpa);
};

/*
 * In-kernel devices (ABI 1.14, hv_device_create/hv_device_attr).  Types,
 * attribute groups and attributes are the numbers of KVM's device API
 * (KVM API document 4.80 KVM_CREATE_DEVICE, 4.81 KVM_SET_DEVICE_ATTR and
 * Documentation/virt/kvm/devices/), as register ids are ONE_REG's
 * (hypervisor.h): a backend on another hypervisor translates them.  The
 * kvm plugin checks them against its kernel headers at build time.
 */
#define VMM_HV_DEV_ARM_VGIC_V2 5u /* KVM_DEV_TYPE_ARM_VGIC_V2 */
#define VMM_HV_DEV_ARM_VGIC_V3 7u /* KVM_DEV_TYPE_ARM_VGIC_V3 */
/* arm-vgic.rst and arm-vgic-v3.rst: groups and attributes */
#define VMM_HV_VGIC_GRP_ADDR       0u /* a frame's base: u64, 64 KiB-aligned (v2: 4 KiB) */
#define VMM_HV_VGIC_GRP_NR_IRQS    3u /* u32: INTIDs, a multiple of 32, 64 to 1024 */
#define VMM_HV_VGIC_GRP_CTRL       4u
#define VMM_HV_VGIC_V2_ADDR_DIST   0u
#define VMM_HV_VGIC_V2_ADDR_CPU    1u
#define VMM_HV_VGIC_V3_ADDR_DIST   2u
#define VMM_HV_VGIC_V3_ADDR_REDIST 3u /* one frame pair (128 KiB) per vCPU from here */
#define VMM_HV_VGIC_CTRL_INIT      0u /* no value: after every vCPU exists */
/* vcpu.rst: a vCPU's own attributes (dev = VMM_HV_DEV_VCPU(n)) */
#define VMM_HV_VCPU_TIMER_CTRL     1u /* KVM_ARM_VCPU_TIMER_CTRL */
#define VMM_HV_VCPU_TIMER_IRQ_VTIMER 0u /* u32: the virtual timer's PPI */
#define VMM_HV_VCPU_TIMER_IRQ_PTIMER 1u /* u32: the physical timer's PPI */
/* hv_device_attr's dev for vCPU n's own attributes (KVM: the vCPU fd). */
#define VMM_HV_DEV_VCPU_BASE 0x40000000
#define VMM_HV_DEV_VCPU(n) (VMM_HV_DEV_VCPU_BASE + (int)(n))

enum vmm_hv_attr_op {
	VMM_HV_ATTR_SET = 0, /* KVM_SET_DEVICE_ATTR */
	VMM_HV_ATTR_GET = 1, /* KVM_GET_DEVICE_ATTR */
	VMM_HV_ATTR_HAS = 2, /* KVM_HAS_DEVICE_ATTR: 0 when the attribute exists; val unused */
};

struct vmm_host {
	uint32_t size;      /* sizeof(struct vmm_host) the core was built with */
	uint32_t abi_minor; /* the core's VMM_ABI_MINOR */

	/* --- identity and logging --- */
	/* The instance's name from the config (e.g. "com1"). */
	const char *(*instance_name)(const struct vmm_host *h);
	/* printf-style; one line, no trailing newline needed. */
	void (*log)(const struct vmm_host *h, enum vmm_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	/* --- properties (already validated against the schema) --- */
	/* -ENOENT when the schema has no such property or it is unset without default. */
	int (*prop_int)(const struct vmm_host *h, const char *name, int64_t *out);
	int (*prop_bool)(const struct vmm_host *h, const char *name, bool *out);
	/* STRING and ENUM; NULL when unset. The string lives as long as the instance. */
	const char *(*prop_str)(const struct vmm_host *h, const char *name);

	/* --- buses --- */
	/* -EINVAL for zero length or wrap-around, -EEXIST on overlap (logged
	 * with both owners' names). */
	int (*bus_map)(const struct vmm_host *h, enum vmm_bus bus, uint64_t base, uint64_t len,
		       const struct vmm_region_ops *ops, void *opaque);
	int (*bus_unmap)(const struct vmm_host *h, enum vmm_bus bus, uint64_t base);

	/* --- interrupts --- */
	/* The line numbered `line` on the machine's interrupt controller
	 * (GSI on x86).  Obtain lines at create time; raising is cheap. */
	struct vmm_irq_line *(*irq_line)(const struct vmm_host *h, uint32_t line);
	/* Level 1 raises, 0 lowers.  An edge-triggered device pulses 1 then 0.
	 * With the hypervisor's irqchip (VMM_IRQ_KERNEL) and a hypervisor that
	 * offers irqfds (ABI 1.3), a line the device described as
	 * VMM_RES_IRQ_LEVEL goes through a resampling irqfd: a raise signals
	 * it, a lower costs nothing, the hypervisor lowers the line at the
	 * guest's EOI and the core raises it again while the device still
	 * holds it.  The device sees no difference, except that a line it
	 * lowers while the guest has the pin masked (or just as the guest
	 * ends the interrupt) may reach the guest one extra time, as a
	 * spurious interrupt: a driver reading its status register finds
	 * nothing to do. */
	void (*irq_set)(const struct vmm_host *h, struct vmm_irq_line *line, int level);

	/* --- guest memory, bounds-checked --- */
	/* -EFAULT when any byte of [gpa, gpa+len) is not guest RAM. */
	int (*mem_read)(const struct vmm_host *h, uint64_t gpa, void *buf, size_t len);
	int (*mem_write)(const struct vmm_host *h, uint64_t gpa, const void *buf, size_t len);
	/* A host pointer to [gpa, gpa+len) when it lies in one RAM region. */
	void *(*mem_map)(const struct vmm_host *h, uint64_t gpa, size_t len);

	/* --- virtual clock and timers --- */
	/* Nanoseconds of virtual time since the machine was created.  Under
	 * vmmctl it follows CLOCK_MONOTONIC; under the harness tests step it. */
	uint64_t (*clock_ns)(const struct vmm_host *h);
	struct vmm_timer *(*timer_new)(const struct vmm_host *h, void (*cb)(void *opaque), void *opaque);
	/* Fire once when the clock reaches deadline_ns (absolute); re-arming
	 * replaces.  A deadline already past fires as soon as the main loop
	 * (or the harness's next clock step) runs, never inside this call. */
	void (*timer_arm)(const struct vmm_host *h, struct vmm_timer *t, uint64_t deadline_ns);
	void (*timer_cancel)(const struct vmm_host *h, struct vmm_timer *t);
	void (*timer_free)(const struct vmm_host *h, struct vmm_timer *t);

	/* --- event loop --- */
	/* Callback runs on the main thread whenever one of `events` is ready. */
	struct vmm_watch *(*fd_watch)(const struct vmm_host *h, int fd, unsigned events,
				      void (*cb)(void *opaque, int fd, unsigned events), void *opaque);
	void (*fd_unwatch)(const struct vmm_host *h, struct vmm_watch *w);

	/* --- character backends, device side --- */
	/* Opens the backend named by the string property `prop` (a `backend`
	 * section's name or a backend plugin's name).  client may be NULL for an
	 * output-only device.  A device may open several backends, one per
	 * property (a console's ports); each connection has its own client and
	 * opaque, so input and flow control are per connection.  A backend
	 * serves one connection: naming it a second time fails (NULL). */
	struct vmm_char *(*char_open)(const struct vmm_host *h, const char *prop,
				      const struct vmm_char_client *client, void *opaque);
	/* Returns bytes written or a negative errno. */
	ssize_t (*char_write)(const struct vmm_host *h, struct vmm_char *c, const void *buf, size_t len);
	/* The device has room again after can_receive() returned 0.  May be
	 * called from inside any device callback: the input is delivered
	 * later, never from within this call. */
	void (*char_input_ready)(const struct vmm_host *h, struct vmm_char *c);

	/* --- character backends, backend side --- */
	/* How many bytes char_input() would accept now; 0 means stop reading
	 * until the core calls the backend's resume_input op. */
	size_t (*char_input_room)(const struct vmm_host *h);
	/* Hands input to the device; returns how many bytes were taken. */
	size_t (*char_input)(const struct vmm_host *h, const void *buf, size_t len);

	/* --- machine --- */
	/* Ends the run.  For VMM_STOP_EXIT, status is vmmctl's exit status:
	 * 0 or an odd value up to 127 (others are vmmctl's own or a signal's;
	 * the core turns them into 127 with a warning). */
	void (*machine_stop)(const struct vmm_host *h, enum vmm_stop_reason reason, int status);

	/* --- interrupt controllers (ABI 1.1: check h->size) --- */
	/* Where this machine's interrupt controllers live. */
	enum vmm_irq_mode (*irq_mode)(const struct vmm_host *h);
	/* Receive lines [first, first+count): a device's irq_set() on one of
	 * them calls ops->set_level() under this instance's lock, only when
	 * the line's level changes; lines already high are reported at once,
	 * from inside this call.  Several controllers may receive the same
	 * line (the PC's ISA IRQs reach the 8259 and the IOAPIC alike).  The
	 * registration lasts as long as the instance.  In VMM_IRQ_KERNEL mode
	 * lines go to the hypervisor and registering is -EBUSY.
	 * A NULL service in a table whose size covers it means the host does
	 * not offer it. */
	int (*irq_controller_register)(const struct vmm_host *h, uint32_t first, uint32_t count,
				       const struct vmm_irq_controller_ops *ops, void *opaque);
	/* The controller's interrupt output to a CPU's INTR pin (the 8259 in
	 * VMM_IRQ_EMULATED mode).  While it is high, the core calls ops->ack()
	 * as soon as that vCPU can take an interrupt and injects the vector. */
	void (*cpu_intr_set)(const struct vmm_host *h, unsigned vcpu, int level);
	/* Deliver a message-signalled interrupt (x86: address 0xFEExxxxx,
	 * data = vector, delivery and trigger mode), as an IOAPIC does.
	 * -ENOTSUP without local APICs (VMM_IRQ_EMULATED). */
	int (*msi_send)(const struct vmm_host *h, uint64_t addr, uint32_t data);
	/* Run a device in the hypervisor instead (VMM_IRQ_KERNEL mode only).
	 * -ENOTSUP when the hypervisor cannot. */
	int (*hv_accel)(const struct vmm_host *h, enum vmm_accel what);
	/* Bytes of guest RAM (the config's `memory`), for firmware-visible
	 * descriptions such as the CMOS memory-size bytes. */
	uint64_t (*ram_size)(const struct vmm_host *h);
	/* Declare how this device appears in the firmware tables; call it
	 * from create(), once per description.  The core copies everything. */
	int (*describe)(const struct vmm_host *h, const struct vmm_device_desc *d);

	/* --- block backends, device side (ABI 1.2: check h->size) --- */
	/* Opens the block backend named by the string property `prop` (a
	 * `backend` section's name or a backend plugin's name) for this
	 * device alone and fills *info (its size set by the caller).  NULL
	 * after logging why. */
	struct vmm_block *(*block_open)(const struct vmm_host *h, const char *prop,
					struct vmm_block_info *info);
	/* Runs one request to completion: 0, or a negative errno (-EINVAL
	 * for a range past the disk, -EROFS for a change to a read-only
	 * one).  A short transfer is -EIO. */
	int (*block_io)(const struct vmm_host *h, struct vmm_block *b, const struct vmm_block_req *req);

	/* --- net backends, device side (ABI 1.2: check h->size) --- */
	/* Opens the net backend named by the string property `prop` for this
	 * device alone and fills *info (its size set by the caller): the
	 * offloads it can do and its MAC, if any.  NULL after logging why. */
	struct vmm_net *(*net_open)(const struct vmm_host *h, const char *prop,
				    const struct vmm_net_client *client, void *opaque,
				    struct vmm_net_info *info);
	/* One frame, header first: 0 (sent, or dropped by the link), or a
	 * negative errno (-EINVAL for a frame shorter than the header or
	 * longer than VMM_NET_FRAME_MAX). */
	int (*net_send)(const struct vmm_host *h, struct vmm_net *n, const struct iovec *iov,
			int iovcnt);
	/* The device can take frames again after can_receive() said false
	 * or receive() said -EAGAIN.  Delivery happens later, never from
	 * within this call. */
	void (*net_input_ready)(const struct vmm_host *h, struct vmm_net *n);
	/* VMM_NET_OFFLOAD_* the device's driver accepts in received frames;
	 * -EINVAL for bits info did not offer. */
	int (*net_set_offloads)(const struct vmm_host *h, struct vmm_net *n, uint32_t offloads);

	/* --- net backends, backend side (ABI 1.2) --- */
	/* Hands one frame (header first) to the device: 0 taken, -EAGAIN
	 * the device has no room (keep the frame; resume_input follows),
	 * -ENOTCONN no device uses the backend. */
	int (*net_input)(const struct vmm_host *h, const struct iovec *iov, int iovcnt);

	/* --- write notifications (ABI 1.2: check h->size) --- */
	/* Ask for a guest write of `len` bytes (1, 2, 4 or 8) to `addr` on
	 * `bus` (VMM_BUS_PIO or VMM_BUS_MMIO; with `match`, only a write of
	 * value `data`) to be handled in the hypervisor (an ioeventfd) and to
	 * call cb(opaque) on the main thread under this instance's lock, as
	 * timer and fd callbacks are.  The vCPU does not wait for cb, and
	 * several writes before cb runs may call it only once: it suits a
	 * "look at your queue" doorbell, not a register whose value matters
	 * beyond `data`.  [addr, addr + len) must lie in a region the device
	 * mapped (NULL, logged, otherwise).  NULL when the hypervisor cannot (no ioeventfd, or the assignment
	 * failed): the write then reaches the region's write op as usual, as
	 * do writes that do not match.  Call from create() or later. */
	struct vmm_notify *(*notify_register)(const struct vmm_host *h, enum vmm_bus bus,
					      uint64_t addr, unsigned len, bool match,
					      uint64_t data, void (*cb)(void *opaque), void *opaque);
	/* Undo notify_register (NULL is a no-op): from the next guest write
	 * on, the region sees it again; cb is not called after this returns.
	 * Call from create() (undoing) or destroy(): the main loop is not
	 * running then. */
	void (*notify_unregister)(const struct vmm_host *h, struct vmm_notify *n);

	/* --- net backends, backend side (ABI 1.3: check h->size) --- */
	/* The backend's link is up (true) or down: e.g. a tap set down on the
	 * host.  A backend's link is up until it says otherwise.  Call from
	 * open() (the initial state, before any device uses the backend) or
	 * from the main thread (an fd watch callback); not from a vCPU thread
	 * inside send().  The core tells the device (link_changed) when the
	 * state changes; repeating the same state is harmless. */
	void (*net_link_set)(const struct vmm_host *h, bool up);

	/* --- character backends, connections (ABI 1.4: check h->size) --- */
	/* Backend side: someone is at the host end of this backend (true) or
	 * not: e.g. a client connected to a socket, or it left.  A backend is
	 * connected until it says otherwise, so one that never calls this
	 * (stdio, a file) is always connected.  Call from open() (the initial
	 * state, before any device uses the backend) or from the main thread
	 * (an fd watch callback), never while holding a lock that write()
	 * takes: the core takes the device's lock to tell it (its client's
	 * connected, when the state changes; repeating it is harmless). */
	void (*char_connected)(const struct vmm_host *h, bool connected);
	/* Device side: whether the backend of connection @c is connected now
	 * (the state its client's connected() changes from).  True for NULL
	 * and for a backend that never said; a device on an older host
	 * (without this service) takes it as always connected. */
	bool (*char_is_connected)(const struct vmm_host *h, struct vmm_char *c);

	/* --- interrupt controllers, split irqchip (ABI 1.5: check h->size) --- */
	/* An IOAPIC's pin `pin` (0-23) is now level-triggered and sends the
	 * MSI (addr, data) when it fires (valid true), or is no longer
	 * level-triggered (valid false; addr and data are ignored).  Call it
	 * whenever a redirection entry's message changes (a vector, a
	 * destination), from the MMIO write that changed it, before any
	 * message of the new entry is sent: a hypervisor whose local APICs
	 * report EOIs only for vectors it knows an IOAPIC uses at level
	 * trigger (KVM's split irqchip) learns them here.  Masking does not
	 * change the message: a masked entry still waits for its EOI.
	 * -ENOTSUP when the hypervisor needs nothing of the kind (another
	 * irqchip mode, or a hypervisor that reports every EOI). */
	int (*msi_route)(const struct vmm_host *h, uint32_t pin, bool valid, uint64_t addr,
			 uint32_t data);

	/* --- interrupt controllers, arm64 (ABI 1.8: check h->size) --- */
	/* The machine's vCPU count (the config's `vcpus`); vCPUs are
	 * numbered 0 to count - 1 in bus accesses and below. */
	unsigned (*vcpu_count)(const struct vmm_host *h);
	/* Device side, an interrupt controller in a plugin (VMM_IRQ_EMULATED
	 * on arm64, e.g. the gic plugin): its output to vCPU `vcpu`'s IRQ or
	 * FIQ input is now `level`.  The hypervisor holds the level: the vCPU
	 * takes the exception whenever the input is high and the guest has
	 * it unmasked (PSTATE.I or F), as often as it unmasks, until the
	 * controller lowers it; there is no acknowledge cycle (contrast
	 * cpu_intr_set), the guest acknowledges by its own register access.
	 * Call it on changes only, from any device callback and any thread:
	 * the core records the level and hands it to the hypervisor on that
	 * vCPU's own thread before the vCPU next enters the guest, kicking a
	 * vCPU that runs or waits in WFI out first (hypervisor.h,
	 * vcpu_irq_set, says why).  -ENOTSUP when the hypervisor has no such
	 * input or owns the interrupt controller (another irqchip mode),
	 * -EINVAL for a vCPU or pin that does not exist. */
	int (*cpu_irq_line)(const struct vmm_host *h, unsigned vcpu, enum vmm_cpu_pin pin,
			    int level);
	/* Hypervisor or device side: line `line`, private to vCPU `vcpu` (on
	 * arm64 a PPI, INTID 16-31), is now `level`: the arm-timer plugin
	 * drives its timers' PPIs this way (ABI 1.14; before, the kvm plugin
	 * did) from the levels the hypervisor reports (timer_outputs).  The core
	 * calls set_private of every interrupt controller that has it, under
	 * that controller's instance lock; call it from the vCPU's thread
	 * (inside vcpu_run, before returning the exit that reported it, or
	 * from a device's timer_output_ops.levels), not holding a lock an
	 * interrupt controller's callbacks may take.  0, or -ENODEV when
	 * no controller takes private lines (the level is dropped). */
	int (*private_irq_set)(const struct vmm_host *h, unsigned vcpu, uint32_t line, int level);
	/* --- x86 CPUID and TSC (ABI 1.9: check h->size) --- */
	/* Show every vCPU these CPUID leaves, replacing the hypervisor's own
	 * of the same function (and index, when indexed).  Call from
	 * create(); the core copies them and applies them before any vCPU
	 * runs.  Leaves in the hypervisor range 0x40000000-0x400000ff take
	 * that range for the device: the hypervisor's own leaves there move
	 * to 0x40000100 (its signature leaf's EAX adjusted), where a guest
	 * that looks for them in steps of 0x100 (Linux's
	 * hypervisor_cpuid_base) still finds them; a device that gives
	 * leaves there too (0x40000100, 0x40000101 zeroed) replaces the
	 * moved ones, hiding the hypervisor's own.  -EEXIST when another
	 * device gave the same leaf, -ENOTSUP when the hypervisor cannot
	 * (not x86, or no such op). */
	int (*cpuid_set)(const struct vmm_host *h, const struct vmm_cpuid_leaf *leaves, unsigned n);
	/* On vCPU `vcpu`'s own thread, inside one of its bus accesses (an
	 * MSR exit): that vCPU's time-stamp counter as the guest reads it
	 * now, the virtual clock (clock_ns) at the same moment, and the
	 * counter's rate in kHz.  -EINVAL from any other thread or vCPU,
	 * -ENOTSUP when the hypervisor cannot tell, -EAGAIN when the
	 * counter is no stable clock now (the hypervisor adjusts it, e.g.
	 * on a host whose own TSC is unstable). */
	int (*vcpu_tsc)(const struct vmm_host *h, unsigned vcpu, uint64_t *tsc, uint64_t *ns,
			uint32_t *khz);

	/* --- block backends, many requests at once (ABI 1.11: check h->size) --- */
	/* Runs @n (at most VMM_BLOCK_BATCH_MAX) independent requests of disk
	 * @b together and returns when all have completed, results[i] being
	 * what block_io would have returned for reqs[i].  READ and WRITE
	 * requests are in flight at the same time where the backend can
	 * (its submit op: block-uring), so a device hands over everything
	 * its driver queued before one notification rather than one request
	 * at a time.  Returns 0, or -EINVAL (and fills no result) for a
	 * NULL disk or n over the limit. */
	int (*block_io_batch)(const struct vmm_host *h, struct vmm_block *b,
			      const struct vmm_block_req *reqs, int *results, unsigned n);

	/* --- saved state (ABI 1.12: check h->size; vmm/state.h) --- */
	/* Inside a device's save() (or a hypervisor backend's *_state_save):
	 * append field `name` of `len` bytes to record `o`.  -EINVAL for a
	 * bad name or len over VMM_STATE_FIELD_MAX, -EEXIST when the record
	 * has that field already, -ENOMEM.  Prefer vmm_state_put_u32() and
	 * friends (vmm/state.h), which fix the byte order. */
	int (*state_put)(const struct vmm_host *h, struct vmm_state_out *o, const char *name,
			 const void *buf, size_t len);
	/* Inside load() (or *_state_load): copy at most `cap` bytes of field
	 * `name` of record `in` into buf and return the field's length
	 * (which may exceed cap: a variable-length field is read by asking
	 * with cap 0 first).  -ENOENT when the record has no such field. */
	ssize_t (*state_get)(const struct vmm_host *h, struct vmm_state_in *in, const char *name,
			     void *buf, size_t cap);

	/* --- x86: the hypervisor's in-kernel Hyper-V (ABI 1.13: check h->size) --- */
	/* The Hyper-V CPUID leaves the hypervisor's own Hyper-V emulation
	 * supports (KVM_GET_SUPPORTED_HV_CPUID): `*n` is the room in
	 * `leaves` on entry, how many were written on return.  A device
	 * that wants them shown gives (its choice of) them with cpuid_set.
	 * -ENOTSUP when the hypervisor has no Hyper-V of its own. */
	int (*hyperv_cpuid)(const struct vmm_host *h, struct vmm_cpuid_leaf *leaves, unsigned *n);
	/* From create(): switch on `what` (VMM_HYPERV_*, vmm/hypervisor.h)
	 * of the hypervisor's in-kernel Hyper-V on every vCPU, and send its
	 * exits to `client` (copied; may be NULL).  One device per machine
	 * may call it (-EEXIST for a second).  The hypervisor then serves
	 * the synthetic MSRs the CPUID leaves offer: a device that calls it
	 * maps none of them.  -EINVAL when VMM_HYPERV_SYNIC needs local
	 * APICs the machine does not have (VMM_IRQ_EMULATED), -ENOTSUP when
	 * the hypervisor cannot.  Logs nothing: the device says why. */
	int (*hyperv_enable)(const struct vmm_host *h, uint32_t what,
			     const struct vmm_hyperv_client *client, void *opaque);

	/* --- in-kernel devices (ABI 1.14: check h->size) --- */
	/* Create an in-kernel device of type `type` (VMM_HV_DEV_*) in the
	 * hypervisor: a handle >= 0 for hv_device_attr, or a negative errno
	 * (the hypervisor's own: KVM says -ENODEV for a type the host cannot
	 * back, e.g. a vGICv2 on a GICv3 host without its compatibility
	 * interface; -ENOTSUP when the hypervisor has no in-kernel devices
	 * or the machine's irqchip mode does not delegate them).  The device
	 * lives as long as the VM.  Not logged: the caller says what it
	 * wanted.  Call from create(). */
	int (*hv_device_create)(const struct vmm_host *h, uint32_t type);
	/* Set, get or probe (enum vmm_hv_attr_op) attribute (group, attr) of
	 * device `dev` (a handle from hv_device_create, or
	 * VMM_HV_DEV_VCPU(n) for vCPU n's own), `val` pointing to the value
	 * as the device API defines it (may be NULL where it takes none).
	 * 0 or the hypervisor's negative errno, not logged.  Call from
	 * create() or ready() (device.h). */
	int (*hv_device_attr)(const struct vmm_host *h, int dev, enum vmm_hv_attr_op op,
			      uint32_t group, uint64_t attr, void *val);

	/* --- the architected timers' outputs, arm64 (ABI 1.14: check h->size) --- */
	/* Device side: receive every vCPU's timer output levels (ops->levels)
	 * as the hypervisor reports them, which it does when the GIC is not
	 * its own (KVM_CAP_ARM_USER_IRQ).  One device per machine: -EBUSY
	 * when another registered.  Call from create(); it lasts as long as
	 * the instance. */
	int (*timer_outputs_register)(const struct vmm_host *h,
				      const struct vmm_timer_output_ops *ops, void *opaque);
	/* Hypervisor side: vCPU `vcpu`'s timer outputs are `levels`, `changed`
	 * the bits that differ from its last report.  From the vCPU's thread
	 * inside vcpu_run, before returning the exit; not holding a lock a
	 * device's callbacks may take.  0, -ENODEV when no device registered
	 * (the levels are dropped), -EINVAL for no such vCPU. */
	int (*timer_outputs)(const struct vmm_host *h, unsigned vcpu, uint32_t levels,
			     uint32_t changed);
	/* Device side: write vCPU `vcpu`'s register `id` (VMM_REG_*, the
	 * hypervisor's ids, hypervisor.h; VMM_REG_SIZE(id) bytes at `val`),
	 * e.g. the arm-timer plugin's virtual count.  Only from the device's
	 * ready op, before any vCPU runs: -EBUSY otherwise; -EINVAL for no
	 * such vCPU; the hypervisor's -ENOENT for an id it does not know,
	 * -ENOTSUP when it has no register access by id. */
	int (*vcpu_reg_write)(const struct vmm_host *h, unsigned vcpu, uint64_t id,
			      const void *val);

	/* --- guest memory written by the device (ABI 1.15: check h->size) --- */
	/* The device wrote [gpa, gpa + len) of guest RAM through a pointer
	 * from mem_map (a used ring, a buffer it filled).  The hypervisor's
	 * dirty log sees only the guest's own writes (KVM API document,
	 * KVM_GET_DIRTY_LOG: writes by the VMM through its mapping are not
	 * logged), so a live migration would leave such a page stale on the
	 * destination: call this after the write and before the device
	 * publishes it to the guest (the used index).  mem_write marks what
	 * it writes itself.  Any thread; bytes outside RAM are ignored.  A
	 * device plugin built before 1.15 that maps guest memory cannot say
	 * what it wrote: vmmctl refuses to migrate a machine that has one
	 * (docs/api.md, "Live migration"). */
	void (*mark_dirty)(const struct vmm_host *h, uint64_t gpa, uint64_t len);
};

/* True when the host table `h` has service `field` (appended after ABI 1.0)
 * and offers it. */
#define VMM_HOST_HAS(h, field) \
	((h)->size >= offsetof(struct vmm_host, field) + sizeof((h)->field) && (h)->field)

/* Describe a device to the firmware tables where the host can take it; an
 * older host that cannot is not an error for the device (0). */
static inline int vmm_describe(const struct vmm_host *h, const struct vmm_device_desc *d)
{
	return VMM_HOST_HAS(h, describe) ? h->describe(h, d) : 0;
}

#ifdef __cplusplus
}
#endif
#endif /* VMM_HOST_H */
