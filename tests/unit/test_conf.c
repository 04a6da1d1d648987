/*
 * test_conf - loading, checking, printing and editing postern.conf
 *
 * Every test writes its files under one mkdtemp directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/conf.h"
#include "mail/services.h"
#include "test.h"
#include "util/cfgfile.h"
#include "util/fileio.h"
#include "util/str.h"

static char test_dir[] = "/tmp/test_conf.XXXXXX";

/* Write text to test_dir/name and return the path (static buffer). */
static const char *conf_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return "/nonexistent";
	fputs(text, f);
	fclose(f);
	return path;
}

static char *read_text(const char *path)
{
	struct str s = STR_INIT(0);

	if (file_read_all(path, &s, 1 << 20) < 0)
		return NULL;
	return str_steal(&s);
}

/* Load text and return the error count; errors into *err. */
static int load(struct conf *c, const char *text, struct str *err)
{
	str_clear(err);
	return conf_load(c, conf_file("t.conf", text), err);
}

static int get_is(const struct conf *c, const char *key, const char *want)
{
	struct str v = STR_INIT(0);
	int ok = conf_get_text(c, key, &v) == 0 && strcmp(str_c(&v), want) == 0;

	if (!ok)
		printf("  %s is '%s', expected '%s'\n", key, str_c(&v), want);
	str_free(&v);
	return ok;
}

static void test_defaults(void)
{
	struct conf c;
	struct str err = STR_INIT(0);

	TEST_ASSERT(load(&c, "", &err) == 0);
	TEST_STREQ(str_c(&err), "");
	TEST_ASSERT(c.listen_smtp.n == 1 && c.listen_smtp.v[0].port == 25);
	TEST_ASSERT(c.listen_smtp.v[0].addrlen == 0);
	TEST_ASSERT(c.listen_imaps.v[0].port == 993);
	TEST_STREQ(c.mail_root, "/var/mail/postern");
	TEST_STREQ(c.queue_dir, "/var/spool/postern");
	TEST_ASSERT(c.remote_port == 25);
	TEST_ASSERT(c.message_size_limit == 52428800);
	TEST_ASSERT(c.queue_lifetime == 5 * 86400);
	TEST_ASSERT(c.retry_min == 60 && c.retry_max == 3600);
	TEST_ASSERT(c.auth_failure_delay == 2);
	TEST_ASSERT(c.auth_failure_delay_max == 15);
	TEST_ASSERT(c.auth_failure_window == 900);
	TEST_STREQ(c.relay_host, "");
	TEST_STREQ(c.log_file, "");
	TEST_ASSERT(c.hostname != NULL && c.hostname[0] != '\0');
	TEST_ASSERT(c.local_domains.n == 1);
	TEST_ASSERT(conf_domain_is_local(&c, c.hostname));
	conf_free(&c);
	str_free(&err);
}

static void test_derived_paths(void)
{
	struct conf c;
	struct str err = STR_INIT(0), want = STR_INIT(0), p = STR_INIT(0);
	char *real = realpath(test_dir, NULL);

	TEST_ASSERT(load(&c, "hostname = mx.example.org\n", &err) == 0);
	TEST_ASSERT(real != NULL);
	str_appendf(&want, "%s/t.conf", real);
	TEST_STREQ(c.config_path, str_c(&want));
	TEST_STREQ(c.etc_dir, real);
	str_clear(&want);
	str_appendf(&want, "%s/tls.crt", real);
	TEST_STREQ(c.tls_cert, str_c(&want));
	str_clear(&want);
	str_appendf(&want, "%s/tls.key", real);
	TEST_STREQ(c.tls_key, str_c(&want));
	TEST_ASSERT(conf_etc_path(&c, "users.cdb", &p) == 0);
	str_clear(&want);
	str_appendf(&want, "%s/users.cdb", real);
	TEST_STREQ(str_c(&p), str_c(&want));
	TEST_ASSERT(conf_queue_path(&c, "pid/status", &p) == 0);
	TEST_STREQ(str_c(&p), "/var/spool/postern/pid/status");
	TEST_STREQ(c.hostname, "mx.example.org");
	TEST_ASSERT(c.local_domains.n == 1);
	TEST_STREQ(c.local_domains.v[0], "mx.example.org");
	conf_free(&c);
	free(real);
	str_free(&err);
	str_free(&want);
	str_free(&p);
}

static void test_values(void)
{
	struct conf c;
	struct str err = STR_INIT(0);

	TEST_ASSERT(load(&c, "# ISP\nhostname = mx.example.org\n"
			 "local_domains = Example.ORG, example.net\n"
			 "listen_smtp = 192.0.2.1:25, [2001:db8::1]:25\n"
			 "listen_pop3 =\n"
			 "tls_cert = /etc/ssl/mx.pem\n"
			 "message_size_limit = 20m\n"
			 "queue_lifetime = 3d\nretry_min = 5m\n"
			 "relay_host = [smtp.isp.example]:587\n"
			 "dns_servers = 192.0.2.53, [2001:db8::53]:53\n",
			 &err) == 0);
	TEST_STREQ(str_c(&err), "");
	TEST_ASSERT(c.local_domains.n == 2);
	TEST_STREQ(c.local_domains.v[0], "example.org");
	TEST_ASSERT(c.listen_smtp.n == 2 && c.listen_pop3.n == 0);
	TEST_STREQ(c.tls_cert, "/etc/ssl/mx.pem");
	TEST_ASSERT(strstr(c.tls_key, "/tls.key") != NULL);
	TEST_ASSERT(c.message_size_limit == 20 * 1024 * 1024);
	TEST_ASSERT(c.queue_lifetime == 3 * 86400 && c.retry_min == 300);
	TEST_ASSERT(conf_domain_is_local(&c, "EXAMPLE.org"));
	TEST_ASSERT(conf_domain_is_local(&c, "example.net."));
	TEST_ASSERT(!conf_domain_is_local(&c, "example.com"));
	TEST_ASSERT(!conf_domain_is_local(&c, "sub.example.org"));
	TEST_ASSERT(!conf_domain_is_local(&c, ""));
	conf_free(&c);
	str_free(&err);
}

static void test_unknown_key(void)
{
	struct conf c;
	struct str err = STR_INIT(0), want = STR_INIT(0);
	int n;

	n = load(&c, "hostname = a.example\n\nfoo = 1\n", &err);
	TEST_ASSERT(n == 1);
	str_appendf(&want, "%s/t.conf:3: unknown key 'foo'\n", test_dir);
	TEST_STREQ(str_c(&err), str_c(&want));
	TEST_STREQ(c.hostname, "a.example");
	conf_free(&c);
	str_free(&err);
	str_free(&want);
}

/* trusted_networks: each network checked, a bad one named with its line. */
static void test_trusted_networks(void)
{
	struct conf c;
	struct str err = STR_INIT(0);
	const char *e;

	TEST_ASSERT(load(&c, "", &err) == 0);
	TEST_ASSERT(c.trusted_networks.n == 2);
	TEST_ASSERT(get_is(&c, "trusted_networks", "127.0.0.0/8,::1/128"));
	TEST_ASSERT(c.trusted_networks_relay == 0);
	conf_free(&c);
	TEST_ASSERT(load(&c, "trusted_networks = 10.0.0.0/8, [2001:db8::]/32,"
			 " 192.0.2.1\n", &err) == 0);
	TEST_ASSERT(c.trusted_networks.n == 3);
	conf_free(&c);
	TEST_ASSERT(load(&c, "trusted_networks =\n", &err) == 0);
	TEST_ASSERT(c.trusted_networks.n == 0);
	conf_free(&c);
	TEST_ASSERT(load(&c, "# trusted\n"
			 "trusted_networks = 127.0.0.0/8, 10.1.2.3/8\n"
			 "trusted_networks = 10.0.0.0/33\n"
			 "trusted_networks = 10.0.0.0 /8\n"
			 "trusted_networks = 10.0.0.0/8,,::1\n"
			 "trusted_networks = local\x01host\n", &err) == 5);
	e = str_c(&err);
	TEST_ASSERT(strstr(e, "t.conf:2: trusted_networks = '127.0.0.0/8, "
			   "10.1.2.3/8': network '10.1.2.3/8': address has "
			   "bits set past the prefix length") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:3: trusted_networks = '10.0.0.0/33': "
			   "network '10.0.0.0/33': prefix length larger than "
			   "32") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:4: trusted_networks = '10.0.0.0 /8': "
			   "network '10.0.0.0 /8': blank") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:5: trusted_networks") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:6: trusted_networks") != NULL &&
		    strstr(e, "network 'local?host'") != NULL);
	/* the default stays */
	TEST_ASSERT(c.trusted_networks.n == 2);
	conf_free(&c);
	str_clear(&err);
	TEST_ASSERT(conf_value_check("trusted_networks", "::1/129", &err) < 0);
	TEST_ASSERT(strstr(str_c(&err), "larger than 128") != NULL);
	str_free(&err);
}

static void test_bad_values(void)
{
	struct conf c;
	struct str err = STR_INIT(0);
	const char *e;

	TEST_ASSERT(load(&c, "retry_max = 5x\nmail_root = var/mail\n"
			 "listen_smtp = localhost:25\nlocal_domains = a,,b\n"
			 "local_domains = -bad.example\nhostname = a b\n"
			 "remote_port = 0\nmessage_size_limit = 1t\n"
			 "relay_host = host:99999\ndns_servers = ns.example\n"
			 "no equals here\n", &err) == 11);
	e = str_c(&err);
	TEST_ASSERT(strstr(e, "t.conf:1: retry_max = '5x': unknown suffix")
		    != NULL);
	TEST_ASSERT(strstr(e, "t.conf:2: mail_root = 'var/mail': must be an "
			   "absolute path\n") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:3: listen_smtp = 'localhost:25': "
			   "address must be numeric") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:4: local_domains") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:5: local_domains") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:6: hostname") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:7: remote_port") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:8: message_size_limit") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:9: relay_host") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:10: dns_servers") != NULL);
	TEST_ASSERT(strstr(e, "t.conf:11: expected key = value") != NULL);
	/* bad lines leave the defaults */
	TEST_ASSERT(c.retry_max == 3600 && c.remote_port == 25);
	TEST_STREQ(c.mail_root, "/var/mail/postern");
	conf_free(&c);
	str_free(&err);
}

static void test_cross_checks(void)
{
	struct conf c;
	struct str err = STR_INIT(0), want = STR_INIT(0);
	const char *path;

	TEST_ASSERT(load(&c, "retry_min = 2h\nretry_max = 1h\n"
			 "message_size_limit = 0\nauth_failure_delay = 1m\n",
			 &err) == 3);
	path = conf_file("t.conf", "");
	str_appendf(&want, "%s: retry_min (7200s) is larger than retry_max "
		    "(3600s)\n%s: message_size_limit must be more than 0\n"
		    "%s: auth_failure_delay (60s) is larger than "
		    "auth_failure_delay_max (15s)\n", path, path, path);
	TEST_STREQ(str_c(&err), str_c(&want));
	conf_free(&c);
	TEST_ASSERT(load(&c, "retry_min = 0\n", &err) == 1);
	TEST_ASSERT(strstr(str_c(&err), "retry_min must be more than 0") !=
		    NULL);
	conf_free(&c);
	/* equal values are fine */
	TEST_ASSERT(load(&c, "retry_min = 1h\nretry_max = 60m\n", &err) == 0);
	conf_free(&c);
	/* a service's process count: at most what the master starts */
	TEST_ASSERT(load(&c, "local_delivery_limit = 256\n", &err) == 0);
	conf_free(&c);
	TEST_ASSERT(load(&c, "local_delivery_limit = 257\n"
			 "remote_connection_limit = 1000\n", &err) == 2);
	str_clear(&want);
	str_appendf(&want, "%s: local_delivery_limit: number too large (at "
		    "most 256)\n%s: remote_connection_limit: number too large "
		    "(at most 256)\n", path, path);
	TEST_STREQ(str_c(&err), str_c(&want));
	conf_free(&c);
	str_free(&err);
	str_free(&want);
}

static void test_duplicate_later_wins(void)
{
	struct conf c;
	struct str err = STR_INIT(0);

	TEST_ASSERT(load(&c, "queue_dir = /a\nqueue_dir = /b\n"
			 "listen_smtp = 127.0.0.1:25\nlisten_smtp = *:2525\n",
			 &err) == 0);
	TEST_STREQ(c.queue_dir, "/b");
	TEST_ASSERT(c.listen_smtp.n == 1 && c.listen_smtp.v[0].port == 2525);
	conf_free(&c);
	str_free(&err);
}

static void test_missing_file(void)
{
	struct conf c;
	struct str err = STR_INIT(0);

	TEST_ASSERT(conf_load(&c, "/nonexistent/dir/postern.conf", &err) == 1);
	TEST_STREQ(str_c(&err),
		   "/nonexistent/dir/postern.conf: No such file or directory\n");
	/* still usable and freeable */
	TEST_STREQ(c.queue_dir, "/var/spool/postern");
	TEST_STREQ(c.tls_cert, "/nonexistent/dir/tls.crt");
	conf_free(&c);
	conf_free(&c);
	str_free(&err);
}

static void test_get_text(void)
{
	struct conf c;
	struct str err = STR_INIT(0), v = STR_INIT(0);

	TEST_ASSERT(load(&c, "local_domains = B.example, a.example\n"
			 "listen_smtp = 127.0.0.1:2525,[::1]:25, *:26,:27\n"
			 "listen_imap =\nretry_min = 90\nretry_max = 3600\n"
			 "queue_lifetime = 120m\nmessage_size_limit = 1k\n"
			 "auth_failure_delay = 0\nremote_port = 2525\n",
			 &err) == 0);
	TEST_ASSERT(get_is(&c, "local_domains", "b.example,a.example"));
	TEST_ASSERT(get_is(&c, "listen_smtp",
			   "127.0.0.1:2525,[::1]:25,*:26,*:27"));
	TEST_ASSERT(get_is(&c, "listen_imap", ""));
	TEST_ASSERT(get_is(&c, "listen_pop3s", "*:995"));
	TEST_ASSERT(get_is(&c, "retry_min", "90s"));
	TEST_ASSERT(get_is(&c, "retry_max", "1h"));
	TEST_ASSERT(get_is(&c, "queue_lifetime", "2h"));
	TEST_ASSERT(get_is(&c, "auth_failure_window", "15m"));
	TEST_ASSERT(get_is(&c, "auth_failure_delay", "0s"));
	TEST_ASSERT(get_is(&c, "message_size_limit", "1024"));
	TEST_ASSERT(get_is(&c, "remote_port", "2525"));
	TEST_ASSERT(get_is(&c, "mail_root", "/var/mail/postern"));
	TEST_ASSERT(get_is(&c, "relay_host", ""));
	str_sets(&v, "junk");
	TEST_ASSERT(conf_get_text(&c, "nosuchkey", &v) == -1);
	TEST_ASSERT(conf_get_text(&c, "", &v) == -1);
	conf_free(&c);
	str_free(&err);
	str_free(&v);
}

static void test_get_text_reparses(void)
{
	struct conf c, c2;
	struct str err = STR_INIT(0), text = STR_INIT(0), v = STR_INIT(0);
	size_t i;
	const char *key;

	TEST_ASSERT(load(&c, "hostname = mx.example\nlisten_smtp = "
			 "[2001:db8:0::1]:25\nqueue_lifetime = 86401\n",
			 &err) == 0);
	for (i = 0; (key = conf_key_name(i)) != NULL; i++) {
		TEST_ASSERT(conf_get_text(&c, key, &v) == 0);
		str_appendf(&text, "%s = %s\n", key, str_c(&v));
	}
	TEST_ASSERT(i > 20);
	TEST_ASSERT(load(&c2, str_c(&text), &err) == 0);
	TEST_STREQ(str_c(&err), "");
	for (i = 0; (key = conf_key_name(i)) != NULL; i++) {
		TEST_ASSERT(conf_get_text(&c, key, &v) == 0);
		TEST_ASSERT(get_is(&c2, key, str_c(&v)));
	}
	TEST_ASSERT(get_is(&c2, "listen_smtp", "[2001:db8::1]:25"));
	TEST_ASSERT(get_is(&c2, "queue_lifetime", "86401s"));
	conf_free(&c);
	conf_free(&c2);
	str_free(&err);
	str_free(&text);
	str_free(&v);
}

static void test_value_check(void)
{
	struct str err = STR_INIT(0);

	TEST_ASSERT(conf_key_known("retry_min"));
	TEST_ASSERT(!conf_key_known("retry"));
	TEST_ASSERT(!conf_key_known(""));
	TEST_ASSERT(conf_value_check("retry_min", "5m", &err) == 0);
	TEST_ASSERT(conf_value_check("listen_smtp", "", &err) == 0);
	TEST_ASSERT(conf_value_check("relay_host", "smtp.example:587", &err)
		    == 0);
	TEST_ASSERT(conf_value_check("relay_host", "[192.0.2.1]", &err) == 0);
	TEST_ASSERT(conf_value_check("dns_servers", "::1, 127.0.0.1:5353",
				     &err) == 0);
	TEST_STREQ(str_c(&err), "");
	TEST_ASSERT(conf_value_check("retry_min", "soon", &err) == -1);
	TEST_STREQ(str_c(&err), "retry_min = 'soon': expected a number");
	str_clear(&err);
	TEST_ASSERT(conf_value_check("nope", "1", &err) == -1);
	TEST_STREQ(str_c(&err), "unknown key 'nope'");
	str_clear(&err);
	TEST_ASSERT(conf_value_check("hostname", "bad\x01name", &err) == -1);
	TEST_STREQ(str_c(&err),
		   "hostname = 'bad\\x01name': not a valid domain name");
	TEST_STREQ(conf_key_default("retry_max"), "1h");
	TEST_ASSERT(conf_key_description("retry_max") != NULL);
	TEST_ASSERT(conf_key_default("nope") == NULL);
	TEST_STREQ(conf_key_name(0), "hostname");
	TEST_ASSERT(conf_key_name((size_t)-1) == NULL);
	str_free(&err);
}

static void test_file_set_replace(void)
{
	struct str err = STR_INIT(0);
	const char *path;
	char *text;
	struct stat st;

	path = conf_file("set.conf", "# main config\nretry_min = 1m  \n"
			 "# the relay\nretry_min=2m\nhostname = a.example\n");
	TEST_ASSERT(chmod(path, 0640) == 0);
	TEST_ASSERT(conf_file_set(path, "retry_min", "5m", &err) == 0);
	TEST_STREQ(str_c(&err), "");
	text = read_text(path);
	TEST_STREQ(text, "# main config\nretry_min = 1m  \n# the relay\n"
		   "retry_min = 5m\nhostname = a.example\n");
	free(text);
	TEST_ASSERT(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	str_free(&err);
}

static void test_file_set_append(void)
{
	struct str err = STR_INIT(0);
	const char *path;
	char *text;

	path = conf_file("set.conf", "# no newline at end\nhostname = a.b");
	TEST_ASSERT(conf_file_set(path, "queue_dir", "/srv/q", &err) == 0);
	text = read_text(path);
	TEST_STREQ(text, "# no newline at end\nhostname = a.b\n"
		   "queue_dir = /srv/q\n");
	free(text);
	path = conf_file("set.conf", "");
	TEST_ASSERT(conf_file_set(path, "listen_pop3", "", &err) == 0);
	text = read_text(path);
	TEST_STREQ(text, "listen_pop3 = \n");
	free(text);
	/* a commented-out line is not the setting */
	path = conf_file("set.conf", "#hostname = x.example\n");
	TEST_ASSERT(conf_file_set(path, "hostname", "y.example", &err) == 0);
	text = read_text(path);
	TEST_STREQ(text, "#hostname = x.example\nhostname = y.example\n");
	free(text);
	TEST_STREQ(str_c(&err), "");
	str_free(&err);
}

static void test_file_set_rejects(void)
{
	static const char orig[] = "# keep me\nretry_max = 1h\n";
	struct str err = STR_INIT(0);
	const char *path;
	char *text;

	path = conf_file("set.conf", orig);
	TEST_ASSERT(conf_file_set(path, "retry_max", "1x", &err) == -1);
	TEST_ASSERT(strstr(str_c(&err), "retry_max = '1x'") != NULL);
	str_clear(&err);
	TEST_ASSERT(conf_file_set(path, "bogus", "1", &err) == -1);
	TEST_ASSERT(strstr(str_c(&err), "unknown key 'bogus'") != NULL);
	str_clear(&err);
	TEST_ASSERT(conf_file_set(path, "hostname", "a\nqueue_dir = x",
				  &err) == -1);
	str_clear(&err);
	/* valid alone but not with the rest of the file */
	TEST_ASSERT(conf_file_set(path, "retry_min", "2h", &err) == -1);
	TEST_ASSERT(strstr(str_c(&err), "retry_min (7200s) is larger") !=
		    NULL);
	text = read_text(path);
	TEST_STREQ(text, orig);
	free(text);
	str_clear(&err);
	TEST_ASSERT(conf_file_set("/nonexistent/x.conf", "retry_min", "1m",
				  &err) == -1);
	TEST_ASSERT(err.len > 0);
	str_free(&err);
}

static void test_domain_limits(void)
{
	struct str err = STR_INIT(0), name = STR_INIT(0);
	size_t i;

	for (i = 0; i < 63; i++)
		str_appendc(&name, 'a');
	str_appends(&name, ".example");
	TEST_ASSERT(conf_value_check("hostname", str_c(&name), &err) == 0);
	str_sets(&name, "b");
	for (i = 0; i < 63; i++)
		str_appendc(&name, 'a');
	str_appends(&name, ".example");
	TEST_ASSERT(conf_value_check("hostname", str_c(&name), &err) == -1);
	/* 253 characters in all is the most */
	str_clear(&name);
	for (i = 0; i < 4; i++)
		str_appendf(&name, "%s%.62d", i ? "." : "", 0);
	TEST_ASSERT(name.len == 251);
	str_appends(&name, ".a");
	TEST_ASSERT(conf_value_check("local_domains", str_c(&name), &err)
		    == 0);
	str_appends(&name, "b");
	TEST_ASSERT(conf_value_check("local_domains", str_c(&name), &err)
		    == -1);
	TEST_ASSERT(conf_value_check("hostname", "a..b", &err) == -1);
	TEST_ASSERT(conf_value_check("hostname", "a.b.", &err) == -1);
	TEST_ASSERT(conf_value_check("hostname", "a_b.example", &err) == -1);
	TEST_ASSERT(conf_value_check("hostname", "x-1.example", &err) == 0);
	str_free(&err);
	str_free(&name);
}

static void test_conf_path(void)
{
	TEST_STREQ(conf_path("/x/y.conf"), "/x/y.conf");
	TEST_ASSERT(setenv("POSTERN_CONF", "/env/p.conf", 1) == 0);
	TEST_STREQ(conf_path(NULL), "/env/p.conf");
	TEST_STREQ(conf_path("/x/y.conf"), "/x/y.conf");
	TEST_ASSERT(unsetenv("POSTERN_CONF") == 0);
	TEST_ASSERT(strcmp(conf_path(NULL) + strlen(conf_path(NULL)) - 13,
			   "/postern.conf") == 0);
}

static void test_zeroed_free(void)
{
	struct conf c;

	memset(&c, 0, sizeof(c));
	conf_free(&c);
	TEST_ASSERT(c.hostname == NULL && c.config_path == NULL);
	TEST_ASSERT(!conf_domain_is_local(&c, "example.org"));
}

/* Every key of conf_keys.def is documented in postern.conf(5). */
static void test_man_page_lists_keys(void)
{
	char *man = read_text("man/postern.conf.5");
	struct str want = STR_INIT(0);
	const char *key;
	size_t i;

	TEST_ASSERT(man != NULL);
	for (i = 0; man != NULL && (key = conf_key_name(i)) != NULL; i++) {
		str_clear(&want);
		str_appendf(&want, ".B %s\n", key);
		if (strstr(man, str_c(&want)) == NULL)
			printf("  %s is not in man/postern.conf.5\n", key);
		TEST_ASSERT(strstr(man, str_c(&want)) != NULL);
	}
	free(man);
	str_free(&want);
}

static void test_cleanup(void)
{
	static const char *const names[] = { "t.conf", "set.conf" };
	struct str p = STR_INIT(0);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		TEST_ASSERT(path_join(&p, test_dir, names[i]) == 0);
		TEST_ASSERT(unlink(str_c(&p)) == 0);
	}
	TEST_ASSERT(rmdir(test_dir) == 0);
	str_free(&p);
}

/* A service's process count comes from its table line or, where the line
 * names a key, from that key alone: the key exists and its default is a
 * count the master accepts; the line itself then holds no second copy. */
static void test_service_processes(void)
{
	const char *error;
	unsigned n;

	for (unsigned i = 0; i < services_count; i++) {
		const struct service_def *d = &services[i];

		if (d->processes_key == NULL) {
			TEST_ASSERT(d->processes >= 1);
			continue;
		}
		TEST_ASSERT(d->processes == 0);
		TEST_ASSERT(conf_key_default(d->processes_key) != NULL);
		TEST_ASSERT(cfg_uint(conf_key_default(d->processes_key),
				     SERVICE_PROCESSES_MAX, &n, &error) == 0);
		TEST_ASSERT(n >= 1);
	}
	TEST_STREQ(conf_key_default("local_delivery_limit"), "20");
}

static void test_setup(void)
{
	TEST_ASSERT(mkdtemp(test_dir) != NULL);
}

TEST_MAIN(test_setup, test_defaults, test_derived_paths, test_values,
	  test_unknown_key, test_bad_values, test_trusted_networks,
	  test_cross_checks,
	  test_duplicate_later_wins, test_missing_file, test_get_text,
	  test_get_text_reparses, test_value_check, test_file_set_replace,
	  test_file_set_append, test_file_set_rejects, test_domain_limits,
	  test_conf_path,
	  test_zeroed_free, test_man_page_lists_keys, test_service_processes,
	  test_cleanup)
