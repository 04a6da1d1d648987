/*
 * imap_args - small typed parsers over the arguments of STORE, LIST,
 * STATUS, SELECT/EXAMINE, ENABLE and APPEND (imap_parse.h gives the
 * arguments; the caller has taken the sequence set or mailbox where
 * noted). Each returns 0, or -1 with *error_r for a BAD answer. Strings
 * point into the command's arguments.
 *
 * STORE (RFC 3501 6.4.6, RFC 7162 3.1.3), after the sequence set:
 *   ["(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")" SP]
 *   ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag *(SP flag))
 *   flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" /
 *          keyword (an atom without "\"; any case for system flags)
 *   \Recent and other "\" names are BAD (they cannot be stored).
 *
 * LIST (RFC 3501, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154):
 *   ["(" [select-opt *(SP select-opt)] ")" SP] reference SP
 *   (pattern / "(" pattern *(SP pattern) ")")
 *   [SP "RETURN" SP "(" [return-opt *(SP return-opt)] ")"]
 *   select-opt = "SUBSCRIBED" / "REMOTE" / "RECURSIVEMATCH" / "SPECIAL-USE"
 *                (RECURSIVEMATCH alone is BAD, RFC 5258 3.1)
 *   return-opt = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" /
 *                "STATUS" SP "(" status-att *(SP status-att) ")"
 *   Unknown options are BAD (RFC 5258 3). At most IMAP_LIST_PATTERNS_MAX
 *   patterns.
 *
 * STATUS items: "(" status-att *(SP status-att) ")", status-att = MESSAGES
 *   / RECENT / UIDNEXT / UIDVALIDITY / UNSEEN / DELETED / SIZE /
 *   HIGHESTMODSEQ / APPENDLIMIT.
 *
 * SELECT/EXAMINE (RFC 7162): mailbox [SP "(" param *(SP param) ")"],
 *   param = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP modseq
 *           [SP known-uids [SP "(" known-seq-set SP known-uid-set ")"]] ")"
 *
 * ENABLE (RFC 5161): 1*(SP capability); unknown ones are ignored.
 *
 * APPEND (RFC 3501 6.3.11, RFC 3502 MULTIAPPEND): before each message
 *   [SP flag-list] [SP date-time]; the first part starts with the
 *   mailbox. A flag list here may not hold \Recent either.
 */
#ifndef POSTERN_IMAP_ARGS_H
#define POSTERN_IMAP_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imapd/imap_parse.h"

enum imap_flag {
	IMAP_FLAG_ANSWERED = 1 << 0,
	IMAP_FLAG_FLAGGED = 1 << 1,
	IMAP_FLAG_DELETED = 1 << 2,
	IMAP_FLAG_SEEN = 1 << 3,
	IMAP_FLAG_DRAFT = 1 << 4,
};

/* Flags as given: the system flags as bits, the keywords as atoms. */
#define IMAP_FLAGS_KEYWORDS_MAX 128
struct imap_flags {
	unsigned system;
	const struct imap_arg *keyword[IMAP_FLAGS_KEYWORDS_MAX];
	unsigned nkeywords;
};

/* The flag bit of a system flag name ("\Seen"), or 0. */
unsigned imap_flag_system(const char *s, size_t len);
/* A flag-list's or flags' arguments into fl. */
int imap_flags_parse(const struct imap_arg *a, unsigned n,
		     struct imap_flags *fl, const char **error_r);

enum imap_store_op { IMAP_STORE_SET, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store_args {
	enum imap_store_op op;
	int silent;
	int unchangedsince_set;
	uint64_t unchangedsince;
	struct imap_flags flags;
};

int imap_store_parse(const struct imap_arg *args, unsigned nargs,
		     struct imap_store_args *st, const char **error_r);

enum imap_status_item {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_RECENT = 1 << 1,
	IMAP_STATUS_UIDNEXT = 1 << 2,
	IMAP_STATUS_UIDVALIDITY = 1 << 3,
	IMAP_STATUS_UNSEEN = 1 << 4,
	IMAP_STATUS_DELETED = 1 << 5,
	IMAP_STATUS_SIZE = 1 << 6,
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 7,
	IMAP_STATUS_APPENDLIMIT = 1 << 8,
};

int imap_status_items_parse(const struct imap_arg *a, unsigned *items_r,
			    const char **error_r);

#define IMAP_LIST_PATTERNS_MAX 32

enum imap_list_select {
	IMAP_LIST_SEL_SUBSCRIBED = 1 << 0,
	IMAP_LIST_SEL_REMOTE = 1 << 1,
	IMAP_LIST_SEL_RECURSIVEMATCH = 1 << 2,
	IMAP_LIST_SEL_SPECIAL_USE = 1 << 3,
};

enum imap_list_return {
	IMAP_LIST_RET_SUBSCRIBED = 1 << 0,
	IMAP_LIST_RET_CHILDREN = 1 << 1,
	IMAP_LIST_RET_SPECIAL_USE = 1 << 2,
	IMAP_LIST_RET_STATUS = 1 << 3,
};

struct imap_list_args {
	int extended;			/* any LIST-EXTENDED syntax used */
	unsigned select;		/* enum imap_list_select */
	unsigned ret;			/* enum imap_list_return */
	unsigned status_items;		/* with IMAP_LIST_RET_STATUS */
	const char *reference;
	size_t reference_len;
	const char *pattern[IMAP_LIST_PATTERNS_MAX];
	size_t pattern_len[IMAP_LIST_PATTERNS_MAX];
	unsigned npatterns;
};

int imap_list_parse(const struct imap_arg *args, unsigned nargs,
		    struct imap_list_args *l, const char **error_r);

struct imap_select_args {
	const char *mailbox;
	size_t mailbox_len;
	int condstore;
	int qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	const char *known_uids;		/* a sequence-set, or NULL */
	size_t known_uids_len;
	const char *seq_match;		/* known-sequence-set, or NULL */
	size_t seq_match_len;
	const char *uid_match;		/* known-uid-set */
	size_t uid_match_len;
};

int imap_select_parse(const struct imap_arg *args, unsigned nargs,
		      struct imap_select_args *sel, const char **error_r);

enum imap_enable_cap {
	IMAP_ENABLE_CONDSTORE = 1 << 0,
	IMAP_ENABLE_QRESYNC = 1 << 1,
	IMAP_ENABLE_IMAP4REV2 = 1 << 2,
	IMAP_ENABLE_UTF8_ACCEPT = 1 << 3,
};

/* *caps_r: the known capabilities named (the others are ignored). */
int imap_enable_parse(const struct imap_arg *args, unsigned nargs,
		      unsigned *caps_r, const char **error_r);

struct imap_append_args {
	const char *mailbox;		/* first part only */
	size_t mailbox_len;
	int flags_given;
	struct imap_flags flags;
	int date_given;
	time_t date;
	int date_zone;			/* minutes east of UTC */
};

/* The arguments before one message: with_mailbox for the first part
 * (imap_read_command()), 0 after imap_read_continue(). */
int imap_append_parse(const struct imap_arg *args, unsigned nargs,
		      int with_mailbox, struct imap_append_args *ap,
		      const char **error_r);

#endif
