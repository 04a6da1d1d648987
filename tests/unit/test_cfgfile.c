/*
 * test_cfgfile - the configuration syntax and the value parsers
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/cfgfile.h"
#include "util/str.h"

/* Collects "key=value;" for every setting; refuses the key "bad". */
static int collect_cb(void *arg, const char *key, const char *value,
		      struct str *err)
{
	struct str *seen = arg;

	if (strcmp(key, "bad") == 0) {
		str_appends(err, "bad is refused");
		return -1;
	}
	str_appendf(seen, "%s=%s;", key, value);
	return 0;
}

static int parse(const char *text, struct str *seen, struct str *errors)
{
	str_clear(seen);
	str_clear(errors);
	return cfg_parse_text("t.conf", text, strlen(text), collect_cb, seen,
			      errors);
}

static void test_parse_basic(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);
	const char *text = "# comment\n\n   \t\na = 1\n  b=two words  \n"
		"c =\n\t# indented comment\nd = x # not a comment\n"
		"e = f=g\r\n";

	TEST_ASSERT(parse(text, &seen, &errors) == 0);
	TEST_STREQ(str_c(&seen), "a=1;b=two words;c=;d=x # not a comment;"
		   "e=f=g;");
	TEST_STREQ(str_c(&errors), "");
	str_free(&seen);
	str_free(&errors);
}

static void test_parse_empty(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);

	TEST_ASSERT(parse("", &seen, &errors) == 0);
	TEST_ASSERT(seen.len == 0);
	TEST_ASSERT(parse("\n\n#\n", &seen, &errors) == 0);
	TEST_ASSERT(seen.len == 0);
	TEST_ASSERT(parse("last = line", &seen, &errors) == 0);
	TEST_STREQ(str_c(&seen), "last=line;");
	str_free(&seen);
	str_free(&errors);
}

static void test_parse_no_equals(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);

	TEST_ASSERT(parse("a = 1\njust words\nb = 2\n", &seen, &errors) == 1);
	TEST_STREQ(str_c(&errors), "t.conf:2: expected key = value\n");
	TEST_STREQ(str_c(&seen), "a=1;b=2;");
	str_free(&seen);
	str_free(&errors);
}

static void test_parse_bad_keys(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);

	TEST_ASSERT(parse("Foo = 1\n= 2\nmy-key = 3\na b = 4\n", &seen,
			  &errors) == 4);
	TEST_ASSERT(strstr(str_c(&errors), "t.conf:1: invalid key 'Foo'") !=
		    NULL);
	TEST_ASSERT(strstr(str_c(&errors), "t.conf:2: invalid key ''") !=
		    NULL);
	TEST_ASSERT(strstr(str_c(&errors), "t.conf:3: invalid key 'my-key'")
		    != NULL);
	TEST_ASSERT(strstr(str_c(&errors), "t.conf:4: invalid key 'a b'") !=
		    NULL);
	TEST_ASSERT(seen.len == 0);
	str_free(&seen);
	str_free(&errors);
}

static void test_parse_duplicate_later_seen_last(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);

	TEST_ASSERT(parse("a = 1\na = 2\n", &seen, &errors) == 0);
	TEST_STREQ(str_c(&seen), "a=1;a=2;");
	str_free(&seen);
	str_free(&errors);
}

static void test_parse_callback_error(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);

	TEST_ASSERT(parse("a = 1\nbad = 2\n", &seen, &errors) == 1);
	TEST_STREQ(str_c(&errors), "t.conf:2: bad is refused\n");
	str_free(&seen);
	str_free(&errors);
}

static void test_parse_long_line(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0), text = STR_INIT(0);
	size_t i;

	/* exactly 4096 bytes is allowed, 4097 is not */
	str_appends(&text, "a = ");
	for (i = 4; i < 4096; i++)
		str_appendc(&text, 'x');
	str_appends(&text, "\nb = ");
	for (i = 4; i < 4097; i++)
		str_appendc(&text, 'y');
	str_appends(&text, "\nc = 3\n");
	str_clear(&seen);
	TEST_ASSERT(cfg_parse_text("t.conf", text.s, text.len, collect_cb,
				   &seen, &errors) == 1);
	TEST_STREQ(str_c(&errors), "t.conf:2: line longer than 4096 bytes\n");
	TEST_ASSERT(seen.len == 2 + 4092 + 1 + 4);
	TEST_ASSERT(strstr(str_c(&seen), "c=3;") != NULL);
	str_free(&seen);
	str_free(&errors);
	str_free(&text);
}

static void test_parse_nul(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);
	static const char text[] = "a = 1\nb = x\0y\nc = 3\n";

	TEST_ASSERT(cfg_parse_text("t.conf", text, sizeof(text) - 1,
				   collect_cb, &seen, &errors) == 1);
	TEST_STREQ(str_c(&errors), "t.conf:2: line contains a NUL byte\n");
	TEST_STREQ(str_c(&seen), "a=1;c=3;");
	str_free(&seen);
	str_free(&errors);
}

static void test_parse_file_missing(void)
{
	struct str seen = STR_INIT(0), errors = STR_INIT(0);

	TEST_ASSERT(cfg_parse_file("/nonexistent/postern.conf", collect_cb,
				   &seen, &errors) == 1);
	TEST_STREQ(str_c(&errors),
		   "/nonexistent/postern.conf: No such file or directory\n");
	str_free(&seen);
	str_free(&errors);
}

static void test_duration_ok(void)
{
	static const struct { const char *s; unsigned v; } ok[] = {
		{ "0", 0 }, { "90", 90 }, { "30s", 30 }, { "5m", 300 },
		{ "2h", 7200 }, { "5d", 432000 }, { "0d", 0 },
		{ "4294967295", 4294967295u }, { "4294967295s", 4294967295u },
		{ "49710d", 4294944000u },
	};
	size_t i;
	unsigned v;
	const char *error;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		TEST_ASSERT(cfg_duration(ok[i].s, &v, &error) == 0);
		TEST_ASSERT(v == ok[i].v);
	}
}

static void test_duration_bad(void)
{
	static const char *const bad[] = {
		"", "5x", "-1", "+1", "99999999999d", "4294967296", "49711d",
		"5 m", " 5m", "5m ", "m", "5mm", "1.5h", "5M", "0x10",
		"99999999999999999999999",
	};
	size_t i;
	unsigned v = 7;
	const char *error;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		TEST_ASSERT(cfg_duration(bad[i], &v, &error) == -1);
		TEST_ASSERT(error != NULL);
	}
	TEST_ASSERT(v == 7);
	TEST_ASSERT(cfg_duration("5x", &v, &error) == -1);
	TEST_STREQ(error, "unknown suffix (use s, m, h or d)");
	TEST_ASSERT(cfg_duration("", &v, &error) == -1);
	TEST_STREQ(error, "empty value");
}

static void test_size(void)
{
	uint64_t v;
	const char *error;

	TEST_ASSERT(cfg_size("0", &v, &error) == 0 && v == 0);
	TEST_ASSERT(cfg_size("52428800", &v, &error) == 0 && v == 52428800);
	TEST_ASSERT(cfg_size("10k", &v, &error) == 0 && v == 10240);
	TEST_ASSERT(cfg_size("10K", &v, &error) == 0 && v == 10240);
	TEST_ASSERT(cfg_size("50m", &v, &error) == 0 && v == 52428800);
	TEST_ASSERT(cfg_size("2G", &v, &error) == 0 && v == 2147483648u);
	TEST_ASSERT(cfg_size("18446744073709551615", &v, &error) == 0 &&
		    v == UINT64_MAX);
	TEST_ASSERT(cfg_size("17179869183g", &v, &error) == 0 &&
		    v == 17179869183ull << 30);
	TEST_ASSERT(cfg_size("17179869184g", &v, &error) == -1);
	TEST_ASSERT(cfg_size("18446744073709551616", &v, &error) == -1);
	TEST_ASSERT(cfg_size("", &v, &error) == -1);
	TEST_ASSERT(cfg_size("10t", &v, &error) == -1);
	TEST_ASSERT(cfg_size("10kb", &v, &error) == -1);
	TEST_ASSERT(cfg_size("-1", &v, &error) == -1);
	TEST_ASSERT(cfg_size("1 k", &v, &error) == -1);
}

static void test_bool_uint(void)
{
	int b = 5;
	unsigned u;
	const char *error;

	TEST_ASSERT(cfg_bool("yes", &b, &error) == 0 && b == 1);
	TEST_ASSERT(cfg_bool("OFF", &b, &error) == 0 && b == 0);
	TEST_ASSERT(cfg_bool("True", &b, &error) == 0 && b == 1);
	TEST_ASSERT(cfg_bool("0", &b, &error) == 0 && b == 0);
	TEST_ASSERT(cfg_bool("1", &b, &error) == 0 && b == 1);
	TEST_ASSERT(cfg_bool("", &b, &error) == -1);
	TEST_ASSERT(cfg_bool("yess", &b, &error) == -1);
	TEST_ASSERT(cfg_bool("2", &b, &error) == -1);
	TEST_ASSERT(cfg_uint("65535", 65535, &u, &error) == 0 && u == 65535);
	TEST_ASSERT(cfg_uint("65536", 65535, &u, &error) == -1);
	TEST_ASSERT(cfg_uint("0", 10, &u, &error) == 0 && u == 0);
	TEST_ASSERT(cfg_uint("", 10, &u, &error) == -1);
	TEST_ASSERT(cfg_uint("1k", 10000, &u, &error) == -1);
	TEST_ASSERT(cfg_uint("4294967296", 4294967295u, &u, &error) == -1);
}

static void test_list(void)
{
	char **v;
	size_t n;
	const char *error;

	TEST_ASSERT(cfg_list("a, b ,\tc", &v, &n, &error) == 0);
	TEST_ASSERT(n == 3);
	TEST_STREQ(v[0], "a");
	TEST_STREQ(v[1], "b");
	TEST_STREQ(v[2], "c");
	TEST_ASSERT(v[3] == NULL);
	free(v);
	TEST_ASSERT(cfg_list("", &v, &n, &error) == 0 && n == 0);
	free(v);
	TEST_ASSERT(cfg_list("  ", &v, &n, &error) == 0 && n == 0);
	free(v);
	TEST_ASSERT(cfg_list("one", &v, &n, &error) == 0 && n == 1);
	TEST_STREQ(v[0], "one");
	free(v);
	TEST_ASSERT(cfg_list("a,,b", &v, &n, &error) == -1);
	TEST_STREQ(error, "empty item in list");
	TEST_ASSERT(v == NULL && n == 0);
	TEST_ASSERT(cfg_list("a,", &v, &n, &error) == -1);
	TEST_ASSERT(cfg_list(",a", &v, &n, &error) == -1);
	TEST_ASSERT(cfg_list("a, ,b", &v, &n, &error) == -1);
}

static void test_hostports_v4(void)
{
	struct hostport *hp;
	size_t n;
	const char *error;
	const struct sockaddr_in *sin;

	TEST_ASSERT(cfg_hostports("127.0.0.1:25, 10.0.0.1:587", &hp, &n,
				  &error) == 0);
	TEST_ASSERT(n == 2);
	TEST_STREQ(hp[0].host, "127.0.0.1");
	TEST_ASSERT(hp[0].port == 25);
	sin = (const struct sockaddr_in *)&hp[0].addr;
	TEST_ASSERT(hp[0].addrlen == sizeof(*sin));
	TEST_ASSERT(sin->sin_family == AF_INET);
	TEST_ASSERT(ntohs(sin->sin_port) == 25);
	TEST_ASSERT(ntohl(sin->sin_addr.s_addr) == 0x7f000001);
	TEST_ASSERT(hp[1].port == 587);
	free(hp);
	TEST_ASSERT(cfg_hostports("", &hp, &n, &error) == 0 && n == 0);
	TEST_ASSERT(hp == NULL);
}

static void test_hostports_v6_wildcard(void)
{
	struct hostport *hp;
	size_t n;
	const char *error;
	const struct sockaddr_in6 *sin6;

	TEST_ASSERT(cfg_hostports("[::1]:587,*:25,:110", &hp, &n,
				  &error) == 0);
	TEST_ASSERT(n == 3);
	TEST_STREQ(hp[0].host, "::1");
	sin6 = (const struct sockaddr_in6 *)&hp[0].addr;
	TEST_ASSERT(sin6->sin6_family == AF_INET6);
	TEST_ASSERT(ntohs(sin6->sin6_port) == 587);
	TEST_ASSERT(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	TEST_ASSERT(hp[0].addrlen == sizeof(*sin6));
	TEST_STREQ(hp[1].host, "");
	TEST_ASSERT(hp[1].port == 25 && hp[1].addrlen == 0);
	TEST_STREQ(hp[2].host, "");
	TEST_ASSERT(hp[2].port == 110 && hp[2].addrlen == 0);
	free(hp);
}

static void test_hostports_bad(void)
{
	static const char *const bad[] = {
		"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1", "127.0.0.1:",
		"localhost:25", "::1:25", "[::1]", "[::1]25", "[::1:25",
		"[127.0.0.1]:25", "[nothost]:25", "*:25,,*:26", "*:", "*",
		"1.2.3.4:25x", "1.2.3:25", "*:-1", "[]:25", "*:25,",
		"example.org:25",
	};
	struct hostport *hp = (void *)1;
	size_t i, n = 9;
	const char *error;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		TEST_ASSERT(cfg_hostports(bad[i], &hp, &n, &error) == -1);
		TEST_ASSERT(error != NULL);
		TEST_ASSERT(hp == NULL && n == 0);
	}
	TEST_ASSERT(cfg_hostports("127.0.0.1:65535,*:1", &hp, &n,
				  &error) == 0 && n == 2);
	free(hp);
	TEST_ASSERT(cfg_hostports("localhost:25", &hp, &n, &error) == -1);
	TEST_ASSERT(strstr(error, "numeric") != NULL);
	TEST_ASSERT(cfg_hostports("::1:25", &hp, &n, &error) == -1);
	TEST_ASSERT(strstr(error, "brackets") != NULL);
}

TEST_MAIN(test_parse_basic, test_parse_empty, test_parse_no_equals,
	  test_parse_bad_keys, test_parse_duplicate_later_seen_last,
	  test_parse_callback_error, test_parse_long_line, test_parse_nul,
	  test_parse_file_missing, test_duration_ok, test_duration_bad,
	  test_size, test_bool_uint, test_list, test_hostports_v4,
	  test_hostports_v6_wildcard, test_hostports_bad)
