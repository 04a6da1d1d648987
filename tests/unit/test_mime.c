/*
 * test_mime - header fields, RFC 2047 words, address lists and the MIME
 * tree (common/mail/mail_header.h, rfc2047.h, mail_address.h, mime.h)
 */
#include "test.h"

#include <stdlib.h>

#include "mail/mail_address.h"
#include "mail/mail_header.h"
#include "mail/mime.h"
#include "mail/rfc2047.h"
#include "util/str.h"

static void test_header_fields(void)
{
	const char *h = "Subject: a\r\n b\r\nbroken line\r\nX-A :  v \n"
			"\tcont\nFrom: f\n\nBody: no\n";
	struct mail_header_iter it;
	struct mail_header_field f;
	struct str u = STR_INIT(0);

	mail_header_iter_init(&it, h, strlen(h));
	TEST_ASSERT(mail_header_iter_next(&it, &f) == 1);
	TEST_ASSERT(f.name_len == 7 && memcmp(f.name, "Subject", 7) == 0);
	TEST_ASSERT(f.value_len == 5 && memcmp(f.value, "a\r\n b", 5) == 0);
	TEST_ASSERT(mail_header_unfold(f.value, f.value_len, &u) == 0);
	TEST_STREQ(str_c(&u), "a b");
	TEST_ASSERT(f.field_len == strlen("Subject: a\r\n b\r\n"));
	/* the line without a colon is skipped; blanks before ':' dropped */
	TEST_ASSERT(mail_header_iter_next(&it, &f) == 1);
	TEST_ASSERT(mail_header_name_is(&f, "x-a"));
	TEST_ASSERT(f.value_len == 8 && memcmp(f.value, "v \n\tcont", 8) == 0);
	TEST_ASSERT(mail_header_iter_next(&it, &f) == 1);
	TEST_ASSERT(mail_header_name_is(&f, "FROM"));
	/* the empty line ends the header */
	TEST_ASSERT(mail_header_iter_next(&it, &f) == 0);
	TEST_ASSERT(mail_header_find(h, strlen(h), "from", &f) == 1);
	TEST_ASSERT(mail_header_find(h, strlen(h), "body", &f) == 0);
	str_free(&u);
}

static const struct {
	const char *in, *out;
} rfc2047_cases[] = {
	{ "plain text", "plain text" },
	{ "=?iso-8859-1?q?caf=E9?=", "caf\xc3\xa9" },
	{ "=?ISO-8859-1?Q?a_b?= c", "a b c" },
	{ "=?utf-8?b?w6k=?=", "\xc3\xa9" },
	{ "=?utf-8?b?w6k?=", "\xc3\xa9" },		/* no padding */
	{ "=?utf-8?b?w6k==?=", "\xc3\xa9" },	/* too much */
	{ "=?utf-8?b?w6kxM?=", "\xc3\xa9" "1" },	/* bits left over */
	{ "=?utf-8?b?w6k=x?=", "=?utf-8?b?w6k=x?=" },
	/* blanks between words vanish; one character split in two words */
	{ "=?utf-8?b?w6k=?= \r\n =?utf-8?b?w6k=?=", "\xc3\xa9\xc3\xa9" },
	{ "=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "\xe2\x82\xac" },
	/* but not between a word and text */
	{ "=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c" },
	{ "=?windows-1252?q?=80?=", "\xe2\x82\xac" },
	{ "=?iso-8859-15?q?=A4?=", "\xe2\x82\xac" },
	{ "=?utf-8*en?q?x?=", "x" },			/* RFC 2231 language */
	/* invalid or unknown words stay as they are */
	{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
	{ "=?no-such-charset?q?abc?=", "=?no-such-charset?q?abc?=" },
	{ "=?utf-8?q?a b?=", "=?utf-8?q?a b?=" },
	{ "=?utf-8?b?###?=", "=?utf-8?b?###?=" },
	{ "=?utf-8?q?unterminated", "=?utf-8?q?unterminated" },
	/* bytes that are not UTF-8 become U+FFFD */
	{ "=?utf-8?q?=FF?=", "\xef\xbf\xbd" },
	{ "=?us-ascii?q?=E9?=", "\xef\xbf\xbd" },
};

static void test_rfc2047(void)
{
	for (size_t i = 0; i < sizeof(rfc2047_cases) / sizeof(rfc2047_cases[0]);
	     i++) {
		struct str out = STR_INIT(0);

		TEST_ASSERT(rfc2047_decode(rfc2047_cases[i].in,
					   strlen(rfc2047_cases[i].in),
					   &out) == 0);
		TEST_STREQ(str_c(&out), rfc2047_cases[i].out);
		str_free(&out);
	}
}

static void test_rfc2047_cap(void)
{
	struct str out = STR_INIT(4);

	TEST_ASSERT(rfc2047_decode("=?utf-8?q?abcdef?=", 18, &out) < 0);
	str_clear(&out);
	TEST_ASSERT(rfc2047_decode("=?utf-8?b?YWJjZGVm?=", 20, &out) < 0);
	str_clear(&out);
	TEST_ASSERT(rfc2047_decode("=?utf-8?b?YWJjZA?=", 18, &out) == 0);
	TEST_STREQ(str_c(&out), "abcd");
	str_free(&out);
}

/* Render a list as "name|route|mailbox|domain;" entries, "-" for NULL. */
static const char *addr_render(const char *in, struct str *out)
{
	struct mail_address_list l;

	str_clear(out);
	mail_address_parse(in, strlen(in), &l);
	for (size_t i = 0; i < l.n; i++)
		str_appendf(out, "%s|%s|%s|%s;",
			    l.a[i].name ? l.a[i].name : "-",
			    l.a[i].route ? l.a[i].route : "-",
			    l.a[i].mailbox ? l.a[i].mailbox : "-",
			    l.a[i].domain ? l.a[i].domain : "-");
	mail_address_list_free(&l);
	return str_c(out);
}

static const struct {
	const char *in, *out;
} addr_cases[] = {
	{ "", "" },
	{ "  ", "" },
	{ "a@b.c", "-|-|a|b.c;" },
	{ "Joe Q. Public <j@x.test>", "Joe Q. Public|-|j|x.test;" },
	{ "\"Doe, J\\\"r\" <j@x>", "Doe, J\"r|-|j|x;" },
	{ "<boss@nil.test>", "-|-|boss|nil.test;" },
	{ "u@d (Real Name)", "Real Name|-|u|d;" },
	{ "\"quoted local\"@d", "-|-|quoted local|d;" },
	{ "a . b @ c . d", "-|-|a.b|c.d;" },
	{ "x@[1.2.3.4]", "-|-|x|[1.2.3.4];" },
	{ "<@r1,@r2:u@d>", "-|@r1,@r2|u|d;" },
	{ "G: a@b, C <c@d>;", "-|-|G|-;-|-|a|b;C|-|c|d;-|-|-|-;" },
	{ "Undisclosed recipients:;", "-|-|Undisclosed recipients|-;-|-|-|-;" },
	{ "a@b, G:;, c@d", "-|-|a|b;-|-|G|-;-|-|-|-;-|-|c|d;" },
	{ "foo", "-|-|foo|MISSING_DOMAIN;" },
	{ "bad@, u@d", "-|-|bad|MISSING_DOMAIN;-|-|u|d;" },
	{ "Name <broken", "Name|-|broken|MISSING_DOMAIN;" },
	{ "Name <a@b", "Name|-|a|b;" },
	{ "Name <a@b x>, c@d", "Name|-|a|SYNTAX_ERROR;" },
	{ "=?utf-8?q?x?= <a@b>", "=?utf-8?q?x?=|-|a|b;" },
	{ "J\xc3\xb6rg <j@\xc3\xa9.x>", "J\xc3\xb6rg|-|j|\xc3\xa9.x;" },
	{ "a@b (unclosed", "unclosed|-|a|MISSING_DOMAIN;" },
};

static void test_addresses(void)
{
	struct str out = STR_INIT(0);

	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]);
	     i++) {
		const char *got = addr_render(addr_cases[i].in, &out);

		if (strcmp(got, addr_cases[i].out) != 0)
			printf("  case %zu: %s\n", i, addr_cases[i].in);
		TEST_STREQ(got, addr_cases[i].out);
	}
	str_free(&out);
}

/* "LF" to "CRLF" */
static char *crlf_of(const char *s, size_t *len_r)
{
	struct str o = STR_INIT(0);

	mime_crlf_append(&o, s, strlen(s));
	*len_r = o.len;
	return str_steal(&o);
}

/* The tree as text: type/subtype [hdr_vsize+body_vsize,lines] (children) */
static void tree_render(const struct mime_part *p, struct str *out)
{
	str_appendf(out, "%s/%s[%zu+%zu,%zu]",
		    p->type ? p->type : "-", p->subtype ? p->subtype : "-",
		    p->hdr_vsize, p->body_vsize, p->body_lines);
	if (p->children == NULL)
		return;
	str_appendc(out, '(');
	for (const struct mime_part *c = p->children; c != NULL; c = c->next)
		tree_render(c, out);
	str_appendc(out, ')');
}

static const struct {
	const char *msg, *tree;
} tree_cases[] = {
	{ "", "-/-[0+0,0]" },
	{ "Subject: x", "-/-[10+0,0]" },
	{ "Subject: x\n\n", "-/-[14+0,0]" },
	{ "Subject: x\n\nbody", "-/-[14+4,0]" },
	{ "\nbody\n", "-/-[2+6,1]" },
	/* preamble, epilogue, the line end before a delimiter */
	{ "Content-Type: multipart/mixed; boundary=b\n\npre\n--b\n\none\n"
	  "--b\nContent-Type: text/html\n\n<p>\n--b--\nepi\n",
	  "multipart/mixed[45+66,10](-/-[2+3,0]text/html[27+3,0])" },
	/* no close delimiter: the last part runs to the end */
	{ "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n",
	  "multipart/mixed[45+12,3](-/-[2+5,1])" },
	/* no delimiter at all: no body parts */
	{ "Content-Type: multipart/mixed; boundary=b\n\nall preamble\n",
	  "multipart/mixed[45+14,1]" },
	/* no boundary parameter: a leaf */
	{ "Content-Type: multipart/mixed\n\n--b\n", "multipart/mixed[33+5,1]" },
	/* an outer delimiter ends the inner multipart; prefixes */
	{ "Content-Type: multipart/mixed; boundary=abc\n\n--abc\n"
	  "Content-Type: multipart/mixed; boundary=abcd\n\n--abcd\n\ninner\n"
	  "--abc\n\nsecond\n--abc--\n",
	  "multipart/mixed[47+98,10](multipart/mixed[48+15,2](-/-[2+5,0])"
	  "-/-[2+6,0])" },
	{ "Content-Type: multipart/mixed; boundary=abcd\n\n--abcd\n"
	  "Content-Type: multipart/mixed; boundary=abc\n\n--abc\n\ninner\n"
	  "--abc--\n--abcd\n\nsecond\n--abcd--\n",
	  "multipart/mixed[48+108,11](multipart/mixed[47+25,4](-/-[2+5,0])"
	  "-/-[2+6,0])" },
	/* message/rfc822 with a multipart inside, the close delimiter's line
	 * end kept in the message (as Dovecot) */
	{ "Content-Type: multipart/mixed; boundary=o\n\n--o\n"
	  "Content-Type: message/rfc822\n\nSubject: in\nContent-Type: "
	  "multipart/alternative; boundary=i\n\n--i\n\nA\n--i--\n--o--\n",
	  "multipart/mixed[45+125,11](message/rfc822[32+81,7]"
	  "(multipart/alternative[64+17,4](-/-[2+1,0])))" },
	/* digest: the default type is message/rfc822 */
	{ "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: a\n\n"
	  "x\n--d--\n", "multipart/digest[46+31,6](-/-[2+15,2](-/-[14+1,0]))" },
};

static void test_tree(void)
{
	for (size_t i = 0; i < sizeof(tree_cases) / sizeof(tree_cases[0]);
	     i++) {
		struct mime_msg m, m2;
		struct str t = STR_INIT(0), t2 = STR_INIT(0);
		const char *error;
		size_t len2;
		char *crlf = crlf_of(tree_cases[i].msg, &len2);

		TEST_ASSERT(mime_parse(tree_cases[i].msg,
				       strlen(tree_cases[i].msg), &m,
				       &error) == 0);
		tree_render(m.root, &t);
		if (strcmp(str_c(&t), tree_cases[i].tree) != 0)
			printf("  case %zu\n", i);
		TEST_STREQ(str_c(&t), tree_cases[i].tree);
		/* the CRLF file gives the same tree and sizes */
		TEST_ASSERT(mime_parse(crlf, len2, &m2, &error) == 0);
		tree_render(m2.root, &t2);
		TEST_STREQ(str_c(&t2), str_c(&t));
		mime_free(&m);
		mime_free(&m2);
		str_free(&t);
		str_free(&t2);
		free(crlf);
	}
}

static const char *param_render(const struct mime_part *p, struct str *out)
{
	str_clear(out);
	for (unsigned i = 0; i < p->nparams; i++)
		str_appendf(out, "%s=%s;", p->params[i].name,
			    p->params[i].value);
	return str_c(out);
}

static void test_params(void)
{
	static const struct {
		const char *ct, *params, *name_utf8;
	} cases[] = {
		{ "text/plain; charset=\"utf-8\"; format=flowed",
		  "charset=utf-8;format=flowed;", NULL },
		{ "text/plain (comment) ; Charset = \"a\\\"b\" (c)",
		  "Charset=a\"b;", NULL },
		/* RFC 2231: sections merged after the plain ones, sorted */
		{ "application/x; name*1=\".pdf\"; z=1; "
		  "name*0*=utf-8'en'%E2%82%AC",
		  "z=1;name*=utf-8'en'%E2%82%AC.pdf;", "\xe2\x82\xac.pdf" },
		{ "application/x; name*0=a; name*1=b", "name=ab;", "ab" },
		/* a non-extended section after an extended one: % escaped */
		{ "application/x; name*0*=''%41; name*1=%",
		  "name*=''%41%25;", "A%" },
		{ "application/x; name*=iso-8859-1''caf%E9",
		  "name*=iso-8859-1''caf%E9;", "caf\xc3\xa9" },
		/* a missing section: kept one by one */
		{ "application/x; name*0=a; name*2=c", "name*0=a;name*2=c;",
		  NULL },
		{ "application/x; name=\"=?utf-8?q?=C3=A9?=\"",
		  "name==?utf-8?q?=C3=A9?=;", "\xc3\xa9" },
		/* broken parameters end the list */
		{ "text/plain; a=1; b; c=3", "a=1;", NULL },
		{ "text/plain; a=\"open", "", NULL },
		{ "text", "", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str msg = STR_INIT(0), out = STR_INIT(0);
		struct mime_msg m;
		const char *error;

		str_appendf(&msg, "Content-Type: %s\n\n", cases[i].ct);
		TEST_ASSERT(mime_parse(msg.s, msg.len, &m, &error) == 0);
		TEST_STREQ(param_render(m.root, &out), cases[i].params);
		str_clear(&out);
		if (cases[i].name_utf8 != NULL) {
			TEST_ASSERT(mime_param_find_decoded(m.root->params,
							    m.root->nparams,
							    "name", &out) == 1);
			TEST_STREQ(str_c(&out), cases[i].name_utf8);
		}
		mime_free(&m);
		str_free(&msg);
		str_free(&out);
	}
}

static void test_content_fields(void)
{
	const char *msg = "Content-Type: TEXT/Plain\nContent-Transfer-Encoding:"
			  " Base64 (x)\nContent-Disposition: attachment; "
			  "filename=a.txt\nContent-Language: en, de-DE\n"
			  "Content-ID: <a@b>\nContent-Description: some\n text\n"
			  "Content-Location: x\nContent-MD5: m\n"
			  "Content-Type: text/html\n\n";
	struct mime_msg m;
	const char *error;
	const struct mime_part *p;

	TEST_ASSERT(mime_parse(msg, strlen(msg), &m, &error) == 0);
	p = m.root;
	TEST_STREQ(p->type, "TEXT");		/* the first one counts */
	TEST_STREQ(p->subtype, "Plain");
	TEST_ASSERT(p->flags & MIME_PART_TEXT);
	TEST_ASSERT(mime_part_is(p, "text", "plain"));
	TEST_STREQ(p->cte, "Base64");
	TEST_STREQ(p->disposition, "attachment");
	TEST_ASSERT(p->ndisp_params == 1);
	TEST_STREQ(p->disp_params[0].value, "a.txt");
	TEST_ASSERT(p->nlanguage == 2);
	TEST_STREQ(p->language[1], "de-DE");
	TEST_STREQ(p->id, "<a@b>");
	TEST_STREQ(p->description, "some text");
	TEST_STREQ(p->location, "x");
	TEST_STREQ(p->md5, "m");
	mime_free(&m);
}

/* Nesting past MIME_DEPTH_MAX stops as an opaque leaf; many parts stop
 * at MIME_PARTS_MAX; both in linear time. */
static void test_limits(void)
{
	struct str msg = STR_INIT(0);
	struct mime_msg m;
	const char *error;
	const struct mime_part *p;
	unsigned depth = 0;

	for (int i = 0; i < 100; i++)
		str_appendf(&msg, "Content-Type: multipart/mixed; "
			    "boundary=b%d\n\n--b%d\n", i, i);
	str_appends(&msg, "\nend\n");
	TEST_ASSERT(mime_parse(msg.s, msg.len, &m, &error) == 0);
	for (p = m.root; p->children != NULL; p = p->children)
		depth++;
	TEST_ASSERT(depth == MIME_DEPTH_MAX);
	TEST_ASSERT(p->flags & MIME_PART_OPAQUE);
	mime_free(&m);

	str_clear(&msg);
	str_appends(&msg, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (int i = 0; i < MIME_PARTS_MAX + 50; i++)
		str_appends(&msg, "--b\n\nx\n");
	TEST_ASSERT(mime_parse(msg.s, msg.len, &m, &error) == 0);
	TEST_ASSERT(m.nparts == MIME_PARTS_MAX);
	TEST_ASSERT(m.root->flags & MIME_PART_OPAQUE);
	mime_free(&m);

	/* many "=?" without an end, many delimiter-like lines */
	str_clear(&msg);
	str_appends(&msg, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (int i = 0; i < 200000; i++)
		str_appends(&msg, "--c\n");
	TEST_ASSERT(mime_parse(msg.s, msg.len, &m, &error) == 0);
	TEST_ASSERT(m.root->nchildren == 0);
	mime_free(&m);
	{
		struct str in = STR_INIT(0), out = STR_INIT(0);

		for (int i = 0; i < 100000; i++)
			str_appends(&in, "=?a?q?");
		TEST_ASSERT(rfc2047_decode(in.s, in.len, &out) == 0);
		TEST_ASSERT(out.len == in.len);
		str_free(&in);
		str_free(&out);
	}
	str_free(&msg);
}

TEST_MAIN(test_header_fields, test_rfc2047, test_rfc2047_cap, test_addresses,
	  test_tree, test_params, test_content_fields, test_limits)
