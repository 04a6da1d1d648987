/*
 * test_usermap - etc/passwd and etc/aliases parsing, editing, writing,
 * cdb builds, and the address checks used by "postern user/alias"
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/conf.h"
#include "master/usermap.h"
#include "test.h"
#include "util/cdbmap.h"
#include "util/str.h"

/* Parse text as kind; returns the number of errors, messages in errs. */
static int parse(struct usermap *m, enum usermap_kind kind, const char *text,
		 struct str *errs)
{
	usermap_init(m, kind);
	str_clear(errs);
	return usermap_parse(m, "passwd", text, strlen(text), errs);
}

/* The normalised form of addr, or the error text. */
static const char *check(const char *addr)
{
	static struct str out = STR_INIT(0);
	const char *error;

	if (usermap_addr_check(addr, &out, &error) < 0)
		return error;
	return str_c(&out);
}

static void test_passwd_basic(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_PASSWD,
			  "# users\n\n  \t\nbob@example.test:{CRYPT}$y$abc\n"
			  "ann@example.test:{PLAIN}pw:1000:1000::/home/ann::"
			  "userdb_quota=1G\n", &errs) == 0);
	TEST_STREQ(str_c(&errs), "");
	TEST_ASSERT(m.n == 5);
	TEST_STREQ(usermap_get(&m, "bob@example.test")->value, "{CRYPT}$y$abc");
	TEST_STREQ(usermap_get(&m, "bob@example.test")->extra, "");
	TEST_STREQ(usermap_get(&m, "ann@example.test")->value, "{PLAIN}pw");
	TEST_STREQ(usermap_get(&m, "ann@example.test")->extra,
		   ":1000:1000::/home/ann::userdb_quota=1G");
	TEST_ASSERT(usermap_get(&m, "nobody@example.test") == NULL);
	usermap_free(&m);
	str_free(&errs);
}

static void test_passwd_missing_colon(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_PASSWD,
			  "# c\nbob@example.test:x\nnocolon\n", &errs) == 1);
	TEST_STREQ(str_c(&errs),
		   "passwd:3: missing ':' (expected user:password)\n");
	usermap_free(&m);
	str_free(&errs);
}

static void test_passwd_crlf(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0), out = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_PASSWD,
			  "#x\r\nbob@example.test:hash\r\n", &errs) == 0);
	TEST_STREQ(usermap_get(&m, "bob@example.test")->value, "hash");
	usermap_format(&m, &out);
	TEST_STREQ(str_c(&out), "#x\nbob@example.test:hash\n");
	usermap_free(&m);
	str_free(&errs);
	str_free(&out);
}

static void test_passwd_no_final_newline(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_PASSWD, "a@b.c:x\nd@e.f:y", &errs) == 0);
	TEST_ASSERT(m.n == 2);
	TEST_STREQ(usermap_get(&m, "d@e.f")->value, "y");
	usermap_free(&m);
	str_free(&errs);
}

static void test_passwd_case_kept_in_text(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0), out = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_PASSWD, "Bob@Example.TEST:h\n",
			  &errs) == 0);
	TEST_STREQ(m.v[0].key, "bob@example.test");
	usermap_format(&m, &out);
	TEST_STREQ(str_c(&out), "Bob@Example.TEST:h\n");
	usermap_free(&m);
	str_free(&errs);
	str_free(&out);
}

static void test_passwd_bad_lines(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_PASSWD,
			  "bob@example.test:\nbob:hash\n"
			  "x@y.z:a\001b\nann@a.b:h\nANN@a.b:h2\n", &errs) == 4);
	TEST_STREQ(str_c(&errs),
		   "passwd:1: empty password field\n"
		   "passwd:2: bad address: missing '@' (expected local@domain)\n"
		   "passwd:3: control character in line\n"
		   "passwd:5: duplicate entry for ann@a.b (first on line 4)\n");
	usermap_free(&m);
	str_free(&errs);
}

static void test_passwd_nul_byte(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	usermap_init(&m, USERMAP_PASSWD);
	TEST_ASSERT(usermap_parse(&m, "p", "a@b.c:x\0y\n", 10, &errs) == 1);
	TEST_STREQ(str_c(&errs), "p:1: control character in line\n");
	usermap_free(&m);
	str_free(&errs);
}

static void test_aliases_parse(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_ALIASES,
			  "# aliases\n  Postmaster@Example.test :  bob@example.test,"
			  "Ann@Remote.example\t,x@y.z\nabuse@example.test:bob@example.test\n",
			  &errs) == 0);
	TEST_STREQ(str_c(&errs), "");
	TEST_STREQ(usermap_get(&m, "postmaster@example.test")->value,
		   "bob@example.test,ann@remote.example,x@y.z");
	TEST_STREQ(usermap_get(&m, "abuse@example.test")->value,
		   "bob@example.test");
	TEST_ASSERT(usermap_get(&m, "abuse@example.test")->extra == NULL);
	usermap_free(&m);
	str_free(&errs);
}

static void test_aliases_bad_lines(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_ALIASES,
			  "a@b.c bob@b.c\na@b.c: x@b.c,,y@b.c\na@b.c:\n"
			  "a@b.c: a@B.c\na@b.c: bob\n", &errs) == 5);
	TEST_STREQ(str_c(&errs),
		   "passwd:1: missing ':' (expected alias: target, ...)\n"
		   "passwd:2: empty target\n"
		   "passwd:3: empty target\n"
		   "passwd:4: alias has itself as a target\n"
		   "passwd:5: bad address: missing '@' (expected local@domain)\n");
	TEST_ASSERT(m.n == 0);
	usermap_free(&m);
	str_free(&errs);
}

static void test_aliases_too_many_targets(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0), text = STR_INIT(0);

	str_appends(&text, "a@b.c: ");
	for (unsigned i = 0; i <= USERMAP_TARGETS_MAX; i++)
		str_appendf(&text, "%su%u@b.c", i ? "," : "", i);
	usermap_init(&m, USERMAP_ALIASES);
	TEST_ASSERT(usermap_parse(&m, "aliases", text.s, text.len, &errs) == 1);
	TEST_STREQ(str_c(&errs), "aliases:1: more than 1000 targets\n");
	usermap_free(&m);
	str_free(&errs);
	str_free(&text);
}

static void test_addr_valid(void)
{
	TEST_STREQ(check("bob@example.test"), "bob@example.test");
	TEST_STREQ(check("a.b+tag_x-y@mail.example.test"),
		   "a.b+tag_x-y@mail.example.test");
	TEST_STREQ(check("!#$&'*+=?^_`{|}~-@x"), "!#$&'*+=?^_`{|}~-@x");
	TEST_STREQ(check("x@localhost"), "x@localhost");
}

static void test_addr_lowered(void)
{
	TEST_STREQ(check("Bob.Smith@Example.TEST"), "bob.smith@example.test");
}

static void test_addr_length(void)
{
	char local[80];

	memset(local, 'a', 64);
	memcpy(local + 64, "@e.test", 8);
	TEST_STREQ(check(local), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "aaaaaaaaaaaaaaaaa@e.test");
	memset(local, 'a', 65);
	memcpy(local + 65, "@e.test", 8);
	TEST_STREQ(check(local), "local part longer than 64 characters");
}

static void test_addr_dots(void)
{
	TEST_STREQ(check(".bob@e.test"), "local part starts or ends with '.'");
	TEST_STREQ(check("bob.@e.test"), "local part starts or ends with '.'");
	TEST_STREQ(check("b..ob@e.test"), "local part contains \"..\"");
	TEST_STREQ(check(".@e.test"), "local part starts or ends with '.'");
	TEST_STREQ(check("..@e.test"), "local part starts or ends with '.'");
}

static void test_addr_bad_chars(void)
{
	TEST_STREQ(check("a/b@e.test"), "'/' is not allowed in an address");
	TEST_STREQ(check("a%b@e.test"), "character not allowed in local part");
	TEST_STREQ(check("a b@e.test"), "character not allowed in local part");
	TEST_STREQ(check("a@b@e.test"), "character not allowed in domain");
	TEST_STREQ(check("\xc3\xa9@e.test"), "character not allowed in local part");
	TEST_STREQ(check("a@e/test"), "character not allowed in domain");
}

static void test_addr_missing_parts(void)
{
	TEST_STREQ(check(""), "empty address");
	TEST_STREQ(check("bob"), "missing '@' (expected local@domain)");
	TEST_STREQ(check("@e.test"), "empty local part (expected local@domain)");
	TEST_STREQ(check("bob@"), "empty domain");
}

static void test_domain_check(void)
{
	const char *error;
	char big[300];

	TEST_ASSERT(usermap_domain_check("Example.TEST", &error) == 0);
	TEST_ASSERT(usermap_domain_check("a-b.c0", &error) == 0);
	TEST_ASSERT(usermap_domain_check("e.test.", &error) < 0);
	TEST_STREQ(error, "domain has an empty label");
	TEST_ASSERT(usermap_domain_check("a..b", &error) < 0);
	TEST_ASSERT(usermap_domain_check("-a.b", &error) < 0);
	TEST_STREQ(error, "domain label starts or ends with '-'");
	TEST_ASSERT(usermap_domain_check("a_b.c", &error) < 0);
	TEST_STREQ(error, "character not allowed in domain");
	memset(big, 'a', 64);
	memcpy(big + 64, ".b", 3);
	TEST_ASSERT(usermap_domain_check(big, &error) < 0);
	TEST_STREQ(error, "domain label longer than 63 characters");
	for (int i = 0; i < 127; i++)
		memcpy(big + 2 * i, "a.", 2);
	big[254] = '\0';
	TEST_ASSERT(usermap_domain_check(big, &error) < 0);
	TEST_STREQ(error, "domain longer than 253 characters");
}

static void test_addr_too_long(void)
{
	char addr[300];

	memcpy(addr, "a@", 2);
	for (int i = 0; i < 126; i++)
		memcpy(addr + 2 + 2 * i, "b.", 2);
	memcpy(addr + 254, "c", 2);
	TEST_STREQ(check(addr), "address longer than 254 characters");
}

static void test_domain_not_local(void)
{
	char *v[] = { "example.test", "Other.Example" };
	struct conf_list domains = { v, 2 };

	TEST_ASSERT(usermap_domain_listed("bob@example.test", &domains) == 1);
	TEST_ASSERT(usermap_domain_listed("bob@other.example", &domains) == 1);
	TEST_ASSERT(usermap_domain_listed("bob@EXAMPLE.test", &domains) == 1);
	TEST_ASSERT(usermap_domain_listed("bob@remote.example", &domains) == 0);
	TEST_ASSERT(usermap_domain_listed("bob@sub.example.test", &domains) == 0);
	TEST_ASSERT(usermap_domain_listed("bob", &domains) == 0);
}

static void test_passwd_round_trip(void)
{
	struct usermap m, m2;
	struct str errs = STR_INIT(0), out = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_PASSWD,
			  "# head\nann@e.test:old:1:2::/h::\nbob@e.test:b\n",
			  &errs) == 0);
	TEST_ASSERT(usermap_set(&m, "ann@e.test", "{CRYPT}$y$new") == 1);
	TEST_ASSERT(usermap_set(&m, "cat@e.test", "{CRYPT}$y$cat") == 0);
	TEST_ASSERT(usermap_del(&m, "bob@e.test") == 1);
	TEST_ASSERT(usermap_del(&m, "bob@e.test") == 0);
	usermap_format(&m, &out);
	TEST_STREQ(str_c(&out), "# head\nann@e.test:{CRYPT}$y$new:1:2::/h::\n"
		   "cat@e.test:{CRYPT}$y$cat\n");
	TEST_ASSERT(parse(&m2, USERMAP_PASSWD, str_c(&out), &errs) == 0);
	TEST_ASSERT(m2.n == 3);
	TEST_STREQ(usermap_get(&m2, "cat@e.test")->value, "{CRYPT}$y$cat");
	TEST_STREQ(usermap_get(&m2, "ann@e.test")->value, "{CRYPT}$y$new");
	usermap_free(&m);
	usermap_free(&m2);
	str_free(&errs);
	str_free(&out);
}

static void test_aliases_round_trip(void)
{
	struct usermap m, m2;
	struct str errs = STR_INIT(0), out = STR_INIT(0);

	TEST_ASSERT(parse(&m, USERMAP_ALIASES, "# a\nx@e.test:y@e.test\n",
			  &errs) == 0);
	TEST_ASSERT(usermap_set(&m, "p@e.test", "y@e.test,z@r.example") == 0);
	usermap_format(&m, &out);
	TEST_STREQ(str_c(&out), "# a\nx@e.test:y@e.test\n"
		   "p@e.test: y@e.test, z@r.example\n");
	TEST_ASSERT(parse(&m2, USERMAP_ALIASES, str_c(&out), &errs) == 0);
	TEST_STREQ(usermap_get(&m2, "p@e.test")->value, "y@e.test,z@r.example");
	usermap_free(&m);
	usermap_free(&m2);
	str_free(&errs);
	str_free(&out);
}

static void test_sorted(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);
	const struct usermap_line **v;
	size_t n;

	TEST_ASSERT(parse(&m, USERMAP_PASSWD, "c@e.t:1\n#x\na@e.t:2\nb@e.t:3\n",
			  &errs) == 0);
	v = usermap_sorted(&m, &n);
	TEST_ASSERT(n == 3);
	TEST_STREQ(v[0]->key, "a@e.t");
	TEST_STREQ(v[1]->key, "b@e.t");
	TEST_STREQ(v[2]->key, "c@e.t");
	free(v);
	usermap_free(&m);
	str_free(&errs);
}

static void test_build_cdb(void)
{
	char dir[] = "/tmp/test_usermap.XXXXXX";
	struct str path = STR_INIT(0), val = STR_INIT(0), errs = STR_INIT(0);
	struct usermap m;
	struct cdbmap map;
	const char *error;

	TEST_ASSERT(mkdtemp(dir) != NULL);
	str_appendf(&path, "%s/passwd.cdb", dir);
	TEST_ASSERT(parse(&m, USERMAP_PASSWD, "a@e.t:h1\n#c\nb@e.t:h2\n",
			  &errs) == 0);
	TEST_ASSERT(usermap_build_cdb(&m, str_c(&path), 0640, 1, &error) == 0);
	TEST_ASSERT(cdbmap_open(&map, str_c(&path), &error) == 0);
	TEST_ASSERT(cdbmap_lookup(&map, "b@e.t", 5, &val) == 1);
	TEST_STREQ(str_c(&val), "h2");
	TEST_ASSERT(cdbmap_lookup(&map, "c@e.t", 5, &val) == 0);
	cdbmap_close(&map);
	TEST_ASSERT(usermap_build_cdb(&m, str_c(&path), 0644, 0, &error) == 0);
	TEST_ASSERT(cdbmap_open(&map, str_c(&path), &error) == 0);
	TEST_ASSERT(cdbmap_lookup(&map, "a@e.t", 5, &val) == 1);
	TEST_ASSERT(val.len == 0);
	cdbmap_close(&map);
	unlink(str_c(&path));
	rmdir(dir);
	usermap_free(&m);
	str_free(&path);
	str_free(&val);
	str_free(&errs);
}

static void test_load_missing_file(void)
{
	struct usermap m;
	struct str errs = STR_INIT(0);

	usermap_init(&m, USERMAP_ALIASES);
	TEST_ASSERT(usermap_load(&m, "/nonexistent/aliases", "aliases",
				 &errs) == 0);
	TEST_ASSERT(m.n == 0);
	TEST_ASSERT(usermap_load(&m, "/", "root", &errs) == 1);
	TEST_ASSERT(strncmp(str_c(&errs), "root: ", 6) == 0);
	usermap_free(&m);
	str_free(&errs);
}

TEST_MAIN(test_passwd_basic, test_passwd_missing_colon, test_passwd_crlf,
	  test_passwd_no_final_newline, test_passwd_case_kept_in_text,
	  test_passwd_bad_lines, test_passwd_nul_byte, test_aliases_parse,
	  test_aliases_bad_lines, test_aliases_too_many_targets,
	  test_addr_valid, test_addr_lowered, test_addr_length, test_addr_dots,
	  test_addr_bad_chars, test_addr_missing_parts, test_domain_check,
	  test_addr_too_long, test_domain_not_local, test_passwd_round_trip,
	  test_aliases_round_trip, test_sorted, test_build_cdb,
	  test_load_missing_file)
