/*
 * test_maildir - Maildir names, the Delivered-To: loop scan, and a real
 * delivery into a Maildir in a temporary directory
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/maildir.h"
#include "util/fileio.h"
#include "test.h"

static const char msg[] = "Subject: hi\nDelivered-To: other@x\n\nbody\n"
			  "Delivered-To: user@example.test\n";

static void test_host_escape(void)
{
	struct str s = STR_INIT(0);

	maildir_host_escape("a/b:c.example", &s);
	TEST_STREQ(str_c(&s), "a\\057b\\072c.example");
	str_free(&s);
}

static void test_names(void)
{
	struct str s = STR_INIT(0);
	struct timeval tv = { 1700000000, 42 };

	maildir_name_base(&s, &tv, 1234, 7, "host");
	TEST_STREQ(str_c(&s), "1700000000.M42P1234Q7.host");
	maildir_name_sizes(&s, 100, 105);
	TEST_STREQ(str_c(&s), "1700000000.M42P1234Q7.host,S=100,W=105");
	str_free(&s);
}

static void test_header_end(void)
{
	size_t end;

	TEST_ASSERT(maildir_header_end("A: b\n\nbody", 10, &end) == 1);
	TEST_ASSERT(end == 6);
	TEST_ASSERT(maildir_header_end("\nbody", 5, &end) == 1 && end == 1);
	TEST_ASSERT(maildir_header_end("A: b\r\n\r\nx", 9, &end) == 1);
	TEST_ASSERT(end == 8);
	TEST_ASSERT(maildir_header_end("A: b\nB: c", 9, &end) == 0);
	TEST_ASSERT(end == 9);
}

static int has(const char *hdr, const char *rcpt)
{
	return maildir_has_delivered_to(hdr, strlen(hdr), rcpt);
}

static void test_delivered_to(void)
{
	TEST_ASSERT(has("Delivered-To: user@example.test\n\n", "user@example.test"));
	TEST_ASSERT(has("X: y\ndelivered-to:   USER@Example.Test  \n\n",
			"user@example.test"));
	TEST_ASSERT(has("DELIVERED-TO : <user@example.test>\n", "user@example.test"));
	TEST_ASSERT(has("Delivered-To:\n user@example.test\n\n", "user@example.test"));
	TEST_ASSERT(has("Delivered-To: user@example.test\r\n\r\n", "user@example.test"));
	TEST_ASSERT(!has("Delivered-To: user@example.testx\n", "user@example.test"));
	TEST_ASSERT(!has("X-Delivered-To: user@example.test\n", "user@example.test"));
	TEST_ASSERT(!has("Delivered-Top: user@example.test\n", "user@example.test"));
	/* in a continuation line of another field, or in the body: no */
	TEST_ASSERT(!has("X: a\n Delivered-To: user@example.test\n", "user@example.test"));
	TEST_ASSERT(!has(msg, "user@example.test"));
	TEST_ASSERT(has(msg, "other@x"));
	TEST_ASSERT(!has("", "a@b"));
}

/* A Maildir (cur, new, tmp) under a fresh temporary directory. */
static int make_maildir(char *dir, size_t size, int with_new)
{
	struct str p = STR_INIT(0);

	snprintf(dir, size, "/tmp/test_maildir.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	path_join(&p, dir, "tmp");
	mkdir(str_c(&p), 0700);
	path_join(&p, dir, "cur");
	mkdir(str_c(&p), 0700);
	if (with_new) {
		path_join(&p, dir, "new");
		mkdir(str_c(&p), 0700);
	}
	str_free(&p);
	return open(dir, O_RDONLY | O_DIRECTORY);
}

/* The only file in dir/sub, read into out; its name into name. */
static int only_file(const char *dir, const char *sub, struct str *name,
		     struct str *out)
{
	struct str p = STR_INIT(0);
	struct dirent *de;
	DIR *d;
	int n = 0;

	path_join(&p, dir, sub);
	d = opendir(str_c(&p));
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		str_sets(name, de->d_name);
	}
	if (d != NULL)
		closedir(d);
	if (n == 1) {
		str_appendf(&p, "/%s", str_c(name));
		file_read_all(str_c(&p), out, 1 << 20);
	}
	str_free(&p);
	return n;
}

static void remove_tree(const char *dir)
{
	struct str cmd = STR_INIT(0);

	str_appendf(&cmd, "rm -rf '%s'", dir);
	TEST_ASSERT(system(str_c(&cmd)) == 0);
	str_free(&cmd);
}

static void test_deliver(void)
{
	char dir[64];
	struct str name = STR_INIT(0), got = STR_INIT(0), fname = STR_INIT(0);
	struct str want = STR_INIT(0), expect = STR_INIT(0);
	const char prefix[] = "Return-Path: <a@b>\nDelivered-To: u@d\n";
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 1);
	int src = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	struct maildir_delivery d = { mfd, "h\\057x", &counter, prefix,
				      sizeof(prefix) - 1, src, 3,
				      sizeof(msg) - 1, NULL, NULL };
	const char *step;

	TEST_ASSERT(mfd >= 0 && src >= 0);
	TEST_ASSERT(write(src, "XYZ", 3) == 3);
	TEST_ASSERT(write(src, msg, sizeof(msg) - 1) == sizeof(msg) - 1);
	TEST_ASSERT(write(src, "TRAILER", 7) == 7);
	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_ASSERT(only_file(dir, "new", &fname, &got) == 1);
	TEST_STREQ(str_c(&fname), str_c(&name));
	str_appends(&want, prefix);
	str_appends(&want, msg);
	TEST_ASSERT(got.len == want.len && memcmp(got.s, want.s, got.len) == 0);
	str_appendf(&expect, ",S=%zu,W=%zu", want.len, want.len + 7);
	TEST_ASSERT(strstr(str_c(&name), str_c(&expect)) != NULL);
	TEST_ASSERT(strstr(str_c(&name), "Q1.h\\057x,S=") != NULL);
	TEST_ASSERT(only_file(dir, "tmp", &fname, &got) == 0);
	TEST_ASSERT(counter == 1);
	close(src);
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&got);
	str_free(&fname);
	str_free(&want);
	str_free(&expect);
}

/* With a unique name a second delivery (after a crash lost the queue
 * manager's record of the first) finds the file and writes nothing; a
 * message the reader moved to cur/ with the S flag counts too. */
static void test_deliver_unique_once(void)
{
	char dir[64], path[128];
	struct str name = STR_INIT(0), name2 = STR_INIT(0);
	struct str f = STR_INIT(0), got = STR_INIT(0);
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 1);
	int src = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	struct maildir_delivery d = { mfd, "h", &counter, "P\n", 2, src, 0, 4,
				      "1000.M5P77Q0000abcd.h", NULL };
	const char *step;

	TEST_ASSERT(mfd >= 0 && src >= 0);
	TEST_ASSERT(write(src, "ab\nc", 4) == 4);
	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_STREQ(str_c(&name), "1000.M5P77Q0000abcd.h,S=6,W=8");
	TEST_ASSERT(maildir_deliver(&d, &name2, &step) == 0);
	TEST_STREQ(str_c(&name2), str_c(&name));
	TEST_ASSERT(only_file(dir, "new", &f, &got) == 1);
	TEST_ASSERT(got.len == 6 && memcmp(got.s, "P\nab\nc", 6) == 0);
	TEST_ASSERT(only_file(dir, "tmp", &f, &got) == 0);
	/* read and marked seen: still one copy */
	snprintf(path, sizeof(path), "%s/new/%s", dir, str_c(&name));
	str_clear(&f);
	str_appendf(&f, "%s/cur/%s:2,S", dir, str_c(&name));
	TEST_ASSERT(rename(path, str_c(&f)) == 0);
	TEST_ASSERT(maildir_deliver(&d, &name2, &step) == 0);
	TEST_ASSERT(only_file(dir, "new", &f, &got) == 0);
	/* another unique name is another message */
	d.unique = "1000.M5P77Q0000abce.h";
	TEST_ASSERT(maildir_deliver(&d, &name2, &step) == 0);
	TEST_ASSERT(only_file(dir, "new", &f, &got) == 1);
	close(src);
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&name2);
	str_free(&f);
	str_free(&got);
}

/* The message from memory (postern-local, a small message read whole):
 * the same bytes and the same name as from the descriptor. */
static void test_deliver_from_memory(void)
{
	char dir[64];
	struct str name = STR_INIT(0), f = STR_INIT(0), got = STR_INIT(0);
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 1);
	struct maildir_delivery d = { mfd, "h", &counter, "P\n", 2, -1, 0, 5,
				      "1000.M5P77Q0000abcd.h", "ab\nc\n" };
	const char *step;

	TEST_ASSERT(mfd >= 0);
	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_STREQ(str_c(&name), "1000.M5P77Q0000abcd.h,S=7,W=10");
	TEST_ASSERT(only_file(dir, "new", &f, &got) == 1);
	TEST_ASSERT(got.len == 7 && memcmp(got.s, "P\nab\nc\n", 7) == 0);
	TEST_ASSERT(only_file(dir, "tmp", &f, &got) == 0);
	d.unique = NULL;		/* a fresh name: a second copy */
	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_ASSERT(strstr(str_c(&name), ",S=7,W=10") != NULL);
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&f);
	str_free(&got);
}

static void test_deliver_no_new(void)
{
	char dir[64];
	struct str name = STR_INIT(0), f = STR_INIT(0), got = STR_INIT(0);
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 0);
	int src = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	struct maildir_delivery d = { mfd, "h", &counter, "", 0, src, 0, 4, NULL, NULL };
	const char *step;

	TEST_ASSERT(write(src, "abcd", 4) == 4);
	TEST_ASSERT(maildir_deliver(&d, &name, &step) < 0 && errno == ENOENT);
	TEST_STREQ(step, "open new/");
	TEST_ASSERT(only_file(dir, "tmp", &f, &got) == 0);
	close(src);
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&f);
	str_free(&got);
}

static void test_deliver_short_source(void)
{
	char dir[64];
	struct str name = STR_INIT(0), f = STR_INIT(0), got = STR_INIT(0);
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 1);
	int src = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	struct maildir_delivery d = { mfd, "h", &counter, "", 0, src, 0, 100, NULL, NULL };
	const char *step;

	TEST_ASSERT(write(src, "abcd", 4) == 4);
	TEST_ASSERT(maildir_deliver(&d, &name, &step) < 0 && errno == ENODATA);
	/* nothing left behind, in tmp/ or new/ */
	TEST_ASSERT(only_file(dir, "tmp", &f, &got) == 0);
	TEST_ASSERT(only_file(dir, "new", &f, &got) == 0);
	close(src);
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&f);
	str_free(&got);
}

static void test_read_header(void)
{
	struct str h = STR_INIT(0);
	int src = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	size_t end;

	TEST_ASSERT(write(src, "XX", 2) == 2);
	TEST_ASSERT(write(src, msg, sizeof(msg) - 1) == sizeof(msg) - 1);
	TEST_ASSERT(maildir_read_header(src, 2, sizeof(msg) - 1, &h) == 0);
	TEST_ASSERT(maildir_header_end(h.s, h.len, &end) == 1);
	TEST_ASSERT(memcmp(h.s, msg, end) == 0);
	TEST_ASSERT(maildir_read_header(src, 2, 5, &h) == 0 && h.len == 5);
	TEST_ASSERT(maildir_read_header(src, 1000, 10, &h) < 0 && errno == ENODATA);
	close(src);
	str_free(&h);
}

TEST_MAIN(test_deliver_unique_once, test_deliver_from_memory, test_host_escape, test_names, test_header_end, test_delivered_to,
	  test_deliver, test_deliver_no_new, test_deliver_short_source,
	  test_read_header)
