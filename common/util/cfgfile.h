/*
 * cfgfile - the syntax of configuration files, without knowing any key
 *
 * Lines are "key = value"; '#' starts a comment when it is the first
 * non-blank character of a line; blank lines are ignored; leading and
 * trailing blanks around key and value are dropped; the value may be empty.
 * Keys are [a-z0-9_]+. Every error is reported as "file:line: message".
 *
 * Value parsers for the types postern uses: durations (30s 5m 2h 5d, a bare
 * number is seconds), sizes (bytes; k, m, g suffixes are powers of 1024),
 * booleans (yes/no/true/false/on/off/1/0), comma-separated lists, and
 * address:port lists ("127.0.0.1:25", "[::1]:25", "*:25", ":25").
 */
#ifndef POSTERN_CFGFILE_H
#define POSTERN_CFGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct str;

/* Called for each setting; return 0, or -1 after appending one message
 * (without file:line) to err. */
typedef int cfg_setting_cb(void *arg, const char *key, const char *value,
			   struct str *err);

/* Parse the text buf[0..len) named file. Each bad line appends
 * "file:line: message\n" to errors. Returns the number of errors (0 ok). */
int cfg_parse_text(const char *file, const char *buf, size_t len,
		   cfg_setting_cb *cb, void *arg, struct str *errors);
/* Read and parse a file; an unreadable file is one error ("file: ..."). */
int cfg_parse_file(const char *file, cfg_setting_cb *cb, void *arg,
		   struct str *errors);

/* Value parsers: 0 ok, -1 with a short reason in *error_r. */
int cfg_duration(const char *s, unsigned *seconds_r, const char **error_r);
int cfg_size(const char *s, uint64_t *bytes_r, const char **error_r);
int cfg_bool(const char *s, int *bool_r, const char **error_r);
int cfg_uint(const char *s, unsigned max, unsigned *r, const char **error_r);

/* A comma-separated list with blanks trimmed and empty items refused;
 * "" is the empty list. *items_r is one allocation (free() it). */
int cfg_list(const char *s, char ***items_r, size_t *n_r,
	     const char **error_r);

struct hostport {
	char host[256];		/* "" for the wildcard ("*" or empty) */
	uint16_t port;
	struct sockaddr_storage addr;	/* resolved when host is numeric */
	unsigned addrlen;		/* 0 for the wildcard */
};
/* "addr:port[,addr:port...]"; addresses must be numeric (no DNS at config
 * time); "" is the empty list. *list_r is malloc'ed. */
int cfg_hostports(const char *s, struct hostport **list_r, size_t *n_r,
		  const char **error_r);

#endif
