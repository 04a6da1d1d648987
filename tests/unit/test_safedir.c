/*
 * test_safedir - root-run setup never follows a symlink below its top
 *
 * Every test works in its own directory under $TMPDIR (or /tmp), where a
 * symlink or a FIFO is planted where a directory or a file is expected;
 * each must be refused with the errno safedir.h names, and what the link
 * points to must be left as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "util/safedir.h"
#include "util/sock.h"
#include "util/str.h"

static char top[256];
static struct str paths[2];	/* at() alternates: symlink(at(a), at(b)) */
static unsigned next_path;

static void setup(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(top, sizeof(top), "%s/test_safedir.XXXXXX", t ? t : "/tmp");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void teardown(void)
{
	struct str cmd = STR_INIT(0);

	/* the names are ours, made by mkdtemp: no quoting needed */
	str_appendf(&cmd, "rm -rf '%s'", top);
	if (system(str_c(&cmd)) != 0)
		printf("warning: could not remove %s\n", top);
	str_free(&cmd);
	str_free(&paths[0]);
	str_free(&paths[1]);
}

static const char *at(const char *rel)
{
	struct str *p = &paths[next_path++ % 2];

	str_clear(p);
	str_appendf(p, "%s/%s", top, rel);
	return str_c(p);
}

static mode_t mode_of(const char *rel)
{
	struct stat st;

	return lstat(at(rel), &st) == 0 ? st.st_mode : 0;
}

static void test_top_created_and_reopened(void)
{
	int created = -1, fd;

	setup();
	fd = safedir_open_top(at("a/b/c"), 0750, &created);
	TEST_ASSERT(fd >= 0 && created == 1);
	TEST_ASSERT(S_ISDIR(mode_of("a/b/c")));
	close(fd);
	fd = safedir_open_top(at("a/b/c"), 0750, &created);
	TEST_ASSERT(fd >= 0 && created == 0);
	close(fd);
	/* the top may be an operator's symlink: followed */
	TEST_ASSERT(symlink(at("a/b/c"), at("link")) == 0);
	fd = safedir_open_top(at("link"), 0750, &created);
	TEST_ASSERT(fd >= 0 && created == 0);
	close(fd);
	teardown();
}

static void test_below_top_never_follows(void)
{
	int topfd, created = -1, fd;

	setup();
	topfd = open(top, O_RDONLY | O_DIRECTORY);
	TEST_ASSERT(mkdir(at("elsewhere"), 0700) == 0);
	TEST_ASSERT(symlink(at("elsewhere"), at("pid")) == 0);
	errno = 0;
	TEST_ASSERT(safedir_open_at(topfd, "pid", 0700, &created) < 0);
	TEST_ASSERT(errno == ELOOP);
	/* a link in the middle of a relative path too */
	errno = 0;
	TEST_ASSERT(safedir_open_at(topfd, "pid/sub", 0700, NULL) < 0);
	TEST_ASSERT(errno == ELOOP);
	TEST_ASSERT(mode_of("elsewhere/sub") == 0);
	/* a file where a directory is expected */
	TEST_ASSERT(close(open(at("file"), O_CREAT | O_WRONLY, 0600)) == 0);
	errno = 0;
	TEST_ASSERT(safedir_open_at(topfd, "file", 0700, NULL) < 0);
	TEST_ASSERT(errno == ENOTDIR);
	errno = 0;
	TEST_ASSERT(safedir_open_at(topfd, "x/../y", 0700, NULL) < 0);
	TEST_ASSERT(errno == EINVAL);
	errno = 0;
	TEST_ASSERT(safedir_open_at(topfd, "//.", 0700, NULL) < 0);
	TEST_ASSERT(errno == EINVAL);
	/* components are created, the last one reported */
	fd = safedir_open_at(topfd, "spool//private/", 0755, &created);
	TEST_ASSERT(fd >= 0 && created == 1);
	TEST_ASSERT(S_ISDIR(mode_of("spool/private")));
	close(fd);
	fd = safedir_open_at(topfd, "./spool/private", 0755, &created);
	TEST_ASSERT(fd >= 0 && created == 0);
	close(fd);
	close(topfd);
	teardown();
}

static void test_fix_sets_mode_through_the_descriptor(void)
{
	int topfd, fd;

	setup();
	topfd = open(top, O_RDONLY | O_DIRECTORY);
	fd = safedir_open_at(topfd, "d", 0777, NULL);
	TEST_ASSERT(fd >= 0);
	TEST_ASSERT(safedir_fix(fd, SAFEDIR_KEEP_OWNER, 0, 0710) == 0);
	TEST_ASSERT((mode_of("d") & 07777) == 0710);
	if (geteuid() == 0) {
		struct stat st;

		TEST_ASSERT(safedir_fix(fd, 1, 1, 0700) == 0);
		TEST_ASSERT(stat(at("d"), &st) == 0 && st.st_uid == 1 &&
			    st.st_gid == 1 && (st.st_mode & 07777) == 0700);
	}
	close(fd);
	close(topfd);
	teardown();
}

static void test_files_by_type_without_following(void)
{
	int topfd, fd;

	setup();
	topfd = open(top, O_RDONLY | O_DIRECTORY);
	TEST_ASSERT(close(open(at("map"), O_CREAT | O_WRONLY, 0640)) == 0);
	TEST_ASSERT(symlink(at("map"), at("link")) == 0);
	TEST_ASSERT(mkfifo(at("fifo"), 0600) == 0);
	fd = safefile_open_at(topfd, "map", S_IFREG);
	TEST_ASSERT(fd >= 0);
	if (geteuid() == 0) {
		struct stat st;

		TEST_ASSERT(safefile_chown(fd, 2, 2) == 0);
		TEST_ASSERT(stat(at("map"), &st) == 0 && st.st_uid == 2);
	}
	close(fd);
	errno = 0;
	TEST_ASSERT(safefile_open_at(topfd, "link", S_IFREG) < 0);
	TEST_ASSERT(errno == ELOOP);
	errno = 0;
	TEST_ASSERT(safefile_open(at("link"), S_IFREG) < 0);
	TEST_ASSERT(errno == ELOOP);
	/* a FIFO is not opened for real (that would block), only refused */
	errno = 0;
	TEST_ASSERT(safefile_open_at(topfd, "fifo", S_IFREG) < 0);
	TEST_ASSERT(errno == EEXIST);
	errno = 0;
	TEST_ASSERT(safefile_open_at(topfd, "map", S_IFSOCK) < 0);
	TEST_ASSERT(errno == EEXIST);
	errno = 0;
	TEST_ASSERT(safefile_open_at(topfd, "none", S_IFREG) < 0);
	TEST_ASSERT(errno == ENOENT);
	close(topfd);
	teardown();
}

static void test_socket_at_mode_and_refusals(void)
{
	const char *error;
	int topfd, lfd, lfd2, cfd;

	setup();
	topfd = open(top, O_RDONLY | O_DIRECTORY);
	umask(022);
	lfd = sock_listen_unix_at(topfd, "s", "the s socket", 0660,
				  (gid_t)-1, 5, &error);
	TEST_ASSERT(lfd >= 0);
	TEST_ASSERT(S_ISSOCK(mode_of("s")) && (mode_of("s") & 0777) == 0660);
	TEST_ASSERT(umask(022) == 022);		/* restored */
	cfd = sock_connect_unix(at("s"));
	TEST_ASSERT(cfd >= 0);
	close(cfd);
	/* a stale socket is replaced, with the new mode */
	lfd2 = sock_listen_unix_at(topfd, "s", "s", 0666, getegid(), 5,
				   &error);
	TEST_ASSERT(lfd2 >= 0 && (mode_of("s") & 0777) == 0666);
	close(lfd);
	close(lfd2);
	/* a symlink where the socket goes: refused, its target untouched */
	TEST_ASSERT(close(open(at("target"), O_CREAT | O_WRONLY, 0600)) == 0);
	TEST_ASSERT(symlink(at("target"), at("l")) == 0);
	TEST_ASSERT(sock_listen_unix_at(topfd, "l", "the l socket", 0666,
					(gid_t)-1, 5, &error) < 0);
	TEST_ASSERT(errno == EEXIST && strstr(error, "the l socket") != NULL);
	TEST_ASSERT(S_ISLNK(mode_of("l")));
	TEST_ASSERT(S_ISREG(mode_of("target")) &&
		    (mode_of("target") & 0777) == 0600);
	TEST_ASSERT(sock_listen_unix_at(topfd, "target", "t", 0666,
					(gid_t)-1, 5, &error) < 0);
	TEST_ASSERT(errno == EEXIST);
	TEST_ASSERT(sock_listen_unix_at(topfd, "a/b", "t", 0666, (gid_t)-1, 5,
					&error) < 0 && errno == EINVAL);
	close(topfd);
	teardown();
}

TEST_MAIN(test_top_created_and_reopened, test_below_top_never_follows,
	  test_fix_sets_mode_through_the_descriptor,
	  test_files_by_type_without_following,
	  test_socket_at_mode_and_refusals)
