/*
 * maildir - writing one message into a Maildir the way Dovecot and
 * Courier expect it, and the Delivered-To: loop check
 *
 * NAMES   (Dovecot's, so that Dovecot reads our files unchanged)
 *           tmp/<secs>.M<usecs>P<pid>Q<n>.<host>
 *           new/<secs>.M<usecs>P<pid>Q<n>.<host>,S=<size>,W=<vsize>
 *         <n> counts deliveries in this process, <host> is the host name
 *         with '/' written as "\057" and ':' as "\072". S is the file's
 *         size in bytes, W its size with CRLF line ends (size + number of
 *         LF: the file uses LF line ends). Seconds, microseconds and the
 *         pid make the name unique on this host; the tmp/ file is created
 *         with O_EXCL and the counter is bumped if it exists, and the
 *         rename refuses to replace a file (RENAME_NOREPLACE).
 *
 * WRITING maildir_deliver():
 *           1. create tmp/NAME (O_EXCL, 0600), write the prefix (the
 *              Return-Path: and Delivered-To: lines), then copy exactly
 *              SIZE bytes of the message from the descriptor at OFFSET
 *              (pread: the descriptor's offset is never moved; or from
 *              memory if the caller has them there), counting LFs for
 *              W=;
 *           2. fsync the file and close it;
 *           3. rename tmp/NAME to new/NAME,S=..,W=.. ;
 *           4. fsync new/.
 *         Only after step 4 is the message delivered. With d->unique
 *         (below) steps 1 and 3 are instead: an unnamed O_TMPFILE file
 *         in tmp/'s filesystem, and linkat(2) of it to new/NAME (never
 *         replacing), then fsync of the file (its link) and of new/;
 *         the tmp/NAME form is the fallback where O_TMPFILE or /proc is
 *         missing. Any failure removes
 *         tmp/NAME (or the new/ file if step 4 failed) and returns -1 with
 *         errno, so nothing half-written is ever visible in new/. A crash
 *         before step 3 leaves a file in tmp/, which is not a message to
 *         any reader and is cleaned by the usual 36-hour tmp/ sweep of
 *         Maildir readers; a crash between 3 and 4 may lose the rename,
 *         and then the queue manager, which has not heard "OK", delivers
 *         again.
 *
 * IDEMPOTENT  With d->unique (postern-local derives it from the queue id
 *         and the recipient), the final name is known before writing: the
 *         sizes are counted first. If new/NAME, cur/NAME:2, or
 *         cur/NAME:2,S already exists, this delivery happened before (the
 *         queue manager was stopped after step 4 and before it recorded
 *         the outcome) and is not made again: maildir_deliver() returns 0.
 *         So a crash at any instant gives one copy, not two, unless the
 *         reader renamed the file with other flags in between.
 *
 * LOOPS   maildir_has_delivered_to() looks for a "Delivered-To:" field in
 *         a header section (up to the first empty line) whose value, with
 *         folded lines joined, blanks trimmed and one pair of <> removed,
 *         equals the recipient ignoring ASCII case. The header section read
 *         for it is capped at MAILDIR_HEADER_MAX bytes.
 */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "util/str.h"

#define MAILDIR_HEADER_MAX (256 * 1024)

/* Append host with '/' -> "\057" and ':' -> "\072" to out. */
void maildir_host_escape(const char *host, struct str *out);
/* Append "<secs>.M<usecs>P<pid>Q<n>.<host>" (host already escaped). */
void maildir_name_base(struct str *out, const struct timeval *tv, pid_t pid,
		       unsigned long n, const char *host);
/* Append ",S=<size>,W=<vsize>". */
void maildir_name_sizes(struct str *out, uint64_t size, uint64_t vsize);

/* The length of the header section of p[0..len): up to and including the
 * empty line that ends it. 1 if that empty line was found, else 0 (and
 * *end_r = len). */
int maildir_header_end(const char *p, size_t len, size_t *end_r);
/* 1 if the header section hdr[0..len) has a Delivered-To: for rcpt. */
int maildir_has_delivered_to(const char *hdr, size_t len, const char *rcpt);
/* Read the message's header section (at most MAILDIR_HEADER_MAX bytes)
 * from fd at offset into out (replacing it). 0, or -1 with errno. */
int maildir_read_header(int fd, uint64_t offset, uint64_t size,
			struct str *out);

struct maildir_delivery {
	int maildir_fd;		/* the Maildir, open O_DIRECTORY */
	const char *host;	/* escaped (maildir_host_escape) */
	unsigned long *counter;	/* the process's delivery counter */
	const char *prefix;	/* bytes written before the message */
	size_t prefix_len;
	int src_fd;		/* the message */
	uint64_t offset;
	uint64_t size;
	/* If not NULL: the base name, the same each time this message is
	 * delivered to this recipient (see IDEMPOTENT); else a fresh one. */
	const char *unique;
	const char *data;	/* if not NULL: the size bytes, in memory */
};

/* Steps 1 to 4 above. 0 with the new/ file name in name_r, or -1 with
 * errno and the failed step in *step_r ("open tmp/", "write", "fsync",
 * ...). ENOENT from "open tmp/" or "open new/" means the Maildir is not
 * complete; ENODATA means the message descriptor ended early. */
int maildir_deliver(const struct maildir_delivery *d, struct str *name_r,
		    const char **step_r);

#endif
