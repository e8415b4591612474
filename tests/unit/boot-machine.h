/* tests/unit/boot-machine.h - just enough of a struct vmm_machine for the
 * boot loaders (core/boot-x86.c's vmm_boot_load_image): one RAM region from 0
 * on the heap, a config, and vCPU 0 on a fake hypervisor that keeps the
 * registers the loader sets.  No /dev/kvm, no devices.  Shared by
 * tests/unit/test_boot.c and the boot fuzz targets (tests/fuzz/). */
#ifndef VMM_TESTS_BOOT_MACHINE_H
#define VMM_TESTS_BOOT_MACHINE_H

#include <stdlib.h>
#include <string.h>

#include "core/boot.h"
#include "core/machine-internal.h"

struct boot_machine {
	struct vmm_machine m;
	struct vmm_machine_config cfg;
	struct vmm_vcpu vcpu;
	struct vmm_hv_ops ops;
	struct vmm_x86_regs regs;
	struct vmm_x86_sregs sregs;
	unsigned set_regs, set_sregs; /* calls */
};

static inline struct boot_machine *boot_machine_of(void *vcpu)
{
	return vcpu;
}

static inline int boot_machine_get_sregs(void *vcpu, struct vmm_x86_sregs *s)
{
	*s = boot_machine_of(vcpu)->sregs;
	return 0;
}

static inline int boot_machine_set_sregs(void *vcpu, const struct vmm_x86_sregs *s)
{
	boot_machine_of(vcpu)->sregs = *s;
	boot_machine_of(vcpu)->set_sregs++;
	return 0;
}

static inline int boot_machine_set_regs(void *vcpu, const struct vmm_x86_regs *r)
{
	boot_machine_of(vcpu)->regs = *r;
	boot_machine_of(vcpu)->set_regs++;
	return 0;
}

/* A machine with `ram_size` bytes of RAM at 0 (one heap block of exactly
 * that size, so that ASan sees any access past it), format `format`, no
 * command line or initrd.  NULL when out of memory. */
static inline struct boot_machine *boot_machine_new(uint64_t ram_size, enum vmm_boot_format format)
{
	struct boot_machine *b = calloc(1, sizeof(*b));
	uint8_t *ram = malloc((size_t)ram_size);
	if (!b || !ram) {
		free(b);
		free(ram);
		return NULL;
	}
	memset(ram, 0, (size_t)ram_size);
	b->cfg.file = (char *)"<test>";
	b->cfg.memory = ram_size;
	b->cfg.vcpus = 1;
	b->cfg.format = format;
	b->cfg.load_address = 0x8000;
	b->ops.size = sizeof(b->ops);
	b->ops.vcpu_get_sregs = boot_machine_get_sregs;
	b->ops.vcpu_set_sregs = boot_machine_set_sregs;
	b->ops.vcpu_set_regs = boot_machine_set_regs;
	b->vcpu.m = &b->m;
	b->vcpu.hv = b;
	b->m.cfg = &b->cfg;
	b->m.hv_ops = &b->ops;
	b->m.ram[0] = (struct vmm_ram){ .gpa = 0, .size = ram_size, .hva = ram };
	b->m.nram = 1;
	b->m.vcpus = &b->vcpu;
	b->m.nvcpus = 1;
	return b;
}

static inline void boot_machine_free(struct boot_machine *b)
{
	if (b) {
		free(b->m.ram[0].hva);
		free(b);
	}
}

#endif
