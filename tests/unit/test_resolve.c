/*
 * test_resolve - recipient resolution: users, +extensions, aliases with
 * local and remote targets, loops, unknown users, map errors
 */
#include <string.h>

#include "queue/resolve.h"
#include "test.h"

struct entry {
	enum resolve_map map;
	const char *key, *value;
};

static const struct entry table[] = {
	{ RESOLVE_MAP_USERS, "user@example.test", "" },
	{ RESOLVE_MAP_USERS, "bob@example.test", "" },
	{ RESOLVE_MAP_USERS, "x+y@example.test", "" },
	{ RESOLVE_MAP_USERS, "carol@other.test", "" },
	{ RESOLVE_MAP_ALIASES, "team@example.test", "user@example.test, Bob@EXAMPLE.test" },
	{ RESOLVE_MAP_ALIASES, "fwd@example.test", "someone@remote.example,bob@example.test" },
	{ RESOLVE_MAP_ALIASES, "list@example.test", "team@example.test,user+news@example.test,nobody@example.test" },
	{ RESOLVE_MAP_ALIASES, "loop1@example.test", "loop2@example.test" },
	{ RESOLVE_MAP_ALIASES, "loop2@example.test", "loop1@example.test,bob@example.test" },
	{ RESOLVE_MAP_ALIASES, "dup@example.test", "bob@example.test,bob@example.test,team@example.test" },
	{ RESOLVE_MAP_ALIASES, "broken@example.test", "user@example.test" },
};

static int fail_maps;

static int is_local(void *arg, const char *domain)
{
	(void)arg;
	return strcmp(domain, "example.test") == 0 ||
	       strcmp(domain, "other.test") == 0;
}

static int lookup(void *arg, enum resolve_map map, const char *key,
		  struct str *value)
{
	(void)arg;
	if (fail_maps && strcmp(key, "broken@example.test") != 0)
		return -1;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].map == map && strcmp(table[i].key, key) == 0) {
			str_sets(value, table[i].value);
			return 1;
		}
	return 0;
}

static const struct resolve_ops ops = { is_local, lookup, NULL };
static struct resolve_result res;

static int run(const char *rcpt)
{
	const char *error;

	return resolve_rcpt(&ops, rcpt, &res, &error);
}

static int has(enum resolve_kind kind, const char *addr, const char *box)
{
	for (size_t i = 0; i < res.n; i++)
		if (res.v[i].kind == kind && strcmp(res.v[i].addr, addr) == 0 &&
		    (box == NULL || strcmp(res.v[i].mailbox, box) == 0))
			return 1;
	return 0;
}

static void test_plain_user(void)
{
	TEST_ASSERT(run("User@Example.TEST") == 0 && res.n == 1);
	TEST_ASSERT(has(RESOLVE_LOCAL, "user@example.test", "example.test/user"));
}

static void test_extension(void)
{
	TEST_ASSERT(run("user+tag@example.test") == 0 && res.n == 1);
	TEST_ASSERT(has(RESOLVE_LOCAL, "user+tag@example.test",
			"example.test/user"));
	/* a user whose name holds a '+' is found as it is */
	TEST_ASSERT(run("x+y@example.test") == 0 && res.n == 1);
	TEST_ASSERT(has(RESOLVE_LOCAL, "x+y@example.test", "example.test/x+y"));
	TEST_ASSERT(run("+tag@example.test") == 0 && res.n == 1);
	TEST_ASSERT(res.v[0].kind == RESOLVE_FAILED);
}

static void test_unknown(void)
{
	TEST_ASSERT(run("nobody@example.test") == 0 && res.n == 1);
	TEST_ASSERT(res.v[0].kind == RESOLVE_FAILED);
	TEST_STREQ(res.v[0].reason, "5.1.1 user unknown");
	/* a user of another local domain is not a user of this one */
	TEST_ASSERT(run("carol@example.test") == 0);
	TEST_ASSERT(res.v[0].kind == RESOLVE_FAILED);
	TEST_ASSERT(run("carol@other.test") == 0);
	TEST_ASSERT(has(RESOLVE_LOCAL, "carol@other.test", "other.test/carol"));
}

static void test_remote(void)
{
	TEST_ASSERT(run("Someone@Remote.Example") == 0 && res.n == 1);
	TEST_ASSERT(res.v[0].kind == RESOLVE_REMOTE);
	TEST_STREQ(res.v[0].addr, "Someone@Remote.Example");
}

static void test_alias_two_local(void)
{
	TEST_ASSERT(run("team@example.test") == 0 && res.n == 2);
	TEST_ASSERT(has(RESOLVE_LOCAL, "user@example.test", "example.test/user"));
	TEST_ASSERT(has(RESOLVE_LOCAL, "bob@example.test", "example.test/bob"));
}

static void test_alias_remote_and_local(void)
{
	TEST_ASSERT(run("fwd@example.test") == 0 && res.n == 2);
	TEST_ASSERT(has(RESOLVE_REMOTE, "someone@remote.example", NULL));
	TEST_ASSERT(has(RESOLVE_LOCAL, "bob@example.test", NULL));
}

static void test_alias_nested(void)
{
	TEST_ASSERT(run("list@example.test") == 0 && res.n == 4);
	TEST_ASSERT(has(RESOLVE_LOCAL, "user@example.test", NULL));
	TEST_ASSERT(has(RESOLVE_LOCAL, "bob@example.test", NULL));
	TEST_ASSERT(has(RESOLVE_LOCAL, "user+news@example.test",
			"example.test/user"));
	TEST_ASSERT(has(RESOLVE_FAILED, "nobody@example.test", NULL));
	/* an alias of the base address also catches +extensions */
	TEST_ASSERT(run("team+x@example.test") == 0 && res.n == 2);
}

static void test_alias_loop(void)
{
	int loop = 0;

	TEST_ASSERT(run("loop1@example.test") == 0);
	TEST_ASSERT(has(RESOLVE_LOCAL, "bob@example.test", NULL));
	for (size_t i = 0; i < res.n; i++)
		if (res.v[i].kind == RESOLVE_FAILED &&
		    strncmp(res.v[i].reason, "5.4.6", 5) == 0)
			loop = 1;
	TEST_ASSERT(loop);
}

static void test_duplicates_once(void)
{
	TEST_ASSERT(run("dup@example.test") == 0 && res.n == 2);
}

static void test_bad_address(void)
{
	TEST_ASSERT(run("no-at-sign") == 0 && res.n == 1);
	TEST_ASSERT(res.v[0].kind == RESOLVE_FAILED);
	TEST_ASSERT(strncmp(res.v[0].reason, "5.1.3", 5) == 0);
}

static void test_map_error_defers(void)
{
	const char *error = NULL;

	fail_maps = 1;
	TEST_ASSERT(resolve_rcpt(&ops, "user@example.test", &res, &error) < 0);
	TEST_ASSERT(error != NULL && res.n == 0);
	/* an error inside an expansion fails the whole recipient too */
	TEST_ASSERT(resolve_rcpt(&ops, "broken@example.test", &res, &error) < 0);
	TEST_ASSERT(res.n == 0);
	/* remote addresses need no map */
	TEST_ASSERT(resolve_rcpt(&ops, "a@remote.example", &res, &error) == 0);
	fail_maps = 0;
	resolve_result_free(&res);
}

TEST_MAIN(test_plain_user, test_extension, test_unknown, test_remote,
	  test_alias_two_local, test_alias_remote_and_local, test_alias_nested,
	  test_alias_loop, test_duplicates_once, test_bad_address,
	  test_map_error_defers)
