/*
 * test_maildir_write - real deliveries into a Maildir in a temporary
 * directory (common/mail/maildir_write.h): names and sizes, the idempotent
 * repeat, the message read once, into cur/ with flags, failures that leave
 * nothing behind, the publish hook
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/maildir_write.h"
#include "util/fileio.h"
#include "test.h"

static const char msg[] = "Subject: hi\nDelivered-To: other@x\n\nbody\n"
			  "Delivered-To: user@example.test\n";

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
				      sizeof(prefix) - 1, NULL, 0, src, 3,
				      sizeof(msg) - 1, NULL, NULL, NULL, NULL };
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
	struct maildir_delivery d = { mfd, "h", &counter, "P\n", 2, NULL, 0,
				      src, 0, 4, "1000.M5P77Q0000abcd.h", NULL,
				      NULL, NULL };
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
	struct maildir_delivery d = { mfd, "h", &counter, "P\n", 2, "ab\nc\n",
				      5, -1, 0, 5, "1000.M5P77Q0000abcd.h",
				      NULL, NULL, NULL };
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
	struct maildir_delivery d = { mfd, "h", &counter, "", 0, NULL, 0, src,
				      0, 4, NULL, NULL, NULL, NULL };
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
	struct maildir_delivery d = { mfd, "h", &counter, "", 0, NULL, 0, src,
				      0, 100, NULL, NULL, NULL, NULL };
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

/* Bytes this process has read with read(2)/pread(2) so far (rchar of
 * /proc/self/io, which counts before the read that shows it); *own_r is the
 * size of that read, to be taken off the next difference. */
static long long rchar(long long *own_r)
{
	char buf[512];
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	const char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*own_r = n;
	p = strstr(buf, "rchar: ");
	return p != NULL ? atoll(p + 7) : -1;
}

/* A message file of size bytes whose first head bytes are garbage (the
 * caller hands the real ones in memory) and the rest lines of text. */
static int message_file(size_t size, size_t head, struct str *real)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);

	str_clear(real);
	while (real->len < size)
		str_appendf(real, "line %zu of the message\n", real->len);
	str_truncate(real, size);
	for (size_t i = 0; i < head; i++)
		if (write(fd, "#", 1) != 1)
			return -1;
	if (write(fd, real->s + head, size - head) != (ssize_t)(size - head))
		return -1;
	return fd;
}

/* Each byte of the message is read once: the part in memory not at all,
 * the rest once, also when the name must be checked first (unique), and
 * also when the delivery turns out to be a repeat. */
static void test_read_once(void)
{
	char dir[64];
	struct str name = STR_INIT(0), f = STR_INIT(0), got = STR_INIT(0);
	struct str real = STR_INIT(0), want = STR_INIT(0);
	const size_t size = 300000, head = 1000;
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 1);
	int src = message_file(size, head, &real);
	struct maildir_delivery d = { mfd, "h", &counter, "P\n", 2, NULL,
				      head, src, 0, size,
				      "1000.M5P77Q0000abcd.h", NULL, NULL, NULL };
	long long before, after, own, own2;
	const char *step;

	TEST_ASSERT(mfd >= 0 && src >= 0);
	d.head = real.s;
	for (int round = 0; round < 2; round++) {
		before = rchar(&own);
		TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
		after = rchar(&own2);
		TEST_ASSERT(before >= 0 &&
			    after - before - own == (long long)(size - head));
		if (after - before - own != (long long)(size - head))
			printf("round %d: read %lld bytes, want %zu\n", round,
			       after - before - own, size - head);
	}
	TEST_ASSERT(only_file(dir, "new", &f, &got) == 1);
	str_appends(&want, "P\n");
	str_append(&want, real.s, real.len);
	TEST_ASSERT(got.len == want.len && memcmp(got.s, want.s, got.len) == 0);
	close(src);
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&f);
	str_free(&got);
	str_free(&real);
	str_free(&want);
}

/* W= is the CRLF size: a CRLF in the message counts once, not twice. */
static void test_deliver_crlf_size(void)
{
	char dir[64];
	struct str name = STR_INIT(0), f = STR_INIT(0), got = STR_INIT(0);
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 1);
	const char m[] = "A: b\r\n\r\nx\ny\r\n";
	struct maildir_delivery d = { mfd, "h", &counter, "P\n", 2, m,
				      sizeof(m) - 1, -1, 0, sizeof(m) - 1,
				      "1000.M5P77Q0000abcd.h", NULL, NULL, NULL };
	const char *step;

	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	/* 2 + 13 bytes; bare LFs: the prefix's and "x\n" */
	TEST_STREQ(str_c(&name), "1000.M5P77Q0000abcd.h,S=15,W=17");
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&f);
	str_free(&got);
}

/* With flags (IMAP APPEND): into cur/ with ":2,FLAGS", sorted; a repeat
 * finds it there. */
static void test_deliver_into_cur(void)
{
	char dir[64];
	struct str name = STR_INIT(0), f = STR_INIT(0), got = STR_INIT(0);
	unsigned long counter = 0;
	int mfd = make_maildir(dir, sizeof(dir), 1);
	struct maildir_delivery d = { mfd, "h", &counter, "", 0, "a\n", 2, -1,
				      0, 2, "1000.M5P77Q0000abcd.h", "SaF", NULL,
				      NULL };
	const char *step;

	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_STREQ(str_c(&name), "1000.M5P77Q0000abcd.h,S=2,W=3:2,FSa");
	TEST_ASSERT(only_file(dir, "cur", &f, &got) == 1);
	TEST_STREQ(str_c(&f), str_c(&name));
	TEST_ASSERT(got.len == 2 && memcmp(got.s, "a\n", 2) == 0);
	TEST_ASSERT(only_file(dir, "new", &f, &got) == 0);
	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_ASSERT(only_file(dir, "cur", &f, &got) == 1);
	/* a fresh name: a second copy, also in cur/ */
	d.unique = NULL;
	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_ASSERT(strstr(str_c(&name), ",S=2,W=3:2,FSa") != NULL);
	TEST_ASSERT(only_file(dir, "cur", &f, &got) == 2);
	TEST_ASSERT(only_file(dir, "tmp", &f, &got) == 0);
	close(mfd);
	remove_tree(dir);
	str_free(&name);
	str_free(&f);
	str_free(&got);
}

/* The publish hook: BEGIN before the link, DONE after it, with the final
 * name; -1 from BEGIN stops the delivery with nothing left behind. */
struct hook_log {
	char phases[8];
	size_t n;
	char name[256];
	int refuse;
	char dir[64];
	int in_cur_at_begin;
};

static int hook(void *arg, const char *name, int phase)
{
	struct hook_log *h = arg;
	struct str f = STR_INIT(0), got = STR_INIT(0);

	if (h->n < sizeof(h->phases) - 1)
		h->phases[h->n++] = (char)('0' + phase);
	snprintf(h->name, sizeof(h->name), "%s", name);
	if (phase == MAILDIR_PUBLISH_BEGIN)
		h->in_cur_at_begin = only_file(h->dir, "cur", &f, &got);
	str_free(&f);
	str_free(&got);
	return phase == MAILDIR_PUBLISH_BEGIN && h->refuse ? -1 : 0;
}

static void test_deliver_publish_hook(void)
{
	struct hook_log h = { 0 };
	struct str name = STR_INIT(0), f = STR_INIT(0), got = STR_INIT(0);
	unsigned long counter = 0;
	int mfd = make_maildir(h.dir, sizeof(h.dir), 1);
	struct maildir_delivery d = { mfd, "h", &counter, "", 0, "a\n", 2, -1,
				      0, 2, NULL, "S", hook, &h };
	const char *step;

	TEST_ASSERT(maildir_deliver(&d, &name, &step) == 0);
	TEST_STREQ(h.phases, "01");
	TEST_STREQ(h.name, str_c(&name));
	TEST_ASSERT(h.in_cur_at_begin == 0);
	TEST_ASSERT(only_file(h.dir, "cur", &f, &got) == 1);
	/* refused at BEGIN */
	memset(h.phases, 0, sizeof(h.phases));
	h.n = 0;
	h.refuse = 1;
	TEST_ASSERT(maildir_deliver(&d, &name, &step) == -1);
	TEST_STREQ(step, "publish");
	TEST_STREQ(h.phases, "0");
	TEST_ASSERT(only_file(h.dir, "cur", &f, &got) == 1);
	TEST_ASSERT(only_file(h.dir, "tmp", &f, &got) == 0);
	close(mfd);
	remove_tree(h.dir);
	str_free(&name);
	str_free(&f);
	str_free(&got);
}

TEST_MAIN(test_deliver_unique_once, test_deliver_from_memory, test_deliver,
	  test_deliver_no_new, test_deliver_short_source, test_read_once,
	  test_deliver_crlf_size, test_deliver_into_cur,
	  test_deliver_publish_hook)
