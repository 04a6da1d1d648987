/*
 * imap_index_scan - what the Maildir holds, merged into the folder under
 * the log's LOCK_EX (imap_index.h, SYNC)
 *
 * ORDER   new/ is listed (or moved to cur/) before cur/ is: a file another
 *         reader moves from new/ to cur/ meanwhile is seen in one of them
 *         at least; seen in both, the cur/ name wins.
 * RACES   A file renamed in cur/ while readdir(3) runs may be missed. The
 *         mtimes of new/ and cur/ are taken before and after the listing;
 *         if either moved, the listing is done again (3 times at most);
 *         if they never hold still, no file is taken for expunged by this
 *         scan and the next sync scans again.
 * DIRTY   A directory whose mtime is less than IMAP_INDEX_DIRTY_SECS old
 *         when it is scanned may change again within the same timestamp
 *         tick. If that mtime is another program's, the next sync scans
 *         again whatever the mtime says (M record state DIRTY); if it is
 *         the one postern's own change made (the new/ -> cur/ moves of
 *         this scan, or a logged change: imap_index_dirs.c), a
 *         verification scan is due in IMAP_INDEX_VERIFY_SECS (VERIFY).
 *         The scan ends with an M record of the mtimes it listed.
 */
#include "mail/imap_index_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "mail/maildir_name.h"
#include "mail/maildir_scan.h"
#include "util/alloc.h"
#include "util/log.h"

#define SCAN_TRIES 3

struct pending {
	uint32_t off;		/* name in scan->names */
	uint8_t in_new, recent;
};

struct scan {
	struct imap_folder *f;
	struct str names;	/* pending and moved names, NUL-terminated */
	struct pending *p;	/* .recent: moved from new/ by us */
	size_t np, ap;
	struct str moved_names;	/* names we moved new/ -> cur/ */
	uint32_t *moved;	/* their offsets */
	size_t nmoved, amoved;
	int in_new;
	struct str tmp;
};

int idx_stat_dir(int fd, struct timespec *mtime_r)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	*mtime_r = st.st_mtim;
	return 0;
}

int idx_scan_needed(struct imap_folder *f)
{
	struct timespec c, n;

	if (f->scan_dirty || (f->verify_at != 0 && time(NULL) >= f->verify_at))
		return 1;
	if (idx_stat_dir(f->cur_fd, &c) < 0 || idx_stat_dir(f->new_fd, &n) < 0)
		return 1;
	return !idx_ts_eq(&c, &f->cur_mtime) || !idx_ts_eq(&n, &f->new_mtime);
}

static uint32_t scan_keep_name(struct scan *s, const char *name)
{
	uint32_t off = (uint32_t)s->names.len;

	(void)str_append(&s->names, name, strlen(name) + 1);
	return off;
}

/* new/NAME -> cur/NAME:2, ; remembered as recent. */
static int scan_move_one(void *arg, const char *name,
			 const struct maildir_name *m)
{
	struct scan *s = arg;
	struct imap_folder *f = s->f;

	str_clear(&s->tmp);
	if (str_appends(&s->tmp, name) < 0)
		return 0;
	if (m->info == NULL && s->tmp.len + 3 <= MAILDIR_NAME_MAX)
		(void)str_appends(&s->tmp, ":2,");
	if (renameat(f->new_fd, name, f->cur_fd, str_c(&s->tmp)) < 0) {
		if (errno != ENOENT)
			log_warn("imap", "rename new/%s to cur/: %s", name,
				 strerror(errno));
		return 0;
	}
	{
		long i = idx_find_base(f, name, m->base_len);

		if (i >= 0)	/* numbered by a read-only session */
			f->msgs[i].moved = 1;
	}
	if (s->nmoved == s->amoved) {
		s->amoved = s->amoved ? 2 * s->amoved : 64;
		s->moved = xreallocarray(s->moved, s->amoved,
					 sizeof(*s->moved));
	}
	s->moved[s->nmoved++] = (uint32_t)s->moved_names.len;
	(void)str_append(&s->moved_names, s->tmp.s, s->tmp.len + 1);
	return 0;
}

/* A file listed: a known message updated, or a pending new one. */
static int scan_one(void *arg, const char *name, const struct maildir_name *m)
{
	struct scan *s = arg;
	struct imap_folder *f = s->f;
	long i = idx_find_base(f, name, m->base_len);
	struct imap_msg *e;

	if (i < 0) {
		if (s->np == s->ap) {
			s->ap = s->ap ? 2 * s->ap : 256;
			s->p = xreallocarray(s->p, s->ap, sizeof(*s->p));
		}
		s->p[s->np].off = scan_keep_name(s, name);
		s->p[s->np].in_new = (uint8_t)s->in_new;
		s->p[s->np].recent = 0;
		s->np++;
		return 0;
	}
	e = &f->msgs[i];
	if (e->seen_scan && s->in_new && !e->in_new)
		return 0;	/* already seen in cur/ */
	e->seen_scan = 1;
	if (strcmp(idx_name(f, (uint32_t)i), name) != 0 &&
	    idx_set_name(f, (uint32_t)i, name, strlen(name)) < 0)
		return -1;
	e->in_new = (uint8_t)s->in_new;
	return 0;
}

static int scan_list(struct scan *s)
{
	struct imap_folder *f = s->f;

	s->np = 0;
	str_clear(&s->names);
	for (uint32_t i = 0; i < f->count; i++)
		f->msgs[i].seen_scan = 0;
	s->in_new = 1;
	if (maildir_scan_dir(f->new_fd, scan_one, s) < 0)
		return -1;
	s->in_new = 0;
	return maildir_scan_dir(f->cur_fd, scan_one, s);
}

/* Flags of the names against the log: F records for what differs. */
static int scan_flags(struct scan *s, struct str *recs)
{
	struct imap_folder *f = s->f;
	struct maildir_name m;
	uint32_t kw;
	uint8_t fl;

	for (uint32_t i = 0; i < f->count; i++) {
		struct imap_msg *e = &f->msgs[i];

		if (!e->seen_scan || e->expunged ||
		    maildir_name_parse(idx_name(f, i), &m) < 0)
			continue;
		fl = imap_index_flags_from_maildir(m.flags, &kw);
		if (fl == e->flags && kw == e->keywords)
			continue;
		e->flags = fl;
		e->keywords = kw;
		e->modseq = idx_next_modseq(f, recs);
		e->changed = 1;
		if (idx_rec_state(f, 'F', i, recs) < 0)
			return -1;
	}
	return 0;
}

static int scan_expunges(struct scan *s, struct str *recs)
{
	struct imap_folder *f = s->f;

	for (uint32_t i = 0; i < f->count; i++) {
		struct imap_msg *e = &f->msgs[i];

		if (e->seen_scan || e->expunged)
			continue;
		e->expunged = 1;
		e->modseq = idx_next_modseq(f, recs);
		if (idx_rec_expunge(f, e->uid, e->modseq, recs) < 0)
			return -1;
	}
	return 0;
}

static int base_cmp(const char *p, const char *q)
{
	size_t lp = strcspn(p, ":"), lq = strcspn(q, ":");
	int c = memcmp(p, q, lp < lq ? lp : lq);

	return c != 0 ? c : lp == lq ? 0 : lp < lq ? -1 : 1;
}

static int pending_base_cmp(const void *a, const void *b, void *names)
{
	const struct pending *x = a, *y = b;
	int c = base_cmp((const char *)names + x->off,
			 (const char *)names + y->off);

	/* the cur/ one first: it is the one kept */
	return c != 0 ? c : (int)x->in_new - (int)y->in_new;
}

static int pending_name_cmp(const void *a, const void *b, void *names)
{
	const struct pending *x = a, *y = b;

	return maildir_name_cmp((const char *)names + x->off,
				(const char *)names + y->off);
}

static int moved_cmp(const void *a, const void *b, void *names)
{
	return strcmp((const char *)names + *(const uint32_t *)a,
		      (const char *)names + *(const uint32_t *)b);
}

/* Is name among the files we moved from new/? */
static int scan_was_moved(const struct scan *s, const char *name)
{
	size_t lo = 0, hi = s->nmoved;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->moved_names.s + s->moved[mid], name);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Sort the new files, drop a base seen twice (new/ and cur/), mark the
 * ones we moved recent. */
static void scan_pending_sort(struct scan *s)
{
	size_t j = 0;

	if (s->np == 0)
		return;
	qsort_r(s->p, s->np, sizeof(*s->p), pending_base_cmp, s->names.s);
	for (size_t i = 0; i < s->np; i++) {
		if (j > 0 && base_cmp(s->names.s + s->p[j - 1].off,
				      s->names.s + s->p[i].off) == 0)
			continue;
		s->p[j++] = s->p[i];
	}
	s->np = j;
	qsort_r(s->p, s->np, sizeof(*s->p), pending_name_cmp, s->names.s);
	if (s->nmoved > 0)
		qsort_r(s->moved, s->nmoved, sizeof(*s->moved), moved_cmp,
			s->moved_names.s);
	for (size_t i = 0; i < s->np; i++)
		s->p[i].recent = !s->p[i].in_new &&
			scan_was_moved(s, s->names.s + s->p[i].off);
}

static int scan_assign(struct scan *s, struct str *recs, const char **error_r)
{
	struct imap_folder *f = s->f;
	struct maildir_name m;
	uint32_t kw;
	uint8_t fl;

	scan_pending_sort(s);
	for (size_t i = 0; i < s->np; i++) {
		const char *name = s->names.s + s->p[i].off;

		if (f->uidnext == UINT32_MAX) {
			errno = EOVERFLOW;
			*error_r = "UIDs exhausted (recreate the folder)";
			return -1;
		}
		if (maildir_name_parse(name, &m) < 0)
			continue;
		fl = imap_index_flags_from_maildir(m.flags, &kw);
		if (idx_add(f, f->uidnext, name, strlen(name), fl, kw,
			    idx_next_modseq(f, recs), s->p[i].in_new) < 0) {
			*error_r = "index full";
			return -1;
		}
		f->uidnext++;
		f->msgs[f->count - 1].moved = s->p[i].recent;
		f->msgs[f->count - 1].seen_scan = 1;
		if (idx_rec_state(f, 'U', f->count - 1, recs) < 0) {
			*error_r = "format postern-uidlog";
			return -1;
		}
	}
	return 0;
}

/* The listing, repeated while the directories move under it. 1 stable,
 * 0 not, -1 error. */
static int scan_stable_list(struct scan *s, struct timespec *cur_r,
			    struct timespec *new_r)
{
	struct imap_folder *f = s->f;
	struct timespec c0, n0;

	for (int t = 0; t < SCAN_TRIES; t++) {
		if (idx_stat_dir(f->cur_fd, &c0) < 0 ||
		    idx_stat_dir(f->new_fd, &n0) < 0 || scan_list(s) < 0 ||
		    idx_stat_dir(f->cur_fd, cur_r) < 0 ||
		    idx_stat_dir(f->new_fd, new_r) < 0)
			return -1;
		if (idx_ts_eq(&c0, cur_r) && idx_ts_eq(&n0, new_r))
			return 1;
	}
	return 0;
}

/* The state of the M record that ends a scan which listed cur/ at c and
 * new/ at n (DIRTY in the header). own_c/own_n: the mtime postern's own
 * change made, or the one the log explained before the scan. */
static unsigned scan_state(int stable, const struct timespec *c,
			   const struct timespec *own_c,
			   const struct timespec *n,
			   const struct timespec *own_n)
{
	int rc = idx_ts_recent(c), rn = idx_ts_recent(n);

	if (!stable || (rc && !idx_ts_eq(c, own_c)) ||
	    (rn && !idx_ts_eq(n, own_n)))
		return IMAP_UIDLOG_DIRS_DIRTY;
	return rc || rn ? IMAP_UIDLOG_DIRS_VERIFY : IMAP_UIDLOG_DIRS_CLEAN;
}

static int scan_locked(struct scan *s, int recent, struct str *recs,
		       const char **error_r)
{
	struct imap_folder *f = s->f;
	struct timespec c, n, own_c = { -1, 0 }, own_n = { -1, 0 };
	struct imap_uidlog_rec m = { .type = 'M' };
	int stable;

	if (!f->scan_dirty) {
		own_c = f->cur_mtime;
		own_n = f->new_mtime;
	}
	if (recent && maildir_scan_dir(f->new_fd, scan_move_one, s) < 0) {
		*error_r = "read new/";
		return -1;
	}
	if (s->nmoved > 0 && (idx_stat_dir(f->cur_fd, &own_c) < 0 ||
			      idx_stat_dir(f->new_fd, &own_n) < 0)) {
		*error_r = "stat cur/ or new/";
		return -1;
	}
	stable = scan_stable_list(s, &c, &n);
	if (stable < 0) {
		*error_r = "read cur/ or new/";
		return -1;
	}
	if (scan_flags(s, recs) < 0 ||
	    (stable && scan_expunges(s, recs) < 0) ||
	    scan_assign(s, recs, error_r) < 0) {
		if (*error_r == NULL)
			*error_r = "format postern-uidlog";
		return -1;
	}
	f->cur_mtime = c;
	f->new_mtime = n;
	m.mt_state = (uint8_t)scan_state(stable, &c, &own_c, &n, &own_n);
	idx_apply_dirs(f, &m);
	f->cur_mtime = c;	/* (m carries the state only) */
	f->new_mtime = n;
	return idx_rec_dirs(f, m.mt_state, recs);
}

int idx_scan(struct imap_folder *f, int recent, int force,
	     const char **error_r)
{
	struct scan s;
	struct str recs = STR_INIT(0);
	int r;

	memset(&s, 0, sizeof(s));
	s.f = f;
	str_init(&s.names, 0);
	str_init(&s.moved_names, 0);
	str_init(&s.tmp, MAILDIR_NAME_MAX + 8);
	if (idx_lock_catch_up(f, LOCK_EX, error_r) < 0)
		return -1;
	*error_r = NULL;
	if (force || idx_scan_needed(f)) {
		f->scans++;
		r = scan_locked(&s, recent, &recs, error_r);
	} else {
		r = 0;	/* another process scanned meanwhile */
	}
	if (r == 0 && recent && idx_claim_locked(f, &recs) < 0) {
		*error_r = "format postern-uidlog";
		r = -1;
	}
	if (r == 0)
		r = idx_log_write(f, &recs, 1, error_r);
	idx_unlock(f);
	str_free(&recs);
	str_free(&s.names);
	str_free(&s.moved_names);
	str_free(&s.tmp);
	free(s.p);
	free(s.moved);
	return r;
}
