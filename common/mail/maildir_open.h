/*
 * maildir_open - open one user's Maildir without leaving mail_root, and
 * confine a process to it
 *
 * OPEN    maildir_open(): mail_root (the administrator's path: it may be
 *         or contain a symbolic link), then DOMAIN beneath it, then USER
 *         beneath that, one component at a time with openat(2) and
 *         O_DIRECTORY | O_NOFOLLOW, the components from mailbox_path.h
 *         (never '/', never "." or "..", never empty). Whoever can write
 *         in mail_root or in a domain directory therefore cannot point a
 *         session or a delivery at another directory with a symbolic link
 *         or a crafted address. mail_root and DOMAIN are opened O_PATH:
 *         only search permission is needed on them.
 *
 * CONFINE maildir_confine(): the process's sandbox (common/util/sandbox.h)
 *         for a session that serves one Maildir: Landlock allows, beneath
 *         the Maildir's descriptor only, reading files and listing
 *         directories, removing files and creating them (a rename within
 *         a directory creates its new name), nothing anywhere else;
 *         seccomp allows the base calls of every daemon plus the file
 *         system's write calls (rename, unlink, link, fsync), and no
 *         socket, no exec, no fork. The profile's name is the caller's,
 *         for its log line and man page.
 *
 *         MAILDIR_CONFINE_WRITE adds writing files and making directories
 *         (IMAP APPEND, Maildir++ folders). MAILDIR_CONFINE_MOVE adds
 *         moving files between directories (new/ -> cur/ during a session,
 *         tmp/ -> cur/): Landlock grants that with LANDLOCK_ACCESS_FS_REFER,
 *         which ABI 1 kernels (Linux 5.13 to 5.18) do not have; there every
 *         cross-directory rename under Landlock fails with EXDEV. So a
 *         profile with MOVE runs without Landlock on ABI 1 (sandbox.c says
 *         so in the report), and a session that can do its moves before it
 *         confines itself should do them first and not ask for MOVE: then
 *         it keeps Landlock on every kernel that has it. postern-pop3
 *         moves new/ to cur/ before maildir_confine() and asks for neither
 *         flag (its flag changes and deletions stay within cur/).
 *         MAILDIR_CONFINE_WATCH adds the inotify calls (IMAP IDLE
 *         watches the selected folder's cur/, new/ and log).
 */
#ifndef POSTERN_MAILDIR_OPEN_H
#define POSTERN_MAILDIR_OPEN_H

#include "mail/mailbox_path.h"
#include "util/sandbox.h"

#define MAILDIR_CONFINE_WRITE 0x1u	/* write files, make directories */
#define MAILDIR_CONFINE_MOVE 0x2u	/* move files between directories */
#define MAILDIR_CONFINE_WATCH 0x4u	/* inotify watches (IMAP IDLE) */

/* Open mail_root/DOMAIN/USER as above into *fd_r (O_RDONLY|O_DIRECTORY).
 * 0, or -1 with errno and *error_r naming the step ("open mail_root",
 * "open domain directory", "open Maildir"). */
int maildir_open(const char *mail_root, const struct mailbox_path *mp,
		 int *fd_r, const char **error_r);
/* The same beneath an open mail_root (a daemon keeps it open). */
int maildir_open_at(int root_fd, const struct mailbox_path *mp, int *fd_r,
		    const char **error_r);
/* Open the Maildir's subdirectory sub ("cur", "new", "tmp") with
 * O_DIRECTORY|O_NOFOLLOW. The descriptor, or -1 with errno. */
int maildir_open_dir(int maildir_fd, const char *sub);

/* Confine the calling process to the Maildir maildir_fd (CONFINE above).
 * 0 with *r filled (sandbox_describe() for the log line), or -1 with
 * *error_r: the process must not go on serving. */
int maildir_confine(int maildir_fd, const char *name, unsigned flags,
		    struct sandbox_report *r, const char **error_r);
/* "sandbox=NAME landlock=on abi=N seccomp=on" (sandbox_describe) for the
 * profile maildir_confine() applied under that name. */
void maildir_confine_describe(const char *name, const struct sandbox_report *r,
			      char *buf, size_t size);

#endif
