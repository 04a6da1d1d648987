/*
 * mail_address - RFC 5322 address lists (From, To, Cc, ...) for IMAP's
 *                ENVELOPE and for display
 *
 * GRAMMAR (RFC 5322 3.4 with the obsolete forms of 4.4, read leniently)
 *   address-list = address *("," address)
 *   address      = mailbox / group
 *   group        = phrase ":" [mailbox *("," mailbox)] ";"
 *   mailbox      = [phrase] "<" ["@" domain *("," "@" domain) ":"]
 *                  addr-spec ">" / addr-spec
 *   addr-spec    = local-part ["@" domain]
 *   local-part   = word *("." word)           word = atom / quoted-string
 *   domain       = dot-atom / "[" dtext "]"
 *   CFWS (blanks, folding, nested comments) may appear between tokens.
 *   8-bit bytes are accepted in atoms (RFC 6532).
 *
 * OUTPUT  a flat list as IMAP's ENVELOPE needs it (RFC 3501 7.4.2): a
 *         mailbox is {name, route, mailbox, domain}; a group opens with an
 *         entry whose mailbox is the group's name and domain NULL, and
 *         closes with an entry of all NULL. Display names and local parts
 *         are unquoted (quoted-pairs resolved), words of a phrase joined by
 *         one space; RFC 2047 words are NOT decoded. An addr-spec without
 *         a display name takes its last comment as the name
 *         ("u@d (Real Name)"). As Dovecot does, what cannot be parsed
 *         still gives an entry: a missing local part is "MISSING_MAILBOX",
 *         a missing domain "MISSING_DOMAIN", a broken <...> "SYNTAX_ERROR"
 *         as the domain, and parsing stops at the first error.
 *
 * LIMITS  MAIL_ADDRESS_MAX entries per list (the rest is dropped); linear
 *         in the input (comments nest, but are scanned once).
 */
#ifndef POSTERN_MAIL_ADDRESS_H
#define POSTERN_MAIL_ADDRESS_H

#include <stddef.h>

#define MAIL_ADDRESS_MAX 10000

struct mail_address {
	char *name, *route, *mailbox, *domain;	/* NULL: absent */
};

struct mail_address_list {
	struct mail_address *a;
	size_t n, cap;
};

/* Parse s[0..n) (a header value, folded or not). An empty value gives an
 * empty list. Never fails. */
void mail_address_parse(const char *s, size_t n, struct mail_address_list *l);
void mail_address_list_free(struct mail_address_list *l);

#endif
