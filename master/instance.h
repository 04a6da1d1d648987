/*
 * instance - the instance lock, and the processes that hold it
 *
 * queue_dir/pid/instance.lock is flock()ed (LOCK_EX) by the master when
 * it starts, before it binds any socket, and the open descriptor is handed
 * to every child (service_child.h), which keeps it for its whole life and
 * passes it on to the session processes it forks. An flock belongs to the
 * open file description, not to a process: the lock is therefore held as
 * long as any process of the instance lives, with or without its master,
 * and the kernel releases it when the last one exits, however it exits.
 *   - A master does not start (and does not touch a socket) while the
 *     lock is held: processes of an earlier instance still run, for
 *     example children finishing their work after their master was killed
 *     with -9. It waits a few seconds for them (they stop by themselves
 *     once they notice), then gives up and names them.
 *   - postern status and postern stop find those processes without their
 *     master: a process of the instance is one with a descriptor on the
 *     lock file whose /proc/PID/fdinfo shows the exclusive flock. A
 *     process that merely opened the file, or holds a shared lock for a
 *     moment (postern status probing it), is not one. They are signalled through a pidfd opened
 *     before that check, so a pid that was recycled in between is never
 *     signalled.
 * queue_dir/pid/master.pid keeps its role: its flock, held by the master
 * alone, says that a master runs, and its content whom to signal.
 */
#ifndef POSTERN_INSTANCE_H
#define POSTERN_INSTANCE_H

#include <stddef.h>
#include <sys/types.h>

#include "mail/conf.h"
#include "util/str.h"

/* Processes listed at most (an instance has about 40, plus sessions). */
#define INSTANCE_PROCS_MAX 4096

struct instance_proc {
	pid_t pid;
	char name[48];		/* the service (-s NAME), or the program */
};

/* Open queue_dir/pid/ (create: making it, 0700, if missing; never through
 * a symlink). The descriptor, or -1 with errno. */
int instance_pid_dir(const struct conf *c, int create);
/* Open pid/instance.lock under the pid/ descriptor (create: creating it);
 * close-on-exec, never through a symlink. -1 with errno. */
int instance_lock_open(int piddir, int create);
/* Take the lock for a new master: 1 taken, 0 held by processes of the
 * instance, -1 error (errno). */
int instance_lock_take(int lockfd);
/* Is the lock held by someone? 1 yes, 0 no, -1 error. Leaves it free. */
int instance_lock_held(int lockfd);
/* The processes holding the lock (but this one), at most max, in v;
 * their number (possibly more than max). */
size_t instance_procs(int lockfd, struct instance_proc *v, size_t max);
/* Send sig to p if it is still a process holding the lock: 1 sent, 0 no
 * longer there, -1 error (errno). */
int instance_proc_signal(int lockfd, const struct instance_proc *p, int sig);
/* What /proc tells, parsed (exported for the tests):
 * instance_fdinfo_locked: does /proc/PID/fdinfo/N's text (NUL-terminated,
 * changed in place) show an exclusive flock (a "lock:" line with FLOCK
 * and WRITE)? 1 or 0.
 * instance_cmdline_name: from /proc/PID/cmdline's n bytes (NUL-separated
 * arguments, written by the process itself, so untrusted), the value after
 * a "-s" argument, else argv[0]'s last path component, else "?"; bytes
 * outside printable ASCII become '?', cut to fit name[size]. */
int instance_fdinfo_locked(char *buf);
void instance_cmdline_name(const char *buf, size_t n, char *name,
			   size_t size);
/* "name pid, name pid, ..." of the first few of v, for a message. */
void instance_procs_text(const struct instance_proc *v, size_t n,
			 struct str *out);

#endif
