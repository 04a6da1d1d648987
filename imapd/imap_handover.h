/*
 * imap_handover - IMAP's hand-over parameter: what postern-imap needs to
 *                 answer the login command that postern-imap-login took
 *                 (proto/login_handover.h, the PARAM field)
 *
 * The tagged OK of LOGIN or AUTHENTICATE is postern-imap's to send, once
 * it has redeemed the login token and opened the mailbox, so the tag
 * travels with the hand-over.
 *
 * GRAMMAR  param = tag [ "+" 1*flag ]
 *          tag   = the command's tag as the client sent it: 1*<ASTRING-
 *                  CHAR except "+"> (imap_login_cmd.h), printable ASCII
 *                  without spaces, as the hand-over line requires; "+"
 *                  cannot occur in it and so separates the flags
 *          flag  = "I"   the client sent ID before login
 *          each flag at most once; an unknown one makes the parameter
 *          invalid (both programs are one release).
 *
 * LIMITS   a tag of at most IMAP_HANDOVER_TAG_MAX bytes, so that the tag
 *          with every flag fits LOGIN_HANDOVER_PARAM_MAX; postern-imap-login
 *          answers a login command with a longer tag BAD before the password
 *          is checked (no real client comes near: they count "A0001").
 *
 * WHY      postern-imap must not trust the login side for anything it
 *          writes to the client unchecked: imap_handover_parse() checks
 *          the tag again before the session puts it in a reply.
 */
#ifndef POSTERN_IMAP_HANDOVER_H
#define POSTERN_IMAP_HANDOVER_H

#include <stddef.h>

#include "util/str.h"

#define IMAP_HANDOVER_TAG_MAX 100
#define IMAP_HANDOVER_ID 0x01u		/* flag "I" */
#define IMAP_HANDOVER_FLAGS (IMAP_HANDOVER_ID)

struct imap_handover {
	char tag[IMAP_HANDOVER_TAG_MAX + 1];
	size_t tag_len;
	unsigned flags;			/* IMAP_HANDOVER_* */
};

/* Set out to the parameter of tag[0..tag_len) with flags. 0, or -1 if the
 * tag is not valid or too long, or a flag unknown (out is then empty). */
int imap_handover_format(struct str *out, const char *tag, size_t tag_len,
			 unsigned flags);
/* Parse param (the hand-over's PARAM, a C string) into h. 0, or -1 if it
 * is not valid (h then holds an empty tag). */
int imap_handover_parse(const char *param, struct imap_handover *h);

#endif
