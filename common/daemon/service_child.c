/*
 * service_child - what every supervised daemon does at start
 *
 * See service_child.h for the descriptors and arguments the master hands
 * over; postern-master(8) documents the same contract for operators.
 */
#include "daemon/service_child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "daemon/service_sandbox.h"
#include "util/log.h"
#include "util/privs.h"
#include "util/sandbox.h"
#include "util/str.h"

static _Noreturn void service_child_usage(const char *program)
{
	log_fatal("usage: %s -c CONFIG -s SERVICE (started by postern-master)",
		  program);
}

static void service_child_args(int argc, char **argv, const char *program,
			       const char **conf_r, const char **name_r)
{
	*conf_r = NULL;
	*name_r = NULL;
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "-c") == 0)
			*conf_r = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "-s") == 0)
			*name_r = argv[++i];
		else
			service_child_usage(program);
	}
	if (*name_r == NULL)
		service_child_usage(program);
}

static void service_child_listeners(struct service_child *sc)
{
	const char *env = getenv("POSTERN_LISTEN_FDS");
	char *end;
	long n;

	sc->nlisten = 0;
	if (env == NULL || *env == '\0')
		return;
	errno = 0;
	n = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > SERVICE_LISTEN_MAX)
		log_fatal("bad POSTERN_LISTEN_FDS=%s", env);
	for (long i = 0; i < n; i++) {
		int fd = SERVICE_LISTEN_FD0 + (int)i;

		if (fcntl(fd, F_GETFD) < 0)
			log_fatal("listening descriptor %d is not open", fd);
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			log_fatal("fcntl descriptor %d: %m", fd);
		sc->listen_fds[sc->nlisten++] = fd;
	}
	/* the instance lock: kept, but not by programs we might exec */
	if (fcntl(SERVICE_LISTEN_FD0 + (int)n, F_GETFD) >= 0)
		(void)fcntl(SERVICE_LISTEN_FD0 + (int)n, F_SETFD, FD_CLOEXEC);
}

/* ---- the master's death (service_child.h) ----------------------------- */

/* The read end of this process's death pipe: fd 5+N (service_child.h),
 * or -1 when the master gave none (an older master, a test). */
static int master_death_fd = -1;

/* Has the master's end of the death pipe closed (it is dead)? Nothing is
 * ever written into the pipe, so readable means end of file. */
static int master_pipe_closed(void)
{
	struct pollfd p = { master_death_fd, POLLIN, 0 };

	if (master_death_fd < 0)
		return 0;
	return poll(&p, 1, 0) == 1 &&
	       (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

static volatile sig_atomic_t master_gone;

/* SIGIO: async-signal-safe calls only. */
static void master_sigio(int sig)
{
	int saved = errno;

	(void)sig;
	if (!master_gone && master_pipe_closed()) {
		master_gone = 1;
		kill(getpid(), SIGTERM);
	}
	errno = saved;
}

/* fd is the death pipe's read end: SIGIO to this process when its write
 * end, held only by the master, closes. */
static void master_watch(struct service_child *sc, int fd)
{
	struct sigaction sa;
	int fl;

	sc->master_pid = getppid();
	if (fcntl(fd, F_GETFD) < 0) {
		log_warn(NULL, "no death pipe at descriptor %d: the master's "
			 "death is noticed through PR_SET_PDEATHSIG only", fd);
		return;
	}
	master_death_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_sigio;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    sigaction(SIGIO, &sa, NULL) < 0 ||
	    fcntl(fd, F_SETOWN, getpid()) < 0 ||
	    (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_ASYNC) < 0)
		log_warn(NULL, "cannot watch the death pipe for the master's "
			 "death: %s", strerror(errno));
	if (master_pipe_closed()) {
		log_info(NULL, "the master has gone; not starting");
		exit(0);
	}
}

void service_child_init(struct service_child *sc, int argc, char **argv,
			const char *program)
{
	struct str errors = STR_INIT(0);
	const char *conf_file, *name;

	memset(sc, 0, sizeof(*sc));
	log_open(program, LOG_TO_STDERR);
	service_child_args(argc, argv, program, &conf_file, &name);
	sc->def = service_find(name);
	if (sc->def == NULL)
		log_fatal("unknown service '%s'", name);
	if (conf_load(&sc->conf, conf_path(conf_file), &errors) > 0) {
		/* one line per error, then give up: the master logs our exit */
		char *line = errors.s, *nl;

		while (line != NULL && (nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			log_warn(NULL, "%s", line);
			line = nl + 1;
		}
		log_fatal("configuration errors; service %s not started", name);
	}
	str_free(&errors);
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(SERVICE_STATUS_FD, F_SETFD, FD_CLOEXEC) < 0)
		log_fatal("status descriptor %d is not open: %m",
			  SERVICE_STATUS_FD);
	service_child_listeners(sc);
	master_watch(sc, SERVICE_LISTEN_FD0 + (int)sc->nlisten + 1);
}

void service_child_drop(struct service_child *sc)
{
	sc->separated = priv_drop(sc->def->account);
	/* after the drop: a change of credentials clears it */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn(NULL, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	if (getppid() != sc->master_pid && !master_gone) {
		master_gone = 1;
		kill(getpid(), SIGTERM);
	}
}

static void service_child_status(const char *msg)
{
	size_t n = strlen(msg);

	if (write(SERVICE_STATUS_FD, msg, n) != (ssize_t)n)
		log_warn(NULL, "cannot report '%.*s' to the master: %m",
			 (int)n - 1, msg);
}

void service_child_ready(struct service_child *sc)
{
	if (sc->profile != NULL && !sc->confined) {
		service_sandbox(sc, sc->profile, sc->sessions);
		sc->confined = 1;
	}
	service_child_status("ready\n");
}

void service_child_busy(struct service_child *sc)
{
	if (sc->reported_busy)
		return;
	sc->reported_busy = 1;
	service_child_status("busy\n");
	sandbox_test_point();	/* test builds only (sandbox.h) */
}

void service_child_retiring(struct service_child *sc)
{
	if (sc->reported_retiring)
		return;
	sc->reported_retiring = 1;
	service_child_status("retiring\n");
}
