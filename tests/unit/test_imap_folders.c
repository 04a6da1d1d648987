/*
 * test_imap_folders - Maildir++ folders (imapd/imap_folders.h): names and
 * their directory names, LIST patterns, and CREATE, LIST, SUBSCRIBE,
 * RENAME, DELETE and the special-use folders in temporary Maildirs, among
 * them one laid out as Dovecot 2.3 leaves it
 * (tests/integration/test_imap_folders_dovecot.py checks the same layout
 * against Dovecot itself)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "imapd/imap_folders.h"
#include "util/fileio.h"
#include "test.h"

/* ---- fixtures ----------------------------------------------------------- */

struct md {
	char path[64];
	int fd;
};

/* A Maildir (cur, new, tmp) in a fresh temporary directory under base. */
static int md_open_in(struct md *m, const char *base)
{
	snprintf(m->path, sizeof(m->path), "%s/test_imap_folders.XXXXXX",
		 base);
	m->fd = -1;
	if (mkdtemp(m->path) == NULL)
		return -1;
	m->fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->fd < 0 || mkdirat(m->fd, "cur", 0700) < 0 ||
	    mkdirat(m->fd, "new", 0700) < 0 || mkdirat(m->fd, "tmp", 0700) < 0)
		return -1;
	return 0;
}

static int md_open(struct md *m)
{
	return md_open_in(m, "/tmp");
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* on: a failure leaves one entry behind, not the rest */
	(void)(type == FTW_DP ? rmdir(path) : unlink(path));
	return 0;
}

static void md_close(struct md *m)
{
	if (m->fd >= 0)
		(void)close(m->fd);
	(void)nftw(m->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 if path (beneath the Maildir) is a directory / a regular file. */
static int is_dir(const struct md *m, const char *path)
{
	struct stat st;

	return fstatat(m->fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

static int is_file(const struct md *m, const char *path)
{
	struct stat st;

	return fstatat(m->fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

static int exists(const struct md *m, const char *path)
{
	struct stat st;

	return fstatat(m->fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A folder's directory as another program makes it: dirname/cur, new, tmp
 * (with_cur 0: the bare directory). */
static int raw_folder(const struct md *m, const char *dirname, int with_cur)
{
	int fd, r = 0;

	if (mkdirat(m->fd, dirname, 0700) < 0)
		return -1;
	if (!with_cur)
		return 0;
	fd = openat(m->fd, dirname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (mkdirat(fd, "cur", 0700) < 0 || mkdirat(fd, "new", 0700) < 0 ||
	    mkdirat(fd, "tmp", 0700) < 0)
		r = -1;
	(void)close(fd);
	return r;
}

static int put_file(const struct md *m, const char *path, const char *text)
{
	const char *err;

	return file_write_atomic_at(m->fd, path, text, strlen(text), 0600, 0,
				    &err);
}

/* The whole file path of the Maildir ("(none)" if missing). */
static const char *get_file(const struct md *m, const char *path,
			    struct str *out)
{
	if (file_read_all_at(m->fd, path, out, 1 << 20) < 0)
		str_sets(out, "(none)");
	return str_c(out);
}

/* The number of entries in the Maildir (its own files and folders). */
static int count_entries(const struct md *m)
{
	int fd = openat(m->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n++;
	(void)closedir(d);
	return n;
}

/* The listing as text: one line "name ATTR ATTR" per folder, attributes
 * in the order of their bits. */
static const char *listing(const struct md *m, struct str *out)
{
	struct imap_folder_list l;

	str_clear(out);
	if (imap_folders_list(m->fd, &l) < 0) {
		str_sets(out, "(list failed)");
		return str_c(out);
	}
	for (size_t i = 0; i < l.n; i++) {
		str_appends(out, l.e[i].name);
		for (unsigned bit = 1; bit <= IMAP_FA_FLAGGED; bit <<= 1)
			if (l.e[i].attrs & bit)
				str_appendf(out, " %s",
					    imap_folder_attr_name(bit));
		str_appendc(out, '\n');
	}
	imap_folder_list_free(&l);
	return str_c(out);
}

static int create(const struct md *m, const char *name)
{
	const char *err = NULL;
	int r = imap_folders_create(m->fd, name, 0, &err);

	if (r == 0)
		return 0;
	TEST_ASSERT(err != NULL);
	return -errno;
}

/* ---- names -------------------------------------------------------------- */

static const struct { const char *name, *dirname; } names[] = {
	{ "Sent", ".Sent" },
	{ "Lists.Work", ".Lists.Work" },
	{ "Entw\xc3\xbcrfe", ".Entw&APw-rfe" },
	{ "Lists.Entw\xc3\xbcrfe.Alt", ".Lists.Entw&APw-rfe.Alt" },
	{ "A&B", ".A&-B" },
	{ "&", ".&-" },
	{ "INBOX.x", ".INBOX.x" },
	{ "inbox.x", ".inbox.x" },
	{ "x.INBOX", ".x.INBOX" },
	{ "a b.c d", ".a b.c d" },
	{ "a~", ".a~" },
	{ "\xd0\x9f\xd0\xbe\xd1\x87\xd1\x82\xd0\xb0", ".&BB8EPgRHBEIEMA-" },
	{ "\xf0\x9f\x98\x80", ".&2D3eAA-" },
	{ "\xe5\x8f\xb0\xe5\x8c\x97.x", ".&U,BTFw-.x" },
};

static void test_dirname_round_trip(void)
{
	struct str dir = STR_INIT(0), back = STR_INIT(0);
	const char *err;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		err = NULL;
		TEST_ASSERT(imap_folder_dirname(names[i].name, &dir, &err) == 0);
		TEST_STREQ(str_c(&dir), names[i].dirname);
		TEST_ASSERT(imap_folder_from_dirname(names[i].dirname,
						     &back) == 0);
		TEST_STREQ(str_c(&back), names[i].name);
		TEST_ASSERT(!imap_folder_is_inbox(names[i].name));
	}
	str_free(&dir);
	str_free(&back);
}

static void test_inbox_any_case(void)
{
	static const char *const inboxes[] = { "INBOX", "inbox", "InBoX",
					       "Inbox", "iNBOX" };
	static const char *const others[] = { "INBOXX", "INBO", "INBOX.",
					      "INBOX.x", " INBOX", "" };
	struct str dir = STR_INIT(0);
	const char *err = NULL;

	for (size_t i = 0; i < sizeof(inboxes) / sizeof(inboxes[0]); i++) {
		TEST_ASSERT(imap_folder_is_inbox(inboxes[i]));
		str_sets(&dir, "junk");
		TEST_ASSERT(imap_folder_dirname(inboxes[i], &dir, &err) == 0);
		TEST_STREQ(str_c(&dir), "");
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		TEST_ASSERT(!imap_folder_is_inbox(others[i]));
	str_free(&dir);
}

static void test_dirname_refused(void)
{
	static const char *const bad[] = {
		"", ".", "..", "a..b", ".a", "a.", "a.b.", "~x", "a.~x", "~",
		"a/b", "/", "../x", "a\\b", "a\tb", "a\x01", "\x1f", "a\x7f",
		"a\nb", "a\rb", "*", "a*", "%", "a%b", "a.%",
		"\xff", "a\xc3", "\xc3\x28", "\xc0\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\x80x",
	};
	struct str dir = STR_INIT(0), longname = STR_INIT(0);
	const char *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		errno = 0;
		TEST_ASSERT(imap_folder_dirname(bad[i], &dir, &err) == -1);
		TEST_ASSERT(errno == EINVAL);
		TEST_ASSERT(err != NULL);
		if (imap_folder_dirname(bad[i], &dir, &err) == 0)
			printf("  accepted: \"%s\"\n", bad[i]);
	}
	/* IMAP_FOLDER_NAME_MAX bytes pass, one more does not */
	for (int i = 0; i < IMAP_FOLDER_NAME_MAX; i++)
		str_appendc(&longname, i % 50 == 49 ? '.' : 'a');
	TEST_ASSERT(imap_folder_dirname(str_c(&longname), &dir, &err) == 0);
	TEST_ASSERT(dir.len == IMAP_FOLDER_NAME_MAX + 1);
	str_appendc(&longname, 'a');
	errno = 0;
	TEST_ASSERT(imap_folder_dirname(str_c(&longname), &dir, &err) == -1);
	TEST_ASSERT(errno == EINVAL);
	str_free(&dir);
	str_free(&longname);
}

/* Directory names that are not folders. */
static void test_from_dirname_refused(void)
{
	static const char *const bad[] = {
		"", ".", "..", "..x", "..DOVECOT-TRASHED", "x", "cur", "tmp",
		"dovecot.index", "subscriptions", "postern-deleted.A.12",
		".a..b", ".a.", ".a.b.", "...",
		".~x", ".a.~x",
		".INBOX", ".inbox", ".InBox",
		".&", ".&-x&", ".&AOk", ".&AOk.x", ".&Jjo!-",
		/* shifted printable ASCII must be direct */
		".&AGE-", ".&ACo-", ".&ACU-",
		/* decodes to a refused name: '/', TAB, DEL, NUL, a surrogate */
		".&AC8-", ".&AAk-", ".&AH8-", ".&AAA-", ".&2D0-",
		/* raw 8-bit or control bytes are not mUTF-7 */
		".Entw\xc3\xbcrfe", ".a\tb",
		".*", ".a%", ".a\\b",
	};
	struct str name = STR_INIT(0), longdir = STR_INIT(0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TEST_ASSERT(imap_folder_from_dirname(bad[i], &name) == -1);
		if (imap_folder_from_dirname(bad[i], &name) == 0)
			printf("  accepted: \"%s\" -> \"%s\"\n", bad[i],
			       str_c(&name));
	}
	/* a name past IMAP_FOLDER_NAME_MAX */
	str_appendc(&longdir, '.');
	for (int i = 0; i <= IMAP_FOLDER_NAME_MAX; i++)
		str_appendc(&longdir, 'a');
	TEST_ASSERT(imap_folder_from_dirname(str_c(&longdir), &name) == -1);
	str_truncate(&longdir, longdir.len - 1);
	TEST_ASSERT(imap_folder_from_dirname(str_c(&longdir), &name) == 0);
	str_free(&name);
	str_free(&longdir);
}

/* ---- LIST patterns ------------------------------------------------------ */

static const struct { const char *pattern, *name; int match; } matches[] = {
	{ "*", "A", 1 },
	{ "*", "A.B.C", 1 },
	{ "*", "INBOX", 1 },
	{ "%", "A", 1 },
	{ "%", "A.B", 0 },
	{ "%", "INBOX", 1 },
	{ "A", "A", 1 },
	{ "A", "a", 0 },
	{ "A", "AB", 0 },
	{ "AB", "A", 0 },
	{ "", "A", 0 },
	{ "A.%", "A.B", 1 },
	{ "A.%", "A.B.C", 0 },
	{ "A.%", "A", 0 },
	{ "A.*", "A.B.C", 1 },
	{ "A*", "A", 1 },
	{ "A*", "AB.C", 1 },
	{ "A%", "AB", 1 },
	{ "A%", "AB.C", 0 },
	{ "%.%", "A.B", 1 },
	{ "%.%", "A.B.C", 0 },
	{ "%.B", "A.B", 1 },
	{ "%.%.%", "A.B.C", 1 },
	{ "a%b", "ab", 1 },
	{ "a%b", "axxb", 1 },
	{ "a%b", "a.b", 0 },
	{ "a*b", "a.b", 1 },
	{ "a*b", "a.x.bb", 1 },
	{ "a*b", "a.x.bc", 0 },
	{ "%%", "A", 1 },
	{ "%%", "A.B", 0 },
	{ "%*", "A.B", 1 },
	{ "*%", "A.B", 1 },
	{ "*.%", "A.B.C", 1 },
	{ "%.*", "A.B.C", 1 },
	{ "Entw*", "Entw\xc3\xbcrfe", 1 },
	{ "*rfe", "Entw\xc3\xbcrfe", 1 },
	{ "Entw%rfe", "Entw\xc3\xbcrfe", 1 },
	{ "Entw\xc3\xbc%", "Entw\xc3\xbcrfe", 1 },
	{ "Entw\xc3\x9c%", "Entw\xc3\xbcrfe", 0 },
	/* INBOX in any case, also as the first level */
	{ "INBOX", "INBOX", 1 },
	{ "inbox", "INBOX", 1 },
	{ "InBoX", "INBOX", 1 },
	{ "INBOX.%", "inbox.x", 1 },
	{ "inbox.%", "INBOX.x", 1 },
	{ "Inbox.*", "INBOX.x.y", 1 },
	{ "INBOX.%", "INBOX.x.y", 0 },
	{ "INBOX.%", "INBOX", 0 },
	{ "INBOX*", "INBOX", 1 },
	{ "inbox*", "INBOX", 1 },
	{ "inb%", "INBOX", 1 },
	{ "Inbox.X", "INBOX.x", 0 },
	{ "INBOX.x", "INBOX.X", 0 },
	{ "inboxx", "INBOXX", 0 },
	{ "INBOXX", "inboxx", 0 },
	{ "sent", "Sent", 0 },
	{ "*a*a*a*a*b", "aaaab", 1 },
	{ "*a*a*a*a*b", "xaxaxaxaxb", 1 },
	{ "*a*a*a*a*b", "aaab", 0 },
	{ "%a%a%a%a%b", "aaaab", 1 },
	{ "%a%a%a%a%b", "aaaa.b", 0 },
};

static void test_match(void)
{
	for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		int r = imap_folder_match(matches[i].pattern, matches[i].name);

		TEST_ASSERT(r == matches[i].match);
		if (r != matches[i].match)
			printf("  pattern \"%s\" name \"%s\": %d\n",
			       matches[i].pattern, matches[i].name, r);
	}
}

/* Backtracking patterns against long names: each answer in well under a
 * second (the alarm ends the test program if not). */
static void test_match_pathological(void)
{
	static const char *const patterns[] = {
		"*a*a*a*a*b", "%a%a%a%a%b", "*a%a*a%a*a%a*a%a*b",
		"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
	};
	struct str name = STR_INIT(0), pat = STR_INIT(0);

	for (int i = 0; i < IMAP_FOLDER_NAME_MAX; i++)
		str_appendc(&name, 'a');
	alarm(20);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		TEST_ASSERT(imap_folder_match(patterns[i], str_c(&name)) == 0);
	/* 200 wildcards, and a name that does match */
	for (int i = 0; i < 200; i++)
		str_appends(&pat, "*a");
	str_appends(&pat, "*b");
	TEST_ASSERT(imap_folder_match(str_c(&pat), str_c(&name)) == 0);
	str_appendc(&name, 'b');
	TEST_ASSERT(imap_folder_match(str_c(&pat), str_c(&name)) == 1);
	alarm(0);
	str_free(&name);
	str_free(&pat);
}

/* ---- CREATE ------------------------------------------------------------- */

static void test_create(void)
{
	struct md m;
	static const char *const made[] = {
		".Sent", ".Lists.Work", ".Entw&APw-rfe", ".INBOX.x",
	};

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(create(&m, "Sent") == 0);
	TEST_ASSERT(create(&m, "Lists.Work") == 0);
	TEST_ASSERT(create(&m, "Entw\xc3\xbcrfe") == 0);
	TEST_ASSERT(create(&m, "INBOX.x") == 0);
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		struct str p = STR_INIT(0);

		TEST_ASSERT(is_dir(&m, made[i]));
		str_appendf(&p, "%s/cur", made[i]);
		TEST_ASSERT(is_dir(&m, str_c(&p)));
		str_clear(&p);
		str_appendf(&p, "%s/new", made[i]);
		TEST_ASSERT(is_dir(&m, str_c(&p)));
		str_clear(&p);
		str_appendf(&p, "%s/tmp", made[i]);
		TEST_ASSERT(is_dir(&m, str_c(&p)));
		str_clear(&p);
		str_appendf(&p, "%s/maildirfolder", made[i]);
		TEST_ASSERT(is_file(&m, str_c(&p)));
		str_free(&p);
	}
	/* a parent is not made for its child */
	TEST_ASSERT(!exists(&m, ".Lists"));
	TEST_ASSERT(create(&m, "Sent") == -EEXIST);
	TEST_ASSERT(create(&m, "Entw\xc3\xbcrfe") == -EEXIST);
	TEST_ASSERT(create(&m, "INBOX") == -EEXIST);
	TEST_ASSERT(create(&m, "inbox") == -EEXIST);
	TEST_ASSERT(create(&m, "a..b") == -EINVAL);
	TEST_ASSERT(create(&m, "../x") == -EINVAL);
	TEST_ASSERT(create(&m, "~root") == -EINVAL);
	TEST_ASSERT(!exists(&m, "..x") && !exists(&m, ".~root"));
	/* nothing but the folders, and no special-use file */
	TEST_ASSERT(count_entries(&m) == 2 + 3 + 4);
	md_close(&m);
}

/* ---- LIST --------------------------------------------------------------- */

static void test_list(void)
{
	struct md m;
	struct str out = STR_INIT(0);

	TEST_ASSERT(md_open(&m) == 0);
	TEST_STREQ(listing(&m, &out), "INBOX \\HasNoChildren\n");
	TEST_ASSERT(create(&m, "Zeta") == 0);
	TEST_ASSERT(create(&m, "B") == 0);
	TEST_ASSERT(create(&m, "B.x") == 0);
	TEST_ASSERT(create(&m, "B x") == 0);
	TEST_ASSERT(create(&m, "Entw\xc3\xbcrfe") == 0);
	TEST_ASSERT(create(&m, "Archive2") == 0);
	/* not folders: no cur/, a file, a symlink, bad names, a deletion */
	TEST_ASSERT(raw_folder(&m, ".nocur", 0) == 0);
	TEST_ASSERT(put_file(&m, ".afile", "x") == 0);
	TEST_ASSERT(symlinkat(".B", m.fd, ".link") == 0);
	TEST_ASSERT(raw_folder(&m, "..DOVECOT-TRASHED", 1) == 0);
	TEST_ASSERT(raw_folder(&m, ".&AC8-", 1) == 0);
	TEST_ASSERT(raw_folder(&m, ".a..b", 1) == 0);
	TEST_ASSERT(raw_folder(&m, ".INBOX", 1) == 0);
	TEST_ASSERT(raw_folder(&m, "postern-deleted.Q.1", 1) == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Archive2 \\HasNoChildren\n"
		   "B \\HasChildren\n"
		   "B x \\HasNoChildren\n"
		   "B.x \\HasNoChildren\n"
		   "Entw\xc3\xbcrfe \\HasNoChildren\n"
		   "Zeta \\HasNoChildren\n");
	md_close(&m);
	str_free(&out);
}

/* Parents without directories: ".A.B" alone gives "A" \NonExistent; two
 * such parents in one listing; INBOX's children. */
static void test_list_parents(void)
{
	struct md m;
	struct str out = STR_INIT(0);
	struct imap_folder_list l;

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(raw_folder(&m, ".A.B", 1) == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "A \\NonExistent \\HasChildren\n"
		   "A.B \\HasNoChildren\n");
	TEST_ASSERT(raw_folder(&m, ".C.D.E", 1) == 0);
	TEST_ASSERT(raw_folder(&m, ".Archive", 1) == 0);
	TEST_ASSERT(raw_folder(&m, ".INBOX.x", 1) == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasChildren\n"
		   "A \\NonExistent \\HasChildren\n"
		   "A.B \\HasNoChildren\n"
		   "Archive \\HasNoChildren \\Archive\n"
		   "C \\NonExistent \\HasChildren\n"
		   "C.D \\NonExistent \\HasChildren\n"
		   "C.D.E \\HasNoChildren\n"
		   "INBOX.x \\HasNoChildren\n");
	TEST_ASSERT(imap_folders_list(m.fd, &l) == 0);
	TEST_ASSERT(imap_folder_list_find(&l, "inbox") == &l.e[0]);
	TEST_ASSERT(imap_folder_list_find(&l, "C.D") != NULL);
	TEST_ASSERT(imap_folder_list_find(&l, "c.d") == NULL);
	TEST_ASSERT(imap_folder_list_find(&l, "Z") == NULL);
	imap_folder_list_free(&l);
	TEST_ASSERT(l.n == 0 && l.e == NULL);
	md_close(&m);
	str_free(&out);
}

/* ---- SUBSCRIBE ---------------------------------------------------------- */

static int subscribe(const struct md *m, const char *name, int on)
{
	const char *err = NULL;
	int r = imap_folders_subscribe(m->fd, name, on, &err);

	if (r == 0)
		return 0;
	TEST_ASSERT(err != NULL);
	return -errno;
}

static void test_subscribe(void)
{
	struct md m;
	struct str out = STR_INIT(0), file = STR_INIT(0);

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(create(&m, "Lists.Work") == 0);
	TEST_ASSERT(subscribe(&m, "Lists.Work", 1) == 0);
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nLists\tWork\n");
	TEST_ASSERT(subscribe(&m, "Entw\xc3\xbcrfe", 1) == 0);
	TEST_ASSERT(subscribe(&m, "Lists.Work", 1) == 0);
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nLists\tWork\nEntw&APw-rfe\n");
	TEST_ASSERT(subscribe(&m, "inbox", 1) == 0);
	TEST_ASSERT(subscribe(&m, "INBOX", 1) == 0);
	TEST_ASSERT(subscribe(&m, "Old.Gone", 1) == 0);
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nLists\tWork\nEntw&APw-rfe\nINBOX\nOld\tGone\n");
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren \\Subscribed\n"
		   "Entw\xc3\xbcrfe \\NonExistent \\HasNoChildren "
		   "\\Subscribed\n"
		   "Lists \\NonExistent \\HasChildren\n"
		   "Lists.Work \\HasNoChildren \\Subscribed\n"
		   "Old \\NonExistent \\HasNoChildren\n"
		   "Old.Gone \\NonExistent \\HasNoChildren \\Subscribed\n");
	TEST_ASSERT(subscribe(&m, "a..b", 1) == -EINVAL);
	TEST_ASSERT(subscribe(&m, "Lists.Work", 0) == 0);
	TEST_ASSERT(subscribe(&m, "Lists.Work", 0) == -ENOENT);
	TEST_ASSERT(subscribe(&m, "Never", 0) == -ENOENT);
	TEST_ASSERT(subscribe(&m, "InBox", 0) == 0);
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nEntw&APw-rfe\nOld\tGone\n");
	TEST_ASSERT(subscribe(&m, "Old.Gone", 0) == 0);
	TEST_ASSERT(subscribe(&m, "Entw\xc3\xbcrfe", 0) == 0);
	TEST_STREQ(get_file(&m, "subscriptions", &file), "V\t2\n\n");
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Lists \\NonExistent \\HasChildren\n"
		   "Lists.Work \\HasNoChildren\n");
	md_close(&m);
	str_free(&out);
	str_free(&file);
}

/* Files written by others: version 1 (no header, '.' separators), and
 * lines that are no folder's name. */
static void test_subscriptions_read(void)
{
	struct md m;
	struct str out = STR_INIT(0), file = STR_INIT(0);

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(raw_folder(&m, ".Lists.Work", 1) == 0);
	TEST_ASSERT(put_file(&m, "subscriptions",
			     "Lists.Work\nEntw&APw-rfe\nINBOX\n\n"
			     "a..b\n../x\n&AC8-\nLast") == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren \\Subscribed\n"
		   "Entw\xc3\xbcrfe \\NonExistent \\HasNoChildren "
		   "\\Subscribed\n"
		   "Last \\NonExistent \\HasNoChildren \\Subscribed\n"
		   "Lists \\NonExistent \\HasChildren\n"
		   "Lists.Work \\HasNoChildren \\Subscribed\n");
	/* a change writes version 2, without the names that are not ones */
	TEST_ASSERT(subscribe(&m, "Last", 0) == 0);
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nLists\tWork\nEntw&APw-rfe\nINBOX\n");
	/* version 2 with a name containing a TAB-escape (Dovecot's \001) is
	 * ignored, not misread */
	TEST_ASSERT(put_file(&m, "subscriptions",
			     "V\t2\n\nLists\tWork\nx\001ty\n") == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Lists \\NonExistent \\HasChildren\n"
		   "Lists.Work \\HasNoChildren \\Subscribed\n");
	md_close(&m);
	str_free(&out);
	str_free(&file);
}

/* ---- RENAME ------------------------------------------------------------- */

static int rename_folder(const struct md *m, const char *from,
			 const char *to)
{
	const char *err = NULL;
	int r = imap_folders_rename(m->fd, from, to, &err);

	if (r == 0)
		return 0;
	TEST_ASSERT(err != NULL);
	return -errno;
}

static void test_rename(void)
{
	struct md m;
	struct str out = STR_INIT(0);

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(create(&m, "A") == 0);
	TEST_ASSERT(create(&m, "A.x") == 0);
	TEST_ASSERT(create(&m, "A.x.y") == 0);
	TEST_ASSERT(create(&m, "Ab") == 0);
	TEST_ASSERT(create(&m, "A b") == 0);
	TEST_ASSERT(put_file(&m, ".A.x/cur/1.m:2,S", "msg") == 0);
	TEST_ASSERT(rename_folder(&m, "A", "B") == 0);
	TEST_ASSERT(is_dir(&m, ".B/cur") && is_dir(&m, ".B.x/cur") &&
		    is_dir(&m, ".B.x.y/cur"));
	TEST_ASSERT(is_file(&m, ".B.x/cur/1.m:2,S"));
	TEST_ASSERT(!exists(&m, ".A") && !exists(&m, ".A.x") &&
		    !exists(&m, ".A.x.y"));
	TEST_ASSERT(is_dir(&m, ".Ab") && is_dir(&m, ".A b"));
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "A b \\HasNoChildren\n"
		   "Ab \\HasNoChildren\n"
		   "B \\HasChildren\n"
		   "B.x \\HasChildren\n"
		   "B.x.y \\HasNoChildren\n");
	/* into a new hierarchy level, and to a non-ASCII name */
	TEST_ASSERT(rename_folder(&m, "B.x", "Entw\xc3\xbcrfe.x") == 0);
	TEST_ASSERT(is_dir(&m, ".Entw&APw-rfe.x") &&
		    is_dir(&m, ".Entw&APw-rfe.x.y"));
	TEST_ASSERT(rename_folder(&m, "B", "B.sub") == 0);
	TEST_ASSERT(is_dir(&m, ".B.sub") && !exists(&m, ".B"));
	/* refused */
	TEST_ASSERT(rename_folder(&m, "Ab", "A b") == -EEXIST);
	TEST_ASSERT(rename_folder(&m, "Ab", "INBOX") == -EEXIST);
	TEST_ASSERT(rename_folder(&m, "Ab", "inbox") == -EEXIST);
	TEST_ASSERT(rename_folder(&m, "Nothing", "New") == -ENOENT);
	TEST_ASSERT(rename_folder(&m, "Ab", "a..b") == -EINVAL);
	TEST_ASSERT(rename_folder(&m, "a%", "b") == -EINVAL);
	TEST_ASSERT(!exists(&m, ".New"));
	/* a child's new name is taken: nothing moves */
	TEST_ASSERT(create(&m, "C") == 0);
	TEST_ASSERT(create(&m, "C.x") == 0);
	TEST_ASSERT(create(&m, "D.x") == 0);
	TEST_ASSERT(rename_folder(&m, "C", "D") == -EEXIST);
	TEST_ASSERT(is_dir(&m, ".C") && is_dir(&m, ".C.x") &&
		    !exists(&m, ".D"));
	md_close(&m);
	str_free(&out);
}

/* RENAME INBOX: its messages of cur/ and new/ into the new folder; INBOX
 * stays, empty, and keeps its children. */
static void test_rename_inbox(void)
{
	struct md m;
	struct str out = STR_INIT(0);

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(create(&m, "INBOX.kid") == 0);
	TEST_ASSERT(put_file(&m, "cur/1.a:2,S", "one") == 0);
	TEST_ASSERT(put_file(&m, "cur/2.b:2,", "two") == 0);
	TEST_ASSERT(put_file(&m, "new/3.c", "three") == 0);
	TEST_ASSERT(put_file(&m, "tmp/4.d", "partial") == 0);
	TEST_ASSERT(rename_folder(&m, "inbox", "Old") == 0);
	TEST_ASSERT(is_file(&m, ".Old/cur/1.a:2,S") &&
		    is_file(&m, ".Old/cur/2.b:2,") &&
		    is_file(&m, ".Old/new/3.c"));
	TEST_ASSERT(is_file(&m, ".Old/maildirfolder"));
	TEST_ASSERT(!exists(&m, "cur/1.a:2,S") && !exists(&m, "cur/2.b:2,") &&
		    !exists(&m, "new/3.c"));
	TEST_ASSERT(is_dir(&m, "cur") && is_dir(&m, "new") &&
		    is_file(&m, "tmp/4.d"));
	TEST_ASSERT(is_dir(&m, ".INBOX.kid") && !exists(&m, ".Old.kid"));
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasChildren\n"
		   "INBOX.kid \\HasNoChildren\n"
		   "Old \\HasNoChildren\n");
	TEST_ASSERT(rename_folder(&m, "INBOX", "Old") == -EEXIST);
	TEST_ASSERT(rename_folder(&m, "INBOX", "Old2") == 0);
	TEST_ASSERT(is_dir(&m, ".Old2/cur"));
	md_close(&m);
	str_free(&out);
}

/* ---- DELETE ------------------------------------------------------------- */

static int delete_folder(const struct md *m, const char *name)
{
	const char *err = NULL;
	int r = imap_folders_delete(m->fd, name, &err);

	if (r == 0)
		return 0;
	TEST_ASSERT(err != NULL);
	return -errno;
}

static void test_delete(void)
{
	struct md m;
	struct str out = STR_INIT(0);
	int before;

	TEST_ASSERT(md_open(&m) == 0);
	before = count_entries(&m);
	TEST_ASSERT(create(&m, "A") == 0);
	TEST_ASSERT(create(&m, "A.x") == 0);
	TEST_ASSERT(put_file(&m, ".A/cur/1.m:2,S", "msg") == 0);
	TEST_ASSERT(put_file(&m, ".A/dovecot-uidlist", "3 V1 2\n") == 0);
	TEST_ASSERT(delete_folder(&m, "A") == 0);
	TEST_ASSERT(!exists(&m, ".A") && is_dir(&m, ".A.x/cur"));
	TEST_ASSERT(count_entries(&m) == before + 1);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "A \\NonExistent \\HasChildren\n"
		   "A.x \\HasNoChildren\n");
	TEST_ASSERT(delete_folder(&m, "A") == -ENOENT);
	TEST_ASSERT(delete_folder(&m, "INBOX") == -EPERM);
	TEST_ASSERT(delete_folder(&m, "Inbox") == -EPERM);
	TEST_ASSERT(delete_folder(&m, "a..b") == -EINVAL);
	TEST_ASSERT(raw_folder(&m, ".nocur", 0) == 0);
	TEST_ASSERT(delete_folder(&m, "nocur") == -ENOENT);
	TEST_ASSERT(delete_folder(&m, "A.x") == 0);
	TEST_STREQ(listing(&m, &out), "INBOX \\HasNoChildren\n");
	/* a crash between the rename and the removal */
	TEST_ASSERT(raw_folder(&m, "postern-deleted.Z.123", 1) == 0);
	TEST_ASSERT(put_file(&m, "postern-deleted.Z.123/cur/1.x", "x") == 0);
	TEST_ASSERT(raw_folder(&m, "postern-deleted.Y.x.99", 0) == 0);
	TEST_STREQ(listing(&m, &out), "INBOX \\HasNoChildren\n");
	imap_folders_sweep(m.fd);
	TEST_ASSERT(!exists(&m, "postern-deleted.Z.123") &&
		    !exists(&m, "postern-deleted.Y.x.99"));
	TEST_ASSERT(is_dir(&m, ".nocur") && is_dir(&m, "cur"));
	md_close(&m);
	str_free(&out);
}

/* ---- special use -------------------------------------------------------- */

static void test_use_parse(void)
{
	static const struct { const char *atom; unsigned bit; } uses[] = {
		{ "\\Sent", IMAP_FA_SENT }, { "\\sent", IMAP_FA_SENT },
		{ "\\SENT", IMAP_FA_SENT }, { "\\Drafts", IMAP_FA_DRAFTS },
		{ "\\Trash", IMAP_FA_TRASH }, { "\\Junk", IMAP_FA_JUNK },
		{ "\\Archive", IMAP_FA_ARCHIVE }, { "\\All", IMAP_FA_ALL },
		{ "\\Flagged", IMAP_FA_FLAGGED }, { "Sent", 0 },
		{ "\\Sentx", 0 }, { "\\Sen", 0 }, { "\\HasChildren", 0 },
		{ "\\NonExistent", 0 }, { "\\Subscribed", 0 }, { "", 0 },
	};

	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		TEST_ASSERT(imap_folder_use_parse(uses[i].atom,
						  strlen(uses[i].atom)) ==
			    uses[i].bit);
	/* the length counts, not a NUL */
	TEST_ASSERT(imap_folder_use_parse("\\Sent)", 5) == IMAP_FA_SENT);
	TEST_STREQ(imap_folder_attr_name(IMAP_FA_SENT), "\\Sent");
	TEST_STREQ(imap_folder_attr_name(IMAP_FA_NONEXISTENT),
		   "\\NonExistent");
	TEST_STREQ(imap_folder_attr_name(IMAP_FA_HASNOCHILDREN),
		   "\\HasNoChildren");
	TEST_ASSERT(imap_folder_attr_name(IMAP_FA_SENT | IMAP_FA_JUNK) ==
		    NULL);
	TEST_ASSERT(imap_folder_attr_name(0) == NULL);
}

static void test_ensure_special(void)
{
	struct md m;
	struct str out = STR_INIT(0), file = STR_INIT(0);
	const char *err = NULL;
	int n;

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(imap_folders_ensure_special(m.fd, &err) == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Archive \\HasNoChildren \\Subscribed \\Archive\n"
		   "Drafts \\HasNoChildren \\Subscribed \\Drafts\n"
		   "Junk \\HasNoChildren \\Subscribed \\Junk\n"
		   "Sent \\HasNoChildren \\Subscribed \\Sent\n"
		   "Trash \\HasNoChildren \\Subscribed \\Trash\n");
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nDrafts\nSent\nTrash\nJunk\nArchive\n");
	TEST_ASSERT(is_file(&m, ".Sent/maildirfolder"));
	n = count_entries(&m);
	TEST_ASSERT(imap_folders_ensure_special(m.fd, &err) == 0);
	TEST_ASSERT(count_entries(&m) == n);
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nDrafts\nSent\nTrash\nJunk\nArchive\n");
	md_close(&m);

	/* another client's names count ("Sent Messages", "Deleted Items",
	 * "Spam"); a subfolder named Sent does not */
	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(create(&m, "Sent Messages") == 0);
	TEST_ASSERT(create(&m, "Deleted Items") == 0);
	TEST_ASSERT(create(&m, "Spam") == 0);
	TEST_ASSERT(create(&m, "Work.Drafts") == 0);
	TEST_ASSERT(imap_folders_ensure_special(m.fd, &err) == 0);
	TEST_ASSERT(!exists(&m, ".Sent") && !exists(&m, ".Trash") &&
		    !exists(&m, ".Junk"));
	TEST_ASSERT(is_dir(&m, ".Drafts") && is_dir(&m, ".Archive"));
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nDrafts\nArchive\n");
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Archive \\HasNoChildren \\Subscribed \\Archive\n"
		   "Deleted Items \\HasNoChildren \\Trash\n"
		   "Drafts \\HasNoChildren \\Subscribed \\Drafts\n"
		   "Sent Messages \\HasNoChildren \\Sent\n"
		   "Spam \\HasNoChildren \\Junk\n"
		   "Work \\NonExistent \\HasChildren\n"
		   "Work.Drafts \\HasNoChildren\n");
	md_close(&m);
	str_free(&out);
	str_free(&file);
}

/* CREATE (USE (\Sent)): kept in postern-special-use; follows RENAME, goes
 * with DELETE. */
static void test_create_special_use(void)
{
	struct md m;
	struct str out = STR_INIT(0), file = STR_INIT(0);
	const char *err = NULL;
	unsigned sent = imap_folder_use_parse("\\Sent", 5);
	unsigned arch = imap_folder_use_parse("\\archive", 8);

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(imap_folders_create(m.fd, "Outbox", sent, &err) == 0);
	TEST_ASSERT(imap_folders_create(m.fd, "Old.Mail", arch | sent,
					&err) == 0);
	TEST_STREQ(get_file(&m, "postern-special-use", &file),
		   "\\Sent\t.Outbox\n"
		   "\\Sent\t.Old.Mail\n"
		   "\\Archive\t.Old.Mail\n");
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Old \\NonExistent \\HasChildren\n"
		   "Old.Mail \\HasNoChildren \\Sent \\Archive\n"
		   "Outbox \\HasNoChildren \\Sent\n");
	/* Sent is there: the first login makes the others only */
	TEST_ASSERT(imap_folders_ensure_special(m.fd, &err) == 0);
	TEST_ASSERT(!exists(&m, ".Sent") && !exists(&m, ".Archive"));
	TEST_ASSERT(is_dir(&m, ".Drafts") && is_dir(&m, ".Trash") &&
		    is_dir(&m, ".Junk"));
	/* RENAME keeps the use, DELETE drops it */
	TEST_ASSERT(imap_folders_rename(m.fd, "Old", "New", &err) == -1);
	TEST_ASSERT(imap_folders_rename(m.fd, "Old.Mail", "Mail2005",
					&err) == 0);
	TEST_ASSERT(imap_folders_delete(m.fd, "Outbox", &err) == 0);
	TEST_STREQ(get_file(&m, "postern-special-use", &file),
		   "\\Sent\t.Mail2005\n"
		   "\\Archive\t.Mail2005\n");
	TEST_ASSERT(imap_folders_create(m.fd, "Outbox", 0, &err) == 0);
	TEST_ASSERT(imap_folders_create(m.fd, "Box", IMAP_FA_JUNK, &err) == 0);
	TEST_ASSERT(imap_folders_create(m.fd, "Box.In", 0, &err) == 0);
	TEST_ASSERT(imap_folders_rename(m.fd, "Box", "Crate", &err) == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Crate \\HasChildren \\Junk\n"
		   "Crate.In \\HasNoChildren\n"
		   "Drafts \\HasNoChildren \\Subscribed \\Drafts\n"
		   "Junk \\HasNoChildren \\Subscribed \\Junk\n"
		   "Mail2005 \\HasNoChildren \\Sent \\Archive\n"
		   "Outbox \\HasNoChildren\n"
		   "Trash \\HasNoChildren \\Subscribed \\Trash\n");
	/* the last lines go */
	TEST_ASSERT(imap_folders_delete(m.fd, "Mail2005", &err) == 0);
	TEST_ASSERT(imap_folders_delete(m.fd, "Crate", &err) == 0);
	TEST_STREQ(get_file(&m, "postern-special-use", &file), "");
	TEST_ASSERT(imap_folders_create(m.fd, "Crate", 0, &err) == 0);
	TEST_ASSERT(strstr(listing(&m, &out), "Crate \\HasChildren\n") != NULL);
	md_close(&m);
	str_free(&out);
	str_free(&file);
}

static int is_tmpfs(const char *path)
{
	struct statfs fs;

	return statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

/* IMAP_FOLDERS_MAX folders listed; CREATE past it is ENOSPC. */
static void test_folders_max(void)
{
	struct md m;
	struct imap_folder_list l;
	char dir[32];

	/* 20000 directories: in memory if there is a tmpfs */
	TEST_ASSERT(md_open_in(&m, is_tmpfs("/dev/shm") ? "/dev/shm" :
						      "/tmp") == 0);
	for (int i = 1; i < IMAP_FOLDERS_MAX; i++) {
		snprintf(dir, sizeof(dir), ".f%05d", i);
		if (mkdirat(m.fd, dir, 0700) < 0)
			break;
		snprintf(dir, sizeof(dir), ".f%05d/cur", i);
		if (mkdirat(m.fd, dir, 0700) < 0)
			break;
	}
	TEST_ASSERT(imap_folders_list(m.fd, &l) == 0);
	TEST_ASSERT(l.n == IMAP_FOLDERS_MAX);
	imap_folder_list_free(&l);
	TEST_ASSERT(create(&m, "one more") == -ENOSPC);
	TEST_ASSERT(!exists(&m, ".one more"));
	TEST_ASSERT(delete_folder(&m, "f00001") == 0);
	TEST_ASSERT(create(&m, "one more") == 0);
	md_close(&m);
}

/* A Maildir as Dovecot 2.3 leaves it (tests/integration/
 * test_imap_folders_dovecot.py checks: CREATE "Entw&APw-rfe", CREATE
 * Lists.Work, SUBSCRIBE both, CREATE Trash.Old, CREATE Trash, DELETE
 * Trash), plus the "..DOVECOT-TRASHED" an interrupted DELETE of Dovecot
 * leaves: its index files are not folders, its subscriptions file is
 * read. */
static void test_dovecot_maildir(void)
{
	struct md m;
	struct str out = STR_INIT(0), file = STR_INIT(0);

	TEST_ASSERT(md_open(&m) == 0);
	TEST_ASSERT(put_file(&m, "dovecot-uidlist", "3 V1 2 N1\n") == 0);
	TEST_ASSERT(put_file(&m, "dovecot-uidvalidity", "6b1536ba") == 0);
	TEST_ASSERT(put_file(&m, "dovecot.index.log", "") == 0);
	TEST_ASSERT(put_file(&m, "dovecot.list.index.log", "") == 0);
	TEST_ASSERT(put_file(&m, "dovecot.mailbox.log", "") == 0);
	TEST_ASSERT(put_file(&m, "subscriptions",
			     "V\t2\n\nLists\tWork\nEntw&APw-rfe\n") == 0);
	TEST_ASSERT(raw_folder(&m, ".Entw&APw-rfe", 1) == 0);
	TEST_ASSERT(put_file(&m, ".Entw&APw-rfe/maildirfolder", "") == 0);
	TEST_ASSERT(put_file(&m, ".Entw&APw-rfe/dovecot-uidlist", "") == 0);
	TEST_ASSERT(raw_folder(&m, ".Lists.Work", 1) == 0);
	TEST_ASSERT(put_file(&m, ".Lists.Work/maildirfolder", "") == 0);
	TEST_ASSERT(raw_folder(&m, ".Trash.Old", 1) == 0);
	TEST_ASSERT(raw_folder(&m, "..DOVECOT-TRASHED", 1) == 0);
	TEST_STREQ(listing(&m, &out),
		   "INBOX \\HasNoChildren\n"
		   "Entw\xc3\xbcrfe \\HasNoChildren \\Subscribed\n"
		   "Lists \\NonExistent \\HasChildren\n"
		   "Lists.Work \\HasNoChildren \\Subscribed\n"
		   "Trash \\NonExistent \\HasChildren\n"
		   "Trash.Old \\HasNoChildren\n");
	/* and postern's changes keep Dovecot's format */
	TEST_ASSERT(subscribe(&m, "Trash.Old", 1) == 0);
	TEST_STREQ(get_file(&m, "subscriptions", &file),
		   "V\t2\n\nLists\tWork\nEntw&APw-rfe\nTrash\tOld\n");
	md_close(&m);
	str_free(&out);
	str_free(&file);
}

/* For tests/integration/test_imap_folders_dovecot.py, which compares
 * with Dovecot: POSTERN_TEST_FOLDERS_MAKE=DIR makes folders and
 * subscriptions in the Maildir DIR with postern's functions;
 * POSTERN_TEST_FOLDERS_LIST=DIR prints DIR's listing as "LISTED name
 * ATTRS" lines. Neither set: nothing to do. */
static void test_env_maildir(void)
{
	static const char *const made[] = {
		"Lists.Work", "Entw\xc3\xbcrfe", "A.B.C", "Old", "Old.kid",
		"Gone", "P", "P.kid", "INBOX.x", "a&b", "Z y",
	};
	static const char *const subscribed[] = {
		"Lists.Work", "Entw\xc3\xbcrfe", "Nowhere", "A.B.C", "INBOX",
		"Old", "Far.Away",
	};
	const char *make = getenv("POSTERN_TEST_FOLDERS_MAKE");
	const char *list = getenv("POSTERN_TEST_FOLDERS_LIST");
	const char *err = NULL;
	struct str out = STR_INIT(0);
	struct md m = { .fd = -1 };

	if (make != NULL) {
		m.fd = open(make, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		TEST_ASSERT(m.fd >= 0);
		TEST_ASSERT(imap_folders_ensure_special(m.fd, &err) == 0);
		for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
			TEST_ASSERT(create(&m, made[i]) == 0);
		for (size_t i = 0; i < sizeof(subscribed) /
				       sizeof(subscribed[0]); i++)
			TEST_ASSERT(subscribe(&m, subscribed[i], 1) == 0);
		TEST_ASSERT(rename_folder(&m, "Old", "New") == 0);
		TEST_ASSERT(delete_folder(&m, "Gone") == 0);
		TEST_ASSERT(delete_folder(&m, "P") == 0);
		(void)close(m.fd);
	}
	if (list != NULL) {
		const char *p, *nl;

		m.fd = open(list, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		TEST_ASSERT(m.fd >= 0);
		for (p = listing(&m, &out); (nl = strchr(p, '\n')); p = nl + 1)
			printf("LISTED %.*s\n", (int)(nl - p), p);
		(void)close(m.fd);
	}
	str_free(&out);
}

TEST_MAIN(test_dirname_round_trip, test_inbox_any_case, test_dirname_refused,
	  test_from_dirname_refused, test_match, test_match_pathological,
	  test_create, test_list, test_list_parents, test_subscribe,
	  test_subscriptions_read, test_rename, test_rename_inbox, test_delete,
	  test_use_parse, test_ensure_special, test_create_special_use,
	  test_folders_max, test_dovecot_maildir, test_env_maildir)
