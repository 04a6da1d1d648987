/*
 * imap_uidlog - postern-uidlog, the durable, append-only record of a
 * folder's UIDs and MODSEQs (postern-imap-index(5))
 *
 * GRAMMAR (one text line per record; numbers decimal without leading
 *         zeros unless noted)
 *
 *   log      = header *record
 *   header   = "postern-uidlog 1 V" uidvalidity " N" uidnext " M" modseq
 *              " E" horizon " G" generation SP crc LF
 *   record   = body SP crc LF
 *   body     = "U" SP uid SP modseq SP flags SP keywords SP name
 *                                   ; uid assigned to the file name (its
 *                                   ; base is the message's identity)
 *            / "F" SP uid SP modseq SP flags SP keywords SP name
 *                                   ; new flags (and file name) of uid
 *            / "X" SP uid SP modseq ; uid expunged at modseq
 *            / "R" SP modseq SP boot
 *                                   ; modseqs may reach this (reservation)
 *                                   ; boot: when (Unix time) the writer's
 *                                   ; system booted
 *            / "M" SP sec SP nsec SP sec SP nsec SP state
 *                                   ; the mtimes of cur/ then new/ that
 *                                   ; the records so far explain (SYNC
 *                                   ; in imap_index.h); nsec < 10^9
 *            / "C" SP uid           ; every UID below uid was claimed
 *                                   ; (\Recent in the session that
 *                                   ; claimed it: RECENT in imap_index.h)
 *   state    = "0"                  ; a scan, both mtimes old: verified
 *            / "1"                  ; a scan, a recent mtime that a
 *                                   ; postern change made: verify later
 *            / "2"                  ; a scan, a recent mtime of another
 *                                   ; program's: scan again next time
 *            / "3"                  ; a postern change (STORE, EXPUNGE,
 *                                   ; APPEND, COPY) made under the lock
 *   flags    = 2HEXDIG              ; IMAP_F_* bits (lower-case hex);
 *                                   ; 0x80: the file is in new/, not cur/
 *   keywords = 1*8HEXDIG            ; bit i: dovecot-keywords letter 'a'+i
 *   name     = 1*255 bytes 0x21..0x7e except '/', not beginning with '.'
 *   crc      = 8HEXDIG              ; CRC-32 (ISO-HDLC, the one of zlib)
 *                                   ; of every byte of the line before SP crc
 *
 *   uidvalidity, uid, uidnext: 1..4294967295 (uidnext may be 4294967296
 *   in no case: a folder that runs out of UIDs refuses new mail). modseq,
 *   horizon, generation: 0..2^63-1. In the header, uidnext is the lowest
 *   UID the folder may still assign and modseq the highest MODSEQ it ever
 *   announced or reserved; after compaction every later record is above
 *   them. horizon: expunges at a MODSEQ <= horizon may be missing from
 *   the log (QRESYNC's VANISHED cannot name them). generation: chosen
 *   anew each time the file is rewritten, so a snapshot taken at an
 *   offset of one generation is never applied to another.
 *
 * TORN    Records are appended with one write(2) each batch, under flock
 *         LOCK_EX, at the offset where the last complete record ends. A
 *         crash (or kill -9) may leave the last record cut short: it has
 *         no LF, or its CRC does not match. Readers stop before a tail
 *         without LF; a complete line with a bad CRC is skipped and
 *         counted. The next writer (under LOCK_EX) truncates an incomplete
 *         tail before it appends, so a record never follows a torn one.
 *         Nothing a torn record held was ever announced: UID records are
 *         fsynced before their UIDs are, and MODSEQs are announced only
 *         below an fsynced reservation.
 *
 * LIMITS  a line at most IMAP_UIDLOG_LINE_MAX bytes; longer is bad.
 *
 * WHY text: a line per event is what an administrator can read with less(1)
 *         after a crash, and the CRC makes a torn tail certain to be
 *         noticed; the file is small (about 70 bytes a message) and read
 *         whole only when there is no snapshot.
 */
#ifndef POSTERN_IMAP_UIDLOG_H
#define POSTERN_IMAP_UIDLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/str.h"

#define IMAP_UIDLOG_FILE "postern-uidlog"
#define IMAP_UIDLOG_LINE_MAX 512
#define IMAP_UIDLOG_NAME_MAX 255
#define IMAP_UIDLOG_IN_NEW 0x80

/* 'M' record states */
#define IMAP_UIDLOG_DIRS_CLEAN	0
#define IMAP_UIDLOG_DIRS_VERIFY	1
#define IMAP_UIDLOG_DIRS_DIRTY	2
#define IMAP_UIDLOG_DIRS_OWN	3

struct imap_uidlog_header {
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;
	uint64_t horizon;
	uint64_t generation;
};

struct imap_uidlog_rec {
	char type;		/* 'U', 'F', 'X', 'R', 'M', 'C' */
	uint32_t uid;		/* 'C': the first UID not claimed */
	uint64_t modseq;
	uint8_t flags;
	uint32_t keywords;
	uint64_t boot;		/* 'R' */
	const char *name;	/* 'U', 'F': into the parsed text, not
				 * terminated */
	size_t name_len;
	uint64_t mt_sec[2];	/* 'M': [0] cur/, [1] new/ */
	uint32_t mt_nsec[2];
	uint8_t mt_state;	/* 'M': IMAP_UIDLOG_DIRS_* */
};

/* Parse one line of p[0..n): 1 with *len_r the bytes through its LF, 0 if
 * there is no LF in p[0..n) within IMAP_UIDLOG_LINE_MAX (incomplete), -1
 * if the line is bad (*len_r is still its length through LF, to skip it;
 * or n and 0 returned if no LF). */
int imap_uidlog_parse_header(const char *p, size_t n,
			     struct imap_uidlog_header *h, size_t *len_r);
int imap_uidlog_parse_record(const char *p, size_t n,
			     struct imap_uidlog_rec *r, size_t *len_r);
/* Append the line to out. -1 past out's cap, or (EINVAL) a value the
 * grammar does not allow (a name with '/' ...). */
int imap_uidlog_format_header(struct str *out,
			      const struct imap_uidlog_header *h);
int imap_uidlog_format_record(struct str *out,
			      const struct imap_uidlog_rec *r);
/* CRC-32 of p[0..n), continuing crc (start with 0). */
uint32_t imap_uidlog_crc(uint32_t crc, const void *p, size_t n);

/* ---- the file ---------------------------------------------------------- */

struct imap_uidlog {
	int dir_fd;		/* where the file is (not owned) */
	int fd;			/* -1: not open */
	dev_t dev;
	ino_t ino;
	int lock;		/* LOCK_UN, LOCK_SH or LOCK_EX held */
	struct imap_uidlog_header h;
	uint64_t offset;	/* the end of the last complete record read */
	unsigned bad;		/* bad lines skipped so far */
	int torn;		/* the last read stopped at an incomplete tail */
	struct str buf;		/* read buffer */
};

/* For each record, in file order: 0 go on, -1 stop with the error. */
typedef int imap_uidlog_fn(void *arg, const struct imap_uidlog_rec *r,
			   uint64_t end_offset);

void imap_uidlog_init(struct imap_uidlog *l, int dir_fd);
/* Open dir_fd/postern-uidlog and read its header (offset then is the
 * header's end): 1 done, 0 there is no file (ENOENT), -1 error (EINVAL: a
 * file without a valid header). */
int imap_uidlog_open(struct imap_uidlog *l, const char **error_r);
/* Create the file with header h and the records text[0..n) (atomic; never
 * replaces an existing file: 0 or -1 with EEXIST), then open it. */
int imap_uidlog_create(struct imap_uidlog *l,
		       const struct imap_uidlog_header *h, const char *text,
		       size_t n, const char **error_r);
/* flock the file (LOCK_SH, LOCK_EX; LOCK_UN releases). After a lock is
 * taken the name is checked to still be this file: if the log was
 * rewritten meanwhile (compaction) the new one is opened and locked and 1
 * is returned: the caller must read it again from the start. 0 same file,
 * -1 error. */
int imap_uidlog_lock(struct imap_uidlog *l, int how, const char **error_r);
/* Read records from l->offset to the end, calling fn. Under LOCK_EX an
 * incomplete tail is cut off (TORN). 0, or -1. */
int imap_uidlog_read(struct imap_uidlog *l, imap_uidlog_fn *fn, void *arg,
		     const char **error_r);
/* Append text[0..n) (whole records) at l->offset (under LOCK_EX, after a
 * read to the end). 0, or -1 (then the file is cut back to l->offset). */
int imap_uidlog_append(struct imap_uidlog *l, const char *text, size_t n,
		       const char **error_r);
/* fdatasync the file. */
int imap_uidlog_sync(struct imap_uidlog *l, const char **error_r);
/* Replace the file by header h and records text[0..n) (compaction; under
 * LOCK_EX): a new file, fsynced, renamed over the old one; the new file is
 * then the open one, still locked, read to its end. */
int imap_uidlog_replace(struct imap_uidlog *l,
			const struct imap_uidlog_header *h, const char *text,
			size_t n, const char **error_r);
/* The file's size now (fstat). */
int imap_uidlog_size(struct imap_uidlog *l, uint64_t *size_r);
void imap_uidlog_close(struct imap_uidlog *l);
/* A new generation number (time and pid mixed). */
uint64_t imap_uidlog_generation(void);

#endif
