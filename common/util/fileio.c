/*
 * fileio - whole-file reads and the one atomic-write primitive
 *
 * file_write_atomic follows skalibs' openwritenclose and qmail-newu:
 *
 *   1. open "path.tmp.PID" in the same directory, O_CREAT|O_EXCL, so two
 *      writers never share a temporary file (a stale one from a crashed
 *      run with the same pid is removed first);
 *   2. write everything (short writes and EINTR retried), fchmod, fsync;
 *   3. rename over path, which is atomic within one file system;
 *   4. fsync the directory so that the rename itself is durable.
 *
 * On any failure the temporary file is removed and *error_r says which
 * step failed ("fsync: Input/output error"). The error text lives in a
 * static buffer: valid until the next call, not thread-safe (postern's
 * programs are single-threaded).
 */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/str.h"

static char fileio_errbuf[256];

/* Format "step: strerror(errno)" into the static buffer; keeps errno. */
static const char *fileio_error(const char *step)
{
	int saved = errno;

	snprintf(fileio_errbuf, sizeof(fileio_errbuf), "%s: %s", step,
		 strerror(saved));
	errno = saved;
	return fileio_errbuf;
}

/* Write all of p[0..n) to fd, retrying EINTR and short writes. */
static int fileio_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Close fd; EINTR counts as closed (Linux always releases the fd). */
static int fileio_close(int fd)
{
	if (close(fd) < 0 && errno != EINTR)
		return -1;
	return 0;
}

/* Step 2: fill, chmod and sync the open temporary file. */
static int fileio_fill(int fd, const void *data, size_t len, mode_t mode,
		       const char **error_r)
{
	if (fileio_write_all(fd, data, len) < 0) {
		*error_r = fileio_error("write");
		return -1;
	}
	if (fchmod(fd, mode) < 0) {
		*error_r = fileio_error("fchmod");
		return -1;
	}
	if (fsync(fd) < 0) {
		*error_r = fileio_error("fsync");
		return -1;
	}
	return 0;
}

/* Remove the temporary file after a failure, keeping errno. */
static void fileio_discard(const char *tmp)
{
	int saved = errno;

	(void)unlink(tmp);
	errno = saved;
}

int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, const char **error_r)
{
	struct str tmp = STR_INIT(PATH_MAX);
	int fd, r = -1;

	if (str_appendf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		*error_r = fileio_error("path");
		goto out;
	}
	(void)unlink(tmp.s);
	fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = fileio_error("open");
		goto out;
	}
	if (fileio_fill(fd, data, len, mode, error_r) < 0) {
		(void)close(fd);
		fileio_discard(tmp.s);
		goto out;
	}
	if (fileio_close(fd) < 0) {
		*error_r = fileio_error("close");
		fileio_discard(tmp.s);
		goto out;
	}
	if (rename(tmp.s, path) < 0) {
		*error_r = fileio_error("rename");
		fileio_discard(tmp.s);
		goto out;
	}
	if (fsync_dir_of(path) < 0) {
		*error_r = fileio_error("fsync directory");
		goto out;
	}
	r = 0;
out:
	str_free(&tmp);
	return r;
}

int file_write_atomic_at(int dir_fd, const char *name, const void *data,
			 size_t len, mode_t mode, unsigned flags,
			 const char **error_r)
{
	struct str tmp = STR_INIT(PATH_MAX);
	int fd, r = -1;

	if (str_appendf(&tmp, "%s.tmp.%ld", name, (long)getpid()) < 0) {
		*error_r = fileio_error("path");
		goto out;
	}
	(void)unlinkat(dir_fd, tmp.s, 0);
	fd = openat(dir_fd, tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = fileio_error("open");
		goto out;
	}
	if (fileio_fill(fd, data, len, mode, error_r) < 0) {
		(void)close(fd);
		fd = -1;
	} else if (fileio_close(fd) < 0) {
		*error_r = fileio_error("close");
		fd = -1;
	}
	if (fd < 0) {
		int saved = errno;

		(void)unlinkat(dir_fd, tmp.s, 0);
		errno = saved;
		goto out;
	}
	if (renameat2(dir_fd, tmp.s, dir_fd, name,
		      (flags & FILE_ATOMIC_NOREPLACE) ? RENAME_NOREPLACE : 0)
	    < 0) {
		int saved = errno;

		*error_r = fileio_error("rename");
		(void)unlinkat(dir_fd, tmp.s, 0);
		errno = saved;
		goto out;
	}
	if (fsync(dir_fd) < 0) {
		*error_r = fileio_error("fsync directory");
		goto out;
	}
	r = 0;
out:
	str_free(&tmp);
	return r;
}

/* Read fd to its end into out, failing with EFBIG past max bytes. */
static int fileio_read_fd(int fd, struct str *out, size_t max)
{
	char buf[8192];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		if ((size_t)n > max - out->len) {
			errno = EFBIG;
			return -1;
		}
		if (str_append(out, buf, (size_t)n) < 0)
			return -1;
	}
}

int file_read_all(const char *path, struct str *out, size_t max)
{
	int fd, r, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	str_clear(out);
	r = fileio_read_fd(fd, out, max);
	saved = errno;
	(void)close(fd);
	if (r < 0)
		str_clear(out);
	errno = saved;
	return r;
}

/* Open the directory that holds path ("." for a bare name), or path
 * itself when it is a directory. */
static int fileio_open_dir(const char *path)
{
	struct str dir = STR_INIT(PATH_MAX);
	const char *slash;
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	slash = strrchr(path, '/');
	if (slash == NULL)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (slash == path)
		return open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (str_set(&dir, path, (size_t)(slash - path)) < 0)
		return -1;
	fd = open(dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	str_free(&dir);
	return fd;
}

int fsync_dir_of(const char *path)
{
	int fd, saved;

	fd = fileio_open_dir(path);
	if (fd < 0)
		return -1;
	if (fsync(fd) < 0) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fileio_close(fd);
}

/* Create one directory, accepting one that already exists. */
static int fileio_mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	struct str p = STR_INIT(PATH_MAX);
	size_t i;
	int r = -1;

	if (path[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (str_sets(&p, path) < 0)
		goto out;
	for (i = 1; i < p.len; i++) {
		if (p.s[i] != '/' || p.s[i - 1] == '/')
			continue;
		p.s[i] = '\0';
		if (fileio_mkdir_one(p.s, mode) < 0)
			goto out;
		p.s[i] = '/';
	}
	r = fileio_mkdir_one(p.s, mode);
out:
	str_free(&p);
	return r;
}

int path_join(struct str *out, const char *dir, const char *name)
{
	size_t dlen = strlen(dir);

	str_clear(out);
	if (str_append(out, dir, dlen) < 0)
		return -1;
	if (dlen > 0 && dir[dlen - 1] != '/' && str_appendc(out, '/') < 0)
		goto fail;
	if (str_appends(out, name) < 0)
		goto fail;
	return 0;
fail:
	str_clear(out);
	return -1;
}

/* The loop of both: send(2) with MSG_NOSIGNAL for a socket, else write(2). */
static int fd_put_all(int fd, const void *p, size_t n, int sock)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = sock ? send(fd, c, n, MSG_NOSIGNAL) : write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int fd_write_all(int fd, const void *p, size_t n)
{
	return fd_put_all(fd, p, n, 0);
}

int fd_send_all(int fd, const void *p, size_t n)
{
	return fd_put_all(fd, p, n, 1);
}
