/*
 * imap_search_parse - the arguments of SEARCH, SORT and THREAD into a
 * tree of search keys (RFC 3501/9051 6.4.4, RFC 4731 ESEARCH, RFC 5182
 * SEARCHRES, RFC 7162 MODSEQ, RFC 5256 SORT/THREAD, RFC 5957 DISPLAY)
 *
 * GRAMMAR
 *   search   = [SP "RETURN" SP "(" [ret *(SP ret)] ")"]
 *              [SP "CHARSET" SP astring] 1*(SP key)
 *   ret      = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"   ("()" is ALL)
 *   key      = "ALL" / "ANSWERED" / "DELETED" / "DRAFT" / "FLAGGED" /
 *              "NEW" / "OLD" / "RECENT" / "SEEN" / "UNANSWERED" /
 *              "UNDELETED" / "UNDRAFT" / "UNFLAGGED" / "UNSEEN" /
 *              ("BCC" / "BODY" / "CC" / "FROM" / "SUBJECT" / "TEXT" /
 *               "TO") SP astring /
 *              "HEADER" SP astring SP astring /
 *              ("KEYWORD" / "UNKEYWORD") SP atom /
 *              ("BEFORE" / "ON" / "SINCE" / "SENTBEFORE" / "SENTON" /
 *               "SENTSINCE") SP date /
 *              ("LARGER" / "SMALLER") SP number64 /
 *              "UID" SP sequence-set / sequence-set /
 *              "NOT" SP key / "OR" SP key SP key / "(" key *(SP key) ")" /
 *              "MODSEQ" [SP entry-name SP ("priv" / "shared" / "all")]
 *                       SP mod-sequence-valzer
 *   sort     = "(" ["REVERSE" SP] sort-key *(SP ["REVERSE" SP] sort-key)
 *              ")" SP charset 1*(SP key)
 *   sort-key = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" / "SUBJECT" /
 *              "TO" / "DISPLAYFROM" / "DISPLAYTO"
 *   thread   = ("ORDEREDSUBJECT" / "REFERENCES") SP charset 1*(SP key)
 *
 * Key names are case-insensitive; a date is DD-Mon-YYYY, as an atom or a
 * quoted string (imap_quote.h). The keys given side by side are one AND
 * node, the root. CHARSET: US-ASCII and UTF-8 only (any case); another is
 * IMAP_SEARCH_BADCHARSET, answered "NO [BADCHARSET (US-ASCII UTF-8)]".
 * Strings are kept as they came (no charset conversion here).
 *
 * LIMITS  nesting (parentheses, NOT, OR) at most s->depth_max levels (the
 * parser recurses that deep and no deeper), at most s->nodes_max keys;
 * over either, BAD. Strings point into the command's arguments.
 */
#ifndef POSTERN_IMAP_SEARCH_PARSE_H
#define POSTERN_IMAP_SEARCH_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "imapd/imap_parse.h"
#include "imapd/imap_seqset.h"

#define IMAP_SEARCH_DEPTH_MAX 32
#define IMAP_SEARCH_NODES_MAX 2000

enum imap_search_result {
	IMAP_SEARCH_OK = 0,
	IMAP_SEARCH_BAD = -1,
	IMAP_SEARCH_BADCHARSET = -2,
};

enum imap_search_key {
	IMAP_SEARCH_AND,	/* children */
	IMAP_SEARCH_OR,		/* two children */
	IMAP_SEARCH_NOT,	/* one child */
	IMAP_SEARCH_ALL,
	IMAP_SEARCH_ANSWERED, IMAP_SEARCH_DELETED, IMAP_SEARCH_DRAFT,
	IMAP_SEARCH_FLAGGED, IMAP_SEARCH_SEEN, IMAP_SEARCH_RECENT,
	IMAP_SEARCH_NEW,	/* RECENT UNSEEN */
	IMAP_SEARCH_OLD,	/* NOT RECENT */
	IMAP_SEARCH_UNANSWERED, IMAP_SEARCH_UNDELETED, IMAP_SEARCH_UNDRAFT,
	IMAP_SEARCH_UNFLAGGED, IMAP_SEARCH_UNSEEN,
	IMAP_SEARCH_KEYWORD, IMAP_SEARCH_UNKEYWORD,	/* str */
	IMAP_SEARCH_BCC, IMAP_SEARCH_BODY, IMAP_SEARCH_CC,
	IMAP_SEARCH_FROM, IMAP_SEARCH_SUBJECT, IMAP_SEARCH_TEXT,
	IMAP_SEARCH_TO,					/* str */
	IMAP_SEARCH_HEADER,			/* str: field, value */
	IMAP_SEARCH_BEFORE, IMAP_SEARCH_ON, IMAP_SEARCH_SINCE,
	IMAP_SEARCH_SENTBEFORE, IMAP_SEARCH_SENTON,
	IMAP_SEARCH_SENTSINCE,			/* days */
	IMAP_SEARCH_LARGER, IMAP_SEARCH_SMALLER,	/* num */
	IMAP_SEARCH_SEQSET, IMAP_SEARCH_UID,		/* set */
	IMAP_SEARCH_MODSEQ,		/* num, entry, entry_type */
};

enum imap_search_entry_type {
	IMAP_SEARCH_ENTRY_NONE, IMAP_SEARCH_ENTRY_PRIV,
	IMAP_SEARCH_ENTRY_SHARED, IMAP_SEARCH_ENTRY_ALL,
};

struct imap_search_node {
	enum imap_search_key key;
	const char *str, *value;	/* HEADER: field, value */
	size_t len, value_len;
	int64_t days;			/* since 1970-01-01 */
	uint64_t num;			/* LARGER/SMALLER size, MODSEQ */
	struct imap_seqset set;		/* SEQSET/UID; set.searchres: "$" */
	const char *entry;		/* MODSEQ entry name, or NULL */
	size_t entry_len;
	enum imap_search_entry_type entry_type;
	struct imap_search_node *child;	/* AND/OR/NOT: first child */
	struct imap_search_node *next;	/* next sibling */
	struct imap_search_node *alloc_next;	/* private */
	unsigned nchild;
};

enum imap_search_return {
	IMAP_SEARCH_RETURN_MIN = 1 << 0,
	IMAP_SEARCH_RETURN_MAX = 1 << 1,
	IMAP_SEARCH_RETURN_ALL = 1 << 2,
	IMAP_SEARCH_RETURN_COUNT = 1 << 3,
	IMAP_SEARCH_RETURN_SAVE = 1 << 4,
};

enum imap_sort_key {
	IMAP_SORT_ARRIVAL, IMAP_SORT_CC, IMAP_SORT_DATE, IMAP_SORT_FROM,
	IMAP_SORT_SIZE, IMAP_SORT_SUBJECT, IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM, IMAP_SORT_DISPLAYTO,
};

#define IMAP_SORT_KEYS_MAX 16

struct imap_sort_criterion {
	enum imap_sort_key key;
	int reverse;
};

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
};

struct imap_search {
	unsigned depth_max, nodes_max;	/* set by imap_search_init() */
	int return_given;		/* RETURN (...): answer ESEARCH */
	unsigned return_opts;		/* enum imap_search_return bits */
	int charset_utf8;		/* CHARSET UTF-8 (else US-ASCII) */
	int charset_given;
	int uses_searchres;		/* a "$" somewhere */
	int uses_modseq;		/* a MODSEQ key: answer (MODSEQ n) */
	struct imap_search_node *root;	/* an AND node */
	/* SORT */
	struct imap_sort_criterion sort[IMAP_SORT_KEYS_MAX];
	unsigned nsort;
	/* THREAD */
	enum imap_thread_alg thread_alg;
	/* private */
	struct imap_search_node *all;
	unsigned nnodes;
};

void imap_search_init(struct imap_search *s);
void imap_search_free(struct imap_search *s);
/* SEARCH's arguments. Returns enum imap_search_result; *error_r on BAD. */
int imap_search_parse(struct imap_search *s, const struct imap_arg *args,
		      unsigned nargs, const char **error_r);
/* SORT's arguments (sort criteria, charset, keys). */
int imap_sort_parse(struct imap_search *s, const struct imap_arg *args,
		    unsigned nargs, const char **error_r);
/* THREAD's arguments (algorithm, charset, keys). */
int imap_thread_parse(struct imap_search *s, const struct imap_arg *args,
		      unsigned nargs, const char **error_r);

#endif
