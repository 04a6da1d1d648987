/*
 * queue_id - names of queue files, made from the file's inode and a time
 *
 * A queue id names one message: it is the file name of its queue file in
 * every queue directory, it appears in the "250 2.0.0 Ok: queued as ID"
 * reply and in every log line about the message. See postern-queue(5).
 *
 * FORMAT  12 to 24 characters from Crockford's base-32 alphabet
 *         0123456789ABCDEFGHJKMNPQRSTVWXYZ (no I, L, O, U, no lower case):
 *
 *           SSSSSSS  7 characters, seconds since 1970 (until year 3058)
 *           UUUU     4 characters, microseconds (0 to 999999)
 *           N...     1 to 13 characters, the inode number, no leading 0
 *
 *         for example "1JN7W800F2K3K7P". The alphabet is in ASCII order and
 *         the time part has a fixed width, so "ls" sorts ids by arrival.
 *
 * UNIQUENESS  All queue directories are on one filesystem (messages move
 *         between them with rename(2)), a file keeps its inode across
 *         renames, and the kernel never gives two live files the same
 *         inode. So no two messages in the queue can have the same id,
 *         whatever the clock does. An inode is reused only after its
 *         message has left the queue; the time part then tells the new
 *         message from the old one in the logs, unless the clock was set
 *         back to the very microsecond the old message arrived.
 *
 * SAFETY  queue_id_valid() accepts only what queue_id_make() produces:
 *         no '/', no '.', never empty, never longer than QUEUE_ID_MAX.
 *         Every id that comes from outside (a command line, a socket, a
 *         directory listing) is validated before a path is built from it.
 */
#ifndef POSTERN_QUEUE_ID_H
#define POSTERN_QUEUE_ID_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define QUEUE_ID_MIN 12
#define QUEUE_ID_MAX 24
/* A buffer that holds any id and its terminating NUL. */
#define QUEUE_ID_SIZE (QUEUE_ID_MAX + 1)

/* Write the id for inode ino and time t (nanoseconds are cut down to
 * microseconds) into buf. -1 with errno EINVAL for inode 0 or a time
 * before 1970 or after 3058, ENAMETOOLONG if size is too small. */
int queue_id_make(ino_t ino, const struct timespec *t, char *buf,
		  size_t size);
/* 1 if id has exactly the form above, else 0. */
int queue_id_valid(const char *id);
/* Recover the inode and time (microsecond precision) from a valid id;
 * -1 with errno EINVAL if id is not valid. Either output may be NULL. */
int queue_id_parse(const char *id, ino_t *ino_r, struct timespec *t_r);

#endif
