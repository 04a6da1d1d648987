/*
 * smtp_data - decode the message stream of SMTP DATA (RFC 5321 4.1.1.4,
 * 4.5.2) and BDAT (RFC 3030) into postern's canonical form
 *
 * INPUT   untrusted bytes from the client, in pieces of any size
 * OUTPUT  the message with LF line ends, through sink->write; on the way
 *         the header section is scanned for Message-ID: and Date:
 * LIMITS  max_size decoded bytes (over it: SMTP_DATA_TOO_BIG, output
 *         stops, input is still read to the end); a held header section
 *         at most SMTP_DATA_HEADER_MAX bytes
 *
 * SMUGGLING. SMTP smuggling (CVE-2023-51764/51765/51766) works when two
 * MTAs disagree on where a message ends. Here the end of DATA is exactly
 * <CRLF>.<CRLF> and nothing else: "\n.\n", "\n.\r\n", "\r\n.\n" and
 * "\r.\r" are content. A bare LF is taken as a line end (so an LF-only
 * client still works, and the dot after it is unstuffed), but it never
 * ends the data. A bare CR anywhere (a CR not followed by LF) makes the
 * whole message unacceptable (SMTP_DATA_BARE_CR): the stream is still
 * read to its real end, so the session stays in step with the client,
 * and then the message is refused. The queue stores LF line ends, so a
 * stored message cannot hold a CR that a later hop could read as a line
 * end.
 *
 * DOT MODE (DATA): the stream starts right after the DATA command's CRLF,
 * so ".\r\n" at once is an empty message. A leading dot on any line is
 * removed (dot-unstuffing). smtp_data_feed() consumes bytes up to and
 * including the end marker and no further: what follows is the client's
 * next command (PIPELINING).
 *
 * BDAT MODE: the caller feeds exactly the chunk bytes; no dot handling,
 * no end marker; smtp_data_finish() after the LAST chunk. A CR ending one
 * chunk pairs with an LF starting the next. A message that does not end
 * in a line end gets a final LF.
 *
 * HEADER HOLDING. With hold_header set the header section is kept back
 * (up to SMTP_DATA_HEADER_MAX bytes) until it ends - at the first empty
 * line, the first line that is not a header field, or the end of the
 * message. Then the held bytes are written, sink->header_end is called
 * (the caller adds Message-ID:/Date: through its own writes) and the rest
 * streams on. A longer header section is written unchanged and
 * header_end is never called.
 *
 *   struct smtp_data d;
 *   smtp_data_init(&d, SMTP_DATA_DOT, limit, 0, &sink);
 *   while (!d.done) { read; used = smtp_data_feed(&d, buf, n); ... }
 *   switch (smtp_data_result(&d)) ...
 *   smtp_data_free(&d);
 */
#ifndef POSTERN_SMTP_DATA_H
#define POSTERN_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define SMTP_DATA_HEADER_MAX (64 * 1024)
#define SMTP_DATA_NAME_MAX 76	/* a longer field name is not scanned */

enum smtp_data_mode { SMTP_DATA_DOT, SMTP_DATA_BDAT };

enum smtp_data_result {
	SMTP_DATA_OK = 0,
	SMTP_DATA_TOO_BIG,	/* more than max_size decoded bytes */
	SMTP_DATA_BARE_CR,	/* a CR not followed by LF */
	SMTP_DATA_SINK_ERROR,	/* sink->write or header_end returned -1 */
};

struct smtp_data;

struct smtp_data_sink {
	/* 0, or -1: output stops and the result is SMTP_DATA_SINK_ERROR */
	int (*write)(void *ctx, const void *p, size_t n);
	/* with hold_header: the header section has been written */
	int (*header_end)(void *ctx, const struct smtp_data *d);
	void *ctx;
};

struct smtp_data {
	enum smtp_data_mode mode;
	uint64_t max_size;	/* 0: no limit */
	uint64_t size;		/* decoded bytes, counted past max_size too */
	int done;		/* DOT: end marker seen; both: finished */
	int too_big, bare_cr, sink_error;
	int has_message_id, has_date;	/* seen in the header section */
	int header_ended;	/* the header section is over */
	int header_overflow;	/* held section grew past the cap */

	/* private */
	int state;		/* transport decoding state */
	int hstate;		/* header scan state */
	int hold;		/* header holding is on */
	char name[SMTP_DATA_NAME_MAX + 1];
	size_t name_len;
	size_t line_off;	/* start of the current line in held */
	char last;		/* last byte written, for the final LF */
	struct str held;
	struct smtp_data_sink sink;
};

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode,
		    uint64_t max_size, int hold_header,
		    const struct smtp_data_sink *sink);
/* Decode p[0..n). Returns the bytes consumed: n, or in DOT mode fewer
 * when the end marker was reached (d->done is then set, the stream has
 * been finished, and p[returned..n) belongs to the next command). */
size_t smtp_data_feed(struct smtp_data *d, const void *p, size_t n);
/* End the message: a CR left pending, a final LF, the end of a header
 * section still held. Idempotent; DOT mode calls it at the end marker. */
void smtp_data_finish(struct smtp_data *d);
/* What became of the message; when several problems occurred, TOO_BIG
 * is reported before BARE_CR before SINK_ERROR. Once a problem is seen
 * nothing more is written to the sink, but the input is still decoded
 * (and counted) to its end. */
enum smtp_data_result smtp_data_result(const struct smtp_data *d);
void smtp_data_free(struct smtp_data *d);

#endif
