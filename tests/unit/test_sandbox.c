/*
 * test_sandbox - Landlock and seccomp profiles (common/util/sandbox.c)
 *
 * Each case confines a forked child (a filter cannot be taken back) and
 * reads how it ended: an exit code the child chose, or SIGSYS when seccomp
 * killed it. Landlock cases check themselves only when the kernel has
 * Landlock (sandbox_landlock_abi() > 0); the seccomp cases always run.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/sandbox.h"

/* Run fn in a child confined by p: its exit code, 128+signal if killed,
 * or -1 if the sandbox could not be applied. */
static int confined(const struct sandbox_profile *p, int abi_cap,
		    int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct sandbox_report r;
		const char *err = NULL;
		if (abi_cap >= 0)
			sandbox_landlock_abi_cap(abi_cap);
		if (sandbox_apply(p, &r, &err) < 0)
			_exit(99);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -2;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status) == 99 ? -1 : WEXITSTATUS(status);
}

static char tmpdir[64];

static void make_tree(void)
{
	char p[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sandbox.XXXXXX");
	TEST_ASSERT(mkdtemp(tmpdir) != NULL);
	snprintf(p, sizeof(p), "%s/a", tmpdir);
	TEST_ASSERT(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/b", tmpdir);
	TEST_ASSERT(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/a/f", tmpdir);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	TEST_ASSERT(fd >= 0);
	close(fd);
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	TEST_ASSERT(system(cmd) == 0);
}

static int do_nothing(void *arg)
{
	(void)arg;
	return 7;
}

static int do_socket_inet(void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	return fd >= 0 ? 0 : 1;
}

static int do_socket_unix(void *arg)
{
	(void)arg;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	return fd >= 0 ? 0 : 1;
}

static int do_exec(void *arg)
{
	(void)arg;
	char *argv[] = { (char *)"/bin/true", NULL };
	execv(argv[0], argv);
	return 1;
}

static int do_exec_mmap(void *arg)
{
	(void)arg;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? 1 : 0;
}

static int do_fork(void *arg)
{
	(void)arg;
	int status;
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? 0 : 1;
}

static void *thread_main(void *arg)
{
	return arg;
}

static int do_thread(void *arg)
{
	pthread_t t;
	void *ret = NULL;
	(void)arg;
	if (pthread_create(&t, NULL, thread_main, (void *)5) != 0)
		return 1;
	pthread_join(t, &ret);
	return ret == (void *)5 ? 0 : 1;
}

/* 0 if the file under tmpdir can be read, 2 if refused with EACCES */
static int do_read_inside(void *arg)
{
	(void)arg;
	char p[128];
	snprintf(p, sizeof(p), "%s/a/f", tmpdir);
	int fd = open(p, O_RDONLY);
	return fd >= 0 ? 0 : errno == EACCES ? 2 : 1;
}

static int do_read_outside(void *arg)
{
	(void)arg;
	int fd = open("/etc/hostname", O_RDONLY);
	if (fd < 0)
		fd = open("/etc/passwd", O_RDONLY);
	return fd >= 0 ? 0 : errno == EACCES ? 2 : 1;
}

/* a/f -> b/f: 0 done, 2 refused (EXDEV or EACCES) */
static int do_rename_across(void *arg)
{
	(void)arg;
	char from[128], to[128];
	snprintf(from, sizeof(from), "%s/a/f", tmpdir);
	snprintf(to, sizeof(to), "%s/b/f", tmpdir);
	if (rename(from, to) == 0)
		return 0;
	return errno == EXDEV || errno == EACCES ? 2 : 1;
}

static int do_socketpair(void *arg)
{
	(void)arg;
	int sv[2];
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 ? 0 : 1;
}

/* IMAP IDLE's watch of a folder (imap_cmd_basic.c) */
static int do_inotify(void *arg)
{
	(void)arg;
	int fd = inotify_init1(IN_CLOEXEC);

	if (fd < 0)
		return 1;
	if (inotify_add_watch(fd, "/", IN_CREATE) < 0)
		return 1;
	close(fd);
	return 0;
}

/* A session's parent-death signal (session_server.c) */
static int do_pdeathsig(void *arg)
{
	(void)arg;
	return prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 ? 0 : 1;
}

/* a deadline by signal, as a session may set one */
static int do_alarm(void *arg)
{
	(void)arg;
	alarm(100);
	return alarm(0) > 0 ? 0 : 1;
}

/* Confine again with the profile arg (a session under its daemon's),
 * then try an AF_UNIX socket: 0 made, 1 refused, 3 not confined. */
static int do_nest_then_socket_unix(void *arg)
{
	const struct sandbox_profile *p = arg;
	struct sandbox_report r;
	const char *err = NULL;

	if (sandbox_apply(p, &r, &err) < 0)
		return 3;
	return do_socket_unix(NULL);
}

static struct sandbox_prepared *nest_prepared;

/* Enter nest_prepared (prepared by the test process), then try an
 * AF_UNIX socket: 0 made, 3 could not enter. */
static int do_enter_then_socket_unix(void *arg)
{
	struct sandbox_report r;
	const char *err = NULL;

	(void)arg;
	if (sandbox_enter(nest_prepared, &r, &err) < 0)
		return 3;
	if (nest_prepared->ruleset != -1 || !r.seccomp)
		return 4;
	return do_socket_unix(NULL);
}

/* Enter nest_prepared, then read outside and inside its path: 0 both as
 * the profile says (outside refused, inside read), else non-zero. */
static int do_enter_then_read(void *arg)
{
	struct sandbox_report r;
	const char *err = NULL;

	(void)arg;
	if (sandbox_enter(nest_prepared, &r, &err) < 0)
		return 3;
	if (do_read_outside(NULL) != 2)
		return 5;
	return do_read_inside(NULL);
}

static int do_name(void *arg)
{
	const char *name = sandbox_current();
	return name != NULL && strcmp(name, arg) == 0 ? 0 : 1;
}

static const struct sandbox_profile bare = { "bare", 0, NULL, 0 };

static void test_allowed_calls_run(void)
{
	TEST_ASSERT(confined(&bare, -1, do_nothing, NULL) == 7);
}

static void test_socket_creation_kills(void)
{
	TEST_ASSERT(confined(&bare, -1, do_socket_inet, NULL) == 128 + SIGSYS);
	TEST_ASSERT(confined(&bare, -1, do_socket_unix, NULL) == 128 + SIGSYS);
}

static void test_unix_only(void)
{
	const struct sandbox_profile p = { "unix", SANDBOX_SYS_UNIX, NULL, 0 };

	TEST_ASSERT(confined(&p, -1, do_socket_unix, NULL) == 0);
	TEST_ASSERT(confined(&p, -1, do_socket_inet, NULL) == 128 + SIGSYS);
}

static void test_inet(void)
{
	const struct sandbox_profile p = { "inet", SANDBOX_SYS_INET, NULL, 0 };

	TEST_ASSERT(confined(&p, -1, do_socket_inet, NULL) == 0);
}

static void test_never_exec(void)
{
	const struct sandbox_profile p = { "all", SANDBOX_SYS_FORK |
		SANDBOX_SYS_THREADS | SANDBOX_SYS_FSWRITE | SANDBOX_SYS_UNIX |
		SANDBOX_SYS_INET | SANDBOX_SYS_ACCEPT, NULL, 0 };

	TEST_ASSERT(confined(&p, -1, do_exec, NULL) == 128 + SIGSYS);
	TEST_ASSERT(confined(&p, -1, do_exec_mmap, NULL) == 128 + SIGSYS);
}

static void test_fork_and_threads(void)
{
	const struct sandbox_profile f = { "fork", SANDBOX_SYS_FORK, NULL, 0 };
	const struct sandbox_profile t = { "threads", SANDBOX_SYS_THREADS,
					   NULL, 0 };

	TEST_ASSERT(confined(&bare, -1, do_fork, NULL) == 128 + SIGSYS);
	TEST_ASSERT(confined(&f, -1, do_fork, NULL) == 0);
	TEST_ASSERT(confined(&t, -1, do_thread, NULL) == 0);
	TEST_ASSERT(confined(&t, -1, do_fork, NULL) == 128 + SIGSYS);
	TEST_ASSERT(confined(&bare, -1, do_thread, NULL) == 128 + SIGSYS);
}

static void test_landlock_paths(void)
{
	make_tree();
	const struct sandbox_path paths[] = {
		{ tmpdir, -1, SANDBOX_READ },
	};
	const struct sandbox_profile p = { "paths", 0, paths, 1 };

	TEST_ASSERT(confined(&p, -1, do_read_inside, NULL) == 0);
	if (sandbox_landlock_abi() > 0)
		TEST_ASSERT(confined(&p, -1, do_read_outside, NULL) == 2);
	else
		printf("SKIP test_sandbox:landlock (no Landlock here)\n");
	remove_tree();
}

static void test_landlock_missing_path_fails(void)
{
	const struct sandbox_path paths[] = {
		{ "/nonexistent/postern-test", -1, SANDBOX_READ },
	};
	const struct sandbox_profile p = { "missing", 0, paths, 1 };

	TEST_ASSERT(confined(&p, -1, do_nothing, NULL) == -1);
}

/* Moving a file between directories: needs SANDBOX_RENAME; an ABI 1
 * kernel cannot grant it, so such a profile runs without Landlock there
 * (the rename works) rather than have every rename fail. */
static void test_landlock_rename(void)
{
	const struct sandbox_path rw[] = {
		{ NULL, -1, SANDBOX_READ | SANDBOX_CREATE | SANDBOX_REMOVE },
	};
	const struct sandbox_path rwm[] = {
		{ NULL, -1, SANDBOX_READ | SANDBOX_CREATE | SANDBOX_REMOVE |
			    SANDBOX_RENAME },
	};
	struct sandbox_path a = rw[0], b = rwm[0];
	const struct sandbox_profile pa = { "no-rename", SANDBOX_SYS_FSWRITE,
					    &a, 1 };
	const struct sandbox_profile pb = { "rename", SANDBOX_SYS_FSWRITE,
					    &b, 1 };

	if (sandbox_landlock_abi() < 2) {
		printf("SKIP test_sandbox:rename (Landlock ABI < 2 here)\n");
		return;
	}
	make_tree();
	a.path = b.path = tmpdir;
	TEST_ASSERT(confined(&pa, -1, do_rename_across, NULL) == 2);
	TEST_ASSERT(confined(&pb, -1, do_rename_across, NULL) == 0);
	remove_tree();
	make_tree();
	/* as on Linux 5.13-5.18: without the right, refused; asking for it
	 * turns Landlock off, and the rename works */
	TEST_ASSERT(confined(&pa, 1, do_rename_across, NULL) == 2);
	TEST_ASSERT(confined(&pb, 1, do_rename_across, NULL) == 0);
	remove_tree();
}

/* socket pairs reach nothing new: allowed alone, without socket() */
static void test_socketpair_only(void)
{
	const struct sandbox_profile p = { "pair", SANDBOX_SYS_SOCKETPAIR,
					   NULL, 0 };
	const struct sandbox_profile u = { "unix", SANDBOX_SYS_UNIX, NULL, 0 };

	TEST_ASSERT(confined(&p, -1, do_socketpair, NULL) == 0);
	TEST_ASSERT(confined(&p, -1, do_socket_unix, NULL) == 128 + SIGSYS);
	TEST_ASSERT(confined(&u, -1, do_socketpair, NULL) == 0);
	TEST_ASSERT(confined(&bare, -1, do_socketpair, NULL) == 128 + SIGSYS);
}

/* inotify only with SANDBOX_SYS_WATCH */
static void test_notify(void)
{
	const struct sandbox_profile n = { "notify", SANDBOX_SYS_WATCH,
					   NULL, 0 };

	TEST_ASSERT(confined(&n, -1, do_inotify, NULL) == 0);
	TEST_ASSERT(confined(&bare, -1, do_inotify, NULL) == 128 + SIGSYS);
}

static void test_session_calls_allowed(void)
{
	TEST_ASSERT(confined(&bare, -1, do_pdeathsig, NULL) == 0);
	TEST_ASSERT(confined(&bare, -1, do_alarm, NULL) == 0);
	TEST_ASSERT(confined(&bare, -1, do_name, (void *)"bare") == 0);
}

/* A second profile narrows the first; it never widens it. */
static void test_layers(void)
{
	const struct sandbox_profile u = { "unix", SANDBOX_SYS_UNIX, NULL, 0 };
	const struct sandbox_profile bare2 = { "bare2", 0, NULL, 0 };

	TEST_ASSERT(confined(&u, -1, do_nest_then_socket_unix, (void *)&u)
		    == 0);
	TEST_ASSERT(confined(&u, -1, do_nest_then_socket_unix,
			     (void *)&bare2) == 128 + SIGSYS);
	TEST_ASSERT(confined(&bare, -1, do_nest_then_socket_unix, (void *)&u)
		    == 128 + SIGSYS);
	TEST_ASSERT(confined(&u, -1, do_name, (void *)"unix") == 0);
}

/* Prepared once, entered by forked processes, even under an earlier
 * profile; the same restrictions as sandbox_apply(). */
static void test_prepared(void)
{
	struct sandbox_prepared sp;
	const char *err = NULL;
	const struct sandbox_profile u = { "unix", SANDBOX_SYS_UNIX, NULL, 0 };

	make_tree();
	const struct sandbox_path paths[] = {
		{ tmpdir, -1, SANDBOX_READ },
	};
	const struct sandbox_profile p = { "prep", 0, paths, 1 };
	/* an earlier layer that reads everywhere: the prepared one narrows */
	const struct sandbox_path root[] = { { "/", -1, SANDBOX_READ } };
	const struct sandbox_profile all = { "all", SANDBOX_SYS_UNIX, root, 1 };

	TEST_ASSERT(sandbox_prepare(&p, &sp, &err) == 0);
	TEST_ASSERT(sp.bpf != NULL && sp.bpf_len > 0);
	nest_prepared = &sp;
	/* under a profile that allows unix sockets, entering takes it away */
	TEST_ASSERT(confined(&u, -1, do_enter_then_socket_unix, NULL) ==
		    128 + SIGSYS);
	TEST_ASSERT(confined(&bare, -1, do_enter_then_socket_unix, NULL) ==
		    128 + SIGSYS);
	if (sandbox_landlock_abi() > 0) {
		TEST_ASSERT(sp.ruleset >= 0 && sp.report.landlock);
		TEST_ASSERT(confined(&all, -1, do_enter_then_read, NULL) == 0);
		/* the parent's copy of the ruleset stays open for the next */
		TEST_ASSERT(fcntl(sp.ruleset, F_GETFD) >= 0);
	}
	sandbox_prepared_free(&sp);
	TEST_ASSERT(sp.ruleset == -1 && sp.bpf == NULL);
	remove_tree();
}

static void *thread_wait(void *arg)
{
	int *fds = arg;
	char c;
	return read(fds[0], &c, 1) == 1 ? NULL : arg;
}

/* A thread that exists would stay unconfined: refused. */
static int do_apply_with_thread(void *arg)
{
	struct sandbox_report r;
	const char *err = NULL;
	pthread_t t;
	int fds[2], ret;

	(void)arg;
	if (pipe(fds) < 0 || pthread_create(&t, NULL, thread_wait, fds) != 0)
		return 1;
	ret = sandbox_apply(&bare, &r, &err) < 0 && errno == EBUSY ? 0 : 2;
	if (write(fds[1], "x", 1) != 1)
		return 1;
	pthread_join(t, NULL);
	return ret;
}

static void test_threads_refused(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(do_apply_with_thread(NULL));
	TEST_ASSERT(pid > 0 && waitpid(pid, &status, 0) == pid);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_report(void)
{
	char buf[160];
	struct sandbox_report r = { 1, 7, NULL, 1 };

	sandbox_describe(&bare, &r, buf, sizeof(buf));
	TEST_STREQ(buf, "sandbox=bare landlock=on abi=7 seccomp=on");
	r.landlock = 0;
	r.landlock_why = "not in this kernel";
	sandbox_describe(&bare, &r, buf, sizeof(buf));
	TEST_STREQ(buf, "sandbox=bare landlock=off (not in this kernel) "
		   "seccomp=on");
}

TEST_MAIN(test_allowed_calls_run, test_socket_creation_kills, test_unix_only,
	  test_inet, test_never_exec, test_fork_and_threads,
	  test_landlock_paths, test_landlock_missing_path_fails,
	  test_landlock_rename, test_socketpair_only, test_notify,
	  test_session_calls_allowed, test_layers, test_prepared,
	  test_threads_refused, test_report)
