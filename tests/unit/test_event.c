/*
 * test_event - the epoll loop: readiness, hang-up, timers, removal of
 * descriptors from inside callbacks, ev_stop
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "util/event.h"

struct seen {
	int calls;
	int fd;
	unsigned revents;
};

static void note_fd(void *arg, int fd, unsigned revents)
{
	struct seen *s = arg;

	s->calls++;
	s->fd = fd;
	s->revents = revents;
}

static void test_fd_readable(void)
{
	struct ev_loop *loop = ev_new();
	struct seen s = { 0, -1, 0 };
	int p[2];

	TEST_ASSERT(loop != NULL && pipe(p) == 0);
	TEST_ASSERT(ev_fd_add(loop, p[0], EV_READ, note_fd, &s) == 0);
	TEST_ASSERT(ev_run_once(loop, 0) == 0);
	TEST_ASSERT(s.calls == 0);
	TEST_ASSERT(write(p[1], "x", 1) == 1);
	TEST_ASSERT(ev_run_once(loop, 1000) == 1);
	TEST_ASSERT(s.calls == 1 && s.fd == p[0] && s.revents == EV_READ);
	ev_fd_del(loop, p[0]);
	TEST_ASSERT(ev_run_once(loop, 0) == 0);
	TEST_ASSERT(s.calls == 1);
	ev_free(loop);
	close(p[0]);
	close(p[1]);
}

static void test_fd_writable_and_mod(void)
{
	struct ev_loop *loop = ev_new();
	struct seen s = { 0, -1, 0 };
	int p[2];

	TEST_ASSERT(loop != NULL && pipe(p) == 0);
	TEST_ASSERT(ev_fd_add(loop, p[1], EV_WRITE, note_fd, &s) == 0);
	TEST_ASSERT(ev_run_once(loop, 1000) == 1);
	TEST_ASSERT(s.fd == p[1] && s.revents == EV_WRITE);
	TEST_ASSERT(ev_fd_mod(loop, p[1], 0) == 0);
	TEST_ASSERT(ev_run_once(loop, 0) == 0);
	TEST_ASSERT(s.calls == 1);
	TEST_ASSERT(ev_fd_mod(loop, p[1], EV_WRITE) == 0);
	TEST_ASSERT(ev_run_once(loop, 0) == 1);
	TEST_ASSERT(s.calls == 2);
	ev_free(loop);
	close(p[0]);
	close(p[1]);
}

/* Closing the writer is reported to the reader as EV_READ|EV_ERROR. */
static void test_fd_hangup(void)
{
	struct ev_loop *loop = ev_new();
	struct seen s = { 0, -1, 0 };
	int p[2];

	TEST_ASSERT(loop != NULL && pipe(p) == 0);
	TEST_ASSERT(ev_fd_add(loop, p[0], EV_READ, note_fd, &s) == 0);
	close(p[1]);
	TEST_ASSERT(ev_run_once(loop, 1000) == 1);
	TEST_ASSERT(s.revents & EV_ERROR);
	TEST_ASSERT(s.revents & EV_READ);
	ev_fd_del(loop, p[0]);
	ev_free(loop);
	close(p[0]);
}

static void test_fd_errors(void)
{
	struct ev_loop *loop = ev_new();
	struct seen s = { 0, -1, 0 };
	int p[2];

	TEST_ASSERT(loop != NULL && pipe(p) == 0);
	TEST_ASSERT(ev_fd_add(loop, -1, EV_READ, note_fd, &s) == -1);
	TEST_ASSERT(errno == EBADF);
	TEST_ASSERT(ev_fd_add(loop, p[0], EV_READ, note_fd, &s) == 0);
	TEST_ASSERT(ev_fd_add(loop, p[0], EV_READ, note_fd, &s) == -1);
	TEST_ASSERT(errno == EEXIST);
	TEST_ASSERT(ev_fd_mod(loop, p[1], EV_READ) == -1 && errno == ENOENT);
	ev_fd_del(loop, p[1]);
	ev_fd_del(loop, 100000);
	close(p[1]);
	close(p[0]);
	/* a closed descriptor cannot be added */
	TEST_ASSERT(ev_fd_add(loop, p[1], EV_READ, note_fd, &s) == -1);
	ev_free(loop);
}

/* A descriptor number far beyond the initial table. */
static void test_fd_large_number(void)
{
	struct ev_loop *loop = ev_new();
	struct seen s = { 0, -1, 0 };
	int p[2], big = 700;

	TEST_ASSERT(loop != NULL && pipe(p) == 0);
	TEST_ASSERT(dup2(p[0], big) == big);
	TEST_ASSERT(ev_fd_add(loop, big, EV_READ, note_fd, &s) == 0);
	TEST_ASSERT(write(p[1], "y", 1) == 1);
	TEST_ASSERT(ev_run_once(loop, 1000) == 1);
	TEST_ASSERT(s.fd == big);
	ev_free(loop);
	close(big);
	close(p[0]);
	close(p[1]);
}

struct order {
	int got[128];
	int n;
};

struct tick {
	struct order *o;
	int id;
};

static void note_timer(void *arg)
{
	struct tick *t = arg;

	if (t->o->n < 128)
		t->o->got[t->o->n++] = t->id;
}

static void test_timers_in_order(void)
{
	struct ev_loop *loop = ev_new();
	struct order o = { { 0 }, 0 };
	struct tick t30 = { &o, 30 }, t10 = { &o, 10 }, t20 = { &o, 20 };
	int64_t start = clock_ms();

	TEST_ASSERT(loop != NULL);
	TEST_ASSERT(ev_timer_add(loop, 30, note_timer, &t30) != NULL);
	TEST_ASSERT(ev_timer_add(loop, 10, note_timer, &t10) != NULL);
	TEST_ASSERT(ev_timer_add(loop, 20, note_timer, &t20) != NULL);
	TEST_ASSERT(ev_run(loop) == 0);
	TEST_ASSERT(o.n == 3);
	TEST_ASSERT(o.got[0] == 10 && o.got[1] == 20 && o.got[2] == 30);
	TEST_ASSERT(clock_ms() - start >= 30);
	ev_free(loop);
}

/* Timers due at the same time fire in the order they were added. */
static void test_timers_same_time(void)
{
	struct ev_loop *loop = ev_new();
	struct order o = { { 0 }, 0 };
	struct tick t[5];

	TEST_ASSERT(loop != NULL);
	for (int i = 0; i < 5; i++) {
		t[i].o = &o;
		t[i].id = i;
		ev_timer_add(loop, 0, note_timer, &t[i]);
	}
	TEST_ASSERT(ev_run_once(loop, 0) == 5);
	TEST_ASSERT(o.n == 5);
	for (int i = 0; i < 5; i++)
		TEST_ASSERT(o.got[i] == i);
	ev_free(loop);
}

static void test_timer_cancel(void)
{
	struct ev_loop *loop = ev_new();
	struct order o = { { 0 }, 0 };
	struct tick a = { &o, 1 }, b = { &o, 2 }, c = { &o, 3 };
	struct ev_timer *ta, *tb;

	TEST_ASSERT(loop != NULL);
	ta = ev_timer_add(loop, 5, note_timer, &a);
	tb = ev_timer_add(loop, 1, note_timer, &b);
	ev_timer_add(loop, 10, note_timer, &c);
	ev_timer_cancel(loop, tb);
	ev_timer_cancel(loop, ta);
	ev_timer_cancel(loop, NULL);
	TEST_ASSERT(ev_run(loop) == 0);
	TEST_ASSERT(o.n == 1 && o.got[0] == 3);
	/* a pending timer is freed by ev_free */
	ev_timer_add(loop, 100000, note_timer, &a);
	ev_free(loop);
}

/* Many timers, half cancelled: the rest fire sorted by due time. */
static void test_timer_heap(void)
{
	struct ev_loop *loop = ev_new();
	struct order o = { { 0 }, 0 };
	struct tick t[100];
	struct ev_timer *h[100];
	int due[100], fired = 0;

	TEST_ASSERT(loop != NULL);
	for (int i = 0; i < 100; i++) {
		/* 20 ms apart: the clock may move while the timers are added,
		 * and a later timer with a 1 ms shorter delay is due no sooner */
		due[i] = ((i * 37) % 23) * 20;
		t[i].o = &o;
		t[i].id = i;
		h[i] = ev_timer_add(loop, due[i], note_timer, &t[i]);
	}
	for (int i = 0; i < 100; i += 2)
		ev_timer_cancel(loop, h[i]);
	TEST_ASSERT(ev_run(loop) == 0);
	TEST_ASSERT(o.n == 50);
	for (int i = 0; i < o.n; i++) {
		TEST_ASSERT(o.got[i] % 2 == 1);
		if (i > 0)
			TEST_ASSERT(due[o.got[i - 1]] <= due[o.got[i]]);
		fired++;
	}
	TEST_ASSERT(fired == 50);
	ev_free(loop);
}

struct rearm {
	struct ev_loop *loop;
	int count;
};

static void rearm_timer(void *arg)
{
	struct rearm *r = arg;

	r->count++;
	ev_timer_add(r->loop, 0, rearm_timer, r);
}

/* A timer that re-adds itself at 0 ms fires once per round, not forever. */
static void test_timer_rearm_no_starvation(void)
{
	struct rearm r = { ev_new(), 0 };

	TEST_ASSERT(r.loop != NULL);
	ev_timer_add(r.loop, 0, rearm_timer, &r);
	TEST_ASSERT(ev_run_once(r.loop, 0) == 1);
	TEST_ASSERT(r.count == 1);
	TEST_ASSERT(ev_run_once(r.loop, 0) == 1);
	TEST_ASSERT(r.count == 2);
	ev_free(r.loop);
}

struct pair {
	struct ev_loop *loop;
	int fds[2];		/* read ends of two pipes */
	int w[2];		/* their write ends */
	int calls;
	int victim;		/* the fd removed by the first callback */
	struct seen *newcomer;
};

/* Whichever runs first removes and closes the other, then opens a new
 * pipe that likely reuses its number and registers it elsewhere. */
static void kill_other(void *arg, int fd, unsigned revents)
{
	struct pair *p = arg;
	int other = fd == p->fds[0] ? 1 : 0;
	int np[2];

	(void)revents;
	p->calls++;
	p->victim = p->fds[other];
	ev_fd_del(p->loop, p->fds[other]);
	close(p->fds[other]);
	close(p->w[other]);
	if (pipe(np) < 0)
		return;
	p->fds[other] = np[0];
	p->w[other] = np[1];
	ev_fd_add(p->loop, np[0], EV_READ, note_fd, p->newcomer);
}

static void test_callback_deletes_other(void)
{
	struct seen newcomer = { 0, -1, 0 };
	struct pair p;
	int a[2], b[2];

	memset(&p, 0, sizeof(p));
	p.loop = ev_new();
	p.newcomer = &newcomer;
	TEST_ASSERT(p.loop != NULL && pipe(a) == 0 && pipe(b) == 0);
	p.fds[0] = a[0];
	p.w[0] = a[1];
	p.fds[1] = b[0];
	p.w[1] = b[1];
	TEST_ASSERT(ev_fd_add(p.loop, a[0], EV_READ, kill_other, &p) == 0);
	TEST_ASSERT(ev_fd_add(p.loop, b[0], EV_READ, kill_other, &p) == 0);
	TEST_ASSERT(write(a[1], "a", 1) == 1 && write(b[1], "b", 1) == 1);
	TEST_ASSERT(ev_run_once(p.loop, 1000) == 1);
	TEST_ASSERT(p.calls == 1);
	/* the stale event was not handed to the new registration */
	TEST_ASSERT(newcomer.calls == 0);
	if (p.fds[0] != p.victim && p.fds[1] != p.victim)
		printf("note: new pipe did not reuse fd %d\n", p.victim);
	for (int i = 0; i < 2; i++) {
		ev_fd_del(p.loop, p.fds[i]);
		close(p.fds[i]);
		close(p.w[i]);
	}
	ev_free(p.loop);
}

struct self {
	struct ev_loop *loop;
	int calls;
};

static void del_self(void *arg, int fd, unsigned revents)
{
	struct self *s = arg;

	(void)revents;
	s->calls++;
	ev_fd_del(s->loop, fd);
}

static void test_callback_deletes_self(void)
{
	struct self s = { ev_new(), 0 };
	int p[2];

	TEST_ASSERT(s.loop != NULL && pipe(p) == 0);
	TEST_ASSERT(ev_fd_add(s.loop, p[0], EV_READ, del_self, &s) == 0);
	TEST_ASSERT(write(p[1], "z", 1) == 1);
	TEST_ASSERT(ev_run(s.loop) == 0);	/* returns: nothing left */
	TEST_ASSERT(s.calls == 1);
	TEST_ASSERT(ev_fd_add(s.loop, p[0], EV_READ, del_self, &s) == 0);
	TEST_ASSERT(ev_run_once(s.loop, 1000) == 1);
	TEST_ASSERT(s.calls == 2);
	ev_free(s.loop);
	close(p[0]);
	close(p[1]);
}

static void stop_loop(void *arg)
{
	ev_stop(arg);
}

static void count_fd(void *arg, int fd, unsigned revents)
{
	(void)fd;
	(void)revents;
	(*(int *)arg)++;
}

/* An fd that stays readable and a far timer: only ev_stop ends ev_run. */
static void test_ev_stop(void)
{
	struct ev_loop *loop = ev_new();
	int p[2], calls = 0;
	int64_t start = clock_ms();

	TEST_ASSERT(loop != NULL && pipe(p) == 0);
	TEST_ASSERT(write(p[1], "s", 1) == 1);
	TEST_ASSERT(ev_fd_add(loop, p[0], EV_READ, count_fd, &calls) == 0);
	ev_timer_add(loop, 60000, stop_loop, loop);
	ev_timer_add(loop, 15, stop_loop, loop);
	TEST_ASSERT(ev_run(loop) == 0);
	TEST_ASSERT(calls > 1);
	TEST_ASSERT(clock_ms() - start >= 15);
	TEST_ASSERT(clock_ms() - start < 5000);
	ev_free(loop);
	close(p[0]);
	close(p[1]);
}

static void test_run_once_timeout(void)
{
	struct ev_loop *loop = ev_new();
	int p[2], calls = 0;
	int64_t start;

	TEST_ASSERT(loop != NULL && pipe(p) == 0);
	TEST_ASSERT(ev_fd_add(loop, p[0], EV_READ, count_fd, &calls) == 0);
	start = clock_ms();
	TEST_ASSERT(ev_run_once(loop, 20) == 0);
	TEST_ASSERT(clock_ms() - start >= 19);
	TEST_ASSERT(calls == 0);
	ev_free(loop);
	close(p[0]);
	close(p[1]);
}

static void test_clock_ms(void)
{
	struct timespec d = { 0, 25 * 1000000 };
	int64_t a = clock_ms(), b;

	TEST_ASSERT(a >= 0);
	nanosleep(&d, NULL);
	b = clock_ms();
	TEST_ASSERT(b - a >= 24);
	TEST_ASSERT(b - a < 5000);
}

TEST_MAIN(test_fd_readable, test_fd_writable_and_mod, test_fd_hangup,
	  test_fd_errors, test_fd_large_number, test_timers_in_order,
	  test_timers_same_time, test_timer_cancel, test_timer_heap,
	  test_timer_rearm_no_starvation, test_callback_deletes_other,
	  test_callback_deletes_self, test_ev_stop, test_run_once_timeout,
	  test_clock_ms)
