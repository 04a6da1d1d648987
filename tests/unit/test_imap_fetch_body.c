/*
 * test_imap_fetch_body - ENVELOPE, BODY/BODYSTRUCTURE and BODY[section] /
 * BINARY[section] (imapd/imap_fetch_body.h, imapd/imap_section.h)
 *
 * The expected strings are what Dovecot 2.3.19's imap answered for the same
 * messages (tests/fuzz/corpus/fuzz_mime/ holds them as files). Every
 * message is tried with LF and with CRLF line ends: the answers must not
 * differ.
 */
#include "test.h"

#include <stdlib.h>

#include "imapd/imap_fetch_body.h"
#include "imapd/imap_section.h"
#include "mail/mime.h"
#include "util/str.h"

#define MSG_MULTIPART \
	"MIME-Version: 1.0\nFrom: a@b.c\nSubject: mp\n" \
	"Content-Type: multipart/mixed; boundary=\"outer\"\n\npreamble\n" \
	"--outer\nContent-Type: text/plain; charset=utf-8\n" \
	"Content-Transfer-Encoding: quoted-printable\n\nhell=C3=A9 w=\norld\n" \
	"--outer\nContent-Type: multipart/alternative; boundary=outer2\n\n" \
	"--outer2\nContent-Type: text/html\n\n<b>x</b>\n--outer2\n" \
	"Content-Type: text/plain\n\nx\n--outer2--\n--outer\n" \
	"Content-Type: application/pdf; name*0*=utf-8'en'%E2%82%AC; " \
	"name*1=\".pdf\"\nContent-Disposition: attachment; " \
	"filename=\"a b.pdf\"; size=3\nContent-Transfer-Encoding: base64\n" \
	"Content-ID: <id1@x>\nContent-Description: a file\n" \
	"Content-Language: en, de-DE\nContent-Location: http://x/y\n" \
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n\nYWJj\n--outer--\nepilogue\n"

#define MSG_RFC822 \
	"MIME-Version: 1.0\nFrom: x@y.z\n" \
	"Content-Type: multipart/mixed; boundary=b1\n\n--b1\n" \
	"Content-Type: message/rfc822\n\nFrom: inner@y.z\nSubject: inner\n" \
	"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b2\n" \
	"\n--b2\n\ntext one\n--b2\nContent-Type: text/html; " \
	"charset=iso-8859-1\n\n<p>two</p>\n--b2--\n--b1\n" \
	"Content-Type: text/plain\n\nlast\n--b1--\n"

#define MSG_SIMPLE \
	"From: \"Joe Q. Public\" <john.q.public@example.com>\n" \
	"To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\n" \
	"Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" " \
	"<sysservices@example.net>\nDate: Tue, 1 Jul 2003 10:52:37 +0200\n" \
	"Message-ID: <5678.21-Nov-1997@example.com>\nSubject: Saying\n  Hello\n" \
	"\nHi everyone.\n"

#define MSG_EMPTY_BODIES \
	"Content-Type: multipart/mixed; boundary=d\n\n--d\n" \
	"Content-Type: message/rfc822\n\nSubject: x\n\n--d\n\n--d--\n"

struct parsed {
	char *msg;
	size_t len;
	struct mime_msg m;
};

/* form 0: as written (LF); form 1: CRLF */
static void parsed_init(struct parsed *p, const char *msg, int form)
{
	struct str s = STR_INIT(0);
	const char *error;

	if (form)
		mime_crlf_append(&s, msg, strlen(msg));
	else
		str_sets(&s, msg);
	p->len = s.len;
	p->msg = str_steal(&s);
	if (mime_parse(p->msg, p->len, &p->m, &error) < 0)
		abort();
}

static void parsed_free(struct parsed *p)
{
	mime_free(&p->m);
	free(p->msg);
}

static const struct {
	const char *msg, *envelope, *bodystructure, *body;
} fetch_cases[] = {
	{ MSG_SIMPLE,
	  "(\"Tue, 1 Jul 2003 10:52:37 +0200\" {12}\r\nSaying Hello "
	  "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
	  "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
	  "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
	  "((\"Mary Smith\" NIL \"mary\" \"x.test\")(NIL NIL \"jdoe\" "
	  "\"example.org\")(\"Who?\" NIL \"one\" \"y.test\")) ((NIL NIL \"boss\" "
	  "\"nil.test\")({16}\r\nGiant; \"Big\" Box NIL \"sysservices\" "
	  "\"example.net\")) NIL NIL \"<5678.21-Nov-1997@example.com>\")",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 1 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 1)" },
	{ MSG_MULTIPART,
	  "(NIL \"mp\" ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
	  "((NIL NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL "
	  "\"quoted-printable\" 19 1 NIL NIL NIL NIL)((\"text\" \"html\" "
	  "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0 NIL NIL NIL NIL)"
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 "
	  "NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"outer2\") NIL NIL "
	  "NIL)(\"application\" \"pdf\" (\"name*\" "
	  "\"utf-8'en'%E2%82%AC.pdf\") \"<id1@x>\" \"a file\" \"base64\" 4 "
	  "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" "
	  "\"a b.pdf\" \"size\" \"3\")) (\"en\" \"de-DE\") \"http://x/y\") "
	  "\"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL "
	  "\"quoted-printable\" 19 1)((\"text\" \"html\" (\"charset\" "
	  "\"us-ascii\") NIL NIL \"7bit\" 8 0)(\"text\" \"plain\" (\"charset\" "
	  "\"us-ascii\") NIL NIL \"7bit\" 1 0) \"alternative\")(\"application\" "
	  "\"pdf\" (\"name*\" \"utf-8'en'%E2%82%AC.pdf\") \"<id1@x>\" "
	  "\"a file\" \"base64\" 4) \"mixed\")" },
	{ MSG_RFC822,
	  "(NIL NIL ((NIL NIL \"x\" \"y.z\")) ((NIL NIL \"x\" \"y.z\")) "
	  "((NIL NIL \"x\" \"y.z\")) NIL NIL NIL NIL NIL)",
	  "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 195 (NIL \"inner\" "
	  "((NIL NIL \"inner\" \"y.z\")) ((NIL NIL \"inner\" \"y.z\")) "
	  "((NIL NIL \"inner\" \"y.z\")) NIL NIL NIL NIL NIL) ((\"text\" "
	  "\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0 NIL NIL "
	  "NIL NIL)(\"text\" \"html\" (\"charset\" \"iso-8859-1\") NIL NIL "
	  "\"7bit\" 10 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b2\") "
	  "NIL NIL NIL) 13 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" "
	  "\"us-ascii\") NIL NIL \"7bit\" 4 0 NIL NIL NIL NIL) \"mixed\" "
	  "(\"boundary\" \"b1\") NIL NIL NIL)",
	  "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 195 (NIL \"inner\" "
	  "((NIL NIL \"inner\" \"y.z\")) ((NIL NIL \"inner\" \"y.z\")) "
	  "((NIL NIL \"inner\" \"y.z\")) NIL NIL NIL NIL NIL) ((\"text\" "
	  "\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0)(\"text\" "
	  "\"html\" (\"charset\" \"iso-8859-1\") NIL NIL \"7bit\" 10 0) "
	  "\"alternative\") 13)(\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	  "NIL NIL \"7bit\" 4 0) \"mixed\")" },
	/* groups, a folded Date, 8-bit and an RFC 2047 word in Subject */
	{ "From: Pete <pete@silly.example>\nTo: A Group:Ed Jones <c@a.test>,"
	  "joe@where.test,John <jdoe@one.test>;\nCc: Undisclosed recipients:;"
	  "\nDate: Thu,\n      13\n        Feb\n          1969\n      23:32\n"
	  "               -0330 (Newfoundland Time)\n"
	  "Message-ID:              <testabcd.1234@silly.test>\n"
	  "Subject: =?iso-8859-1?q?caf=E9?= \xc3\xa9t\xc3\xa9\n\nTesting.",
	  "(\"Thu,      13        Feb          1969      23:32               "
	  "-0330 (Newfoundland Time)\" {29}\r\n=?iso-8859-1?q?caf=E9?= "
	  "\xc3\xa9t\xc3\xa9 ((\"Pete\" NIL \"pete\" \"silly.example\")) "
	  "((\"Pete\" NIL \"pete\" \"silly.example\")) ((\"Pete\" NIL \"pete\" "
	  "\"silly.example\")) ((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL "
	  "\"c\" \"a.test\")(NIL NIL \"joe\" \"where.test\")(\"John\" NIL "
	  "\"jdoe\" \"one.test\")(NIL NIL NIL NIL)) ((NIL NIL "
	  "\"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL "
	  "\"<testabcd.1234@silly.test>\")",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0)" },
	/* empty Sender: From; the comment as the name; blanks of Subject */
	{ "From: =?utf-8?b?w6k=?= <a@b>, bad@, <@r1,@r2:u@d>, \"q\\\"x\" (c) "
	  "<q@d>, u@d (Real Name)\nSender:\nReply-To: r@d\nIn-Reply-To: <x@y>\n"
	  "Subject: \t lots   of  space \t\n\n",
	  "(NIL {13}\r\nlots of space ((\"=?utf-8?b?w6k=?=\" NIL \"a\" \"b\")"
	  "(NIL NIL \"bad\" \"MISSING_DOMAIN\")(NIL \"@r1,@r2\" \"u\" \"d\")"
	  "({3}\r\nq\"x NIL \"q\" \"d\")(\"Real Name\" NIL \"u\" \"d\")) "
	  "((\"=?utf-8?b?w6k=?=\" NIL \"a\" \"b\")(NIL NIL \"bad\" "
	  "\"MISSING_DOMAIN\")(NIL \"@r1,@r2\" \"u\" \"d\")({3}\r\nq\"x NIL "
	  "\"q\" \"d\")(\"Real Name\" NIL \"u\" \"d\")) ((NIL NIL \"r\" \"d\")) "
	  "NIL NIL NIL \"<x@y>\" NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)" },
	/* header only, no final newline */
	{ "Subject: no body",
	  "(NIL \"no body\" NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	  "NIL NIL NIL NIL)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)" },
	/* Content-Type without MIME-Version counts (as in Dovecot) */
	{ "Content-Type: multipart/mixed; boundary=x\n\n--x\n\nno mime-version"
	  "\n--x--\n",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 0 "
	  "NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"x\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 0)"
	  " \"mixed\")" },
	/* a multipart without body parts gets an empty text/plain one */
	{ "Content-Type: multipart/mixed; boundary=x\n\nnothing\n",
	  "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	  "NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"x\") NIL NIL NIL)",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
	  " \"mixed\")" },
};

static void test_fetch(void)
{
	for (size_t i = 0; i < sizeof(fetch_cases) / sizeof(fetch_cases[0]);
	     i++) {
		for (int form = 0; form < 2; form++) {
			struct parsed p;
			struct str e = STR_INIT(0), bs = STR_INIT(0),
				   b = STR_INIT(0);

			parsed_init(&p, fetch_cases[i].msg, form);
			TEST_ASSERT(imap_envelope_write(p.msg, p.m.root, &e) == 0);
			TEST_ASSERT(imap_bodystructure_write(p.msg, p.m.root, 1,
							     &bs) == 0);
			TEST_ASSERT(imap_bodystructure_write(p.msg, p.m.root, 0,
							     &b) == 0);
			if (strcmp(str_c(&e), fetch_cases[i].envelope) ||
			    strcmp(str_c(&bs), fetch_cases[i].bodystructure) ||
			    strcmp(str_c(&b), fetch_cases[i].body))
				printf("  case %zu form %d\n", i, form);
			TEST_STREQ(str_c(&e), fetch_cases[i].envelope);
			TEST_STREQ(str_c(&bs), fetch_cases[i].bodystructure);
			TEST_STREQ(str_c(&b), fetch_cases[i].body);
			parsed_free(&p);
			str_free(&e);
			str_free(&bs);
			str_free(&b);
		}
	}
}

static const struct {
	const char *msg, *section, *out;	/* out NULL: does not exist */
#define MSG_TOP_RFC822 "Content-Type: message/rfc822\n\nFrom: sub@x.y\n" \
	"Subject: sub\n\nHello\n"
#define MSG_TOP_RFC822_X2 "Content-Type: message/rfc822\n\nSubject: mid\n" \
	"Content-Type: message/rfc822\n\nSubject: inner\n\nHi\n"

} section_cases[] = {
	{ MSG_SIMPLE, "1", "Hi everyone.\r\n" },
	{ MSG_SIMPLE, "1.1", NULL },
	{ MSG_SIMPLE, "2", NULL },
	{ MSG_SIMPLE, "TEXT", "Hi everyone.\r\n" },
	{ MSG_SIMPLE, "1.HEADER", NULL },
	{ MSG_SIMPLE, "MIME", NULL },
	{ MSG_SIMPLE, "HEADER.FIELDS (X-None)", "\r\n" },
	{ MSG_SIMPLE, "HEADER.FIELDS (subject FROM)",
	  "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
	  "Subject: Saying\r\n  Hello\r\n\r\n" },
	{ MSG_SIMPLE, "HEADER.FIELDS.NOT (To Cc Date Message-ID)",
	  "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n"
	  "Subject: Saying\r\n  Hello\r\n\r\n" },
	{ MSG_MULTIPART, "1", "hell=C3=A9 w=\r\norld" },
	{ MSG_MULTIPART, "1.1", "hell=C3=A9 w=\r\norld" },
	{ MSG_MULTIPART, "1.2", NULL },
	{ MSG_MULTIPART, "1.MIME", "Content-Type: text/plain; charset=utf-8\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n" },
	{ MSG_MULTIPART, "1.HEADER", NULL },
	{ MSG_MULTIPART, "1.TEXT", NULL },
	{ MSG_MULTIPART, "2", "--outer2\r\nContent-Type: text/html\r\n\r\n"
	  "<b>x</b>\r\n--outer2\r\nContent-Type: text/plain\r\n\r\nx\r\n"
	  "--outer2--\r\n" },	/* the close delimiter's line end stays */
	{ MSG_MULTIPART, "2.1", "<b>x</b>" },
	{ MSG_MULTIPART, "2.1.1", "<b>x</b>" },
	{ MSG_MULTIPART, "2.1.MIME", "Content-Type: text/html\r\n\r\n" },
	{ MSG_MULTIPART, "2.2", "x" },
	{ MSG_MULTIPART, "2.3", NULL },
	{ MSG_MULTIPART, "3", "YWJj" },
	{ MSG_MULTIPART, "4", NULL },
	{ MSG_MULTIPART, "0", NULL },
	{ MSG_RFC822, "1", "From: inner@y.z\r\nSubject: inner\r\n"
	  "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; "
	  "boundary=b2\r\n\r\n--b2\r\n\r\ntext one\r\n--b2\r\nContent-Type: "
	  "text/html; charset=iso-8859-1\r\n\r\n<p>two</p>\r\n--b2--\r\n" },
	{ MSG_RFC822, "1.MIME", "Content-Type: message/rfc822\r\n\r\n" },
	{ MSG_RFC822, "1.HEADER", "From: inner@y.z\r\nSubject: inner\r\n"
	  "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; "
	  "boundary=b2\r\n\r\n" },
	{ MSG_RFC822, "1.HEADER.FIELDS (SUBJECT)", "Subject: inner\r\n\r\n" },
	{ MSG_RFC822, "1.TEXT", "--b2\r\n\r\ntext one\r\n--b2\r\nContent-Type: "
	  "text/html; charset=iso-8859-1\r\n\r\n<p>two</p>\r\n--b2--\r\n" },
	{ MSG_RFC822, "1.1", "text one" },
	{ MSG_RFC822, "1.1.MIME", "\r\n" },
	{ MSG_RFC822, "1.1.1", "text one" },
	{ MSG_RFC822, "1.2", "<p>two</p>" },
	{ MSG_RFC822, "1.2.1", "<p>two</p>" },
	{ MSG_RFC822, "1.3", NULL },
	{ MSG_RFC822, "2", "last" },
	{ MSG_RFC822, "2.HEADER", NULL },
	/* an empty line right before a delimiter: Dovecot gives it to the
	 * message/rfc822 part, not to its header or body */
	{ MSG_EMPTY_BODIES, "1", "Subject: x\r\n\r\n" },
	{ MSG_EMPTY_BODIES, "1.HEADER", "Subject: x\r\n" },
	{ MSG_EMPTY_BODIES, "1.TEXT", "" },
	{ MSG_EMPTY_BODIES, "2.MIME", "" },
	{ MSG_EMPTY_BODIES, "2", "" },
	{ "Subject: no body", "HEADER", "Subject: no body" },
	{ "Subject: no body", "TEXT", "" },
	{ "Subject: no body", "HEADER.FIELDS (Subject)",
	  "Subject: no body\r\n\r\n" },
	/* a message whose whole body is message/rfc822 (imaptest's
	 * fetch-body-message-rfc822 and -x2 scripts, from Dovecot): "1" is
	 * the encapsulated message, further numbers count inside it */
	{ MSG_TOP_RFC822, "1", "From: sub@x.y\r\nSubject: sub\r\n\r\n"
	  "Hello\r\n" },
	{ MSG_TOP_RFC822, "1.1", "Hello\r\n" },
	{ MSG_TOP_RFC822, "1.HEADER", "From: sub@x.y\r\nSubject: sub\r\n"
	  "\r\n" },
	{ MSG_TOP_RFC822, "1.TEXT", "Hello\r\n" },
	{ MSG_TOP_RFC822, "1.2", NULL },
	{ MSG_TOP_RFC822_X2, "1.1", "Subject: inner\r\n\r\nHi\r\n" },
	{ MSG_TOP_RFC822_X2, "1.1.1", "Hi\r\n" },
	{ MSG_TOP_RFC822_X2, "1.1.HEADER", "Subject: inner\r\n\r\n" },
	{ "", "", "" },
	{ "", "1", "" },
	{ "a\rb\n", "", "a\rb\r\n" },	/* a lone CR stays */
};

static void test_sections(void)
{
	for (size_t i = 0;
	     i < sizeof(section_cases) / sizeof(section_cases[0]); i++) {
		for (int form = 0; form < 2; form++) {
			struct parsed p;
			struct imap_section sec;
			struct str out = STR_INIT(0);
			int r;

			parsed_init(&p, section_cases[i].msg, form);
			TEST_ASSERT(imap_section_from_text(
					    section_cases[i].section, &sec) == 0);
			r = imap_section_get(p.msg, p.len, &p.m, &sec, &out);
			if (section_cases[i].out == NULL) {
				TEST_ASSERT(r == 1 && out.len == 0);
			} else {
				TEST_ASSERT(r == 0);
				TEST_STREQ(str_c(&out), section_cases[i].out);
			}
			if (r != (section_cases[i].out == NULL) ||
			    (r == 0 && strcmp(str_c(&out),
					      section_cases[i].out) != 0))
				printf("  case %zu (%s) form %d\n", i,
				       section_cases[i].section, form);
			parsed_free(&p);
			str_free(&out);
		}
	}
}

static void test_binary(void)
{
	static const struct {
		const char *msg, *section, *out;
		int unknown;
	} cases[] = {
		{ MSG_MULTIPART, "1", "hell\xc3\xa9 world", 0 },
		{ MSG_MULTIPART, "3", "abc", 0 },
		{ MSG_MULTIPART, "2.1", "<b>x</b>", 0 },
		{ "Content-Transfer-Encoding: quoted-printable\n\na=3D \nb=\n"
		  "c =\nd=4", "1", "a=\r\nbc d=4", 0 },
		{ "Content-Transfer-Encoding: base64\n\nYW\nJj\nZA==\n", "1",
		  "abcd", 0 },
		{ "Content-Transfer-Encoding: x-uuencode\n\nbegin\n", "1", "",
		  1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int form = 0; form < 2; form++) {
			struct parsed p;
			struct imap_section sec;
			struct str out = STR_INIT(0);
			int unknown = -1;

			parsed_init(&p, cases[i].msg, form);
			TEST_ASSERT(imap_section_from_text(cases[i].section,
							   &sec) == 0);
			TEST_ASSERT(imap_section_binary(p.msg, p.len, &p.m, &sec,
							&out, &unknown) == 0);
			TEST_ASSERT(unknown == cases[i].unknown);
			TEST_STREQ(str_c(&out), cases[i].out);
			parsed_free(&p);
			str_free(&out);
		}
	}
}

/* BINARY of a part whose encoding is binary: its bytes as stored, line
 * ends untouched (RFC 3516; imaptest's append-binary wants 7 octets of a
 * 7-octet body with bare LFs) */
static void test_binary_raw(void)
{
	struct parsed p;
	struct imap_section sec;
	struct str out = STR_INIT(0);
	int unknown = -1;

	parsed_init(&p, "Content-Transfer-Encoding: binary\n\n-\xe4\n\r\n\n",
		    0);
	TEST_ASSERT(imap_section_from_text("1", &sec) == 0);
	TEST_ASSERT(imap_section_binary(p.msg, p.len, &p.m, &sec, &out,
					&unknown) == 0);
	TEST_ASSERT(unknown == 0 && out.len == 6 &&
		    memcmp(out.s, "-\xe4\n\r\n\n", 6) == 0);
	parsed_free(&p);
	str_free(&out);
}

/* A cap on the output: -1 and nothing appended. */
static void test_cap(void)
{
	struct parsed p;
	struct imap_section sec;
	struct str out = STR_INIT(10);

	parsed_init(&p, MSG_MULTIPART, 0);
	TEST_ASSERT(imap_section_from_text("", &sec) == 0);
	TEST_ASSERT(imap_section_get(p.msg, p.len, &p.m, &sec, &out) < 0);
	TEST_ASSERT(out.len == 0);
	TEST_ASSERT(imap_bodystructure_write(p.msg, p.m.root, 1, &out) < 0);
	str_free(&out);
	parsed_free(&p);
}

static void test_strings(void)
{
	struct str out = STR_INIT(0);

	imap_string_write(&out, "plain", 5);
	str_appendc(&out, ' ');
	imap_string_write(&out, "a\"b", 3);
	str_appendc(&out, ' ');
	imap_string_write(&out, "\xc3\xa9", 2);
	str_appendc(&out, ' ');
	imap_string_write(&out, "", 0);
	str_appendc(&out, ' ');
	imap_nstring_write(&out, NULL);
	TEST_STREQ(str_c(&out), "\"plain\" {3}\r\na\"b {2}\r\n\xc3\xa9 \"\" NIL");
	str_free(&out);
}

TEST_MAIN(test_fetch, test_sections, test_binary, test_binary_raw, test_cap, test_strings)
