/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fake-host.h - a fake struct vmm_host for the libFuzzer
 * targets: guest RAM is one heap block of exactly the RAM size at gpa 0
 * (so AddressSanitizer sees any access past it), one MMIO region, IRQ
 * levels recorded, timers run when the target says, properties from a
 * fixed table, and an in-memory block backend with the core's range and
 * read-only checks.  Nothing here talks to a hypervisor or a file.
 *
 * Not the test harness (tests/harness): that one loads plugins with
 * dlopen; the fuzz targets link the device code in directly so that it is
 * built with the fuzzer's coverage instrumentation.
 *
 * Error convention: 0 or a negative errno; NULL for pointers.
 */
#ifndef VMM_FUZZ_FAKE_HOST_H
#define VMM_FUZZ_FAKE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmm/host.h>

#define FAKE_MAX_PROPS 8
#define FAKE_MAX_TIMERS 4

struct fake_timer {
	bool used, armed;
	uint64_t deadline;
	void (*cb)(void *opaque);
	void *opaque;
};

#define FAKE_CHARS 2 /* char backends a device may open (a console and its port 1) */

struct fake_host {
	struct vmm_host h;
	uint8_t *ram;
	size_t ram_size;

	/* One MMIO region (a virtio-mmio window). */
	bool mapped;
	uint64_t region_base, region_len;
	const struct vmm_region_ops *region_ops;
	void *region_opaque;

	int irq_level;
	unsigned long irq_raises;
	unsigned long guest_errors;
	uint64_t clock;
	struct fake_timer timers[FAKE_MAX_TIMERS];

	const char *prop_names[FAKE_MAX_PROPS];
	const char *prop_values[FAKE_MAX_PROPS];
	unsigned nprops;

	/* The in-memory disk behind block_open(). */
	uint8_t *disk;
	uint64_t disk_bytes;
	uint32_t disk_flags;
	bool disk_open;
	unsigned long disk_ops;
	unsigned long disk_refused; /* requests the core would have refused */

	/* The net backend behind net_open(): sent frames are read whole (so
	 * ASan sees every segment) and counted; one frame can wait to be
	 * injected (fake_host_net_inject), as a backend keeps it after
	 * -EAGAIN until net_input_ready(). */
	bool net_present, net_open;
	uint32_t net_caps;                   /* offloads the backend reports */
	bool net_has_mac;
	const struct vmm_net_client *net_client;
	void *net_opaque;
	uint32_t net_offloads;               /* last net_set_offloads() */
	bool net_paused, net_ready;          /* input paused / resumed since */
	uint8_t *net_pending;                /* a frame waiting, or NULL */
	size_t net_pending_len, net_pending_split;
	unsigned long net_sent, net_sent_bytes, net_received;
	unsigned long net_refused;           /* frames or offloads the core would refuse */

	/* The char backends behind char_open() (FAKE_CHARS of them, one
	 * per property, in opening order): output captured (the last bytes
	 * of all of them kept), input waiting until the device has room. */
	bool char_present;
	struct fake_char {
		bool open;
		const struct vmm_char_client *client;
		void *opaque;
		bool paused, ready;
		uint8_t pending[1024];
		size_t pending_len;
	} chars[FAKE_CHARS];
	uint8_t char_out[256];
	unsigned long char_out_bytes, char_in_bytes;
};

/**
 * fake_host_init() - a host with @ram_size bytes of zeroed RAM at gpa 0
 * and, when @disk_bytes is not 0, an in-memory disk of that size.
 * Return: 0, or -ENOMEM.
 */
int fake_host_init(struct fake_host *fh, size_t ram_size, uint64_t disk_bytes,
		   uint32_t disk_flags);

/** fake_host_fini() - free what fake_host_init() allocated. */
void fake_host_fini(struct fake_host *fh);

/** fake_host_set_prop() - property @name reads as the string @value
 * (integers and booleans are parsed from it). */
void fake_host_set_prop(struct fake_host *fh, const char *name, const char *value);

/** fake_host_mmio_read() - a guest load of @len bytes at @gpa; all ones
 * where no region answers. */
uint64_t fake_host_mmio_read(struct fake_host *fh, uint64_t gpa, unsigned len);

/** fake_host_mmio_write() - a guest store of @len bytes at @gpa. */
void fake_host_mmio_write(struct fake_host *fh, uint64_t gpa, unsigned len, uint64_t value);

/**
 * fake_host_run_timers() - advance the clock by @ns and run every armed
 * timer that is due, as the main loop would (at most a bounded number of
 * rounds, so a timer that re-arms itself cannot keep this call busy).
 * Return: how many callbacks ran.
 */
unsigned fake_host_run_timers(struct fake_host *fh, uint64_t ns);

/** fake_host_add_net() - a net backend (property "net" must name it)
 * reporting offloads @caps, with a MAC of its own when @mac. */
void fake_host_add_net(struct fake_host *fh, uint32_t caps, bool mac);

/** fake_host_add_char() - a char backend (property "chardev" names it). */
void fake_host_add_char(struct fake_host *fh);

/**
 * fake_host_net_inject() - the backend has frame @frame (@len bytes,
 * header first, handed over as two segments split at @split): it replaces
 * any frame still waiting and is offered to the device now unless input
 * is paused.  Return: 0, or -ENOMEM.
 */
int fake_host_net_inject(struct fake_host *fh, const void *frame, size_t len, size_t split);

/** fake_host_char_inject() - @len bytes of input for the char backend
 * the device opened @which-th (0: the first; what does not fit the waiting
 * buffer is dropped); offered now unless input is paused. */
void fake_host_char_inject(struct fake_host *fh, unsigned which, const void *buf, size_t len);

/** fake_host_poll() - what the main loop does after a device callback:
 * deliver waiting input where the device said it has room again. */
void fake_host_poll(struct fake_host *fh);

#endif
