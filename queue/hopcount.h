/*
 * hopcount - count the Received: fields of a message's header section as
 *            it streams through the injector (mail loops, RFC 5321 6.3)
 *
 * Every MTA that relays a message adds a Received: field at the top of
 * its header section. A message that carries more of them than any sane
 * path has (hopcount_limit, 50 as in Postfix) is going round in a loop;
 * postern-inject refuses it (PERM "5.4.6 too many hops ...") so that it is
 * never delivered, and the sender's MTA bounces it.
 *
 * GRAMMAR  The message is in the injector's canonical form, lines ending
 *   in LF; a CR before an LF is allowed too. The header section is the
 *   lines before the first empty line. A field starts at the beginning of
 *   a line: a name of printable characters other than ':' (RFC 5322
 *   ftext), optional spaces or tabs (the obsolete syntax, RFC 5322 4.5),
 *   and ':'. A line starting with a space or a tab continues the field
 *   before it (folding) and is never a new field. The name is compared
 *   without regard to case: "Received", "RECEIVED", "received".
 *
 *   The first line that is neither a field nor a continuation (an empty
 *   line, a line without a ':' after its name, a line starting with ':')
 *   ends the header section, as Postfix's cleanup does: nothing after it
 *   is counted, so a "Received:" line in the body (a quoted message, a
 *   forwarded header) is not a hop.
 *
 * The counter takes bytes in any split (one byte at a time gives the same
 * count as the whole message at once), keeps no copy of them, and stops
 * looking once the header section has ended. It counts at most
 * HOPCOUNT_MAX (far above any limit), so it cannot overflow.
 */
#ifndef POSTERN_HOPCOUNT_H
#define POSTERN_HOPCOUNT_H

#include <stddef.h>

#define HOPCOUNT_MAX 100000u
/* "received" and the ':' or a blank after it */
#define HOPCOUNT_NAME_MAX 9

enum hopcount_state {
	HOP_LINE_START,		/* at the beginning of a header line */
	HOP_NAME,		/* inside a field name */
	HOP_NAME_BLANKS,	/* blanks between the name and ':' */
	HOP_LINE,		/* the rest of a field's line */
	HOP_CR,			/* a CR at the beginning of a line */
	HOP_BODY,		/* the header section has ended */
};

struct hopcount {
	enum hopcount_state state;
	unsigned count;			/* Received: fields seen */
	size_t name_len;		/* bytes of the name so far */
	char name[HOPCOUNT_NAME_MAX];	/* its first bytes, lower case */
};

void hopcount_init(struct hopcount *h);
/* Take the next n bytes of the message. */
void hopcount_feed(struct hopcount *h, const char *p, size_t n);
/* 1 once the header section has ended (nothing more will be counted). */
int hopcount_done(const struct hopcount *h);
/* 1 if more than limit Received: fields were seen (limit 0: never). */
int hopcount_exceeds(const struct hopcount *h, unsigned limit);

#endif
