/* core/host-memory.c - guest memory: its regions mapped and handed to the
 * hypervisor at build (vmm_setup_ram()), a device's reads, writes and maps
 * of it, and the bitmaps of the pages the VMM itself wrote (mark_dirty),
 * which a live migration takes each round (core/migrate.c).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vmm/vmm.h>
#include "core/arch-arm64.h"
#include "core/arch-x86.h"
#include "core/host-services.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/process.h"

static void *ram_ptr(struct vmm_machine *m, uint64_t gpa, size_t len)
{
	for (unsigned i = 0; i < m->nram; i++) {
		struct vmm_ram *r = &m->ram[i];
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

void *vmm_machine_ram(struct vmm_machine *m, uint64_t gpa, size_t len)
{
	return ram_ptr(m, gpa, len);
}

int host_mem_read(const struct vmm_host *h, uint64_t gpa, void *buf, size_t len)
{
	void *p = ram_ptr(inst_of(h)->m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

void vmm_machine_mark_dirty(struct vmm_machine *m, uint64_t gpa, uint64_t len)
{
	/* The caller's write to guest RAM is ordered before the look at the
	 * flag (a store then a load: only a full fence orders them, C11
	 * 7.17.4): a migration that turns tracking on and then reads the
	 * page either sees this write or gets its mark. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!len || !atomic_load_explicit(&m->dirty_tracking, memory_order_relaxed))
		return;
	for (unsigned i = 0; i < m->nram; i++) {
		struct vmm_ram *r = &m->ram[i];
		uint64_t lo = gpa > r->gpa ? gpa : r->gpa;
		uint64_t end = gpa + len < gpa ? UINT64_MAX : gpa + len;
		uint64_t hi = end < r->gpa + r->size ? end : r->gpa + r->size;

		if (!r->dev_dirty || lo >= hi)
			continue;
		for (uint64_t p = (lo - r->gpa) >> 12; p <= (hi - 1 - r->gpa) >> 12; p++)
			atomic_fetch_or_explicit(&r->dev_dirty[p / 64], 1ull << (p % 64), memory_order_release);
	}
}

void vmm_machine_dev_dirty_take(struct vmm_ram *r, uint64_t *bitmap)
{
	uint64_t words = (r->size / 4096 + 63) / 64;

	for (uint64_t w = 0; r->dev_dirty && w < words; w++)
		if (atomic_load_explicit(&r->dev_dirty[w], memory_order_relaxed))
			bitmap[w] |= atomic_exchange_explicit(&r->dev_dirty[w], 0, memory_order_acquire);
}

int host_mem_write(const struct vmm_host *h, uint64_t gpa, const void *buf, size_t len)
{
	void *p = ram_ptr(inst_of(h)->m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	vmm_machine_mark_dirty(inst_of(h)->m, gpa, len);
	return 0;
}

void *host_mem_map(const struct vmm_host *h, uint64_t gpa, size_t len)
{
	atomic_store(&inst_of(h)->mapped_ram, true);
	return ram_ptr(inst_of(h)->m, gpa, len);
}

void host_mark_dirty(const struct vmm_host *h, uint64_t gpa, uint64_t len)
{
	vmm_machine_mark_dirty(inst_of(h)->m, gpa, len);
}

/* The regions where the architecture puts them (core/arch-*.h). */
int vmm_setup_ram(struct vmm_machine *m)
{
	if (vmm_machine_is_arm64(m))
		vmm_arm64_ram_layout(m);
	else
		vmm_x86_ram_layout(m);
	for (unsigned i = 0; i < m->nram; i++) {
		struct vmm_ram *r = &m->ram[i];
		/* MAP_NORESERVE: only pages the guest touches cost memory. */
		r->hva = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r->hva == MAP_FAILED) {
			r->hva = NULL;
			vmm_log(VMM_LOG_ERROR, NULL, "cannot map %" PRIu64 " MiB of guest memory: %s",
				r->size >> 20, strerror(errno));
			return -ENOMEM;
		}
		madvise(r->hva, r->size, MADV_MERGEABLE);
		r->dev_dirty = calloc((r->size / 4096 + 63) / 64, sizeof(uint64_t));
		if (!r->dev_dirty)
			return -ENOMEM;
		int rc = VMM_AS(HV_WHO(m), m->hv_ops->set_memory(m->vm, i, r->gpa, r->size, r->hva, 0));
		if (rc < 0) {
			vmm_log(VMM_LOG_ERROR, NULL, "hypervisor refused guest memory slot %u: %s", i,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}
