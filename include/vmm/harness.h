/* SPDX-License-Identifier: MIT */
/*
 * vmm/harness.h - a fake host for unit-testing plugins without a hypervisor.
 *
 * The harness loads a plugin .so exactly as vmmctl does (the core's own
 * loader: same search path, same checks, same refusals), hands each instance
 * a complete struct vmm_host, and lets a test play the guest: bus accesses,
 * IRQ line levels, a stepped virtual clock, a capturing character backend
 * per device.  A test builds with pkg-config (vmm-harness.pc):
 *	cc $(pkg-config --cflags cmocka vmm-harness) -o test test.c \
 *	   $(pkg-config --libs cmocka vmm-harness)
 * See vmm-plugin(7), THE HARNESS, and the installed examples.
 *
 * Error convention: functions returning int return 0 on success or a
 * negative errno; functions returning a pointer return NULL on failure and
 * print one line saying why to stderr.
 *
 * Deferred work: like the core, the harness never calls back into a device
 * from inside that device's own callback.  Input a device asked for with
 * char_input_ready() is delivered when the current harness call (bus
 * access, clock step, input injection) has returned from the device.
 *
 * Not thread-safe: one test thread drives one harness.  Device plugins,
 * and block and net backend plugins for them (vmm_harness_add_backend(),
 * or a fake net backend, vmm_harness_add_net_fake());
 * character backends are a built-in capture, hypervisors are not run.
 *
 * Example, a test of a UART at 0x3f8 on line 4:
 *
 *	struct vmm_harness *h = vmm_harness_new();
 *	static const char *const props[] = { "base=0x3f8", "irq=4", NULL };
 *	struct vmm_harness_dev *com1 =
 *		vmm_harness_create_device(h, "uart16550", "com1", props);
 *
 *	vmm_harness_pio_write(h, 0x3fc, 1, 0x08);	// MCR: OUT2
 *	vmm_harness_pio_write(h, 0x3f9, 1, 0x02);	// IER: ETBEI
 *	assert(vmm_harness_irq_level(h, 4) == 1);
 *	vmm_harness_pio_write(h, 0x3f8, 1, 'A');
 *	assert(strcmp(vmm_harness_char_output(com1, NULL), "A") == 0);
 *	vmm_harness_free(h);
 */
#ifndef VMM_HARNESS_H
#define VMM_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vmm/host.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmm_harness;
struct vmm_harness_dev;

/**
 * vmm_harness_new() - create an empty machine: no RAM, no devices, clock at 0.
 *
 * Return: the harness, or NULL when out of memory.
 */
struct vmm_harness *vmm_harness_new(void);

/**
 * vmm_harness_free() - destroy every device (in reverse creation order),
 * unload their plugins and free the harness.
 * @h: the harness; NULL is ignored.
 */
void vmm_harness_free(struct vmm_harness *h);

/**
 * vmm_harness_set_ram() - give the machine @size bytes of zeroed RAM at gpa 0.
 * @h: the harness.
 * @size: bytes; 0 removes RAM.
 *
 * Devices reach it with h->mem_read/mem_write/mem_map; anything outside
 * [0, size) is -EFAULT (or NULL for mem_map).
 *
 * Return: 0, or -ENOMEM.
 */
int vmm_harness_set_ram(struct vmm_harness *h, size_t size);

/**
 * vmm_harness_ram() - the host pointer to guest RAM, for a test to fill or check.
 * @h: the harness.
 * @size: if not NULL, receives the RAM size.
 *
 * Return: the RAM buffer, or NULL when there is none.
 */
void *vmm_harness_ram(struct vmm_harness *h, size_t *size);

/**
 * vmm_harness_create_device() - load a device plugin and create one instance.
 * @h: the harness.
 * @plugin: a bare plugin name, found as vmmctl finds it: NAME.so in the
 *	colon-separated directories of $VMM_PLUGIN_PATH, then in the installed
 *	plugin directory (`pkg-config --variable=plugindir vmm-plugin`); or a
 *	path containing '/' to a file DIR/NAME.so, what `vmmctl -P DIR` opens.
 *	Either way the file must declare the name it is named by (NAME.so holds
 *	plugin NAME) and every check vmmctl makes is made, by the same code with
 *	the same one-line messages.  Several devices of one plugin share the
 *	file; plugins stay loaded until vmm_harness_free().
 * @instance: the instance name the device sees (and log lines carry).
 * @props: "name=value" strings, NULL-terminated; NULL for none.  Each value
 *	is validated against the plugin's schema as a config file's would be.
 *
 * Return: the device, or NULL after printing one line to stderr when the
 * plugin cannot be found or loaded, is not a device, a property is refused,
 * a required property is missing, or the device's create() fails.
 */
struct vmm_harness_dev *vmm_harness_create_device(struct vmm_harness *h, const char *plugin,
						  const char *instance,
						  const char *const *props);

/**
 * vmm_harness_save() - save a device's state (ABI 1.12) as a snapshot
 * would: its save() op, under the same rules (no other call into the
 * device runs meanwhile).
 * @dev: the device.
 * @len: set to the record's length.
 *
 * Return: the record (free() it), or NULL after one line on stderr when the
 * plugin has no save op or save() fails.  The record names the plugin,
 * the instance and the plugin's state_version (vmm/state.h).
 */
void *vmm_harness_save(struct vmm_harness_dev *dev, size_t *len);

/**
 * vmm_harness_load() - load a record vmm_harness_save() made into @dev,
 * typically a fresh instance of the same plugin in a new harness whose
 * RAM holds the saved guest memory and whose clock was stepped to the
 * saved harness's clock (a restored machine's clock continues).
 * @dev: the device, created and not yet used.
 * @rec: the record; @len: its length.
 *
 * Return: 0, or a negative errno after one line on stderr: -EBADMSG for a
 * malformed record, -EINVAL for another plugin's record, -ENOTSUP when the
 * plugin has no load op, or what load() returned.
 */
int vmm_harness_load(struct vmm_harness_dev *dev, const void *rec, size_t len);

/**
 * vmm_harness_add_backend() - a `backend` section for block and net backends
 * (ABI 1.2): load block or net backend plugin @plugin and open it as instance @name,
 * which a device's string property then names for h->block_open().
 * @h: the harness.
 * @name: the instance name.
 * @plugin: a path or a bare plugin name, as for vmm_harness_create_device().
 * @props: "name=value" strings, NULL-terminated, validated against the
 *	plugin's schema; NULL for none.
 *
 * The backend is opened at once and closed by vmm_harness_free(), after the
 * devices.  One device at a time may use it.  (Character backends are not
 * plugins here: every device gets the capturing one.  A character backend
 * plugin may still be added, to test the plugin itself: it feeds no
 * device, its input is dropped, and vmm_harness_backend_char_connected()
 * says what it reported with char_connected.)
 *
 * Return: 0, or a negative errno after printing one line to stderr.
 */
int vmm_harness_add_backend(struct vmm_harness *h, const char *name, const char *plugin,
			    const char *const *props);

/* ---- net backends (ABI 1.2) ----
 *
 * vmm_harness_add_backend() also takes a net backend plugin (e.g. net-tap).
 * A fake net backend instead records what the device sends and lets the
 * test inject frames.  Frames in both directions start with a struct
 * vmm_net_hdr (12 bytes).
 */

/**
 * vmm_harness_add_net_fake() - a fake net backend named @name for a
 * device's net property.
 * @h: the harness.
 * @name: the instance name.
 * @offloads: VMM_NET_OFFLOAD_* the fake claims it can do.
 * @mac: the fake's 6-byte MAC, or NULL for none.
 *
 * Return: 0, or -ENOMEM.
 */
int vmm_harness_add_net_fake(struct vmm_harness *h, const char *name, uint32_t offloads,
			     const uint8_t *mac);

/**
 * vmm_harness_net_inject() - a frame (header first) arriving from the
 * host side of net backend @name, delivered to its device now.
 *
 * Return: 0 when the device took it, -EAGAIN when it had no room (input is
 * then paused until the device calls h->net_input_ready(); see
 * vmm_harness_net_resumes()), -ENOTCONN when no device opened the backend,
 * -EINVAL for a frame shorter than the header or too long, -ENOENT for no
 * such backend.
 */
int vmm_harness_net_inject(struct vmm_harness *h, const char *name, const void *frame, size_t len);

/**
 * vmm_harness_net_standby() - a net backend plugin's standby op (ABI 1.17,
 * vmm/backend.h: a live migration's destination) called with @on, as the
 * core calls it right after open() and once the machine is loaded.
 *
 * Return: the op's result, -ENOTSUP for a fake or a plugin without the op,
 * -ENOENT for no such backend.
 */
int vmm_harness_net_standby(struct vmm_harness *h, const char *name, bool on);

/**
 * vmm_harness_net_link() - the link of net backend @name (a plugin or a
 * fake) goes up (@up true) or down, as if the backend had called
 * h->net_link_set() (ABI 1.3): the device's link_changed hears of it now
 * when the state differs from what it was last told.
 *
 * Return: 0, or -ENOENT for no such backend.
 */
int vmm_harness_net_link(struct vmm_harness *h, const char *name, bool up);

/**
 * vmm_harness_backend_char_connected() - what character backend plugin
 * @name (added with vmm_harness_add_backend()) reported last with
 * h->char_connected() (ABI 1.4): 1 connected (also when it never said), 0
 * not, -ENOENT for no such backend.
 */
int vmm_harness_backend_char_connected(struct vmm_harness *h, const char *name);

/**
 * vmm_harness_net_link_state() - what net backend @name (or the test)
 * reported last with net_link_set: 1 up (also when it never said), 0
 * down, -ENOENT for no such backend.
 */
int vmm_harness_net_link_state(struct vmm_harness *h, const char *name);

/** vmm_harness_net_sent_count() - frames the device sent to fake @name. */
size_t vmm_harness_net_sent_count(struct vmm_harness *h, const char *name);

/**
 * vmm_harness_net_sent() - the @i-th frame sent to fake @name, header
 * first; @len receives its length.
 *
 * Return: the bytes, valid until vmm_harness_net_sent_clear() or free; NULL
 * past the last (at most 1024 are kept).
 */
const void *vmm_harness_net_sent(struct vmm_harness *h, const char *name, size_t i, size_t *len);

/** vmm_harness_net_sent_clear() - forget the frames sent to fake @name. */
void vmm_harness_net_sent_clear(struct vmm_harness *h, const char *name);

/** vmm_harness_net_offloads() - the offloads last set on fake @name (0
 * until the device sets any). */
uint32_t vmm_harness_net_offloads(struct vmm_harness *h, const char *name);

/** vmm_harness_net_resumes() - how often fake @name was told to resume
 * input (the device called h->net_input_ready() after a refusal). */
unsigned vmm_harness_net_resumes(struct vmm_harness *h, const char *name);

/**
 * vmm_harness_destroy_device() - destroy one device and unmap its regions.
 * @dev: the device; NULL is ignored.
 */
void vmm_harness_destroy_device(struct vmm_harness_dev *dev);

/**
 * vmm_harness_reset_device() - call the device's reset op (machine reset).
 * @dev: the device.
 *
 * Return: 0, or -ENOTSUP when the device has no reset op.
 */
int vmm_harness_reset_device(struct vmm_harness_dev *dev);

/**
 * vmm_harness_power_button() - press the machine's power button on @dev
 * (ABI 1.16): its power_button op, as the core calls it for the control
 * API's shutdown.
 * @dev: the device.
 *
 * Return: the op's result, or -ENOTSUP when the device has no button.
 */
int vmm_harness_power_button(struct vmm_harness_dev *dev);

/**
 * vmm_harness_device_state() - the state pointer the device's create() returned.
 * @dev: the device.
 *
 * Return: the device's private state; only useful to a test that knows it.
 */
void *vmm_harness_device_state(struct vmm_harness_dev *dev);

/*
 * Guest bus accesses.  @size is 1, 2, 4 or 8 bytes, little-endian.  The bus
 * splits an access into the widest sizes a region accepts, refuses one
 * narrower than any it accepts (a guest error: reads give all ones, writes
 * are dropped, and it counts in vmm_harness_log_count(VMM_LOG_GUEST_ERROR)).
 * Reads of unclaimed addresses give all ones and writes to them are dropped;
 * both count in vmm_harness_unclaimed_count().  A
 * region handler's non-zero return also reads as all ones.  A @size other
 * than 1, 2, 4 or 8 is a test bug: it reads all ones and is reported on
 * stderr.
 */

/**
 * vmm_harness_pio_read() - an IN instruction.
 * @h: the harness.
 * @port: I/O port; bytes past 0xffff are unclaimed.
 * @size: 1, 2 or 4 (8 is accepted too).
 *
 * Return: the value read, all ones where nothing answered.
 */
uint64_t vmm_harness_pio_read(struct vmm_harness *h, uint16_t port, unsigned size);

/**
 * vmm_harness_pio_write() - an OUT instruction.
 * @h: the harness.
 * @port: I/O port.
 * @size: 1, 2 or 4 (8 is accepted too).
 * @value: the low @size bytes are written.
 */
void vmm_harness_pio_write(struct vmm_harness *h, uint16_t port, unsigned size, uint64_t value);

/**
 * vmm_harness_mmio_read() - a load from a guest-physical address outside RAM.
 * @h: the harness.
 * @gpa: guest-physical address.
 * @size: 1, 2, 4 or 8.
 *
 * Return: the value read, all ones where nothing answered.
 */
uint64_t vmm_harness_mmio_read(struct vmm_harness *h, uint64_t gpa, unsigned size);

/**
 * vmm_harness_mmio_write() - a store to a guest-physical address outside RAM.
 * @h: the harness.
 * @gpa: guest-physical address.
 * @size: 1, 2, 4 or 8.
 * @value: the low @size bytes are written.
 */
void vmm_harness_mmio_write(struct vmm_harness *h, uint64_t gpa, unsigned size, uint64_t value);

/**
 * vmm_harness_msr_read() - an RDMSR.
 * @h: the harness.
 * @index: the MSR number.
 * @value: receives the value; all ones when the guest would get #GP.
 *
 * Return: 0, or -EIO when the guest would get #GP (no device claims the MSR,
 * or its handler reported an error).
 */
int vmm_harness_msr_read(struct vmm_harness *h, uint32_t index, uint64_t *value);

/**
 * vmm_harness_msr_write() - a WRMSR.
 * @h: the harness.
 * @index: the MSR number.
 * @value: the value written.
 *
 * Return: 0, or -EIO when the guest would get #GP.
 */
int vmm_harness_msr_write(struct vmm_harness *h, uint32_t index, uint64_t value);

/**
 * vmm_harness_unclaimed_count() - accesses (or parts of accesses) that reached
 * no region; one access counts once however many bytes were unclaimed.
 * @h: the harness.
 *
 * Return: the count since vmm_harness_new().
 */
unsigned long vmm_harness_unclaimed_count(struct vmm_harness *h);

/**
 * vmm_harness_irq_level() - the current level of an interrupt line.
 * @h: the harness.
 * @line: the line number the device passed to h->irq_line().
 *
 * Devices sharing a line are wired-OR: the line is high while any of them
 * drives it high.
 *
 * Return: 1 when high, 0 when low (or never used).
 */
int vmm_harness_irq_level(struct vmm_harness *h, uint32_t line);

/**
 * vmm_harness_irq_raises() - how often a line went from low to high.
 * @h: the harness.
 * @line: the line number.
 *
 * Return: the number of 0->1 transitions since vmm_harness_new().
 */
unsigned vmm_harness_irq_raises(struct vmm_harness *h, uint32_t line);

/* ---- interrupt controllers and CPUs (ABI 1.1 services) ---- */

/* Note: h->ram_size() reports the size given to vmm_harness_set_ram(). */

/**
 * vmm_harness_set_irq_mode() - the mode h->irq_mode() reports (default
 * VMM_IRQ_EMULATED).  Set it before creating devices.  In VMM_IRQ_KERNEL
 * mode irq_controller_register() fails with -EBUSY and hv_accel() succeeds;
 * in VMM_IRQ_EMULATED mode msi_send() fails with -ENOTSUP.
 */
void vmm_harness_set_irq_mode(struct vmm_harness *h, enum vmm_irq_mode mode);

/**
 * vmm_harness_irq_drive() - drive interrupt line @line from the test, as a
 * device would (wired-OR with the devices on the line).  Controllers that
 * receive the line see each change of its level.
 *
 * Return: 0, or -ENOMEM.
 */
int vmm_harness_irq_drive(struct vmm_harness *h, uint32_t line, int level);

/**
 * vmm_harness_cpu_intr() - the level a controller set on @vcpu's INTR pin.
 */
int vmm_harness_cpu_intr(struct vmm_harness *h, unsigned vcpu);

/**
 * vmm_harness_cpu_ack() - an interrupt-acknowledge cycle on @vcpu: calls
 * the ack op of the controller driving its INTR pin.
 *
 * Return: the vector the controller delivers, or -1.
 */
int vmm_harness_cpu_ack(struct vmm_harness *h, unsigned vcpu);

/**
 * vmm_harness_eoi() - a local APIC EOI of @vector, broadcast to every
 * controller's eoi op (the IOAPIC clears remote IRR).
 */
void vmm_harness_eoi(struct vmm_harness *h, uint32_t vector);

/* ---- arm64 interrupt controllers (ABI 1.8 services) ---- */

/**
 * vmm_harness_set_vcpus() - the vCPU count h->vcpu_count() reports
 * (default 1, at most 8).  Set it before creating devices.
 *
 * Return: 0, or -EINVAL.
 */
int vmm_harness_set_vcpus(struct vmm_harness *h, unsigned count);

/**
 * vmm_harness_set_vcpu() - the vCPU the following bus accesses come from
 * (default 0): what a region's read and write ops see as `vcpu`, as for a
 * banked register.
 *
 * Return: 0, or -EINVAL past the vCPU count.
 */
int vmm_harness_set_vcpu(struct vmm_harness *h, unsigned vcpu);

/**
 * vmm_harness_cpu_line() - the level a controller gave @vcpu's IRQ or FIQ
 * input with h->cpu_irq_line() (offered in VMM_IRQ_EMULATED mode only).
 */
int vmm_harness_cpu_line(struct vmm_harness *h, unsigned vcpu, enum vmm_cpu_pin pin);

/** vmm_harness_cpu_line_calls() - cpu_irq_line() calls so far. */
unsigned vmm_harness_cpu_line_calls(struct vmm_harness *h);

/**
 * vmm_harness_private_drive() - line @line private to @vcpu (a PPI) is now
 * @level, as a hypervisor reports it with h->private_irq_set(): every
 * controller whose ops have set_private hears of it.
 *
 * Return: 0, -ENODEV when no controller takes private lines, -EINVAL past
 * the vCPU count.
 */
int vmm_harness_private_drive(struct vmm_harness *h, unsigned vcpu, uint32_t line, int level);

/**
 * vmm_harness_msi_count() - MSIs sent since the last vmm_harness_msi_clear()
 * (at most 256 are kept).
 */
size_t vmm_harness_msi_count(struct vmm_harness *h);

/**
 * vmm_harness_msi_get() - the @i-th MSI sent: address and data.
 *
 * Return: 0, or -ENOENT past the last one.
 */
int vmm_harness_msi_get(struct vmm_harness *h, size_t i, uint64_t *addr, uint32_t *data);

/**
 * vmm_harness_msi_routed() - whether, when the @i-th MSI was sent, a pin's
 * msi_route (ABI 1.5) announced exactly that message: what KVM's split
 * irqchip needs to report the EOI of a level-triggered one.
 */
bool vmm_harness_msi_routed(struct vmm_harness *h, size_t i);

/* Pins the harness keeps msi_route() state for (an IOAPIC's 24). */
#define VMM_HARNESS_MSI_ROUTES 24

/**
 * vmm_harness_msi_route_get() - what msi_route() last said of @pin.  The
 * host offers msi_route() in VMM_IRQ_SPLIT mode only (-ENOTSUP otherwise).
 *
 * Return: true and the message when the pin is announced level-triggered.
 */
bool vmm_harness_msi_route_get(struct vmm_harness *h, uint32_t pin, uint64_t *addr,
			       uint32_t *data);

/** vmm_harness_msi_route_calls() - msi_route() calls so far. */
unsigned vmm_harness_msi_route_calls(struct vmm_harness *h);

/** vmm_harness_msi_clear() - forget the MSIs sent so far. */
void vmm_harness_msi_clear(struct vmm_harness *h);

/* CPUID leaves the harness keeps from cpuid_set (ABI 1.9). */
#define VMM_HARNESS_CPUID_LEAVES 64

/**
 * vmm_harness_cpuid() - the CPUID leaf @function (subleaf @index, for an
 * indexed one) that a device gave with cpuid_set (ABI 1.9).  The host
 * refuses a leaf another device gave (-EEXIST), as vmmctl's does.
 *
 * Return: 0 and *@out, or -ENOENT when no device gave it.
 */
int vmm_harness_cpuid(struct vmm_harness *h, uint32_t function, uint32_t index,
		      struct vmm_cpuid_leaf *out);

/**
 * vmm_harness_set_tsc() - offer vcpu_tsc (ABI 1.9) with a guest TSC that
 * reads @base at virtual time 0 and runs at @khz; @khz 0 withdraws it
 * (vcpu_tsc then says -ENOTSUP, the default).
 */
void vmm_harness_set_tsc(struct vmm_harness *h, uint32_t khz, uint64_t base);

/**
 * vmm_harness_accel_requested() - whether a device asked hv_accel(@what).
 */
bool vmm_harness_accel_requested(struct vmm_harness *h, enum vmm_accel what);

/*
 * In-kernel devices (ABI 1.14): in VMM_IRQ_KERNEL mode the harness offers
 * hv_device_create and hv_device_attr as a fake of KVM's device API that
 * knows the vGICs (VMM_HV_DEV_ARM_VGIC_V2/V3; another type is -ENODEV,
 * a second vGIC -EEXIST) and records every attribute call.  Like KVM, it
 * refuses (-EBUSY) a vGIC attribute set after its CTRL_INIT.  The
 * harness's vCPUs exist from the start, so a device's ready() op runs
 * right after its create() (vmm_harness_create_device fails when ready()
 * does).
 */
#define VMM_HARNESS_HV_DEVS 8
#define VMM_HARNESS_HV_ATTRS 64

struct vmm_harness_hv_attr {
	int dev;        /* a handle, or VMM_HV_DEV_VCPU(n) */
	uint32_t op;    /* enum vmm_hv_attr_op */
	uint32_t group;
	uint64_t attr;
	/* what a SET passed, for the groups whose size the fake knows (a
	 * vGIC's addresses u64, its INTID count u32, the vCPU timer PPIs
	 * u32); else 0 */
	uint64_t value;
};

/** vmm_harness_hv_attr_count() - hv_device_attr() calls so far. */
size_t vmm_harness_hv_attr_count(struct vmm_harness *h);
/** vmm_harness_hv_attr_at() - call @i (from 0), or NULL past the end. */
const struct vmm_harness_hv_attr *vmm_harness_hv_attr_at(struct vmm_harness *h, size_t i);
/**
 * vmm_harness_hv_device_type() - the type of in-kernel device @dev and
 * whether it got its CTRL_INIT.  Return: 0, -EBADF for no such device.
 */
int vmm_harness_hv_device_type(struct vmm_harness *h, int dev, uint32_t *type, bool *initialised);
/**
 * vmm_harness_hv_refuse_device() - hv_device_create(@type) fails with
 * @err (negative; 0 withdraws), as KVM's -ENODEV for a vGICv2 on a host
 * without a GICv2-compatible interface.
 */
void vmm_harness_hv_refuse_device(struct vmm_harness *h, uint32_t type, int err);
/** vmm_harness_hv_refuse_attr() - setting (@group, @attr) fails with @err (0 withdraws). */
void vmm_harness_hv_refuse_attr(struct vmm_harness *h, uint32_t group, uint64_t attr, int err);

/*
 * Descriptions (describe, for firmware tables): the harness keeps a copy
 * of each, its resources included (not its strings: acpi_hid and
 * fdt_compatible read NULL), in the order given.
 */
#define VMM_HARNESS_DESCS 32
#define VMM_HARNESS_DESC_RES 8
size_t vmm_harness_desc_count(struct vmm_harness *h);
/** vmm_harness_desc_at() - description @i (from 0), or NULL past the end. */
const struct vmm_device_desc *vmm_harness_desc_at(struct vmm_harness *h, size_t i);

/*
 * vCPU registers a device writes (vcpu_reg_write, ABI 1.14, offered only
 * inside its ready op, as under vmmctl): the harness keeps the last value
 * per vCPU and id.
 */
#define VMM_HARNESS_REGS 32
/** vmm_harness_vcpu_reg() - the last value written to @id of @vcpu; -ENOENT: none. */
int vmm_harness_vcpu_reg(struct vmm_harness *h, unsigned vcpu, uint64_t id, uint64_t *value);

/**
 * vmm_harness_timer_outputs() - vCPU @vcpu's architected timer outputs are
 * @levels (VMM_TIMER_OUT_* bits), @changed the bits that changed, as a
 * hypervisor reports them (h->timer_outputs, ABI 1.14): the device that
 * registered with timer_outputs_register hears of it.
 *
 * Return: 0, -ENODEV when no device registered, -EINVAL past the vCPUs.
 */
int vmm_harness_timer_outputs(struct vmm_harness *h, unsigned vcpu, uint32_t levels,
			      uint32_t changed);

/**
 * vmm_harness_char_output() - everything the device wrote to its character
 * backend since creation or the last vmm_harness_char_clear().
 * @dev: the device.
 * @len: if not NULL, receives the byte count.
 *
 * Return: the bytes, NUL-terminated for convenience (the NUL is not counted);
 * valid until the next call into the harness.  "" when the device never
 * opened a backend.
 */
const char *vmm_harness_char_output(struct vmm_harness_dev *dev, size_t *len);

/**
 * vmm_harness_char_clear() - forget captured output.
 * @dev: the device.
 */
void vmm_harness_char_clear(struct vmm_harness_dev *dev);

/**
 * vmm_harness_char_input() - bytes arriving from the host side of the
 * device's character backend (a user typing).
 * @dev: the device.
 * @buf: the bytes.
 * @len: how many.
 *
 * The bytes join a queue.  As the core does, the harness hands the device at
 * most what its can_receive() allows; once can_receive() returns 0 the
 * harness stops delivering until the device calls h->char_input_ready().
 *
 * Return: how many bytes the device took during this call; the rest stay
 * queued (see vmm_harness_char_pending()).
 */
size_t vmm_harness_char_input(struct vmm_harness_dev *dev, const void *buf, size_t len);

/**
 * vmm_harness_char_pending() - input queued but not yet taken by the device.
 * @dev: the device.
 *
 * Return: the byte count.
 */
size_t vmm_harness_char_pending(struct vmm_harness_dev *dev);

/**
 * vmm_harness_char_connect() - someone connects to (@connected true) or
 * leaves the host side of the backend @dev opened by @prop (NULL: the
 * first), as if the backend had called h->char_connected() (ABI 1.4): the
 * client's connected() hears of it now when the state differs from what
 * it was last told.  Every capture starts connected.
 *
 * Return: 0, or -ENOENT when @dev opened no backend by @prop.
 */
int vmm_harness_char_connect(struct vmm_harness_dev *dev, const char *prop, bool connected);

/**
 * vmm_harness_char_connected() - the connection state of that backend as
 * the device sees it (h->char_is_connected()): 1, 0, or -ENOENT.
 */
int vmm_harness_char_connected(struct vmm_harness_dev *dev, const char *prop);

/*
 * A device may open several character backends (one per string property,
 * e.g. a virtio-console's `chardev` and `port1`).  The functions above act
 * on the first one it opened; these name it by the property it was opened
 * with (NULL: the first one), and behave the same way otherwise.
 */
const char *vmm_harness_char_output_prop(struct vmm_harness_dev *dev, const char *prop,
					 size_t *len);
void vmm_harness_char_clear_prop(struct vmm_harness_dev *dev, const char *prop);
size_t vmm_harness_char_input_prop(struct vmm_harness_dev *dev, const char *prop, const void *buf,
				   size_t len);
size_t vmm_harness_char_pending_prop(struct vmm_harness_dev *dev, const char *prop);

/**
 * vmm_harness_clock_ns() - the virtual clock the devices see.
 * @h: the harness.
 *
 * Return: nanoseconds since vmm_harness_new(); only clock_step moves it.
 */
uint64_t vmm_harness_clock_ns(struct vmm_harness *h);

/**
 * vmm_harness_clock_step() - advance virtual time, firing due timers.
 * @h: the harness.
 * @ns: how far; 0 fires only timers already due.
 *
 * Timers fire in deadline order (ties in the order they were armed) and the
 * clock reads each timer's deadline while its callback runs, so a callback
 * that re-arms within the step fires again in the same step.
 */
void vmm_harness_clock_step(struct vmm_harness *h, uint64_t ns);

/**
 * vmm_harness_fd_trigger() - pretend @fd became ready.
 * @h: the harness.
 * @fd: the file descriptor a device watched with h->fd_watch().
 * @events: VMM_FD_READ and/or VMM_FD_WRITE.
 *
 * The harness has no event loop; watches are only recorded until a test
 * triggers them.
 *
 * Return: how many watch callbacks ran.
 */
unsigned vmm_harness_fd_trigger(struct vmm_harness *h, int fd, unsigned events);

/**
 * vmm_harness_fd_poll() - run each watch whose fd is ready now.
 * @h: the harness.
 *
 * One pass over the watches as they stand, each fd polled without
 * waiting (hang-up and error count as readable); watches the callbacks add
 * wait for the next call.  For plugins on real fds whose readiness is
 * settled when the test looks (a unix socket's connect or close).
 *
 * Return: how many watch callbacks ran.
 */
unsigned vmm_harness_fd_poll(struct vmm_harness *h);

/* ---- write notifications (ABI 1.2: h->notify_register) ----
 *
 * The harness offers notify_register as the core does with an ioeventfd:
 * a registration is recorded, and a vmm_harness_pio_write() or
 * vmm_harness_mmio_write() that matches one (bus, address, size and, with
 * datamatch, the value) calls its callback instead of reaching the bus,
 * within the call.  Other writes reach the bus as before.
 */

/**
 * vmm_harness_set_notify() - whether notify_register succeeds (default
 * true); false makes it return NULL, as on a hypervisor without ioeventfd.
 */
void vmm_harness_set_notify(struct vmm_harness *h, bool offered);

/** vmm_harness_notify_count() - registrations now in place. */
size_t vmm_harness_notify_count(struct vmm_harness *h);

/**
 * vmm_harness_notify_get() - the @i-th registration, oldest first; any
 * output pointer may be NULL.  The data is masked to @len bytes.
 *
 * Return: 0, or -ENOENT past the last one.
 */
int vmm_harness_notify_get(struct vmm_harness *h, size_t i, enum vmm_bus *bus, uint64_t *addr,
			   unsigned *len, bool *match, uint64_t *data);

/** vmm_harness_notify_delivered() - writes a registration took since
 * vmm_harness_new(). */
unsigned long vmm_harness_notify_delivered(struct vmm_harness *h);

/** vmm_harness_notify_leaked() - registrations a device left in place when
 * it was destroyed (the harness removes them then). */
unsigned long vmm_harness_notify_leaked(struct vmm_harness *h);

/**
 * vmm_harness_stopped() - did a device call h->machine_stop()?
 * @h: the harness.
 * @reason: if not NULL and stopped, receives the enum vmm_stop_reason.
 * @status: if not NULL and stopped, receives the status.
 *
 * Return: true when stopped; the last call's reason and status are reported.
 */
bool vmm_harness_stopped(struct vmm_harness *h, int *reason, int *status);

/**
 * vmm_harness_log_count() - log lines the devices wrote at one level.
 * @h: the harness.
 * @level: enum vmm_log_level; VMM_LOG_GUEST_ERROR includes accesses the bus
 *	refused for their size.
 *
 * Every line is also printed to stderr as "[instance] level: message",
 * unless $VMM_HARNESS_QUIET is set.
 *
 * Return: the count since vmm_harness_new().
 */
unsigned long vmm_harness_log_count(struct vmm_harness *h, enum vmm_log_level level);

#ifdef __cplusplus
}
#endif
#endif /* VMM_HARNESS_H */
