/*
 * imap_index - the folder in memory, the log applied to it, open, sync,
 * flush, close (imap_index.h)
 *
 * MEMORY  32 bytes a message (struct imap_msg) plus its file name once in
 *         the name arena, plus 8 bytes of the base hash: about 110 bytes a
 *         message with Dovecot's names.
 */
#include "mail/imap_index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/imap_cache.h"
#include "mail/maildir_name.h"
#include "util/alloc.h"

/* ---- entries, names, the base hash -------------------------------------- */

const char *idx_name(const struct imap_folder *f, uint32_t i)
{
	return f->names.s + f->msgs[i].name_off;
}

const char *imap_folder_name(const struct imap_folder *f, uint32_t i)
{
	return i < f->count ? idx_name(f, i) : NULL;
}

const char *idx_base(const struct imap_folder *f, uint32_t i, size_t *len_r)
{
	const char *n = idx_name(f, i), *colon = strchr(n, ':');

	*len_r = colon != NULL ? (size_t)(colon - n) : strlen(n);
	return n;
}

static uint32_t base_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void hash_insert(struct imap_folder *f, uint32_t i)
{
	size_t len;
	const char *b = idx_base(f, i, &len);
	uint32_t mask = f->hash_size - 1, h = base_hash(b, len) & mask;

	while (f->hash[h] != 0)
		h = (h + 1) & mask;
	f->hash[h] = i + 1;
}

void idx_hash_rebuild(struct imap_folder *f)
{
	uint32_t want = 64;

	while (want < 2 * f->count + 2)
		want *= 2;
	if (want != f->hash_size) {
		free(f->hash);
		f->hash = xcalloc(want, sizeof(*f->hash));
		f->hash_size = want;
	} else {
		memset(f->hash, 0, want * sizeof(*f->hash));
	}
	for (uint32_t i = 0; i < f->count; i++)
		hash_insert(f, i);
}

long idx_find_base(const struct imap_folder *f, const char *base, size_t n)
{
	uint32_t mask = f->hash_size - 1, h, e;
	size_t len;
	const char *b;

	if (f->hash_size == 0)
		return -1;
	for (h = base_hash(base, n) & mask; (e = f->hash[h]) != 0;
	     h = (h + 1) & mask) {
		b = idx_base(f, e - 1, &len);
		if (len == n && memcmp(b, base, n) == 0 &&
		    !f->msgs[e - 1].expunged)
			return (long)e - 1;
	}
	return -1;
}

long idx_find_uid(const struct imap_folder *f, uint32_t uid)
{
	uint32_t lo = 0, hi = f->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (f->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->count && f->msgs[lo].uid == uid ? (long)lo : -1;
}

uint32_t imap_folder_seq_of_uid(const struct imap_folder *f, uint32_t uid)
{
	long i = idx_find_uid(f, uid);

	return i < 0 ? 0 : (uint32_t)i + 1;
}

int idx_set_name(struct imap_folder *f, uint32_t i, const char *name,
		 size_t len)
{
	size_t off = f->names.len;

	if (off > UINT32_MAX - len - 1) {
		errno = EFBIG;
		return -1;
	}
	if (str_append(&f->names, name, len) < 0 ||
	    str_appendc(&f->names, '\0') < 0)
		return -1;
	if (f->msgs[i].name_off != UINT32_MAX)
		f->names_dead += strlen(idx_name(f, i)) + 1;
	f->msgs[i].name_off = (uint32_t)off;
	return 0;
}

int idx_add(struct imap_folder *f, uint32_t uid, const char *name,
	    size_t len, uint8_t flags, uint32_t kw, uint64_t modseq,
	    int in_new)
{
	struct imap_msg *m;

	if (f->count >= IMAP_INDEX_MSGS_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (f->count == f->alloc) {
		f->alloc = f->alloc < 64 ? 64 : f->alloc * 2;
		f->msgs = xreallocarray(f->msgs, f->alloc, sizeof(*f->msgs));
	}
	m = &f->msgs[f->count];
	memset(m, 0, sizeof(*m));
	m->uid = uid;
	m->flags = flags & IMAP_F_ALL;
	m->keywords = kw;
	m->modseq = modseq;
	m->in_new = in_new != 0;
	m->name_off = UINT32_MAX;
	if (idx_set_name(f, f->count, name, len) < 0)
		return -1;
	f->count++;
	if (f->hash_size < 2 * f->count + 2)
		idx_hash_rebuild(f);
	else
		hash_insert(f, f->count - 1);
	return 0;
}

void idx_vanished_add(struct imap_folder *f, uint32_t uid, uint64_t modseq)
{
	if (f->vanished_count == f->vanished_alloc) {
		f->vanished_alloc = f->vanished_alloc < 64 ? 64 :
				    f->vanished_alloc * 2;
		f->vanished = xreallocarray(f->vanished, f->vanished_alloc,
					    sizeof(*f->vanished));
	}
	f->vanished[f->vanished_count].uid = uid;
	f->vanished[f->vanished_count].modseq = modseq;
	f->vanished_count++;
}

/* ---- the log applied ------------------------------------------------------ */

struct apply {
	struct imap_folder *f;
	int others;	/* records of other processes: mark ->changed */
	int reload;	/* a rewritten log read again from its start */
};

static void apply_state(struct apply *a, uint32_t i,
			const struct imap_uidlog_rec *r)
{
	struct imap_msg *m = &a->f->msgs[i];
	uint8_t fl = r->flags & IMAP_F_ALL;

	if (a->others && (m->flags != fl || m->keywords != r->keywords))
		m->changed = 1;
	m->flags = fl;
	m->keywords = r->keywords;
	if (r->modseq > m->modseq)
		m->modseq = r->modseq;
	m->in_new = (r->flags & IMAP_UIDLOG_IN_NEW) != 0;
	m->seen_scan = 1;
	if (strlen(idx_name(a->f, i)) != r->name_len ||
	    memcmp(idx_name(a->f, i), r->name, r->name_len) != 0)
		(void)idx_set_name(a->f, i, r->name, r->name_len);
}

static int apply_assign(struct apply *a, const struct imap_uidlog_rec *r)
{
	struct imap_folder *f = a->f;
	long i = idx_find_uid(f, r->uid);

	if (i >= 0) {		/* known (a rewritten log) */
		if (!f->msgs[i].expunged)
			apply_state(a, (uint32_t)i, r);
		return 0;
	}
	if (f->count > 0 && r->uid < f->msgs[f->count - 1].uid)
		return 0;	/* expunged and purged meanwhile */
	if (idx_add(f, r->uid, r->name, r->name_len, r->flags, r->keywords,
		    r->modseq, (r->flags & IMAP_UIDLOG_IN_NEW) != 0) < 0)
		return -1;
	f->msgs[f->count - 1].seen_scan = 1;
	if (r->uid >= f->uidnext)
		f->uidnext = r->uid + 1;
	return 0;
}

static int apply_rec(void *arg, const struct imap_uidlog_rec *r,
		     uint64_t end)
{
	struct apply *a = arg;
	struct imap_folder *f = a->f;
	long i = -1;

	(void)end;
	if (r->type != 'R' && r->modseq > f->highestmodseq)
		f->highestmodseq = r->modseq;
	if (r->type == 'F' || r->type == 'X')
		i = idx_find_uid(f, r->uid);
	switch (r->type) {
	case 'U':
		return apply_assign(a, r);
	case 'F':
		if (i >= 0 && !f->msgs[i].expunged)
			apply_state(a, (uint32_t)i, r);
		break;
	case 'X':
		if (i >= 0)
			f->msgs[i].expunged = 1;
		idx_vanished_add(f, r->uid, r->modseq);
		break;
	case 'R':
		if (r->modseq > f->reserved)
			f->reserved = r->modseq;
		f->last_r_boot = r->boot;
		break;
	case 'M':
		idx_apply_dirs(f, r);
		break;
	case 'C':
		if (r->uid > f->first_unclaimed)
			f->first_unclaimed = r->uid;
		break;
	}
	return 0;
}

/* After a rewritten log was read whole: entries it did not name are
 * gone. */
static void apply_reload_done(struct imap_folder *f)
{
	for (uint32_t i = 0; i < f->count; i++)
		if (!f->msgs[i].seen_scan)
			f->msgs[i].expunged = 1;
}

static void apply_header(struct imap_folder *f)
{
	const struct imap_uidlog_header *h = &f->log.h;

	f->uidvalidity = h->uidvalidity;
	if (h->uidnext > f->uidnext)
		f->uidnext = h->uidnext;
	if (h->modseq > f->highestmodseq)
		f->highestmodseq = h->modseq;
	if (h->modseq > f->reserved)
		f->reserved = h->modseq;
	f->horizon = h->horizon;
}

/* The system restarted since the last reservation was written: records
 * not yet fsynced then may be lost, and MODSEQs up to the reservation may
 * have been announced: continue above it (MODSEQ in imap_index.h). */
static void idx_crash_check(struct imap_folder *f)
{
	uint64_t a = f->last_r_boot, b = f->boot;

	if (a != 0 && (a > b ? a - b : b - a) > 5 &&
	    f->reserved > f->highestmodseq)
		f->highestmodseq = f->reserved;
}

/* Read the log from its start into an empty folder, or, reload, into a
 * folder that knows an older generation. */
static int idx_read_all(struct imap_folder *f, int reload,
			const char **error_r)
{
	struct apply a = { f, reload, reload };

	if (reload) {
		if (f->log.h.uidvalidity != f->uidvalidity) {
			*error_r = "postern-uidlog: UIDVALIDITY changed";
			errno = ESTALE;
			return -1;
		}
		for (uint32_t i = 0; i < f->count; i++)
			f->msgs[i].seen_scan = 0;
		f->vanished_count = 0;
	}
	apply_header(f);
	if (imap_uidlog_read(&f->log, apply_rec, &a, error_r) < 0)
		return -1;
	if (reload)
		apply_reload_done(f);
	idx_crash_check(f);
	f->log_unsynced = 1;
	return 0;
}

int idx_lock_catch_up(struct imap_folder *f, int how, const char **error_r)
{
	struct apply a = { f, 1, 0 };
	int r = imap_uidlog_lock(&f->log, how, error_r);

	uint64_t before = f->log.offset;

	if (r < 0)
		return -1;
	if (r > 0)
		r = idx_read_all(f, 1, error_r);
	else
		r = imap_uidlog_read(&f->log, apply_rec, &a, error_r);
	if (r < 0) {
		idx_unlock(f);
		return -1;
	}
	if (f->log.offset != before) {
		f->log_unsynced = 1;
		idx_crash_check(f);
	}
	return 0;
}

void idx_unlock(struct imap_folder *f)
{
	const char *e;

	(void)imap_uidlog_lock(&f->log, LOCK_UN, &e);
}

/* ---- records ----------------------------------------------------------- */

/* 1 if a live message is at or above the claim boundary. */
static int idx_unclaimed(const struct imap_folder *f)
{
	for (uint32_t i = f->count; i-- > 0 &&
	     f->msgs[i].uid >= f->first_unclaimed;)
		if (!f->msgs[i].expunged)
			return 1;
	return 0;
}

void idx_mark_recent(struct imap_folder *f)
{
	/* (UIDs only grow: what was marked needs no second look, so a
	 * folder no session ever claimed costs nothing per sync) */
	uint32_t from = f->first_unclaimed > f->recent_from ?
			f->first_unclaimed : f->recent_from;

	for (uint32_t i = f->count; i-- > 0 && f->msgs[i].uid >= from;)
		if (!f->msgs[i].expunged)
			f->msgs[i].recent = 1;
	f->recent_from = f->uidnext;
}

int idx_claim_locked(struct imap_folder *f, struct str *recs)
{
	struct imap_uidlog_rec r = { .type = 'C' };

	if (!idx_unclaimed(f))
		return 0;
	idx_mark_recent(f);
	r.uid = f->uidnext;
	if (imap_uidlog_format_record(recs, &r) < 0)
		return -1;
	f->first_unclaimed = f->uidnext;
	return 0;
}

/* Claim what is unclaimed (no scan was needed): LOCK_EX, catch up, a C
 * record fsynced. */
static int idx_claim(struct imap_folder *f, const char **error_r)
{
	struct str recs = STR_INIT(0);
	int r;

	if (idx_lock_catch_up(f, LOCK_EX, error_r) < 0)
		return -1;
	r = idx_claim_locked(f, &recs);
	if (r < 0)
		*error_r = "format postern-uidlog";
	else
		r = idx_log_write(f, &recs, 1, error_r);
	idx_unlock(f);
	str_free(&recs);
	return r;
}

uint64_t idx_next_modseq(struct imap_folder *f, struct str *recs)
{
	uint64_t m = ++f->highestmodseq;

	if (m > f->reserved) {
		struct imap_uidlog_rec r = { .type = 'R' };

		r.modseq = m + IMAP_INDEX_RESERVE_STEP;
		r.boot = f->boot;
		if (imap_uidlog_format_record(recs, &r) == 0)
			f->reserved = r.modseq;
	}
	return m;
}

int idx_rec_state(struct imap_folder *f, char type, uint32_t i,
		  struct str *recs)
{
	const struct imap_msg *m = &f->msgs[i];
	struct imap_uidlog_rec r = { .type = type };

	r.uid = m->uid;
	r.modseq = m->modseq;
	r.flags = m->flags | (m->in_new ? IMAP_UIDLOG_IN_NEW : 0);
	r.keywords = m->keywords;
	r.name = idx_name(f, i);
	r.name_len = strlen(r.name);
	return imap_uidlog_format_record(recs, &r);
}

int idx_rec_expunge(struct imap_folder *f, uint32_t uid, uint64_t modseq,
		    struct str *recs)
{
	struct imap_uidlog_rec r = { .type = 'X' };

	r.uid = uid;
	r.modseq = modseq;
	idx_vanished_add(f, uid, modseq);
	return imap_uidlog_format_record(recs, &r);
}

int idx_log_write(struct imap_folder *f, struct str *recs, int sync,
		  const char **error_r)
{
	if (recs->len > 0 &&
	    imap_uidlog_append(&f->log, recs->s, recs->len, error_r) < 0) {
		f->log_behind = 1;
		return -1;
	}
	if (recs->len > 0)
		f->log_unsynced = 1;
	if (sync && f->log_unsynced) {
		if (imap_uidlog_sync(&f->log, error_r) < 0)
			return -1;
		f->log_unsynced = 0;
		f->reserved_synced = f->reserved;
	}
	str_clear(recs);
	return 0;
}

/* ---- open, sync, flush, close ------------------------------------------ */

static int folder_open_dirs(struct imap_folder *f, int maildir_fd,
			    const char *dirname, int index_dir_fd,
			    const char **error_r)
{
	const char *d = dirname[0] == '\0' ? "." : dirname;

	if (dirname[0] != '\0' && (dirname[0] != '.' ||
	    strchr(dirname, '/') != NULL || strcmp(dirname, ".") == 0 ||
	    strcmp(dirname, "..") == 0)) {
		errno = EINVAL;
		*error_r = "bad folder directory name";
		return -1;
	}
	f->dir_fd = openat(maildir_fd, d, O_RDONLY | O_DIRECTORY |
			   O_NOFOLLOW | O_CLOEXEC);
	if (f->dir_fd < 0) {
		*error_r = "open folder";
		return -1;
	}
	f->cur_fd = openat(f->dir_fd, "cur", O_RDONLY | O_DIRECTORY |
			   O_NOFOLLOW | O_CLOEXEC);
	f->new_fd = openat(f->dir_fd, "new", O_RDONLY | O_DIRECTORY |
			   O_NOFOLLOW | O_CLOEXEC);
	if (f->cur_fd < 0 || f->new_fd < 0) {
		*error_r = "open folder's cur/ or new/";
		return -1;
	}
	f->index_fd = index_dir_fd >= 0 ?
		fcntl(index_dir_fd, F_DUPFD_CLOEXEC, 0) :
		fcntl(f->dir_fd, F_DUPFD_CLOEXEC, 0);
	if (f->index_fd < 0) {
		*error_r = "dup index directory";
		return -1;
	}
	return 0;
}

static void folder_init(struct imap_folder *f)
{
	char host[128];

	memset(f, 0, sizeof(*f));
	f->dir_fd = f->cur_fd = f->new_fd = f->index_fd = -1;
	str_init(&f->names, 0);
	maildir_keywords_init(&f->kw);
	f->scan_dirty = 1;
	f->first_unclaimed = 1;
	{
		struct timespec rt, bt;

		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_BOOTTIME, &bt);
		f->boot = (uint64_t)(rt.tv_sec - bt.tv_sec);
	}
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	{
		struct str h = STR_INIT(sizeof(f->host) - 1);

		if (maildir_name_host_escape(host[0] ? host : "localhost",
					     &h) < 0 ||
		    cstr_copy(f->host, sizeof(f->host), str_c(&h)) < 0)
			(void)cstr_copy(f->host, sizeof(f->host), "localhost");
		str_free(&h);
	}
}

/* The log into memory: the snapshot and its tail, or the whole log. */
static int folder_load(struct imap_folder *f, int maildir_fd,
		       const char **error_r)
{
	int r;

	imap_uidlog_init(&f->log, f->index_fd);
	for (int tries = 0; (r = imap_uidlog_open(&f->log, error_r)) == 0;
	     tries++) {
		if (tries > 2 || f->readonly > 1) {
			errno = ENOENT;
			*error_r = "postern-uidlog missing";
			return -1;
		}
		if (idx_create_log(f, maildir_fd, error_r) < 0 &&
		    errno != EEXIST)
			return -1;
	}
	if (r < 0)
		return -1;
	f->uidvalidity = f->log.h.uidvalidity;
	if (imap_cache_open(f) == 0 && imap_cache_snapshot_load(f) == 1) {
		if (idx_lock_catch_up(f, LOCK_SH, error_r) < 0)
			return -1;
		idx_crash_check(f);
		idx_unlock(f);
		return 0;
	}
	if (imap_uidlog_lock(&f->log, LOCK_SH, error_r) < 0)
		return -1;
	r = idx_read_all(f, 0, error_r);
	idx_unlock(f);
	for (uint32_t i = 0; i < f->count; i++)
		f->msgs[i].seen_scan = 0;
	return r;
}

int imap_folder_open(struct imap_folder *f, int maildir_fd,
		     const char *dirname, int index_dir_fd, int readonly,
		     const char **error_r)
{
	folder_init(f);
	f->readonly = readonly != 0;
	if (folder_open_dirs(f, maildir_fd, dirname, index_dir_fd,
			     error_r) < 0 ||
	    folder_load(f, maildir_fd, error_r) < 0)
		goto fail;
	f->counter = (unsigned long)f->dir_fd << 16;
	if (maildir_keywords_read(f->dir_fd, &f->kw) < 0) {
		*error_r = "read dovecot-keywords";
		goto fail;
	}
	if (imap_folder_sync(f, readonly ? 0 : IMAP_SYNC_RECENT, error_r) < 0)
		goto fail;
	/* nothing was announced yet: no news to tell */
	imap_folder_purge(f);
	for (uint32_t i = 0; i < f->count; i++)
		f->msgs[i].changed = 0;
	return 0;
fail:
	{
		int saved = errno;

		imap_folder_close(f);
		errno = saved;
	}
	return -1;
}

int imap_folder_sync(struct imap_folder *f, unsigned flags,
		     const char **error_r)
{
	int recent = (flags & IMAP_SYNC_RECENT) && !f->readonly;

	if (idx_lock_catch_up(f, LOCK_SH, error_r) < 0)
		return -1;
	idx_unlock(f);
	if ((flags & IMAP_SYNC_FORCE) || idx_scan_needed(f)) {
		if (idx_scan(f, recent, (flags & IMAP_SYNC_FORCE) != 0,
			     error_r) < 0)
			return -1;
	} else if (recent && idx_unclaimed(f) && idx_claim(f, error_r) < 0) {
		return -1;
	}
	idx_mark_recent(f);
	imap_cache_refresh(f);
	return 0;
}

void imap_folder_purge(struct imap_folder *f)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < f->count; i++) {
		if (f->msgs[i].expunged) {
			f->names_dead += strlen(idx_name(f, i)) + 1;
			continue;
		}
		f->msgs[j++] = f->msgs[i];
	}
	if (j == f->count)
		return;
	f->count = j;
	if (f->names_dead > f->names.len / 2) {
		struct str n = STR_INIT(0);

		for (uint32_t i = 0; i < f->count; i++) {
			const char *s = idx_name(f, i);
			size_t off = n.len, len = strlen(s) + 1;

			if (str_append(&n, s, len) < 0)
				break;
			f->msgs[i].name_off = (uint32_t)off;
		}
		if (n.len > 0 || f->count == 0) {
			str_free(&f->names);
			f->names = n;
			f->names_dead = 0;
		} else {
			str_free(&n);
		}
	}
	idx_hash_rebuild(f);
}

/* Rewrite the log when it has grown well past what it holds. */
static int folder_compact(struct imap_folder *f, const char **error_r)
{
	struct imap_uidlog_header h = f->log.h;
	struct str recs = STR_INIT(0);
	uint32_t first = 0;
	struct imap_uidlog_rec res = { .type = 'R' };
	int r = -1;

	h.uidnext = f->uidnext;
	h.modseq = f->highestmodseq;
	res.modseq = f->highestmodseq > f->reserved ? f->highestmodseq :
		     f->reserved;
	res.boot = f->boot;
	if (imap_uidlog_format_record(&recs, &res) < 0)
		goto out;
	h.generation = imap_uidlog_generation();
	if (f->vanished_count > IMAP_INDEX_KEEP_EXPUNGED)
		first = f->vanished_count - IMAP_INDEX_KEEP_EXPUNGED;
	h.horizon = f->horizon;
	for (uint32_t i = 0; i < first; i++)
		if (f->vanished[i].modseq > h.horizon)
			h.horizon = f->vanished[i].modseq;
	for (uint32_t i = 0; i < f->count; i++)
		if (!f->msgs[i].expunged && idx_rec_state(f, 'U', i, &recs) < 0)
			goto out;
	if (idx_rec_dirs(f, idx_dirs_state(f), &recs) < 0)
		goto out;
	if (f->first_unclaimed > 1) {
		struct imap_uidlog_rec c = { .type = 'C' };

		c.uid = f->first_unclaimed;
		if (imap_uidlog_format_record(&recs, &c) < 0)
			goto out;
	}
	for (uint32_t i = first; i < f->vanished_count; i++) {
		struct imap_uidlog_rec x = { .type = 'X' };

		x.uid = f->vanished[i].uid;
		x.modseq = f->vanished[i].modseq;
		if (imap_uidlog_format_record(&recs, &x) < 0)
			goto out;
	}
	if (imap_uidlog_replace(&f->log, &h, recs.s, recs.len, error_r) < 0)
		goto out;
	if (first > 0)
		memmove(f->vanished, f->vanished + first,
			(f->vanished_count - first) * sizeof(*f->vanished));
	f->vanished_count -= first;
	f->horizon = h.horizon;
	f->reserved = res.modseq;
	f->reserved_synced = res.modseq;
	f->last_r_boot = f->boot;
	r = 0;
out:
	str_free(&recs);
	return r;
}

static int folder_maybe_compact(struct imap_folder *f, const char **error_r)
{
	uint64_t size, live;

	if (imap_uidlog_size(&f->log, &size) < 0)
		return 0;
	live = (uint64_t)f->count * 48 + (f->names.len - f->names_dead) +
	       (uint64_t)f->vanished_count * 24;
	if (size < IMAP_INDEX_COMPACT_MIN ||
	    size < live * IMAP_INDEX_COMPACT_RATIO)
		return 0;
	if (idx_lock_catch_up(f, LOCK_EX, error_r) < 0)
		return -1;
	int r = folder_compact(f, error_r);

	if (r == 0)	/* records written between rename and our lock */
		r = idx_lock_catch_up(f, LOCK_EX, error_r);
	idx_unlock(f);
	return r;
}

int imap_folder_flush(struct imap_folder *f)
{
	const char *e;
	int r = 0;

	if (f->log.fd < 0)
		return -1;
	if (f->highestmodseq > f->reserved_synced || f->log_unsynced) {
		if (imap_uidlog_sync(&f->log, &e) < 0)
			r = -1;
		else {
			f->log_unsynced = 0;
			f->reserved_synced = f->reserved;
		}
	}
	if (folder_maybe_compact(f, &e) < 0)
		r = -1;
	if (imap_cache_flush(f) < 0)
		r = -1;
	return r;
}

void imap_folder_close(struct imap_folder *f)
{
	if (f->log.fd >= 0) {
		(void)imap_folder_flush(f);
		imap_cache_snapshot_now(f);
	}
	imap_cache_close(f);
	imap_uidlog_close(&f->log);
	if (f->cur_fd >= 0)
		close(f->cur_fd);
	if (f->new_fd >= 0)
		close(f->new_fd);
	if (f->index_fd >= 0)
		close(f->index_fd);
	if (f->dir_fd >= 0)
		close(f->dir_fd);
	free(f->msgs);
	free(f->hash);
	free(f->vanished);
	str_free(&f->names);
	maildir_keywords_free(&f->kw);
	memset(f, 0, sizeof(*f));
	f->dir_fd = f->cur_fd = f->new_fd = f->index_fd = -1;
	f->log.fd = -1;
}
