/*
 * dsn - the text of a bounce or delay warning (see dsn.h)
 *
 * The three parts are built first, each into its own buffer, so that the
 * boundary can be chosen afterwards as a string that occurs in none of
 * them, and each part's transfer encoding follows from its bytes. Every
 * line goes through wrap() (our own text, fields, anything from outside)
 * or copy_lines() (the original message), and both keep lines within
 * DSN_LINE_MAX.
 */
#include "dsn.h"

#include <string.h>

#include "mail/mail_date.h"

#define BOUNDARY_TRIES 1000

int dsn_wanted(const char *sender)
{
	return sender != NULL && sender[0] != '\0';
}

size_t dsn_header_section(const char *msg, size_t len, size_t max)
{
	size_t line = 0, last_end = 0;
	int cut = len > max;
	const char *nl;

	if (cut)
		len = max;
	while (line < len) {
		if (msg[line] == '\n' ||
		    (msg[line] == '\r' && line + 1 < len &&
		     msg[line + 1] == '\n'))
			return line;
		nl = memchr(msg + line, '\n', len - line);
		if (nl == NULL)
			break;
		line = (size_t)(nl - msg) + 1;
		last_end = line;
	}
	if (!cut || line >= len || last_end == 0)
		return len;
	return last_end;
}

/* ---- status codes ------------------------------------------------------- */

/* Length of an enhanced status code "c.sss.ddd" at s, or 0. */
static size_t status_scan(const char *s)
{
	size_t i = 2, n;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		for (n = 0; s[i] >= '0' && s[i] <= '9' && n < 4; n++)
			i++;
		if (n == 0 || n > 3)
			return 0;
		if (part == 0 && s[i++] != '.')
			return 0;
	}
	if (s[i] >= '0' && s[i] <= '9')
		return 0;
	return i;
}

static int status_copy(const char *s, char out[DSN_STATUS_SIZE])
{
	size_t n = status_scan(s);

	if (n == 0 || n >= DSN_STATUS_SIZE)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return 1;
}

/* "550 5.1.1 ..." or "550-5.1.1 ...": the code after the reply code. */
static int reply_status(const char *reply, char out[DSN_STATUS_SIZE])
{
	for (int i = 0; i < 3; i++)
		if (reply[i] < '0' || reply[i] > '9')
			return 0;
	if (reply[3] != ' ' && reply[3] != '-')
		return 0;
	return status_copy(reply + 4, out);
}

int dsn_action_failure(enum dsn_action a)
{
	return a == DSN_FAILED || a == DSN_EXPIRED;
}

int dsn_action_success(enum dsn_action a)
{
	return a == DSN_DELIVERED || a == DSN_RELAYED || a == DSN_EXPANDED;
}

static const char *action_name(enum dsn_action a)
{
	switch (a) {
	case DSN_DELAYED: return "delayed";
	case DSN_DELIVERED: return "delivered";
	case DSN_RELAYED: return "relayed";
	case DSN_EXPANDED: return "expanded";
	case DSN_FAILED: case DSN_EXPIRED: break;
	}
	return "failed";
}

void dsn_status(const struct dsn_rcpt *r, char out[DSN_STATUS_SIZE])
{
	int found = 0;

	if (r->smtp_reply != NULL)
		found = reply_status(r->smtp_reply, out);
	if (!found && r->reason != NULL)
		found = status_copy(r->reason, out);
	if (!found && r->smtp_reply != NULL &&
	    (r->smtp_reply[0] == '2' || r->smtp_reply[0] == '4' ||
	     r->smtp_reply[0] == '5')) {
		memcpy(out, "x.0.0", 6);
		out[0] = r->smtp_reply[0];
		found = 1;
	}
	if (!found)
		memcpy(out, r->action == DSN_FAILED ? "5.0.0" :
			    r->action == DSN_EXPIRED ? "4.4.7" :
			    r->action == DSN_DELAYED ? "4.0.0" : "2.0.0", 6);
	if (r->action == DSN_FAILED)
		out[0] = '5';
	else if (r->action == DSN_DELAYED)
		out[0] = '4';
	else if (dsn_action_success(r->action))
		out[0] = '2';
}

/* ---- cleaning and wrapping ---------------------------------------------- */

/*
 * Append s to out without control bytes (each run of them and of spaces
 * becomes one space, none at either end); 8-bit bytes become '?' unless
 * keep8; at most max bytes of s are used, then "...".
 */
static void clean(struct str *out, const char *s, size_t max, int keep8)
{
	size_t start = out->len, i;
	int space = 0;

	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f) {
			space = out->len > start;
			continue;
		}
		if (space)
			str_appendc(out, ' ');
		space = 0;
		str_appendc(out, c >= 0x80 && !keep8 ? '?' : (char)c);
	}
	if (s[i] != '\0')
		str_appends(out, "...");
}

/*
 * Append lead, then the words of text (already clean: single spaces, no
 * control bytes), as one line folded at spaces from DSN_FOLD_COL on;
 * continuation lines start with indent. A word that does not fit in
 * DSN_LINE_MAX is broken. Ends with LF.
 */
static void wrap(struct str *out, const char *lead, const char *text,
		 const char *indent)
{
	size_t ilen = strlen(indent), col = strlen(lead), w, k;
	const char *p = text;
	int fresh = 1;

	str_appends(out, lead);
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = strcspn(p, " ");
		if (!fresh && col + 1 + w > DSN_FOLD_COL) {
			str_appendc(out, '\n');
			str_appends(out, indent);
			col = ilen;
		} else if (!fresh) {
			str_appendc(out, ' ');
			col++;
		}
		while (col + w > DSN_LINE_MAX) {
			k = DSN_LINE_MAX - col;
			str_append(out, p, k);
			str_appendc(out, '\n');
			str_appends(out, indent);
			col = ilen;
			p += k;
			w -= k;
		}
		str_append(out, p, w);
		col += w;
		p += w;
		fresh = 0;
	}
	str_appendc(out, '\n');
}

/* wrap() of lead + a cleaned text (8-bit kept for addresses). */
static void wrap_clean(struct str *out, const char *lead, const char *text,
		       int keep8, const char *indent)
{
	struct str c = STR_INIT(0);

	clean(&c, text, keep8 ? DSN_LINE_MAX * 2 : DSN_TEXT_MAX, keep8);
	wrap(out, lead, str_c(&c), indent);
	str_free(&c);
}

/* A field whose value is an address or a text from outside. */
static void field(struct str *out, const char *name, const char *prefix,
		  const char *value, int keep8)
{
	struct str lead = STR_INIT(0);

	str_appendf(&lead, "%s: %s", name, prefix);
	wrap_clean(out, str_c(&lead), value, keep8, " ");
	str_free(&lead);
}

static void field_date(struct str *out, const char *name, time_t t)
{
	str_appendf(out, "%s: ", name);
	mail_date(out, t, MAIL_DATE_UTC);
	str_appendc(out, '\n');
}

/* Break a line of the header section at its last space or tab (the
 * continuation starts with it); 0 if it has none after its first byte. */
static int fold_at_space(struct str *out, size_t line_start)
{
	size_t i = out->len;

	while (i > line_start + 1 && out->s[i - 1] != ' ' &&
	       out->s[i - 1] != '\t')
		i--;
	if (i <= line_start + 1)
		return 0;
	i--;
	str_appendc(out, '\n');
	memmove(out->s + i + 1, out->s + i, out->len - 1 - i);
	out->s[i] = '\n';
	return 1;
}

/*
 * Append the original message bytes p[0..n), ending in LF: NUL and a CR
 * not before LF become spaces; a line reaching DSN_LINE_MAX is broken,
 * in a header section (header = 1) as a continuation line.
 */
static void copy_lines(struct str *out, const char *p, size_t n, int header)
{
	size_t line_start = out->len;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\n') {
			str_appendc(out, '\n');
			line_start = out->len;
			continue;
		}
		if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if (c == '\r' || c == '\0')
			c = ' ';
		if (out->len - line_start >= DSN_LINE_MAX) {
			if (header && fold_at_space(out, line_start)) {
				while (out->s[line_start] != '\n')
					line_start++;
				line_start++;
			} else {
				str_appends(out, header ? "\n\t" : "\n");
				line_start = out->len - (header ? 1 : 0);
			}
		}
		str_appendc(out, c);
	}
	if (out->len > 0 && out->s[out->len - 1] != '\n')
		str_appendc(out, '\n');
}

static int has_8bit(const struct str *s)
{
	for (size_t i = 0; i < s->len; i++)
		if ((unsigned char)s->s[i] >= 0x80)
			return 1;
	return 0;
}

/* ---- the parts ---------------------------------------------------------- */

/* Kinds of recipients in a report. */
enum kind { KIND_FAILED, KIND_DELAYED, KIND_SUCCESS };

static enum kind kind_of(enum dsn_action a)
{
	return dsn_action_failure(a) ? KIND_FAILED :
	       a == DSN_DELAYED ? KIND_DELAYED : KIND_SUCCESS;
}

static int any_action(const struct dsn_report *d, enum kind k)
{
	for (size_t i = 0; i < d->nrcpts; i++)
		if (kind_of(d->rcpts[i].action) == k)
			return 1;
	return 0;
}

/* "3 hours", "5 minutes", "12 seconds": how long the message waited. */
static void age_text(struct str *out, time_t age)
{
	long long a = age < 0 ? 0 : (long long)age;

	if (a >= 2 * 86400)
		str_appendf(out, "%lld days", a / 86400);
	else if (a >= 2 * 3600)
		str_appendf(out, "%lld hours", a / 3600);
	else if (a >= 2 * 60)
		str_appendf(out, "%lld minutes", a / 60);
	else
		str_appendf(out, "%lld second%s", a, a == 1 ? "" : "s");
}

/* "<addr>: host mx.example said: 550 5.1.1 ..." or "<addr>: reason". */
static void text_rcpt(struct str *out, const struct dsn_rcpt *r)
{
	struct str line = STR_INIT(0);

	str_appendc(&line, '<');
	clean(&line, r->final_rcpt, DSN_LINE_MAX * 2, 1);
	str_appends(&line, ">");
	if (r->orig_rcpt != NULL && strcmp(r->orig_rcpt, r->final_rcpt) != 0) {
		str_appends(&line, " (for <");
		clean(&line, r->orig_rcpt, DSN_LINE_MAX * 2, 1);
		str_appends(&line, ">)");
	}
	str_appends(&line, ": ");
	if (r->action == DSN_EXPIRED)
		str_appends(&line, "delivery time expired; last problem: ");
	else if (r->action == DSN_DELAYED)
		str_appends(&line, "still being retried; last problem: ");
	else if (r->action == DSN_DELIVERED)
		str_appends(&line, "delivered to the mailbox; ");
	else if (r->action == DSN_RELAYED)
		str_appends(&line, "relayed to a server that does not send "
			    "delivery notifications; ");
	else if (r->action == DSN_EXPANDED)
		str_appends(&line, "delivered to every address of this "
			    "alias; ");
	if (r->smtp_reply != NULL) {
		if (r->remote_mta != NULL) {
			str_appends(&line, "host ");
			clean(&line, r->remote_mta, 256, 0);
			str_appends(&line, " said: ");
		}
		clean(&line, r->smtp_reply, DSN_TEXT_MAX, 0);
	} else if (r->reason != NULL) {
		clean(&line, r->reason, DSN_TEXT_MAX, 0);
	} else {
		str_appends(&line, "no reason was given");
	}
	wrap(out, "", str_c(&line), "    ");
	str_appendc(out, '\n');
	str_free(&line);
}

static void part_text(const struct dsn_report *d, struct str *out)
{
	int failed = any_action(d, KIND_FAILED),
	    delayed = any_action(d, KIND_DELAYED),
	    success = any_action(d, KIND_SUCCESS);

	str_appends(out, "This is the mail system at host ");
	clean(out, d->hostname, 256, 0);
	str_appends(out, ".\n\n");
	if (failed)
		str_appends(out, "Your message could not be delivered to one "
			    "or more recipients.\nThe reasons are below; the "
			    "headers of your message are attached.\n\n");
	if (success)
		str_appends(out, "Your message was successfully delivered to "
			    "the destinations listed below,\nas you asked. "
			    "The headers of your message are attached.\n\n");
	if (delayed) {
		str_appends(out, "THIS IS A WARNING ONLY. YOU DO NOT NEED TO "
			    "RESEND YOUR MESSAGE.\n\n");
		str_appends(out, "Your message has waited ");
		age_text(out, d->now - d->arrival);
		str_appends(out, " for delivery to the recipients marked\n"
			    "\"still being retried\" below.");
		if (d->retry_until != 0) {
			str_appends(out, " It will be retried until\n");
			mail_date(out, d->retry_until, MAIL_DATE_UTC);
			str_appendc(out, '.');
		}
		str_appends(out, "\n\n");
	}
	str_appends(out, "For further help, write to postmaster@");
	clean(out, d->hostname, 256, 0);
	str_appends(out, " and include\nthis notification.\n\n");
	for (size_t i = 0; i < d->nrcpts; i++)
		text_rcpt(out, &d->rcpts[i]);
}

/* "Original-Recipient: type; address" (RFC 3464 2.3.1); the type is the
 * ORCPT's, cleaned down to its own alphabet. */
static void orig_field(struct str *out, const struct dsn_rcpt *r)
{
	struct str type = STR_INIT(0);
	const char *t = r->orig_type != NULL ? r->orig_type : "rfc822";

	for (size_t i = 0; t[i] != '\0' && i < 32; i++)
		if ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' &&
		    t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		    t[i] == '-')
			str_appendc(&type, t[i]);
	if (type.len == 0)
		str_appends(&type, "rfc822");
	str_appends(&type, "; ");
	field(out, "Original-Recipient", str_c(&type), r->orig_rcpt, 1);
	str_free(&type);
}

static void status_rcpt(struct str *out, const struct dsn_report *d,
			const struct dsn_rcpt *r)
{
	char status[DSN_STATUS_SIZE];

	str_appendc(out, '\n');
	field(out, "Final-Recipient", "rfc822; ", r->final_rcpt, 1);
	if (r->orig_rcpt != NULL)
		orig_field(out, r);
	str_appendf(out, "Action: %s\n", action_name(r->action));
	dsn_status(r, status);
	str_appendf(out, "Status: %s\n", status);
	if (r->remote_mta != NULL)
		field(out, "Remote-MTA", "dns; ", r->remote_mta, 0);
	if (r->smtp_reply != NULL)
		field(out, "Diagnostic-Code", "smtp; ", r->smtp_reply, 0);
	else if (r->reason != NULL)
		field(out, "Diagnostic-Code", "X-Postern; ", r->reason, 0);
	else if (r->action == DSN_EXPIRED)
		str_appends(out, "Diagnostic-Code: X-Postern; delivery time "
			    "expired\n");
	field_date(out, "Last-Attempt-Date",
		   r->last_attempt != 0 ? r->last_attempt : d->now);
	if (r->action == DSN_DELAYED && d->retry_until != 0)
		field_date(out, "Will-Retry-Until", d->retry_until);
}

static void part_status(const struct dsn_report *d, struct str *out)
{
	if (d->envid != NULL && d->envid[0] != '\0')
		field(out, "Original-Envelope-Id", "", d->envid, 0);
	field(out, "Reporting-MTA", "dns; ", d->hostname, 0);
	field(out, "X-Postern-Queue-ID", "", d->queue_id, 0);
	field(out, "X-Postern-Sender", "rfc822; ", d->sender, 1);
	field_date(out, "Arrival-Date", d->arrival);
	for (size_t i = 0; i < d->nrcpts; i++)
		status_rcpt(out, d, &d->rcpts[i]);
}

static void part_original(const struct dsn_report *d, struct str *out)
{
	size_t n;

	if (d->original_whole) {
		copy_lines(out, d->original, d->original_len, 0);
		return;
	}
	n = dsn_header_section(d->original, d->original_len,
			       DSN_HEADERS_MAX);
	copy_lines(out, d->original, n, 1);
}

/* ---- the whole message -------------------------------------------------- */

static int boundary_free(const struct str *b, struct str *const *parts,
			 size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (parts[i]->len >= b->len &&
		    memmem(parts[i]->s, parts[i]->len, b->s, b->len) != NULL)
			return 0;
	return 1;
}

/* [A-Za-z0-9.-] of unique, at most DSN_UNIQUE_MAX bytes of it. */
static void unique_clean(struct str *out, const char *unique)
{
	for (size_t i = 0; unique[i] != '\0' && i < DSN_UNIQUE_MAX; i++) {
		char c = unique[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-')
			str_appendc(out, c);
	}
}

static int boundary_pick(struct str *b, const char *unique,
			 struct str *const *parts, size_t n)
{
	for (unsigned k = 0; k < BOUNDARY_TRIES; k++) {
		str_clear(b);
		str_appends(b, "postern-dsn-");
		unique_clean(b, unique);
		str_appendf(b, "-%u", k);
		if (boundary_free(b, parts, n))
			return 0;
	}
	return -1;
}

static void head(const struct dsn_report *d, struct str *out,
		 const struct str *uniq, const struct str *boundary,
		 int eightbit)
{
	struct str to = STR_INIT(0);

	str_appends(out, "From: Mail Delivery System <MAILER-DAEMON@");
	clean(out, d->hostname, 256, 0);
	str_appends(out, ">\n");
	str_appendc(&to, '<');
	clean(&to, d->sender, DSN_LINE_MAX * 2, 1);
	str_appendc(&to, '>');
	wrap(out, "To: ", str_c(&to), " ");
	str_appendf(out, "Subject: %s\n", any_action(d, KIND_FAILED) ?
		    "Undelivered Mail Returned to Sender" :
		    any_action(d, KIND_DELAYED) ?
		    "Delayed Mail (still being retried)" :
		    "Successful Mail Delivery Report");
	field_date(out, "Date", d->now);
	str_appendf(out, "Message-ID: <%s.dsn@", str_c(uniq));
	clean(out, d->hostname, 256, 0);
	str_appends(out, ">\nAuto-Submitted: auto-replied\n"
		    "MIME-Version: 1.0\n"
		    "Content-Type: multipart/report; "
		    "report-type=delivery-status;\n");
	str_appendf(out, "\tboundary=\"%s\"\n", str_c(boundary));
	if (eightbit)
		str_appends(out, "Content-Transfer-Encoding: 8bit\n");
	str_appends(out, "\nThis is a MIME-encapsulated message.\n");
	str_free(&to);
}

static void part_emit(struct str *out, const struct str *boundary,
		      const char *description, const char *type,
		      const struct str *body)
{
	str_appendf(out, "\n--%s\nContent-Description: %s\n"
		    "Content-Type: %s\n", str_c(boundary), description, type);
	if (has_8bit(body))
		str_appends(out, "Content-Transfer-Encoding: 8bit\n");
	str_appendc(out, '\n');
	str_append(out, body->s, body->len);
}

static const char *original_description(const struct dsn_report *d)
{
	if (!any_action(d, KIND_FAILED) && !any_action(d, KIND_DELAYED))
		return d->original_whole ? "Message" : "Message Headers";
	return d->original_whole ? "Undelivered Message" :
				   "Undelivered Message Headers";
}

int dsn_build(const struct dsn_report *d, struct str *out, int *eightbit_r,
	      const char **error_r)
{
	struct str text = STR_INIT(0), status = STR_INIT(0),
		   orig = STR_INIT(0), boundary = STR_INIT(0),
		   uniq = STR_INIT(0);
	struct str *const parts[3] = { &text, &status, &orig };
	int eightbit;

	*eightbit_r = 0;
	if (!dsn_wanted(d->sender)) {
		*error_r = "no DSN for the null sender";
		return -1;
	}
	if (d->nrcpts == 0 || d->hostname == NULL || d->hostname[0] == '\0' ||
	    d->queue_id == NULL || d->unique == NULL) {
		*error_r = "no recipient, hostname, queue id or unique name";
		return -1;
	}
	part_text(d, &text);
	part_status(d, &status);
	if (d->original != NULL && d->original_len > 0)
		part_original(d, &orig);
	unique_clean(&uniq, d->unique);
	if (boundary_pick(&boundary, d->unique, parts, 3) < 0) {
		*error_r = "no boundary found that the parts do not contain";
		str_free(&text);
		str_free(&status);
		str_free(&orig);
		str_free(&boundary);
		str_free(&uniq);
		return -1;
	}
	eightbit = has_8bit(&text) || has_8bit(&status) || has_8bit(&orig);
	head(d, out, &uniq, &boundary, eightbit);
	part_emit(out, &boundary, "Notification", has_8bit(&text) ?
		  "text/plain; charset=utf-8" : "text/plain; charset=us-ascii",
		  &text);
	part_emit(out, &boundary, "Delivery report",
		  "message/delivery-status", &status);
	if (orig.len > 0)
		part_emit(out, &boundary, original_description(d),
			  d->original_whole ? "message/rfc822" :
			  "text/rfc822-headers", &orig);
	str_appendf(out, "\n--%s--\n", str_c(&boundary));
	*eightbit_r = eightbit;
	str_free(&text);
	str_free(&status);
	str_free(&orig);
	str_free(&boundary);
	str_free(&uniq);
	return 0;
}
