/* core/host-irq.c - the host services of interrupts: IRQ lines and the
 * interrupt controller plugins that receive them (sinks), the in-kernel
 * irqchip's resampling irqfds, MSIs, the INTR pin of an emulated 8259 and
 * the IRQ/FIQ pins of an arm64 vCPU, and the arm timer's output levels.
 *
 * Apart from the machine's life cycle (core/machine.c), which calls
 * vmm_check_irq_lines(), vmm_setup_irqfds() and vmm_teardown_irqfds() as
 * it builds and destroys the machine, and from the vCPU loop
 * (core/vcpu-loop.c), which hands a vCPU's pins to the hypervisor
 * (vmm_apply_cpu_pins()).
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vmm/vmm.h>
#include "core/arch-arm64.h"
#include "core/host-services.h"
#include "core/machine.h"
#include "core/machine-internal.h"
#include "core/process.h"
#include "core/table.h"

struct vmm_irq_line *host_irq_line(const struct vmm_host *h, uint32_t line)
{
	struct vmm_instance *in = inst_of(h);
	if (line >= VMM_MAX_IRQ_LINES) {
		vmm_log(VMM_LOG_ERROR, in->name, "IRQ line %u does not exist (0..%u)", line,
			VMM_MAX_IRQ_LINES - 1);
		return NULL;
	}
	if (!in->m->irq[line].user)
		in->m->irq[line].user = in->name;
	return &in->m->irq[line];
}

/* Split and emulated modes: a line no controller plugin receives raises
 * nothing (a virtio device on IOAPIC pin 16 of a machine with only the
 * 8259, say).  Hardware can have an unconnected pin, and a guest that
 * polls works without it, so this warns instead of refusing the machine.
 * In kernel mode the hypervisor takes every line. */
void vmm_check_irq_lines(struct vmm_machine *m)
{
	if (m->irq_mode == VMM_IRQ_KERNEL)
		return;
	for (uint32_t i = 0; i < VMM_MAX_IRQ_LINES; i++) {
		bool taken = false;

		if (!m->irq[i].user)
			continue;
		for (unsigned k = 0; k < m->nsinks && !taken; k++)
			taken = i - m->sinks[k].first < m->sinks[k].count;
		if (!taken)
			vmm_log(VMM_LOG_WARN, m->irq[i].user,
				"IRQ line %u reaches no interrupt controller (irqchip = %s): its "
				"interrupts are lost", i, m->irq_mode == VMM_IRQ_SPLIT ? "split"
				: vmm_machine_is_arm64(m) && !m->nsinks ? "none" : "emulated");
	}
}

static void irqfd_assert(struct vmm_irq_line *l)
{
	uint64_t one = 1;

	/* Cannot fail short of a counter at 2^64 - 1, which KVM drains. */
	if (write(l->irqfd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		vmm_log(VMM_LOG_ERROR, NULL, "IRQ line %u: irqfd write: %s", l->gsi, strerror(errno));
}

/*
 * A rise asserts the line itself, so a resample KVM signalled before it
 * (the guest's EOI of an earlier interrupt) is stale: taken on the main
 * loop later, it would find the line high and assert it again, and that
 * assertion, which KVM makes asynchronously, could land after the guest
 * has already served the new interrupt and lowered the line: a spurious
 * interrupt.  Draining here leaves only the resamples that follow this
 * assertion.
 */
static void irqfd_drain_resample(struct vmm_irq_line *l)
{
	eventfd_take(l->resample_fd);
}

void host_irq_set(const struct vmm_host *h, struct vmm_irq_line *l, int level)
{
	struct vmm_machine *m = inst_of(h)->m;
	bool delivered = false;

	if (!l)
		return;
	level = !!level;
	/* Only level changes go on: an ioctl per THR write would double the
	 * cost of every UART exit. */
	if (atomic_exchange(&l->level, level) == level)
		return;
	/* Plugin controllers first (lock order: device, then controller). */
	for (unsigned i = 0; i < m->nsinks; i++) {
		struct vmm_irq_sink *k = &m->sinks[i];
		if (l->gsi - k->first < k->count) {
			const struct vmm_who *who_prev = vmm_instance_lock(k->in);
			k->ops->set_level(k->opaque, l->gsi, level);
			vmm_instance_unlock(k->in, who_prev);
			delivered = true;
		}
	}
	if (!delivered && m->irq_mode == VMM_IRQ_KERNEL) {
		/* An irqfd line only needs its rises: KVM lowers it at the
		 * guest's EOI and irqfd_resampled() raises it again while the
		 * device still holds it, so a lower costs nothing here. */
		if (l->irqfd >= 0) {
			if (level) {
				irqfd_drain_resample(l);
				irqfd_assert(l);
			}
		} else if (m->hv_ops->irq_line) {
			VMM_IN(HV_WHO(m), m->hv_ops->irq_line(m->vm, l->gsi, level));
		}
	}
	if (level)
		vmm_kick_halted(m);
}

/*
 * The guest ended the interrupt (EOI) and KVM has lowered the line: raise
 * it again if the device still holds it, as a level-triggered pin would
 * stay high.  A device that lowered it meanwhile was seen low; one that
 * lowers it right after the level was read here costs the guest one
 * spurious interrupt, never a lost one: every rise writes the irqfd too
 * (after draining this fd, see irqfd_drain_resample()).
 */
static void irqfd_resampled(evutil_socket_t fd, short what, void *arg)
{
	struct vmm_irq_line *l = arg;

	(void)what;
	if (eventfd_take((int)fd) && atomic_load(&l->level))
		irqfd_assert(l);
}

static void irqfd_line_free(struct vmm_irq_line *l)
{
	if (l->resample_ev)
		event_free(l->resample_ev);
	if (l->irqfd >= 0)
		close(l->irqfd);
	if (l->resample_fd >= 0)
		close(l->resample_fd);
	l->resample_ev = NULL;
	l->irqfd = l->resample_fd = -1;
}

/* Line `l` through a resampling irqfd: 0, -ENOTSUP when the hypervisor
 * offers none, or another error (the line stays on irq_line). */
static int irqfd_line_setup(struct vmm_machine *m, struct vmm_irq_line *l)
{
	int rc = -ENOMEM;

	l->irqfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->resample_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->irqfd < 0 || l->resample_fd < 0) {
		rc = -errno;
		goto out_free;
	}
	l->resample_ev = event_new(m->base, l->resample_fd, EV_READ | EV_PERSIST, irqfd_resampled, l);
	if (!l->resample_ev || event_add(l->resample_ev, NULL) < 0)
		goto out_free;
	rc = VMM_AS(HV_WHO(m), m->hv_ops->irqfd(m->vm, l->gsi, l->irqfd, l->resample_fd, true));
	if (rc < 0)
		goto out_free;
	/* A device may have raised the line while it was created: move that
	 * level from KVM_IRQ_LINE's source to the irqfd's (KVM ORs them). */
	if (atomic_load(&l->level)) {
		if (m->hv_ops->irq_line)
			VMM_IN(HV_WHO(m), m->hv_ops->irq_line(m->vm, l->gsi, 0));
		irqfd_assert(l);
	}
	m->nirqfds++;
	return 0;
out_free:
	irqfd_line_free(l);
	return rc;
}

/*
 * In-kernel irqchip: each line a device described as level-triggered goes
 * through a resampling irqfd instead of a KVM_IRQ_LINE ioctl per change
 * (issue 5).  Done once, after the devices are created and before any
 * vCPU runs, so host_irq_set() reads l->irqfd without a lock; a restart
 * builds a new machine and does it again.  Edge lines keep KVM_IRQ_LINE,
 * whose pulses need no resampling.
 */
void vmm_setup_irqfds(struct vmm_machine *m)
{
	if (m->irq_mode != VMM_IRQ_KERNEL || !HV_HAS(m, irqfd))
		return;
	for (size_t i = 0; i < m->ndescs; i++) {
		const struct vmm_device_desc *d = &m->descs[i];
		for (uint32_t r = 0; r < d->nres; r++) {
			const struct vmm_resource *res = &d->res[r];
			if (res->type != VMM_RES_IRQ || !(res->flags & VMM_RES_IRQ_LEVEL) ||
			    res->base >= VMM_MAX_IRQ_LINES || m->irq[res->base].irqfd >= 0)
				continue;
			int rc = irqfd_line_setup(m, &m->irq[res->base]);
			if (rc == -ENOTSUP)
				return; /* not offered (e.g. irqfd = false): no warning */
			if (rc < 0)
				vmm_log(VMM_LOG_WARN, NULL, "IRQ line %u: no irqfd (%s), using KVM_IRQ_LINE",
					(unsigned)res->base, strerror(-rc));
		}
	}
}

/* Deassign before closing: KVM holds its own reference to the eventfds. */
void vmm_teardown_irqfds(struct vmm_machine *m)
{
	for (unsigned i = 0; i < VMM_MAX_IRQ_LINES; i++) {
		struct vmm_irq_line *l = &m->irq[i];
		if (l->irqfd < 0)
			continue;
		VMM_IN(HV_WHO(m), m->hv_ops->irqfd(m->vm, l->gsi, l->irqfd, l->resample_fd, false));
		irqfd_line_free(l);
	}
	m->nirqfds = 0;
}

enum vmm_irq_mode host_irq_mode(const struct vmm_host *h)
{
	return inst_of(h)->m->irq_mode;
}

int host_irq_controller_register(const struct vmm_host *h, uint32_t first, uint32_t count,
					const struct vmm_irq_controller_ops *ops, void *opaque)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;

	if (m->irq_mode == VMM_IRQ_KERNEL) {
		vmm_log(VMM_LOG_ERROR, in->name, "interrupt lines belong to the hypervisor "
			"(irqchip = \"kernel\"): use mode = \"kernel\" or another irqchip");
		return -EBUSY;
	}
	if (!count || first + count < first || first + count > VMM_MAX_IRQ_LINES || !ops ||
	    ops->size < offsetof(struct vmm_irq_controller_ops, set_level) + sizeof(void *) ||
	    !ops->set_level) {
		vmm_log(VMM_LOG_ERROR, in->name, "irq_controller_register: bad lines %u+%u or ops",
			first, count);
		return -EINVAL;
	}
	if (m->nsinks == VMM_MAX_IRQ_SINKS) {
		vmm_log(VMM_LOG_ERROR, in->name, "more than %d interrupt controllers", VMM_MAX_IRQ_SINKS);
		return -ENOSPC;
	}
	m->sinks[m->nsinks++] = (struct vmm_irq_sink){ in, first, count, ops, opaque };
	/* A line already high (a device created earlier) must not go unseen. */
	for (uint32_t line = first; line < first + count; line++)
		if (atomic_load(&m->irq[line].level))
			ops->set_level(opaque, line, 1);
	return 0;
}

void host_cpu_intr_set(const struct vmm_host *h, unsigned vcpu, int level)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;

	if (vcpu >= m->nvcpus)
		return;
	struct vmm_vcpu *v = &m->vcpus[vcpu];
	if (!v->intr_sink) {
		for (unsigned i = 0; i < m->nsinks; i++)
			if (m->sinks[i].in == in && m->sinks[i].ops->ack)
				v->intr_sink = &m->sinks[i];
		if (!v->intr_sink) {
			vmm_log(VMM_LOG_ERROR, in->name, "cpu_intr_set without a controller that has ack()");
			return;
		}
	}
	/* A raise must reach a vCPU that is in KVM_RUN or halted; the vCPU's
	 * own thread (a guest write to the PIC) checks before its next run. */
	if (atomic_exchange(&v->intr_level, !!level) != !!level && level) {
		vmm_kick_vcpu(m, v);
		vmm_kick_halted(m);
	}
}

int host_msi_send(const struct vmm_host *h, uint64_t addr, uint32_t data)
{
	struct vmm_machine *m = inst_of(h)->m;

	if (m->irq_mode == VMM_IRQ_EMULATED || !HV_HAS(m, msi_send))
		return -ENOTSUP;
	return VMM_AS(HV_WHO(m), m->hv_ops->msi_send(m->vm, addr, data));
}

int host_msi_route(const struct vmm_host *h, uint32_t pin, bool valid, uint64_t addr,
			  uint32_t data)
{
	struct vmm_machine *m = inst_of(h)->m;

	if (m->irq_mode != VMM_IRQ_SPLIT || !HV_HAS(m, msi_route))
		return -ENOTSUP;
	return m->hv_ops->msi_route(m->vm, pin, valid, addr, data);
}

/* ABI 1.8: an interrupt controller plugin's output to a vCPU's IRQ or FIQ
 * input, held by the hypervisor (arm64's KVM_IRQ_LINE of the CPU type).
 * Recorded here, from whatever thread the controller runs on, and handed
 * to the hypervisor by that vCPU's own thread before its next run
 * (vmm_apply_cpu_pins()); a vCPU in a run or in WFI is kicked out of it first.
 * Only changes reach the hypervisor. */
int host_cpu_irq_line(const struct vmm_host *h, unsigned vcpu, enum vmm_cpu_pin pin,
			     int level)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;

	if (vcpu >= m->nvcpus || (pin != VMM_CPU_IRQ && pin != VMM_CPU_FIQ))
		return -EINVAL;
	if (m->irq_mode != VMM_IRQ_EMULATED || !HV_HAS(m, vcpu_irq_set))
		return -ENOTSUP;
	struct vmm_vcpu *v = &m->vcpus[vcpu];
	unsigned bit = 1u << pin;
	unsigned was = level ? atomic_fetch_or(&v->cpu_pins, bit) : atomic_fetch_and(&v->cpu_pins, ~bit);
	/* The vCPU's own thread (an MMIO exit, its timer's level) applies it
	 * before it enters the guest again without being told. */
	if (((was & bit) != 0) != (level != 0) && vmm_this_vcpu != v)
		vmm_kick_vcpu(m, v);
	return 0;
}

/*
 * On the vCPU's thread, just before each run: hand the hypervisor the
 * input levels the controller set since the last one.  Only this thread
 * may: KVM/arm64 keeps a vCPU's IRQ and FIQ lines as the VI and VF bits of
 * its HCR_EL2 copy, which KVM_IRQ_LINE sets with an atomic bit operation,
 * while the vCPU's own thread rewrites the whole word without one every
 * time it is loaded (Linux 6.1 arch/arm64/kvm/arm.c, kvm_arch_vcpu_load:
 * vcpu_set_wfx_traps() or vcpu_clear_wfx_traps(), at each KVM_RUN and each
 * time the thread is scheduled in).  A KVM_IRQ_LINE from another thread
 * that lands inside that rewrite is undone: a raise lost (the vCPU never
 * takes the interrupt, and sleeps in WFI for good) or a lower that comes
 * back (it takes the interrupt again and again).  Between its runs the
 * vCPU is not loaded, so nothing rewrites the word.
 */
void vmm_apply_cpu_pins(struct vmm_machine *m, struct vmm_vcpu *v)
{
	/* A store then a load: the kick that came with a new level may have
	 * been cleared by the backend as the run it ended returned (kvm.c
	 * clears immediate_exit then), and the level must still be seen. */
	atomic_thread_fence(memory_order_seq_cst);
	unsigned want = atomic_load_explicit(&v->cpu_pins, memory_order_relaxed);
	unsigned diff = want ^ v->cpu_pins_given;

	for (unsigned pin = VMM_CPU_IRQ; diff && pin <= VMM_CPU_FIQ; pin++)
		if (diff & (1u << pin))
			VMM_IN(HV_WHO(m), m->hv_ops->vcpu_irq_set(m->vm, v->index, pin,
								  (want >> pin) & 1));
	v->cpu_pins_given = want;
}

/* ABI 1.8, called by the hypervisor backend on a vCPU thread: a line
 * private to a vCPU (a PPI) goes to every controller that takes them. */
int host_private_irq_set(const struct vmm_host *h, unsigned vcpu, uint32_t line, int level)
{
	struct vmm_machine *m = inst_of(h)->m;
	int rc = -ENODEV;

	if (vcpu >= m->nvcpus)
		return -EINVAL;
	for (unsigned i = 0; i < m->nsinks; i++) {
		struct vmm_irq_sink *k = &m->sinks[i];

		if (!VMM_TABLE_HAS(k->ops->size, k->ops, struct vmm_irq_controller_ops, set_private))
			continue;
		const struct vmm_who *who_prev = vmm_instance_lock(k->in);
		k->ops->set_private(k->opaque, vcpu, line, !!level);
		vmm_instance_unlock(k->in, who_prev);
		rc = 0;
	}
	return rc;
}

/* ABI 1.14: the arm-timer plugin takes the timers' levels. */
int host_timer_outputs_register(const struct vmm_host *h,
				       const struct vmm_timer_output_ops *ops, void *opaque)
{
	struct vmm_instance *in = inst_of(h);
	struct vmm_machine *m = in->m;

	if (!ops || !VMM_TABLE_HAS(ops->size, ops, struct vmm_timer_output_ops, levels))
		return -EINVAL;
	if (m->timer_ops && m->timer_in != in) {
		vmm_user_error(m, in->name, "device '%s' takes the timers' outputs already",
			   m->timer_in->name);
		return -EBUSY;
	}
	m->timer_ops = ops;
	m->timer_opaque = opaque;
	m->timer_in = in;
	return 0;
}

int host_timer_outputs(const struct vmm_host *h, unsigned vcpu, uint32_t levels,
			      uint32_t changed)
{
	struct vmm_machine *m = inst_of(h)->m;

	if (vcpu >= m->nvcpus)
		return -EINVAL;
	if (!m->timer_ops || m->timer_in->failed)
		return -ENODEV;
	const struct vmm_who *who_prev = vmm_instance_lock(m->timer_in);
	m->timer_ops->levels(m->timer_opaque, vcpu, levels, changed);
	vmm_instance_unlock(m->timer_in, who_prev);
	return 0;
}
