/*
 * maildir_name - Maildir file names and flags, as Dovecot and Courier
 * write and read them
 *
 * GRAMMAR name  = base [ ":" info ]
 *         base  = secs "." unique "." host *( "," key "=" value )
 *         info  = "2," flags [ "," extra ]      (other info versions are
 *                                                kept, never interpreted)
 *         flags = *letter, sorted by ASCII code
 *
 *         The base never changes while the message lives: flags change by
 *         renaming the file within cur/, so the base is the message's
 *         identity (POP3's UIDL, as Dovecot's pop3_uidl_format = %f; the
 *         key of IMAP's UID map). It ends at the FIRST ':' (Dovecot's
 *         maildir_filename_base_cmp does the same; host names in names
 *         have ':' written as "\072", so a name has one ':' at most).
 *
 * NAMES WE WRITE  (maildir_name_unique, maildir_name_sizes)
 *           <secs>.M<usecs>P<pid>Q<n>.<host>,S=<size>,W=<vsize>
 *         <host> is the host name with '/' written as "\057" and ':' as
 *         "\072" (maildir_name_host_escape). S is the file's size in
 *         bytes, W its size with CRLF line ends (maildir_crlf.h: every LF
 *         not preceded by CR counts two), which is what POP3's LIST and
 *         IMAP's RFC822.SIZE report. Either may be absent from other
 *         writers' names (Courier writes neither; Dovecot writes S, and W
 *         where it knows it); readers then count.
 *
 * SIZES   ",S=" and ",W=" are read from the base only, 1 to 19 decimal
 *         digits ending at ',' or the end of the base; anything else there
 *         (",S=", ",S=1a") is not a size and is ignored, as Dovecot's
 *         maildir_filename_get_size ignores it.
 *
 * FLAGS   One bit per ASCII letter (maildir_flags): the system flags
 *         D draft, F flagged, P passed (forwarded), R replied, S seen,
 *         T trashed (Dovecot's \Deleted), and the keyword letters a..z,
 *         whose names are in the Maildir's dovecot-keywords file
 *         (maildir_keywords.h). Bytes among the flags that are not
 *         letters are kept, unknown as they are; so is an ",extra" part
 *         after the flags (Dovecot keeps both). maildir_name_set_flags()
 *         writes the flags back sorted by ASCII code, each once, as Dovecot
 *         and Courier write them.
 *
 * ORDER   maildir_name_cmp(): by the leading decimal seconds, then, in
 *         names "<secs>.M<usecs>...", by the microseconds as a number
 *         (they are not zero-padded: "M99999" is before "M123456"), then by
 *         the whole name bytewise. This is delivery order, which is how
 *         POP3 numbers messages and how IMAP assigns new UIDs.
 *
 * NOT A MESSAGE  A name that is empty, longer than MAILDIR_NAME_MAX
 *         (NAME_MAX), begins with '.' (".", "..", dot files), holds a byte
 *         below 0x21, 0x7f or '/', or has an empty base.
 */
#ifndef POSTERN_MAILDIR_NAME_H
#define POSTERN_MAILDIR_NAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "util/str.h"

#define MAILDIR_NAME_MAX 255

/* A set of flag letters: bit 0..25 'A'..'Z', bit 26..51 'a'..'z'. */
typedef uint64_t maildir_flags;

#define MAILDIR_FLAG(c) ((c) >= 'A' && (c) <= 'Z' ? \
	(maildir_flags)1 << ((c) - 'A') : (c) >= 'a' && (c) <= 'z' ? \
	(maildir_flags)1 << ((c) - 'a' + 26) : (maildir_flags)0)
#define MAILDIR_FLAG_DRAFT	MAILDIR_FLAG('D')
#define MAILDIR_FLAG_FLAGGED	MAILDIR_FLAG('F')
#define MAILDIR_FLAG_PASSED	MAILDIR_FLAG('P')
#define MAILDIR_FLAG_REPLIED	MAILDIR_FLAG('R')
#define MAILDIR_FLAG_SEEN	MAILDIR_FLAG('S')
#define MAILDIR_FLAG_TRASHED	MAILDIR_FLAG('T')
/* The keyword letters a..z: keyword i of dovecot-keywords is bit 26 + i. */
#define MAILDIR_FLAG_KEYWORDS	((maildir_flags)0x3ffffff << 26)
#define MAILDIR_FLAG_KEYWORD(i)	((maildir_flags)1 << (26 + (i)))

struct maildir_name {
	size_t base_len;	/* bytes before the first ':' (or all) */
	const char *info;	/* after that ':', or NULL */
	int has_flags;		/* info is "2,..." */
	maildir_flags flags;	/* the letters among the flags */
	int has_size, has_vsize;
	uint64_t size, vsize;	/* ",S=" and ",W=" */
};

/* Parse name (it must stay valid while m is used). 0, or -1 if it is not
 * a message (NOT A MESSAGE above). */
int maildir_name_parse(const char *name, struct maildir_name *m);
/* Set out to name with the flags (flags | add) & ~remove: ":2," is added
 * when the name had no info part. 1 if the name changes, 0 if not, -1 if
 * name is not a message, has an info part other than "2,...", or the new
 * name would be longer than MAILDIR_NAME_MAX. */
int maildir_name_set_flags(const char *name, maildir_flags add,
			   maildir_flags remove, struct str *out);
/* Append the letters of flags to out in ASCII order. */
int maildir_flags_format(maildir_flags flags, struct str *out);
/* The letters of s[0..n) as a set (other bytes are ignored). */
maildir_flags maildir_flags_parse(const char *s, size_t n);

/* The order of two names: <0, 0, >0 (ORDER above). */
int maildir_name_cmp(const char *a, const char *b);
/* The sort key of ORDER without the tie-break: secs * 10^6 + usecs. */
uint64_t maildir_name_stamp(const char *name);

/* Append host with '/' -> "\057" and ':' -> "\072" to out. */
int maildir_name_host_escape(const char *host, struct str *out);
/* Append "<secs>.M<usecs>P<pid>Q<n>.<host>" (host already escaped). */
int maildir_name_unique(struct str *out, const struct timeval *tv, pid_t pid,
			unsigned long n, const char *host);
/* Append ",S=<size>,W=<vsize>". */
int maildir_name_sizes(struct str *out, uint64_t size, uint64_t vsize);

#endif
