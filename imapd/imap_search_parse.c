/*
 * imap_search_parse - SEARCH, SORT and THREAD arguments
 * (imap_search_parse.h)
 */
#include "imapd/imap_search_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd/imap_quote.h"
#include "util/alloc.h"

#define IMAP_MODSEQ_MAX 0x7fffffffffffffffULL

/* What the keys without an argument stand for. */
static const struct {
	const char *word;
	enum imap_search_key key;
} imap_search_flags[] = {
	{ "ALL", IMAP_SEARCH_ALL },
	{ "ANSWERED", IMAP_SEARCH_ANSWERED },
	{ "DELETED", IMAP_SEARCH_DELETED },
	{ "DRAFT", IMAP_SEARCH_DRAFT },
	{ "FLAGGED", IMAP_SEARCH_FLAGGED },
	{ "NEW", IMAP_SEARCH_NEW },
	{ "OLD", IMAP_SEARCH_OLD },
	{ "RECENT", IMAP_SEARCH_RECENT },
	{ "SEEN", IMAP_SEARCH_SEEN },
	{ "UNANSWERED", IMAP_SEARCH_UNANSWERED },
	{ "UNDELETED", IMAP_SEARCH_UNDELETED },
	{ "UNDRAFT", IMAP_SEARCH_UNDRAFT },
	{ "UNFLAGGED", IMAP_SEARCH_UNFLAGGED },
	{ "UNSEEN", IMAP_SEARCH_UNSEEN },
}, imap_search_strings[] = {
	{ "BCC", IMAP_SEARCH_BCC },
	{ "BODY", IMAP_SEARCH_BODY },
	{ "CC", IMAP_SEARCH_CC },
	{ "FROM", IMAP_SEARCH_FROM },
	{ "SUBJECT", IMAP_SEARCH_SUBJECT },
	{ "TEXT", IMAP_SEARCH_TEXT },
	{ "TO", IMAP_SEARCH_TO },
}, imap_search_dates[] = {
	{ "BEFORE", IMAP_SEARCH_BEFORE },
	{ "ON", IMAP_SEARCH_ON },
	{ "SINCE", IMAP_SEARCH_SINCE },
	{ "SENTBEFORE", IMAP_SEARCH_SENTBEFORE },
	{ "SENTON", IMAP_SEARCH_SENTON },
	{ "SENTSINCE", IMAP_SEARCH_SENTSINCE },
};

#define IMAP_N(a) (sizeof(a) / sizeof((a)[0]))

/* the arguments being read */
struct imap_search_in {
	const struct imap_arg *a;
	unsigned n, i;
	const char **error_r;
};

void imap_search_init(struct imap_search *s)
{
	memset(s, 0, sizeof(*s));
	s->depth_max = IMAP_SEARCH_DEPTH_MAX;
	s->nodes_max = IMAP_SEARCH_NODES_MAX;
}

void imap_search_free(struct imap_search *s)
{
	struct imap_search_node *nd = s->all, *next;

	for (; nd != NULL; nd = next) {
		next = nd->alloc_next;
		imap_seqset_free(&nd->set);
		free(nd);
	}
	s->all = NULL;
	s->root = NULL;
	s->nnodes = 0;
}

static int imap_search_fail(struct imap_search_in *in, const char *why)
{
	*in->error_r = why;
	return IMAP_SEARCH_BAD;
}

static struct imap_search_node *imap_search_node(struct imap_search *s,
						 struct imap_search_in *in,
						 enum imap_search_key key)
{
	struct imap_search_node *nd;

	if (s->nnodes >= s->nodes_max) {
		*in->error_r = "Too many search keys";
		return NULL;
	}
	nd = xcalloc(1, sizeof(*nd));
	imap_seqset_init(&nd->set);
	nd->key = key;
	nd->alloc_next = s->all;
	s->all = nd;
	s->nnodes++;
	return nd;
}

/* The next argument, or NULL (BAD: missing). */
static const struct imap_arg *imap_search_next(struct imap_search_in *in)
{
	if (in->i >= in->n) {
		*in->error_r = "Missing search argument";
		return NULL;
	}
	return &in->a[in->i++];
}

static int imap_search_astring(struct imap_search_in *in, const char **s,
			       size_t *len)
{
	const struct imap_arg *a = imap_search_next(in);

	if (a == NULL)
		return -1;
	if (!imap_arg_astring(a, s, len)) {
		*in->error_r = "Invalid search string";
		return -1;
	}
	return 0;
}

static void imap_search_link(struct imap_search_node *parent,
			     struct imap_search_node **last,
			     struct imap_search_node *child)
{
	if (*last == NULL)
		parent->child = child;
	else
		(*last)->next = child;
	*last = child;
	parent->nchild++;
}

static int imap_search_key(struct imap_search *s, struct imap_search_in *in,
			   unsigned depth, struct imap_search_node **out);

/* The keys of a parenthesized list into an AND node. */
static int imap_search_list(struct imap_search *s, const struct imap_arg *a,
			    unsigned depth, const char **error_r,
			    struct imap_search_node **out)
{
	struct imap_search_in sub = { a->list, a->n, 0, error_r };
	struct imap_search_node *and, *last = NULL;

	if (a->n == 0) {
		*error_r = "Empty search list";
		return IMAP_SEARCH_BAD;
	}
	if ((and = imap_search_node(s, &sub, IMAP_SEARCH_AND)) == NULL)
		return IMAP_SEARCH_BAD;
	while (sub.i < sub.n) {
		struct imap_search_node *child;
		int r = imap_search_key(s, &sub, depth + 1, &child);

		if (r != IMAP_SEARCH_OK)
			return r;
		imap_search_link(and, &last, child);
	}
	*out = and;
	return IMAP_SEARCH_OK;
}

/* MODSEQ [entry-name entry-type] mod-sequence-valzer */
static int imap_search_modseq(struct imap_search *s, struct imap_search_in *in,
			      struct imap_search_node *nd)
{
	const struct imap_arg *a = imap_search_next(in);

	if (a == NULL)
		return IMAP_SEARCH_BAD;
	if (a->type == IMAP_ARG_STRING) {
		const struct imap_arg *t = imap_search_next(in);

		nd->entry = a->s;
		nd->entry_len = a->len;
		if (t == NULL)
			return IMAP_SEARCH_BAD;
		if (imap_arg_atom_is(t, "priv"))
			nd->entry_type = IMAP_SEARCH_ENTRY_PRIV;
		else if (imap_arg_atom_is(t, "shared"))
			nd->entry_type = IMAP_SEARCH_ENTRY_SHARED;
		else if (imap_arg_atom_is(t, "all"))
			nd->entry_type = IMAP_SEARCH_ENTRY_ALL;
		else
			return imap_search_fail(in, "Invalid MODSEQ entry type");
		if ((a = imap_search_next(in)) == NULL)
			return IMAP_SEARCH_BAD;
	}
	if (!imap_arg_number(a, IMAP_MODSEQ_MAX, &nd->num))
		return imap_search_fail(in, "Invalid MODSEQ value");
	s->uses_modseq = 1;
	return IMAP_SEARCH_OK;
}

static int imap_search_seqset(struct imap_search *s, struct imap_search_in *in,
			      const struct imap_arg *a,
			      struct imap_search_node *nd)
{
	if (a->type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(&nd->set, a->s, a->len, UINT32_MAX,
			      in->error_r) < 0) {
		*in->error_r = "Invalid search key";
		return IMAP_SEARCH_BAD;
	}
	if (nd->set.searchres)
		s->uses_searchres = 1;
	return IMAP_SEARCH_OK;
}

/* A key with an argument, by name; 1 if the name was none of these. */
static int imap_search_arg_key(struct imap_search *s, struct imap_search_in *in,
			       const struct imap_arg *a,
			       struct imap_search_node **out)
{
	struct imap_search_node *nd;
	size_t k;

	for (k = 0; k < IMAP_N(imap_search_strings); k++) {
		if (!imap_arg_atom_is(a, imap_search_strings[k].word))
			continue;
		if ((nd = imap_search_node(s, in,
				imap_search_strings[k].key)) == NULL ||
		    imap_search_astring(in, &nd->str, &nd->len) < 0)
			return IMAP_SEARCH_BAD;
		*out = nd;
		return IMAP_SEARCH_OK;
	}
	for (k = 0; k < IMAP_N(imap_search_dates); k++) {
		struct imap_date d;

		if (!imap_arg_atom_is(a, imap_search_dates[k].word))
			continue;
		if ((nd = imap_search_node(s, in,
				imap_search_dates[k].key)) == NULL ||
		    imap_search_astring(in, &nd->str, &nd->len) < 0)
			return IMAP_SEARCH_BAD;
		if (imap_date_parse(nd->str, nd->len, &d) < 0)
			return imap_search_fail(in, "Invalid search date");
		nd->days = imap_date_days(&d);
		*out = nd;
		return IMAP_SEARCH_OK;
	}
	if (imap_arg_atom_is(a, "HEADER")) {
		if ((nd = imap_search_node(s, in, IMAP_SEARCH_HEADER)) == NULL ||
		    imap_search_astring(in, &nd->str, &nd->len) < 0 ||
		    imap_search_astring(in, &nd->value, &nd->value_len) < 0)
			return IMAP_SEARCH_BAD;
		if (nd->len == 0)
			return imap_search_fail(in, "Empty header field name");
		*out = nd;
		return IMAP_SEARCH_OK;
	}
	if (imap_arg_atom_is(a, "KEYWORD") || imap_arg_atom_is(a, "UNKEYWORD")) {
		const struct imap_arg *kw;

		nd = imap_search_node(s, in, a->s[0] == 'U' || a->s[0] == 'u' ?
				      IMAP_SEARCH_UNKEYWORD :
				      IMAP_SEARCH_KEYWORD);
		if (nd == NULL || (kw = imap_search_next(in)) == NULL)
			return IMAP_SEARCH_BAD;
		if (kw->type != IMAP_ARG_ATOM)
			return imap_search_fail(in, "Invalid keyword");
		nd->str = kw->s;
		nd->len = kw->len;
		*out = nd;
		return IMAP_SEARCH_OK;
	}
	if (imap_arg_atom_is(a, "LARGER") || imap_arg_atom_is(a, "SMALLER")) {
		const struct imap_arg *v;

		nd = imap_search_node(s, in, a->s[0] == 'L' || a->s[0] == 'l' ?
				      IMAP_SEARCH_LARGER : IMAP_SEARCH_SMALLER);
		if (nd == NULL || (v = imap_search_next(in)) == NULL)
			return IMAP_SEARCH_BAD;
		if (!imap_arg_number(v, UINT64_MAX, &nd->num))
			return imap_search_fail(in, "Invalid size");
		*out = nd;
		return IMAP_SEARCH_OK;
	}
	if (imap_arg_atom_is(a, "UID")) {
		const struct imap_arg *v;

		if ((nd = imap_search_node(s, in, IMAP_SEARCH_UID)) == NULL ||
		    (v = imap_search_next(in)) == NULL)
			return IMAP_SEARCH_BAD;
		*out = nd;
		return imap_search_seqset(s, in, v, nd);
	}
	if (imap_arg_atom_is(a, "MODSEQ")) {
		if ((nd = imap_search_node(s, in, IMAP_SEARCH_MODSEQ)) == NULL)
			return IMAP_SEARCH_BAD;
		*out = nd;
		return imap_search_modseq(s, in, nd);
	}
	return 1;
}

static int imap_search_key(struct imap_search *s, struct imap_search_in *in,
			   unsigned depth, struct imap_search_node **out)
{
	const struct imap_arg *a = imap_search_next(in);
	struct imap_search_node *nd;
	int r;

	if (a == NULL)
		return IMAP_SEARCH_BAD;
	if (depth >= s->depth_max)
		return imap_search_fail(in, "Search keys nested too deeply");
	if (a->type == IMAP_ARG_LIST)
		return imap_search_list(s, a, depth, in->error_r, out);
	if (a->type != IMAP_ARG_ATOM)
		return imap_search_fail(in, "Invalid search key");
	for (size_t k = 0; k < IMAP_N(imap_search_flags); k++) {
		if (imap_arg_atom_is(a, imap_search_flags[k].word)) {
			nd = imap_search_node(s, in, imap_search_flags[k].key);
			*out = nd;
			return nd != NULL ? IMAP_SEARCH_OK : IMAP_SEARCH_BAD;
		}
	}
	if (imap_arg_atom_is(a, "NOT") || imap_arg_atom_is(a, "OR")) {
		int or = imap_arg_atom_is(a, "OR");
		struct imap_search_node *last = NULL, *child;

		nd = imap_search_node(s, in, or ? IMAP_SEARCH_OR :
				      IMAP_SEARCH_NOT);
		if (nd == NULL)
			return IMAP_SEARCH_BAD;
		for (int k = 0; k < (or ? 2 : 1); k++) {
			r = imap_search_key(s, in, depth + 1, &child);
			if (r != IMAP_SEARCH_OK)
				return r;
			imap_search_link(nd, &last, child);
		}
		*out = nd;
		return IMAP_SEARCH_OK;
	}
	r = imap_search_arg_key(s, in, a, out);
	if (r != 1)
		return r;
	if ((nd = imap_search_node(s, in, IMAP_SEARCH_SEQSET)) == NULL)
		return IMAP_SEARCH_BAD;
	*out = nd;
	return imap_search_seqset(s, in, a, nd);
}

static int imap_search_charset(struct imap_search *s,
			       struct imap_search_in *in)
{
	const struct imap_arg *a = imap_search_next(in);
	const char *cs;
	size_t len;

	if (a == NULL)
		return IMAP_SEARCH_BAD;
	if (!imap_arg_astring(a, &cs, &len))
		return imap_search_fail(in, "Invalid charset");
	s->charset_given = 1;
	if (len == 5 && strncasecmp(cs, "UTF-8", 5) == 0)
		s->charset_utf8 = 1;
	else if (!(len == 8 && strncasecmp(cs, "US-ASCII", 8) == 0)) {
		*in->error_r = "Unsupported charset";
		return IMAP_SEARCH_BADCHARSET;
	}
	return IMAP_SEARCH_OK;
}

static int imap_search_return(struct imap_search *s, struct imap_search_in *in)
{
	static const struct { const char *word; unsigned bit; } opts[] = {
		{ "MIN", IMAP_SEARCH_RETURN_MIN },
		{ "MAX", IMAP_SEARCH_RETURN_MAX },
		{ "ALL", IMAP_SEARCH_RETURN_ALL },
		{ "COUNT", IMAP_SEARCH_RETURN_COUNT },
		{ "SAVE", IMAP_SEARCH_RETURN_SAVE },
	};
	const struct imap_arg *a = imap_search_next(in);

	if (a == NULL || a->type != IMAP_ARG_LIST)
		return imap_search_fail(in, "Invalid RETURN options");
	s->return_given = 1;
	for (unsigned i = 0; i < a->n; i++) {
		size_t k;

		for (k = 0; k < IMAP_N(opts); k++)
			if (imap_arg_atom_is(&a->list[i], opts[k].word))
				break;
		if (k == IMAP_N(opts))
			return imap_search_fail(in, "Unknown RETURN option");
		s->return_opts |= opts[k].bit;
	}
	if (s->return_opts == 0)
		s->return_opts = IMAP_SEARCH_RETURN_ALL;
	return IMAP_SEARCH_OK;
}

/* 1*(SP key) to the end of the arguments, under an AND root. */
static int imap_search_program(struct imap_search *s,
			       struct imap_search_in *in)
{
	struct imap_search_node *last = NULL;

	if (in->i >= in->n)
		return imap_search_fail(in, "Missing search keys");
	if ((s->root = imap_search_node(s, in, IMAP_SEARCH_AND)) == NULL)
		return IMAP_SEARCH_BAD;
	while (in->i < in->n) {
		struct imap_search_node *child;
		int r = imap_search_key(s, in, 0, &child);

		if (r != IMAP_SEARCH_OK)
			return r;
		imap_search_link(s->root, &last, child);
	}
	return IMAP_SEARCH_OK;
}

int imap_search_parse(struct imap_search *s, const struct imap_arg *args,
		      unsigned nargs, const char **error_r)
{
	struct imap_search_in in = { args, nargs, 0, error_r };
	int r;

	if (in.n > 0 && imap_arg_atom_is(&args[0], "RETURN")) {
		in.i++;
		if ((r = imap_search_return(s, &in)) != IMAP_SEARCH_OK)
			return r;
	}
	if (in.i < in.n && imap_arg_atom_is(&args[in.i], "CHARSET")) {
		in.i++;
		if ((r = imap_search_charset(s, &in)) != IMAP_SEARCH_OK)
			return r;
	}
	return imap_search_program(s, &in);
}

int imap_sort_parse(struct imap_search *s, const struct imap_arg *args,
		    unsigned nargs, const char **error_r)
{
	static const struct { const char *word; enum imap_sort_key key; }
	keys[] = {
		{ "ARRIVAL", IMAP_SORT_ARRIVAL }, { "CC", IMAP_SORT_CC },
		{ "DATE", IMAP_SORT_DATE }, { "FROM", IMAP_SORT_FROM },
		{ "SIZE", IMAP_SORT_SIZE }, { "SUBJECT", IMAP_SORT_SUBJECT },
		{ "TO", IMAP_SORT_TO }, { "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
		{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
	};
	struct imap_search_in in = { args, nargs, 0, error_r };
	const struct imap_arg *crit = imap_search_next(&in);
	int r;

	if (crit == NULL || crit->type != IMAP_ARG_LIST || crit->n == 0)
		return imap_search_fail(&in, "Invalid sort criteria");
	for (unsigned i = 0; i < crit->n; i++) {
		int reverse = 0;
		size_t k;

		if (imap_arg_atom_is(&crit->list[i], "REVERSE")) {
			reverse = 1;
			if (++i == crit->n)
				return imap_search_fail(&in,
							"Invalid sort criteria");
		}
		for (k = 0; k < IMAP_N(keys); k++)
			if (imap_arg_atom_is(&crit->list[i], keys[k].word))
				break;
		if (k == IMAP_N(keys) || s->nsort == IMAP_SORT_KEYS_MAX)
			return imap_search_fail(&in, "Invalid sort criteria");
		s->sort[s->nsort].key = keys[k].key;
		s->sort[s->nsort].reverse = reverse;
		s->nsort++;
	}
	if ((r = imap_search_charset(s, &in)) != IMAP_SEARCH_OK)
		return r;
	return imap_search_program(s, &in);
}

int imap_thread_parse(struct imap_search *s, const struct imap_arg *args,
		      unsigned nargs, const char **error_r)
{
	struct imap_search_in in = { args, nargs, 0, error_r };
	const struct imap_arg *alg = imap_search_next(&in);
	int r;

	if (alg == NULL)
		return IMAP_SEARCH_BAD;
	if (imap_arg_atom_is(alg, "ORDEREDSUBJECT"))
		s->thread_alg = IMAP_THREAD_ORDEREDSUBJECT;
	else if (imap_arg_atom_is(alg, "REFERENCES"))
		s->thread_alg = IMAP_THREAD_REFERENCES;
	else
		return imap_search_fail(&in, "Unknown threading algorithm");
	if ((r = imap_search_charset(s, &in)) != IMAP_SEARCH_OK)
		return r;
	return imap_search_program(s, &in);
}
