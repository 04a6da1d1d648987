/*
 * test_pop3_mbox - postern-pop3's maildrop (pop3d/pop3_mbox.c) on a real
 * Maildir, in confined children
 *
 * ABI 1. On Landlock ABI 1 kernels (Linux 5.13-5.18) a rename between
 * directories under Landlock fails with EXDEV. postern-pop3 used to
 * confine itself before moving new/ to cur/, so there every session found
 * nothing new. Here a child acts as such a kernel
 * (sandbox_landlock_abi_cap(1)), runs the session's real opening
 * (pop3_mbox_open: open, new/ -> cur/, confine, list) and reads every
 * message; the parent then checks the Maildir: everything in cur/, nothing
 * left in new/. The same check is run on the old order (confine with a
 * profile that does not allow moves, then move) and must fail: that is
 * what the test exists to catch.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/imap_index.h"
#include "mail/maildir_open.h"
#include "mail/maildir_scan.h"
#include "pop3d/pop3.h"
#include "util/fileio.h"
#include "util/sandbox.h"

static char root[64];
/* The Landlock ABI the child acts on (set before it confines itself: a
 * confined process may not ask the kernel any more). */
static int child_abi;
/* Where the child's RETRs go: opened before it confines itself. */
static int out_fd = -1;

static const char *const new_msgs[] = {
	"Subject: one\n\nfirst body\n",
	"Subject: two\r\n\r\nsecond body\r\n.dot line\r\n",
	"Subject: three\n\nthird\nbody\n",
};

static void put_file(const char *rel, const char *content)
{
	struct str p = STR_INIT(0);
	int fd;

	str_appendf(&p, "%s/d.test/u/%s", root, rel);
	fd = open(str_c(&p), O_WRONLY | O_CREAT | O_EXCL, 0600);
	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(write(fd, content, strlen(content)) ==
		    (ssize_t)strlen(content));
	close(fd);
	str_free(&p);
}

/* mail_root/d.test/u: three messages in new/, one seen in cur/. */
static void make_maildir(void)
{
	char p[128];

	snprintf(root, sizeof(root), "/tmp/test_pop3_mbox.XXXXXX");
	TEST_ASSERT(mkdtemp(root) != NULL);
	snprintf(p, sizeof(p), "%s/d.test", root);
	TEST_ASSERT(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/d.test/u", root);
	TEST_ASSERT(mkdir(p, 0700) == 0);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/d.test/u/%s", root,
			 i == 0 ? "cur" : i == 1 ? "new" : "tmp");
		TEST_ASSERT(mkdir(p, 0700) == 0);
	}
	put_file("new/1700000001.M1P1Q1.h", new_msgs[0]);
	put_file("new/1700000002.M1P1Q1.h", new_msgs[1]);
	put_file("new/1700000003.M1P1Q1.h,S=28,W=32", new_msgs[2]);
	put_file("cur/1700000000.M1P1Q1.h:2,S", "Subject: old\n\nold\n");
}

static void remove_maildir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	TEST_ASSERT(system(cmd) == 0);
}

/* The entries of d.test/u/sub whose names contain with (NULL: all). */
static int count_dir(const char *sub, const char *with)
{
	char p[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(p, sizeof(p), "%s/d.test/u/%s", root, sub);
	d = opendir(p);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
		    (with == NULL || strstr(de->d_name, with) != NULL))
			n++;
	if (d != NULL)
		closedir(d);
	return n;
}

/* Run fn in a child as on a kernel with Landlock ABI abi_cap (-1: as it
 * is): its exit code, or 128 + signal. */
static int in_child(int abi_cap, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (abi_cap >= 0)
			sandbox_landlock_abi_cap(abi_cap);
		child_abi = sandbox_landlock_abi();
		out_fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
		_exit(out_fd < 0 ? 99 : fn());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status)
				   : WEXITSTATUS(status);
}

/* RETR (or TOP) of message i, through out_fd: 0 and the bytes in out. */
static int retr(struct pop3_mbox *mb, uint32_t i, long lines, struct str *out)
{
	struct io io;
	char buf[4096];
	off_t off = lseek(out_fd, 0, SEEK_CUR);
	ssize_t n;
	int r;

	io_init(&io, out_fd, 5000);
	r = pop3_mbox_send(mb, i, lines, &io, "t");
	if (io_flush(&io) < 0)
		r = -2;
	io_free(&io);
	str_clear(out);
	for (; r == 0 && (n = pread(out_fd, buf, sizeof(buf), off)) > 0;
	     off += n)
		str_append(out, buf, (size_t)n);
	return r;
}

/* The session's real opening; then every message read, one marked seen,
 * one deleted. Exit codes say what went wrong. */
static int session(void)
{
	struct pop3_mbox mb;
	struct sandbox_report sb;
	struct str out = STR_INIT(0);
	const char *error;

	if (pop3_mbox_open(&mb, root, "U@D.test", "t", 1, &sb, &error) < 0)
		return 10;
	if (child_abi > 0 && (!sb.landlock || sb.landlock_abi != child_abi))
		return 11;	/* POP3 keeps Landlock, on ABI 1 too */
	if (!sb.seccomp)
		return 12;
	if (mb.moved != 3 || mb.n != 4)
		return 13;
	for (uint32_t i = 0; i < mb.n; i++)
		if (retr(&mb, i, -1, &out) != 0 || out.len < 10 ||
		    memcmp(out.s, "+OK ", 4) != 0 ||
		    memcmp(out.s + out.len - 5, "\r\n.\r\n", 5) != 0)
			return 14;
	/* message 3 is the CRLF one, its dot line stuffed */
	if (retr(&mb, 2, -1, &out) != 0 ||
	    strstr(str_c(&out), "\r\n..dot line\r\n.\r\n") == NULL)
		return 15;
	if (child_abi > 0 && open("/etc/passwd", O_RDONLY) >= 0)
		return 16;	/* confined to the Maildir */
	mb.msgs[1].seen = 1;
	mb.msgs[3].deleted = 1;
	{
		unsigned deleted;

		if (pop3_mbox_commit(&mb, "t", &deleted) != 0 || deleted != 1)
			return 17;
	}
	pop3_mbox_close(&mb);
	str_free(&out);
	return 0;
}

/* What the Maildir must look like after session(): 0 if so. */
static int check_after(void)
{
	if (count_dir("new", NULL) != 0)
		return 1;	/* new mail never reached cur/ */
	if (count_dir("cur", NULL) != 3 || count_dir("cur", ":2,") != 3)
		return 2;
	if (count_dir("cur", ":2,S") != 2)	/* old one, and message 2 */
		return 3;
	return 0;
}

static void test_session_on_abi1(void)
{
	/* without Landlock in the kernel this still checks the order */
	make_maildir();
	TEST_ASSERT(in_child(1, session) == 0);
	TEST_ASSERT(check_after() == 0);
	remove_maildir();
}

static void test_session_on_this_kernel(void)
{
	make_maildir();
	TEST_ASSERT(in_child(-1, session) == 0);
	TEST_ASSERT(check_after() == 0);
	remove_maildir();
}

/* The old order: confine (a profile without moves: Landlock without REFER
 * on ABI 1), then move new/ -> cur/. */
static int old_order(void)
{
	struct mailbox_path mp;
	struct sandbox_report sb;
	const char *error;
	unsigned moved = 0;
	int fd, cur;

	if (mailbox_path_from_addr("u@d.test", &mp, &error) < 0 ||
	    maildir_open(root, &mp, &fd, &error) < 0 ||
	    (cur = maildir_open_dir(fd, "cur")) < 0)
		return 20;
	if (maildir_confine(fd, "test-old-order", 0, &sb, &error) < 0 ||
	    !sb.landlock)
		return 21;
	(void)maildir_scan_new(fd, cur, "t", &moved);
	return moved == 0 ? 0 : 22;
}

static void test_old_order_fails_on_abi1(void)
{
	if (sandbox_landlock_abi() < 1) {
		printf("SKIP test_pop3_mbox:old-order (no Landlock here)\n");
		return;
	}
	make_maildir();
	TEST_ASSERT(in_child(1, old_order) == 0);
	/* the check above catches it */
	TEST_ASSERT(check_after() == 1);
	TEST_ASSERT(count_dir("new", NULL) == 3);
	remove_maildir();
}

/* A profile that moves after confining (IMAP: new mail during a session)
 * runs without Landlock on ABI 1, and its moves work; with ABI 2 or later
 * it keeps Landlock and they work too. */
static int move_after(void)
{
	struct mailbox_path mp;
	struct sandbox_report sb;
	const char *error;
	unsigned moved = 0;
	int fd, cur;

	if (mailbox_path_from_addr("u@d.test", &mp, &error) < 0 ||
	    maildir_open(root, &mp, &fd, &error) < 0 ||
	    (cur = maildir_open_dir(fd, "cur")) < 0)
		return 30;
	if (maildir_confine(fd, "test-move", MAILDIR_CONFINE_MOVE, &sb,
			    &error) < 0)
		return 31;
	if (sb.landlock != (child_abi >= 2))
		return 32;
	if (maildir_scan_new(fd, cur, "t", &moved) < 0 || moved != 3)
		return 33;
	return 0;
}

static void test_move_flag(void)
{
	make_maildir();
	TEST_ASSERT(in_child(1, move_after) == 0);
	TEST_ASSERT(count_dir("new", NULL) == 0);
	remove_maildir();
	make_maildir();
	TEST_ASSERT(in_child(-1, move_after) == 0);
	TEST_ASSERT(count_dir("new", NULL) == 0);
	remove_maildir();
}

/* Refused before anything is opened: what the rule refuses, a symbolic
 * link where a Maildir should be. */
static int bad_addresses(void)
{
	struct pop3_mbox mb;
	struct sandbox_report sb;
	const char *error;
	char link[128];

	if (pop3_mbox_open(&mb, root, "..@d.test", "t", 1, &sb, &error) == 0)
		return 40;
	pop3_mbox_close(&mb);
	if (pop3_mbox_open(&mb, root, "u@d.test@x", "t", 1, &sb, &error) == 0)
		return 41;
	pop3_mbox_close(&mb);
	snprintf(link, sizeof(link), "%s/d.test/v", root);
	if (symlink("u", link) < 0)
		return 42;
	if (pop3_mbox_open(&mb, root, "v@d.test", "t", 1, &sb, &error) == 0 ||
	    (errno != ELOOP && errno != ENOTDIR) ||
	    strcmp(error, "open Maildir") != 0)
		return 43;
	pop3_mbox_close(&mb);
	return 0;
}

static void test_refusals(void)
{
	make_maildir();
	TEST_ASSERT(in_child(-1, bad_addresses) == 0);
	TEST_ASSERT(count_dir("new", NULL) == 3);
	remove_maildir();
}

/* TOP 0 of a CRLF message whose header's empty line has its CR as the
 * last byte of the first 64 KiB read: the header only. */
static int top_at_boundary(void)
{
	struct pop3_mbox mb;
	struct sandbox_report sb;
	struct str out = STR_INIT(0);
	const char *error;

	if (pop3_mbox_open(&mb, root, "u@d.test", "t", 1, &sb, &error) < 0)
		return 50;
	for (uint32_t i = 0; i < mb.n; i++) {
		if (strstr(pop3_mbox_name(&mb, i), "big") == NULL)
			continue;
		if (retr(&mb, i, 0, &out) != 0)
			return 51;
		if (strstr(str_c(&out), "body line") != NULL)
			return 52;	/* body sent for TOP n 0 */
		if (out.len != 5 + 65537 + 3)	/* +OK, header, "." */
			return 53;
		return 0;
	}
	return 54;
}

static void test_top_at_read_boundary(void)
{
	struct str msg = STR_INIT(0);

	make_maildir();
	while (msg.len < 65536 - 1 - 200)
		str_appendf(&msg, "X-Pad-%05zu: %0100d\r\n", msg.len, 0);
	str_appends(&msg, "X-Fill: ");
	while (msg.len < 65536 - 3)
		str_appendc(&msg, 'f');
	str_appends(&msg, "\r\n\r\nbody line 1\r\nbody line 2\r\n");
	put_file("cur/1700000009.M1P1Q1.big:2,", str_c(&msg));
	TEST_ASSERT(in_child(-1, top_at_boundary) == 0);
	remove_maildir();
	str_free(&msg);
}

/* ---- the folder index shared with IMAP ---------------------------------- */

/* Where indexed_session() writes its UIDLs (made by the parent). */
static int list_fd = -1;

static int maildir_fd(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/d.test/u", root);
	return open(p, O_RDONLY | O_DIRECTORY);
}

/* The session's opening and QUIT with message 1 (UID order) deleted and
 * message 2 retrieved; UID and UIDL in order into list_fd, one a line. */
static int indexed_session(void)
{
	struct pop3_mbox mb;
	struct sandbox_report sb;
	const char *error;
	unsigned deleted;

	if (pop3_mbox_open(&mb, root, "u@d.test", "t", 1, &sb, &error) < 0)
		return 60;
	if (mb.uids == NULL || mb.n != 5)
		return 61;	/* listed without the index */
	for (uint32_t i = 0; i < mb.n; i++) {
		const char *n = pop3_mbox_name(&mb, i);

		if (dprintf(list_fd, "%u %.*s\n", mb.uids[i],
			    (int)strcspn(n, ":"), n) < 0)
			return 62;
	}
	mb.msgs[0].deleted = 1;
	mb.msgs[1].seen = 1;
	if (pop3_mbox_commit(&mb, "t", &deleted) != 0 || deleted != 1)
		return 63;
	pop3_mbox_close(&mb);
	return 0;
}

static void test_index_shared_with_imap(void)
{
	struct imap_folder f;
	const char *e = NULL;
	char buf[1024];
	ssize_t n;
	unsigned long scans;
	int mfd;

	make_maildir();
	mfd = maildir_fd();
	/* IMAP numbered the Maildir first: 1700000000 is UID 1, the three
	 * of new/ 2, 3, 4; then an older name is delivered: UID 5, listed
	 * last by POP3 too (IMAP's order, not the names') */
	TEST_ASSERT(imap_folder_open(&f, mfd, "", -1, 0, &e) == 0);
	TEST_ASSERT(f.count == 4);
	put_file("new/1600000000.M1P1Q1.h", "Subject: late\n\nlate\n");
	list_fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	TEST_ASSERT(in_child(-1, indexed_session) == 0);
	n = pread(list_fd, buf, sizeof(buf) - 1, 0);
	TEST_ASSERT(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	TEST_STREQ(buf, "1 1700000000.M1P1Q1.h\n"
		   "2 1700000001.M1P1Q1.h\n"
		   "3 1700000002.M1P1Q1.h\n"
		   "4 1700000003.M1P1Q1.h,S=28,W=32\n"
		   "5 1600000000.M1P1Q1.h\n");
	close(list_fd);
	list_fd = -1;
	/* the IMAP session learns POP3's expunge and \Seen from the log */
	scans = f.scans;
	TEST_ASSERT(imap_folder_sync(&f, 0, &e) == 0);
	TEST_ASSERT(f.msgs[0].expunged);
	TEST_ASSERT(f.msgs[1].changed && (f.msgs[1].flags & IMAP_F_SEEN));
	TEST_ASSERT(f.count == 5 && f.msgs[4].uid == 5);
	(void)scans;	/* (new/ moved by POP3 outside the lock: a scan) */
	{
		struct str log = STR_INIT(0), p = STR_INIT(0);

		/* POP3 logged them itself: X and F records */
		str_appendf(&p, "%s/d.test/u/postern-uidlog", root);
		TEST_ASSERT(file_read_all(str_c(&p), &log, 1 << 20) == 0);
		TEST_ASSERT(strstr(str_c(&log), "\nX 1 ") != NULL);
		TEST_ASSERT(strstr(str_c(&log), "\nF 2 ") != NULL);
		str_free(&log);
		str_free(&p);
	}
	TEST_ASSERT(count_dir("cur", NULL) == 4);
	TEST_ASSERT(count_dir("cur", "1700000001.M1P1Q1.h:2,S") == 1);
	imap_folder_close(&f);
	close(mfd);
	remove_maildir();
}

TEST_MAIN(test_session_on_abi1, test_session_on_this_kernel,
	  test_old_order_fails_on_abi1, test_move_flag, test_refusals,
	  test_top_at_read_boundary, test_index_shared_with_imap)
