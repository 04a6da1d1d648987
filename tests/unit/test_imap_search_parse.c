/*
 * test_imap_search_parse - SEARCH, SORT and THREAD arguments
 * (imapd/imap_search_parse.h)
 *
 * Each command goes through the real reader; the tree is written out as
 * an S-expression and compared with a table.
 */
#include "test.h"

#include "imap_test_cmd.h"
#include "imapd/imap_search_parse.h"

static const char *const key_names[] = {
	"AND", "OR", "NOT", "ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED",
	"SEEN", "RECENT", "NEW", "OLD", "UNANSWERED", "UNDELETED", "UNDRAFT",
	"UNFLAGGED", "UNSEEN", "KEYWORD", "UNKEYWORD", "BCC", "BODY", "CC",
	"FROM", "SUBJECT", "TEXT", "TO", "HEADER", "BEFORE", "ON", "SINCE",
	"SENTBEFORE", "SENTON", "SENTSINCE", "LARGER", "SMALLER", "SEQ",
	"UID", "MODSEQ",
};

static void dump(struct str *out, const struct imap_search_node *nd)
{
	str_appendf(out, "%s", key_names[nd->key]);
	switch (nd->key) {
	case IMAP_SEARCH_AND: case IMAP_SEARCH_OR: case IMAP_SEARCH_NOT:
		str_appendc(out, '(');
		for (const struct imap_search_node *c = nd->child; c != NULL;
		     c = c->next) {
			if (c != nd->child)
				str_appendc(out, ' ');
			dump(out, c);
		}
		str_appendc(out, ')');
		break;
	case IMAP_SEARCH_HEADER:
		str_appendf(out, ":%.*s=%.*s", (int)nd->len, nd->str,
			    (int)nd->value_len, nd->value);
		break;
	case IMAP_SEARCH_BEFORE: case IMAP_SEARCH_ON: case IMAP_SEARCH_SINCE:
	case IMAP_SEARCH_SENTBEFORE: case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		str_appendf(out, ":%lld", (long long)nd->days);
		break;
	case IMAP_SEARCH_LARGER: case IMAP_SEARCH_SMALLER:
		str_appendf(out, ":%llu", (unsigned long long)nd->num);
		break;
	case IMAP_SEARCH_MODSEQ:
		str_appendf(out, ":%llu", (unsigned long long)nd->num);
		if (nd->entry != NULL)
			str_appendf(out, ":%.*s:%d", (int)nd->entry_len,
				    nd->entry, (int)nd->entry_type);
		break;
	case IMAP_SEARCH_SEQSET: case IMAP_SEARCH_UID:
		str_appendc(out, ':');
		if (nd->set.searchres)
			str_appendc(out, '$');
		imap_seqset_format(&nd->set, out);
		break;
	default:
		if (nd->str != NULL)
			str_appendf(out, ":%.*s", (int)nd->len, nd->str);
	}
}

/* "t <cmd> <args>"; the tree, or "BAD <why>" / "BADCHARSET". */
static const char *search(const char *line, struct imap_search *s)
{
	static struct str out = STR_INIT(0);
	struct imap_test_cmd t;
	const char *err = "?";
	int r = IMAP_SEARCH_BAD;

	str_clear(&out);
	imap_search_free(s);
	imap_search_init(s);
	imap_test_cmd_read(&t, line);
	if (t.rc != IMAP_READ_OK) {
		str_appends(&out, "READER");
	} else {
		if (strcmp(t.cmd.name, "SEARCH") == 0)
			r = imap_search_parse(s, t.cmd.args, t.cmd.nargs, &err);
		else if (strcmp(t.cmd.name, "SORT") == 0)
			r = imap_sort_parse(s, t.cmd.args, t.cmd.nargs, &err);
		else
			r = imap_thread_parse(s, t.cmd.args, t.cmd.nargs, &err);
		if (r == IMAP_SEARCH_OK)
			dump(&out, s->root);
		else if (r == IMAP_SEARCH_BADCHARSET)
			str_appends(&out, "BADCHARSET");
		else
			str_appendf(&out, "BAD %s", err);
	}
	imap_test_cmd_free(&t);
	return str_c(&out);
}

static const struct { const char *in, *want; } cases[] = {
	{ "t SEARCH ALL", "AND(ALL)" },
	{ "t SEARCH unseen FLAGGED answered deleted draft new old recent "
	  "seen unanswered undeleted undraft unflagged",
	  "AND(UNSEEN FLAGGED ANSWERED DELETED DRAFT NEW OLD RECENT SEEN "
	  "UNANSWERED UNDELETED UNDRAFT UNFLAGGED)" },
	{ "t SEARCH FROM joe SUBJECT \"hello world\" TO {3}\r\nbob",
	  "AND(FROM:joe SUBJECT:hello world TO:bob)" },
	{ "t SEARCH BCC a CC b BODY c TEXT \"\"",
	  "AND(BCC:a CC:b BODY:c TEXT:)" },
	{ "t SEARCH HEADER X-Spam \"\"", "AND(HEADER:X-Spam=)" },
	{ "t SEARCH KEYWORD $Junk UNKEYWORD NonJunk",
	  "AND(KEYWORD:$Junk UNKEYWORD:NonJunk)" },
	{ "t SEARCH SINCE 1-Jan-1970 BEFORE \"2-Jan-1970\" ON 6-Dec-2026",
	  "AND(SINCE:0 BEFORE:1 ON:20793)" },
	{ "t SEARCH SENTSINCE 1-Jan-1970 SENTBEFORE 1-Jan-1970 SENTON "
	  "1-Jan-1970", "AND(SENTSINCE:0 SENTBEFORE:0 SENTON:0)" },
	{ "t SEARCH LARGER 100 SMALLER 18446744073709551615",
	  "AND(LARGER:100 SMALLER:18446744073709551615)" },
	{ "t SEARCH 1:3,5 UID 7:* $", "AND(SEQ:1:3,5 UID:7:* SEQ:$)" },
	{ "t SEARCH NOT OR SEEN (FROM a TO b) DELETED",
	  "AND(NOT(OR(SEEN AND(FROM:a TO:b))) DELETED)" },
	{ "t SEARCH OR OR a:b c d", "BAD Invalid search key" },
	{ "t SEARCH MODSEQ 5", "AND(MODSEQ:5)" },
	{ "t SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338",
	  "AND(MODSEQ:620162338:/flags/\\draft:3)" },
	{ "t SEARCH MODSEQ \"/flags/x\" none 1",
	  "BAD Invalid MODSEQ entry type" },
	{ "t SEARCH CHARSET UTF-8 SUBJECT \"caf\xc3\xa9\"",
	  "AND(SUBJECT:caf\xc3\xa9)" },
	{ "t SEARCH CHARSET us-ascii ALL", "AND(ALL)" },
	{ "t SEARCH CHARSET ISO-8859-1 ALL", "BADCHARSET" },
	{ "t SEARCH RETURN (MIN MAX) CHARSET UTF-8 ALL", "AND(ALL)" },
	{ "t SEARCH", "BAD Missing search keys" },
	{ "t SEARCH FROM", "BAD Missing search argument" },
	{ "t SEARCH HEADER a", "BAD Missing search argument" },
	{ "t SEARCH HEADER \"\" x", "BAD Empty header field name" },
	{ "t SEARCH OR SEEN", "BAD Missing search argument" },
	{ "t SEARCH ()", "BAD Empty search list" },
	{ "t SEARCH FOO", "BAD Invalid search key" },
	{ "t SEARCH 0", "BAD Invalid search key" },
	{ "t SEARCH \"ALL\"", "BAD Invalid search key" },
	{ "t SEARCH BEFORE 30-Feb-2026", "BAD Invalid search date" },
	{ "t SEARCH LARGER -1", "BAD Invalid size" },
	{ "t SEARCH KEYWORD \"a b\"", "BAD Invalid keyword" },
	{ "t SEARCH UID x", "BAD Invalid search key" },
	{ "t SEARCH RETURN (FOO) ALL", "BAD Unknown RETURN option" },
	{ "t SEARCH RETURN ALL", "BAD Invalid RETURN options" },
	{ "t SEARCH MODSEQ 9223372036854775808", "BAD Invalid MODSEQ value" },
	/* SORT and THREAD */
	{ "t SORT (REVERSE DATE SUBJECT) UTF-8 ALL", "AND(ALL)" },
	{ "t SORT (DISPLAYFROM) US-ASCII SEEN", "AND(SEEN)" },
	{ "t SORT (REVERSE) UTF-8 ALL", "BAD Invalid sort criteria" },
	{ "t SORT () UTF-8 ALL", "BAD Invalid sort criteria" },
	{ "t SORT (FOO) UTF-8 ALL", "BAD Invalid sort criteria" },
	{ "t SORT (DATE) ALL", "BADCHARSET" },
	{ "t SORT (DATE) UTF-8", "BAD Missing search keys" },
	{ "t THREAD REFERENCES UTF-8 ALL", "AND(ALL)" },
	{ "t THREAD ORDEREDSUBJECT US-ASCII UNDELETED", "AND(UNDELETED)" },
	{ "t THREAD REFS UTF-8 ALL", "BAD Unknown threading algorithm" },
};

static void test_table(void)
{
	struct imap_search s;

	imap_search_init(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = search(cases[i].in, &s);

		if (strcmp(got, cases[i].want) != 0) {
			printf("\"%s\": \"%s\" vs \"%s\"\n", cases[i].in, got,
			       cases[i].want);
			TEST_ASSERT(0);
		}
	}
	imap_search_free(&s);
}

static void test_fields(void)
{
	struct imap_search s;

	imap_search_init(&s);
	search("t SEARCH RETURN () ALL", &s);
	TEST_ASSERT(s.return_given &&
		    s.return_opts == IMAP_SEARCH_RETURN_ALL);
	search("t SEARCH RETURN (SAVE COUNT) $", &s);
	TEST_ASSERT(s.return_opts == (IMAP_SEARCH_RETURN_SAVE |
				      IMAP_SEARCH_RETURN_COUNT));
	TEST_ASSERT(s.uses_searchres && !s.uses_modseq && !s.charset_given);
	search("t SEARCH CHARSET UTF-8 MODSEQ 1", &s);
	TEST_ASSERT(!s.return_given && s.uses_modseq && s.charset_utf8);
	search("t SORT (REVERSE ARRIVAL TO) UTF-8 ALL", &s);
	TEST_ASSERT(s.nsort == 2 && s.sort[0].key == IMAP_SORT_ARRIVAL &&
		    s.sort[0].reverse && s.sort[1].key == IMAP_SORT_TO &&
		    !s.sort[1].reverse);
	search("t THREAD REFERENCES UTF-8 ALL", &s);
	TEST_ASSERT(s.thread_alg == IMAP_THREAD_REFERENCES);
	imap_search_free(&s);
}

static void test_limits(void)
{
	struct imap_search s;
	struct str line = STR_INIT(0);

	imap_search_init(&s);
	/* NOT chains recurse: bounded */
	str_appends(&line, "t SEARCH");
	for (int i = 0; i < IMAP_SEARCH_DEPTH_MAX; i++)
		str_appends(&line, " NOT");
	str_appends(&line, " ALL");
	TEST_STREQ(search(str_c(&line), &s), "BAD Search keys nested too deeply");
	/* one level less is fine */
	str_clear(&line);
	str_appends(&line, "t SEARCH");
	for (int i = 0; i < IMAP_SEARCH_DEPTH_MAX - 1; i++)
		str_appends(&line, " NOT");
	str_appends(&line, " ALL");
	TEST_ASSERT(strncmp(search(str_c(&line), &s), "AND(NOT(", 8) == 0);
	/* key count */
	str_clear(&line);
	str_appends(&line, "t SEARCH");
	for (int i = 0; i < IMAP_SEARCH_NODES_MAX; i++)
		str_appends(&line, " SEEN");
	TEST_STREQ(search(str_c(&line), &s), "BAD Too many search keys");
	imap_search_free(&s);
	str_free(&line);
}

TEST_MAIN(test_table, test_fields, test_limits)
