/*
 * supervise - listeners, children, restarts and throttling
 *
 * Every service of the services table gets its listening sockets here
 * (bound by the master, as root when possible) and `processes` children.
 * A child's life: STARTING (forked) -> READY (wrote "ready") -> BUSY (wrote
 * "busy": it has served a client) -> exited. When a child of the current
 * generation exits, the service is restarted no sooner than
 * MASTER_RESTART_MS after its last start; if the child never became ready,
 * or failed (non-zero exit, or a crash signal) before serving anything, the
 * service is throttled for MASTER_THROTTLE_MS so a broken program cannot
 * spin. A child that exits never affects the others.
 *
 * Reload (SIGHUP): the configuration is read again; if it has errors they
 * are logged and nothing changes. Otherwise listeners are rebound when
 * their addresses changed, every running child is "retired" (SIGHUP: it
 * stops accepting, finishes its established clients and exits) and a new
 * generation starts at once, so established connections are not dropped.
 * Stop (SIGTERM to the master) sends SIGTERM to every child, retiring or
 * not, and SIGKILL to any still alive MASTER_STOP_MS later.
 *
 * During the first start (m->starting), a child that exits before it is
 * ready is a start failure: it is reported to "postern start" with that
 * child's last log line, and the instance stops.
 */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/progpath.h"
#include "util/alloc.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/privs.h"
#include "daemon/service_child.h"
#include "util/safedir.h"
#include "util/sock.h"

#define LISTEN_BACKLOG 511

static void svc_spawn_missing(struct master *m, struct svc *s);

/* ---- listeners ---------------------------------------------------------- */

static int svc_add_fd(struct svc *s, int fd, const char *desc)
{
	s->fds = xreallocarray(s->fds, s->nfds + 1, sizeof(*s->fds));
	s->fds[s->nfds++] = fd;
	if (s->listen_desc == NULL) {
		s->listen_desc = xstrdup(desc);
	} else {
		struct str d = STR_INIT(0);

		str_appendf(&d, "%s,%s", s->listen_desc, desc);
		free(s->listen_desc);
		s->listen_desc = str_steal(&d);
	}
	return 0;
}

/* queue_dir/private, opened without following a symlink (it is created
 * if missing, root 0755 as queue_layout.h says). -1 with why. */
static int svc_private_dir(struct master *m, struct str *why)
{
	struct str path = STR_INIT(0);
	int qfd, fd = -1;

	conf_queue_path(&m->conf, "private", &path);
	qfd = safedir_open_top(m->conf.queue_dir, 0755, NULL);
	if (qfd >= 0)
		fd = safedir_open_at(qfd, "private", 0755, NULL);
	if (fd < 0)
		str_appendf(why, "cannot open %s: %s", str_c(&path),
			    errno == ELOOP ? "a symbolic link, not a directory"
					   : strerror(errno));
	if (qfd >= 0)
		close(qfd);
	str_free(&path);
	return fd;
}

/* One unix socket of s: private/name, mode 0666 (public) or 0660 given
 * to group. The socket is made in the private/ directory through its
 * descriptor dfd, its mode given at bind and its group through a
 * descriptor opened with O_NOFOLLOW (sock_listen_unix_at): a symlink in
 * private/ is refused, never followed. */
static int svc_open_unix_one(struct master *m, struct svc *s, int dfd,
			     const char *name, const char *group,
			     unsigned flags, struct str *why)
{
	struct str path = STR_INIT(0);
	const char *error;
	gid_t gid = (gid_t)-1;
	int fd = -1;

	if (geteuid() == 0 && group != NULL && priv_group(group, &gid) < 0) {
		str_appendf(why, "service %s: group %s does not exist (run "
			    "postern init as root to create the accounts)",
			    s->def->name, group);
		return -1;
	}
	conf_queue_path(&m->conf, "private", &path);
	str_appendf(&path, "/%s", name);
	if (path.len >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		str_appendf(why, "service %s: %s: longer than a unix socket's "
			    "name may be (%zu bytes); choose a shorter "
			    "queue_dir", s->def->name, str_c(&path),
			    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		str_free(&path);
		return -1;
	}
	fd = sock_listen_unix_at(dfd, name, str_c(&path),
				 flags & SERVICE_UNIX_PUBLIC ? 0666 : 0660,
				 gid, LISTEN_BACKLOG, &error);
	if (fd < 0)
		str_appendf(why, "service %s: %s%s", s->def->name, error,
			    errno == EEXIST ? " (not a socket: refused)" : "");
	else
		svc_add_fd(s, fd, str_c(&path));
	str_free(&path);
	return fd < 0 ? -1 : 0;
}

/* The service's unix_socket, then its rows of service_sockets[]. */
static int svc_open_unix(struct master *m, struct svc *s, struct str *why)
{
	const struct service_def *d = s->def;
	int dfd = svc_private_dir(m, why), r;

	if (dfd < 0)
		return -1;
	r = svc_open_unix_one(m, s, dfd, d->unix_socket, d->unix_group,
			      d->flags, why);
	for (const struct service_socket *x = service_sockets;
	     r == 0 && x->service != NULL; x++)
		if (strcmp(x->service, d->name) == 0)
			r = svc_open_unix_one(m, s, dfd, x->name, x->group,
					      x->flags, why);
	close(dfd);
	return r;
}

static int svc_open_inet(struct master *m, struct svc *s, struct str *why)
{
	struct str key = STR_INIT(0), list = STR_INIT(0);
	struct hostport *hp = NULL;
	const char *error;
	size_t n = 0;
	int r = -1;

	conf_get_text(&m->conf, s->def->listen_key, &list);
	if (cfg_hostports(str_c(&list), &hp, &n, &error) < 0) {
		str_appendf(why, "%s: %s", s->def->listen_key, error);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int fd = sock_listen_inet(&hp[i], LISTEN_BACKLOG, &error);

		if (fd < 0) {
			str_appendf(why, "%s: %s", s->def->listen_key, error);
			goto out;
		}
		str_clear(&key);
		if (hp[i].host[0] == '\0')
			str_appendf(&key, "*:%u", hp[i].port);
		else if (strchr(hp[i].host, ':') != NULL)
			str_appendf(&key, "[%s]:%u", hp[i].host, hp[i].port);
		else
			str_appendf(&key, "%s:%u", hp[i].host, hp[i].port);
		svc_add_fd(s, fd, str_c(&key));
	}
	r = 0;
out:
	free(hp);
	str_free(&key);
	str_free(&list);
	return r;
}

static void svc_close(struct svc *s)
{
	for (size_t i = 0; i < s->nfds; i++)
		close(s->fds[i]);
	free(s->fds);
	free(s->listen_desc);
	free(s->spec);
	s->fds = NULL;
	s->nfds = 0;
	s->listen_desc = NULL;
	s->spec = NULL;
}

/* How many children a service wants: its table line, or the value of
 * the key the line names (1..SERVICE_PROCESSES_MAX), or that key's
 * default from conf_keys.def when the value is out of range. */
static unsigned svc_processes(const struct conf *c,
			      const struct service_def *d)
{
	const char *key = d->processes_key, *error = "not set";
	struct str v = STR_INIT(0);
	unsigned n = d->processes;

	if (key != NULL &&
	    (conf_get_text(c, key, &v) < 0 ||
	     cfg_uint(str_c(&v), SERVICE_PROCESSES_MAX, &n, &error) < 0)) {
		const char *def = conf_key_default(key);

		if (def == NULL ||
		    cfg_uint(def, SERVICE_PROCESSES_MAX, &n, &error) < 0)
			log_panic("service %s: bad default for %s", d->name,
				  key);
		log_warn(NULL, "service %s: %s: %s; using the default %u",
			 d->name, key, error, n);
	}
	str_free(&v);
	return n > 0 ? n : 1;
}

/* What the sockets of a service are made from: listen key value and the
 * unix socket's directory. Equal specs mean the sockets can be kept. */
static char *svc_spec(const struct conf *c, const struct service_def *d)
{
	struct str spec = STR_INIT(0);

	if (d->listen_key != NULL)
		conf_get_text(c, d->listen_key, &spec);
	if (d->unix_socket != NULL)
		str_appendf(&spec, "|%s", c->queue_dir);
	return str_steal(&spec);
}

/* Take the sockets of the same service from the previous generation. */
static int svc_take_old(struct svc *s, struct svc *old, size_t old_n)
{
	for (size_t i = 0; i < old_n; i++) {
		if (old[i].def != s->def || old[i].spec == NULL ||
		    strcmp(old[i].spec, s->spec) != 0)
			continue;
		s->fds = old[i].fds;
		s->nfds = old[i].nfds;
		s->listen_desc = old[i].listen_desc;
		old[i].fds = NULL;
		old[i].nfds = 0;
		old[i].listen_desc = NULL;
		return 1;
	}
	return 0;
}

/* Close a previous generation's sockets of this service, so that a
 * changed address that overlaps can be bound again. */
static void svc_close_old(const struct service_def *d, struct svc *old,
			  size_t old_n)
{
	for (size_t i = 0; i < old_n; i++)
		if (old[i].def == d)
			svc_close(&old[i]);
}

/* Is the service enabled: a non-empty listen key, or a unix socket. */
static int svc_enabled(const struct conf *c, const struct service_def *d)
{
	struct str v = STR_INIT(0);
	int on;

	if (d->listen_key == NULL)
		return 1;
	on = conf_get_text(c, d->listen_key, &v) == 0 && v.len > 0;
	str_free(&v);
	return on;
}

/* A service whose program is not installed (a partial build, or a
 * package split) is left out, with a warning, rather than failing the
 * whole instance. */
static int svc_installed(const struct service_def *d)
{
	struct str prog = STR_INIT(0);
	int ok = prog_path(d->program, &prog) == 0;

	if (!ok)
		log_warn(NULL, "service %s: program %s is not installed; "
			 "service not started", d->name, d->program);
	str_free(&prog);
	return ok;
}

/* Open the sockets of every enabled service, reusing those of old[] whose
 * configuration did not change. At the first start (old_n == 0) any error
 * fails the whole start; at a reload a service whose new sockets cannot be
 * bound is left out and logged, the others go on. */
static int svcs_open(struct master *m, struct svc *old, size_t old_n,
		     struct svc **svcs_r, size_t *n_r, struct str *why)
{
	struct svc *svcs = xcalloc(services_count, sizeof(*svcs));
	size_t n = 0;

	for (unsigned i = 0; i < services_count; i++) {
		struct svc *s = &svcs[n];
		int r = 0;

		if (!svc_enabled(&m->conf, &services[i]))
			continue;
		if (!svc_installed(&services[i]))
			continue;
		s->master = m;
		s->def = &services[i];
		s->processes = svc_processes(&m->conf, s->def);
		s->spec = svc_spec(&m->conf, s->def);
		if (!svc_take_old(s, old, old_n)) {
			svc_close_old(s->def, old, old_n);
			if (s->def->unix_socket != NULL)
				r = svc_open_unix(m, s, why);
			if (r == 0 && s->def->listen_key != NULL)
				r = svc_open_inet(m, s, why);
		}
		if (r < 0 && old_n > 0) {
			log_warn(NULL, "reload: service %s left stopped: %s",
				 s->def->name, str_c(why));
			str_clear(why);
			svc_close(s);
			continue;
		}
		n++;
		if (r < 0) {
			for (size_t j = 0; j < n; j++)
				svc_close(&svcs[j]);
			free(svcs);
			return -1;
		}
	}
	*svcs_r = svcs;
	*n_r = n;
	return 0;
}

int master_listeners_open(struct master *m, const char **error_r)
{
	static struct str why = STR_INIT(0);

	str_clear(&why);
	if (svcs_open(m, NULL, 0, &m->svcs, &m->nsvcs, &why) < 0) {
		*error_r = str_c(&why);
		return -1;
	}
	return 0;
}

void master_listeners_close(struct master *m)
{
	for (size_t i = 0; i < m->nsvcs; i++) {
		if (m->svcs[i].restart_timer != NULL)
			ev_timer_cancel(m->loop, m->svcs[i].restart_timer);
		m->svcs[i].restart_timer = NULL;
		svc_close(&m->svcs[i]);
	}
	free(m->svcs);
	m->svcs = NULL;
	m->nsvcs = 0;
}

/* ---- children ----------------------------------------------------------- */

static const char *child_state_name(const struct child *c)
{
	if (c->retiring)
		return "stopping";
	switch (c->state) {
	case CHILD_STARTING: return "starting";
	case CHILD_READY: return "ready";
	case CHILD_BUSY: return "busy";
	}
	return "?";
}

void master_status_write(struct master *m)
{
	struct str path = STR_INIT(0), text = STR_INIT(0);
	const char *error;

	for (struct child *c = m->children; c != NULL; c = c->next)
		str_appendf(&text, "%s %ld %s %s\n", c->def->name,
			    (long)c->pid, child_state_name(c),
			    c->svc && c->svc->listen_desc ? c->svc->listen_desc
							  : "-");
	conf_queue_path(&m->conf, "pid/status", &path);
	if (file_write_atomic(str_c(&path), text.s ? text.s : "", text.len,
			      0644, &error) < 0)
		log_warn(NULL, "cannot write %s: %s", str_c(&path), error);
	str_free(&path);
	str_free(&text);
}

void master_report_ready(struct master *m, const char *error)
{
	struct str msg = STR_INIT(0);

	if (m->ready_fd < 0)
		return;
	if (error == NULL)
		str_sets(&msg, "ok\n");
	else
		str_appendf(&msg, "error: %s\n", error);
	if (write(m->ready_fd, msg.s, msg.len) < 0) {
		/* postern start has gone away; nobody to tell */
	}
	close(m->ready_fd);
	m->ready_fd = -1;
	str_free(&msg);
}

static int all_ready(struct master *m)
{
	for (size_t i = 0; i < m->nsvcs; i++)
		if (m->svcs[i].running < m->svcs[i].processes)
			return 0;
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (!c->retiring && c->state == CHILD_STARTING)
			return 0;
	return 1;
}

/* "retiring": the child stopped accepting on its own (postern-pop3 lost
 * its connection to postern-auth) and finishes its sessions; it is
 * treated as retired by a reload, and a new one is started now (no sooner
 * than MASTER_RESTART_MS after the last start). */
static void child_retiring(struct master *m, struct child *c)
{
	struct svc *s = c->svc;

	if (c->retiring || s == NULL || m->stopping)
		return;
	log_info(NULL, "service %s: pid %ld retires on its own; starting "
		 "another", c->def->name, (long)c->pid);
	c->retiring = 1;
	c->svc = NULL;
	s->running--;
	svc_spawn_missing(m, s);
}

static void child_status_line(struct master *m, struct child *c,
			      const char *line)
{
	if (strcmp(line, "ready") == 0 && c->state == CHILD_STARTING)
		c->state = CHILD_READY;
	else if (strcmp(line, "busy") == 0)
		c->state = CHILD_BUSY;
	else if (strcmp(line, "retiring") == 0)
		child_retiring(m, c);
	else
		log_warn(NULL, "service %s pid %ld: unknown status '%.20s'",
			 c->def->name, (long)c->pid, line);
	master_status_write(m);
	if (m->starting && all_ready(m)) {
		m->starting = 0;
		log_info(NULL, "ready: %zu services", m->nsvcs);
		master_report_ready(m, NULL);
	}
}

static struct child *child_find(struct master *m, pid_t pid,
				struct child ***link_r)
{
	struct child **pp;

	for (pp = &m->children; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			*link_r = pp;
			return *pp;
		}
	}
	return NULL;
}

static void child_status_close(struct master *m, struct child *c)
{
	if (c->status_fd < 0)
		return;
	ev_fd_del(m->loop, c->status_fd);
	close(c->status_fd);
	c->status_fd = -1;
}

static void child_status_readable(void *arg, int fd, unsigned revents)
{
	struct child *c = arg;
	struct master *m = c->master;
	char *nl;
	ssize_t n;

	(void)revents;
	n = read(fd, c->statusbuf + c->statuslen,
		 sizeof(c->statusbuf) - c->statuslen - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		child_status_close(m, c);	/* it exited or closed fd 3 */
		return;
	}
	c->statuslen += (size_t)n;
	c->statusbuf[c->statuslen] = '\0';
	while ((nl = strchr(c->statusbuf, '\n')) != NULL) {
		*nl = '\0';
		child_status_line(m, c, c->statusbuf);
		c->statuslen -= (size_t)(nl + 1 - c->statusbuf);
		memmove(c->statusbuf, nl + 1, c->statuslen + 1);
	}
	if (c->statuslen == sizeof(c->statusbuf) - 1) {
		log_warn(NULL, "service %s pid %ld: status line too long",
			 c->def->name, (long)c->pid);
		c->statuslen = 0;
	}
}

/* What a child's environment holds besides POSTERN_LISTEN_FDS and PATH:
 * only these, and only when the master has them (postern-master(8)). TZ
 * gives the time zone of the Date: and Received: fields the services
 * write; the rest are for tests (postern-inject(8), sandbox.h's test
 * hooks, read only by test builds) and sanitizer builds. A new variable a
 * service reads must be added here, or it never reaches the service. */
static const char *const child_env_keep[] = {
	"TZ", "POSTERN_INJECT_NO_TMPFILE", "POSTERN_TEST_LANDLOCK_ABI",
	"POSTERN_TEST_FORBIDDEN", "ASAN_OPTIONS", "UBSAN_OPTIONS",
	"LSAN_OPTIONS", NULL,
};
#define CHILD_ENV_MAX 10
#define CHILD_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

/* In the forked child: the environment, explicitly (nothing is inherited
 * from whoever started the master but child_env_keep). */
static void child_env(size_t nlisten, char *listen_var, size_t size,
		      char **envp)
{
	size_t n = 0;

	snprintf(listen_var, size, "POSTERN_LISTEN_FDS=%zu", nlisten);
	envp[n++] = listen_var;
	envp[n++] = CHILD_PATH;
	for (size_t i = 0; child_env_keep[i] != NULL; i++) {
		size_t len = strlen(child_env_keep[i]);

		for (char **e = environ; *e != NULL; e++)
			if (strncmp(*e, child_env_keep[i], len) == 0 &&
			    (*e)[len] == '=' && n < CHILD_ENV_MAX) {
				envp[n++] = *e;
				break;
			}
	}
	envp[n] = NULL;
}

/* In the forked child: put every descriptor at its fixed number (fd 3 the
 * status pipe, 4.. the listeners, then the instance lock, then the read
 * end of the death pipe), exec. */
static _Noreturn void child_exec(struct master *m, struct svc *s,
				 const char *prog, int status_w, int death_r)
{
	int moved[SERVICE_LISTEN_MAX + 3];
	size_t n = s->nfds < SERVICE_LISTEN_MAX ? s->nfds : SERVICE_LISTEN_MAX;
	char listen_var[48], *envp[CHILD_ENV_MAX + 1];
	char *const argv[] = { (char *)prog, "-c", (char *)m->conf_file, "-s",
			       (char *)s->def->name, NULL };
	sigset_t none;
	int devnull;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);		/* a terminal's ^C reaches only the master */
	/* move everything above the target range first: dup2 onto the same
	 * number would keep close-on-exec */
	moved[0] = fcntl(status_w, F_DUPFD_CLOEXEC, 64);
	for (size_t i = 0; i < n; i++)
		moved[i + 1] = fcntl(s->fds[i], F_DUPFD_CLOEXEC, 64);
	moved[n + 1] = fcntl(m->instance_fd, F_DUPFD_CLOEXEC, 64);
	moved[n + 2] = fcntl(death_r, F_DUPFD_CLOEXEC, 64);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(m->log_w, 1) < 0 ||
	    dup2(m->log_w, 2) < 0 || dup2(moved[0], 3) < 0)
		_exit(111);
	for (size_t i = 0; i <= n + 1; i++)
		if (moved[i + 1] < 0 || dup2(moved[i + 1], 4 + (int)i) < 0)
			_exit(111);
	closefrom(6 + (int)n);
	child_env(n, listen_var, sizeof(listen_var), envp);
	execve(prog, argv, envp);
	log_warn(NULL, "exec %s: %m", prog);
	_exit(111);
}

static int child_spawn(struct master *m, struct svc *s)
{
	struct str prog = STR_INIT(0);
	struct child *c;
	int sp[2], dp[2];
	pid_t pid;

	if (prog_path(s->def->program, &prog) < 0) {
		log_warn(NULL, "service %s: program %s not found", s->def->name,
			 s->def->program);
		str_free(&prog);
		return -1;
	}
	if (pipe2(sp, O_CLOEXEC) < 0) {
		log_warn(NULL, "service %s: pipe: %m", s->def->name);
		str_free(&prog);
		return -1;
	}
	if (pipe2(dp, O_CLOEXEC) < 0) {
		log_warn(NULL, "service %s: pipe: %m", s->def->name);
		close(sp[0]);
		close(sp[1]);
		str_free(&prog);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_warn(NULL, "service %s: fork: %m", s->def->name);
		close(sp[0]);
		close(sp[1]);
		close(dp[0]);
		close(dp[1]);
		str_free(&prog);
		return -1;
	}
	if (pid == 0)
		child_exec(m, s, str_c(&prog), sp[1], dp[0]);
	close(sp[1]);
	close(dp[0]);
	str_free(&prog);
	c = xcalloc(1, sizeof(*c));
	c->master = m;
	c->pid = pid;
	c->def = s->def;
	c->svc = s;
	c->status_fd = sp[0];
	c->death_fd = dp[1];
	fd_nonblock(sp[0], 1);
	if (ev_fd_add(m->loop, sp[0], EV_READ, child_status_readable, c) < 0)
		log_warn(NULL, "service %s: cannot watch status: %m",
			 s->def->name);
	c->next = m->children;
	m->children = c;
	s->running++;
	s->last_start = clock_ms();
	log_info(NULL, "service %s: started pid %ld", s->def->name, (long)pid);
	return 0;
}

static void svc_restart_timer(void *arg)
{
	struct svc *s = arg;

	s->restart_timer = NULL;
	if (s->throttled)
		log_info(NULL, "service %s: throttle ends", s->def->name);
	s->throttled = 0;
	if (!s->master->stopping)
		svc_spawn_missing(s->master, s);
}

static void svc_schedule(struct master *m, struct svc *s, int64_t delay)
{
	if (s->restart_timer != NULL)
		return;
	s->restart_timer = ev_timer_add(m->loop, delay, svc_restart_timer, s);
}

static void svc_spawn_missing(struct master *m, struct svc *s)
{
	int64_t wait = s->last_start + MASTER_RESTART_MS - clock_ms();

	if (s->running >= s->processes || s->throttled)
		return;
	if (s->last_start != 0 && wait > 0) {
		svc_schedule(m, s, wait);
		return;
	}
	while (s->running < s->processes)
		if (child_spawn(m, s) < 0) {
			if (m->starting) {
				struct str why = STR_INIT(0);

				str_appendf(&why, "service %s: cannot start "
					    "program %s (see the log)",
					    s->def->name, s->def->program);
				master_report_ready(m, str_c(&why));
				str_free(&why);
				master_stop(m, 1);
				return;
			}
			s->throttled = 1;
			log_warn(NULL, "service %s: cannot start; throttled "
				 "for %d s", s->def->name,
				 MASTER_THROTTLE_MS / 1000);
			svc_schedule(m, s, MASTER_THROTTLE_MS);
			return;
		}
	master_status_write(m);
}

void master_start_all(struct master *m)
{
	m->starting = 1;
	for (size_t i = 0; i < m->nsvcs; i++)
		svc_spawn_missing(m, &m->svcs[i]);
	if (all_ready(m)) {
		m->starting = 0;
		master_report_ready(m, NULL);
	}
}

static void describe_exit(int wstatus, struct str *out)
{
	if (WIFEXITED(wstatus))
		str_appendf(out, "status %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		str_appendf(out, "signal %d (%s)%s", WTERMSIG(wstatus),
			    strsignal(WTERMSIG(wstatus)),
			    WCOREDUMP(wstatus) ? ", core dumped" : "");
	else
		str_appendf(out, "wait status 0x%x", (unsigned)wstatus);
}

/* Did it fail (as opposed to being stopped or exiting normally)? */
static int exit_is_failure(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus) != 0;
	if (WIFSIGNALED(wstatus))
		return WTERMSIG(wstatus) != SIGKILL &&
		       WTERMSIG(wstatus) != SIGTERM &&
		       WTERMSIG(wstatus) != SIGINT;
	return 1;
}

static void start_failed(struct master *m, struct child *c, const char *how)
{
	struct str why = STR_INIT(0);
	const char *last;

	/* its last lines may still be in the log pipe: the SIGCHLD can come
	 * before the collector read them (more so with many services
	 * starting at once) */
	master_log_drain(m);
	last = master_log_recent(m, c->pid);

	str_appendf(&why, "service %s (pid %ld) exited with %s before it was "
		    "ready", c->def->name, (long)c->pid, how);
	if (last != NULL)
		str_appendf(&why, "; its last words: %s", last);
	log_warn(NULL, "%s", str_c(&why));
	master_report_ready(m, str_c(&why));
	str_free(&why);
	master_stop(m, 1);
}

static void child_gone(struct master *m, struct child *c, int wstatus)
{
	struct svc *s = c->svc;
	struct str how = STR_INIT(0);
	int before_ready = c->state == CHILD_STARTING;
	int throttle;

	describe_exit(wstatus, &how);
	log_info(NULL, "service %s: pid %ld exited with %s%s", c->def->name,
		 (long)c->pid, str_c(&how), c->retiring ? " (retired)" : "");
	if (c->retiring || m->stopping || s == NULL) {
		str_free(&how);
		return;
	}
	s->running--;
	master_log_drain(m);
	if (m->starting && before_ready) {
		start_failed(m, c, str_c(&how));
		str_free(&how);
		return;
	}
	throttle = before_ready ||
		   (c->state != CHILD_BUSY && exit_is_failure(wstatus));
	if (throttle) {
		s->throttled = 1;
		log_warn(NULL, "service %s: child failed before serving "
			 "anything; throttled for %d s", s->def->name,
			 MASTER_THROTTLE_MS / 1000);
		svc_schedule(m, s, MASTER_THROTTLE_MS);
	} else {
		svc_spawn_missing(m, s);
	}
	str_free(&how);
}

static void master_maybe_done(struct master *m)
{
	if (m->stopping && m->children == NULL) {
		if (m->stop_timer != NULL)
			ev_timer_cancel(m->loop, m->stop_timer);
		m->stop_timer = NULL;
		master_listeners_close(m);
		ev_stop(m->loop);
	}
}

void master_child_exited(struct master *m, pid_t pid, int wstatus)
{
	struct child **link, *c = child_find(m, pid, &link);

	if (c == NULL)
		return;
	*link = c->next;
	child_status_close(m, c);
	if (c->death_fd >= 0)
		close(c->death_fd);
	child_gone(m, c, wstatus);
	free(c);
	if (!m->stopping)
		master_status_write(m);
	master_maybe_done(m);
}

static void master_stop_timeout(void *arg)
{
	struct master *m = arg;

	m->stop_timer = NULL;
	for (struct child *c = m->children; c != NULL; c = c->next) {
		log_warn(NULL, "service %s: pid %ld still running %d s after "
			 "SIGTERM; killing it", c->def->name,
			 (long)c->pid, MASTER_STOP_MS / 1000);
		kill(c->pid, SIGKILL);
	}
}

void master_stop(struct master *m, int exit_status)
{
	if (exit_status != 0)
		m->exit_status = exit_status;
	if (m->stopping)
		return;
	m->stopping = 1;
	for (struct child *c = m->children; c != NULL; c = c->next) {
		c->retiring = 1;
		kill(c->pid, SIGTERM);
	}
	for (size_t i = 0; i < m->nsvcs; i++)
		if (m->svcs[i].restart_timer != NULL) {
			ev_timer_cancel(m->loop, m->svcs[i].restart_timer);
			m->svcs[i].restart_timer = NULL;
		}
	master_status_write(m);
	m->stop_timer = ev_timer_add(m->loop, MASTER_STOP_MS,
				     master_stop_timeout, m);
	master_maybe_done(m);
}

/* ---- reload ------------------------------------------------------------- */

static void reload_errors(struct str *errors)
{
	char *line = errors->s, *nl;

	while (line != NULL && (nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		log_warn(NULL, "reload: %s", line);
		line = nl + 1;
	}
	log_warn(NULL, "reload refused: the configuration has errors; "
		 "still running with the previous one");
}

void master_reload(struct master *m)
{
	struct conf fresh, old;
	struct str errors = STR_INIT(0);
	struct svc *svcs, *old_svcs = m->svcs;
	size_t nsvcs, old_n = m->nsvcs;
	const char *error;

	memset(&fresh, 0, sizeof(fresh));
	if (m->stopping)
		return;
	if (conf_load(&fresh, m->conf_file, &errors) > 0) {
		reload_errors(&errors);
		conf_free(&fresh);
		str_free(&errors);
		return;
	}
	old = m->conf;
	m->conf = fresh;
	/* unchanged sockets are handed over as they are: connections waiting
	 * in their backlog are not lost, and no bind can fail */
	svcs_open(m, old_svcs, old_n, &svcs, &nsvcs, &errors);
	conf_free(&old);
	for (struct child *c = m->children; c != NULL; c = c->next) {
		if (c->retiring)
			continue;
		c->retiring = 1;
		c->svc = NULL;
		kill(c->pid, SIGHUP);
	}
	m->svcs = svcs;
	m->nsvcs = nsvcs;
	for (size_t i = 0; i < old_n; i++) {
		if (old_svcs[i].restart_timer != NULL)
			ev_timer_cancel(m->loop, old_svcs[i].restart_timer);
		svc_close(&old_svcs[i]);
	}
	free(old_svcs);
	if (master_log_reopen(m, &error) < 0)
		log_warn(NULL, "reload: %s", error);
	log_info(NULL, "reloaded: config=%s", m->conf_file);
	for (size_t i = 0; i < m->nsvcs; i++)
		svc_spawn_missing(m, &m->svcs[i]);
	master_status_write(m);
	str_free(&errors);
}
