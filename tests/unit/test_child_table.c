/*
 * test_child_table - the session table: add up to the limit, count per
 * key, reap ended children, signal the living
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/child_table.h"

static pid_t spawn(int exit_at_once)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (!exit_at_once)
			pause();
		_exit(0);
	}
	return pid;
}

/* Reap until the table holds want children (or give up after ~2 s). */
static void reap_until(struct child_table *t, unsigned want)
{
	for (int i = 0; i < 200 && t->used != want; i++) {
		child_table_reap(t);
		if (t->used != want)
			usleep(10000);
	}
}

static void test_add_count_full(void)
{
	struct child_table t;

	child_table_init(&t, 3);
	TEST_ASSERT(!child_table_full(&t));
	TEST_ASSERT(child_table_add(&t, 101, "192.0.2.1") == 0);
	TEST_ASSERT(child_table_add(&t, 102, "192.0.2.1") == 0);
	TEST_ASSERT(child_table_add(&t, 103, "192.0.2.2") == 0);
	TEST_ASSERT(child_table_full(&t) && t.used == 3);
	TEST_ASSERT(child_table_add(&t, 104, "192.0.2.3") == -1);
	TEST_ASSERT(child_table_count(&t, "192.0.2.1") == 2);
	TEST_ASSERT(child_table_count(&t, "192.0.2.2") == 1);
	TEST_ASSERT(child_table_count(&t, "192.0.2.") == 0);
	child_table_free(&t);
	TEST_ASSERT(t.v == NULL && t.max == 0 && t.used == 0);
}

static void test_key_too_long(void)
{
	struct child_table t;
	char key[CHILD_KEY_MAX + 2];

	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	child_table_init(&t, 2);
	TEST_ASSERT(child_table_add(&t, 101, key) == -1 && t.used == 0);
	key[CHILD_KEY_MAX] = '\0';
	TEST_ASSERT(child_table_add(&t, 101, key) == 0);
	TEST_ASSERT(child_table_count(&t, key) == 1);
	child_table_free(&t);
}

static void test_reap_frees_slot(void)
{
	struct child_table t;
	pid_t quick = spawn(1), slow = spawn(0);

	TEST_ASSERT(quick > 0 && slow > 0);
	child_table_init(&t, 2);
	TEST_ASSERT(child_table_add(&t, quick, "a") == 0);
	TEST_ASSERT(child_table_add(&t, slow, "b") == 0);
	reap_until(&t, 1);
	TEST_ASSERT(t.used == 1);
	TEST_ASSERT(child_table_count(&t, "a") == 0);
	TEST_ASSERT(child_table_count(&t, "b") == 1);
	child_table_kill(&t, SIGTERM);
	reap_until(&t, 0);
	TEST_ASSERT(t.used == 0 && !child_table_full(&t));
	child_table_free(&t);
}

TEST_MAIN(test_add_count_full, test_key_too_long, test_reap_frees_slot)
