/*
 * delivery_proto - request and reply lines between the queue manager and
 * a delivery agent (the grammar is in delivery_proto.h)
 */
#include "proto/delivery_proto.h"

#include <stdlib.h>
#include <string.h>

#define REQ_FIELDS 7

/* No byte below 0x20, no DEL; at most max bytes; empty only if allowed. */
static int text_ok(const char *s, size_t len, size_t max, int allow_empty)
{
	if (len > max || (len == 0 && !allow_empty))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int delivery_component_ok(const char *s, size_t len)
{
	if (!text_ok(s, len, DELIVERY_COMPONENT_MAX, 0))
		return 0;
	if (memchr(s, '/', len) != NULL)
		return 0;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	return 1;
}

/* A plain decimal: digits only, no leading zero but "0", below 2^63. */
static int parse_u63(const char *s, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;

	if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*v_r = v;
	return 0;
}

static int copy_field(char *dst, size_t dstsize, const char *s, size_t len)
{
	if (len >= dstsize)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int mailbox_set(struct delivery_req *req, const char *s, size_t len,
		       const char **error_r)
{
	const char *slash = memchr(s, '/', len);
	size_t dlen, ulen;

	if (slash == NULL) {
		*error_r = "mailbox is not domain/user";
		return -1;
	}
	dlen = (size_t)(slash - s);
	ulen = len - dlen - 1;
	if (!delivery_component_ok(s, dlen) ||
	    !delivery_component_ok(slash + 1, ulen)) {
		*error_r = "mailbox component is not a safe file name";
		return -1;
	}
	copy_field(req->domain, sizeof(req->domain), s, dlen);
	copy_field(req->user, sizeof(req->user), slash + 1, ulen);
	return 0;
}

int delivery_mailbox_set(struct delivery_req *req, const char *mailbox,
			 const char **error_r)
{
	return mailbox_set(req, mailbox, strlen(mailbox), error_r);
}

static int req_check(const struct delivery_req *req, const char **error_r)
{
	size_t slen = strnlen(req->sender, sizeof(req->sender));
	size_t rlen = strnlen(req->rcpt, sizeof(req->rcpt));

	if (!queue_id_valid(req->id))
		*error_r = "bad queue id";
	else if (!text_ok(req->sender, slen, QUEUE_TEXT_MAX, 1))
		*error_r = "bad sender";
	else if (!text_ok(req->rcpt, rlen, QUEUE_TEXT_MAX, 0))
		*error_r = "bad recipient";
	else if (!delivery_component_ok(req->domain, strnlen(req->domain,
			sizeof(req->domain))) ||
		 !delivery_component_ok(req->user, strnlen(req->user,
			sizeof(req->user))))
		*error_r = "mailbox component is not a safe file name";
	else if (req->offset > (uint64_t)INT64_MAX ||
		 req->size > (uint64_t)INT64_MAX - req->offset)
		*error_r = "offset and size out of range";
	else
		return 0;
	return -1;
}

int delivery_req_format(const struct delivery_req *req, struct str *out,
			const char **error_r)
{
	if (req_check(req, error_r) < 0)
		return -1;
	if (str_appendf(out, "DELIVER\t%s\t%s\t%s\t%s/%s\t%llu\t%llu\n",
			req->id, req->sender, req->rcpt, req->domain,
			req->user, (unsigned long long)req->offset,
			(unsigned long long)req->size) < 0) {
		*error_r = "request too long";
		return -1;
	}
	return 0;
}

/* Cut line into exactly n TAB-separated fields. */
static int split_fields(const char *line, size_t len, const char **f,
			size_t *flen, size_t n)
{
	size_t i = 0, start = 0;

	for (size_t pos = 0; pos <= len; pos++) {
		if (pos < len && line[pos] != '\t')
			continue;
		if (i == n)
			return -1;
		f[i] = line + start;
		flen[i++] = pos - start;
		start = pos + 1;
	}
	return i == n ? 0 : -1;
}

static int req_fields(const char **f, const size_t *fl,
		      struct delivery_req *req, const char **error_r)
{
	if (fl[0] != 7 || memcmp(f[0], "DELIVER", 7) != 0)
		*error_r = "not a DELIVER request";
	else if (!text_ok(f[1], fl[1], QUEUE_ID_MAX, 0) ||
		 copy_field(req->id, sizeof(req->id), f[1], fl[1]) < 0 ||
		 !queue_id_valid(req->id))
		*error_r = "bad queue id";
	else if (!text_ok(f[2], fl[2], QUEUE_TEXT_MAX, 1))
		*error_r = "bad sender";
	else if (!text_ok(f[3], fl[3], QUEUE_TEXT_MAX, 0))
		*error_r = "bad recipient";
	else if (mailbox_set(req, f[4], fl[4], error_r) < 0)
		return -1;
	else if (parse_u63(f[5], fl[5], &req->offset) < 0 ||
		 parse_u63(f[6], fl[6], &req->size) < 0 ||
		 req->size > (uint64_t)INT64_MAX - req->offset)
		*error_r = "bad offset or size";
	else {
		copy_field(req->sender, sizeof(req->sender), f[2], fl[2]);
		copy_field(req->rcpt, sizeof(req->rcpt), f[3], fl[3]);
		return 0;
	}
	return -1;
}

int delivery_req_parse(const char *line, size_t len, struct delivery_req *req,
		       const char **error_r)
{
	const char *f[REQ_FIELDS];
	size_t fl[REQ_FIELDS];

	memset(req, 0, sizeof(*req));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len >= DELIVERY_LINE_MAX) {
		*error_r = "request too long";
		return -1;
	}
	if (split_fields(line, len, f, fl, REQ_FIELDS) < 0) {
		*error_r = "wrong number of fields";
		return -1;
	}
	return req_fields(f, fl, req, error_r);
}

/* "C.S.D" (RFC 3463: class, 1-3 digit subject, 1-3 digit detail), then
 * nothing or a space and text; the class must be cls. */
static int reason_ok(const char *s, size_t len, char cls)
{
	size_t i = 2, digits;

	if (!text_ok(s, len, DELIVERY_REASON_MAX, 0) || len < 5 ||
	    s[0] != cls || s[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0 && (i >= len || s[i++] != '.'))
			return 0;
	}
	return i == len || s[i] == ' ';
}

void delivery_reply_format(enum delivery_status status, const char *reason,
			   struct str *out)
{
	char cls = status == DELIVERY_PERM ? '5' : '4';

	if (status == DELIVERY_OK) {
		str_appends(out, "OK\n");
		return;
	}
	if (reason == NULL || !reason_ok(reason, strlen(reason), cls))
		reason = cls == '5' ? "5.3.0 delivery failed"
				    : "4.3.0 delivery failed";
	str_appendf(out, "%s\t%s\n", cls == '5' ? "PERM" : "TEMP", reason);
}

int delivery_reply_parse(const char *line, size_t len,
			 enum delivery_status *status_r, struct str *reason_r,
			 const char **error_r)
{
	char cls;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	str_clear(reason_r);
	if (len == 2 && memcmp(line, "OK", 2) == 0) {
		*status_r = DELIVERY_OK;
		return 0;
	}
	if (len > 5 && memcmp(line, "TEMP\t", 5) == 0) {
		*status_r = DELIVERY_TEMP;
		cls = '4';
	} else if (len > 5 && memcmp(line, "PERM\t", 5) == 0) {
		*status_r = DELIVERY_PERM;
		cls = '5';
	} else {
		*error_r = "not a reply";
		return -1;
	}
	if (!reason_ok(line + 5, len - 5, cls)) {
		*error_r = "bad status code or reason";
		return -1;
	}
	str_set(reason_r, line + 5, len - 5);
	return 0;
}

/* ---- the remote sender's requests ------------------------------------- */

#define SEND_FIELDS 9
#define RCPT_FIELDS 4

void delivery_send_init(struct delivery_send *req)
{
	memset(req, 0, sizeof(*req));
}

void delivery_send_free(struct delivery_send *req)
{
	for (size_t i = 0; i < req->nrcpt; i++) {
		free(req->rcpts[i]);
		free(req->orcpts[i]);
	}
	memset(req, 0, sizeof(*req));
}

static char *copy_text(const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy != NULL) {
		memcpy(copy, s, len);
		copy[len] = '\0';
	}
	return copy;
}

/* Take a recipient whose fields are checked; -1 out of memory. */
static int send_take(struct delivery_send *req, const char *rcpt,
		     size_t rlen, unsigned notify, const char *orcpt,
		     size_t olen)
{
	char *a = copy_text(rcpt, rlen);
	char *o = olen > 0 ? copy_text(orcpt, olen) : NULL;

	if (a == NULL || (olen > 0 && o == NULL)) {
		free(a);
		free(o);
		return -1;
	}
	req->rcpts[req->nrcpt] = a;
	req->orcpts[req->nrcpt] = o;
	req->notify[req->nrcpt++] = notify;
	return 0;
}

int delivery_send_add(struct delivery_send *req, const char *rcpt,
		      unsigned notify, const char *orcpt)
{
	size_t len = strlen(rcpt), olen = orcpt != NULL ? strlen(orcpt) : 0;

	if (req->nrcpt >= DELIVERY_RCPT_MAX ||
	    !text_ok(rcpt, len, QUEUE_TEXT_MAX, 0) ||
	    !text_ok(orcpt, olen, QUEUE_TEXT_MAX, 1) ||
	    (notify != 0 && !queue_notify_ok(notify)))
		return -1;
	return send_take(req, rcpt, len, notify, orcpt, olen);
}

static int send_check(const struct delivery_send *req, const char **error_r)
{
	if (!queue_id_valid(req->id))
		*error_r = "bad queue id";
	else if (!text_ok(req->sender, strnlen(req->sender,
			  sizeof(req->sender)), QUEUE_TEXT_MAX, 1))
		*error_r = "bad sender";
	else if (!text_ok(req->nexthop, strnlen(req->nexthop,
			  sizeof(req->nexthop)), DELIVERY_NEXTHOP_MAX, 0))
		*error_r = "bad next hop";
	else if (req->nrcpt == 0 || req->nrcpt > DELIVERY_RCPT_MAX)
		*error_r = "bad recipient count";
	else if (!queue_flags_ok(req->flags))
		*error_r = "bad flags";
	else if (req->envid[0] != '\0' &&
		 !queue_envid_ok(req->envid, strlen(req->envid)))
		*error_r = "bad envelope id";
	else if (req->offset > (uint64_t)INT64_MAX ||
		 req->size > (uint64_t)INT64_MAX - req->offset)
		*error_r = "offset and size out of range";
	else
		return 0;
	return -1;
}

int delivery_send_format(const struct delivery_send *req, struct str *out,
			 const char **error_r)
{
	if (send_check(req, error_r) < 0)
		return -1;
	if (str_appendf(out, "SEND\t%s\t%s\t%s\t%lu\t%llu\t%llu\t%zu\t%s\n",
			req->id, req->sender, req->nexthop,
			(unsigned long)req->flags,
			(unsigned long long)req->offset,
			(unsigned long long)req->size, req->nrcpt,
			req->envid) < 0) {
		*error_r = "request too long";
		return -1;
	}
	for (size_t i = 0; i < req->nrcpt; i++) {
		const char *o = req->orcpts[i] != NULL ? req->orcpts[i] : "";

		if (!text_ok(req->rcpts[i], strlen(req->rcpts[i]),
			     QUEUE_TEXT_MAX, 0) ||
		    !text_ok(o, strlen(o), QUEUE_TEXT_MAX, 1) ||
		    (req->notify[i] != 0 && !queue_notify_ok(req->notify[i])) ||
		    str_appendf(out, "RCPT\t%s\t%u\t%s\n", req->rcpts[i],
				req->notify[i], o) < 0) {
			*error_r = "bad recipient";
			return -1;
		}
	}
	return 0;
}

static int send_header(const char **f, const size_t *fl,
		       struct delivery_send *req, uint64_t *count_r,
		       const char **error_r)
{
	uint64_t flags;

	if (fl[0] != 4 || memcmp(f[0], "SEND", 4) != 0)
		*error_r = "not a SEND request";
	else if (!text_ok(f[1], fl[1], QUEUE_ID_MAX, 0) ||
		 copy_field(req->id, sizeof(req->id), f[1], fl[1]) < 0 ||
		 !queue_id_valid(req->id))
		*error_r = "bad queue id";
	else if (!text_ok(f[2], fl[2], QUEUE_TEXT_MAX, 1))
		*error_r = "bad sender";
	else if (!text_ok(f[3], fl[3], DELIVERY_NEXTHOP_MAX, 0))
		*error_r = "bad next hop";
	else if (parse_u63(f[4], fl[4], &flags) < 0 || flags > UINT32_MAX ||
		 !queue_flags_ok((uint32_t)flags))
		*error_r = "bad flags";
	else if (fl[8] > 0 && !queue_envid_ok(f[8], fl[8]))
		*error_r = "bad envelope id";
	else if (parse_u63(f[5], fl[5], &req->offset) < 0 ||
		 parse_u63(f[6], fl[6], &req->size) < 0 ||
		 req->size > (uint64_t)INT64_MAX - req->offset)
		*error_r = "bad offset or size";
	else if (parse_u63(f[7], fl[7], count_r) < 0 || *count_r == 0 ||
		 *count_r > DELIVERY_RCPT_MAX)
		*error_r = "bad recipient count";
	else {
		req->flags = (uint32_t)flags;
		copy_field(req->sender, sizeof(req->sender), f[2], fl[2]);
		copy_field(req->nexthop, sizeof(req->nexthop), f[3], fl[3]);
		copy_field(req->envid, sizeof(req->envid), f[8], fl[8]);
		return 0;
	}
	return -1;
}

/* RCPT ADDRESS NOTIFY ORCPT */
static int send_rcpt_line(const char *line, size_t len,
			  struct delivery_send *req, const char **error_r)
{
	const char *f[RCPT_FIELDS];
	size_t fl[RCPT_FIELDS];
	uint64_t notify;

	if (split_fields(line, len, f, fl, RCPT_FIELDS) < 0 || fl[0] != 4 ||
	    memcmp(f[0], "RCPT", 4) != 0 ||
	    !text_ok(f[1], fl[1], QUEUE_TEXT_MAX, 0) ||
	    !text_ok(f[3], fl[3], QUEUE_TEXT_MAX, 1) ||
	    parse_u63(f[2], fl[2], &notify) < 0 ||
	    (notify != 0 && (notify > 0xff || !queue_notify_ok(
		(unsigned)notify)))) {
		*error_r = "bad RCPT line";
		return -1;
	}
	if (send_take(req, f[1], fl[1], (unsigned)notify, f[3], fl[3]) < 0) {
		*error_r = "out of memory";
		return -1;
	}
	return 0;
}

int delivery_send_parse(const char *buf, size_t len,
			struct delivery_send *req, size_t *used_r,
			const char **error_r)
{
	const char *f[SEND_FIELDS], *nl = memchr(buf, '\n', len);
	size_t fl[SEND_FIELDS], pos;
	uint64_t count = 0;

	delivery_send_free(req);
	if (nl == NULL) {
		*error_r = "request line too long";
		return len >= DELIVERY_LINE_MAX ? -1 : 0;
	}
	if (split_fields(buf, (size_t)(nl - buf), f, fl, SEND_FIELDS) < 0) {
		*error_r = "wrong number of fields";
		return -1;
	}
	if (send_header(f, fl, req, &count, error_r) < 0)
		return -1;
	pos = (size_t)(nl - buf) + 1;
	while (req->nrcpt < count) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			*error_r = "RCPT line too long";
			if (len - pos > DELIVERY_RCPT_LINE_MAX)
				goto bad;
			delivery_send_free(req);
			return 0;
		}
		if (send_rcpt_line(buf + pos, (size_t)(nl - buf) - pos, req,
				   error_r) < 0)
			goto bad;
		pos = (size_t)(nl - buf) + 1;
	}
	*used_r = pos;
	return 1;
bad:
	delivery_send_free(req);
	return -1;
}

static char status_class(enum delivery_status st)
{
	return st == DELIVERY_OK ? '2' : st == DELIVERY_PERM ? '5' : '4';
}

static const char *status_word(enum delivery_status st)
{
	return st == DELIVERY_OK ? "OK" : st == DELIVERY_PERM ? "PERM"
							      : "TEMP";
}

static int relay_ok(const char *s, size_t len)
{
	return text_ok(s, len, DELIVERY_NEXTHOP_MAX, 0) &&
	       memchr(s, '\t', len) == NULL;
}

void delivery_rreply_format(enum delivery_status status, const char *relay,
			    int dsn, const char *reason, struct str *out)
{
	char cls = status_class(status);

	if (relay == NULL || !relay_ok(relay, strlen(relay)))
		relay = "none";
	if (reason == NULL || !reason_ok(reason, strlen(reason), cls))
		reason = cls == '2' ? "2.0.0 sent" : cls == '5' ?
			 "5.3.0 delivery failed" : "4.3.0 delivery failed";
	str_appendf(out, "%s\t%s\t%s\t%s\n", status_word(status), relay,
		    dsn ? "DSN" : "-", reason);
}

int delivery_rreply_parse(const char *line, size_t len,
			  enum delivery_status *status_r, struct str *relay_r,
			  int *dsn_r, struct str *reason_r,
			  const char **error_r)
{
	static const enum delivery_status all[] = { DELIVERY_OK, DELIVERY_TEMP,
						    DELIVERY_PERM };
	const char *f[4];
	size_t fl[4];
	int dsn;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (split_fields(line, len, f, fl, 4) < 0) {
		*error_r = "not a recipient reply";
		return -1;
	}
	for (size_t i = 0; i < 3; i++) {
		const char *w = status_word(all[i]);

		if (fl[0] != strlen(w) || memcmp(f[0], w, fl[0]) != 0)
			continue;
		dsn = fl[2] == 3 && memcmp(f[2], "DSN", 3) == 0;
		if (!relay_ok(f[1], fl[1]) ||
		    (!dsn && (fl[2] != 1 || f[2][0] != '-')) ||
		    !reason_ok(f[3], fl[3], status_class(all[i]))) {
			*error_r = "bad relay, DSN or reason";
			return -1;
		}
		*status_r = all[i];
		*dsn_r = dsn;
		str_set(relay_r, f[1], fl[1]);
		str_set(reason_r, f[3], fl[3]);
		return 0;
	}
	*error_r = "not a recipient reply";
	return -1;
}

void delivery_rdone_format(int up, struct str *out)
{
	str_appends(out, up ? "DONE\tUP\n" : "DONE\tDOWN\n");
}

int delivery_rdone_parse(const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len == 7 && memcmp(line, "DONE\tUP", 7) == 0)
		return 1;
	if (len == 9 && memcmp(line, "DONE\tDOWN", 9) == 0)
		return 0;
	return -1;
}
