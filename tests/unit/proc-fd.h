/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/proc-fd.h - find this process's descriptors by what they
 * are, for test and benchmark programs that drive a real backend plugin
 * through the harness and need the fd the plugin opened (the tap's
 * /dev/net/tun, its eventfds).  Reads /proc/self/fd; header-only, include
 * it once per program.
 */
#ifndef VMM_TESTS_PROC_FD_H
#define VMM_TESTS_PROC_FD_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The last fd whose /proc/self/fd link reads @what (e.g. "/dev/net/tun"),
 * or -1; with @each, @each(fd) runs on every such fd too. */
static inline int proc_fd_find(const char *what, void (*each)(int fd))
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d))) {
		char path[300], target[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strcmp(target, what) == 0) {
				fd = atoi(e->d_name);
				if (each)
					each(fd);
			}
		}
	}
	if (d)
		closedir(d);
	return fd;
}

#endif
