/*
 * test_imap_thread - THREAD ORDEREDSUBJECT and REFERENCES
 * (imapd/imap_thread.h)
 *
 * The expected thread lists of the table are Dovecot 2.3's answers to
 * THREAD REFERENCES and THREAD ORDEREDSUBJECT for the same messages
 * (APPENDed with these Subject, Date, Message-ID, References and
 * In-Reply-To fields), except where a comment says why postern differs.
 * Subjects go through imap_base_subject() as the lead's code does.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "imapd/imap_sort.h"
#include "imapd/imap_thread.h"

struct tmsg {
	const char *subject;
	int date;
	const char *msgid, *refs, *irt;
};

struct tcase {
	const char *name;
	struct tmsg m[8];
	const char *references, *orderedsubject;
};

#define N NULL
static const struct tcase cases[] = {
	{ "chain", { { "a", 1, "<a@x>", N, N },
		     { "Re: a", 2, "<b@x>", "<a@x>", N },
		     { "Re: a", 3, "<c@x>", "<a@x> <b@x>", N } },
	  "(1 2 3)", "(1 (2)(3))" },
	{ "siblings", { { "a", 1, "<a@x>", N, N },
			{ "Re: a", 2, "<b@x>", "<a@x>", N },
			{ "Re: a", 3, "<c@x>", "<a@x>", N } },
	  "(1 (2)(3))", "(1 (2)(3))" },
	/* a dummy parent with one child: the child is promoted */
	{ "missing_parent", { { "a", 1, "<a@x>", "<zz@x>", N },
			      { "b", 2, "<b@x>", N, N } },
	  "(1)(2)", "(1)(2)" },
	/* a dummy parent with two children stays at the root */
	{ "dummy_root", { { "a", 1, "<a@x>", "<zz@x>", N },
			  { "b", 2, "<b@x>", "<zz@x>", N } },
	  "((1)(2))", "(1)(2)" },
	/* a dummy below a message: its children move up */
	{ "dummy_middle", { { "a", 1, "<a@x>", N, N },
			    { "b", 2, "<b@x>", "<a@x> <zz@x>", N },
			    { "c", 3, "<c@x>", "<a@x> <zz@x>", N } },
	  "(1 (2)(3))", "(1)(2)(3)" },
	{ "dummy_chain", { { "a", 1, "<a@x>", "<d1@x> <d2@x> <d3@x>", N },
			   { "b", 2, "<b@x>", "<d1@x> <d2@x> <d4@x>", N } },
	  "((1)(2))", "(1)(2)" },
	{ "dummy_under_msg", { { "a", 1, "<a@x>", N, N },
			       { "b", 2, "<b@x>", "<a@x> <d1@x> <d2@x>", N },
			       { "c", 3, "<c@x>", "<a@x> <d1@x> <d3@x>", N },
			       { "d", 4, "<d@x>", "<a@x> <d4@x>", N } },
	  "(1 (2)(3)(4))", "(1)(2)(3)(4)" },
	/* step 5: roots with one base subject: a reply goes under the
	 * non-reply; two non-replies get a dummy parent */
	{ "subject_group", { { "hello", 1, "<a@x>", N, N },
			     { "Re: hello", 2, "<b@x>", N, N },
			     { "hello", 3, "<c@x>", N, N } },
	  "((1 2)(3))", "(1 (2)(3))" },
	{ "subject_reply_first", { { "Re: hello", 1, "<a@x>", N, N },
				   { "hello", 2, "<b@x>", N, N },
				   { "Fwd: hello", 3, "<c@x>", N, N } },
	  "(2 (1)(3))", "(1 (2)(3))" },
	{ "subject_fwd", { { "Re: [PATCH] foo (fwd)", 1, "<a@x>", N, N },
			   { "Fwd: Re: re: x", 2, "<b@x>", N, N },
			   { "[fwd: x]", 3, "<c@x>", N, N },
			   { "foo", 0, "<d@x>", N, N } },
	  "(4 1)((2)(3))", "(4 1)(2 3)" },
	{ "dummy_subject", { { "s", 1, "<a@x>", "<zz@x>", N },
			     { "s", 2, "<b@x>", "<zz@x>", N },
			     { "Re: s", 3, "<c@x>", N, N } },
	  "((1)(2)(3))", "(1 (2)(3))" },
	{ "two_dummies_merge", { { "s", 1, "<a@x>", "<zz@x>", N },
				 { "Re: s", 2, "<b@x>", "<zz@x>", N },
				 { "s", 3, "<c@x>", "<yy@x>", N },
				 { "Re: s", 4, "<d@x>", "<yy@x>", N } },
	  "((1)(2)(3)(4))", "(1 (2)(3)(4))" },
	/* empty base subjects are not gathered by REFERENCES */
	{ "empty_subject", { { "", 1, "<a@x>", N, N },
			     { "Re:", 2, "<b@x>", N, N },
			     { "", 3, "<c@x>", N, N } },
	  "(1)(2)(3)", "(1 (2)(3))" },
	/* loops in References are not made */
	{ "loop", { { "a", 1, "<a@x>", "<b@x>", N },
		    { "b", 2, "<b@x>", "<a@x>", N } },
	  "(2 1)", "(1)(2)" },
	{ "loop3", { { "a", 1, "<a@x>", "<c@x>", N },
		     { "b", 2, "<b@x>", "<a@x>", N },
		     { "c", 3, "<c@x>", "<b@x>", N } },
	  "(3 1 2)", "(1)(2)(3)" },
	{ "self_ref", { { "a", 1, "<a@x>", "<a@x>", N },
			{ "b", 2, "<b@x>", "<b@x> <a@x>", N } },
	  "(2 1)", "(1)(2)" },
	/* a duplicate Message-ID is treated as absent */
	{ "dup_id", { { "a", 1, "<a@x>", N, N },
		      { "b", 2, "<a@x>", N, N },
		      { "c", 3, "<c@x>", "<a@x>", N } },
	  "(1 3)(2)", "(1)(2)(3)" },
	/* 1.A: a message that already has a parent keeps it */
	{ "has_parent_rule", { { "a", 1, "<a@x>", N, N },
			       { "b", 2, "<b@x>", "<a@x>", N },
			       { "c", 3, "<c@x>", "<zz@x> <b@x>", N } },
	  "(1 2 3)", "(1)(2)(3)" },
	/* 1.B: a message's own References win over what others said */
	{ "truncated_break", { { "a", 1, "<c@x>", "<zz@x> <b@x>", N },
			       { "b", 2, "<b@x>", N, N } },
	  "(2 1)", "(1)(2)" },
	/* In-Reply-To only without References */
	{ "in_reply_to", { { "a", 1, "<a@x>", N, N },
			   { "b", 2, "<b@x>", N, "<a@x>" },
			   { "c", 3, "<c@x>", "<zz@x>", "<a@x>" } },
	  "(1 2)(3)", "(1)(2)(3)" },
	/* Dovecot answers "(1 2 3)": it takes the <a@x> inside the comment
	 * for a reference; RFC 5322 CFWS is not a msg-id */
	{ "comments", { { "a", 1, "<a@x>", N, N },
			{ "b", 2, "<b@x>", N, N },
			{ "c", 3, "<c@x>", "(see <a@x>) <b@x>", N } },
	  "(1)(2 3)", "(1)(2)(3)" },
	/* siblings by date, ties by sequence number */
	{ "date_order", { { "a", 5, "<a@x>", N, N },
			  { "b", 3, "<b@x>", "<a@x>", N },
			  { "c", 3, "<c@x>", "<a@x>", N },
			  { "d", 1, "<d@x>", "<a@x>", N },
			  { "e", 5, "<e@x>", N, N } },
	  "(1 (4)(2)(3))(5)", "(4)(2)(3)(1)(5)" },
	/* a dummy sorts by its earliest child */
	{ "dummy_date", { { "p", 9, "<a@x>", "<zz@x>", N },
			  { "q", 4, "<b@x>", "<zz@x>", N },
			  { "r", 6, "<c@x>", N, N },
			  { "s", 2, "<d@x>", "<yy@x>", N },
			  { "t", 8, "<e@x>", "<yy@x>", N } },
	  "((4)(5))((2)(1))(3)", "(4)(2)(3)(5)(1)" },
	{ "deep_branch", { { "a", 1, "<a@x>", N, N },
			   { "b", 2, "<b@x>", "<a@x>", N },
			   { "c", 3, "<c@x>", "<a@x> <b@x>", N },
			   { "d", 4, "<d@x>", "<a@x>", N },
			   { "e", 5, "<e@x>", "<a@x> <b@x>", N },
			   { "f", 6, "<f@x>", "<a@x> <b@x> <e@x>", N } },
	  "(1 (2 (3)(5 6))(4))", "(1)(2)(3)(4)(5)(6)" },
	/* a parent later in the mailbox */
	{ "later_parent", { { "b", 2, "<b@x>", "<a@x>", N },
			    { "a", 1, "<a@x>", N, N } },
	  "(2 1)", "(2)(1)" },
};
#undef N

static size_t case_len(const struct tcase *c)
{
	size_t n = 0;

	while (n < sizeof(c->m) / sizeof(c->m[0]) && c->m[n].subject != NULL)
		n++;
	return n;
}

/* The thread list of c's messages (ids = sequence numbers). */
static const char *run_case(const struct tcase *c, enum imap_thread_alg alg,
			    struct str *out)
{
	struct imap_thread_msg m[8];
	struct str base[8];
	size_t n = case_len(c);

	for (size_t i = 0; i < n; i++) {
		str_init(&base[i], 0);
		memset(&m[i], 0, sizeof(m[i]));
		if (imap_base_subject(c->m[i].subject, strlen(c->m[i].subject),
				      &base[i], &m[i].is_reply) < 0)
			abort();
		m[i].id = m[i].seq = (uint32_t)i + 1;
		m[i].date = 1500000000 + c->m[i].date;
		m[i].subject = str_c(&base[i]);
		m[i].message_id = c->m[i].msgid;
		m[i].references = c->m[i].refs;
		m[i].in_reply_to = c->m[i].irt;
	}
	str_clear(out);
	if (imap_thread(m, n, alg, out) < 0)
		str_sets(out, "error");
	for (size_t i = 0; i < n; i++)
		str_free(&base[i]);
	return str_c(out);
}

static void test_table(void)
{
	struct str out = STR_INIT(0);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		const char *r = run_case(c, IMAP_THREAD_REFERENCES, &out);

		if (strcmp(r, c->references) != 0)
			printf("  %s REFERENCES: %s\n", c->name, r);
		TEST_STREQ(r, c->references);
		r = run_case(c, IMAP_THREAD_ORDEREDSUBJECT, &out);
		if (strcmp(r, c->orderedsubject) != 0)
			printf("  %s ORDEREDSUBJECT: %s\n", c->name, r);
		TEST_STREQ(r, c->orderedsubject);
	}
	str_free(&out);
}

static void set_msg(struct imap_thread_msg *m, uint32_t seq, int date,
		    const char *subject, const char *msgid, const char *refs,
		    const char *irt)
{
	memset(m, 0, sizeof(*m));
	m->id = seq * 10;
	m->seq = seq;
	m->date = date;
	m->subject = subject;
	m->message_id = msgid;
	m->references = refs;
	m->in_reply_to = irt;
}

/* The id printed is m->id (seq or UID); the References field's syntax. */
static void test_ids_and_syntax(void)
{
	struct imap_thread_msg m[6];
	struct str out = STR_INIT(0);

	set_msg(&m[0], 1, 1, "a", "  <a@x> (comment)", NULL, NULL);
	set_msg(&m[1], 2, 2, "b", "<b@x>",
		"junk <not an id> <noat> <@x> <x@> \"<a@y>\" <<a@x>", NULL);
	set_msg(&m[2], 3, 3, "c", "<c@x>", "<b@x",	/* unterminated */
		"<a@x>");			/* no valid References */
	set_msg(&m[3], 4, 4, "d", "<A@X>", "<c@x> <b@x", NULL);
	set_msg(&m[4], 5, 5, "e", "<e@x>",
		"((nested <d@x>) \\) <d@x>) <A@X>", NULL);
	set_msg(&m[5], 6, 6, "f", "no id here", "(unterminated <e@x>", NULL);
	TEST_ASSERT(imap_thread(m, 6, IMAP_THREAD_REFERENCES, &out) == 0);
	/* 2 under 1 ("<<a@x>": the second "<" starts the id), 3 under 1 by
	 * In-Reply-To, 4 under 3, 5 under 4 ("<A@X>" is not "<a@x>"), 6
	 * alone */
	TEST_STREQ(str_c(&out), "(10 (20)(30 40 50))(60)");
	str_free(&out);
}

/* References past IMAP_THREAD_REFS_MAX: the last ones are kept. */
static void test_refs_cap(void)
{
	struct imap_thread_msg m[2];
	struct str refs = STR_INIT(0), out = STR_INIT(0);

	for (unsigned keep = IMAP_THREAD_REFS_MAX - 1;
	     keep <= IMAP_THREAD_REFS_MAX + 50; keep += 51) {
		/* <a@x> then keep dummies: <a@x> is the 1st of keep + 1 */
		str_sets(&refs, "<a@x>");
		for (unsigned i = 0; i < keep; i++)
			str_appendf(&refs, " <d%u@x>", i);
		set_msg(&m[0], 1, 1, "a", "<a@x>", NULL, NULL);
		set_msg(&m[1], 2, 2, "b", "<b@x>", str_c(&refs), NULL);
		str_clear(&out);
		TEST_ASSERT(imap_thread(m, 2, IMAP_THREAD_REFERENCES, &out) == 0);
		/* 100 ids: a -> 99 dummies -> 2, pruned to "1 2"; 151: <a@x>
		 * is dropped, the dummy chain's one message is promoted */
		TEST_STREQ(str_c(&out), keep + 1 <= IMAP_THREAD_REFS_MAX ?
			   "(10 20)" : "(10)(20)");
	}
	str_free(&refs);
	str_free(&out);
}

/* Deep trees: a chain of 200000 prints flat; a comb (each message has a
 * leaf and the next message as children) nests 100000 deep; nothing
 * recurses. */
static void test_deep(void)
{
	uint32_t n = 200000;
	struct imap_thread_msg *m = calloc(n, sizeof(*m));
	char (*id)[24] = calloc(n, sizeof(*id));
	char (*ref)[24] = calloc(n, sizeof(*ref));
	struct str out = STR_INIT(0), want = STR_INIT(0);

	if (m == NULL || id == NULL || ref == NULL)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		snprintf(id[i], sizeof(id[i]), "<%u@x>", i);
		snprintf(ref[i], sizeof(ref[i]), "<%u@x>", i ? i - 1 : 0);
		set_msg(&m[i], i + 1, (int)i, "", id[i], i ? ref[i] : NULL,
			NULL);
		m[i].id = i + 1;
		str_appendf(&want, "%s%u", i ? " " : "(", i + 1);
	}
	str_appendc(&want, ')');
	TEST_ASSERT(imap_thread(m, n, IMAP_THREAD_REFERENCES, &out) == 0);
	TEST_ASSERT(out.len == want.len && strcmp(out.s, want.s) == 0);
	/* comb: even i = spine (child of i - 2), odd i = leaf (of i - 1) */
	str_clear(&want);
	for (uint32_t i = 1; i < n; i++)
		snprintf(ref[i], sizeof(ref[i]), "<%u@x>",
			 i % 2 ? i - 1 : i - 2);
	str_appendc(&want, '(');
	for (uint32_t i = 0; i < n; i += 2) {
		if (i + 2 < n)
			str_appendf(&want, "%u (%u)(", i + 1, i + 2);
		else
			str_appendf(&want, "%u %u", i + 1, i + 2);
	}
	for (uint32_t i = 0; i + 2 < n; i += 2)
		str_appendc(&want, ')');
	str_appendc(&want, ')');
	str_clear(&out);
	TEST_ASSERT(imap_thread(m, n, IMAP_THREAD_REFERENCES, &out) == 0);
	TEST_ASSERT(out.len == want.len && strcmp(out.s, want.s) == 0);
	str_free(&out);
	str_free(&want);
	free(m);
	free(id);
	free(ref);
}

/* IMAP_THREAD_DUMMIES_MAX: once that many dummies exist, an unknown id
 * is absent; ids of messages still link. */
static void test_dummy_budget(void)
{
	uint32_t per = IMAP_THREAD_REFS_MAX;
	uint32_t n = IMAP_THREAD_DUMMIES_MAX / per + 2;
	struct imap_thread_msg *m = calloc(n, sizeof(*m));
	char **refs = calloc(n, sizeof(*refs));
	struct str out = STR_INIT(0), r = STR_INIT(0);

	if (m == NULL || refs == NULL)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		str_clear(&r);
		if (i + 2 < n) {
			for (uint32_t k = 0; k < per; k++)
				str_appendf(&r, "<d%u.%u@x> ", i, k);
		} else {
			str_appends(&r, "<new@x>");
		}
		refs[i] = str_steal(&r);
		set_msg(&m[i], i + 1, (int)i, "", i == 0 ? "<first@x>" : NULL,
			refs[i], NULL);
		m[i].id = i + 1;
	}
	TEST_ASSERT(imap_thread(m, n, IMAP_THREAD_REFERENCES, &out) == 0);
	/* every message under a chain of dummies is promoted; the last two
	 * would be children of a dummy <new@x>, which is not made */
	TEST_ASSERT(strncmp(str_c(&out), "(1)(2)(3)", 9) == 0);
	TEST_ASSERT(out.len > 14 &&
		    strcmp(str_c(&out) + out.len - 14, "(10001)(10002)") == 0);
	for (uint32_t i = 0; i < n; i++)
		free(refs[i]);
	free(refs);
	free(m);
	str_free(&out);
	str_free(&r);
}

static void test_errors(void)
{
	struct imap_thread_msg m[2];
	struct str out = STR_INIT(6);

	set_msg(&m[0], 1, 1, "a", "<a@x>", NULL, NULL);
	set_msg(&m[1], 1, 2, "b", "<b@x>", "<a@x>", NULL);
	errno = 0;
	TEST_ASSERT(imap_thread(m, 2, IMAP_THREAD_REFERENCES, &out) < 0 &&
		    errno == EINVAL);	/* seq not ascending */
	m[1].seq = 2;
	TEST_ASSERT(imap_thread(m, 2, (enum imap_thread_alg)7, &out) < 0 &&
		    errno == EINVAL);
	TEST_ASSERT(imap_thread(NULL, 0, IMAP_THREAD_REFERENCES, &out) == 0 &&
		    out.len == 0);
	TEST_ASSERT(imap_thread(NULL, 1, IMAP_THREAD_REFERENCES, &out) < 0);
	/* "(10 20)" is 7 bytes, the cap 6: EMSGSIZE, out as it was */
	str_sets(&out, "ab");
	TEST_ASSERT(imap_thread(m, 2, IMAP_THREAD_REFERENCES, &out) < 0 &&
		    errno == EMSGSIZE);
	TEST_STREQ(str_c(&out), "ab");
	str_clear(&out);
	TEST_ASSERT(imap_thread(m, 1, IMAP_THREAD_ORDEREDSUBJECT, &out) == 0);
	TEST_STREQ(str_c(&out), "(10)");
	/* appended after what out holds */
	out.max = 0;
	TEST_ASSERT(imap_thread(m, 1, IMAP_THREAD_REFERENCES, &out) == 0);
	TEST_STREQ(str_c(&out), "(10)(10)");
	str_free(&out);
}

TEST_MAIN(test_table, test_ids_and_syntax, test_refs_cap, test_deep,
	  test_dummy_budget, test_errors)
