/* core/privilege.c - no privileges after start-up (see privilege.h). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/privilege.h"

/* A whole decimal number up to 2^32 - 2 ((uid_t)-1 means "unchanged"). */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*end && !errno && *out < 0xffffffffUL;
}

int vmm_priv_resolve(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
		     size_t errlen)
{
	char buf[16384];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	unsigned long n;
	bool numeric = parse_id(user, &n);

	if (numeric)
		getpwuid_r((uid_t)n, &pw, buf, sizeof(buf), &pwp);
	else
		getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
	if (!pwp && !numeric) {
		snprintf(err, errlen, "user = \"%s\": no such user", user);
		return -ENOENT;
	}
	*uid = numeric ? (uid_t)n : pwp->pw_uid;
	if (group && *group) {
		if (parse_id(group, &n)) {
			*gid = (gid_t)n;
			return 0;
		}
		getgrnam_r(group, &gr, buf, sizeof(buf), &grp);
		if (!grp) {
			snprintf(err, errlen, "group = \"%s\": no such group", group);
			return -ENOENT;
		}
		*gid = grp->gr_gid;
		return 0;
	}
	if (!pwp) {
		snprintf(err, errlen, "user = \"%s\": no such user in the passwd database, so a group "
			 "is needed too (group = NAME or GID)", user);
		return -ENOENT;
	}
	*gid = pwp->pw_gid;
	return 0;
}

static void drop_bounding_set(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			break;
}

int vmm_priv_drop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	getresuid(&ruid, &euid, &suid);
	getresgid(&rgid, &egid, &sgid);
	if (ruid == uid && euid == uid && suid == uid && rgid == gid && egid == gid && sgid == gid &&
	    uid != 0)
		return 0;
	if (euid != 0) {
		snprintf(err, errlen, "cannot become uid %u gid %u: vmmctl is not running as root",
			 (unsigned)uid, (unsigned)gid);
		return -EPERM;
	}
	/* The bounding set too, while CAP_SETPCAP is ours: the uid change
	 * clears the other sets, not this one. */
	drop_bounding_set();
	/* Groups first: they need root, which setresuid() gives up. */
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot become uid %u gid %u: %s", (unsigned)uid, (unsigned)gid,
			 strerror(e));
		return -e;
	}
	/* Root must not come back (a kernel or a libc that kept the saved
	 * uid): fail rather than run half-dropped. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "dropped to uid %u, but root could be had back", (unsigned)uid);
		return -EPERM;
	}
	return 0;
}

int vmm_priv_drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 }, { 0 } };

	if (syscall(SYS_capget, &hdr, data) < 0) {
		snprintf(err, errlen, "cannot read the capabilities: %s", strerror(errno));
		return -errno;
	}
	if (!data[0].permitted && !data[1].permitted)
		return 0;
	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	drop_bounding_set();
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot clear the capabilities: %s", strerror(e));
		return -e;
	}
	return 0;
}
