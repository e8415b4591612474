/* SPDX-License-Identifier: MIT */
/* hypervisors/kvm/kvm-x86-state.h - the x86 state ops (kvm-x86-state.c)
 * for kvm-x86.c's ops table. */
#ifndef VMM_KVM_X86_STATE_H
#define VMM_KVM_X86_STATE_H

#include "hypervisors/kvm/kvm-internal.h"

int kvm_x86_vcpu_state_save(void *vcpu, struct vmm_state_out *out);
int kvm_x86_vcpu_state_load(void *vcpu, struct vmm_state_in *in);
int kvm_x86_vm_state_save(void *vm, struct vmm_state_out *out);
int kvm_x86_vm_state_load(void *vm, struct vmm_state_in *in);
/* Whether the VM has an in-kernel PIT (kvm-x86.c). */
bool kvm_x86_has_pit(const struct kvm_vm *vm);

#endif
