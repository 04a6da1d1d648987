/*
 * imap_index - one Maildir folder as an IMAP session sees it: UIDs,
 * flags, MODSEQs, the changes of other sessions and other programs
 * (postern-imap-index(5))
 *
 * FILES   In the folder's directory (or in the index directory given to
 *         imap_folder_open):
 *           postern-uidlog     the durable log (imap_uidlog.h): UIDs and
 *                              MODSEQs come only from it
 *           postern-index.db   Berkeley DB cache (imap_cache.h): a snapshot
 *                              for a fast open, per-UID FETCH data; deleted
 *                              or corrupt, it is rebuilt
 *         and the Maildir's own: cur/ new/ tmp/, dovecot-keywords (read,
 *         and rewritten when a keyword is added), dovecot-uidlist (read
 *         once, on the first open, to keep Dovecot's UIDs).
 *
 * SYNC    imap_folder_sync() merges, in this order: the log's tail (other
 *         sessions' UIDs, flag changes, expunges), then, if the mtime of
 *         new/ or cur/ differs from the one the log explains (its last M
 *         record), the last scan was dirty, or a verification is due, a
 *         scan of new/ then cur/ under the log's LOCK_EX: files renamed
 *         by other programs (flags in the name differ from the log: a
 *         fresh MODSEQ, an F record), files gone (an X record), files
 *         without a UID (U records, UIDs given in maildir_name_cmp
 *         order), then an M record. The records are fsynced before the
 *         call returns. postern's own changes (STORE, EXPUNGE, APPEND,
 *         COPY) log the mtimes they leave, so they cost no scan
 *         (imap_index_dirs.c, with the residual race and
 *         IMAP_INDEX_VERIFY_SECS). Any call (sync, store, expunge,
 *         append, copy) may apply other sessions' records it reads on its
 *         way: msgs then grows at its end, ->changed and ->expunged get
 *         set; sequence numbers of existing entries never change until
 *         imap_folder_purge().
 *
 * RECENT  \Recent as RFC 3501 and Dovecot have it: a message is recent in
 *         the first read-write session (SELECT) that sees the folder
 *         after it arrived, however it arrived (delivery into new/,
 *         APPEND, COPY or MOVE from any session, a file put in cur/ by
 *         another program), and in no other read-write one. The log keeps
 *         the first UID no session has claimed (its last C record). A
 *         sync of a handle opened read-write with IMAP_SYNC_RECENT (and an
 *         APPEND or COPY through it) claims, under LOCK_EX after reading
 *         the log, every message at or above it: ->recent set, a C record
 *         of uidnext fsynced. Any handle marks ->recent the messages still
 *         unclaimed when it syncs (EXAMINE and STATUS count them without
 *         claiming them). ->recent, once set, stays for the handle's life.
 *
 * MODSEQ  Flag changes are logged without fsync; before a MODSEQ above
 *         the last fsynced reservation may be announced, imap_folder_flush()
 *         fsyncs the log, which holds an R record above it. After a crash
 *         the folder continues above the highest reservation, and files
 *         whose names disagree with the log get a fresh MODSEQ.
 *
 * CONCURRENCY  Several processes open one folder: the log is flock'ed
 *         (LOCK_EX to append, scan, compact; LOCK_SH to read its tail); the
 *         cache has its own lock (imap_cache.h).
 *
 * LIMITS  IMAP_INDEX_MSGS_MAX messages per folder; UIDs up to 2^32-1.
 */
#ifndef POSTERN_IMAP_INDEX_H
#define POSTERN_IMAP_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "mail/maildir_keywords.h"
#include "mail/imap_uidlog.h"
#include "util/str.h"

#define IMAP_F_SEEN	0x01	/* S */
#define IMAP_F_ANSWERED	0x02	/* R */
#define IMAP_F_FLAGGED	0x04	/* F */
#define IMAP_F_DELETED	0x08	/* T */
#define IMAP_F_DRAFT	0x10	/* D */
#define IMAP_F_ALL	0x1f

#define IMAP_SYNC_RECENT 0x1u	/* new/ -> cur/, claim \Recent (RECENT) */
#define IMAP_SYNC_FORCE  0x2u	/* scan whatever the mtimes say */

#define IMAP_INDEX_DIRTY_SECS 2
#define IMAP_INDEX_VERIFY_SECS 60
#define IMAP_INDEX_MSGS_MAX 10000000u

/* imap_cache fields */
#define IMAP_CACHE_ENVELOPE	 1
#define IMAP_CACHE_BODY		 2
#define IMAP_CACHE_BODYSTRUCTURE 3
#define IMAP_CACHE_HEADER	 4
#define IMAP_CACHE_SIZES	 5

struct imap_msg {
	uint64_t modseq;
	uint32_t uid;
	uint32_t keywords;		/* bit i: dovecot-keywords 'a' + i */
	uint32_t name_off;		/* the file name, in the name arena */
	uint8_t flags;			/* IMAP_F_* */
	uint8_t recent:1;
	uint8_t expunged:1;		/* gone on disk, not yet announced */
	uint8_t changed:1;		/* flags changed by someone else */
	uint8_t in_new:1;		/* the file is in new/, not cur/ */
	uint8_t moved:1;		/* this handle moved it new/ -> cur/ */
	uint8_t seen_scan:1;		/* private: found by the current scan */
};

struct imap_cache;

struct imap_folder {
	int dir_fd;			/* the folder's Maildir directory */
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	struct imap_msg *msgs;		/* UID order = sequence order */
	uint32_t count;
	struct maildir_keywords kw;
	int readonly;
	unsigned long scans;		/* listings of cur/ and new/ made
					 * (for tests and benchmarks) */

	/* private */
	int index_fd;			/* where the index files are */
	int cur_fd, new_fd;
	struct imap_uidlog log;
	uint32_t alloc;
	struct str names;		/* NUL-terminated names */
	size_t names_dead;		/* bytes of names no entry uses */
	uint32_t *hash;			/* base -> index + 1 */
	uint32_t hash_size;		/* a power of 2, or 0 */
	struct timespec cur_mtime, new_mtime;	/* explained by the log */
	int scan_dirty;			/* the next sync must scan */
	time_t verify_at;		/* a scan due then (0: none) */
	uint32_t first_unclaimed;	/* the last C record (RECENT) */
	uint32_t recent_from;		/* ->recent already set from this
					 * UID on where unclaimed */
	uint64_t reserved;		/* the highest R record known */
	uint64_t reserved_synced;	/* ... known to be on disk */
	int log_unsynced;		/* records read or written since fsync */
	uint64_t boot;			/* when this system booted (Unix time) */
	uint64_t last_r_boot;		/* the boot of the last R record */
	uint64_t live_bytes;		/* estimate of a compacted log */
	struct imap_vanished *vanished;	/* expunges the log still has */
	uint32_t vanished_count, vanished_alloc;
	uint64_t horizon;		/* expunges <= this may be forgotten */
	unsigned long counter;		/* maildir_deliver's */
	char host[256];			/* escaped host name */
	struct imap_cache *cache;
	uint64_t snap_offset;		/* the log offset of the last snapshot */
	int snap_dirty;			/* ... and its scan_dirty */
	int log_behind;			/* a log write failed: memory may
					 * hold what the log does not (no
					 * snapshot of it is ever taken) */
};

struct imap_vanished {
	uint32_t uid;
	uint64_t modseq;
};

struct imap_folder_status {
	uint32_t messages, recent, uidnext, uidvalidity, unseen, deleted;
	uint64_t size;			/* sum of the vsizes */
	uint64_t highestmodseq;
};

/* Open the folder dirname ("" = INBOX, the Maildir itself; ".Sent") of the
 * Maildir maildir_fd. index_dir_fd: where the index files are (-1: in
 * the folder's directory). Reads the snapshot or the log, creates the log
 * on the first open (importing dovecot-uidlist), then syncs (with
 * IMAP_SYNC_RECENT unless readonly). 0, or -1 with *error_r. */
int imap_folder_open(struct imap_folder *f, int maildir_fd,
		     const char *dirname, int index_dir_fd, int readonly,
		     const char **error_r);
int imap_folder_sync(struct imap_folder *f, unsigned flags,
		     const char **error_r);
void imap_folder_purge(struct imap_folder *f);
/* Index i (0-based) gets these flags and keywords. */
int imap_folder_store(struct imap_folder *f, uint32_t i, uint8_t flags,
		      uint32_t keywords, const char **error_r);
int imap_folder_expunge(struct imap_folder *f, uint32_t i,
			const char **error_r);
int imap_folder_open_msg(struct imap_folder *f, uint32_t i, int *fd_r);
const char *imap_folder_name(const struct imap_folder *f, uint32_t i);
int imap_folder_msg_sizes(struct imap_folder *f, uint32_t i,
			  uint64_t *size_r, uint64_t *vsize_r,
			  time_t *internaldate_r);
int imap_folder_append(struct imap_folder *f, int src_fd, uint64_t size,
		       uint8_t flags, uint32_t keywords, time_t internaldate,
		       uint32_t *uid_r, const char **error_r);
int imap_folder_copy(struct imap_folder *src, uint32_t i,
		     struct imap_folder *dst, uint32_t *uid_r,
		     const char **error_r);
int imap_folder_keyword(struct imap_folder *f, const char *name, int create);
uint32_t imap_folder_seq_of_uid(const struct imap_folder *f, uint32_t uid);
/* Append the UIDs expunged at a MODSEQ above modseq to uidset_r as a
 * sequence set ("3,5:9"). 1 done, 0 the log no longer knows all of them
 * (modseq below its horizon: nothing appended), -1 error. */
int imap_folder_vanished_since(struct imap_folder *f, uint64_t modseq,
			       struct str *uidset_r);
int imap_folder_flush(struct imap_folder *f);
void imap_folder_close(struct imap_folder *f);
int imap_folder_status(int maildir_fd, const char *dirname, int index_dir_fd,
		       struct imap_folder_status *st, const char **error_r);

/* POP3: the messages in cur/ of the Maildir maildir_fd's INBOX in UID
 * order, from the same index with the same sync rules (new/ is moved to
 * cur/ unless readonly; a file still in new/ is left out). Each entry: its
 * UID, its size with CRLF line ends (",W=" in the name, else counted once
 * and cached in postern-index.db) and its name in cur/, in names (the
 * names back to back, each NUL-terminated; valid until *list_r is freed).
 * moved: the files this call moved from new/. */
struct imap_pop3_msg {
	uint32_t uid;
	uint64_t vsize;
	const char *name;
};
struct imap_pop3_list {
	struct imap_pop3_msg *msgs;
	uint32_t count;
	uint32_t moved;
	struct str names;
};
int imap_index_pop3_list(int maildir_fd, int index_dir_fd, int readonly,
			 struct imap_pop3_list *list_r, const char **error_r);
void imap_index_pop3_list_free(struct imap_pop3_list *list);

/* Maildir flags <-> IMAP flags and keyword bits. */
uint8_t imap_index_flags_from_maildir(uint64_t mf, uint32_t *keywords_r);
uint64_t imap_index_flags_to_maildir(uint8_t flags, uint32_t keywords);

#endif
