/*
 * retry - when a deferred message is tried again, and when it expires
 *
 * SCHEDULE  The delay before the next attempt is the message's age,
 *           clamped to [retry_min, retry_max]:
 *
 *               delay = min(retry_max, max(retry_min, now - arrival))
 *
 *           With the defaults (60s, 1h) the attempts come at about 0, 1,
 *           2, 4, 8, 16, 32 and 64 minutes after arrival, then every hour:
 *           each delay doubles, as if counting attempts, but nothing is
 *           counted. The attempt number is implicit in the age, which the
 *           queue file already holds (its T record), so a restart, a FLUSH
 *           or a lost rename cannot reset or skip the backoff, and no
 *           counter has to be written to disk. The next attempt time is
 *           kept as the queue file's mtime in deferred/ (postern-queue(5)).
 *
 * EXPIRY    A recipient that is still deferred when its message is older
 *           than queue_lifetime expires (state X in the queue file).
 */
#ifndef POSTERN_RETRY_H
#define POSTERN_RETRY_H

#include <time.h>

/* The delay, in seconds, after a failed attempt at time now. */
time_t retry_delay(time_t arrival, time_t now, unsigned retry_min,
		   unsigned retry_max);
/* now + retry_delay(...): when the message is due again. */
time_t retry_next(time_t arrival, time_t now, unsigned retry_min,
		  unsigned retry_max);
/* 1 if a message that arrived at arrival has outlived lifetime at now. */
int retry_expired(time_t arrival, time_t now, unsigned lifetime);

#endif
