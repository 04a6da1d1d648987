/*
 * test_imap_fetch_parse - FETCH arguments (imapd/imap_fetch_parse.h)
 */
#include "test.h"

#include "imap_test_cmd.h"
#include "imapd/imap_fetch_parse.h"

/* "FETCH 1 <args>" through the reader and the FETCH parser. */
static int fetch(const char *args, int uid, struct imap_fetch_items *it,
		 const char **err)
{
	struct imap_test_cmd t;
	struct str line = STR_INIT(0);
	int r = -2;

	str_appendf(&line, "t %sFETCH 1 %s", uid ? "UID " : "", args);
	imap_test_cmd_read(&t, str_c(&line));
	if (t.rc == IMAP_READ_OK)
		r = imap_fetch_parse(t.cmd.args + 1, t.cmd.nargs - 1,
				     t.cmd.uid, it, err);
	/* field names point into the command, gone with t */
	if (r == 0) {
		for (unsigned i = 0; i < it->nbody; i++)
			for (unsigned f = 0; f < it->body[i].section.nfields;
			     f++)
				it->body[i].section.field[f] = NULL;
	}
	imap_test_cmd_free(&t);
	str_free(&line);
	return r;
}

static void test_simple_and_macros(void)
{
	struct imap_fetch_items it;
	const char *err;

	TEST_ASSERT(fetch("FLAGS", 0, &it, &err) == 0);
	TEST_ASSERT(it.atts == IMAP_FETCH_FLAGS && it.nbody == 0);
	imap_fetch_items_free(&it);
	TEST_ASSERT(fetch("ALL", 0, &it, &err) == 0);
	TEST_ASSERT(it.atts == (IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE));
	imap_fetch_items_free(&it);
	TEST_ASSERT(fetch("fast", 0, &it, &err) == 0);
	TEST_ASSERT(it.atts == (IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				IMAP_FETCH_RFC822_SIZE));
	imap_fetch_items_free(&it);
	TEST_ASSERT(fetch("FULL", 1, &it, &err) == 0);
	TEST_ASSERT(it.atts & IMAP_FETCH_BODY && it.atts & IMAP_FETCH_UID);
	imap_fetch_items_free(&it);
	TEST_ASSERT(fetch("(UID RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY "
			  "MODSEQ INTERNALDATE)", 0, &it, &err) == 0);
	TEST_ASSERT(it.atts == (IMAP_FETCH_UID | IMAP_FETCH_RFC822_SIZE |
				IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODYSTRUCTURE |
				IMAP_FETCH_BODY | IMAP_FETCH_MODSEQ |
				IMAP_FETCH_INTERNALDATE));
	TEST_ASSERT(!it.seen);
	imap_fetch_items_free(&it);
	TEST_ASSERT(fetch("(RFC822 RFC822.HEADER RFC822.TEXT)", 0, &it,
			  &err) == 0);
	TEST_ASSERT(it.nbody == 3 && it.seen);
	TEST_STREQ(it.body[0].name, "RFC822");
	TEST_ASSERT(it.body[0].section.kind == IMAP_SECTION_ALL);
	TEST_STREQ(it.body[1].name, "RFC822.HEADER");
	TEST_ASSERT(it.body[1].peek &&
		    it.body[1].section.kind == IMAP_SECTION_HEADER);
	TEST_ASSERT(it.body[2].section.kind == IMAP_SECTION_TEXT);
	imap_fetch_items_free(&it);
}

/* Fields are checked with the command still alive. */
static void test_header_fields(void)
{
	struct imap_test_cmd t;
	struct imap_fetch_items it;
	const char *err;
	const struct imap_section *sec;

	imap_test_cmd_read(&t, "t FETCH 1:* (BODY.PEEK[HEADER.FIELDS "
			   "(From \"To\" x-spam)]<0.100> body[1.2.header."
			   "fields.not (A)])");
	TEST_ASSERT(t.rc == IMAP_READ_OK);
	TEST_ASSERT(imap_fetch_parse(t.cmd.args + 1, t.cmd.nargs - 1, 0,
				     &it, &err) == 0);
	TEST_ASSERT(it.nbody == 2 && it.seen);
	sec = &it.body[0].section;
	TEST_ASSERT(it.body[0].peek && it.body[0].partial &&
		    it.body[0].partial_offset == 0 &&
		    it.body[0].partial_length == 100);
	TEST_ASSERT(sec->kind == IMAP_SECTION_HEADER_FIELDS &&
		    sec->nfields == 3 && sec->nparts == 0);
	TEST_ASSERT(sec->field_len[0] == 4 && !memcmp(sec->field[0], "From", 4));
	TEST_ASSERT(sec->field_len[1] == 2 && !memcmp(sec->field[1], "To", 2));
	TEST_ASSERT(sec->field_len[2] == 6 &&
		    !memcmp(sec->field[2], "x-spam", 6));
	TEST_STREQ(it.body[0].name,
		   "BODY[HEADER.FIELDS (From \"To\" x-spam)]<0>");
	sec = &it.body[1].section;
	TEST_ASSERT(sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT &&
		    sec->nparts == 2 && sec->part[0] == 1 &&
		    sec->part[1] == 2 && sec->nfields == 1);
	TEST_STREQ(it.body[1].name, "BODY[1.2.header.fields.not (A)]");
	imap_fetch_items_free(&it);
	imap_test_cmd_free(&t);
}

static void test_sections(void)
{
	static const struct {
		const char *item, *name;
		enum imap_fetch_body_type type;
		enum imap_section_kind kind;
		unsigned nparts;
	} ok[] = {
		{ "BODY[]", "BODY[]", IMAP_FETCH_BODY_SECTION,
		  IMAP_SECTION_ALL, 0 },
		{ "BODY[]<10.5>", "BODY[]<10>", IMAP_FETCH_BODY_SECTION,
		  IMAP_SECTION_ALL, 0 },
		{ "BODY[TEXT]", "BODY[TEXT]", IMAP_FETCH_BODY_SECTION,
		  IMAP_SECTION_TEXT, 0 },
		{ "BODY[HEADER]", "BODY[HEADER]", IMAP_FETCH_BODY_SECTION,
		  IMAP_SECTION_HEADER, 0 },
		{ "BODY[1]", "BODY[1]", IMAP_FETCH_BODY_SECTION,
		  IMAP_SECTION_ALL, 1 },
		{ "BODY[3.1.MIME]", "BODY[3.1.MIME]", IMAP_FETCH_BODY_SECTION,
		  IMAP_SECTION_MIME, 2 },
		{ "BODY[2.TEXT]", "BODY[2.TEXT]", IMAP_FETCH_BODY_SECTION,
		  IMAP_SECTION_TEXT, 1 },
		{ "BINARY[1.2]", "BINARY[1.2]", IMAP_FETCH_BINARY,
		  IMAP_SECTION_ALL, 2 },
		{ "BINARY.PEEK[]<0.4294967295>", "BINARY[]<0>",
		  IMAP_FETCH_BINARY, IMAP_SECTION_ALL, 0 },
		{ "BINARY.SIZE[1]", "BINARY.SIZE[1]", IMAP_FETCH_BINARY_SIZE,
		  IMAP_SECTION_ALL, 1 },
	};
	static const char *const bad[] = {
		"BODY[", "BODY[MIME]", "BODY[0]", "BODY[01]", "BODY[1.]",
		"BODY[.1]", "BODY[1..2]", "BODY[HEADERS]", "BODY[TEXT.1]",
		"BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
		"BODY[HEADER.FIELDS (A:B)]", "BODY[HEADER.FIELDS (A) ]",
		"BODY[HEADER.FIELDS (\"A\\\"\")]", "BODY[]<0>", "BODY[]<0.0>",
		"BODY[]<1.2", "BODY[]<01.2>", "BODY[]x", "BINARY[TEXT]",
		"BINARY[1.MIME]", "BINARY.SIZE[1]<0.1>", "BODY.PEAK[]",
		"FOO", "RFC822.SIZE[]", "(FLAGS ALL)", "()", "\"FLAGS\"",
		"BODY[4294967296]", "(FLAGS) (VANISHED)",
		"(FLAGS) (CHANGEDSINCE)", "(FLAGS) (CHANGEDSINCE x)",
		"(FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)", "(FLAGS) ()",
		"FLAGS FLAGS",
	};
	struct imap_fetch_items it;
	const char *err;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (fetch(ok[i].item, 0, &it, &err) != 0) {
			printf("refused %s\n", ok[i].item);
			TEST_ASSERT(0);
			imap_fetch_items_free(&it);
			continue;
		}
		TEST_ASSERT(it.nbody == 1);
		TEST_STREQ(it.body[0].name, ok[i].name);
		TEST_ASSERT(it.body[0].type == ok[i].type);
		TEST_ASSERT(it.body[0].section.kind == ok[i].kind);
		TEST_ASSERT(it.body[0].section.nparts == ok[i].nparts);
		imap_fetch_items_free(&it);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fetch(bad[i], 1, &it, &err) == 0) {
			printf("accepted %s\n", bad[i]);
			TEST_ASSERT(0);
		}
		imap_fetch_items_free(&it);
	}
}

static void test_modifiers(void)
{
	struct imap_fetch_items it;
	const char *err;

	TEST_ASSERT(fetch("(FLAGS) (CHANGEDSINCE 12345)", 0, &it, &err) == 0);
	TEST_ASSERT(it.changedsince_set && it.changedsince == 12345 &&
		    (it.atts & IMAP_FETCH_MODSEQ) && !it.vanished);
	imap_fetch_items_free(&it);
	TEST_ASSERT(fetch("(FLAGS) (CHANGEDSINCE 9 VANISHED)", 1, &it,
			  &err) == 0);
	TEST_ASSERT(it.vanished && it.changedsince == 9 &&
		    (it.atts & IMAP_FETCH_UID));
	imap_fetch_items_free(&it);
	/* VANISHED only in UID FETCH */
	TEST_ASSERT(fetch("(FLAGS) (CHANGEDSINCE 9 VANISHED)", 0, &it,
			  &err) < 0);
	TEST_STREQ(err, "VANISHED needs UID FETCH and CHANGEDSINCE");
	imap_fetch_items_free(&it);
	TEST_ASSERT(fetch("FLAGS (CHANGEDSINCE 9223372036854775808)", 0, &it,
			  &err) < 0);
	imap_fetch_items_free(&it);
}

static void test_limits(void)
{
	struct str args = STR_INIT(0);
	struct imap_fetch_items it;
	const char *err;

	str_appendc(&args, '(');
	for (int i = 0; i <= IMAP_FETCH_BODY_MAX; i++)
		str_appends(&args, "BODY[] ");
	str_appendc(&args, ')');
	TEST_ASSERT(fetch(str_c(&args), 0, &it, &err) < 0);
	TEST_STREQ(err, "Too many body items");
	imap_fetch_items_free(&it);
	str_clear(&args);
	str_appends(&args, "BODY[");
	for (int i = 0; i <= IMAP_SECTION_PARTS_MAX; i++)
		str_appends(&args, i ? ".1" : "1");
	str_appendc(&args, ']');
	TEST_ASSERT(fetch(str_c(&args), 0, &it, &err) < 0);
	TEST_STREQ(err, "Section has too many parts");
	imap_fetch_items_free(&it);
	str_clear(&args);
	str_appends(&args, "BODY[HEADER.FIELDS (");
	for (int i = 0; i <= IMAP_SECTION_FIELDS_MAX; i++)
		str_appends(&args, "F ");
	str_appends(&args, "F)]");
	TEST_ASSERT(fetch(str_c(&args), 0, &it, &err) < 0);
	TEST_STREQ(err, "Too many header fields");
	imap_fetch_items_free(&it);
	str_free(&args);
}

TEST_MAIN(test_simple_and_macros, test_header_fields, test_sections,
	  test_modifiers, test_limits)
