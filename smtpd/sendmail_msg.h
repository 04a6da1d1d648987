/*
 * sendmail_msg - the message text sendmail(1) reads on standard input
 *
 * INPUT   untrusted bytes from a local program, in pieces of any size
 * OUTPUT  the message in postern's canonical form (LF line ends), the
 *         header section split off, Bcc: removed, the recipients of -t
 * LIMITS  SENDMAIL_HEADER_MAX bytes of header section (the caller holds
 *         it), SENDMAIL_HDR_RCPT_MAX recipients from the headers,
 *         SENDMAIL_ADDR_MAX bytes per address, SENDMAIL_COMMENT_DEPTH
 *         nested comments
 *
 * LINE ENDS. CRLF, a lone LF and a lone CR each end a line and are stored
 * as one LF, so a queued message never holds a CR (see smtp_data.h for
 * why that matters once the message leaves over SMTP). A message that
 * does not end in a line end gets a final LF.
 *
 * THE LONE DOT. Unless -i/-oi was given, a line holding only "." ends the
 * input and everything after it is ignored; a final "." without a line
 * end counts too. No dot-unstuffing is done: ".." stays "..", as in every
 * sendmail since 4.2BSD. With -i the dot is an ordinary line.
 *
 * THE HEADER SECTION is every line from the start up to the first empty
 * line or the first line that is neither a header field ("Name:" with a
 * name of printable ASCII, no blank) nor a continuation (a line starting
 * with a blank, after a field). A leading Unix mbox "From " line is
 * dropped. When no empty line follows the fields, the caller inserts one
 * before the body.
 *
 * RECIPIENTS (-t). To:, Cc: and Bcc: are RFC 5322 address lists: fields
 * may be folded; an element is "addr-spec" or "display name <addr-spec>";
 * "name: a@b, c@d;" is a group (an empty group "undisclosed-recipients:;"
 * names nobody); (comments) nest and are dropped; "quoted strings" and
 * [domain literals] are kept whole, so a comma, colon or parenthesis
 * inside them is not structure. Blanks outside quoted strings are
 * dropped (the obsolete "a . b @ c" form). Unbalanced quotes, comments or
 * angle brackets, two <addresses> in one element, text after a
 * <address>, or a group inside a group make the field malformed: the
 * message is refused rather than sent to a guess. The addresses are
 * returned as text, to be validated with addr_parse_plain() by the
 * caller (which also qualifies one without a domain).
 *
 * BCC. Every Bcc: field is removed from the header section, with or
 * without -t: a blind copy must never show its recipients to the others.
 */
#ifndef POSTERN_SENDMAIL_MSG_H
#define POSTERN_SENDMAIL_MSG_H

#include <stddef.h>
#include <time.h>

#include "util/str.h"

#define SENDMAIL_HEADER_MAX (1024 * 1024)
#define SENDMAIL_HDR_RCPT_MAX 10000
#define SENDMAIL_ADDR_MAX 1024
#define SENDMAIL_COMMENT_DEPTH 32

/* ---- line ends and the lone dot ---------------------------------------- */

struct sendmail_input {
	int dot_ends;		/* a lone "." line ends the input (no -i) */
	int done;		/* it did: ignore the rest */
	/* private */
	int bol;		/* at the beginning of a line */
	int dot;		/* a "." at the beginning of a line is pending */
	int skip_lf;		/* a CR was taken as the line end */
	int started;		/* something was written */
	char last;		/* the last byte written */
};

void sendmail_input_init(struct sendmail_input *in, int dot_ends);
/* Append the canonical form of p[0..n) to out. 1 once the lone dot has
 * ended the input (then and later, nothing more is taken), 0 to go on,
 * -1 (errno EMSGSIZE) past out's cap. */
int sendmail_input_feed(struct sendmail_input *in, const char *p, size_t n,
			struct str *out);
/* End of input: a pending dot, and a final LF. 0 or -1 (EMSGSIZE). */
int sendmail_input_finish(struct sendmail_input *in, struct str *out);

/* ---- the header section ------------------------------------------------- */

struct sendmail_split {
	size_t skip;		/* bytes of a leading "From " line to drop */
	size_t header_len;	/* bytes of header fields after it */
	int blank;		/* an empty line follows them */
};

/* Find the header section at the start of p[0..len), the canonical text
 * so far. 1 and *split_r when it is known; 0 if the text ends inside it
 * and more input may follow (at_eof = 0). With at_eof the whole text is
 * the message, and the answer is always 1. */
int sendmail_msg_split(const char *p, size_t len, int at_eof,
		       struct sendmail_split *split_r);

#define SENDMAIL_HAS_DATE        0x1u
#define SENDMAIL_HAS_FROM        0x2u
#define SENDMAIL_HAS_MESSAGE_ID  0x4u
#define SENDMAIL_HAS_SENDER      0x8u

struct sendmail_hdrs {
	struct str text;	/* the header section to queue, Bcc: removed */
	char **rcpts;		/* with extract: addresses of To:, Cc:, Bcc: */
	size_t nrcpts;
	size_t alloc;
	unsigned seen;		/* SENDMAIL_HAS_* */
	char error[200];
};

void sendmail_hdrs_init(struct sendmail_hdrs *h);
void sendmail_hdrs_free(struct sendmail_hdrs *h);
/* Parse the header section p[0..len) (sendmail_msg_split's header_len
 * bytes). extract: collect the recipients. 0, or -1 with *error_r
 * (h->error) naming the field and the fault. */
int sendmail_hdrs_parse(struct sendmail_hdrs *h, const char *p, size_t len,
			int extract, const char **error_r);
/* The addresses of one address-list field body (unfolded or not),
 * appended to h->rcpts. 0, or -1 with h->error. */
int sendmail_addr_list(struct sendmail_hdrs *h, const char *p, size_t len);

/* ---- headers sendmail adds ---------------------------------------------- */

/* "Date: Sat, 22 Nov 2026 10:00:00 +0100\n" for t in local time, with
 * English names whatever the locale. 0 or -1 (EMSGSIZE). */
int sendmail_msg_date(struct str *out, time_t t);
/* "From: addr\n", or "From: name <addr>\n" with the name written as an
 * atom sequence, a quoted string, or (8-bit) an RFC 2047 encoded word;
 * control characters in name become blanks. 0 or -1 (EMSGSIZE). */
int sendmail_msg_from(struct str *out, const char *name, const char *addr);

#endif
