/*
 * mime - the MIME tree of a message (see mime.h)
 *
 * One pass over the message: parse_part() reads a part's header, then its
 * body up to the first delimiter line of any enclosing multipart (the
 * stack ctx->bnd, innermost last) and returns where that line begins (or
 * the end of the message). A multipart asks parse_part() for each body
 * part in turn, starting after its own delimiter lines; the line where a
 * body part stopped is looked at again by its multipart, once. So every
 * line is compared with the boundaries once per part that holds it, and
 * parts are at most MIME_DEPTH_MAX deep.
 */
#include "mail/mime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/mail_header.h"
#include "mail/rfc2047.h"
#include "util/alloc.h"
#include "util/str.h"

struct mime_bnd {
	const char *s;
	size_t len;
};

struct mime_ctx {
	const char *msg;
	size_t len;
	struct mime_bnd bnd[MIME_DEPTH_MAX + 1];
	unsigned nbnd;
	unsigned nparts;
	/* a delimiter line right after a close delimiter: the line end before
	 * it ended that close delimiter's line and stays in the body before
	 * (as Dovecot counts it) */
	size_t keep_eol_at;
};

/* ---- line and size helpers -------------------------------------------- */

static size_t line_next(const struct mime_ctx *c, size_t pos)
{
	const char *lf = memchr(c->msg + pos, '\n', c->len - pos);

	return lf == NULL ? c->len : (size_t)(lf - c->msg) + 1;
}

size_t mime_crlf_size(const char *p, size_t n)
{
	size_t size = n;
	const char *lf = p, *end = p + n;

	while ((lf = memchr(lf, '\n', (size_t)(end - lf))) != NULL) {
		if (lf == p || lf[-1] != '\r')
			size++;
		lf++;
	}
	return size;
}

int mime_crlf_append(struct str *out, const char *p, size_t n)
{
	size_t i = 0;

	if (str_reserve(out, n) < 0)
		return -1;
	while (i < n) {
		const char *lf = memchr(p + i, '\n', n - i);
		size_t j = lf == NULL ? n : (size_t)(lf - p);

		if (str_append(out, p + i, j - i) < 0)
			return -1;
		if (lf == NULL)
			break;
		if ((j == 0 || p[j - 1] != '\r') && str_appendc(out, '\r') < 0)
			return -1;
		if (str_appendc(out, '\n') < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

static size_t count_lf(const char *p, size_t n)
{
	size_t lines = 0;
	const char *lf = p, *end = p + n;

	while ((lf = memchr(lf, '\n', (size_t)(end - lf))) != NULL) {
		lines++;
		lf++;
	}
	return lines;
}

/* ---- boundaries --------------------------------------------------------- */

/* Does the line at pos match boundary b? 2 exactly ("--b", "--b--", then
 * only blanks), 1 as a prefix, 0 not. *close_r: "--b--". */
static int bnd_match(const struct mime_ctx *c, size_t pos,
		     const struct mime_bnd *b, int *close_r)
{
	const char *p = c->msg + pos;
	size_t n = c->len - pos, i;

	if (n < 2 + b->len || memcmp(p + 2, b->s, b->len) != 0)
		return 0;
	i = 2 + b->len;
	*close_r = i + 1 < n && p[i] == '-' && p[i + 1] == '-';
	if (*close_r)
		i += 2;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
		i++;
	return i == n || p[i] == '\n' ? 2 : 1;
}

/* Is the line at pos a delimiter of an enclosing multipart? Its index in
 * c->bnd, or -1. */
static int bnd_line(const struct mime_ctx *c, size_t pos, int *close_r)
{
	int prefix = -1, prefix_close = 0;

	if (c->nbnd == 0 || pos + 2 > c->len || c->msg[pos] != '-' ||
	    c->msg[pos + 1] != '-')
		return -1;
	for (unsigned k = c->nbnd; k-- > 0;) {
		int cl, m = bnd_match(c, pos, &c->bnd[k], &cl);

		if (m == 2) {
			*close_r = cl;
			return (int)k;
		}
		if (m == 1 && prefix < 0) {
			prefix = (int)k;
			prefix_close = cl;
		}
	}
	*close_r = prefix_close;
	return prefix;
}

/* The first delimiter line at or after the line start pos: its offset
 * (c->len if none), *k_r its boundary. */
static size_t bnd_scan(const struct mime_ctx *c, size_t pos, int *k_r,
		       int *close_r)
{
	*k_r = -1;
	*close_r = 0;
	if (c->nbnd == 0)
		return c->len;
	while (pos < c->len) {
		if ((*k_r = bnd_line(c, pos, close_r)) >= 0)
			return pos;
		pos = line_next(c, pos);
	}
	return c->len;
}

/* Where a body that stops at q ends: at a delimiter line (q < len),
 * before the line end that precedes it (RFC 2046 5.1.1), never before
 * start. */
static size_t body_end(const struct mime_ctx *c, size_t start, size_t q)
{
	if (q < c->len && q > start && q != c->keep_eol_at && c->msg[q - 1] == '\n') {
		q--;
		if (q > start && c->msg[q - 1] == '\r')
			q--;
	}
	return q;
}

/* ---- tokens of structured fields (RFC 2045 5.1, RFC 5322 3.2) ----------- */

struct tok {
	const char *p, *end;
};

/* Skip blanks, line ends and (nested) comments: 1 if data follow. */
static int tok_skip(struct tok *t)
{
	while (t->p < t->end) {
		if (*t->p == ' ' || *t->p == '\t' || *t->p == '\r' ||
		    *t->p == '\n')
			t->p++;
		else if (*t->p == '(') {
			int depth = 0;

			for (; t->p < t->end; t->p++) {
				if (*t->p == '\\' && t->p + 1 < t->end)
					t->p++;
				else if (*t->p == '(')
					depth++;
				else if (*t->p == ')' && --depth == 0) {
					t->p++;
					break;
				}
			}
		} else
			return 1;
	}
	return 0;
}

static int is_tspecial_or_ctl(unsigned char ch)
{
	return ch <= ' ' || ch == 0x7f || strchr("()<>@,;:\\\"/[]?=", ch);
}

/* A MIME token into out (cleared first): its length, 0 if none. */
static size_t tok_token(struct tok *t, struct str *out)
{
	const char *s = t->p;

	while (t->p < t->end && !is_tspecial_or_ctl((unsigned char)*t->p))
		t->p++;
	str_set(out, s, (size_t)(t->p - s));
	return (size_t)(t->p - s);
}

/* A quoted string at t->p ('"'): its content into out, 0; -1 unclosed. */
static int tok_quoted(struct tok *t, struct str *out)
{
	str_clear(out);
	for (t->p++; t->p < t->end; t->p++) {
		char ch = *t->p;

		if (ch == '"') {
			t->p++;
			return 0;
		}
		if (ch == '\\' && t->p + 1 < t->end)
			ch = *++t->p;
		else if (ch == '\r' || ch == '\n')
			continue;
		str_appendc(out, ch);
	}
	return -1;
}

/* ---- parameters and RFC 2231 -------------------------------------------- */

struct raw_param {
	char *key;	/* the name without its "*n*" */
	char *value;
	unsigned idx;
	int extended;
	int is2231;
};

/* Read ";" name "=" value pairs into raw[] until the end or an error. */
static unsigned params_read(struct tok *t, struct raw_param *raw)
{
	struct str name = STR_INIT(0), value = STR_INIT(0);
	unsigned n = 0;

	while (n < MIME_PARAMS_MAX && tok_skip(t) && *t->p == ';') {
		t->p++;
		if (!tok_skip(t) || tok_token(t, &name) == 0)
			break;
		if (!tok_skip(t) || *t->p != '=')
			break;
		t->p++;
		if (!tok_skip(t))
			break;
		if (*t->p == '"') {
			if (tok_quoted(t, &value) < 0)
				break;
		} else if (tok_token(t, &value) == 0)
			break;
		memset(&raw[n], 0, sizeof(raw[n]));
		raw[n].key = xstrdup(str_c(&name));
		raw[n].value = xstrdup(str_c(&value));
		n++;
	}
	str_free(&name);
	str_free(&value);
	return n;
}

/* Split "key*n*", "key*n", "key*" into raw->key, idx, extended. */
static void param_2231_split(struct raw_param *r)
{
	char *star = strchr(r->key, '*'), *q;

	if (star == NULL)
		return;
	q = star + 1;
	if (*q >= '0' && *q <= '9') {
		for (; *q >= '0' && *q <= '9'; q++)
			if (r->idx < 100000)
				r->idx = r->idx * 10 + (unsigned)(*q - '0');
		if (*q == '*') {
			r->extended = 1;
			q++;
		}
	} else
		r->extended = 1;	/* "name*": one extended value */
	if (*q != '\0') {
		r->idx = 0;
		r->extended = 0;
		return;		/* not RFC 2231: an ordinary name */
	}
	*star = '\0';
	r->is2231 = 1;
}

static int raw_param_cmp(const void *a, const void *b)
{
	const struct raw_param *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	if (r != 0)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void param_add(struct mime_param *out, unsigned *n, char *name,
		      char *value)
{
	out[*n].name = name;
	out[*n].value = value;
	(*n)++;
}

/* Merge the RFC 2231 sections of raw[i..j) (one name, sorted). */
static void params_merge(struct raw_param *raw, unsigned i, unsigned j,
			 struct mime_param *out, unsigned *n)
{
	struct str v = STR_INIT(0);
	int ok = 1, ext = 0;

	for (unsigned k = i; k < j; k++) {
		ok &= raw[k].idx == k - i;
		ext |= raw[k].extended;
	}
	if (!ok) {
		for (unsigned k = i; k < j; k++) {
			str_clear(&v);
			str_appendf(&v, raw[k].extended ? "%s*%u*" : "%s*%u",
				    raw[k].key, raw[k].idx);
			param_add(out, n, str_steal(&v), raw[k].value);
			raw[k].value = NULL;
		}
		return;
	}
	if (ext && !raw[i].extended)
		str_appends(&v, "''");
	for (unsigned k = i; k < j; k++) {
		if (ext && !raw[k].extended) {
			for (const char *s = raw[k].value; *s != '\0'; s++)
				if (*s == '%')
					str_appends(&v, "%25");
				else
					str_appendc(&v, *s);
		} else
			str_appends(&v, raw[k].value);
	}
	{
		struct str key = STR_INIT(0);

		str_appendf(&key, ext ? "%s*" : "%s", raw[i].key);
		param_add(out, n, str_steal(&key), str_steal(&v));
	}
}

/* The parameters after a Content-Type or Content-Disposition value. */
static void params_parse(struct tok *t, struct mime_param **params_r,
			 unsigned *n_r)
{
	struct raw_param raw[MIME_PARAMS_MAX], ext[MIME_PARAMS_MAX];
	struct mime_param *out;
	unsigned nraw = params_read(t, raw), next = 0, n = 0;

	*params_r = NULL;
	*n_r = 0;
	if (nraw == 0)
		return;
	out = xcalloc(nraw, sizeof(*out));
	for (unsigned k = 0; k < nraw; k++) {
		param_2231_split(&raw[k]);
		if (raw[k].is2231)
			ext[next++] = raw[k];
		else
			param_add(out, &n, raw[k].key, raw[k].value);
	}
	qsort(ext, next, sizeof(ext[0]), raw_param_cmp);
	for (unsigned i = 0, j; i < next; i = j) {
		for (j = i; j < next && strcasecmp(ext[i].key, ext[j].key) == 0;)
			j++;
		params_merge(ext, i, j, out, &n);
	}
	for (unsigned k = 0; k < next; k++) {
		free(ext[k].key);
		free(ext[k].value);
	}
	*params_r = out;
	*n_r = n;
}

static void params_free(struct mime_param *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

/* ---- Content-* fields ---------------------------------------------------- */

static char *unfolded_dup(const struct mail_header_field *f)
{
	struct str s = STR_INIT(0);

	mail_header_unfold(f->value, f->value_len, &s);
	return str_steal(&s);
}

static void content_type_parse(struct mime_part *p,
			       const struct mail_header_field *f)
{
	struct tok t = { f->value, f->value + f->value_len };
	struct str tmp = STR_INIT(0);

	tok_skip(&t);
	tok_token(&t, &tmp);
	p->type = str_steal(&tmp);
	tok_skip(&t);
	if (t.p >= t.end || *t.p != '/') {
		/* broken: keep the type (as Dovecot), no parameters */
		p->subtype = xstrdup("");
		return;
	}
	t.p++;
	tok_skip(&t);
	tok_token(&t, &tmp);
	p->subtype = str_steal(&tmp);
	if (*p->subtype == '\0')
		return;
	params_parse(&t, &p->params, &p->nparams);
}

static void content_disposition_parse(struct mime_part *p,
				      const struct mail_header_field *f)
{
	struct tok t = { f->value, f->value + f->value_len };
	struct str tmp = STR_INIT(0);

	tok_skip(&t);
	tok_token(&t, &tmp);
	p->disposition = str_steal(&tmp);
	params_parse(&t, &p->disp_params, &p->ndisp_params);
}

static void content_cte_parse(struct mime_part *p,
			      const struct mail_header_field *f)
{
	struct tok t = { f->value, f->value + f->value_len };
	struct str tmp = STR_INIT(0);

	tok_skip(&t);
	if (tok_token(&t, &tmp) > 0 && !tok_skip(&t))
		p->cte = str_steal(&tmp);
	str_free(&tmp);
}

/* Language tags: atoms separated by commas (RFC 3282). */
static void content_language_parse(struct mime_part *p,
				   const struct mail_header_field *f)
{
	struct tok t = { f->value, f->value + f->value_len };

	p->language = xcalloc(MIME_LANGUAGES_MAX, sizeof(char *));
	tok_skip(&t);
	while (p->nlanguage < MIME_LANGUAGES_MAX && t.p < t.end) {
		const char *s = t.p;

		while (t.p < t.end &&
		       ((unsigned char)*t.p >= 0x80 ||
			(*t.p > ' ' && *t.p != 0x7f &&
			 !strchr("()<>[]:;@\\,.\"", *t.p))))
			t.p++;
		if (t.p == s)
			break;
		p->language[p->nlanguage++] = xstrndup(s, (size_t)(t.p - s));
		if (!tok_skip(&t) || *t.p != ',')
			break;
		t.p++;
		tok_skip(&t);
	}
	if (p->nlanguage == 0) {
		free(p->language);
		p->language = NULL;
	}
}

static void content_field(struct mime_part *p,
			  const struct mail_header_field *f)
{
	if (mail_header_name_is(f, "Content-Type")) {
		if (p->type == NULL)
			content_type_parse(p, f);
	} else if (mail_header_name_is(f, "Content-Transfer-Encoding")) {
		if (p->cte == NULL)
			content_cte_parse(p, f);
	} else if (mail_header_name_is(f, "Content-Disposition")) {
		if (p->disposition == NULL)
			content_disposition_parse(p, f);
	} else if (mail_header_name_is(f, "Content-Language")) {
		if (p->language == NULL)
			content_language_parse(p, f);
	} else if (mail_header_name_is(f, "Content-ID")) {
		if (p->id == NULL)
			p->id = unfolded_dup(f);
	} else if (mail_header_name_is(f, "Content-Description")) {
		if (p->description == NULL)
			p->description = unfolded_dup(f);
	} else if (mail_header_name_is(f, "Content-Location")) {
		if (p->location == NULL)
			p->location = unfolded_dup(f);
	} else if (mail_header_name_is(f, "Content-MD5")) {
		if (p->md5 == NULL)
			p->md5 = unfolded_dup(f);
	}
}

static void part_content_free(struct mime_part *p)
{
	free(p->type);
	free(p->subtype);
	params_free(p->params, p->nparams);
	free(p->id);
	free(p->description);
	free(p->cte);
	free(p->md5);
	free(p->location);
	free(p->disposition);
	params_free(p->disp_params, p->ndisp_params);
	for (unsigned i = 0; i < p->nlanguage; i++)
		free(p->language[i]);
	free(p->language);
	p->type = p->subtype = p->id = p->description = p->cte = NULL;
	p->md5 = p->location = p->disposition = NULL;
	p->params = p->disp_params = NULL;
	p->nparams = p->ndisp_params = p->nlanguage = 0;
	p->language = NULL;
}

/* Read the part's Content-* fields; decide its kind. */
static void part_header(const struct mime_ctx *c, struct mime_part *p)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	size_t n = p->hdr_len < MIME_HEADER_PARSE_MAX ? p->hdr_len :
						       MIME_HEADER_PARSE_MAX;
	int in_digest = 0;
	const char *b;

	if (p->parent != NULL && (p->parent->flags & MIME_PART_MULTIPART)) {
		p->flags |= MIME_PART_IS_MIME;
		in_digest = p->parent->subtype != NULL &&
			    strcasecmp(p->parent->subtype, "digest") == 0;
	}
	mail_header_iter_init(&it, c->msg + p->hdr_off, n);
	while (mail_header_iter_next(&it, &f)) {
		if (f.name_len > 8 && strncasecmp(f.name, "Content-", 8) == 0)
			content_field(p, &f);
		else if (mail_header_name_is(&f, "MIME-Version"))
			p->flags |= MIME_PART_IS_MIME;
	}
	if (p->type == NULL) {
		if (in_digest)
			p->flags |= MIME_PART_MESSAGE;
		else
			p->flags |= MIME_PART_TEXT;
		return;
	}
	if (strcasecmp(p->type, "text") == 0)
		p->flags |= MIME_PART_TEXT;
	else if (strcasecmp(p->type, "multipart") == 0 &&
		 (b = mime_param_get(p->params, p->nparams, "boundary")) !=
			 NULL && *b != '\0')
		p->flags |= MIME_PART_MULTIPART;
	else if (strcasecmp(p->type, "message") == 0 &&
		 (strcasecmp(p->subtype, "rfc822") == 0 ||
		  strcasecmp(p->subtype, "global") == 0))
		p->flags |= MIME_PART_MESSAGE;
}

/* ---- the tree ------------------------------------------------------------ */

static size_t parse_part(struct mime_ctx *c, struct mime_part *p,
			 size_t start, unsigned depth);

static struct mime_part *part_new(struct mime_ctx *c, struct mime_part *parent)
{
	struct mime_part *p = xcalloc(1, sizeof(*p));

	p->parent = parent;
	c->nparts++;
	return p;
}

static void child_link(struct mime_part *parent, struct mime_part **last,
		       struct mime_part *child)
{
	if (*last == NULL)
		parent->children = child;
	else
		(*last)->next = child;
	*last = child;
	parent->nchildren++;
}

/* The header of the part at start: up to and including its empty line
 * (*empty_r: where it begins), or up to the end. A delimiter line ends it
 * too (*delim_r = 1): the return value is then where that line begins. */
static size_t header_end(const struct mime_ctx *c, size_t start, int *delim_r,
			 size_t *empty_r)
{
	size_t pos = start;
	int cl;

	*delim_r = 0;
	*empty_r = (size_t)-1;
	while (pos < c->len) {
		size_t next = c->msg[pos] == '\n' ? pos + 1 :
			      c->msg[pos] == '\r' && pos + 1 < c->len &&
			      c->msg[pos + 1] == '\n' ? pos + 2 : 0;

		if (next != 0) {
			*empty_r = pos;
			return next;
		}
		if (bnd_line(c, pos, &cl) >= 0) {
			*delim_r = 1;
			return pos;
		}
		pos = line_next(c, pos);
	}
	return c->len;
}

/* The body parts of multipart p, whose boundary is pushed on the stack.
 * Returns the delimiter line of an enclosing multipart that ends p, or
 * the end of the message. */
static size_t parse_multipart(struct mime_ctx *c, struct mime_part *p,
			      unsigned depth)
{
	const char *b = mime_param_get(p->params, p->nparams, "boundary");
	struct mime_part *last = NULL;
	unsigned own = c->nbnd;
	size_t q = p->body_off, r;
	int k, cl;

	c->bnd[own].s = b;
	c->bnd[own].len = strlen(b);
	c->nbnd++;
	for (;;) {
		r = bnd_scan(c, q, &k, &cl);
		if (r == c->len || k != (int)own)
			break;		/* the end, or an outer delimiter */
		q = line_next(c, r);
		if (cl) {
			/* the close delimiter: the epilogue follows */
			c->nbnd--;
			r = bnd_scan(c, q, &k, &cl);
			if (r == q && r < c->len)
				c->keep_eol_at = r;
			return r;
		}
		if (c->nparts >= MIME_PARTS_MAX) {
			p->flags |= MIME_PART_OPAQUE;
			continue;
		}
		{
			struct mime_part *child = part_new(c, p);

			child_link(p, &last, child);
			q = parse_part(c, child, q, depth + 1);
		}
	}
	c->nbnd--;
	return r;
}

/* Is the line at pos a delimiter of an enclosing multipart, and not one
 * of multipart p itself (whose boundary is looked for first)? */
static int outer_delim_at(struct mime_ctx *c, const struct mime_part *p,
			  size_t pos)
{
	const char *b = (p->flags & MIME_PART_MULTIPART) ?
		mime_param_get(p->params, p->nparams, "boundary") : NULL;
	int k, cl;

	if (c->nbnd == 0)
		return 0;
	if (b != NULL) {
		c->bnd[c->nbnd].s = b;
		c->bnd[c->nbnd].len = strlen(b);
		c->nbnd++;
	}
	k = bnd_line(c, pos, &cl);
	if (b != NULL)
		c->nbnd--;
	return k >= 0 && (unsigned)k < c->nbnd;
}

static size_t parse_part(struct mime_ctx *c, struct mime_part *p,
			 size_t start, unsigned depth)
{
	size_t q, end, empty;
	int k, cl, delim;

	p->hdr_off = start;
	q = header_end(c, start, &delim, &empty);
	/* a delimiter right after the header: the line end before it is the
	 * delimiter's, the body is empty */
	p->body_off = delim == 1 ? body_end(c, start, q) : q;
	p->hdr_len = p->body_off - start;
	part_header(c, p);
	if (delim == 0 && empty != (size_t)-1 && outer_delim_at(c, p, q)) {
		/* the empty line ending the header is the line end before
		 * an enclosing delimiter: Dovecot counts it in neither the
		 * header nor the body, but in the parts around */
		delim = 2;
		p->body_off = empty;
		p->hdr_len = empty - start;
		c->keep_eol_at = q;
	}
	if ((p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) &&
	    (depth >= MIME_DEPTH_MAX || c->nparts >= MIME_PARTS_MAX)) {
		p->flags &= ~(MIME_PART_MULTIPART | MIME_PART_MESSAGE);
		p->flags |= MIME_PART_OPAQUE;
	}
	if (delim) {
		/* no body: a multipart without parts, an empty message */
		if (p->flags & MIME_PART_MESSAGE) {
			struct mime_part *child = part_new(c, p), *last = NULL;

			child_link(p, &last, child);
			child->hdr_off = child->body_off = p->body_off;
			child->flags = MIME_PART_TEXT;
		}
	} else if (p->flags & MIME_PART_MULTIPART) {
		q = parse_multipart(c, p, depth);
	} else if (p->flags & MIME_PART_MESSAGE) {
		struct mime_part *child = part_new(c, p), *last = NULL;

		child_link(p, &last, child);
		q = parse_part(c, child, p->body_off, depth + 1);
	} else {
		q = bnd_scan(c, p->body_off, &k, &cl);
	}
	end = delim == 2 ? p->body_off : body_end(c, p->body_off, q);
	if (p->children != NULL) {
		/* a last part whose header's empty line is the line end before
		 * the delimiter keeps it, and so does this part */
		const struct mime_part *last = p->children;

		while (last->next != NULL)
			last = last->next;
		if (last->body_off + last->body_len > end)
			end = last->body_off + last->body_len;
	}
	p->body_len = end - p->body_off;
	p->hdr_vsize = mime_crlf_size(c->msg + p->hdr_off, p->hdr_len);
	p->body_vsize = mime_crlf_size(c->msg + p->body_off, p->body_len);
	p->body_lines = count_lf(c->msg + p->body_off, p->body_len);
	return q;
}

int mime_parse(const char *msg, size_t len, struct mime_msg *m,
	       const char **error_r)
{
	struct mime_ctx c;

	memset(m, 0, sizeof(*m));
	if (msg == NULL && len > 0) {
		*error_r = "no message";
		errno = EINVAL;
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.msg = msg == NULL ? "" : msg;
	c.len = len;
	c.keep_eol_at = (size_t)-1;
	m->root = part_new(&c, NULL);
	parse_part(&c, m->root, 0, 0);
	m->nparts = c.nparts;
	return 0;
}

static void part_free(struct mime_part *p)
{
	while (p != NULL) {
		struct mime_part *next = p->next;

		part_free(p->children);
		part_content_free(p);
		free(p);
		p = next;
	}
}

void mime_free(struct mime_msg *m)
{
	part_free(m->root);
	memset(m, 0, sizeof(*m));
}

/* ---- parameter access ---------------------------------------------------- */

const char *mime_param_get(const struct mime_param *p, unsigned n,
			   const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcasecmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

int mime_param_decode(const struct mime_param *p, struct str *out)
{
	size_t nl = strlen(p->name);
	const char *v = p->value, *q1, *q2;
	struct str raw = STR_INIT(out->max);
	char charset[65];
	int r = 0;

	if (nl == 0 || p->name[nl - 1] != '*' ||
	    (q1 = strchr(v, '\'')) == NULL ||
	    (q2 = strchr(q1 + 1, '\'')) == NULL ||
	    (size_t)(q1 - v) >= sizeof(charset))
		return rfc2047_decode(v, strlen(v), out);
	memcpy(charset, v, (size_t)(q1 - v));
	charset[q1 - v] = '\0';
	for (const char *s = q2 + 1; *s != '\0' && r == 0; s++) {
		int h, l;

		if (*s == '%' &&
		    (h = hex_digit_value((unsigned char)s[1])) >= 0 &&
		    (l = hex_digit_value((unsigned char)s[2])) >= 0) {
			r = str_appendc(&raw, (char)(h * 16 + l));
			s += 2;
		} else
			r = str_appendc(&raw, *s);
	}
	if (r == 0) {
		r = charset_to_utf8(*charset == '\0' ? "us-ascii" : charset,
				    raw.s == NULL ? "" : raw.s, raw.len, out);
		if (r == 1)	/* unknown charset: the bytes as UTF-8 */
			r = charset_to_utf8("utf-8", raw.s == NULL ? "" :
					    raw.s, raw.len, out);
	}
	str_free(&raw);
	return r < 0 ? -1 : 0;
}

int mime_param_find_decoded(const struct mime_param *p, unsigned n,
			    const char *name, struct str *out)
{
	size_t nl = strlen(name);
	const struct mime_param *plain = NULL;

	for (unsigned i = 0; i < n; i++) {
		if (strncasecmp(p[i].name, name, nl) != 0)
			continue;
		if (p[i].name[nl] == '*' && p[i].name[nl + 1] == '\0')
			return mime_param_decode(&p[i], out) < 0 ? -1 : 1;
		if (p[i].name[nl] == '\0' && plain == NULL)
			plain = &p[i];
	}
	if (plain == NULL)
		return 0;
	return mime_param_decode(plain, out) < 0 ? -1 : 1;
}

int mime_part_is(const struct mime_part *p, const char *type,
		 const char *subtype)
{
	const char *t = p->type, *s = p->subtype;

	if (t == NULL) {
		t = (p->flags & MIME_PART_MESSAGE) ? "message" : "text";
		s = (p->flags & MIME_PART_MESSAGE) ? "rfc822" : "plain";
	}
	return strcasecmp(t, type) == 0 &&
	       (subtype == NULL || strcasecmp(s, subtype) == 0);
}
