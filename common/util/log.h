/*
 * log - one line per event: "program[pid]: ID: message"
 *
 * Lines go to standard error (the master collects its children's standard
 * error and writes it to the log file or syslog) or straight to syslog.
 * Three kinds of failure (STYLE.md 5): warnings; log_fatal for a broken
 * environment (exit 111, temporary); log_panic for a broken invariant
 * (abort, core dump). Untrusted bytes must go through log_escape().
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stddef.h>

struct str;

enum log_dest { LOG_TO_STDERR = 0, LOG_TO_SYSLOG = 1 };

/* Longest line written; longer messages are cut with "...". */
#define LOG_LINE_MAX 2048

void log_open(const char *program, enum log_dest dest);
const char *log_program(void);
/* Prefix each line with an ISO 8601 UTC time (for log files). */
void log_set_timestamps(int on);
/* Write "YYYY-MM-DDTHH:MM:SSZ " for now into buf (at least 22 bytes). */
void log_timestamp(char *buf, size_t size);

void log_info(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_warn(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
_Noreturn void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
_Noreturn void log_panic(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Append p[0..n) to out with bytes outside printable ASCII, '\\' and '"'
 * written as \xHH, keeping at most maxlen input bytes (then "..."). */
void log_escape(struct str *out, const void *p, size_t n, size_t maxlen);

#endif
