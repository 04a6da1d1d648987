/*
 * test_mailbox_path - the one address -> Maildir rule
 * (common/mail/mailbox_path.h), with the reason each refusal gives
 */
#include "test.h"

#include "mail/mailbox_path.h"

struct path_case {
	const char *addr;
	const char *rel;	/* "domain/user", or NULL: refused */
	const char *why;	/* a word of the reason when refused */
};

#define L64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D63 "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define D255 D63 "." D63 "." D63 "." D63	/* 4 * 63 + 3 = 255 */

static const struct path_case cases[] = {
	{ "alice@example.test", "example.test/alice", NULL },
	/* case: folded, as the user map's keys are */
	{ "Alice@Example.TEST", "example.test/alice", NULL },
	/* an extension is part of the user here (resolution removes it) */
	{ "a+tag@example.test", "example.test/a+tag", NULL },
	/* dots inside are fine */
	{ "first.last@mail.example.test", "mail.example.test/first.last", NULL },
	{ "a.@example.test", "example.test/a.", NULL },
	/* UTF-8 passes, unfolded */
	{ "J\xc3\xb6rg@example.test", "example.test/j\xc3\xb6rg", NULL },
	/* a leading dot: ".", "..", hidden and Maildir++ names */
	{ ".@example.test", NULL, "'.'" },
	{ "..@example.test", NULL, "'.'" },
	{ ".hidden@example.test", NULL, "'.'" },
	{ "a@..", NULL, "'.'" },
	{ "a@.", NULL, "'.'" },
	{ "a@.example.test", NULL, "'.'" },
	/* slashes */
	{ "a/b@example.test", NULL, "'/'" },
	{ "a@example/test", NULL, "'/'" },
	{ "../x@example.test", NULL, "'.'" },
	{ "a@../../etc", NULL, "'.'" },
	/* empty parts */
	{ "@example.test", NULL, "empty" },
	{ "a@", NULL, "empty" },
	{ "@", NULL, "empty" },
	{ "", NULL, "no '@'" },
	{ "nodomain", NULL, "no '@'" },
	/* more than one '@': refused, not split somewhere */
	{ "x@y@example.test", NULL, "more than one" },
	{ "a@@example.test", NULL, "more than one" },
	{ "a@example.test@", NULL, "more than one" },
	/* control bytes and bad UTF-8 */
	{ "a\tb@example.test", NULL, "control" },
	{ "a\nb@example.test", NULL, "control" },
	{ "a\x7f@example.test", NULL, "control" },
	{ "a@exa\rmple.test", NULL, "control" },
	{ "a\xc2\x85@example.test", NULL, "control" },	/* C1 NEL */
	{ "a\xff@example.test", NULL, "control" },
	{ "a\xc0\xaf@example.test", NULL, "control" },	/* overlong '/' */
	/* lengths: 64 and 255 pass, one more does not */
	{ L64 "@example.test", "example.test/" L64, NULL },
	{ L64 "a@example.test", NULL, "longer than 64" },
	{ "a@" D255, D255 "/a", NULL },
	{ "a@" D255 "d", NULL, "longer than 255" },
};

static void test_table(void)
{
	struct str rel = STR_INIT(0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct path_case *t = &cases[i];
		struct mailbox_path mp;
		const char *why = NULL;
		int r = mailbox_path_from_addr(t->addr, &mp, &why);

		if (t->rel != NULL) {
			TEST_ASSERT(r == 0);
			mailbox_path_relative(&mp, &rel);
			TEST_STREQ(str_c(&rel), t->rel);
		} else {
			TEST_ASSERT(r < 0 && why != NULL &&
				    strstr(why, t->why) != NULL);
			TEST_ASSERT(mp.user[0] == '\0' && mp.domain[0] == '\0');
		}
		if ((r == 0) != (t->rel != NULL))
			printf("case %zu: \"%s\" gave %d (%s)\n", i, t->addr,
			       r, why ? why : "");
	}
	str_free(&rel);
}

/* The parts of a DELIVER request pass the same checks. */
static void test_parts(void)
{
	struct mailbox_path mp;
	const char *why;

	TEST_ASSERT(mailbox_path_from_parts("Example.Test", "Bob", &mp,
					    &why) == 0);
	TEST_STREQ(mp.domain, "example.test");
	TEST_STREQ(mp.user, "bob");
	TEST_ASSERT(mailbox_path_from_parts("..", "bob", &mp, &why) < 0);
	TEST_ASSERT(mailbox_path_from_parts("example.test", "a/b", &mp,
					    &why) < 0);
	TEST_ASSERT(mailbox_path_from_parts("example.test", "", &mp, &why) < 0);
	TEST_ASSERT(mailbox_path_from_parts("example.test", "a@b", &mp,
					    &why) < 0);
	TEST_ASSERT(mailbox_path_from_parts("example.test", L64 "a", &mp,
					    &why) < 0);
}

static void test_full(void)
{
	struct mailbox_path mp;
	struct str out = STR_INIT(0);
	const char *why;

	TEST_ASSERT(mailbox_path_from_addr("u@d.test", &mp, &why) == 0);
	TEST_ASSERT(mailbox_path_full("/var/mail/postern", &mp, &out) == 0);
	TEST_STREQ(str_c(&out), "/var/mail/postern/d.test/u");
	TEST_ASSERT(mailbox_path_full("/srv/mail/", &mp, &out) == 0);
	TEST_STREQ(str_c(&out), "/srv/mail/d.test/u");
	str_free(&out);
}

TEST_MAIN(test_table, test_parts, test_full)
