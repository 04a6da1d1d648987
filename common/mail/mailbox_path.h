/*
 * mailbox_path - the one rule from a user's address to its Maildir
 *
 * RULE    The Maildir of the user USER@DOMAIN is
 *
 *           mail_root/DOMAIN/USER/
 *
 *         (CONTRACT.md, mail_root). Every program that names a Maildir
 *         goes through this module: postern-qmgr's resolution (the DELIVER
 *         request's "DOMAIN/USER"), postern-local (which checks that field
 *         again), postern-pop3 (from the address postern-auth vouched
 *         for), "postern user add" (which creates it) and "user del"
 *         (which names it). Four copies of this rule used to disagree:
 *         one split at the first '@', two at the last, one lower-cased.
 *
 * GRAMMAR address = user "@" domain       exactly one '@'
 *         user    = 1*64 octet            (RFC 5321 4.5.3.1.1)
 *         domain  = 1*255 octet           (RFC 5321 4.5.3.1.2)
 *
 *         Each part must be well-formed UTF-8 without control characters
 *         (C0, DEL, C1; addr_check_utf8), must not contain '/' and must
 *         not begin with '.'. ASCII letters are folded to lower case.
 *
 * WHY     '/' would make a part two path components, and a leading '.'
 *         allows "." and ".." (a way out of mail_root) as well as names
 *         that Maildir++ uses for folders and tools for hidden files.
 *         Control bytes break log lines and terminals. A second '@' cannot
 *         occur in a user of the user map ("postern user add" refuses it),
 *         and where to split such an address is exactly what the old
 *         copies disagreed on, so it is refused, not guessed. Case: the
 *         user map's keys are lower case, so "Alice@Example.TEST" and
 *         "alice@example.test" are one user and one Maildir. An address
 *         extension ("user+tag") is not removed here: the recipient
 *         resolution (queue/resolve.c) finds the user first, and this rule
 *         maps that user's address; "a+b@d" is the Maildir "d/a+b".
 *
 * The result is two NUL-terminated components that are each safe to pass
 * to openat(2) beneath the previous one (maildir_open.h opens them one at
 * a time with O_NOFOLLOW).
 */
#ifndef POSTERN_MAILBOX_PATH_H
#define POSTERN_MAILBOX_PATH_H

#include "util/str.h"

#define MAILBOX_USER_MAX 64
#define MAILBOX_DOMAIN_MAX 255

struct mailbox_path {
	char user[MAILBOX_USER_MAX + 1];
	char domain[MAILBOX_DOMAIN_MAX + 1];
};

/* The Maildir of address. 0, or -1 with *error_r (static text saying which
 * rule the address broke). */
int mailbox_path_from_addr(const char *address, struct mailbox_path *mp,
			   const char **error_r);
/* The same checks and folding for the two parts given apart (a DELIVER
 * request's "DOMAIN/USER"). 0, or -1 with *error_r. */
int mailbox_path_from_parts(const char *domain, const char *user,
			    struct mailbox_path *mp, const char **error_r);
/* Set out to "DOMAIN/USER" (relative to mail_root). 0, or -1 past out's
 * cap. */
int mailbox_path_relative(const struct mailbox_path *mp, struct str *out);
/* Set out to "mail_root/DOMAIN/USER", for messages to the administrator.
 * 0, or -1 past out's cap. */
int mailbox_path_full(const char *mail_root, const struct mailbox_path *mp,
		      struct str *out);

#endif
