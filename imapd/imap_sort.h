/*
 * imap_sort - the base subject and the ordering of IMAP SORT (RFC 5256
 * sections 2 and 3, RFC 5957 DISPLAYFROM/DISPLAYTO)
 *
 * Pure functions: imapd/imap_search.c extracts the header values of the
 * messages that matched (RFC 2047 decoding, addresses, dates) and hands
 * them over here; nothing in this module reads a message or a mailbox.
 *
 * GRAMMAR  (RFC 5256 section 5, on the subject after step 1 below)
 *   subject      = *subj-leader [subj-middle] *subj-trailer
 *   subj-refwd   = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
 *   subj-blob    = "[" *BLOBCHAR "]" *WSP
 *   subj-fwd     = subj-fwd-hdr subject subj-fwd-trl
 *   subj-fwd-hdr = "[fwd:"
 *   subj-fwd-trl = "]"
 *   subj-leader  = (*subj-blob subj-refwd) / WSP
 *   subj-middle  = *subj-blob (subj-base / subj-fwd)
 *   subj-trailer = "(fwd)" / WSP
 *   subj-base    = NONWSP *(*WSP NONWSP)
 *   BLOBCHAR     = any byte but "[" and "]"
 *
 * The base subject (RFC 5256 2.1), step by step:
 *   1  TAB, CR and LF become spaces, runs of spaces one space; ASCII
 *      letters are folded to lower case (the comparison is then strcmp:
 *      RFC 5256's i;ascii-casemap; non-ASCII UTF-8 is kept as it is);
 *      NUL bytes are dropped (the result is a C string)
 *   2  remove trailing subj-trailers ("(fwd)" and spaces), repeatedly
 *   3  remove leading subj-leaders ("Re:", "[PATCH] Fwd:", " ")
 *   4  remove one leading subj-blob if something is left after it
 *   5  repeat 3 and 4 until nothing changes
 *   6  "[fwd: ... ]" around all of it: remove both ends, go back to 2
 * "Re: [PATCH] foo (fwd)" -> "foo"; "Fwd: Re: re: x" -> "x";
 * "[fwd: x]" -> "x"; "[PATCH]" -> "[patch]" (a blob is kept when it is all
 * there is). The subject is a reply or forward (REFERENCES step 5 needs
 * to know) when a subj-refwd, a "(fwd)" trailer or a "[fwd:" ... "]" pair
 * was removed; a blob or spaces alone do not make a reply.
 *
 * SORT (RFC 5256 section 3): each criterion compares one value of struct
 * imap_sort_msg, REVERSE inverts that criterion only, and messages equal
 * under all criteria come in sequence-number order (never reversed).
 * Strings compare with strcmp, so the caller folds them beforehand.
 *
 * LIMITS  the base subject is at most as long as the subject (out's cap
 * may refuse it: EMSGSIZE); the work is linear in the subject's length
 * (a run of blobs that precedes no "Re:" is scanned once, not once per
 * blob). imap_sort() takes 1..IMAP_SORT_KEYS_MAX criteria and any number
 * of messages (qsort_r: O(n log n) comparisons, no extra memory).
 *
 * WHY  RFC 5256 requires every server and disconnected client to compute
 * exactly this base subject so that threads and sort orders agree between
 * them; the steps are written one function each, in the RFC's order, so
 * they can be checked against its text.
 *
 *   struct str base = STR_INIT(0);
 *   int reply;
 *   imap_base_subject(decoded, decoded_len, &base, &reply);
 */
#ifndef POSTERN_IMAP_SORT_H
#define POSTERN_IMAP_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/str.h"
#include "imapd/imap_search_parse.h"

/* The RFC 5256 base subject of subject[0..len), already decoded to UTF-8
 * (RFC 2047 is the caller's), into out (its content replaced). If
 * is_reply_r is not NULL, *is_reply_r is 1 when the subject was a reply or
 * forward, else 0. 0, or -1 (errno EMSGSIZE, out's cap; out then empty). */
int imap_base_subject(const char *subject, size_t len, struct str *out,
		      int *is_reply_r);

struct imap_sort_msg {
	uint32_t seq, uid;	/* the lead prints one of them */
	time_t arrival;		/* INTERNALDATE */
	time_t date;		/* the Date field, or arrival if none or
				 * unparsable (RFC 5256 "DATE") */
	uint64_t size;		/* RFC822.SIZE */
	const char *subject;	/* base subject (imap_base_subject) */
	const char *from, *to, *cc;	/* addr-mailbox of the first address,
					 * lower case, "" if none */
	const char *displayfrom, *displayto;	/* RFC 5957: the display name
					 * decoded, or the addr-spec, folded */
};

/* Sort m[0..n) in place by crit[0..ncrit) (ties by sequence number, RFC
 * 5256). NULL strings count as "". 0, or -1 (EINVAL: ncrit 0 or above
 * IMAP_SORT_KEYS_MAX, an unknown key, or m NULL with n > 0). */
int imap_sort(struct imap_sort_msg *m, size_t n,
	      const struct imap_sort_criterion *crit, unsigned ncrit);

#endif
