/*
 * maildir_scan - what a Maildir holds: new/ moved to cur/, the messages
 * of a directory listed, a message found again by its base name
 *
 * NEW     maildir_scan_new() renames every message new/NAME to cur/NAME:2,
 *         (a name that already has an info part, or would grow past
 *         MAILDIR_NAME_MAX, keeps its name), as Dovecot does when a session
 *         opens the mailbox: from then on the message is "not recent" and
 *         its flags live in its name. This moves files between two
 *         directories, which Landlock allows only from ABI 2
 *         (maildir_open.h, CONFINE): postern-pop3 calls it before it
 *         confines itself. A file that is gone meanwhile (ENOENT: another
 *         session moved it first) is no failure; any other failure is
 *         logged and leaves the file in new/, where the next session finds
 *         it again: the mail is never lost or hidden for good.
 *
 * LIST    maildir_scan_dir() reads a directory and calls fn for each entry
 *         that is a message by its name (maildir_name.h) and a regular file
 *         (d_type DT_REG, or DT_UNKNOWN where the file system does not
 *         tell; the caller's openat with O_NOFOLLOW then finds out). The
 *         order is the directory's; callers sort (maildir_name_cmp).
 *
 * RACES   Maildir has no locks: any other reader (another POP3 or IMAP
 *         session, Dovecot, a user's MUA) may rename a file in cur/ (its
 *         flags changed) or unlink it at any moment. The base name does
 *         not change, so a reader whose open or rename fails with ENOENT
 *         looks the message up again by its base (maildir_scan_find) and
 *         retries once; if the base is gone too, the message was expunged.
 */
#ifndef POSTERN_MAILDIR_SCAN_H
#define POSTERN_MAILDIR_SCAN_H

#include <stddef.h>

#include "mail/maildir_name.h"
#include "util/str.h"

/* For each message: 0 go on, 1 stop (the scan returns 0), -1 stop with an
 * error (the scan returns -1, errno as fn left it). */
typedef int maildir_scan_fn(void *arg, const char *name,
			    const struct maildir_name *m);

/* new/ -> cur/ (NEW above). *moved_r counts the files moved. 0, or -1 with
 * errno when new/ cannot be opened or read. Failures of single renames are
 * logged with log_id and do not fail the call. */
int maildir_scan_new(int maildir_fd, int cur_fd, const char *log_id,
		     unsigned *moved_r);
/* Call fn for each message of the directory dir_fd (LIST above; dir_fd
 * itself is not consumed or moved). 0, or -1 with errno. */
int maildir_scan_dir(int dir_fd, maildir_scan_fn *fn, void *arg);
/* The message of dir_fd whose base is base[0..base_len): 1 with its whole
 * name in name_r, 0 if there is none, -1 with errno. */
int maildir_scan_find(int dir_fd, const char *base, size_t base_len,
		      struct str *name_r);

#endif
