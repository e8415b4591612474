/* core/bus.c - address spaces with lock-free lookup (see bus.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/process.h"

struct vmm_bus_map {
	struct vmm_bus_map *next_retired;
	size_t count;
	struct vmm_bus_region r[];
};

int vmm_bus_init(struct vmm_bus_space *b, const char *name, uint64_t limit,
		 enum vmm_bus_addressing addressing)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->limit = limit;
	b->addressing = addressing;
	struct vmm_bus_map *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	atomic_init(&b->map, m);
	pthread_mutex_init(&b->wlock, NULL);
	return 0;
}

void vmm_bus_destroy(struct vmm_bus_space *b)
{
	struct vmm_bus_map *m = atomic_load(&b->map);
	free(m);
	while (b->retired) {
		m = b->retired;
		b->retired = m->next_retired;
		free(m);
	}
	atomic_store(&b->map, NULL);
	pthread_mutex_destroy(&b->wlock);
}

/* Index of the last region with base <= addr, or -1. */
static ptrdiff_t map_floor(const struct vmm_bus_map *m, uint64_t addr)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)m->count - 1, found = -1;
	while (lo <= hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2;
		if (m->r[mid].base <= addr) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

static const struct vmm_bus_region *map_lookup(const struct vmm_bus_map *m, uint64_t addr)
{
	ptrdiff_t i = map_floor(m, addr);
	if (i < 0)
		return NULL;
	const struct vmm_bus_region *r = &m->r[i];
	return addr - r->base < r->len ? r : NULL;
}

/* Publish `n` and retire the old map; caller holds wlock. */
static void publish(struct vmm_bus_space *b, struct vmm_bus_map *n)
{
	struct vmm_bus_map *old = atomic_exchange_explicit(&b->map, n, memory_order_acq_rel);
	old->next_retired = b->retired;
	b->retired = old;
}

int vmm_bus_reserve(struct vmm_bus_space *b, uint64_t base, uint64_t len, const char *what)
{
	if (len == 0 || base + (len - 1) < base)
		return -EINVAL;
	if (b->nreserved == VMM_BUS_MAX_RESERVED)
		return -ENOSPC;
	b->reserved[b->nreserved++] = (struct vmm_bus_reserved){ base, len, what };
	return 0;
}

int vmm_bus_map(struct vmm_bus_space *b, uint64_t base, uint64_t len, const struct vmm_region_ops *ops,
		void *opaque, const struct vmm_bus_owner *owner, char *err, size_t errlen)
{
	const char *who = owner && owner->name ? owner->name : "?";

	if (len == 0) {
		snprintf(err, errlen, "%s: %s region at 0x%" PRIx64 " has zero length", who, b->name, base);
		return -EINVAL;
	}
	if (base + (len - 1) < base) {
		snprintf(err, errlen, "%s: %s region 0x%" PRIx64 "+0x%" PRIx64 " wraps around the address space",
			 who, b->name, base, len);
		return -EINVAL;
	}
	if (b->limit && (base >= b->limit || len > b->limit - base)) {
		snprintf(err, errlen, "%s: %s region 0x%" PRIx64 "+0x%" PRIx64 " ends beyond 0x%" PRIx64,
			 who, b->name, base, len, b->limit - 1);
		return -EINVAL;
	}
	if (!ops || (!ops->read && !ops->write)) {
		snprintf(err, errlen, "%s: %s region at 0x%" PRIx64 " has no read or write op", who, b->name, base);
		return -EINVAL;
	}
	if (ops->size < offsetof(struct vmm_region_ops, write) + sizeof(void *)) {
		snprintf(err, errlen, "%s: %s region ops table is %u bytes, expected at least %zu", who,
			 b->name, ops->size, offsetof(struct vmm_region_ops, write) + sizeof(void *));
		return -EINVAL;
	}
	for (unsigned k = 0; k < b->nreserved; k++) {
		const struct vmm_bus_reserved *r = &b->reserved[k];
		if (base <= r->base + (r->len - 1) && r->base <= base + (len - 1)) {
			snprintf(err, errlen, "%s: %s region 0x%" PRIx64 "+0x%" PRIx64 " overlaps %s (0x%" PRIx64
				 "-0x%" PRIx64 ")", who, b->name, base, len, r->what, r->base, r->base + (r->len - 1));
			return -EEXIST;
		}
	}
	uint32_t sizes = ops->access_sizes ? ops->access_sizes : VMM_ACCESS_ANY;
	if (sizes & ~VMM_ACCESS_ANY) {
		snprintf(err, errlen, "%s: %s region access_sizes 0x%x has unknown bits", who, b->name, sizes);
		return -EINVAL;
	}

	pthread_mutex_lock(&b->wlock);
	struct vmm_bus_map *m = atomic_load_explicit(&b->map, memory_order_acquire);
	ptrdiff_t i = map_floor(m, base);
	/* Only the neighbours on both sides can overlap a sorted, disjoint set. */
	const struct vmm_bus_region *clash = NULL;
	if (i >= 0 && base - m->r[i].base < m->r[i].len)
		clash = &m->r[i];
	else if ((size_t)(i + 1) < m->count && m->r[i + 1].base - base < len)
		clash = &m->r[i + 1];
	if (clash) {
		snprintf(err, errlen, "%s: %s region 0x%" PRIx64 "+0x%" PRIx64 " overlaps 0x%" PRIx64 "+0x%" PRIx64
			 " of %s", who, b->name, base, len, clash->base, clash->len,
			 clash->owner && clash->owner->name ? clash->owner->name : "?");
		pthread_mutex_unlock(&b->wlock);
		return -EEXIST;
	}

	struct vmm_bus_map *n = malloc(sizeof(*n) + (m->count + 1) * sizeof(n->r[0]));
	if (!n) {
		pthread_mutex_unlock(&b->wlock);
		snprintf(err, errlen, "%s: out of memory", who);
		return -ENOMEM;
	}
	size_t at = (size_t)(i + 1);
	n->next_retired = NULL;
	n->count = m->count + 1;
	memcpy(n->r, m->r, at * sizeof(n->r[0]));
	n->r[at] = (struct vmm_bus_region){ .base = base, .len = len, .ops = ops, .opaque = opaque,
					    .owner = owner, .sizes = sizes };
	memcpy(&n->r[at + 1], &m->r[at], (m->count - at) * sizeof(n->r[0]));
	publish(b, n);
	pthread_mutex_unlock(&b->wlock);
	return 0;
}

/* Rebuild the map without the regions `drop` selects; -ENOENT if none. */
static int remove_where(struct vmm_bus_space *b, bool (*drop)(const struct vmm_bus_region *r, const void *arg),
			const void *arg)
{
	pthread_mutex_lock(&b->wlock);
	struct vmm_bus_map *m = atomic_load_explicit(&b->map, memory_order_acquire);
	struct vmm_bus_map *n = malloc(sizeof(*n) + m->count * sizeof(n->r[0]));
	if (!n) {
		pthread_mutex_unlock(&b->wlock);
		return -ENOMEM;
	}
	n->next_retired = NULL;
	n->count = 0;
	for (size_t i = 0; i < m->count; i++)
		if (!drop(&m->r[i], arg))
			n->r[n->count++] = m->r[i];
	if (n->count == m->count) {
		free(n);
		pthread_mutex_unlock(&b->wlock);
		return -ENOENT;
	}
	publish(b, n);
	pthread_mutex_unlock(&b->wlock);
	return 0;
}

struct unmap_key {
	uint64_t base;
	const struct vmm_bus_owner *owner;
};

static bool drop_at(const struct vmm_bus_region *r, const void *arg)
{
	const struct unmap_key *k = arg;
	return r->base == k->base && r->owner == k->owner;
}

static bool drop_owner(const struct vmm_bus_region *r, const void *arg)
{
	return r->owner == arg;
}

int vmm_bus_unmap(struct vmm_bus_space *b, uint64_t base, const struct vmm_bus_owner *owner)
{
	struct unmap_key k = { base, owner };
	return remove_where(b, drop_at, &k);
}

void vmm_bus_unmap_owner(struct vmm_bus_space *b, const struct vmm_bus_owner *owner)
{
	remove_where(b, drop_owner, owner);
}

size_t vmm_bus_count(struct vmm_bus_space *b)
{
	return atomic_load_explicit(&b->map, memory_order_acquire)->count;
}

const struct vmm_bus_region *vmm_bus_find(struct vmm_bus_space *b, uint64_t addr)
{
	return map_lookup(atomic_load_explicit(&b->map, memory_order_acquire), addr);
}

/* Largest accepted power-of-two size that fits in `avail` bytes, or 0. */
static unsigned pick_size(uint32_t sizes, uint64_t avail)
{
	for (unsigned s = 8; s; s >>= 1)
		if ((sizes & s) && s <= avail)
			return s;
	return 0;
}

static int call_region(const struct vmm_bus_region *r, unsigned vcpu, uint64_t off, unsigned len,
		       uint64_t *value, bool is_write)
{
	int rc;
	if (r->owner && r->owner->lock)
		pthread_mutex_lock(r->owner->lock);
	/* The device's code runs now: a fault in it names the plugin. */
	const struct vmm_who *prev = vmm_who_enter(r->owner ? r->owner->who : NULL);
	if (is_write)
		rc = r->ops->write ? r->ops->write(r->opaque, vcpu, off, len, *value) : -EPERM;
	else
		rc = r->ops->read ? r->ops->read(r->opaque, vcpu, off, len, value) : -EPERM;
	vmm_who_leave(prev);
	if (r->owner && r->owner->lock)
		pthread_mutex_unlock(r->owner->lock);
	return rc;
}

static uint64_t size_mask(unsigned len)
{
	return len >= 8 ? ~0ull : (1ull << (len * 8)) - 1;
}

/* One whole register: an MSR is one address however wide the access. */
static int register_access(struct vmm_bus_space *b, const struct vmm_bus_map *m, unsigned vcpu,
			   uint64_t addr, unsigned len, uint64_t *value, bool is_write)
{
	const struct vmm_bus_region *r = map_lookup(m, addr);
	if (!r) {
		if (is_write)
			atomic_fetch_add_explicit(&b->unclaimed_writes, 1, memory_order_relaxed);
		else
			atomic_fetch_add_explicit(&b->unclaimed_reads, 1, memory_order_relaxed);
		if (!is_write)
			*value = ~0ull;
		return -ENOENT;
	}
	if (!(r->sizes & len)) {
		atomic_fetch_add_explicit(&b->refused, 1, memory_order_relaxed);
		if (!is_write)
			*value = ~0ull;
		return -EIO;
	}
	if (call_region(r, vcpu, addr - r->base, len, value, is_write)) {
		atomic_fetch_add_explicit(&b->device_errors, 1, memory_order_relaxed);
		if (!is_write)
			*value = ~0ull;
		return -EIO;
	}
	return 0;
}

/*
 * Walk [addr, addr+len) piece by piece: each piece is the largest size its
 * region accepts.  The common case (one region, accepted size) is one
 * lookup and one call.
 */
static int bus_access(struct vmm_bus_space *b, unsigned vcpu, uint64_t addr, unsigned len, uint64_t *value,
		      bool is_write)
{
	const struct vmm_bus_map *m = atomic_load_explicit(&b->map, memory_order_acquire);
	uint64_t in = is_write ? *value : 0, out = 0;
	int status = 0;

	if (len == 0 || len > 8)
		return -EINVAL;
	if (b->addressing == VMM_BUS_REGISTERS)
		return register_access(b, m, vcpu, addr, len, value, is_write);

	/* The common case, every port-I/O exit: one region holds the whole
	 * access and takes its size. */
	const struct vmm_bus_region *r = map_lookup(m, addr);
	if (__builtin_expect(r && (r->sizes & len) && len <= r->len - (addr - r->base), 1)) {
		if (call_region(r, vcpu, addr - r->base, len, value, is_write) == 0) {
			if (!is_write)
				*value &= size_mask(len);
			return 0;
		}
		atomic_fetch_add_explicit(&b->device_errors, 1, memory_order_relaxed);
		if (!is_write)
			*value = size_mask(len);
		return -EIO;
	}

	for (unsigned done = 0; done < len;) {
		uint64_t a = addr + done;
		r = map_lookup(m, a);
		unsigned rest = len - done;
		if (!r) {
			/* One unclaimed byte; the next one may be claimed. */
			if (is_write)
				atomic_fetch_add_explicit(&b->unclaimed_writes, 1, memory_order_relaxed);
			else
				atomic_fetch_add_explicit(&b->unclaimed_reads, 1, memory_order_relaxed);
			out |= 0xffull << (done * 8);
			done++;
			status = status ? status : -ENOENT;
			continue;
		}
		uint64_t avail = r->len - (a - r->base);
		if (avail > rest)
			avail = rest;
		unsigned s = pick_size(r->sizes, avail);
		if (!s) {
			/* Narrower than anything the device accepts. */
			atomic_fetch_add_explicit(&b->refused, 1, memory_order_relaxed);
			out |= size_mask((unsigned)avail) << (done * 8);
			done += (unsigned)avail;
			status = -EIO;
			continue;
		}
		uint64_t v = (in >> (done * 8)) & size_mask(s);
		int rc = call_region(r, vcpu, a - r->base, s, &v, is_write);
		if (rc) {
			atomic_fetch_add_explicit(&b->device_errors, 1, memory_order_relaxed);
			v = ~0ull;
			status = -EIO;
		}
		out |= (v & size_mask(s)) << (done * 8);
		done += s;
	}
	if (!is_write)
		*value = out & size_mask(len);
	return status;
}

int vmm_bus_read(struct vmm_bus_space *b, unsigned vcpu, uint64_t addr, unsigned len, uint64_t *value)
{
	return bus_access(b, vcpu, addr, len, value, false);
}

int vmm_bus_write(struct vmm_bus_space *b, unsigned vcpu, uint64_t addr, unsigned len, uint64_t value)
{
	return bus_access(b, vcpu, addr, len, &value, true);
}
