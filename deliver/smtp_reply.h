/*
 * smtp_reply - read a server's SMTP reply (RFC 5321 4.2), as the remote
 * sender sees it, one line at a time
 *
 * INPUT   the lines of one reply, each WITHOUT its CRLF; untrusted
 * OUTPUT  struct smtp_reply: the code, the enhanced status code (RFC 3463)
 *         when the server gave one of the reply's class, the text of all
 *         lines joined by single spaces, and, for an EHLO reply, the
 *         extensions it lists (STARTTLS, PIPELINING, SIZE n, 8BITMIME,
 *         SMTPUTF8, ENHANCEDSTATUSCODES, CHUNKING, DSN)
 * GRAMMAR Every line is "ddd-text" (more lines follow) or "ddd text" or
 *         "ddd" (the last line); the first digit is 2 to 5, the second 0
 *         to 5; every line of a reply carries the same code. Anything else
 *         is malformed: the caller drops the connection (a peer sending
 *         garbage ends that session, never the program).
 * LIMITS  SMTP_REPLY_LINES_MAX lines (a server that never ends a reply is
 *         refused); the text kept is cut at SMTP_REPLY_TEXT_MAX bytes (for
 *         logs and bounces: cutting a text loses no protocol meaning).
 *         Control bytes in the text are kept as spaces, so the text can
 *         go into a log line or a delivery_proto reply unchanged.
 *
 *   struct smtp_reply r;
 *   smtp_reply_init(&r);
 *   while ((n = smtp_reply_feed(&r, line, len, &error)) == 0)
 *           read the next line;
 *   if (n < 0) malformed;  else r.code, r.enhanced, str_c(&r.text)
 *   smtp_reply_free(&r);
 */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define SMTP_REPLY_LINES_MAX 100
#define SMTP_REPLY_TEXT_MAX 1000
/* A reply line, CRLF included, is at most 512 octets (RFC 5321
 * 4.5.3.1.5); servers exceed that, readers should allow this much. */
#define SMTP_REPLY_LINE_MAX 2048

/* EHLO extensions */
#define SMTP_EXT_STARTTLS	0x01u
#define SMTP_EXT_PIPELINING	0x02u
#define SMTP_EXT_SIZE		0x04u
#define SMTP_EXT_8BITMIME	0x08u
#define SMTP_EXT_SMTPUTF8	0x10u
#define SMTP_EXT_ENHANCED	0x20u
#define SMTP_EXT_CHUNKING	0x40u
#define SMTP_EXT_DSN		0x80u

struct smtp_reply {
	int code;		/* 200..559 once complete */
	char enhanced[12];	/* "x.y.z" or "" */
	struct str text;	/* lines joined by ' ', status code removed */
	unsigned ext;		/* SMTP_EXT_* from lines 2.. (EHLO) */
	uint64_t size_max;	/* SIZE n; 0 when absent or no number */
	size_t lines;
	int done;
};

void smtp_reply_init(struct smtp_reply *r);
/* Empty r for the next reply. */
void smtp_reply_reset(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/* Add one line. 1 the reply is complete, 0 more lines follow, -1 the
 * line is malformed (*error_r, static). A line after completion is -1. */
int smtp_reply_feed(struct smtp_reply *r, const char *line, size_t len,
		    const char **error_r);
/* The reply's class: 2, 3, 4 or 5 (code / 100). */
int smtp_reply_class(const struct smtp_reply *r);
/* Append "x.y.z text" for a delivery_proto reply: the server's enhanced
 * code, or one made from the reply code ("4.0.0" for 451, and "2.0.0",
 * "5.0.0"), then "host said: CODE text". */
void smtp_reply_reason(const struct smtp_reply *r, const char *host,
		       struct str *out);
/* Is s[0..len) "C.S.D" (1-3 digits each, C = cls when cls != 0)? */
int smtp_enhanced_ok(const char *s, size_t len, char cls);

#endif
