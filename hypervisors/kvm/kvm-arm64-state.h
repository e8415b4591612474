/* SPDX-License-Identifier: MIT */
/* hypervisors/kvm/kvm-arm64-state.h - an arm64 vCPU's and VM's state as
 * records (kvm-arm64-state.c), and what it needs of kvm-arm64.c. */
#ifndef VMM_KVM_ARM64_STATE_H
#define VMM_KVM_ARM64_STATE_H

#include <stdbool.h>

#include "hypervisors/kvm/kvm-internal.h"

int kvm_arm64_vcpu_state_save(void *vcpu, struct vmm_state_out *out);
int kvm_arm64_vcpu_state_load(void *vcpu, struct vmm_state_in *in);
int kvm_arm64_vm_state_save(void *vm, struct vmm_state_out *out);
int kvm_arm64_vm_state_load(void *vm, struct vmm_state_in *in);

/* kvm-arm64.c: irqchip = "emulated" (a GIC in a plugin), and vCPU 0 (NULL
 * before it exists): the VM's virtual counter is read and written there. */
bool kvm_arm64_user_gic(const struct kvm_vm *vm);
struct kvm_vcpu *kvm_arm64_vcpu0(const struct kvm_vm *vm);
/* vCPU `index`, NULL before it exists. */
struct kvm_vcpu *kvm_arm64_vcpu(const struct kvm_vm *vm, uint32_t index);
/* The VM's in-kernel vGIC: its device fd (-1 without one), its
 * KVM_DEV_TYPE_*, and whether an ITS was created beside it. */
int kvm_arm64_vgic(const struct kvm_vm *vm, uint32_t *type, bool *its);

#endif
