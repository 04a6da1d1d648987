/*
 * imap_seqset - IMAP sequence sets (imap_seqset.h)
 */
#include "imapd/imap_seqset.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void imap_seqset_init(struct imap_seqset *set)
{
	memset(set, 0, sizeof(*set));
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->r);
	imap_seqset_init(set);
}

void imap_seqset_clear(struct imap_seqset *set)
{
	set->n = 0;
	set->searchres = 0;
	set->has_star = 0;
}

void imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->r = xreallocarray(set->r, set->cap, sizeof(*set->r));
	}
	if (lo == IMAP_SEQ_STAR || hi == IMAP_SEQ_STAR)
		set->has_star = 1;
	set->r[set->n].lo = lo;
	set->r[set->n].hi = hi;
	set->n++;
}

/* seq-number at s[*i]; 0 for "*"; -1 if none. */
static int64_t imap_seq_number(const char *s, size_t len, size_t *i)
{
	uint64_t v = 0;
	size_t start = *i;

	if (*i < len && s[*i] == '*') {
		(*i)++;
		return IMAP_SEQ_STAR;
	}
	if (*i >= len || s[*i] < '1' || s[*i] > '9')
		return -1;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (uint64_t)(s[*i] - '0');
		if (v > UINT32_MAX || *i - start >= 10)
			return -1;
		(*i)++;
	}
	return (int64_t)v;
}

int imap_seqset_parse(struct imap_seqset *set, const char *s, size_t len,
		      unsigned max_ranges, const char **error_r)
{
	size_t i = 0;

	imap_seqset_clear(set);
	if (len == 1 && s[0] == '$') {
		set->searchres = 1;
		return 0;
	}
	for (;;) {
		int64_t lo = imap_seq_number(s, len, &i), hi;

		if (lo < 0) {
			*error_r = "Invalid sequence set";
			return -1;
		}
		hi = lo;
		if (i < len && s[i] == ':') {
			i++;
			hi = imap_seq_number(s, len, &i);
			if (hi < 0) {
				*error_r = "Invalid sequence set";
				return -1;
			}
		}
		if (set->n >= max_ranges) {
			*error_r = "Sequence set too long";
			return -1;
		}
		imap_seqset_add(set, (uint32_t)lo, (uint32_t)hi);
		if (i == len)
			return 0;
		if (s[i] != ',') {
			*error_r = "Invalid sequence set";
			return -1;
		}
		i++;
	}
}

int imap_seqset_valid(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 1 && s[0] == '$')
		return 1;
	for (;;) {
		if (imap_seq_number(s, len, &i) < 0)
			return 0;
		if (i < len && s[i] == ':') {
			i++;
			if (imap_seq_number(s, len, &i) < 0)
				return 0;
		}
		if (i == len)
			return 1;
		if (s[i++] != ',')
			return 0;
	}
}

static int imap_range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_normalize(struct imap_seqset *set)
{
	unsigned out = 0;

	for (unsigned i = 0; i < set->n; i++) {
		if (set->r[i].lo > set->r[i].hi) {
			uint32_t t = set->r[i].lo;

			set->r[i].lo = set->r[i].hi;
			set->r[i].hi = t;
		}
	}
	if (set->n > 1)
		qsort(set->r, set->n, sizeof(*set->r), imap_range_cmp);
	for (unsigned i = 0; i < set->n; i++) {
		if (out > 0 && (set->r[out - 1].hi == UINT32_MAX ||
				set->r[i].lo <= set->r[out - 1].hi + 1)) {
			if (set->r[i].hi > set->r[out - 1].hi)
				set->r[out - 1].hi = set->r[i].hi;
			continue;
		}
		set->r[out++] = set->r[i];
	}
	set->n = out;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t highest)
{
	for (unsigned i = 0; i < set->n; i++) {
		if (set->r[i].lo == IMAP_SEQ_STAR)
			set->r[i].lo = highest;
		if (set->r[i].hi == IMAP_SEQ_STAR)
			set->r[i].hi = highest;
	}
	set->has_star = 0;
	imap_seqset_normalize(set);
}

int imap_seqset_contains(const struct imap_seqset *set, uint32_t v)
{
	unsigned lo = 0, hi = set->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (v < set->r[mid].lo)
			hi = mid;
		else if (v > set->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t c = 0;

	for (unsigned i = 0; i < set->n; i++)
		c += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return c;
}

int imap_seqset_next(const struct imap_seqset *set, uint32_t *v)
{
	unsigned lo = 0, hi = set->n;

	if (*v == UINT32_MAX)
		return 0;
	/* the first range whose hi is above *v */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (set->r[mid].hi <= *v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == set->n)
		return 0;
	*v = set->r[lo].lo > *v ? set->r[lo].lo : *v + 1;
	return 1;
}

void imap_seqset_clip(struct imap_seqset *set, uint32_t max)
{
	unsigned out = 0;

	for (unsigned i = 0; i < set->n; i++) {
		struct imap_seq_range rg = set->r[i];

		if (rg.lo == 0)
			rg.lo = 1;
		if (rg.hi > max)
			rg.hi = max;
		if (rg.lo <= rg.hi)
			set->r[out++] = rg;
	}
	set->n = out;
}

static int imap_seq_format(struct str *out, uint32_t v)
{
	if (v == IMAP_SEQ_STAR)
		return str_appendc(out, '*');
	return str_appendf(out, "%u", v);
}

static int imap_range_format(struct str *out, uint32_t lo, uint32_t hi,
			     int first)
{
	size_t start = out->len;

	if ((!first && str_appendc(out, ',') < 0) ||
	    imap_seq_format(out, lo) < 0 ||
	    (lo != hi && (str_appendc(out, ':') < 0 ||
			  imap_seq_format(out, hi) < 0))) {
		str_truncate(out, start);
		return -1;
	}
	return 0;
}

int imap_seqset_format(const struct imap_seqset *set, struct str *out)
{
	for (unsigned i = 0; i < set->n; i++)
		if (imap_range_format(out, set->r[i].lo, set->r[i].hi,
				      i == 0) < 0)
			return -1;
	return 0;
}

int imap_seqset_format_uids(const uint32_t *uids, size_t n, struct str *out)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && uids[j] != UINT32_MAX &&
		       uids[j + 1] == uids[j] + 1)
			j++;
		if (imap_range_format(out, uids[i], uids[j], i == 0) < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}
