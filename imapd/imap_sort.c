/*
 * imap_sort - RFC 5256 base subject and SORT ordering; see imap_sort.h
 *
 * The base subject is computed in place in out: step 1 copies the subject
 * into out normalized (spaces, case), then steps 2 to 6 only move the two
 * ends of a window [b, e) inward, and the window is moved to the front of
 * out at the end. Every step removes at least one byte or stops, so the
 * loops end; the one scan that could repeat (a run of blobs not followed
 * by a subj-refwd, tried again after each blob is removed) is remembered
 * in `noleader`, the end of the run already known to hold no leader.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/imap_sort.h"

struct subj {
	const char *b, *e;	/* the window still in the base subject */
	const char *noleader;	/* no subj-leader starts in [b, noleader) */
	int reply;
};

/* Step 1: whitespace to single spaces, ASCII to lower case, no NULs. */
static int subj_normalize(const char *s, size_t len, struct str *out)
{
	int space = 0;

	str_clear(out);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = 1;
			continue;
		}
		if (c == '\0')
			continue;
		if (space && str_appendc(out, ' ') < 0)
			return -1;
		space = 0;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (str_appendc(out, c) < 0)
			return -1;
	}
	/* a trailing space is a subj-trailer; keep it for step 2 to see */
	if (space && str_appendc(out, ' ') < 0)
		return -1;
	return 0;
}

/* subj-blob at p: "[" *BLOBCHAR "]" *WSP; its length, 0 if none. */
static size_t subj_blob_len(const char *p, const char *e)
{
	const char *q = p + 1;

	if (p >= e || *p != '[')
		return 0;
	while (q < e && *q != '[' && *q != ']')
		q++;
	if (q >= e || *q != ']')
		return 0;
	for (q++; q < e && *q == ' '; q++)
		;
	return (size_t)(q - p);
}

/* subj-refwd at p: ("re" / "fw" ["d"]) *WSP [subj-blob] ":"; 0 if none. */
static size_t subj_refwd_len(const char *p, const char *e)
{
	const char *q = p;

	if (e - q >= 2 && q[0] == 'r' && q[1] == 'e') {
		q += 2;
	} else if (e - q >= 2 && q[0] == 'f' && q[1] == 'w') {
		q += 2;
		if (q < e && *q == 'd')
			q++;
	} else {
		return 0;
	}
	while (q < e && *q == ' ')
		q++;
	q += subj_blob_len(q, e);
	if (q >= e || *q != ':')
		return 0;
	return (size_t)(q + 1 - p);
}

/* Step 2: remove "(fwd)" and spaces from the end. */
static void subj_strip_trailers(struct subj *sb)
{
	for (;;) {
		if (sb->e > sb->b && sb->e[-1] == ' ') {
			sb->e--;
		} else if (sb->e - sb->b >= 5 && memcmp(sb->e - 5, "(fwd)", 5) == 0) {
			sb->e -= 5;
			sb->reply = 1;
		} else {
			return;
		}
	}
}

/* Step 3: remove subj-leaders, (*subj-blob subj-refwd) / WSP. 1 if one
 * or more were removed. */
static int subj_strip_leaders(struct subj *sb)
{
	int removed = 0;

	while (sb->b < sb->e) {
		const char *p = sb->b;
		size_t n;

		if (*p == ' ') {
			sb->b++;
			removed = 1;
			continue;
		}
		if (p < sb->noleader)
			break;
		while ((n = subj_refwd_len(p, sb->e)) == 0) {
			size_t blob = subj_blob_len(p, sb->e);

			if (blob == 0)
				break;
			p += blob;
		}
		if (n == 0) {
			/* every blob start in [b, p] was tried: no leader */
			sb->noleader = p;
			break;
		}
		sb->b = p + n;
		sb->reply = 1;
		removed = 1;
	}
	return removed;
}

/* Step 4: remove one leading subj-blob unless it is all that is left. */
static int subj_strip_blob(struct subj *sb)
{
	size_t blob = subj_blob_len(sb->b, sb->e);

	if (blob == 0 || sb->b + blob >= sb->e)
		return 0;
	sb->b += blob;
	return 1;
}

/* Step 6: "[fwd:" ... "]" around everything. */
static int subj_strip_fwd(struct subj *sb)
{
	if (sb->e - sb->b < 6 || memcmp(sb->b, "[fwd:", 5) != 0 ||
	    sb->e[-1] != ']')
		return 0;
	sb->b += 5;
	sb->e--;
	sb->noleader = sb->b;
	sb->reply = 1;
	return 1;
}

int imap_base_subject(const char *subject, size_t len, struct str *out,
		      int *is_reply_r)
{
	struct subj sb;

	if (is_reply_r != NULL)
		*is_reply_r = 0;
	if (subj_normalize(subject, len, out) < 0) {
		str_clear(out);
		return -1;
	}
	sb.b = str_c(out);
	sb.e = sb.b + out->len;
	sb.noleader = sb.b;
	sb.reply = 0;
	do {
		int changed;

		subj_strip_trailers(&sb);
		do {
			changed = subj_strip_leaders(&sb);
			changed |= subj_strip_blob(&sb);
		} while (changed);
	} while (subj_strip_fwd(&sb));
	if (out->len > 0) {
		size_t off = (size_t)(sb.b - out->s), n = (size_t)(sb.e - sb.b);

		memmove(out->s, out->s + off, n);
		str_truncate(out, n);
	}
	if (is_reply_r != NULL)
		*is_reply_r = sb.reply;
	return 0;
}

/* ---- SORT ----------------------------------------------------------- */

struct sort_ctx {
	const struct imap_sort_criterion *crit;
	unsigned ncrit;
};

/* RFC 5256's i;ascii-casemap: ASCII letters compare as upper case (so
 * "[" and "_" sort after the letters, as in Dovecot), other bytes as
 * they are. The keys were folded to lower case; folding back up here
 * gives the same order as folding both to upper case. */
static int cmp_str(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)(a != NULL ? a : "");
	const unsigned char *y = (const unsigned char *)(b != NULL ? b : "");

	for (;; x++, y++) {
		int cx = *x >= 'a' && *x <= 'z' ? *x - 'a' + 'A' : *x;
		int cy = *y >= 'a' && *y <= 'z' ? *y - 'a' + 'A' : *y;

		if (cx != cy)
			return cx < cy ? -1 : 1;
		if (cx == 0)
			return 0;
	}
}

static int cmp_time(time_t a, time_t b)
{
	return (a > b) - (a < b);
}

/* One criterion, ascending; -1, 0, 1. */
static int sort_cmp_key(const struct imap_sort_msg *a,
			const struct imap_sort_msg *b, enum imap_sort_key key)
{
	switch (key) {
	case IMAP_SORT_ARRIVAL:
		return cmp_time(a->arrival, b->arrival);
	case IMAP_SORT_CC:
		return cmp_str(a->cc, b->cc);
	case IMAP_SORT_DATE:
		return cmp_time(a->date, b->date);
	case IMAP_SORT_FROM:
		return cmp_str(a->from, b->from);
	case IMAP_SORT_SIZE:
		return (a->size > b->size) - (a->size < b->size);
	case IMAP_SORT_SUBJECT:
		return cmp_str(a->subject, b->subject);
	case IMAP_SORT_TO:
		return cmp_str(a->to, b->to);
	case IMAP_SORT_DISPLAYFROM:
		return cmp_str(a->displayfrom, b->displayfrom);
	case IMAP_SORT_DISPLAYTO:
		return cmp_str(a->displayto, b->displayto);
	}
	return 0;
}

static int sort_cmp(const void *pa, const void *pb, void *arg)
{
	const struct imap_sort_msg *a = pa, *b = pb;
	const struct sort_ctx *ctx = arg;

	for (unsigned i = 0; i < ctx->ncrit; i++) {
		int r = sort_cmp_key(a, b, ctx->crit[i].key);

		if (r != 0)
			return ctx->crit[i].reverse ? -r : r;
	}
	return (a->seq > b->seq) - (a->seq < b->seq);
}

int imap_sort(struct imap_sort_msg *m, size_t n,
	      const struct imap_sort_criterion *crit, unsigned ncrit)
{
	struct sort_ctx ctx = { crit, ncrit };

	if (ncrit == 0 || ncrit > IMAP_SORT_KEYS_MAX || crit == NULL ||
	    (m == NULL && n > 0)) {
		errno = EINVAL;
		return -1;
	}
	for (unsigned i = 0; i < ncrit; i++) {
		if ((unsigned)crit[i].key > (unsigned)IMAP_SORT_DISPLAYTO) {
			errno = EINVAL;
			return -1;
		}
	}
	if (n > 1)
		qsort_r(m, n, sizeof(*m), sort_cmp, &ctx);
	return 0;
}
