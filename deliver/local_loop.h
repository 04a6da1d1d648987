/*
 * local_loop - postern-local's Delivered-To: loop check
 *
 * LOOPS   local_loop_has_delivered_to() looks for a "Delivered-To:" field
 *         in a header section (up to the first empty line) whose value,
 *         with folded lines joined, blanks trimmed and one pair of <>
 *         removed, equals the recipient ignoring ASCII case. A message that
 *         already went through this mailbox's delivery once is a loop
 *         (an alias or forward pointing back), and bounces with 5.4.6
 *         rather than circling until its hop count runs out.
 * HEADER  The header section ends at the first empty line ("LF" or
 *         "CR LF"); a message without one is all header. At most
 *         LOCAL_LOOP_HEADER_MAX bytes are read and scanned: a loop marker
 *         is written at the top by every agent, so it is never that deep,
 *         and a bounded read keeps a huge header from costing memory.
 *         local_loop_read_header() reads in 8 KiB pieces and stops at the
 *         empty line, so a small message is read whole at once and its
 *         bytes are handed to the writer (maildir_write.h, d->head) rather
 *         than read a second time.
 */
#ifndef POSTERN_LOCAL_LOOP_H
#define POSTERN_LOCAL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define LOCAL_LOOP_HEADER_MAX (256 * 1024)

/* The length of the header section of p[0..len): up to and including the
 * empty line that ends it. 1 if that empty line was found, else 0 (and
 * *end_r = len). */
int local_loop_header_end(const char *p, size_t len, size_t *end_r);
/* 1 if the header section hdr[0..len) has a Delivered-To: for rcpt. */
int local_loop_has_delivered_to(const char *hdr, size_t len,
				const char *rcpt);
/* Read the message's first bytes, through its header section but at most
 * LOCAL_LOOP_HEADER_MAX and at most size, from fd at offset into out
 * (replacing it; pread: the offset of fd does not move). 0, or -1 with
 * errno (ENODATA: the file ended before size bytes). */
int local_loop_read_header(int fd, uint64_t offset, uint64_t size,
			   struct str *out);

#endif
