/*
 * postern-master - the supervisor of a postern instance
 *
 * PRIVILEGE  root when started as root (binds listeners, starts each
 *            service under its account); otherwise the invoking user, and
 *            then privilege separation is off (logged at start)
 * INPUT      the configuration file (-c); signals: SIGHUP reload,
 *            SIGTERM/SIGINT stop; each child's status pipe and stderr
 * OUTPUT     listening sockets handed to children at fd 4..; the log (log
 *            file, syslog, or stderr with -f); queue_dir/pid/master.pid
 *            (pid, held locked while running), queue_dir/pid/instance.lock
 *            (locked, and held by every child: instance.h) and
 *            queue_dir/pid/status
 * EXIT       0 stopped cleanly; 1 could not start (reason on -r FD and in
 *            the log), among others because processes of an earlier
 *            start of the instance still run after MASTER_ORPHAN_WAIT_MS
 * LIMITS     restart no sooner than 1 s after the last start of a service;
 *            a service failing before serving anything is throttled 60 s;
 *            children are killed 20 s after SIGTERM
 * SEE ALSO   postern-master(8), postern(8), postern.conf(5)
 *
 * Usage: postern-master -c CONFIG [-f] [-r FD]
 *   -f     foreground: log to standard error
 *   -r FD  write "ok\n" or "error: REASON\n" to FD once every service is
 *          ready or cannot start (postern start waits on it)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/conf.h"
#include "instance.h"
#include "supervise.h"
#include "util/event.h"
#include "util/log.h"
#include "util/str.h"

static void master_usage(void)
{
	fprintf(stderr, "usage: postern-master -c CONFIG [-f] [-r FD]\n");
	exit(64);
}

static void master_args(struct master *m, int argc, char **argv)
{
	m->ready_fd = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			m->conf_file = argv[++i];
		else if (strcmp(argv[i], "-f") == 0)
			m->foreground = 1;
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			m->ready_fd = atoi(argv[++i]);
		else
			master_usage();
	}
	if (m->ready_fd >= 0 && fcntl(m->ready_fd, F_SETFD, FD_CLOEXEC) < 0)
		m->ready_fd = -1;
}

/* Print every configuration error and report the first to postern start. */
static void master_conf_errors(struct master *m, struct str *errors)
{
	char *line = errors->s, *nl;

	while (line != NULL && (nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		log_warn(NULL, "%s", line);
		if (line == errors->s)
			master_report_ready(m, line);
		line = nl + 1;
	}
}

/* The master's lock: queue_dir/pid/master.pid, flock()ed for the
 * master's life (close-on-exec: the master's alone), with its pid. */
static int master_pid_lock(int piddir, struct str *why)
{
	char buf[32];
	int fd;

	fd = openat(piddir, "master.pid", O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0) {
		str_appendf(why, "open pid/master.pid: %s", errno == ELOOP ?
			    "a symbolic link: refused" : strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		str_appendf(why, "already running (pid %s, lock pid/master.pid)",
			    buf);
		close(fd);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, strlen(buf), 0) < 0)
		log_warn(NULL, "cannot write pid/master.pid: %m");
	return fd;	/* kept open until exit */
}

/* The instance lock (instance.h): held while any process of an earlier
 * start of this instance lives. Children of a master killed with -9 stop
 * by themselves once they notice (service_child.h); wait for them a
 * while, then give up and name them. Nothing of the instance (no socket)
 * has been touched before this returns 0. */
static int master_instance_lock(struct master *m, int piddir,
				struct str *why)
{
	struct instance_proc procs[16];
	int64_t end = clock_ms() + MASTER_ORPHAN_WAIT_MS;
	int r, said = 0;
	size_t n;

	m->instance_fd = instance_lock_open(piddir, 1);
	if (m->instance_fd < 0) {
		str_appendf(why, "open pid/instance.lock: %s", errno == ELOOP ?
			    "a symbolic link: refused" : strerror(errno));
		return -1;
	}
	while ((r = instance_lock_take(m->instance_fd)) == 0 &&
	       clock_ms() < end) {
		if (!said) {
			n = instance_procs(m->instance_fd, procs, 16);
			log_info(NULL, "waiting up to %d s for %zu process(es) "
				 "of an earlier start of this instance to "
				 "finish", MASTER_ORPHAN_WAIT_MS / 1000, n);
			said = 1;
		}
		usleep(100 * 1000);
	}
	if (r == 1)
		return 0;
	if (r < 0) {
		str_appendf(why, "lock pid/instance.lock: %m");
		return -1;
	}
	n = instance_procs(m->instance_fd, procs, 16);
	str_appends(why, "processes of this instance still run without a "
		    "master (");
	instance_procs_text(procs, n < 16 ? n : 16, why);
	str_appends(why, "); \"postern stop\" stops them");
	return -1;
}

/* Both locks, under queue_dir/pid (never through a symlink). */
static int master_lock(struct master *m, struct str *why)
{
	int piddir = instance_pid_dir(&m->conf, 1), fd;

	if (piddir < 0) {
		str_appendf(why, "cannot open %s/pid: %s", m->conf.queue_dir,
			    errno == ELOOP ? "a symbolic link, not a directory"
					   : strerror(errno));
		return -1;
	}
	fd = master_pid_lock(piddir, why);
	if (fd >= 0 && master_instance_lock(m, piddir, why) < 0) {
		close(fd);
		fd = -1;
	}
	close(piddir);
	return fd;
}

static void master_signal(void *arg, int fd, unsigned revents)
{
	struct master *m = arg;
	struct signalfd_siginfo si;
	int wstatus;
	pid_t pid;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0)
				master_child_exited(m, pid, wstatus);
			break;
		case SIGHUP:
			master_reload(m);
			break;
		case SIGTERM:
		case SIGINT:
			log_info(NULL, "stopping (signal %u)", si.ssi_signo);
			master_stop(m, 0);
			break;
		}
	}
}

static int master_signals(struct master *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	m->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sig_fd < 0)
		return -1;
	return ev_fd_add(m->loop, m->sig_fd, EV_READ, master_signal, m);
}

static void master_free(struct master *m)
{
	master_listeners_close(m);
	master_log_free(m);
	if (m->sig_fd > 0)
		close(m->sig_fd);
	if (m->loop != NULL)
		ev_free(m->loop);
	conf_free(&m->conf);
}

int main(int argc, char **argv)
{
	struct master m;
	struct str errors = STR_INIT(0);
	const char *error;
	int lockfd;

	memset(&m, 0, sizeof(m));
	m.instance_fd = -1;
	umask(022);
	log_open("postern-master", LOG_TO_STDERR);
	master_args(&m, argc, argv);
	m.conf_file = conf_path(m.conf_file);
	if (conf_load(&m.conf, m.conf_file, &errors) > 0) {
		master_conf_errors(&m, &errors);
		master_free(&m);
		str_free(&errors);
		return 1;
	}
	lockfd = master_lock(&m, &errors);
	if (lockfd < 0) {
		log_warn(NULL, "%s", str_c(&errors));
		master_report_ready(&m, str_c(&errors));
		master_free(&m);
		str_free(&errors);
		return 1;
	}
	if (master_log_reopen(&m, &error) < 0) {
		log_warn(NULL, "%s", error);
		master_report_ready(&m, error);
		master_free(&m);
		return 1;
	}
	m.loop = ev_new();
	master_log_init(&m);
	if (master_signals(&m) < 0)
		log_fatal("signal setup: %m");
	if (geteuid() != 0)
		log_info(NULL, "running as uid %ld, not root: privilege "
			 "separation is off", (long)geteuid());
	if (master_listeners_open(&m, &error) < 0) {
		log_warn(NULL, "%s", error);
		master_report_ready(&m, error);
		master_free(&m);
		return 1;
	}
	log_info(NULL, "starting: config=%s", m.conf_file);
	master_start_all(&m);
	if (ev_run(m.loop) < 0)
		log_fatal("event loop: %m");
	master_log_drain(&m);
	log_info(NULL, "stopped");
	master_free(&m);
	str_free(&errors);
	/* lockfd stays open: the lock goes with the process itself, so
	 * "postern stop" returns only once nothing of the master is left */
	(void)lockfd;
	return m.exit_status;
}
