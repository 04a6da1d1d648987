/*
 * imap_folders - the folders of one Maildir++ mailbox: names, listing,
 *                CREATE, DELETE, RENAME, subscriptions, special use
 *
 * NAMES   A folder's name is UTF-8 inside postern-imap; the session turns
 *         it into modified UTF-7 on the wire unless the client enabled
 *         UTF-8 (IMAP4rev2, UTF8=ACCEPT). The hierarchy separator is "."
 *         (Dovecot's Maildir++ layout), so:
 *
 *           INBOX (any case)   the Maildir itself          dirname ""
 *           Sent               MAILDIR/.Sent                ".Sent"
 *           Lists.Work         MAILDIR/.Lists.Work          ".Lists.Work"
 *           Entwürfe           MAILDIR/.Entw&APw-rfe        (mUTF-7 on disk,
 *                                                           as Dovecot)
 *
 *         A name is refused (EINVAL: NO [CANNOT]) if it is empty, longer
 *         than IMAP_FOLDER_NAME_MAX bytes, not UTF-8, holds '/', '\\', a
 *         control character (C0, DEL), '*' or '%' (LIST wildcards), or has
 *         an empty component (leading, trailing or doubled '.'), or a
 *         component that begins with '~' (a home directory to shells).
 *         Each directory name is therefore one path component that begins
 *         with '.', is never "." or "..", and stays in the Maildir: the
 *         session opens it with openat(2) beneath the Maildir, O_NOFOLLOW.
 *         "INBOX.x" is the folder ".INBOX.x" (Dovecot does the same).
 *
 * LISTING imap_folders_list(): every directory of the Maildir whose name is
 *         a folder's (above) and that holds cur/, plus INBOX, plus each
 *         parent that has children but no directory of its own (attribute
 *         \NonExistent, which RFC 5258 also reports as \Noselect), plus
 *         names only subscribed to (\NonExistent \Subscribed). Attributes:
 *         \HasChildren or \HasNoChildren, \Subscribed, and the special use
 *         (RFC 6154).
 *
 * SUBSCRIPTIONS  the file "subscriptions" in the Maildir, as Dovecot 2.3
 *         writes it: "V\t2\n\n", then one line per name in its on-disk
 *         (mUTF-7) form with the hierarchy separator written as TAB. A file
 *         without that header (Dovecot 1, Courier's format) is read as one
 *         name per line with '.' separators. Replaced whole (atomic write).
 *
 * SPECIAL USE  by name: Drafts, Sent (also "Sent Messages", "Sent Items"),
 *         Trash ("Deleted Messages", "Deleted Items"), Junk ("Spam"),
 *         Archive; and what CREATE-SPECIAL-USE asked for, kept in the file
 *         "postern-special-use" in the Maildir (lines "ATTR TAB dirname").
 *         imap_folders_ensure_special() creates Drafts, Sent, Trash, Junk
 *         and Archive (subscribed) on a user's first login when no folder
 *         has that use yet.
 *
 * DELETE  renames the directory to "postern-deleted.<dirname>.<pid>" (no
 *         leading '.', so no reader takes it for a folder any more), then
 *         removes its files; a crash in between leaves that directory,
 *         which the next DELETE or login sweeps. INBOX cannot be deleted.
 *         Children survive their parent (it becomes \NonExistent). The
 *         folder's line in postern-special-use goes with it.
 * RENAME  renames the directory and each child's ("A" -> "B" moves
 *         ".A.x" to ".B.x"; EEXIST, and nothing moves, if one of the new
 *         names is taken), and their special use with them; RENAME INBOX
 *         moves INBOX's messages into a new folder and leaves INBOX empty
 *         (RFC 3501 6.3.5).
 */
#ifndef POSTERN_IMAP_FOLDERS_H
#define POSTERN_IMAP_FOLDERS_H

#include <stddef.h>

#include "util/str.h"

#define IMAP_FOLDER_SEP '.'
#define IMAP_FOLDER_NAME_MAX 1024	/* UTF-8 bytes of a name */
#define IMAP_FOLDERS_MAX 10000		/* folders listed per mailbox */

/* Attributes of a listed folder (LIST's mbx-list-flags, RFC 3501, 5258,
 * 6154). */
#define IMAP_FA_NONEXISTENT	0x0001u
#define IMAP_FA_HASCHILDREN	0x0002u
#define IMAP_FA_HASNOCHILDREN	0x0004u
#define IMAP_FA_SUBSCRIBED	0x0008u
#define IMAP_FA_DRAFTS		0x0010u
#define IMAP_FA_SENT		0x0020u
#define IMAP_FA_TRASH		0x0040u
#define IMAP_FA_JUNK		0x0080u
#define IMAP_FA_ARCHIVE		0x0100u
#define IMAP_FA_ALL		0x0200u
#define IMAP_FA_FLAGGED		0x0400u
#define IMAP_FA_SPECIAL_USE	(IMAP_FA_DRAFTS | IMAP_FA_SENT | \
				 IMAP_FA_TRASH | IMAP_FA_JUNK | \
				 IMAP_FA_ARCHIVE | IMAP_FA_ALL | \
				 IMAP_FA_FLAGGED)

struct imap_folder_entry {
	char *name;			/* UTF-8, "INBOX" for the Maildir */
	unsigned attrs;
};

struct imap_folder_list {
	struct imap_folder_entry *e;	/* sorted by name, INBOX first */
	size_t n;
};

/* 1 if name is INBOX (ASCII case-insensitive). */
int imap_folder_is_inbox(const char *name);
/* Check name (NAMES above) and set dir_r to its directory name ("" for
 * INBOX). 0, or -1 with errno EINVAL and *error_r (static text). */
int imap_folder_dirname(const char *name, struct str *dir_r,
			const char **error_r);
/* The folder name of a Maildir entry ".A.B" into name_r (UTF-8). 0, or
 * -1 if the entry is not a folder's directory by its name. */
int imap_folder_from_dirname(const char *dirname, struct str *name_r);

/* LIST's pattern match (RFC 3501 6.3.8): '*' matches anything, '%'
 * anything but the separator; the letters of INBOX, as a name or its first
 * level, match in any case ("inbox.%" matches "INBOX.x", "inb*" INBOX, as
 * in Dovecot). Both UTF-8. Time linear in len(pattern) * len(name), no
 * backtracking. 1 match, 0 not. */
int imap_folder_match(const char *pattern, const char *name);

/* Every folder with its attributes (LISTING). 0, or -1 with errno. */
int imap_folders_list(int maildir_fd, struct imap_folder_list *l);
void imap_folder_list_free(struct imap_folder_list *l);
/* The entry for name in l, or NULL. */
const struct imap_folder_entry *
imap_folder_list_find(const struct imap_folder_list *l, const char *name);

/* CREATE name with the special-use attributes use (0: by name). 0, or
 * -1 with errno (EEXIST, EINVAL, ENOSPC past IMAP_FOLDERS_MAX, or the
 * file system's) and *error_r. */
int imap_folders_create(int maildir_fd, const char *name, unsigned use,
			const char **error_r);
int imap_folders_delete(int maildir_fd, const char *name,
			const char **error_r);
int imap_folders_rename(int maildir_fd, const char *from, const char *to,
			const char **error_r);
/* SUBSCRIBE (on = 1) or UNSUBSCRIBE name. 0, or -1 with errno
 * (ENOENT: UNSUBSCRIBE of a name not subscribed) and *error_r. */
int imap_folders_subscribe(int maildir_fd, const char *name, int on,
			   const char **error_r);
/* The first login's folders (SPECIAL USE above). 0, or -1 (logged by
 * the caller). */
int imap_folders_ensure_special(int maildir_fd, const char **error_r);
/* DELETE of the directory dirname (".A"): renamed away, then removed. */
int imap_folders_delete_dir(int maildir_fd, const char *dirname,
			    const char **error_r);
/* Remove the directory name beneath dir_fd and everything in it, at most
 * depth levels down (a folder: its files, cur/ new/ tmp/ and their files;
 * an index directory), never following a symbolic link. 0, or -1 if
 * something stayed. */
int imap_folders_remove_tree(int dir_fd, const char *name, unsigned depth);
/* Remove what an interrupted DELETE left ("postern-deleted.*"). */
void imap_folders_sweep(int maildir_fd);

/* The special-use attribute named by atom ("\\Sent", any case), or 0. */
unsigned imap_folder_use_parse(const char *atom, size_t n);
/* The atom of one IMAP_FA_ attribute bit. */
const char *imap_folder_attr_name(unsigned bit);

#endif
