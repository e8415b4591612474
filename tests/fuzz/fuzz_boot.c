/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_boot.c - libFuzzer targets for the boot loaders in
 * core/boot-x86.c: bytes in, loaded image out, on a 4 MiB fake machine
 * (tests/unit/boot-machine.h).  Built once per loader, the format fixed
 * with -DFUZZ_BOOT_FORMAT: fuzz_boot_pvh (PVH ELF), fuzz_boot_bzimage
 * (64-bit boot protocol), fuzz_boot_flat (flat real-mode binary).
 *
 * Input layout:
 *   [0]     bit 0: a command line "console=ttyS0"; bit 1: instead, one of
 *           70000 bytes (over every loader's limit); bit 2: load-address
 *           0x7c00 instead of 0x8000 (flat)
 *   [1..]   the kernel file
 *
 * Invariants beside the sanitizers (the RAM is one heap block of exactly
 * its size, so a write past it is an ASan report): a load returns 0 or a
 * negative errno; a failed one logged exactly one error line and set no
 * vCPU registers; a good one logged no error, set vCPU 0's registers once
 * with RIP inside RAM; and nothing is ever written to 0x9fc00..0x100000,
 * where the ACPI tables are built before the kernel is loaded.  A broken
 * invariant abort()s: a loader bug, never something a file may cause.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "tests/unit/boot-machine.h"

#ifndef FUZZ_BOOT_FORMAT
#error "build with -DFUZZ_BOOT_FORMAT=VMM_BOOT_PVH, VMM_BOOT_BZIMAGE or VMM_BOOT_FLAT"
#endif

#define RAM_SIZE (4u << 20)
#define FIRMWARE_START 0x9fc00u
#define FIRMWARE_END 0x100000u
#define SENTINEL 0xac

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned errors_logged;
int vmm_log_threshold = VMM_LOG_INFO;

/* core/log.c's functions, counting error lines; FUZZ_LOG=1 prints them. */
void vmm_vlog(enum vmm_log_level level, const char *who, const char *fmt, va_list ap)
{
	(void)who;
	if (level == VMM_LOG_ERROR)
		errors_logged++;
	if (getenv("FUZZ_LOG")) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

void vmm_log(enum vmm_log_level level, const char *who, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmm_vlog(level, who, fmt, ap);
	va_end(ap);
}

/* core/host-memory.c's, on the fake machine's one RAM region. */
void *vmm_machine_ram(struct vmm_machine *m, uint64_t gpa, size_t len)
{
	struct vmm_ram *r = &m->ram[0];
	if (gpa > r->size || len > r->size - gpa)
		return NULL;
	return r->hva + gpa;
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant failed: %s\n", what);
		abort();
	}
}

static struct boot_machine *bm;
static char long_cmdline[70001];
static uint8_t sentinel[FIRMWARE_END - FIRMWARE_START];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!bm) {
		bm = boot_machine_new(RAM_SIZE, FUZZ_BOOT_FORMAT);
		check(bm != NULL, "fake machine");
		memset(long_cmdline, 'a', sizeof(long_cmdline) - 1);
		memset(sentinel, SENTINEL, sizeof(sentinel));
	}
	uint8_t *ram = bm->m.ram[0].hva;
	memcpy(ram + FIRMWARE_START, sentinel, sizeof(sentinel));
	bm->cfg.cmdline = data[0] & 2 ? long_cmdline : data[0] & 1 ? (char *)"console=ttyS0" : NULL;
	bm->cfg.load_address = data[0] & 4 ? 0x7c00 : 0x8000;
	bm->set_regs = bm->set_sregs = 0;
	bm->regs = (struct vmm_x86_regs){ 0 };
	errors_logged = 0;

	/* The file bytes in a block of their own: ASan sees reads past them. */
	size_t len = size - 1;
	uint8_t *file = malloc(len ? len : 1);
	check(file != NULL, "malloc");
	memcpy(file, data + 1, len);
	int rc = vmm_boot_load_image(&bm->m, "fuzz", file, len);
	free(file);

	check(rc <= 0, "a load returns 0 or a negative errno");
	if (rc) {
		check(errors_logged == 1, "a refused load logs exactly one error line");
		check(bm->set_regs == 0, "a refused load sets no vCPU registers");
	} else {
		check(errors_logged == 0, "a good load logs no error");
		check(bm->set_regs == 1 && bm->set_sregs == 1, "a good load sets vCPU 0 once");
		check(bm->regs.rip < RAM_SIZE, "the entry point is in RAM");
	}
	check(memcmp(ram + FIRMWARE_START, sentinel, sizeof(sentinel)) == 0,
	      "nothing is written to the ACPI tables and BIOS area");
	return 0;
}
