/*
 * postern_ctl - start, stop, reload, status: the master's lifecycle
 *
 * The master holds an flock on queue_dir/pid/master.pid for as long as it
 * runs, with its pid inside. "Running" means that lock is held; a pid file
 * left by a master killed with -9 is therefore harmless. The master writes
 * queue_dir/pid/status (one line per child: SERVICE PID STATE LISTENERS).
 *
 * Processes of the instance can outlive their master (killed with -9,
 * they finish what they were doing first): queue_dir/pid/instance.lock
 * is held by every one of them (instance.h). status reports them (exit
 * 1, as LSB's "dead, but something is left"); stop stops them, with or
 * without a master, and returns only once the lock is free, that is once
 * no process of the instance is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail/conf.h"
#include "mail/exitcode.h"
#include "mail/progpath.h"
#include "instance.h"
#include "postern.h"
#include "util/alloc.h"
#include "util/event.h"
#include "util/fileio.h"
#include "util/str.h"

#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS  40000
/* After its master, the instance's last processes get this long to go by
 * themselves, then SIGTERM, then (as the master does) SIGKILL this long
 * after SIGTERM; then this long for SIGKILL to take effect. */
#define LEFTOVER_WAIT_MS 5000
#define ORPHAN_TERM_MS   20000
#define ORPHAN_KILL_MS   5000
/* postern status: processes of the instance run, but no master. */
#define EXIT_ORPHANS 1

/* Load the configuration. strict: any error refuses the command (start,
 * reload). Otherwise (stop, status) errors are printed as warnings and the
 * command goes on with what could be read: an administrator who broke the
 * file must still be able to stop the instance. */
static int ctl_conf_load(struct conf *c, const char *conf_opt, int strict)
{
	struct str errors = STR_INIT(0);

	if (access(conf_path(conf_opt), R_OK) != 0)
		strict = 1;	/* no file at all: nothing to go on with */
	if (conf_load(c, conf_path(conf_opt), &errors) > 0) {
		fputs(str_c(&errors), stderr);
		str_free(&errors);
		if (!strict && c->queue_dir != NULL) {
			fprintf(stderr, "postern: warning: the configuration "
				"has errors; going on with queue_dir %s\n",
				c->queue_dir);
			return 0;
		}
		conf_free(c);
		return postern_fail("configuration has errors; nothing done");
	}
	str_free(&errors);
	return 0;
}

static int ctl_conf(struct conf *c, const char *conf_opt)
{
	return ctl_conf_load(c, conf_opt, 1);
}


/* The master's pid if it runs (its lock is held), else 0. */
static pid_t ctl_running(const struct conf *c)
{
	struct str path = STR_INIT(0);
	char buf[32];
	pid_t pid = 0;
	ssize_t n;
	int fd;

	conf_queue_path(c, "pid/master.pid", &path);
	fd = open(str_c(&path), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	str_free(&path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		pid = (pid_t)atol(buf);
		if (pid <= 0)
			pid = -1;	/* locked but pid not yet written */
	}
	close(fd);
	return pid;
}

static int ctl_master_path(struct str *prog)
{
	if (prog_path("postern-master", prog) < 0)
		return postern_fail("cannot find the postern-master program "
				    "(looked beside this command and in "
				    "../libexec/postern)");
	return 0;
}

static int start_foreground(const struct conf *c)
{
	struct str prog = STR_INIT(0);

	if (ctl_master_path(&prog) != 0)
		return 1;
	execl(str_c(&prog), "postern-master", "-c", c->config_path, "-f",
	      (char *)NULL);
	return postern_fail("exec %s: %s", str_c(&prog), strerror(errno));
}

/* A master that could not start stops what it had started; return only
 * once it has, so that nothing of the instance is left behind. */
static void start_reap(pid_t pid)
{
	int64_t end = clock_ms() + STOP_TIMEOUT_MS;
	int st;

	while (clock_ms() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return;
		usleep(20 * 1000);
	}
}

/* Read the master's "ok" or "error: ..." with a deadline. */
static int start_wait(int fd, pid_t pid, const struct conf *c)
{
	char buf[2048];
	size_t got = 0;
	int64_t end = clock_ms() + START_TIMEOUT_MS;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = end - clock_ms();
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGTERM);
			return postern_fail("the master was not ready after %d s;"
					    " stopped it (see %s)",
					    START_TIMEOUT_MS / 1000,
					    c->log_file[0] ? c->log_file
							   : "syslog");
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return postern_fail("poll: %s", strerror(errno));
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL || got == sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, "ok") == 0) {
		printf("postern: started (master pid %ld)\n", (long)pid);
		return 0;
	}
	start_reap(pid);
	if (strncmp(buf, "error: ", 7) == 0)
		return postern_fail("not started: %s", buf + 7);
	return postern_fail("the master exited during start (see %s)",
			    c->log_file[0] ? c->log_file : "syslog");
}

static int start_background(const struct conf *c)
{
	struct str prog = STR_INIT(0);
	int p[2], r;
	pid_t pid;

	if (ctl_master_path(&prog) != 0)
		return 1;
	if (pipe(p) < 0)
		return postern_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return postern_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		close(p[0]);
		setsid();
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0 || dup2(p[1], 3) < 0)
			_exit(111);
		closefrom(4);
		execl(str_c(&prog), "postern-master", "-c", c->config_path,
		      "-r", "3", (char *)NULL);
		_exit(111);
	}
	close(p[1]);
	str_free(&prog);
	r = start_wait(p[0], pid, c);
	close(p[0]);
	return r;
}

int cmd_start(int argc, char **argv, const char *conf_opt)
{
	struct conf c;
	int fg = 0, r;
	pid_t pid;

	if (argc == 2 && strcmp(argv[1], "-f") == 0)
		fg = 1;
	else if (argc != 1)
		return postern_fail("usage: postern start [-f]") ? EXIT_USAGE : 0;
	if (ctl_conf(&c, conf_opt) != 0)
		return 1;
	pid = ctl_running(&c);
	if (pid != 0) {
		conf_free(&c);
		return postern_fail("already running (master pid %ld)",
				    (long)pid);
	}
	r = fg ? start_foreground(&c) : start_background(&c);
	conf_free(&c);
	return r;
}

/* The common start of stop, reload and status: no arguments, then the
 * configuration and the master's pid. 0 to go on, else the exit status
 * (the configuration is then already freed). */
static int ctl_begin(int argc, const char *usage, const char *conf_opt,
		     int strict, struct conf *c, pid_t *pid_r)
{
	if (argc != 1) {
		postern_fail("usage: %s", usage);
		return EXIT_USAGE;
	}
	if (ctl_conf_load(c, conf_opt, strict) != 0)
		return 1;
	*pid_r = ctl_running(c);
	return 0;
}

/* The instance lock, to look at (status, stop); -1 if there is none. */
static int ctl_instance_lock(const struct conf *c)
{
	int dir = instance_pid_dir(c, 0), fd;

	if (dir < 0)
		return -1;
	fd = instance_lock_open(dir, 0);
	close(dir);
	return fd;
}

/* Wait until the lock is free, at most ms; 1 free, 0 not. */
static int lock_free_within(int lockfd, int64_t ms)
{
	int64_t end = clock_ms() + ms;

	for (;;) {
		if (instance_lock_held(lockfd) == 0)
			return 1;
		if (clock_ms() >= end)
			return 0;
		usleep(50 * 1000);
	}
}

/* sig to every process still holding the lock; how many there were. */
static size_t signal_procs(int lockfd, int sig, struct str *names)
{
	struct instance_proc *v = xcalloc(INSTANCE_PROCS_MAX, sizeof(*v));
	size_t n = instance_procs(lockfd, v, INSTANCE_PROCS_MAX);

	if (n > INSTANCE_PROCS_MAX)
		n = INSTANCE_PROCS_MAX;
	for (size_t i = 0; i < n; i++)
		if (instance_proc_signal(lockfd, &v[i], sig) < 0)
			fprintf(stderr, "postern: warning: signal %d to %s pid "
				"%ld: %s\n", sig, v[i].name, (long)v[i].pid,
				strerror(errno));
	if (names != NULL)
		instance_procs_text(v, n, names);
	free(v);
	return n;
}

/* Stop what is left of the instance without its master: SIGTERM (their
 * stop path), SIGKILL ORPHAN_TERM_MS later. 0 when nothing is left, else
 * 1 (said why). master_was: a master was stopped just before (its
 * children's sessions may take a moment to go). *found_r: anything was
 * left. */
static int stop_leftovers(const struct conf *c, int master_was, int *found_r)
{
	struct str names = STR_INIT(0);
	int lockfd = ctl_instance_lock(c), r = 0;
	size_t n;

	*found_r = 0;
	if (lockfd < 0)
		return 0;
	if (instance_lock_held(lockfd) != 1 ||
	    (master_was && lock_free_within(lockfd, LEFTOVER_WAIT_MS))) {
		close(lockfd);
		return 0;
	}
	*found_r = 1;
	n = signal_procs(lockfd, SIGTERM, &names);
	printf("postern: %s; stopping %zu process%s of the instance: %s\n",
	       master_was ? "processes of the instance outlived the master"
			  : "the master is not running",
	       n, n == 1 ? "" : "es", n > 0 ? str_c(&names) : "(not visible "
	       "to this user)");
	if (!lock_free_within(lockfd, ORPHAN_TERM_MS)) {
		str_clear(&names);
		n = signal_procs(lockfd, SIGKILL, &names);
		fprintf(stderr, "postern: still running %d s after SIGTERM, "
			"killed: %s\n", ORPHAN_TERM_MS / 1000, str_c(&names));
		if (!lock_free_within(lockfd, ORPHAN_KILL_MS))
			r = postern_fail("processes of the instance are still "
					 "running (%s)", str_c(&names));
	}
	str_free(&names);
	close(lockfd);
	return r;
}

int cmd_stop(int argc, char **argv, const char *conf_opt)
{
	struct conf c;
	pid_t pid;
	int64_t end;
	int r, found;

	(void)argv;
	r = ctl_begin(argc, "postern stop", conf_opt, 0, &c, &pid);
	if (r != 0)
		return r;
	if (pid > 0 && kill(pid, SIGTERM) < 0 && errno != ESRCH) {
		conf_free(&c);
		return postern_fail("kill %ld: %s", (long)pid, strerror(errno));
	}
	end = clock_ms() + STOP_TIMEOUT_MS;
	while (pid != 0 && ctl_running(&c) != 0) {
		if (clock_ms() > end) {
			conf_free(&c);
			return postern_fail("the master (pid %ld) has not "
					    "stopped after %d s", (long)pid,
					    STOP_TIMEOUT_MS / 1000);
		}
		usleep(50 * 1000);
	}
	r = stop_leftovers(&c, pid != 0, &found);
	conf_free(&c);
	if (r == 0)
		printf("postern: %s\n", pid != 0 || found ? "stopped"
							    : "not running");
	return r;
}

int cmd_reload(int argc, char **argv, const char *conf_opt)
{
	struct conf c;
	pid_t pid;
	int r;

	(void)argv;
	r = ctl_begin(argc, "postern reload", conf_opt, 1, &c, &pid);
	if (r != 0)
		return r;
	conf_free(&c);
	if (pid <= 0) {
		postern_fail("not running");
		return EXIT_NOTRUNNING;
	}
	if (kill(pid, SIGHUP) < 0)
		return postern_fail("kill %ld: %s", (long)pid, strerror(errno));
	printf("postern: reloading (master pid %ld)\n", (long)pid);
	return 0;
}

/* No master: are processes of the instance left? Print them ("SERVICE
 * PID orphaned -", as the status file's lines) and return 1, else 0. */
static int status_orphans(const struct conf *c)
{
	struct instance_proc *v;
	int lockfd = ctl_instance_lock(c);
	size_t n;

	if (lockfd < 0)
		return 0;
	if (instance_lock_held(lockfd) != 1) {
		close(lockfd);
		return 0;
	}
	v = xcalloc(INSTANCE_PROCS_MAX, sizeof(*v));
	n = instance_procs(lockfd, v, INSTANCE_PROCS_MAX);
	printf("postern: the master is not running, but %zu process%s of the "
	       "instance %s (they stop by themselves once they have finished "
	       "their work; \"postern stop\" stops them now)\n", n,
	       n == 1 ? "" : "es", n == 1 ? "is" : "are");
	for (size_t i = 0; i < n && i < INSTANCE_PROCS_MAX; i++)
		printf("%s %ld orphaned -\n", v[i].name, (long)v[i].pid);
	free(v);
	close(lockfd);
	return 1;
}

int cmd_status(int argc, char **argv, const char *conf_opt)
{
	struct str path = STR_INIT(0), text = STR_INIT(0);
	struct conf c;
	pid_t pid;
	int r;

	(void)argv;
	r = ctl_begin(argc, "postern status", conf_opt, 0, &c, &pid);
	if (r != 0)
		return r;
	if (pid == 0) {
		r = status_orphans(&c);
		conf_free(&c);
		if (r == 0)
			printf("postern: not running\n");
		return r == 0 ? EXIT_NOTRUNNING : EXIT_ORPHANS;
	}
	printf("master %ld running %s\n", (long)pid, c.config_path);
	conf_queue_path(&c, "pid/status", &path);
	if (file_read_all(str_c(&path), &text, 1 << 20) == 0)
		fputs(str_c(&text), stdout);
	str_free(&path);
	str_free(&text);
	conf_free(&c);
	return 0;
}
