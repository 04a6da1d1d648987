/*
 * test_fileio - atomic writes, whole-file reads, mkdir_p, path_join
 *
 * Every test works in its own directory under $TMPDIR (or /tmp) and
 * removes what it created.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/fileio.h"
#include "util/str.h"

static char test_dir[256];

static void dir_setup(void)
{
	const char *t = getenv("TMPDIR");
	struct str tmpl = STR_INIT(sizeof(test_dir) - 1);

	if (str_appendf(&tmpl, "%s/test_fileio.XXXXXX", t ? t : "/tmp") < 0 ||
	    cstr_copy(test_dir, sizeof(test_dir), tmpl.s) < 0 ||
	    mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	str_free(&tmpl);
}

/* Remove test_dir and everything below it (depth at most 4 here). */
static void rm_tree(const char *path)
{
	struct str sub = STR_INIT(0);
	struct dirent *de;
	DIR *d = opendir(path);

	if (d == NULL) {
		(void)unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (path_join(&sub, path, de->d_name) == 0)
			rm_tree(sub.s);
	}
	closedir(d);
	str_free(&sub);
	(void)rmdir(path);
}

static void dir_teardown(void)
{
	rm_tree(test_dir);
}

/* Number of entries in test_dir, without "." and "..". */
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

static void test_write_read(void)
{
	struct str path = STR_INIT(0), got = STR_INIT(0);
	const char *err = NULL;
	struct stat st;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "f") == 0);
	TEST_ASSERT(file_write_atomic(path.s, "hello\n", 6, 0640, &err) == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 100) == 0);
	TEST_STREQ(str_c(&got), "hello\n");
	TEST_ASSERT(stat(path.s, &st) == 0 && (st.st_mode & 07777) == 0640);
	TEST_ASSERT(dir_entries() == 1);
	str_free(&path);
	str_free(&got);
	dir_teardown();
}

/* The directory-relative forms: a name in an open directory, never a
 * symbolic link followed. */
static void test_write_read_at(void)
{
	struct str path = STR_INIT(0), got = STR_INIT(0);
	const char *err = NULL;
	int dfd;

	dir_setup();
	dfd = open(test_dir, O_RDONLY | O_DIRECTORY);
	TEST_ASSERT(dfd >= 0);
	TEST_ASSERT(file_write_atomic_at(dfd, "f", "one", 3, 0600, 0,
					 &err) == 0);
	TEST_ASSERT(file_write_atomic_at(dfd, "f", "two", 3, 0600, 0,
					 &err) == 0);
	TEST_ASSERT(file_write_atomic_at(dfd, "f", "new", 3, 0600,
					 FILE_ATOMIC_NOREPLACE, &err) < 0 &&
		    errno == EEXIST);
	TEST_ASSERT(file_read_all_at(dfd, "f", &got, 100) == 0);
	TEST_STREQ(str_c(&got), "two");
	TEST_ASSERT(dir_entries() == 1);
	TEST_ASSERT(symlinkat("f", dfd, "l") == 0);
	TEST_ASSERT(file_read_all_at(dfd, "l", &got, 100) < 0 &&
		    errno == ELOOP);
	TEST_ASSERT(unlinkat(dfd, "l", 0) == 0);
	(void)close(dfd);
	str_free(&path);
	str_free(&got);
	dir_teardown();
}

static void test_write_replaces(void)
{
	struct str path = STR_INIT(0), got = STR_INIT(0);
	const char *err = NULL;
	struct stat st;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "f") == 0);
	TEST_ASSERT(file_write_atomic(path.s, "old contents", 12, 0600, &err) == 0);
	TEST_ASSERT(file_write_atomic(path.s, "new", 3, 0644, &err) == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 100) == 0);
	TEST_STREQ(str_c(&got), "new");
	TEST_ASSERT(stat(path.s, &st) == 0 && (st.st_mode & 07777) == 0644);
	TEST_ASSERT(file_write_atomic(path.s, "", 0, 0600, &err) == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 100) == 0);
	TEST_ASSERT(got.len == 0);
	TEST_ASSERT(dir_entries() == 1);
	str_free(&path);
	str_free(&got);
	dir_teardown();
}

static void test_write_binary_large(void)
{
	struct str path = STR_INIT(0), got = STR_INIT(0), data = STR_INIT(0);
	const char *err = NULL;
	size_t i;

	dir_setup();
	for (i = 0; i < 300000; i++)
		TEST_ASSERT(str_appendc(&data, (char)(i * 7)) == 0);
	TEST_ASSERT(path_join(&path, test_dir, "big") == 0);
	TEST_ASSERT(file_write_atomic(path.s, data.s, data.len, 0600, &err) == 0);
	TEST_ASSERT(file_read_all(path.s, &got, data.len) == 0);
	TEST_ASSERT(got.len == data.len && memcmp(got.s, data.s, got.len) == 0);
	str_free(&path);
	str_free(&got);
	str_free(&data);
	dir_teardown();
}

static void test_write_missing_dir(void)
{
	struct str path = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "nodir/f") == 0);
	errno = 0;
	TEST_ASSERT(file_write_atomic(path.s, "x", 1, 0600, &err) == -1);
	TEST_ASSERT(errno == ENOENT);
	TEST_ASSERT(err != NULL && strncmp(err, "open: ", 6) == 0);
	TEST_ASSERT(dir_entries() == 0);
	str_free(&path);
	dir_teardown();
}

static void test_write_rename_fails_cleans_up(void)
{
	struct str path = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "isdir") == 0);
	TEST_ASSERT(mkdir(path.s, 0700) == 0);
	TEST_ASSERT(file_write_atomic(path.s, "x", 1, 0600, &err) == -1);
	TEST_ASSERT(errno == EISDIR);
	TEST_ASSERT(err != NULL && strncmp(err, "rename: ", 8) == 0);
	/* only the directory remains: the temporary file was removed */
	TEST_ASSERT(dir_entries() == 1);
	str_free(&path);
	dir_teardown();
}

static void test_write_replaces_stale_tmp(void)
{
	struct str path = STR_INIT(0), tmp = STR_INIT(0), got = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "f") == 0);
	TEST_ASSERT(str_appendf(&tmp, "%s.tmp.%ld", path.s, (long)getpid()) == 0);
	TEST_ASSERT(file_write_atomic(tmp.s, "stale", 5, 0600, &err) == 0);
	TEST_ASSERT(file_write_atomic(path.s, "fresh", 5, 0600, &err) == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 10) == 0);
	TEST_STREQ(str_c(&got), "fresh");
	TEST_ASSERT(access(tmp.s, F_OK) == -1);
	TEST_ASSERT(dir_entries() == 1);
	str_free(&path);
	str_free(&tmp);
	str_free(&got);
	dir_teardown();
}

static void test_read_max(void)
{
	struct str path = STR_INIT(0), got = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "f") == 0);
	TEST_ASSERT(file_write_atomic(path.s, "0123456789", 10, 0600, &err) == 0);
	TEST_ASSERT(str_sets(&got, "previous") == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 10) == 0);
	TEST_STREQ(str_c(&got), "0123456789");
	errno = 0;
	TEST_ASSERT(file_read_all(path.s, &got, 9) == -1);
	TEST_ASSERT(errno == EFBIG);
	TEST_ASSERT(got.len == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 0) == -1);
	TEST_ASSERT(errno == EFBIG);
	str_free(&path);
	str_free(&got);
	dir_teardown();
}

static void test_read_nul_bytes(void)
{
	struct str path = STR_INIT(0), got = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "f") == 0);
	TEST_ASSERT(file_write_atomic(path.s, "a\0b\0", 4, 0600, &err) == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 4) == 0);
	TEST_ASSERT(got.len == 4 && memcmp(got.s, "a\0b\0", 4) == 0);
	str_free(&path);
	str_free(&got);
	dir_teardown();
}

static void test_read_missing(void)
{
	struct str got = STR_INIT(0);

	errno = 0;
	TEST_ASSERT(file_read_all("/nonexistent/postern/file", &got, 10) == -1);
	TEST_ASSERT(errno == ENOENT);
	str_free(&got);
}

static void test_read_cap_of_out(void)
{
	struct str path = STR_INIT(0), got = STR_INIT(4);
	const char *err = NULL;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "f") == 0);
	TEST_ASSERT(file_write_atomic(path.s, "12345", 5, 0600, &err) == 0);
	TEST_ASSERT(file_read_all(path.s, &got, 100) == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_ASSERT(got.len == 0);
	str_free(&path);
	str_free(&got);
	dir_teardown();
}

static void test_mkdir_p(void)
{
	struct str path = STR_INIT(0);
	struct stat st;

	dir_setup();
	TEST_ASSERT(path_join(&path, test_dir, "a/b//c/") == 0);
	TEST_ASSERT(mkdir_p(path.s, 0750) == 0);
	TEST_ASSERT(stat(path.s, &st) == 0 && S_ISDIR(st.st_mode));
	TEST_ASSERT(mkdir_p(path.s, 0750) == 0);
	TEST_ASSERT(mkdir_p(test_dir, 0700) == 0);
	str_free(&path);
	dir_teardown();
}

static void test_mkdir_p_errors(void)
{
	struct str path = STR_INIT(0);
	const char *err = NULL;

	dir_setup();
	errno = 0;
	TEST_ASSERT(mkdir_p("", 0700) == -1);
	TEST_ASSERT(errno == ENOENT);
	TEST_ASSERT(path_join(&path, test_dir, "file") == 0);
	TEST_ASSERT(file_write_atomic(path.s, "x", 1, 0600, &err) == 0);
	errno = 0;
	TEST_ASSERT(mkdir_p(path.s, 0700) == -1);
	TEST_ASSERT(errno == ENOTDIR);
	TEST_ASSERT(path_join(&path, test_dir, "file/sub") == 0);
	TEST_ASSERT(mkdir_p(path.s, 0700) == -1);
	TEST_ASSERT(errno == ENOTDIR);
	str_free(&path);
	dir_teardown();
}

static void test_fsync_dir_of(void)
{
	struct str path = STR_INIT(0);

	dir_setup();
	TEST_ASSERT(fsync_dir_of(test_dir) == 0);
	TEST_ASSERT(path_join(&path, test_dir, "not-yet-created") == 0);
	TEST_ASSERT(fsync_dir_of(path.s) == 0);
	TEST_ASSERT(path_join(&path, test_dir, "missing/x") == 0);
	errno = 0;
	TEST_ASSERT(fsync_dir_of(path.s) == -1);
	TEST_ASSERT(errno == ENOENT);
	TEST_ASSERT(fsync_dir_of("relative-name") == 0);
	TEST_ASSERT(fsync_dir_of("/") == 0);
	str_free(&path);
	dir_teardown();
}

static void test_path_join(void)
{
	struct str out = STR_INIT(0);

	TEST_ASSERT(path_join(&out, "/var/mail", "user") == 0);
	TEST_STREQ(str_c(&out), "/var/mail/user");
	TEST_ASSERT(path_join(&out, "/var/mail/", "user") == 0);
	TEST_STREQ(str_c(&out), "/var/mail/user");
	TEST_ASSERT(path_join(&out, "", "user") == 0);
	TEST_STREQ(str_c(&out), "user");
	TEST_ASSERT(path_join(&out, "/", "etc") == 0);
	TEST_STREQ(str_c(&out), "/etc");
	TEST_ASSERT(path_join(&out, "dir", "") == 0);
	TEST_STREQ(str_c(&out), "dir/");
	str_free(&out);
}

static void test_path_join_cap(void)
{
	struct str out = STR_INIT(7);

	TEST_ASSERT(path_join(&out, "abc", "def") == 0);
	TEST_STREQ(str_c(&out), "abc/def");
	errno = 0;
	TEST_ASSERT(path_join(&out, "abc", "defg") == -1);
	TEST_ASSERT(errno == EMSGSIZE);
	TEST_ASSERT(out.len == 0);
	TEST_ASSERT(path_join(&out, "abcdefgh", "x") == -1);
	TEST_ASSERT(out.len == 0);
	str_free(&out);
}

/* Large enough that a socket buffer takes it in several writes. */
static void test_fd_write_all(void)
{
	enum { N = 1 << 20 };
	char *buf = malloc(N), *got = malloc(N);
	int sv[2];
	pid_t pid;
	size_t have = 0;
	int st = -1;

	TEST_ASSERT(buf != NULL && got != NULL);
	for (size_t i = 0; i < N; i++)
		buf[i] = (char)(i * 7);
	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(fd_write_all(sv[1], buf, N) == 0 &&
		      fd_send_all(sv[1], buf, N) == 0 ? 0 : 1);
	}
	close(sv[1]);
	while (have < 2 * (size_t)N) {
		ssize_t r = read(sv[0], got, N);

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (got[i] != buf[(have + (size_t)i) % N])
				have = 4 * (size_t)N;	/* mismatch */
		have += (size_t)r;
	}
	TEST_ASSERT(have == 2 * (size_t)N);
	close(sv[0]);
	TEST_ASSERT(waitpid(pid, &st, 0) == pid && st == 0);
	TEST_ASSERT(fd_write_all(-1, "", 0) == 0);
	free(buf);
	free(got);
}

/* A peer that has gone: EPIPE, and no SIGPIPE kills the sender. */
static void test_fd_send_all_epipe(void)
{
	int sv[2];

	TEST_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[1]);
	errno = 0;
	TEST_ASSERT(fd_send_all(sv[0], "x", 1) == -1 && errno == EPIPE);
	errno = 0;
	TEST_ASSERT(fd_write_all(-1, "x", 1) == -1 && errno == EBADF);
	close(sv[0]);
}

TEST_MAIN(test_write_read, test_write_read_at, test_write_replaces, test_write_binary_large,
	  test_write_missing_dir, test_write_rename_fails_cleans_up,
	  test_write_replaces_stale_tmp, test_read_max, test_read_nul_bytes,
	  test_read_missing, test_read_cap_of_out, test_mkdir_p,
	  test_mkdir_p_errors, test_fsync_dir_of, test_path_join,
	  test_path_join_cap, test_fd_write_all,
	  test_fd_send_all_epipe)
