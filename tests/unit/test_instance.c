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

TEST_MAIN(test_lock_outlives_its_taker, test_lock_file_symlink_refused)
