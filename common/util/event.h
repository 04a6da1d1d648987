/*
 * event - an epoll event loop with timers, for event-driven daemons
 *
 * Single-threaded. Callbacks may add or remove any fd or timer, including
 * their own. Times are CLOCK_MONOTONIC milliseconds.
 */
#ifndef POSTERN_EVENT_H
#define POSTERN_EVENT_H

#include <stdint.h>

#define EV_READ  1u
#define EV_WRITE 2u
#define EV_ERROR 4u	/* hang-up or error, always reported */

struct ev_loop;
struct ev_timer;

typedef void ev_fd_cb(void *arg, int fd, unsigned revents);
typedef void ev_timer_cb(void *arg);

int64_t clock_ms(void);

struct ev_loop *ev_new(void);
void ev_free(struct ev_loop *loop);
/* 0 ok, -1 error (errno) */
int ev_fd_add(struct ev_loop *loop, int fd, unsigned events, ev_fd_cb *cb,
	      void *arg);
int ev_fd_mod(struct ev_loop *loop, int fd, unsigned events);
void ev_fd_del(struct ev_loop *loop, int fd);
/* Run cb once after ms milliseconds; the handle is valid until it fires
 * or is cancelled. */
struct ev_timer *ev_timer_add(struct ev_loop *loop, int64_t ms,
			      ev_timer_cb *cb, void *arg);
void ev_timer_cancel(struct ev_loop *loop, struct ev_timer *t);
/* Run until ev_stop(); returns 0, or -1 if epoll itself fails. */
int ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);
/* Run ready callbacks and due timers once, waiting at most max_ms. */
int ev_run_once(struct ev_loop *loop, int max_ms);

#endif
