/*
 * event - an epoll event loop with timers, for event-driven daemons
 *
 * Descriptors: a table indexed by fd holds each registration's callback
 * and a generation number. The epoll data word carries (generation, fd),
 * so when a callback removes another descriptor, or removes one and a new
 * connection reuses the same fd number, events already returned by
 * epoll_wait for the old registration are recognised as stale and dropped
 * rather than delivered to the wrong callback.
 *
 * Timers: a binary min-heap ordered by (due time, creation sequence), so
 * timers due at the same millisecond fire in the order they were added.
 * A timer is freed just before its callback runs; its handle is invalid
 * from then on and must not be cancelled. Timers added by a callback
 * during a round of firing wait for the next round, so a callback that
 * re-arms itself with 0 ms cannot starve the descriptors.
 *
 * Hang-up and errors (EPOLLHUP, EPOLLERR) are reported as EV_ERROR|EV_READ,
 * so a reader sees the end of file through its usual read path.
 */
#include "util/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/log.h"

#define EV_BATCH 64

struct ev_reg {
	ev_fd_cb *cb;
	void *arg;
	unsigned events;
	uint32_t gen;		/* 0: not registered */
};

struct ev_timer {
	int64_t when;
	uint64_t seq;
	size_t idx;		/* position in the heap */
	ev_timer_cb *cb;
	void *arg;
};

struct ev_loop {
	int epfd;
	struct ev_reg *regs;
	size_t nregs;		/* entries allocated in regs */
	size_t nactive;		/* registered descriptors */
	uint32_t gen;		/* last generation handed out */
	struct ev_timer **heap;
	size_t nheap, capheap;
	uint64_t seq;
	int stop;
};

int64_t clock_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		log_panic("clock_gettime(CLOCK_MONOTONIC) failed");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ev_loop *ev_new(void)
{
	struct ev_loop *loop = xcalloc(1, sizeof(*loop));

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = errno;

		free(loop);
		errno = err;
		return NULL;
	}
	return loop;
}

void ev_free(struct ev_loop *loop)
{
	if (loop == NULL)
		return;
	for (size_t i = 0; i < loop->nheap; i++)
		free(loop->heap[i]);
	free(loop->heap);
	free(loop->regs);
	close(loop->epfd);
	free(loop);
}

/* ---- descriptors ---------------------------------------------------- */

static uint32_t ev_epoll_events(unsigned events)
{
	uint32_t e = 0;

	if (events & EV_READ)
		e |= EPOLLIN;
	if (events & EV_WRITE)
		e |= EPOLLOUT;
	return e;
}

/* Make regs[fd] exist. */
static void ev_regs_grow(struct ev_loop *loop, size_t fd)
{
	size_t n = loop->nregs ? loop->nregs : 64;

	if (fd < loop->nregs)
		return;
	while (n <= fd)
		n *= 2;
	loop->regs = xreallocarray(loop->regs, n, sizeof(*loop->regs));
	memset(loop->regs + loop->nregs, 0,
	       (n - loop->nregs) * sizeof(*loop->regs));
	loop->nregs = n;
}

static struct ev_reg *ev_reg_find(struct ev_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->nregs || loop->regs[fd].gen == 0)
		return NULL;
	return &loop->regs[fd];
}

/* A fresh generation; 0 is never used, it means "not registered". */
static uint32_t ev_next_gen(struct ev_loop *loop)
{
	if (++loop->gen == 0)
		loop->gen = 1;
	return loop->gen;
}

static int ev_ctl(struct ev_loop *loop, int op, int fd, unsigned events,
		  uint32_t gen)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = ev_epoll_events(events);
	ev.data.u64 = (uint64_t)gen << 32 | (uint32_t)fd;
	return epoll_ctl(loop->epfd, op, fd, &ev);
}

int ev_fd_add(struct ev_loop *loop, int fd, unsigned events, ev_fd_cb *cb,
	      void *arg)
{
	struct ev_reg *r;
	uint32_t gen;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (ev_reg_find(loop, fd) != NULL) {
		errno = EEXIST;
		return -1;
	}
	gen = ev_next_gen(loop);
	if (ev_ctl(loop, EPOLL_CTL_ADD, fd, events, gen) < 0)
		return -1;
	ev_regs_grow(loop, (size_t)fd);
	r = &loop->regs[fd];
	r->cb = cb;
	r->arg = arg;
	r->events = events;
	r->gen = gen;
	loop->nactive++;
	return 0;
}

int ev_fd_mod(struct ev_loop *loop, int fd, unsigned events)
{
	struct ev_reg *r = ev_reg_find(loop, fd);

	if (r == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (ev_ctl(loop, EPOLL_CTL_MOD, fd, events, r->gen) < 0)
		return -1;
	r->events = events;
	return 0;
}

void ev_fd_del(struct ev_loop *loop, int fd)
{
	struct ev_reg *r = ev_reg_find(loop, fd);

	if (r == NULL)
		return;
	/* Fails only if fd was closed already, which removed it anyway. */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	memset(r, 0, sizeof(*r));
	loop->nactive--;
}

/* ---- timers: a min-heap ----------------------------------------------- */

static int ev_timer_less(const struct ev_timer *a, const struct ev_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void ev_heap_set(struct ev_loop *loop, size_t i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->idx = i;
}

static void ev_heap_up(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];

	while (i > 0 && ev_timer_less(t, loop->heap[(i - 1) / 2])) {
		ev_heap_set(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	ev_heap_set(loop, i, t);
}

static void ev_heap_down(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap &&
		    ev_timer_less(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!ev_timer_less(loop->heap[c], t))
			break;
		ev_heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	ev_heap_set(loop, i, t);
}

/* Take the timer at position i out of the heap. */
static void ev_heap_remove(struct ev_loop *loop, size_t i)
{
	struct ev_timer *last = loop->heap[--loop->nheap];

	if (i == loop->nheap)
		return;
	ev_heap_set(loop, i, last);
	ev_heap_up(loop, i);
	ev_heap_down(loop, last->idx);
}

struct ev_timer *ev_timer_add(struct ev_loop *loop, int64_t ms,
			      ev_timer_cb *cb, void *arg)
{
	struct ev_timer *t = xmalloc(sizeof(*t));

	if (loop->nheap == loop->capheap) {
		loop->capheap = loop->capheap ? loop->capheap * 2 : 16;
		loop->heap = xreallocarray(loop->heap, loop->capheap,
					   sizeof(*loop->heap));
	}
	t->when = clock_ms() + (ms > 0 ? ms : 0);
	t->seq = loop->seq++;
	t->cb = cb;
	t->arg = arg;
	loop->heap[loop->nheap++] = t;
	ev_heap_up(loop, loop->nheap - 1);
	return t;
}

void ev_timer_cancel(struct ev_loop *loop, struct ev_timer *t)
{
	if (t == NULL)
		return;
	if (t->idx >= loop->nheap || loop->heap[t->idx] != t)
		log_panic("ev_timer_cancel: timer not armed");
	ev_heap_remove(loop, t->idx);
	free(t);
}

/* Fire the timers due now that existed before this round; count them. */
static int ev_timers_fire(struct ev_loop *loop)
{
	uint64_t limit = loop->seq;
	int64_t now = clock_ms();
	int fired = 0;

	while (loop->nheap > 0 && loop->heap[0]->when <= now &&
	       loop->heap[0]->seq < limit) {
		struct ev_timer *t = loop->heap[0];
		ev_timer_cb *cb = t->cb;
		void *arg = t->arg;

		ev_heap_remove(loop, 0);
		free(t);
		cb(arg);
		fired++;
	}
	return fired;
}

/* ---- running ----------------------------------------------------------- */

/* How long epoll may sleep: until the next timer, at most max_ms. */
static int ev_wait_ms(struct ev_loop *loop, int max_ms)
{
	int64_t d;

	if (loop->nheap == 0)
		return max_ms;
	d = loop->heap[0]->when - clock_ms();
	if (d < 0)
		d = 0;
	if (max_ms >= 0 && d > max_ms)
		d = max_ms;
	return d > 1000000000 ? 1000000000 : (int)d;
}

static unsigned ev_revents(uint32_t e)
{
	unsigned r = 0;

	if (e & EPOLLIN)
		r |= EV_READ;
	if (e & EPOLLOUT)
		r |= EV_WRITE;
	if (e & (EPOLLHUP | EPOLLERR))
		r |= EV_ERROR | EV_READ;
	return r;
}

/* Call the callback of one returned event unless it has gone stale. */
static int ev_dispatch(struct ev_loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct ev_reg *r = ev_reg_find(loop, fd);

	if (r == NULL || r->gen != gen)
		return 0;
	r->cb(r->arg, fd, ev_revents(ev->events));
	return 1;
}

int ev_run_once(struct ev_loop *loop, int max_ms)
{
	struct epoll_event evs[EV_BATCH];
	int n, calls = 0;

	n = epoll_wait(loop->epfd, evs, EV_BATCH, ev_wait_ms(loop, max_ms));
	if (n < 0 && errno != EINTR)
		return -1;
	for (int i = 0; i < n; i++)
		calls += ev_dispatch(loop, &evs[i]);
	return calls + ev_timers_fire(loop);
}

int ev_run(struct ev_loop *loop)
{
	int r = 0;

	loop->stop = 0;
	while (!loop->stop && (loop->nactive > 0 || loop->nheap > 0)) {
		if (ev_run_once(loop, -1) < 0) {
			r = -1;
			break;
		}
	}
	return r;
}

void ev_stop(struct ev_loop *loop)
{
	loop->stop = 1;
}
