/*
 * test_instance - the instance lock is held by whoever inherited it, and
 * its holders are found (and only they) and signalled
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "master/instance.h"

static char dir[] = "/tmp/test_instance.XXXXXX";

/* A process that keeps the descriptors it was forked with, until killed. */
static pid_t holder(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void test_lock_outlives_its_taker(void)
{
	struct instance_proc v[8];
	int dfd, lock, look, other;
	pid_t a, b;
	size_t n;

	TEST_ASSERT(mkdtemp(dir) != NULL);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	lock = instance_lock_open(dfd, 1);
	TEST_ASSERT(lock >= 0);
	TEST_ASSERT(instance_lock_take(lock) == 1);
	a = holder();		/* a "child": inherits the locked description */
	TEST_ASSERT(a > 0);
	close(lock);		/* the "master" is gone */
	look = instance_lock_open(dfd, 0);
	TEST_ASSERT(look >= 0);
	TEST_ASSERT(instance_lock_held(look) == 1);
	TEST_ASSERT(instance_lock_take(look) == 0);
	/* b opened the file but holds no lock: not one of the instance */
	other = instance_lock_open(dfd, 0);
	b = holder();
	close(other);
	n = instance_procs(look, v, 8);
	TEST_ASSERT(n == 1 && v[0].pid == a);
	TEST_ASSERT(n == 1 && strcmp(v[0].name, "test_instance") == 0);
	TEST_ASSERT(instance_proc_signal(look, &v[0], SIGTERM) == 1);
	TEST_ASSERT(waitpid(a, NULL, 0) == a);
	/* gone: nothing to signal, and the lock is free */
	TEST_ASSERT(instance_proc_signal(look, &v[0], SIGTERM) == 0);
	TEST_ASSERT(instance_lock_held(look) == 0);
	TEST_ASSERT(instance_procs(look, v, 8) == 0);
	TEST_ASSERT(instance_lock_take(look) == 1);
	TEST_ASSERT(flock(look, LOCK_UN) == 0);
	/* a shared lock (a prober's, held for a moment) is not the instance's */
	other = instance_lock_open(dfd, 0);
	TEST_ASSERT(flock(other, LOCK_SH) == 0);
	a = holder();
	close(other);
	TEST_ASSERT(instance_procs(look, v, 8) == 0);
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	close(look);
	close(dfd);
}

static void test_lock_file_symlink_refused(void)
{
	char path[128];
	int dfd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "%s/instance.lock", dir);
	unlink(path);
	TEST_ASSERT(symlink("/etc/passwd", path) == 0);
	errno = 0;
	TEST_ASSERT(instance_lock_open(dfd, 1) < 0 && errno == ELOOP);
	unlink(path);
	TEST_ASSERT(mkfifo(path, 0600) == 0);
	errno = 0;
	TEST_ASSERT(instance_lock_open(dfd, 1) < 0 && errno == EEXIST);
	unlink(path);
	close(dfd);
	rmdir(dir);
}

static void test_fdinfo_lines(void)
{
	static const struct { const char *text; int locked; } t[] = {
		{ "pos:\t0\nflags:\t02100000\nmnt_id:\t27\nino:\t5\n"
		  "lock:\t1: FLOCK  ADVISORY  WRITE 28315 fe:00:5 0 EOF\n", 1 },
		{ "lock:\t1: FLOCK  ADVISORY  WRITE 1 fe:00:5 0 EOF", 1 },
		/* a shared lock: a prober */
		{ "pos:\t0\nlock:\t1: FLOCK  ADVISORY  READ 7 fe:00:5 0 EOF\n", 0 },
		/* a POSIX lock is not ours */
		{ "lock:\t1: POSIX  ADVISORY  WRITE 7 fe:00:5 0 EOF\n", 0 },
		/* only on a lock: line, at the start of a line */
		{ "flags: FLOCK WRITE \n", 0 },
		{ "xlock:\t1: FLOCK  ADVISORY  WRITE 1\n", 0 },
		{ "pos:\t0\nflags:\t02100000\n", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[256];

		snprintf(buf, sizeof(buf), "%s", t[i].text);
		TEST_ASSERT(instance_fdinfo_locked(buf) == t[i].locked);
	}
}

static void test_cmdline_names(void)
{
	static const struct {
		const char *cmd;
		size_t n;
		size_t size;
		const char *name;
	} t[] = {
#define C(s) s, sizeof(s) - 1
		{ C("/usr/libexec/postern/postern-smtpd\0-c\0/e/p.conf\0-s\0"
		    "submission\0"), 48, "submission" },
		{ C("postern-master\0-c\0/e/p.conf\0-r\0003\0"), 48,
		  "postern-master" },
		{ C("/bin/sleep\0" "0.2\0"), 48, "sleep" },
		/* "-s" as the last argument: no value, argv[0] */
		{ C("/x/prog\0-s\0"), 48, "prog" },
		/* not NUL-terminated at the end (cut by the read) */
		{ C("/x/prog\0-s\0auth"), 48, "auth" },
		{ C("/x/prog"), 48, "prog" },
		/* control bytes and spaces shown as '?' */
		{ C("/x/a\tb\0-s\0ev\x1b[1mil\0"), 48, "ev?[1mil" },
		{ C("/x/a b\0"), 48, "a?b" },
		/* cut to fit */
		{ C("/x/postern-remote\0"), 8, "postern" },
		/* empty things */
		{ C(""), 48, "?" },
		{ C("\0"), 48, "?" },
		{ C("/x/\0"), 48, "?" },
		{ C("\0-s\0\0"), 48, "?" },
		{ C("-s\0"), 48, "-s" },
#undef C
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char name[48];

		memset(name, 'Z', sizeof(name));
		instance_cmdline_name(t[i].cmd, t[i].n, name, t[i].size);
		TEST_STREQ(name, t[i].name);
	}
}

TEST_MAIN(test_lock_outlives_its_taker, test_lock_file_symlink_refused,
	  test_fdinfo_lines, test_cmdline_names)
