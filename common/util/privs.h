/*
 * privs - dropping privileges, the one audited helper (STYLE.md 10)
 *
 * priv_drop(account): resolve the account, set its supplementary groups,
 * setresgid, setresuid, then verify that setuid(0) and setgid(0) fail and
 * that real, effective and saved ids are the account's. Any failure is
 * fatal (the caller must not go on with privileges it did not expect).
 * When the process is not root, nothing can be dropped: priv_drop returns
 * 0 and the caller logs that privilege separation is off.
 */
#ifndef POSTERN_PRIVS_H
#define POSTERN_PRIVS_H

#include <sys/types.h>

/* 1 dropped to the account, 0 not root (nothing done); fatal otherwise. */
int priv_drop(const char *account);
/* Look up uid and gid of an account: 0, or -1 if it does not exist. */
int priv_account(const char *account, uid_t *uid_r, gid_t *gid_r);
/* gid of a group: 0, or -1. */
int priv_group(const char *group, gid_t *gid_r);

#endif
