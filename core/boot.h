/* core/boot.h - boot payloads: PVH ELF and flat real-mode binaries.
 * Error convention: 0 or a negative errno; errors are logged naming the file. */
#ifndef VMM_CORE_BOOT_H
#define VMM_CORE_BOOT_H
struct vmm_machine;
/* Load the config's kernel into guest RAM and set vCPU 0's entry state. */
int vmm_boot_load(struct vmm_machine *m);
#endif
