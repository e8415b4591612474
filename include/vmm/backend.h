/* SPDX-License-Identifier: MIT */
/*
 * vmm/backend.h - host-side backend plugins (kind VMM_PLUGIN_BACKEND).
 *
 * A backend connects a device to something on the host: a terminal, a file,
 * a socket.  Its ops table starts with struct vmm_backend_ops; `type` says
 * which longer table it really is.
 *
 * Backend ops are not serialised by the core: they may run on a vCPU thread
 * (a device writing) and on the main thread (fd callbacks) at once.
 *
 * Checking (ABI 1.6).  `vmmctl check` builds the whole machine short of
 * running it, and a backend whose opening has effects on the host (a file
 * truncated, a socket path or a tap interface created, the terminal made
 * raw) must not be opened then.  Each kind's table ends with an optional
 * check op that the core calls instead of open() while checking: it reads
 * the properties and verifies what it can without effects (an image is a
 * readable regular file, a log file's directory is writable), logs each
 * problem as open() would and returns a negative errno for the first.  On
 * success it may set *state to a stand-in for the open backend: the core
 * gives that, when it is not NULL, to the table's info op (a block
 * backend's real size and read-only flag, a net backend's offloads, so the
 * device is built as it will be) and to close() at teardown, and to no
 * other op.  While checking
 * the core itself discards character writes, refuses block requests (-EIO)
 * and drops net frames: nothing runs anyway.  check must not call the
 * backend-side services (char_input, net_input, char_connected,
 * net_link_set) nor watch fds.  A backend without the op (an older or
 * third-party one) is not opened by check at all: its device gets a
 * stand-in with no state (a disk of 0 bytes, no offloads) and check says
 * so in one line.
 *
 * Error convention: 0 or a negative errno; NULL for pointers.
 */
#ifndef VMM_BACKEND_H
#define VMM_BACKEND_H

#include <vmm/plugin.h>
#include <vmm/host.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vmm_backend_type {
	VMM_BACKEND_CHAR = 1,  /* struct vmm_char_backend_ops */
	VMM_BACKEND_BLOCK = 2, /* struct vmm_block_backend_ops (ABI 1.2) */
	VMM_BACKEND_NET = 3,   /* struct vmm_net_backend_ops (ABI 1.2) */
};

struct vmm_backend_ops {
	uint32_t size; /* sizeof the whole kind-specific table */
	uint32_t type; /* enum vmm_backend_type */
	/* Open one instance; read options with h->prop_*.  Input is delivered
	 * with h->char_input() from an fd watch set up here. */
	int (*open)(const struct vmm_host *h, void **state);
	void (*close)(void *state);
};

struct vmm_char_backend_ops {
	struct vmm_backend_ops base;
	/* Returns bytes written (all of them unless the host side is gone) or
	 * a negative errno. */
	ssize_t (*write)(void *state, const void *buf, size_t len);
	/* The device has room again: start reading input.  May be NULL. */
	void (*resume_input)(void *state);
	/* ABI 1.6, may be NULL: open() without its effects, for vmmctl
	 * check (see above). */
	int (*check)(const struct vmm_host *h, void **state);
};

/*
 * A disk (ABI 1.2).  The core checks every request against info's size and
 * read-only flag before calling, so a backend sees ranges inside the disk
 * only.  Transfers are complete or fail: a backend retries short ones.
 */
struct vmm_block_backend_ops {
	struct vmm_backend_ops base;
	/* Size and flags of the open disk. */
	void (*info)(void *state, struct vmm_block_info *info);
	int (*readv)(void *state, const struct iovec *iov, int iovcnt, uint64_t offset);
	int (*writev)(void *state, const struct iovec *iov, int iovcnt, uint64_t offset);
	int (*flush)(void *state);
	/* May be NULL: the disk has no such operation (-EOPNOTSUPP). */
	int (*discard)(void *state, uint64_t offset, uint64_t len);
	int (*write_zeroes)(void *state, uint64_t offset, uint64_t len);
	/* ABI 1.6, may be NULL: open() without its effects, for vmmctl
	 * check (see above); info() gets its state. */
	int (*check)(const struct vmm_host *h, void **state);
	/* ABI 1.11, may be NULL: run @n (at most VMM_BLOCK_BATCH_MAX) READ and
	 * WRITE requests, already checked by the core, all at once, and
	 * return when every one has completed, with results[i] 0 or a
	 * negative errno (a short transfer the backend could not finish is
	 * -EIO).  The requests are independent: they may run in any order
	 * and at the same time, so a backend keeps them all in flight (an
	 * io_uring backend submits them with one system call).  Without the
	 * op the core runs them one by one through readv and writev. */
	void (*submit)(void *state, const struct vmm_block_req *reqs, int *results, unsigned n);
};

/*
 * A network link (ABI 1.2): Ethernet frames, each led by a struct
 * vmm_net_hdr (host.h).  Frames from the host side go to the device with
 * h->net_input(); when that returns -EAGAIN the device has no room, and the
 * backend keeps the frame and stops reading until resume_input is called.
 */
struct vmm_net_backend_ops {
	struct vmm_backend_ops base;
	/* One frame from the device: iov[] holds the header, then the frame.
	 * 0 when sent or dropped by the link (as a wire would), or a
	 * negative errno. */
	int (*send)(void *state, const struct iovec *iov, int iovcnt);
	/* Capabilities and MAC (struct vmm_net_info, its size set by the
	 * caller).  May be NULL: no offloads, no MAC. */
	void (*info)(void *state, struct vmm_net_info *info);
	/* VMM_NET_OFFLOAD_* the device's driver can take in frames sent to
	 * it (a subset of info's offloads); 0 means plain frames, full
	 * checksums.  May be NULL when info offers no offloads. */
	int (*set_offloads)(void *state, uint32_t offloads);
	/* The device has room again after h->net_input() said -EAGAIN.  May
	 * run on any thread. */
	void (*resume_input)(void *state);
	/* ABI 1.6, may be NULL: open() without its effects, for vmmctl
	 * check (see above); info() gets its state. */
	int (*check)(const struct vmm_host *h, void **state);
	/* ABI 1.17, may be NULL: the machine is a live migration's
	 * destination, whose source may hold the same host end on the same
	 * host (a local move: a new vmmctl takes over a running guest).  The
	 * core calls standby(state, 1) right after open(): from then on the
	 * backend takes nothing from the host that the source's machine
	 * should still get (net-tap: its queue of the multi-queue tap
	 * detached, so the kernel steers every frame to the source's).  Once
	 * the machine's state is loaded, before it runs, standby(state, 0):
	 * the backend takes frames again (a frame sent in between went to
	 * the source, as a wire's frame to a paused machine would be lost).
	 * Called on the main thread, before any vCPU runs; 0 or a negative
	 * errno, which fails the migration (the source runs on).  Without
	 * the op a backend opens as before (a tap the source holds is busy). */
	int (*standby)(void *state, int on);
};

#ifdef __cplusplus
}
#endif
#endif /* VMM_BACKEND_H */
