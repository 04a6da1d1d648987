/*
 * test_imap_index - the per-folder index (imap_index.h): open and sync,
 * STORE/EXPUNGE seen by a second handle, changes by other programs,
 * APPEND and COPY, keywords, dovecot-uidlist import, the cache and its
 * rebuild, compaction, STATUS, POP3's list, and kill -9 at random points
 * never giving one UID to two messages nor changing UIDVALIDITY.
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
#include "test.h"
#include "test_maildir_tmp.h"

static char root[64];

/* A fresh Maildir with .Sent; its descriptor. */
static int maildir_make(void)
{
	static const char *const sent[] = { ".Sent", ".Sent/cur", ".Sent/new", ".Sent/tmp" };

	return test_maildir_make(root, sizeof(root), "test_imap_index", sent, 4);
}

static void maildir_remove(int fd)
{
	test_maildir_remove(fd, root);
}

static void put_file(const char *rel, const char *text)
{
	test_maildir_put(root, rel, text);
}

static int exists(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return access(p, F_OK) == 0;
}

static void test_open_sync(void)
{
	int mfd = maildir_make();
	struct imap_folder f, g;
	const char *e = NULL;
	uint32_t uv;

	put_file("new/1000.M2P1.h", "a\n");
	put_file("new/1000.M10P1.h", "bb\n");
	put_file("cur/999.M1P1.h:2,S", "ccc\n");
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.count == 3 && f.uidnext == 4);
	TEST_ASSERT(f.uidvalidity != 0);
	/* delivery order: 999, then 1000.M2 before 1000.M10 */
	TEST_STREQ(imap_folder_name(&f, 0), "999.M1P1.h:2,S");
	TEST_STREQ(imap_folder_name(&f, 1), "1000.M2P1.h:2,");
	TEST_STREQ(imap_folder_name(&f, 2), "1000.M10P1.h:2,");
	/* the first read-write open: all of them are new to sessions */
	TEST_ASSERT(f.msgs[0].flags == IMAP_F_SEEN && f.msgs[0].recent);
	TEST_ASSERT(f.msgs[1].recent && f.msgs[2].recent);
	TEST_ASSERT(exists("cur/1000.M2P1.h:2,") && !exists("new/1000.M2P1.h"));
	TEST_ASSERT(imap_folder_seq_of_uid(&f, 2) == 2);
	TEST_ASSERT(imap_folder_seq_of_uid(&f, 9) == 0);
	uv = f.uidvalidity;
	imap_folder_close(&f);
	/* again: the same UIDs, nothing recent */
	TEST_ASSERT(imap_folder_open(&g, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(g.count == 3 && g.uidvalidity == uv && g.uidnext == 4);
	TEST_ASSERT(g.msgs[1].uid == 2 && !g.msgs[1].recent);
	TEST_STREQ(imap_folder_name(&g, 2), "1000.M10P1.h:2,");
	imap_folder_close(&g);
	/* read-only (EXAMINE) leaves new/ alone but numbers it */
	put_file("new/2000.M1P1.h", "d\n");
	TEST_ASSERT(imap_folder_open(&g, mfd, "", -1, 1, &e) == 0);
	TEST_ASSERT(g.count == 4 && g.msgs[3].uid == 4 && g.msgs[3].in_new);
	TEST_ASSERT(exists("new/2000.M1P1.h"));
	imap_folder_close(&g);
	TEST_ASSERT(imap_folder_open(&g, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(g.count == 4 && g.msgs[3].uid == 4 && !g.msgs[3].in_new);
	TEST_ASSERT(g.msgs[3].recent);
	imap_folder_close(&g);
	maildir_remove(mfd);
}

static void test_store_expunge_two_handles(void)
{
	int mfd = maildir_make();
	struct imap_folder a, b;
	const char *e = NULL;
	struct str set = STR_INIT(0);
	uint64_t ms;

	put_file("cur/1.M1P1.h:2,", "x\n");
	put_file("cur/2.M1P1.h:2,", "y\n");
	put_file("cur/3.M1P1.h:2,", "z\n");
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(imap_folder_open(&b, mfd, "", -1, 0, &e) == 0);
	ms = a.highestmodseq;
	TEST_ASSERT(imap_folder_store(&a, 0, IMAP_F_SEEN | IMAP_F_FLAGGED, 0,
				      &e) == 0);
	TEST_STREQ(imap_folder_name(&a, 0), "1.M1P1.h:2,FS");
	TEST_ASSERT(exists("cur/1.M1P1.h:2,FS"));
	TEST_ASSERT(a.msgs[0].modseq > ms && a.highestmodseq > ms);
	TEST_ASSERT(!a.msgs[0].changed);
	TEST_ASSERT(imap_folder_expunge(&a, 1, &e) == 0);
	TEST_ASSERT(a.msgs[1].expunged && !exists("cur/2.M1P1.h:2,"));
	TEST_ASSERT(imap_folder_flush(&a) == 0);
	/* b sees both through the log */
	TEST_ASSERT(imap_folder_sync(&b, 0, &e) == 0);
	TEST_ASSERT(b.msgs[0].changed && b.msgs[0].flags ==
		    (IMAP_F_SEEN | IMAP_F_FLAGGED));
	TEST_STREQ(imap_folder_name(&b, 0), "1.M1P1.h:2,FS");
	TEST_ASSERT(b.msgs[1].expunged && b.highestmodseq == a.highestmodseq);
	TEST_ASSERT(imap_folder_vanished_since(&b, ms, &set) == 1);
	TEST_STREQ(str_c(&set), "2");
	imap_folder_purge(&b);
	TEST_ASSERT(b.count == 2 && b.msgs[1].uid == 3);
	/* b's store on a message a renamed meanwhile (found again) */
	TEST_ASSERT(imap_folder_store(&a, 2, IMAP_F_ANSWERED, 0, &e) == 0);
	TEST_ASSERT(imap_folder_store(&b, 1, IMAP_F_ANSWERED | IMAP_F_DRAFT, 0,
				      &e) == 0);
	TEST_ASSERT(exists("cur/3.M1P1.h:2,DR"));
	{
		int fd;

		TEST_ASSERT(imap_folder_sync(&a, 0, &e) == 0);
		TEST_STREQ(imap_folder_name(&a, 2), "3.M1P1.h:2,DR");
		TEST_ASSERT(imap_folder_open_msg(&a, 2, &fd) == 0);
		close(fd);
	}
	/* expunge of a file gone meanwhile is no error */
	TEST_ASSERT(imap_folder_expunge(&b, 1, &e) == 0);
	TEST_ASSERT(imap_folder_expunge(&a, 2, &e) == 0);
	imap_folder_close(&a);
	imap_folder_close(&b);
	str_free(&set);
	maildir_remove(mfd);
}

static void test_other_programs(void)
{
	int mfd = maildir_make();
	struct imap_folder f;
	const char *e = NULL;
	char a[256], b[256];
	uint64_t ms;
	int fd;

	put_file("cur/1.M1P1.h:2,", "x\n");
	put_file("cur/2.M1P1.h,S=2,W=3:2,", "y\n");
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	ms = f.highestmodseq;
	/* Dovecot sets flags, POP3 deletes, the MDA delivers */
	snprintf(a, sizeof(a), "%s/cur/1.M1P1.h:2,", root);
	snprintf(b, sizeof(b), "%s/cur/1.M1P1.h:2,RSa", root);
	TEST_ASSERT(rename(a, b) == 0);
	snprintf(a, sizeof(a), "%s/cur/2.M1P1.h,S=2,W=3:2,", root);
	TEST_ASSERT(unlink(a) == 0);
	put_file("new/3.M1P1.h", "zz\n");
	TEST_ASSERT(imap_folder_sync(&f, IMAP_SYNC_RECENT | IMAP_SYNC_FORCE,
				     &e) == 0);
	TEST_ASSERT(f.count == 3);
	TEST_ASSERT(f.msgs[0].changed && f.msgs[0].flags ==
		    (IMAP_F_SEEN | IMAP_F_ANSWERED) && f.msgs[0].keywords == 1);
	TEST_ASSERT(f.msgs[0].modseq > ms);
	TEST_ASSERT(f.msgs[1].expunged);
	TEST_ASSERT(f.msgs[2].uid == 3 && f.msgs[2].recent);
	/* a reader renamed the file: open_msg finds it by its base */
	snprintf(a, sizeof(a), "%s/cur/3.M1P1.h:2,", root);
	snprintf(b, sizeof(b), "%s/cur/3.M1P1.h:2,S", root);
	TEST_ASSERT(rename(a, b) == 0);
	TEST_ASSERT(imap_folder_open_msg(&f, 2, &fd) == 0);
	close(fd);
	TEST_ASSERT(unlink(b) == 0);
	TEST_ASSERT(imap_folder_open_msg(&f, 2, &fd) == -1 && errno == ENOENT);
	imap_folder_close(&f);
	maildir_remove(mfd);
}

static void test_append_copy_keywords(void)
{
	int mfd = maildir_make();
	struct imap_folder f, s;
	const char *e = NULL;
	char tmpl[] = "/tmp/test_imap_src.XXXXXX";
	int src = mkstemp(tmpl), fd;
	uint32_t uid = 0, cuid = 0;
	uint64_t size, vsize;
	time_t date;
	int k;

	unlink(tmpl);
	TEST_ASSERT(write(src, "Subject: x\n\nbody\n", 17) == 17);
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(imap_folder_open(&s, mfd, ".Sent", -1, 0, &e) == 0);
	k = imap_folder_keyword(&f, "$Forwarded", 1);
	TEST_ASSERT(k == 0);
	TEST_ASSERT(imap_folder_keyword(&f, "$forwarded", 0) == 0);
	TEST_ASSERT(imap_folder_keyword(&f, "Other", 0) == -1);
	TEST_ASSERT(exists("dovecot-keywords"));
	TEST_ASSERT(imap_folder_append(&f, src, 17, IMAP_F_SEEN, 1u << k,
				       1000000000, &uid, &e) == 0);
	TEST_ASSERT(uid == 1 && f.count == 1 && f.uidnext == 2);
	TEST_ASSERT(f.msgs[0].flags == IMAP_F_SEEN && f.msgs[0].keywords == 1);
	TEST_ASSERT(strstr(imap_folder_name(&f, 0), ",S=17,W=20:2,Sa") != NULL);
	TEST_ASSERT(imap_folder_msg_sizes(&f, 0, &size, &vsize, &date) == 0);
	TEST_ASSERT(size == 17 && vsize == 20 && date == 1000000000);
	/* again from the cache */
	TEST_ASSERT(imap_folder_flush(&f) == 0);
	TEST_ASSERT(imap_folder_msg_sizes(&f, 0, &size, &vsize, &date) == 0);
	TEST_ASSERT(size == 17 && vsize == 20 && date == 1000000000);
	TEST_ASSERT(imap_folder_copy(&f, 0, &s, &cuid, &e) == 0);
	TEST_ASSERT(cuid == 1 && s.count == 1);
	TEST_ASSERT(s.msgs[0].flags == IMAP_F_SEEN && s.msgs[0].keywords == 1);
	TEST_ASSERT(imap_folder_keyword(&s, "$Forwarded", 0) == 0);
	TEST_ASSERT(imap_folder_open_msg(&s, 0, &fd) == 0);
	{
		char buf[32];

		TEST_ASSERT(read(fd, buf, sizeof(buf)) == 17);
		close(fd);
	}
	/* a copy within the folder is a new message */
	TEST_ASSERT(imap_folder_copy(&f, 0, &f, &cuid, &e) == 0);
	TEST_ASSERT(cuid == 2 && f.count == 2);
	TEST_ASSERT(strcmp(imap_folder_name(&f, 0), imap_folder_name(&f, 1)));
	imap_folder_close(&s);
	/* the session's own appends are not news at the next sync */
	TEST_ASSERT(imap_folder_sync(&f, 0, &e) == 0);
	TEST_ASSERT(f.count == 2 && !f.msgs[1].expunged);
	imap_folder_close(&f);
	close(src);
	maildir_remove(mfd);
}

static void test_dovecot_import(void)
{
	int mfd = maildir_make();
	struct imap_folder f;
	const char *e = NULL;

	put_file("dovecot-uidlist", "3 V1234567 N20 G0123456789abcdef\n"
		 "5 :100.M1P1.h\n"
		 "7 W123 S99 :101.M1P1.h\n"
		 "9 :gone.M1P1.h\n");
	put_file("cur/100.M1P1.h:2,S", "a\n");
	put_file("cur/101.M1P1.h:2,", "b\n");
	put_file("new/102.M1P1.h", "c\n");
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.uidvalidity == 1234567);
	TEST_ASSERT(f.count == 3);
	TEST_ASSERT(f.msgs[0].uid == 5 && f.msgs[0].flags == IMAP_F_SEEN);
	TEST_ASSERT(f.msgs[1].uid == 7);
	TEST_ASSERT(f.msgs[2].uid == 20 && f.uidnext == 21);
	/* Dovecot's were seen: only the one it did not know is \Recent */
	TEST_ASSERT(!f.msgs[0].recent && !f.msgs[1].recent && f.msgs[2].recent);
	imap_folder_close(&f);
	maildir_remove(mfd);

	/* version 1 */
	mfd = maildir_make();
	put_file("dovecot-uidlist", "1 77 4\n2 a.M1P1.h\n3 b.M1P1.h:2,S\n");
	put_file("cur/b.M1P1.h:2,S", "b\n");
	put_file("cur/a.M1P1.h:2,", "a\n");
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.uidvalidity == 77 && f.count == 2);
	TEST_ASSERT(f.msgs[0].uid == 2 && f.msgs[1].uid == 3 &&
		    f.uidnext == 4);
	imap_folder_close(&f);
	maildir_remove(mfd);
}

static void test_cache_rebuild(void)
{
	int mfd = maildir_make();
	struct imap_folder a, b;
	const char *e = NULL;
	struct str v = STR_INIT(0);
	char p[256];

	put_file("cur/1.M1P1.h:2,", "x\n");
	put_file("cur/2.M1P1.h:2,", "y\n");
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(imap_folder_open(&b, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(imap_cache_put(&a, 1, IMAP_CACHE_ENVELOPE, "(env1)", 6) == 0);
	TEST_ASSERT(imap_cache_put(&a, 2, IMAP_CACHE_ENVELOPE, "(env2)", 6) == 0);
	TEST_ASSERT(imap_cache_get(&a, 1, IMAP_CACHE_BODY, &v) == 0);
	TEST_ASSERT(imap_folder_flush(&b) == 0);	/* b drops its lock */
	TEST_ASSERT(imap_folder_flush(&a) == 0);
	TEST_ASSERT(imap_cache_get(&a, 2, IMAP_CACHE_ENVELOPE, &v) == 1);
	TEST_ASSERT(v.len == 6 && memcmp(v.s, "(env2)", 6) == 0);
	/* the other handle sees it at its next command */
	TEST_ASSERT(imap_folder_sync(&b, 0, &e) == 0);
	TEST_ASSERT(imap_cache_get(&b, 1, IMAP_CACHE_ENVELOPE, &v) == 1);
	TEST_ASSERT(v.len == 6 && memcmp(v.s, "(env1)", 6) == 0);
	imap_folder_close(&a);
	imap_folder_close(&b);
	/* deleted: rebuilt, UIDs unchanged */
	snprintf(p, sizeof(p), "%s/%s", root, IMAP_CACHE_FILE);
	TEST_ASSERT(unlink(p) == 0);
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(a.count == 2 && a.msgs[1].uid == 2);
	TEST_ASSERT(imap_cache_get(&a, 1, IMAP_CACHE_ENVELOPE, &v) == 0);
	imap_folder_close(&a);
	/* corrupt: rebuilt too */
	put_file(IMAP_CACHE_FILE, "this is not a btree at all, not even close"
		 " ................................................");
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(a.count == 2 && a.msgs[1].uid == 2);
	TEST_ASSERT(imap_cache_put(&a, 1, IMAP_CACHE_ENVELOPE, "e", 1) == 0);
	TEST_ASSERT(imap_folder_flush(&a) == 0);
	TEST_ASSERT(imap_cache_get(&a, 1, IMAP_CACHE_ENVELOPE, &v) == 1);
	imap_folder_close(&a);
	/* the snapshot gives the same folder as the log */
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(a.count == 2 && a.msgs[0].uid == 1 && a.msgs[1].uid == 2);
	TEST_STREQ(imap_folder_name(&a, 1), "2.M1P1.h:2,");
	imap_folder_close(&a);
	str_free(&v);
	maildir_remove(mfd);
}

static void test_compact_status_pop3(void)
{
	int mfd = maildir_make();
	struct imap_folder f, g;
	struct imap_folder_status st;
	struct imap_pop3_list pl;
	const char *e = NULL;
	uint64_t gen;
	struct str set = STR_INIT(0);

	put_file("cur/1.M1P1.h:2,", "x\n");
	put_file("cur/2.M1P1.h:2,", "yy\n");
	put_file("new/3.M1P1.h", "zzz\n");
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 1, &e) == 0);
	TEST_ASSERT(imap_folder_open(&g, mfd, "", -1, 0, &e) == 0);
	gen = f.log.h.generation;
	/* many flag changes: the log outgrows its content */
	for (int i = 0; i < 3000; i++)
		TEST_ASSERT(imap_folder_store(&g, 0, (uint8_t)(i & 1 ?
			    IMAP_F_SEEN : 0), 0, &e) == 0);
	TEST_ASSERT(imap_folder_expunge(&g, 1, &e) == 0);
	TEST_ASSERT(imap_folder_flush(&g) == 0);
	TEST_ASSERT(g.log.h.generation != gen);
	/* the other handle follows the rewritten log */
	TEST_ASSERT(imap_folder_sync(&f, 0, &e) == 0);
	TEST_ASSERT(f.log.h.generation == g.log.h.generation);
	TEST_ASSERT(f.msgs[0].flags == IMAP_F_SEEN && f.msgs[1].expunged);
	TEST_ASSERT(f.highestmodseq == g.highestmodseq);
	TEST_ASSERT(imap_folder_vanished_since(&f, 1, &set) == 1);
	TEST_STREQ(str_c(&set), "2");
	imap_folder_close(&f);
	imap_folder_close(&g);
	{
		char p[256];	/* the rewritten log alone: */

		snprintf(p, sizeof(p), "%s/%s", root, IMAP_CACHE_FILE);
		TEST_ASSERT(unlink(p) == 0);
	}
	TEST_ASSERT(imap_folder_status(mfd, "", -1, &st, &e) == 0);
	TEST_ASSERT(st.messages == 2 && st.uidnext == 4 && st.unseen == 1);
	TEST_ASSERT(st.recent == 0);	/* g's claim kept by the rewrite */
	TEST_ASSERT(st.size == 3 + 5);
	TEST_ASSERT(imap_index_pop3_list(mfd, -1, 0, &pl, &e) == 0);
	TEST_ASSERT(pl.count == 2 && pl.msgs[0].uid == 1 && pl.msgs[1].uid == 3);
	TEST_ASSERT(pl.msgs[1].vsize == 5);
	TEST_STREQ(pl.msgs[1].name, "3.M1P1.h:2,");
	imap_index_pop3_list_free(&pl);
	str_free(&set);
	maildir_remove(mfd);
}

/* ---- own changes do not send the next sync to a scan -------------------- */

static void set_dir_mtime(const char *rel, time_t when)
{
	char p[512];
	struct timespec ts[2] = { { when, 0 }, { when, 0 } };

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	TEST_ASSERT(utimensat(AT_FDCWD, p, ts, 0) == 0);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Sleep past the timestamp tick of the last change (ext4: a jiffy). */
static void next_tick(void)
{
	struct timespec ts = { 0, 30000000L };

	nanosleep(&ts, NULL);
}

static void test_own_changes_no_rescan(void)
{
	int mfd = maildir_make();
	struct imap_folder a, b;
	const char *e = NULL;
	char name[128], from[512], to[512];
	struct timespec t0;
	unsigned long sa, sb;
	uint32_t uid, cuid, n;
	int src = open("/dev/null", O_RDONLY);

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "cur/%d.M%dP1.h,S=2,W=3:2,",
			 1600000000 + i / 10, i % 10);
		put_file(name, "x\n");
	}
	/* settled: the first scan is a clean one */
	set_dir_mtime("cur", time(NULL) - 100);
	set_dir_mtime("new", time(NULL) - 100);
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(imap_folder_open(&b, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(a.count == 5000 && b.count == 5000);
	TEST_ASSERT(!a.scan_dirty && a.verify_at == 0);
	n = a.count;
	sa = a.scans;
	sb = b.scans;
	/* STORE, EXPUNGE, APPEND, COPY: no scan by the one who made them,
	 * none by the other session, which learns them from the log */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TEST_ASSERT(imap_folder_store(&a, 17, IMAP_F_SEEN, 0, &e) == 0);
	TEST_ASSERT(imap_folder_flush(&a) == 0);
	TEST_ASSERT(imap_folder_sync(&a, IMAP_SYNC_RECENT, &e) == 0);
	printf("# STORE+flush+sync on %u messages: %.3f ms\n", n,
	       ms_since(&t0));
	TEST_ASSERT(a.scans == sa);
	TEST_ASSERT(a.verify_at > time(NULL));
	TEST_ASSERT(imap_folder_sync(&b, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(b.scans == sb);
	TEST_ASSERT(b.msgs[17].changed && b.msgs[17].flags == IMAP_F_SEEN);
	TEST_ASSERT(imap_folder_expunge(&a, 18, &e) == 0);
	TEST_ASSERT(imap_folder_append(&a, src, 0, 0, 0, 0, &uid, &e) == 0);
	TEST_ASSERT(imap_folder_copy(&a, 3, &a, &cuid, &e) == 0);
	TEST_ASSERT(imap_folder_store(&b, 19, IMAP_F_FLAGGED, 0, &e) == 0);
	TEST_ASSERT(imap_folder_flush(&a) == 0 && imap_folder_flush(&b) == 0);
	TEST_ASSERT(imap_folder_sync(&a, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(imap_folder_sync(&b, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(a.scans == sa && b.scans == sb);
	TEST_ASSERT(b.count == n + 2 && b.msgs[18].expunged);
	TEST_ASSERT(b.msgs[n].uid == uid && b.msgs[n + 1].uid == cuid);
	TEST_ASSERT(a.msgs[19].changed && a.msgs[19].flags == IMAP_F_FLAGGED);
	/* a reopen (snapshot or log) does not scan either */
	imap_folder_close(&b);
	TEST_ASSERT(imap_folder_open(&b, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(b.scans == 0 && b.count == n + 1);
	/* another program's rename is seen at once */
	next_tick();
	snprintf(from, sizeof(from), "%s/cur/%s", root, imap_folder_name(&a, 40));
	snprintf(to, sizeof(to), "%s/cur/%.*s:2,RS", root,
		 (int)strcspn(imap_folder_name(&a, 40), ":"),
		 imap_folder_name(&a, 40));
	TEST_ASSERT(rename(from, to) == 0);
	TEST_ASSERT(imap_folder_sync(&a, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(a.scans == sa + 1);
	TEST_ASSERT(a.msgs[40].changed &&
		    a.msgs[40].flags == (IMAP_F_SEEN | IMAP_F_ANSWERED));
	/* b learns it from a's log records */
	TEST_ASSERT(imap_folder_sync(&b, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(b.msgs[imap_folder_seq_of_uid(&b, a.msgs[40].uid) - 1]
		    .flags == (IMAP_F_SEEN | IMAP_F_ANSWERED));
	/* that scan saw another program's recent mtime: the next sync scans
	 * again (the tick may hold more), then it is explained */
	TEST_ASSERT(a.scan_dirty);
	sa = a.scans;
	TEST_ASSERT(imap_folder_sync(&a, 0, &e) == 0);
	TEST_ASSERT(a.scans == sa + 1);
	/* a change hidden in the tick of ours: the verification scan,
	 * IMAP_INDEX_VERIFY_SECS later, finds it */
	set_dir_mtime("cur", time(NULL) - 100);
	TEST_ASSERT(imap_folder_sync(&a, 0, &e) == 0);	/* (settles) */
	TEST_ASSERT(!a.scan_dirty && a.verify_at == 0);
	TEST_ASSERT(imap_folder_store(&a, 50, IMAP_F_DRAFT, 0, &e) == 0);
	{
		struct timespec ours;
		char p[512];
		struct stat st;

		snprintf(p, sizeof(p), "%s/cur", root);
		TEST_ASSERT(stat(p, &st) == 0);
		ours = st.st_mtim;
		snprintf(from, sizeof(from), "%s/cur/%s", root,
			 imap_folder_name(&a, 60));
		snprintf(to, sizeof(to), "%s/cur/%.*s:2,F", root,
			 (int)strcspn(imap_folder_name(&a, 60), ":"),
			 imap_folder_name(&a, 60));
		TEST_ASSERT(rename(from, to) == 0);
		/* as if in the same tick */
		TEST_ASSERT(utimensat(AT_FDCWD, p, (struct timespec[2]){ ours,
				      ours }, 0) == 0);
	}
	sa = a.scans;
	TEST_ASSERT(imap_folder_sync(&a, 0, &e) == 0);
	TEST_ASSERT(a.scans == sa && a.msgs[60].flags == 0);
	a.verify_at = time(NULL) - 1;
	TEST_ASSERT(imap_folder_sync(&a, 0, &e) == 0);
	TEST_ASSERT(a.scans == sa + 1 && a.msgs[60].flags == IMAP_F_FLAGGED);
	TEST_ASSERT(!a.scan_dirty && a.verify_at > time(NULL));
	imap_folder_close(&a);
	imap_folder_close(&b);
	close(src);
	maildir_remove(mfd);
}

/* ---- \Recent ---------------------------------------------------------------- */

static uint32_t count_recent(const struct imap_folder *f)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < f->count; i++)
		n += f->msgs[i].recent;
	return n;
}

static uint32_t status_recent(int mfd, const char *dir)
{
	struct imap_folder_status st;
	const char *e;

	if (imap_folder_status(mfd, dir, -1, &st, &e) < 0)
		return 9999;
	return st.recent;
}

/* APPEND as a session that has not selected dir does it. */
static void append_unselected(int mfd, const char *dir, int src, int n)
{
	struct imap_folder d;
	const char *e;
	uint32_t uid;

	TEST_ASSERT(imap_folder_open(&d, mfd, dir, -1, 1, &e) == 0);
	for (int k = 0; k < n; k++)
		TEST_ASSERT(imap_folder_append(&d, src, 17, 0, 0, 0, &uid,
					       &e) == 0);
	imap_folder_close(&d);
}

static void test_recent(void)
{
	int mfd = maildir_make(), src;
	struct imap_folder a, b, x;
	const char *e = NULL;
	char p[512];

	snprintf(p, sizeof(p), "%s/tmp/src", root);
	put_file("tmp/src", "Subject: hello\n\nhi\n");
	src = open(p, O_RDONLY);
	/* imaptest's select: two appends, EXAMINE and STATUS count them
	 * without claiming, SELECT claims them, then STATUS says 0 */
	append_unselected(mfd, ".Sent", src, 2);
	TEST_ASSERT(status_recent(mfd, ".Sent") == 2);
	TEST_ASSERT(imap_folder_open(&x, mfd, ".Sent", -1, 1, &e) == 0);
	TEST_ASSERT(x.count == 2 && count_recent(&x) == 2);
	imap_folder_close(&x);
	TEST_ASSERT(status_recent(mfd, ".Sent") == 2);
	TEST_ASSERT(imap_folder_open(&a, mfd, ".Sent", -1, 0, &e) == 0);
	TEST_ASSERT(count_recent(&a) == 2);
	imap_folder_close(&a);
	TEST_ASSERT(status_recent(mfd, ".Sent") == 0);
	TEST_ASSERT(imap_folder_open(&a, mfd, ".Sent", -1, 0, &e) == 0);
	TEST_ASSERT(count_recent(&a) == 0);
	imap_folder_close(&a);
	/* delivery into new/ and a file put in cur/ by another program */
	put_file("new/3000.M1P9.h", "a\n");
	put_file("cur/3001.M1P9.h:2,S", "b\n");
	TEST_ASSERT(status_recent(mfd, "") == 2);
	/* two sessions select INBOX: the first to sync claims */
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(imap_folder_open(&b, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(a.count == 2 && count_recent(&a) == 2);
	TEST_ASSERT(b.count == 2 && count_recent(&b) == 0);
	TEST_ASSERT(status_recent(mfd, "") == 0);
	/* COPY by a third session into INBOX (selected by a and b): b,
	 * the first to sync, gets them \Recent (imaptest's copy) */
	TEST_ASSERT(imap_folder_open(&x, mfd, ".Sent", -1, 0, &e) == 0);
	{
		struct imap_folder d;
		uint32_t uid;

		TEST_ASSERT(imap_folder_open(&d, mfd, "", -1, 1, &e) == 0);
		for (uint32_t i = 0; i < x.count; i++)
			TEST_ASSERT(imap_folder_copy(&x, i, &d, &uid, &e) == 0);
		imap_folder_close(&d);
	}
	TEST_ASSERT(status_recent(mfd, "") == 2);
	TEST_ASSERT(imap_folder_sync(&b, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(b.count == 4 && b.msgs[2].recent && b.msgs[3].recent);
	TEST_ASSERT(imap_folder_sync(&a, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(a.count == 4 && !a.msgs[2].recent && !a.msgs[3].recent);
	TEST_ASSERT(a.msgs[0].recent && count_recent(&a) == 2);
	/* a sync that does not claim (no IMAP_SYNC_RECENT) only counts */
	put_file("new/3002.M1P9.h", "c\n");
	TEST_ASSERT(imap_folder_sync(&a, 0, &e) == 0);
	TEST_ASSERT(a.count == 5 && a.msgs[4].recent);
	TEST_ASSERT(status_recent(mfd, "") == 1);
	/* APPEND into the folder a session selected read-write: claimed
	 * there (the other session syncs after it) */
	{
		uint32_t uid;

		TEST_ASSERT(imap_folder_append(&b, src, 17, 0, 0, 0, &uid,
					       &e) == 0);
		TEST_ASSERT(b.msgs[b.count - 1].uid == uid &&
			    b.msgs[b.count - 1].recent);
		TEST_ASSERT(b.msgs[4].recent);	/* claimed with it */
	}
	TEST_ASSERT(imap_folder_sync(&a, IMAP_SYNC_RECENT, &e) == 0);
	TEST_ASSERT(a.count == 6 && !a.msgs[5].recent);
	TEST_ASSERT(a.msgs[4].recent);	/* marked before: it stays */
	TEST_ASSERT(status_recent(mfd, "") == 0);
	imap_folder_close(&a);
	imap_folder_close(&b);
	imap_folder_close(&x);
	/* durable: from the snapshot, from the log alone, after a restart */
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(a.count == 6 && count_recent(&a) == 0);
	imap_folder_close(&a);
	snprintf(p, sizeof(p), "%s/%s", root, IMAP_CACHE_FILE);
	TEST_ASSERT(unlink(p) == 0);
	TEST_ASSERT(status_recent(mfd, "") == 0);
	TEST_ASSERT(imap_folder_open(&a, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(a.count == 6 && count_recent(&a) == 0);
	imap_folder_close(&a);
	close(src);
	maildir_remove(mfd);
}

/* ---- UIDVALIDITY of a folder made again ---------------------------------- */

static uint32_t counter_value(void)
{
	char p[256];
	unsigned v = 0;
	FILE *fp;

	snprintf(p, sizeof(p), "%s/postern-uidvalidity", root);
	fp = fopen(p, "r");
	if (fp != NULL) {
		if (fscanf(fp, "%u", &v) != 1)
			v = 0;
		fclose(fp);
	}
	return v;
}

/* The folder's index files gone, as DELETE then CREATE leave it. */
static void folder_forget(const char *dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s/postern-uidlog", root, dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s/postern-index.db", root, dir);
	unlink(p);
}

static void mkfolder(const char *dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/cur", root, dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/new", root, dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/tmp", root, dir);
	mkdir(p, 0700);
}

static void test_uidvalidity_recreated(void)
{
	int mfd = maildir_make(), ifd;
	struct imap_folder f;
	const char *e = NULL;
	uint32_t uv1, uv2, seen[40];
	char idx[64], p[128];

	TEST_ASSERT(imap_folder_open(&f, mfd, ".Sent", -1, 0, &e) == 0);
	uv1 = f.uidvalidity;
	imap_folder_close(&f);
	TEST_ASSERT(counter_value() == uv1);
	/* deleted and made again at once: not the same UIDVALIDITY */
	folder_forget(".Sent");
	TEST_ASSERT(imap_folder_open(&f, mfd, ".Sent", -1, 1, &e) == 0);
	uv2 = f.uidvalidity;
	imap_folder_close(&f);
	TEST_ASSERT(uv2 > uv1 && counter_value() == uv2);
	TEST_ASSERT(uv2 <= (uint32_t)time(NULL) || uv2 == uv1 + 1);
	/* a counter ahead of the clock (the clock went back) */
	put_file("postern-uidvalidity", "4000000000\n");
	folder_forget(".Sent");
	TEST_ASSERT(imap_folder_open(&f, mfd, ".Sent", -1, 0, &e) == 0);
	TEST_ASSERT(f.uidvalidity == 4000000001u);
	imap_folder_close(&f);
	/* the index elsewhere: the counter is still the Maildir's */
	snprintf(idx, sizeof(idx), "/tmp/test_imap_index_root.XXXXXX");
	TEST_ASSERT(mkdtemp(idx) != NULL);
	ifd = open(idx, O_RDONLY | O_DIRECTORY);
	mkfolder(".Other");
	TEST_ASSERT(imap_folder_open(&f, mfd, ".Other", ifd, 0, &e) == 0);
	TEST_ASSERT(f.uidvalidity == 4000000002u);
	imap_folder_close(&f);
	TEST_ASSERT(counter_value() == 4000000002u);
	snprintf(p, sizeof(p), "%s/postern-uidvalidity", idx);
	TEST_ASSERT(access(p, F_OK) < 0);
	snprintf(p, sizeof(p), "%s/postern-uidlog", idx);
	TEST_ASSERT(access(p, F_OK) == 0);
	close(ifd);
	snprintf(p, sizeof(p), "rm -rf %s", idx);
	TEST_ASSERT(system(p) == 0);
	/* four processes making ten folders each: forty UIDVALIDITYs */
	for (int k = 0; k < 40; k++) {
		snprintf(p, sizeof(p), ".C%d", k);
		mkfolder(p);
	}
	for (int c = 0; c < 4; c++) {
		if (fork() == 0) {
			for (int k = c; k < 40; k += 4) {
				snprintf(p, sizeof(p), ".C%d", k);
				if (imap_folder_open(&f, mfd, p, -1, 1, &e) < 0)
					_exit(1);
				imap_folder_close(&f);
			}
			_exit(0);
		}
	}
	for (int c = 0; c < 4; c++) {
		int st;

		TEST_ASSERT(wait(&st) > 0 && WIFEXITED(st) &&
			    WEXITSTATUS(st) == 0);
	}
	for (int k = 0; k < 40; k++) {
		snprintf(p, sizeof(p), ".C%d", k);
		TEST_ASSERT(imap_folder_open(&f, mfd, p, -1, 1, &e) == 0);
		seen[k] = f.uidvalidity;
		imap_folder_close(&f);
		TEST_ASSERT(seen[k] > 4000000002u);
		for (int j = 0; j < k; j++)
			TEST_ASSERT(seen[j] != seen[k]);
	}
	TEST_ASSERT(counter_value() == 4000000042u);
	maildir_remove(mfd);
}

/* ---- kill -9 ------------------------------------------------------------ */

/* The child: deliver, sync, append, store, expunge in a loop; after
 * each UID it learns (announced), write "uid base\n" to the pipe. */
static void crash_child(int mfd, int out, unsigned seed)
{
	struct imap_folder f;
	const char *e;
	char name[128], line[300];
	uint32_t uid, known = 0;

	srand(seed);
	if (imap_folder_open(&f, mfd, "", -1, 0, &e) < 0)
		_exit(2);
	for (int n = 0; ; n++) {
		int what = rand() % 4;

		if (what == 0) {
			snprintf(name, sizeof(name), "new/%d.M%dP%d.h", 2000 + n,
				 rand() % 1000, (int)getpid());
			put_file(name, "m\n");
			if (imap_folder_sync(&f, IMAP_SYNC_RECENT, &e) < 0)
				_exit(3);
		} else if (what == 1) {
			int src = open("/dev/null", O_RDONLY);

			if (imap_folder_append(&f, src, 0, 0, 0, 0, &uid, &e) < 0)
				_exit(4);
			close(src);
		} else if (what == 2 && f.count > 0) {
			(void)imap_folder_store(&f, (uint32_t)rand() % f.count,
						(uint8_t)(rand() & 0x1f), 0, &e);
		} else if (f.count > 4) {
			(void)imap_folder_expunge(&f, (uint32_t)rand() % f.count,
						  &e);
		}
		(void)imap_folder_flush(&f);
		for (; known < f.count; known++) {
			const char *nm = imap_folder_name(&f, known);
			int len = snprintf(line, sizeof(line), "%u %.*s\n",
					   f.msgs[known].uid,
					   (int)strcspn(nm, ":"), nm);

			if (write(out, line, (size_t)len) != len)
				_exit(5);
		}
	}
}

static void crash_check(int mfd, uint32_t uidvalidity, const char *announced)
{
	struct imap_folder f;
	const char *e = NULL, *p;
	int ok = 1;

	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	if (f.log.fd < 0)
		return;
	TEST_ASSERT(f.uidvalidity == uidvalidity);
	for (uint32_t i = 1; i < f.count; i++)
		if (f.msgs[i].uid <= f.msgs[i - 1].uid)
			ok = 0;
	/* every announced UID: still that base's, or gone, and below uidnext */
	for (p = announced; *p != '\0'; p = strchr(p, '\n') + 1) {
		unsigned uid;
		char base[200];
		uint32_t seq;

		if (strchr(p, '\n') == NULL)
			break;	/* the line the kill cut */
		if (sscanf(p, "%u %199s", &uid, base) != 2)
			continue;
		if (uid >= f.uidnext)
			ok = 0;
		seq = imap_folder_seq_of_uid(&f, uid);
		if (seq != 0 && strncmp(imap_folder_name(&f, seq - 1), base,
					strlen(base)) != 0)
			ok = 0;
	}
	/* no base twice */
	for (uint32_t i = 0; i < f.count; i++)
		for (uint32_t j = i + 1; j < f.count && j < i + 50; j++) {
			const char *x = imap_folder_name(&f, i);
			const char *y = imap_folder_name(&f, j);
			size_t lx = strcspn(x, ":"), ly = strcspn(y, ":");

			if (lx == ly && memcmp(x, y, lx) == 0)
				ok = 0;
		}
	TEST_ASSERT(ok);
	imap_folder_close(&f);
}

static void test_kill9(void)
{
	int mfd = maildir_make();
	struct imap_folder f;
	const char *e = NULL;
	struct str ann = STR_INIT(0);
	uint32_t uv;

	put_file("cur/1.M1P1.h:2,", "x\n");
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	uv = f.uidvalidity;
	imap_folder_close(&f);
	for (int round = 0; round < 25; round++) {
		int pfd[2];
		pid_t pid;
		char buf[4096];
		ssize_t n;
		struct timespec ts = { 0, 1000000L * (1 + rand() % 40) };

		TEST_ASSERT(pipe(pfd) == 0);
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			crash_child(mfd, pfd[1], (unsigned)round * 7919u + 1);
		}
		close(pfd[1]);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			str_append(&ann, buf, (size_t)n);
		close(pfd[0]);
		/* drop a cut last line */
		while (ann.len > 0 && ann.s[ann.len - 1] != '\n')
			ann.len--;
		str_truncate(&ann, ann.len);
		crash_check(mfd, uv, str_c(&ann));
	}
	str_free(&ann);
	maildir_remove(mfd);
}

TEST_MAIN(test_open_sync, test_store_expunge_two_handles,
	  test_other_programs, test_append_copy_keywords, test_dovecot_import,
	  test_cache_rebuild, test_compact_status_pop3,
	  test_own_changes_no_rescan, test_uidvalidity_recreated, test_recent,
	  test_kill9)
