/*
 * imap_search - SEARCH and UID SEARCH (RFC 9051 6.4.4, RFC 3501 6.4.4),
 *               with ESEARCH's RETURN (RFC 4731), SEARCHRES's SAVE and
 *               "$" (RFC 5182), CONDSTORE's MODSEQ (RFC 7162)
 *
 * GRAMMAR  search = ["RETURN" SP "(" [opt *(SP opt)] ")" SP]
 *                   ["CHARSET" SP astring SP] key *(SP key)
 *          opt    = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"
 *          key    = every key of RFC 3501 and 9051, "(" key *(SP key) ")",
 *                   a sequence set, "$", "MODSEQ" [entry] number
 *          CHARSET: US-ASCII and UTF-8; others NO [BADCHARSET].
 * MATCHING Strings match as substrings without regard to ASCII case.
 *          Header keys look at each field of that name, unfolded and with
 *          RFC 2047 words decoded; HEADER name "" matches every message
 *          that has the field. BODY looks at the body as stored and at the
 *          decoded content (base64, quoted-printable) of its text parts;
 *          TEXT at the header and the body. Dates compare days (BEFORE,
 *          ON, SINCE: the internal date; SENT*: the Date field), in UTC.
 * LIMITS   IMAP_SEARCH_NODES_MAX keys, nesting as the reader allows.
 */
#include "imap_session.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap_message.h"
#include "imap_quote.h"
#include "imap_section.h"
#include "mail/mail_header.h"
#include "mail/rfc2047.h"
#include "util/alloc.h"
#include "util/log.h"

#define IMAP_SEARCH_NODES_MAX 1000

enum skey {
	K_ALL, K_AND, K_OR, K_NOT, K_SET, K_FLAG, K_NOFLAG, K_KEYWORD,
	K_UNKEYWORD, K_NEW, K_OLD, K_RECENT, K_LARGER, K_SMALLER, K_BEFORE,
	K_ON, K_SINCE, K_SENTBEFORE, K_SENTON, K_SENTSINCE, K_HEADER, K_BODY,
	K_TEXT, K_MODSEQ,
};

struct snode {
	enum skey key;
	unsigned a, b;			/* children (AND: first, count) */
	uint64_t num;			/* sizes, days, flags, modseq */
	const char *hdr, *str;		/* header name, string */
	size_t str_len;
	struct imap_msgset set;
	int has_set;
};

struct search {
	struct imap_session *s;
	struct imap_command *c;
	struct snode node[IMAP_SEARCH_NODES_MAX];
	unsigned n;
	unsigned *kids;			/* AND children, by index */
	unsigned nkids, kids_cap;
	const char *error;
	int badcharset;
	int need_msg;
	int modseq_used;
};

static int node_new(struct search *q, enum skey key)
{
	if (q->n >= IMAP_SEARCH_NODES_MAX) {
		q->error = "Too many search keys.";
		return -1;
	}
	memset(&q->node[q->n], 0, sizeof(q->node[q->n]));
	q->node[q->n].key = key;
	return (int)q->n++;
}

static int parse_key(struct search *q, const struct imap_arg *a, unsigned n,
		     unsigned *used);

/* keys a[0..n) as an AND node. */
static int parse_and(struct search *q, const struct imap_arg *a, unsigned n)
{
	unsigned start, count = 0, used;
	unsigned tmp[IMAP_SEARCH_NODES_MAX];
	int id;

	if (n == 0) {
		q->error = "Missing search key.";
		return -1;
	}
	for (unsigned i = 0; i < n; i += used) {
		int k = parse_key(q, &a[i], n - i, &used);

		if (k < 0)
			return -1;
		tmp[count++] = (unsigned)k;
	}
	if (count == 1)
		return (int)tmp[0];
	if ((id = node_new(q, K_AND)) < 0)
		return -1;
	start = q->nkids;
	if (q->nkids + count > q->kids_cap) {
		q->kids_cap = (q->nkids + count) * 2;
		q->kids = xreallocarray(q->kids, q->kids_cap, sizeof(*q->kids));
	}
	memcpy(q->kids + start, tmp, count * sizeof(*tmp));
	q->nkids += count;
	q->node[id].a = start;
	q->node[id].b = count;
	return id;
}

static int arg_string(struct search *q, const struct imap_arg *a,
		      struct snode *nd)
{
	const char *p;
	size_t len;

	if (!imap_arg_astring(a, &p, &len)) {
		q->error = "Expected a string.";
		return -1;
	}
	nd->str = p;
	nd->str_len = len;
	return 0;
}

static int arg_date(struct search *q, const struct imap_arg *a,
		    struct snode *nd)
{
	struct imap_date d;
	const char *p;
	size_t len;

	if (!imap_arg_astring(a, &p, &len) || imap_date_parse(p, len, &d) < 0) {
		q->error = "Invalid date.";
		return -1;
	}
	nd->num = (uint64_t)imap_date_days(&d);
	return 0;
}

static const struct {
	const char *name;
	enum skey key;
	uint64_t flag;
	int args;	/* 0 none, 1 string, 2 number, 3 date, 4 keyword */
	const char *hdr;
} keys[] = {
	{ "ALL", K_ALL, 0, 0, NULL },
	{ "ANSWERED", K_FLAG, IMAP_F_ANSWERED, 0, NULL },
	{ "DELETED", K_FLAG, IMAP_F_DELETED, 0, NULL },
	{ "DRAFT", K_FLAG, IMAP_F_DRAFT, 0, NULL },
	{ "FLAGGED", K_FLAG, IMAP_F_FLAGGED, 0, NULL },
	{ "SEEN", K_FLAG, IMAP_F_SEEN, 0, NULL },
	{ "UNANSWERED", K_NOFLAG, IMAP_F_ANSWERED, 0, NULL },
	{ "UNDELETED", K_NOFLAG, IMAP_F_DELETED, 0, NULL },
	{ "UNDRAFT", K_NOFLAG, IMAP_F_DRAFT, 0, NULL },
	{ "UNFLAGGED", K_NOFLAG, IMAP_F_FLAGGED, 0, NULL },
	{ "UNSEEN", K_NOFLAG, IMAP_F_SEEN, 0, NULL },
	{ "NEW", K_NEW, 0, 0, NULL },
	{ "OLD", K_OLD, 0, 0, NULL },
	{ "RECENT", K_RECENT, 0, 0, NULL },
	{ "KEYWORD", K_KEYWORD, 0, 4, NULL },
	{ "UNKEYWORD", K_UNKEYWORD, 0, 4, NULL },
	{ "LARGER", K_LARGER, 0, 2, NULL },
	{ "SMALLER", K_SMALLER, 0, 2, NULL },
	{ "BEFORE", K_BEFORE, 0, 3, NULL },
	{ "ON", K_ON, 0, 3, NULL },
	{ "SINCE", K_SINCE, 0, 3, NULL },
	{ "SENTBEFORE", K_SENTBEFORE, 0, 3, NULL },
	{ "SENTON", K_SENTON, 0, 3, NULL },
	{ "SENTSINCE", K_SENTSINCE, 0, 3, NULL },
	{ "BCC", K_HEADER, 0, 1, "Bcc" },
	{ "CC", K_HEADER, 0, 1, "Cc" },
	{ "FROM", K_HEADER, 0, 1, "From" },
	{ "SUBJECT", K_HEADER, 0, 1, "Subject" },
	{ "TO", K_HEADER, 0, 1, "To" },
	{ "BODY", K_BODY, 0, 1, NULL },
	{ "TEXT", K_TEXT, 0, 1, NULL },
};

static int parse_simple(struct search *q, const struct imap_arg *a,
			unsigned n, unsigned *used, size_t k)
{
	int id = node_new(q, keys[k].key);
	struct snode *nd;

	if (id < 0)
		return -1;
	nd = &q->node[id];
	nd->num = keys[k].flag;
	nd->hdr = keys[k].hdr;
	*used = keys[k].args ? 2 : 1;
	if (keys[k].args && n < 2) {
		q->error = "Missing argument of a search key.";
		return -1;
	}
	switch (keys[k].args) {
	case 1:
		q->need_msg = 1;
		return arg_string(q, &a[1], nd) < 0 ? -1 : id;
	case 2:
		if (!imap_arg_number(&a[1], UINT64_MAX, &nd->num)) {
			q->error = "Invalid number.";
			return -1;
		}
		return id;
	case 3:
		if (nd->key >= K_SENTBEFORE)
			q->need_msg = 1;
		return arg_date(q, &a[1], nd) < 0 ? -1 : id;
	case 4:
		if (a[1].type != IMAP_ARG_ATOM) {
			q->error = "Invalid keyword.";
			return -1;
		}
		nd->str = a[1].s;
		nd->str_len = a[1].len;
		return id;
	}
	return id;
}

static int parse_key(struct search *q, const struct imap_arg *a, unsigned n,
		     unsigned *used)
{
	int id, x, y;
	unsigned u1, u2;

	*used = 1;
	if (a->type == IMAP_ARG_LIST)
		return parse_and(q, a->list, a->n);
	if (a->type != IMAP_ARG_ATOM) {
		q->error = "Invalid search key.";
		return -1;
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (imap_arg_atom_is(a, keys[k].name))
			return parse_simple(q, a, n, used, k);
	if (imap_arg_atom_is(a, "NOT") || imap_arg_atom_is(a, "OR")) {
		int is_or = imap_arg_atom_is(a, "OR");

		if ((x = parse_key(q, a + 1, n - 1, &u1)) < 0)
			return -1;
		y = -1;
		u2 = 0;
		if (is_or && (1 + u1 >= n ||
			      (y = parse_key(q, a + 1 + u1, n - 1 - u1,
					     &u2)) < 0)) {
			if (q->error == NULL)
				q->error = "OR needs two keys.";
			return -1;
		}
		if ((id = node_new(q, is_or ? K_OR : K_NOT)) < 0)
			return -1;
		q->node[id].a = (unsigned)x;
		q->node[id].b = (unsigned)y;
		*used = 1 + u1 + u2;
		return id;
	}
	if (imap_arg_atom_is(a, "HEADER")) {
		if (n < 3 || (id = node_new(q, K_HEADER)) < 0 ||
		    !imap_arg_astring(&a[1], &q->node[id].hdr, &(size_t){ 0 }) ||
		    arg_string(q, &a[2], &q->node[id]) < 0) {
			if (q->error == NULL)
				q->error = "HEADER needs a name and a string.";
			return -1;
		}
		q->need_msg = 1;
		*used = 3;
		return id;
	}
	if (imap_arg_atom_is(a, "UID")) {
		if (n < 2 || (id = node_new(q, K_SET)) < 0)
			return -1;
		if (imap_msgset_parse(q->s, q->c, &a[1], 1,
				      &q->node[id].set) < 0) {
			q->error = "";	/* answered */
			return -1;
		}
		q->node[id].has_set = 1;
		*used = 2;
		return id;
	}
	if (imap_arg_atom_is(a, "MODSEQ")) {
		unsigned i = 1;

		/* MODSEQ ["entry-name" entry-type] mod-sequence */
		if (n >= 4 && a[1].type == IMAP_ARG_STRING)
			i = 3;
		if (n <= i || (id = node_new(q, K_MODSEQ)) < 0 ||
		    !imap_arg_number(&a[i], UINT64_MAX, &q->node[id].num)) {
			q->error = "Invalid MODSEQ.";
			return -1;
		}
		q->modseq_used = 1;
		*used = i + 1;
		return id;
	}
	if (imap_seqset_valid(a->s, a->len)) {
		if ((id = node_new(q, K_SET)) < 0)
			return -1;
		if (imap_msgset_parse(q->s, q->c, a, 0,
				      &q->node[id].set) < 0) {
			q->error = "";
			return -1;
		}
		q->node[id].has_set = 1;
		return id;
	}
	q->error = "Unknown search key.";
	return -1;
}

/* ---- matching ------------------------------------------------------------ */

struct smsg {
	struct search *q;
	uint32_t i;
	struct imap_message msg;
	int opened, failed;
	uint64_t vsize;
	time_t date;
	int sizes;
};

static int has_substr(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return 1;
	for (size_t i = 0; i + nn <= hn; i++)
		if (strncasecmp(h + i, n, nn) == 0)
			return 1;
	return 0;
}

static int smsg_open(struct smsg *m)
{
	if (!m->opened && !m->failed) {
		if (imap_message_open(&m->msg, m->q->s->sel, m->i) < 0)
			m->failed = 1;
		else
			m->opened = 1;
	}
	return m->opened;
}

static size_t smsg_hdr_len(struct smsg *m)
{
	const char *error;
	const struct mime_msg *mm = imap_message_mime(&m->msg, &error);

	return mm ? mm->root->hdr_len : m->msg.len;
}

static int match_header(struct smsg *m, const struct snode *nd)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	struct str v = STR_INIT(1024 * 1024);
	int hit = 0;

	if (!smsg_open(m))
		return 0;
	mail_header_iter_init(&it, m->msg.data ? m->msg.data : "",
			      smsg_hdr_len(m));
	while (!hit && mail_header_iter_next(&it, &f)) {
		if (!mail_header_name_is(&f, nd->hdr))
			continue;
		str_clear(&v);
		(void)rfc2047_decode(f.value, f.value_len, &v);
		hit = has_substr(v.s ? v.s : "", v.len, nd->str, nd->str_len);
	}
	str_free(&v);
	return hit;
}

/* The decoded text parts of p (recursion over the tree). */
static int match_parts(struct smsg *m, const struct mime_msg *mm,
		       const struct mime_part *p, uint32_t *path,
		       unsigned depth, const struct snode *nd)
{
	unsigned k = 1;

	if (p->children && depth < IMAP_SECTION_PARTS_MAX) {
		for (const struct mime_part *c = p->children; c; c = c->next) {
			path[depth] = k++;
			if (match_parts(m, mm, c, path, depth + 1, nd))
				return 1;
		}
		return 0;
	}
	if ((p->flags & MIME_PART_TEXT) && p->cte &&
	    (strcasecmp(p->cte, "base64") == 0 ||
	     strcasecmp(p->cte, "quoted-printable") == 0)) {
		struct imap_section sec;
		struct str out = STR_INIT(64 * 1024 * 1024);
		int unknown = 0, hit;

		memset(&sec, 0, sizeof(sec));
		memcpy(sec.part, path, depth * sizeof(*path));
		sec.nparts = depth;
		if (depth == 0) {
			sec.part[0] = 1;
			sec.nparts = 1;
		}
		hit = imap_section_binary(m->msg.data, m->msg.len, mm, &sec,
					  &out, &unknown) == 0 &&
		      has_substr(out.s ? out.s : "", out.len, nd->str,
				 nd->str_len);
		str_free(&out);
		return hit;
	}
	return 0;
}

static int match_body(struct smsg *m, const struct snode *nd, int text)
{
	const struct mime_msg *mm;
	const char *error;
	uint32_t path[IMAP_SECTION_PARTS_MAX];
	size_t hl;

	if (!smsg_open(m) || m->msg.data == NULL)
		return nd->str_len == 0;
	hl = smsg_hdr_len(m);
	if (has_substr(m->msg.data + (text ? 0 : hl), m->msg.len -
		       (text ? 0 : hl), nd->str, nd->str_len))
		return 1;
	mm = imap_message_mime(&m->msg, &error);
	return mm && match_parts(m, mm, mm->root, path, 0, nd);
}

/* The date of an RFC 5322 Date field, its time and zone disregarded
 * (RFC 3501 SENTON): "[day-name ","] day month year ...". */
static int rfc5322_date(const char *v, struct imap_date *d)
{
	static const char *const mon[] = { "jan", "feb", "mar", "apr", "may",
		"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
	const char *p = strchr(v, ',');
	char *e;
	long day, year;

	p = p ? p + 1 : v;
	while (*p == ' ' || *p == '\t')
		p++;
	day = strtol(p, &e, 10);
	if (e == p || day < 1 || day > 31)
		return -1;
	p = e;
	while (*p == ' ' || *p == '\t')
		p++;
	d->mon = 0;
	for (int k = 0; k < 12; k++)
		if (strncasecmp(p, mon[k], 3) == 0)
			d->mon = k + 1;
	if (d->mon == 0)
		return -1;
	p += 3;
	year = strtol(p, &e, 10);
	if (e == p || year < 0 || year > 9999)
		return -1;
	if (e - p <= 2)		/* RFC 5322 4.3 obsolete two-digit years */
		year += year < 50 ? 2000 : 1900;
	d->day = (int)day;
	d->year = (int)year;
	return 0;
}

static int64_t sent_day(struct smsg *m)
{
	struct mail_header_field f;
	struct str v = STR_INIT(256);
	struct imap_date d;
	int64_t day = INT64_MIN;

	if (!smsg_open(m) || m->msg.data == NULL ||
	    !mail_header_find(m->msg.data, smsg_hdr_len(m), "Date", &f))
		goto out;
	(void)mail_header_unfold(f.value, f.value_len, &v);
	if (v.s && rfc5322_date(v.s, &d) == 0)
		day = imap_date_days(&d);
out:
	str_free(&v);
	return day;
}

static int match(struct smsg *m, unsigned id);

static int match_date(struct smsg *m, const struct snode *nd)
{
	int64_t day;

	if (nd->key >= K_SENTBEFORE) {
		day = sent_day(m);
		if (day == INT64_MIN)
			return 0;
	} else {
		uint64_t size;

		if (!m->sizes && imap_folder_msg_sizes(m->q->s->sel, m->i, &size,
						       &m->vsize, &m->date) < 0)
			return 0;
		m->sizes = 1;
		day = (int64_t)(m->date >= 0 ? m->date / 86400 :
				(m->date - 86399) / 86400);
	}
	switch (nd->key) {
	case K_BEFORE:
	case K_SENTBEFORE:
		return day < (int64_t)nd->num;
	case K_ON:
	case K_SENTON:
		return day == (int64_t)nd->num;
	default:
		return day >= (int64_t)nd->num;
	}
}

static int match(struct smsg *m, unsigned id)
{
	const struct snode *nd = &m->q->node[id];
	const struct imap_msg *im = &m->q->s->sel->msgs[m->i];
	uint64_t size;
	int k;

	switch (nd->key) {
	case K_ALL:
		return 1;
	case K_AND:
		for (unsigned i = 0; i < nd->b; i++)
			if (!match(m, m->q->kids[nd->a + i]))
				return 0;
		return 1;
	case K_OR:
		return match(m, nd->a) || match(m, nd->b);
	case K_NOT:
		return !match(m, nd->a);
	case K_SET:
		return imap_msgset_has(m->q->s, &nd->set, m->i);
	case K_FLAG:
		return (im->flags & nd->num) != 0;
	case K_NOFLAG:
		return (im->flags & nd->num) == 0;
	case K_KEYWORD:
	case K_UNKEYWORD:
		k = imap_folder_keyword(m->q->s->sel, nd->str, 0);
		return (k >= 0 && (im->keywords & (UINT32_C(1) << k))) ==
		       (nd->key == K_KEYWORD);
	case K_NEW:
		return im->recent && !(im->flags & IMAP_F_SEEN);
	case K_OLD:
		return !im->recent;
	case K_RECENT:
		return im->recent;
	case K_LARGER:
	case K_SMALLER:
		if (!m->sizes && imap_folder_msg_sizes(m->q->s->sel, m->i, &size,
						       &m->vsize, &m->date) < 0)
			return 0;
		m->sizes = 1;
		return nd->key == K_LARGER ? m->vsize > nd->num :
					     m->vsize < nd->num;
	case K_HEADER:
		return match_header(m, nd);
	case K_BODY:
	case K_TEXT:
		return match_body(m, nd, nd->key == K_TEXT);
	case K_MODSEQ:
		return im->modseq >= nd->num;
	default:
		return match_date(m, nd);
	}
}

/* ---- the command -------------------------------------------------------- */

#define R_MIN	0x01u
#define R_MAX	0x02u
#define R_ALL	0x04u
#define R_COUNT	0x08u
#define R_SAVE	0x10u

static int search_return(struct search *q, const struct imap_arg *a,
			 unsigned *ret)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = { { "MIN", R_MIN }, { "MAX", R_MAX }, { "ALL", R_ALL },
		     { "COUNT", R_COUNT }, { "SAVE", R_SAVE } };

	*ret = 0;
	for (unsigned i = 0; i < a->n; i++) {
		unsigned bit = 0;

		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++)
			if (imap_arg_atom_is(&a->list[i], opts[k].name))
				bit = opts[k].bit;
		if (bit == 0) {
			q->error = "Unknown RETURN option.";
			return -1;
		}
		*ret |= bit;
	}
	/* RETURN () is RETURN (ALL) (RFC 4731 3.1) */
	if (*ret == 0)
		*ret = R_ALL;
	return 0;
}

/* The untagged answer: ESEARCH if esearch, else SEARCH. */
static void search_answer(struct imap_session *s, const struct imap_command *c,
			  const uint32_t *hits, uint32_t n, unsigned ret,
			  int esearch, uint64_t modseq, int with_modseq)
{
	struct str line = STR_INIT(0), set = STR_INIT(0);

	if (!esearch) {
		(void)str_appends(&line, "* SEARCH");
		for (uint32_t k = 0; k < n; k++)
			(void)str_appendf(&line, " %lu", (unsigned long)hits[k]);
		if (with_modseq && n > 0)
			(void)str_appendf(&line, " (MODSEQ %llu)",
					  (unsigned long long)modseq);
	} else {
		(void)str_appends(&line, "* ESEARCH (TAG ");
		(void)imap_quote_string(&line, c->tag, strlen(c->tag), 0);
		(void)str_appends(&line, ")");
		if (c->uid)
			(void)str_appends(&line, " UID");
		if ((ret & R_MIN) && n > 0)
			(void)str_appendf(&line, " MIN %lu",
					  (unsigned long)hits[0]);
		if ((ret & R_MAX) && n > 0)
			(void)str_appendf(&line, " MAX %lu",
					  (unsigned long)hits[n - 1]);
		if ((ret & R_ALL) && n > 0 &&
		    imap_seqset_format_uids(hits, n, &set) == 0)
			(void)str_appendf(&line, " ALL %s", set.s);
		if (ret & R_COUNT)
			(void)str_appendf(&line, " COUNT %lu", (unsigned long)n);
		if (with_modseq && n > 0)
			(void)str_appendf(&line, " MODSEQ %llu",
					  (unsigned long long)modseq);
	}
	(void)str_appends(&line, "\r\n");
	if (io_write(&s->io, line.s, line.len) < 0)
		s->logout = 1;
	str_free(&line);
	str_free(&set);
}

static void search_save(struct imap_session *s, const uint32_t *uids,
			uint32_t n)
{
	free(s->saved);
	s->saved = n ? xreallocarray(NULL, n, sizeof(*uids)) : NULL;
	if (n)
		memcpy(s->saved, uids, n * sizeof(*uids));
	s->nsaved = n;
	s->saved_valid = 1;
}

static void search_free(struct search *q)
{
	for (unsigned i = 0; i < q->n; i++)
		if (q->node[i].has_set)
			imap_msgset_free(&q->node[i].set);
	free(q->kids);
}

void imap_cmd_search(struct imap_session *s, struct imap_command *c)
{
	struct search *q = xcalloc(1, sizeof(*q));
	unsigned first = 0, ret = 0;
	int root, esearch = 0;
	uint32_t *hits = NULL, *uids = NULL, n = 0;
	uint64_t modseq = 0;

	q->s = s;
	q->c = c;
	if (first < c->nargs && imap_arg_atom_is(&c->args[first], "RETURN")) {
		if (first + 1 >= c->nargs ||
		    c->args[first + 1].type != IMAP_ARG_LIST ||
		    search_return(q, &c->args[first + 1], &ret) < 0) {
			imap_reply_bad(s, c, q->error ? q->error :
				       "Invalid RETURN.");
			goto out;
		}
		esearch = 1;
		first += 2;
	}
	if (first < c->nargs && imap_arg_atom_is(&c->args[first], "CHARSET")) {
		const char *cs;
		size_t len;

		if (first + 1 >= c->nargs ||
		    !imap_arg_astring(&c->args[first + 1], &cs, &len)) {
			imap_reply_bad(s, c, "CHARSET needs a name.");
			goto out;
		}
		if (strcasecmp(cs, "UTF-8") != 0 &&
		    strcasecmp(cs, "US-ASCII") != 0) {
			imap_reply_tagged(s, c, "NO", "[BADCHARSET (US-ASCII "
					  "UTF-8)] Unknown charset.");
			goto out;
		}
		first += 2;
	}
	root = parse_and(q, c->args + first, c->nargs - first);
	if (root < 0) {
		if (q->error && q->error[0])
			imap_reply_bad(s, c, q->error);
		goto out;
	}
	if (q->modseq_used)
		imap_session_condstore_on(s);
	/* under IMAP4rev2 every SEARCH answers ESEARCH (RFC 9051 7.3.4) */
	if (!esearch && (s->enabled & IMAP_EN_REV2)) {
		esearch = 1;
		ret = R_ALL;
	}
	hits = xreallocarray(NULL, s->exists + 1, sizeof(*hits));
	uids = xreallocarray(NULL, s->exists + 1, sizeof(*uids));
	for (uint32_t i = 0; i < s->exists && i < s->sel->count; i++) {
		struct smsg m;
		int hit;

		memset(&m, 0, sizeof(m));
		m.q = q;
		m.i = i;
		hit = match(&m, (unsigned)root);
		if (m.opened)
			imap_message_close(&m.msg);
		if (!hit)
			continue;
		hits[n] = c->uid ? s->sel->msgs[i].uid : i + 1;
		uids[n++] = s->sel->msgs[i].uid;
		if (s->sel->msgs[i].modseq > modseq)
			modseq = s->sel->msgs[i].modseq;
	}
	if (ret & R_SAVE)
		search_save(s, uids, n);
	if (!(ret & R_SAVE) || (ret & ~R_SAVE) || !esearch)
		search_answer(s, c, hits, n, ret, esearch, modseq,
			      q->modseq_used);
	imap_reply_tagged(s, c, "OK", "Search completed.");
out:
	free(hits);
	free(uids);
	search_free(q);
	free(q);
}
