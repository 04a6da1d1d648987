/*
 * imap_thread - the THREAD algorithms ORDEREDSUBJECT and REFERENCES
 * (RFC 5256 sections 4 and 5) over values the caller extracted
 *
 * Pure functions: imapd/imap_search.c gives, for each message that
 * matched, its base subject (imap_sort.h), sent date and the text of its
 * Message-ID, References and In-Reply-To fields; imap_thread() appends the
 * thread-list of the THREAD response.
 *
 * GRAMMAR
 *   out            = *thread-list            ; RFC 5256, without "* THREAD "
 *   thread-list    = "(" (thread-members / thread-nested) ")"
 *   thread-members = nz-number *(SP nz-number) [SP thread-nested]
 *   thread-nested  = 2*thread-list
 *   refs-field     = *(CFWS / junk / msg-id)  ; References, In-Reply-To
 *   msg-id         = "<" 1*idchar "@" 1*idchar ">"
 *   idchar         = any byte above SP except "<", ">"
 * A msg-id is what lies between "<" and the next ">", kept as it is
 * (Message-ID comparisons are case-sensitive, RFC 5256 4 1.A); one with
 * white space, control bytes, no "@" or more than IMAP_THREAD_ID_MAX
 * bytes inside is not valid and is skipped. Parenthesized comments
 * (nested, with quoted-pairs) and quoted strings outside "<...>" are
 * skipped, so "(see <a@b>)" is no reference (Dovecot 2.3 takes it for
 * one); an unterminated comment or quoted string runs to the end of the
 * field. The Message-ID field's first valid msg-id is the message's id.
 *
 * REFERENCES, as RFC 5256 section 4 states it:
 *   1  messages are linked by their references: the References field's
 *      ids or, if it has none, the first id of In-Reply-To. Consecutive
 *      ids become parent and child unless the child already has a parent
 *      or the link would make a loop; then the message itself becomes the
 *      child of its last reference (an old parent link of the message is
 *      broken first; again no loop). An id no message has is a dummy;
 *      a Message-ID already used by an earlier message (lower sequence
 *      number) is treated as absent, as is a missing or invalid one.
 *   2  the messages and dummies without a parent are the roots
 *   3  dummies are pruned: one without children goes, one with children
 *      is replaced by them, except that a root dummy keeps two or more
 *      children (it is printed as "((3)(5))")
 *   4  the roots are sorted by sent date (a dummy by its first child)
 *   5  roots with the same base subject are gathered (the subject table,
 *      replies placed under non-replies, dummies created where neither
 *      is a reply); an empty subject is never gathered
 *   6  every set of siblings is sorted by sent date
 * ORDEREDSUBJECT: the messages sorted by (base subject, sent date); each
 * run of one subject is a thread whose first message is the parent of
 * all the others; threads in order of their first message's date.
 * Sent dates that tie are ordered by sequence number everywhere.
 *
 * LIMITS  n below IMAP_THREAD_MSGS_MAX; at most IMAP_THREAD_REFS_MAX ids
 * of one References field (the last ones: the nearest ancestors, which a
 * truncating mail reader keeps too); at most IMAP_THREAD_DUMMIES_MAX
 * dummies in all (an id past that budget is treated as absent). Memory
 * about 60 bytes per message and per dummy at the peak (a million
 * messages that each bring a new id: about 120 MB, freed on return). Time
 * O(R log N + N log N) for R references and N nodes: the loop test of
 * step 1 is a link-cut tree (Sleator and Tarjan), not a walk up the
 * ancestors, which a crafted chain of a million messages would make
 * quadratic; the id and subject tables use SipHash with a random key, so
 * colliding ids cannot be sent to make them quadratic either. No
 * recursion: the trees are walked with explicit stacks, and the output
 * nests as deep as the threads do.
 *
 * WHY  clients show RFC 5256's threads side by side with their own and
 * with other servers'; every rule is kept, including the odd ones (the
 * "already has a parent" rule of step 1.A, the promotion rule of step 3).
 */
#ifndef POSTERN_IMAP_THREAD_H
#define POSTERN_IMAP_THREAD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/str.h"
#include "imapd/imap_search_parse.h"

#define IMAP_THREAD_MSGS_MAX	 100000000u
#define IMAP_THREAD_REFS_MAX	 100u
#define IMAP_THREAD_DUMMIES_MAX	 1000000u
#define IMAP_THREAD_ID_MAX	 998u

struct imap_thread_msg {
	uint32_t id;		/* what the response prints: seq or UID */
	uint32_t seq;		/* for ordering ties; ascending in m[] */
	time_t date;		/* sent date as for SORT DATE */
	const char *subject;	/* base subject (imap_base_subject) */
	int is_reply;		/* imap_base_subject's *is_reply_r: the subject
				 * had Re:/Fwd:/(fwd)/[fwd: ] (REFERENCES 5) */
	const char *message_id;	/* the Message-ID field's text, or NULL */
	const char *references;	/* the References field's text, or NULL */
	const char *in_reply_to;	/* In-Reply-To text, or NULL */
};

/* Append the thread list "(1 2)(3 (4)(5))" for alg over m[0..n), which
 * is in mailbox order (strictly ascending seq). 0, or -1: EINVAL (bad
 * alg, seq not ascending, n too large), EMSGSIZE (out's cap; out is then
 * as it was). */
int imap_thread(const struct imap_thread_msg *m, size_t n,
		enum imap_thread_alg alg, struct str *out);

#endif
