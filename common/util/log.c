/*
 * log - one line per event: "program[pid]: ID: message"
 *
 * Each line is built in a bounded buffer and written with one write(2), so
 * lines from several processes sharing a pipe never interleave.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/str.h"

static const char *log_prog = "postern";
static enum log_dest log_to = LOG_TO_STDERR;
static int log_stamps;

void log_open(const char *program, enum log_dest dest)
{
	const char *slash = strrchr(program, '/');

	log_prog = slash ? slash + 1 : program;
	log_to = dest;
	if (dest == LOG_TO_SYSLOG)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

const char *log_program(void)
{
	return log_prog;
}

void log_set_timestamps(int on)
{
	log_stamps = on;
}

void log_timestamp(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ ", &tm) == 0)
		buf[0] = '\0';
}

static void log_emit(int prio, const char *level, const char *id,
		     const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 2];
	size_t n = 0;
	int r;

	if (log_to == LOG_TO_STDERR) {
		if (log_stamps)
			log_timestamp(line, 32);
		else
			line[0] = '\0';
		n = strlen(line);
		r = snprintf(line + n, LOG_LINE_MAX - n, "%s[%ld]: ", log_prog,
			     (long)getpid());
		n += r > 0 ? (size_t)r : 0;
	}
	if (id != NULL && n < LOG_LINE_MAX) {
		r = snprintf(line + n, LOG_LINE_MAX - n, "%s: ", id);
		n += r > 0 ? (size_t)r : 0;
	}
	if (level != NULL && n < LOG_LINE_MAX) {
		r = snprintf(line + n, LOG_LINE_MAX - n, "%s: ", level);
		n += r > 0 ? (size_t)r : 0;
	}
	if (n < LOG_LINE_MAX) {
		r = vsnprintf(line + n, LOG_LINE_MAX - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= LOG_LINE_MAX) {
		n = LOG_LINE_MAX - 1;
		memcpy(line + n - 3, "...", 3);
	}
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	if (log_to == LOG_TO_SYSLOG) {
		line[n] = '\0';
		syslog(prio, "%s", line);
		return;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void log_info(const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, NULL, id, fmt, ap);
	va_end(ap);
}

void log_warn(const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning", id, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, "fatal", NULL, fmt, ap);
	va_end(ap);
	exit(111);
}

void log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "panic", NULL, fmt, ap);
	va_end(ap);
	abort();
}

void log_escape(struct str *out, const void *p, size_t n, size_t maxlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n && i < maxlen; i++) {
		unsigned char c = b[i];
		int ok;

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			ok = str_appendc(out, (char)c);
		else {
			char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			ok = str_append(out, e, 4);
		}
		if (ok < 0)
			return;
	}
	if (i < n)
		str_appends(out, "...");
}
