/*
 * test_maildir_tmp.h - a temporary Maildir for the index's unit tests
 * (test_imap_index.c, test_imap_index_crash.c): made under /tmp with
 * mkdtemp(3) (NAME.XXXXXX is its template, filled in by mkdtemp), filled
 * file by file, removed with everything in it.
 */
#ifndef POSTERN_TEST_MAILDIR_TMP_H
#define POSTERN_TEST_MAILDIR_TMP_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Make /tmp/NAME.<random> with cur/ new/ tmp/ and the extra
 * directories (relative paths, parents first); its path in root (size
 * bytes); an O_DIRECTORY descriptor of it, or -1. */
static inline int test_maildir_make(char *root, size_t size,
				    const char *name,
				    const char *const *extra, size_t nextra)
{
	static const char *const base[] = { "cur", "new", "tmp" };
	char p[512];
	int fd;

	snprintf(root, size, "/tmp/%s.XXXXXX", name);
	if (mkdtemp(root) == NULL)
		return -1;
	fd = open(root, O_RDONLY | O_DIRECTORY);
	for (size_t i = 0; i < 3 + nextra; i++) {
		snprintf(p, sizeof(p), "%s/%s", root,
			 i < 3 ? base[i] : extra[i - 3]);
		mkdir(p, 0700);
	}
	return fd;
}

static int test_maildir_rm_one(const char *path, const struct stat *st,
			       int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

/* Close fd and remove root and everything in it. */
static inline void test_maildir_remove(int fd, const char *root)
{
	if (fd >= 0)
		close(fd);
	if (nftw(root, test_maildir_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		printf("cannot remove %s\n", root);
}

/* Write text to root/rel (replacing it). */
static inline void test_maildir_put(const char *root, const char *rel,
				    const char *text)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fp = fopen(p, "w");
	if (fp != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

#endif
