/*
 * qmgr_sync - recorded outcomes made durable together (group commit)
 *
 * When a delivery ends, its outcome is written into the queue file at
 * once (a state byte in place, or a target record after END) and the file
 * joins the list of files to sync. The sync runs once per turn of the
 * event loop, after every answer that arrived in that turn was handled:
 * one fdatasync(2) for one file, one syncfs(2) for several (as the
 * injector's commit rounds, where syncfs was measured 2 to 3 times faster
 * than one fdatasync per file). The next delivery of the same message is
 * not held back by the sync: it is sent at once and runs meanwhile.
 *
 * So a crash repeats at most the deliveries that were in flight, plus
 * those that ended in the turn the crash interrupted: never one whose
 * outcome was synced (DESIGN.md, step 6). A file that leaves memory
 * (deferred, held) is synced before its descriptor is closed; a file that
 * is removed needs no sync. A failed sync is logged and the files of the
 * round are marked write_failed: they are not removed, so every recipient
 * whose outcome may not be on disk is looked at again.
 */
#include "qmgr.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

static void sync_round(void *arg)
{
	struct qmgr *q = arg;

	q->sync_timer = NULL;
	qmgr_sync_all(q);
}

void qmgr_sync_soon(struct qmgr *q, struct msg *m)
{
	if (!m->dirty) {
		m->dirty = 1;
		m->dirty_next = q->dirty;
		q->dirty = m;
	}
	if (q->sync_timer == NULL)
		q->sync_timer = ev_timer_add(q->loop, 0, sync_round, q);
}

void qmgr_sync_all(struct qmgr *q)
{
	struct msg *m, *next;
	int r, err = 0;

	if (q->dirty == NULL)
		return;
	if (q->dirty->dirty_next == NULL)
		r = fdatasync(q->dirty->fd);
	else
		r = syncfs(q->dirty->fd);
	if (r < 0)
		err = errno;
	for (m = q->dirty; m != NULL; m = next) {
		next = m->dirty_next;
		m->dirty = 0;
		m->dirty_next = NULL;
		if (err == 0)
			continue;
		log_warn(m->id, "cannot sync the recorded outcomes: %s; the "
			 "message stays queued and is looked at again",
			 strerror(err));
		m->write_failed = 1;
	}
	q->dirty = NULL;
}

void qmgr_sync_leave(struct qmgr *q, struct msg *m, int drop)
{
	struct msg **p;

	if (!m->dirty)
		return;
	for (p = &q->dirty; *p != NULL; p = &(*p)->dirty_next)
		if (*p == m) {
			*p = m->dirty_next;
			break;
		}
	m->dirty = 0;
	m->dirty_next = NULL;
	if (!drop && fdatasync(m->fd) < 0) {
		log_warn(m->id, "cannot sync the recorded outcomes: %s; some "
			 "deliveries may be repeated", strerror(errno));
		m->write_failed = 1;
	}
}
