/*
 * event - an epoll event loop with timers, for event-driven daemons
 *
 * Single-threaded. Callbacks may add or remove any fd or timer, including
 * their own; an event for a descriptor removed earlier in the same round
 * is dropped, never delivered. Times are CLOCK_MONOTONIC milliseconds.
 * Remove a descriptor with ev_fd_del before closing it.
 */
#ifndef POSTERN_EVENT_H
#define POSTERN_EVENT_H

#include <stdint.h>

#define EV_READ  1u
#define EV_WRITE 2u
#define EV_ERROR 4u	/* hang-up or error, always reported, with EV_READ */

struct ev_loop;
struct ev_timer;

typedef void ev_fd_cb(void *arg, int fd, unsigned revents);
typedef void ev_timer_cb(void *arg);

int64_t clock_ms(void);

/* NULL with errno if epoll_create1 fails. */
struct ev_loop *ev_new(void);
/* Frees pending timers; closes no registered descriptor. */
void ev_free(struct ev_loop *loop);
/* 0 ok, -1 error (errno; EEXIST if fd is registered already) */
int ev_fd_add(struct ev_loop *loop, int fd, unsigned events, ev_fd_cb *cb,
	      void *arg);
/* Change the events wanted (ENOENT if fd is not registered). */
int ev_fd_mod(struct ev_loop *loop, int fd, unsigned events);
/* Unregister; nothing if fd is not registered. */
void ev_fd_del(struct ev_loop *loop, int fd);
/* Run cb once after ms milliseconds (timers due together fire in the
 * order they were added); never NULL. The handle is valid until it fires
 * or is cancelled: it is freed before cb runs, so cb must not cancel it. */
struct ev_timer *ev_timer_add(struct ev_loop *loop, int64_t ms,
			      ev_timer_cb *cb, void *arg);
/* Cancel a pending timer; NULL is allowed and does nothing. */
void ev_timer_cancel(struct ev_loop *loop, struct ev_timer *t);
/* Run until ev_stop() or until no descriptor and no timer is left;
 * returns 0, or -1 if epoll itself fails. */
int ev_run(struct ev_loop *loop);
/* Make the running ev_run return after the current round. */
void ev_stop(struct ev_loop *loop);
/* Run ready callbacks and due timers once, waiting at most max_ms (-1:
 * until something happens). Returns the number of callbacks run (0 on a
 * timeout or a signal), or -1 if epoll fails. */
int ev_run_once(struct ev_loop *loop, int max_ms);

#endif
