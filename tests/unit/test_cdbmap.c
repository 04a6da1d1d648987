/*
 * test_cdbmap - building, committing, aborting, looking up and refreshing
 * cdb maps, each test in its own directory under $TMPDIR (or /tmp)
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "util/cdbmap.h"
#include "util/fileio.h"
#include "util/str.h"

static char test_dir[256];
static struct str map_path = STR_INIT(0);

static void dir_setup(void)
{
	const char *t = getenv("TMPDIR");
	struct str tmpl = STR_INIT(sizeof(test_dir) - 1);

	if (str_appendf(&tmpl, "%s/test_cdbmap.XXXXXX", t ? t : "/tmp") < 0 ||
	    cstr_copy(test_dir, sizeof(test_dir), tmpl.s) < 0 ||
	    mkdtemp(test_dir) == NULL ||
	    path_join(&map_path, test_dir, "users.cdb") < 0) {
		perror("mkdtemp");
		exit(1);
	}
	str_free(&tmpl);
}

/* Remove the files of test_dir (flat) and the directory. */
static void dir_teardown(void)
{
	struct str sub = STR_INIT(0);
	struct dirent *de;
	DIR *d = opendir(test_dir);

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (path_join(&sub, test_dir, de->d_name) == 0 &&
		    strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    unlink(sub.s) < 0)
			(void)rmdir(sub.s);
	}
	if (d != NULL)
		closedir(d);
	str_free(&sub);
	(void)rmdir(test_dir);
}

static int dir_entries(void)
{
	struct dirent *de;
	DIR *d = opendir(test_dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Build map_path from "key=value" strings; 0 or -1. */
static int build(const char *const *pairs, size_t n, mode_t mode)
{
	struct cdbmap_writer w;
	const char *err = NULL;
	size_t i;

	if (cdbmap_build_begin(&w, map_path.s, mode, &err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(pairs[i], '=');

		if (cdbmap_build_add(&w, pairs[i], (size_t)(eq - pairs[i]),
				     eq + 1, strlen(eq + 1)) < 0) {
			cdbmap_build_abort(&w);
			return -1;
		}
	}
	return cdbmap_build_commit(&w, &err);
}

static const char *const users[] = {
	"alice@example.test=1", "bob@example.test=2", "=empty key",
	"novalue=",
};

static void test_build_lookup(void)
{
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;
	struct stat st;

	dir_setup();
	TEST_ASSERT(build(users, 4, 0640) == 0);
	TEST_ASSERT(stat(map_path.s, &st) == 0 && (st.st_mode & 07777) == 0640);
	TEST_ASSERT(dir_entries() == 1);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(m.fd >= 0);
	TEST_ASSERT(cdbmap_lookup(&m, "alice@example.test", 18, &val) == 1);
	TEST_STREQ(str_c(&val), "1");
	TEST_ASSERT(cdbmap_lookup(&m, "bob@example.test", 16, &val) == 1);
	TEST_STREQ(str_c(&val), "2");
	TEST_ASSERT(cdbmap_lookup(&m, "", 0, &val) == 1);
	TEST_STREQ(str_c(&val), "empty key");
	TEST_ASSERT(cdbmap_lookup(&m, "novalue", 7, &val) == 1);
	TEST_ASSERT(val.len == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "carol@example.test", 18, &val) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "alice@example.tes", 17, &val) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "ALICE@example.test", 18, &val) == 0);
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_missing_is_empty(void)
{
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(m.fd == -1);
	TEST_ASSERT(cdbmap_lookup(&m, "alice", 5, &val) == 0);
	TEST_ASSERT(cdbmap_refresh(&m, &err) == 0);
	TEST_ASSERT(m.fd == -1);
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_empty_map(void)
{
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(build(NULL, 0, 0600) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(m.fd >= 0);
	TEST_ASSERT(cdbmap_lookup(&m, "", 0, &val) == 0);
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_binary_keys(void)
{
	struct cdbmap_writer w;
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(cdbmap_build_begin(&w, map_path.s, 0600, &err) == 0);
	TEST_ASSERT(cdbmap_build_add(&w, "a\0b", 3, "x\0y", 3) == 0);
	TEST_ASSERT(cdbmap_build_add(&w, "a", 1, "plain", 5) == 0);
	TEST_ASSERT(cdbmap_build_commit(&w, &err) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "a\0b", 3, &val) == 1);
	TEST_ASSERT(val.len == 3 && memcmp(val.s, "x\0y", 3) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "a", 1, &val) == 1);
	TEST_STREQ(str_c(&val), "plain");
	TEST_ASSERT(cdbmap_lookup(&m, "a\0", 2, &val) == 0);
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_duplicate_first_wins(void)
{
	static const char *const dup[] = { "k=first", "k=second" };
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(build(dup, 2, 0600) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	TEST_STREQ(str_c(&val), "first");
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_many_records(void)
{
	struct cdbmap_writer w;
	struct cdbmap m;
	struct str key = STR_INIT(0), val = STR_INIT(0), want = STR_INIT(0);
	const char *err = NULL;
	int i, bad = 0;

	dir_setup();
	TEST_ASSERT(cdbmap_build_begin(&w, map_path.s, 0600, &err) == 0);
	for (i = 0; i < 20000; i++) {
		str_clear(&key);
		str_clear(&val);
		if (str_appendf(&key, "user%d@example.test", i) < 0 ||
		    str_appendf(&val, "/var/mail/%d", i * 3) < 0 ||
		    cdbmap_build_add(&w, key.s, key.len, val.s, val.len) < 0)
			bad++;
	}
	TEST_ASSERT(bad == 0);
	TEST_ASSERT(cdbmap_build_commit(&w, &err) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	for (i = 0; i < 20000; i += 997) {
		str_clear(&key);
		str_clear(&want);
		TEST_ASSERT(str_appendf(&key, "user%d@example.test", i) == 0);
		TEST_ASSERT(str_appendf(&want, "/var/mail/%d", i * 3) == 0);
		TEST_ASSERT(cdbmap_lookup(&m, key.s, key.len, &val) == 1);
		TEST_STREQ(str_c(&val), str_c(&want));
	}
	TEST_ASSERT(cdbmap_lookup(&m, "user20000@example.test", 22, &val) == 0);
	cdbmap_close(&m);
	str_free(&key);
	str_free(&val);
	str_free(&want);
	dir_teardown();
}

static void test_abort_keeps_old(void)
{
	static const char *const v1[] = { "k=old" };
	struct cdbmap_writer w;
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(build(v1, 1, 0600) == 0);
	TEST_ASSERT(cdbmap_build_begin(&w, map_path.s, 0600, &err) == 0);
	TEST_ASSERT(cdbmap_build_add(&w, "k", 1, "new", 3) == 0);
	TEST_ASSERT(dir_entries() == 2);
	cdbmap_build_abort(&w);
	TEST_ASSERT(dir_entries() == 1);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	TEST_STREQ(str_c(&val), "old");
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_refresh_picks_up_rebuild(void)
{
	static const char *const v1[] = { "k=one" };
	static const char *const v2[] = { "k=two", "new=yes" };
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;
	int oldfd;

	dir_setup();
	TEST_ASSERT(build(v1, 1, 0600) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	oldfd = m.fd;
	TEST_ASSERT(cdbmap_refresh(&m, &err) == 0);
	TEST_ASSERT(m.fd == oldfd);
	TEST_ASSERT(build(v2, 2, 0600) == 0);
	/* until refreshed, the reader keeps the map it opened */
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	TEST_STREQ(str_c(&val), "one");
	TEST_ASSERT(cdbmap_refresh(&m, &err) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	TEST_STREQ(str_c(&val), "two");
	TEST_ASSERT(cdbmap_lookup(&m, "new", 3, &val) == 1);
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_refresh_removed_and_created(void)
{
	static const char *const v1[] = { "k=one" };
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(build(v1, 1, 0600) == 0);
	TEST_ASSERT(cdbmap_refresh(&m, &err) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	TEST_ASSERT(unlink(map_path.s) == 0);
	TEST_ASSERT(cdbmap_refresh(&m, &err) == 0);
	TEST_ASSERT(m.fd == -1);
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 0);
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_refresh_corrupt_keeps_old(void)
{
	static const char *const v1[] = { "k=one" };
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(build(v1, 1, 0600) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(file_write_atomic(map_path.s, "junk", 4, 0600, &err) == 0);
	err = NULL;
	TEST_ASSERT(cdbmap_refresh(&m, &err) == -1);
	TEST_ASSERT(err != NULL);
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	TEST_STREQ(str_c(&val), "one");
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_open_corrupt(void)
{
	struct cdbmap m;
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(file_write_atomic(map_path.s, "", 0, 0600, &err) == 0);
	err = NULL;
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == -1);
	TEST_ASSERT(err != NULL && strncmp(err, "corrupt cdb", 11) == 0);
	TEST_ASSERT(cdbmap_open(&m, test_dir, &err) == -1);
	dir_teardown();
}

static void test_value_cap(void)
{
	static const char *const v1[] = { "k=0123456789" };
	struct cdbmap m;
	struct str val = STR_INIT(9);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(build(v1, 1, 0600) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(str_sets(&val, "prev") == 0);
	errno = 0;
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_STREQ(str_c(&val), "prev");
	val.max = 10;
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	TEST_STREQ(str_c(&val), "0123456789");
	cdbmap_close(&m);
	str_free(&val);
	dir_teardown();
}

static void test_build_errors(void)
{
	struct cdbmap_writer w;
	struct str path = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "nodir/map.cdb") == 0);
	TEST_ASSERT(cdbmap_build_begin(&w, path.s, 0600, &err) == -1);
	TEST_ASSERT(err != NULL && strncmp(err, "open: ", 6) == 0);
	/* committing over a directory fails and leaves no temporary file */
	TEST_ASSERT(mkdir(map_path.s, 0700) == 0);
	TEST_ASSERT(cdbmap_build_begin(&w, map_path.s, 0600, &err) == 0);
	TEST_ASSERT(cdbmap_build_add(&w, "k", 1, "v", 1) == 0);
	err = NULL;
	TEST_ASSERT(cdbmap_build_commit(&w, &err) == -1);
	TEST_ASSERT(err != NULL && strncmp(err, "rename: ", 8) == 0);
	TEST_ASSERT(dir_entries() == 1);
	str_free(&path);
	dir_teardown();
}

static void test_lookup_copies(void)
{
	static const char *const v1[] = { "k=kept" };
	struct cdbmap m;
	struct str val = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(build(v1, 1, 0600) == 0);
	TEST_ASSERT(cdbmap_open(&m, map_path.s, &err) == 0);
	TEST_ASSERT(cdbmap_lookup(&m, "k", 1, &val) == 1);
	cdbmap_close(&m);
	TEST_STREQ(str_c(&val), "kept");
	TEST_ASSERT(m.path == NULL && m.fd == -1);
	str_free(&val);
	dir_teardown();
}

static void test_cleanup(void)
{
	str_free(&map_path);
	TEST_ASSERT(map_path.s == NULL);
}

TEST_MAIN(test_build_lookup, test_missing_is_empty, test_empty_map,
	  test_binary_keys, test_duplicate_first_wins, test_many_records,
	  test_abort_keeps_old, test_refresh_picks_up_rebuild,
	  test_refresh_removed_and_created, test_refresh_corrupt_keeps_old,
	  test_open_corrupt, test_value_cap, test_build_errors,
	  test_lookup_copies, test_cleanup)
