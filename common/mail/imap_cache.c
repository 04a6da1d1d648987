/*
 * imap_cache - postern-index.db through Berkeley DB 5.3 (imap_cache.h)
 *
 * BDB opens files by path: the index directory is held as a descriptor,
 * so the path is /proc/self/fd/N/postern-index.db (maildir_write.c links
 * through /proc/self/fd too). Without /proc the cache is off.
 *
 * SEALS   Without transactions BDB writes its dirty pages at sync in
 *         several write(2)s, and frees and truncates pages as it goes: a
 *         process killed meanwhile leaves a file whose pages disagree (a
 *         value's first overflow page new, the next one never written and
 *         read back as zeros). So every value is stored sealed: an 8-byte
 *         sum of its key and bytes before it (cache_seal). A value whose
 *         sum does not match is never used: it is a miss, and the file is
 *         marked damaged and rebuilt at the next flush.
 * WRITING A seal cannot help when BDB itself cannot walk the torn pages (a
 *         stale page in an overflow chain makes it read past its page
 *         buffer). So every write (under LOCK_EX) is bracketed by a marker
 *         file, postern-index.db-writing, created (and the directory
 *         fsynced) before the first page may be written and removed after
 *         the sync. Whoever holds a lock on the cache and finds the marker
 *         knows its writer died (a live one would hold LOCK_EX): the file
 *         is not read at all, and is rebuilt under LOCK_EX.
 */
#include "mail/imap_cache.h"

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/imap_index_int.h"
#include "util/alloc.h"
#include "util/log.h"

#define SNAP_MAGIC 0x50534e34u	/* "PSN4" */
#define SNAP_EVERY 16384	/* log bytes between snapshots */
#define CACHE_FORMAT 2		/* in the 'V' value: sealed values */
#define CACHE_WRITING_FILE "postern-index.db-writing"
#define SEAL_LEN 8

struct imap_cache {
	DB *db;
	int lock_fd;
	int lock;		/* LOCK_UN / LOCK_SH / LOCK_EX held */
	int broken;		/* rebuild at the next write */
	int damaged;		/* a value failed its seal: rebuild */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char path[64];
	struct str pending;	/* uid(4) field(1) len(4) bytes ... */
	size_t forget_n, forget_a;
	uint32_t *forget;
};

struct snap_head {
	uint32_t magic, uidvalidity;
	uint64_t generation, offset;
	char crc[9];
	uint32_t uidnext, count, vanished, names_len, dirty, first_unclaimed;
	uint64_t highestmodseq, reserved, horizon;
	struct timespec cur_mtime, new_mtime;
	int64_t verify_at;
};

struct cache_version {
	uint32_t uidvalidity, format;
};

static void key_make(unsigned char k[5], uint32_t uid, unsigned field)
{
	k[0] = (unsigned char)(uid >> 24);
	k[1] = (unsigned char)(uid >> 16);
	k[2] = (unsigned char)(uid >> 8);
	k[3] = (unsigned char)uid;
	k[4] = (unsigned char)field;
}

/* ---- sealed values (SEALS) ------------------------------------------------ */

static uint64_t seal_mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15u;
	return h ^ (h >> 31);
}

/* The sum of key k and p[0..n): 8 bytes at a time, not a cryptographic
 * one (it finds torn writes, not forgeries: the file is the user's). */
static uint64_t seal_sum(const unsigned char k[5], const unsigned char *p,
			 size_t n)
{
	uint64_t h = 0x6a09e667f3bcc909u, w = 0;
	size_t i = 0;

	memcpy(&w, k, 5);
	h = seal_mix(h, w ^ ((uint64_t)n << 40));
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		h = seal_mix(h, w);
	}
	w = 0;
	memcpy(&w, p + i, n - i);
	return seal_mix(seal_mix(h, w), n);
}

/* buf[0..SEAL_LEN) := the seal of buf[SEAL_LEN..n). */
static void cache_seal(const unsigned char k[5], unsigned char *buf, size_t n)
{
	uint64_t sum = seal_sum(k, buf + SEAL_LEN, n - SEAL_LEN);

	memcpy(buf, &sum, SEAL_LEN);
}

/* val (as BDB returned it) holds a sealed value of key k? */
static int cache_seal_ok(const unsigned char k[5], const DBT *val)
{
	uint64_t sum;

	if (val->size < SEAL_LEN)
		return 0;
	memcpy(&sum, val->data, SEAL_LEN);
	return sum == seal_sum(k, (const unsigned char *)val->data + SEAL_LEN,
			       val->size - SEAL_LEN);
}

/* The value of key k (DB_DBT_MALLOC into *val; the caller frees
 * val->data): 1 found and sealed, 0 missing, -1 error or a broken seal
 * (then the file is marked for a rebuild). */
static int cache_db_get(struct imap_cache *c, const unsigned char k[5],
			DBT *val)
{
	DBT key;
	int r;

	memset(&key, 0, sizeof(key));
	memset(val, 0, sizeof(*val));
	key.data = (void *)k;
	key.size = 5;
	val->flags = DB_DBT_MALLOC;
	r = c->db->get(c->db, NULL, &key, val, 0);
	if (r == DB_NOTFOUND)
		return 0;
	if (r == 0 && cache_seal_ok(k, val))
		return 1;
	free(val->data);
	val->data = NULL;
	if (r == 0) {
		c->damaged = 1;
		log_warn("imap", "%s: a damaged value (an interrupted "
			 "write?): the cache is rebuilt", IMAP_CACHE_FILE);
	} else {
		c->broken = 1;
	}
	return -1;
}

/* Store buf[0..n), whose first SEAL_LEN bytes are for the seal. */
static int cache_db_put(struct imap_cache *c, const unsigned char k[5],
			unsigned char *buf, size_t n)
{
	DBT key, val;

	if (n > UINT32_MAX)
		return -1;
	cache_seal(k, buf, n);
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = (void *)k;
	key.size = 5;
	val.data = buf;
	val.size = (uint32_t)n;
	return c->db->put(c->db, NULL, &key, &val, 0) == 0 ? 0 : -1;
}

static void cache_note_file(struct imap_cache *c)
{
	struct stat st;

	if (fstat(c->lock_fd, &st) == 0) {
		c->dev = st.st_dev;
		c->ino = st.st_ino;
		c->size = st.st_size;
		c->mtime = st.st_mtim;
	}
}

static int cache_file_moved(struct imap_cache *c)
{
	struct stat st;

	struct timespec now;

	if (fstat(c->lock_fd, &st) < 0)
		return 1;
	/* a write in the same timestamp tick as the one we saw leaves the
	 * mtime as it was: a recent mtime proves nothing */
	clock_gettime(CLOCK_REALTIME, &now);
	return st.st_size != c->size || st.st_mtim.tv_sec != c->mtime.tv_sec ||
	       st.st_mtim.tv_nsec != c->mtime.tv_nsec ||
	       now.tv_sec - st.st_mtim.tv_sec < IMAP_INDEX_DIRTY_SECS + 1;
}

static void cache_db_close(struct imap_cache *c)
{
	if (c->db != NULL)
		(void)c->db->close(c->db, DB_NOSYNC);
	c->db = NULL;
}

static int cache_db_open(struct imap_cache *c)
{
	DB *db;

	cache_db_close(c);
	if (db_create(&db, NULL, 0) != 0)
		return -1;
	db->set_errfile(db, NULL);
	if (db->open(db, NULL, c->path, NULL, DB_BTREE, DB_CREATE, 0600) != 0) {
		(void)db->close(db, DB_NOSYNC);
		c->broken = 1;
		return -1;
	}
	c->db = db;
	cache_note_file(c);
	return 0;
}

static int cache_lock(struct imap_cache *c, int how)
{
	int r;

	if (c->lock == how)
		return 0;
	while ((r = flock(c->lock_fd, how)) < 0 && errno == EINTR)
		;
	if (r == 0)
		c->lock = how & ~LOCK_NB;
	return r;
}

/* ---- writes (WRITING) ---------------------------------------------------- */

/* Under LOCK_EX, before anything is written: the marker. 0 or -1. */
static int cache_write_begin(struct imap_folder *f)
{
	int fd = openat(f->index_fd, CACHE_WRITING_FILE, O_WRONLY | O_CREAT |
			O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	(void)close(fd);
	/* before any page: a system crash must not keep the pages and
	 * lose the marker */
	return fsync(f->index_fd);
}

/* After the writes and BDB's sync succeeded. */
static void cache_write_end(struct imap_folder *f)
{
	(void)unlinkat(f->index_fd, CACHE_WRITING_FILE, 0);
}

/* A writer died while writing (the caller holds a lock). */
static int cache_torn(struct imap_folder *f)
{
	return faccessat(f->index_fd, CACHE_WRITING_FILE, F_OK,
			 AT_SYMLINK_NOFOLLOW) == 0;
}

/* Empty the file and start again (under LOCK_EX, between
 * cache_write_begin and cache_write_end). */
static int cache_rebuild(struct imap_folder *f, struct imap_cache *c)
{
	unsigned char k[5], buf[SEAL_LEN + sizeof(struct cache_version)];
	struct cache_version v = { f->uidvalidity, CACHE_FORMAT };

	cache_db_close(c);
	if (ftruncate(c->lock_fd, 0) < 0 || cache_db_open(c) < 0)
		return -1;
	c->broken = 0;
	c->damaged = 0;
	key_make(k, 0, 'V');
	memcpy(buf + SEAL_LEN, &v, sizeof(v));
	if (cache_db_put(c, k, buf, sizeof(buf)) < 0 ||
	    c->db->sync(c->db, 0) != 0)
		return -1;
	cache_note_file(c);
	return 0;
}

/* The UIDVALIDITY and format stored: 1 this folder's and this format,
 * 0 other or none. */
static int cache_check_uidvalidity(struct imap_folder *f, struct imap_cache *c)
{
	unsigned char k[5];
	struct cache_version v;
	DBT val;
	int r;

	key_make(k, 0, 'V');
	if (cache_db_get(c, k, &val) != 1)
		return 0;
	r = val.size == SEAL_LEN + sizeof(v);
	if (r) {
		memcpy(&v, (const char *)val.data + SEAL_LEN, sizeof(v));
		r = v.uidvalidity == f->uidvalidity && v.format == CACHE_FORMAT;
	}
	free(val.data);
	return r;
}

/* Under a lock: reopen the handle if another process wrote the file;
 * then it is usable if no write of it was interrupted, it is of this
 * UIDVALIDITY and format and no damage was seen in it. 0, or -1 (broken
 * or damaged: not read again until rebuilt). */
static int cache_current(struct imap_folder *f, struct imap_cache *c)
{
	if (cache_torn(f)) {
		cache_db_close(c);
		c->damaged = 1;
		return -1;
	}
	if (c->db == NULL || c->broken || cache_file_moved(c)) {
		if (cache_db_open(c) < 0)
			return -1;
		c->broken = !cache_check_uidvalidity(f, c);
	}
	return c->broken || c->damaged ? -1 : 0;
}

int imap_cache_open(struct imap_folder *f)
{
	struct imap_cache *c = xcalloc(1, sizeof(*c));

	f->cache = c;
	str_init(&c->pending, 0);
	c->lock_fd = openat(f->index_fd, IMAP_CACHE_FILE, O_RDWR | O_CREAT |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c->lock_fd < 0 ||
	    snprintf(c->path, sizeof(c->path), "/proc/self/fd/%d/%s",
		     f->index_fd, IMAP_CACHE_FILE) >= (int)sizeof(c->path) ||
	    access(c->path, R_OK | W_OK) < 0) {
		imap_cache_close(f);
		return -1;
	}
	if (cache_lock(c, LOCK_SH) < 0)
		return -1;
	if (cache_current(f, c) < 0 &&
	    cache_lock(c, LOCK_EX | LOCK_NB) == 0) {
		/* empty, damaged or another UIDVALIDITY's (looked at again
		 * under LOCK_EX: another process may have just rebuilt it):
		 * start again */
		c->broken = 1;
		if (cache_current(f, c) < 0 && cache_write_begin(f) == 0 &&
		    cache_rebuild(f, c) == 0)
			cache_write_end(f);
		(void)cache_lock(c, LOCK_SH);
	}
	return c->db != NULL && !c->broken ? 0 : -1;
}

void imap_cache_close(struct imap_folder *f)
{
	struct imap_cache *c = f->cache;

	if (c == NULL)
		return;
	cache_db_close(c);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	str_free(&c->pending);
	free(c->forget);
	free(c);
	f->cache = NULL;
}

void imap_cache_refresh(struct imap_folder *f)
{
	struct imap_cache *c = f->cache;

	if (c != NULL && c->lock == LOCK_UN && cache_lock(c, LOCK_SH) == 0)
		(void)cache_current(f, c);
}

int imap_cache_get(struct imap_folder *f, uint32_t uid, unsigned field,
		   struct str *out)
{
	struct imap_cache *c = f->cache;
	unsigned char k[5];
	DBT val;
	int r;

	if (c == NULL)
		return 0;
	if (c->lock == LOCK_UN &&
	    (cache_lock(c, LOCK_SH) < 0 || cache_current(f, c) < 0))
		return 0;
	if (c->db == NULL || c->broken || c->damaged)
		return 0;
	key_make(k, uid, field);
	if (cache_db_get(c, k, &val) != 1)
		return 0;
	r = str_set(out, (const char *)val.data + SEAL_LEN,
		    val.size - SEAL_LEN) < 0 ? -1 : 1;
	free(val.data);
	return r;
}

int imap_cache_put(struct imap_folder *f, uint32_t uid, unsigned field,
		   const void *p, size_t n)
{
	struct imap_cache *c = f->cache;
	unsigned char hdr[9 + SEAL_LEN];

	if (c == NULL)
		return 0;
	if (n > IMAP_CACHE_VALUE_MAX || uid == 0 || field > 255) {
		errno = EINVAL;
		return -1;
	}
	if (c->pending.len + n + sizeof(hdr) > IMAP_CACHE_PENDING_MAX) {
		(void)imap_cache_flush(f);
		if (c->pending.len + n + sizeof(hdr) > IMAP_CACHE_PENDING_MAX)
			return 0;	/* a cache may forget */
	}
	key_make(hdr, uid, field);
	hdr[5] = (unsigned char)(n >> 24);
	hdr[6] = (unsigned char)(n >> 16);
	hdr[7] = (unsigned char)(n >> 8);
	hdr[8] = (unsigned char)n;
	memset(hdr + 9, 0, SEAL_LEN);	/* the seal, at the write */
	if (str_append(&c->pending, hdr, sizeof(hdr)) < 0 ||
	    str_append(&c->pending, p, n) < 0)
		return -1;
	return 0;
}

void imap_cache_forget(struct imap_folder *f, uint32_t uid)
{
	struct imap_cache *c = f->cache;

	if (c == NULL)
		return;
	if (c->forget_n == c->forget_a) {
		c->forget_a = c->forget_a ? 2 * c->forget_a : 64;
		c->forget = xreallocarray(c->forget, c->forget_a,
					  sizeof(*c->forget));
	}
	c->forget[c->forget_n++] = uid;
}

/* The batch into the db (under LOCK_EX): uid(4) field(1) len(4)
 * seal(SEAL_LEN) bytes(len) each. */
static int cache_write_pending(struct imap_cache *c)
{
	unsigned char *p = (unsigned char *)c->pending.s;
	size_t pos = 0, n;
	DBT key;

	while (pos + 9 + SEAL_LEN <= c->pending.len) {
		n = (size_t)p[pos + 5] << 24 | (size_t)p[pos + 6] << 16 |
		    (size_t)p[pos + 7] << 8 | p[pos + 8];
		if (cache_db_put(c, p + pos, p + pos + 9, SEAL_LEN + n) < 0)
			return -1;
		pos += 9 + SEAL_LEN + n;
	}
	for (size_t i = 0; i < c->forget_n; i++) {
		for (unsigned field = 1; field <= IMAP_CACHE_SIZES; field++) {
			unsigned char k[5];

			key_make(k, c->forget[i], field);
			memset(&key, 0, sizeof(key));
			key.data = k;
			key.size = sizeof(k);
			(void)c->db->del(c->db, NULL, &key, 0);
		}
	}
	return 0;
}

/* ---- the snapshot ------------------------------------------------------ */

/* The CRC text of the record ending at offset: 8 hex digits and LF. */
static int snap_crc_at(struct imap_folder *f, uint64_t offset, char crc[9])
{
	if (offset < 9 ||
	    pread(f->log.fd, crc, 9, (off_t)(offset - 9)) != 9)
		return -1;
	return 0;
}

static int snap_write(struct imap_folder *f, struct imap_cache *c)
{
	static const unsigned char seal[SEAL_LEN];
	struct snap_head h;
	struct str img = STR_INIT(0), names = STR_INIT(0);
	unsigned char k[5];
	int r = -1;

	memset(&h, 0, sizeof(h));
	h.magic = SNAP_MAGIC;
	h.uidvalidity = f->uidvalidity;
	h.generation = f->log.h.generation;
	h.offset = f->log.offset;
	if (snap_crc_at(f, h.offset, h.crc) < 0)
		goto out;
	h.uidnext = f->uidnext;
	h.first_unclaimed = f->first_unclaimed;
	h.highestmodseq = f->highestmodseq;
	h.reserved = f->reserved;
	h.horizon = f->horizon;
	h.cur_mtime = f->cur_mtime;
	h.new_mtime = f->new_mtime;
	h.vanished = f->vanished_count;
	h.dirty = (uint32_t)f->scan_dirty;
	h.verify_at = (int64_t)f->verify_at;
	if (str_append(&img, seal, SEAL_LEN) < 0 ||
	    str_append(&img, &h, sizeof(h)) < 0)
		goto out;
	for (uint32_t i = 0; i < f->count; i++) {
		struct imap_msg m = f->msgs[i];
		const char *n = idx_name(f, i);

		if (m.expunged)
			continue;
		m.name_off = (uint32_t)names.len;
		m.recent = m.changed = m.seen_scan = m.moved = 0;
		if (str_append(&names, n, strlen(n) + 1) < 0 ||
		    str_append(&img, &m, sizeof(m)) < 0)
			goto out;
		h.count++;
	}
	h.names_len = (uint32_t)names.len;
	memcpy(img.s + SEAL_LEN, &h, sizeof(h));
	if ((names.len > 0 && str_append(&img, names.s, names.len) < 0) ||
	    (f->vanished_count > 0 &&
	     str_append(&img, f->vanished,
			f->vanished_count * sizeof(*f->vanished)) < 0))
		goto out;
	key_make(k, 0, 'S');
	if (cache_db_put(c, k, (unsigned char *)img.s, img.len) == 0) {
		f->snap_offset = h.offset;
		f->snap_dirty = f->scan_dirty;
		r = 0;
	}
out:
	str_free(&img);
	str_free(&names);
	return r;
}

/* Check a snapshot's header against the log. */
static int snap_usable(struct imap_folder *f, const struct snap_head *h,
		       size_t size)
{
	char crc[9];
	uint64_t logsize;

	if (size < sizeof(*h) || h->magic != SNAP_MAGIC ||
	    h->uidvalidity != f->uidvalidity ||
	    h->generation != f->log.h.generation ||
	    imap_uidlog_size(&f->log, &logsize) < 0 || h->offset > logsize ||
	    snap_crc_at(f, h->offset, crc) < 0 || memcmp(crc, h->crc, 9) != 0)
		return 0;
	return size == sizeof(*h) + (size_t)h->count * sizeof(struct imap_msg) +
	       h->names_len + (size_t)h->vanished *
	       sizeof(struct imap_vanished);
}

static int snap_apply(struct imap_folder *f, const struct snap_head *h,
		      const char *p)
{
	const char *names = p + (size_t)h->count * sizeof(struct imap_msg);
	const char *van = names + h->names_len;

	if (h->names_len > 0 && names[h->names_len - 1] != '\0')
		return 0;
	if (h->count > IMAP_INDEX_MSGS_MAX)
		return 0;
	f->msgs = xreallocarray(NULL, h->count ? h->count : 1,
				sizeof(*f->msgs));
	f->alloc = h->count ? h->count : 1;
	if (h->count > 0)
		memcpy(f->msgs, p, (size_t)h->count * sizeof(*f->msgs));
	f->count = h->count;
	for (uint32_t i = 0; i < f->count; i++) {
		struct imap_msg *m = &f->msgs[i];

		if (m->name_off >= h->names_len || names[m->name_off] == '\0' ||
		    m->uid == 0 || m->uid >= h->uidnext ||
		    (i > 0 && m->uid <= f->msgs[i - 1].uid)) {
			f->count = 0;
			return 0;
		}
		m->recent = m->expunged = m->changed = m->seen_scan = 0;
		m->moved = 0;
	}
	str_clear(&f->names);
	if (str_append(&f->names, names, h->names_len) < 0)
		return 0;
	f->vanished_count = 0;
	for (uint32_t i = 0; i < h->vanished; i++) {
		struct imap_vanished v;

		memcpy(&v, van + i * sizeof(v), sizeof(v));
		idx_vanished_add(f, v.uid, v.modseq);
	}
	f->uidnext = h->uidnext;
	f->first_unclaimed = h->first_unclaimed;
	f->highestmodseq = h->highestmodseq;
	f->reserved = h->reserved;
	f->horizon = h->horizon;
	f->cur_mtime = h->cur_mtime;
	f->new_mtime = h->new_mtime;
	f->scan_dirty = h->dirty != 0;
	f->verify_at = (time_t)h->verify_at;
	f->log.offset = h->offset;
	f->snap_offset = h->offset;
	f->snap_dirty = f->scan_dirty;
	idx_hash_rebuild(f);
	return 1;
}

int imap_cache_snapshot_load(struct imap_folder *f)
{
	struct imap_cache *c = f->cache;
	struct snap_head h;
	unsigned char k[5];
	DBT val;
	int r = 0;

	if (c == NULL || c->db == NULL || c->broken || c->damaged)
		return 0;
	key_make(k, 0, 'S');
	if (cache_db_get(c, k, &val) != 1)
		return 0;
	if (val.size >= SEAL_LEN + sizeof(h)) {
		const char *p = (const char *)val.data + SEAL_LEN;

		memcpy(&h, p, sizeof(h));
		if (snap_usable(f, &h, val.size - SEAL_LEN))
			r = snap_apply(f, &h, p + sizeof(h));
	}
	free(val.data);
	if (!r) {
		f->count = 0;
		f->vanished_count = 0;
		str_clear(&f->names);
	}
	return r;
}

/* ---- flush ------------------------------------------------------------- */

int imap_cache_flush(struct imap_folder *f)
{
	struct imap_cache *c = f->cache;
	int snap, rebuild, r = 0;

	if (c == NULL)
		return 0;
	/* a snapshot when the log moved on well past the last one, or when
	 * a clean scan would spare the next open a scan */
	snap = !f->log_behind && (f->snap_offset == 0 ||
	       f->log.offset - f->snap_offset >= SNAP_EVERY ||
	       (f->snap_dirty && !f->scan_dirty));
	if (c->pending.len == 0 && c->forget_n == 0 && !snap && !c->broken &&
	    !c->damaged) {
		(void)cache_lock(c, LOCK_UN);
		return 0;
	}
	if (cache_lock(c, LOCK_EX | LOCK_NB) < 0) {
		(void)cache_lock(c, LOCK_UN);
		return 0;	/* busy: the batch waits */
	}
	rebuild = cache_current(f, c) < 0;
	if (cache_write_begin(f) < 0) {
		r = -1;		/* nothing written: the batch is dropped */
		goto out;
	}
	if (rebuild) {
		r = cache_rebuild(f, c);
		snap = !f->log_behind;
	}
	if (r == 0)
		r = cache_write_pending(c);
	if (r == 0 && snap)
		r = snap_write(f, c);
	if (c->db == NULL || c->db->sync(c->db, 0) != 0)
		r = -1;
	if (r == 0)
		cache_write_end(f);
	else
		c->broken = 1;	/* the marker stays: rebuilt next time */
out:
	cache_note_file(c);
	str_clear(&c->pending);
	c->forget_n = 0;
	(void)cache_lock(c, LOCK_UN);
	return r;
}

void imap_cache_snapshot_now(struct imap_folder *f)
{
	uint64_t keep = f->snap_offset;

	/* a close writes one only when the log has moved well past the
	 * last (an open replays what follows it: a short tail is cheap),
	 * so that thousands of sessions closing a large folder (IDLE
	 * hibernates) do not each write it whole */
	if (f->cache == NULL || f->log_behind ||
	    (f->log.offset - f->snap_offset < SNAP_EVERY &&
	     f->snap_dirty == f->scan_dirty))
		return;
	f->snap_offset = 0;	/* forces the snapshot */
	if (imap_cache_flush(f) < 0 || f->snap_offset == 0)
		f->snap_offset = keep;
}
