/*
 * cdbmap - constant databases (tinycdb): atomic build and lookup
 *
 * A map is built into "path.tmp.PID", fsynced, renamed over path and the
 * directory fsynced, so a reader always sees a whole map. A reader that
 * keeps a map open calls cdbmap_refresh() to pick up a rebuilt file.
 */
#ifndef POSTERN_CDBMAP_H
#define POSTERN_CDBMAP_H

#include <stddef.h>
#include <sys/types.h>
#include <cdb.h>

struct str;

struct cdbmap_writer {
	int fd;
	struct cdb_make cm;
	char *path;
	char *tmppath;
	mode_t mode;
};

int cdbmap_build_begin(struct cdbmap_writer *w, const char *path,
		       mode_t mode, const char **error_r);
int cdbmap_build_add(struct cdbmap_writer *w, const void *key, size_t klen,
		     const void *val, size_t vlen);
/* fsync, rename, fsync dir; frees w either way. */
int cdbmap_build_commit(struct cdbmap_writer *w, const char **error_r);
void cdbmap_build_abort(struct cdbmap_writer *w);

struct cdbmap {
	int fd;			/* -1 when the file does not exist */
	struct cdb cdb;
	char *path;
	dev_t dev;
	ino_t ino;
};

/* A missing file is an empty map (fd -1), not an error. */
int cdbmap_open(struct cdbmap *m, const char *path, const char **error_r);
/* Reopen if the file was replaced since it was opened. */
int cdbmap_refresh(struct cdbmap *m, const char **error_r);
void cdbmap_close(struct cdbmap *m);
/* 1 found (value in val_r), 0 not found, -1 read error. */
int cdbmap_lookup(struct cdbmap *m, const void *key, size_t klen,
		  struct str *val_r);

#endif
