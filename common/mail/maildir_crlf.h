/*
 * maildir_crlf - a message file as readers see it: CRLF line ends,
 * optionally dot-stuffed, optionally cut after the header and N body lines,
 * with exact octet counts
 *
 * INPUT   the bytes of a message file, whatever its line ends (postern-local
 *         writes LF, Dovecot LF, some tools CRLF, a few files mix them), in
 *         pieces of any size: a piece may end anywhere, between CR and LF
 *         too
 * OUTPUT  the CRLF form (RFC 5322 2.1, RFC 1939 3, RFC 9051 2.3.1):
 *           - an LF not preceded by CR becomes CRLF;
 *           - a CRLF stays as it is;
 *           - a CR not followed by LF stays a bare CR (it is content; it
 *             does not end a line, as in Dovecot's CRLF stream);
 *           - nothing is added at the end: a file whose last line has no
 *             LF gives a CRLF form whose last line has no CRLF either (the
 *             POP3 caller ends the line before its "." as framing; IMAP's
 *             BODY[] and RFC822.SIZE stay exactly the file's CRLF form).
 *         With MAILDIR_CRLF_DOTS (POP3's multi-line responses, RFC 1939 3)
 *         every line that begins with '.' gets one more '.' in front.
 *         With a body line limit (POP3 TOP n, and n = 0 for IMAP's
 *         BODY[HEADER]) the output ends after the header section (up to and
 *         including the empty line that ends it) and n more lines.
 *
 * LINES   A line ends at LF. The header section ends at the first empty
 *         line: a line that is "LF" or "CR LF". Whether a line is empty is
 *         state kept across pieces (line start, only a CR so far, other
 *         bytes), never decided by looking ahead inside one piece: a
 *         header ending "\r" | "\n" across a read boundary is still the end
 *         of the header. (postern-pop3 used to look ahead within its 64 KiB
 *         read buffer, and TOP sent the whole body when the CR of that
 *         empty line was the buffer's last byte.) A message without an
 *         empty line is all header.
 *
 * EXACT   The output for a file does not depend on how it was cut into
 *         pieces (tests/unit/test_maildir_crlf.c feeds every split).
 *         maildir_crlf_convert() with out == NULL counts the octets it
 *         would write without writing them, by the same code; and
 *         maildir_crlf_size() counts the CRLF size of a file (no dots, no
 *         limit) faster, LFs only, and gives the same figure. That is the
 *         ",W=" of a Maildir name, POP3's LIST size and IMAP's RFC822.SIZE.
 *
 * LIMITS  none of its own: the state is a few bytes, the output of a piece
 *         of n bytes is at most MAILDIR_CRLF_OUT_MAX(n) (a line ".LF" of
 *         two bytes becomes four).
 *
 *   struct maildir_crlf c;
 *   maildir_crlf_init(&c, MAILDIR_CRLF_DOTS, lines);   lines < 0: all
 *   while (!c.done && (n = read(fd, in, sizeof(in))) > 0) {
 *           o = maildir_crlf_convert(&c, in, n, out, &used);
 *           write(out, o);
 *   }
 *   if (maildir_crlf_mid_line(&c)) write "\r\n";        POP3 framing
 */
#ifndef POSTERN_MAILDIR_CRLF_H
#define POSTERN_MAILDIR_CRLF_H

#include <stddef.h>
#include <stdint.h>

#define MAILDIR_CRLF_DOTS 0x1u	/* dot-stuff lines beginning with '.' */

#define MAILDIR_CRLF_OUT_MAX(n) (2 * (n))

struct maildir_crlf {
	unsigned flags;
	long body_lines;	/* body lines still to pass; < 0: all */
	int done;		/* the line limit was reached: nothing more */
	int in_body;		/* past the empty line ending the header */
	/* private */
	unsigned char line;	/* CRLF_LINE_START / _CR / _TEXT */
	unsigned char prev_cr;	/* the last byte seen was CR */
};

void maildir_crlf_init(struct maildir_crlf *c, unsigned flags,
		       long body_lines);
/* Convert in[0..n) into out (room for MAILDIR_CRLF_OUT_MAX(n) bytes), or
 * only count when out is NULL. Returns the octets produced; *used_r is the
 * input consumed: n, or less once the line limit is reached (c->done). */
size_t maildir_crlf_convert(struct maildir_crlf *c, const char *in,
			    size_t n, char *out, size_t *used_r);
/* 1 if the output so far ends inside a line (the file's last line has no
 * LF), 0 at a line start or after the limit. */
int maildir_crlf_mid_line(const struct maildir_crlf *c);

/* The CRLF size of p[0..n): n plus its LFs not preceded by CR; *prev_cr
 * carries "the byte before p was CR" from piece to piece (start with 0). */
uint64_t maildir_crlf_size(const char *p, size_t n, int *prev_cr);
/* The CRLF size of the whole file fd, read from its offset 0 (pread; the
 * descriptor's offset is not moved). 0, or -1 with errno. */
int maildir_crlf_size_fd(int fd, uint64_t *size_r);

#endif
