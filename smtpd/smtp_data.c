/*
 * smtp_data - decode the DATA and BDAT streams (see smtp_data.h)
 *
 * Two stages. The transport stage (data_feed_*) undoes the SMTP framing:
 * dot-unstuffing and the end marker in DOT mode, CRLF -> LF and the
 * bare-CR check in both modes. It hands the canonical bytes to the content
 * stage (data_out), which counts the size, scans (and perhaps holds) the
 * header section, and writes to the sink.
 *
 * Transport states, one byte of look-behind each:
 *
 *   BOL_CRLF  at a line start after CRLF (also where DATA begins)
 *   BOL_LF    at a line start after a bare LF
 *   MID       inside a line
 *   CR        a CR was seen; an LF must follow
 *   DOT       DOT mode: "." at a line start after CRLF
 *   DOTCR     DOT mode: ".\r" at a line start after CRLF; an LF ends DATA
 *   END       finished; nothing more is taken
 *
 * The end marker is recognised only on the path BOL_CRLF -> DOT -> DOTCR
 * -> LF, that is after "\r\n.\r", and nowhere else.
 */
#include "smtp_data.h"

#include <string.h>

enum {
	ST_BOL_CRLF, ST_BOL_LF, ST_MID, ST_CR, ST_DOT, ST_DOTCR, ST_END
};

enum { H_BOL, H_NAME, H_REST };

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode,
		    uint64_t max_size, int hold_header,
		    const struct smtp_data_sink *sink)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->max_size = max_size;
	d->hold = hold_header;
	d->sink = *sink;
	d->state = mode == SMTP_DATA_DOT ? ST_BOL_CRLF : ST_MID;
	d->hstate = H_BOL;
	str_init(&d->held, SMTP_DATA_HEADER_MAX);
}

void smtp_data_free(struct smtp_data *d)
{
	str_free(&d->held);
}

static int data_failed(const struct smtp_data *d)
{
	return d->too_big || d->bare_cr || d->sink_error;
}

/* ---- content stage: sink, header section ------------------------------ */

static void data_sink(struct smtp_data *d, const void *p, size_t n)
{
	if (n == 0 || data_failed(d))
		return;
	if (d->sink.write(d->sink.ctx, p, n) < 0)
		d->sink_error = 1;
}

/* The header section ended at held[split] (the start of the line that is
 * not part of it): write it, let the caller add fields, write the rest. */
static void data_header_end(struct smtp_data *d, size_t split)
{
	d->header_ended = 1;
	if (!d->hold)
		return;
	data_sink(d, d->held.s, split);
	if (!data_failed(d) && d->sink.header_end != NULL &&
	    d->sink.header_end(d->sink.ctx, d) < 0)
		d->sink_error = 1;
	if (d->held.len > split)
		data_sink(d, d->held.s + split, d->held.len - split);
	str_free(&d->held);
}

/* A field name ends at ':'; 1 if it is one (printable ASCII, trailing
 * blanks allowed), then note Message-ID and Date. */
static int data_field_name(struct smtp_data *d)
{
	size_t n = d->name_len;

	while (n > 0 && (d->name[n - 1] == ' ' || d->name[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)d->name[i] < 33 ||
		    (unsigned char)d->name[i] > 126)
			return 0;
	d->name[n] = '\0';
	if (cstr_case_eq(d->name, "message-id"))
		d->has_message_id = 1;
	else if (cstr_case_eq(d->name, "date"))
		d->has_date = 1;
	return 1;
}

/* Scan one byte of the header section (already appended to held). */
static void data_hscan(struct smtp_data *d, unsigned char c)
{
	switch (d->hstate) {
	case H_BOL:
		d->line_off = d->hold ? d->held.len - 1 : 0;
		if (c == '\n') {
			data_header_end(d, d->line_off);
		} else if (c == ' ' || c == '\t') {
			d->hstate = H_REST;
		} else {
			d->hstate = H_NAME;
			d->name_len = 0;
			data_hscan(d, c);
		}
		return;
	case H_NAME:
		if (c == ':') {
			d->hstate = H_REST;
			if (!data_field_name(d))
				data_header_end(d, d->line_off);
		} else if (c == '\n') {
			data_header_end(d, d->line_off);
		} else if (d->name_len < SMTP_DATA_NAME_MAX) {
			d->name[d->name_len++] = (char)c;
		} else {
			d->hstate = H_REST;	/* too long to matter */
		}
		return;
	default:
		if (c == '\n')
			d->hstate = H_BOL;
		return;
	}
}

/* The held section passed its cap: write it unchanged, stop holding. */
static void data_header_overflow(struct smtp_data *d)
{
	d->header_overflow = 1;
	d->header_ended = 1;
	data_sink(d, d->held.s, d->held.len);
	str_free(&d->held);
}

static void data_header(struct smtp_data *d, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && !d->header_ended) {
		if (d->hold && str_append(&d->held, p + i, 1) < 0) {
			data_header_overflow(d);
			break;
		}
		data_hscan(d, (unsigned char)p[i++]);
	}
	if (!d->hold)
		data_sink(d, p, n);
	else
		data_sink(d, p + i, n - i);
}

static void data_out(struct smtp_data *d, const char *p, size_t n)
{
	if (n == 0)
		return;
	d->size = n > UINT64_MAX - d->size ? UINT64_MAX : d->size + n;
	if (d->max_size != 0 && d->size > d->max_size)
		d->too_big = 1;
	d->last = p[n - 1];
	if (data_failed(d))
		return;
	if (d->header_ended)
		data_sink(d, p, n);
	else
		data_header(d, p, n);
}

/* ---- transport stage ---------------------------------------------------- */

/* Inside a line: pass the run of ordinary bytes, then take the CR or LF
 * that ends it. Returns the bytes consumed. */
static size_t data_feed_mid(struct smtp_data *d, const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && s[k] != '\r' && s[k] != '\n')
		k++;
	data_out(d, s, k);
	if (k == n)
		return k;
	if (s[k] == '\r') {
		d->state = ST_CR;
	} else {
		data_out(d, "\n", 1);	/* a bare LF: a line end */
		d->state = d->mode == SMTP_DATA_DOT ? ST_BOL_LF : ST_MID;
	}
	return k + 1;
}

/* A CR that no LF follows. */
static void data_bare_cr(struct smtp_data *d)
{
	d->bare_cr = 1;
	data_out(d, "\r", 1);	/* counted, never written */
}

/* One byte in a state other than MID: 1 consumed, 0 look at it again in
 * the new state. */
static int data_feed_byte(struct smtp_data *d, char c)
{
	switch (d->state) {
	case ST_BOL_CRLF:
		d->state = c == '.' ? ST_DOT : ST_MID;
		return c == '.';
	case ST_BOL_LF:
		d->state = ST_MID;
		return c == '.';	/* unstuffed, but never an end */
	case ST_DOT:
		d->state = c == '\r' ? ST_DOTCR : ST_MID;
		return c == '\r';	/* otherwise the dot was stuffing */
	case ST_DOTCR:
		if (c == '\n') {
			d->state = ST_END;	/* <CRLF>.<CRLF> */
			smtp_data_finish(d);
			return 1;
		}
		data_bare_cr(d);
		d->state = ST_MID;
		return 0;
	default:		/* ST_CR */
		if (c == '\n') {
			data_out(d, "\n", 1);
			d->state = d->mode == SMTP_DATA_DOT ? ST_BOL_CRLF
							    : ST_MID;
			return 1;
		}
		data_bare_cr(d);
		d->state = ST_MID;
		return 0;
	}
}

size_t smtp_data_feed(struct smtp_data *d, const void *p, size_t n)
{
	const char *s = p;
	size_t i = 0;

	while (i < n && !d->done) {
		if (d->state == ST_MID)
			i += data_feed_mid(d, s + i, n - i);
		else
			i += (size_t)data_feed_byte(d, s[i]);
	}
	return i;
}

void smtp_data_finish(struct smtp_data *d)
{
	if (d->done)
		return;
	d->done = 1;
	if (d->state == ST_CR || d->state == ST_DOTCR)
		data_bare_cr(d);
	d->state = ST_END;
	if (d->size > 0 && d->last != '\n')
		data_out(d, "\n", 1);
	if (!d->header_ended)
		data_header_end(d, d->held.len);
}

enum smtp_data_result smtp_data_result(const struct smtp_data *d)
{
	if (d->too_big)
		return SMTP_DATA_TOO_BIG;
	if (d->bare_cr)
		return SMTP_DATA_BARE_CR;
	if (d->sink_error)
		return SMTP_DATA_SINK_ERROR;
	return SMTP_DATA_OK;
}
