/*
 * child_table - forked children and their keys; see child_table.h
 */
#include "util/child_table.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/str.h"

void child_table_init(struct child_table *t, unsigned max)
{
	t->v = xcalloc(max, sizeof(*t->v));
	t->max = max;
	t->used = 0;
	t->hw = 0;
}

void child_table_free(struct child_table *t)
{
	free(t->v);
	t->v = NULL;
	t->max = t->used = t->hw = 0;
}

int child_table_add(struct child_table *t, pid_t pid, const char *key)
{
	for (unsigned i = 0; i < t->max; i++) {
		if (t->v[i].pid != 0)
			continue;
		if (cstr_copy(t->v[i].key, sizeof(t->v[i].key), key) < 0)
			return -1;
		t->v[i].pid = pid;
		t->used++;
		if (i >= t->hw)
			t->hw = i + 1;
		return 0;
	}
	return -1;
}

int child_table_full(const struct child_table *t)
{
	return t->used >= t->max;
}

unsigned child_table_count(const struct child_table *t, const char *key)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->hw; i++)
		if (t->v[i].pid != 0 && strcmp(t->v[i].key, key) == 0)
			n++;
	return n;
}

void child_table_forget(struct child_table *t, pid_t pid)
{
	if (pid <= 0)
		return;
	for (unsigned i = 0; i < t->hw; i++) {
		if (t->v[i].pid != pid)
			continue;
		t->v[i].pid = 0;
		t->used--;
		while (t->hw > 0 && t->v[t->hw - 1].pid == 0)
			t->hw--;
		return;
	}
}

void child_table_reap(struct child_table *t)
{
	child_table_reap_each(t, NULL, NULL);
}

void child_table_reap_each(struct child_table *t,
			   void (*gone)(void *arg, pid_t pid), void *arg)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		child_table_forget(t, pid);
		if (gone != NULL)
			gone(arg, pid);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
			log_warn(NULL, "session pid %ld killed by signal %d",
				 (long)pid, WTERMSIG(status));
	}
	if (pid < 0 && errno != ECHILD)
		log_warn(NULL, "waitpid: %s", strerror(errno));
}

void child_table_kill(const struct child_table *t, int sig)
{
	for (unsigned i = 0; i < t->hw; i++)
		if (t->v[i].pid > 0 && kill(t->v[i].pid, sig) < 0 &&
		    errno != ESRCH)
			log_warn(NULL, "kill session pid %ld: %s",
				 (long)t->v[i].pid, strerror(errno));
}
