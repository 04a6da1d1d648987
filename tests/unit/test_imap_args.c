/*
 * test_imap_args - STORE, LIST, STATUS, SELECT, ENABLE and APPEND
 * arguments (imapd/imap_args.h), read through the real reader
 */
#include "test.h"

#include "imap_test_cmd.h"
#include "imapd/imap_args.h"

static int store(const char *line, struct imap_store_args *st)
{
	struct imap_test_cmd t;
	const char *err;
	int r = -2;

	imap_test_cmd_read(&t, line);
	if (t.rc == IMAP_READ_OK)
		r = imap_store_parse(t.cmd.args + 1, t.cmd.nargs - 1, st, &err);
	imap_test_cmd_free(&t);
	return r;
}

static void test_store(void)
{
	static const char *const bad[] = {
		"t STORE 1 FLAGS", "t STORE 1 FLAG \\Seen",
		"t STORE 1 *FLAGS \\Seen", "t STORE 1 FLAGS \\Recent",
		"t STORE 1 FLAGS \\Foo", "t STORE 1 FLAGS (\\Seen) x",
		"t STORE 1 FLAGS \"x\"", "t STORE 1 FLAGS (a[b)",
		"t STORE 1 (UNCHANGEDSINCE) FLAGS x",
		"t STORE 1 (FOO 1) FLAGS x", "t STORE 1 (UNCHANGEDSINCE 1)",
	};
	struct imap_store_args st;

	TEST_ASSERT(store("t STORE 1:* +FLAGS.SILENT (\\Seen \\deleted $Junk)",
			  &st) == 0);
	TEST_ASSERT(st.op == IMAP_STORE_ADD && st.silent &&
		    st.flags.system == (IMAP_FLAG_SEEN | IMAP_FLAG_DELETED) &&
		    st.flags.nkeywords == 1 && !st.unchangedsince_set);
	TEST_ASSERT(store("t STORE 1 -flags \\Flagged \\Answered \\Draft",
			  &st) == 0);
	TEST_ASSERT(st.op == IMAP_STORE_REMOVE && !st.silent &&
		    st.flags.system == (IMAP_FLAG_FLAGGED | IMAP_FLAG_ANSWERED |
					IMAP_FLAG_DRAFT));
	TEST_ASSERT(store("t STORE 1 (UNCHANGEDSINCE 320162338) FLAGS ()",
			  &st) == 0);
	TEST_ASSERT(st.op == IMAP_STORE_SET && st.unchangedsince_set &&
		    st.unchangedsince == 320162338 && st.flags.system == 0 &&
		    st.flags.nkeywords == 0);
	/* a keyword called NIL (imaptest's "nil" script, as Dovecot) */
	TEST_ASSERT(store("t STORE 1 +FLAGS NIL", &st) == 0);
	TEST_ASSERT(st.flags.nkeywords == 1 && st.flags.system == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (store(bad[i], &st) != -1) {
			printf("accepted %s\n", bad[i]);
			TEST_ASSERT(0);
		}
	}
}

static int list(const char *line, struct imap_list_args *l,
		char *pat0, size_t size)
{
	struct imap_test_cmd t;
	const char *err;
	int r = -2;

	imap_test_cmd_read(&t, line);
	if (t.rc == IMAP_READ_OK)
		r = imap_list_parse(t.cmd.args, t.cmd.nargs, l, &err);
	if (r == 0 && l->npatterns > 0 && l->pattern_len[0] < size) {
		memcpy(pat0, l->pattern[0], l->pattern_len[0]);
		pat0[l->pattern_len[0]] = '\0';
	}
	imap_test_cmd_free(&t);
	return r;
}

static void test_list(void)
{
	static const char *const bad[] = {
		"t LIST \"\"", "t LIST (FOO) \"\" *",
		"t LIST (RECURSIVEMATCH) \"\" *",
		"t LIST (REMOTE RECURSIVEMATCH) \"\" *",
		"t LIST \"\" () ", "t LIST \"\" * RETURN",
		"t LIST \"\" * RETURN (FOO)", "t LIST \"\" * RETURN (STATUS)",
		"t LIST \"\" * RETURN (STATUS ())", "t LIST \"\" * FOO (x)",
		"t LIST \"\" (a (b))",
	};
	struct imap_list_args l;
	char pat[64];

	TEST_ASSERT(list("t LIST \"\" %", &l, pat, sizeof(pat)) == 0);
	TEST_ASSERT(!l.extended && l.npatterns == 1 && l.reference_len == 0);
	TEST_STREQ(pat, "%");
	TEST_ASSERT(list("t LIST (SUBSCRIBED RECURSIVEMATCH) Lists (\"INBOX*\" "
			 "Sent) RETURN (CHILDREN STATUS (MESSAGES UNSEEN) "
			 "SPECIAL-USE)", &l, pat, sizeof(pat)) == 0);
	TEST_ASSERT(l.extended && l.npatterns == 2 &&
		    l.select == (IMAP_LIST_SEL_SUBSCRIBED |
				 IMAP_LIST_SEL_RECURSIVEMATCH) &&
		    l.ret == (IMAP_LIST_RET_CHILDREN | IMAP_LIST_RET_STATUS |
			      IMAP_LIST_RET_SPECIAL_USE) &&
		    l.status_items == (IMAP_STATUS_MESSAGES |
				       IMAP_STATUS_UNSEEN) &&
		    l.reference_len == 5);
	TEST_STREQ(pat, "INBOX*");
	TEST_ASSERT(list("t LIST () \"\" * RETURN ()", &l, pat,
			 sizeof(pat)) == 0 && l.extended && l.select == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (list(bad[i], &l, pat, sizeof(pat)) != -1) {
			printf("accepted %s\n", bad[i]);
			TEST_ASSERT(0);
		}
	}
}

static void test_status_select_enable(void)
{
	struct imap_test_cmd t;
	struct imap_select_args sel;
	unsigned items, caps;
	const char *err;

	imap_test_cmd_read(&t, "t STATUS INBOX (MESSAGES RECENT UIDNEXT "
			   "UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ "
			   "APPENDLIMIT)");
	TEST_ASSERT(imap_status_items_parse(&t.cmd.args[1], &items, &err) == 0);
	TEST_ASSERT(items == 0x1ff);
	imap_test_cmd_free(&t);
	imap_test_cmd_read(&t, "t STATUS INBOX (MESSAGES FOO)");
	TEST_ASSERT(imap_status_items_parse(&t.cmd.args[1], &items, &err) < 0);
	imap_test_cmd_free(&t);

	imap_test_cmd_read(&t, "t SELECT INBOX (QRESYNC (67890007 "
			   "20050715194045000 41,43:211,214:541 "
			   "(1,3,5 1,3,5)) CONDSTORE)");
	TEST_ASSERT(imap_select_parse(t.cmd.args, t.cmd.nargs, &sel, &err) == 0);
	TEST_ASSERT(sel.qresync && sel.condstore &&
		    sel.uidvalidity == 67890007 &&
		    sel.modseq == 20050715194045000ULL &&
		    sel.known_uids_len == 17 && sel.seq_match_len == 5 &&
		    sel.uid_match_len == 5 && sel.mailbox_len == 5);
	imap_test_cmd_free(&t);
	imap_test_cmd_read(&t, "t EXAMINE INBOX (QRESYNC (1 2 (1 1)))");
	TEST_ASSERT(imap_select_parse(t.cmd.args, t.cmd.nargs, &sel, &err) == 0);
	TEST_ASSERT(sel.known_uids == NULL && sel.seq_match != NULL);
	imap_test_cmd_free(&t);
	static const char *const bad[] = {
		"t SELECT", "t SELECT a (FOO)", "t SELECT a ()",
		"t SELECT a (QRESYNC)", "t SELECT a (QRESYNC (0 1))",
		"t SELECT a (QRESYNC (1 0))", "t SELECT a (QRESYNC (1))",
		"t SELECT a (QRESYNC (1 2 x))", "t SELECT a (QRESYNC (1 2 $))",
		"t SELECT a (QRESYNC (1 2 1:5 (1)))", "t SELECT a b",
		"t SELECT a (QRESYNC (1 2 1 2))",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		imap_test_cmd_read(&t, bad[i]);
		if (t.rc == IMAP_READ_OK &&
		    imap_select_parse(t.cmd.args, t.cmd.nargs, &sel, &err) == 0) {
			printf("accepted %s\n", bad[i]);
			TEST_ASSERT(0);
		}
		imap_test_cmd_free(&t);
	}

	imap_test_cmd_read(&t, "t ENABLE condstore IMAP4REV2 X-FOO UTF8=ACCEPT");
	TEST_ASSERT(imap_enable_parse(t.cmd.args, t.cmd.nargs, &caps, &err) == 0);
	TEST_ASSERT(caps == (IMAP_ENABLE_CONDSTORE | IMAP_ENABLE_IMAP4REV2 |
			     IMAP_ENABLE_UTF8_ACCEPT));
	imap_test_cmd_free(&t);
	imap_test_cmd_read(&t, "t ENABLE");
	TEST_ASSERT(imap_enable_parse(t.cmd.args, t.cmd.nargs, &caps, &err) < 0);
	imap_test_cmd_free(&t);
}

static void test_append(void)
{
	struct imap_test_cmd t;
	struct imap_append_args ap;
	const char *err;

	imap_test_cmd_read(&t, "t APPEND Sent (\\Seen $Label1) "
			   "\" 6-Dec-2026 10:00:00 +0100\" {5}");
	TEST_ASSERT(t.rc == IMAP_READ_OK && t.cmd.literal_pending);
	TEST_ASSERT(imap_append_parse(t.cmd.args, t.cmd.nargs, 1, &ap,
				      &err) == 0);
	TEST_ASSERT(ap.mailbox_len == 4 && ap.flags_given &&
		    ap.flags.system == IMAP_FLAG_SEEN &&
		    ap.flags.nkeywords == 1 && ap.date_given &&
		    ap.date == 1796547600 && ap.date_zone == 60);
	/* a continuation part: no mailbox */
	TEST_ASSERT(imap_append_parse(t.cmd.args + 1, t.cmd.nargs - 1, 0, &ap,
				      &err) == 0 && ap.mailbox == NULL);
	TEST_ASSERT(imap_append_parse(t.cmd.args, 0, 0, &ap, &err) == 0 &&
		    !ap.flags_given && !ap.date_given);
	imap_test_cmd_free(&t);
	static const char *const bad[] = {
		"t APPEND {5}", "t APPEND a (\\Recent) {5}",
		"t APPEND a 6-Dec-2026 {5}", "t APPEND a \"6-Dec-2026\" {5}",
		"t APPEND a (\\Seen) (\\Seen) {5}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		imap_test_cmd_read(&t, bad[i]);
		if (t.rc == IMAP_READ_OK &&
		    imap_append_parse(t.cmd.args, t.cmd.nargs, 1, &ap,
				      &err) == 0) {
			printf("accepted %s\n", bad[i]);
			TEST_ASSERT(0);
		}
		imap_test_cmd_free(&t);
	}
}

TEST_MAIN(test_store, test_list, test_status_select_enable, test_append)
