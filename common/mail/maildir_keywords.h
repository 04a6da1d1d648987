/*
 * maildir_keywords - the dovecot-keywords file: which IMAP keyword each
 * flag letter a..z of a Maildir's file names stands for
 *
 * FILE    "dovecot-keywords" in the Maildir (each Maildir++ folder has its
 *         own), as Dovecot writes it:
 *
 *           line  = index SP name LF
 *           index = 1*2DIGIT                 0 to 25: letter 'a' + index
 *           name  = 1*255 byte               no control bytes, no SP
 *
 *         in index order. Dovecot reads it leniently (atoi(3) of what
 *         comes before the first space; lines it cannot use are skipped)
 *         and so does maildir_keywords_parse(): a line without a space,
 *         with an index that is not 1 or 2 digits below 26, or with an
 *         empty, over-long or control-holding name is skipped and counted,
 *         never fatal: the file belongs to the user's mail, and one bad
 *         line must not hide the other keywords. A later line for the same
 *         index replaces an earlier one (as in Dovecot). IMAP keywords are
 *         atoms (no SP), so a name with a space is skipped too.
 *
 * NAMES   Compared without regard to ASCII case (Dovecot's lookup is
 *         case-insensitive), kept with the case they were first written
 *         with. A name that appears at two indexes maps to the lower one.
 *
 * LIMITS  26 keywords (the letters); a name at most
 *         MAILDIR_KEYWORD_NAME_MAX bytes; the file at most
 *         MAILDIR_KEYWORDS_FILE_MAX bytes (26 full lines fit), larger is
 *         EFBIG from maildir_keywords_read().
 *
 * WRITING The file is replaced whole (maildir_keywords_format() gives its
 *         text; the caller writes it with the atomic-write primitive,
 *         fileio.h), never edited in place, so a reader sees the old list
 *         or the new one. A letter, once given a name, keeps it while any
 *         file may carry it.
 */
#ifndef POSTERN_MAILDIR_KEYWORDS_H
#define POSTERN_MAILDIR_KEYWORDS_H

#include <stddef.h>

#include "util/str.h"

#define MAILDIR_KEYWORDS_MAX 26
#define MAILDIR_KEYWORD_NAME_MAX 255
#define MAILDIR_KEYWORDS_FILE_MAX (MAILDIR_KEYWORDS_MAX * \
				   (MAILDIR_KEYWORD_NAME_MAX + 4))
#define MAILDIR_KEYWORDS_FILE "dovecot-keywords"

struct maildir_keywords {
	char *name[MAILDIR_KEYWORDS_MAX];	/* NULL: letter unused */
};

void maildir_keywords_init(struct maildir_keywords *kw);
void maildir_keywords_free(struct maildir_keywords *kw);
/* Parse the file's text p[0..n) into kw (replacing its content). Returns
 * the number of lines skipped (FILE above); never fails. */
size_t maildir_keywords_parse(struct maildir_keywords *kw, const char *p,
			      size_t n);
/* Read dir_fd/dovecot-keywords into kw; a missing file is an empty list.
 * Returns the lines skipped, or -1 with errno (EFBIG: over the limit). */
int maildir_keywords_read(int dir_fd, struct maildir_keywords *kw);
/* Set out to the file's text. 0, or -1 past out's cap. */
int maildir_keywords_format(const struct maildir_keywords *kw,
			    struct str *out);
/* The index (0..25) of name, or -1 if it has none. */
int maildir_keywords_find(const struct maildir_keywords *kw,
			  const char *name);
/* The index of name, giving it the lowest free one if it has none. -1 if
 * all 26 are taken (errno ENOSPC) or name is not a valid keyword name
 * (EINVAL). */
int maildir_keywords_add(struct maildir_keywords *kw, const char *name);
/* 1 if s[0..n) is a name the file can hold (FILE above). */
int maildir_keywords_name_ok(const char *s, size_t n);

#endif
