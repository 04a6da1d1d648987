/*
 * test_imap_index_crash - kill -9 of a process appending to a folder
 * (imap_index.h) as postern-imap's APPEND does it (open read-only,
 * append, flush, close: a cache snapshot at each close), at random
 * instants, also inside the cache's writes: every file that is still
 * there keeps the UID it was announced with, in a fresh handle and in
 * one opened before the kill, and no X record names a file that exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail/imap_cache.h"
#include "mail/imap_index.h"
#include "mail/imap_uidlog.h"
#include "test.h"
#include "test_maildir_tmp.h"

static char root[64];

static int maildir_make(void)
{
	return test_maildir_make(root, sizeof(root), "test_imap_crash", NULL, 0);
}

static void maildir_remove(int fd)
{
	test_maildir_remove(fd, root);
}

static void put_file(const char *rel, const char *text)
{
	test_maildir_put(root, rel, text);
}

/* A message of n bytes in an unlinked temporary file. */
static int message_fd(size_t n)
{
	char path[128], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/tmp/src.XXXXXX", root);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	memset(buf, 'y', sizeof(buf));
	memcpy(buf, "Subject: x\n\n", 12);
	while (n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		if (write(fd, buf, k) != (ssize_t)k)
			break;
		n -= k;
	}
	return fd;
}

/* The child: postern-imap's APPEND to a folder it has not selected, in
 * a loop; "uid base\n" on out for each UID returned (announced). */
static void append_child(int mfd, int out, unsigned seed)
{
	struct imap_folder f;
	const char *e;
	char line[300];
	uint32_t uid;

	srand(seed);
	for (int n = 0; ; n++) {
		size_t size = 20 + (size_t)(rand() % 20000);
		int src = message_fd(size), len;

		if (src < 0 || imap_folder_open(&f, mfd, "", -1, 1, &e) < 0)
			_exit(2);
		if (imap_folder_append(&f, src, size, 0, 0, 0, &uid, &e) < 0)
			_exit(3);
		len = snprintf(line, sizeof(line), "%u %.*s\n", uid,
			       (int)strcspn(imap_folder_name(&f, f.count - 1),
					    ":"),
			       imap_folder_name(&f, f.count - 1));
		if (write(out, line, (size_t)len) != len)
			_exit(4);
		(void)imap_folder_flush(&f);
		imap_folder_close(&f);
		close(src);
	}
}

/* The file whose base is base, in cur/ or new/: 1 there, 0 not. */
static int base_exists(const char *base)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "ls %s/cur %s/new 2>/dev/null | "
		 "grep -q '^%s\\(:\\|$\\)'", root, root, base);
	return system(cmd) == 0;
}

/* Every announced "uid base" line: the base, if its file is there, has
 * that UID in f. */
static int announced_kept(const struct imap_folder *f, const char *ann)
{
	int ok = 1;

	for (const char *p = ann; *p != '\0' && strchr(p, '\n') != NULL;
	     p = strchr(p, '\n') + 1) {
		unsigned uid;
		char base[200];
		uint32_t seq;

		if (sscanf(p, "%u %199s", &uid, base) != 2)
			continue;
		seq = imap_folder_seq_of_uid(f, uid);
		if (seq == 0 || f->msgs[seq - 1].expunged) {
			if (base_exists(base)) {
				printf("uid %u (%s) lost\n", uid, base);
				ok = 0;
			}
		} else if (strncmp(imap_folder_name(f, seq - 1), base,
				   strlen(base)) != 0) {
			printf("uid %u is %s, not %s\n", uid,
			       imap_folder_name(f, seq - 1), base);
			ok = 0;
		}
	}
	return ok;
}

/* No X record of the log names a UID whose file is still there. */
static int no_false_expunge(const char *ann)
{
	char p[256], line[600];
	FILE *fp;
	int ok = 1;

	snprintf(p, sizeof(p), "%s/%s", root, IMAP_UIDLOG_FILE);
	fp = fopen(p, "r");
	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		unsigned uid;
		const char *a;

		if (sscanf(line, "X %u ", &uid) != 1)
			continue;
		for (a = ann; *a != '\0' && strchr(a, '\n') != NULL;
		     a = strchr(a, '\n') + 1) {
			unsigned u;
			char base[200];

			if (sscanf(a, "%u %199s", &u, base) == 2 && u == uid &&
			    base_exists(base)) {
				printf("X %u for %s, which exists\n", uid, base);
				ok = 0;
			}
		}
	}
	fclose(fp);
	return ok;
}

static void run_rounds(int rounds, int max_ms)
{
	int mfd = maildir_make();
	struct imap_folder f, before;
	const char *e = NULL;
	struct str ann = STR_INIT(0);
	int ok = 1;

	{
		int src = message_fd(100);
		uint32_t uid;

		TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
		for (int k = 0; k < 40 && src >= 0; k++)
			TEST_ASSERT(imap_folder_append(&f, src, 100, 0, 0, 0,
						       &uid, &e) == 0);
		imap_folder_close(&f);
		close(src);
	}
	for (int round = 0; round < rounds && ok; round++) {
		int pfd[2];
		pid_t pid;
		char buf[4096];
		ssize_t n;
		struct timespec ts = { 0, 1000000L * (5 + rand() % max_ms) };

		TEST_ASSERT(imap_folder_open(&before, mfd, "", -1, 0, &e) == 0);
		(void)imap_folder_flush(&before);	/* as after a command */
		TEST_ASSERT(pipe(pfd) == 0);
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			append_child(mfd, pfd[1], (unsigned)round * 7919u + 1);
		}
		close(pfd[1]);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			str_append(&ann, buf, (size_t)n);
		close(pfd[0]);
		while (ann.len > 0 && ann.s[ann.len - 1] != '\n')
			ann.len--;
		str_truncate(&ann, ann.len);
		/* the handle opened before: a forced scan */
		TEST_ASSERT(imap_folder_sync(&before, IMAP_SYNC_RECENT |
					     IMAP_SYNC_FORCE, &e) == 0);
		ok &= announced_kept(&before, str_c(&ann));
		imap_folder_close(&before);
		TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
		ok &= announced_kept(&f, str_c(&ann));
		TEST_ASSERT(imap_folder_sync(&f, IMAP_SYNC_FORCE, &e) == 0);
		ok &= announced_kept(&f, str_c(&ann));
		imap_folder_close(&f);
		ok &= no_false_expunge(str_c(&ann));
	}
	TEST_ASSERT(ok);
	str_free(&ann);
	maildir_remove(mfd);
}

static void test_kill9_append_loop(void)
{
	run_rounds(30, 200);
}

/* Overwrite the first occurrence of what in root/name with n zero bytes
 * from it: 0 done, -1 not found. */
static int zero_at(const char *name, const char *what, size_t n)
{
	char p[256];
	struct str d = STR_INIT(0);
	char buf[4096];
	ssize_t k;
	int fd, r = -1;

	snprintf(p, sizeof(p), "%s/%s", root, name);
	fd = open(p, O_RDWR);
	if (fd < 0)
		return -1;
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		str_append(&d, buf, (size_t)k);
	for (size_t i = 0; i + strlen(what) <= d.len; i++) {
		if (memcmp(d.s + i, what, strlen(what)) != 0)
			continue;
		memset(buf, 0, sizeof(buf));
		r = pwrite(fd, buf, n, (off_t)i) == (ssize_t)n ? 0 : -1;
		break;
	}
	close(fd);
	str_free(&d);
	return r;
}

/* A cache torn as an interrupted BDB write leaves it (a value's bytes
 * zero): the snapshot is not used, UIDs are kept, nothing is expunged,
 * a damaged per-message value is a miss, and the file is rebuilt; the
 * same when the marker of a write in progress is left behind. */
static void test_damaged_cache(void)
{
	int mfd = maildir_make();
	struct imap_folder f;
	const char *e = NULL;
	struct str v = STR_INIT(0);
	uint32_t uids[30];
	char p[128];

	for (int k = 0; k < 30; k++) {
		snprintf(p, sizeof(p), "cur/%d.M%dP7.host:2,", 1000 + k, k);
		put_file(p, "Subject: x\n\nbody\n");
	}
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.count == 30);
	for (uint32_t i = 0; i < f.count && i < 30; i++)
		uids[i] = f.msgs[i].uid;
	TEST_ASSERT(imap_cache_put(&f, uids[3], IMAP_CACHE_ENVELOPE,
				   "(\"envelope of four\")", 19) == 0);
	imap_folder_close(&f);
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.snap_offset != 0);	/* from the snapshot */
	imap_folder_close(&f);
	/* the snapshot's names from the 20th on, and the value, torn */
	TEST_ASSERT(zero_at(IMAP_CACHE_FILE, "1020.M20P7", 200) == 0);
	TEST_ASSERT(zero_at(IMAP_CACHE_FILE, "envelope of four", 4) == 0);
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.snap_offset == 0);	/* from the log */
	TEST_ASSERT(f.count == 30);
	for (uint32_t i = 0; i < f.count && i < 30; i++)
		TEST_ASSERT(f.msgs[i].uid == uids[i]);
	TEST_ASSERT(imap_cache_get(&f, uids[3], IMAP_CACHE_ENVELOPE, &v) == 0);
	TEST_ASSERT(imap_folder_sync(&f, IMAP_SYNC_FORCE, &e) == 0);
	TEST_ASSERT(f.count == 30 && f.vanished_count == 0);
	imap_folder_close(&f);
	TEST_ASSERT(no_false_expunge(""));
	/* rebuilt at that close: a snapshot again */
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.snap_offset != 0 && f.count == 30);
	TEST_ASSERT(f.msgs[29].uid == uids[29]);
	imap_folder_close(&f);
	/* a writer died inside its write: the file is not read at all */
	put_file("postern-index.db-writing", "");
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.snap_offset == 0 && f.count == 30);
	TEST_ASSERT(f.msgs[29].uid == uids[29]);
	imap_folder_close(&f);
	snprintf(p, sizeof(p), "%s/postern-index.db-writing", root);
	TEST_ASSERT(access(p, F_OK) < 0);	/* rebuilt */
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.snap_offset != 0 && f.count == 30);
	imap_folder_close(&f);
	str_free(&v);
	maildir_remove(mfd);
}

TEST_MAIN(test_damaged_cache, test_kill9_append_loop)
