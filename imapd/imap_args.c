/*
 * imap_args - typed parsers of small command arguments (imap_args.h)
 */
#include "imapd/imap_args.h"

#include <string.h>
#include <strings.h>

#include "imapd/imap_quote.h"
#include "imapd/imap_seqset.h"

#define IMAP_MODSEQ_MAX 0x7fffffffffffffffULL
#define IMAP_N(a) (sizeof(a) / sizeof((a)[0]))

struct imap_word {
	const char *word;
	unsigned bit;
};

/* The bit of the atom a among words, or 0. */
static unsigned imap_word_bit(const struct imap_arg *a,
			      const struct imap_word *words, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (imap_arg_atom_is(a, words[k].word))
			return words[k].bit;
	return 0;
}

/* ---- flags ------------------------------------------------------------ */

static const struct imap_word imap_system_flags[] = {
	{ "\\Answered", IMAP_FLAG_ANSWERED },
	{ "\\Flagged", IMAP_FLAG_FLAGGED },
	{ "\\Deleted", IMAP_FLAG_DELETED },
	{ "\\Seen", IMAP_FLAG_SEEN },
	{ "\\Draft", IMAP_FLAG_DRAFT },
};

unsigned imap_flag_system(const char *s, size_t len)
{
	for (size_t k = 0; k < IMAP_N(imap_system_flags); k++)
		if (strlen(imap_system_flags[k].word) == len &&
		    strncasecmp(s, imap_system_flags[k].word, len) == 0)
			return imap_system_flags[k].bit;
	return 0;
}

/* A keyword: atom chars but no "\", "]", "%", "*" (RFC 3501 flag-keyword
 * is an atom). */
static int imap_keyword_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("()[]{}\"\\%*", c))
			return 0;
	}
	return len > 0;
}

int imap_flags_parse(const struct imap_arg *a, unsigned n,
		     struct imap_flags *fl, const char **error_r)
{
	memset(fl, 0, sizeof(*fl));
	for (unsigned i = 0; i < n; i++) {
		unsigned bit;

		*error_r = "Invalid flag";
		/* a keyword called NIL is an atom like any other (flag-keyword
		 * is an atom; Dovecot takes it too) */
		if (a[i].type != IMAP_ARG_ATOM && a[i].type != IMAP_ARG_NIL)
			return -1;
		bit = imap_flag_system(a[i].s, a[i].len);
		if (bit != 0) {
			fl->system |= bit;
			continue;
		}
		if (!imap_keyword_ok(a[i].s, a[i].len))
			return -1;
		if (fl->nkeywords == IMAP_FLAGS_KEYWORDS_MAX) {
			*error_r = "Too many keywords";
			return -1;
		}
		fl->keyword[fl->nkeywords++] = &a[i];
	}
	return 0;
}

/* ---- STORE ------------------------------------------------------------ */

static int imap_store_modifiers(const struct imap_arg *a,
				struct imap_store_args *st)
{
	if (a->n != 2 || !imap_arg_atom_is(&a->list[0], "UNCHANGEDSINCE") ||
	    !imap_arg_number(&a->list[1], IMAP_MODSEQ_MAX,
			     &st->unchangedsince))
		return -1;
	st->unchangedsince_set = 1;
	return 0;
}

int imap_store_parse(const struct imap_arg *args, unsigned nargs,
		     struct imap_store_args *st, const char **error_r)
{
	const struct imap_arg *a = args;
	const char *w;
	size_t len;

	memset(st, 0, sizeof(*st));
	*error_r = "Invalid STORE arguments";
	if (nargs > 0 && a->type == IMAP_ARG_LIST) {
		if (imap_store_modifiers(a, st) < 0) {
			*error_r = "Invalid STORE modifiers";
			return -1;
		}
		a++;
		nargs--;
	}
	if (nargs < 2 || a->type != IMAP_ARG_ATOM)
		return -1;
	w = a->s;
	len = a->len;
	if (w[0] == '+' || w[0] == '-') {
		st->op = w[0] == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
		w++;
		len--;
	}
	if (len == 12 && strncasecmp(w, "FLAGS.SILENT", 12) == 0)
		st->silent = 1;
	else if (!(len == 5 && strncasecmp(w, "FLAGS", 5) == 0))
		return -1;
	a++;
	nargs--;
	if (a->type == IMAP_ARG_LIST) {
		if (nargs != 1)
			return -1;
		return imap_flags_parse(a->list, a->n, &st->flags, error_r);
	}
	return imap_flags_parse(a, nargs, &st->flags, error_r);
}

/* ---- STATUS ----------------------------------------------------------- */

static const struct imap_word imap_status_words[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES },
	{ "RECENT", IMAP_STATUS_RECENT },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "DELETED", IMAP_STATUS_DELETED },
	{ "SIZE", IMAP_STATUS_SIZE },
	{ "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
};

int imap_status_items_parse(const struct imap_arg *a, unsigned *items_r,
			    const char **error_r)
{
	*items_r = 0;
	*error_r = "Invalid status items";
	if (a->type != IMAP_ARG_LIST || a->n == 0)
		return -1;
	for (unsigned i = 0; i < a->n; i++) {
		unsigned bit = imap_word_bit(&a->list[i], imap_status_words,
					     IMAP_N(imap_status_words));

		if (bit == 0)
			return -1;
		*items_r |= bit;
	}
	return 0;
}

/* ---- LIST ------------------------------------------------------------- */

static int imap_list_select(const struct imap_arg *a,
			    struct imap_list_args *l)
{
	static const struct imap_word words[] = {
		{ "SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED },
		{ "REMOTE", IMAP_LIST_SEL_REMOTE },
		{ "RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVEMATCH },
		{ "SPECIAL-USE", IMAP_LIST_SEL_SPECIAL_USE },
	};

	for (unsigned i = 0; i < a->n; i++) {
		unsigned bit = imap_word_bit(&a->list[i], words, IMAP_N(words));

		if (bit == 0)
			return -1;
		l->select |= bit;
	}
	/* RECURSIVEMATCH must come with an option it modifies; REMOTE
	 * does not count (RFC 5258 3.1) */
	if ((l->select & IMAP_LIST_SEL_RECURSIVEMATCH) &&
	    !(l->select & (IMAP_LIST_SEL_SUBSCRIBED |
			   IMAP_LIST_SEL_SPECIAL_USE)))
		return -1;
	return 0;
}

static int imap_list_return(const struct imap_arg *a,
			    struct imap_list_args *l, const char **error_r)
{
	static const struct imap_word words[] = {
		{ "SUBSCRIBED", IMAP_LIST_RET_SUBSCRIBED },
		{ "CHILDREN", IMAP_LIST_RET_CHILDREN },
		{ "SPECIAL-USE", IMAP_LIST_RET_SPECIAL_USE },
	};

	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (unsigned i = 0; i < a->n; i++) {
		unsigned bit;

		if (imap_arg_atom_is(&a->list[i], "STATUS")) {
			if (i + 1 == a->n ||
			    imap_status_items_parse(&a->list[i + 1],
						    &l->status_items,
						    error_r) < 0)
				return -1;
			l->ret |= IMAP_LIST_RET_STATUS;
			i++;
			continue;
		}
		bit = imap_word_bit(&a->list[i], words, IMAP_N(words));
		if (bit == 0)
			return -1;
		l->ret |= bit;
	}
	return 0;
}

static int imap_list_pattern(const struct imap_arg *a,
			     struct imap_list_args *l)
{
	if (l->npatterns == IMAP_LIST_PATTERNS_MAX ||
	    !imap_arg_astring(a, &l->pattern[l->npatterns],
			      &l->pattern_len[l->npatterns]))
		return -1;
	l->npatterns++;
	return 0;
}

int imap_list_parse(const struct imap_arg *args, unsigned nargs,
		    struct imap_list_args *l, const char **error_r)
{
	unsigned i = 0;

	memset(l, 0, sizeof(*l));
	*error_r = "Invalid LIST arguments";
	if (nargs > 0 && args[0].type == IMAP_ARG_LIST) {
		l->extended = 1;
		if (imap_list_select(&args[0], l) < 0) {
			*error_r = "Invalid LIST selection options";
			return -1;
		}
		i++;
	}
	if (i + 2 > nargs ||
	    !imap_arg_astring(&args[i], &l->reference, &l->reference_len))
		return -1;
	i++;
	if (args[i].type == IMAP_ARG_LIST) {
		l->extended = 1;
		if (args[i].n == 0)
			return -1;
		for (unsigned k = 0; k < args[i].n; k++)
			if (imap_list_pattern(&args[i].list[k], l) < 0)
				return -1;
	} else if (imap_list_pattern(&args[i], l) < 0) {
		return -1;
	}
	i++;
	if (i == nargs)
		return 0;
	l->extended = 1;
	if (i + 2 != nargs || !imap_arg_atom_is(&args[i], "RETURN") ||
	    imap_list_return(&args[i + 1], l, error_r) < 0) {
		*error_r = "Invalid LIST return options";
		return -1;
	}
	return 0;
}

/* ---- SELECT/EXAMINE --------------------------------------------------- */

static int imap_seqset_arg(const struct imap_arg *a, const char **s_r,
			   size_t *len_r)
{
	if (a->type != IMAP_ARG_ATOM || !imap_seqset_valid(a->s, a->len) ||
	    (a->len == 1 && a->s[0] == '$'))
		return -1;
	*s_r = a->s;
	*len_r = a->len;
	return 0;
}

static int imap_select_qresync(const struct imap_arg *a,
			       struct imap_select_args *sel)
{
	uint64_t v;

	if (a->type != IMAP_ARG_LIST || a->n < 2 || a->n > 4 ||
	    !imap_arg_number(&a->list[0], UINT32_MAX, &v) || v == 0 ||
	    !imap_arg_number(&a->list[1], IMAP_MODSEQ_MAX, &sel->modseq) ||
	    sel->modseq == 0)
		return -1;
	sel->uidvalidity = (uint32_t)v;
	if (a->n >= 3) {
		const struct imap_arg *m = &a->list[a->n - 1];
		unsigned nuids = a->n;

		if (m->type == IMAP_ARG_LIST) {
			if (m->n != 2 ||
			    imap_seqset_arg(&m->list[0], &sel->seq_match,
					    &sel->seq_match_len) < 0 ||
			    imap_seqset_arg(&m->list[1], &sel->uid_match,
					    &sel->uid_match_len) < 0)
				return -1;
			nuids--;
		}
		if (nuids == 4 || (nuids == 3 &&
		    imap_seqset_arg(&a->list[2], &sel->known_uids,
				    &sel->known_uids_len) < 0))
			return -1;
	}
	sel->qresync = 1;
	return 0;
}

int imap_select_parse(const struct imap_arg *args, unsigned nargs,
		      struct imap_select_args *sel, const char **error_r)
{
	memset(sel, 0, sizeof(*sel));
	*error_r = "Invalid SELECT arguments";
	if (nargs < 1 || nargs > 2 ||
	    !imap_arg_astring(&args[0], &sel->mailbox, &sel->mailbox_len))
		return -1;
	if (nargs == 1)
		return 0;
	if (args[1].type != IMAP_ARG_LIST || args[1].n == 0)
		return -1;
	for (unsigned i = 0; i < args[1].n; i++) {
		const struct imap_arg *p = &args[1].list[i];

		if (imap_arg_atom_is(p, "CONDSTORE")) {
			sel->condstore = 1;
		} else if (imap_arg_atom_is(p, "QRESYNC") && !sel->qresync &&
			   i + 1 < args[1].n) {
			if (imap_select_qresync(p + 1, sel) < 0) {
				*error_r = "Invalid QRESYNC parameters";
				return -1;
			}
			i++;
		} else {
			*error_r = "Unknown SELECT parameter";
			return -1;
		}
	}
	return 0;
}

/* ---- ENABLE ----------------------------------------------------------- */

int imap_enable_parse(const struct imap_arg *args, unsigned nargs,
		      unsigned *caps_r, const char **error_r)
{
	static const struct imap_word words[] = {
		{ "CONDSTORE", IMAP_ENABLE_CONDSTORE },
		{ "QRESYNC", IMAP_ENABLE_QRESYNC },
		{ "IMAP4rev2", IMAP_ENABLE_IMAP4REV2 },
		{ "UTF8=ACCEPT", IMAP_ENABLE_UTF8_ACCEPT },
	};

	*caps_r = 0;
	*error_r = "Invalid ENABLE arguments";
	if (nargs == 0)
		return -1;
	for (unsigned i = 0; i < nargs; i++) {
		if (args[i].type != IMAP_ARG_ATOM)
			return -1;
		*caps_r |= imap_word_bit(&args[i], words, IMAP_N(words));
	}
	return 0;
}

/* ---- APPEND ----------------------------------------------------------- */

int imap_append_parse(const struct imap_arg *args, unsigned nargs,
		      int with_mailbox, struct imap_append_args *ap,
		      const char **error_r)
{
	unsigned i = 0;

	memset(ap, 0, sizeof(*ap));
	*error_r = "Invalid APPEND arguments";
	if (with_mailbox) {
		if (nargs == 0 ||
		    !imap_arg_astring(&args[0], &ap->mailbox,
				      &ap->mailbox_len))
			return -1;
		i++;
	}
	if (i < nargs && args[i].type == IMAP_ARG_LIST) {
		if (imap_flags_parse(args[i].list, args[i].n, &ap->flags,
				     error_r) < 0)
			return -1;
		ap->flags_given = 1;
		i++;
	}
	if (i < nargs) {
		*error_r = "Invalid APPEND date-time";
		if (args[i].type != IMAP_ARG_STRING ||
		    imap_datetime_parse(args[i].s, args[i].len, &ap->date,
					&ap->date_zone) < 0)
			return -1;
		ap->date_given = 1;
		i++;
	}
	if (i != nargs) {
		*error_r = "Invalid APPEND arguments";
		return -1;
	}
	return 0;
}
