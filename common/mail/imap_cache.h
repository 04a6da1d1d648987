/*
 * imap_cache - postern-index.db, the rebuildable cache of a folder
 * (postern-imap-index(5))
 *
 * FILE    A Berkeley DB 5.3 btree, opened without an environment (no
 *         __db.* region files, no transactions: nothing in it must survive
 *         a crash). Keys:
 *
 *           uid(4, big-endian) field(1)   per-message data of a field
 *                                         (IMAP_CACHE_*, imap_index.h)
 *           0(4) 'V'                      the UIDVALIDITY it belongs to
 *                                         and the cache format
 *           0(4) 'S'                      the snapshot (below)
 *
 *         Each value is stored sealed: an 8-byte sum of key and bytes
 *         before the bytes (SEALS in imap_cache.c); one that fails it is
 *         a miss and marks the file damaged.
 *
 *         A message's data never changes while its UID lives (a UID names
 *         one file content for good), so an entry is never stale, only
 *         useless once the UID is expunged (then deleted when seen).
 *
 * SNAPSHOT The folder as of a log offset: header (magic, UIDVALIDITY, the
 *         log's generation, the offset, the CRC text of the record ending
 *         there, uidnext, highest modseq, reservation, horizon, the
 *         mtimes of cur/ and new/ the log explains, when a verification
 *         scan is due), the live messages (struct imap_msg as in memory),
 *         their names, the expunges the log still holds. A snapshot is
 *         used only if the log has the same generation and still has that
 *         record ending at that offset; then only the log's tail is read,
 *         and new/ and cur/ are scanned only if their mtimes moved: a
 *         warm open of a big folder reads one value and a few records.
 *         Native byte order: the cache is for the host that wrote it
 *         (another one rebuilds it).
 *
 * LOCKING flock on a descriptor of the file itself. Readers hold LOCK_SH
 *         from their first read of a command until imap_folder_flush(); a
 *         writer takes LOCK_EX without waiting (LOCK_NB) at flush, writes
 *         what it batched, syncs and releases; if the lock is busy the
 *         batch waits for the next flush (at most IMAP_CACHE_PENDING_MAX
 *         bytes, then it is dropped: a cache may forget). Each BDB handle
 *         keeps its own page cache, so a process reopens its handle when
 *         the file's size or mtime differ from what it last saw.
 *
 * DAMAGE  A file BDB cannot open or read, one of another UIDVALIDITY or
 *         cache format, one with a value whose seal fails, or one whose
 *         writer died while writing (WRITING in imap_cache.c),
 *         is emptied under LOCK_EX and started again. Every failure of
 *         the cache leaves the folder working, only slower.
 */
#ifndef POSTERN_IMAP_CACHE_H
#define POSTERN_IMAP_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

#define IMAP_CACHE_FILE "postern-index.db"
#define IMAP_CACHE_PENDING_MAX ((size_t)64 << 20)
#define IMAP_CACHE_VALUE_MAX ((size_t)16 << 20)

struct imap_folder;

/* 1 found (out replaced by the value), 0 missing, -1 error. */
int imap_cache_get(struct imap_folder *f, uint32_t uid, unsigned field,
		   struct str *out);
/* Batched until imap_folder_flush(). 0, or -1 (EINVAL: too large). */
int imap_cache_put(struct imap_folder *f, uint32_t uid, unsigned field,
		   const void *p, size_t n);

/* For imap_index only. */
int imap_cache_open(struct imap_folder *f);
/* 1 the snapshot was applied to the (empty) folder, 0 none usable. */
int imap_cache_snapshot_load(struct imap_folder *f);
/* Start of a command: see other processes' writes. */
void imap_cache_refresh(struct imap_folder *f);
/* Write the batch (and a snapshot when the log moved on); release the
 * shared lock. 0, or -1 (nothing lost but cache). */
int imap_cache_flush(struct imap_folder *f);
/* A snapshot now if the log moved since the last (close of a folder). */
void imap_cache_snapshot_now(struct imap_folder *f);
/* The data of an expunged UID can go. */
void imap_cache_forget(struct imap_folder *f, uint32_t uid);
void imap_cache_close(struct imap_folder *f);

#endif
