/* core/bus.h - PIO, MMIO and MSR address spaces.
 *
 * A bus is a sorted array of non-overlapping regions.  Writers (device
 * creation, rare remaps) build a new array under a mutex and publish it with
 * one atomic store; vCPU threads look up with a binary search on whatever
 * array they loaded, so dispatch takes no bus lock.  Replaced arrays are
 * kept until the bus is destroyed, which is when no vCPU runs any more.
 *
 * Error convention: 0 or a negative errno; messages go to `err`.
 */
#ifndef VMM_CORE_BUS_H
#define VMM_CORE_BUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <vmm/host.h>

/* Who owns a region: named in overlap errors; its lock, when not NULL,
 * is held around every call into the region's ops. */
struct vmm_who;

struct vmm_bus_owner {
	const char *name;
	pthread_mutex_t *lock;
	const struct vmm_who *who; /* the plugin code a callback runs (process.h), or NULL */
};

struct vmm_bus_region {
	uint64_t base, len;
	const struct vmm_region_ops *ops;
	void *opaque;
	const struct vmm_bus_owner *owner;
	uint32_t sizes; /* access_sizes, 0 already turned into VMM_ACCESS_ANY */
};

struct vmm_bus_map;

/* How addresses on a bus are counted. */
enum vmm_bus_addressing {
	VMM_BUS_BYTES,     /* PIO, MMIO: an access covers `len` consecutive addresses */
	VMM_BUS_REGISTERS, /* MSR: each address is one 8-byte register; never split */
};

/* A range no device may map: guest RAM, or a window the hypervisor
 * itself answers (vmm_bus_reserve). */
struct vmm_bus_reserved {
	uint64_t base, len;
	const char *what; /* "guest RAM", named in the refusal */
};

#define VMM_BUS_MAX_RESERVED 4

struct vmm_bus_space {
	const char *name;     /* "pio", "mmio", "msr" */
	struct vmm_bus_reserved reserved[VMM_BUS_MAX_RESERVED];
	unsigned nreserved;
	uint64_t limit;       /* highest address + 1, or 0 for the whole 64-bit space */
	enum vmm_bus_addressing addressing;
	_Atomic(struct vmm_bus_map *) map;
	struct vmm_bus_map *retired;
	pthread_mutex_t wlock;
	/* Guest-visible oddities, counted for `vmmctl run --stats`. */
	atomic_uint_fast64_t unclaimed_reads, unclaimed_writes, refused, device_errors;
};

int vmm_bus_init(struct vmm_bus_space *b, const char *name, uint64_t limit,
		 enum vmm_bus_addressing addressing);
void vmm_bus_destroy(struct vmm_bus_space *b);

/* -EINVAL: zero length, wrap-around or beyond the bus limit; -EEXIST:
 * overlap (err names both owners) or a reserved range (err names it). */
int vmm_bus_map(struct vmm_bus_space *b, uint64_t base, uint64_t len, const struct vmm_region_ops *ops,
		void *opaque, const struct vmm_bus_owner *owner, char *err, size_t errlen);
/* Refuse every later vmm_bus_map() overlapping [base, base + len); `what`
 * (a static string) names the range.  -ENOSPC past VMM_BUS_MAX_RESERVED. */
int vmm_bus_reserve(struct vmm_bus_space *b, uint64_t base, uint64_t len, const char *what);
/* -ENOENT when `owner` has no region starting at base. */
int vmm_bus_unmap(struct vmm_bus_space *b, uint64_t base, const struct vmm_bus_owner *owner);
/* Drop every region of `owner` (device creation failed or it is destroyed). */
void vmm_bus_unmap_owner(struct vmm_bus_space *b, const struct vmm_bus_owner *owner);

/*
 * Guest accesses of 1..8 bytes, little-endian.  Bytes no region claims read
 * as 0xff (writes to them are dropped); both are counted.  On a
 * VMM_BUS_REGISTERS bus `addr` names one register and len must be 8.  Returns 0 when
 * every byte was claimed and accepted, -ENOENT when some byte was unclaimed,
 * -EIO when a device refused the access or its size.
 */
int vmm_bus_read(struct vmm_bus_space *b, unsigned vcpu, uint64_t addr, unsigned len, uint64_t *value);
int vmm_bus_write(struct vmm_bus_space *b, unsigned vcpu, uint64_t addr, unsigned len, uint64_t value);

/* Number of regions now mapped (for tests and `--stats`). */
size_t vmm_bus_count(struct vmm_bus_space *b);
/* The region containing addr, or NULL; valid until the bus is destroyed. */
const struct vmm_bus_region *vmm_bus_find(struct vmm_bus_space *b, uint64_t addr);

#endif
