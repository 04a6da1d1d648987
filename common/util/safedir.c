/*
 * safedir - directories and files that root sets up, reached without
 *           following a symbolic link; see safedir.h
 */
#include "util/safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/str.h"

/* An open that failed on an existing name: say ELOOP for a symlink (the
 * kernel says ELOOP or ENOTDIR depending on the flags). */
static int safedir_why(int at, const char *name)
{
	struct stat st;
	int e = errno;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		e = ELOOP;
	errno = e;
	return -1;
}

int safedir_open_top(const char *path, mode_t mode, int *created_r)
{
	struct str parent = STR_INIT(0);
	const char *slash = strrchr(path, '/');
	int created = 0, fd;

	if (mkdir(path, mode) == 0) {
		created = 1;
	} else if (errno == ENOENT && slash != NULL && slash != path) {
		if (str_set(&parent, path, (size_t)(slash - path)) < 0 ||
		    mkdir_p(str_c(&parent), mode) < 0) {
			str_free(&parent);
			return -1;
		}
		str_free(&parent);
		if (mkdir(path, mode) == 0)
			created = 1;
		else if (errno != EEXIST)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	if (created_r != NULL)
		*created_r = created;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		  (created ? O_NOFOLLOW : 0));
	if (fd < 0 && created)
		return safedir_why(AT_FDCWD, path);
	return fd;
}

/* One component: made if missing, opened without following it. */
static int safedir_step(int at, const char *name, mode_t mode,
			int *created_r)
{
	int fd;

	*created_r = 0;
	if (strcmp(name, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (mkdirat(at, name, mode) == 0)
		*created_r = 1;
	else if (errno != EEXIST)
		return -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return safedir_why(at, name);
	return fd;
}

int safedir_open_at(int at, const char *rel, mode_t mode, int *created_r)
{
	struct str name = STR_INIT(0);
	const char *p = rel;
	int fd = -1, created = 0, cur = at;

	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (str_set(&name, p, n) < 0) {
				errno = ENAMETOOLONG;
				fd = -1;
				break;
			}
			fd = safedir_step(cur, str_c(&name), mode, &created);
			if (cur != at)
				close(cur);
			cur = fd;
			if (fd < 0)
				break;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	str_free(&name);
	if (cur == at) {	/* rel named no component */
		errno = EINVAL;
		return -1;
	}
	if (created_r != NULL)
		*created_r = created;
	return fd;
}

int safedir_fix(int fd, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (uid != SAFEDIR_KEEP_OWNER && (st.st_uid != uid ||
					  st.st_gid != gid) &&
	    fchown(fd, uid, gid) < 0)
		return -1;
	if ((st.st_mode & 07777) != (mode & 07777) &&
	    fchmod(fd, mode & 07777) < 0)
		return -1;
	return 0;
}

int safefile_open_at(int at, const char *name, mode_t type)
{
	struct stat st;
	int fd = openat(at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		e = errno;
	else if ((st.st_mode & S_IFMT) != (type & S_IFMT))
		e = S_ISLNK(st.st_mode) ? ELOOP : EEXIST;
	else
		return fd;
	close(fd);
	errno = e;
	return -1;
}

int safefile_open(const char *path, mode_t type)
{
	return safefile_open_at(AT_FDCWD, path, type);
}

int safefile_chown(int fd, uid_t uid, gid_t gid)
{
	return fchownat(fd, "", uid, gid, AT_EMPTY_PATH);
}
