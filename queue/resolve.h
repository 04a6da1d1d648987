/*
 * resolve - where a recipient's mail goes: a local mailbox, a remote
 * address, or nowhere (user unknown, alias loop)
 *
 * For a recipient in a local domain (is_local), in this order:
 *
 *   1. the address in lower case, then (if the local part has a
 *      "+extension") the address without it, is looked up
 *        a. in the alias map: its value "t1,t2,..." is expanded, each
 *           target resolved again from step 1 if it is local, or kept as
 *           a remote target;
 *        b. in the user map: a local mailbox "domain/user" (the user
 *           without the extension), delivered as the address looked up
 *           first (with its extension) so Delivered-To: shows it;
 *   2. neither: failed, "5.1.1 user unknown".
 *
 * A recipient in any other domain is one remote target, unchanged.
 *
 * LIMITS  Aliases nest at most RESOLVE_DEPTH_MAX deep: deeper (a cycle,
 *         a -> b -> a, always is) fails that branch with "5.4.6 alias
 *         loop or aliases nested too deep". One recipient expands to at
 *         most RESOLVE_TARGETS_MAX targets; a target reached twice is
 *         kept once. An address that does not parse (addr_parse_plain
 *         with UTF-8) fails with "5.1.3 bad recipient address".
 *
 * The maps are reached through callbacks (cdb maps in the queue manager,
 * tables in the unit tests). A map that cannot be read makes the whole
 * resolution fail with -1: the recipient is deferred, never bounced.
 */
#ifndef POSTERN_RESOLVE_H
#define POSTERN_RESOLVE_H

#include <stddef.h>

#include "util/str.h"

#define RESOLVE_DEPTH_MAX 10
#define RESOLVE_TARGETS_MAX 1000

enum resolve_map { RESOLVE_MAP_ALIASES, RESOLVE_MAP_USERS };

struct resolve_ops {
	/* 1 if domain (lower case) is delivered here, else 0 */
	int (*is_local)(void *arg, const char *domain);
	/* 1 found (value in value_r), 0 not found, -1 cannot read */
	int (*lookup)(void *arg, enum resolve_map map, const char *key,
		      struct str *value_r);
	void *arg;
};

enum resolve_kind {
	RESOLVE_LOCAL,		/* mailbox is "domain/user" */
	RESOLVE_REMOTE,		/* addr is to be sent on */
	RESOLVE_FAILED,		/* reason says why ("5.x.y text") */
};

struct resolve_target {
	enum resolve_kind kind;
	char *addr;		/* the address delivered to */
	char *mailbox;		/* RESOLVE_LOCAL only, else NULL */
	const char *reason;	/* RESOLVE_FAILED only (static), else NULL */
};

struct resolve_result {
	struct resolve_target *v;
	size_t n, cap;
};

void resolve_result_init(struct resolve_result *r);
void resolve_result_free(struct resolve_result *r);
/* Resolve rcpt into r (emptied first). 0, or -1 with *error_r (static)
 * if a map could not be read. */
int resolve_rcpt(const struct resolve_ops *ops, const char *rcpt,
		 struct resolve_result *r, const char **error_r);

#endif
