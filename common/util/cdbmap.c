/*
 * cdbmap - constant databases (tinycdb): atomic build and lookup
 *
 * Building: the records go into "path.tmp.PID" (O_EXCL, mode 0600 until
 * the build is complete); commit writes the hash tables (cdb_make_finish),
 * sets the final mode, fsyncs, renames over path and fsyncs the directory.
 * An aborted or failed build removes its temporary file, so the old map
 * stays in place untouched.
 *
 * Reading: cdb_init maps the file; a lookup copies the value out, so the
 * result stays valid after the map is refreshed or closed. A reader keeps
 * the inode it opened; cdbmap_refresh compares it with what path names now
 * and reopens when the map was rebuilt (or becomes empty when the file was
 * removed). A missing file is an empty map, which lets a fresh instance
 * run before its first map is built.
 */
#include "util/cdbmap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/fileio.h"
#include "util/str.h"

static char cdbmap_errbuf[256];

/* Format "step: strerror(errno)" into a static buffer; keeps errno. */
static const char *cdbmap_error(const char *step)
{
	int saved = errno;

	snprintf(cdbmap_errbuf, sizeof(cdbmap_errbuf), "%s: %s", step,
		 strerror(saved));
	errno = saved;
	return cdbmap_errbuf;
}

/* Release the writer's memory; the temporary file stays as it is. */
static void cdbmap_writer_free(struct cdbmap_writer *w)
{
	free(w->path);
	free(w->tmppath);
	w->path = NULL;
	w->tmppath = NULL;
	w->fd = -1;
}

int cdbmap_build_begin(struct cdbmap_writer *w, const char *path,
		       mode_t mode, const char **error_r)
{
	struct str tmp = STR_INIT(PATH_MAX);

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (str_appendf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		*error_r = cdbmap_error("path");
		return -1;
	}
	(void)unlink(tmp.s);
	w->fd = open(tmp.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		*error_r = cdbmap_error("open");
		str_free(&tmp);
		return -1;
	}
	if (cdb_make_start(&w->cm, w->fd) < 0) {
		*error_r = cdbmap_error("cdb_make_start");
		(void)close(w->fd);
		(void)unlink(tmp.s);
		str_free(&tmp);
		w->fd = -1;
		return -1;
	}
	w->path = xstrdup(path);
	w->tmppath = str_steal(&tmp);
	w->mode = mode;
	return 0;
}

int cdbmap_build_add(struct cdbmap_writer *w, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	if (klen > UINT_MAX || vlen > UINT_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (cdb_make_add(&w->cm, key, (unsigned)klen, val, (unsigned)vlen) < 0)
		return -1;
	return 0;
}

/* Finish the cdb, set its mode, sync and close it. Closes w->fd. */
static int cdbmap_finish_file(struct cdbmap_writer *w, const char **error_r)
{
	int fd = w->fd;

	w->fd = -1;
	if (cdb_make_finish(&w->cm) < 0) {
		*error_r = cdbmap_error("cdb_make_finish");
		(void)close(fd);
		return -1;
	}
	if (fchmod(fd, w->mode) < 0 || fsync(fd) < 0) {
		*error_r = cdbmap_error("fsync");
		(void)close(fd);
		return -1;
	}
	if (close(fd) < 0 && errno != EINTR) {
		*error_r = cdbmap_error("close");
		return -1;
	}
	return 0;
}

int cdbmap_build_commit(struct cdbmap_writer *w, const char **error_r)
{
	int r = -1, saved;

	if (cdbmap_finish_file(w, error_r) < 0)
		goto discard;
	if (rename(w->tmppath, w->path) < 0) {
		*error_r = cdbmap_error("rename");
		goto discard;
	}
	if (fsync_dir_of(w->path) < 0)
		*error_r = cdbmap_error("fsync directory");
	else
		r = 0;
	cdbmap_writer_free(w);
	return r;
discard:
	saved = errno;
	(void)unlink(w->tmppath);
	cdbmap_writer_free(w);
	errno = saved;
	return -1;
}

void cdbmap_build_abort(struct cdbmap_writer *w)
{
	int fd = w->fd;

	if (fd < 0)
		return;
	/* cdb_make_finish is tinycdb's only way to free its record lists;
	 * pointing it at no descriptor makes its first write fail at once. */
	w->cm.cdb_fd = -1;
	(void)cdb_make_finish(&w->cm);
	(void)close(fd);
	(void)unlink(w->tmppath);
	cdbmap_writer_free(w);
}

/* Open path into m (fd -1 when missing); m->path is left alone. */
static int cdbmap_load(struct cdbmap *m, const char *path,
		       const char **error_r)
{
	struct stat st;
	int fd, saved;

	m->fd = -1;
	memset(&m->cdb, 0, sizeof(m->cdb));
	m->dev = 0;
	m->ino = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = cdbmap_error("open");
		return -1;
	}
	if (fstat(fd, &st) < 0 || cdb_init(&m->cdb, fd) < 0) {
		saved = errno;
		*error_r = cdbmap_error(saved == EPROTO ? "corrupt cdb" : "cdb_init");
		(void)close(fd);
		memset(&m->cdb, 0, sizeof(m->cdb));
		errno = saved;
		return -1;
	}
	m->fd = fd;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	return 0;
}

/* Unmap and close the current file, leaving an empty map. */
static void cdbmap_unload(struct cdbmap *m)
{
	if (m->fd >= 0) {
		cdb_free(&m->cdb);
		(void)close(m->fd);
	}
	m->fd = -1;
	memset(&m->cdb, 0, sizeof(m->cdb));
	m->dev = 0;
	m->ino = 0;
}

int cdbmap_open(struct cdbmap *m, const char *path, const char **error_r)
{
	m->path = NULL;
	if (cdbmap_load(m, path, error_r) < 0)
		return -1;
	m->path = xstrdup(path);
	return 0;
}

int cdbmap_refresh(struct cdbmap *m, const char **error_r)
{
	struct cdbmap fresh;
	struct stat st;

	if (stat(m->path, &st) < 0) {
		if (errno != ENOENT) {
			*error_r = cdbmap_error("stat");
			return -1;
		}
		cdbmap_unload(m);
		return 0;
	}
	if (m->fd >= 0 && st.st_dev == m->dev && st.st_ino == m->ino)
		return 0;
	/* Load the new file first, so a failure keeps the old map. */
	if (cdbmap_load(&fresh, m->path, error_r) < 0)
		return -1;
	cdbmap_unload(m);
	m->fd = fresh.fd;
	m->cdb = fresh.cdb;
	m->dev = fresh.dev;
	m->ino = fresh.ino;
	return 0;
}

void cdbmap_close(struct cdbmap *m)
{
	cdbmap_unload(m);
	free(m->path);
	m->path = NULL;
}

int cdbmap_lookup(struct cdbmap *m, const void *key, size_t klen,
		  struct str *val_r)
{
	const void *val;
	int r;

	if (m->fd < 0 || klen > UINT_MAX)
		return 0;
	r = cdb_find(&m->cdb, key, (unsigned)klen);
	if (r <= 0)
		return r;
	val = cdb_getdata(&m->cdb);
	if (val == NULL) {
		errno = EPROTO;
		return -1;
	}
	if (str_set(val_r, val, cdb_datalen(&m->cdb)) < 0)
		return -1;
	return 1;
}
