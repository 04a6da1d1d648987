/*
 * imap_index_int - what imap_index.c, imap_index_scan.c and
 * imap_index_write.c share (not for the session)
 */
#ifndef POSTERN_IMAP_INDEX_INT_H
#define POSTERN_IMAP_INDEX_INT_H

#include "mail/imap_index.h"

/* A reservation covers this many MODSEQs past the one that needed it. */
#define IMAP_INDEX_RESERVE_STEP 1000
/* Expunges kept by compaction for QRESYNC. */
#define IMAP_INDEX_KEEP_EXPUNGED 10000
/* Compaction when the log is this many times what it would be, and at
 * least this large. */
#define IMAP_INDEX_COMPACT_RATIO 3
#define IMAP_INDEX_COMPACT_MIN 65536

/* imap_index.c */
const char *idx_name(const struct imap_folder *f, uint32_t i);
/* The base of entry i: *len_r bytes at the returned pointer. */
const char *idx_base(const struct imap_folder *f, uint32_t i,
		     size_t *len_r);
/* Set entry i's name (a copy into the arena). */
int idx_set_name(struct imap_folder *f, uint32_t i, const char *name,
		 size_t len);
/* A new entry at the end (uid above every other). -1 with errno. */
int idx_add(struct imap_folder *f, uint32_t uid, const char *name,
	    size_t len, uint8_t flags, uint32_t kw, uint64_t modseq,
	    int in_new);
/* The live (not expunged) entry whose base is base[0..n), or -1. */
long idx_find_base(const struct imap_folder *f, const char *base, size_t n);
long idx_find_uid(const struct imap_folder *f, uint32_t uid);
void idx_hash_rebuild(struct imap_folder *f);
void idx_vanished_add(struct imap_folder *f, uint32_t uid, uint64_t modseq);
/* Take LOCK_EX and apply the log's tail (others' records). */
int idx_lock_catch_up(struct imap_folder *f, int how, const char **error_r);
void idx_unlock(struct imap_folder *f);
/* A new modseq; its record (appended to recs) with an R record first when
 * it passes the reservation. */
uint64_t idx_next_modseq(struct imap_folder *f, struct str *recs);
/* Append a U/F record for entry i to recs. */
int idx_rec_state(struct imap_folder *f, char type, uint32_t i,
		  struct str *recs);
int idx_rec_expunge(struct imap_folder *f, uint32_t uid, uint64_t modseq,
		    struct str *recs);
/* Under LOCK_EX, caught up: claim the unclaimed messages (RECENT in
 * imap_index.h), their C record appended to recs. */
int idx_claim_locked(struct imap_folder *f, struct str *recs);
/* ->recent for every live message no session has claimed. */
void idx_mark_recent(struct imap_folder *f);
/* Write recs to the log (under LOCK_EX); with sync: fdatasync it. */
int idx_log_write(struct imap_folder *f, struct str *recs, int sync,
		  const char **error_r);

/* imap_index_scan.c */
/* Scan under LOCK_EX; unless force, only if still needed once the log is
 * read (another process may have scanned meanwhile). */
int idx_scan(struct imap_folder *f, int recent, int force,
	     const char **error_r);
/* 1 if the next sync must scan: new/ or cur/ differ from the mtimes the
 * log explains, the last scan was dirty, or a verification is due. */
int idx_scan_needed(struct imap_folder *f);
int idx_stat_dir(int fd, struct timespec *mtime_r);

/* imap_index_dirs.c: postern's own changes to cur/ and new/ (SYNC) */
#define IDX_DIR_CUR 1u
#define IDX_DIR_NEW 2u
struct idx_own {
	unsigned dirs;		/* IDX_DIR_* the change touches */
	int ok;			/* they were as the log explains */
};
/* Under LOCK_EX, caught up, before the change. */
void idx_own_begin(struct imap_folder *f, struct idx_own *o, unsigned dirs);
/* After it: if the directories were explained before, their new mtimes
 * are, by an M record appended to recs. A change that met another
 * program's (a name gone) must clear o->ok first. 0 or -1. */
int idx_own_end(struct imap_folder *f, struct idx_own *o, struct str *recs);
/* An M record of f's mtimes with this state. */
int idx_rec_dirs(struct imap_folder *f, unsigned state, struct str *recs);
/* The state to write when the log is rewritten. */
unsigned idx_dirs_state(const struct imap_folder *f);
/* An M record read (ours or another process's). */
void idx_apply_dirs(struct imap_folder *f, const struct imap_uidlog_rec *r);
int idx_ts_eq(const struct timespec *a, const struct timespec *b);
int idx_ts_recent(const struct timespec *t);

/* imap_index_create.c */
/* The folder's first log; maildir_fd: the Maildir's root (its
 * postern-uidvalidity). */
int idx_create_log(struct imap_folder *f, int maildir_fd,
		   const char **error_r);

#endif
