/* core/file.h - opening a file the user named without waiting on it. */
#ifndef VMM_CORE_FILE_H
#define VMM_CORE_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * open(2) that returns at once whatever the path is: a FIFO opened for
 * reading would wait for a writer (with the stop signals held back, before
 * issue 9 only SIGKILL ended that), a terminal device for its carrier.  The
 * open itself is O_NONBLOCK; the descriptor is made blocking again before
 * it is returned, so reads and writes behave as usual.  O_CLOEXEC always.
 * Returns the descriptor, or -1 with errno set.  The caller still checks
 * the file's type: a FIFO opened this way reads as empty.
 */
int vmm_open_nowait(const char *path, int flags);

/* All of buf to the socket fd, through interrupted and short sends, with
 * no SIGPIPE (MSG_NOSIGNAL: a peer gone is -EPIPE).  0 or -errno. */
int vmm_send_all(int fd, const void *buf, size_t len);

/* All of buf to the file fd at offset off (pwrite(2)), through interrupted
 * and short writes.  0 or -errno. */
int vmm_pwrite_all(int fd, const void *buf, size_t len, off_t off);

#endif
