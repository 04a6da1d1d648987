/*
 * mail_address - address lists (see mail_address.h)
 *
 * The parser functions return what Dovecot's RFC 822 tokenizer returns,
 * so that the envelope matches its output: 1 more input follows, 0 the
 * input ended, -1 a syntax error.
 */
#include "mail/mail_address.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/str.h"

struct rp {
	const char *p, *end;
	struct str comment;	/* the last comment's text */
	struct str tmp;
	struct mail_address cur;
	struct mail_address_list *l;
};

static int is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if (c <= ' ' || c == 0x7f)
		return 0;
	return strchr("()<>[]:;@\\,.\"", c) == NULL;
}

static int skip_comment(struct rp *r)
{
	int depth = 0;

	str_clear(&r->comment);
	for (; r->p < r->end; r->p++) {
		char c = *r->p;

		if (c == '(') {
			if (depth++ > 0)
				str_appendc(&r->comment, c);
		} else if (c == ')') {
			if (--depth == 0) {
				r->p++;
				return 1;
			}
			str_appendc(&r->comment, c);
		} else if (c == '\\' && r->p + 1 < r->end) {
			r->p++;
			str_appendc(&r->comment, *r->p);
		} else if (c != '\r' && c != '\n')
			str_appendc(&r->comment, c);
	}
	return -1;	/* unterminated */
}

/* Skip blanks, line ends and comments: 1 data follow, 0 end, -1 bad. */
static int skip_cfws(struct rp *r)
{
	while (r->p < r->end) {
		char c = *r->p;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			r->p++;
		else if (c == '(') {
			if (skip_comment(r) < 0)
				return -1;
		} else
			return 1;
	}
	return 0;
}

static int parse_atom(struct rp *r, struct str *out)
{
	const char *s = r->p;

	while (r->p < r->end && is_atext((unsigned char)*r->p))
		r->p++;
	if (r->p == s)
		return -1;
	str_append(out, s, (size_t)(r->p - s));
	return skip_cfws(r);
}

static int parse_quoted(struct rp *r, struct str *out)
{
	r->p++;	/* the opening quote */
	for (; r->p < r->end; r->p++) {
		char c = *r->p;

		if (c == '"') {
			r->p++;
			return skip_cfws(r);
		}
		if (c == '\\' && r->p + 1 < r->end)
			c = *++r->p;
		else if (c == '\r' || c == '\n')
			continue;
		str_appendc(out, c);
	}
	return -1;
}

static int parse_word(struct rp *r, struct str *out)
{
	if (*r->p == '"')
		return parse_quoted(r, out);
	return parse_atom(r, out);
}

/* local-part or dot-atom: words joined by dots. */
static int parse_dotted(struct rp *r, struct str *out, int words_ok)
{
	int ret;

	for (;;) {
		ret = words_ok ? parse_word(r, out) : parse_atom(r, out);
		if (ret <= 0 || *r->p != '.')
			return ret;
		str_appendc(out, '.');
		r->p++;
		if ((ret = skip_cfws(r)) <= 0)
			return -1;
	}
}

/* atext and dots, for the words of an obsolete phrase ("John Q. Doe") */
static int parse_atom_dot(struct rp *r, struct str *out)
{
	const char *s = r->p;

	while (r->p < r->end &&
	       (is_atext((unsigned char)*r->p) || *r->p == '.'))
		r->p++;
	if (r->p == s)
		return -1;
	str_append(out, s, (size_t)(r->p - s));
	return skip_cfws(r);
}

/* phrase: words joined by one space; a phrase may not begin with '.'. */
static int parse_phrase(struct rp *r, struct str *out)
{
	int ret;

	if (r->p >= r->end)
		return 0;
	if (*r->p == '.')
		return -1;
	for (;;) {
		ret = *r->p == '"' ? parse_quoted(r, out) :
				     parse_atom_dot(r, out);
		if (ret <= 0)
			return ret;
		if (!is_atext((unsigned char)*r->p) && *r->p != '"' &&
		    *r->p != '.')
			return 1;
		str_appendc(out, ' ');
	}
}

static int parse_domain(struct rp *r, struct str *out)
{
	int ret;

	r->p++;	/* '@' */
	if ((ret = skip_cfws(r)) <= 0)
		return -1;
	if (*r->p != '[')
		return parse_dotted(r, out, 0);
	for (const char *s = r->p; r->p < r->end; r->p++) {
		if (*r->p == '\\' && r->p + 1 < r->end)
			r->p++;
		else if (*r->p == ']') {
			r->p++;
			str_append(out, s, (size_t)(r->p - s));
			return skip_cfws(r);
		}
	}
	return -1;
}

static char *tmp_dup(struct rp *r)
{
	return xstrndup(r->tmp.s == NULL ? "" : r->tmp.s, r->tmp.len);
}

static void entry_add(struct rp *r)
{
	struct mail_address_list *l = r->l;

	if (l->n < MAIL_ADDRESS_MAX) {
		if (l->n == l->cap) {
			l->cap = l->cap == 0 ? 4 : l->cap * 2;
			l->a = xreallocarray(l->a, l->cap, sizeof(*l->a));
		}
		l->a[l->n++] = r->cur;
	} else {
		free(r->cur.name);
		free(r->cur.route);
		free(r->cur.mailbox);
		free(r->cur.domain);
	}
	memset(&r->cur, 0, sizeof(r->cur));
}

static void entry_add_fixed(struct rp *r)
{
	if (r->cur.mailbox == NULL)
		r->cur.mailbox = xstrdup("MISSING_MAILBOX");
	if (r->cur.domain == NULL)
		r->cur.domain = xstrdup("MISSING_DOMAIN");
	entry_add(r);
}

static int parse_local(struct rp *r)
{
	int ret;

	str_clear(&r->tmp);
	ret = parse_dotted(r, &r->tmp, 1);
	if (ret < 0)
		return -1;
	free(r->cur.mailbox);
	r->cur.mailbox = tmp_dup(r);
	return ret;
}

static int parse_dom(struct rp *r)
{
	int ret;

	str_clear(&r->tmp);
	if ((ret = parse_domain(r, &r->tmp)) < 0)
		return -1;
	free(r->cur.domain);
	r->cur.domain = tmp_dup(r);
	return ret;
}

static int parse_route(struct rp *r)
{
	int ret;

	str_clear(&r->tmp);
	while (r->p < r->end && *r->p == '@') {
		if (r->tmp.len > 0)
			str_appendc(&r->tmp, ',');
		str_appendc(&r->tmp, '@');
		if ((ret = parse_domain(r, &r->tmp)) <= 0)
			return ret;
		while (*r->p == ',') {
			r->p++;
			if ((ret = skip_cfws(r)) <= 0)
				return ret;
		}
	}
	r->cur.route = tmp_dup(r);
	return 1;
}

static int parse_angle(struct rp *r)
{
	int ret;

	r->p++;	/* '<' */
	if ((ret = skip_cfws(r)) <= 0)
		return ret;
	if (*r->p == '@') {
		if (parse_route(r) <= 0 || *r->p != ':') {
			free(r->cur.route);
			r->cur.route = xstrdup("INVALID_ROUTE");
			return -1;
		}
		r->p++;
		if ((ret = skip_cfws(r)) <= 0)
			return ret;
	}
	if ((ret = parse_local(r)) <= 0)
		return ret;
	if (*r->p == '@' && (ret = parse_dom(r)) <= 0)
		return ret;
	if (*r->p != '>')
		return -1;
	r->p++;
	return skip_cfws(r);
}

static int parse_name_addr(struct rp *r)
{
	str_clear(&r->tmp);
	if (r->p < r->end && *r->p != '<' &&
	    parse_phrase(r, &r->tmp) <= 0)
		return -1;
	if (r->p >= r->end || *r->p != '<')
		return -1;
	if (r->tmp.len > 0)
		r->cur.name = tmp_dup(r);
	if (parse_angle(r) < 0) {
		free(r->cur.domain);
		r->cur.domain = xstrdup("SYNTAX_ERROR");
	}
	return r->p < r->end;
}

static int parse_addr_spec(struct rp *r)
{
	int ret, ret2;

	str_clear(&r->comment);
	ret = parse_local(r);
	if (ret != 0 && r->p < r->end && *r->p == '@') {
		ret2 = parse_dom(r);
		if (ret2 <= 0)
			ret = ret2;
	}
	if (r->comment.len > 0) {
		free(r->cur.name);
		r->cur.name = xstrndup(r->comment.s, r->comment.len);
	}
	return ret;
}

static void cur_clear(struct rp *r)
{
	free(r->cur.name);
	free(r->cur.route);
	free(r->cur.mailbox);
	free(r->cur.domain);
	memset(&r->cur, 0, sizeof(r->cur));
}

static int parse_mailbox(struct rp *r)
{
	const char *start = r->p;
	int ret;

	if ((ret = parse_name_addr(r)) < 0) {
		cur_clear(r);
		r->p = start;
		ret = parse_addr_spec(r);
	}
	entry_add_fixed(r);
	return ret;
}

static int parse_group(struct rp *r)
{
	int ret;

	str_clear(&r->tmp);
	if (parse_phrase(r, &r->tmp) <= 0 || *r->p != ':')
		return -1;
	r->p++;
	ret = skip_cfws(r);
	r->cur.mailbox = tmp_dup(r);
	entry_add(r);
	if (ret > 0 && *r->p != ';') {
		for (;;) {
			if (parse_mailbox(r) <= 0) {
				ret = -1;
				break;
			}
			if (*r->p != ',')
				break;
			r->p++;
			if (skip_cfws(r) <= 0) {
				ret = -1;
				break;
			}
		}
	}
	if (ret >= 0) {
		if (r->p >= r->end || *r->p != ';')
			ret = -1;
		else {
			r->p++;
			ret = skip_cfws(r);
		}
	}
	entry_add(r);	/* the end of the group */
	return ret == 0 ? 0 : 1;
}

static int parse_address(struct rp *r)
{
	const char *start = r->p;
	int ret;

	/* a group that fails does so before it adds anything */
	if ((ret = parse_group(r)) < 0) {
		cur_clear(r);
		r->p = start;
		ret = parse_mailbox(r);
	}
	return ret;
}

void mail_address_parse(const char *s, size_t n, struct mail_address_list *l)
{
	struct rp r;
	int ret;

	memset(&r, 0, sizeof(r));
	memset(l, 0, sizeof(*l));
	r.p = s;
	r.end = s + n;
	r.l = l;
	str_init(&r.comment, 0);
	str_init(&r.tmp, 0);
	if (skip_cfws(&r) > 0) {
		while (l->n < MAIL_ADDRESS_MAX) {
			if (parse_address(&r) == 0)
				break;
			if (r.p >= r.end || *r.p != ',')
				break;
			r.p++;
			if ((ret = skip_cfws(&r)) <= 0) {
				if (ret < 0)
					entry_add_fixed(&r);
				break;
			}
		}
	}
	cur_clear(&r);
	str_free(&r.comment);
	str_free(&r.tmp);
}

void mail_address_list_free(struct mail_address_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->a[i].name);
		free(l->a[i].route);
		free(l->a[i].mailbox);
		free(l->a[i].domain);
	}
	free(l->a);
	memset(l, 0, sizeof(*l));
}
