/*
 * usermap - the text sources of the user and alias maps, and the address
 * checks that guard them
 *
 * etc/passwd is a Dovecot passwd-file, so that Dovecot can use it as it is:
 *
 *     user@domain:{CRYPT}$y$...[:uid:gid:gecos:home:shell:extra]
 *
 * Only the first two fields matter to postern; the rest is kept as it was
 * written. etc/aliases holds one alias per line:
 *
 *     alias@domain: target@domain, other@remote.example
 *
 * In both, blank lines and lines whose first non-blank character is '#'
 * are comments, a CR before the LF is ignored, and keys are addresses,
 * compared in lower case. Comments and the order of lines survive an edit:
 * a line is written back byte for byte unless its entry was changed.
 * Errors are "file:LINE: message" (file as the caller names it).
 *
 * The cdb maps built from them: passwd.cdb (address -> password field),
 * users.cdb (address -> ""), aliases.cdb (address -> "t1,t2").
 */
#ifndef POSTERN_USERMAP_H
#define POSTERN_USERMAP_H

#include <stddef.h>
#include <sys/types.h>

struct str;
struct conf_list;

#define USERMAP_FILE_MAX    (64u * 1024 * 1024)	/* largest text source */
#define USERMAP_TARGETS_MAX 1000	/* targets of one alias */
#define USERMAP_ADDR_MAX    254		/* RFC 5321 path minus brackets */
#define USERMAP_LOCAL_MAX   64
#define USERMAP_DOMAIN_MAX  253

enum usermap_kind { USERMAP_PASSWD, USERMAP_ALIASES };

struct usermap_line {
	char *key;	/* lower-case address; NULL for a comment/blank line */
	char *value;	/* passwd: the password field; aliases: "t1,t2" */
	char *extra;	/* passwd: the fields after the password with their
			 * leading ':' ("" if none); aliases: NULL */
	char *raw;	/* the line as read (no CR/LF); NULL once changed */
	unsigned lineno;/* 0 for an entry added since reading */
};

struct usermap {
	enum usermap_kind kind;
	struct usermap_line *v;
	size_t n, cap;
};

void usermap_init(struct usermap *m, enum usermap_kind kind);
void usermap_free(struct usermap *m);

/* Parse buf[0..len) and append its lines to m. Each bad line appends
 * "file:LINE: message\n" to errors. Returns the number of errors. */
int usermap_parse(struct usermap *m, const char *file, const char *buf,
		  size_t len, struct str *errors);
/* Read and parse path; a missing file is an empty map. An unreadable or
 * too large file is one error "file: reason". */
int usermap_load(struct usermap *m, const char *path, const char *file,
		 struct str *errors);

/* The entry of key (lower case), or NULL. */
const struct usermap_line *usermap_get(const struct usermap *m,
				       const char *key);
/* Replace the value of key, or append an entry: 1 replaced, 0 added. */
int usermap_set(struct usermap *m, const char *key, const char *value);
/* Remove the entry of key: 1 removed, 0 there was none. */
int usermap_del(struct usermap *m, const char *key);

/* The text of the map: unchanged lines as read, others rebuilt. */
void usermap_format(const struct usermap *m, struct str *out);
/* The entries (no comments) sorted by key: an array of *n_r pointers into
 * m, to be free()d. */
const struct usermap_line **usermap_sorted(const struct usermap *m,
					   size_t *n_r);
/* Build the cdb map at path atomically: key -> value, or key -> "" when
 * with_values is 0. 0, or -1 with the reason in *error_r. */
int usermap_build_cdb(const struct usermap *m, const char *path,
		      mode_t mode, int with_values, const char **error_r);

/* Check an address "local@domain" and write it in lower case to out.
 * The local part is 1..64 of [a-z0-9.!#$&'*+=?^_`{|}~-], neither starting
 * nor ending with '.', without ".."; the domain passes
 * usermap_domain_check. 0, or -1 with the reason in *error_r. */
int usermap_addr_check(const char *addr, struct str *out,
		       const char **error_r);
/* A domain name: labels of 1..63 [A-Za-z0-9-] not starting or ending
 * with '-', separated by single dots, 253 characters at most. 0 or -1. */
int usermap_domain_check(const char *domain, const char **error_r);
/* Is the domain of addr (case-insensitive) one of domains? 1 or 0. */
int usermap_domain_listed(const char *addr, const struct conf_list *domains);

#endif
