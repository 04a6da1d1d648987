/*
 * sigfd - signals as a readable descriptor, for daemons built on poll()
 * or an event loop
 *
 * sigfd_open() blocks the given signals for the calling thread (call it
 * before starting other threads, which then inherit the mask and never
 * see them) and returns a non-blocking, close-on-exec signalfd that
 * reports them. The loop polls that descriptor and, when it is readable,
 * takes the signals one by one with sigfd_next(), in the order they came
 * (a signal sent again before it was read is reported once).
 *
 * A child forked from such a process inherits the blocked mask: it must
 * close the descriptor and unblock the signals itself (sigfd_unblock_all)
 * before it relies on default or handled dispositions.
 */
#ifndef POSTERN_SIGFD_H
#define POSTERN_SIGFD_H

/* Block the signals of sigs (a list ended by 0) and return a signalfd for
 * them; -1 with errno on failure. */
int sigfd_open(const int *sigs);
/* The next pending signal: its number, 0 if none is pending, -1 with
 * errno if reading failed. */
int sigfd_next(int fd);
/* Unblock every signal (in a freshly forked child); 0, or -1 with
 * errno. */
int sigfd_unblock_all(void);

#endif
