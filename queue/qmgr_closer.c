/*
 * qmgr_closer - the last close of removed queue files, off the event loop
 *
 * When a message is done the queue manager unlinks active/ID; the file's
 * blocks and inode are freed only at the last close(2) of its descriptor,
 * and on ext4 that close does the freeing synchronously (bitmaps, inode
 * table, sometimes a read from disk). In the single-threaded queue manager
 * that made every delivery wait for the previous message's removal. So
 * the descriptor of an unlinked file goes through a pipe to one thread
 * that only closes descriptors. Nothing depends on when that happens: the
 * unlink is what records the message as done. If the pipe is full the
 * descriptor is closed at once, as before.
 */
#include "qmgr.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

static void *closer_main(void *arg)
{
	int rfd = *(int *)arg;
	int fds[64];
	ssize_t n;

	for (;;) {
		n = read(rfd, fds, sizeof(fds));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* the write end was closed: stop */
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(int); i++)
			close(fds[i]);
	}
	return NULL;
}

void qmgr_closer_start(struct qmgr *q)
{
	int p[2], e;

	q->closer_w = -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn(NULL, "closer pipe: %s; closing in the loop",
			 strerror(errno));
		return;
	}
	q->closer_r = p[0];
	e = fcntl(p[1], F_SETFL, O_NONBLOCK) < 0 ? errno :
	    pthread_create(&q->closer, NULL, closer_main, &q->closer_r);
	if (e != 0) {
		log_warn(NULL, "closer thread: %s; closing in the loop",
			 strerror(e));
		close(p[0]);
		close(p[1]);
		return;
	}
	q->closer_w = p[1];
}

void qmgr_closer_close(struct qmgr *q, int fd)
{
	if (fd < 0)
		return;
	if (q->closer_w >= 0 &&
	    write(q->closer_w, &fd, sizeof(fd)) == (ssize_t)sizeof(fd))
		return;
	close(fd);		/* pipe full (or no thread): here, now */
}

void qmgr_closer_stop(struct qmgr *q)
{
	if (q->closer_w < 0)
		return;
	close(q->closer_w);
	q->closer_w = -1;
	pthread_join(q->closer, NULL);
	close(q->closer_r);
}
