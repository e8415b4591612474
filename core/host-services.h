/* core/host-services.h - the functions behind the host table's entries
 * (struct vmm_host, include/vmm/host.h, which says what each one does),
 * by the file that holds them.  Only core/machine.c's host_template and
 * the host-*.c files include this. */
#ifndef VMM_CORE_HOST_SERVICES_H
#define VMM_CORE_HOST_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <vmm/vmm.h>

/* host-irq.c: IRQ lines, controllers, MSIs, vCPU interrupt pins, timer outputs */
struct vmm_irq_line *host_irq_line(const struct vmm_host *h, uint32_t line);
void host_irq_set(const struct vmm_host *h, struct vmm_irq_line *l, int level);
enum vmm_irq_mode host_irq_mode(const struct vmm_host *h);
int host_irq_controller_register(const struct vmm_host *h, uint32_t first, uint32_t count,
				 const struct vmm_irq_controller_ops *ops, void *opaque);
void host_cpu_intr_set(const struct vmm_host *h, unsigned vcpu, int level);
int host_msi_send(const struct vmm_host *h, uint64_t addr, uint32_t data);
int host_msi_route(const struct vmm_host *h, uint32_t pin, bool valid, uint64_t addr, uint32_t data);
int host_cpu_irq_line(const struct vmm_host *h, unsigned vcpu, enum vmm_cpu_pin pin, int level);
int host_private_irq_set(const struct vmm_host *h, unsigned vcpu, uint32_t line, int level);
int host_timer_outputs_register(const struct vmm_host *h, const struct vmm_timer_output_ops *ops,
				void *opaque);
int host_timer_outputs(const struct vmm_host *h, unsigned vcpu, uint32_t levels, uint32_t changed);

/* host-hv.c: what devices ask of the hypervisor (vCPU registers, CPUID,
 * Hyper-V, acceleration, in-kernel devices) */
unsigned host_vcpu_count(const struct vmm_host *h);
int host_vcpu_reg_write(const struct vmm_host *h, unsigned vcpu, uint64_t id, const void *val);
int host_cpuid_set(const struct vmm_host *h, const struct vmm_cpuid_leaf *leaves, unsigned n);
int host_hyperv_cpuid(const struct vmm_host *h, struct vmm_cpuid_leaf *leaves, unsigned *n);
int host_hyperv_enable(const struct vmm_host *h, uint32_t what, const struct vmm_hyperv_client *client,
		       void *opaque);
int host_hv_accel(const struct vmm_host *h, enum vmm_accel what);
int host_hv_device_create(const struct vmm_host *h, uint32_t type);
int host_hv_device_attr(const struct vmm_host *h, int dev, enum vmm_hv_attr_op op, uint32_t group,
			uint64_t attr, void *val);

/* host-memory.c: guest memory */
int host_mem_read(const struct vmm_host *h, uint64_t gpa, void *buf, size_t len);
int host_mem_write(const struct vmm_host *h, uint64_t gpa, const void *buf, size_t len);
void *host_mem_map(const struct vmm_host *h, uint64_t gpa, size_t len);
void host_mark_dirty(const struct vmm_host *h, uint64_t gpa, uint64_t len);

/* host-time.c: the virtual clock, timers, a vCPU's TSC, fd watches,
 * write notifications */
uint64_t host_clock_ns(const struct vmm_host *h);
struct vmm_timer *host_timer_new(const struct vmm_host *h, void (*cb)(void *opaque), void *opaque);
void host_timer_arm(const struct vmm_host *h, struct vmm_timer *t, uint64_t deadline_ns);
void host_timer_cancel(const struct vmm_host *h, struct vmm_timer *t);
void host_timer_free(const struct vmm_host *h, struct vmm_timer *t);
int host_vcpu_tsc(const struct vmm_host *h, unsigned vcpu, uint64_t *tsc, uint64_t *ns, uint32_t *khz);
struct vmm_watch *host_fd_watch(const struct vmm_host *h, int fd, unsigned events,
				void (*cb)(void *opaque, int fd, unsigned events), void *opaque);
void host_fd_unwatch(const struct vmm_host *h, struct vmm_watch *w);
struct vmm_notify *host_notify_register(const struct vmm_host *h, enum vmm_bus bus, uint64_t addr,
					unsigned len, bool match, uint64_t data,
					void (*cb)(void *opaque), void *opaque);
void host_notify_unregister(const struct vmm_host *h, struct vmm_notify *n);

/* host-backends.c: char, block and net backends, for the devices using
 * them and for the backends themselves */
struct vmm_char *host_char_open(const struct vmm_host *h, const char *prop,
				const struct vmm_char_client *client, void *opaque);
bool host_char_is_connected(const struct vmm_host *h, struct vmm_char *c);
void host_char_connected(const struct vmm_host *h, bool connected);
ssize_t host_char_write(const struct vmm_host *h, struct vmm_char *c, const void *buf, size_t len);
void host_char_input_ready(const struct vmm_host *h, struct vmm_char *c);
size_t host_char_input_room(const struct vmm_host *h);
size_t host_char_input(const struct vmm_host *h, const void *buf, size_t len);
struct vmm_block *host_block_open(const struct vmm_host *h, const char *prop,
				  struct vmm_block_info *info);
int host_block_io(const struct vmm_host *h, struct vmm_block *b, const struct vmm_block_req *req);
int host_block_io_batch(const struct vmm_host *h, struct vmm_block *b,
			const struct vmm_block_req *reqs, int *results, unsigned n);
struct vmm_net *host_net_open(const struct vmm_host *h, const char *prop,
			      const struct vmm_net_client *client, void *opaque,
			      struct vmm_net_info *info);
int host_net_send(const struct vmm_host *h, struct vmm_net *n, const struct iovec *iov, int iovcnt);
void host_net_input_ready(const struct vmm_host *h, struct vmm_net *n);
int host_net_set_offloads(const struct vmm_host *h, struct vmm_net *n, uint32_t offloads);
int host_net_input(const struct vmm_host *h, const struct iovec *iov, int iovcnt);
void host_net_link_set(const struct vmm_host *h, bool up);

#endif
