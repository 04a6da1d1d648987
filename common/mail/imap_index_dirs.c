/*
 * imap_index_dirs - which mtimes of cur/ and new/ the log explains, so
 * that postern's own changes do not send the next sync to a scan
 * (imap_index.h, SYNC; postern-imap-index(5))
 *
 * RULE    A change postern makes to cur/ or new/ (STORE's rename, EXPUNGE's
 *         unlink, APPEND's and COPY's link) is made under the log's
 *         LOCK_EX, after reading the log to its end. The directories it
 *         touches are stat'ed before and after it; if before they had the
 *         mtimes the log explains (the last M record, and the scan behind
 *         it was not dirty), no other program changed them since, and
 *         after the change they differ only by it: the new mtimes are
 *         explained too, and an M record (state OWN) says so with the
 *         change's own record. Every postern process reads it, so another
 *         session's STORE costs no scan either.
 * RACE    Another program's change made between the two stats (a few
 *         microseconds), or later within the same timestamp tick as the
 *         second one, leaves the mtime as ours and is not seen by the
 *         mtime test. It is seen at the next change of another program
 *         (which moves the mtime), or at the verification scan: a sync at
 *         least IMAP_INDEX_VERIFY_SECS after an unverified OWN (or recent)
 *         M record scans whatever the mtimes say.
 */
#include "mail/imap_index_int.h"

#include <string.h>
#include <time.h>

int idx_ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

int idx_ts_recent(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec - t->tv_sec < IMAP_INDEX_DIRTY_SECS + 1 &&
	       (now.tv_sec - t->tv_sec < IMAP_INDEX_DIRTY_SECS ||
		now.tv_nsec < t->tv_nsec);
}

static void verify_later(struct imap_folder *f, int restart)
{
	if (restart || f->verify_at == 0)
		f->verify_at = time(NULL) + IMAP_INDEX_VERIFY_SECS;
}

void idx_apply_dirs(struct imap_folder *f, const struct imap_uidlog_rec *r)
{
	f->cur_mtime.tv_sec = (time_t)r->mt_sec[0];
	f->cur_mtime.tv_nsec = (long)r->mt_nsec[0];
	f->new_mtime.tv_sec = (time_t)r->mt_sec[1];
	f->new_mtime.tv_nsec = (long)r->mt_nsec[1];
	switch (r->mt_state) {
	case IMAP_UIDLOG_DIRS_CLEAN:
		f->scan_dirty = 0;
		f->verify_at = 0;
		break;
	case IMAP_UIDLOG_DIRS_VERIFY:
		f->scan_dirty = 0;
		verify_later(f, 1);
		break;
	case IMAP_UIDLOG_DIRS_OWN:
		verify_later(f, 0);
		break;
	default:
		f->scan_dirty = 1;
		break;
	}
}

unsigned idx_dirs_state(const struct imap_folder *f)
{
	return f->scan_dirty ? IMAP_UIDLOG_DIRS_DIRTY :
	       f->verify_at != 0 ? IMAP_UIDLOG_DIRS_OWN :
	       IMAP_UIDLOG_DIRS_CLEAN;
}

int idx_rec_dirs(struct imap_folder *f, unsigned state, struct str *recs)
{
	struct imap_uidlog_rec r = { .type = 'M' };

	if (f->cur_mtime.tv_sec < 0 || f->new_mtime.tv_sec < 0)
		return 0;	/* not writable: the next sync scans */
	r.mt_sec[0] = (uint64_t)f->cur_mtime.tv_sec;
	r.mt_nsec[0] = (uint32_t)f->cur_mtime.tv_nsec;
	r.mt_sec[1] = (uint64_t)f->new_mtime.tv_sec;
	r.mt_nsec[1] = (uint32_t)f->new_mtime.tv_nsec;
	r.mt_state = (uint8_t)state;
	return imap_uidlog_format_record(recs, &r);
}

/* The directories of dirs as they are now equal what the log explains? */
static int dirs_explained(struct imap_folder *f, unsigned dirs)
{
	struct timespec t;

	if ((dirs & IDX_DIR_CUR) &&
	    (idx_stat_dir(f->cur_fd, &t) < 0 || !idx_ts_eq(&t, &f->cur_mtime)))
		return 0;
	if ((dirs & IDX_DIR_NEW) &&
	    (idx_stat_dir(f->new_fd, &t) < 0 || !idx_ts_eq(&t, &f->new_mtime)))
		return 0;
	return 1;
}

void idx_own_begin(struct imap_folder *f, struct idx_own *o, unsigned dirs)
{
	o->dirs = dirs;
	o->ok = !f->scan_dirty && dirs_explained(f, dirs);
}

int idx_own_end(struct imap_folder *f, struct idx_own *o, struct str *recs)
{
	struct timespec c = f->cur_mtime, n = f->new_mtime;

	if (!o->ok)
		return 0;	/* the mtimes stay unexplained: a scan */
	o->ok = 0;
	if (((o->dirs & IDX_DIR_CUR) && idx_stat_dir(f->cur_fd, &c) < 0) ||
	    ((o->dirs & IDX_DIR_NEW) && idx_stat_dir(f->new_fd, &n) < 0))
		return 0;
	f->cur_mtime = c;
	f->new_mtime = n;
	verify_later(f, 0);
	return idx_rec_dirs(f, IMAP_UIDLOG_DIRS_OWN, recs);
}
