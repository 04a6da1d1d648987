/*
 * privs - dropping privileges, the one audited helper (STYLE.md 10)
 *
 * Order matters: supplementary groups and the gid are changed while we are
 * still root (afterwards we could not), then real, effective and saved
 * uid in one setresuid. Afterwards we check the result rather than trust
 * the return codes: regaining uid 0 or gid 0 must fail, and all three
 * uids and gids must be the account's. A process that cannot prove it has
 * dropped exits through log_fatal (111) rather than serve with privileges
 * nobody expected. An account in group 0 (uid 0, gid 0, or root among
 * its supplementary groups) is refused too. Changing ids makes the kernel
 * mark the process non-dumpable (fs.suid_dumpable); that is left alone.
 * seccomp and landlock profiles are applied by each program afterwards.
 */
#include "util/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

int priv_account(const char *account, uid_t *uid_r, gid_t *gid_r)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(account);
	if (pw == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	return 0;
}

int priv_group(const char *group, gid_t *gid_r)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(group);
	if (gr == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	*gid_r = gr->gr_gid;
	return 0;
}

/* Fatal if group 0 is among the supplementary groups. */
static void priv_verify_groups(const char *account)
{
	int n = getgroups(0, NULL);
	gid_t *groups;

	if (n < 0)
		log_fatal("privilege drop to %s: getgroups: %s", account,
			  strerror(errno));
	groups = xcalloc((size_t)n + 1, sizeof(*groups));
	n = getgroups(n, groups);
	if (n < 0)
		log_fatal("privilege drop to %s: getgroups: %s", account,
			  strerror(errno));
	for (int i = 0; i < n; i++)
		if (groups[i] == 0)
			log_fatal("privilege drop to %s: still in group 0",
				  account);
	free(groups);
}

/* Fatal unless regaining root fails and all ids are uid/gid. */
static void priv_verify(const char *account, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setuid(0) != -1)
		log_fatal("privilege drop to %s: setuid(0) succeeded",
			  account);
	if (setgid(0) != -1)
		log_fatal("privilege drop to %s: setgid(0) succeeded",
			  account);
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		log_fatal("privilege drop to %s: getresuid: %s", account,
			  strerror(errno));
	if (ru != uid || eu != uid || su != uid)
		log_fatal("privilege drop to %s: uids are %ld/%ld/%ld, not %ld",
			  account, (long)ru, (long)eu, (long)su, (long)uid);
	if (rg != gid || eg != gid || sg != gid)
		log_fatal("privilege drop to %s: gids are %ld/%ld/%ld, not %ld",
			  account, (long)rg, (long)eg, (long)sg, (long)gid);
	priv_verify_groups(account);
}

int priv_drop(const char *account)
{
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (priv_account(account, &uid, &gid) < 0)
		log_fatal("account %s does not exist; run postern init as root",
			  account);
	if (uid == 0 || gid == 0)
		log_fatal("account %s has uid or gid 0; it must not", account);
	if (initgroups(account, gid) < 0)
		log_fatal("initgroups %s: %s", account, strerror(errno));
	if (setresgid(gid, gid, gid) < 0)
		log_fatal("setresgid %ld: %s", (long)gid, strerror(errno));
	if (setresuid(uid, uid, uid) < 0)
		log_fatal("setresuid %ld: %s", (long)uid, strerror(errno));
	priv_verify(account, uid, gid);
	return 1;
}
