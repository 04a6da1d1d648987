/*
 * qmgr_scan - the queue directories and the moves between them
 *
 * STATES  A message is one file, named by its id, in exactly one of:
 *
 *   new/       complete, not yet seen (the injector links it here)
 *   active/    the queue manager is working on it (or was, when it died)
 *   deferred/  waiting; the file's mtime is the time of the next attempt
 *   hold/      set aside by "postern queue hold" until released
 *   corrupt/   not a valid queue file; never touched again
 *
 * MOVES (all rename(2) within one filesystem, done only by the queue
 * manager that holds the active/ lock, see qmgr_run.c):
 *
 *   new/ -> active/         picked up (WAKE, or a scan)
 *   deferred/ -> active/    due (mtime <= now) or FLUSH
 *   active/ -> deferred/    some recipient still queued: futimens() sets
 *                           the next attempt time first, then the rename
 *   active/ -> (unlinked)   every recipient done (D, F or X)
 *   active/ -> corrupt/     queue_file_read said EBADMSG
 *   new/, deferred/, active/ -> hold/   HOLD; hold/ -> deferred/ RELEASE
 *   any -> (unlinked)       DELETE
 *
 * Recipient outcomes are single state bytes written in place, and the
 * delivered targets of an alias are records appended after END
 * (queue_file.h), as soon as each is known; they are made durable
 * together once per turn of the event loop (qmgr_sync.c). The only
 * exception is the last recipient still queued: when it is done the file
 * is unlinked without writing its state, because the unlink says the same
 * thing.
 *
 * WHAT A CRASH LEAVES (kill -9 or a power cut at any instant):
 *   - before new/ -> active/: the message is in new/; the next start (or
 *     the next scan) picks it up.
 *   - in active/: at start every file in active/ is treated as new. Its
 *     recipients whose D/F/X was synced, and alias targets whose D record
 *     was, are not delivered again; a delivery the agent had finished but
 *     whose outcome was not yet synced (it ended in the turn the crash
 *     interrupted) is repeated. That duplicate is the price of never
 *     losing a message (DESIGN.md, step 6).
 *   - during the last unlink, or with the last state skipped: the file
 *     may come back with that recipient queued: one more delivery.
 *   - active/ -> deferred/ not yet durable: the file is in active/ again
 *     and is simply tried at once. futimens() before the rename means a
 *     file in deferred/ always carries a meaningful time.
 *   - a rename is atomic: the file is in the old directory or the new,
 *     never in both or neither, so no message can be lost or doubled.
 * No step rewrites message bytes, so no crash can corrupt a queued message.
 */
#include "qmgr.h"
#include "qmgr_bounce.h"
#include "qmgr_remote.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "retry.h"
#include "util/alloc.h"
#include "util/log.h"

static const char *const qdir_names[QD_COUNT] = {
	"new", "active", "deferred", "hold", "corrupt",
};

const char *qdir_name(enum qdir d)
{
	return qdir_names[d];
}

/* FNV-1a: ids share their leading (time) characters. */
static struct msg **id_bucket(struct qmgr *q, const char *id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &q->by_id[h % QMGR_ID_BUCKETS];
}

struct msg *qmgr_find(struct qmgr *q, const char *id)
{
	for (struct msg *m = *id_bucket(q, id); m != NULL; m = m->id_next)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static int qmove(struct qmgr *q, const char *id, enum qdir from,
		 enum qdir to)
{
	return renameat(q->dirfd[from], id, q->dirfd[to], id);
}

/* Put a file that could not be read back into deferred/, due again after
 * retry_min. */
static void defer_unread(struct qmgr *q, int fd, const char *id)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec += q->conf->retry_min;
	t[1] = t[0];
	if (futimens(fd, t) < 0 || qmove(q, id, QD_ACTIVE, QD_DEFERRED) < 0)
		log_warn(id, "cannot move to deferred/: %s (left in active/ "
			 "for the next start)", strerror(errno));
}

static void log_pickup(const struct msg *m)
{
	struct str s = STR_INIT(0);

	log_escape(&s, m->env.sender, strlen(m->env.sender), 256);
	log_info(m->id, "from=<%s> size=%lld nrcpt=%zu (queue active)",
		 str_c(&s), (long long)m->env.message_size, m->rcpt_total);
	str_free(&s);
}

/* Validate the file and read its first window of recipients. */
static int msg_read(struct qmgr *q, struct msg *m, const char **error_r)
{
	struct queue_scan scan;

	if (queue_file_scan(m->fd, &m->env, &scan, QMGR_WINDOW_RCPTS,
			    QMGR_WINDOW_BYTES, error_r) < 0)
		return -1;
	m->rcpt_total = scan.rcpts;
	m->pending = scan.pending;
	m->win_next = scan.window_end;
	m->rcpts_end = scan.message_rec;
	m->trailer = scan.trailer;
	m->trailer_end = scan.trailer_end;
	/* a torn append of a target record: cut before appending again */
	if (scan.size > scan.trailer_end &&
	    ftruncate(m->fd, scan.trailer_end) < 0) {
		log_warn(m->id, "cannot cut a torn target record: %s",
			 strerror(errno));
		m->no_trailer = 1;
	}
	qmgr_msg_account(q, m, (long)qmgr_window_bytes(&m->env));
	return 0;
}

/* Read active/ID into a new message; NULL if it could not be. */
static struct msg *msg_open(struct qmgr *q, const char *id)
{
	struct msg *m;
	const char *error;
	int fd = openat(q->dirfd[QD_ACTIVE], id, O_RDWR | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOENT)
			log_warn(id, "open active/%s: %s", id, strerror(errno));
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->q = q;
	cstr_copy(m->id, sizeof(m->id), id);
	m->fd = fd;
	queue_env_init(&m->env);
	resolve_result_init(&m->targets);
	if (msg_read(q, m, &error) == 0)
		return m;
	qmgr_msg_account(q, m, -(long)m->bytes);
	if (errno == EBADMSG) {
		log_warn(id, "corrupt queue file (%s); moved to corrupt/",
			 error);
		if (qmove(q, id, QD_ACTIVE, QD_CORRUPT) < 0)
			log_warn(id, "cannot move to corrupt/: %s",
				 strerror(errno));
	} else {
		log_warn(id, "cannot read queue file: %s; retrying later",
			 error);
		defer_unread(q, fd, id);
	}
	qmgr_msg_free(m);
	return NULL;
}

int qmgr_load(struct qmgr *q, const char *id, enum qdir from)
{
	struct msg *m, **bucket;

	if (qmgr_find(q, id) != NULL)
		return 0;
	if (q->nmsgs >= QMGR_ACTIVE_MAX ||
	    (q->nmsgs > 0 && q->active_bytes >= QMGR_ACTIVE_BYTES)) {
		q->overflow = 1;
		return -1;
	}
	if (from != QD_ACTIVE && qmove(q, id, from, QD_ACTIVE) < 0) {
		if (errno != ENOENT)
			log_warn(id, "cannot move %s/ to active/: %s",
				 qdir_name(from), strerror(errno));
		return 0;
	}
	m = msg_open(q, id);
	if (m == NULL)
		return 0;
	m->next = q->msgs;
	m->prev = NULL;
	if (q->msgs != NULL)
		q->msgs->prev = m;
	q->msgs = m;
	q->nmsgs++;
	bucket = id_bucket(q, m->id);
	m->id_next = *bucket;
	*bucket = m;
	log_pickup(m);
	qmgr_msg_step(q, m);
	return 0;
}

/* A file in new/ or active/ whose name is not a queue id: to corrupt/
 * (postern-queue(5)); "." and ".." and dot files are left alone. */
static void misnamed(struct qmgr *q, enum qdir d, const char *name)
{
	struct str s = STR_INIT(0);

	if (name[0] == '.' || (d != QD_NEW && d != QD_ACTIVE))
		return;
	log_escape(&s, name, strlen(name), 64);
	if (renameat(q->dirfd[d], name, q->dirfd[QD_CORRUPT], name) < 0)
		log_warn(NULL, "%s/%s is not a queue id and cannot be moved to "
			 "corrupt/: %s", qdir_name(d), str_c(&s),
			 strerror(errno));
	else
		log_warn(NULL, "%s/%s is not a queue id; moved to corrupt/",
			 qdir_name(d), str_c(&s));
	str_free(&s);
}

/* Call fn for each valid id in directory d; stop when it returns < 0. */
static void scan_dir(struct qmgr *q, enum qdir d,
		     int (*fn)(struct qmgr *, const char *, enum qdir, int),
		     int flush)
{
	int fd = openat(q->dirfd[d], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;

	if (dir == NULL) {
		log_warn(NULL, "cannot read %s/%s: %s", q->conf->queue_dir,
			 qdir_name(d), strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL && !q->stopping) {
		if (!queue_id_valid(de->d_name))
			misnamed(q, d, de->d_name);
		else if (fn(q, de->d_name, d, flush) < 0)
			break;
	}
	closedir(dir);
}

static int load_cb(struct qmgr *q, const char *id, enum qdir d, int flush)
{
	(void)flush;
	return qmgr_load(q, id, d);
}

/* Was the file deferred (renamed into deferred/, which sets its ctime)
 * before the FLUSH in progress began? Only those are flushed, so a flush
 * tries each message once even when it takes several scans. */
static int deferred_before_flush(const struct qmgr *q, const struct stat *st)
{
	const struct timespec *f = &q->flush_since;

	if (f->tv_sec == 0 && f->tv_nsec == 0)
		return 0;
	return st->st_ctim.tv_sec < f->tv_sec ||
	       (st->st_ctim.tv_sec == f->tv_sec &&
		st->st_ctim.tv_nsec < f->tv_nsec);
}

/* A deferred message: load it if due (or flushed), else note its time. */
static int deferred_cb(struct qmgr *q, const char *id, enum qdir d,
		       int flush)
{
	struct stat st;

	(void)flush;
	if (fstatat(q->dirfd[d], id, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;	/* gone meanwhile */
	if (deferred_before_flush(q, &st) || st.st_mtime <= time(NULL))
		return qmgr_load(q, id, d);
	if (q->next_due == 0 || st.st_mtime < q->next_due)
		q->next_due = st.st_mtime;
	return 0;
}

void qmgr_scan(struct qmgr *q, int flush)
{
	time_t now = time(NULL);

	if (q->stopping)
		return;
	q->overflow = 0;
	q->next_due = 0;
	scan_dir(q, QD_NEW, load_cb, 0);
	if (!q->overflow)
		scan_dir(q, QD_DEFERRED, deferred_cb, flush);
	if (!q->overflow)	/* every flushed message was loaded once */
		q->flush_since = (struct timespec){ 0, 0 };
	q->scan_at = 0;
	ev_timer_cancel(q->loop, q->scan_timer);
	q->scan_timer = NULL;
	qmgr_scan_at(q, now + (q->conf->queue_scan_interval ?
			       q->conf->queue_scan_interval : 1));
	if (q->next_due != 0)
		qmgr_scan_at(q, q->next_due);
	qmgr_dispatch(q);
}

void qmgr_recover(struct qmgr *q)
{
	scan_dir(q, QD_ACTIVE, load_cb, 0);
}

static void scan_timer_cb(void *arg)
{
	struct qmgr *q = arg;

	q->scan_timer = NULL;
	q->scan_at = 0;
	qmgr_scan(q, 0);
}

/* Make sure a scan runs no later than when. */
void qmgr_scan_at(struct qmgr *q, time_t when)
{
	time_t now = time(NULL);

	if (q->stopping || (q->scan_timer != NULL && q->scan_at <= when))
		return;
	ev_timer_cancel(q->loop, q->scan_timer);
	q->scan_at = when;
	q->scan_timer = ev_timer_add(q->loop, when > now ?
				     (int64_t)(when - now) * 1000 : 0,
				     scan_timer_cb, q);
}

static void unlink_active(struct qmgr *q, struct msg *m, const char *why)
{
	if (unlinkat(q->dirfd[QD_ACTIVE], m->id, 0) < 0) {
		log_warn(m->id, "cannot remove active/%s: %s", m->id,
			 strerror(errno));
	} else {
		log_info(m->id, "removed%s", why);
		qmgr_closer_close(q, m->fd);	/* frees the file */
		m->fd = -1;
	}
	qmgr_memo_forget(q, m->id);
}

/* Some recipient is still queued: to deferred/ with the next time. */
static void to_deferred(struct qmgr *q, struct msg *m)
{
	time_t now = time(NULL);
	struct timespec t[2] = { { 0, 0 }, { 0, 0 } };

	t[0].tv_sec = retry_next(m->env.arrival.tv_sec, now,
				 q->conf->retry_min, q->conf->retry_max);
	if (t[0].tv_sec < qmgr_remote_not_before(m))
		t[0].tv_sec = qmgr_remote_not_before(m);	/* backed off */
	t[1] = t[0];
	if (futimens(m->fd, t) < 0 ||
	    qmove(q, m->id, QD_ACTIVE, QD_DEFERRED) < 0) {
		log_warn(m->id, "cannot move to deferred/: %s (left in "
			 "active/ for the next start)", strerror(errno));
		return;
	}
	qmgr_scan_at(q, t[0].tv_sec);
}

static void msg_unlink_list(struct qmgr *q, struct msg *m)
{
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		q->msgs = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	m->next = m->prev = NULL;
	q->nmsgs--;
	for (struct msg **p = id_bucket(q, m->id); *p != NULL;
	     p = &(*p)->id_next)
		if (*p == m) {
			*p = m->id_next;
			break;
		}
}

void qmgr_finish(struct qmgr *q, struct msg *m)
{
	if (!m->delete_req)
		qmgr_bounce_flush(q, m);	/* before any removal */
	qmgr_sync_leave(q, m, m->delete_req ||
			(m->pending == 0 && !m->write_failed &&
			 !m->read_failed));
	if (m->delete_req)
		unlink_active(q, m, " (deleted by the administrator)");
	else if (m->pending == 0 && !m->write_failed && !m->read_failed)
		unlink_active(q, m, "");
	else if (m->hold_req && qmove(q, m->id, QD_ACTIVE, QD_HOLD) == 0)
		log_info(m->id, "held by the administrator");
	else
		to_deferred(q, m);
	msg_unlink_list(q, m);
	qmgr_msg_account(q, m, -(long)m->bytes);
	qmgr_msg_free(m);
	/* room again: go on with new/, a flush ... at once when a quarter
	 * of the places is free, else within QMGR_REFILL_MS: a backlog in
	 * new/ must not cost a directory scan for every message */
	if (q->overflow)
		qmgr_scan_within(q, q->nmsgs <= QMGR_ACTIVE_MAX -
				 QMGR_ACTIVE_MAX / 4 &&
				 q->active_bytes <= QMGR_ACTIVE_BYTES -
				 QMGR_ACTIVE_BYTES / 4 ? 0 : QMGR_REFILL_MS, 0);
	qmgr_maybe_done(q);
}
