/*
 * test_privs - account lookups and the privilege drop
 *
 * As root (CI), each drop happens in a forked child that reports its ids
 * through a pipe, so the test process keeps its privileges. As a normal
 * user, priv_drop must do nothing and return 0.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/log.h"
#include "util/privs.h"

struct report {
	int rc;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int setuid0_failed, setgid0_failed;
	int in_group0;
};

static int in_group0(void)
{
	gid_t g[256];
	int n = getgroups(256, g);

	for (int i = 0; i < n; i++)
		if (g[i] == 0)
			return 1;
	return n < 0;
}

/* In a child: drop to account and describe the result on fd. */
static _Noreturn void child_drop(const char *account, int fd)
{
	struct report r;

	memset(&r, 0, sizeof(r));
	r.rc = priv_drop(account);
	getresuid(&r.ruid, &r.euid, &r.suid);
	getresgid(&r.rgid, &r.egid, &r.sgid);
	r.setuid0_failed = setuid(0) == -1;
	r.setgid0_failed = setgid(0) == -1;
	r.in_group0 = in_group0();
	_exit(write(fd, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
}

static void test_priv_account_root(void)
{
	uid_t uid = 1;
	gid_t gid = 1;

	TEST_ASSERT(priv_account("root", &uid, &gid) == 0);
	TEST_ASSERT(uid == 0 && gid == 0);
}

static void test_priv_account_missing(void)
{
	uid_t uid = 7;
	gid_t gid = 7;

	TEST_ASSERT(priv_account("no-such-user-xyz", &uid, &gid) == -1);
	TEST_ASSERT(uid == 7 && gid == 7);
	TEST_ASSERT(priv_account("", &uid, &gid) == -1);
}

static void test_priv_group(void)
{
	gid_t gid = 1;

	TEST_ASSERT(priv_group("root", &gid) == 0);
	TEST_ASSERT(gid == 0);
	gid = 9;
	TEST_ASSERT(priv_group("no-such-group-xyz", &gid) == -1);
	TEST_ASSERT(gid == 9);
}

static void test_priv_drop_not_root(void)
{
	uid_t uid = getuid();

	if (geteuid() == 0) {
		printf("note: running as root, not-root case not tested\n");
		return;
	}
	TEST_ASSERT(priv_drop("nobody") == 0);
	TEST_ASSERT(priv_drop("no-such-user-xyz") == 0);
	TEST_ASSERT(getuid() == uid);
}

static void test_priv_drop_nobody(void)
{
	struct report r;
	uid_t uid;
	gid_t gid;
	int p[2], status;
	pid_t pid;

	if (geteuid() != 0) {
		printf("note: not root, privilege drop not tested\n");
		return;
	}
	if (priv_account("nobody", &uid, &gid) < 0) {
		printf("note: no account nobody, privilege drop not tested\n");
		return;
	}
	TEST_ASSERT(pipe(p) == 0);
	pid = fork();
	TEST_ASSERT(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_drop("nobody", p[1]);
	}
	close(p[1]);
	memset(&r, 0, sizeof(r));
	TEST_ASSERT(read(p[0], &r, sizeof(r)) == (ssize_t)sizeof(r));
	close(p[0]);
	TEST_ASSERT(waitpid(pid, &status, 0) == pid);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TEST_ASSERT(r.rc == 1);
	TEST_ASSERT(r.ruid == uid && r.euid == uid && r.suid == uid);
	TEST_ASSERT(r.rgid == gid && r.egid == gid && r.sgid == gid);
	TEST_ASSERT(r.setuid0_failed && r.setgid0_failed);
	TEST_ASSERT(!r.in_group0);
	TEST_ASSERT(getuid() == 0);	/* the parent kept its privileges */
}

/* Run priv_drop(account) in a child; its stderr and exit status. */
static int drop_fails(const char *account, char *msg, size_t size)
{
	int p[2], status;
	ssize_t n;
	size_t got = 0;
	pid_t pid;

	if (pipe(p) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		log_open("test_privs", LOG_TO_STDERR);
		priv_drop(account);
		_exit(0);
	}
	close(p[1]);
	while (got + 1 < size &&
	       (n = read(p[0], msg + got, size - 1 - got)) > 0)
		got += (size_t)n;
	msg[got] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_priv_drop_missing_account(void)
{
	char msg[512];

	if (geteuid() != 0) {
		printf("note: not root, fatal lookup not tested\n");
		return;
	}
	TEST_ASSERT(drop_fails("no-such-user-xyz", msg, sizeof(msg)) == 111);
	TEST_ASSERT(strstr(msg, "test_privs[") == msg);
	TEST_ASSERT(strstr(msg, "fatal: account no-such-user-xyz does not "
			   "exist; run postern init as root\n") != NULL);
}

static void test_priv_drop_refuses_root(void)
{
	char msg[512];

	if (geteuid() != 0) {
		printf("note: not root, drop to root not tested\n");
		return;
	}
	TEST_ASSERT(drop_fails("root", msg, sizeof(msg)) == 111);
	TEST_ASSERT(strstr(msg, "account root has uid or gid 0") != NULL);
}

TEST_MAIN(test_priv_account_root, test_priv_account_missing, test_priv_group,
	  test_priv_drop_not_root, test_priv_drop_nobody,
	  test_priv_drop_missing_account, test_priv_drop_refuses_root)
