/* core/privilege.h - no privileges after start-up.
 *
 * vmmctl sets no_new_privs first thing (nothing it could exec would gain
 * privileges, and seccomp filters need it).  Given `user` (and `group`) in
 * the config and started as root, it opens what needs root (/dev/kvm, taps,
 * disk images, log files, sockets: the whole machine is built), then
 * becomes that user before the first vCPU thread starts: supplementary
 * groups set to the one group, real, effective and saved gid and uid
 * changed, which clears every capability (no SECBIT_KEEP_CAPS); the bounding
 * set is emptied first.  It then
 * checks that root cannot be had back.  Root without `user`: the machine
 * built, every capability is cleared (with on-reset = restart too: each boot
 * is a child process of its own, built by the parent's next child: jail.h).
 *
 * Error convention: 0 or a negative errno with one line in `err`.
 */
#ifndef VMM_CORE_PRIVILEGE_H
#define VMM_CORE_PRIVILEGE_H

#include <stddef.h>
#include <sys/types.h>

/* `user` is a name or a number; `group` likewise, or NULL/"" for the
 * user's primary group (a number with no passwd entry needs a group). */
int vmm_priv_resolve(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
		     size_t errlen);
/* Become uid/gid for good.  Not root and already uid/gid: nothing to do. */
int vmm_priv_drop(uid_t uid, gid_t gid, char *err, size_t errlen);

/* Without user: clear every capability (effective, permitted, inheritable,
 * ambient, bounding); uid 0 stays the owner of root's files.  0, or
 * -errno with one line in `err`. */
int vmm_priv_drop_caps(char *err, size_t errlen);

#endif
