/*
 * imap_seqset - IMAP sequence sets (RFC 3501/9051 sequence-set, RFC 5182
 * "$"): parse, resolve "*", test membership, iterate, format
 *
 * GRAMMAR
 *   sequence-set = "$" / set-item *("," set-item)
 *   set-item     = seq-number / seq-number ":" seq-number
 *   seq-number   = nz-number / "*"
 *   nz-number    = digit-nz *DIGIT          1 to 4294967295, no leading 0
 *
 * A parsed set keeps its ranges as written, "*" as IMAP_SEQ_STAR (0, which
 * no nz-number can be). imap_seqset_resolve() replaces "*" with the
 * mailbox's highest sequence number or UID, puts each range in order
 * (RFC 9051: "4:2" is "2:4"; "559:*" includes the last message even when
 * 559 is above it), then sorts and merges the ranges, after which
 * imap_seqset_contains() is a binary search and the iteration goes up.
 * "$" parses to a set with searchres = 1 and no ranges: the caller puts
 * the saved search result in its place (imap_seqset_add()).
 *
 * LIMITS  at most `max_ranges` items per set (the command line bounds it
 * anyway); numbers above 4294967295 are refused.
 *
 * FORMAT  imap_seqset_format() writes a normalized set compactly
 * ("1:3,5,7:9"; an unresolved "*" as "*"); imap_seqset_format_uids() writes a list of UIDs in the
 * order given, joining only ascending runs, for COPYUID where the source
 * and destination sets must correspond element by element (RFC 4315).
 */
#ifndef POSTERN_IMAP_SEQSET_H
#define POSTERN_IMAP_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define IMAP_SEQ_STAR 0u

struct imap_seq_range {
	uint32_t lo, hi;
};

struct imap_seqset {
	struct imap_seq_range *r;
	unsigned n, cap;
	int searchres;		/* "$" */
	int has_star;		/* a "*" was written */
};

void imap_seqset_init(struct imap_seqset *set);
void imap_seqset_free(struct imap_seqset *set);
void imap_seqset_clear(struct imap_seqset *set);
/* Parse s[0..len) into set (replacing it). 0, or -1 with *error_r. */
int imap_seqset_parse(struct imap_seqset *set, const char *s, size_t len,
		      unsigned max_ranges, const char **error_r);
/* 1 if s[0..len) is a well-formed sequence set ("$" included). */
int imap_seqset_valid(const char *s, size_t len);
/* Add lo:hi (either order; IMAP_SEQ_STAR allowed before resolving). */
void imap_seqset_add(struct imap_seqset *set, uint32_t lo, uint32_t hi);
/* Replace "*" by highest, order, sort and merge. */
void imap_seqset_resolve(struct imap_seqset *set, uint32_t highest);
/* Sort and merge (no "*" left). */
void imap_seqset_normalize(struct imap_seqset *set);
/* After resolve/normalize: */
int imap_seqset_contains(const struct imap_seqset *set, uint32_t v);
uint64_t imap_seqset_count(const struct imap_seqset *set);
/* The smallest member above *v (start with *v = 0): 1, or 0 at the end. */
int imap_seqset_next(const struct imap_seqset *set, uint32_t *v);
/* Keep only the members in 1..max (sequence numbers past the end). */
void imap_seqset_clip(struct imap_seqset *set, uint32_t max);
/* Append the set as text ("" for an empty set). 0, or -1 past out's cap. */
int imap_seqset_format(const struct imap_seqset *set, struct str *out);
int imap_seqset_format_uids(const uint32_t *uids, size_t n, struct str *out);

#endif
