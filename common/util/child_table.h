/*
 * child_table - the forked children of a server, each with a key
 *
 * A fork-per-connection server keeps one slot per child: its pid and a
 * short string (a client address, a user's address) so that it can count
 * the children per key against a limit. The table never grows past the
 * size it was made with; the caller checks child_table_full() before it
 * forks, so a failed child_table_add() is a broken invariant.
 */
#ifndef POSTERN_CHILD_TABLE_H
#define POSTERN_CHILD_TABLE_H

#include <sys/types.h>

#define CHILD_KEY_MAX 320	/* bytes, without the NUL */

struct child_slot {
	pid_t pid;			/* 0: free */
	char key[CHILD_KEY_MAX + 1];
};

struct child_table {
	struct child_slot *v;
	unsigned max, used;
	unsigned hw;		/* no child in v[hw..max): loops stop there */
};

void child_table_init(struct child_table *t, unsigned max);
void child_table_free(struct child_table *t);
/* Remember a child; -1 if the table is full or the key is longer than
 * CHILD_KEY_MAX. */
int child_table_add(struct child_table *t, pid_t pid, const char *key);
/* 1 if no slot is free. */
int child_table_full(const struct child_table *t);
/* Children with this key (exact comparison). */
unsigned child_table_count(const struct child_table *t, const char *key);
/* Reap every ended child of this process (waitpid WNOHANG), freeing the
 * slots of those in the table; one killed by a signal other than SIGTERM
 * is logged. */
void child_table_reap(struct child_table *t);
/* The same, and gone(arg, pid) for each child reaped (in the table or
 * not: a server may have children it does not count). */
void child_table_reap_each(struct child_table *t,
			   void (*gone)(void *arg, pid_t pid), void *arg);
/* Stop counting pid (it announced its end); unknown pids are ignored. */
void child_table_forget(struct child_table *t, pid_t pid);
/* Send sig to every child in the table; failures other than ESRCH are
 * logged. */
void child_table_kill(const struct child_table *t, int sig);

#endif
