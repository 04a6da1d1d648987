/*
 * inject_proto - the injection protocol of inject.h, parsed and formatted
 *
 * See inject_proto.h for the events and the list of what is refused. The
 * parser is a small state machine over a byte stream: lines are gathered
 * (capped at INJECT_LINE_MAX) while the envelope and the chunk lengths are
 * read; chunk contents are passed through without a copy, and recipients
 * are handed back one by one (INJECT_EV_RCPT), never collected: the
 * parser's memory does not grow with their number.
 */
#include "proto/inject_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/queue_id.h"
#include "util/alloc.h"

/* bits of inject_proto.seen, one per keyword that may come once */
#define SEEN_CLIENT 0x1u
#define SEEN_HELO   0x2u
#define SEEN_AUTH   0x4u
#define SEEN_PROTO  0x8u
#define SEEN_FLAGS  0x10u
#define SEEN_ENVID  0x20u

static enum inject_event proto_fail(struct inject_proto *p,
				    const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum inject_event proto_fail(struct inject_proto *p,
				    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(p->error, sizeof(p->error), fmt, ap) < 0)
		p->error[0] = '\0';
	va_end(ap);
	p->state = INJECT_PS_DONE;
	return INJECT_EV_ERROR;
}

void inject_proto_init(struct inject_proto *p, int local,
		       uint64_t size_limit, size_t rcpt_limit)
{
	memset(p, 0, sizeof(*p));
	p->local = local;
	p->size_limit = size_limit == 0 || size_limit > QUEUE_MESSAGE_MAX ?
			QUEUE_MESSAGE_MAX : size_limit;
	p->rcpt_limit = rcpt_limit == 0 || rcpt_limit > QUEUE_RCPT_MAX ?
			QUEUE_RCPT_MAX : rcpt_limit;
	str_init(&p->line, INJECT_LINE_MAX);
	queue_env_init(&p->env);
}

static void proto_rcpt_clear(struct inject_proto *p)
{
	free(p->rcpt_addr);
	free(p->rcpt_orig);
	p->rcpt_addr = p->rcpt_orig = NULL;
}

void inject_proto_free(struct inject_proto *p)
{
	str_free(&p->line);
	queue_env_free(&p->env);
	proto_rcpt_clear(p);
	free(p->orcpt);
	p->orcpt = NULL;
}

static int has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 1;
	}
	return 0;
}

int inject_proto_field_ok(const char *s, int allow_empty)
{
	size_t n = strnlen(s, QUEUE_TEXT_MAX + 1);

	return n <= QUEUE_TEXT_MAX && (n > 0 || allow_empty) &&
	       !has_control(s, n);
}

/* ---- envelope lines ------------------------------------------------- */

/* An optional keyword given at most once, whose value replaces *slot
 * (unless this is a local submission and ignore is set). */
static enum inject_event proto_once(struct inject_proto *p, unsigned bit,
				    const char *name, const char *value,
				    char **slot, int ignore)
{
	if (p->nrcpts > 0)
		return proto_fail(p, "%s after the recipients", name);
	if (p->seen & bit)
		return proto_fail(p, "%s given twice", name);
	p->seen |= bit;
	if (*value == '\0')
		return proto_fail(p, "empty %s", name);
	if (!ignore)
		*slot = xstrdup(value);
	return INJECT_EV_MORE;
}

static enum inject_event proto_flags(struct inject_proto *p,
				     const char *value)
{
	unsigned long v = 0;
	size_t i;

	if (p->nrcpts > 0)
		return proto_fail(p, "FLAGS after the recipients");
	if (p->seen & SEEN_FLAGS)
		return proto_fail(p, "FLAGS given twice");
	p->seen |= SEEN_FLAGS;
	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] < '0' || value[i] > '9' || i >= 10)
			return proto_fail(p, "FLAGS: not a small decimal "
					  "number");
		v = v * 10 + (unsigned long)(value[i] - '0');
	}
	if (i == 0 || v > UINT32_MAX || !queue_flags_ok((uint32_t)v))
		return proto_fail(p, "FLAGS: unknown flags, or both RET "
				  "flags");
	p->env.flags = (uint32_t)v;
	return INJECT_EV_MORE;
}

/* The first recipient closes the head: a local submission's protocol is
 * set here, so that the head is final when the queue file is begun. */
static enum inject_event proto_rcpt(struct inject_proto *p,
				    const char *value)
{
	if (*value == '\0')
		return proto_fail(p, "empty RCPT");
	if (p->nrcpts >= p->rcpt_limit)
		return proto_fail(p, "too many recipients (limit %zu)",
				  p->rcpt_limit);
	if (p->nrcpts == 0 && p->local) {
		free(p->env.protocol);
		p->env.protocol = xstrdup("local");
	}
	proto_rcpt_clear(p);
	p->rcpt_addr = xstrdup(value);
	p->rcpt_orig = p->orcpt;
	p->rcpt_notify = p->notify;
	p->orcpt = NULL;
	p->notify = 0;
	p->nrcpts++;
	return INJECT_EV_RCPT;
}

static enum inject_event proto_orcpt(struct inject_proto *p,
				     const char *value)
{
	if (*value == '\0')
		return proto_fail(p, "empty ORCPT");
	if (p->orcpt != NULL)
		return proto_fail(p, "ORCPT not followed by its RCPT");
	p->orcpt = xstrdup(value);
	return INJECT_EV_MORE;
}

/* NOTIFY n: the DSN NOTIFY of the next RCPT, a queue_notify_ok value. */
static enum inject_event proto_notify(struct inject_proto *p,
				      const char *value)
{
	unsigned v = 0;
	size_t i;

	if (p->notify != 0)
		return proto_fail(p, "NOTIFY not followed by its RCPT");
	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] < '0' || value[i] > '9' || i >= 3)
			return proto_fail(p, "NOTIFY: not a small decimal "
					  "number");
		v = v * 10 + (unsigned)(value[i] - '0');
	}
	if (!queue_notify_ok(v))
		return proto_fail(p, "NOTIFY: not NEVER alone or a set of "
				  "SUCCESS, FAILURE, DELAY");
	p->notify = v;
	return INJECT_EV_MORE;
}

static enum inject_event proto_envid(struct inject_proto *p,
				     const char *value)
{
	char *envid = NULL;
	enum inject_event ev;

	if (!queue_envid_ok(value, strlen(value)))
		return proto_fail(p, "ENVID: not 1 to %d bytes of printable "
				  "ASCII", QUEUE_ENVID_MAX);
	ev = proto_once(p, SEEN_ENVID, "ENVID", value, &envid, 0);
	if (ev == INJECT_EV_MORE)
		p->env.envid = envid;
	return ev;
}

static enum inject_event proto_data(struct inject_proto *p)
{
	if (p->nrcpts == 0)
		return proto_fail(p, "DATA without RCPT");
	proto_rcpt_clear(p);
	p->state = INJECT_PS_CHUNK_LEN;
	return INJECT_EV_ENVELOPE;
}

static enum inject_event proto_keyword(struct inject_proto *p,
				       const char *kw, const char *value)
{
	int qualifier = strcmp(kw, "ORCPT") == 0 || strcmp(kw, "NOTIFY") == 0;

	if ((p->orcpt != NULL || p->notify != 0) &&
	    strcmp(kw, "RCPT") != 0 && !qualifier)
		return proto_fail(p, "%s not followed by its RCPT",
				  p->orcpt != NULL ? "ORCPT" : "NOTIFY");
	if (strcmp(kw, "RCPT") == 0)
		return proto_rcpt(p, value);
	if (strcmp(kw, "ORCPT") == 0)
		return proto_orcpt(p, value);
	if (strcmp(kw, "NOTIFY") == 0)
		return proto_notify(p, value);
	if (strcmp(kw, "ENVID") == 0)
		return proto_envid(p, value);
	if (strcmp(kw, "CLIENT") == 0)
		return proto_once(p, SEEN_CLIENT, kw, value,
				  &p->env.client_addr, p->local);
	if (strcmp(kw, "HELO") == 0)
		return proto_once(p, SEEN_HELO, kw, value, &p->env.helo,
				  p->local);
	if (strcmp(kw, "AUTH") == 0)
		return proto_once(p, SEEN_AUTH, kw, value, &p->env.auth_user,
				  p->local);
	if (strcmp(kw, "PROTO") == 0)
		return proto_once(p, SEEN_PROTO, kw, value, &p->env.protocol,
				  p->local);
	if (strcmp(kw, "FLAGS") == 0)
		return proto_flags(p, value);
	if (strcmp(kw, "SENDER") == 0)
		return proto_fail(p, "SENDER given twice");
	return proto_fail(p, "unknown request");
}

/* One complete envelope line, without its LF, NUL-terminated. */
static enum inject_event proto_line(struct inject_proto *p, char *line,
				    size_t len)
{
	char *tab = memchr(line, '\t', len);
	const char *value;

	if (tab == NULL) {
		if (has_control(line, len))
			return proto_fail(p, "control character in request");
		if (p->state == INJECT_PS_ENVELOPE &&
		    strcmp(line, "DATA") == 0)
			return p->orcpt != NULL || p->notify != 0 ?
				proto_fail(p, "%s not followed by its RCPT",
					   p->orcpt != NULL ? "ORCPT" :
					   "NOTIFY") : proto_data(p);
		return proto_fail(p, p->state == INJECT_PS_FIRST ?
				  "SENDER must come first" :
				  "unknown request or missing TAB");
	}
	*tab = '\0';
	value = tab + 1;
	if (has_control(line, (size_t)(tab - line)) ||
	    has_control(value, len - (size_t)(value - line)))
		return proto_fail(p, "control character in request");
	if (strlen(value) > QUEUE_TEXT_MAX)
		return proto_fail(p, "%s: longer than %d bytes", line,
				  QUEUE_TEXT_MAX);
	if (p->state == INJECT_PS_FIRST) {
		if (strcmp(line, "SENDER") != 0)
			return proto_fail(p, "SENDER must come first");
		p->env.sender = xstrdup(value);
		p->state = INJECT_PS_ENVELOPE;
		return INJECT_EV_MORE;
	}
	return proto_keyword(p, line, value);
}

/* ---- chunks --------------------------------------------------------- */

static enum inject_event proto_chunk_len(struct inject_proto *p,
					 const char *line, size_t len)
{
	size_t v = 0;

	if (len == 1 && line[0] == '0') {
		p->state = INJECT_PS_DONE;
		return INJECT_EV_END;
	}
	if (len == 0 || len > 6 || line[0] < '1' || line[0] > '9')
		return proto_fail(p, "bad chunk length");
	for (size_t i = 0; i < len; i++) {
		if (line[i] < '0' || line[i] > '9')
			return proto_fail(p, "bad chunk length");
		v = v * 10 + (size_t)(line[i] - '0');
	}
	if (v > INJECT_CHUNK_MAX)
		return proto_fail(p, "chunk longer than %d bytes",
				  INJECT_CHUNK_MAX);
	if (v > p->size_limit - p->size)
		return proto_fail(p, "message too big (limit %llu bytes)",
				  (unsigned long long)p->size_limit);
	p->size += v;
	p->chunk_left = v;
	p->state = INJECT_PS_CHUNK;
	return INJECT_EV_MORE;
}

/* Gather bytes up to a LF; 1 when a whole line is in p->line. */
static int proto_gather(struct inject_proto *p, const char *buf, size_t n,
			size_t *used_r, int *toolong_r)
{
	const char *lf = memchr(buf, '\n', n);
	size_t take = lf != NULL ? (size_t)(lf - buf) : n;

	*used_r = lf != NULL ? take + 1 : n;
	*toolong_r = str_append(&p->line, buf, take) < 0;
	return lf != NULL;
}

static enum inject_event proto_line_event(struct inject_proto *p)
{
	char *line = p->line.s != NULL ? p->line.s : (char *)"";
	size_t len = p->line.len;
	enum inject_event ev;

	if (p->state == INJECT_PS_CHUNK_LEN)
		ev = proto_chunk_len(p, line, len);
	else if (memchr(line, '\0', len) != NULL)
		ev = proto_fail(p, "control character in request");
	else
		ev = proto_line(p, line, len);
	str_clear(&p->line);
	return ev;
}

enum inject_event inject_proto_next(struct inject_proto *p, const char *buf,
				    size_t n, size_t *used_r,
				    const char **data_r, size_t *len_r)
{
	size_t used = 0, k;
	int complete, toolong;
	enum inject_event ev;

	*data_r = NULL;
	*len_r = 0;
	*used_r = 0;
	if (p->state == INJECT_PS_DONE) {
		if (p->error[0] == '\0')
			return proto_fail(p, "data after the end of the "
					  "message");
		return INJECT_EV_ERROR;
	}
	while (used < n) {
		if (p->state == INJECT_PS_CHUNK) {
			k = n - used < p->chunk_left ? n - used : p->chunk_left;
			*data_r = buf + used;
			*len_r = k;
			*used_r = used + k;
			p->chunk_left -= k;
			if (p->chunk_left == 0)
				p->state = INJECT_PS_CHUNK_LEN;
			return INJECT_EV_BODY;
		}
		complete = proto_gather(p, buf + used, n - used, &k, &toolong);
		used += k;
		*used_r = used;
		if (toolong)
			return proto_fail(p, "line longer than %d bytes",
					  INJECT_LINE_MAX);
		if (!complete)
			break;
		ev = proto_line_event(p);
		if (ev != INJECT_EV_MORE)
			return ev;
	}
	return INJECT_EV_MORE;
}

/* ---- the client's side ---------------------------------------------- */

static int proto_put(struct str *out, const char *kw, const char *value,
		     int allow_empty, const char **error_r,
		     const char *error)
{
	if (!inject_proto_field_ok(value, allow_empty)) {
		*error_r = error;
		return -1;
	}
	if (str_appendf(out, "%s\t%s\n", kw, value) < 0) {
		*error_r = "request too long";
		return -1;
	}
	return 0;
}

/* An optional field: NULL and "" are left out. */
static int proto_put_opt(struct str *out, const char *kw, const char *value,
			 const char **error_r, const char *error)
{
	if (value == NULL || *value == '\0')
		return 0;
	return proto_put(out, kw, value, 0, error_r, error);
}

static int proto_put_rcpts(const struct inject_env *env, struct str *out,
			   const char **error_r)
{
	if (env->nrcpts == 0 || env->nrcpts > QUEUE_RCPT_MAX) {
		*error_r = "no recipient, or too many";
		return -1;
	}
	for (size_t i = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i] == NULL) {
			*error_r = "bad recipient address";
			return -1;
		}
		if (env->orcpts != NULL &&
		    proto_put_opt(out, "ORCPT", env->orcpts[i], error_r,
				  "bad original recipient address") < 0)
			return -1;
		if (env->notify != NULL && env->notify[i] != 0 &&
		    (!queue_notify_ok(env->notify[i]) ||
		     str_appendf(out, "NOTIFY\t%u\n", env->notify[i]) < 0)) {
			*error_r = "bad NOTIFY";
			return -1;
		}
		if (proto_put(out, "RCPT", env->rcpts[i], 0, error_r,
			      "bad recipient address") < 0)
			return -1;
	}
	return 0;
}

int inject_proto_envelope(const struct inject_env *env, struct str *out,
			  const char **error_r)
{
	if (env->sender == NULL) {
		*error_r = "bad sender address";
		return -1;
	}
	if (proto_put(out, "SENDER", env->sender, 1, error_r,
		      "bad sender address") < 0)
		return -1;
	if (proto_put_opt(out, "CLIENT", env->client_ip, error_r,
			  "bad client address") < 0 ||
	    proto_put_opt(out, "HELO", env->helo, error_r,
			  "bad HELO name") < 0 ||
	    proto_put_opt(out, "AUTH", env->auth_user, error_r,
			  "bad login name") < 0 ||
	    proto_put_opt(out, "PROTO", env->protocol, error_r,
			  "bad protocol name") < 0)
		return -1;
	if (!queue_flags_ok(env->flags)) {
		*error_r = "unknown flags, or both RET flags";
		return -1;
	}
	if (env->flags != 0 &&
	    str_appendf(out, "FLAGS\t%u\n", env->flags) < 0) {
		*error_r = "request too long";
		return -1;
	}
	if (env->envid != NULL &&
	    (!queue_envid_ok(env->envid, strlen(env->envid)) ||
	     str_appendf(out, "ENVID\t%s\n", env->envid) < 0)) {
		*error_r = "bad ENVID";
		return -1;
	}
	if (proto_put_rcpts(env, out, error_r) < 0)
		return -1;
	if (str_appends(out, "DATA\n") < 0) {
		*error_r = "request too long";
		return -1;
	}
	return 0;
}

int inject_proto_answer(const char *line, size_t len, struct str *text_r)
{
	static const struct { const char *word; int status; } words[] = {
		{ "OK", INJECT_OK },
		{ "TEMP", INJECT_TEMP },
		{ "PERM", INJECT_PERM },
	};
	const char *tab = memchr(line, '\t', len);
	size_t wl, tl;

	if (tab == NULL)
		return -1;
	wl = (size_t)(tab - line);
	tl = len - wl - 1;
	if (has_control(tab + 1, tl))
		return -1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (wl != strlen(words[i].word) ||
		    memcmp(line, words[i].word, wl) != 0)
			continue;
		str_clear(text_r);
		if (str_append(text_r, tab + 1, tl) < 0)
			return -1;
		if (words[i].status == INJECT_OK &&
		    !queue_id_valid(str_c(text_r)))
			return -1;
		return words[i].status;
	}
	return -1;
}
