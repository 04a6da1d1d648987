/*
 * logcollect - the master writes every child's log lines
 *
 * Children write one line per write(2) to a shared pipe (their stderr).
 * The master splits the stream into lines, escapes control bytes (a
 * compromised child must not forge log lines or terminal escapes), caps
 * each at LOG_LINE_MAX, and writes it to its own standard error (the
 * terminal with -f, else the log_file opened on fd 2) with a timestamp, or
 * to syslog when no log_file is set. The lines of one read are written
 * with one write(2), under one timestamp. The last lines are remembered to
 * explain why a service failed to start.
 */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/sock.h"

#define LOGBUF_MAX (64 * 1024)

void master_log_init(struct master *m)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		log_fatal("log pipe: %m");
	m->log_r = p[0];
	m->log_w = p[1];
	fd_nonblock(m->log_r, 1);
	str_init(&m->logbuf, LOGBUF_MAX);
	str_init(&m->logout, 0);
	if (ev_fd_add(m->loop, m->log_r, EV_READ, master_log_readable, m) < 0)
		log_fatal("log pipe: %m");
}

int master_log_reopen(struct master *m, const char **error_r)
{
	static char why[512];
	int fd;

	if (m->foreground) {
		log_set_timestamps(1);
		return 0;
	}
	if (m->conf.log_file == NULL || m->conf.log_file[0] == '\0') {
		m->log_syslog = 1;
		log_open("postern-master", LOG_TO_SYSLOG);
		return 0;
	}
	fd = open(m->conf.log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		  0640);
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot open log_file %s: %m",
			 m->conf.log_file);
		*error_r = why;
		return -1;
	}
	if (dup2(fd, STDERR_FILENO) < 0) {
		snprintf(why, sizeof(why), "dup2 log_file: %m");
		close(fd);
		*error_r = why;
		return -1;
	}
	close(fd);
	m->log_syslog = 0;
	log_open("postern-master", LOG_TO_STDERR);
	log_set_timestamps(1);
	return 0;
}

static void recent_add(struct master *m, const char *line)
{
	unsigned i = m->recent_next++ % MASTER_RECENT_LINES;

	free(m->recent[i]);
	m->recent[i] = xstrdup(line);
}

const char *master_log_recent(struct master *m, pid_t pid)
{
	char tag[32];

	snprintf(tag, sizeof(tag), "[%ld]: ", (long)pid);
	for (unsigned k = 1; k <= MASTER_RECENT_LINES; k++) {
		unsigned i = (m->recent_next - k) % MASTER_RECENT_LINES;

		if (m->recent[i] != NULL && strstr(m->recent[i], tag) != NULL)
			return m->recent[i];
	}
	return NULL;
}

/* Write the batch of stamped lines. */
static void log_out_flush(struct master *m)
{
	const char *p = m->logout.s;
	size_t n = m->logout.len;

	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;	/* the log itself is broken: nowhere to say so */
		p += w;
		n -= (size_t)w;
	}
	str_clear(&m->logout);
}

static void log_line_out(struct master *m, const char *p, size_t n)
{
	struct str line = STR_INIT(LOG_LINE_MAX + 64);

	if (n > 0 && p[n - 1] == '\r')
		n--;
	log_escape(&line, p, n, LOG_LINE_MAX);
	recent_add(m, str_c(&line));
	if (m->log_syslog) {
		syslog(LOG_INFO, "%s", str_c(&line));
	} else {
		if (m->logstamp[0] == '\0')
			log_timestamp(m->logstamp, sizeof(m->logstamp));
		str_appends(&m->logout, m->logstamp);
		str_append(&m->logout, line.s, line.len);
		str_appendc(&m->logout, '\n');
		if (m->logout.len >= LOGBUF_MAX)
			log_out_flush(m);
	}
	str_free(&line);
}

static void log_split(struct master *m, int flush_partial)
{
	char *nl;

	while (m->logbuf.len > 0 &&
	       (nl = memchr(m->logbuf.s, '\n', m->logbuf.len)) != NULL) {
		log_line_out(m, m->logbuf.s, (size_t)(nl - m->logbuf.s));
		str_consume(&m->logbuf, (size_t)(nl - m->logbuf.s) + 1);
	}
	if (flush_partial && m->logbuf.len > 0) {
		log_line_out(m, m->logbuf.s, m->logbuf.len);
		str_clear(&m->logbuf);
	}
}

void master_log_readable(void *arg, int fd, unsigned revents)
{
	struct master *m = arg;
	char buf[8192];
	ssize_t n;

	(void)revents;
	m->logstamp[0] = '\0';		/* a new batch, a new time */
	for (int rounds = 0; rounds < 16; rounds++) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n;) {
			size_t room = LOGBUF_MAX - m->logbuf.len;
			size_t take = (size_t)(n - off) < room ? (size_t)(n - off)
							      : room;

			str_append(&m->logbuf, buf + off, take);
			off += (ssize_t)take;
			log_split(m, m->logbuf.len == LOGBUF_MAX);
		}
	}
	log_out_flush(m);
}

void master_log_drain(struct master *m)
{
	master_log_readable(m, m->log_r, EV_READ);
	log_split(m, 1);
	log_out_flush(m);
}

void master_log_free(struct master *m)
{
	for (unsigned i = 0; i < MASTER_RECENT_LINES; i++) {
		free(m->recent[i]);
		m->recent[i] = NULL;
	}
	str_free(&m->logbuf);
	str_free(&m->logout);
	if (m->log_r > 0) {
		if (m->loop != NULL)
			ev_fd_del(m->loop, m->log_r);
		close(m->log_r);
		close(m->log_w);
		m->log_r = m->log_w = 0;
	}
}
