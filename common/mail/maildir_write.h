/*
 * maildir_write - write one message into a Maildir, durably and at most
 * once, under a name Dovecot and Courier read unchanged
 *
 * NAMES   (maildir_name.h) new/<unique>,S=<size>,W=<vsize>, or with flags
 *         (IMAP APPEND) cur/<unique>,S=<size>,W=<vsize>:2,<flags>. S is the
 *         file's size; W its CRLF size (maildir_crlf.h), counted while the
 *         file is written. <unique> is the caller's d->unique, else
 *         "<secs>.M<usecs>P<pid>Q<n>.<host>" with n from d->counter.
 *
 * INPUT   d->prefix (lines the writer adds: Return-Path:, Delivered-To:),
 *         then the message: d->size bytes, of which the first d->head_len
 *         are at d->head in memory (the caller has read them already, for
 *         its loop check; all of them for a small message) and the rest
 *         are read from d->src_fd at d->offset + d->head_len with pread(2)
 *         (the descriptor's offset never moves). Every byte of the message
 *         is read once.
 *
 * STEPS   1. create an unnamed file in tmp/'s file system (O_TMPFILE), or,
 *            where O_TMPFILE or /proc is missing, tmp/NAME (O_EXCL, 0600);
 *         2. write the prefix and the message, counting the CRLF size;
 *         3. with d->unique: if the final name exists (IDEMPOTENT), stop:
 *            the message was delivered before; the written file is dropped;
 *         4. fsync the file;
 *         5. link it into new/ (or cur/) under its final name (linkat of
 *            /proc/self/fd/N), or rename tmp/NAME there; never replacing a
 *            file (RENAME_NOREPLACE, or EEXIST from linkat: delivered
 *            meanwhile by another agent: done);
 *         6. fsync the file again (its new link count) and the directory.
 *         Only after step 6 is the message delivered; maildir_deliver()
 *         returns 0 then and not before. Any failure removes what was
 *         written (the tmp/ name, or the link if step 6 failed) and
 *         returns -1, so nothing half-written is ever visible in new/ or
 *         cur/. A crash before step 5 leaves nothing (O_TMPFILE) or a file
 *         in tmp/, which is not a message to any reader and is cleaned by
 *         the usual 36-hour tmp/ sweep of Maildir readers; a crash between
 *         5 and 6 may lose the link, and then the queue manager, which
 *         has not heard "OK", delivers again.
 *
 * IDEMPOTENT  With d->unique (postern-local derives it from the queue id
 *         and the recipient) the final name is the same at every attempt
 *         for that message and recipient. If new/NAME, cur/NAME:2,
 *         cur/NAME:2,S or (with flags) cur/NAME:2,<flags> exists, this
 *         delivery happened before (the queue manager was stopped after
 *         step 6 and before it recorded the outcome) and is not made again.
 *         So a crash at any instant gives one copy, not two, unless the
 *         reader renamed the file with other flags in between. The check
 *         needs the W size, which is known only once the file is written
 *         (step 3): writing it and dropping it costs only in the rare
 *         repeat, while counting first would read every message twice.
 */
#ifndef POSTERN_MAILDIR_WRITE_H
#define POSTERN_MAILDIR_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

struct maildir_delivery {
	int maildir_fd;		/* the Maildir, open O_DIRECTORY */
	const char *host;	/* escaped (maildir_name_host_escape) */
	unsigned long *counter;	/* the process's delivery counter */
	const char *prefix;	/* bytes written before the message */
	size_t prefix_len;
	const char *head;	/* the message's first head_len bytes */
	size_t head_len;	/* at most size; 0 with head NULL */
	int src_fd;		/* the rest of the message */
	uint64_t offset;	/* where the message starts in src_fd */
	uint64_t size;		/* the message's length */
	/* If not NULL: the base name, the same each time this message is
	 * delivered to this recipient (IDEMPOTENT); else a fresh one. */
	const char *unique;
	/* If not NULL: into cur/ with these flag letters (maildir_name.h);
	 * else into new/. */
	const char *flags;
	/* If not NULL: called with MAILDIR_PUBLISH_BEGIN just before step 5
	 * (-1 stops the delivery, step "publish"), then with
	 * MAILDIR_PUBLISH_DONE after step 6 or MAILDIR_PUBLISH_FAILED if 5
	 * or 6 failed (return value ignored); name is the final name. A
	 * reader that logs its own changes to cur/ (imap_index) takes its
	 * lock there, so that the link is one of them. */
	int (*publish)(void *arg, const char *name, int phase);
	void *publish_arg;
};

#define MAILDIR_PUBLISH_BEGIN	0
#define MAILDIR_PUBLISH_DONE	1
#define MAILDIR_PUBLISH_FAILED	2

/* STEPS 1 to 6. 0 with the final name (without new/ or cur/) in name_r,
 * or -1 with errno and the failed step in *step_r ("open tmp/", "open
 * new/", "open cur/", "write", "read message", "fsync", ...). ENOENT from
 * "open tmp/" or "open new/"/"open cur/" means the Maildir is not
 * complete; ENODATA means the message descriptor ended early. */
int maildir_deliver(const struct maildir_delivery *d, struct str *name_r,
		    const char **step_r);

#endif
