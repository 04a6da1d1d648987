/*
 * pop3_children - session table and signals; see pop3_children.h
 */
#include "mail/pop3_children.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

void pop3_children_init(struct pop3_children *c, unsigned max)
{
	c->v = xcalloc(max, sizeof(*c->v));
	c->max = max;
	c->used = 0;
}

void pop3_children_free(struct pop3_children *c)
{
	free(c->v);
	c->v = NULL;
	c->max = c->used = 0;
}

int pop3_children_add(struct pop3_children *c, pid_t pid, const char *key)
{
	for (unsigned i = 0; i < c->max; i++) {
		if (c->v[i].pid != 0)
			continue;
		if (cstr_copy(c->v[i].key, sizeof(c->v[i].key), key) < 0)
			c->v[i].key[0] = '\0';
		c->v[i].pid = pid;
		c->used++;
		return 0;
	}
	return -1;
}

unsigned pop3_children_count(const struct pop3_children *c,
			     const char *key)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->max; i++)
		if (c->v[i].pid != 0 && strcmp(c->v[i].key, key) == 0)
			n++;
	return n;
}

static void children_forget(struct pop3_children *c, pid_t pid)
{
	for (unsigned i = 0; i < c->max; i++) {
		if (c->v[i].pid != pid)
			continue;
		c->v[i].pid = 0;
		c->used--;
		return;
	}
}

void pop3_children_reap(struct pop3_children *c)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		children_forget(c, pid);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warn(NULL, "session pid %ld killed by signal %d",
				 (long)pid, WTERMSIG(status));
	}
	if (pid < 0 && errno != ECHILD)
		log_warn(NULL, "waitpid: %s", strerror(errno));
}

void pop3_children_kill(const struct pop3_children *c, int sig)
{
	for (unsigned i = 0; i < c->max; i++)
		if (c->v[i].pid > 0 && kill(c->v[i].pid, sig) < 0 &&
		    errno != ESRCH)
			log_warn(NULL, "kill session pid %ld: %s",
				 (long)c->v[i].pid, strerror(errno));
}

int pop3_signals_open(void)
{
	sigset_t set;
	int fd;

	if (sigemptyset(&set) < 0 || sigaddset(&set, SIGCHLD) < 0 ||
	    sigaddset(&set, SIGHUP) < 0 || sigaddset(&set, SIGTERM) < 0 ||
	    sigaddset(&set, SIGINT) < 0)
		log_fatal("sigset: %s", strerror(errno));
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		log_fatal("signalfd: %s", strerror(errno));
	return fd;
}

unsigned long pop3_signals_read(int fd)
{
	struct signalfd_siginfo si;
	unsigned long got = 0;
	ssize_t n;

	while ((n = read(fd, &si, sizeof(si))) == (ssize_t)sizeof(si))
		if (si.ssi_signo < sizeof(got) * 8)
			got |= 1ul << si.ssi_signo;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_fatal("signalfd: %s", strerror(errno));
	return got;
}

void pop3_child_setup(void)
{
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		log_warn(NULL, "prctl: %s", strerror(errno));
	if (getppid() == 1)
		_exit(0);		/* the parent is already gone */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		log_fatal("sigprocmask: %s", strerror(errno));
}
